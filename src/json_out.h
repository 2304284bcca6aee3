/*
 * json_out: streaming JSON output for the JSON writers, over yajl.
 *
 * Tokens go to a FILE through yajl's print callback as they are generated,
 * gathered in one fixed block: the document is never held in memory.
 * Every string comes out as valid JSON whatever its bytes: ill-formed
 * UTF-8 is repaired by utf8_repair (utf8.h), and yajl escapes quotes,
 * backslashes and control characters.  Output is compact (no spaces);
 * JSON readers don't care, and the reference outputs are compared
 * semantically.
 *
 * A misuse of the generator (a key outside a map, unbalanced close) is a
 * bug and aborts.  Write errors are left in the FILE for the caller's
 * ferror() check.
 */
#ifndef MT_JSON_OUT_H
#define MT_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct json_out;

struct json_out *json_out_new(FILE *out);
/* Hand what is left to the FILE and free the generator. */
void json_out_free(struct json_out *j);

void json_map_open(struct json_out *j);
void json_map_close(struct json_out *j);
void json_array_open(struct json_out *j);
void json_array_close(struct json_out *j);

/* A map key: a string (NUL-terminated). */
void json_key(struct json_out *j, const char *key);
/* A string value; NULL is written as "". */
void json_string(struct json_out *j, const char *s);
void json_string_len(struct json_out *j, const char *s, size_t len);

void json_bool(struct json_out *j, bool v);
void json_u64(struct json_out *j, uint64_t v);
void json_i64(struct json_out *j, int64_t v);

/*
 * An unsigned 128-bit counter, for sums of 64-bit sizes that memray (in
 * Python integers) never wraps.
 */
struct json_u128 {
	uint64_t hi, lo;
};

static inline void
json_u128_add(struct json_u128 *a, uint64_t v)
{
	a->lo += v;
	a->hi += a->lo < v;
}

static inline bool
json_u128_is_zero(struct json_u128 a)
{
	return a.hi == 0 && a.lo == 0;
}

void json_u128(struct json_out *j, struct json_u128 v);

#endif
