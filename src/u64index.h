/*
 * u64index: 32-bit ids found by a 64-bit key that the caller stores with
 * each id, where key_at points.  A slot is 6 bytes (u64map's
 * is 16): per live allocation the report pays for its own record plus
 * 6 / load bytes, at most 70% full, and 18 / load while growing.
 *
 * Robin Hood linear probing: a slot holds its entry's distance from its
 * home slot and 8 more bits of the key's hash, so a lookup reads a key
 * (a cache miss in the caller's array) only for an entry with the same
 * home and tag, gives up as soon as the distances say the key would have
 * been met, and a removal shifts the entries after it back without
 * reading any key.  Keys are read for every entry when the table grows,
 * each asked of the cache some entries before it is read.
 */
#ifndef MT_U64INDEX_H
#define MT_U64INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct u64index {
	uint16_t *meta;		/* per slot: 0 if free, else tag << 8 | (distance + 1),
				   with distances of 254 and more stored as 254 */
	uint32_t *ids;
	size_t mask;		/* capacity - 1; capacity is a power of two */
	size_t count;
	uint64_t seed;		/* as u64map's */
	const uint64_t *(*key_at)(const void *ctx, uint32_t id);
	const void *ctx;
};

void u64index_init(struct u64index *index,
    const uint64_t *(*key_at)(const void *ctx, uint32_t id), const void *ctx);
void u64index_free(struct u64index *index);
/* File id under key, which is not in the index (*key_at(ctx, id) must be key). */
void u64index_add(struct u64index *index, uint64_t key, uint32_t id);
/* Remove the id filed under key; returns whether there was one and stores it. */
bool u64index_remove(struct u64index *index, uint64_t key, uint32_t *id);

/*
 * For a caller that knows the keys it will look up a few steps ahead:
 * u64index_prefetch asks for the slots where a search of key starts, and
 * a few steps later (they have arrived) u64index_guess names the id that
 * the search would read the key of first, without reading any key, so
 * that the caller can ask for that id's record too.  u64index_guess
 * returns false if the search would end without reading a key.
 */
void u64index_prefetch(const struct u64index *index, uint64_t key);
bool u64index_guess(const struct u64index *index, uint64_t key, uint32_t *id);

#endif
