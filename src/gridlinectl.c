/*
 * gridlinectl.c — the operators' tool. A thin main: global options, then a
 * table of verbs with one small handler each (OpenBSD ntpctl/smtpctl and
 * curl style). Every verb reads the configuration; the reading verbs open
 * the database readonly, so they are safe while gridlined runs (WAL lets
 * readers through a writer's transaction); `residents import` writes the
 * whole file in one transaction, and the operators' ticket verbs (new,
 * assign, close, reopen, note — intake_phone_ticket() and
 * intake_operator()) one transaction each, queueing their texts for the
 * daemon to send.
 *
 * Output is for a terminal by default: a table whose cells pass through
 * text_escape() (SMS text never puts a control character or an escape
 * sequence on the operator's terminal) and whose columns are measured in
 * display columns (CJK characters are two wide). `--json` prints the raw
 * values instead (see docs/gridlinectl.8 for the fields).
 *
 * Exit codes: 0 ok, 1 runtime error (or rejected rows in an import),
 * 2 usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include <jansson.h>

#include "config.h"
#include "csv.h"
#include "intake.h"
#include "log.h"
#include "route.h"
#include "stats.h"
#include "store.h"
#include "text.h"
#include "ticket.h"
#include "util.h"

#ifndef GRIDLINE_VERSION
#define GRIDLINE_VERSION "0.1"
#endif

#define PROG "gridlinectl"
#define EXIT_RUNTIME 1
#define EXIT_USAGE 2
#define IMPORT_MAX_BYTES (16u * 1024 * 1024)
#define TEXT_COLS 30          /* SMS text in a table row */
#define LONG_COLS 40          /* addresses, errors, details in a table row */

struct ctl {
	const char *config_path;
	struct config *cfg;
	struct store *store;
};

struct verb {
	const char *name;
	const char *sub;      /* second word ("ticket show"), or NULL */
	int (*run)(struct ctl *c, int argc, char **argv);
	const char *synopsis;
};

/* ---------------------------------------------------------------------------
 * Display width and tables
 */

/* East Asian Wide/Fullwidth ranges, for when the locale's wcwidth() is no help. */
static bool cp_wide(uint32_t cp)
{
	static const uint32_t wide[][2] = {
		{ 0x1100, 0x115F }, { 0x2E80, 0x303E }, { 0x3041, 0x33FF },
		{ 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF }, { 0xA000, 0xA4CF },
		{ 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF }, { 0xFE30, 0xFE4F },
		{ 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 }, { 0x1F300, 0x1F64F },
		{ 0x1F900, 0x1F9FF }, { 0x20000, 0x3FFFD },
	};

	for (size_t i = 0; i < ELEMENTSOF(wide); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return true;
	return false;
}

static int cp_width(uint32_t cp)
{
	int w = wcwidth((wchar_t)cp);

	if (w >= 0)
		return w;
	return cp_wide(cp) ? 2 : 1;
}

static size_t str_width(const char *s)
{
	size_t w = 0;
	uint32_t cp;

	while (*s) {
		s = text_utf8_next(s, &cp);
		w += (size_t)cp_width(cp);
	}
	return w;
}

/* A new copy of s cut to at most max display columns ("…" marks a cut); 0 = no cut. */
static char *fit_width(const char *s, size_t max)
{
	size_t w = 0, len;
	const char *p = s;
	char *out;
	uint32_t cp;

	if (max == 0 || str_width(s) <= max)
		return xstrdup(s);
	while (*p) {
		const char *next = text_utf8_next(p, &cp);
		size_t cw = (size_t)cp_width(cp);

		if (w + cw > max - 1)
			break;
		w += cw;
		p = next;
	}
	len = (size_t)(p - s);
	out = xmalloc(len + sizeof("…"));
	memcpy(out, s, len);
	memcpy(out + len, "…", sizeof("…"));
	return out;
}

/* s made safe for a terminal (text_escape()), whole; caller frees. NULL -> "". */
static char *escape_dup(const char *s)
{
	size_t size;
	char *out;

	if (!s)
		return xstrdup("");
	/* the worst case, a C1 control, is 2 bytes in and "\u{0085}" out */
	size = 4 * strlen(s) + 16;
	out = xmalloc(size);
	text_escape(s, out, size);
	return out;
}

struct table {
	size_t ncols;
	const size_t *limits;  /* per column max display width, 0 = none; may be NULL */
	char **cells;          /* row-major, escaped and cut, owned */
	size_t nrows;
	size_t cap;
};

/* header may be NULL (no header row); limits is borrowed. */
static void table_init(struct table *t, size_t ncols, const char *const *header,
		       const size_t *limits)
{
	*t = (struct table){ .ncols = ncols, .limits = limits };
	if (!header)
		return;
	/* the header is never cut */
	t->cap = 16;
	t->cells = xcalloc(t->cap * ncols, sizeof(char *));
	for (size_t i = 0; i < ncols; i++)
		t->cells[i] = xstrdup(header[i]);
	t->nrows = 1;
}

/* Add a row of ncols cells (NULL cell = ""); each is escaped and cut. */
static void table_add(struct table *t, const char *const *cells)
{
	if (t->nrows == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
	}
	for (size_t i = 0; i < t->ncols; i++) {
		char *esc = escape_dup(cells[i]);

		t->cells[t->nrows * t->ncols + i] = fit_width(esc, t->limits ? t->limits[i] : 0);
		free(esc);
	}
	t->nrows++;
}

static void table_print(const struct table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof(size_t));

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t i = 0; i < t->ncols; i++) {
			size_t cw = str_width(t->cells[r * t->ncols + i]);

			if (cw > w[i])
				w[i] = cw;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		char **row = &t->cells[r * t->ncols];
		size_t last = t->ncols;

		/* no padding after the last non-empty cell */
		while (last > 1 && !*row[last - 1])
			last--;
		for (size_t i = 0; i < last; i++) {
			fputs(row[i], stdout);
			if (i + 1 < last)
				printf("%*s", (int)(w[i] - str_width(row[i]) + 2), "");
		}
		putchar('\n');
	}
	free(w);
}

static void table_release(struct table *t)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	*t = (struct table){ 0 };
}

/* ---------------------------------------------------------------------------
 * JSON helpers
 */

/* A JSON string of s (invalid UTF-8 repaired), or null for NULL. */
static json_t *jstr(const char *s)
{
	json_t *v;
	char *fixed;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	fixed = text_utf8_fix(s, strlen(s), NULL);
	v = json_string(fixed);
	free(fixed);
	return v ? v : json_null();
}

/* As jstr(), but "" is null too. */
static json_t *jstr_opt(const char *s)
{
	return s && *s ? jstr(s) : json_null();
}

/* Local time with its UTC offset, "2024-05-01T09:30:00+08:00". */
static const char *iso_time(int64_t t, char *buf, size_t size)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t n;

	if (!localtime_r(&tt, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%S%z", &tm) == 0) {
		snprintf(buf, size, "%lld", (long long)t);
		return buf;
	}
	n = strlen(buf);
	if (n >= 5 && n + 1 < size) {          /* +0800 -> +08:00 */
		memmove(buf + n - 1, buf + n - 2, 3);
		buf[n - 2] = ':';
	}
	return buf;
}

/* ISO time string, or null for 0. */
static json_t *jtime(int64_t t)
{
	char buf[40];

	return t ? json_string(iso_time(t, buf, sizeof(buf))) : json_null();
}

/* Print v (consumed) on stdout, pretty and UTF-8. */
static int json_print(json_t *v)
{
	int r = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));

	json_decref(v);
	if (r < 0)
		return -EIO;
	putchar('\n');
	return 0;
}

/* ---------------------------------------------------------------------------
 * Usage, config, database
 */

static const struct verb verbs[];

static void usage(FILE *f)
{
	fprintf(f, "usage: " PROG " [-c CONFIG] VERB [ARGS]\n"
		"       " PROG " --version | -h\n\nverbs:\n");
	for (const struct verb *v = verbs; v->name; v++)
		fprintf(f, "  %s\n", v->synopsis);
	fprintf(f, "\nCONFIG defaults to " CONFIG_DEFAULT_PATH ".\n");
}

/* Usage on stderr; returns EXIT_USAGE. */
static int usage_fail(void)
{
	usage(stderr);
	return EXIT_USAGE;
}

/* "gridlinectl: what", then usage on stderr; returns EXIT_USAGE. */
static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return usage_fail();
}

static int ctl_load_config(struct ctl *c)
{
	struct diag d = { 0 };
	int r = config_load_flags(c->config_path, CONFIG_SKIP_SECRETS, &c->cfg, &d);

	for (size_t i = 0; r < 0 && i < d.n; i++)
		fprintf(stderr, "%s\n", d.lines[i]);
	if (r < 0 && d.n == 0)
		fprintf(stderr, PROG ": %s: %s\n", c->config_path, strerror(-r));
	diag_release(&d);
	if (r < 0)
		return EXIT_RUNTIME;
	/* show times in the community's time zone, as the daemon reckons them */
	if (c->cfg->timezone && *c->cfg->timezone) {
		setenv("TZ", c->cfg->timezone, 1);
		tzset();
	}
	return 0;
}

static int ctl_open_store(struct ctl *c, bool readonly)
{
	const char *path = c->cfg->database;
	char *err = NULL;
	int r = store_open(path, readonly, &c->store, &err);

	if (r == -ENOENT && readonly)
		fprintf(stderr, PROG ": no database at %s (has gridlined run yet?)\n", path);
	else if (r < 0 && err && strncmp(err, path, strlen(path)) == 0)
		fprintf(stderr, PROG ": %s\n", err);
	else if (r < 0)
		fprintf(stderr, PROG ": %s: %s\n", path, err ? err : strerror(-r));
	free(err);
	return r < 0 ? EXIT_RUNTIME : 0;
}

/* Config, then (unless no_db) the database; 0 or an exit code. */
static int ctl_setup(struct ctl *c, bool no_db, bool readonly)
{
	int r = ctl_load_config(c);

	if (r == 0 && !no_db)
		r = ctl_open_store(c, readonly);
	return r;
}

static int store_failed(struct ctl *c, const char *what, int r)
{
	fprintf(stderr, PROG ": %s: %s\n", what,
		r == -EIO && c->store ? store_errmsg(c->store) : strerror(-r));
	return EXIT_RUNTIME;
}

/* Parse a positive decimal integer; false if s is not one. */
static bool parse_int64(const char *s, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > max)
		return false;
	*ret = v;
	return true;
}

/*
 * Options shared by the verbs: --json, --all, -h. Returns -1 when done,
 * else the option character for the caller to handle (EXIT_USAGE as '?').
 */
enum { OPT_JSON = 0x100, OPT_ALL, OPT_STATUS, OPT_GRID, OPT_PHONE, OPT_LIMIT,
       OPT_CATEGORY, OPT_TEXT, OPT_NOTE, OPT_OPERATOR, OPT_SINCE, OPT_UNTIL, OPT_CSV };

static const struct option verb_options[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "all", no_argument, NULL, OPT_ALL },
	{ "status", required_argument, NULL, OPT_STATUS },
	{ "grid", required_argument, NULL, OPT_GRID },
	{ "phone", required_argument, NULL, OPT_PHONE },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "category", required_argument, NULL, OPT_CATEGORY },
	{ "text", required_argument, NULL, OPT_TEXT },
	{ "note", required_argument, NULL, OPT_NOTE },
	{ "operator", required_argument, NULL, OPT_OPERATOR },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "until", required_argument, NULL, OPT_UNTIL },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Option letters/values a verb accepts, as a NUL-terminated int list. */
static bool opt_allowed(const int *allowed, int o)
{
	for (; *allowed; allowed++)
		if (*allowed == o)
			return true;
	return false;
}

/*
 * getopt_long over a verb's argv; an option the verb does not take is a
 * usage error. Returns the option, -1 at the end, or '?' for an error
 * (already reported).
 */
static int verb_getopt(int argc, char **argv, const int *allowed)
{
	int o = getopt_long(argc, argv, "h", verb_options, NULL);

	if (o == -1 || o == '?' || o == 'h')
		return o;
	if (!opt_allowed(allowed, o)) {
		const char *name = "?";

		for (const struct option *opt = verb_options; opt->name; opt++)
			if (opt->val == o)
				name = opt->name;
		fprintf(stderr, "%s: option '--%s' not accepted\n", argv[0], name);
		return '?';
	}
	return o;
}

/*
 * Options of a verb whose only option is --json. Returns 0 to go on, -1
 * after printing the help (exit 0), or EXIT_USAGE (already reported).
 */
static int json_opts(int argc, char **argv, bool *json)
{
	static const int allowed[] = { OPT_JSON, 0 };
	int o;

	while ((o = verb_getopt(argc, argv, allowed)) != -1) {
		switch (o) {
		case 'h': usage(stdout); return -1;
		case OPT_JSON: *json = true; break;
		default: return usage_fail();
		}
	}
	return 0;
}

/* ---------------------------------------------------------------------------
 * tickets, ticket show
 */

static const size_t ticket_limits[] = { 0, 0, 0, 0, 0, 0, 0, TEXT_COLS };

static json_t *ticket_json(const struct ticket *t)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(t->id));
	json_object_set_new(o, "category", jstr(t->category));
	json_object_set_new(o, "status", jstr(ticket_status_name(t->status)));
	json_object_set_new(o, "grid", jstr_opt(t->grid));
	json_object_set_new(o, "assignee", jstr_opt(t->assignee));
	json_object_set_new(o, "phone", jstr(t->phone));
	json_object_set_new(o, "text", jstr(t->text ? t->text : ""));
	json_object_set_new(o, "created_at", jtime(t->created_at));
	json_object_set_new(o, "updated_at", jtime(t->updated_at));
	json_object_set_new(o, "channel", jstr(t->channel));
	json_object_set_new(o, "address", jstr_opt(t->address));
	json_object_set_new(o, "rating", t->rating ? json_integer(t->rating) : json_null());
	json_object_set_new(o, "urgent", json_boolean(t->clk.urgent));
	json_object_set_new(o, "accept_due", jtime(t->clk.accept_due));
	json_object_set_new(o, "done_due", jtime(t->clk.done_due));
	json_object_set_new(o, "accepted_at", jtime(t->clk.accepted_at));
	json_object_set_new(o, "done_at", jtime(t->clk.done_at));
	json_object_set_new(o, "chase_stage", json_integer(t->clk.stage));
	json_object_set_new(o, "next_check", jtime(t->clk.next_check));
	json_object_set_new(o, "rate_asked_at", jtime(t->clk.rate_asked_at));
	return o;
}

struct list_ctx {
	bool json;
	json_t *arr;
	struct table tab;
	const struct ctl *ctl;
};

static int ticket_row(void *ud, const struct ticket *t)
{
	struct list_ctx *lc = ud;
	char id[24], created[32];
	const char *cells[8];

	if (lc->json)
		return json_array_append_new(lc->arr, ticket_json(t)) < 0 ? -ENOMEM : 0;
	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	cells[0] = id;
	cells[1] = ticket_status_name(t->status);
	cells[2] = t->category;
	cells[3] = *t->grid ? t->grid : "-";
	cells[4] = *t->assignee ? t->assignee : "-";
	cells[5] = t->phone;
	cells[6] = util_fmt_time(t->created_at, created, sizeof(created));
	cells[7] = t->text;
	table_add(&lc->tab, cells);
	return 0;
}

/* Start a listing: a JSON array or a table with this header. */
static void list_begin(struct list_ctx *lc, bool json, size_t ncols,
		       const char *const *header, const size_t *limits)
{
	*lc = (struct list_ctx){ .json = json };
	if (json)
		lc->arr = json_array();
	else
		table_init(&lc->tab, ncols, header, limits);
}

/* Print and free a listing; returns an exit code. */
static int list_end(struct list_ctx *lc)
{
	int r = 0;

	if (lc->json) {
		r = json_print(lc->arr);
	} else {
		table_print(&lc->tab);
		table_release(&lc->tab);
	}
	return r < 0 ? EXIT_RUNTIME : 0;
}

static void list_abort(struct list_ctx *lc)
{
	if (lc->json)
		json_decref(lc->arr);
	else
		table_release(&lc->tab);
}

struct tickets_args {
	bool json;
	const char *status;
	const char *grid;
	const char *phone;
	int64_t limit;
};

static int tickets_parse(int argc, char **argv, struct tickets_args *a)
{
	static const int allowed[] = { OPT_JSON, OPT_STATUS, OPT_GRID, OPT_PHONE, OPT_LIMIT, 0 };
	int o;

	while ((o = verb_getopt(argc, argv, allowed)) != -1) {
		switch (o) {
		case 'h': usage(stdout); return -1;
		case OPT_JSON: a->json = true; break;
		case OPT_STATUS: a->status = optarg; break;
		case OPT_GRID: a->grid = optarg; break;
		case OPT_PHONE: a->phone = optarg; break;
		case OPT_LIMIT:
			if (!parse_int64(optarg, 1000000, &a->limit))
				return usage_error("--limit wants a number from 1, not '%s'", optarg);
			break;
		default: return usage_fail();
		}
	}
	if (optind < argc)
		return usage_error("tickets: unexpected argument '%s'", argv[optind]);
	if (a->status && strcmp(a->status, "open") != 0 && ticket_status_from_name(a->status) < 0)
		return usage_error("unknown status '%s' (new, assigned, accepted, done, "
				   "closed, cancelled or open)", a->status);
	return 0;
}

static int cmd_tickets(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = {
		"ID", "STATUS", "CATEGORY", "GRID", "ASSIGNEE", "PHONE", "CREATED", "TEXT",
	};
	struct tickets_args a = { 0 };
	char phone[STORE_ID_MAX];
	struct ticket_filter f = { 0 };
	struct list_ctx lc;
	int r;

	r = tickets_parse(argc, argv, &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	r = ctl_setup(c, false, true);
	if (r != 0)
		return r;
	if (a.phone && phone_normalize(a.phone, c->cfg->country_code, phone, sizeof(phone)) < 0)
		return usage_error("not a phone number: '%s'", a.phone);
	f = (struct ticket_filter){ .status = a.status, .grid = a.grid,
				    .phone = a.phone ? phone : NULL, .limit = (size_t)a.limit };
	list_begin(&lc, a.json, ELEMENTSOF(header), header, ticket_limits);
	r = store_tickets_each(c->store, &f, ticket_row, &lc);
	if (r < 0) {
		list_abort(&lc);
		return store_failed(c, "reading tickets", r);
	}
	return list_end(&lc);
}

static json_t *event_json(const struct ticket_event *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "at", jtime(e->at));
	json_object_set_new(o, "actor", jstr(e->actor));
	json_object_set_new(o, "event", jstr(e->event));
	json_object_set_new(o, "from_status", jstr_opt(e->from_status));
	json_object_set_new(o, "to_status", jstr_opt(e->to_status));
	json_object_set_new(o, "detail", jstr(e->detail));
	return o;
}

static int event_row(void *ud, const struct ticket_event *e)
{
	struct list_ctx *lc = ud;
	char at[32], change[48] = "";
	const char *cells[5];

	if (lc->json)
		return json_array_append_new(lc->arr, event_json(e)) < 0 ? -ENOMEM : 0;
	if (*e->from_status || *e->to_status)
		snprintf(change, sizeof(change), "%s→%s", e->from_status, e->to_status);
	cells[0] = util_fmt_time(e->at, at, sizeof(at));
	cells[1] = e->actor;
	cells[2] = e->event;
	cells[3] = change;
	cells[4] = e->detail;
	table_add(&lc->tab, cells);
	return 0;
}

/* "w01 李娜" when the config knows the worker, else the id; "-" for none. */
static const char *with_name(const char *id, const char *name, char *buf, size_t size)
{
	if (!*id)
		return "-";
	if (!name)
		return id;
	snprintf(buf, size, "%s %s", id, name);
	return buf;
}

static void ticket_print(const struct ctl *c, const struct ticket *t)
{
	const struct grid *g = config_grid(c->cfg, t->grid);
	const struct worker *w = config_worker(c->cfg, t->assignee);
	char gbuf[256], wbuf[256], created[32], updated[32], rating[8] = "-", id[24];
	struct table tab;

	if (t->rating)
		snprintf(rating, sizeof(rating), "%d", t->rating);
	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	table_init(&tab, 2, NULL, NULL);
	table_add(&tab, (const char *const[]){ "ticket", id });
	table_add(&tab, (const char *const[]){ "status", ticket_status_name(t->status) });
	table_add(&tab, (const char *const[]){ "category", t->category });
	table_add(&tab, (const char *const[]){ "grid", with_name(t->grid, g ? g->name : NULL,
								 gbuf, sizeof(gbuf)) });
	table_add(&tab, (const char *const[]){ "assignee", with_name(t->assignee,
								     w ? w->name : NULL,
								     wbuf, sizeof(wbuf)) });
	table_add(&tab, (const char *const[]){ "phone", t->phone });
	table_add(&tab, (const char *const[]){ "channel", t->channel });
	table_add(&tab, (const char *const[]){ "address", *t->address ? t->address : "-" });
	table_add(&tab, (const char *const[]){ "created", util_fmt_time(t->created_at, created,
									sizeof(created)) });
	table_add(&tab, (const char *const[]){ "updated", util_fmt_time(t->updated_at, updated,
									sizeof(updated)) });
	table_add(&tab, (const char *const[]){ "rating", rating });
	table_add(&tab, (const char *const[]){ "text", t->text });
	table_print(&tab);
	table_release(&tab);
	printf("\nhistory:\n");
}

static int show_parse(int argc, char **argv, bool *json, int64_t *id)
{
	int r = json_opts(argc, argv, json);

	if (r != 0)
		return r;
	if (optind + 1 != argc)
		return usage_error("ticket show wants one ticket id");
	if (!parse_int64(argv[optind], INT64_MAX, id))
		return usage_error("not a ticket id: '%s'", argv[optind]);
	return 0;
}

static int cmd_ticket_show(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = { "TIME", "ACTOR", "EVENT", "CHANGE", "DETAIL" };
	static const size_t limits[] = { 0, 0, 0, 0, LONG_COLS };
	struct ticket t = { 0 };
	struct list_ctx lc;
	bool json = false;
	int64_t id = 0;
	json_t *obj = NULL;
	int r;

	r = show_parse(argc, argv, &json, &id);
	if (r != 0)
		return r < 0 ? 0 : r;
	r = ctl_setup(c, false, true);
	if (r != 0)
		return r;
	r = store_ticket_get(c->store, id, &t);
	if (r == -ENOENT) {
		fprintf(stderr, PROG ": no ticket %lld\n", (long long)id);
		return EXIT_RUNTIME;
	}
	if (r < 0)
		return store_failed(c, "reading the ticket", r);
	if (json)
		obj = ticket_json(&t);
	else
		ticket_print(c, &t);
	ticket_release(&t);
	list_begin(&lc, json, ELEMENTSOF(header), header, limits);
	r = store_events_each(c->store, id, event_row, &lc);
	if (r < 0) {
		list_abort(&lc);
		json_decref(obj);
		return store_failed(c, "reading the history", r);
	}
	if (!json)
		return list_end(&lc);
	json_object_set_new(obj, "events", lc.arr);
	return json_print(obj) < 0 ? EXIT_RUNTIME : 0;
}

/* ---------------------------------------------------------------------------
 * ticket new, assign, close, reopen, note: the phone side of the hotline.
 * One transaction per command (BEGIN IMMEDIATE waits out the daemon's
 * transaction in hand); the texts are only queued, gridlined sends them
 * on its next poll.
 */

struct write_args {
	const char *verb;         /* "ticket assign", for messages */
	enum intake_op op;        /* _INTAKE_OP_MAX: ticket new */
	bool json;
	int64_t id;
	const char *arg;          /* WORKER, TEXT (note) or --note (close) */
	const char *phone, *category, *text, *operator_id;
};

/* Options of a writing verb; 0, -1 after -h, or an exit code. */
static int write_options(int argc, char **argv, const int *allowed, struct write_args *a)
{
	int o;

	while ((o = verb_getopt(argc, argv, allowed)) != -1) {
		switch (o) {
		case 'h': usage(stdout); return -1;
		case OPT_JSON: a->json = true; break;
		case OPT_PHONE: a->phone = optarg; break;
		case OPT_CATEGORY: a->category = optarg; break;
		case OPT_TEXT: a->text = optarg; break;
		case OPT_NOTE: a->arg = optarg; break;
		case OPT_OPERATOR: a->operator_id = optarg; break;
		default: return usage_fail();
		}
	}
	if (!a->operator_id || !*a->operator_id)
		return usage_error("%s: --operator X is required (X: an operator's worker id)", a->verb);
	return 0;
}

/* Positional arguments: ID, then n_more more (into a->arg). */
static int write_positionals(int argc, char **argv, int n_more, const char *what,
			     struct write_args *a)
{
	if (argc - optind != 1 + n_more)
		return usage_error("%s wants %s", a->verb, what);
	if (!parse_int64(argv[optind], INT64_MAX, &a->id))
		return usage_error("not a ticket id: '%s'", argv[optind]);
	if (n_more)
		a->arg = argv[optind + 1];
	return 0;
}

/* Blank = only white space; the usage check before the database is opened. */
static bool blank(const char *s)
{
	return !s || !s[strspn(s, " \t\r\n")];
}

/* What was done, on stdout: the ticket as JSON, the id (new) or a line. */
static int write_report(struct ctl *c, const struct write_args *a)
{
	struct ticket t = { 0 };
	int r = store_ticket_get(c->store, a->id, &t);

	if (r < 0)
		return store_failed(c, "reading the ticket back", r);
	if (a->json)
		r = json_print(ticket_json(&t)) < 0 ? EXIT_RUNTIME : 0;
	else if (a->op == _INTAKE_OP_MAX)
		printf("%lld\n", (long long)t.id);
	else if (a->op == INTAKE_OP_NOTE)
		printf("ticket %lld: note added\n", (long long)t.id);
	else
		printf("ticket %lld: %s%s%s\n", (long long)t.id, ticket_status_name(t.status),
		       *t.assignee ? ", assignee " : "", t.assignee);
	ticket_release(&t);
	return r;
}

/* The intake call of a writing verb, inside the caller's transaction. */
static int write_apply(struct ctl *c, struct intake *in, struct write_args *a, char *err,
		       size_t size)
{
	int64_t now = util_now();

	if (a->op == _INTAKE_OP_MAX)
		return intake_phone_ticket(in, a->phone, a->category, a->text, a->operator_id, now,
					   &a->id, err, size);
	return intake_operator(in, a->id, a->op, a->arg, a->operator_id, now, err, size);
}

/* Open the database for writing and run the verb in one transaction. */
static int write_run(struct ctl *c, struct write_args *a)
{
	struct intake *in;
	char err[512] = "";
	int r = c->cfg ? ctl_open_store(c, false) : ctl_setup(c, false, false);

	if (r != 0)
		return r;
	/* the journal keeps the history of operators' changes; a terminal gets stdout */
	if (!log_to_journal())
		log_set_level(LOG_WARNING);
	log_set_mask_phones(c->cfg->mask_phones);
	r = store_begin(c->store);
	if (r < 0)
		return store_failed(c, "starting a transaction", r);
	in = intake_new(c->cfg, c->store);
	r = write_apply(c, in, a, err, sizeof(err));
	intake_free(in);
	if (r == 0)
		r = store_commit(c->store);
	if (r < 0) {
		int e = EXIT_RUNTIME;
		char *esc = escape_dup(err);

		if (*err)
			fprintf(stderr, PROG ": %s\n", esc);
		else
			e = store_failed(c, a->verb, r);
		free(esc);
		store_rollback(c->store);
		return e;
	}
	return write_report(c, a);
}

static int cmd_ticket_new(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { OPT_JSON, OPT_PHONE, OPT_CATEGORY, OPT_TEXT, OPT_OPERATOR, 0 };
	struct write_args a = { .verb = "ticket new", .op = _INTAKE_OP_MAX };
	char phone[STORE_ID_MAX];
	int r = write_options(argc, argv, allowed, &a);

	if (r != 0)
		return r < 0 ? 0 : r;
	if (optind < argc)
		return usage_error("ticket new: unexpected argument '%s'", argv[optind]);
	if (!a.phone || !a.category || !a.text)
		return usage_error("ticket new wants --phone, --category and --text");
	if (blank(a.text))
		return usage_error("ticket new: --text is empty");
	r = ctl_load_config(c);
	if (r != 0)
		return r;
	if (phone_normalize(a.phone, c->cfg->country_code, phone, sizeof(phone)) < 0)
		return usage_error("not a phone number: '%s'", a.phone);
	return write_run(c, &a);
}

static int cmd_ticket_assign(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { OPT_JSON, OPT_OPERATOR, 0 };
	struct write_args a = { .verb = "ticket assign", .op = INTAKE_OP_ASSIGN };
	int r = write_options(argc, argv, allowed, &a);

	if (r == 0)
		r = write_positionals(argc, argv, 1, "a ticket id and a worker id", &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	return write_run(c, &a);
}

static int cmd_ticket_close(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { OPT_JSON, OPT_NOTE, OPT_OPERATOR, 0 };
	struct write_args a = { .verb = "ticket close", .op = INTAKE_OP_CLOSE };
	int r = write_options(argc, argv, allowed, &a);

	if (r == 0)
		r = write_positionals(argc, argv, 0, "one ticket id", &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	if (a.arg && blank(a.arg))
		return usage_error("ticket close: --note is empty");
	return write_run(c, &a);
}

static int cmd_ticket_reopen(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { OPT_JSON, OPT_OPERATOR, 0 };
	struct write_args a = { .verb = "ticket reopen", .op = INTAKE_OP_REOPEN };
	int r = write_options(argc, argv, allowed, &a);

	if (r == 0)
		r = write_positionals(argc, argv, 0, "one ticket id", &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	return write_run(c, &a);
}

static int cmd_ticket_note(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { OPT_JSON, OPT_OPERATOR, 0 };
	struct write_args a = { .verb = "ticket note", .op = INTAKE_OP_NOTE };
	int r = write_options(argc, argv, allowed, &a);

	if (r == 0)
		r = write_positionals(argc, argv, 1, "a ticket id and the note's TEXT", &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	if (blank(a.arg))
		return usage_error("ticket note: the note is empty");
	return write_run(c, &a);
}

/* ---------------------------------------------------------------------------
 * outbox
 */

static json_t *outbox_json(const struct outbox_msg *m)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(m->id));
	json_object_set_new(o, "to", jstr(m->recipient));
	json_object_set_new(o, "body", jstr(m->body ? m->body : ""));
	json_object_set_new(o, "ticket", m->ticket ? json_integer(m->ticket) : json_null());
	json_object_set_new(o, "status", jstr(outbox_status_name(m->status)));
	json_object_set_new(o, "error", jstr_opt(m->error));
	json_object_set_new(o, "attempts", json_integer(m->attempts));
	json_object_set_new(o, "next_attempt", jtime(m->next_attempt));
	json_object_set_new(o, "created_at", jtime(m->created_at));
	json_object_set_new(o, "sent_at", jtime(m->sent_at));
	json_object_set_new(o, "kind", jstr(m->kind));
	json_object_set_new(o, "segments", json_integer(m->segments));
	json_object_set_new(o, "provider_id", jstr_opt(m->provider_id));
	return o;
}

static int outbox_row(void *ud, const struct outbox_msg *m)
{
	struct list_ctx *lc = ud;
	char id[24], ticket[24] = "-", tries[16], created[32];
	const char *cells[9];

	if (lc->json)
		return json_array_append_new(lc->arr, outbox_json(m)) < 0 ? -ENOMEM : 0;
	snprintf(id, sizeof(id), "%lld", (long long)m->id);
	if (m->ticket)
		snprintf(ticket, sizeof(ticket), "%lld", (long long)m->ticket);
	snprintf(tries, sizeof(tries), "%d", m->attempts);
	cells[0] = id;
	cells[1] = outbox_status_name(m->status);
	cells[2] = m->recipient;
	cells[3] = ticket;
	cells[4] = m->kind;
	cells[5] = tries;
	cells[6] = util_fmt_time(m->created_at, created, sizeof(created));
	cells[7] = m->body;
	cells[8] = m->error ? m->error : "";
	table_add(&lc->tab, cells);
	return 0;
}

static int cmd_outbox(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = {
		"ID", "STATUS", "TO", "TICKET", "KIND", "TRIES", "CREATED", "BODY", "ERROR",
	};
	static const size_t limits[] = { 0, 0, 0, 0, 0, 0, 0, TEXT_COLS, LONG_COLS };
	static const int allowed[] = { OPT_JSON, OPT_ALL, 0 };
	bool json = false, all = false;
	struct list_ctx lc;
	int o, r;

	while ((o = verb_getopt(argc, argv, allowed)) != -1) {
		switch (o) {
		case 'h': usage(stdout); return 0;
		case OPT_JSON: json = true; break;
		case OPT_ALL: all = true; break;
		default: return usage_fail();
		}
	}
	if (optind < argc)
		return usage_error("outbox: unexpected argument '%s'", argv[optind]);
	r = ctl_setup(c, false, true);
	if (r != 0)
		return r;
	list_begin(&lc, json, ELEMENTSOF(header), header, limits);
	r = store_outbox_each(c->store, all, outbox_row, &lc);
	if (r < 0) {
		list_abort(&lc);
		return store_failed(c, "reading the outbox", r);
	}
	return list_end(&lc);
}

/* ---------------------------------------------------------------------------
 * workers
 */

/* Ids of the grids w works (leads=false) or leads (leads=true). */
static json_t *worker_grids(const struct config *cfg, const struct worker *w, bool leads)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < cfg->n_grids; i++) {
		const struct grid *g = &cfg->grids[i];
		const struct worker *who = NULL;

		if (leads)
			who = config_grid_leader(cfg, g);
		else if (g->worker)
			who = config_worker(cfg, g->worker);
		if (who && strcmp(who->id, w->id) == 0)
			json_array_append_new(arr, jstr(g->id));
	}
	return arr;
}

/* "g1,g2" from a JSON array of strings, "-" when empty. */
static char *join_ids(const json_t *arr)
{
	size_t i;
	json_t *v;
	char *out = xstrdup("");

	json_array_foreach(arr, i, v) {
		char *next = xasprintf("%s%s%s", out, i ? "," : "", json_string_value(v));

		free(out);
		out = next;
	}
	if (!*out) {
		free(out);
		out = xstrdup("-");
	}
	return out;
}

static void worker_add(struct list_ctx *lc, const struct config *cfg, const struct worker *w)
{
	json_t *works = worker_grids(cfg, w, false);
	json_t *leads = worker_grids(cfg, w, true);
	json_t *o;
	char *sw, *sl;

	if (!lc->json) {
		sw = join_ids(works);
		sl = join_ids(leads);
		table_add(&lc->tab, (const char *const[]){ w->id, w->name, w->phone,
							   worker_role_name(w->role), sw, sl });
		free(sw);
		free(sl);
		json_decref(works);
		json_decref(leads);
		return;
	}
	o = json_object();
	json_object_set_new(o, "id", jstr(w->id));
	json_object_set_new(o, "name", jstr(w->name));
	json_object_set_new(o, "phone", jstr(w->phone));
	json_object_set_new(o, "role", jstr(worker_role_name(w->role)));
	json_object_set_new(o, "grids", works);
	json_object_set_new(o, "leads", leads);
	json_array_append_new(lc->arr, o);
}

static int cmd_workers(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = { "ID", "NAME", "PHONE", "ROLE", "GRIDS", "LEADS" };
	struct list_ctx lc;
	bool json = false;
	int r = json_opts(argc, argv, &json);

	if (r != 0)
		return r < 0 ? 0 : r;
	if (optind < argc)
		return usage_error("workers: unexpected argument '%s'", argv[optind]);
	r = ctl_setup(c, true, true);
	if (r != 0)
		return r;
	list_begin(&lc, json, ELEMENTSOF(header), header, NULL);
	for (size_t i = 0; i < c->cfg->n_workers; i++)
		worker_add(&lc, c->cfg, &c->cfg->workers[i]);
	return list_end(&lc);
}

/* ---------------------------------------------------------------------------
 * residents
 */

static int resident_row(void *ud, const struct resident *res)
{
	struct list_ctx *lc = ud;
	json_t *o;

	if (!lc->json) {
		table_add(&lc->tab, (const char *const[]){ res->phone, res->name, res->address,
							   *res->grid ? res->grid : "-",
							   res->opted_out ? "yes" : "no" });
		return 0;
	}
	o = json_object();
	json_object_set_new(o, "phone", jstr(res->phone));
	json_object_set_new(o, "name", jstr(res->name));
	json_object_set_new(o, "address", jstr(res->address));
	json_object_set_new(o, "grid", jstr_opt(res->grid));
	json_object_set_new(o, "opted_out", json_boolean(res->opted_out));
	return json_array_append_new(lc->arr, o) < 0 ? -ENOMEM : 0;
}

static int cmd_residents(struct ctl *c, int argc, char **argv)
{
	static const char *const header[] = { "PHONE", "NAME", "ADDRESS", "GRID", "OPTED-OUT" };
	static const size_t limits[] = { 0, 0, LONG_COLS, 0, 0 };
	struct list_ctx lc;
	bool json = false;
	int r = json_opts(argc, argv, &json);

	if (r != 0)
		return r < 0 ? 0 : r;
	if (optind < argc)
		return usage_error("residents: unexpected argument '%s'", argv[optind]);
	r = ctl_setup(c, false, true);
	if (r != 0)
		return r;
	list_begin(&lc, json, ELEMENTSOF(header), header, limits);
	r = store_residents_each(c->store, resident_row, &lc);
	if (r < 0) {
		list_abort(&lc);
		return store_failed(c, "reading the residents", r);
	}
	return list_end(&lc);
}

/* Trim ASCII white space at both ends, in place. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

struct seen {
	char phone[STORE_ID_MAX];
	int line;
};

struct import {
	const struct config *cfg;
	const char *file;
	struct store *store;
	int64_t now;
	struct seen *seen;     /* phones of the good rows, for duplicates */
	size_t n_seen, cap_seen;
	size_t rejected;
};

/* "FILE:LINE: [warning: ]what 'arg'" on stderr, arg escaped. */
static void import_say(const struct import *im, int line, const char *what, const char *arg)
{
	char esc[128];

	if (arg)
		fprintf(stderr, "%s:%d: %s '%s'\n", im->file, line, what,
			text_escape(arg, esc, sizeof(esc)));
	else
		fprintf(stderr, "%s:%d: %s\n", im->file, line, what);
}

static bool import_reject(struct import *im, int line, const char *what, const char *arg)
{
	import_say(im, line, what, arg);
	im->rejected++;
	return false;
}

/* Check a header row: phone,name,address,grid (BOM and case tolerated). */
static bool import_header_ok(struct csv_row *row)
{
	static const char *const want[] = { "phone", "name", "address", "grid" };
	char *first;

	if (row->n != ELEMENTSOF(want))
		return false;
	first = row->fields[0];
	if (strncmp(first, "\xEF\xBB\xBF", 3) == 0)
		first += 3;
	for (size_t i = 0; i < row->n; i++)
		if (strcasecmp(trim(i ? row->fields[i] : first), want[i]) != 0)
			return false;
	return true;
}

/* Validate a record into *res; false (reported, counted) if rejected. */
static bool import_validate(struct import *im, struct csv_row *row, struct resident *res)
{
	const char *phone, *name, *address, *grid;

	if (row->n != 4) {
		char what[64];

		snprintf(what, sizeof(what), "expected 4 fields, found %zu", row->n);
		return import_reject(im, row->line, what, NULL);
	}
	phone = trim(row->fields[0]);
	name = trim(row->fields[1]);
	address = trim(row->fields[2]);
	grid = trim(row->fields[3]);
	*res = (struct resident){ 0 };
	if (phone_normalize(phone, im->cfg->country_code, res->phone, sizeof(res->phone)) < 0)
		return import_reject(im, row->line, "bad phone number", phone);
	if (!*name)
		return import_reject(im, row->line, "name is empty", NULL);
	if (!*address)
		return import_reject(im, row->line, "address is empty", NULL);
	if (str_copy(res->name, sizeof(res->name), name) < 0)
		return import_reject(im, row->line, "name too long", name);
	if (str_copy(res->address, sizeof(res->address), address) < 0)
		return import_reject(im, row->line, "address too long", address);
	if (*grid && !config_grid(im->cfg, grid))
		return import_reject(im, row->line, "unknown grid", grid);
	if (!*grid) {
		const struct grid *g = route_grid_by_address(im->cfg, address, NULL);

		if (!g)
			import_say(im, row->line, "warning: no grid's address pattern matches, "
				   "imported without a grid:", address);
		grid = g ? g->id : "";
	}
	str_copy(res->grid, sizeof(res->grid), grid);
	return true;
}

static void import_remember(struct import *im, const struct resident *res, int line)
{
	if (im->n_seen == im->cap_seen) {
		im->cap_seen = im->cap_seen ? 2 * im->cap_seen : 256;
		im->seen = xrealloc(im->seen, im->cap_seen * sizeof(*im->seen));
	}
	str_copy(im->seen[im->n_seen].phone, sizeof(im->seen[0].phone), res->phone);
	im->seen[im->n_seen].line = line;
	im->n_seen++;
}

static int seen_cmp(const void *a, const void *b)
{
	const struct seen *x = a, *y = b;
	int r = strcmp(x->phone, y->phone);

	if (r)
		return r;
	return (x->line > y->line) - (x->line < y->line);
}

/* Warn about phones given twice; returns the number of distinct phones. */
static size_t import_duplicates(struct import *im)
{
	size_t distinct = 0;

	qsort(im->seen, im->n_seen, sizeof(*im->seen), seen_cmp);
	for (size_t i = 0; i < im->n_seen; i++) {
		bool later = i + 1 < im->n_seen &&
			     strcmp(im->seen[i].phone, im->seen[i + 1].phone) == 0;
		char what[160];

		if (!later) {
			distinct++;
			continue;
		}
		snprintf(what, sizeof(what), "warning: %s again on line %d, the later row wins",
			 im->seen[i].phone, im->seen[i + 1].line);
		import_say(im, im->seen[i].line, what, NULL);
	}
	return distinct;
}

/* Every record after the header: validate, store the good ones (later wins). */
static int import_rows(struct import *im, struct csv_reader *rd)
{
	struct csv_row row = { 0 };
	struct resident res;
	char err[128];
	int r;

	for (;;) {
		row = (struct csv_row){ 0 };
		err[0] = '\0';
		r = csv_next(rd, &row, err, sizeof(err));
		if (r == 0)
			return 0;
		if (r < 0) {
			if (row.line > 0) {
				import_reject(im, row.line, "malformed record:", err);
			} else {
				fprintf(stderr, "%s: malformed record: %s\n", im->file, err);
				im->rejected++;
			}
			csv_row_release(&row);
			continue;
		}
		/* a blank line is not a record */
		if (!(row.n == 1 && !*trim(row.fields[0])) && import_validate(im, &row, &res)) {
			r = store_resident_put(im->store, &res, im->now);
			if (r < 0) {
				csv_row_release(&row);
				return r;
			}
			import_remember(im, &res, row.line);
		}
		csv_row_release(&row);
	}
}

/* Read FILE and check its header; 0, or an exit code. */
static int import_open(const char *file, char **ret_buf, size_t *ret_len,
		       struct csv_reader **ret_rd)
{
	struct csv_row head = { 0 };
	char err[128] = "";
	int r = util_read_file(file, IMPORT_MAX_BYTES, ret_buf, ret_len);

	if (r == -EFBIG)
		fprintf(stderr, PROG ": %s: larger than %u MiB\n", file, IMPORT_MAX_BYTES >> 20);
	else if (r < 0)
		fprintf(stderr, PROG ": %s: %s\n", file, strerror(-r));
	if (r < 0)
		return EXIT_USAGE;
	*ret_rd = csv_reader_new(*ret_buf, *ret_len);
	r = csv_next(*ret_rd, &head, err, sizeof(err));
	if (r <= 0 || !import_header_ok(&head)) {
		fprintf(stderr, "%s:1: the header must be 'phone,name,address,grid'\n", file);
		csv_row_release(&head);
		csv_reader_free(*ret_rd);
		free(*ret_buf);
		return EXIT_USAGE;
	}
	csv_row_release(&head);
	return 0;
}

/* Import inside one transaction; 0 or an exit code. */
static int import_run(struct ctl *c, struct import *im, struct csv_reader *rd)
{
	int r = store_begin(c->store);

	if (r < 0)
		return store_failed(c, "starting the import", r);
	r = import_rows(im, rd);
	if (r < 0) {
		int e = store_failed(c, "importing residents", r);

		store_rollback(c->store);
		return e;
	}
	r = store_commit(c->store);
	if (r < 0) {
		store_rollback(c->store);
		return store_failed(c, "committing the import", r);
	}
	return 0;
}

static int cmd_residents_import(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { 0 };
	struct import im = { 0 };
	struct csv_reader *rd = NULL;
	char *buf = NULL;
	size_t len = 0, n;
	int o, r;

	while ((o = verb_getopt(argc, argv, allowed)) != -1) {
		if (o == 'h') {
			usage(stdout);
			return 0;
		}
		return usage_fail();
	}
	if (optind + 1 != argc)
		return usage_error("residents import wants one FILE");
	r = ctl_setup(c, true, false);
	if (r != 0)
		return r;
	r = import_open(argv[optind], &buf, &len, &rd);
	if (r != 0)
		return r;
	r = ctl_open_store(c, false);
	im = (struct import){ .cfg = c->cfg, .file = argv[optind], .store = c->store,
			      .now = util_now() };
	if (r == 0)
		r = import_run(c, &im, rd);
	csv_reader_free(rd);
	free(buf);
	if (r == 0) {
		n = import_duplicates(&im);
		printf("imported %zu resident%s, %zu rejected\n", n, n == 1 ? "" : "s",
		       im.rejected);
		r = im.rejected ? EXIT_RUNTIME : 0;
	}
	free(im.seen);
	return r;
}

/* ---------------------------------------------------------------------------
 * stats, export: a period of local dates
 */

struct period_args {
	bool json;
	bool csv;
	const char *since;   /* YYYY-MM-DD or NULL */
	const char *until;
};

/* Split a YYYY-MM-DD date; false unless it is one (the day is checked later). */
static bool date_parse(const char *s, int *y, int *m, int *d)
{
	char *end;
	long v[3];

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return false;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return false;
	v[0] = strtol(s, &end, 10);
	v[1] = strtol(s + 5, &end, 10);
	v[2] = strtol(s + 8, &end, 10);
	if (v[0] < 1970 || v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31)
		return false;
	*y = (int)v[0];
	*m = (int)v[1];
	*d = (int)v[2];
	return true;
}

/*
 * The start of local day s plus add days (epoch seconds), in the time zone
 * set from the config; false when s is no date ("2026-02-30").
 */
static bool date_start(const char *s, int add, int64_t *ret)
{
	struct tm tm = { 0 };
	int y, m, d;
	time_t t;

	if (!date_parse(s, &y, &m, &d))
		return false;
	tm = (struct tm){ .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d, .tm_isdst = -1 };
	t = mktime(&tm);
	if (t == (time_t)-1 || tm.tm_year != y - 1900 || tm.tm_mon != m - 1 || tm.tm_mday != d)
		return false;
	if (add) {
		tm = (struct tm){ .tm_year = y - 1900, .tm_mon = m - 1, .tm_mday = d + add,
				  .tm_isdst = -1 };
		t = mktime(&tm);
	}
	*ret = (int64_t)t;
	return true;
}

/* Options of stats/export; 0, -1 (help shown) or an exit code. */
static int period_parse(int argc, char **argv, const int *allowed, struct period_args *a)
{
	int64_t t;
	int o;

	while ((o = verb_getopt(argc, argv, allowed)) != -1) {
		switch (o) {
		case 'h': usage(stdout); return -1;
		case OPT_JSON: a->json = true; break;
		case OPT_CSV: a->csv = true; break;
		case OPT_SINCE: a->since = optarg; break;
		case OPT_UNTIL: a->until = optarg; break;
		default: return usage_fail();
		}
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", argv[0] + strlen(PROG " "),
				   argv[optind]);
	/* the format now; the day itself once the config's time zone is known */
	if (a->since && !date_start(a->since, 0, &t))
		return usage_error("--since wants a date YYYY-MM-DD, not '%s'", a->since);
	if (a->until && !date_start(a->until, 0, &t))
		return usage_error("--until wants a date YYYY-MM-DD, not '%s'", a->until);
	if (a->since && a->until && strcmp(a->since, a->until) > 0)
		return usage_error("--since %s is after --until %s", a->since, a->until);
	return 0;
}

/* [from, to) of the period in the config's time zone (unbounded sides open). */
static void period_range(const struct period_args *a, int64_t *from, int64_t *to)
{
	*from = INT64_MIN;
	*to = INT64_MAX;
	if (a->since)
		date_start(a->since, 0, from);
	if (a->until)
		date_start(a->until, 1, to);
}

/* x rounded to `places` decimals, as JSON. */
static json_t *jround(double x, int places)
{
	double k = pow(10, places);

	return json_real(round(x * k) / k);
}

/* {"on_time": n, "of": m, "rate": n/m or null} */
static json_t *jratio(const char *name, int64_t n, int64_t of)
{
	json_t *o = json_object();

	json_object_set_new(o, name, json_integer(n));
	json_object_set_new(o, "of", json_integer(of));
	json_object_set_new(o, "rate", of ? jround((double)n / (double)of, 4) : json_null());
	return o;
}

static json_t *satisfaction_json(const struct store_ticket_stats *t)
{
	int64_t rated = t->ratings[1] + t->ratings[2] + t->ratings[3];
	json_t *o = json_object(), *counts = json_object(), *shares = json_object();

	for (int i = 1; i <= 3; i++) {
		char k[2] = { (char)('0' + i), '\0' };

		json_object_set_new(counts, k, json_integer(t->ratings[i]));
		json_object_set_new(shares, k, rated ? jround((double)t->ratings[i] / (double)rated, 4)
						     : json_null());
	}
	json_object_set_new(o, "counts", counts);
	json_object_set_new(o, "shares", shares);
	return o;
}

static json_t *texts_json(const struct stats_figures *f)
{
	json_t *o = json_object();

	json_object_set_new(o, "total", json_integer(stats_texts_total(f)));
	for (int i = 0; i < STATS_N_STATUS; i++)
		json_object_set_new(o, outbox_status_name((enum outbox_status)i),
				    json_integer(f->texts[i]));
	json_object_set_new(o, "segments", json_integer(f->segments));
	return o;
}

/* The figures of one group into object o (which it returns). */
static json_t *figures_json(json_t *o, const struct stats_figures *f)
{
	const struct store_ticket_stats *t = &f->t;

	json_object_set_new(o, "received", json_integer(t->received));
	json_object_set_new(o, "owned_within_poll", json_integer(t->owned));
	json_object_set_new(o, "accepted_on_time", jratio("on_time", t->accepted_on_time,
							  t->accept_due));
	json_object_set_new(o, "done_on_time", jratio("on_time", t->done_on_time, t->done_due));
	json_object_set_new(o, "overdue", json_integer(t->overdue));
	json_object_set_new(o, "callback", jratio("rated", t->rated, t->rate_asked));
	json_object_set_new(o, "satisfaction", satisfaction_json(t));
	json_object_set_new(o, "median_minutes_to_accept",
			    f->median_accept_min < 0 ? json_null() : jround(f->median_accept_min, 1));
	json_object_set_new(o, "median_minutes_to_done",
			    f->median_done_min < 0 ? json_null() : jround(f->median_done_min, 1));
	json_object_set_new(o, "texts", texts_json(f));
	return o;
}

static json_t *groups_json(const struct stats_group *g, size_t n)
{
	json_t *o = json_object();

	for (size_t i = 0; i < n; i++)
		json_object_set_new(o, g[i].key, figures_json(json_object(), &g[i].f));
	return o;
}

static int stats_print_json(const struct period_args *a, const struct stats_report *rep)
{
	json_t *o = json_object();

	json_object_set_new(o, "since", jstr(a->since));
	json_object_set_new(o, "until", jstr(a->until));
	json_object_set_new(o, "generated_at", jtime(util_now()));
	figures_json(o, &rep->all);
	json_object_set_new(o, "by_category", groups_json(rep->by_category, rep->n_category));
	json_object_set_new(o, "by_grid", groups_json(rep->by_grid, rep->n_grid));
	return json_print(o) < 0 ? EXIT_RUNTIME : 0;
}

/* "n/of pp%" or "-" when of is 0. */
static const char *ratio_cell(int64_t n, int64_t of, char *buf, size_t size)
{
	if (!of)
		return "-";
	snprintf(buf, size, "%lld/%lld %.0f%%", (long long)n, (long long)of,
		 100.0 * (double)n / (double)of);
	return buf;
}

static const char *minutes_cell(double m, char *buf, size_t size)
{
	if (m < 0)
		return "-";
	snprintf(buf, size, "%.1f", m);
	return buf;
}

enum { STATS_COLS = 12 };

static void stats_row(struct table *tab, const char *label, const struct stats_figures *f)
{
	const struct store_ticket_stats *t = &f->t;
	char rec[24], own[24], acc[48], done[48], over[24], cb[48], sat[64], ma[24], md[24],
	     texts[24], segs[24];

	snprintf(rec, sizeof(rec), "%lld", (long long)t->received);
	snprintf(own, sizeof(own), "%lld", (long long)t->owned);
	snprintf(over, sizeof(over), "%lld", (long long)t->overdue);
	snprintf(sat, sizeof(sat), "%lld/%lld/%lld", (long long)t->ratings[1],
		 (long long)t->ratings[2], (long long)t->ratings[3]);
	snprintf(texts, sizeof(texts), "%lld", (long long)stats_texts_total(f));
	snprintf(segs, sizeof(segs), "%lld", (long long)f->segments);
	table_add(tab, (const char *const[STATS_COLS]){
		label, rec, own,
		ratio_cell(t->accepted_on_time, t->accept_due, acc, sizeof(acc)),
		ratio_cell(t->done_on_time, t->done_due, done, sizeof(done)), over,
		ratio_cell(t->rated, t->rate_asked, cb, sizeof(cb)), sat,
		minutes_cell(f->median_accept_min, ma, sizeof(ma)),
		minutes_cell(f->median_done_min, md, sizeof(md)), texts, segs });
}

/* A section of group rows labelled "id name" (name from the config, if any). */
static void stats_section(struct table *tab, const struct config *cfg, bool grids,
			  const struct stats_group *g, size_t n)
{
	static const char *const blank[STATS_COLS] = { "" };

	table_add(tab, blank);
	for (size_t i = 0; i < n; i++) {
		const struct grid *gr = grids ? config_grid(cfg, g[i].key) : NULL;
		const struct category *cat = grids ? NULL : config_category(cfg, g[i].key);
		const char *name = gr ? gr->name : cat ? cat->name : NULL;
		char label[STORE_ID_MAX + 128];

		snprintf(label, sizeof(label), "%s%s%s", g[i].key, name ? " " : "", name ? name : "");
		stats_row(tab, label, &g[i].f);
	}
}

static void stats_print_table(const struct ctl *c, const struct period_args *a,
			      const struct stats_report *rep)
{
	static const char *const header[STATS_COLS] = {
		"GROUP", "RECEIVED", "OWNED", "ACCEPTED ON TIME", "DONE ON TIME", "OVERDUE",
		"回访 RATED", "1/2/3", "MED. ACCEPT MIN", "MED. DONE MIN", "TEXTS", "SEGMENTS",
	};
	const char *tz = c->cfg->timezone ? c->cfg->timezone : "";
	struct table tab;

	printf("tickets received %s .. %s%s%s%s\n\n", a->since ? a->since : "(start)",
	       a->until ? a->until : "(now)", *tz ? " (" : "", tz, *tz ? ")" : "");
	table_init(&tab, STATS_COLS, header, NULL);
	stats_row(&tab, "all", &rep->all);
	stats_section(&tab, c->cfg, false, rep->by_category, rep->n_category);
	stats_section(&tab, c->cfg, true, rep->by_grid, rep->n_grid);
	table_print(&tab);
	table_release(&tab);
}

static int cmd_stats(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { OPT_JSON, OPT_SINCE, OPT_UNTIL, 0 };
	struct period_args a = { 0 };
	struct store_period p = { 0 };
	struct stats_report rep;
	const char **cats, **grids;
	int r;

	r = period_parse(argc, argv, allowed, &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	r = ctl_setup(c, false, true);
	if (r != 0)
		return r;
	period_range(&a, &p.from, &p.to);
	p.now = util_now();
	p.owned_within = (int64_t)ceil(c->cfg->poll_interval);
	cats = xcalloc(c->cfg->n_categories + 1, sizeof(*cats));
	grids = xcalloc(c->cfg->n_grids + 1, sizeof(*grids));
	for (size_t i = 0; i < c->cfg->n_categories; i++)
		cats[i] = c->cfg->categories[i].id;
	for (size_t i = 0; i < c->cfg->n_grids; i++)
		grids[i] = c->cfg->grids[i].id;
	r = stats_collect(c->store, &p, cats, c->cfg->n_categories, grids, c->cfg->n_grids, &rep);
	free(cats);
	free(grids);
	if (r < 0)
		return store_failed(c, "reading the statistics", r);
	if (a.json) {
		r = stats_print_json(&a, &rep);
	} else {
		stats_print_table(c, &a, &rep);
		r = 0;
	}
	stats_report_release(&rep);
	return r;
}

/* One CSV field (RFC 4180: quoted when it holds a comma, a quote or a line break). */
static void csv_field(const char *s, bool last)
{
	if (s && s[strcspn(s, ",\"\r\n")]) {
		putchar('"');
		for (; *s; s++) {
			if (*s == '"')
				putchar('"');
			putchar(*s);
		}
		putchar('"');
	} else if (s) {
		fputs(s, stdout);
	}
	fputs(last ? "\r\n" : ",", stdout);
}

/* ISO time, or "" for none. */
static const char *csv_time(int64_t t, char *buf, size_t size)
{
	if (!t)
		return "";
	return iso_time(t, buf, size);
}

static int export_row(void *ud, const struct ticket *t)
{
	char id[24], rating[8] = "", cr[40], ac[40], dn[40], ad[40], dd[40];
	const char *cells[] = {
		id, t->category, ticket_status_name(t->status), t->grid, t->assignee, t->phone,
		t->channel, t->clk.urgent ? "1" : "0", csv_time(t->created_at, cr, sizeof(cr)),
		csv_time(t->clk.accepted_at, ac, sizeof(ac)), csv_time(t->clk.done_at, dn, sizeof(dn)),
		csv_time(t->clk.accept_due, ad, sizeof(ad)), csv_time(t->clk.done_due, dd, sizeof(dd)),
		rating, t->text,
	};

	(void)ud;
	snprintf(id, sizeof(id), "%lld", (long long)t->id);
	if (t->rating)
		snprintf(rating, sizeof(rating), "%d", t->rating);
	for (size_t i = 0; i < ELEMENTSOF(cells); i++)
		csv_field(cells[i], i + 1 == ELEMENTSOF(cells));
	return ferror(stdout) ? -EIO : 0;
}

static int cmd_export(struct ctl *c, int argc, char **argv)
{
	static const int allowed[] = { OPT_CSV, OPT_SINCE, OPT_UNTIL, 0 };
	static const char *const header[] = {
		"id", "category", "status", "grid", "assignee", "phone", "channel", "urgent",
		"created_at", "accepted_at", "done_at", "accept_due", "done_due", "rating", "text",
	};
	struct period_args a = { 0 };
	int64_t from, to;
	int r;

	r = period_parse(argc, argv, allowed, &a);
	if (r != 0)
		return r < 0 ? 0 : r;
	r = ctl_setup(c, false, true);
	if (r != 0)
		return r;
	period_range(&a, &from, &to);
	for (size_t i = 0; i < ELEMENTSOF(header); i++)
		csv_field(header[i], i + 1 == ELEMENTSOF(header));
	r = store_tickets_created(c->store, from, to, export_row, NULL);
	if (r == -EIO && ferror(stdout))
		return EXIT_RUNTIME;   /* main() reports the write error */
	if (r < 0)
		return store_failed(c, "reading tickets", r);
	return 0;
}

/* ---------------------------------------------------------------------------
 * help, main
 */

static int cmd_help(struct ctl *c, int argc, char **argv)
{
	if (argc > 1)
		return usage_error("help: unexpected argument '%s'", argv[1]);
	usage(stdout);
	return 0;
}

static const struct verb verbs[] = {
	{ "tickets", NULL, cmd_tickets,
	  "tickets [--status STATUS|open] [--grid G] [--phone P] [--limit N] [--json]" },
	{ "ticket", "show", cmd_ticket_show, "ticket show ID [--json]" },
	{ "ticket", "new", cmd_ticket_new,
	  "ticket new --phone P --category C --text T --operator X [--json]" },
	{ "ticket", "assign", cmd_ticket_assign, "ticket assign ID WORKER --operator X [--json]" },
	{ "ticket", "close", cmd_ticket_close, "ticket close ID [--note T] --operator X [--json]" },
	{ "ticket", "reopen", cmd_ticket_reopen, "ticket reopen ID --operator X [--json]" },
	{ "ticket", "note", cmd_ticket_note, "ticket note ID TEXT --operator X [--json]" },
	{ "residents", "import", cmd_residents_import, "residents import FILE" },
	{ "residents", NULL, cmd_residents, "residents [--json]" },
	{ "workers", NULL, cmd_workers, "workers [--json]" },
	{ "outbox", NULL, cmd_outbox, "outbox [--all] [--json]" },
	{ "stats", NULL, cmd_stats, "stats [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--json]" },
	{ "export", NULL, cmd_export, "export [--csv] [--since YYYY-MM-DD] [--until YYYY-MM-DD]" },
	{ "help", NULL, cmd_help, "help" },
	{ NULL, NULL, NULL, NULL },
};

static const struct verb *verb_find(int argc, char **argv)
{
	for (const struct verb *v = verbs; v->name; v++) {
		if (strcmp(v->name, argv[0]) != 0)
			continue;
		if (!v->sub || (argc > 1 && strcmp(v->sub, argv[1]) == 0))
			return v;
	}
	return NULL;
}

/* Global options; returns the index of the verb, or -exit code to stop. */
static int parse_global(int argc, char **argv, struct ctl *c)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c': c->config_path = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf(PROG " " GRIDLINE_VERSION "\n"); return 0;
		default: return -usage_fail();
		}
	}
	if (optind >= argc)
		return -usage_error("no verb given");
	return optind;
}

static int run(int argc, char **argv)
{
	struct ctl c = { .config_path = CONFIG_DEFAULT_PATH };
	const struct verb *v;
	char *name;
	int first, skip, r;

	first = parse_global(argc, argv, &c);
	if (first <= 0)
		return -first;
	argc -= first;
	argv += first;
	v = verb_find(argc, argv);
	if (!v)
		return usage_error("unknown verb '%s'", argv[0]);
	skip = v->sub ? 1 : 0;
	name = v->sub ? xasprintf(PROG " %s %s", v->name, v->sub) : xasprintf(PROG " %s", v->name);
	argv[skip] = name;       /* getopt's messages name the verb */
	optind = 0;              /* full re-initialisation of getopt */
	r = v->run(&c, argc - skip, argv + skip);
	free(name);
	store_close(c.store);
	config_free(c.cfg);
	return r;
}

int main(int argc, char **argv)
{
	int r;

	/* display widths: wcwidth() needs a UTF-8 LC_CTYPE; cp_wide() backs it up */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	log_init(PROG);
	r = run(argc, argv);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, PROG ": write error on stdout: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	return r;
}
