/*
 * native_segments: which loaded image covers a native address, in one
 * generation of the traced process's memory map (doc/capture-format.md
 * §6.2).  capture.c keeps the generations; this is the lookup rule.
 */
#ifndef MT_NATIVE_SEGMENTS_H
#define MT_NATIVE_SEGMENTS_H

#include <stddef.h>
#include <stdint.h>

struct native_image;

/* An address range of a memory-map generation, and the image it maps. */
struct native_segment {
	uint64_t start;
	uint64_t end;
	const struct native_image *image;
};

/* Sort a generation's segments by (start, end, path), as memray does. */
void native_segments_sort(struct native_segment *segments, size_t n);

/*
 * The sorted segment that maps ip, or NULL.  memray takes the first segment
 * whose end >= ip, and ip is mapped only if that one contains it: an ip
 * equal to a segment's end is unmapped even if the next segment starts
 * there [SymbolResolver::resolveFromSegments, findModule].
 */
const struct native_segment *native_segments_find(const struct native_segment *segments,
    size_t n, uint64_t ip);

#endif
