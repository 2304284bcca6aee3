/* debug_file: the separate debug file of a binary (see debug_file.h). */
#include "debug_file.h"

#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf_file.h"
#include "xmalloc.h"

static char *
concat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = xmalloc(la + lb + lc + 1);

	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* The standard CRC-32 of a whole file, as .gnu_debuglink records it. */
static uint32_t
file_crc32(int fd)
{
	static uint32_t table[256];
	unsigned char buf[65536];
	uint32_t crc = 0xffffffff;
	ssize_t n;

	if (table[1] == 0) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	}
	while ((n = read(fd, buf, sizeof buf)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			crc = table[(crc ^ buf[i]) & 0xff] ^ (crc >> 8);
	}
	return ~crc;
}

/* The build-id note's bytes, as libbacktrace reads them (.note.gnu.build-id). */
static const unsigned char *
build_id(Elf *elf, size_t *len)
{
	Elf_Scn *scn = elf_file_section(elf, ".note.gnu.build-id");
	Elf_Data *data;
	GElf_Nhdr nhdr;
	size_t name_off, desc_off;

	if (scn == NULL || (data = elf_getdata(scn, NULL)) == NULL ||
	    gelf_getnote(data, 0, &nhdr, &name_off, &desc_off) == 0 ||
	    nhdr.n_type != NT_GNU_BUILD_ID || nhdr.n_namesz != 4 ||
	    memcmp((const char *)data->d_buf + name_off, "GNU", 4) != 0 || nhdr.n_descsz == 0)
		return NULL;
	*len = nhdr.n_descsz;
	return (const unsigned char *)data->d_buf + desc_off;
}

/* readlink() into a new string, or NULL. */
static char *
read_link(const char *path)
{
	for (size_t size = 128;; size *= 2) {
		char *buf = xmalloc(size);
		ssize_t n = readlink(path, buf, size);
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if ((size_t)n < size) {
			buf[n] = '\0';
			return buf;
		}
		free(buf);
	}
}

/*
 * path with its symbolic links resolved (on the traced machine's tree,
 * read under symfs), as a new string.  Bounded, unlike libbacktrace, so
 * that a symlink loop cannot hang.
 */
static char *
resolve_links(const char *symfs, const char *path)
{
	char *resolved = xstrdup(path);

	for (int hops = 0; hops < 40; hops++) {
		char *phys = elf_file_path(symfs, resolved);
		struct stat st;
		char *target = lstat(phys, &st) == 0 && S_ISLNK(st.st_mode) ? read_link(phys) : NULL;
		free(phys);
		if (target == NULL)
			break;
		const char *slash = strrchr(resolved, '/');
		if (target[0] != '/' && slash != NULL) {
			/* A relative link is read from the link's own directory. */
			size_t dir_len = (size_t)(slash + 1 - resolved);
			char *joined = xmalloc(dir_len + strlen(target) + 1);
			memcpy(joined, resolved, dir_len);
			strcpy(joined + dir_len, target);
			free(resolved);
			free(target);
			resolved = joined;
		} else {
			free(resolved);
			resolved = target;
		}
	}
	return resolved;
}

/*
 * The file a .gnu_debuglink names, opened, as libbacktrace looks for it
 * (elf.c: elf_find_debugfile_by_debuglink): with the binary's own name
 * resolved through symbolic links, in its directory, its .debug
 * subdirectory, then under /usr/lib/debug.  The first file that opens is
 * the one: a CRC that differs rejects it.  -1 if none.
 */
static int
find_debuglink(const char *symfs, const char *path, const char *name, uint32_t crc)
{
	char *resolved = resolve_links(symfs, path);
	int fd = -1;

	const char *slash = strrchr(resolved, '/');
	resolved[slash ? (size_t)(slash + 1 - resolved) : 0] = '\0';	/* its directory */
	char *tries[3] = {
		concat3(resolved, "", name),
		concat3(resolved, ".debug/", name),
		concat3("/usr/lib/debug/", resolved, name),
	};
	for (int i = 0; i < 3 && fd < 0; i++) {
		char *phys = elf_file_path(symfs, tries[i]);
		fd = elf_file_open_regular(phys);
		free(phys);
	}
	for (int i = 0; i < 3; i++)
		free(tries[i]);
	free(resolved);
	if (fd >= 0 && crc != 0 && file_crc32(fd) != crc) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* /usr/lib/debug/.build-id/xx/yyyy.debug for elf's build-id, opened, or -1. */
static int
open_by_build_id(const char *symfs, Elf *elf)
{
	size_t len;
	const unsigned char *id = build_id(elf, &len);

	if (id == NULL)
		return -1;
	char *name = xmalloc(sizeof "/usr/lib/debug/.build-id/" + 2 * len + sizeof "/.debug");
	char *p = name + strlen(strcpy(name, "/usr/lib/debug/.build-id/"));
	for (size_t i = 0; i < len; i++) {
		static const char hex[] = "0123456789abcdef";
		*p++ = hex[id[i] >> 4];
		*p++ = hex[id[i] & 15];
		if (i == 0)
			*p++ = '/';
	}
	strcpy(p, ".debug");
	char *phys = elf_file_path(symfs, name);
	int fd = elf_file_open_regular(phys);
	free(phys);
	free(name);
	return fd;
}

/* The file elf's .gnu_debuglink section names, opened, or -1. */
static int
open_by_debuglink(const char *symfs, const char *path, Elf *elf)
{
	Elf_Scn *scn = elf_file_section(elf, ".gnu_debuglink");
	Elf_Data *data;

	if (scn == NULL || (data = elf_getdata(scn, NULL)) == NULL)
		return -1;
	const char *link = data->d_buf;
	size_t name_len = strnlen(link, data->d_size);
	/*
	 * libbacktrace reads the CRC at the name's length rounded up to 4,
	 * not at its length with the NUL: for a name of 4n bytes it reads the
	 * zero padding, and a CRC of 0 means "do not check".
	 */
	size_t crc_offset = (name_len + 3) & ~(size_t)3;
	uint32_t crc;
	/* Also the check that the name ends inside the section. */
	if (crc_offset + 4 > data->d_size)
		return -1;
	memcpy(&crc, link + crc_offset, sizeof crc);
	return find_debuglink(symfs, path, link, crc);
}

/* By build-id, else by .gnu_debuglink (elf.c: elf_add). */
int
debug_file_open(const char *symfs, const char *path, Elf *elf)
{
	int fd = open_by_build_id(symfs, elf);

	return fd >= 0 ? fd : open_by_debuglink(symfs, path, elf);
}
