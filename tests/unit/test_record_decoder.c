/*
 * test_record_decoder: the header and records of a capture
 * (record_decoder.h), with the worked examples of doc/capture-format.md §2 and
 * §3.4 fed through a file descriptor, and the damaged-input errors of §10.
 */
#include <check.h>
#include <errno.h>
#include <lz4frame.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator.h"
#include "byte_source.h"
#include "capture_builder.h"
#include "record_decoder.h"
#include "support.h"
#include "varint.h"

/* §2's worked example: format 13, python 3.11.7, no native traces, 168 bytes. */
static const uint8_t spec_header[168] = {
	0x6d, 0x65, 0x6d, 0x72, 0x61, 0x79, 0x00, 0x0d, 0x00, 0x00, 0x00, 0xf0, 0x07, 0x0b, 0x03, 0x00,
	0x00, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0x00, 0x00, 0xfa, 0x68, 0xe5, 0xcf, 0x8b, 0x01, 0x00,
	0x00, 0x70, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x33, 0x20, 0x65, 0x78, 0x2e, 0x70, 0x79, 0x00, 0x92,
	0x10, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x2f, 0x75, 0x73, 0x72, 0x2f, 0x6c, 0x69, 0x62, 0x2f, 0x70,
	0x79, 0x74, 0x68, 0x6f, 0x6e, 0x33, 0x2e, 0x31, 0x31, 0x00, 0x2f, 0x76, 0x65, 0x6e, 0x76, 0x2f,
	0x6c, 0x69, 0x62, 0x2f, 0x70, 0x79, 0x74, 0x68, 0x6f, 0x6e, 0x33, 0x2e, 0x31, 0x31, 0x2f, 0x73,
	0x69, 0x74, 0x65, 0x2d, 0x70, 0x61, 0x63, 0x6b, 0x61, 0x67, 0x65, 0x73, 0x00, 0x00, 0x2f, 0x61,
	0x70, 0x70, 0x00, 0x2f, 0x75, 0x73, 0x72, 0x2f, 0x6c, 0x69, 0x62, 0x2f, 0x70, 0x79, 0x74, 0x68,
	0x6f, 0x6e, 0x33, 0x2e, 0x31, 0x31, 0x00, 0x00,
};

#define NATIVE_FLAG_OFFSET 15
#define HEADER_SIZE sizeof spec_header

/* §3.4: the 3.11 location table of code object 0 (function f in ex.py). */
static const uint8_t table311[24] = {
	0x80, 0x00, 0xd8, 0x09, 0x0a, 0x88, 0x03, 0x88, 0x61, 0x89, 0x07, 0x80,
	0x41, 0xdd, 0x0b, 0x0e, 0x88, 0x71, 0x89, 0x36, 0x8c, 0x36, 0x80, 0x4d,
};

/* §3.4, first part (shared by both variants): CODE_OBJECT, CONTEXT_SWITCH, FRAME_PUSH. */
static const uint8_t prologue[] = {
	0x0e, 0x00, 0x66, 0x00, 0x65, 0x78, 0x2e, 0x70, 0x79, 0x00, 0x02, 0x18,
	0x80, 0x00, 0xd8, 0x09, 0x0a, 0x88, 0x03, 0x88, 0x61, 0x89, 0x07, 0x80,
	0x41, 0xdd, 0x0b, 0x0e, 0x88, 0x71, 0x89, 0x36, 0x8c, 0x36, 0x80, 0x4d,
	0x0c, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x41, 0x00, 0x40,
};

/* §3.4, the plain variant's allocations. */
static const uint8_t plain_allocations[] = {
	0xfe, 0xd8, 0x85, 0x80, 0xb8, 0xe8, 0xf9, 0x07, 0x80, 0x20,	/* MALLOC miss, 4096 */
	0xfa, 0x28, 0x80, 0x02,					/* PYMALLOC_MALLOC +20, 256 */
	0x8d,							/* FREE hit[1] */
	0xf8, 0x80, 0xfa, 0xff, 0x01, 0x0e, 0x80, 0x80, 0x04,	/* MMAP, 65536 */
};

/* §3.4, the native variant's native frames and allocations. */
static const uint8_t native_allocations[] = {
	0x05, 0xe8, 0xc8, 0x80, 0x8a, 0x98, 0xf4, 0x2a, 0x00,		/* frame 1 */
	0x05, 0xe7, 0x08, 0x02,						/* frame 2 */
	0xfe, 0xd8, 0x85, 0x80, 0xb8, 0xe8, 0xf9, 0x07, 0x02, 0x80, 0x20,	/* MALLOC, native 2 */
	0xfa, 0x28, 0x00, 0x80, 0x02,					/* PYMALLOC_MALLOC, native 2 */
	0x8d,								/* FREE hit[1] */
	0xf8, 0x80, 0xfa, 0xff, 0x01, 0x0e, 0x01, 0x80, 0x80, 0x04,	/* MMAP, native 1 */
	0x80, 0x0f, 0x01, 0x80, 0x20,					/* MUNMAP hit[0], 4096 */
};

static const uint8_t epilogue[] = { 0x10, 0x01 };	/* FRAME_POP 1, TRAILER */

#define ADDR_MALLOC UINT64_C(0x7f3a1c000b60)
#define ADDR_PYMALLOC UINT64_C(0x7f3a1c000c00)
/* (0xfe743800180 + svarint(80 fa ff 01) = 0x1ffe80) << 3 */
#define ADDR_MMAP UINT64_C(0x7f3a1d000000)

/* The specification's header, with or without native traces. */
static void
put_header(struct capture_builder *b, bool native)
{
	builder_bytes(b, spec_header, HEADER_SIZE);
	b->data[b->len - HEADER_SIZE + NATIVE_FLAG_OFFSET] = native;
}

/* The decoder under test and what it reads from. */
static FILE *tmp;
static struct byte_source *src;
static struct record_decoder *dec;
static struct capture_builder input;

static void
teardown(void)
{
	record_decoder_free(dec);
	dec = NULL;
	byte_source_close(src);
	src = NULL;
	if (tmp != NULL)
		fclose(tmp);
	tmp = NULL;
	builder_free(&input);
}

/* Start decoding `len` bytes of data (through a temporary file). */
static void
open_bytes(const uint8_t *data, size_t len)
{
	record_decoder_free(dec);
	byte_source_close(src);
	if (tmp != NULL)
		fclose(tmp);
	tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	if (len > 0)
		ck_assert_uint_eq(fwrite(data, 1, len, tmp), len);
	ck_assert_int_eq(fflush(tmp), 0);
	ck_assert_int_eq(lseek(fileno(tmp), 0, SEEK_SET), 0);
	src = byte_source_open(fileno(tmp));
	dec = record_decoder_new(src);
	ck_assert_ptr_nonnull(dec);
}

static enum record_type
next(struct record *rec)
{
	memset(rec, 0xA5, sizeof *rec);
	return record_decoder_next(dec, rec);
}

static void
expect_alloc(uint64_t offset, uint8_t allocator, uint64_t address, uint64_t size, uint64_t native_id)
{
	struct record rec;

	ck_assert_int_eq(next(&rec), REC_ALLOCATION);
	ck_assert_int_eq(rec.type, REC_ALLOCATION);
	ck_assert_uint_eq(rec.offset, offset);
	ck_assert_uint_eq(rec.u.alloc.allocator, allocator);
	ck_assert_uint_eq(rec.u.alloc.address, address);
	ck_assert_uint_eq(rec.u.alloc.size, size);
	ck_assert_uint_eq(rec.u.alloc.native_id, native_id);
}

static void
expect_end(uint64_t offset)
{
	struct record rec;

	ck_assert_int_eq(next(&rec), REC_END);
	ck_assert_uint_eq(rec.offset, offset);
	/* REC_END repeats. */
	ck_assert_int_eq(next(&rec), REC_END);
	ck_assert_int_eq(rec.type, REC_END);
}

static void
expect_error(uint64_t offset, const char *message_part)
{
	struct record rec;

	ck_assert_int_eq(next(&rec), REC_ERROR);
	ck_assert_int_eq(rec.type, REC_ERROR);
	ck_assert_uint_eq(rec.offset, offset);
	ck_assert_uint_eq(record_decoder_error_offset(dec), offset);
	ck_assert_str_ne(record_decoder_error(dec), "");
	if (message_part != NULL)
		ck_assert_msg(strstr(record_decoder_error(dec), message_part) != NULL,
		    "error \"%s\" lacks \"%s\"", record_decoder_error(dec), message_part);
	/* REC_ERROR repeats. */
	ck_assert_int_eq(next(&rec), REC_ERROR);
	ck_assert_int_eq(next(&rec), REC_ERROR);
}

/* The prologue's three records, at their offsets. */
static void
expect_prologue(void)
{
	struct record rec;

	ck_assert_int_eq(next(&rec), REC_CODE_OBJECT);
	ck_assert_uint_eq(rec.offset, 168);
	ck_assert_uint_eq(rec.u.code.id, 0);
	ck_assert_str_eq(rec.u.code.function, "f");
	ck_assert_str_eq(rec.u.code.file, "ex.py");
	ck_assert_int_eq(rec.u.code.firstlineno, 1);
	ck_assert_uint_eq(rec.u.code.linetable_len, sizeof table311);
	ck_assert_mem_eq(rec.u.code.linetable, table311, sizeof table311);

	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	ck_assert_uint_eq(rec.offset, 204);
	ck_assert_uint_eq(rec.u.context_switch.tid, 1);

	ck_assert_int_eq(next(&rec), REC_FRAME_PUSH);
	ck_assert_uint_eq(rec.offset, 213);
	ck_assert_uint_eq(rec.u.push.code_id, 0);
	ck_assert_int_eq(rec.u.push.instruction_offset, 32);
	ck_assert(rec.u.push.is_entry);
}

/* ---- header -------------------------------------------------------- */

START_TEST(test_header_worked_example)
{
	put_header(&input, false);
	builder_bytes(&input, epilogue + 1, 1);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	const struct capture_header *h = record_decoder_header(dec);
	ck_assert_int_eq(h->version, 13);
	ck_assert_int_eq(h->python_version, 0x030B07F0);
	ck_assert(!h->native_traces);
	ck_assert_uint_eq(h->file_format, FILE_FORMAT_ALL_ALLOCATIONS);
	ck_assert_uint_eq(h->n_allocations, 3);
	ck_assert_uint_eq(h->n_frames, 0);
	ck_assert_int_eq(h->start_time, INT64_C(1700000000000));
	ck_assert_int_eq(h->end_time, INT64_C(1700000000250));
	ck_assert_str_eq(h->command_line, "python3 ex.py");
	ck_assert_int_eq(h->pid, 4242);
	ck_assert_uint_eq(h->main_tid, 1);
	ck_assert_uint_eq(h->skipped_frames_on_main_tid, 2);
	ck_assert_uint_eq(h->python_allocator, 1);
	ck_assert(!h->trace_python_allocators);
	ck_assert(!h->track_object_lifetimes);
	ck_assert_str_eq(h->libdest, "/usr/lib/python3.11");
	ck_assert_str_eq(h->site_packages[0], "/venv/lib/python3.11/site-packages");
	ck_assert_ptr_null(h->site_packages[1]);
	ck_assert_str_eq(h->sys_path[0], "/app");
	ck_assert_str_eq(h->sys_path[1], "/usr/lib/python3.11");
	ck_assert_ptr_null(h->sys_path[2]);
	ck_assert_uint_eq(h->header_size, 168);
	ck_assert_uint_eq(record_decoder_offset(dec), 168);
	expect_end(168);
}
END_TEST

START_TEST(test_header_native_flag_and_empty_lists)
{
	/* A header built field by field: native traces, empty libdest and lists, flags set. */
	builder_bytes(&input, "memray", 7);
	builder_bytes(&input, "\x0d\0\0\0", 4);
	builder_bytes(&input, "\xf0\x00\x0d\x03", 4);	/* 3.13.0 */
	builder_u8(&input, 1);			/* native traces */
	builder_u8(&input, 0);			/* ALL_ALLOCATIONS */
	builder_le(&input, 0, 8);
	builder_le(&input, 0, 8);
	builder_le(&input, 5, 8);
	builder_le(&input, UINT64_C(0xFFFFFFFFFFFFFFFF), 8);	/* end_time -1 */
	builder_bytes(&input, "", 1);			/* empty command line */
	builder_bytes(&input, "\xff\xff\xff\x7f", 4);	/* pid INT32_MAX */
	builder_le(&input, UINT64_C(0x123456789), 8);
	builder_le(&input, 0, 8);
	builder_u8(&input, 3);			/* malloc */
	builder_u8(&input, 1);			/* trace_python_allocators */
	builder_u8(&input, 1);			/* track_object_lifetimes */
	builder_bytes(&input, "\0\0\0", 3);		/* libdest "", site_packages [], sys_path [] */
	size_t header_len = input.len;
	builder_u8(&input, 0x01);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	const struct capture_header *h = record_decoder_header(dec);
	ck_assert_int_eq(h->python_version, 0x030D00F0);
	ck_assert(h->native_traces);
	ck_assert_int_eq(h->start_time, 5);
	ck_assert_int_eq(h->end_time, -1);
	ck_assert_str_eq(h->command_line, "");
	ck_assert_int_eq(h->pid, INT32_MAX);
	ck_assert_uint_eq(h->main_tid, UINT64_C(0x123456789));
	ck_assert_uint_eq(h->python_allocator, 3);
	ck_assert(h->trace_python_allocators);
	ck_assert(h->track_object_lifetimes);
	ck_assert_uint_eq(h->header_size, header_len);
	expect_end(header_len);
}
END_TEST

START_TEST(test_header_wrong_magic)
{
	static const char *const magics[] = { "memrax", "Memray", "\0\0\0\0\0\0" };

	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		input.len = 0;
		put_header(&input, false);
		memcpy(input.data, magics[i], 7);
		builder_u8(&input, 0x01);
		open_bytes(input.data, input.len);
		ck_assert(!record_decoder_read_header(dec));
		ck_assert_uint_eq(record_decoder_error_offset(dec), 0);
		ck_assert_str_ne(record_decoder_error(dec), "");
	}
	/* Garbage, and an empty input. */
	open_bytes((const uint8_t *)"hello, world\n", 13);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_uint_eq(record_decoder_error_offset(dec), 0);
	open_bytes(NULL, 0);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_uint_eq(record_decoder_error_offset(dec), 0);
	ck_assert_str_ne(record_decoder_error(dec), "");
}
END_TEST

START_TEST(test_header_unsupported_version)
{
	put_header(&input, false);
	input.data[7] = 99;
	builder_u8(&input, 0x01);
	open_bytes(input.data, input.len);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_msg(strstr(record_decoder_error(dec), "unsupported capture version 99") != NULL,
	    "error is \"%s\"", record_decoder_error(dec));
	ck_assert_uint_eq(record_decoder_error_offset(dec), 7);

	/* Versions 14 and -1 (ff ff ff ff) are not accepted either. */
	input.data[7] = 14;
	open_bytes(input.data, input.len);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_ptr_nonnull(strstr(record_decoder_error(dec), "unsupported capture version 14"));
	memset(input.data + 7, 0xff, 4);
	open_bytes(input.data, input.len);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_ptr_nonnull(strstr(record_decoder_error(dec), "unsupported capture version -1"));
}
END_TEST

START_TEST(test_header_cut_short)
{
	/*
	 * Every proper prefix of the header fails.  Trailing zeros are padding
	 * (§1.2): a prefix whose data (up to its last non-zero byte) does not
	 * hold the whole magic is "not a capture" (offset 0), else "cut short".
	 */
	put_header(&input, false);
	builder_u8(&input, 0x01);
	for (size_t cut = 0; cut < HEADER_SIZE; cut++) {
		size_t data = cut;
		while (data > 0 && input.data[data - 1] == 0)
			data--;
		open_bytes(input.data, cut);
		ck_assert_msg(!record_decoder_read_header(dec), "header of %zu bytes accepted", cut);
		ck_assert_str_ne(record_decoder_error(dec), "");
		if (data < 7)
			ck_assert_uint_eq(record_decoder_error_offset(dec), 0);
		else
			ck_assert_msg(strstr(record_decoder_error(dec), "cut short") != NULL,
			    "%zu bytes: error is \"%s\"", cut, record_decoder_error(dec));
	}
	/* The header ends with two zero bytes: with nothing after them, they are padding. */
	open_bytes(input.data, HEADER_SIZE);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_ptr_nonnull(strstr(record_decoder_error(dec), "cut short"));
	/* Anything after them makes the header complete. */
	open_bytes(input.data, HEADER_SIZE + 1);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_uint_eq(record_decoder_header(dec)->header_size, HEADER_SIZE);
}
END_TEST

START_TEST(test_header_version_12)
{
	/*
	 * §2.1: format 12 is format 13 without header fields 17-19 (the
	 * header ends after track_object_lifetimes, at 0x56); records are the same.
	 */
	builder_bytes(&input, spec_header, 0x56);
	input.data[7] = 12;
	builder_bytes(&input, prologue, sizeof prologue);
	builder_bytes(&input, plain_allocations, 10);
	builder_bytes(&input, epilogue, sizeof epilogue);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	const struct capture_header *h = record_decoder_header(dec);
	ck_assert_int_eq(h->version, 12);
	ck_assert_int_eq(h->python_version, 0x030B07F0);
	ck_assert_str_eq(h->command_line, "python3 ex.py");
	ck_assert_uint_eq(h->header_size, 0x56);
	struct record rec;
	ck_assert_int_eq(next(&rec), REC_CODE_OBJECT);
	ck_assert_uint_eq(rec.offset, 0x56);
	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	ck_assert_int_eq(next(&rec), REC_FRAME_PUSH);
	expect_alloc(0x56 + sizeof prologue, ALLOC_MALLOC, ADDR_MALLOC, 4096, 0);
	ck_assert_int_eq(next(&rec), REC_FRAME_POP);
	expect_end(0x56 + sizeof prologue + 11);
}
END_TEST

START_TEST(test_header_bad_fields)
{
	/* file_format 2 and a native flag of 2 are damage. */
	put_header(&input, false);
	builder_u8(&input, 0x01);
	input.data[16] = 2;
	open_bytes(input.data, input.len);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_str_ne(record_decoder_error(dec), "");
	input.data[16] = 0;
	input.data[NATIVE_FLAG_OFFSET] = 2;
	open_bytes(input.data, input.len);
	ck_assert(!record_decoder_read_header(dec));
	ck_assert_str_ne(record_decoder_error(dec), "");
}
END_TEST

/* ---- the §3.4 record streams ---------------------------------------- */

START_TEST(test_worked_example_plain)
{
	struct record rec;

	put_header(&input, false);
	builder_bytes(&input, prologue, sizeof prologue);
	builder_bytes(&input, plain_allocations, sizeof plain_allocations);
	builder_bytes(&input, epilogue, sizeof epilogue);
	ck_assert_uint_eq(input.len, 242);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	expect_prologue();
	expect_alloc(216, ALLOC_MALLOC, ADDR_MALLOC, 4096, 0);
	expect_alloc(226, ALLOC_PYMALLOC_MALLOC, ADDR_PYMALLOC, 256, 0);
	expect_alloc(230, ALLOC_FREE, ADDR_MALLOC, 0, 0);
	expect_alloc(231, ALLOC_MMAP, ADDR_MMAP, 65536, 0);
	ck_assert_int_eq(next(&rec), REC_FRAME_POP);
	ck_assert_uint_eq(rec.offset, 240);
	ck_assert_uint_eq(rec.u.pop.count, 1);
	expect_end(241);
	ck_assert_uint_eq(record_decoder_offset(dec), 242);

	const uint64_t *counts = record_decoder_counts(dec);
	ck_assert_uint_eq(counts[REC_ALLOCATION], 4);
	ck_assert_uint_eq(counts[REC_CODE_OBJECT], 1);
	ck_assert_uint_eq(counts[REC_CONTEXT_SWITCH], 1);
	ck_assert_uint_eq(counts[REC_FRAME_PUSH], 1);
	ck_assert_uint_eq(counts[REC_FRAME_POP], 1);
	ck_assert_uint_eq(counts[REC_NATIVE_FRAME], 0);
}
END_TEST

START_TEST(test_worked_example_native)
{
	struct record rec;

	put_header(&input, true);
	builder_bytes(&input, prologue, sizeof prologue);
	builder_bytes(&input, native_allocations, sizeof native_allocations);
	builder_bytes(&input, epilogue, sizeof epilogue);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert(record_decoder_header(dec)->native_traces);
	expect_prologue();

	ck_assert_int_eq(next(&rec), REC_NATIVE_FRAME);
	ck_assert_uint_eq(rec.offset, 216);
	ck_assert_uint_eq(rec.u.native_frame.ip, UINT64_C(0x55d0c0a01234));
	ck_assert_uint_eq(rec.u.native_frame.parent, 0);
	ck_assert_int_eq(next(&rec), REC_NATIVE_FRAME);
	ck_assert_uint_eq(rec.offset, 225);
	ck_assert_uint_eq(rec.u.native_frame.ip, UINT64_C(0x55d0c0a01000));
	ck_assert_uint_eq(rec.u.native_frame.parent, 1);

	expect_alloc(229, ALLOC_MALLOC, ADDR_MALLOC, 4096, 2);
	expect_alloc(240, ALLOC_PYMALLOC_MALLOC, ADDR_PYMALLOC, 256, 2);
	/* Deallocators carry no native id. */
	expect_alloc(245, ALLOC_FREE, ADDR_MALLOC, 0, 0);
	expect_alloc(246, ALLOC_MMAP, ADDR_MMAP, 65536, 1);
	/* MUNMAP: hit on slot 0 (the MMAP's address), allocator byte 0f, native delta -1. */
	expect_alloc(256, ALLOC_MUNMAP, ADDR_MMAP, 4096, 0);
	ck_assert_int_eq(next(&rec), REC_FRAME_POP);
	ck_assert_uint_eq(rec.offset, 261);
	expect_end(262);
	ck_assert_uint_eq(record_decoder_counts(dec)[REC_NATIVE_FRAME], 2);
	ck_assert_uint_eq(record_decoder_counts(dec)[REC_ALLOCATION], 5);
}
END_TEST

START_TEST(test_worked_example_lz4_pipe)
{
	/* The same stream, as `memray run` writes it by default (lz4), through a pipe. */
	int fds[2];

	put_header(&input, false);
	builder_bytes(&input, prologue, sizeof prologue);
	builder_bytes(&input, plain_allocations, sizeof plain_allocations);
	builder_bytes(&input, epilogue, sizeof epilogue);
	uint8_t frame[1024];
	size_t frame_len = LZ4F_compressFrame(frame, sizeof frame, input.data, input.len, NULL);
	ck_assert(!LZ4F_isError(frame_len));
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(write(fds[1], frame, frame_len), (ssize_t)frame_len);
	close(fds[1]);
	src = byte_source_open(fds[0]);
	ck_assert_int_eq(byte_source_compression(src), COMPRESSION_LZ4);
	dec = record_decoder_new(src);
	ck_assert(record_decoder_read_header(dec));
	expect_prologue();
	expect_alloc(216, ALLOC_MALLOC, ADDR_MALLOC, 4096, 0);
	expect_alloc(226, ALLOC_PYMALLOC_MALLOC, ADDR_PYMALLOC, 256, 0);
	expect_alloc(230, ALLOC_FREE, ADDR_MALLOC, 0, 0);
	expect_alloc(231, ALLOC_MMAP, ADDR_MMAP, 65536, 0);
	struct record rec;
	ck_assert_int_eq(next(&rec), REC_FRAME_POP);
	expect_end(241);
	ck_assert_ptr_null(byte_source_error(src));
	record_decoder_free(dec);
	dec = NULL;
	byte_source_close(src);
	src = NULL;
	close(fds[0]);
}
END_TEST

/* ---- damaged streams -------------------------------------------------- */

START_TEST(test_record_cut_short_everywhere)
{
	/*
	 * Cut the plain stream at every length.  Trailing zeros are padding
	 * (§1.2), so the data really ends after its last non-zero byte: at a
	 * record boundary that is a normal end; inside a record it is an error
	 * at the record's offset.
	 */
	static const uint64_t starts[] = { 168, 204, 213, 216, 226, 230, 231, 240, 241 };
	size_t n_starts = sizeof starts / sizeof starts[0];

	put_header(&input, false);
	builder_bytes(&input, prologue, sizeof prologue);
	builder_bytes(&input, plain_allocations, sizeof plain_allocations);
	builder_bytes(&input, epilogue, sizeof epilogue);
	for (size_t cut = HEADER_SIZE + 1; cut <= input.len; cut++) {
		size_t end = cut;
		while (end > HEADER_SIZE && input.data[end - 1] == 0)
			end--;
		open_bytes(input.data, cut);
		ck_assert(record_decoder_read_header(dec));

		size_t complete = 0;	/* records that end by `end` */
		while (complete < n_starts && (complete + 1 < n_starts ? starts[complete + 1] : 242) <= end)
			complete++;
		struct record rec;
		for (size_t i = 0; i < complete && i + 1 < n_starts; i++) {
			ck_assert_int_ne(next(&rec), REC_ERROR);
			ck_assert_int_ne(rec.type, REC_END);
			ck_assert_uint_eq(rec.offset, starts[i]);
		}
		if (complete == n_starts) {
			/* The TRAILER. */
			ck_assert_int_eq(next(&rec), REC_END);
			ck_assert_uint_eq(rec.offset, 241);
		} else if (starts[complete] == end) {
			ck_assert_msg(next(&rec) == REC_END, "cut %zu: type %d, error \"%s\"", cut,
			    rec.type, record_decoder_error(dec));
			ck_assert_uint_eq(rec.offset, end);
		} else {
			ck_assert_msg(next(&rec) == REC_ERROR, "cut %zu: type %d", cut, rec.type);
			ck_assert_uint_eq(rec.offset, starts[complete]);
			ck_assert_uint_eq(record_decoder_error_offset(dec), starts[complete]);
			ck_assert_str_ne(record_decoder_error(dec), "");
		}
	}
}
END_TEST

START_TEST(test_record_cut_short_malloc)
{
	/* Cut inside the first ALLOCATION (after 5 of its 10 bytes). */
	struct record rec;


	put_header(&input, false);
	builder_bytes(&input, prologue, sizeof prologue);
	builder_bytes(&input, plain_allocations, 5);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	expect_prologue();
	expect_error(216, NULL);
	ck_assert_ptr_nonnull(strstr(record_decoder_error(dec), "cut short"));
	/* Asking again changes nothing. */
	ck_assert_int_eq(record_decoder_next(dec, &rec), REC_ERROR);
	ck_assert_uint_eq(record_decoder_error_offset(dec), 216);
}
END_TEST

START_TEST(test_invalid_record_types)
{
	/* 0 (FILLER inside the data), 3, 4, 8 (a SEGMENT with no header), 9, 11, 13, 15 are invalid. */
	static const uint8_t invalid[] = { 0, 3, 4, 8, 9, 11, 13, 15 };

	for (size_t i = 0; i < sizeof invalid; i++) {
		input.len = 0;
		put_header(&input, false);
		builder_bytes(&input, prologue + 36, 9);		/* CONTEXT_SWITCH tid 1 */
		builder_u8(&input, invalid[i]);
		builder_bytes(&input, "\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01", 10);
		open_bytes(input.data, input.len);
		ck_assert(record_decoder_read_header(dec));
		struct record rec;
		ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
		char message[40];
		snprintf(message, sizeof message, "invalid record type %u", invalid[i]);
		expect_error(177, invalid[i] == 3 ? message : NULL);
	}
}
END_TEST

START_TEST(test_invalid_allocator)
{
	/* aaa = 0 with an allocator byte of 0 or 16: not an allocator (§7). */
	static const uint8_t ids[] = { 0, 16, 255 };

	for (size_t i = 0; i < sizeof ids; i++) {
		input.len = 0;
		put_header(&input, false);
		builder_bytes(&input, prologue + 36, 9);
		builder_u8(&input, 0x80);		/* hit[0], allocator byte follows */
		builder_u8(&input, ids[i]);
		builder_bytes(&input, "\x10\x01", 2);
		open_bytes(input.data, input.len);
		ck_assert(record_decoder_read_header(dec));
		struct record rec;
		ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
		expect_error(177, NULL);
	}
}
END_TEST

/* allocator_id_is_ranged, a compare, says what the kinds' table says of every valid id. */
START_TEST(test_ranged_allocator_ids)
{
	for (unsigned id = 1; id <= ALLOCATOR_MAX; id++)
		ck_assert_msg(allocator_id_is_ranged((uint8_t)id) ==
		    allocator_is_ranged(allocator_kind((uint8_t)id)), "allocator %u", id);
}
END_TEST

START_TEST(test_bad_varint)
{
	/* A FRAME_PUSH whose code id has eleven bytes. */
	put_header(&input, false);
	builder_bytes(&input, prologue + 36, 9);
	builder_u8(&input, 0x41);
	builder_bytes(&input, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11);
	builder_bytes(&input, "\x00\x01", 2);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	struct record rec;
	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	expect_error(177, NULL);
}
END_TEST

/*
 * Hot records (ALLOCATION, FRAME_PUSH, FRAME_POP) with at least 64 bytes
 * after them take the decoder's fast path, which has no bounds checks and
 * leaves what it does not handle to the general loop: varints of 9 and 10
 * bytes, and damage, whose message and offset must be those of the general
 * loop.  Each case is followed by 100 FRAME_POPs.
 */
enum hot_case {
	HOT_LONG_SIZE,		/* a size of 10 bytes (UINT64_MAX) */
	HOT_LONG_POINTER,	/* an address delta of 10 bytes */
	HOT_NINE_BYTE_CODE_ID,	/* a FRAME_PUSH code id of 9 bytes */
	HOT_BAD_ALLOCATOR,
	HOT_ELEVEN_BYTE_VARINT,
	HOT_NATIVE_ID_OUT_OF_RANGE,
	HOT_CASES
};

START_TEST(test_hot_records_mid_stream)
{
	enum hot_case which = (enum hot_case)_i;
	struct record rec;

	put_header(&input, which == HOT_NATIVE_ID_OUT_OF_RANGE);
	builder_bytes(&input, prologue + 36, 9);		/* CONTEXT_SWITCH tid 1: the next record is at 177 */
	switch (which) {
	case HOT_LONG_SIZE:
		builder_u8(&input, 0xfe);		/* MALLOC, address miss */
		builder_svarint(&input, 0x1000);
		builder_varint(&input, UINT64_MAX);
		break;
	case HOT_LONG_POINTER:
		builder_u8(&input, 0xfe);
		builder_svarint(&input, INT64_MIN + 1);
		builder_varint(&input, 16);
		break;
	case HOT_NINE_BYTE_CODE_ID:
		builder_u8(&input, 0x41);		/* FRAME_PUSH, entry */
		builder_varint(&input, UINT64_C(1) << 56);
		builder_svarint(&input, -2);
		break;
	case HOT_BAD_ALLOCATOR:
		builder_u8(&input, 0x80);		/* hit[0], allocator byte follows */
		builder_u8(&input, 0);
		break;
	case HOT_ELEVEN_BYTE_VARINT:
		builder_u8(&input, 0x41);
		builder_bytes(&input, "\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 11);
		break;
	case HOT_NATIVE_ID_OUT_OF_RANGE:
		builder_u8(&input, 0xfe);
		builder_svarint(&input, 0x1000);
		builder_svarint(&input, 5);		/* no NATIVE_TRACE_INDEX yet */
		builder_varint(&input, 16);
		break;
	case HOT_CASES:
		break;
	}
	size_t pops = input.len;
	for (int i = 0; i < 100; i++)
		builder_u8(&input, 0x10);
	builder_u8(&input, 0x01);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	switch (which) {
	case HOT_LONG_SIZE:
		expect_alloc(177, ALLOC_MALLOC, UINT64_C(0x1000) << 3, UINT64_MAX, 0);
		break;
	case HOT_LONG_POINTER:
		expect_alloc(177, ALLOC_MALLOC, (uint64_t)(INT64_MIN + 1) << 3, 16, 0);
		break;
	case HOT_NINE_BYTE_CODE_ID:
		ck_assert_int_eq(next(&rec), REC_FRAME_PUSH);
		ck_assert_uint_eq(rec.offset, 177);
		ck_assert_uint_eq(rec.u.push.code_id, UINT64_C(1) << 56);
		ck_assert_int_eq(rec.u.push.instruction_offset, -2);
		break;
	case HOT_BAD_ALLOCATOR:
		expect_error(177, "invalid allocator 0");
		return;
	case HOT_ELEVEN_BYTE_VARINT:
		expect_error(177, "invalid varint");
		return;
	case HOT_NATIVE_ID_OUT_OF_RANGE:
		expect_error(177, "native frame id 5 out of range");
		return;
	case HOT_CASES:
		break;
	}
	for (int i = 0; i < 100; i++) {
		ck_assert_int_eq(next(&rec), REC_FRAME_POP);
		ck_assert_uint_eq(rec.offset, pops + (size_t)i);
		ck_assert_uint_eq(rec.u.pop.count, 1);
	}
	expect_end(pops + 100);
}
END_TEST

/* ---- other records and decoder state ---------------------------------- */

START_TEST(test_pointer_cache_fifo)
{
	/*
	 * §3.3.6: 15 slots, all 0 at first, filled only by misses, hits do not
	 * reorder; OBJECT_RECORD shares the cache and last_data_ptr (§3.3.7).
	 * Both ways with pointers (_i), on the fast path: pops follow, so
	 * that every allocation record is more than a record's length from the
	 * end of the data.
	 */
	static const enum pointer_path paths[] = { POINTER_PATH_BRANCHES, POINTER_PATH_MASKS };
	enum { POPS = 80 };
	struct record rec;
	uint64_t addr[17];
	uint64_t last = 0;

	put_header(&input, false);
	builder_bytes(&input, prologue + 36, 9);
	builder_u8(&input, 0x85);			/* FREE hit[0] before any miss: address 0 */
	builder_u8(&input, 0x80 | 14 << 3 | 5);	/* FREE hit[14]: 0 too */
	for (int i = 0; i < 16; i++) {
		addr[i] = UINT64_C(0x7f0000001000) + (uint64_t)(i * 37 % 16) * 0x100 - (uint64_t)i * 8;
		builder_u8(&input, 0xFE);		/* MALLOC miss */
		builder_svarint(&input, (int64_t)((addr[i] >> 3) - last));
		last = addr[i] >> 3;
		builder_varint(&input, (uint64_t)i + 1);
	}
	/* Cache now: slot k = addr[15 - k], addr[0] dropped. */
	builder_u8(&input, 0x80 | 14 << 3 | 5);	/* hit[14] = addr[1] */
	builder_u8(&input, 0x80 | 0 << 3 | 5);	/* hit[0] = addr[15] */
	builder_u8(&input, 0x80 | 0 << 3 | 5);	/* again addr[15]: hits do not reorder */
	builder_u8(&input, 0x80 | 7 << 3 | 1);	/* PYMALLOC_FREE hit[7] = addr[8] */
	/* An OBJECT_RECORD miss (created, no native field): 0x20 | 15 << 1 | 1. */
	addr[16] = UINT64_C(0x7e0000000000);
	builder_u8(&input, 0x3F);
	builder_svarint(&input, (int64_t)((addr[16] >> 3) - last));
	builder_u8(&input, 0x80 | 0 << 3 | 5);	/* hit[0] = the object's address */
	builder_u8(&input, 0x80 | 1 << 3 | 5);	/* hit[1] = addr[15] */
	/* A miss after the object: its delta is against the object's pointer. */
	builder_u8(&input, 0xFE);
	builder_svarint(&input, 1);
	builder_varint(&input, 99);
	for (int i = 0; i < POPS; i++)
		builder_u8(&input, 0x10);		/* FRAME_POP */
	builder_u8(&input, 0x01);
	open_bytes(input.data, input.len);
	record_decoder_set_pointer_path(dec, paths[_i]);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	ck_assert_int_eq(next(&rec), REC_ALLOCATION);
	ck_assert_uint_eq(rec.u.alloc.address, 0);
	ck_assert_int_eq(next(&rec), REC_ALLOCATION);
	ck_assert_uint_eq(rec.u.alloc.address, 0);
	for (int i = 0; i < 16; i++) {
		ck_assert_int_eq(next(&rec), REC_ALLOCATION);
		ck_assert_uint_eq(rec.u.alloc.allocator, ALLOC_MALLOC);
		ck_assert_uint_eq(rec.u.alloc.address, addr[i]);
		ck_assert_uint_eq(rec.u.alloc.size, (uint64_t)i + 1);
	}
	static const int expected[] = { 1, 15, 15, 8 };
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(next(&rec), REC_ALLOCATION);
		ck_assert_uint_eq(rec.u.alloc.address, addr[expected[i]]);
	}
	ck_assert_uint_eq(rec.u.alloc.allocator, ALLOC_PYMALLOC_FREE);
	/* The OBJECT_RECORD is not returned. */
	ck_assert_int_eq(next(&rec), REC_ALLOCATION);
	ck_assert_uint_eq(rec.u.alloc.address, addr[16]);
	ck_assert_int_eq(next(&rec), REC_ALLOCATION);
	ck_assert_uint_eq(rec.u.alloc.address, addr[15]);
	ck_assert_int_eq(next(&rec), REC_ALLOCATION);
	ck_assert_uint_eq(rec.u.alloc.address, addr[16] + 8);
	ck_assert_uint_eq(rec.u.alloc.size, 99);
	for (int i = 0; i < POPS; i++)
		ck_assert_int_eq(next(&rec), REC_FRAME_POP);
	ck_assert_int_eq(next(&rec), REC_END);
	ck_assert_uint_eq(record_decoder_counts(dec)[REC_OBJECT], 1);
}
END_TEST

START_TEST(test_object_record_native)
{
	/*
	 * §3.3.7/§3.3.8: with native traces, a created OBJECT_RECORD carries a
	 * native delta against last_native_id, shared with ALLOCATION and the
	 * NATIVE_TRACE_INDEX parent; a destroyed one carries none.
	 */
	struct record rec;

	put_header(&input, true);
	builder_bytes(&input, prologue + 36, 9);
	for (int i = 0; i < 3; i++) {		/* frames 1..3 (4 bytes each): ip 0x1000 * (i+1), parent i */
		builder_u8(&input, 0x05);
		builder_svarint(&input, 0x1000);
		builder_svarint(&input, i == 0 ? 0 : 1);
	}
	builder_u8(&input, 0x3F);			/* object created, miss, native +1 -> 3 */
	builder_svarint(&input, 0x100);
	builder_svarint(&input, 1);
	builder_u8(&input, 0xFE);			/* MALLOC miss +1, native -1 -> 2, size 5 */
	builder_svarint(&input, 1);
	builder_svarint(&input, -1);
	builder_varint(&input, 5);
	builder_u8(&input, 0x20 | 1 << 1);		/* object destroyed, hit[1]: no native field */
	builder_u8(&input, 0x80 | 1 << 3 | 6);	/* MALLOC hit[1] (the object), native +0 -> 2 */
	builder_svarint(&input, 0);
	builder_varint(&input, 6);
	builder_u8(&input, 0x05);			/* frame 4: parent -2 -> 0 */
	builder_svarint(&input, 1);
	builder_svarint(&input, -2);
	builder_u8(&input, 0x01);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	for (uint64_t i = 0; i < 3; i++) {
		ck_assert_int_eq(next(&rec), REC_NATIVE_FRAME);
		ck_assert_uint_eq(rec.u.native_frame.ip, 0x1000 * (i + 1));
		ck_assert_uint_eq(rec.u.native_frame.parent, i);
	}
	expect_alloc(177 + 3 * 4 + 4, ALLOC_MALLOC, 0x808, 5, 2);
	expect_alloc(177 + 3 * 4 + 4 + 4 + 1, ALLOC_MALLOC, 0x800, 6, 2);
	ck_assert_int_eq(next(&rec), REC_NATIVE_FRAME);
	ck_assert_uint_eq(rec.u.native_frame.ip, 0x3001);
	ck_assert_uint_eq(rec.u.native_frame.parent, 0);
	expect_end(input.len - 1);
	ck_assert_uint_eq(record_decoder_counts(dec)[REC_OBJECT], 2);
}
END_TEST

START_TEST(test_misc_records)
{
	/* THREAD_RECORD, MEMORY_RECORD (skipped), FRAME_PUSH/POP flags, CODE_OBJECT deltas. */
	struct record rec;

	put_header(&input, false);
	builder_bytes(&input, prologue, 36);			/* CODE_OBJECT 0, firstlineno 1 */
	builder_u8(&input, 0x0e);				/* CODE_OBJECT 1 "g" "x/y.py", +9 -> 10, no table */
	builder_varint(&input, 1);
	builder_bytes(&input, "g", 2);
	builder_bytes(&input, "x/y.py", 7);
	builder_svarint(&input, 9);
	builder_varint(&input, 0);
	builder_u8(&input, 0x0e);				/* CODE_OBJECT 300, -4 -> 6 */
	builder_varint(&input, 300);
	builder_bytes(&input, "h", 2);
	builder_bytes(&input, "z.py", 5);
	builder_svarint(&input, -4);
	builder_varint(&input, 2);
	builder_bytes(&input, "\x01\x02", 2);
	builder_u8(&input, 0x0c);				/* CONTEXT_SWITCH 2^63 + 5 */
	builder_le(&input, UINT64_C(0x8000000000000005), 8);
	builder_u8(&input, 0x0a);				/* THREAD_RECORD "worker" */
	builder_bytes(&input, "worker", 7);
	builder_u8(&input, 0x02);				/* MEMORY_RECORD rss, ms */
	builder_varint(&input, 123456789);
	builder_varint(&input, 1000);
	builder_u8(&input, 0x7e);				/* FRAME_PUSH, not entry, flag bits ignored */
	builder_varint(&input, 300);
	builder_svarint(&input, -2);
	builder_u8(&input, 0x1f);				/* FRAME_POP 16 */
	builder_u8(&input, 0x01);
	builder_bytes(&input, "\x55\x55", 2);			/* after the TRAILER: never read */
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(next(&rec), REC_CODE_OBJECT);
	ck_assert_int_eq(rec.u.code.firstlineno, 1);
	ck_assert_int_eq(next(&rec), REC_CODE_OBJECT);
	ck_assert_uint_eq(rec.u.code.id, 1);
	ck_assert_str_eq(rec.u.code.function, "g");
	ck_assert_str_eq(rec.u.code.file, "x/y.py");
	ck_assert_int_eq(rec.u.code.firstlineno, 10);
	ck_assert_uint_eq(rec.u.code.linetable_len, 0);
	ck_assert_int_eq(next(&rec), REC_CODE_OBJECT);
	ck_assert_uint_eq(rec.u.code.id, 300);
	ck_assert_int_eq(rec.u.code.firstlineno, 6);
	ck_assert_uint_eq(rec.u.code.linetable_len, 2);
	ck_assert_mem_eq(rec.u.code.linetable, "\x01\x02", 2);
	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	ck_assert_uint_eq(rec.u.context_switch.tid, UINT64_C(0x8000000000000005));
	ck_assert_int_eq(next(&rec), REC_THREAD_NAME);
	ck_assert_str_eq(rec.u.thread.name, "worker");
	ck_assert_int_eq(next(&rec), REC_MEMORY);
	ck_assert_uint_eq(rec.u.memory.rss, 123456789);
	ck_assert_uint_eq(rec.u.memory.ms, 1000);
	ck_assert_int_eq(next(&rec), REC_FRAME_PUSH);
	ck_assert(!rec.u.push.is_entry);
	ck_assert_uint_eq(rec.u.push.code_id, 300);
	ck_assert_int_eq(rec.u.push.instruction_offset, -2);
	ck_assert_int_eq(next(&rec), REC_FRAME_POP);
	ck_assert_uint_eq(rec.u.pop.count, 16);
	ck_assert_int_eq(next(&rec), REC_END);
	ck_assert_uint_eq(record_decoder_counts(dec)[REC_MEMORY], 1);
	ck_assert_uint_eq(record_decoder_counts(dec)[REC_CODE_OBJECT], 3);
}
END_TEST

START_TEST(test_segments)
{
	/* MEMORY_MAP_START, SEGMENT_HEADER and its SEGMENTs (§3.3.9); a missing SEGMENT is damage. */
	struct record rec;

	put_header(&input, true);
	builder_u8(&input, 0x06);
	builder_u8(&input, 0x07);
	builder_bytes(&input, "/usr/lib/libc.so.6", 19);
	builder_varint(&input, 2);
	builder_le(&input, UINT64_C(0x7f0000000000), 8);
	builder_u8(&input, 0x08);
	builder_le(&input, 0x1000, 8);
	builder_varint(&input, 0x2000);
	builder_u8(&input, 0x08);
	builder_le(&input, 0x5000, 8);
	builder_varint(&input, 300);
	size_t second = input.len;
	builder_u8(&input, 0x07);
	builder_bytes(&input, "a.so", 5);
	builder_varint(&input, 1);
	builder_le(&input, 0x400000, 8);
	builder_bytes(&input, "\x0c\x01\x01\x01\x01\x01\x01\x01\x01", 9);	/* not a SEGMENT */
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(next(&rec), REC_MEMORY_MAP_START);
	ck_assert_int_eq(next(&rec), REC_SEGMENT_HEADER);
	ck_assert_str_eq(rec.u.segment_header.filename, "/usr/lib/libc.so.6");
	ck_assert_uint_eq(rec.u.segment_header.num_segments, 2);
	ck_assert_uint_eq(rec.u.segment_header.load_address, UINT64_C(0x7f0000000000));
	ck_assert_int_eq(next(&rec), REC_SEGMENT);
	ck_assert_uint_eq(rec.u.segment.vaddr, 0x1000);
	ck_assert_uint_eq(rec.u.segment.memsz, 0x2000);
	ck_assert_int_eq(next(&rec), REC_SEGMENT);
	ck_assert_uint_eq(rec.u.segment.vaddr, 0x5000);
	ck_assert_uint_eq(rec.u.segment.memsz, 300);
	ck_assert_int_eq(next(&rec), REC_SEGMENT_HEADER);
	ck_assert_uint_eq(rec.offset, second);
	expect_error(second + 1 + 5 + 1 + 8, NULL);

	/* The data ending while SEGMENT records are still owed is damage too, not an end. */
	input.len = second;
	builder_u8(&input, 0x07);
	builder_bytes(&input, "b.so", 5);
	builder_varint(&input, 2);
	builder_le(&input, 0x400001, 8);
	builder_u8(&input, 0x08);
	builder_le(&input, 0x1000, 8);
	builder_varint(&input, 7);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(next(&rec), REC_MEMORY_MAP_START);
	ck_assert_int_eq(next(&rec), REC_SEGMENT_HEADER);
	ck_assert_int_eq(next(&rec), REC_SEGMENT);
	ck_assert_int_eq(next(&rec), REC_SEGMENT);
	ck_assert_int_eq(next(&rec), REC_SEGMENT_HEADER);
	ck_assert_int_eq(next(&rec), REC_SEGMENT);
	ck_assert_uint_eq(rec.u.segment.memsz, 7);
	ck_assert_int_eq(next(&rec), REC_ERROR);
	ck_assert_uint_eq(record_decoder_error_offset(dec), input.len);
	ck_assert_str_ne(record_decoder_error(dec), "");
}
END_TEST

START_TEST(test_many_records_across_refills)
{
	/* 60000 CONTEXT_SWITCH records (540 KB): records straddle the decoder's buffer refills. */
	enum { N = 60000 };
	struct record rec;

	put_header(&input, false);
	for (uint64_t i = 0; i < N; i++) {
		builder_u8(&input, 0x0c);
		builder_le(&input, i * UINT64_C(0x0101010101) + 1, 8);
	}
	builder_u8(&input, 0x01);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	for (uint64_t i = 0; i < N; i++) {
		ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
		ck_assert_uint_eq(rec.offset, HEADER_SIZE + 9 * i);
		ck_assert_uint_eq(rec.u.context_switch.tid, i * UINT64_C(0x0101010101) + 1);
	}
	expect_end(HEADER_SIZE + 9 * N);
	ck_assert_uint_eq(record_decoder_counts(dec)[REC_CONTEXT_SWITCH], N);
}
END_TEST

START_TEST(test_long_record)
{
	/* A thread name longer than the decoder's first buffer, between two short records. */
	size_t name_len = 700 * 1024;
	char *name = malloc(name_len + 1);
	struct record rec;

	ck_assert_ptr_nonnull(name);
	for (size_t i = 0; i < name_len; i++)
		name[i] = (char)('a' + i % 26);
	name[name_len] = '\0';
	put_header(&input, false);
	builder_bytes(&input, prologue + 36, 9);
	builder_u8(&input, 0x0a);
	builder_bytes(&input, name, name_len + 1);
	builder_u8(&input, 0x10);
	builder_u8(&input, 0x01);
	open_bytes(input.data, input.len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(next(&rec), REC_CONTEXT_SWITCH);
	ck_assert_int_eq(next(&rec), REC_THREAD_NAME);
	ck_assert_uint_eq(rec.offset, 177);
	ck_assert_uint_eq(strlen(rec.u.thread.name), name_len);
	ck_assert(memcmp(rec.u.thread.name, name, name_len) == 0);
	ck_assert_int_eq(next(&rec), REC_FRAME_POP);
	ck_assert_uint_eq(rec.offset, 177 + 1 + name_len + 1);
	expect_end(177 + 1 + name_len + 2);
	free(name);
}
END_TEST

/* ---- record_decoder_next_batch ----------------------------------------- */

/* A decoder of its own over len bytes of data, for a second decoder beside dec. */
struct side_decoder {
	FILE *tmp;
	struct byte_source *src;
	struct record_decoder *dec;
};

static void
side_open(struct side_decoder *d, const uint8_t *data, size_t len)
{
	d->tmp = tmpfile();
	ck_assert_ptr_nonnull(d->tmp);
	ck_assert_uint_eq(fwrite(data, 1, len, d->tmp), len);
	ck_assert_int_eq(fflush(d->tmp), 0);
	ck_assert_int_eq(lseek(fileno(d->tmp), 0, SEEK_SET), 0);
	d->src = byte_source_open(fileno(d->tmp));
	d->dec = record_decoder_new(d->src);
}

static void
side_close(struct side_decoder *d)
{
	record_decoder_free(d->dec);
	byte_source_close(d->src);
	fclose(d->tmp);
}

/* Whether two records are the same: their strings compared, not their addresses. */
static void
require_same_record(const struct record *a, const struct record *b)
{
	require_uint_eq(a->type, b->type);
	require_uint_eq(a->offset, b->offset);
	switch (a->type) {
	case REC_THREAD_NAME:
		require(strcmp(a->u.thread.name, b->u.thread.name) == 0);
		break;
	case REC_CODE_OBJECT:
		require_uint_eq(a->u.code.id, b->u.code.id);
		require(strcmp(a->u.code.function, b->u.code.function) == 0);
		require(strcmp(a->u.code.file, b->u.code.file) == 0);
		require_uint_eq(a->u.code.firstlineno, b->u.code.firstlineno);
		require_uint_eq(a->u.code.linetable_len, b->u.code.linetable_len);
		/* Formats 10-11 have no line table: NULL, which memcmp may not be given. */
		require(a->u.code.linetable_len == 0 ||
		    memcmp(a->u.code.linetable, b->u.code.linetable, a->u.code.linetable_len) == 0);
		break;
	case REC_SEGMENT_HEADER:
		require(strcmp(a->u.segment_header.filename, b->u.segment_header.filename) == 0);
		require_uint_eq(a->u.segment_header.num_segments, b->u.segment_header.num_segments);
		require_uint_eq(a->u.segment_header.load_address, b->u.segment_header.load_address);
		break;
	case REC_END:
	case REC_ERROR:
		break;
	default:
		/* Both were filled with the same bytes first: the fields not written match too. */
		require(memcmp(&a->u, &b->u, sizeof a->u) == 0);
		break;
	}
}

/* A hot record handed over by record_decoder_feed: the fields its type has, as b's. */
static void
require_same_hot_record(const struct record *a, const struct record *b)
{
	require_uint_eq(a->type, b->type);
	require_uint_eq(a->offset, b->offset);
	switch (a->type) {
	case REC_ALLOCATION:
		require_uint_eq(a->u.alloc.address, b->u.alloc.address);
		require_uint_eq(a->u.alloc.size, b->u.alloc.size);
		require_uint_eq(a->u.alloc.allocator, b->u.alloc.allocator);
		require_uint_eq(a->u.alloc.native_id, b->u.alloc.native_id);
		break;
	case REC_FRAME_PUSH:
		require_uint_eq(a->u.push.code_id, b->u.push.code_id);
		require_uint_eq((uint64_t)a->u.push.instruction_offset,
		    (uint64_t)b->u.push.instruction_offset);
		require_uint_eq(a->u.push.is_entry, b->u.push.is_entry);
		break;
	case REC_FRAME_POP:
		require_uint_eq(a->u.pop.count, b->u.pop.count);
		break;
	default:
		require(false);		/* only hot records are fed */
	}
}

/*
 * The takers of record_decoder_feed and record_decoder_feed_direct here:
 * up to max records into recs, each handed over with the header's
 * native_traces as `native`.
 */
struct collector {
	const struct record_decoder *dec;
	struct record *recs;
	size_t n, max;
};

static bool
collect(struct collector *c, const struct record *rec, bool native)
{
	require(native == record_decoder_header(c->dec)->native_traces);
	c->recs[c->n++] = *rec;
	return c->n < c->max;
}

bool
record_decoder_take(void *taker, struct record *rec, bool native)
{
	return collect(taker, rec, native);
}

bool
record_decoder_take_direct(void *taker, struct record *rec, bool native)
{
	return collect(taker, rec, native);
}

/* How require_batches_match's side decoder takes its records. */
enum batch_way { IN_BATCHES, FED, FED_DIRECT };

/*
 * Up to max records, as record_queue's reader thread takes them: fed
 * (record_decoder_feed, or with direct record_decoder_feed_direct) while
 * the fast path goes, else one from record_decoder_next.  Returns how
 * many; *fed: whether they were fed.
 */
static size_t
feed_batch(struct record_decoder *d, struct record *recs, size_t max, bool direct, bool *fed)
{
	struct collector c = { d, recs, 0, max };

	*fed = direct ? record_decoder_feed_direct(d, &c) : record_decoder_feed(d, &c);
	require(*fed == (c.n > 0));
	if (*fed)
		return c.n;
	recs[0].type = record_decoder_next(d, &recs[0]);
	return 1;
}

/*
 * Decode data one record at a time (dec) and in batches of batch (a side
 * decoder, `way`: record_decoder_next_batch, or record_decoder_feed or
 * record_decoder_feed_direct and record_decoder_next in turn): the same
 * records, counts, end and error.
 * One takes pointers with branches, the other with masks (batch_masks:
 * the batches), so that both ways are checked against each other.
 */
static void
require_batches_match(const uint8_t *data, size_t len, size_t batch, bool batch_masks,
    enum batch_way way)
{
	enum { MAX_BATCH = 300 };
	struct side_decoder side;
	struct record one, recs[MAX_BATCH];
	size_t n = 0, at = 0;
	bool fed = false;

	ck_assert_uint_le(batch, MAX_BATCH);
	open_bytes(data, len);
	side_open(&side, data, len);
	record_decoder_set_pointer_path(dec, batch_masks ? POINTER_PATH_BRANCHES : POINTER_PATH_MASKS);
	record_decoder_set_pointer_path(side.dec, batch_masks ? POINTER_PATH_MASKS : POINTER_PATH_BRANCHES);
	bool header = record_decoder_read_header(dec);
	require(header == record_decoder_read_header(side.dec));
	for (bool done = !header; !done;) {
		if (at == n) {
			memset(recs, 0xA5, sizeof recs);
			if (way != IN_BATCHES)
				n = feed_batch(side.dec, recs, batch, way == FED_DIRECT, &fed);
			else
				n = record_decoder_next_batch(side.dec, recs, batch);
			require(n >= 1 && n <= batch);
			for (size_t i = 0; i + 1 < n; i++)
				require(recs[i].type != REC_END && recs[i].type != REC_ERROR);
			at = 0;
		}
		enum record_type type = next(&one);
		require_uint_eq(type, one.type);
		if (fed)
			require_same_hot_record(&recs[at++], &one);
		else
			require_same_record(&one, &recs[at++]);
		done = one.type == REC_END || one.type == REC_ERROR;
	}
	require(at == n);
	require(memcmp(record_decoder_counts(dec), record_decoder_counts(side.dec),
	    RECORD_TYPE_COUNT * sizeof(uint64_t)) == 0);
	require(strcmp(record_decoder_error(dec), record_decoder_error(side.dec)) == 0);
	require_uint_eq(record_decoder_error_offset(dec), record_decoder_error_offset(side.dec));
	require_uint_eq(record_decoder_offset(dec), record_decoder_offset(side.dec));
	if (header) {
		/* REC_END and REC_ERROR repeat, one at a time and in batches. */
		require_uint_eq(record_decoder_next_batch(side.dec, recs, batch), 1);
		require_uint_eq(recs[0].type, one.type);
	}
	side_close(&side);
}

/* A varint of 1 to 10 bytes, most of them short, as a capture's are. */
static uint64_t
random_varint_value(void)
{
	unsigned bits = rng() % 8 == 0 ? 1 + (unsigned)(rng() % 64) : 1 + (unsigned)(rng() % 16);

	return rng() & (bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1);
}

enum { BATCH_CASES = 60 };

/*
 * Random records, the hot ones among the others, some of them damaged or
 * cut short: decoded in batches (or fed) as one at a time.  A batch stops at any
 * record the fast path does not take, so that the records after it go
 * through both paths.
 */
START_TEST(test_batch_matches_next)
{
	static const size_t batches[] = { 1, 2, 3, 7, 64, 256, 300 };
	bool native = _i % 3 == 1;

	rng_seed(0x5eed + (uint64_t)_i);
	put_header(&input, native);
	builder_bytes(&input, prologue + 36, 9);		/* CONTEXT_SWITCH tid 1 */
	size_t header_end = input.len;
	uint64_t frames = 0;
	for (int i = 0; i < 20000; i++) {
		unsigned kind = (unsigned)(rng() % 100);
		if (kind < 55) {			/* ALLOCATION */
			unsigned slot = (unsigned)(rng() % 16), allocator = (unsigned)(rng() % 8);
			builder_u8(&input, (uint8_t)(0x80 | slot << 3 | allocator));
			if (slot == 15)
				builder_svarint(&input, zigzag_decode(random_varint_value()));
			if (allocator == 0)
				builder_u8(&input, (uint8_t)(1 + rng() % 13));
			if (native)
				builder_svarint(&input, frames > 0 ? (int64_t)(rng() % 3) - 1 : 0);
			builder_varint(&input, random_varint_value());
		} else if (kind < 80) {			/* FRAME_PUSH */
			builder_u8(&input, (uint8_t)(0x40 | (rng() & 1)));
			builder_varint(&input, random_varint_value());
			builder_svarint(&input, zigzag_decode(random_varint_value()));
		} else if (kind < 92) {			/* FRAME_POP */
			builder_u8(&input, (uint8_t)(0x10 | rng() % 16));
		} else if (kind < 95) {			/* CONTEXT_SWITCH */
			builder_u8(&input, 0x0c);
			builder_le(&input, rng(), 8);
		} else if (kind < 97) {			/* THREAD_RECORD */
			builder_u8(&input, 0x0a);
			builder_cstr(&input, "worker");
		} else if (kind < 99 && native) {	/* NATIVE_TRACE_INDEX */
			builder_u8(&input, 0x05);
			builder_svarint(&input, (int64_t)(rng() % 1000));
			builder_svarint(&input, 0);
			frames++;
		} else {				/* MEMORY_RECORD */
			builder_u8(&input, 0x02);
			builder_varint(&input, random_varint_value());
			builder_varint(&input, random_varint_value());
		}
	}
	if (_i % 4 != 3)
		builder_u8(&input, 0x01);		/* TRAILER */
	size_t len = input.len;
	if (_i % 5 == 4)
		len = header_end + (size_t)(rng() % (input.len - header_end));	/* cut short */
	if (_i % 5 == 2) {
		for (int flips = 1 + (int)(rng() % 3); flips > 0; flips--)
			input.data[header_end + rng() % (input.len - header_end)] ^= (uint8_t)(1 + rng() % 255);
	}
	require_batches_match(input.data, len, batches[(size_t)_i % (sizeof batches / sizeof batches[0])],
	    _i % 2 == 0, (enum batch_way)(_i / 2 % 3));
}
END_TEST

/* Every capture of tests/data, in batches of 256 and fed both ways, as one at a time. */
START_TEST(test_batch_matches_next_on_captures)
{
	static const char *const captures[] = {
		"v10-py3.11/threads-default", "v11-py3.11/threads-default", "v12-py3.11/threads-default",
		"v13-py3.11/threads-default", "v13-py3.11/threads-aggregate",
		"v13-py3.11/threads-no-compress", "v13-py3.11/allocators-default",
		"v13-py3.11/callchain-buffered-file-io-no-compress",
	};
	const char *data = getenv("DATA");

	ck_assert_msg(data != NULL, "DATA is not set (run through make check)");
	for (size_t i = 0; i < sizeof captures / sizeof captures[0]; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s/capture.bin", data, captures[i]);
		FILE *f = fopen(path, "rb");
		ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
		builder_clear(&input);
		uint8_t chunk[65536];
		size_t got;
		while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
			builder_bytes(&input, chunk, got);
		fclose(f);
		require_batches_match(input.data, input.len, 256, i % 2 == 0, IN_BATCHES);
		require_batches_match(input.data, input.len, 256, i % 2 == 1, FED);
		require_batches_match(input.data, input.len, 256, i % 2 == 0, FED_DIRECT);
	}
}
END_TEST

/*
 * The header of tests/data's format-11 capture, decompressed, into out:
 * random records of formats 10-11 go after it.
 */
static void
put_v11_header(struct capture_builder *out)
{
	const char *data = getenv("DATA");
	char path[4096];

	ck_assert_msg(data != NULL, "DATA is not set (run through make check)");
	snprintf(path, sizeof path, "%s/v11-py3.11/threads-default/capture.bin", data);
	FILE *f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	struct byte_source *raw = byte_source_open(fileno(f));
	uint8_t chunk[65536];
	size_t got;
	while ((got = byte_source_read(raw, chunk, sizeof chunk)) > 0)
		builder_bytes(out, chunk, got);
	byte_source_close(raw);
	fclose(f);
	open_bytes(out->data, out->len);
	ck_assert(record_decoder_read_header(dec));
	ck_assert_int_eq(record_decoder_header(dec)->version, 11);
	out->len = (size_t)record_decoder_header(dec)->header_size;
}

/* Format 10-11 allocator ids and today's (doc/capture-format.md §2.1). */
static const struct {
	uint8_t v11, today;
} v11_allocators[] = {
	{ 1, ALLOC_MALLOC }, { 2, ALLOC_FREE }, { 3, ALLOC_CALLOC }, { 4, ALLOC_REALLOC },
	{ 5, ALLOC_POSIX_MEMALIGN }, { 6, ALLOC_ALIGNED_ALLOC }, { 7, ALLOC_MEMALIGN },
	{ 8, ALLOC_VALLOC }, { 9, ALLOC_PVALLOC }, { 10, ALLOC_MMAP }, { 11, ALLOC_MUNMAP },
	{ 12, ALLOC_PYMALLOC_MALLOC }, { 13, ALLOC_PYMALLOC_CALLOC }, { 14, ALLOC_PYMALLOC_REALLOC },
	{ 15, ALLOC_PYMALLOC_FREE },
};

enum { V11_RECORDS = 20000, V11_CASES = 30 };

/*
 * Random records of format 11, the hot ones (ALLOCATION, with or without
 * native, FRAME_PUSH, FRAME_POP) among the others, which the fast path
 * leaves: whole, each hot record decodes to what was written, one at a
 * time; whole, damaged or cut short, they decode in batches (or fed) as
 * one at a time.
 */
START_TEST(test_v11_records)
{
	static const size_t batches[] = { 1, 3, 64, 256, 300 };
	static struct record expected[V11_RECORDS];
	bool damaged = _i % 3 != 0;
	uint64_t address = 0, native_id = 0, frame_id = 0, frames = 0;
	bool not_entry[64] = { false };
	size_t n_expected = 0;

	rng_seed(0x11 + (uint64_t)_i);
	put_v11_header(&input);
	size_t header_end = input.len;
	for (int i = 0; i < V11_RECORDS; i++) {
		unsigned kind = (unsigned)(rng() % 100);
		struct record *e = &expected[n_expected];
		memset(e, 0, sizeof *e);
		e->offset = input.len;
		if (kind < 60) {			/* ALLOCATION, with native one time in four */
			unsigned a = 1 + (unsigned)(rng() % 15);
			bool native = rng() % 4 == 0;
			uint8_t today = v11_allocators[a - 1].today;
			bool sized = native || allocator_kind(today) != SIMPLE_DEALLOCATOR;
			int64_t delta = zigzag_decode(random_varint_value());
			uint64_t size = sized ? random_varint_value() : 0;
			int64_t native_delta = native ? (int64_t)(rng() % 3) - 1 : 0;
			if (native && native_id + (uint64_t)native_delta > frames)
				native_delta = 0;
			builder_u8(&input, (uint8_t)(a << 4 | (native ? 2 : 1)));
			builder_svarint(&input, delta);
			if (sized)
				builder_varint(&input, size);
			if (native)
				builder_svarint(&input, native_delta);
			address += (uint64_t)delta;
			native_id += (uint64_t)native_delta;
			e->type = REC_ALLOCATION;
			e->u.alloc.address = address;
			e->u.alloc.size = size;
			e->u.alloc.allocator = today;
			e->u.alloc.native_id = native && !allocator_is_deallocator(allocator_kind(today)) ?
			    native_id : 0;
			n_expected++;
		} else if (kind < 75) {			/* FRAME_PUSH of one of 64 frames */
			int64_t delta = (int64_t)(rng() % 64) - (int64_t)frame_id;
			builder_u8(&input, 0x04);
			builder_svarint(&input, delta);
			frame_id += (uint64_t)delta;
			e->type = REC_FRAME_PUSH;
			e->u.push.code_id = frame_id;
			e->u.push.is_entry = !not_entry[frame_id];
			n_expected++;
		} else if (kind < 85) {			/* FRAME_POP */
			unsigned count = 1 + (unsigned)(rng() % 16);
			builder_u8(&input, (uint8_t)((count - 1) << 4 | 0x09));
			e->type = REC_FRAME_POP;
			e->u.pop.count = count;
			n_expected++;
		} else if (kind < 90) {			/* FRAME_INDEX of one of 64 frames */
			bool entry = rng() % 2 == 0;
			int64_t delta = (int64_t)(rng() % 64) - (int64_t)frame_id;
			builder_u8(&input, entry ? 0x03 : 0x13);
			builder_svarint(&input, delta);
			builder_cstr(&input, "f");
			builder_cstr(&input, "f.py");
			builder_svarint(&input, 1);
			frame_id += (uint64_t)delta;
			not_entry[frame_id] = !entry;
		} else if (kind < 94) {			/* NATIVE_TRACE_INDEX */
			int64_t parent_delta = native_id > 0 ? -1 : 0;
			builder_u8(&input, 0x05);
			builder_svarint(&input, (int64_t)(rng() % 1000));
			builder_svarint(&input, parent_delta);
			native_id += (uint64_t)parent_delta;
			frames++;
		} else if (kind < 97) {			/* CONTEXT_SWITCH */
			builder_u8(&input, 0x0c);
			builder_le(&input, rng(), 8);
		} else {				/* MEMORY_RECORD */
			builder_u8(&input, 0x0b);
			builder_varint(&input, random_varint_value());
			builder_varint(&input, random_varint_value());
		}
	}
	builder_u8(&input, 0x10);			/* TRAILER */
	size_t len = input.len;
	if (!damaged) {
		struct record rec;
		open_bytes(input.data, len);
		ck_assert(record_decoder_read_header(dec));
		for (size_t k = 0; k < n_expected;) {
			enum record_type type = next(&rec);
			require(type != REC_END && type != REC_ERROR);
			if (type == REC_ALLOCATION || type == REC_FRAME_PUSH || type == REC_FRAME_POP)
				require_same_hot_record(&rec, &expected[k++]);
		}
		while (next(&rec) != REC_END)
			require(rec.type != REC_ERROR && rec.type > REC_FRAME_POP);
	} else if (_i % 3 == 1) {
		len = header_end + (size_t)(rng() % (input.len - header_end));	/* cut short */
	} else {
		for (int flips = 1 + (int)(rng() % 3); flips > 0; flips--)
			input.data[header_end + rng() % (input.len - header_end)] ^= (uint8_t)(1 + rng() % 255);
	}
	require_batches_match(input.data, len, batches[(size_t)_i % (sizeof batches / sizeof batches[0])],
	    _i % 2 == 0, (enum batch_way)(_i / 2 % 3));
}
END_TEST

static Suite *
record_decoder_suite(void)
{
	Suite *s = suite_create("record_decoder");
	TCase *tc;

	tc = tcase_create("header");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_header_worked_example);
	tcase_add_test(tc, test_header_native_flag_and_empty_lists);
	tcase_add_test(tc, test_header_wrong_magic);
	tcase_add_test(tc, test_header_unsupported_version);
	tcase_add_test(tc, test_header_cut_short);
	tcase_add_test(tc, test_header_version_12);
	tcase_add_test(tc, test_header_bad_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("worked_example");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_worked_example_plain);
	tcase_add_test(tc, test_worked_example_native);
	tcase_add_test(tc, test_worked_example_lz4_pipe);
	suite_add_tcase(s, tc);

	tc = tcase_create("damaged");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_record_cut_short_everywhere);
	tcase_add_test(tc, test_record_cut_short_malloc);
	tcase_add_test(tc, test_invalid_record_types);
	tcase_add_test(tc, test_invalid_allocator);
	tcase_add_test(tc, test_ranged_allocator_ids);
	tcase_add_test(tc, test_bad_varint);
	tcase_add_loop_test(tc, test_hot_records_mid_stream, 0, HOT_CASES);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_pointer_cache_fifo, 0, 2);
	tcase_add_test(tc, test_object_record_native);
	tcase_add_test(tc, test_misc_records);
	tcase_add_test(tc, test_segments);
	tcase_add_test(tc, test_many_records_across_refills);
	tcase_add_test(tc, test_long_record);
	suite_add_tcase(s, tc);

	tc = tcase_create("batch");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_batch_matches_next, 0, BATCH_CASES);
	tcase_add_loop_test(tc, test_v11_records, 0, V11_CASES);
	tcase_add_test(tc, test_batch_matches_next_on_captures);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(record_decoder_suite());
}
