/*
 * speedscope_writer: memray's speedscope JSON (doc/capture-format.md §9.4).
 *
 *   {"$schema": "https://www.speedscope.app/file-format-schema.json",
 *    "shared": {"frames": [{"name": f, "file": file, "line": n}, ...]},
 *    "profiles": [<"Memory" in bytes>, <"Allocations" in counts>],
 *    "name": <capture command line>, "activeProfileIndex": 0,
 *    "exporter": "memray-transform@VERSION"}
 *
 * The frames come first in the document but are known only after the last
 * row, so the rows are merged into samples (one per distinct stack, so at
 * most one per row) and everything is written at the end.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "json_out.h"
#include "message.h"
#include "writer.h"
#include "xmalloc.h"

#define SCHEMA_URL "https://www.speedscope.app/file-format-schema.json"

/* Rows with the same stack, merged. */
struct sample {
	size_t offset;			/* of its frame numbers in stacks */
	size_t depth;
	struct json_u128 size;		/* summed row sizes */
	struct json_u128 n_allocations;	/* summed row counts */
};

struct speedscope_state {
	FILE *out;
	char *name;			/* the capture's command line */
	struct frame_table frames;	/* keyed by (function, file, line) */
	struct u64map sample_index;	/* hash of a stack -> index into samples */
	struct sample *samples;
	size_t n_samples, samples_cap;
	uint32_t *stacks;		/* every sample's frame numbers, root first */
	size_t stacks_len, stacks_cap;
};

static void *
speedscope_begin(const struct writer_config *config)
{
	struct speedscope_state *s = xcalloc(1, sizeof *s);
	const char *name = config->command_line;

	s->out = config->out;
	s->name = xstrdup(name ? name : "");
	frame_table_init(&s->frames, true);
	u64map_init(&s->sample_index);
	return s;
}

static bool
same_stack(const struct speedscope_state *s, const struct sample *a, size_t offset, size_t depth)
{
	return a->depth == depth &&
	    memcmp(s->stacks + a->offset, s->stacks + offset, depth * sizeof *s->stacks) == 0;
}

/* What speedscope_row looks for: the stack just written at offset. */
struct stack_sought {
	const struct speedscope_state *state;
	size_t offset, depth;
};

static bool
is_stack_sought(const void *ctx, uint32_t index)
{
	const struct stack_sought *sought = ctx;

	return same_stack(sought->state, &sought->state->samples[index], sought->offset,
	    sought->depth);
}

static void
speedscope_row(void *state, const struct output_row *row)
{
	struct speedscope_state *s = state;
	size_t depth = row->n_frames, offset = s->stacks_len;
	uint32_t index;

	if (depth == 0)
		return;		/* memray skips rows with an empty stack */
	s->stacks = xgrowarray(s->stacks, &s->stacks_cap, s->stacks_len + depth,
	    sizeof *s->stacks, 1024);
	/*
	 * Root first: the row's frames are most recent first.  Frames are
	 * numbered in that order, and even if the sample later gets weight 0.
	 */
	for (size_t i = 0; i < depth; i++)
		s->stacks[offset + i] = frame_table_intern(&s->frames, &row->frames[depth - 1 - i]);

	const struct stack_sought sought = { s, offset, depth };
	uint64_t key;
	if (!u64map_find_interned(&s->sample_index,
	    writer_hash_bytes(0, s->stacks + offset, depth * sizeof *s->stacks), is_stack_sought,
	    &sought, &index, &key)) {
		if (s->n_samples == UINT32_MAX)
			fatal("too many distinct stacks for one report");
		s->samples = xgrowarray(s->samples, &s->samples_cap, s->n_samples + 1,
		    sizeof *s->samples, 64);
		index = (uint32_t)s->n_samples++;
		s->samples[index] = (struct sample){ .offset = offset, .depth = depth };
		s->stacks_len += depth;	/* keep the frame numbers just written */
		u64map_set(&s->sample_index, key, index);
	}
	json_u128_add(&s->samples[index].size, row->size);
	json_u128_add(&s->samples[index].n_allocations, row->n_allocations);
}

static struct json_u128
sample_weight(const struct sample *sample, bool by_size)
{
	return by_size ? sample->size : sample->n_allocations;
}

/*
 * One profile.  A sample of weight 0 is left out of this profile only (memray
 * drops weights <= 0; ours cannot be negative).
 */
static void
write_profile(struct json_out *j, const struct speedscope_state *s, const char *name,
    const char *unit, bool by_size)
{
	struct json_u128 total = { 0, 0 };

	for (size_t i = 0; i < s->n_samples; i++) {
		struct json_u128 w = sample_weight(&s->samples[i], by_size);
		json_u128_add(&total, w.lo);
		total.hi += w.hi;
	}
	json_map_open(j);
	json_key(j, "type");
	json_string(j, "sampled");
	json_key(j, "name");
	json_string(j, name);
	json_key(j, "unit");
	json_string(j, unit);
	json_key(j, "startValue");
	json_u64(j, 0);
	json_key(j, "endValue");
	json_u128(j, total);
	json_key(j, "samples");
	json_array_open(j);
	for (size_t i = 0; i < s->n_samples; i++) {
		const struct sample *sample = &s->samples[i];
		if (json_u128_is_zero(sample_weight(sample, by_size)))
			continue;
		json_array_open(j);
		for (size_t k = 0; k < sample->depth; k++)
			json_u64(j, s->stacks[sample->offset + k]);
		json_array_close(j);
	}
	json_array_close(j);
	json_key(j, "weights");
	json_array_open(j);
	for (size_t i = 0; i < s->n_samples; i++) {
		struct json_u128 w = sample_weight(&s->samples[i], by_size);
		if (!json_u128_is_zero(w))
			json_u128(j, w);
	}
	json_array_close(j);
	json_map_close(j);
}

static void
speedscope_end(void *state)
{
	struct speedscope_state *s = state;
	struct json_out *j = json_out_new(s->out);

	json_map_open(j);
	json_key(j, "$schema");
	json_string(j, SCHEMA_URL);
	json_key(j, "shared");
	json_map_open(j);
	json_key(j, "frames");
	json_array_open(j);
	for (size_t i = 0; i < s->frames.count; i++) {
		const struct frame_text *f = &s->frames.frames[i];
		json_map_open(j);
		json_key(j, "name");
		json_string(j, f->function);
		/* memray leaves out an empty file and a line that is not positive. */
		if (f->file[0] != '\0') {
			json_key(j, "file");
			json_string(j, f->file);
		}
		if (f->line > 0) {
			json_key(j, "line");
			json_i64(j, f->line);
		}
		json_map_close(j);
	}
	json_array_close(j);
	json_map_close(j);
	json_key(j, "profiles");
	json_array_open(j);
	write_profile(j, s, "Memory", "bytes", true);
	write_profile(j, s, "Allocations", "none", false);
	json_array_close(j);
	json_key(j, "name");
	json_string(j, s->name);
	json_key(j, "activeProfileIndex");
	json_u64(j, 0);
	json_key(j, "exporter");
	json_string(j, "memray-transform@" PACKAGE_VERSION);
	json_map_close(j);
	json_out_free(j);

	frame_table_free(&s->frames);
	u64map_free(&s->sample_index);
	free(s->samples);
	free(s->stacks);
	free(s->name);
	free(s);
}

const struct writer_ops speedscope_writer = {
	.name = "speedscope",
	.begin = speedscope_begin,
	.row = speedscope_row,
	.end = speedscope_end,
};
