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
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "outbox.h"
#include "util.h"

struct outcome {
	int64_t id;
	char recipient[STORE_ID_MAX];
	int attempts;            /* attempts before this one */
	int64_t ticket;
	struct provider_result res;
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
	free(o);
}

void outbox_set_config(struct outbox *o, const struct config *cfg, struct provider *p)
{
	o->cfg = cfg;
	if (p != o->provider)
		o->inflight.n = 0;   /* the old provider is gone, and its answers with it */
	o->provider = p;
}

void outbox_set_wake(struct outbox *o, outbox_wake_cb wake, void *ud)
{
	o->wake = wake;
	o->wake_ud = ud;
}

size_t outbox_inflight(const struct outbox *o)
{
	return o->inflight.n;
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

static void on_sent(void *ud, int64_t id, const struct provider_result *r)
{
	struct outbox *o = ud;

	for (size_t i = 0; i < o->inflight.n; i++) {
		if (o->inflight.v[i].id != id)
			continue;
		struct outcome *a = list_push(&o->answered);
		*a = o->inflight.v[i];
		a->res = *r;
		o->inflight.v[i] = o->inflight.v[--o->inflight.n];
		if (!o->flushing && o->wake)
			o->wake(o->wake_ud);
		return;
	}
}

/* Record one outcome; called inside a transaction. */
static int record_one(struct outbox *o, const struct outcome *oc, int64_t now)
{
	const struct limits *l = &o->cfg->limits;
	struct log_fields f = { .ticket = oc->ticket, .event = "sms" };
	char ph[LOG_PHONE_MAX];
	int attempt = oc->attempts + 1;

	if (oc->res.status == 0)
		return store_outbox_mark_sent(o->store, oc->id, oc->res.provider_id, now);
	if (oc->res.status == -EAGAIN && attempt < (int)l->send_attempts) {
		double d = outbox_backoff(l, attempt, oc->res.retry_after);
		log_event(LOG_WARNING, &f, "text %lld to %s not sent (attempt %d): %s; retry in %.0f s",
			  (long long)oc->id, log_phone(oc->recipient, ph), attempt, oc->res.error, d);
		return store_outbox_mark_retry(o->store, oc->id, now + (int64_t)ceil(d),
					       oc->res.error);
	}
	f.event = "sms_failed";
	log_event(LOG_ERR, &f, "text %lld to %s failed after %d attempt(s): %s", (long long)oc->id,
		  log_phone(oc->recipient, ph), attempt, oc->res.error);
	return store_outbox_mark_failed(o->store, oc->id, oc->res.error, now);
}

int outbox_record(struct outbox *o, int64_t now)
{
	int r;

	if (o->answered.n == 0)
		return 0;
	r = store_begin(o->store);
	for (size_t i = 0; r == 0 && i < o->answered.n; i++)
		r = record_one(o, &o->answered.v[i], now);
	r = r == 0 ? store_commit(o->store) : (store_rollback(o->store), r);
	if (r < 0)   /* the answers stay; the rows stay queued and are sent again */
		return log_errno(LOG_ERR, r, "outbox: %s", store_errmsg(o->store));
	o->answered.n = 0;
	return 0;
}

static bool in_flight(const struct outbox *o, int64_t id)
{
	for (size_t i = 0; i < o->inflight.n; i++)
		if (o->inflight.v[i].id == id)
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

	if (c->n == c->max || in_flight(c->o, m->id))
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
	r = store_outbox_due(o->store, now, c.max + o->inflight.n, collect_due, &c);
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
