/*
 * gen-capture: write a synthetic memray capture to standard output.
 *
 * The capture is format 13, ALL_ALLOCATIONS, Python 3.11, no native
 * traces, encoded exactly as memray's StreamingRecordWriter would encode
 * the same events (doc/capture-format.md §1-§3): the header, CODE_OBJECTs
 * with 3.11 location tables, CONTEXT_SWITCH, THREAD_RECORD, FRAME_PUSH,
 * FRAME_POP, MEMORY_RECORD, ALLOCATION records through the 15-entry
 * pointer cache, and a TRAILER.  Everything follows from the seed and the
 * parameters, so a benchmark or a test can regenerate the same bytes.
 *
 * The workload is a random program: the live set rises to --live blocks
 * and stays just below it (the further below, the likelier an allocation;
 * never above) until --records allocation records are written.  Threads hop between
 * --stacks distinct Python stacks (a random trie of frames), a share of
 * the frees releases the newest block (short-lived temporaries, as real
 * programs do), some allocations are realloc pairs, and --mmap-share of
 * them are mmaps that a munmap later removes whole, trims or splits.
 *
 * --expect prints on standard error what a correct reader must find: the
 * record counts (named as `memray-transform --info` names them) and the
 * totals of the peak, leaks and temporary (threshold 1) reports, and the
 * largest live set (for benchmarks of memory per live allocation).  They are
 * computed by replaying memray's rules on the generator's own events
 * (doc/capture-format.md §8.2-§8.4), which the workload keeps free of quirks:
 * no block is allocated at a live address and no unknown address is freed.
 * Memory: the live set, the stacks and the threads, never the records.
 */
#include <errno.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <lz4frame.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "capture_builder.h"

#define PROGRAM "gen-capture"
#define OUT_CHUNK (1u << 20)
/* Flush before a record when less than this is left (the longest record is a code object). */
#define OUT_SLACK 4096
#define POINTER_CACHE_SIZE 15
#define PAGE 4096
/* Code units covered by each code object's location table; frames use offsets below it. */
#define CODE_UNITS 32
#define PYTHON_VERSION 0x030B02F0	/* 3.11.2 final */
#define MAIN_TID 1
/* A MEMORY_RECORD, as memray's background thread writes them, every this many allocation records. */
#define MEMORY_RECORD_EVERY 65536
/* Address spaces: pymalloc arenas, the malloc heap and mmaps never overlap. */
#define PYMALLOC_BASE UINT64_C(0x7f3a10000000)
#define MALLOC_BASE UINT64_C(0x5600a0000000)
#define MMAP_BASE UINT64_C(0x7f5000000000)
#define SLOT_BYTES 48

/* Allocator ids of format 13 (doc/capture-format.md §7). */
enum {
	PYMALLOC_FREE = 1, PYMALLOC_MALLOC = 2, PYMALLOC_CALLOC = 3, PYMALLOC_REALLOC = 4,
	FREE = 5, MALLOC = 6, REALLOC = 7, CALLOC = 8, POSIX_MEMALIGN = 9, ALIGNED_ALLOC = 10,
	MMAP = 14, MUNMAP = 15
};

enum compress { COMPRESS_NONE, COMPRESS_LZ4, COMPRESS_ZSTD };

struct params {
	uint64_t seed, records, live, stacks, threads, mmap_share, locality;
	bool thread_names, expect;
	enum compress compress;
};

/* A live block, or one live piece of an mmap. */
struct block {
	uint64_t address, size;
	uint32_t slot;		/* simple blocks: the address slot, freed with the block */
	uint8_t allocator;
};

/* A node of the stack trie: the stack `parent` with the frame (code, 2 * unit) pushed. */
struct node {
	uint32_t parent, depth, code, unit;
};

/* What a thread did lately, for the temporary-allocations prediction (buffer of 2, §8.4). */
struct recent {
	uint64_t address, size;
};

struct thread {
	uint32_t node;		/* top of its Python stack */
	bool seen;		/* had its CONTEXT_SWITCH (and name) */
	struct recent recent[2];	/* newest first */
	unsigned n_recent;
};

/* Record counts, in the order and with the names of `memray-transform --info`. */
enum count { C_ALLOCATION, C_PUSH, C_POP, C_SWITCH, C_NAME, C_CODE, C_MEMORY, C_COUNT };
static const char *const count_names[C_COUNT] = {
	"allocation", "frame push", "frame pop", "context switch", "thread name", "code object", "memory",
};

struct gen {
	struct params p;
	uint64_t rng;

	/* Output: the records not yet handed on, in capture_builder's buffer. */
	struct capture_builder out;
	LZ4F_cctx *lz4;
	ZSTD_CCtx *zstd;
	uint8_t *zbuf;
	size_t zcap;

	/* Encoder state (§1.4, §3.3.6). */
	uint64_t pointer_cache[POINTER_CACHE_SIZE];
	uint64_t last_data_ptr;
	int32_t last_firstlineno;
	uint64_t current_tid;	/* 0: no CONTEXT_SWITCH yet */

	struct node *nodes;	/* nodes[0] is the empty stack */
	uint32_t n_codes;
	bool *code_written;
	uint32_t *path;		/* scratch: nodes to push */

	struct thread *threads;
	uint32_t cur;		/* thread index; tid = index + 1 */

	struct block *live;
	size_t n_live, live_cap;
	uint32_t *free_slots;	/* LIFO, like a malloc free list */
	size_t n_free_slots, free_slots_cap;
	uint32_t next_slot;
	uint64_t next_mmap;

	/* Records written, and memray's view of them (§8.2-§8.4). */
	uint64_t records;
	uint64_t counts[C_COUNT];
	uint64_t current, peak, live_bytes;
	uint64_t peak_bytes, peak_count;
	size_t most_live;
	uint64_t temporary_bytes, temporary_count;
};

static void
die(const char *fmt, ...)
{
	va_list ap;

	fputs(PROGRAM ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xrealloc(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		die("out of memory");
	p = realloc(p, n * size > 0 ? n * size : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

/* splitmix64: small, fast and good enough for a workload. */
static uint64_t
next_random(struct gen *g)
{
	uint64_t z = (g->rng += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the modulo bias is irrelevant here). */
static uint64_t
below(struct gen *g, uint64_t n)
{
	return next_random(g) % n;
}

static bool
percent(struct gen *g, uint64_t pct)
{
	return below(g, 100) < pct;
}

/* ---- output ---- */

static void
write_out(const void *data, size_t n)
{
	if (n > 0 && fwrite(data, 1, n, stdout) != n)
		die("write error: %s", strerror(errno));
}

static void
zstd_step(struct gen *g, const void *data, size_t n, ZSTD_EndDirective mode)
{
	ZSTD_inBuffer in = { data, n, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { g->zbuf, g->zcap, 0 };
		left = ZSTD_compressStream2(g->zstd, &out, &in, mode);
		if (ZSTD_isError(left))
			die("zstd: %s", ZSTD_getErrorName(left));
		write_out(g->zbuf, out.pos);
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
}

/* Hand the buffered bytes to the compressor (or stdout). */
static void
flush(struct gen *g)
{
	size_t n;

	switch (g->p.compress) {
	case COMPRESS_NONE:
		write_out(g->out.data, g->out.len);
		break;
	case COMPRESS_LZ4:
		n = LZ4F_compressUpdate(g->lz4, g->zbuf, g->zcap, g->out.data, g->out.len, NULL);
		if (LZ4F_isError(n))
			die("lz4: %s", LZ4F_getErrorName(n));
		write_out(g->zbuf, n);
		break;
	case COMPRESS_ZSTD:
		zstd_step(g, g->out.data, g->out.len, ZSTD_e_continue);
		break;
	}
	builder_clear(&g->out);
}

static void
open_output(struct gen *g)
{
	size_t n;

	builder_reserve(&g->out, OUT_CHUNK);
	switch (g->p.compress) {
	case COMPRESS_NONE:
		break;
	case COMPRESS_LZ4:
		/* Default preferences, as memray's compressFile: linked 64 KiB blocks. */
		if (LZ4F_isError(LZ4F_createCompressionContext(&g->lz4, LZ4F_VERSION)))
			die("lz4: cannot create a context");
		g->zcap = LZ4F_compressBound(OUT_CHUNK, NULL);
		g->zbuf = xrealloc(NULL, g->zcap, 1);
		n = LZ4F_compressBegin(g->lz4, g->zbuf, g->zcap, NULL);
		if (LZ4F_isError(n))
			die("lz4: %s", LZ4F_getErrorName(n));
		write_out(g->zbuf, n);
		break;
	case COMPRESS_ZSTD:
		g->zstd = ZSTD_createCCtx();
		if (g->zstd == NULL)
			die("zstd: cannot create a context");
		g->zcap = ZSTD_CStreamOutSize();
		g->zbuf = xrealloc(NULL, g->zcap, 1);
		break;
	}
}

static void
close_output(struct gen *g)
{
	size_t n;

	flush(g);
	switch (g->p.compress) {
	case COMPRESS_NONE:
		break;
	case COMPRESS_LZ4:
		n = LZ4F_compressEnd(g->lz4, g->zbuf, g->zcap, NULL);
		if (LZ4F_isError(n))
			die("lz4: %s", LZ4F_getErrorName(n));
		write_out(g->zbuf, n);
		LZ4F_freeCompressionContext(g->lz4);
		break;
	case COMPRESS_ZSTD:
		zstd_step(g, NULL, 0, ZSTD_e_end);
		ZSTD_freeCCtx(g->zstd);
		break;
	}
	if (fflush(stdout) != 0)
		die("write error: %s", strerror(errno));
	free(g->zbuf);
	builder_free(&g->out);
}

/* Make room for one record. */
static void
reserve(struct gen *g)
{
	if (OUT_CHUNK - g->out.len < OUT_SLACK)
		flush(g);
}

/* ---- records ---- */

static void
write_header(struct gen *g)
{
	const struct params *p = &g->p;
	char command_line[512];

	/* The workload's parameters, not the container's: every container holds the same bytes. */
	snprintf(command_line, sizeof command_line,
	    "python3 -m workload --seed %" PRIu64 " --records %" PRIu64 " --live %" PRIu64
	    " --stacks %" PRIu64 " --threads %" PRIu64 " --mmap-share %" PRIu64 " --locality %" PRIu64 "%s",
	    p->seed, p->records, p->live, p->stacks, p->threads, p->mmap_share, p->locality,
	    p->thread_names ? " --thread-names" : "");
	builder_header(&g->out, &(struct capture_header_fields){
		.version = 13,
		.python_version = PYTHON_VERSION,
		.file_format = 0,			/* ALL_ALLOCATIONS */
		.n_allocations = g->p.records,		/* stats.n_allocations, as rewritten at exit */
		.n_frames = 0,				/* always 0 */
		.start_time = UINT64_C(1700000000000),
		.end_time = UINT64_C(1700000060000),
		.command_line = command_line,
		.pid = 4242,
		.main_tid = MAIN_TID,
		.skipped_frames_on_main_tid = 1,
		.python_allocator = 1,			/* pymalloc */
		.trace_python_allocators = true,
		.libdest = "/usr/lib/python3.11",
		.site_packages = (const char *const[]){ "/srv/venv/lib/python3.11/site-packages", NULL },
		.sys_path = (const char *const[]){ "/srv/app", "/usr/lib/python3.11", NULL },
	});
}

/* The location-table varint of §5.3.3: 6-bit groups, 0x40 = more. */
static size_t
location_uv(uint8_t *out, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x40) {
		out[n++] = (uint8_t)(0x40 | (v & 0x3f));
		v >>= 6;
	}
	out[n++] = (uint8_t)v;
	return n;
}

static size_t
location_sv(uint8_t *out, int64_t v)
{
	return location_uv(out, v < 0 ? ((uint64_t)-v << 1) | 1 : (uint64_t)v << 1);
}

/*
 * A CPython 3.11 location table covering CODE_UNITS code units, with
 * every entry kind (§5.3.3) in a mix that depends on the code id.
 */
static size_t
location_table(uint32_t code, uint8_t *out)
{
	size_t n = 0;

	for (unsigned units = 0, j = 0; units < CODE_UNITS; j++) {
		unsigned len = 1 + (code * 7 + j * 3) % 4;
		if (len > CODE_UNITS - units)
			len = CODE_UNITS - units;
		units += len;
		switch ((code + j) % 6) {
		case 0:		/* ONE_LINE1: next line, start and end column */
			out[n++] = (uint8_t)(0x80 | 11 << 3 | (len - 1));
			out[n++] = 4;
			out[n++] = 20;
			break;
		case 1:		/* SHORT: same line, one column byte */
			out[n++] = (uint8_t)(0x80 | (j % 10) << 3 | (len - 1));
			out[n++] = (uint8_t)((j * 5) & 0x7f);
			break;
		case 2:		/* NO_COLUMNS: a line delta */
			out[n++] = (uint8_t)(0x80 | 13 << 3 | (len - 1));
			n += location_sv(out + n, 1);
			break;
		case 3:		/* LONG: line delta (sometimes back), end line, columns */
			out[n++] = (uint8_t)(0x80 | 14 << 3 | (len - 1));
			n += location_sv(out + n, j % 12 == 3 ? -1 : 70);
			n += location_uv(out + n, 1);
			n += location_uv(out + n, 5);
			n += location_uv(out + n, 130);
			break;
		case 4:		/* ONE_LINE0: same line, columns */
			out[n++] = (uint8_t)(0x80 | 10 << 3 | (len - 1));
			out[n++] = 8;
			out[n++] = 9;
			break;
		default:	/* NONE: no location */
			out[n++] = (uint8_t)(0x80 | 15 << 3 | (len - 1));
			break;
		}
	}
	return n;
}

static void
write_code_object(struct gen *g, uint32_t code)
{
	char name[64];
	uint8_t table[CODE_UNITS * 8];
	size_t table_len = location_table(code, table);
	int32_t firstlineno = (int32_t)(10 + code % 1000 * 7);

	reserve(g);
	builder_u8(&g->out, 0x0e);
	builder_varint(&g->out, code);
	snprintf(name, sizeof name, "func_%" PRIu32, code);
	builder_cstr(&g->out, name);
	snprintf(name, sizeof name, "/srv/app/module_%" PRIu32 ".py", code % 50);
	builder_cstr(&g->out, name);
	builder_svarint(&g->out, (int64_t)firstlineno - g->last_firstlineno);
	g->last_firstlineno = firstlineno;
	builder_varint(&g->out, table_len);
	builder_bytes(&g->out, table, table_len);
	g->counts[C_CODE]++;
}

/* The writer emits CONTEXT_SWITCH only when the thread differs from the last one's. */
static void
switch_to_current(struct gen *g)
{
	uint64_t tid = (uint64_t)g->cur + 1;
	struct thread *t = &g->threads[g->cur];

	if (g->current_tid == tid)
		return;
	reserve(g);
	builder_u8(&g->out, 0x0c);
	builder_le(&g->out, tid, 8);
	g->current_tid = tid;
	g->counts[C_SWITCH]++;
	if (!t->seen) {
		t->seen = true;
		/* The main thread usually has no name (§3.3.2). */
		if (g->p.thread_names && tid != MAIN_TID) {
			char name[32];
			snprintf(name, sizeof name, "worker-%" PRIu64, tid);
			reserve(g);
			builder_u8(&g->out, 0x0a);
			builder_cstr(&g->out, name);
			g->counts[C_NAME]++;
		}
	}
}

static void
write_pops(struct gen *g, uint32_t n)
{
	while (n > 0) {
		uint32_t k = n > 16 ? 16 : n;
		reserve(g);
		builder_u8(&g->out, (uint8_t)(0x10 | (k - 1)));
		g->counts[C_POP]++;
		n -= k;
	}
}

static void
write_push(struct gen *g, uint32_t node)
{
	const struct node *nd = &g->nodes[node];

	/* A code object is written before the first push that names it. */
	if (!g->code_written[nd->code]) {
		g->code_written[nd->code] = true;
		write_code_object(g, nd->code);
	}
	reserve(g);
	builder_u8(&g->out, 0x41);	/* entry frame: always so without native traces */
	builder_varint(&g->out, nd->code);
	builder_svarint(&g->out, 2 * (int64_t)nd->unit);
	g->counts[C_PUSH]++;
}

/* Pop the current thread's stack to the common prefix with `target`, then push down to it. */
static void
move_stack(struct gen *g, uint32_t target)
{
	struct thread *t = &g->threads[g->cur];
	uint32_t from = t->node, to = target, pops = 0, n_path = 0;

	while (g->nodes[from].depth > g->nodes[to].depth) {
		from = g->nodes[from].parent;
		pops++;
	}
	while (g->nodes[to].depth > g->nodes[from].depth) {
		g->path[n_path++] = to;
		to = g->nodes[to].parent;
	}
	while (from != to) {
		from = g->nodes[from].parent;
		pops++;
		g->path[n_path++] = to;
		to = g->nodes[to].parent;
	}
	switch_to_current(g);
	write_pops(g, pops);
	while (n_path > 0)
		write_push(g, g->path[--n_path]);
	t->node = target;
}

/* memray's peak finder (§8.2), checked after every allocation record. */
static void
track_peak(struct gen *g)
{
	if (g->current >= g->peak) {
		g->peak = g->current;
		g->peak_bytes = g->live_bytes;
		g->peak_count = g->n_live;
	}
}

/* An ALLOCATION record: pointer cache slot or delta, allocator, size (§3.3.6). */
static void
write_allocation(struct gen *g, uint8_t allocator, uint64_t address, uint64_t size)
{
	unsigned slot = 0;

	switch_to_current(g);
	reserve(g);
	while (slot < POINTER_CACHE_SIZE && g->pointer_cache[slot] != address)
		slot++;
	builder_u8(&g->out, (uint8_t)(0x80 | slot << 3 | (allocator < 8 ? allocator : 0)));
	if (slot == POINTER_CACHE_SIZE) {
		builder_svarint(&g->out, (int64_t)((address >> 3) - g->last_data_ptr));
		g->last_data_ptr = address >> 3;
		memmove(g->pointer_cache + 1, g->pointer_cache,
		    (POINTER_CACHE_SIZE - 1) * sizeof g->pointer_cache[0]);
		g->pointer_cache[0] = address;
	}
	if (allocator >= 8)
		builder_u8(&g->out, allocator);
	if (allocator != FREE && allocator != PYMALLOC_FREE)
		builder_varint(&g->out, size);
	g->counts[C_ALLOCATION]++;
	g->records++;
	if (g->records % MEMORY_RECORD_EVERY == 0) {
		reserve(g);
		builder_u8(&g->out, 0x02);
		builder_varint(&g->out, g->live_bytes + (UINT64_C(20) << 20));	/* rss */
		builder_varint(&g->out, g->records / 1000);			/* ms since start */
		g->counts[C_MEMORY]++;
	}
}

/* Temporary mode with threshold 1 (§8.4): each thread's 2 newest allocations. */
static void
recent_alloc(struct gen *g, uint64_t address, uint64_t size)
{
	struct thread *t = &g->threads[g->cur];

	t->recent[1] = t->recent[0];
	t->recent[0] = (struct recent){ address, size };
	if (t->n_recent < 2)
		t->n_recent++;
}

static void
recent_free(struct gen *g, uint64_t address, uint64_t size, bool munmap)
{
	const struct thread *t = &g->threads[g->cur];

	for (unsigned k = 0; k < t->n_recent; k++) {
		if (t->recent[k].address == address && (!munmap || t->recent[k].size == size)) {
			g->temporary_count++;
			g->temporary_bytes += t->recent[k].size;
			return;
		}
	}
}

static void
add_live(struct gen *g, struct block b)
{
	if (g->n_live == g->live_cap) {
		g->live_cap = g->live_cap ? g->live_cap * 2 : 1024;
		g->live = xrealloc(g->live, g->live_cap, sizeof *g->live);
	}
	g->live[g->n_live++] = b;
	g->live_bytes += b.size;
	if (g->n_live > g->most_live)
		g->most_live = g->n_live;
}

/* Remove live[i] (the last block takes its place). */
static void
drop_live(struct gen *g, size_t i)
{
	g->live_bytes -= g->live[i].size;
	g->live[i] = g->live[--g->n_live];
}

static uint32_t
take_slot(struct gen *g)
{
	return g->n_free_slots > 0 ? g->free_slots[--g->n_free_slots] : g->next_slot++;
}

static void
give_slot(struct gen *g, uint32_t slot)
{
	if (g->n_free_slots == g->free_slots_cap) {
		g->free_slots_cap = g->free_slots_cap ? g->free_slots_cap * 2 : 1024;
		g->free_slots = xrealloc(g->free_slots, g->free_slots_cap, sizeof *g->free_slots);
	}
	g->free_slots[g->n_free_slots++] = slot;
}

static uint64_t
block_size(struct gen *g)
{
	/* Mostly small objects, now and then a big buffer. */
	if (below(g, 64) == 0)
		return 4096 + below(g, 1u << 20);
	return 8 + below(g, 504);
}

static void
allocate_simple(struct gen *g, uint8_t allocator, uint32_t slot, uint64_t size)
{
	bool pymalloc = allocator <= PYMALLOC_REALLOC;
	uint64_t address = (pymalloc ? PYMALLOC_BASE : MALLOC_BASE) + (uint64_t)slot * SLOT_BYTES;

	/* Only allocations move a thread between stacks: frees carry none. */
	if (percent(g, 15))
		move_stack(g, 1 + (uint32_t)below(g, g->p.stacks));
	add_live(g, (struct block){ address, size, slot, allocator });
	g->current += size;
	write_allocation(g, allocator, address, size);
	recent_alloc(g, address, size);
	track_peak(g);
}

static void
free_simple(struct gen *g, size_t i)
{
	struct block b = g->live[i];
	uint8_t allocator = b.allocator <= PYMALLOC_REALLOC ? PYMALLOC_FREE : FREE;

	drop_live(g, i);
	g->current -= b.size;
	write_allocation(g, allocator, b.address, 0);
	recent_free(g, b.address, 0, false);
	track_peak(g);
	give_slot(g, b.slot);
}

static void
allocate_mmap(struct gen *g)
{
	uint64_t size = (1 + below(g, 64)) * PAGE;
	uint64_t address = g->next_mmap;

	g->next_mmap += size + PAGE;	/* a guard page keeps mappings apart */
	if (percent(g, 15))
		move_stack(g, 1 + (uint32_t)below(g, g->p.stacks));
	add_live(g, (struct block){ address, size, 0, MMAP });
	g->current += size;
	write_allocation(g, MMAP, address, size);
	recent_alloc(g, address, size);
	track_peak(g);
}

/* munmap all of live[i], its head or tail, or its middle (which splits it in two, §8.2.1). */
static void
unmap(struct gen *g, size_t i)
{
	struct block *b = &g->live[i];
	uint64_t pages = b->size / PAGE, start = b->address, size = b->size;
	uint64_t kind = below(g, 10);

	if (kind < 6 || pages < 3) {
		drop_live(g, i);
	} else if (kind < 8) {
		uint64_t cut = (1 + below(g, pages - 1)) * PAGE;
		if (kind == 6) {	/* the head */
			size = cut;
			b->address += cut;
		} else {		/* the tail */
			start += b->size - cut;
			size = cut;
		}
		b->size -= cut;
		g->live_bytes -= cut;
	} else {
		uint64_t first = (1 + below(g, pages - 2)) * PAGE;
		uint64_t hole = (1 + below(g, pages - first / PAGE - 1)) * PAGE;
		struct block second = { b->address + first + hole, b->size - first - hole, 0, MMAP };
		start = b->address + first;
		size = hole;
		g->live_bytes -= b->size;
		b->size = first;
		g->live_bytes += first;
		add_live(g, second);
	}
	g->current -= size;
	write_allocation(g, MUNMAP, start, size);
	recent_free(g, start, size, true);
	track_peak(g);
}

static uint8_t
simple_allocator(struct gen *g)
{
	uint64_t r = below(g, 100);

	if (r < 45)
		return PYMALLOC_MALLOC;
	if (r < 50)
		return PYMALLOC_CALLOC;
	if (r < 80)
		return MALLOC;
	if (r < 92)
		return CALLOC;
	return r < 96 ? POSIX_MEMALIGN : ALIGNED_ALLOC;
}

/* realloc of live[i]: FREE of the old block, then REALLOC of the new one (§3.3.6). */
static void
reallocate(struct gen *g, size_t i)
{
	bool pymalloc = g->live[i].allocator <= PYMALLOC_REALLOC;
	uint32_t old_slot = g->live[i].slot;
	/* Half of them grow in place: the freed slot is the next one taken. */
	bool in_place = percent(g, 50);

	free_simple(g, i);
	uint32_t slot = take_slot(g);
	if (!in_place && slot == old_slot) {
		slot = take_slot(g);
		give_slot(g, old_slot);
	}
	allocate_simple(g, pymalloc ? PYMALLOC_REALLOC : REALLOC, slot, block_size(g));
}

/* A random live block, or (--locality percent of the time) the newest one. */
static size_t
victim(struct gen *g)
{
	return percent(g, g->p.locality) ? g->n_live - 1 : (size_t)below(g, g->n_live);
}

static void
step(struct gen *g)
{
	uint64_t left = g->p.records - g->records;
	bool allocate;

	if (g->p.threads > 1 && percent(g, 2))
		g->cur = (uint32_t)below(g, g->p.threads);
	/* Allocate with probability 1 - live / (2 * --live): the live set settles below --live. */
	if (g->n_live >= g->p.live)
		allocate = false;
	else
		allocate = below(g, 2 * g->p.live) >= g->n_live;

	if (!allocate) {
		size_t i = victim(g);
		if (g->live[i].allocator == MMAP)
			unmap(g, i);
		else
			free_simple(g, i);
	} else if (percent(g, g->p.mmap_share)) {
		allocate_mmap(g);
	} else if (left >= 2 && g->n_live > 0 && percent(g, 10)) {
		size_t i = victim(g);
		if (g->live[i].allocator == MMAP)
			unmap(g, i);
		else
			reallocate(g, i);
	} else {
		allocate_simple(g, simple_allocator(g), take_slot(g), block_size(g));
	}
}

/* A random trie of --stacks frames: node i hangs under a random earlier node. */
static void
build_stacks(struct gen *g)
{
	uint64_t n = g->p.stacks;

	g->n_codes = (uint32_t)((n + CODE_UNITS - 1) / CODE_UNITS);
	g->nodes = xrealloc(NULL, n + 1, sizeof *g->nodes);
	g->path = xrealloc(NULL, n + 1, sizeof *g->path);
	g->code_written = calloc(g->n_codes + 1, sizeof *g->code_written);
	if (g->code_written == NULL)
		die("out of memory");
	g->nodes[0] = (struct node){ 0 };
	for (uint64_t i = 1; i <= n; i++) {
		uint32_t parent = (uint32_t)below(g, i);
		/* Code ids start at 1; (code, unit) differs between any two nodes. */
		g->nodes[i] = (struct node){
			.parent = parent, .depth = g->nodes[parent].depth + 1,
			.code = (uint32_t)(1 + (i - 1) % g->n_codes),
			.unit = (uint32_t)((i - 1) / g->n_codes),
		};
	}
}

static void
print_expectations(const struct gen *g)
{
	for (int c = 0; c < C_COUNT; c++)
		fprintf(stderr, "%s\t%" PRIu64 "\n", count_names[c], g->counts[c]);
	fprintf(stderr, "peak bytes\t%" PRIu64 "\n", g->peak_bytes);
	fprintf(stderr, "peak allocations\t%" PRIu64 "\n", g->peak_count);
	fprintf(stderr, "leaks bytes\t%" PRIu64 "\n", g->live_bytes);
	fprintf(stderr, "leaks allocations\t%" PRIu64 "\n", (uint64_t)g->n_live);
	fprintf(stderr, "temporary bytes\t%" PRIu64 "\n", g->temporary_bytes);
	fprintf(stderr, "temporary allocations\t%" PRIu64 "\n", g->temporary_count);
	/* What a reader's live set must hold at most (benchmarks: memory per live allocation). */
	fprintf(stderr, "most live allocations\t%zu\n", g->most_live);
}

static void
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "Usage: " PROGRAM " [OPTION]... > capture.bin\n"
	    "Write a synthetic memray capture (format 13, all allocations, Python 3.11).\n"
	    "\n"
	    "  --seed N            random seed (default 1)\n"
	    "  --records N         allocation records to write (default 1000000)\n"
	    "  --live N            live-set size the workload rises to (default 100000)\n"
	    "  --stacks N          distinct Python stacks (default 1000)\n"
	    "  --threads N         threads (default 4)\n"
	    "  --mmap-share PCT    percent of allocations that are mmaps (default 0)\n"
	    "  --locality PCT      percent of frees that free the newest block (default 50)\n"
	    "  --thread-names      name every thread but the main one\n"
	    "  --compress KIND     none (default), lz4 (memray's container) or zstd\n"
	    "  --expect            print record counts and report totals on stderr\n");
	exit(status);
}

static uint64_t
number(const char *option, const char *arg, uint64_t min, uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (*arg == '\0' || *arg == '-' || *end != '\0' || errno != 0 || v < min || v > max)
		die("%s: expected a number from %" PRIu64 " to %" PRIu64 ", got '%s'", option, min, max,
		    arg);
	return v;
}

static void
parse_args(int argc, char **argv, struct params *p)
{
	static const struct option options[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "records", required_argument, NULL, 'r' },
		{ "live", required_argument, NULL, 'l' },
		{ "stacks", required_argument, NULL, 'k' },
		{ "threads", required_argument, NULL, 't' },
		{ "mmap-share", required_argument, NULL, 'm' },
		{ "locality", required_argument, NULL, 'L' },
		{ "thread-names", no_argument, NULL, 'n' },
		{ "compress", required_argument, NULL, 'c' },
		{ "expect", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*p = (struct params){
		.seed = 1, .records = 1000000, .live = 100000, .stacks = 1000, .threads = 4,
		.locality = 50,
	};
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case 's': p->seed = number("--seed", optarg, 0, UINT64_MAX); break;
		case 'r': p->records = number("--records", optarg, 0, UINT64_MAX); break;
		/* Slots and stack nodes are 32-bit. */
		case 'l': p->live = number("--live", optarg, 1, UINT32_MAX / 2); break;
		case 'k': p->stacks = number("--stacks", optarg, 1, UINT32_MAX / 2); break;
		case 't': p->threads = number("--threads", optarg, 1, 1u << 20); break;
		case 'm': p->mmap_share = number("--mmap-share", optarg, 0, 100); break;
		case 'L': p->locality = number("--locality", optarg, 0, 100); break;
		case 'n': p->thread_names = true; break;
		case 'e': p->expect = true; break;
		case 'c':
			if (strcmp(optarg, "none") == 0)
				p->compress = COMPRESS_NONE;
			else if (strcmp(optarg, "lz4") == 0)
				p->compress = COMPRESS_LZ4;
			else if (strcmp(optarg, "zstd") == 0)
				p->compress = COMPRESS_ZSTD;
			else
				die("--compress: none, lz4 or zstd, not '%s'", optarg);
			break;
		case 'h': usage(0); break;
		default: usage(2); break;
		}
	}
	if (optind < argc)
		usage(2);
}

int
main(int argc, char **argv)
{
	struct gen g = { 0 };

	parse_args(argc, argv, &g.p);
	if (isatty(STDOUT_FILENO))
		die("refusing to write a binary capture to a terminal");
	g.rng = g.p.seed;
	g.next_mmap = MMAP_BASE;
	g.threads = calloc(g.p.threads, sizeof *g.threads);
	if (g.threads == NULL)
		die("out of memory");
	build_stacks(&g);
	open_output(&g);
	write_header(&g);
	while (g.records < g.p.records)
		step(&g);
	reserve(&g);
	builder_u8(&g.out, 0x01);	/* TRAILER */
	close_output(&g);
	if (g.p.expect)
		print_expectations(&g);
	free(g.threads);
	free(g.nodes);
	free(g.path);
	free(g.code_written);
	free(g.live);
	free(g.free_slots);
	return 0;
}
