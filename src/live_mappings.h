/*
 * live_mappings: the traced process's live mmapped ranges, followed as
 * the records are decoded (in the reader thread with --threads 2).
 *
 * Every mmap makes a piece with an id of its own.  A munmap cuts the
 * pieces it overlaps as memray's IntervalTree does (interval_list.h: a
 * piece is dropped, shrunk, or split in two, the second part becoming a
 * new piece) and lists those changes in memray's order, for the report to
 * apply to the members it keeps by piece id (doc/capture-format.md
 * §8.2.1).  Following the ranges here rather than in the report puts the
 * most costly work of an mmap-heavy capture on the reader's core.  The id
 * of a dropped piece is given again to a later one: the report sees the
 * drop first, since records keep their order.
 */
#ifndef MT_LIVE_MAPPINGS_H
#define MT_LIVE_MAPPINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "interval_list.h"

/* A piece id that names no piece. */
#define NO_PIECE UINT32_MAX

/* What a munmap did to one live piece. */
struct mapping_change {
	uint64_t removed;		/* bytes the piece lost */
	uint32_t piece;
	uint32_t new_piece;		/* INTERVAL_SPLIT: the new piece after the cut; else NO_PIECE */
	enum interval_change kind;
};

struct live_mappings {
	struct interval_list ranges;	/* owners are piece ids */
	uint32_t *free_ids;		/* ids of dropped pieces, given again first */
	size_t n_free_ids, free_ids_cap;
	uint32_t n_ids;			/* ids given so far, free ones included */
	struct mapping_change *changes;	/* the last munmap's */
	size_t n_changes, changes_cap;
};

void live_mappings_init(struct live_mappings *m);
void live_mappings_free(struct live_mappings *m);
/* An mmap of size bytes (more than 0) at address: returns the id of its piece. */
uint32_t live_mappings_map(struct live_mappings *m, uint64_t address, uint64_t size);
/*
 * A munmap of size bytes at address: returns the changes it makes, in
 * memray's order, and their number in *n (the array stays valid until
 * the next call).
 */
const struct mapping_change *live_mappings_unmap(struct live_mappings *m, uint64_t address,
    uint64_t size, size_t *n);

/* What an mmap or munmap record says to the report (see live_mappings_follow). */
struct mapping_note {
	uint32_t piece;			/* an mmap's piece; NO_PIECE for a munmap, or an mmap of 0 bytes */
	uint32_t n_changes;
	const struct mapping_change *changes;	/* a munmap's (as live_mappings_unmap's) */
};

/*
 * An mmap (unmap false) or munmap record of size bytes at address, in m:
 * an mmap of more than 0 bytes gets a piece, a munmap its changes.  With
 * m NULL (a report that keeps no live set) it gets neither.
 */
struct mapping_note live_mappings_follow(struct live_mappings *m, bool unmap, uint64_t address,
    uint64_t size);

#endif
