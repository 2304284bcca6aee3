/*
 * writer: the output formats.
 *
 * A writer gets the report's rows one at a time, in row order, already
 * resolved to text, and streams its format to a FILE.  Adding a format is
 * adding one *_writer.c file (named after the format: csv_writer.c holds
 * csv_writer) with a `struct writer_ops`, its extern below, its line in
 * writer.c's table (which writer_find, writer_names and so --help, the
 * error messages and the fuzzer follow) and in src/Makefile.am.
 */
#ifndef MT_WRITER_H
#define MT_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "frame.h"
#include "u64map.h"

struct output_row {
	const char *allocator;		/* "MALLOC", ... */
	uint64_t n_allocations;
	uint64_t size;
	uint64_t tid;
	const char *thread_name;	/* NULL or "" if the thread had none */
	size_t n_frames;
	const struct frame_text *frames;	/* most recent first */
};

/* What -f folded weighs a stack by (--count). */
enum writer_count {
	WRITER_COUNT_BYTES,		/* the default */
	WRITER_COUNT_ALLOCATIONS
};

/*
 * What the report's rows measure (pprof's sample types): the heap in use
 * (peak and leaks reports) or everything allocated (temporary).
 */
enum writer_mode {
	WRITER_MODE_IN_USE,		/* the default */
	WRITER_MODE_ALLOCATED
};

/*
 * What a writer knows of the run: the output, the options that shape a
 * format, and the few capture header fields a format shows.  It holds
 * plain values, so that writers need nothing of the layers below them.
 */
struct writer_config {
	FILE *out;
	bool crlf;				/* CSV: end lines with CR LF, as memray */
	const char *command_line;		/* the traced command; NULL or "" if none */
	int64_t start_time, end_time;		/* ms since the epoch; 0 if unknown */
	enum writer_mode mode;			/* pprof: in-use or allocated samples */
	enum writer_count count;		/* folded: bytes or allocations */
	bool split_threads;			/* rows are per (stack, thread): folded adds a thread frame */
	bool color;				/* summary: bold headings and block bars */
};

struct stats_summary;

/* The heap at a MEMORY_RECORD of the capture, or at its end (-f timeline). */
struct memory_sample {
	uint64_t ms;			/* since the capture started */
	bool has_rss;			/* false at the end, where the capture has none */
	uint64_t rss;			/* resident set size, bytes */
	uint64_t heap;			/* tracked heap, bytes */
	uint64_t allocations;		/* live allocations */
	uint64_t peak;			/* the largest heap so far */
};

/*
 * A writer writes one of: a report's rows (row); the statistics of the
 * whole capture (statistics, for -f stats and summary: the pipeline then
 * gathers them); or the capture's memory samples (sample, -f timeline).
 * begin of a statistics writer writes nothing, so that statistics can
 * still refuse: it returns false, with a message, when memray would fail,
 * and has written nothing then.
 */
struct writer_ops {
	const char *name;
	void *(*begin)(const struct writer_config *config);
	void (*row)(void *state, const struct output_row *row);
	bool (*statistics)(void *state, const struct stats_summary *summary);
	void (*sample)(void *state, const struct memory_sample *sample);
	/* Finish the document and free the state. */
	void (*end)(void *state);
};

extern const struct writer_ops csv_writer;
extern const struct writer_ops gprof2dot_writer;
extern const struct writer_ops speedscope_writer;
extern const struct writer_ops folded_writer;
extern const struct writer_ops pprof_writer;
extern const struct writer_ops stats_writer;
extern const struct writer_ops summary_writer;
extern const struct writer_ops timeline_writer;

/* The writer for a format name (case-insensitive, as memray), or NULL. */
const struct writer_ops *writer_find(const char *name);
/*
 * The format names in the table's order joined by separator: "csv,
 * gprof2dot, ..." with ", ".  A static buffer, overwritten by the next call.
 */
const char *writer_names(const char *separator);

/*
 * A row's thread as memray's CSV thread_name column shows it: "0x1", or
 * "0x2 (worker)" when the thread has a non-empty name; a tid of -1 is
 * "merged thread".  Always NUL-terminated; cut to fit size.
 */
void writer_thread_label(char *buf, size_t size, uint64_t tid, const char *name);

/*
 * frame_table: frames numbered in order of first appearance, for the JSON
 * writers.  gprof2dot numbers functions by (function, file), ignoring the
 * line; speedscope numbers frames by (function, file, line).  The table
 * keeps its own copies of the strings.
 */
struct frame_table {
	struct u64map index;		/* hash of the key -> index into frames */
	struct frame_text *frames;
	size_t count, cap;
	bool with_line;			/* is the line part of the key? */
};

void frame_table_init(struct frame_table *t, bool with_line);
void frame_table_free(struct frame_table *t);
/*
 * The number of f's key, numbering it if it is new.  Without with_line the
 * stored frame keeps the line it was first seen with.
 */
uint32_t frame_table_intern(struct frame_table *t, const struct frame_text *f);

/*
 * A 64-bit hash of len bytes, continuing from h (for hash tables): keyed
 * per run, so that a capture cannot choose names that collide.
 */
uint64_t writer_hash_bytes(uint64_t h, const void *data, size_t len);

#endif
