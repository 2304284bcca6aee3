/*
 * test_native_symbols: the segment lookup rule of doc/capture-format.md §6.2
 * (native_segments.h), and symbolization (native_symbols.h) of this test program's own code.
 */
#define _GNU_SOURCE		/* dl_iterate_phdr */
#include <check.h>
#include <dlfcn.h>
#include <link.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "native_segments.h"
#include "native_symbols.h"
#include "support.h"

static const struct native_image image_a = { .path = "/lib/a.so" };
static const struct native_image image_b = { .path = "/lib/b.so" };

START_TEST(test_find_first_end_at_or_after_ip)
{
	struct native_segment s[] = {
		{ 0x3000, 0x4000, &image_b },
		{ 0x1000, 0x2000, &image_a },
		{ 0x2000, 0x3000, &image_a },
	};

	native_segments_sort(s, 3);
	ck_assert_uint_eq(s[0].start, 0x1000);
	ck_assert_uint_eq(s[2].start, 0x3000);
	ck_assert_ptr_eq(native_segments_find(s, 3, 0x1000), &s[0]);
	ck_assert_ptr_eq(native_segments_find(s, 3, 0x1fff), &s[0]);
	ck_assert_ptr_eq(native_segments_find(s, 3, 0x2001), &s[1]);
	ck_assert_ptr_eq(native_segments_find(s, 3, 0x3fff), &s[2]);
	/* Before the first segment, and at or after the last end: unmapped. */
	ck_assert_ptr_null(native_segments_find(s, 3, 0xfff));
	ck_assert_ptr_null(native_segments_find(s, 3, 0x4000));
	ck_assert_ptr_null(native_segments_find(s, 3, 0x5000));
	ck_assert_ptr_null(native_segments_find(s, 0, 0x1000));
}
END_TEST

START_TEST(test_ip_equal_to_an_end_fails)
{
	/* 0x2000 picks [0x1000, 0x2000) (end >= ip), which does not contain it. */
	struct native_segment s[] = {
		{ 0x1000, 0x2000, &image_a },
		{ 0x2000, 0x3000, &image_b },
	};

	native_segments_sort(s, 2);
	ck_assert_ptr_null(native_segments_find(s, 2, 0x2000));
	ck_assert_ptr_null(native_segments_find(s, 2, 0x3000));
	ck_assert_ptr_eq(native_segments_find(s, 2, 0x2001), &s[1]);
}
END_TEST

START_TEST(test_gaps_and_overlaps)
{
	struct native_segment s[] = {
		{ 0x1000, 0x5000, &image_a },	/* overlaps the next two */
		{ 0x2000, 0x3000, &image_b },
		{ 0x8000, 0x9000, &image_b },
	};

	native_segments_sort(s, 3);
	/* The binary search meets the big segment first: it maps ip. */
	ck_assert_ptr_eq(native_segments_find(s, 3, 0x2800), &s[0]);
	/*
	 * Overlaps break the ordering of the ends, and memray's binary search
	 * (std::lower_bound) probes [0x2000, 0x3000) first, whose end is below
	 * ip, and never looks back: unmapped, though the big segment holds it.
	 */
	ck_assert_ptr_null(native_segments_find(s, 3, 0x4fff));
	/* In the gap: the first end >= ip is 0x9000's segment, which starts later. */
	ck_assert_ptr_null(native_segments_find(s, 3, 0x6000));
	ck_assert_ptr_eq(native_segments_find(s, 3, 0x8000), &s[2]);
}
END_TEST

START_TEST(test_sort_ties_by_path)
{
	struct native_segment s[] = {
		{ 0x1000, 0x2000, &image_b },
		{ 0x1000, 0x2000, &image_a },
		{ 0x1000, 0x1800, &image_b },
	};

	native_segments_sort(s, 3);
	ck_assert_uint_eq(s[0].end, 0x1800);
	ck_assert_ptr_eq(s[1].image, &image_a);
	ck_assert_ptr_eq(s[2].image, &image_b);
}
END_TEST

/* ---- Symbolizing this program ---- */

/* Kept out of line so that it has an address and a symbol of its own. */
__attribute__((noinline)) int probe_target(int x);

__attribute__((noinline)) int
probe_target(int x)
{
	return x * 3 + 1;
}

struct found {
	uintptr_t address;
	struct native_image image;
	struct native_load_segment segments[16];
	char path[4096];
};

static int
find_object(struct dl_phdr_info *info, size_t size, void *data)
{
	struct found *f = data;
	size_t n = 0;
	bool contains = false;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum && n < 16; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		f->segments[n++] = (struct native_load_segment){ ph->p_vaddr, ph->p_memsz };
		if (f->address >= info->dlpi_addr + ph->p_vaddr &&
		    f->address < info->dlpi_addr + ph->p_vaddr + ph->p_memsz)
			contains = true;
	}
	if (!contains)
		return 0;
	/* The main program has no name, as for memray (it reads /proc/self/exe). */
	if (info->dlpi_name[0] != '\0') {
		strncpy(f->path, info->dlpi_name, sizeof f->path - 1);
	} else {
		ssize_t len = readlink("/proc/self/exe", f->path, sizeof f->path - 1);
		f->path[len > 0 ? len : 0] = '\0';
	}
	f->image = (struct native_image){ f->path, info->dlpi_addr, f->segments, n };
	return 1;
}

/* The image holding address, as a capture would record it. */
static void
find_image(uintptr_t address, struct found *f)
{
	memset(f, 0, sizeof *f);
	f->address = address;
	ck_assert_int_eq(dl_iterate_phdr(find_object, f), 1);
}

static const char *
ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0 ? s : NULL;
}

START_TEST(test_resolve_own_function)
{
	struct found f;
	const struct frame_text *frames, *again;
	/* A return address just past the function's first byte: ip - 1 is in it. */
	uintptr_t ip = (uintptr_t)&probe_target + 1;

	find_image(ip, &f);
	struct native_symbols *ns = native_symbols_new(NULL, 1);
	size_t n = native_symbols_resolve(ns, &f.image, ip, &frames);
	ck_assert_uint_ge(n, 1);
	/* The real function comes last, after anything inlined into it. */
	ck_assert_str_eq(frames[n - 1].function, "probe_target");
	/* With DWARF (-g) its file is this one; from the symbol table it is <unknown>. */
	if (strcmp(frames[n - 1].file, "<unknown>") != 0)
		ck_assert_ptr_nonnull(ends_with(frames[n - 1].file, "test_native_symbols.c"));
	else
		ck_assert_int_eq(frames[n - 1].line, 0);
	/* Each (binary, address) is resolved once. */
	ck_assert_uint_eq(native_symbols_resolve(ns, &f.image, ip, &again), n);
	ck_assert_ptr_eq(again, frames);
	native_symbols_free(ns);
}
END_TEST

/*
 * A C++ function's name comes out demangled, as memray's __cxa_demangle
 * gives it: std::exception's destructor in libstdc++, from its symbol
 * table (its mangled name, D1 or D2, is the same destructor).
 */
START_TEST(test_cxx_name_demangled)
{
	struct found f;
	const struct frame_text *frames;
	void *lib = dlopen("libstdc++.so.6", RTLD_NOW | RTLD_LOCAL);

	ck_assert_ptr_nonnull(lib);
	void *function = dlsym(lib, "_ZNSt9exceptionD2Ev");
	ck_assert_ptr_nonnull(function);
	uintptr_t ip = (uintptr_t)function + 1;
	find_image(ip, &f);
	struct native_symbols *ns = native_symbols_new(NULL, 1);
	size_t n = native_symbols_resolve(ns, &f.image, ip, &frames);
	ck_assert_uint_ge(n, 1);
	ck_assert_str_eq(frames[n - 1].function, "std::exception::~exception()");
	native_symbols_free(ns);
	dlclose(lib);
}
END_TEST

START_TEST(test_symfs_root)
{
	struct found f;
	const struct frame_text *frames;
	uintptr_t ip = (uintptr_t)&probe_target + 1;

	find_image(ip, &f);
	/* "/" and "//" are the root itself. */
	struct native_symbols *ns = native_symbols_new("//", 1);
	size_t n = native_symbols_resolve(ns, &f.image, ip, &frames);
	ck_assert_uint_ge(n, 1);
	ck_assert_str_eq(frames[n - 1].function, "probe_target");
	native_symbols_free(ns);
}
END_TEST

START_TEST(test_missing_binary_is_unknown)
{
	struct found f;
	const struct frame_text *frames;
	uintptr_t ip = (uintptr_t)&probe_target + 1;

	find_image(ip, &f);
	struct native_symbols *ns = native_symbols_new("/nonexistent/memray-transform-symfs", 1);
	ck_assert_uint_eq(native_symbols_resolve(ns, &f.image, ip, &frames), 1);
	ck_assert_str_eq(frames[0].function, "<unknown>");
	ck_assert_str_eq(frames[0].file, "<unknown>");
	ck_assert_int_eq(frames[0].line, 0);
	native_symbols_free(ns);
}
END_TEST

START_TEST(test_other_build_is_unknown)
{
	struct found f;
	const struct frame_text *frames;
	uintptr_t ip = (uintptr_t)&probe_target + 1;

	/* Loadable segments that differ from the file's: another build, not used. */
	find_image(ip, &f);
	f.segments[0].memsz += 0x1000;
	struct native_symbols *ns = native_symbols_new(NULL, 1);
	ck_assert_uint_eq(native_symbols_resolve(ns, &f.image, ip, &frames), 1);
	ck_assert_str_eq(frames[0].function, "<unknown>");
	native_symbols_free(ns);

	find_image(ip, &f);
	f.image.n_segments--;
	ns = native_symbols_new(NULL, 1);
	ck_assert_uint_eq(native_symbols_resolve(ns, &f.image, ip, &frames), 1);
	ck_assert_str_eq(frames[0].function, "<unknown>");
	native_symbols_free(ns);
}
END_TEST

static Suite *
native_symbols_suite(void)
{
	Suite *s = suite_create("native_symbols");
	TCase *tc;

	tc = tcase_create("segments");
	tcase_add_test(tc, test_find_first_end_at_or_after_ip);
	tcase_add_test(tc, test_ip_equal_to_an_end_fails);
	tcase_add_test(tc, test_gaps_and_overlaps);
	tcase_add_test(tc, test_sort_ties_by_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("resolve");
	tcase_add_test(tc, test_resolve_own_function);
	tcase_add_test(tc, test_cxx_name_demangled);
	tcase_add_test(tc, test_symfs_root);
	tcase_add_test(tc, test_missing_binary_is_unknown);
	tcase_add_test(tc, test_other_build_is_unknown);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(native_symbols_suite());
}
