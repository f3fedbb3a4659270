/*
 * netcall.c — the part of the network adapters that is the same for
 * every provider: settings, engine, requests in flight, starting a
 * request. See netcall.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "netcall.h"
#include "util.h"

void netcall_init(struct netcall_base *b, const struct provider_config *cfg,
		  const char *default_url)
{
	size_t n;

	b->url = xstrdup(cfg->url ? cfg->url : default_url);
	n = strlen(b->url);
	while (n > 0 && b->url[n - 1] == '/')
		b->url[--n] = '\0';
	b->cafile = xstrdup(cfg->cafile);
	b->content_type = "Content-Type: application/json";
	b->timeout_ms = (long)(cfg->timeout * 1000);
	b->connect_timeout_ms = (long)(cfg->connect_timeout * 1000);
	b->max_response = cfg->max_response;
}

/* Free a secret without leaving it in freed memory. */
static void free_wiped(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

void netcall_release(struct netcall_base *b)
{
	http_free(b->http);      /* cancels the requests: their callbacks never come */
	b->http = NULL;
	while (b->calls)
		netcall_free(b->calls);
	free(b->url);
	free_wiped(b->auth);
	free(b->user);
	free_wiped(b->password);
	free(b->cafile);
}

int netcall_attach(struct netcall_base *b, sd_event *e)
{
	if (!b->http)
		b->http = http_new(e);
	return b->http ? 0 : -ENOMEM;
}

void *netcall_new(struct netcall_base *b, size_t size, void (*release)(struct netcall *c))
{
	struct netcall *c = xcalloc(1, size);

	c->base = b;
	c->release = release;
	c->next = b->calls;
	if (b->calls)
		b->calls->prev = c;
	b->calls = c;
	return c;
}

void netcall_free(struct netcall *c)
{
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->base->calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->release)
		c->release(c);
	else
		free(c);
}

int netcall_submit(struct netcall_base *b, const char *method, const char *path,
		   const char *body, http_done_cb cb, void *ud)
{
	const char *headers[4];
	struct http_request req = {
		.method = method, .headers = headers,
		.body = body, .body_len = body ? strlen(body) : 0,
		.username = b->user, .password = b->password,
		.connect_timeout_ms = b->connect_timeout_ms, .timeout_ms = b->timeout_ms,
		.max_response = b->max_response, .cafile = b->cafile,
	};
	size_t n = 0;
	char *url;
	int r;

	if (!b->http)
		return -ENOTCONN;
	if (b->auth)
		headers[n++] = b->auth;
	headers[n++] = "Accept: application/json";
	if (body)
		headers[n++] = b->content_type;
	headers[n] = NULL;
	url = xasprintf("%s%s", b->url, path);
	req.url = url;
	r = http_submit(b->http, &req, cb, ud);
	free(url);
	return r;
}

int netcall_post_json(struct netcall_base *b, const char *path, json_t *j, http_done_cb cb,
		      void *ud)
{
	char *json = j ? json_dumps(j, JSON_COMPACT) : NULL;
	int r;

	json_decref(j);
	if (!json)
		return -EINVAL;
	r = netcall_submit(b, "POST", path, json, cb, ud);
	free(json);
	return r;
}

void netcall_status_now(provider_status_cb cb, void *ud, int64_t outbox_id, int err,
			const char *why)
{
	struct provider_status st = { .err = err };

	str_copy(st.error, sizeof(st.error), why);
	cb(ud, outbox_id, &st);
}
