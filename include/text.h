/*
 * text.h — text normalisation and keyword parsing. Pure: no I/O, no
 * logging, no global state. Everything here is table-tested.
 *
 * The pipeline for an inbound SMS body:
 *   text_utf8_fix()   bytes -> valid UTF-8 (bad bytes become U+FFFD)
 *   text_normalize()  fold full-width forms and the ideographic space to
 *                     ASCII, trim, collapse runs of white space
 *   text_parse()      match a keyword from a keyword_set at the start
 *                     (longest wins, ASCII case ignored, separator after
 *                     the keyword optional) and pick out the arguments:
 *                     ticket reference, rating, the rest as free text.
 */
#ifndef GRIDLINE_TEXT_H
#define GRIDLINE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Copy len bytes of in into a new NUL-terminated heap string that is valid
 * UTF-8: every invalid, overlong, surrogate or truncated sequence and every
 * NUL byte is replaced by U+FFFD. *ret_bad (may be NULL) receives the
 * number of replacements. Caller frees.
 */
char *text_utf8_fix(const char *in, size_t len, size_t *ret_bad);

/*
 * Normalise valid UTF-8 for matching: full-width forms U+FF01..U+FF5E fold
 * to ASCII, U+3000 (ideographic space) and other white space become ' ',
 * runs of white space collapse to one, leading/trailing space is trimmed.
 * Case is kept (matching ignores ASCII case). Returns a new heap string.
 */
char *text_normalize(const char *utf8);

/*
 * The byte offset in utf8 (valid UTF-8) of the character that became
 * byte norm_off of text_normalize(utf8): where the text a parse result
 * points at in the normalised form starts in the original. A norm_off
 * at a collapsed space maps to the next non-space character; one at or
 * past the end maps to strlen(utf8).
 */
size_t text_original_offset(const char *utf8, size_t norm_off);

/*
 * Escape for a log line or terminal: C0 controls, DEL, C1 controls
 * (U+0080..U+009F) and the bidi overrides U+202A..U+202E, U+2066..U+2069
 * become "\xNN" / "\u{NNNN}"; '\n' becomes "\n" (two characters). Output
 * is cut (on a character boundary, with "…") to fit out[size].
 * Returns out.
 */
char *text_escape(const char *utf8, char *out, size_t size);

/*
 * The one UTF-8 decoder: the code point at s (NUL-terminated; not at its
 * end) in *ret_cp and where the next one starts. An ill-formed sequence
 * (stray, overlong, surrogate, truncated) reads as U+FFFD and is skipped
 * as its maximal ill-formed subpart, as text_utf8_fix() replaces it.
 */
const char *text_utf8_next(const char *s, uint32_t *ret_cp);

/* Number of Unicode code points in valid UTF-8. */
size_t text_utf8_len(const char *utf8);

/*
 * Normalise a phone number to E.164: strip spaces, '-', '(', ')', '.';
 * "+CC..." kept; "00CC..." -> "+CC..."; a national number (no prefix) gets
 * "+<country_code>" — for country_code "86" an 11-digit mobile "13800000001"
 * becomes "+8613800000001", and "8613800000001" (13 digits starting with the
 * country code) becomes "+8613800000001". A national number with the
 * trunk prefix 0 loses it ("0351-1234567" -> "+863511234567").
 * -ENOBUFS when out is too small.
 * Returns 0, or -EINVAL when the result is not '+' and 6..15 digits.
 */
int phone_normalize(const char *in, const char *country_code, char *out, size_t size);

/* What a message asks for. */
enum intent {
	INTENT_NONE = 0, /* no keyword: free text (an unclassified ticket) */
	INTENT_CATEGORY, /* a new ticket of category `category` */
	/* resident commands */
	INTENT_STATUS,
	INTENT_CANCEL,
	INTENT_RATE,
	INTENT_HELP,
	INTENT_STOP,
	/* worker commands */
	INTENT_ACCEPT,
	INTENT_DONE,
	INTENT_DECLINE,
	INTENT_TRANSFER,
	INTENT_LIST,
	_INTENT_MAX,
};

/* "status", "accept", ... (the config key of the command); NULL for NONE/CATEGORY. */
const char *intent_name(enum intent i);
/* Inverse of intent_name(); INTENT_NONE if unknown. */
enum intent intent_from_name(const char *name);

/* A set of keywords for one audience (residents, or workers). Opaque. */
struct keyword_set;

struct keyword_set *keyword_set_new(void);
void keyword_set_free(struct keyword_set *ks); /* NULL is fine */
/*
 * Add a keyword (any UTF-8; it is normalised and matched ignoring ASCII
 * case). category is the category index for INTENT_CATEGORY, else -1.
 * Returns 0, -EINVAL for an empty keyword, -EEXIST if the same normalised
 * keyword is already in the set (the first one stays).
 */
int keyword_set_add(struct keyword_set *ks, const char *word, enum intent intent, int category);

/* Result of text_parse(). Pointers point into the `norm` string parsed. */
struct parsed {
	enum intent intent;
	int category;      /* category index for INTENT_CATEGORY, else -1 */
	int64_t ticket;    /* ticket reference, 0 when none was given */
	int rating;        /* 1..3 for INTENT_RATE when given, else 0 */
	const char *rest;  /* free text after keyword and arguments ("" if none) */
	const char *keyword_end; /* where the matched keyword ends in norm (norm if none) */
};

/*
 * Parse a normalised text (from text_normalize()) against ks.
 *
 * Keyword: the longest keyword in ks that the text starts with, ASCII case
 * ignored. A keyword that ends in an ASCII letter must not be followed by
 * another ASCII letter ("FIXED" is not "FIX"); anything else may follow
 * directly ("报修下水管堵了", "JD1024"). Separators after the keyword are
 * skipped: space : ： , ， # 、 ; ； . 。
 *
 * Arguments, by intent:
 *  - ACCEPT, DONE, DECLINE, CANCEL, STATUS: an optional ticket reference,
 *    then the rest is a note.
 *  - TRANSFER: ticket reference, then rest (the target worker id).
 *  - RATE: optional ticket reference, then a rating 1|2|3 or
 *    满意(1) 基本满意(2) 不满意(3); rest is any comment after it.
 *    When only one number is given and it is 1..3 it is the rating.
 *  - CATEGORY, NONE, HELP, STOP, LIST: no arguments, rest is everything
 *    after the keyword (for NONE: the whole text).
 * Ticket reference forms: 1024, #1024, R1024, r1024, No.1024, NO1024,
 * 1024号, ＃１０２４ (full-width is already folded by normalisation);
 * 1..12 digits; followed by a separator or end (or 号), or directly by
 * non-ASCII text ("完成1024已疏通") unless that is a measure or place word
 * that makes the number a quantity or an address ("3楼", "6号院", "5块").
 *
 * Never fails: an empty text parses as INTENT_NONE with rest "".
 */
void text_parse(const struct keyword_set *ks, const char *norm, struct parsed *ret);

/*
 * Find a ticket reference anywhere at the start of s (after optional
 * separators), in the forms text_parse() accepts. On success stores the
 * number in *ret_ticket, and the position after it in *ret_end, returns
 * true. Exposed for the bare-reply rules of the worker protocol.
 */
bool text_ticket_ref(const char *s, int64_t *ret_ticket, const char **ret_end);

#endif
