/*
 * output: where the report goes, and the signals that end a run.
 *
 * The report goes to standard output, or with -o to a temporary file
 * beside FILE that is renamed over it only once the report is complete,
 * so that an error, a full disk or a signal never leaves a partial FILE.
 * The temporary file is removed by every way out: the exit status, exit()
 * (fatal), and the signals that end a run, which are caught for it and
 * for the progress line (as xz's file_io.c and signals.c do).
 */
#ifndef MT_OUTPUT_H
#define MT_OUTPUT_H

#include <stdio.h>

/*
 * Catch the signals that end a run (SIGHUP, SIGINT, SIGTERM, SIGPIPE,
 * SIGXCPU, SIGXFSZ; not those ignored from the start, as under nohup,
 * except SIGPIPE), so that they erase the progress line and remove the
 * temporary file before the process dies of them.
 */
void output_catch_signals(void);

/*
 * Open the report's destination: standard output if path is NULL, else
 * FILE, which must not be the file input_fd reads.  Returns NULL after an
 * error message.
 */
FILE *output_open(const char *path, int input_fd);

/*
 * Finish the output opened by output_open: flush it, and rename the
 * temporary file into place if status (the run's exit status) is 0 and
 * nothing failed.  Returns the exit status.
 */
int output_close(FILE *out, int status);

#endif
