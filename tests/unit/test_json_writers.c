/*
 * test_json_writers: the JSON output layer (json_out.h) and memray's
 * gprof2dot and speedscope JSON (doc/capture-format.md §9.3, §9.4).  Documents
 * are written to memory and parsed back with yajl's tree parser, which also
 * checks that they are valid JSON in valid UTF-8.
 */
#include "config.h"

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "json_out.h"
#include "support.h"
#include "utf8.h"
#include "writer.h"

static struct writer_harness w;
static yajl_val doc;

static void
start(const char *format, const char *command_line)
{
	writer_harness_begin(&w, format, command_line, (struct writer_config){ 0 });
}

static void
row(uint64_t n, uint64_t size, size_t n_frames, const struct frame_text *frames)
{
	writer_harness_row(&w, "MALLOC", n, size, 1, NULL, n_frames, frames);
}

/* The document written (now closed) must be valid UTF-8 and parse as JSON; returns its text. */
static const char *
parse(const char *buf)
{
	char error[256] = "";

	ck_assert_uint_eq(strlen(buf), w.len);
	ck_assert_uint_eq(utf8_valid_prefix(buf, w.len), w.len);
	doc = yajl_tree_parse(buf, error, sizeof error);
	if (doc == NULL)
		ck_abort_msg("not JSON (%s): %s", error, buf);
	return buf;
}

static const char *
finish(void)
{
	return parse(writer_harness_finish(&w));
}

static void
teardown(void)
{
	yajl_tree_free(doc);
	doc = NULL;
	writer_harness_free(&w);
}

/* The member `key` of object v, which must exist. */
static yajl_val
get(yajl_val v, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val m = yajl_tree_get(v, path, yajl_t_any);

	if (m == NULL)
		ck_abort_msg("no key \"%s\"", key);
	return m;
}

static size_t
len(yajl_val array)
{
	ck_assert(YAJL_IS_ARRAY(array));
	return array->u.array.len;
}

static yajl_val
at(yajl_val array, size_t i)
{
	ck_assert_uint_lt(i, len(array));
	return array->u.array.values[i];
}

/* The decimal text of a number (exact, whatever its size). */
static const char *
num(yajl_val v)
{
	ck_assert(YAJL_IS_NUMBER(v));
	return v->u.number.r;
}

static const char *
str(yajl_val v)
{
	ck_assert(YAJL_IS_STRING(v));
	return YAJL_GET_STRING(v);
}

/* Assert that object v has exactly these keys, in this order (NULL-terminated). */
static void
keys_are(yajl_val v, const char *const *keys)
{
	size_t n = 0;

	ck_assert(YAJL_IS_OBJECT(v));
	for (; keys[n] != NULL; n++) {
		ck_assert_uint_lt(n, v->u.object.len);
		ck_assert_str_eq(v->u.object.keys[n], keys[n]);
	}
	ck_assert_uint_eq(v->u.object.len, n);
}

/* Assert that an array of numbers holds exactly the n values given. */
static void
numbers_are(yajl_val array, size_t n, const char *const *values)
{
	ck_assert_uint_eq(len(array), n);
	for (size_t i = 0; i < n; i++)
		ck_assert_str_eq(num(at(array, i)), values[i]);
}

#define NUMBERS(array, ...) \
	numbers_are((array), sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *), \
	    (const char *[]){ __VA_ARGS__ })
#define KEYS(v, ...) keys_are((v), (const char *[]){ __VA_ARGS__, NULL })

/* Awkward strings and what they must read back as. */
static const struct {
	const char *raw, *expected;
} awkward[] = {
	{ "say \"hi\"", "say \"hi\"" },
	{ "C:\\dir\\x.py", "C:\\dir\\x.py" },
	{ "a/b", "a/b" },
	{ "ctl\x01\x02\x1f\x7f|\b\f\n\r\t|", "ctl\x01\x02\x1f\x7f|\b\f\n\r\t|" },
	{ "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80" },
	/* Ill-formed UTF-8: one U+FFFD per maximal ill-formed subpart (Python's "replace"). */
	{ "a\xc3(", "a\xef\xbf\xbd(" },
	{ "\xe2\x82" "x", "\xef\xbf\xbd" "x" },
	{ "\xf0\x9f\x98", "\xef\xbf\xbd" },
	{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "\xff\xfe\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "ok\xf1\x80\x80", "ok\xef\xbf\xbd" },
	{ "\"\\\xff\n", "\"\\\xef\xbf\xbd\n" },
	{ "", "" },
};
#define N_AWKWARD (sizeof awkward / sizeof awkward[0])

START_TEST(test_registry)
{
	ck_assert_ptr_eq(writer_find("gprof2dot"), &gprof2dot_writer);
	ck_assert_ptr_eq(writer_find("GPROF2DOT"), &gprof2dot_writer);
	ck_assert_ptr_eq(writer_find("speedscope"), &speedscope_writer);
	ck_assert_ptr_eq(writer_find("SpeedScope"), &speedscope_writer);
	ck_assert_ptr_eq(writer_find("csv"), &csv_writer);
	ck_assert_ptr_null(writer_find("json"));
	ck_assert_str_eq(gprof2dot_writer.name, "gprof2dot");
	ck_assert_str_eq(speedscope_writer.name, "speedscope");
	ck_assert_ptr_nonnull(strstr(writer_names(", "), "csv, gprof2dot, speedscope"));
}
END_TEST

/*
 * writer_hash_bytes keys the writers' tables by names the capture chooses.
 * Two names that differ in the top bit of their first 8-byte block and in
 * bit 30 of their second collide under the plain multiply-and-rotate hash
 * it once was, whatever the starting value: a capture could make a
 * hundred thousand names collide (one such choice per block pair) and
 * interning quadratic.  They must not collide now.
 */
START_TEST(test_hash_resists_crafted_names)
{
	char a[] = "frame_0_function", b[sizeof a];

	memcpy(b, a, sizeof a);
	b[7] ^= (char)0x80;
	b[8 + 3] ^= 0x40;
	for (uint64_t h = 0; h < 4; h++) {
		ck_assert_uint_ne(writer_hash_bytes(h, a, 16), writer_hash_bytes(h, b, 16));
		/* The same bytes from the same start: the same hash, or tables could not find them. */
		ck_assert_uint_eq(writer_hash_bytes(h, a, 16), writer_hash_bytes(h, a, 16));
	}
	ck_assert_uint_ne(writer_hash_bytes(0, a, 16), writer_hash_bytes(1, a, 16));
}
END_TEST

START_TEST(test_utf8_valid_prefix)
{
	ck_assert_uint_eq(utf8_valid_prefix("", 0), 0);
	ck_assert_uint_eq(utf8_valid_prefix("abc", 3), 3);
	ck_assert_uint_eq(utf8_valid_prefix("caf\xc3\xa9", 5), 5);
	ck_assert_uint_eq(utf8_valid_prefix("\xf4\x8f\xbf\xbf", 4), 4);	/* U+10FFFF */
	ck_assert_uint_eq(utf8_valid_prefix("\xef\xbf\xbf", 3), 3);	/* U+FFFF */
	ck_assert_uint_eq(utf8_valid_prefix("ab\xc3", 3), 2);
	ck_assert_uint_eq(utf8_valid_prefix("ab\xed\xa0\x80", 5), 2);	/* surrogate */
	ck_assert_uint_eq(utf8_valid_prefix("\xe0\x9f\xbf", 3), 0);	/* overlong */
	ck_assert_uint_eq(utf8_valid_prefix("a\x80", 2), 1);
}
END_TEST

/* json_out on its own: numbers of every size and repaired strings. */
START_TEST(test_json_out_values)
{
	writer_harness_open(&w);
	struct json_out *j = json_out_new(w.out);

	json_array_open(j);
	json_u64(j, 0);
	json_u64(j, 42);
	json_u64(j, UINT64_MAX);
	json_i64(j, -1);
	json_i64(j, INT64_MIN);
	json_i64(j, INT64_MAX);
	json_u128(j, (struct json_u128){ 0, 7 });
	json_u128(j, (struct json_u128){ 1, 0 });
	json_u128(j, (struct json_u128){ 5, UINT64_C(7766279631452241927) });
	json_u128(j, (struct json_u128){ 54210108, UINT64_C(11515845246265065473) });
	json_u128(j, (struct json_u128){ UINT64_MAX, UINT64_MAX });
	json_array_close(j);
	json_out_free(j);
	parse(writer_harness_close(&w));

	NUMBERS(doc, "0", "42", "18446744073709551615", "-1", "-9223372036854775808",
	    "9223372036854775807", "7", "18446744073709551616", "100000000000000000007",
	    "1000000000000000000000000001", "340282366920938463463374607431768211455");
	ck_assert_str_eq(w.buf, "[0,42,18446744073709551615,-1,-9223372036854775808,"
	    "9223372036854775807,7,18446744073709551616,100000000000000000007,"
	    "1000000000000000000000000001,340282366920938463463374607431768211455]");
}
END_TEST

START_TEST(test_json_out_strings)
{
	writer_harness_open(&w);
	struct json_out *j = json_out_new(w.out);

	json_array_open(j);
	json_map_open(j);
	json_key(j, "k\xff");
	json_string(j, NULL);
	json_map_close(j);
	for (size_t i = 0; i < N_AWKWARD; i++)
		json_string(j, awkward[i].raw);
	json_string_len(j, "abc\xff", 2);
	json_array_close(j);
	json_out_free(j);
	parse(writer_harness_close(&w));

	ck_assert_uint_eq(len(doc), 1 + N_AWKWARD + 1);
	KEYS(at(doc, 0), "k\xef\xbf\xbd");
	ck_assert_str_eq(str(get(at(doc, 0), "k\xef\xbf\xbd")), "");
	for (size_t i = 0; i < N_AWKWARD; i++)
		ck_assert_str_eq(str(at(doc, 1 + i)), awkward[i].expected);
	ck_assert_str_eq(str(at(doc, 1 + N_AWKWARD)), "ab");
	/* Control characters are escaped, not written raw (DEL need not be). */
	ck_assert_ptr_null(memchr(w.buf, '\x01', w.len));
	ck_assert_ptr_null(memchr(w.buf, '\n', w.len));
	ck_assert_ptr_null(memchr(w.buf, '\t', w.len));
}
END_TEST

START_TEST(test_json_out_long_string)
{
	/* Longer than json_out's output block, with bytes to escape and to repair. */
	enum { N = 50000 };
	char *raw = malloc(N + 1), *expected = malloc(3 * N + 1);
	size_t e = 0;

	ck_assert_ptr_nonnull(raw);
	ck_assert_ptr_nonnull(expected);
	for (size_t i = 0; i < N; i++) {
		raw[i] = i % 1000 == 7 ? '"' : i % 1000 == 500 ? '\xff' : (char)('a' + i % 26);
		if (raw[i] == '\xff') {
			memcpy(expected + e, "\xef\xbf\xbd", 3);
			e += 3;
		} else {
			expected[e++] = raw[i];
		}
	}
	raw[N] = '\0';
	expected[e] = '\0';
	writer_harness_open(&w);
	struct json_out *j = json_out_new(w.out);
	json_array_open(j);
	json_u64(j, 1);
	json_string(j, raw);
	json_u64(j, 2);
	json_array_close(j);
	json_out_free(j);
	parse(writer_harness_close(&w));
	ck_assert_uint_eq(len(doc), 3);
	ck_assert_str_eq(str(at(doc, 1)), expected);
	ck_assert_str_eq(num(at(doc, 2)), "2");
	free(raw);
	free(expected);
}
END_TEST

START_TEST(test_gprof2dot_empty)
{
	start("gprof2dot", "python x.py");
	ck_assert_str_eq(finish(),
	    "{\"version\":0,\"costs\":[{\"description\":\"Memory\",\"unit\":\"bytes\"}],"
	    "\"events\":[],\"functions\":[]}");
}
END_TEST

START_TEST(test_gprof2dot_document)
{
	struct frame_text r1[] = { { "f", "a.py", 1 }, { "g", "b.py", 2 } };
	struct frame_text r2[] = { { "h", "a.py", 9 }, { "f", "a.py", 5 } };	/* f at another line */
	struct frame_text r3[] = { { "skipped", "s.py", 1 } };
	struct frame_text r4[] = { { "g", "c.py", 2 }, { "g", "b.py", 7 }, { "g", "b.py", 2 } };

	start("gprof2dot", "python x.py");
	row(3, 100, 2, r1);
	row(1, 0, 0, r3);		/* empty stack: no event, no function */
	row(2, 50, 2, r2);
	row(1, UINT64_MAX, 3, r4);
	finish();

	KEYS(doc, "version", "costs", "events", "functions");
	ck_assert_str_eq(num(get(doc, "version")), "0");
	ck_assert_uint_eq(len(get(doc, "costs")), 1);
	KEYS(at(get(doc, "costs"), 0), "description", "unit");
	ck_assert_str_eq(str(get(at(get(doc, "costs"), 0), "description")), "Memory");
	ck_assert_str_eq(str(get(at(get(doc, "costs"), 0), "unit")), "bytes");

	yajl_val events = get(doc, "events");
	ck_assert_uint_eq(len(events), 3);
	for (size_t i = 0; i < 3; i++)
		KEYS(at(events, i), "callchain", "cost");
	/* Functions by (name, file), the line ignored; callchains most recent first. */
	NUMBERS(get(at(events, 0), "callchain"), "0", "1");
	NUMBERS(get(at(events, 0), "cost"), "100");
	NUMBERS(get(at(events, 1), "callchain"), "2", "0");
	NUMBERS(get(at(events, 1), "cost"), "50");
	NUMBERS(get(at(events, 2), "callchain"), "3", "1", "1");
	NUMBERS(get(at(events, 2), "cost"), "18446744073709551615");

	yajl_val functions = get(doc, "functions");
	static const char *const expected[][2] = {
		{ "f", "a.py" }, { "g", "b.py" }, { "h", "a.py" }, { "g", "c.py" },
	};
	ck_assert_uint_eq(len(functions), 4);
	for (size_t i = 0; i < 4; i++) {
		KEYS(at(functions, i), "name", "module");
		ck_assert_str_eq(str(get(at(functions, i), "name")), expected[i][0]);
		ck_assert_str_eq(str(get(at(functions, i), "module")), expected[i][1]);
	}
}
END_TEST

START_TEST(test_gprof2dot_awkward_names)
{
	struct frame_text frames[N_AWKWARD];

	start("gprof2dot", NULL);
	for (size_t i = 0; i < N_AWKWARD; i++) {
		frames[i] = (struct frame_text){ awkward[i].raw, awkward[N_AWKWARD - 1 - i].raw, 1 };
		row(1, 1, 1, &frames[i]);
	}
	finish();
	yajl_val functions = get(doc, "functions");
	ck_assert_uint_eq(len(functions), N_AWKWARD);
	for (size_t i = 0; i < N_AWKWARD; i++) {
		ck_assert_str_eq(str(get(at(functions, i), "name")), awkward[i].expected);
		ck_assert_str_eq(str(get(at(functions, i), "module")),
		    awkward[N_AWKWARD - 1 - i].expected);
	}
}
END_TEST

START_TEST(test_gprof2dot_many_functions)
{
	/* Enough distinct keys to grow the table several times; each comes back once. */
	enum { N = 5000 };
	static char names[N][16];
	struct frame_text f[2];

	start("gprof2dot", "x");
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof names[i], "fn%d", i);
		f[0] = (struct frame_text){ names[i], "m.py", i };
		f[1] = (struct frame_text){ names[i / 2], "m.py", 0 };
		row(1, 1, 2, f);
	}
	finish();
	yajl_val functions = get(doc, "functions");
	ck_assert_uint_eq(len(functions), N);
	for (int i = 0; i < N; i++)
		ck_assert_str_eq(str(get(at(functions, (size_t)i), "name")), names[i]);
	yajl_val last = get(at(get(doc, "events"), N - 1), "callchain");
	char a[16], b[16];
	snprintf(a, sizeof a, "%d", N - 1);
	snprintf(b, sizeof b, "%d", (N - 1) / 2);
	NUMBERS(last, a, b);
}
END_TEST

/* Assert a speedscope frame: name, and file/line or their absence (NULL, 0). */
static void
frame_is(yajl_val frames, size_t i, const char *name, const char *file, const char *line)
{
	yajl_val f = at(frames, i);

	ck_assert_str_eq(str(get(f, "name")), name);
	if (file != NULL && line != NULL)
		KEYS(f, "name", "file", "line");
	else if (file != NULL)
		KEYS(f, "name", "file");
	else if (line != NULL)
		KEYS(f, "name", "line");
	else
		KEYS(f, "name");
	if (file != NULL)
		ck_assert_str_eq(str(get(f, "file")), file);
	if (line != NULL)
		ck_assert_str_eq(num(get(f, "line")), line);
}

static void
profile_is(yajl_val p, const char *name, const char *unit, const char *end_value)
{
	KEYS(p, "type", "name", "unit", "startValue", "endValue", "samples", "weights");
	ck_assert_str_eq(str(get(p, "type")), "sampled");
	ck_assert_str_eq(str(get(p, "name")), name);
	ck_assert_str_eq(str(get(p, "unit")), unit);
	ck_assert_str_eq(num(get(p, "startValue")), "0");
	ck_assert_str_eq(num(get(p, "endValue")), end_value);
	ck_assert_uint_eq(len(get(p, "samples")), len(get(p, "weights")));
}

START_TEST(test_speedscope_empty)
{
	start("speedscope", "python3 -m app \"x\"");
	finish();
	KEYS(doc, "$schema", "shared", "profiles", "name", "activeProfileIndex", "exporter");
	ck_assert_str_eq(str(get(doc, "$schema")),
	    "https://www.speedscope.app/file-format-schema.json");
	KEYS(get(doc, "shared"), "frames");
	ck_assert_uint_eq(len(get(get(doc, "shared"), "frames")), 0);
	ck_assert_uint_eq(len(get(doc, "profiles")), 2);
	profile_is(at(get(doc, "profiles"), 0), "Memory", "bytes", "0");
	profile_is(at(get(doc, "profiles"), 1), "Allocations", "none", "0");
	ck_assert_str_eq(str(get(doc, "name")), "python3 -m app \"x\"");
	ck_assert_str_eq(num(get(doc, "activeProfileIndex")), "0");
	ck_assert_str_eq(str(get(doc, "exporter")), "memray-transform@" PACKAGE_VERSION);
}
END_TEST

START_TEST(test_speedscope_document)
{
	/* Most recent first, as rows come. */
	struct frame_text s1[] = { { "leaf", "a.py", 3 }, { "main", "m.py", 10 } };
	struct frame_text s2[] = { { "leaf", "a.py", 4 }, { "main", "m.py", 10 } };	/* other line */
	struct frame_text s3[] = { { "main", "m.py", 10 } };	/* a prefix of s1 */
	struct frame_text s4[] = { { "<nofile>", "", 0 }, { "neg", "n.py", -2 }, { "main", "m.py", 10 } };

	start("speedscope", "memray run app.py");
	row(1, 10, 2, s1);
	row(3, 0, 2, s2);		/* weight 0 in Memory only */
	row(2, 5, 2, s1);		/* merges with the first row */
	row(9, 9, 0, NULL);		/* empty stack: skipped */
	row(0, 7, 1, s3);		/* weight 0 in Allocations only */
	row(4, 6, 3, s4);
	row(0, 0, 1, s3);		/* merges, adds nothing */
	finish();

	/* Frames by (name, file, line), numbered root first. */
	yajl_val frames = get(get(doc, "shared"), "frames");
	ck_assert_uint_eq(len(frames), 5);
	frame_is(frames, 0, "main", "m.py", "10");
	frame_is(frames, 1, "leaf", "a.py", "3");
	frame_is(frames, 2, "leaf", "a.py", "4");
	frame_is(frames, 3, "neg", "n.py", NULL);
	frame_is(frames, 4, "<nofile>", NULL, NULL);

	yajl_val profiles = get(doc, "profiles");
	ck_assert_uint_eq(len(profiles), 2);
	yajl_val memory = at(profiles, 0), allocations = at(profiles, 1);

	/* Samples in first-appearance order: [0,1] 15/3, [0,2] 0/3, [0] 7/0, [0,3,4] 6/4. */
	profile_is(memory, "Memory", "bytes", "28");
	ck_assert_uint_eq(len(get(memory, "samples")), 3);
	NUMBERS(at(get(memory, "samples"), 0), "0", "1");
	NUMBERS(at(get(memory, "samples"), 1), "0");
	NUMBERS(at(get(memory, "samples"), 2), "0", "3", "4");
	NUMBERS(get(memory, "weights"), "15", "7", "6");

	profile_is(allocations, "Allocations", "none", "10");
	ck_assert_uint_eq(len(get(allocations, "samples")), 3);
	NUMBERS(at(get(allocations, "samples"), 0), "0", "1");
	NUMBERS(at(get(allocations, "samples"), 1), "0", "2");
	NUMBERS(at(get(allocations, "samples"), 2), "0", "3", "4");
	NUMBERS(get(allocations, "weights"), "3", "3", "4");
}
END_TEST

START_TEST(test_speedscope_big_sums)
{
	/* memray sums in Python integers: no wrapping at 2^64. */
	struct frame_text a[] = { { "f", "a.py", 1 } };
	struct frame_text b[] = { { "g", "a.py", 1 } };

	start("speedscope", "x");
	row(UINT64_MAX, UINT64_MAX, 1, a);
	row(UINT64_MAX, UINT64_MAX, 1, a);
	row(1, 2, 1, b);
	finish();
	yajl_val memory = at(get(doc, "profiles"), 0);
	profile_is(memory, "Memory", "bytes", "36893488147419103232");
	NUMBERS(get(memory, "weights"), "36893488147419103230", "2");
	yajl_val allocations = at(get(doc, "profiles"), 1);
	profile_is(allocations, "Allocations", "none", "36893488147419103231");
	NUMBERS(get(allocations, "weights"), "36893488147419103230", "1");
}
END_TEST

START_TEST(test_speedscope_awkward_names)
{
	struct frame_text frames[N_AWKWARD];
	/* The command line too may hold anything. */
	start("speedscope", "run \"\\\x01\xff\xc3\xa9");

	for (size_t i = 0; i < N_AWKWARD; i++) {
		frames[i] = (struct frame_text){ awkward[i].raw, awkward[i].raw, (int32_t)i + 1 };
		row(1, 1, 1, &frames[i]);
	}
	finish();
	ck_assert_str_eq(str(get(doc, "name")), "run \"\\\x01\xef\xbf\xbd\xc3\xa9");
	yajl_val f = get(get(doc, "shared"), "frames");
	ck_assert_uint_eq(len(f), N_AWKWARD);
	for (size_t i = 0; i < N_AWKWARD; i++) {
		char line[16];
		snprintf(line, sizeof line, "%zu", i + 1);
		frame_is(f, i, awkward[i].expected,
		    awkward[i].raw[0] != '\0' ? awkward[i].expected : NULL, line);
	}
}
END_TEST

START_TEST(test_speedscope_many_stacks)
{
	/* Many distinct stacks, each seen twice: every sample merges exactly once. */
	enum { N = 3000 };
	static char names[N][16];
	struct frame_text f[3];

	start("speedscope", "x");
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < N; i++) {
			snprintf(names[i], sizeof names[i], "fn%d", i);
			f[0] = (struct frame_text){ names[i], "m.py", 1 };
			f[1] = (struct frame_text){ names[i % 7], "m.py", 1 };
			f[2] = (struct frame_text){ "main", "m.py", 1 };
			row(1, (uint64_t)i + 1, 3, f);
		}
	}
	finish();
	yajl_val memory = at(get(doc, "profiles"), 0);
	ck_assert_uint_eq(len(get(memory, "samples")), N);
	yajl_val weights = get(memory, "weights");
	for (int i = 0; i < N; i++) {
		char w[16];
		snprintf(w, sizeof w, "%d", 2 * (i + 1));
		ck_assert_str_eq(num(at(weights, (size_t)i)), w);
	}
	ck_assert_str_eq(num(get(memory, "endValue")), "9003000");	/* 2 * N(N+1)/2 */
	ck_assert_uint_eq(len(get(get(doc, "shared"), "frames")), N + 1);
}
END_TEST

static Suite *
json_writers_suite(void)
{
	Suite *s = suite_create("json_writers");
	TCase *tc;

	tc = tcase_create("json_out");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_hash_resists_crafted_names);
	tcase_add_test(tc, test_utf8_valid_prefix);
	tcase_add_test(tc, test_json_out_values);
	tcase_add_test(tc, test_json_out_strings);
	tcase_add_test(tc, test_json_out_long_string);
	suite_add_tcase(s, tc);

	tc = tcase_create("gprof2dot");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_gprof2dot_empty);
	tcase_add_test(tc, test_gprof2dot_document);
	tcase_add_test(tc, test_gprof2dot_awkward_names);
	tcase_add_test(tc, test_gprof2dot_many_functions);
	suite_add_tcase(s, tc);

	tc = tcase_create("speedscope");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_speedscope_empty);
	tcase_add_test(tc, test_speedscope_document);
	tcase_add_test(tc, test_speedscope_big_sums);
	tcase_add_test(tc, test_speedscope_awkward_names);
	tcase_add_test(tc, test_speedscope_many_stacks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(json_writers_suite());
}
