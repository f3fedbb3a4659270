/*
 * calendar.c — the working-day calendar: parsing the text format, lookups
 * and deadline arithmetic. Pure: no logging; errors go into the caller's
 * buffer as "name:line: what".
 *
 * Dates are held as day numbers (days since 1970-01-01 in the proleptic
 * Gregorian calendar), so that weekdays and "the next day" are integer
 * arithmetic and only the final deadline goes through mktime().
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "calendar.h"
#include "util.h"

#define YEAR_MIN 1900
#define YEAR_MAX 9999
#define IDEOGRAPHIC_SPACE "\xE3\x80\x80"   /* U+3000, typed by Chinese IMEs */
#define BOM "\xEF\xBB\xBF"                 /* Windows Notepad writes one */

struct entry {
	int64_t day;            /* day number */
	unsigned line;          /* where it was listed, for error messages */
	bool workday;           /* true: 调休上班; false: holiday */
};

struct year_decl {
	int year;
	unsigned line;
	bool provisional;       /* `year YYYY provisional` */
};

struct calendar {
	struct entry *entries;  /* sorted by day, no two alike; owned */
	size_t n_entries;
	struct year_decl *years; /* sorted by year, no two alike; owned */
	size_t n_years;
};

struct parser {
	const char *name;
	unsigned line;
	char *err;
	size_t errsize;
	struct calendar *cal;
	size_t cap_entries;
	size_t cap_years;
};

static const char *const weekday_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
};

/* ---- date arithmetic ---------------------------------------------------- */

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && is_leap(y))
		return 29;
	return mdays[m - 1];
}

static bool valid_date(int y, int m, int d)
{
	if (y < YEAR_MIN || y > YEAR_MAX || m < 1 || m > 12)
		return false;
	return d >= 1 && d <= days_in_month(y, m);
}

/* Days since 1970-01-01 (H. Hinnant's days_from_civil). */
static int64_t day_number(int y, int m, int d)
{
	int64_t yy = y - (m <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

/* 0 = Sunday ... 6 = Saturday; 1970-01-01 was a Thursday. */
static int weekday(int64_t day)
{
	return (int)(((day + 4) % 7 + 7) % 7);
}

static int entry_cmp_day(const void *key, const void *elem)
{
	int64_t k = *(const int64_t *)key;
	const struct entry *e = elem;

	return (k > e->day) - (k < e->day);
}

static bool day_is_workday(const struct calendar *c, int64_t day)
{
	const struct entry *e = NULL;
	int wd;

	if (c && c->n_entries)
		e = bsearch(&day, c->entries, c->n_entries, sizeof(*e), entry_cmp_day);
	if (e)
		return e->workday;
	wd = weekday(day);
	return wd != 0 && wd != 6;
}

/* ---- queries ------------------------------------------------------------ */

bool calendar_is_workday(const struct calendar *c, int year, int month, int day)
{
	if (!valid_date(year, month, day))
		return false;
	return day_is_workday(c, day_number(year, month, day));
}

enum calendar_year calendar_year_state(const struct calendar *c, int year)
{
	if (!c)
		return CALENDAR_YEAR_NONE;
	for (size_t i = 0; i < c->n_years; i++)
		if (c->years[i].year == year)
			return c->years[i].provisional ? CALENDAR_YEAR_PROVISIONAL :
							 CALENDAR_YEAR_COMPLETE;
	return CALENDAR_YEAR_NONE;
}

bool calendar_covers(const struct calendar *c, int year)
{
	return calendar_year_state(c, year) == CALENDAR_YEAR_COMPLETE;
}

int calendar_add_workdays(const struct calendar *c, int64_t t, unsigned n,
			  int64_t *ret_t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	unsigned counted = 0;
	int64_t start;
	int delta = 0;
	time_t r;

	if (n > CALENDAR_MAX_WORKDAYS || (int64_t)tt != t)
		return -ERANGE;
	if (n == 0) {
		*ret_t = t;
		return 0;
	}
	if (!localtime_r(&tt, &tm))
		return -ERANGE;
	if (!valid_date(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday))
		return -ERANGE;
	start = day_number(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	/*
	 * Ends: at most CALENDAR_MAX_ENTRIES listed holidays can stand in the
	 * way, and every 7 unlisted days hold 5 working days.
	 */
	while (counted < n) {
		delta++;
		if (day_is_workday(c, start + delta))
			counted++;
	}
	tm.tm_mday += delta;
	tm.tm_isdst = -1;
	r = mktime(&tm);
	if (r == (time_t)-1)
		return -ERANGE;
	*ret_t = (int64_t)r;
	return 0;
}

/* ---- parsing ------------------------------------------------------------ */

static int parse_fail(struct parser *p, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write "name:line: message" (or "name: message" for line 0); returns r. */
static int parse_fail(struct parser *p, int r, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!p->err || p->errsize == 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);   /* a cut message is still useful */
	va_end(ap);
	if (p->line)
		snprintf(p->err, p->errsize, "%s:%u: %s", p->name, p->line, msg);
	else
		snprintf(p->err, p->errsize, "%s: %s", p->name, msg);
	return r;
}

/* Length of the white space (space, tab, U+3000) at s. */
static size_t space_len(const char *s)
{
	if (*s == ' ' || *s == '\t')
		return 1;
	if (strncmp(s, IDEOGRAPHIC_SPACE, 3) == 0)
		return 3;
	return 0;
}

/*
 * Split the NUL-terminated line s (comment already cut) into up to two
 * words and the rest, in place. Returns the number of words found (0-2).
 */
static int split_line(char *s, char **w1, char **w2, char **rest)
{
	char **words[2] = { w1, w2 };
	int n = 0;
	size_t k;

	*w1 = *w2 = *rest = NULL;
	for (;;) {
		while ((k = space_len(s)) > 0)
			s += k;
		if (*s == '\0')
			return n;
		if (n == 2) {
			*rest = s;
			return n;
		}
		*words[n++] = s;
		while (*s && space_len(s) == 0)
			s++;
		if (*s == '\0')
			return n;
		k = space_len(s);
		*s = '\0';
		s += k;
	}
}

/* Parse exactly four ASCII digits, or two: returns the value or -1. */
static int parse_digits(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* "YYYY-MM-DD" into a day number; false if malformed or impossible. */
static bool parse_date(const char *s, int *ret_year, int64_t *ret_day)
{
	int y, m, d;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	y = parse_digits(s, 4);
	m = parse_digits(s + 5, 2);
	d = parse_digits(s + 8, 2);
	if (y < 0 || m < 0 || d < 0 || !valid_date(y, m, d))
		return false;
	*ret_year = y;
	*ret_day = day_number(y, m, d);
	return true;
}

/*
 * What follows the year: nothing, or the one word "provisional". rest is
 * the rest of the line (NULL if none), split in place.
 */
static int parse_year_rest(struct parser *p, char *rest, bool *ret_provisional)
{
	char *word, *extra, *more;

	*ret_provisional = false;
	if (!rest)
		return 0;
	split_line(rest, &word, &extra, &more);
	if (strcmp(word, "provisional") != 0)
		return parse_fail(p, -EINVAL, "unexpected '%.40s' after the year (only "
				  "'provisional' may follow it)", word);
	if (extra)
		return parse_fail(p, -EINVAL, "unexpected '%.40s' after 'provisional'", extra);
	*ret_provisional = true;
	return 0;
}

static int parse_year_line(struct parser *p, const char *word, char *rest)
{
	struct calendar *c = p->cal;
	bool provisional;
	int y, r;

	if (!word)
		return parse_fail(p, -EINVAL, "'year' needs a year, e.g. 'year 2026'");
	r = parse_year_rest(p, rest, &provisional);
	if (r < 0)
		return r;
	y = strlen(word) == 4 ? parse_digits(word, 4) : -1;
	if (y < YEAR_MIN || y > YEAR_MAX)
		return parse_fail(p, -EINVAL, "bad year '%.40s' (expected YYYY)", word);
	for (size_t i = 0; i < c->n_years; i++)
		if (c->years[i].year == y)
			return parse_fail(p, -EINVAL, "year %d declared twice (first on line %u)",
					  y, c->years[i].line);
	if (c->n_years == CALENDAR_MAX_YEARS)
		return parse_fail(p, -E2BIG, "more than %d 'year' lines", CALENDAR_MAX_YEARS);
	if (c->n_years == p->cap_years) {
		p->cap_years = p->cap_years ? 2 * p->cap_years : 8;
		c->years = xrealloc(c->years, p->cap_years * sizeof(*c->years));
	}
	c->years[c->n_years++] = (struct year_decl){
		.year = y, .line = p->line, .provisional = provisional,
	};
	return 0;
}

static int parse_date_line(struct parser *p, const char *date, const char *kind)
{
	struct calendar *c = p->cal;
	bool workday;
	int64_t day;
	int y, wd;

	if (!parse_date(date, &y, &day))
		return parse_fail(p, -EINVAL, "bad date '%.40s' (expected YYYY-MM-DD, "
				  "a real date in %d..%d)", date, YEAR_MIN, YEAR_MAX);
	if (!kind)
		return parse_fail(p, -EINVAL, "%s: 'holiday' or 'workday' missing", date);
	if (strcasecmp(kind, "holiday") == 0)
		workday = false;
	else if (strcasecmp(kind, "workday") == 0)
		workday = true;
	else
		return parse_fail(p, -EINVAL, "unknown word '%.40s' (expected 'holiday' "
				  "or 'workday')", kind);
	wd = weekday(day);
	if (workday && wd != 0 && wd != 6)
		return parse_fail(p, -EINVAL, "%s is a %s: only a Saturday or Sunday "
				  "can be a make-up workday", date, weekday_names[wd]);
	if (c->n_entries == CALENDAR_MAX_ENTRIES)
		return parse_fail(p, -E2BIG, "more than %d dates", CALENDAR_MAX_ENTRIES);
	if (c->n_entries == p->cap_entries) {
		p->cap_entries = p->cap_entries ? 2 * p->cap_entries : 64;
		c->entries = xrealloc(c->entries, p->cap_entries * sizeof(*c->entries));
	}
	c->entries[c->n_entries++] = (struct entry){
		.day = day, .line = p->line, .workday = workday,
	};
	return 0;
}

/* One line, without its newline (len bytes at s). */
static int parse_line(struct parser *p, const char *s, size_t len)
{
	char buf[CALENDAR_MAX_LINE + 1];
	char *w1, *w2, *rest, *hash;

	if (len > CALENDAR_MAX_LINE)
		return parse_fail(p, -E2BIG, "line longer than %d bytes", CALENDAR_MAX_LINE);
	if (memchr(s, '\0', len))
		return parse_fail(p, -EINVAL, "NUL byte in the line (not a text file?)");
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\r')
		buf[len - 1] = '\0';
	hash = strchr(buf, '#');
	if (hash)
		*hash = '\0';
	w1 = buf;
	if (p->line == 1 && strncmp(w1, BOM, 3) == 0)
		w1 += 3;
	if (split_line(w1, &w1, &w2, &rest) == 0)
		return 0;
	if (strcmp(w1, "year") == 0)
		return parse_year_line(p, w2, rest);
	return parse_date_line(p, w1, w2);   /* rest: a note for people */
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->day != y->day)
		return (x->day > y->day) - (x->day < y->day);
	return (x->line > y->line) - (x->line < y->line);
}

static int year_cmp(const void *a, const void *b)
{
	const struct year_decl *x = a, *y = b;

	return (x->year > y->year) - (x->year < y->year);
}

static void format_day(int64_t day, char *buf, size_t size)
{
	time_t t = (time_t)(day * 86400);
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d", &tm) == 0)
		str_copy(buf, size, "?");
}

/*
 * Sort the dates and refuse one listed twice. Of several such pairs the
 * one whose second listing comes first in the file is reported.
 */
static int check_duplicates(struct parser *p)
{
	struct calendar *c = p->cal;
	const struct entry *first = NULL, *dup = NULL;
	char date[16];

	if (c->n_entries)
		qsort(c->entries, c->n_entries, sizeof(*c->entries), entry_cmp);
	for (size_t i = 1; i < c->n_entries; i++) {
		const struct entry *a = &c->entries[i - 1], *b = &c->entries[i];

		if (a->day == b->day && (!dup || b->line < dup->line)) {
			first = a;
			dup = b;
		}
	}
	if (!dup)
		return 0;
	format_day(dup->day, date, sizeof(date));
	p->line = dup->line;
	if (first->workday != dup->workday)
		return parse_fail(p, -EINVAL, "%s is both holiday and workday (line %u)",
				  date, first->line);
	return parse_fail(p, -EINVAL, "%s listed twice (first on line %u)",
			  date, first->line);
}

static int parse_text(struct parser *p, const char *text, size_t len)
{
	size_t off = 0;
	int r;

	if (len > CALENDAR_MAX_BYTES)
		return parse_fail(p, -E2BIG, "larger than %d bytes", CALENDAR_MAX_BYTES);
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;

		p->line++;
		r = parse_line(p, text + off, n);
		if (r < 0)
			return r;
		off += n + (nl ? 1 : 0);
	}
	p->line = 0;
	if (p->cal->n_entries && p->cal->n_years == 0)
		return parse_fail(p, -EINVAL, "dates but no 'year' line: say which "
				  "years this file holds completely, e.g. 'year 2026'");
	r = check_duplicates(p);
	if (r < 0)
		return r;
	if (p->cal->n_years)
		qsort(p->cal->years, p->cal->n_years, sizeof(*p->cal->years), year_cmp);
	return 0;
}

int calendar_parse(const char *text, size_t len, const char *name,
		   struct calendar **ret, char *err, size_t errsize)
{
	struct parser p = {
		.name = name ? name : "<calendar>",
		.err = err,
		.errsize = errsize,
		.cal = xcalloc(1, sizeof(struct calendar)),
	};
	int r;

	if (err && errsize)
		err[0] = '\0';
	r = parse_text(&p, text, len);
	if (r < 0) {
		calendar_free(p.cal);
		return r;
	}
	*ret = p.cal;
	return 0;
}

int calendar_load(const char *path, struct calendar **ret, char *err,
		  size_t errsize)
{
	size_t len;
	char *buf;
	int r;

	r = util_read_file(path, CALENDAR_MAX_BYTES, &buf, &len);
	if (r == -EFBIG) {
		if (err && errsize)
			snprintf(err, errsize, "%s: larger than %d bytes", path, CALENDAR_MAX_BYTES);
		return -E2BIG;
	}
	if (r < 0) {
		if (err && errsize)
			snprintf(err, errsize, "%s: %s", path, strerror(-r));
		return r;
	}
	r = calendar_parse(buf, len, path, ret, err, errsize);
	free(buf);
	return r;
}

void calendar_free(struct calendar *c)
{
	if (!c)
		return;
	free(c->entries);
	free(c->years);
	free(c);
}

struct calendar *calendar_builtin(void)
{
	struct calendar *c = NULL;
	size_t len;
	const char *text = calendar_builtin_text(&len);

	if (calendar_parse(text, len, "<builtin>", &c, NULL, 0) < 0)
		abort();   /* a build defect: test_calendar parses the same text */
	return c;
}
