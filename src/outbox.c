/*
 * outbox.c — hand queued texts to the provider and record what happened.
 *
 * A flush reads due rows, hands each to the provider, and records the
 * outcomes in one transaction. Providers may answer at once (the spool)
 * or later, from the event loop (HTTP): a text handed over is "in
 * flight" until its answer comes, and is not handed over again meanwhile;
 * late answers are kept until outbox_record() (the daemon is woken to
 * call it). Rows are marked only after the provider has answered, so a
 * crash in between sends the text again; providers make that harmless
 * (the spool overwrites the same file; HTTP adapters send an idempotency
 * key or check what the provider already has).
 *
 * Pacing: with provider.rate > 0, texts are handed over one every
 * 1/rate seconds, never in a burst — also after a restart with a large
 * backlog queued.
 *
 * Delivery: when the provider reports delivery, a sent row's
 * next_attempt is the time of its next status check; checks come often
 * at first, then more rarely (half the text's age, 2 s .. 10 min), and a
 * text with no final status after provider.status_timeout becomes
 * unknown. A failed text to a worker is an error-level log line and,
 * with provider.undelivered_to_operators, a copy to the operators.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"
#include "sms.h"
#include "util.h"

#define CHECK_MIN 2          /* seconds between delivery checks, at first */
#define CHECK_MAX 600        /* ... and at most */

struct outcome {
	int64_t id;
	char recipient[STORE_ID_MAX];
	int attempts;            /* attempts before this one */
	int64_t ticket;
	int64_t sent_at;         /* status checks */
	struct provider_result res;
	struct provider_status st;
};

struct list {
	struct outcome *v;
	size_t n, cap;
};

struct outbox {
	const struct config *cfg;
	struct store *store;
	struct provider *provider;
	struct list inflight;    /* handed over, no answer yet */
	struct list answered;    /* answered, not yet recorded */
	struct list checking;    /* status asked, no answer yet */
	struct list checked;     /* status answered, not yet recorded */
	int64_t once_start;      /* --once: the run's start; rows retried since wait */
	uint64_t next_send;      /* pacing: monotonic usec of the next allowed send */
	bool paced;              /* the last flush left due rows behind for pacing */
	bool flushing;
	outbox_wake_cb wake;
	void *wake_ud;
};

static struct outcome *list_push(struct list *l)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	return memset(&l->v[l->n++], 0, sizeof(*l->v));
}

struct outbox *outbox_new(const struct config *cfg, struct store *store, struct provider *p)
{
	struct outbox *o = xcalloc(1, sizeof(*o));

	o->cfg = cfg;
	o->store = store;
	o->provider = p;
	return o;
}

void outbox_free(struct outbox *o)
{
	if (!o)
		return;
	free(o->inflight.v);
	free(o->answered.v);
	free(o->checking.v);
	free(o->checked.v);
	free(o);
}

void outbox_set_config(struct outbox *o, const struct config *cfg, struct provider *p)
{
	o->cfg = cfg;
	if (p != o->provider) {  /* the old provider is gone, and its answers with it */
		o->inflight.n = 0;
		o->checking.n = 0;
	}
	o->provider = p;
}

void outbox_set_wake(struct outbox *o, outbox_wake_cb wake, void *ud)
{
	o->wake = wake;
	o->wake_ud = ud;
}

void outbox_set_once(struct outbox *o, int64_t start)
{
	o->once_start = start;
}

size_t outbox_inflight(const struct outbox *o)
{
	return o->inflight.n + o->checking.n;
}

uint64_t outbox_paced_until(const struct outbox *o)
{
	return o->paced ? o->next_send : 0;
}

double outbox_backoff(const struct limits *l, int attempt, double retry_after)
{
	double d = l->retry_min * pow(2.0, attempt > 1 ? attempt - 1 : 0);

	if (d > l->retry_max)
		d = l->retry_max;
	d *= 0.5 + 0.5 * util_random();
	return d < retry_after ? retry_after : d;
}

/* Move id's entry from `from` to `to`; the new entry, or NULL if id is not in `from`. */
static struct outcome *list_move(struct list *from, struct list *to, int64_t id)
{
	for (size_t i = 0; i < from->n; i++) {
		if (from->v[i].id != id)
			continue;
		struct outcome *a = list_push(to);
		*a = from->v[i];
		from->v[i] = from->v[--from->n];
		return a;
	}
	return NULL;
}

static void answered(struct outbox *o)
{
	if (!o->flushing && o->wake)
		o->wake(o->wake_ud);
}

static void on_sent(void *ud, int64_t id, const struct provider_result *r)
{
	struct outbox *o = ud;
	struct outcome *a = list_move(&o->inflight, &o->answered, id);

	if (a) {
		a->res = *r;
		answered(o);
	}
}

static void on_status(void *ud, int64_t id, const struct provider_status *st)
{
	struct outbox *o = ud;
	struct outcome *a = list_move(&o->checking, &o->checked, id);

	if (a) {
		a->st = *st;
		answered(o);
	}
}

/* When to ask again about a text sent at sent_at: sooner while it is young. */
static int64_t next_check(const struct outbox *o, int64_t sent_at, int64_t now, double at_least)
{
	int64_t d = (now - sent_at) / 2, end;

	d = d < CHECK_MIN ? CHECK_MIN : d > CHECK_MAX ? CHECK_MAX : d;
	if (d < (int64_t)ceil(at_least))
		d = (int64_t)ceil(at_least);
	/* never past the deadline: the text becomes unknown on time */
	end = sent_at + (int64_t)ceil(o->cfg->provider.status_timeout);
	return now + d > end && end > now ? end : now + d;
}

/* Record one outcome; called inside a transaction. */
static int record_one(struct outbox *o, const struct outcome *oc, int64_t now)
{
	const struct limits *l = &o->cfg->limits;
	struct log_fields f = { .ticket = oc->ticket, .event = "sms" };
	char ph[LOG_PHONE_MAX];
	int attempt = oc->attempts + 1;

	if (oc->res.status == 0)
		return store_outbox_mark_sent(o->store, oc->id, oc->res.provider_id, now,
					      next_check(o, now, now, 0));
	if (oc->res.status == -EAGAIN && attempt < (int)l->send_attempts) {
		double d = outbox_backoff(l, attempt, oc->res.retry_after);
		/* now is whole seconds: add the second's elapsed fraction, so a
		   sub-second wait is never cut short */
		double frac = util_now_real() - (double)util_now();
		int64_t at = now + (int64_t)ceil((frac > 0 && frac < 1 ? frac : 0) + d);
		log_event(LOG_WARNING, &f, "text %lld to %s not sent (attempt %d): %s; retry in %.1f s",
			  (long long)oc->id, log_phone(oc->recipient, ph), attempt, oc->res.error, d);
		return store_outbox_mark_retry(o->store, oc->id, at > now ? at : now + 1,
					       oc->res.error);
	}
	f.event = "sms_failed";
	log_event(LOG_ERR, &f, "text %lld to %s failed after %d attempt(s): %s", (long long)oc->id,
		  log_phone(oc->recipient, ph), attempt, oc->res.error);
	return store_outbox_mark_failed(o->store, oc->id, oc->res.error, now);
}

/* A text to a worker did not arrive: tell the operators (not about their own texts). */
static int copy_undelivered(struct outbox *o, const struct outcome *oc,
			    const struct worker *w, int64_t now)
{
	const struct config *c = o->cfg;
	char ticket[24];
	struct sms_var v[] = { { "ticket", ticket }, { "worker", w->name },
			       { "reason", oc->st.error } };
	struct sms_count cnt;
	char *body;
	int r = 0;

	if (!c->provider.undelivered_to_operators || w->role == ROLE_OPERATOR)
		return 0;
	snprintf(ticket, sizeof(ticket), "%lld", (long long)oc->ticket);
	if (sms_render(c->templates[TMPL_UNDELIVERED], v, ELEMENTSOF(v), c->limits.reply_segments,
		       "reason", &body) < 0)
		return 0;   /* checked at load; nothing to send */
	sms_count(body, &cnt);
	for (size_t i = 0; r == 0 && i < c->n_workers; i++)
		if (c->workers[i].role == ROLE_OPERATOR)
			r = store_outbox_add(o->store, c->workers[i].phone, body, oc->ticket, 0,
					     tmpl_name(TMPL_UNDELIVERED), (int)cnt.segments, now,
					     NULL);
	free(body);
	return r;
}

/* Record one delivery-status answer; called inside a transaction. */
static int record_check(struct outbox *o, const struct outcome *oc, int64_t now)
{
	struct log_fields f = { .ticket = oc->ticket, .event = "sms_delivery" };
	const struct worker *w;
	char ph[LOG_PHONE_MAX];
	int r;

	if (oc->st.err < 0 || oc->st.state == DELIVERY_PENDING) {
		r = store_outbox_mark_check(o->store, oc->id,
					    next_check(o, oc->sent_at, now, oc->st.retry_after));
		return r == -ENOENT ? 0 : r;   /* became final or unknown meanwhile */
	}
	if (oc->st.state == DELIVERY_DELIVERED) {
		r = store_outbox_mark_final(o->store, oc->id, OB_DELIVERED, NULL, now);
		if (r == 0)
			log_event(LOG_DEBUG, &f, "text %lld to %s delivered", (long long)oc->id,
				  log_phone(oc->recipient, ph));
		return r == -ENOENT ? 0 : r;
	}
	r = store_outbox_mark_final(o->store, oc->id, OB_FAILED, oc->st.error, now);
	if (r < 0)
		return r == -ENOENT ? 0 : r;
	f.event = "sms_undelivered";
	w = config_worker_by_phone(o->cfg, oc->recipient);
	if (!w) {
		log_event(LOG_WARNING, &f, "text %lld to %s was not delivered: %s",
			  (long long)oc->id, log_phone(oc->recipient, ph), oc->st.error);
		return 0;
	}
	f.worker = w->id;
	log_event(LOG_ERR, &f, "text %lld to worker %s (%s) was not delivered: %s",
		  (long long)oc->id, w->id, log_phone(oc->recipient, ph), oc->st.error);
	return copy_undelivered(o, oc, w, now);
}

int outbox_record(struct outbox *o, int64_t now)
{
	int r;

	if (o->answered.n == 0 && o->checked.n == 0)
		return 0;
	r = store_begin(o->store);
	for (size_t i = 0; r == 0 && i < o->answered.n; i++)
		r = record_one(o, &o->answered.v[i], now);
	for (size_t i = 0; r == 0 && i < o->checked.n; i++)
		r = record_check(o, &o->checked.v[i], now);
	r = r == 0 ? store_commit(o->store) : (store_rollback(o->store), r);
	if (r < 0)   /* the answers stay; the rows stay queued and are sent again */
		return log_errno(LOG_ERR, r, "outbox: %s", store_errmsg(o->store));
	o->answered.n = 0;
	o->checked.n = 0;
	return 0;
}

static bool in_list(const struct list *l, int64_t id)
{
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].id == id)
			return true;
	return false;
}

/* How many texts pacing allows now (SIZE_MAX when unpaced). */
static size_t pace_budget(struct outbox *o)
{
	double rate = o->cfg->provider.rate;
	uint64_t now = util_mono_usec();

	if (rate <= 0)
		return SIZE_MAX;
	if (o->next_send < now)
		o->next_send = now;          /* no credit for idle time: no bursts */
	return o->next_send <= now ? 1 : 0;
}

static void pace_spend(struct outbox *o)
{
	double rate = o->cfg->provider.rate;

	if (rate > 0)
		o->next_send += (uint64_t)(1e6 / rate);
}

struct collect {
	struct outbox *o;
	struct outbox_msg *msgs;
	size_t n, max;
};

static int collect_due(void *ud, const struct outbox_msg *m)
{
	struct collect *c = ud;
	struct outbox_msg *d;

	if (c->n == c->max || in_list(&c->o->inflight, m->id))
		return 0;
	d = &c->msgs[c->n++];
	*d = *m;
	d->body = xstrdup(m->body);
	d->error = NULL;
	return 0;
}

/* One round: hand over up to limits.batch due rows. Returns rows handed over or <0. */
static int outbox_round(struct outbox *o, int64_t now, size_t budget)
{
	size_t batch = o->cfg->limits.batch;
	struct collect c = { o, NULL, 0, budget < batch ? budget : batch };
	int r;

	c.msgs = xcalloc(c.max, sizeof(struct outbox_msg));
	/* ask for more than we take: rows in flight are skipped */
	/* --once: a text already tried in this run waits for the next run */
	r = store_outbox_due(o->store, now, o->once_start ? o->once_start : INT64_MAX,
			     c.max + o->inflight.n, collect_due, &c);
	for (size_t i = 0; r == 0 && i < c.n; i++) {
		struct outbox_msg *m = &c.msgs[i];
		struct outcome *oc = list_push(&o->inflight);

		oc->id = m->id;
		oc->attempts = m->attempts;
		oc->ticket = m->ticket;
		str_copy(oc->recipient, sizeof(oc->recipient), m->recipient);
		struct provider_out out = { .id = m->id, .to = m->recipient, .body = m->body,
					    .attempts = m->attempts, .created_at = m->created_at };
		pace_spend(o);
		if (o->provider->ops->send(o->provider, &out, on_sent, o) < 0) {
			struct provider_result res = { .status = -EAGAIN };
			str_copy(res.error, sizeof(res.error), "provider could not start the send");
			on_sent(o, m->id, &res);
		}
	}
	for (size_t i = 0; i < c.n; i++)
		free(c.msgs[i].body);
	free(c.msgs);
	if (r < 0)
		return r;
	r = outbox_record(o, now);
	return r < 0 ? r : (int)c.n;
}

int outbox_flush(struct outbox *o, int64_t now)
{
	size_t batch = o->cfg->limits.batch, budget;
	int total = 0, r;
	int64_t at;

	o->flushing = true;
	r = outbox_record(o, now);
	o->paced = false;
	while (r >= 0) {
		budget = pace_budget(o);
		if (budget == 0) {           /* more waiting? then pacing holds it back */
			o->paced = store_outbox_next_due(o->store, &at) == 0 && at <= now;
			break;
		}
		r = outbox_round(o, now, budget);
		if (r > 0)
			total += r;
		if (r < (int)(budget < batch ? budget : batch))
			break;               /* nothing more due */
	}
	o->flushing = false;
	if (r < 0)
		return log_errno(LOG_ERR, r, "outbox: %s", store_errmsg(o->store));
	return total;
}

struct due_checks {
	struct outbox *o;
	struct provider_query *q;
	char (*pid)[128];
	size_t n, max;
};

static int collect_check(void *ud, const struct outbox_msg *m)
{
	struct due_checks *c = ud;
	struct outcome *oc;

	if (c->n == c->max || in_list(&c->o->checking, m->id))
		return 0;
	oc = list_push(&c->o->checking);
	oc->id = m->id;
	oc->ticket = m->ticket;
	oc->sent_at = m->sent_at;
	str_copy(oc->recipient, sizeof(oc->recipient), m->recipient);
	str_copy(c->pid[c->n], sizeof(c->pid[c->n]), m->provider_id);
	c->q[c->n] = (struct provider_query){ m->id, c->pid[c->n], m->sent_at };
	c->n++;
	return 0;
}

/* Ask about one round of due texts, at most status_max per call. */
static int check_round(struct outbox *o, int64_t now, size_t max)
{
	const struct provider_ops *ops = o->provider->ops;
	struct due_checks c = { o, xcalloc(max, sizeof(*c.q)), xcalloc(max, sizeof(*c.pid)), 0, max };
	size_t per = ops->status_max ? ops->status_max : 1;
	int r;

	r = store_outbox_checks_due(o->store, now, max + o->checking.n, collect_check, &c);
	for (size_t i = 0; r == 0 && i < c.n; i += per) {
		size_t k = c.n - i < per ? c.n - i : per;
		if (ops->status(o->provider, &c.q[i], k, on_status, o) < 0) {
			struct provider_status st = { .err = -EAGAIN };
			for (size_t j = i; j < i + k; j++)
				on_status(o, c.q[j].outbox_id, &st);
		}
	}
	free(c.q);
	free(c.pid);
	return r < 0 ? r : (int)c.n;
}

int outbox_check(struct outbox *o, int64_t now)
{
	int64_t n = 0;
	int r;

	if (!o->provider->ops->status)
		return 0;
	o->flushing = true;
	r = store_outbox_expire(o->store,
				now - (int64_t)ceil(o->cfg->provider.status_timeout),
				"no final delivery status within provider.status_timeout", now, &n);
	if (r == 0 && n > 0)
		log_notice("%lld text(s) got no final delivery status within %.0f s: unknown",
			   (long long)n, o->cfg->provider.status_timeout);
	if (r == 0)
		r = check_round(o, now, o->cfg->limits.batch);
	if (r >= 0)
		r = outbox_record(o, now);   /* answers that came at once */
	o->flushing = false;
	if (r < 0)
		return log_errno(LOG_ERR, r, "outbox: %s", store_errmsg(o->store));
	return 0;
}

int outbox_next_wake(struct outbox *o, int64_t *ret_at)
{
	int64_t due, check;
	int r = store_outbox_next_due(o->store, &due);
	int rc = o->provider->ops->status ? store_outbox_next_check(o->store, &check) : -ENOENT;

	if (r < 0 && rc < 0)
		return r == -ENOENT ? rc : r;
	*ret_at = r < 0 ? check : rc < 0 ? due : due < check ? due : check;
	return 0;
}
