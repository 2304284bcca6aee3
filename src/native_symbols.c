/*
 * native_symbols: native instruction pointers to frames (see
 * native_symbols.h): the per-binary state and the cache of resolved
 * addresses over elf_file (opening), debug_file (the separate debug
 * file), elf_symbols (symbol tables) and dwarf_frames (DWARF).
 */
#include "native_symbols.h"

#include <dlfcn.h>
#include <errno.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug_file.h"
#include "dwarf_frames.h"
#include "elf_file.h"
#include "elf_symbols.h"
#include "frame.h"
#include "inflated_elf.h"
#include "message.h"
#include "owned.h"
#include "u64map.h"
#include "xmalloc.h"

/* libstdc++'s abi::__cxa_demangle (Itanium C++ ABI), the demangler memray calls. */
typedef char *cxa_demangle_fn(const char *mangled, char *buf, size_t *len, int *status);

static const struct frame_text unknown_frame = { "<unknown>", "<unknown>", 0 };

enum binary_state { BINARY_UNUSABLE, BINARY_USABLE };

struct result {
	struct frame_text *frames;
	size_t count;
};

struct binary {
	char *path;			/* as recorded */
	enum binary_state state;
	int fds[2];
	Elf *elfs[2];			/* the binary, then its separate debug file */
	size_t n_elfs;
	struct dwarf_frames *dwarf;	/* NULL: no DWARF */
	struct inflated_elf inflated;	/* the DWARF's file inflated, if it was compressed */
	struct elf_symbols tables[2];	/* searched in order, as libbacktrace's list */
	size_t n_tables;
	struct u64map resolved;		/* relative address -> index into results */
};

struct native_symbols {
	char *symfs;			/* without a trailing slash; NULL: none */
	unsigned threads;		/* for inflated_elf_open */
	struct binary **binaries;
	size_t n_binaries, binaries_cap;
	struct u64map binary_by_path;	/* hash of the path (probed, see binary_for) -> index */
	struct result *results;
	size_t n_results, results_cap;
	struct frame_text *scratch;	/* the frames of the address being resolved */
	size_t n_scratch, scratch_cap;
	struct owned demangled;		/* the demangled names in results */
	bool demangler_sought;		/* see demangler */
	void *libstdcxx;		/* dlopen's handle, or NULL */
	cxa_demangle_fn *cxa_demangle;
};

/* Whether the PT_LOAD segments are those the capture recorded (dl_iterate_phdr's). */
static bool
segments_match(Elf *elf, const struct native_image *image)
{
	size_t n, k = 0;

	if (elf_getphdrnum(elf, &n) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr phdr;
		if (gelf_getphdr(elf, (int)i, &phdr) == NULL)
			return false;
		if (phdr.p_type != PT_LOAD)
			continue;
		if (k == image->n_segments || phdr.p_vaddr != image->segments[k].vaddr ||
		    phdr.p_memsz != image->segments[k].memsz)
			return false;
		k++;
	}
	return k == image->n_segments;
}

/*
 * __cxa_demangle, from libstdc++ loaded the first time a name needs it,
 * or NULL (after a warning) if it cannot be.  Linked in, libstdc++ cost
 * every run 1.6 ms of loading, a third of starting the process, where
 * only native captures of C++ code call it.
 */
static cxa_demangle_fn *
demangler(struct native_symbols *ns)
{
	if (ns->demangler_sought)
		return ns->cxa_demangle;
	ns->demangler_sought = true;
	ns->libstdcxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
	void *symbol = ns->libstdcxx != NULL ? dlsym(ns->libstdcxx, "__cxa_demangle") : NULL;
	if (symbol != NULL)
		memcpy(&ns->cxa_demangle, &symbol, sizeof symbol);
	else
		warning("no __cxa_demangle in libstdc++.so.6 (%s): C++ names are not demangled",
		    dlerror());
	return ns->cxa_demangle;
}

/*
 * Add a frame for function, unless it has no name, as memray's callback
 * does (a dwarf_frame_fn; arg is the native_symbols).
 */
static void
add_frame(void *arg, const char *function, const char *file, int line)
{
	struct native_symbols *ns = arg;

	if (function != NULL && function[0] == '_' && function[1] == 'Z' && demangler(ns) != NULL) {
		int status;
		char *demangled = ns->cxa_demangle(function, NULL, NULL, &status);
		if (demangled != NULL)
			function = owned_keep(&ns->demangled, demangled);
	}
	if (function == NULL || *function == '\0')
		return;
	ns->scratch = xgrowarray(ns->scratch, &ns->scratch_cap, ns->n_scratch + 1,
	    sizeof *ns->scratch, 16);
	ns->scratch[ns->n_scratch++] = (struct frame_text){
		function, file != NULL ? file : "<unknown>", line,
	};
}

/* Keep an opened ELF file of b, and its symbol table if it has one. */
static void
add_elf(struct binary *b, int fd, Elf *elf)
{
	b->fds[b->n_elfs] = fd;
	b->elfs[b->n_elfs++] = elf;
	if (elf_symbols_read(elf, &b->tables[b->n_tables]))
		b->n_tables++;
}

/*
 * The binary of image, opened and checked against the capture, or NULL
 * after a warning.
 */
static Elf *
open_image(const struct native_symbols *ns, const struct native_image *image, int *fd_out)
{
	char *phys = elf_file_path(ns->symfs, image->path);
	const char *why = NULL;
	int fd = elf_file_open_regular(phys);
	Elf *elf = fd < 0 ? NULL : elf_file_begin(fd, &why);

	if (fd < 0)
		why = errno == EINVAL ? "not a regular file" : strerror(errno);
	else if (elf != NULL && !segments_match(elf, image))
		why = "not the file that was traced (its loadable segments differ from the capture's)";
	if (why != NULL) {
		warning("%s: %s; its native frames are shown as <unknown>", phys, why);
		elf_end(elf);
		if (fd >= 0)
			close(fd);
		elf = NULL;
	}
	free(phys);
	*fd_out = fd;
	return elf;
}

static void
open_binary(struct native_symbols *ns, struct binary *b, const struct native_image *image)
{
	int fd;
	Elf *elf = open_image(ns, image, &fd);

	if (elf == NULL)
		return;
	add_elf(b, fd, elf);

	/*
	 * With a separate debug file, its DWARF is the one read, never the
	 * binary's.  One that is no ELF file is left out (libbacktrace would
	 * give up on the whole binary).
	 */
	const char *why;
	int debug_fd = debug_file_open(ns->symfs, image->path, elf);
	Elf *debug = debug_fd < 0 ? NULL : elf_file_begin(debug_fd, &why);
	if (debug != NULL)
		add_elf(b, debug_fd, debug);
	else if (debug_fd >= 0)
		close(debug_fd);
	Elf *dwarf_elf = b->elfs[b->n_elfs - 1];
	if (inflated_elf_open(dwarf_elf, ns->threads, &b->inflated))
		dwarf_elf = b->inflated.elf;
	b->dwarf = dwarf_frames_open(dwarf_elf);
	b->state = BINARY_USABLE;
}

static uint64_t
hash_path(const char *path)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return h;
}

/* The binary at image's path, opened the first time it is asked for. */
static struct binary *
binary_for(struct native_symbols *ns, const struct native_image *image)
{
	uint64_t h = hash_path(image->path);

	for (uint64_t attempt = 0;; attempt++) {
		uint64_t key = u64map_hash(h ^ attempt * UINT64_C(0x9e3779b97f4a7c15));
		uint32_t index = (uint32_t)ns->n_binaries;
		if (!u64map_insert(&ns->binary_by_path, key, index, &index)) {
			if (strcmp(ns->binaries[index]->path, image->path) == 0)
				return ns->binaries[index];
			continue;
		}
		ns->binaries = xgrowarray(ns->binaries, &ns->binaries_cap, ns->n_binaries + 1,
		    sizeof *ns->binaries, 16);
		struct binary *b = xcalloc(1, sizeof *b);
		ns->binaries[ns->n_binaries++] = b;
		b->path = xstrdup(image->path);
		u64map_init(&b->resolved);
		open_binary(ns, b, image);
		return b;
	}
}

struct native_symbols *
native_symbols_new(const char *symfs, unsigned threads)
{
	struct native_symbols *ns = xcalloc(1, sizeof *ns);

	ns->threads = threads;
	elf_version(EV_CURRENT);
	if (symfs != NULL) {
		size_t len = strlen(symfs);
		while (len > 1 && symfs[len - 1] == '/')
			len--;
		ns->symfs = xstrndup(symfs, len);
	}
	u64map_init(&ns->binary_by_path);
	return ns;
}

void
native_symbols_free(struct native_symbols *ns)
{
	if (ns == NULL)
		return;
	for (size_t i = 0; i < ns->n_binaries; i++) {
		struct binary *b = ns->binaries[i];
		dwarf_frames_free(b->dwarf);
		inflated_elf_close(&b->inflated);
		for (size_t k = 0; k < b->n_tables; k++)
			elf_symbols_free(&b->tables[k]);
		for (size_t k = 0; k < b->n_elfs; k++) {
			elf_end(b->elfs[k]);
			close(b->fds[k]);
		}
		u64map_free(&b->resolved);
		free(b->path);
		free(b);
	}
	for (size_t i = 0; i < ns->n_results; i++)
		free(ns->results[i].frames);
	owned_free(&ns->demangled);
	if (ns->libstdcxx != NULL)
		dlclose(ns->libstdcxx);
	free(ns->results);
	free(ns->scratch);
	free(ns->binaries);
	u64map_free(&ns->binary_by_path);
	free(ns->symfs);
	free(ns);
}

/* Resolve pc in b into a new result, and return its index. */
static uint32_t
resolve_new(struct native_symbols *ns, struct binary *b, uint64_t pc)
{
	ns->n_scratch = 0;
	if (b->dwarf != NULL)
		dwarf_frames_lookup(b->dwarf, pc, add_frame, ns);
	/*
	 * backtrace_syminfo when DWARF gave nothing: the covering symbol,
	 * or "<unknown>"; nothing at all without a symbol table.
	 */
	if (ns->n_scratch == 0 && b->n_tables > 0) {
		add_frame(ns, elf_symbols_find(b->tables, b->n_tables, pc), NULL, 0);
		if (ns->n_scratch == 0)
			add_frame(ns, "<unknown>", NULL, 0);
	}
	struct frame_text *copy = xreallocarray(NULL, ns->n_scratch, sizeof *copy);
	if (ns->n_scratch > 0)
		memcpy(copy, ns->scratch, ns->n_scratch * sizeof *copy);
	uint32_t index = (uint32_t)ns->n_results;
	ns->results = xgrowarray(ns->results, &ns->results_cap, ns->n_results + 1,
	    sizeof *ns->results, 16);
	ns->results[ns->n_results++] = (struct result){ copy, ns->n_scratch };
	return index;
}

size_t
native_symbols_resolve(struct native_symbols *ns, const struct native_image *image,
    uint64_t ip, const struct frame_text **frames)
{
	struct binary *b = binary_for(ns, image);
	/* The call instruction, relative to the image (MemorySegment::resolveIp). */
	uint64_t pc = ip - 1 - image->load_address;
	uint32_t index;

	if (b->state == BINARY_UNUSABLE) {
		*frames = &unknown_frame;
		return 1;
	}
	if (!u64map_get(&b->resolved, pc, &index)) {
		index = resolve_new(ns, b, pc);
		u64map_insert(&b->resolved, pc, index, NULL);
	}
	*frames = ns->results[index].frames;
	return ns->results[index].count;
}
