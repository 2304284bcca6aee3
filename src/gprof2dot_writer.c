/*
 * gprof2dot_writer: memray's gprof2dot JSON (doc/capture-format.md §9.3).
 *
 *   {"version": 0, "costs": [{"description": "Memory", "unit": "bytes"}],
 *    "events": [{"callchain": [i, ...], "cost": [size]}, ...],
 *    "functions": [{"name": function, "module": file}, ...]}
 *
 * One event per row, streamed as the row arrives; only the function table
 * is kept, and written at the end.
 */
#include <stdlib.h>

#include "json_out.h"
#include "writer.h"
#include "xmalloc.h"

struct gprof2dot_state {
	struct json_out *json;
	struct frame_table functions;	/* keyed by (function, file) */
};

static void *
gprof2dot_begin(const struct writer_config *config)
{
	struct gprof2dot_state *s = xcalloc(1, sizeof *s);

	s->json = json_out_new(config->out);
	frame_table_init(&s->functions, false);
	json_map_open(s->json);
	json_key(s->json, "version");
	json_u64(s->json, 0);
	json_key(s->json, "costs");
	json_array_open(s->json);
	json_map_open(s->json);
	json_key(s->json, "description");
	json_string(s->json, "Memory");
	json_key(s->json, "unit");
	json_string(s->json, "bytes");
	json_map_close(s->json);
	json_array_close(s->json);
	json_key(s->json, "events");
	json_array_open(s->json);
	return s;
}

static void
gprof2dot_row(void *state, const struct output_row *row)
{
	struct gprof2dot_state *s = state;

	/* A row with an empty stack is no event, and numbers no function. */
	if (row->n_frames == 0)
		return;
	json_map_open(s->json);
	json_key(s->json, "callchain");
	json_array_open(s->json);
	/* The line is not part of the key: one function, one node. */
	for (size_t i = 0; i < row->n_frames; i++)
		json_u64(s->json, frame_table_intern(&s->functions, &row->frames[i]));
	json_array_close(s->json);
	json_key(s->json, "cost");
	json_array_open(s->json);
	json_u64(s->json, row->size);	/* n_allocations is not used */
	json_array_close(s->json);
	json_map_close(s->json);
}

static void
gprof2dot_end(void *state)
{
	struct gprof2dot_state *s = state;

	json_array_close(s->json);
	json_key(s->json, "functions");
	json_array_open(s->json);
	for (size_t i = 0; i < s->functions.count; i++) {
		json_map_open(s->json);
		json_key(s->json, "name");
		json_string(s->json, s->functions.frames[i].function);
		json_key(s->json, "module");
		json_string(s->json, s->functions.frames[i].file);
		json_map_close(s->json);
	}
	json_array_close(s->json);
	json_map_close(s->json);
	json_out_free(s->json);
	frame_table_free(&s->functions);
	free(s);
}

const struct writer_ops gprof2dot_writer = {
	.name = "gprof2dot",
	.begin = gprof2dot_begin,
	.row = gprof2dot_row,
	.end = gprof2dot_end,
};
