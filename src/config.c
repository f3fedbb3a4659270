/*
 * config.c — load gridline.conf (libconfig) into struct config.
 *
 * The file is parsed with libconfig, every setting is checked against a
 * table of known keys and types, values are copied into plain C structs
 * (libconfig's tree is destroyed before config_load() returns), and the
 * whole is cross-checked (worker references, duplicate ids, phones and
 * keywords, template variables). Every problem is collected as
 * "file:line: what" — nothing stops at the first one — so that
 * `gridlined --check-config` can show them all. This module never logs:
 * the caller decides what to do with the diagnostics.
 *
 * Network providers (twilio, android, http) get their secret here, from the
 * file, a `*_file`, or a systemd credential; it is checked but never quoted
 * in a diagnostic, and a file holding one that others can read is a warning.
 *
 * The defaults (built-in categories, command keywords, templates, limits)
 * live here as tables; conf/gridline.conf documents each of them.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libconfig.h>

#include "calendar.h"
#include "config.h"
#include "log.h"
#include "provider.h"
#include "sms.h"
#include "text.h"
#include "tmplvar.h"
#include "util.h"

/* ---- defaults ---------------------------------------------------------- */

#define DEFAULT_DATABASE "/var/lib/gridline/gridline.db"
#define DEFAULT_COUNTRY "86"
#define DEFAULT_POLL 5.0
#define DEFAULT_INBOX "/var/spool/gridline/in"
#define DEFAULT_OUTBOX "/var/spool/gridline/out"
#define POLL_MAX 3600.0
#define KW_MAX 12            /* keywords in a built-in list */
#define DEFAULT_TIMEOUT 30.0            /* provider HTTP: total, seconds */
#define DEFAULT_CONNECT_TIMEOUT 10.0
#define DEFAULT_MAX_RESPONSE (1024u * 1024u)
#define DEFAULT_STATUS_TIMEOUT 86400.0  /* sent, no final status: 'unknown' after */
#define DEFAULT_ANDROID_USER "sms"      /* the app's local-server user */
#define TIMEOUT_MAX 300.0
#define CONNECT_TIMEOUT_MAX 120.0
#define STATUS_TIMEOUT_MAX 2592000.0    /* 30 days */
#define SECRET_MAX 4096                 /* bytes of a token or password */
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

struct builtin_category {
	const char *id;
	const char *name;
	const char *keywords[KW_MAX];
	enum assign_rule assign;
	enum worker_role role;
	bool copy_grid;
	struct tlimit done;
};

/* Used when the file has no `categories`. */
static const struct builtin_category builtin_categories[] = {
	{ "repair", "报修", { "报修", "维修", "修", "REPAIR", "FIX", "BX", "保修", "包修" },
	  ASSIGN_ROLE, ROLE_VENDOR, true, { TL_WORKDAYS, 2 } },
	{ "errand", "跑腿", { "跑腿", "代办", "买菜", "ERRAND", "PT", "跑退" },
	  ASSIGN_GRID, ROLE_GRID, false, { TL_EOD, 0 } },
	{ "service", "办事", { "办事", "咨询", "SERVICE", "BS", "ZX" },
	  ASSIGN_ROLE, ROLE_SPECIALIST, true, { TL_WORKDAYS, 3 } },
};

#define DEFAULT_ACCEPT ((struct tlimit){ TL_MINUTES, 30 })
#define DEFAULT_DONE ((struct tlimit){ TL_WORKDAYS, 3 })
#define DEFAULT_URGENT ((struct tlimit){ TL_MINUTES, 120 })
#define DEFAULT_DAY_END (18 * 60)
#define DEFAULT_RATING_WINDOW (3 * 86400.0)
static const char *const default_urgent_words[] = { "漏水", "漏电", "燃气", "着火", "火灾", "煤气" };

/* Command keywords, indexed by enum intent. "？" folds to "?" when matched. */
static const char *const default_commands[_INTENT_MAX][KW_MAX] = {
	[INTENT_STATUS] = { "查询", "进度", "STATUS", "CX", "查讯" },
	[INTENT_CANCEL] = { "取消", "CANCEL", "QX" },
	[INTENT_RATE] = { "评价", "RATE", "PJ" },
	[INTENT_HELP] = { "帮助", "?", "？", "HELP", "BZ" },
	[INTENT_STOP] = { "退订", "TD", "STOP", "退定" },
	[INTENT_ACCEPT] = { "接单", "ACCEPT", "OK", "JD", "1" },
	[INTENT_DONE] = { "完成", "办结", "DONE", "WC" },
	[INTENT_DECLINE] = { "退回", "DECLINE", "TH" },
	[INTENT_TRANSFER] = { "转", "TRANSFER", "ZD" },
	[INTENT_LIST] = { "列表", "LIST", "LB" },
};

static bool intent_is_worker(enum intent i)
{
	return i >= INTENT_ACCEPT && i <= INTENT_LIST;
}

static const char *const tmpl_names[_TMPL_MAX + 1] = {  /* NULL-terminated */
	[TMPL_ACK] = "ack",
	[TMPL_ACK_UNCLASSIFIED] = "ack_unclassified",
	[TMPL_NOTIFY] = "notify",
	[TMPL_NOTIFY_COPY] = "notify_copy",
	[TMPL_NOTIFY_OPERATORS] = "notify_operators",
	[TMPL_STATUS] = "status",
	[TMPL_STATUS_NONE] = "status_none",
	[TMPL_CANCELLED] = "cancelled",
	[TMPL_CANCELLED_WORKER] = "cancelled_worker",
	[TMPL_ACCEPTED] = "accepted",
	[TMPL_ACCEPT_OK] = "accept_ok",
	[TMPL_DONE] = "done",
	[TMPL_DONE_OK] = "done_ok",
	[TMPL_RATED] = "rated",
	[TMPL_REOPENED] = "reopened",
	[TMPL_REOPENED_WORKER] = "reopened_worker",
	[TMPL_HELP] = "help",
	[TMPL_STOP] = "stop",
	[TMPL_DENIED] = "denied",
	[TMPL_UNKNOWN_TICKET] = "unknown_ticket",
	[TMPL_WORKER_HELP] = "worker_help",
	[TMPL_HANDED_OVER] = "handed_over",
	[TMPL_UNDELIVERED] = "undelivered",
	[TMPL_MISSED_CALL] = "missed_call",
	[TMPL_RATE_ASK] = "rate_ask",
	[TMPL_RATE_ASK_ALONE] = "rate_ask_alone",
	[TMPL_REMIND] = "remind",
	[TMPL_OVERDUE] = "overdue",
	[TMPL_REOPENED_LEADER] = "reopened_leader",
	[TMPL_MERGED] = "merged",
	[TMPL_FLOOD] = "flood",
	[TMPL_DAILY] = "daily",
	[TMPL_CLOSED_WORKER] = "closed_worker",
};

/*
 * Default texts. Each fits one segment (70 UCS-2 units) with typical
 * values; the three notices carry {text}, cut to limits.notice_segments.
 * Resident-facing ones carry the 【社区热线】 signature.
 */
static const char *const default_templates[_TMPL_MAX] = {
	[TMPL_ACK] = "【社区热线】已收到您的{category}诉求，工单号{ticket}，我们会尽快安排。"
		"回复“查询 {ticket}”查看进度。",
	[TMPL_ACK_UNCLASSIFIED] = "【社区热线】您的短信已收到（编号{ticket}），值班员会尽快处理。"
		"回复“帮助”查看办事关键词。",
	[TMPL_NOTIFY] = "新{category}工单{ticket}：{text}。{grid}{address} 居民电话{phone}。"
		"回复“接单 {ticket}”接单，办完回复“完成 {ticket} 处理情况”。",
	[TMPL_NOTIFY_COPY] = "抄送：{category}工单{ticket}已派{worker}处理：{text}。"
		"{grid}{address} 请知悉，无需回复。",
	[TMPL_NOTIFY_OPERATORS] = "待派单：{category}工单{ticket}：{text}。{grid}{address} "
		"居民电话{phone}。请派单，或回复“转 {ticket} 工号”。",
	[TMPL_STATUS] = "【社区热线】工单进度：{list}。",
	[TMPL_STATUS_NONE] = "【社区热线】您目前没有办理中的工单。需要报修、跑腿、办事，"
		"请回复“帮助”查看用法。",
	[TMPL_CANCELLED] = "【社区热线】工单{ticket}已取消。如仍需帮助，欢迎随时发短信。",
	[TMPL_CANCELLED_WORKER] = "工单{ticket}（{category}）居民已取消，无需再处理。",
	[TMPL_ACCEPTED] = "【社区热线】工单{ticket}已由{worker}接单，电话{worker_phone}，"
		"请保持电话畅通。",
	[TMPL_ACCEPT_OK] = "已接单{ticket}。办完回复“完成 {ticket} 处理情况”，"
		"办不了回复“退回 {ticket} 原因”。",
	[TMPL_DONE] = "【社区热线】工单{ticket}已办完。{note}",
	[TMPL_DONE_OK] = "工单{ticket}已记为完成，已请居民评价。辛苦了！",
	[TMPL_RATED] = "【社区热线】感谢您的评价！工单{ticket}已办结。",
	[TMPL_REOPENED] = "【社区热线】抱歉没让您满意，工单{ticket}已重新办理，{worker}会尽快再联系您。",
	[TMPL_REOPENED_WORKER] = "工单{ticket}居民评价不满意，已重办。请尽快处理，"
		"办完回复“完成 {ticket} 处理情况”。",
	[TMPL_HELP] = "【社区热线】请发“关键词+内容”，如“报修 下水管堵了”。关键词：{keywords}。"
		"另可发：查询、取消、评价、退订。",
	[TMPL_STOP] = "【社区热线】已退订通知短信，您工单的办理结果仍会告知。",
	[TMPL_DENIED] = "【社区热线】无法办理：{reason}。",
	[TMPL_UNKNOWN_TICKET] = "【社区热线】没有找到工单{ticket}，请核对工单号，"
		"或回复“查询”查看您的工单。",
	[TMPL_WORKER_HELP] = "没看懂您的回复。可回复：接单 工单号；完成 工单号 情况；"
		"退回 工单号 原因；转 工单号 工号；列表",
	[TMPL_HANDED_OVER] = "工单{ticket}已转交{worker}处理，谢谢。",
	[TMPL_UNDELIVERED] = "短信未送达{worker}（工单{ticket}）：{reason}。请电话联系。",
	[TMPL_MISSED_CALL] = "【社区热线】未能接听您的来电，工作人员会尽快回电（编号{ticket}）。"
		"也可发短信，如“报修 下水管堵了”。",
	[TMPL_RATE_ASK] = " 回复1满意 2基本满意 3不满意",
	[TMPL_RATE_ASK_ALONE] = "【社区热线】工单{ticket}办得怎么样？回复1满意 2基本满意 3不满意",
	[TMPL_REMIND] = "催办：工单{ticket}（{category}）请于{due}前{what}。{text}",
	[TMPL_OVERDUE] = "超时督办：工单{ticket}（{category}）{what}已超时（时限{due}），"
		"经办{worker}。{grid}{address} {text}",
	[TMPL_REOPENED_LEADER] = "重办：工单{ticket}（{category}）居民评价不满意，已退回{worker}重办。"
		"{grid}{address}",
	[TMPL_MERGED] = "【社区热线】{address}的这个问题已有人反映，已并入工单{ticket}一起办理，"
		"办完会通知您。",
	[TMPL_FLOOD] = "【热线告警】过去一小时已发出{count}条短信，超过{reason}条的告警线，请检查。",
	[TMPL_DAILY] = "【网格日报】{grid}昨日新收{count}件；现{list}。",
	[TMPL_CLOSED_WORKER] = "工单{ticket}（{category}）已由值班员关闭，无需再处理。{note}",
};

static const char *const role_names[] = {
	[ROLE_GRID] = "grid",
	[ROLE_LEADER] = "leader",
	[ROLE_VENDOR] = "vendor",
	[ROLE_OPERATOR] = "operator",
	[ROLE_SPECIALIST] = "specialist",
};

static const char *const assign_names[] = {
	[ASSIGN_GRID] = "grid",
	[ASSIGN_WORKER] = "worker",
	[ASSIGN_ROLE] = "role",
	[ASSIGN_OPERATORS] = "operators",
};

/* Known keys, per level. */
static const char *const top_keys[] = {
	"database", "country_code", "poll_interval", "timezone", "provider", "grids",
	"workers", "categories", "commands", "templates", "limits", "log", "workflow", NULL,
};
static const char *const workflow_keys[] = {
	"calendar", "day_end", "urgent_words", "urgent", "rating_window", "merge_window",
	"daily_summary", NULL,
};
static const char *const worker_keys[] = { "id", "name", "phone", "role", NULL };
static const char *const grid_keys[] = { "id", "name", "worker", "leader", "addresses", NULL };
static const char *const category_keys[] = {
	"id", "name", "keywords", "assign", "worker", "role", "copy_grid", "accept", "done", NULL,
};
static const char *const limits_keys[] = {
	"notice_segments", "reply_segments", "max_body", "batch", "send_attempts",
	"retry_min", "retry_max", "quiet_hours", "per_hour", "per_day", "alert_per_hour", NULL,
};
static const char *const log_keys[] = { "level", "mask_phones", NULL };
static const char *const spool_keys[] = { "type", "inbox", "outbox", "rate", NULL };
static const char *const twilio_keys[] = {
	"type", "account_sid", "auth_token", "auth_token_file", "number", "base_url", "rate",
	"cafile", "timeout", "connect_timeout", "max_response", "status_timeout",
	"undelivered_to_operators", NULL,
};
static const char *const android_keys[] = {
	"type", "url", "username", "password", "password_file", "rate", "cafile", "timeout",
	"connect_timeout", "max_response", "status_timeout", "undelivered_to_operators", NULL,
};
static const char *const http_keys[] = {
	"type", "url", "token", "token_file", "rate", "cafile", "timeout", "connect_timeout",
	"max_response", "status_timeout", "undelivered_to_operators", NULL,
};

/* Provider types and their keys. */
struct provider_type {
	const char *type;
	const char *const *keys;
	double rate;          /* default texts per second */
	const char *secret;   /* inline secret key; also "<secret>_file" and the credential name */
	const char *url_key;  /* key of the base URL, NULL for none */
	const char *url;      /* its default, NULL when required */
};
static const struct provider_type provider_types[] = {
	{ "spool", spool_keys, 0, NULL, NULL, NULL },
	{ "twilio", twilio_keys, 10, "auth_token", "base_url", "https://api.twilio.com" },
	{ "android", android_keys, 10, "password", "url", NULL },
	{ "http", http_keys, 10, "token", "url", NULL },
};

const char *worker_role_name(enum worker_role r)
{
	if ((size_t)r < ELEMENTSOF(role_names))
		return role_names[r];
	return "?";
}

const char *tmpl_name(enum tmpl_id t)
{
	if ((size_t)t < ELEMENTSOF(tmpl_names))
		return tmpl_names[t];
	return NULL;
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* ---- diagnostics ------------------------------------------------------- */

void diag_release(struct diag *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	d->lines = NULL;
	d->n = 0;
	d->n_errors = 0;
}

static void diag_push(struct diag *d, char *line, bool error)
{
	d->lines = xrealloc(d->lines, (d->n + 1) * sizeof(*d->lines));
	d->lines[d->n++] = line;
	if (error)
		d->n_errors++;
}

struct problem {
	const char *file;    /* borrowed: the path, or libconfig's file name (copied) */
	bool main;           /* file is the main file */
	int line;
	bool error;
	char *msg;
	size_t seq;
};

/* One load in progress. */
struct loader {
	const char *path;
	unsigned flags;      /* CONFIG_* */
	struct config *c;
	struct problem *p;
	size_t n_p;
	size_t n_errors;
	char **files;        /* copies of libconfig file names (included files) */
	size_t n_files;
	char *dir;           /* directory of path: @include files are relative to it */
	char cc[4];          /* country code phones are normalised with */
	/* keyword settings, for line numbers: per category, per command */
	const config_setting_t **cat_kw;
	const config_setting_t *cmd_kw[_INTENT_MAX];
	/* first keyword seen per normalised form, per audience */
	struct seen_kw *seen;
	size_t n_seen;
};

struct seen_kw {
	char *norm;          /* normalised, ASCII upper-cased */
	bool worker;         /* audience: workers (else residents) */
	char *owner;         /* "category 'repair'", "command 'status'" */
	int line;
};

/*
 * A stable copy of a file name libconfig reported (l->path for the main
 * file). libconfig gives @include files as written; they are relative to
 * the main file's directory (the include dir), so say that.
 */
static const char *loader_file_name(struct loader *l, const char *f)
{
	char *full;

	if (!f || strcmp(f, l->path) == 0)
		return l->path;
	if (f[0] != '/' && l->dir && strcmp(l->dir, ".") != 0)
		full = xasprintf("%s/%s", l->dir, f);
	else
		full = xstrdup(f);
	for (size_t i = 0; i < l->n_files; i++) {
		if (strcmp(l->files[i], full) == 0) {
			free(full);
			return l->files[i];
		}
	}
	l->files = xrealloc(l->files, (l->n_files + 1) * sizeof(*l->files));
	l->files[l->n_files] = full;
	return l->files[l->n_files++];
}

static const char *loader_file(struct loader *l, const config_setting_t *s)
{
	return loader_file_name(l, s ? config_setting_source_file(s) : NULL);
}

static void vreport(struct loader *l, const char *file, int line, bool error,
		    const char *fmt, va_list ap)
{
	struct problem *p;
	va_list aq;
	char *msg;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		n = 0;
	msg = xmalloc((size_t)n + 1);
	vsnprintf(msg, (size_t)n + 1, fmt, ap);
	l->p = xrealloc(l->p, (l->n_p + 1) * sizeof(*l->p));
	p = &l->p[l->n_p];
	p->file = file;
	p->main = file == l->path;
	p->line = line;
	p->error = error;
	p->msg = msg;
	p->seq = l->n_p++;
	if (error)
		l->n_errors++;
}

__attribute__((format(printf, 3, 4)))
static void err(struct loader *l, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(l, loader_file(l, s), s ? config_setting_source_line(s) : 0, true, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 3, 4)))
static void warn(struct loader *l, const config_setting_t *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(l, loader_file(l, s), s ? config_setting_source_line(s) : 0, false, fmt, ap);
	va_end(ap);
}

/* An error at a line we only know as a number (keywords found earlier). */
__attribute__((format(printf, 4, 5)))
static void err_line(struct loader *l, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(l, file, line, true, fmt, ap);
	va_end(ap);
}

__attribute__((format(printf, 4, 5)))
static void warn_line(struct loader *l, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(l, file, line, false, fmt, ap);
	va_end(ap);
}

/* Main file first, then included files, each by line, then discovery order. */
static int problem_cmp(const void *a, const void *b)
{
	const struct problem *x = a, *y = b;
	int r;

	if (x->main != y->main)
		return x->main ? -1 : 1;
	r = x->file != y->file ? strcmp(x->file, y->file) : 0;
	if (r)
		return r;
	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void loader_flush(struct loader *l, struct diag *d)
{
	if (l->n_p > 1)
		qsort(l->p, l->n_p, sizeof(*l->p), problem_cmp);
	for (size_t i = 0; i < l->n_p; i++) {
		struct problem *p = &l->p[i];
		const char *w = p->error ? "" : "warning: ";
		char *line;

		if (p->line > 0)
			line = xasprintf("%s:%d: %s%s", p->file, p->line, w, p->msg);
		else
			line = xasprintf("%s: %s%s", p->file, w, p->msg);
		diag_push(d, line, p->error);
		free(p->msg);
	}
	free(l->p);
	l->p = NULL;
	l->n_p = 0;
}

static void loader_release(struct loader *l)
{
	for (size_t i = 0; i < l->n_files; i++)
		free(l->files[i]);
	free(l->files);
	for (size_t i = 0; i < l->n_seen; i++) {
		free(l->seen[i].norm);
		free(l->seen[i].owner);
	}
	free(l->seen);
	free(l->cat_kw);
	free(l->dir);
}

/* ---- key and type checks ----------------------------------------------- */

/*
 * Edit distance of two short strings, a swap of neighbours counting as
 * one edit (optimal string alignment: "nmae" is 1 from "name"); huge when
 * too long to matter.
 */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t r0[64], r1[64], r2[64];   /* rows i-2, i-1, i */
	size_t *pp = r0, *prev = r1, *cur = r2, *t;

	if (la >= ELEMENTSOF(r0) || lb >= ELEMENTSOF(r0))
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[lb];
}

/*
 * The known name closest to s: within distance 2, and less than half the
 * longer name changed ("foo" is not a typo of "log"); NULL if none.
 */
static const char *closest(const char *s, const char *const *known)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (size_t i = 0; known[i]; i++) {
		size_t dist = edit_distance(s, known[i]);
		size_t longer = strlen(s) > strlen(known[i]) ? strlen(s) : strlen(known[i]);

		if (dist < best_d && dist * 2 < longer) {
			best_d = dist;
			best = known[i];
		}
	}
	return best;
}

static bool known_key(const char *s, const char *const *known)
{
	for (size_t i = 0; known[i]; i++)
		if (strcmp(s, known[i]) == 0)
			return true;
	return false;
}

static void unknown_key(struct loader *l, const config_setting_t *s, const char *ctx,
			const char *const *known)
{
	const char *name = config_setting_name(s);
	const char *near = closest(name, known);

	if (near)
		err(l, s, "%sunknown key '%s' (did you mean '%s'?)", ctx, name, near);
	else
		err(l, s, "%sunknown key '%s'", ctx, name);
}

/* Report every member of group g whose name is not in known. */
static void check_keys(struct loader *l, const config_setting_t *g, const char *ctx,
		       const char *const *known)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, i);

		if (!known_key(config_setting_name(s), known))
			unknown_key(l, s, ctx, known);
	}
}

static const char *type_name(int type)
{
	switch (type) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a number";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "?";
}

static void wrong_type(struct loader *l, const config_setting_t *s, const char *ctx,
		       const char *want)
{
	err(l, s, "%s'%s' must be %s, not %s", ctx, config_setting_name(s), want,
	    type_name(config_setting_type(s)));
}

/* Member name of g, or NULL; a required one missing is reported at g. */
static const config_setting_t *member(struct loader *l, const config_setting_t *g,
				      const char *ctx, const char *name, bool required)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s && required)
		err(l, g, "%smissing '%s'", ctx, name);
	return s;
}

/* A string member copied into *dst (old value freed); the setting, or NULL. */
static const config_setting_t *get_string(struct loader *l, const config_setting_t *g,
					  const char *ctx, const char *name, bool required,
					  char **dst)
{
	const config_setting_t *s = member(l, g, ctx, name, required);

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		wrong_type(l, s, ctx, "a string");
		return NULL;
	}
	free(*dst);
	*dst = xstrdup(config_setting_get_string(s));
	return s;
}

/* A number (integer or float) member into *dst; the setting, or NULL. */
static const config_setting_t *get_number(struct loader *l, const config_setting_t *g,
					  const char *ctx, const char *name, double *dst)
{
	const config_setting_t *s = member(l, g, ctx, name, false);

	if (!s)
		return NULL;
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		*dst = (double)config_setting_get_int64(s);
		return s;
	case CONFIG_TYPE_FLOAT:
		*dst = config_setting_get_float(s);
		return s;
	}
	wrong_type(l, s, ctx, "a number");
	return NULL;
}

/* An integer member in lo..hi into *dst. */
static void get_uint(struct loader *l, const config_setting_t *g, const char *ctx,
		     const char *name, unsigned lo, unsigned hi, unsigned *dst)
{
	const config_setting_t *s = member(l, g, ctx, name, false);
	long long v;

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
	    config_setting_type(s) != CONFIG_TYPE_INT64) {
		wrong_type(l, s, ctx, "an integer");
		return;
	}
	v = config_setting_get_int64(s);
	if (v < lo || v > hi) {
		err(l, s, "%s'%s' must be between %u and %u, not %lld", ctx, name, lo, hi, v);
		return;
	}
	*dst = (unsigned)v;
}

static void get_bool(struct loader *l, const config_setting_t *g, const char *ctx,
		     const char *name, bool *dst)
{
	const config_setting_t *s = member(l, g, ctx, name, false);

	if (!s)
		return;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL) {
		wrong_type(l, s, ctx, "true or false");
		return;
	}
	*dst = config_setting_get_bool(s);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * A list or array of strings into *dst / *n (old value freed). All or
 * nothing: returns the setting, or NULL (absent, or reported).
 */
static const config_setting_t *get_strlist(struct loader *l, const config_setting_t *g,
					   const char *ctx, const char *name, bool required,
					   char ***dst, size_t *n)
{
	const config_setting_t *s = member(l, g, ctx, name, required);
	int len;
	char **v;

	if (!s)
		return NULL;
	if (config_setting_type(s) != CONFIG_TYPE_ARRAY && config_setting_type(s) != CONFIG_TYPE_LIST) {
		wrong_type(l, s, ctx, "a list of strings [ \"...\", ... ]");
		return NULL;
	}
	len = config_setting_length(s);
	for (int i = 0; i < len; i++) {
		const config_setting_t *e = config_setting_get_elem(s, i);

		if (config_setting_type(e) != CONFIG_TYPE_STRING) {
			err(l, e, "%s'%s' must be a list of strings, item %d is %s", ctx, name,
			    i + 1, type_name(config_setting_type(e)));
			return NULL;
		}
	}
	v = xcalloc((size_t)len, sizeof(*v));
	for (int i = 0; i < len; i++)
		v[i] = xstrdup(config_setting_get_string(config_setting_get_elem(s, i)));
	strv_free(*dst, *n);
	*dst = v;
	*n = (size_t)len;
	return s;
}

static const config_setting_t *get_group(struct loader *l, const config_setting_t *g,
					 const char *name)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (s && config_setting_type(s) != CONFIG_TYPE_GROUP) {
		wrong_type(l, s, "", "a group { ... }");
		return NULL;
	}
	return s;
}

/* A list of groups: `name = ( { ... }, ... )`; an empty [] is fine too. */
static const config_setting_t *get_list(struct loader *l, const config_setting_t *g,
					const char *name)
{
	const config_setting_t *s = config_setting_get_member(g, name);

	if (!s)
		return NULL;
	if (config_setting_type(s) == CONFIG_TYPE_LIST ||
	    (config_setting_type(s) == CONFIG_TYPE_ARRAY && config_setting_length(s) == 0))
		return s;
	wrong_type(l, s, "", "a list ( { ... }, ... )");
	return NULL;
}

/* The elements of a list that are groups; the others are reported. */
static bool list_elem_ok(struct loader *l, const config_setting_t *e, const char *what)
{
	if (config_setting_type(e) == CONFIG_TYPE_GROUP)
		return true;
	err(l, e, "each %s must be a group { ... }, not %s", what,
	    type_name(config_setting_type(e)));
	return false;
}

static bool id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= CONFIG_ID_MAX)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
			return false;
	return true;
}

/* Read `id` of a list element; checks its form. ctx gets "<what> 'id': ". */
static const config_setting_t *get_id(struct loader *l, const config_setting_t *g,
				      const char *what, char **dst, char *ctx, size_t size)
{
	const config_setting_t *s;

	snprintf(ctx, size, "%s: ", what);
	s = get_string(l, g, ctx, "id", true, dst);
	if (!s)
		return NULL;
	if (!id_valid(*dst))
		err(l, s, "%s id '%s' must be 1..%d characters of A-Z a-z 0-9 _ -", what, *dst,
		    CONFIG_ID_MAX - 1);
	if (snprintf(ctx, size, "%s '%s': ", what, *dst) >= (int)size)
		snprintf(ctx, size, "%s: ", what);
	return s;
}

/* ---- top-level scalars, log, limits, provider -------------------------- */

static bool country_code_valid(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 3)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* A time zone name is checked against the zoneinfo database, if present. */
static void check_timezone(struct loader *l, const config_setting_t *s, const char *tz)
{
	const char *dir = getenv("TZDIR");
	char path[1024];

	if (!*tz)
		return;
	if (tz[0] == '/' || strstr(tz, "..")) {
		err(l, s, "timezone '%s' must be a zone name such as \"Asia/Shanghai\"", tz);
		return;
	}
	if (!dir || !*dir)
		dir = "/usr/share/zoneinfo";
	if (access(dir, F_OK) != 0)
		return;      /* no tzdata here: nothing to check against */
	if (snprintf(path, sizeof(path), "%s/%s", dir, tz) >= (int)sizeof(path) ||
	    access(path, R_OK) != 0)
		warn(l, s, "timezone '%s' is not in %s", tz, dir);
}

static void load_top(struct loader *l, const config_setting_t *root)
{
	struct config *c = l->c;
	const config_setting_t *s;

	s = get_string(l, root, "", "database", false, &c->database);
	if (s && !*c->database)
		err(l, s, "'database' must not be empty");
	s = get_string(l, root, "", "country_code", false, &c->country_code);
	if (s && !country_code_valid(c->country_code))
		err(l, s, "'country_code' must be 1 to 3 digits, such as \"86\"");
	else if (s)
		str_copy(l->cc, sizeof(l->cc), c->country_code);
	s = get_number(l, root, "", "poll_interval", &c->poll_interval);
	if (s && (!(c->poll_interval > 0) || c->poll_interval > POLL_MAX))
		err(l, s, "'poll_interval' must be more than 0 and at most %.0f seconds", POLL_MAX);
	s = get_string(l, root, "", "timezone", false, &c->timezone);
	if (s)
		check_timezone(l, s, c->timezone);
}

static void load_log(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *g = get_group(l, root, "log");
	const config_setting_t *s;
	char *level = NULL;

	if (!g)
		return;
	check_keys(l, g, "log: ", log_keys);
	s = get_string(l, g, "log: ", "level", false, &level);
	if (s && log_level_from_name(level) < 0)
		err(l, s, "log: unknown level '%s' (debug, info, notice, warning, error)", level);
	else if (s)
		l->c->log_level = log_level_from_name(level);
	free(level);
	get_bool(l, g, "log: ", "mask_phones", &l->c->mask_phones);
}

/* "21:30-07:30" (across midnight allowed; "" or equal ends: none). */
static void load_quiet_hours(struct loader *l, const config_setting_t *g, const char *ctx,
			     struct limits *m)
{
	char *v = NULL, end;
	unsigned h1, m1, h2, m2;
	const config_setting_t *s = get_string(l, g, ctx, "quiet_hours", false, &v);

	if (s && !*v) {
		m->quiet_start = m->quiet_end = 0;
	} else if (s && (sscanf(v, "%u:%u-%u:%u%c", &h1, &m1, &h2, &m2, &end) != 4 || h1 > 23 ||
			 h2 > 23 || m1 > 59 || m2 > 59)) {
		err(l, s, "%s'quiet_hours' must be like \"21:30-07:30\" (or \"\" for none), not \"%s\"",
		    ctx, v);
	} else if (s) {
		m->quiet_start = (int)(h1 * 60 + m1);
		m->quiet_end = (int)(h2 * 60 + m2);
	}
	free(v);
}

static void load_limits(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *g = get_group(l, root, "limits");
	struct limits *m = &l->c->limits;
	const config_setting_t *smin, *smax;
	const char *ctx = "limits: ";

	if (!g)
		return;
	check_keys(l, g, ctx, limits_keys);
	get_uint(l, g, ctx, "notice_segments", 1, 10, &m->notice_segments);
	get_uint(l, g, ctx, "reply_segments", 1, 10, &m->reply_segments);
	get_uint(l, g, ctx, "max_body", 256, 65536, &m->max_body);
	get_uint(l, g, ctx, "batch", 1, 10000, &m->batch);
	get_uint(l, g, ctx, "send_attempts", 1, 100, &m->send_attempts);
	get_uint(l, g, ctx, "per_hour", 1, 1000, &m->per_hour);
	get_uint(l, g, ctx, "per_day", 1, 10000, &m->per_day);
	get_uint(l, g, ctx, "alert_per_hour", 0, 10000000, &m->alert_per_hour);
	load_quiet_hours(l, g, ctx, m);
	smin = get_number(l, g, ctx, "retry_min", &m->retry_min);
	smax = get_number(l, g, ctx, "retry_max", &m->retry_max);
	if (!(m->retry_min > 0))
		err(l, smin ? smin : g, "%s'retry_min' must be more than 0", ctx);
	else if (!(m->retry_min <= m->retry_max))
		err(l, smax ? smax : smin ? smin : g,
		    "%s'retry_max' (%g) must not be less than 'retry_min' (%g)", ctx,
		    m->retry_max, m->retry_min);
}

static const struct provider_type *provider_type_find(const char *type)
{
	for (size_t i = 0; i < ELEMENTSOF(provider_types); i++)
		if (strcmp(provider_types[i].type, type) == 0)
			return &provider_types[i];
	return NULL;
}

const char *provider_secret_name(const char *type)
{
	const struct provider_type *pt = type ? provider_type_find(type) : NULL;

	return pt ? pt->secret : NULL;
}

/* "spool, twilio, ..." into buf[size]. */
static const char *provider_type_list(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < ELEMENTSOF(provider_types); i++) {
		int r = snprintf(buf + n, size - n, "%s%s", i ? ", " : "", provider_types[i].type);

		if (r < 0 || (size_t)r >= size - n)
			break;
		n += (size_t)r;
	}
	return buf;
}

/* A required, non-empty string of provider type `type`; the setting, or NULL. */
static const config_setting_t *need_string(struct loader *l, const config_setting_t *g,
					   const char *type, const char *name, char **dst)
{
	const config_setting_t *s;

	free(*dst);
	*dst = NULL;
	if (!config_setting_get_member(g, name)) {
		err(l, g, "provider: type \"%s\" needs '%s'", type, name);
		return NULL;
	}
	s = get_string(l, g, "provider: ", name, true, dst);
	if (s && !**dst) {
		err(l, s, "provider: '%s' must not be empty", name);
		return NULL;
	}
	return s;
}

/* A number of seconds in lo..hi into *dst; the setting, or NULL. */
static const config_setting_t *get_seconds(struct loader *l, const config_setting_t *g,
					   const char *name, double lo, double hi, double *dst)
{
	double v = *dst;
	const config_setting_t *s = get_number(l, g, "provider: ", name, &v);

	if (!s)
		return NULL;
	if (!(v >= lo && v <= hi)) {
		err(l, s, "provider: '%s' must be between %.10g and %.10g seconds, not %.10g", name,
		    lo, hi, v);
		return NULL;
	}
	*dst = v;
	return s;
}

/* The base URL (pt->url_key), or its default; without trailing '/'. */
static void load_url(struct loader *l, const config_setting_t *g,
		     const struct provider_type *pt)
{
	struct provider_config *p = &l->c->provider;
	const config_setting_t *s;
	const char *bad;
	char why[128];
	size_t n;

	free(p->url);
	p->url = xstrdup(pt->url);
	if (!config_setting_get_member(g, pt->url_key)) {
		if (!p->url)
			err(l, g, "provider: type \"%s\" needs '%s'", pt->type, pt->url_key);
		return;
	}
	s = get_string(l, g, "provider: ", pt->url_key, true, &p->url);
	if (!s)
		return;
	bad = provider_url_problem(p->url, why, sizeof(why));
	if (bad) {
		err(l, s, "provider: '%s' %s", pt->url_key, bad);
		return;
	}
	n = strlen(p->url);
	while (n > 0 && p->url[n - 1] == '/')
		p->url[--n] = '\0';
}

static bool account_sid_valid(const char *s)
{
	return strncmp(s, "AC", 2) == 0 && strlen(s) == 34 &&
	       strspn(s + 2, "0123456789abcdefABCDEF") == 32;
}

/* Twilio: account_sid and number (not quoted back: a token pasted there is a secret). */
static void load_twilio(struct loader *l, const config_setting_t *g)
{
	struct provider_config *p = &l->c->provider;
	const config_setting_t *s;
	char e164[32];

	s = need_string(l, g, "twilio", "account_sid", &p->account_sid);
	if (s && !account_sid_valid(p->account_sid))
		err(l, s, "provider: 'account_sid' must be \"AC\" and 32 hex digits");
	s = need_string(l, g, "twilio", "number", &p->number);
	if (!s)
		return;
	if (phone_normalize(p->number, l->cc, e164, sizeof(e164)) < 0) {
		err(l, s, "provider: 'number' is not a phone number");
		return;
	}
	free(p->number);
	p->number = xstrdup(e164);
}

static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return true;
	return false;
}

/* Android: the HTTP Basic user name, default "sms". */
static void load_android(struct loader *l, const config_setting_t *g)
{
	struct provider_config *p = &l->c->provider;
	const config_setting_t *s;

	free(p->username);
	p->username = xstrdup(DEFAULT_ANDROID_USER);
	s = get_string(l, g, "provider: ", "username", false, &p->username);
	if (s && (!*p->username || strchr(p->username, ':') ||
		  has_control(p->username, strlen(p->username))))
		err(l, s, "provider: 'username' must be one or more characters, without ':' or "
		    "control characters");
}

static void load_cafile(struct loader *l, const config_setting_t *g)
{
	struct provider_config *p = &l->c->provider;
	const config_setting_t *s = get_string(l, g, "provider: ", "cafile", false, &p->cafile);

	if (!s)
		return;
	if (!*p->cafile)
		err(l, s, "provider: 'cafile' must not be empty (leave it out for the system's CAs)");
	else if (access(p->cafile, R_OK) != 0)
		err(l, s, "provider: 'cafile' cannot be read: %s", strerror(errno));
}

/* Timeouts and the response cap of the HTTP client. */
static void load_http_limits(struct loader *l, const config_setting_t *g)
{
	struct provider_config *p = &l->c->provider;
	const config_setting_t *st, *sc;

	st = get_seconds(l, g, "timeout", 1, TIMEOUT_MAX, &p->timeout);
	sc = get_seconds(l, g, "connect_timeout", 1, CONNECT_TIMEOUT_MAX, &p->connect_timeout);
	get_uint(l, g, "provider: ", "max_response", 1024, 16 * 1024 * 1024, &p->max_response);
	get_seconds(l, g, "status_timeout", 1, STATUS_TIMEOUT_MAX, &p->status_timeout);
	get_bool(l, g, "provider: ", "undelivered_to_operators", &p->undelivered_to_operators);
	if ((st || sc) && p->connect_timeout > p->timeout)
		warn(l, sc ? sc : st, "provider: 'connect_timeout' (%g) is longer than 'timeout' "
		     "(%g); the total timeout applies first", p->connect_timeout, p->timeout);
}

/* ---- secrets ----------------------------------------------------------- */

/* Readable by anyone but the owner? */
static bool mode_exposed(mode_t mode)
{
	return (mode & (S_IRGRP | S_IROTH)) != 0;
}

/* Why s[n] cannot be a secret (a token, a password), or NULL. */
static const char *secret_problem(const char *s, size_t n)
{
	if (n == 0)
		return "is empty";
	if (n > SECRET_MAX)
		return "is longer than " STRINGIFY(SECRET_MAX) " bytes";
	if (has_control(s, n))
		return "holds a line break or another control character";
	return NULL;
}

/* Length of s[n] without one trailing newline (LF or CR LF). */
static size_t strip_newline(const char *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n') {
		n--;
		if (n > 0 && s[n - 1] == '\r')
			n--;
	}
	return n;
}

/*
 * Read the secret file at path: a regular file of one line (one trailing
 * newline dropped). Returns 0, the secret (heap) in *ret and the file's
 * mode in *ret_mode; or -errno (-EINVAL: bad content) with why[] saying
 * what is wrong — never quoting the content.
 */
static int secret_read(const char *path, char **ret, mode_t *ret_mode, char *why, size_t size)
{
	const char *bad;
	struct stat st;
	size_t n;
	char *buf;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);  /* a FIFO must not block */
	if (fd < 0) {
		r = -errno;
		snprintf(why, size, "cannot be read: %s", strerror(-r));
		return r;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, size, "is not a regular file");
		return -EINVAL;
	}
	/* the secret, CR LF, one byte more to notice a longer one */
	r = util_read_fd(fd, SECRET_MAX + 3, &buf, &n);
	close(fd);
	if (r < 0) {
		snprintf(why, size, "cannot be read: %s", strerror(-r));
		return r;
	}
	n = strip_newline(buf, n);
	bad = secret_problem(buf, n);
	if (!bad) {
		*ret = xstrndup(buf, n);
		*ret_mode = st.st_mode;
	}
	explicit_bzero(buf, n);
	free(buf);
	if (bad)
		snprintf(why, size, "%s", bad);
	return bad ? -EINVAL : 0;
}

/* `auth_token = "..."`: warn when others can read the file holding it. */
static void secret_inline(struct loader *l, const config_setting_t *s, const char *key)
{
	const char *v, *bad, *file = loader_file(l, s);
	struct stat st;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		wrong_type(l, s, "provider: ", "a string");
		return;
	}
	v = config_setting_get_string(s);
	bad = secret_problem(v, strlen(v));
	if (bad) {
		err(l, s, "provider: '%s' %s", key, bad);
		return;
	}
	l->c->provider.secret = xstrdup(v);
	if (stat(file, &st) == 0 && mode_exposed(st.st_mode))
		warn(l, s, "the config holds a secret (%s) but is readable by others (mode %04o); "
		     "chmod 600 it or use %s_file", key, (unsigned)(st.st_mode & 07777), key);
}

/*
 * `auth_token_file = "/path"`. The path is not quoted back either: a
 * token pasted there instead of a path would end up in the journal.
 */
static void secret_file(struct loader *l, const config_setting_t *s, const char *key)
{
	const char *path;
	char why[128];
	mode_t mode;

	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		wrong_type(l, s, "provider: ", "a string");
		return;
	}
	path = config_setting_get_string(s);
	if (!*path) {
		err(l, s, "provider: '%s' must not be empty", key);
		return;
	}
	if (secret_read(path, &l->c->provider.secret, &mode, why, sizeof(why)) < 0) {
		err(l, s, "provider: the file of '%s' %s", key, why);
		return;
	}
	if (mode_exposed(mode))
		warn(l, s, "the secret file of '%s' is readable by others (mode %04o); chmod 600 it",
		     key, (unsigned)(mode & 07777));
}

/* $CREDENTIALS_DIRECTORY/<name> (systemd LoadCredential=), when there is one. */
static void secret_credential(struct loader *l, const config_setting_t *g, const char *name)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	char why[128];
	char *path;
	mode_t mode;
	int r;

	if (dir && *dir) {
		path = xasprintf("%s/%s", dir, name);
		r = secret_read(path, &l->c->provider.secret, &mode, why, sizeof(why));
		if (r < 0 && r != -ENOENT)
			err(l, g, "provider: systemd credential '%s' (%s) %s", name, path, why);
		free(path);
		if (r != -ENOENT)
			return;
	}
	err(l, g, "provider: no %s: set %s, %s_file, or a systemd credential '%s'", name, name,
	    name, name);
}

/* The provider's secret: inline, from `<secret>_file`, or a systemd credential. */
static void load_secret(struct loader *l, const config_setting_t *g,
			const struct provider_type *pt)
{
	const config_setting_t *si = config_setting_get_member(g, pt->secret);
	const config_setting_t *sf;
	char *file_key = xasprintf("%s_file", pt->secret);

	sf = config_setting_get_member(g, file_key);
	if (si && sf)
		err(l, sf, "provider: give '%s' or '%s', not both", pt->secret, file_key);
	else if (si)
		secret_inline(l, si, pt->secret);
	else if (sf)
		secret_file(l, sf, file_key);
	else
		secret_credential(l, g, pt->secret);
	free(file_key);
}

static void load_network(struct loader *l, const config_setting_t *g,
			 const struct provider_type *pt)
{
	struct provider_config *p = &l->c->provider;

	free(p->inbox);
	free(p->outbox);
	p->inbox = p->outbox = NULL;
	load_url(l, g, pt);
	if (strcmp(pt->type, "twilio") == 0)
		load_twilio(l, g);
	else if (strcmp(pt->type, "android") == 0)
		load_android(l, g);
	load_cafile(l, g);
	load_http_limits(l, g);
	if (!(l->flags & CONFIG_SKIP_SECRETS))
		load_secret(l, g, pt);
}

static void load_provider(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *g = get_group(l, root, "provider");
	struct provider_config *p = &l->c->provider;
	const struct provider_type *pt;
	const config_setting_t *s;
	char known[64];

	if (!g)
		return;             /* the default spool */
	p->line = config_setting_source_line(g);
	s = get_string(l, g, "provider: ", "type", true, &p->type);
	if (!s)
		return;
	pt = provider_type_find(p->type);
	if (!pt) {
		err(l, s, "provider: unknown type '%s' (known: %s)", p->type,
		    provider_type_list(known, sizeof(known)));
		return;
	}
	check_keys(l, g, "provider: ", pt->keys);
	p->rate = pt->rate;
	if (strcmp(pt->type, "spool") == 0) {
		need_string(l, g, "spool", "inbox", &p->inbox);
		need_string(l, g, "spool", "outbox", &p->outbox);
	} else {
		load_network(l, g, pt);
	}
	s = get_number(l, g, "provider: ", "rate", &p->rate);
	if (s && !(p->rate >= 0))
		err(l, s, "provider: 'rate' must not be negative");
}

/* ---- workers ----------------------------------------------------------- */

static bool role_from_name(const char *s, enum worker_role *ret)
{
	int i = name_index(role_names, ELEMENTSOF(role_names), s);

	if (i < 0)
		return false;
	*ret = (enum worker_role)i;
	return true;
}

static void load_worker_phone(struct loader *l, const config_setting_t *g, const char *ctx,
			      struct worker *w)
{
	const config_setting_t *s = get_string(l, g, ctx, "phone", true, &w->phone);
	char e164[32];

	if (!s)
		return;
	if (phone_normalize(w->phone, l->cc, e164, sizeof(e164)) < 0) {
		err(l, s, "%sbad phone number '%s'", ctx, w->phone);
		return;
	}
	free(w->phone);
	w->phone = xstrdup(e164);
	for (size_t i = 0; i < l->c->n_workers; i++) {
		const struct worker *o = &l->c->workers[i];

		if (o->phone && strcmp(o->phone, w->phone) == 0)
			err(l, s, "%sphone %s is also worker '%s' (line %d)", ctx, w->phone,
			    o->id ? o->id : "?", o->line);
	}
}

static void load_worker(struct loader *l, const config_setting_t *g, struct worker *w)
{
	const config_setting_t *s;
	char ctx[96];
	char *role = NULL;

	w->line = config_setting_source_line(g);
	s = get_id(l, g, "worker", &w->id, ctx, sizeof(ctx));
	check_keys(l, g, ctx, worker_keys);
	for (size_t i = 0; s && i < l->c->n_workers; i++)
		if (l->c->workers[i].id && strcmp(l->c->workers[i].id, w->id) == 0)
			err(l, s, "duplicate worker id '%s' (first at line %d)", w->id,
			    l->c->workers[i].line);
	s = get_string(l, g, ctx, "name", false, &w->name);
	if (s && !*w->name)
		err(l, s, "%s'name' must not be empty", ctx);
	if (!w->name)
		w->name = xstrdup(w->id ? w->id : "");
	load_worker_phone(l, g, ctx, w);
	w->role = ROLE_GRID;
	s = get_string(l, g, ctx, "role", false, &role);
	if (s && !role_from_name(role, &w->role))
		err(l, s, "%sunknown role '%s' (grid, leader, vendor, operator, specialist)", ctx,
		    role);
	free(role);
}

static void load_workers(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *list = get_list(l, root, "workers");
	struct config *c = l->c;
	int n;

	if (!list)
		return;
	n = config_setting_length(list);
	c->workers = xcalloc((size_t)n, sizeof(*c->workers));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);

		if (!list_elem_ok(l, e, "worker"))
			continue;
		load_worker(l, e, &c->workers[c->n_workers]);
		c->n_workers++;   /* after load_worker: duplicates are checked against earlier ones */
	}
}

/* ---- grids ------------------------------------------------------------- */

/* A grid's worker/leader reference: must name a worker. */
static void load_worker_ref(struct loader *l, const config_setting_t *g, const char *ctx,
			    const char *name, char **dst)
{
	const config_setting_t *s = get_string(l, g, ctx, name, false, dst);

	if (s && !config_worker(l->c, *dst))
		err(l, s, "%s%s '%s' is not a worker", ctx, name, *dst);
}

static const struct grid *grid_with_address(const struct config *c, const char *a)
{
	for (size_t i = 0; i < c->n_grids; i++)
		for (size_t j = 0; j < c->grids[i].n_addresses; j++)
			if (strcmp(c->grids[i].addresses[j], a) == 0)
				return &c->grids[i];
	return NULL;
}

/* Normalise address patterns; reject empty ones and ones of another grid. */
static void load_addresses(struct loader *l, const config_setting_t *g, const char *ctx,
			   struct grid *gr)
{
	const config_setting_t *s = get_strlist(l, g, ctx, "addresses", false, &gr->addresses,
						&gr->n_addresses);

	for (size_t i = 0; s && i < gr->n_addresses; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
		char *norm = text_normalize(gr->addresses[i]);
		const struct grid *o;

		free(gr->addresses[i]);
		gr->addresses[i] = norm;
		if (!*norm) {
			err(l, e, "%sempty address", ctx);
			continue;
		}
		o = grid_with_address(l->c, norm);
		if (o)
			err(l, e, "%saddress '%s' is already in grid '%s' (line %d)", ctx, norm,
			    o->id ? o->id : "?", o->line);
		for (size_t j = 0; j < i; j++)
			if (strcmp(gr->addresses[j], norm) == 0)
				warn(l, e, "%saddress '%s' is listed twice", ctx, norm);
	}
}

static void load_grid(struct loader *l, const config_setting_t *g, struct grid *gr)
{
	const config_setting_t *s;
	char ctx[96];

	gr->line = config_setting_source_line(g);
	s = get_id(l, g, "grid", &gr->id, ctx, sizeof(ctx));
	check_keys(l, g, ctx, grid_keys);
	for (size_t i = 0; s && i < l->c->n_grids; i++)
		if (l->c->grids[i].id && strcmp(l->c->grids[i].id, gr->id) == 0)
			err(l, s, "duplicate grid id '%s' (first at line %d)", gr->id,
			    l->c->grids[i].line);
	s = get_string(l, g, ctx, "name", false, &gr->name);
	if (s && !*gr->name)
		err(l, s, "%s'name' must not be empty", ctx);
	if (!gr->name)
		gr->name = xstrdup(gr->id ? gr->id : "");
	load_worker_ref(l, g, ctx, "worker", &gr->worker);
	load_worker_ref(l, g, ctx, "leader", &gr->leader);
	if (!config_setting_get_member(g, "worker"))
		warn(l, g, "grid '%s' has no worker; its tickets go to the operators",
		     gr->id ? gr->id : "?");
	load_addresses(l, g, ctx, gr);
}

static void load_grids(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *list = get_list(l, root, "grids");
	struct config *c = l->c;
	int n;

	if (!list)
		return;
	n = config_setting_length(list);
	c->grids = xcalloc((size_t)n, sizeof(*c->grids));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);

		if (!list_elem_ok(l, e, "grid"))
			continue;
		load_grid(l, e, &c->grids[c->n_grids]);
		c->n_grids++;
	}
}

/* ---- categories -------------------------------------------------------- */

static void builtin_category(struct category *cat, const struct builtin_category *b)
{
	size_t n = 0;

	while (n < KW_MAX && b->keywords[n])
		n++;
	cat->id = xstrdup(b->id);
	cat->name = xstrdup(b->name);
	cat->keywords = xcalloc(n, sizeof(*cat->keywords));
	for (size_t i = 0; i < n; i++)
		cat->keywords[i] = xstrdup(b->keywords[i]);
	cat->n_keywords = n;
	cat->assign = b->assign;
	cat->role = b->role;
	cat->copy_grid = b->copy_grid;
	cat->accept = DEFAULT_ACCEPT;
	cat->done = b->done;
}

/* A time limit: "30m", "2h", "3wd", "eod" or "none". */
static void get_tlimit(struct loader *l, const config_setting_t *g, const char *ctx,
		       const char *key, struct tlimit *dst)
{
	char *v = NULL;
	const config_setting_t *s = get_string(l, g, ctx, key, false, &v);

	if (s && tlimit_parse(v, dst) < 0)
		err(l, s, "%s'%s' must be a time limit like \"30m\", \"2h\", \"3wd\" (working "
		    "days), \"eod\" (end of the working day) or \"none\", not \"%s\"", ctx, key, v);
	free(v);
}

static void load_assign(struct loader *l, const config_setting_t *g, const char *ctx,
			struct category *cat)
{
	const config_setting_t *s, *sw, *sr;
	char *assign = NULL, *role = NULL;
	int i;

	cat->assign = ASSIGN_GRID;
	s = get_string(l, g, ctx, "assign", false, &assign);
	i = s ? name_index(assign_names, ELEMENTSOF(assign_names), assign) : ASSIGN_GRID;
	if (i < 0)
		err(l, s, "%sunknown assign '%s' (grid, worker, role, operators)", ctx, assign);
	else
		cat->assign = (enum assign_rule)i;
	free(assign);

	sw = get_string(l, g, ctx, "worker", cat->assign == ASSIGN_WORKER && i >= 0, &cat->worker);
	if (sw && cat->assign == ASSIGN_WORKER && !config_worker(l->c, cat->worker))
		err(l, sw, "%sworker '%s' is not a worker", ctx, cat->worker);
	else if (sw && cat->assign != ASSIGN_WORKER && i >= 0)
		warn(l, sw, "%s'worker' is ignored unless assign = \"worker\"", ctx);

	sr = get_string(l, g, ctx, "role", cat->assign == ASSIGN_ROLE && i >= 0, &role);
	if (sr && !role_from_name(role, &cat->role))
		err(l, sr, "%sunknown role '%s' (grid, leader, vendor, operator, specialist)", ctx,
		    role);
	else if (sr && cat->assign != ASSIGN_ROLE && i >= 0)
		warn(l, sr, "%s'role' is ignored unless assign = \"role\"", ctx);
	free(role);
}

static void load_category(struct loader *l, const config_setting_t *g, struct category *cat,
			  const config_setting_t **ret_kw)
{
	const config_setting_t *s;
	char ctx[96];

	cat->line = config_setting_source_line(g);
	s = get_id(l, g, "category", &cat->id, ctx, sizeof(ctx));
	check_keys(l, g, ctx, category_keys);
	if (s && strcmp(cat->id, "unclassified") == 0)
		err(l, s, "category id 'unclassified' is reserved (text without a keyword)");
	if (s && strcmp(cat->id, "callback") == 0)
		err(l, s, "category id 'callback' is reserved (missed calls)");
	for (size_t i = 0; s && i < l->c->n_categories; i++)
		if (l->c->categories[i].id && strcmp(l->c->categories[i].id, cat->id) == 0)
			err(l, s, "duplicate category id '%s' (first at line %d)", cat->id,
			    l->c->categories[i].line);
	s = get_string(l, g, ctx, "name", false, &cat->name);
	if (s && !*cat->name)
		err(l, s, "%s'name' must not be empty", ctx);
	if (!cat->name)
		cat->name = xstrdup(cat->id ? cat->id : "");
	s = get_strlist(l, g, ctx, "keywords", true, &cat->keywords, &cat->n_keywords);
	if (s && cat->n_keywords == 0)
		err(l, s, "%s'keywords' must not be empty", ctx);
	*ret_kw = s;
	load_assign(l, g, ctx, cat);
	get_bool(l, g, ctx, "copy_grid", &cat->copy_grid);
	cat->accept = DEFAULT_ACCEPT;
	cat->done = DEFAULT_DONE;
	for (size_t i = 0; cat->id && i < ELEMENTSOF(builtin_categories); i++)
		if (strcmp(cat->id, builtin_categories[i].id) == 0)
			cat->done = builtin_categories[i].done;   /* a built-in id keeps its limit */
	get_tlimit(l, g, ctx, "accept", &cat->accept);
	get_tlimit(l, g, ctx, "done", &cat->done);
}

static void load_categories(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *list = get_list(l, root, "categories");
	struct config *c = l->c;
	int n;

	if (!list) {
		c->categories = xcalloc(ELEMENTSOF(builtin_categories), sizeof(*c->categories));
		for (size_t i = 0; i < ELEMENTSOF(builtin_categories); i++)
			builtin_category(&c->categories[c->n_categories++], &builtin_categories[i]);
		l->cat_kw = xcalloc(c->n_categories, sizeof(*l->cat_kw));
		return;
	}
	n = config_setting_length(list);
	if (n == 0)
		err(l, list, "'categories' must not be empty (leave it out for the built-in ones)");
	c->categories = xcalloc((size_t)n, sizeof(*c->categories));
	l->cat_kw = xcalloc((size_t)n, sizeof(*l->cat_kw));
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(list, i);

		if (!list_elem_ok(l, e, "category"))
			continue;
		load_category(l, e, &c->categories[c->n_categories], &l->cat_kw[c->n_categories]);
		c->n_categories++;
	}
}

/* ---- commands and keywords --------------------------------------------- */

static void default_command(struct config *c, enum intent i)
{
	size_t n = 0;

	while (n < KW_MAX && default_commands[i][n])
		n++;
	c->commands[i] = xcalloc(n, sizeof(char *));
	for (size_t k = 0; k < n; k++)
		c->commands[i][k] = xstrdup(default_commands[i][k]);
	c->n_commands[i] = n;
}

static void load_commands(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *g = get_group(l, root, "commands");
	const char *known[_INTENT_MAX + 1] = { 0 };
	size_t n = 0;

	for (int i = INTENT_STATUS; i < _INTENT_MAX; i++)
		known[n++] = intent_name((enum intent)i);
	if (!g)
		return;
	check_keys(l, g, "commands: ", known);
	for (int i = INTENT_STATUS; i < _INTENT_MAX; i++) {
		const config_setting_t *s;

		s = get_strlist(l, g, "commands: ", intent_name((enum intent)i), false,
				&l->c->commands[i], &l->c->n_commands[i]);
		l->cmd_kw[i] = s;
		if (s && l->c->n_commands[i] == 0)
			warn(l, s, "commands: '%s' has no keywords; the command is disabled",
			     intent_name((enum intent)i));
	}
}

/* Normalised for comparison: text_normalize() and ASCII upper case. */
static char *keyword_key(const char *word)
{
	char *k = text_normalize(word);

	for (char *p = k; *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	return k;
}

/*
 * Record one keyword of owner; report it empty, or already used by
 * another owner of the same audience (a repeat within one owner is
 * harmless: "?" and "？" are the same keyword).
 */
static void check_keyword(struct loader *l, const char *word, bool worker, const char *owner,
			  const config_setting_t *s)
{
	const char *file = loader_file(l, s);
	int line = s ? config_setting_source_line(s) : 0;
	char *key = keyword_key(word);
	struct seen_kw *k;

	if (!*key) {
		err_line(l, file, line, "%s: empty keyword", owner);
		free(key);
		return;
	}
	for (size_t i = 0; i < l->n_seen; i++) {
		k = &l->seen[i];
		if (k->worker != worker || strcmp(k->norm, key) != 0)
			continue;
		if (strcmp(k->owner, owner) != 0 && k->line)
			err_line(l, file, line, "%s: keyword '%s' is already used by %s (line %d)",
				 owner, word, k->owner, k->line);
		else if (strcmp(k->owner, owner) != 0)
			err_line(l, file, line, "%s: keyword '%s' is already used by %s", owner,
				 word, k->owner);
		free(key);
		return;
	}
	l->seen = xrealloc(l->seen, (l->n_seen + 1) * sizeof(*l->seen));
	k = &l->seen[l->n_seen++];
	k->norm = key;
	k->worker = worker;
	k->owner = xstrdup(owner);
	k->line = line;
}

static void check_keyword_list(struct loader *l, char *const *words, size_t n, bool worker,
			       const char *owner, const config_setting_t *list)
{
	for (size_t i = 0; i < n; i++) {
		const config_setting_t *e = list ? config_setting_get_elem(list, (unsigned)i) : NULL;

		check_keyword(l, words[i], worker, owner, e);
	}
}

/*
 * Two passes: built-in lists first, then the configured ones, so that a
 * collision is reported at a line of the file whenever there is one.
 */
static void check_keywords_pass(struct loader *l, bool configured)
{
	const struct config *c = l->c;
	char owner[96];

	for (size_t i = 0; i < c->n_categories; i++) {
		if ((l->cat_kw[i] != NULL) != configured)
			continue;
		snprintf(owner, sizeof(owner), "category '%s'",
			 c->categories[i].id ? c->categories[i].id : "?");
		check_keyword_list(l, c->categories[i].keywords, c->categories[i].n_keywords,
				   false, owner, l->cat_kw[i]);
	}
	for (int i = INTENT_STATUS; i < _INTENT_MAX; i++) {
		if ((l->cmd_kw[i] != NULL) != configured)
			continue;
		snprintf(owner, sizeof(owner), "command '%s'", intent_name((enum intent)i));
		check_keyword_list(l, c->commands[i], c->n_commands[i],
				   intent_is_worker((enum intent)i), owner, l->cmd_kw[i]);
	}
}

static void check_keywords(struct loader *l)
{
	check_keywords_pass(l, false);
	check_keywords_pass(l, true);
}

/* ---- templates --------------------------------------------------------- */

static size_t tmpl_segments(const struct config *c, enum tmpl_id t)
{
	if (t == TMPL_NOTIFY || t == TMPL_NOTIFY_COPY || t == TMPL_NOTIFY_OPERATORS)
		return c->limits.notice_segments;
	return c->limits.reply_segments;
}

/* Warn when a configured template does not fit its segments with typical values. */
static void check_template_fit(struct loader *l, const config_setting_t *s, enum tmpl_id t)
{
	size_t max = tmpl_segments(l->c, t);
	struct sms_count n;
	char *out;

	struct sms_var typical[_V_MAX];

	tmpl_vars_fill(typical, tmpl_var_typical);
	if (sms_render(l->c->templates[t], typical, _V_MAX, max, "text", &out) < 0)
		return;
	sms_count(out, &n);
	if (n.segments > max)
		warn(l, s, "templates: '%s' needs %zu SMS segments with typical values (limit %zu)",
		     tmpl_names[t], n.segments, max);
	free(out);
}

static void load_template(struct loader *l, const config_setting_t *s)
{
	const char *name = config_setting_name(s);
	int t = name_index(tmpl_names, _TMPL_MAX, name);
	char why[256];
	const char *text;

	if (t < 0) {
		unknown_key(l, s, "templates: ", tmpl_names);
		return;
	}
	if (config_setting_type(s) != CONFIG_TYPE_STRING) {
		wrong_type(l, s, "templates: ", "a string");
		return;
	}
	text = config_setting_get_string(s);
	if (sms_template_check(text, tmpl_var_names, why, sizeof(why)) < 0) {
		err(l, s, "templates: '%s': %s", name, why);
		return;
	}
	if (!*text) {
		err(l, s, "templates: '%s' must not be empty", name);
		return;
	}
	free(l->c->templates[t]);
	l->c->templates[t] = xstrdup(text);
	check_template_fit(l, s, (enum tmpl_id)t);
}

static void load_templates(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *g = get_group(l, root, "templates");
	int n;

	if (!g)
		return;
	n = config_setting_length(g);
	for (int i = 0; i < n; i++)
		load_template(l, config_setting_get_elem(g, i));
}

/* ---- whole-config checks ----------------------------------------------- */

static void check_roles(struct loader *l, const config_setting_t *root)
{
	const struct config *c = l->c;
	const config_setting_t *cats = config_setting_get_member(root, "categories");

	for (size_t i = 0; i < c->n_categories; i++) {
		const struct category *cat = &c->categories[i];

		if (cat->assign != ASSIGN_ROLE || config_worker_by_role(c, cat->role))
			continue;
		warn_line(l, loader_file(l, cats), cats ? cat->line : 0,
			  "category '%s': no worker has role '%s'; its tickets go to the grid "
			  "worker", cat->id ? cat->id : "?", worker_role_name(cat->role));
	}
	if (!config_worker_by_role(c, ROLE_OPERATOR) && !config_worker_by_role(c, ROLE_LEADER))
		warn(l, config_setting_get_member(root, "workers"),
		     "no worker has role 'operator' or 'leader'; nobody is told of tickets "
		     "without an owner");
}

static void load_workflow(struct loader *l, const config_setting_t *root)
{
	const config_setting_t *g = get_group(l, root, "workflow");
	struct workflow *w = &l->c->wf;
	const char *ctx = "workflow: ";
	const config_setting_t *s;
	char *v = NULL, why[512];
	unsigned h, m;
	char end;

	if (g) {
		check_keys(l, g, ctx, workflow_keys);
		s = get_string(l, g, ctx, "calendar", false, &w->calendar_path);
		if (s && w->calendar_path &&
		    calendar_load(w->calendar_path, &w->calendar, why, sizeof(why)) < 0)
			err(l, s, "%scalendar: %s", ctx, why);
		s = get_string(l, g, ctx, "day_end", false, &v);
		if (s && (sscanf(v, "%u:%u%c", &h, &m, &end) != 2 || h > 23 || m > 59))
			err(l, s, "%s'day_end' must be a time of day like \"18:00\", not \"%s\"", ctx, v);
		else if (s)
			w->day_end = (int)(h * 60 + m);
		free(v);
		v = NULL;
		s = get_strlist(l, g, ctx, "urgent_words", false, &w->urgent_words,
				&w->n_urgent_words);
		if (s) {
			for (size_t i = 0; i < w->n_urgent_words; i++)
				if (!*w->urgent_words[i])
					err(l, s, "%s'urgent_words' must not hold an empty word", ctx);
		}
		get_tlimit(l, g, ctx, "urgent", &w->urgent);
		s = get_string(l, g, ctx, "daily_summary", false, &v);
		if (s && *v && (sscanf(v, "%u:%u%c", &h, &m, &end) != 2 || h > 23 || m > 59))
			err(l, s, "%s'daily_summary' must be a time of day like \"08:00\" (or \"\" "
			    "for none), not \"%s\"", ctx, v);
		else if (s && *v)
			w->daily_summary = (int)(h * 60 + m);
		free(v);
		v = NULL;
		s = get_number(l, g, ctx, "merge_window", &w->merge_window);
		if (s && !(w->merge_window >= 0 && w->merge_window <= 7 * 86400.0))
			err(l, s, "%s'merge_window' must be between 0 and 604800 seconds", ctx);
		s = get_number(l, g, ctx, "rating_window", &w->rating_window);
		if (s && !(w->rating_window >= 3600 && w->rating_window <= 30 * 86400.0))
			err(l, s, "%s'rating_window' must be between 3600 and 2592000 seconds", ctx);
	}
	if (!w->calendar)
		w->calendar = calendar_builtin();
	if (!w->urgent_words) {
		w->n_urgent_words = ELEMENTSOF(default_urgent_words);
		w->urgent_words = xcalloc(w->n_urgent_words, sizeof(char *));
		for (size_t i = 0; i < w->n_urgent_words; i++)
			w->urgent_words[i] = xstrdup(default_urgent_words[i]);
	}
}

static void load_tree(struct loader *l, const config_setting_t *root)
{
	check_keys(l, root, "", top_keys);
	load_top(l, root);
	load_log(l, root);
	load_limits(l, root);
	load_provider(l, root);
	load_workers(l, root);
	load_grids(l, root);
	load_categories(l, root);
	load_workflow(l, root);
	load_commands(l, root);
	check_keywords(l);
	load_templates(l, root);
	check_roles(l, root);
}

static struct config *config_defaults(const char *path)
{
	struct config *c = xcalloc(1, sizeof(*c));

	c->path = xstrdup(path);
	c->database = xstrdup(DEFAULT_DATABASE);
	c->country_code = xstrdup(DEFAULT_COUNTRY);
	c->poll_interval = DEFAULT_POLL;
	c->timezone = xstrdup("");
	c->mask_phones = true;
	c->log_level = LOG_INFO;
	c->wf.day_end = DEFAULT_DAY_END;
	c->wf.urgent = DEFAULT_URGENT;
	c->wf.rating_window = DEFAULT_RATING_WINDOW;
	c->wf.merge_window = 3600;
	c->wf.daily_summary = -1;
	c->provider.type = xstrdup("spool");
	c->provider.inbox = xstrdup(DEFAULT_INBOX);
	c->provider.outbox = xstrdup(DEFAULT_OUTBOX);
	c->provider.rate = 0;
	c->provider.timeout = DEFAULT_TIMEOUT;
	c->provider.connect_timeout = DEFAULT_CONNECT_TIMEOUT;
	c->provider.max_response = DEFAULT_MAX_RESPONSE;
	c->provider.status_timeout = DEFAULT_STATUS_TIMEOUT;
	c->provider.undelivered_to_operators = true;
	for (int i = INTENT_STATUS; i < _INTENT_MAX; i++)
		default_command(c, (enum intent)i);
	for (int t = 0; t < _TMPL_MAX; t++)
		c->templates[t] = xstrdup(default_templates[t]);
	c->limits = (struct limits){
		.notice_segments = 2, .reply_segments = 1, .max_body = 16384, .batch = 500,
		.send_attempts = 8, .retry_min = 5, .retry_max = 900,
		.quiet_start = 21 * 60 + 30, .quiet_end = 7 * 60 + 30, .per_hour = 5, .per_day = 20,
		.alert_per_hour = 1000,
	};
	return c;
}

/* Parse path with libconfig; syntax and I/O problems go to l. */
static int parse_file(struct loader *l, config_t *cf)
{
	char *copy = xstrdup(l->path);
	FILE *f = fopen(l->path, "r");
	int r = 0;

	l->dir = xstrdup(dirname(copy));
	free(copy);
	if (!f) {
		r = -errno;
		err_line(l, l->path, 0, "cannot open: %s", strerror(-r));
		return r;
	}
	fclose(f);
	config_set_include_dir(cf, l->dir);
	if (!config_read_file(cf, l->path)) {
		if (config_error_type(cf) == CONFIG_ERR_FILE_IO) {
			err_line(l, l->path, 0, "cannot read");
			r = -EIO;
		} else {
			const char *file = config_error_file(cf);

			err_line(l, loader_file_name(l, file),
				 config_error_line(cf), "%s", config_error_text(cf));
			r = -EINVAL;
		}
	}
	return r;
}

int config_load(const char *path, struct config **ret, struct diag *d)
{
	return config_load_flags(path, 0, ret, d);
}

int config_load_flags(const char *path, unsigned flags, struct config **ret, struct diag *d)
{
	struct loader l = { .path = path, .flags = flags, .cc = DEFAULT_COUNTRY };
	config_t cf;
	int r;

	config_init(&cf);
	l.c = config_defaults(path);
	r = parse_file(&l, &cf);
	if (r == 0)
		load_tree(&l, config_root_setting(&cf));
	config_destroy(&cf);
	if (r == 0 && l.n_errors)
		r = -EINVAL;
	loader_flush(&l, d);
	loader_release(&l);
	if (r < 0) {
		config_free(l.c);
		return r;
	}
	*ret = l.c;
	return 0;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->database);
	free(c->country_code);
	free(c->timezone);
	free(c->provider.type);
	free(c->provider.inbox);
	free(c->provider.outbox);
	free(c->provider.url);
	free(c->provider.account_sid);
	free(c->provider.number);
	free(c->provider.username);
	if (c->provider.secret)
		explicit_bzero(c->provider.secret, strlen(c->provider.secret));
	free(c->provider.secret);
	free(c->provider.cafile);
	free(c->wf.calendar_path);
	calendar_free(c->wf.calendar);
	strv_free(c->wf.urgent_words, c->wf.n_urgent_words);
	for (size_t i = 0; i < c->n_workers; i++) {
		free(c->workers[i].id);
		free(c->workers[i].name);
		free(c->workers[i].phone);
	}
	free(c->workers);
	for (size_t i = 0; i < c->n_grids; i++) {
		free(c->grids[i].id);
		free(c->grids[i].name);
		free(c->grids[i].worker);
		free(c->grids[i].leader);
		strv_free(c->grids[i].addresses, c->grids[i].n_addresses);
	}
	free(c->grids);
	for (size_t i = 0; i < c->n_categories; i++) {
		free(c->categories[i].id);
		free(c->categories[i].name);
		free(c->categories[i].worker);
		strv_free(c->categories[i].keywords, c->categories[i].n_keywords);
	}
	free(c->categories);
	for (int i = 0; i < _INTENT_MAX; i++)
		strv_free(c->commands[i], c->n_commands[i]);
	for (int t = 0; t < _TMPL_MAX; t++)
		free(c->templates[t]);
	free(c);
}

/* ---- lookups ----------------------------------------------------------- */

const struct worker *config_worker(const struct config *c, const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < c->n_workers; i++)
		if (c->workers[i].id && strcmp(c->workers[i].id, id) == 0)
			return &c->workers[i];
	return NULL;
}

const struct worker *config_worker_by_phone(const struct config *c, const char *e164)
{
	if (!e164)
		return NULL;
	for (size_t i = 0; i < c->n_workers; i++)
		if (c->workers[i].phone && strcmp(c->workers[i].phone, e164) == 0)
			return &c->workers[i];
	return NULL;
}

const struct grid *config_grid(const struct config *c, const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < c->n_grids; i++)
		if (c->grids[i].id && strcmp(c->grids[i].id, id) == 0)
			return &c->grids[i];
	return NULL;
}

const struct category *config_category(const struct config *c, const char *id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < c->n_categories; i++)
		if (c->categories[i].id && strcmp(c->categories[i].id, id) == 0)
			return &c->categories[i];
	return NULL;
}

const struct worker *config_worker_by_role(const struct config *c, enum worker_role role)
{
	for (size_t i = 0; i < c->n_workers; i++)
		if (c->workers[i].role == role)
			return &c->workers[i];
	return NULL;
}

const struct worker *config_grid_leader(const struct config *c, const struct grid *g)
{
	const struct worker *w = g ? config_worker(c, g->leader) : NULL;

	return w ? w : config_worker_by_role(c, ROLE_LEADER);
}

/* ---- keyword sets ------------------------------------------------------ */

static void add_commands(const struct config *c, struct keyword_set *ks, bool worker)
{
	for (int i = INTENT_STATUS; i < _INTENT_MAX; i++) {
		if (intent_is_worker((enum intent)i) != worker)
			continue;
		for (size_t k = 0; k < c->n_commands[i]; k++)
			keyword_set_add(ks, c->commands[i][k], (enum intent)i, -1);
	}
}

struct keyword_set *config_resident_keywords(const struct config *c)
{
	struct keyword_set *ks = keyword_set_new();

	for (size_t i = 0; i < c->n_categories; i++)
		for (size_t k = 0; k < c->categories[i].n_keywords; k++)
			keyword_set_add(ks, c->categories[i].keywords[k], INTENT_CATEGORY, (int)i);
	add_commands(c, ks, false);
	return ks;
}

struct keyword_set *config_worker_keywords(const struct config *c)
{
	struct keyword_set *ks = keyword_set_new();

	add_commands(c, ks, true);
	return ks;
}
