/*
 * gwproto.c — decoding gridline's own HTTP gateway protocol
 * (docs/http-provider.md). Pure: see gwproto.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include "gwproto.h"
#include "jsonbody.h"
#include "util.h"

/* RFC 3339 in UTC ("Z", fractional seconds allowed); 0 if absent or not that. */
static int64_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

	if (!end)
		return 0;
	if (*end == '.')
		end += 1 + strspn(end + 1, "0123456789");
	return (*end == 'Z' && end[1] == '\0') || *end == '\0' ? (int64_t)timegm(&tm) : 0;
}

/* A string member without a NUL inside, or NULL. */
static const char *get_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_string_value(v);

	return s && strlen(s) == json_string_length(v) ? s : NULL;
}

static void inbox_entry(json_t *m, struct provider_msg *pm)
{
	const char *id = get_str(m, "id");
	json_t *jbody = json_object_get(m, "body");
	const char *body = json_string_value(jbody);

	pm->id = id && *id && strlen(id) < 256 ? xstrdup(id) : jsonbody_hash_id(m);
	pm->from = xstrdup(get_str(m, "from"));
	pm->body_len = body ? json_string_length(jbody) : 0;
	pm->body = xmalloc(pm->body_len + 1);
	memcpy(pm->body, body ? body : "", pm->body_len);
	pm->body[pm->body_len] = '\0';
	pm->received_at = parse_time(get_str(m, "received"));
	if (!id || !*id || strlen(id) >= 256)
		pm->error = xstrdup("message without a usable id");
	else if (!body)
		pm->error = xstrdup("message without a body");
}

int gwproto_inbox(const char *body, size_t len, struct provider_batch **ret, char *why,
		  size_t whysize)
{
	json_t *j = jsonbody_parse(body, len, why, whysize), *msgs, *cur, *m;
	struct provider_batch *b;
	size_t i;

	if (!j)
		return -EBADMSG;
	msgs = json_object_get(j, "messages");
	cur = json_object_get(j, "cursor");
	if (!json_is_array(msgs)) {
		snprintf(why, whysize, "no \"messages\" array");
		goto bad;
	}
	if (cur && !json_is_null(cur) &&
	    (!get_str(j, "cursor") || json_string_length(cur) >= GWPROTO_CURSOR_MAX)) {
		/* the messages stay on the gateway; nothing is stored without its cursor */
		snprintf(why, whysize, "\"cursor\" is not a string under %d bytes",
			 GWPROTO_CURSOR_MAX);
		goto bad;
	}
	b = xcalloc(1, sizeof(*b));
	b->msgs = xcalloc(json_array_size(msgs) + 1, sizeof(*b->msgs));
	json_array_foreach(msgs, i, m) {
		if (json_is_object(m))
			inbox_entry(m, &b->msgs[b->n++]);
	}
	b->cursor = xstrdup(get_str(j, "cursor"));
	json_decref(j);
	*ret = b;
	return 0;
bad:
	json_decref(j);
	return -EBADMSG;
}

void gwproto_send(long status, const char *body, size_t len, struct provider_result *res)
{
	char why[8];
	json_t *j = jsonbody_parse(body, len, why, sizeof(why));
	json_t *e = json_object_get(j, "error");
	const char *code = get_str(e, "code"), *msg = get_str(e, "message");
	const char *id = get_str(j, "id");

	res->status = 0;
	res->provider_id[0] = res->error[0] = '\0';
	if (status == 200 || status == 201 || status == 202) {
		/* accepted: the text is the provider's now, even if the body is odd */
		if (id && strlen(id) < sizeof(res->provider_id))
			str_copy(res->provider_id, sizeof(res->provider_id), id);
	} else {
		snprintf(res->error, sizeof(res->error), "HTTP %ld%s%.100s%s%.120s", status,
			 code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
		res->status = status >= 400 && status < 500 && status != 408 && status != 429
				      ? -EINVAL : -EAGAIN;
	}
	json_decref(j);
}

/* The state of one entry of a /status answer; error set when failed. */
static int delivery_state(json_t *m, char *error, size_t size)
{
	const char *st = get_str(m, "status");
	json_t *e = json_object_get(m, "error");
	const char *code = get_str(e, "code"), *msg = get_str(e, "message");

	if (st && strcmp(st, "delivered") == 0)
		return DELIVERY_DELIVERED;
	if (!st || strcmp(st, "failed") != 0)
		return DELIVERY_PENDING;
	snprintf(error, size, "%.100s%s%.140s", code ? code : "", code && msg ? " " : "",
		 msg ? msg : "");
	if (!*error)
		snprintf(error, size, "failed (no reason given)");
	return DELIVERY_FAILED;
}

int gwproto_status(const char *body, size_t len, const int64_t *ids, size_t n,
		   struct provider_status *each, char *why, size_t whysize)
{
	json_t *j = jsonbody_parse(body, len, why, whysize), *msgs, *m;
	size_t i, k;

	if (!j)
		return -EBADMSG;
	msgs = json_object_get(j, "messages");
	if (!json_is_array(msgs)) {
		snprintf(why, whysize, "no \"messages\" array");
		json_decref(j);
		return -EBADMSG;
	}
	for (k = 0; k < n; k++) {   /* ids the answer leaves out are not final yet */
		each[k].state = DELIVERY_PENDING;
		each[k].error[0] = '\0';
	}
	json_array_foreach(msgs, i, m) {
		const char *id = get_str(m, "id");
		long long v;
		int used = 0;

		if (!id || sscanf(id, "gridline-%lld%n", &v, &used) != 1 || id[used] != '\0')
			continue;
		for (k = 0; k < n; k++)
			if (ids[k] == v)
				each[k].state = delivery_state(m, each[k].error, sizeof(each[k].error));
	}
	json_decref(j);
	return 0;
}
