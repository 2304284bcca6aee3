/*
 * test_live_mappings: the pieces of live mmaps and what a munmap does to
 * them (live_mappings.h): ids given and given again, a split's new piece,
 * changes in memray's order (by mmap, not by address), munmaps that cut
 * nothing or reach the end of the address space, and what a record is
 * told (live_mappings_follow).
 */
#include <check.h>
#include <stdint.h>

#include "live_mappings.h"
#include "support.h"

static struct live_mappings m;

static void
setup(void)
{
	live_mappings_init(&m);
}

static void
teardown(void)
{
	live_mappings_free(&m);
}

static void
check_change(const struct mapping_change *c, enum interval_change kind, uint32_t piece,
    uint32_t new_piece, uint64_t removed)
{
	ck_assert_int_eq(c->kind, kind);
	ck_assert_uint_eq(c->piece, piece);
	ck_assert_uint_eq(c->new_piece, new_piece);
	ck_assert_uint_eq(c->removed, removed);
}

/* A munmap that must change exactly one piece: that change. */
static const struct mapping_change *
unmap_one(uint64_t address, uint64_t size)
{
	size_t n;
	const struct mapping_change *c = live_mappings_unmap(&m, address, size, &n);

	ck_assert_uint_eq(n, 1);
	return c;
}

START_TEST(test_dropped_ids_are_given_again)
{
	ck_assert_uint_eq(live_mappings_map(&m, 0x10000, 0x2000), 0);
	ck_assert_uint_eq(live_mappings_map(&m, 0x20000, 0x1000), 1);
	check_change(unmap_one(0x10000, 0x2000), INTERVAL_DROPPED, 0, NO_PIECE, 0x2000);
	ck_assert_uint_eq(live_mappings_map(&m, 0x30000, 0x1000), 0);
	ck_assert_uint_eq(live_mappings_map(&m, 0x40000, 0x1000), 2);
}
END_TEST

START_TEST(test_split_makes_a_piece)
{
	ck_assert_uint_eq(live_mappings_map(&m, 0x10000, 0x10000), 0);
	check_change(unmap_one(0x14000, 0x1000), INTERVAL_SPLIT, 0, 1, 0x1000);
	/* The new piece is the part after the hole: [0x15000, 0x20000). */
	check_change(unmap_one(0x15000, 0xb000), INTERVAL_DROPPED, 1, NO_PIECE, 0xb000);
	check_change(unmap_one(0x13000, 0x1000), INTERVAL_SHRUNK, 0, NO_PIECE, 0x1000);
}
END_TEST

START_TEST(test_changes_in_mmap_order)
{
	size_t n;

	/* The later mmap lies lower: its change still comes second. */
	ck_assert_uint_eq(live_mappings_map(&m, 0x8000, 0x2000), 0);
	ck_assert_uint_eq(live_mappings_map(&m, 0x6000, 0x2000), 1);
	const struct mapping_change *c = live_mappings_unmap(&m, 0x7000, 0x2000, &n);
	ck_assert_uint_eq(n, 2);
	check_change(&c[0], INTERVAL_SHRUNK, 0, NO_PIECE, 0x1000);
	check_change(&c[1], INTERVAL_SHRUNK, 1, NO_PIECE, 0x1000);
	/* Both go whole; the ids come back last dropped first. */
	c = live_mappings_unmap(&m, 0x6000, 0x4000, &n);
	ck_assert_uint_eq(n, 2);
	check_change(&c[0], INTERVAL_DROPPED, 0, NO_PIECE, 0x1000);
	check_change(&c[1], INTERVAL_DROPPED, 1, NO_PIECE, 0x1000);
	ck_assert_uint_eq(live_mappings_map(&m, 0x1000, 0x1000), 1);
	ck_assert_uint_eq(live_mappings_map(&m, 0x2000, 0x1000), 0);
}
END_TEST

START_TEST(test_nothing_cut)
{
	size_t n;

	live_mappings_map(&m, 0x10000, 0x1000);
	live_mappings_unmap(&m, 0x11000, 0x1000, &n);
	ck_assert_uint_eq(n, 0);
	live_mappings_unmap(&m, 0x20000, 0, &n);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_range_at_the_end)
{
	/* address + size wraps: the range ends at UINT64_MAX (excluded), the cut too. */
	ck_assert_uint_eq(live_mappings_map(&m, UINT64_MAX - 0xfff, 0x2000), 0);
	check_change(unmap_one(UINT64_MAX - 0x7ff, 0x1000), INTERVAL_SHRUNK, 0, NO_PIECE, 0x7ff);
}
END_TEST

/* A record's note: a piece for an mmap of bytes, changes for a munmap, nothing without a live set. */
START_TEST(test_follow)
{
	struct mapping_note note = live_mappings_follow(&m, false, 0x10000, 0x2000);
	ck_assert_uint_eq(note.piece, 0);
	ck_assert_uint_eq(note.n_changes, 0);
	note = live_mappings_follow(&m, false, 0x20000, 0);
	ck_assert_uint_eq(note.piece, NO_PIECE);
	note = live_mappings_follow(&m, true, 0x10000, 0x1000);
	ck_assert_uint_eq(note.piece, NO_PIECE);
	ck_assert_uint_eq(note.n_changes, 1);
	check_change(&note.changes[0], INTERVAL_SHRUNK, 0, NO_PIECE, 0x1000);
	note = live_mappings_follow(NULL, false, 0x30000, 0x1000);
	ck_assert_uint_eq(note.piece, NO_PIECE);
	note = live_mappings_follow(NULL, true, 0x11000, 0x1000);
	ck_assert_uint_eq(note.n_changes, 0);
	ck_assert_ptr_null(note.changes);
	/* The live set saw neither: the rest of the first mmap is still there, whole. */
	check_change(unmap_one(0x11000, 0x1000), INTERVAL_DROPPED, 0, NO_PIECE, 0x1000);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("live_mappings");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dropped_ids_are_given_again);
	tcase_add_test(tc, test_split_makes_a_piece);
	tcase_add_test(tc, test_changes_in_mmap_order);
	tcase_add_test(tc, test_nothing_cut);
	tcase_add_test(tc, test_range_at_the_end);
	tcase_add_test(tc, test_follow);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
