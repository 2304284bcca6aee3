/* interval_list: live mmap ranges and how munmap cuts them (see interval_list.h). */
#include "interval_list.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "prefetch.h"
#include "xmalloc.h"

#define NIL UINT32_MAX

/*
 * Entries a node holds.  32: 50,000 live ranges make a tree 4 high.  On
 * bench's --mmap-share 50 shape, 64 (3 high) took 3.4% fewer instructions
 * and 9% less cpu time (bench/compare 0.914) until a node's starts were
 * prefetched (prefetch_starts); since, 32 takes 2.9% fewer instructions
 * and 4% less time (0.963): half the lines to fetch, half the entries to
 * move.
 */
#define FANOUT 32
/*
 * A child this small is merged with a neighbour it fits with, so that
 * nodes stay well filled.  Half a node: at the end of 10^7 records of
 * bench's --mmap-share 50 shape (72,457 live ranges) the tree holds 3,510
 * nodes, against 4,918 with a quarter, so more of its leaves stay in the
 * cache: 0.5% more instructions (the merges), 0.94 times the wall time
 * (paired medians, one thread and two).  Three quarters took 1.05 times
 * the time of a half.
 */
#define MERGE_BELOW (FANOUT / 2)

/*
 * A node of the B+ tree; a leaf if its height is 0.  Entries are sorted
 * by key (start, order), one array per field.  A leaf's entries are the
 * ranges, their keys unique because the pieces of one mmap never
 * overlap.  An inner node's entry i is a child: its keys run from
 * (start[i], order[i]) up to entry i+1's (entry 0's key is only a lower
 * bound of its keys), and end[i] is the largest end in it.
 *
 * reach[i] is the largest of end[0..i], so that a search stops at the
 * first entry from which nothing earlier overlaps it: ranges that do not
 * overlap each other (most mmaps) make that the entry it starts in.
 */
struct interval_node {
	uint64_t start[FANOUT];
	uint64_t order[FANOUT];		/* a leaf: the mmap its range is a piece of, its place in memray's vector */
	uint64_t end[FANOUT];
	uint64_t reach[FANOUT];
	uint32_t id[FANOUT];		/* a leaf: the range's owner; an inner node: the child; id[0] links the free nodes */
	uint32_t n;
};

/* A range that a removal cuts, copied out, in the order memray's vector has it. */
struct interval_cut {
	uint64_t order, start, end;
	uint32_t owner;
};

void
interval_list_init(struct interval_list *list)
{
	*list = (struct interval_list){ .root = NIL, .free_nodes = NIL };
}

void
interval_list_free(struct interval_list *list)
{
	free(list->nodes);
	free(list->cuts);
	interval_list_init(list);
}

/* Whether key (s1, o1) comes before (s2, o2). */
static bool
key_less(uint64_t s1, uint64_t o1, uint64_t s2, uint64_t o2)
{
	return s1 < s2 || (s1 == s2 && o1 < o2);
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint32_t
new_node(struct interval_list *list)
{
	uint32_t t = list->free_nodes;

	if (t != NIL) {
		list->free_nodes = list->nodes[t].id[0];
	} else {
		if (list->n_nodes >= NIL)
			fatal("more than %u live mmapped ranges", NIL - 1);
		list->nodes = xgrowarray(list->nodes, &list->nodes_cap, list->n_nodes + 1,
		    sizeof *list->nodes, 16);
		t = (uint32_t)list->n_nodes++;
	}
	list->nodes[t].n = 0;
	return t;
}

static void
free_node(struct interval_list *list, uint32_t t)
{
	list->nodes[t].id[0] = list->free_nodes;
	list->free_nodes = t;
}

/* The largest end in node x's subtree (0 if it is empty). */
static uint64_t
node_max_end(const struct interval_node *x)
{
	return x->n ? x->reach[x->n - 1] : 0;
}

/*
 * Make reach right again from entry `from` on, after an end there
 * changed or entries moved: the reaches after `from` still agree with
 * each other, so the first one found unchanged ends the pass.
 */
static void
fix_reach(struct interval_node *x, uint32_t from)
{
	uint64_t r = from ? x->reach[from - 1] : 0;

	for (uint32_t j = from; j < x->n; j++) {
		r = max_u64(r, x->end[j]);
		if (j > from && x->reach[j] == r)
			return;
		x->reach[j] = r;
	}
}

/*
 * The binary searches halve the range without a branch on the keys (a
 * conditional move), which a search's random turns would mispredict.
 * Their loads depend on each other: when the node is out of the cache,
 * asking for all its starts (and its size) at once makes one wait of
 * that chain of waits.
 *
 * A leaf is asked for whole.  After its search, a removal reads the
 * entry's reach, end, order and id, each in an array of its own, and
 * moves the entries after it in all five: more waits, one after the
 * other, as the leaves outgrow the L2 cache (bench's --mmap-share 50
 * shape: about 3,000 leaves of 1,160 bytes).  There, 10^7 records took
 * 0.87 times the wall time with two threads, 0.91 with one (paired
 * medians).  Inner nodes, few and cached, get their starts only: asking
 * for the whole of every node searched took the reader thread 17% more
 * instructions (10^6 records) than before, the leaves alone 1%, for the
 * same time (paired median 0.996).
 */
static void
prefetch_node(const struct interval_node *x, bool leaf)
{
	if (!leaf) {
		cache_prefetch(&x->n);
		for (uint32_t i = 0; i < FANOUT; i += 64 / sizeof x->start[0])
			cache_prefetch(&x->start[i]);
		return;
	}
	const char *p = (const char *)x;
	/*
	 * Nodes are 8-byte aligned, so the last byte may start a line of its
	 * own.  Aligned to lines (1,216 bytes) they took 1.08 times the time
	 * (every node asked for whole, paired medians of 7 and 9 rounds).
	 */
#pragma GCC unroll 32
	for (size_t off = 0; off < sizeof *x; off += 64)
		cache_prefetch(p + off);
	cache_prefetch(p + sizeof *x - 1);
}

/*
 * Whether entry i of node x comes before the search's key: a key not
 * after (start, order), or, with starts_only, a start before `start`.
 */
static inline bool
before_key(const struct interval_node *x, uint32_t i, uint64_t start, uint64_t order, bool starts_only)
{
	if (starts_only)
		return x->start[i] < start;
	return x->start[i] < start || (x->start[i] == start && x->order[i] <= order);
}

/*
 * How many entries of node x (a leaf if `leaf`) come before the key (see
 * before_key): they come first.
 */
static inline uint32_t
count_before(const struct interval_node *x, bool leaf, uint64_t start, uint64_t order,
    bool starts_only)
{
	prefetch_node(x, leaf);
	uint32_t base = 0, len = x->n;

	if (len == 0)
		return 0;
	while (len > 1) {
		uint32_t half = len / 2;
		base = before_key(x, base + half, start, order, starts_only) ? base + half : base;
		len -= half;
	}
	return base + before_key(x, base, start, order, starts_only);
}

/* How many of node x's entries have a key not after (start, order). */
static uint32_t
count_not_after(const struct interval_node *x, bool leaf, uint64_t start, uint64_t order)
{
	return count_before(x, leaf, start, order, false);
}

/*
 * How many of node x's entries start before `end`: for a removal's search
 * of what it cuts, which needs no order compared.
 */
static uint32_t
count_starting_before(const struct interval_node *x, bool leaf, uint64_t end)
{
	return count_before(x, leaf, end, 0, true);
}

/* The child of inner node x whose keys take (start, order). */
static uint32_t
route(const struct interval_node *x, uint64_t start, uint64_t order)
{
	uint32_t i = count_not_after(x, false, start, order);

	return i ? i - 1 : 0;
}

/* Move k entries of node src from index `from` to index `to` of dst (which may be src). */
static void
move_entries(struct interval_node *dst, uint32_t to, const struct interval_node *src, uint32_t from,
    uint32_t k)
{
	/* Appends and drops at a node's end move nothing: no five calls for that. */
	if (k == 0)
		return;
	memmove(&dst->start[to], &src->start[from], k * sizeof dst->start[0]);
	memmove(&dst->order[to], &src->order[from], k * sizeof dst->order[0]);
	memmove(&dst->end[to], &src->end[from], k * sizeof dst->end[0]);
	memmove(&dst->reach[to], &src->reach[from], k * sizeof dst->reach[0]);
	memmove(&dst->id[to], &src->id[from], k * sizeof dst->id[0]);
}

/* An entry to insert: a range, or a child. */
struct entry {
	uint64_t start, order, end;
	uint32_t id;
};

/* Write e's fields into entry pos of node x (its reach is the caller's). */
static inline void
put_entry(struct interval_node *x, uint32_t pos, const struct entry *e)
{
	x->start[pos] = e->start;
	x->order[pos] = e->order;
	x->end[pos] = e->end;
	x->id[pos] = e->id;
}

/*
 * Put e into node t at index pos.  A full node splits in two halves, or,
 * when e goes at its very end (mmaps at rising addresses), gives e a node
 * of its own, so that such a run fills its nodes.  Returns the new right
 * node, or NIL if none.
 */
static uint32_t
insert_at(struct interval_list *list, uint32_t t, uint32_t pos, const struct entry *e)
{
	struct interval_node *x = &list->nodes[t];
	uint32_t right = NIL;

	if (x->n == FANOUT) {
		right = new_node(list);
		x = &list->nodes[t];
		struct interval_node *r = &list->nodes[right];
		uint32_t keep = pos == FANOUT ? FANOUT : FANOUT / 2;
		move_entries(r, 0, x, keep, FANOUT - keep);
		r->n = FANOUT - keep;
		x->n = keep;
		fix_reach(r, 0);
		if (pos >= keep) {
			pos -= keep;
			x = r;
		}
	}
	move_entries(x, pos + 1, x, pos, x->n - pos);
	put_entry(x, pos, e);
	x->n++;
	fix_reach(x, pos);
	return right;
}

/* Where an entry goes in a tree: found by search, or before or after every key (no search). */
enum place { PLACE_SEARCH, PLACE_FIRST, PLACE_LAST };

/*
 * Insert range e into subtree t; returns t's new right sibling if t split,
 * else NIL.  PLACE_FIRST and PLACE_LAST take the way a search would.
 */
static uint32_t
insert_into(struct interval_list *list, uint32_t t, unsigned height, const struct entry *e,
    enum place place)
{
	const struct interval_node *at = &list->nodes[t];

	if (height == 0)
		return insert_at(list, t, place == PLACE_FIRST ? 0 : place == PLACE_LAST ? at->n :
		    count_not_after(at, true, e->start, e->order), e);
	uint32_t i = place == PLACE_FIRST ? 0 : place == PLACE_LAST ? at->n - 1 :
	    route(at, e->start, e->order);
	uint32_t c = list->nodes[t].id[i];
	uint32_t split = insert_into(list, c, height - 1, e, place);
	struct interval_node *x = &list->nodes[t];

	if (i == 0 && key_less(e->start, e->order, x->start[0], x->order[0])) {
		x->start[0] = e->start;
		x->order[0] = e->order;
	}
	uint64_t max_end = node_max_end(&list->nodes[c]);
	if (x->end[i] != max_end) {
		x->end[i] = max_end;
		fix_reach(x, i);
	}
	if (split == NIL)
		return NIL;
	const struct interval_node *s = &list->nodes[split];
	return insert_at(list, t, i + 1,
	    &(struct entry){ s->start[0], s->order[0], node_max_end(s), split });
}

/*
 * PLACE_LAST where the rightmost leaf has room: e goes at its end, and
 * each node above, on its last entry, only takes e's end into its largest
 * ends, with no split anywhere; false, changing nothing, if the leaf is
 * full.  A loop down the right edge, where insert_into's recursion
 * checked every level for what cannot happen here: on bench's
 * --mmap-share 50 shape (10^6 records, --threads 2) the reader thread
 * took 798.3 M -> 742.1 M instructions (-7.0%).
 */
static bool
append_last(struct interval_list *list, const struct entry *e)
{
	uint32_t spine[INTERVAL_MAX_HEIGHT];
	uint32_t t = list->root;

	for (unsigned h = list->height; h > 0; h--) {
		spine[h] = t;
		t = list->nodes[t].id[list->nodes[t].n - 1];
	}
	struct interval_node *leaf = &list->nodes[t];
	if (leaf->n == FANOUT)
		return false;
	uint32_t j = leaf->n++;
	put_entry(leaf, j, e);
	leaf->reach[j] = j ? max_u64(leaf->reach[j - 1], e->end) : e->end;
	for (unsigned h = list->height; h > 0; h--) {
		struct interval_node *x = &list->nodes[spine[h]];
		uint32_t i = x->n - 1;
		x->end[i] = max_u64(x->end[i], e->end);
		x->reach[i] = max_u64(x->reach[i], e->end);
	}
	return true;
}

/*
 * Insert range e.  A key below or above every key (new mmaps mostly come
 * at falling addresses, as Linux hands them out, or at rising ones) takes
 * the tree's first or last way down without a search at each level.
 * The bounds kept may be passed: a removal leaves them as they were.
 */
static void
insert(struct interval_list *list, const struct entry *e)
{
	enum place place = PLACE_SEARCH;

	if (list->root == NIL) {
		list->root = new_node(list);
		list->height = 0;
	} else if (key_less(e->start, e->order, list->least_start, list->least_order)) {
		place = PLACE_FIRST;
	} else if (key_less(list->most_start, list->most_order, e->start, e->order)) {
		place = PLACE_LAST;
	}
	if (list->count == 0 || key_less(e->start, e->order, list->least_start, list->least_order)) {
		list->least_start = e->start;
		list->least_order = e->order;
	}
	if (list->count == 0 || key_less(list->most_start, list->most_order, e->start, e->order)) {
		list->most_start = e->start;
		list->most_order = e->order;
	}
	list->count++;
	if (place == PLACE_LAST && append_last(list, e))
		return;
	uint32_t split = insert_into(list, list->root, list->height, e, place);
	if (split == NIL)
		return;
	/* The root split: a new root above the two halves.  (32^15 ranges would fill that tree.) */
	if (list->height + 1 >= INTERVAL_MAX_HEIGHT)
		fatal("interval_list: the tree is too high");
	uint32_t old = list->root, root = new_node(list);
	const struct interval_node *a = &list->nodes[old], *b = &list->nodes[split];
	insert_at(list, root, 0, &(struct entry){ a->start[0], a->order[0], node_max_end(a), old });
	a = &list->nodes[old];
	b = &list->nodes[split];
	insert_at(list, root, 1, &(struct entry){ b->start[0], b->order[0], node_max_end(b), split });
	list->root = root;
	list->height++;
}

/* Take entry i out of node x. */
static void
remove_at(struct interval_node *x, uint32_t i)
{
	move_entries(x, i, x, i + 1, x->n - i - 1);
	x->n--;
	if (i < x->n)
		fix_reach(x, i);
}

/*
 * After child i of inner node t lost entries: drop it if empty, or merge
 * it with a neighbour if it is small and they fit in one node.
 */
static void
rebalance(struct interval_list *list, uint32_t t, uint32_t i, unsigned child_height)
{
	struct interval_node *x = &list->nodes[t];
	uint32_t size = list->nodes[x->id[i]].n;

	if (size == 0) {
		free_node(list, x->id[i]);
		remove_at(x, i);
		return;
	}
	if (size >= MERGE_BELOW || x->n < 2)
		return;
	uint32_t a = i + 1 < x->n ? i : i - 1, b = a + 1;
	struct interval_node *ca = &list->nodes[x->id[a]], *cb = &list->nodes[x->id[b]];
	uint32_t na = ca->n;
	if (na + cb->n > FANOUT)
		return;
	/* b's first key may be only a lower bound; its key here is exact, and bounds it too. */
	if (child_height > 0) {
		cb->start[0] = x->start[b];
		cb->order[0] = x->order[b];
	}
	move_entries(ca, na, cb, 0, cb->n);
	ca->n = na + cb->n;
	fix_reach(ca, na);
	free_node(list, x->id[b]);
	x->end[a] = max_u64(x->end[a], x->end[b]);
	remove_at(x, b);
	fix_reach(x, a);
}

/* The path to the range keyed (start, order). */
static void
find_path(const struct interval_list *list, uint64_t start, uint64_t order, struct interval_path *path)
{
	uint32_t t = list->root;

	for (unsigned h = list->height; h > 0; h--) {
		uint32_t i = route(&list->nodes[t], start, order);
		path->node[h] = t;
		path->at[h] = i;
		t = list->nodes[t].id[i];
	}
	const struct interval_node *leaf = &list->nodes[t];
	uint32_t pos = count_not_after(leaf, true, start, order);
	if (pos == 0 || leaf->start[pos - 1] != start || leaf->order[pos - 1] != order)
		fatal("interval_list: a range to cut is missing");
	path->node[0] = t;
	path->at[0] = pos - 1;
}

/*
 * After the leaf of path lost a range (dropped) or an end: the largest
 * ends above, and the nodes left empty or small, up to the first level
 * that nothing changed at.
 */
static void
fix_path(struct interval_list *list, const struct interval_path *path, bool dropped)
{
	for (unsigned h = 1; h <= list->height; h++) {
		struct interval_node *x = &list->nodes[path->node[h]];
		uint32_t i = path->at[h];
		const struct interval_node *child = &list->nodes[x->id[i]];
		uint64_t max_end = node_max_end(child);
		bool small = dropped && child->n < MERGE_BELOW;
		if (x->end[i] == max_end && !small)
			return;
		if (x->end[i] != max_end) {
			x->end[i] = max_end;
			fix_reach(x, i);
		}
		if (small)
			rebalance(list, path->node[h], i, h - 1);
	}
}

/* Take the range at path out. */
static void
drop(struct interval_list *list, const struct interval_path *path)
{
	remove_at(&list->nodes[path->node[0]], path->at[0]);
	fix_path(list, path, true);
	list->count--;
	/* A root left with one child gives way to it; an empty leaf root, to nothing. */
	while (list->height > 0 && list->nodes[list->root].n == 1) {
		uint32_t old = list->root;
		list->root = list->nodes[old].id[0];
		free_node(list, old);
		list->height--;
	}
	if (list->height == 0 && list->nodes[list->root].n == 0) {
		free_node(list, list->root);
		list->root = NIL;
	}
}

/* Set the end of the range at path to end, which is less. */
static void
shrink_end(struct interval_list *list, const struct interval_path *path, uint64_t end)
{
	struct interval_node *leaf = &list->nodes[path->node[0]];

	leaf->end[path->at[0]] = end;
	fix_reach(leaf, path->at[0]);
	fix_path(list, path, false);
}

/*
 * Set the start of the range at path to start, which is more: in its
 * place if it stays before the next range of its leaf (its end, so every
 * largest end, stays), else out and in again further on.
 */
static void
shrink_start(struct interval_list *list, const struct interval_path *path, uint64_t start)
{
	struct interval_node *leaf = &list->nodes[path->node[0]];
	uint32_t j = path->at[0];

	if (j + 1 < leaf->n && key_less(start, leaf->order[j], leaf->start[j + 1], leaf->order[j + 1])) {
		leaf->start[j] = start;
		return;
	}
	struct entry e = { start, leaf->order[j], leaf->end[j], leaf->id[j] };
	drop(list, path);
	insert(list, &e);
}

/*
 * Split the range at path: it keeps [its start, lo), and second, the part
 * after the cut, goes right after it in its leaf, when the leaf has room
 * and second's key comes before the next range's there (so no search
 * finds its place).  The leaf's largest end stays, as second has the
 * range's end: nothing above changes.  False if it cannot be done so.
 */
static bool
split_in_place(struct interval_list *list, const struct interval_path *path, uint64_t lo,
    const struct entry *second)
{
	struct interval_node *leaf = &list->nodes[path->node[0]];
	uint32_t j = path->at[0];

	if (leaf->n == FANOUT || j + 1 >= leaf->n ||
	    !key_less(second->start, second->order, leaf->start[j + 1], leaf->order[j + 1]))
		return false;
	leaf->end[j] = lo;
	fix_reach(leaf, j);
	insert_at(list, path->node[0], j + 1, second);
	list->count++;
	return true;
}

void
interval_list_add(struct interval_list *list, uint64_t start, uint64_t end, uint32_t owner)
{
	insert(list, &(struct entry){ start, list->added++, end, owner });
}

/* Range j of a leaf, copied out. */
static struct interval_cut
leaf_range(const struct interval_node *leaf, uint32_t j)
{
	return (struct interval_cut){ leaf->order[j], leaf->start[j], leaf->end[j], leaf->id[j] };
}

static void
add_cut(struct interval_list *list, size_t *n_cuts, const struct interval_node *leaf, uint32_t j,
    struct interval_path *path)
{
	list->cuts = xgrowarray(list->cuts, &list->cuts_cap, *n_cuts + 1, sizeof *list->cuts, 16);
	list->cuts[(*n_cuts)++] = leaf_range(leaf, j);
	/* The first cut's path is kept: when it is the only one, no second search finds it. */
	if (*n_cuts == 1) {
		path->at[0] = j;
		list->first_cut = *path;
	}
}

/*
 * The ranges of subtree t that overlap [start, end): of the entries that
 * start before end, from the last back to the first whose reach is past
 * start, those whose ends are past start.  The order they are found in
 * does not matter: the cuts are sorted.  path holds the way down to t.
 */
static void
find_cuts(struct interval_list *list, uint32_t t, unsigned height, uint64_t start, uint64_t end,
    size_t *n_cuts, struct interval_path *path)
{
	const struct interval_node *x = &list->nodes[t];

	path->node[height] = t;
	for (uint32_t j = count_starting_before(x, height == 0, end); j-- > 0 && x->reach[j] > start;) {
		if (x->end[j] <= start)
			continue;
		if (height > 0) {
			path->at[height] = j;
			find_cuts(list, x->id[j], height - 1, start, end, n_cuts, path);
		} else if (x->start[j] < x->end[j]) {
			add_cut(list, n_cuts, x, j, path);
		}
	}
}

/*
 * find_cuts from the root, as a loop down one path while one child at
 * each level is all that can hold a range overlapping [start, end): those
 * before it end by start, those after it start at end or later.  That is
 * most munmaps, as ranges seldom overlap.  Where a level has more, the
 * recursion searches on from that node, the path above it set.  On
 * bench's --mmap-share 50 shape (10^6 records, --threads 2) the reader
 * thread took 742.1 M -> 703.3 M instructions (-5.2%).
 *
 * Where the loop reaches a leaf, the one range there is the only cut:
 * true, with path leading to it and no cut listed.  Taken from there,
 * with no list, no copy of its path and back: the reader thread took
 * 638.3 M -> 616.5 M instructions (-3.4%).
 */
static bool
find_all_cuts(struct interval_list *list, uint64_t start, uint64_t end, size_t *n_cuts,
    struct interval_path *path)
{
	uint32_t t = list->root;
	unsigned h = list->height;

	for (;; h--) {
		const struct interval_node *x = &list->nodes[t];
		uint32_t c = count_starting_before(x, h == 0, end);
		if (c == 0 || x->reach[c - 1] <= start)
			return false;	/* nothing overlaps */
		uint32_t j = c - 1;
		if (x->end[j] <= start || (j > 0 && x->reach[j - 1] > start))
			break;
		path->node[h] = t;
		path->at[h] = j;
		/* An empty range cuts nothing (as find_cuts skips it). */
		if (h == 0)
			return x->start[j] < x->end[j];
		t = x->id[j];
	}
	find_cuts(list, t, h, start, end, n_cuts, path);
	return false;
}

static int
by_vector_order(const void *a, const void *b)
{
	const struct interval_cut *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

/*
 * Cut [start, end) out of range c, at path, as memray's
 * IntervalTree::removeInterval does; returns the bytes it loses.
 */
static uint64_t
cut(struct interval_list *list, const struct interval_cut *c, const struct interval_path *path,
    uint64_t start, uint64_t end, interval_observer observe, void *ctx)
{
	uint64_t lo = c->start > start ? c->start : start;
	uint64_t hi = c->end < end ? c->end : end;

	if (lo == c->start && hi == c->end) {
		observe(ctx, c->owner, INTERVAL_DROPPED, hi - lo);
		drop(list, path);
	} else if (lo == c->start) {
		observe(ctx, c->owner, INTERVAL_SHRUNK, hi - lo);
		shrink_start(list, path, hi);
	} else if (hi == c->end) {
		observe(ctx, c->owner, INTERVAL_SHRUNK, hi - lo);
		shrink_end(list, path, lo);
	} else {
		struct entry second = {
			hi, c->order, c->end, observe(ctx, c->owner, INTERVAL_SPLIT, hi - lo),
		};
		if (!split_in_place(list, path, lo, &second)) {
			shrink_end(list, path, lo);
			insert(list, &second);
		}
	}
	return hi - lo;
}

uint64_t
interval_list_remove(struct interval_list *list, uint64_t start, uint64_t end,
    interval_observer observe, void *ctx)
{
	size_t n_cuts = 0;
	uint64_t removed = 0;

	if (start >= end || list->root == NIL)
		return 0;
	struct interval_path path;
	if (find_all_cuts(list, start, end, &n_cuts, &path)) {
		struct interval_cut only = leaf_range(&list->nodes[path.node[0]], path.at[0]);

		return cut(list, &only, &path, start, end, observe, ctx);
	}
	if (n_cuts > 1)
		qsort(list->cuts, n_cuts, sizeof *list->cuts, by_vector_order);
	/* Each cut in memray's order. */
	for (size_t i = 0; i < n_cuts; i++) {
		const struct interval_cut *c = &list->cuts[i];

		/* A cut changes the tree: the paths found before lead elsewhere. */
		if (n_cuts == 1)
			path = list->first_cut;
		else
			find_path(list, c->start, c->order, &path);
		removed += cut(list, c, &path, start, end, observe, ctx);
	}
	return removed;
}

size_t
interval_list_count(const struct interval_list *list)
{
	return list->count;
}

size_t
interval_list_height(const struct interval_list *list)
{
	return list->root == NIL ? 0 : list->height + 1;
}

static void
collect_all(const struct interval_list *list, uint32_t t, unsigned height,
    struct interval_cut *out, size_t *n)
{
	const struct interval_node *x = &list->nodes[t];

	for (uint32_t j = 0; j < x->n; j++) {
		if (height > 0)
			collect_all(list, x->id[j], height - 1, out, n);
		else
			out[(*n)++] = leaf_range(x, j);
	}
}

void
interval_list_items(const struct interval_list *list, struct interval *out)
{
	struct interval_cut *all = xreallocarray(NULL, list->count ? list->count : 1, sizeof *all);
	size_t n = 0;

	if (list->root != NIL)
		collect_all(list, list->root, list->height, all, &n);
	qsort(all, n, sizeof *all, by_vector_order);
	for (size_t i = 0; i < n; i++)
		out[i] = (struct interval){ all[i].start, all[i].end, all[i].owner };
	free(all);
}
