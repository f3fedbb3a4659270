/*
 * store.h — the only module that speaks SQL. Owns the SQLite connection,
 * the schema and its migrations (PRAGMA user_version), and one prepared
 * statement per query, prepared once at open.
 *
 * Connection: WAL, synchronous=NORMAL, foreign_keys=ON, busy_timeout 5 s.
 * Writers wrap their work in store_begin() (BEGIN IMMEDIATE) ...
 * store_commit(); the daemon commits a batch of inbound messages, their
 * effects and their outbox rows together, with a savepoint per message so
 * one failing message does not undo the others.
 *
 * Times are epoch seconds (util_now()). Strings returned in structs are
 * copies owned by the struct (release with the matching *_release()).
 * All functions return 0 or a negative errno-style code (-EIO for an
 * SQLite error, whose message is in store_errmsg()) and do not log.
 *
 * One module over several files that share src/store_int.h, one file per
 * section below: store.c (open, transactions), store_schema.c (schema,
 * migrations), store_inbound.c (inbound messages, residents, provider
 * cursor, worker state), store_ticket.c (tickets, history),
 * store_outbox.c (outbox) and store_stats.c (statistics; but
 * store_tickets_created(), which reads whole tickets, is in store_ticket.c).
 */
#ifndef GRIDLINE_STORE_H
#define GRIDLINE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ticket.h"

#define STORE_SCHEMA_VERSION 3
#define STORE_ID_MAX 64          /* config ids and phone numbers fit */

struct store;

/*
 * Open (creating if absent) the database at path and migrate it forward
 * to STORE_SCHEMA_VERSION in one transaction. Refuses (-EPROTO, message in
 * *ret_err if non-NULL, caller frees) a database whose user_version is
 * newer than this code knows. readonly opens without creating/migrating
 * (for tools that only read; -ENOENT when absent).
 */
int store_open(const char *path, bool readonly, struct store **ret, char **ret_err);
void store_close(struct store *s); /* finalizes every statement; NULL fine */
const char *store_errmsg(struct store *s);
/* user_version of the open database. */
int store_schema_version(struct store *s);
/*
 * Check every statement's query plan for reads of a whole table (a SCAN,
 * or a SEARCH through no index), calling fn with the SQL and the plan's
 * line for each. The statements of gridlinectl's listings and statistics
 * are marked as allowed to and left out unless all. The number found
 * (0: the daemon's work never reads all of a table), or <0.
 */
typedef void (*store_plan_fn)(void *ud, const char *sql, const char *detail);
int store_plan_check(struct store *s, bool all, store_plan_fn fn, void *ud);

int store_begin(struct store *s);      /* BEGIN IMMEDIATE */
int store_commit(struct store *s);
int store_rollback(struct store *s);
int store_savepoint(struct store *s);  /* SAVEPOINT msg */
int store_release(struct store *s);    /* RELEASE msg */
int store_rollback_to(struct store *s);/* ROLLBACK TO msg; RELEASE msg */

/* ---- inbound messages ---- */

enum inbound_state { IN_NEW, IN_PROCESSED, IN_BAD };

/*
 * Record an inbound message. (provider, provider_id) is unique: if it is
 * already stored, nothing changes, *ret_dup = true and *ret_id is the
 * existing row. sender may be NULL (a message without a sender); body is
 * stored verbatim (valid UTF-8 or not is the caller's business — callers
 * pass the UTF-8-fixed text).
 */
int store_inbound_add(struct store *s, const char *provider, const char *provider_id,
		      const char *sender, const char *body, int64_t received_at, int64_t now,
		      int64_t *ret_id, bool *ret_dup);
/* Set state and error (NULL for none). */
int store_inbound_set_state(struct store *s, int64_t id, enum inbound_state st, const char *error);
/* Count inbound rows (all states). */
int store_inbound_count(struct store *s, int64_t *ret);

/* ---- residents ---- */

struct resident {
	char phone[STORE_ID_MAX];
	char name[128];
	char address[256];
	char grid[STORE_ID_MAX];   /* "" when none */
	bool opted_out;
};

/* -ENOENT when the phone is not in the register. */
int store_resident_get(struct store *s, const char *phone, struct resident *ret);
/* Insert or replace by phone (opted_out preserved on replace). */
int store_resident_put(struct store *s, const struct resident *r, int64_t now);
int store_resident_set_opt_out(struct store *s, const char *phone, bool opted_out, int64_t now);
/*
 * Call fn for every resident in the register, ordered by phone. The
 * resident passed is valid only during the call; a non-zero return from
 * fn stops and is returned. (For gridlinectl residents.)
 */
int store_residents_each(struct store *s, int (*fn)(void *ud, const struct resident *r), void *ud);

/* ---- tickets ---- */

/*
 * A ticket's clock (epoch seconds; 0 = none): its deadlines, how far the
 * chasing of the active one has gone, and when anything is next due.
 */
struct ticket_clock {
	bool urgent;                  /* an urgent word in the text: short limits */
	int64_t accept_due;           /* to be accepted by */
	int64_t done_due;             /* to be done by */
	int stage;                    /* of the active deadline: 0, 1 reminded, 2 leader, 3 operators */
	int64_t next_check;           /* the next reminder, escalation or 回访 timeout */
	int64_t accepted_at;
	int64_t done_at;
	int64_t rate_asked_at;        /* the resident was asked to rate (once per ticket) */
};

struct ticket {
	int64_t id;
	char category[STORE_ID_MAX];
	enum ticket_status status;
	char grid[STORE_ID_MAX];      /* "" when none */
	char assignee[STORE_ID_MAX];  /* "" when none */
	char phone[STORE_ID_MAX];     /* reporter, E.164 */
	char *text;                   /* the resident's description (owned) */
	char address[256];            /* matched address pattern or register address, "" */
	char channel[16];             /* "sms" or "phone" */
	int64_t inbound_id;           /* 0 when none */
	int64_t created_at;
	int64_t updated_at;
	int rating;                   /* 0 unrated, 1..3 */
	struct ticket_clock clk;
};
void ticket_release(struct ticket *t);

/*
 * Insert t (id ignored; ticket ids start at 1001). created_at/updated_at
 * taken from t. Returns the new id in *ret_id.
 */
int store_ticket_add(struct store *s, const struct ticket *t, int64_t *ret_id);
/* -ENOENT if there is no such ticket. Caller releases *ret. */
int store_ticket_get(struct store *s, int64_t id, struct ticket *ret);
/* Set status, assignee ("" or NULL for none), rating (<0 keeps it), updated_at. */
int store_ticket_update(struct store *s, int64_t id, enum ticket_status st,
			const char *assignee, int rating, int64_t now);

/* Save t's clock; -ENOENT if there is no such ticket. */
int store_ticket_set_clock(struct store *s, int64_t id, const struct ticket_clock *c);
/*
 * Tickets whose next_check is at or before now, earliest first, at most
 * limit (0: all); same contract as store_tickets_each() (fn may change
 * the ticket's clock).
 */
int store_tickets_due(struct store *s, int64_t now, size_t limit,
		      int (*fn)(void *ud, const struct ticket *t), void *ud);
/* The earliest next_check; -ENOENT when no ticket has one. */
int store_tickets_next_check(struct store *s, int64_t *ret_at);

/*
 * The newest open ticket (new, assigned, accepted) of category at address
 * created at or after since; -ENOENT when none.
 */
int store_ticket_find_dup(struct store *s, const char *category, const char *address,
			  int64_t since, int64_t *ret_id);
/* One grid's day, for the leaders' daily text. */
struct grid_day {
	int64_t received;   /* tickets created in [since, until) */
	int64_t waiting;    /* open, not accepted yet */
	int64_t in_hand;    /* accepted, not done */
	int64_t overdue;    /* waiting or in hand, past the deadline in force at now */
};
int store_grid_day(struct store *s, const char *grid, int64_t since, int64_t until, int64_t now,
		   struct grid_day *ret);

/* phone also reported ticket (merged); a second report by the same phone is a no-op. */
int store_reporter_add(struct store *s, int64_t ticket, const char *phone, int64_t inbound_id,
		       int64_t at);
/* The other reporters of ticket, first first; a non-zero return from fn stops. */
int store_reporters_each(struct store *s, int64_t ticket,
			 int (*fn)(void *ud, const char *phone), void *ud);

/* Filter for store_tickets_each(); NULL/"" fields match everything. */
struct ticket_filter {
	const char *status;   /* a status name, or "open" (new/assigned/accepted/done) */
	const char *grid;
	const char *phone;
	const char *assignee;
	size_t limit;         /* 0 = no limit */
};
/*
 * Call fn for each matching ticket, newest first. The ticket passed is
 * valid only during the call. A non-zero return from fn stops and is
 * returned.
 */
int store_tickets_each(struct store *s, const struct ticket_filter *f,
		       int (*fn)(void *ud, const struct ticket *t), void *ud);
/* Counts for STATUS=: open tickets (new/assigned/accepted). */
int store_ticket_count_open(struct store *s, int64_t *ret);

/* ---- ticket history (append-only) ---- */

struct ticket_event {
	int64_t id;
	int64_t ticket;
	int64_t at;
	char actor[STORE_ID_MAX + 16]; /* worker id, "resident:+86...", "system", "operator:X" */
	char event[32];                /* "created", "assign", "accept", ... */
	char from_status[16];          /* "" when none */
	char to_status[16];
	char *detail;                  /* owned, may be NULL */
	int64_t inbound_id;            /* the message that caused it, 0 if none */
};

int store_event_add(struct store *s, int64_t ticket, int64_t at, const char *actor,
		    const char *event, const char *from_status, const char *to_status,
		    const char *detail, int64_t inbound_id);
/* Events of a ticket, oldest first; same contract as store_tickets_each(). */
int store_events_each(struct store *s, int64_t ticket,
		      int (*fn)(void *ud, const struct ticket_event *e), void *ud);

/* ---- outbox ---- */

enum outbox_status { OB_QUEUED, OB_SENT, OB_DELIVERED, OB_FAILED, OB_UNKNOWN };
const char *outbox_status_name(enum outbox_status s);

struct outbox_msg {
	int64_t id;
	char recipient[STORE_ID_MAX];
	char *body;                   /* owned */
	int64_t ticket;               /* 0 when none */
	int64_t inbound_id;           /* the message being answered, 0 when none */
	char kind[32];                /* template name, e.g. "ack", "notify" */
	enum outbox_status status;
	int attempts;
	int64_t next_attempt;
	int64_t created_at;
	int64_t sent_at;              /* 0 when not sent */
	char provider_id[128];        /* "" when none */
	char *error;                  /* owned, NULL when none */
	int segments;
};
void outbox_msg_release(struct outbox_msg *m);

/* Queue a text; next_attempt = now. Returns the row id in *ret_id (may be NULL). */
int store_outbox_add(struct store *s, const char *recipient, const char *body, int64_t ticket,
		     int64_t inbound_id, const char *kind, int segments, int64_t now,
		     int64_t *ret_id);
/*
 * Queued rows with next_attempt <= now, oldest first, at most limit,
 * leaving out rows already tried whose next_attempt is after tried_until
 * (--once: a text tried in this run waits for the next one, and must not
 * take the place of an untried one under the limit); INT64_MAX leaves
 * nothing out. Same contract as store_tickets_each().
 */
int store_outbox_due(struct store *s, int64_t now, int64_t tried_until, size_t limit,
		     int (*fn)(void *ud, const struct outbox_msg *m), void *ud);
/* Earliest next_attempt among queued rows; -ENOENT when nothing is queued. */
int store_outbox_next_due(struct store *s, int64_t *ret_at);
/* status sent at now; next_attempt = check_at, the first delivery-status check. */
int store_outbox_mark_sent(struct store *s, int64_t id, const char *provider_id, int64_t now,
			   int64_t check_at);
/* attempts += 1, next_attempt = next_at, error recorded; stays queued. */
int store_outbox_mark_retry(struct store *s, int64_t id, int64_t next_at, const char *error);
/* attempts += 1, status failed, error recorded. */
int store_outbox_mark_failed(struct store *s, int64_t id, const char *error, int64_t now);
/* all=false: queued and failed only; newest first. */
int store_outbox_each(struct store *s, bool all,
		      int (*fn)(void *ud, const struct outbox_msg *m), void *ud);
int store_outbox_count_queued(struct store *s, int64_t *ret);
/* Texts to one number in the last hour and day: those that count against the caps and those the caps stopped. */
struct recipient_counts {
	int64_t hour, capped_hour;
	int64_t day, capped_day;
};
/* Counted from hour_since and from day_since (day_since <= hour_since), in one query. */
int store_outbox_count_to(struct store *s, const char *recipient, int64_t hour_since,
			  int64_t day_since, struct recipient_counts *ret);
/*
 * A queued text is not sent: failed with why, which must start "not sent:
 * over limits.per_" for a cap (so it is counted as capped, not as sent).
 */
int store_outbox_suppress(struct store *s, int64_t id, const char *why, int64_t now);
/* Texts queued at or after since, to anyone; only of that kind unless kind is NULL. */
int store_outbox_count_since(struct store *s, int64_t since, const char *kind, int64_t *ret);
/* A queued text is not sent before until (quiet hours). */
int store_outbox_hold(struct store *s, int64_t id, int64_t until);

/*
 * Delivery status. For a sent row next_attempt is the time of its next
 * delivery-status check. Same contract as store_outbox_due().
 */
int store_outbox_checks_due(struct store *s, int64_t now, size_t limit,
			    int (*fn)(void *ud, const struct outbox_msg *m), void *ud);
/* Earliest next check among sent rows; -ENOENT when none. */
int store_outbox_next_check(struct store *s, int64_t *ret_at);
/* Move a sent row's next check; -ENOENT unless it is still sent. */
int store_outbox_mark_check(struct store *s, int64_t id, int64_t check_at);
/* sent → delivered, failed or unknown (error may be NULL); -ENOENT unless sent. */
int store_outbox_mark_final(struct store *s, int64_t id, enum outbox_status status,
			    const char *error, int64_t now);
/* Every row sent at or before sent_before becomes unknown; count in *ret_n (may be NULL). */
int store_outbox_expire(struct store *s, int64_t sent_before, const char *error, int64_t now,
			int64_t *ret_n);

/* ---- provider cursor, worker state ---- */

/* -ENOENT when unset. value copied into buf[size]. */
int store_cursor_get(struct store *s, const char *provider, char *buf, size_t size);
int store_cursor_set(struct store *s, const char *provider, const char *value, int64_t now);

/* The ticket a worker was last notified about (for bare replies). */
int store_worker_last_set(struct store *s, const char *worker, int64_t ticket, int64_t now);
/* -ENOENT when none. */
int store_worker_last_get(struct store *s, const char *worker, int64_t *ret_ticket);

/* ---- statistics (gridlinectl stats, export) ---- */

/*
 * A reporting period and the facts the figures depend on: tickets (and
 * texts) created in [from, to) count; now decides what is overdue;
 * owned_within is the seconds after creation an assignment counts as
 * "owned within one poll".
 */
struct store_period {
	int64_t from;
	int64_t to;
	int64_t now;
	int64_t owned_within;
};

/* How the figures are grouped: one group, by category id, by grid id. */
enum store_group { STORE_GROUP_ALL, STORE_GROUP_CATEGORY, STORE_GROUP_GRID };

/* Ticket counts of one group (see docs/gridlinectl.8, stats, for each). */
struct store_ticket_stats {
	int64_t received;
	int64_t owned;            /* an assign/transfer event within owned_within of creation */
	int64_t accept_due;       /* tickets with an accept deadline */
	int64_t accepted_on_time; /* of those: accepted_at <= accept_due */
	int64_t done_due;         /* tickets with a done deadline */
	int64_t done_on_time;     /* of those: done_at <= done_due */
	int64_t overdue;          /* open and past the active deadline at now */
	int64_t rate_asked;       /* 回访 asked */
	int64_t rated;            /* of those: a rating */
	int64_t ratings[4];       /* [1], [2], [3]: tickets by (latest) rating */
};

/*
 * Ticket counts of the period per group, ordered by key. The key is ""
 * for STORE_GROUP_ALL, a category id, or a grid id ("" for no grid); it
 * and the counts are valid only during the call. A group without tickets
 * is not reported. A non-zero return from fn stops and is returned.
 */
int store_stats_tickets(struct store *s, const struct store_period *p, enum store_group g,
			int (*fn)(void *ud, const char *key, const struct store_ticket_stats *st),
			void *ud);

/* Which span of a ticket: creation to (first) acceptance, creation to done. */
enum store_span { STORE_SPAN_ACCEPT, STORE_SPAN_DONE };

/*
 * Every such span (seconds) of the period's tickets that have one,
 * ordered by group key, then by length: fn(key, seconds). Keys as for
 * store_stats_tickets().
 */
int store_stats_spans(struct store *s, const struct store_period *p, enum store_group g,
		      enum store_span span,
		      int (*fn)(void *ud, const char *key, int64_t seconds), void *ud);

/*
 * Outbound texts created in the period, per group and status: fn(key,
 * status, count, segments spent) where segments counts only texts handed
 * to the provider (sent_at set). STORE_GROUP_ALL counts every text; the
 * other groups only texts about a ticket, by that ticket's category or
 * grid (whenever the ticket was created).
 */
int store_stats_texts(struct store *s, const struct store_period *p, enum store_group g,
		      int (*fn)(void *ud, const char *key, enum outbox_status st, int64_t n,
				int64_t segments),
		      void *ud);

/*
 * Tickets created in [from, to), oldest (lowest id) first; same contract
 * as store_tickets_each().
 */
int store_tickets_created(struct store *s, int64_t from, int64_t to,
			  int (*fn)(void *ud, const struct ticket *t), void *ud);

#endif
