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

/* Enable or disable progress; total: the input's size in bytes, 0 if unknown. */
void progress_init(bool enabled, uint64_t total);

/*
 * n more records were read (one, or a batch): whether it is time to draw
 * the line (then progress_draw).  Cheap: looks at the clock once in many
 * records, and says yes only when the last line is old enough.
 */
bool progress_due(uint64_t n);

/*
 * Draw the line, input_offset bytes into the input: the caller says how
 * far (byte_source_input_offset, or record_queue_input_offset when a
 * reader thread owns the byte source).
 */
void progress_draw(uint64_t input_offset);

/*
 * Erase the line from a signal handler that ends the run, as
 * progress_end would: async-signal-safe (write(2) only).
 */
void progress_erase_from_signal_handler(void);

/* The run is over: erase the line; progress_due is false from then on. */
void progress_end(void);

#endif
