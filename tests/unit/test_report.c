/*
 * test_report: which allocations a report shows (report.h), for the peak
 * (doc/capture-format.md §8.2), leaks (§8.3) and temporary (§8.4) modes and
 * aggregated files (§8.5), with the grouping and representative rules of
 * §8.6 and fixes F1 and F2 of §0, and --split-threads.
 */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "live_mappings.h"
#include "report.h"
#include "support.h"

static struct report *r;
/* The live mmapped ranges of the records fed, which transform follows for the report. */
static struct live_mappings mappings;

static void
setup(void)
{
	live_mappings_init(&mappings);
}

static void
teardown(void)
{
	report_free(r);
	r = NULL;
	live_mappings_free(&mappings);
}

/* An mmap's piece or a munmap's changes, as transform's follower gives them. */
static void
follow_mappings(struct alloc_event *ev)
{
	if (ev->allocator != ALLOC_MMAP && ev->allocator != ALLOC_MUNMAP)
		return;
	struct mapping_note note = live_mappings_follow(&mappings, ev->allocator == ALLOC_MUNMAP,
	    ev->address, ev->size);
	ev->piece = note.piece;
	ev->n_changes = note.n_changes;
	ev->changes = note.changes;
}

/* One allocation record with a native id and a generation. */
static bool
feed_full(uint8_t allocator, uint64_t address, uint64_t size, uint32_t stack, uint32_t thread,
    uint64_t native_id, uint32_t generation)
{
	bool dealloc = allocator_is_deallocator(allocator_kind(allocator));
	struct alloc_event ev = {
		.address = address,
		.size = size,
		.native_id = dealloc ? 0 : native_id,
		.stack = dealloc ? 0 : stack,
		.thread = thread,
		.generation = dealloc ? 0 : generation,
		.allocator = allocator,
	};

	follow_mappings(&ev);
	return report_allocation(r, &ev);
}

static bool
feed(uint8_t allocator, uint64_t address, uint64_t size, uint32_t stack, uint32_t thread)
{
	return feed_full(allocator, address, size, stack, thread, 0, 0);
}

static bool
malloc_at(uint64_t address, uint64_t size, uint32_t stack)
{
	return feed(ALLOC_MALLOC, address, size, stack, 1);
}

static bool
free_at(uint64_t address)
{
	return feed(ALLOC_FREE, address, 0, 0, 1);
}

static size_t
rows(const struct report_row **out)
{
	size_t n = report_rows(r, out);

	/* Whatever the mode, rows come out sorted by seq (and seqs are unique). */
	for (size_t i = 1; i < n; i++)
		ck_assert_uint_lt((*out)[i - 1].seq, (*out)[i].seq);
	return n;
}

static void
check_row(const struct report_row *row, uint32_t stack, uint64_t n, uint64_t size, uint64_t seq,
    uint8_t allocator, uint32_t thread)
{
	ck_assert_uint_eq(row->stack, stack);
	ck_assert_uint_eq(row->n_allocations, n);
	ck_assert_uint_eq(row->size, size);
	ck_assert_uint_eq(row->seq, seq);
	ck_assert_uint_eq(row->allocator, allocator);
	ck_assert_uint_eq(row->thread, thread);
}

/* ---- peak ---------------------------------------------------------- */

START_TEST(test_peak_empty)
{
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	ck_assert_uint_eq(rows(&row), 0);
	ck_assert_uint_eq(report_records(r), 0);
	ck_assert_uint_eq(report_peak_bytes(r), 0);
}
END_TEST

START_TEST(test_peak_tie_goes_to_latest)
{
	/* §8.2: malloc 10, free, malloc 10, free-unknown -> peak_index 3. */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	ck_assert(malloc_at(0x1000, 10, 1));	/* seq 0: current 10, a peak */
	ck_assert(!free_at(0x1000));		/* seq 1: current 0 */
	ck_assert(malloc_at(0x2000, 10, 2));	/* seq 2: current 10 = peak: the new peak */
	ck_assert(free_at(0x9000));		/* seq 3: unknown address, still at the peak */
	ck_assert_uint_eq(report_records(r), 4);
	ck_assert_uint_eq(report_peak_bytes(r), 10);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 2, 1, 10, 2, ALLOC_MALLOC, 1);

	/* Freeing it afterwards is below the peak: the rows stay at the peak. */
	ck_assert(!free_at(0x2000));
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 2, 1, 10, 2, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_peak_state_kept_after_peak)
{
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	ck_assert(malloc_at(0xA0, 100, 1));	/* seq 0 */
	ck_assert(malloc_at(0xB0, 50, 2));	/* seq 1: peak 150 */
	ck_assert(!free_at(0xA0));		/* seq 2 */
	ck_assert(!malloc_at(0xC0, 20, 1));	/* seq 3: current 70 */
	ck_assert(!malloc_at(0xD0, 7, 3));	/* seq 4: a group born after the peak */
	ck_assert(!free_at(0xB0));		/* seq 5 */
	ck_assert_uint_eq(report_peak_bytes(r), 150);
	ck_assert_uint_eq(rows(&row), 2);
	check_row(&row[0], 1, 1, 100, 0, ALLOC_MALLOC, 1);
	check_row(&row[1], 2, 1, 50, 1, ALLOC_MALLOC, 1);

	/* A higher peak later: now the live set of that moment. */
	ck_assert(malloc_at(0xE0, 200, 4));	/* seq 6: current 227 */
	ck_assert_uint_eq(report_peak_bytes(r), 227);
	ck_assert_uint_eq(rows(&row), 3);
	check_row(&row[0], 1, 1, 20, 3, ALLOC_MALLOC, 1);
	check_row(&row[1], 3, 1, 7, 4, ALLOC_MALLOC, 1);
	check_row(&row[2], 4, 1, 200, 6, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_peak_group_changed_twice_after_peak)
{
	/* A group changed several times after the peak shows its value at the peak. */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	malloc_at(0x10, 40, 1);			/* seq 0 */
	malloc_at(0x20, 60, 1);			/* seq 1: peak 100, group 1 n=2 */
	free_at(0x10);				/* seq 2 */
	free_at(0x20);				/* seq 3 */
	malloc_at(0x30, 5, 1);			/* seq 4 */
	malloc_at(0x40, 5, 1);			/* seq 5 */
	malloc_at(0x50, 5, 1);			/* seq 6 */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 100, 0, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_peak_young_freed_newest_first)
{
	/*
	 * Blocks still young at the peak, freed after it newest first: the
	 * group still shows its earliest block (F1), of thread 7.
	 */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	feed(ALLOC_MALLOC, 0x10, 40, 1, 7);	/* seq 0 */
	feed(ALLOC_MALLOC, 0x20, 60, 1, 1);	/* seq 1: peak 100 */
	free_at(0x20);				/* seq 2 */
	free_at(0x10);				/* seq 3 */
	malloc_at(0x30, 5, 2);			/* seq 4 */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 100, 0, ALLOC_MALLOC, 7);
}
END_TEST

START_TEST(test_peak_replace_live_address)
{
	/*
	 * §0, §8.2: an allocation at a live address replaces the old member
	 * (its group loses it) while `current` keeps the old bytes.
	 */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	ck_assert(malloc_at(0xA0, 10, 1));	/* seq 0 */
	ck_assert(malloc_at(0xA0, 30, 2));	/* seq 1: current 40 (not 30) */
	ck_assert_uint_eq(report_peak_bytes(r), 40);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 2, 1, 30, 1, ALLOC_MALLOC, 1);

	/* The free takes away 30, leaving 10 of phantom bytes in `current`. */
	ck_assert(!free_at(0xA0));		/* seq 2: current 10 */
	ck_assert(!malloc_at(0xB0, 25, 3));	/* seq 3: current 35 */
	ck_assert(malloc_at(0xC0, 5, 4));	/* seq 4: current 40 = peak */
	ck_assert_uint_eq(report_peak_bytes(r), 40);
	ck_assert_uint_eq(rows(&row), 2);
	check_row(&row[0], 3, 1, 25, 3, ALLOC_MALLOC, 1);
	check_row(&row[1], 4, 1, 5, 4, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_peak_replace_in_same_group)
{
	/* The replacement is the group's member now: count 1, its size, its seq, its allocator. */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	feed(ALLOC_MALLOC, 0xA0, 10, 1, 1);	/* seq 0 */
	feed(ALLOC_CALLOC, 0xB0, 1, 1, 1);	/* seq 1 */
	feed(ALLOC_PYMALLOC_MALLOC, 0xA0, 30, 1, 2);	/* seq 2: replaces seq 0 */
	ck_assert_uint_eq(report_peak_bytes(r), 41);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 31, 1, ALLOC_CALLOC, 1);
}
END_TEST

START_TEST(test_representative_earliest_member_f1)
{
	/*
	 * §8.6 with fix F1: live malloc@thread1 seq0, calloc@thread2 seq1,
	 * realloc@thread1 seq2, pymalloc_malloc@thread2 seq3 at one stack:
	 * one row, n=4, shown as the earliest member (MALLOC, thread 1).
	 * Stock memray shows PYMALLOC_MALLOC, thread 2.
	 */
	const struct report_row *row;

	for (int mode = REPORT_PEAK; mode <= REPORT_LEAKS; mode++) {
		r = report_new((enum report_mode)mode, 0, false);
		feed_full(ALLOC_MALLOC, 0x1000, 10, 7, 1, 0, 1);
		feed_full(ALLOC_CALLOC, 0x2000, 20, 7, 2, 0, 2);
		feed_full(ALLOC_REALLOC, 0x3000, 30, 7, 1, 0, 3);
		feed_full(ALLOC_PYMALLOC_MALLOC, 0x4000, 40, 7, 2, 0, 4);
		ck_assert_uint_eq(rows(&row), 1);
		check_row(&row[0], 7, 4, 100, 0, ALLOC_MALLOC, 1);
		ck_assert_uint_eq(row[0].generation, 1);
		ck_assert_uint_eq(row[0].native_id, 0);
		report_free(r);
		r = NULL;
	}
}
END_TEST

START_TEST(test_representative_after_head_freed)
{
	/* When the earliest member is freed, the next earliest represents the group. */
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	feed_full(ALLOC_MALLOC, 0x1000, 10, 7, 1, 0, 1);	/* seq 0 */
	feed_full(ALLOC_CALLOC, 0x2000, 20, 7, 2, 0, 2);	/* seq 1 */
	feed_full(ALLOC_REALLOC, 0x3000, 30, 7, 1, 0, 3);	/* seq 2 */
	feed(ALLOC_FREE, 0x1000, 0, 0, 1);			/* seq 3 */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 7, 2, 50, 1, ALLOC_CALLOC, 2);
	ck_assert_uint_eq(row[0].generation, 2);
	/* Freeing a middle member keeps the representative. */
	feed(ALLOC_FREE, 0x3000, 0, 0, 2);			/* seq 4 */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 7, 1, 20, 1, ALLOC_CALLOC, 2);
	/* A later member of an emptied group becomes its representative. */
	feed(ALLOC_PYMALLOC_FREE, 0x2000, 0, 0, 2);		/* seq 5 */
	ck_assert_uint_eq(rows(&row), 0);
	feed_full(ALLOC_VALLOC, 0x5000, 8, 7, 3, 0, 4);	/* seq 6 */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 7, 1, 8, 6, ALLOC_VALLOC, 3);
	ck_assert_uint_eq(row[0].generation, 4);
}
END_TEST

START_TEST(test_representative_skips_dead_successor)
{
	/*
	 * A member freed in the middle of its group may wait to be unlinked;
	 * when the head goes next, its successor in the list is that dead
	 * member, and the representative must be the live one after it.
	 */
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	for (uint64_t k = 1; k <= 3; k++)
		malloc_at(k << 12, 10 * k, 7);		/* seqs 0-2 */
	free_at(2 << 12);				/* the middle one */
	free_at(1 << 12);				/* the head */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 7, 1, 30, 2, ALLOC_MALLOC, 1);
}
END_TEST

/*
 * Random mallocs and frees of blocks of every age over three stacks,
 * checked against a model that knows every live block: the rows at the
 * peak (peak mode) or at the end (leaks mode) are each group's live
 * blocks, counted and summed, shown as the earliest of them (F1).  The
 * frees mostly hit the middle of a group's list.  About 68,000 blocks
 * are live at a time, twice the slots of the report's nursery, so most
 * are found through the live index.  Every 1000 records the leaks rows
 * are checked as they stand.
 */
#define MODEL_BLOCKS 160000
/* Each block picked five times on average: the live set settles at 3/7 of them. */
#define MODEL_RECORDS (5 * MODEL_BLOCKS)
#define MODEL_STACKS 3

struct model_block {
	bool live;
	uint32_t stack, thread;
	uint64_t size, seq;
};

struct model_group {
	uint64_t n, size, seq;
	uint32_t thread;	/* and allocator: the earliest member's */
	uint8_t allocator;
};

/* A member joins its model group, which shows its earliest member (F1). */
static void
model_add(struct model_group *g, uint64_t size, uint64_t seq, uint32_t thread, uint8_t allocator)
{
	g->n++;
	g->size += size;
	if (seq < g->seq) {
		g->seq = seq;
		g->thread = thread;
		g->allocator = allocator;
	}
}

/* The rows a report should give for the live blocks, one per stack with any. */
static void
model_rows(const struct model_block *blocks, struct model_group *groups)
{
	for (uint32_t s = 0; s < MODEL_STACKS; s++)
		groups[s] = (struct model_group){ .seq = UINT64_MAX };
	for (size_t i = 0; i < MODEL_BLOCKS; i++) {
		const struct model_block *b = &blocks[i];
		if (!b->live)
			continue;
		model_add(&groups[b->stack], b->size, b->seq, b->thread, ALLOC_MALLOC);
	}
}

/* The report's rows are the model's groups (by stack) that have members. */
static void
check_against_model(const struct model_group *groups, uint32_t n_stacks)
{
	const struct report_row *row;
	size_t n = rows(&row), k = 0;

	for (uint32_t s = 0; s < n_stacks; s++)
		k += groups[s].n > 0;
	ck_assert_uint_eq(n, k);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_lt(row[i].stack, n_stacks);
		const struct model_group *g = &groups[row[i].stack];
		ck_assert_uint_gt(g->n, 0);
		check_row(&row[i], row[i].stack, g->n, g->size, g->seq, g->allocator, g->thread);
	}
}

/*
 * The model's record seq of the random sequence: a malloc of a dead block
 * three times in four, else a free (of a live block or not); it is fed to
 * the report if feed_report.  With `young`, half the records pick one of
 * the 8 blocks allocated last, so that many blocks die within a few
 * records (the report's young ring).  Returns the live bytes after it.
 */
static uint64_t
model_step(struct model_block *blocks, uint64_t seq, uint64_t current, bool feed_report,
    bool young)
{
	static size_t last[8];
	size_t i = young && seq >= 8 && rng() % 2 ? last[rng() % 8] : rng() % MODEL_BLOCKS;
	struct model_block *b = &blocks[i];
	uint64_t address = 0x10000 + 16 * (uint64_t)i;

	/* Allocate three times in four: most blocks stay live, so most frees hit old ones. */
	if (!b->live && rng() % 4 != 0) {
		*b = (struct model_block){ true, (uint32_t)(rng() % MODEL_STACKS),
			(uint32_t)(rng() % 5), 1 + rng() % 100, seq };
		last[seq % 8] = i;
		if (feed_report)
			feed(ALLOC_MALLOC, address, b->size, b->stack, b->thread);
		return current + b->size;
	}
	last[seq % 8] = i;
	if (b->live)
		current -= b->size;
	b->live = false;
	if (feed_report)
		feed(ALLOC_FREE, address, 0, 0, 0);
	return current;
}

START_TEST(test_representative_random_frees)
{
	static struct model_block blocks[MODEL_BLOCKS];
	struct model_group expected[MODEL_STACKS];
	uint64_t current = 0, peak = 0, peak_seq = 0, seed = 1234 + (uint64_t)_i;
	enum report_mode mode = _i % 2 == 0 ? REPORT_PEAK : REPORT_LEAKS;
	bool young = _i >= 2;

	r = report_new(mode, 0, false);
	memset(blocks, 0, sizeof blocks);
	rng_seed(seed);
	for (uint64_t seq = 0; seq < MODEL_RECORDS; seq++) {
		current = model_step(blocks, seq, current, true, young);
		if (current >= peak) {
			peak = current;
			peak_seq = seq;
		}
		if (mode == REPORT_LEAKS && seq % 1000 == 999) {
			model_rows(blocks, expected);
			check_against_model(expected, MODEL_STACKS);
		}
	}
	if (mode == REPORT_PEAK) {
		/* The live blocks at the peak: the same sequence again, up to the peak. */
		memset(blocks, 0, sizeof blocks);
		rng_seed(seed);
		for (uint64_t seq = 0; seq <= peak_seq; seq++)
			model_step(blocks, seq, 0, false, young);
	}
	model_rows(blocks, expected);
	check_against_model(expected, MODEL_STACKS);
	ck_assert_uint_eq(report_peak_bytes(r), peak);
}
END_TEST

/*
 * Young blocks (the report's young ring) change nothing: a report fed
 * records whose blocks mostly die within a few allocations shows what its
 * twin shows, which keeps no young blocks because it tracks threads.  The
 * records also allocate at live addresses (young or not), free addresses
 * never allocated, tie the peak, and mmap and munmap between them; in
 * leaks mode the rows are compared every 997 records as well.
 */
static void
check_same_rows(struct report *twin)
{
	const struct report_row *row, *twin_row;
	size_t n = report_rows(r, &row);

	ck_assert_uint_eq(report_rows(twin, &twin_row), n);
	/* One assertion for all rows: Check makes each costly. */
	for (size_t i = 0; i < n; i++) {
		const struct report_row *a = &row[i], *b = &twin_row[i];
		if (a->stack != b->stack || a->n_allocations != b->n_allocations || a->size != b->size ||
		    a->seq != b->seq || a->allocator != b->allocator || a->thread != b->thread)
			ck_abort_msg("row %zu: stack %" PRIu32 " n %" PRIu64 " size %" PRIu64 " seq %"
			    PRIu64 ", the twin's stack %" PRIu32 " n %" PRIu64 " size %" PRIu64 " seq %"
			    PRIu64, i, a->stack, a->n_allocations, a->size, a->seq, b->stack,
			    b->n_allocations, b->size, b->seq);
	}
}

START_TEST(test_young_change_nothing)
{
	enum report_mode mode = _i == 0 ? REPORT_PEAK : REPORT_LEAKS;
	struct report *twin = report_new(mode, 0, false);
	uint64_t last[4] = { 0 };
	size_t peaks = 0;

	report_track_threads(twin);
	r = report_new(mode, 0, false);
	rng_seed(777 + (uint64_t)_i);
	for (uint64_t i = 0; i < 300000; i++) {
		unsigned pick = (unsigned)(rng() % 16);
		uint64_t address = pick < 10 ? last[rng() % 4] :
		    0x10000 + 16 * (rng() % (pick < 13 ? 2000 : 8000));
		uint8_t allocator = rng() % 2 ? ALLOC_MALLOC : ALLOC_FREE;
		uint64_t size = allocator == ALLOC_FREE ? 0 : rng() % 100;
		if (pick == 15) {
			/* An mmap or munmap of whole or partial pages, away from the heap. */
			allocator = rng() % 2 ? ALLOC_MMAP : ALLOC_MUNMAP;
			address = 0x7f0000000000 + 4096 * (rng() % 64);
			size = 4096 * (1 + rng() % 4);
		}
		/* Groups of a few members, whose representative changes often. */
		uint32_t stack = (uint32_t)(rng() % 3000);
		struct alloc_event ev = { .address = address, .size = size,
			.stack = allocator_is_deallocator(allocator_kind(allocator)) ? 0 : stack,
			.thread = 1, .allocator = allocator };
		follow_mappings(&ev);
		bool mark = report_allocation(r, &ev);
		peaks += mark;
		if (allocator == ALLOC_MALLOC)
			last[i % 4] = address;
		/* Checked without an assertion per record, which Check makes costly. */
		if (report_allocation(twin, &ev) != mark ||
		    report_current_bytes(r) != report_current_bytes(twin) ||
		    report_live_allocations(r) != report_live_allocations(twin))
			ck_abort_msg("record %" PRIu64 ": mark, bytes or allocations differ", i);
		if (mode == REPORT_LEAKS && i % 997 == 996)
			check_same_rows(twin);
	}
	/* The sequence is not all peaks, nor without any after the start. */
	ck_assert_uint_gt(peaks, mode == REPORT_PEAK ? 100 : 299999);
	ck_assert_uint_lt(peaks, mode == REPORT_PEAK ? 200000 : 300001);
	ck_assert_uint_eq(report_peak_bytes(r), report_peak_bytes(twin));
	check_same_rows(twin);
	report_free(twin);
}
END_TEST

/* One allocation record into report `into`. */
static void
feed_into(struct report *into, uint8_t allocator, uint64_t address, uint64_t size, uint32_t stack)
{
	struct alloc_event ev = { .address = address, .size = size, .stack = stack, .thread = 1,
		.allocator = allocator };

	report_allocation(into, &ev);
}

/*
 * Hints (report_prefetch) are taken in peak and leaks modes once the live
 * set is large, and change nothing: a report given hints for every record
 * (in the nursery, in the index, not live) shows what its twin without
 * them shows.
 */
START_TEST(test_hints_change_nothing)
{
	struct report *twin = report_new(REPORT_PEAK, 0, false);
	const struct report_row *row, *twin_row;

	r = report_new(REPORT_PEAK, 0, false);
	rng_seed(4321);
	ck_assert(!report_takes_hints(r));
	for (uint64_t i = 0; i < 600000; i++) {
		uint64_t address = 0x10000 + 16 * (i < 450000 ? i : rng() % 700000);
		uint8_t allocator = i < 450000 || rng() % 2 ? ALLOC_MALLOC : ALLOC_FREE;
		uint64_t size = allocator == ALLOC_FREE ? 0 : 1 + rng() % 100;
		uint32_t stack = (uint32_t)(rng() % 50);
		uint64_t ahead = 0x10000 + 16 * (rng() % 700000);

		report_prefetch(r, ahead, allocator, 1, REPORT_PREFETCH_FAR);
		report_prefetch(r, address, allocator, 1, REPORT_PREFETCH_NEAR);
		report_prefetch(r, address, ALLOC_MMAP, 1, REPORT_PREFETCH_NEAR);
		feed_into(r, allocator, address, size, stack);
		feed_into(twin, allocator, address, size, stack);
	}
	ck_assert(report_takes_hints(r));
	size_t n = rows(&row);
	ck_assert_uint_eq(report_rows(twin, &twin_row), n);
	ck_assert_uint_eq(n, 50);
	for (size_t i = 0; i < n; i++)
		check_row(&row[i], twin_row[i].stack, twin_row[i].n_allocations, twin_row[i].size,
		    twin_row[i].seq, twin_row[i].allocator, twin_row[i].thread);
	ck_assert_uint_eq(report_peak_bytes(r), report_peak_bytes(twin));
	report_free(twin);
}
END_TEST

START_TEST(test_group_key_stack_and_native_id)
{
	/* Groups are keyed by (Python stack, native id); allocator and thread are not in the key. */
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	feed_full(ALLOC_MALLOC, 0x10, 1, 1, 1, 5, 1);	/* seq 0: (1, 5) */
	feed_full(ALLOC_MALLOC, 0x20, 2, 1, 1, 6, 1);	/* seq 1: (1, 6) */
	feed_full(ALLOC_MALLOC, 0x30, 4, 2, 1, 5, 1);	/* seq 2: (2, 5) */
	feed_full(ALLOC_CALLOC, 0x40, 8, 1, 9, 5, 1);	/* seq 3: (1, 5) again */
	ck_assert_uint_eq(rows(&row), 3);
	check_row(&row[0], 1, 2, 9, 0, ALLOC_MALLOC, 1);
	ck_assert_uint_eq(row[0].native_id, 5);
	check_row(&row[1], 1, 1, 2, 1, ALLOC_MALLOC, 1);
	ck_assert_uint_eq(row[1].native_id, 6);
	check_row(&row[2], 2, 1, 4, 2, ALLOC_MALLOC, 1);
	ck_assert_uint_eq(row[2].native_id, 5);
}
END_TEST

START_TEST(test_group_key_without_native_id)
{
	/*
	 * Without a native id a stack's group is found by the stack alone
	 * (group_of_stack): it still differs from the stack's with one, and
	 * stacks far apart, or the empty stack, each have their own.
	 */
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	feed_full(ALLOC_MALLOC, 0x10, 1, 1, 1, 0, 1);		/* seq 0: (1, 0) */
	feed_full(ALLOC_MALLOC, 0x20, 2, 1, 1, 5, 1);		/* seq 1: (1, 5) */
	feed_full(ALLOC_MALLOC, 0x30, 4, 1000000, 1, 0, 1);	/* seq 2: (1000000, 0) */
	feed_full(ALLOC_MALLOC, 0x40, 8, 1, 1, 0, 1);		/* seq 3: (1, 0) again */
	feed_full(ALLOC_MALLOC, 0x50, 16, 0, 1, 0, 1);		/* seq 4: the empty stack */
	ck_assert_uint_eq(rows(&row), 4);
	check_row(&row[0], 1, 2, 9, 0, ALLOC_MALLOC, 1);
	ck_assert_uint_eq(row[0].native_id, 0);
	check_row(&row[1], 1, 1, 2, 1, ALLOC_MALLOC, 1);
	ck_assert_uint_eq(row[1].native_id, 5);
	check_row(&row[2], 1000000, 1, 4, 2, ALLOC_MALLOC, 1);
	check_row(&row[3], 0, 1, 16, 4, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_rows_sorted_by_seq)
{
	/* Groups created in one order, shown by their earliest live member's seq. */
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	malloc_at(0xA0, 1, 1);		/* seq 0, group of stack 1 created first */
	malloc_at(0xB0, 2, 2);		/* seq 1 */
	malloc_at(0xC0, 3, 3);		/* seq 2 */
	free_at(0xA0);			/* seq 3 */
	malloc_at(0xD0, 4, 1);		/* seq 4: stack 1 again */
	free_at(0xB0);			/* seq 5 */
	malloc_at(0xE0, 5, 2);		/* seq 6 */
	ck_assert_uint_eq(rows(&row), 3);
	check_row(&row[0], 3, 1, 3, 2, ALLOC_MALLOC, 1);
	check_row(&row[1], 1, 1, 4, 4, ALLOC_MALLOC, 1);
	check_row(&row[2], 2, 1, 5, 6, ALLOC_MALLOC, 1);
}
END_TEST

/* ---- mmap ----------------------------------------------------------- */

START_TEST(test_mmap_split_counts_two)
{
	/* §8.2: an mmap split in two by a partial munmap counts as 2 allocations. */
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	feed(ALLOC_MMAP, 0x10000, 0x10000, 1, 1);		/* seq 0 */
	feed(ALLOC_MUNMAP, 0x14000, 0x1000, 0, 1);		/* seq 1: split */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 0xF000, 0, ALLOC_MMAP, 1);
	/* Cutting the end of the second piece: still two pieces. */
	feed(ALLOC_MUNMAP, 0x1F000, 0x1000, 0, 1);		/* seq 2 */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 0xE000, 0, ALLOC_MMAP, 1);
	/* Dropping the first piece: one left. */
	feed(ALLOC_MUNMAP, 0x10000, 0x4000, 0, 1);		/* seq 3 */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 1, 0xA000, 0, ALLOC_MMAP, 1);
	/* Unmapping everything. */
	feed(ALLOC_MUNMAP, 0, 0x100000, 0, 1);			/* seq 4 */
	ck_assert_uint_eq(rows(&row), 0);
}
END_TEST

START_TEST(test_mmap_peak_accounting)
{
	/* munmap takes away only the bytes it actually removes (§8.2). */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	ck_assert(feed(ALLOC_MMAP, 0x10000, 0x10000, 1, 1));		/* seq 0: 0x10000 */
	ck_assert(!feed(ALLOC_MUNMAP, 0x14000, 0x1000, 0, 1));		/* seq 1: 0xF000 */
	ck_assert(!feed(ALLOC_MUNMAP, 0x40000, 0x1000, 0, 1));		/* seq 2: unmapped: 0xF000 */
	ck_assert(feed(ALLOC_MALLOC, 0x100, 0x1000, 2, 1));		/* seq 3: 0x10000 = peak */
	ck_assert_uint_eq(report_peak_bytes(r), 0x10000);
	ck_assert_uint_eq(rows(&row), 2);
	check_row(&row[0], 1, 2, 0xF000, 0, ALLOC_MMAP, 1);
	check_row(&row[1], 2, 1, 0x1000, 3, ALLOC_MALLOC, 1);
	/* A munmap overlapping the hole removes only mapped bytes. */
	ck_assert(!feed(ALLOC_MUNMAP, 0x13000, 0x3000, 0, 1));		/* seq 4: removes 0x2000 */
	ck_assert(feed(ALLOC_MMAP, 0x80000, 0x2000, 3, 1));		/* seq 5: back to 0x10000 */
	ck_assert_uint_eq(rows(&row), 3);
	check_row(&row[0], 1, 2, 0xD000, 0, ALLOC_MMAP, 1);
	check_row(&row[1], 2, 1, 0x1000, 3, ALLOC_MALLOC, 1);
	check_row(&row[2], 3, 1, 0x2000, 5, ALLOC_MMAP, 1);
	/* A zero-size mmap adds no member. */
	ck_assert(feed(ALLOC_MMAP, 0x90000, 0, 4, 1));			/* seq 6: still the peak */
	ck_assert_uint_eq(rows(&row), 3);
}
END_TEST

START_TEST(test_mmap_split_at_peak_then_freed)
{
	/* The split state at the peak survives later unmapping. */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	feed(ALLOC_MMAP, 0x10000, 0x4000, 1, 1);	/* seq 0: 0x4000 */
	feed(ALLOC_MUNMAP, 0x11000, 0x1000, 0, 1);	/* seq 1: 0x3000 */
	feed(ALLOC_MALLOC, 0x100, 0x1000, 2, 1);	/* seq 2: 0x4000 = peak */
	feed(ALLOC_MUNMAP, 0x10000, 0x4000, 0, 1);	/* seq 3: 0x1000 */
	ck_assert_uint_eq(rows(&row), 2);
	check_row(&row[0], 1, 2, 0x3000, 0, ALLOC_MMAP, 1);
	check_row(&row[1], 2, 1, 0x1000, 2, ALLOC_MALLOC, 1);
}
END_TEST

/* ---- leaks ---------------------------------------------------------- */

START_TEST(test_leaks)
{
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	/* Every record is "the state to report" in leaks mode. */
	ck_assert(malloc_at(0xA0, 100, 1));	/* seq 0 */
	ck_assert(malloc_at(0xB0, 50, 2));	/* seq 1 */
	ck_assert(free_at(0xA0));		/* seq 2 */
	ck_assert(malloc_at(0xC0, 20, 3));	/* seq 3 */
	ck_assert(free_at(0x999));		/* seq 4: unknown */
	ck_assert(feed(ALLOC_PYMALLOC_FREE, 0xB0, 0, 0, 2));	/* seq 5: any free frees */
	ck_assert(malloc_at(0xD0, 1, 3));	/* seq 6 */
	ck_assert_uint_eq(report_records(r), 7);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 3, 2, 21, 3, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_leaks_replace_live_address)
{
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	malloc_at(0xA0, 10, 1);
	malloc_at(0xA0, 30, 2);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 2, 1, 30, 1, ALLOC_MALLOC, 1);
	free_at(0xA0);
	ck_assert_uint_eq(rows(&row), 0);
}
END_TEST

/*
 * A block that outlives the young ring (1024 allocations) while every
 * later allocation reuses one freed address: the ring fills behind it
 * with dead blocks, and the allocation that finds it the oldest must
 * file it as a member, not take its place.
 */
START_TEST(test_leaks_block_outlives_young_ring)
{
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, false);
	malloc_at(0xA0, 100, 1);
	for (int i = 0; i < 3000; i++) {
		malloc_at(0xB0, 8, 2);
		free_at(0xB0);
	}
	ck_assert_uint_eq(report_live_allocations(r), 1);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 1, 100, 0, ALLOC_MALLOC, 1);
	free_at(0xA0);
	ck_assert_uint_eq(report_current_bytes(r), 0);
	ck_assert_uint_eq(rows(&row), 0);
}
END_TEST

/*
 * Once threads are tracked (-f timeline --thread) every block is a
 * member, even one at an address freed last: each thread's live blocks
 * and bytes are counted as they come and go.
 */
START_TEST(test_thread_live_at_reused_address)
{
	uint64_t bytes, allocations;

	r = report_new(REPORT_PEAK, 0, false);
	report_track_threads(r);
	malloc_at(0xA0, 10, 1);
	free_at(0xA0);
	malloc_at(0xA0, 30, 1);
	report_thread_live(r, 1, &bytes, &allocations);
	ck_assert_uint_eq(bytes, 30);
	ck_assert_uint_eq(allocations, 1);
	malloc_at(0xB0, 5, 1);
	report_thread_live(r, 1, &bytes, &allocations);
	ck_assert_uint_eq(bytes, 35);
	ck_assert_uint_eq(allocations, 2);
	free_at(0xA0);
	report_thread_live(r, 1, &bytes, &allocations);
	ck_assert_uint_eq(bytes, 5);
	ck_assert_uint_eq(allocations, 1);
}
END_TEST

/* ---- temporary ------------------------------------------------------- */

START_TEST(test_temporary_basic)
{
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 1, false);
	ck_assert(feed(ALLOC_MALLOC, 0xA0, 10, 1, 1));		/* seq 0 */
	ck_assert(feed(ALLOC_MALLOC, 0xB0, 20, 2, 1));		/* seq 1: not freed */
	ck_assert(feed(ALLOC_FREE, 0xA0, 0, 0, 1));		/* seq 2: A is temporary */
	ck_assert_uint_eq(report_records(r), 3);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 1, 10, 0, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_temporary_double_count)
{
	/* §8.4: a match stays in the buffer; a second free of the address counts it again. */
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 1, false);
	feed(ALLOC_MALLOC, 0xA0, 10, 1, 1);
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 20, 0, ALLOC_MALLOC, 1);

	/* The spec's verified case: n_allocations 3 from 2 mallocs (FREE after realloc). */
	report_free(r);
	r = report_new(REPORT_TEMPORARY, 1, false);
	feed(ALLOC_MALLOC, 0xA0, 8, 1, 1);		/* seq 0 */
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);		/* seq 1: matches seq 0 */
	feed(ALLOC_REALLOC, 0xA0, 16, 1, 1);		/* seq 2 */
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);		/* seq 3: matches seq 2 (the newest) */
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);		/* seq 4: matches seq 2 again */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 3, 40, 0, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_temporary_other_thread_never_matches)
{
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 10, false);
	feed(ALLOC_MALLOC, 0xA0, 10, 1, 1);
	feed(ALLOC_FREE, 0xA0, 0, 0, 2);
	feed(ALLOC_MMAP, 0x10000, 0x1000, 1, 2);
	feed(ALLOC_MUNMAP, 0x10000, 0x1000, 0, 3);
	ck_assert_uint_eq(rows(&row), 0);
	/* On the right thread it does match. */
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);
	feed(ALLOC_MUNMAP, 0x10000, 0x1000, 0, 2);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 0x1000 + 10, 0, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_temporary_threshold_window)
{
	/* Buffer N+1: with N=1 a free matches only the thread's 2 most recent allocations. */
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 1, false);
	feed(ALLOC_MALLOC, 0xA0, 1, 1, 1);		/* seq 0 */
	feed(ALLOC_MALLOC, 0xB0, 2, 2, 1);		/* seq 1 */
	feed(ALLOC_MALLOC, 0xC0, 4, 3, 1);		/* seq 2: pushes A out */
	feed(ALLOC_MALLOC, 0xD0, 8, 4, 2);		/* seq 3: another thread's buffer */
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);		/* too old */
	ck_assert_uint_eq(rows(&row), 0);
	feed(ALLOC_FREE, 0xB0, 0, 0, 1);
	feed(ALLOC_FREE, 0xC0, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 2);
	check_row(&row[0], 2, 1, 2, 1, ALLOC_MALLOC, 1);
	check_row(&row[1], 3, 1, 4, 2, ALLOC_MALLOC, 1);

	/* N=0: buffer 1, only the very last allocation. */
	report_free(r);
	r = report_new(REPORT_TEMPORARY, 0, false);
	feed(ALLOC_MALLOC, 0xA0, 1, 1, 1);
	feed(ALLOC_MALLOC, 0xB0, 2, 2, 1);
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 0);
	feed(ALLOC_FREE, 0xB0, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 2, 1, 2, 1, ALLOC_MALLOC, 1);

	/* A large N keeps a long history (the buffer grows past its first size). */
	report_free(r);
	r = report_new(REPORT_TEMPORARY, 1000, false);
	for (uint64_t i = 0; i < 1001; i++)
		feed(ALLOC_MALLOC, 0x1000 + i * 16, 1, 1, 1);
	feed(ALLOC_FREE, 0x1000, 0, 0, 1);		/* seq 0 is the 1001st most recent */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 1, 1, 0, ALLOC_MALLOC, 1);
	feed(ALLOC_MALLOC, 0x99990, 1, 2, 1);		/* now seq 0 drops out */
	feed(ALLOC_FREE, 0x1000, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 1, 1, 0, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_temporary_newest_match_first)
{
	/* Two recent allocations at one address: the free matches the newest. */
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 5, false);
	feed(ALLOC_MALLOC, 0xA0, 10, 1, 1);	/* seq 0 */
	feed(ALLOC_MALLOC, 0xA0, 20, 2, 1);	/* seq 1 */
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 2, 1, 20, 1, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_temporary_munmap_needs_equal_size)
{
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 5, false);
	feed(ALLOC_MMAP, 0x10000, 0x2000, 1, 1);
	feed(ALLOC_MUNMAP, 0x10000, 0x1000, 0, 1);	/* partial: no match */
	ck_assert_uint_eq(rows(&row), 0);
	feed(ALLOC_MUNMAP, 0x10000, 0x2000, 0, 1);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 1, 0x2000, 0, ALLOC_MMAP, 1);
	/* FREE does not check sizes (nor the entry's kind). */
	feed(ALLOC_FREE, 0x10000, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 0x4000, 0, ALLOC_MMAP, 1);
}
END_TEST

START_TEST(test_temporary_representative_lowest_seq)
{
	/* §0: in temporary mode too, the matched member with the lowest seq represents the group. */
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 3, false);
	feed_full(ALLOC_MALLOC, 0xA0, 10, 1, 1, 0, 1);	/* seq 0, thread 1 */
	feed_full(ALLOC_CALLOC, 0xB0, 20, 1, 2, 0, 2);	/* seq 1, thread 2 */
	feed(ALLOC_FREE, 0xB0, 0, 0, 2);			/* matched first */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 1, 20, 1, ALLOC_CALLOC, 2);
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);			/* an earlier member */
	ck_assert_uint_eq(rows(&row), 1);
	check_row(&row[0], 1, 2, 30, 0, ALLOC_MALLOC, 1);
	ck_assert_uint_eq(row[0].generation, 1);
}
END_TEST

START_TEST(test_temporary_rows_sorted_by_seq)
{
	const struct report_row *row;

	r = report_new(REPORT_TEMPORARY, 5, false);
	feed(ALLOC_MALLOC, 0xA0, 1, 1, 1);	/* seq 0 */
	feed(ALLOC_MALLOC, 0xB0, 2, 2, 1);	/* seq 1 */
	feed(ALLOC_FREE, 0xB0, 0, 0, 1);	/* group of stack 2 created first */
	feed(ALLOC_FREE, 0xA0, 0, 0, 1);
	ck_assert_uint_eq(rows(&row), 2);
	check_row(&row[0], 1, 1, 1, 0, ALLOC_MALLOC, 1);
	check_row(&row[1], 2, 1, 2, 1, ALLOC_MALLOC, 1);
}
END_TEST

/*
 * Random mallocs, mmaps, frees and munmaps on three threads at a few
 * addresses, checked against a model that keeps each thread's N+1 most
 * recent allocations in a list and scans it newest first (§8.4).  The
 * thresholds cover a ring the report scans (8) and rings it finds frees
 * in through its address map (40, 1000), whose entries must follow the
 * allocations that leave the ring; mmap sizes vary, so that a munmap's
 * match is not always the newest allocation at its address.  The last
 * case spreads its addresses wider, so that the addresses left in the
 * map by allocations gone from the ring pile up and are cleared.
 */
#define TEMP_THREADS 3
#define TEMP_STACKS 4

struct model_recent {
	uint64_t address, size, seq;
	uint32_t stack;
	uint8_t allocator;
};

START_TEST(test_temporary_random_model)
{
	static const uint64_t thresholds[] = { 8, 40, 1000, 40, 1000 };
	uint64_t n = thresholds[_i];
	/* The last run gives the report hints (report_prefetch) for every record: they change nothing. */
	bool hints = _i == 4;
	uint64_t addresses = _i == 3 ? 16 * n + 2 : 2 * n + 2;
	struct model_recent *recent[TEMP_THREADS];
	size_t len[TEMP_THREADS] = { 0 };
	struct model_group expected[TEMP_STACKS];

	r = report_new(REPORT_TEMPORARY, n, false);
	rng_seed(99 + (uint64_t)_i);
	for (uint32_t t = 0; t < TEMP_THREADS; t++)
		recent[t] = calloc(n + 1, sizeof *recent[t]);
	for (uint32_t s = 0; s < TEMP_STACKS; s++)
		expected[s] = (struct model_group){ .seq = UINT64_MAX };
	for (uint64_t seq = 0; seq < 100000; seq++) {
		uint32_t t = (uint32_t)(rng() % TEMP_THREADS);
		uint64_t address = 0x1000 * (1 + rng() % addresses);
		uint64_t size = 0x1000 * (1 + rng() % 3);
		unsigned what = (unsigned)(rng() % 8);
		uint8_t allocator = what < 3 ? ALLOC_MALLOC : what < 4 ? ALLOC_MMAP :
		    what < 7 ? ALLOC_FREE : ALLOC_MUNMAP;

		if (hints) {
			/* Threads the report has not seen yet included. */
			report_prefetch(r, address, allocator, t + 1, REPORT_PREFETCH_FAR);
			report_prefetch(r, address, allocator, t, REPORT_PREFETCH_NEAR);
		}
		if (allocator == ALLOC_MALLOC || allocator == ALLOC_MMAP) {
			uint32_t stack = (uint32_t)(rng() % TEMP_STACKS);
			feed(allocator, address, size, stack, t);
			if (len[t] == n + 1)
				len[t]--;
			memmove(&recent[t][1], &recent[t][0], len[t] * sizeof *recent[t]);
			recent[t][0] = (struct model_recent){ address, size, seq, stack, allocator };
			len[t]++;
			continue;
		}
		feed(allocator, address, allocator == ALLOC_MUNMAP ? size : 0, 0, t);
		for (size_t k = 0; k < len[t]; k++) {
			const struct model_recent *e = &recent[t][k];
			if (e->address != address || (allocator == ALLOC_MUNMAP && e->size != size))
				continue;
			model_add(&expected[e->stack], e->size, e->seq, t, e->allocator);
			break;
		}
	}
	check_against_model(expected, TEMP_STACKS);
	for (uint32_t t = 0; t < TEMP_THREADS; t++)
		free(recent[t]);
}
END_TEST

/*
 * Temporary mode asks for hints once rings with an index (more than 32
 * allocations) hold 250,000 allocations between them, and not for rings
 * that stay smaller, however many records pass.
 */
START_TEST(test_temporary_hints_for_large_rings)
{
	r = report_new(REPORT_TEMPORARY, 100000, false);
	for (uint64_t i = 0; i < 250000; i++) {
		ck_assert(!report_takes_hints(r));
		feed(ALLOC_MALLOC, 0x1000 + 16 * i, 8, 0, (uint32_t)(i % 3));
	}
	ck_assert(report_takes_hints(r));
	report_free(r);
	r = report_new(REPORT_TEMPORARY, 1000, false);
	for (uint64_t i = 0; i < 300000; i++)
		feed(ALLOC_MALLOC, 0x1000 + 16 * i, 8, 0, (uint32_t)(i % 3));
	ck_assert(!report_takes_hints(r));
}
END_TEST

/* ---- aggregated files ---------------------------------------------- */

static void
aggregated(uint8_t allocator, uint64_t size, uint32_t stack, uint32_t thread, uint64_t n)
{
	struct alloc_event ev = {
		.address = 0, .size = size, .native_id = 0, .stack = stack, .thread = thread,
		.generation = 0, .allocator = allocator,
	};

	report_aggregated(r, &ev, n);
}

START_TEST(test_aggregated_sums_counts_f2)
{
	/*
	 * §8.5 with fix F2: (n=3, 300 B) + (n=4, 400 B) at one stack give
	 * n_allocations 7 (stock memray: 4) and 700 bytes.  Records with n=0
	 * are skipped and take no sequence number.
	 */
	const struct report_row *row;

	for (int mode = REPORT_PEAK; mode <= REPORT_LEAKS; mode++) {
		r = report_new((enum report_mode)mode, 0, false);
		aggregated(ALLOC_MALLOC, 300, 1, 1, 3);		/* seq 0 */
		aggregated(ALLOC_CALLOC, 5, 2, 2, 0);		/* skipped */
		aggregated(ALLOC_CALLOC, 400, 1, 2, 4);		/* seq 1 */
		aggregated(ALLOC_MMAP, 0, 3, 3, 1);		/* seq 2 */
		ck_assert_uint_eq(rows(&row), 2);
		check_row(&row[0], 1, 7, 700, 0, ALLOC_MALLOC, 1);
		check_row(&row[1], 3, 1, 0, 2, ALLOC_MMAP, 3);
		report_free(r);
		r = NULL;
	}
}
END_TEST

/* ---- --split-threads (report_new's split_threads) ------------------ */

/*
 * Groups are keyed by (stack, native id, thread), so no row ever holds two
 * threads' allocations, in every mode and for aggregated files; the
 * representative is still the group's earliest member; without the option
 * a stack shared by threads is one row.
 */

static void
malloc_in(uint32_t thread, uint64_t address, uint64_t size, uint32_t stack)
{
	feed(ALLOC_MALLOC, address, size, stack, thread);
}

static void
free_in(uint32_t thread, uint64_t address)
{
	feed(ALLOC_FREE, address, 0, 0, thread);
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
	check_row(&row[0], 7, 1, 10, 0, ALLOC_MALLOC, 1);
	check_row(&row[1], 7, 2, 25, 1, ALLOC_MALLOC, 2);
	check_row(&row[2], 7, 1, 30, 2, ALLOC_MALLOC, 3);
	check_row(&row[3], 8, 1, 1, 4, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_peak_not_split)
{
	/* The same records without the option: one row per stack, the earliest member's thread. */
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, false);
	shared_stack();
	ck_assert_uint_eq(report_rows(r, &row), 2);
	check_row(&row[0], 7, 4, 65, 0, ALLOC_MALLOC, 1);
	check_row(&row[1], 8, 1, 1, 4, ALLOC_MALLOC, 1);
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
	check_row(&row[1], 7, 2, 25, 1, ALLOC_MALLOC, 2);
	check_row(&row[2], 7, 1, 30, 2, ALLOC_MALLOC, 3);
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
	check_row(&row[0], 7, 1, 10, 0, ALLOC_MALLOC, 1);
	check_row(&row[1], 7, 1, 5, 3, ALLOC_MALLOC, 2);
	check_row(&row[2], 8, 1, 1, 4, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_native_id_still_in_key)
{
	const struct report_row *row;

	r = report_new(REPORT_LEAKS, 0, true);
	feed_full(ALLOC_MALLOC, 0x100, 1, 7, 1, 11, 0);
	feed_full(ALLOC_MALLOC, 0x200, 2, 7, 1, 12, 0);
	feed_full(ALLOC_MALLOC, 0x300, 4, 7, 1, 11, 0);
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
	check_row(&row[0], 7, 2, 50, 0, ALLOC_MALLOC, 1);
	check_row(&row[1], 7, 1, 20, 1, ALLOC_MALLOC, 2);
	report_free(r);

	r = report_new(REPORT_TEMPORARY, 1, false);
	malloc_in(1, 0x100, 10, 7);
	malloc_in(2, 0x200, 20, 7);
	free_in(2, 0x200);
	free_in(1, 0x100);
	ck_assert_uint_eq(report_rows(r, &row), 1);
	check_row(&row[0], 7, 2, 30, 0, ALLOC_MALLOC, 1);
}
END_TEST

START_TEST(test_aggregated_split)
{
	const struct report_row *row;

	r = report_new(REPORT_PEAK, 0, true);
	aggregated(ALLOC_MALLOC, 300, 7, 2, 3);	/* seq 0 */
	aggregated(ALLOC_MALLOC, 100, 7, 1, 1);	/* seq 1 */
	aggregated(ALLOC_MALLOC, 400, 7, 2, 4);	/* seq 2 */
	ck_assert_uint_eq(report_rows(r, &row), 2);
	check_row(&row[0], 7, 7, 700, 0, ALLOC_MALLOC, 2);
	check_row(&row[1], 7, 1, 100, 1, ALLOC_MALLOC, 1);
	report_free(r);

	r = report_new(REPORT_LEAKS, 0, false);
	aggregated(ALLOC_MALLOC, 300, 7, 2, 3);
	aggregated(ALLOC_MALLOC, 100, 7, 1, 1);
	ck_assert_uint_eq(report_rows(r, &row), 1);
	check_row(&row[0], 7, 4, 400, 0, ALLOC_MALLOC, 2);
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
report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc;

	tc = tcase_create("peak");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_peak_empty);
	tcase_add_test(tc, test_peak_tie_goes_to_latest);
	tcase_add_test(tc, test_peak_state_kept_after_peak);
	tcase_add_test(tc, test_peak_group_changed_twice_after_peak);
	tcase_add_test(tc, test_peak_young_freed_newest_first);
	tcase_add_test(tc, test_peak_replace_live_address);
	tcase_add_test(tc, test_peak_replace_in_same_group);
	suite_add_tcase(s, tc);

	tc = tcase_create("groups");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_representative_earliest_member_f1);
	tcase_add_test(tc, test_representative_after_head_freed);
	tcase_add_test(tc, test_representative_skips_dead_successor);
	tcase_add_loop_test(tc, test_representative_random_frees, 0, 4);
	tcase_add_loop_test(tc, test_young_change_nothing, 0, 2);
	tcase_add_test(tc, test_hints_change_nothing);
	tcase_add_test(tc, test_group_key_stack_and_native_id);
	tcase_add_test(tc, test_group_key_without_native_id);
	tcase_add_test(tc, test_rows_sorted_by_seq);
	suite_add_tcase(s, tc);

	tc = tcase_create("mmap");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mmap_split_counts_two);
	tcase_add_test(tc, test_mmap_peak_accounting);
	tcase_add_test(tc, test_mmap_split_at_peak_then_freed);
	suite_add_tcase(s, tc);

	tc = tcase_create("leaks");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_leaks);
	tcase_add_test(tc, test_leaks_replace_live_address);
	tcase_add_test(tc, test_leaks_block_outlives_young_ring);
	tcase_add_test(tc, test_thread_live_at_reused_address);
	suite_add_tcase(s, tc);

	tc = tcase_create("temporary");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_temporary_basic);
	tcase_add_test(tc, test_temporary_double_count);
	tcase_add_test(tc, test_temporary_other_thread_never_matches);
	tcase_add_test(tc, test_temporary_threshold_window);
	tcase_add_test(tc, test_temporary_newest_match_first);
	tcase_add_test(tc, test_temporary_munmap_needs_equal_size);
	tcase_add_test(tc, test_temporary_representative_lowest_seq);
	tcase_add_test(tc, test_temporary_rows_sorted_by_seq);
	tcase_add_loop_test(tc, test_temporary_random_model, 0, 5);
	tcase_add_test(tc, test_temporary_hints_for_large_rings);
	suite_add_tcase(s, tc);

	tc = tcase_create("aggregated");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_aggregated_sums_counts_f2);
	suite_add_tcase(s, tc);

	tc = tcase_create("split_threads");
	tcase_add_checked_fixture(tc, setup, teardown);
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
	return run_suite(report_suite());
}
