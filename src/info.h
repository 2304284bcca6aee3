/*
 * info: what a capture is, as text (--info).
 *
 * The header, decoded, and the number of records of each type after a
 * full scan, so that a user can see what a capture holds (and whether it
 * is whole) before transforming it.
 */
#ifndef MT_INFO_H
#define MT_INFO_H

#include <stdio.h>

/* Describe the capture read from fd on out.  Returns the exit status. */
int info_run(int fd, FILE *out);

#endif
