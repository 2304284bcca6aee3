/*
 * writer: the output formats.
 *
 * A writer gets the report's rows one at a time, in row order, already
 * resolved to text, and streams its format to a FILE.  Adding a format is
 * adding one writer_*.c file with a `struct writer_ops` and one line in
 * writer.c.
 */
#ifndef MT_WRITER_H
#define MT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "capture.h"
#include "record_decoder.h"

struct output_row {
	const char *allocator;		/* "MALLOC", ... */
	uint64_t n_allocations;
	uint64_t size;
	uint64_t tid;
	const char *thread_name;	/* NULL or "" if the thread had none */
	size_t n_frames;
	const struct frame_text *frames;	/* most recent first */
};

struct writer_config {
	FILE *out;
	bool crlf;				/* CSV: end lines with CR LF, as memray */
	const struct capture_header *header;
};

struct writer_ops {
	const char *name;
	void *(*begin)(const struct writer_config *config);
	void (*row)(void *state, const struct output_row *row);
	/* Finish the document and free the state. */
	void (*end)(void *state);
};

extern const struct writer_ops csv_writer;

/* The writer for a format name (case-insensitive, as memray), or NULL. */
const struct writer_ops *writer_find(const char *name);
/* The format names, for --help: "csv, gprof2dot, speedscope". */
const char *writer_names(void);

#endif
