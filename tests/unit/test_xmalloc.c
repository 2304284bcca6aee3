/* test_xmalloc: xgrowarray, the one way arrays grow, xgrowzeroed and xstrndup (xmalloc.h). */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "support.h"
#include "xmalloc.h"

/* One element at a time: the capacity starts at initial and doubles when full. */
START_TEST(test_grow_appending)
{
	uint32_t *p = NULL;
	size_t n = 0, cap = 0;

	for (uint32_t i = 0; i < 1000; i++) {
		size_t before = cap;
		uint32_t *old = p;
		p = xgrowarray(p, &cap, n + 1, sizeof *p, 16);
		if (n < before) {
			ck_assert_ptr_eq(p, old);
			ck_assert_uint_eq(cap, before);
		} else {
			ck_assert_uint_eq(cap, before ? 2 * before : 16);
		}
		p[n++] = i * 7 + 1;
	}
	ck_assert_uint_eq(cap, 1024);
	for (uint32_t i = 0; i < 1000; i++)
		ck_assert_uint_eq(p[i], i * 7 + 1);
	free(p);
}
END_TEST

/* A need well beyond the capacity doubles as often as it takes, keeping the contents. */
START_TEST(test_grow_jump)
{
	uint64_t *p = NULL;
	size_t cap = 0;

	p = xgrowarray(p, &cap, 10, sizeof *p, 3);
	ck_assert_uint_eq(cap, 12);
	for (size_t i = 0; i < 12; i++)
		p[i] = UINT64_MAX - i;
	p = xgrowarray(p, &cap, 100, sizeof *p, 3);
	ck_assert_uint_eq(cap, 192);
	for (size_t i = 0; i < 12; i++)
		ck_assert_uint_eq(p[i], UINT64_MAX - i);
	/* Room enough already: nothing changes. */
	uint64_t *same = xgrowarray(p, &cap, 192, sizeof *p, 3);
	ck_assert_ptr_eq(same, p);
	ck_assert_uint_eq(cap, 192);
	ck_assert_ptr_eq(xgrowarray(p, &cap, 0, sizeof *p, 3), p);
	ck_assert_uint_eq(cap, 192);
	free(p);

	/* An initial capacity of 0 counts as 1. */
	char *c = NULL;
	cap = 0;
	c = xgrowarray(c, &cap, 5, 1, 0);
	ck_assert_uint_eq(cap, 8);
	free(c);
}
END_TEST

/* More bytes than a size_t holds: out of memory, exit status 1. */
START_TEST(test_grow_overflow)
{
	size_t cap = 16;

	xgrowarray(NULL, &cap, SIZE_MAX / 4 + 1, 4, 16);
}
END_TEST

/* Doubling would pass SIZE_MAX: the need itself is asked for (and is too much). */
START_TEST(test_grow_past_size_max)
{
	size_t cap = 16;

	xgrowarray(NULL, &cap, SIZE_MAX, 2, 16);
}
END_TEST

/* Indexes that skip ahead: every element up to the need is there, the new ones zero. */
START_TEST(test_grow_zeroed)
{
	uint64_t *a = NULL;
	size_t len = 0, cap = 0;

	a = xgrowzeroed(a, &len, &cap, 3, sizeof *a);
	ck_assert_uint_eq(len, 3);
	ck_assert_uint_ge(cap, 3);
	a[2] = 7;
	a = xgrowzeroed(a, &len, &cap, 2, sizeof *a);	/* already there: unchanged */
	ck_assert_uint_eq(len, 3);
	a = xgrowzeroed(a, &len, &cap, 100, sizeof *a);
	ck_assert_uint_eq(len, 100);
	ck_assert_uint_eq(a[2], 7);
	for (size_t i = 3; i < 100; i++)
		ck_assert_uint_eq(a[i], 0);
	free(a);
	char *s = xstrndup("memray", 3);
	ck_assert_str_eq(s, "mem");
	free(s);
}
END_TEST

static Suite *
xmalloc_suite(void)
{
	Suite *s = suite_create("xmalloc");
	TCase *tc = tcase_create("xgrowarray");

	tcase_add_test(tc, test_grow_appending);
	tcase_add_test(tc, test_grow_jump);
	tcase_add_test(tc, test_grow_zeroed);
	tcase_add_exit_test(tc, test_grow_overflow, 1);
	tcase_add_exit_test(tc, test_grow_past_size_max, 1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(xmalloc_suite());
}
