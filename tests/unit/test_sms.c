/*
 * test_sms.c — tables for sms.c: segment arithmetic (GSM-7 160/153 with
 * two-septet extension characters, UCS-2 70/67 with surrogate pairs, never
 * split across segments), template rendering and cutting, template checks.
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

#include "sms.h"
#include "text.h"
#include "util.h"

#define EMOJI "\xF0\x9F\x98\x80" /* U+1F600, a surrogate pair in UTF-16 */

/* prefix + n times unit + suffix, on the heap. */
static char *build(const char *prefix, const char *unit, size_t n, const char *suffix)
{
	size_t ul = strlen(unit);
	char *s = xmalloc(strlen(prefix) + n * ul + strlen(suffix) + 1);
	char *p = s;

	memcpy(p, prefix, strlen(prefix));
	p += strlen(prefix);
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, suffix, strlen(suffix) + 1);
	return s;
}

/* ---- segment arithmetic -------------------------------------------------- */

static void test_count(void **state)
{
	/* the text: a x na, then mid, then b x nb */
	static const struct {
		const char *a;
		size_t na;
		const char *mid, *b;
		size_t nb;
		enum sms_encoding enc;
		size_t units, segments, chars;
	} cases[] = {
		{ "", 0, "", "", 0, SMS_GSM7, 0, 0, 0 },
		{ "a", 1, "", "", 0, SMS_GSM7, 1, 1, 1 },
		{ "a", 160, "", "", 0, SMS_GSM7, 160, 1, 160 },
		{ "a", 161, "", "", 0, SMS_GSM7, 161, 2, 161 },
		{ "a", 306, "", "", 0, SMS_GSM7, 306, 2, 306 },
		{ "a", 307, "", "", 0, SMS_GSM7, 307, 3, 307 },
		{ "a", 459, "", "", 0, SMS_GSM7, 459, 3, 459 },
		{ "a", 460, "", "", 0, SMS_GSM7, 460, 4, 460 },
		/* extension characters: two septets each */
		{ "^{}\\[~]|\xE2\x82\xAC", 1, "", "", 0, SMS_GSM7, 18, 1, 9 },
		{ "€", 80, "", "", 0, SMS_GSM7, 160, 1, 80 },
		{ "€", 81, "", "", 0, SMS_GSM7, 162, 2, 81 },       /* 76 + 5 */
		{ "a", 158, "{", "", 0, SMS_GSM7, 160, 1, 159 },
		{ "a", 159, "{", "", 0, SMS_GSM7, 161, 2, 160 },
		/* an escape pair at the 153 boundary moves to the next segment */
		{ "a", 152, "{", "a", 152, SMS_GSM7, 306, 3, 305 },
		{ "a", 151, "{", "a", 153, SMS_GSM7, 306, 2, 305 },
		{ "a", 152, "€", "a", 1, SMS_GSM7, 155, 1, 154 },
		/* the rest of the default alphabet */
		{ "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà\n\r", 1, "", "", 0,
		  SMS_GSM7, 65, 1, 65 },
		{ "abc", 1, "`", "", 0, SMS_UCS2, 4, 1, 4 },        /* backtick is not GSM */
		{ "ç", 1, "", "", 0, SMS_UCS2, 1, 1, 1 },           /* only Ç is */
		/* UCS-2 */
		{ "中", 70, "", "", 0, SMS_UCS2, 70, 1, 70 },
		{ "中", 71, "", "", 0, SMS_UCS2, 71, 2, 71 },
		{ "中", 134, "", "", 0, SMS_UCS2, 134, 2, 134 },
		{ "中", 135, "", "", 0, SMS_UCS2, 135, 3, 135 },
		{ "中", 201, "", "", 0, SMS_UCS2, 201, 3, 201 },
		{ "中", 202, "", "", 0, SMS_UCS2, 202, 4, 202 },
		{ EMOJI, 1, "", "", 0, SMS_UCS2, 2, 1, 1 },
		{ EMOJI, 35, "", "", 0, SMS_UCS2, 70, 1, 35 },
		{ "中", 69, EMOJI, "", 0, SMS_UCS2, 71, 2, 70 },
		{ EMOJI, 36, "", "", 0, SMS_UCS2, 72, 2, 36 },      /* 33 + 3 */
		{ EMOJI, 67, "", "", 0, SMS_UCS2, 134, 3, 67 },     /* 33 + 33 + 1 */
		/* a surrogate pair at the 67 boundary moves to the next segment */
		{ "中", 66, EMOJI, "中", 66, SMS_UCS2, 134, 3, 133 },
		{ "中", 65, EMOJI, "中", 67, SMS_UCS2, 134, 2, 133 },
		/* one non-GSM character makes the whole text UCS-2 */
		{ "Hello 你好", 1, "", "", 0, SMS_UCS2, 8, 1, 8 },
		{ "a", 100, "中", "", 0, SMS_UCS2, 101, 2, 101 },
		{ "a", 70, "€", "", 0, SMS_GSM7, 72, 1, 71 },
		{ "a", 70, "€中", "", 0, SMS_UCS2, 72, 2, 72 },
		{ "报修 下水管堵了 Repair", 1, "", "", 0, SMS_UCS2, 15, 1, 15 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *head = build("", cases[i].a, cases[i].na, cases[i].mid);
		char *s = build(head, cases[i].b, cases[i].nb, "");
		struct sms_count c;

		sms_count(s, &c);
		if (c.encoding != cases[i].enc || c.units != cases[i].units ||
		    c.segments != cases[i].segments || c.chars != cases[i].chars)
			fail_msg("case %zu: got enc=%d units=%zu segments=%zu chars=%zu, "
				 "want enc=%d units=%zu segments=%zu chars=%zu",
				 i, c.encoding, c.units, c.segments, c.chars, cases[i].enc,
				 cases[i].units, cases[i].segments, cases[i].chars);
		free(s);
		free(head);
	}
}

/* ---- rendering ----------------------------------------------------------- */

static const struct sms_var vars[] = {
	{ "ticket", "1024" },
	{ "category", "报修" },
	{ "text", "下水管堵了" },
	{ "empty", NULL },
};

static void test_render(void **state)
{
	static const struct {
		const char *tmpl;
		int ret;
		const char *out;
	} cases[] = {
		{ "", 0, "" },
		{ "收到", 0, "收到" },
		{ "工单{ticket}已受理", 0, "工单1024已受理" },
		{ "{category}:{text}({ticket})", 0, "报修:下水管堵了(1024)" },
		{ "{ticket}{ticket}", 0, "10241024" },
		{ "[{empty}]", 0, "[]" },
		{ "{{ticket}} {ticket}", 0, "{ticket} 1024" },
		{ "{{", 0, "{" },
		{ "}}", 0, "}" },
		{ "{{{ticket}}}", 0, "{1024}" },
		{ "{unknown}", -EINVAL, NULL },
		{ "{Ticket}", -EINVAL, NULL },
		{ "{ticket", -EINVAL, NULL },
		{ "ticket}", -EINVAL, NULL },
		{ "{}", -EINVAL, NULL },
		{ "{ticket }", -EINVAL, NULL },
		{ "{a{ticket}}", -EINVAL, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *out = (char *)"untouched";
		int r = sms_render(cases[i].tmpl, vars, ELEMENTSOF(vars), 1, "text", &out);

		if (r != cases[i].ret)
			fail_msg("case %zu [%s]: got %d, want %d", i, cases[i].tmpl, r, cases[i].ret);
		if (r < 0) {
			assert_string_equal(out, "untouched");
			continue;
		}
		assert_string_equal(out, cases[i].out);
		free(out);
	}
}

/* Is s a whole number of valid UTF-8 characters? */
static bool valid_utf8(const char *s)
{
	char *fixed = text_utf8_fix(s, strlen(s), NULL);
	bool same = strcmp(fixed, s) == 0;

	free(fixed);
	return same;
}

static void test_render_cut(void **state)
{
	static const struct {
		const char *tmpl;
		const char *unit;    /* the text variable: n times unit */
		size_t n;
		size_t max;
		const char *cut_var;
		size_t keep;         /* units of the text kept (n: unchanged) */
		size_t segments;
	} cases[] = {
		/* fits: unchanged */
		{ "工单{ticket}:{text}", "堵", 63, 1, "text", 63, 1 },
		/* 7 units of template, 62 of text and "…" make 70 */
		{ "工单{ticket}:{text}", "堵", 100, 1, "text", 62, 1 },
		/* two segments: 134 units */
		{ "工单{ticket}:{text}", "堵", 300, 2, "text", 126, 2 },
		/* three */
		{ "工单{ticket}:{text}", "堵", 300, 3, "text", 193, 3 },
		/* emoji: 34 pairs and "…" are 69 units; a 35th pair would need 71 */
		{ "{text}", EMOJI, 40, 1, "text", 34, 1 },
		/* a GSM text turns UCS-2 with the "…": 13 + 56 + 1 */
		{ "Ticket {ticket}: {text}", "a", 200, 1, "text", 56, 1 },
		/* GSM text that fits 160 is not cut */
		{ "Ticket {ticket}: {text}", "a", 147, 1, "text", 147, 1 },
		/* no cut variable, or an absent one: over-long as is */
		{ "工单{ticket}:{text}", "堵", 100, 1, NULL, 100, 2 },
		{ "工单{ticket}:{text}", "堵", 100, 1, "nosuch", 100, 2 },
		/* the template alone is too long: as is */
		{ "中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中中{text}",
		  "堵", 5, 1, "text", 5, 2 },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *text = build("", cases[i].unit, cases[i].n, "");
		char *kept = build("", cases[i].unit, cases[i].keep, cases[i].keep < cases[i].n ? "…" : "");
		struct sms_var v[] = { { "ticket", "1024" }, { "text", text } };
		char *out = NULL, *want, *tmpl_want;
		struct sms_count c;

		assert_int_equal(sms_render(cases[i].tmpl, v, ELEMENTSOF(v), cases[i].max,
					    cases[i].cut_var, &out), 0);
		/* what we expect: the template rendered with the kept text */
		v[1].value = kept;
		assert_int_equal(sms_render(cases[i].tmpl, v, ELEMENTSOF(v), 99, NULL, &want), 0);
		tmpl_want = want;
		if (strcmp(out, tmpl_want) != 0)
			fail_msg("case %zu: got [%s], want [%s]", i, out, tmpl_want);
		assert_true(valid_utf8(out));
		sms_count(out, &c);
		if (c.segments != cases[i].segments)
			fail_msg("case %zu: %zu segments, want %zu", i, c.segments, cases[i].segments);
		free(want);
		free(out);
		free(kept);
		free(text);
	}
}

/* Cutting a mixed text never leaves half a character, whatever the limit. */
static void test_render_cut_boundaries(void **state)
{
	const char *mix = "下水管" EMOJI "堵了abc€" EMOJI "墙砖";
	char *text = build("", mix, 20, "");
	struct sms_var v[] = { { "text", text } };

	(void)state;
	for (size_t max = 1; max <= 4; max++) {
		for (size_t pad = 0; pad < 6; pad++) {
			char *tmpl = build("", "报", pad, "{text}");
			char *out = NULL;
			struct sms_count c;

			assert_int_equal(sms_render(tmpl, v, 1, max, "text", &out), 0);
			assert_true(valid_utf8(out));
			sms_count(out, &c);
			assert_true(c.segments <= max);
			assert_true(strlen(out) >= strlen("…"));
			assert_string_equal(out + strlen(out) - strlen("…"), "…");
			free(out);
			free(tmpl);
		}
	}
	free(text);
}

/* ---- template checks ----------------------------------------------------- */

static void test_template_check(void **state)
{
	static const char *const allowed[] = { "ticket", "text", "worker_phone", NULL };
	static const struct {
		const char *tmpl;
		int ret;
		const char *why;     /* a substring of the reason */
	} cases[] = {
		{ "", 0, NULL },
		{ "工单{ticket}已受理", 0, NULL },
		{ "{ticket}{text}{worker_phone}", 0, NULL },
		{ "{{ok}}", 0, NULL },
		{ "{nope}", -EINVAL, "unknown variable '{nope}'" },
		{ "{ticket", -EINVAL, "unterminated '{' at offset 0" },
		{ "ab{", -EINVAL, "unterminated '{' at offset 2" },
		{ "}", -EINVAL, "unmatched '}' at offset 0" },
		{ "{}", -EINVAL, "empty variable name" },
		{ "{bad name}", -EINVAL, "bad variable name" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char err[128] = "";
		int r = sms_template_check(cases[i].tmpl, allowed, err, sizeof(err));

		if (r != cases[i].ret)
			fail_msg("case %zu [%s]: got %d, want %d", i, cases[i].tmpl, r, cases[i].ret);
		if (cases[i].why && !strstr(err, cases[i].why))
			fail_msg("case %zu [%s]: reason [%s], want [%s]", i, cases[i].tmpl, err,
				 cases[i].why);
	}
	assert_int_equal(sms_template_check("{x}", NULL, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_cut),
		cmocka_unit_test(test_render_cut_boundaries),
		cmocka_unit_test(test_template_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
