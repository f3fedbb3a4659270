/*
 * stats.h — the operators' figures for a period (gridlinectl stats): the
 * store's aggregates gathered into one report, overall, by category and
 * by grid, with the median spans computed here. Does not log.
 */
#ifndef GRIDLINE_STATS_H
#define GRIDLINE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define STATS_NO_GRID "none"      /* by_grid key of tickets without a grid */
#define STATS_N_STATUS (OB_UNKNOWN + 1)

/* Every figure of one group (docs/gridlinectl.8 says what each means). */
struct stats_figures {
	struct store_ticket_stats t;
	double median_accept_min;     /* minutes; < 0 when nothing was accepted */
	double median_done_min;       /* minutes; < 0 when nothing was done */
	int64_t texts[STATS_N_STATUS];/* texts created in the period, by enum outbox_status */
	int64_t segments;             /* segments of those handed to the provider */
};

struct stats_group {
	char key[STORE_ID_MAX];       /* category id, grid id or STATS_NO_GRID */
	struct stats_figures f;
};

struct stats_report {
	struct stats_figures all;
	/* owned; the groups named to stats_collect() first, in that order, then the others */
	struct stats_group *by_category;
	size_t n_category;
	struct stats_group *by_grid;      /* owned; likewise */
	size_t n_grid;
};

/*
 * Gather the report of period p. categories/grids (may be NULL) name
 * groups that appear even without a ticket (the configured ones); others
 * appear when the database has tickets for them. Returns 0 or the
 * store's negative error; *ret is zeroed first and released on error.
 */
int stats_collect(struct store *s, const struct store_period *p,
		  const char *const *categories, size_t n_categories,
		  const char *const *grids, size_t n_grids, struct stats_report *ret);
void stats_report_release(struct stats_report *r);

/* The median of n sorted values (the mean of the middle two when n is even); n > 0. */
double stats_median(const int64_t *sorted, size_t n);

/* Of the texts: all of them. */
int64_t stats_texts_total(const struct stats_figures *f);

#endif
