/* writer: the registry of output formats and the writers' frame table (see writer.h). */
#include "writer.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message.h"
#include "random_seed.h"
#include "xmalloc.h"

static const struct writer_ops *const writers[] = {
	&csv_writer,
	&gprof2dot_writer,
	&speedscope_writer,
	&folded_writer,
	&pprof_writer,
	&stats_writer,
	&summary_writer,
	&timeline_writer,
};

#define N_WRITERS (sizeof writers / sizeof writers[0])

const struct writer_ops *
writer_find(const char *name)
{
	for (size_t i = 0; i < N_WRITERS; i++) {
		if (strcasecmp(writers[i]->name, name) == 0)
			return writers[i];
	}
	return NULL;
}

const char *
writer_names(const char *separator)
{
	static char names[256];
	size_t used = 0;

	names[0] = '\0';
	for (size_t i = 0; i < N_WRITERS; i++) {
		int n = snprintf(names + used, sizeof names - used, "%s%s", i > 0 ? separator : "",
		    writers[i]->name);
		if (n < 0 || (size_t)n >= sizeof names - used)
			fatal("internal error: the format names do not fit in %zu bytes", sizeof names);
		used += (size_t)n;
	}
	return names;
}

/* memray's format_thread_name: Python's hex() of the tid read as a signed 64-bit integer. */
void
writer_thread_label(char *buf, size_t size, uint64_t tid, const char *name)
{
	int64_t signed_tid = (int64_t)tid;
	uint64_t magnitude = signed_tid < 0 ? (uint64_t)0 - tid : tid;

	if (size == 0)
		return;
	if (signed_tid == -1) {
		snprintf(buf, size, "merged thread");
		return;
	}
	int n = snprintf(buf, size, "%s0x%" PRIx64, signed_tid < 0 ? "-" : "", magnitude);
	if (name != NULL && *name != '\0' && n > 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, " (%s)", name);
}

/*
 * The writers' tables are keyed by this hash of frame names, stack arrays
 * and lines, which the capture chooses.  A plain mixing hash has
 * collisions that hold for every seed (flip the top bit of one 8-byte
 * block and one bit of the next), so a capture could name a hundred
 * thousand functions with one hash and make interning quadratic.
 * SipHash-2-4 (libsodium) with a key drawn once per run has no such
 * collisions to find.  h, the hash so far, goes into the key.
 */
uint64_t
writer_hash_bytes(uint64_t h, const void *data, size_t len)
{
	static uint64_t secret[2];
	uint64_t key[2], out;

	if (secret[0] == 0) {
		secret[0] = random_seed();
		secret[1] = random_seed();
	}
	key[0] = secret[0] ^ h;
	key[1] = secret[1];
	_Static_assert(sizeof key == crypto_shorthash_siphash24_KEYBYTES, "a SipHash key");
	_Static_assert(sizeof out == crypto_shorthash_siphash24_BYTES, "a SipHash value");
	crypto_shorthash_siphash24((unsigned char *)&out, data, len, (const unsigned char *)key);
	return out;
}

void
frame_table_init(struct frame_table *t, bool with_line)
{
	memset(t, 0, sizeof *t);
	u64map_init(&t->index);
	t->with_line = with_line;
}

void
frame_table_free(struct frame_table *t)
{
	for (size_t i = 0; i < t->count; i++) {
		free((char *)t->frames[i].function);
		free((char *)t->frames[i].file);
	}
	free(t->frames);
	u64map_free(&t->index);
}

static uint64_t
frame_hash(const struct frame_table *t, const struct frame_text *f)
{
	uint64_t h = writer_hash_bytes(0, f->function, strlen(f->function));

	h = writer_hash_bytes(h, f->file, strlen(f->file));
	if (t->with_line)
		h = u64map_hash(h ^ (uint32_t)f->line);
	return h;
}

static bool
frame_equal(const struct frame_table *t, const struct frame_text *a, const struct frame_text *b)
{
	return (!t->with_line || a->line == b->line) && strcmp(a->function, b->function) == 0 &&
	    strcmp(a->file, b->file) == 0;
}

/* What frame_table_intern looks for. */
struct frame_sought {
	const struct frame_table *table;
	const struct frame_text *frame;
};

static bool
is_frame_sought(const void *ctx, uint32_t index)
{
	const struct frame_sought *sought = ctx;

	return frame_equal(sought->table, &sought->table->frames[index], sought->frame);
}

uint32_t
frame_table_intern(struct frame_table *t, const struct frame_text *f)
{
	const struct frame_sought sought = { t, f };
	uint64_t key;
	uint32_t index;

	if (u64map_find_interned(&t->index, frame_hash(t, f), is_frame_sought, &sought, &index, &key))
		return index;
	if (t->count == UINT32_MAX)
		fatal("too many distinct frames for one report");
	t->frames = xgrowarray(t->frames, &t->cap, t->count + 1, sizeof *t->frames, 64);
	index = (uint32_t)t->count++;
	t->frames[index] = (struct frame_text){
		.function = xstrdup(f->function),
		.file = xstrdup(f->file),
		.line = f->line,
	};
	u64map_set(&t->index, key, index);
	return index;
}
