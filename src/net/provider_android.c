/*
 * provider_android.c — SMS Gateway for Android (capcom6/android-sms-gateway)
 * in local-server mode (type "android"): an HTTP server on the office's
 * phone, HTTP Basic auth (user "sms" by default, the app's generated
 * password). Paths sit at the root of the configured url
 * (PROVIDERS.md 4.1; swagger.json):
 *   GET  /inbox?type=SMS&limit=L&offset=K[&from=T]   inbound, newest first
 *   POST /message   {"id","textMessage":{"text"},"phoneNumbers":[to],...}
 *   GET  /message/{id}                                delivery state
 *
 * Inbound. /inbox has no cursor: it filters by createdAt >= from and pages
 * by offset over a list ordered newest first. Our cursor is the newest
 * createdAt (epoch ms) handed over so far, the high-water mark; each fetch
 * asks from high-water minus OVERLAP_MS (texts reach the phone late, with
 * an older createdAt, and equal times are common) and reads every page of
 * that window (offset paging shifts when texts arrive mid-scan: a text is
 * then read twice, never skipped), drops what it already handed over and
 * hands the oldest `max` of the rest, oldest first. "Already handed over"
 * is a set of ids, filled at ack() (after the caller's commit) and cut at
 * each complete fetch to the ids that fetch saw, so it only holds the
 * window. After a restart the set is empty and the window's texts are
 * handed over again: the store dedupes by (provider, id), so that is
 * harmless, and it is what makes a crash between commit and ack safe. A
 * text whose createdAt is more than OVERLAP_MS older than the high-water
 * mark when it appears at the phone would be missed.
 *
 * Outbound. The message id is ours, "gridline-<row>-<created_at>" (unique
 * to the outbox row, also across a database that was started afresh), so
 * a repeat after a timeout or crash is recognised by the gateway: 409
 * "already exists" means an earlier attempt got through, and counts as
 * sent. 408, 429 (Retry-After honoured), 5xx and transport errors are
 * transient; other 4xx are permanent. The password is never logged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "android.h"
#include "http.h"
#include "log.h"
#include "netcall.h"
#include "provider.h"
#include "util.h"

#define OVERLAP_MS (3600 * 1000LL)  /* re-read this much before the high-water mark */
#define PAGES_MAX 200               /* pages of one fetch: 100000 texts at 500 a page */
#define STATUS_MAX 16               /* GET /message/{id} in flight per status() call */

enum call_kind { CALL_FETCH, CALL_SEND, CALL_STATUS };

struct call {                    /* one operation in flight */
	struct netcall nc;           /* in aprov.nb.calls */
	struct aprov *ap;
	enum call_kind kind;
	void *ud;
	/* fetch */
	provider_fetch_cb fetch_cb;
	size_t max, limit, offset;
	unsigned pages;
	int64_t cursor_ms;           /* high-water mark asked from, or -1 */
	char *from;                  /* the escaped `from` parameter, or NULL */
	struct android_in *items;    /* every text of the window read so far */
	size_t n, cap;
	json_t *ids;                 /* ids in items: the set */
	/* send and status */
	provider_send_cb send_cb;
	provider_status_cb status_cb;
	int64_t outbox_id;
	char key[ANDROID_ID_MAX + 1];
};

struct aprov {
	struct provider base;
	struct netcall_base nb;      /* HTTP Basic user and password */
	json_t *seen;                /* ids handed over and acked, in the window */
	bool failing;                /* the last fetch failed (logged once) */
};

static struct aprov *to_ap(struct provider *p)
{
	return (struct aprov *)p;
}

static void call_release(struct netcall *nc)
{
	struct call *c = (struct call *)nc;

	android_in_free(c->items, c->n);
	json_decref(c->ids);
	curl_free(c->from);
	free(c);
}

static struct call *call_new(struct aprov *ap, enum call_kind kind, void *ud)
{
	struct call *c = netcall_new(&ap->nb, sizeof(*c), call_release);

	c->ap = ap;
	c->kind = kind;
	c->ud = ud;
	c->cursor_ms = -1;
	return c;
}

static int an_open(const struct provider_config *cfg, struct provider **ret, char *err,
		   size_t errsize)
{
	struct aprov *ap;

	if (!cfg->url || !cfg->secret) {
		snprintf(err, errsize, "android provider needs url and password");
		return -EINVAL;
	}
	ap = xcalloc(1, sizeof(*ap));
	ap->base.ops = &provider_android_ops;
	netcall_init(&ap->nb, cfg, NULL);
	ap->nb.user = xstrdup(cfg->username ? cfg->username : "sms");
	ap->nb.password = xstrdup(cfg->secret);
	ap->seen = json_object();
	*ret = &ap->base;
	return 0;
}

static void an_close(struct provider *p)
{
	struct aprov *ap = to_ap(p);

	if (!ap)
		return;
	netcall_release(&ap->nb);
	json_decref(ap->seen);
	free(ap);
}

static int an_attach(struct provider *p, sd_event *e, provider_wake_cb wake, void *ud)
{
	return netcall_attach(&to_ap(p)->nb, e);
}

/* ---- inbound ------------------------------------------------------------ */

static void page_done(void *ud, const struct http_response *r);

static int page_submit(struct call *c)
{
	char *path;
	int r;

	path = xasprintf("/inbox?type=SMS&limit=%zu&offset=%zu%s%s", c->limit, c->offset,
			 c->from ? "&from=" : "", c->from ? c->from : "");
	r = netcall_submit(&c->ap->nb, "GET", path, NULL, page_done, c);
	free(path);
	return r;
}

/* Oldest first; equal times by id, so a batch cut at max is stable. */
static int by_time(const void *a, const void *b)
{
	const struct android_in *x = a, *y = b;

	if (x->created_ms != y->created_ms)
		return x->created_ms < y->created_ms ? -1 : 1;
	return strcmp(x->msg.id, y->msg.id);
}

/* Forget handed-over ids this complete read of the window no longer returned. */
static void seen_prune(struct aprov *ap, json_t *returned)
{
	const char *id;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(ap->seen, tmp, id, v) {
		if (!json_object_get(returned, id))
			json_object_del(ap->seen, id);
	}
}

/* The whole window is read: hand over the oldest max texts not handed yet. */
static struct provider_batch *fetch_batch(struct call *c)
{
	struct aprov *ap = c->ap;
	struct provider_batch *b = xcalloc(1, sizeof(*b));
	int64_t high = c->cursor_ms;
	size_t i;

	seen_prune(ap, c->ids);
	if (c->n > 1)
		qsort(c->items, c->n, sizeof(*c->items), by_time);
	b->msgs = xcalloc(c->max + 1, sizeof(*b->msgs));
	for (i = 0; i < c->n && b->n < c->max; i++) {
		struct android_in *in = &c->items[i];

		if (json_object_get(ap->seen, in->msg.id))
			continue;
		b->msgs[b->n++] = in->msg;             /* moved */
		memset(&in->msg, 0, sizeof(in->msg));
		if (in->created_ms > high)
			high = in->created_ms;
	}
	if (high > c->cursor_ms && high >= 0)
		b->cursor = xasprintf("%lld", (long long)high);
	return b;
}

static void fetch_finish(struct call *c, int err, double retry_after, const char *why)
{
	struct aprov *ap = c->ap;
	struct provider_batch *b = NULL;

	if (err < 0 && !ap->failing)
		log_warn("android provider: GET %s/inbox: %s", ap->nb.url, why);
	else if (err == 0 && ap->failing)
		log_info("android provider: GET %s/inbox works again", ap->nb.url);
	ap->failing = err < 0;
	if (err == 0)
		b = fetch_batch(c);
	c->fetch_cb(c->ud, b, err, retry_after);
	netcall_free(&c->nc);
}

/* Add a page's texts; a text already read in this fetch is dropped. */
static void fetch_add(struct call *c, struct android_in *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (json_object_get(c->ids, items[i].msg.id)) {
			free(items[i].msg.id);
			free(items[i].msg.from);
			free(items[i].msg.body);
			free(items[i].msg.error);
			continue;
		}
		json_object_set_new(c->ids, items[i].msg.id, json_true());
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			c->items = xrealloc(c->items, c->cap * sizeof(*c->items));
		}
		c->items[c->n++] = items[i];
	}
	free(items);
}

static void page_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct android_in *items = NULL;
	size_t n = 0, raw = 0;
	char why[300];
	int err;

	if (r->err) {
		fetch_finish(c, -EAGAIN, r->retry_after, r->errmsg);
		return;
	}
	if (r->status != 200) {
		android_error_text(r->status, r->body, r->body_len, why, sizeof(why));
		err = r->status == 401 || r->status == 403 ? -EACCES
		      : r->status >= 400 && r->status < 500 && r->status != 408 && r->status != 429
				? -EINVAL : -EAGAIN;
		fetch_finish(c, err, r->retry_after, why);
		return;
	}
	if (android_decode_inbox(r->body, r->body_len, &items, &n, &raw, why, sizeof(why)) < 0) {
		fetch_finish(c, -EBADMSG, 0, why);
		return;
	}
	fetch_add(c, items, n);
	c->pages++;
	if (raw < c->limit) {
		fetch_finish(c, 0, 0, NULL);
		return;
	}
	if (c->pages == PAGES_MAX) {
		snprintf(why, sizeof(why), "more than %zu texts since the last one handed over; "
			 "not handing over a part of them out of order", (size_t)PAGES_MAX * c->limit);
		fetch_finish(c, -E2BIG, 0, why);
		return;
	}
	c->offset += raw;
	err = page_submit(c);
	if (err < 0)
		fetch_finish(c, err, 0, "could not start the next page");
}

/* The cursor as epoch ms, or -1 when there is none or it is unreadable. */
static int64_t cursor_ms(const char *cursor)
{
	char *end;
	long long v;

	if (!cursor)
		return -1;
	errno = 0;
	v = strtoll(cursor, &end, 10);
	if (errno || end == cursor || *end || v < 0) {
		log_warn("android provider: ignoring the unreadable cursor; reading the whole inbox");
		return -1;
	}
	return v;
}

static int an_fetch(struct provider *p, const char *cursor, size_t max, provider_fetch_cb cb,
		    void *ud)
{
	struct aprov *ap = to_ap(p);
	struct call *c;
	char from[64];
	int r;

	if (!ap->nb.http)
		return -ENOTCONN;
	c = call_new(ap, CALL_FETCH, ud);
	c->fetch_cb = cb;
	c->max = max ? max : 1;
	c->limit = c->max < ANDROID_PAGE_MAX ? c->max : ANDROID_PAGE_MAX;
	c->ids = json_object();
	c->cursor_ms = cursor_ms(cursor);
	if (c->cursor_ms >= 0) {
		int64_t t = c->cursor_ms > OVERLAP_MS ? c->cursor_ms - OVERLAP_MS : 0;

		if (android_format_time(t, from, sizeof(from)) == 0)
			c->from = curl_easy_escape(NULL, from, 0);
	}
	r = page_submit(c);
	if (r < 0)
		netcall_free(&c->nc);
	return r;
}

static int an_ack(struct provider *p, struct provider_batch *b)
{
	struct aprov *ap = to_ap(p);

	for (size_t i = 0; i < b->n; i++)
		json_object_set_new(ap->seen, b->msgs[i].id, json_true());
	return 0;
}

/* ---- outbound ----------------------------------------------------------- */

static void send_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct provider_result res = { 0 };

	if (r->err) {
		res.status = -EAGAIN;
		str_copy(res.error, sizeof(res.error), r->errmsg);
	} else {
		android_decode_send(r->status, r->body, r->body_len, c->key, &res);
		if (r->status == 409)
			log_info("android provider: message %s was already taken by the gateway; "
				 "counted as sent", c->key);
	}
	res.retry_after = r->retry_after;
	c->send_cb(c->ud, c->outbox_id, &res);
	netcall_free(&c->nc);
}

/* Our message id for a row: unique to the row, the same on every attempt. */
static void message_key(const struct provider_out *m, char *key, size_t size)
{
	int n = snprintf(key, size, "gridline-%lld-%lld", (long long)m->id,
			 (long long)m->created_at);

	if (n < 0 || (size_t)n >= size)  /* ids past 10^16: the compact form */
		snprintf(key, size, "g%llx-%llx", (unsigned long long)m->id,
			 (unsigned long long)m->created_at);
}

static int an_send(struct provider *p, const struct provider_out *m, provider_send_cb cb,
		   void *ud)
{
	struct aprov *ap = to_ap(p);
	struct call *c;
	json_t *j;
	int r;

	if (!ap->nb.http)
		return -ENOTCONN;
	c = call_new(ap, CALL_SEND, ud);
	message_key(m, c->key, sizeof(c->key));
	j = json_pack("{s:s, s:{s:s}, s:[s], s:b}", "id", c->key, "textMessage", "text", m->body,
		      "phoneNumbers", m->to, "withDeliveryReport", 1);
	c->send_cb = cb;
	c->outbox_id = m->id;
	r = netcall_post_json(&ap->nb, "/message", j, send_done, c);
	if (r < 0)
		netcall_free(&c->nc);
	return r;
}

/* ---- delivery ----------------------------------------------------------- */

static void state_done(void *ud, const struct http_response *r)
{
	struct call *c = ud;
	struct provider_status st = { 0 };

	if (r->err) {
		st.err = -EAGAIN;
		str_copy(st.error, sizeof(st.error), r->errmsg);
	} else {
		android_decode_state(r->status, r->body, r->body_len, &st);
	}
	st.retry_after = r->retry_after;
	c->status_cb(c->ud, c->outbox_id, &st);
	netcall_free(&c->nc);
}

/* Ask for one text; on a failure to start, answer at once. */
static void status_one(struct aprov *ap, const struct provider_query *q, provider_status_cb cb,
		       void *ud)
{
	struct call *c;
	char *esc, *path;
	int r;

	if (!q->provider_id || !*q->provider_id) {
		netcall_status_now(cb, ud, q->outbox_id, -EINVAL,
				   "no gateway message id for this text");
		return;
	}
	esc = curl_easy_escape(NULL, q->provider_id, 0);
	if (!esc) {
		netcall_status_now(cb, ud, q->outbox_id, -ENOMEM, "");
		return;
	}
	c = call_new(ap, CALL_STATUS, ud);
	c->status_cb = cb;
	c->outbox_id = q->outbox_id;
	path = xasprintf("/message/%s", esc);
	curl_free(esc);
	r = netcall_submit(&ap->nb, "GET", path, NULL, state_done, c);
	free(path);
	if (r < 0) {
		netcall_free(&c->nc);
		netcall_status_now(cb, ud, q->outbox_id, r, "could not start the request");
	}
}

static int an_status(struct provider *p, const struct provider_query *q, size_t n,
		     provider_status_cb cb, void *ud)
{
	struct aprov *ap = to_ap(p);

	if (!ap->nb.http)
		return -ENOTCONN;
	if (n > STATUS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		status_one(ap, &q[i], cb, ud);
	return 0;
}

const struct provider_ops provider_android_ops = {
	.name = "android",
	.open = an_open,
	.close = an_close,
	.attach = an_attach,
	.fetch = an_fetch,
	.ack = an_ack,
	.send = an_send,
	.status = an_status,
	.status_max = STATUS_MAX,
};
