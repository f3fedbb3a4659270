/*
 * http.h — HTTP for the network providers: libcurl's multi interface
 * driven by the sd-event loop (curl tells us which sockets to watch and
 * when its timer expires; we tell curl what happened). Nothing blocks: a
 * slow or hung provider never holds up timers, the watchdog or signals.
 *
 * Every request has a connect timeout, a total timeout and a cap on the
 * response body; TLS peer and host verification are always on (a CA file
 * may be given for self-hosted gateways); proxies come from the
 * environment (libcurl's http_proxy/https_proxy/no_proxy); one easy
 * handle per request but the multi handle's connection cache is shared,
 * so connections are reused between polls.
 */
#ifndef GRIDLINE_HTTP_H
#define GRIDLINE_HTTP_H

#include <stddef.h>

#include <systemd/sd-event.h>

struct http;

struct http_request {
	const char *method;            /* "GET", "POST" */
	const char *url;
	const char *const *headers;    /* NULL-terminated "Name: value" list, or NULL */
	const char *body;              /* request body, or NULL */
	size_t body_len;
	const char *username;          /* HTTP Basic, or NULL */
	const char *password;
	long connect_timeout_ms;       /* 0: 10 s */
	long timeout_ms;               /* total; 0: 30 s */
	size_t max_response;           /* body cap in bytes; 0: 1 MiB */
	const char *cafile;            /* extra CA bundle, or NULL */
};

struct http_response {
	int err;                 /* 0, or -ETIMEDOUT, -ECONNREFUSED, -EMSGSIZE (over the cap),
				    -EHOSTUNREACH, -EPROTO (TLS), -EIO (other transport errors) */
	char errmsg[256];        /* curl's words when err != 0 */
	long status;             /* HTTP status, 0 when no response */
	char *body;              /* NUL-terminated, owned by the engine, valid during the callback */
	size_t body_len;
	double retry_after;      /* seconds from a Retry-After header (delta form), 0 if none */
};

typedef void (*http_done_cb)(void *ud, const struct http_response *r);

/* An engine on event loop e (borrowed). */
struct http *http_new(sd_event *e);
/* Cancels every request in flight (their callbacks are not called). NULL fine. */
void http_free(struct http *h);

/*
 * Start a request; cb is called exactly once, from the event loop, never
 * before http_submit() returns. The request's strings are copied.
 * Returns 0, or <0 when it could not even be started (cb not called).
 */
int http_submit(struct http *h, const struct http_request *req, http_done_cb cb, void *ud);

/* Requests in flight. */
size_t http_pending(const struct http *h);

#endif
