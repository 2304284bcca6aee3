/*
 * allocator: memray's allocator ids, their names and kinds.
 *
 * The numbering is that of capture format 12 and 13 (doc/capture-format.md §7);
 * older formats are renumbered by the record decoder.  The kind decides
 * both how a record is encoded and what it does to the live set.
 */
#ifndef MT_ALLOCATOR_H
#define MT_ALLOCATOR_H

#include <stdbool.h>
#include <stdint.h>

enum allocator_kind {
	ALLOCATOR_INVALID = 0,
	SIMPLE_ALLOCATOR,	/* malloc and friends: one live block */
	SIMPLE_DEALLOCATOR,	/* free: removes a block by address */
	RANGED_ALLOCATOR,	/* mmap: a live address range */
	RANGED_DEALLOCATOR	/* munmap: removes a range from every mapping */
};

enum allocator_id {
	ALLOC_PYMALLOC_FREE = 1,
	ALLOC_PYMALLOC_MALLOC = 2,
	ALLOC_PYMALLOC_CALLOC = 3,
	ALLOC_PYMALLOC_REALLOC = 4,
	ALLOC_FREE = 5,
	ALLOC_MALLOC = 6,
	ALLOC_REALLOC = 7,
	ALLOC_CALLOC = 8,
	ALLOC_POSIX_MEMALIGN = 9,
	ALLOC_ALIGNED_ALLOC = 10,
	ALLOC_MEMALIGN = 11,
	ALLOC_VALLOC = 12,
	ALLOC_PVALLOC = 13,
	ALLOC_MMAP = 14,
	ALLOC_MUNMAP = 15,
	ALLOCATOR_MAX = 15
};

/*
 * Kinds by id, for every byte an id can be (ALLOCATOR_INVALID, 0, outside
 * 1..15); see allocator_kind.
 */
extern const uint8_t allocator_kinds[UINT8_MAX + 1];

/*
 * The kind of allocator id, ALLOCATOR_INVALID for an id outside 1..15.
 * Inline: every allocation record asks it, several times (in the decoder,
 * in following the capture, in the handover to the report and in the
 * report); a table of every byte spares each a bounds check.
 */
static inline enum allocator_kind
allocator_kind(uint8_t id)
{
	return (enum allocator_kind)allocator_kinds[id];
}

/* The name memray's CSV uses (AllocatorType(id).name), e.g. "MALLOC". */
const char *allocator_name(unsigned id);

static inline bool
allocator_is_deallocator(enum allocator_kind kind)
{
	return kind == SIMPLE_DEALLOCATOR || kind == RANGED_DEALLOCATOR;
}

static inline bool
allocator_is_ranged(enum allocator_kind kind)
{
	return kind == RANGED_ALLOCATOR || kind == RANGED_DEALLOCATOR;
}

/*
 * allocator_is_ranged(allocator_kind(id)) for a valid id (1 to
 * ALLOCATOR_MAX), without the table: mmap and munmap are the last two
 * (a compare where a record is handed from thread to thread).
 */
static inline bool
allocator_id_is_ranged(uint8_t id)
{
	_Static_assert(ALLOC_MMAP == ALLOCATOR_MAX - 1 && ALLOC_MUNMAP == ALLOCATOR_MAX,
	    "the ranged allocators are the last ids");
	return id >= ALLOC_MMAP;
}

#endif
