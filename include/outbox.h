/*
 * outbox.h — sending what is queued. Reads due rows from the store, hands
 * them to the provider, and records each outcome: sent; transient failure
 * → retried with exponential backoff and jitter (limits.retry_min ..
 * retry_max, at most limits.send_attempts attempts); permanent failure →
 * failed, logged at error level.
 */
#ifndef GRIDLINE_OUTBOX_H
#define GRIDLINE_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "provider.h"
#include "store.h"

struct outbox;

/* Called when a provider's late answer is waiting for outbox_record(). */
typedef void (*outbox_wake_cb)(void *ud);

struct outbox *outbox_new(const struct config *cfg, struct store *store, struct provider *p);
void outbox_free(struct outbox *o);
void outbox_set_config(struct outbox *o, const struct config *cfg, struct provider *p);

void outbox_set_wake(struct outbox *o, outbox_wake_cb wake, void *ud);

/*
 * Hand every row due at now to the provider (in rounds of at most
 * limits.batch, as far as provider.rate allows), recording the answers
 * that are already in, in one transaction per round. Rows in flight are
 * not handed over twice. Returns the number of texts handed over, or <0
 * on a store error.
 */
int outbox_flush(struct outbox *o, int64_t now);

/* Record the answers that came in since the last flush (one transaction). */
int outbox_record(struct outbox *o, int64_t now);

/*
 * Delivery status: expire texts sent longer than provider.status_timeout
 * ago (unknown), then ask the provider about every sent text whose check
 * is due (not those already asked). Nothing when the provider reports no
 * delivery. Returns 0 or <0 on a store error.
 */
int outbox_check(struct outbox *o, int64_t now);

/* The earliest time (epoch s) a queued text or a delivery check is due; -ENOENT when none. */
int outbox_next_wake(struct outbox *o, int64_t *ret_at);

/*
 * --once: start is the run's start; a text tried in this run is not
 * tried again in it (its retry belongs to the next run). 0: off.
 */
void outbox_set_once(struct outbox *o, int64_t start);

/* Sends and status questions handed to the provider that have not been answered yet. */
size_t outbox_inflight(const struct outbox *o);

/*
 * When the last flush left due texts queued because of provider.rate:
 * the monotonic time (usec) of the next allowed send; else 0.
 */
uint64_t outbox_paced_until(const struct outbox *o);

/*
 * Delay before attempt number `attempt` (1 = first retry):
 * min(retry_max, retry_min * 2^(attempt-1)) scaled by a jitter factor in
 * [0.5, 1.0); never below retry_after. Pure apart from util_random().
 */
double outbox_backoff(const struct limits *l, int attempt, double retry_after);

#endif
