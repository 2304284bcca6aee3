/* inflated_elf: an ELF file with its compressed sections inflated (see inflated_elf.h). */
#define _DEFAULT_SOURCE	/* MAP_ANONYMOUS, madvise(), beside -D_POSIX_C_SOURCE */
#define ZLIB_CONST
#include "inflated_elf.h"

#include <elf.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <zlib.h>

#include "elf_file.h"
#include "xmalloc.h"

/* The image is aligned to this, the size of a huge page on x86-64 and arm64. */
#define HUGE_PAGE ((size_t)2 << 20)

/*
 * zlib's output is at most about 1032 times its input: a section that
 * says it inflates to more is damaged, and is left to libdw.
 */
#define MAX_RATIO 1100

/* One compressed section: where its stream is, where it inflates to. */
struct inflation {
	size_t section;
	const unsigned char *from;
	size_t from_size;
	unsigned char *to;
	size_t to_size;
};

/* The sections to inflate, largest first, taken by the threads in turn. */
struct inflations {
	struct inflation *jobs;
	size_t n;
	atomic_size_t next;
	atomic_bool failed;
};

/* Inflate one section's zlib stream; true if it fills exactly to_size bytes. */
static bool
inflate_section(const struct inflation *job)
{
	z_stream z = { .next_in = job->from, .next_out = job->to };
	size_t in_left = job->from_size, out_left = job->to_size;
	int status = Z_OK;

	if (inflateInit(&z) != Z_OK)
		return false;
	while (status == Z_OK) {
		uInt in_chunk = in_left < UINT_MAX ? (uInt)in_left : UINT_MAX;
		uInt out_chunk = out_left < UINT_MAX ? (uInt)out_left : UINT_MAX;
		z.avail_in = in_chunk;
		z.avail_out = out_chunk;
		status = inflate(&z, Z_NO_FLUSH);
		in_left -= in_chunk - z.avail_in;
		out_left -= out_chunk - z.avail_out;
	}
	inflateEnd(&z);
	return status == Z_STREAM_END && out_left == 0;
}

static void *
inflate_sections(void *arg)
{
	struct inflations *all = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&all->next, 1);
		if (i >= all->n)
			return NULL;
		if (!inflate_section(&all->jobs[i]))
			atomic_store(&all->failed, true);
	}
}

static int
by_size_descending(const void *a, const void *b)
{
	const struct inflation *x = a, *y = b;

	return (x->to_size < y->to_size) - (x->to_size > y->to_size);
}

/* Inflate every job, on a second thread too if threads > 1; false if one fails. */
static bool
inflate_all(struct inflation *jobs, size_t n, unsigned threads)
{
	struct inflations all = { .jobs = jobs, .n = n };
	pthread_t helper;
	bool helped;

	qsort(jobs, n, sizeof *jobs, by_size_descending);
	helped = threads > 1 && n > 1 && pthread_create(&helper, NULL, inflate_sections, &all) == 0;
	inflate_sections(&all);
	if (helped)
		pthread_join(helper, NULL);
	return !atomic_load(&all.failed);
}

/*
 * Debug sections no report reads (locations, macros, call frames): left
 * out, empty, when compressed.  dwarf_frames asks libdw for names, line
 * tables, ranges and inlined calls only, as memray's libbacktrace does.
 * On libc's debug file .debug_loclists is a fifth of the compressed bytes.
 */
static bool
unread_section(const char *name)
{
	static const char *const unread[] = {
		".debug_loc", ".debug_loclists", ".debug_macro", ".debug_macinfo", ".debug_frame",
	};

	for (size_t i = 0; i < sizeof unread / sizeof unread[0]; i++) {
		if (strcmp(name, unread[i]) == 0)
			return true;
	}
	return false;
}

/* Round offset up to a multiple of align (a power of two, or 0 or 1 for none); false on overflow. */
static bool
align_up(size_t *offset, uint64_t align)
{
	if (align <= 1)
		return true;
	if ((align & (align - 1)) != 0 || align > HUGE_PAGE || *offset > SIZE_MAX - align)
		return false;
	*offset = (*offset + (size_t)align - 1) & ~((size_t)align - 1);
	return true;
}

/*
 * The new section headers and their contents' offsets in the image, the
 * compressed sections' jobs (to filled in later), and the image's size
 * (section headers last); false if a section is one this does not
 * inflate.  Sections without contents keep their sizes at the offset
 * reached.
 */
static bool
lay_out(Elf *elf, size_t shnum, size_t shstrndx, Elf64_Shdr *shdrs, struct inflation *jobs,
    size_t *n_jobs, size_t *shoff, size_t *size)
{
	size_t offset = sizeof(Elf64_Ehdr);

	*n_jobs = 0;
	for (size_t i = 0; i < shnum; i++) {
		Elf_Scn *scn = elf_getscn(elf, i);
		const Elf64_Shdr *shdr = scn != NULL ? elf64_getshdr(scn) : NULL;
		if (shdr == NULL)
			return false;
		shdrs[i] = *shdr;
		if (i == 0 || shdr->sh_type == SHT_NOBITS || shdr->sh_size == 0) {
			shdrs[i].sh_offset = i == 0 ? 0 : offset;
			continue;
		}
		Elf_Data *raw = elf_rawdata(scn, NULL);
		if (raw == NULL || raw->d_buf == NULL || raw->d_size != shdr->sh_size)
			return false;
		uint64_t content = shdr->sh_size, align = shdr->sh_addralign;
		const char *name = elf_strptr(elf, shstrndx, shdr->sh_name);
		if ((shdr->sh_flags & SHF_COMPRESSED) && name != NULL && unread_section(name)) {
			shdrs[i].sh_flags &= ~(uint64_t)SHF_COMPRESSED;
			shdrs[i].sh_offset = offset;
			shdrs[i].sh_size = 0;
			continue;
		}
		if (shdr->sh_flags & SHF_COMPRESSED) {
			Elf64_Chdr chdr;
			if (raw->d_size < sizeof chdr)
				return false;
			memcpy(&chdr, raw->d_buf, sizeof chdr);
			if (chdr.ch_type != ELFCOMPRESS_ZLIB ||
			    chdr.ch_size / MAX_RATIO > raw->d_size - sizeof chdr)
				return false;
			content = chdr.ch_size;
			align = chdr.ch_addralign;
			shdrs[i].sh_flags &= ~(uint64_t)SHF_COMPRESSED;
			shdrs[i].sh_addralign = align;
			jobs[(*n_jobs)++] = (struct inflation){
				.section = i,
				.from = (const unsigned char *)raw->d_buf + sizeof chdr,
				.from_size = raw->d_size - sizeof chdr,
				.to_size = (size_t)content,
			};
		}
		if (!align_up(&offset, align) || content > SIZE_MAX - offset)
			return false;
		shdrs[i].sh_offset = offset;
		shdrs[i].sh_size = content;
		offset += (size_t)content;
	}
	if (!align_up(&offset, 8) || shnum > (SIZE_MAX - offset) / sizeof *shdrs)
		return false;
	*shoff = offset;
	*size = offset + shnum * sizeof *shdrs;
	return true;
}

/* Fill the image: header, contents (the compressed ones inflated), section headers. */
static bool
fill(Elf *elf, const Elf64_Ehdr *ehdr, size_t shnum, const Elf64_Shdr *shdrs,
    struct inflation *jobs, size_t n_jobs, size_t shoff, unsigned char *image, unsigned threads)
{
	Elf64_Ehdr header = *ehdr;

	/* No program headers: the file's describe the binary's memory, which libdw does not ask. */
	header.e_phoff = 0;
	header.e_phnum = 0;
	header.e_shoff = shoff;
	header.e_shentsize = sizeof *shdrs;
	memcpy(image, &header, sizeof header);
	for (size_t i = 1; i < shnum; i++) {
		const Elf64_Shdr *old = elf64_getshdr(elf_getscn(elf, i));
		if (shdrs[i].sh_type != SHT_NOBITS && shdrs[i].sh_size > 0 &&
		    !(old->sh_flags & SHF_COMPRESSED))
			memcpy(image + shdrs[i].sh_offset, elf_rawdata(elf_getscn(elf, i), NULL)->d_buf,
			    shdrs[i].sh_size);
	}
	for (size_t k = 0; k < n_jobs; k++)
		jobs[k].to = image + shdrs[jobs[k].section].sh_offset;
	memcpy(image + shoff, shdrs, shnum * sizeof *shdrs);
	return inflate_all(jobs, n_jobs, threads);
}

bool
inflated_elf_open(Elf *elf, unsigned threads, struct inflated_elf *out)
{
	const Elf64_Ehdr *ehdr = elf64_getehdr(elf);
	size_t shnum, shstrndx, n_jobs, shoff, size;
	static const unsigned char native_order =
	    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ ? ELFDATA2LSB : ELFDATA2MSB;

	*out = (struct inflated_elf){ 0 };
	if (ehdr == NULL || ehdr->e_ident[EI_DATA] != native_order || ehdr->e_shnum == 0 ||
	    ehdr->e_shstrndx == SHN_XINDEX || elf_getshdrnum(elf, &shnum) != 0 ||
	    elf_getshdrstrndx(elf, &shstrndx) != 0)
		return false;
	/* libdw finds a dwz file's other half from where the file is: keep reading the file. */
	if (elf_file_section(elf, ".gnu_debugaltlink") != NULL)
		return false;
	Elf64_Shdr *shdrs = xreallocarray(NULL, shnum, sizeof *shdrs);
	struct inflation *jobs = xreallocarray(NULL, shnum, sizeof *jobs);
	bool ok = lay_out(elf, shnum, shstrndx, shdrs, jobs, &n_jobs, &shoff, &size) && n_jobs > 0 &&
	    size <= SIZE_MAX - HUGE_PAGE;
	void *mapping = MAP_FAILED;

	if (ok) {
		mapping = mmap(NULL, size + HUGE_PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ok = mapping != MAP_FAILED;
	}
	if (ok) {
		unsigned char *image = (unsigned char *)(((uintptr_t)mapping + HUGE_PAGE - 1) &
		    ~(uintptr_t)(HUGE_PAGE - 1));
		madvise(image, size, MADV_HUGEPAGE);	/* fewer faults; none is no error */
		ok = fill(elf, ehdr, shnum, shdrs, jobs, n_jobs, shoff, image, threads);
		*out = (struct inflated_elf){ .mapping = mapping, .mapping_size = size + HUGE_PAGE };
		if (ok)
			out->elf = elf_memory((char *)image, size);
		ok = ok && out->elf != NULL && elf_kind(out->elf) == ELF_K_ELF;
		if (!ok)
			inflated_elf_close(out);
	}
	free(shdrs);
	free(jobs);
	return ok;
}

void
inflated_elf_close(struct inflated_elf *ie)
{
	elf_end(ie->elf);
	if (ie->mapping != NULL)
		munmap(ie->mapping, ie->mapping_size);
	*ie = (struct inflated_elf){ 0 };
}
