/* xmalloc: allocation wrappers that never return NULL (see xmalloc.h). */
#include "xmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

static void *
check(void *p, size_t size)
{
	if (p == NULL && size != 0)
		fatal("out of memory (%zu bytes)", size);
	return p;
}

void *
xmalloc(size_t size)
{
	return check(malloc(size ? size : 1), size ? size : 1);
}

void *
xcalloc(size_t count, size_t size)
{
	if (count == 0 || size == 0)
		count = size = 1;
	return check(calloc(count, size), count * size);
}

void *
xrealloc(void *ptr, size_t size)
{
	if (size == 0)
		size = 1;
	return check(realloc(ptr, size), size);
}

void *
xreallocarray(void *ptr, size_t count, size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		fatal("out of memory (%zu x %zu bytes)", count, size);
	return xrealloc(ptr, count * size);
}

/* xgrowarray's slow path: need > *cap. */
void *
xgrowarray_resize(void *ptr, size_t *cap, size_t need, size_t size, size_t initial)
{
	size_t n = *cap;

	if (n == 0)
		n = initial ? initial : 1;
	/* Doubling past SIZE_MAX: ask for exactly need, which xreallocarray checks. */
	while (n < need)
		n = n <= SIZE_MAX / 2 ? n * 2 : need;
	ptr = xreallocarray(ptr, n, size);
	*cap = n;
	return ptr;
}

void *
xgrowzeroed(void *ptr, size_t *len, size_t *cap, size_t need, size_t size)
{
	if (need <= *len)
		return ptr;
	ptr = xgrowarray(ptr, cap, need, size, 16);
	memset((char *)ptr + *len * size, 0, (need - *len) * size);
	*len = need;
	return ptr;
}

char *
xstrdup(const char *s)
{
	return xmemdup(s, strlen(s) + 1);
}

char *
xmemdup(const void *data, size_t len)
{
	char *copy = xmalloc(len);

	if (len != 0)
		memcpy(copy, data, len);
	return copy;
}

char *
xstrndup(const char *s, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}
