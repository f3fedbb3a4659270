/*
 * route.h — who owns a new ticket. Pure given the config and what the
 * register says about the sender.
 *
 * Grid: the resident register's grid (or the grid of the register
 * address), else the longest address pattern found in the text, else
 * none (the operators' queue). Assignee: the category's rule
 * (config.h, enum assign_rule); when the rule names nobody (no grid, no
 * worker with that role) the ticket goes to the operators' queue.
 */
#ifndef GRIDLINE_ROUTE_H
#define GRIDLINE_ROUTE_H

#include "config.h"

enum route_source { ROUTE_REGISTER, ROUTE_ADDRESS, ROUTE_NONE };

struct route {
	const struct grid *grid;        /* NULL: no grid known */
	const struct worker *assignee;  /* NULL: operators' queue */
	const struct worker *copy;      /* also notified (grid worker for vendor repairs), or NULL */
	const char *address;            /* matched pattern or register address, or NULL */
	enum route_source source;
};

/*
 * Route a ticket of category cat (NULL: unclassified, which always goes
 * to the operators' queue but still gets a grid when one is known).
 * reg_grid / reg_address: from the resident register, NULL or "" when
 * the sender is not registered. text: the normalised message text.
 */
void route_ticket(const struct config *c, const struct category *cat, const char *reg_grid,
		  const char *reg_address, const char *text, struct route *ret);

/*
 * The grid whose address pattern occurs in text (normalised here, ASCII
 * case ignored), the longest pattern winning; *ret_pattern (may be NULL)
 * gets the matched pattern. NULL text or no match: NULL.
 */
const struct grid *route_grid_by_address(const struct config *c, const char *text,
					 const char **ret_pattern);

const char *route_source_name(enum route_source s);

#endif
