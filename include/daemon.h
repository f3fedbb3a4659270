/*
 * daemon.h — gridlined's event loop (sd-event): inbound work woken by the
 * provider (inotify for the spool) or the poll timer, the outbox and its
 * retry timer, signals (SIGTERM/SIGINT exit, SIGHUP reload), sd_notify
 * READY/STATUS/RELOADING, and the watchdog.
 */
#ifndef GRIDLINE_DAEMON_H
#define GRIDLINE_DAEMON_H

#include <stdbool.h>

#include "config.h"

struct daemon;

/*
 * Open the database and the provider for cfg (ownership of cfg passes to
 * the daemon). Logs why and returns <0 on failure.
 */
int daemon_new(struct config *cfg, struct daemon **ret);
void daemon_free(struct daemon *d);

/*
 * Run until SIGTERM/SIGINT (returns 0) or a fatal error (<0). With once:
 * fetch and process everything waiting, flush the outbox once, return —
 * without waiting on any timer (so it works under libfaketime).
 */
int daemon_run(struct daemon *d, bool once);

#endif
