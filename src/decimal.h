/*
 * decimal: integers as decimal text, written backwards into the end of a
 * caller's buffer (no NUL), for the writers' numbers: snprintf took 700
 * instructions a call, two fifths of a run writing 660,000 frames' lines.
 */
#ifndef MT_DECIMAL_H
#define MT_DECIMAL_H

#include <stdint.h>

/* Room for any value: a sign and 20 digits. */
#define DECIMAL_MAX 21

/* The digits of v, ending at end; returns the first. */
static inline char *
decimal_u64(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return end;
}

/* v with its sign ("-12"), ending at end; returns the first character. */
static inline char *
decimal_i64(char *end, int64_t v)
{
	char *p = decimal_u64(end, v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v);

	if (v < 0)
		*--p = '-';
	return p;
}

#endif
