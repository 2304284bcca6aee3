/*
 * elf_file: the files of the traced machine as the native symbolizer reads
 * them on this one: under an optional --symfs root, regular files only,
 * ELF files of this machine's class, and their sections by name.
 */
#ifndef MT_ELF_FILE_H
#define MT_ELF_FILE_H

#include <libelf.h>

/*
 * Where path of the traced machine is read on this one, as a new string:
 * under symfs (a directory without a trailing slash), or path itself when
 * symfs is NULL.
 */
char *elf_file_path(const char *symfs, const char *path);

/*
 * Open a regular file, or return -1 with errno set (EINVAL: not a regular
 * file).  The paths come from the capture, so a FIFO or a device must
 * neither block nor be read.
 */
int elf_file_open_regular(const char *path);

/* fd as an ELF file of this machine's class, or NULL with *why set. */
Elf *elf_file_begin(int fd, const char **why);

/* The section called name, or NULL. */
Elf_Scn *elf_file_section(Elf *elf, const char *name);

#endif
