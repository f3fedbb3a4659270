/*
 * intake.c — one inbound message: store it, understand it, act on it,
 * queue the replies. Everything here runs inside the caller's
 * transaction; nothing is sent from here.
 *
 * Every message from a sender gets exactly one reply (the ack, the
 * answer, or a short refusal); notices to workers and residents are
 * further rows. Every ticket change is one store_ticket_update() plus one
 * history event naming the actor and the message that caused it.
 *
 * The phone side of the hotline (gridlinectl ticket new/assign/close/
 * reopen/note) goes through the same functions, at the end of the file.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"
#include "log.h"
#include "route.h"
#include "sms.h"
#include "text.h"
#include "ticket.h"
#include "tmplvar.h"
#include "util.h"

struct intake {
	const struct config *cfg;
	struct store *store;
	struct keyword_set *resident_kw;
	struct keyword_set *worker_kw;
	/* texts queued per minute over the last hour, for limits.alert_per_hour */
	uint32_t minute[60];
	int64_t minute_at;           /* the minute minute[] ends with (epoch minutes); 0: unread */
	bool flooding;               /* over alert_per_hour (alerted once) */
};

/* Everything about the message being handled. */
struct msg_ctx {
	struct intake *in;
	int64_t inbound_id;
	int64_t now;
	const char *sender;              /* E.164 */
	const struct worker *worker;     /* the sender as a worker, or NULL */
	char actor[STORE_ID_MAX + 16];   /* for the history */
	bool replied;
	bool urgent;                     /* the ticket in hand is urgent: its notices are never held */
	const char *channel;             /* new tickets: "phone", or NULL for "sms" */
	int64_t ticket;                  /* the ticket new_ticket() created, 0 before */
};

/* Template variables (tmplvar.h); unset ones render as "". */
struct vars {
	const char *v[_V_MAX];
	char ticket[24];
};

struct intake *intake_new(const struct config *cfg, struct store *store)
{
	struct intake *in = xcalloc(1, sizeof(*in));

	in->store = store;
	intake_set_config(in, cfg);
	return in;
}

void intake_free(struct intake *in)
{
	if (!in)
		return;
	keyword_set_free(in->resident_kw);
	keyword_set_free(in->worker_kw);
	free(in);
}

void intake_set_config(struct intake *in, const struct config *cfg)
{
	keyword_set_free(in->resident_kw);
	keyword_set_free(in->worker_kw);
	in->cfg = cfg;
	in->resident_kw = config_resident_keywords(cfg);
	in->worker_kw = config_worker_keywords(cfg);
}

static void vars_ticket(struct vars *v, const struct config *c, const struct ticket *t)
{
	const struct category *cat = config_category(c, t->category);
	const struct worker *w = t->assignee[0] ? config_worker(c, t->assignee) : NULL;
	const struct grid *g = t->grid[0] ? config_grid(c, t->grid) : NULL;

	snprintf(v->ticket, sizeof(v->ticket), "%lld", (long long)t->id);
	v->v[V_TICKET] = v->ticket;
	v->v[V_CATEGORY] = cat ? cat->name : strcmp(t->category, "callback") == 0 ? "回电" : "留言";
	v->v[V_TEXT] = t->text;
	v->v[V_ADDRESS] = t->address;
	v->v[V_GRID] = g ? g->name : "";
	v->v[V_WORKER] = w ? w->name : "值班员";
	v->v[V_WORKER_PHONE] = w ? w->phone : "";
	v->v[V_PHONE] = t->phone;
	v->v[V_STATUS] = ticket_status_label(t->status);
}

/* A copy of s cut to at most max bytes on a character boundary. */
static char *cut_copy(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

/* s with control characters as spaces (heap), or NULL when it has none. */
static char *without_controls(const char *s)
{
	char *d;

	if (!s || !s[strcspn(s, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f"
				"\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f\x7f")])
		return NULL;
	d = xstrdup(s);
	for (char *p = d; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return d;
}

/*
 * Render template text tmpl with v and add it to the outbox. Worker
 * notices may take limits.notice_segments (the resident's text is cut to
 * fit); everything else limits.reply_segments.
 */
static int add_text(struct msg_ctx *mc, const char *tmpl, const char *kind, bool notice,
		    const char *to, int64_t ticket, const struct vars *v, int64_t *ret_id)
{
	const struct config *c = mc->in->cfg;
	struct sms_var sv[_V_MAX];
	struct sms_count cnt;
	/* a resident's control characters never reach anyone's phone */
	char *text = without_controls(v->v[V_TEXT]), *body;
	int r;

	tmpl_vars_fill(sv, v->v);
	if (text)
		sv[V_TEXT].value = text;
	r = sms_render(tmpl, sv, _V_MAX,
		       notice ? c->limits.notice_segments : c->limits.reply_segments, "text", &body);
	free(text);
	if (r < 0)
		return r;
	sms_count(body, &cnt);
	r = store_outbox_add(mc->in->store, to, body, ticket, mc->inbound_id, kind,
			     (int)cnt.segments, mc->now, ret_id);
	free(body);
	return r;
}

/* Template id to a staff number, outside the economy (the alert itself). */
static int queue_plain(struct msg_ctx *mc, enum tmpl_id id, const char *to, const struct vars *v)
{
	return add_text(mc, mc->in->cfg->templates[id], tmpl_name(id), false, to, 0, v, NULL);
}

/* Is to the sender of the message being answered (a direct reply)? */
static bool is_direct(const struct msg_ctx *mc, const char *to)
{
	/* a text just received, or a call an operator is taking down (phone intake) */
	return (mc->inbound_id || mc->channel) && mc->sender && strcmp(mc->sender, to) == 0;
}

static int local_minute(int64_t t);

/* When the quiet hours that now falls in end, or 0 when it is not in them. */
static int64_t quiet_until(const struct limits *l, int64_t now)
{
	int m, wait;

	if (l->quiet_start == l->quiet_end)
		return 0;
	m = local_minute(now);
	if (l->quiet_start < l->quiet_end ? m >= l->quiet_start && m < l->quiet_end
					  : m >= l->quiet_start || m < l->quiet_end)
		wait = (l->quiet_end - m + 24 * 60) % (24 * 60);
	else
		return 0;
	return (now / 60 + wait) * 60;   /* the start of the quiet_end minute */
}

/* Minutes after local midnight of t. */
static int local_minute(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	return tm.tm_hour * 60 + tm.tm_min;
}

/*
 * Quiet hours (limits.quiet_hours): a text that is not the direct answer
 * to what someone just sent — and not a worker's notice of an urgent
 * ticket — waits until they end. The time it may go, or 0 (now).
 */
static int64_t held_until(const struct msg_ctx *mc, const char *to)
{
	if (is_direct(mc, to) || (mc->urgent && config_worker_by_phone(mc->in->cfg, to)))
		return 0;
	return quiet_until(&mc->in->cfg->limits, mc->now);
}

/*
 * The per-number caps (limits.per_hour, per_day) on texts to a resident
 * or an unknown number — staff are never capped. Over them the hotline is
 * silent towards that number: the text is recorded as failed with why
 * (everything is still recorded) and the first one in the window logs a
 * warning. Returns 0 to send, 1 when capped (why set), <0 on error.
 */
static int over_cap(struct msg_ctx *mc, const char *to, const char *kind, char *why,
		    size_t size)
{
	struct intake *in = mc->in;
	const struct limits *l = &in->cfg->limits;
	struct recipient_counts n = { 0 };
	char ph[LOG_PHONE_MAX];
	bool hourly;
	int r;

	if (config_worker_by_phone(in->cfg, to))
		return 0;
	r = store_outbox_count_to(in->store, to, mc->now - 3600, mc->now - 86400, &n);
	if (r < 0)
		return r;
	if (n.hour < l->per_hour && n.day < l->per_day)
		return 0;
	hourly = n.hour >= l->per_hour;
	snprintf(why, size, "not sent: over limits.per_%s (%u)", hourly ? "hour" : "day",
		 hourly ? l->per_hour : l->per_day);
	if ((hourly ? n.capped_hour : n.capped_day) == 0)
		log_warn("texts to %s capped (%u an hour, %u a day): %s and what follows are recorded, "
			 "not sent", log_phone(to, ph), l->per_hour, l->per_day, kind);
	return 1;
}

/*
 * Count a queued text; the first time the last hour holds more than
 * limits.alert_per_hour, raise one alert (error log, the operators told).
 * Holds nothing back.
 */
static int count_sent(struct msg_ctx *mc)
{
	struct intake *in = mc->in;
	const struct config *c = in->cfg;
	int64_t minute = mc->now / 60, total = 0;
	uint32_t sum = 0;
	char n[24], lim[24];
	struct vars v = { 0 };
	int r = 0;

	if (!c->limits.alert_per_hour)
		return 0;
	if (!in->minute_at || minute - in->minute_at >= 60) {
		memset(in->minute, 0, sizeof(in->minute));
		if (!in->minute_at &&
		    store_outbox_count_since(in->store, mc->now - 3600, NULL, &total) == 0)
			in->minute[minute % 60] = (uint32_t)(total > 0 ? total - 1 : 0);
	} else {
		for (int64_t m = in->minute_at + 1; m <= minute; m++)
			in->minute[m % 60] = 0;
	}
	if (minute > in->minute_at)
		in->minute_at = minute;
	in->minute[minute % 60]++;
	for (int i = 0; i < 60; i++)
		sum += in->minute[i];
	if (sum <= c->limits.alert_per_hour) {
		in->flooding = false;
		return 0;
	}
	if (in->flooding)
		return 0;
	in->flooding = true;
	/* alerted already in this hour (by an earlier run)? */
	if (store_outbox_count_since(in->store, mc->now - 3600, tmpl_name(TMPL_FLOOD), &total) == 0 &&
	    total > 0)
		return 0;
	log_error("%u texts queued in the last hour, over limits.alert_per_hour (%u): check "
		  "for a loop or abuse", sum, c->limits.alert_per_hour);
	snprintf(n, sizeof(n), "%u", sum);
	snprintf(lim, sizeof(lim), "%u", c->limits.alert_per_hour);
	v.v[V_COUNT] = n;
	v.v[V_REASON] = lim;
	for (size_t i = 0; r == 0 && i < c->n_workers; i++)
		if (c->workers[i].role == ROLE_OPERATOR)
			r = queue_plain(mc, TMPL_FLOOD, c->workers[i].phone, &v);
	return r;
}

/*
 * Render template text tmpl with v and queue it to `to` as `kind`, with
 * the SMS economy applied: the per-number caps, quiet hours, the hourly
 * alert.
 */
static int queue_text(struct msg_ctx *mc, const char *tmpl, const char *kind, bool notice,
		      const char *to, int64_t ticket, const struct vars *v)
{
	int64_t id, until;
	char why[96] = "";
	int r = over_cap(mc, to, kind, why, sizeof(why));

	if (r < 0)
		return r;
	r = add_text(mc, tmpl, kind, notice, to, ticket, v, &id);
	if (r == 0 && *why)
		return store_outbox_suppress(mc->in->store, id, why, mc->now);
	if (r == 0 && (until = held_until(mc, to)) > mc->now)
		r = store_outbox_hold(mc->in->store, id, until);
	if (r == 0)
		r = count_sent(mc);
	return r;
}

/* Render template id with v and queue it to `to`. */
static int queue(struct msg_ctx *mc, enum tmpl_id id, const char *to, int64_t ticket,
		 const struct vars *v)
{
	bool notice = id == TMPL_NOTIFY || id == TMPL_NOTIFY_COPY ||
		      id == TMPL_NOTIFY_OPERATORS || id == TMPL_REMIND || id == TMPL_OVERDUE;

	return queue_text(mc, mc->in->cfg->templates[id], tmpl_name(id), notice, to, ticket, v);
}

/* Templates a and b as one text (kind a's name). */
static int queue_joined(struct msg_ctx *mc, enum tmpl_id a, enum tmpl_id b, const char *to,
			int64_t ticket, const struct vars *v)
{
	char *tmpl = xasprintf("%s%s", mc->in->cfg->templates[a], mc->in->cfg->templates[b]);
	int r = queue_text(mc, tmpl, tmpl_name(a), false, to, ticket, v);

	free(tmpl);
	return r;
}

/* The one reply to the sender of the message. */
static int reply(struct msg_ctx *mc, enum tmpl_id id, int64_t ticket, const struct vars *v)
{
	mc->replied = true;
	return queue(mc, id, mc->sender, ticket, v);
}

static int deny(struct msg_ctx *mc, int64_t ticket, const char *reason)
{
	struct vars v = { 0 };

	if (ticket) {
		snprintf(v.ticket, sizeof(v.ticket), "%lld", (long long)ticket);
		v.v[V_TICKET] = v.ticket;
	}
	v.v[V_REASON] = reason;
	return reply(mc, TMPL_DENIED, ticket, &v);
}

/* The limits of t's category; the pseudo-categories have their own. */
static void category_limits(const struct config *c, const struct ticket *t,
			    struct tlimit *accept, struct tlimit *done)
{
	const struct category *cat = config_category(c, t->category);

	*accept = cat ? cat->accept : (struct tlimit){ TL_MINUTES, 30 };
	*done = cat ? cat->done : strcmp(t->category, "callback") == 0
					  ? (struct tlimit){ TL_EOD, 0 }
					  : (struct tlimit){ TL_WORKDAYS, 3 };
	if (t->clk.urgent && c->wf.urgent.kind == TL_MINUTES &&
	    (done->kind != TL_MINUTES || done->n > c->wf.urgent.n))
		*done = c->wf.urgent;
	if (t->clk.urgent && accept->kind == TL_MINUTES && c->wf.urgent.kind == TL_MINUTES &&
	    accept->n > c->wf.urgent.n)
		*accept = c->wf.urgent;
}

static bool text_is_urgent(const struct config *c, const char *text)
{
	for (size_t i = 0; text && i < c->wf.n_urgent_words; i++)
		if (strstr(text, c->wf.urgent_words[i]))
			return true;
	return false;
}

/*
 * When the time to accept t starts: now, or — for a ticket that is not
 * urgent, whose notice waits for the quiet hours to end — then.
 */
static int64_t accept_from(const struct config *c, const struct ticket *t, int64_t now)
{
	int64_t q = t->clk.urgent ? 0 : quiet_until(&c->limits, now);

	return q > now ? q : now;
}

/* The deadline being chased now, and when its span started; false when none. */
static bool active_deadline(const struct config *c, const struct ticket *t, int64_t *ret_start,
			    int64_t *ret_due)
{
	switch (t->status) {
	case TS_NEW:
	case TS_ASSIGNED:   /* from the (re)assignment, or the end of the quiet hours */
		*ret_start = t->clk.accept_due ? accept_from(c, t, t->updated_at) : 0;
		*ret_due = t->clk.accept_due;
		break;
	case TS_ACCEPTED:
		*ret_start = t->created_at;
		*ret_due = t->clk.done_due;
		break;
	default:
		return false;
	}
	return *ret_due != 0;
}

/* When the chase of t's active deadline next moves (stage + 1), or 0. */
static int64_t chase_next(const struct config *c, const struct ticket *t)
{
	int64_t s, d;

	if (!active_deadline(c, t, &s, &d) || t->clk.stage >= DEADLINE_STAGES)
		return 0;
	return deadline_stage_at(t->clk.stage + 1, s, d);
}

/*
 * Start or move t's clock after it went from `from` to its status at now:
 * a new owner gets a fresh accept limit, acceptance starts the chase of
 * the done limit, 重办 (a done ticket reopened) a fresh done limit; done
 * waits for the rating, closed and cancelled stop it.
 */
static void clock_after(const struct config *c, struct ticket *t, enum ticket_status from,
			int64_t now)
{
	const struct calendar *cal = c->wf.calendar;
	struct ticket_clock *k = &t->clk;
	struct tlimit accept, done;

	category_limits(c, t, &accept, &done);
	switch (t->status) {
	case TS_NEW:
	case TS_ASSIGNED:
		if (from == TS_DONE)
			k->done_due = tlimit_due(&done, cal, c->wf.day_end, now);
		k->accept_due = tlimit_due(&accept, cal, c->wf.day_end, accept_from(c, t, now));
		k->stage = 0;
		break;
	case TS_ACCEPTED:
		if (!k->accepted_at)
			k->accepted_at = now;
		k->stage = 0;
		break;
	case TS_DONE:
		k->done_at = now;
		k->stage = 0;
		break;
	default:
		break;
	}
	k->next_check = chase_next(c, t);
	if (t->status == TS_DONE && k->rate_asked_at)
		k->next_check = k->rate_asked_at + (int64_t)c->wf.rating_window;
}

/* Move t to `to` (assignee NULL keeps it), record the event, log it. */
static int transition(struct msg_ctx *mc, struct ticket *t, enum ticket_status to,
		      const char *assignee, int rating, const char *event, const char *detail)
{
	struct log_fields f = { t->id, event, t->grid[0] ? t->grid : NULL, NULL };
	enum ticket_status from = t->status;
	int r;

	if (assignee)
		str_copy(t->assignee, sizeof(t->assignee), assignee);
	f.worker = t->assignee[0] ? t->assignee : NULL;
	r = store_ticket_update(mc->in->store, t->id, to, t->assignee, rating, mc->now);
	if (r == 0)
		r = store_event_add(mc->in->store, t->id, mc->now, mc->actor, event,
				    ticket_status_name(from), ticket_status_name(to), detail,
				    mc->inbound_id);
	if (r < 0)
		return r;
	t->status = to;
	t->updated_at = mc->now;
	mc->urgent = t->clk.urgent;
	clock_after(mc->in->cfg, t, from, mc->now);
	r = store_ticket_set_clock(mc->in->store, t->id, &t->clk);
	if (r < 0)
		return r;
	if (rating >= 0)
		t->rating = rating;
	log_event(LOG_INFO, &f, "ticket %lld %s -> %s by %s (%s)", (long long)t->id,
		  ticket_status_name(from), ticket_status_name(to),
		  strncmp(mc->actor, "resident:", 9) == 0 ? "resident" : mc->actor, event);
	return 0;
}

/* Tell a worker about ticket t and remember it for their bare replies. */
static int notify_worker(struct msg_ctx *mc, enum tmpl_id id, const struct worker *w,
			 const struct ticket *t)
{
	struct vars v = { 0 };
	int r;

	vars_ticket(&v, mc->in->cfg, t);
	r = queue(mc, id, w->phone, t->id, &v);
	if (r == 0 && id != TMPL_NOTIFY_COPY)
		r = store_worker_last_set(mc->in->store, w->id, t->id, mc->now);
	return r;
}

/* A ticket nobody owns: every operator hears of it (leaders when there are none). */
static int notify_operators(struct msg_ctx *mc, const struct ticket *t)
{
	const struct config *c = mc->in->cfg;
	enum worker_role role = config_worker_by_role(c, ROLE_OPERATOR) ? ROLE_OPERATOR : ROLE_LEADER;
	int r = 0;

	for (size_t i = 0; r == 0 && i < c->n_workers; i++)
		if (c->workers[i].role == role)
			r = notify_worker(mc, TMPL_NOTIFY_OPERATORS, &c->workers[i], t);
	return r;
}

/*
 * A report of the same category at the same address as an open ticket
 * from the last workflow.merge_window joins it: the reporter is told its
 * number and, later, that it is done. Returns 1 when merged, 0 when there
 * is nothing to join, <0 on error.
 */
static int merge_report(struct msg_ctx *mc, const struct category *cat, const char *address)
{
	const struct config *c = mc->in->cfg;
	struct ticket t;
	struct vars v = { 0 };
	char detail[96], ph[LOG_PHONE_MAX];
	int64_t id;
	int r;

	if (!(c->wf.merge_window > 0))
		return 0;
	r = store_ticket_find_dup(mc->in->store, cat->id, address,
				  mc->now - (int64_t)c->wf.merge_window, &id);
	if (r == -ENOENT)
		return 0;
	if (r < 0 || (r = store_ticket_get(mc->in->store, id, &t)) < 0)
		return r;
	mc->ticket = id;   /* the ticket this report now belongs to */
	if (strcmp(t.phone, mc->sender) != 0)
		r = store_reporter_add(mc->in->store, id, mc->sender, mc->inbound_id, mc->now);
	snprintf(detail, sizeof(detail), "another report of it from %s", mc->sender);
	if (r == 0)
		r = store_event_add(mc->in->store, id, mc->now, mc->actor, "merged",
				    ticket_status_name(t.status), ticket_status_name(t.status), detail,
				    mc->inbound_id);
	if (r == 0) {
		struct log_fields f = { id, "merged", t.grid[0] ? t.grid : NULL, NULL };
		log_event(LOG_INFO, &f, "report from %s joins ticket %lld (%s at %s)",
			  log_phone(mc->sender, ph), (long long)id, cat->id, address);
		vars_ticket(&v, c, &t);
		r = reply(mc, TMPL_MERGED, id, &v);
	}
	ticket_release(&t);
	return r < 0 ? r : 1;
}

/* The clock of a new ticket (t's category, text and created_at set). */
static void clock_start(const struct config *c, struct ticket *t)
{
	struct tlimit accept, done;

	t->clk.urgent = text_is_urgent(c, t->text);
	category_limits(c, t, &accept, &done);
	t->clk.accept_due = tlimit_due(&accept, c->wf.calendar, c->wf.day_end,
				       accept_from(c, t, t->created_at));
	t->clk.done_due = tlimit_due(&done, c->wf.calendar, c->wf.day_end, t->created_at);
	t->clk.next_check = chase_next(c, t);
}

/* A new ticket of category cat (NULL: unclassified) from the sender. */
static int new_ticket(struct msg_ctx *mc, const struct category *cat, const char *text,
		      const char *norm)
{
	const struct config *c = mc->in->cfg;
	struct resident res;
	struct route rt;
	struct ticket t = { 0 };
	struct vars v = { 0 };
	bool registered;
	char detail[160], ph[LOG_PHONE_MAX];
	int r;

	registered = store_resident_get(mc->in->store, mc->sender, &res) == 0;
	route_ticket(c, cat, registered ? res.grid : NULL, registered ? res.address : NULL, norm, &rt);
	if (cat && rt.address && rt.address[0]) {
		r = merge_report(mc, cat, rt.address);
		if (r != 0)
			return r < 0 ? r : 0;   /* joined an open ticket */
	}

	str_copy(t.category, sizeof(t.category), cat ? cat->id : "unclassified");
	t.status = TS_NEW;
	if (rt.grid)
		str_copy(t.grid, sizeof(t.grid), rt.grid->id);
	str_copy(t.phone, sizeof(t.phone), mc->sender);
	t.text = cut_copy(text, c->limits.max_body);
	if (rt.address)
		str_copy(t.address, sizeof(t.address), rt.address);
	str_copy(t.channel, sizeof(t.channel), mc->channel ? mc->channel : "sms");
	t.inbound_id = mc->inbound_id;
	t.created_at = t.updated_at = mc->now;
	clock_start(c, &t);
	mc->urgent = t.clk.urgent;

	r = store_ticket_add(mc->in->store, &t, &t.id);
	if (r < 0)
		goto out;
	mc->ticket = t.id;
	snprintf(detail, sizeof(detail), "category %s; grid %s by %s", t.category,
		 rt.grid ? rt.grid->id : "none", route_source_name(rt.source));
	r = store_event_add(mc->in->store, t.id, mc->now, mc->actor, "created", NULL, "new", detail,
			    mc->inbound_id);
	if (r < 0)
		goto out;
	struct log_fields f = { t.id, "created", rt.grid ? rt.grid->id : NULL, NULL };
	log_event(LOG_INFO, &f, "ticket %lld (%s) from %s, grid %s by %s", (long long)t.id,
		  t.category, log_phone(mc->sender, ph), rt.grid ? rt.grid->id : "none",
		  route_source_name(rt.source));

	if (rt.assignee) {
		snprintf(detail, sizeof(detail), "routed to %s", rt.assignee->id);
		str_copy(mc->actor, sizeof(mc->actor), "system");
		r = transition(mc, &t, TS_ASSIGNED, rt.assignee->id, -1, "assign", detail);
		if (r == 0)
			r = notify_worker(mc, TMPL_NOTIFY, rt.assignee, &t);
	} else {
		r = notify_operators(mc, &t);
	}
	if (r == 0 && rt.copy)
		r = notify_worker(mc, TMPL_NOTIFY_COPY, rt.copy, &t);
	if (r == 0) {
		vars_ticket(&v, c, &t);
		r = reply(mc, cat ? TMPL_ACK : TMPL_ACK_UNCLASSIFIED, t.id, &v);
	}
out:
	free(t.text);
	return r;
}

/*
 * A call to the hotline nobody answered: one `callback` ticket in the
 * operators' queue (the phone side of the hotline), and the caller is
 * told that someone will ring back.
 */
static int missed_call(struct msg_ctx *mc)
{
	const struct config *c = mc->in->cfg;
	struct resident res;
	struct ticket t = { 0 };
	struct vars v = { 0 };
	char ph[LOG_PHONE_MAX];
	int r;

	snprintf(mc->actor, sizeof(mc->actor), "resident:%s", mc->sender);
	str_copy(t.category, sizeof(t.category), "callback");
	t.status = TS_NEW;
	if (store_resident_get(mc->in->store, mc->sender, &res) == 0) {
		str_copy(t.grid, sizeof(t.grid), res.grid);
		str_copy(t.address, sizeof(t.address), res.address);
	}
	str_copy(t.phone, sizeof(t.phone), mc->sender);
	t.text = xstrdup("未接来电，请回电");
	str_copy(t.channel, sizeof(t.channel), "phone");
	t.inbound_id = mc->inbound_id;
	t.created_at = t.updated_at = mc->now;
	clock_start(c, &t);
	r = store_ticket_add(mc->in->store, &t, &t.id);
	if (r == 0)
		r = store_event_add(mc->in->store, t.id, mc->now, mc->actor, "created", NULL, "new",
				    "missed call; operators call back", mc->inbound_id);
	if (r == 0) {
		struct log_fields f = { t.id, "missed_call", t.grid[0] ? t.grid : NULL, NULL };
		log_event(LOG_INFO, &f, "ticket %lld (callback): missed call from %s",
			  (long long)t.id, log_phone(mc->sender, ph));
		r = notify_operators(mc, &t);
	}
	if (r == 0) {
		vars_ticket(&v, c, &t);
		r = reply(mc, TMPL_MISSED_CALL, t.id, &v);
	}
	free(t.text);
	return r;
}

/*
 * Tell the resident t is done and — the first time only — ask them to
 * rate it (回访): in the same text where both fit in one segment, else in
 * a second one. Their bare 1/2/3 within workflow.rating_window rates it.
 */
struct done_ctx {
	struct msg_ctx *mc;
	const struct ticket *t;
	const struct vars *v;
};

static int tell_reporter(void *ud, const char *phone)
{
	struct done_ctx *d = ud;

	return queue(d->mc, TMPL_DONE, phone, d->t->id, d->v);
}

/* Has the resident at phone opted out (退订) of all but their own results? */
static bool opted_out(struct msg_ctx *mc, const char *phone)
{
	struct resident res;

	return store_resident_get(mc->in->store, phone, &res) == 0 && res.opted_out;
}

static int tell_done(struct msg_ctx *mc, struct ticket *t, struct vars *v)
{
	const struct config *c = mc->in->cfg;
	struct done_ctx d = { mc, t, v };
	bool ask = !t->clk.rate_asked_at && !opted_out(mc, t->phone);
	struct sms_count cnt;
	char *done = NULL, *both;
	struct sms_var sv[_V_MAX];
	int r;

	/* everyone whose report was merged into it hears that it is done */
	r = store_reporters_each(mc->in->store, t->id, tell_reporter, &d);
	if (r < 0)
		return r;
	if (!ask)
		return queue(mc, TMPL_DONE, t->phone, t->id, v);
	tmpl_vars_fill(sv, v->v);
	r = sms_render(c->templates[TMPL_DONE], sv, _V_MAX, SIZE_MAX, NULL, &done);
	if (r < 0)
		return r;
	both = xasprintf("%s%s", done, c->templates[TMPL_RATE_ASK]);
	sms_count(both, &cnt);
	free(done);
	free(both);
	if (cnt.segments <= 1) {
		r = queue_joined(mc, TMPL_DONE, TMPL_RATE_ASK, t->phone, t->id, v);
	} else {
		r = queue(mc, TMPL_DONE, t->phone, t->id, v);
		if (r == 0)
			r = queue(mc, TMPL_RATE_ASK_ALONE, t->phone, t->id, v);
	}
	if (r < 0)
		return r;
	t->clk.rate_asked_at = mc->now;
	t->clk.next_check = mc->now + (int64_t)c->wf.rating_window;
	return store_ticket_set_clock(mc->in->store, t->id, &t->clk);
}

/* Load ticket id; on -ENOENT the sender is told. Returns 1 when loaded. */
static int load_ticket(struct msg_ctx *mc, int64_t id, struct ticket *t)
{
	struct vars v = { 0 };
	int r = store_ticket_get(mc->in->store, id, t);

	if (r == 0)
		return 1;
	if (r != -ENOENT)
		return r;
	snprintf(v.ticket, sizeof(v.ticket), "%lld", (long long)id);
	v.v[V_TICKET] = v.ticket;
	r = reply(mc, TMPL_UNKNOWN_TICKET, 0, &v);
	return r < 0 ? r : 0;
}

struct pick {
	int64_t id;
	size_t n;
	enum ticket_status want;   /* _TS_MAX: any open but done */
	char list[600];
	size_t used;
};

static int pick_ticket(void *ud, const struct ticket *t)
{
	struct pick *p = ud;

	if (p->want == _TS_MAX ? t->status == TS_DONE : t->status != p->want)
		return 0;
	if (p->n++ == 0)
		p->id = t->id;
	return 0;
}

static int list_ticket(void *ud, const struct ticket *t)
{
	struct pick *p = ud;
	int n;

	if (p->used >= sizeof(p->list))
		return 1;
	n = snprintf(p->list + p->used, sizeof(p->list) - p->used, "%s%lld %s", p->n ? "；" : "",
		     (long long)t->id, ticket_status_label(t->status));
	if (n < 0 || (size_t)n >= sizeof(p->list) - p->used) {
		p->list[p->used] = '\0';
		return 1;
	}
	p->used += (size_t)n;
	p->n++;
	return 0;
}

/*
 * The ticket a resident means: the one named, else their only open
 * ticket in state `want` (_TS_MAX: new/assigned/accepted). 0 = none/ambiguous.
 */
static int64_t resident_ticket(struct msg_ctx *mc, int64_t named, enum ticket_status want)
{
	struct ticket_filter f = { .status = "open", .phone = mc->sender };
	struct pick p = { .want = want };

	if (named)
		return named;
	if (store_tickets_each(mc->in->store, &f, pick_ticket, &p) < 0)
		return 0;
	return p.n == 1 || (p.n > 1 && want == TS_DONE) ? p.id : 0;
}

static int cmd_status(struct msg_ctx *mc, const struct parsed *p)
{
	struct ticket_filter f = { .status = "open", .phone = mc->sender, .limit = 5 };
	struct pick pk = { 0 };
	struct vars v = { 0 };
	struct ticket t;
	int r;

	if (p->ticket) {
		r = load_ticket(mc, p->ticket, &t);
		if (r <= 0)
			return r;
		if (strcmp(t.phone, mc->sender) != 0 && !mc->worker) {
			ticket_release(&t);
			return deny(mc, p->ticket, "不是您报的事项");
		}
		list_ticket(&pk, &t);
		ticket_release(&t);
	} else {
		r = store_tickets_each(mc->in->store, &f, list_ticket, &pk);
		if (r < 0)
			return r;
	}
	if (pk.n == 0)
		return reply(mc, TMPL_STATUS_NONE, 0, &v);
	v.v[V_LIST] = pk.list;
	return reply(mc, TMPL_STATUS, p->ticket, &v);
}

/* Check authority and state; on refusal the sender is told (returns 1). */
static int allowed(struct msg_ctx *mc, const struct actor *a, const struct ticket *t,
		   enum ticket_action act, enum ticket_status *ret_to)
{
	struct ticket_ref ref = { t->status, t->phone, t->grid, t->assignee };
	char reason[96];
	int r;

	if (ticket_authorize(a, &ref, act) < 0) {
		r = deny(mc, t->id, a->kind == ACTOR_RESIDENT ? "不是您报的事项" : "此单不归您处理");
		return r < 0 ? r : 1;
	}
	if (ticket_next(t->status, act, ret_to) < 0) {
		snprintf(reason, sizeof(reason), "此单%s", ticket_status_label(t->status));
		r = deny(mc, t->id, reason);
		return r < 0 ? r : 1;
	}
	return 0;
}

static int cmd_cancel(struct msg_ctx *mc, const struct parsed *p)
{
	struct actor a = { .kind = ACTOR_RESIDENT, .phone = mc->sender };
	const struct worker *w;
	enum ticket_status to;
	struct vars v = { 0 };
	struct ticket t;
	int64_t id = resident_ticket(mc, p->ticket, _TS_MAX);
	int r;

	if (!id)
		return deny(mc, 0, "请回复 取消+单号");
	r = load_ticket(mc, id, &t);
	if (r <= 0)
		return r;
	r = allowed(mc, &a, &t, TA_CANCEL, &to);
	if (r == 0)
		r = transition(mc, &t, to, NULL, -1, "cancel", p->rest[0] ? p->rest : NULL);
	if (r == 0) {
		vars_ticket(&v, mc->in->cfg, &t);
		r = reply(mc, TMPL_CANCELLED, t.id, &v);
		w = t.assignee[0] ? config_worker(mc->in->cfg, t.assignee) : NULL;
		if (r == 0 && w)
			r = queue(mc, TMPL_CANCELLED_WORKER, w->phone, t.id, &v);
	}
	ticket_release(&t);
	return r < 0 ? r : 0;
}

/*
 * The leaders of t's grid: its `leader`, else every worker with role
 * leader. Returns how many were told, or <0.
 */
static int tell_leaders(struct msg_ctx *mc, enum tmpl_id id, const struct ticket *t,
			const struct vars *v)
{
	const struct config *c = mc->in->cfg;
	const struct grid *g = t->grid[0] ? config_grid(c, t->grid) : NULL;
	const struct worker *leader = g ? config_grid_leader(c, g) : NULL;
	int r = 0, n = 0;

	if (leader)
		return queue(mc, id, leader->phone, t->id, v) < 0 ? -EIO : 1;
	for (size_t i = 0; r == 0 && i < c->n_workers; i++)
		if (c->workers[i].role == ROLE_LEADER && ++n)
			r = queue(mc, id, c->workers[i].phone, t->id, v);
	return r < 0 ? r : n;
}

struct asked {
	int64_t now, window, id;
};

static int pick_asked(void *ud, const struct ticket *t)
{
	struct asked *a = ud;

	if (t->clk.rate_asked_at && a->now - t->clk.rate_asked_at <= a->window) {
		a->id = t->id;
		return 1;   /* the newest one asked */
	}
	return 0;
}

/* The done ticket a bare 1/2/3 from the sender rates (回访), or 0. */
static int64_t rating_target(struct msg_ctx *mc)
{
	struct ticket_filter f = { .status = "done", .phone = mc->sender, .limit = 50 };
	struct asked a = { mc->now, (int64_t)mc->in->cfg->wf.rating_window, 0 };

	return store_tickets_each(mc->in->store, &f, pick_asked, &a) < 0 ? 0 : a.id;
}

static int cmd_rate(struct msg_ctx *mc, const struct parsed *p)
{
	struct actor a = { .kind = ACTOR_RESIDENT, .phone = mc->sender };
	const struct worker *w;
	enum ticket_status to;
	struct vars v = { 0 };
	struct ticket t;
	char *detail;
	int64_t id;
	int r;

	if (p->rating < 1 || p->rating > 3)
		return deny(mc, p->ticket, "请回复 评价+单号+1/2/3");
	id = resident_ticket(mc, p->ticket, TS_DONE);
	if (!id)
		return deny(mc, 0, "没有待评价的事项");
	r = load_ticket(mc, id, &t);
	if (r <= 0)
		return r;
	r = allowed(mc, &a, &t, p->rating == 3 ? TA_RATE_BAD : TA_RATE_OK, &to);
	detail = xasprintf("rating %d%s%s", p->rating, p->rest[0] ? ": " : "", p->rest);
	if (r == 0)
		r = transition(mc, &t, to, NULL, p->rating, p->rating == 3 ? "reopen" : "rate",
			       detail);
	if (r == 0) {
		vars_ticket(&v, mc->in->cfg, &t);
		r = reply(mc, p->rating == 3 ? TMPL_REOPENED : TMPL_RATED, t.id, &v);
		w = t.assignee[0] ? config_worker(mc->in->cfg, t.assignee) : NULL;
		if (r == 0 && w && p->rating == 3)
			r = notify_worker(mc, TMPL_REOPENED_WORKER, w, &t);
		if (r == 0 && p->rating == 3)
			r = tell_leaders(mc, TMPL_REOPENED_LEADER, &t, &v);
	}
	free(detail);
	ticket_release(&t);
	return r < 0 ? r : 0;
}

static int cmd_help(struct msg_ctx *mc)
{
	const struct config *c = mc->in->cfg;
	struct vars v = { 0 };
	char kw[200] = "";
	size_t used = 0;

	for (size_t i = 0; i < c->n_categories && used < sizeof(kw); i++) {
		int n = snprintf(kw + used, sizeof(kw) - used, "%s%s", i ? "/" : "",
				 c->categories[i].keywords[0]);
		if (n < 0 || (size_t)n >= sizeof(kw) - used)
			break;
		used += (size_t)n;
	}
	v.v[V_KEYWORDS] = kw;
	return reply(mc, TMPL_HELP, 0, &v);
}

static int cmd_stop(struct msg_ctx *mc)
{
	struct resident res = { 0 };
	struct vars v = { 0 };
	int r;

	if (store_resident_get(mc->in->store, mc->sender, &res) == -ENOENT) {
		str_copy(res.phone, sizeof(res.phone), mc->sender);
		r = store_resident_put(mc->in->store, &res, mc->now);
		if (r < 0)
			return r;
	}
	r = store_resident_set_opt_out(mc->in->store, mc->sender, true, mc->now);
	if (r == 0) {
		struct log_fields f = { .event = "opt_out" };
		char ph[LOG_PHONE_MAX];
		log_event(LOG_INFO, &f, "%s opted out of non-essential texts",
			  log_phone(mc->sender, ph));
		r = reply(mc, TMPL_STOP, 0, &v);
	}
	return r;
}

/* The actor a worker acts as. */
static void worker_actor(const struct config *c, const struct worker *w, struct actor *a,
			 const char **grids, size_t max)
{
	a->phone = w->phone;
	a->worker = w->id;
	a->kind = w->role == ROLE_OPERATOR ? ACTOR_OPERATOR : ACTOR_WORKER;
	if (w->role != ROLE_LEADER)
		return;
	a->kind = ACTOR_LEADER;
	a->grids = grids;
	a->n_grids = 0;
	for (size_t i = 0; i < c->n_grids && a->n_grids < max; i++)
		if (config_grid_leader(c, &c->grids[i]) == w)
			grids[a->n_grids++] = c->grids[i].id;
}

static int cmd_list(struct msg_ctx *mc)
{
	struct ticket_filter f = { .status = "open", .assignee = mc->worker->id, .limit = 8 };
	struct pick pk = { 0 };
	struct vars v = { 0 };
	int r = store_tickets_each(mc->in->store, &f, list_ticket, &pk);

	if (r < 0)
		return r;
	if (pk.n == 0)
		return reply(mc, TMPL_STATUS_NONE, 0, &v);
	v.v[V_LIST] = pk.list;
	return reply(mc, TMPL_STATUS, 0, &v);
}

static int worker_command(struct msg_ctx *mc, const struct parsed *p)
{
	const struct config *c = mc->in->cfg;
	static const enum ticket_action acts[_INTENT_MAX] = {
		[INTENT_ACCEPT] = TA_ACCEPT, [INTENT_DONE] = TA_DONE,
		[INTENT_DECLINE] = TA_DECLINE, [INTENT_TRANSFER] = TA_TRANSFER,
	};
	const char *grids[64];
	const struct worker *target = NULL;
	enum ticket_status to;
	struct actor a = { 0 };
	struct vars v = { 0 };
	struct ticket t;
	int64_t id = p->ticket;
	int r;

	if (p->intent == INTENT_LIST)
		return cmd_list(mc);
	worker_actor(c, mc->worker, &a, grids, ELEMENTSOF(grids));
	/* a bare reply acts on the ticket this worker was last told about */
	if (!id && store_worker_last_get(mc->in->store, mc->worker->id, &id) < 0)
		return deny(mc, 0, "请回复 指令+单号");
	if (p->intent == INTENT_TRANSFER) {
		char tid[CONFIG_ID_MAX];
		size_t n = strcspn(p->rest, " ");
		if (n == 0 || n >= sizeof(tid))
			return deny(mc, id, "请回复 转+单号+工号");
		memcpy(tid, p->rest, n);
		tid[n] = '\0';
		target = config_worker(c, tid);
		if (!target)
			return deny(mc, id, "没有这个工号");
	}
	r = load_ticket(mc, id, &t);
	if (r <= 0)
		return r;
	r = allowed(mc, &a, &t, acts[p->intent], &to);
	if (r != 0)
		goto out;
	switch (p->intent) {
	case INTENT_ACCEPT:
		r = transition(mc, &t, to, NULL, -1, "accept", NULL);
		vars_ticket(&v, c, &t);
		if (r == 0)
			r = reply(mc, TMPL_ACCEPT_OK, t.id, &v);
		if (r == 0 && !opted_out(mc, t.phone))   /* a status change, not a result */
			r = queue(mc, TMPL_ACCEPTED, t.phone, t.id, &v);
		break;
	case INTENT_DONE:
		r = transition(mc, &t, to, NULL, -1, "done", p->rest[0] ? p->rest : NULL);
		vars_ticket(&v, c, &t);
		v.v[V_NOTE] = p->rest;
		if (r == 0)
			r = reply(mc, TMPL_DONE_OK, t.id, &v);
		if (r == 0)
			r = tell_done(mc, &t, &v);
		break;
	case INTENT_DECLINE: {
		const struct grid *g = t.grid[0] ? config_grid(c, t.grid) : NULL;
		const struct worker *leader = g ? config_grid_leader(c, g) : NULL;

		if (leader == mc->worker)
			leader = NULL;
		r = transition(mc, &t, to, "", -1, "decline", p->rest[0] ? p->rest : NULL);
		if (r == 0 && leader) {
			r = transition(mc, &t, TS_ASSIGNED, leader->id, -1, "assign", "declined; to grid leader");
			if (r == 0)
				r = notify_worker(mc, TMPL_NOTIFY, leader, &t);
		} else if (r == 0) {
			r = notify_operators(mc, &t);
		}
		vars_ticket(&v, c, &t);
		if (r == 0)
			r = reply(mc, TMPL_HANDED_OVER, t.id, &v);
		break;
	}
	case INTENT_TRANSFER:
		r = transition(mc, &t, to, target->id, -1, "transfer", target->id);
		if (r == 0)
			r = notify_worker(mc, TMPL_NOTIFY, target, &t);
		vars_ticket(&v, c, &t);
		if (r == 0)
			r = reply(mc, TMPL_HANDED_OVER, t.id, &v);
		break;
	default:
		r = -EINVAL;
	}
out:
	ticket_release(&t);
	return r < 0 ? r : 0;
}

/*
 * The free text of a parse, taken from the original message rather than
 * the normalised form (so the resident's own punctuation and full-width
 * characters are kept), trimmed. Heap string.
 */
static char *original_rest(const char *text, const char *norm, const char *rest)
{
	const char *s = text + text_original_offset(text, (size_t)(rest - norm));
	size_t n = strlen(s);

	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* Act on the text of a stored message from sender. */
static int act(struct msg_ctx *mc, const char *text)
{
	struct intake *in = mc->in;
	char *norm = text_normalize(text), *rest = NULL;
	struct parsed p;
	int r;

	if (mc->worker) {
		text_parse(in->worker_kw, norm, &p);
		if (p.intent != INTENT_NONE) {
			str_copy(mc->actor, sizeof(mc->actor), mc->worker->id);
			p.rest = rest = original_rest(text, norm, p.rest);
			r = worker_command(mc, &p);
			goto out;
		}
	}
	snprintf(mc->actor, sizeof(mc->actor), "resident:%s", mc->sender);
	text_parse(in->resident_kw, norm, &p);
	if (p.intent == INTENT_NONE && !mc->worker) {
		struct parsed pw;

		/* a worker command from a phone that is not a worker's */
		text_parse(in->worker_kw, norm, &pw);
		if (pw.intent != INTENT_NONE && pw.keyword_end - norm > 0 &&
		    strspn(norm, "0123456789") < (size_t)(pw.keyword_end - norm)) {
			r = deny(mc, pw.ticket, "仅登记的网格员可用此指令");
			goto out;
		}
	}
	if (p.intent == INTENT_NONE && !mc->worker && norm[0] >= '1' && norm[0] <= '3' &&
	    norm[1] == '\0') {
		struct parsed pr = p;

		/* a bare 1/2/3 answers the 回访 question, if there is one open */
		pr.ticket = rating_target(mc);
		if (pr.ticket) {
			pr.intent = INTENT_RATE;
			pr.rating = norm[0] - '0';
			pr.rest = "";
			r = cmd_rate(mc, &pr);
			goto out;
		}
	}
	if (p.intent == INTENT_NONE && mc->worker) {
		struct vars v = { 0 };

		/* staff chatter ("好的") is not a resident's request */
		r = reply(mc, TMPL_WORKER_HELP, 0, &v);
		goto out;
	}
	/*
	 * A keyword run into the text ("买菜不方便", "残疾证咋办") is part of
	 * the request: the ticket keeps the whole text. After a separator
	 * ("报修 下水管堵了") the keyword is only a label and is dropped.
	 */
	if (p.intent == INTENT_CATEGORY && p.rest == p.keyword_end)
		p.rest = norm;
	p.rest = rest = original_rest(text, norm, p.rest);
	switch (p.intent) {
	case INTENT_CATEGORY:
		r = new_ticket(mc, &in->cfg->categories[p.category], p.rest, norm);
		break;
	case INTENT_STATUS:
		r = cmd_status(mc, &p);
		break;
	case INTENT_CANCEL:
		r = cmd_cancel(mc, &p);
		break;
	case INTENT_RATE:
		r = cmd_rate(mc, &p);
		break;
	case INTENT_HELP:
		r = cmd_help(mc);
		break;
	case INTENT_STOP:
		r = cmd_stop(mc);
		break;
	default:
		r = new_ticket(mc, NULL, p.rest, norm);
		break;
	}
out:
	free(rest);
	free(norm);
	return r;
}

int intake_message(struct intake *in, const char *provider, const struct provider_msg *m,
		   int64_t now, bool *ret_dup)
{
	struct msg_ctx mc = { .in = in, .now = now };
	char phone[STORE_ID_MAX], ph[LOG_PHONE_MAX], esc[LOG_TEXT_MAX];
	const char *sender = NULL, *error = m->error;
	size_t bad = 0;
	char *text = text_utf8_fix(m->body, m->body_len, &bad);
	int r;

	*ret_dup = false;
	if (m->from && phone_normalize(m->from, in->cfg->country_code, phone, sizeof(phone)) == 0)
		sender = phone;
	else if (m->from && !error)
		error = "sender is not a phone number";
	else if (!m->from && !error && m->kind == PROVIDER_MSG_CALL)
		error = "a call without the caller's number";
	r = store_inbound_add(in->store, provider, m->id, sender ? sender : m->from, text,
			      m->received_at ? m->received_at : now, now, &mc.inbound_id, ret_dup);
	if (r < 0 || *ret_dup)
		goto out;
	if (bad)
		log_warn("message %lld from %s: %zu invalid UTF-8 byte(s) replaced by U+FFFD",
			 (long long)mc.inbound_id, log_phone(sender ? sender : m->from, ph), bad);
	if (error) {
		log_warn("message %lld from %s recorded but not acted on: %s", (long long)mc.inbound_id,
			 m->from ? log_phone(m->from, ph) : "(no sender)", log_text(error, esc));
		r = store_inbound_set_state(in->store, mc.inbound_id, IN_BAD, error);
		goto out;
	}
	mc.sender = sender;
	mc.worker = config_worker_by_phone(in->cfg, sender);
	r = store_savepoint(in->store);
	if (r < 0)
		goto out;
	r = m->kind == PROVIDER_MSG_CALL ? missed_call(&mc) : act(&mc, text);
	if (r == 0) {
		r = store_inbound_set_state(in->store, mc.inbound_id, IN_PROCESSED, NULL);
		if (r == 0)
			r = store_release(in->store);
	}
	if (r < 0) {
		char why[256];

		snprintf(why, sizeof(why), "not processed: %s (%s)", strerror(-r),
			 store_errmsg(in->store));
		store_rollback_to(in->store);
		log_error("message %lld from %s %s", (long long)mc.inbound_id, log_phone(sender, ph), why);
		r = store_inbound_set_state(in->store, mc.inbound_id, IN_BAD, why);
	}
out:
	free(text);
	return r;
}

/* ---- the ticket clock ---- */

/* "11月27日10:30" (local time) into buf. */
static const char *short_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	snprintf(buf, size, "%d月%d日%02d:%02d", tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
	return buf;
}

/* Every operator (leaders when there are none) gets template id about t. */
static int tell_operators(struct msg_ctx *mc, enum tmpl_id id, const struct ticket *t,
			  const struct vars *v)
{
	const struct config *c = mc->in->cfg;
	enum worker_role role = config_worker_by_role(c, ROLE_OPERATOR) ? ROLE_OPERATOR : ROLE_LEADER;
	int r = 0, n = 0;

	for (size_t i = 0; r == 0 && i < c->n_workers; i++)
		if (c->workers[i].role == role && ++n)
			r = queue(mc, id, c->workers[i].phone, t->id, v);
	return r < 0 ? r : n;
}

/* Stage st of the chase of t's active deadline, due at due. */
static int chase_stage(struct msg_ctx *mc, const struct ticket *t, int st, int64_t due)
{
	const struct config *c = mc->in->cfg;
	const struct worker *w = t->assignee[0] ? config_worker(c, t->assignee) : NULL;
	const char *what = t->status == TS_ACCEPTED ? "办结" : "接单";
	struct log_fields f = { t->id, st == 1 ? "remind" : "escalate",
				t->grid[0] ? t->grid : NULL, w ? w->id : NULL };
	char when[40], detail[160], at[32];
	struct vars v = { 0 };
	int n = 0, r;

	vars_ticket(&v, c, t);
	v.v[V_DUE] = short_time(due, when, sizeof(when));
	v.v[V_WHAT] = what;
	if (st == 1)
		n = w ? (queue(mc, TMPL_REMIND, w->phone, t->id, &v) < 0 ? -EIO : 1) : 0;
	else if (st == 2)
		n = tell_leaders(mc, TMPL_OVERDUE, t, &v);
	else
		n = tell_operators(mc, TMPL_OVERDUE, t, &v);
	if (n < 0)
		return n;
	snprintf(detail, sizeof(detail), "%s deadline %s: %s (%d told)", what,
		 util_fmt_time(due, at, sizeof(at)),
		 st == 1 ? "reminder to the assignee" : st == 2 ? "to the grid leader" : "to the operators",
		 n);
	r = store_event_add(mc->in->store, t->id, mc->now, "system", f.event,
			    ticket_status_name(t->status), ticket_status_name(t->status), detail, 0);
	if (r == 0)
		log_event(st == 1 ? LOG_INFO : LOG_WARNING, &f, "ticket %lld: %s", (long long)t->id,
			  detail);
	return r;
}

/* A 回访 nobody answered: the ticket closes unrated. */
static int close_unrated(struct msg_ctx *mc, struct ticket *t)
{
	enum ticket_status to;
	char detail[80];

	if (ticket_next(t->status, TA_CLOSE, &to) < 0)
		return 0;
	snprintf(detail, sizeof(detail), "no rating within %.0f days", mc->in->cfg->wf.rating_window / 86400);
	return transition(mc, t, to, NULL, -1, "unrated", detail);
}

struct tick {
	struct intake *in;
	int64_t now;
	int n;
};

static int tick_one(void *ud, const struct ticket *due_t)
{
	struct tick *tk = ud;
	struct msg_ctx mc = { .in = tk->in, .now = tk->now };
	struct ticket t = *due_t;    /* text borrowed: not released here */
	int64_t s, d;
	int target, r = 0;

	str_copy(mc.actor, sizeof(mc.actor), "system");
	mc.urgent = t.clk.urgent;
	tk->n++;
	if (t.status == TS_DONE && t.clk.rate_asked_at &&
	    tk->now >= t.clk.rate_asked_at + (int64_t)tk->in->cfg->wf.rating_window)
		return close_unrated(&mc, &t);
	if (active_deadline(tk->in->cfg, &t, &s, &d)) {
		target = deadline_stage_now(s, d, tk->now);
		for (int st = t.clk.stage + 1; r == 0 && st <= target; st++)
			r = chase_stage(&mc, &t, st, d);
		if (target > t.clk.stage)
			t.clk.stage = target;
	}
	if (r < 0)
		return r;
	t.clk.next_check = chase_next(tk->in->cfg, &t);
	if (t.status == TS_DONE && t.clk.rate_asked_at)
		t.clk.next_check = t.clk.rate_asked_at + (int64_t)tk->in->cfg->wf.rating_window;
	if (t.clk.next_check && t.clk.next_check <= tk->now)
		t.clk.next_check = tk->now + 1;   /* never the same one again in this tick */
	return store_ticket_set_clock(tk->in->store, t.id, &t.clk);
}

int intake_tick(struct intake *in, int64_t now)
{
	struct tick tk = { in, now, 0 };
	int r = store_tickets_due(in->store, now, in->cfg->limits.batch, tick_one, &tk);

	return r < 0 ? r : tk.n;
}

/* ---- the grid leaders' daily text ---- */

#define DAILY_KEY "workflow.daily_summary"   /* in the cursor table: the last day sent */

/* Local midnight of the day of t, and that day as "YYYY-MM-DD". */
static int64_t local_midnight(int64_t t, char *day, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	localtime_r(&tt, &tm);
	strftime(day, size, "%Y-%m-%d", &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

int64_t intake_daily_next(struct intake *in, int64_t now)
{
	int at = in->cfg->wf.daily_summary;
	char day[16], last[16];
	int64_t today;

	if (at < 0)
		return 0;
	today = local_midnight(now, day, sizeof(day));
	if (store_cursor_get(in->store, DAILY_KEY, last, sizeof(last)) == 0 && strcmp(last, day) >= 0)
		return local_midnight(today + 36 * 3600, day, sizeof(day)) + at * 60;   /* tomorrow */
	return today + at * 60;
}

static int daily_one(struct msg_ctx *mc, const struct grid *g, int64_t since, int64_t until)
{
	const struct config *c = mc->in->cfg;
	const struct worker *leader = config_grid_leader(c, g);
	struct grid_day gd = { 0 };
	struct vars v = { 0 };
	char count[24], list[120];
	int r = store_grid_day(mc->in->store, g->id, since, until, mc->now, &gd);

	if (r < 0)
		return r;
	snprintf(count, sizeof(count), "%lld", (long long)gd.received);
	snprintf(list, sizeof(list), "待接单%lld件，办理中%lld件，其中超时%lld件", (long long)gd.waiting,
		 (long long)gd.in_hand, (long long)gd.overdue);
	v.v[V_GRID] = g->name;
	v.v[V_COUNT] = count;
	v.v[V_LIST] = list;
	if (leader)
		return queue(mc, TMPL_DAILY, leader->phone, 0, &v);
	for (size_t i = 0; r == 0 && i < c->n_workers; i++)
		if (c->workers[i].role == ROLE_LEADER)
			r = queue(mc, TMPL_DAILY, c->workers[i].phone, 0, &v);
	return r;
}

int intake_daily(struct intake *in, int64_t now)
{
	struct msg_ctx mc = { .in = in, .now = now };
	int64_t due = intake_daily_next(in, now), today, yesterday;
	char day[16], prev[16];
	int r = 0;

	if (!due || due > now)
		return 0;
	str_copy(mc.actor, sizeof(mc.actor), "system");
	today = local_midnight(now, day, sizeof(day));
	yesterday = local_midnight(today - 12 * 3600, prev, sizeof(prev));
	for (size_t i = 0; r == 0 && i < in->cfg->n_grids; i++)
		r = daily_one(&mc, &in->cfg->grids[i], yesterday, today);
	if (r == 0)
		r = store_cursor_set(in->store, DAILY_KEY, day, now);
	if (r == 0)
		log_info("daily summary for %zu grid(s) queued to their leaders", in->cfg->n_grids);
	return r < 0 ? r : 1;
}

/* An operator closes t; a worker who had it in hand is told to stop. */
static int op_close(struct msg_ctx *mc, struct ticket *t, enum ticket_status to, const char *note)
{
	const struct worker *w = t->assignee[0] ? config_worker(mc->in->cfg, t->assignee) : NULL;
	bool in_hand = t->status == TS_ASSIGNED || t->status == TS_ACCEPTED;
	struct vars v = { 0 };
	int r = transition(mc, t, to, NULL, -1, "close", note);

	if (r < 0 || !w || !in_hand)
		return r;
	vars_ticket(&v, mc->in->cfg, t);
	v.v[V_NOTE] = note ? note : "";
	return queue(mc, TMPL_CLOSED_WORKER, w->phone, t->id, &v);
}

/* ---------------------------------------------------------------------------
 * The phone side of the hotline: what an operator does with gridlinectl
 * (ticket new / assign / close / reopen / note). Same ticket, routing,
 * history and texts as the SMS path above; the caller holds the
 * transaction.
 */

/* A refusal: the reason into err (may be NULL; a cut reason is still a reason). */
static int refuse(char *err, size_t size, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int refuse(char *err, size_t size, int r, const char *fmt, ...)
{
	va_list ap;

	if (err && size) {
		va_start(ap, fmt);
		vsnprintf(err, size, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* The configured worker id as an operator acting in mc; -EINVAL otherwise. */
static int operator_actor(struct msg_ctx *mc, const char *id, const struct worker **ret_w,
			  char *err, size_t size)
{
	const struct worker *w = id ? config_worker(mc->in->cfg, id) : NULL;

	if (!w)
		return refuse(err, size, -EINVAL, "unknown operator '%s': not a worker of the "
			      "configuration", id ? id : "");
	if (w->role != ROLE_OPERATOR)
		return refuse(err, size, -EINVAL, "%s is not an operator (role %s)", w->id,
			      worker_role_name(w->role));
	snprintf(mc->actor, sizeof(mc->actor), "operator:%s", w->id);
	*ret_w = w;
	return 0;
}

/* s trimmed of ASCII white space (heap), or -EINVAL when blank or not UTF-8. */
static int clean_text(const char *s, const char *what, char **ret, char *err, size_t size)
{
	size_t bad = 0, n;
	char *fixed;

	if (!s)
		return refuse(err, size, -EINVAL, "%s is missing", what);
	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n > 0 && strchr(" \t\r\n", s[n - 1]))
		n--;
	if (n == 0)
		return refuse(err, size, -EINVAL, "%s is empty", what);
	fixed = text_utf8_fix(s, n, &bad);
	free(fixed);
	if (bad)
		return refuse(err, size, -EINVAL, "%s is not valid UTF-8", what);
	*ret = xstrndup(s, n);
	return 0;
}

/* "repair, errand, service" into buf. */
static const char *category_ids(const struct config *c, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->n_categories && used < size; i++) {
		int n = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", c->categories[i].id);

		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

int intake_phone_ticket(struct intake *in, const char *phone, const char *category,
			const char *text, const char *operator_id, int64_t now, int64_t *ret_id,
			char *err, size_t errsize)
{
	struct msg_ctx mc = { .in = in, .now = now, .channel = "phone" };
	const struct category *cat = category ? config_category(in->cfg, category) : NULL;
	const struct worker *op;
	char e164[STORE_ID_MAX], ids[256], *clean = NULL, *norm;
	int r;

	r = operator_actor(&mc, operator_id, &op, err, errsize);
	if (r < 0)
		return r;
	if (!phone || phone_normalize(phone, in->cfg->country_code, e164, sizeof(e164)) < 0)
		return refuse(err, errsize, -EINVAL, "not a phone number: '%s'", phone ? phone : "");
	if (!cat)
		return refuse(err, errsize, -EINVAL, "unknown category '%s' (configured: %s)",
			      category ? category : "", category_ids(in->cfg, ids, sizeof(ids)));
	r = clean_text(text, "the text", &clean, err, errsize);
	if (r < 0)
		return r;
	mc.sender = e164;
	/* routing reads the normalised text, as for an SMS */
	norm = text_normalize(clean);
	r = new_ticket(&mc, cat, clean, norm);
	free(norm);
	free(clean);
	if (r == 0)
		*ret_id = mc.ticket;
	return r;
}

/* Operators' authority (ticket_authorize) and the state machine (ticket_next). */
static int operator_allowed(const struct worker *op, const struct ticket *t,
			    enum ticket_action a, enum ticket_status *ret_to, char *err, size_t size)
{
	struct actor who = { .kind = ACTOR_OPERATOR, .phone = op->phone, .worker = op->id };
	struct ticket_ref ref = { t->status, t->phone, t->grid, t->assignee };

	if (ticket_authorize(&who, &ref, a) < 0)
		return refuse(err, size, -EACCES, "an operator may not %s ticket %lld",
			      ticket_action_name(a), (long long)t->id);
	if (ticket_next(t->status, a, ret_to) < 0)
		return refuse(err, size, -EPERM, "cannot %s ticket %lld: it is %s",
			      ticket_action_name(a), (long long)t->id, ticket_status_name(t->status));
	return 0;
}

/*
 * Assign t to w: the usual new-ticket notice to w (whose bare replies now
 * mean t), and to the previous assignee, if another, the handed-over text.
 */
static int op_assign(struct msg_ctx *mc, struct ticket *t, enum ticket_status to,
		     const struct worker *w)
{
	const struct worker *old = t->assignee[0] ? config_worker(mc->in->cfg, t->assignee) : NULL;
	struct vars v = { 0 };
	int r;

	r = transition(mc, t, to, w->id, -1, "assign", w->id);
	if (r == 0)
		r = notify_worker(mc, TMPL_NOTIFY, w, t);
	if (r == 0 && old && old != w) {
		vars_ticket(&v, mc->in->cfg, t);
		r = queue(mc, TMPL_HANDED_OVER, old->phone, t->id, &v);
	}
	return r;
}

/*
 * Reopen t: back to its assignee with the new-ticket notice; a ticket
 * without one (closed while new, or its worker gone from the
 * configuration) goes back to "new" and the operators' queue.
 */
static int op_reopen(struct msg_ctx *mc, struct ticket *t, enum ticket_status to)
{
	const struct worker *w = t->assignee[0] ? config_worker(mc->in->cfg, t->assignee) : NULL;
	int r;

	if (w) {
		r = transition(mc, t, to, NULL, -1, "reopen", NULL);
		return r < 0 ? r : notify_worker(mc, TMPL_NOTIFY, w, t);
	}
	r = transition(mc, t, TS_NEW, "", -1, "reopen", "no assignee: to the operators' queue");
	return r < 0 ? r : notify_operators(mc, t);
}

/* A note: one event, no change of state, nobody texted. */
static int op_note(struct msg_ctx *mc, const struct ticket *t, const char *note)
{
	struct log_fields f = { t->id, "note", t->grid[0] ? t->grid : NULL,
				t->assignee[0] ? t->assignee : NULL };
	int r = store_event_add(mc->in->store, t->id, mc->now, mc->actor, "note", NULL, NULL, note, 0);

	if (r == 0)
		log_event(LOG_INFO, &f, "ticket %lld: note by %s", (long long)t->id, mc->actor);
	return r;
}

/* Check the arguments of op: the worker for an assignment, the note. */
static int op_args(struct msg_ctx *mc, enum intake_op op, const char *arg,
		   const struct worker **ret_w, char **ret_note, char *err, size_t size)
{
	if (op == INTAKE_OP_ASSIGN) {
		*ret_w = arg ? config_worker(mc->in->cfg, arg) : NULL;
		if (!*ret_w)
			return refuse(err, size, -EINVAL, "unknown worker '%s'", arg ? arg : "");
		return 0;
	}
	if (op == INTAKE_OP_NOTE || (op == INTAKE_OP_CLOSE && arg))
		return clean_text(arg, "the note", ret_note, err, size);
	return 0;
}

int intake_operator(struct intake *in, int64_t id, enum intake_op op, const char *arg,
		    const char *operator_id, int64_t now, char *err, size_t errsize)
{
	static const enum ticket_action acts[_INTAKE_OP_MAX] = {
		[INTAKE_OP_ASSIGN] = TA_ASSIGN, [INTAKE_OP_CLOSE] = TA_CLOSE,
		[INTAKE_OP_REOPEN] = TA_REOPEN,
	};
	struct msg_ctx mc = { .in = in, .now = now };
	const struct worker *op_w, *target = NULL;
	enum ticket_status to;
	struct ticket t;
	char *note = NULL;
	int r;

	if ((unsigned)op >= _INTAKE_OP_MAX)
		return refuse(err, errsize, -EINVAL, "unknown operation");
	r = operator_actor(&mc, operator_id, &op_w, err, errsize);
	if (r == 0)
		r = op_args(&mc, op, arg, &target, &note, err, errsize);
	if (r < 0)
		return r;
	r = store_ticket_get(in->store, id, &t);
	if (r < 0) {
		free(note);
		return r == -ENOENT ? refuse(err, errsize, r, "no ticket %lld", (long long)id) : r;
	}
	if (op == INTAKE_OP_NOTE)
		r = op_note(&mc, &t, note);
	else
		r = operator_allowed(op_w, &t, acts[op], &to, err, errsize);
	if (r == 0 && op == INTAKE_OP_ASSIGN)
		r = op_assign(&mc, &t, to, target);
	else if (r == 0 && op == INTAKE_OP_CLOSE)
		r = op_close(&mc, &t, to, note);
	else if (r == 0 && op == INTAKE_OP_REOPEN)
		r = op_reopen(&mc, &t, to);
	ticket_release(&t);
	free(note);
	return r;
}
