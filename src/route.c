/*
 * route.c — who owns a new ticket: register, then address in the text,
 * then the operators' queue; within a grid, the category's rule, falling
 * back to the grid worker, then the operators' queue. Pure.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "text.h"

const char *route_source_name(enum route_source s)
{
	switch (s) {
	case ROUTE_REGISTER: return "register";
	case ROUTE_ADDRESS: return "address";
	case ROUTE_NONE: return "none";
	}
	return "?";
}

static char ascii_upper(char ch)
{
	return ch >= 'a' && ch <= 'z' ? (char)(ch - 'a' + 'A') : ch;
}

/* Does needle occur in hay, ASCII case ignored? */
static bool contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay; hay++) {
		size_t i = 0;

		while (i < n && hay[i] && ascii_upper(hay[i]) == ascii_upper(needle[i]))
			i++;
		if (i == n)
			return true;
	}
	return false;
}

const struct grid *route_grid_by_address(const struct config *c, const char *text,
					 const char **ret_pattern)
{
	const struct grid *best = NULL;
	const char *pattern = NULL;
	size_t best_len = 0;
	char *norm;

	if (!text)
		return NULL;
	norm = text_normalize(text);
	for (size_t i = 0; i < c->n_grids; i++) {
		const struct grid *g = &c->grids[i];

		for (size_t j = 0; j < g->n_addresses; j++) {
			size_t len = strlen(g->addresses[j]);

			if (len > best_len && contains(norm, g->addresses[j])) {
				best = g;
				pattern = g->addresses[j];
				best_len = len;
			}
		}
	}
	free(norm);
	if (best && ret_pattern)
		*ret_pattern = pattern;
	return best;
}

/* The grid: register grid, the register address's grid, the text's address. */
static void route_grid(const struct config *c, const char *reg_grid, const char *reg_address,
		       const char *text, struct route *r)
{
	const char *pattern = NULL;

	if (reg_grid && *reg_grid && (r->grid = config_grid(c, reg_grid))) {
		r->source = ROUTE_REGISTER;
		r->address = reg_address && *reg_address ? reg_address : NULL;
		return;
	}
	if (reg_address && *reg_address &&
	    (r->grid = route_grid_by_address(c, reg_address, &pattern))) {
		r->source = ROUTE_REGISTER;
		r->address = reg_address;
		return;
	}
	if (text && (r->grid = route_grid_by_address(c, text, &pattern))) {
		r->source = ROUTE_ADDRESS;
		r->address = pattern;
		return;
	}
	r->source = ROUTE_NONE;
}

void route_ticket(const struct config *c, const struct category *cat, const char *reg_grid,
		  const char *reg_address, const char *text, struct route *ret)
{
	const struct worker *grid_worker = NULL;
	struct route r = { 0 };

	route_grid(c, reg_grid, reg_address, text, &r);
	if (r.grid && r.grid->worker)
		grid_worker = config_worker(c, r.grid->worker);

	if (!cat) {          /* unclassified: operators triage it */
		*ret = r;
		return;
	}
	switch (cat->assign) {
	case ASSIGN_GRID:
		r.assignee = grid_worker;
		break;
	case ASSIGN_WORKER:
		r.assignee = config_worker(c, cat->worker);
		break;
	case ASSIGN_ROLE:
		r.assignee = config_worker_by_role(c, cat->role);
		break;
	case ASSIGN_OPERATORS:
		break;
	}
	if (cat->assign != ASSIGN_OPERATORS && !r.assignee)
		r.assignee = grid_worker;   /* nobody by rule: the grid worker */
	if (cat->copy_grid && grid_worker && grid_worker != r.assignee)
		r.copy = grid_worker;
	*ret = r;
}
