/*
 * debug_file: the separate debug file of an ELF binary, found as
 * libbacktrace finds it (elf.c: elf_add): by build-id under
 * /usr/lib/debug/.build-id, else by .gnu_debuglink (checking its CRC)
 * beside the binary, in its .debug directory or under /usr/lib/debug.
 * libbacktrace does not check the build-id of the file it finds, and
 * neither does this.
 */
#ifndef MT_DEBUG_FILE_H
#define MT_DEBUG_FILE_H

#include <libelf.h>

/*
 * The debug file of elf, the binary at path on the traced machine, opened
 * under symfs (elf_file_path()), or -1 if there is none.
 */
int debug_file_open(const char *symfs, const char *path, Elf *elf);

#endif
