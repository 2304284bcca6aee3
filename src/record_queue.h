/*
 * record_queue: the records of a record_decoder, decoded into batches,
 * by a reader thread while the caller consumes them, or by the caller's
 * own thread each time it has taken a batch's last.
 *
 *   byte_source -> record_decoder -> [reader thread] -> batches -> consumer
 *
 * Records are decoded into fixed-size batches (their strings copied into
 * the batch's own storage; most allocation records in a compact form, 32
 * bytes, that the consumer can read as they are: record_queue_compact_run)
 * that pass to the consumer through a bounded ring of a few batches (one
 * without a reader thread): the reader waits when the ring is full, so
 * memory stays flat however long the capture.  A queue may also hand over
 * each record as it is decoded, with no batches.  Every way, the
 * consumer sees the same records in the same order, and the decoder's
 * state (error, counts, offsets) is what it would be: the reader stops at
 * the record that ends the stream.
 *
 * The decoder must have read the header; from record_queue_new until the
 * queue has returned REC_END or REC_ERROR, or is freed, it and its
 * byte_source belong to the reader: the caller asks them nothing but
 * record_decoder_header.  The reader blocks every signal, so that they
 * reach the main thread as they would without it.
 */
#ifndef MT_RECORD_QUEUE_H
#define MT_RECORD_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "byte_source.h"
#include "record_decoder.h"

struct record_queue;

/*
 * Work on the records as they are decoded, in the thread that decodes
 * them: what needs the records alone, in their order, moves with the
 * decoding to the reader thread.  Given a follower (record_queue_new),
 * the queue hands record_queue_follow every record once, in order, as it
 * is decoded; it may fill in the record's undecoded fields, and returns
 * whether the consumer gets the record (REC_END and REC_ERROR it must
 * pass on).  A record it keeps back costs no handover, and its strings
 * are not copied.
 *
 * The program that links the queue defines record_queue_follow
 * (memray-transform's follows the capture, in transform.c; the queue's
 * unit test has its own): a call that the linker resolves, which
 * link-time optimization inlines into the reader's loop.  Called through
 * a function pointer, as before, it cost the reader thread 5.6% more
 * instructions (callgrind, keep2000, peak) and 4% more wall time.
 */
bool record_queue_follow(void *follower, struct record *rec);

/* How the records reach the consumer. */
enum queue_mode {
	QUEUE_DIRECT,		/* each decoded as it is asked for, with no batches */
	QUEUE_BATCHES,		/* in batches, each decoded as the consumer needs it */
	QUEUE_READER_THREAD	/* in batches decoded ahead by a reader thread */
};

/*
 * Records of dec (reading src), the way mode says (QUEUE_BATCHES if a
 * reader thread cannot be started: the same records), each handed to
 * record_queue_follow first if follower is not NULL.  The follower, like
 * dec, is the reader's until the queue has returned REC_END or REC_ERROR.
 */
struct record_queue *record_queue_new(struct record_decoder *dec, struct byte_source *src,
    enum queue_mode mode, void *follower);

/*
 * From the next record on, a QUEUE_DIRECT queue hands its records over
 * in batches (QUEUE_BATCHES), each given to record_queue_follow(follower)
 * first: for a consumer that has followed the records so far itself, and
 * finds that it now wants records ahead (record_queue_peek).
 */
void record_queue_start_batches(struct record_queue *q, void *follower);

/*
 * Stop the reader thread if it still runs (after at most the batch it is
 * decoding, or the read(2) it waits in), and free the queue; dec and src
 * stay the caller's.
 */
void record_queue_free(struct record_queue *q);

/*
 * The next record, as record_decoder_next would return it: its strings
 * stay valid until the next call; REC_END and REC_ERROR repeat once
 * reached, and from then on the decoder is the caller's again.
 */
enum record_type record_queue_next(struct record_queue *q, struct record *rec);

/*
 * The same record in place, valid until the next call (the caller may
 * change it): for a consumer that reads a record's fields once, no copy
 * of it.
 */
struct record *record_queue_next_ref(struct record_queue *q);

/*
 * Without batches or a follower (QUEUE_DIRECT), the next records as far
 * as the decoder's fast path goes (record_decoder_feed: allocations,
 * frame pushes and pops), each handed to record_queue_consume(consumer,
 * rec) as it is decoded, until that returns false: the consumer follows
 * and takes them itself, with no call of the queue for each.  rec is
 * valid during the call (it has no strings).  Returns whether it handed
 * over any record; if not, or in another mode, the next one is for
 * record_queue_next_ref.  A consumer that calls
 * record_queue_start_batches must then return false: the loop does not
 * look at the queue's mode.  The program that calls it defines
 * record_queue_consume (memray-transform's, in transform.c), which
 * link-time optimization inlines into the decoder's loop.
 */
bool record_queue_consume(void *consumer, struct record *rec);
bool record_queue_feed_consumer(struct record_queue *q, void *consumer);

/*
 * A slot of the ring.  An allocation record with a thread, no mmap piece
 * or munmap changes and no capture error before it (nearly all of them)
 * crosses in one, compact: these fields are all it says, but for a
 * capture with native stacks, its struct slot_native.  Any other record
 * crosses whole, beside.
 */
struct record_slot {
	uint64_t address;
	uint64_t size;
	uint32_t stack;
	uint32_t thread;
	uint32_t offset_delta;		/* the record's offset less the run's base offset */
	uint8_t allocator;
	/* The queue's own: */
	bool compact;
	uint16_t whole;			/* not compact: its index among the whole ones */
};

/*
 * What a compact record of a capture with native stacks (its header's
 * native_traces) says beside its slot, in an array of its own, so that a
 * capture without them carries none.  One whose native stack id takes
 * more than 32 bits crosses whole.
 */
struct slot_native {
	uint32_t native_id;
	uint32_t generation;
};

/* Records that crossed the ring compact, in a row (record_queue_compact_run). */
struct compact_run {
	const struct record_slot *slots;
	const struct slot_native *natives;	/* natives[i] is slots[i]'s; NULL: no native stacks */
	uint64_t base_offset;			/* of the slots' offset_delta */
};

/*
 * With batches, the next records if they crossed the ring compact, as
 * many as follow one another in the batch at hand: returns how many, sets
 * *run, and takes them.  They stay valid until the next call that takes
 * a record.  0 if the next record is another, or not at hand yet (or
 * there are no batches): record_queue_next_ref then takes it.  A
 * consumer that loops over the run reads each record's fields once, from
 * the ring, and pays the queue's bookkeeping once a run, not once a
 * record.
 */
size_t record_queue_compact_run(struct record_queue *q, struct compact_run *run);

/* What record_queue_peek tells of a record ahead. */
struct record_glimpse {
	enum record_type type;
	uint64_t offset;
	/* An allocation record's (else 0): */
	uint64_t address;
	uint32_t thread;
	uint8_t allocator;
};

/*
 * The record `ahead` places after the one taken last (by
 * record_queue_next_ref, or the last of a record_queue_compact_run), if the queue
 * already holds it (in the batch being read): a look ahead for hints.
 * False if it does not.
 */
bool record_queue_peek(const struct record_queue *q, size_t ahead,
    struct record_glimpse *glimpse);
/* What record_queue_peek would tell of rec (for a caller's own records ahead). */
struct record_glimpse record_glimpse_of(const struct record *rec);

/*
 * The next records into recs[0..n), as record_decoder_next_batch returns
 * them (up to n, or up to and including REC_END or REC_ERROR; at least 1):
 * for a caller that looks at no strings, which may not survive the call,
 * and a queue with no follower.
 */
size_t record_queue_next_batch(struct record_queue *q, struct record *recs, size_t n);

/*
 * How far into the input (byte_source_input_offset) the records returned
 * so far reach, for --progress: with batches, the offset at the end of
 * the batch being consumed.
 */
uint64_t record_queue_input_offset(const struct record_queue *q);

#endif
