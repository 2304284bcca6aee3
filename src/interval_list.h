/*
 * interval_list: live mmap ranges and how munmap cuts them.
 *
 * memray keeps mmapped ranges in a plain vector (snapshot.h: IntervalTree)
 * and removes a munmapped range from every range it overlaps: a range
 * covered whole is dropped, one covered at an end shrinks, and one cut in
 * the middle becomes two pieces (capture-format.md §8.2.1).  Each piece
 * has an owner id; the caller is told of every change so that it can keep
 * its own accounting, and names the owner of the second piece of a split.
 */
#ifndef MT_INTERVAL_LIST_H
#define MT_INTERVAL_LIST_H

#include <stddef.h>
#include <stdint.h>

struct interval {
	uint64_t start, end;	/* [start, end) */
	uint32_t owner;
};

struct interval_list {
	struct interval *items;
	size_t len, cap;
	struct interval *scratch;
	size_t scratch_cap;
};

enum interval_change {
	INTERVAL_DROPPED,	/* the owner's piece is gone */
	INTERVAL_SHRUNK,	/* the owner's piece lost `removed` bytes */
	INTERVAL_SPLIT		/* the owner's piece lost `removed` bytes in its middle
				   and a new piece follows it: return its owner */
};

/* Told of one change; for INTERVAL_SPLIT returns the owner of the new piece. */
typedef uint32_t (*interval_observer)(void *ctx, uint32_t owner, enum interval_change change,
    uint64_t removed);

void interval_list_init(struct interval_list *list);
void interval_list_free(struct interval_list *list);
void interval_list_add(struct interval_list *list, uint64_t start, uint64_t end, uint32_t owner);
/* Remove [start, end) from every interval; returns the number of bytes removed. */
uint64_t interval_list_remove(struct interval_list *list, uint64_t start, uint64_t end,
    interval_observer observe, void *ctx);

#endif
