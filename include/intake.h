/*
 * intake.h — what happens to one inbound message: store it, work out who
 * sent it and what they ask, create or move tickets, record every
 * transition in the history and queue every reply and notice in the
 * outbox. Runs inside the caller's transaction; never sends anything.
 */
#ifndef GRIDLINE_INTAKE_H
#define GRIDLINE_INTAKE_H

#include <stddef.h>
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

/*
 * The phone side of the hotline (gridlinectl ticket ...). Each of these
 * runs inside the caller's transaction (one per command: store_begin()
 * ... store_commit(), rolled back on any error), queues its texts in the
 * outbox for gridlined to send, and never sends anything itself.
 *
 * operator_id must be the id of a configured worker whose role is
 * "operator"; the history names the actor "operator:<id>". On a refusal
 * nothing has been written and err (errsize bytes, may be NULL) holds a
 * one-line reason for the operator, in English.
 */

/*
 * A request taken by phone: the same ticket, routing, notices and
 * acknowledgement text to the resident as an SMS "<category keyword>
 * <text>" from phone would get (see new_ticket in intake.c), recorded with
 * channel "phone" and a "created" event by operator:<operator_id>.
 * phone is normalised with the configuration's country_code; category is
 * a configured category id ("unclassified" is not one); text is the
 * request, valid UTF-8, not blank (cut to limits.max_body like an SMS).
 * Returns 0 and the new ticket id in *ret_id; -EINVAL (bad phone,
 * unknown category, blank or invalid text, operator_id not an operator),
 * or another negative errno from the store (*ret_id untouched).
 */
int intake_phone_ticket(struct intake *in, const char *phone, const char *category,
			const char *text, const char *operator_id, int64_t now, int64_t *ret_id,
			char *err, size_t errsize);

/* What an operator does to an existing ticket. */
enum intake_op {
	INTAKE_OP_ASSIGN,  /* arg: worker id; the new assignee gets the new-ticket notice,
			    * a previous other assignee the handed-over text */
	INTAKE_OP_CLOSE,   /* arg: note or NULL; nobody is texted */
	INTAKE_OP_REOPEN,  /* arg unused; the assignee gets the new-ticket notice again
			    * (no assignee: back to "new" and the operators' queue) */
	INTAKE_OP_NOTE,    /* arg: the note; an event, no change, nobody texted */
	_INTAKE_OP_MAX,
};

/*
 * Apply op to ticket `ticket` as operator operator_id: authority and
 * legality through ticket_authorize() / ticket_next() with an operator
 * actor, one store_ticket_update() (not for a note) and one history event
 * (events "assign", "close", "reopen", "note"; detail: the worker id, the
 * note), and the texts said above. Returns 0; -ENOENT no such ticket;
 * -EINVAL unknown worker, blank or invalid note, operator_id not an
 * operator; -EPERM the action is not allowed in the ticket's state
 * (closing a cancelled ticket); -EACCES refused by ticket_authorize(); or
 * another negative errno from the store.
 */
int intake_operator(struct intake *in, int64_t ticket, enum intake_op op, const char *arg,
		    const char *operator_id, int64_t now, char *err, size_t errsize);

#endif
