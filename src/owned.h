/*
 * owned: allocations freed all at once, for data whose pieces are shared
 * and have no single owner to free them (the native symbolizer's DWARF
 * functions, its demangled names).
 */
#ifndef MT_OWNED_H
#define MT_OWNED_H

#include <stddef.h>

struct owned {
	void **items;
	size_t count, cap;
};

/* Free p with o; returns p.  A zeroed struct owned is empty. */
void *owned_keep(struct owned *o, void *p);
/* Free everything kept, and the list. */
void owned_free(struct owned *o);

#endif
