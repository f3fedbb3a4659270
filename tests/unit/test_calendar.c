/*
 * test_calendar.c — tables for calendar.c: working days of the built-in
 * China calendar (ordinary days, weekends, holidays, 调休 Saturdays and
 * Sundays), deadlines to the second across weekends, holidays and make-up
 * working days, deadlines in a zone with DST, the file format (accepted
 * forms, every error with its line), file loading, covers() and
 * year_state() (complete, provisional, none), the provisional 2027 of the
 * built-in calendar (statutory holidays only), and that the built-in text
 * is byte for byte conf/calendar-cn.txt.
 *
 * Runs in Asia/Shanghai (setenv + tzset in main); expected deadlines are
 * computed with timegm() and the fixed UTC+8 offset, not with the mktime()
 * path under test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "calendar.h"
#include "util.h"

#define CONF_CN "conf/calendar-cn.txt"
#define SHANGHAI_OFFSET (8 * 3600)

/* "YYYY-MM-DD HH:MM:SS" wall time at UTC offset off (seconds) to epoch. */
static int64_t at_offset(const char *s, long off)
{
	struct tm tm = { 0 };
	const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);

	assert_non_null(end);
	assert_int_equal(*end, '\0');
	return (int64_t)timegm(&tm) - off;
}

static int64_t cst(const char *s)
{
	return at_offset(s, SHANGHAI_OFFSET);
}

/* Local "YYYY-MM-DD HH:MM:SS" of t in the process zone. */
static const char *local_str(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;

	assert_non_null(localtime_r(&tt, &tm));
	assert_true(strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm) > 0);
	return buf;
}

static void use_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static int builtin_setup(void **state)
{
	*state = calendar_builtin();
	return *state ? 0 : -1;
}

static int builtin_teardown(void **state)
{
	calendar_free(*state);
	return 0;
}

/* ---- the zone really is Asia/Shanghai (tzdata installed) ---------------- */

static void test_zone_is_shanghai(void **state)
{
	time_t t = (time_t)cst("2026-07-01 12:00:00");
	struct tm tm;

	(void)state;
	assert_non_null(localtime_r(&t, &tm));
	assert_int_equal(tm.tm_gmtoff, SHANGHAI_OFFSET);
	assert_int_equal(tm.tm_hour, 12);
}

/* ---- is_workday on the built-in calendar --------------------------------- */

struct day_case {
	int y, m, d;
	bool workday;
	const char *why;
};

static const struct day_case day_cases[] = {
	{ 2026, 3, 10, true, "ordinary Tuesday" },
	{ 2026, 3, 13, true, "ordinary Friday" },
	{ 2026, 3, 14, false, "ordinary Saturday" },
	{ 2026, 3, 15, false, "ordinary Sunday" },
	{ 2025, 12, 31, true, "Wednesday before 2026 元旦" },
	{ 2026, 1, 1, false, "元旦 Thursday" },
	{ 2026, 1, 2, false, "元旦 Friday" },
	{ 2026, 1, 3, false, "元旦 Saturday" },
	{ 2026, 1, 4, true, "元旦调休 Sunday" },
	{ 2026, 2, 13, true, "Friday before 春节" },
	{ 2026, 2, 14, true, "春节调休 Saturday" },
	{ 2026, 2, 15, false, "春节 Sunday" },
	{ 2026, 2, 16, false, "春节 Monday" },
	{ 2026, 2, 20, false, "春节 Friday" },
	{ 2026, 2, 23, false, "春节 last day, Monday" },
	{ 2026, 2, 24, true, "Tuesday after 春节" },
	{ 2026, 2, 28, true, "春节调休 Saturday" },
	{ 2026, 3, 1, false, "Sunday after the 调休 Saturday" },
	{ 2026, 4, 3, true, "Friday before 清明" },
	{ 2026, 4, 6, false, "清明 Monday" },
	{ 2026, 4, 7, true, "Tuesday after 清明" },
	{ 2026, 5, 1, false, "劳动节 Friday" },
	{ 2026, 5, 4, false, "劳动节 Monday" },
	{ 2026, 5, 5, false, "劳动节 Tuesday" },
	{ 2026, 5, 6, true, "Wednesday after 劳动节" },
	{ 2026, 5, 9, true, "劳动节调休 Saturday" },
	{ 2026, 5, 10, false, "Sunday after it" },
	{ 2026, 6, 19, false, "端午 Friday" },
	{ 2026, 6, 22, true, "Monday after 端午" },
	{ 2026, 9, 19, false, "Saturday before the 调休 Sunday" },
	{ 2026, 9, 20, true, "国庆调休 Sunday" },
	{ 2026, 9, 25, false, "中秋 Friday" },
	{ 2026, 9, 28, true, "Monday after 中秋" },
	{ 2026, 9, 30, true, "Wednesday before 国庆" },
	{ 2026, 10, 1, false, "国庆 Thursday" },
	{ 2026, 10, 5, false, "国庆 Monday" },
	{ 2026, 10, 7, false, "国庆 last day, Wednesday" },
	{ 2026, 10, 8, true, "Thursday after 国庆" },
	{ 2026, 10, 10, true, "国庆调休 Saturday" },
	{ 2026, 10, 11, false, "Sunday after it" },
	{ 2026, 12, 31, true, "ordinary Thursday" },
	{ 2027, 1, 1, false, "2027 provisional: 元旦 Friday" },
	{ 2027, 1, 2, false, "2027 provisional: Saturday after 元旦" },
	{ 2027, 1, 4, true, "2027 provisional: Monday after 元旦" },
	{ 2027, 2, 4, true, "2027 provisional: Thursday before 除夕" },
	{ 2027, 2, 5, false, "2027 provisional: 除夕 Friday" },
	{ 2027, 2, 6, false, "2027 provisional: 初一 Saturday" },
	{ 2027, 2, 7, false, "2027 provisional: 初二 Sunday" },
	{ 2027, 2, 8, false, "2027 provisional: 初三 Monday" },
	{ 2027, 2, 9, true, "2027 provisional: Tuesday after 初三 (补假 not known yet)" },
	{ 2027, 3, 1, true, "2027 provisional: ordinary Monday" },
	{ 2027, 4, 5, false, "2027 provisional: 清明 Monday" },
	{ 2027, 4, 6, true, "2027 provisional: Tuesday after 清明" },
	{ 2027, 5, 1, false, "2027 provisional: 劳动节 Saturday" },
	{ 2027, 5, 3, true, "2027 provisional: Monday after 劳动节 (补假 not known yet)" },
	{ 2027, 6, 8, true, "2027 provisional: Tuesday before 端午" },
	{ 2027, 6, 9, false, "2027 provisional: 端午 Wednesday" },
	{ 2027, 9, 15, false, "2027 provisional: 中秋 Wednesday" },
	{ 2027, 9, 16, true, "2027 provisional: Thursday after 中秋" },
	{ 2027, 10, 1, false, "2027 provisional: 国庆 Friday" },
	{ 2027, 10, 3, false, "2027 provisional: 国庆 Sunday" },
	{ 2027, 10, 4, true, "2027 provisional: Monday after 国庆 (补假 not known yet)" },
	{ 2028, 1, 3, true, "2028 not in the calendar: a Monday" },
	{ 2028, 1, 1, false, "2028 not in the calendar: Saturday still off" },
	{ 2026, 2, 29, false, "impossible date" },
	{ 2026, 13, 1, false, "month 13" },
	{ 2026, 0, 10, false, "month 0" },
	{ 2026, 4, 31, false, "April 31" },
};

static void test_is_workday(void **state)
{
	const struct calendar *c = *state;

	for (size_t i = 0; i < ELEMENTSOF(day_cases); i++) {
		const struct day_case *k = &day_cases[i];

		if (calendar_is_workday(c, k->y, k->m, k->d) != k->workday)
			fail_msg("%04d-%02d-%02d (%s): expected %s", k->y, k->m, k->d,
				 k->why, k->workday ? "workday" : "day off");
	}
}

/* 2026: 261 weekdays, 19 of them holidays, 6 make-up weekend days. */
static void test_builtin_2026_count(void **state)
{
	const struct calendar *c = *state;
	int workdays = 0, days = 0;

	for (int i = 0; i < 400; i++) {
		struct tm tm = { .tm_year = 126, .tm_mon = 0, .tm_mday = 1 + i };

		timegm(&tm);   /* normalises tm */
		if (tm.tm_year != 126)
			break;
		days++;
		workdays += calendar_is_workday(c, 2026, tm.tm_mon + 1, tm.tm_mday);
	}
	assert_int_equal(days, 365);
	assert_int_equal(workdays, 261 - 19 + 6);
}

/*
 * 2027 (provisional): 261 weekdays, 7 of them statutory holidays (the
 * other 6 statutory days fall on a weekend), no make-up days yet.
 */
static void test_builtin_2027_count(void **state)
{
	const struct calendar *c = *state;
	int workdays = 0, days = 0;

	for (int i = 0; i < 400; i++) {
		struct tm tm = { .tm_year = 127, .tm_mon = 0, .tm_mday = 1 + i };

		timegm(&tm);   /* normalises tm */
		if (tm.tm_year != 127)
			break;
		days++;
		workdays += calendar_is_workday(c, 2027, tm.tm_mon + 1, tm.tm_mday);
	}
	assert_int_equal(days, 365);
	assert_int_equal(workdays, 261 - 7);
}

static void test_null_calendar(void **state)
{
	int64_t r = 0;

	(void)state;
	assert_true(calendar_is_workday(NULL, 2026, 10, 1));    /* Thursday */
	assert_false(calendar_is_workday(NULL, 2026, 10, 10));  /* Saturday */
	assert_false(calendar_covers(NULL, 2026));
	assert_int_equal(calendar_year_state(NULL, 2026), CALENDAR_YEAR_NONE);
	assert_int_equal(calendar_add_workdays(NULL, cst("2026-10-09 10:00:00"), 1, &r), 0);
	assert_int_equal(r, cst("2026-10-12 10:00:00"));
	calendar_free(NULL);
}

/* ---- deadlines ---------------------------------------------------------- */

struct add_case {
	const char *from;       /* Shanghai wall time */
	unsigned n;
	const char *to;
	const char *why;
};

static const struct add_case add_cases[] = {
	{ "2026-03-14 10:00:00", 0, "2026-03-14 10:00:00", "n = 0 is t itself, even on a Saturday" },
	{ "2026-03-10 09:30:59", 1, "2026-03-11 09:30:59", "next day, seconds kept" },
	{ "2026-03-10 23:59:00", 1, "2026-03-11 23:59:00", "just before midnight" },
	{ "2026-03-11 00:00:00", 1, "2026-03-12 00:00:00", "midnight" },
	{ "2026-03-13 16:45:00", 1, "2026-03-16 16:45:00", "Friday to Monday over a weekend" },
	{ "2026-03-12 14:00:00", 3, "2026-03-17 14:00:00", "Thursday + 3 over a weekend" },
	{ "2026-03-10 08:15:00", 5, "2026-03-17 08:15:00", "one working week" },
	{ "2026-03-10 08:15:00", 10, "2026-03-24 08:15:00", "two working weeks" },
	{ "2026-03-14 10:00:00", 1, "2026-03-16 10:00:00", "from a Saturday: counted from Sunday" },
	{ "2026-03-15 22:00:00", 1, "2026-03-16 22:00:00", "from a Sunday" },
	{ "2026-09-30 17:20:00", 1, "2026-10-08 17:20:00", "over the whole 国庆 holiday" },
	{ "2026-09-30 17:20:00", 2, "2026-10-09 17:20:00", "国庆 + 1" },
	{ "2026-09-30 17:20:00", 3, "2026-10-10 17:20:00", "onto the 调休 Saturday" },
	{ "2026-09-30 17:20:00", 4, "2026-10-12 17:20:00", "past the 调休 Saturday and Sunday" },
	{ "2026-10-03 11:00:00", 1, "2026-10-08 11:00:00", "from inside a holiday" },
	{ "2026-10-10 08:00:00", 1, "2026-10-12 08:00:00", "from the 调休 Saturday" },
	{ "2026-09-18 10:00:00", 1, "2026-09-20 10:00:00", "Friday to the 调休 Sunday" },
	{ "2026-09-24 15:37:00", 1, "2026-09-28 15:37:00", "over 中秋 (Fri-Sun)" },
	{ "2026-02-13 18:00:00", 1, "2026-02-14 18:00:00", "onto the 春节调休 Saturday" },
	{ "2026-02-13 18:00:00", 2, "2026-02-24 18:00:00", "over 春节" },
	{ "2026-04-30 09:00:00", 1, "2026-05-06 09:00:00", "over 劳动节" },
	{ "2026-04-30 09:00:00", 4, "2026-05-09 09:00:00", "onto the 劳动节调休 Saturday" },
	{ "2025-12-31 09:00:00", 1, "2026-01-04 09:00:00", "over the year end onto 元旦调休 Sunday" },
	{ "2026-12-31 10:00:00", 1, "2027-01-04 10:00:00", "over 元旦 2027 (provisional) and a weekend" },
	{ "2026-01-05 12:00:00", 246, "2026-12-31 12:00:00", "all of 2026's working days after Jan 5" },
	{ "2026-01-05 12:00:00", 248, "2027-01-05 12:00:00", "and two more, past 元旦 2027" },
	{ "2027-02-04 10:00:00", 2, "2027-02-10 10:00:00", "2027 provisional: over 除夕 to 初三" },
	{ "2027-02-04 10:00:00", 1, "2027-02-09 10:00:00", "2027 provisional: 春节 + 1" },
	{ "2027-06-08 16:00:00", 1, "2027-06-10 16:00:00", "2027 provisional: over 端午 Wednesday" },
	{ "2027-09-30 17:20:00", 1, "2027-10-04 17:20:00", "2027 provisional: over 国庆 1-3 Oct" },
	{ "2027-12-31 10:00:00", 1, "2028-01-03 10:00:00", "into 2028 (no data): weekends only" },
};

static void test_add_workdays(void **state)
{
	const struct calendar *c = *state;
	char got[32];

	for (size_t i = 0; i < ELEMENTSOF(add_cases); i++) {
		const struct add_case *k = &add_cases[i];
		int64_t r = -1;

		assert_int_equal(calendar_add_workdays(c, cst(k->from), k->n, &r), 0);
		if (r != cst(k->to))
			fail_msg("%s + %u (%s): expected %s, got %s", k->from, k->n, k->why,
				 k->to, local_str(r, got, sizeof(got)));
	}
}

/*
 * The case: a deadline crossing a weekend, a public holiday and a
 * 调休 working Saturday lands on the right minute. Friday 6 Feb 2026 10:15
 * + 7 working days: 7-8 Feb weekend off; 9-13 Feb are 1-5; Saturday 14 Feb
 * (调休) is 6; 15-23 Feb 春节 off; Tuesday 24 Feb is 7.
 */
static void test_weekend_holiday_tiaoxiu(void **state)
{
	const struct calendar *c = *state;
	char buf[32];
	int64_t r = 0;

	assert_int_equal(calendar_add_workdays(c, cst("2026-02-06 10:15:00"), 7, &r), 0);
	assert_string_equal(local_str(r, buf, sizeof(buf)), "2026-02-24 10:15:00");
	assert_int_equal(r, cst("2026-02-24 10:15:00"));
	/* and one working day less is the 调休 Saturday itself */
	assert_int_equal(calendar_add_workdays(c, cst("2026-02-06 10:15:00"), 6, &r), 0);
	assert_int_equal(r, cst("2026-02-14 10:15:00"));
	/* 国庆: Tue 29 Sep + 5 = 30 Sep, 8 Oct, 9 Oct, Sat 10 Oct, (Sun off) Mon 12 Oct */
	assert_int_equal(calendar_add_workdays(c, cst("2026-09-29 15:37:00"), 5, &r), 0);
	assert_string_equal(local_str(r, buf, sizeof(buf)), "2026-10-12 15:37:00");
}

static void test_add_workdays_range(void **state)
{
	const struct calendar *c = *state;
	int64_t r = 42;

	assert_int_equal(calendar_add_workdays(c, cst("2026-03-10 09:00:00"),
					       CALENDAR_MAX_WORKDAYS + 1, &r), -ERANGE);
	assert_int_equal(r, 42);   /* untouched */
	assert_int_equal(calendar_add_workdays(c, INT64_MAX, 1, &r), -ERANGE);
	assert_int_equal(r, 42);
	assert_int_equal(calendar_add_workdays(c, cst("2026-03-10 09:00:00"),
					       CALENDAR_MAX_WORKDAYS, &r), 0);
	assert_true(r > cst("2035-01-01 00:00:00"));
}

/* A zone with DST: same clock time across both switches (US rules, 2026). */
static void test_add_workdays_dst(void **state)
{
	struct calendar *c = NULL;
	const char *text = "year 2026\n2026-03-08 workday DST day\n";
	const long est = -5 * 3600, edt = -4 * 3600;
	char buf[32];
	int64_t r = 0, t;

	(void)state;
	use_tz("EST5EDT,M3.2.0,M11.1.0");
	/* Fri 6 Mar 09:00 EST + 1 (weekends only) = Mon 9 Mar 09:00 EDT */
	t = at_offset("2026-03-06 09:00:00", est);
	assert_int_equal(calendar_add_workdays(NULL, t, 1, &r), 0);
	assert_int_equal(r, at_offset("2026-03-09 09:00:00", edt));
	/* Fri 30 Oct 09:00 EDT + 1 = Mon 2 Nov 09:00 EST */
	t = at_offset("2026-10-30 09:00:00", edt);
	assert_int_equal(calendar_add_workdays(NULL, t, 1, &r), 0);
	assert_int_equal(r, at_offset("2026-11-02 09:00:00", est));
	/* 02:30 does not exist on Sun 8 Mar: mktime moves it, same day */
	assert_int_equal(calendar_parse(text, strlen(text), "t", &c, NULL, 0), 0);
	t = at_offset("2026-03-06 02:30:00", est);
	assert_int_equal(calendar_add_workdays(c, t, 1, &r), 0);
	assert_memory_equal(local_str(r, buf, sizeof(buf)), "2026-03-08", 10);
	assert_true(r >= at_offset("2026-03-08 01:30:00", est));
	assert_true(r <= at_offset("2026-03-08 03:30:00", edt));
	calendar_free(c);
	use_tz("Asia/Shanghai");
}

/* ---- covers() and year_state() ------------------------------------------ */

static void test_covers(void **state)
{
	const struct calendar *c = *state;

	assert_true(calendar_covers(c, 2026));
	assert_false(calendar_covers(c, 2025));
	assert_false(calendar_covers(c, 2027));   /* provisional: not published when shipped */
	assert_false(calendar_covers(c, 2028));
	assert_false(calendar_covers(c, 0));
	assert_int_equal(calendar_year_state(c, 2025), CALENDAR_YEAR_NONE);
	assert_int_equal(calendar_year_state(c, 2026), CALENDAR_YEAR_COMPLETE);
	assert_int_equal(calendar_year_state(c, 2027), CALENDAR_YEAR_PROVISIONAL);
	assert_int_equal(calendar_year_state(c, 2028), CALENDAR_YEAR_NONE);
	assert_int_equal(calendar_year_state(c, 0), CALENDAR_YEAR_NONE);
}

struct state_case {
	const char *text;
	int year;
	enum calendar_year state;
};

static const struct state_case state_cases[] = {
	{ "year 2027 provisional\n", 2027, CALENDAR_YEAR_PROVISIONAL },
	{ "year 2027 provisional\n", 2026, CALENDAR_YEAR_NONE },
	{ "year 2027 provisional\n", 2028, CALENDAR_YEAR_NONE },
	{ "year 2027\n", 2027, CALENDAR_YEAR_COMPLETE },
	{ "year 2026\nyear 2027 provisional\n", 2026, CALENDAR_YEAR_COMPLETE },
	{ "year 2026\nyear 2027 provisional\n", 2027, CALENDAR_YEAR_PROVISIONAL },
	{ "year 2027 provisional\nyear 2026\n", 2026, CALENDAR_YEAR_COMPLETE },
	{ "year 2027 provisional\nyear 2026\n", 2027, CALENDAR_YEAR_PROVISIONAL },
	{ "  year\t2027\tprovisional   # statutory days only\r\n", 2027,
	  CALENDAR_YEAR_PROVISIONAL },
	{ "\xEF\xBB\xBFyear 2027\xE3\x80\x80provisional\xE3\x80\x80\n", 2027,
	  CALENDAR_YEAR_PROVISIONAL },
	{ "year 2027 provisional\n2027-02-05 holiday 春节（除夕）\n", 2027,
	  CALENDAR_YEAR_PROVISIONAL },
	{ "", 2027, CALENDAR_YEAR_NONE },
	{ "year 2026\n", 10000, CALENDAR_YEAR_NONE },
};

/* year_state() of parsed texts; covers() is true for a complete year only. */
static void test_year_state(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(state_cases); i++) {
		const struct state_case *k = &state_cases[i];
		struct calendar *c = NULL;
		char err[256] = "x";
		enum calendar_year got;

		if (calendar_parse(k->text, strlen(k->text), "t.txt", &c, err, sizeof(err)) != 0)
			fail_msg("case %zu: unexpected error: %s", i, err);
		got = calendar_year_state(c, k->year);
		if (got != k->state)
			fail_msg("case %zu: year %d: state %d, expected %d", i, k->year, got,
				 k->state);
		assert_int_equal(calendar_covers(c, k->year),
				 k->state == CALENDAR_YEAR_COMPLETE);
		calendar_free(c);
	}
}

/* The dates of a provisional year count like any others. */
static void test_provisional_dates_count(void **state)
{
	const char *text = "year 2027 provisional\n2027-02-05 holiday 春节（除夕）\n"
			   "2027-02-08 holiday 春节（初三）\n";
	struct calendar *c = NULL;
	int64_t r = 0;

	(void)state;
	assert_int_equal(calendar_parse(text, strlen(text), "t.txt", &c, NULL, 0), 0);
	assert_false(calendar_is_workday(c, 2027, 2, 5));
	assert_false(calendar_is_workday(c, 2027, 2, 8));
	assert_true(calendar_is_workday(c, 2027, 2, 9));
	assert_int_equal(calendar_add_workdays(c, cst("2027-02-04 10:00:00"), 2, &r), 0);
	assert_int_equal(r, cst("2027-02-10 10:00:00"));
	calendar_free(c);
}

/* ---- the format: accepted forms ----------------------------------------- */

struct ok_case {
	const char *text;
	size_t len;             /* 0: strlen(text) */
	int y, m, d;            /* a date to look up */
	bool workday;
	int covered;            /* a year that must be covered, or 0 */
	int not_covered;        /* a year that must not be, or 0 */
};

static const struct ok_case ok_cases[] = {
	{ "", 0, 2026, 10, 1, true, 0, 2026 },
	{ "# nothing but comments\n\n   \t\n", 0, 2026, 10, 10, false, 0, 2026 },
	{ "year 2026\n", 0, 2026, 10, 1, true, 2026, 2027 },
	{ "year 2030\t# comment\n2030-01-01\tholiday\t元旦 a note with words\n", 0,
	  2030, 1, 1, false, 2030, 2029 },
	{ "\xEF\xBB\xBFyear 2026\r\n2026-10-12 holiday 本地停电\r\n", 0,
	  2026, 10, 12, false, 2026, 0 },
	{ "year 2026\n2026-03-14\xE3\x80\x80workday\xE3\x80\x80补班\n", 0,
	  2026, 3, 14, true, 2026, 0 },
	{ "year 2026\n2026-03-16 HOLIDAY", 0, 2026, 3, 16, false, 2026, 0 },
	{ "  year 2026  \n  2026-03-15 workday#note\n", 0, 2026, 3, 15, true, 2026, 0 },
	{ "year 2024\n2024-02-29 holiday leap day\n", 0, 2024, 2, 29, false, 2024, 0 },
	{ "year 2012\n2011-12-31 workday 元旦调休 (in the year before)\n", 0,
	  2011, 12, 31, true, 2012, 2011 },
	{ "year 2027\nyear 2026\n", 0, 2026, 1, 1, true, 2027, 2028 },
	{ "year 2026\n2026-10-12 holiday\n\n", 0, 2026, 10, 13, true, 2026, 0 },
};

static void test_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(ok_cases); i++) {
		const struct ok_case *k = &ok_cases[i];
		size_t len = k->len ? k->len : strlen(k->text);
		struct calendar *c = NULL;
		char err[256] = "x";

		if (calendar_parse(k->text, len, "t.txt", &c, err, sizeof(err)) != 0)
			fail_msg("case %zu: unexpected error: %s", i, err);
		assert_string_equal(err, "");
		if (calendar_is_workday(c, k->y, k->m, k->d) != k->workday)
			fail_msg("case %zu: %04d-%02d-%02d wrong", i, k->y, k->m, k->d);
		if (k->covered)
			assert_true(calendar_covers(c, k->covered));
		if (k->not_covered)
			assert_false(calendar_covers(c, k->not_covered));
		calendar_free(c);
	}
}

/* ---- the format: errors ------------------------------------------------- */

struct err_case {
	const char *text;
	size_t len;             /* 0: strlen(text) */
	int rc;
	const char *msg;        /* the whole message */
};

static const struct err_case err_cases[] = {
	{ "year 2026\n2026-02-30 holiday x\n", 0, -EINVAL,
	  "t.txt:2: bad date '2026-02-30' (expected YYYY-MM-DD, a real date in 1900..9999)" },
	{ "year 2025\n2025-02-29 holiday\n", 0, -EINVAL,
	  "t.txt:2: bad date '2025-02-29' (expected YYYY-MM-DD, a real date in 1900..9999)" },
	{ "year 2026\n2026/10/01 holiday\n", 0, -EINVAL,
	  "t.txt:2: bad date '2026/10/01' (expected YYYY-MM-DD, a real date in 1900..9999)" },
	{ "year 2026\n2026-1-01 holiday\n", 0, -EINVAL,
	  "t.txt:2: bad date '2026-1-01' (expected YYYY-MM-DD, a real date in 1900..9999)" },
	{ "year 2026\n2026-10-0x holiday\n", 0, -EINVAL,
	  "t.txt:2: bad date '2026-10-0x' (expected YYYY-MM-DD, a real date in 1900..9999)" },
	{ "year 2026\n\n\n2026\xEF\xBC\x8D" "10-01 holiday\n", 0, -EINVAL,
	  "t.txt:4: bad date '2026\xEF\xBC\x8D" "10-01' (expected YYYY-MM-DD, a real date in 1900..9999)" },
	{ "year 2026\n2026-10-01 vacation\n", 0, -EINVAL,
	  "t.txt:2: unknown word 'vacation' (expected 'holiday' or 'workday')" },
	{ "year 2026\n2026-10-01 放假\n", 0, -EINVAL,
	  "t.txt:2: unknown word '放假' (expected 'holiday' or 'workday')" },
	{ "year 2026\n2026-10-01\n", 0, -EINVAL,
	  "t.txt:2: 2026-10-01: 'holiday' or 'workday' missing" },
	{ "year 2026\n2026-10-12 workday\n", 0, -EINVAL,
	  "t.txt:2: 2026-10-12 is a Monday: only a Saturday or Sunday can be a make-up workday" },
	{ "year 2026\n# c\n2026-10-01 holiday\n\n2026-10-01 holiday again\n", 0, -EINVAL,
	  "t.txt:5: 2026-10-01 listed twice (first on line 3)" },
	{ "year 2026\n2026-10-10 workday\n2026-10-10 holiday\n", 0, -EINVAL,
	  "t.txt:3: 2026-10-10 is both holiday and workday (line 2)" },
	{ "year 2026\n2026-10-10 holiday\n2026-10-03 holiday\n2026-10-03 holiday\n"
	  "2026-10-10 workday\n", 0, -EINVAL,
	  "t.txt:4: 2026-10-03 listed twice (first on line 3)" },
	{ "year 2026\nyear 2026\n", 0, -EINVAL,
	  "t.txt:2: year 2026 declared twice (first on line 1)" },
	{ "year 26\n", 0, -EINVAL, "t.txt:1: bad year '26' (expected YYYY)" },
	{ "year 0999\n", 0, -EINVAL, "t.txt:1: bad year '0999' (expected YYYY)" },
	{ "year\n", 0, -EINVAL, "t.txt:1: 'year' needs a year, e.g. 'year 2026'" },
	{ "year 2026 2027\n", 0, -EINVAL,
	  "t.txt:1: unexpected '2027' after the year (only 'provisional' may follow it)" },
	{ "year 2026\nyear 2027 complete\n", 0, -EINVAL,
	  "t.txt:2: unexpected 'complete' after the year (only 'provisional' may follow it)" },
	{ "year 2026\n\nyear 2027 provisional x\n", 0, -EINVAL,
	  "t.txt:3: unexpected 'x' after 'provisional'" },
	{ "year 2027 provisional provisional\n", 0, -EINVAL,
	  "t.txt:1: unexpected 'provisional' after 'provisional'" },
	{ "year 2027 Provisional\n", 0, -EINVAL,
	  "t.txt:1: unexpected 'Provisional' after the year (only 'provisional' may follow it)" },
	{ "year 2027 provisional\n# c\nyear 2027\n", 0, -EINVAL,
	  "t.txt:3: year 2027 declared twice (first on line 1)" },
	{ "year 27 provisional\n", 0, -EINVAL, "t.txt:1: bad year '27' (expected YYYY)" },
	{ "year provisional\n", 0, -EINVAL, "t.txt:1: bad year 'provisional' (expected YYYY)" },
	{ "2026-10-01 holiday\n", 0, -EINVAL,
	  "t.txt: dates but no 'year' line: say which years this file holds "
	  "completely, e.g. 'year 2026'" },
	{ "year 2026\n2026-10-01 holiday\0\n", 30, -EINVAL,
	  "t.txt:2: NUL byte in the line (not a text file?)" },
	{ "year 2026\nyear 2026\xEF\xBB\xBF\n", 0, -EINVAL,
	  "t.txt:2: bad year '2026\xEF\xBB\xBF' (expected YYYY)" },
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(err_cases); i++) {
		const struct err_case *k = &err_cases[i];
		size_t len = k->len ? k->len : strlen(k->text);
		static int sentinel;
		struct calendar *c = (struct calendar *)&sentinel;   /* must stay untouched */
		char err[256] = "";
		int r = calendar_parse(k->text, len, "t.txt", &c, err, sizeof(err));

		if (r != k->rc || strcmp(err, k->msg) != 0)
			fail_msg("case %zu: rc %d, \"%s\"; expected %d, \"%s\"", i, r, err,
				 k->rc, k->msg);
		assert_ptr_equal(c, (struct calendar *)&sentinel);
	}
}

static void test_parse_limits(void **state)
{
	char *text = xmalloc(CALENDAR_MAX_LINE + 16);
	struct calendar *c = NULL;
	char err[256];
	size_t n;

	(void)state;
	memcpy(text, "# ", 2);
	memset(text + 2, 'x', CALENDAR_MAX_LINE - 2);
	text[CALENDAR_MAX_LINE] = '\n';
	/* exactly CALENDAR_MAX_LINE bytes: fine */
	assert_int_equal(calendar_parse(text, CALENDAR_MAX_LINE + 1, "t", &c, err,
					sizeof(err)), 0);
	calendar_free(c);
	c = NULL;
	/* one more: refused */
	text[CALENDAR_MAX_LINE] = 'x';
	text[CALENDAR_MAX_LINE + 1] = '\n';
	assert_int_equal(calendar_parse(text, CALENDAR_MAX_LINE + 2, "t", &c, err,
					sizeof(err)), -E2BIG);
	assert_string_equal(err, "t:1: line longer than 1024 bytes");
	assert_null(c);
	free(text);
	/* too many dates: every day from 1900 on as a holiday */
	n = (size_t)CALENDAR_MAX_ENTRIES + 1;
	text = xmalloc(16 + n * 20);
	{
		size_t off = 0;
		struct tm tm = { .tm_year = 0, .tm_mon = 0, .tm_mday = 1 };

		off += (size_t)snprintf(text, 16, "year 1900\n");
		for (size_t i = 0; i < n; i++) {
			time_t t = timegm(&tm);
			struct tm d;

			assert_non_null(gmtime_r(&t, &d));
			off += strftime(text + off, 20, "%Y-%m-%d holiday\n", &d);
			tm.tm_mday++;
		}
		assert_int_equal(calendar_parse(text, off, "t", &c, err, sizeof(err)), -E2BIG);
		assert_string_equal(err, "t:20002: more than 20000 dates");
	}
	free(text);
	/* a small error buffer is filled, cut and terminated */
	assert_int_equal(calendar_parse("year x\n", 7, "t", &c, err, 8), -EINVAL);
	assert_string_equal(err, "t:1: ba");
	/* no error buffer at all */
	assert_int_equal(calendar_parse("year x\n", 7, "t", &c, NULL, 0), -EINVAL);
	assert_null(c);
}

/* ---- files -------------------------------------------------------------- */

static char *read_file(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f)
		fail_msg("cannot open %s (run from the source tree)", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	assert_int_equal(fseek(f, 0, SEEK_SET), 0);
	buf = xmalloc((size_t)n);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*ret_len = (size_t)n;
	return buf;
}

/* The compiled-in text is conf/calendar-cn.txt, byte for byte. */
static void test_builtin_is_conf_file(void **state)
{
	size_t len, blen;
	char *file = read_file(CONF_CN, &len);
	const char *builtin = calendar_builtin_text(&blen);

	(void)state;
	if (len != blen || memcmp(file, builtin, len) != 0)
		fail_msg("src/calendar_cn.c differs from " CONF_CN
			 ": regenerate it (see its header comment)");
	assert_int_equal(strlen(builtin), blen);
	assert_ptr_equal(calendar_builtin_text(NULL), builtin);
	free(file);
}

/* And both give the same calendar, day by day. */
static void test_builtin_equals_loaded(void **state)
{
	const struct calendar *b = *state;
	struct calendar *f = NULL;
	char err[256];
	int64_t day;

	assert_int_equal(calendar_load(CONF_CN, &f, err, sizeof(err)), 0);
	for (day = 0; day < 4 * 366; day++) {
		struct tm tm = { .tm_year = 125, .tm_mon = 0, .tm_mday = 1 + (int)day };

		timegm(&tm);
		if (calendar_is_workday(b, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday) !=
		    calendar_is_workday(f, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday))
			fail_msg("%04d-%02d-%02d differs", tm.tm_year + 1900, tm.tm_mon + 1,
				 tm.tm_mday);
	}
	for (int y = 1990; y <= 2100; y++) {
		assert_int_equal(calendar_covers(b, y), calendar_covers(f, y));
		assert_int_equal(calendar_year_state(b, y), calendar_year_state(f, y));
	}
	calendar_free(f);
}

static void test_load_errors(void **state)
{
	char path[] = "/tmp/test_calendar.XXXXXX";
	const char *bad = "year 2026\n2026-10-01 holidya\n";
	struct calendar *c = NULL;
	char err[512], want[600];
	int fd;

	(void)state;
	assert_int_equal(calendar_load("/nonexistent/calendar.txt", &c, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/calendar.txt: No such file or directory");
	assert_null(c);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	assert_int_equal(calendar_load(path, &c, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: unknown word 'holidya' (expected 'holiday' "
		 "or 'workday')", path);
	assert_string_equal(err, want);
	assert_null(c);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_is_shanghai),
		cmocka_unit_test_setup_teardown(test_is_workday, builtin_setup, builtin_teardown),
		cmocka_unit_test_setup_teardown(test_builtin_2026_count, builtin_setup,
						builtin_teardown),
		cmocka_unit_test_setup_teardown(test_builtin_2027_count, builtin_setup,
						builtin_teardown),
		cmocka_unit_test(test_null_calendar),
		cmocka_unit_test_setup_teardown(test_add_workdays, builtin_setup, builtin_teardown),
		cmocka_unit_test_setup_teardown(test_weekend_holiday_tiaoxiu, builtin_setup,
						builtin_teardown),
		cmocka_unit_test_setup_teardown(test_add_workdays_range, builtin_setup,
						builtin_teardown),
		cmocka_unit_test(test_add_workdays_dst),
		cmocka_unit_test_setup_teardown(test_covers, builtin_setup, builtin_teardown),
		cmocka_unit_test(test_year_state),
		cmocka_unit_test(test_provisional_dates_count),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_builtin_is_conf_file),
		cmocka_unit_test_setup_teardown(test_builtin_equals_loaded, builtin_setup,
						builtin_teardown),
		cmocka_unit_test(test_load_errors),
	};

	use_tz("Asia/Shanghai");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
