/* interval_list: live mmap ranges and how munmap cuts them (see interval_list.h). */
#include "interval_list.h"

#include <stdlib.h>

#include "xmalloc.h"

void
interval_list_init(struct interval_list *list)
{
	*list = (struct interval_list){ 0 };
}

void
interval_list_free(struct interval_list *list)
{
	free(list->items);
	free(list->scratch);
	interval_list_init(list);
}

static void
append(struct interval **items, size_t *len, size_t *cap, struct interval iv)
{
	*items = xgrowarray(*items, cap, *len + 1, sizeof **items, 16);
	(*items)[(*len)++] = iv;
}

void
interval_list_add(struct interval_list *list, uint64_t start, uint64_t end, uint32_t owner)
{
	append(&list->items, &list->len, &list->cap, (struct interval){ start, end, owner });
}

uint64_t
interval_list_remove(struct interval_list *list, uint64_t start, uint64_t end,
    interval_observer observe, void *ctx)
{
	size_t out_len = 0;
	uint64_t removed = 0;

	/* Rebuild into scratch, in order, as memray's IntervalTree::removeInterval does. */
	for (size_t i = 0; i < list->len; i++) {
		struct interval iv = list->items[i];
		uint64_t lo = iv.start > start ? iv.start : start;
		uint64_t hi = iv.end < end ? iv.end : end;

		if (lo >= hi) {
			append(&list->scratch, &out_len, &list->scratch_cap, iv);
			continue;
		}
		removed += hi - lo;
		if (lo == iv.start && hi == iv.end) {
			observe(ctx, iv.owner, INTERVAL_DROPPED, hi - lo);
		} else if (lo == iv.start) {
			observe(ctx, iv.owner, INTERVAL_SHRUNK, hi - lo);
			append(&list->scratch, &out_len, &list->scratch_cap,
			    (struct interval){ hi, iv.end, iv.owner });
		} else if (hi == iv.end) {
			observe(ctx, iv.owner, INTERVAL_SHRUNK, hi - lo);
			append(&list->scratch, &out_len, &list->scratch_cap,
			    (struct interval){ iv.start, lo, iv.owner });
		} else {
			uint32_t second = observe(ctx, iv.owner, INTERVAL_SPLIT, hi - lo);
			append(&list->scratch, &out_len, &list->scratch_cap,
			    (struct interval){ iv.start, lo, iv.owner });
			append(&list->scratch, &out_len, &list->scratch_cap,
			    (struct interval){ hi, iv.end, second });
		}
	}
	struct interval *swap = list->items;
	size_t swap_cap = list->cap;
	list->items = list->scratch;
	list->cap = list->scratch_cap;
	list->len = out_len;
	list->scratch = swap;
	list->scratch_cap = swap_cap;
	return removed;
}
