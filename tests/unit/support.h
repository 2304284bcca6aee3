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

#include <check.h>

#include "writer.h"

/* A writer under test and the document it writes to memory. */
struct writer_harness {
	const struct writer_ops *ops;
	void *state;			/* ops->begin's; NULL once ended */
	FILE *out;			/* the memory stream; NULL once closed */
	char *buf;			/* the document: complete once out is closed */
	size_t len;
};

/* Open a new memory stream at h->out, dropping the document before it. */
void writer_harness_open(struct writer_harness *h);
/* Close h->out and return the document: NUL-terminated, h->len bytes. */
const char *writer_harness_close(struct writer_harness *h);

/*
 * Begin a document in the named format on a new stream for the traced
 * command command_line; config gives the writer's other options, and its
 * out and command_line are filled in here.
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

/*
 * Check's ck_assert_* write their place to Check's message file on every
 * call, one system call each: in a randomized loop of many steps that
 * costs more than the code under test (test_u64index spent 20 s so).
 * require() and require_uint_eq() assert the same and reach Check only
 * when they fail, with the place of the failing call.
 */
#define require(expr)							\
	do {								\
		if (!(expr))						\
			ck_abort_msg("Assertion '%s' failed", #expr);	\
	} while (0)
#define require_uint_eq(a, b)						\
	do {								\
		uintmax_t require_a_ = (a), require_b_ = (b);		\
		if (require_a_ != require_b_)				\
			ck_abort_msg("Assertion '%s == %s' failed: %ju != %ju", \
			    #a, #b, require_a_, require_b_);		\
	} while (0)

/*
 * The number of steps a randomized test takes: n, which finishes in well
 * under a second, or 100 n with MT_LARGE_TESTS=1 in the environment (a
 * soak run).
 */
uint64_t test_steps(uint64_t n);

/* Run every test of suite s; the exit status of a test program. */
int run_suite(Suite *s);

/* xorshift64*: the same sequence for the same seed, so a randomized test is reproducible. */
void rng_seed(uint64_t seed);
uint64_t rng(void);

#endif
