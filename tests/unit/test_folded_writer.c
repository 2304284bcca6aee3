/*
 * test_folded_writer: -f folded (src/folded_writer.c) through the writer
 * registry: frame rendering and order, merging of identical rendered
 * stacks in first-appearance order, --count, empty stacks, zero weights,
 * --split-threads' thread frame, and names holding ';', CR or LF.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "writer.h"

static struct writer_harness w;

static void
start_with(enum writer_count count, bool split_threads)
{
	writer_harness_begin(&w, "folded", NULL,
	    (struct writer_config){ .count = count, .split_threads = split_threads });
}

static void
start(void)
{
	start_with(WRITER_COUNT_BYTES, false);
}

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
row_thread(uint64_t n, uint64_t size, uint64_t tid, const char *thread_name, size_t n_frames,
    const struct frame_text *frames)
{
	writer_harness_row(&w, "MALLOC", n, size, tid, thread_name, n_frames, frames);
}

static void
row(uint64_t n, uint64_t size, size_t n_frames, const struct frame_text *frames)
{
	row_thread(n, size, 1, NULL, n_frames, frames);
}

/* Frames as the report gives them: most recent first. */
static const struct frame_text leaf_main[] = {
	{ "alloc", "/app/x.py", 12 },
	{ "main", "/app/run.py", 40 },
};
static const struct frame_text other_main[] = {
	{ "other", "/app/x.py", 20 },
	{ "main", "/app/run.py", 40 },
};

START_TEST(test_registry)
{
	ck_assert_ptr_eq(writer_find("folded"), &folded_writer);
	ck_assert_ptr_eq(writer_find("FOLDED"), &folded_writer);
	ck_assert_ptr_nonnull(strstr(writer_names(", "), "folded"));
}
END_TEST

START_TEST(test_empty_document)
{
	start();
	ck_assert_str_eq(finish(), "");
}
END_TEST

START_TEST(test_root_to_leaf)
{
	start();
	row(2, 8192, 2, leaf_main);
	ck_assert_str_eq(finish(), "main (/app/run.py:40);alloc (/app/x.py:12) 8192\n");
}
END_TEST

START_TEST(test_merge_first_appearance)
{
	/* Lines come out in the order their stacks first appear; repeats are summed. */
	start();
	row(1, 100, 2, other_main);
	row(2, 10, 2, leaf_main);
	row(3, 1000, 2, other_main);
	row(4, 1, 2, leaf_main);
	ck_assert_str_eq(finish(),
	    "main (/app/run.py:40);other (/app/x.py:20) 1100\n"
	    "main (/app/run.py:40);alloc (/app/x.py:12) 11\n");
}
END_TEST

START_TEST(test_count_allocations)
{
	start_with(WRITER_COUNT_ALLOCATIONS, false);
	row(1, 100, 2, other_main);
	row(2, 10, 2, leaf_main);
	row(3, 1000, 2, other_main);
	ck_assert_str_eq(finish(),
	    "main (/app/run.py:40);other (/app/x.py:20) 4\n"
	    "main (/app/run.py:40);alloc (/app/x.py:12) 2\n");
}
END_TEST

START_TEST(test_line_is_part_of_the_frame)
{
	/* Same function, another line: another stack. */
	static const struct frame_text a[] = { { "f", "m.py", 1 } };
	static const struct frame_text b[] = { { "f", "m.py", 2 } };

	start();
	row(1, 5, 1, a);
	row(1, 6, 1, b);
	row(1, 7, 1, a);
	ck_assert_str_eq(finish(), "f (m.py:1) 12\nf (m.py:2) 6\n");
}
END_TEST

START_TEST(test_empty_stack)
{
	start();
	row(1, 64, 0, NULL);
	row(1, 10, 2, leaf_main);
	row(2, 36, 0, NULL);
	ck_assert_str_eq(finish(), "[unknown] 100\nmain (/app/run.py:40);alloc (/app/x.py:12) 10\n");
}
END_TEST

START_TEST(test_zero_weight_left_out)
{
	/* malloc(0): bytes 0 draws nothing, but it is an allocation. */
	start();
	row(1, 0, 2, leaf_main);
	ck_assert_str_eq(finish(), "");
	start_with(WRITER_COUNT_ALLOCATIONS, false);
	row(1, 0, 2, leaf_main);
	ck_assert_str_eq(finish(), "main (/app/run.py:40);alloc (/app/x.py:12) 1\n");
}
END_TEST

START_TEST(test_saturating_sum)
{
	start();
	row(1, UINT64_MAX - 1, 2, leaf_main);
	row(1, 5, 2, leaf_main);
	ck_assert_str_eq(finish(), "main (/app/run.py:40);alloc (/app/x.py:12) 18446744073709551615\n");
}
END_TEST

START_TEST(test_unknown_line_and_empty_names)
{
	static const struct frame_text f[] = { { "", "", 0 }, { "<module>", "<frozen runpy>", -1 } };

	start();
	row(1, 3, 2, f);
	ck_assert_str_eq(finish(), "<module> (<frozen runpy>:-1); (:0) 3\n");
}
END_TEST

START_TEST(test_separators_in_names)
{
	/* ';' would split a frame and CR/LF a line: written as ':' and ' '. */
	static const struct frame_text f[] = { { "a;b\nc", "d\r;e.py", 3 } };

	start();
	row(1, 9, 1, f);
	ck_assert_str_eq(finish(), "a:b c (d :e.py:3) 9\n");
}
END_TEST

START_TEST(test_split_threads_root_frame)
{
	/* The thread is the root frame, so per-thread rows stay apart. */
	start_with(WRITER_COUNT_BYTES, true);
	row_thread(1, 10, 2, "worker;1", 2, leaf_main);
	row_thread(1, 20, 1, NULL, 2, leaf_main);
	row_thread(1, 30, 2, "worker;1", 2, leaf_main);
	row_thread(1, 40, 3, "", 0, NULL);
	ck_assert_str_eq(finish(),
	    "thread 0x2 (worker:1);main (/app/run.py:40);alloc (/app/x.py:12) 40\n"
	    "thread 0x1;main (/app/run.py:40);alloc (/app/x.py:12) 20\n"
	    "thread 0x3;[unknown] 40\n");
}
END_TEST

START_TEST(test_many_stacks)
{
	/* Enough distinct stacks to grow every buffer and the index. */
	enum { N = 3000 };
	static char names[N][16];
	struct frame_text f[2];
	char expected[64];

	start();
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < N; i++) {
			snprintf(names[i], sizeof names[i], "fn%d", i);
			f[0] = (struct frame_text){ names[i], "m.py", i };
			f[1] = (struct frame_text){ "root", "r.py", 1 };
			row(1, (uint64_t)i + 1, 2, f);
		}
	}
	const char *got = finish();
	const char *p = got;
	int bad = -1;
	/* One assertion at the end: Check's per-assertion bookkeeping is slow under a sanitizer. */
	for (int i = 0; i < N && bad < 0; i++) {
		snprintf(expected, sizeof expected, "root (r.py:1);fn%d (m.py:%d) %d\n", i, i, 2 * (i + 1));
		if (strncmp(p, expected, strlen(expected)) != 0)
			bad = i;
		else
			p += strlen(expected);
	}
	ck_assert_msg(bad < 0, "line %d: %.60s", bad, p);
	ck_assert_str_eq(p, "");
}
END_TEST

/* F5: names that are not UTF-8 are repaired before rows merge. */
START_TEST(test_names_not_utf8)
{
	struct frame_text a = { "f\xff", "x.py", 1 }, b = { "f\xfe", "x.py", 1 };

	start();
	row(1, 10, 1, &a);
	row(1, 5, 1, &b);
	ck_assert_str_eq(finish(), "f\xef\xbf\xbd (x.py:1) 15\n");
}
END_TEST

static Suite *
folded_writer_suite(void)
{
	Suite *s = suite_create("folded_writer");
	TCase *tc;

	tc = tcase_create("document");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_empty_document);
	tcase_add_test(tc, test_root_to_leaf);
	tcase_add_test(tc, test_merge_first_appearance);
	tcase_add_test(tc, test_count_allocations);
	tcase_add_test(tc, test_line_is_part_of_the_frame);
	tcase_add_test(tc, test_many_stacks);
	suite_add_tcase(s, tc);

	tc = tcase_create("edge cases");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_empty_stack);
	tcase_add_test(tc, test_zero_weight_left_out);
	tcase_add_test(tc, test_saturating_sum);
	tcase_add_test(tc, test_unknown_line_and_empty_names);
	tcase_add_test(tc, test_separators_in_names);
	tcase_add_test(tc, test_split_threads_root_frame);
	tcase_add_test(tc, test_names_not_utf8);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(folded_writer_suite());
}
