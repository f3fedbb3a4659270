/*
 * twilio.c — pure decoding of Twilio REST answers (see twilio.h). No I/O,
 * no logging: everything here is table-tested with recorded bodies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "jsonbody.h"
#include "twilio.h"
#include "util.h"

/* Parse len bytes as JSON after repairing invalid UTF-8. NULL + why on error. */
static json_t *load(const char *body, size_t len, char *why, size_t whysize)
{
	json_t *j;

	if (!body) {
		snprintf(why, whysize, "empty answer");
		return NULL;
	}
	j = jsonbody_parse(body, len, why, whysize);
	if (j && !json_is_object(j)) {
		snprintf(why, whysize, "JSON answer is not an object");
		json_decref(j);
		j = NULL;
	}
	return j;
}

static char *str_dup(json_t *o, const char *key)
{
	return xstrdup(json_string_value(json_object_get(o, key)));
}

static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

int64_t twilio_parse_date(const char *s)
{
	struct tm tm = { 0 };
	char mon[4] = "";
	int n = 0, off = 0;
	const char *comma, *z;

	if (!s)
		return 0;
	comma = strchr(s, ',');           /* optional "Tue, " */
	if (comma)
		s = comma + 1;
	if (sscanf(s, " %2d %3s %4d %2d:%2d:%2d %n", &tm.tm_mday, mon, &tm.tm_year, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec, &n) != 6 || n == 0)
		return 0;
	tm.tm_mon = -1;
	for (int i = 0; i < 12; i++)
		if (strcasecmp(mon, months[i]) == 0)
			tm.tm_mon = i;
	if (tm.tm_mon < 0 || tm.tm_year < 1970 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return 0;
	tm.tm_year -= 1900;
	z = s + n;
	if ((z[0] == '+' || z[0] == '-') && strspn(z + 1, "0123456789") == 4) {
		int hh = (z[1] - '0') * 10 + (z[2] - '0'), mm = (z[3] - '0') * 10 + (z[4] - '0');
		off = (hh * 60 + mm) * 60 * (z[0] == '-' ? -1 : 1);
	} else if (*z && strcasecmp(z, "GMT") != 0 && strcasecmp(z, "UT") != 0 &&
		   strcasecmp(z, "UTC") != 0) {
		return 0;
	}
	return (int64_t)timegm(&tm) - off;
}

const char *twilio_day(int64_t t, char buf[11])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm) || strftime(buf, 11, "%Y-%m-%d", &tm) != 10)
		snprintf(buf, 11, "1970-01-01");
	return buf;
}

int64_t twilio_day_parse(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s ? strptime(s, "%Y-%m-%d", &tm) : NULL;

	if (!end || *end || strlen(s) != 10)
		return -1;
	return (int64_t)timegm(&tm);
}

static void item_release(struct twilio_item *it)
{
	free(it->sid);
	free(it->direction);
	free(it->from);
	free(it->to);
	free(it->body);
	free(it->status);
	free(it->error_message);
}

static void item_decode(json_t *m, int calls, struct twilio_item *it)
{
	json_t *b = json_object_get(m, "body");
	const char *when = calls ? "start_time" : "date_sent";

	it->sid = str_dup(m, "sid");
	it->direction = str_dup(m, "direction");
	it->from = str_dup(m, "from");
	it->to = str_dup(m, "to");
	it->status = str_dup(m, "status");
	if (json_is_string(b)) {
		it->body_len = json_string_length(b);
		it->body = xmalloc(it->body_len + 1);
		memcpy(it->body, json_string_value(b), it->body_len);
		it->body[it->body_len] = '\0';
	}
	it->created = twilio_parse_date(json_string_value(json_object_get(m, "date_created")));
	it->when = twilio_parse_date(json_string_value(json_object_get(m, when)));
	if (!it->when)
		it->when = it->created;
	it->error_code = (long)json_integer_value(json_object_get(m, "error_code"));
	it->error_message = str_dup(m, "error_message");
}

int twilio_decode_page(const char *body, size_t len, int calls, struct twilio_page *ret,
		       char *why, size_t whysize)
{
	const char *key = calls ? "calls" : "messages";
	json_t *j = load(body, len, why, whysize), *arr, *m, *next;
	struct twilio_page pg = { 0 };
	size_t i;

	if (!j)
		return -EBADMSG;
	arr = json_object_get(j, key);
	if (!json_is_array(arr)) {
		snprintf(why, whysize, "no \"%s\" array", key);
		json_decref(j);
		return -EBADMSG;
	}
	pg.items = xcalloc(json_array_size(arr) + 1, sizeof(*pg.items));
	json_array_foreach(arr, i, m) {
		const char *sid = json_string_value(json_object_get(m, "sid"));

		if (!sid || !*sid || strlen(sid) > 64)
			continue;
		item_decode(m, calls, &pg.items[pg.n++]);
	}
	next = json_object_get(j, "next_page_uri");
	if (json_is_string(next) && json_string_value(next)[0] == '/' &&
	    json_string_length(next) < 2048)
		pg.next_page_uri = xstrdup(json_string_value(next));
	json_decref(j);
	*ret = pg;
	return 0;
}

void twilio_page_release(struct twilio_page *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		item_release(&p->items[i]);
	free(p->items);
	free(p->next_page_uri);
	memset(p, 0, sizeof(*p));
}

static int is(const char *s, const char *what)
{
	return s && strcmp(s, what) == 0;
}

enum twilio_take twilio_message_take(const struct twilio_item *it)
{
	if (!is(it->direction, "inbound"))
		return TWILIO_SKIP;
	if (is(it->status, "received"))
		return TWILIO_NEW;
	/* PROVIDERS.md 1.7: "receiving" is transient; so are the queue states */
	if (is(it->status, "receiving") || is(it->status, "accepted") || is(it->status, "queued") ||
	    !it->status)
		return TWILIO_WAIT;
	return TWILIO_SKIP;
}

enum twilio_take twilio_call_take(const struct twilio_item *it)
{
	if (!it->direction || strncmp(it->direction, "inbound", 7) != 0)
		return TWILIO_SKIP;
	if (is(it->status, "no-answer") || is(it->status, "busy") || is(it->status, "failed") ||
	    is(it->status, "canceled"))
		return TWILIO_NEW;
	if (is(it->status, "queued") || is(it->status, "ringing") || is(it->status, "in-progress") ||
	    !it->status)
		return TWILIO_WAIT;
	return TWILIO_SKIP;
}

void twilio_item_to_msg(const struct twilio_item *it, int kind, struct provider_msg *ret)
{
	memset(ret, 0, sizeof(*ret));
	ret->id = xstrdup(it->sid);
	ret->kind = kind;
	ret->from = xstrdup(it->from);
	ret->received_at = it->when;
	if (kind == PROVIDER_MSG_CALL || !it->body) {
		ret->body = xstrdup("");
	} else {
		ret->body = xmalloc(it->body_len + 1);
		memcpy(ret->body, it->body, it->body_len + 1);
		ret->body_len = it->body_len;
	}
	if (!it->from || !*it->from)
		ret->error = xstrdup(kind == PROVIDER_MSG_CALL ? "call without a caller"
							 : "message without a sender");
	else if (kind == PROVIDER_MSG_SMS && !it->body)
		ret->error = xstrdup("message without a body");
}

int twilio_decode_sid(const char *body, size_t len, char *sid, size_t size)
{
	char why[128];
	json_t *j = load(body, len, why, sizeof(why));
	const char *s = json_string_value(json_object_get(j, "sid"));
	int r = s && *s && str_copy(sid, size, s) == 0 ? 0 : -EBADMSG;

	json_decref(j);
	return r;
}

int twilio_decode_status(const char *body, size_t len, struct provider_status *ret)
{
	char why[200];
	json_t *j = load(body, len, why, sizeof(why));
	const char *st = json_string_value(json_object_get(j, "status"));
	const char *em;
	json_int_t code;

	memset(ret, 0, sizeof(*ret));
	if (!j || !st) {
		ret->err = -EBADMSG;
		snprintf(ret->error, sizeof(ret->error), "%s", j ? "no \"status\"" : why);
		json_decref(j);
		return -EBADMSG;
	}
	if (is(st, "delivered") || is(st, "read")) {
		ret->state = DELIVERY_DELIVERED;
	} else if (is(st, "failed") || is(st, "undelivered") || is(st, "canceled")) {
		ret->state = DELIVERY_FAILED;
		code = json_integer_value(json_object_get(j, "error_code"));
		em = json_string_value(json_object_get(j, "error_message"));
		if (code && em)
			snprintf(ret->error, sizeof(ret->error), "%lld %s", (long long)code, em);
		else if (code)
			snprintf(ret->error, sizeof(ret->error), "%lld %s", (long long)code, st);
		else
			snprintf(ret->error, sizeof(ret->error), "%s", em ? em : st);
	} else {
		ret->state = DELIVERY_PENDING;   /* queued, accepted, sending, sent, scheduled, ... */
	}
	json_decref(j);
	return 0;
}

long twilio_decode_error(long http_status, const char *body, size_t len, char *out, size_t size)
{
	char why[128];
	json_t *j = body && len ? load(body, len, why, sizeof(why)) : NULL;
	json_t *c = json_object_get(j, "code");
	const char *msg = json_string_value(json_object_get(j, "message"));
	long code = json_is_integer(c) ? (long)json_integer_value(c) : 0;

	if (code && msg)
		snprintf(out, size, "%ld %s", code, msg);
	else if (code)
		snprintf(out, size, "%ld (HTTP %ld)", code, http_status);
	else if (msg)
		snprintf(out, size, "HTTP %ld: %s", http_status, msg);
	else
		snprintf(out, size, "HTTP %ld", http_status);
	json_decref(j);
	return code;
}
