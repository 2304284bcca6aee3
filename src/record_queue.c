/* record_queue: records decoded into batches, ahead by a reader thread or not (see record_queue.h). */

#include "record_queue.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "allocator.h"
#include "live_mappings.h"
#include "prefetch.h"
#include "xmalloc.h"

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

/*
 * Records per batch, and batches in the ring: enough that a lock is taken
 * once per thousands of records, and that the consumer rarely waits for
 * the reader to wake up (a ring of 16 batches, 2 MiB of records, ran the
 * default bench shape with --threads 2 in 0.84x the wall time of 4;
 * 1024 x 8 and 2048 x 8 were no faster than 2048 x 4, 256 x 8 and
 * 512 x 8 slower: see ChangeLog).  A thread that waits waits for half
 * the ring, so that it sleeps and is woken once per several batches.
 */
#define BATCH_RECORDS 2048
#define RING_BATCHES 16
/* A batch's string storage at first; it grows only for a record alone larger. */
#define BATCH_STRINGS 65536

/*
 * One word into the ring: if `streamed` (a batch for a reader thread's
 * consumer), with a non-temporal store, which goes to memory past the
 * caches.  A plain store must first take the cache line back from the
 * consumer's core, which read it one lap of the ring ago, and the reader
 * thread spent as much time waiting on those transfers as decoding: with
 * --threads 2 on 10^7 records (wall time, least of 5 interleaved), the
 * churn shape took 0.70x the time (raw) and 0.69x (lz4),
 * --temporary-allocations 0.73x, --mmap-share 50 0.81x, the default shape
 * and 2,000,000 live blocks as long (1.01x, 1.02x) for 8% and 4% less cpu
 * time.  The consumer reads the records in order and asks for them ahead
 * (transform.c, SLOTS_AHEAD).  (Claiming the lines ahead with prefetchw,
 * the way before, left half of that wait.)  Else, and elsewhere than
 * x86-64, a plain store: a batch that the consumer's own thread fills is
 * read back from the caches.
 */
static inline void
store_word(long long *dst, uint64_t word, bool streamed)
{
#if defined(__x86_64__) && defined(__SSE2__)
	if (streamed) {
		_mm_stream_si64(dst, (long long)word);
		return;
	}
#else
	(void)streamed;
#endif
	memcpy(dst, &word, sizeof word);
}

/* Copy size bytes (whole words) into the ring, word by word (store_word). */
static inline void
store_in_ring(void *dst, const void *src, size_t size, bool streamed)
{
	for (size_t i = 0; i < size / sizeof(long long); i++) {
		uint64_t word;
		memcpy(&word, (const char *)src + i * sizeof word, sizeof word);
		store_word((long long *)dst + i, word, streamed);
	}
}

/* Make the streaming stores visible before the batch is handed over. */
static inline void
store_streaming_done(void)
{
#if defined(__x86_64__) && defined(__SSE2__)
	_mm_sfence();
#endif
}

/*
 * A record as the ring holds it (struct record_slot, record_queue.h).
 * Nearly all that cross are allocation records, whose fields (but a
 * native stack's) fit in 32 bytes, where a struct record takes 88: such
 * a record crosses compact, the others whole in the batch's `whole`
 * array, which the slot names.  With --threads 2 on 10^7 records (wall
 * time, least of 5 interleaved, against whole records streamed): churn
 * 0.30 -> 0.27 s (0.90x, lz4 too), --temporary-allocations 0.94x,
 * --mmap-share 50 0.94x (least of 3), the default shape, 2,000,000 live
 * and a threshold of 100000 as long (1.00-1.01x).
 */
_Static_assert(sizeof(struct record_slot) == 32, "two slots to a cache line");
_Static_assert(offsetof(struct record_slot, thread) == 20 &&
    offsetof(struct record_slot, offset_delta) == 24 &&
    offsetof(struct record_slot, allocator) == 28 &&
    offsetof(struct record_slot, compact) == 29 &&
    offsetof(struct record_slot, whole) == 30, "store_slot's words");

/*
 * Store slot s into dst (streamed past the caches if `streamed`): on
 * x86-64 its four words composed in registers.  A slot built on the
 * stack (stores of 1 to 16 bytes) and read back by words, or by halves,
 * stalled the thread on every slot, as a load cannot take its bytes from
 * several stores still in flight: 45% of the samples of hand_over (as it
 * was) fell on one such load.  Elsewhere (byte orders differ), a copy.
 */
static inline void
store_slot(struct record_slot *dst, const struct record_slot *s, bool streamed)
{
#if defined(__x86_64__) && defined(__SSE2__)
	long long *words = (long long *)dst;

	store_word(words, s->address, streamed);
	store_word(words + 1, s->size, streamed);
	store_word(words + 2, s->stack | (uint64_t)s->thread << 32, streamed);
	store_word(words + 3, s->offset_delta | (uint64_t)s->allocator << 32 |
	    (uint64_t)s->compact << 40 | (uint64_t)s->whole << 48, streamed);
#else
	(void)streamed;
	*dst = *s;
#endif
}
_Static_assert(BATCH_RECORDS <= UINT16_MAX + 1, "whole indices fit a slot");

struct batch {
	struct record_slot slots[BATCH_RECORDS];
	struct record whole[BATCH_RECORDS];	/* the records not compact, in order */
	struct slot_native natives[BATCH_RECORDS];	/* of the compact slots, with native stacks */
	uint16_t whole_at[BATCH_RECORDS];	/* the slot of each */
	size_t n, n_whole;
	uint64_t first_offset;		/* the base of its slots' offset_delta (fill_batch) */
	/* The strings of the records (names, files, line tables), copied out of the decoder. */
	char *strings;
	size_t strings_len, strings_cap;
	uint64_t input_offset;		/* byte_source_input_offset after its last record */
	bool last;			/* its last record is REC_END or REC_ERROR */
	/*
	 * Filled by a reader thread: stored past the caches (store_word).
	 * Else the caches keep it for the consumer, who reads it next: a
	 * batch written past them would be read back from memory.
	 */
	bool streamed;
	bool native;			/* the capture has native stacks: natives[] */
};

struct record_queue {
	struct record_decoder *dec;
	struct byte_source *src;
	void *follower;			/* NULL: none (record_queue_follow) */
	enum queue_mode mode;
	pthread_t reader;
	/*
	 * Shared, under lock: the ring's batches are ring[0..RING_BATCHES)
	 * in turn; published counts those the reader handed over and the
	 * consumer has not released (the one it reads included).  The
	 * reader fills a batch only while published < RING_BATCHES, so
	 * never one the consumer holds.
	 */
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	unsigned published;
	bool stop;			/* record_queue_free: the reader must end */
	bool reader_done;		/* it has published the stream's last record */
	struct batch *ring;		/* RING_BATCHES of them with a reader thread, else one */
	unsigned n_batches;		/* the ring's (alloc_ring) */
	/* QUEUE_BATCHES: a record left for the next batch (see fill_batch). */
	struct record pending;
	bool has_pending;
	/* The consumer's: the batch it reads, if holding one (its next record: see cursor). */
	unsigned read_slot;
	bool holding;
	uint64_t input_offset;
	/*
	 * Without a reader thread: the record just decoded; with one, the
	 * stream's last as it repeats, or a compact record on its way into
	 * record_queue_next_batch's array.
	 */
	struct record current;
	/*
	 * With one, the held batch's slots not yet taken (none without), and
	 * that batch's first_offset (a copy, so that record_queue_next_ref
	 * need not find the batch: about 4 instructions a record).  A compact
	 * slot is read once, as it is taken: record_queue_compact_run hands
	 * the consumer the slots themselves, record_queue_next_ref fills them
	 * into `compact`, whose constant fields are set once (init_compact).
	 * (Before, chunks of 32 records were filled ahead, so that the
	 * consumer did not read back wide what it had just stored narrow: 24
	 * instructions a record that reading each slot once saves; see
	 * ChangeLog.)  next_whole: the held batch's whole records before it
	 * are behind the cursor (record_queue_compact_run).
	 */
	const struct record_slot *cursor, *cursor_end;
	uint64_t first_offset;
	size_t next_whole;
	struct record compact;
};

/* The bytes a record's strings take, NULs included. */
static size_t
strings_size(const struct record *rec)
{
	switch (rec->type) {
	case REC_THREAD_NAME:
		return rec->u.thread.name ? strlen(rec->u.thread.name) + 1 : 0;
	case REC_CODE_OBJECT:
		return (rec->u.code.function ? strlen(rec->u.code.function) + 1 : 0) +
		    (rec->u.code.file ? strlen(rec->u.code.file) + 1 : 0) +
		    rec->u.code.linetable_len;
	case REC_SEGMENT_HEADER:
		return rec->u.segment_header.filename ?
		    strlen(rec->u.segment_header.filename) + 1 : 0;
	case REC_ALLOCATION:
		/* A munmap's changes, aligned (keep_changes). */
		return allocator_kind(rec->u.alloc.allocator) != RANGED_DEALLOCATOR ? 0 :
		    _Alignof(struct mapping_change) - 1 +
		    rec->u.alloc.n_changes * sizeof *rec->u.alloc.changes;
	default:
		return 0;
	}
}

/* A copy of len bytes at p in b's strings (which have room), or NULL for NULL. */
static const void *
keep(struct batch *b, const void *p, size_t len)
{
	if (p == NULL)
		return NULL;
	char *copy = b->strings + b->strings_len;
	memcpy(copy, p, len);
	b->strings_len += len;
	return copy;
}

static const char *
keep_string(struct batch *b, const char *s)
{
	return keep(b, s, s ? strlen(s) + 1 : 0);
}

/* A copy of a munmap's n changes in b's strings (which have room), aligned for them. */
static const struct mapping_change *
keep_changes(struct batch *b, const struct mapping_change *changes, size_t n)
{
	size_t align = _Alignof(struct mapping_change);

	b->strings_len = (b->strings_len + align - 1) / align * align;
	return keep(b, changes, n * sizeof *changes);
}

/*
 * Point rec's strings (and a munmap's changes) at copies in b.  False if they do not fit beside
 * the strings b has already: the record goes to the next batch.  A batch
 * with no strings yet grows for it, so every record fits in one.
 */
static bool
keep_strings(struct batch *b, struct record *rec)
{
	size_t need = strings_size(rec);

	if (need == 0)
		return true;
	if (b->strings_cap - b->strings_len < need) {
		if (b->strings_len > 0)
			return false;
		b->strings = xrealloc(b->strings, need);
		b->strings_cap = need;
	}
	switch (rec->type) {
	case REC_THREAD_NAME:
		rec->u.thread.name = keep_string(b, rec->u.thread.name);
		break;
	case REC_CODE_OBJECT:
		rec->u.code.function = keep_string(b, rec->u.code.function);
		rec->u.code.file = keep_string(b, rec->u.code.file);
		rec->u.code.linetable = keep(b, rec->u.code.linetable, rec->u.code.linetable_len);
		break;
	case REC_ALLOCATION:
		rec->u.alloc.changes = keep_changes(b, rec->u.alloc.changes, rec->u.alloc.n_changes);
		break;
	default:
		rec->u.segment_header.filename = keep_string(b, rec->u.segment_header.filename);
		break;
	}
	return true;
}

/*
 * Whether rec crosses in a compact slot, which keeps all that it says
 * (not an mmap's piece nor a munmap's changes; a native stack and
 * generation only in natives[], with native stacks).  A record with no
 * thread (an error the consumer reports) crosses whole, so that a loop
 * over compact slots need not look for one: the report thread's
 * instructions (callgrind, --threads 2) on bench/workload.py's json
 * 1,326 M -> 1,279 M (-3.6%), keepall -4.8%.
 */
static inline __attribute__((always_inline)) bool
fits_compact(const struct batch *b, const struct record *rec, bool native)
{
	return rec->type == REC_ALLOCATION && !rec->after_capture_error &&
	    rec->u.alloc.thread != NO_THREAD &&
	    (native ? rec->u.alloc.native_id <= UINT32_MAX :
	    rec->u.alloc.native_id == 0 && rec->u.alloc.generation == 0) &&
	    !allocator_id_is_ranged(rec->u.alloc.allocator) &&
	    rec->offset - b->first_offset <= UINT32_MAX;
}

/*
 * v, in a register: a read that the compiler may not merge with the next
 * one (see hand_over_compact).
 */
static inline uint64_t
in_register(uint64_t v)
{
	__asm__("" : "+r"(v));
	return v;
}

/*
 * Put rec, which fits_compact, into b's next slot, streamed past the
 * caches.  Its address is read alone: gcc read it and the size with one
 * 16-byte load, which cannot take its bytes from the decoder's two
 * 8-byte stores still in flight, and perf put a quarter of the reader
 * thread's samples (keepall) on the stall that followed.
 */
static inline void
hand_over_compact(struct batch *b, const struct record *rec, bool native)
{
	struct record_slot slot = {
		.address = in_register(rec->u.alloc.address), .size = rec->u.alloc.size,
		.stack = rec->u.alloc.stack, .thread = rec->u.alloc.thread,
		.offset_delta = (uint32_t)(rec->offset - b->first_offset),
		.allocator = rec->u.alloc.allocator, .compact = true,
	};

	if (native) {
		struct slot_native place = { (uint32_t)rec->u.alloc.native_id, rec->u.alloc.generation };
		store_in_ring(&b->natives[b->n], &place, sizeof place, b->streamed);
	}
	store_slot(&b->slots[b->n++], &slot, b->streamed);
}

/* Put rec, whose strings b keeps, into b's `whole` array and next slot, streamed. */
static void
hand_over_whole(struct batch *b, const struct record *rec)
{
	store_in_ring(&b->whole[b->n_whole], rec, sizeof *rec, b->streamed);
	b->whole_at[b->n_whole] = (uint16_t)b->n;
	store_slot(&b->slots[b->n++], &(struct record_slot){ .whole = (uint16_t)b->n_whole++ },
	    b->streamed);
}

/*
 * Put rec, followed, into b: compact if it fits (nearly every record: an
 * allocation, with no strings), else whole with its strings.  False if
 * its strings do not fit beside b's (b is left as it was).  native:
 * b->native, which the decoder's loops pass as a constant
 * (record_decoder_take), so that fits_compact's and hand_over_compact's
 * tests of it fold away: the reader thread's instructions (callgrind,
 * --threads 2, pointers taken with branches) on bench/workload.py's
 * keepall 4,175 M -> 4,028 M (-3.5%); wall time 0.98-0.99x.
 */
static inline __attribute__((always_inline)) bool
hand_over(struct batch *b, struct record *rec, bool native)
{
	if (fits_compact(b, rec, native)) {
		hand_over_compact(b, rec, native);
		return true;
	}
	if (!keep_strings(b, rec))
		return false;
	hand_over_whole(b, rec);
	return true;
}

/*
 * What fill_batch hands the decoder's loop (record_decoder_feed): the
 * batch, and where to leave a record whose strings do not fit in it.
 */
struct batch_feed {
	void *follower;			/* the queue's (a copy: one load less a record) */
	struct batch *b;
	struct record *pending;
	bool has_pending;
};

/*
 * A hot record, from inside the decoder's loop: followed and handed over.
 * Returns whether the loop goes on: not once the batch is full, or a
 * record is left pending.  always_inline: four loops call it
 * (record_decoder.c), and gcc would otherwise keep it, and fits_compact,
 * out of line.
 */
__attribute__((always_inline)) inline bool
record_decoder_take(void *taker, struct record *rec, bool native)
{
	struct batch_feed *feed = taker;

	/* Kept back: the next record takes its place. */
	if (feed->follower != NULL && !record_queue_follow(feed->follower, rec))
		return true;
	if (!hand_over(feed->b, rec, native)) {
		*feed->pending = *rec;
		feed->has_pending = true;
		return false;
	}
	return feed->b->n < BATCH_RECORDS;
}

/*
 * A hot record, from inside the decoder's loop, for a consumer without
 * batches (record_queue_feed_consumer): followed by the consumer itself.
 */
__attribute__((always_inline)) inline bool
record_decoder_take_direct(void *taker, struct record *rec, bool native)
{
	(void)native;
	return record_queue_consume(taker, rec);
}

/*
 * Decode into b until it is full, or the stream ends (returns true).  A
 * record whose strings did not fit is left in *pending (its strings still
 * in the decoder's buffer or the follower's, as neither is called again
 * before it is copied into the next batch).
 */
static bool
fill_batch(struct record_queue *q, struct batch *b, struct record *pending, bool *has_pending)
{
	bool ended = false;
	/*
	 * Decoded here when the decoder's loop does not take the record (see
	 * record_decoder_feed).  The fields the decoder leaves (for the
	 * follower) are set once, not left undefined.
	 */
	struct record decoded = { 0 }, *rec = &decoded;

	b->n = 0;
	b->n_whole = 0;
	b->strings_len = 0;
	/* At or before the offset of every record the batch takes (the follower may keep some back). */
	b->first_offset = *has_pending ? pending->offset : record_decoder_offset(q->dec);
	while (b->n < BATCH_RECORDS && !ended) {
		if (*has_pending) {
			*rec = *pending;
			*has_pending = false;
		} else {
			/* Nearly every record: from the decoder's loop into the batch (record_decoder_take). */
			struct batch_feed feed = { q->follower, b, pending, false };
			if (record_decoder_feed(q->dec, &feed)) {
				*has_pending = feed.has_pending;
				if (*has_pending)
					break;
				continue;	/* full, or the next record is not the loop's */
			}
			rec->type = record_decoder_next(q->dec, rec);
			/* Kept back: the next record takes its place. */
			if (q->follower != NULL && !record_queue_follow(q->follower, rec))
				continue;
		}
		if (!hand_over(b, rec, b->native)) {
			*pending = *rec;
			*has_pending = true;
			break;
		}
		ended = rec->type == REC_END || rec->type == REC_ERROR;
	}
	if (b->streamed)
		store_streaming_done();
	b->input_offset = byte_source_input_offset(q->src);
	b->last = ended;
	return ended;
}

/* The reader thread: fill the ring's batches in turn until the stream ends or stop. */
static void *
reader_main(void *arg)
{
	struct record_queue *q = arg;
	struct record pending;
	bool has_pending = false, ended = false;

	for (unsigned slot = 0; !ended; slot = (slot + 1) % RING_BATCHES) {
		pthread_mutex_lock(&q->lock);
		/* Full: wait until half the ring is free, so as to wake once per several batches. */
		if (q->published == RING_BATCHES)
			while (q->published > RING_BATCHES / 2 && !q->stop)
				pthread_cond_wait(&q->not_full, &q->lock);
		bool stop = q->stop;
		pthread_mutex_unlock(&q->lock);
		if (stop)
			break;
		ended = fill_batch(q, &q->ring[slot], &pending, &has_pending);
		pthread_mutex_lock(&q->lock);
		q->reader_done = ended;
		/* The consumer, if it waits, waits for half the ring (see next_batch) or the end. */
		if (++q->published == RING_BATCHES / 2 || ended)
			pthread_cond_signal(&q->not_empty);
		pthread_mutex_unlock(&q->lock);
	}
	return NULL;
}

/*
 * The ring's batches: RING_BATCHES for a reader thread (streamed), else
 * one.  In huge pages (xtable_new): glibc had put the ring on its heap,
 * in 4 KiB pages, each a fault at the reader's first store.  Paired
 * against 59ebc78 (9 rounds): page faults on compileall 691 -> 546, on
 * the default shape (10^7) 676 -> 537; wall time 0.97x (leaves) to
 * 1.00x (compileall, memray itself, fib, json), 0.98x on the default
 * shape; CPU time 0.94x (leaves) to 1.02x (json).
 */
static void
alloc_ring(struct record_queue *q, bool streamed)
{
	q->n_batches = streamed ? RING_BATCHES : 1;
	q->ring = xtable_new(q->n_batches, sizeof *q->ring);
	for (unsigned i = 0; i < q->n_batches; i++) {
		q->ring[i].strings = xmalloc(BATCH_STRINGS);
		q->ring[i].strings_cap = BATCH_STRINGS;
		q->ring[i].streamed = streamed;
		q->ring[i].native = record_decoder_header(q->dec)->native_traces;
	}
}

static void
free_ring(struct record_queue *q)
{
	if (q->ring == NULL)
		return;
	for (unsigned i = 0; i < q->n_batches; i++)
		free(q->ring[i].strings);
	xtable_free(q->ring, q->n_batches, sizeof *q->ring);
	q->ring = NULL;
}

/*
 * Start the reader, with every signal blocked so that none is handled in
 * it; false (and nothing to free) if it cannot be.
 */
static bool
start_reader(struct record_queue *q)
{
	sigset_t all, old;

	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_full, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int err = pthread_create(&q->reader, NULL, reader_main, q);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err == 0)
		return true;
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	pthread_mutex_destroy(&q->lock);
	return false;
}

/* Copy into `into` what compact slot `slot` of b says that varies from record to record. */
static inline void
fill_compact(const struct batch *b, const struct record_slot *slot, struct record *into)
{
	into->offset = b->first_offset + slot->offset_delta;
	into->u.alloc.address = slot->address;
	into->u.alloc.size = slot->size;
	into->u.alloc.stack = slot->stack;
	into->u.alloc.thread = slot->thread;
	into->u.alloc.allocator = slot->allocator;
	if (b->native) {
		const struct slot_native *native = &b->natives[slot - b->slots];
		into->u.alloc.native_id = native->native_id;
		into->u.alloc.generation = native->generation;
	}
}

/* Set the fields of `into` that are the same in every compact record. */
static void
init_compact(struct record *into)
{
	into->type = REC_ALLOCATION;
	into->after_capture_error = false;
	into->u.alloc.native_id = 0;
	into->u.alloc.generation = 0;
}

/* Records from now on in batches: a ring for a reader thread (streamed), else of one. */
static void
use_batches(struct record_queue *q, bool streamed)
{
	init_compact(&q->compact);
	alloc_ring(q, streamed);
	q->mode = streamed ? QUEUE_READER_THREAD : QUEUE_BATCHES;
}

struct record_queue *
record_queue_new(struct record_decoder *dec, struct byte_source *src, enum queue_mode mode,
    void *follower)
{
	struct record_queue *q = xcalloc(1, sizeof *q);

	q->dec = dec;
	q->src = src;
	q->follower = follower;
	q->mode = mode;
	if (mode == QUEUE_DIRECT)
		return q;
	use_batches(q, mode == QUEUE_READER_THREAD);
	/* No thread to be had (EAGAIN): the records are the same without one. */
	if (mode == QUEUE_READER_THREAD && !start_reader(q)) {
		free_ring(q);
		use_batches(q, false);
	}
	return q;
}

void
record_queue_start_batches(struct record_queue *q, void *follower)
{
	/* Nothing decoded is held: the next record comes from the first batch (next_past_batch). */
	q->follower = follower;
	use_batches(q, false);
}

void
record_queue_free(struct record_queue *q)
{
	if (q == NULL)
		return;
	if (q->mode == QUEUE_READER_THREAD) {
		pthread_mutex_lock(&q->lock);
		q->stop = true;
		pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->lock);
		pthread_join(q->reader, NULL);
		pthread_cond_destroy(&q->not_empty);
		pthread_cond_destroy(&q->not_full);
		pthread_mutex_destroy(&q->lock);
	}
	free_ring(q);
	free(q);
}

/*
 * The record in slot i of b: its whole record, or the compact one filled
 * into `into`, whose fields that every compact record shares are set
 * already (init_compact).
 */
static inline struct record *
record_in(struct batch *b, size_t i, struct record *into)
{
	const struct record_slot *slot = &b->slots[i];

	if (!slot->compact)
		return &b->whole[slot->whole];
	fill_compact(b, slot, into);
	return into;
}

/* record_in for any record `into`. */
static struct record *
record_at(struct batch *b, size_t i, struct record *into)
{
	init_compact(into);
	return record_in(b, i, into);
}

/* The record in the held batch's next slot, taken. */
static inline struct record *
take_ref(struct record_queue *q)
{
	struct batch *b = &q->ring[q->read_slot];

	return record_in(b, (size_t)(q->cursor++ - b->slots), &q->compact);
}

/* The slot of the consumer's next record in the batch it holds. */
static size_t
next_slot(const struct record_queue *q)
{
	return (size_t)(q->cursor - q->ring[q->read_slot].slots);
}

/*
 * The reader thread's next batch, once the consumer has taken the last
 * record of the one it holds (if any): that one released, the next one,
 * waited for if need be.
 */
static struct batch *
take_published_batch(struct record_queue *q)
{
	struct batch *b = &q->ring[q->read_slot];

	if (q->holding) {
		pthread_mutex_lock(&q->lock);
		if (--q->published == RING_BATCHES / 2)
			pthread_cond_signal(&q->not_full);
		pthread_mutex_unlock(&q->lock);
		q->read_slot = (q->read_slot + 1) % RING_BATCHES;
		b = &q->ring[q->read_slot];
	}
	/*
	 * Empty: wait until half the ring is full, or the reader is done, so
	 * as to wake once per several batches, not for each one.
	 */
	pthread_mutex_lock(&q->lock);
	if (q->published == 0)
		while (q->published < RING_BATCHES / 2 && !q->reader_done)
			pthread_cond_wait(&q->not_empty, &q->lock);
	pthread_mutex_unlock(&q->lock);
	return b;
}

/*
 * The next record from the ring when the batch being read has none left
 * (or none is held yet): the next batch, the reader thread's or (without
 * one) decoded here into the ring's only one.  Kept out of line, like
 * next_past_batch, so that record_queue_next_ref stays small.
 */
static __attribute__((noinline)) struct record *
next_batch(struct record_queue *q)
{
	struct batch *b = &q->ring[q->read_slot];

	/* The stream's last record, REC_END or REC_ERROR, repeats; the batch stays held. */
	if (q->holding && b->last)
		return record_at(b, b->n - 1, &q->current);
	if (q->mode == QUEUE_READER_THREAD)
		b = take_published_batch(q);
	else
		fill_batch(q, b, &q->pending, &q->has_pending);
	q->holding = true;
	q->input_offset = b->input_offset;
	q->cursor = b->slots;
	q->cursor_end = b->slots + b->n;
	q->first_offset = b->first_offset;
	q->next_whole = 0;
	return take_ref(q);	/* every batch has a record */
}

/* No batches and nothing to follow: the decoder's records go to the consumer as they are. */
static bool
decodes_for_consumer(const struct record_queue *q)
{
	return q->mode == QUEUE_DIRECT && q->follower == NULL;
}

/* The next record when the held batch has none left (or there are no batches). */
static __attribute__((noinline)) struct record *
next_past_batch(struct record_queue *q)
{
	if (q->mode == QUEUE_DIRECT) {
		do
			q->current.type = record_decoder_next(q->dec, &q->current);
		while (q->follower != NULL && !record_queue_follow(q->follower, &q->current));
		return &q->current;
	}
	return next_batch(q);
}

struct record *
record_queue_next_ref(struct record_queue *q)
{
	if (q->cursor != q->cursor_end)
		return take_ref(q);
	/*
	 * One thread, nothing to follow: decode in place without the call
	 * through next_past_batch (3-7% fewer instructions per capture).
	 */
	if (decodes_for_consumer(q)) {
		q->current.type = record_decoder_next(q->dec, &q->current);
		return &q->current;
	}
	return next_past_batch(q);
}

bool
record_queue_feed_consumer(struct record_queue *q, void *consumer)
{
	return decodes_for_consumer(q) && record_decoder_feed_direct(q->dec, consumer);
}

size_t
record_queue_compact_run(struct record_queue *q, struct compact_run *run)
{
	const struct record_slot *end = q->cursor_end;

	if (q->cursor == end || !q->cursor->compact)
		return 0;
	/*
	 * The run ends at the first whole record past the cursor, if any
	 * (whole_at is in order).  Scanning the slots' compact flags instead
	 * cost the report's thread 3.3% more instructions on keepall, 1.9%
	 * on the default shape (callgrind).
	 */
	const struct batch *b = &q->ring[q->read_slot];
	size_t at = (size_t)(q->cursor - b->slots);
	while (q->next_whole < b->n_whole && b->whole_at[q->next_whole] < at)
		q->next_whole++;
	if (q->next_whole < b->n_whole)
		end = b->slots + b->whole_at[q->next_whole];
	run->slots = q->cursor;
	run->natives = b->native ? &b->natives[at] : NULL;
	run->base_offset = q->first_offset;
	q->cursor = end;
	return (size_t)(end - run->slots);
}

bool
record_queue_peek(const struct record_queue *q, size_t ahead, struct record_glimpse *glimpse)
{
	/* The slots not taken yet: none without batches. */
	if ((size_t)(q->cursor_end - q->cursor) < ahead)
		return false;
	const struct record_slot *slot = q->cursor - 1 + ahead;
	if (slot->compact) {
		*glimpse = (struct record_glimpse){
			.type = REC_ALLOCATION, .offset = q->first_offset + slot->offset_delta,
			.address = slot->address, .thread = slot->thread, .allocator = slot->allocator,
		};
	} else {
		*glimpse = record_glimpse_of(&q->ring[q->read_slot].whole[slot->whole]);
	}
	return true;
}

struct record_glimpse
record_glimpse_of(const struct record *rec)
{
	bool allocation = rec->type == REC_ALLOCATION;

	return (struct record_glimpse){
		.type = rec->type, .offset = rec->offset,
		.address = allocation ? rec->u.alloc.address : 0,
		.thread = allocation ? rec->u.alloc.thread : 0,
		.allocator = allocation ? rec->u.alloc.allocator : 0,
	};
}

enum record_type
record_queue_next(struct record_queue *q, struct record *rec)
{
	*rec = *record_queue_next_ref(q);
	return rec->type;
}

size_t
record_queue_next_batch(struct record_queue *q, struct record *recs, size_t n)
{
	if (q->mode == QUEUE_DIRECT)
		return record_decoder_next_batch(q->dec, recs, n);
	if (n == 0)
		return 0;
	/* One record as record_queue_next gives it (the next batch, or the end again), */
	enum record_type type = record_queue_next(q, &recs[0]);
	if (type == REC_END || type == REC_ERROR)
		return 1;
	/* then the rest of its batch, up to n: a REC_END or REC_ERROR is a batch's last. */
	struct batch *b = &q->ring[q->read_slot];
	size_t next = next_slot(q);
	size_t take = b->n - next < n - 1 ? b->n - next : n - 1;
	for (size_t i = 1; i <= take; i++)
		recs[i] = *record_at(b, next++, &q->current);
	q->cursor = b->slots + next;
	return 1 + take;
}

uint64_t
record_queue_input_offset(const struct record_queue *q)
{
	return q->mode != QUEUE_DIRECT ? q->input_offset : byte_source_input_offset(q->src);
}
