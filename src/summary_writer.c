/*
 * summary_writer: -f summary, the numbers of -f stats for a person, in the
 * layout of `memray stats` without --json (memray 1.20.0,
 * reporters/stats.py _render_to_terminal and draw_histogram): totals,
 * peak, the size histogram as bars, allocators, top locations and
 * modules, sizes as memray's size_fmt writes them ("19.989MB").
 *
 * On a terminal, with NO_COLOR unset or empty, the headings are bold with
 * memray's emoji and the bars are blocks; otherwise the text is plain
 * ASCII ('#' bars, no emoji, no escape sequences).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "stats_summary.h"
#include "writer.h"
#include "xmalloc.h"

#define BAR_WIDTH 25		/* draw_histogram's hist_scale_factor */
#define SIZE_WIDTH 9		/* "###.###XB" */

struct summary_state {
	FILE *out;
	bool color;
};

static void *
summary_begin(const struct writer_config *config)
{
	struct summary_state *s = xcalloc(1, sizeof *s);

	s->out = config->out;
	s->color = config->color;
	return s;
}

/* memray's size_fmt: "%5.3f" and a unit of 1000, then "B". */
static void
size_fmt(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "", "k", "M", "G", "T", "P", "E", "Z" };
	double num = (double)bytes;

	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (num < 1000.0) {
			snprintf(buf, size, "%5.3f%sB", num, units[i]);
			return;
		}
		num /= 1000.0;
	}
	snprintf(buf, size, "%.1fYB", num);
}

/* A heading: memray's emoji and bold on a terminal, the bare words otherwise. */
static void
heading(const struct summary_state *s, const char *emoji, const char *text)
{
	if (s->color)
		fprintf(s->out, "%s \033[1m%s\033[0m\n", emoji, text);
	else
		fprintf(s->out, "%s\n", text);
}

static void
write_histogram(const struct summary_state *s, const struct stats_summary *sum)
{
	char size[32];
	uint64_t most = 0;
	int count_width = 1;

	if (!sum->has_histogram) {
		fputs("\t<no data for histogram>\n", s->out);
		return;
	}
	for (size_t i = 0; i < STATS_HISTOGRAM_BINS; i++) {
		char digits[24];
		int w = snprintf(digits, sizeof digits, "%" PRIu64, sum->histogram[i].count);
		count_width = w > count_width ? w : count_width;
		most = sum->histogram[i].count > most ? sum->histogram[i].count : most;
	}
	int rule = 2 + SIZE_WIDTH + 2 + count_width + 1 + BAR_WIDTH;
	size_fmt(size, sizeof size, sum->smallest);
	fprintf(s->out, "\tmin: %s\n\t", size);
	for (int i = 0; i < rule; i++)
		fputc('-', s->out);
	fputc('\n', s->out);
	for (size_t i = 0; i < STATS_HISTOGRAM_BINS; i++) {
		/* math.ceil(count / max * 25): a bin with anything in it shows. */
		uint64_t n = sum->histogram[i].count;
		int bar = most ? (int)ceil((double)n / (double)most * BAR_WIDTH) : 0;
		size_fmt(size, sizeof size, sum->histogram[i].upper);
		fprintf(s->out, "\t%s%-*s: %*" PRIu64 " ", i + 1 < STATS_HISTOGRAM_BINS ? "< " : "<=",
		    SIZE_WIDTH, size, count_width, n);
		for (int b = 0; b < bar; b++)
			fputs(s->color ? "\u2587" : "#", s->out);
		fputc('\n', s->out);
	}
	fputc('\t', s->out);
	for (int i = 0; i < rule; i++)
		fputc('-', s->out);
	size_fmt(size, sizeof size, sum->largest);
	fprintf(s->out, "\n\tmax: %s\n", size);
}

static void
write_locations(const struct summary_state *s, const struct stats_location *locs, size_t n,
    bool bytes)
{
	char size[32];

	for (size_t i = 0; i < n; i++) {
		char *label = stats_location_label(&locs[i]);
		if (bytes)
			size_fmt(size, sizeof size, locs[i].value);
		else
			snprintf(size, sizeof size, "%" PRIu64, locs[i].value);
		fprintf(s->out, "\t- %s -> %s\n", label, size);
		free(label);
	}
}

/* A module's total: Python's integer, as bytes for size_fmt (a sum past 2^64 is its low part). */
static void
write_modules(const struct summary_state *s, const struct stats_summary *sum,
    const struct stats_module *modules, const char *by)
{
	char title[96], size[32];

	if (sum->n_modules == 0)
		return;
	fputc('\n', s->out);
	snprintf(title, sizeof title, "Top %zu allocating modules (%s):", sum->num_largest, by);
	heading(s, "\U0001F947", title);
	for (size_t i = 0; i < sum->n_modules; i++) {
		size_fmt(size, sizeof size, modules[i].bytes.lo);
		fprintf(s->out, "\t- %s: %s total | %" PRIu64 " allocations\n", modules[i].name, size,
		    modules[i].n_allocations.lo);
	}
}

static bool
summary_statistics(void *state, const struct stats_summary *sum)
{
	struct summary_state *s = state;
	char size[32], title[96];

	heading(s, "\U0001F4CF", "Total allocations:");
	fprintf(s->out, "\t%" PRIu64 "\n\n", sum->n_allocations);
	heading(s, "\U0001F4E6", "Total memory allocated:");
	size_fmt(size, sizeof size, sum->bytes);
	fprintf(s->out, "\t%s\n\n", size);
	heading(s, "\U0001F4C8", "Peak memory usage:");
	size_fmt(size, sizeof size, sum->peak_bytes);
	fprintf(s->out, "\t%s\n\n", size);
	heading(s, "\U0001F4CA", "Histogram of allocation size:");
	write_histogram(s, sum);
	fputc('\n', s->out);
	heading(s, "\U0001F4C2", "Allocator type distribution:");
	for (size_t i = 0; i < sum->n_allocators; i++)
		fprintf(s->out, "\t %s: %" PRIu64 "\n", allocator_name(sum->allocator_ids[i]),
		    sum->allocator_counts[i]);
	fputc('\n', s->out);
	snprintf(title, sizeof title, "Top %zu largest allocating locations (by size):",
	    sum->num_largest);
	heading(s, "\U0001F947", title);
	write_locations(s, sum->by_size, sum->n_by_size, true);
	fputc('\n', s->out);
	snprintf(title, sizeof title,
	    "Top %zu largest allocating locations (by number of allocations):", sum->num_largest);
	heading(s, "\U0001F947", title);
	write_locations(s, sum->by_count, sum->n_by_count, false);
	write_modules(s, sum, sum->modules_by_size, "by size");
	write_modules(s, sum, sum->modules_by_count, "by number of allocations");
	return true;
}

static void
summary_end(void *state)
{
	free(state);
}

const struct writer_ops summary_writer = {
	.name = "summary",
	.begin = summary_begin,
	.statistics = summary_statistics,
	.end = summary_end,
};
