/*
 * stats_summary: the `memray stats` numbers with their stacks named, for
 * the stats and summary writers.
 *
 * As compute_statistics does once the records are read: a location is the
 * most recent frame of a stack, (function, file, line) as text, numbered
 * in the order of its first allocation; the top lists take the largest
 * (value, location number) pairs first (a heap of C++ pairs, in which "no
 * Python stack" is below every number).  A module is the module_name of
 * the whole, unskipped stack; modules come in the order memray's
 * unordered_map of stacks meets them, then are sorted stably by value.
 */
#ifndef MT_STATS_SUMMARY_H
#define MT_STATS_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "json_out.h"
#include "record_decoder.h"
#include "stats.h"
#include "writer.h"

/* A location and its bytes or allocations. */
struct stats_location {
	const struct frame_text *frame;	/* NULL: allocations with no Python stack */
	uint64_t value;
};

/* Python adds a module's stacks up in integers that never wrap. */
struct stats_module {
	const char *name;
	struct json_u128 n_allocations;
	struct json_u128 bytes;
};

struct stats_summary {
	const struct capture_header *header;
	uint64_t n_allocations;		/* records that are no deallocator */
	uint64_t bytes;
	uint64_t n_records;		/* every allocation record */
	uint64_t peak_bytes;
	size_t num_largest;		/* --num-largest */

	bool has_histogram;
	const char *no_histogram;	/* why, when there is none */
	struct stats_bin histogram[STATS_HISTOGRAM_BINS];
	uint64_t smallest, largest;	/* sizes, zero included */

	size_t n_allocators;
	uint8_t allocator_ids[256];
	uint64_t allocator_counts[256];

	struct stats_location *by_size, *by_count;
	size_t n_by_size, n_by_count;
	struct stats_module *modules_by_size, *modules_by_count;
	size_t n_modules;		/* in each list */

	struct frame_table locations;	/* owns the location texts */
	struct frame_table module_names;	/* owns the module names (as functions) */
};

void stats_summary_build(struct stats_summary *sum, const struct stats *s, struct capture *cap,
    const struct capture_header *header, uint64_t n_records, uint64_t peak_bytes,
    size_t num_largest);
void stats_summary_free(struct stats_summary *sum);

/* memray's _format_location: "function:file:line", malloc'd. */
char *stats_location_label(const struct stats_location *loc);

/*
 * memray's metadata block: the Python allocator's name (NULL for an id
 * memray has none for) and a time as str(datetime) writes it in the local
 * time zone, "2026-11-25 16:48:51.830000+00:00" (false if out of range).
 */
const char *stats_python_allocator_name(uint8_t id);
bool stats_format_time(char *buf, size_t size, int64_t ms);

#endif
