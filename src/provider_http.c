/*
 * provider_http.c — gridline's own JSON protocol over HTTP (type "http"),
 * for offices with an in-house gateway. The protocol is docs/http-provider.md:
 *   GET  {url}/inbox?after=CURSOR&limit=N   inbound, oldest first, with a cursor
 *   POST {url}/send  {"id","to","body"}     the id is our idempotency key
 * Authorization: Bearer <token>. 4xx (but 408, 429) is permanent; 408,
 * 429 (Retry-After honoured), 5xx and transport errors are transient.
 * The adapter only translates; dedupe, retry and pacing are the caller's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "http.h"
#include "log.h"
#include "provider.h"
#include "text.h"
#include "util.h"

struct hprov {
	struct provider base;
	char *url;               /* without a trailing '/' */
	char *auth;              /* "Authorization: Bearer ..." */
	char *cafile;
	long timeout_ms, connect_timeout_ms;
	size_t max_response;
	struct http *http;       /* from attach() */
};

#define STATUS_MAX 100              /* ids per GET /status */
#define CURSOR_MAX 512              /* bytes; the daemon keeps cursors under this */
#define LIMIT_MAX 500               /* most messages asked for per /inbox page */

struct call {                    /* one request in flight */
	struct hprov *hp;
	provider_fetch_cb fetch_cb;
	provider_send_cb send_cb;
	provider_status_cb status_cb;
	void *ud;
	int64_t outbox_id;
	int64_t ids[STATUS_MAX];     /* status: the texts asked about */
	size_t n_ids;                 /* status: how many; fetch: the page limit */
};

static struct hprov *to_hp(struct provider *p)
{
	return (struct hprov *)p;
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
	http_free(hp->http);
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

/* Parse a response body as JSON, repairing invalid UTF-8 first (U+FFFD). */
static json_t *parse_json(const struct http_response *r, char *why, size_t whysize)
{
	json_error_t je;
	char *fixed = text_utf8_fix(r->body, r->body_len, NULL);
	/* \u0000 is kept: bodies are byte strings with a length */
	json_t *j = json_loads(fixed, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);

	free(fixed);
	if (!j)
		snprintf(why, whysize, "malformed JSON (%s)", je.text);
	return j;
}

static int64_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (!end)
		return 0;
	if (*end == '.')                    /* fractional seconds */
		end += 1 + strspn(end + 1, "0123456789");
	return *end == 'Z' || *end == '\0' ? (int64_t)timegm(&tm) : 0;
}

/* A stable id for an entry that came without one: hash of what it says. */
static char *entry_hash(json_t *m)
{
	char *dump = json_dumps(m, JSON_SORT_KEYS | JSON_COMPACT);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 8] = "sha256:";

	EVP_Digest(dump ? dump : "", dump ? strlen(dump) : 0, md, &n, EVP_sha256(), NULL);
	free(dump);
	for (unsigned i = 0; i < n; i++)
		snprintf(hex + 7 + 2 * i, 3, "%02x", md[i]);
	return xstrdup(hex);
}

static void inbox_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct provider_batch *b = NULL;
	size_t max = c->n_ids;   /* fetch: the limit asked for */
	char why[300] = "";
	json_t *j = NULL, *msgs, *cur, *m;
	size_t i;

	if (r->err) {
		snprintf(why, sizeof(why), "%s", r->errmsg);
		goto fail;
	}
	if (r->status != 200) {
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
		goto fail;
	}
	j = parse_json(r, why, sizeof(why));
	if (!j)
		goto fail;
	msgs = json_object_get(j, "messages");
	if (!json_is_array(msgs)) {
		snprintf(why, sizeof(why), "no \"messages\" array");
		goto fail;
	}
	b = xcalloc(1, sizeof(*b));
	b->msgs = xcalloc(json_array_size(msgs) + 1, sizeof(*b->msgs));
	json_array_foreach(msgs, i, m) {
		struct provider_msg *pm = &b->msgs[b->n];
		const char *id = json_string_value(json_object_get(m, "id"));
		const char *from = json_string_value(json_object_get(m, "from"));
		json_t *jbody = json_object_get(m, "body");
		const char *body = json_string_value(jbody);

		if (!json_is_object(m))
			continue;
		if (id && strlen(id) != json_string_length(json_object_get(m, "id")))
			id = NULL;   /* a NUL inside: not an id we can keep */
		pm->id = id && *id && strlen(id) < 256 ? xstrdup(id) : entry_hash(m);
		pm->from = xstrdup(from);
		pm->body_len = body ? json_string_length(jbody) : 0;
		pm->body = xmalloc(pm->body_len + 1);
		memcpy(pm->body, body ? body : "", pm->body_len);
		pm->body[pm->body_len] = '\0';
		pm->received_at = parse_time(json_string_value(json_object_get(m, "received")));
		if (!id || !*id)
			pm->error = xstrdup("message without an id");
		else if (!body)
			pm->error = xstrdup("message without a body");
		b->n++;
	}
	cur = json_object_get(j, "cursor");
	if (json_is_string(cur) && (json_string_length(cur) >= CURSOR_MAX ||
				    strlen(json_string_value(cur)) != json_string_length(cur))) {
		/* the messages stay on the gateway; nothing is stored without its cursor */
		snprintf(why, sizeof(why), "\"cursor\" is not a string under %d bytes", CURSOR_MAX);
		provider_batch_free(b);
		b = NULL;
		goto fail;
	}
	if (json_is_string(cur))
		b->cursor = xstrdup(json_string_value(cur));
	b->more = b->n >= max;
	json_decref(j);
	c->fetch_cb(c->ud, b, 0, 0);
	free(c);
	return;
fail:
	json_decref(j);
	log_warn("http provider: GET %s/inbox: %s", c->hp->url, why);
	c->fetch_cb(c->ud, NULL, -EAGAIN, r->retry_after);
	free(c);
}

static int hp_fetch(struct provider *p, const char *cursor, size_t max, provider_fetch_cb cb,
		    void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c = xcalloc(1, sizeof(*c));
	char *url, *esc = NULL;
	int r;

	if (cursor) {
		esc = curl_easy_escape(NULL, cursor, 0);
		if (!esc) {
			free(c);
			return -ENOMEM;
		}
	}
	if (max > LIMIT_MAX)
		max = LIMIT_MAX;
	url = esc ? xasprintf("%s/inbox?after=%s&limit=%zu", hp->url, esc, max)
		  : xasprintf("%s/inbox?limit=%zu", hp->url, max);
	curl_free(esc);
	c->hp = hp;
	c->n_ids = max;
	c->fetch_cb = cb;
	c->ud = ud;
	r = hp_submit(hp, "GET", url, NULL, inbox_done, c);
	free(url);
	if (r < 0)
		free(c);
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
	json_t *j = NULL, *e;
	char why[256] = "";

	res.retry_after = r->retry_after;
	if (r->err) {
		res.status = -EAGAIN;
		snprintf(res.error, sizeof(res.error), "%s", r->errmsg);
		goto out;
	}
	j = parse_json(r, why, sizeof(why));
	if (r->status == 200 || r->status == 201 || r->status == 202) {
		const char *id = j ? json_string_value(json_object_get(j, "id")) : NULL;
		/* accepted: the text is the provider's now, even if the body is odd */
		snprintf(res.provider_id, sizeof(res.provider_id), "%s", id ? id : "");
		goto out;
	}
	e = j ? json_object_get(j, "error") : NULL;
	snprintf(res.error, sizeof(res.error), "HTTP %ld%s%s%s%s", r->status,
		 json_string_value(json_object_get(e, "code")) ? " " : "",
		 json_string_value(json_object_get(e, "code")) ? json_string_value(json_object_get(e, "code")) : "",
		 json_string_value(json_object_get(e, "message")) ? ": " : "",
		 json_string_value(json_object_get(e, "message")) ? json_string_value(json_object_get(e, "message")) : "");
	res.status = r->status >= 400 && r->status < 500 && r->status != 408 && r->status != 429
			     ? -EINVAL : -EAGAIN;
out:
	json_decref(j);
	c->send_cb(c->ud, c->outbox_id, &res);
	free(c);
}

static int hp_send(struct provider *p, const struct provider_out *m, provider_send_cb cb, void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c = xcalloc(1, sizeof(*c));
	char key[48], *url, *json;
	json_t *j;
	int r;

	snprintf(key, sizeof(key), "gridline-%lld", (long long)m->id);
	j = json_pack("{s:s, s:s, s:s}", "id", key, "to", m->to, "body", m->body);
	json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!json) {
		free(c);
		return -EINVAL;
	}
	c->hp = hp;
	c->send_cb = cb;
	c->ud = ud;
	c->outbox_id = m->id;
	url = xasprintf("%s/send", hp->url);
	r = hp_submit(hp, "POST", url, json, send_done, c);
	free(url);
	free(json);
	if (r < 0)
		free(c);
	return r;
}

/* The state of one entry of a /status answer; "" error unless failed. */
static int delivery_state(json_t *m, char *error, size_t size)
{
	const char *st = json_string_value(json_object_get(m, "status"));
	json_t *e = json_object_get(m, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	if (st && strcmp(st, "delivered") == 0)
		return DELIVERY_DELIVERED;
	if (!st || strcmp(st, "failed") != 0)
		return DELIVERY_PENDING;
	snprintf(error, size, "%s%s%s", code ? code : "", code && msg ? " " : "", msg ? msg : "");
	if (!*error)
		snprintf(error, size, "failed (no reason given)");
	return DELIVERY_FAILED;
}

static void status_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct provider_status st = { .retry_after = r->retry_after };
	struct provider_status each[STATUS_MAX];
	json_t *j = NULL, *msgs = NULL, *m;
	char why[300] = "";
	size_t i, k;

	if (r->err)
		snprintf(why, sizeof(why), "%s", r->errmsg);
	else if (r->status != 200)
		snprintf(why, sizeof(why), "HTTP %ld", r->status);
	else if ((j = parse_json(r, why, sizeof(why))) &&
		 !json_is_array(msgs = json_object_get(j, "messages")))
		snprintf(why, sizeof(why), "no \"messages\" array");
	if (*why) {
		log_warn("http provider: GET %s/status: %s", c->hp->url, why);
		st.err = -EAGAIN;
		str_copy(st.error, sizeof(st.error), why);   /* cut if need be */
	}
	for (k = 0; k < c->n_ids; k++)
		each[k] = st;    /* ids the answer leaves out are not final yet */
	json_array_foreach(msgs, i, m) {
		const char *id = json_string_value(json_object_get(m, "id"));
		long long n;
		char end;

		if (!id || sscanf(id, "gridline-%lld%c", &n, &end) != 1)
			continue;
		for (k = 0; k < c->n_ids; k++)
			if (c->ids[k] == n)
				each[k].state = delivery_state(m, each[k].error, sizeof(each[k].error));
	}
	json_decref(j);
	for (k = 0; k < c->n_ids; k++)
		c->status_cb(c->ud, c->ids[k], &each[k]);
	free(c);
}

static int hp_status(struct provider *p, const struct provider_query *q, size_t n,
		     provider_status_cb cb, void *ud)
{
	struct hprov *hp = to_hp(p);
	struct call *c;
	char *url, *ids;
	size_t len = 0;
	int r;

	if (n == 0 || n > STATUS_MAX)
		return -EINVAL;
	c = xcalloc(1, sizeof(*c));
	ids = xcalloc(n, 32);
	for (size_t i = 0; i < n; i++) {
		c->ids[i] = q[i].outbox_id;
		len += (size_t)snprintf(ids + len, 32, "%sgridline-%lld", i ? "," : "",
					(long long)q[i].outbox_id);
	}
	c->n_ids = n;
	c->hp = hp;
	c->status_cb = cb;
	c->ud = ud;
	url = xasprintf("%s/status?ids=%s", hp->url, ids);
	r = hp_submit(hp, "GET", url, NULL, status_done, c);
	free(url);
	free(ids);
	if (r < 0)
		free(c);
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
	.status_max = STATUS_MAX,
};
