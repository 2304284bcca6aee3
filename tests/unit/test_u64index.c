/*
 * test_u64index: the index of caller-keyed ids (u64index.h),
 * checked against a plain reference array: random adds and removes,
 * growth, and keys crafted to share a home slot (long runs, distances
 * past the saturated byte, wrapping at the end of the table).
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "support.h"
#include "u64index.h"

#define MAX_IDS 200000

/* The caller's records: id -> key. */
static uint64_t keys[MAX_IDS];

static const uint64_t *
key_at(const void *ctx, uint32_t id)
{
	const uint64_t *k = ctx;

	return &k[id];
}

START_TEST(test_basic)
{
	struct u64index ix;
	uint32_t id = 7;

	u64index_init(&ix, key_at, keys);
	require(!u64index_remove(&ix, 5, &id));
	require_uint_eq(id, 7);
	keys[2] = 5;
	u64index_add(&ix, 5, 2);
	require_uint_eq(ix.count, 1);
	keys[3] = 0;
	u64index_add(&ix, 0, 3);
	require(u64index_remove(&ix, 5, &id));
	require_uint_eq(id, 2);
	require(!u64index_remove(&ix, 5, &id));
	require(u64index_remove(&ix, 0, &id));
	require_uint_eq(id, 3);
	require_uint_eq(ix.count, 0);
	u64index_free(&ix);
	require(!u64index_remove(&ix, 0, &id));
}
END_TEST

/*
 * u64index_guess names, without reading keys, an id that a search would
 * check: in a table with no entries of the same home and tag, the key's
 * own.  An empty table, or a key not filed whose home is free, has none.
 */
START_TEST(test_guess)
{
	struct u64index ix;
	uint32_t id = 7;

	u64index_init(&ix, key_at, keys);
	/*
	 * The seed is random: under about one in 700, two of the keys
	 * below share a home slot and a tag.  Under this one they do not.
	 */
	ix.seed = 1;
	require(!u64index_guess(&ix, 5, &id));
	u64index_prefetch(&ix, 5);	/* no table: nothing to ask for */
	for (uint32_t i = 0; i < 4; i++) {
		keys[i] = 1000 + i;
		u64index_add(&ix, keys[i], i);
	}
	for (uint32_t i = 0; i < 4; i++) {
		u64index_prefetch(&ix, keys[i]);
		require(u64index_guess(&ix, keys[i], &id));
		require_uint_eq(id, i);
	}
	for (uint32_t i = 0; i < 4; i++)
		require(u64index_remove(&ix, keys[i], &id));
	require(!u64index_guess(&ix, 1000, &id));
	u64index_free(&ix);
}
END_TEST

/*
 * Keys whose hash has the given low bits: one home slot in tables up to
 * 2^bits whose seed is 0 (as the test sets it after u64index_init).
 */
static size_t
colliding(uint64_t low, unsigned bits, uint64_t start, uint64_t *out, size_t n)
{
	uint64_t mask = (UINT64_C(1) << bits) - 1;
	size_t found = 0;

	for (uint64_t k = start; found < n; k++) {
		if ((u64map_slot_hash(0, k) & mask) == low)
			out[found++] = k;
	}
	return found;
}

/* Check that every live id is found and removed ones are not, by removing and adding them again. */
static void
check_all(struct u64index *ix, const bool *live, size_t n)
{
	for (size_t id = 0; id < n; id++) {
		uint32_t got;
		if (!live[id])
			continue;
		require(u64index_remove(ix, keys[id], &got));
		require_uint_eq(got, id);
		u64index_add(ix, keys[id], (uint32_t)id);
	}
}

START_TEST(test_long_colliding_runs)
{
	/* 600 keys sharing a home in tables up to 2^12 slots: distances pass 254. */
	static bool live[600];
	struct u64index ix;
	uint32_t id;
	uint64_t low = (uint64_t)_i * 4093 & 0xfff;	/* also near the end, so runs wrap */

	colliding(low, 12, 1, keys, 600);
	u64index_init(&ix, key_at, keys);
	ix.seed = 0;	/* the plain hash, under which the keys collide */
	for (uint32_t k = 0; k < 600; k++) {
		u64index_add(&ix, keys[k], k);
		live[k] = true;
	}
	check_all(&ix, live, 600);
	/* Remove every third, then the rest in reverse order. */
	for (uint32_t k = 0; k < 600; k += 3) {
		require(u64index_remove(&ix, keys[k], &id));
		require_uint_eq(id, k);
		live[k] = false;
	}
	check_all(&ix, live, 600);
	for (uint32_t k = 600; k-- > 0;) {
		require(u64index_remove(&ix, keys[k], &id) == live[k]);
		live[k] = false;
	}
	require_uint_eq(ix.count, 0);
	u64index_free(&ix);
}
END_TEST

START_TEST(test_randomized_against_reference)
{
	/* ids 0..n-1 stand for records; each has a key from a small universe, so keys repeat. */
	static bool live[MAX_IDS];
	static int32_t owner[1 << 16];	/* key slot -> id filed under it, -1 */
	struct u64index ix;
	size_t n = 0, count = 0;

	rng_seed(0x9e3779b97f4a7c15u + (uint64_t)_i);
	for (size_t k = 0; k < (1 << 16); k++)
		owner[k] = -1;
	u64index_init(&ix, key_at, keys);
	for (int step = 0; step < 400000 && n < MAX_IDS; step++) {
		/* Universe of 2^16 keys, spread (and with low bits 0, as addresses have). */
		unsigned k = (unsigned)(rng() % (1 << (10 + _i % 7)));
		uint64_t key = (uint64_t)k << 3 | UINT64_C(0x7f0000000000);
		uint32_t got = UINT32_MAX;
		if (rng() % 2) {
			/* As the report files a block: the one at its address, if any, goes first. */
			bool replaced = u64index_remove(&ix, key, &got);
			require(replaced == (owner[k] >= 0));
			if (replaced) {
				require_uint_eq(got, (uint32_t)owner[k]);
				live[owner[k]] = false;
			} else {
				count++;
			}
			keys[n] = key;
			u64index_add(&ix, key, (uint32_t)n);
			owner[k] = (int32_t)n;
			live[n++] = true;
		} else {
			bool removed = u64index_remove(&ix, key, &got);
			require(removed == (owner[k] >= 0));
			if (removed) {
				require_uint_eq(got, (uint32_t)owner[k]);
				live[owner[k]] = false;
				owner[k] = -1;
				count--;
			}
		}
		require_uint_eq(ix.count, count);
		/* Never more than 80% full. */
		require(ix.count * 5 <= (ix.mask + 1) * 4);
	}
	check_all(&ix, live, n);
	u64index_free(&ix);
}
END_TEST

/*
 * An index from u64index_init has a seed of its own: the keys crafted to
 * share a home slot under the plain hash (as a capture could choose its
 * addresses) spread out, with short distances from home.
 */
START_TEST(test_seed_spreads_crafted_keys)
{
	struct u64index ix;
	size_t longest = 0;

	colliding(7, 12, 1, keys, 600);
	u64index_init(&ix, key_at, keys);
	for (uint32_t k = 0; k < 600; k++)
		u64index_add(&ix, keys[k], k);
	for (size_t i = 0; i <= ix.mask; i++) {
		if (ix.meta[i] != 0 && (size_t)(ix.meta[i] & 0xff) - 1 > longest)
			longest = (size_t)(ix.meta[i] & 0xff) - 1;
	}
	/* Unseeded, distances pass the saturated 254 (test_long_colliding_runs). */
	ck_assert_uint_lt(longest, 64);
	u64index_free(&ix);
}
END_TEST

static Suite *
u64index_suite(void)
{
	Suite *s = suite_create("u64index");
	TCase *tc = tcase_create("u64index");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_guess);
	tcase_add_loop_test(tc, test_long_colliding_runs, 0, 3);
	tcase_add_test(tc, test_seed_spreads_crafted_keys);
	/* MT_LARGE_TESTS=1: 700 seeds. */
	tcase_add_loop_test(tc, test_randomized_against_reference, 0, (int)test_steps(7));
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(u64index_suite());
}
