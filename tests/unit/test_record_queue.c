/*
 * test_record_queue: the records a reader thread decodes ahead
 * (record_queue.h) are those record_decoder_next returns, in order, with
 * their strings, across many batches: names that fill a batch's string
 * storage (the record then goes to the next batch), a name larger than
 * that storage, a stream cut short (REC_ERROR and the decoder's error
 * afterwards), a queue freed before the end, the records in batches
 * (record_queue_next_batch, as --info reads them), and a follower that
 * works on the records as they are decoded and keeps some back, and a
 * consumer fed from the decoder's loop without batches.
 */
#include <check.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "allocator.h"
#include "byte_source.h"
#include "capture_builder.h"
#include "live_mappings.h"
#include "record_decoder.h"
#include "record_queue.h"
#include "support.h"

/* Record type bytes of format 13 (doc/capture-format.md §3.1). */
enum {
	TYPE_TRAILER = 1,
	TYPE_SEGMENT_HEADER = 7,
	TYPE_SEGMENT = 8,
	TYPE_THREAD_RECORD = 10,
	TYPE_CONTEXT_SWITCH = 12,
	TYPE_CODE_OBJECT = 14,
	TYPE_FRAME_POP_1 = 0x10,
	/* ALLOCATION: this | cache slot << 3 | allocator id (1-7); slot 15: the address follows */
	TYPE_ALLOCATION = 0x80
};

/* Names up to this long; one name is HUGE_NAME long, more than a batch's strings. */
#define MAX_NAME 600
#define HUGE_NAME 200000
#define ROUNDS 4000

/*
 * A capture of ROUNDS rounds of names, code objects and frame pops;
 * trailer if whole.  native: its header says it has native stacks (its
 * allocations' native stack ids are all 0: the follower of test_follower
 * gives them others).
 */
static void
build_native_capture(struct capture_builder *b, bool whole, bool native)
{
	const struct capture_header_fields fields = {
		.version = 13, .python_version = 0x030B07F0, .command_line = "test", .libdest = "",
		.python_allocator = 1, .native_traces = native,
	};
	char *name = malloc(HUGE_NAME + 1);

	ck_assert_ptr_nonnull(name);
	builder_header(b, &fields);
	builder_u8(b, TYPE_CONTEXT_SWITCH);
	builder_le(b, 1, 8);
	for (unsigned i = 0; i < ROUNDS; i++) {
		size_t len = i == ROUNDS / 2 ? HUGE_NAME : 1 + (size_t)rng() % MAX_NAME;
		memset(name, 'a' + (char)(i % 26), len);
		name[len] = '\0';
		builder_u8(b, TYPE_THREAD_RECORD);
		builder_cstr(b, name);
		builder_u8(b, TYPE_CODE_OBJECT);
		builder_varint(b, i);
		builder_cstr(b, name + len / 2);
		builder_cstr(b, "file.py");
		builder_svarint(b, 1);
		builder_varint(b, i % 5);
		for (unsigned j = 0; j < i % 5; j++)
			builder_u8(b, (uint8_t)(i + j));
		if (i % 100 == 0) {
			builder_u8(b, TYPE_SEGMENT_HEADER);
			builder_cstr(b, name + len / 3);
			builder_varint(b, 1);
			builder_le(b, 0x400000, 8);
			builder_u8(b, TYPE_SEGMENT);
			builder_le(b, 0x1000, 8);
			builder_varint(b, 0x2000);
		}
		for (unsigned j = 0; j < 1 + i % 7; j++)
			builder_u8(b, TYPE_FRAME_POP_1);
		/* A malloc at a new address (8 bytes on), and every other round a free of it. */
		builder_u8(b, TYPE_ALLOCATION | 15 << 3 | ALLOC_MALLOC);
		builder_svarint(b, 1);
		if (native)
			builder_svarint(b, 0);	/* the native stack id's change */
		builder_varint(b, 1 + i % 300);
		if (i % 2 == 0)
			builder_u8(b, TYPE_ALLOCATION | 0 << 3 | ALLOC_FREE);
	}
	if (whole) {
		builder_u8(b, TYPE_TRAILER);
	} else {
		builder_u8(b, TYPE_THREAD_RECORD);
		builder_cstr(b, "cut short");
		b->len -= 3;	/* "cut sh", no NUL */
	}
	free(name);
}

static void
build_capture(struct capture_builder *b, bool whole)
{
	build_native_capture(b, whole, false);
}

/* A decoder over the bytes (through a temporary file), its header read. */
struct reader {
	FILE *file;
	struct byte_source *src;
	struct record_decoder *dec;
};

static void
reader_open(struct reader *r, const struct capture_builder *b)
{
	r->file = tmpfile();
	ck_assert_ptr_nonnull(r->file);
	ck_assert_uint_eq(fwrite(b->data, 1, b->len, r->file), b->len);
	ck_assert_int_eq(fflush(r->file), 0);
	ck_assert_int_eq(lseek(fileno(r->file), 0, SEEK_SET), 0);
	r->src = byte_source_open(fileno(r->file));
	r->dec = record_decoder_new(r->src);
	ck_assert_msg(record_decoder_read_header(r->dec), "%s", record_decoder_error(r->dec));
}

static void
reader_close(struct reader *r)
{
	record_decoder_free(r->dec);
	byte_source_close(r->src);
	fclose(r->file);
}

static bool
same_string(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether two records are the same, strings compared by content. */
static bool
same_record(const struct record *a, const struct record *b)
{
	if (a->type != b->type || a->offset != b->offset)
		return false;
	switch (a->type) {
	case REC_THREAD_NAME:
		return same_string(a->u.thread.name, b->u.thread.name);
	case REC_CODE_OBJECT:
		return a->u.code.id == b->u.code.id && a->u.code.firstlineno == b->u.code.firstlineno &&
		    same_string(a->u.code.function, b->u.code.function) &&
		    same_string(a->u.code.file, b->u.code.file) &&
		    a->u.code.linetable_len == b->u.code.linetable_len &&
		    memcmp(a->u.code.linetable, b->u.code.linetable, a->u.code.linetable_len) == 0;
	case REC_SEGMENT_HEADER:
		return same_string(a->u.segment_header.filename, b->u.segment_header.filename) &&
		    a->u.segment_header.num_segments == b->u.segment_header.num_segments &&
		    a->u.segment_header.load_address == b->u.segment_header.load_address;
	case REC_SEGMENT:
		return a->u.segment.vaddr == b->u.segment.vaddr &&
		    a->u.segment.memsz == b->u.segment.memsz;
	case REC_CONTEXT_SWITCH:
		return a->u.context_switch.tid == b->u.context_switch.tid;
	case REC_FRAME_POP:
		return a->u.pop.count == b->u.pop.count;
	case REC_ALLOCATION:
		/* What is decoded: the follower fills in the rest (test_follower). */
		return a->u.alloc.address == b->u.alloc.address && a->u.alloc.size == b->u.alloc.size &&
		    a->u.alloc.native_id == b->u.alloc.native_id &&
		    a->u.alloc.allocator == b->u.alloc.allocator;
	default:
		return true;
	}
}

/*
 * Through a queue with batches (mode: filled by a reader thread, or as
 * they are needed), the capture (build_capture(whole)) gives the records
 * a decoder gives, ending with `last`; the decoder is then left as the
 * other one is.  Each record is compared after the next one of the queue
 * was asked for: so its strings must live until then only.
 */
static void
check_same_records(enum queue_mode mode, bool whole, enum record_type last)
{
	struct capture_builder b = { 0 };
	struct reader direct, queued;
	struct record expected, got;
	uint64_t n = 0, input_offset = 0;

	build_capture(&b, whole);
	reader_open(&direct, &b);
	reader_open(&queued, &b);
	struct record_queue *q = record_queue_new(queued.dec, queued.src, mode, NULL);
	do {
		record_decoder_next(direct.dec, &expected);
		record_queue_next(q, &got);
		ck_assert_msg(same_record(&expected, &got), "record %" PRIu64 " (type %d, not %d)", n,
		    got.type, expected.type);
		ck_assert_uint_ge(record_queue_input_offset(q), input_offset);
		input_offset = record_queue_input_offset(q);
		n++;
	} while (got.type != REC_END && got.type != REC_ERROR);
	ck_assert_int_eq(got.type, last);
	ck_assert_uint_gt(n, 10 * 2048);	/* many batches */
	/* REC_END and REC_ERROR repeat. */
	ck_assert_int_eq(record_queue_next(q, &got), last);
	ck_assert_uint_eq(input_offset, byte_source_input_offset(direct.src));
	ck_assert_uint_eq(record_decoder_offset(queued.dec), record_decoder_offset(direct.dec));
	ck_assert_mem_eq(record_decoder_counts(queued.dec), record_decoder_counts(direct.dec),
	    RECORD_TYPE_COUNT * sizeof(uint64_t));
	if (last == REC_ERROR) {
		ck_assert_str_eq(record_decoder_error(queued.dec), record_decoder_error(direct.dec));
		ck_assert_str_eq(record_decoder_error_place(queued.dec),
		    record_decoder_error_place(direct.dec));
	}
	record_queue_free(q);
	reader_close(&queued);
	reader_close(&direct);
	builder_free(&b);
}

/* The loop tests' modes: 0, QUEUE_DIRECT; 1, QUEUE_BATCHES; 2, QUEUE_READER_THREAD. */
static const enum queue_mode modes[] = { QUEUE_DIRECT, QUEUE_BATCHES, QUEUE_READER_THREAD };

START_TEST(test_whole_capture)
{
	check_same_records(modes[_i], true, REC_END);
}
END_TEST

START_TEST(test_capture_cut_short)
{
	check_same_records(modes[_i], false, REC_ERROR);
}
END_TEST

/*
 * record_queue_next_batch with batches: the records in the same order
 * (types and offsets: a batch's strings are not to be used), the last
 * one REC_END, which then repeats.
 */
START_TEST(test_batches)
{
	struct capture_builder b = { 0 };
	struct reader direct, queued;
	struct record expected, got[300];
	uint64_t n = 0;
	size_t k;

	build_capture(&b, true);
	reader_open(&direct, &b);
	reader_open(&queued, &b);
	struct record_queue *q = record_queue_new(queued.dec, queued.src, modes[_i], NULL);
	do {
		k = record_queue_next_batch(q, got, 300);
		ck_assert_uint_ge(k, 1);
		ck_assert_uint_le(k, 300);
		for (size_t i = 0; i < k; i++, n++) {
			record_decoder_next(direct.dec, &expected);
			ck_assert_msg(got[i].type == expected.type && got[i].offset == expected.offset,
			    "record %" PRIu64, n);
			/* Only a batch's last record may end the stream. */
			ck_assert(i == k - 1 || (got[i].type != REC_END && got[i].type != REC_ERROR));
		}
	} while (got[k - 1].type != REC_END);
	ck_assert_uint_eq(record_queue_next_batch(q, got, 300), 1);
	ck_assert_int_eq(got[0].type, REC_END);
	ck_assert_uint_eq(record_queue_next_batch(q, got, 0), 0);
	record_queue_free(q);
	reader_close(&queued);
	reader_close(&direct);
	builder_free(&b);
}
END_TEST

/* Freed before the end, while the reader waits for room or decodes: it stops. */
START_TEST(test_freed_early)
{
	struct capture_builder b = { 0 };
	struct reader r;
	struct record rec;

	build_capture(&b, true);
	for (unsigned taken = 0; taken < 5000; taken += 1000) {
		reader_open(&r, &b);
		struct record_queue *q = record_queue_new(r.dec, r.src, QUEUE_READER_THREAD, NULL);
		for (unsigned i = 0; i < taken; i++)
			ck_assert_int_ne(record_queue_next(q, &rec), REC_END);
		record_queue_free(q);
		reader_close(&r);
	}
	builder_free(&b);
}
END_TEST

/* Without batches, the queue is the decoder. */
START_TEST(test_direct)
{
	struct capture_builder b = { 0 };
	struct reader r;
	struct record rec;
	uint64_t n = 0;

	build_capture(&b, true);
	reader_open(&r, &b);
	struct record_queue *q = record_queue_new(r.dec, r.src, QUEUE_DIRECT, NULL);
	while (record_queue_next(q, &rec) != REC_END) {
		ck_assert_int_ne(rec.type, REC_ERROR);
		n++;
	}
	ck_assert_uint_eq(record_queue_input_offset(q), byte_source_input_offset(r.src));
	ck_assert_uint_gt(n, 10 * 2048);
	record_queue_free(q);
	reader_close(&r);
	builder_free(&b);
}
END_TEST

/*
 * record_queue_peek: with batches, the records ahead in the batch at hand
 * are those that record_queue_next_ref then returns (offsets, types, and
 * an allocation's address, thread and allocator compared), and most
 * records have some ahead; without, none.
 */
static void
check_glimpse(const struct record_glimpse *g, const struct record *rec)
{
	ck_assert_uint_eq(g->offset, rec->offset);
	ck_assert_int_eq(g->type, rec->type);
	if (rec->type == REC_ALLOCATION) {
		ck_assert_uint_eq(g->address, rec->u.alloc.address);
		ck_assert_uint_eq(g->thread, rec->u.alloc.thread);
		ck_assert_uint_eq(g->allocator, rec->u.alloc.allocator);
	}
}

/* record_glimpse_of: an allocation's fields, none of another record's union. */
START_TEST(test_glimpse_of)
{
	struct record rec = { .type = REC_ALLOCATION, .offset = 77 };
	rec.u.alloc.address = 0x1000;
	rec.u.alloc.thread = 3;
	rec.u.alloc.allocator = 4;
	struct record_glimpse g = record_glimpse_of(&rec);
	check_glimpse(&g, &rec);

	struct record push = { .type = REC_FRAME_PUSH, .offset = 78 };
	push.u.push.code_id = 0x1000;
	g = record_glimpse_of(&push);
	check_glimpse(&g, &push);
	ck_assert_uint_eq(g.address, 0);
	ck_assert_uint_eq(g.thread, 0);
	ck_assert_uint_eq(g.allocator, 0);
}
END_TEST

START_TEST(test_peek)
{
	struct capture_builder b = { 0 };
	struct reader r;
	bool batched = modes[_i] != QUEUE_DIRECT;
	struct record_glimpse expected[3], next;
	uint64_t n = 0, with_ahead = 0, allocations = 0;
	bool known[3] = { false };

	build_capture(&b, true);
	reader_open(&r, &b);
	struct record_queue *q = record_queue_new(r.dec, r.src, modes[_i], NULL);
	const struct record *got;
	do {
		got = record_queue_next_ref(q);
		/* What the peeks of the record before said this one and the next two would be. */
		if (known[0]) {
			check_glimpse(&expected[0], got);
			allocations += got->type == REC_ALLOCATION;
		}
		expected[0] = expected[1];
		known[0] = known[1];
		expected[1] = expected[2];
		known[1] = known[2];
		known[2] = false;
		for (size_t ahead = 1; ahead <= 3; ahead++) {
			if (!record_queue_peek(q, ahead, &next))
				continue;
			ck_assert(batched);
			if (known[ahead - 1])
				ck_assert_uint_eq(next.offset, expected[ahead - 1].offset);
			expected[ahead - 1] = next;
			known[ahead - 1] = true;
		}
		with_ahead += record_queue_peek(q, 3, &next);
		n++;
	} while (got->type != REC_END);
	if (batched) {
		ck_assert_uint_gt(with_ahead, n * 9 / 10);
		ck_assert_uint_gt(allocations, ROUNDS);
	} else {
		ck_assert_uint_eq(with_ahead, 0);
	}
	record_queue_free(q);
	reader_close(&r);
	builder_free(&b);
}
END_TEST

/*
 * The follower (record_queue_follow, which a program that links the
 * queue defines: this test's, here) sees every record once, in order:
 * it keeps back frame pops
 * and code objects, and writes what it counts into fields the consumer
 * then reads.  It makes some allocations mmaps with a piece and some
 * munmaps with changes, kept in its own array, which the next munmap
 * overwrites: the queue must carry a copy.  With native stacks, it gives
 * about half the allocations native stack ids, half of those past 32 bits.
 */
struct counting_follower {
	uint64_t seen;
	bool native;
	struct mapping_change changes[3];
};

/* The native stack id the follower gives the record it saw `seen` records in, if native. */
static uint64_t
follower_native_id(uint64_t seen)
{
	return seen % 4 == 0 ? seen : seen % 4 == 1 ? seen << 32 : 0;
}

/* The allocator the follower gives the record it saw `seen` records in, and a munmap's changes. */
static uint8_t
follower_allocator(uint64_t seen, uint8_t decoded)
{
	return seen % 5 == 1 ? ALLOC_MMAP : seen % 5 == 2 ? ALLOC_MUNMAP : decoded;
}

static struct mapping_change
follower_change(uint64_t seen, uint32_t i)
{
	return (struct mapping_change){ seen + i, (uint32_t)seen, i, INTERVAL_SHRUNK };
}

bool
record_queue_follow(void *follower, struct record *rec)
{
	struct counting_follower *h = follower;
	uint64_t seen = h->seen++;

	if (rec->type == REC_ALLOCATION) {
		/* The fields a follower fills in, some in a compact slot, some not (a generation). */
		rec->u.alloc.stack = (uint32_t)seen;
		rec->u.alloc.thread = (uint32_t)seen * 3;
		rec->u.alloc.generation = seen % 3 == 0 ? (uint32_t)seen : 0;
		if (h->native)
			rec->u.alloc.native_id = follower_native_id(seen);
		rec->after_capture_error = seen % 7 == 0;
		rec->u.alloc.allocator = follower_allocator(seen, rec->u.alloc.allocator);
		if (rec->u.alloc.allocator == ALLOC_MMAP)
			rec->u.alloc.piece = (uint32_t)seen;
		if (rec->u.alloc.allocator == ALLOC_MUNMAP) {
			rec->u.alloc.n_changes = (uint32_t)(seen % 4);
			for (uint32_t i = 0; i < rec->u.alloc.n_changes; i++)
				h->changes[i] = follower_change(seen, i);
			rec->u.alloc.changes = h->changes;
		}
	} else {
		/* The record's place in the stream, beside its offset. */
		rec->offset = rec->offset << 20 | (seen & 0xfffff);
	}
	return rec->type != REC_FRAME_POP && rec->type != REC_CODE_OBJECT;
}

/*
 * The record slot i of a record_queue_compact_run stands for: an
 * allocation with none of the fields a compact record does not carry.
 */
static struct record
compact_record(const struct compact_run *run, size_t i)
{
	const struct record_slot *slot = &run->slots[i];
	struct record rec = { .type = REC_ALLOCATION, .offset = run->base_offset + slot->offset_delta };

	rec.u.alloc.address = slot->address;
	rec.u.alloc.size = slot->size;
	rec.u.alloc.stack = slot->stack;
	rec.u.alloc.thread = slot->thread;
	rec.u.alloc.allocator = slot->allocator;
	if (run->natives != NULL) {
		rec.u.alloc.native_id = run->natives[i].native_id;
		rec.u.alloc.generation = run->natives[i].generation;
	}
	return rec;
}

/*
 * With a follower, in each mode: the consumer gets the records the
 * follower keeps, as it left them, in order, the others not at all; the
 * follower saw every record once, REC_END included.  Taken with
 * record_queue_next_ref alone (loops 0 to 2), or with
 * record_queue_compact_run first (3 to 5): with batches, it takes the
 * allocations that crossed compact (no mmap or munmap, no generation, no
 * capture error), runs of them, the same as next_ref would give them;
 * without, none.  Loops 6 to 11 do the same with a capture that has
 * native stacks, where a generation and a native stack id of 32 bits
 * cross compact too.
 */
START_TEST(test_follower)
{
	struct capture_builder b = { 0 };
	struct reader direct, queued;
	struct record expected, compact;
	struct compact_run run = { 0 };
	size_t run_len = 0, run_at = 0, longest_run = 0;
	uint64_t n = 0, kept = 0, allocations = 0, compacts = 0, native_compacts = 0;
	enum queue_mode mode = modes[_i % 3];
	bool try_compact = _i % 6 >= 3, native = _i >= 6;

	build_native_capture(&b, true, native);
	reader_open(&direct, &b);
	reader_open(&queued, &b);
	struct counting_follower h = { .native = native };
	struct record_queue *q = record_queue_new(queued.dec, queued.src, mode, &h);
	const struct record *got;
	do {
		do {
			record_decoder_next(direct.dec, &expected);
			n++;
		} while (expected.type == REC_FRAME_POP || expected.type == REC_CODE_OBJECT);
		if (try_compact && run_len == 0) {
			run_len = record_queue_compact_run(q, &run);
			run_at = 0;
			longest_run = run_len > longest_run ? run_len : longest_run;
			ck_assert(run_len == 0 || (run.natives != NULL) == native);
		}
		if (run_len > 0) {
			compact = compact_record(&run, run_at++);
			run_len--;
			got = &compact;
			compacts++;
			native_compacts += got->u.alloc.native_id != 0;
		} else {
			got = record_queue_next_ref(q);
		}
		ck_assert_int_eq(got->type, expected.type);
		if (got->type == REC_ALLOCATION) {
			uint64_t seen = n - 1;
			expected.u.alloc.allocator = follower_allocator(seen, expected.u.alloc.allocator);
			if (native)
				expected.u.alloc.native_id = follower_native_id(seen);
			ck_assert(same_record(got, &expected));
			if (got->u.alloc.allocator == ALLOC_MMAP)
				ck_assert_uint_eq(got->u.alloc.piece, (uint32_t)seen);
			if (got->u.alloc.allocator == ALLOC_MUNMAP) {
				ck_assert_uint_eq(got->u.alloc.n_changes, seen % 4);
				for (uint32_t i = 0; i < got->u.alloc.n_changes; i++) {
					const struct mapping_change *c = &got->u.alloc.changes[i];
					struct mapping_change want = follower_change(seen, i);
					ck_assert(c->removed == want.removed && c->piece == want.piece &&
					    c->new_piece == want.new_piece && c->kind == want.kind);
				}
			}
			ck_assert_uint_eq(got->offset, expected.offset);
			ck_assert_uint_eq(got->u.alloc.stack, (uint32_t)seen);
			ck_assert_uint_eq(got->u.alloc.thread, (uint32_t)seen * 3);
			ck_assert_uint_eq(got->u.alloc.generation, seen % 3 == 0 ? (uint32_t)seen : 0);
			ck_assert_int_eq(got->after_capture_error, seen % 7 == 0);
			allocations++;
		} else {
			ck_assert_uint_eq(got->offset >> 20, expected.offset);
			ck_assert_uint_eq(got->offset & 0xfffff, (n - 1) & 0xfffff);
		}
		if (got->type == REC_THREAD_NAME)
			ck_assert_str_eq(got->u.thread.name, expected.u.thread.name);
		kept++;
	} while (got->type != REC_END);
	ck_assert_uint_eq(h.seen, n);
	ck_assert_uint_lt(kept, n / 2);
	ck_assert_uint_eq(allocations, ROUNDS * 3 / 2);
	if (mode != QUEUE_DIRECT && try_compact) {
		/* About a third could (fewer, at the end of a run or a batch). */
		ck_assert_uint_gt(compacts, allocations / 4);
		ck_assert_uint_gt(longest_run, 1);
		if (native)
			ck_assert_uint_gt(native_compacts, compacts / 4);
	} else {
		ck_assert_uint_eq(compacts, 0);
	}
	record_queue_free(q);
	reader_close(&queued);
	reader_close(&direct);
	builder_free(&b);
}
END_TEST

/*
 * The consumer of record_queue_feed_consumer (record_queue_consume, which
 * a program that links the queue defines: this test's, here): each
 * record it is handed must be the next that a decoder of its own gives.
 * It refuses more after every STOP_EVERY-th, which must leave the rest
 * to the queue in order.
 */
#define STOP_EVERY 5
struct checking_consumer {
	struct record_decoder *direct;
	uint64_t handed;
	bool refused;			/* since the last record_queue_feed_consumer */
};

bool
record_queue_consume(void *consumer, struct record *rec)
{
	struct checking_consumer *c = consumer;
	struct record expected;

	ck_assert_msg(!c->refused, "handed a record after refusing one");
	record_decoder_next(c->direct, &expected);
	ck_assert_msg(same_record(rec, &expected), "handed record %" PRIu64 " (type %d, not %d)",
	    c->handed, rec->type, expected.type);
	ck_assert(rec->type == REC_ALLOCATION || rec->type == REC_FRAME_POP);
	c->refused = ++c->handed % STOP_EVERY == 0;
	return !c->refused;
}

/*
 * Without batches or a follower, a consumer fed from the decoder's loop
 * and record_queue_next_ref between its runs see every record once, in
 * order, with native stacks or not, pointers taken either way
 * (_i: bit 0 native, bit 1 masks); with batches, none is fed.
 */
START_TEST(test_consumer)
{
	struct capture_builder b = { 0 };
	struct reader direct, queued;
	struct record expected;
	uint64_t taken = 0, feeds = 0;
	bool native = _i & 1;

	build_native_capture(&b, true, native);
	reader_open(&direct, &b);
	reader_open(&queued, &b);
	record_decoder_set_pointer_path(queued.dec,
	    _i & 2 ? POINTER_PATH_MASKS : POINTER_PATH_BRANCHES);
	struct checking_consumer c = { direct.dec, 0, false };
	struct record_queue *q = record_queue_new(queued.dec, queued.src, QUEUE_DIRECT, NULL);
	for (;;) {
		c.refused = false;
		if (record_queue_feed_consumer(q, &c)) {
			feeds++;
			continue;
		}
		const struct record *got = record_queue_next_ref(q);
		record_decoder_next(direct.dec, &expected);
		ck_assert(same_record(got, &expected));
		taken++;
		if (got->type == REC_END)
			break;
	}
	/* A record's pops and allocations: most come through the decoder's loop, in many runs. */
	ck_assert_uint_gt(c.handed, taken);
	ck_assert_uint_gt(feeds, c.handed / STOP_EVERY);
	ck_assert_uint_eq(record_decoder_offset(queued.dec), record_decoder_offset(direct.dec));
	ck_assert_mem_eq(record_decoder_counts(queued.dec), record_decoder_counts(direct.dec),
	    RECORD_TYPE_COUNT * sizeof(uint64_t));
	record_queue_free(q);

	/* With batches: nothing for the consumer. */
	reader_close(&queued);
	reader_open(&queued, &b);
	q = record_queue_new(queued.dec, queued.src, QUEUE_BATCHES, NULL);
	ck_assert(!record_queue_feed_consumer(q, &c));
	record_queue_free(q);
	reader_close(&queued);
	reader_close(&direct);
	builder_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("record_queue");
	TCase *tc = tcase_create("core");

	/* The loops' index: modes[] (test_follower: modes[_i % 3]). */
	tcase_add_loop_test(tc, test_whole_capture, 1, 3);
	tcase_add_loop_test(tc, test_capture_cut_short, 1, 3);
	tcase_add_loop_test(tc, test_batches, 1, 3);
	tcase_add_test(tc, test_freed_early);
	tcase_add_test(tc, test_direct);
	tcase_add_test(tc, test_glimpse_of);
	tcase_add_loop_test(tc, test_peek, 0, 3);
	/* 3 to 5 and 9 to 11 take compact records first; 6 to 11 have native stacks. */
	tcase_add_loop_test(tc, test_follower, 0, 12);
	tcase_add_loop_test(tc, test_consumer, 0, 4);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
