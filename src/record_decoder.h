/*
 * record_decoder: the header and the records of a capture, one at a time.
 *
 * Pulls bytes from a byte_source through a buffer of its own and turns
 * them into `struct record`s (doc/capture-format.md §2-§3).  It owns the state
 * of the encoding itself (delta variables, the pointer cache, the
 * SEGMENT_HEADER count) and nothing of the process that was traced: the
 * records it returns carry absolute values.  OBJECT_RECORD is decoded,
 * counted and skipped, as transform ignores it; MEMORY_RECORD (the
 * resident set size over time) is returned for -f timeline.
 *
 * Older formats are decoded into the same records (§2.1): in formats 10
 * and 11 a frame is a FRAME_INDEX with its function, file and line, which
 * becomes a CODE_OBJECT with an empty line table (so its line is its first
 * line) and pushes of code id = frame id; allocator ids are renumbered.
 *
 * Strings in a record point into the decoder's buffer and stay valid until
 * the next call.  A decoder error is a damaged record stream: memray treats
 * it as the end of the data, and so does the caller (with a warning).
 */
#ifndef MT_RECORD_DECODER_H
#define MT_RECORD_DECODER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc_event.h"
#include "byte_source.h"

#define MAGIC_LENGTH 7

/* The capture format versions decoded (§2.1: memray 1.7 to 1.20). */
#define CAPTURE_VERSION_OLDEST 10
#define CAPTURE_VERSION_NEWEST 13

enum file_format {
	FILE_FORMAT_ALL_ALLOCATIONS = 0,
	FILE_FORMAT_AGGREGATED_ALLOCATIONS = 1
};

struct capture_header {
	int32_t version;
	int32_t python_version;		/* PY_VERSION_HEX; 0 if the format lacks it */
	bool native_traces;
	uint8_t file_format;
	uint64_t n_allocations;		/* as written: not trusted */
	uint64_t n_frames;
	int64_t start_time;		/* ms since the epoch */
	int64_t end_time;
	char *command_line;
	int32_t pid;
	uint64_t main_tid;
	uint64_t skipped_frames_on_main_tid;
	uint8_t python_allocator;
	bool trace_python_allocators;
	bool track_object_lifetimes;
	/*
	 * Format 13: where the traced interpreter found modules (memray stats
	 * names modules by them).  Never NULL: "" and empty lists (a NULL
	 * entry ends each) in older formats.
	 */
	char *libdest;			/* the stdlib directory, or "" */
	char **site_packages;
	char **sys_path;
	uint64_t header_size;		/* bytes, i.e. the offset of the first record */
};

enum record_type {
	REC_ALLOCATION,
	REC_FRAME_PUSH,
	REC_FRAME_POP,
	REC_CONTEXT_SWITCH,
	REC_THREAD_NAME,
	REC_CODE_OBJECT,
	REC_NATIVE_FRAME,
	REC_MEMORY_MAP_START,
	REC_SEGMENT_HEADER,
	REC_SEGMENT,
	REC_FRAME_INDEX,	/* aggregated files: a frame id */
	REC_TRACE_INDEX,	/* aggregated files: a stack-tree node */
	REC_AGGREGATED_ALLOCATION,
	REC_OBJECT,		/* counted only, never returned */
	REC_MEMORY,		/* the RSS at a time */
	REC_MEMORY_SNAPSHOT,	/* counted only, never returned */
	REC_SURVIVING_OBJECT,	/* counted only, never returned */
	REC_END,		/* TRAILER, or the end of the data at a record boundary */
	REC_ERROR,		/* damaged stream: see record_decoder_error() */
	RECORD_TYPE_COUNT
};

struct record {
	enum record_type type;
	/* Not decoded: set as the record is decoded (transform.c's follow_record). */
	bool after_capture_error;	/* a record before this one could not be placed */
	uint64_t offset;	/* of the record's first byte in the decompressed stream */
	union {
		struct alloc_event alloc;	/* see alloc_event.h */
		struct {
			uint64_t code_id;
			int64_t instruction_offset;
			bool is_entry;
		} push;
		struct {
			unsigned count;
		} pop;
		struct {
			uint64_t tid;
		} context_switch;
		struct {
			const char *name;
		} thread;
		struct {
			uint64_t id;
			const char *function;
			const char *file;
			int32_t firstlineno;
			const uint8_t *linetable;
			size_t linetable_len;
		} code;
		struct {
			uint64_t rss;		/* bytes */
			uint64_t ms;		/* since the header's start_time */
		} memory;
		struct {
			uint64_t ip;
			uint64_t parent;
		} native_frame;
		struct {
			const char *filename;
			uint64_t num_segments;
			uint64_t load_address;
		} segment_header;
		struct {
			uint64_t vaddr;
			uint64_t memsz;
		} segment;
		struct {
			uint64_t frame_id;
			uint64_t code_id;
			int64_t instruction_offset;
			bool is_entry;
		} frame_index;
		struct {
			uint64_t parent;	/* node k is the k-th TRACE_INDEX (k >= 1) */
			uint64_t frame_id;
		} trace_index;
		struct {
			uint64_t tid;
			uint64_t native_id;
			uint64_t trace_node;	/* 0: no Python stack */
			uint64_t generation;
			uint64_t n_allocations_in_high_water_mark;
			uint64_t n_allocations_leaked;
			uint64_t bytes_in_high_water_mark;
			uint64_t bytes_leaked;
			uint8_t allocator;
		} aggregated;
	} u;
};

struct record_decoder;

struct record_decoder *record_decoder_new(struct byte_source *src);
void record_decoder_free(struct record_decoder *dec);

/*
 * Read and check the header.  On failure returns false;
 * record_decoder_error() and record_decoder_error_offset() say why.
 */
bool record_decoder_read_header(struct record_decoder *dec);
const struct capture_header *record_decoder_header(const struct record_decoder *dec);

/* The next record; REC_END and REC_ERROR repeat once reached. */
enum record_type record_decoder_next(struct record_decoder *dec, struct record *rec);
/*
 * The next records into recs[0..n), as many calls of record_decoder_next
 * would return them, but at a fraction of the cost per record: up to n,
 * or up to and including REC_END or REC_ERROR.  Returns how many (at
 * least 1 if n > 0).  The strings records point to (names, frames, file
 * names) live in the decoder's buffer, which a refill may move within one
 * call: only the last record's are sure to be valid on return, so callers
 * that keep strings take records one at a time (as record_queue's reader
 * thread does) or use only the last one's.
 */
size_t record_decoder_next_batch(struct record_decoder *dec, struct record *recs, size_t n);

/*
 * For a caller that takes the records one at a time as they are decoded
 * (record_queue's reader thread): the next records, as far as the
 * decoder's fast path goes (allocations, frame pushes and pops of
 * ALL_ALLOCATIONS files, until a record of another kind or near the end
 * of the decoder's buffer), each handed to record_decoder_take(taker,
 * rec) from inside the decoding loop, until it returns false.  rec is valid during the
 * call, and the caller may keep a copy (it has no strings).  Returns
 * whether it handed over any record; if not, the next one is for
 * record_decoder_next.  The two may be called in turn.  native: the
 * header's native_traces, a constant in each of the decoder's loops, so
 * that the taker's tests of a record's native fields fold away.
 *
 * The program that calls record_decoder_feed defines record_decoder_take
 * (memray-transform's is record_queue.c's), a call that link-time
 * optimization inlines into the loop: through a function pointer, or
 * with record_decoder_next called once a record, the reader thread took
 * 29% more instructions (callgrind, keep2000, peak, --threads 2).
 */
bool record_decoder_take(void *taker, struct record *rec, bool native);
bool record_decoder_feed(struct record_decoder *dec, void *taker);
/*
 * record_decoder_feed with a taker of the program's other kind: the
 * records handed to record_decoder_take_direct (memray-transform's, in
 * record_queue.c, gives them to its consumer without batches).
 */
bool record_decoder_take_direct(void *taker, struct record *rec, bool native);
bool record_decoder_feed_direct(struct record_decoder *dec, void *taker);

/*
 * Whether only batches (record_decoder_next_batch, record_decoder_feed)
 * take the fast path, and record_decoder_next takes every record the
 * slow way: formats 10-11 (see next_one_branchless).
 */
bool record_decoder_fast_in_batches_only(const struct record_decoder *dec);

/*
 * How the fast paths take an allocation's pointer, a cache hit or a miss:
 * with branches or with masks (the same records either way).  By
 * default, whichever costs less on the capture at hand, timed as it is
 * read (record_decoder.c, time_pointer_paths); tests pin one.
 */
enum pointer_path { POINTER_PATH_TIMED, POINTER_PATH_BRANCHES, POINTER_PATH_MASKS };
void record_decoder_set_pointer_path(struct record_decoder *dec, enum pointer_path path);

const char *record_decoder_error(const struct record_decoder *dec);
/*
 * The offset of the error: in the decompressed stream, except for an
 * error of the byte source (a read error, damaged or cut compressed data),
 * which is placed in the input (byte_source_error_offset).
 */
uint64_t record_decoder_error_offset(const struct record_decoder *dec);
/*
 * The offset for a message: "byte N", or "byte N of the input" when a
 * compressed capture's error is placed in the input.
 */
const char *record_decoder_error_place(struct record_decoder *dec);
/* Decompressed bytes consumed so far. */
uint64_t record_decoder_offset(const struct record_decoder *dec);
/* A record type as --info shows it, e.g. "frame push". */
const char *record_type_name(enum record_type type);
/* Whether the data ended with a TRAILER record (not just the end of input). */
bool record_decoder_saw_trailer(const struct record_decoder *dec);
/* How many records of each type were decoded so far. */
const uint64_t *record_decoder_counts(const struct record_decoder *dec);

#endif
