/*
 * store_outbox.c — the outbox: queueing a text, the rows due to be sent
 * or checked, marking what the provider answered, holding and
 * suppressing texts (quiet hours, caps) and the counts the caps use.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- outbox ---- */

static const char *const outbox_status_names[] = {
	[OB_QUEUED] = "queued",
	[OB_SENT] = "sent",
	[OB_DELIVERED] = "delivered",
	[OB_FAILED] = "failed",
	[OB_UNKNOWN] = "unknown",
};

const char *outbox_status_name(enum outbox_status st)
{
	return (unsigned)st < ELEMENTSOF(outbox_status_names) ? outbox_status_names[st] : "?";
}

int outbox_status_from_name(const char *name)
{
	for (size_t i = 0; name && i < ELEMENTSOF(outbox_status_names); i++)
		if (strcmp(outbox_status_names[i], name) == 0)
			return (int)i;
	return -EINVAL;
}

void outbox_msg_release(struct outbox_msg *m)
{
	if (!m)
		return;
	free(m->body);
	free(m->error);
	m->body = NULL;
	m->error = NULL;
}

#define OUTBOX_COLS                                                                  \
	"id, recipient, body, ticket, inbound_id, kind, status, attempts, next_attempt," \
	" created_at, sent_at, provider_id, error, segments"

/* Row of OUTBOX_COLS into *m (caller releases). */
static int outbox_from_row(sqlite3_stmt *st, struct outbox_msg *m)
{
	int status = outbox_status_from_name((const char *)sqlite3_column_text(st, 6));

	if (status < 0)
		return -EIO; /* unreachable: CHECK (status IN ...) */
	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(st, 0);
	col_str(st, 1, m->recipient, sizeof(m->recipient));
	m->body = col_dup(st, 2);
	m->ticket = sqlite3_column_int64(st, 3);
	m->inbound_id = sqlite3_column_int64(st, 4);
	col_str(st, 5, m->kind, sizeof(m->kind));
	m->status = (enum outbox_status)status;
	m->attempts = sqlite3_column_int(st, 7);
	m->next_attempt = sqlite3_column_int64(st, 8);
	m->created_at = sqlite3_column_int64(st, 9);
	m->sent_at = sqlite3_column_int64(st, 10);
	col_str(st, 11, m->provider_id, sizeof(m->provider_id));
	m->error = col_dup(st, 12);
	m->segments = sqlite3_column_int(st, 13);
	return 0;
}

static const char sql_outbox_add[] =
	"INSERT INTO outbox (recipient, body, ticket, inbound_id, kind, next_attempt, segments,"
	" created_at, updated_at)"
	" VALUES (?1, ?2, NULLIF(?3, 0), NULLIF(?4, 0), COALESCE(?5, ''), ?6, ?7, ?6, ?6)";
int store_outbox_add(struct store *s, const char *recipient, const char *body, int64_t ticket,
		     int64_t inbound_id, const char *kind, int segments, int64_t now,
		     int64_t *ret_id)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_ADD);
	int r;

	if (!st)
		return -EROFS;
	if (bind_text(st, 1, recipient) || bind_text(st, 2, body) || bind_int(st, 3, ticket) ||
	    bind_int(st, 4, inbound_id) || bind_text(st, 5, kind) || bind_int(st, 6, now) ||
	    bind_int(st, 7, segments))
		return fail(st);
	r = run(st);
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(s->db);
	return r;
}

/* Step st into a growing array of messages; finishes st. */
static int outbox_collect(sqlite3_stmt *st, struct outbox_msg **ret, size_t *ret_n)
{
	struct outbox_msg *v = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;

	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		r = outbox_from_row(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	finish(st);
	if (r == 0 && rc != SQLITE_DONE)
		r = -EIO;
	*ret = v;
	*ret_n = n;
	return r;
}

static const char sql_outbox_due[] =
	"SELECT " OUTBOX_COLS " FROM outbox WHERE status = 'queued' AND next_attempt <= ?1"
	" AND (attempts = 0 OR next_attempt <= ?3) ORDER BY next_attempt, id LIMIT ?2";
/*
 * Run st (?1 now, ?2 limit) and call fn for each row. The rows are
 * collected first: callers mark them, which moves them in the index.
 */
static int outbox_due_rows(sqlite3_stmt *st, int64_t now, size_t limit,
			   int (*fn)(void *ud, const struct outbox_msg *m), void *ud)
{
	struct outbox_msg *v;
	size_t n, i;
	int r;

	if (bind_int(st, 1, now) ||
	    bind_int(st, 2, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit))
		return fail(st);
	r = outbox_collect(st, &v, &n);
	for (i = 0; r == 0 && i < n; i++)
		r = fn(ud, &v[i]);
	for (i = 0; i < n; i++)
		outbox_msg_release(&v[i]);
	free(v);
	return r;
}

int store_outbox_due(struct store *s, int64_t now, int64_t tried_until, size_t limit,
		     int (*fn)(void *ud, const struct outbox_msg *m), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_DUE);

	if (st && bind_int(st, 3, tried_until))
		return fail(st);
	return outbox_due_rows(st, now, limit, fn, ud);
}

static const char sql_outbox_next_due[] =
	"SELECT min(next_attempt) FROM outbox WHERE status = 'queued'";
int store_outbox_next_due(struct store *s, int64_t *ret_at)
{
	return run_int(stmt(s, Q_OUTBOX_NEXT_DUE), ret_at);
}

static const char sql_outbox_sent[] =
	"UPDATE outbox SET status = 'sent', attempts = attempts + 1, provider_id = ?2,"
	" sent_at = ?3, updated_at = ?3, next_attempt = ?4, error = NULL WHERE id = ?1";
int store_outbox_mark_sent(struct store *s, int64_t id, const char *provider_id, int64_t now,
			   int64_t check_at)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_SENT);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_text(st, 2, nonempty(provider_id)) ||
	    bind_int(st, 3, now) || bind_int(st, 4, check_at))
		return fail(st);
	return run_one(s, st);
}

static const char sql_outbox_checks_due[] =
	"SELECT " OUTBOX_COLS " FROM outbox WHERE status = 'sent' AND next_attempt <= ?1"
	" ORDER BY next_attempt, id LIMIT ?2";
int store_outbox_checks_due(struct store *s, int64_t now, size_t limit,
			    int (*fn)(void *ud, const struct outbox_msg *m), void *ud)
{
	return outbox_due_rows(stmt(s, Q_OUTBOX_CHECKS_DUE), now, limit, fn, ud);
}

static const char sql_outbox_next_check[] =
	"SELECT min(next_attempt) FROM outbox WHERE status = 'sent'";
int store_outbox_next_check(struct store *s, int64_t *ret_at)
{
	return run_int(stmt(s, Q_OUTBOX_NEXT_CHECK), ret_at);
}

/* next_attempt means a retry for a queued row and a status check for a sent one. */
static const char sql_outbox_set_next[] =
	"UPDATE outbox SET next_attempt = ?2 WHERE id = ?1 AND status = ?3";
static int outbox_set_next(struct store *s, int64_t id, enum outbox_status status, int64_t at)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_SET_NEXT);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_int(st, 2, at) ||
	    bind_text(st, 3, outbox_status_name(status)))
		return fail(st);
	return run_one(s, st);
}

int store_outbox_mark_check(struct store *s, int64_t id, int64_t check_at)
{
	return outbox_set_next(s, id, OB_SENT, check_at);
}

static const char sql_outbox_final[] =
	"UPDATE outbox SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1 AND status = 'sent'";
int store_outbox_mark_final(struct store *s, int64_t id, enum outbox_status status,
			    const char *error, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_FINAL);

	if (!st)
		return -EROFS;
	if (status != OB_DELIVERED && status != OB_FAILED && status != OB_UNKNOWN) {
		finish(st);
		return -EINVAL;
	}
	if (bind_int(st, 1, id) || bind_text(st, 2, outbox_status_name(status)) ||
	    bind_text(st, 3, error) || bind_int(st, 4, now))
		return fail(st);
	return run_one(s, st);
}

static const char sql_outbox_expire[] =
	"UPDATE outbox SET status = 'unknown', error = ?3, updated_at = ?2"
	" WHERE status = 'sent' AND sent_at <= ?1";
int store_outbox_expire(struct store *s, int64_t sent_before, const char *error, int64_t now,
			int64_t *ret_n)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_EXPIRE);
	int r;

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, sent_before) || bind_int(st, 2, now) || bind_text(st, 3, error))
		return fail(st);
	r = run(st);
	if (r == 0 && ret_n)
		*ret_n = sqlite3_changes(s->db);
	return r;
}

static const char sql_outbox_retry[] =
	"UPDATE outbox SET attempts = attempts + 1, next_attempt = ?2, error = ?3 WHERE id = ?1";
int store_outbox_mark_retry(struct store *s, int64_t id, int64_t next_at, const char *error)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_RETRY);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_int(st, 2, next_at) || bind_text(st, 3, error))
		return fail(st);
	return run_one(s, st);
}

static const char sql_outbox_failed[] =
	"UPDATE outbox SET status = 'failed', attempts = attempts + 1, error = ?2,"
	" updated_at = ?3 WHERE id = ?1";
int store_outbox_mark_failed(struct store *s, int64_t id, const char *error, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_FAILED);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_text(st, 2, error) || bind_int(st, 3, now))
		return fail(st);
	return run_one(s, st);
}

struct outbox_cb {
	int (*fn)(void *ud, const struct outbox_msg *m);
	void *ud;
};

static int outbox_row(sqlite3_stmt *st, void *ctx)
{
	struct outbox_cb *cb = ctx;
	struct outbox_msg m;
	int r = outbox_from_row(st, &m);

	if (r == 0) {
		r = cb->fn(cb->ud, &m);
		outbox_msg_release(&m);
	}
	return r;
}

static const char sql_outbox_all[] = "SELECT " OUTBOX_COLS " FROM outbox ORDER BY id DESC";
static const char sql_outbox_pending[] =
	"SELECT " OUTBOX_COLS " FROM outbox WHERE status IN ('queued', 'failed') ORDER BY id DESC";
int store_outbox_each(struct store *s, bool all,
		      int (*fn)(void *ud, const struct outbox_msg *m), void *ud)
{
	sqlite3_stmt *st = stmt(s, all ? Q_OUTBOX_ALL : Q_OUTBOX_PENDING);
	struct outbox_cb cb = { .fn = fn, .ud = ud };

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	return store_rows(st, outbox_row, &cb);
}

#define CAPPED "(status = 'failed' AND error LIKE 'not sent: over limits.per_%')"
static const char sql_outbox_count_to[] =
	"SELECT count(*) FILTER (WHERE created_at >= ?2 AND NOT " CAPPED "),"
	" count(*) FILTER (WHERE created_at >= ?2 AND " CAPPED "),"
	" count(*) FILTER (WHERE NOT " CAPPED "), count(*) FILTER (WHERE " CAPPED ")"
	" FROM outbox WHERE recipient = ?1 AND created_at >= ?3";
int store_outbox_count_to(struct store *s, const char *recipient, int64_t hour_since,
			  int64_t day_since, struct recipient_counts *ret)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_COUNT_TO);
	int rc;

	if (bind_text(st, 1, recipient) || bind_int(st, 2, hour_since) ||
	    bind_int(st, 3, day_since))
		return fail(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->hour = sqlite3_column_int64(st, 0);
		ret->capped_hour = sqlite3_column_int64(st, 1);
		ret->day = sqlite3_column_int64(st, 2);
		ret->capped_day = sqlite3_column_int64(st, 3);
	}
	finish(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

static const char sql_outbox_suppress[] =
	"UPDATE outbox SET status = 'failed', error = ?2, updated_at = ?3"
	" WHERE id = ?1 AND status = 'queued'";
int store_outbox_suppress(struct store *s, int64_t id, const char *why, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_SUPPRESS);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_text(st, 2, why) || bind_int(st, 3, now))
		return fail(st);
	return run_one(s, st);
}

static const char sql_outbox_count_since[] =
	"SELECT count(*) FROM outbox WHERE created_at >= ?1 AND (?2 IS NULL OR kind = ?2)";
int store_outbox_count_since(struct store *s, int64_t since, const char *kind, int64_t *ret)
{
	sqlite3_stmt *st = stmt(s, Q_OUTBOX_COUNT_SINCE);

	if (bind_int(st, 1, since) || bind_text(st, 2, kind))
		return fail(st);
	return run_int(st, ret);
}

int store_outbox_hold(struct store *s, int64_t id, int64_t until)
{
	return outbox_set_next(s, id, OB_QUEUED, until);
}

static const char sql_outbox_count_queued[] =
	"SELECT count(*) FROM outbox WHERE status = 'queued'";
int store_outbox_count_queued(struct store *s, int64_t *ret)
{
	return run_int(stmt(s, Q_OUTBOX_COUNT_QUEUED), ret);
}

const struct store_query store_outbox_queries[] = {
	{ Q_OUTBOX_ADD, sql_outbox_add, true, false },
	{ Q_OUTBOX_DUE, sql_outbox_due, false, false },
	{ Q_OUTBOX_NEXT_DUE, sql_outbox_next_due, false, false },
	{ Q_OUTBOX_SENT, sql_outbox_sent, true, false },
	{ Q_OUTBOX_CHECKS_DUE, sql_outbox_checks_due, false, false },
	{ Q_OUTBOX_NEXT_CHECK, sql_outbox_next_check, false, false },
	{ Q_OUTBOX_SET_NEXT, sql_outbox_set_next, true, false },
	{ Q_OUTBOX_FINAL, sql_outbox_final, true, false },
	{ Q_OUTBOX_EXPIRE, sql_outbox_expire, true, false },
	{ Q_OUTBOX_RETRY, sql_outbox_retry, true, false },
	{ Q_OUTBOX_FAILED, sql_outbox_failed, true, false },
	{ Q_OUTBOX_ALL, sql_outbox_all, false, true },
	{ Q_OUTBOX_PENDING, sql_outbox_pending, false, false },
	{ Q_OUTBOX_COUNT_TO, sql_outbox_count_to, false, false },
	{ Q_OUTBOX_SUPPRESS, sql_outbox_suppress, true, false },
	{ Q_OUTBOX_COUNT_SINCE, sql_outbox_count_since, false, false },
	{ Q_OUTBOX_COUNT_QUEUED, sql_outbox_count_queued, false, false },
	{ 0, NULL, false, false },
};
