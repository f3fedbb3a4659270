/*
 * store_stats.c — the statistics of gridlinectl stats and export:
 * read-only aggregates over a period's tickets and texts, grouped as a
 * whole, by category or by grid. (store_tickets_created(), the period's
 * whole tickets for export, is in store_ticket.c with the other readers
 * of whole tickets.)
 */
#include <string.h>

#include "store_int.h"

/* ---------------------------------------------------------------------------
 * Statistics (gridlinectl stats, export): read-only aggregates over the
 * tickets and the outbox of a period. ?1 from, ?2 to (created_at in
 * [from, to)); where grouped, ?3 the store_group: the key is '' (all),
 * the category, or the grid ('' for none).
 */

#define STATS_KEY "CASE ?3 WHEN 0 THEN '' WHEN 1 THEN category ELSE COALESCE(grid, '') END"

/*
 * One row per group. ?4 now, ?5 owned_within. "Owned" is an assignment
 * (routing's assign, a transfer) recorded within ?5 s of creation; the
 * active deadline is accept_due before acceptance, done_due after it
 * (as intake.c chases them); done tickets await the resident, not late.
 */
static const char sql_stats_tickets[] =
	"SELECT " STATS_KEY " AS k, count(*),"
	" sum(EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket = tickets.id"
	"  AND e.event IN ('assign', 'transfer') AND e.at <= tickets.created_at + ?5)),"
	" count(accept_due), sum(COALESCE(accepted_at <= accept_due, 0)),"
	" count(done_due), sum(COALESCE(done_at <= done_due, 0)),"
	" sum(CASE WHEN status IN ('new', 'assigned') THEN COALESCE(accept_due < ?4, 0)"
	"  WHEN status = 'accepted' THEN COALESCE(done_due < ?4, 0) ELSE 0 END),"
	" count(rate_asked_at), sum(rate_asked_at IS NOT NULL AND rating > 0),"
	" sum(rating = 1), sum(rating = 2), sum(rating = 3)"
	" FROM tickets WHERE created_at >= ?1 AND created_at < ?2 GROUP BY k ORDER BY k";

/* Bind the period and the grouping to ?1..?3. */
static int bind_period(sqlite3_stmt *st, const struct store_period *p, enum store_group g)
{
	return bind_int(st, 1, p->from) || bind_int(st, 2, p->to) || bind_int(st, 3, g);
}

static void ticket_stats_from_row(sqlite3_stmt *st, struct store_ticket_stats *ts)
{
	int64_t *v[] = { &ts->received, &ts->owned, &ts->accept_due, &ts->accepted_on_time,
			 &ts->done_due, &ts->done_on_time, &ts->overdue, &ts->rate_asked,
			 &ts->rated, &ts->ratings[1], &ts->ratings[2], &ts->ratings[3] };

	memset(ts, 0, sizeof(*ts));
	for (size_t i = 0; i < ELEMENTSOF(v); i++)
		*v[i] = sqlite3_column_int64(st, (int)i + 1);
}

struct stats_cb {
	int (*tickets)(void *ud, const char *key, const struct store_ticket_stats *st);
	int (*span)(void *ud, const char *key, int64_t seconds);
	int (*texts)(void *ud, const char *key, enum outbox_status st, int64_t n, int64_t segments);
	void *ud;
};

static int tickets_stats_row(sqlite3_stmt *st, void *ctx)
{
	struct stats_cb *cb = ctx;
	struct store_ticket_stats ts;

	ticket_stats_from_row(st, &ts);
	return cb->tickets(cb->ud, (const char *)sqlite3_column_text(st, 0), &ts);
}

int store_stats_tickets(struct store *s, const struct store_period *p, enum store_group g,
			int (*fn)(void *ud, const char *key, const struct store_ticket_stats *st),
			void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_STATS_TICKETS);
	struct stats_cb cb = { .tickets = fn, .ud = ud };

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	if (bind_period(st, p, g) || bind_int(st, 4, p->now) || bind_int(st, 5, p->owned_within))
		return fail(st);
	return store_rows(st, tickets_stats_row, &cb);
}

static const char sql_stats_accept_spans[] =
	"SELECT " STATS_KEY " AS k, accepted_at - created_at AS d FROM tickets"
	" WHERE created_at >= ?1 AND created_at < ?2 AND accepted_at IS NOT NULL ORDER BY k, d";
static const char sql_stats_done_spans[] =
	"SELECT " STATS_KEY " AS k, done_at - created_at AS d FROM tickets"
	" WHERE created_at >= ?1 AND created_at < ?2 AND done_at IS NOT NULL ORDER BY k, d";

static int span_row(sqlite3_stmt *st, void *ctx)
{
	struct stats_cb *cb = ctx;

	return cb->span(cb->ud, (const char *)sqlite3_column_text(st, 0),
			sqlite3_column_int64(st, 1));
}

int store_stats_spans(struct store *s, const struct store_period *p, enum store_group g,
		      enum store_span span,
		      int (*fn)(void *ud, const char *key, int64_t seconds), void *ud)
{
	sqlite3_stmt *st = stmt(s, span == STORE_SPAN_ACCEPT ? Q_STATS_ACCEPT_SPANS
							     : Q_STATS_DONE_SPANS);
	struct stats_cb cb = { .span = fn, .ud = ud };

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	if (bind_period(st, p, g))
		return fail(st);
	return store_rows(st, span_row, &cb);
}

/* Texts about no ticket have no category or grid: only the whole (?3 = 0) counts them. */
static const char sql_stats_texts[] =
	"SELECT CASE ?3 WHEN 0 THEN '' WHEN 1 THEN t.category ELSE COALESCE(t.grid, '') END AS k,"
	" o.status, count(*), total(CASE WHEN o.sent_at IS NOT NULL THEN o.segments ELSE 0 END)"
	" FROM outbox o LEFT JOIN tickets t ON t.id = o.ticket"
	" WHERE o.created_at >= ?1 AND o.created_at < ?2 AND (?3 = 0 OR t.id IS NOT NULL)"
	" GROUP BY k, o.status ORDER BY k, o.status";

static int texts_row(sqlite3_stmt *st, void *ctx)
{
	struct stats_cb *cb = ctx;
	int status = outbox_status_from_name((const char *)sqlite3_column_text(st, 1));

	if (status < 0)
		return -EIO; /* unreachable: CHECK (status IN ...) */
	return cb->texts(cb->ud, (const char *)sqlite3_column_text(st, 0),
			 (enum outbox_status)status, sqlite3_column_int64(st, 2),
			 (int64_t)sqlite3_column_double(st, 3));
}

int store_stats_texts(struct store *s, const struct store_period *p, enum store_group g,
		      int (*fn)(void *ud, const char *key, enum outbox_status st, int64_t n,
				int64_t segments),
		      void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_STATS_TEXTS);
	struct stats_cb cb = { .texts = fn, .ud = ud };

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	if (bind_period(st, p, g))
		return fail(st);
	return store_rows(st, texts_row, &cb);
}

const struct store_query store_stats_queries[] = {
	{ Q_STATS_TICKETS, sql_stats_tickets, false, false },
	{ Q_STATS_ACCEPT_SPANS, sql_stats_accept_spans, false, false },
	{ Q_STATS_DONE_SPANS, sql_stats_done_spans, false, false },
	{ Q_STATS_TEXTS, sql_stats_texts, false, false },
	{ 0, NULL, false, false },
};
