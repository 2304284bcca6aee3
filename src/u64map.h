/*
 * u64map: a hash map from 64-bit keys to 32-bit values.
 *
 * The one hash table of the program: threads by tid, code objects by id,
 * stack-trie children and report groups all map a 64-bit key to an index
 * into an array of their own.  Open addressing with linear probing and
 * backward-shift deletion keeps a lookup at one cache line and the table
 * free of tombstones, so a capture that allocates and frees for hours never
 * degrades it.  16 bytes a slot, at most 75% full.
 *
 * u64index (u64index.h) is the table for the one big set, the live
 * allocations by address, whose records keep their key themselves.
 */
#ifndef MT_U64MAP_H
#define MT_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64map_slot {
	uint64_t key;
	uint32_t value;
	uint32_t used;
};

struct u64map {
	struct u64map_slot *slots;
	size_t mask;		/* capacity - 1; capacity is a power of two */
	size_t count;
	uint64_t seed;		/* of the slot positions: see u64map_slot_hash */
};

void u64map_init(struct u64map *map);
void u64map_free(struct u64map *map);
/* Empty again, keeping the table's size: for a map about to be refilled as far. */
void u64map_clear(struct u64map *map);

/* The 64-bit mixing function the map uses; also for combining keys. */
static inline uint64_t
u64map_hash(uint64_t x)
{
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	x *= UINT64_C(0xc4ceb9fe1a85ec53);
	x ^= x >> 33;
	return x;
}

/*
 * Where a table puts key: a hash of the key and the table's seed, which
 * init draws from random_seed() (0, in a table that was only zeroed, gives
 * the plain hash).  The capture chooses many keys (addresses, code ids,
 * thread ids); with the plain hash, which is invertible, it could give
 * them all one home slot and make every lookup walk all of them.
 */
static inline uint64_t
u64map_slot_hash(uint64_t seed, uint64_t key)
{
	return u64map_hash(key ^ seed);
}

/* Whether key is present; if so, its value is stored in *value. */
bool u64map_get(const struct u64map *map, uint64_t key, uint32_t *value);
/*
 * Insert key with value unless it is present.  Returns true if inserted;
 * otherwise stores the present value in *existing (which may be NULL).
 */
bool u64map_insert(struct u64map *map, uint64_t key, uint32_t value, uint32_t *existing);
/* Insert or overwrite. */
void u64map_set(struct u64map *map, uint64_t key, uint32_t value);
/* Remove key; returns whether it was present and stores its value. */
bool u64map_remove(struct u64map *map, uint64_t key, uint32_t *value);
/* Ask for the cache line where a lookup of key starts, for a lookup soon. */
void u64map_prefetch(const struct u64map *map, uint64_t key);

static inline size_t
u64map_count(const struct u64map *map)
{
	return map->count;
}

/*
 * Interning by hash: a map keyed by a 64-bit hash of a longer key (a
 * string, a frame, a tuple of fields), whose values index the caller's
 * array of the keys.  Two keys may share a hash: a collision takes the next
 * free hash value, and as nothing is ever removed from such a map, a lookup
 * may stop at the first free one.
 *
 * Returns true and stores in *index the entry for which is_key(ctx, index)
 * holds; otherwise returns false and stores in *free_hash the value to file
 * a new entry under (with u64map_set).  Inline, so that a static is_key is
 * called directly in the hot paths that use this (report groups and
 * origins).
 */
static inline bool
u64map_find_interned(const struct u64map *map, uint64_t hash,
    bool (*is_key)(const void *ctx, uint32_t index), const void *ctx, uint32_t *index,
    uint64_t *free_hash)
{
	uint32_t found;

	for (;; hash++) {
		if (!u64map_get(map, hash, &found)) {
			*free_hash = hash;
			return false;
		}
		if (is_key(ctx, found)) {
			*index = found;
			return true;
		}
	}
}

#endif
