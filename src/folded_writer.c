/*
 * folded_writer: folded stacks, the input of flamegraph.pl and inferno
 * (-f folded; not a memray format).
 *
 *   main (app.py:40);alloc (app.py:12) 8192
 *
 * One line per distinct stack: frames root to leaf, each rendered
 * `function (file:line)`, joined by ';', then a space and the stack's
 * weight, the summed bytes (--count bytes, the default) or the summed
 * allocation counts (--count allocations) of its rows.  Rows whose
 * rendered stacks are identical are merged, and lines come out in order of
 * first appearance.  The lines are therefore kept until end(): memory is
 * bounded by the report's rows.
 *
 * Rules a reader of the output relies on:
 *  - a row with an empty stack is the single frame "[unknown]";
 *  - with --split-threads the root frame is the row's thread, rendered
 *    "thread " + the CSV's thread_name column, e.g. "thread 0x2 (worker)",
 *    so that the per-thread rows are not merged back together;
 *  - ';' inside a name would split the frame, and CR or LF the line, so
 *    they are written as ':' and ' ' (as the stackcollapse scripts do);
 *  - names that are not UTF-8 are repaired (utf8.h), before rows merge;
 *  - a line whose weight is 0 is left out (it draws nothing);
 *  - a weight that would pass 2^64 - 1 stays at 2^64 - 1.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "message.h"
#include "utf8.h"
#include "writer.h"
#include "xmalloc.h"

#define UNKNOWN_FRAME "[unknown]"

/* One distinct rendered stack. */
struct folded_line {
	size_t offset, len;		/* of its text in the arena */
	uint64_t weight;
};

struct folded_state {
	FILE *out;
	bool by_allocations;
	bool split_threads;
	struct u64map index;		/* hash of a stack's text -> index into lines */
	struct folded_line *lines;
	size_t n_lines, lines_cap;
	char *arena;			/* every distinct stack's text, back to back */
	size_t arena_len, arena_cap;
	char *scratch;			/* the row being rendered */
	size_t scratch_len, scratch_cap;
	struct utf8_buffer repaired;	/* scratch, if it is not UTF-8 */
};

static void *
folded_begin(const struct writer_config *config)
{
	struct folded_state *s = xcalloc(1, sizeof *s);

	s->out = config->out;
	s->by_allocations = config->count == WRITER_COUNT_ALLOCATIONS;
	s->split_threads = config->split_threads;
	u64map_init(&s->index);
	return s;
}

/* Append text to the row being rendered, with ';' CR LF made harmless. */
static void
append_name(struct folded_state *s, const char *text)
{
	size_t len = strlen(text);

	s->scratch = xgrowarray(s->scratch, &s->scratch_cap, s->scratch_len + len,
	    sizeof *s->scratch, 256);
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		s->scratch[s->scratch_len++] = c == ';' ? ':' : c == '\n' || c == '\r' ? ' ' : c;
	}
}

static void
append_raw(struct folded_state *s, const char *text, size_t len)
{
	if (len == 0)
		return;		/* scratch may still be NULL */
	s->scratch = xgrowarray(s->scratch, &s->scratch_cap, s->scratch_len + len,
	    sizeof *s->scratch, 256);
	memcpy(s->scratch + s->scratch_len, text, len);
	s->scratch_len += len;
}

static void
append_frame(struct folded_state *s, const struct frame_text *f)
{
	char number[DECIMAL_MAX + 2];
	char *end = number + sizeof number, *line;

	end[-1] = ')';
	line = decimal_i64(end - 1, f->line);
	*--line = ':';

	if (s->scratch_len > 0)
		append_raw(s, ";", 1);
	append_name(s, f->function);
	append_raw(s, " (", 2);
	append_name(s, f->file);
	append_raw(s, line, (size_t)(end - line));
}

/* What line_for_scratch looks for. */
struct line_sought {
	const struct folded_state *state;
	const char *text;
	size_t len;
};

static bool
is_line_sought(const void *ctx, uint32_t index)
{
	const struct line_sought *sought = ctx;
	const struct folded_line *l = &sought->state->lines[index];

	return l->len == sought->len &&
	    memcmp(sought->state->arena + l->offset, sought->text, sought->len) == 0;
}

/* The line for the rendered stack in scratch, added if it is new. */
static struct folded_line *
line_for_scratch(struct folded_state *s)
{
	size_t len = s->scratch_len;
	const char *text = utf8_repair(&s->repaired, s->scratch, &len);
	const struct line_sought sought = { s, text, len };
	uint64_t key;
	uint32_t index;

	if (u64map_find_interned(&s->index, writer_hash_bytes(0, text, len), is_line_sought, &sought,
	    &index, &key))
		return &s->lines[index];
	if (s->n_lines == UINT32_MAX)
		fatal("too many distinct stacks for one report");
	s->lines = xgrowarray(s->lines, &s->lines_cap, s->n_lines + 1, sizeof *s->lines, 64);
	s->arena = xgrowarray(s->arena, &s->arena_cap, s->arena_len + len, sizeof *s->arena, 256);
	memcpy(s->arena + s->arena_len, text, len);
	index = (uint32_t)s->n_lines++;
	s->lines[index] = (struct folded_line){ .offset = s->arena_len, .len = len };
	s->arena_len += len;
	u64map_set(&s->index, key, index);
	return &s->lines[index];
}

static void
folded_row(void *state, const struct output_row *row)
{
	struct folded_state *s = state;
	uint64_t weight = s->by_allocations ? row->n_allocations : row->size;

	s->scratch_len = 0;
	if (s->split_threads) {
		size_t size = 40 + (row->thread_name ? strlen(row->thread_name) : 0);
		char *label = xmalloc(size);
		writer_thread_label(label, size, row->tid, row->thread_name);
		append_raw(s, "thread ", 7);
		append_name(s, label);
		free(label);
	}
	if (row->n_frames == 0) {
		if (s->scratch_len > 0)
			append_raw(s, ";", 1);
		append_raw(s, UNKNOWN_FRAME, strlen(UNKNOWN_FRAME));
	}
	/* Root first: the row's frames are most recent first. */
	for (size_t i = row->n_frames; i-- > 0;)
		append_frame(s, &row->frames[i]);

	struct folded_line *l = line_for_scratch(s);
	l->weight = weight > UINT64_MAX - l->weight ? UINT64_MAX : l->weight + weight;
}

static void
folded_end(void *state)
{
	struct folded_state *s = state;

	for (size_t i = 0; i < s->n_lines; i++) {
		const struct folded_line *l = &s->lines[i];
		if (l->weight == 0)
			continue;
		fwrite(s->arena + l->offset, 1, l->len, s->out);
		fprintf(s->out, " %" PRIu64 "\n", l->weight);
	}
	u64map_free(&s->index);
	free(s->lines);
	free(s->arena);
	free(s->scratch);
	utf8_buffer_free(&s->repaired);
	free(s);
}

const struct writer_ops folded_writer = {
	.name = "folded",
	.begin = folded_begin,
	.row = folded_row,
	.end = folded_end,
};
