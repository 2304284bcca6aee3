/*
 * output: where the report goes, and the signals that end a run.
 *
 * The report goes to standard output, or with -o to a temporary file
 * beside FILE that is renamed over it only once the report is complete,
 * so that an error, a full disk or a signal never leaves a partial FILE.
 * The temporary file is removed by every way out: the exit status, exit()
 * (fatal), and the signals that end a run, which are caught for it (as
 * xz's file_io.c and signals.c do).
 */
#ifndef MT_OUTPUT_H
#define MT_OUTPUT_H

#include <stdio.h>

/*
 * Open the report's destination: standard output if path is NULL, else
 * FILE.  Returns NULL after an error message.
 */
FILE *output_open(const char *path);

/*
 * Finish the output opened by output_open: flush it, and rename the
 * temporary file into place if status (the run's exit status) is 0 and
 * nothing failed.  Returns the exit status.
 */
int output_close(FILE *out, int status);

#endif
