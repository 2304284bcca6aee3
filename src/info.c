/* info: what a capture is, as text (see info.h). */
#include "info.h"

#include <inttypes.h>
#include <stdbool.h>
#include <time.h>

#include "byte_source.h"
#include "message.h"
#include "progress.h"
#include "record_decoder.h"
#include "record_queue.h"

/* Records decoded at a time: their array stays in the first-level cache. */
#define INFO_BATCH 256

/* The memray releases that write each format version (doc/capture-format.md §2.1). */
const char *
info_memray_versions(int32_t version)
{
	switch (version) {
	case 10:
		return "memray 1.7-1.10";
	case 11:
		return "memray 1.11-1.18";
	case 12:
		return "memray 1.19";
	case 13:
		return "memray 1.20";
	}
	return "unknown memray";
}

static const char *
python_allocator_name(uint8_t id)
{
	static const char *const names[] = {
		"unknown", "pymalloc", "pymalloc debug", "malloc", "other", "mimalloc", "mimalloc debug",
	};

	return id < sizeof names / sizeof names[0] ? names[id] : "unknown";
}

/* PY_VERSION_HEX as "3.11.7", with a release level other than final spelled out. */
static void
print_python_version(FILE *out, int32_t hex)
{
	static const char *const levels[16] = { [0xA] = "a", [0xB] = "b", [0xC] = "rc" };
	unsigned level = (hex >> 4) & 0xf;

	if (hex == 0) {
		fputs("unknown (not recorded before format 12)\n", out);
		return;
	}
	fprintf(out, "%d.%d.%d", (hex >> 24) & 0xff, (hex >> 16) & 0xff, (hex >> 8) & 0xff);
	if (levels[level] != NULL)
		fprintf(out, "%s%d", levels[level], hex & 0xf);
	fputc('\n', out);
}

static void
print_time(FILE *out, const char *label, int64_t ms)
{
	time_t seconds = (time_t)(ms / 1000);
	struct tm tm;
	char text[64] = "?";

	if (gmtime_r(&seconds, &tm) != NULL)
		strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(out, "%-26s%s.%03d UTC (%" PRId64 " ms)\n", label, text, (int)(ms % 1000 + 1000) % 1000, ms);
}

int
info_run(int fd, FILE *out, bool threaded)
{
	struct byte_source *src = byte_source_open(fd);
	struct record_decoder *dec = record_decoder_new(src);
	struct record_queue *queue = NULL;
	struct record recs[INFO_BATCH];
	int status = 1;

	if (!record_decoder_read_header(dec)) {
		error("%s (%s)", record_decoder_error(dec), record_decoder_error_place(dec));
		goto done;
	}
	/* The records are counted by the decoder: only the last one's type matters. */
	enum record_type last;
	queue = record_queue_new(dec, src, threaded ? QUEUE_READER_THREAD : QUEUE_DIRECT, NULL);
	do {
		size_t n = record_queue_next_batch(queue, recs, INFO_BATCH);
		last = recs[n - 1].type;
		if (progress_due(n))
			progress_draw(record_queue_input_offset(queue));
	} while (last != REC_END && last != REC_ERROR);

	const struct capture_header *h = record_decoder_header(dec);
	fprintf(out, "%-26s%" PRId32 " (%s)\n", "format version:", h->version, info_memray_versions(h->version));
	fprintf(out, "%-26s", "python version:");
	print_python_version(out, h->python_version);
	fprintf(out, "%-26s%s\n", "file kind:", h->file_format == FILE_FORMAT_AGGREGATED_ALLOCATIONS ?
	    "aggregated allocations (memray run --aggregate)" : "all allocations");
	fprintf(out, "%-26s%s\n", "compression:", byte_source_containers(src));
	fprintf(out, "%-26s%s\n", "native traces:", h->native_traces ? "yes" : "no");
	fprintf(out, "%-26s%s\n", "python allocator:", python_allocator_name(h->python_allocator));
	fprintf(out, "%-26s%s\n", "trace python allocators:", h->trace_python_allocators ? "yes" : "no");
	fprintf(out, "%-26s%s\n", "track object lifetimes:", h->track_object_lifetimes ? "yes" : "no");
	fprintf(out, "%-26s%s\n", "command line:", h->command_line);
	fprintf(out, "%-26s%" PRId32 "\n", "pid:", h->pid);
	fprintf(out, "%-26s%" PRIu64 "\n", "main thread id:", h->main_tid);
	fprintf(out, "%-26s%" PRIu64 "\n", "skipped main frames:", h->skipped_frames_on_main_tid);
	print_time(out, "start time:", h->start_time);
	print_time(out, "end time:", h->end_time);
	fprintf(out, "%-26s%" PRIu64 "\n", "header allocations:", h->n_allocations);
	fprintf(out, "%-26s%" PRIu64 "\n", "decompressed bytes:", record_decoder_offset(dec));

	const uint64_t *counts = record_decoder_counts(dec);
	uint64_t total = 0;
	fputs("records:\n", out);
	for (int t = 0; t < RECORD_TYPE_COUNT; t++) {
		if (counts[t] == 0 || t == REC_END)
			continue;
		fprintf(out, "  %-24s%" PRIu64 "\n", record_type_name(t), counts[t]);
		total += counts[t];
	}
	fprintf(out, "  %-24s%" PRIu64 "\n", "total", total);
	if (last == REC_ERROR)
		fprintf(out, "%-26sdamaged at %s: %s\n", "end:", record_decoder_error_place(dec),
		    record_decoder_error(dec));
	else
		fprintf(out, "%-26s%s\n", "end:", record_decoder_saw_trailer(dec) ?
		    "trailer record" : "end of data without a trailer (the process was killed?)");
	status = 0;
done:
	record_queue_free(queue);
	record_decoder_free(dec);
	byte_source_close(src);
	return status;
}
