/*
 * random_seed: a 64-bit seed that a capture cannot predict.
 *
 * The hash tables take their layout from keys that the capture chooses
 * (addresses, code ids, thread ids).  With a fixed hash a crafted capture
 * could pile every key on one probe run and make each record cost as much
 * as all the live ones: quadratic time.  Seeding them per run takes that
 * away; no output depends on the layout.  (The mmap ranges' B+ tree,
 * interval_list, stays balanced whatever the keys.)
 */
#ifndef MT_RANDOM_SEED_H
#define MT_RANDOM_SEED_H

#include <stdint.h>

/* From getrandom(2); a fixed nonzero value if the kernel gives none. */
uint64_t random_seed(void);

#endif
