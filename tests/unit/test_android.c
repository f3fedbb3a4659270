/*
 * test_android.c — tables for android.c: recorded and constructed bodies of
 * SMS Gateway for Android's GET /inbox, POST /message and
 * GET /message/{id} (the examples of PROVIDERS.md 4.1 and of the app's
 * swagger.json, the answers its Kotlin routes give), malformed, truncated
 * and invalid-UTF-8 ones; error texts; ISO 8601 times.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "android.h"
#include "util.h"

#define FFFD "\xEF\xBF\xBD"
#define UNKNOWN ANDROID_TIME_UNKNOWN

/* ---- GET /inbox ---------------------------------------------------------- */

struct want_msg {
	const char *id;          /* NULL: a "sha256:" id */
	const char *from;
	const char *body;
	size_t body_len;         /* 0: strlen(body) */
	int64_t created_ms;
	const char *error;       /* substring of msg.error, or NULL for none */
};

struct inbox_case {
	const char *name;
	const char *body;
	int ret;
	size_t raw;
	size_t n;
	struct want_msg msgs[3];
};

static const struct inbox_case inbox_cases[] = {
	{ "PROVIDERS.md 4.1 constructed example",
	  "[{\"id\": \"PyDmBQZZXYmyxMwED8Fzy\", \"type\": \"SMS\", \"sender\": \"+15551230001\",\n"
	  "  \"recipient\": \"+15557654321\", \"simNumber\": 1,\n"
	  "  \"contentPreview\": \"Streetlight out on Elm St\", \"createdAt\": "
	  "\"2026-05-07T09:15:02.000+00:00\", \"attachments\": []}]",
	  0, 1, 1, { { "PyDmBQZZXYmyxMwED8Fzy", "+15551230001", "Streetlight out on Elm St", 0,
		       1778145302000, NULL } } },
	{ "swagger IncomingMessage example",
	  "[{\"contentPreview\":\"Hello World!\",\"createdAt\":\"2020-01-01T00:00:00Z\","
	  "\"id\":\"PyDmBQZZXYmyxMwED8Fzy\",\"recipient\":\"+79990001234\","
	  "\"sender\":\"+79990001234\",\"simNumber\":1,\"type\":\"SMS\"}]",
	  0, 1, 1, { { "PyDmBQZZXYmyxMwED8Fzy", "+79990001234", "Hello World!", 0,
		       1577836800000, NULL } } },
	{ "empty inbox", "[]", 0, 0, 0, { { 0 } } },
	{ "empty inbox, white space around", " \n[ ]\n", 0, 0, 0, { { 0 } } },
	{ "Chinese text, newest first as the phone sends it",
	  "[{\"id\":\"b2\",\"type\":\"SMS\",\"sender\":\"+8613800000002\","
	  "\"contentPreview\":\"报修 菜园小区3号楼 漏水\",\"createdAt\":\"2026-05-07T17:15:02.123+08:00\"},"
	  "{\"id\":\"a1\",\"type\":\"SMS\",\"sender\":\"13800000001\","
	  "\"contentPreview\":\"查询\",\"createdAt\":\"2026-05-07T09:15:02.5Z\"}]",
	  0, 2, 2, { { "b2", "+8613800000002", "报修 菜园小区3号楼 漏水", 0, 1778145302123, NULL },
		     { "a1", "13800000001", "查询", 0, 1778145302500, NULL } } },
	{ "data SMS and MMS left out, counted as raw",
	  "[{\"id\":\"d\",\"type\":\"DATA_SMS\",\"sender\":\"+1\",\"contentPreview\":\"0a0b\","
	  "\"createdAt\":\"2020-01-01T00:00:00Z\"},"
	  "{\"id\":\"s\",\"type\":\"SMS\",\"sender\":\"+2\",\"contentPreview\":\"hi\","
	  "\"createdAt\":\"2020-01-01T00:00:01Z\"},"
	  "{\"id\":\"m\",\"type\":\"MMS\",\"sender\":\"+3\",\"contentPreview\":\"\","
	  "\"createdAt\":\"2020-01-01T00:00:02Z\"}]",
	  0, 3, 1, { { "s", "+2", "hi", 0, 1577836801000, NULL } } },
	{ "items that are not objects are skipped",
	  "[1, \"x\", null, {\"id\":\"ok\",\"sender\":\"+1\",\"contentPreview\":\"b\","
	  "\"createdAt\":\"2020-01-01T00:00:00Z\"}]",
	  0, 4, 1, { { "ok", "+1", "b", 0, 1577836800000, NULL } } },
	{ "no id: a stable hash id, recorded as defective",
	  "[{\"type\":\"SMS\",\"sender\":\"+1\",\"contentPreview\":\"b\","
	  "\"createdAt\":\"2020-01-01T00:00:00Z\"}]",
	  0, 1, 1, { { NULL, "+1", "b", 0, 1577836800000, "without an id" } } },
	{ "empty id is no id",
	  "[{\"id\":\"\",\"sender\":\"+1\",\"contentPreview\":\"b\"}]",
	  0, 1, 1, { { NULL, "+1", "b", 0, UNKNOWN, "without an id" } } },
	{ "no contentPreview: empty body, defective",
	  "[{\"id\":\"x\",\"type\":\"SMS\",\"sender\":\"+1\",\"createdAt\":\"2020-01-01T00:00:00Z\"}]",
	  0, 1, 1, { { "x", "+1", "", 0, 1577836800000, "without a contentPreview" } } },
	{ "no sender, bad createdAt: kept, time unknown",
	  "[{\"id\":\"x\",\"contentPreview\":\"b\",\"createdAt\":\"yesterday\"}]",
	  0, 1, 1, { { "x", NULL, "b", 0, UNKNOWN, NULL } } },
	{ "invalid UTF-8 inside the text is repaired",
	  "[{\"id\":\"u\",\"sender\":\"+1\",\"contentPreview\":\"a\xff\xfe b \xc3\","
	  "\"createdAt\":\"2020-01-01T00:00:00Z\"}]",
	  0, 1, 1, { { "u", "+1", "a" FFFD FFFD " b " FFFD, 0, 1577836800000, NULL } } },
	{ "invalid UTF-8 inside the id is repaired",
	  "[{\"id\":\"m-\xff-2\",\"sender\":\"+1\",\"contentPreview\":\"b\"}]",
	  0, 1, 1, { { "m-" FFFD "-2", "+1", "b", 0, UNKNOWN, NULL } } },
	{ "escaped NUL in the text is kept with its length",
	  "[{\"id\":\"n\",\"sender\":\"+1\",\"contentPreview\":\"a\\u0000b\"}]",
	  0, 1, 1, { { "n", "+1", "a\0b", 3, UNKNOWN, NULL } } },
	{ "malformed JSON", "[{\"id\": \"x\", oops}]", -EBADMSG, 0, 0, { { 0 } } },
	{ "truncated JSON",
	  "[{\"id\":\"PyDmBQZZXYmyxMwED8Fzy\",\"type\":\"SMS\",\"sender\":\"+155",
	  -EBADMSG, 0, 0, { { 0 } } },
	{ "empty body", "", -EBADMSG, 0, 0, { { 0 } } },
	{ "an error object instead of the array",
	  "{\"message\":\"limit must be between 1 and 500\"}", -EBADMSG, 0, 0, { { 0 } } },
	{ "duplicate keys are refused",
	  "[{\"id\":\"a\",\"id\":\"b\"}]", -EBADMSG, 0, 0, { { 0 } } },
};

static void check_msg(const struct inbox_case *c, size_t i, const struct android_in *in)
{
	const struct want_msg *w = &c->msgs[i];
	size_t len = w->body_len ? w->body_len : strlen(w->body);

	if (w->id)
		assert_string_equal(in->msg.id, w->id);
	else
		assert_memory_equal(in->msg.id, "sha256:", 7);
	if (w->from)
		assert_string_equal(in->msg.from, w->from);
	else
		assert_null(in->msg.from);
	assert_int_equal(in->msg.kind, PROVIDER_MSG_SMS);
	assert_int_equal(in->msg.body_len, len);
	assert_memory_equal(in->msg.body, w->body, len);
	assert_int_equal(in->msg.body[len], '\0');
	assert_true(in->created_ms == w->created_ms);
	assert_true(in->msg.received_at == (w->created_ms == UNKNOWN ? 0 : w->created_ms / 1000));
	if (w->error) {
		assert_non_null(in->msg.error);
		assert_non_null(strstr(in->msg.error, w->error));
	} else {
		assert_null(in->msg.error);
	}
}

static void test_inbox(void **state)
{
	for (size_t k = 0; k < ELEMENTSOF(inbox_cases); k++) {
		const struct inbox_case *c = &inbox_cases[k];
		struct android_in *items = NULL;
		size_t n = 99, raw = 99;
		char why[200] = "";
		int r;

		print_message("inbox: %s\n", c->name);
		r = android_decode_inbox(c->body, strlen(c->body), &items, &n, &raw, why,
					 sizeof(why));
		assert_int_equal(r, c->ret);
		if (r < 0) {
			assert_null(items);
			assert_true(why[0] != '\0');
			continue;
		}
		assert_int_equal(raw, c->raw);
		assert_int_equal(n, c->n);
		for (size_t i = 0; i < n; i++)
			check_msg(c, i, &items[i]);
		android_in_free(items, n);
	}
}

/* The hash id of an entry without one is stable and depends on the entry. */
static void test_inbox_hash_id_stable(void **state)
{
	const char *a = "[{\"sender\":\"+1\",\"contentPreview\":\"b\"}]";
	const char *b = "[{\"contentPreview\":\"b\",\"sender\":\"+1\"}]";
	const char *c = "[{\"sender\":\"+1\",\"contentPreview\":\"c\"}]";
	struct android_in *x, *y, *z;
	size_t n, raw;
	char why[100];

	assert_int_equal(android_decode_inbox(a, strlen(a), &x, &n, &raw, why, sizeof(why)), 0);
	assert_int_equal(android_decode_inbox(b, strlen(b), &y, &n, &raw, why, sizeof(why)), 0);
	assert_int_equal(android_decode_inbox(c, strlen(c), &z, &n, &raw, why, sizeof(why)), 0);
	assert_string_equal(x[0].msg.id, y[0].msg.id);
	assert_string_not_equal(x[0].msg.id, z[0].msg.id);
	assert_int_equal(strlen(x[0].msg.id), 7 + 64);
	android_in_free(x, 1);
	android_in_free(y, 1);
	android_in_free(z, 1);
}

/* Only len bytes count; a raw NUL byte inside a body makes it no JSON. */
static void test_inbox_length(void **state)
{
	static const char body[] = "[]xyz";
	static const char nul[] = "[]\0";
	struct android_in *items = NULL;
	size_t n, raw;
	char why[100];

	assert_int_equal(android_decode_inbox(body, 2, &items, &n, &raw, why, sizeof(why)), 0);
	assert_int_equal(n, 0);
	android_in_free(items, n);
	android_in_free(NULL, 0);
	items = NULL;
	assert_int_equal(android_decode_inbox(nul, sizeof(nul) - 1, &items, &n, &raw, why,
					      sizeof(why)), -EBADMSG);
	assert_null(items);
}

/* ---- POST /message ------------------------------------------------------- */

struct send_case {
	const char *name;
	long status;
	const char *body;
	int ret;
	const char *provider_id;
	const char *error;       /* exact res.error */
};

#define KEY "gridline-17-1778145302"

static const struct send_case send_cases[] = {
	{ "202 as the app answers (PostMessageResponse)", 202,
	  "{\"id\":\"" KEY "\",\"state\":\"Pending\",\"recipients\":[{\"phoneNumber\":"
	  "\"+8613800000001\",\"state\":\"Pending\"}],\"isEncrypted\":false,"
	  "\"states\":{\"Pending\":\"2026-05-07T09:15:02.000+00:00\"}}",
	  0, KEY, "" },
	{ "202 swagger GetMessageResponse example (another id)", 202,
	  "{\"deviceId\":\"PyDmBQZZXYmyxMwED8Fzy\",\"id\":\"PyDmBQZZXYmyxMwED8Fzy\","
	  "\"isEncrypted\":false,\"isHashed\":false,\"recipients\":[{\"error\":\"timeout\","
	  "\"phoneNumber\":\"79990001234\",\"state\":\"Pending\"}],\"state\":\"Pending\"}",
	  0, "PyDmBQZZXYmyxMwED8Fzy", "" },
	{ "202 with an empty body: still sent, our id", 202, "", 0, KEY, "" },
	{ "202 with malformed JSON: still sent", 202, "{\"id\": oops", 0, KEY, "" },
	{ "200 also counts", 200, "{\"id\":\"" KEY "\"}", 0, KEY, "" },
	{ "409: the id exists, an earlier attempt got through", 409,
	  "{\"message\":\"Message with such ID already exists\"}", 0, KEY, "" },
	{ "400 phoneNumbers is empty", 400, "{\"message\":\"phoneNumbers is empty\"}",
	  -EINVAL, "", "HTTP 400: phoneNumbers is empty" },
	{ "400 swagger ErrorResponse with code", 400,
	  "{\"code\":400,\"data\":{},\"message\":\"An error occurred\"}",
	  -EINVAL, "", "HTTP 400: 400 An error occurred" },
	{ "401 without a body", 401, "", -EINVAL, "", "HTTP 401" },
	{ "403", 403, "{\"message\":\"Forbidden\"}", -EINVAL, "", "HTTP 403: Forbidden" },
	{ "404 (an old app without /message)", 404, "", -EINVAL, "", "HTTP 404" },
	{ "408", 408, "", -EAGAIN, "", "HTTP 408" },
	{ "429", 429, "{\"message\":\"slow down\"}", -EAGAIN, "", "HTTP 429: slow down" },
	{ "500 as the app's StatusPages answers", 500, "{\"message\":null}", -EAGAIN, "",
	  "HTTP 500" },
	{ "502 from a proxy, HTML", 502, "<html><body>Bad Gateway</body></html>", -EAGAIN, "",
	  "HTTP 502" },
	{ "503 queue limits exceeded", 503,
	  "{\"message\":\"Queue limits exceeded; ensure device is online\"}", -EAGAIN, "",
	  "HTTP 503: Queue limits exceeded; ensure device is online" },
	{ "error text with invalid UTF-8, repaired", 400, "{\"message\":\"bad \xff\"}",
	  -EINVAL, "", "HTTP 400: bad " FFFD },
	{ "a 3xx is not followed: retried", 302, "", -EAGAIN, "", "HTTP 302" },
};

static void test_send(void **state)
{
	for (size_t k = 0; k < ELEMENTSOF(send_cases); k++) {
		const struct send_case *c = &send_cases[k];
		struct provider_result res;

		print_message("send: %s\n", c->name);
		memset(&res, 0x55, sizeof(res));
		res.retry_after = 7;
		android_decode_send(c->status, c->body, strlen(c->body), KEY, &res);
		assert_int_equal(res.status, c->ret);
		assert_string_equal(res.provider_id, c->provider_id);
		assert_string_equal(res.error, c->error);
		assert_true(res.retry_after == 7);        /* the caller's */
	}
}

/* A long error message is cut to fit, NUL-terminated. */
static void test_send_long_error(void **state)
{
	char body[2048];
	struct provider_result res;

	memset(body, 'x', sizeof(body));
	memcpy(body, "{\"message\":\"", 12);
	memcpy(body + sizeof(body) - 3, "\"}", 3);
	android_decode_send(400, body, strlen(body), KEY, &res);
	assert_int_equal(res.status, -EINVAL);
	assert_int_equal(strlen(res.error), sizeof(res.error) - 1);
	assert_memory_equal(res.error, "HTTP 400: xxx", 13);
}

/* ---- GET /message/{id} --------------------------------------------------- */

struct state_case {
	const char *name;
	long status;
	const char *body;
	int err;
	int state;
	const char *error;
};

#define STATE(s) "{\"id\":\"" KEY "\",\"deviceId\":\"PyDmBQZZXYmyxMwED8Fzy\",\"state\":\"" s \
	"\",\"isHashed\":false,\"isEncrypted\":false,\"recipients\":[{\"phoneNumber\":" \
	"\"+8613800000001\",\"state\":\"" s "\"}],\"states\":{\"Pending\":" \
	"\"2026-05-07T09:15:02.000+00:00\"}}"

static const struct state_case state_cases[] = {
	{ "Pending", 200, STATE("Pending"), 0, DELIVERY_PENDING, "" },
	{ "Processed", 200, STATE("Processed"), 0, DELIVERY_PENDING, "" },
	{ "Sent", 200, STATE("Sent"), 0, DELIVERY_PENDING, "" },
	{ "Delivered", 200, STATE("Delivered"), 0, DELIVERY_DELIVERED, "" },
	{ "Failed without an error text", 200, STATE("Failed"), 0, DELIVERY_FAILED,
	  "failed (the gateway gave no reason)" },
	{ "Failed with the recipient's error", 200,
	  "{\"id\":\"" KEY "\",\"state\":\"Failed\",\"recipients\":[{\"phoneNumber\":"
	  "\"+8613800000001\",\"state\":\"Failed\",\"error\":\"RESULT_ERROR_GENERIC_FAILURE\"}],"
	  "\"isEncrypted\":false,\"states\":{\"Pending\":\"2026-05-07T09:15:02.000+00:00\","
	  "\"Failed\":\"2026-05-07T09:15:09.000+00:00\"}}",
	  0, DELIVERY_FAILED, "RESULT_ERROR_GENERIC_FAILURE" },
	{ "Failed, two recipients with errors", 200,
	  "{\"state\":\"Failed\",\"recipients\":[{\"state\":\"Failed\",\"error\":\"a\"},"
	  "{\"state\":\"Failed\",\"error\":\"\"},{\"state\":\"Failed\",\"error\":\"b\"}]}",
	  0, DELIVERY_FAILED, "a; b" },
	{ "Failed, invalid UTF-8 in the error", 200,
	  "{\"state\":\"Failed\",\"recipients\":[{\"error\":\"no \xc3 service\"}]}",
	  0, DELIVERY_FAILED, "no " FFFD " service" },
	{ "a state we do not know is not final", 200, STATE("Scheduled"), 0, DELIVERY_PENDING,
	  "" },
	{ "200 malformed", 200, "{\"state\": Pending}", -EBADMSG, DELIVERY_PENDING, NULL },
	{ "200 truncated", 200, "{\"id\":\"" KEY "\",\"state\":\"Deliv", -EBADMSG,
	  DELIVERY_PENDING, NULL },
	{ "200 without a state", 200, "{\"id\":\"" KEY "\"}", -EBADMSG, DELIVERY_PENDING,
	  "answer without a \"state\"" },
	{ "200 with a state that is not a string", 200, "{\"state\":3}", -EBADMSG,
	  DELIVERY_PENDING, "answer without a \"state\"" },
	{ "404 unknown id (the app answers no body)", 404, "", -ENOENT, DELIVERY_PENDING,
	  "HTTP 404" },
	{ "500 with the app's message", 500, "{\"message\":\"database is locked\"}", -EAGAIN,
	  DELIVERY_PENDING, "HTTP 500: database is locked" },
	{ "429", 429, "", -EAGAIN, DELIVERY_PENDING, "HTTP 429" },
	{ "401", 401, "{\"message\":\"Unauthorized\"}", -EINVAL, DELIVERY_PENDING,
	  "HTTP 401: Unauthorized" },
};

static void test_state(void **state)
{
	for (size_t k = 0; k < ELEMENTSOF(state_cases); k++) {
		const struct state_case *c = &state_cases[k];
		struct provider_status st;

		print_message("state: %s\n", c->name);
		memset(&st, 0x55, sizeof(st));
		android_decode_state(c->status, c->body, strlen(c->body), &st);
		assert_int_equal(st.err, c->err);
		if (c->err == 0)
			assert_int_equal(st.state, c->state);
		if (c->error)
			assert_string_equal(st.error, c->error);
		else
			assert_true(st.error[0] != '\0');
	}
}

/* ---- times --------------------------------------------------------------- */

struct time_case {
	const char *in;
	int ret;
	int64_t ms;
};

static const struct time_case time_cases[] = {
	{ "2026-05-07T09:15:02.000+00:00", 0, 1778145302000 },
	{ "2020-01-01T00:00:00Z", 0, 1577836800000 },
	{ "2026-05-07T17:15:02.123+08:00", 0, 1778145302123 },
	{ "2026-05-07T09:15:02.5Z", 0, 1778145302500 },
	{ "2026-05-07T09:15:02.123456789Z", 0, 1778145302123 },
	{ "2026-05-07T04:15:02-0500", 0, 1778145302000 },
	{ "1970-01-01T00:00:00Z", 0, 0 },
	{ "2026-05-07T09:15:02", -EINVAL, 0 },          /* no offset */
	{ "2026-05-07 09:15:02Z", -EINVAL, 0 },
	{ "2026-05-07T09:15:02.Z", -EINVAL, 0 },
	{ "2026-05-07T09:15:02+8", -EINVAL, 0 },
	{ "2026-05-07T09:15:02+08:00x", -EINVAL, 0 },
	{ "2026-05-07T09:15:02+24:00", -EINVAL, 0 },
	{ "May 7, 2026 9:15:02 AM", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
};

static void test_parse_time(void **state)
{
	for (size_t k = 0; k < ELEMENTSOF(time_cases); k++) {
		const struct time_case *c = &time_cases[k];
		int64_t ms = -42;

		print_message("time: %s\n", c->in);
		assert_int_equal(android_parse_time(c->in, &ms), c->ret);
		assert_true(ms == (c->ret == 0 ? c->ms : -42));
	}
	assert_int_equal(android_parse_time(NULL, &(int64_t){ 0 }), -EINVAL);
}

static void test_format_time(void **state)
{
	static const int64_t ms[] = { 0, 1577836800000, 1778145302123, 1778145302999 };
	char buf[64];
	int64_t back;

	assert_int_equal(android_format_time(1778145302123, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2026-05-07T09:15:02.123+00:00");
	for (size_t i = 0; i < ELEMENTSOF(ms); i++) {
		assert_int_equal(android_format_time(ms[i], buf, sizeof(buf)), 0);
		assert_int_equal(android_parse_time(buf, &back), 0);
		assert_true(back == ms[i]);
	}
	assert_int_equal(android_format_time(-1, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(android_format_time(0, buf, 10), -ENOSPC);
}

static void test_error_text(void **state)
{
	char out[64];

	assert_string_equal(android_error_text(400, "{\"message\":\"Invalid type\"}", 26, out,
					       sizeof(out)), "HTTP 400: Invalid type");
	assert_string_equal(android_error_text(500, "not json", 8, out, sizeof(out)), "HTTP 500");
	assert_string_equal(android_error_text(500, NULL, 0, out, sizeof(out)), "HTTP 500");
	assert_string_equal(android_error_text(400, "[\"message\"]", 11, out, sizeof(out)),
			    "HTTP 400");
	assert_string_equal(android_error_text(400, "{\"message\":\"abcdefghij\"}", 24, out, 15),
			    "HTTP 400: abcd");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inbox),
		cmocka_unit_test(test_inbox_hash_id_stable),
		cmocka_unit_test(test_inbox_length),
		cmocka_unit_test(test_send),
		cmocka_unit_test(test_send_long_error),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_error_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
