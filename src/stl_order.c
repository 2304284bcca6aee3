/* stl_order: libstdc++ unordered_map iteration order (see stl_order.h). */
#include "stl_order.h"

#include <stdbool.h>
#include <stdlib.h>

#include "xmalloc.h"

#define NIL SIZE_MAX

/*
 * The bucket counts an insert-only map goes through: the first insertion
 * makes 13 buckets (libstdc++ starts at 11 and takes the next entry of
 * its list, 13), and each later growth asks for twice as many and gets
 * the next entry of its __prime_list at least that large.
 */
static const uint64_t bucket_counts[] = {
	13, 29, 59, 127, 257, 541, 1109, 2357, 5087, 10273, 20753, 42043, 85229, 172933,
	351061, 712697, 1447153, 2938679, 5967347, 12117689, 24607243, 49969847,
	101473717, 206062531, 418451333,
};

static bool
is_prime(uint64_t n)
{
	if (n < 2)
		return false;
	for (uint64_t d = 2; d * d <= n; d++)
		if (n % d == 0)
			return false;
	return true;
}

/*
 * The bucket count after nb.  Beyond the table (more than 418 million
 * distinct keys, which no capture has), the smallest prime at least twice
 * as large stands in for libstdc++'s list.
 */
static uint64_t
next_bucket_count(uint64_t nb)
{
	for (size_t i = 0; i < sizeof bucket_counts / sizeof bucket_counts[0]; i++)
		if (bucket_counts[i] > nb)
			return bucket_counts[i];
	uint64_t n = 2 * nb;
	while (!is_prime(n))
		n++;
	return n;
}

struct stl_map {
	const uint64_t *keys;
	size_t *next;			/* next[n] is the list head (before_begin) */
	size_t head;			/* the index standing for before_begin */
	size_t *before;			/* per bucket: the node before its first, or NIL */
	uint64_t nb;
};

static size_t
bucket_of(const struct stl_map *m, size_t node)
{
	return (size_t)(m->keys[node] % m->nb);
}

/* _M_rehash_aux for unique keys: relink the list into nb buckets. */
static void
rehash(struct stl_map *m, uint64_t nb)
{
	size_t p = m->next[m->head];
	size_t last = 0;

	m->nb = nb;
	free(m->before);
	m->before = xreallocarray(NULL, (size_t)nb, sizeof *m->before);
	for (size_t b = 0; b < nb; b++)
		m->before[b] = NIL;
	m->next[m->head] = NIL;
	while (p != NIL) {
		size_t following = m->next[p];
		size_t b = bucket_of(m, p);
		if (m->before[b] == NIL) {
			m->next[p] = m->next[m->head];
			m->next[m->head] = p;
			m->before[b] = m->head;
			if (m->next[p] != NIL)
				m->before[last] = p;
			last = b;
		} else {
			m->next[p] = m->next[m->before[b]];
			m->next[m->before[b]] = p;
		}
		p = following;
	}
}

/* _M_insert_bucket_begin. */
static void
insert(struct stl_map *m, size_t node)
{
	size_t b = bucket_of(m, node);

	if (m->before[b] != NIL) {
		m->next[node] = m->next[m->before[b]];
		m->next[m->before[b]] = node;
		return;
	}
	m->next[node] = m->next[m->head];
	m->next[m->head] = node;
	if (m->next[node] != NIL)
		m->before[bucket_of(m, m->next[node])] = node;
	m->before[b] = m->head;
}

void
stl_iteration_order(const uint64_t *keys, size_t n, size_t *order)
{
	struct stl_map m = { .keys = keys, .head = n, .nb = 1 };
	uint64_t next_resize = 0;

	m.next = xreallocarray(NULL, n + 1, sizeof *m.next);
	m.next[m.head] = NIL;
	m.before = xreallocarray(NULL, 1, sizeof *m.before);
	m.before[0] = NIL;
	for (size_t count = 0; count < n; count++) {
		/*
		 * _Prime_rehash_policy::_M_need_rehash with a load factor of 1:
		 * the map grows when it would hold more keys than buckets.
		 */
		if (count + 1 > next_resize) {
			rehash(&m, next_bucket_count(m.nb));
			next_resize = m.nb;
		}
		insert(&m, count);
	}
	size_t k = 0;
	for (size_t p = m.next[m.head]; p != NIL; p = m.next[p])
		order[k++] = p;
	free(m.next);
	free(m.before);
}
