/*
 * deadline.c — time limits on a working-day calendar, and when the chase
 * of a deadline reaches each stage. Pure: see deadline.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deadline.h"

int tlimit_parse(const char *s, struct tlimit *ret)
{
	char *end;
	unsigned long n;

	if (!s || !*s || strcmp(s, "none") == 0) {
		*ret = (struct tlimit){ TL_NONE, 0 };
		return 0;
	}
	if (strcmp(s, "eod") == 0) {
		*ret = (struct tlimit){ TL_EOD, 0 };
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(s, &end, 10);
	if (errno || n == 0)
		return -EINVAL;
	if (strcmp(end, "m") == 0 && n <= 60 * 24 * 60)
		*ret = (struct tlimit){ TL_MINUTES, (unsigned)n };
	else if (strcmp(end, "h") == 0 && n <= 24 * 60)
		*ret = (struct tlimit){ TL_MINUTES, (unsigned)n * 60 };
	else if (strcmp(end, "wd") == 0 && n <= 60)
		*ret = (struct tlimit){ TL_WORKDAYS, (unsigned)n };
	else
		return -EINVAL;
	return 0;
}

const char *tlimit_format(const struct tlimit *l, char *buf, size_t size)
{
	switch (l->kind) {
	case TL_MINUTES:
		if (l->n % 60 == 0)
			snprintf(buf, size, "%uh", l->n / 60);
		else
			snprintf(buf, size, "%um", l->n);
		break;
	case TL_WORKDAYS:
		snprintf(buf, size, "%uwd", l->n);
		break;
	case TL_EOD:
		snprintf(buf, size, "eod");
		break;
	default:
		snprintf(buf, size, "none");
		break;
	}
	return buf;
}

static bool workday_of(const struct calendar *cal, const struct tm *tm)
{
	if (cal)
		return calendar_is_workday(cal, tm->tm_year + 1900, tm->tm_mon + 1, tm->tm_mday);
	return tm->tm_wday != 0 && tm->tm_wday != 6;
}

/* day_end of the day of t, or of the next working day if that is past or off. */
static int64_t end_of_working_day(const struct calendar *cal, int day_end, int64_t from)
{
	time_t t = (time_t)from;
	struct tm tm;

	for (int i = 0; i < 400; i++) {
		localtime_r(&t, &tm);
		tm.tm_hour = day_end / 60;
		tm.tm_min = day_end % 60;
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		time_t end = mktime(&tm);
		if (workday_of(cal, &tm) && end > (time_t)from)
			return (int64_t)end;
		/* the next day, at noon (clear of any DST change) */
		localtime_r(&t, &tm);
		tm.tm_mday += 1;
		tm.tm_hour = 12;
		tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		t = mktime(&tm);
	}
	return from;   /* 400 days off in a row: a broken calendar */
}

int64_t tlimit_due(const struct tlimit *l, const struct calendar *cal, int day_end,
		   int64_t from)
{
	int64_t due;

	switch (l->kind) {
	case TL_MINUTES:
		return from + (int64_t)l->n * 60;
	case TL_WORKDAYS:   /* a NULL calendar counts weekends only */
		if (calendar_add_workdays(cal, from, l->n, &due) == 0)
			return due;
		return from + (int64_t)l->n * 86400;
	case TL_EOD:
		return end_of_working_day(cal, day_end, from);
	default:
		return 0;
	}
}

int64_t deadline_stage_at(int stage, int64_t s, int64_t d)
{
	int64_t span = d > s ? d - s : 0, late = span / 2;

	switch (stage) {
	case 1:
		return d - span / 4;
	case 2:
		return d;
	case 3:
		return d + (late > DEADLINE_STAGE3_MIN ? late : DEADLINE_STAGE3_MIN);
	default:
		return 0;
	}
}

int deadline_stage_now(int64_t s, int64_t d, int64_t now)
{
	int stage = 0;

	while (stage < DEADLINE_STAGES && now >= deadline_stage_at(stage + 1, s, d))
		stage++;
	return stage;
}
