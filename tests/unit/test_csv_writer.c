/*
 * test_csv_writer: memray's CSV (doc/capture-format.md §9.2) through the writer
 * registry (writer.h): header row, minimal quoting, thread names, line ends.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "support.h"
#include "writer.h"

#define HEADER "allocator,num_allocations,size,tid,thread_name,stack_trace"

static struct writer_harness w;

static void
start(bool crlf)
{
	writer_harness_begin(&w, "csv", NULL, (struct writer_config){ .crlf = crlf });
}

/* End the document and return everything written. */
static const char *
finish(void)
{
	return writer_harness_finish(&w);
}

static void
teardown(void)
{
	writer_harness_free(&w);
}

static void
row(const char *allocator, uint64_t n, uint64_t size, uint64_t tid, const char *thread_name,
    size_t n_frames, const struct frame_text *frames)
{
	writer_harness_row(&w, allocator, n, size, tid, thread_name, n_frames, frames);
}

/* The document for a single row with the given thread and one frame. */
static const char *
one_row(uint64_t tid, const char *thread_name, const char *function, const char *file, int32_t line)
{
	struct frame_text f = { function, file, line };

	start(false);
	row("MALLOC", 1, 10, tid, thread_name, 1, &f);
	return finish();
}

START_TEST(test_registry)
{
	ck_assert_ptr_eq(writer_find("csv"), &csv_writer);
	ck_assert_ptr_eq(writer_find("CSV"), &csv_writer);
	ck_assert_ptr_eq(writer_find("Csv"), &csv_writer);
	ck_assert_ptr_null(writer_find("xml"));
	ck_assert_ptr_null(writer_find(""));
	ck_assert_ptr_null(writer_find("csvx"));
	ck_assert_str_eq(csv_writer.name, "csv");
	ck_assert_str_eq(writer_names(", "), "csv, gprof2dot, speedscope, folded, pprof, stats, summary, timeline");
	ck_assert_str_eq(writer_names(" "), "csv gprof2dot speedscope folded pprof stats summary timeline");
}
END_TEST

START_TEST(test_header_only)
{
	start(false);
	ck_assert_str_eq(finish(), HEADER "\n");
}
END_TEST

START_TEST(test_spec_example_row)
{
	/* §9.2's example, with LF line ends: quoted only because of the comma. */
	struct frame_text frames[2] = {
		{ "alloc", "/app/x.py,v2.py", 12 },
		{ "main", "/app/run.py", 40 },
	};

	start(false);
	row("MALLOC", 2, 8192, 1, NULL, 2, frames);
	ck_assert_str_eq(finish(),
	    HEADER "\n"
	    "MALLOC,2,8192,1,0x1,\"alloc;/app/x.py,v2.py;12|main;/app/run.py;40\"\n");
}
END_TEST

START_TEST(test_crlf)
{
	struct frame_text frames[2] = {
		{ "alloc", "/app/x.py,v2.py", 12 },
		{ "main", "/app/run.py", 40 },
	};

	start(true);
	row("MALLOC", 2, 8192, 1, NULL, 2, frames);
	row("FREE", 0, 0, 3, "t", 1, frames + 1);
	ck_assert_str_eq(finish(),
	    HEADER "\r\n"
	    "MALLOC,2,8192,1,0x1,\"alloc;/app/x.py,v2.py;12|main;/app/run.py;40\"\r\n"
	    "FREE,0,0,3,0x3 (t),main;/app/run.py;40\r\n");
}
END_TEST

START_TEST(test_several_rows_unquoted)
{
	/* Fields without , " CR LF are written as they are: spaces, ;, ', tabs, <>, non-ASCII. */
	struct frame_text a[3] = {
		{ "<module>", "/app/my script.py", 3 },
		{ "f", "x.py", 0 },
		{ "caf\xc3\xa9", "it's\there.py", 2147483647 },
	};
	struct frame_text b = { "g", "y.py", -1 };

	start(false);
	row("PYMALLOC_CALLOC", 3, 96, 1, "", 3, a);
	row("MMAP", UINT64_MAX, UINT64_MAX, 26, "worker 1", 1, &b);
	ck_assert_str_eq(finish(),
	    HEADER "\n"
	    "PYMALLOC_CALLOC,3,96,1,0x1,<module>;/app/my script.py;3|f;x.py;0|"
	    "caf\xc3\xa9;it's\there.py;2147483647\n"
	    "MMAP,18446744073709551615,18446744073709551615,26,0x1a (worker 1),g;y.py;-1\n");
}
END_TEST

START_TEST(test_empty_stack)
{
	start(false);
	row("MALLOC", 1, 10, 1, NULL, 0, NULL);
	row("CALLOC", 2, 20, 2, "w", 0, NULL);
	ck_assert_str_eq(finish(), HEADER "\nMALLOC,1,10,1,0x1,\nCALLOC,2,20,2,0x2 (w),\n");
}
END_TEST

START_TEST(test_quote_comma)
{
	ck_assert_str_eq(one_row(1, NULL, "f", "a,b.py", 1),
	    HEADER "\nMALLOC,1,10,1,0x1,\"f;a,b.py;1\"\n");
	/* A comma in the thread name quotes the thread_name field only. */
	ck_assert_str_eq(one_row(2, "a,b", "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,2,\"0x2 (a,b)\",f;x.py;1\n");
}
END_TEST

START_TEST(test_quote_doubled)
{
	ck_assert_str_eq(one_row(1, NULL, "say \"hi\"", "x.py", 7),
	    HEADER "\nMALLOC,1,10,1,0x1,\"say \"\"hi\"\";x.py;7\"\n");
	ck_assert_str_eq(one_row(5, "\"q\"", "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,5,\"0x5 (\"\"q\"\")\",f;x.py;1\n");
	ck_assert_str_eq(one_row(1, NULL, "\"", "x.py", 1),
	    HEADER "\nMALLOC,1,10,1,0x1,\"\"\";x.py;1\"\n");
}
END_TEST

START_TEST(test_quote_cr_lf)
{
	/* Embedded line ends are written as they are, inside the quotes. */
	ck_assert_str_eq(one_row(1, NULL, "f", "a\nb.py", 1),
	    HEADER "\nMALLOC,1,10,1,0x1,\"f;a\nb.py;1\"\n");
	ck_assert_str_eq(one_row(1, NULL, "f", "a\rb.py", 1),
	    HEADER "\nMALLOC,1,10,1,0x1,\"f;a\rb.py;1\"\n");
	ck_assert_str_eq(one_row(3, "x\r\ny", "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,3,\"0x3 (x\r\ny)\",f;x.py;1\n");
}
END_TEST

START_TEST(test_thread_names)
{
	ck_assert_str_eq(one_row(1, NULL, "f", "x.py", 1), HEADER "\nMALLOC,1,10,1,0x1,f;x.py;1\n");
	ck_assert_str_eq(one_row(1, "", "f", "x.py", 1), HEADER "\nMALLOC,1,10,1,0x1,f;x.py;1\n");
	ck_assert_str_eq(one_row(2, "worker", "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,2,0x2 (worker),f;x.py;1\n");
	/* hex() is lower case without padding. */
	ck_assert_str_eq(one_row(0xABCDEF, NULL, "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,11259375,0xabcdef,f;x.py;1\n");
	ck_assert_str_eq(one_row(0, NULL, "f", "x.py", 1), HEADER "\nMALLOC,1,10,0,0x0,f;x.py;1\n");
	ck_assert_str_eq(one_row(UINT64_C(0x7FFFFFFFFFFFFFFF), NULL, "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,9223372036854775807,0x7fffffffffffffff,f;x.py;1\n");
}
END_TEST

START_TEST(test_negative_tids)
{
	/* A tid >= 2^63 is read as signed: negative decimal, "-0x..." (§0, §9.2). */
	ck_assert_str_eq(one_row(UINT64_C(0x8000000000000000), NULL, "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,-9223372036854775808,-0x8000000000000000,f;x.py;1\n");
	ck_assert_str_eq(one_row(UINT64_C(0xFFFFFFFFFFFFFFFE), "n", "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,-2,-0x2 (n),f;x.py;1\n");
	ck_assert_str_eq(one_row(UINT64_C(0xFFFFFFFFFFFFFF00), NULL, "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,-256,-0x100,f;x.py;1\n");
	/* -1 is "merged thread", whatever its name. */
	ck_assert_str_eq(one_row(UINT64_MAX, NULL, "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,-1,merged thread,f;x.py;1\n");
	ck_assert_str_eq(one_row(UINT64_MAX, "main", "f", "x.py", 1),
	    HEADER "\nMALLOC,1,10,-1,merged thread,f;x.py;1\n");
}
END_TEST

START_TEST(test_long_stack)
{
	/* A stack longer than any first guess at a buffer size, with a quote at its very end. */
	enum { N = 500 };
	static struct frame_text frames[N];
	static char names[N][16];
	char *expected = malloc(N * 40 + 200);
	size_t len = 0;

	ck_assert_ptr_nonnull(expected);
	len += (size_t)sprintf(expected + len, HEADER "\nREALLOC,1,1,1,0x1,\"");
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "fn%d", i);
		frames[i] = (struct frame_text){ names[i], i == N - 1 ? "q\".py" : "m.py", i };
		len += (size_t)sprintf(expected + len, "%s%s;%s;%d", i ? "|" : "", names[i],
		    i == N - 1 ? "q\"\".py" : "m.py", i);
	}
	sprintf(expected + len, "\"\n");
	start(false);
	row("REALLOC", 1, 1, 1, NULL, N, frames);
	const char *got = finish();
	/* Too long for Check's message: report the first difference instead. */
	size_t i = 0;
	while (got[i] != '\0' && got[i] == expected[i])
		i++;
	ck_assert_msg(got[i] == expected[i], "first difference at byte %zu: \"%.40s\" vs \"%.40s\"", i,
	    got + i, expected + i);
	free(expected);
}
END_TEST

/* Lines in decimal, whatever their sign and size (decimal.h), as memray's str(). */
START_TEST(test_line_numbers)
{
	char digits[DECIMAL_MAX + 1];
	char *end = digits + DECIMAL_MAX;

	ck_assert_str_eq(one_row(1, NULL, "f", "x.py", 0), HEADER "\nMALLOC,1,10,1,0x1,f;x.py;0\n");
	ck_assert_str_eq(one_row(1, NULL, "f", "x.py", -1), HEADER "\nMALLOC,1,10,1,0x1,f;x.py;-1\n");
	ck_assert_str_eq(one_row(1, NULL, "f", "x.py", INT32_MAX),
	    HEADER "\nMALLOC,1,10,1,0x1,f;x.py;2147483647\n");
	ck_assert_str_eq(one_row(1, NULL, "f", "x.py", INT32_MIN),
	    HEADER "\nMALLOC,1,10,1,0x1,f;x.py;-2147483648\n");
	*end = '\0';
	ck_assert_str_eq(decimal_i64(end, INT64_MIN), "-9223372036854775808");
	ck_assert_str_eq(decimal_i64(end, INT64_MAX), "9223372036854775807");
	ck_assert_str_eq(decimal_i64(end, 1000), "1000");
	ck_assert_str_eq(decimal_u64(end, UINT64_MAX), "18446744073709551615");
}
END_TEST

/* F5: names that are not UTF-8 come out repaired, as Python's "replace" decodes them. */
START_TEST(test_names_not_utf8)
{
	struct frame_text f = { "f\xff", "/app/caf\xc3.py", 3 };

	start(false);
	row("MALLOC", 1, 10, 2, "w\xed\xa0\x80", 1, &f);
	ck_assert_str_eq(finish(), HEADER "\n"
	    "MALLOC,1,10,2,0x2 (w\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd),"
	    "f\xef\xbf\xbd;/app/caf\xef\xbf\xbd.py;3\n");
}
END_TEST

static Suite *
csv_writer_suite(void)
{
	Suite *s = suite_create("csv_writer");
	TCase *tc;

	tc = tcase_create("document");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_line_numbers);
	tcase_add_test(tc, test_header_only);
	tcase_add_test(tc, test_spec_example_row);
	tcase_add_test(tc, test_crlf);
	tcase_add_test(tc, test_several_rows_unquoted);
	tcase_add_test(tc, test_empty_stack);
	tcase_add_test(tc, test_long_stack);
	suite_add_tcase(s, tc);

	tc = tcase_create("quoting");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_quote_comma);
	tcase_add_test(tc, test_quote_doubled);
	tcase_add_test(tc, test_quote_cr_lf);
	suite_add_tcase(s, tc);

	tc = tcase_create("thread_name");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_thread_names);
	tcase_add_test(tc, test_negative_tids);
	tcase_add_test(tc, test_names_not_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(csv_writer_suite());
}
