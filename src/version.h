/*
 * version: what --version prints.
 *
 * As `curl --version` and `zstd -vV` do, it names the libraries the program
 * runs with and what it reads and writes, so that a bug report can say it
 * in one paste:
 *
 *   memray-transform 0.1.0
 *   Libraries: lz4/1.9.4 zstd/1.5.4 elfutils/0.188 ...
 *   Formats: csv gprof2dot speedscope folded pprof
 *   Captures: versions 10 (memray 1.7-1.10), ..., 13 (memray 1.20); raw, ...
 *
 * The Formats line is the one list the shell completions read.
 */
#ifndef MT_VERSION_H
#define MT_VERSION_H

#include <stdio.h>

/* Print the version lines on out. */
void version_print(FILE *out);

#endif
