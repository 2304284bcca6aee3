/* writer: the registry of output formats and the writers' frame table (see writer.h). */
#include "writer.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "message.h"
#include "xmalloc.h"

static const struct writer_ops *const writers[] = {
	&csv_writer,
	&gprof2dot_writer,
	&speedscope_writer,
	&folded_writer,
	&pprof_writer,
};

const struct writer_ops *
writer_find(const char *name)
{
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
		if (strcasecmp(writers[i]->name, name) == 0)
			return writers[i];
	}
	return NULL;
}

const char *
writer_names(void)
{
	return "csv, gprof2dot, speedscope, folded, pprof";
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

uint64_t
writer_hash_bytes(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint64_t w;

	/*
	 * Eight bytes at a time, one multiply and rotate each, then one full
	 * mix; the tail's length goes in with it, so "ab"+"c" != "a"+"bc".
	 */
	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
		h = h << 31 | h >> 33;
	}
	w = (uint64_t)len << 56;
	for (size_t i = 0; i < len; i++)
		w |= (uint64_t)p[i] << (8 * i);
	return u64map_hash(h ^ w);
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

uint32_t
frame_table_intern(struct frame_table *t, const struct frame_text *f)
{
	uint64_t key = frame_hash(t, f);
	uint32_t index;

	/*
	 * The map is keyed by hash: when two keys collide the later one takes
	 * the next free hash value.  Nothing is ever removed, so a lookup may
	 * stop at the first free one.
	 */
	while (u64map_get(&t->index, key, &index)) {
		if (frame_equal(t, &t->frames[index], f))
			return index;
		key++;
	}
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
