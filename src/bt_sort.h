/*
 * bt_sort: libbacktrace's backtrace_qsort, for the native symbolizer's
 * tables (elf_symbols, dwarf_frames).  Equal elements (symbol aliases at
 * one address, ranges with the same bounds) end up in the order this
 * exact algorithm leaves them, and which one a lookup meets depends on it,
 * so qsort() would not do.
 */
#ifndef MT_BT_SORT_H
#define MT_BT_SORT_H

#include <stddef.h>

void bt_sort(void *items, size_t count, size_t size, int (*compare)(const void *, const void *));

#endif
