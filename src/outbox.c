/*
 * outbox.c — hand queued texts to the provider and record what happened.
 *
 * A round: read up to limits.batch due rows, send each, then record all
 * outcomes in one transaction. Rows are marked only after the provider
 * has the text, so a crash between the two sends the text again; the
 * provider makes that harmless (the spool overwrites the same file; HTTP
 * adapters check what the provider already has).
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
	bool done;
};

struct outbox {
	const struct config *cfg;
	struct store *store;
	struct provider *provider;
	struct outcome *round;   /* the rows of the current round */
	size_t n_round, cap_round;
};

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
	free(o->round);
	free(o);
}

void outbox_set_config(struct outbox *o, const struct config *cfg, struct provider *p)
{
	o->cfg = cfg;
	o->provider = p;
}

double outbox_backoff(const struct limits *l, int attempt, double retry_after)
{
	double d = l->retry_min * pow(2.0, attempt > 1 ? attempt - 1 : 0);

	if (d > l->retry_max)
		d = l->retry_max;
	d *= 0.5 + 0.5 * util_random();
	return d < retry_after ? retry_after : d;
}

struct collect {
	struct outbox *o;
	struct outbox_msg *msgs;
	size_t n;
};

static int collect_due(void *ud, const struct outbox_msg *m)
{
	struct collect *c = ud;
	struct outbox_msg *d = &c->msgs[c->n++];

	*d = *m;
	d->body = xstrdup(m->body);
	d->error = NULL;
	return 0;
}

static void on_sent(void *ud, int64_t id, const struct provider_result *r)
{
	struct outbox *o = ud;

	for (size_t i = 0; i < o->n_round; i++)
		if (o->round[i].id == id) {
			o->round[i].res = *r;
			o->round[i].done = true;
			return;
		}
}

/* Record one outcome; called inside the round's transaction. */
static int record(struct outbox *o, const struct outcome *oc, int64_t now)
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

/* One round; returns the number of rows handled or <0. */
static int outbox_round(struct outbox *o, int64_t now)
{
	size_t batch = o->cfg->limits.batch;
	struct collect c = { o, xcalloc(batch, sizeof(struct outbox_msg)), 0 };
	int r;

	r = store_outbox_due(o->store, now, batch, collect_due, &c);
	if (r < 0)
		goto out;
	if (c.n > o->cap_round) {
		o->round = xrealloc(o->round, c.n * sizeof(*o->round));
		o->cap_round = c.n;
	}
	o->n_round = c.n;
	for (size_t i = 0; i < c.n; i++) {
		o->round[i] = (struct outcome){ .id = c.msgs[i].id, .attempts = c.msgs[i].attempts,
						.ticket = c.msgs[i].ticket };
		str_copy(o->round[i].recipient, sizeof(o->round[i].recipient), c.msgs[i].recipient);
	}
	for (size_t i = 0; i < c.n; i++)
		o->provider->ops->send(o->provider, c.msgs[i].id, c.msgs[i].recipient, c.msgs[i].body,
				       on_sent, o);

	r = store_begin(o->store);
	for (size_t i = 0; r == 0 && i < c.n; i++)
		if (o->round[i].done)
			r = record(o, &o->round[i], now);
	r = r == 0 ? store_commit(o->store) : (store_rollback(o->store), r);
	if (r == 0)
		r = (int)c.n;
out:
	for (size_t i = 0; i < c.n; i++)
		free(c.msgs[i].body);
	free(c.msgs);
	o->n_round = 0;
	return r;
}

int outbox_flush(struct outbox *o, int64_t now)
{
	int total = 0, r;

	do {
		r = outbox_round(o, now);
		if (r < 0)
			return log_errno(LOG_ERR, r, "outbox: %s", store_errmsg(o->store));
		total += r;
	} while ((size_t)r == o->cfg->limits.batch);
	return total;
}
