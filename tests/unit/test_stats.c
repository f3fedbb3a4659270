/*
 * test_stats.c — the figures of gridlinectl stats against a real database
 * in a fresh temporary directory (never a mock): tickets, events and texts
 * written with the store's own functions, the report read back with
 * stats_collect() and checked figure by figure; and the median as a table.
 */
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

#include "stats.h"
#include "store.h"
#include "ticket.h"

#define T0 1795000000   /* a fixed "creation" time; the period is T0 .. T0 + DAY */
#define DAY 86400

struct fx {
	char dir[64];
	char path[128];
	struct store *s;
};

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char *err = NULL;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gridline-stats-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/gridline.db", f->dir);
	assert_int_equal(store_open(f->path, false, &f->s, &err), 0);
	assert_null(err);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	char p[256];

	store_close(f->s);
	snprintf(p, sizeof(p), "%s/gridline.db", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/gridline.db-wal", f->dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/gridline.db-shm", f->dir);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* One ticket as the daemon would leave it. */
struct spec {
	const char *category, *grid, *assignee;
	enum ticket_status status;
	int64_t created;        /* offset from T0 */
	int64_t assign_after;   /* seconds to the assign event; <0: none */
	int64_t accept_due, done_due, accepted_at, done_at, rate_asked_at; /* offsets, 0 none */
	int rating;
	int texts;              /* sent texts about it, 1 segment each, plus one queued */
};

static int64_t off(int64_t o)
{
	return o ? T0 + o : 0;
}

static int64_t add(struct store *s, const struct spec *sp)
{
	struct ticket t = { 0 };
	int64_t id = 0, ob;

	snprintf(t.category, sizeof(t.category), "%s", sp->category);
	snprintf(t.grid, sizeof(t.grid), "%s", sp->grid);
	snprintf(t.assignee, sizeof(t.assignee), "%s", sp->assignee);
	snprintf(t.phone, sizeof(t.phone), "+8613800000001");
	t.text = (char *)"x";
	t.status = sp->status;
	t.created_at = t.updated_at = T0 + sp->created;
	t.rating = sp->rating;
	t.clk = (struct ticket_clock){ .accept_due = off(sp->accept_due), .done_due = off(sp->done_due),
				       .accepted_at = off(sp->accepted_at), .done_at = off(sp->done_at),
				       .rate_asked_at = off(sp->rate_asked_at) };
	assert_int_equal(store_ticket_add(s, &t, &id), 0);
	assert_int_equal(store_event_add(s, id, t.created_at, "system", "created", NULL, "new",
					 NULL, 0), 0);
	if (sp->assign_after >= 0)
		assert_int_equal(store_event_add(s, id, t.created_at + sp->assign_after, "system",
						 "assign", "new", "assigned", NULL, 0), 0);
	for (int i = 0; i < sp->texts; i++) {
		assert_int_equal(store_outbox_add(s, "+8613800000001", "hi", id, 0, "ack", 1,
						  t.created_at, &ob), 0);
		assert_int_equal(store_outbox_mark_sent(s, ob, "p", t.created_at, t.created_at), 0);
	}
	if (sp->texts)
		assert_int_equal(store_outbox_add(s, "+8613800000001", "q", id, 0, "ack", 2,
						  t.created_at, NULL), 0);
	return id;
}

static const struct stats_group *group(const struct stats_group *g, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].key, key) == 0)
			return &g[i];
	fail_msg("no group %s", key);
	return NULL;
}

/*
 * Five tickets in the period, one before and one after it:
 *  A repair g1: owned at once, accepted in 10 min (due 30), done in 2 h
 *    (due 1 d), rated 1.
 *  B repair g2: owned, accepted late (40 min), done late, asked, rated 3,
 *    closed since.
 *  C errand g1: owned, accepted in 20 min, not done, done due at 1 h: overdue.
 *  D errand, no grid: assigned 5 s after creation (not within 1 s), never
 *    accepted, accept due 30 min: overdue; asked? no.
 *  E unclassified g2: nobody, accept due far ahead: not overdue; done at
 *    30 min, asked, never rated.
 */
static void test_stats_collect_figures(void **state)
{
	struct fx *f = *state;
	const struct spec specs[] = {
		{ "repair", "g1", "v01", TS_CLOSED, 0, 0, 1800, DAY, 600, 7200, 7200, 1, 2 },
		{ "repair", "g2", "v01", TS_CLOSED, 60, 0, 1860, 3600, 2460, 7260, 7260, 3, 1 },
		{ "errand", "g1", "w01", TS_ACCEPTED, 120, 1, 1920, 3720, 1320, 0, 0, 0, 0 },
		{ "errand", "", "w02", TS_ASSIGNED, 180, 5, 1980, 0, 0, 0, 0, 0, 0 },
		{ "unclassified", "g2", "", TS_DONE, 240, -1, 9 * DAY, 9 * DAY, 0, 2040, 2040, 0, 0 },
		{ "repair", "g1", "v01", TS_NEW, -10, 0, 1, 1, 0, 0, 0, 0, 1 },      /* before */
		{ "repair", "g1", "v01", TS_NEW, DAY, 0, 1, 1, 0, 0, 0, 2, 1 },      /* after */
	};
	const char *const cats[] = { "repair", "errand", "service" };
	const char *const grids[] = { "g1", "g2", "g3" };
	struct store_period p = { T0, T0 + DAY, T0 + 4 * 3600, 1 };
	struct stats_report rep;
	const struct stats_figures *a = &rep.all, *g;

	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++)
		add(f->s, &specs[i]);
	assert_int_equal(stats_collect(f->s, &p, cats, 3, grids, 3, &rep), 0);
	assert_int_equal(a->t.received, 5);
	assert_int_equal(a->t.owned, 3);
	assert_int_equal(a->t.accept_due, 5);
	assert_int_equal(a->t.accepted_on_time, 2);
	assert_int_equal(a->t.done_due, 4);
	assert_int_equal(a->t.done_on_time, 2);       /* A and E */
	assert_int_equal(a->t.overdue, 2);            /* C (done due 1 h) and D */
	assert_int_equal(a->t.rate_asked, 3);
	assert_int_equal(a->t.rated, 2);
	assert_int_equal(a->t.ratings[1], 1);
	assert_int_equal(a->t.ratings[2], 0);
	assert_int_equal(a->t.ratings[3], 1);
	/* accept spans 10, 40, 20 min: 20; done spans 120, 120, 30 min: 120 */
	assert_true(a->median_accept_min == 20.0);
	assert_true(a->median_done_min == 120.0);
	assert_int_equal(a->texts[OB_SENT], 3);
	assert_int_equal(a->texts[OB_QUEUED], 2);
	assert_int_equal(stats_texts_total(a), 5);
	assert_int_equal(a->segments, 3);             /* queued ones are not spent */

	/* configured groups first, in order, zeros included; then the rest */
	assert_int_equal(rep.n_category, 4);
	assert_string_equal(rep.by_category[2].key, "service");
	assert_int_equal(rep.by_category[2].f.t.received, 0);
	assert_true(rep.by_category[2].f.median_accept_min < 0);
	assert_string_equal(rep.by_category[3].key, "unclassified");
	g = &group(rep.by_category, rep.n_category, "repair")->f;
	assert_int_equal(g->t.received, 2);
	assert_true(g->median_accept_min == 25.0);    /* 10 and 40: the mean of the two */
	assert_int_equal(g->texts[OB_SENT], 3);
	assert_int_equal(rep.n_grid, 4);
	assert_string_equal(rep.by_grid[3].key, STATS_NO_GRID);
	g = &rep.by_grid[3].f;
	assert_int_equal(g->t.received, 1);
	assert_int_equal(g->t.overdue, 1);
	g = &group(rep.by_grid, rep.n_grid, "g2")->f;
	assert_int_equal(g->t.received, 2);
	assert_int_equal(g->t.rate_asked, 2);
	assert_int_equal(g->t.rated, 1);
	assert_true(g->median_done_min == (30.0 + 120.0) / 2);
	stats_report_release(&rep);
}

static void test_stats_empty_period(void **state)
{
	struct fx *f = *state;
	const struct spec sp = { "repair", "g1", "v01", TS_NEW, 0, 0, 1, 1, 0, 0, 0, 0, 1 };
	struct store_period p = { T0 + DAY, T0 + 2 * DAY, T0, 1 };
	struct stats_report rep;

	add(f->s, &sp);
	assert_int_equal(stats_collect(f->s, &p, NULL, 0, NULL, 0, &rep), 0);
	assert_int_equal(rep.all.t.received, 0);
	assert_int_equal(stats_texts_total(&rep.all), 0);
	assert_true(rep.all.median_done_min < 0);
	assert_int_equal(rep.n_category + rep.n_grid, 0);
	stats_report_release(&rep);
	stats_report_release(NULL);
}

static int count(void *ud, const struct ticket *t)
{
	(void)t;
	(*(int *)ud)++;
	return 0;
}

static void test_stats_tickets_created_bounds(void **state)
{
	struct fx *f = *state;
	const struct spec a = { "repair", "g1", "v01", TS_NEW, 0, 0, 1, 1, 0, 0, 0, 0, 0 };
	const struct spec b = { "repair", "g1", "v01", TS_NEW, DAY, 0, 1, 1, 0, 0, 0, 0, 0 };
	int n = 0;

	add(f->s, &a);
	add(f->s, &b);
	assert_int_equal(store_tickets_created(f->s, T0, T0 + DAY, count, &n), 0);
	assert_int_equal(n, 1);
	n = 0;
	assert_int_equal(store_tickets_created(f->s, T0, T0 + DAY + 1, count, &n), 0);
	assert_int_equal(n, 2);
}

static void test_stats_median_table(void **state)
{
	static const struct {
		int64_t v[6];
		size_t n;
		double want;
	} cases[] = {
		{ { 7 }, 1, 7 },
		{ { 1, 2 }, 2, 1.5 },
		{ { 1, 2, 9 }, 3, 2 },
		{ { 0, 0, 60, 61 }, 4, 30 },
		{ { -5, 0, 5, 10, 11, 100 }, 6, 7.5 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_true(stats_median(cases[i].v, cases[i].n) == cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stats_collect_figures, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stats_empty_period, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_stats_tickets_created_bounds, fx_setup,
						fx_teardown),
		cmocka_unit_test(test_stats_median_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
