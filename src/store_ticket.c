/*
 * store_ticket.c — tickets: adding, reading and updating one, its clock
 * and the tickets due for it, duplicate reports and their other
 * reporters, the listings (one statement per index) and the period's
 * tickets for export, a grid's day, and the append-only history.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"

/* ---- tickets ---- */

#define TICKET_COLS                                                                  \
	"id, category, status, grid, assignee, phone, text, address, channel,"       \
	" inbound_id, created_at, updated_at, rating, urgent, accept_due, done_due,"  \
	" stage, next_check, accepted_at, done_at, rate_asked_at"

void ticket_release(struct ticket *t)
{
	if (!t)
		return;
	free(t->text);
	t->text = NULL;
}

/* Row of TICKET_COLS into *t (caller releases). */
static int ticket_from_row(sqlite3_stmt *st, struct ticket *t)
{
	int status = ticket_status_from_name((const char *)sqlite3_column_text(st, 2));

	if (status < 0)
		return -EIO; /* unreachable: CHECK (status IN ...) */
	memset(t, 0, sizeof(*t));
	t->id = sqlite3_column_int64(st, 0);
	col_str(st, 1, t->category, sizeof(t->category));
	t->status = (enum ticket_status)status;
	col_str(st, 3, t->grid, sizeof(t->grid));
	col_str(st, 4, t->assignee, sizeof(t->assignee));
	col_str(st, 5, t->phone, sizeof(t->phone));
	t->text = col_dup(st, 6);
	col_str(st, 7, t->address, sizeof(t->address));
	col_str(st, 8, t->channel, sizeof(t->channel));
	t->inbound_id = sqlite3_column_int64(st, 9);
	t->created_at = sqlite3_column_int64(st, 10);
	t->updated_at = sqlite3_column_int64(st, 11);
	t->rating = sqlite3_column_int(st, 12);
	t->clk.urgent = sqlite3_column_int(st, 13) != 0;
	t->clk.accept_due = sqlite3_column_int64(st, 14);
	t->clk.done_due = sqlite3_column_int64(st, 15);
	t->clk.stage = sqlite3_column_int(st, 16);
	t->clk.next_check = sqlite3_column_int64(st, 17);
	t->clk.accepted_at = sqlite3_column_int64(st, 18);
	t->clk.done_at = sqlite3_column_int64(st, 19);
	t->clk.rate_asked_at = sqlite3_column_int64(st, 20);
	return 0;
}

/* Bind the clock's eight fields to ?first.. in TICKET_COLS order. */
static int bind_clock(sqlite3_stmt *st, int first, const struct ticket_clock *c)
{
	return bind_int(st, first, c->urgent) || bind_int(st, first + 1, c->accept_due) ||
	       bind_int(st, first + 2, c->done_due) || bind_int(st, first + 3, c->stage) ||
	       bind_int(st, first + 4, c->next_check) || bind_int(st, first + 5, c->accepted_at) ||
	       bind_int(st, first + 6, c->done_at) || bind_int(st, first + 7, c->rate_asked_at);
}

static const char sql_ticket_add[] =
	"INSERT INTO tickets (category, status, grid, assignee, phone, text, address, channel,"
	" inbound_id, rating, created_at, updated_at, urgent, accept_due, done_due, stage,"
	" next_check, accepted_at, done_at, rate_asked_at)"
	" VALUES (?1, ?2, NULLIF(?3, ''), NULLIF(?4, ''), ?5, COALESCE(?6, ''), ?7,"
	" COALESCE(NULLIF(?8, ''), 'sms'), NULLIF(?9, 0), ?10, ?11, ?12, ?13, NULLIF(?14, 0),"
	" NULLIF(?15, 0), ?16, NULLIF(?17, 0), NULLIF(?18, 0), NULLIF(?19, 0), NULLIF(?20, 0))";
int store_ticket_add(struct store *s, const struct ticket *t, int64_t *ret_id)
{
	sqlite3_stmt *st = stmt(s, Q_TICKET_ADD);
	int r;

	if ((unsigned)t->status >= _TS_MAX)
		return -EINVAL;
	if (!st)
		return -EROFS;
	if (bind_text(st, 1, t->category) || bind_text(st, 2, ticket_status_name(t->status)) ||
	    bind_text(st, 3, t->grid) || bind_text(st, 4, t->assignee) ||
	    bind_text(st, 5, t->phone) || bind_text(st, 6, t->text) ||
	    bind_text(st, 7, t->address) || bind_text(st, 8, t->channel) ||
	    bind_int(st, 9, t->inbound_id) || bind_int(st, 10, t->rating) ||
	    bind_int(st, 11, t->created_at) || bind_int(st, 12, t->updated_at) ||
	    bind_clock(st, 13, &t->clk))
		return fail(st);
	r = run(st);
	if (r == 0 && ret_id)
		*ret_id = sqlite3_last_insert_rowid(s->db);
	return r;
}

static const char sql_ticket_get[] = "SELECT " TICKET_COLS " FROM tickets WHERE id = ?1";

static const char sql_ticket_set_clock[] =
	"UPDATE tickets SET urgent = ?2, accept_due = NULLIF(?3, 0), done_due = NULLIF(?4, 0),"
	" stage = ?5, next_check = NULLIF(?6, 0), accepted_at = NULLIF(?7, 0),"
	" done_at = NULLIF(?8, 0), rate_asked_at = NULLIF(?9, 0) WHERE id = ?1";
int store_ticket_set_clock(struct store *s, int64_t id, const struct ticket_clock *c)
{
	sqlite3_stmt *st = stmt(s, Q_TICKET_SET_CLOCK);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_clock(st, 2, c))
		return fail(st);
	return run_one(s, st);
}

static const char sql_tickets_due[] =
	"SELECT " TICKET_COLS " FROM tickets WHERE next_check <= ?1 ORDER BY next_check, id"
	" LIMIT ?2";
int store_tickets_due(struct store *s, int64_t now, size_t limit,
		      int (*fn)(void *ud, const struct ticket *t), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_TICKETS_DUE);
	struct ticket *v = NULL;
	size_t n = 0, cap = 0, i;
	int rc, r = 0;

	if (bind_int(st, 1, now) ||
	    bind_int(st, 2, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit))
		return fail(st);
	/* collected first: fn changes next_check, which moves rows in the index */
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		r = ticket_from_row(st, &v[n]);
		if (r < 0)
			break;
		n++;
	}
	finish(st);
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = -EIO;
	for (i = 0; r == 0 && i < n; i++)
		r = fn(ud, &v[i]);
	for (i = 0; i < n; i++)
		ticket_release(&v[i]);
	free(v);
	return r;
}

/* the WHERE lets min() read the partial index tickets_next_check: one row, not a scan */
static const char sql_tickets_next_check[] =
	"SELECT min(next_check) FROM tickets WHERE next_check IS NOT NULL";
int store_tickets_next_check(struct store *s, int64_t *ret_at)
{
	return run_int(stmt(s, Q_TICKETS_NEXT_CHECK), ret_at);
}

static const char sql_grid_day[] =
	"SELECT count(*) FILTER (WHERE created_at >= ?2 AND created_at < ?3),"
	" count(*) FILTER (WHERE status IN ('new', 'assigned')),"
	" count(*) FILTER (WHERE status = 'accepted'),"
	" count(*) FILTER (WHERE (status IN ('new', 'assigned') AND accept_due < ?4)"
	"                     OR (status = 'accepted' AND done_due < ?4))"
	" FROM tickets WHERE grid = ?1";
int store_grid_day(struct store *s, const char *grid, int64_t since, int64_t until, int64_t now,
		   struct grid_day *ret)
{
	sqlite3_stmt *st = stmt(s, Q_GRID_DAY);
	int rc;

	if (bind_text(st, 1, grid) || bind_int(st, 2, since) || bind_int(st, 3, until) ||
	    bind_int(st, 4, now))
		return fail(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		ret->received = sqlite3_column_int64(st, 0);
		ret->waiting = sqlite3_column_int64(st, 1);
		ret->in_hand = sqlite3_column_int64(st, 2);
		ret->overdue = sqlite3_column_int64(st, 3);
	}
	finish(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

static const char sql_ticket_find_dup[] =
	"SELECT max(id) FROM tickets WHERE address = ?1 AND category = ?2 AND created_at >= ?3"
	" AND status IN ('new', 'assigned', 'accepted')";
int store_ticket_find_dup(struct store *s, const char *category, const char *address,
			  int64_t since, int64_t *ret_id)
{
	sqlite3_stmt *st = stmt(s, Q_TICKET_FIND_DUP);

	if (bind_text(st, 1, address) || bind_text(st, 2, category) || bind_int(st, 3, since))
		return fail(st);
	return run_int(st, ret_id);
}

static const char sql_reporter_add[] =
	"INSERT OR IGNORE INTO ticket_reporters (ticket, phone, inbound_id, at)"
	" VALUES (?1, ?2, NULLIF(?3, 0), ?4)";
int store_reporter_add(struct store *s, int64_t ticket, const char *phone, int64_t inbound_id,
		       int64_t at)
{
	sqlite3_stmt *st = stmt(s, Q_REPORTER_ADD);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, ticket) || bind_text(st, 2, phone) || bind_int(st, 3, inbound_id) ||
	    bind_int(st, 4, at))
		return fail(st);
	return run(st);
}

static const char sql_reporters[] =
	"SELECT phone FROM ticket_reporters WHERE ticket = ?1 ORDER BY at, phone";
int store_reporters_each(struct store *s, int64_t ticket,
			 int (*fn)(void *ud, const char *phone), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_REPORTERS);
	char (*v)[STORE_ID_MAX] = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;

	if (bind_int(st, 1, ticket))
		return fail(st);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		col_str(st, 0, v[n++], sizeof(v[0]));
	}
	finish(st);
	if (rc != SQLITE_DONE)
		r = -EIO;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = fn(ud, v[i]);
	free(v);
	return r;
}
int store_ticket_get(struct store *s, int64_t id, struct ticket *ret)
{
	sqlite3_stmt *st = stmt(s, Q_TICKET_GET);
	int rc, r;

	if (bind_int(st, 1, id))
		return fail(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = ticket_from_row(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	finish(st);
	return r;
}

static const char sql_ticket_update[] =
	"UPDATE tickets SET status = ?2, assignee = NULLIF(?3, ''),"
	" rating = CASE WHEN ?4 < 0 THEN rating ELSE ?4 END, updated_at = ?5 WHERE id = ?1";
int store_ticket_update(struct store *s, int64_t id, enum ticket_status status,
			const char *assignee, int rating, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_TICKET_UPDATE);

	if ((unsigned)status >= _TS_MAX)
		return -EINVAL;
	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_text(st, 2, ticket_status_name(status)) ||
	    bind_text(st, 3, assignee) || bind_int(st, 4, rating) || bind_int(st, 5, now))
		return fail(st);
	return run_one(s, st);
}

/*
 * The listing statements share their parameters: ?1..?6 the statuses to
 * match (unused slots NULL; all six when the filter names none), ?7 grid,
 * ?8 phone, ?9 assignee (NULL: any), ?10 limit (-1: none). Each one leads
 * with the column its index covers, so the planner can use it; the others
 * filter.
 */
#define TICKETS_STATUS "status IN (?1, ?2, ?3, ?4, ?5, ?6)"
#define TICKETS_REST                                                                 \
	" AND (?7 IS NULL OR grid = ?7) AND (?8 IS NULL OR phone = ?8)"              \
	" AND (?9 IS NULL OR assignee = ?9) ORDER BY id DESC LIMIT ?10"
static const char sql_tickets_by_phone[] =
	"SELECT " TICKET_COLS " FROM tickets WHERE phone = ?8 AND " TICKETS_STATUS TICKETS_REST;
static const char sql_tickets_by_assignee[] =
	"SELECT " TICKET_COLS " FROM tickets WHERE assignee = ?9 AND " TICKETS_STATUS TICKETS_REST;
static const char sql_tickets_by_grid[] =
	"SELECT " TICKET_COLS " FROM tickets WHERE grid = ?7 AND " TICKETS_STATUS TICKETS_REST;
static const char sql_tickets_by_status[] =
	"SELECT " TICKET_COLS " FROM tickets WHERE " TICKETS_STATUS TICKETS_REST;
static const char sql_tickets_all[] =
	"SELECT " TICKET_COLS " FROM tickets ORDER BY id DESC LIMIT ?10";

/* Bind ?1..?6 from the filter's status: one name, "open", or every status. */
static int bind_statuses(sqlite3_stmt *st, const char *status)
{
	static const enum ticket_status open[] = { TS_NEW, TS_ASSIGNED, TS_ACCEPTED, TS_DONE };
	int name = status ? ticket_status_from_name(status) : -1;
	int rc = SQLITE_OK;

	if (!status) {
		for (int i = 0; i < _TS_MAX && rc == SQLITE_OK; i++)
			rc = bind_text(st, i + 1, ticket_status_name((enum ticket_status)i));
	} else if (strcmp(status, "open") == 0) {
		for (size_t i = 0; i < ELEMENTSOF(open) && rc == SQLITE_OK; i++)
			rc = bind_text(st, (int)i + 1, ticket_status_name(open[i]));
	} else if (name >= 0) {
		rc = bind_text(st, 1, ticket_status_name((enum ticket_status)name));
	}
	return rc;
}

/* The statement for f: the most selective indexed column it names. */
static enum query tickets_query(const struct ticket_filter *f)
{
	if (nonempty(f->phone))
		return Q_TICKETS_BY_PHONE;
	if (nonempty(f->assignee))
		return Q_TICKETS_BY_ASSIGNEE;
	if (nonempty(f->grid))
		return Q_TICKETS_BY_GRID;
	if (nonempty(f->status))
		return Q_TICKETS_BY_STATUS;
	return Q_TICKETS_ALL;
}

static int bind_filter(sqlite3_stmt *st, const struct ticket_filter *f)
{
	int64_t limit = f->limit == 0 || f->limit > INT64_MAX ? -1 : (int64_t)f->limit;

	if (bind_statuses(st, nonempty(f->status)) || bind_text(st, 7, nonempty(f->grid)) ||
	    bind_text(st, 8, nonempty(f->phone)) || bind_text(st, 9, nonempty(f->assignee)) ||
	    bind_int(st, 10, limit))
		return -EIO;
	return 0;
}

struct tickets_cb {
	int (*fn)(void *ud, const struct ticket *t);
	void *ud;
};

static int ticket_row(sqlite3_stmt *st, void *ctx)
{
	struct tickets_cb *cb = ctx;
	struct ticket t;
	int r = ticket_from_row(st, &t);

	if (r == 0) {
		r = cb->fn(cb->ud, &t);
		ticket_release(&t);
	}
	return r;
}

/* Step st, calling fn per ticket; finishes st. */
static int tickets_run(sqlite3_stmt *st, int (*fn)(void *ud, const struct ticket *t), void *ud)
{
	struct tickets_cb cb = { .fn = fn, .ud = ud };

	return store_rows(st, ticket_row, &cb);
}

int store_tickets_each(struct store *s, const struct ticket_filter *f,
		       int (*fn)(void *ud, const struct ticket *t), void *ud)
{
	static const struct ticket_filter none;
	const char *status;
	sqlite3_stmt *st;

	if (!f)
		f = &none;
	status = nonempty(f->status);
	if (status && strcmp(status, "open") != 0 && ticket_status_from_name(status) < 0)
		return -EINVAL;
	st = stmt(s, tickets_query(f));
	if (sqlite3_stmt_busy(st))
		return -EBUSY; /* called again from its own callback */
	if (bind_filter(st, f) < 0)
		return fail(st);
	return tickets_run(st, fn, ud);
}

static const char sql_ticket_count_open[] =
	"SELECT count(*) FROM tickets WHERE status IN ('new', 'assigned', 'accepted')";
int store_ticket_count_open(struct store *s, int64_t *ret)
{
	return run_int(stmt(s, Q_TICKET_COUNT_OPEN), ret);
}

/* For export: the period's tickets, whole. */
static const char sql_tickets_created[] =
	"SELECT " TICKET_COLS " FROM tickets WHERE created_at >= ?1 AND created_at < ?2 ORDER BY id";
int store_tickets_created(struct store *s, int64_t from, int64_t to,
			  int (*fn)(void *ud, const struct ticket *t), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_TICKETS_CREATED);

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	if (bind_int(st, 1, from) || bind_int(st, 2, to))
		return fail(st);
	return tickets_run(st, fn, ud);
}

/* ---- ticket history ---- */

static const char sql_event_add[] =
	"INSERT INTO ticket_events (ticket, at, actor, event, from_status, to_status, detail,"
	" inbound_id) VALUES (?1, ?2, ?3, ?4, NULLIF(?5, ''), NULLIF(?6, ''), ?7, NULLIF(?8, 0))";
int store_event_add(struct store *s, int64_t ticket, int64_t at, const char *actor,
		    const char *event, const char *from_status, const char *to_status,
		    const char *detail, int64_t inbound_id)
{
	sqlite3_stmt *st = stmt(s, Q_EVENT_ADD);

	if (!st)
		return -EROFS;
	if (bind_int(st, 1, ticket) || bind_int(st, 2, at) || bind_text(st, 3, actor) ||
	    bind_text(st, 4, event) || bind_text(st, 5, from_status) ||
	    bind_text(st, 6, to_status) || bind_text(st, 7, detail) ||
	    bind_int(st, 8, inbound_id))
		return fail(st);
	return run(st);
}

static void event_from_row(sqlite3_stmt *st, struct ticket_event *e)
{
	memset(e, 0, sizeof(*e));
	e->id = sqlite3_column_int64(st, 0);
	e->ticket = sqlite3_column_int64(st, 1);
	e->at = sqlite3_column_int64(st, 2);
	col_str(st, 3, e->actor, sizeof(e->actor));
	col_str(st, 4, e->event, sizeof(e->event));
	col_str(st, 5, e->from_status, sizeof(e->from_status));
	col_str(st, 6, e->to_status, sizeof(e->to_status));
	e->detail = col_dup(st, 7);
	e->inbound_id = sqlite3_column_int64(st, 8);
}

struct events_cb {
	int (*fn)(void *ud, const struct ticket_event *e);
	void *ud;
};

static int event_row(sqlite3_stmt *st, void *ctx)
{
	struct events_cb *cb = ctx;
	struct ticket_event e;
	int r;

	event_from_row(st, &e);
	r = cb->fn(cb->ud, &e);
	free(e.detail);
	return r;
}

static const char sql_events[] =
	"SELECT id, ticket, at, actor, event, from_status, to_status, detail, inbound_id"
	" FROM ticket_events WHERE ticket = ?1 ORDER BY id";
int store_events_each(struct store *s, int64_t ticket,
		      int (*fn)(void *ud, const struct ticket_event *e), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_EVENTS);
	struct events_cb cb = { .fn = fn, .ud = ud };

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	if (bind_int(st, 1, ticket))
		return fail(st);
	return store_rows(st, event_row, &cb);
}

const struct store_query store_ticket_queries[] = {
	{ Q_TICKET_ADD, sql_ticket_add, true, false },
	{ Q_TICKET_GET, sql_ticket_get, false, false },
	{ Q_TICKET_SET_CLOCK, sql_ticket_set_clock, true, false },
	{ Q_TICKETS_DUE, sql_tickets_due, false, false },
	{ Q_TICKETS_NEXT_CHECK, sql_tickets_next_check, false, false },
	{ Q_GRID_DAY, sql_grid_day, false, false },
	{ Q_TICKET_FIND_DUP, sql_ticket_find_dup, false, false },
	{ Q_REPORTER_ADD, sql_reporter_add, true, false },
	{ Q_REPORTERS, sql_reporters, false, false },
	{ Q_TICKET_UPDATE, sql_ticket_update, true, false },
	{ Q_TICKETS_BY_PHONE, sql_tickets_by_phone, false, false },
	{ Q_TICKETS_BY_ASSIGNEE, sql_tickets_by_assignee, false, false },
	{ Q_TICKETS_BY_GRID, sql_tickets_by_grid, false, false },
	{ Q_TICKETS_BY_STATUS, sql_tickets_by_status, false, false },
	{ Q_TICKETS_ALL, sql_tickets_all, false, true },
	{ Q_TICKET_COUNT_OPEN, sql_ticket_count_open, false, false },
	{ Q_TICKETS_CREATED, sql_tickets_created, false, false },
	{ Q_EVENT_ADD, sql_event_add, true, false },
	{ Q_EVENTS, sql_events, false, false },
	{ 0, NULL, false, false },
};
