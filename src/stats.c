/* stats: the counts behind `memray stats` (see stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

#include "allocator.h"
#include "stl_order.h"
#include "u64map.h"
#include "xmalloc.h"

struct size_count {
	uint64_t size;
	uint64_t count;
};

struct stats {
	uint64_t n_allocations;
	uint64_t bytes;

	struct u64map size_index;	/* size -> index into sizes */
	struct size_count *sizes;
	size_t n_sizes, sizes_cap;

	uint64_t by_allocator[256];
	uint64_t allocator_first_seq[256];
	uint8_t allocator_order[256];	/* allocator ids in order of first use */
	size_t n_allocators;

	struct stats_stack *by_stack;	/* indexed by stack id; zero: never allocated */
	size_t by_stack_len, by_stack_cap;
	uint32_t *first_use;		/* stack ids in order of their first allocation */
	size_t n_first_use, first_use_cap;
};

struct stats *
stats_new(void)
{
	struct stats *s = xcalloc(1, sizeof *s);

	u64map_init(&s->size_index);
	return s;
}

void
stats_free(struct stats *s)
{
	if (s == NULL)
		return;
	u64map_free(&s->size_index);
	free(s->sizes);
	free(s->by_stack);
	free(s->first_use);
	free(s);
}

static void
add_size(struct stats *s, uint64_t size, uint64_t count)
{
	uint32_t index;

	if (!u64map_get(&s->size_index, size, &index)) {
		s->sizes = xgrowarray(s->sizes, &s->sizes_cap, s->n_sizes + 1, sizeof *s->sizes, 64);
		index = (uint32_t)s->n_sizes++;
		s->sizes[index] = (struct size_count){ size, 0 };
		u64map_set(&s->size_index, size, index);
	}
	s->sizes[index].count += count;
}

static void
add_allocator(struct stats *s, uint8_t id, uint64_t count, uint64_t first_seq)
{
	if (s->by_allocator[id] == 0) {
		s->allocator_order[s->n_allocators++] = id;
		s->allocator_first_seq[id] = first_seq;
	} else if (first_seq < s->allocator_first_seq[id]) {
		s->allocator_first_seq[id] = first_seq;
	}
	s->by_allocator[id] += count;
}

static void
add_stack(struct stats *s, uint32_t stack, uint64_t count, uint64_t bytes, uint64_t first_seq)
{
	s->by_stack = xgrowzeroed(s->by_stack, &s->by_stack_len, &s->by_stack_cap,
	    (size_t)stack + 1, sizeof *s->by_stack);
	struct stats_stack *st = &s->by_stack[stack];
	if (st->n_allocations == 0) {
		s->first_use = xgrowarray(s->first_use, &s->first_use_cap, s->n_first_use + 1,
		    sizeof *s->first_use, 64);
		s->first_use[s->n_first_use++] = stack;
		st->first_seq = first_seq;
	} else if (first_seq < st->first_seq) {
		st->first_seq = first_seq;
	}
	st->n_allocations += count;
	st->bytes += bytes;
}

void
stats_allocation(struct stats *s, const struct alloc_event *ev, uint64_t seq)
{
	if (allocator_is_deallocator(allocator_kind(ev->allocator)))
		return;
	s->n_allocations++;
	s->bytes += ev->size;
	add_size(s, ev->size, 1);
	add_allocator(s, ev->allocator, 1, seq);
	add_stack(s, ev->stack, 1, ev->size, seq);
}

static const struct stats *sorting;	/* the stats whose first uses are being sorted */

static int
allocator_first(const void *a, const void *b)
{
	uint64_t x = sorting->allocator_first_seq[*(const uint8_t *)a];
	uint64_t y = sorting->allocator_first_seq[*(const uint8_t *)b];

	return (x > y) - (x < y);
}

static int
stack_first(const void *a, const void *b)
{
	uint64_t x = sorting->by_stack[*(const uint32_t *)a].first_seq;
	uint64_t y = sorting->by_stack[*(const uint32_t *)b].first_seq;

	return (x > y) - (x < y);
}

void
stats_merge(struct stats *into, const struct stats *from)
{
	into->n_allocations += from->n_allocations;
	into->bytes += from->bytes;
	for (size_t i = 0; i < from->n_sizes; i++)
		add_size(into, from->sizes[i].size, from->sizes[i].count);
	for (size_t i = 0; i < from->n_allocators; i++) {
		uint8_t id = from->allocator_order[i];
		add_allocator(into, id, from->by_allocator[id], from->allocator_first_seq[id]);
	}
	for (size_t i = 0; i < from->n_first_use; i++) {
		const struct stats_stack *st = &from->by_stack[from->first_use[i]];
		add_stack(into, from->first_use[i], st->n_allocations, st->bytes, st->first_seq);
	}
	/*
	 * First uses in record order again (seqs are distinct: qsort's
	 * instability is harmless).  A thread that only freed has no stacks
	 * and no array, which qsort must not be given.
	 */
	sorting = into;
	qsort(into->allocator_order, into->n_allocators, sizeof *into->allocator_order,
	    allocator_first);
	if (into->n_first_use > 1)
		qsort(into->first_use, into->n_first_use, sizeof *into->first_use, stack_first);
	sorting = NULL;
}

uint64_t
stats_allocations(const struct stats *s)
{
	return s->n_allocations;
}

uint64_t
stats_bytes(const struct stats *s)
{
	return s->bytes;
}

/*
 * Python's float floor division (floatobject.c, float_floor_div), which
 * is not floor(a / b): it divides a - fmod(a, b) and snaps to the nearest
 * integer.  b > 0 here.
 */
static double
python_floor_div(double a, double b)
{
	double mod = fmod(a, b);
	double div = (a - mod) / b;

	if (mod != 0 && (b < 0) != (mod < 0))
		div -= 1.0;
	if (div == 0)
		return copysign(0.0, a / b);
	double result = floor(div);
	if (div - result > 0.5)
		result += 1.0;
	return result;
}

/* Python's int() of a non-negative float, saturated at 2^64 - 1 (no size comes near). */
static uint64_t
truncate_to_u64(double x)
{
	return x >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)x;
}

bool
stats_histogram(const struct stats *s, struct stats_bin bins[STATS_HISTOGRAM_BINS],
    uint64_t *smallest, uint64_t *largest, const char **why)
{
	uint64_t min_nonzero = 0, min_size = UINT64_MAX, max_size = 0;

	for (size_t i = 0; i < s->n_sizes; i++) {
		uint64_t size = s->sizes[i].size;
		if (size != 0 && (min_nonzero == 0 || size < min_nonzero))
			min_nonzero = size;
		min_size = size < min_size ? size : min_size;
		max_size = size > max_size ? size : max_size;
	}
	*smallest = s->n_sizes ? min_size : 0;
	*largest = max_size;
	if (min_nonzero == 0) {
		*why = "no allocation has a size above 0";
		return false;
	}
	/* get_histogram_databins, step by step. */
	double low = log((double)min_nonzero);
	double high = log((double)max_size);
	if (low == high)
		low = low / 2;
	double step = (high - low) / STATS_HISTOGRAM_BINS;
	if (step == 0) {
		*why = "no allocation has a size above 1";
		return false;
	}
	for (int i = 0; i < STATS_HISTOGRAM_BINS; i++) {
		bins[i].upper = truncate_to_u64(exp(low + step * (i + 1)));
		bins[i].count = 0;
	}
	for (size_t i = 0; i < s->n_sizes; i++) {
		size_t bin = 0;
		if (s->sizes[i].size != 0) {
			double q = python_floor_div(log((double)s->sizes[i].size) - low, step);
			bin = q >= STATS_HISTOGRAM_BINS - 1 ? STATS_HISTOGRAM_BINS - 1 : (size_t)q;
		}
		bins[bin].count += s->sizes[i].count;
	}
	return true;
}

size_t
stats_allocators(const struct stats *s, uint8_t ids[256], uint64_t counts[256])
{
	uint64_t keys[256];
	size_t order[256];

	/* allocationCountByAllocator is an unordered_map<int, uint64_t>: its order, ... */
	for (size_t i = 0; i < s->n_allocators; i++)
		keys[i] = s->allocator_order[i];
	stl_iteration_order(keys, s->n_allocators, order);
	/* ... then sorted(..., key=count, reverse=True), which is stable (insertion sort). */
	for (size_t i = 0; i < s->n_allocators; i++) {
		uint8_t id = s->allocator_order[order[i]];
		size_t j = i;
		while (j > 0 && counts[j - 1] < s->by_allocator[id]) {
			ids[j] = ids[j - 1];
			counts[j] = counts[j - 1];
			j--;
		}
		ids[j] = id;
		counts[j] = s->by_allocator[id];
	}
	return s->n_allocators;
}

size_t
stats_stacks_by_first_use(const struct stats *s, const uint32_t **stacks)
{
	*stacks = s->first_use;
	return s->n_first_use;
}

uint32_t *
stats_stacks_in_map_order(const struct stats *s)
{
	uint64_t *keys = xreallocarray(NULL, s->n_first_use + 1, sizeof *keys);
	size_t *order = xreallocarray(NULL, s->n_first_use + 1, sizeof *order);
	uint32_t *stacks = xreallocarray(NULL, s->n_first_use + 1, sizeof *stacks);

	/* compute_statistics' stats_by_stack: an unordered_map keyed by the stack. */
	for (size_t i = 0; i < s->n_first_use; i++)
		keys[i] = s->first_use[i];
	stl_iteration_order(keys, s->n_first_use, order);
	for (size_t i = 0; i < s->n_first_use; i++)
		stacks[i] = s->first_use[order[i]];
	free(keys);
	free(order);
	return stacks;
}

const struct stats_stack *
stats_stack(const struct stats *s, uint32_t stack)
{
	return &s->by_stack[stack];
}
