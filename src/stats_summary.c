/* stats_summary: the memray stats numbers with their stacks named (see stats_summary.h). */
#define _POSIX_C_SOURCE 200809L	/* localtime_r */
#define _DEFAULT_SOURCE		/* tm_gmtoff */

#include "stats_summary.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "module_name.h"
#include "xmalloc.h"

#define NO_LOCATION UINT32_MAX

/* A candidate of a top list: (value, location number) as memray's heap compares them. */
struct ranked {
	uint64_t value;
	uint32_t location;		/* NO_LOCATION ranks below every number */
};

static int
by_value_then_location(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;
	int64_t rx = x->location == NO_LOCATION ? -1 : (int64_t)x->location;
	int64_t ry = y->location == NO_LOCATION ? -1 : (int64_t)y->location;

	if (x->value != y->value)
		return x->value < y->value ? 1 : -1;
	return (rx < ry) - (rx > ry);
}

/* The num_largest largest of ranked[0..n), as locations. */
static struct stats_location *
top_locations(const struct stats_summary *sum, struct ranked *ranked, size_t n, size_t *n_top)
{
	struct stats_location *top;

	qsort(ranked, n, sizeof *ranked, by_value_then_location);
	*n_top = n < sum->num_largest ? n : sum->num_largest;
	top = xreallocarray(NULL, *n_top ? *n_top : 1, sizeof *top);
	for (size_t i = 0; i < *n_top; i++)
		top[i] = (struct stats_location){
			.frame = ranked[i].location == NO_LOCATION ? NULL :
			    &sum->locations.frames[ranked[i].location],
			.value = ranked[i].value,
		};
	return top;
}

/* topLocationsBySize and topLocationsByCount. */
static void
build_locations(struct stats_summary *sum, const struct stats *s, struct capture *cap)
{
	const uint32_t *stacks;
	size_t n_stacks = stats_stacks_by_first_use(s, &stacks);
	/* Per location number, and one more for "no Python stack". */
	uint64_t *bytes = xcalloc(n_stacks + 1, sizeof *bytes);
	uint64_t *counts = xcalloc(n_stacks + 1, sizeof *counts);
	bool no_stack = false;

	for (size_t i = 0; i < n_stacks; i++) {
		const struct stats_stack *st = stats_stack(s, stacks[i]);
		const struct frame_text *frames;
		size_t slot = n_stacks;
		if (stacks[i] != 0 && capture_render_stack(cap, stacks[i], NO_THREAD, &frames) > 0)
			slot = frame_table_intern(&sum->locations, &frames[0]);
		else
			no_stack = true;
		bytes[slot] += st->bytes;
		counts[slot] += st->n_allocations;
	}
	size_t n = sum->locations.count + no_stack;
	struct ranked *by_size = xreallocarray(NULL, n + 1, sizeof *by_size);
	struct ranked *by_count = xreallocarray(NULL, n + 1, sizeof *by_count);
	for (size_t i = 0; i < sum->locations.count; i++) {
		by_size[i] = (struct ranked){ bytes[i], (uint32_t)i };
		by_count[i] = (struct ranked){ counts[i], (uint32_t)i };
	}
	if (no_stack) {
		by_size[n - 1] = (struct ranked){ bytes[n_stacks], NO_LOCATION };
		by_count[n - 1] = (struct ranked){ counts[n_stacks], NO_LOCATION };
	}
	sum->by_size = top_locations(sum, by_size, n, &sum->n_by_size);
	sum->by_count = top_locations(sum, by_count, n, &sum->n_by_count);
	free(by_size);
	free(by_count);
	free(bytes);
	free(counts);
}

static int
u128_compare(struct json_u128 a, struct json_u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	return (a.lo > b.lo) - (a.lo < b.lo);
}

/* A module and where the map order met it, for a stable sort with qsort. */
struct met_module {
	struct stats_module module;
	size_t met;
};

/* sorted(..., reverse=True) by bytes or by count: larger first, then as met. */
static int
more_bytes(const void *a, const void *b)
{
	const struct met_module *x = a, *y = b;
	int c = u128_compare(y->module.bytes, x->module.bytes);

	return c != 0 ? c : (x->met > y->met) - (x->met < y->met);
}

static int
more_allocations(const void *a, const void *b)
{
	const struct met_module *x = a, *y = b;
	int c = u128_compare(y->module.n_allocations, x->module.n_allocations);

	return c != 0 ? c : (x->met > y->met) - (x->met < y->met);
}

static struct stats_module *
top_modules(struct met_module *modules, size_t n, size_t n_top,
    int (*order)(const void *, const void *))
{
	struct stats_module *top = xreallocarray(NULL, n_top ? n_top : 1, sizeof *top);

	qsort(modules, n, sizeof *modules, order);
	for (size_t i = 0; i < n_top; i++)
		top[i] = modules[i].module;
	return top;
}

/* top_modules_by_allocation_size and _count. */
static void
build_modules(struct stats_summary *sum, const struct stats *s, struct capture *cap)
{
	const uint32_t *unused;
	size_t n_stacks = stats_stacks_by_first_use(s, &unused);
	uint32_t *stacks = stats_stacks_in_map_order(s);
	struct module_resolver *resolver = module_resolver_new(sum->header);
	struct met_module *modules = xcalloc(n_stacks + 1, sizeof *modules);

	for (size_t i = 0; i < n_stacks; i++) {
		const struct stats_stack *st = stats_stack(s, stacks[i]);
		const struct frame_text *frames;
		size_t depth = capture_render_stack(cap, stacks[i], NO_THREAD, &frames);
		/* The names are interned as functions of a file "", in order of first meeting. */
		struct frame_text name = {
			.function = module_resolver_stack(resolver, frames, depth), .file = "",
		};
		uint32_t m = frame_table_intern(&sum->module_names, &name);
		modules[m].met = m;
		json_u128_add(&modules[m].module.n_allocations, st->n_allocations);
		json_u128_add(&modules[m].module.bytes, st->bytes);
	}
	size_t n = sum->module_names.count;
	for (size_t m = 0; m < n; m++)
		modules[m].module.name = sum->module_names.frames[m].function;
	sum->n_modules = n < sum->num_largest ? n : sum->num_largest;
	sum->modules_by_size = top_modules(modules, n, sum->n_modules, more_bytes);
	sum->modules_by_count = top_modules(modules, n, sum->n_modules, more_allocations);
	free(modules);
	free(stacks);
	module_resolver_free(resolver);
}

void
stats_summary_build(struct stats_summary *sum, const struct stats *s, struct capture *cap,
    const struct capture_header *header, uint64_t n_records, uint64_t peak_bytes,
    size_t num_largest)
{
	memset(sum, 0, sizeof *sum);
	sum->header = header;
	sum->n_allocations = stats_allocations(s);
	sum->bytes = stats_bytes(s);
	sum->n_records = n_records;
	sum->peak_bytes = peak_bytes;
	sum->num_largest = num_largest;
	sum->has_histogram = stats_histogram(s, sum->histogram, &sum->smallest, &sum->largest,
	    &sum->no_histogram);
	sum->n_allocators = stats_allocators(s, sum->allocator_ids, sum->allocator_counts);
	frame_table_init(&sum->locations, true);
	frame_table_init(&sum->module_names, false);
	build_locations(sum, s, cap);
	build_modules(sum, s, cap);
}

void
stats_summary_free(struct stats_summary *sum)
{
	free(sum->by_size);
	free(sum->by_count);
	free(sum->modules_by_size);
	free(sum->modules_by_count);
	frame_table_free(&sum->locations);
	frame_table_free(&sum->module_names);
}

char *
stats_location_label(const struct stats_location *loc)
{
	if (loc->frame == NULL)
		return xstrdup("<stack trace unavailable>");
	int n = snprintf(NULL, 0, "%s:%s:%" PRId32, loc->frame->function, loc->frame->file,
	    loc->frame->line);
	char *label = xmalloc((size_t)n + 1);
	snprintf(label, (size_t)n + 1, "%s:%s:%" PRId32, loc->frame->function, loc->frame->file,
	    loc->frame->line);
	return label;
}

const char *
stats_python_allocator_name(uint8_t id)
{
	/* _create_metadata's allocator_id_to_name; another id is a KeyError there. */
	static const char *const names[] = {
		[1] = "pymalloc", [2] = "pymalloc debug", [3] = "malloc", [4] = "unknown",
		[5] = "mimalloc", [6] = "mimalloc debug",
	};

	return id < sizeof names / sizeof names[0] ? names[id] : NULL;
}

/*
 * millis_to_dt: datetime.fromtimestamp(ms // 1000) with the milliseconds as
 * microseconds, made aware in the local time zone (astimezone()); str()
 * leaves out a zero fraction and gives the offset as +HH:MM[:SS].
 */
bool
stats_format_time(char *buf, size_t size, int64_t ms)
{
	int64_t seconds = ms / 1000 - (ms % 1000 < 0);
	int64_t millis = ms - seconds * 1000;
	time_t t = (time_t)seconds;
	struct tm tm;
	char fraction[16] = "", offset[16];

	if (localtime_r(&t, &tm) == NULL || tm.tm_year + 1900 < 1 || tm.tm_year + 1900 > 9999)
		return false;
	if (millis != 0)
		snprintf(fraction, sizeof fraction, ".%06" PRId64, millis * 1000);
	long gmtoff = tm.tm_gmtoff;
	long magnitude = gmtoff < 0 ? -gmtoff : gmtoff;
	int n = snprintf(offset, sizeof offset, "%c%02ld:%02ld", gmtoff < 0 ? '-' : '+',
	    magnitude / 3600, magnitude / 60 % 60);
	if (magnitude % 60 != 0)
		snprintf(offset + n, sizeof offset - (size_t)n, ":%02ld", magnitude % 60);
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d%s%s", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, fraction, offset);
	return true;
}
