/* json_out: streaming JSON output over yajl (see json_out.h). */
#include "json_out.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "decimal.h"
#include "message.h"
#include "utf8.h"
#include "xmalloc.h"

/*
 * yajl prints every token and separator through its own callback call, a few
 * bytes each; an fwrite per call was 15% of a speedscope run, so the bytes
 * are gathered here and handed to the FILE a block at a time.
 */
#define BLOCK_SIZE 16384

struct json_out {
	yajl_gen gen;
	FILE *out;
	struct utf8_buffer repaired;	/* a string with its bad UTF-8 replaced */
	size_t block_len;
	char block[BLOCK_SIZE];
};

static void
flush_block(struct json_out *j)
{
	if (j->block_len > 0)
		fwrite(j->block, 1, j->block_len, j->out);
	j->block_len = 0;
}

static void
print_to_file(void *ctx, const char *text, size_t len)
{
	struct json_out *j = ctx;

	if (len > BLOCK_SIZE - j->block_len) {
		flush_block(j);
		if (len >= BLOCK_SIZE) {
			fwrite(text, 1, len, j->out);
			return;
		}
	}
	memcpy(j->block + j->block_len, text, len);
	j->block_len += len;
}

struct json_out *
json_out_new(FILE *out)
{
	struct json_out *j = xcalloc(1, sizeof *j);

	j->out = out;
	j->gen = yajl_gen_alloc(NULL);
	if (j->gen == NULL)
		fatal("out of memory (JSON generator)");
	/* Not yajl_gen_validate_utf8: we repair strings instead of failing. */
	yajl_gen_config(j->gen, yajl_gen_print_callback, print_to_file, j);
	return j;
}

void
json_out_free(struct json_out *j)
{
	if (j == NULL)
		return;
	flush_block(j);
	yajl_gen_free(j->gen);
	utf8_buffer_free(&j->repaired);
	free(j);
}

static void
check(yajl_gen_status status, const char *what)
{
	if (status != yajl_gen_status_ok) {
		fprintf(stderr, "%s: internal error: JSON generator refused %s (status %d)\n",
		    PROGRAM_NAME, what, (int)status);
		abort();
	}
}

void
json_map_open(struct json_out *j)
{
	check(yajl_gen_map_open(j->gen), "a map open");
}

void
json_map_close(struct json_out *j)
{
	check(yajl_gen_map_close(j->gen), "a map close");
}

void
json_array_open(struct json_out *j)
{
	check(yajl_gen_array_open(j->gen), "an array open");
}

void
json_array_close(struct json_out *j)
{
	check(yajl_gen_array_close(j->gen), "an array close");
}

void
json_string_len(struct json_out *j, const char *s, size_t len)
{
	if (s == NULL) {
		s = "";
		len = 0;
	}
	s = utf8_repair(&j->repaired, s, &len);
	check(yajl_gen_string(j->gen, (const unsigned char *)s, len), "a string");
}

void
json_string(struct json_out *j, const char *s)
{
	json_string_len(j, s, s ? strlen(s) : 0);
}

void
json_key(struct json_out *j, const char *key)
{
	json_string(j, key);
}

void
json_bool(struct json_out *j, bool v)
{
	check(yajl_gen_bool(j->gen, v), "a boolean");
}

void
json_u64(struct json_out *j, uint64_t v)
{
	char buf[DECIMAL_MAX];
	char *p = decimal_u64(buf + sizeof buf, v);

	/* yajl_gen_integer takes a long long: a decimal string holds any u64. */
	check(yajl_gen_number(j->gen, p, (size_t)(buf + sizeof buf - p)), "a number");
}

void
json_i64(struct json_out *j, int64_t v)
{
	char buf[DECIMAL_MAX];
	char *p = decimal_i64(buf + sizeof buf, v);

	check(yajl_gen_number(j->gen, p, (size_t)(buf + sizeof buf - p)), "a number");
}

void
json_u128(struct json_out *j, struct json_u128 v)
{
	/* Four 32-bit limbs, most significant first, divided by 10^9 at a time. */
	uint32_t limb[4] = {
		(uint32_t)(v.hi >> 32), (uint32_t)v.hi, (uint32_t)(v.lo >> 32), (uint32_t)v.lo,
	};
	char buf[48];
	char *end = buf + sizeof buf, *p = end;

	if (v.hi == 0) {
		json_u64(j, v.lo);
		return;
	}
	while (limb[0] | limb[1] | limb[2] | limb[3]) {
		uint64_t rem = 0;
		for (int i = 0; i < 4; i++) {
			uint64_t cur = rem << 32 | limb[i];
			limb[i] = (uint32_t)(cur / 1000000000u);
			rem = cur % 1000000000u;
		}
		/* Nine digits per chunk, zero-padded except the leading chunk. */
		bool more = limb[0] | limb[1] | limb[2] | limb[3];
		for (int d = 0; d < 9 && (more || rem != 0); d++) {
			*--p = (char)('0' + rem % 10);
			rem /= 10;
		}
	}
	check(yajl_gen_number(j->gen, p, (size_t)(end - p)), "a number");
}
