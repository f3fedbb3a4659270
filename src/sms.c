/*
 * sms.c — SMS segment arithmetic (3GPP TS 23.038 alphabets, TS 23.040
 * concatenation) and template rendering with "{name}" variables. Pure.
 *
 * A concatenated segment loses 6 bytes of its 140 to the user data
 * header: 153 septets or 67 UTF-16 code units remain. A GSM escape pair
 * (ESC + extension character) and a UTF-16 surrogate pair are never split
 * across segments, so they move whole to the next one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms.h"
#include "text.h"
#include "util.h"

#define GSM_SINGLE 160
#define GSM_MULTI 153
#define UCS2_SINGLE 70
#define UCS2_MULTI 67
#define ELLIPSIS "\xE2\x80\xA6" /* U+2026 */

/* ---- counting ---------------------------------------------------------- */

/*
 * Septets for cp in GSM 03.38: 1 in the default alphabet, 2 in the
 * extension table (ESC + code), 0 when it cannot be sent as GSM-7.
 */
static size_t gsm_septets(uint32_t cp)
{
	/* the default alphabet outside printable ASCII (TS 23.038 §6.2.1) */
	static const uint16_t latin[] = {
		0x00A3, 0x00A5, 0x00E8, 0x00E9, 0x00F9, 0x00EC, 0x00F2, 0x00C7, 0x00D8, 0x00F8,
		0x00C5, 0x00E5, 0x0394, 0x03A6, 0x0393, 0x039B, 0x03A9, 0x03A0, 0x03A8, 0x03A3,
		0x0398, 0x039E, 0x00C6, 0x00E6, 0x00DF, 0x00C9, 0x00A4, 0x00A1, 0x00C4, 0x00D6,
		0x00D1, 0x00DC, 0x00A7, 0x00BF, 0x00E4, 0x00F6, 0x00F1, 0x00FC, 0x00E0,
	};

	if (cp == '\n' || cp == '\r')
		return 1;
	if (cp == '\f' || cp == 0x20AC)  /* form feed and € are in the extension table */
		return 2;
	if (cp >= 0x20 && cp < 0x7F) {
		if (cp == '`')
			return 0;
		return strchr("^{}\\[~]|", (int)cp) ? 2 : 1;
	}
	for (size_t i = 0; i < ELEMENTSOF(latin); i++)
		if (latin[i] == cp)
			return 1;
	return 0;
}

static size_t units_of(uint32_t cp, enum sms_encoding enc)
{
	if (enc == SMS_GSM7)
		return gsm_septets(cp);
	return cp > 0xFFFF ? 2 : 1;
}

/* Segments of per units each, no character split across two. */
static size_t pack_segments(const char *s, enum sms_encoding enc, size_t per)
{
	size_t segs = 1, used = 0;
	uint32_t cp;

	while (*s) {
		size_t u;

		s = text_utf8_next(s, &cp);
		u = units_of(cp, enc);
		if (used + u > per) {
			segs++;
			used = 0;
		}
		used += u;
	}
	return segs;
}

void sms_count(const char *utf8, struct sms_count *ret)
{
	size_t chars = 0, septets = 0, utf16 = 0;
	bool gsm = true;
	uint32_t cp;

	for (const char *s = utf8; *s;) {
		size_t g;

		s = text_utf8_next(s, &cp);
		g = gsm_septets(cp);
		gsm = gsm && g > 0;
		septets += g;
		utf16 += units_of(cp, SMS_UCS2);
		chars++;
	}
	ret->encoding = gsm ? SMS_GSM7 : SMS_UCS2;
	ret->units = gsm ? septets : utf16;
	ret->chars = chars;
	if (ret->units == 0)
		ret->segments = 0;
	else if (ret->units <= (gsm ? GSM_SINGLE : UCS2_SINGLE))
		ret->segments = 1;
	else
		ret->segments = pack_segments(utf8, ret->encoding, gsm ? GSM_MULTI : UCS2_MULTI);
}

/* ---- templates --------------------------------------------------------- */

enum tok_type { TOK_END, TOK_TEXT, TOK_VAR, TOK_ERROR };

struct tok {
	const char *s;       /* text or variable name (not terminated) */
	size_t len;
	const char *why;     /* TOK_ERROR: what is wrong at s */
};

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/* A "{name}" at p (p[0] == '{', p[1] != '{'). */
static enum tok_type tmpl_var(const char *p, struct tok *t)
{
	size_t n = 0;

	while (is_name_char(p[1 + n]))
		n++;
	t->s = p + 1;
	t->len = n;
	if (p[1 + n] != '}') {
		t->s = p;
		t->why = strchr(p + 1, '}') ? "bad variable name after '{'" : "unterminated '{'";
		return TOK_ERROR;
	}
	if (n == 0) {
		t->s = p;
		t->why = "empty variable name '{}'";
		return TOK_ERROR;
	}
	return TOK_VAR;
}

/* The next token of the template at *pp; *pp moves past it. */
static enum tok_type tmpl_next(const char **pp, struct tok *t)
{
	const char *p = *pp;
	enum tok_type type;

	if (!*p)
		return TOK_END;
	if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
		*t = (struct tok){ .s = p, .len = 1 };
		*pp = p + 2;
		return TOK_TEXT;
	}
	if (p[0] == '}') {
		*t = (struct tok){ .s = p, .why = "unmatched '}'" };
		return TOK_ERROR;
	}
	if (p[0] == '{') {
		type = tmpl_var(p, t);
		if (type == TOK_VAR)
			*pp = t->s + t->len + 1;
		return type;
	}
	*t = (struct tok){ .s = p, .len = strcspn(p, "{}") };
	*pp = p + t->len;
	return TOK_TEXT;
}

static const struct sms_var *find_var(const struct sms_var *vars, size_t n, const char *name,
				      size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len && strncmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

struct buf {
	char *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = 2 * (b->len + n + 1);
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/*
 * Render tmpl; the variable cut (may be NULL) takes the value cut_value
 * instead of its own. Returns 0 and a heap string in *ret, or -EINVAL.
 */
static int render(const char *tmpl, const struct sms_var *vars, size_t n_vars,
		  const struct sms_var *cut, const char *cut_value, char **ret)
{
	struct buf b = { 0 };
	const struct sms_var *v;
	enum tok_type type;
	struct tok t;

	buf_add(&b, "", 0);
	for (;;) {
		type = tmpl_next(&tmpl, &t);
		if (type == TOK_END)
			break;
		if (type == TOK_ERROR)
			goto err;
		if (type == TOK_TEXT) {
			buf_add(&b, t.s, t.len);
			continue;
		}
		v = find_var(vars, n_vars, t.s, t.len);
		if (!v)
			goto err;
		if (v == cut)
			buf_add(&b, cut_value, strlen(cut_value));
		else if (v->value)
			buf_add(&b, v->value, strlen(v->value));
	}
	*ret = b.p;
	return 0;
err:
	free(b.p);
	return -EINVAL;
}

static bool fits(const char *s, size_t max_segments)
{
	struct sms_count c;

	sms_count(s, &c);
	return c.segments <= max_segments;
}

/* Render with the first k characters of cut's value and "…"; NULL if it does not fit. */
static char *render_cut(const char *tmpl, const struct sms_var *vars, size_t n_vars,
			const struct sms_var *cut, size_t k, size_t max_segments)
{
	const char *end = cut->value;
	char *value, *out = NULL;
	uint32_t cp;

	for (size_t i = 0; i < k && *end; i++)
		end = text_utf8_next(end, &cp);
	value = xasprintf("%.*s%s", (int)(end - cut->value), cut->value, ELLIPSIS);
	if (render(tmpl, vars, n_vars, cut, value, &out) == 0 && !fits(out, max_segments)) {
		free(out);
		out = NULL;
	}
	free(value);
	return out;
}

/*
 * Binary search for the longest prefix of cut's value that fits: more
 * characters never need fewer segments.
 */
static char *cut_to_fit(const char *tmpl, const struct sms_var *vars, size_t n_vars,
			const struct sms_var *cut, size_t max_segments)
{
	size_t lo = 0, hi = text_utf8_len(cut->value);
	char *best = NULL;

	while (lo < hi) {               /* try k in [lo, hi); hi = full length, known too long */
		size_t k = lo + (hi - lo) / 2;
		char *s = render_cut(tmpl, vars, n_vars, cut, k, max_segments);

		if (s) {
			free(best);
			best = s;
			lo = k + 1;
		} else {
			hi = k;
		}
	}
	return best;
}

int sms_render(const char *tmpl, const struct sms_var *vars, size_t n_vars,
	       size_t max_segments, const char *cut_var, char **ret)
{
	const struct sms_var *cut = NULL;
	char *full, *shorter;
	int r;

	r = render(tmpl, vars, n_vars, NULL, NULL, &full);
	if (r < 0)
		return r;
	if (cut_var)
		cut = find_var(vars, n_vars, cut_var, strlen(cut_var));
	if (!cut || !cut->value || fits(full, max_segments)) {
		*ret = full;
		return 0;
	}
	shorter = cut_to_fit(tmpl, vars, n_vars, cut, max_segments);
	if (shorter) {
		free(full);
		full = shorter;
	}
	*ret = full;
	return 0;
}

static bool name_allowed(const char *const *allowed, const char *name, size_t len)
{
	for (size_t i = 0; allowed && allowed[i]; i++)
		if (strlen(allowed[i]) == len && strncmp(allowed[i], name, len) == 0)
			return true;
	return false;
}

int sms_template_check(const char *tmpl, const char *const *allowed, char *err, size_t errsize)
{
	const char *p = tmpl;
	enum tok_type type;
	struct tok t;

	for (;;) {
		type = tmpl_next(&p, &t);
		if (type == TOK_END)
			return 0;
		if (type == TOK_ERROR) {
			snprintf(err, errsize, "%s at offset %zu", t.why, (size_t)(t.s - tmpl));
			return -EINVAL;
		}
		if (type == TOK_VAR && !name_allowed(allowed, t.s, t.len)) {
			snprintf(err, errsize, "unknown variable '{%.*s}'", (int)t.len, t.s);
			return -EINVAL;
		}
	}
}
