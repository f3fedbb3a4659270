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

struct outbox *outbox_new(const struct config *cfg, struct store *store, struct provider *p);
void outbox_free(struct outbox *o);
void outbox_set_config(struct outbox *o, const struct config *cfg, struct provider *p);

/*
 * Send every row due at now (in rounds of at most limits.batch), recording
 * outcomes in one transaction per round. Returns the number of texts
 * handed to the provider, or <0 on a store error.
 */
int outbox_flush(struct outbox *o, int64_t now);

/*
 * Delay before attempt number `attempt` (1 = first retry):
 * min(retry_max, retry_min * 2^(attempt-1)) scaled by a jitter factor in
 * [0.5, 1.0); never below retry_after. Pure apart from util_random().
 */
double outbox_backoff(const struct limits *l, int attempt, double retry_after);

#endif
