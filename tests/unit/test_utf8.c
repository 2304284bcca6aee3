/*
 * test_utf8: the repair of names that are not UTF-8 (utf8.h, fix F5).
 * The expected outputs were computed once with CPython 3
 * (bytes.decode("utf-8", errors="replace").encode("utf-8")), so the
 * decoder is held to Python's "maximal subpart" practice on overlongs,
 * surrogates, truncated sequences and code points above U+10FFFF.
 */
#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "support.h"
#include "utf8.h"

#define R "\xef\xbf\xbd"	/* U+FFFD */

static const struct {
	const char *in, *out;
} python[] = {
	{ "caf\xc3\xa9", "caf\xc3\xa9" },
	{ "\xc0\x80", R R },				/* overlong NUL */
	{ "\xc1\xbf", R R },				/* overlong, C1 lead */
	{ "\xe0\x80\x80", R R R },			/* overlong 3-byte */
	{ "\xe0\x9f\xbf", R R R },			/* overlong, just below U+0800 */
	{ "\xf0\x8f\xbf\xbf", R R R R },		/* overlong 4-byte */
	{ "\xed\xa0\x80", R R R },			/* surrogate U+D800 */
	{ "\xed\xbf\xbf", R R R },			/* surrogate U+DFFF */
	{ "\xed\x9f\xbf", "\xed\x9f\xbf" },		/* U+D7FF, just below */
	{ "\xf4\x90\x80\x80", R R R R },		/* U+110000 */
	{ "\xf5\x80\x80\x80", R R R R },		/* F5 lead */
	{ "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf" },	/* U+10FFFF */
	{ "\xef\xbf\xbf", "\xef\xbf\xbf" },		/* U+FFFF */
	{ "\xff\xfe", R R },
	{ "\xe2\x82", R },				/* truncated at the end */
	{ "a\xe2\x82", "a" R },
	{ "\xe2\x82" "a", R "a" },			/* truncated before ASCII */
	{ "\xf0\x9f\x98", R },
	{ "\xf0\x9f\x98" "a", R "a" },
	{ "\x80\x80", R R },				/* lone continuation bytes */
	{ "\xc3", R },
	{ "\xf8\x88\x80\x80\x80", R R R R R },		/* old 5-byte form */
	{ "\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", R R R R "A" },
	{ "a\xf1\x80\x80\xe1\x80\xc2" "b\x80" "c\x80\xbf" "d", "a" R R R "b" R "c" R R "d" },
	{ "", "" },
};

START_TEST(test_like_python)
{
	struct utf8_buffer buf = { 0 };

	for (size_t i = 0; i < sizeof python / sizeof python[0]; i++) {
		size_t len = strlen(python[i].in);
		const char *got = utf8_repair(&buf, python[i].in, &len);
		ck_assert_msg(len == strlen(python[i].out) && memcmp(got, python[i].out, len) == 0,
		    "case %zu: got %zu bytes, expected %zu", i, len, strlen(python[i].out));
		ck_assert_int_eq(got[len], '\0');
		ck_assert_uint_eq(utf8_valid_prefix(got, len), len);
	}
	utf8_buffer_free(&buf);
}
END_TEST

START_TEST(test_valid_is_not_copied)
{
	struct utf8_buffer buf = { 0 };
	const char *s = "<module> caf\xc3\xa9 \xf0\x9f\x98\x80";
	size_t len = strlen(s);

	ck_assert_ptr_eq(utf8_repair(&buf, s, &len), s);
	ck_assert_uint_eq(len, strlen(s));
	ck_assert_ptr_null(buf.text);
}
END_TEST

START_TEST(test_valid_prefix)
{
	ck_assert_uint_eq(utf8_valid_prefix("", 0), 0);
	ck_assert_uint_eq(utf8_valid_prefix("abc", 3), 3);
	ck_assert_uint_eq(utf8_valid_prefix("ab\xc3", 3), 2);
	ck_assert_uint_eq(utf8_valid_prefix("ab\xed\xa0\x80", 5), 2);
	ck_assert_uint_eq(utf8_valid_prefix("a\x80", 2), 1);
}
END_TEST

/*
 * ASCII is checked a word at a time: a sequence at every offset of a
 * longer name, in and across the words, and ASCII after it.
 */
START_TEST(test_sequence_at_every_offset)
{
	static const struct { const char *seq; bool valid; } cases[] = {
		{ "\x80", false }, { "\xc3\xa9", true }, { "\xe2\x82", false },
		{ "\xf0\x9f\x98\x80", true }, { "\xed\xa0\x80", false },
	};
	char name[64];

	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		size_t seq_len = strlen(cases[c].seq);
		for (size_t at = 0; at + seq_len <= 40; at++) {
			memset(name, 'a', 40);
			memcpy(name + at, cases[c].seq, seq_len);
			ck_assert_msg(utf8_valid_prefix(name, 40) == (cases[c].valid ? 40 : at),
			    "case %zu at %zu: %zu", c, at, utf8_valid_prefix(name, 40));
		}
	}
}
END_TEST

/* The first repair of a run warns, once: later repairs are silent. */
START_TEST(test_one_warning)
{
	struct utf8_buffer buf = { 0 };
	FILE *err = tmpfile();
	char line[512];
	int lines = 0;

	ck_assert_ptr_nonnull(err);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(err), STDERR_FILENO), 0);
	for (int i = 0; i < 3; i++) {
		size_t len = 3;
		utf8_repair(&buf, "a\xff" "b", &len);
	}
	fflush(stderr);
	rewind(err);
	while (fgets(line, sizeof line, err) != NULL) {
		lines++;
		ck_assert_ptr_nonnull(strstr(line, "warning: "));
		ck_assert_ptr_nonnull(strstr(line, "UTF-8"));
	}
	ck_assert_int_eq(lines, 1);
	fclose(err);
	utf8_buffer_free(&buf);
}
END_TEST

static Suite *
utf8_suite(void)
{
	Suite *s = suite_create("utf8");
	TCase *tc = tcase_create("repair");

	tcase_add_test(tc, test_like_python);
	tcase_add_test(tc, test_valid_is_not_copied);
	tcase_add_test(tc, test_valid_prefix);
	tcase_add_test(tc, test_sequence_at_every_offset);
	tcase_add_test(tc, test_one_warning);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(utf8_suite());
}
