/*
 * store_schema.c — the schema: the migrations, indexed by PRAGMA
 * user_version and applied forward in one transaction at open, and the
 * check that refuses a database newer than this code (or, for a readonly
 * open, older than it).
 */
#include <stdio.h>

#include "store_int.h"

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
	/*
	 * 2 -> 3: gridlinectl stats and export read a period's tickets
	 * through an index, not the whole table (years of history).
	 */
	"CREATE INDEX tickets_created ON tickets (created_at);\n",
};

static_assert(ELEMENTSOF(migrations) == STORE_SCHEMA_VERSION,
	      "one migration per schema version");

static const char sql_version[] = "PRAGMA user_version";
int store_schema_version(struct store *s)
{
	int64_t v = 0;
	int r = run_int(stmt(s, Q_VERSION), &v);

	return r < 0 ? r : (int)v;
}

const struct store_query store_schema_queries[] = {
	{ Q_VERSION, sql_version, false, false },
	{ 0, NULL, false, false },
};

/* user_version of db, read with a statement of its own (before prepare_all). */
int store_schema_read(sqlite3 *db, int *ret)
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
int store_schema_check(int v, bool readonly, char **ret_err)
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
int store_schema_migrate(sqlite3 *db, char **ret_err)
{
	int v = 0, r;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return open_error(ret_err, -EIO, sqlite3_errmsg(db));
	r = store_schema_read(db, &v);
	if (r == 0)
		r = store_schema_check(v, false, ret_err);
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
