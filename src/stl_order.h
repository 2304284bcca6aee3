/*
 * stl_order: the order in which a libstdc++ std::unordered_map iterates
 * integer keys inserted one by one and never erased.
 *
 * memray stats builds some of its tables in such maps (allocation counts
 * by allocator, byte and count totals by Python stack) and turns them into
 * Python dicts in the map's order; a stable sort by value then keeps that
 * order among equal values.  To list ties as memray does, the order is
 * replayed here: doc/capture-format.md Appendix A (std::hash of an integer is
 * the integer, buckets grow through libstdc++'s prime list, a new key goes
 * to the front of its bucket or, in an empty bucket, of the whole list).
 */
#ifndef MT_STL_ORDER_H
#define MT_STL_ORDER_H

#include <stddef.h>
#include <stdint.h>

/*
 * keys[0..n) are distinct, in insertion order.  order[0..n) receives the
 * indexes into keys in iteration order.
 */
void stl_iteration_order(const uint64_t *keys, size_t n, size_t *order);

#endif
