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
#include "provider.h"
#include "util.h"

struct hprov {
	struct provider base;
	char *url;               /* without a trailing '/' */
	char *auth;              /* "Authorization: Bearer ..." */
	char *cafile;
	long timeout_ms, connect_timeout_ms;
	size_t max_response;
	struct http *http;       /* from attach() */
	struct call *calls;      /* requests in flight */
};


struct call {                    /* one request in flight */
	struct call *prev, *next;    /* in hprov.calls, so close() can free them */
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
	struct call *c = xcalloc(1, sizeof(*c));

	c->hp = hp;
	c->ud = ud;
	c->next = hp->calls;
	if (hp->calls)
		hp->calls->prev = c;
	hp->calls = c;
	return c;
}

static void call_free(struct call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->hp->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static int hp_open(const struct provider_config *cfg, struct provider **ret, char *err,
		   size_t errsize)
{
	struct hprov *hp;
	size_t n;

	if (!cfg->url || !cfg->secret) {
		snprintf(err, errsize, "http provider needs url and token");
		return -EINVAL;
	}
	hp = xcalloc(1, sizeof(*hp));
	hp->base.ops = &provider_http_ops;
	hp->url = xstrdup(cfg->url);
	n = strlen(hp->url);
	while (n > 0 && hp->url[n - 1] == '/')
		hp->url[--n] = '\0';
	hp->auth = xasprintf("Authorization: Bearer %s", cfg->secret);
	hp->cafile = xstrdup(cfg->cafile);
	hp->timeout_ms = (long)(cfg->timeout * 1000);
	hp->connect_timeout_ms = (long)(cfg->connect_timeout * 1000);
	hp->max_response = cfg->max_response;
	*ret = &hp->base;
	return 0;
}

static void hp_close(struct provider *p)
{
	struct hprov *hp = to_hp(p);

	if (!hp)
		return;
	http_free(hp->http);     /* cancels the requests: their callbacks never come */
	while (hp->calls)
		call_free(hp->calls);
	free(hp->url);
	if (hp->auth)   /* the token: do not leave it in freed memory */
		memset(hp->auth, 0, strlen(hp->auth));
	free(hp->auth);
	free(hp->cafile);
	free(hp);
}

static int hp_attach(struct provider *p, sd_event *e, provider_wake_cb wake, void *ud)
{
	struct hprov *hp = to_hp(p);

	if (!hp->http)
		hp->http = http_new(e);
	return 0;
}

static int hp_submit(struct hprov *hp, const char *method, const char *url, const char *body,
		     http_done_cb cb, struct call *c)
{
	const char *headers[] = { hp->auth, "Accept: application/json",
				  body ? "Content-Type: application/json" : NULL, NULL };
	struct http_request req = {
		.method = method, .url = url, .headers = headers,
		.body = body, .body_len = body ? strlen(body) : 0,
		.connect_timeout_ms = hp->connect_timeout_ms, .timeout_ms = hp->timeout_ms,
		.max_response = hp->max_response, .cafile = hp->cafile,
	};

	if (!hp->http)
		return -ENOTCONN;
	return http_submit(hp->http, &req, cb, c);
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
		log_warn("http provider: GET %s/inbox: %s", c->hp->url, why);
		c->fetch_cb(c->ud, NULL, -EAGAIN, r->retry_after);
	} else {
		c->fetch_cb(c->ud, b, 0, 0);
	}
	call_free(c);
}

static int hp_fetch(struct provider *p, const char *cursor, size_t max, provider_fetch_cb cb,
		    void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c = call_new(hp, ud);
	char *url, *esc = NULL;
	int r;

	if (cursor) {
		esc = curl_easy_escape(NULL, cursor, 0);
		if (!esc) {
			call_free(c);
			return -ENOMEM;
		}
	}
	if (max > GWPROTO_LIMIT_MAX)
		max = GWPROTO_LIMIT_MAX;
	url = esc ? xasprintf("%s/inbox?after=%s&limit=%zu", hp->url, esc, max)
		  : xasprintf("%s/inbox?limit=%zu", hp->url, max);
	curl_free(esc);
	c->n_ids = max;
	c->fetch_cb = cb;
	r = hp_submit(hp, "GET", url, NULL, inbox_done, c);
	free(url);
	if (r < 0)
		call_free(c);
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
	call_free(c);
}

static int hp_send(struct provider *p, const struct provider_out *m, provider_send_cb cb, void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c = call_new(hp, ud);
	char key[48], *url, *json;
	json_t *j;
	int r;

	snprintf(key, sizeof(key), "gridline-%lld", (long long)m->id);
	j = json_pack("{s:s, s:s, s:s}", "id", key, "to", m->to, "body", m->body);
	json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!json) {
		call_free(c);
		return -EINVAL;
	}
	c->send_cb = cb;
	c->outbox_id = m->id;
	url = xasprintf("%s/send", hp->url);
	r = hp_submit(hp, "POST", url, json, send_done, c);
	free(url);
	free(json);
	if (r < 0)
		call_free(c);
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
		log_warn("http provider: GET %s/status: %s", c->hp->url, why);
	for (k = 0; k < c->n_ids; k++)
		c->status_cb(c->ud, c->ids[k], &each[k]);
	call_free(c);
}

static int hp_status(struct provider *p, const struct provider_query *q, size_t n,
		     provider_status_cb cb, void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c;
	char *url, *ids;
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
	url = xasprintf("%s/status?ids=%s", hp->url, ids);
	r = hp_submit(hp, "GET", url, NULL, status_done, c);
	free(url);
	free(ids);
	if (r < 0)
		call_free(c);
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
