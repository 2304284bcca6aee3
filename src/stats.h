/*
 * stats: the counts behind `memray stats`, gathered in the report's pass.
 *
 * memray 1.20.0's compute_statistics (_memray.pyx, with
 * AllocationStatsAggregator in snapshot.cpp) reads every allocation
 * record once: every record that is no deallocator adds to the totals,
 * to a count per exact size and per allocator, and to the bytes and
 * count of its Python stack.  That is what is kept here; the stacks are
 * named (locations, modules) once the capture has been read, by
 * stats_summary.  Memory: distinct sizes + distinct stacks.
 *
 * The histogram is memray's get_histogram_databins, float for float:
 * ten bins spaced evenly between the logarithms of the smallest non-zero
 * and the largest size (reporters/stats.py).
 */
#ifndef MT_STATS_H
#define MT_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report.h"

#define STATS_HISTOGRAM_BINS 10

/* A stack's totals, and when its first allocation came. */
struct stats_stack {
	uint64_t n_allocations;
	uint64_t bytes;
	uint64_t first_seq;
};

/* One bin of the size histogram: sizes up to `upper` (see stats_histogram). */
struct stats_bin {
	uint64_t upper;
	uint64_t count;
};

struct stats;

struct stats *stats_new(void);
void stats_free(struct stats *s);

/*
 * Account for allocation record number seq (a deallocator changes
 * nothing).  seq orders first uses when stats are merged.
 */
void stats_allocation(struct stats *s, const struct alloc_event *ev, uint64_t seq);

/*
 * Add the counts of from to into, as if into had seen from's records too
 * (--thread keeps one stats per thread and merges the selected ones).
 */
void stats_merge(struct stats *into, const struct stats *from);

/* Allocations (records that are no deallocator) and their bytes (wrapping, as memray's). */
uint64_t stats_allocations(const struct stats *s);
uint64_t stats_bytes(const struct stats *s);

/*
 * The histogram: bin i holds the sizes from bins[i-1].upper (0 for the
 * first) to below bins[i].upper, the last bin up to its upper bound
 * included.  Fails, as memray does (ValueError, ZeroDivisionError), when
 * no allocation has more than one byte; then *why says so.  *smallest and
 * *largest receive the smallest and largest size (zero included).
 */
bool stats_histogram(const struct stats *s, struct stats_bin bins[STATS_HISTOGRAM_BINS],
    uint64_t *smallest, uint64_t *largest, const char **why);

/*
 * The allocators used, as memray lists them: by count, largest first,
 * ties in the order of memray's unordered_map.  Returns how many (at
 * most 256) and fills ids and counts.
 */
size_t stats_allocators(const struct stats *s, uint8_t ids[256], uint64_t counts[256]);

/*
 * The stacks that allocated, in the order their first allocation came
 * (stack 0: no Python stack).  The array is the stats'.
 */
size_t stats_stacks_by_first_use(const struct stats *s, const uint32_t **stacks);
/* The same stacks in memray's unordered_map order (malloc'd; the caller frees it). */
uint32_t *stats_stacks_in_map_order(const struct stats *s);
const struct stats_stack *stats_stack(const struct stats *s, uint32_t stack);

#endif
