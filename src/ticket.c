/*
 * ticket.c — ticket states, transitions and authority. Pure tables.
 */
#include <errno.h>
#include <string.h>

#include "ticket.h"
#include "util.h"

static const char *const status_names[_TS_MAX] = {
	[TS_NEW] = "new", [TS_ASSIGNED] = "assigned", [TS_ACCEPTED] = "accepted",
	[TS_DONE] = "done", [TS_CLOSED] = "closed", [TS_CANCELLED] = "cancelled",
};

static const char *const status_labels[_TS_MAX] = {
	[TS_NEW] = "待派单", [TS_ASSIGNED] = "已派单", [TS_ACCEPTED] = "处理中",
	[TS_DONE] = "已完成", [TS_CLOSED] = "已办结", [TS_CANCELLED] = "已取消",
};

static const char *const action_names[_TA_MAX] = {
	[TA_ASSIGN] = "assign", [TA_ACCEPT] = "accept", [TA_DONE] = "done",
	[TA_CANCEL] = "cancel", [TA_RATE_OK] = "rate", [TA_RATE_BAD] = "rate_reopen",
	[TA_CLOSE] = "close", [TA_REOPEN] = "reopen", [TA_DECLINE] = "decline",
	[TA_TRANSFER] = "transfer",
};

/* next[from][action]: the state after, or -1 when not allowed. */
#define NO (-1)
static const int next_state[_TS_MAX][_TA_MAX] = {
	[TS_NEW] = {
		[TA_ASSIGN] = TS_ASSIGNED, [TA_ACCEPT] = NO, [TA_DONE] = NO,
		[TA_CANCEL] = TS_CANCELLED, [TA_RATE_OK] = NO, [TA_RATE_BAD] = NO,
		[TA_CLOSE] = TS_CLOSED, [TA_REOPEN] = NO, [TA_DECLINE] = NO,
		[TA_TRANSFER] = TS_ASSIGNED,
	},
	[TS_ASSIGNED] = {
		[TA_ASSIGN] = TS_ASSIGNED, [TA_ACCEPT] = TS_ACCEPTED, [TA_DONE] = TS_DONE,
		[TA_CANCEL] = TS_CANCELLED, [TA_RATE_OK] = NO, [TA_RATE_BAD] = NO,
		[TA_CLOSE] = TS_CLOSED, [TA_REOPEN] = NO, [TA_DECLINE] = TS_NEW,
		[TA_TRANSFER] = TS_ASSIGNED,
	},
	[TS_ACCEPTED] = {
		[TA_ASSIGN] = TS_ASSIGNED, [TA_ACCEPT] = NO, [TA_DONE] = TS_DONE,
		[TA_CANCEL] = TS_CANCELLED, [TA_RATE_OK] = NO, [TA_RATE_BAD] = NO,
		[TA_CLOSE] = TS_CLOSED, [TA_REOPEN] = NO, [TA_DECLINE] = TS_NEW,
		[TA_TRANSFER] = TS_ASSIGNED,
	},
	[TS_DONE] = {
		[TA_ASSIGN] = NO, [TA_ACCEPT] = NO, [TA_DONE] = NO,
		[TA_CANCEL] = NO, [TA_RATE_OK] = TS_CLOSED, [TA_RATE_BAD] = TS_ASSIGNED,
		[TA_CLOSE] = TS_CLOSED, [TA_REOPEN] = TS_ASSIGNED, [TA_DECLINE] = NO,
		[TA_TRANSFER] = NO,
	},
	[TS_CLOSED] = {
		[TA_ASSIGN] = NO, [TA_ACCEPT] = NO, [TA_DONE] = NO,
		[TA_CANCEL] = NO, [TA_RATE_OK] = NO, [TA_RATE_BAD] = NO,
		[TA_CLOSE] = NO, [TA_REOPEN] = TS_ASSIGNED, [TA_DECLINE] = NO,
		[TA_TRANSFER] = NO,
	},
	[TS_CANCELLED] = {
		[TA_ASSIGN] = NO, [TA_ACCEPT] = NO, [TA_DONE] = NO,
		[TA_CANCEL] = NO, [TA_RATE_OK] = NO, [TA_RATE_BAD] = NO,
		[TA_CLOSE] = NO, [TA_REOPEN] = NO, [TA_DECLINE] = NO,
		[TA_TRANSFER] = NO,
	},
};

const char *ticket_status_name(enum ticket_status s)
{
	return (unsigned)s < _TS_MAX ? status_names[s] : "?";
}

int ticket_status_from_name(const char *name)
{
	for (int i = 0; i < _TS_MAX; i++)
		if (strcmp(status_names[i], name) == 0)
			return i;
	return -EINVAL;
}

const char *ticket_status_label(enum ticket_status s)
{
	return (unsigned)s < _TS_MAX ? status_labels[s] : "?";
}

const char *ticket_action_name(enum ticket_action a)
{
	return (unsigned)a < _TA_MAX ? action_names[a] : "?";
}

bool ticket_status_open(enum ticket_status s)
{
	return s == TS_NEW || s == TS_ASSIGNED || s == TS_ACCEPTED || s == TS_DONE;
}

int ticket_next(enum ticket_status from, enum ticket_action a, enum ticket_status *ret)
{
	int to;

	if ((unsigned)from >= _TS_MAX || (unsigned)a >= _TA_MAX)
		return -EINVAL;
	to = next_state[from][a];
	if (to == NO)
		return -EPERM;
	*ret = (enum ticket_status)to;
	return 0;
}

static bool same(const char *a, const char *b)
{
	return a && b && *a && strcmp(a, b) == 0;
}

static bool resident_action(enum ticket_action a)
{
	return a == TA_CANCEL || a == TA_RATE_OK || a == TA_RATE_BAD;
}

static bool worker_action(enum ticket_action a)
{
	return a == TA_ACCEPT || a == TA_DONE || a == TA_DECLINE || a == TA_TRANSFER;
}

static bool leads_grid(const struct actor *actor, const char *grid)
{
	for (size_t i = 0; i < actor->n_grids; i++)
		if (same(actor->grids[i], grid))
			return true;
	return false;
}

int ticket_authorize(const struct actor *actor, const struct ticket_ref *t, enum ticket_action a)
{
	switch (actor->kind) {
	case ACTOR_RESIDENT:
		return resident_action(a) && same(actor->phone, t->phone) ? 0 : -EACCES;
	case ACTOR_LEADER:
		if (!resident_action(a) && leads_grid(actor, t->grid))
			return 0;
		/* a leader is also a worker on their own tickets */
		__attribute__((fallthrough));
	case ACTOR_WORKER:
		return worker_action(a) && same(actor->worker, t->assignee) ? 0 : -EACCES;
	case ACTOR_OPERATOR:
	case ACTOR_SYSTEM:
		return resident_action(a) ? -EACCES : 0;
	}
	return -EACCES;
}
