/*
 * test_split_threads: --split-threads in the report (report_new's
 * split_threads): groups keyed by (stack, native id, thread), so no row
 * ever holds two threads' allocations, in peak, leaks and temporary modes
 * and for aggregated files; the representative is still the group's earliest
 * member; and without the option a stack shared by threads is one row.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "allocator.h"
#include "report.h"

static struct report *r;

static void
teardown(void)
{
	report_free(r);
	r = NULL;
}

static void
feed_native(uint8_t allocator, uint64_t address, uint64_t size, uint32_t stack, uint32_t thread,
    uint64_t native_id)
{
	bool dealloc = allocator_is_deallocator(allocator_kind(allocator));
	struct alloc_event ev = {
		.address = address, .size = size, .native_id = dealloc ? 0 : native_id,
		.stack = dealloc ? 0 : stack, .thread = thread, .allocator = allocator,
	};

	report_allocation(r, &ev);
}

static void
malloc_in(uint32_t thread, uint64_t address, uint64_t size, uint32_t stack)
{
	feed_native(ALLOC_MALLOC, address, size, stack, thread, 0);
}

static void
free_in(uint32_t thread, uint64_t address)
{
	feed_native(ALLOC_FREE, address, 0, 0, thread, 0);
}

static void
check_row(const struct report_row *row, uint32_t stack, uint32_t thread, uint64_t n, uint64_t size,
    uint64_t seq)
{
	ck_assert_uint_eq(row->stack, stack);
	ck_assert_uint_eq(row->thread, thread);
	ck_assert_uint_eq(row->n_allocations, n);
	ck_assert_uint_eq(row->size, size);
	ck_assert_uint_eq(row->seq, seq);
}

/* Threads 1, 2, 3 allocate from stack 7; thread 2 twice; thread 1 also from stack 8. */
static void
shared_stack(void)
{
	malloc_in(1, 0x100, 10, 7);	/* seq 0 */
	malloc_in(2, 0x200, 20, 7);	/* seq 1 */
	malloc_in(3, 0x300, 30, 7);	/* seq 2 */
	malloc_in(2, 0x400, 5, 7);	/* seq 3 */
	malloc_in(1, 0x500, 1, 8);	/* seq 4 */
}

START_TEST(test_peak_split)
{
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, true);
	shared_stack();
	ck_assert_uint_eq(report_rows(r, &row), 4);
	check_row(&row[0], 7, 1, 1, 10, 0);
	check_row(&row[1], 7, 2, 2, 25, 1);
	check_row(&row[2], 7, 3, 1, 30, 2);
	check_row(&row[3], 8, 1, 1, 1, 4);
}
END_TEST

START_TEST(test_peak_not_split)
{
	/* The same records without the option: one row per stack, the earliest member's thread. */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	shared_stack();
	ck_assert_uint_eq(report_rows(r, &row), 2);
	check_row(&row[0], 7, 1, 4, 65, 0);
	check_row(&row[1], 8, 1, 1, 1, 4);
}
END_TEST

START_TEST(test_peak_split_is_the_peak)
{
	/* Frees after the peak do not change the split rows, which show the peak. */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, true);
	shared_stack();
	free_in(2, 0x200);
	free_in(3, 0x300);
	ck_assert_uint_eq(report_rows(r, &row), 4);
	check_row(&row[1], 7, 2, 2, 25, 1);
	check_row(&row[2], 7, 3, 1, 30, 2);
}
END_TEST

START_TEST(test_leaks_split_representative)
{
	/* Thread 2's earliest block is freed: its row's representative is its next one. */
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, true);
	shared_stack();
	free_in(2, 0x200);
	free_in(3, 0x300);
	ck_assert_uint_eq(report_rows(r, &row), 3);
	check_row(&row[0], 7, 1, 1, 10, 0);
	check_row(&row[1], 7, 2, 1, 5, 3);
	check_row(&row[2], 8, 1, 1, 1, 4);
}
END_TEST

START_TEST(test_native_id_still_in_key)
{
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, true);
	feed_native(ALLOC_MALLOC, 0x100, 1, 7, 1, 11);
	feed_native(ALLOC_MALLOC, 0x200, 2, 7, 1, 12);
	feed_native(ALLOC_MALLOC, 0x300, 4, 7, 1, 11);
	ck_assert_uint_eq(report_rows(r, &row), 2);
	ck_assert_uint_eq(row[0].native_id, 11);
	ck_assert_uint_eq(row[0].size, 5);
	ck_assert_uint_eq(row[1].native_id, 12);
}
END_TEST

START_TEST(test_temporary_split)
{
	/* Threads 1 and 2 each make and free a temporary at stack 7. */
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 1, true);
	malloc_in(1, 0x100, 10, 7);	/* seq 0 */
	malloc_in(2, 0x200, 20, 7);	/* seq 1 */
	free_in(2, 0x200);
	free_in(1, 0x100);
	malloc_in(1, 0x100, 40, 7);	/* seq 4 */
	free_in(1, 0x100);
	ck_assert_uint_eq(report_rows(r, &row), 2);
	check_row(&row[0], 7, 1, 2, 50, 0);
	check_row(&row[1], 7, 2, 1, 20, 1);
	report_free(r);

	r = report_new(REPORT_TEMPORARY, 1, false);
	malloc_in(1, 0x100, 10, 7);
	malloc_in(2, 0x200, 20, 7);
	free_in(2, 0x200);
	free_in(1, 0x100);
	ck_assert_uint_eq(report_rows(r, &row), 1);
	check_row(&row[0], 7, 1, 2, 30, 0);
}
END_TEST

static void
aggregated(uint32_t thread, uint32_t stack, uint64_t size, uint64_t n)
{
	struct alloc_event ev = { .size = size, .stack = stack, .thread = thread, .allocator = ALLOC_MALLOC };

	report_aggregated(r, &ev, n);
}

START_TEST(test_aggregated_split)
{
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, true);
	aggregated(2, 7, 300, 3);	/* seq 0 */
	aggregated(1, 7, 100, 1);	/* seq 1 */
	aggregated(2, 7, 400, 4);	/* seq 2 */
	ck_assert_uint_eq(report_rows(r, &row), 2);
	check_row(&row[0], 7, 2, 7, 700, 0);
	check_row(&row[1], 7, 1, 1, 100, 1);
	report_free(r);

	r = report_new(REPORT_LEAKS, 0, false);
	aggregated(2, 7, 300, 3);
	aggregated(1, 7, 100, 1);
	ck_assert_uint_eq(report_rows(r, &row), 1);
	check_row(&row[0], 7, 2, 4, 400, 0);
}
END_TEST

START_TEST(test_many_groups)
{
	/* Every (stack, thread) of a grid is its own group, whatever the map does with the keys. */
	enum { THREADS = 300, STACKS = 200 };
	const struct report_row *row;
	uint64_t address = 0x1000;

	r = report_new(REPORT_LEAKS, 0, true);
	for (int round = 0; round < 2; round++)
		for (uint32_t t = 0; t < THREADS; t++)
			for (uint32_t s = 1; s <= STACKS; s++)
				malloc_in(t, address++, (uint64_t)t * STACKS + s, s);
	size_t n = report_rows(r, &row);
	ck_assert_uint_eq(n, THREADS * STACKS);
	/* One assertion at the end: Check's per-assertion bookkeeping is slow under a sanitizer. */
	size_t bad = n;
	for (size_t i = 0; i < n && bad == n; i++) {
		uint32_t t = (uint32_t)(i / STACKS), s = (uint32_t)(i % STACKS) + 1;
		if (row[i].thread != t || row[i].stack != s || row[i].n_allocations != 2 ||
		    row[i].size != 2 * ((uint64_t)t * STACKS + s) || row[i].seq != i)
			bad = i;
	}
	ck_assert_msg(bad == n, "row %zu: thread %u stack %u n %llu size %llu seq %llu", bad,
	    bad < n ? row[bad].thread : 0, bad < n ? row[bad].stack : 0,
	    bad < n ? (unsigned long long)row[bad].n_allocations : 0,
	    bad < n ? (unsigned long long)row[bad].size : 0,
	    bad < n ? (unsigned long long)row[bad].seq : 0);
}
END_TEST

static Suite *
split_threads_suite(void)
{
	Suite *s = suite_create("split_threads");
	TCase *tc = tcase_create("report");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_peak_split);
	tcase_add_test(tc, test_peak_not_split);
	tcase_add_test(tc, test_peak_split_is_the_peak);
	tcase_add_test(tc, test_leaks_split_representative);
	tcase_add_test(tc, test_native_id_still_in_key);
	tcase_add_test(tc, test_temporary_split);
	tcase_add_test(tc, test_aggregated_split);
	tcase_add_test(tc, test_many_groups);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(split_threads_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
