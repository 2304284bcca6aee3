/* native_segments: the image that maps an address (see native_segments.h). */
#include "native_segments.h"

#include <stdlib.h>
#include <string.h>

#include "native_symbols.h"

static int
compare_segments(const void *a, const void *b)
{
	const struct native_segment *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->image->path, y->image->path);
}

void
native_segments_sort(struct native_segment *segments, size_t n)
{
	qsort(segments, n, sizeof *segments, compare_segments);
}

const struct native_segment *
native_segments_find(const struct native_segment *segments, size_t n, uint64_t ip)
{
	/* std::lower_bound with "end < ip": the same probes, for overlapping segments too. */
	size_t lo = 0, len = n;

	while (len > 0) {
		size_t half = len / 2;
		if (segments[lo + half].end < ip) {
			lo += half + 1;
			len -= half + 1;
		} else {
			len = half;
		}
	}
	if (lo == n || ip < segments[lo].start || ip >= segments[lo].end)
		return NULL;
	return &segments[lo];
}
