/*
 * record_decoder: the header and the records of a capture (see record_decoder.h).
 *
 * This part reads the buffer and the header of every format (10-13),
 * decodes the ALL_ALLOCATIONS records of formats 12-13 with their fast
 * path (which also takes the hot records of formats 10-11, in batches),
 * and the records all formats share; record_decoder_legacy.c and
 * record_decoder_aggregated.c decode the rest (see
 * record_decoder_internal.h).
 */
#include "record_decoder.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "allocator.h"
#include "record_decoder_internal.h"
#include "u64map.h"
#include "xmalloc.h"

#define INITIAL_BUFFER (256 * 1024)
/*
 * Refill before a record when fewer bytes than the longest fixed-size
 * record remain (the fast path of record_decoder_next relies on it).
 */
#define REFILL_THRESHOLD 64
/* A longer record (a string or line table) is taken for damage, not data. */
#define MAX_RECORD_SIZE (256u * 1024 * 1024)

static const uint8_t MAGIC[MAGIC_LENGTH] = { 'm', 'e', 'm', 'r', 'a', 'y', 0 };

enum parse
decoder_bad(struct record_decoder *dec, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dec->error, sizeof dec->error, fmt, ap);
	va_end(ap);
	return PARSE_BAD;
}

/*
 * A list of non-empty strings ended by an empty one (header fields 18-19):
 * *first is the first string and *count the number of them.
 */
static enum parse
take_cstr_list(struct cursor *c, const char **first, size_t *count)
{
	const char *s;

	*first = (const char *)c->p;
	*count = 0;
	for (;;) {
		TRY(take_cstr(c, &s));
		if (*s == '\0')
			return PARSE_OK;
		(*count)++;
	}
}

/* A NULL-terminated copy of count consecutive strings from first. */
static char **
copy_cstr_list(const char *first, size_t count)
{
	char **list = xreallocarray(NULL, count + 1, sizeof *list);

	for (size_t i = 0; i < count; i++) {
		list[i] = xstrdup(first);
		first += strlen(first) + 1;
	}
	list[count] = NULL;
	return list;
}

static void
free_cstr_list(char **list)
{
	for (size_t i = 0; list != NULL && list[i] != NULL; i++)
		free(list[i]);
	free(list);
}

/*
 * The fast paths' two ways with pointers (parse_allocation_fast): masks
 * cost more instructions, branches cost a mispredicted branch whenever
 * hits and misses do not follow a pattern the processor learns.  On a real
 * program's capture they do (bench/workload.py keepall, --info, least of
 * 8: 0.14 s with branches, 0.17 s with masks); on the generated default
 * shape, where an allocation misses and half the frees hit, they do not
 * (10^8 records: 1.28 s with branches, 1.06 s with masks).  So each
 * interval of POINTER_TIMING_BYTES of the stream is timed in the thread's
 * cpu time (what the decoder's thread spends, on whatever else it does
 * too, but not while it waits); the way whose intervals cost less (a
 * running mean, as one interval can be slowed by a neighbour) is kept,
 * and the other tried again for one interval: POINTER_PROBE_FIRST
 * intervals later, twice as many after each try that loses, up to
 * POINTER_PROBE_LAST (a try costs: with one in 16, the reader thread on
 * keepall ran 3-5% slower than with branches alone).  A clock_gettime
 * takes about 1.3 us here: 0.2% of an interval.
 */
#define POINTER_TIMING_BYTES (1u << 20)
#define POINTER_PROBE_FIRST 16
#define POINTER_PROBE_LAST 128

static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
time_pointer_paths(struct record_decoder *dec)
{
	uint64_t offset = dec->buf_offset + dec->pos;
	struct pointer_timing *t = &dec->pointer_timing;

	if (dec->legacy || dec->pointer_path != POINTER_PATH_TIMED ||
	    offset - t->start_offset < POINTER_TIMING_BYTES)
		return;	/* formats 10-11 cache no pointers */
	uint64_t now = thread_cpu_ns();
	if (t->start_ns != 0 && now > t->start_ns) {
		/* +1: a cost of 0 means none measured. */
		uint64_t cost = (now - t->start_ns) * 1024 / (offset - t->start_offset) + 1;
		uint64_t *mean = &t->cost[dec->branchless];
		*mean = *mean == 0 ? cost : (3 * *mean + cost) / 4;
		if (t->cost[0] == 0 || t->cost[1] == 0) {
			dec->branchless = t->cost[1] == 0;	/* branches first, then masks */
			t->probe_every = t->until_probe = POINTER_PROBE_FIRST;
		} else {
			bool faster = t->cost[1] < t->cost[0];
			if (t->probing) {
				/* A try that wins starts the count again; one that loses doubles it. */
				if (faster == dec->branchless)
					t->probe_every = POINTER_PROBE_FIRST;
				else if (t->probe_every < POINTER_PROBE_LAST)
					t->probe_every *= 2;
				t->until_probe = t->probe_every;
				t->probing = false;
			} else {
				t->probing = --t->until_probe == 0;
			}
			dec->branchless = t->probing ? !faster : faster;
		}
	}
	t->start_ns = now;
	t->start_offset = offset;
}

void
record_decoder_set_pointer_path(struct record_decoder *dec, enum pointer_path path)
{
	dec->pointer_path = path;
	if (path != POINTER_PATH_TIMED)
		dec->branchless = dec->legacy || path == POINTER_PATH_MASKS;
}

/*
 * Refill the buffer: keep the unread bytes, read more.  Returns false if
 * nothing more could be had (end of data, or a record too long).
 */
static bool
refill(struct record_decoder *dec)
{
	if (dec->eof)
		return false;
	time_pointer_paths(dec);
	if (dec->pos > 0) {
		memmove(dec->buf, dec->buf + dec->pos, dec->end - dec->pos);
		dec->buf_offset += dec->pos;
		dec->end -= dec->pos;
		dec->pos = 0;
	}
	if (dec->end == dec->cap) {
		if (dec->cap >= MAX_RECORD_SIZE)
			return false;
		dec->buf = xgrowarray(dec->buf, &dec->cap, dec->cap + 1, 1, INITIAL_BUFFER);
	}
	size_t n = byte_source_read(dec->src, dec->buf + dec->end, dec->cap - dec->end);
	if (n == 0) {
		dec->eof = true;
		return false;
	}
	dec->end += n;
	return true;
}

struct record_decoder *
record_decoder_new(struct byte_source *src)
{
	struct record_decoder *dec = xcalloc(1, sizeof *dec);

	dec->src = src;
	dec->cap = INITIAL_BUFFER;
	dec->buf = xmalloc(dec->cap);
	u64map_init(&dec->entry_frames);
	return dec;
}

void
record_decoder_free(struct record_decoder *dec)
{
	if (dec == NULL)
		return;
	free(dec->header.command_line);
	free(dec->header.libdest);
	free_cstr_list(dec->header.site_packages);
	free_cstr_list(dec->header.sys_path);
	u64map_free(&dec->entry_frames);
	free(dec->buf);
	free(dec);
}

/*
 * The header fields memray refuses (a capture it cannot report on: exit 1,
 * no report).  Its RecordReader::readHeader (record_reader.cpp) checks only
 * the magic and the version; the rest is refused by _create_metadata in
 * _memray.pyx, which every `memray transform` runs: python_allocator must
 * be a key of its allocator_id_to_name (PythonAllocatorType in records.h,
 * 1 to 6), file_format a FileFormat (0 or 1), and start_time and end_time
 * times that Python's datetime.fromtimestamp(ms // 1000) and astimezone()
 * can give, in years 1 to 9999 of the local time zone.  That range moves
 * with the time zone and with the day those calls look on either side of
 * a time, so the times accepted here are two days inside it on each side:
 * from 0001-01-03 to 9999-12-29 UTC, which memray accepts in every zone.
 */
#define PYTHON_ALLOCATOR_MIN 1
#define PYTHON_ALLOCATOR_MAX 6
#define TIME_MIN_MS (-62135424000LL * 1000)	/* 0001-01-03 00:00:00 UTC */
#define TIME_END_MS (253402128000LL * 1000)	/* 9999-12-30 00:00:00 UTC, excluded */

/* A header time (ms since the epoch) that memray can report on. */
static enum parse
take_time(struct record_decoder *dec, struct cursor *c, int64_t *ms, const char *what)
{
	const uint8_t *field = c->p;

	TRY(take_u64(c, (uint64_t *)ms));
	if (*ms < TIME_MIN_MS || *ms >= TIME_END_MS) {
		dec->error_offset = (uint64_t)(field - dec->buf);
		return decoder_bad(dec, "%s %" PRId64 " ms is outside the years 1 to 9999", what, *ms);
	}
	return PARSE_OK;
}

/* The header layout of format versions 10 to 13 (doc/capture-format.md §2, §2.1). */
static enum parse
parse_header(struct record_decoder *dec, struct cursor *c, struct capture_header *h)
{
	const uint8_t *magic;
	const char *command_line;
	uint8_t file_format;

	TRY(take_bytes(c, MAGIC_LENGTH, &magic));
	TRY(take_i32(c, &h->version));
	if (h->version < CAPTURE_VERSION_OLDEST || h->version > CAPTURE_VERSION_NEWEST) {
		dec->error_offset = MAGIC_LENGTH;
		return decoder_bad(dec, "unsupported capture version %" PRId32, h->version);
	}
	if (h->version >= 12)
		TRY(take_i32(c, &h->python_version));
	TRY(take_bool(dec, c, &h->native_traces, "native traces"));
	TRY(take_u8(c, &file_format));
	if (file_format > FILE_FORMAT_AGGREGATED_ALLOCATIONS)
		return decoder_bad(dec, "invalid file format %u", file_format);
	h->file_format = file_format;
	TRY(take_u64(c, &h->n_allocations));
	TRY(take_u64(c, &h->n_frames));
	TRY(take_time(dec, c, &h->start_time, "start time"));
	TRY(take_time(dec, c, &h->end_time, "end time"));
	TRY(take_cstr(c, &command_line));
	TRY(take_i32(c, &h->pid));
	TRY(take_u64(c, &h->main_tid));
	TRY(take_u64(c, &h->skipped_frames_on_main_tid));
	TRY(take_u8(c, &h->python_allocator));
	if (h->python_allocator < PYTHON_ALLOCATOR_MIN || h->python_allocator > PYTHON_ALLOCATOR_MAX)
		return decoder_bad(dec, "invalid python allocator %u (memray knows 1 to 6)", h->python_allocator);
	if (h->version >= 11)
		TRY(take_bool(dec, c, &h->trace_python_allocators, "trace python allocators"));
	if (h->version >= 12)
		TRY(take_bool(dec, c, &h->track_object_lifetimes, "track object lifetimes"));
	const char *libdest = "", *site_packages = NULL, *sys_path = NULL;
	size_t n_site_packages = 0, n_sys_path = 0;
	if (h->version >= 13) {
		TRY(take_cstr(c, &libdest));
		TRY(take_cstr_list(c, &site_packages, &n_site_packages));
		TRY(take_cstr_list(c, &sys_path, &n_sys_path));
	}
	/* Copied only once the whole header is there (a short read parses it again). */
	h->command_line = xstrdup(command_line);
	h->libdest = xstrdup(libdest);
	h->site_packages = copy_cstr_list(site_packages, n_site_packages);
	h->sys_path = copy_cstr_list(sys_path, n_sys_path);
	return PARSE_OK;
}

/*
 * The data ended early because of the byte source (a read error, damaged
 * or cut compressed data): its reason after context, placed in the input.
 */
static void
source_error(struct record_decoder *dec, const char *context)
{
	snprintf(dec->error, sizeof dec->error, "%s%s", context, byte_source_error(dec->src));
	dec->error_offset = byte_source_error_offset(dec->src);
	dec->error_in_input = true;
}

/* printf's %s of up to 16 bytes: printable ASCII as it is, the rest as \xNN. */
static void
quote_bytes(char *out, size_t size, const uint8_t *p, size_t n)
{
	size_t at = 0;

	for (size_t i = 0; i < n && i < 16 && at + 5 < size; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			out[at++] = (char)p[i];
		else
			at += (size_t)snprintf(out + at, size - at, "\\x%02x", p[i]);
	}
	out[at] = '\0';
}

/*
 * What the input is, as it is not a memray capture: the containers read
 * and the first bytes of what they hold, or the container not read that
 * they hold.
 */
static void
not_a_capture(struct record_decoder *dec)
{
	const char *containers = byte_source_containers(dec->src);
	bool raw = byte_source_compression(dec->src) == COMPRESSION_NONE;
	char start[80];

	dec->error_offset = 0;
	if (raw && dec->end == 0 && byte_source_input_offset(dec->src) == 0) {
		snprintf(dec->error, sizeof dec->error, "empty input: not a memray capture");
	} else if (dec->end == 0) {
		snprintf(dec->error, sizeof dec->error, "%s%s that is not a memray capture: %s",
		    raw ? "" : containers, raw ? "data" : " data",
		    raw ? "zero bytes only" : "it holds nothing but zero bytes, if anything");
	} else if (byte_source_unread_container(dec->src) != NULL) {
		const char *unread = byte_source_unread_container(dec->src);
		snprintf(dec->error, sizeof dec->error,
		    "%s data%s%s that is not a memray capture: decompress it first (%s is not read)",
		    unread, raw ? "" : " in ", raw ? "" : containers, unread);
	} else {
		quote_bytes(start, sizeof start, dec->buf, dec->end);
		snprintf(dec->error, sizeof dec->error,
		    "%s%s that is not a memray capture: it starts with \"%s\"",
		    raw ? "" : containers, raw ? "data" : " data", start);
	}
}

static enum parse parse_record(struct record_decoder *, struct cursor *, struct record *);

bool
record_decoder_read_header(struct record_decoder *dec)
{
	struct capture_header h;

	for (;;) {
		struct cursor c = { dec->buf + dec->pos, dec->buf + dec->end, .fits = false };
		memset(&h, 0, sizeof h);
		if ((size_t)(c.end - c.p) >= MAGIC_LENGTH && memcmp(c.p, MAGIC, MAGIC_LENGTH) != 0)
			break;
		dec->error_offset = UINT64_MAX;	/* unless parse_header names the offending field */
		enum parse st = parse_header(dec, &c, &h);
		if (st == PARSE_OK) {
			dec->error_offset = 0;
			dec->header = h;
			dec->header.header_size = (uint64_t)(c.p - dec->buf);
			dec->pos = (size_t)(c.p - dec->buf);
			if (h.file_format == FILE_FORMAT_AGGREGATED_ALLOCATIONS)
				dec->parse = decoder_parse_aggregated;
			else
				dec->parse = h.version >= 12 ? parse_record : decoder_parse_record_v11;
			dec->legacy = dec->parse == decoder_parse_record_v11;
			/* Formats 10-11 go one at a time by next_one_branchless (record_decoder_next). */
			dec->branchless |= dec->legacy;
			return true;
		}
		if (st == PARSE_BAD) {
			/* Unless parse_header named it, the offending field is the byte just read. */
			if (dec->error_offset == UINT64_MAX)
				dec->error_offset = (uint64_t)(c.p - dec->buf) - 1;
			return false;
		}
		if (refill(dec))
			continue;
		if (byte_source_error(dec->src) != NULL) {
			source_error(dec, dec->end > 0 ? "capture header cut short: " : "");
			return false;
		}
		if (dec->end < MAGIC_LENGTH)
			break;
		snprintf(dec->error, sizeof dec->error, "capture header cut short");
		dec->error_offset = dec->end;
		return false;
	}
	not_a_capture(dec);
	return false;
}

const struct capture_header *
record_decoder_header(const struct record_decoder *dec)
{
	return &dec->header;
}

/*
 * A pointer as ALLOCATION and OBJECT_RECORD store it (§3.3.6): a slot of
 * the 15-entry cache, or (slot 15) a delta of address >> 3 that is then
 * pushed into the cache.  The cache is a FIFO of missed addresses: hits
 * do not reorder it, as in memray's RecordWriter.
 */
struct pointer {
	uint64_t address;
	bool miss;
	uint64_t last_data_ptr;
};

ALWAYS_INLINE enum parse
take_pointer(struct record_decoder *dec, const struct hot_state *st, struct cursor *c, unsigned slot,
    struct pointer *ptr)
{
	if (slot < POINTER_CACHE_SIZE) {
		unsigned i = (st->cache_front + slot) % POINTER_RING;
		*ptr = (struct pointer){ .address = dec->pointer_cache[i], .miss = false };
		return PARSE_OK;
	}
	int64_t delta;
	if (c->fits) {
		/* Most deltas take 3 bytes or more: no test of the first two first. */
		uint64_t z;
		unsigned n = varint_read8(c->p, &z);
		if (n == 0)
			return PARSE_BAD;	/* longer than 8 bytes: for next_slow */
		c->p += n;
		delta = zigzag_decode(z);
	} else {
		TRY(take_svarint(dec, c, &delta));
	}
	ptr->miss = true;
	ptr->last_data_ptr = st->last_data_ptr + (uint64_t)delta;
	ptr->address = ptr->last_data_ptr << 3;
	return PARSE_OK;
}

static inline void
commit_pointer(struct record_decoder *dec, struct hot_state *st, const struct pointer *ptr)
{
	if (!ptr->miss)
		return;
	st->last_data_ptr = ptr->last_data_ptr;
	/* The new slot 0: the ring's entry before the front, which holds none of the 15. */
	st->cache_front = (st->cache_front - 1) % POINTER_RING;
	dec->pointer_cache[st->cache_front] = ptr->address;
}

/*
 * An ALLOCATION's size in the fast path (8 bytes readable), if it has one
 * (a deallocation has none), else 0: without a branch on either, as
 * deallocations and sizes of 1 and 2 bytes come at random, and the
 * predictor would miss those branches often.  The bytes are read and
 * decoded whether or not they are the size (if not, they are the next
 * record's), and masks keep or drop them.  present: all ones if the
 * record has a size, else 0 (a mask, not a bool, which the compiler once
 * kept on the stack as a byte and read back as a word, a stall on every
 * record).
 */
ALWAYS_INLINE enum parse
take_size_fast(struct record_decoder *dec, struct cursor *c, uint64_t present, uint64_t *size)
{
	const uint8_t *p = c->p;
	unsigned b0 = p[0], b1 = p[1];
	unsigned two = b0 >> 7;			/* the size has a second byte */

	if (__builtin_expect(((b0 & b1) >> 7 & present) != 0, 0))
		return take_varint(dec, c, size);	/* 3 bytes or more */
	*size = ((b0 & 0x7fu) | ((uint64_t)b1 << 7 & -(uint64_t)two)) & present;
	c->p = p + ((1 + two) & present);
	return PARSE_OK;
}

/*
 * The fields of an ALLOCATION after its pointer.  native:
 * dec->header.native_traces, a constant once inlined into the fast path.
 */
ALWAYS_INLINE enum parse
parse_allocation_rest(struct record_decoder *dec, struct hot_state *st, struct cursor *c,
    uint8_t type, bool native, struct record *rec)
{
	uint8_t allocator = type & 7;
	int64_t native_delta = 0;

	/* rec is filled in as fields come (fewer registers live): it means nothing unless PARSE_OK. */
	if (allocator == 0)
		TRY(take_u8(c, &allocator));
	rec->u.alloc.allocator = allocator;
	enum allocator_kind kind = allocator_kind(allocator);
	if (kind == ALLOCATOR_INVALID)
		return bad_hot(dec, c, "invalid allocator %u", allocator);
	if (c->fits && !native) {
		TRY(take_size_fast(dec, c, -(uint64_t)(kind != SIMPLE_DEALLOCATOR), &rec->u.alloc.size));
	} else {
		rec->u.alloc.size = 0;
		if (kind != SIMPLE_DEALLOCATOR) {
			if (native)
				TRY(take_svarint(dec, c, &native_delta));
			TRY(take_varint(dec, c, &rec->u.alloc.size));
		}
	}
	uint64_t native_id = st->last_native_id + (uint64_t)native_delta;
	/* Deallocators carry no stack (RecordReader::processAllocationRecord). */
	bool has_stack = native && !allocator_is_deallocator(kind);
	if (has_stack && native_id > dec->native_frames)
		return bad_hot(dec, c, "native frame id %" PRIu64 " out of range", native_id);
	st->last_native_id = native_id;
	rec->type = REC_ALLOCATION;
	rec->u.alloc.native_id = has_stack ? native_id : 0;
	return PARSE_OK;
}

/*
 * An ALLOCATION in the fast path (8 bytes readable past its pointer)
 * with masks: no branch on whether its pointer is a cache hit, which
 * can come at random (generated captures: an allocation misses, half the
 * frees hit), where the predictor misses nearly half of those branches
 * (callgrind --branch-sim, 10^6 generated records: 0.45 a record, 0.38
 * of them gone this way).  A hit's slot and a miss's
 * delta are both read, and masks keep one.  The ring entry of slot
 * (type >> 3) & 15 is stored either way: a hit's, unchanged; a miss's
 * (slot 15: the entry before the front), the new address, as the front
 * moves onto it.
 */
ALWAYS_INLINE enum parse
parse_allocation_fast(struct record_decoder *dec, struct hot_state *st, struct cursor *c,
    uint8_t type, bool native, struct record *rec)
{
	unsigned slot = (type >> 3) & 15;
	uint64_t miss = -(uint64_t)(slot == POINTER_CACHE_SIZE);	/* all ones or none */
	unsigned entry = (st->cache_front + slot) % POINTER_RING;
	/* A miss's delta; a hit's bytes are the next field's, read and dropped. */
	uint64_t z;
	unsigned n = varint_read8(c->p, &z);
	if ((n == 0) & (miss != 0))
		return PARSE_BAD;	/* longer than 8 bytes: for next_slow */
	uint64_t last_data_ptr = st->last_data_ptr + ((uint64_t)zigzag_decode(z) & miss);
	uint64_t cached = dec->pointer_cache[entry];
	uint64_t address = cached ^ ((last_data_ptr << 3 ^ cached) & miss);	/* not a branch */
	rec->u.alloc.address = address;
	c->p += n & miss;
	TRY(parse_allocation_rest(dec, st, c, type, native, rec));
	st->last_data_ptr = last_data_ptr;
	st->cache_front = (st->cache_front + (unsigned)miss) % POINTER_RING;
	dec->pointer_cache[entry] = address;
	return PARSE_OK;
}

/*
 * With branches, the rest is parsed on two paths, a cache hit's and a
 * miss's, so that the cache is updated only once the record is complete.
 */
ALWAYS_INLINE enum parse
parse_allocation(struct record_decoder *dec, struct hot_state *st, struct cursor *c, uint8_t type,
    bool native, bool branchless, struct record *rec)
{
	struct pointer ptr;

	if (c->fits && branchless)
		return parse_allocation_fast(dec, st, c, type, native, rec);

	TRY(take_pointer(dec, st, c, (type >> 3) & 15, &ptr));
	rec->u.alloc.address = ptr.address;
	if (!ptr.miss)
		return parse_allocation_rest(dec, st, c, type, native, rec);
	TRY(parse_allocation_rest(dec, st, c, type, native, rec));
	commit_pointer(dec, st, &ptr);
	return PARSE_OK;
}

static enum parse
parse_object(struct record_decoder *dec, struct cursor *c, uint8_t type, struct record *rec)
{
	struct pointer ptr;
	uint64_t native_id = dec->hot.last_native_id;

	TRY(take_pointer(dec, &dec->hot, c, (type >> 1) & 15, &ptr));
	if (dec->header.native_traces && (type & 1)) {
		int64_t delta;
		TRY(take_svarint(dec, c, &delta));
		native_id += (uint64_t)delta;
	}
	commit_pointer(dec, &dec->hot, &ptr);
	dec->hot.last_native_id = native_id;
	rec->type = REC_OBJECT;
	return PARSE_OK;
}

enum parse
decoder_parse_code_object(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	int64_t delta;
	uint64_t len;

	TRY(take_varint(dec, c, &rec->u.code.id));
	TRY(take_cstr(c, &rec->u.code.function));
	TRY(take_cstr(c, &rec->u.code.file));
	TRY(take_svarint(dec, c, &delta));
	TRY(take_varint(dec, c, &len));
	if (len > MAX_RECORD_SIZE)
		return decoder_bad(dec, "line table of %" PRIu64 " bytes", len);
	TRY(take_bytes(c, (size_t)len, &rec->u.code.linetable));
	/* last_firstlineno is a C int in memray: the delta wraps at 32 bits. */
	dec->last_firstlineno = (int32_t)((uint32_t)dec->last_firstlineno + (uint32_t)delta);
	rec->type = REC_CODE_OBJECT;
	rec->u.code.firstlineno = dec->last_firstlineno;
	rec->u.code.linetable_len = (size_t)len;
	return PARSE_OK;
}

static enum parse
parse_native_frame(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	int64_t ip_delta, parent_delta;

	TRY(take_svarint(dec, c, &ip_delta));
	TRY(take_svarint(dec, c, &parent_delta));
	/* The parent shares last_native_id with ALLOCATION (§3.3.8). */
	dec->last_ip += (uint64_t)ip_delta;
	dec->hot.last_native_id += (uint64_t)parent_delta;
	dec->native_frames++;
	rec->type = REC_NATIVE_FRAME;
	rec->u.native_frame.ip = dec->last_ip;
	rec->u.native_frame.parent = dec->hot.last_native_id;
	return PARSE_OK;
}

/* A SEGMENT_HEADER is followed by exactly its number of SEGMENT records. */
static enum parse
parse_segment(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	uint8_t type;

	TRY(take_u8(c, &type));
	if (type != TYPE_SEGMENT)
		return decoder_bad(dec, "segment record expected, found type %u", type);
	TRY(take_u64(c, &rec->u.segment.vaddr));
	TRY(take_varint(dec, c, &rec->u.segment.memsz));
	dec->segments_pending--;
	rec->type = REC_SEGMENT;
	return PARSE_OK;
}

/* The parts of formats 12-13 that every format and file kind shares. */
enum parse
decoder_parse_common(struct record_decoder *dec, struct cursor *c, uint8_t type, struct record *rec)
{
	switch (type) {
	case TYPE_NATIVE_TRACE_INDEX:
		return parse_native_frame(dec, c, rec);
	case TYPE_MEMORY_MAP_START:
		rec->type = REC_MEMORY_MAP_START;
		return PARSE_OK;
	case TYPE_SEGMENT_HEADER:
		TRY(take_cstr(c, &rec->u.segment_header.filename));
		TRY(take_varint(dec, c, &rec->u.segment_header.num_segments));
		TRY(take_u64(c, &rec->u.segment_header.load_address));
		dec->segments_pending = rec->u.segment_header.num_segments;
		rec->type = REC_SEGMENT_HEADER;
		return PARSE_OK;
	case TYPE_THREAD_RECORD:
		rec->type = REC_THREAD_NAME;
		return take_cstr(c, &rec->u.thread.name);
	case TYPE_CONTEXT_SWITCH:
		rec->type = REC_CONTEXT_SWITCH;
		return take_u64(c, &rec->u.context_switch.tid);
	default:
		return decoder_bad(dec, "invalid record type %u", type);
	}
}

enum parse
decoder_parse_memory_record(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	TRY(take_varint(dec, c, &rec->u.memory.rss));
	TRY(take_varint(dec, c, &rec->u.memory.ms));
	rec->type = REC_MEMORY;
	return PARSE_OK;
}

/*
 * Whether a type byte of formats 12 and 13 (§3.1) is that of a hot record:
 * ALLOCATION, FRAME_PUSH or FRAME_POP, nearly every record of a capture,
 * the ones record_decoder_next's fast path takes.
 */
static inline bool
is_hot_type(uint8_t type)
{
	return type >= 0x40 || (type & 0xf0) == 0x10;
}

/*
 * The rest of a hot record, whose type byte was read.  branchless: take
 * an allocation's pointer with parse_allocation_fast (in the fast paths,
 * as dec->branchless says).
 */
ALWAYS_INLINE enum parse
parse_hot_record(struct record_decoder *dec, struct hot_state *st, struct cursor *c, uint8_t type,
    bool native, bool branchless, struct record *rec)
{
	if (type & 0x80)
		return parse_allocation(dec, st, c, type, native, branchless, rec);
	if (type & 0x40) {
		rec->type = REC_FRAME_PUSH;
		rec->u.push.is_entry = type & 1;
		TRY(take_varint(dec, c, &rec->u.push.code_id));
		return take_svarint(dec, c, &rec->u.push.instruction_offset);
	}
	rec->type = REC_FRAME_POP;
	rec->u.pop.count = (type & 0x0f) + 1u;
	return PARSE_OK;
}

/* One record of an ALL_ALLOCATIONS file, formats 12 and 13 (§3.1). */
static enum parse
parse_record(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	uint8_t type;

	TRY(take_u8(c, &type));
	if (is_hot_type(type))
		return parse_hot_record(dec, &dec->hot, c, type, dec->header.native_traces, false, rec);
	if (type & 0x20)
		return parse_object(dec, c, type, rec);
	switch (type) {
	case TYPE_TRAILER:
		rec->type = REC_END;
		return PARSE_OK;
	case TYPE_MEMORY_RECORD:
		return decoder_parse_memory_record(dec, c, rec);
	case TYPE_CODE_OBJECT:
		return decoder_parse_code_object(dec, c, rec);
	default:
		return decoder_parse_common(dec, c, type, rec);
	}
}

static enum record_type
finish(struct record_decoder *dec, struct record *rec, enum record_type type)
{
	dec->finished = true;
	dec->final_type = type;
	rec->type = type;
	return type;
}

/*
 * The next record the general way: for whatever record_decoder_next's
 * fast path leaves.
 */
static enum record_type
next_record(struct record_decoder *dec, struct record *rec)
{
	if (dec->finished) {
		rec->type = dec->final_type;
		return rec->type;
	}
	if (dec->has_pending) {
		dec->has_pending = false;
		*rec = dec->pending;
		dec->counts[rec->type]++;
		return rec->type;
	}
	for (;;) {
		if (dec->end - dec->pos < REFILL_THRESHOLD)
			refill(dec);
		rec->offset = dec->buf_offset + dec->pos;
		if (dec->pos == dec->end) {
			if (byte_source_error(dec->src) != NULL) {
				source_error(dec, "");
				return finish(dec, rec, REC_ERROR);
			}
			if (dec->segments_pending == 0)
				return finish(dec, rec, REC_END);
			snprintf(dec->error, sizeof dec->error, "segment records missing");
			dec->error_offset = rec->offset;
			return finish(dec, rec, REC_ERROR);
		}
		struct cursor c = { dec->buf + dec->pos, dec->buf + dec->end, .fits = false };
		enum parse st;
		if (dec->segments_pending > 0)
			st = parse_segment(dec, &c, rec);
		else
			st = dec->parse(dec, &c, rec);
		if (st == PARSE_OK) {
			dec->pos = (size_t)(c.p - dec->buf);
			dec->counts[rec->type]++;
			if (rec->type == REC_OBJECT || rec->type == REC_MEMORY_SNAPSHOT ||
			    rec->type == REC_SURVIVING_OBJECT)
				continue;
			if (rec->type == REC_END)
				return finish(dec, rec, REC_END);
			return rec->type;
		}
		if (st == PARSE_SHORT) {
			if (refill(dec))
				continue;
			if (byte_source_error(dec->src) != NULL) {
				source_error(dec, "record cut short: ");
				return finish(dec, rec, REC_ERROR);
			}
			snprintf(dec->error, sizeof dec->error, "record cut short");
		}
		dec->error_offset = rec->offset;
		return finish(dec, rec, REC_ERROR);
	}
}

/*
 * next_record, which also decides whether the next call may take the fast
 * path: all that this depends on but the position changes only in
 * next_record.  Not inlined, to keep record_decoder_next small.
 */
static __attribute__((noinline)) enum record_type
next_slow(struct record_decoder *dec, struct record *rec)
{
	enum record_type type = next_record(dec, rec);
	bool fast = (dec->parse == parse_record || dec->legacy) && !dec->finished &&
	    dec->segments_pending == 0;

	dec->fast_end = fast ? dec->end : 0;
	return type;
}

/*
 * The fast path: hot records (is_hot_type, or is_hot_type_v11) of an
 * ALL_ALLOCATIONS file, with no SEGMENT record owed, each starting at
 * least REFILL_THRESHOLD bytes before the end of the buffer, more than a
 * hot record reads: no refill, no end of data, no record skipped, no
 * bounds check.  Up to n of them, with the cursor and the hot state in
 * registers: into recs[0..n), or (feed) each decoded into recs[0] and
 * handed to record_decoder_take(taker, recs, native) (with direct,
 * record_decoder_take_direct) at once, until it returns false
 * (record_decoder_feed, record_decoder_feed_direct).  It stops at a
 * record of another kind, or one it does not complete (see struct cursor), which has
 * changed nothing and is left to next_slow.  Returns how many it took
 * (feed: whether it took any).
 * native: dec->header.native_traces, branchless: dec->branchless,
 * legacy: dec->legacy (formats 10-11: their hot records, is_hot_type_v11),
 * feed and direct, made constants by the caller.
 */
ALWAYS_INLINE size_t
next_fast(struct record_decoder *dec, struct record *recs, size_t n, bool feed, bool direct,
    void *taker, bool native, bool branchless, bool legacy)
{
	if (dec->fast_end < REFILL_THRESHOLD)
		return 0;	/* fast_end 0: no fast path */
	const uint8_t *first = dec->buf + dec->pos, *p = first;
	const uint8_t *last = dec->buf + dec->fast_end - REFILL_THRESHOLD;
	/* A record's offset is its address plus bias (one register less than buf and buf_offset). */
	uint64_t bias = dec->buf_offset - (uint64_t)(uintptr_t)dec->buf;
	struct hot_state st = dec->hot;
	uint64_t counts[3] = { 0 };	/* REC_ALLOCATION, REC_FRAME_PUSH, REC_FRAME_POP */
	size_t i = 0;		/* not kept when feeding: a register less */

	while ((feed || i < n) && p <= last) {
		struct record *rec = feed ? recs : recs + i;
		/* Read before rec is written to: a store through rec may alias the buffer's bytes. */
		uint8_t type = *p;
		struct cursor c = { p + 1, p + REFILL_THRESHOLD, .fits = true };
		if (!(legacy ? is_hot_type_v11(type) : is_hot_type(type)))
			break;
		rec->offset = (uint64_t)(uintptr_t)p + bias;
		if ((legacy ? parse_hot_record_v11(dec, &st, &c, type, rec) :
		    parse_hot_record(dec, &st, &c, type, native, branchless, rec)) != PARSE_OK)
			break;
		counts[rec->type]++;
		p = c.p;
		if (feed) {
			if (!(direct ? record_decoder_take_direct(taker, rec, native) :
			    record_decoder_take(taker, rec, native)))
				break;
		} else {
			i++;
		}
	}
	dec->hot = st;
	dec->pos = (size_t)(p - dec->buf);
	for (int t = 0; t < 3; t++)
		dec->counts[t] += counts[t];
	return feed ? p != first : i;
}

/*
 * One record: the fast path's loop would cost more than it saves here,
 * so this is its body alone, on the decoder's own state.  branchless:
 * dec->branchless, a constant once inlined.
 */
ALWAYS_INLINE enum record_type
next_one(struct record_decoder *dec, struct record *rec, bool branchless)
{
	if (dec->pos + REFILL_THRESHOLD <= dec->fast_end) {
		const uint8_t *p = dec->buf + dec->pos;
		struct cursor c = { p + 1, p + REFILL_THRESHOLD, .fits = true };
		rec->offset = dec->buf_offset + dec->pos;
		if (is_hot_type(*p) && parse_hot_record(dec, &dec->hot, &c, *p, dec->header.native_traces,
		    branchless, rec) == PARSE_OK) {
			dec->pos = (size_t)(c.p - dec->buf);
			dec->counts[rec->type]++;
			return rec->type;
		}
	}
	return next_slow(dec, rec);
}

/*
 * next_one with masks, a function of its own, which leaves the other's
 * registers alone.  Formats 10-11 come this way too (read_header sets
 * branchless for them), to next_slow: their fast path takes batches
 * only.  A test of their own in record_decoder_next, or an instance of
 * next_one for them, made gcc keep six registers there, not three (3%
 * more instructions, callgrind, one thread, json); a batch of one from
 * their fast path cost more than next_slow (paired wall time 1.03, one
 * thread, format 11).
 */
static __attribute__((noinline)) enum record_type
next_one_branchless(struct record_decoder *dec, struct record *rec)
{
	if (dec->legacy)
		return next_slow(dec, rec);
	return next_one(dec, rec, true);
}

enum record_type
record_decoder_next(struct record_decoder *dec, struct record *rec)
{
	if (dec->branchless)
		return next_one_branchless(dec, rec);
	return next_one(dec, rec, false);
}

/*
 * next_fast made for captures with and without native traces, with each
 * way of taking pointers, and for formats 10-11 (which cache no
 * pointers), into an array or to a taker of either kind (feed, direct):
 * functions of their own, so that each loop has all the registers.
 */
#define FEED_VARIANT(name, direct, native, branchless, legacy)                        \
	static __attribute__((noinline)) size_t                                       \
	name(struct record_decoder *dec, void *taker)                                 \
	{                                                                             \
		/* The fields the decoder leaves are set once, not left undefined. */  \
		struct record rec = { 0 };                                            \
		return next_fast(dec, &rec, SIZE_MAX, true, direct, taker, native, branchless, \
		    legacy);                                                          \
	}
#define NEXT_FAST_VARIANT(name, native, branchless, legacy)                           \
	static __attribute__((noinline)) size_t                                       \
	name(struct record_decoder *dec, struct record *recs, size_t n)               \
	{                                                                             \
		return next_fast(dec, recs, n, false, false, NULL, native, branchless, legacy); \
	}                                                                             \
	FEED_VARIANT(name##_feed, false, native, branchless, legacy)                  \
	FEED_VARIANT(name##_direct, true, native, branchless, legacy)
/* The variants, in the order of fast_variant's index. */
#define FAST_VARIANTS(X)                                   \
	X(next_fast_native, true, false, false)            \
	X(next_fast_native_branchless, true, true, false)  \
	X(next_fast_plain, false, false, false)            \
	X(next_fast_plain_branchless, false, true, false)  \
	X(next_fast_legacy_native, true, false, true)      \
	X(next_fast_legacy_plain, false, false, true)
FAST_VARIANTS(NEXT_FAST_VARIANT)

#define BATCH_LOOP(name, native, branchless, legacy) name,
#define FEED_LOOP(name, native, branchless, legacy) name##_feed,
#define DIRECT_LOOP(name, native, branchless, legacy) name##_direct,
static size_t (*const batch_loops[])(struct record_decoder *, struct record *, size_t) = {
	FAST_VARIANTS(BATCH_LOOP)
};
static size_t (*const feed_loops[])(struct record_decoder *, void *) = { FAST_VARIANTS(FEED_LOOP) };
static size_t (*const direct_loops[])(struct record_decoder *, void *) = {
	FAST_VARIANTS(DIRECT_LOOP)
};

/* The index in FAST_VARIANTS of the one for dec's capture and pointer path. */
static unsigned
fast_variant(const struct record_decoder *dec)
{
	bool native = dec->header.native_traces;

	if (dec->legacy)
		return native ? 4 : 5;
	return (native ? 0 : 2) + dec->branchless;
}

size_t
record_decoder_next_batch(struct record_decoder *dec, struct record *recs, size_t n)
{
	size_t i = 0;

	while (i < n) {
		i += batch_loops[fast_variant(dec)](dec, recs + i, n - i);
		if (i == n)
			break;
		enum record_type type = next_slow(dec, &recs[i++]);
		if (type == REC_END || type == REC_ERROR)
			break;
	}
	return i;
}

bool
record_decoder_feed(struct record_decoder *dec, void *taker)
{
	return feed_loops[fast_variant(dec)](dec, taker);
}

bool
record_decoder_feed_direct(struct record_decoder *dec, void *taker)
{
	return direct_loops[fast_variant(dec)](dec, taker);
}

bool
record_decoder_fast_in_batches_only(const struct record_decoder *dec)
{
	return dec->legacy;
}

const char *
record_decoder_error(const struct record_decoder *dec)
{
	return dec->error;
}

uint64_t
record_decoder_error_offset(const struct record_decoder *dec)
{
	return dec->error_offset;
}

const char *
record_decoder_error_place(struct record_decoder *dec)
{
	bool input = dec->error_in_input && byte_source_compression(dec->src) != COMPRESSION_NONE;

	snprintf(dec->error_place, sizeof dec->error_place, "byte %" PRIu64 "%s", dec->error_offset,
	    input ? " of the input" : "");
	return dec->error_place;
}

uint64_t
record_decoder_offset(const struct record_decoder *dec)
{
	return dec->buf_offset + dec->pos;
}

const char *
record_type_name(enum record_type type)
{
	static const char *const names[RECORD_TYPE_COUNT] = {
		[REC_ALLOCATION] = "allocation",
		[REC_FRAME_PUSH] = "frame push",
		[REC_FRAME_POP] = "frame pop",
		[REC_CONTEXT_SWITCH] = "context switch",
		[REC_THREAD_NAME] = "thread name",
		[REC_CODE_OBJECT] = "code object",
		[REC_NATIVE_FRAME] = "native frame",
		[REC_MEMORY_MAP_START] = "memory map start",
		[REC_SEGMENT_HEADER] = "segment header",
		[REC_SEGMENT] = "segment",
		[REC_FRAME_INDEX] = "python frame index",
		[REC_TRACE_INDEX] = "python trace index",
		[REC_AGGREGATED_ALLOCATION] = "aggregated allocation",
		[REC_OBJECT] = "object",
		[REC_MEMORY] = "memory",
		[REC_MEMORY_SNAPSHOT] = "memory snapshot",
		[REC_SURVIVING_OBJECT] = "surviving object",
		[REC_END] = "trailer",
		[REC_ERROR] = "error",
	};

	return (unsigned)type < RECORD_TYPE_COUNT ? names[type] : "unknown";
}

bool
record_decoder_saw_trailer(const struct record_decoder *dec)
{
	return dec->counts[REC_END] > 0;
}

const uint64_t *
record_decoder_counts(const struct record_decoder *dec)
{
	return dec->counts;
}

