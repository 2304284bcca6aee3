/* capture: the state of the traced process as the records reveal it (see capture.h). */
#include "capture.h"

#include <stdlib.h>
#include <string.h>

#include "hybrid_stack.h"
#include "linetable.h"
#include "native_segments.h"
#include "native_symbols.h"
#include "u64map.h"
#include "xmalloc.h"

/* Slots of the cache of stack-trie children (child_node). */
#define CHILD_CACHE_BITS 12
#define CHILD_CACHE_SIZE (1u << CHILD_CACHE_BITS)

#define LINE_UNKNOWN INT32_MIN

/* One definition of a code object; a later CODE_OBJECT with the same id replaces it. */
struct code_version {
	char *function;
	char *file;
	uint8_t *linetable;
	size_t linetable_len;
	int32_t firstlineno;
};

/* A value of a versioned, from the change after `since` allocation records on. */
struct version {
	uint64_t since;
	void *value;
};

/*
 * A value that changes over the capture, kept as it was at every point
 * the report may still mark (see capture_follow_report): its versions,
 * oldest first.  Before the first, the value is NULL.
 */
struct versioned {
	struct version *versions;
	uint32_t n, cap;
};

struct thread {
	uint64_t tid;
	struct versioned name;		/* char * */
	uint32_t *stack;		/* trie node ids, outermost first */
	size_t depth, stack_cap;
};

/* A node of the stack trie: the stack `parent` with one frame pushed. */
struct stack_node {
	uint32_t parent;
	/*
	 * In the trie: the node's first two children (0: none yet); any later
	 * ones are in node_by_key (see other_child).
	 */
	uint32_t children[2];
	bool is_entry;
	uint64_t code_id;
	int64_t instruction_offset;
};

/* NATIVE_TRACE_INDEX k (1-based): a return address and the id of its caller's entry. */
struct native_frame {
	uint64_t ip;
	uint64_t parent;
};

/*
 * A SEGMENT_HEADER and its SEGMENT records: the image the native symbols
 * see, and the storage behind it.
 */
struct image {
	struct native_image image;
	char *path;
	struct native_load_segment *segments;
	size_t segments_cap;
};

/* The segments listed after one MEMORY_MAP_START, sorted when first searched. */
struct generation {
	struct native_segment *segments;
	size_t n_segments, segments_cap;
	bool sorted;
};

struct capture {
	const struct capture_header *header;
	uint64_t allocations;		/* allocation records so far (capture_place_allocation) */
	uint64_t mark;			/* the state to render: after this many allocation records */
	const struct capture_progress *report;	/* capture_follow_report; NULL: keep every value */

	struct native_frame *native;
	size_t n_native, native_cap;
	struct image **images;		/* one per SEGMENT_HEADER, the last one current */
	size_t n_images, images_cap;
	struct generation *generations;	/* generation g is generations[g - 1] */
	size_t n_generations, generations_cap;

	struct thread *threads;
	size_t n_threads, threads_cap;
	struct u64map thread_by_tid;
	uint32_t current;		/* thread index, NO_THREAD before any switch */
	/*
	 * The current thread's stack (capture_current_stack), kept as frames
	 * and switches come: every allocation asks for it, and reading it
	 * through the thread's stack was a chain of four loads in the reader
	 * thread.
	 */
	uint32_t top;

	struct versioned *codes;	/* struct code_version * */
	size_t n_codes, codes_cap;
	struct u64map code_by_id;

	struct stack_node *nodes;	/* nodes[0] is the empty stack */
	size_t n_nodes, nodes_cap;
	struct u64map node_by_key;
	uint32_t child_cache[CHILD_CACHE_SIZE];	/* see child_node */
	bool parent_first;		/* child_node asks the parent's first two children first */
	uint32_t order_misses;		/* of the way asked first, since order_since */
	uint64_t order_since;		/* allocations when child_node last counted from 0 */

	/* Aggregated files: frame ids and the stack tree of the writer (§4). */
	struct stack_node *frames;	/* parent unused */
	size_t n_frames, frames_cap;
	struct u64map frame_by_id;
	struct stack_node *traces;	/* traces[k-1] is node k; code_id = frame id */
	size_t n_traces, traces_cap;
	uint32_t *trace_stacks;		/* node k -> stack id, UINT32_MAX: not yet */
	uint64_t *walk;			/* scratch for capture_trace_stack */
	size_t walk_cap;

	int32_t *node_lines;		/* line of each node at the last mark, or LINE_UNKNOWN */
	size_t n_node_lines;

	struct frame_text *rendered;
	size_t rendered_cap;
	/* capture_render_hybrid_stack's inputs: Python frames and flags, native frames. */
	struct frame_text *python;
	bool *python_entry;
	size_t python_cap;
	struct frame_text *native_rendered;
	size_t native_rendered_len, native_rendered_cap;
	char error[120];
};

static void
free_code(void *p)
{
	struct code_version *code = p;

	if (code != NULL) {
		free(code->function);
		free(code->file);
		free(code->linetable);
		free(code);
	}
}

/* Whether version i of v is the one in force after `allocations` allocation records. */
static bool
version_in_force(const struct versioned *v, uint32_t i, uint64_t allocations)
{
	return v->versions[i].since < allocations &&
	    (i + 1 == v->n || v->versions[i + 1].since >= allocations);
}

/*
 * Drop the versions the report can no longer mark: it may yet mark after
 * `read` allocation records or later, and its last mark was after `mark`.
 * Those in force at either point, and every later one, stay.
 */
static void
versioned_prune(const struct capture *cap, struct versioned *v, void (*free_value)(void *))
{
	uint32_t kept = 0;

	if (cap->report == NULL)
		return;
	uint64_t read = atomic_load_explicit(&cap->report->read, memory_order_acquire);
	uint64_t mark = atomic_load_explicit(&cap->report->mark, memory_order_acquire);
	for (uint32_t i = 0; i < v->n; i++) {
		if (v->versions[i].since >= read || version_in_force(v, i, read) ||
		    version_in_force(v, i, mark))
			v->versions[kept++] = v->versions[i];
		else
			free_value(v->versions[i].value);
	}
	v->n = kept;
}

/* Change the value of v from now on. */
static void
versioned_set(struct capture *cap, struct versioned *v, void *value, void (*free_value)(void *))
{
	if (v->n > 0 && v->versions[v->n - 1].since == cap->allocations) {
		/* Changed twice between two allocation records: no mark can fall in between. */
		free_value(v->versions[v->n - 1].value);
		v->versions[v->n - 1].value = value;
		return;
	}
	if (v->n == v->cap) {
		/* Full: make room by dropping what the report no longer needs first. */
		versioned_prune(cap, v, free_value);
		if (v->n == v->cap) {
			v->cap = v->cap ? v->cap * 2 : 2;
			v->versions = xreallocarray(v->versions, v->cap, sizeof *v->versions);
		}
	}
	v->versions[v->n++] = (struct version){ cap->allocations, value };
}

/* The value of v at the mark. */
static void *
versioned_at_mark(const struct capture *cap, const struct versioned *v)
{
	for (uint32_t i = v->n; i-- > 0;)
		if (v->versions[i].since < cap->mark)
			return v->versions[i].value;
	return NULL;
}

static void *
versioned_now(const struct versioned *v)
{
	return v->n > 0 ? v->versions[v->n - 1].value : NULL;
}

static void
versioned_free(struct versioned *v, void (*free_value)(void *))
{
	for (uint32_t i = 0; i < v->n; i++)
		free_value(v->versions[i].value);
	free(v->versions);
}

struct capture *
capture_new(const struct capture_header *header)
{
	struct capture *cap = xcalloc(1, sizeof *cap);

	cap->header = header;
	cap->current = NO_THREAD;
	u64map_init(&cap->thread_by_tid);
	u64map_init(&cap->code_by_id);
	u64map_init(&cap->node_by_key);
	u64map_init(&cap->frame_by_id);
	cap->nodes_cap = 64;
	cap->nodes = xreallocarray(NULL, cap->nodes_cap, sizeof *cap->nodes);
	cap->nodes[0] = (struct stack_node){ 0 };
	cap->n_nodes = 1;
	return cap;
}

void
capture_free(struct capture *cap)
{
	if (cap == NULL)
		return;
	for (size_t i = 0; i < cap->n_threads; i++) {
		versioned_free(&cap->threads[i].name, free);
		free(cap->threads[i].stack);
	}
	for (size_t i = 0; i < cap->n_codes; i++)
		versioned_free(&cap->codes[i], free_code);
	for (size_t i = 0; i < cap->n_images; i++) {
		free(cap->images[i]->path);
		free(cap->images[i]->segments);
		free(cap->images[i]);
	}
	for (size_t i = 0; i < cap->n_generations; i++)
		free(cap->generations[i].segments);
	free(cap->images);
	free(cap->generations);
	free(cap->native);
	free(cap->python);
	free(cap->python_entry);
	free(cap->native_rendered);
	free(cap->threads);
	free(cap->codes);
	xbig_free(cap->nodes, cap->nodes_cap, sizeof *cap->nodes);
	free(cap->rendered);
	free(cap->node_lines);
	free(cap->frames);
	free(cap->traces);
	free(cap->trace_stacks);
	free(cap->walk);
	u64map_free(&cap->frame_by_id);
	u64map_free(&cap->thread_by_tid);
	u64map_free(&cap->code_by_id);
	u64map_free(&cap->node_by_key);
	free(cap);
}

const char *
capture_error(const struct capture *cap)
{
	return cap->error;
}

/*
 * A free's stack and generation are found too, then masked off: frees and
 * allocations come in no order the branch predictor can learn, and a
 * branch on which one this is was mispredicted often (perf put a quarter
 * of this function's samples after it).
 */
struct allocation_place
capture_place_allocation(struct capture *cap, bool deallocator)
{
	uint32_t keep = deallocator ? 0 : UINT32_MAX;
	struct allocation_place place = {
		.thread = cap->current,
		.stack = capture_current_stack(cap) & keep,
		.generation = capture_generation(cap) & keep,
	};

	cap->allocations++;
	return place;
}

void
capture_follow_report(struct capture *cap, const struct capture_progress *progress)
{
	cap->report = progress;
}

void
capture_mark_at(struct capture *cap, uint64_t allocations)
{
	cap->mark = allocations;
}

uint32_t
capture_thread_for_tid(struct capture *cap, uint64_t tid)
{
	uint32_t index = (uint32_t)cap->n_threads;

	if (!u64map_insert(&cap->thread_by_tid, tid, index, &index))
		return index;
	cap->threads = xgrowarray(cap->threads, &cap->threads_cap, cap->n_threads + 1,
	    sizeof *cap->threads, 8);
	cap->threads[index] = (struct thread){ .tid = tid };
	cap->n_threads++;
	return index;
}

static void
define_code(struct capture *cap, const struct record *rec)
{
	uint32_t index = (uint32_t)cap->n_codes;
	struct code_version *code = xmalloc(sizeof *code);

	code->function = xstrdup(rec->u.code.function);
	code->file = xstrdup(rec->u.code.file);
	code->linetable = (uint8_t *)xmemdup(rec->u.code.linetable, rec->u.code.linetable_len);
	code->linetable_len = rec->u.code.linetable_len;
	code->firstlineno = rec->u.code.firstlineno;
	if (u64map_insert(&cap->code_by_id, rec->u.code.id, index, &index)) {
		cap->codes = xgrowarray(cap->codes, &cap->codes_cap, cap->n_codes + 1,
		    sizeof *cap->codes, 64);
		cap->codes[index] = (struct versioned){ 0 };
		cap->n_codes++;
	}
	versioned_set(cap, &cap->codes[index], code, free_code);
}

/* The key of child (parent, frame) in node_by_key; `attempt` resolves hash collisions. */
static uint64_t
node_key(const struct stack_node *n, uint64_t attempt)
{
	uint64_t h = u64map_hash(n->code_id ^ attempt * UINT64_C(0x9e3779b97f4a7c15));

	h = u64map_hash(h ^ (uint64_t)n->instruction_offset);
	return h ^ ((uint64_t)n->parent << 1 | n->is_entry);
}

static bool
same_node(const struct stack_node *n, const struct stack_node *want)
{
	return n->parent == want->parent && n->code_id == want->code_id &&
	    n->instruction_offset == want->instruction_offset && n->is_entry == want->is_entry;
}

/* A new node of the trie, child (parent, frame) of want. */
static uint32_t
new_node(struct capture *cap, const struct stack_node *want)
{
	cap->nodes = xbig_grow(cap->nodes, &cap->nodes_cap, cap->n_nodes + 1,
	    sizeof *cap->nodes, 64);
	struct stack_node *n = &cap->nodes[cap->n_nodes];
	*n = *want;
	n->children[0] = n->children[1] = 0;
	return (uint32_t)cap->n_nodes++;
}

/* The node of child (parent, frame) in node_by_key, added if it is new. */
static __attribute__((noinline)) uint32_t
find_child(struct capture *cap, const struct stack_node *want)
{
	for (uint64_t attempt = 0;; attempt++) {
		uint64_t key = node_key(want, attempt);
		uint32_t index = (uint32_t)cap->n_nodes;
		if (!u64map_insert(&cap->node_by_key, key, index, &index)) {
			if (same_node(&cap->nodes[index], want))
				return index;
			continue;
		}
		return new_node(cap, want);
	}
}

/*
 * The child among the parent's first two, or 0.  Most nodes of a trie
 * have one or two children, and a walk of a call tree visits its nodes
 * in the order it made them, so these are near in memory where the
 * map's slots and the cache's nodes are not.
 */
static inline uint32_t
first_child(const struct capture *cap, const struct stack_node *want)
{
	const uint32_t *children = cap->nodes[want->parent].children;

	for (int i = 0; i < 2; i++) {
		if (children[i] != 0 && same_node(&cap->nodes[children[i]], want))
			return children[i];
	}
	return 0;
}

/*
 * The child that is not among the parent's first two: new, if the parent
 * has a place for it there; else in node_by_key, or added to it.  Only
 * the children of nodes with three or more go to the map: building the
 * trie of a call tree (a node for most records: leaves, 164,508 nodes)
 * spent a fifth of its time inserting into the map and growing it.
 */
static uint32_t
other_child(struct capture *cap, const struct stack_node *want)
{
	const uint32_t *children = cap->nodes[want->parent].children;

	if (children[1] == 0) {
		int place = children[0] == 0 ? 0 : 1;
		uint32_t node = new_node(cap, want);	/* moves the nodes */
		cap->nodes[want->parent].children[place] = node;
		return node;
	}
	return find_child(cap, want);
}

/* The child of want's parent: the first two, then other_child. */
static uint32_t
any_child(struct capture *cap, const struct stack_node *want)
{
	uint32_t found = first_child(cap, want);

	return found != 0 ? found : other_child(cap, want);
}

/*
 * child_node asks the other way first once the way it asks first has
 * missed this many times within ORDER_MISSES * ORDER_SPAN allocations
 * (the capture's clock: counting pushes would cost every push).
 */
#define ORDER_MISSES 512
#define ORDER_SPAN 8

/* The way child_node asked first missed: count it, and maybe change ways. */
static __attribute__((noinline)) void
order_missed(struct capture *cap)
{
	if (++cap->order_misses < ORDER_MISSES)
		return;
	if (cap->allocations - cap->order_since < (uint64_t)ORDER_MISSES * ORDER_SPAN)
		cap->parent_first = !cap->parent_first;
	cap->order_misses = 0;
	cap->order_since = cap->allocations;
}

/* The slot of child_node's cache for want. */
static inline uint32_t *
child_cache_slot(struct capture *cap, const struct stack_node *want)
{
	uint64_t h = ((uint64_t)want->parent << 32 ^ want->code_id) * UINT64_C(0x9e3779b97f4a7c15);

	h = (h ^ (uint64_t)want->instruction_offset << 1 ^ want->is_entry) * UINT64_C(0xff51afd7ed558ccd);
	return &cap->child_cache[h >> (64 - CHILD_CACHE_BITS)];
}

static inline bool
cached_child(const struct capture *cap, const uint32_t *slot, const struct stack_node *want)
{
	return *slot != 0 && same_node(&cap->nodes[*slot], want);
}

/* child_node where the cache is asked first and has not the child. */
static __attribute__((noinline)) uint32_t
child_node_uncached(struct capture *cap, const struct stack_node *want)
{
	order_missed(cap);
	return any_child(cap, want);
}

/* child_node where the parent's first two children are asked first. */
static __attribute__((noinline)) uint32_t
child_node_parent_first(struct capture *cap, const struct stack_node *want)
{
	uint32_t found = first_child(cap, want);

	if (found != 0)
		return found;
	order_missed(cap);
	uint32_t *slot = child_cache_slot(cap, want);
	if (!cached_child(cap, slot, want))
		*slot = other_child(cap, want);
	return *slot;
}

/*
 * The child (parent, frame) of the stack trie.  A program pushes the same
 * few frames over and over, so a direct-mapped cache of the children
 * found lately (slot: a cheap hash of the child; 0: empty, as the root is
 * no child) answers most pushes without node_key's hashes and the map;
 * then the parent's first two children, then the map.  A trie too
 * large for the cache (a recursion of two calls on a line, fib, in
 * Python 3.11 or later, whose frames have their instruction offsets:
 * 133,720 nodes) missed it at nearly every push, and the map's slots
 * (then the node read to check the cache) waited on memory.  Where the
 * way asked first misses often (order_missed), the other is asked first.
 * Cache first spares the parent's node a read at every push: 3-5% of the
 * time on captures the cache holds.  The other ways out of line: inlined,
 * they cost every push 7 more instructions.
 */
static inline __attribute__((always_inline)) uint32_t
child_node(struct capture *cap, const struct stack_node *want)
{
	if (cap->parent_first)
		return child_node_parent_first(cap, want);

	uint32_t *slot = child_cache_slot(cap, want);
	if (!cached_child(cap, slot, want))
		*slot = child_node_uncached(cap, want);
	return *slot;
}

static inline __attribute__((always_inline)) void
push_frame(struct capture *cap, const struct record *rec)
{
	struct thread *t = &cap->threads[cap->current];
	struct stack_node want = {
		.parent = cap->top,
		.is_entry = rec->u.push.is_entry,
		.code_id = rec->u.push.code_id,
		.instruction_offset = rec->u.push.instruction_offset,
	};
	uint32_t node = child_node(cap, &want);

	t->stack = xgrowarray(t->stack, &t->stack_cap, t->depth + 1, sizeof *t->stack, 16);
	t->stack[t->depth++] = node;
	cap->top = node;
}

/* The top of thread t's stack: 0 for the empty stack. */
static uint32_t
stack_top(const struct thread *t)
{
	return t->depth ? t->stack[t->depth - 1] : 0;
}

/* Append to a growing array of stack nodes. */
static void
append_node(struct stack_node **items, size_t *len, size_t *cap, const struct stack_node *node)
{
	*items = xgrowarray(*items, cap, *len + 1, sizeof **items, 64);
	(*items)[(*len)++] = *node;
}

static void
define_frame(struct capture *cap, const struct record *rec)
{
	struct stack_node frame = {
		.code_id = rec->u.frame_index.code_id,
		.instruction_offset = rec->u.frame_index.instruction_offset,
		.is_entry = rec->u.frame_index.is_entry,
	};
	uint32_t index = (uint32_t)cap->n_frames;

	if (u64map_insert(&cap->frame_by_id, rec->u.frame_index.frame_id, index, &index))
		append_node(&cap->frames, &cap->n_frames, &cap->frames_cap, &frame);
	else
		cap->frames[index] = frame;
}

uint32_t
capture_trace_stack(struct capture *cap, uint64_t trace_node)
{
	size_t depth = 0;
	uint64_t node = trace_node;

	if (trace_node > cap->n_traces)
		return 0;
	if (cap->trace_stacks == NULL && cap->n_traces > 0) {
		cap->trace_stacks = xreallocarray(NULL, cap->n_traces, sizeof *cap->trace_stacks);
		memset(cap->trace_stacks, 0xff, cap->n_traces * sizeof *cap->trace_stacks);
	}
	/* Up to the first resolved node; a parent not older than its child counts as the root. */
	while (node != 0 && cap->trace_stacks[node - 1] == UINT32_MAX) {
		cap->walk = xgrowarray(cap->walk, &cap->walk_cap, depth + 1, sizeof *cap->walk, 64);
		cap->walk[depth++] = node;
		uint64_t parent = cap->traces[node - 1].parent;
		node = parent < node ? parent : 0;
	}
	uint32_t stack = node ? cap->trace_stacks[node - 1] : 0;
	/* Back down, pushing each node's frame onto the stack trie. */
	while (depth > 0) {
		node = cap->walk[--depth];
		uint32_t index;
		struct stack_node want = { .code_id = UINT64_MAX };	/* unknown frame: "", "", 0 */
		if (u64map_get(&cap->frame_by_id, cap->traces[node - 1].code_id, &index))
			want = cap->frames[index];
		want.parent = stack;
		stack = child_node(cap, &want);
		cap->trace_stacks[node - 1] = stack;
	}
	return stack;
}

/* MEMORY_MAP_START: a new generation, empty; the earlier ones stay (§6.2). */
static void
start_generation(struct capture *cap)
{
	cap->generations = xgrowarray(cap->generations, &cap->generations_cap,
	    cap->n_generations + 1, sizeof *cap->generations, 16);
	cap->generations[cap->n_generations++] = (struct generation){ .sorted = true };
}

/*
 * SEGMENT_HEADER: the image its SEGMENT records belong to.  memray adds it
 * to the current generation, which must exist: before any
 * MEMORY_MAP_START it fails (std::out_of_range).
 */
static bool
add_image(struct capture *cap, const struct record *rec)
{
	if (cap->n_generations == 0) {
		strcpy(cap->error, "segment header before any memory map start");
		return false;
	}
	struct image *im = xcalloc(1, sizeof *im);
	im->path = xstrdup(rec->u.segment_header.filename);
	im->image = (struct native_image){
		.path = im->path, .load_address = rec->u.segment_header.load_address,
	};
	cap->images = xgrowarray(cap->images, &cap->images_cap, cap->n_images + 1,
	    sizeof *cap->images, 16);
	cap->images[cap->n_images++] = im;
	return true;
}

/* SEGMENT: [load + vaddr, load + vaddr + memsz) of the last image, in the current generation. */
static void
add_segment(struct capture *cap, const struct record *rec)
{
	struct image *im = cap->images[cap->n_images - 1];
	struct generation *g = &cap->generations[cap->n_generations - 1];
	uint64_t start = im->image.load_address + rec->u.segment.vaddr;

	im->segments = xgrowarray(im->segments, &im->segments_cap, im->image.n_segments + 1,
	    sizeof *im->segments, 16);
	im->segments[im->image.n_segments++] = (struct native_load_segment){
		rec->u.segment.vaddr, rec->u.segment.memsz,
	};
	im->image.segments = im->segments;
	g->segments = xgrowarray(g->segments, &g->segments_cap, g->n_segments + 1,
	    sizeof *g->segments, 16);
	g->segments[g->n_segments++] = (struct native_segment){
		start, start + rec->u.segment.memsz, &im->image,
	};
	g->sorted = false;
}

/*
 * Any record but an ALLOCATION, a FRAME_PUSH or a FRAME_POP: apart from
 * those, which a Python program writes about as often as allocations
 * (see capture_apply).
 */
static __attribute__((noinline)) bool
apply_other(struct capture *cap, const struct record *rec)
{
	switch (rec->type) {
	case REC_CONTEXT_SWITCH:
		cap->current = capture_thread_for_tid(cap, rec->u.context_switch.tid);
		cap->top = stack_top(&cap->threads[cap->current]);
		break;
	case REC_THREAD_NAME: {
		/* Before any context switch, memray names thread 0. */
		uint32_t thread = cap->current != NO_THREAD ? cap->current : capture_thread_for_tid(cap, 0);
		versioned_set(cap, &cap->threads[thread].name, xstrdup(rec->u.thread.name), free);
		break;
	}
	case REC_CODE_OBJECT:
		define_code(cap, rec);
		break;
	case REC_FRAME_INDEX:
		define_frame(cap, rec);
		break;
	case REC_TRACE_INDEX: {
		/* parent holds the file's node number here, not a stack id. */
		struct stack_node node = {
			.parent = rec->u.trace_index.parent > UINT32_MAX ? UINT32_MAX :
			    (uint32_t)rec->u.trace_index.parent,
			.code_id = rec->u.trace_index.frame_id,
		};
		append_node(&cap->traces, &cap->n_traces, &cap->traces_cap, &node);
		break;
	}
	case REC_NATIVE_FRAME:
		cap->native = xgrowarray(cap->native, &cap->native_cap, cap->n_native + 1,
		    sizeof *cap->native, 16);
		cap->native[cap->n_native++] = (struct native_frame){
			rec->u.native_frame.ip, rec->u.native_frame.parent,
		};
		break;
	case REC_MEMORY_MAP_START:
		start_generation(cap);
		break;
	case REC_SEGMENT_HEADER:
		return add_image(cap, rec);
	case REC_SEGMENT:
		/* SEGMENTs follow their header; a header refused above leaves no image at all. */
		if (cap->n_images > 0)
			add_segment(cap, rec);
		break;
	default:
		break;
	}
	return true;
}

/*
 * Frame pushes and pops, inline here: in a function of their own with
 * the other records, each paid that function's entry and exit, and the
 * stack trie's cache (child_node) a call of its own.
 */
__attribute__((always_inline)) inline bool
capture_apply(struct capture *cap, const struct record *rec)
{
	if (rec->type != REC_FRAME_PUSH && rec->type != REC_FRAME_POP)
		return apply_other(cap, rec);
	if (cap->current == NO_THREAD) {
		strcpy(cap->error, "frame record before any context switch");
		return false;
	}
	if (rec->type == REC_FRAME_PUSH) {
		push_frame(cap, rec);
	} else {
		/* Popping past the bottom is undefined in memray: stop at empty. */
		struct thread *t = &cap->threads[cap->current];
		t->depth -= rec->u.pop.count < t->depth ? rec->u.pop.count : t->depth;
		cap->top = stack_top(t);
	}
	return true;
}

uint32_t
capture_current_thread(const struct capture *cap)
{
	return cap->current;
}

uint32_t
capture_current_stack(const struct capture *cap)
{
	return cap->top;	/* 0 before any switch */
}

uint32_t
capture_generation(const struct capture *cap)
{
	return (uint32_t)cap->n_generations;
}

bool
capture_has_generation(const struct capture *cap, uint64_t generation)
{
	return generation >= 1 && generation <= cap->n_generations;
}

uint32_t
capture_thread_count(const struct capture *cap)
{
	return (uint32_t)cap->n_threads;
}

uint64_t
capture_thread_tid(const struct capture *cap, uint32_t thread)
{
	return cap->threads[thread].tid;
}

const char *
capture_thread_name(const struct capture *cap, uint32_t thread)
{
	return versioned_at_mark(cap, &cap->threads[thread].name);
}

const char *
capture_thread_name_now(const struct capture *cap, uint32_t thread)
{
	return versioned_now(&cap->threads[thread].name);
}

/*
 * The line of node n at the last mark.  Lines are cached per node: rows
 * share their outer frames, and a 3.11 line table is walked from its
 * start for every lookup.  Rendering happens after the last mark, so a
 * cached line stays valid; the cache grows as the trie does.
 */
static int32_t
node_line(struct capture *cap, uint32_t n, const struct code_version *code)
{
	if (cap->n_node_lines < cap->n_nodes) {
		cap->node_lines = xreallocarray(cap->node_lines, cap->n_nodes, sizeof *cap->node_lines);
		for (size_t i = cap->n_node_lines; i < cap->n_nodes; i++)
			cap->node_lines[i] = LINE_UNKNOWN;
		cap->n_node_lines = cap->n_nodes;
	}
	if (cap->node_lines[n] == LINE_UNKNOWN)
		cap->node_lines[n] = linetable_line(cap->header->python_version, code->linetable,
		    code->linetable_len, code->firstlineno, cap->nodes[n].instruction_offset);
	return cap->node_lines[n];
}

/* memray's frameToLocation (§5.2): an unknown code object renders as "", "", 0. */
static struct frame_text
frame_text(struct capture *cap, uint32_t n)
{
	uint32_t index;
	const struct code_version *code = NULL;

	if (u64map_get(&cap->code_by_id, cap->nodes[n].code_id, &index))
		code = versioned_at_mark(cap, &cap->codes[index]);
	if (code == NULL)
		return (struct frame_text){ "", "", 0 };
	return (struct frame_text){ code->function, code->file, node_line(cap, n, code) };
}

size_t
capture_render_stack(struct capture *cap, uint32_t stack, uint32_t thread,
    const struct frame_text **frames)
{
	size_t depth = 0;

	for (uint32_t n = stack; n != 0; n = cap->nodes[n].parent) {
		cap->rendered = xgrowarray(cap->rendered, &cap->rendered_cap, depth + 1,
		    sizeof *cap->rendered, 64);
		cap->rendered[depth++] = frame_text(cap, n);
	}
	if (thread != NO_THREAD && cap->threads[thread].tid == cap->header->main_tid) {
		uint64_t skip = cap->header->skipped_frames_on_main_tid;
		depth -= skip < depth ? (size_t)skip : depth;
	}
	*frames = cap->rendered;
	return depth;
}

/*
 * The native stack native_id in generation g, symbolized: memray's
 * Py_GetNativeStackFrame walks the entries to the root, innermost first,
 * and an address no segment of the generation maps adds nothing.  An id
 * beyond the table ends the walk (memray reads past its vector), and the
 * walk is bounded by the table size (a valid chain is never longer).
 */
static void
render_native_stack(struct capture *cap, struct native_symbols *ns, uint64_t native_id,
    uint32_t g)
{
	struct generation *gen = &cap->generations[g - 1];
	size_t steps = 0;

	if (!gen->sorted) {
		native_segments_sort(gen->segments, gen->n_segments);
		gen->sorted = true;
	}
	for (uint64_t k = native_id; k != 0 && k <= cap->n_native && steps++ < cap->n_native;) {
		uint64_t ip = cap->native[k - 1].ip;
		const struct native_segment *seg =
		    native_segments_find(gen->segments, gen->n_segments, ip);
		const struct frame_text *frames;
		k = cap->native[k - 1].parent;
		if (seg == NULL)
			continue;
		size_t n = native_symbols_resolve(ns, seg->image, ip, &frames);
		for (size_t i = 0; i < n; i++) {
			cap->native_rendered = xgrowarray(cap->native_rendered,
			    &cap->native_rendered_cap, cap->native_rendered_len + 1,
			    sizeof *cap->native_rendered, 16);
			cap->native_rendered[cap->native_rendered_len++] = frames[i];
		}
	}
}

size_t
capture_render_hybrid_stack(struct capture *cap, struct native_symbols *ns,
    uint32_t stack, uint64_t native_id, uint32_t generation, uint32_t thread,
    const struct frame_text **frames)
{
	size_t n_python = 0;
	uint64_t skip = 0;

	/* The Python stack, most recent first, unskipped, with the entry flags. */
	for (uint32_t n = stack; n != 0; n = cap->nodes[n].parent) {
		if (n_python == cap->python_cap) {
			/* python_entry shares python's capacity. */
			cap->python = xgrowarray(cap->python, &cap->python_cap, n_python + 1,
			    sizeof *cap->python, 64);
			cap->python_entry = xreallocarray(cap->python_entry, cap->python_cap,
			    sizeof *cap->python_entry);
		}
		cap->python[n_python] = frame_text(cap, n);
		cap->python_entry[n_python++] = cap->nodes[n].is_entry;
	}
	cap->native_rendered_len = 0;
	if (native_id != 0 && capture_has_generation(cap, generation))
		render_native_stack(cap, ns, native_id, generation);

	size_t room = cap->native_rendered_len + n_python;
	if (room > cap->rendered_cap) {
		cap->rendered_cap = room;
		cap->rendered = xreallocarray(cap->rendered, cap->rendered_cap, sizeof *cap->rendered);
	}
	if (thread != NO_THREAD && cap->threads[thread].tid == cap->header->main_tid)
		skip = cap->header->skipped_frames_on_main_tid;
	*frames = cap->rendered;
	return hybrid_stack_merge(cap->native_rendered, cap->native_rendered_len, cap->python,
	    cap->python_entry, n_python, skip, cap->rendered);
}
