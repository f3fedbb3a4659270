/*
 * android.c — pure decoding for SMS Gateway for Android (see android.h).
 * Field names and states are the app's OpenAPI description
 * (shared/providers/android-sms-gateway/swagger.json): IncomingMessage,
 * GetMessageResponse, ProcessingState, RecipientState, ErrorResponse.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "android.h"
#include "jsonbody.h"
#include "util.h"

/* A string member, NULL unless it is a string. */
static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* A usable id: a non-empty string without NUL, shorter than 256 bytes. */
static const char *good_id(const json_t *m)
{
	const json_t *id = json_object_get(m, "id");
	size_t n = json_string_length(id);

	if (!json_is_string(id) || n == 0 || n >= 256 || strlen(json_string_value(id)) != n)
		return NULL;
	return json_string_value(id);
}

static void decode_item(const json_t *m, struct android_in *in)
{
	const char *id = good_id(m);
	const json_t *body = json_object_get(m, "contentPreview");
	const char *created = jstr(m, "createdAt");

	in->msg.kind = PROVIDER_MSG_SMS;
	in->msg.id = id ? xstrdup(id) : jsonbody_hash_id(m);
	in->msg.from = xstrdup(jstr(m, "sender"));
	in->msg.body_len = json_is_string(body) ? json_string_length(body) : 0;
	in->msg.body = xmalloc(in->msg.body_len + 1);
	if (in->msg.body_len)
		memcpy(in->msg.body, json_string_value(body), in->msg.body_len);
	in->msg.body[in->msg.body_len] = '\0';
	in->created_ms = ANDROID_TIME_UNKNOWN;
	if (created)
		android_parse_time(created, &in->created_ms);
	in->msg.received_at = in->created_ms == ANDROID_TIME_UNKNOWN ? 0 : in->created_ms / 1000;
	if (!id)
		in->msg.error = xstrdup("message without an id");
	else if (!json_is_string(body))
		in->msg.error = xstrdup("message without a contentPreview");
}

int android_decode_inbox(const char *body, size_t len, struct android_in **ret_items,
			 size_t *ret_n, size_t *ret_raw, char *why, size_t whysize)
{
	json_t *j = jsonbody_parse(body, len, why, whysize), *m;
	struct android_in *items;
	size_t i, n = 0;

	if (!j)
		return -EBADMSG;
	if (!json_is_array(j)) {
		snprintf(why, whysize, "not a JSON array");
		json_decref(j);
		return -EBADMSG;
	}
	items = xcalloc(json_array_size(j) + 1, sizeof(*items));
	json_array_foreach(j, i, m) {
		const char *type = jstr(m, "type");

		if (!json_is_object(m) || (type && strcmp(type, "SMS") != 0))
			continue;
		decode_item(m, &items[n++]);
	}
	*ret_raw = json_array_size(j);
	json_decref(j);
	*ret_items = items;
	*ret_n = n;
	return 0;
}

void android_in_free(struct android_in *items, size_t n)
{
	if (!items)
		return;
	for (size_t i = 0; i < n; i++) {
		free(items[i].msg.id);
		free(items[i].msg.from);
		free(items[i].msg.body);
		free(items[i].msg.error);
		free(items[i].msg.priv);
	}
	free(items);
}

const char *android_error_text(long status, const char *body, size_t len, char *out,
			       size_t size)
{
	json_t *j = jsonbody_parse(body, len, NULL, 0);
	const char *msg = json_is_object(j) ? jstr(j, "message") : NULL;
	const json_t *code = json_is_object(j) ? json_object_get(j, "code") : NULL;

	if (json_is_integer(code) && json_integer_value(code) != 0)
		snprintf(out, size, "HTTP %ld: %lld%s%s", status,
			 (long long)json_integer_value(code), msg ? " " : "", msg ? msg : "");
	else
		snprintf(out, size, "HTTP %ld%s%s", status, msg ? ": " : "", msg ? msg : "");
	json_decref(j);
	return out;
}

static bool transient(long status)
{
	return status == 408 || status == 429 || status < 400 || status >= 500;
}

void android_decode_send(long status, const char *body, size_t len, const char *id,
			 struct provider_result *res)
{
	json_t *j;
	const char *pid;

	res->status = 0;
	res->provider_id[0] = '\0';
	res->error[0] = '\0';
	if (status >= 200 && status < 300) {
		/* accepted: the text is the gateway's now, even if the body is odd */
		j = jsonbody_parse(body, len, NULL, 0);
		pid = json_is_object(j) ? jstr(j, "id") : NULL;
		str_copy(res->provider_id, sizeof(res->provider_id), pid && *pid ? pid : id);
		json_decref(j);
		return;
	}
	if (status == 409) {
		/* "Message with such ID already exists": an earlier attempt got through */
		str_copy(res->provider_id, sizeof(res->provider_id), id);
		return;
	}
	android_error_text(status, body, len, res->error, sizeof(res->error));
	res->status = transient(status) ? -EAGAIN : -EINVAL;
}

/* The recipients' error texts, "; "-separated, into out[size]. */
static void recipient_errors(const json_t *j, char *out, size_t size)
{
	const json_t *r;
	size_t i, used = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(j, "recipients"), i, r) {
		const char *e = jstr(r, "error");
		int n;

		if (!e || !*e || used >= size)
			continue;
		n = snprintf(out + used, size - used, "%s%s", used ? "; " : "", e);
		used = n < 0 ? size : used + (size_t)n;
	}
}

void android_decode_state(long status, const char *body, size_t len,
			  struct provider_status *st)
{
	char why[200];
	json_t *j;
	const char *state;

	st->err = 0;
	st->state = DELIVERY_PENDING;
	st->error[0] = '\0';
	if (status != 200) {
		android_error_text(status, body, len, st->error, sizeof(st->error));
		st->err = status == 404 ? -ENOENT : transient(status) ? -EAGAIN : -EINVAL;
		return;
	}
	j = jsonbody_parse(body, len, why, sizeof(why));
	state = json_is_object(j) ? jstr(j, "state") : NULL;
	if (!state) {
		snprintf(st->error, sizeof(st->error), "%s",
			 j ? "answer without a \"state\"" : why);
		st->err = -EBADMSG;
	} else if (strcmp(state, "Delivered") == 0) {
		st->state = DELIVERY_DELIVERED;
	} else if (strcmp(state, "Failed") == 0) {
		st->state = DELIVERY_FAILED;
		recipient_errors(j, st->error, sizeof(st->error));
		if (!st->error[0])
			snprintf(st->error, sizeof(st->error), "failed (the gateway gave no reason)");
	}
	/* Pending, Processed, Sent, and any state we do not know: not final */
	json_decref(j);
}

/* n digits at s as a number; -1 if they are not all digits. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "Z", "+HH:MM", "+HHMM" (or '-') into seconds east of UTC; -EINVAL. */
static int parse_offset(const char *s, long *ret_off)
{
	int sign, hh, mm;

	if (s[0] == 'Z' && s[1] == '\0') {
		*ret_off = 0;
		return 0;
	}
	if (s[0] != '+' && s[0] != '-')
		return -EINVAL;
	sign = s[0] == '-' ? -1 : 1;
	hh = digits(s + 1, 2);     /* digits() stops at the NUL: never reads past it */
	if (hh < 0 || hh > 23)
		return -EINVAL;
	s += 3;
	if (*s == ':')
		s++;
	mm = digits(s, 2);
	if (mm < 0 || mm > 59 || s[2] != '\0')
		return -EINVAL;
	*ret_off = sign * (hh * 3600L + mm * 60L);
	return 0;
}

int android_parse_time(const char *s, int64_t *ret_ms)
{
	struct tm tm = { 0 };
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	int64_t ms = 0, scale = 100;
	long off;

	if (!p || strlen(s) < 19 || s[4] != '-' || s[10] != 'T')
		return -EINVAL;
	if (*p == '.') {
		if (p[1] < '0' || p[1] > '9')
			return -EINVAL;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			ms += scale * (*p - '0');
	}
	if (parse_offset(p, &off) < 0)
		return -EINVAL;
	*ret_ms = ((int64_t)timegm(&tm) - off) * 1000 + ms;
	return 0;
}

int android_format_time(int64_t ms, char *out, size_t size)
{
	time_t t;
	struct tm tm;
	int n;

	if (ms < 0)
		return -ERANGE;
	t = (time_t)(ms / 1000);
	if (!gmtime_r(&t, &tm))
		return -ERANGE;
	n = snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03d+00:00", tm.tm_year + 1900,
		     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		     (int)(ms % 1000));
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}
