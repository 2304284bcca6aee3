/*
 * test_u64map: the 64-bit-key hash map (u64map.h), including backward-shift
 * deletion on colliding and wrapping probe runs, checked against a plain
 * reference array.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "support.h"
#include "u64map.h"

/*
 * Keys whose hash has the given low `bits`: they share a home slot in any
 * table of up to 2^bits slots whose seed is 0 (see init_unseeded).
 */
static size_t
colliding_keys(uint64_t low, unsigned bits, uint64_t *keys, size_t n)
{
	uint64_t mask = (UINT64_C(1) << bits) - 1;
	size_t found = 0;

	for (uint64_t k = 1; found < n; k++) {
		if ((u64map_slot_hash(0, k) & mask) == low)
			keys[found++] = k;
	}
	return found;
}

/* A map whose slots follow the plain hash, so that colliding_keys collide in it. */
static void
init_unseeded(struct u64map *m)
{
	u64map_init(m);
	m->seed = 0;
}

START_TEST(test_empty)
{
	struct u64map m;
	uint32_t v = 99;

	u64map_init(&m);
	require_uint_eq(u64map_count(&m), 0);
	require(!u64map_get(&m, 0, &v));
	require(!u64map_get(&m, 12345, &v));
	require_uint_eq(v, 99);
	require(!u64map_remove(&m, 0, &v));
	require_uint_eq(v, 99);
	u64map_free(&m);
	/* Freed maps are empty and usable again. */
	require(!u64map_get(&m, 0, &v));
	require(u64map_insert(&m, 1, 2, NULL));
	require(u64map_get(&m, 1, &v));
	require_uint_eq(v, 2);
	u64map_free(&m);
}
END_TEST

START_TEST(test_insert_get_set_remove)
{
	struct u64map m;
	uint32_t v = 0, existing = 0;

	u64map_init(&m);
	require(u64map_insert(&m, 42, 7, &existing));
	require_uint_eq(u64map_count(&m), 1);
	require(u64map_get(&m, 42, &v));
	require_uint_eq(v, 7);
	require(!u64map_get(&m, 43, &v));

	/* A second insert keeps the first value and reports it. */
	require(!u64map_insert(&m, 42, 8, &existing));
	require_uint_eq(existing, 7);
	require(!u64map_insert(&m, 42, 9, NULL));
	require(u64map_get(&m, 42, &v));
	require_uint_eq(v, 7);
	require_uint_eq(u64map_count(&m), 1);

	/* set overwrites, and inserts when absent. */
	u64map_set(&m, 42, 100);
	require(u64map_get(&m, 42, &v));
	require_uint_eq(v, 100);
	require_uint_eq(u64map_count(&m), 1);
	u64map_set(&m, 43, 101);
	require_uint_eq(u64map_count(&m), 2);
	require(u64map_get(&m, 43, &v));
	require_uint_eq(v, 101);

	/* remove returns the value; a second remove finds nothing. */
	v = 0;
	require(u64map_remove(&m, 42, &v));
	require_uint_eq(v, 100);
	require_uint_eq(u64map_count(&m), 1);
	require(!u64map_get(&m, 42, &v));
	require(!u64map_remove(&m, 42, NULL));
	require(u64map_remove(&m, 43, NULL));
	require_uint_eq(u64map_count(&m), 0);

	/* And the key can come back. */
	require(u64map_insert(&m, 42, 5, NULL));
	require(u64map_get(&m, 42, &v));
	require_uint_eq(v, 5);
	u64map_free(&m);
}
END_TEST

START_TEST(test_special_keys)
{
	static const uint64_t keys[] = {
		0, 1, UINT64_MAX, UINT64_MAX - 1, UINT64_C(0x8000000000000000),
		UINT64_C(0x7f3a1c000b60), UINT64_C(1) << 32, 0xFFFFFFFF,
	};
	size_t n = sizeof keys / sizeof keys[0];
	struct u64map m;
	uint32_t v;

	u64map_init(&m);
	/* Key 0 is a key like any other, and value 0 is a value like any other. */
	require(!u64map_get(&m, 0, &v));
	for (size_t i = 0; i < n; i++)
		require(u64map_insert(&m, keys[i], (uint32_t)i, NULL));
	require_uint_eq(u64map_count(&m), n);
	for (size_t i = 0; i < n; i++) {
		require(u64map_get(&m, keys[i], &v));
		require_uint_eq(v, i);
	}
	require(!u64map_get(&m, 2, &v));
	require(u64map_remove(&m, 0, &v));
	require_uint_eq(v, 0);
	require(!u64map_get(&m, 0, &v));
	for (size_t i = 1; i < n; i++) {
		require(u64map_get(&m, keys[i], &v));
		require_uint_eq(v, i);
	}
	u64map_set(&m, UINT32_MAX, UINT32_MAX);
	require(u64map_get(&m, UINT32_MAX, &v));
	require_uint_eq(v, UINT32_MAX);
	u64map_free(&m);
}
END_TEST

START_TEST(test_many_keys_grow)
{
	enum { N = 100000 };
	struct u64map m;
	uint32_t v;

	u64map_init(&m);
	/* Sequential keys, and addresses 16 bytes apart: the patterns a heap gives. */
	for (uint32_t i = 0; i < N; i++) {
		require(u64map_insert(&m, i, i * 3, NULL));
		require(u64map_insert(&m, UINT64_C(0x7f0000000000) + (uint64_t)i * 16, i, NULL));
	}
	require_uint_eq(u64map_count(&m), 2 * N);
	/* At most 75% full. */
	ck_assert_uint_ge((m.mask + 1) * 3, u64map_count(&m) * 4);
	for (uint32_t i = 0; i < N; i++) {
		require(u64map_get(&m, i, &v));
		require_uint_eq(v, i * 3);
		require(u64map_get(&m, UINT64_C(0x7f0000000000) + (uint64_t)i * 16, &v));
		require_uint_eq(v, i);
	}
	require(!u64map_get(&m, N, &v));
	require(!u64map_get(&m, UINT64_C(0x7f0000000008), &v));
	/* Remove every other sequential key; all the rest stay reachable. */
	for (uint32_t i = 0; i < N; i += 2)
		require(u64map_remove(&m, i, NULL));
	require_uint_eq(u64map_count(&m), 2 * N - N / 2);
	for (uint32_t i = 0; i < N; i++) {
		bool present = u64map_get(&m, i, &v);
		require(present == (i % 2 == 1));
		if (present)
			require_uint_eq(v, i * 3);
		require(u64map_get(&m, UINT64_C(0x7f0000000000) + (uint64_t)i * 16, &v));
		require_uint_eq(v, i);
	}
	u64map_free(&m);
}
END_TEST

START_TEST(test_colliding_run_removal)
{
	/* 40 keys with one home slot (for tables up to 1024 slots): one long probe run. */
	enum { N = 40 };
	uint64_t keys[N];
	struct u64map m;
	uint32_t v;

	colliding_keys(5, 10, keys, N);
	for (size_t victim = 0; victim < N; victim++) {
		init_unseeded(&m);
		for (size_t i = 0; i < N; i++)
			require(u64map_insert(&m, keys[i], (uint32_t)i, NULL));
		ck_assert_uint_le(m.mask + 1, 1024);
		require(u64map_remove(&m, keys[victim], &v));
		require_uint_eq(v, victim);
		require_uint_eq(u64map_count(&m), N - 1);
		for (size_t i = 0; i < N; i++) {
			if (i == victim) {
				require(!u64map_get(&m, keys[i], &v));
				continue;
			}
			if (!u64map_get(&m, keys[i], &v))
				ck_abort_msg("key %zu lost after removing key %zu", i, victim);
			require_uint_eq(v, i);
		}
		u64map_free(&m);
	}

	/* Remove them all, in an order that is neither insertion order nor its reverse. */
	init_unseeded(&m);
	for (size_t i = 0; i < N; i++)
		u64map_set(&m, keys[i], (uint32_t)i);
	for (size_t step = 0; step < N; step++) {
		size_t k = (step * 17) % N;
		require(u64map_remove(&m, keys[k], &v));
		require_uint_eq(v, k);
		for (size_t later = step + 1; later < N; later++) {
			size_t j = (later * 17) % N;
			require(u64map_get(&m, keys[j], &v));
			require_uint_eq(v, j);
		}
	}
	require_uint_eq(u64map_count(&m), 0);
	u64map_free(&m);
}
END_TEST

START_TEST(test_wrapping_run_removal)
{
	/*
	 * Keys at home in the table's last slot, mixed with keys at home in
	 * slot 0 and 1, so probe runs wrap around the end of the table and
	 * deletion must shift members across it.
	 */
	uint64_t last[6], first[3], second[2];
	struct u64map m;
	uint32_t v;

	colliding_keys(1023, 10, last, 6);
	colliding_keys(0, 10, first, 3);
	colliding_keys(1, 10, second, 2);
	for (int victim = 0; victim < 11; victim++) {
		uint64_t all[11];
		size_t n = 0;

		init_unseeded(&m);
		/* Interleave so that wrapped members sit among home-0 and home-1 keys. */
		all[n++] = last[0];
		all[n++] = last[1];
		all[n++] = first[0];
		all[n++] = last[2];
		all[n++] = second[0];
		all[n++] = last[3];
		all[n++] = first[1];
		all[n++] = last[4];
		all[n++] = second[1];
		all[n++] = first[2];
		all[n++] = last[5];
		for (size_t i = 0; i < n; i++)
			require(u64map_insert(&m, all[i], (uint32_t)i + 1000, NULL));
		require_uint_eq(m.mask + 1, 16);	/* 11 keys fit the first table */
		require(u64map_remove(&m, all[victim], &v));
		require_uint_eq(v, (uint32_t)victim + 1000);
		for (size_t i = 0; i < n; i++) {
			if ((int)i == victim)
				continue;
			if (!u64map_get(&m, all[i], &v))
				ck_abort_msg("key %zu lost after removing key %d", i, victim);
			require_uint_eq(v, i + 1000);
		}
		/* Removing everything else leaves an empty, consistent table. */
		for (size_t i = 0; i < n; i++) {
			if ((int)i != victim)
				require(u64map_remove(&m, all[i], NULL));
		}
		require_uint_eq(u64map_count(&m), 0);
		for (size_t i = 0; i < m.mask + 1; i++)
			require_uint_eq(m.slots[i].used, 0);
		u64map_free(&m);
	}
}
END_TEST

/* The reference: a plain array indexed by key number. */
enum { UNIVERSE = 700 };

struct reference {
	bool present[UNIVERSE];
	uint32_t value[UNIVERSE];
	size_t count;
};

START_TEST(test_randomized_against_reference)
{
	/*
	 * A key universe of small integers, colliding keys and large values;
	 * 200000 random operations (test_steps), every result checked against the
	 * reference, and the whole map checked every 1000 operations.
	 */
	static uint64_t keys[UNIVERSE];
	static struct reference ref;
	struct u64map m;
	uint32_t v;

	rng_seed(UINT64_C(0x9E3779B97F4A7C15));
	for (size_t i = 0; i < 200; i++)
		keys[i] = i;
	colliding_keys(77, 12, keys + 200, 150);
	colliding_keys(4095, 12, keys + 350, 150);
	for (size_t i = 500; i < UNIVERSE; i++)
		keys[i] = rng() | UINT64_C(0x8000000000000000);
	init_unseeded(&m);
	for (size_t op = 0, ops = test_steps(200000); op < ops; op++) {
		size_t k = (size_t)(rng() % UNIVERSE);
		uint32_t val = (uint32_t)rng();
		unsigned kind = (unsigned)(rng() % 10);

		if (kind < 4) {
			uint32_t existing = 0;
			bool inserted = u64map_insert(&m, keys[k], val, &existing);
			require(inserted == !ref.present[k]);
			if (inserted) {
				ref.present[k] = true;
				ref.value[k] = val;
				ref.count++;
			} else {
				require_uint_eq(existing, ref.value[k]);
			}
		} else if (kind < 5) {
			u64map_set(&m, keys[k], val);
			if (!ref.present[k])
				ref.count++;
			ref.present[k] = true;
			ref.value[k] = val;
		} else if (kind < 8) {
			v = 0;
			bool removed = u64map_remove(&m, keys[k], &v);
			require(removed == ref.present[k]);
			if (removed) {
				require_uint_eq(v, ref.value[k]);
				ref.present[k] = false;
				ref.count--;
			}
		} else {
			bool found = u64map_get(&m, keys[k], &v);
			require(found == ref.present[k]);
			if (found)
				require_uint_eq(v, ref.value[k]);
		}
		require_uint_eq(u64map_count(&m), ref.count);
		if (op % 1000 == 999) {
			for (size_t i = 0; i < UNIVERSE; i++) {
				bool found = u64map_get(&m, keys[i], &v);
				if (found != ref.present[i])
					ck_abort_msg("op %zu: key %zu presence", op, i);
				if (found)
					require_uint_eq(v, ref.value[i]);
			}
		}
	}
	u64map_free(&m);
}
END_TEST

START_TEST(test_hash_mixes)
{
	/* The mixer is a bijection-like finalizer: distinct inputs spread over the low bits. */
	require_uint_eq(u64map_hash(0), 0);
	ck_assert_uint_ne(u64map_hash(1), 1);
	unsigned buckets[16] = { 0 };
	for (uint64_t k = 0; k < 1600; k++)
		buckets[u64map_hash(k * 4096) & 15]++;
	for (int i = 0; i < 16; i++)
		ck_assert_uint_gt(buckets[i], 50);
}
END_TEST

/*
 * A table from u64map_init has a seed of its own: keys crafted to share a
 * home slot under the plain hash (as a capture could choose its code ids
 * or addresses) spread out, so no probe run grows long.
 */
START_TEST(test_seed_spreads_crafted_keys)
{
	enum { N = 200 };
	uint64_t keys[N];
	struct u64map m;
	size_t longest = 0;

	colliding_keys(5, 10, keys, N);
	u64map_init(&m);
	for (size_t i = 0; i < N; i++)
		require(u64map_insert(&m, keys[i], (uint32_t)i, NULL));
	for (size_t i = 0; i <= m.mask; i++) {
		if (!m.slots[i].used)
			continue;
		size_t home = u64map_slot_hash(m.seed, m.slots[i].key) & m.mask;
		size_t displacement = (i - home) & m.mask;
		if (displacement > longest)
			longest = displacement;
	}
	/* Unseeded, the last of them would sit N - 1 slots from home. */
	ck_assert_uint_lt(longest, 32);
	u64map_free(&m);
}
END_TEST

static Suite *
u64map_suite(void)
{
	Suite *s = suite_create("u64map");
	TCase *tc;

	tc = tcase_create("basic");
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_insert_get_set_remove);
	tcase_add_test(tc, test_special_keys);
	tcase_add_test(tc, test_hash_mixes);
	suite_add_tcase(s, tc);

	tc = tcase_create("collisions");
	tcase_add_test(tc, test_many_keys_grow);
	tcase_add_test(tc, test_colliding_run_removal);
	tcase_add_test(tc, test_wrapping_run_removal);
	tcase_add_test(tc, test_seed_spreads_crafted_keys);
	suite_add_tcase(s, tc);

	tc = tcase_create("randomized");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_randomized_against_reference);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(u64map_suite());
}
