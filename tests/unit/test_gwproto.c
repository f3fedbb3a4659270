/*
 * test_gwproto.c — decoding gridline's own gateway protocol: the example
 * bodies of docs/http-provider.md as recorded, and broken ones.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gwproto.h"

#define S(lit) lit, sizeof(lit) - 1

/* docs/http-provider.md §4 and §9, as printed there */
static const char doc_inbox[] =
	"{\n  \"messages\": [\n"
	"    {\"id\": \"m-123\", \"from\": \"+8613800000001\", \"body\": \"报修 寇庄西路6号院3单元 下水管堵了\",\n"
	"     \"received\": \"2026-11-26T09:30:00Z\"}\n  ],\n  \"cursor\": \"c-123\"\n}\n";
static const char doc_worked[] =
	"{\"messages\": [\n"
	"  {\"id\": \"m-1\", \"from\": \"13800000001\", \"body\": \"跑腿 菜园小区 买菜\", \"received\": \"2026-11-26T09:30:00Z\"},\n"
	"  {\"id\": \"m-2\", \"from\": \"+8613800000002\", \"body\": \"报修 寇庄西路6号院 下水管堵了\"}\n"
	" ], \"cursor\": \"c-2\"}";
static const char doc_status[] =
	"{\"messages\": [\n"
	"  {\"id\": \"gridline-42\", \"status\": \"delivered\"},\n"
	"  {\"id\": \"gridline-43\", \"status\": \"failed\",\n"
	"   \"error\": {\"code\": \"30003\", \"message\": \"Unreachable handset\"}},\n"
	"  {\"id\": \"gridline-44\", \"status\": \"sent\"}\n]}";

static void test_inbox_doc_examples(void **state)
{
	struct provider_batch *b = NULL;
	char why[200] = "";

	(void)state;
	assert_int_equal(gwproto_inbox(S(doc_inbox), &b, why, sizeof(why)), 0);
	assert_int_equal(b->n, 1);
	assert_string_equal(b->msgs[0].id, "m-123");
	assert_string_equal(b->msgs[0].from, "+8613800000001");
	assert_string_equal(b->msgs[0].body, "报修 寇庄西路6号院3单元 下水管堵了");
	assert_int_equal(b->msgs[0].received_at, 1795685400);   /* 2026-11-26T09:30:00Z */
	assert_null(b->msgs[0].error);
	assert_string_equal(b->cursor, "c-123");
	provider_batch_free(b);

	assert_int_equal(gwproto_inbox(S(doc_worked), &b, why, sizeof(why)), 0);
	assert_int_equal(b->n, 2);
	assert_string_equal(b->msgs[0].from, "13800000001");   /* normalised later, by intake */
	assert_string_equal(b->msgs[1].id, "m-2");
	assert_int_equal(b->msgs[1].received_at, 0);           /* optional */
	assert_string_equal(b->cursor, "c-2");
	provider_batch_free(b);
}

static void test_inbox_odd_but_valid(void **state)
{
	static const char empty_no_cursor[] = "{\"messages\": []}";
	static const char nul_body[] = "{\"messages\": [{\"id\": \"a\", \"from\": \"+861\", \"body\": \"x\\u0000y\"}], \"cursor\": \"c\"}";
	static const char no_id[] = "{\"messages\": [{\"from\": \"+861\", \"body\": \"hi\"}, 7], \"cursor\": \"c\"}";
	static const char no_body[] = "{\"messages\": [{\"id\": \"b\", \"from\": \"+861\"}], \"cursor\": \"c\"}";
	static const char bad_utf8[] = "{\"messages\": [{\"id\": \"u\", \"from\": \"+861\", \"body\": \"\xe6\x8a\xa5\xff\"}], \"cursor\": \"c\"}";
	struct provider_batch *b = NULL, *b2 = NULL;
	char why[200] = "";

	(void)state;
	assert_int_equal(gwproto_inbox(S(empty_no_cursor), &b, why, sizeof(why)), 0);
	assert_int_equal(b->n, 0);
	assert_null(b->cursor);                    /* the daemon keeps its own */
	provider_batch_free(b);

	assert_int_equal(gwproto_inbox(S(nul_body), &b, why, sizeof(why)), 0);
	assert_int_equal(b->msgs[0].body_len, 3);  /* the NUL is kept, with the length */
	assert_memory_equal(b->msgs[0].body, "x\0y", 3);
	provider_batch_free(b);

	/* no id: a stable hash id, recorded as defective; a non-object is left out */
	assert_int_equal(gwproto_inbox(S(no_id), &b, why, sizeof(why)), 0);
	assert_int_equal(gwproto_inbox(S(no_id), &b2, why, sizeof(why)), 0);
	assert_int_equal(b->n, 1);
	assert_true(strncmp(b->msgs[0].id, "sha256:", 7) == 0);
	assert_string_equal(b->msgs[0].id, b2->msgs[0].id);
	assert_non_null(b->msgs[0].error);
	provider_batch_free(b);
	provider_batch_free(b2);

	assert_int_equal(gwproto_inbox(S(no_body), &b, why, sizeof(why)), 0);
	assert_string_equal(b->msgs[0].error, "message without a body");
	provider_batch_free(b);

	assert_int_equal(gwproto_inbox(S(bad_utf8), &b, why, sizeof(why)), 0);
	assert_string_equal(b->msgs[0].body, "报\xef\xbf\xbd");   /* U+FFFD */
	provider_batch_free(b);
}

static void test_inbox_refused(void **state)
{
	static const struct {
		const char *body;
		const char *why;
	} t[] = {
		{ "", "malformed JSON" },
		{ "<html>502 Bad Gateway</html>", "malformed JSON" },
		{ "{\"messages\": [{\"id\": \"m-1\", \"from\": \"+861\", \"bo", "malformed JSON" },
		{ "{\"messages\": {}}", "no \"messages\" array" },
		{ "{\"error\": {\"code\": \"x\"}}", "no \"messages\" array" },
		{ "{\"messages\": [], \"cursor\": 5}", "\"cursor\" is not a string" },
		{ "{\"messages\": [], \"cursor\": \"a\\u0000b\"}", "\"cursor\" is not a string" },
		{ "{\"messages\": [], \"messages\": []}", "malformed JSON" },
	};
	char big[700];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct provider_batch *b = NULL;
		char why[200] = "";

		assert_int_equal(gwproto_inbox(t[i].body, strlen(t[i].body), &b, why, sizeof(why)),
				 -EBADMSG);
		assert_null(b);
		if (!strstr(why, t[i].why))
			fail_msg("case %zu: why '%s', want '%s'", i, why, t[i].why);
	}
	snprintf(big, sizeof(big), "{\"messages\": [], \"cursor\": \"%0512d\"}", 0);
	{
		struct provider_batch *b = NULL;
		char why[200] = "";

		assert_int_equal(gwproto_inbox(big, strlen(big), &b, why, sizeof(why)), -EBADMSG);
		size_t n = strlen(big);   /* ...0"} -> one '0' fewer: 511 bytes, fine */

		big[n - 3] = '"';
		big[n - 2] = '}';
		big[n - 1] = '\0';
		assert_int_equal(gwproto_inbox(big, strlen(big), &b, why, sizeof(why)), 0);
		assert_int_equal(strlen(b->cursor), 511);
		provider_batch_free(b);
	}
}

static void test_send_answers(void **state)
{
	static const struct {
		long status;
		const char *body;
		int want;
		const char *id, *error;
	} t[] = {
		{ 200, "{\"id\": \"p-9f3c\", \"status\": \"queued\"}", 0, "p-9f3c", "" },   /* §5 */
		{ 201, "{\"id\": \"p-1\", \"status\": \"sent\"}", 0, "p-1", "" },
		{ 202, "", 0, "", "" },                       /* taken, whatever the body */
		{ 200, "not json", 0, "", "" },
		{ 400, "{\"error\": {\"code\": \"invalid_number\", \"message\": \"13800 is not a mobile number\"}}",
		  -EINVAL, "", "HTTP 400 invalid_number: 13800 is not a mobile number" },   /* §6 */
		{ 401, "{\"error\": {\"message\": \"bad token\"}}", -EINVAL, "", "HTTP 401: bad token" },
		{ 404, "", -EINVAL, "", "HTTP 404" },
		{ 408, "", -EAGAIN, "", "HTTP 408" },
		{ 429, "{\"error\": {\"code\": \"rate_limited\"}}", -EAGAIN, "", "HTTP 429 rate_limited" },
		{ 500, "<html>", -EAGAIN, "", "HTTP 500" },
		{ 503, "", -EAGAIN, "", "HTTP 503" },
		{ 204, "", -EAGAIN, "", "HTTP 204" },         /* not one of 200/201/202 */
		{ 302, "", -EAGAIN, "", "HTTP 302" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct provider_result r;

		memset(&r, 0x55, sizeof(r));
		gwproto_send(t[i].status, t[i].body, strlen(t[i].body), &r);
		if (r.status != t[i].want || strcmp(r.provider_id, t[i].id) != 0 ||
		    strcmp(r.error, t[i].error) != 0)
			fail_msg("case %zu: status %d id '%s' error '%s'", i, r.status,
				 r.provider_id, r.error);
	}
}

static void test_status_answers(void **state)
{
	const int64_t ids[] = { 42, 43, 44, 45 };
	struct provider_status st[4];
	char why[200] = "";

	(void)state;
	memset(st, 0x55, sizeof(st));
	assert_int_equal(gwproto_status(S(doc_status), ids, 4, st, why, sizeof(why)), 0);
	assert_int_equal(st[0].state, DELIVERY_DELIVERED);
	assert_int_equal(st[1].state, DELIVERY_FAILED);
	assert_string_equal(st[1].error, "30003 Unreachable handset");
	assert_int_equal(st[2].state, DELIVERY_PENDING);
	assert_int_equal(st[3].state, DELIVERY_PENDING);          /* left out: not final */

	static const char odd[] =
		"{\"messages\": [{\"id\": \"gridline-42x\", \"status\": \"delivered\"},"
		" {\"id\": \"other-43\", \"status\": \"delivered\"},"
		" {\"id\": \"gridline-44\", \"status\": \"failed\"}]}";
	assert_int_equal(gwproto_status(S(odd), ids, 4, st, why, sizeof(why)), 0);
	assert_int_equal(st[0].state, DELIVERY_PENDING);          /* not exactly our id */
	assert_int_equal(st[1].state, DELIVERY_PENDING);
	assert_int_equal(st[2].state, DELIVERY_FAILED);
	assert_string_equal(st[2].error, "failed (no reason given)");

	assert_int_equal(gwproto_status(S("{\"messages\": [{\"id\""), ids, 4, st, why, sizeof(why)),
			 -EBADMSG);
	assert_non_null(strstr(why, "malformed JSON"));
	assert_int_equal(gwproto_status(S("[]"), ids, 4, st, why, sizeof(why)), -EBADMSG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inbox_doc_examples),
		cmocka_unit_test(test_inbox_odd_but_valid),
		cmocka_unit_test(test_inbox_refused),
		cmocka_unit_test(test_send_answers),
		cmocka_unit_test(test_status_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
