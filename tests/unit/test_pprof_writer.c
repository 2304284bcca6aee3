/*
 * test_pprof_writer: -f pprof (src/pprof_writer.c) through the writer
 * registry.  The document is gunzipped with zlib and unpacked with the
 * same protobuf-c code (profile.proto), then checked field by field: the
 * sample types of each mode, one sample per row with its values and
 * thread_name label, locations leaf first and shared by equal frames,
 * functions keyed by (name, file) with the line of their first appearance,
 * "[unknown]" for an empty stack, values clamped to 2^63 - 1, the string
 * table's "" first, and the capture's times and command line.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "profile.pb-c.h"
#include "support.h"
#include "writer.h"

static struct writer_harness w;
static Perftools__Profiles__Profile *profile;
static uint8_t *unpacked;

static void
teardown(void)
{
	if (profile != NULL)
		perftools__profiles__profile__free_unpacked(profile, NULL);
	profile = NULL;
	free(unpacked);
	unpacked = NULL;
	writer_harness_free(&w);
}

static void
start(enum writer_mode mode, const char *command_line)
{
	writer_harness_begin(&w, "pprof", command_line, (struct writer_config){ .mode = mode });
}

static void
row(uint64_t n, uint64_t size, uint64_t tid, const char *thread_name, size_t n_frames,
    const struct frame_text *frames)
{
	writer_harness_row(&w, "MALLOC", n, size, tid, thread_name, n_frames, frames);
}

/* End the document, gunzip it and unpack the profile. */
static void
finish(void)
{
	const char *gz = writer_harness_finish(&w);
	size_t cap = 1 << 16;
	z_stream z = { 0 };
	int rc;

	ck_assert_uint_ge(w.len, 18);
	ck_assert_uint_eq((uint8_t)gz[0], 0x1f);	/* the gzip magic */
	ck_assert_uint_eq((uint8_t)gz[1], 0x8b);
	ck_assert_int_eq(inflateInit2(&z, 31), Z_OK);
	unpacked = malloc(cap);
	ck_assert_ptr_nonnull(unpacked);
	z.next_in = (unsigned char *)gz;
	z.avail_in = (uInt)w.len;
	do {
		if (z.total_out == cap) {
			cap *= 2;
			unpacked = realloc(unpacked, cap);
			ck_assert_ptr_nonnull(unpacked);
		}
		z.next_out = unpacked + z.total_out;
		z.avail_out = (uInt)(cap - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
		ck_assert_msg(rc == Z_OK || rc == Z_STREAM_END, "inflate: %d", rc);
	} while (rc != Z_STREAM_END);
	ck_assert_uint_eq(z.avail_in, 0);	/* one gzip member, nothing after it */
	size_t len = z.total_out;
	inflateEnd(&z);
	profile = perftools__profiles__profile__unpack(NULL, len, unpacked);
	ck_assert_ptr_nonnull(profile);
	ck_assert_uint_ge(profile->n_string_table, 1);
	ck_assert_str_eq(profile->string_table[0], "");
}

static const char *
string(int64_t index)
{
	ck_assert_int_ge(index, 0);
	ck_assert_uint_lt((uint64_t)index, profile->n_string_table);
	return profile->string_table[index];
}

static const Perftools__Profiles__Location *
location(uint64_t id)
{
	ck_assert_uint_ge(id, 1);
	ck_assert_uint_le(id, profile->n_location);
	ck_assert_uint_eq(profile->location[id - 1]->id, id);
	return profile->location[id - 1];
}

static const Perftools__Profiles__Function *
function(uint64_t id)
{
	ck_assert_uint_ge(id, 1);
	ck_assert_uint_le(id, profile->n_function);
	ck_assert_uint_eq(profile->function[id - 1]->id, id);
	return profile->function[id - 1];
}

/* Sample i's k-th location (0: the leaf) is function:file:line. */
static void
check_frame(size_t i, size_t k, const char *fn, const char *file, int64_t line)
{
	const Perftools__Profiles__Sample *s = profile->sample[i];

	ck_assert_uint_lt(k, s->n_location_id);
	const Perftools__Profiles__Location *loc = location(s->location_id[k]);
	ck_assert_uint_eq(loc->address, 0);
	ck_assert_uint_eq(loc->mapping_id, 0);
	ck_assert_uint_eq(loc->n_line, 1);
	ck_assert_int_eq(loc->line[0]->line, line);
	const Perftools__Profiles__Function *f = function(loc->line[0]->function_id);
	ck_assert_str_eq(string(f->name), fn);
	/* No system name: pprof would cut "<...>" out of <module> (pprof_writer.c). */
	ck_assert_str_eq(string(f->system_name), "");
	ck_assert_str_eq(string(f->filename), file);
}

/* Sample i has values [n, size] and the one label thread_name = label. */
static void
check_sample(size_t i, int64_t n, int64_t size, const char *label, size_t depth)
{
	ck_assert_uint_lt(i, profile->n_sample);
	const Perftools__Profiles__Sample *s = profile->sample[i];
	ck_assert_uint_eq(s->n_value, 2);
	ck_assert_int_eq(s->value[0], n);
	ck_assert_int_eq(s->value[1], size);
	ck_assert_uint_eq(s->n_label, 1);
	ck_assert_str_eq(string(s->label[0]->key), "thread_name");
	ck_assert_str_eq(string(s->label[0]->str), label);
	ck_assert_uint_eq(s->n_location_id, depth);
}

static void
check_types(const char *objects, const char *space)
{
	ck_assert_uint_eq(profile->n_sample_type, 2);
	ck_assert_str_eq(string(profile->sample_type[0]->type), objects);
	ck_assert_str_eq(string(profile->sample_type[0]->unit), "count");
	ck_assert_str_eq(string(profile->sample_type[1]->type), space);
	ck_assert_str_eq(string(profile->sample_type[1]->unit), "bytes");
	ck_assert_int_eq(profile->default_sample_type, profile->sample_type[1]->type);
}

/* Most recent first, as the report gives them. */
static const struct frame_text leaf_main[] = {
	{ "alloc", "/app/x.py", 12 },
	{ "main", "/app/run.py", 40 },
};
static const struct frame_text other_leaf_main[] = {
	{ "alloc", "/app/x.py", 15 },		/* the same function, another line */
	{ "main", "/app/run.py", 40 },		/* the same location */
};

START_TEST(test_samples_locations_functions)
{
	start(WRITER_MODE_IN_USE, NULL);
	row(3, 300, 1, NULL, 2, leaf_main);
	row(1, 7, 2, "worker", 2, other_leaf_main);
	finish();

	check_types("inuse_objects", "inuse_space");
	ck_assert_uint_eq(profile->n_sample, 2);
	check_sample(0, 3, 300, "0x1", 2);
	check_frame(0, 0, "alloc", "/app/x.py", 12);
	check_frame(0, 1, "main", "/app/run.py", 40);
	check_sample(1, 1, 7, "0x2 (worker)", 2);
	check_frame(1, 0, "alloc", "/app/x.py", 15);
	check_frame(1, 1, "main", "/app/run.py", 40);
	/* Locations by (function, file, line): 3; functions by (name, file): 2, in order of first use. */
	ck_assert_uint_eq(profile->n_location, 3);
	ck_assert_uint_eq(profile->sample[0]->location_id[1], profile->sample[1]->location_id[1]);
	ck_assert_uint_eq(profile->n_function, 2);
	ck_assert_str_eq(string(function(1)->name), "alloc");
	ck_assert_str_eq(string(function(2)->name), "main");
	/* start_line: the line of the first appearance. */
	ck_assert_int_eq(function(1)->start_line, 12);
	ck_assert_int_eq(function(2)->start_line, 40);
}
END_TEST

START_TEST(test_temporary_types)
{
	start(WRITER_MODE_ALLOCATED, NULL);
	row(2, 64, 1, NULL, 2, leaf_main);
	finish();
	check_types("alloc_objects", "alloc_space");
	check_sample(0, 2, 64, "0x1", 2);
}
END_TEST

START_TEST(test_leaks_types)
{
	start(WRITER_MODE_IN_USE, NULL);
	row(2, 64, 1, NULL, 2, leaf_main);
	finish();
	check_types("inuse_objects", "inuse_space");
}
END_TEST

START_TEST(test_empty_stack_is_unknown)
{
	static const struct frame_text no_line[] = { { "f", "/app/y.py", 0 } };

	start(WRITER_MODE_IN_USE, NULL);
	row(1, 10, 1, NULL, 0, NULL);
	row(1, 20, 1, NULL, 1, no_line);
	finish();
	check_sample(0, 1, 10, "0x1", 1);
	check_frame(0, 0, "[unknown]", "", 0);
	check_frame(1, 0, "f", "/app/y.py", 0);
	/* An unknown line gives start_line 0. */
	ck_assert_int_eq(function(2)->start_line, 0);
}
END_TEST

START_TEST(test_values_clamped)
{
	start(WRITER_MODE_IN_USE, NULL);
	row(UINT64_MAX, (uint64_t)INT64_MAX + 1, 1, NULL, 2, leaf_main);
	finish();
	check_sample(0, INT64_MAX, INT64_MAX, "0x1", 2);
}
END_TEST

START_TEST(test_no_rows)
{
	start(WRITER_MODE_IN_USE, NULL);
	finish();
	check_types("inuse_objects", "inuse_space");
	ck_assert_uint_eq(profile->n_sample, 0);
	ck_assert_uint_eq(profile->n_location, 0);
	ck_assert_uint_eq(profile->n_function, 0);
	ck_assert_uint_eq(profile->n_comment, 0);
	ck_assert_int_eq(profile->time_nanos, 0);
}
END_TEST

START_TEST(test_times_and_command_line)
{
	writer_harness_begin(&w, "pprof", "python3 app.py --fast", (struct writer_config){
		.start_time = 1700000000000, .end_time = 1700000002500 });	/* milliseconds */
	row(1, 1, 1, NULL, 2, leaf_main);
	finish();
	ck_assert_int_eq(profile->time_nanos, INT64_C(1700000000000000000));
	ck_assert_int_eq(profile->duration_nanos, INT64_C(2500000000));
	ck_assert_uint_eq(profile->n_comment, 1);
	ck_assert_str_eq(string(profile->comment[0]), "python3 app.py --fast");
}
END_TEST

START_TEST(test_end_before_start_has_no_duration)
{
	writer_harness_begin(&w, "pprof", NULL,
	    (struct writer_config){ .start_time = 2000, .end_time = 1000 });
	finish();
	ck_assert_int_eq(profile->time_nanos, INT64_C(2000000000));
	ck_assert_int_eq(profile->duration_nanos, 0);
}
END_TEST

START_TEST(test_strings_interned_once)
{
	start(WRITER_MODE_IN_USE, NULL);
	for (int i = 0; i < 50; i++)
		row(1, 1, 2, "worker", 2, leaf_main);
	finish();
	ck_assert_uint_eq(profile->n_sample, 50);
	for (size_t i = 0; i < profile->n_string_table; i++)
		for (size_t j = i + 1; j < profile->n_string_table; j++)
			ck_assert_str_ne(profile->string_table[i], profile->string_table[j]);
}
END_TEST

static Suite *
pprof_writer_suite(void)
{
	Suite *s = suite_create("pprof_writer");
	TCase *tc = tcase_create("pprof");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_samples_locations_functions);
	tcase_add_test(tc, test_temporary_types);
	tcase_add_test(tc, test_leaks_types);
	tcase_add_test(tc, test_empty_stack_is_unknown);
	tcase_add_test(tc, test_values_clamped);
	tcase_add_test(tc, test_no_rows);
	tcase_add_test(tc, test_times_and_command_line);
	tcase_add_test(tc, test_end_before_start_has_no_duration);
	tcase_add_test(tc, test_strings_interned_once);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(pprof_writer_suite());
}
