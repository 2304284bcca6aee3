/* u64map: a hash map from 64-bit keys to 32-bit values (see u64map.h). */
#include "u64map.h"

#include <stdlib.h>
#include <string.h>

#include "prefetch.h"
#include "random_seed.h"
#include "xmalloc.h"

#define INITIAL_CAPACITY 16

void
u64map_init(struct u64map *map)
{
	*map = (struct u64map){ .seed = random_seed() };
}

/* Empty again, keeping the seed: a table freed to be refilled needs no new one. */
void
u64map_free(struct u64map *map)
{
	xtable_free(map->slots, map->mask + 1, sizeof *map->slots);
	*map = (struct u64map){ .seed = map->seed };
}

void
u64map_clear(struct u64map *map)
{
	if (map->slots != NULL)
		memset(map->slots, 0, (map->mask + 1) * sizeof *map->slots);
	map->count = 0;
}

static inline size_t
find_slot(const struct u64map *map, uint64_t key)
{
	size_t i = u64map_slot_hash(map->seed, key) & map->mask;

	while (map->slots[i].used && map->slots[i].key != key)
		i = (i + 1) & map->mask;
	return i;
}

static void
grow(struct u64map *map)
{
	struct u64map_slot *old = map->slots;
	size_t old_capacity = old ? map->mask + 1 : 0;
	size_t capacity = old ? xtable_capacity(old_capacity * 2, sizeof *map->slots) : INITIAL_CAPACITY;

	map->slots = xtable_new(capacity, sizeof *map->slots);
	map->mask = capacity - 1;
	for (size_t i = 0; i < old_capacity; i++) {
		if (old[i].used)
			map->slots[find_slot(map, old[i].key)] = old[i];
	}
	xtable_free(old, old_capacity, sizeof *old);
}

bool
u64map_get(const struct u64map *map, uint64_t key, uint32_t *value)
{
	if (map->slots == NULL)
		return false;
	size_t i = find_slot(map, key);
	if (!map->slots[i].used)
		return false;
	*value = map->slots[i].value;
	return true;
}

void
u64map_prefetch(const struct u64map *map, uint64_t key)
{
	if (map->slots != NULL)
		cache_prefetch(&map->slots[u64map_slot_hash(map->seed, key) & map->mask]);
}

/* The slot of key, or the free slot where it goes, growing the map first if needed. */
static inline size_t
slot_for_insert(struct u64map *map, uint64_t key)
{
	if (map->slots == NULL || (map->count + 1) * 4 > (map->mask + 1) * 3)
		grow(map);
	return find_slot(map, key);
}

bool
u64map_insert(struct u64map *map, uint64_t key, uint32_t value, uint32_t *existing)
{
	size_t i = slot_for_insert(map, key);
	if (map->slots[i].used) {
		if (existing != NULL)
			*existing = map->slots[i].value;
		return false;
	}
	map->slots[i] = (struct u64map_slot){ .key = key, .value = value, .used = 1 };
	map->count++;
	return true;
}

void
u64map_set(struct u64map *map, uint64_t key, uint32_t value)
{
	size_t i = slot_for_insert(map, key);
	if (!map->slots[i].used)
		map->count++;
	map->slots[i] = (struct u64map_slot){ .key = key, .value = value, .used = 1 };
}

bool
u64map_remove(struct u64map *map, uint64_t key, uint32_t *value)
{
	if (map->slots == NULL)
		return false;
	size_t hole = find_slot(map, key);
	if (!map->slots[hole].used)
		return false;
	if (value != NULL)
		*value = map->slots[hole].value;
	/*
	 * Backward-shift deletion: move later members of the probe run into
	 * the hole when their home slot does not lie between the hole and
	 * their current slot (cyclically).
	 */
	size_t i = hole;
	for (;;) {
		i = (i + 1) & map->mask;
		if (!map->slots[i].used)
			break;
		size_t home = u64map_slot_hash(map->seed, map->slots[i].key) & map->mask;
		if (((i - home) & map->mask) >= ((i - hole) & map->mask)) {
			map->slots[hole] = map->slots[i];
			hole = i;
		}
	}
	map->slots[hole].used = 0;
	map->count--;
	return true;
}
