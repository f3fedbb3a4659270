/*
 * csv.h — RFC 4180 CSV reading for the resident register. Pure.
 * UTF-8 with an optional BOM, LF or CRLF line ends, quoted fields with
 * "" escapes and embedded newlines.
 */
#ifndef GRIDLINE_CSV_H
#define GRIDLINE_CSV_H

#include <stddef.h>

struct csv_row {
	char **fields;   /* owned */
	size_t n;
	int line;        /* line number where the record starts (1-based) */
};
void csv_row_release(struct csv_row *r);

struct csv_reader;

/* Read from a buffer of len bytes (borrowed; must outlive the reader). */
struct csv_reader *csv_reader_new(const char *buf, size_t len);
void csv_reader_free(struct csv_reader *r);
/*
 * Next record into *ret. Returns 1 for a record, 0 at the end, -EINVAL
 * for a malformed record (unterminated quote, text after a closing quote,
 * a NUL byte) with the reason in err[errsize] ("field 2: unterminated
 * quoted field"), ret->line set to the line where the record starts (no
 * fields) and the reader positioned after it. Empty lines are skipped.
 */
int csv_next(struct csv_reader *r, struct csv_row *ret, char *err, size_t errsize);

#endif
