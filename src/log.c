/*
 * log.c — journal or stderr, never both; masking and escaping helpers.
 *
 * Under journald (JOURNAL_STREAM names our stderr, see systemd.exec(5))
 * entries go through sd_journal_sendv() so the GRIDLINE_* fields are
 * real journal fields operators can filter on. Otherwise one line per
 * entry on stderr. No SMS text or phone reaches here unescaped/unmasked:
 * callers use log_text() and log_phone().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "log.h"
#include "text.h"
#include "util.h"

static const char *log_ident = "gridline";
static int log_level = LOG_INFO;
static bool log_mask = true;
static bool log_journal;

static const char *const prio_names[] = {
	[LOG_EMERG] = "emerg", [LOG_ALERT] = "alert", [LOG_CRIT] = "critical",
	[LOG_ERR] = "error", [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static bool stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) < 0)
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *ident)
{
	log_ident = ident;
	log_journal = stderr_is_journal();
}

void log_set_level(int level)
{
	log_level = level;
}

int log_level_from_name(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(prio_names); i++)
		if (prio_names[i] && strcmp(prio_names[i], name) == 0)
			return (int)i;
	if (strcmp(name, "err") == 0)
		return LOG_ERR;
	if (strcmp(name, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

void log_set_mask_phones(bool mask)
{
	log_mask = mask;
}

bool log_to_journal(void)
{
	return log_journal;
}

static void log_emit(int prio, const struct log_fields *f, const char *fmt, va_list ap)
{
	char msg[2048];
	char fields[4][160];
	struct iovec iov[8];
	size_t n = 0;

	if (prio > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);

	if (!log_journal) {
		char ctx[256] = "";
		size_t used = 0;

		if (f && f->ticket)
			used += (size_t)snprintf(ctx + used, sizeof(ctx) - used, " ticket=%lld",
						 (long long)f->ticket);
		if (f && f->event && used < sizeof(ctx))
			used += (size_t)snprintf(ctx + used, sizeof(ctx) - used, " event=%s", f->event);
		if (f && f->grid && used < sizeof(ctx))
			used += (size_t)snprintf(ctx + used, sizeof(ctx) - used, " grid=%s", f->grid);
		if (f && f->worker && used < sizeof(ctx))
			snprintf(ctx + used, sizeof(ctx) - used, " worker=%s", f->worker);
		fprintf(stderr, "%s: %s: %s%s%s%s\n", log_ident, prio_names[prio & 7], msg,
			ctx[0] ? " [" : "", ctx[0] ? ctx + 1 : "", ctx[0] ? "]" : "");
		return;
	}

	char m[2100], p[16], id[64];
	snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	snprintf(p, sizeof(p), "PRIORITY=%d", prio & 7);
	snprintf(id, sizeof(id), "SYSLOG_IDENTIFIER=%s", log_ident);
	iov[n++] = (struct iovec){ m, strlen(m) };
	iov[n++] = (struct iovec){ p, strlen(p) };
	iov[n++] = (struct iovec){ id, strlen(id) };
	if (f && f->ticket) {
		snprintf(fields[0], sizeof(fields[0]), "GRIDLINE_TICKET=%lld", (long long)f->ticket);
		iov[n++] = (struct iovec){ fields[0], strlen(fields[0]) };
	}
	if (f && f->event) {
		snprintf(fields[1], sizeof(fields[1]), "GRIDLINE_EVENT=%s", f->event);
		iov[n++] = (struct iovec){ fields[1], strlen(fields[1]) };
	}
	if (f && f->grid) {
		snprintf(fields[2], sizeof(fields[2]), "GRIDLINE_GRID=%s", f->grid);
		iov[n++] = (struct iovec){ fields[2], strlen(fields[2]) };
	}
	if (f && f->worker) {
		snprintf(fields[3], sizeof(fields[3]), "GRIDLINE_WORKER=%s", f->worker);
		iov[n++] = (struct iovec){ fields[3], strlen(fields[3]) };
	}
	sd_journal_sendv(iov, (int)n);
}

void log_msg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(prio, NULL, fmt, ap);
	va_end(ap);
}

void log_event(int prio, const struct log_fields *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(prio, f, fmt, ap);
	va_end(ap);
}

int log_errno(int prio, int err, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_msg(prio, "%s: %s", buf, strerror(err < 0 ? -err : err));
	return err;
}

void fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_CRIT, NULL, fmt, ap);
	va_end(ap);
	exit(1);
}

const char *log_phone(const char *phone, char buf[LOG_PHONE_MAX])
{
	char tmp[LOG_PHONE_MAX];
	size_t n;

	if (!phone || !*phone)
		return "(none)";
	str_copy(tmp, sizeof(tmp), phone);
	n = strlen(tmp);
	/* keep the prefix and the last four digits: +86138****5678 */
	if (log_mask && n >= 8)
		for (size_t i = n - 8; i < n - 4; i++)
			tmp[i] = '*';
	return text_escape(tmp, buf, LOG_PHONE_MAX);
}

const char *log_text(const char *text, char buf[LOG_TEXT_MAX])
{
	char tmp[200];   /* log lines stay short; text_escape marks the cut */

	if (!text)
		return "(none)";
	text_escape(text, tmp, sizeof(tmp));
	snprintf(buf, LOG_TEXT_MAX, "\"%s\"", tmp);
	return buf;
}
