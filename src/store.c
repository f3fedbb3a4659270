/*
 * store.c — the SQLite store: schema and migrations, the connection, and
 * one wrapper per query. The only file that includes sqlite3.h.
 *
 * Every statement is prepared once at open (SQLITE_PREPARE_PERSISTENT) from
 * the sql_* string defined beside its wrapper, and reset with its bindings
 * cleared after each use. Values are always bound, never formatted into SQL.
 * Text columns that mean "none" (grid, assignee, ...) are stored as NULL and
 * read back as "" or NULL as store.h says.
 *
 * Iterations (*_each) step the statement and call back row by row; a
 * callback may use any other query, but re-entering the same iteration
 * returns -EBUSY. store_outbox_due() collects its rows first, because its
 * callers mark the rows they are given.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "store.h"
#include "util.h"

/* One id per prepared statement; the SQL is in sql_<name> by its wrapper. */
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

/* ---- schema ---- */

#define STATUS_NAMES "'new', 'assigned', 'accepted', 'done', 'closed', 'cancelled'"

/* migrations[v] takes a database from user_version v to v + 1. */
static const char *const migrations[] = {
	/* 0 -> 1: the first schema */
	"CREATE TABLE inbound (\n"
	"	id          INTEGER PRIMARY KEY,\n"
	"	provider    TEXT NOT NULL,\n"
	"	provider_id TEXT NOT NULL,\n"
	"	sender      TEXT,\n"
	"	body        TEXT NOT NULL,\n"
	"	received_at INTEGER NOT NULL,\n"
	"	stored_at   INTEGER NOT NULL,\n"
	"	state       TEXT NOT NULL DEFAULT 'new'\n"
	"	            CHECK (state IN ('new', 'processed', 'bad')),\n"
	"	error       TEXT,\n"
	"	UNIQUE (provider, provider_id)\n"
	");\n"
	"CREATE TABLE residents (\n"
	"	phone      TEXT PRIMARY KEY NOT NULL,\n"
	"	name       TEXT NOT NULL DEFAULT '',\n"
	"	address    TEXT NOT NULL DEFAULT '',\n"
	"	grid       TEXT,\n"
	"	opted_out  INTEGER NOT NULL DEFAULT 0 CHECK (opted_out IN (0, 1)),\n"
	"	updated_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE tickets (\n"
	"	id         INTEGER PRIMARY KEY AUTOINCREMENT,\n"
	"	category   TEXT NOT NULL,\n"
	"	status     TEXT NOT NULL CHECK (status IN (" STATUS_NAMES ")),\n"
	"	grid       TEXT,\n"
	"	assignee   TEXT,\n"
	"	phone      TEXT NOT NULL,\n"
	"	text       TEXT NOT NULL DEFAULT '',\n"
	"	address    TEXT NOT NULL DEFAULT '',\n"
	"	channel    TEXT NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'phone')),\n"
	"	rating     INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 3),\n"
	"	inbound_id INTEGER REFERENCES inbound (id),\n"
	"	created_at INTEGER NOT NULL,\n"
	"	updated_at INTEGER NOT NULL\n"
	");\n"
	/* ticket ids start at 1001: short, and never mistaken for a rating */
	"INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets', 1000);\n"
	"CREATE INDEX tickets_phone_status ON tickets (phone, status);\n"
	"CREATE INDEX tickets_status ON tickets (status);\n"
	"CREATE INDEX tickets_grid_status ON tickets (grid, status);\n"
	"CREATE INDEX tickets_assignee_status ON tickets (assignee, status);\n"
	"CREATE TABLE ticket_events (\n"
	"	id          INTEGER PRIMARY KEY,\n"
	"	ticket      INTEGER NOT NULL REFERENCES tickets (id),\n"
	"	at          INTEGER NOT NULL,\n"
	"	actor       TEXT NOT NULL,\n"
	"	event       TEXT NOT NULL,\n"
	"	from_status TEXT CHECK (from_status IN (" STATUS_NAMES ")),\n"
	"	to_status   TEXT CHECK (to_status IN (" STATUS_NAMES ")),\n"
	"	detail      TEXT,\n"
	"	inbound_id  INTEGER REFERENCES inbound (id)\n"
	");\n"
	"CREATE INDEX ticket_events_ticket ON ticket_events (ticket);\n"
	"CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events\n"
	"BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;\n"
	"CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events\n"
	"BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END;\n"
	"CREATE TABLE outbox (\n"
	"	id           INTEGER PRIMARY KEY,\n"
	"	recipient    TEXT NOT NULL,\n"
	"	body         TEXT NOT NULL,\n"
	"	ticket       INTEGER REFERENCES tickets (id),\n"
	"	inbound_id   INTEGER REFERENCES inbound (id),\n"
	"	kind         TEXT NOT NULL DEFAULT '',\n"
	"	status       TEXT NOT NULL DEFAULT 'queued'\n"
	"	             CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'unknown')),\n"
	"	attempts     INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),\n"
	"	next_attempt INTEGER NOT NULL,\n"
	"	provider_id  TEXT,\n"
	"	error        TEXT,\n"
	"	segments     INTEGER NOT NULL DEFAULT 1 CHECK (segments >= 0),\n"
	"	created_at   INTEGER NOT NULL,\n"
	"	sent_at      INTEGER,\n"
	"	updated_at   INTEGER NOT NULL\n" /* when status last changed */
	");\n"
	"CREATE INDEX outbox_status_next ON outbox (status, next_attempt);\n"
	"CREATE TABLE cursor (\n"
	"	provider   TEXT PRIMARY KEY NOT NULL,\n"
	"	value      TEXT NOT NULL,\n"
	"	updated_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE worker_last (\n"
	"	worker     TEXT PRIMARY KEY NOT NULL,\n"
	"	ticket     INTEGER NOT NULL REFERENCES tickets (id),\n"
	"	updated_at INTEGER NOT NULL\n"
	") WITHOUT ROWID;\n",
	/*
	 * 1 -> 2: the ticket clock (deadlines, reminder stage, 回访). Tickets
	 * from before have no deadlines (NULL) and are never chased.
	 */
	"ALTER TABLE tickets ADD COLUMN urgent INTEGER NOT NULL DEFAULT 0;\n"
	"ALTER TABLE tickets ADD COLUMN accept_due INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN done_due INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN stage INTEGER NOT NULL DEFAULT 0;\n"
	"ALTER TABLE tickets ADD COLUMN next_check INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN accepted_at INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN done_at INTEGER;\n"
	"ALTER TABLE tickets ADD COLUMN rate_asked_at INTEGER;\n"
	"CREATE INDEX tickets_next_check ON tickets (next_check) WHERE next_check IS NOT NULL;\n"
	/* duplicate reports: the same category at the same address, recently */
	"CREATE INDEX tickets_address ON tickets (address, category, created_at);\n"
	/* everyone who reported a merged ticket besides its first reporter */
	"CREATE TABLE ticket_reporters (\n"
	"	ticket     INTEGER NOT NULL REFERENCES tickets (id),\n"
	"	phone      TEXT NOT NULL,\n"
	"	inbound_id INTEGER REFERENCES inbound (id),\n"
	"	at         INTEGER NOT NULL,\n"
	"	PRIMARY KEY (ticket, phone)\n"
	") WITHOUT ROWID;\n"
	/* the per-number and hourly caps count texts by time */
	"CREATE INDEX outbox_recipient ON outbox (recipient, created_at);\n"
	"CREATE INDEX outbox_created ON outbox (created_at);\n",
};

static_assert(ELEMENTSOF(migrations) == STORE_SCHEMA_VERSION,
	      "one migration per schema version");

/* ---- small helpers ---- */

static int bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (!v)
		return sqlite3_bind_null(st, i);
	/* static: bindings are cleared before the wrapper returns */
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, v);
}

/* Done with st: ready for the next use, nothing left pointing at caller memory. */
static void finish(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* A bind failed: finish st and report (sqlite3_errmsg says why). */
static int fail(sqlite3_stmt *st)
{
	finish(st);
	return -EIO;
}

/* Step a statement that returns no rows; finish it. */
static int run(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	finish(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

/* Step a write that must touch a row: -ENOENT when it touched none. */
static int run_one(struct store *s, sqlite3_stmt *st)
{
	int r = run(st);

	if (r == 0 && sqlite3_changes(s->db) == 0)
		r = -ENOENT;
	return r;
}

/* Step a statement returning one row with one integer (NULL: -ENOENT). */
static int run_int(sqlite3_stmt *st, int64_t *ret)
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
static sqlite3_stmt *stmt(struct store *s, enum query q)
{
	assert(s && q < _Q_MAX);
	return s->q[q];
}

static void col_str(sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	str_copy(dst, size, v ? v : ""); /* truncation is safe and deliberate */
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	return xstrdup((const char *)sqlite3_column_text(st, i));
}

/* ---- transactions ---- */

/* Run one of the fixed transaction statements below. */
static int run_fixed(struct store *s, enum query q)
{
	sqlite3_stmt *st = stmt(s, q);

	return st ? run(st) : -EROFS;
}

static const char sql_begin[] = "BEGIN IMMEDIATE";
int store_begin(struct store *s)
{
	return run_fixed(s, Q_BEGIN);
}

static const char sql_commit[] = "COMMIT";
int store_commit(struct store *s)
{
	return run_fixed(s, Q_COMMIT);
}

static const char sql_rollback[] = "ROLLBACK";
int store_rollback(struct store *s)
{
	return run_fixed(s, Q_ROLLBACK);
}

static const char sql_savepoint[] = "SAVEPOINT msg";
int store_savepoint(struct store *s)
{
	return run_fixed(s, Q_SAVEPOINT);
}

static const char sql_release[] = "RELEASE msg";
int store_release(struct store *s)
{
	return run_fixed(s, Q_RELEASE);
}

static const char sql_rollback_to[] = "ROLLBACK TO msg";
int store_rollback_to(struct store *s)
{
	int r = run_fixed(s, Q_ROLLBACK_TO);

	return r < 0 ? r : store_release(s);
}

static const char sql_version[] = "PRAGMA user_version";
int store_schema_version(struct store *s)
{
	int64_t v = 0;
	int r = run_int(stmt(s, Q_VERSION), &v);

	return r < 0 ? r : (int)v;
}

const char *store_errmsg(struct store *s)
{
	return s ? sqlite3_errmsg(s->db) : "no database";
}

/* ---- inbound ---- */

static const char *const inbound_state_names[] = {
	[IN_NEW] = "new",
	[IN_PROCESSED] = "processed",
	[IN_BAD] = "bad",
};

static const char sql_inbound_add[] =
	"INSERT INTO inbound (provider, provider_id, sender, body, received_at, stored_at)"
	" VALUES (?1, ?2, ?3, COALESCE(?4, ''), ?5, ?6)"
	" ON CONFLICT (provider, provider_id) DO NOTHING";
static const char sql_inbound_find[] =
	"SELECT id FROM inbound WHERE provider = ?1 AND provider_id = ?2";

/* The id of an already stored (provider, provider_id). */
static int inbound_find(struct store *s, const char *provider, const char *provider_id,
			int64_t *ret_id)
{
	sqlite3_stmt *st = stmt(s, Q_INBOUND_FIND);

	if (bind_text(st, 1, provider) || bind_text(st, 2, provider_id))
		return fail(st);
	return run_int(st, ret_id);
}

int store_inbound_add(struct store *s, const char *provider, const char *provider_id,
		      const char *sender, const char *body, int64_t received_at, int64_t now,
		      int64_t *ret_id, bool *ret_dup)
{
	sqlite3_stmt *st = stmt(s, Q_INBOUND_ADD);
	int64_t id = 0;
	bool dup;
	int r;

	if (!provider || !provider_id)
		return -EINVAL;
	if (!st)
		return -EROFS;
	if (bind_text(st, 1, provider) || bind_text(st, 2, provider_id) ||
	    bind_text(st, 3, sender) || bind_text(st, 4, body) ||
	    bind_int(st, 5, received_at) || bind_int(st, 6, now))
		return fail(st);
	r = run(st);
	if (r < 0)
		return r;
	dup = sqlite3_changes(s->db) == 0;
	if (dup) {
		r = inbound_find(s, provider, provider_id, &id);
		if (r < 0)
			return r == -ENOENT ? -EIO : r;
	} else {
		id = sqlite3_last_insert_rowid(s->db);
	}
	if (ret_id)
		*ret_id = id;
	if (ret_dup)
		*ret_dup = dup;
	return 0;
}

static const char sql_inbound_set_state[] =
	"UPDATE inbound SET state = ?2, error = ?3 WHERE id = ?1";
int store_inbound_set_state(struct store *s, int64_t id, enum inbound_state state,
			    const char *error)
{
	sqlite3_stmt *st = stmt(s, Q_INBOUND_SET_STATE);

	if ((unsigned)state >= ELEMENTSOF(inbound_state_names))
		return -EINVAL;
	if (!st)
		return -EROFS;
	if (bind_int(st, 1, id) || bind_text(st, 2, inbound_state_names[state]) ||
	    bind_text(st, 3, error))
		return fail(st);
	return run_one(s, st);
}

static const char sql_inbound_count[] = "SELECT count(*) FROM inbound";
int store_inbound_count(struct store *s, int64_t *ret)
{
	return run_int(stmt(s, Q_INBOUND_COUNT), ret);
}

/* ---- residents ---- */

static const char sql_resident_get[] =
	"SELECT phone, name, address, grid, opted_out FROM residents WHERE phone = ?1";
int store_resident_get(struct store *s, const char *phone, struct resident *ret)
{
	sqlite3_stmt *st = stmt(s, Q_RESIDENT_GET);
	int rc;

	if (bind_text(st, 1, phone))
		return fail(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_str(st, 0, ret->phone, sizeof(ret->phone));
		col_str(st, 1, ret->name, sizeof(ret->name));
		col_str(st, 2, ret->address, sizeof(ret->address));
		col_str(st, 3, ret->grid, sizeof(ret->grid));
		ret->opted_out = sqlite3_column_int(st, 4) != 0;
	}
	finish(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

/* opted_out is only written on insert: re-importing the register keeps it. */
static const char sql_resident_put[] =
	"INSERT INTO residents (phone, name, address, grid, opted_out, updated_at)"
	" VALUES (?1, ?2, ?3, NULLIF(?4, ''), ?5, ?6)"
	" ON CONFLICT (phone) DO UPDATE SET name = excluded.name, address = excluded.address,"
	" grid = excluded.grid, updated_at = excluded.updated_at";
int store_resident_put(struct store *s, const struct resident *r, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_RESIDENT_PUT);

	if (!st)
		return -EROFS;
	if (bind_text(st, 1, r->phone) || bind_text(st, 2, r->name) ||
	    bind_text(st, 3, r->address) || bind_text(st, 4, r->grid) ||
	    bind_int(st, 5, r->opted_out) || bind_int(st, 6, now))
		return fail(st);
	return run(st);
}

/* An unregistered sender who opts out gets a row of their own. */
static const char sql_resident_opt_out[] =
	"INSERT INTO residents (phone, opted_out, updated_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (phone) DO UPDATE SET opted_out = excluded.opted_out,"
	" updated_at = excluded.updated_at";
int store_resident_set_opt_out(struct store *s, const char *phone, bool opted_out, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_RESIDENT_OPT_OUT);

	if (!st)
		return -EROFS;
	if (bind_text(st, 1, phone) || bind_int(st, 2, opted_out) || bind_int(st, 3, now))
		return fail(st);
	return run(st);
}

static const char sql_residents_all[] =
	"SELECT phone, name, address, grid, opted_out FROM residents ORDER BY phone";
int store_residents_each(struct store *s, int (*fn)(void *ud, const struct resident *r), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_RESIDENTS_ALL);
	struct resident res;
	int rc, r = 0;

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		res = (struct resident){ 0 };
		col_str(st, 0, res.phone, sizeof(res.phone));
		col_str(st, 1, res.name, sizeof(res.name));
		col_str(st, 2, res.address, sizeof(res.address));
		col_str(st, 3, res.grid, sizeof(res.grid));
		res.opted_out = sqlite3_column_int(st, 4) != 0;
		r = fn(ud, &res);
		if (r != 0)
			break;
	}
	finish(st);
	if (r != 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

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

static const char sql_tickets_next_check[] = "SELECT min(next_check) FROM tickets";
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

static const char *nonempty(const char *v)
{
	return v && *v ? v : NULL;
}

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

/* Step st, calling fn per ticket; finishes st. */
static int tickets_run(sqlite3_stmt *st, int (*fn)(void *ud, const struct ticket *t), void *ud)
{
	struct ticket t;
	int rc, r = 0;

	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		r = ticket_from_row(st, &t);
		if (r == 0) {
			r = fn(ud, &t);
			ticket_release(&t);
		}
		if (r != 0)
			break;
	}
	finish(st);
	if (r != 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
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

static const char sql_events[] =
	"SELECT id, ticket, at, actor, event, from_status, to_status, detail, inbound_id"
	" FROM ticket_events WHERE ticket = ?1 ORDER BY id";
int store_events_each(struct store *s, int64_t ticket,
		      int (*fn)(void *ud, const struct ticket_event *e), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_EVENTS);
	struct ticket_event e;
	int rc, r = 0;

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	if (bind_int(st, 1, ticket))
		return fail(st);
	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		event_from_row(st, &e);
		r = fn(ud, &e);
		free(e.detail);
		if (r != 0)
			break;
	}
	finish(st);
	if (r != 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
}

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

static int outbox_status_from_name(const char *name)
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

static const char sql_outbox_all[] = "SELECT " OUTBOX_COLS " FROM outbox ORDER BY id DESC";
static const char sql_outbox_pending[] =
	"SELECT " OUTBOX_COLS " FROM outbox WHERE status IN ('queued', 'failed') ORDER BY id DESC";
int store_outbox_each(struct store *s, bool all,
		      int (*fn)(void *ud, const struct outbox_msg *m), void *ud)
{
	sqlite3_stmt *st = stmt(s, all ? Q_OUTBOX_ALL : Q_OUTBOX_PENDING);
	struct outbox_msg m;
	int rc, r = 0;

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	for (;;) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW)
			break;
		r = outbox_from_row(st, &m);
		if (r == 0) {
			r = fn(ud, &m);
			outbox_msg_release(&m);
		}
		if (r != 0)
			break;
	}
	finish(st);
	if (r != 0)
		return r;
	return rc == SQLITE_DONE ? 0 : -EIO;
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

/* ---- provider cursor, worker state ---- */

static const char sql_cursor_get[] = "SELECT value FROM cursor WHERE provider = ?1";
int store_cursor_get(struct store *s, const char *provider, char *buf, size_t size)
{
	sqlite3_stmt *st = stmt(s, Q_CURSOR_GET);
	const char *v;
	int rc, r;

	if (bind_text(st, 1, provider))
		return fail(st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = (const char *)sqlite3_column_text(st, 0);
		/* a cut cursor would poll from the wrong place: say so */
		r = str_copy(buf, size, v ? v : "");
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	finish(st);
	return r;
}

static const char sql_cursor_set[] =
	"INSERT INTO cursor (provider, value, updated_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (provider) DO UPDATE SET value = excluded.value,"
	" updated_at = excluded.updated_at";
int store_cursor_set(struct store *s, const char *provider, const char *value, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_CURSOR_SET);

	if (!st)
		return -EROFS;
	if (bind_text(st, 1, provider) || bind_text(st, 2, value) || bind_int(st, 3, now))
		return fail(st);
	return run(st);
}

static const char sql_worker_last_set[] =
	"INSERT INTO worker_last (worker, ticket, updated_at) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (worker) DO UPDATE SET ticket = excluded.ticket,"
	" updated_at = excluded.updated_at";
int store_worker_last_set(struct store *s, const char *worker, int64_t ticket, int64_t now)
{
	sqlite3_stmt *st = stmt(s, Q_WORKER_LAST_SET);

	if (!st)
		return -EROFS;
	if (bind_text(st, 1, worker) || bind_int(st, 2, ticket) || bind_int(st, 3, now))
		return fail(st);
	return run(st);
}

static const char sql_worker_last_get[] = "SELECT ticket FROM worker_last WHERE worker = ?1";
int store_worker_last_get(struct store *s, const char *worker, int64_t *ret_ticket)
{
	sqlite3_stmt *st = stmt(s, Q_WORKER_LAST_GET);

	if (bind_text(st, 1, worker))
		return fail(st);
	return run_int(st, ret_ticket);
}

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

/* Step a grouped statement, calling row(st) per row; finishes st. */
static int stats_run(sqlite3_stmt *st, int (*row)(sqlite3_stmt *st, void *ctx), void *ctx)
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
	return stats_run(st, tickets_stats_row, &cb);
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
	return stats_run(st, span_row, &cb);
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
	return stats_run(st, texts_row, &cb);
}

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

/* ---- open and close ---- */

static const struct {
	const char *sql;
	bool write;   /* not prepared on a readonly store */
} queries[_Q_MAX] = {
	[Q_BEGIN] = { sql_begin, true },
	[Q_COMMIT] = { sql_commit, true },
	[Q_ROLLBACK] = { sql_rollback, true },
	[Q_SAVEPOINT] = { sql_savepoint, true },
	[Q_RELEASE] = { sql_release, true },
	[Q_ROLLBACK_TO] = { sql_rollback_to, true },
	[Q_VERSION] = { sql_version, false },
	[Q_INBOUND_ADD] = { sql_inbound_add, true },
	[Q_INBOUND_FIND] = { sql_inbound_find, false },
	[Q_INBOUND_SET_STATE] = { sql_inbound_set_state, true },
	[Q_INBOUND_COUNT] = { sql_inbound_count, false },
	[Q_RESIDENT_GET] = { sql_resident_get, false },
	[Q_RESIDENT_PUT] = { sql_resident_put, true },
	[Q_RESIDENT_OPT_OUT] = { sql_resident_opt_out, true },
	[Q_RESIDENTS_ALL] = { sql_residents_all, false },
	[Q_TICKET_ADD] = { sql_ticket_add, true },
	[Q_TICKET_GET] = { sql_ticket_get, false },
	[Q_TICKET_UPDATE] = { sql_ticket_update, true },
	[Q_TICKET_SET_CLOCK] = { sql_ticket_set_clock, true },
	[Q_TICKETS_DUE] = { sql_tickets_due, false },
	[Q_TICKETS_NEXT_CHECK] = { sql_tickets_next_check, false },
	[Q_TICKET_FIND_DUP] = { sql_ticket_find_dup, false },
	[Q_REPORTER_ADD] = { sql_reporter_add, true },
	[Q_REPORTERS] = { sql_reporters, false },
	[Q_OUTBOX_COUNT_TO] = { sql_outbox_count_to, false },
	[Q_OUTBOX_COUNT_SINCE] = { sql_outbox_count_since, false },
	[Q_OUTBOX_SUPPRESS] = { sql_outbox_suppress, true },
	[Q_GRID_DAY] = { sql_grid_day, false },
	[Q_TICKETS_BY_PHONE] = { sql_tickets_by_phone, false },
	[Q_TICKETS_BY_ASSIGNEE] = { sql_tickets_by_assignee, false },
	[Q_TICKETS_BY_GRID] = { sql_tickets_by_grid, false },
	[Q_TICKETS_BY_STATUS] = { sql_tickets_by_status, false },
	[Q_TICKETS_ALL] = { sql_tickets_all, false },
	[Q_TICKET_COUNT_OPEN] = { sql_ticket_count_open, false },
	[Q_EVENT_ADD] = { sql_event_add, true },
	[Q_EVENTS] = { sql_events, false },
	[Q_OUTBOX_ADD] = { sql_outbox_add, true },
	[Q_OUTBOX_DUE] = { sql_outbox_due, false },
	[Q_OUTBOX_NEXT_DUE] = { sql_outbox_next_due, false },
	[Q_OUTBOX_SENT] = { sql_outbox_sent, true },
	[Q_OUTBOX_RETRY] = { sql_outbox_retry, true },
	[Q_OUTBOX_FAILED] = { sql_outbox_failed, true },
	[Q_OUTBOX_ALL] = { sql_outbox_all, false },
	[Q_OUTBOX_PENDING] = { sql_outbox_pending, false },
	[Q_OUTBOX_COUNT_QUEUED] = { sql_outbox_count_queued, false },
	[Q_OUTBOX_CHECKS_DUE] = { sql_outbox_checks_due, false },
	[Q_OUTBOX_NEXT_CHECK] = { sql_outbox_next_check, false },
	[Q_OUTBOX_SET_NEXT] = { sql_outbox_set_next, true },
	[Q_OUTBOX_FINAL] = { sql_outbox_final, true },
	[Q_OUTBOX_EXPIRE] = { sql_outbox_expire, true },
	[Q_CURSOR_GET] = { sql_cursor_get, false },
	[Q_CURSOR_SET] = { sql_cursor_set, true },
	[Q_WORKER_LAST_GET] = { sql_worker_last_get, false },
	[Q_WORKER_LAST_SET] = { sql_worker_last_set, true },
	[Q_STATS_TICKETS] = { sql_stats_tickets, false },
	[Q_STATS_ACCEPT_SPANS] = { sql_stats_accept_spans, false },
	[Q_STATS_DONE_SPANS] = { sql_stats_done_spans, false },
	[Q_STATS_TEXTS] = { sql_stats_texts, false },
	[Q_TICKETS_CREATED] = { sql_tickets_created, false },
};

/* Set *ret_err (if asked) to a new message; returns r. */
static int open_error(char **ret_err, int r, const char *msg)
{
	if (ret_err)
		*ret_err = xstrdup(msg);
	return r;
}

static int read_version(sqlite3 *db, int *ret)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(db, sql_version, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

/* -EPROTO (and a message) when version v cannot be used by this code. */
static int check_version(int v, bool readonly, char **ret_err)
{
	char msg[160];

	if (v > STORE_SCHEMA_VERSION) {
		snprintf(msg, sizeof(msg),
			 "database schema version %d is newer than this gridline (knows %d)",
			 v, STORE_SCHEMA_VERSION);
		return open_error(ret_err, -EPROTO, msg);
	}
	if (readonly && v < STORE_SCHEMA_VERSION) {
		snprintf(msg, sizeof(msg),
			 "database schema version %d is older than this gridline (needs %d);"
			 " open it read-write (start gridlined) to migrate it",
			 v, STORE_SCHEMA_VERSION);
		return open_error(ret_err, -EPROTO, msg);
	}
	return 0;
}

/* Apply migrations[from..] and set user_version; inside the caller's transaction. */
static int migrate_steps(sqlite3 *db, int from)
{
	char sql[64];

	for (int v = from; v < STORE_SCHEMA_VERSION; v++)
		if (sqlite3_exec(db, migrations[v], NULL, NULL, NULL) != SQLITE_OK)
			return -EIO;
	/* PRAGMA takes no parameters; this is our own constant */
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -EIO;
}

/*
 * Migrate forward in one write transaction. The version is read again
 * inside it: another process may have migrated since we looked.
 */
static int migrate(sqlite3 *db, char **ret_err)
{
	int v = 0, r;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return open_error(ret_err, -EIO, sqlite3_errmsg(db));
	r = read_version(db, &v);
	if (r == 0)
		r = check_version(v, false, ret_err);
	else
		open_error(ret_err, r, sqlite3_errmsg(db));
	if (r == 0 && v < STORE_SCHEMA_VERSION) {
		r = migrate_steps(db, v);
		if (r < 0)
			open_error(ret_err, r, sqlite3_errmsg(db));
	}
	if (r == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		r = open_error(ret_err, -EIO, sqlite3_errmsg(db));
	if (r < 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

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

static int prepare_all(struct store *s)
{
	for (int i = 0; i < _Q_MAX; i++) {
		assert(queries[i].sql);
		if (s->readonly && queries[i].write)
			continue;
		if (sqlite3_prepare_v3(s->db, queries[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &s->q[i], NULL) != SQLITE_OK)
			return -EIO;
	}
	return 0;
}

/* Open, configure, check/migrate the schema and prepare; s->db set even on failure. */
static int store_setup(struct store *s, const char *path, char **ret_err)
{
	int flags = s->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	int v = 0, r;

	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK ||
	    configure(s->db, s->readonly) < 0 || read_version(s->db, &v) < 0)
		return open_error(ret_err, -EIO, s->db ? sqlite3_errmsg(s->db) : "out of memory");
	r = check_version(v, s->readonly, ret_err);
	if (r == 0 && !s->readonly && v < STORE_SCHEMA_VERSION)
		r = migrate(s->db, ret_err);
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
