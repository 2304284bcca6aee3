/*
 * support: helpers shared by the unit tests (tests/unit/support.c).
 *
 * A writer harness runs one writer of the registry (writer.h) into a
 * document held in memory, and rng() is the deterministic pseudo-random
 * generator of the randomized tests.  The helpers check what they do with
 * Check's assertions, so they are for use inside a test only.
 */
#ifndef MT_TEST_SUPPORT_H
#define MT_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "writer.h"

/* A writer under test and the document it writes to memory. */
struct writer_harness {
	const struct writer_ops *ops;
	void *state;			/* ops->begin's; NULL once ended */
	FILE *out;			/* the memory stream; NULL once closed */
	char *buf;			/* the document: complete once out is closed */
	size_t len;
	struct capture_header header;	/* what the writer is given */
};

/* Open a new memory stream at h->out, dropping the document before it. */
void writer_harness_open(struct writer_harness *h);
/* Close h->out and return the document: NUL-terminated, h->len bytes. */
const char *writer_harness_close(struct writer_harness *h);

/*
 * Begin a document in the named format on a new stream, with the header
 * { version 13, main tid 1, command_line }; config gives the writer's
 * options, and its out and header are filled in here.
 */
void writer_harness_begin(struct writer_harness *h, const char *format, const char *command_line,
    struct writer_config config);
/* Write one row to the document begun. */
void writer_harness_row(struct writer_harness *h, const char *allocator, uint64_t n_allocations,
    uint64_t size, uint64_t tid, const char *thread_name, size_t n_frames,
    const struct frame_text *frames);
/* End the document begun, close the stream and return the document. */
const char *writer_harness_finish(struct writer_harness *h);
/* Free the document; h is left as new (a checked fixture's teardown). */
void writer_harness_free(struct writer_harness *h);

/* xorshift64*: the same sequence for the same seed, so a randomized test is reproducible. */
void rng_seed(uint64_t seed);
uint64_t rng(void);

#endif
