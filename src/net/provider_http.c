/*
 * provider_http.c — gridline's own JSON protocol over HTTP (type "http"),
 * for offices with an in-house gateway. The protocol is docs/http-provider.md:
 *   GET  {url}/inbox?after=CURSOR&limit=N   inbound, oldest first, with a cursor
 *   POST {url}/send  {"id","to","body"}     the id is our idempotency key
 *   GET  {url}/status?ids=gridline-1,...    delivery status, 100 ids at most
 * Authorization: Bearer <token>. The bodies are decoded by gwproto.c. 4xx (but 408, 429) is permanent; 408,
 * 429 (Retry-After honoured), 5xx and transport errors are transient.
 * The adapter only translates; dedupe, retry and pacing are the caller's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "gwproto.h"
#include "http.h"
#include "log.h"
#include "netcall.h"
#include "provider.h"
#include "util.h"

struct hprov {
	struct provider base;
	struct netcall_base nb;  /* auth: "Authorization: Bearer ..." */
};

struct call {                    /* one request in flight */
	struct netcall nc;           /* in hprov.nb.calls, so close() can free them */
	struct hprov *hp;
	provider_fetch_cb fetch_cb;
	provider_send_cb send_cb;
	provider_status_cb status_cb;
	void *ud;
	int64_t outbox_id;
	int64_t ids[GWPROTO_STATUS_MAX];     /* status: the texts asked about */
	size_t n_ids;                 /* status: how many; fetch: the page limit */
};

static struct hprov *to_hp(struct provider *p)
{
	return (struct hprov *)p;
}

static struct call *call_new(struct hprov *hp, void *ud)
{
	struct call *c = netcall_new(&hp->nb, sizeof(*c), NULL);

	c->hp = hp;
	c->ud = ud;
	return c;
}

static int hp_open(const struct provider_config *cfg, struct provider **ret, char *err,
		   size_t errsize)
{
	struct hprov *hp;

	if (!cfg->url || !cfg->secret) {
		snprintf(err, errsize, "http provider needs url and token");
		return -EINVAL;
	}
	hp = xcalloc(1, sizeof(*hp));
	hp->base.ops = &provider_http_ops;
	netcall_init(&hp->nb, cfg, NULL);
	hp->nb.auth = xasprintf("Authorization: Bearer %s", cfg->secret);
	*ret = &hp->base;
	return 0;
}

static void hp_close(struct provider *p)
{
	struct hprov *hp = to_hp(p);

	if (!hp)
		return;
	netcall_release(&hp->nb);
	free(hp);
}

static int hp_attach(struct provider *p, sd_event *e, provider_wake_cb wake, void *ud)
{
	return netcall_attach(&to_hp(p)->nb, e);
}

static void inbox_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct provider_batch *b = NULL;
	char why[300] = "";

	if (r->err)
		snprintf(why, sizeof(why), "%s", r->errmsg);
	else if (r->status != 200)
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
	else if (gwproto_inbox(r->body, r->body_len, &b, why, sizeof(why)) == 0)
		b->more = b->n >= c->n_ids;   /* a full page: more may be waiting */
	if (!b) {
		log_warn("http provider: GET %s/inbox: %s", c->hp->nb.url, why);
		c->fetch_cb(c->ud, NULL, -EAGAIN, r->retry_after);
	} else {
		c->fetch_cb(c->ud, b, 0, 0);
	}
	netcall_free(&c->nc);
}

static int hp_fetch(struct provider *p, const char *cursor, size_t max, provider_fetch_cb cb,
		    void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c = call_new(hp, ud);
	char *path, *esc = NULL;
	int r;

	if (cursor) {
		esc = curl_easy_escape(NULL, cursor, 0);
		if (!esc) {
			netcall_free(&c->nc);
			return -ENOMEM;
		}
	}
	if (max > GWPROTO_LIMIT_MAX)
		max = GWPROTO_LIMIT_MAX;
	path = esc ? xasprintf("/inbox?after=%s&limit=%zu", esc, max)
		   : xasprintf("/inbox?limit=%zu", max);
	curl_free(esc);
	c->n_ids = max;
	c->fetch_cb = cb;
	r = netcall_submit(&hp->nb, "GET", path, NULL, inbox_done, c);
	free(path);
	if (r < 0)
		netcall_free(&c->nc);
	return r;
}

static int hp_ack(struct provider *p, struct provider_batch *b)
{
	return 0;   /* the cursor is saved by the caller, in the batch's transaction */
}

static void send_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct provider_result res = { 0 };

	if (r->err) {
		res.status = -EAGAIN;
		str_copy(res.error, sizeof(res.error), r->errmsg);
	} else {
		gwproto_send(r->status, r->body, r->body_len, &res);
	}
	res.retry_after = r->retry_after;
	c->send_cb(c->ud, c->outbox_id, &res);
	netcall_free(&c->nc);
}

static int hp_send(struct provider *p, const struct provider_out *m, provider_send_cb cb, void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c = call_new(hp, ud);
	char key[48];
	json_t *j;
	int r;

	snprintf(key, sizeof(key), "gridline-%lld", (long long)m->id);
	j = json_pack("{s:s, s:s, s:s}", "id", key, "to", m->to, "body", m->body);
	c->send_cb = cb;
	c->outbox_id = m->id;
	r = netcall_post_json(&hp->nb, "/send", j, send_done, c);
	if (r < 0)
		netcall_free(&c->nc);
	return r;
}

static void status_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct provider_status each[GWPROTO_STATUS_MAX];
	char why[300] = "";
	size_t k;

	memset(each, 0, sizeof(each));
	if (r->err)
		snprintf(why, sizeof(why), "%s", r->errmsg);
	else if (r->status != 200)
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
	else
		gwproto_status(r->body, r->body_len, c->ids, c->n_ids, each, why, sizeof(why));
	for (k = 0; k < c->n_ids; k++) {
		each[k].retry_after = r->retry_after;
		if (*why) {   /* could not learn anything: ask again later */
			each[k].err = -EAGAIN;
			str_copy(each[k].error, sizeof(each[k].error), why);
		}
	}
	if (*why)
		log_warn("http provider: GET %s/status: %s", c->hp->nb.url, why);
	for (k = 0; k < c->n_ids; k++)
		c->status_cb(c->ud, c->ids[k], &each[k]);
	netcall_free(&c->nc);
}

static int hp_status(struct provider *p, const struct provider_query *q, size_t n,
		     provider_status_cb cb, void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c;
	char *path, *ids;
	size_t len = 0;
	int r;

	if (n == 0 || n > GWPROTO_STATUS_MAX)
		return -EINVAL;
	c = call_new(hp, ud);
	ids = xcalloc(n, 32);
	for (size_t i = 0; i < n; i++) {
		c->ids[i] = q[i].outbox_id;
		len += (size_t)snprintf(ids + len, 32, "%sgridline-%lld", i ? "," : "",
					(long long)q[i].outbox_id);
	}
	c->n_ids = n;
	c->status_cb = cb;
	path = xasprintf("/status?ids=%s", ids);
	r = netcall_submit(&hp->nb, "GET", path, NULL, status_done, c);
	free(path);
	free(ids);
	if (r < 0)
		netcall_free(&c->nc);
	return r;
}

const struct provider_ops provider_http_ops = {
	.name = "http",
	.open = hp_open,
	.close = hp_close,
	.attach = hp_attach,
	.fetch = hp_fetch,
	.ack = hp_ack,
	.send = hp_send,
	.status = hp_status,
	.status_max = GWPROTO_STATUS_MAX,
};
