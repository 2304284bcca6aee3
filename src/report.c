/*
 * report: which allocations a report shows, grouped by stack (see report.h).
 *
 * Peak and leaks modes keep the live set: simple allocations found by
 * address (the newest few not yet members of a group: see struct young;
 * the youngest members in a small nursery, the others in a u64index),
 * pieces of mmaps by the ids live_mappings gives them.  Every live block
 * (or mmap piece) is a member of its group's list, in record order, so
 * the earliest live member, the representative, is the list head (some
 * dead members may wait behind it to be unlinked: see detach).
 * `current` and `peak` follow memray's HighWatermarkFinder exactly,
 * quirks included (an allocation at a live address adds its size without
 * taking the old one away; ties go to the latest record).
 */
#include "report.h"

#include <inttypes.h>
#include <stdlib.h>

#include "allocator.h"
#include "live_mappings.h"
#include "message.h"
#include "prefetch.h"
#include "u64index.h"
#include "u64map.h"
#include "xmalloc.h"

#define NONE UINT32_MAX

/* What a group shows: its totals and its representative. */
struct group_value {
	uint64_t n_allocations;
	uint64_t size;
	uint64_t seq;
	uint32_t thread;
	uint32_t generation;
	uint8_t allocator;
};

/*
 * A group's value at the peak is in the report's at_peak array, beside
 * the groups (peak mode only): it is written once a peak, where `now` and
 * the list change at every member, and temporary and leaks modes, whose
 * groups are many where stacks are (leaves: 164,508), need none.
 */
struct group {
	uint64_t native_id;
	uint32_t stack;
	uint32_t head, tail;		/* live members, oldest first (peak, leaks) */
	uint32_t thread;		/* the key's thread with split_threads, else NONE */
	struct group_value now;
	uint64_t epoch;			/* at_peak[group] is valid when this is the report's */
};

/*
 * A live block, or one piece of a live mmap.  With the live index's slot
 * this is all the memory a live allocation costs, so it is kept at 40 bytes.
 */
struct member {
	uint64_t address;		/* the live index's key (simple blocks) */
	uint64_t seq;
	uint64_t size;
	uint32_t group;
	uint32_t prev, next;		/* in the group's list; next also links the free list */
	uint32_t origin;		/* index into origins */
};
_Static_assert(sizeof(struct member) == 40, "a live allocation costs a member");

/*
 * Where members come from: what a group shows of its representative.
 * There are few distinct ones, so each is stored once.
 */
struct origin {
	uint32_t thread;
	uint32_t generation;
	uint8_t allocator;
};

/*
 * The last origin of an allocator id in a thread (threads that share the
 * low ORIGIN_HINT_THREAD_BITS bits share hints): consecutive allocations
 * of a thread mostly share it.  Hints by allocator alone missed at every
 * switch between threads (the default generated shape has 4).
 */
struct origin_hint {
	uint32_t thread;
	uint32_t generation;
	uint32_t origin;		/* NONE: no hint yet */
};

/* A group lately found for a stack (see member_group). */
struct group_hint {
	uint64_t native_id;
	uint32_t stack;
	uint32_t thread;
	uint32_t group;			/* NONE: empty */
};
#define GROUP_HINT_BITS 10
#define ORIGIN_HINT_THREAD_BITS 4
#define ORIGIN_HINTS ((ALLOCATOR_MAX + 1) << ORIGIN_HINT_THREAD_BITS)

/*
 * A slot of the nursery, where the youngest simple blocks are found by
 * address (see file_live).  An empty slot may remember the last address
 * freed through it or found not to be live (FREED): an address becomes
 * live only by an allocation, which takes this very slot, so while the
 * slot says so the address is not live, and an allocation there (malloc
 * and pymalloc hand out the block freed last) needs no search of the live
 * index, a cache miss once the index outgrows the cache.
 */
struct nursery_slot {
	uint64_t address;
	uint32_t member;		/* NONE: empty; FREED: empty, and address is not live */
};
/*
 * 16384 slots, 256 KiB, at first: a live set of a few thousand blocks hardly
 * touches the index, and a larger one sends it only the blocks that
 * outlive many thousand allocations.  Against 64 slots, 4096 took 13%
 * fewer instructions with 1000 blocks live, 2.3% on a real capture; with
 * 100,000 live, 2.7% fewer but 13% more L1 misses, as fast.  16384 since
 * the young ring holds 1024 (YOUNG_MAX): with 8192 slots a young block's
 * slot is wanted by another address more often (see keep_young), 4.8%
 * more instructions on the default generated shape.  32768 slots (512
 * KiB) since the default is two threads: paired wall time with two
 * threads 0.95 (json), 0.97 (keepall), 0.96 (the default shape, 10^7),
 * 0.99 (2,000,000 live) on an Intel Xeon VM, whose one thread also gained
 * (json 0.95, the default shape 0.97); on an AMD EPYC VM, 0.97, 0.98 and
 * 0.92 with two threads but 1.07 with one on the default shape, whose
 * decoder shares that core's caches.  65536 slots: one thread 1.03 on
 * the Intel VM (1.12 on the AMD one).
 */
#define NURSERY_BITS 15
/* Dead members unlinked together (see deferred); 128 was no faster (bench/compare: 1.057). */
#define DEFERRED_UNLINKS 32
#define FREED (NONE - 1)

/*
 * The young: the newest simple blocks of peak and leaks modes, not yet
 * members.  Many blocks die within a few allocations (in the fixtures'
 * format-13 captures, 31-99% of them within 16 allocation records, 47-99%
 * within 64), and one that dies young costs no member, no place in its
 * group's list and no change to the group's totals: its allocation and
 * its free only move `current`.  A young block is filed as a member when
 * it leaves the ring (the oldest first, so that group lists stay in
 * record order), when its nursery slot is wanted, and before the groups
 * are looked at or must be in record order: an mmap (a member filed now)
 * and the rows.  A new peak files none: the young alive at the last peak
 * are kept aside as they die or are filed (see peak_young).  A
 * young block's nursery slot names it with YOUNG_MARK + its index in
 * `young`.  Instructions (callgrind, one thread, 10^6 generated records)
 * against none: 17% fewer on the churn shape, 2% on the default; 18% on
 * the fixture temporaries-trace-python-allocators.  A ring of 16 saved
 * 15%, 2% and 18%.  128 rather than 64 since peaks stopped filing the
 * young: a real program's tables live a hundred or so allocations, and
 * on its capture where the heap grows (3 M allocations) 128 took 9.5%
 * fewer instructions than 64 with filing, 256 10.9%, 64 without 2.3%;
 * the generated shapes within 1% either way.  1024 (with a nursery of
 * 16384 slots, not 4096) since a program's objects often outlive 128
 * allocations: bench/workload.py's captures (report thread, callgrind,
 * --threads 2) json 2,008 M -> 1,619 M instructions (-19%), keepall
 * -13.7%, keep2000 -14.0%, the generated default and churn shapes -1%
 * and -3.5%; 2048 gained 0.4-1% more.  It costs L1 misses (simulated:
 * 2.3 times as many on keepall), which the instructions outweigh:
 * paired wall time 0.84 (json), 0.93 (keepall), 0.90 (keep2000).
 */
#define YOUNG_MAX 1024
#define YOUNG_MARK (FREED - YOUNG_MAX)

/*
 * A young block: what add_member needs of its allocation record (a
 * simple allocation: no piece), and its seq.  48 bytes, where the whole
 * struct alloc_event made 72: report thread instructions (callgrind,
 * --threads 2) json -0.8%, keepall -2.5%.
 */
struct young {
	uint64_t address;
	uint64_t size;
	uint64_t native_id;
	uint64_t seq;
	uint32_t stack;
	uint32_t thread;
	uint32_t generation;
	uint8_t allocator;
	bool alive;			/* false: freed, or replaced by an allocation at its address */
};
_Static_assert(sizeof(struct young) == 48, "a young block is six words");

/*
 * What the rows need of a young block alive at the last peak (see
 * peak_young): its group's key and what it adds.  A struct young was 72
 * bytes, which gcc copied with `rep movs` (slow to start), and perf put
 * 13% of main's samples in the report thread on that copy.
 */
struct young_at_peak {
	uint64_t size;
	uint64_t native_id;
	uint64_t seq;
	uint32_t stack;
	uint32_t thread;
	uint32_t generation;
	uint8_t allocator;
};

/* A thread's live members and their bytes (-f timeline --thread). */
struct thread_live {
	uint64_t bytes;
	uint64_t allocations;
};

/*
 * One of a thread's most recent allocations (temporary mode): its group
 * and origin are found when it is pushed (mostly from the hints), which
 * keeps it at 32 bytes, half a cache line: a free that finds it at
 * random touches one line, not two as a 48-byte one did half the time.
 */
struct recent {
	uint64_t address;
	uint64_t size;
	uint64_t seq;
	uint32_t group;
	uint32_t origin;
};
_Static_assert(sizeof(struct recent) == 32, "a recent allocation is half a cache line");

/*
 * A thread's N+1 most recent allocations, newest at `front`.  A free
 * looks for the newest at its address: a scan of a few, or with a large
 * N (--temporary-allocation-threshold) a lookup in `newest`, which maps
 * the addresses pushed with the slot of their newest allocation, so that
 * a free costs the same whatever N is.  An allocation leaving the ring
 * leaves its address there (a lookup of it, a cache miss, would cost as
 * much as the push): a slot found is checked to still hold the address,
 * and `newest` is rebuilt from the ring when such stale addresses make a
 * third of it.
 */
struct recent_ring {
	struct recent *items;
	size_t cap, front, len;
	struct u64map newest;		/* address -> slot, when the ring may outgrow a scan */
};
/* Rings of at most this many allocations are scanned. */
#define RING_SCAN_MAX 32

struct report {
	enum report_mode mode;
	bool aggregated;		/* fed by report_aggregated: groups never saved */
	bool split_threads;		/* groups keyed by (stack, native id, thread) */
	uint64_t buffer_size;		/* N+1 in temporary mode */
	uint64_t seq;			/* allocation records so far */
	uint64_t current, peak;
	uint64_t epoch;			/* peaks so far */

	struct group *groups;
	size_t n_groups, groups_cap;
	struct group_value *at_peak;	/* by group (peak mode): see struct group */
	size_t at_peak_cap;
	struct u64map group_by_key;
	uint32_t *group_of_stack;	/* see group_for; NONE: none yet */
	size_t group_of_stack_len;

	struct member *members;
	size_t n_members, members_cap;
	uint32_t free_members;
	struct nursery_slot nursery[1 << NURSERY_BITS];
	struct u64index live;		/* address -> member, for blocks not in the nursery */
	/*
	 * Dead members still in their group's list.  A random free in a large
	 * live set finds its member's neighbours out of the cache; unlinked
	 * together, all their misses overlap instead of each waiting on the
	 * last.  Never a group's head (see detach): the representative and
	 * the totals are always up to date, only the list lags.
	 */
	uint32_t deferred[DEFERRED_UNLINKS];
	size_t n_deferred;
	struct origin *origins;
	size_t n_origins, origins_cap;
	struct u64map origin_by_key;	/* see origin_for */
	struct origin_hint origin_hints[ORIGIN_HINTS];
	struct group_hint group_hints[1 << GROUP_HINT_BITS];
	uint32_t *piece_members;	/* mmap piece id -> its member, if live */
	size_t piece_members_cap;

	struct recent_ring *rings;	/* by thread index */
	size_t n_rings;
	uint64_t n_recent;		/* allocations the rings hold, all threads */

	uint64_t n_live;		/* live members (peak and leaks modes) */
	struct young young[YOUNG_MAX];	/* a ring, oldest at young_front */
	uint32_t young_front, young_len;
	uint64_t n_young;		/* young blocks alive */
	/*
	 * Peak mode: the young blocks alive at the last peak that have died or
	 * been filed since (at most the ring's size, as each leaves once).
	 * The groups' values at the peak leave out the young, so the rows add
	 * these and the young still in the ring then (report_rows).  A peak
	 * files nothing: where the heap grows, peaks come every few dozen
	 * records, and filing the young at each made most of the members
	 * (3.1 M of 4.3 M on a real program's capture of 20 M allocations).
	 * The young alive at the last peak are those with seq below
	 * peak_young_limit.
	 */
	struct young_at_peak peak_young[YOUNG_MAX];
	uint32_t n_peak_young;
	uint64_t peak_young_limit;	/* records up to the last peak (peak mode), else 0 */
	bool keeps_young;		/* peak and leaks modes, threads not tracked */
	bool track_threads;		/* keep thread_live (report_track_threads) */
	struct thread_live *thread_live;	/* by thread index */
	size_t n_thread_live, thread_live_cap;

	struct report_row *rows;
};

/* Where the live index finds the key of member m. */
static const uint64_t *
member_address(const void *ctx, uint32_t m)
{
	const struct report *r = ctx;

	return &r->members[m].address;
}

struct report *
report_new(enum report_mode mode, uint64_t threshold, bool split_threads)
{
	/*
	 * The nursery, 512 KiB read at random, in a huge page (a table's
	 * storage, see xtable_new): paired wall time against 4 KiB pages
	 * (11 rounds) compileall 0.98x, memray itself 0.97x, fib 0.99x,
	 * leaves 0.98x (9 rounds), the default shape 1.00x; page faults
	 * 844 -> 688 on compileall.
	 */
	struct report *r = xtable_new(1, sizeof *r);

	r->mode = mode;
	r->split_threads = split_threads;
	r->buffer_size = threshold + 1 > threshold ? threshold + 1 : threshold;
	r->free_members = NONE;
	r->keeps_young = mode != REPORT_TEMPORARY;
	u64map_init(&r->group_by_key);
	u64index_init(&r->live, member_address, r);
	u64map_init(&r->origin_by_key);
	for (size_t i = 0; i < ORIGIN_HINTS; i++)
		r->origin_hints[i].origin = NONE;
	for (size_t i = 0; i < 1 << GROUP_HINT_BITS; i++)
		r->group_hints[i].group = NONE;
	for (size_t i = 0; i < 1 << NURSERY_BITS; i++)
		r->nursery[i].member = NONE;
	return r;
}

void
report_free(struct report *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_rings; i++) {
		free(r->rings[i].items);
		u64map_free(&r->rings[i].newest);
	}
	free(r->rings);
	free(r->thread_live);
	xbig_free(r->groups, r->groups_cap, sizeof *r->groups);
	free(r->at_peak);
	free(r->group_of_stack);
	xbig_free(r->members, r->members_cap, sizeof *r->members);
	free(r->origins);
	free(r->rows);
	u64map_free(&r->group_by_key);
	u64index_free(&r->live);
	u64map_free(&r->origin_by_key);
	free(r->piece_members);
	xtable_free(r, 1, sizeof *r);
}

uint64_t
report_records(const struct report *r)
{
	return r->seq;
}

uint64_t
report_peak_bytes(const struct report *r)
{
	return r->peak;
}

uint64_t
report_current_bytes(const struct report *r)
{
	return r->current;
}

uint64_t
report_live_allocations(const struct report *r)
{
	return r->n_live + r->n_young;
}

void
report_track_threads(struct report *r)
{
	r->track_threads = true;
	/* Young blocks would be missing from thread_live. */
	r->keeps_young = false;
}

void
report_thread_live(const struct report *r, uint32_t thread, uint64_t *bytes,
    uint64_t *allocations)
{
	bool known = r->track_threads && thread < r->n_thread_live;

	*bytes = known ? r->thread_live[thread].bytes : 0;
	*allocations = known ? r->thread_live[thread].allocations : 0;
}

/* Member m's thread gains (or loses: wrapping) allocations and bytes, if threads are tracked. */
static void
count_thread_live(struct report *r, const struct member *m, uint64_t allocations,
    uint64_t bytes)
{
	if (!r->track_threads)
		return;
	uint32_t thread = r->origins[m->origin].thread;
	r->thread_live = xgrowzeroed(r->thread_live, &r->n_thread_live, &r->thread_live_cap,
	    (size_t)thread + 1, sizeof *r->thread_live);
	r->thread_live[thread].allocations += allocations;
	r->thread_live[thread].bytes += bytes;
}

/* What find_split_group looks for. */
struct split_group_sought {
	const struct report *report;
	uint64_t stack_key;
	uint32_t thread;
};

static bool
is_split_group_sought(const void *ctx, uint32_t index)
{
	const struct split_group_sought *sought = ctx;
	const struct group *g = &sought->report->groups[index];

	return g->thread == sought->thread && g->stack == (uint32_t)sought->stack_key &&
	    g->native_id == sought->stack_key >> 32;
}

/*
 * --split-threads: the group of (stack, native id, thread), or NONE if it
 * is new; then *slot is the free map key to file it under.  The map key is
 * a hash of all three, interned (u64map_find_interned): a group found is
 * checked against its own fields.
 */
static uint32_t
find_split_group(struct report *r, uint64_t stack_key, uint32_t thread, uint64_t *slot)
{
	const struct split_group_sought sought = { r, stack_key, thread };
	uint32_t index;

	if (u64map_find_interned(&r->group_by_key, u64map_hash(u64map_hash(stack_key) + thread),
	    is_split_group_sought, &sought, &index, slot))
		return index;
	return NONE;
}

/*
 * The group of a stack without a native stack, threads merged: by stack
 * id, which the capture numbers from 0 as its trie grows, in an array.  A
 * program's stacks come in the order of its calls, which the trie's
 * numbers follow, where the map's slots are at random: in temporary mode,
 * which asks for the group of every allocation, a fib-like recursion's
 * 133,720 stacks made perf put 42% of the time on the map's first slot.
 * (An aggregated capture's stacks are its file's numbers: the map.)
 */
static uint32_t *
group_of_stack(struct report *r, uint32_t stack)
{
	if (stack >= r->group_of_stack_len) {
		size_t len = r->group_of_stack_len;
		r->group_of_stack = xgrowarray(r->group_of_stack, &r->group_of_stack_len,
		    (size_t)stack + 1, sizeof *r->group_of_stack, 1024);
		for (size_t i = len; i < r->group_of_stack_len; i++)
			r->group_of_stack[i] = NONE;
	}
	return &r->group_of_stack[stack];
}

static __attribute__((noinline)) uint32_t
group_for(struct report *r, uint32_t stack, uint64_t native_id, uint32_t thread)
{
	/* Native ids are below 2^32: the decoder checks them against the frames seen. */
	uint64_t key = (uint64_t)stack | native_id << 32;
	uint32_t index = (uint32_t)r->n_groups;

	if (!r->split_threads) {
		thread = NONE;
		if (native_id == 0 && !r->aggregated) {
			uint32_t *of_stack = group_of_stack(r, stack);
			if (*of_stack != NONE)
				return *of_stack;
			*of_stack = index;
		} else if (!u64map_insert(&r->group_by_key, key, index, &index)) {
			/* The key is the pair itself: no verification needed. */
			return index;
		}
	} else {
		uint64_t slot = 0;
		uint32_t found = find_split_group(r, key, thread, &slot);
		if (found != NONE)
			return found;
		u64map_set(&r->group_by_key, slot, index);
	}
	r->groups = xbig_grow(r->groups, &r->groups_cap, r->n_groups + 1, sizeof *r->groups, 256);
	/* A new group had no members at the last peak. */
	r->groups[index] = (struct group){
		.native_id = native_id, .stack = stack, .head = NONE, .tail = NONE, .thread = thread,
		.epoch = r->epoch,
	};
	if (r->mode == REPORT_PEAK) {
		r->at_peak = xgrowarray(r->at_peak, &r->at_peak_cap, r->n_groups + 1,
		    sizeof *r->at_peak, 256);
		r->at_peak[index] = (struct group_value){ 0 };
	}
	r->n_groups++;
	return index;
}

/* Before a group first changes after a peak, keep its value at the peak. */
static void
touch(struct report *r, struct group *g)
{
	if (r->mode == REPORT_PEAK && g->epoch != r->epoch) {
		r->at_peak[g - r->groups] = g->now;
		g->epoch = r->epoch;
	}
}

static void
take_representative(const struct report *r, struct group *g, const struct member *m)
{
	const struct origin *o = &r->origins[m->origin];

	g->now.seq = m->seq;
	g->now.thread = o->thread;
	g->now.generation = o->generation;
	g->now.allocator = o->allocator;
}

/* What origin_for looks for. */
struct origin_sought {
	const struct report *report;
	const struct alloc_event *event;
};

static bool
is_origin_sought(const void *ctx, uint32_t index)
{
	const struct origin_sought *sought = ctx;
	const struct origin *o = &sought->report->origins[index];
	const struct alloc_event *ev = sought->event;

	return o->thread == ev->thread && o->generation == ev->generation &&
	    o->allocator == ev->allocator;
}

/*
 * The origin of ev, stored once, where its hint does not name it.
 * origin_by_key is keyed by a hash of all three fields, interned
 * (u64map_find_interned): an origin found there is checked.
 */
static __attribute__((noinline)) uint32_t
find_origin(struct report *r, const struct alloc_event *ev, struct origin_hint *hint)
{
	const struct origin_sought sought = { r, ev };
	uint64_t key;
	uint32_t index;

	if (!u64map_find_interned(&r->origin_by_key,
	    u64map_hash(u64map_hash((uint64_t)ev->generation << 32 | ev->thread) + ev->allocator),
	    is_origin_sought, &sought, &index, &key)) {
		r->origins = xgrowarray(r->origins, &r->origins_cap, r->n_origins + 1,
		    sizeof *r->origins, 16);
		index = (uint32_t)r->n_origins++;
		r->origins[index] = (struct origin){ ev->thread, ev->generation, ev->allocator };
		u64map_set(&r->origin_by_key, key, index);
	}
	*hint = (struct origin_hint){ ev->thread, ev->generation, index };
	return index;
}

/* The origin of ev: mostly its hint's, inline; else find_origin's. */
static inline uint32_t
origin_for(struct report *r, const struct alloc_event *ev)
{
	uint32_t thread_bits = ev->thread & ((1u << ORIGIN_HINT_THREAD_BITS) - 1);
	struct origin_hint *hint =
	    &r->origin_hints[thread_bits * (ALLOCATOR_MAX + 1) + (ev->allocator & ALLOCATOR_MAX)];

	if (hint->origin != NONE && hint->thread == ev->thread && hint->generation == ev->generation)
		return hint->origin;
	return find_origin(r, ev, hint);
}

/*
 * A member to fill in: the free list's head, or a new one at the end.
 * The caller writes it in place: a member built on the stack and copied
 * here was read back as 16-byte loads over its smaller stores, which
 * cannot be forwarded (perf put a fifth of this function on that load).
 */
static uint32_t
new_member(struct report *r)
{
	uint32_t index = r->free_members;

	if (index != NONE) {
		r->free_members = r->members[index].next;
		/*
		 * The next new member is written over the free list's new head, a
		 * block freed a while ago and mostly gone from the cache by then.
		 */
		if (r->free_members != NONE)
			cache_prefetch(&r->members[r->free_members]);
	} else {
		/* Member indices stop short of the young, FREED and NONE marks. */
		if (r->n_members >= YOUNG_MARK)
			fatal("more than %" PRIu32 " live allocations", YOUNG_MARK);
		r->members = xbig_grow(r->members, &r->members_cap, r->n_members + 1,
		    sizeof *r->members, 1024);
		index = (uint32_t)r->n_members++;
	}
	return index;
}

/* Link member m into its group after `after` (NONE: at the head). */
static void
attach(struct report *r, uint32_t m, uint32_t after, uint64_t bytes)
{
	struct member *mem = &r->members[m];
	struct group *g = &r->groups[mem->group];
	uint32_t before = after == NONE ? g->head : r->members[after].next;

	touch(r, g);
	mem->prev = after;
	mem->next = before;
	if (after == NONE)
		g->head = m;
	else
		r->members[after].next = m;
	if (before == NONE)
		g->tail = m;
	else
		r->members[before].prev = m;
	if (g->head == m)
		take_representative(r, g, mem);
	g->now.n_allocations++;
	g->now.size += bytes;
	r->n_live++;
	count_thread_live(r, mem, 1, bytes);
}

/* Take member m out of its group's list and free it. */
static void
unlink_member(struct report *r, uint32_t m)
{
	struct member *mem = &r->members[m];
	struct group *g = &r->groups[mem->group];

	if (mem->prev == NONE)
		g->head = mem->next;
	else
		r->members[mem->prev].next = mem->next;
	if (mem->next == NONE)
		g->tail = mem->prev;
	else
		r->members[mem->next].prev = mem->prev;
	if (mem->prev == NONE && g->head != NONE)
		take_representative(r, g, &r->members[g->head]);
	mem->next = r->free_members;
	r->free_members = m;
}

/* Unlink the dead members waiting for it, their neighbours fetched first, all at once. */
static void
unlink_deferred(struct report *r)
{
	for (size_t i = 0; i < r->n_deferred; i++) {
		const struct member *mem = &r->members[r->deferred[i]];
		if (mem->prev != NONE)
			cache_prefetch(&r->members[mem->prev]);
		if (mem->next != NONE)
			cache_prefetch(&r->members[mem->next]);
	}
	for (size_t i = 0; i < r->n_deferred; i++)
		unlink_member(r, r->deferred[i]);
	r->n_deferred = 0;
}

/*
 * Member m dies, and its group loses `bytes`.  Unless m is the head, the
 * representative stays, so its unlinking can wait (see deferred), except
 * for the tail: mostly the group's newest member, freed young, its lines
 * still in the cache (deferring those too made captures whose frees all
 * free the newest block 7-10% slower).  When the head goes, its successor
 * becomes the representative: the members waiting are unlinked first, so
 * that it is a live one.
 */
static void
detach(struct report *r, uint32_t m, uint64_t bytes)
{
	struct member *mem = &r->members[m];
	struct group *g = &r->groups[mem->group];

	touch(r, g);
	g->now.n_allocations--;
	g->now.size -= bytes;
	r->n_live--;
	count_thread_live(r, mem, UINT64_MAX, 0 - bytes);
	if (mem->prev == NONE) {
		unlink_deferred(r);
	} else if (mem->next != NONE) {
		r->deferred[r->n_deferred++] = m;
		if (r->n_deferred == DEFERRED_UNLINKS)
			unlink_deferred(r);
		return;
	}
	unlink_member(r, m);
}

/*
 * The group of a new member.  Allocations mostly come from the stacks of
 * the last few, so a direct-mapped cache of groups by stack answers most
 * without group_for's map.
 */
static inline uint32_t
member_group(struct report *r, const struct alloc_event *ev)
{
	uint64_t thread = r->split_threads ? ev->thread : 0;
	uint64_t h = (ev->stack ^ ev->native_id << 20 ^ thread << 44) * UINT64_C(0x9e3779b97f4a7c15);
	struct group_hint *hint = &r->group_hints[h >> (64 - GROUP_HINT_BITS)];

	if (hint->group == NONE || hint->stack != ev->stack || hint->native_id != ev->native_id ||
	    (r->split_threads && hint->thread != ev->thread)) {
		*hint = (struct group_hint){ ev->native_id, ev->stack, ev->thread,
			group_for(r, ev->stack, ev->native_id, ev->thread) };
		/*
		 * A group not used lately may be out of the cache, and it is
		 * wanted soon: by attach, or in temporary mode by the free that
		 * folds the allocation into it, mostly a few records on.  Where
		 * stacks are many (a fib-like recursion's 133,720), perf put two
		 * thirds of track_temporary's time on that fold's first read.
		 */
		cache_prefetch(&r->groups[hint->group].now);
	}
	return hint->group;
}

static uint32_t
add_member(struct report *r, const struct alloc_event *ev, uint64_t seq)
{
	uint32_t group = member_group(r, ev), origin = origin_for(r, ev);
	uint32_t m = new_member(r);

	r->members[m] = (struct member){
		.address = ev->address, .seq = seq, .size = ev->size, .group = group, .origin = origin,
	};
	attach(r, m, r->groups[group].tail, ev->size);
	return m;
}

/* Piece id's member is m. */
static void
set_piece_member(struct report *r, uint32_t piece, uint32_t m)
{
	if (piece >= r->piece_members_cap)
		r->piece_members = xgrowarray(r->piece_members, &r->piece_members_cap,
		    (size_t)piece + 1, sizeof *r->piece_members, 64);
	r->piece_members[piece] = m;
}

/* A munmap's change to the member of an mmap piece. */
static void
apply_mapping_change(struct report *r, const struct mapping_change *c)
{
	uint32_t m = r->piece_members[c->piece];
	struct group *g = &r->groups[r->members[m].group];

	switch (c->kind) {
	case INTERVAL_DROPPED:
		detach(r, m, c->removed);
		break;
	case INTERVAL_SHRUNK:
		touch(r, g);
		g->now.size -= c->removed;
		count_thread_live(r, &r->members[m], 0, 0 - c->removed);
		break;
	case INTERVAL_SPLIT: {
		/* The second piece is a member of its own with the same record (it counts). */
		uint32_t second = new_member(r);
		r->members[second] = r->members[m];
		attach(r, second, m, 0);
		r->groups[r->members[second].group].now.size -= c->removed;
		count_thread_live(r, &r->members[second], 0, 0 - c->removed);
		set_piece_member(r, c->new_piece, second);
		break;
	}
	}
	r->current -= c->removed;
}

/* Whether a nursery slot holds no live block (NONE or FREED). */
static bool
nursery_slot_empty(const struct nursery_slot *slot)
{
	return slot->member == NONE || slot->member == FREED;
}

static size_t
nursery_slot_index(uint64_t address)
{
	return (address >> 3) * UINT64_C(0x9e3779b97f4a7c15) >> (64 - NURSERY_BITS);
}

static struct nursery_slot *
nursery_slot(struct report *r, uint64_t address)
{
	return &r->nursery[nursery_slot_index(address)];
}

/*
 * File a new simple block, whose address is not live: m is its member, or
 * its young mark (keep_young, which files a young block in the slot
 * first).  Most blocks die young, so it goes to the nursery, a
 * direct-mapped cache by address: one freed from there never costs the
 * live index an insertion and a removal.  The block it displaces from its
 * slot (the address's, which the caller has at hand) has lived a while
 * and moves to the index.
 */
static void
file_live(struct report *r, struct nursery_slot *slot, uint64_t address, uint32_t m)
{
	if (!nursery_slot_empty(slot))
		u64index_add(&r->live, slot->address, slot->member);
	*slot = (struct nursery_slot){ address, m };
}

/* unfile_live where the nursery slot does not know the address: the live index. */
static __attribute__((noinline)) uint32_t
unfile_indexed(struct report *r, struct nursery_slot *slot, uint64_t address)
{
	uint32_t m;

	if (!u64index_remove(&r->live, address, &m))
		m = NONE;
	if (nursery_slot_empty(slot))
		*slot = (struct nursery_slot){ address, FREED };
	return m;
}

/*
 * Take the simple block at address (whose nursery slot is given) out of
 * the live set: its member, or NONE.  The nursery's answer inline, the
 * index's out of line: callgrind counted a fifth of this function's
 * instructions in saving and restoring registers when it was one.
 */
static inline uint32_t
unfile_live(struct report *r, struct nursery_slot *slot, uint64_t address)
{
	uint32_t m = slot->member;

	if (m != NONE && slot->address == address) {
		/* In the nursery, or known not to be live. */
		slot->member = FREED;
		return m == FREED ? NONE : m;
	}
	return unfile_indexed(r, slot, address);
}

static bool
is_young_mark(uint32_t member)
{
	return member >= YOUNG_MARK && member < FREED;
}

/* Alive young block y dies or is filed: if it was alive at the last peak, keep it aside. */
static void
young_leaves(struct report *r, const struct young *y)
{
	r->n_young--;
	if (y->seq < r->peak_young_limit)
		r->peak_young[r->n_peak_young++] = (struct young_at_peak){
			.size = y->size, .native_id = y->native_id, .seq = y->seq, .stack = y->stack,
			.thread = y->thread, .generation = y->generation, .allocator = y->allocator,
		};
}

/* File the oldest entry of the young ring, if it is still alive, as a member in its nursery slot. */
static void
file_oldest_young(struct report *r)
{
	uint32_t i = r->young_front;
	const struct young *y = &r->young[i];

	r->young_front = (i + 1) % YOUNG_MAX;
	r->young_len--;
	if (!y->alive)
		return;
	young_leaves(r, y);
	const struct alloc_event ev = {
		.address = y->address, .size = y->size, .native_id = y->native_id, .stack = y->stack,
		.thread = y->thread, .generation = y->generation, .allocator = y->allocator,
		.piece = NO_PIECE,
	};
	/* An alive young block holds its slot: only filing it gives the slot away. */
	nursery_slot(r, y->address)->member = add_member(r, &ev, y->seq);
}

/* File the young blocks up to young[i], and those older, in record order. */
static void
file_young_through(struct report *r, uint32_t i)
{
	uint32_t front;

	do {
		front = r->young_front;
		file_oldest_young(r);
	} while (front != i);
}

static void
file_all_young(struct report *r)
{
	while (r->young_len > 0)
		file_oldest_young(r);
}

/* ev becomes the newest young block (the ring has room): returns its young mark. */
static inline uint32_t
push_young(struct report *r, const struct alloc_event *ev)
{
	uint32_t i = (r->young_front + r->young_len) % YOUNG_MAX;

	r->young[i] = (struct young){
		.address = ev->address, .size = ev->size, .native_id = ev->native_id, .seq = r->seq,
		.stack = ev->stack, .thread = ev->thread, .generation = ev->generation,
		.allocator = ev->allocator, .alive = true,
	};
	r->young_len++;
	r->n_young++;
	return YOUNG_MARK + i;
}

/*
 * A simple allocation, made young.  What was live at its address is
 * replaced (a young block dies, a member is detached) as track_live does;
 * a live block in its nursery slot moves to the live index, filed first
 * if it is young.
 */
static void
keep_young(struct report *r, const struct alloc_event *ev)
{
	struct nursery_slot *slot = nursery_slot(r, ev->address);

	if (slot->address == ev->address && is_young_mark(slot->member)) {
		struct young *y = &r->young[slot->member - YOUNG_MARK];
		y->alive = false;
		young_leaves(r, y);
		slot->member = FREED;
	} else {
		uint32_t old = unfile_live(r, slot, ev->address);
		if (old != NONE)
			detach(r, old, r->members[old].size);
	}
	if (r->young_len == YOUNG_MAX)
		file_oldest_young(r);
	if (is_young_mark(slot->member))
		file_young_through(r, slot->member - YOUNG_MARK);
	file_live(r, slot, ev->address, push_young(r, ev));
}

/*
 * keep_young where the allocation needs no more than a place in the ring:
 * its address was freed last in its nursery slot (so nothing is live
 * there to replace or to move to the index), and the ring has room, or
 * its oldest block is dead (leaving it files nothing).  That is 89% of
 * the allocations of bench/workload.py's json capture and 97% of keepall's.
 * Returns whether it took the allocation.
 */
static inline bool
keep_young_at_freed(struct report *r, const struct alloc_event *ev)
{
	struct nursery_slot *slot = nursery_slot(r, ev->address);

	if (!r->keeps_young || slot->address != ev->address || slot->member != FREED)
		return false;
	if (r->young_len == YOUNG_MAX) {
		if (r->young[r->young_front].alive)
			return false;
		/* Dead, it only leaves the ring; file_oldest_young's call here cost json +2.5%. */
		r->young_front = (r->young_front + 1) % YOUNG_MAX;
		r->young_len--;
	}
	slot->member = push_young(r, ev);
	r->current += ev->size;
	return true;
}

/* A free of a young block, if the block at the address (in slot) is young; returns whether it was. */
static bool
free_young(struct report *r, struct nursery_slot *slot, uint64_t address)
{
	if (slot->address != address || !is_young_mark(slot->member))
		return false;
	struct young *y = &r->young[slot->member - YOUNG_MARK];
	r->current -= y->size;
	y->alive = false;
	young_leaves(r, y);
	slot->member = FREED;
	return true;
}

/*
 * After a record of peak or leaks mode: memray's peak, and whether the
 * record marks the state to report.
 */
static inline bool
note_peak(struct report *r)
{
	if (r->current >= r->peak) {
		r->peak = r->current;
		r->epoch++;
		if (r->mode == REPORT_PEAK) {
			/* Every young block is alive at this peak (see peak_young). */
			r->n_peak_young = 0;
			r->peak_young_limit = r->seq + 1;
		}
		return true;
	}
	/* Leaks mode reports the state after the last record. */
	return r->mode == REPORT_LEAKS;
}

/*
 * Peak and leaks modes: the live set, and memray's current/peak (see
 * track_live), for ev, of allocator kind `kind`.
 */
static __attribute__((noinline)) bool
track_live_all(struct report *r, const struct alloc_event *ev, enum allocator_kind kind)
{
	struct nursery_slot *slot;
	uint32_t m, old;

	switch (kind) {
	case SIMPLE_ALLOCATOR:
		r->current += ev->size;
		if (r->keeps_young) {
			keep_young(r, ev);
			break;
		}
		/* Threads tracked from now on: the young left go first, keeping group lists in order. */
		file_all_young(r);
		m = add_member(r, ev, r->seq);
		slot = nursery_slot(r, ev->address);
		old = unfile_live(r, slot, ev->address);
		/* A live block at the address is replaced; `current` keeps its bytes (HighWatermarkFinder). */
		if (old != NONE)
			detach(r, old, r->members[old].size);
		file_live(r, slot, ev->address, m);
		break;
	case SIMPLE_DEALLOCATOR:
		/* Not of a young block: track_live took those. */
		slot = nursery_slot(r, ev->address);
		old = unfile_live(r, slot, ev->address);
		if (old != NONE) {
			r->current -= r->members[old].size;
			detach(r, old, r->members[old].size);
		}
		break;
	case RANGED_ALLOCATOR:
		if (ev->size > 0) {
			/* Younger than the young: they go first, keeping group lists in record order. */
			file_all_young(r);
			set_piece_member(r, ev->piece, add_member(r, ev, r->seq));
		}
		r->current += ev->size;
		break;
	case RANGED_DEALLOCATOR:
		for (uint32_t i = 0; i < ev->n_changes; i++)
			apply_mapping_change(r, &ev->changes[i]);
		break;
	case ALLOCATOR_INVALID:
		break;
	}
	return note_peak(r);
}

/*
 * Peak and leaks modes: the live set, and memray's current/peak.  The
 * free of a young block (in a program's captures, 4 records in 10) and
 * the allocation that keep_young_at_freed takes (5 in 10) are taken
 * here, where they need no register that a call must keep, so that the
 * compiler saves none (shrink-wrapping); track_live_all, which saves
 * six, does the rest.  The report thread's instructions (callgrind,
 * --threads 2): the free, bench/workload.py's json -5.3%, keepall
 * -7.8%; then the allocation, with track_live always_inline (gcc stopped
 * inlining it into the batch loop): json 1,532 M -> 1,337 M (-12.7%),
 * keepall 2,486 M -> 1,993 M (-19.9%), churn -21.7%, the default
 * generated shape -1.7%.
 */
static inline __attribute__((always_inline)) bool
track_live(struct report *r, const struct alloc_event *ev)
{
	enum allocator_kind kind = allocator_kind(ev->allocator);

	if (kind == SIMPLE_DEALLOCATOR && free_young(r, nursery_slot(r, ev->address), ev->address))
		return note_peak(r);
	if (kind == SIMPLE_ALLOCATOR && keep_young_at_freed(r, ev))
		return note_peak(r);
	return track_live_all(r, ev, kind);
}

static struct recent_ring *
ring_for(struct report *r, uint32_t thread)
{
	if (thread >= r->n_rings) {
		size_t n = (size_t)thread + 1;
		r->rings = xreallocarray(r->rings, n, sizeof *r->rings);
		for (size_t i = r->n_rings; i < n; i++) {
			r->rings[i] = (struct recent_ring){ 0 };
			u64map_init(&r->rings[i].newest);
		}
		r->n_rings = n;
	}
	return &r->rings[thread];
}

/* The slot of the ring's k-th newest allocation (0: the newest). */
static size_t
ring_slot(const struct recent_ring *ring, size_t k)
{
	size_t slot = ring->front + k;	/* both below cap: no division needed */

	return slot < ring->cap ? slot : slot - ring->cap;
}

/* The sets ring_reindex asks the cache lines of ahead. */
#define REINDEX_AHEAD 16

/* Whether a ring of this limit finds frees through `newest`. */
static bool
ring_indexed(uint64_t limit)
{
	return limit > RING_SCAN_MAX;
}

/*
 * File every address of the ring under its newest slot, the items having
 * moved or stale addresses having piled up.  The map keeps its table: it
 * will fill up as far again.
 */
static void
ring_reindex(struct recent_ring *ring)
{
	u64map_clear(&ring->newest);
	for (size_t k = ring->len; k-- > 0;) {
		/* Each set lands at random in a table larger than the caches: ask ahead. */
		if (k >= REINDEX_AHEAD)
			u64map_prefetch(&ring->newest, ring->items[ring_slot(ring, k - REINDEX_AHEAD)].address);
		size_t slot = ring_slot(ring, k);
		u64map_set(&ring->newest, ring->items[slot].address, (uint32_t)slot);
	}
}

static void
ring_push_front(struct recent_ring *ring, uint64_t limit, const struct recent *item)
{
	bool indexed = ring_indexed(limit);

	if (ring->len == ring->cap && ring->cap < limit) {
		/* Grow, and lay the ring out from index 0 again. */
		size_t cap = ring->cap ? ring->cap * 2 : 16;
		if (cap > limit)
			cap = (size_t)limit;
		/* Slots are filed in `newest` as 32-bit values. */
		if (indexed && cap > UINT32_MAX)
			fatal("more than %" PRIu32 " recent allocations in one thread", UINT32_MAX);
		struct recent *items = xreallocarray(NULL, cap, sizeof *items);
		for (size_t k = 0; k < ring->len; k++)
			items[k] = ring->items[ring_slot(ring, k)];
		free(ring->items);
		ring->items = items;
		ring->cap = cap;
		ring->front = 0;
		if (indexed)
			ring_reindex(ring);
	}
	/* The slot before the newest: free, or the oldest's when the ring is full. */
	size_t slot = ring_slot(ring, ring->cap - 1);
	ring->front = slot;
	ring->items[slot] = *item;
	if (ring->len < ring->cap)
		ring->len++;
	if (indexed) {
		if (u64map_count(&ring->newest) >= ring->cap + ring->cap / 2)
			ring_reindex(ring);
		u64map_set(&ring->newest, item->address, (uint32_t)slot);
	}
}

/*
 * Add a member to a group value without a member list (temporary mode,
 * aggregated files, the young alive at the peak in report_rows): sums,
 * and the lowest-seq member as representative.
 */
static void
fold(struct group_value *g, const struct group_value *member)
{
	if (g->n_allocations == 0 || member->seq < g->seq) {
		g->seq = member->seq;
		g->thread = member->thread;
		g->generation = member->generation;
		g->allocator = member->allocator;
	}
	g->n_allocations += member->n_allocations;
	g->size += member->size;
}

/*
 * The newest of the ring's allocations that a free of this kind matches:
 * at its address and, for munmap, of its size; NULL if none.
 */
static const struct recent *
ring_match(const struct recent_ring *ring, uint64_t limit, enum allocator_kind kind,
    const struct alloc_event *ev)
{
	if (ring_indexed(limit)) {
		uint32_t slot;
		/* A slot taken since by another address: the address's allocations have all left. */
		if (!u64map_get(&ring->newest, ev->address, &slot) ||
		    ring->items[slot].address != ev->address)
			return NULL;
		/* A munmap of another size than the newest there: scan for an older one. */
		if (kind == SIMPLE_DEALLOCATOR || ring->items[slot].size == ev->size)
			return &ring->items[slot];
	}
	for (size_t k = 0; k < ring->len; k++) {
		const struct recent *e = &ring->items[ring_slot(ring, k)];
		if (e->address == ev->address && (kind != RANGED_DEALLOCATOR || e->size == ev->size))
			return e;
	}
	return NULL;
}

/*
 * Peak and leaks modes: a simple allocation or free first looks for its
 * address in the nursery (in the cache), then in the live index: its
 * slots, then the member they name, whose address confirms it.  Where
 * the nursery does not have it, the far stage asks for the index's slots
 * and the near stage for the member they name.  A simple allocation
 * also moves the block in its nursery slot to the index.  Only for a
 * live set too large for the caches: with --threads 2 (wall time, least
 * of 5 interleaved, 10^7 records, --locality 50), hints for every
 * record made 100,000 live blocks take 1.29x the time, 250,000 1.04x,
 * 500,000 0.93x, 1,000,000 0.86x and 2,000,000 0.77x.
 */
#define PREFETCH_LIVE_MIN 400000

static void
prefetch_live(const struct report *r, uint64_t address, enum allocator_kind kind,
    enum report_prefetch_stage stage)
{
	const struct nursery_slot *slot = &r->nursery[nursery_slot_index(address)];
	uint32_t m;

	if (slot->address == address && slot->member != NONE) {
		if (slot->member < YOUNG_MARK && stage == REPORT_PREFETCH_NEAR)
			cache_prefetch(&r->members[slot->member]);
		return;
	}
	if (stage == REPORT_PREFETCH_FAR) {
		u64index_prefetch(&r->live, address);
		if (kind == SIMPLE_ALLOCATOR && !nursery_slot_empty(slot))
			u64index_prefetch(&r->live, slot->address);
	} else if (u64index_guess(&r->live, address, &m)) {
		cache_prefetch(&r->members[m]);
	}
}

/*
 * Temporary mode, with a ring that has an index: the index's slot for the
 * address, then, for a free, the ring entry it names.
 */
static void
prefetch_recent(const struct report *r, uint64_t address, uint32_t thread,
    enum allocator_kind kind, enum report_prefetch_stage stage)
{
	if (thread >= r->n_rings)
		return;
	const struct recent_ring *ring = &r->rings[thread];
	uint32_t slot;

	if (stage == REPORT_PREFETCH_FAR)
		u64map_prefetch(&ring->newest, address);
	else if (kind == SIMPLE_DEALLOCATOR && u64map_get(&ring->newest, address, &slot))
		cache_prefetch(&ring->items[slot]);	/* an allocation reads no entry */
}

/*
 * Temporary mode: hints only once the rings hold this many allocations,
 * too many for the caches.  With --threads 2 (wall time, least of 5
 * interleaved, 10^7 records, 4 threads), hints for every record made
 * thresholds of 100 take 1.63x the time, 1000 1.63x, 10,000 1.35x,
 * 30,000 1.29x, 50,000 1.15x, 70,000 0.96x, 100,000 0.84x.
 */
#define PREFETCH_RECENT_MIN 250000

bool
report_takes_hints(const struct report *r)
{
	if (r->mode == REPORT_TEMPORARY)
		return ring_indexed(r->buffer_size) && r->n_recent >= PREFETCH_RECENT_MIN;
	return r->n_live >= PREFETCH_LIVE_MIN;
}

void
report_prefetch(const struct report *r, uint64_t address, uint8_t allocator, uint32_t thread,
    enum report_prefetch_stage stage)
{
	enum allocator_kind kind = allocator_kind(allocator);

	if (kind != SIMPLE_ALLOCATOR && kind != SIMPLE_DEALLOCATOR)
		return;
	if (r->mode == REPORT_TEMPORARY)
		prefetch_recent(r, address, thread, kind, stage);
	else
		prefetch_live(r, address, kind, stage);
}

/*
 * Temporary mode (TemporaryAllocationsAggregator): a free matches the
 * newest of its thread's recent allocations at that address (for munmap,
 * of that size too).  The match stays in the ring, so it may match again.
 */
static void
track_temporary(struct report *r, const struct alloc_event *ev)
{
	struct recent_ring *ring = ring_for(r, ev->thread);
	enum allocator_kind kind = allocator_kind(ev->allocator);

	if (!allocator_is_deallocator(kind)) {
		struct recent item = {
			.address = ev->address, .size = ev->size, .seq = r->seq,
			.group = member_group(r, ev), .origin = origin_for(r, ev),
		};
		size_t len = ring->len;
		ring_push_front(ring, r->buffer_size, &item);
		r->n_recent += ring->len - len;
		return;
	}
	const struct recent *e = ring_match(ring, r->buffer_size, kind, ev);
	if (e == NULL)
		return;
	const struct origin *o = &r->origins[e->origin];
	struct group_value member = {
		.n_allocations = 1, .size = e->size, .seq = e->seq, .thread = o->thread,
		.generation = o->generation, .allocator = o->allocator,
	};
	fold(&r->groups[e->group].now, &member);
}

void
report_aggregated(struct report *r, const struct alloc_event *ev, uint64_t n_allocations)
{
	r->aggregated = true;
	if (n_allocations == 0)
		return;
	struct group_value member = {
		.n_allocations = n_allocations, .size = ev->size, .seq = r->seq, .thread = ev->thread,
		.generation = ev->generation, .allocator = ev->allocator,
	};
	/* group_for may move the groups: the group first. */
	uint32_t group = group_for(r, ev->stack, ev->native_id, ev->thread);
	fold(&r->groups[group].now, &member);
	r->seq++;
}

/*
 * always_inline: link-time optimization puts it in transform.c's loops,
 * where gcc had kept it out of line once track_live grew its fast path.
 */
__attribute__((always_inline)) inline bool
report_allocation(struct report *r, const struct alloc_event *ev)
{
	bool mark = true;

	if (r->mode == REPORT_TEMPORARY)
		track_temporary(r, ev);
	else
		mark = track_live(r, ev);
	r->seq++;
	return mark;
}

static int
by_seq(const void *a, const void *b)
{
	const struct report_row *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* A young block alive at the peak (peak_young[k]) and its group, for report_rows. */
struct young_in_group {
	uint32_t group;
	uint32_t k;
};

static int
by_group(const void *a, const void *b)
{
	const struct young_in_group *x = a, *y = b;

	return (x->group > y->group) - (x->group < y->group);
}

size_t
report_rows(struct report *r, const struct report_row **rows)
{
	struct young_in_group young[YOUNG_MAX];
	size_t n = 0, next = 0;

	/* Filing puts the young still alive from the last peak in peak_young too. */
	file_all_young(r);
	for (uint32_t k = 0; k < r->n_peak_young; k++) {
		const struct young_at_peak *y = &r->peak_young[k];
		const struct alloc_event ev = { .native_id = y->native_id, .stack = y->stack,
			.thread = y->thread };
		young[k] = (struct young_in_group){ member_group(r, &ev), k };
	}
	qsort(young, r->n_peak_young, sizeof *young, by_group);
	free(r->rows);
	r->rows = xreallocarray(NULL, r->n_groups ? r->n_groups : 1, sizeof *r->rows);
	for (uint32_t i = 0; i < r->n_groups; i++) {
		const struct group *g = &r->groups[i];
		struct group_value v = r->mode == REPORT_PEAK && !r->aggregated &&
		    g->epoch == r->epoch ? r->at_peak[i] : g->now;
		/*
		 * The young alive at the peak folded in, met in group order.
		 * Folding them into a copy of every group's value instead cost
		 * temporary mode 8% more CPU time on a capture of 164,508
		 * stacks (leaves), 5% on fib's (paired medians).
		 */
		for (; next < r->n_peak_young && young[next].group == i; next++) {
			const struct young_at_peak *y = &r->peak_young[young[next].k];
			const struct group_value member = {
				.n_allocations = 1, .size = y->size, .seq = y->seq, .thread = y->thread,
				.generation = y->generation, .allocator = y->allocator,
			};
			fold(&v, &member);
		}
		if (v.n_allocations == 0)
			continue;
		r->rows[n++] = (struct report_row){
			.seq = v.seq, .n_allocations = v.n_allocations, .size = v.size,
			.native_id = g->native_id, .stack = g->stack, .thread = v.thread,
			.generation = v.generation, .allocator = v.allocator,
		};
	}
	qsort(r->rows, n, sizeof *r->rows, by_seq);
	*rows = r->rows;
	return n;
}
