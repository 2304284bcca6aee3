/*
 * gen_large: write a raw format-13 capture of about BYTES bytes to stdout,
 * for tests/large.test (inputs over 4 GiB, generated, never stored).
 *
 *   gen_large BYTES [NAME_BYTES]
 *
 * The stream: a header (Python 3.11, no native traces), CONTEXT_SWITCH to
 * the main thread, one CODE_OBJECT and one FRAME_PUSH; then one MALLOC
 * (16 bytes at 0x1000) that fills pointer-cache slot 0, and repeated
 * units of one MALLOC of 16 bytes from slot 0 and FREE_PER_UNIT FREEs of
 * slot 0 (the first frees the block, the others free nothing), 16 bytes
 * and 15 records a unit; then a MALLOC of LEAK_SIZE bytes at 0x2000 that
 * is never freed, and one byte that is no record type (3), so that the
 * stream ends damaged at an offset past 4 GiB.  So 5 GiB holds more than
 * 2^32 records, and the temporary report counts more than 2^32
 * allocations: memray matches every FREE of an address among the thread's
 * recent allocations, freed or not (doc/capture-format.md §8.4).
 *
 * With NAME_BYTES, the function is not "big" but that many 'b's, to make
 * a report as large as wanted (tests/output.test: a closed pipe).
 *
 * What the reports must say goes to stderr, one "key value" a line:
 * temporary_allocations, temporary_size, leak_size, error_offset.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_builder.h"

#define UNIT_SIZE 16
#define FREE_PER_UNIT 14
#define LEAK_SIZE 4242
#define BLOCK_UNITS 65536	/* units per write() */

static void
write_all(const uint8_t *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDOUT_FILENO, data, len);
		if (n <= 0) {
			perror("gen_large: write");
			exit(1);
		}
		data += n;
		len -= (size_t)n;
	}
}

int
main(int argc, char **argv)
{
	if (argc != 2 && argc != 3) {
		fputs("usage: gen_large BYTES [NAME_BYTES]\n", stderr);
		return 2;
	}
	uint64_t target = strtoull(argv[1], NULL, 10);
	size_t name_bytes = argc == 3 ? strtoul(argv[2], NULL, 10) : 0;
	char *name = name_bytes > 0 ? malloc(name_bytes + 1) : "big";
	if (name == NULL) {
		perror("gen_large");
		return 1;
	}
	if (name_bytes > 0) {
		memset(name, 'b', name_bytes);
		name[name_bytes] = '\0';
	}

	struct capture_builder b = { 0 };
	/* Header (doc/capture-format.md §2). */
	builder_header(&b, &(struct capture_header_fields){
		.version = 13,
		.python_version = 0x030B02F0,	/* Python 3.11.2 */
		.start_time = UINT64_C(1700000000000),
		.end_time = UINT64_C(1700000000001),
		.command_line = "python3 big.py",
		.pid = 4242,
		.main_tid = 1,
		.python_allocator = 1,		/* pymalloc */
		.libdest = "/usr/lib/python3.11",
	});
	/* The records before the units (§3.3). */
	builder_u8(&b, 0x0c);		/* CONTEXT_SWITCH to tid 1 */
	builder_le(&b, 1, 8);
	builder_u8(&b, 0x0e);		/* CODE_OBJECT 1: big at big.py:7 */
	builder_varint(&b, 1);
	builder_cstr(&b, name);
	builder_cstr(&b, "big.py");
	builder_svarint(&b, 7);		/* the first line */
	builder_varint(&b, 0);		/* empty line table */
	builder_u8(&b, 0x41);		/* FRAME_PUSH, entry frame, code 1 */
	builder_varint(&b, 1);
	builder_varint(&b, 0);		/* instruction offset 0 */
	builder_u8(&b, 0x80 | 15 << 3 | 6);	/* MALLOC, cache miss: 0x1000 = 0x200 << 3 */
	builder_varint(&b, 0x200 << 1);
	builder_varint(&b, UNIT_SIZE);
	for (int i = 0; i < FREE_PER_UNIT; i++)
		builder_u8(&b, 0x80 | 0 << 3 | 5);	/* FREE, cache slot 0 */

	/* The units: MALLOC slot 0, size 16; FREE slot 0, FREE_PER_UNIT times. */
	static uint8_t block[BLOCK_UNITS * UNIT_SIZE];
	for (size_t u = 0; u < BLOCK_UNITS; u++) {
		uint8_t *p = block + u * UNIT_SIZE;
		p[0] = 0x80 | 0 << 3 | 6;
		p[1] = UNIT_SIZE;
		memset(p + 2, 0x80 | 0 << 3 | 5, FREE_PER_UNIT);
	}
	write_all(b.data, b.len);
	uint64_t written = b.len, units = 0;
	while (written + sizeof block <= target) {
		write_all(block, sizeof block);
		written += sizeof block;
		units += BLOCK_UNITS;
	}
	while (written + UNIT_SIZE <= target) {
		write_all(block, UNIT_SIZE);
		written += UNIT_SIZE;
		units++;
	}

	/* The leak, then the damage. */
	builder_clear(&b);
	builder_u8(&b, 0x80 | 15 << 3 | 6);	/* MALLOC, cache miss: 0x2000 */
	builder_varint(&b, 0x200 << 1);	/* delta of address >> 3: 0x200 -> 0x400 */
	builder_varint(&b, LEAK_SIZE);
	uint64_t error_offset = written + b.len;
	builder_u8(&b, 3);		/* not a record type */
	write_all(b.data, b.len);
	builder_free(&b);
	if (name_bytes > 0)
		free(name);

	uint64_t temporary = (units + 1) * FREE_PER_UNIT;
	fprintf(stderr, "temporary_allocations %llu\n", (unsigned long long)temporary);
	fprintf(stderr, "temporary_size %llu\n", (unsigned long long)(temporary * UNIT_SIZE));
	fprintf(stderr, "leak_size %d\n", LEAK_SIZE);
	fprintf(stderr, "error_offset %llu\n", (unsigned long long)error_offset);
	return 0;
}
