/*
 * store_inbound.c — what arrives and who sends it: inbound messages
 * (unique by provider and provider id, so a re-poll is harmless), the
 * residents' register and opt-outs, the provider's poll cursor, and the
 * ticket each worker was last told about.
 */

#include "store_int.h"

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

/* Run the upsert q: ?1 the key, ?2 an integer value, ?3 now. */
static int upsert_int(struct store *s, enum query q, const char *key, int64_t v, int64_t now)
{
	sqlite3_stmt *st = stmt(s, q);

	if (!st)
		return -EROFS;
	if (bind_text(st, 1, key) || bind_int(st, 2, v) || bind_int(st, 3, now))
		return fail(st);
	return run(st);
}

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
	return upsert_int(s, Q_RESIDENT_OPT_OUT, phone, opted_out, now);
}

struct residents_cb {
	int (*fn)(void *ud, const struct resident *r);
	void *ud;
};

static int resident_row(sqlite3_stmt *st, void *ctx)
{
	struct residents_cb *cb = ctx;
	struct resident res = { 0 };

	col_str(st, 0, res.phone, sizeof(res.phone));
	col_str(st, 1, res.name, sizeof(res.name));
	col_str(st, 2, res.address, sizeof(res.address));
	col_str(st, 3, res.grid, sizeof(res.grid));
	res.opted_out = sqlite3_column_int(st, 4) != 0;
	return cb->fn(cb->ud, &res);
}

static const char sql_residents_all[] =
	"SELECT phone, name, address, grid, opted_out FROM residents ORDER BY phone";
int store_residents_each(struct store *s, int (*fn)(void *ud, const struct resident *r), void *ud)
{
	sqlite3_stmt *st = stmt(s, Q_RESIDENTS_ALL);
	struct residents_cb cb = { .fn = fn, .ud = ud };

	if (sqlite3_stmt_busy(st))
		return -EBUSY;
	return store_rows(st, resident_row, &cb);
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
	return upsert_int(s, Q_WORKER_LAST_SET, worker, ticket, now);
}

static const char sql_worker_last_get[] = "SELECT ticket FROM worker_last WHERE worker = ?1";
int store_worker_last_get(struct store *s, const char *worker, int64_t *ret_ticket)
{
	sqlite3_stmt *st = stmt(s, Q_WORKER_LAST_GET);

	if (bind_text(st, 1, worker))
		return fail(st);
	return run_int(st, ret_ticket);
}

const struct store_query store_inbound_queries[] = {
	{ Q_INBOUND_ADD, sql_inbound_add, true, false },
	{ Q_INBOUND_FIND, sql_inbound_find, false, false },
	{ Q_INBOUND_SET_STATE, sql_inbound_set_state, true, false },
	{ Q_INBOUND_COUNT, sql_inbound_count, false, true },
	{ Q_RESIDENT_GET, sql_resident_get, false, false },
	{ Q_RESIDENT_PUT, sql_resident_put, true, false },
	{ Q_RESIDENT_OPT_OUT, sql_resident_opt_out, true, false },
	{ Q_RESIDENTS_ALL, sql_residents_all, false, true },
	{ Q_CURSOR_GET, sql_cursor_get, false, false },
	{ Q_CURSOR_SET, sql_cursor_set, true, false },
	{ Q_WORKER_LAST_SET, sql_worker_last_set, true, false },
	{ Q_WORKER_LAST_GET, sql_worker_last_get, false, false },
	{ 0, NULL, false, false },
};
