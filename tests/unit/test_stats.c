/*
 * test_stats: the pieces of -f stats that the bundled references do not
 * reach: libstdc++'s map order (stl_order), memray's histogram bins with
 * their float quirks (stats), module names (module_name) and the
 * metadata's times (stats_summary).  Expected values come from libstdc++
 * (GCC 12) and from CPython 3.11 running memray 1.20.0's formulas.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocator.h"
#include "module_name.h"
#include "stats.h"
#include "stats_summary.h"
#include "stl_order.h"

/* keys inserted into std::unordered_map in this order iterate as `expected`. */
static void
check_order(const uint64_t *keys, const uint64_t *expected, size_t n)
{
	size_t order[64];

	ck_assert_uint_le(n, 64);
	stl_iteration_order(keys, n, order);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(keys[order[i]], expected[i]);
}

START_TEST(test_stl_order_small_keys)
{
	/* Allocator ids, as a capture first uses them; 13 and 14 share buckets with 0 and 1. */
	static const uint64_t keys[] = { 6, 8, 7, 14, 9, 10, 11, 12, 13, 2, 3, 4 };
	static const uint64_t expected[] = { 4, 3, 2, 13, 12, 11, 10, 9, 14, 7, 8, 6 };

	check_order(keys, expected, 12);
}
END_TEST

START_TEST(test_stl_order_rehashes)
{
	/* 30 keys: the map grows from 13 to 29 to 59 buckets on the way. */
	static const uint64_t expected[] = {
		36, 17, 4, 41, 28, 15, 2, 60, 50, 21, 37, 8, 52, 23, 39,
		10, 26, 13, 0, 58, 54, 30, 6, 43, 19, 56, 32, 45, 34, 47,
	};
	uint64_t keys[30];

	for (uint64_t k = 0; k < 30; k++)
		keys[k] = k * 37 % 61;
	check_order(keys, expected, 30);
}
END_TEST

/* A stats fed one malloc per size (count times each). */
static struct stats *
stats_of(const uint64_t *sizes, const uint64_t *counts, size_t n)
{
	struct stats *s = stats_new();
	uint64_t seq = 0;

	for (size_t i = 0; i < n; i++)
		for (uint64_t c = 0; c < counts[i]; c++)
			stats_allocation(s, &(struct alloc_event){ .size = sizes[i],
			    .allocator = ALLOC_MALLOC }, seq++);
	return s;
}

static void
check_histogram(const uint64_t *sizes, const uint64_t *counts, size_t n,
    const uint64_t expected[STATS_HISTOGRAM_BINS][2])
{
	struct stats *s = stats_of(sizes, counts, n);
	struct stats_bin bins[STATS_HISTOGRAM_BINS];
	uint64_t smallest, largest;
	const char *why = NULL;

	ck_assert(stats_histogram(s, bins, &smallest, &largest, &why));
	for (size_t i = 0; i < STATS_HISTOGRAM_BINS; i++) {
		ck_assert_uint_eq(bins[i].upper, expected[i][0]);
		ck_assert_uint_eq(bins[i].count, expected[i][1]);
	}
	stats_free(s);
}

START_TEST(test_histogram_bins)
{
	/* 1000000 lands in the last bin although its bound truncates to 999999. */
	static const uint64_t sizes[] = { 0, 1, 7, 100, 4096, 1000000 };
	static const uint64_t counts[] = { 2, 1, 3, 1, 2, 1 };
	static const uint64_t expected[STATS_HISTOGRAM_BINS][2] = {
		{ 3, 3 }, { 15, 3 }, { 63, 0 }, { 251, 1 }, { 999, 0 }, { 3981, 0 }, { 15848, 2 },
		{ 63095, 0 }, { 251188, 0 }, { 999999, 1 },
	};

	check_histogram(sizes, counts, 6, expected);
}
END_TEST

START_TEST(test_histogram_one_size)
{
	/* One size: the low end is halved, and 16 falls in a last bin bounded by 15. */
	static const uint64_t sizes[] = { 16 };
	static const uint64_t counts[] = { 5 };
	static const uint64_t expected[STATS_HISTOGRAM_BINS][2] = {
		{ 4, 0 }, { 5, 0 }, { 6, 0 }, { 6, 0 }, { 7, 0 }, { 9, 0 }, { 10, 0 }, { 12, 0 },
		{ 13, 0 }, { 15, 5 },
	};

	check_histogram(sizes, counts, 1, expected);
}
END_TEST

START_TEST(test_histogram_large)
{
	static const uint64_t sizes[] = { 3, UINT64_C(1) << 40 };
	static const uint64_t counts[] = { 1, 1 };
	static const uint64_t expected[STATS_HISTOGRAM_BINS][2] = {
		{ 43, 1 }, { 616, 0 }, { 8837, 0 }, { 126693, 0 }, { 1816186, 0 }, { 26035648, 0 },
		{ 373229750, 0 }, { UINT64_C(5350373645), 0 }, { UINT64_C(76699400492), 0 },
		{ UINT64_C(1099511627776), 1 },
	};

	check_histogram(sizes, counts, 2, expected);
}
END_TEST

START_TEST(test_histogram_fails_as_memray)
{
	/* Only zero sizes: min() of nothing; only sizes 0 and 1: a zero step. */
	static const uint64_t zero[] = { 0 }, small[] = { 0, 1 }, counts[] = { 3, 2 };
	struct stats_bin bins[STATS_HISTOGRAM_BINS];
	uint64_t smallest, largest;
	const char *why = NULL;
	struct stats *s = stats_of(zero, counts, 1);

	ck_assert(!stats_histogram(s, bins, &smallest, &largest, &why));
	ck_assert_ptr_nonnull(why);
	stats_free(s);
	s = stats_of(small, counts, 2);
	why = NULL;
	ck_assert(!stats_histogram(s, bins, &smallest, &largest, &why));
	ck_assert_ptr_nonnull(why);
	ck_assert_uint_eq(smallest, 0);
	ck_assert_uint_eq(largest, 1);
	stats_free(s);
}
END_TEST

START_TEST(test_allocators_ties_in_map_order)
{
	/* First used: MALLOC, CALLOC, POSIX_MEMALIGN, ALIGNED_ALLOC; frees count nothing. */
	static const uint8_t used[] = {
		ALLOC_MALLOC, ALLOC_MALLOC, ALLOC_CALLOC, ALLOC_FREE, ALLOC_POSIX_MEMALIGN,
		ALLOC_ALIGNED_ALLOC, ALLOC_FREE, ALLOC_FREE,
	};
	struct stats *s = stats_new();
	uint8_t ids[256];
	uint64_t counts[256];

	for (size_t i = 0; i < sizeof used; i++)
		stats_allocation(s, &(struct alloc_event){ .size = 8, .allocator = used[i] }, i);
	ck_assert_uint_eq(stats_allocations(s), 5);
	ck_assert_uint_eq(stats_bytes(s), 40);
	ck_assert_uint_eq(stats_allocators(s, ids, counts), 4);
	/* MALLOC (2) first; the ties as the map iterates: the newest bucket first. */
	ck_assert_uint_eq(ids[0], ALLOC_MALLOC);
	ck_assert_uint_eq(counts[0], 2);
	ck_assert_uint_eq(ids[1], ALLOC_ALIGNED_ALLOC);
	ck_assert_uint_eq(ids[2], ALLOC_POSIX_MEMALIGN);
	ck_assert_uint_eq(ids[3], ALLOC_CALLOC);
	stats_free(s);
}
END_TEST

START_TEST(test_merge_keeps_record_order)
{
	/* Two threads interleaved: merged, the first uses are in record order again. */
	struct stats *a = stats_new(), *b = stats_new(), *merged = stats_new(), *empty = stats_new();
	const uint32_t *stacks;
	uint8_t ids[256];
	uint64_t counts[256];

	stats_allocation(b, &(struct alloc_event){ .size = 1, .stack = 7, .allocator = ALLOC_CALLOC }, 0);
	stats_allocation(a, &(struct alloc_event){ .size = 2, .stack = 3, .allocator = ALLOC_MALLOC }, 1);
	stats_allocation(b, &(struct alloc_event){ .size = 2, .stack = 3, .allocator = ALLOC_MALLOC }, 2);
	stats_allocation(a, &(struct alloc_event){ .size = 4, .stack = 5, .allocator = ALLOC_MALLOC }, 3);
	/* A thread that only frees has stats with no stack at all. */
	stats_allocation(empty, &(struct alloc_event){ .allocator = ALLOC_FREE }, 4);
	stats_merge(merged, empty);
	ck_assert_uint_eq(stats_stacks_by_first_use(merged, &stacks), 0);
	stats_merge(merged, a);
	stats_merge(merged, b);
	ck_assert_uint_eq(stats_allocations(merged), 4);
	ck_assert_uint_eq(stats_bytes(merged), 9);
	ck_assert_uint_eq(stats_stacks_by_first_use(merged, &stacks), 3);
	ck_assert_uint_eq(stacks[0], 7);
	ck_assert_uint_eq(stacks[1], 3);
	ck_assert_uint_eq(stacks[2], 5);
	ck_assert_uint_eq(stats_stack(merged, 3)->n_allocations, 2);
	ck_assert_uint_eq(stats_stack(merged, 3)->bytes, 4);
	ck_assert_uint_eq(stats_allocators(merged, ids, counts), 2);
	ck_assert_uint_eq(ids[0], ALLOC_MALLOC);
	ck_assert_uint_eq(counts[0], 3);
	ck_assert_uint_eq(ids[1], ALLOC_CALLOC);
	stats_free(a);
	stats_free(b);
	stats_free(empty);
	stats_free(merged);
}
END_TEST

/* The module of a stack of files (most recent first) under a venv-like header. */
static const char *
module_of(struct module_resolver *r, const char *const *files, size_t n)
{
	static struct frame_text frames[8];

	for (size_t i = 0; i < n; i++)
		frames[i] = (struct frame_text){ "f", files[i], 1 };
	return module_resolver_stack(r, frames, n);
}

START_TEST(test_module_names)
{
	char *site[] = { "/venv/lib/python3.11/site-packages", NULL };
	char *path[] = { "/app", "/usr/lib/python3.11", NULL };
	struct capture_header h = {
		.libdest = "/usr/lib/python3.11", .site_packages = site, .sys_path = path,
	};
	struct module_resolver *r = module_resolver_new(&h);
	static const struct {
		const char *files[3];
		size_t n;
		const char *module;
	} cases[] = {
		{ { "/usr/lib/python3.11/json/__init__.py" }, 1, "<root>" },
		{ { "/venv/lib/python3.11/site-packages/numpy/core/x.py" }, 1, "numpy" },
		{ { "/venv/lib/python3.11/site-packages/memray/commands/run.py" }, 1, "<root>" },
		{ { "/app/pkg/__init__.py" }, 1, "pkg" },
		{ { "/app/__init__.py" }, 1, "" },
		{ { "/app//./mod.py" }, 1, "mod" },
		{ { "/app/a.b.py" }, 1, "a" },
		{ { "/elsewhere/tool.py" }, 1, "tool" },
		{ { "//app/x.py" }, 1, "x" },
		{ { "<string>" }, 1, "<string>" },
		{ { "" }, 1, "unknown" },
		{ { "<frozen runpy>", "/usr/lib/python3.11/runpy.py", "/app/main.py" }, 3, "main" },
		{ { "<frozen runpy>" }, 1, "<root>" },
		{ { "/" }, 1, "" },
		{ { "/app" }, 1, "" },
		{ { "/app/x/" }, 1, "x" },
		{ { ".hidden.py" }, 1, "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_str_eq(module_of(r, cases[i].files, cases[i].n), cases[i].module);
	ck_assert_str_eq(module_resolver_stack(r, NULL, 0), "<root>");
	module_resolver_free(r);
}
END_TEST

static void
check_time(const char *tz, int64_t ms, const char *expected)
{
	char buf[64];

	setenv("TZ", tz, 1);
	tzset();
	ck_assert(stats_format_time(buf, sizeof buf, ms));
	ck_assert_str_eq(buf, expected);
}

START_TEST(test_times_as_python_prints_them)
{
	check_time("UTC", INT64_C(1764089331830), "2025-11-25 16:48:51.830000+00:00");
	check_time("UTC", INT64_C(1764089331000), "2025-11-25 16:48:51+00:00");
	check_time("UTC", -1, "1969-12-31 23:59:59.999000+00:00");
	check_time("XST-5:30", INT64_C(1764089331830), "2025-11-25 22:18:51.830000+05:30");
	check_time("ABC3:00:30", INT64_C(1764089331000), "2025-11-25 13:48:21-03:00:30");
	ck_assert_str_eq(stats_python_allocator_name(1), "pymalloc");
	ck_assert_ptr_null(stats_python_allocator_name(7));
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase_create("stl_order");

	tcase_add_test(tc, test_stl_order_small_keys);
	tcase_add_test(tc, test_stl_order_rehashes);
	suite_add_tcase(s, tc);

	tc = tcase_create("counts");
	tcase_add_test(tc, test_histogram_bins);
	tcase_add_test(tc, test_histogram_one_size);
	tcase_add_test(tc, test_histogram_large);
	tcase_add_test(tc, test_histogram_fails_as_memray);
	tcase_add_test(tc, test_allocators_ties_in_map_order);
	tcase_add_test(tc, test_merge_keeps_record_order);
	suite_add_tcase(s, tc);

	tc = tcase_create("names");
	tcase_add_test(tc, test_module_names);
	tcase_add_test(tc, test_times_as_python_prints_them);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(stats_suite());

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
