/*
 * store_int.h — private to the store module (src/store*.c): the
 * connection, the prepared-statement ids, the tables that give each id
 * its SQL, and the small bind/step/column helpers every query file uses.
 * With the store_*.c files, the only place that includes sqlite3.h;
 * nothing outside src/store*.c includes this header.
 */
#ifndef GRIDLINE_STORE_INT_H
#define GRIDLINE_STORE_INT_H

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "store.h"
#include "util.h"

enum query {
	Q_BEGIN,
	Q_COMMIT,
	Q_ROLLBACK,
	Q_SAVEPOINT,
	Q_RELEASE,
	Q_ROLLBACK_TO,
	Q_VERSION,
	Q_INBOUND_ADD,
	Q_INBOUND_FIND,
	Q_INBOUND_SET_STATE,
	Q_INBOUND_COUNT,
	Q_RESIDENT_GET,
	Q_RESIDENT_PUT,
	Q_RESIDENT_OPT_OUT,
	Q_RESIDENTS_ALL,
	Q_TICKET_ADD,
	Q_TICKET_GET,
	Q_TICKET_UPDATE,
	Q_TICKET_SET_CLOCK,
	Q_TICKETS_DUE,
	Q_TICKETS_NEXT_CHECK,
	Q_TICKET_FIND_DUP,
	Q_REPORTER_ADD,
	Q_REPORTERS,
	Q_OUTBOX_COUNT_TO,
	Q_OUTBOX_COUNT_SINCE,
	Q_OUTBOX_SUPPRESS,
	Q_GRID_DAY,
	Q_TICKETS_BY_PHONE,
	Q_TICKETS_BY_ASSIGNEE,
	Q_TICKETS_BY_GRID,
	Q_TICKETS_BY_STATUS,
	Q_TICKETS_ALL,
	Q_TICKET_COUNT_OPEN,
	Q_EVENT_ADD,
	Q_EVENTS,
	Q_OUTBOX_ADD,
	Q_OUTBOX_DUE,
	Q_OUTBOX_NEXT_DUE,
	Q_OUTBOX_SENT,
	Q_OUTBOX_RETRY,
	Q_OUTBOX_FAILED,
	Q_OUTBOX_ALL,
	Q_OUTBOX_PENDING,
	Q_OUTBOX_COUNT_QUEUED,
	Q_OUTBOX_CHECKS_DUE,
	Q_OUTBOX_NEXT_CHECK,
	Q_OUTBOX_SET_NEXT,
	Q_OUTBOX_FINAL,
	Q_OUTBOX_EXPIRE,
	Q_CURSOR_GET,
	Q_CURSOR_SET,
	Q_WORKER_LAST_GET,
	Q_WORKER_LAST_SET,
	/* statistics (gridlinectl stats, export) */
	Q_STATS_TICKETS,
	Q_STATS_ACCEPT_SPANS,
	Q_STATS_DONE_SPANS,
	Q_STATS_TEXTS,
	Q_TICKETS_CREATED,
	_Q_MAX,
};

struct store {
	sqlite3 *db;
	bool readonly;
	sqlite3_stmt *q[_Q_MAX];  /* NULL: a write statement on a readonly store */
};

/*
 * One entry of a query table: the statement id, its SQL, whether it
 * writes (not prepared on a readonly store) and whether it may read a
 * whole table (gridlinectl's listings and statistics: never the daemon's
 * per-text or per-poll work; store_plan_check). Each store_*.c file that owns
 * statements defines one table, ended by an entry whose sql is NULL;
 * store.c prepares them all at open.
 */
struct store_query {
	enum query id;
	const char *sql;
	bool write;
	bool scans;
};

extern const struct store_query store_schema_queries[];   /* store_schema.c */
extern const struct store_query store_inbound_queries[];  /* store_inbound.c */
extern const struct store_query store_ticket_queries[];   /* store_ticket.c */
extern const struct store_query store_outbox_queries[];   /* store_outbox.c */
extern const struct store_query store_stats_queries[];    /* store_stats.c */

/* ---- schema (store_schema.c) ---- */

/* user_version of db, read with a statement of its own (before prepare). */
int store_schema_read(sqlite3 *db, int *ret);
/* -EPROTO (and a message in *ret_err) when version v cannot be used by this code. */
int store_schema_check(int v, bool readonly, char **ret_err);
/* Migrate db forward to STORE_SCHEMA_VERSION in one write transaction. */
int store_schema_migrate(sqlite3 *db, char **ret_err);

/* ---- shared by the query files ---- */

/* Step st, calling row(st, ctx) per row; see store.c. */
int store_rows(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx);

/* The outbox status stored as name, or -EINVAL (store_outbox.c). */
int outbox_status_from_name(const char *name);

/* ---- small helpers ---- */

/* Set *ret_err (if asked) to a new message; returns r. */
static inline int open_error(char **ret_err, int r, const char *msg)
{
	if (ret_err)
		*ret_err = xstrdup(msg);
	return r;
}

static inline int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, i);
	/* static: bindings are cleared before the wrapper returns */
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static inline int bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, v);
}

/* Done with st: ready for the next use, nothing left pointing at caller memory. */
static inline void finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* A bind failed: finish st and report (sqlite3_errmsg says why). */
static inline int fail(sqlite3_stmt *st)
{
	finish(st);
	return -EIO;
}

/* Step a statement that returns no rows; finish it. */
static inline int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	finish(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Step a write that must touch a row: -ENOENT when it touched none. */
static inline int run_one(struct store *s, sqlite3_stmt *st)
{
	int r = run(st);

	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

/* Step a statement returning one row with one integer (NULL: -ENOENT). */
static inline int run_int(sqlite3_stmt *st, int64_t *ret)
{
	int rc = sqlite3_step(st);
	int r = 0;

	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*ret = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = -EIO;
	finish(st);
	return r;
}

/* The statement for q, or NULL when it is a write on a readonly store. */
static inline sqlite3_stmt *stmt(struct store *s, enum query q)
{
	assert(s && q < _Q_MAX);
	return s->q[q];
}

static inline void col_str(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	str_copy(dst, size, v ? v : ""); /* truncation is safe and deliberate */
}

static inline char *col_dup(sqlite3_stmt *st, int i)
{
	return xstrdup((const char *)sqlite3_column_text(st, i));
}

static inline const char *nonempty(const char *v)
{
	return v && *v ? v : NULL;
}

#endif
