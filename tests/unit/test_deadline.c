/*
 * test_deadline.c — time limits on the built-in China calendar (2026),
 * and the stages of the chase. TZ is Asia/Shanghai (UTC+8, no DST).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "deadline.h"

/* Local "YYYY-MM-DD HH:MM" in Asia/Shanghai as epoch seconds, by hand (UTC+8). */
static int64_t cst(const char *s)
{
	struct tm tm = { 0 };

	if (sscanf(s, "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min) != 5)
		fail_msg("bad time %s", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) - 8 * 3600;
}

static void test_parse(void **state)
{
	static const struct {
		const char *in;
		int r;
		enum tlimit_kind kind;
		unsigned n;
		const char *out;
	} t[] = {
		{ "30m", 0, TL_MINUTES, 30, "30m" }, { "2h", 0, TL_MINUTES, 120, "2h" },
		{ "90m", 0, TL_MINUTES, 90, "90m" }, { "3wd", 0, TL_WORKDAYS, 3, "3wd" },
		{ "eod", 0, TL_EOD, 0, "eod" }, { "none", 0, TL_NONE, 0, "none" },
		{ "", 0, TL_NONE, 0, "none" }, { "0m", -EINVAL, TL_NONE, 0, NULL }, { "2d", -EINVAL, TL_NONE, 0, NULL },
		{ "m", -EINVAL, TL_NONE, 0, NULL }, { "-5m", -EINVAL, TL_NONE, 0, NULL }, { "2 h", -EINVAL, TL_NONE, 0, NULL }, { "61wd", -EINVAL, TL_NONE, 0, NULL },
		{ "99999999999999999999m", -EINVAL, TL_NONE, 0, NULL }, { "1441h", -EINVAL, TL_NONE, 0, NULL }, { "EOD", -EINVAL, TL_NONE, 0, NULL },
	};
	char buf[16];

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tlimit l = { TL_MINUTES, 7 };

		if (tlimit_parse(t[i].in, &l) != t[i].r)
			fail_msg("'%s': want %d", t[i].in, t[i].r);
		if (t[i].r)
			continue;
		assert_int_equal(l.kind, t[i].kind);
		assert_int_equal(l.n, t[i].n);
		assert_string_equal(tlimit_format(&l, buf, sizeof(buf)), t[i].out);
	}
}

static void test_due(void **state)
{
	static const struct {
		const char *limit, *from, *due;
	} t[] = {
		{ "30m", "2026-11-27 17:50", "2026-11-27 18:20" },    /* clock time ignores days off */
		{ "2h", "2026-11-28 23:30", "2026-11-29 01:30" },
		{ "2wd", "2026-11-26 10:15", "2026-11-30 10:15" },    /* Thu -> Mon, over a weekend */
		{ "1wd", "2026-11-28 10:00", "2026-11-30 10:00" },    /* from a Saturday */
		/* 春节: Fri 02-13 + 2wd: Sat 02-14 is a 调休 working day, then 15-23 off */
		{ "2wd", "2026-02-13 10:15", "2026-02-24 10:15" },
		{ "1wd", "2026-02-13 10:15", "2026-02-14 10:15" },    /* the 调休 Saturday itself */
		/* 国庆: Wed 09-30 + 1wd: 10-01..07 off, Sat 10-10 works... Thu 10-08 first */
		{ "1wd", "2026-09-30 16:00", "2026-10-08 16:00" },
		{ "eod", "2026-11-27 09:00", "2026-11-27 18:00" },    /* a Friday morning */
		{ "eod", "2026-11-27 18:30", "2026-11-30 18:00" },    /* after hours: Monday */
		{ "eod", "2026-11-28 11:00", "2026-11-30 18:00" },    /* Saturday: Monday */
		{ "eod", "2026-10-01 08:00", "2026-10-08 18:00" },    /* 国庆 */
		{ "eod", "2026-10-10 08:00", "2026-10-10 18:00" },    /* 调休 Saturday works */
	};

	(void)state;
	struct calendar *cal = calendar_builtin();

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct tlimit l;
		int64_t due;

		assert_int_equal(tlimit_parse(t[i].limit, &l), 0);
		due = tlimit_due(&l, cal, 18 * 60, cst(t[i].from));
		if (due != cst(t[i].due))
			fail_msg("%s from %s: got %+lld min from %s", t[i].limit, t[i].from,
				 (long long)(due - cst(t[i].due)) / 60, t[i].due);
	}
	{
		struct tlimit none = { TL_NONE, 0 };

		assert_int_equal(tlimit_due(&none, cal, 18 * 60, cst("2026-11-27 09:00")), 0);
	}
	calendar_free(cal);
}

static void test_stages(void **state)
{
	int64_t s = 1000000, d = s + 1800;   /* 30 minutes */

	(void)state;
	assert_int_equal(deadline_stage_at(1, s, d), s + 1350);   /* 3/4 of the way */
	assert_int_equal(deadline_stage_at(2, s, d), d);
	assert_int_equal(deadline_stage_at(3, s, d), d + 900);    /* at least 15 minutes */
	assert_int_equal(deadline_stage_at(3, s, s + 7200), s + 7200 + 3600);   /* half the span */
	assert_int_equal(deadline_stage_now(s, d, s), 0);
	assert_int_equal(deadline_stage_now(s, d, s + 1349), 0);
	assert_int_equal(deadline_stage_now(s, d, s + 1350), 1);
	assert_int_equal(deadline_stage_now(s, d, d - 1), 1);
	assert_int_equal(deadline_stage_now(s, d, d), 2);
	assert_int_equal(deadline_stage_now(s, d, d + 899), 2);
	assert_int_equal(deadline_stage_now(s, d, d + 900), 3);
	assert_int_equal(deadline_stage_now(s, d, d + 99999), 3);
	assert_int_equal(deadline_stage_at(4, s, d), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_due),
		cmocka_unit_test(test_stages),
	};

	setenv("TZ", "Asia/Shanghai", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
