/*
 * record_decoder_internal.h: what the parts of the record decoder share.
 * Private: only record_decoder*.c include it.
 *
 * The decoder is split along the formats it reads, as zstd's lib/legacy is:
 *   record_decoder.c             the buffer, the header (formats 10-13),
 *                                the ALL_ALLOCATIONS records of formats
 *                                12-13 (and their fast path), the records
 *                                every format shares, the public API;
 *   record_decoder_legacy.c      the ALL_ALLOCATIONS records of formats
 *                                10-11 (their hot records here, for the
 *                                fast path to inline);
 *   record_decoder_aggregated.c  the AGGREGATED_ALLOCATIONS records of
 *                                formats 10-13.
 * Here: the decoder's state, the cursor a record is parsed from, the
 * helpers that take fields from it, and the parsers one part calls in
 * another.
 *
 * Each record is parsed from a cursor over the buffer.  A parse either
 * completes or reports that the buffer ended inside the record; decoder
 * state (deltas, pointer cache) is changed only once a record is complete,
 * so an incomplete record is simply parsed again after a refill.
 */
#ifndef MT_RECORD_DECODER_INTERNAL_H
#define MT_RECORD_DECODER_INTERNAL_H

#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "allocator.h"
#include "record_decoder.h"
#include "u64map.h"
#include "varint.h"

/* The pointer cache's entries (§3.3.6), and the ring that holds them (a power of two). */
#define POINTER_CACHE_SIZE 15
#define POINTER_RING 16

/* Record type bytes of formats 12 and 13 (doc/capture-format.md §3.1). */
enum {
	TYPE_TRAILER = 1,
	TYPE_MEMORY_RECORD = 2,
	TYPE_NATIVE_TRACE_INDEX = 5,
	TYPE_MEMORY_MAP_START = 6,
	TYPE_SEGMENT_HEADER = 7,
	TYPE_SEGMENT = 8,
	TYPE_THREAD_RECORD = 10,
	TYPE_CONTEXT_SWITCH = 12,
	TYPE_CODE_OBJECT = 14
};

enum parse {
	PARSE_OK,
	PARSE_SHORT,		/* the buffer ends inside the record */
	PARSE_BAD		/* dec->error says why (but see struct cursor) */
};

/*
 * The few functions of the per-record path.  gcc declines to inline
 * parse_hot_record and take_varint on its own, which costs 6% of all
 * instructions (callgrind, 10^6 generated records).
 */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

#define TRY(expr)                                                            \
	do {                                                                 \
		enum parse try_status_ = (expr);                             \
		if (try_status_ != PARSE_OK)                                 \
			return try_status_;                                  \
	} while (0)

struct cursor {
	const uint8_t *p;
	const uint8_t *end;
	/*
	 * Set only by the fast paths (record_decoder_next's and the batch
	 * loop), a constant that the compiler folds into their inlined parse.
	 * The record is known to end well before `end`, and at least 8 bytes
	 * can be read past any of its fields, so that take_u8 and take_varint
	 * need not check and take_size_fast may read ahead; and what the fast
	 * path leaves to next_slow (damage, a varint of more than 8 bytes)
	 * fails with PARSE_BAD but no message, as next_slow parses the record
	 * again.
	 */
	bool fits;
};

/*
 * The encoding state that the hot records (ALLOCATION, FRAME_PUSH and
 * FRAME_POP) change, apart from the pointer cache's entries: a struct of
 * its own, so that record_decoder_next_batch's fast path can keep a copy
 * in registers (stores into the records could otherwise alias it).
 */
struct hot_state {
	uint64_t last_data_ptr;
	uint64_t last_native_id;
	unsigned cache_front;
};

struct record_decoder {
	struct byte_source *src;
	uint8_t *buf;
	size_t cap, pos, end;
	size_t fast_end;	/* end if record_decoder_next may take its fast path, else 0 */
	uint64_t buf_offset;	/* stream offset of buf[0] */
	bool eof;
	bool finished;		/* REC_END or REC_ERROR was returned */
	enum record_type final_type;

	struct capture_header header;

	/* Encoding state (doc/capture-format.md §1.4, §3.2). */
	struct hot_state hot;
	uint64_t last_ip;
	int32_t last_firstlineno;
	/*
	 * A ring: cache slot k is pointer_cache[(hot.cache_front + k) % POINTER_RING].
	 * One entry more than the cache holds: the one before the front,
	 * which dropped out, and which the next miss takes (commit_pointer).
	 */
	uint64_t pointer_cache[POINTER_RING];
	uint64_t native_frames;		/* NATIVE_TRACE_INDEX records so far */
	uint64_t segments_pending;	/* SEGMENT records owed to a SEGMENT_HEADER */

	/* Formats 10 and 11 (§2.1). */
	bool legacy;			/* ALL_ALLOCATIONS records of formats 10-11 */
	uint64_t last_python_frame_id;
	int32_t last_python_line;
	struct u64map entry_frames;	/* frame id -> is_entry */
	/* Aggregated files. */
	uint64_t frame_indexes;		/* PYTHON_FRAME_INDEX records so far */
	bool has_pending;
	struct record pending;		/* a second record decoded from the last one */

	enum parse (*parse)(struct record_decoder *, struct cursor *, struct record *);
	/* The fast paths take pointers with masks (parse_allocation_fast), else branches. */
	bool branchless;
	enum pointer_path pointer_path;
	struct pointer_timing {
		uint64_t start_ns;		/* the thread's cpu time when the interval began; 0: none */
		uint64_t start_offset;		/* the stream offset then */
		uint64_t cost[2];		/* cpu ns a KiB, each way's running mean; 0: none */
		unsigned probe_every;		/* intervals from one try of the other way to the next */
		unsigned until_probe;		/* intervals left before the next try */
		bool probing;			/* this interval tries it */
	} pointer_timing;
	uint64_t counts[RECORD_TYPE_COUNT];
	char error[200];
	uint64_t error_offset;
	bool error_in_input;	/* error_offset counts input bytes, not stream bytes */
	char error_place[48];
};

/* Sets dec->error from fmt and returns PARSE_BAD. */
enum parse decoder_bad(struct record_decoder *dec, const char *fmt, ...);

static inline enum parse
take_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if ((size_t)(c->end - c->p) < n)
		return PARSE_SHORT;
	*out = c->p;
	c->p += n;
	return PARSE_OK;
}

static inline enum parse
take_u8(struct cursor *c, uint8_t *v)
{
	if (!c->fits && c->p == c->end)
		return PARSE_SHORT;
	*v = *c->p++;
	return PARSE_OK;
}

/* Fixed-width fields are little-endian (the writer's x86-64 or aarch64 memory). */
static inline uint64_t
le64(const uint8_t *b)
{
	/* Spelled out, compilers make it one load on little-endian machines. */
	return (uint64_t)b[0] | (uint64_t)b[1] << 8 | (uint64_t)b[2] << 16 | (uint64_t)b[3] << 24 |
	    (uint64_t)b[4] << 32 | (uint64_t)b[5] << 40 | (uint64_t)b[6] << 48 | (uint64_t)b[7] << 56;
}

static inline enum parse
take_u64(struct cursor *c, uint64_t *v)
{
	const uint8_t *b;

	TRY(take_bytes(c, 8, &b));
	*v = le64(b);
	return PARSE_OK;
}

static inline enum parse
take_i32(struct cursor *c, int32_t *v)
{
	const uint8_t *b;

	TRY(take_bytes(c, 4, &b));
	*v = (int32_t)((uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24);
	return PARSE_OK;
}

static inline enum parse
take_bool(struct record_decoder *dec, struct cursor *c, bool *v, const char *what)
{
	uint8_t b;

	TRY(take_u8(c, &b));
	if (b > 1)
		return decoder_bad(dec, "invalid %s flag %u", what, b);
	*v = b;
	return PARSE_OK;
}

/*
 * A varint of at most 8 bytes, read from 8 readable bytes without a loop
 * (its length changes from one varint to the next, so a loop's branches
 * would be mispredicted): the first byte without the continuation bit ends
 * it, and its 7-bit groups are packed together in three steps.  Returns
 * its length, or 0 if it is longer (*v then means nothing).
 */
static inline unsigned
varint_read8(const uint8_t *p, uint64_t *v)
{
	uint64_t x = le64(p);
	uint64_t ends = ~x & UINT64_C(0x8080808080808080);

	x &= (ends ^ (ends - 1)) & UINT64_C(0x7f7f7f7f7f7f7f7f);
	x = (x & UINT64_C(0x007f007f007f007f)) | (x & UINT64_C(0x7f007f007f007f00)) >> 1;
	x = (x & UINT64_C(0x00003fff00003fff)) | (x & UINT64_C(0x3fff00003fff0000)) >> 2;
	x = (x & UINT64_C(0x000000000fffffff)) | (x & UINT64_C(0x0fffffff00000000)) >> 4;
	*v = x;		/* set either way: parse_allocation_fast may drop it unread */
	if (ends == 0)
		return 0;
	return (unsigned)__builtin_ctzll(ends) / 8 + 1;
}

ALWAYS_INLINE enum parse
take_varint(struct record_decoder *dec, struct cursor *c, uint64_t *v)
{
	if (c->fits || c->end - c->p >= 8) {
		const uint8_t *p = c->p;
		/* Most varints of a capture (sizes, deltas, code ids) take one or two bytes. */
		if (p[0] < 0x80) {
			*v = p[0];
			c->p = p + 1;
			return PARSE_OK;
		}
		if (p[1] < 0x80) {
			*v = (p[0] & 0x7fu) | (uint64_t)p[1] << 7;
			c->p = p + 2;
			return PARSE_OK;
		}
		unsigned n = varint_read8(p, v);
		if (n > 0) {
			c->p = p + n;
			return PARSE_OK;
		}
	}
	if (c->fits)
		return PARSE_BAD;	/* longer than 8 bytes: for next_slow */
	enum varint_status st = varint_read(&c->p, c->end, v);
	if (st == VARINT_OK)
		return PARSE_OK;
	*v = 0;		/* never read: it tells the compiler so once this is inlined */
	return st == VARINT_SHORT ? PARSE_SHORT : decoder_bad(dec, "invalid varint");
}

ALWAYS_INLINE enum parse
take_svarint(struct record_decoder *dec, struct cursor *c, int64_t *v)
{
	uint64_t z;

	TRY(take_varint(dec, c, &z));
	*v = zigzag_decode(z);
	return PARSE_OK;
}

static inline enum parse
take_cstr(struct cursor *c, const char **s)
{
	const uint8_t *nul = memchr(c->p, 0, (size_t)(c->end - c->p));

	if (nul == NULL)
		return PARSE_SHORT;
	*s = (const char *)c->p;
	c->p = nul + 1;
	return PARSE_OK;
}

/*
 * decoder_bad() in the parse of a hot record, which the fast paths
 * inline: there (c->fits) it leaves the message to next_slow, so that
 * the fast path makes no call (and needs fewer registers).
 */
#define bad_hot(dec, c, ...) ((c)->fits ? PARSE_BAD : decoder_bad((dec), __VA_ARGS__))

/*
 * Formats 10-11 (§2.1): the record type in a type byte's low nibble,
 * flags in the high one.
 */
enum {
	TYPE_V11_TRAILER = 0,
	TYPE_V11_ALLOCATION = 1,
	TYPE_V11_ALLOCATION_WITH_NATIVE = 2,
	TYPE_V11_FRAME_INDEX = 3,
	TYPE_V11_FRAME_PUSH = 4,
	TYPE_V11_FRAME_POP = 9,
	TYPE_V11_MEMORY_RECORD = 11
};

/* Format 10-11 allocator ids, renumbered to today's: by the id in the flags (§2.1). */
extern const uint8_t decoder_allocators_v11[16];

static inline uint8_t
decoder_allocator_from_v11(unsigned id)
{
	return id < 16 ? decoder_allocators_v11[id] : 0;
}

/*
 * Whether a format 10-11 type byte is that of a hot record: ALLOCATION
 * (with or without native), FRAME_PUSH or FRAME_POP, nearly every record
 * (the fast path takes them).
 */
static inline bool
is_hot_type_v11(uint8_t byte)
{
	return (1u << TYPE_V11_ALLOCATION | 1u << TYPE_V11_ALLOCATION_WITH_NATIVE |
	    1u << TYPE_V11_FRAME_PUSH | 1u << TYPE_V11_FRAME_POP) >> (byte & 0x0f) & 1;
}

/*
 * Formats 10-11 ALLOCATION and ALLOCATION_WITH_NATIVE: the allocator in
 * the flags, a delta of the whole address (no cache, no >> 3), the size
 * (always for the native form), then the native id delta.
 */
ALWAYS_INLINE enum parse
parse_allocation_v11(struct record_decoder *dec, struct hot_state *st, struct cursor *c,
    uint8_t flags, bool native, struct record *rec)
{
	int64_t address_delta, native_delta = 0;
	uint64_t size = 0;
	uint8_t allocator = decoder_allocator_from_v11(flags);
	enum allocator_kind kind = allocator_kind(allocator);

	if (kind == ALLOCATOR_INVALID)
		return bad_hot(dec, c, "invalid allocator %u", flags);
	TRY(take_svarint(dec, c, &address_delta));
	if (native || kind != SIMPLE_DEALLOCATOR)
		TRY(take_varint(dec, c, &size));
	if (native)
		TRY(take_svarint(dec, c, &native_delta));
	uint64_t native_id = st->last_native_id + (uint64_t)native_delta;
	bool dealloc = allocator_is_deallocator(kind);
	if (native && !dealloc && native_id > dec->native_frames)
		return bad_hot(dec, c, "native frame id %" PRIu64 " out of range", native_id);
	st->last_data_ptr += (uint64_t)address_delta;
	st->last_native_id = native_id;
	rec->type = REC_ALLOCATION;
	rec->u.alloc.address = st->last_data_ptr;
	rec->u.alloc.size = size;
	rec->u.alloc.allocator = allocator;
	rec->u.alloc.native_id = native && !dealloc ? native_id : 0;
	return PARSE_OK;
}

/*
 * The rest of a format 10-11 hot record (is_hot_type_v11), whose type
 * byte was read.  A FRAME_PUSH names a frame of an earlier FRAME_INDEX,
 * which said whether it is an entry frame.
 */
ALWAYS_INLINE enum parse
parse_hot_record_v11(struct record_decoder *dec, struct hot_state *st, struct cursor *c,
    uint8_t byte, struct record *rec)
{
	uint8_t type = byte & 0x0f, flags = byte >> 4;

	if (type == TYPE_V11_ALLOCATION || type == TYPE_V11_ALLOCATION_WITH_NATIVE)
		return parse_allocation_v11(dec, st, c, flags, type == TYPE_V11_ALLOCATION_WITH_NATIVE, rec);
	if (type == TYPE_V11_FRAME_POP) {
		rec->type = REC_FRAME_POP;
		rec->u.pop.count = flags + 1u;
		return PARSE_OK;
	}
	int64_t delta;
	uint32_t is_entry = 1;
	TRY(take_svarint(dec, c, &delta));
	dec->last_python_frame_id += (uint64_t)delta;
	u64map_get(&dec->entry_frames, dec->last_python_frame_id, &is_entry);
	rec->type = REC_FRAME_PUSH;
	rec->u.push.code_id = dec->last_python_frame_id;
	rec->u.push.instruction_offset = 0;
	rec->u.push.is_entry = is_entry;
	return PARSE_OK;
}

/* Records of formats 12-13 that the other formats and file kinds share (record_decoder.c). */
enum parse decoder_parse_common(struct record_decoder *dec, struct cursor *c, uint8_t type,
    struct record *rec);
enum parse decoder_parse_memory_record(struct record_decoder *dec, struct cursor *c,
    struct record *rec);
enum parse decoder_parse_code_object(struct record_decoder *dec, struct cursor *c,
    struct record *rec);

/* Formats 10-11 (record_decoder_legacy.c). */
enum parse decoder_parse_record_v11(struct record_decoder *dec, struct cursor *c,
    struct record *rec);

/* AGGREGATED_ALLOCATIONS files (record_decoder_aggregated.c). */
enum parse decoder_parse_aggregated(struct record_decoder *dec, struct cursor *c,
    struct record *rec);

#endif
