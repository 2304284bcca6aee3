/* allocator: memray's allocator ids, their names and kinds (see allocator.h). */
#include "allocator.h"

static const struct {
	const char *name;
	enum allocator_kind kind;
} allocators[ALLOCATOR_MAX + 1] = {
	[ALLOC_PYMALLOC_FREE] = { "PYMALLOC_FREE", SIMPLE_DEALLOCATOR },
	[ALLOC_PYMALLOC_MALLOC] = { "PYMALLOC_MALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_PYMALLOC_CALLOC] = { "PYMALLOC_CALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_PYMALLOC_REALLOC] = { "PYMALLOC_REALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_FREE] = { "FREE", SIMPLE_DEALLOCATOR },
	[ALLOC_MALLOC] = { "MALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_REALLOC] = { "REALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_CALLOC] = { "CALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_POSIX_MEMALIGN] = { "POSIX_MEMALIGN", SIMPLE_ALLOCATOR },
	[ALLOC_ALIGNED_ALLOC] = { "ALIGNED_ALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_MEMALIGN] = { "MEMALIGN", SIMPLE_ALLOCATOR },
	[ALLOC_VALLOC] = { "VALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_PVALLOC] = { "PVALLOC", SIMPLE_ALLOCATOR },
	[ALLOC_MMAP] = { "MMAP", RANGED_ALLOCATOR },
	[ALLOC_MUNMAP] = { "MUNMAP", RANGED_DEALLOCATOR },
};

enum allocator_kind
allocator_kind(unsigned id)
{
	return id <= ALLOCATOR_MAX ? allocators[id].kind : ALLOCATOR_INVALID;
}

const char *
allocator_name(unsigned id)
{
	return id <= ALLOCATOR_MAX && allocators[id].name ? allocators[id].name : "UNKNOWN";
}
