/*
 * test_xmalloc: xgrowarray, the one way arrays grow, xgrowzeroed,
 * xstrndup, and large blocks, tables and arrays in huge pages (xmalloc.h).
 */
#define _DEFAULT_SOURCE	/* MADV_HUGEPAGE, beside -D_POSIX_C_SOURCE */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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

#define MIB ((size_t)1 << 20)

/*
 * A large array's capacity is what the huge pages it fills hold, less
 * glibc's 24 bytes: doubling to 4 MiB gives 3 elements fewer, not a third
 * huge page for 24 bytes; past that, the next whole huge page.
 */
START_TEST(test_grow_large_fills_huge_pages)
{
	uint64_t *p = NULL;
	size_t cap = 0;

	p = xgrowarray(p, &cap, 300000, sizeof *p, 16);
	ck_assert_uint_eq(cap, (4 * MIB - 24) / sizeof *p);
	for (size_t i = 0; i < cap; i++)
		p[i] = i ^ 0x5555;
	p = xgrowarray(p, &cap, cap + 1, sizeof *p, 16);
	ck_assert_uint_eq(cap, (8 * MIB - 24) / sizeof *p);
	for (size_t i = 0; i < (4 * MIB - 24) / sizeof *p; i++)
		ck_assert_uint_eq(p[i], i ^ 0x5555);
	free(p);

	/* Elements that do not divide the huge pages: as many as fit. */
	char (*q)[24] = NULL;
	cap = 0;
	q = xgrowarray(q, &cap, 100000, sizeof *q, 16);
	ck_assert_uint_eq(cap, (4 * MIB - 24) / sizeof *q);
	free(q);
}
END_TEST

/*
 * A hash table's capacity: as asked below 256 KiB and from 2 MiB on;
 * between, doubled while it fits the huge page it takes.
 */
START_TEST(test_table_capacity)
{
	ck_assert_uint_eq(xtable_capacity(1024, 8), 1024);
	ck_assert_uint_eq(xtable_capacity(32768, 6), 32768);	/* 192 KiB */
	ck_assert_uint_eq(xtable_capacity(65536, 6), 262144);	/* 384 KiB -> 1.5 MiB */
	ck_assert_uint_eq(xtable_capacity(262144, 6), 262144);
	ck_assert_uint_eq(xtable_capacity(524288, 6), 524288);	/* 3 MiB */
	ck_assert_uint_eq(xtable_capacity(16384, 16), 131072);	/* 256 KiB -> 2 MiB */
	ck_assert_uint_eq(xtable_capacity(131072, 16), 131072);
	ck_assert_uint_eq(xtable_capacity(262144, 16), 262144);
}
END_TEST

/*
 * A large hot array (xbig_grow): below 256 KiB it grows as xgrowarray;
 * past that its capacity fills whole huge pages, and its contents move
 * with it at every growth.
 */
START_TEST(test_big_array_grows)
{
	uint32_t *p = NULL;
	size_t cap = 0, n = 0, growths = 0, wrong = 0;

	for (uint32_t i = 0; i < 600000; i++) {
		size_t before = cap;
		p = xbig_grow(p, &cap, n + 1, sizeof *p, 64);
		if (cap != before) {
			growths++;
			if (cap * sizeof *p >= 256 * 1024)
				ck_assert_uint_eq(cap * sizeof *p % (2 * MIB), 0);
			else
				ck_assert_uint_eq(cap, before ? 2 * before : 64);
		}
		p[n++] = i * 2654435761u;
	}
	/* 64 elements, doubled up to 128 KiB (10 growths), then 2 MiB and 4 MiB. */
	ck_assert_uint_eq(growths, 12);
	ck_assert_uint_eq(cap, 4 * MIB / sizeof *p);
	for (uint32_t i = 0; i < n; i++)
		wrong += p[i] != i * 2654435761u;
	ck_assert_uint_eq(wrong, 0);
	ck_assert_ptr_eq(xbig_grow(p, &cap, cap, sizeof *p, 64), p);
	xbig_free(p, cap, sizeof *p);
}
END_TEST

#if defined(__GLIBC__) && defined(MADV_HUGEPAGE) && !defined(__SANITIZE_ADDRESS__)
/* A mapping as /proc/self/smaps shows it. */
struct mapping {
	uint64_t length;
	uint64_t resident;	/* bytes ("Rss") */
	bool huge;		/* advised for huge pages ("hg" among its VmFlags) */
};

/* The mapping that holds address, in *m; false if none does. */
static bool
mapping_at(const void *address, struct mapping *m)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	bool found = false;
	uint64_t at = (uint64_t)(uintptr_t)address, start, end, kib;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " ", &start, &end) == 2) {
			found = start <= at && at < end;
			if (found)
				m->length = end - start;
		} else if (found && sscanf(line, "Rss: %" SCNu64 " kB", &kib) == 1) {
			m->resident = kib * 1024;
		} else if (found && strncmp(line, "VmFlags:", 8) == 0) {
			m->huge = strstr(line, " hg") != NULL;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * A large block lies in a mapping of its own of whole huge pages, all of
 * it advised for huge pages (one mapping, which mremap can grow).
 */
START_TEST(test_large_block_advised)
{
	struct mapping m;
	/* Nothing large freed before them: glibc maps them (see xmalloc.c). */
	char *whole = xmalloc(4 * MIB - 24), *longer = xcalloc(3 * MIB, 1), *small = xmalloc(MIB);

	ck_assert(mapping_at(whole, &m));
	ck_assert(m.huge);
	ck_assert_uint_eq(m.length, 4 * MIB);
	ck_assert(mapping_at(longer + 3 * MIB - 1, &m));
	ck_assert(m.huge);
	ck_assert_uint_eq(m.length, 4 * MIB);
	ck_assert(mapping_at(longer, &m));
	ck_assert_uint_eq(m.length, 4 * MIB);
	/* Small blocks are left alone. */
	ck_assert(mapping_at(small, &m));
	ck_assert(!m.huge);
	free(whole);
	free(longer);
	free(small);
}
END_TEST

/*
 * A large hash table's slots: zeroed, on a 2 MiB boundary, in a mapping
 * of their own.  The huge pages they fill are advised, the rest is in
 * small pages, already there; a table smaller than a huge page has one.
 * A small table is not mapped.
 */
START_TEST(test_large_table_mapped)
{
	struct mapping m;
	size_t count = (3 * MIB) / sizeof(uint64_t), one = MIB / sizeof(uint64_t);
	uint64_t *table = xtable_new(count, sizeof *table), *smaller = xtable_new(one, sizeof *smaller),
		 *small = xtable_new(1000, sizeof *small);

	ck_assert_uint_eq((uintptr_t)table % (2 * MIB), 0);
	ck_assert(mapping_at(table, &m));
	ck_assert(m.huge);
	ck_assert_uint_eq(m.length, 2 * MIB);
	ck_assert(mapping_at((char *)table + 2 * MIB, &m));
	ck_assert(!m.huge);
#ifdef MADV_POPULATE_WRITE
	ck_assert_uint_eq(m.resident, MIB);
#endif
	for (size_t i = 0; i < count; i++)
		ck_assert_uint_eq(table[i], 0);
	ck_assert_uint_eq((uintptr_t)smaller % (2 * MIB), 0);
	ck_assert(mapping_at(smaller, &m));
	ck_assert(m.huge);
	ck_assert_uint_eq(m.length, 2 * MIB);
	for (size_t i = 0; i < 1000; i++)
		ck_assert_uint_eq(small[i], 0);
	ck_assert(mapping_at(small, &m));
	ck_assert(!m.huge);
	xtable_free(table, count, sizeof *table);
	ck_assert(!mapping_at(table, &m));
	ck_assert(!mapping_at((char *)table + 2 * MIB, &m));
	xtable_free(smaller, one, sizeof *smaller);
	ck_assert(!mapping_at(smaller, &m));
	xtable_free(small, 1000, sizeof *small);
}
END_TEST

/*
 * A large hot array lies in huge pages from its start, on a 2 MiB
 * boundary, also once grown; freed, it is gone.
 */
START_TEST(test_big_array_mapped)
{
	struct mapping m;
	size_t cap = 0;
	uint64_t *p = xbig_grow(NULL, &cap, 300000, sizeof *p, 16);

	ck_assert_uint_eq(cap, 4 * MIB / sizeof *p);
	ck_assert_uint_eq((uintptr_t)p % (2 * MIB), 0);
	ck_assert(mapping_at(p, &m));
	ck_assert(m.huge);
	ck_assert_uint_eq(m.length, 4 * MIB);
	p[cap - 1] = 7;
	/* Grown: moved whole, to a new boundary, all of it advised. */
	p = xbig_grow(p, &cap, cap + 1, sizeof *p, 16);
	ck_assert_uint_eq(cap, 8 * MIB / sizeof *p);
	ck_assert_uint_eq(p[4 * MIB / sizeof *p - 1], 7);
	ck_assert_uint_eq((uintptr_t)p % (2 * MIB), 0);
	ck_assert(mapping_at(p, &m));
	ck_assert(m.huge);
	ck_assert(mapping_at((char *)p + 6 * MIB, &m));
	ck_assert(m.huge);
	xbig_free(p, cap, sizeof *p);
	ck_assert(!mapping_at(p, &m));
	ck_assert(!mapping_at((char *)p + 6 * MIB, &m));
}
END_TEST
#endif

static Suite *
xmalloc_suite(void)
{
	Suite *s = suite_create("xmalloc");
	TCase *tc = tcase_create("xgrowarray");

	tcase_add_test(tc, test_grow_appending);
	tcase_add_test(tc, test_grow_jump);
	tcase_add_test(tc, test_grow_zeroed);
	tcase_add_test(tc, test_grow_large_fills_huge_pages);
	tcase_add_test(tc, test_big_array_grows);
	tcase_add_test(tc, test_table_capacity);
#if defined(__GLIBC__) && defined(MADV_HUGEPAGE) && !defined(__SANITIZE_ADDRESS__)
	tcase_add_test(tc, test_large_block_advised);
	tcase_add_test(tc, test_large_table_mapped);
	tcase_add_test(tc, test_big_array_mapped);
#endif
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
