/* u64index: 32-bit ids found by a caller-stored 64-bit key (see u64index.h). */
#include "u64index.h"

#include <stdlib.h>

#include "prefetch.h"
#include "random_seed.h"
#include "xmalloc.h"

#define INITIAL_CAPACITY 16

/*
 * The index grows past this many tenths full.  An insertion walks and
 * shifts the run to the next free slot, which grows as 1 / (1 - load)^2:
 * at 8 tenths, the default generated shape (100,000 live blocks) sat at
 * 76% and the index took a quarter of the report thread's instructions.
 * At 7: callgrind 3.8% fewer instructions there, one thread 0.86x the
 * time (least of 5, pinned to one cpu), and no more memory per live
 * block (bench/run's sweep: 57 -> 54 bytes).  At 5 and 6 no faster.
 */
#define MAX_LOAD_TENTHS 7

/* Distances from here on are all stored as this one, and asked of the key. */
#define INDEX_SATURATED 254

void
u64index_init(struct u64index *index,
    const uint64_t *(*key_at)(const void *ctx, uint32_t id), const void *ctx)
{
	*index = (struct u64index){ .seed = random_seed(), .key_at = key_at, .ctx = ctx };
}

/*
 * The slots' metas and ids lie in one table, all the metas then all the
 * ids: one mapping in huge pages and a tail of small ones (see xmalloc.c's
 * map_huge), not two.  As two, each with a huge page only partly used,
 * the index took up to 2 MiB more than its slots, and 4 MiB more while it
 * grew, in bench/run's sweep at 250,000 live blocks.
 */
#define SLOT_BYTES (sizeof(uint16_t) + sizeof(uint32_t))

/* The table of capacity slots that holds meta, its ids after its metas. */
static void
index_slots(struct u64index *index, size_t capacity)
{
	index->meta = xtable_new(capacity, SLOT_BYTES);
	index->ids = (uint32_t *)(index->meta + capacity);
	index->mask = capacity - 1;
}

void
u64index_free(struct u64index *index)
{
	xtable_free(index->meta, index->mask + 1, SLOT_BYTES);
	*index = (struct u64index){ .seed = index->seed, .key_at = index->key_at, .ctx = index->ctx };
}

/*
 * The seeded key multiplied, its high bits folded down onto the low ones
 * that choose the home slot.  Cheaper than u64map's mixing (two
 * multiplications, three shifts): callgrind, 2*10^6 records of the
 * default generated shape, peak, one thread, 1.0% fewer instructions.
 * On 700,000 keys in arithmetic progressions (strides 8 to 2^32, 67%
 * full) the mean distance from home stays within 0.73-1.01 (random keys:
 * 1.00); folding once (x ^ x >> 29) left strides of 1 MiB at 3.7, and
 * the high bits alone (Fibonacci hashing) strides of 16 at 40, as the
 * seed breaks the progressions.
 */
static inline uint64_t
index_hash(const struct u64index *index, uint64_t key)
{
	uint64_t x = (key ^ index->seed) * UINT64_C(0x9e3779b97f4a7c15);

	return x ^ x >> 20 ^ x >> 40;
}

/* The tag is the top byte of the hash; the home slot comes from its low bits. */
static inline unsigned
index_tag(uint64_t hash)
{
	return (unsigned)(hash >> 56);
}

static inline uint16_t
index_meta(unsigned tag, size_t distance)
{
	return (uint16_t)(tag << 8 | ((distance < INDEX_SATURATED ? distance : INDEX_SATURATED) + 1));
}

/* How far the entry in slot i is from its home slot. */
static inline size_t
index_distance(const struct u64index *index, size_t i)
{
	size_t d = (size_t)(index->meta[i] & 0xff) - 1;

	if (d < INDEX_SATURATED)
		return d;
	/* Only keys crafted to collide get this far: ask the key. */
	return (i - (index_hash(index, *index->key_at(index->ctx, index->ids[i])) & index->mask)) &
	    index->mask;
}

/*
 * Put an entry that is not in the index where it belongs: after the
 * entries of its run as far from their homes as it would be or further,
 * before those nearer theirs.  The entries from there to the first free
 * slot move one slot on, one further from home (Robin Hood: every run
 * stays ordered by home slot).
 */
static void
index_insert(struct u64index *index, uint64_t hash, uint32_t id)
{
	size_t i = hash & index->mask, d = 0, j;

	while (index->meta[i] != 0 && index_distance(index, i) >= d) {
		i = (i + 1) & index->mask;
		d++;
	}
	for (j = i; index->meta[j] != 0; j = (j + 1) & index->mask)
		continue;
	while (j != i) {
		size_t from = (j - 1) & index->mask;
		uint16_t m = index->meta[from];
		index->meta[j] = (m & 0xff) == INDEX_SATURATED + 1 ? m : (uint16_t)(m + 1);
		index->ids[j] = index->ids[from];
		j = from;
	}
	index->meta[i] = index_meta(index_tag(hash), d);
	index->ids[i] = id;
}

/*
 * index_grow reads the keys in the order of the old slots, each a cache
 * miss in the caller's array once that outgrows the caches: it asks for
 * the key this many slots on before it reads one.
 */
#define GROW_KEYS_AHEAD 16

static void
index_grow(struct u64index *index)
{
	uint16_t *old_meta = index->meta;
	uint32_t *old_ids = index->ids;
	size_t old_capacity = old_meta ? index->mask + 1 : 0;
	size_t capacity = old_meta ? xtable_capacity(old_capacity * 2, SLOT_BYTES) : INITIAL_CAPACITY;

	index_slots(index, capacity);
	for (size_t i = 0; i < old_capacity; i++) {
		if (i + GROW_KEYS_AHEAD < old_capacity && old_meta[i + GROW_KEYS_AHEAD] != 0)
			cache_prefetch(index->key_at(index->ctx, old_ids[i + GROW_KEYS_AHEAD]));
		if (old_meta[i] != 0)
			index_insert(index, index_hash(index, *index->key_at(index->ctx, old_ids[i])),
			    old_ids[i]);
	}
	xtable_free(old_meta, old_capacity, SLOT_BYTES);
}

/* index_find from distance INDEX_SATURATED on, where distances are asked of the keys. */
static size_t
index_find_far(const struct u64index *index, uint64_t key, unsigned tag, size_t i, size_t d)
{
	for (;; i = (i + 1) & index->mask, d++) {
		uint16_t m = index->meta[i];
		if (m == 0)
			return SIZE_MAX;
		size_t here = index_distance(index, i);
		if (here < d)
			return SIZE_MAX;
		if (here == d && m >> 8 == tag && *index->key_at(index->ctx, index->ids[i]) == key)
			return i;
	}
}

/*
 * The slot of key (whose hash is given) in an allocated index, or SIZE_MAX:
 * a free slot, or an entry nearer its home than key would be, ends the search.
 */
static inline size_t
index_find(const struct u64index *index, uint64_t key, uint64_t hash)
{
	unsigned tag = index_tag(hash);
	size_t i = hash & index->mask;

	/* The id of the slot is read next: fetch both cache lines at once. */
	cache_prefetch(&index->ids[i]);
	for (size_t d = 0; d < INDEX_SATURATED; i = (i + 1) & index->mask, d++) {
		uint16_t m = index->meta[i];
		/* Free slots store 0, and saturated distances exceed d: no need to know them. */
		if ((m & 0xff) < d + 1)
			return SIZE_MAX;
		if (m == index_meta(tag, d) && *index->key_at(index->ctx, index->ids[i]) == key)
			return i;
	}
	return index_find_far(index, key, tag, i, INDEX_SATURATED);
}

void
u64index_prefetch(const struct u64index *index, uint64_t key)
{
	if (index->meta == NULL)
		return;
	size_t i = index_hash(index, key) & index->mask;
	cache_prefetch(&index->meta[i]);
	cache_prefetch(&index->ids[i]);
}

bool
u64index_guess(const struct u64index *index, uint64_t key, uint32_t *id)
{
	if (index->meta == NULL)
		return false;
	uint64_t hash = index_hash(index, key);
	unsigned tag = index_tag(hash);
	size_t i = hash & index->mask;

	/* As index_find, up to the first slot whose key it would read. */
	for (size_t d = 0; d < INDEX_SATURATED; i = (i + 1) & index->mask, d++) {
		uint16_t m = index->meta[i];
		if ((m & 0xff) < d + 1)
			return false;
		if (m == index_meta(tag, d)) {
			*id = index->ids[i];
			return true;
		}
	}
	return false;
}

void
u64index_add(struct u64index *index, uint64_t key, uint32_t id)
{
	if (index->meta == NULL || (index->count + 1) * 10 > (index->mask + 1) * MAX_LOAD_TENTHS)
		index_grow(index);
	index_insert(index, index_hash(index, key), id);
	index->count++;
}

bool
u64index_remove(struct u64index *index, uint64_t key, uint32_t *id)
{
	size_t i = index->meta ? index_find(index, key, index_hash(index, key)) : SIZE_MAX;

	if (i == SIZE_MAX)
		return false;
	*id = index->ids[i];
	/* Backward shift: the entries after it move one slot nearer home, up to one at home. */
	for (;;) {
		size_t next = (i + 1) & index->mask;
		uint16_t m = index->meta[next];
		if ((m & 0xff) <= 1)	/* free, or at home */
			break;
		index->meta[i] = (m & 0xff) == INDEX_SATURATED + 1 ?
		    index_meta(m >> 8, index_distance(index, next) - 1) : (uint16_t)(m - 1);
		index->ids[i] = index->ids[next];
		i = next;
	}
	index->meta[i] = 0;
	index->count--;
	return true;
}
