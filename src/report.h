/*
 * report: which allocations a report shows, grouped by stack.
 *
 * Fed every allocation record in order, in one pass, it keeps what the
 * mode needs (doc/capture-format.md §8):
 *   peak       the live set at the high-water mark (§8.2): it keeps the
 *              live set now and, for every group changed since the last
 *              peak, the group as it was at that peak;
 *   leaks      the live set after the last record (§8.3);
 *   temporary  allocations freed by their own thread while among its
 *              N+1 most recent allocations (§8.4).
 * Groups are keyed by (Python stack, native stack), or with split_threads
 * (--split-threads) by (Python stack, native stack, thread).  A group's allocator,
 * thread and generation come from its earliest member (fix F1), and rows
 * come out sorted by that member's sequence number, as memray 1.20 sorts.
 */
#ifndef MT_REPORT_H
#define MT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc_event.h"

enum report_mode {
	REPORT_PEAK,
	REPORT_LEAKS,
	REPORT_TEMPORARY
};

struct report_row {
	uint64_t seq;		/* the earliest member's allocation record index */
	uint64_t n_allocations;
	uint64_t size;
	uint64_t native_id;
	uint32_t stack;
	uint32_t thread;
	uint32_t generation;
	uint8_t allocator;
};

struct report;

/*
 * threshold: N of --temporary-allocation-threshold (temporary mode only).
 * With split_threads (--split-threads), groups are keyed by thread too (a
 * group's representative is still its earliest member, now of one thread).
 */
struct report *report_new(enum report_mode mode, uint64_t threshold, bool split_threads);
void report_free(struct report *r);

/*
 * Account for the next allocation record.  Returns true when the state
 * after this record is the one to report so far (a new peak; in leaks and
 * temporary modes, every record): the caller then marks the capture.
 * Link-time optimization inlines it into the program's loops over the
 * records, where the free of a young block then costs no call (see
 * track_live).
 */
bool report_allocation(struct report *r, const struct alloc_event *ev);

/*
 * Hints, for a caller that sees allocation records ahead: what
 * report_allocation will look up for the record at address (of that
 * allocator and capture thread), a random place in a large live set, is
 * asked of memory early, so that the waits for several records overlap.
 * REPORT_PREFETCH_FAR starts the lookup; REPORT_PREFETCH_NEAR, a few
 * records later, follows it one step further (the table's entry to the
 * record it names).  The report is not changed.
 */
enum report_prefetch_stage { REPORT_PREFETCH_FAR, REPORT_PREFETCH_NEAR };
/* Whether report_prefetch would ask for anything now (it is worth it only for large tables). */
bool report_takes_hints(const struct report *r);
void report_prefetch(const struct report *r, uint64_t address, uint8_t allocator, uint32_t thread,
    enum report_prefetch_stage stage);

/*
 * Aggregated files (§8.5): one AGGREGATED_ALLOCATION's numbers for the
 * report's mode, peak or leaks.  ev->stack is the file's stack-tree node.
 * Records with no allocations are skipped; the others join their group,
 * whose count grows by n_allocations (fix F2: stock memray adds 1).
 */
void report_aggregated(struct report *r, const struct alloc_event *ev, uint64_t n_allocations);

/* The rows, sorted by seq.  The array belongs to the report. */
size_t report_rows(struct report *r, const struct report_row **rows);

/* Allocation records seen, and the high-water mark in bytes. */
uint64_t report_records(const struct report *r);
uint64_t report_peak_bytes(const struct report *r);

/*
 * Peak and leaks modes: the heap now, as memray's HighWatermarkFinder
 * counts it (an allocation at a live address adds its size and takes
 * none away), and the live allocations (an mmap split by a munmap counts
 * as two, as the reports count it).
 */
uint64_t report_current_bytes(const struct report *r);
uint64_t report_live_allocations(const struct report *r);

/*
 * Keep the live bytes and allocations of every thread too (the members'
 * own sizes), from now on: report_thread_live then gives them.
 */
void report_track_threads(struct report *r);
void report_thread_live(const struct report *r, uint32_t thread, uint64_t *bytes,
    uint64_t *allocations);

#endif
