/*
 * intake.h — what happens to one inbound message: store it, work out who
 * sent it and what they ask, create or move tickets, record every
 * transition in the history and queue every reply and notice in the
 * outbox. Runs inside the caller's transaction; never sends anything.
 */
#ifndef GRIDLINE_INTAKE_H
#define GRIDLINE_INTAKE_H

#include <stdint.h>

#include "config.h"
#include "provider.h"
#include "store.h"

struct intake;

/* cfg and store are borrowed and must outlive the intake (or be swapped). */
struct intake *intake_new(const struct config *cfg, struct store *store);
void intake_free(struct intake *in);
/* Use a new config (after a reload): keyword sets rebuilt. */
void intake_set_config(struct intake *in, const struct config *cfg);

/*
 * Handle one message from provider `provider` inside an open transaction:
 * the inbound row is added (a duplicate provider id is a no-op returning
 * 0 with *ret_dup true) and then acted on under a savepoint; if acting
 * fails the savepoint is rolled back, the inbound row kept and marked bad
 * with the reason, and an error logged. Returns 0, or <0 only when the
 * message could not even be stored (the caller should roll back).
 */
int intake_message(struct intake *in, const char *provider, const struct provider_msg *m,
		   int64_t now, bool *ret_dup);

/*
 * The ticket clock, inside an open transaction: for every ticket whose
 * next_check is due at now, move the chase of its active deadline (accept,
 * or done once accepted) to the stage now calls for — 1 a reminder (催办)
 * to the assignee, 2 the grid leader told, 3 the operators told; each
 * once, each an event and a log line — and close done tickets whose 回访
 * went unanswered for workflow.rating_window (unrated). Returns the
 * number of tickets handled, or <0 on a store error.
 */
int intake_tick(struct intake *in, int64_t now);

/*
 * The grid leaders' daily text (workflow.daily_summary): when its time
 * of day has come and today's has not been sent, queue one text per grid
 * to its leader (yesterday's new tickets, what is waiting, in hand,
 * overdue) and remember the day. Inside an open transaction. Returns 1
 * when sent, 0 when not due, <0 on error.
 */
int intake_daily(struct intake *in, int64_t now);
/* When the next daily text is due (epoch seconds; may be <= now), or 0 when off. */
int64_t intake_daily_next(struct intake *in, int64_t now);

#endif
