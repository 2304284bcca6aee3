/*
 * alloc_event: one allocation record with the context the capture gives
 * it.  The record decoder fills the record's own fields; following the
 * capture (transform.c's follow_record) adds the rest.  The report and
 * the statistics take it as the record holds it, with no copy.
 */
#ifndef MT_ALLOC_EVENT_H
#define MT_ALLOC_EVENT_H

#include <stdint.h>

struct mapping_change;

/* The thread of an allocation record before the capture's first context switch (an error). */
#define NO_THREAD UINT32_MAX

struct alloc_event {
	uint64_t address;
	uint64_t size;
	uint64_t native_id;
	/* Not decoded: the capture's state at the record. */
	uint32_t stack;		/* capture stack id; 0 for deallocators */
	uint32_t thread;	/* capture thread index; NO_THREAD before any context switch */
	uint32_t generation;	/* memory-map generation (native captures) */
	uint8_t allocator;
	/*
	 * Not decoded either, and set for mmap and munmap records only: in
	 * peak and leaks modes (live_mappings.h) an mmap's piece id and a
	 * munmap's changes, else NO_PIECE and none (temporary mode finds a
	 * munmap's mmap by address and size).
	 */
	uint32_t piece;
	uint32_t n_changes;
	const struct mapping_change *changes;
};

#endif
