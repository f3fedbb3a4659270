/*
 * gwproto.h — pure decoding for gridline's own HTTP gateway protocol
 * (type "http", docs/http-provider.md): the bodies of GET /inbox,
 * POST /send and GET /status. No I/O, no logging: provider_http.c does the
 * talking, the unit tests feed these recorded bodies. A body may be any
 * bytes: invalid UTF-8 is repaired (U+FFFD) before it is parsed; an
 * escaped NUL inside a text is kept (bodies carry a length).
 */
#ifndef GRIDLINE_GWPROTO_H
#define GRIDLINE_GWPROTO_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"

#define GWPROTO_CURSOR_MAX 512   /* a cursor is a string under this many bytes */
#define GWPROTO_LIMIT_MAX 500    /* most messages asked for per /inbox page */
#define GWPROTO_STATUS_MAX 100   /* most ids per GET /status */

/*
 * Decode a 200 answer to GET /inbox into a batch (caller frees with
 * provider_batch_free()). An entry without an id gets a stable "sha256:"
 * id of its content and, like one without a body, is returned with
 * msg.error set; entries that are not objects are left out. Returns 0, or
 * -EBADMSG with why[whysize] saying what is wrong (nothing returned then):
 * not JSON, no "messages" array, a cursor that is not a string under
 * GWPROTO_CURSOR_MAX bytes.
 */
int gwproto_inbox(const char *body, size_t len, struct provider_batch **ret, char *why,
		  size_t whysize);

/*
 * Classify an answer to POST /send into *res (status, provider_id,
 * error; retry_after is the caller's): 200/201/202 sent (provider_id the
 * answer's "id", "" if none, whatever the body); 4xx but 408 and 429
 * permanent (-EINVAL); everything else transient (-EAGAIN). error gets
 * "HTTP <status>[ <code>][: <message>]".
 */
void gwproto_send(long status, const char *body, size_t len, struct provider_result *res);

/*
 * Decode a 200 answer to GET /status about the texts ids[n] (outbox row
 * ids; asked as "gridline-<id>") into each[n] (state, error): delivered,
 * failed with "code message", anything else — or an id the answer leaves
 * out — pending. Returns 0, or -EBADMSG with why (each[] untouched).
 */
int gwproto_status(const char *body, size_t len, const int64_t *ids, size_t n,
		   struct provider_status *each, char *why, size_t whysize);

#endif
