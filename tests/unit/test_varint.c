/*
 * test_varint: the integer encodings of doc/capture-format.md §1.4 (varint.h).
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "support.h"
#include "varint.h"

/* v encodes to exactly `bytes`, and `bytes` decodes to v consuming all of them. */
static void
check_unsigned(uint64_t v, const uint8_t *bytes, size_t n)
{
	uint8_t out[16];
	unsigned len = varint_write(out, v);

	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(out, bytes, n);

	const uint8_t *pos = bytes;
	uint64_t got = ~v;
	ck_assert_int_eq(varint_read(&pos, bytes + n, &got), VARINT_OK);
	ck_assert_uint_eq(got, v);
	ck_assert_ptr_eq(pos, bytes + n);
}

/* n zigzag-encodes to exactly `bytes`, and svarint_read gives n back. */
static void
check_signed(int64_t n, const uint8_t *bytes, size_t len)
{
	uint8_t out[16];
	unsigned w = varint_write(out, zigzag_encode(n));

	ck_assert_uint_eq(w, len);
	ck_assert_mem_eq(out, bytes, len);

	const uint8_t *pos = bytes;
	int64_t got = n == 0 ? 1 : -n;
	ck_assert_int_eq(svarint_read(&pos, bytes + len, &got), VARINT_OK);
	ck_assert_int_eq(got, n);
	ck_assert_ptr_eq(pos, bytes + len);
}

#define CHECK_U(v, ...)                                                      \
	do {                                                                 \
		static const uint8_t b_[] = { __VA_ARGS__ };                 \
		check_unsigned((v), b_, sizeof b_);                          \
	} while (0)

#define CHECK_S(v, ...)                                                      \
	do {                                                                 \
		static const uint8_t b_[] = { __VA_ARGS__ };                 \
		check_signed((v), b_, sizeof b_);                            \
	} while (0)

START_TEST(test_unsigned_spec_examples)
{
	CHECK_U(0, 0x00);
	CHECK_U(256, 0x80, 0x02);
	CHECK_U(300, 0xAC, 0x02);
	CHECK_U(4096, 0x80, 0x20);
	CHECK_U(65536, 0x80, 0x80, 0x04);
}
END_TEST

START_TEST(test_unsigned_boundaries)
{
	CHECK_U(1, 0x01);
	CHECK_U(127, 0x7F);
	CHECK_U(128, 0x80, 0x01);
	CHECK_U(16383, 0xFF, 0x7F);
	CHECK_U(16384, 0x80, 0x80, 0x01);
	/* The spec's §1.4 pointer example: 0xfe74380016c zigzagged is 0x1fce870002d8. */
	CHECK_U(UINT64_C(0x1fce870002d8), 0xD8, 0x85, 0x80, 0xB8, 0xE8, 0xF9, 0x07);
	CHECK_U(UINT64_C(0x8000000000000000),
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01);
	CHECK_U(UINT64_MAX, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01);
}
END_TEST

START_TEST(test_signed_spec_examples)
{
	CHECK_S(0, 0x00);
	CHECK_S(-1, 0x01);
	CHECK_S(1, 0x02);
	CHECK_S(-2, 0x03);
	CHECK_S(63, 0x7E);
	CHECK_S(-64, 0x7F);
	CHECK_S(64, 0x80, 0x01);
	CHECK_S(-65, 0x81, 0x01);
	CHECK_S(1000, 0xD0, 0x0F);
	CHECK_S(-1000, 0xCF, 0x0F);
	/* §3.4: the pointer delta +20 is 28, and -564 (ip delta) is e7 08. */
	CHECK_S(20, 0x28);
	CHECK_S(-564, 0xE7, 0x08);
}
END_TEST

START_TEST(test_zigzag_extremes)
{
	ck_assert_uint_eq(zigzag_encode(0), 0);
	ck_assert_uint_eq(zigzag_encode(-1), 1);
	ck_assert_uint_eq(zigzag_encode(1), 2);
	ck_assert_uint_eq(zigzag_encode(INT64_MAX), UINT64_MAX - 1);
	ck_assert_uint_eq(zigzag_encode(INT64_MIN), UINT64_MAX);
	ck_assert_int_eq(zigzag_decode(UINT64_MAX - 1), INT64_MAX);
	ck_assert_int_eq(zigzag_decode(UINT64_MAX), INT64_MIN);
	ck_assert_int_eq(zigzag_decode(3), -2);
	ck_assert_int_eq(zigzag_decode(4), 2);

	/* Round trip over a spread of values, both signs. */
	for (int64_t v = -100000; v <= 100000; v += 7) {
		ck_assert_int_eq(zigzag_decode(zigzag_encode(v)), v);
		ck_assert_uint_eq(zigzag_encode(v), v >= 0 ? (uint64_t)v * 2 : (uint64_t)(-v) * 2 - 1);
	}
	for (int shift = 0; shift < 63; shift++) {
		int64_t v = (int64_t)1 << shift;
		ck_assert_int_eq(zigzag_decode(zigzag_encode(v)), v);
		ck_assert_int_eq(zigzag_decode(zigzag_encode(-v)), -v);
	}
}
END_TEST

START_TEST(test_round_trip_through_buffer)
{
	/* Several varints back to back: each read stops at its own end. */
	static const uint64_t values[] = {
		0, 1, 127, 128, 300, 65535, 65536, UINT64_C(1) << 35, UINT64_MAX / 3, UINT64_MAX,
	};
	uint8_t buf[16 * 10];
	size_t n = 0;

	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++)
		n += varint_write(buf + n, values[i]);
	const uint8_t *pos = buf, *end = buf + n;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		uint64_t v;
		ck_assert_int_eq(varint_read(&pos, end, &v), VARINT_OK);
		ck_assert_uint_eq(v, values[i]);
	}
	ck_assert_ptr_eq(pos, end);
	uint64_t v = 42;
	ck_assert_int_eq(varint_read(&pos, end, &v), VARINT_SHORT);
	ck_assert_uint_eq(v, 42);
}
END_TEST

START_TEST(test_short_buffer)
{
	static const uint8_t cont[9] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 };
	static const uint8_t two[2] = { 0xAC, 0x02 };
	const uint8_t *pos;
	uint64_t v = 77;
	int64_t s = 77;

	/* Empty buffer. */
	pos = two;
	ck_assert_int_eq(varint_read(&pos, two, &v), VARINT_SHORT);
	ck_assert_ptr_eq(pos, two);
	ck_assert_uint_eq(v, 77);

	/* The buffer ends after a byte with the continuation bit. */
	pos = two;
	ck_assert_int_eq(varint_read(&pos, two + 1, &v), VARINT_SHORT);
	ck_assert_ptr_eq(pos, two);
	ck_assert_uint_eq(v, 77);

	/* Nine continuation bytes are not yet too long: more input may come. */
	for (size_t n = 1; n <= sizeof cont; n++) {
		pos = cont;
		ck_assert_int_eq(varint_read(&pos, cont + n, &v), VARINT_SHORT);
		ck_assert_ptr_eq(pos, cont);
	}
	ck_assert_uint_eq(v, 77);

	/* Signed reads report the same, leaving the value alone. */
	pos = two;
	ck_assert_int_eq(svarint_read(&pos, two + 1, &s), VARINT_SHORT);
	ck_assert_ptr_eq(pos, two);
	ck_assert_int_eq(s, 77);
}
END_TEST

START_TEST(test_too_long)
{
	/* Eleven bytes: ten with the continuation bit, then a terminator. */
	static const uint8_t eleven[11] = {
		0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00,
	};
	static const uint8_t eleven_ff[11] = {
		0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
	};
	const uint8_t *pos = eleven;
	uint64_t v = 5;
	int64_t s = 5;

	ck_assert_int_eq(varint_read(&pos, eleven + sizeof eleven, &v), VARINT_BAD);
	ck_assert_uint_eq(v, 5);
	pos = eleven_ff;
	ck_assert_int_eq(varint_read(&pos, eleven_ff + sizeof eleven_ff, &v), VARINT_BAD);
	/* The tenth continuation byte is already damage, even if the buffer ends there. */
	pos = eleven;
	ck_assert_int_eq(varint_read(&pos, eleven + 10, &v), VARINT_BAD);
	pos = eleven_ff;
	ck_assert_int_eq(svarint_read(&pos, eleven_ff + sizeof eleven_ff, &s), VARINT_BAD);
	ck_assert_int_eq(s, 5);
}
END_TEST

START_TEST(test_tenth_byte_high_bits_dropped)
{
	/* memray keeps only the low bit of the tenth byte's payload. */
	static const uint8_t b[10] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F };
	static const uint8_t c[10] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7E };
	const uint8_t *pos = b;
	uint64_t v = 0;

	ck_assert_int_eq(varint_read(&pos, b + sizeof b, &v), VARINT_OK);
	ck_assert_uint_eq(v, UINT64_MAX);
	ck_assert_ptr_eq(pos, b + sizeof b);
	pos = c;
	ck_assert_int_eq(varint_read(&pos, c + sizeof c, &v), VARINT_OK);
	ck_assert_uint_eq(v, 0);
	ck_assert_ptr_eq(pos, c + sizeof c);
}
END_TEST

static Suite *
varint_suite(void)
{
	Suite *s = suite_create("varint");
	TCase *tc;

	tc = tcase_create("unsigned");
	tcase_add_test(tc, test_unsigned_spec_examples);
	tcase_add_test(tc, test_unsigned_boundaries);
	tcase_add_test(tc, test_round_trip_through_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("signed");
	tcase_add_test(tc, test_signed_spec_examples);
	tcase_add_test(tc, test_zigzag_extremes);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_short_buffer);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_tenth_byte_high_bits_dropped);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(varint_suite());
}
