/*
 * random_seed: a 64-bit seed that a capture cannot predict.
 *
 * The hash tables and the mmap treap take their layout from keys that the
 * capture chooses (addresses, code ids, thread ids).  With a fixed hash or
 * fixed priorities a crafted capture could pile every key on one probe
 * run, or shape the treap into a chain, and make each record cost as much
 * as all the live ones: quadratic time, or a stack overflow.  Seeding them
 * per run takes that away; no output depends on the layout.
 */
#ifndef MT_RANDOM_SEED_H
#define MT_RANDOM_SEED_H

#include <stdint.h>

/* From getrandom(2); a fixed nonzero value if the kernel gives none. */
uint64_t random_seed(void);

#endif
