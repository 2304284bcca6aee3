/*
 * transform: the pipeline from input bytes to a written report.
 *
 *   byte_source -> record_decoder -> record_queue -> capture -> report -> writer
 *
 * With --threads above 1, a reader thread decodes (record_queue.h) while
 * the main thread follows the capture and makes the report, with the same
 * records, so the same output and messages.
 * One pass over the input.  Nothing is written before the whole input has
 * been read, so an error leaves the output empty.
 */
#ifndef MT_TRANSFORM_H
#define MT_TRANSFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "writer.h"

struct transform_options {
	enum report_mode mode;
	uint64_t threshold;		/* temporary mode: N */
	const struct writer_ops *writer;
	bool crlf;
	bool strict;			/* a damaged record stream is an error, not a warning */
	enum writer_count count;	/* --count: what -f folded weighs stacks by */
	bool split_threads;		/* --split-threads: group by (stack, thread) */
	const char *symfs;		/* --symfs: root the native binaries are read under */
	size_t num_largest;		/* --num-largest: length of the statistics' top lists */
	bool color;			/* -f summary: bold and blocks (a terminal, no NO_COLOR) */
	const char *const *threads;	/* --thread: tids as printed ("0x2") or names */
	size_t n_threads;		/* 0: every thread */
	unsigned cpu_threads;		/* --threads: above 1, decode in a reader thread */
};

/*
 * Transform the capture read from fd and write the report to out.
 * Messages go to stderr.  Returns the exit status: 0, or 1 on error (in
 * which case nothing was written to out).
 */
int transform_run(int fd, FILE *out, const struct transform_options *opts);

#endif
