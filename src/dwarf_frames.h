/*
 * dwarf_frames: the functions, inlined calls and lines DWARF gives for an
 * address, found as libbacktrace finds them (dwarf.c: dwarf_lookup_pc).
 * The units' address ranges are indexed when the file is opened; a unit's
 * lines and functions are read the first time an address falls in it.
 */
#ifndef MT_DWARF_FRAMES_H
#define MT_DWARF_FRAMES_H

#include <libelf.h>
#include <stdint.h>

struct dwarf_frames;

/* The DWARF of elf, indexed, or NULL if it has none. */
struct dwarf_frames *dwarf_frames_open(Elf *elf);
void dwarf_frames_free(struct dwarf_frames *d);

/*
 * Called once per frame: function (possibly NULL or mangled) with the file
 * (NULL if unknown) and line it is at.  The strings stay valid until
 * dwarf_frames_free().
 */
typedef void dwarf_frame_fn(void *arg, const char *function, const char *file, int line);

/*
 * The frames of pc (relative to the file's addresses): the innermost
 * inlined function first, then each caller it was inlined into, then the
 * real function, each with the file and line of the next inner level.
 * Nothing if DWARF does not cover pc.
 */
void dwarf_frames_lookup(struct dwarf_frames *d, uint64_t pc, dwarf_frame_fn *emit, void *arg);

#endif
