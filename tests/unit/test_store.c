/*
 * test_store.c — the SQLite store against real database files in a fresh
 * temporary directory per test (never a mock). Raw sqlite3 is used only to
 * build databases the store must cope with (version 0, version 99) and to
 * check what the store wrote.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store.h"
#include "ticket.h"

struct fx {
	char dir[64];
	char path[128];
	struct store *s;
};

/* ---- fixture ---- */

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gridline-store-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/gridline.db", f->dir);
	*state = f;
	return 0;
}

/* A fixture with the store already open read-write. */
static int fx_setup_open(void **state)
{
	struct fx *f;
	char *err = NULL;

	fx_setup(state);
	f = *state;
	assert_int_equal(store_open(f->path, false, &f->s, &err), 0);
	assert_null(err);
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	struct dirent *de;
	char p[512];
	DIR *d;

	store_close(f->s);
	d = opendir(f->dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- raw sqlite3 helpers ---- */

/* Run sql on path with a separate connection; returns the sqlite3 result code. */
static int raw_exec(const char *path, const char *sql, char *msg, size_t size)
{
	sqlite3 *db;
	char *err = NULL;
	int rc;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	rc = sqlite3_exec(db, sql, NULL, NULL, &err);
	if (msg)
		snprintf(msg, size, "%s", err ? err : "");
	sqlite3_free(err);
	sqlite3_close(db);
	return rc;
}

/* The integer that sql returns (first column of the first row). */
static int64_t raw_int(const char *path, const char *sql)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static const char *const tables[] = {
	"inbound", "residents", "tickets", "ticket_events", "outbox", "cursor", "worker_last",
};

static void assert_schema_v1(const char *path)
{
	char sql[128];

	assert_int_equal(raw_int(path, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		snprintf(sql, sizeof(sql),
			 "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '%s'",
			 tables[i]);
		assert_int_equal(raw_int(path, sql), 1);
	}
}

/* ---- data helpers ---- */

static int64_t add_ticket(struct store *s, const char *cat, enum ticket_status st,
			  const char *grid, const char *assignee, const char *phone, int64_t at)
{
	struct ticket t = {
		.status = st,
		.text = "下水管堵了",
		.created_at = at,
		.updated_at = at,
	};
	int64_t id = 0;

	snprintf(t.category, sizeof(t.category), "%s", cat);
	snprintf(t.grid, sizeof(t.grid), "%s", grid);
	snprintf(t.assignee, sizeof(t.assignee), "%s", assignee);
	snprintf(t.phone, sizeof(t.phone), "%s", phone);
	assert_int_equal(store_ticket_add(s, &t, &id), 0);
	return id;
}

/* Collects ids from the *_each callbacks. */
struct ids {
	int64_t v[32];
	size_t n;
	size_t stop_after;   /* return 7 after this many (0: never) */
	struct store *s;     /* for the re-entrancy test */
	int inner;
};

static int collect_ticket(void *ud, const struct ticket *t)
{
	struct ids *c = ud;

	assert_true(c->n < 32);
	c->v[c->n++] = t->id;
	return c->stop_after && c->n == c->stop_after ? 7 : 0;
}

static int collect_msg(void *ud, const struct outbox_msg *m)
{
	struct ids *c = ud;

	assert_true(c->n < 32);
	c->v[c->n++] = m->id;
	return 0;
}

static void assert_ids(const struct ids *c, const int64_t *want, size_t n)
{
	assert_int_equal(c->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(c->v[i], want[i]);
}

/* ---- open, versions, migration ---- */

static void test_open_fresh(void **state)
{
	struct fx *f = *state;

	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_schema_v1(f->path);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 2);
	assert_int_equal(raw_int(f->path, "SELECT seq FROM sqlite_sequence WHERE name = 'tickets'"),
			 1000);
	/* WAL is persistent: a fresh connection sees it */
	assert_int_equal(raw_int(f->path, "SELECT journal_mode = 'wal' FROM pragma_journal_mode"), 1);
}

static void test_reopen_idempotent(void **state)
{
	struct fx *f = *state;
	int64_t id;

	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	id = add_ticket(f->s, "repair", TS_NEW, "g1", "", "+8613800000001", 100);
	assert_int_equal(id, 1001);
	store_close(f->s);
	f->s = NULL;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
		assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
		store_close(f->s);
		f->s = NULL;
	}
	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	assert_int_equal(add_ticket(f->s, "repair", TS_NEW, "", "", "+8613800000002", 101), 1002);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM tickets"), 2);
	assert_schema_v1(f->path);
}

static void test_newer_schema_refused(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char *err = NULL, want[32];

	assert_int_equal(raw_exec(f->path, "CREATE TABLE x (a); PRAGMA user_version = 99;", NULL, 0),
			 SQLITE_OK);
	assert_int_equal(store_open(f->path, false, &s, &err), -EPROTO);
	assert_null(s);
	assert_non_null(err);
	assert_non_null(strstr(err, "version 99 is newer"));
	snprintf(want, sizeof(want), "knows %d", STORE_SCHEMA_VERSION);
	assert_non_null(strstr(err, want));
	free(err);
	err = NULL;
	assert_int_equal(store_open(f->path, true, &s, &err), -EPROTO);
	assert_null(s);
	assert_non_null(strstr(err, "99"));
	free(err);
	/* refused, not touched */
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 99);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'tickets'"), 0);
}

static void test_readonly_missing(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char *err = NULL;

	assert_int_equal(store_open(f->path, true, &s, &err), -ENOENT);
	assert_null(s);
	assert_non_null(err);
	free(err);
	assert_int_equal(access(f->path, F_OK), -1); /* not created */
	assert_int_equal(store_open(f->path, true, &s, NULL), -ENOENT);
}

static void test_readonly_reads(void **state)
{
	struct fx *f = *state;
	struct ticket t = { .status = TS_NEW };
	struct ids c = { 0 };
	int64_t n = -1;

	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	add_ticket(f->s, "repair", TS_NEW, "g1", "", "+8613800000001", 100);
	store_close(f->s);
	f->s = NULL;

	assert_int_equal(store_open(f->path, true, &f->s, NULL), 0);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_ticket_get(f->s, 1001, &t), 0);
	assert_string_equal(t.grid, "g1");
	ticket_release(&t);
	assert_int_equal(store_tickets_each(f->s, NULL, collect_ticket, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(store_ticket_count_open(f->s, &n), 0);
	assert_int_equal(n, 1);
	/* writes are refused before reaching SQLite */
	assert_int_equal(store_begin(f->s), -EROFS);
	assert_int_equal(store_ticket_add(f->s, &t, NULL), -EROFS);
	assert_int_equal(store_cursor_set(f->s, "spool", "x", 1), -EROFS);
}

static void test_readonly_old_schema_refused(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char *err = NULL;

	assert_int_equal(raw_exec(f->path, "PRAGMA user_version = 0; CREATE TABLE x (a);", NULL, 0),
			 SQLITE_OK);
	assert_int_equal(store_open(f->path, true, &s, &err), -EPROTO);
	assert_null(s);
	assert_non_null(strstr(err, "older"));
	free(err);
	assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 0);
}

static void test_migrate_from_v0(void **state)
{
	struct fx *f = *state;
	sqlite3 *db;

	/* an empty database file, as sqlite3 leaves it: version 0, no tables */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 0;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(access(f->path, F_OK), 0);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"), 0);

	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_schema_v1(f->path);
	assert_int_equal(add_ticket(f->s, "repair", TS_NEW, "", "", "+8613800000001", 1), 1001);
}

static void test_not_a_database(void **state)
{
	struct fx *f = *state;
	struct store *s = NULL;
	char *err = NULL;
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	fputs("this is not an SQLite database, just some text that is long enough\n", fp);
	fclose(fp);
	assert_int_equal(store_open(f->path, false, &s, &err), -EIO);
	assert_null(s);
	assert_non_null(err);
	free(err);
}

/* ---- inbound ---- */

static void test_inbound_dedupe(void **state)
{
	static const struct {
		const char *provider, *pid;
		bool dup;
		int same_as;   /* index of the earlier row it must equal, -1: new */
	} steps[] = {
		{ "spool", "a1", false, -1 },
		{ "spool", "a1", true, 0 },       /* re-poll */
		{ "twilio", "a1", false, -1 },    /* same id, other provider */
		{ "spool", "a2", false, -1 },
		{ "twilio", "a1", true, 2 },
		{ "spool", "a1", true, 0 },
	};
	struct fx *f = *state;
	int64_t ids[6], n = 0;
	bool dup;

	for (size_t i = 0; i < 6; i++) {
		dup = !steps[i].dup;
		assert_int_equal(store_inbound_add(f->s, steps[i].provider, steps[i].pid,
						   "+8613800000001", "报修 漏水", 10, 11, &ids[i], &dup), 0);
		assert_int_equal(dup, steps[i].dup);
		if (steps[i].same_as >= 0)
			assert_int_equal(ids[i], ids[steps[i].same_as]);
		for (size_t j = 0; steps[i].same_as < 0 && j < i; j++)
			assert_int_not_equal(ids[i], ids[j]);
	}
	assert_int_equal(store_inbound_count(f->s, &n), 0);
	assert_int_equal(n, 3);
	/* a message without a sender is stored too */
	assert_int_equal(store_inbound_add(f->s, "spool", "nosender", NULL, "hi", 1, 1, NULL, NULL), 0);
	assert_int_equal(store_inbound_add(f->s, "spool", NULL, NULL, "hi", 1, 1, NULL, NULL), -EINVAL);
}

static void test_inbound_state(void **state)
{
	struct fx *f = *state;
	int64_t id;
	bool dup;
	char sql[128];

	assert_int_equal(store_inbound_add(f->s, "spool", "x", "+86138", "b", 1, 2, &id, &dup), 0);
	snprintf(sql, sizeof(sql), "SELECT state = 'new' FROM inbound WHERE id = %lld", (long long)id);
	assert_int_equal(raw_int(f->path, sql), 1);
	assert_int_equal(store_inbound_set_state(f->s, id, IN_BAD, "no sender"), 0);
	snprintf(sql, sizeof(sql),
		 "SELECT state = 'bad' AND error = 'no sender' FROM inbound WHERE id = %lld",
		 (long long)id);
	assert_int_equal(raw_int(f->path, sql), 1);
	assert_int_equal(store_inbound_set_state(f->s, id, IN_PROCESSED, NULL), 0);
	snprintf(sql, sizeof(sql),
		 "SELECT state = 'processed' AND error IS NULL FROM inbound WHERE id = %lld",
		 (long long)id);
	assert_int_equal(raw_int(f->path, sql), 1);
	assert_int_equal(store_inbound_set_state(f->s, id + 100, IN_BAD, NULL), -ENOENT);
}

/* ---- residents ---- */

static void test_resident(void **state)
{
	struct fx *f = *state;
	struct resident r = { .phone = "+8613800000001", .name = "王大爷",
			      .address = "寇庄西路6号院3单元", .grid = "g2" };
	struct resident got;

	assert_int_equal(store_resident_get(f->s, r.phone, &got), -ENOENT);
	assert_int_equal(store_resident_put(f->s, &r, 10), 0);
	assert_int_equal(store_resident_get(f->s, r.phone, &got), 0);
	assert_string_equal(got.name, "王大爷");
	assert_string_equal(got.address, "寇庄西路6号院3单元");
	assert_string_equal(got.grid, "g2");
	assert_false(got.opted_out);

	assert_int_equal(store_resident_set_opt_out(f->s, r.phone, true, 11), 0);
	/* re-import: new details, opt-out kept */
	snprintf(r.name, sizeof(r.name), "王建国");
	r.grid[0] = '\0';
	r.opted_out = false;
	assert_int_equal(store_resident_put(f->s, &r, 12), 0);
	assert_int_equal(store_resident_get(f->s, r.phone, &got), 0);
	assert_string_equal(got.name, "王建国");
	assert_string_equal(got.grid, "");
	assert_true(got.opted_out);
	assert_int_equal(raw_int(f->path, "SELECT grid IS NULL FROM residents"), 1);

	assert_int_equal(store_resident_set_opt_out(f->s, r.phone, false, 13), 0);
	assert_int_equal(store_resident_get(f->s, r.phone, &got), 0);
	assert_false(got.opted_out);

	/* an unregistered sender can opt out */
	assert_int_equal(store_resident_set_opt_out(f->s, "+8613800000009", true, 14), 0);
	assert_int_equal(store_resident_get(f->s, "+8613800000009", &got), 0);
	assert_true(got.opted_out);
	assert_string_equal(got.name, "");
	assert_string_equal(got.grid, "");
}

/* ---- tickets ---- */

static void test_ticket_add_get_update(void **state)
{
	struct fx *f = *state;
	struct ticket t = {
		.category = "repair", .status = TS_NEW, .grid = "g1", .phone = "+8613800000001",
		.text = "报修 寇庄西路6号院 下水管堵了", .address = "寇庄西路6号院",
		.created_at = 1000, .updated_at = 1000,
	};
	struct ticket got;
	int64_t id = 0, in_id, n;
	bool dup;

	assert_int_equal(store_inbound_add(f->s, "spool", "m1", t.phone, t.text, 1, 1, &in_id, &dup), 0);
	t.inbound_id = in_id;
	assert_int_equal(store_ticket_add(f->s, &t, &id), 0);
	assert_int_equal(id, 1001);
	assert_int_equal(store_ticket_get(f->s, id, &got), 0);
	assert_int_equal(got.id, 1001);
	assert_string_equal(got.category, "repair");
	assert_int_equal(got.status, TS_NEW);
	assert_string_equal(got.grid, "g1");
	assert_string_equal(got.assignee, "");
	assert_string_equal(got.phone, "+8613800000001");
	assert_string_equal(got.text, t.text);
	assert_string_equal(got.address, "寇庄西路6号院");
	assert_string_equal(got.channel, "sms");   /* "" defaults to sms */
	assert_int_equal(got.inbound_id, in_id);
	assert_int_equal(got.created_at, 1000);
	assert_int_equal(got.rating, 0);
	ticket_release(&got);
	assert_null(got.text);

	snprintf(t.channel, sizeof(t.channel), "phone");
	t.inbound_id = 0;
	t.grid[0] = '\0';
	assert_int_equal(store_ticket_add(f->s, &t, &id), 0);
	assert_int_equal(id, 1002);
	assert_int_equal(store_ticket_get(f->s, 1002, &got), 0);
	assert_string_equal(got.channel, "phone");
	assert_string_equal(got.grid, "");
	assert_int_equal(got.inbound_id, 0);
	ticket_release(&got);
	assert_int_equal(raw_int(f->path, "SELECT grid IS NULL AND inbound_id IS NULL FROM tickets"
				 " WHERE id = 1002"), 1);

	assert_int_equal(store_ticket_update(f->s, 1001, TS_ASSIGNED, "w01", -1, 2000), 0);
	assert_int_equal(store_ticket_get(f->s, 1001, &got), 0);
	assert_int_equal(got.status, TS_ASSIGNED);
	assert_string_equal(got.assignee, "w01");
	assert_int_equal(got.rating, 0);
	assert_int_equal(got.updated_at, 2000);
	assert_int_equal(got.created_at, 1000);
	ticket_release(&got);

	assert_int_equal(store_ticket_update(f->s, 1001, TS_CLOSED, NULL, 2, 3000), 0);
	assert_int_equal(store_ticket_update(f->s, 1001, TS_CLOSED, "", -1, 3001), 0);
	assert_int_equal(store_ticket_get(f->s, 1001, &got), 0);
	assert_int_equal(got.status, TS_CLOSED);
	assert_string_equal(got.assignee, "");
	assert_int_equal(got.rating, 2);  /* -1 kept it */
	ticket_release(&got);

	assert_int_equal(store_ticket_get(f->s, 999, &got), -ENOENT);
	assert_int_equal(store_ticket_update(f->s, 999, TS_DONE, NULL, -1, 1), -ENOENT);
	assert_int_equal(store_ticket_count_open(f->s, &n), 0);
	assert_int_equal(n, 1);  /* 1002 new; 1001 closed */
}

/* Six tickets, one per status, for the filter table. */
static void seed_tickets(struct store *s)
{
	assert_int_equal(add_ticket(s, "repair", TS_NEW, "g1", "", "+861", 1), 1001);
	assert_int_equal(add_ticket(s, "errand", TS_ASSIGNED, "g1", "w01", "+862", 2), 1002);
	assert_int_equal(add_ticket(s, "repair", TS_ACCEPTED, "g2", "w02", "+861", 3), 1003);
	assert_int_equal(add_ticket(s, "service", TS_DONE, "g2", "w02", "+863", 4), 1004);
	assert_int_equal(add_ticket(s, "repair", TS_CLOSED, "g1", "w01", "+861", 5), 1005);
	assert_int_equal(add_ticket(s, "repair", TS_CANCELLED, "", "", "+862", 6), 1006);
}

static void test_tickets_each_filters(void **state)
{
	static const struct {
		struct ticket_filter f;
		int64_t want[6];
		size_t n;
	} cases[] = {
		{ { 0 }, { 1006, 1005, 1004, 1003, 1002, 1001 }, 6 },
		{ { .status = "" , .grid = "", .phone = "" }, { 1006, 1005, 1004, 1003, 1002, 1001 }, 6 },
		{ { .status = "new" }, { 1001 }, 1 },
		{ { .status = "closed" }, { 1005 }, 1 },
		{ { .status = "open" }, { 1004, 1003, 1002, 1001 }, 4 },
		{ { .grid = "g1" }, { 1005, 1002, 1001 }, 3 },
		{ { .grid = "g1", .status = "open" }, { 1002, 1001 }, 2 },
		{ { .grid = "g9" }, { 0 }, 0 },
		{ { .phone = "+861" }, { 1005, 1003, 1001 }, 3 },
		{ { .phone = "+861", .status = "open" }, { 1003, 1001 }, 2 },
		{ { .phone = "+862", .grid = "g1" }, { 1002 }, 1 },
		{ { .phone = "+861", .limit = 1 }, { 1005 }, 1 },
		{ { .assignee = "w02" }, { 1004, 1003 }, 2 },
		{ { .assignee = "w01", .status = "closed" }, { 1005 }, 1 },
		{ { .assignee = "w01", .grid = "g2" }, { 0 }, 0 },
		{ { .limit = 2 }, { 1006, 1005 }, 2 },
		{ { .status = "open", .limit = 3 }, { 1004, 1003, 1002 }, 3 },
	};
	struct fx *f = *state;

	seed_tickets(f->s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ids c = { 0 };

		assert_int_equal(store_tickets_each(f->s, &cases[i].f, collect_ticket, &c), 0);
		assert_ids(&c, cases[i].want, cases[i].n);
	}
}

static int reenter(void *ud, const struct ticket *t)
{
	struct ids *c = ud;
	struct ids inner = { 0 };
	struct ticket got;

	/* other statements are fine inside a callback; the same iteration is not */
	assert_int_equal(store_ticket_get(c->s, t->id, &got), 0);
	ticket_release(&got);
	c->inner = store_tickets_each(c->s, NULL, collect_ticket, &inner);
	return collect_ticket(ud, t);
}

static void test_tickets_each_stop_and_errors(void **state)
{
	struct fx *f = *state;
	struct ticket_filter bad = { .status = "bogus" };
	struct ids c = { .stop_after = 2 };
	struct ids r = { .s = f->s };

	seed_tickets(f->s);
	assert_int_equal(store_tickets_each(f->s, NULL, collect_ticket, &c), 7);
	assert_int_equal(c.n, 2);
	/* the statement was reset: a new iteration starts from the top */
	c = (struct ids){ 0 };
	assert_int_equal(store_tickets_each(f->s, NULL, collect_ticket, &c), 0);
	assert_int_equal(c.n, 6);
	assert_int_equal(store_tickets_each(f->s, &bad, collect_ticket, &c), -EINVAL);
	assert_int_equal(store_tickets_each(f->s, NULL, reenter, &r), 0);
	assert_int_equal(r.n, 6);
	assert_int_equal(r.inner, -EBUSY);
}

/* ---- history ---- */

struct ev_log {
	struct ticket_event e[8];
	char detail[8][64];
	size_t n;
};

static int collect_event(void *ud, const struct ticket_event *e)
{
	struct ev_log *l = ud;

	assert_true(l->n < 8);
	l->e[l->n] = *e;
	l->e[l->n].detail = NULL;
	snprintf(l->detail[l->n], sizeof(l->detail[0]), "%s", e->detail ? e->detail : "(null)");
	l->n++;
	return 0;
}

static void test_events(void **state)
{
	struct fx *f = *state;
	struct ev_log l = { 0 };
	char msg[256];
	int64_t id = add_ticket(f->s, "repair", TS_NEW, "g1", "", "+861", 1);
	int64_t in_id;
	bool dup;

	add_ticket(f->s, "repair", TS_NEW, "g1", "", "+862", 1);
	assert_int_equal(store_inbound_add(f->s, "spool", "m", "+861", "x", 1, 1, &in_id, &dup), 0);
	assert_int_equal(store_event_add(f->s, id, 10, "resident:+861", "created", NULL, "new",
					 "下水管堵了", in_id), 0);
	assert_int_equal(store_event_add(f->s, 1002, 11, "system", "created", "", "new", NULL, 0), 0);
	assert_int_equal(store_event_add(f->s, id, 12, "system", "assign", "new", "assigned",
					 NULL, 0), 0);
	assert_int_equal(store_event_add(f->s, id, 13, "w01", "accept", "assigned", "accepted",
					 "on my way", 0), 0);
	assert_int_equal(store_events_each(f->s, id, collect_event, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.e[0].event, "created");
	assert_string_equal(l.e[0].actor, "resident:+861");
	assert_string_equal(l.e[0].from_status, "");
	assert_string_equal(l.e[0].to_status, "new");
	assert_string_equal(l.detail[0], "下水管堵了");
	assert_int_equal(l.e[0].inbound_id, in_id);
	assert_int_equal(l.e[0].ticket, id);
	assert_string_equal(l.e[1].event, "assign");
	assert_string_equal(l.detail[1], "(null)");
	assert_int_equal(l.e[1].inbound_id, 0);
	assert_int_equal(l.e[2].at, 13);
	assert_true(l.e[0].id < l.e[1].id && l.e[1].id < l.e[2].id);

	/* append-only, even for someone with raw SQL */
	assert_int_equal(raw_exec(f->path, "UPDATE ticket_events SET detail = 'x'", msg, sizeof(msg)),
			 SQLITE_CONSTRAINT);
	assert_non_null(strstr(msg, "append-only"));
	assert_int_equal(raw_exec(f->path, "DELETE FROM ticket_events", msg, sizeof(msg)),
			 SQLITE_CONSTRAINT);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM ticket_events"), 4);

	/* constraints reported through store_errmsg() */
	assert_int_equal(store_event_add(f->s, id, 14, "x", "y", "new", "bogus", NULL, 0), -EIO);
	assert_non_null(strstr(store_errmsg(f->s), "CHECK constraint failed"));
	assert_int_equal(store_event_add(f->s, 4242, 14, "x", "y", NULL, "new", NULL, 0), -EIO);
	assert_non_null(strstr(store_errmsg(f->s), "FOREIGN KEY"));
}

/* ---- outbox ---- */

/* A v1 database keeps its tickets; they get an empty clock (no deadlines). */
static void test_migrate_v1_to_v2(void **state)
{
	struct fx *f = *state;
	struct ticket t;

	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	assert_int_equal(add_ticket(f->s, "repair", TS_NEW, "", "", "+8613800000001", 5), 1001);
	store_close(f->s);
	f->s = NULL;
	/* back to what version 1 looked like */
	assert_int_equal(raw_exec(f->path,
				  "DROP INDEX tickets_created;"
				  "DROP INDEX tickets_next_check;"
				  "DROP INDEX tickets_address;"
				  "DROP TABLE ticket_reporters;"
				  "DROP INDEX outbox_recipient;"
				  "DROP INDEX outbox_created;"
				  "ALTER TABLE tickets DROP COLUMN urgent;"
				  "ALTER TABLE tickets DROP COLUMN accept_due;"
				  "ALTER TABLE tickets DROP COLUMN done_due;"
				  "ALTER TABLE tickets DROP COLUMN stage;"
				  "ALTER TABLE tickets DROP COLUMN next_check;"
				  "ALTER TABLE tickets DROP COLUMN accepted_at;"
				  "ALTER TABLE tickets DROP COLUMN done_at;"
				  "ALTER TABLE tickets DROP COLUMN rate_asked_at;"
				  "PRAGMA user_version = 1;", NULL, 0), 0);
	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
	assert_int_equal(store_ticket_get(f->s, 1001, &t), 0);
	assert_string_equal(t.text, "下水管堵了");
	assert_false(t.clk.urgent);
	assert_int_equal(t.clk.accept_due + t.clk.done_due + t.clk.next_check + t.clk.stage, 0);
	ticket_release(&t);
}

/* A v2 database gets the index stats and export read a period through. */
static void test_migrate_v2_to_v3(void **state)
{
	struct fx *f = *state;
	static const char has_index[] =
		"SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'tickets_created'";

	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw_exec(f->path, "DROP INDEX tickets_created; PRAGMA user_version = 2;",
				  NULL, 0), 0);
	assert_int_equal(raw_int(f->path, has_index), 0);
	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	assert_int_equal(store_schema_version(f->s), 3);
	assert_int_equal(raw_int(f->path, has_index), 1);
}

struct plans {
	int n;
	char last[512];
};

static void note_plan(void *ud, const char *sql, const char *detail)
{
	struct plans *p = ud;

	p->n++;
	snprintf(p->last, sizeof(p->last), "%s: %s", detail, sql);
	print_message("whole-table read: %s\n", p->last);
}

/*
 * No statement of the daemon's reads a whole table (issue 10: cost must
 * not grow with the history); the listings marked as allowed do, and
 * without the partial index the clock's min(next_check) would.
 */
static void test_plans_read_no_whole_table(void **state)
{
	struct fx *f = *state;
	struct plans p = { 0 };

	assert_int_equal(store_plan_check(f->s, false, note_plan, &p), 0);
	assert_int_equal(p.n, 0);
	assert_true(store_plan_check(f->s, true, note_plan, &p) >= 4);  /* the listings */
	p.n = 0;
	store_close(f->s);
	assert_int_equal(raw_exec(f->path, "DROP INDEX tickets_next_check;", NULL, 0), 0);
	assert_int_equal(store_open(f->path, false, &f->s, NULL), 0);
	assert_int_equal(store_plan_check(f->s, false, note_plan, &p), 2);  /* the due list and min(next_check) */
	assert_non_null(strstr(p.last, "min(next_check)"));
}

static int collect_due(void *ud, const struct ticket *t)
{
	struct ids *c = ud;
	struct ticket_clock k = t->clk;

	assert_true(c->n < 32);
	c->v[c->n++] = t->id;
	k.next_check = 0;        /* handled: not due any more */
	return store_ticket_set_clock(c->s, t->id, &k);
}

/* The clock is saved and read back; due tickets come earliest first. */
static void test_ticket_clock(void **state)
{
	struct fx *f = *state;
	struct ticket_clock k = { .urgent = true, .accept_due = 1800, .done_due = 7200, .stage = 1,
				  .next_check = 1350, .accepted_at = 0, .done_at = 0,
				  .rate_asked_at = 0 };
	struct ids c = { .s = f->s };
	struct ticket t;
	int64_t a = add_ticket(f->s, "repair", TS_NEW, "", "", "+8613800000001", 0);
	int64_t b = add_ticket(f->s, "errand", TS_NEW, "", "", "+8613800000002", 0);
	int64_t at;

	assert_int_equal(store_tickets_next_check(f->s, &at), -ENOENT);
	assert_int_equal(store_ticket_set_clock(f->s, a, &k), 0);
	k.urgent = false;
	k.next_check = 900;
	k.accepted_at = 600;
	assert_int_equal(store_ticket_set_clock(f->s, b, &k), 0);
	assert_int_equal(store_ticket_set_clock(f->s, 9999, &k), -ENOENT);
	assert_int_equal(store_ticket_get(f->s, a, &t), 0);
	assert_true(t.clk.urgent);
	assert_int_equal(t.clk.accept_due, 1800);
	assert_int_equal(t.clk.done_due, 7200);
	assert_int_equal(t.clk.stage, 1);
	assert_int_equal(t.clk.next_check, 1350);
	assert_int_equal(t.clk.accepted_at, 0);
	ticket_release(&t);
	assert_int_equal(store_tickets_next_check(f->s, &at), 0);
	assert_int_equal(at, 900);
	assert_int_equal(store_tickets_due(f->s, 899, 0, collect_due, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(store_tickets_due(f->s, 2000, 0, collect_due, &c), 0);
	assert_ids(&c, (int64_t[]){ b, a }, 2);
	assert_int_equal(store_tickets_next_check(f->s, &at), -ENOENT);
}

static void test_outbox(void **state)
{
	struct fx *f = *state;
	struct ids c = { 0 };
	int64_t a, b, d, at, n, t = add_ticket(f->s, "repair", TS_NEW, "", "", "+861", 1);
	char sql[256];

	assert_int_equal(store_outbox_next_due(f->s, &at), -ENOENT);
	assert_int_equal(store_outbox_add(f->s, "+861", "已收到", t, 0, "ack", 1, 1000, &a), 0);
	assert_int_equal(store_outbox_add(f->s, "+862", "通知", t, 0, "notify", 2, 1000, &b), 0);
	assert_int_equal(store_outbox_add(f->s, "+863", "帮助", 0, 0, "help", 1, 1000, &d), 0);
	assert_int_equal(store_outbox_add(f->s, "+864", "x", 0, 0, "help", 1, 1000, NULL), 0);
	assert_int_equal(store_outbox_count_queued(f->s, &n), 0);
	assert_int_equal(n, 4);

	/* b retried later, d failed for good */
	assert_int_equal(store_outbox_mark_retry(f->s, b, 1100, "503 busy"), 0);
	assert_int_equal(store_outbox_mark_failed(f->s, d, "21211 invalid number", 1001), 0);
	assert_int_equal(store_outbox_next_due(f->s, &at), 0);
	assert_int_equal(at, 1000);
	assert_int_equal(store_outbox_due(f->s, 999, INT64_MAX, 10, collect_msg, &c), 0);
	assert_int_equal(c.n, 0);  /* nothing due before 1000 */
	assert_int_equal(store_outbox_due(f->s, 1000, INT64_MAX, 10, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ a, a + 3 }, 2);
	c.n = 0;
	assert_int_equal(store_outbox_due(f->s, 1000, INT64_MAX, 1, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ a }, 1);

	assert_int_equal(store_outbox_mark_sent(f->s, a, "SM123", 1002, 1010), 0);
	assert_int_equal(store_outbox_mark_sent(f->s, a + 3, NULL, 1002, 1010), 0);
	assert_int_equal(store_outbox_next_due(f->s, &at), 0);
	assert_int_equal(at, 1100);
	c.n = 0;
	assert_int_equal(store_outbox_due(f->s, 1099, INT64_MAX, 0, collect_msg, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(store_outbox_due(f->s, 1100, INT64_MAX, 0, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ b }, 1);
	assert_int_equal(store_outbox_count_queued(f->s, &n), 0);
	assert_int_equal(n, 1);

	c.n = 0;
	assert_int_equal(store_outbox_each(f->s, false, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ d, b }, 2);
	c.n = 0;
	assert_int_equal(store_outbox_each(f->s, true, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ a + 3, d, b, a }, 4);

	snprintf(sql, sizeof(sql),
		 "SELECT status = 'sent' AND attempts = 1 AND provider_id = 'SM123' AND sent_at = 1002"
		 " AND error IS NULL FROM outbox WHERE id = %lld", (long long)a);
	assert_int_equal(raw_int(f->path, sql), 1);
	assert_int_equal(store_outbox_mark_sent(f->s, 9999, "x", 1, 2), -ENOENT);
	assert_int_equal(store_outbox_mark_retry(f->s, 9999, 1, "x"), -ENOENT);
	assert_int_equal(store_outbox_mark_failed(f->s, 9999, "x", 1), -ENOENT);
}

/*
 * --once: rows tried in this run (attempts > 0, next_attempt after the
 * run's start) are left out by the query itself, so that under a limit
 * they never take the place of an untried row queued behind them.
 */
static void test_outbox_due_once(void **state)
{
	struct fx *f = *state;
	struct ids c = { 0 };
	int64_t tried, early, fresh;

	assert_int_equal(store_outbox_add(f->s, "+861", "a", 0, 0, "ack", 1, 1000, &tried), 0);
	assert_int_equal(store_outbox_add(f->s, "+862", "b", 0, 0, "ack", 1, 1000, &early), 0);
	assert_int_equal(store_outbox_add(f->s, "+863", "c", 0, 0, "ack", 1, 1003, &fresh), 0);
	/* the run started at 1000: tried failed and is due again at 1002;
	   early was tried in an earlier run and is due since 999 */
	assert_int_equal(store_outbox_mark_retry(f->s, tried, 1002, "500"), 0);
	assert_int_equal(store_outbox_mark_retry(f->s, early, 999, "500"), 0);
	assert_int_equal(store_outbox_due(f->s, 1005, 1000, 2, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ early, fresh }, 2);
	c.n = 0;
	assert_int_equal(store_outbox_due(f->s, 1005, 1000, 1, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ early }, 1);
	c.n = 0;
	/* outside --once nothing is left out */
	assert_int_equal(store_outbox_due(f->s, 1005, INT64_MAX, 3, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ early, tried, fresh }, 3);
}

static int check_fields(void *ud, const struct outbox_msg *m)
{
	struct ids *c = ud;

	if (m->id == c->v[0]) {
		assert_string_equal(m->recipient, "+862");
		assert_string_equal(m->body, "通知");
		assert_string_equal(m->kind, "notify");
		assert_int_equal(m->status, OB_QUEUED);
		assert_int_equal(m->attempts, 1);
		assert_int_equal(m->next_attempt, 1100);
		assert_int_equal(m->created_at, 1000);
		assert_int_equal(m->sent_at, 0);
		assert_string_equal(m->error, "503 busy");
		assert_string_equal(m->provider_id, "");
		assert_int_equal(m->segments, 2);
		assert_int_equal(m->inbound_id, c->v[1]);
		c->n++;
	} else {
		assert_int_equal(m->status, OB_FAILED);
		assert_string_equal(m->provider_id, "");
		assert_string_equal(m->error, "gone");
		assert_int_equal(m->attempts, 1);
	}
	return 0;
}

/* Marks every row it is handed, as the outbox does. */
static int mark_each(void *ud, const struct outbox_msg *m)
{
	struct ids *c = ud;

	assert_int_equal(store_outbox_mark_retry(c->s, m->id, 0, "again"), 0);
	return collect_msg(ud, m);
}

/* Delivery status: sent rows are checked when due, then end final or unknown. */
static void test_outbox_delivery(void **state)
{
	struct fx *f = *state;
	struct ids c = { 0 };
	int64_t a, b, d, at, n = -1;
	char sql[160];

	assert_int_equal(store_outbox_add(f->s, "+861", "a", 0, 0, "ack", 1, 1000, &a), 0);
	assert_int_equal(store_outbox_add(f->s, "+862", "b", 0, 0, "ack", 1, 1000, &b), 0);
	assert_int_equal(store_outbox_add(f->s, "+863", "d", 0, 0, "ack", 1, 1000, &d), 0);
	assert_int_equal(store_outbox_next_check(f->s, &at), -ENOENT);   /* nothing sent */
	assert_int_equal(store_outbox_mark_sent(f->s, a, "SM1", 1001, 1005), 0);
	assert_int_equal(store_outbox_mark_sent(f->s, b, "SM2", 1002, 1003), 0);
	assert_int_equal(store_outbox_mark_sent(f->s, d, NULL, 1002, 1004), 0);
	assert_int_equal(store_outbox_next_check(f->s, &at), 0);
	assert_int_equal(at, 1003);
	/* a sent row is not due for sending again */
	assert_int_equal(store_outbox_next_due(f->s, &at), -ENOENT);
	assert_int_equal(store_outbox_checks_due(f->s, 1002, 0, collect_msg, &c), 0);
	assert_int_equal(c.n, 0);
	assert_int_equal(store_outbox_checks_due(f->s, 1004, 0, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ b, d }, 2);              /* earliest check first */
	c.n = 0;
	assert_int_equal(store_outbox_checks_due(f->s, 1004, 1, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ b }, 1);

	/* pending: checked again later */
	assert_int_equal(store_outbox_mark_check(f->s, b, 1010), 0);
	assert_int_equal(store_outbox_next_check(f->s, &at), 0);
	assert_int_equal(at, 1004);
	/* final answers; a final row is never checked or finalised again */
	assert_int_equal(store_outbox_mark_final(f->s, a, OB_DELIVERED, NULL, 1006), 0);
	assert_int_equal(store_outbox_mark_final(f->s, d, OB_FAILED, "30003 Unreachable handset",
						 1006), 0);
	assert_int_equal(store_outbox_mark_final(f->s, a, OB_FAILED, "late", 1007), -ENOENT);
	assert_int_equal(store_outbox_mark_check(f->s, a, 1020), -ENOENT);
	assert_int_equal(store_outbox_mark_final(f->s, b, OB_QUEUED, NULL, 1007), -EINVAL);
	snprintf(sql, sizeof(sql), "SELECT status = 'failed' AND error = '30003 Unreachable handset'"
		 " AND updated_at = 1006 FROM outbox WHERE id = %lld", (long long)d);
	assert_int_equal(raw_int(f->path, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT status = 'delivered' AND error IS NULL"
		 " FROM outbox WHERE id = %lld", (long long)a);
	assert_int_equal(raw_int(f->path, sql), 1);
	c.n = 0;
	assert_int_equal(store_outbox_checks_due(f->s, 2000, 0, collect_msg, &c), 0);
	assert_ids(&c, (int64_t[]){ b }, 1);

	/* no final status in time: unknown; only rows sent at or before the bound */
	assert_int_equal(store_outbox_expire(f->s, 1001, "no status", 3000, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_outbox_expire(f->s, 1002, "no status", 3000, &n), 0);
	assert_int_equal(n, 1);
	snprintf(sql, sizeof(sql), "SELECT status = 'unknown' AND error = 'no status'"
		 " FROM outbox WHERE id = %lld", (long long)b);
	assert_int_equal(raw_int(f->path, sql), 1);
	assert_int_equal(store_outbox_next_check(f->s, &at), -ENOENT);
}

static void test_outbox_fields_and_marking(void **state)
{
	struct fx *f = *state;
	struct ids c = { .s = f->s };
	int64_t b, g, in_id;
	char sql[256];
	bool dup;

	assert_int_equal(store_inbound_add(f->s, "spool", "m", "+862", "x", 1, 1, &in_id, &dup), 0);
	assert_int_equal(store_outbox_add(f->s, "+862", "通知", 0, in_id, "notify", 2, 1000, &b), 0);
	assert_int_equal(store_outbox_add(f->s, "+863", "x", 0, 0, "ack", 1, 1000, &g), 0);
	assert_int_equal(store_outbox_mark_retry(f->s, b, 1100, "503 busy"), 0);
	assert_int_equal(store_outbox_mark_failed(f->s, g, "gone", 1001), 0);
	c.v[0] = b;
	c.v[1] = in_id;
	assert_int_equal(store_outbox_each(f->s, false, check_fields, &c), 0);
	assert_int_equal(c.n, 1);
	/* sent after a retry: the transient error is no longer the row's error */
	assert_int_equal(store_outbox_mark_sent(f->s, b, "SM9", 1200, 1210), 0);
	snprintf(sql, sizeof(sql),
		 "SELECT status = 'sent' AND attempts = 2 AND error IS NULL AND provider_id = 'SM9'"
		 " FROM outbox WHERE id = %lld", (long long)b);
	assert_int_equal(raw_int(f->path, sql), 1);

	/* rows marked from the callback (back to due at once) are seen once each */
	for (int i = 0; i < 5; i++)
		assert_int_equal(store_outbox_add(f->s, "+86", "y", 0, 0, "ack", 1, 0, NULL), 0);
	c = (struct ids){ .s = f->s };
	assert_int_equal(store_outbox_due(f->s, 2000, INT64_MAX, 0, mark_each, &c), 0);
	assert_int_equal(c.n, 5);
	for (size_t i = 1; i < c.n; i++)
		assert_true(c.v[i] > c.v[i - 1]);  /* oldest first, none twice */
}

/* ---- cursor, worker_last ---- */

static void test_cursor(void **state)
{
	struct fx *f = *state;
	char buf[64], small[4];

	assert_int_equal(store_cursor_get(f->s, "spool", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(store_cursor_set(f->s, "spool", "2024-05-01T10:00:00Z", 1), 0);
	assert_int_equal(store_cursor_get(f->s, "spool", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2024-05-01T10:00:00Z");
	assert_int_equal(store_cursor_set(f->s, "spool", "abc", 2), 0);
	assert_int_equal(store_cursor_set(f->s, "twilio", "PAGE2", 2), 0);
	assert_int_equal(store_cursor_get(f->s, "spool", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(store_cursor_get(f->s, "twilio", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "PAGE2");
	assert_int_equal(store_cursor_get(f->s, "twilio", small, sizeof(small)), -ENAMETOOLONG);
	assert_string_equal(small, "PAG");
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM cursor"), 2);
}

static void test_worker_last(void **state)
{
	struct fx *f = *state;
	int64_t t;

	seed_tickets(f->s);
	assert_int_equal(store_worker_last_get(f->s, "w01", &t), -ENOENT);
	assert_int_equal(store_worker_last_set(f->s, "w01", 1002, 1), 0);
	assert_int_equal(store_worker_last_set(f->s, "w02", 1003, 1), 0);
	assert_int_equal(store_worker_last_get(f->s, "w01", &t), 0);
	assert_int_equal(t, 1002);
	assert_int_equal(store_worker_last_set(f->s, "w01", 1005, 2), 0);
	assert_int_equal(store_worker_last_get(f->s, "w01", &t), 0);
	assert_int_equal(t, 1005);
	assert_int_equal(store_worker_last_get(f->s, "w02", &t), 0);
	assert_int_equal(t, 1003);
	/* only real tickets */
	assert_int_equal(store_worker_last_set(f->s, "w03", 4242, 1), -EIO);
}

/* ---- transactions ---- */

static void test_savepoint_rollback(void **state)
{
	struct fx *f = *state;
	struct ticket t;
	int64_t in1, in2, t1, t2, n;
	bool dup;

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_inbound_add(f->s, "spool", "m1", "+861", "a", 1, 1, &in1, &dup), 0);
	assert_int_equal(store_savepoint(f->s), 0);
	t1 = add_ticket(f->s, "repair", TS_NEW, "", "", "+861", 1);
	assert_int_equal(store_event_add(f->s, t1, 1, "system", "created", NULL, "new", NULL, in1), 0);
	assert_int_equal(store_outbox_add(f->s, "+861", "ok", t1, in1, "ack", 1, 1, NULL), 0);
	assert_int_equal(store_release(f->s), 0);

	assert_int_equal(store_inbound_add(f->s, "spool", "m2", "+862", "b", 1, 1, &in2, &dup), 0);
	assert_int_equal(store_savepoint(f->s), 0);
	t2 = add_ticket(f->s, "repair", TS_NEW, "", "", "+862", 1);
	assert_int_equal(store_outbox_add(f->s, "+862", "ok", t2, in2, "ack", 1, 1, NULL), 0);
	/* a failing statement inside leaves the transaction usable */
	assert_int_equal(store_event_add(f->s, t2, 1, "system", "created", NULL, "bogus", NULL, 0),
			 -EIO);
	assert_int_equal(store_rollback_to(f->s), 0);
	/* ... and released: no savepoint left inside the still-open transaction */
	assert_int_equal(store_release(f->s), -EIO);
	assert_non_null(strstr(store_errmsg(f->s), "no such savepoint"));
	assert_int_equal(store_inbound_set_state(f->s, in2, IN_BAD, "failed"), 0);
	assert_int_equal(store_commit(f->s), 0);

	assert_int_equal(store_inbound_count(f->s, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(store_ticket_get(f->s, t1, &t), 0);
	ticket_release(&t);
	assert_int_equal(store_ticket_get(f->s, t2, &t), -ENOENT);
	assert_int_equal(store_outbox_count_queued(f->s, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM ticket_events"), 1);
	assert_int_equal(raw_int(f->path, "SELECT count(*) FROM inbound WHERE state = 'bad'"), 1);
	assert_int_equal(store_commit(f->s), -EIO);  /* the transaction is over */
}

static void test_rollback(void **state)
{
	struct fx *f = *state;
	int64_t n;

	assert_int_equal(store_begin(f->s), 0);
	add_ticket(f->s, "repair", TS_NEW, "", "", "+861", 1);
	assert_int_equal(store_rollback(f->s), 0);
	assert_int_equal(store_ticket_count_open(f->s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_commit(f->s), -EIO);  /* no transaction */
	/* the id is not burnt by the rolled-back insert */
	assert_int_equal(add_ticket(f->s, "repair", TS_NEW, "", "", "+861", 1), 1001);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_fresh, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_reopen_idempotent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_readonly_missing, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_readonly_reads, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_readonly_old_schema_refused, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v0, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v1_to_v2, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ticket_clock, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_not_a_database, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_inbound_dedupe, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_inbound_state, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_resident, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ticket_add_get_update, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tickets_each_filters, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_tickets_each_stop_and_errors, fx_setup_open,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_events, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outbox, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_due_once, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_delivery, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_outbox_fields_and_marking, fx_setup_open,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_cursor, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_worker_last, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_savepoint_rollback, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rollback, fx_setup_open, fx_teardown),
		cmocka_unit_test_setup_teardown(test_migrate_v2_to_v3, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_plans_read_no_whole_table, fx_setup_open,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
