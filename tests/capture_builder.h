/*
 * capture_builder: the one encoder of memray captures outside the
 * program, shared by the unit tests, bench/gen-capture and
 * tests/fuzz/gen_large.
 *
 * A growable byte buffer and the encodings the format is made of:
 * little-endian fixed-width fields, varints and zigzag varints
 * (src/varint.h), NUL-terminated strings, and the format-13 header.  The
 * callers put records together from these; a generator that streams hands
 * the bytes on (to stdout or a compressor) and clears the buffer.
 * Allocation failure ends the process: these are tools and tests.
 */
#ifndef MT_CAPTURE_BUILDER_H
#define MT_CAPTURE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct capture_builder {
	uint8_t *data;
	size_t len, cap;
};

/* The fields of a format-13 header, in the order they are written. */
struct capture_header_fields {
	uint32_t version;			/* 13 */
	uint32_t python_version;		/* PY_VERSION_HEX, e.g. 0x030B02F0 */
	bool native_traces;
	uint8_t file_format;			/* 0: ALL_ALLOCATIONS, 1: AGGREGATED_ALLOCATIONS */
	uint64_t n_allocations, n_frames;	/* the stats memray rewrites at exit */
	uint64_t start_time, end_time;		/* milliseconds since the epoch */
	const char *command_line;
	uint32_t pid;
	uint64_t main_tid;
	uint64_t skipped_frames_on_main_tid;
	uint8_t python_allocator;		/* 1: pymalloc, ... */
	bool trace_python_allocators;
	bool track_object_lifetimes;
	const char *libdest;
	const char *const *site_packages;	/* NULL-terminated; NULL for none */
	const char *const *sys_path;		/* likewise */
};

/* Room for n more bytes at data + len. */
void builder_reserve(struct capture_builder *b, size_t n);
void builder_bytes(struct capture_builder *b, const void *data, size_t n);
void builder_u8(struct capture_builder *b, uint8_t v);
/* v as a little-endian field of `bytes` bytes (1-8). */
void builder_le(struct capture_builder *b, uint64_t v, unsigned bytes);
void builder_varint(struct capture_builder *b, uint64_t v);
void builder_svarint(struct capture_builder *b, int64_t v);
/* s with its terminating NUL. */
void builder_cstr(struct capture_builder *b, const char *s);
/* The header (doc/capture-format.md §2). */
void builder_header(struct capture_builder *b, const struct capture_header_fields *h);
/* Forget the bytes, keep the buffer. */
void builder_clear(struct capture_builder *b);
void builder_free(struct capture_builder *b);

#endif
