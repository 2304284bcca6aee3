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
 * The ranges are kept in a B+ tree ordered by start, whose inner nodes
 * know the largest end below each child, so that a munmap costs
 * O(log n) plus the ranges it cuts, not a pass over every live mapping
 * as memray's vector does.  Its nodes are wide (32 entries, the fields
 * of a node each in an array of their own), so a search reads a few
 * cache lines per level of a shallow tree.  The changes are still told
 * in memray's vector order: by the mmap a piece comes from, then by
 * start (a split puts its two pieces where the range was, in order).
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

/* Levels of the tree at most, leaves included. */
#define INTERVAL_MAX_HEIGHT 16

/* Where a range is: the node and entry taken at each height, from its leaf (0) up. */
struct interval_path {
	uint32_t node[INTERVAL_MAX_HEIGHT];
	uint32_t at[INTERVAL_MAX_HEIGHT];
};

struct interval_list {
	struct interval_node *nodes;	/* a pool, by index; free nodes are linked */
	size_t n_nodes, nodes_cap;
	uint32_t free_nodes;
	uint32_t root;			/* a leaf if height is 0; none if the list is empty */
	unsigned height;		/* levels of inner nodes */
	size_t count;			/* live ranges */
	uint64_t added;			/* mmaps so far: a new range's place in memray's order */
	/* Keys (start, order) at or below every key, and at or above (see insert). */
	uint64_t least_start, least_order, most_start, most_order;
	struct interval_cut *cuts;	/* scratch: the ranges a removal cuts */
	struct interval_path first_cut;	/* scratch: where the first cut found is */
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
/* The tree's levels (0 if empty), for the tests: its balance is what keeps a munmap cheap. */
size_t interval_list_height(const struct interval_list *list);

#endif
