/*
 * daemon.c — gridlined's event loop.
 *
 * Sources: a defer source `work` that runs one inbound batch (enabled by
 * the provider's wake-up, the poll timer, or a full previous batch, so
 * signals and the watchdog get their turn between batches); the poll
 * timer (CLOCK_MONOTONIC, every poll_interval, with slack so the kernel
 * may coalesce wake-ups); the outbox retry timer (armed for the earliest
 * queued row); SIGTERM/SIGINT/SIGHUP through signalfd. The watchdog is
 * sd-event's own (sd_event_set_watchdog). Signal handlers do no work:
 * sd-event turns them into events handled between batches, so a SIGTERM
 * always finds the transaction in hand finished.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "calendar.h"
#include "daemon.h"
#include "intake.h"
#include "log.h"
#include "outbox.h"
#include "provider.h"
#include "store.h"
#include "util.h"

struct daemon {
	struct config *cfg;
	struct store *store;
	struct provider *provider;
	struct intake *intake;
	struct outbox *outbox;
	sd_event *event;
	sd_event_source *work, *poll, *retry, *record;
	bool once;
	bool busy;          /* a fetch is in flight */
	bool more;          /* the last batch was full: fetch again */
	bool inbound_done;  /* --once: nothing more to fetch */
	bool provider_down; /* the last fetch failed (logged once per outage) */
	uint64_t fetch_after; /* monotonic usec before which the provider asked not to be polled */
	int result;
	uint64_t processed; /* messages handled since start */
	uint64_t status_at;   /* monotonic usec of the last STATUS= */
	bool status_stale;    /* something happened since */
};

#define STATUS_EVERY 1000000   /* usec: STATUS= at most once a second */

/*
 * STATUS= for systemctl status. Its counts read indexes as long as the
 * open tickets and the queue, so a burst refreshes them at most once a
 * second; the retry timer brings the last refresh (daemon_arm_retry).
 */
static void daemon_status(struct daemon *d)
{
	int64_t open = 0, queued = 0;
	uint64_t now = util_mono_usec();

	if (d->once)
		return;
	if (d->status_at && now < d->status_at + STATUS_EVERY) {
		d->status_stale = true;
		return;
	}
	d->status_at = now;
	d->status_stale = false;
	store_ticket_count_open(d->store, &open);
	store_outbox_count_queued(d->store, &queued);
	sd_notifyf(false, "STATUS=%lld open tickets, %lld texts queued, %llu messages handled",
		   (long long)open, (long long)queued, (unsigned long long)d->processed);
}

/*
 * Arm the retry timer: for the earliest queued text (not with --once,
 * whose retries belong to the next run), or sooner when pacing held texts
 * back.
 */
/* when = the earlier of when and wall-clock time at, as monotonic usec. */
static void earliest(uint64_t *when, uint64_t mono, double now, int64_t at)
{
	uint64_t t = mono + (uint64_t)((double)at > now ? ((double)at - now) * 1e6 : 0);

	if (t < *when)
		*when = t;
}

static void daemon_arm_retry(struct daemon *d)
{
	uint64_t mono, when = UINT64_MAX, paced = outbox_paced_until(d->outbox);
	double now = util_now_real();
	int64_t at;

	sd_event_now(d->event, CLOCK_MONOTONIC, &mono);
	if (!d->once && outbox_next_wake(d->outbox, &at) == 0)
		earliest(&when, mono, now, at);
	if (!d->once && store_tickets_next_check(d->store, &at) == 0)
		earliest(&when, mono, now, at);
	if (!d->once && (at = intake_daily_next(d->intake, (int64_t)now)) > 0)
		earliest(&when, mono, now, at);
	if (paced && paced < when)
		when = paced;
	if (d->status_stale && d->status_at + STATUS_EVERY < when)
		when = d->status_at + STATUS_EVERY;
	if (when == UINT64_MAX) {
		sd_event_source_set_enabled(d->retry, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(d->retry, when);
	sd_event_source_set_enabled(d->retry, SD_EVENT_ONESHOT);
}

/* --once is done when nothing is left to fetch, send or wait for. */
static void daemon_maybe_exit(struct daemon *d)
{
	if (d->once && d->inbound_done && outbox_inflight(d->outbox) == 0 &&
	    !outbox_paced_until(d->outbox))
		sd_event_exit(d->event, 0);
}

/* The ticket clock: reminders, escalations, unanswered 回访; one transaction. */
static void daemon_tick(struct daemon *d)
{
	int64_t at, now = util_now(), daily = intake_daily_next(d->intake, now);
	int r;

	if ((store_tickets_next_check(d->store, &at) < 0 || at > now) && (!daily || daily > now))
		return;   /* nothing due: no transaction */
	r = store_begin(d->store);
	if (r == 0)
		r = intake_tick(d->intake, now);
	if (r >= 0)
		r = intake_daily(d->intake, now);
	if (r >= 0)
		r = store_commit(d->store);
	if (r < 0) {
		log_error("ticket clock: %s; will retry", store_errmsg(d->store));
		store_rollback(d->store);
	}
}

static void daemon_flush(struct daemon *d)
{
	if (d->once)
		d->inbound_done = true;
	daemon_tick(d);
	outbox_flush(d->outbox, util_now());
	outbox_check(d->outbox, util_now());
	daemon_status(d);
	daemon_arm_retry(d);
	daemon_maybe_exit(d);
}

/* A provider answered a send late: record it, then send what is due. */
static int on_record(sd_event_source *s, void *ud)
{
	struct daemon *d = ud;

	outbox_record(d->outbox, util_now());
	daemon_flush(d);
	return 0;
}

static void on_outbox_wake(void *ud)
{
	struct daemon *d = ud;

	sd_event_source_set_enabled(d->record, SD_EVENT_ONESHOT);
}

static void on_batch(void *ud, struct provider_batch *b, int err, double retry_after)
{
	struct daemon *d = ud;
	int64_t now = util_now();
	size_t n_new = 0;
	int r;

	d->busy = false;
	d->more = false;
	if (err < 0 || !b) {
		if (retry_after > 0)
			d->fetch_after = util_mono_usec() + (uint64_t)(retry_after * 1e6);
		if (!d->provider_down)
			log_errno(LOG_ERR, err, "provider %s: fetch failed; retrying every %.1f s",
				  d->provider->ops->name, d->cfg->poll_interval);
		d->provider_down = true;
		goto done;
	}
	if (d->provider_down)
		log_notice("provider %s is answering again", d->provider->ops->name);
	d->provider_down = false;
	r = store_begin(d->store);
	for (size_t i = 0; r == 0 && i < b->n; i++) {
		bool dup;
		r = intake_message(d->intake, d->provider->ops->name, &b->msgs[i], now, &dup);
		n_new += !dup;
	}
	if (r == 0 && b->cursor)
		r = store_cursor_set(d->store, d->provider->ops->name, b->cursor, now);
	if (r == 0)
		r = store_commit(d->store);
	if (r < 0) {
		log_error("could not store %zu inbound message(s): %s; will retry", b->n,
			  store_errmsg(d->store));
		store_rollback(d->store);
		goto done;
	}
	d->processed += n_new;
	/* a failed ack means the batch comes back: wait for the next poll, do not spin */
	d->more = d->provider->ops->ack(d->provider, b) == 0 && b->n > 0 &&
		  (b->more || b->n >= d->cfg->limits.batch);
done:
	provider_batch_free(b);
	if (d->more)
		sd_event_source_set_enabled(d->work, SD_EVENT_ONESHOT);
	else
		daemon_flush(d);
}

static int on_work(sd_event_source *s, void *ud)
{
	struct daemon *d = ud;
	char cursor[512];
	int r;

	if (d->busy)
		return 0;
	if (d->fetch_after > util_mono_usec()) {   /* Retry-After: not yet */
		daemon_flush(d);
		return 0;
	}
	d->busy = true;
	r = store_cursor_get(d->store, d->provider->ops->name, cursor, sizeof(cursor));
	r = d->provider->ops->fetch(d->provider, r == 0 ? cursor : NULL, d->cfg->limits.batch,
				    on_batch, d);
	if (r < 0) {
		d->busy = false;
		log_errno(LOG_ERR, r, "provider %s: fetch", d->provider->ops->name);
		daemon_flush(d);
	}
	return 0;
}

static void on_wake(void *ud)
{
	struct daemon *d = ud;

	if (d->once && d->inbound_done)
		return;
	sd_event_source_set_enabled(d->work, SD_EVENT_ONESHOT);
}

static int on_poll(sd_event_source *s, uint64_t usec, void *ud)
{
	struct daemon *d = ud;

	on_wake(d);
	sd_event_source_set_time(s, usec + (uint64_t)(d->cfg->poll_interval * 1e6));
	return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *ud)
{
	daemon_flush(ud);
	return 0;
}

/*
 * Deadlines in a year the calendar knows nothing about count weekends only,
 * and in a provisional year miss the 调休: say so for this year and, from
 * 1 December on, for the next one too (deadlines cross New Year).
 */
static void daemon_check_calendar(struct daemon *d)
{
	time_t now = (time_t)util_now();
	struct tm tm;
	int year, last;

	localtime_r(&now, &tm);
	year = tm.tm_year + 1900;
	last = tm.tm_mon == 11 ? year + 1 : year;
	for (; year <= last; year++) {
		enum calendar_year st = calendar_year_state(d->cfg->wf.calendar, year);

		if (st == CALENDAR_YEAR_NONE)
			log_warn("the working-day calendar has no holidays for %d: deadlines there "
				 "count weekends only (see workflow.calendar)", year);
		else if (st == CALENDAR_YEAR_PROVISIONAL)
			log_warn("the working-day calendar for %d is provisional (statutory holidays "
				 "only, no 调休 yet): update gridline or workflow.calendar when the "
				 "official arrangement is published", year);
	}
}

/* SIGHUP: load, validate, swap; on any error keep running on the old config. */
static void daemon_reload(struct daemon *d)
{
	struct config *nc = NULL;
	const struct provider_ops *ops;
	struct provider *np = NULL;
	struct diag dg = { 0 };
	char err[512];
	int r;

	sd_notifyf(false, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)util_mono_usec());
	r = config_load(d->cfg->path, &nc, &dg);
	for (size_t i = 0; i < dg.n; i++)
		log_msg(i < dg.n && r < 0 ? LOG_ERR : LOG_WARNING, "%s", dg.lines[i]);
	diag_release(&dg);
	if (r < 0) {
		log_error("reload of %s failed; still running on the previous configuration",
			  d->cfg->path);
		goto out;
	}
	if (strcmp(nc->database, d->cfg->database) != 0)
		log_warn("database changed to %s: takes effect at the next restart", nc->database);
	ops = provider_find(nc->provider.type, err, sizeof(err));
	if (!ops) {
		log_error("reload: %s; still running on the previous configuration", err);
		config_free(nc);
		goto out;
	}
	r = ops->open(&nc->provider, &np, err, sizeof(err));
	if (r < 0) {
		log_error("reload: provider: %s; still running on the previous configuration", err);
		config_free(nc);
		goto out;
	}
	if (np->ops->attach && np->ops->attach(np, d->event, on_wake, d) < 0) {
		log_error("reload: cannot watch the new provider; keeping the previous configuration");
		np->ops->close(np);
		config_free(nc);
		goto out;
	}
	/* the database stays the one we opened */
	free(nc->database);
	nc->database = xstrdup(d->cfg->database);
	d->provider->ops->close(d->provider);   /* cancels its requests in flight */
	d->provider = np;
	d->busy = false;
	intake_set_config(d->intake, nc);
	outbox_set_config(d->outbox, nc, np);
	config_free(d->cfg);
	d->cfg = nc;
	log_set_level(nc->log_level);
	log_set_mask_phones(nc->mask_phones);
	log_info("configuration reloaded from %s", nc->path);
	daemon_check_calendar(d);
	on_wake(d);
out:
	sd_notify(false, "READY=1");
	daemon_status(d);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
	struct daemon *d = ud;

	if (si->ssi_signo == SIGHUP) {
		daemon_reload(d);
		return 0;
	}
	log_info("received %s; exiting", strsignal((int)si->ssi_signo));
	sd_notify(false, "STOPPING=1");
	sd_event_exit(d->event, 0);
	return 0;
}

int daemon_new(struct config *cfg, struct daemon **ret)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	const struct provider_ops *ops;
	char err[512], *serr = NULL;
	int r;

	d->cfg = cfg;
	r = store_open(cfg->database, false, &d->store, &serr);
	if (r < 0) {
		log_error("database %s: %s", cfg->database, serr ? serr : strerror(-r));
		free(serr);
		goto err;
	}
	ops = provider_find(cfg->provider.type, err, sizeof(err));
	r = ops ? ops->open(&cfg->provider, &d->provider, err, sizeof(err)) : -EINVAL;
	if (r < 0) {
		log_error("provider %s: %s", cfg->provider.type, err);
		goto err;
	}
	d->intake = intake_new(cfg, d->store);
	d->outbox = outbox_new(cfg, d->store, d->provider);
	*ret = d;
	return 0;
err:
	daemon_free(d);
	return r;
}

void daemon_free(struct daemon *d)
{
	if (!d)
		return;
	sd_event_source_disable_unref(d->work);
	sd_event_source_disable_unref(d->poll);
	sd_event_source_disable_unref(d->retry);
	sd_event_source_disable_unref(d->record);
	outbox_free(d->outbox);
	intake_free(d->intake);
	if (d->provider)
		d->provider->ops->close(d->provider);
	sd_event_unref(d->event);
	store_close(d->store);
	config_free(d->cfg);
	free(d);
}

static int daemon_setup_loop(struct daemon *d)
{
	uint64_t now, interval = (uint64_t)(d->cfg->poll_interval * 1e6);
	sigset_t ss;
	int r;

	r = sd_event_default(&d->event);
	if (r < 0)
		return r;
	r = sd_event_add_defer(d->event, &d->work, on_work, d);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(d->work, SD_EVENT_ONESHOT);
	r = sd_event_add_defer(d->event, &d->record, on_record, d);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(d->record, SD_EVENT_OFF);
	outbox_set_wake(d->outbox, on_outbox_wake, d);
	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	r = sd_event_add_time(d->event, &d->retry, CLOCK_MONOTONIC, now, 100000, on_retry, d);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(d->retry, SD_EVENT_OFF);
	if (d->provider->ops->attach) {
		r = d->provider->ops->attach(d->provider, d->event, on_wake, d);
		if (r < 0)
			return r;
	}
	if (d->once)
		return 0;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	if ((r = sd_event_add_signal(d->event, NULL, SIGTERM, on_signal, d)) < 0 ||
	    (r = sd_event_add_signal(d->event, NULL, SIGINT, on_signal, d)) < 0 ||
	    (r = sd_event_add_signal(d->event, NULL, SIGHUP, on_signal, d)) < 0)
		return r;
	r = sd_event_add_time(d->event, &d->poll, CLOCK_MONOTONIC, now + interval, interval / 10,
			      on_poll, d);
	if (r < 0)
		return r;
	sd_event_source_set_enabled(d->poll, SD_EVENT_ON);
	return sd_event_set_watchdog(d->event, true);
}

int daemon_run(struct daemon *d, bool once)
{
	int r;

	d->once = once;
	if (once)
		outbox_set_once(d->outbox, util_now());
	r = daemon_setup_loop(d);
	if (r < 0)
		return log_errno(LOG_ERR, r, "event loop setup");
	daemon_check_calendar(d);
	if (!once) {
		sd_notify(false, "READY=1");
		daemon_status(d);
		log_info("ready: database %s, provider %s, polling every %.1f s", d->cfg->database,
			 d->cfg->provider.type, d->cfg->poll_interval);
	}
	r = sd_event_loop(d->event);
	if (r < 0)
		return log_errno(LOG_ERR, r, "event loop");
	return 0;
}
