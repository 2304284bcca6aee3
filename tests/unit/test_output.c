/* test_output: the report's stream (output.h) writes in large pieces. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "output.h"
#include "support.h"

/* Read what the pipe holds now, up to cap bytes, without waiting. */
static size_t
drain(int fd, char *buf, size_t cap)
{
	size_t got = 0;
	ssize_t n;

	while (got < cap && (n = read(fd, buf + got, cap - got)) > 0)
		got += (size_t)n;
	return got;
}

/*
 * Standard output into a pipe: 32 KiB written stay in the stream's
 * buffer (glibc's own, the pipe's 4 KiB block, would have passed them on
 * a block at a time), and all of them arrive at output_close.
 */
START_TEST(test_stdout_written_in_large_pieces)
{
	static char text[32768], got[65536];
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ne(dup2(fds[1], STDOUT_FILENO), -1);
	close(fds[1]);
	ck_assert_int_ne(fcntl(fds[0], F_SETFL, O_NONBLOCK), -1);
	FILE *out = output_open(NULL, -1);
	ck_assert_ptr_eq(out, stdout);
	memset(text, 'x', sizeof text);
	ck_assert_uint_eq(fwrite(text, 1, sizeof text, out), sizeof text);
	ck_assert_uint_eq(drain(fds[0], got, sizeof got), 0);
	ck_assert_int_eq(output_close(out, 0), 0);
	ck_assert_uint_eq(drain(fds[0], got, sizeof got), sizeof text);
	ck_assert(memcmp(got, text, sizeof text) == 0);
	close(fds[0]);
}
END_TEST

static Suite *
output_suite(void)
{
	Suite *s = suite_create("output");
	TCase *tc = tcase_create("buffer");

	tcase_add_test(tc, test_stdout_written_in_large_pieces);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(output_suite());
}
