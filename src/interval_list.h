/*
 * interval_list: live mmap ranges and how munmap cuts them.
 *
 * memray keeps mmapped ranges in a plain vector (snapshot.h: IntervalTree)
 * and removes a munmapped range from every range it overlaps: a range
 * covered whole is dropped, one covered at an end shrinks, and one cut in
 * the middle becomes two pieces (doc/capture-format.md §8.2.1).  Each piece
 * has an owner id; the caller is told of every change so that it can keep
 * its own accounting, and names the owner of the second piece of a split.
 *
 * The ranges are kept in a treap ordered by start and augmented with the
 * largest end below each node, so that a munmap costs O(log n) plus the
 * ranges it cuts, not a pass over every live mapping as memray's vector
 * does.  The changes are still told in memray's vector order: by the
 * mmap a piece comes from, then by start (a split puts its two pieces
 * where the range was, in order).
 */
#ifndef MT_INTERVAL_LIST_H
#define MT_INTERVAL_LIST_H

#include <stddef.h>
#include <stdint.h>

struct interval {
	uint64_t start, end;	/* [start, end) */
	uint32_t owner;
};

struct interval_node;
struct interval_cut;

struct interval_list {
	struct interval_node *nodes;	/* a pool; free nodes are linked through `left` */
	size_t n_nodes, nodes_cap;
	uint32_t root, free_nodes;
	size_t count;			/* live ranges */
	uint64_t added;			/* mmaps so far: a new range's place in memray's order */
	uint64_t random;		/* xorshift state for the treap's priorities */
	struct interval_cut *cuts;	/* scratch: the ranges a removal cuts */
	size_t cuts_cap;
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
/*
 * Remove [start, end) from every interval, telling observe of each change
 * in memray's vector order; returns the number of bytes removed.
 */
uint64_t interval_list_remove(struct interval_list *list, uint64_t start, uint64_t end,
    interval_observer observe, void *ctx);

/* The number of live ranges, and the ranges in memray's vector order (out has room for all). */
size_t interval_list_count(const struct interval_list *list);
void interval_list_items(const struct interval_list *list, struct interval *out);
/* The treap's height (0 if empty), for the tests: its balance is what keeps a munmap cheap. */
size_t interval_list_height(const struct interval_list *list);

#endif
