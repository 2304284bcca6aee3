/* live_mappings: the live mmapped ranges, as pieces with ids (see live_mappings.h). */
#include "live_mappings.h"

#include <inttypes.h>
#include <stdlib.h>

#include "message.h"
#include "xmalloc.h"

void
live_mappings_init(struct live_mappings *m)
{
	*m = (struct live_mappings){ 0 };
	interval_list_init(&m->ranges);
}

void
live_mappings_free(struct live_mappings *m)
{
	interval_list_free(&m->ranges);
	free(m->free_ids);
	free(m->changes);
	live_mappings_init(m);
}

static uint32_t
new_piece(struct live_mappings *m)
{
	if (m->n_free_ids > 0)
		return m->free_ids[--m->n_free_ids];
	if (m->n_ids == NO_PIECE)
		fatal("more than %" PRIu32 " live mmapped ranges", NO_PIECE);
	return m->n_ids++;
}

/* The end of [address, address + size): the address space's end if that wraps (as memray's does not). */
static uint64_t
range_end(uint64_t address, uint64_t size)
{
	return size > UINT64_MAX - address ? UINT64_MAX : address + size;
}

uint32_t
live_mappings_map(struct live_mappings *m, uint64_t address, uint64_t size)
{
	uint32_t piece = new_piece(m);

	interval_list_add(&m->ranges, address, range_end(address, size), piece);
	return piece;
}

/* interval_list_remove's observer: note the change; a split's second part is a new piece. */
static uint32_t
note_change(void *ctx, uint32_t owner, enum interval_change kind, uint64_t removed)
{
	struct live_mappings *m = ctx;
	uint32_t second = NO_PIECE;

	if (kind == INTERVAL_SPLIT) {
		second = new_piece(m);
	} else if (kind == INTERVAL_DROPPED) {
		m->free_ids = xgrowarray(m->free_ids, &m->free_ids_cap, m->n_free_ids + 1,
		    sizeof *m->free_ids, 64);
		m->free_ids[m->n_free_ids++] = owner;
	}
	m->changes = xgrowarray(m->changes, &m->changes_cap, m->n_changes + 1, sizeof *m->changes, 4);
	m->changes[m->n_changes++] = (struct mapping_change){ removed, owner, second, kind };
	return second;
}

struct mapping_note
live_mappings_follow(struct live_mappings *m, bool unmap, uint64_t address, uint64_t size)
{
	struct mapping_note note = { .piece = NO_PIECE };
	size_t n;

	if (m == NULL)
		return note;
	if (unmap) {
		note.changes = live_mappings_unmap(m, address, size, &n);
		note.n_changes = (uint32_t)n;
	} else if (size > 0) {
		note.piece = live_mappings_map(m, address, size);
	}
	return note;
}

const struct mapping_change *
live_mappings_unmap(struct live_mappings *m, uint64_t address, uint64_t size, size_t *n)
{
	m->n_changes = 0;
	interval_list_remove(&m->ranges, address, range_end(address, size), note_change, m);
	*n = m->n_changes;
	return m->changes;
}
