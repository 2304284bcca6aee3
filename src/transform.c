/* transform: the pipeline from input bytes to a written report (see transform.h). */
#include "transform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "byte_source.h"
#include "capture.h"
#include "live_mappings.h"
#include "message.h"
#include "native_symbols.h"
#include "prefetch.h"
#include "progress.h"
#include "record_decoder.h"
#include "record_queue.h"
#include "stats.h"
#include "stats_summary.h"
#include "xmalloc.h"

/*
 * The capture, followed where the records are decoded (the queue's follower,
 * in the reader thread with --threads 2): each allocation record leaves
 * with its stack, thread and generation, and the main thread, which makes
 * the report, never touches the capture until the records end.
 */
struct capture_follower {
	struct capture *cap;
	/* Peak and leaks modes: the live mmapped ranges, which the report keeps by piece. */
	bool follows_mappings;
	struct live_mappings mappings;
	struct capture_progress report;	/* from the main thread (capture_follow_report) */
	/* The first record the capture could not place: why, and where (the follower's, until then). */
	bool failed;
	char problem[160];
	uint64_t problem_offset;
};

/* What a record from the stream leaves the report to do. */
enum stream_state {
	STREAM_GOES_ON,
	STREAM_ENDED,		/* reported (REC_END, or REC_ERROR with a warning) */
	STREAM_FAILED		/* cannot be reported (fatal: said) */
};

struct pipeline {
	const struct transform_options *opts;
	struct byte_source *src;
	struct record_decoder *dec;
	struct record_queue *queue;	/* the records of dec, decoded ahead with --threads */
	struct capture *cap;
	struct capture_follower follower;
	/*
	 * Where the report's records come from: batches that the queue fills
	 * (a reader thread, or this one), followed as they are decoded, or
	 * the decoder, followed here: from its loop (record_queue_consume),
	 * else one record at a time (next_for_report).
	 */
	bool from_batches;
	bool may_batch;			/* the capture's state may run ahead of the report */
	bool statistics;		/* the writer takes statistics (-f stats) */
	enum stream_state stream;	/* after the records record_queue_consume took */
	uint64_t mark;			/* the capture's state to render: after this many allocation records */
	struct report *report;
	struct native_symbols *symbols;	/* native captures */
	struct stats *stats;		/* statistics writers (-f stats) */
	/* --thread: the statistics of each thread (by index), merged for the selected ones. */
	struct stats **thread_stats;
	size_t n_thread_stats, thread_stats_cap;
	struct report_row *rows;	/* --thread: the rows of the selected threads */
	/*
	 * Sample writers (-f timeline): the samples, kept in a temporary file
	 * until the input has been read, so that memory stays bounded.
	 */
	FILE *samples;
	uint64_t thread_peak;		/* --thread: the selected threads' largest heap */
	uint64_t last_sample_ms;
};

static void
pipeline_free(struct pipeline *p)
{
	report_free(p->report);
	stats_free(p->stats);
	for (size_t i = 0; i < p->n_thread_stats; i++)
		stats_free(p->thread_stats[i]);
	free(p->thread_stats);
	free(p->rows);
	if (p->samples != NULL)
		fclose(p->samples);
	native_symbols_free(p->symbols);
	capture_free(p->cap);
	record_queue_free(p->queue);	/* first: stops the reader, which uses dec and src */
	live_mappings_free(&p->follower.mappings);
	record_decoder_free(p->dec);
	byte_source_close(p->src);
}

/*
 * Whether --thread's `want` names thread, by its tid as the reports print
 * it ("0x2") or by its name, at the last mark or (now) as it is now.
 */
static bool
thread_is(const struct pipeline *p, uint32_t thread, const char *want, bool now)
{
	char label[32];
	const char *name = now ? capture_thread_name_now(p->cap, thread) :
	    capture_thread_name(p->cap, thread);

	writer_thread_label(label, sizeof label, capture_thread_tid(p->cap, thread), NULL);
	return strcmp(want, label) == 0 || (name != NULL && strcmp(want, name) == 0);
}

/* --thread: whether a thread is selected, by its name at the last mark (the one reports show). */
static bool
thread_selected(const struct pipeline *p, uint32_t thread)
{
	for (size_t i = 0; i < p->opts->n_threads; i++)
		if (thread_is(p, thread, p->opts->threads[i], false))
			return true;
	return false;
}

/* A --thread that names no thread of the capture is likely a typing error: say so. */
static void
warn_unknown_threads(const struct pipeline *p)
{
	for (size_t i = 0; i < p->opts->n_threads; i++) {
		uint32_t t = 0;
		while (t < capture_thread_count(p->cap) &&
		    !thread_is(p, t, p->opts->threads[i], false))
			t++;
		if (t == capture_thread_count(p->cap))
			warning("--thread %s: no thread has this id or name", p->opts->threads[i]);
	}
}

static int
by_group_then_seq(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	if (x->native_id != y->native_id)
		return x->native_id < y->native_id ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

static int
by_seq(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * The rows to write.  With --thread the report groups by thread too, and
 * only the selected threads' rows are kept; without --split-threads those
 * of one stack are merged again, the earliest one representing them (fix
 * F1): the groups the selected threads' allocations alone would form.
 */
static size_t
pipeline_rows(struct pipeline *p, const struct report_row **rows)
{
	const struct report_row *all;
	size_t n_all = report_rows(p->report, &all), n = 0;

	if (p->opts->n_threads == 0) {
		*rows = all;
		return n_all;
	}
	p->rows = xreallocarray(NULL, n_all ? n_all : 1, sizeof *p->rows);
	for (size_t i = 0; i < n_all; i++)
		if (thread_selected(p, all[i].thread))
			p->rows[n++] = all[i];
	if (!p->opts->split_threads && n > 0) {
		size_t merged = 0;
		qsort(p->rows, n, sizeof *p->rows, by_group_then_seq);
		for (size_t i = 0; i < n; i++) {
			struct report_row *last = merged > 0 ? &p->rows[merged - 1] : NULL;
			if (last != NULL && last->stack == p->rows[i].stack &&
			    last->native_id == p->rows[i].native_id) {
				last->n_allocations += p->rows[i].n_allocations;
				last->size += p->rows[i].size;
			} else {
				p->rows[merged++] = p->rows[i];
			}
		}
		n = merged;
		qsort(p->rows, n, sizeof *p->rows, by_seq);
	}
	*rows = p->rows;
	return n;
}

/* Write the rows through the writer, as memray's transform reporter does. */
static void
write_report(struct pipeline *p, FILE *out, const struct report_row *rows, size_t n)
{
	const struct capture_header *h = record_decoder_header(p->dec);
	struct writer_config config = {
		.out = out, .crlf = p->opts->crlf, .command_line = h->command_line,
		.start_time = h->start_time, .end_time = h->end_time,
		.mode = p->opts->mode == REPORT_TEMPORARY ? WRITER_MODE_ALLOCATED : WRITER_MODE_IN_USE,
		.count = p->opts->count, .split_threads = p->opts->split_threads,
	};
	void *w = p->opts->writer->begin(&config);

	for (size_t i = 0; i < n; i++) {
		const struct report_row *r = &rows[i];
		struct output_row row = {
			.allocator = allocator_name(r->allocator),
			.n_allocations = r->n_allocations,
			.size = r->size,
			.tid = capture_thread_tid(p->cap, r->thread),
			.thread_name = capture_thread_name(p->cap, r->thread),
		};
		uint32_t stack = h->file_format == FILE_FORMAT_AGGREGATED_ALLOCATIONS ?
		    capture_trace_stack(p->cap, r->stack) : r->stack;
		/* memray renders every row of a native capture as a hybrid stack (§6.4). */
		if (h->native_traces)
			row.n_frames = capture_render_hybrid_stack(p->cap, p->symbols, stack,
			    r->native_id, r->generation, r->thread, &row.frames);
		else
			row.n_frames = capture_render_stack(p->cap, stack, r->thread, &row.frames);
		p->opts->writer->row(w, &row);
	}
	p->opts->writer->end(w);
}

/*
 * Hand the statistics of the whole capture to a statistics writer, with
 * the names as they stand at the end (memray stats reads to the end).
 */
static bool
write_statistics(struct pipeline *p, FILE *out)
{
	const struct capture_header *h = record_decoder_header(p->dec);
	struct writer_config config = { .out = out, .color = p->opts->color };
	struct stats_summary summary;

	capture_mark_at(p->cap, UINT64_MAX);
	warn_unknown_threads(p);
	if (p->stats == NULL)
		p->stats = stats_new();	/* no allocation, or --thread */
	for (size_t i = 0; i < p->n_thread_stats; i++)
		if (p->thread_stats[i] != NULL && thread_selected(p, (uint32_t)i))
			stats_merge(p->stats, p->thread_stats[i]);
	stats_summary_build(&summary, p->stats, p->cap, h, report_records(p->report),
	    report_peak_bytes(p->report), p->opts->num_largest);
	void *w = p->opts->writer->begin(&config);
	bool ok = p->opts->writer->statistics(w, &summary);
	p->opts->writer->end(w);
	stats_summary_free(&summary);
	return ok;
}

/*
 * memray looks a row's native stack up in its generation's segments, and
 * fails (IndexError) if the capture has no such generation: a native stack
 * recorded before any MEMORY_MAP_START, or a damaged aggregated record.
 */
static bool
check_generations(struct pipeline *p, const struct report_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rows[i].native_id != 0 && !capture_has_generation(p->cap, rows[i].generation)) {
			error("a native stack in memory-map generation %" PRIu32
			    ", which the capture does not have", rows[i].generation);
			return false;
		}
	}
	return true;
}

/* The statistics an allocation of thread adds to (created on first use). */
static struct stats *
stats_for(struct pipeline *p, uint32_t thread)
{
	if (p->opts->n_threads == 0) {
		if (p->stats == NULL)
			p->stats = stats_new();
		return p->stats;
	}
	/* --thread: per thread, as the threads' names are known only at the end. */
	p->thread_stats = xgrowzeroed(p->thread_stats, &p->n_thread_stats, &p->thread_stats_cap,
	    (size_t)thread + 1, sizeof *p->thread_stats);
	if (p->thread_stats[thread] == NULL)
		p->thread_stats[thread] = stats_new();
	return p->thread_stats[thread];
}

/*
 * The heap now, of every thread or (--thread) of those selected now, by
 * their names now; their peak is then the largest heap of theirs at a
 * sample so far.
 */
static struct memory_sample
heap_now(struct pipeline *p)
{
	struct memory_sample sample = {
		.heap = report_current_bytes(p->report),
		.allocations = report_live_allocations(p->report),
		.peak = report_peak_bytes(p->report),
	};

	if (p->opts->n_threads > 0) {
		sample.heap = sample.allocations = 0;
		for (uint32_t t = 0; t < capture_thread_count(p->cap); t++) {
			bool selected = false;
			for (size_t i = 0; i < p->opts->n_threads && !selected; i++)
				selected = thread_is(p, t, p->opts->threads[i], true);
			if (!selected)
				continue;
			uint64_t bytes, allocations;
			report_thread_live(p->report, t, &bytes, &allocations);
			sample.heap += bytes;
			sample.allocations += allocations;
		}
		if (sample.heap > p->thread_peak)
			p->thread_peak = sample.heap;
		sample.peak = p->thread_peak;
	}
	return sample;
}

/* The numbers of a memory_sample, as the temporary file keeps them. */
#define SAMPLE_FIELDS 6

/* A MEMORY_RECORD: its time and RSS, and the heap now. */
static void
take_sample(struct pipeline *p, const struct record *rec)
{
	struct memory_sample sample = heap_now(p);

	sample.ms = rec->u.memory.ms;
	sample.has_rss = true;
	sample.rss = rec->u.memory.rss;
	p->last_sample_ms = sample.ms;
	/* As six numbers: the struct's padding would be uninitialized bytes. */
	uint64_t fields[SAMPLE_FIELDS] = {
		sample.ms, sample.has_rss, sample.rss, sample.heap, sample.allocations, sample.peak,
	};
	if (fwrite(fields, sizeof fields, 1, p->samples) != 1)
		fatal("cannot keep the memory samples in a temporary file: %s", strerror(errno));
}

/* Hand the samples to a sample writer, in order. */
static bool
write_samples(struct pipeline *p, FILE *out)
{
	const struct capture_header *h = record_decoder_header(p->dec);
	struct writer_config config = { .out = out, .crlf = p->opts->crlf };
	struct memory_sample sample;

	if (p->opts->n_threads > 0)
		warn_unknown_threads(p);
	rewind(p->samples);
	void *w = p->opts->writer->begin(&config);
	uint64_t fields[SAMPLE_FIELDS];
	while (fread(fields, sizeof fields, 1, p->samples) == 1) {
		sample = (struct memory_sample){
			.ms = fields[0], .has_rss = fields[1] != 0, .rss = fields[2], .heap = fields[3],
			.allocations = fields[4], .peak = fields[5],
		};
		p->opts->writer->sample(w, &sample);
	}
	/*
	 * The end of the capture, when the header was last written (or, if
	 * the process died before, the last sample): the heap after the last
	 * allocation, and the peak of them all.
	 */
	sample = heap_now(p);
	uint64_t end = h->end_time > h->start_time ? (uint64_t)(h->end_time - h->start_time) : 0;
	sample.ms = end > p->last_sample_ms ? end : p->last_sample_ms;
	p->opts->writer->sample(w, &sample);
	p->opts->writer->end(w);
	if (ferror(p->samples)) {
		error("cannot read the memory samples back from a temporary file");
		return false;
	}
	return true;
}

/* An mmap or munmap, in the live mappings: its piece, or its changes. */
static void
follow_mapping(struct capture_follower *f, struct record *rec, enum allocator_kind kind)
{
	struct mapping_note note = live_mappings_follow(f->follows_mappings ? &f->mappings : NULL,
	    kind == RANGED_DEALLOCATOR, rec->u.alloc.address, rec->u.alloc.size);

	rec->u.alloc.piece = note.piece;
	rec->u.alloc.n_changes = note.n_changes;
	rec->u.alloc.changes = note.changes;
}

/*
 * The capture, applied to a record as it is decoded, and an allocation
 * record stamped with the capture's state.  Returns whether read_records
 * needs the record: not the capture's own (frames, threads, code objects).
 */
static inline __attribute__((always_inline)) bool
follow_record(struct capture_follower *f, struct record *rec)
{
	rec->after_capture_error = f->failed;
	/* Nearly every record: a test, not the switch's jump through a table. */
	if (rec->type == REC_ALLOCATION) {
		enum allocator_kind kind = allocator_kind(rec->u.alloc.allocator);
		struct allocation_place place = capture_place_allocation(f->cap,
		    allocator_is_deallocator(kind));
		rec->u.alloc.thread = place.thread;
		rec->u.alloc.stack = place.stack;
		rec->u.alloc.generation = place.generation;
		if (allocator_is_ranged(kind))
			follow_mapping(f, rec, kind);
		return true;
	}
	switch (rec->type) {
	case REC_AGGREGATED_ALLOCATION:
	case REC_MEMORY:
	case REC_END:
	case REC_ERROR:
		return true;
	default:
		if (!capture_apply(f->cap, rec) && !f->failed) {
			f->failed = true;
			snprintf(f->problem, sizeof f->problem, "%s", capture_error(f->cap));
			f->problem_offset = rec->offset;
		}
		return false;
	}
}

/* The queue's follower (record_queue.h), in the reader thread. */
__attribute__((always_inline)) inline bool
record_queue_follow(void *follower, struct record *rec)
{
	return follow_record(follower, rec);
}

/* The report has read `read` allocation records; tell the capture's follower. */
static void
publish_progress(struct pipeline *p, uint64_t read)
{
	atomic_store_explicit(&p->follower.report.mark, p->mark, memory_order_release);
	atomic_store_explicit(&p->follower.report.read, read, memory_order_release);
}

/*
 * With batches, the batch at hand holds the records ahead: the report is
 * told of the allocation records PREFETCH_FAR and PREFETCH_NEAR ahead
 * (report_prefetch).  Where the report's tables outgrow the caches, the
 * waits for several records then overlap: with --threads 2 on
 * 10^7-record captures (wall time, least of 5 interleaved),
 * --temporary-allocation-threshold 100000 took 0.85x the time, 2,000,000
 * live blocks 0.89x.  Distances of 16, 8 and 20 were no better.
 */
#define PREFETCH_FAR 8
#define PREFETCH_NEAR 4

/* A hint for the report of the record `ahead` places after its own, if at hand. */
static inline __attribute__((always_inline)) void
hint_ahead(const struct pipeline *p, size_t ahead, enum report_prefetch_stage stage)
{
	struct record_glimpse glimpse;

	if (record_queue_peek(p->queue, ahead, &glimpse) && glimpse.type == REC_ALLOCATION)
		report_prefetch(p->report, glimpse.address, glimpse.allocator, glimpse.thread, stage);
}

static void
prefetch_ahead(const struct pipeline *p)
{
	if (!report_takes_hints(p->report))
		return;
	hint_ahead(p, PREFETCH_FAR, REPORT_PREFETCH_FAR);
	hint_ahead(p, PREFETCH_NEAR, REPORT_PREFETCH_NEAR);
}

/*
 * One thread: the records come from the decoder's loop to
 * record_queue_consume (or, where that loop stops, one at a time),
 * followed here, until the report takes hints (report_takes_hints,
 * asked every BATCH_ASK_EVERY allocation records), then in batches that
 * this thread fills as the report needs them, followed in the queue: the
 * report then takes compact runs, and hints of the records ahead, as
 * from a reader thread's batches.  With --temporary-allocation-threshold 100000 (10^7
 * records, paired wall time) that took 0.67x the time of records kept
 * 16 ahead in a ring of their own for hints (the way before).  Batches
 * from the start cost where the report is cheap, as every record is
 * stored and read back: 1.05x to 1.27x the time (json, keepall, a native
 * capture, --mmap-share 50) at e2acd23, still 1.02x to 1.03x (json, the
 * native capture, --mmap-share 50) once native records crossed compact
 * and slots were stored from registers (ab5b4ea).  Formats 10-11 go in
 * batches from the start, as only batches take their fast path
 * (record_decoder_fast_in_batches_only): 0.59x to 0.73x the time on
 * memray 1.18.0's captures of bench/workload.py (json, keepall, a native
 * keep2000; paired wall time, two runs, medians of 7 and of 5).
 */
#define BATCH_ASK_EVERY 4096

/* Whether to go on in batches, asked every BATCH_ASK_EVERY allocation records (seq). */
static void
consider_batches(struct pipeline *p)
{
	if (p->may_batch &&
	    (report_takes_hints(p->report) || record_decoder_fast_in_batches_only(p->dec))) {
		record_queue_start_batches(p->queue, &p->follower);
		p->from_batches = true;
	}
}

/*
 * The report's next record: from the batches, followed already, or
 * decoded and followed here (follow_record inlined).
 */
static inline __attribute__((always_inline)) struct record *
next_for_report(struct pipeline *p)
{
	for (;;) {
		struct record *rec = record_queue_next_ref(p->queue);
		if (p->from_batches || follow_record(&p->follower, rec))
			return rec;
	}
}

/* An allocation record at offset that came before any context switch: fatal, false. */
static bool
before_any_thread(uint64_t offset)
{
	error("allocation record before any context switch (byte %" PRIu64 ")", offset);
	return false;
}

/* Allocation record ev, the report's seq-th, into the report and the statistics. */
static inline __attribute__((always_inline)) void
report_one(struct pipeline *p, const struct alloc_event *ev, uint64_t seq, bool statistics)
{
	if (report_allocation(p->report, ev))
		p->mark = seq + 1;
	if (statistics)
		stats_allocation(stats_for(p, ev->thread), ev, seq);
}

/* An allocation record for the report; false if it cannot be reported (fatal). */
static inline __attribute__((always_inline)) bool
take_allocation(struct pipeline *p, const struct alloc_event *ev, bool after_capture_error,
    uint64_t offset, bool statistics)
{
	const struct capture_follower *f = &p->follower;

	if (after_capture_error) {
		error("%s (byte %" PRIu64 ")", f->problem, f->problem_offset);
		return false;
	}
	if (ev->thread == NO_THREAD)
		return before_any_thread(offset);
	uint64_t seq = report_records(p->report);
	if (p->from_batches)	/* records ahead to look at */
		prefetch_ahead(p);
	else if ((seq & (BATCH_ASK_EVERY - 1)) == 0)
		consider_batches(p);
	report_one(p, ev, seq, statistics);
	publish_progress(p, seq + 1);
	return true;
}

/*
 * A hint for the report of the record `ahead` places past run[0] (run
 * holds n slots): in the run, or else in the queue, whose cursor the
 * taken run has passed.
 */
static inline __attribute__((always_inline)) void
hint_in_run(const struct pipeline *p, const struct record_slot *run, size_t n, size_t ahead,
    enum report_prefetch_stage stage)
{
	if (ahead < n)
		report_prefetch(p->report, run[ahead].address, run[ahead].allocator,
		    run[ahead].thread, stage);
	else
		hint_ahead(p, ahead - n + 1, stage);
}

/*
 * How far ahead of the slot it reports report_compact_run asks for the
 * ring's slots: 32 slots, 1 KiB.  A reader thread writes them past the
 * caches (record_queue.c), and the processor's own prefetching left the
 * report thread waiting for them: perf put 46% of the samples of its
 * loop (13% of the thread's) on the first load from a slot.  Paired wall
 * time with two threads (Intel Xeon VM, 9 rounds, medians): json 0.83x
 * (8 slots 0.92x, 16 0.86x, 64 and 128 as 32), the default shape 0.95x,
 * keepall and native keep2000 as before.
 */
#define SLOTS_AHEAD 32

/*
 * The records of a compact run (see take_compact_run), each into the
 * report (given hints if `hints`) and the statistics (if `statistics`):
 * a loop for each pair of constants, so that neither is asked once a
 * record.  natives: the run's native stacks (struct compact_run), or
 * NULL, a constant (without, no record has one).
 */
static inline __attribute__((always_inline)) void
report_compact_run(struct pipeline *p, const struct record_slot *run,
    const struct slot_native *natives, size_t n, bool hints, bool statistics)
{
	/* What no compact record has: a piece (nor, without natives, a native stack or generation). */
	struct alloc_event ev = { .piece = NO_PIECE };

	for (size_t i = 0; i < n; i++) {
		const struct record_slot *slot = &run[i];
		/* An address, maybe past the run's array: integer arithmetic, not a pointer's. */
		cache_prefetch((const void *)((uintptr_t)slot + SLOTS_AHEAD * sizeof *slot));
		uint64_t seq = report_records(p->report);
		if (hints) {
			hint_in_run(p, run + i, n - i, PREFETCH_FAR, REPORT_PREFETCH_FAR);
			hint_in_run(p, run + i, n - i, PREFETCH_NEAR, REPORT_PREFETCH_NEAR);
		}
		ev.address = slot->address;
		ev.size = slot->size;
		ev.stack = slot->stack;
		ev.thread = slot->thread;
		ev.allocator = slot->allocator;
		if (natives != NULL) {
			ev.native_id = natives[i].native_id;
			ev.generation = natives[i].generation;
		}
		report_one(p, &ev, seq, statistics);
	}
}

/*
 * report_compact_run for a capture with native stacks, with either flag:
 * a function of its own, so that the others stay as gcc inlined them
 * before there was one (kept inline, it cost the report's thread 4.5%
 * more instructions on json, which has no native stacks).
 */
static __attribute__((noinline)) void
report_compact_run_native(struct pipeline *p, const struct compact_run *run, size_t n, bool hints,
    bool statistics)
{
	report_compact_run(p, run->slots, run->natives, n, hints, statistics);
}

/*
 * With batches, the allocation records that crossed the ring compact, as
 * many as follow one another (record_queue_compact_run):
 * what take_allocation does for each, in a loop over the ring's slots.
 * The report's progress is published once, after the run, which only
 * keeps the capture's versions a little longer.  Instructions of the
 * report's thread (callgrind, two threads, peak mode) against a call of
 * the queue for each record: 3,228 M -> 3,168 M (-1.9%) on keepall
 * (bench/workload.py), -0.4% on 10^7 records of the default shape.
 * Whether the report takes hints is asked once a run: the live set
 * crosses the line only slowly.
 */
static void
take_compact_run(struct pipeline *p, bool statistics)
{
	struct compact_run run;
	size_t n = record_queue_compact_run(p->queue, &run);

	if (n == 0)
		return;
	if (progress_due(n))	/* --progress: cheap unless it is time to draw */
		progress_draw(record_queue_input_offset(p->queue));
	const bool hints = report_takes_hints(p->report);
	if (run.natives != NULL)
		report_compact_run_native(p, &run, n, hints, statistics);
	else if (statistics)
		report_compact_run(p, run.slots, NULL, n, hints, true);
	else if (hints)
		report_compact_run(p, run.slots, NULL, n, true, false);
	else
		report_compact_run(p, run.slots, NULL, n, false, false);
	publish_progress(p, report_records(p->report));
}

/* A record for the report (followed already), and what comes next. */
static inline __attribute__((always_inline)) enum stream_state
take_record(struct pipeline *p, struct record *rec, bool statistics)
{
	const struct capture_follower *f = &p->follower;

	if (progress_due(1))	/* --progress: cheap unless it is time to draw */
		progress_draw(record_queue_input_offset(p->queue));
	/* Nearly every record: a test, not the switch's jump through a table. */
	if (rec->type == REC_ALLOCATION)
		return take_allocation(p, &rec->u.alloc, rec->after_capture_error, rec->offset,
		    statistics) ? STREAM_GOES_ON : STREAM_FAILED;
	enum record_type type = rec->type;
	switch (type) {
	case REC_END:
		/* memray reads past such a frame record only in peak mode (§0). */
		if (rec->after_capture_error && p->opts->mode == REPORT_PEAK) {
			error("%s (byte %" PRIu64 ")", f->problem, f->problem_offset);
			return STREAM_FAILED;
		}
		return STREAM_ENDED;
	case REC_ERROR:
		if (p->opts->strict) {
			error("damaged record stream: %s (%s)",
			    record_decoder_error(p->dec), record_decoder_error_place(p->dec));
			return STREAM_FAILED;
		}
		warning("damaged record stream: %s (%s); reporting the records before it",
		    record_decoder_error(p->dec), record_decoder_error_place(p->dec));
		return STREAM_ENDED;
	case REC_AGGREGATED_ALLOCATION: {
		bool leaks = p->opts->mode == REPORT_LEAKS;
		struct alloc_event ev = {
			.size = leaks ? rec->u.aggregated.bytes_leaked :
			    rec->u.aggregated.bytes_in_high_water_mark,
			.native_id = rec->u.aggregated.native_id,
			.stack = rec->u.aggregated.trace_node > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)rec->u.aggregated.trace_node,
			.thread = capture_thread_for_tid(p->cap, rec->u.aggregated.tid),
			.generation = rec->u.aggregated.generation > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)rec->u.aggregated.generation,
			.allocator = rec->u.aggregated.allocator,
		};
		report_aggregated(p->report, &ev, leaks ? rec->u.aggregated.n_allocations_leaked :
		    rec->u.aggregated.n_allocations_in_high_water_mark);
		return STREAM_GOES_ON;
	}
	case REC_MEMORY:
		if (p->samples != NULL)
			take_sample(p, rec);
		return STREAM_GOES_ON;
	default:	/* the capture's records: follow_record kept them back */
		return STREAM_GOES_ON;
	}
}

/*
 * One thread, before batches: the consumer of the decoder's loop
 * (record_queue_feed_consumer), which follows each record and takes it
 * there, as next_for_report and read_records do one at a time, and
 * stops once the stream ends or batches begin.  Against a call of the
 * queue and of the decoder for each record, with one thread: 18% fewer
 * instructions on json (callgrind, pointers taken either way), paired
 * cpu time 0.86x (json), 0.76x (keepall), 0.75x (native keep2000),
 * 0.87x (10^7 records of the default generated shape).
 */
__attribute__((always_inline)) inline bool
record_queue_consume(void *consumer, struct record *rec)
{
	struct pipeline *p = consumer;

	if (!follow_record(&p->follower, rec))
		return true;
	enum stream_state state = take_record(p, rec, p->statistics);
	p->stream = state;
	return state == STREAM_GOES_ON && !p->from_batches;
}

/* Returns false if the record stream cannot be reported (fatal). */
static bool
read_records(struct pipeline *p)
{
	const bool statistics = p->statistics;

	for (;;) {
		if (p->from_batches) {
			take_compact_run(p, statistics);
		} else if (record_queue_feed_consumer(p->queue, p)) {
			if (p->stream != STREAM_GOES_ON)
				return p->stream == STREAM_ENDED;
			continue;
		}
		enum stream_state state = take_record(p, next_for_report(p), statistics);
		if (state != STREAM_GOES_ON)
			return state == STREAM_ENDED;
	}
}

int
transform_run(int fd, FILE *out, const struct transform_options *opts)
{
	struct pipeline p = { .opts = opts };
	int status = 1;

	p.src = byte_source_open(fd);
	p.dec = record_decoder_new(p.src);
	if (!record_decoder_read_header(p.dec)) {
		error("%s (%s)", record_decoder_error(p.dec), record_decoder_error_place(p.dec));
		goto done;
	}
	const struct capture_header *h = record_decoder_header(p.dec);
	bool aggregated = h->file_format == FILE_FORMAT_AGGREGATED_ALLOCATIONS;
	if (aggregated && opts->mode == REPORT_TEMPORARY) {
		/* memray: "Can't find temporary allocations using a pre-aggregated capture file." */
		error("an aggregated capture (memray run --aggregate) has no temporary allocations");
		goto done;
	}
	if (aggregated && opts->writer->sample != NULL) {
		error("an aggregated capture (memray run --aggregate) has no allocations to follow "
		    "over time");
		goto done;
	}
	if (aggregated && opts->writer->statistics != NULL) {
		/* memray: "Can't compute statistics using a pre-aggregated capture file." */
		error("an aggregated capture (memray run --aggregate) has no statistics "
		    "of its allocations");
		goto done;
	}
	if (h->native_traces)
		p.symbols = native_symbols_new(opts->symfs, opts->cpu_threads);
	p.cap = capture_new(h);
	/* --thread picks rows of single threads (see pipeline_rows). */
	p.report = report_new(opts->mode, opts->threshold,
	    opts->split_threads || opts->n_threads > 0);
	if (opts->writer->sample != NULL) {
		p.samples = tmpfile();
		if (p.samples == NULL) {
			error("cannot create a temporary file for the memory samples: %s",
			    strerror(errno));
			goto done;
		}
		if (opts->n_threads > 0)
			report_track_threads(p.report);
	}
	/*
	 * From here until read_records returns, dec, src and the capture are
	 * the queue's (record_queue.h).  The report asks the capture nothing
	 * before then, but with an aggregated file (whose records name their
	 * threads) or -f timeline --thread (the threads' names as they stand
	 * at each sample): then the capture must not run ahead of the report,
	 * and the records come one at a time (no batches, no reader thread).
	 */
	p.follower.cap = p.cap;
	p.follower.follows_mappings = opts->mode != REPORT_TEMPORARY && !aggregated;
	live_mappings_init(&p.follower.mappings);
	capture_follow_report(p.cap, &p.follower.report);
	p.statistics = opts->writer->statistics != NULL;
	p.may_batch = !aggregated && !(opts->writer->sample != NULL && opts->n_threads > 0);
	/* One thread: see consider_batches. */
	p.from_batches = p.may_batch && opts->cpu_threads > 1;
	p.queue = record_queue_new(p.dec, p.src, p.from_batches ? QUEUE_READER_THREAD : QUEUE_DIRECT,
	    p.from_batches ? &p.follower : NULL);
	if (!read_records(&p))
		goto done;
	/* The state to render: at the last mark, or, for an aggregated file, at its end. */
	capture_mark_at(p.cap, aggregated ? UINT64_MAX : p.mark);
	if (p.samples != NULL) {
		status = write_samples(&p, out) ? 0 : 1;
		goto done;
	}
	if (opts->writer->statistics != NULL) {
		status = write_statistics(&p, out) ? 0 : 1;
		goto done;
	}
	warn_unknown_threads(&p);
	const struct report_row *rows;
	size_t n_rows = pipeline_rows(&p, &rows);
	if (check_generations(&p, rows, n_rows)) {
		write_report(&p, out, rows, n_rows);
		status = 0;
	}
done:
	pipeline_free(&p);
	return status;
}
