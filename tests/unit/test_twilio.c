/*
 * test_twilio.c — twilio.h's decoders fed recorded bodies: the named
 * examples of Twilio's OpenAPI description (the JSON files in tests/data/twilio/,
 * extracted unmodified from shared/providers/twilio/twilio_api_v2010.json),
 * PROVIDERS.md's constructed inbound message and error bodies, and
 * broken ones (malformed, truncated, invalid UTF-8). Tables throughout.
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

#include "twilio.h"

#define DATA "tests/data/twilio/"

static char *slurp(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf = calloc(1, 1 << 20);
	size_t n;

	snprintf(path, sizeof(path), DATA "%s", name);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	*len = n;
	return buf;
}

/* PROVIDERS.md 1.3, constructed example of one inbound message, in a page. */
static const char inbound_page[] =
	"{\"messages\": [{\"sid\": \"SM0123456789abcdef0123456789abcdef\","
	"\"account_sid\": \"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\", \"messaging_service_sid\": null,"
	"\"direction\": \"inbound\", \"from\": \"+15551230001\", \"to\": \"+15557654321\","
	"\"body\": \"Streetlight out on Elm St\", \"status\": \"received\", \"num_segments\": \"1\","
	"\"num_media\": \"0\", \"date_created\": \"Tue, 07 May 2024 09:15:02 +0000\","
	"\"date_updated\": \"Tue, 07 May 2024 09:15:02 +0000\","
	"\"date_sent\": \"Tue, 07 May 2024 09:15:02 +0000\", \"error_code\": null,"
	"\"error_message\": null, \"price\": \"-0.00790\", \"price_unit\": \"USD\"}],"
	"\"next_page_uri\": null, \"page\": 0, \"page_size\": 50}";

/* ---- list pages ---- */

struct page_case {
	const char *name;        /* file under DATA, or NULL: body */
	const char *body;
	size_t body_len;         /* 0: strlen(body) */
	int calls;
	int ret;                 /* 0 or -EBADMSG */
	size_t n;
	const char *next;        /* expected next_page_uri (prefix), NULL: none */
	size_t i;                /* the item checked */
	const char *sid, *direction, *from, *status, *body_want;
	int64_t when;
	long error_code;
	int take;                /* enum twilio_take of item i */
};

static const struct page_case page_cases[] = {
	{ .name = "list_messages_full_page1.json", .n = 2,
	  .next = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Messages.json?To=%2B123456789",
	  .i = 1, .sid = "MMc26223853f8c46b4ab7dfaa6abba0a26", .direction = "inbound",
	  .from = "+12019235161", .status = "received", .body_want = "look mom I have media!",
	  .when = 1558719889, .error_code = 30004, .take = TWILIO_NEW },
	{ .name = "list_messages_full_page1.json", .n = 2,
	  .next = "/2010-04-01/", .i = 0, .sid = "SMded05904ccb347238880ca9264e8fe1c",
	  .direction = "outbound-api", .status = "sent", .body_want = "testing",
	  .take = TWILIO_SKIP, .when = 1558719890 },
	{ .name = "list_messages_empty.json", .n = 0 },
	{ .body = inbound_page, .n = 1, .i = 0, .sid = "SM0123456789abcdef0123456789abcdef",
	  .direction = "inbound", .from = "+15551230001", .status = "received",
	  .body_want = "Streetlight out on Elm St", .when = 1715073302, .take = TWILIO_NEW },
	{ .name = "list_calls_full_page1.json", .calls = 1, .n = 2,
	  .next = "/2010-04-01/Accounts/ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/Calls.json?",
	  .i = 1, .sid = "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa0", .direction = "inbound",
	  .from = "+13051416798", .status = "completed", .when = 1571414520, .take = TWILIO_SKIP },
	{ .name = "list_calls_empty.json", .calls = 1, .n = 0 },
	/* a missed call */
	{ .body = "{\"calls\": [{\"sid\": \"CA1\", \"direction\": \"inbound\", \"from\": \"+8613800000001\","
		  "\"status\": \"no-answer\", \"start_time\": \"Tue, 07 May 2024 09:15:02 +0000\"}],"
		  "\"next_page_uri\": null}",
	  .calls = 1, .n = 1, .sid = "CA1", .status = "no-answer", .from = "+8613800000001",
	  .direction = "inbound", .when = 1715073302, .take = TWILIO_NEW },
	{ .body = "{\"calls\": [{\"sid\": \"CA2\", \"direction\": \"inbound\", \"status\": \"ringing\"}]}",
	  .calls = 1, .n = 1, .sid = "CA2", .status = "ringing", .direction = "inbound",
	  .take = TWILIO_WAIT },
	{ .body = "{\"calls\": [{\"sid\": \"CA3\", \"direction\": \"outbound-api\", \"status\": \"busy\"}]}",
	  .calls = 1, .n = 1, .sid = "CA3", .status = "busy", .direction = "outbound-api",
	  .take = TWILIO_SKIP },
	/* receiving is transient; null date_sent falls back to date_created */
	{ .body = "{\"messages\": [{\"sid\": \"SM2\", \"direction\": \"inbound\", \"status\": \"receiving\","
		  "\"from\": \"+1\", \"body\": \"x\", \"date_sent\": null,"
		  "\"date_created\": \"Wed, 19 Jun 2019 22:04:00 -0000\"}]}",
	  .n = 1, .sid = "SM2", .status = "receiving", .direction = "inbound", .from = "+1",
	  .body_want = "x", .when = 1560981840, .take = TWILIO_WAIT },
	/* entries without a sid are dropped; a non-path next_page_uri is ignored */
	{ .body = "{\"messages\": [{\"body\": \"no sid\"}, 7, {\"sid\": \"SM3\", \"direction\": "
		  "\"inbound\", \"status\": \"received\", \"body\": \"ok\", \"from\": \"+1\"}],"
		  "\"next_page_uri\": \"https://evil.example/x\"}",
	  .n = 1, .sid = "SM3", .status = "received", .direction = "inbound", .from = "+1",
	  .body_want = "ok", .take = TWILIO_NEW },
	/* invalid UTF-8 inside a string is repaired, not fatal */
	{ .body = "{\"messages\": [{\"sid\": \"SM4\", \"direction\": \"inbound\", \"status\": "
		  "\"received\", \"from\": \"+1\", \"body\": \"a\xff\xfe" "b\"}]}",
	  .n = 1, .sid = "SM4", .status = "received", .direction = "inbound", .from = "+1",
	  .body_want = "a\xef\xbf\xbd\xef\xbf\xbd" "b", .take = TWILIO_NEW },
	/* broken bodies */
	{ .body = "{\"messages\": [{\"sid\": \"SMx\", oops}]", .ret = -EBADMSG },
	{ .body = "{\"messages\": [{\"sid\": \"SM5\", \"body\": \"trunc", .ret = -EBADMSG },
	{ .body = "", .ret = -EBADMSG },
	{ .body = "[]", .ret = -EBADMSG },
	{ .body = "{\"calls\": []}", .ret = -EBADMSG },                 /* messages wanted */
	{ .body = "{\"messages\": {}}", .ret = -EBADMSG },
	{ .body = "{\"messages\": [], \"messages\": []}", .ret = -EBADMSG },  /* duplicate key */
	{ .body = "{\"messages\": [{\"sid\": \"SMa\"}]}\x00{", .body_len = 31, .ret = -EBADMSG },
};

static void test_pages(void **state)
{
	for (size_t k = 0; k < sizeof(page_cases) / sizeof(page_cases[0]); k++) {
		const struct page_case *c = &page_cases[k];
		struct twilio_page pg = { 0 };
		char why[200] = "", *file = NULL;
		const char *body = c->body;
		size_t len = c->body_len ? c->body_len : (body ? strlen(body) : 0);
		int r;

		if (c->name) {
			file = slurp(c->name, &len);
			body = file;
		}
		r = twilio_decode_page(body, len, c->calls, &pg, why, sizeof(why));
		print_message("case %zu: r=%d why=%s\n", k, r, why);
		assert_int_equal(r, c->ret);
		if (r < 0) {
			assert_true(why[0] != '\0');
			assert_null(pg.items);
			free(file);
			continue;
		}
		assert_int_equal(pg.n, c->n);
		if (c->next) {
			assert_non_null(pg.next_page_uri);
			assert_memory_equal(pg.next_page_uri, c->next, strlen(c->next));
		} else {
			assert_null(pg.next_page_uri);
		}
		if (c->sid) {
			const struct twilio_item *it = &pg.items[c->i];

			assert_string_equal(it->sid, c->sid);
			assert_string_equal(it->direction, c->direction);
			assert_string_equal(it->status, c->status);
			if (c->from)
				assert_string_equal(it->from, c->from);
			if (c->body_want)
				assert_string_equal(it->body, c->body_want);
			assert_int_equal(it->when, c->when);
			assert_int_equal(it->error_code, c->error_code);
			assert_int_equal(c->calls ? twilio_call_take(it) : twilio_message_take(it),
					 c->take);
		}
		twilio_page_release(&pg);
		free(file);
	}
}

/* An item made into a provider_msg: text, call, text without a body. */
static void test_item_to_msg(void **state)
{
	struct twilio_item sms = { .sid = "SM1", .from = "+1", .body = "a\0b", .body_len = 3,
				   .when = 42 };
	struct twilio_item call = { .sid = "CA1", .from = "+2", .when = 43 };
	struct twilio_item nobody = { .sid = "SM2" };
	struct provider_batch *b = calloc(1, sizeof(*b));

	b->msgs = calloc(3, sizeof(*b->msgs));
	b->n = 3;
	twilio_item_to_msg(&sms, PROVIDER_MSG_SMS, &b->msgs[0]);
	twilio_item_to_msg(&call, PROVIDER_MSG_CALL, &b->msgs[1]);
	twilio_item_to_msg(&nobody, PROVIDER_MSG_SMS, &b->msgs[2]);
	assert_string_equal(b->msgs[0].id, "SM1");
	assert_int_equal(b->msgs[0].kind, PROVIDER_MSG_SMS);
	assert_int_equal(b->msgs[0].body_len, 3);
	assert_memory_equal(b->msgs[0].body, "a\0b", 4);
	assert_int_equal(b->msgs[0].received_at, 42);
	assert_null(b->msgs[0].error);
	assert_int_equal(b->msgs[1].kind, PROVIDER_MSG_CALL);
	assert_string_equal(b->msgs[1].from, "+2");
	assert_string_equal(b->msgs[1].body, "");
	assert_int_equal(b->msgs[1].body_len, 0);
	assert_null(b->msgs[1].error);
	assert_null(b->msgs[2].from);
	assert_non_null(b->msgs[2].error);
	provider_batch_free(b);
}

/* ---- create / fetch answers ---- */

struct sid_case {
	const char *name, *body;
	int ret;
	const char *sid;
};

static const struct sid_case sid_cases[] = {
	{ .name = "create.json", .sid = "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ .name = "create_with_messaging_service.json", .sid = "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ .name = "create_scheduled_sms.json", .sid = "SMaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" },
	{ .name = "fetch.json", .sid = "SMb7c0a2ce80504485a6f653a7110836f5" },
	{ .body = "{\"status\": \"queued\"}", .ret = -EBADMSG },
	{ .body = "{\"sid\": 5}", .ret = -EBADMSG },
	{ .body = "{\"sid\": \"SM1\"", .ret = -EBADMSG },
	{ .body = "not json", .ret = -EBADMSG },
	{ .body = "{\"sid\": \"SMxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
	  .ret = -EBADMSG },                                 /* longer than the buffer */
};

static void test_sids(void **state)
{
	for (size_t k = 0; k < sizeof(sid_cases) / sizeof(sid_cases[0]); k++) {
		const struct sid_case *c = &sid_cases[k];
		char sid[128] = "", *file = NULL;
		const char *body = c->body;
		size_t len = body ? strlen(body) : 0;

		if (c->name) {
			file = slurp(c->name, &len);
			body = file;
		}
		print_message("sid case %zu\n", k);
		assert_int_equal(twilio_decode_sid(body, len, sid, sizeof(sid)), c->ret);
		if (c->ret == 0)
			assert_string_equal(sid, c->sid);
		free(file);
	}
}

/* ---- delivery status ---- */

struct status_case {
	const char *name, *body;
	int ret, state;
	const char *error;       /* expected ret->error, "" none */
};

static const struct status_case status_cases[] = {
	{ .name = "fetch.json", .state = DELIVERY_PENDING, .error = "" },   /* "sent" */
	{ .name = "create.json", .state = DELIVERY_PENDING, .error = "" },  /* "queued" */
	{ .body = "{\"status\": \"delivered\", \"error_code\": null}", .state = DELIVERY_DELIVERED,
	  .error = "" },
	{ .body = "{\"status\": \"undelivered\", \"error_code\": 30003, \"error_message\": "
		  "\"Unreachable destination handset\"}",
	  .state = DELIVERY_FAILED, .error = "30003 Unreachable destination handset" },
	{ .body = "{\"status\": \"failed\", \"error_code\": 30008, \"error_message\": null}",
	  .state = DELIVERY_FAILED, .error = "30008 failed" },
	{ .body = "{\"status\": \"failed\"}", .state = DELIVERY_FAILED, .error = "failed" },
	{ .body = "{\"status\": \"accepted\"}", .state = DELIVERY_PENDING, .error = "" },
	{ .body = "{\"status\": \"sending\"}", .state = DELIVERY_PENDING, .error = "" },
	{ .body = "{\"status\": \"scheduled\"}", .state = DELIVERY_PENDING, .error = "" },
	{ .body = "{\"sid\": \"SM1\"}", .ret = -EBADMSG },
	{ .body = "{\"status\": \"deliv", .ret = -EBADMSG },
};

static void test_status(void **state)
{
	for (size_t k = 0; k < sizeof(status_cases) / sizeof(status_cases[0]); k++) {
		const struct status_case *c = &status_cases[k];
		struct provider_status st;
		char *file = NULL;
		const char *body = c->body;
		size_t len = body ? strlen(body) : 0;

		if (c->name) {
			file = slurp(c->name, &len);
			body = file;
		}
		print_message("status case %zu\n", k);
		assert_int_equal(twilio_decode_status(body, len, &st), c->ret);
		if (c->ret == 0) {
			assert_int_equal(st.err, 0);
			assert_int_equal(st.state, c->state);
			assert_string_equal(st.error, c->error);
		} else {
			assert_int_equal(st.err, c->ret);
			assert_true(st.error[0] != '\0');
		}
		free(file);
	}
}

/* ---- error bodies ---- */

struct error_case {
	long http;
	const char *body;
	long code;
	const char *text;
};

static const struct error_case error_cases[] = {
	{ 400, "{\"code\": 21211, \"message\": \"The 'To' number 5551234567 is not a valid phone "
	       "number.\", \"more_info\": \"https://www.twilio.com/docs/errors/21211\", \"status\": 400}",
	  21211, "21211 The 'To' number 5551234567 is not a valid phone number." },
	{ 401, "{\"code\": 20003, \"detail\": \"Your AccountSid or AuthToken was incorrect.\", "
	       "\"message\": \"Authentication Error - invalid username\", \"more_info\": "
	       "\"https://www.twilio.com/docs/errors/20003\", \"status\": 401}",
	  20003, "20003 Authentication Error - invalid username" },
	{ 429, "{\"code\": 20429, \"message\": \"Too Many Requests\", \"status\": 429}", 20429,
	  "20429 Too Many Requests" },
	{ 503, "<html>Service Unavailable</html>", 0, "HTTP 503" },
	{ 500, "", 0, "HTTP 500" },
	{ 500, NULL, 0, "HTTP 500" },
	{ 422, "{\"type\": \"https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY\", \"title\": "
	       "\"Invalid request\", \"status\": 422}", 0, "HTTP 422" },     /* Prism's own */
	{ 400, "{\"code\": 21604}", 21604, "21604 (HTTP 400)" },
	{ 400, "{\"message\": \"bad \xff\"}", 0, "HTTP 400: bad \xef\xbf\xbd" },
	{ 400, "{\"code\": 21211, \"message\": \"trunc", 0, "HTTP 400" },
};

static void test_errors(void **state)
{
	for (size_t k = 0; k < sizeof(error_cases) / sizeof(error_cases[0]); k++) {
		const struct error_case *c = &error_cases[k];
		char out[256];

		print_message("error case %zu\n", k);
		assert_int_equal(twilio_decode_error(c->http, c->body, c->body ? strlen(c->body) : 0,
						     out, sizeof(out)), c->code);
		assert_string_equal(out, c->text);
	}
}

/* ---- dates ---- */

struct date_case {
	const char *in;
	int64_t want;
};

static const struct date_case date_cases[] = {
	{ "Tue, 07 May 2024 09:15:02 +0000", 1715073302 },
	{ "Fri, 24 May 2019 17:44:49 +0000", 1558719889 },
	{ "Wed, 19 Jun 2019 22:04:00 -0000", 1560981840 },
	{ "07 May 2024 09:15:02 +0000", 1715073302 },
	{ "Tue, 07 May 2024 11:15:02 +0200", 1715073302 },
	{ "Tue, 07 May 2024 04:15:02 -0500", 1715073302 },
	{ "Tue, 07 May 2024 09:15:02 GMT", 1715073302 },
	{ "Tue, 7 may 2024 09:15:02 +0000", 1715073302 },
	{ "Tue, 07 Foo 2024 09:15:02 +0000", 0 },
	{ "2024-05-07T09:15:02Z", 0 },
	{ "magna", 0 },                       /* Prism's dynamic data */
	{ "", 0 },
	{ NULL, 0 },
	{ "Tue, 07 May 2024 25:15:02 +0000", 0 },
	{ "Tue, 07 May 2024 09:15:02 +00", 0 },
};

static void test_dates(void **state)
{
	char day[11];

	for (size_t k = 0; k < sizeof(date_cases) / sizeof(date_cases[0]); k++) {
		print_message("date %s\n", date_cases[k].in ? date_cases[k].in : "(null)");
		assert_int_equal(twilio_parse_date(date_cases[k].in), date_cases[k].want);
	}
	assert_string_equal(twilio_day(1715073302, day), "2024-05-07");
	assert_string_equal(twilio_day(1715040000 - 1, day), "2024-05-06");
	assert_string_equal(twilio_day(1715040000, day), "2024-05-07");
	assert_int_equal(twilio_day_parse("2024-05-07"), 1715040000);
	assert_int_equal(twilio_day_parse("2024-05-07x"), -1);
	assert_int_equal(twilio_day_parse("2024-5-7"), -1);
	assert_int_equal(twilio_day_parse("garbage"), -1);
	assert_int_equal(twilio_day_parse(NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages),
		cmocka_unit_test(test_item_to_msg),
		cmocka_unit_test(test_sids),
		cmocka_unit_test(test_status),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_dates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
