/*
 * test_csv.c — table of CSV inputs and the records (with the line each
 * starts on) or errors csv.c reads from them. Each input is copied into a
 * heap buffer of its exact length, with no NUL after it, so that reading
 * past the end shows up under AddressSanitizer and valgrind.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "csv.h"
#include "util.h"

#define BOM "\xEF\xBB\xBF"

/* Append to a fixed buffer; the test fails if it is too small. */
static void out_add(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void out_add(char *out, size_t size, const char *fmt, ...)
{
	size_t len = strlen(out);
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(out + len, size - len, fmt, ap);
	va_end(ap);
	assert_true(r >= 0 && (size_t)r < size - len);
}

/*
 * Read everything: records as "LINE[f1|f2]", errors as "!LINE:reason",
 * separated by spaces.
 */
static void read_all(const char *in, size_t len, char *out, size_t size)
{
	char *buf = xmalloc(len);
	struct csv_reader *r;

	memcpy(buf, in, len);
	r = csv_reader_new(buf, len);
	out[0] = '\0';
	for (int guard = 0; guard < 100; guard++) {
		struct csv_row row = { .line = -1 };
		char err[128] = "";
		int k = csv_next(r, &row, err, sizeof(err));

		if (k == 0)
			break;
		if (*out)
			out_add(out, size, " ");
		if (k < 0) {
			assert_int_equal(k, -EINVAL);
			assert_int_equal(row.n, 0);
			assert_null(row.fields);
			out_add(out, size, "!%d:%s", row.line, err);
			continue;
		}
		assert_int_equal(k, 1);
		out_add(out, size, "%d[", row.line);
		for (size_t i = 0; i < row.n; i++)
			out_add(out, size, "%s%s", i ? "|" : "", row.fields[i]);
		out_add(out, size, "]");
		csv_row_release(&row);
		assert_null(row.fields);
	}
	csv_reader_free(r);
	free(buf);
}

static void test_csv_table(void **state)
{
	static const struct {
		const char *in;
		size_t len;          /* 0: strlen(in) */
		const char *out;
	} cases[] = {
		{ "", 0, "" },
		{ "\n", 0, "" },
		{ BOM, 0, "" },
		{ "a,b,c\n", 0, "1[a|b|c]" },
		{ "a,b,c", 0, "1[a|b|c]" },
		{ "a,b\r\nc,d\r\n", 0, "1[a|b] 2[c|d]" },
		{ "a,b\nc,d", 0, "1[a|b] 2[c|d]" },
		{ BOM "phone,name,address,grid\r\n", 0, "1[phone|name|address|grid]" },
		{ "x" BOM ",y\n", 0, "1[x" BOM "|y]" },          /* only a leading BOM is special */
		/* quoting */
		{ "\"a,b\",c\n", 0, "1[a,b|c]" },
		{ "\"say \"\"hi\"\"\",x\n", 0, "1[say \"hi\"|x]" },
		{ "\"\"\"\"\n", 0, "1[\"]" },
		{ "\"\"\n", 0, "1[]" },
		{ "a,\"\"\n", 0, "1[a|]" },
		{ "\"line1\nline2\",x\nnext,y\n", 0, "1[line1\nline2|x] 3[next|y]" },
		{ "\"a\r\nb\"\r\nc\r\n", 0, "1[a\r\nb] 3[c]" },
		{ "\"x\",\"y\"", 0, "1[x|y]" },
		/* empty fields, blank lines, kept characters */
		{ ",,\n", 0, "1[||]" },
		{ "a,", 0, "1[a|]" },
		{ "a\n\n\r\nb\n", 0, "1[a] 4[b]" },
		{ " a , b \n", 0, "1[ a | b ]" },
		{ "ab\"c,d\n", 0, "1[ab\"c|d]" },
		{ "a\rb,c\n", 0, "1[a\rb|c]" },
		/* the resident register */
		{ "phone,name,address,grid\r\n"
		  "13800000001,季大爷,\"解放南路281号院, 3单元\",\r\n"
		  "+8613800000002,王素梅,寇庄西路6号院,g2\r\n", 0,
		  "1[phone|name|address|grid] 2[13800000001|季大爷|解放南路281号院, 3单元|] "
		  "3[+8613800000002|王素梅|寇庄西路6号院|g2]" },
		/* errors, and reading goes on after them */
		{ "a,\"bc\nd\n", 0, "!1:field 2: unterminated quoted field" },
		{ "ok\n\"open", 0, "1[ok] !2:field 1: unterminated quoted field" },
		{ "\"ab\"x,c\nnext\n", 0, "!1:field 1: text after the closing quote 2[next]" },
		{ "\"a\" ,b\n", 0, "!1:field 1: text after the closing quote" },
		{ "a\n\"x\ny\"z\nok\n", 0, "1[a] !2:field 1: text after the closing quote 4[ok]" },
		{ "a,b,\"c\"d,e\r\nf\r\n", 0, "!1:field 3: text after the closing quote 2[f]" },
		{ "a\0b,c\nd\n", 8, "!1:field 1: NUL byte 2[d]" },
		{ "\"a\0\"\nd", 6, "!1:field 1: NUL byte 2[d]" },
		/* the length given, not the NUL, ends the input */
		{ "a,b\nc,d", 4, "1[a|b]" },
	};
	char out[1024];

	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		size_t len = cases[i].len ? cases[i].len : strlen(cases[i].in);

		read_all(cases[i].in, len, out, sizeof(out));
		if (strcmp(out, cases[i].out) != 0)
			fail_msg("case %zu: got [%s], want [%s]", i, out, cases[i].out);
	}
}

static void test_csv_release(void **state)
{
	struct csv_row row = { 0 };

	(void)state;
	csv_row_release(&row);  /* an empty row is fine */
	csv_row_release(NULL);
	csv_reader_free(NULL);
	assert_null(row.fields);
	assert_int_equal(row.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_csv_table),
		cmocka_unit_test(test_csv_release),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
