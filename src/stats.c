/*
 * stats.c — the figures of gridlinectl stats. Three aggregate queries per
 * grouping (ticket counts, texts by status, and the spans for the
 * medians, read in sorted order so the median of each group is picked
 * out of its run of values) fill a report whose groups are found by key.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

struct gather {
	struct stats_report *rep;
	enum store_group g;
	/* the run of span values of the current key */
	char key[STORE_ID_MAX];
	int64_t *vals;
	size_t n, cap;
	enum store_span span;
};

double stats_median(const int64_t *sorted, size_t n)
{
	if (n % 2)
		return (double)sorted[n / 2];
	return ((double)sorted[n / 2 - 1] + (double)sorted[n / 2]) / 2.0;
}

int64_t stats_texts_total(const struct stats_figures *f)
{
	int64_t n = 0;

	for (size_t i = 0; i < STATS_N_STATUS; i++)
		n += f->texts[i];
	return n;
}

static void figures_init(struct stats_figures *f)
{
	*f = (struct stats_figures){ .median_accept_min = -1, .median_done_min = -1 };
}

/* The group list of g, and its length. */
static struct stats_group **groups_of(struct stats_report *r, enum store_group g, size_t **ret_n)
{
	*ret_n = g == STORE_GROUP_CATEGORY ? &r->n_category : &r->n_grid;
	return g == STORE_GROUP_CATEGORY ? &r->by_category : &r->by_grid;
}

/* The figures of key (a store key: "" is no grid) in grouping g, added when new. */
static struct stats_figures *figures(struct stats_report *r, enum store_group g, const char *key)
{
	struct stats_group **v, *grp;
	size_t *n;

	if (g == STORE_GROUP_ALL)
		return &r->all;
	if (g == STORE_GROUP_GRID && !*key)
		key = STATS_NO_GRID;
	v = groups_of(r, g, &n);
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0)
			return &(*v)[i].f;
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	grp = &(*v)[(*n)++];
	str_copy(grp->key, sizeof(grp->key), key);
	figures_init(&grp->f);
	return &grp->f;
}

static int on_tickets(void *ud, const char *key, const struct store_ticket_stats *st)
{
	struct gather *ga = ud;

	figures(ga->rep, ga->g, key ? key : "")->t = *st;
	return 0;
}

static int on_texts(void *ud, const char *key, enum outbox_status st, int64_t n, int64_t segs)
{
	struct gather *ga = ud;
	struct stats_figures *f = figures(ga->rep, ga->g, key ? key : "");

	if ((unsigned)st < STATS_N_STATUS)
		f->texts[st] += n;
	f->segments += segs;
	return 0;
}

/* The run of values of ga->key is complete: its median, in minutes. */
static void span_flush(struct gather *ga)
{
	struct stats_figures *f;
	double m;

	if (ga->n == 0)
		return;
	f = figures(ga->rep, ga->g, ga->key);
	m = stats_median(ga->vals, ga->n) / 60.0;
	if (ga->span == STORE_SPAN_ACCEPT)
		f->median_accept_min = m;
	else
		f->median_done_min = m;
	ga->n = 0;
}

static int on_span(void *ud, const char *key, int64_t seconds)
{
	struct gather *ga = ud;

	key = key ? key : "";
	if (ga->n && strcmp(key, ga->key) != 0)
		span_flush(ga);
	if (ga->n == 0)
		str_copy(ga->key, sizeof(ga->key), key);
	if (ga->n == ga->cap) {
		ga->cap = ga->cap ? 2 * ga->cap : 256;
		ga->vals = xrealloc(ga->vals, ga->cap * sizeof(*ga->vals));
	}
	ga->vals[ga->n++] = seconds;
	return 0;
}

/* Every figure of grouping g. */
static int gather_group(struct store *s, const struct store_period *p, struct gather *ga,
			enum store_group g)
{
	static const enum store_span spans[] = { STORE_SPAN_ACCEPT, STORE_SPAN_DONE };
	int r;

	ga->g = g;
	r = store_stats_tickets(s, p, g, on_tickets, ga);
	if (r == 0)
		r = store_stats_texts(s, p, g, on_texts, ga);
	for (size_t i = 0; r == 0 && i < ELEMENTSOF(spans); i++) {
		ga->span = spans[i];
		ga->n = 0;
		r = store_stats_spans(s, p, g, spans[i], on_span, ga);
		if (r == 0)
			span_flush(ga);
	}
	return r;
}

int stats_collect(struct store *s, const struct store_period *p,
		  const char *const *categories, size_t n_categories,
		  const char *const *grids, size_t n_grids, struct stats_report *ret)
{
	struct gather ga = { .rep = ret };
	int r;

	*ret = (struct stats_report){ 0 };
	figures_init(&ret->all);
	for (size_t i = 0; i < n_categories; i++)
		figures(ret, STORE_GROUP_CATEGORY, categories[i]);
	for (size_t i = 0; i < n_grids; i++)
		figures(ret, STORE_GROUP_GRID, grids[i]);
	r = gather_group(s, p, &ga, STORE_GROUP_ALL);
	if (r == 0)
		r = gather_group(s, p, &ga, STORE_GROUP_CATEGORY);
	if (r == 0)
		r = gather_group(s, p, &ga, STORE_GROUP_GRID);
	free(ga.vals);
	if (r < 0) {
		stats_report_release(ret);
		return r;
	}
	return 0;
}

void stats_report_release(struct stats_report *r)
{
	if (!r)
		return;
	free(r->by_category);
	free(r->by_grid);
	*r = (struct stats_report){ 0 };
}
