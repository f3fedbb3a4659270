/*
 * http.c — libcurl's multi interface on the sd-event loop.
 *
 * curl says which sockets to watch (CURLMOPT_SOCKETFUNCTION: an sd-event
 * io source per socket) and when to call it back (CURLMOPT_TIMERFUNCTION:
 * one sd-event timer); we call curl_multi_socket_action() when either
 * fires and collect finished transfers with curl_multi_info_read(). No
 * transfer ever blocks the loop. See libcurl's "multi_socket" API
 * documentation (curl_multi_socket_action(3), CURLMOPT_SOCKETFUNCTION(3)).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "http.h"
#include "log.h"
#include "util.h"

#ifndef GRIDLINE_VERSION
#define GRIDLINE_VERSION "0.1"
#endif

struct watch {                 /* one socket curl asked us to watch */
	curl_socket_t fd;
	sd_event_source *src;
	struct watch *next;
};

struct xfer {
	struct http *h;
	CURL *easy;
	struct curl_slist *headers;
	char *resp;
	size_t len, cap, max;
	bool too_big;
	double retry_after;
	http_done_cb cb;
	void *ud;
	char errbuf[CURL_ERROR_SIZE];
	struct xfer *prev, *next;
};

struct http {
	sd_event *event;
	CURLM *multi;
	sd_event_source *timer;
	struct watch *watches;
	struct xfer *xfers;
	size_t pending;
};

static void xfer_free(struct xfer *x)
{
	struct http *h = x->h;

	if (x->prev)
		x->prev->next = x->next;
	else
		h->xfers = x->next;
	if (x->next)
		x->next->prev = x->prev;
	h->pending--;
	curl_multi_remove_handle(h->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	free(x->resp);
	free(x);
}

static int map_error(CURLcode c, bool too_big)
{
	switch (c) {
	case CURLE_OK: return 0;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
	case CURLE_WRITE_ERROR: return too_big ? -EMSGSIZE : -EIO;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE: return -EPROTO;
	default: return -EIO;
	}
}

/* Hand every finished transfer to its owner. */
static void http_collect(struct http *h)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(h->multi, &left))) {
		struct http_response r = { 0 };
		struct xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		r.err = map_error(m->data.result, x->too_big);
		if (r.err == -EMSGSIZE)
			snprintf(r.errmsg, sizeof(r.errmsg), "response larger than %zu bytes", x->max);
		else if (r.err)
			snprintf(r.errmsg, sizeof(r.errmsg), "%s",
				 x->errbuf[0] ? x->errbuf : curl_easy_strerror(m->data.result));
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
		r.body = x->resp ? x->resp : (char *)"";
		r.body_len = x->len;
		r.retry_after = x->retry_after;
		x->cb(x->ud, &r);
		xfer_free(x);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	struct http *h = ud;
	int running, flags = 0;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(h->multi, fd, flags, &running);
	http_collect(h);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *ud)
{
	struct http *h = ud;
	int running;

	curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_collect(h);
	return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *ud, void *socketp)
{
	struct http *h = ud;
	struct watch **pp = &h->watches, *w;
	uint32_t ev = 0;

	while (*pp && (*pp)->fd != fd)
		pp = &(*pp)->next;
	w = *pp;
	if (what == CURL_POLL_REMOVE) {
		if (w) {
			*pp = w->next;
			sd_event_source_disable_unref(w->src);
			free(w);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		ev |= EPOLLOUT;
	if (w)
		return sd_event_source_set_io_events(w->src, ev) < 0 ? -1 : 0;
	w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	if (sd_event_add_io(h->event, &w->src, fd, ev, on_io, h) < 0) {
		free(w);
		return -1;
	}
	w->next = h->watches;
	h->watches = w;
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *ud)
{
	struct http *h = ud;
	uint64_t now;

	if (timeout_ms < 0)
		return sd_event_source_set_enabled(h->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	sd_event_now(h->event, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(h->timer, now + (uint64_t)timeout_ms * 1000u);
	return sd_event_source_set_enabled(h->timer, SD_EVENT_ONESHOT) < 0 ? -1 : 0;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	if (x->len + len > x->max) {
		x->too_big = true;
		return 0;   /* curl aborts with CURLE_WRITE_ERROR */
	}
	if (x->len + len + 1 > x->cap) {
		x->cap = (x->len + len + 1) * 2;
		if (x->cap > x->max + 1)
			x->cap = x->max + 1;
		x->resp = xrealloc(x->resp, x->cap);
	}
	memcpy(x->resp + x->len, p, len);
	x->len += len;
	x->resp[x->len] = '\0';
	return len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;
	char v[32];

	/* Retry-After in its delta-seconds form (RFC 9110 10.2.3) */
	if (len > 12 && len < 12 + sizeof(v) && strncasecmp(p, "Retry-After:", 12) == 0) {
		char *end;
		double d;

		memcpy(v, p + 12, len - 12);
		v[len - 12] = '\0';
		d = strtod(v, &end);
		if (end != v && d >= 0 && d <= 86400)
			x->retry_after = d;
	}
	return len;
}

struct http *http_new(sd_event *e)
{
	static bool global;
	struct http *h;

	if (!global) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			fatal("curl_global_init failed");
		global = true;
	}
	h = xcalloc(1, sizeof(*h));
	h->event = sd_event_ref(e);
	h->multi = curl_multi_init();
	if (!h->multi)
		fatal("curl_multi_init failed");
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
	if (sd_event_add_time(e, &h->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, h) < 0)
		fatal("cannot add the HTTP timer");
	sd_event_source_set_enabled(h->timer, SD_EVENT_OFF);
	return h;
}

void http_free(struct http *h)
{
	if (!h)
		return;
	while (h->xfers)
		xfer_free(h->xfers);
	curl_multi_cleanup(h->multi);
	while (h->watches) {
		struct watch *w = h->watches;
		h->watches = w->next;
		sd_event_source_disable_unref(w->src);
		free(w);
	}
	sd_event_source_disable_unref(h->timer);
	sd_event_unref(h->event);
	free(h);
}

size_t http_pending(const struct http *h)
{
	return h->pending;
}

int http_submit(struct http *h, const struct http_request *req, http_done_cb cb, void *ud)
{
	struct xfer *x = xcalloc(1, sizeof(*x));
	CURL *c = curl_easy_init();

	if (!c) {
		free(x);
		return -ENOMEM;
	}
	x->h = h;
	x->easy = c;
	x->cb = cb;
	x->ud = ud;
	x->max = req->max_response ? req->max_response : 1024 * 1024;
	for (const char *const *p = req->headers; p && *p; p++)
		x->headers = curl_slist_append(x->headers, *p);

	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PRIVATE, x);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->cafile)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->cafile);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 req->connect_timeout_ms ? req->connect_timeout_ms : 10000L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, req->timeout_ms ? req->timeout_ms : 30000L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "gridline/" GRIDLINE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, x);
	if (x->headers)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, x->headers);
	if (req->username) {
		curl_easy_setopt(c, CURLOPT_USERNAME, req->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	if (req->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, req->body);
	}
	if (req->method && strcmp(req->method, req->body ? "POST" : "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);

	x->next = h->xfers;
	if (h->xfers)
		h->xfers->prev = x;
	h->xfers = x;
	h->pending++;
	if (curl_multi_add_handle(h->multi, c) != CURLM_OK) {
		xfer_free(x);
		return -EIO;
	}
	return 0;
}
