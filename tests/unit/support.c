/*
 * support: helpers shared by the unit tests (support.h says what they are):
 * the writer harness, the tests' pseudo-random generator and run_suite.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"

void
writer_harness_open(struct writer_harness *h)
{
	free(h->buf);	/* the previous document of this test */
	h->buf = NULL;
	h->out = open_memstream(&h->buf, &h->len);
	ck_assert_ptr_nonnull(h->out);
}

const char *
writer_harness_close(struct writer_harness *h)
{
	ck_assert_int_eq(fclose(h->out), 0);
	h->out = NULL;
	return h->buf;
}

void
writer_harness_begin(struct writer_harness *h, const char *format, const char *command_line,
    struct writer_config config)
{
	h->ops = writer_find(format);
	ck_assert_ptr_nonnull(h->ops);
	writer_harness_open(h);
	config.out = h->out;
	config.command_line = command_line;
	h->state = h->ops->begin(&config);
	ck_assert_ptr_nonnull(h->state);
}

void
writer_harness_row(struct writer_harness *h, const char *allocator, uint64_t n_allocations,
    uint64_t size, uint64_t tid, const char *thread_name, size_t n_frames,
    const struct frame_text *frames)
{
	struct output_row r = {
		.allocator = allocator, .n_allocations = n_allocations, .size = size, .tid = tid,
		.thread_name = thread_name, .n_frames = n_frames, .frames = frames,
	};

	h->ops->row(h->state, &r);
}

const char *
writer_harness_finish(struct writer_harness *h)
{
	h->ops->end(h->state);
	h->state = NULL;
	return writer_harness_close(h);
}

void
writer_harness_free(struct writer_harness *h)
{
	free(h->buf);
	*h = (struct writer_harness){ 0 };
}

static uint64_t rng_state;

void
rng_seed(uint64_t seed)
{
	rng_state = seed;
}

uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * UINT64_C(0x2545F4914F6CDD1D);
}

uint64_t
test_steps(uint64_t n)
{
	const char *large = getenv("MT_LARGE_TESTS");

	return large != NULL && strcmp(large, "1") == 0 ? 100 * n : n;
}

int
run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);

	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
