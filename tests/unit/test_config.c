/*
 * test_config.c — loading and validating gridline.conf: the defaults of a
 * file with only the stable keys, a full file, a table of broken files
 * with the exact "file:line: what" each must produce, the default
 * templates against their SMS segment limits, the keyword sets, address
 * matching, and the shipped conf/gridline.conf and seeds/gridline.conf.
 * Network providers: each type's defaults, SPEC.md's examples, URL and
 * key checks, and the secret — inline, *_file, $CREDENTIALS_DIRECTORY —
 * with its errors, the "readable by others" warnings, and no diagnostic
 * ever quoting it. Runs from the repository root (tests/run.py does).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"
#include "route.h"
#include "sms.h"
#include "text.h"
#include "util.h"

/* ---- helpers ----------------------------------------------------------- */

struct loaded {
	char path[64];
	struct config *c;
	struct diag d;
	int r;
};

/* Load text from a temporary file of that mode, with config_load_flags(). */
static void load_text_full(const char *text, mode_t mode, unsigned flags, struct loaded *ret)
{
	size_t n = strlen(text);
	int fd;

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->path, sizeof(ret->path), "/tmp/test_config_XXXXXX");
	fd = mkstemp(ret->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	ret->r = config_load_flags(ret->path, flags, &ret->c, &ret->d);
	unlink(ret->path);
}

static void load_text(const char *text, struct loaded *ret)
{
	load_text_full(text, 0600, 0, ret);
}

static void loaded_release(struct loaded *l)
{
	config_free(l->c);
	diag_release(&l->d);
}

static void dump(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		print_message("  %s\n", d->lines[i]);
}

/* Is "path:" + want among the diagnostics? A want ending in '*' is a prefix. */
static bool has_line(const struct loaded *l, const char *want)
{
	size_t plen = strlen(l->path), wlen = strlen(want);
	bool prefix = wlen > 0 && want[wlen - 1] == '*';

	if (prefix)
		wlen--;
	for (size_t i = 0; i < l->d.n; i++) {
		const char *s = l->d.lines[i];

		if (strncmp(s, l->path, plen) != 0 || s[plen] != ':')
			continue;
		s += plen + 1;
		if (prefix ? strncmp(s, want, wlen) == 0 : strcmp(s, want) == 0)
			return true;
	}
	return false;
}

static void expect_line(const struct loaded *l, const char *want)
{
	if (!has_line(l, want)) {
		print_message("missing: %s:%s\ngot:\n", l->path, want);
		dump(&l->d);
		fail();
	}
}

/* ---- stable keys only: every default ----------------------------------- */

static const char stable_conf[] =
	"database = \"/var/lib/gridline/gridline.db\";\n"
	"country_code = \"86\";\n"
	"poll_interval = 5.0;\n"
	"provider = { type = \"spool\"; inbox = \"/var/spool/gridline/in\"; "
	"outbox = \"/var/spool/gridline/out\"; };\n"
	"grids = (\n"
	"  { id = \"g1\"; name = \"第一网格\"; worker = \"w01\"; leader = \"w00\"; "
	"addresses = [ \"解放南路281号院\" ]; }\n"
	");\n"
	"workers = (\n"
	"  { id = \"w01\"; name = \"李娜\"; phone = \"+8613900000001\"; role = \"grid\"; },\n"
	"  { id = \"w00\"; name = \"社区主任\"; phone = \"+8613900000009\"; role = \"leader\"; },\n"
	"  { id = \"v01\"; name = \"广欣物业\"; phone = \"+8613900000100\"; role = \"vendor\"; }\n"
	");\n";

static void check_default_categories(const struct config *c)
{
	const struct category *rep, *err, *svc;

	assert_int_equal(c->n_categories, 3);
	rep = config_category(c, "repair");
	err = config_category(c, "errand");
	svc = config_category(c, "service");
	assert_non_null(rep);
	assert_non_null(err);
	assert_non_null(svc);
	assert_string_equal(rep->name, "报修");
	assert_int_equal(rep->n_keywords, 8);
	assert_string_equal(rep->keywords[0], "报修");
	assert_string_equal(rep->keywords[7], "包修");
	assert_int_equal(rep->assign, ASSIGN_ROLE);
	assert_int_equal(rep->role, ROLE_VENDOR);
	assert_true(rep->copy_grid);
	assert_string_equal(err->name, "跑腿");
	assert_int_equal(err->assign, ASSIGN_GRID);
	assert_false(err->copy_grid);
	assert_int_equal(err->n_keywords, 6);
	assert_string_equal(svc->name, "办事");
	assert_int_equal(svc->assign, ASSIGN_ROLE);
	assert_int_equal(svc->role, ROLE_SPECIALIST);
	assert_true(svc->copy_grid);
	assert_null(config_category(c, "unclassified"));
}

static void check_default_commands(const struct config *c)
{
	static const struct {
		enum intent i;
		size_t n;
		const char *first, *last;
	} want[] = {
		{ INTENT_STATUS, 5, "查询", "查讯" }, { INTENT_CANCEL, 3, "取消", "QX" },
		{ INTENT_RATE, 3, "评价", "PJ" }, { INTENT_HELP, 5, "帮助", "BZ" },
		{ INTENT_STOP, 4, "退订", "退定" }, { INTENT_ACCEPT, 5, "接单", "1" },
		{ INTENT_DONE, 4, "完成", "WC" }, { INTENT_DECLINE, 3, "退回", "TH" },
		{ INTENT_TRANSFER, 3, "转", "ZD" }, { INTENT_LIST, 3, "列表", "LB" },
	};

	for (size_t k = 0; k < ELEMENTSOF(want); k++) {
		assert_int_equal(c->n_commands[want[k].i], want[k].n);
		assert_string_equal(c->commands[want[k].i][0], want[k].first);
		assert_string_equal(c->commands[want[k].i][want[k].n - 1], want[k].last);
	}
}

static void check_default_rest(const struct config *c)
{
	assert_string_equal(c->database, "/var/lib/gridline/gridline.db");
	assert_string_equal(c->country_code, "86");
	assert_true(c->poll_interval == 5.0);
	assert_string_equal(c->timezone, "");
	assert_string_equal(c->provider.type, "spool");
	assert_string_equal(c->provider.inbox, "/var/spool/gridline/in");
	assert_string_equal(c->provider.outbox, "/var/spool/gridline/out");
	assert_true(c->provider.rate == 0);
	assert_null(c->provider.url);
	assert_null(c->provider.secret);
	assert_null(c->provider.cafile);
	assert_true(c->provider.timeout == 30 && c->provider.connect_timeout == 10);
	assert_int_equal(c->provider.max_response, 1048576);
	assert_true(c->provider.status_timeout == 86400);
	assert_int_equal(c->limits.notice_segments, 2);
	assert_int_equal(c->limits.reply_segments, 1);
	assert_int_equal(c->limits.max_body, 16384);
	assert_int_equal(c->limits.batch, 500);
	assert_int_equal(c->limits.send_attempts, 8);
	assert_true(c->limits.retry_min == 5);
	assert_true(c->limits.retry_max == 900);
	assert_int_equal(c->limits.quiet_start, 21 * 60 + 30);
	assert_int_equal(c->limits.quiet_end, 7 * 60 + 30);
	assert_int_equal(c->limits.per_hour, 5);
	assert_int_equal(c->limits.per_day, 20);
	assert_int_equal(c->limits.alert_per_hour, 1000);
	assert_true(c->wf.merge_window == 3600);
	assert_true(c->wf.rating_window == 3 * 86400);
	assert_int_equal(c->wf.daily_summary, -1);
	assert_int_equal(c->wf.day_end, 18 * 60);
	assert_non_null(c->wf.calendar);
	assert_true(c->wf.n_urgent_words >= 4);
	assert_int_equal(c->log_level, LOG_INFO);
	assert_true(c->mask_phones);
	for (int t = 0; t < _TMPL_MAX; t++)
		assert_true(c->templates[t] && *c->templates[t]);
	assert_non_null(strstr(c->templates[TMPL_ACK], "【社区热线】"));
	assert_non_null(strstr(c->templates[TMPL_NOTIFY], "接单 {ticket}"));
	assert_non_null(strstr(c->templates[TMPL_RATE_ASK], "回复1满意 2基本满意 3不满意"));
	assert_non_null(strstr(c->templates[TMPL_RATE_ASK_ALONE], "回复1满意 2基本满意 3不满意"));
}

static void test_stable_keys_defaults(void **state)
{
	struct loaded l;
	const struct grid *g;

	(void)state;
	load_text(stable_conf, &l);
	if (l.r != 0)
		dump(&l.d);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.d.n_errors, 0);
	/* no specialist: the built-in service category says so */
	expect_line(&l, " warning: category 'service': no worker has role 'specialist'; "
		    "its tickets go to the grid worker");
	assert_int_equal(l.d.n, 1);
	assert_string_equal(l.c->path, l.path);
	check_default_rest(l.c);
	check_default_categories(l.c);
	check_default_commands(l.c);
	assert_int_equal(l.c->n_workers, 3);
	assert_int_equal(l.c->workers[2].role, ROLE_VENDOR);
	assert_int_equal(l.c->workers[0].line, 9);
	assert_int_equal(l.c->n_grids, 1);
	g = config_grid(l.c, "g1");
	assert_non_null(g);
	assert_string_equal(g->worker, "w01");
	assert_string_equal(g->leader, "w00");
	assert_int_equal(g->n_addresses, 1);
	assert_string_equal(g->addresses[0], "解放南路281号院");
	assert_int_equal(g->line, 6);
	loaded_release(&l);
}

/* An empty file is a configuration too: all defaults, no one to route to. */
static void test_empty_file(void **state)
{
	struct loaded l;

	(void)state;
	load_text("# nothing\n", &l);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.d.n_errors, 0);
	check_default_rest(l.c);
	check_default_categories(l.c);
	check_default_commands(l.c);
	assert_int_equal(l.c->n_workers, 0);
	assert_int_equal(l.c->n_grids, 0);
	assert_null(config_grid_leader(l.c, NULL));
	loaded_release(&l);
}

/* ---- a full file ------------------------------------------------------- */

static const char full_conf[] =
	"database = \"/srv/gl.db\";\n"
	"country_code = \"852\";\n"
	"poll_interval = 2;\n"
	"timezone = \"\";\n"
	"provider = { type = \"spool\"; inbox = \"/s/in\"; outbox = \"/s/out\"; rate = 2.5; };\n"
	"grids = (\n"
	"  { id = \"g1\"; name = \"一\"; worker = \"w01\"; addresses = [ \"A座\", \"菜园\" ]; },\n"
	"  { id = \"g-2\"; worker = \"w02\"; leader = \"L\"; addresses = [ \"菜园小区\" ]; }\n"
	");\n"
	"workers = (\n"
	"  { id = \"w01\"; name = \"甲\"; phone = \"9123 4567\"; },\n"
	"  { id = \"w02\"; name = \"乙\"; phone = \"00852-9123-4568\"; role = \"grid\"; },\n"
	"  { id = \"L\"; phone = \"+85291234569\"; role = \"leader\"; },\n"
	"  { id = \"op_1\"; name = \"值班\"; phone = \"+85291234570\"; role = \"operator\"; }\n"
	");\n"
	"categories = (\n"
	"  { id = \"complaint\"; name = \"投诉\"; keywords = [ \"投诉\", \"TS\" ]; assign = \"operators\"; },\n"
	"  { id = \"fix\"; name = \"修理\"; keywords = [ \"修理\", \"OK\" ]; assign = \"worker\"; "
	"worker = \"w02\"; copy_grid = true; },\n"
	"  { id = \"help_desk\"; name = \"服务\"; keywords = ( \"服务\" ); assign = \"role\"; role = \"operator\"; }\n"
	");\n"
	"commands = { status = [ \"状态\" ]; stop = [ ]; };\n"
	"templates = { ack = \"收到{ticket}\"; done = \"{ticket}好了{{ok}}\"; };\n"
	"limits = { notice_segments = 3; reply_segments = 2; max_body = 256; batch = 10000;\n"
	"  send_attempts = 1; retry_min = 0.5; retry_max = 0.5; };\n"
	"log = { level = \"debug\"; mask_phones = false; };\n";

static void test_full_config(void **state)
{
	struct loaded l;
	const struct config *c;

	(void)state;
	load_text(full_conf, &l);
	if (l.r != 0 || l.d.n != 1)
		dump(&l.d);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.d.n_errors, 0);
	expect_line(&l, "21: warning: commands: 'stop' has no keywords; the command is disabled");
	c = l.c;
	assert_string_equal(c->database, "/srv/gl.db");
	assert_string_equal(c->country_code, "852");
	assert_true(c->poll_interval == 2.0);
	assert_true(c->provider.rate == 2.5);
	assert_string_equal(c->provider.inbox, "/s/in");
	assert_string_equal(c->workers[0].phone, "+85291234567");
	assert_string_equal(c->workers[1].phone, "+85291234568");
	assert_string_equal(c->workers[0].name, "甲");
	assert_string_equal(c->workers[2].name, "L");        /* name defaults to id */
	assert_int_equal(c->workers[0].role, ROLE_GRID);     /* role defaults to grid */
	assert_string_equal(config_grid(c, "g-2")->name, "g-2");
	assert_int_equal(c->n_categories, 3);
	assert_int_equal(c->categories[0].assign, ASSIGN_OPERATORS);
	assert_int_equal(c->categories[1].assign, ASSIGN_WORKER);
	assert_string_equal(c->categories[1].worker, "w02");
	assert_true(c->categories[1].copy_grid);
	assert_int_equal(c->categories[2].assign, ASSIGN_ROLE);
	assert_int_equal(c->categories[2].role, ROLE_OPERATOR);
	assert_false(c->categories[2].copy_grid);
	assert_int_equal(c->n_commands[INTENT_STATUS], 1);
	assert_string_equal(c->commands[INTENT_STATUS][0], "状态");
	assert_int_equal(c->n_commands[INTENT_STOP], 0);
	assert_int_equal(c->n_commands[INTENT_CANCEL], 3);   /* not configured: default */
	assert_string_equal(c->templates[TMPL_ACK], "收到{ticket}");
	assert_string_equal(c->templates[TMPL_DONE], "{ticket}好了{{ok}}");
	assert_non_null(strstr(c->templates[TMPL_HELP], "{keywords}"));
	assert_int_equal(c->limits.notice_segments, 3);
	assert_int_equal(c->limits.reply_segments, 2);
	assert_int_equal(c->limits.max_body, 256);
	assert_int_equal(c->limits.batch, 10000);
	assert_int_equal(c->limits.send_attempts, 1);
	assert_true(c->limits.retry_min == 0.5 && c->limits.retry_max == 0.5);
	assert_int_equal(c->log_level, LOG_DEBUG);
	assert_false(c->mask_phones);
	/* lookups */
	assert_ptr_equal(config_worker_by_phone(c, "+85291234568"), &c->workers[1]);
	assert_null(config_worker_by_phone(c, "91234568"));
	assert_ptr_equal(config_worker_by_role(c, ROLE_OPERATOR), &c->workers[3]);
	assert_null(config_worker_by_role(c, ROLE_VENDOR));
	assert_ptr_equal(config_grid_leader(c, config_grid(c, "g-2")), &c->workers[2]);
	assert_ptr_equal(config_grid_leader(c, config_grid(c, "g1")), &c->workers[2]);
	assert_null(config_worker(c, "w99"));
	assert_null(config_worker(c, NULL));
	assert_null(config_grid(c, "g2"));
	loaded_release(&l);
}

/* ---- broken files ------------------------------------------------------ */

#define MAX_WANT 8

static const struct broken {
	const char *name;
	const char *text;
	const char *want[MAX_WANT];   /* errors, after "path:"; '*' at the end = prefix */
} broken[] = {
	{ "unknown top-level key",
	  "database = \"x\";\n"
	  "workres = ();\n"
	  "frobnicate = 1;\n",
	  { "2: unknown key 'workres' (did you mean 'workers'?)",
	    "3: unknown key 'frobnicate'" } },
	{ "unknown nested keys, every level",
	  "workers = (\n"
	  "  { id = \"w01\"; phone = \"13900000001\"; rol = \"grid\"; }\n"
	  ");\n"
	  "provider = { type = \"spool\"; inbox = \"i\"; outbox = \"o\"; inbx = \"x\"; };\n"
	  "limits = { batchsize = 3; };\n"
	  "grids = ( { id = \"g1\"; worker = \"w01\"; adresses = [ \"x\" ]; } );\n"
	  "categories = ( { id = \"c1\"; keywords = [ \"k\" ]; copygrid = true; } );\n"
	  "commands = { acept = [ \"好\" ]; };\n"
	  "templates = { ak = \"{ticket}\"; };\n"
	  "log = { levle = \"info\"; };\n",
	  { "2: worker 'w01': unknown key 'rol' (did you mean 'role'?)",
	    "4: provider: unknown key 'inbx' (did you mean 'inbox'?)",
	    "5: limits: unknown key 'batchsize'",
	    "6: grid 'g1': unknown key 'adresses' (did you mean 'addresses'?)",
	    "7: category 'c1': unknown key 'copygrid' (did you mean 'copy_grid'?)",
	    "8: commands: unknown key 'acept' (did you mean 'accept'?)",
	    "9: templates: unknown key 'ak' (did you mean 'ack'?)",
	    "10: log: unknown key 'levle' (did you mean 'level'?)" } },
	{ "wrong types",
	  "poll_interval = \"5\";\n"
	  "country_code = 86;\n"
	  "log = { mask_phones = \"yes\"; };\n"
	  "grids = { id = \"g1\"; };\n"
	  "limits = { batch = 5.5; };\n"
	  "commands = { help = \"帮助\"; };\n"
	  "workers = ( \"w01\" );\n",
	  { "1: 'poll_interval' must be a number, not a string",
	    "2: 'country_code' must be a string, not an integer",
	    "3: log: 'mask_phones' must be true or false, not a string",
	    "4: 'grids' must be a list ( { ... }, ... ), not a group",
	    "5: limits: 'batch' must be an integer, not a number",
	    "6: commands: 'help' must be a list of strings [ \"...\", ... ], not a string",
	    "7: each worker must be a group { ... }, not a string" } },
	{ "duplicate worker id",
	  "workers = (\n"
	  "  { id = \"w01\"; phone = \"13900000001\"; },\n"
	  "  { id = \"w01\"; phone = \"13900000002\"; }\n"
	  ");\n",
	  { "3: duplicate worker id 'w01' (first at line 2)" } },
	{ "duplicate phone, after normalisation",
	  "workers = (\n"
	  "  { id = \"w01\"; phone = \"13900000001\"; },\n"
	  "  { id = \"w02\"; phone = \"+86 139-0000-0001\"; }\n"
	  ");\n",
	  { "3: worker 'w02': phone +8613900000001 is also worker 'w01' (line 2)" } },
	{ "dangling grid worker and leader",
	  "workers = ( { id = \"w01\"; phone = \"13900000001\"; } );\n"
	  "grids = ( { id = \"g1\"; worker = \"w99\";\n"
	  "  leader = \"w98\"; } );\n",
	  { "2: grid 'g1': worker 'w99' is not a worker",
	    "3: grid 'g1': leader 'w98' is not a worker" } },
	{ "bad role",
	  "workers = ( { id = \"w01\"; phone = \"13900000001\"; role = \"boss\"; } );\n",
	  { "1: worker 'w01': unknown role 'boss' (grid, leader, vendor, operator, specialist)" } },
	{ "bad ids and phone",
	  "workers = ( { id = \"w 1\"; phone = \"12\"; },\n"
	  "  { phone = \"13900000003\"; },\n"
	  "  { id = \"abcdefghijabcdefghijabcdefghijab\"; phone = \"13900000004\"; } );\n",
	  { "1: worker id 'w 1' must be 1..31 characters of A-Z a-z 0-9 _ -",
	    "1: worker 'w 1': bad phone number '12'",
	    "2: worker: missing 'id'",
	    "3: worker id 'abcdefghijabcdefghijabcdefghijab' must be 1..31 characters of "
	    "A-Z a-z 0-9 _ -" } },
	{ "categories: assign, reserved id, references",
	  "categories = (\n"
	  "  { id = \"repair\"; keywords = [ \"报修\" ]; assign = \"vendor\"; },\n"
	  "  { id = \"unclassified\"; keywords = [ \"杂\" ]; },\n"
	  "  { id = \"errand\"; keywords = [ \"跑腿\" ]; assign = \"worker\"; worker = \"w09\"; },\n"
	  "  { id = \"service\"; keywords = [ \"办事\" ]; assign = \"role\"; },\n"
	  "  { id = \"x\"; keywords = [ \"x\" ]; assign = \"role\"; role = \"boss\"; },\n"
	  "  { id = \"repair\"; keywords = [ ]; }\n"
	  ");\n",
	  { "2: category 'repair': unknown assign 'vendor' (grid, worker, role, operators)",
	    "3: category id 'unclassified' is reserved (text without a keyword)",
	    "4: category 'errand': worker 'w09' is not a worker",
	    "5: category 'service': missing 'role'",
	    "6: category 'x': unknown role 'boss' (grid, leader, vendor, operator, specialist)",
	    "7: duplicate category id 'repair' (first at line 2)",
	    "7: category 'repair': 'keywords' must not be empty" } },
	{ "keywords: collisions after folding, empty",
	  "categories = (\n"
	  "  { id = \"repair\"; keywords = [ \"报修\", \"查询\" ]; },\n"
	  "  { id = \"errand\"; keywords = [ \"跑腿\", \" \",\n"
	  "      \"ｒｅｐａｉｒ\", \"REPAIR\" ]; },\n"
	  "  { id = \"other\"; keywords = [ \"报修\", \"Repair\" ]; }\n"
	  ");\n"
	  "commands = { accept = [ \"接单\", \"报修\" ]; done = [ \"接单\" ]; };\n",
	  { "2: category 'repair': keyword '查询' is already used by command 'status'",
	    "3: category 'errand': empty keyword",
	    "5: category 'other': keyword '报修' is already used by category 'repair' (line 2)",
	    "5: category 'other': keyword 'Repair' is already used by category 'errand' (line 4)",
	    "7: command 'done': keyword '接单' is already used by command 'accept' (line 7)" } },
	{ "unknown template variable",
	  "templates = {\n"
	  "  ack = \"工单{ticket}，{tikcet}\";\n"
	  "  help = \"{keywords\";\n"
	  "};\n",
	  { "2: templates: 'ack': *",
	    "3: templates: 'help': *" } },
	{ "syntax error with its line",
	  "database = \"x\";\n"
	  "poll_interval = 5.0;\n"
	  "grids = ( { id = \"g1\" ) ;\n"
	  "country_code = \"86\";\n",
	  { "3: syntax error" } },
	{ "spool without inbox",
	  "database = \"x\";\n"
	  "provider = { type = \"spool\";\n"
	  "  outbox = \"o\"; };\n",
	  { "2: provider: type \"spool\" needs 'inbox'" } },
	{ "provider type and rate",
	  "provider = { type = \"sms\"; };\n",
	  { "1: provider: unknown type 'sms' (known: spool, twilio, android, http)" } },
	{ "provider rate and empty dirs",
	  "provider = { type = \"spool\"; inbox = \"\"; outbox = \"o\";\n"
	  "  rate = -1; };\n",
	  { "1: provider: 'inbox' must not be empty",
	    "2: provider: 'rate' must not be negative" } },
	{ "ranges",
	  "poll_interval = 0;\n"
	  "country_code = \"+86\";\n"
	  "limits = { notice_segments = 0; max_body = 100;\n"
	  "  retry_min = 10; retry_max = 5; };\n"
	  "log = { level = \"loud\"; };\n"
	  "database = \"\";\n",
	  { "1: 'poll_interval' must be more than 0 and at most 3600 seconds",
	    "2: 'country_code' must be 1 to 3 digits, such as \"86\"",
	    "3: limits: 'notice_segments' must be between 1 and 10, not 0",
	    "3: limits: 'max_body' must be between 256 and 65536, not 100",
	    "4: limits: 'retry_max' (5) must not be less than 'retry_min' (10)",
	    "5: log: unknown level 'loud' (debug, info, notice, warning, error)",
	    "6: 'database' must not be empty" } },
	{ "more ranges",
	  "poll_interval = 3601;\n"
	  "limits = { reply_segments = 11; batch = 0; send_attempts = 101; retry_min = 0; };\n",
	  { "1: 'poll_interval' must be more than 0 and at most 3600 seconds",
	    "2: limits: 'reply_segments' must be between 1 and 10, not 11",
	    "2: limits: 'batch' must be between 1 and 10000, not 0",
	    "2: limits: 'send_attempts' must be between 1 and 100, not 101",
	    "2: limits: 'retry_min' must be more than 0" } },
	{ "addresses",
	  "workers = ( { id = \"w01\"; phone = \"13900000001\"; } );\n"
	  "grids = ( { id = \"g1\"; worker = \"w01\"; addresses = [ \"菜园小区\" ]; },\n"
	  "  { id = \"g2\"; worker = \"w01\"; addresses = [ \"菜园小区\",\n"
	  "     \"\" ]; },\n"
	  "  { id = \"g1\"; worker = \"w01\"; } );\n",
	  { "3: grid 'g2': address '菜园小区' is already in grid 'g1' (line 2)",
	    "4: grid 'g2': empty address",
	    "5: duplicate grid id 'g1' (first at line 2)" } },
	{ "empty categories",
	  "categories = ();\n",
	  { "1: 'categories' must not be empty (leave it out for the built-in ones)" } },
	{ "spool knows none of the network keys",
	  "provider = { type = \"spool\"; inbox = \"i\"; outbox = \"o\";\n"
	  "  url = \"http://gw\"; token = \"t\"; };\n",
	  { "2: provider: unknown key 'url'",
	    "2: provider: unknown key 'token'" } },
	{ "twilio: bad values",
	  "provider = { type = \"twilio\";\n"
	  "  account_sid = \"AC0123456789abcdef0123456789abcdeg\";\n"
	  "  auth_token = \"t\";\n"
	  "  number = \"12\";\n"
	  "  base_url = \"ftp://api.twilio.com\";\n"
	  "  rate = -1; timeout = 0; };\n",
	  { "2: provider: 'account_sid' must be \"AC\" and 32 hex digits",
	    "4: provider: 'number' is not a phone number",
	    "5: provider: 'base_url' must start with http:// or https:// and a host name",
	    "6: provider: 'rate' must not be negative",
	    "6: provider: 'timeout' must be between 1 and 300 seconds, not 0" } },
	{ "twilio: missing and unknown keys",
	  "provider = { type = \"twilio\";\n"
	  "  acount_sid = \"AC0123456789abcdef0123456789abcdef\";\n"
	  "  url = \"https://api.twilio.com\";\n"
	  "  password_file = \"/x\";\n"
	  "  inbox = \"/in\"; };\n",
	  { "1: provider: type \"twilio\" needs 'account_sid'",
	    "1: provider: type \"twilio\" needs 'number'",
	    "1: provider: no auth_token: set auth_token, auth_token_file, or a systemd "
	    "credential 'auth_token'",
	    "2: provider: unknown key 'acount_sid' (did you mean 'account_sid'?)",
	    "3: provider: unknown key 'url'",
	    "4: provider: unknown key 'password_file'",
	    "5: provider: unknown key 'inbox'" } },
	{ "twilio: short sid, empty number, secret of the wrong type",
	  "provider = { type = \"twilio\"; account_sid = \"AC0123\";\n"
	  "  number = \"\";\n"
	  "  auth_token = 5; };\n",
	  { "1: provider: 'account_sid' must be \"AC\" and 32 hex digits",
	    "2: provider: 'number' must not be empty",
	    "3: provider: 'auth_token' must be a string, not an integer" } },
	{ "android: no url, bad username, no password",
	  "provider = { type = \"android\";\n"
	  "  username = \"sms:x\"; };\n",
	  { "1: provider: type \"android\" needs 'url'",
	    "1: provider: no password: set password, password_file, or a systemd credential "
	    "'password'",
	    "2: provider: 'username' must be one or more characters, without ':' or control "
	    "characters" } },
	{ "android: password inline and as a file",
	  "provider = { type = \"android\"; url = \"http://192.168.1.20:8080\";\n"
	  "  password = \"p\";\n"
	  "  password_file = \"/nonexistent\"; };\n",
	  { "3: provider: give 'password' or 'password_file', not both" } },
	{ "http: ranges, types, empty values",
	  "provider = { type = \"http\"; url = \"https://gw\"; token = \"\";\n"
	  "  timeout = \"30\";\n"
	  "  connect_timeout = 121;\n"
	  "  max_response = 1023;\n"
	  "  status_timeout = 0;\n"
	  "  cafile = \"/nonexistent/ca.pem\";\n"
	  "  rate = \"fast\"; };\n",
	  { "1: provider: 'token' is empty",
	    "2: provider: 'timeout' must be a number, not a string",
	    "3: provider: 'connect_timeout' must be between 1 and 120 seconds, not 121",
	    "4: provider: 'max_response' must be between 1024 and 16777216, not 1023",
	    "5: provider: 'status_timeout' must be between 1 and 2592000 seconds, not 0",
	    "6: provider: 'cafile' cannot be read: No such file or directory",
	    "7: provider: 'rate' must be a number, not a string" } },
	{ "http: upper limits, empty file names",
	  "provider = { type = \"http\"; url = \"https://gw\";\n"
	  "  token_file = \"\";\n"
	  "  timeout = 300.5; max_response = 16777217;\n"
	  "  status_timeout = 2592001; cafile = \"\"; };\n",
	  { "2: provider: 'token_file' must not be empty",
	    "3: provider: 'timeout' must be between 1 and 300 seconds, not 300.5",
	    "3: provider: 'max_response' must be between 1024 and 16777216, not 16777217",
	    "4: provider: 'status_timeout' must be between 1 and 2592000 seconds, not 2592001",
	    "4: provider: 'cafile' must not be empty (leave it out for the system's CAs)" } },
	{ "workflow and the SMS economy",
	  "workflow = {\n"
	  "  day_end = \"18\";\n"
	  "  daily_summary = \"25:00\";\n"
	  "  merge_window = -1.0;\n"
	  "  urgent = \"2d\";\n"
	  "  calendar = \"/nonexistent/cal.txt\"; };\n"
	  "limits = { quiet_hours = \"22:00\"; per_hour = 0; };\n"
	  "categories = ( { id = \"x\"; keywords = [ \"X\" ]; accept = \"soon\"; } );\n",
	  { "2: workflow: 'day_end' must be a time of day like \"18:00\", not \"18\"",
	    "3: workflow: 'daily_summary' must be a time of day like \"08:00\" (or \"\" for none), not \"25:00\"",
	    "4: workflow: 'merge_window' must be between 0 and 604800 seconds",
	    "5: workflow: 'urgent' must be a time limit like \"30m\", \"2h\", \"3wd\" (working days), \"eod\" (end of the working day) or \"none\", not \"2d\"",
	    "6: workflow: calendar: /nonexistent/cal.txt: No such file or directory",
	    "7: limits: 'quiet_hours' must be like \"21:30-07:30\" (or \"\" for none), not \"22:00\"",
	    "7: limits: 'per_hour' must be between 1 and 1000, not 0",
	    "8: category 'x': 'accept' must be a time limit like \"30m\", \"2h\", \"3wd\" (working days), \"eod\" (end of the working day) or \"none\", not \"soon\"" } },
};

static void test_broken(void **state)
{
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(broken); i++) {
		const struct broken *b = &broken[i];
		struct loaded l;
		size_t n = 0;

		print_message("case: %s\n", b->name);
		load_text(b->text, &l);
		assert_int_equal(l.r, -EINVAL);
		assert_null(l.c);
		while (n < MAX_WANT && b->want[n])
			expect_line(&l, b->want[n++]);
		if (l.d.n_errors != n)
			dump(&l.d);
		assert_int_equal(l.d.n_errors, n);
		loaded_release(&l);
	}
}

/* *ret untouched on failure; diag appended to, not reset. */
static void test_ret_untouched(void **state)
{
	char path[] = "/tmp/test_config_XXXXXX";
	struct config *c = (struct config *)&c;
	struct diag d = { 0 };
	int fd = mkstemp(path);
	size_t n;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bogus = 1;\n", 11), 11);
	close(fd);
	assert_int_equal(config_load(path, &c, &d), -EINVAL);
	assert_ptr_equal(c, (struct config *)&c);
	assert_int_equal(d.n_errors, 1);
	n = d.n;
	assert_int_equal(config_load(path, &c, &d), -EINVAL);
	assert_int_equal(d.n, 2 * n);
	assert_int_equal(d.n_errors, 2);
	unlink(path);
	diag_release(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.lines);
	diag_release(NULL);
}

/* One file, many problems: every one reported, in line order. */
static void test_all_problems_reported(void **state)
{
	static const char text[] =
		"database = \"/tmp/x.db\";\n"                                     /* 1 */
		"workers = (\n"                                                   /* 2 */
		"  { id = \"w01\"; name = \"李娜\"; phone = \"13900000001\"; },\n" /* 3 */
		"  { id = \"w02\"; nmae = \"王强\"; phone = \"13900000001\"; },\n" /* 4 */
		"  { id = \"w03\"; phone = \"13900000003\"; role = \"cleaner\"; }\n" /* 5 */
		");\n"                                                            /* 6 */
		"grids = (\n"                                                     /* 7 */
		"  { id = \"g1\"; worker = \"w04\"; addresses = [ \"A\" ]; },\n"  /* 8 */
		"  { id = \"g2\"; addresses = [ \"B\" ]; }\n"                    /* 9 */
		");\n"                                                            /* 10 */
		"poll_interval = -1;\n"                                           /* 11 */
		"templates = { done = \"{rating}\"; };\n";                        /* 12 */
	struct loaded l;
	long last = 0;

	(void)state;
	load_text(text, &l);
	assert_int_equal(l.r, -EINVAL);
	expect_line(&l, "4: worker 'w02': unknown key 'nmae' (did you mean 'name'?)");
	expect_line(&l, "4: worker 'w02': phone +8613900000001 is also worker 'w01' (line 3)");
	expect_line(&l, "5: worker 'w03': unknown role 'cleaner' (grid, leader, vendor, operator, "
		    "specialist)");
	expect_line(&l, "8: grid 'g1': worker 'w04' is not a worker");
	expect_line(&l, "9: warning: grid 'g2' has no worker; its tickets go to the operators");
	expect_line(&l, "11: 'poll_interval' must be more than 0 and at most 3600 seconds");
	expect_line(&l, "12: templates: 'done': *");
	assert_int_equal(l.d.n_errors, 6);
	for (size_t i = 0; i < l.d.n; i++) {        /* sorted by line */
		const char *s = l.d.lines[i] + strlen(l.path);
		long line = *s == ':' ? strtol(s + 1, NULL, 10) : 0;

		assert_true(line >= last);
		last = line;
	}
	loaded_release(&l);
}

static void test_missing_file(void **state)
{
	struct config *c = NULL;
	struct diag d = { 0 };

	(void)state;
	assert_int_equal(config_load("/nonexistent/gridline.conf", &c, &d), -ENOENT);
	assert_null(c);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.n_errors, 1);
	assert_string_equal(d.lines[0], "/nonexistent/gridline.conf: cannot open: "
			    "No such file or directory");
	diag_release(&d);
}

/* Warnings do not fail the load. */
static void test_warnings(void **state)
{
	static const char text[] =
		"workers = ( { id = \"w01\"; phone = \"13900000001\"; role = \"leader\"; } );\n"
		"grids = ( { id = \"g1\"; addresses = [ \"A\", \"A\" ]; } );\n"
		"categories = ( { id = \"c\"; keywords = [ \"c\" ]; worker = \"w01\"; },\n"
		"  { id = \"d\"; keywords = [ \"d\" ]; assign = \"role\"; role = \"vendor\"; } );\n"
		"templates = { ack = \"{address}{address}{address}{address}{address}{address}\"\n"
		"  \"{address}{address}\"; };\n";
	struct loaded l;

	(void)state;
	load_text(text, &l);
	if (l.r != 0)
		dump(&l.d);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.d.n_errors, 0);
	expect_line(&l, "2: warning: grid 'g1' has no worker; its tickets go to the operators");
	expect_line(&l, "2: warning: grid 'g1': address 'A' is listed twice");
	expect_line(&l, "3: warning: category 'c': 'worker' is ignored unless assign = \"worker\"");
	expect_line(&l, "4: warning: category 'd': no worker has role 'vendor'; its tickets go "
		    "to the grid worker");
	expect_line(&l, "5: warning: templates: 'ack' needs *");
	assert_int_equal(l.d.n, 5);
	loaded_release(&l);
}

/* ---- templates --------------------------------------------------------- */

/* Typical values (the brief for default templates). */
static const struct sms_var typical[] = {
	{ "ticket", "1024" }, { "category", "报修" },
	{ "text", "厨房下水管堵了，水漫到客厅里，请尽快来修" },   /* 20 characters */
	{ "address", "解放南路281号院" }, { "grid", "第一网格" }, { "worker", "李娜" },
	{ "worker_phone", "+8613900000001" }, { "phone", "+8613800000001" },
	{ "status", "处理中" }, { "note", "已疏通下水管" },         /* 6 */
	{ "reason", "只能处理自己的工单" },                          /* ~10 */
	{ "list", "1024 处理中；1031 已派单" }, { "keywords", "报修/跑腿/办事" },
	{ "due", "11月27日10:30" }, { "what", "接单" }, { "count", "1000" },
};

static void test_default_templates_fit(void **state)
{
	struct loaded l;

	(void)state;
	load_text("", &l);
	assert_int_equal(l.r, 0);
	for (int t = 0; t < _TMPL_MAX; t++) {
		bool notice = t == TMPL_NOTIFY || t == TMPL_NOTIFY_COPY ||
			      t == TMPL_NOTIFY_OPERATORS || t == TMPL_REMIND || t == TMPL_OVERDUE;
		size_t max = notice ? l.c->limits.notice_segments : l.c->limits.reply_segments;
		struct sms_count n;
		char *out = NULL;

		/* no cutting: the whole typical text must fit */
		assert_int_equal(sms_render(l.c->templates[t], typical, ELEMENTSOF(typical), 99,
					    NULL, &out), 0);
		sms_count(out, &n);
		print_message("%-17s %zu segment(s), %3zu units: %s\n", tmpl_name((enum tmpl_id)t),
			      n.segments, n.units, out);
		assert_int_equal(n.encoding, SMS_UCS2);
		assert_true(n.segments >= 1);
		assert_true(n.segments <= max);
		if (notice)
			assert_non_null(strstr(out, typical[2].value));
		free(out);
	}
	assert_int_equal(l.c->limits.notice_segments, 2);
	assert_int_equal(l.c->limits.reply_segments, 1);
	{       /* 回访: with a typical note the question fits in the done text */
		char *joined = xasprintf("%s%s", l.c->templates[TMPL_DONE],
					 l.c->templates[TMPL_RATE_ASK]), *out = NULL;
		struct sms_count n;

		assert_int_equal(sms_render(joined, typical, ELEMENTSOF(typical), 99, NULL, &out), 0);
		sms_count(out, &n);
		assert_int_equal(n.segments, 1);
		free(out);
		free(joined);
	}
	loaded_release(&l);
}

static void test_template_names(void **state)
{
	(void)state;
	assert_string_equal(tmpl_name(TMPL_ACK), "ack");
	assert_string_equal(tmpl_name(TMPL_ACK_UNCLASSIFIED), "ack_unclassified");
	assert_string_equal(tmpl_name(TMPL_NOTIFY_OPERATORS), "notify_operators");
	assert_string_equal(tmpl_name(TMPL_REOPENED_WORKER), "reopened_worker");
	assert_string_equal(tmpl_name(TMPL_WORKER_HELP), "worker_help");
	assert_null(tmpl_name(_TMPL_MAX));
	for (int a = 0; a < _TMPL_MAX; a++) {
		assert_non_null(tmpl_name((enum tmpl_id)a));
		for (int b = a + 1; b < _TMPL_MAX; b++)
			assert_string_not_equal(tmpl_name((enum tmpl_id)a), tmpl_name((enum tmpl_id)b));
	}
	assert_string_equal(worker_role_name(ROLE_GRID), "grid");
	assert_string_equal(worker_role_name(ROLE_LEADER), "leader");
	assert_string_equal(worker_role_name(ROLE_VENDOR), "vendor");
	assert_string_equal(worker_role_name(ROLE_OPERATOR), "operator");
	assert_string_equal(worker_role_name(ROLE_SPECIALIST), "specialist");
}

/* ---- keyword sets ------------------------------------------------------ */

static const struct {
	bool worker;
	const char *text;
	enum intent intent;
	const char *category;   /* INTENT_CATEGORY */
	int64_t ticket;
	const char *rest;
} parses[] = {
	{ false, "报修 下水管堵了", INTENT_CATEGORY, "repair", 0, "下水管堵了" },
	{ false, "报修下水管堵了", INTENT_CATEGORY, "repair", 0, "下水管堵了" },
	{ false, "ＢＸ 墙砖掉了", INTENT_CATEGORY, "repair", 0, "墙砖掉了" },
	{ false, "保修：墙砖掉了", INTENT_CATEGORY, "repair", 0, "墙砖掉了" },
	{ false, "买菜 白菜两斤", INTENT_CATEGORY, "errand", 0, "白菜两斤" },
	{ false, "zx 换首诊医院", INTENT_CATEGORY, "service", 0, "换首诊医院" },
	{ false, "查询 1024", INTENT_STATUS, NULL, 1024, "" },
	{ false, "取消 1024", INTENT_CANCEL, NULL, 1024, "" },
	{ false, "？", INTENT_HELP, NULL, 0, "" },
	{ false, "TD", INTENT_STOP, NULL, 0, "" },
	{ false, "接单 1024", INTENT_NONE, NULL, 0, "接单 1024" },   /* not for residents */
	{ false, "你好", INTENT_NONE, NULL, 0, "你好" },
	{ true, "接单 1024", INTENT_ACCEPT, NULL, 1024, "" },
	{ true, "1", INTENT_ACCEPT, NULL, 0, "" },
	{ true, "完成 1024 已疏通", INTENT_DONE, NULL, 1024, "已疏通" },
	{ true, "列表", INTENT_LIST, NULL, 0, "" },
	{ true, "报修 下水管", INTENT_NONE, NULL, 0, "报修 下水管" },
};

static void test_keyword_sets(void **state)
{
	struct keyword_set *res, *wrk;
	struct loaded l;

	(void)state;
	load_text(stable_conf, &l);
	assert_int_equal(l.r, 0);
	res = config_resident_keywords(l.c);
	wrk = config_worker_keywords(l.c);
	assert_non_null(res);
	assert_non_null(wrk);
	for (size_t i = 0; i < ELEMENTSOF(parses); i++) {
		char *norm = text_normalize(parses[i].text);
		struct parsed p;

		text_parse(parses[i].worker ? wrk : res, norm, &p);
		print_message("parse %s\n", parses[i].text);
		assert_int_equal(p.intent, parses[i].intent);
		if (parses[i].category) {
			assert_true(p.category >= 0 && (size_t)p.category < l.c->n_categories);
			assert_string_equal(l.c->categories[p.category].id, parses[i].category);
		}
		assert_int_equal(p.ticket, parses[i].ticket);
		assert_string_equal(p.rest, parses[i].rest);
		free(norm);
	}
	keyword_set_free(res);
	keyword_set_free(wrk);
	loaded_release(&l);
}

/* The same keyword may mean one thing to residents and another to workers. */
static void test_keywords_separate_sets(void **state)
{
	static const char text[] =
		"categories = ( { id = \"ok\"; keywords = [ \"OK\", \"完成\" ]; } );\n";
	struct loaded l;

	(void)state;
	load_text(text, &l);
	if (l.r != 0)
		dump(&l.d);
	assert_int_equal(l.r, 0);
	assert_int_equal(l.d.n_errors, 0);
	loaded_release(&l);
}

/* ---- address matching -------------------------------------------------- */

static const char addr_conf[] =
	"workers = ( { id = \"w01\"; phone = \"13900000001\"; } );\n"
	"grids = (\n"
	"  { id = \"g1\"; worker = \"w01\"; addresses = [ \"菜园\", \"寇庄西路６号院\" ]; },\n"
	"  { id = \"g2\"; worker = \"w01\"; addresses = [ \"菜园小区\", \"B座\" ]; },\n"
	"  { id = \"g3\"; worker = \"w01\"; addresses = [ \"菜园小区7号楼\" ]; }\n"
	");\n";

static void test_address_longest(void **state)
{
	static const struct {
		const char *text;
		const char *grid;     /* NULL: none */
		const char *pattern;
	} cases[] = {
		{ "菜园街5号 买菜", "g1", "菜园" },
		{ "报修 菜园小区3号楼漏水", "g2", "菜园小区" },
		{ "菜园小区7号楼2单元", "g3", "菜园小区7号楼" },
		{ "寇庄西路6号院3单元 下水管堵了", "g1", "寇庄西路6号院" },
		{ "寇庄西路６号院", "g1", "寇庄西路6号院" },
		{ "b座301", "g2", "B座" },
		{ "解放南路281号院", NULL, NULL },
		{ "", NULL, NULL },
	};
	struct loaded l;

	(void)state;
	load_text(addr_conf, &l);
	if (l.r != 0)
		dump(&l.d);
	assert_int_equal(l.r, 0);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const char *pattern = "unset";
		const struct grid *g = route_grid_by_address(l.c, cases[i].text, &pattern);

		print_message("address %s\n", cases[i].text);
		if (!cases[i].grid) {
			assert_null(g);
			assert_string_equal(pattern, "unset");
			continue;
		}
		assert_non_null(g);
		assert_string_equal(g->id, cases[i].grid);
		assert_string_equal(pattern, cases[i].pattern);
		assert_ptr_equal(route_grid_by_address(l.c, cases[i].text, NULL), g);
	}
	assert_null(route_grid_by_address(l.c, NULL, NULL));
	loaded_release(&l);
}

/* ---- network providers and secrets ------------------------------------- */

/* Workers for every role the built-in categories use: a load without warnings. */
#define QUIET_WORKERS \
	"workers = ( { id = \"w00\"; phone = \"13900000009\"; role = \"leader\"; },\n" \
	"  { id = \"v01\"; phone = \"13900000100\"; role = \"vendor\"; },\n" \
	"  { id = \"s01\"; phone = \"13900000201\"; role = \"specialist\"; } );\n"

#define SID "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"   /* PROVIDERS.md's example */

/* A directory for secret files, removed with its files by tdir_remove(). */
static void tdir_make(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/test_config_dXXXXXX");
	assert_non_null(mkdtemp(dir));
}

/* dir/name holding content[n] with that mode; the path (heap). */
static char *tfile(const char *dir, const char *name, const char *content, size_t n,
		   mode_t mode)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(fwrite(content, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void tdir_remove(const char *dir, const char *const *names)
{
	for (size_t i = 0; names[i]; i++) {
		char *path = xasprintf("%s/%s", dir, names[i]);

		unlink(path);
		free(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

/* Loaded without a single diagnostic. */
static void expect_clean(const struct loaded *l)
{
	if (l->r != 0 || l->d.n != 0)
		dump(&l->d);
	assert_int_equal(l->r, 0);
	assert_int_equal(l->d.n, 0);
}

static void check_http_defaults(const struct provider_config *p)
{
	assert_true(p->rate == 10);
	assert_true(p->timeout == 30);
	assert_true(p->connect_timeout == 10);
	assert_int_equal(p->max_response, 1048576);
	assert_true(p->status_timeout == 86400);
	assert_null(p->cafile);
	assert_null(p->inbox);
	assert_null(p->outbox);
	assert_int_equal(p->line, 1);
}

/* The smallest file of each network type: everything else defaults. */
static void test_network_minimal(void **state)
{
	static const struct {
		const char *text;
		const char *type, *url, *sid, *number, *username, *secret;
	} cases[] = {
		{ "provider = { type = \"twilio\"; account_sid = \"AC0123456789abcdef0123456789ABCDEF\";\n"
		  "  auth_token = \"tw-tok\"; number = \"138 0000 0001\"; };\n" QUIET_WORKERS,
		  "twilio", "https://api.twilio.com", "AC0123456789abcdef0123456789ABCDEF",
		  "+8613800000001", NULL, "tw-tok" },
		{ "provider = { type = \"android\"; url = \"http://192.168.1.20:8080/\";\n"
		  "  password = \"a pass:word\"; };\n" QUIET_WORKERS,
		  "android", "http://192.168.1.20:8080", NULL, NULL, "sms", "a pass:word" },
		{ "provider = { type = \"http\"; url = \"HTTPS://gw.example/gridline//\";\n"
		  "  token = \"h-tok\"; };\n" QUIET_WORKERS,
		  "http", "HTTPS://gw.example/gridline", NULL, NULL, NULL, "h-tok" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		const struct provider_config *p;
		struct loaded l;

		print_message("type %s\n", cases[i].type);
		load_text(cases[i].text, &l);
		expect_clean(&l);
		p = &l.c->provider;
		assert_string_equal(p->type, cases[i].type);
		check_http_defaults(p);
		assert_string_equal(p->url, cases[i].url);
		assert_string_equal(p->secret, cases[i].secret);
		if (cases[i].sid)
			assert_string_equal(p->account_sid, cases[i].sid);
		else
			assert_null(p->account_sid);
		if (cases[i].number)
			assert_string_equal(p->number, cases[i].number);
		else
			assert_null(p->number);
		if (cases[i].username)
			assert_string_equal(p->username, cases[i].username);
		else
			assert_null(p->username);
		loaded_release(&l);
	}
}

/* Every key of a network provider, set. */
static void test_network_all_keys(void **state)
{
	static const char *const names[] = { "ca.pem", NULL };
	char dir[64], *ca, *text;
	const struct provider_config *p;
	struct loaded l;

	(void)state;
	tdir_make(dir, sizeof(dir));
	ca = tfile(dir, "ca.pem", "-----BEGIN CERTIFICATE-----\n", 28, 0644);
	text = xasprintf("provider = { type = \"android\"; url = \"https://[::1]:8443/api\";\n"
			 "  username = \"office\"; password = \"pw\"; rate = 2.5;\n"
			 "  cafile = \"%s\"; timeout = 5.5; connect_timeout = 2;\n"
			 "  max_response = 2048; status_timeout = 600; };\n" QUIET_WORKERS, ca);
	load_text(text, &l);
	expect_clean(&l);
	p = &l.c->provider;
	assert_string_equal(p->url, "https://[::1]:8443/api");
	assert_string_equal(p->username, "office");
	assert_string_equal(p->secret, "pw");
	assert_true(p->rate == 2.5);
	assert_string_equal(p->cafile, ca);
	assert_true(p->timeout == 5.5);
	assert_true(p->connect_timeout == 2);
	assert_int_equal(p->max_response, 2048);
	assert_true(p->status_timeout == 600);
	loaded_release(&l);
	free(text);

	/* rate 0 (unpaced) is allowed; a connect timeout past the total is a warning */
	load_text("provider = { type = \"http\"; url = \"http://gw\"; token = \"t\"; rate = 0;\n"
		  "  timeout = 5; connect_timeout = 20; };\n" QUIET_WORKERS, &l);
	assert_int_equal(l.r, 0);
	assert_true(l.c->provider.rate == 0);
	expect_line(&l, "2: warning: provider: 'connect_timeout' (20) is longer than 'timeout' "
		    "(5); the total timeout applies first");
	assert_int_equal(l.d.n, 1);
	loaded_release(&l);
	free(ca);
	tdir_remove(dir, names);
}

/* SPEC.md's three examples, with a real SID and the "..." files made. */
static void test_spec_examples(void **state)
{
	static const char *const names[] = { "twilio.token", "android.password", "http.token",
					     NULL };
	char dir[64], *tw, *an, *ht, *text;
	struct loaded l;
	const struct provider_config *p;

	(void)state;
	tdir_make(dir, sizeof(dir));
	tw = tfile(dir, "twilio.token", "0123456789abcdef0123456789abcdef\n", 33, 0600);
	an = tfile(dir, "android.password", "Xy7-pw\n", 7, 0400);
	ht = tfile(dir, "http.token", "gw-token", 8, 0600);

	text = xasprintf("provider = { type = \"twilio\"; account_sid = \"" SID "\"; "
			 "auth_token_file = \"%s\";\n"
			 "             number = \"+15005550006\"; base_url = "
			 "\"https://api.twilio.com\"; };\n" QUIET_WORKERS, tw);
	load_text(text, &l);
	expect_clean(&l);
	p = &l.c->provider;
	assert_string_equal(p->account_sid, SID);
	assert_string_equal(p->secret, "0123456789abcdef0123456789abcdef");
	assert_string_equal(p->number, "+15005550006");
	assert_string_equal(p->url, "https://api.twilio.com");
	assert_true(p->rate == 10);
	loaded_release(&l);
	free(text);

	text = xasprintf("provider = { type = \"android\"; url = \"http://192.168.1.20:8080\"; "
			 "username = \"sms\"; password_file = \"%s\"; };\n" QUIET_WORKERS, an);
	load_text(text, &l);
	expect_clean(&l);
	assert_string_equal(l.c->provider.url, "http://192.168.1.20:8080");
	assert_string_equal(l.c->provider.username, "sms");
	assert_string_equal(l.c->provider.secret, "Xy7-pw");
	loaded_release(&l);
	free(text);

	text = xasprintf("provider = { type = \"http\"; url = \"https://gw.example/gridline\"; "
			 "token_file = \"%s\"; };\n" QUIET_WORKERS, ht);
	load_text(text, &l);
	expect_clean(&l);
	assert_string_equal(l.c->provider.url, "https://gw.example/gridline");
	assert_string_equal(l.c->provider.secret, "gw-token");
	loaded_release(&l);
	free(text);
	free(tw);
	free(an);
	free(ht);
	tdir_remove(dir, names);
}

/* URLs: http(s) with a host, parsed by libcurl, no credentials, never quoted. */
static void test_provider_urls(void **state)
{
	static const struct {
		const char *url;
		const char *want;     /* NULL: accepted */
	} cases[] = {
		{ "http://gw", NULL },
		{ "HTTPS://gw.example/a/b/", NULL },
		{ "http://192.168.1.20:8080", NULL },
		{ "gw.example", "must start with http:// or https:// and a host name" },
		{ "192.168.1.20:8080", "must start with http:// or https:// and a host name" },
		{ "https://", "must start with http:// or https:// and a host name" },
		{ "http:///gw", "must start with http:// or https:// and a host name" },
		{ "http:/gw", "must start with http:// or https:// and a host name" },
		{ "ftp://gw", "must start with http:// or https:// and a host name" },
		{ "", "must start with http:// or https:// and a host name" },
		{ "http://g w/", "is not a valid URL: *" },
		{ "http://gw:99999/", "is not a valid URL: *" },
		{ "https://user:pw@gw.example", "must not hold a user name or password" },
		{ "https://:pw@gw.example", "must not hold a user name or password" },
		{ "https://user@gw.example", "must not hold a user name or password" },
	};

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *text = xasprintf("provider = { type = \"http\"; token = \"t\";\n"
				       "  url = \"%s\"; };\n" QUIET_WORKERS, cases[i].url);
		char *want = cases[i].want ? xasprintf("2: provider: 'url' %s", cases[i].want) : NULL;
		struct loaded l;

		print_message("url '%s'\n", cases[i].url);
		load_text(text, &l);
		if (!want) {
			expect_clean(&l);
		} else {
			assert_int_equal(l.r, -EINVAL);
			expect_line(&l, want);
			assert_int_equal(l.d.n_errors, 1);
		}
		if (want && strstr(cases[i].url, "gw"))   /* the URL itself is never quoted */
			for (size_t k = 0; k < l.d.n; k++)
				assert_null(strstr(l.d.lines[k], cases[i].url));
		loaded_release(&l);
		free(text);
		free(want);
	}
}

/* A secret file: one trailing newline dropped, nothing else changed. */
static void test_secret_file(void **state)
{
	static const struct {
		const char *content;
		size_t n;
		const char *want;         /* the secret, or NULL */
		const char *error;        /* the error after "provider: the file of 'token_file' " */
	} cases[] = {
		{ "tok-lf\n", 7, "tok-lf", NULL },
		{ "tok-crlf\r\n", 10, "tok-crlf", NULL },
		{ "tok", 3, "tok", NULL },
		{ " a b \n", 6, " a b ", NULL },
		{ "", 0, NULL, "is empty" },
		{ "\n", 1, NULL, "is empty" },
		{ "tok\n\n", 5, NULL, "holds a line break or another control character" },
		{ "tok\nmore\n", 9, NULL, "holds a line break or another control character" },
		{ "t\0k\n", 4, NULL, "holds a line break or another control character" },
		{ "t\tk\n", 4, NULL, "holds a line break or another control character" },
	};
	static const char *const names[] = { "token", NULL };
	char dir[64];

	(void)state;
	tdir_make(dir, sizeof(dir));
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *path = tfile(dir, "token", cases[i].content, cases[i].n, 0600);
		char *text = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
				       "  token_file = \"%s\"; };\n" QUIET_WORKERS, path);
		struct loaded l;

		print_message("case %zu\n", i);
		load_text(text, &l);
		if (cases[i].want) {
			expect_clean(&l);
			assert_string_equal(l.c->provider.secret, cases[i].want);
		} else {
			char *want = xasprintf("2: provider: the file of 'token_file' %s",
					       cases[i].error);

			assert_int_equal(l.r, -EINVAL);
			expect_line(&l, want);
			assert_int_equal(l.d.n_errors, 1);
			free(want);
		}
		loaded_release(&l);
		free(text);
		free(path);
	}
	tdir_remove(dir, names);
}

/* Sizes: 4096 bytes (plus a newline) is the most. */
static void test_secret_size(void **state)
{
	static const char *const names[] = { "token", NULL };
	char dir[64], big[4100];
	struct loaded l;
	char *path, *text;

	(void)state;
	tdir_make(dir, sizeof(dir));
	memset(big, 'k', sizeof(big));
	big[4096] = '\n';
	path = tfile(dir, "token", big, 4097, 0600);
	text = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			 "  token_file = \"%s\"; };\n" QUIET_WORKERS, path);
	load_text(text, &l);
	expect_clean(&l);
	assert_int_equal(strlen(l.c->provider.secret), 4096);
	loaded_release(&l);
	free(path);

	big[4096] = 'k';
	big[4097] = '\n';
	path = tfile(dir, "token", big, 4098, 0600);
	load_text(text, &l);
	assert_int_equal(l.r, -EINVAL);
	expect_line(&l, "2: provider: the file of 'token_file' is longer than 4096 bytes");
	loaded_release(&l);
	free(path);
	path = tfile(dir, "token", big, sizeof(big), 0600);
	load_text(text, &l);
	expect_line(&l, "2: provider: the file of 'token_file' is longer than 4096 bytes");
	loaded_release(&l);
	free(text);
	free(path);

	/* inline, the same limits */
	big[4096] = '\0';
	text = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			 "  token = \"%s\"; };\n" QUIET_WORKERS, big);
	load_text(text, &l);
	expect_clean(&l);
	loaded_release(&l);
	free(text);
	big[4096] = 'k';
	big[4097] = '\0';
	text = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			 "  token = \"%s\"; };\n" QUIET_WORKERS, big);
	load_text(text, &l);
	expect_line(&l, "2: provider: 'token' is longer than 4096 bytes");
	loaded_release(&l);
	free(text);
	load_text("provider = { type = \"http\"; url = \"https://gw\";\n"
		  "  token = \"a\\nb\"; };\n", &l);
	expect_line(&l, "2: provider: 'token' holds a line break or another control character");
	loaded_release(&l);
	tdir_remove(dir, names);
}

/* Secret files that cannot be read. */
static void test_secret_file_unreadable(void **state)
{
	static const char *const names[] = { "token", "sub", NULL };
	char dir[64], *path, *sub, *text;
	struct loaded l;

	(void)state;
	tdir_make(dir, sizeof(dir));
	/* missing */
	text = xasprintf("provider = { type = \"android\"; url = \"http://p:8080\";\n"
			 "  password_file = \"%s/none\"; };\n" QUIET_WORKERS, dir);
	load_text(text, &l);
	assert_int_equal(l.r, -EINVAL);
	expect_line(&l, "2: provider: the file of 'password_file' cannot be read: "
		    "No such file or directory");
	assert_int_equal(l.d.n_errors, 1);
	loaded_release(&l);
	free(text);
	/* a directory */
	sub = xasprintf("%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	text = xasprintf("provider = { type = \"android\"; url = \"http://p:8080\";\n"
			 "  password_file = \"%s\"; };\n" QUIET_WORKERS, sub);
	load_text(text, &l);
	expect_line(&l, "2: provider: the file of 'password_file' is not a regular file");
	loaded_release(&l);
	free(text);
	assert_int_equal(rmdir(sub), 0);
	free(sub);
	/* no permission (root reads anything: checked only as another user) */
	path = tfile(dir, "token", "pw\n", 3, 0000);
	if (geteuid() != 0) {
		text = xasprintf("provider = { type = \"android\"; url = \"http://p:8080\";\n"
				 "  password_file = \"%s\"; };\n" QUIET_WORKERS, path);
		load_text(text, &l);
		expect_line(&l, "2: provider: the file of 'password_file' cannot be read: "
			    "Permission denied");
		loaded_release(&l);
		free(text);
	}
	free(path);
	tdir_remove(dir, names);
}

/* $CREDENTIALS_DIRECTORY/<secret name> when neither key is given. */
static void test_secret_credential(void **state)
{
	static const char *const names[] = { "password", "auth_token", "tok", NULL };
	char dir[64], *text, *pw, *tok;
	struct loaded l;

	(void)state;
	tdir_make(dir, sizeof(dir));
	pw = tfile(dir, "password", "pw-cred\n", 8, 0400);
	tok = tfile(dir, "tok", "pw-file\n", 8, 0600);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);

	load_text("provider = { type = \"android\"; url = \"http://p:8080\"; };\n" QUIET_WORKERS,
		  &l);
	expect_clean(&l);
	assert_string_equal(l.c->provider.secret, "pw-cred");
	loaded_release(&l);
	/* an inline secret or a file wins over the credential */
	load_text("provider = { type = \"android\"; url = \"http://p:8080\"; password = \"pw-in\"; };\n"
		  QUIET_WORKERS, &l);
	expect_clean(&l);
	assert_string_equal(l.c->provider.secret, "pw-in");
	loaded_release(&l);
	text = xasprintf("provider = { type = \"android\"; url = \"http://p:8080\"; "
			 "password_file = \"%s\"; };\n" QUIET_WORKERS, tok);
	load_text(text, &l);
	expect_clean(&l);
	assert_string_equal(l.c->provider.secret, "pw-file");
	loaded_release(&l);
	free(text);
	/* the credential of another name is not taken */
	load_text("provider = { type = \"http\"; url = \"http://gw\"; };\n" QUIET_WORKERS, &l);
	assert_int_equal(l.r, -EINVAL);
	expect_line(&l, "1: provider: no token: set token, token_file, or a systemd credential "
		    "'token'");
	assert_int_equal(l.d.n_errors, 1);
	loaded_release(&l);
	/* a credential that is there but unusable is an error of its own */
	free(tfile(dir, "auth_token", "", 0, 0400));
	load_text("provider = { type = \"twilio\"; account_sid = \"" SID "\";\n"
		  "  number = \"+15005550006\"; };\n" QUIET_WORKERS, &l);
	text = xasprintf("1: provider: systemd credential 'auth_token' (%s/auth_token) is empty",
			 dir);
	expect_line(&l, text);
	assert_int_equal(l.d.n_errors, 1);
	loaded_release(&l);
	free(text);
	/* without the variable: nothing */
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	load_text("provider = { type = \"android\"; url = \"http://p:8080\"; };\n", &l);
	expect_line(&l, "1: provider: no password: set password, password_file, or a systemd "
		    "credential 'password'");
	loaded_release(&l);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", "", 1), 0);
	load_text("provider = { type = \"android\"; url = \"http://p:8080\"; };\n", &l);
	assert_int_equal(l.r, -EINVAL);
	loaded_release(&l);
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	free(pw);
	free(tok);
	tdir_remove(dir, names);
}

/* A config holding a secret, or a secret file, that others may read. */
static void test_secret_mode_warning(void **state)
{
	static const struct {
		mode_t mode;
		bool warn;
	} modes[] = {
		{ 0600, false }, { 0400, false }, { 0700, false }, { 0640, true },
		{ 0644, true }, { 0604, true }, { 0660, true },
	};
	static const char *const names[] = { "token", NULL };
	static const char inline_conf[] =
		"provider = { type = \"twilio\"; account_sid = \"" SID "\";\n"
		"  auth_token = \"tw-tok\"; number = \"+15005550006\"; };\n" QUIET_WORKERS;
	char dir[64], want[200], *path, *text;
	struct loaded l;

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
		print_message("mode %04o\n", (unsigned)modes[i].mode);
		load_text_full(inline_conf, modes[i].mode, 0, &l);
		assert_int_equal(l.r, 0);
		assert_int_equal(l.d.n_errors, 0);
		snprintf(want, sizeof(want), "2: warning: the config holds a secret (auth_token) but "
			 "is readable by others (mode %04o); chmod 600 it or use auth_token_file",
			 (unsigned)modes[i].mode);
		if (modes[i].warn)
			expect_line(&l, want);
		assert_int_equal(l.d.n, modes[i].warn ? 1 : 0);
		loaded_release(&l);
	}

	/* a secret file others can read; the config then holds no secret */
	tdir_make(dir, sizeof(dir));
	path = tfile(dir, "token", "tok\n", 4, 0644);
	text = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			 "  token_file = \"%s\"; };\n" QUIET_WORKERS, path);
	load_text_full(text, 0644, 0, &l);
	assert_int_equal(l.r, 0);
	expect_line(&l, "2: warning: the secret file of 'token_file' is readable by others "
		    "(mode 0644); chmod 600 it");
	assert_int_equal(l.d.n, 1);
	loaded_release(&l);
	assert_int_equal(chmod(path, 0600), 0);
	load_text_full(text, 0644, 0, &l);
	expect_clean(&l);
	loaded_release(&l);
	free(text);
	free(path);
	tdir_remove(dir, names);
}

/* The warning names the file that holds the secret, an @include'd one too. */
static void test_secret_mode_include(void **state)
{
	static const char *const names[] = { "main.conf", "provider.conf", NULL };
	static const char main_text[] = "@include \"provider.conf\"\n" QUIET_WORKERS;
	static const char inc_text[] =
		"provider = { type = \"http\"; url = \"https://gw\"; token = \"t\"; };\n";
	char dir[64], *main_path, *inc_path, *want;
	struct config *c = NULL;
	struct diag d = { 0 };

	(void)state;
	tdir_make(dir, sizeof(dir));
	main_path = tfile(dir, "main.conf", main_text, strlen(main_text), 0600);
	inc_path = tfile(dir, "provider.conf", inc_text, strlen(inc_text), 0644);
	assert_int_equal(config_load(main_path, &c, &d), 0);
	want = xasprintf("%s:1: warning: the config holds a secret (token) but is readable by "
			 "others (mode 0644); chmod 600 it or use token_file", inc_path);
	if (d.n != 1)
		dump(&d);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0], want);
	assert_string_equal(c->provider.secret, "t");
	config_free(c);
	diag_release(&d);
	free(want);
	free(main_path);
	free(inc_path);
	tdir_remove(dir, names);
}

#define LEAK "Zq9-S3CRET-never-shown"

/* However a secret is misplaced or broken, no diagnostic quotes it. */
static void test_secret_never_shown(void **state)
{
	static const char *const names[] = { "multi", "open", "token", NULL };
	char dir[64], big[5000], *multi, *open_;
	char *texts[20];
	struct loaded l;
	size_t n = 0;

	(void)state;
	tdir_make(dir, sizeof(dir));
	multi = tfile(dir, "multi", LEAK "\nmore\n", strlen(LEAK "\nmore\n"), 0600);
	open_ = tfile(dir, "open", LEAK "\n", strlen(LEAK "\n"), 0644);
	free(tfile(dir, "token", LEAK "\n\n", strlen(LEAK "\n\n"), 0600));
	memset(big, 'x', sizeof(big));
	memcpy(big, LEAK, strlen(LEAK));
	big[sizeof(big) - 1] = '\0';

	/* a warning: inline, in a world-readable file (loaded 0644 below) */
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\"; "
			       "token = \"%s\"; };\n", LEAK);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			       "  token = \"%s\"; token_file = \"%s\"; };\n", LEAK, open_);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			       "  token_file = \"%s\"; };\n", multi);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			       "  token_file = \"%s\"; };\n", open_);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			       "  token_file = \"%s\"; };\n", LEAK);    /* pasted for a path */
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			       "  token = \"%s\\t\"; };\n", LEAK);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			       "  token = \"%s\"; };\n", big);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://u:%s@gw\";\n"
			       "  token = \"t\"; };\n", LEAK);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"%s\";\n"
			       "  token = \"t\"; };\n", LEAK);
	texts[n++] = xasprintf("provider = { type = \"twilio\"; account_sid = \"%s\";\n"
			       "  number = \"%s\"; auth_token = \"t\"; };\n", LEAK, LEAK);
	texts[n++] = xasprintf("provider = { type = \"android\"; url = \"http://p\";\n"
			       "  username = \"%s:\"; auth_tokn = \"%s\"; };\n", LEAK, LEAK);
	texts[n++] = xasprintf("provider = { type = \"android\"; url = \"http://p\";\n"
			       "  password = 5; cafile = \"%s\"; };\n", LEAK);
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\";\n"
			       "  token = \"%s; };\n", LEAK);           /* unterminated */
	texts[n++] = xasprintf("provider = { type = \"http\"; url = \"https://gw\"; };\n");
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", dir, 1), 0);
	for (size_t i = 0; i < n; i++) {
		print_message("case %zu\n", i);
		load_text_full(texts[i], 0644, 0, &l);
		assert_true(l.d.n >= 1);           /* each says something ... */
		for (size_t k = 0; k < l.d.n; k++) /* ... without the secret */
			if (strstr(l.d.lines[k], LEAK)) {
				dump(&l.d);
				fail();
			}
		loaded_release(&l);
		free(texts[i]);
	}
	assert_int_equal(unsetenv("CREDENTIALS_DIRECTORY"), 0);
	free(multi);
	free(open_);
	tdir_remove(dir, names);
}

static void test_provider_secret_name(void **state)
{
	(void)state;
	assert_string_equal(provider_secret_name("twilio"), "auth_token");
	assert_string_equal(provider_secret_name("android"), "password");
	assert_string_equal(provider_secret_name("http"), "token");
	assert_null(provider_secret_name("spool"));
	assert_null(provider_secret_name("sms"));
	assert_null(provider_secret_name(NULL));
}

/* gridlinectl's load: no secret read, none required; the rest still checked. */
static void test_skip_secrets(void **state)
{
	struct loaded l;

	(void)state;
	load_text_full("provider = { type = \"twilio\"; account_sid = \"" SID "\";\n"
		       "  number = \"+15005550006\"; auth_token_file = \"/nonexistent\"; };\n"
		       QUIET_WORKERS, 0600, CONFIG_SKIP_SECRETS, &l);
	expect_clean(&l);
	assert_null(l.c->provider.secret);
	assert_string_equal(l.c->provider.account_sid, SID);
	loaded_release(&l);
	load_text_full("provider = { type = \"http\"; url = \"gw\"; };\n" QUIET_WORKERS, 0600,
		       CONFIG_SKIP_SECRETS, &l);
	assert_int_equal(l.r, -EINVAL);
	expect_line(&l, "1: provider: 'url' must start with http:// or https:// and a host name");
	assert_int_equal(l.d.n_errors, 1);
	loaded_release(&l);
}

/* ---- shipped files ----------------------------------------------------- */

static struct config *load_shipped(const char *path)
{
	struct config *c = NULL;
	struct diag d = { 0 };
	int r = config_load(path, &c, &d);

	for (size_t i = 0; i < d.n; i++)
		print_message("  %s\n", d.lines[i]);
	assert_int_equal(r, 0);
	assert_int_equal(d.n_errors, 0);
	diag_release(&d);
	return c;
}

/* The sample documents the defaults: its templates, commands are them. */
static void test_sample_conf(void **state)
{
	struct config *c = load_shipped("conf/gridline.conf");
	struct loaded def;

	(void)state;
	load_text("", &def);
	assert_int_equal(def.r, 0);
	for (int t = 0; t < _TMPL_MAX; t++)
		assert_string_equal(c->templates[t], def.c->templates[t]);
	for (int i = INTENT_STATUS; i < _INTENT_MAX; i++) {
		assert_int_equal(c->n_commands[i], def.c->n_commands[i]);
		for (size_t k = 0; k < c->n_commands[i]; k++)
			assert_string_equal(c->commands[i][k], def.c->commands[i][k]);
	}
	assert_int_equal(c->n_categories, def.c->n_categories);
	for (size_t i = 0; i < c->n_categories; i++) {
		assert_string_equal(c->categories[i].id, def.c->categories[i].id);
		assert_int_equal(c->categories[i].n_keywords, def.c->categories[i].n_keywords);
		assert_int_equal(c->categories[i].assign, def.c->categories[i].assign);
		assert_int_equal(c->categories[i].role, def.c->categories[i].role);
		assert_int_equal(c->categories[i].copy_grid, def.c->categories[i].copy_grid);
	}
	assert_true(c->n_grids >= 2 && c->n_grids <= 3);
	check_default_rest(c);
	loaded_release(&def);
	config_free(c);
}

static void test_seed_conf(void **state)
{
	struct config *c = load_shipped("seeds/gridline.conf");
	const struct grid *g;
	char name[16];

	(void)state;
	assert_int_equal(c->n_grids, 10);
	for (int i = 1; i <= 10; i++) {
		snprintf(name, sizeof(name), "g%d", i);
		g = config_grid(c, name);
		assert_non_null(g);
		assert_non_null(config_worker(c, g->worker));
		assert_int_equal(config_worker(c, g->worker)->role, ROLE_GRID);
		assert_true(g->n_addresses >= 1);
	}
	assert_string_equal(config_grid_leader(c, config_grid(c, "g1"))->name, "庞丽红");
	assert_non_null(config_worker_by_role(c, ROLE_VENDOR));
	assert_non_null(config_worker_by_role(c, ROLE_OPERATOR));
	assert_non_null(config_worker_by_role(c, ROLE_SPECIALIST));
	assert_string_equal(route_grid_by_address(c, "寇庄西路6号院3单元", NULL)->id, "g2");
	assert_string_equal(route_grid_by_address(c, "菜园小区7号楼", NULL)->id, "g3");
	assert_string_equal(route_grid_by_address(c, "解放南路281号院", NULL)->id, "g1");
	assert_string_equal(c->database, "demo/gridline.db");
	assert_string_equal(c->provider.inbox, "demo/spool/in");
	assert_string_equal(c->provider.outbox, "demo/spool/out");
	config_free(c);
}

/*
 * The commented-out provider examples of the sample, uncommented, load
 * (secrets skipped: their files are the admin's).
 */
static void test_sample_provider_blocks(void **state)
{
	static const char *const want[] = { "twilio", "android", "http" };
	FILE *f = fopen("conf/gridline.conf", "r");
	char line[512], block[4096];
	size_t n_blocks = 0, used = 0;
	bool in = false;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		struct loaded l;
		char *text;

		if (!in && strcmp(line, "#provider = {\n") == 0) {
			in = true;
			used = 0;
		}
		if (!in)
			continue;
		assert_true(line[0] == '#');
		assert_true(used + strlen(line) < sizeof(block));
		used += (size_t)snprintf(block + used, sizeof(block) - used, "%s", line + 1);
		if (strcmp(line, "#};\n") != 0)
			continue;
		in = false;
		text = xasprintf("%s%s", block, QUIET_WORKERS);
		load_text_full(text, 0600, CONFIG_SKIP_SECRETS, &l);
		expect_clean(&l);
		assert_true(n_blocks < ELEMENTSOF(want));
		assert_string_equal(l.c->provider.type, want[n_blocks]);
		check_http_defaults(&l.c->provider);
		loaded_release(&l);
		free(text);
		n_blocks++;
	}
	fclose(f);
	assert_false(in);
	assert_int_equal(n_blocks, ELEMENTSOF(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stable_keys_defaults),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_full_config),
		cmocka_unit_test(test_broken),
		cmocka_unit_test(test_ret_untouched),
		cmocka_unit_test(test_all_problems_reported),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_default_templates_fit),
		cmocka_unit_test(test_template_names),
		cmocka_unit_test(test_keyword_sets),
		cmocka_unit_test(test_keywords_separate_sets),
		cmocka_unit_test(test_address_longest),
		cmocka_unit_test(test_network_minimal),
		cmocka_unit_test(test_network_all_keys),
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_provider_urls),
		cmocka_unit_test(test_secret_file),
		cmocka_unit_test(test_secret_size),
		cmocka_unit_test(test_secret_file_unreadable),
		cmocka_unit_test(test_secret_credential),
		cmocka_unit_test(test_secret_mode_warning),
		cmocka_unit_test(test_secret_mode_include),
		cmocka_unit_test(test_secret_never_shown),
		cmocka_unit_test(test_provider_secret_name),
		cmocka_unit_test(test_skip_secrets),
		cmocka_unit_test(test_sample_conf),
		cmocka_unit_test(test_seed_conf),
		cmocka_unit_test(test_sample_provider_blocks),
	};

	/* a credential of the environment the tests run in must not count */
	unsetenv("CREDENTIALS_DIRECTORY");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
