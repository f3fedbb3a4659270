/*
 * text.c — UTF-8 repair, normalisation, escaping for logs, phone numbers
 * and keyword parsing of inbound SMS. Pure: no I/O, no logging, no state
 * beyond constant tables.
 *
 * Invalid UTF-8 is replaced the way Unicode recommends ("U+FFFD
 * substitution of maximal subparts", Unicode 15 §3.9): one U+FFFD for each
 * maximal prefix of a well-formed sequence, or for each single bad byte.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

#define REPLACEMENT_CHAR 0xFFFDu
#define TICKET_DIGITS_MAX 12
#define ELLIPSIS "\xE2\x80\xA6" /* U+2026 */

/* ---- UTF-8 ------------------------------------------------------------- */

/*
 * Decode the sequence at s (at most n bytes; a NUL stops it anyway).
 * Returns its length and the code point in *ret_cp, or minus the length of
 * the maximal ill-formed subpart to replace (at least 1).
 */
static int utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp)
{
	unsigned char lo = 0x80, hi = 0xBF;
	unsigned char c = s[0];
	uint32_t cp;
	int need;

	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	}
	if (c < 0xC2 || c > 0xF4)
		return -1;               /* continuation, overlong lead, or > U+10FFFF */
	if (c < 0xE0) {
		need = 1;
		cp = c & 0x1F;
	} else if (c < 0xF0) {
		need = 2;
		cp = c & 0x0F;
		lo = c == 0xE0 ? 0xA0 : 0x80;   /* no overlong 3-byte forms */
		hi = c == 0xED ? 0x9F : 0xBF;   /* no surrogates */
	} else {
		need = 3;
		cp = c & 0x07;
		lo = c == 0xF0 ? 0x90 : 0x80;   /* no overlong 4-byte forms */
		hi = c == 0xF4 ? 0x8F : 0xBF;   /* nothing above U+10FFFF */
	}
	for (int i = 1; i <= need; i++) {
		if ((size_t)i >= n || s[i] < lo || s[i] > hi)
			return -i;
		cp = cp << 6 | (s[i] & 0x3F);
		lo = 0x80;
		hi = 0xBF;
	}
	*ret_cp = cp;
	return need + 1;
}

/* Encode cp into out (room for 4 bytes); returns the length. */
static size_t utf8_encode(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

const char *text_utf8_next(const char *s, uint32_t *ret_cp)
{
	int k = utf8_decode((const unsigned char *)s, (size_t)-1, ret_cp);

	if (k > 0)
		return s + k;
	*ret_cp = REPLACEMENT_CHAR;
	return s - k;
}

char *text_utf8_fix(const char *in, size_t len, size_t *ret_bad)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0, o = 0, bad = 0;
	uint32_t cp;
	char *out;

	if (len > (SIZE_MAX - 1) / 3)
		len = (SIZE_MAX - 1) / 3;
	out = xmalloc(3 * len + 1);      /* each bad byte may become 3 */
	while (i < len) {
		int k = utf8_decode(s + i, len - i, &cp);

		if (k > 0 && cp != 0) {
			memcpy(out + o, s + i, (size_t)k);
			o += (size_t)k;
			i += (size_t)k;
			continue;
		}
		o += utf8_encode(REPLACEMENT_CHAR, out + o);
		i += k > 0 ? (size_t)k : (size_t)-k;
		bad++;
	}
	out[o] = '\0';
	if (ret_bad)
		*ret_bad = bad;
	return out;
}

size_t text_utf8_len(const char *utf8)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)utf8; *p; p++)
		if ((*p & 0xC0) != 0x80)
			n++;
	return n;
}

/* ---- normalisation ----------------------------------------------------- */

static bool is_space(uint32_t cp)
{
	return cp == ' ' || (cp >= '\t' && cp <= '\r') || cp == 0x85 || cp == 0xA0 ||
	       cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
	       cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

char *text_normalize(const char *utf8)
{
	/* only invalid input grows (1 byte -> U+FFFD); size for it */
	char *out = xmalloc(3 * strlen(utf8) + 1);
	bool space = false;
	size_t o = 0;
	uint32_t cp;

	for (const char *p = utf8; *p;) {
		p = text_utf8_next(p, &cp);
		if (is_space(cp)) {
			space = o > 0;
			continue;
		}
		if (space)
			out[o++] = ' ';
		space = false;
		if (cp >= 0xFF01 && cp <= 0xFF5E)
			cp -= 0xFEE0;            /* full-width form -> ASCII */
		o += utf8_encode(cp, out + o);
	}
	out[o] = '\0';
	return out;
}

size_t text_original_offset(const char *utf8, size_t norm_off)
{
	bool space = false;
	size_t o = 0;
	uint32_t cp;

	for (const char *p = utf8; *p;) {
		const char *start = p;

		p = text_utf8_next(p, &cp);
		if (is_space(cp)) {
			space = o > 0;
			continue;
		}
		if (space)
			o++;
		space = false;
		if (o >= norm_off)
			return (size_t)(start - utf8);
		if (cp >= 0xFF01 && cp <= 0xFF5E)
			cp -= 0xFEE0;
		o += utf8_encode(cp, (char[4]){ 0 });
	}
	return strlen(utf8);
}

/* ---- escaping ---------------------------------------------------------- */

static bool needs_unicode_escape(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

/* The escaped form of the character at s into piece[16]; returns bytes of s used. */
static size_t escape_one(const char *s, char piece[16], size_t *ret_len)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t cp;
	int k = utf8_decode(u, (size_t)-1, &cp);

	if (k < 0) {                     /* not valid UTF-8: show the byte */
		*ret_len = (size_t)snprintf(piece, 16, "\\x%02x", u[0]);
		return 1;
	}
	if (cp == '\n')
		*ret_len = (size_t)snprintf(piece, 16, "\\n");
	else if (cp < 0x20 || cp == 0x7F)
		*ret_len = (size_t)snprintf(piece, 16, "\\x%02x", (unsigned)cp);
	else if (needs_unicode_escape(cp))
		*ret_len = (size_t)snprintf(piece, 16, "\\u{%04X}", (unsigned)cp);
	else {
		memcpy(piece, s, (size_t)k);
		*ret_len = (size_t)k;
	}
	return (size_t)k;
}

char *text_escape(const char *utf8, char *out, size_t size)
{
	const size_t ell = sizeof(ELLIPSIS) - 1;
	size_t pos = 0, fit = 0;         /* fit: last cut point with room for "…" */
	char piece[16];

	if (size == 0)
		return out;
	for (const char *s = utf8; *s;) {
		size_t plen;
		size_t used = escape_one(s, piece, &plen);

		if (pos + plen + 1 > size) {
			pos = fit;
			if (fit + ell + 1 <= size) {
				memcpy(out + pos, ELLIPSIS, ell);
				pos += ell;
			}
			break;
		}
		memcpy(out + pos, piece, plen);
		pos += plen;
		if (pos + ell + 1 <= size)
			fit = pos;
		s += used;
	}
	out[pos] = '\0';
	return out;
}

/* ---- phone numbers ----------------------------------------------------- */

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The digits of in, without punctuation, into d[size]; *ret_plus if it began with '+'. */
static int phone_digits(const char *in, char *d, size_t size, bool *ret_plus)
{
	size_t n = 0;

	*ret_plus = false;
	for (const char *p = in; *p; p++) {
		if (strchr(" \t-().", *p))
			continue;
		if (*p == '+' && n == 0 && !*ret_plus) {
			*ret_plus = true;
			continue;
		}
		if (*p < '0' || *p > '9' || n + 1 >= size)
			return -EINVAL;
		d[n++] = *p;
	}
	d[n] = '\0';
	return n > 0 ? 0 : -EINVAL;
}

/*
 * A number of more than 10 digits that starts with the country code is
 * taken to include it (no national number is that long and starts so:
 * Chinese mobiles start with 1, landlines with the trunk 0).
 */
int phone_normalize(const char *in, const char *country_code, char *out, size_t size)
{
	char d[24], e164[32];    /* e164 always holds "+", 3 + 22 digits */
	size_t n;
	bool plus;

	if (!in || !country_code || !all_digits(country_code) || strlen(country_code) > 3)
		return -EINVAL;
	if (phone_digits(in, d, sizeof(d), &plus) < 0)
		return -EINVAL;
	n = strlen(d);
	if (plus)
		snprintf(e164, sizeof(e164), "+%s", d);
	else if (strncmp(d, "00", 2) == 0)
		snprintf(e164, sizeof(e164), "+%s", d + 2);
	else if (n > 10 && strncmp(d, country_code, strlen(country_code)) == 0)
		snprintf(e164, sizeof(e164), "+%s", d);
	else if (d[0] == '0')
		snprintf(e164, sizeof(e164), "+%s%s", country_code, d + 1);
	else
		snprintf(e164, sizeof(e164), "+%s%s", country_code, d);
	n = strlen(e164) - 1;
	if (n < 6 || n > 15 || e164[1] == '0')
		return -EINVAL;
	return str_copy(out, size, e164) < 0 ? -ENOBUFS : 0;
}

/* ---- intents ----------------------------------------------------------- */

static const char *const intent_names[_INTENT_MAX] = {
	[INTENT_STATUS] = "status",
	[INTENT_CANCEL] = "cancel",
	[INTENT_RATE] = "rate",
	[INTENT_HELP] = "help",
	[INTENT_STOP] = "stop",
	[INTENT_ACCEPT] = "accept",
	[INTENT_DONE] = "done",
	[INTENT_DECLINE] = "decline",
	[INTENT_TRANSFER] = "transfer",
	[INTENT_LIST] = "list",
};

const char *intent_name(enum intent i)
{
	if ((int)i < 0 || i >= _INTENT_MAX)
		return NULL;
	return intent_names[i];
}

enum intent intent_from_name(const char *name)
{
	if (!name)
		return INTENT_NONE;
	for (int i = 0; i < _INTENT_MAX; i++)
		if (intent_names[i] && strcmp(intent_names[i], name) == 0)
			return (enum intent)i;
	return INTENT_NONE;
}

/* ---- keyword sets ------------------------------------------------------ */

struct keyword {
	char *word;          /* normalised, owned */
	size_t len;
	enum intent intent;
	int category;
};

struct keyword_set {
	struct keyword *v;   /* owned */
	size_t n, cap;
};

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Does s start with the n bytes of w, ASCII case ignored? */
static bool starts_with_ci(const char *s, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!s[i] || ascii_lower(s[i]) != ascii_lower(w[i]))
			return false;
	return true;
}

struct keyword_set *keyword_set_new(void)
{
	return xcalloc(1, sizeof(struct keyword_set));
}

void keyword_set_free(struct keyword_set *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		free(ks->v[i].word);
	free(ks->v);
	free(ks);
}

int keyword_set_add(struct keyword_set *ks, const char *word, enum intent intent, int category)
{
	char *w;
	size_t len;

	if (!word || intent <= INTENT_NONE || intent >= _INTENT_MAX ||
	    (intent == INTENT_CATEGORY) != (category >= 0))
		return -EINVAL;
	w = text_normalize(word);
	len = strlen(w);
	if (len == 0) {
		free(w);
		return -EINVAL;
	}
	for (size_t i = 0; i < ks->n; i++) {
		if (ks->v[i].len == len && starts_with_ci(ks->v[i].word, w, len)) {
			free(w);
			return -EEXIST;
		}
	}
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? 2 * ks->cap : 16;
		ks->v = xrealloc(ks->v, ks->cap * sizeof(*ks->v));
	}
	ks->v[ks->n++] = (struct keyword){ w, len, intent, category };
	return 0;
}

/* A letter-final keyword must not run on into a letter, nor a digit-final one into a digit. */
static bool keyword_boundary_ok(const struct keyword *k, const char *next)
{
	char last = k->word[k->len - 1];

	if (is_alpha(last) && is_alpha(*next))
		return false;
	if (is_digit(last) && is_digit(*next))
		return false;
	return true;
}

/* The longest keyword of ks that text starts with, or NULL. */
static const struct keyword *keyword_match(const struct keyword_set *ks, const char *text)
{
	const struct keyword *best = NULL;

	for (size_t i = 0; ks && i < ks->n; i++) {
		const struct keyword *k = &ks->v[i];

		if (best && k->len <= best->len)
			continue;
		if (starts_with_ci(text, k->word, k->len) && keyword_boundary_ok(k, text + k->len))
			best = k;
	}
	return best;
}

/* ---- arguments --------------------------------------------------------- */

/* Length of the separator at p, or 0. */
static size_t separator_len(const char *p)
{
	static const char *const seps[] = {
		" ", ":", ",", "#", ";", ".", "：", "，", "、", "；", "。",
	};

	for (size_t i = 0; i < ELEMENTSOF(seps); i++) {
		size_t n = strlen(seps[i]);

		if (strncmp(p, seps[i], n) == 0)
			return n;
	}
	return 0;
}

static const char *skip_separators(const char *p)
{
	size_t n = separator_len(p);

	while (n > 0) {
		p += n;
		n = separator_len(p);
	}
	return p;
}

/*
 * Is the character at p a measure word or place word that makes a number
 * a quantity or an address ("3楼", "6号院", "5块") rather than a ticket?
 */
static bool is_unit_char(const char *p)
{
	static const char units[] = "楼层栋幢单室户院区期排元块个点次天米年月日岁斤分";

	if (((unsigned char)p[0] & 0xF0) != 0xE0)
		return false;            /* all of them are 3-byte characters */
	for (size_t i = 0; i + 3 <= sizeof(units) - 1; i += 3)
		if (memcmp(p, units + i, 3) == 0)
			return true;
	return false;
}

/* May a ticket reference end just before p? */
static bool ref_end_ok(const char *p)
{
	if (*p == '\0' || *p == '!' || *p == '?' || separator_len(p) > 0)
		return true;
	/* other text may follow directly ("完成1024已疏通"), but not a unit */
	return ((unsigned char)*p & 0x80) && !is_unit_char(p);
}

/* Skip the prefix of a ticket reference: "#", "R", "No.", "NO". */
static const char *ref_prefix(const char *p)
{
	if (*p == '#' || *p == 'R' || *p == 'r')
		return p + 1;
	if (ascii_lower(p[0]) == 'n' && ascii_lower(p[1]) == 'o')
		return p[2] == '.' ? p + 3 : p + 2;
	return p;
}

/*
 * A ticket reference starting exactly at p. Returns the end of it and the
 * number in *ret_ticket, *ret_bare set when it was plain digits; or NULL.
 */
static const char *ticket_at(const char *p, int64_t *ret_ticket, bool *ret_bare)
{
	static const char hao[] = "号";
	const char *d = ref_prefix(p);
	size_t n = strspn(d, "0123456789");
	const char *e = d + n;
	int64_t v = 0;

	if (n == 0 || n > TICKET_DIGITS_MAX)
		return NULL;
	if (strncmp(e, hao, sizeof(hao) - 1) == 0) {
		if (is_unit_char(e + sizeof(hao) - 1))
			return NULL;     /* "6号院", "3号楼": an address */
		e += sizeof(hao) - 1;
	} else if (!ref_end_ok(e)) {
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (d[i] - '0');
	if (v == 0)
		return NULL;
	*ret_ticket = v;
	*ret_bare = d == p && e == d + n;
	return e;
}

bool text_ticket_ref(const char *s, int64_t *ret_ticket, const char **ret_end)
{
	const char *p = skip_separators(s);
	int64_t v;
	bool bare;
	const char *e = ticket_at(p, &v, &bare);

	if (!e)
		return false;
	*ret_ticket = v;
	*ret_end = e;
	return true;
}

/* A rating word at p: its value, and its end in *ret_end; 0 if none. */
static int rating_word(const char *p, const char **ret_end)
{
	static const struct {
		const char *word;
		int rating;
	} words[] = {                    /* longest first */
		{ "基本满意", 2 },
		{ "不满意", 3 },
		{ "满意", 1 },
	};

	for (size_t i = 0; i < ELEMENTSOF(words); i++) {
		size_t n = strlen(words[i].word);

		if (strncmp(p, words[i].word, n) == 0) {
			*ret_end = p + n;
			return words[i].rating;
		}
	}
	return 0;
}

/* A rating at p: "1".."3" (not followed by a digit, "1满意" read as one) or a word. */
static int rating_at(const char *p, const char **ret_end)
{
	const char *e;
	int r;

	if (*p >= '1' && *p <= '3' && !is_digit(p[1])) {
		r = *p - '0';
		*ret_end = p + 1;
		if (rating_word(p + 1, &e) == r)
			*ret_end = e;
		return r;
	}
	return rating_word(p, ret_end);
}

/* Optional ticket reference; returns where the text goes on. */
static const char *parse_ticket(const char *p, struct parsed *ret)
{
	bool bare;
	const char *e = ticket_at(p, &ret->ticket, &bare);

	return e ? e : p;
}

/*
 * RATE: [ticket] rating [comment]. A lone bare number 1..3 is the rating;
 * so is a bare 1..3 followed by the rating word of the same value
 * ("评价 1 满意").
 */
static const char *parse_rate(const char *p, struct parsed *ret)
{
	bool bare = false;
	const char *e = ticket_at(p, &ret->ticket, &bare);
	bool lone = bare && ret->ticket >= 1 && ret->ticket <= 3;
	const char *after = p;
	int r;

	if (e)
		p = skip_separators(e);
	r = rating_at(p, &after);
	if (lone && (r == 0 || (r == ret->ticket && !is_digit(*p)))) {
		ret->rating = (int)ret->ticket;  /* the number was the rating */
		ret->ticket = 0;
		return r > 0 ? after : p;
	}
	if (r > 0) {
		ret->rating = r;
		return after;
	}
	return p;
}

void text_parse(const struct keyword_set *ks, const char *norm, struct parsed *ret)
{
	const struct keyword *k = keyword_match(ks, norm);
	const char *p;

	*ret = (struct parsed){
		.intent = INTENT_NONE, .category = -1, .rest = norm, .keyword_end = norm,
	};
	if (!k)
		return;
	ret->intent = k->intent;
	ret->category = k->category;
	ret->keyword_end = norm + k->len;
	p = skip_separators(ret->keyword_end);
	switch (k->intent) {
	case INTENT_STATUS:
	case INTENT_CANCEL:
	case INTENT_ACCEPT:
	case INTENT_DONE:
	case INTENT_DECLINE:
	case INTENT_TRANSFER:
		p = parse_ticket(p, ret);
		break;
	case INTENT_RATE:
		p = parse_rate(p, ret);
		break;
	default:
		break;
	}
	ret->rest = skip_separators(p);
}
