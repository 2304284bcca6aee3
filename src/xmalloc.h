/*
 * xmalloc: allocation wrappers that never return NULL.
 *
 * Running out of memory is reported once and ends the program with exit
 * status 1, as tmux's and OpenSSH's xmalloc do: no caller has a meaningful
 * way to recover, and checking every allocation would hide the real logic.
 */
#ifndef MT_XMALLOC_H
#define MT_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Resize an array of count elements of size bytes, checking for overflow. */
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
char *xmemdup(const void *data, size_t len);

#endif
