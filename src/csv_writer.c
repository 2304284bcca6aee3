/*
 * csv_writer: memray's CSV (doc/capture-format.md §9.2).
 *
 * Python's csv.writer default dialect: a field is quoted only when it
 * holds a comma, a quote, CR or LF, with quotes doubled (libcsv's
 * csv_fwrite does the quoting).  memray ends lines with CR LF; we end them
 * with LF unless --crlf asks for memray's exact bytes.  Names that are
 * not UTF-8 are repaired (utf8.h): memray would stop on them.
 */
#include <csv.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "decimal.h"
#include "utf8.h"
#include "writer.h"
#include "xmalloc.h"

struct csv_state {
	FILE *out;
	const char *eol;
	char *stack;		/* the stack_trace field being built */
	size_t stack_len, stack_cap;
	struct utf8_buffer repaired;
};

/*
 * A field, as UTF-8: the separators around the names are ASCII, which
 * ends any ill-formed sequence, so repairing a whole field repairs each
 * name in it the same way.
 */
static void
write_field(struct csv_state *s, const char *text, size_t len)
{
	FILE *out = s->out;

	text = utf8_repair(&s->repaired, text, &len);
	if (memchr(text, ',', len) || memchr(text, '"', len) || memchr(text, '\r', len) ||
	    memchr(text, '\n', len))
		csv_fwrite(out, text, len);
	else
		fwrite(text, 1, len, out);
}

static void
append(struct csv_state *s, const char *text, size_t len)
{
	if (len == 0)
		return;	/* an empty name: s->stack may still be NULL (memcpy to NULL is UB) */
	s->stack = xgrowarray(s->stack, &s->stack_cap, s->stack_len + len, sizeof *s->stack, 256);
	memcpy(s->stack + s->stack_len, text, len);
	s->stack_len += len;
}

static void *
csv_begin(const struct writer_config *config)
{
	struct csv_state *s = xcalloc(1, sizeof *s);

	s->out = config->out;
	s->eol = config->crlf ? "\r\n" : "\n";
	fprintf(s->out, "allocator,num_allocations,size,tid,thread_name,stack_trace%s", s->eol);
	return s;
}

static void
csv_row(void *state, const struct output_row *row)
{
	struct csv_state *s = state;
	char number[1 + DECIMAL_MAX];
	size_t name_len = 40 + (row->thread_name ? strlen(row->thread_name) : 0);
	char *thread_name = xmalloc(name_len);

	fprintf(s->out, "%s,%" PRIu64 ",%" PRIu64 ",%" PRId64 ",", row->allocator,
	    row->n_allocations, row->size, (int64_t)row->tid);
	writer_thread_label(thread_name, name_len, row->tid, row->thread_name);
	write_field(s, thread_name, strlen(thread_name));
	free(thread_name);
	fputc(',', s->out);

	s->stack_len = 0;
	for (size_t i = 0; i < row->n_frames; i++) {
		const struct frame_text *f = &row->frames[i];
		if (i > 0)
			append(s, "|", 1);
		append(s, f->function, strlen(f->function));
		append(s, ";", 1);
		append(s, f->file, strlen(f->file));
		char *line = decimal_i64(number + sizeof number, f->line);
		*--line = ';';
		append(s, line, (size_t)(number + sizeof number - line));
	}
	write_field(s, s->stack ? s->stack : "", s->stack_len);
	fputs(s->eol, s->out);
}

static void
csv_end(void *state)
{
	struct csv_state *s = state;

	free(s->stack);
	utf8_buffer_free(&s->repaired);
	free(s);
}

const struct writer_ops csv_writer = {
	.name = "csv",
	.begin = csv_begin,
	.row = csv_row,
	.end = csv_end,
};
