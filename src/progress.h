/*
 * progress: how far a long transform has got, on stderr.
 *
 *   memray-transform: big.bin: 1.2 GiB of 4.0 GiB (30%), 81.3 M records, 20.1 M records/s
 *
 * Shown only when main enables it (stderr is a terminal, or --progress),
 * and only once a run has lasted a second, so short runs print nothing.
 * On a terminal the line is redrawn in place at most four times a second
 * and erased at the end; elsewhere (--progress into a file or a pipe) it
 * is a new line at most once a second.  A signal that ends the run erases
 * it too (output.c's handler).  Every other message first erases
 * the line (progress_init makes progress_clear message.c's before-print
 * hook), so nothing is garbled.
 */
#ifndef MT_PROGRESS_H
#define MT_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

#include "byte_source.h"

/* Enable or disable progress; total: the input's size in bytes, 0 if unknown. */
void progress_init(bool enabled, uint64_t total);

/*
 * One more record was read from src.  Cheap: looks at the clock once in
 * many calls, and draws only when the last line is old enough.
 */
void progress_record(const struct byte_source *src);
/* n more records were read from src (a batch), as cheap. */
void progress_records(const struct byte_source *src, uint64_t n);

/*
 * Erase the line from a signal handler that ends the run, as
 * progress_end would: async-signal-safe (write(2) only).
 */
void progress_erase_from_signal_handler(void);

/* The run is over: erase the line; progress_record draws nothing more. */
void progress_end(void);

#endif
