/*
 * log.h — the daemon's only way to say something.
 *
 * Under journald (JOURNAL_STREAM names our stderr) entries go to the
 * journal with structured fields GRIDLINE_TICKET, GRIDLINE_EVENT,
 * GRIDLINE_GRID, GRIDLINE_WORKER; otherwise one readable line per entry on
 * stderr ("gridlined: warning: ... [ticket=1001 event=created]").
 *
 * Callers never pass raw SMS text or raw phone numbers: wrap text in
 * log_text() (control characters and escape sequences escaped, length cut)
 * and phones in log_phone() (masked 138****5678 unless masking is off).
 */
#ifndef GRIDLINE_LOG_H
#define GRIDLINE_LOG_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

/* Structured context for one entry; any field may be 0/NULL. */
struct log_fields {
	int64_t ticket;
	const char *event;
	const char *grid;
	const char *worker;
};

/* Set up: ident for stderr lines; journal chosen from JOURNAL_STREAM. */
void log_init(const char *ident);
/* Only entries with priority <= level are emitted (LOG_INFO default). */
void log_set_level(int level);
/* Parse "debug"/"info"/"notice"/"warning"/"error"; -1 if unknown. */
int log_level_from_name(const char *name);
void log_set_mask_phones(bool mask);
bool log_to_journal(void);

void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_event(int prio, const struct log_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERR, __VA_ARGS__)

/* Log at prio with ": strerror(-err)" appended; returns err (negative). */
int log_errno(int prio, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Log at LOG_CRIT and exit(1). Start-up and out-of-memory only. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/*
 * Masked phone for logs: "+8613812345678" -> "+86138****5678" when masking
 * is on. Writes into buf (>= 40 bytes) and returns it. NULL -> "(none)".
 */
#define LOG_PHONE_MAX 40
const char *log_phone(const char *phone, char buf[LOG_PHONE_MAX]);
/* SMS text made safe for a log line: escaped, at most ~120 chars. */
#define LOG_TEXT_MAX 512
const char *log_text(const char *text, char buf[LOG_TEXT_MAX]);

#endif
