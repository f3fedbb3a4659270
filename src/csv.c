/*
 * csv.c — RFC 4180 reader for the resident register. Pure.
 *
 * Lenient where RFC 4180 is silent and being strict helps nobody: a UTF-8
 * BOM is skipped, LF and CRLF both end a record, a lone CR and a '"' in
 * the middle of an unquoted field are kept as data, empty lines are
 * skipped. Strict where data would be lost or guessed: an unterminated
 * quoted field, text after a closing quote, and a NUL byte are errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

struct csv_reader {
	const char *buf;     /* borrowed */
	size_t len;
	size_t pos;
	int line;            /* line of buf[pos], 1-based */
};

/* A record being built. */
struct fields {
	char **v;
	size_t n, cap;
};

/* A field being built. */
struct field {
	char *p;
	size_t len, cap;
};

void csv_row_release(struct csv_row *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->fields[i]);
	free(r->fields);
	r->fields = NULL;
	r->n = 0;
}

struct csv_reader *csv_reader_new(const char *buf, size_t len)
{
	struct csv_reader *r = xcalloc(1, sizeof(*r));

	r->buf = buf;
	r->len = len;
	r->line = 1;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		r->pos = 3;
	return r;
}

void csv_reader_free(struct csv_reader *r)
{
	free(r);
}

static void field_add(struct field *f, char c)
{
	if (f->len + 2 > f->cap) {
		f->cap = f->cap ? 2 * f->cap : 32;
		f->p = xrealloc(f->p, f->cap);
	}
	f->p[f->len++] = c;
	f->p[f->len] = '\0';
}

static void fields_add(struct fields *fs, struct field *f)
{
	if (fs->n == fs->cap) {
		fs->cap = fs->cap ? 2 * fs->cap : 8;
		fs->v = xrealloc(fs->v, fs->cap * sizeof(*fs->v));
	}
	fs->v[fs->n++] = f->p ? f->p : xstrdup("");
	*f = (struct field){ 0 };
}

static int peek(const struct csv_reader *r, size_t ahead)
{
	return r->pos + ahead < r->len ? (unsigned char)r->buf[r->pos + ahead] : EOF;
}

/* Length of the line end at the reader's position: 1 (LF), 2 (CRLF) or 0. */
static size_t line_end(const struct csv_reader *r)
{
	if (peek(r, 0) == '\n')
		return 1;
	if (peek(r, 0) == '\r' && peek(r, 1) == '\n')
		return 2;
	return 0;
}

/*
 * After a field: 1 when a ',' follows (consumed), 0 at the end of the
 * record (line end consumed, or end of input), -1 for anything else.
 */
static int field_end(struct csv_reader *r)
{
	size_t n = line_end(r);

	if (peek(r, 0) == ',') {
		r->pos++;
		return 1;
	}
	if (n > 0) {
		r->pos += n;
		r->line++;
		return 0;
	}
	return peek(r, 0) == EOF ? 0 : -1;
}

static const char *unquoted(struct csv_reader *r, struct field *f)
{
	int c;

	for (;;) {
		c = peek(r, 0);
		if (c == EOF || c == ',' || line_end(r) > 0)
			return NULL;
		if (c == '\0')
			return "NUL byte";
		field_add(f, (char)c);
		r->pos++;
	}
}

/* A quoted field, the reader at its opening quote. NULL, or what is wrong. */
static const char *quoted(struct csv_reader *r, struct field *f)
{
	int c;

	r->pos++;
	for (;;) {
		c = peek(r, 0);
		if (c == EOF)
			return "unterminated quoted field";
		if (c == '\0')
			return "NUL byte";
		r->pos++;
		if (c == '"' && peek(r, 0) != '"')
			return NULL;             /* the closing quote */
		if (c == '"')
			r->pos++;                /* "" stands for one " */
		if (c == '\n')
			r->line++;
		field_add(f, (char)c);
	}
}

/* Skip the rest of a malformed record: to the end of the current line. */
static void skip_line(struct csv_reader *r)
{
	const char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);

	if (!nl) {
		r->pos = r->len;
		return;
	}
	r->pos = (size_t)(nl - r->buf) + 1;
	r->line++;
}

static void skip_empty_lines(struct csv_reader *r)
{
	size_t n = line_end(r);

	while (n > 0) {
		r->pos += n;
		r->line++;
		n = line_end(r);
	}
}

/* Read one record's fields into fs; NULL, or what is wrong (fs partly filled). */
static const char *record(struct csv_reader *r, struct fields *fs, size_t *ret_field)
{
	struct field f = { 0 };
	const char *why;
	int end;

	for (;;) {
		*ret_field = fs->n + 1;
		why = peek(r, 0) == '"' ? quoted(r, &f) : unquoted(r, &f);
		end = why ? -1 : field_end(r);
		if (!why && end < 0)
			why = "text after the closing quote";
		if (why) {
			free(f.p);
			return why;
		}
		fields_add(fs, &f);
		if (end == 0)
			return NULL;
	}
}

int csv_next(struct csv_reader *r, struct csv_row *ret, char *err, size_t errsize)
{
	struct fields fs = { 0 };
	size_t field;
	const char *why;
	int line;

	skip_empty_lines(r);
	if (r->pos >= r->len)
		return 0;
	line = r->line;
	why = record(r, &fs, &field);
	if (why) {
		snprintf(err, errsize, "field %zu: %s", field, why);
		for (size_t i = 0; i < fs.n; i++)
			free(fs.v[i]);
		free(fs.v);
		*ret = (struct csv_row){ .line = line };
		if (r->pos < r->len)
			skip_line(r);
		return -EINVAL;
	}
	*ret = (struct csv_row){ .fields = fs.v, .n = fs.n, .line = line };
	return 1;
}
