/*
 * twilio.h — pure decoding of Twilio REST API 2010-04-01 answers, for
 * provider_twilio.c and its table tests (no I/O, no logging, no state).
 *
 * Shapes are those of Twilio's OpenAPI description
 * (shared/providers/twilio/twilio_api_v2010.json) and PROVIDERS.md §1:
 * list pages {"messages"|"calls": [...], "next_page_uri": "/2010-04-01/..."|null},
 * one message resource for create (201) and fetch (200), and the error
 * body {"code", "message", "more_info", "status"}. Dates are RFC 2822 in
 * GMT ("Tue, 07 May 2024 09:15:02 +0000"). Invalid UTF-8 anywhere in a
 * body is repaired (U+FFFD) before parsing.
 */
#ifndef GRIDLINE_TWILIO_H
#define GRIDLINE_TWILIO_H

#include <stddef.h>
#include <stdint.h>

#include "provider.h"

/* One message or call of a list page; every string owned, NULL if absent. */
struct twilio_item {
	char *sid;
	char *direction;     /* "inbound", "outbound-api", ... */
	char *from;
	char *to;
	char *body;          /* messages only; may hold NUL bytes (body_len) */
	size_t body_len;
	char *status;        /* "received", "no-answer", ... */
	int64_t created;     /* date_created, epoch seconds, 0 if unknown */
	int64_t when;        /* messages: date_sent; calls: start_time; else created */
	long error_code;     /* 0 when null */
	char *error_message;
};

struct twilio_page {
	struct twilio_item *items;
	size_t n;
	char *next_page_uri; /* relative path of the next page, NULL at the end */
};

/* What the poller does with a listed item. */
enum twilio_take {
	TWILIO_SKIP = 0,     /* not an inbound text / missed call: remember, never hand over */
	TWILIO_NEW,          /* hand over (if not seen before) */
	TWILIO_WAIT,         /* not final yet (receiving, ringing, ...): look again next poll */
};

/*
 * Decode a Messages.json (calls = 0) or Calls.json (calls = 1) list page
 * of len bytes into *ret (released with twilio_page_release()). Entries
 * without a string "sid" are dropped. Returns 0, or -EBADMSG with the
 * reason in why[whysize] (malformed JSON, no list array); *ret untouched.
 */
int twilio_decode_page(const char *body, size_t len, int calls, struct twilio_page *ret,
		       char *why, size_t whysize);
void twilio_page_release(struct twilio_page *p);   /* NULL fine */

/* Inbound text that arrived (received) → NEW; receiving/accepted... → WAIT; rest SKIP. */
enum twilio_take twilio_message_take(const struct twilio_item *it);
/* Inbound call that was not answered (no-answer, busy, failed, canceled) → NEW;
 * queued/ringing/in-progress → WAIT; completed or outbound → SKIP. */
enum twilio_take twilio_call_take(const struct twilio_item *it);

/*
 * A provider_msg from a NEW item (kind PROVIDER_MSG_SMS or _CALL): strings
 * copied into *ret (free with provider_batch_free() of its batch); a text
 * without a body or sender gets an error. Calls have body "".
 */
void twilio_item_to_msg(const struct twilio_item *it, int kind, struct provider_msg *ret);

/*
 * The "sid" of a message resource (a 201 create or 200 fetch answer) into
 * sid[size]. Returns 0, or -EBADMSG (not JSON, no sid, too long).
 */
int twilio_decode_sid(const char *body, size_t len, char *sid, size_t size);

/*
 * Delivery state of a fetched message resource into *ret (state, error
 * "error_code error_message" when failed; err 0). Returns 0, or -EBADMSG
 * (malformed, no status) with ret->err = -EBADMSG and the reason in
 * ret->error.
 */
int twilio_decode_status(const char *body, size_t len, struct provider_status *ret);

/*
 * An error answer as "CODE message" (Twilio's JSON error body), else
 * "HTTP <status>", into out[size]. Returns the Twilio code, or 0 if the
 * body held none.
 */
long twilio_decode_error(long http_status, const char *body, size_t len, char *out, size_t size);

/* RFC 2822 date ("Tue, 07 May 2024 09:15:02 +0000") → epoch seconds; 0 if unparsable. */
int64_t twilio_parse_date(const char *s);

/* t as a GMT day "YYYY-MM-DD" into buf[11]; returns buf. */
const char *twilio_day(int64_t t, char buf[11]);

/* "YYYY-MM-DD" → epoch seconds of its GMT midnight; -1 if malformed. */
int64_t twilio_day_parse(const char *s);

#endif
