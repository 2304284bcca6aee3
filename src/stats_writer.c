/*
 * stats_writer: -f stats, the JSON that `memray stats --json` writes
 * (memray 1.20.0, reporters/stats.py _render_to_json): totals, the size
 * histogram, allocators, top locations and modules, and the metadata of
 * the capture.  Keys in memray's order; compact, as the other JSON writers.
 */
#include <stdlib.h>

#include "allocator.h"
#include "json_out.h"
#include "message.h"
#include "stats_summary.h"
#include "writer.h"
#include "xmalloc.h"

struct stats_state {
	FILE *out;
};

static void *
stats_begin(const struct writer_config *config)
{
	struct stats_state *s = xcalloc(1, sizeof *s);

	s->out = config->out;
	return s;
}

/* describe_histogram_databins: bins from the last bound, the last one inclusive. */
static void
write_histogram(struct json_out *j, const struct stats_summary *sum)
{
	uint64_t start = 0;

	json_array_open(j);
	for (size_t i = 0; i < STATS_HISTOGRAM_BINS; i++) {
		uint64_t end = sum->histogram[i].upper;
		json_map_open(j);
		json_key(j, "min_bytes");
		json_u64(j, start);
		json_key(j, "max_bytes");
		json_u64(j, i + 1 < STATS_HISTOGRAM_BINS ? end - 1 : end);
		json_key(j, "count");
		json_u64(j, sum->histogram[i].count);
		json_map_close(j);
		start = end;
	}
	json_array_close(j);
}

static void
write_locations(struct json_out *j, const struct stats_location *locs, size_t n,
    const char *value_key)
{
	json_array_open(j);
	for (size_t i = 0; i < n; i++) {
		char *label = stats_location_label(&locs[i]);
		json_map_open(j);
		json_key(j, "location");
		json_string(j, label);
		json_key(j, value_key);
		json_u64(j, locs[i].value);
		json_map_close(j);
		free(label);
	}
	json_array_close(j);
}

static void
write_modules(struct json_out *j, const struct stats_module *modules, size_t n)
{
	json_array_open(j);
	for (size_t i = 0; i < n; i++) {
		json_map_open(j);
		json_key(j, "module");
		json_string(j, modules[i].name);
		json_key(j, "num_allocations");
		json_u128(j, modules[i].n_allocations);
		json_key(j, "total_bytes");
		json_u128(j, modules[i].bytes);
		json_map_close(j);
	}
	json_array_close(j);
}

static bool
stats_statistics(void *state, const struct stats_summary *sum)
{
	struct stats_state *s = state;
	const struct capture_header *h = sum->header;
	const char *python_allocator = stats_python_allocator_name(h->python_allocator);
	char start[64], end[64];

	/* Where memray's stats --json fails, with nothing written. */
	if (!sum->has_histogram) {
		error("no size histogram: %s (memray stats fails too)", sum->no_histogram);
		return false;
	}
	if (python_allocator == NULL) {
		error("python allocator %u has no name (memray stats fails too)", h->python_allocator);
		return false;
	}
	if (!stats_format_time(start, sizeof start, h->start_time) ||
	    !stats_format_time(end, sizeof end, h->end_time)) {
		error("start or end time out of range (memray stats fails too)");
		return false;
	}

	struct json_out *j = json_out_new(s->out);
	json_map_open(j);
	json_key(j, "total_num_allocations");
	json_u64(j, sum->n_allocations);
	json_key(j, "total_bytes_allocated");
	json_u64(j, sum->bytes);
	json_key(j, "allocation_size_histogram");
	write_histogram(j, sum);
	json_key(j, "allocator_type_distribution");
	json_map_open(j);
	for (size_t i = 0; i < sum->n_allocators; i++) {
		json_key(j, allocator_name(sum->allocator_ids[i]));
		json_u64(j, sum->allocator_counts[i]);
	}
	json_map_close(j);
	json_key(j, "top_allocations_by_size");
	write_locations(j, sum->by_size, sum->n_by_size, "size");
	json_key(j, "top_allocations_by_count");
	write_locations(j, sum->by_count, sum->n_by_count, "count");
	json_key(j, "top_modules_by_allocation_size");
	write_modules(j, sum->modules_by_size, sum->n_modules);
	json_key(j, "top_modules_by_allocation_count");
	write_modules(j, sum->modules_by_count, sum->n_modules);

	json_key(j, "metadata");
	json_map_open(j);
	json_key(j, "start_time");
	json_string(j, start);
	json_key(j, "end_time");
	json_string(j, end);
	json_key(j, "total_allocations");
	json_u64(j, sum->n_records);
	json_key(j, "total_frames");
	json_u64(j, h->n_frames);
	json_key(j, "peak_memory");
	json_u64(j, sum->peak_bytes);
	json_key(j, "command_line");
	json_string(j, h->command_line);
	json_key(j, "pid");
	json_i64(j, h->pid);
	json_key(j, "main_thread_id");
	json_u64(j, h->main_tid);
	json_key(j, "python_allocator");
	json_string(j, python_allocator);
	json_key(j, "has_native_traces");
	json_bool(j, h->native_traces);
	json_key(j, "trace_python_allocators");
	json_bool(j, h->trace_python_allocators);
	json_key(j, "file_format");
	json_u64(j, h->file_format);
	json_map_close(j);
	json_map_close(j);
	json_out_free(j);
	fputc('\n', s->out);
	return true;
}

static void
stats_end(void *state)
{
	free(state);
}

const struct writer_ops stats_writer = {
	.name = "stats",
	.begin = stats_begin,
	.statistics = stats_statistics,
	.end = stats_end,
};
