/*
 * netcall.h — what the three network adapters (src/net/provider_http.c,
 * provider_android.c, provider_twilio.c) share: the settings every request
 * to the provider carries (base URL, credentials, timeouts, CA file, body
 * cap), the HTTP engine, and the list of requests in flight, so that
 * close() can free the state of the requests http_free() cancels (their
 * callbacks never come). How a provider's answers are read stays in its
 * adapter.
 */
#ifndef GRIDLINE_NETCALL_H
#define GRIDLINE_NETCALL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "http.h"
#include "provider.h"

struct netcall_base;

/*
 * The head of an adapter's state for one request in flight; the first
 * member of that state, so that the head's address is the allocation's.
 */
struct netcall {
	struct netcall *prev, *next;         /* in base->calls */
	struct netcall_base *base;
	void (*release)(struct netcall *c);  /* frees the state c heads; NULL: free(c) */
};

/* Embedded in an adapter's provider struct; every pointer is owned by it. */
struct netcall_base {
	char *url;                   /* base URL, without a trailing '/' */
	char *auth;                  /* an extra header ("Authorization: ..."), or NULL; wiped */
	char *user, *password;       /* HTTP Basic, or NULL; the password is wiped */
	char *cafile;                /* extra CA bundle, or NULL */
	const char *content_type;    /* the header sent with a body (a static string) */
	long timeout_ms, connect_timeout_ms;
	size_t max_response;
	struct http *http;           /* from netcall_attach() */
	struct netcall *calls;       /* requests in flight */
};

/*
 * Fill b from cfg: url (default_url when cfg has none; trailing '/'
 * removed), cafile, timeouts and the body cap; content_type JSON. The
 * credentials are the adapter's to set (b owns them).
 */
void netcall_init(struct netcall_base *b, const struct provider_config *cfg,
		  const char *default_url);

/*
 * Cancel every request in flight (no callback comes), free their state
 * and everything b owns, wiping the secrets first. b itself is not freed.
 */
void netcall_release(struct netcall_base *b);

/* Create the engine on loop e on first use. Returns 0, or -ENOMEM. */
int netcall_attach(struct netcall_base *b, sd_event *e);

/*
 * A zeroed state of size bytes (>= sizeof(struct netcall), the head
 * first), linked into b's list; netcall_free() or netcall_release()
 * calls release on it. Never NULL (out of memory is fatal).
 */
void *netcall_new(struct netcall_base *b, size_t size, void (*release)(struct netcall *c));

/* Unlink c from its list and release it. NULL is fine. */
void netcall_free(struct netcall *c);

/*
 * Start a request to {url}{path} (path from "/", query included) with
 * b's credentials, limits and headers: auth, "Accept: application/json",
 * and content_type when there is a body. cb and ud as http_submit().
 * Returns 0, -ENOTCONN before netcall_attach(), or http_submit()'s error.
 */
int netcall_submit(struct netcall_base *b, const char *method, const char *path,
		   const char *body, http_done_cb cb, void *ud);

/*
 * POST j (taken: freed here; NULL allowed) as compact JSON to {url}{path}.
 * Returns as netcall_submit(), or -EINVAL when j is NULL or cannot be
 * serialised (nothing started).
 */
int netcall_post_json(struct netcall_base *b, const char *path, json_t *j, http_done_cb cb,
		      void *ud);

/*
 * Answer a delivery-status query at once, with err (< 0) and why (may be
 * ""), for a query that could not be asked: every query gets one answer.
 */
void netcall_status_now(provider_status_cb cb, void *ud, int64_t outbox_id, int err,
			const char *why);

#endif
