/*
 * xmalloc: allocation wrappers that never return NULL.
 *
 * Running out of memory is reported once and ends the program with exit
 * status 1, as tmux's and OpenSSH's xmalloc do: no caller has a meaningful
 * way to recover, and checking every allocation would hide the real logic.
 * A large block (2 MiB or more) is sized and advised to lie in huge pages
 * (see xmalloc.c); an array that grows past that size takes the room.
 */
#ifndef MT_XMALLOC_H
#define MT_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Resize an array of count elements of size bytes, checking for overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);
/*
 * xgrowarray: make room for at least need elements of size bytes in the
 * array ptr of *cap elements: if need > *cap, *cap doubles (from initial
 * when it is 0) until it holds need, and the array is resized; else ptr
 * is returned as it is.  The usual append is
 *	p = xgrowarray(p, &cap, n + 1, sizeof *p, 16);
 *	p[n++] = item;
 * Inline, for hot paths (every frame push), over its slow path.
 */
void *xgrowarray_resize(void *ptr, size_t *cap, size_t need, size_t size, size_t initial);

static inline void *
xgrowarray(void *ptr, size_t *cap, size_t need, size_t size, size_t initial)
{
	return need <= *cap ? ptr : xgrowarray_resize(ptr, cap, need, size, initial);
}

/*
 * xgrowzeroed: make the array ptr of *len elements (room for *cap) hold
 * at least need, as xgrowarray does, the new elements zeroed: for arrays
 * indexed by an id that may skip ahead.  *len becomes at least need.
 */
void *xgrowzeroed(void *ptr, size_t *len, size_t *cap, size_t need, size_t size);
/*
 * xtable_new: the zeroed storage of a table read at random, count
 * elements of size bytes: a hash table's slots, which the table replaces
 * when it grows, the report with its nursery, the record queue's ring
 * (see xmalloc.c).  Free it with xtable_free and the same count and size
 * (NULL, as free, is nothing).
 */
void *xtable_new(size_t count, size_t size);
void xtable_free(void *table, size_t count, size_t size);
/*
 * xtable_capacity: the count to ask xtable_new for, for a hash table that
 * needs count elements (a power of two) of size bytes: doubled while the
 * slots stay within the huge pages that xtable_new would give it anyway.
 */
size_t xtable_capacity(size_t count, size_t size);
/*
 * xbig_grow: xgrowarray for the few large arrays that every record may
 * touch; from 256 KiB on they lie in huge pages (see xmalloc.c).  Free
 * the array with xbig_free and its capacity.
 */
void *xbig_grow_resize(void *ptr, size_t *cap, size_t need, size_t size, size_t initial);

/* Inline, as xgrowarray: every trie node, group and member asks for room. */
static inline void *
xbig_grow(void *ptr, size_t *cap, size_t need, size_t size, size_t initial)
{
	return need <= *cap ? ptr : xbig_grow_resize(ptr, cap, need, size, initial);
}

/* Free an array of xbig_grow: a table's storage, freed alike. */
static inline void
xbig_free(void *ptr, size_t cap, size_t size)
{
	xtable_free(ptr, cap, size);
}
char *xstrdup(const char *s);
char *xmemdup(const void *data, size_t len);
/* The first len bytes of s (which has at least len) as a string. */
char *xstrndup(const char *s, size_t len);

#endif
