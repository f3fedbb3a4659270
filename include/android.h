/*
 * android.h — pure decoding for SMS Gateway for Android (capcom6), local
 * server mode: the bodies of GET /inbox, POST /message and
 * GET /message/{id}, its error body, and the ISO 8601 times it uses
 * (shared/providers/android-sms-gateway/swagger.json; PROVIDERS.md 4.1).
 * No I/O, no logging: provider_android.c does the talking, the unit tests
 * feed these recorded bodies. Every body may be any bytes: invalid UTF-8
 * is repaired (U+FFFD) before it is parsed.
 */
#ifndef GRIDLINE_ANDROID_H
#define GRIDLINE_ANDROID_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"

#define ANDROID_PAGE_MAX 500     /* GET /inbox `limit` is 1..500 */
#define ANDROID_ID_MAX 36        /* a client-chosen message id, at most (swagger) */
#define ANDROID_TIME_UNKNOWN INT64_MIN

/* One inbound text from GET /inbox. */
struct android_in {
	struct provider_msg msg; /* id, from, body, received_at; error when defective */
	int64_t created_ms;      /* createdAt, epoch milliseconds, or ANDROID_TIME_UNKNOWN */
};

/*
 * Decode a GET /inbox answer body (a JSON array of IncomingMessage).
 * Items of another type than "SMS" and items that are not objects are
 * left out; an item without an id gets a stable "sha256:" id of its
 * content, and one without an id or a contentPreview is still returned
 * with msg.error set. *ret_items (caller frees with android_in_free())
 * and *ret_n get the texts; *ret_raw the array's length (items left out
 * included: a page of `limit` raw items means another page may follow).
 * Returns 0, or -EBADMSG with why[whysize] saying what is wrong (nothing
 * returned then).
 */
int android_decode_inbox(const char *body, size_t len, struct android_in **ret_items,
			 size_t *ret_n, size_t *ret_raw, char *why, size_t whysize);

/* Free n items from android_decode_inbox() and the array. NULL fine. */
void android_in_free(struct android_in *items, size_t n);

/*
 * Classify the answer to POST /message for the client id we chose into
 * *res (status, provider_id, error; retry_after is the caller's):
 * 2xx: sent, provider_id the answer's "id" (or id); 409 "already exists":
 * sent (a repeat of a send the gateway already took: the id is ours and
 * unique to the row), provider_id id; 408, 429, 5xx, other non-4xx:
 * -EAGAIN; other 4xx: -EINVAL. error gets "HTTP <code>: <message>".
 */
void android_decode_send(long status, const char *body, size_t len, const char *id,
			 struct provider_result *res);

/*
 * Decode the answer to GET /message/{id} into *st (err, state, error;
 * retry_after is the caller's). 200: state Pending/Processed/Sent (or
 * one we do not know) -> DELIVERY_PENDING, Delivered -> DELIVERY_DELIVERED,
 * Failed -> DELIVERY_FAILED with the recipients' error text; a 200 that is
 * not JSON or has no "state" -> err -EBADMSG. 404 -> err -ENOENT;
 * 408/429/5xx -> -EAGAIN; other statuses -> -EINVAL; error says why.
 */
void android_decode_state(long status, const char *body, size_t len,
			  struct provider_status *st);

/*
 * "HTTP <status>" followed by ": <message>" from an error body
 * ({"message": "...", "code": N}) when there is one, into out[size]
 * (truncated to fit). Returns out.
 */
const char *android_error_text(long status, const char *body, size_t len, char *out,
			       size_t size);

/*
 * Parse an ISO 8601 date-time "YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM|±HHMM)"
 * into epoch milliseconds. Returns 0, or -EINVAL (*ret_ms untouched).
 */
int android_parse_time(const char *s, int64_t *ret_ms);

/*
 * Format epoch milliseconds as "YYYY-MM-DDTHH:MM:SS.mmm+00:00" (the form
 * the gateway's `from` parameter takes) into out[size]. Returns 0, or
 * -ENOSPC / -ERANGE.
 */
int android_format_time(int64_t ms, char *out, size_t size);

#endif
