/* bt_sort: libbacktrace's sort (see bt_sort.h). */
#include "bt_sort.h"

static void
swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	while (size-- > 0) {
		unsigned char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

/*
 * The middle element becomes the pivot at the front, one sweep gathers the
 * elements it compares greater than right behind it, the pivot moves to
 * the end of that run, and both sides are sorted the same way.
 */
void
bt_sort(void *items, size_t count, size_t size, int (*compare)(const void *, const void *))
{
	unsigned char *base = items;

	while (count >= 2) {
		size_t below = 0;

		swap_bytes(base, base + count / 2 * size, size);
		for (size_t i = 1; i < count; i++) {
			if (compare(base, base + i * size) > 0) {
				below++;
				if (i != below)
					swap_bytes(base + below * size, base + i * size, size);
			}
		}
		if (below > 0)
			swap_bytes(base, base + below * size, size);
		/* Recurse into the smaller side, loop on the larger. */
		if (2 * below < count) {
			bt_sort(base, below, size, compare);
			base += (below + 1) * size;
			count -= below + 1;
		} else {
			bt_sort(base + (below + 1) * size, count - below - 1, size, compare);
			count = below;
		}
	}
}
