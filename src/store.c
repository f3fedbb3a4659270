/*
 * store.c — the SQLite store's connection: open (pragmas, the schema
 * check and migration, preparing every statement) and close, the
 * transactions and savepoints, and the error message.
 *
 * The store is one module (include/store.h) over several files that share
 * src/store_int.h; only they include sqlite3.h:
 *   store.c          connection, transactions
 *   store_schema.c   schema and migrations
 *   store_inbound.c  inbound messages, residents, provider cursor, worker state
 *   store_ticket.c   tickets, their reporters and history
 *   store_outbox.c   the outbox
 *   store_stats.c    the statistics (gridlinectl stats, export)
 *
 * Every statement is prepared once at open (SQLITE_PREPARE_PERSISTENT) from
 * the sql_* string defined beside its wrapper and listed in its file's query
 * table, and reset with its bindings cleared after each use. Values are
 * always bound, never formatted into SQL. Text columns that mean "none"
 * (grid, assignee, ...) are stored as NULL and read back as "" or NULL as
 * store.h says.
 *
 * Iterations (*_each) step the statement and call back row by row; a
 * callback may use any other query, but re-entering the same iteration
 * returns -EBUSY. store_outbox_due() collects its rows first, because its
 * callers mark the rows they are given.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store_int.h"

/* ---- transactions ---- */

/* The fixed statements of transactions and the per-message savepoint. */
static const struct store_query tx_queries[] = {
	{ Q_BEGIN, "BEGIN IMMEDIATE", true, false },
	{ Q_COMMIT, "COMMIT", true, false },
	{ Q_ROLLBACK, "ROLLBACK", true, false },
	{ Q_SAVEPOINT, "SAVEPOINT msg", true, false },
	{ Q_RELEASE, "RELEASE msg", true, false },
	{ Q_ROLLBACK_TO, "ROLLBACK TO msg", true, false },
	{ 0, NULL, false, false },
};

/* Run one of the fixed statements above. */
static int run_fixed(struct store *s, enum query q)
{
	sqlite3_stmt *st = stmt(s, q);

	return st ? run(st) : -EROFS;
}

int store_begin(struct store *s)
{
	return run_fixed(s, Q_BEGIN);
}

int store_commit(struct store *s)
{
	return run_fixed(s, Q_COMMIT);
}

int store_rollback(struct store *s)
{
	return run_fixed(s, Q_ROLLBACK);
}

int store_savepoint(struct store *s)
{
	return run_fixed(s, Q_SAVEPOINT);
}

int store_release(struct store *s)
{
	return run_fixed(s, Q_RELEASE);
}

int store_rollback_to(struct store *s)
{
	int r = run_fixed(s, Q_ROLLBACK_TO);

	return r < 0 ? r : store_release(s);
}

/*
 * Step st until row(st, ctx) returns non-zero or the rows run out, then
 * finish st. Returns row's non-zero value, 0 after the last row, -EIO on
 * an SQLite error.
 */
int store_rows(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
{
	int rc, r = 0;

	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		r = row(st, ctx);
		if (r != 0)
			break;
	}
	finish(st);
	if (r != 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

const char *store_errmsg(struct store *s)
{
	return s ? sqlite3_errmsg(s->db) : "no database";
}

/* ---- open and close ---- */

/*
 * Connection settings; the journal mode only for writers (it is
 * persistent). temp_store = MEMORY keeps the per-message savepoint
 * journals off disk: it more than doubles intake throughput, and those
 * journals only undo work inside a transaction (crash safety is the WAL's).
 */
static int configure(sqlite3 *db, bool readonly)
{
	/* a 1 MiB page cache keeps the daemon's memory small and flat (RSS target) */
	static const char rw[] = "PRAGMA foreign_keys = ON; PRAGMA journal_mode = WAL;"
				 " PRAGMA synchronous = NORMAL; PRAGMA temp_store = MEMORY;"
				 " PRAGMA cache_size = -1024;";
	static const char ro[] = "PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY;"
				 " PRAGMA cache_size = -1024;";

	if (sqlite3_busy_timeout(db, 5000) != SQLITE_OK)
		return -EIO;
	return sqlite3_exec(db, readonly ? ro : rw, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/* Every file's query table; store.c's own transaction statements first. */
static const struct store_query *const query_tables[] = {
	tx_queries,
	store_schema_queries,
	store_inbound_queries,
	store_ticket_queries,
	store_outbox_queries,
	store_stats_queries,
};

/* The entry of every statement, by id; each id is in exactly one table. */
static void queries_by_id(const struct store_query *ret[_Q_MAX])
{
	const struct store_query *q;

	for (int i = 0; i < _Q_MAX; i++)
		ret[i] = NULL;
	for (size_t t = 0; t < ELEMENTSOF(query_tables); t++) {
		for (q = query_tables[t]; q->sql; q++) {
			assert(q->id < _Q_MAX && !ret[q->id]);
			ret[q->id] = q;
		}
	}
}

/* Prepare every statement once, in id order (writes only when read-write). */
static int prepare_all(struct store *s)
{
	const struct store_query *queries[_Q_MAX];

	queries_by_id(queries);
	for (int i = 0; i < _Q_MAX; i++) {
		assert(queries[i]);
		if (s->readonly && queries[i]->write)
			continue;
		if (sqlite3_prepare_v3(s->db, queries[i]->sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &s->q[i], NULL) != SQLITE_OK)
			return -EIO;
	}
	return 0;
}

/* A plan line that reads a whole table: a SCAN (through an index or not), or a SEARCH using none. */
static bool reads_whole_table(const char *detail)
{
	if (strncmp(detail, "SCAN ", 5) == 0)
		return strcmp(detail, "SCAN CONSTANT ROW") != 0;
	return strncmp(detail, "SEARCH ", 7) == 0 && !strstr(detail, " USING ");
}

/* fn for each line of q's plan that reads a whole table; how many, or <0. */
static int plan_scans(sqlite3 *db, const char *sql, store_plan_fn fn, void *ud)
{
	char *eqp = xasprintf("EXPLAIN QUERY PLAN %s", sql);
	sqlite3_stmt *st = NULL;
	int n = 0, rc = sqlite3_prepare_v2(db, eqp, -1, &st, NULL);

	free(eqp);
	if (rc != SQLITE_OK)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(st, 3);

		if (detail && reads_whole_table(detail)) {
			fn(ud, sql, detail);
			n++;
		}
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

int store_plan_check(struct store *s, bool all, store_plan_fn fn, void *ud)
{
	const struct store_query *queries[_Q_MAX];
	int n = 0, r;

	queries_by_id(queries);
	for (int i = 0; i < _Q_MAX; i++) {
		if (queries[i]->scans && !all)
			continue;
		r = plan_scans(s->db, queries[i]->sql, fn, ud);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* Open, configure, check/migrate the schema and prepare; s->db set even on failure. */
static int store_setup(struct store *s, const char *path, char **ret_err)
{
	int flags = s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int v = 0, r;

	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK ||
	    configure(s->db, s->readonly) < 0 || store_schema_read(s->db, &v) < 0)
		return open_error(ret_err, -EIO, s->db ? sqlite3_errmsg(s->db) : "out of memory");
	r = store_schema_check(v, s->readonly, ret_err);
	if (r == 0 && !s->readonly && v < STORE_SCHEMA_VERSION)
		r = store_schema_migrate(s->db, ret_err);
	if (r == 0 && prepare_all(s) < 0)
		r = open_error(ret_err, -EIO, sqlite3_errmsg(s->db));
	return r;
}

int store_open(const char *path, bool readonly, struct store **ret, char **ret_err)
{
	struct store *s;
	struct stat sb;
	char msg[256];
	int r;

	if (!path || !*path)
		return open_error(ret_err, -EINVAL, "no database path");
	if (readonly && stat(path, &sb) < 0) {
		r = -errno;
		snprintf(msg, sizeof(msg), "%s: %s", path, strerror(errno));
		return open_error(ret_err, r, msg);
	}
	s = xcalloc(1, sizeof(*s));
	s->readonly = readonly;
	r = store_setup(s, path, ret_err);
	if (r < 0) {
		store_close(s);
		return r;
	}
	*ret = s;
	return 0;
}

void store_close(struct store *s)
{
	if (!s)
		return;
	for (int i = 0; i < _Q_MAX; i++)
		sqlite3_finalize(s->q[i]); /* NULL is a no-op */
	sqlite3_close(s->db);
	free(s);
}
