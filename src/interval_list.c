/* interval_list: live mmap ranges and how munmap cuts them (see interval_list.h). */
#include "interval_list.h"

#include <stdbool.h>
#include <stdlib.h>

#include "message.h"
#include "random_seed.h"
#include "xmalloc.h"

#define NIL UINT32_MAX

/*
 * A live range.  The treap's key is (start, order), unique because the
 * pieces of one mmap never overlap; a node's priority is at least its
 * children's.  A node keeps the largest end of each child's subtree, so
 * that a search decides where to go from the nodes on its path alone: it
 * never reads a child only to learn that nothing there overlaps.
 */
struct interval_node {
	uint64_t start, end;
	uint64_t left_max_end, right_max_end;	/* 0 for no child */
	uint64_t order;		/* the mmap it is a piece of: its place in memray's vector */
	uint32_t owner;
	uint32_t priority;
	uint32_t left, right;	/* left also links the free nodes */
};

/* A range that a removal cuts, in the order memray's vector has it. */
struct interval_cut {
	uint64_t order, start;
	uint32_t node;
};

void
interval_list_init(struct interval_list *list)
{
	/* Priorities a capture cannot predict, or it could make the treap a chain (random_seed.h). */
	*list = (struct interval_list){ .root = NIL, .free_nodes = NIL, .random = random_seed() };
}

void
interval_list_free(struct interval_list *list)
{
	free(list->nodes);
	free(list->cuts);
	/* Empty again; the priorities go on from the same random state. */
	*list = (struct interval_list){ .root = NIL, .free_nodes = NIL, .random = list->random };
}

static uint32_t
next_priority(struct interval_list *list)
{
	/* xorshift64: any spread of priorities keeps the treap balanced on average. */
	list->random ^= list->random << 13;
	list->random ^= list->random >> 7;
	list->random ^= list->random << 17;
	return (uint32_t)(list->random >> 32);
}

/* Whether node n's key comes before (start, order). */
static bool
key_before(const struct interval_node *n, uint64_t start, uint64_t order)
{
	return n->start < start || (n->start == start && n->order < order);
}

static uint64_t
max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* The largest end in subtree t (0 if empty). */
static uint64_t
subtree_max_end(const struct interval_list *list, uint32_t t)
{
	if (t == NIL)
		return 0;
	const struct interval_node *n = &list->nodes[t];
	return max_u64(n->end, max_u64(n->left_max_end, n->right_max_end));
}

static void
update_max_end(struct interval_list *list, uint32_t t)
{
	struct interval_node *n = &list->nodes[t];

	n->left_max_end = subtree_max_end(list, n->left);
	n->right_max_end = subtree_max_end(list, n->right);
}

/* Split treap t into the nodes before (start, order) and the others. */
static void
split(struct interval_list *list, uint32_t t, uint64_t start, uint64_t order, uint32_t *before,
    uint32_t *after)
{
	if (t == NIL) {
		*before = *after = NIL;
		return;
	}
	struct interval_node *n = &list->nodes[t];
	if (key_before(n, start, order)) {
		split(list, n->right, start, order, &n->right, after);
		*before = t;
	} else {
		split(list, n->left, start, order, before, &n->left);
		*after = t;
	}
	update_max_end(list, t);
}

/* Join treaps a and b, every key of a coming before every key of b. */
static uint32_t
merge(struct interval_list *list, uint32_t a, uint32_t b)
{
	if (a == NIL)
		return b;
	if (b == NIL)
		return a;
	if (list->nodes[a].priority >= list->nodes[b].priority) {
		uint32_t right = merge(list, list->nodes[a].right, b);
		list->nodes[a].right = right;
		update_max_end(list, a);
		return a;
	}
	uint32_t left = merge(list, a, list->nodes[b].left);
	list->nodes[b].left = left;
	update_max_end(list, b);
	return b;
}

/*
 * Put node t into the treap: down the search path, past the nodes of
 * higher priority (whose subtrees gain t's end), to where t's priority
 * puts it; the subtree found there, split by t's key, becomes its
 * children.  Only that subtree, small on average, is rebuilt: a split of
 * the whole treap and two merges cost several times more.
 */
static void
insert(struct interval_list *list, uint32_t t)
{
	struct interval_node *n = &list->nodes[t];
	uint32_t *link = &list->root;

	while (*link != NIL && list->nodes[*link].priority >= n->priority) {
		struct interval_node *above = &list->nodes[*link];
		if (key_before(above, n->start, n->order)) {
			above->right_max_end = max_u64(above->right_max_end, n->end);
			link = &above->right;
		} else {
			above->left_max_end = max_u64(above->left_max_end, n->end);
			link = &above->left;
		}
	}
	split(list, *link, n->start, n->order, &n->left, &n->right);
	update_max_end(list, t);
	*link = t;
}

/*
 * Take node t out of subtree u, which holds it; returns the subtree's new
 * root.  t's children, merged, take its place.  An ancestor's largest end
 * changes only if it was t's.
 */
static uint32_t
unlink_from(struct interval_list *list, uint32_t u, uint32_t t)
{
	const struct interval_node *gone = &list->nodes[t];
	struct interval_node *n = &list->nodes[u];

	if (u == t)
		return merge(list, n->left, n->right);
	if (key_before(n, gone->start, gone->order)) {
		n->right = unlink_from(list, n->right, t);
		if (n->right_max_end <= gone->end)
			n->right_max_end = subtree_max_end(list, n->right);
	} else {
		n->left = unlink_from(list, n->left, t);
		if (n->left_max_end <= gone->end)
			n->left_max_end = subtree_max_end(list, n->left);
	}
	return u;
}

/* Take node t out of the treap (it stays allocated). */
static void
unlink_node(struct interval_list *list, uint32_t t)
{
	list->root = unlink_from(list, list->root, t);
}

static uint32_t
new_node(struct interval_list *list, uint64_t start, uint64_t end, uint64_t order, uint32_t owner)
{
	uint32_t t = list->free_nodes;

	if (t != NIL) {
		list->free_nodes = list->nodes[t].left;
	} else {
		if (list->n_nodes >= NIL)
			fatal("more than %u live mmapped ranges", NIL - 1);
		list->nodes = xgrowarray(list->nodes, &list->nodes_cap, list->n_nodes + 1,
		    sizeof *list->nodes, 16);
		t = (uint32_t)list->n_nodes++;
	}
	list->nodes[t] = (struct interval_node){
		.start = start, .end = end, .order = order, .owner = owner,
		.priority = next_priority(list),
	};
	list->count++;
	return t;
}

static void
free_node(struct interval_list *list, uint32_t t)
{
	list->nodes[t].left = list->free_nodes;
	list->free_nodes = t;
	list->count--;
}

void
interval_list_add(struct interval_list *list, uint64_t start, uint64_t end, uint32_t owner)
{
	insert(list, new_node(list, start, end, list->added++, owner));
}

static void
add_cut(struct interval_list *list, size_t *n_cuts, uint32_t t)
{
	list->cuts = xgrowarray(list->cuts, &list->cuts_cap, *n_cuts + 1, sizeof *list->cuts, 16);
	list->cuts[(*n_cuts)++] = (struct interval_cut){ list->nodes[t].order, list->nodes[t].start, t };
}

/*
 * The ranges of treap t that overlap [start, end): a subtree whose ends
 * all come at or before start has none, and nothing right of a node that
 * starts at or after end overlaps.
 */
static void
find_cuts(struct interval_list *list, uint32_t t, uint64_t start, uint64_t end, size_t *n_cuts)
{
	while (t != NIL) {
		const struct interval_node *n = &list->nodes[t];
		if (n->left_max_end > start)
			find_cuts(list, n->left, start, end, n_cuts);
		if (n->start >= end)
			return;
		if (n->end > start && n->start < n->end)
			add_cut(list, n_cuts, t);
		if (n->right_max_end <= start)
			return;
		t = n->right;
	}
}

static int
by_vector_order(const void *a, const void *b)
{
	const struct interval_cut *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return (x->start > y->start) - (x->start < y->start);
}

uint64_t
interval_list_remove(struct interval_list *list, uint64_t start, uint64_t end,
    interval_observer observe, void *ctx)
{
	size_t n_cuts = 0;
	uint64_t removed = 0;

	if (start >= end)
		return 0;
	find_cuts(list, list->root, start, end, &n_cuts);
	struct interval_cut *cuts = list->cuts;
	if (n_cuts > 1)
		qsort(cuts, n_cuts, sizeof *cuts, by_vector_order);
	/* Each cut as memray's IntervalTree::removeInterval makes it, in its order. */
	for (size_t i = 0; i < n_cuts; i++) {
		uint32_t t = cuts[i].node;
		struct interval_node iv = list->nodes[t];
		uint64_t lo = iv.start > start ? iv.start : start;
		uint64_t hi = iv.end < end ? iv.end : end;

		removed += hi - lo;
		unlink_node(list, t);
		if (lo == iv.start && hi == iv.end) {
			observe(ctx, iv.owner, INTERVAL_DROPPED, hi - lo);
			free_node(list, t);
			continue;
		}
		if (lo == iv.start) {
			observe(ctx, iv.owner, INTERVAL_SHRUNK, hi - lo);
			list->nodes[t].start = hi;
		} else if (hi == iv.end) {
			observe(ctx, iv.owner, INTERVAL_SHRUNK, hi - lo);
			list->nodes[t].end = lo;
		} else {
			uint32_t second = observe(ctx, iv.owner, INTERVAL_SPLIT, hi - lo);
			list->nodes[t].end = lo;
			insert(list, new_node(list, hi, iv.end, iv.order, second));
		}
		insert(list, t);
	}
	return removed;
}

size_t
interval_list_count(const struct interval_list *list)
{
	return list->count;
}

static size_t
subtree_height(const struct interval_list *list, uint32_t t)
{
	if (t == NIL)
		return 0;
	size_t left = subtree_height(list, list->nodes[t].left);
	size_t right = subtree_height(list, list->nodes[t].right);
	return 1 + (left > right ? left : right);
}

size_t
interval_list_height(const struct interval_list *list)
{
	return subtree_height(list, list->root);
}

static void
collect_all(const struct interval_list *list, uint32_t t, struct interval_cut *out, size_t *n)
{
	for (; t != NIL; t = list->nodes[t].right) {
		collect_all(list, list->nodes[t].left, out, n);
		out[(*n)++] = (struct interval_cut){ list->nodes[t].order, list->nodes[t].start, t };
	}
}

void
interval_list_items(const struct interval_list *list, struct interval *out)
{
	struct interval_cut *all = xreallocarray(NULL, list->count ? list->count : 1, sizeof *all);
	size_t n = 0;

	collect_all(list, list->root, all, &n);
	qsort(all, n, sizeof *all, by_vector_order);
	for (size_t i = 0; i < n; i++) {
		const struct interval_node *node = &list->nodes[all[i].node];
		out[i] = (struct interval){ node->start, node->end, node->owner };
	}
	free(all);
}
