/*
 * calendar.h — the working-day calendar for ticket deadlines. Pure: no
 * logging, no global state; errors come back as text for the caller to
 * report.
 *
 * A calendar says which dates are days off: Saturday and Sunday, plus the
 * listed holidays, minus the listed make-up working days (调休上班). It
 * also says, per year, whether it holds that year's complete arrangement,
 * only a provisional part of it (`year YYYY provisional`: the statutory
 * holidays, before the official notice with its 调休 is published), or
 * nothing, so that the daemon can warn when a deadline falls in a year
 * the calendar does not know completely (with nothing, only weekends are
 * days off).
 *
 * The text format is described in docs/calendar.md and at the top of
 * conf/calendar-cn.txt. That file is also compiled in (src/calendar_cn.c)
 * as the default calendar; a unit test keeps the two byte-identical.
 *
 * Times: deadlines are epoch seconds; dates and clock times are local time
 * of the process time zone (TZ, which the daemon sets from `timezone`).
 */
#ifndef GRIDLINE_CALENDAR_H
#define GRIDLINE_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Limits on an untrusted calendar text. */
#define CALENDAR_MAX_BYTES   (1024 * 1024)   /* whole file */
#define CALENDAR_MAX_LINE    1024            /* bytes in one line */
#define CALENDAR_MAX_ENTRIES 20000           /* holiday + workday lines */
#define CALENDAR_MAX_YEARS   200             /* `year` lines */
/* The most working days calendar_add_workdays() will count (about ten years). */
#define CALENDAR_MAX_WORKDAYS 2600

struct calendar;

/* What a calendar holds for one year (its `year` line). */
enum calendar_year {
	CALENDAR_YEAR_NONE,             /* no `year` line: weekends (and any listed dates) only */
	CALENDAR_YEAR_PROVISIONAL,      /* `year YYYY provisional`: the certain days only */
	CALENDAR_YEAR_COMPLETE,         /* `year YYYY`: the complete arrangement */
};

/*
 * The built-in China calendar: the text of conf/calendar-cn.txt compiled
 * into the binary. Returns a new calendar; caller frees with
 * calendar_free(). Never NULL (the text is checked by the unit tests; a
 * parse failure would be a build defect and aborts).
 */
struct calendar *calendar_builtin(void);

/*
 * The source text of the built-in calendar (NUL-terminated UTF-8, static
 * storage), e.g. for printing as a starting point for an office's own file.
 * *ret_len (may be NULL) receives its length in bytes.
 */
const char *calendar_builtin_text(size_t *ret_len);

/*
 * Parse len bytes of calendar text. name is used in error messages (a file
 * name, or something like "<builtin>"). On success returns 0 and stores a
 * new calendar in *ret (caller frees). On failure returns -EINVAL (bad
 * content) or -E2BIG (a limit above exceeded), leaves *ret untouched and
 * writes "name:line: what" into err[errsize] (err may be NULL). Only the
 * first problem is reported.
 */
int calendar_parse(const char *text, size_t len, const char *name,
		   struct calendar **ret, char *err, size_t errsize);

/*
 * Read and parse the calendar file at path. Returns 0 and a new calendar
 * in *ret, or a negative errno (from open/read, -EINVAL, -E2BIG) with
 * *ret untouched and "path: reason" or "path:line: what" in err[errsize].
 */
int calendar_load(const char *path, struct calendar **ret, char *err,
		  size_t errsize);

/* Free a calendar; NULL is ignored. */
void calendar_free(struct calendar *c);

/*
 * Whether year-month-day is a working day: Monday to Friday unless listed
 * as a holiday, Saturday and Sunday only when listed as a workday. c may be
 * NULL, meaning no listed days (weekends only). An impossible date, or one
 * outside the years 1900..9999, returns false.
 */
bool calendar_is_workday(const struct calendar *c, int year, int month, int day);

/*
 * What the calendar holds for year: CALENDAR_YEAR_COMPLETE for a plain
 * `year YYYY` line, CALENDAR_YEAR_PROVISIONAL for `year YYYY provisional`
 * (the dates listed are certain, but days off and make-up working days of
 * the official arrangement are still missing), CALENDAR_YEAR_NONE for no
 * `year` line, for any year outside 1900..9999 and for a NULL calendar.
 * Dates listed in that year count whatever the state.
 */
enum calendar_year calendar_year_state(const struct calendar *c, int year);

/*
 * Whether the calendar holds year's complete holiday arrangement, i.e.
 * calendar_year_state() is CALENDAR_YEAR_COMPLETE. False for a provisional
 * year, a year without a `year` line and a NULL calendar.
 */
bool calendar_covers(const struct calendar *c, int year);

/*
 * The deadline n working days after t (epoch seconds): the same local clock
 * time (hour, minute, second of t in the process time zone) on the nth
 * working day after t's local date. Days are counted from the day after
 * t's date whether or not t's own date is a working day, so 1 working day
 * after Saturday 10:00 is Monday 10:00 (on an ordinary week) and after
 * Friday 10:00 is also Monday 10:00. n = 0 gives t itself.
 *
 * The result is found with mktime(tm_isdst = -1): where that clock time
 * does not exist on the target day (a DST gap) it is shifted the way
 * mktime shifts it; where it exists twice, mktime picks one. Zones without
 * DST (Asia/Shanghai) are unaffected.
 *
 * Returns 0 and stores the deadline in *ret_t, or -ERANGE (n greater than
 * CALENDAR_MAX_WORKDAYS, or t or the result not representable) with *ret_t
 * untouched. c may be NULL (weekends only).
 */
int calendar_add_workdays(const struct calendar *c, int64_t t, unsigned n,
			  int64_t *ret_t);

#endif
