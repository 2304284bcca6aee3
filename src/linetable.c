/* linetable: instruction offset to source line, per CPython version (see linetable.h). */
#include "linetable.h"

#include <stdbool.h>

#define PY_3_10 0x030A0000
#define PY_3_11 0x030B0000

/*
 * line + delta, wrapping around as 32-bit arithmetic does: a crafted
 * table can take a line past INT32_MAX (CPython keeps lines in a C int),
 * and a signed overflow would be undefined.
 */
static int32_t
add_line_delta(int32_t line, int64_t delta)
{
	return (int32_t)((uint32_t)line + (uint32_t)(uint64_t)delta);
}

/*
 * 3.9 and older: co_lnotab pairs (bytecode delta, signed line delta) over
 * byte offsets.  Stock memray adds the bytecode delta as a signed char on
 * x86-64 and stops early after a delta >= 128; CPython, and we, read it
 * unsigned (F3).  A table of odd length ends with a line delta of 0.
 */
static int32_t
line_lnotab(const uint8_t *t, size_t len, int32_t line, uint64_t offset)
{
	uint64_t bc = 0;

	for (size_t i = 0; i < len;) {
		bc += t[i++];
		if (bc > offset)
			break;
		line = add_line_delta(line, i < len ? (int8_t)t[i] : 0);
		i++;
	}
	return line;
}

/*
 * 3.10: co_linetable pairs (start delta, signed line delta) over byte
 * offsets, where the frame's offset counts code units.  A line delta of
 * -128 means "no line" and keeps the previous one, as memray does.
 */
static int32_t
line_310(const uint8_t *t, size_t len, int32_t line, uint64_t offset)
{
	uint64_t target = offset * 2, cur = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		cur += t[i];
		if ((int8_t)t[i + 1] != -128)
			line = add_line_delta(line, (int8_t)t[i + 1]);
		if (cur > target)
			break;
	}
	return line;
}

/* The location table's varint: 6-bit groups, least significant first, 0x40 = more. */
static uint64_t
loc_varint(const uint8_t *t, size_t len, size_t *i)
{
	uint64_t v = 0;
	unsigned shift = 0;

	while (*i < len) {
		uint8_t b = t[(*i)++];
		if (shift < 64)
			v |= (uint64_t)(b & 0x3f) << shift;
		shift += 6;
		if (!(b & 0x40))
			break;
	}
	return v;
}

static int64_t
loc_svarint(const uint8_t *t, size_t len, size_t *i)
{
	uint64_t u = loc_varint(t, len, i);

	return (u & 1) ? -(int64_t)(u >> 1) : (int64_t)(u >> 1);
}

/*
 * 3.11 and later: the location table over code units; the offset is in
 * bytes.  An offset outside every entry has no line (0).
 */
static int32_t
line_311(const uint8_t *t, size_t len, int32_t firstlineno, uint64_t offset)
{
	uint64_t q = offset / 2, addr = 0;
	int32_t line = firstlineno;
	size_t i = 0;

	while (i < len && t[i] != 0) {
		uint8_t b = t[i++];
		unsigned code = (b >> 3) & 15;
		uint64_t end = addr + (b & 7) + 1;

		if (code == 14) {		/* long form */
			line = add_line_delta(line, loc_svarint(t, len, &i));
			loc_varint(t, len, &i);	/* end line */
			loc_varint(t, len, &i);	/* column + 1 */
			loc_varint(t, len, &i);	/* end column + 1 */
		} else if (code == 13) {	/* no columns */
			line = add_line_delta(line, loc_svarint(t, len, &i));
		} else if (code >= 10 && code <= 12) {	/* one line, line delta 0-2 */
			line = add_line_delta(line, code - 10);
			i += 2;
		} else if (code < 10) {		/* short form: same line */
			i += 1;
		}				/* 15: no location, line unchanged */
		if (addr <= q && q < end)
			return line;
		addr = end;
	}
	return 0;
}

int32_t
linetable_line(int32_t python_version, const uint8_t *table, size_t len,
    int32_t firstlineno, int64_t instruction_offset)
{
	if (instruction_offset < 0)
		return 0;
	if (len == 0)
		return firstlineno;	/* F4 */
	uint64_t offset = (uint64_t)instruction_offset;
	if (python_version < PY_3_10)
		return line_lnotab(table, len, firstlineno, offset);
	if (python_version < PY_3_11)
		return line_310(table, len, firstlineno, offset);
	return line_311(table, len, firstlineno, offset);
}
