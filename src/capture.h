/*
 * capture: the state of the traced process as the records reveal it.
 *
 * Threads (tid, name, Python stack), code objects, the stack trie that
 * gives every distinct Python stack a small id, and for native captures
 * the native frame table and the memory-map generations (§6).  It grows
 * with distinct code objects, stacks and threads, native frames and
 * generations x images, never with the number of allocation records.
 *
 * One pass needs "the state at the peak" after the peak has been passed
 * (doc/capture-format.md §0).  The capture counts the allocation records
 * (capture_place_allocation), and a thread name or code object keeps its
 * values since the report's last mark, each with the count it took effect
 * at, so that the report can mark a point after it has passed it, even
 * from another thread that reads the records later than they were applied
 * here (capture_follow_report): the rendering functions show the values
 * at the mark (capture_mark_at).
 */
#ifndef MT_CAPTURE_H
#define MT_CAPTURE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "record_decoder.h"

struct capture;

struct capture *capture_new(const struct capture_header *header);
void capture_free(struct capture *cap);

/*
 * Apply any record but an ALLOCATION.  Returns false for a record memray
 * cannot place (capture_error() says why): a frame push or pop before any
 * context switch, a segment header before any memory map start.
 */
bool capture_apply(struct capture *cap, const struct record *rec);
const char *capture_error(const struct capture *cap);

/* The thread of the last CONTEXT_SWITCH (NO_THREAD before the first). */
uint32_t capture_current_thread(const struct capture *cap);
/* The stack id on top of the current thread's Python stack (0: empty). */
uint32_t capture_current_stack(const struct capture *cap);

/*
 * The memory-map generation now: the number of MEMORY_MAP_START records so
 * far.  memray stamps it on every allocation that is no deallocator.
 */
uint32_t capture_generation(const struct capture *cap);
/* Whether generation is one of the capture's (1 to capture_generation()). */
bool capture_has_generation(const struct capture *cap, uint64_t generation);

/* The thread index of tid, creating the thread if it is new. */
uint32_t capture_thread_for_tid(struct capture *cap, uint64_t tid);

/*
 * Aggregated files: the stack id of the k-th PYTHON_TRACE_INDEX node
 * (0: no Python stack), resolved once every record has been read.
 */
uint32_t capture_trace_stack(struct capture *cap, uint64_t trace_node);

/*
 * An allocation record: its thread, and for an allocator (not a
 * deallocator) the stack and the memory-map generation, which memray
 * stamps on it (0 for a deallocator).  It is counted: the changes after
 * it are stamped with one more allocation record (see above).
 */
struct allocation_place {
	uint32_t thread, stack, generation;
};
struct allocation_place capture_place_allocation(struct capture *cap, bool deallocator);

/*
 * Where the capture learns the report's progress, which another thread
 * may be making: how many allocation records the report has read, and
 * after how many its last mark is.  It will not mark before `read` again,
 * so the values in force at `mark` and those from `read` on are all that
 * the capture must keep.  The report stores mark before read; the capture
 * loads read before mark.  Without this the capture keeps every value.
 */
struct capture_progress {
	/* A cache line of its own: the report writes it for every allocation record. */
	_Alignas(64) _Atomic uint64_t read;
	_Atomic uint64_t mark;
	char pad[64 - 2 * sizeof(uint64_t)];
};
void capture_follow_report(struct capture *cap, const struct capture_progress *progress);

/*
 * The state to render is the one after `allocations` allocation records,
 * before any change the record after them made (see above).
 */
void capture_mark_at(struct capture *cap, uint64_t allocations);

/* Threads are numbered 0 to capture_thread_count() - 1. */
uint32_t capture_thread_count(const struct capture *cap);
uint64_t capture_thread_tid(const struct capture *cap, uint32_t thread);
/* The thread's name at the last mark, or NULL if it had none. */
const char *capture_thread_name(const struct capture *cap, uint32_t thread);
/* The thread's name now, or NULL if it has none. */
const char *capture_thread_name_now(const struct capture *cap, uint32_t thread);

/*
 * The Python stack `stack` as memray's stack_trace() renders it for a row
 * of `thread`: most recent frame first, the main thread's outermost
 * skipped_frames_on_main_tid frames left out (§5.4).  The array is the
 * capture's and is overwritten by the next call.
 */
size_t capture_render_stack(struct capture *cap, uint32_t stack, uint32_t thread,
    const struct frame_text **frames);

struct native_symbols;

/*
 * The hybrid stack of a native capture's row, as memray's
 * hybrid_stack_trace() renders it (§6.4): the native stack native_id
 * symbolized with ns in the memory-map generation, merged with the Python
 * stack `stack`, the main thread's frames skipped as §6.4 says.  A native
 * stack needs a generation the capture has (capture_has_generation();
 * memray fails otherwise).  The array is overwritten by the next call.
 */
size_t capture_render_hybrid_stack(struct capture *cap, struct native_symbols *ns,
    uint32_t stack, uint64_t native_id, uint32_t generation, uint32_t thread,
    const struct frame_text **frames);

#endif
