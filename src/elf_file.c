/* elf_file: files of the traced machine read on this one (see elf_file.h). */
#include "elf_file.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "xmalloc.h"

char *
elf_file_path(const char *symfs, const char *path)
{
	if (symfs == NULL)
		return xstrdup(path);
	size_t a = strlen(symfs), b = strlen(path);
	char *p = xmalloc(a + b + 2);
	memcpy(p, symfs, a);
	p[a] = '/';
	memcpy(p + a + (path[0] != '/'), path, b + 1);
	return p;
}

int
elf_file_open_regular(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		close(fd);
		errno = EINVAL;
		fd = -1;
	}
	return fd;
}

Elf *
elf_file_begin(int fd, const char **why)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

	if (elf != NULL && elf_kind(elf) == ELF_K_ELF &&
	    gelf_getclass(elf) == (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
		return elf;
	elf_end(elf);
	*why = "not an ELF file of this machine";
	return NULL;
}

Elf_Scn *
elf_file_section(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;

	if (elf_getshdrstrndx(elf, &shstrndx) != 0)
		return NULL;
	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		GElf_Shdr shdr;
		const char *n;
		if (gelf_getshdr(scn, &shdr) != NULL &&
		    (n = elf_strptr(elf, shstrndx, shdr.sh_name)) != NULL && strcmp(n, name) == 0)
			return scn;
	}
	return NULL;
}
