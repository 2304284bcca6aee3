/*
 * test_interval_list: how munmap cuts live mmap ranges (interval_list.h,
 * doc/capture-format.md §8.2.1).
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "interval_list.h"
#include "support.h"

/* What the observer was told. */
struct call {
	uint32_t owner;
	enum interval_change change;
	uint64_t removed;
};

struct log {
	struct call calls[8192];
	size_t n;
	uint32_t next_owner;	/* handed out for the second piece of a split */
};

static uint32_t
observe(void *ctx, uint32_t owner, enum interval_change change, uint64_t removed)
{
	struct log *log = ctx;

	require(log->n < sizeof log->calls / sizeof log->calls[0]);
	log->calls[log->n++] = (struct call){ owner, change, removed };
	return change == INTERVAL_SPLIT ? log->next_owner++ : 0;
}

static void
check_call(const struct log *log, size_t i, uint32_t owner, enum interval_change change,
    uint64_t removed)
{
	ck_assert_uint_lt(i, log->n);
	require_uint_eq(log->calls[i].owner, owner);
	ck_assert_int_eq(log->calls[i].change, change);
	require_uint_eq(log->calls[i].removed, removed);
}

/* The i-th live range in memray's vector order. */
static struct interval
item(const struct interval_list *list, size_t i)
{
	size_t n = interval_list_count(list);
	struct interval *all = calloc(n ? n : 1, sizeof *all);

	ck_assert_ptr_nonnull(all);
	ck_assert_uint_lt(i, n);
	interval_list_items(list, all);
	struct interval got = all[i];
	free(all);
	return got;
}

static void
check_item(const struct interval_list *list, size_t i, uint64_t start, uint64_t end, uint32_t owner)
{
	struct interval got = item(list, i);

	require_uint_eq(got.start, start);
	require_uint_eq(got.end, end);
	require_uint_eq(got.owner, owner);
}

START_TEST(test_drop_whole)
{
	struct interval_list list;
	struct log log = { .next_owner = 100 };

	interval_list_init(&list);
	interval_list_add(&list, 0x1000, 0x2000, 1);
	interval_list_add(&list, 0x5000, 0x6000, 2);
	/* Exactly the interval. */
	require_uint_eq(interval_list_remove(&list, 0x1000, 0x2000, observe, &log), 0x1000);
	require_uint_eq(log.n, 1);
	check_call(&log, 0, 1, INTERVAL_DROPPED, 0x1000);
	require_uint_eq(interval_list_count(&list), 1);
	check_item(&list, 0, 0x5000, 0x6000, 2);
	/* A larger range covering it: only the interval's own bytes count. */
	require_uint_eq(interval_list_remove(&list, 0x4000, 0x9000, observe, &log), 0x1000);
	require_uint_eq(log.n, 2);
	check_call(&log, 1, 2, INTERVAL_DROPPED, 0x1000);
	require_uint_eq(interval_list_count(&list), 0);
	/* Nothing left to remove. */
	require_uint_eq(interval_list_remove(&list, 0, UINT64_MAX, observe, &log), 0);
	require_uint_eq(log.n, 2);
	interval_list_free(&list);
}
END_TEST

START_TEST(test_shrink_at_start)
{
	struct interval_list list;
	struct log log = { .next_owner = 100 };

	interval_list_init(&list);
	interval_list_add(&list, 0x1000, 0x4000, 7);
	/* [0x800, 0x2000) covers the start: [0x2000, 0x4000) stays. */
	require_uint_eq(interval_list_remove(&list, 0x800, 0x2000, observe, &log), 0x1000);
	require_uint_eq(log.n, 1);
	check_call(&log, 0, 7, INTERVAL_SHRUNK, 0x1000);
	require_uint_eq(interval_list_count(&list), 1);
	check_item(&list, 0, 0x2000, 0x4000, 7);
	/* Starting exactly at the start. */
	require_uint_eq(interval_list_remove(&list, 0x2000, 0x2100, observe, &log), 0x100);
	check_call(&log, 1, 7, INTERVAL_SHRUNK, 0x100);
	check_item(&list, 0, 0x2100, 0x4000, 7);
	interval_list_free(&list);
}
END_TEST

START_TEST(test_shrink_at_end)
{
	struct interval_list list;
	struct log log = { .next_owner = 100 };

	interval_list_init(&list);
	interval_list_add(&list, 0x1000, 0x4000, 3);
	/* [0x3000, 0x8000) covers the end: [0x1000, 0x3000) stays. */
	require_uint_eq(interval_list_remove(&list, 0x3000, 0x8000, observe, &log), 0x1000);
	require_uint_eq(log.n, 1);
	check_call(&log, 0, 3, INTERVAL_SHRUNK, 0x1000);
	require_uint_eq(interval_list_count(&list), 1);
	check_item(&list, 0, 0x1000, 0x3000, 3);
	/* Ending exactly at the end. */
	require_uint_eq(interval_list_remove(&list, 0x2ff8, 0x3000, observe, &log), 8);
	check_call(&log, 1, 3, INTERVAL_SHRUNK, 8);
	check_item(&list, 0, 0x1000, 0x2ff8, 3);
	interval_list_free(&list);
}
END_TEST

START_TEST(test_split_middle)
{
	struct interval_list list;
	struct log log = { .next_owner = 100 };

	interval_list_init(&list);
	interval_list_add(&list, 0x10000, 0x20000, 5);
	interval_list_add(&list, 0x30000, 0x31000, 6);
	/* [0x14000, 0x15000) in the middle: [b, s) keeps owner 5, [e, f) gets the observer's 100. */
	require_uint_eq(interval_list_remove(&list, 0x14000, 0x15000, observe, &log), 0x1000);
	require_uint_eq(log.n, 1);
	check_call(&log, 0, 5, INTERVAL_SPLIT, 0x1000);
	require_uint_eq(interval_list_count(&list), 3);
	check_item(&list, 0, 0x10000, 0x14000, 5);
	check_item(&list, 1, 0x15000, 0x20000, 100);
	check_item(&list, 2, 0x30000, 0x31000, 6);

	/* The new piece is an interval like any other: cutting it reports its new owner. */
	require_uint_eq(interval_list_remove(&list, 0x15000, 0x16000, observe, &log), 0x1000);
	check_call(&log, 1, 100, INTERVAL_SHRUNK, 0x1000);
	require_uint_eq(interval_list_remove(&list, 0x18000, 0x19000, observe, &log), 0x1000);
	check_call(&log, 2, 100, INTERVAL_SPLIT, 0x1000);
	require_uint_eq(interval_list_count(&list), 4);
	check_item(&list, 0, 0x10000, 0x14000, 5);
	check_item(&list, 1, 0x16000, 0x18000, 100);
	check_item(&list, 2, 0x19000, 0x20000, 101);
	check_item(&list, 3, 0x30000, 0x31000, 6);
	interval_list_free(&list);
}
END_TEST

START_TEST(test_no_overlap_untouched)
{
	struct interval_list list;
	struct log log = { .next_owner = 100 };

	interval_list_init(&list);
	interval_list_add(&list, 0x1000, 0x2000, 1);
	interval_list_add(&list, 0x3000, 0x4000, 2);
	/* Adjacent ranges and a gap: intervals are half-open, nothing overlaps. */
	require_uint_eq(interval_list_remove(&list, 0x2000, 0x3000, observe, &log), 0);
	require_uint_eq(interval_list_remove(&list, 0x0, 0x1000, observe, &log), 0);
	require_uint_eq(interval_list_remove(&list, 0x4000, 0x5000, observe, &log), 0);
	/* An empty range removes nothing, even inside an interval. */
	require_uint_eq(interval_list_remove(&list, 0x1800, 0x1800, observe, &log), 0);
	require_uint_eq(log.n, 0);
	require_uint_eq(interval_list_count(&list), 2);
	check_item(&list, 0, 0x1000, 0x2000, 1);
	check_item(&list, 1, 0x3000, 0x4000, 2);
	interval_list_free(&list);
}
END_TEST

START_TEST(test_spanning_several)
{
	struct interval_list list;
	struct log log = { .next_owner = 100 };

	interval_list_init(&list);
	/* Insertion order is kept; overlapping mmaps are not merged. */
	interval_list_add(&list, 0x1000, 0x3000, 1);	/* end cut */
	interval_list_add(&list, 0x9000, 0xa000, 2);	/* untouched */
	interval_list_add(&list, 0x4000, 0x5000, 3);	/* dropped */
	interval_list_add(&list, 0x5000, 0x8000, 4);	/* start cut */
	interval_list_add(&list, 0x2000, 0x7000, 5);	/* overlaps 1, 3 and 4: start cut */
	interval_list_add(&list, 0x0, 0x10000, 6);	/* split */
	require_uint_eq(interval_list_remove(&list, 0x2000, 0x6000, observe, &log),
	    0x1000 + 0x1000 + 0x1000 + 0x4000 + 0x4000);
	require_uint_eq(log.n, 5);
	check_call(&log, 0, 1, INTERVAL_SHRUNK, 0x1000);
	check_call(&log, 1, 3, INTERVAL_DROPPED, 0x1000);
	check_call(&log, 2, 4, INTERVAL_SHRUNK, 0x1000);
	check_call(&log, 3, 5, INTERVAL_SHRUNK, 0x4000);
	check_call(&log, 4, 6, INTERVAL_SPLIT, 0x4000);
	require_uint_eq(interval_list_count(&list), 6);
	check_item(&list, 0, 0x1000, 0x2000, 1);
	check_item(&list, 1, 0x9000, 0xa000, 2);
	check_item(&list, 2, 0x6000, 0x8000, 4);
	check_item(&list, 3, 0x6000, 0x7000, 5);
	check_item(&list, 4, 0x0, 0x2000, 6);
	check_item(&list, 5, 0x6000, 0x10000, 100);
	interval_list_free(&list);
}
END_TEST

START_TEST(test_many_intervals)
{
	/* Enough intervals to grow the arrays several times; remove every other page. */
	enum { N = 1000 };
	struct interval_list list;
	struct log log = { .next_owner = 100 };

	interval_list_init(&list);
	interval_list_add(&list, 0, (uint64_t)N * 0x1000, 0);
	for (uint32_t i = 1; i <= N; i++)
		interval_list_add(&list, (uint64_t)(N + i) * 0x1000, (uint64_t)(N + i + 1) * 0x1000, i);
	require_uint_eq(interval_list_count(&list), N + 1);
	/* Everything from page N+1 on, and nothing of the first interval. */
	for (uint32_t i = 1; i <= N; i += 2) {
		log.n = 0;
		require_uint_eq(interval_list_remove(&list, (uint64_t)(N + i) * 0x1000,
		    (uint64_t)(N + i + 1) * 0x1000, observe, &log), 0x1000);
		require_uint_eq(log.n, 1);
		check_call(&log, 0, i, INTERVAL_DROPPED, 0x1000);
	}
	require_uint_eq(interval_list_count(&list), N / 2 + 1);
	check_item(&list, 0, 0, (uint64_t)N * 0x1000, 0);
	for (size_t k = 1; k < interval_list_count(&list); k++)
		require_uint_eq(item(&list, k).owner, 2 * k);
	log.n = 0;
	require_uint_eq(interval_list_remove(&list, 0, UINT64_MAX, observe, &log),
	    (uint64_t)N * 0x1000 + (uint64_t)(N / 2) * 0x1000);
	require_uint_eq(log.n, N / 2 + 1);
	require_uint_eq(interval_list_count(&list), 0);
	interval_list_free(&list);
}
END_TEST

/*
 * Random mmaps and munmaps, overlapping ones and wide ones too, against
 * memray's algorithm as a model: a vector in insertion order, rebuilt on
 * every removal (snapshot.h: IntervalTree::removeInterval).  The calls,
 * the bytes removed and the ranges left must be the same.
 */
#define MODEL_MAX 32768

struct model {
	struct interval items[MODEL_MAX];
	size_t len;
	struct log log;
};

static uint32_t
model_observe(void *ctx, uint32_t owner, enum interval_change change, uint64_t removed)
{
	struct model *m = ctx;

	return observe(&m->log, owner, change, removed);
}

static uint64_t
model_remove(struct model *m, uint64_t start, uint64_t end)
{
	static struct interval kept[2 * MODEL_MAX];
	size_t n = 0;
	uint64_t removed = 0;

	for (size_t i = 0; i < m->len; i++) {
		struct interval iv = m->items[i];
		uint64_t lo = iv.start > start ? iv.start : start;
		uint64_t hi = iv.end < end ? iv.end : end;
		if (lo >= hi) {
			kept[n++] = iv;
			continue;
		}
		removed += hi - lo;
		if (lo == iv.start && hi == iv.end) {
			model_observe(m, iv.owner, INTERVAL_DROPPED, hi - lo);
		} else if (lo == iv.start) {
			model_observe(m, iv.owner, INTERVAL_SHRUNK, hi - lo);
			kept[n++] = (struct interval){ hi, iv.end, iv.owner };
		} else if (hi == iv.end) {
			model_observe(m, iv.owner, INTERVAL_SHRUNK, hi - lo);
			kept[n++] = (struct interval){ iv.start, lo, iv.owner };
		} else {
			uint32_t second = model_observe(m, iv.owner, INTERVAL_SPLIT, hi - lo);
			kept[n++] = (struct interval){ iv.start, lo, iv.owner };
			kept[n++] = (struct interval){ hi, iv.end, second };
		}
	}
	ck_assert_uint_le(n, MODEL_MAX);
	for (size_t i = 0; i < n; i++)
		m->items[i] = kept[i];
	m->len = n;
	return removed;
}

START_TEST(test_random_against_vector)
{
	static struct model model;
	static struct interval items[MODEL_MAX];
	struct interval_list list;
	struct log log = { .next_owner = 1000000 };
	uint32_t next_owner = 1;
	/*
	 * Cases 0-2: pages 0-999, some ranges wide, so removals cut many;
	 * case 3: up to 12,000 live ranges of a few pages over 200,000
	 * pages, a tree of three levels whose inner nodes split, and then
	 * merge as removals of up to 64 pages empty it (its model's scans
	 * of 12,000 make it take its fixed steps also with MT_LARGE_TESTS);
	 * cases 4 and 5: as case 0, but each new range above (4) or below
	 * (5) every live one, as mmaps come at rising or falling addresses
	 * (insert places those without a search), starting over at the
	 * other end when the pages run out.
	 */
	bool wide = _i == 3, rising = _i == 4, falling = _i == 5;
	uint64_t pages_max = wide ? 200000 : 1000;
	size_t live_max = wide ? 12000 : 2048;
	uint64_t edge = falling ? pages_max : 0;	/* the next range's start or end, in pages */

	model = (struct model){ .log = { .next_owner = 1000000 } };
	interval_list_init(&list);
	rng_seed(7 + (uint64_t)_i);
	for (uint64_t step = 0, steps = wide ? 60000 : test_steps(20000); step < steps; step++) {
		/* Most ranges a few pages, some wide (not in case 3). */
		uint64_t start = 0x1000 * (rng() % pages_max);
		uint64_t pages = !wide && rng() % 16 == 0 ? rng() % 400 : 1 + rng() % 8;
		/* Case 3 grows its live set to live_max, holds it, then empties it. */
		unsigned add_eighths = !wide ? 4 : step < 2 * live_max ? 7 : step < steps * 2 / 3 ? 4 : 0;
		bool add = rng() % 8 < add_eighths;
		if (wide && !add)
			pages = 1 + rng() % 64;
		if (add && rising) {
			if (edge + pages > pages_max)
				edge = 0;
			start = 0x1000 * edge;
			edge += pages + rng() % 2;
		} else if (add && falling) {
			if (edge < pages)
				edge = pages_max;
			edge -= pages + (edge > pages ? rng() % 2 : 0);
			start = 0x1000 * edge;
		}
		uint64_t end = start + 0x1000 * pages;
		if (add && model.len < live_max) {
			interval_list_add(&list, start, end, next_owner);
			model.items[model.len++] = (struct interval){ start, end, next_owner++ };
		} else {
			/* Unaligned cuts too: the model does not care about pages. */
			if (rng() % 4 == 0)
				end -= rng() % 0x1000;
			log.n = model.log.n = 0;
			require_uint_eq(interval_list_remove(&list, start, end, observe, &log),
			    model_remove(&model, start, end));
			require_uint_eq(log.n, model.log.n);
			for (size_t i = 0; i < log.n; i++)
				check_call(&log, i, model.log.calls[i].owner, model.log.calls[i].change,
				    model.log.calls[i].removed);
		}
		require_uint_eq(interval_list_count(&list), model.len);
		if (wide && step == 2 * live_max)
			ck_assert_uint_ge(interval_list_height(&list), 3);
		if (wide && step == steps - 1)
			ck_assert_uint_lt(model.len, live_max / 10);
		if (step % 500 == 0 || step == steps - 1) {
			interval_list_items(&list, items);
			for (size_t i = 0; i < model.len; i++) {
				require_uint_eq(items[i].start, model.items[i].start);
				require_uint_eq(items[i].end, model.items[i].end);
				require_uint_eq(items[i].owner, model.items[i].owner);
			}
		}
	}
	interval_list_free(&list);
}
END_TEST

/*
 * The tree stays shallow (20,000 ranges in nodes of up to 32 make 3 or 4
 * levels), also on orders that would make unbalanced trees a chain, and
 * while it empties.  Its height is what a munmap's search pays.
 */
enum { BALANCE_N = 20000, BALANCE_MAX_HEIGHT = 5 };

/* Add [start, start + 1 page) for each start, remove them all, checking the height between. */
static void
check_balance(const uint64_t *starts)
{
	struct interval_list list;
	struct log log = { .next_owner = BALANCE_N };

	interval_list_init(&list);
	for (uint32_t i = 0; i < BALANCE_N; i++)
		interval_list_add(&list, starts[i], starts[i] + 0x1000, i);
	ck_assert_uint_le(interval_list_height(&list), BALANCE_MAX_HEIGHT);
	for (uint32_t i = 0; i < BALANCE_N; i++) {
		log.n = 0;
		require_uint_eq(interval_list_remove(&list, starts[i], starts[i] + 0x1000, observe, &log),
		    0x1000);
		check_call(&log, 0, i, INTERVAL_DROPPED, 0x1000);
		if (i == BALANCE_N / 2)
			ck_assert_uint_le(interval_list_height(&list), BALANCE_MAX_HEIGHT);
	}
	require_uint_eq(interval_list_height(&list), 0);
	interval_list_free(&list);
}

/* mmaps at rising addresses, as a process maps its heap. */
START_TEST(test_balanced_on_sequential_addresses)
{
	static uint64_t starts[BALANCE_N];

	for (uint32_t i = 0; i < BALANCE_N; i++)
		starts[i] = UINT64_C(0x7f0000000000) + (uint64_t)i * 0x1000;
	check_balance(starts);
}
END_TEST

struct ranked {
	uint32_t priority;
	uint32_t insert;
};

static int
by_priority(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	return (x->priority > y->priority) - (x->priority < y->priority);
}

/*
 * A capture crafted against priorities from a fixed seed (xorshift64 from
 * 0x9e3779b97f4a7c15, high 32 bits, as this list's treap once drew them):
 * the k-th mmap gets the address whose rank is its priority's rank, which
 * would make such a treap a chain as long as the capture; for the B+ tree,
 * inserts all over its key range.
 */
START_TEST(test_balanced_on_crafted_addresses)
{
	static struct ranked ranked[BALANCE_N];
	static uint64_t starts[BALANCE_N];
	uint64_t x = UINT64_C(0x9e3779b97f4a7c15);

	for (uint32_t i = 0; i < BALANCE_N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ranked[i] = (struct ranked){ (uint32_t)(x >> 32), i };
	}
	qsort(ranked, BALANCE_N, sizeof *ranked, by_priority);
	for (uint32_t rank = 0; rank < BALANCE_N; rank++)
		starts[ranked[rank].insert] = UINT64_C(0x7f0000000000) + (uint64_t)rank * 0x1000;
	check_balance(starts);
}
END_TEST

static Suite *
interval_list_suite(void)
{
	Suite *s = suite_create("interval_list");
	TCase *tc = tcase_create("remove");

	tcase_add_test(tc, test_drop_whole);
	tcase_add_test(tc, test_shrink_at_start);
	tcase_add_test(tc, test_shrink_at_end);
	tcase_add_test(tc, test_split_middle);
	tcase_add_test(tc, test_no_overlap_untouched);
	tcase_add_test(tc, test_spanning_several);
	tcase_add_loop_test(tc, test_random_against_vector, 0, 6);
	tcase_add_test(tc, test_many_intervals);
	tcase_add_test(tc, test_balanced_on_sequential_addresses);
	tcase_add_test(tc, test_balanced_on_crafted_addresses);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(interval_list_suite());
}
