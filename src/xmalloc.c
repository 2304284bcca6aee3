/* xmalloc: allocation wrappers that never return NULL (see xmalloc.h). */
#define _GNU_SOURCE	/* madvise(), mremap(), beside -D_POSIX_C_SOURCE */
#include "xmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "message.h"

/*
 * Large blocks in huge pages.  Most of a long capture's time goes to a
 * few large tables read at random (the trie's nodes, the live index, the
 * report's members), and on the virtual machines we measure on, the first
 * touch of each 4 KiB page is a costly fault.  glibc serves a large
 * request with a mapping of its own, the block 16 bytes in, the mapping
 * the block and 8 more bytes rounded up to whole pages.  A request of
 * k * 2 MiB - HUGE_BLOCK_OVERHEAD bytes so gets a mapping of exactly
 * k * 2 MiB, which Linux (6.7 and later) puts on a 2 MiB boundary; advised
 * MADV_HUGEPAGE, it is backed by 2 MiB pages where transparent huge pages
 * are "madvise": what GLIBC_TUNABLES=glibc.malloc.hugetlb=1 does, which a
 * program cannot set for itself.  Paired wall time (9 rounds): fib
 * 0.82x, memray itself 0.82x, leaves 0.90x (temporary 0.82x), keepall
 * 0.95x; page faults on fib 2,341 -> 1,656.  Once a mapped block is
 * freed, glibc puts blocks up to its size on the heap instead; the advice
 * then covers the huge pages that fall inside the block.  Fixing glibc's
 * threshold (mallopt) kept them mapped but cost more faults on the heap:
 * fib 1.03x, leaves temporary 1.30x.  With another malloc (a sanitizer's,
 * valgrind's) the advice fails or falls on pages it does not help; only
 * the rounding up remains, address space never touched.
 */
#define HUGE_PAGE ((size_t)2 << 20)
#define HUGE_BLOCK_OVERHEAD 24	/* glibc's 16 bytes before a block, 8 after */
#define HUGE_BLOCK_MIN (HUGE_PAGE - HUGE_BLOCK_OVERHEAD)

/* size bytes rounded up to whole huge pages. */
static size_t
whole_huge_pages(size_t size)
{
	return (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
}

/* The size to ask malloc for size bytes: for a large block, its mapping whole huge pages. */
static size_t
huge_block_size(size_t size)
{
	if (size < HUGE_BLOCK_MIN || size > SIZE_MAX - HUGE_PAGE)
		return size;
	return whole_huge_pages(size + HUGE_BLOCK_OVERHEAD) - HUGE_BLOCK_OVERHEAD;
}

/*
 * Ask for huge pages under a large block p of size bytes, if it starts a
 * mapping of its own as glibc's do (16 bytes in): the whole mapping, so
 * that it stays one, which mremap can grow in place or move whole.
 * Advising only the huge pages the block fills split the mapping, and
 * glibc's realloc then copied it (fib: 3,193 faults against 1,659).
 * Blocks on glibc's heap are left alone.
 */
static void
advise_huge(void *p, size_t size)
{
#ifdef MADV_HUGEPAGE
	if (size < HUGE_BLOCK_MIN || (uintptr_t)p % 4096 != 16)
		return;
	/* Advice not taken is no error: the pages are only smaller. */
	madvise((char *)p - 16, huge_block_size(size) + HUGE_BLOCK_OVERHEAD, MADV_HUGEPAGE);
#else
	(void)p;
	(void)size;
#endif
}

/*
 * The capacity an array of cap elements grows to for need: doubled (from
 * initial, or 1, if 0) until it holds need.  Doubling past SIZE_MAX asks
 * for exactly need, which the allocation then checks.
 */
static size_t
grown_capacity(size_t cap, size_t need, size_t initial)
{
	size_t n = cap ? cap : (initial ? initial : 1);

	while (n < need)
		n = n <= SIZE_MAX / 2 ? n * 2 : need;
	return n;
}

/*
 * A hash table's slots are rebuilt when it grows, not grown in place:
 * each growth frees the old table.  glibc would then raise its threshold
 * for mapped blocks to the freed one's size and put the next table of
 * that size on its heap, out of huge pages.  So a large table gets a
 * mapping of its own, on a 2 MiB boundary whatever the kernel, advised
 * for huge pages, and goes back to the system when freed.
 */
#define TABLE_MAPPED_MIN ((size_t)256 << 10)

/*
 * A mapping for bytes bytes on a 2 MiB boundary, whole huge pages long,
 * advised for huge pages before anything touches it: mapped a huge page
 * longer, the ends cut off, whatever the kernel.  (A block from malloc
 * has its first page touched by malloc's header before it can be
 * advised, and its first 2 MiB stay in small pages.)
 *
 * Advised are the huge pages that bytes fill, or the first if they fill
 * none.  The rest, a table's last part, is in small pages, which hold no
 * more than it uses: advised whole, a table of 3 MiB took 4, and
 * bench/run's sweep had 72.1 bytes per live block at 250,000 live (61.1
 * this way).  Small pages for every table below 2 MiB cost more: memray
 * itself 1.06x the time (paired, 9 rounds).  A table read at random
 * touches all its pages, so the small ones are faulted in by one call,
 * not one fault each: memray itself 1,178 -> 927 faults, 0.98x.  The
 * arrays of xbig_grow fill their huge pages.
 */
static void *
map_huge(size_t bytes, size_t count, size_t size)
{
	size_t len = whole_huge_pages(bytes);
	char *mapped = mmap(NULL, len + HUGE_PAGE, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mapped == MAP_FAILED)
		fatal("out of memory (%zu x %zu bytes)", count, size);
	char *start = mapped + (HUGE_PAGE - (uintptr_t)mapped % HUGE_PAGE) % HUGE_PAGE;
	if (start > mapped)
		munmap(mapped, (size_t)(start - mapped));
	munmap(start + len, (size_t)(mapped + HUGE_PAGE - start));
#ifdef MADV_HUGEPAGE
	size_t advised = bytes < HUGE_PAGE ? HUGE_PAGE : bytes / HUGE_PAGE * HUGE_PAGE;
	madvise(start, advised, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
	if (bytes > advised)
		madvise(start + advised, (bytes - advised + 4095) / 4096 * 4096, MADV_POPULATE_WRITE);
#endif
#endif
	return start;
}

/*
 * The bytes of count elements of size bytes, for map_huge: out of memory
 * unless their whole huge pages and one more (map_huge's) can be mapped.
 */
static size_t
mapped_bytes(size_t count, size_t size)
{
	if (size != 0 && count > (SIZE_MAX - 2 * HUGE_PAGE) / size)
		fatal("out of memory (%zu x %zu bytes)", count, size);
	return count * size;
}

void *
xtable_new(size_t count, size_t size)
{
	size_t bytes = mapped_bytes(count, size);

	if (bytes < TABLE_MAPPED_MIN)
		return xcalloc(count, size);
	return map_huge(bytes, count, size);
}

/*
 * A table of 256 KiB to 1 MiB lies in a huge page of 2 MiB, all of it in
 * RAM once touched: its slots may as well fill it.  The table then skips
 * the growths up to that size, each a rebuild into a fresh huge page.
 * Paired wall time against c6a0a0c (7-11 rounds): memray itself 0.99x,
 * leaves 0.98x, the default shape (10^7) 0.98x, compileall 0.99x,
 * keepall 0.99x, fib 1.01x, json 1.02x and 0.98x in two runs; callgrind,
 * memray itself with one thread: 0.55% fewer instructions.  bench/run's
 * sweep is unchanged (60.2 bytes per live block at 250,000 live).
 */
size_t
xtable_capacity(size_t count, size_t size)
{
	if (size == 0 || count > SIZE_MAX / 4 / size || count * size < TABLE_MAPPED_MIN)
		return count;
	size_t room = whole_huge_pages(count * size);
	while (count * 2 * size <= room)
		count *= 2;
	return count;
}

void
xtable_free(void *table, size_t count, size_t size)
{
	if (count * size < TABLE_MAPPED_MIN)
		free(table);
	else if (table != NULL)
		munmap(table, whole_huge_pages(count * size));
}

/*
 * The few large arrays that every record may touch (the trie's nodes,
 * the report's groups and members) grow the same way from
 * TABLE_MAPPED_MIN on, into mappings of their own in huge pages: their
 * first 2 MiB too, which as glibc blocks stayed in small pages (see
 * map_huge).  Past that step, each growth moves the pages.
 */
void *
xbig_grow_resize(void *ptr, size_t *cap, size_t need, size_t size, size_t initial)
{
	size_t n = grown_capacity(*cap, need, initial), bytes = mapped_bytes(n, size);

	if (bytes < TABLE_MAPPED_MIN)
		return xgrowarray(ptr, cap, need, size, initial);
	size_t len = whole_huge_pages(bytes);
	void *grown = map_huge(len, n, size);
#ifdef MREMAP_FIXED
	/*
	 * A mapped array's pages are moved to the start of the new mapping,
	 * not copied: both on 2 MiB boundaries, its huge pages stay whole, and
	 * the old ones never count twice (a copy took 4,000,000 live blocks
	 * from 200 to 321 MB of peak RSS).
	 */
	size_t old_len = whole_huge_pages(*cap * size);
	if (*cap * size >= TABLE_MAPPED_MIN &&
	    mremap(ptr, old_len, old_len, MREMAP_MAYMOVE | MREMAP_FIXED, grown) != MAP_FAILED) {
		*cap = len / size;
		return grown;
	}
#endif
	if (*cap != 0)
		memcpy(grown, ptr, *cap * size);
	xtable_free(ptr, *cap, size);
	*cap = len / size;
	return grown;
}

/* p, a block for size bytes from malloc or the like: NULL is fatal, a large block advised. */
static void *
check(void *p, size_t size)
{
	if (p == NULL && size != 0)
		fatal("out of memory (%zu bytes)", size);
	advise_huge(p, size);
	return p;
}

void *
xmalloc(size_t size)
{
	if (size == 0)
		size = 1;
	return check(malloc(huge_block_size(size)), size);
}

void *
xcalloc(size_t count, size_t size)
{
	if (count == 0 || size == 0)
		count = size = 1;
	if (count > SIZE_MAX / size)
		fatal("out of memory (%zu x %zu bytes)", count, size);
	return check(calloc(1, huge_block_size(count * size)), count * size);
}

void *
xrealloc(void *ptr, size_t size)
{
	if (size == 0)
		size = 1;
	return check(realloc(ptr, huge_block_size(size)), size);
}

void *
xreallocarray(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		fatal("out of memory (%zu x %zu bytes)", count, size);
	return xrealloc(ptr, count * size);
}

/* xgrowarray's slow path: need > *cap. */
void *
xgrowarray_resize(void *ptr, size_t *cap, size_t need, size_t size, size_t initial)
{
	size_t n = grown_capacity(*cap, need, initial);

	/* A large array: as many elements as the huge pages hold that it fills. */
	if (n <= SIZE_MAX / size && n * size >= HUGE_PAGE) {
		size_t fit = whole_huge_pages(n * size) - HUGE_BLOCK_OVERHEAD;
		n = (fit / size >= need ? fit : huge_block_size(n * size)) / size;
	}
	ptr = xreallocarray(ptr, n, size);
	*cap = n;
	return ptr;
}

void *
xgrowzeroed(void *ptr, size_t *len, size_t *cap, size_t need, size_t size)
{
	if (need <= *len)
		return ptr;
	ptr = xgrowarray(ptr, cap, need, size, 16);
	memset((char *)ptr + *len * size, 0, (need - *len) * size);
	*len = need;
	return ptr;
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

char *
xmemdup(const void *data, size_t len)
{
	char *copy = xmalloc(len);

	if (len != 0)
		memcpy(copy, data, len);
	return copy;
}

char *
xstrndup(const char *s, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}
