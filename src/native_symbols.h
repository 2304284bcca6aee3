/*
 * native_symbols: native instruction pointers to (function, file, line)
 * frames, as memray 1.20 prints them (doc/capture-format.md §6.2-§6.3).
 *
 * memray symbolizes with a vendored libbacktrace [native_resolver.cpp:
 * MemorySegment::resolveIp].  This module reads the same data with
 * elfutils (libelf for the binaries and their symbol tables, libdw for
 * DWARF) and applies libbacktrace's rules on top, so that the frames are
 * the same (each rule lives in the module named beside it):
 *   - the address looked up is ip - 1 (return address to call), relative
 *     to the image's load address;
 *   - DWARF first (dwarf_frames.h): the innermost inlined function first,
 *     then each caller it was inlined into, then the real function, each
 *     with the file and line of the next inner level; a function without
 *     a name adds nothing;
 *   - else the ELF symbol table (elf_symbols.h: .symtab, or .dynsym):
 *     "name;<unknown>;0", or "<unknown>;<unknown>;0" when no symbol covers
 *     the address; a binary without any symbol table gives no frame at all;
 *   - names starting with _Z are demangled by libstdc++, as memray does.
 * Separate debug files are found as libbacktrace finds them (debug_file.h):
 * by build-id under /usr/lib/debug/.build-id, else by .gnu_debuglink
 * (checking its CRC) beside the binary, in its .debug directory or under
 * /usr/lib/debug.  Which image maps an address is native_segments.h's.
 *
 * Binaries are read from this machine, under an optional --symfs root, when
 * an address in them is first resolved; each (binary, address) is resolved
 * once.  A binary that cannot be opened, is no ELF file of this machine's
 * class, or whose loadable segments are not the ones the capture recorded
 * (the capture carries no build-ids, so this is how a different build is
 * detected) is reported once with a warning, and each of its addresses
 * gives "<unknown>;<unknown>;0": what memray prints for a binary it cannot
 * open (it then looks the address up in its own process and finds nothing).
 */
#ifndef MT_NATIVE_SYMBOLS_H
#define MT_NATIVE_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct frame_text;

/* A PT_LOAD segment as a SEGMENT record gives it. */
struct native_load_segment {
	uint64_t vaddr;
	uint64_t memsz;
};

/* An ELF image as a SEGMENT_HEADER and its SEGMENT records describe it. */
struct native_image {
	const char *path;		/* on the machine that was traced */
	uint64_t load_address;
	const struct native_load_segment *segments;
	size_t n_segments;
};

struct native_symbols;

/*
 * symfs: a directory the recorded paths are read under, or NULL for "/";
 * threads: how many threads it may use (see inflated_elf.h).
 */
struct native_symbols *native_symbols_new(const char *symfs, unsigned threads);
void native_symbols_free(struct native_symbols *ns);

/*
 * The frames of ip, which lies in image: innermost first, possibly none.
 * The array and its strings stay valid until native_symbols_free().
 */
size_t native_symbols_resolve(struct native_symbols *ns, const struct native_image *image,
    uint64_t ip, const struct frame_text **frames);

#endif
