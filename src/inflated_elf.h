/*
 * inflated_elf: an ELF file whose debug sections are compressed
 * (SHF_COMPRESSED, zlib: Debian's -dbg and -dbgsym files), as an image in
 * memory with those sections inflated, for libdw to read as it is.
 *
 * libdw inflates every compressed debug section when it opens a file, one
 * after the other, into memory it faults in 4 KiB at a time: on a native
 * capture of a Python program, libc's debug file took three quarters of
 * the run (zlib 41%, page faults 29%).  Here the sections are inflated on
 * two threads when the caller may use two, into one mapping advised for
 * huge pages.  The sections read from the image are the file's, byte for
 * byte, but those no report reads (locations, macros, call frames), which
 * are left out, empty.
 */
#ifndef MT_INFLATED_ELF_H
#define MT_INFLATED_ELF_H

#include <stdbool.h>
#include <stddef.h>

#include <libelf.h>

struct inflated_elf {
	Elf *elf;			/* over the image, in mapping */
	void *mapping;
	size_t mapping_size;
};

/*
 * Inflate elf's compressed sections into *out (threads: how many threads
 * it may use).  False if it has none, or one that this does not inflate
 * (not zlib, damaged, a split or dwz file's link to another, a 32-bit
 * file): then the caller reads elf itself.
 */
bool inflated_elf_open(Elf *elf, unsigned threads, struct inflated_elf *out);
void inflated_elf_close(struct inflated_elf *ie);

#endif
