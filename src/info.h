/*
 * info: what a capture is, as text (--info).
 *
 * The header, decoded, and the number of records of each type after a
 * full scan, so that a user can see what a capture holds (and whether it
 * is whole) before transforming it.
 */
#ifndef MT_INFO_H
#define MT_INFO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* The memray releases that write a capture format version: "memray 1.19". */
const char *info_memray_versions(int32_t version);

/*
 * Describe the capture read from fd on out, decoding it in a reader
 * thread if threaded (--threads).  Returns the exit status.
 */
int info_run(int fd, FILE *out, bool threaded);

#endif
