/*
 * ticket.h — ticket states, the state machine and who may do what. Pure.
 *
 *   new ──assign──> assigned ──accept──> accepted ──done──> done ──rate 1/2, close──> closed
 *    │                 │  ^                  │                │
 *    │                 │  └──decline/transfer┘                └──rate 3 (重办), reopen──> assigned
 *    └──cancel──> cancelled <──cancel── (assigned, accepted)
 * A worker may also report done straight from assigned.
 */
#ifndef GRIDLINE_TICKET_H
#define GRIDLINE_TICKET_H

#include <stdbool.h>
#include <stdint.h>

enum ticket_status {
	TS_NEW,
	TS_ASSIGNED,
	TS_ACCEPTED,
	TS_DONE,
	TS_CLOSED,
	TS_CANCELLED,
	_TS_MAX,
};

enum ticket_action {
	TA_ASSIGN,    /* operator/leader or routing gives it an owner */
	TA_ACCEPT,    /* the assignee takes it */
	TA_DONE,      /* the assignee finished it */
	TA_CANCEL,    /* the resident withdraws it */
	TA_RATE_OK,   /* the resident rates 1 or 2: closes */
	TA_RATE_BAD,  /* the resident rates 3: reopened, same worker */
	TA_CLOSE,     /* an operator closes it */
	TA_REOPEN,    /* an operator reopens it */
	TA_DECLINE,   /* the assignee hands it back */
	TA_TRANSFER,  /* reassigned to another worker */
	_TA_MAX,
};

/* "new", "assigned", ... ; stable, stored in the database. */
const char *ticket_status_name(enum ticket_status s);
/* Returns the status, or -EINVAL for an unknown name. */
int ticket_status_from_name(const char *name);
/* Chinese display name for texts to residents: 待派单 已派单 处理中 已完成 已办结 已取消. */
const char *ticket_status_label(enum ticket_status s);
/* "assign", "accept", ... ; used as event names in the history. */
const char *ticket_action_name(enum ticket_action a);
/* Open = new, assigned or accepted (or done: awaiting the resident). */
bool ticket_status_open(enum ticket_status s);

/*
 * The state after applying a to a ticket in state from.
 * Returns 0 and *ret, or -EPERM when the action is not allowed in that
 * state (*ret untouched).
 */
int ticket_next(enum ticket_status from, enum ticket_action a, enum ticket_status *ret);

/* Who is acting. */
enum actor_kind { ACTOR_RESIDENT, ACTOR_WORKER, ACTOR_LEADER, ACTOR_OPERATOR, ACTOR_SYSTEM };

struct actor {
	enum actor_kind kind;
	const char *phone;       /* E.164 of the sender (residents, workers) */
	const char *worker;      /* worker id for WORKER/LEADER/OPERATOR */
	const char *const *grids; /* LEADER: ids of the grids they lead */
	size_t n_grids;
};

/* The facts about a ticket authority depends on. */
struct ticket_ref {
	enum ticket_status status;
	const char *phone;       /* the resident who reported it */
	const char *grid;        /* grid id or NULL */
	const char *assignee;    /* worker id or NULL */
};

/*
 * May actor do a to ticket t (state aside)? Residents: cancel and rate
 * their own tickets only. Workers: accept, done, decline, transfer tickets
 * assigned to them. Leaders: as workers, and any action but the
 * resident's on tickets of their grids. Operators and the system:
 * anything but the resident's actions (cancel, rate).
 * Returns 0, or -EACCES.
 */
int ticket_authorize(const struct actor *actor, const struct ticket_ref *t, enum ticket_action a);

#endif
