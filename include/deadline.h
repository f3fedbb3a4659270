/*
 * deadline.h — ticket time limits and the chase that follows them. Pure:
 * no logging, no store; times are epoch seconds, clock times local (TZ).
 *
 * A limit is written "30m" or "2h" (clock minutes or hours), "2wd" (N
 * working days: the same clock time on the Nth working day after, on the
 * calendar) or "eod" (the end of the working day, `day_end`, of the day
 * it starts on — or of the next working day when it starts on a day off
 * or after day_end).
 *
 * The chase of a deadline due at d that started at s has three stages:
 * 1 the assignee is reminded when three quarters of s..d have passed,
 * 2 the grid leader is told at d, 3 the operators at d + max(half of
 * s..d, 15 minutes). Each happens once.
 */
#ifndef GRIDLINE_DEADLINE_H
#define GRIDLINE_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "calendar.h"

enum tlimit_kind { TL_NONE = 0, TL_MINUTES, TL_WORKDAYS, TL_EOD };

struct tlimit {
	enum tlimit_kind kind;
	unsigned n;              /* minutes or working days */
};

#define DEADLINE_STAGES 3
#define DEADLINE_STAGE3_MIN 900   /* seconds after the deadline, at least, before stage 3 */

/* Parse "30m", "2h", "3wd", "eod" (or "" / "none": no limit). 0 or -EINVAL. */
int tlimit_parse(const char *s, struct tlimit *ret);

/* Write l back in the form tlimit_parse() reads, into buf[size]. */
const char *tlimit_format(const struct tlimit *l, char *buf, size_t size);

/*
 * The deadline of limit l started at `from` (0 for TL_NONE). cal may be
 * NULL (weekends only); day_end is minutes after midnight.
 */
int64_t tlimit_due(const struct tlimit *l, const struct calendar *cal, int day_end,
		   int64_t from);

/* When stage (1..3) of the chase of a deadline started at s, due at d, falls. */
int64_t deadline_stage_at(int stage, int64_t s, int64_t d);

/*
 * The stage a chase should have reached at now (0..3), given it started
 * at s, is due at d.
 */
int deadline_stage_now(int64_t s, int64_t d, int64_t now);

#endif
