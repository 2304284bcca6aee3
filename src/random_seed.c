/* random_seed: a 64-bit seed that a capture cannot predict (see random_seed.h). */
#include "random_seed.h"

#include <sys/random.h>

uint64_t
random_seed(void)
{
	uint64_t seed = 0;

	/* GRND_NONBLOCK: early at boot, a predictable seed beats waiting. */
	if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed || seed == 0)
		seed = UINT64_C(0x9e3779b97f4a7c15);
	return seed;
}
