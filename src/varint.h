/*
 * varint: the integer encodings of memray capture files.
 *
 * memray writes unsigned LEB128 varints (7 bits a byte, least significant
 * group first) and zigzag-encoded signed varints; see doc/capture-format.md
 * §1.4.  Like memray's RecordReader::readVarint, a varint is at most ten
 * bytes: a tenth byte that still has its continuation bit set is invalid,
 * and bits past 64 in the tenth byte are dropped.
 *
 * The decoders work on a bounded buffer so that the record decoder can tell
 * "the input ends inside this number" (read more and retry) from "this is
 * not a number" (the capture is damaged).
 */
#ifndef MT_VARINT_H
#define MT_VARINT_H

#include <stdint.h>

enum varint_status {
	VARINT_OK = 1,
	VARINT_SHORT = 0,	/* the buffer ends inside the number */
	VARINT_BAD = -1		/* more than ten bytes */
};

static inline enum varint_status
varint_read(const uint8_t **pos, const uint8_t *end, uint64_t *value)
{
	const uint8_t *p = *pos;
	uint64_t v = 0;
	unsigned shift = 0;

	for (;;) {
		if (p == end)
			return VARINT_SHORT;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			break;
		shift += 7;
		if (shift >= 64)
			return VARINT_BAD;
	}
	*pos = p;
	*value = v;
	return VARINT_OK;
}

static inline int64_t
zigzag_decode(uint64_t z)
{
	return (int64_t)((z >> 1) ^ (~(z & 1) + 1));
}

static inline uint64_t
zigzag_encode(int64_t n)
{
	return ((uint64_t)n << 1) ^ (uint64_t)(n >> 63);
}

static inline enum varint_status
svarint_read(const uint8_t **pos, const uint8_t *end, int64_t *value)
{
	uint64_t z;
	enum varint_status st = varint_read(pos, end, &z);

	if (st == VARINT_OK)
		*value = zigzag_decode(z);
	return st;
}

/* Write v as a varint into out (at least 10 bytes); returns the length. */
static inline unsigned
varint_write(uint8_t *out, uint64_t v)
{
	unsigned n = 0;

	while (v >= 0x80) {
		out[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	out[n++] = (uint8_t)v;
	return n;
}

#endif
