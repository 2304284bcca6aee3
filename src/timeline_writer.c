/*
 * timeline_writer: -f timeline, the heap over time as CSV, one row per
 * MEMORY_RECORD of the capture (memray writes one every 10 ms or so),
 * and a last one at the end of the capture, with no RSS (an empty field):
 *
 *   time_ms,rss_bytes,heap_bytes,live_allocations,peak_heap_bytes
 *
 * Not a memray format.  The heap is memray's HighWatermarkFinder's, so
 * that the last row's peak is the high-water mark of the other reports.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "writer.h"
#include "xmalloc.h"

struct timeline_state {
	FILE *out;
	const char *eol;
};

static void *
timeline_begin(const struct writer_config *config)
{
	struct timeline_state *s = xcalloc(1, sizeof *s);

	s->out = config->out;
	s->eol = config->crlf ? "\r\n" : "\n";
	fprintf(s->out, "time_ms,rss_bytes,heap_bytes,live_allocations,peak_heap_bytes%s", s->eol);
	return s;
}

static void
timeline_sample(void *state, const struct memory_sample *sample)
{
	struct timeline_state *s = state;

	fprintf(s->out, "%" PRIu64 ",", sample->ms);
	if (sample->has_rss)
		fprintf(s->out, "%" PRIu64, sample->rss);
	fprintf(s->out, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "%s", sample->heap,
	    sample->allocations, sample->peak, s->eol);
}

static void
timeline_end(void *state)
{
	free(state);
}

const struct writer_ops timeline_writer = {
	.name = "timeline",
	.begin = timeline_begin,
	.sample = timeline_sample,
	.end = timeline_end,
};
