/* owned: allocations freed all at once (see owned.h). */
#include "owned.h"

#include <stdlib.h>

#include "xmalloc.h"

void *
owned_keep(struct owned *o, void *p)
{
	o->items = xgrowarray(o->items, &o->cap, o->count + 1, sizeof *o->items, 64);
	o->items[o->count++] = p;
	return p;
}

void
owned_free(struct owned *o)
{
	for (size_t i = 0; i < o->count; i++)
		free(o->items[i]);
	free(o->items);
	*o = (struct owned){ 0 };
}
