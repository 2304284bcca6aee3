/*
 * test_linetable: instruction offset to line (linetable.h), with the worked
 * examples of doc/capture-format.md §5.3 and fixes F3 and F4 of §0.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>

#include "linetable.h"
#include "support.h"

#define PY39 0x030912F0		/* 3.9.18 */
#define PY310 0x030A0CF0	/* 3.10.12 */
#define PY311 0x030B07F0	/* 3.11.7 */
#define PY312 0x030C00F0
#define PY313 0x030D00F0

/* §5.3.3: CPython 3.11, def f(n): / x = [0] * n / return len(x), first line 1. */
static const uint8_t table311[24] = {
	0x80, 0x00, 0xd8, 0x09, 0x0a, 0x88, 0x03, 0x88, 0x61, 0x89, 0x07, 0x80,
	0x41, 0xdd, 0x0b, 0x0e, 0x88, 0x71, 0x89, 0x36, 0x8c, 0x36, 0x80, 0x4d,
};

START_TEST(test_39_worked_example)
{
	/* §5.3.1: def f(n): x=[0]*n / return len(x), lnotab 00 01 0A 01. */
	static const uint8_t t[] = { 0x00, 0x01, 0x0A, 0x01 };

	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 10), 3);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 0), 2);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 8), 2);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 9), 2);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 12), 3);
	/* The same table moved down by firstlineno. */
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 100, 10), 102);
}
END_TEST

START_TEST(test_39_unsigned_delta_f3)
{
	/*
	 * §5.3.1 (CPython 3.9.18): def f(): / x = [a0, ..., a79] / y = 1 /
	 * return y, lnotab 00 01 A4 01 04 01.  CPython (and F3) maps offset
	 * 164 to line 3 and 170 to line 4; stock memray on x86-64 says 2.
	 */
	static const uint8_t t[] = { 0x00, 0x01, 0xA4, 0x01, 0x04, 0x01 };

	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 164), 3);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 170), 4);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 166), 3);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 168), 4);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 163), 2);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 0), 2);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 1, 100), 2);
}
END_TEST

START_TEST(test_39_negative_line_delta_and_odd_length)
{
	/* Line deltas are signed: FF is -1.  An odd table ends with a line delta of 0. */
	static const uint8_t t[] = { 0x00, 0x05, 0x04, 0xFF, 0x06 };

	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 10, 0), 15);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 10, 3), 15);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 10, 4), 14);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 10, 9), 14);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 10, 10), 14);
	ck_assert_int_eq(linetable_line(PY39, t, sizeof t, 10, 1000), 14);
}
END_TEST

START_TEST(test_310_worked_example)
{
	/* §5.3.2: same function, co_linetable 0A 01 08 01; the offset counts code units. */
	static const uint8_t t[] = { 0x0A, 0x01, 0x08, 0x01 };

	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 1, 5), 3);
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 1, 0), 2);
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 1, 4), 2);
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 1, 8), 3);
	/* Past the table: the last line. */
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 1, 9), 3);
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 1, 500), 3);
}
END_TEST

START_TEST(test_310_no_line_entries)
{
	/* A line delta of -128 (0x80) is "no line": the previous line is kept. */
	static const uint8_t t[] = { 0x04, 0x02, 0x04, 0x80, 0x04, 0xFF };

	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 7, 0), 9);	/* byte 0 */
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 7, 2), 9);	/* byte 4: second pair */
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 7, 4), 8);	/* byte 8: -1 */
	ck_assert_int_eq(linetable_line(PY310, t, sizeof t, 7, 5), 8);
}
END_TEST

START_TEST(test_311_worked_example)
{
	/* §5.3.3: offset 32 (the CALL) -> line 3; 8 -> line 2; 44 or more -> not found (0). */
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, 32), 3);
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, 8), 2);
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, 44), 0);
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, 46), 0);
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, 1000), 0);
}
END_TEST

START_TEST(test_311_every_entry)
{
	/*
	 * The entries of §5.3.3, in code units: [0,1) line 1, [1,2) 2, [2,3) 2,
	 * [3,4) 2, [4,6) 2, [6,7) 2, [7,13) 3, [13,14) 3, [14,16) 3, [16,21) 3,
	 * [21,22) 3.  The offset is in bytes (two a code unit).
	 */
	static const int32_t line_of_unit[22] = {
		1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	};

	for (int q = 0; q < 22; q++) {
		ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, 2 * q),
		    line_of_unit[q]);
		/* An odd byte offset belongs to the same code unit. */
		ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, 2 * q + 1),
		    line_of_unit[q]);
	}
	/* 3.12 and 3.13 use the same table format. */
	ck_assert_int_eq(linetable_line(PY312, table311, sizeof table311, 1, 32), 3);
	ck_assert_int_eq(linetable_line(PY313, table311, sizeof table311, 1, 8), 2);
	/* firstlineno shifts everything. */
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 41, 32), 43);
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 41, 0), 41);
}
END_TEST

START_TEST(test_311_long_no_columns_none)
{
	/*
	 * Entry codes other than the worked example's:
	 *  0xF0 LONG len 1: line += sv(4)=+2, end line 0, col 0, end col 0 -> [0,1) line 12
	 *  0xE9 NO_COLUMNS len 2: line += sv(3)=-1 -> [1,3) line 11
	 *  0xF9 NONE len 2: line unchanged -> [3,5) line 11
	 *  0xE8 NO_COLUMNS len 1, a two-byte varint: 0x42 0x01 = 2 | 1<<6 = 66 -> +33 -> [5,6) line 44
	 *  0x00 ends the table.
	 */
	static const uint8_t t[] = {
		0xF0, 0x04, 0x00, 0x00, 0x00,
		0xE9, 0x03,
		0xF9,
		0xE8, 0x42, 0x01,
		0x00, 0x88, 0x00,
	};

	ck_assert_int_eq(linetable_line(PY311, t, sizeof t, 10, 0), 12);
	ck_assert_int_eq(linetable_line(PY311, t, sizeof t, 10, 2), 11);
	ck_assert_int_eq(linetable_line(PY311, t, sizeof t, 10, 4), 11);
	ck_assert_int_eq(linetable_line(PY311, t, sizeof t, 10, 6), 11);
	ck_assert_int_eq(linetable_line(PY311, t, sizeof t, 10, 8), 11);
	ck_assert_int_eq(linetable_line(PY311, t, sizeof t, 10, 10), 44);
	/* Nothing is read past the 0x00 entry byte. */
	ck_assert_int_eq(linetable_line(PY311, t, sizeof t, 10, 12), 0);
}
END_TEST

START_TEST(test_line_arithmetic_wraps)
{
	/*
	 * A crafted table can take a line past 32 and even 64 bits; the sum
	 * wraps as 32-bit arithmetic does, with no undefined overflow (which
	 * the sanitizer build would stop on).
	 */
	static const uint8_t lnotab[] = { 0x00, 0x01 };	/* bytecode +0, line +1 */
	static const uint8_t t310[] = { 0x02, 0x01 };	/* start +2, line +1 */
	/* Two NO_COLUMNS entries of one code unit, each line += 2^62 (varint 2^63). */
	static const uint8_t t311[] = {
		0xE8, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x08,
		0xE8, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x40, 0x08,
		0x00,
	};

	ck_assert_int_eq(linetable_line(PY39, lnotab, sizeof lnotab, INT32_MAX, 0), INT32_MIN);
	ck_assert_int_eq(linetable_line(PY310, t310, sizeof t310, INT32_MAX, 0), INT32_MIN);
	ck_assert_int_eq(linetable_line(PY311, t311, sizeof t311, 10, 0), 10);
	ck_assert_int_eq(linetable_line(PY311, t311, sizeof t311, 10, 2), 10);
}
END_TEST

START_TEST(test_empty_table_f4)
{
	/* F4: an empty table gives firstlineno, in every version. */
	ck_assert_int_eq(linetable_line(PY39, NULL, 0, 14, 0), 14);
	ck_assert_int_eq(linetable_line(PY39, NULL, 0, 14, 200), 14);
	ck_assert_int_eq(linetable_line(PY310, NULL, 0, 7, 3), 7);
	ck_assert_int_eq(linetable_line(PY311, NULL, 0, 99, 32), 99);
	ck_assert_int_eq(linetable_line(PY313, NULL, 0, 1, 0), 1);
	ck_assert_int_eq(linetable_line(0, NULL, 0, 5, 0), 5);	/* formats without python_version */
}
END_TEST

START_TEST(test_negative_offset)
{
	/* A negative instruction offset has no line, whatever the table. */
	static const uint8_t t39[] = { 0x00, 0x01, 0x0A, 0x01 };

	ck_assert_int_eq(linetable_line(PY39, t39, sizeof t39, 1, -1), 0);
	ck_assert_int_eq(linetable_line(PY310, t39, sizeof t39, 1, -1), 0);
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, -2), 0);
	ck_assert_int_eq(linetable_line(PY311, table311, sizeof table311, 1, INT64_MIN), 0);
	/* Even with an empty table (F4 does not apply to negative offsets). */
	ck_assert_int_eq(linetable_line(PY39, NULL, 0, 14, -1), 0);
	ck_assert_int_eq(linetable_line(PY311, NULL, 0, 14, -1), 0);
}
END_TEST

START_TEST(test_version_selection)
{
	/* The same bytes read as 3.9, 3.10 and 3.11 tables give different lines. */
	static const uint8_t t[] = { 0x0A, 0x01, 0x08, 0x01 };

	ck_assert_int_eq(linetable_line(0x030900F0, t, sizeof t, 1, 5), 1);	/* bc 10 > 5 */
	ck_assert_int_eq(linetable_line(0x0309FFFF, t, sizeof t, 1, 5), 1);
	ck_assert_int_eq(linetable_line(0x030A0000, t, sizeof t, 1, 5), 3);	/* byte 10 */
	ck_assert_int_eq(linetable_line(0x030AFFFF, t, sizeof t, 1, 5), 3);
	/* 3.11: 0x0A is SHORT code 1, len 3 ([0,3) line 1), 0x08 SHORT len 1 ([3,4)). */
	ck_assert_int_eq(linetable_line(0x030B0000, t, sizeof t, 1, 4), 1);
	ck_assert_int_eq(linetable_line(0x030B0000, t, sizeof t, 1, 8), 0);
}
END_TEST

static Suite *
linetable_suite(void)
{
	Suite *s = suite_create("linetable");
	TCase *tc;

	tc = tcase_create("py39");
	tcase_add_test(tc, test_39_worked_example);
	tcase_add_test(tc, test_39_unsigned_delta_f3);
	tcase_add_test(tc, test_39_negative_line_delta_and_odd_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("py310");
	tcase_add_test(tc, test_310_worked_example);
	tcase_add_test(tc, test_310_no_line_entries);
	suite_add_tcase(s, tc);

	tc = tcase_create("py311");
	tcase_add_test(tc, test_311_worked_example);
	tcase_add_test(tc, test_311_every_entry);
	tcase_add_test(tc, test_311_long_no_columns_none);
	suite_add_tcase(s, tc);

	tc = tcase_create("edges");
	tcase_add_test(tc, test_line_arithmetic_wraps);
	tcase_add_test(tc, test_empty_table_f4);
	tcase_add_test(tc, test_negative_offset);
	tcase_add_test(tc, test_version_selection);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(linetable_suite());
}
