/*
 * provider_twilio.c — Twilio Programmable Messaging, REST API 2010-04-01
 * (type "twilio"). Behaviour follows shared/providers/PROVIDERS.md §1:
 *
 * Inbound (fetch): GET {base}/2010-04-01/Accounts/{AC}/Messages.json
 *   ?To={number}&DateSent>={day}&PageSize=50, then Calls.json
 *   ?To={number}&StartTime>={day} likewise. Twilio lists newest first and
 *   its date filters select whole GMT days (§1.2), so each poll re-lists
 *   from the day before the cursor's day and follows next_page_uri until a
 *   page is entirely known and older than the newest item seen (minus a
 *   margin) (§1.7). Known SIDs are kept in memory (bounded); after a
 *   restart the store dedupes by (provider, id). Only inbound texts with
 *   status "received" and inbound calls that were not answered (no-answer,
 *   busy, failed, canceled: PROVIDER_MSG_CALL) are handed over, oldest
 *   first, at most `max`; the cursor is the newest GMT day handed over.
 * Send: POST Messages.json, form To, From, Body; 201 → the message SID.
 *   Twilio has no idempotency key (§1.4): a retry (attempts > 0) first
 *   lists To+From messages since the row was queued (with DateSent>= and,
 *   for queued ones whose date_sent is still null, without) and answers
 *   with the SID of one holding the same body instead of posting again.
 * Errors (§1.5, §1.6): 429 (code 20429), 5xx and transport errors are
 *   transient (Retry-After passed on, and no poll before it runs out);
 *   other 4xx are permanent. Error text "CODE message".
 * Delivery (status): GET Messages/{Sid}.json per text.
 * HTTP Basic AccountSid:AuthToken; the token is never logged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "netcall.h"
#include "provider.h"
#include "twilio.h"
#include "util.h"

#define TW_PAGE_SIZE 50        /* a poll that finds nothing new costs one small page */
#define TW_MAX_PAGES 20        /* per list and poll; deeper walks resume next poll */
#define TW_LOOKUP_PAGES 3      /* pages looked at before re-sending a text */
#define TW_MARGIN 300          /* seconds: late-stamped items (PROVIDERS.md 1.7.4) */
#define TW_SEEN_MAX 4096       /* known SIDs kept in memory */
#define TW_STATUS_MAX 20

enum { L_MSGS, L_CALLS };

struct seen_ent {
	char sid[72];
	uint64_t seq;
};

struct twprov {
	struct provider base;
	struct netcall_base nb;  /* HTTP Basic AccountSid:AuthToken; form bodies */
	char *acct;              /* "/2010-04-01/Accounts/AC..." */
	char *number;
	struct seen_ent *seen;   /* sorted by sid */
	size_t n_seen;
	uint64_t seq;
	int64_t high_water[2];   /* per list: newest date_sent/start_time known */
	char *resume[2];         /* next_page_uri where a capped walk stopped */
	uint64_t not_before;     /* monotonic usec: no poll before (Retry-After) */
	bool failing;            /* the last poll failed (logged once) */
};

struct poll {                    /* one fetch in flight */
	struct netcall op;
	struct twprov *tp;
	provider_fetch_cb cb;
	void *ud;
	size_t max;
	char day[11];            /* DateSent>= / StartTime>= */
	int64_t old_cursor;      /* day of the cursor passed in, 0 if none */
	int list;                /* L_MSGS, then L_CALLS */
	int pages;
	struct provider_msg *msgs;
	size_t n, cap;
};

struct sendop {                  /* one send in flight (lookups, then POST) */
	struct netcall op;
	struct twprov *tp;
	provider_send_cb cb;
	void *ud;
	int64_t id, created_at;
	char *to, *body;
	int phase;               /* 0 dated lookup, 1 undated lookup, 2 POST */
	int pages;
};

struct statop {
	struct netcall op;
	provider_status_cb cb;
	void *ud;
	int64_t outbox_id;
};

static struct twprov *to_tp(struct provider *p)
{
	return (struct twprov *)p;
}

/* ---- known SIDs: a sorted array, the oldest half dropped when full ---- */

static int seen_cmp(const void *a, const void *b)
{
	return strcmp(((const struct seen_ent *)a)->sid, ((const struct seen_ent *)b)->sid);
}

static bool seen_has(const struct twprov *tp, const char *sid)
{
	struct seen_ent key;

	if (!sid || str_copy(key.sid, sizeof(key.sid), sid) < 0)
		return false;
	return bsearch(&key, tp->seen, tp->n_seen, sizeof(key), seen_cmp) != NULL;
}

static void seen_prune(struct twprov *tp)
{
	uint64_t cut = tp->seq - TW_SEEN_MAX / 2;
	size_t j = 0;

	for (size_t i = 0; i < tp->n_seen; i++)
		if (tp->seen[i].seq > cut)
			tp->seen[j++] = tp->seen[i];
	tp->n_seen = j;
}

static void seen_add(struct twprov *tp, const char *sid)
{
	size_t lo = 0, hi = tp->n_seen;

	if (!sid || strlen(sid) >= sizeof(tp->seen[0].sid) || seen_has(tp, sid))
		return;
	if (tp->n_seen == TW_SEEN_MAX)
		seen_prune(tp);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(tp->seen[mid].sid, sid) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(&tp->seen[lo + 1], &tp->seen[lo], (tp->n_seen - lo) * sizeof(tp->seen[0]));
	str_copy(tp->seen[lo].sid, sizeof(tp->seen[lo].sid), sid);
	tp->seen[lo].seq = ++tp->seq;
	tp->n_seen++;
}

/* ---- life ---- */

static int tw_open(const struct provider_config *cfg, struct provider **ret, char *err,
		   size_t errsize)
{
	struct twprov *tp;

	if (!cfg->account_sid || !cfg->secret || !cfg->number) {
		snprintf(err, errsize, "twilio provider needs account_sid, auth_token and number");
		return -EINVAL;
	}
	tp = xcalloc(1, sizeof(*tp));
	tp->base.ops = &provider_twilio_ops;
	netcall_init(&tp->nb, cfg, "https://api.twilio.com");
	tp->nb.user = xstrdup(cfg->account_sid);
	tp->nb.password = xstrdup(cfg->secret);
	tp->nb.content_type = "Content-Type: application/x-www-form-urlencoded";
	tp->acct = xasprintf("/2010-04-01/Accounts/%s", cfg->account_sid);
	tp->number = xstrdup(cfg->number);
	tp->seen = xcalloc(TW_SEEN_MAX, sizeof(*tp->seen));
	*ret = &tp->base;
	return 0;
}

static void tw_close(struct provider *p)
{
	struct twprov *tp = to_tp(p);

	if (!tp)
		return;
	netcall_release(&tp->nb);
	free(tp->acct);
	free(tp->number);
	free(tp->seen);
	free(tp->resume[0]);
	free(tp->resume[1]);
	free(tp);
}

static int tw_attach(struct provider *p, sd_event *e, provider_wake_cb wake, void *ud)
{
	return netcall_attach(&to_tp(p)->nb, e);
}

static char *esc(const char *s)
{
	char *e = curl_easy_escape(NULL, s ? s : "", 0);
	char *r;

	if (!e)
		fatal("out of memory");
	r = xstrdup(e);
	curl_free(e);
	return r;
}

/* Why a response is not a usable 2xx: "CODE message", "HTTP 503", curl's words. */
static bool failed(const struct http_response *r, char *why, size_t whysize)
{
	if (r->err) {
		snprintf(why, whysize, "%s", r->errmsg);
		return true;
	}
	if (r->status < 200 || r->status > 299) {
		twilio_decode_error(r->status, r->body, r->body_len, why, whysize);
		return true;
	}
	return false;
}

/* ---- inbound ---- */

static void poll_release(struct netcall *o)
{
	struct poll *pl = (struct poll *)o;

	for (size_t i = 0; i < pl->n; i++) {
		free(pl->msgs[i].id);
		free(pl->msgs[i].from);
		free(pl->msgs[i].body);
		free(pl->msgs[i].error);
	}
	free(pl->msgs);
	free(pl);
}

static bool poll_has(const struct poll *pl, const char *sid)
{
	for (size_t i = 0; i < pl->n; i++)
		if (strcmp(pl->msgs[i].id, sid) == 0)
			return true;
	return false;
}

static int msg_cmp(const void *a, const void *b)
{
	const struct provider_msg *x = a, *y = b;

	if (x->received_at != y->received_at)
		return x->received_at < y->received_at ? -1 : 1;
	return strcmp(x->id, y->id);
}

static void page_done(void *ud, const struct http_response *r);

static int poll_first(struct poll *pl)
{
	struct twprov *tp = pl->tp;
	char *num = esc(tp->number), *path;
	int r;

	if (tp->resume[pl->list])
		path = xstrdup(tp->resume[pl->list]);
	else if (pl->list == L_MSGS)
		path = xasprintf("%s/Messages.json?To=%s&DateSent%%3E=%s&PageSize=%d", tp->acct,
				 num, pl->day, TW_PAGE_SIZE);
	else
		path = xasprintf("%s/Calls.json?To=%s&StartTime%%3E=%s&PageSize=%d", tp->acct,
				 num, pl->day, TW_PAGE_SIZE);
	free(tp->resume[pl->list]);
	tp->resume[pl->list] = NULL;
	pl->pages = 0;
	r = netcall_submit(&tp->nb, "GET", path, NULL, page_done, pl);
	free(num);
	free(path);
	return r;
}

/*
 * Take one page: remember what is not ours, collect what is new. True
 * when the walk may stop here: every item known, and the page reaches
 * below the newest item known minus a margin (PROVIDERS.md 1.7.4).
 */
static bool poll_take(struct poll *pl, const struct twilio_page *pg)
{
	struct twprov *tp = pl->tp;
	int64_t hw = tp->high_water[pl->list];
	bool done = true, reaches_old = pg->n == 0 || hw == 0;

	for (size_t i = 0; i < pg->n; i++) {
		const struct twilio_item *it = &pg->items[i];
		enum twilio_take t = pl->list == L_MSGS ? twilio_message_take(it)
							: twilio_call_take(it);

		if (it->when < hw - TW_MARGIN)
			reaches_old = true;   /* past the window where late-stamped ones hide */
		if (t == TWILIO_WAIT) {
			done = false;
		} else if (t == TWILIO_SKIP) {
			seen_add(tp, it->sid);
			if (it->when > tp->high_water[pl->list])
				tp->high_water[pl->list] = it->when;
		} else if (!seen_has(tp, it->sid) && !poll_has(pl, it->sid)) {
			done = false;         /* (an item on two pages is taken once) */
			if (pl->n == pl->cap) {
				pl->cap = pl->cap ? 2 * pl->cap : 64;
				pl->msgs = xrealloc(pl->msgs, pl->cap * sizeof(*pl->msgs));
			}
			twilio_item_to_msg(it, pl->list == L_MSGS ? PROVIDER_MSG_SMS : PROVIDER_MSG_CALL,
					   &pl->msgs[pl->n++]);
		}
	}
	return done && reaches_old;
}

/* Hand the collected items over: oldest first, at most max, with a cursor. */
static void poll_finish(struct poll *pl)
{
	struct provider_batch *b = xcalloc(1, sizeof(*b));
	int64_t newest = pl->old_cursor;
	char day[11];

	if (pl->n)
		qsort(pl->msgs, pl->n, sizeof(*pl->msgs), msg_cmp);
	b->n = pl->n < pl->max ? pl->n : pl->max;
	b->msgs = xcalloc(b->n + 1, sizeof(*b->msgs));
	if (b->n) {
		memcpy(b->msgs, pl->msgs, b->n * sizeof(*b->msgs));
		memmove(pl->msgs, pl->msgs + b->n, (pl->n - b->n) * sizeof(*pl->msgs));
		pl->n -= b->n;
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->msgs[i].received_at > newest)
			newest = b->msgs[i].received_at;
	if (b->n && newest > 0)
		b->cursor = xstrdup(twilio_day(newest, day));
	if (pl->tp->failing)
		log_notice("twilio: answering again");
	pl->tp->failing = false;
	pl->cb(pl->ud, b, 0, 0);
	netcall_free(&pl->op);
}

static void poll_fail(struct poll *pl, const struct http_response *r, const char *why)
{
	struct twprov *tp = pl->tp;

	if (r->retry_after > 0)
		tp->not_before = util_mono_usec() + (uint64_t)(r->retry_after * 1e6);
	log_msg(tp->failing ? LOG_DEBUG : LOG_WARNING, "twilio: listing %s: %s",
		pl->list == L_MSGS ? "messages" : "calls", why);
	tp->failing = true;
	pl->cb(pl->ud, NULL, -EAGAIN, r->retry_after);
	netcall_free(&pl->op);
}

static void page_done(void *ud, const struct http_response *r)
{
	struct poll *pl = ud;
	struct twprov *tp = pl->tp;
	struct twilio_page pg;
	char why[300];
	bool done;
	int rc;

	if (failed(r, why, sizeof(why)) ||
	    twilio_decode_page(r->body, r->body_len, pl->list == L_CALLS, &pg, why, sizeof(why)) < 0)
		return poll_fail(pl, r, why);
	done = poll_take(pl, &pg) || !pg.next_page_uri;
	if (!done && ++pl->pages >= TW_MAX_PAGES) {
		log_warn("twilio: more than %d pages of new %s; the rest next poll", TW_MAX_PAGES,
			 pl->list == L_MSGS ? "messages" : "calls");
		tp->resume[pl->list] = xstrdup(pg.next_page_uri);
		done = true;
	}
	if (!done) {
		rc = netcall_submit(&tp->nb, "GET", pg.next_page_uri, NULL, page_done, pl);
	} else if (pl->list == L_MSGS) {
		pl->list = L_CALLS;
		rc = poll_first(pl);
	} else {
		rc = 1;
	}
	twilio_page_release(&pg);
	if (rc < 0)
		poll_fail(pl, r, "cannot start the next request");
	else if (rc > 0)
		poll_finish(pl);
}

static int tw_fetch(struct provider *p, const char *cursor, size_t max, provider_fetch_cb cb,
		    void *ud)
{
	struct twprov *tp = to_tp(p);
	struct poll *pl;
	uint64_t now = util_mono_usec();
	int64_t from;
	int r;

	if (now < tp->not_before) {     /* Twilio asked us to wait (429/503 Retry-After) */
		cb(ud, NULL, -EAGAIN, (double)(tp->not_before - now) / 1e6);
		return 0;
	}
	pl = netcall_new(&tp->nb, sizeof(*pl), poll_release);
	pl->tp = tp;
	pl->cb = cb;
	pl->ud = ud;
	pl->max = max ? max : 1;
	pl->old_cursor = cursor ? twilio_day_parse(cursor) : -1;
	if (pl->old_cursor < 0)
		pl->old_cursor = 0;
	/* whole GMT days, inclusive: the day before the cursor's (or today's) */
	from = (pl->old_cursor ? pl->old_cursor : util_now()) - 86400;
	twilio_day(from, pl->day);
	pl->list = L_MSGS;
	r = poll_first(pl);
	if (r < 0)
		netcall_free(&pl->op);
	return r;
}

static int tw_ack(struct provider *p, struct provider_batch *b)
{
	struct twprov *tp = to_tp(p);

	for (size_t i = 0; b && i < b->n; i++) {
		int l = b->msgs[i].kind == PROVIDER_MSG_CALL ? L_CALLS : L_MSGS;

		seen_add(tp, b->msgs[i].id);
		if (b->msgs[i].received_at > tp->high_water[l])
			tp->high_water[l] = b->msgs[i].received_at;
	}
	return 0;
}

/* ---- send ---- */

static void send_release(struct netcall *o)
{
	struct sendop *so = (struct sendop *)o;

	free(so->to);
	free(so->body);
	free(so);
}

static void send_answer(struct sendop *so, struct provider_result *res)
{
	so->cb(so->ud, so->id, res);
	netcall_free(&so->op);
}

static void send_transient(struct sendop *so, const struct http_response *r, const char *why)
{
	struct provider_result res = { .status = -EAGAIN, .retry_after = r ? r->retry_after : 0 };

	str_copy(res.error, sizeof(res.error), why);
	send_answer(so, &res);
}

static void post_done(void *ud, const struct http_response *r)
{
	struct sendop *so = ud;
	struct provider_result res = { .retry_after = r->retry_after };
	long code;

	if (r->err) {
		res.status = -EAGAIN;
		snprintf(res.error, sizeof(res.error), "%s", r->errmsg);
	} else if (r->status >= 200 && r->status <= 299) {
		/* accepted: the text is Twilio's now, even if the answer is odd */
		if (twilio_decode_sid(r->body, r->body_len, res.provider_id,
				      sizeof(res.provider_id)) < 0)
			log_warn("twilio: text %lld accepted (HTTP %ld) without a SID",
				 (long long)so->id, r->status);
	} else {
		code = twilio_decode_error(r->status, r->body, r->body_len, res.error,
					   sizeof(res.error));
		res.status = r->status == 429 || code == 20429 || r->status == 408 ||
				     r->status >= 500 || r->status < 400 ? -EAGAIN : -EINVAL;
	}
	send_answer(so, &res);
}

static int send_post(struct sendop *so)
{
	struct twprov *tp = so->tp;
	char *to = esc(so->to), *from = esc(tp->number), *body = esc(so->body);
	char *form = xasprintf("To=%s&From=%s&Body=%s", to, from, body);
	char *path = xasprintf("%s/Messages.json", tp->acct);
	int r;

	so->phase = 2;
	r = netcall_submit(&tp->nb, "POST", path, form, post_done, so);
	free(to);
	free(from);
	free(body);
	free(form);
	free(path);
	return r;
}

static void lookup_done(void *ud, const struct http_response *r);

static int send_lookup(struct sendop *so, const char *page)
{
	struct twprov *tp = so->tp;
	char *to, *from, *path, day[11];
	int r;

	if (page) {
		path = xstrdup(page);
	} else {
		to = esc(so->to);
		from = esc(tp->number);
		path = so->phase == 0
			       ? xasprintf("%s/Messages.json?To=%s&From=%s&DateSent%%3E=%s&PageSize=%d",
					   tp->acct, to, from, twilio_day(so->created_at, day), TW_PAGE_SIZE)
			       : xasprintf("%s/Messages.json?To=%s&From=%s&PageSize=%d", tp->acct, to,
					   from, TW_PAGE_SIZE);
		free(to);
		free(from);
	}
	r = netcall_submit(&tp->nb, "GET", path, NULL, lookup_done, so);
	free(path);
	return r;
}

/* The SID of a text of ours on the page: same recipient and body, created since the row. */
static const char *lookup_match(const struct sendop *so, const struct twilio_page *pg)
{
	size_t len = strlen(so->body);

	for (size_t i = 0; i < pg->n; i++) {
		const struct twilio_item *it = &pg->items[i];

		if (it->direction && strncmp(it->direction, "outbound", 8) == 0 && it->body &&
		    it->body_len == len && memcmp(it->body, so->body, len) == 0 &&
		    (!it->created || it->created >= so->created_at - TW_MARGIN))
			return it->sid;
	}
	return NULL;
}

static void lookup_done(void *ud, const struct http_response *r)
{
	struct sendop *so = ud;
	struct provider_result res = { 0 };
	struct twilio_page pg;
	char why[300];
	const char *sid;
	int rc;

	if (failed(r, why, sizeof(why)) ||
	    twilio_decode_page(r->body, r->body_len, 0, &pg, why, sizeof(why)) < 0) {
		/* do not post blindly: the earlier attempt may have got through */
		return send_transient(so, r, why);
	}
	sid = lookup_match(so, &pg);
	if (sid) {
		log_info("twilio: text %lld was already accepted as %s; not sent again",
			 (long long)so->id, sid);
		snprintf(res.provider_id, sizeof(res.provider_id), "%s", sid);
		twilio_page_release(&pg);
		return send_answer(so, &res);
	}
	if (so->phase == 0 && pg.next_page_uri && ++so->pages < TW_LOOKUP_PAGES) {
		rc = send_lookup(so, pg.next_page_uri);
	} else if (so->phase == 0) {
		so->phase = 1;          /* queued ones have no date_sent yet */
		rc = send_lookup(so, NULL);
	} else {
		rc = send_post(so);
	}
	twilio_page_release(&pg);
	if (rc < 0)
		send_transient(so, NULL, "cannot start a request");
}

static int tw_send(struct provider *p, const struct provider_out *m, provider_send_cb cb,
		   void *ud)
{
	struct twprov *tp = to_tp(p);
	struct sendop *so = netcall_new(&tp->nb, sizeof(*so), send_release);
	int r;

	so->tp = tp;
	so->cb = cb;
	so->ud = ud;
	so->id = m->id;
	so->created_at = m->created_at;
	so->to = xstrdup(m->to);
	so->body = xstrdup(m->body);
	r = m->attempts > 0 ? send_lookup(so, NULL) : send_post(so);
	if (r < 0)
		netcall_free(&so->op);
	return r;
}

/* ---- delivery status ---- */

static void status_done(void *ud, const struct http_response *r)
{
	struct statop *op = ud;
	provider_status_cb cb = op->cb;
	void *cb_ud = op->ud;
	int64_t outbox_id = op->outbox_id;
	struct provider_status st = { 0 };
	char why[256];

	if (failed(r, why, sizeof(why))) {
		st.err = r->err ? r->err : -EIO;
		st.retry_after = r->retry_after;
		snprintf(st.error, sizeof(st.error), "%s", why);
	} else {
		twilio_decode_status(r->body, r->body_len, &st);
	}
	netcall_free(&op->op);
	cb(cb_ud, outbox_id, &st);
}

static int tw_status(struct provider *p, const struct provider_query *q, size_t n,
		     provider_status_cb cb, void *ud)
{
	struct twprov *tp = to_tp(p);

	if (n > TW_STATUS_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		struct statop *op = netcall_new(&tp->nb, sizeof(*op), NULL);
		char *sid = esc(q[i].provider_id);
		char *path = xasprintf("%s/Messages/%s.json", tp->acct, sid);
		int r;

		op->cb = cb;
		op->ud = ud;
		op->outbox_id = q[i].outbox_id;
		r = q[i].provider_id && *q[i].provider_id
			    ? netcall_submit(&tp->nb, "GET", path, NULL, status_done, op) : -ENOENT;
		free(sid);
		free(path);
		if (r < 0) {        /* answer this one now: every query gets exactly one */
			netcall_free(&op->op);
			netcall_status_now(cb, ud, q[i].outbox_id, r, r == -ENOENT
					   ? "no Twilio SID for this text" : "cannot start a request");
		}
	}
	return 0;
}

const struct provider_ops provider_twilio_ops = {
	.name = "twilio",
	.open = tw_open,
	.close = tw_close,
	.attach = tw_attach,
	.fetch = tw_fetch,
	.ack = tw_ack,
	.send = tw_send,
	.status = tw_status,
	.status_max = TW_STATUS_MAX,
};
