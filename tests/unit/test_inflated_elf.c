/*
 * test_inflated_elf: a copy of this test program (built with -g) whose
 * debug sections objcopy compressed with zlib, inflated: every section as
 * libelf's own elf_compress inflates it, on one thread and on two, but
 * those no report reads (locations, macros, call frames), empty; also
 * beside a section that inflates to nothing.  A file with nothing
 * compressed, a damaged stream and a size no stream could inflate to are
 * left to the caller.
 */
#include <check.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inflated_elf.h"
#include "support.h"
#include "xmalloc.h"

#define COPY "test_inflated_elf.compressed"

/* The compressed copy's bytes, read once. */
static char *copy;
static size_t copy_size;

/* Unchecked fixture: the copy, made with objcopy from this program's own file. */
static void
make_copy(void)
{
	char self[4096], command[4096 + 128];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);

	ck_assert_int_gt(len, 0);
	self[len] = '\0';
	snprintf(command, sizeof command, "objcopy --compress-debug-sections=zlib '%s' " COPY, self);
	ck_assert_int_eq(system(command), 0);
	FILE *f = fopen(COPY, "rb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	copy_size = (size_t)ftell(f);
	rewind(f);
	copy = xmalloc(copy_size);
	ck_assert_uint_eq(fread(copy, 1, copy_size, f), copy_size);
	fclose(f);
	unlink(COPY);
}

static void
free_copy(void)
{
	free(copy);
}

/* An ELF over a private copy of the compressed file's bytes (freed by the caller). */
static Elf *
open_copy(char **bytes)
{
	*bytes = xmalloc(copy_size);
	memcpy(*bytes, copy, copy_size);
	Elf *elf = elf_memory(*bytes, copy_size);
	ck_assert_ptr_nonnull(elf);
	return elf;
}

/* The largest compressed section of elf, or NULL. */
static Elf_Scn *
largest_compressed(Elf *elf)
{
	Elf_Scn *scn = NULL, *largest = NULL;
	GElf_Shdr shdr;
	uint64_t size = 0;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &shdr) != NULL && (shdr.sh_flags & SHF_COMPRESSED) &&
		    shdr.sh_size > size) {
			largest = scn;
			size = shdr.sh_size;
		}
	}
	return largest;
}

/* The sections inflated_elf leaves out, empty. */
static bool
left_out(const char *name)
{
	static const char *const names[] = {
		".debug_loc", ".debug_loclists", ".debug_macro", ".debug_macinfo", ".debug_frame",
	};

	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(name, names[i]) == 0)
			return true;
	}
	return false;
}

/*
 * Every section of the inflated image against the compressed file's, as
 * libelf inflates them: the same, but the ones left out and section
 * `emptied` (0: none), which must be empty.  Returns how many it compared
 * after inflating them.
 */
static size_t
check_sections(const struct inflated_elf *ie, Elf *ref, size_t emptied)
{
	size_t n, shstrndx, inflated = 0;

	ck_assert_int_eq(elf_getshdrnum(ref, &n), 0);
	ck_assert_int_eq(elf_getshdrstrndx(ref, &shstrndx), 0);
	for (size_t i = 1; i < n; i++) {
		Elf_Scn *want_scn = elf_getscn(ref, i), *got_scn = elf_getscn(ie->elf, i);
		GElf_Shdr want, got;
		ck_assert_ptr_nonnull(gelf_getshdr(want_scn, &want));
		ck_assert_ptr_nonnull(gelf_getshdr(got_scn, &got));
		if ((want.sh_flags & SHF_COMPRESSED) &&
		    (i == emptied || left_out(elf_strptr(ref, shstrndx, want.sh_name)))) {
			ck_assert_uint_eq(got.sh_name, want.sh_name);
			ck_assert_uint_eq(got.sh_flags, want.sh_flags & ~(uint64_t)SHF_COMPRESSED);
			ck_assert_uint_eq(got.sh_size, 0);
			continue;
		}
		if (want.sh_flags & SHF_COMPRESSED) {
			ck_assert_int_eq(elf_compress(want_scn, 0, 0), 1);
			ck_assert_ptr_nonnull(gelf_getshdr(want_scn, &want));
			inflated++;
		}
		ck_assert_uint_eq(got.sh_name, want.sh_name);
		ck_assert_uint_eq(got.sh_type, want.sh_type);
		ck_assert_uint_eq(got.sh_flags, want.sh_flags);
		ck_assert_uint_eq(got.sh_size, want.sh_size);
		if (want.sh_type == SHT_NOBITS || want.sh_size == 0)
			continue;
		Elf_Data *want_data = elf_getdata(want_scn, NULL), *got_data = elf_getdata(got_scn, NULL);
		ck_assert_uint_eq(got_data->d_size, want_data->d_size);
		ck_assert_msg(memcmp(got_data->d_buf, want_data->d_buf, want_data->d_size) == 0,
		    "section %zu differs", i);
	}
	return inflated;
}

START_TEST(test_sections_as_libelf_inflates_them)
{
	unsigned threads = (unsigned)_i + 1;
	char *bytes, *ref_bytes;
	Elf *elf = open_copy(&bytes), *ref = open_copy(&ref_bytes);
	struct inflated_elf ie;

	ck_assert(inflated_elf_open(elf, threads, &ie));
	ck_assert_uint_gt(check_sections(&ie, ref, 0), 1);
	inflated_elf_close(&ie);
	ck_assert_ptr_null(ie.elf);
	elf_end(elf);
	elf_end(ref);
	free(bytes);
	free(ref_bytes);
}
END_TEST

/*
 * A compressed section that inflates to nothing (its stream an empty zlib
 * stream) among the others: they still land where they belong.
 */
START_TEST(test_empty_section_among_others)
{
	static const unsigned char empty_stream[] = { 0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01 };
	char *bytes, *ref_bytes;
	Elf *elf = open_copy(&bytes), *ref = open_copy(&ref_bytes);
	Elf_Scn *scn = NULL, *smallest = NULL;
	GElf_Shdr shdr;
	Elf64_Chdr chdr;
	struct inflated_elf ie;
	uint64_t size = UINT64_MAX;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		ck_assert_ptr_nonnull(gelf_getshdr(scn, &shdr));
		if ((shdr.sh_flags & SHF_COMPRESSED) && shdr.sh_size < size) {
			smallest = scn;
			size = shdr.sh_size;
		}
	}
	ck_assert_ptr_nonnull(gelf_getshdr(smallest, &shdr));
	size_t emptied = elf_ndxscn(smallest);
	ck_assert_uint_ge(shdr.sh_size, sizeof chdr + sizeof empty_stream);
	memcpy(&chdr, bytes + shdr.sh_offset, sizeof chdr);
	chdr.ch_size = 0;
	memcpy(bytes + shdr.sh_offset, &chdr, sizeof chdr);
	memcpy(bytes + shdr.sh_offset + sizeof chdr, empty_stream, sizeof empty_stream);
	elf_end(elf);
	elf = elf_memory(bytes, copy_size);

	ck_assert(inflated_elf_open(elf, 2, &ie));
	ck_assert_uint_gt(check_sections(&ie, ref, emptied), 0);
	inflated_elf_close(&ie);
	elf_end(elf);
	elf_end(ref);
	free(bytes);
	free(ref_bytes);
}
END_TEST

START_TEST(test_nothing_compressed_is_left)
{
	int fd = open("/proc/self/exe", O_RDONLY);
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	struct inflated_elf ie;

	ck_assert_ptr_null(largest_compressed(elf));
	ck_assert(!inflated_elf_open(elf, 2, &ie));
	ck_assert_ptr_null(ie.elf);
	elf_end(elf);
	close(fd);
}
END_TEST

/* The largest compressed section's stream damaged, or its size beyond any stream's. */
START_TEST(test_damage_is_left)
{
	char *bytes = xmalloc(copy_size);
	Elf *elf;
	GElf_Shdr shdr;
	Elf64_Chdr chdr;
	struct inflated_elf ie;

	memcpy(bytes, copy, copy_size);
	elf = elf_memory(bytes, copy_size);
	ck_assert_ptr_nonnull(gelf_getshdr(largest_compressed(elf), &shdr));
	elf_end(elf);
	ck_assert_uint_gt(shdr.sh_size, sizeof chdr + 40);
	if (_i == 0) {
		memset(bytes + shdr.sh_offset + shdr.sh_size / 2, 0x55, 16);
	} else {
		memcpy(&chdr, bytes + shdr.sh_offset, sizeof chdr);
		chdr.ch_size = UINT64_C(1) << 50;
		memcpy(bytes + shdr.sh_offset, &chdr, sizeof chdr);
	}
	elf = elf_memory(bytes, copy_size);
	ck_assert(!inflated_elf_open(elf, 2, &ie));
	ck_assert_ptr_null(ie.elf);
	elf_end(elf);
	free(bytes);
}
END_TEST

static Suite *
inflated_elf_suite(void)
{
	Suite *s = suite_create("inflated_elf");
	TCase *tc = tcase_create("inflate");

	tcase_add_unchecked_fixture(tc, make_copy, free_copy);
	tcase_add_loop_test(tc, test_sections_as_libelf_inflates_them, 0, 2);
	tcase_add_test(tc, test_empty_section_among_others);
	tcase_add_test(tc, test_nothing_compressed_is_left);
	tcase_add_loop_test(tc, test_damage_is_left, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	elf_version(EV_CURRENT);
	return run_suite(inflated_elf_suite());
}
