/* native_symbols: native instruction pointers to frames (see native_symbols.h). */
#include "native_symbols.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frame.h"
#include "message.h"
#include "u64map.h"
#include "xmalloc.h"

/* libstdc++'s abi::__cxa_demangle (Itanium C++ ABI), the demangler memray calls. */
extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len, int *status);

#define NOT_FOUND SIZE_MAX

static const struct frame_text unknown_frame = { "<unknown>", "<unknown>", 0 };

/* An ELF symbol as libbacktrace keeps it: functions and objects that are defined. */
struct symbol {
	uint64_t address;
	uint64_t size;
	const char *name;
};

struct symbol_table {
	struct symbol *symbols;
	size_t count;
};

/* An address range [low, high); the first member of the range types below. */
struct span {
	uint64_t low;
	uint64_t high;
};

struct func;

struct func_span {
	struct span span;
	struct func *func;
};

/* A DWARF subprogram or inlined subroutine with a name and an address range. */
struct func {
	const char *name;
	const char *call_file;		/* inlined: where it was inlined, NULL if unknown */
	int call_line;
	struct func_span *inlined;	/* what was inlined into it, sorted */
	size_t n_inlined;
};

struct line_row {
	uint64_t address;
	const char *file;
	int line;
};

enum unit_state { UNIT_UNREAD, UNIT_READ, UNIT_USELESS };

/* A DWARF unit: its lines and functions are read the first time an address falls in it. */
struct unit {
	Dwarf_Off die_offset;
	Dwarf_Half version;
	enum unit_state state;
	struct line_row *lines;		/* sorted by address, end_sequence rows left out */
	size_t n_lines;
	struct func_span *funcs;	/* sorted */
	size_t n_funcs;
};

struct unit_span {
	struct span span;
	uint64_t lineoff;		/* DW_AT_stmt_list: the tie-break of equal ranges */
	size_t unit;
};

enum binary_state { BINARY_UNUSABLE, BINARY_USABLE };

struct result {
	struct frame_text *frames;
	size_t count;
};

struct binary {
	char *path;			/* as recorded */
	enum binary_state state;
	int fds[2];
	Elf *elfs[2];			/* the binary, then its separate debug file */
	size_t n_elfs;
	Dwarf *dwarf;			/* NULL: no DWARF */
	struct symbol_table tables[2];	/* searched in order, as libbacktrace's list */
	size_t n_tables;
	struct unit *units;
	size_t n_units;
	struct unit_span *spans;	/* sorted */
	size_t n_spans;
	struct u64map resolved;		/* relative address -> index into results */
};

struct native_symbols {
	char *symfs;			/* without a trailing slash; NULL: none */
	struct binary **binaries;
	size_t n_binaries, binaries_cap;
	struct u64map binary_by_path;	/* hash of the path (probed, see binary_for) -> index */
	struct result *results;
	size_t n_results, results_cap;
	struct frame_text *scratch;	/* the frames of the address being resolved */
	size_t n_scratch, scratch_cap;
	void **owned;			/* allocations freed with the whole */
	size_t n_owned, owned_cap;
};

/* Free p with ns. */
static void *
keep(struct native_symbols *ns, void *p)
{
	ns->owned = xgrowarray(ns->owned, &ns->owned_cap, ns->n_owned + 1, sizeof *ns->owned, 64);
	ns->owned[ns->n_owned++] = p;
	return p;
}

/*
 * Sort as libbacktrace's backtrace_qsort does: the middle element becomes
 * the pivot at the front, one sweep gathers the elements it compares
 * greater than right behind it, the pivot moves to the end of that run,
 * and both sides are sorted the same way.  Symbols at one address (aliases)
 * compare equal, so which one a lookup meets depends on this exact order.
 */
static void
swap_bytes(unsigned char *a, unsigned char *b, size_t size)
{
	while (size-- > 0) {
		unsigned char t = *a;
		*a++ = *b;
		*b++ = t;
	}
}

static void
bt_sort(void *items, size_t count, size_t size, int (*compare)(const void *, const void *))
{
	unsigned char *base = items;

	while (count >= 2) {
		size_t below = 0;

		swap_bytes(base, base + count / 2 * size, size);
		for (size_t i = 1; i < count; i++) {
			if (compare(base, base + i * size) > 0) {
				below++;
				if (i != below)
					swap_bytes(base + below * size, base + i * size, size);
			}
		}
		if (below > 0)
			swap_bytes(base, base + below * size, size);
		/* Recurse into the smaller side, loop on the larger. */
		if (2 * below < count) {
			bt_sort(base, below, size, compare);
			base += (below + 1) * size;
			count -= below + 1;
		} else {
			bt_sort(base + (below + 1) * size, count - below - 1, size, compare);
			count = below;
		}
	}
}

/*
 * libbacktrace's range lookup (dwarf.c: dwarf_lookup_pc): among ranges
 * sorted by low, take the last one starting at or before pc, then walk back
 * over the ranges with that same start for the first that contains pc.  A
 * range starting earlier is never considered.
 */
static size_t
span_find(const void *items, size_t count, size_t size, uint64_t pc)
{
	const unsigned char *base = items;
	size_t lo = 0, hi = count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (((const struct span *)(base + mid * size))->low <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NOT_FOUND;
	for (size_t i = lo - 1;; i--) {
		const struct span *s = (const struct span *)(base + i * size);
		if (pc < s->high)
			return i;
		if (i == 0 || ((const struct span *)(base + (i - 1) * size))->low < s->low)
			return NOT_FOUND;
	}
}

static int
compare_symbols(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;

	return x->address < y->address ? -1 : x->address > y->address;
}

/* libbacktrace's elf_symbol_search, for bsearch(): a zero-size symbol never matches. */
static int
search_symbols(const void *key, const void *entry)
{
	uint64_t address = *(const uint64_t *)key;
	const struct symbol *s = entry;

	if (address < s->address)
		return -1;
	return address >= s->address + s->size;
}

/* Nested ranges: the smaller one sorts last (libbacktrace's function_addrs_compare). */
static int
compare_func_spans(const void *a, const void *b)
{
	const struct func_span *x = a, *y = b;

	if (x->span.low != y->span.low)
		return x->span.low < y->span.low ? -1 : 1;
	if (x->span.high != y->span.high)
		return x->span.high > y->span.high ? -1 : 1;
	return strcmp(x->func->name, y->func->name);
}

static int
compare_unit_spans(const void *a, const void *b)
{
	const struct unit_span *x = a, *y = b;

	if (x->span.low != y->span.low)
		return x->span.low < y->span.low ? -1 : 1;
	if (x->span.high != y->span.high)
		return x->span.high > y->span.high ? -1 : 1;
	return x->lineoff < y->lineoff ? -1 : x->lineoff > y->lineoff;
}

/* ---- Files ---- */

/* Where a path of the traced machine is read on this one. */
static char *
physical_path(const struct native_symbols *ns, const char *path)
{
	if (ns->symfs == NULL)
		return xstrdup(path);
	size_t a = strlen(ns->symfs), b = strlen(path);
	char *p = xmalloc(a + b + 2);
	memcpy(p, ns->symfs, a);
	p[a] = '/';
	memcpy(p + a + (path[0] != '/'), path, b + 1);
	return p;
}

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

/*
 * Open a regular file, or return -1 with errno set.  The paths come from
 * the capture, so a FIFO or a device must neither block nor be read.
 */
static int
open_regular(const char *path)
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

/* An ELF file of this machine's class, or NULL with *why set. */
static Elf *
elf_open_fd(int fd, const char **why)
{
	Elf *elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);

	if (elf != NULL && elf_kind(elf) == ELF_K_ELF &&
	    gelf_getclass(elf) == (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32))
		return elf;
	elf_end(elf);
	*why = "not an ELF file of this machine";
	return NULL;
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

static Elf_Scn *
section_named(Elf *elf, const char *name)
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

/* Whether the PT_LOAD segments are those the capture recorded (dl_iterate_phdr's). */
static bool
segments_match(Elf *elf, const struct native_image *image)
{
	size_t n, k = 0;

	if (elf_getphdrnum(elf, &n) != 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr phdr;
		if (gelf_getphdr(elf, (int)i, &phdr) == NULL)
			return false;
		if (phdr.p_type != PT_LOAD)
			continue;
		if (k == image->n_segments || phdr.p_vaddr != image->segments[k].vaddr ||
		    phdr.p_memsz != image->segments[k].memsz)
			return false;
		k++;
	}
	return k == image->n_segments;
}

/*
 * The symbol table libbacktrace reads (elf.c: elf_add,
 * elf_initialize_syminfo): .symtab, else .dynsym; defined STT_FUNC and
 * STT_OBJECT symbols, sorted by address.
 */
static bool
read_symbols(struct native_symbols *ns, Elf *elf, struct symbol_table *table)
{
	Elf_Scn *scn = NULL, *symtab = NULL, *dynsym = NULL;
	GElf_Shdr shdr;

	while ((scn = elf_nextscn(elf, scn)) != NULL) {
		if (gelf_getshdr(scn, &shdr) == NULL)
			continue;
		if (shdr.sh_type == SHT_SYMTAB)
			symtab = scn;
		else if (shdr.sh_type == SHT_DYNSYM)
			dynsym = scn;
	}
	if (symtab == NULL)
		symtab = dynsym;
	Elf_Data *data;
	size_t entsize = gelf_fsize(elf, ELF_T_SYM, 1, EV_CURRENT);
	if (symtab == NULL || gelf_getshdr(symtab, &shdr) == NULL || entsize == 0 ||
	    (data = elf_getdata(symtab, NULL)) == NULL)
		return false;
	size_t n = shdr.sh_size / entsize, count = 0;
	struct symbol *symbols = keep(ns, xreallocarray(NULL, n, sizeof *symbols));
	for (size_t i = 0; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		if (gelf_getsym(data, (int)i, &sym) == NULL)
			return false;
		int type = GELF_ST_TYPE(sym.st_info);
		if ((type != STT_FUNC && type != STT_OBJECT) || sym.st_shndx == SHN_UNDEF)
			continue;
		/* libbacktrace drops the whole table for a bad name offset. */
		if ((name = elf_strptr(elf, shdr.sh_link, sym.st_name)) == NULL)
			return false;
		symbols[count++] = (struct symbol){ sym.st_value, sym.st_size, name };
	}
	bt_sort(symbols, count, sizeof *symbols, compare_symbols);
	*table = (struct symbol_table){ symbols, count };
	return true;
}

/* The build-id note's bytes, as libbacktrace reads them (.note.gnu.build-id). */
static const unsigned char *
build_id(Elf *elf, size_t *len)
{
	Elf_Scn *scn = section_named(elf, ".note.gnu.build-id");
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
 * The file a .gnu_debuglink names, opened, as libbacktrace looks for it
 * (elf.c: elf_find_debugfile_by_debuglink): with the binary's own name
 * resolved through symbolic links, in its directory, its .debug
 * subdirectory, then under /usr/lib/debug.  The first file that opens is
 * the one: a CRC that differs rejects it.  -1 if none.
 */
static int
open_debuglink(const struct native_symbols *ns, const char *path, const char *name, uint32_t crc)
{
	char *resolved = xstrdup(path);
	int fd = -1;

	/* Bounded, unlike libbacktrace, so that a symlink loop cannot hang. */
	for (int hops = 0; hops < 40; hops++) {
		char *phys = physical_path(ns, resolved);
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
	const char *slash = strrchr(resolved, '/');
	resolved[slash ? (size_t)(slash + 1 - resolved) : 0] = '\0';	/* its directory */
	char *tries[3] = {
		concat3(resolved, "", name),
		concat3(resolved, ".debug/", name),
		concat3("/usr/lib/debug/", resolved, name),
	};
	for (int i = 0; i < 3 && fd < 0; i++) {
		char *phys = physical_path(ns, tries[i]);
		fd = open_regular(phys);
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

/*
 * The separate debug file of elf, opened, or -1 (elf.c: elf_add): by
 * build-id, else by .gnu_debuglink.  libbacktrace does not check the
 * build-id of the file it finds.
 */
static int
open_debug_file(const struct native_symbols *ns, const char *path, Elf *elf)
{
	size_t len;
	const unsigned char *id = build_id(elf, &len);

	if (id != NULL) {
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
		char *phys = physical_path(ns, name);
		int fd = open_regular(phys);
		free(phys);
		free(name);
		if (fd >= 0)
			return fd;
	}

	Elf_Scn *scn = section_named(elf, ".gnu_debuglink");
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
	return open_debuglink(ns, path, link, crc);
}

/* ---- DWARF ---- */

/* Add [low, high) to a range array, extending its last range if it is owner's and adjacent. */
static void
add_unit_span(struct binary *b, size_t *cap, uint64_t low, uint64_t high, size_t unit,
    uint64_t lineoff)
{
	struct unit_span *last = b->n_spans ? &b->spans[b->n_spans - 1] : NULL;

	if (last != NULL && last->unit == unit && (low == last->span.high || low == last->span.high + 1)) {
		if (high > last->span.high)
			last->span.high = high;
		return;
	}
	b->spans = xgrowarray(b->spans, cap, b->n_spans + 1, sizeof *b->spans, 16);
	b->spans[b->n_spans++] = (struct unit_span){ { low, high }, lineoff, unit };
}

/* Whether a DIE has an address range (libbacktrace: low and high pc, or ranges). */
static bool
has_pc_range(Dwarf_Die *die)
{
	return (dwarf_hasattr(die, DW_AT_low_pc) && dwarf_hasattr(die, DW_AT_high_pc)) ||
	    dwarf_hasattr(die, DW_AT_ranges);
}

static bool
is_unit_die(Dwarf_Die *die)
{
	int tag = dwarf_tag(die);

	return tag == DW_TAG_compile_unit || tag == DW_TAG_skeleton_unit;
}

/*
 * The address ranges of a unit (dwarf.c: find_address_ranges): those of its
 * unit DIE, or if it has none, those of every subprogram in it.
 */
static void
collect_unit_spans(struct binary *b, size_t *cap, Dwarf_Die *die, size_t unit, uint64_t lineoff)
{
	do {
		bool unit_die = is_unit_die(die);
		if (unit_die || dwarf_tag(die) == DW_TAG_subprogram) {
			Dwarf_Addr base, low, high;
			for (ptrdiff_t off = 0; (off = dwarf_ranges(die, off, &base, &low, &high)) > 0;)
				add_unit_span(b, cap, low, high, unit, lineoff);
			if (unit_die && has_pc_range(die))
				return;
		}
		Dwarf_Die child;
		if (dwarf_haschildren(die) && dwarf_child(die, &child) == 0)
			collect_unit_spans(b, cap, &child, unit, lineoff);
	} while (dwarf_siblingof(die, die) == 0);
}

static void
index_units(struct binary *b)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie;
	size_t units_cap = 0, spans_cap = 0;

	while (dwarf_get_units(b->dwarf, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		/* libbacktrace skips type units (build_address_map); libdw clears unknown ones. */
		if (unit_type == DW_UT_type || unit_type == DW_UT_split_type || cudie.addr == NULL)
			continue;
		Dwarf_Attribute attr;
		Dwarf_Word lineoff = 0;
		if (is_unit_die(&cudie))
			dwarf_formudata(dwarf_attr(&cudie, DW_AT_stmt_list, &attr), &lineoff);
		b->units = xgrowarray(b->units, &units_cap, b->n_units + 1, sizeof *b->units, 16);
		b->units[b->n_units++] = (struct unit){
			.die_offset = dwarf_dieoffset(&cudie), .version = version,
		};
		collect_unit_spans(b, &spans_cap, &cudie, b->n_units - 1, lineoff);
	}
	bt_sort(b->spans, b->n_spans, sizeof *b->spans, compare_unit_spans);
}

/* Reading the functions of one unit. */
struct func_reader {
	struct native_symbols *ns;
	Dwarf_Die cudie;
	Dwarf_Half version;
	Dwarf_Files *files;
	size_t n_files;
	bool failed;
};

struct func_vec {
	struct func_span *items;
	size_t count, cap;
};

/*
 * File idx of the unit's line table, as libbacktrace names it: entry 0 of
 * a table before DWARF 5 is the unit's own name.
 */
static const char *
unit_file(struct func_reader *r, Dwarf_Files *files, size_t idx)
{
	if (r->version < 5 && idx == 0)
		return dwarf_diename(&r->cudie);
	return dwarf_filesrc(files, idx, NULL, NULL);
}

/*
 * The name of the DIE an abstract origin or specification refers to
 * (dwarf.c: read_referenced_name): its linkage name, else the name its own
 * specification gives, else its name.  Its own abstract origin is not
 * followed.
 */
struct referenced {
	const char *name;
	int depth;
};

static const char *referenced_name(Dwarf_Attribute *attr, int depth);

static int
referenced_attr(Dwarf_Attribute *attr, void *arg)
{
	struct referenced *ref = arg;
	const char *s;

	switch (dwarf_whatattr(attr)) {
	case DW_AT_name:
		if (ref->name == NULL)
			ref->name = dwarf_formstring(attr);
		break;
	case DW_AT_linkage_name:
	case DW_AT_MIPS_linkage_name:
		if ((s = dwarf_formstring(attr)) != NULL) {
			ref->name = s;
			return DWARF_CB_ABORT;
		}
		break;
	case DW_AT_specification:
		if ((s = referenced_name(attr, ref->depth + 1)) != NULL)
			ref->name = s;
		break;
	default:
		break;
	}
	return DWARF_CB_OK;
}

static const char *
referenced_name(Dwarf_Attribute *attr, int depth)
{
	Dwarf_Die target;
	struct referenced ref = { NULL, depth };

	/* A depth bound (libbacktrace has none) so that a reference cycle cannot hang. */
	if (depth > 16 || dwarf_whatform(attr) == DW_FORM_ref_sig8 ||
	    dwarf_formref_die(attr, &target) == NULL)
		return NULL;
	dwarf_getattrs(&target, referenced_attr, &ref, 0);
	return ref.name;
}

/*
 * A function DIE's attributes, in order (dwarf.c: read_function_entry):
 * the linkage name beats the referenced name, which beats the DIE's own
 * name.
 */
struct func_attrs {
	struct func_reader *reader;
	struct func func;
	bool have_linkage_name;
};

static int
func_attr(Dwarf_Attribute *attr, void *arg)
{
	struct func_attrs *a = arg;
	Dwarf_Word value;
	const char *s;

	switch (dwarf_whatattr(attr)) {
	case DW_AT_call_file:
		if (dwarf_formudata(attr, &value) == 0) {
			/* libbacktrace drops every function of the unit for a bad file number. */
			if (value >= a->reader->n_files) {
				a->reader->failed = true;
				return DWARF_CB_ABORT;
			}
			a->func.call_file = unit_file(a->reader, a->reader->files, value);
		}
		break;
	case DW_AT_call_line:
		if (dwarf_formudata(attr, &value) == 0)
			a->func.call_line = (int)value;
		break;
	case DW_AT_abstract_origin:
	case DW_AT_specification:
		if (!a->have_linkage_name && (s = referenced_name(attr, 0)) != NULL)
			a->func.name = s;
		break;
	case DW_AT_name:
		if (a->func.name == NULL)
			a->func.name = dwarf_formstring(attr);
		break;
	case DW_AT_linkage_name:
	case DW_AT_MIPS_linkage_name:
		if ((s = dwarf_formstring(attr)) != NULL) {
			a->func.name = s;
			a->have_linkage_name = true;
		}
		break;
	default:
		break;
	}
	return DWARF_CB_OK;
}

static void
add_func_span(struct func_vec *vec, struct func *func, uint64_t low, uint64_t high)
{
	struct func_span *last = vec->count ? &vec->items[vec->count - 1] : NULL;

	if (last != NULL && last->func == func && (low == last->span.high || low == last->span.high + 1)) {
		if (high > last->span.high)
			last->span.high = high;
		return;
	}
	vec->items = xgrowarray(vec->items, &vec->cap, vec->count + 1, sizeof *vec->items, 16);
	vec->items[vec->count++] = (struct func_span){ { low, high }, func };
}

/*
 * The functions among the children of parent (dwarf.c: read_function_entry):
 * subprograms (at any depth, nested ones too) go to top, inlined subroutines
 * to the function they are inlined in (inlined, which is top outside any
 * function).  A function DIE without a name or an address range is not one;
 * what it contains counts as its parent's.
 */
static void
read_functions(struct func_reader *r, Dwarf_Die *parent, struct func_vec *top,
    struct func_vec *inlined)
{
	Dwarf_Die die;

	if (dwarf_child(parent, &die) != 0)
		return;
	do {
		int tag = dwarf_tag(&die);
		struct func *func = NULL;
		if (tag == DW_TAG_subprogram || tag == DW_TAG_entry_point ||
		    tag == DW_TAG_inlined_subroutine) {
			struct func_attrs a = { .reader = r };
			dwarf_getattrs(&die, func_attr, &a, 0);
			if (r->failed)
				return;
			if (a.func.name != NULL && has_pc_range(&die)) {
				func = keep(r->ns, xmalloc(sizeof *func));
				*func = a.func;
				struct func_vec *vec = tag == DW_TAG_inlined_subroutine ? inlined : top;
				Dwarf_Addr base, low, high;
				for (ptrdiff_t off = 0; (off = dwarf_ranges(&die, off, &base, &low, &high)) > 0;)
					add_func_span(vec, func, low, high);
			}
		}
		if (!dwarf_haschildren(&die))
			continue;
		if (func == NULL) {
			read_functions(r, &die, top, inlined);
		} else {
			struct func_vec own = { 0 };
			read_functions(r, &die, top, &own);
			bt_sort(own.items, own.count, sizeof *own.items, compare_func_spans);
			func->inlined = own.count ? keep(r->ns, own.items) : NULL;
			func->n_inlined = own.count;
			if (own.count == 0)
				free(own.items);
		}
		if (r->failed)
			return;
	} while (dwarf_siblingof(&die, &die) == 0);
}

/*
 * Read a unit's lines and functions.  A unit without line rows is useless
 * (libbacktrace: lines == -1) and lookups fall back to an earlier unit.
 */
static void
read_unit(struct native_symbols *ns, struct binary *b, struct unit *u)
{
	struct func_reader r = { .ns = ns, .version = u->version };
	Dwarf_Lines *lines;
	size_t n_lines, count = 0;

	u->state = UNIT_USELESS;
	if (dwarf_offdie(b->dwarf, u->die_offset, &r.cudie) == NULL ||
	    dwarf_getsrclines(&r.cudie, &lines, &n_lines) != 0 ||
	    dwarf_getsrcfiles(&r.cudie, &r.files, &r.n_files) != 0)
		return;
	/* libdw sorts rows by address and keeps their order at one address, as libbacktrace. */
	u->lines = keep(ns, xreallocarray(NULL, n_lines, sizeof *u->lines));
	for (size_t i = 0; i < n_lines; i++) {
		Dwarf_Line *line = dwarf_onesrcline(lines, i);
		Dwarf_Addr address;
		Dwarf_Files *files;
		size_t file;
		bool end_sequence;
		int lineno;
		if (line == NULL || dwarf_lineendsequence(line, &end_sequence) != 0 || end_sequence ||
		    dwarf_lineaddr(line, &address) != 0 || dwarf_lineno(line, &lineno) != 0 ||
		    dwarf_line_file(line, &files, &file) != 0)
			continue;
		u->lines[count++] = (struct line_row){ address, unit_file(&r, files, file), lineno };
	}
	u->n_lines = count;
	if (count == 0)
		return;
	u->state = UNIT_READ;

	struct func_vec top = { 0 };
	read_functions(&r, &r.cudie, &top, &top);
	if (r.failed || top.count == 0) {
		free(top.items);
		return;
	}
	bt_sort(top.items, top.count, sizeof *top.items, compare_func_spans);
	u->funcs = keep(ns, top.items);
	u->n_funcs = top.count;
}

/* Add a frame for function, unless it has no name, as memray's callback does. */
static void
add_frame(struct native_symbols *ns, const char *function, const char *file, int line)
{
	if (function != NULL && function[0] == '_' && function[1] == 'Z') {
		int status;
		char *demangled = __cxa_demangle(function, NULL, NULL, &status);
		if (demangled != NULL)
			function = keep(ns, demangled);
	}
	if (function == NULL || *function == '\0')
		return;
	ns->scratch = xgrowarray(ns->scratch, &ns->scratch_cap, ns->n_scratch + 1,
	    sizeof *ns->scratch, 16);
	ns->scratch[ns->n_scratch++] = (struct frame_text){
		function, file != NULL ? file : "<unknown>", line,
	};
}

/* libbacktrace's report_inlined_functions: the innermost inlined call first. */
static void
add_inlined_frames(struct native_symbols *ns, const struct func *func, uint64_t pc,
    const char **file, int *line)
{
	size_t i = span_find(func->inlined, func->n_inlined, sizeof *func->inlined, pc);

	if (i == NOT_FOUND)
		return;
	const struct func *inlined = func->inlined[i].func;
	add_inlined_frames(ns, inlined, pc, file, line);
	add_frame(ns, inlined->name, *file, *line);
	*file = inlined->call_file;
	*line = inlined->call_line;
}

/* libbacktrace's dwarf_lookup_pc, with memray's callback. */
static void
add_dwarf_frames(struct native_symbols *ns, struct binary *b, uint64_t pc)
{
	size_t e = span_find(b->spans, b->n_spans, sizeof *b->spans, pc);
	struct unit *u;

	if (e == NOT_FOUND)
		return;
	for (;;) {
		u = &b->units[b->spans[e].unit];
		if (u->state == UNIT_UNREAD)
			read_unit(ns, b, u);
		if (u->state == UNIT_READ)
			break;
		/* A useless unit gives way to the range just before it, if that covers pc. */
		if (e == 0 || pc < b->spans[e - 1].span.low || pc >= b->spans[e - 1].span.high)
			return;
		e--;
	}

	/* The last row at or before pc (libbacktrace's line_search). */
	size_t lo = 0, hi = u->n_lines;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->lines[mid].address <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return;
	size_t f = span_find(u->funcs, u->n_funcs, sizeof *u->funcs, pc);
	if (f == NOT_FOUND)
		return;
	const struct func *func = u->funcs[f].func;
	const char *file = u->lines[lo - 1].file;
	int line = u->lines[lo - 1].line;
	add_inlined_frames(ns, func, pc, &file, &line);
	add_frame(ns, func->name, file, line);
}

/* ---- Binaries ---- */

static void
open_binary(struct native_symbols *ns, struct binary *b, const struct native_image *image)
{
	char *phys = physical_path(ns, image->path);
	const char *why = NULL;
	int fd = open_regular(phys);
	Elf *elf = fd < 0 ? NULL : elf_open_fd(fd, &why);

	if (fd < 0)
		why = errno == EINVAL ? "not a regular file" : strerror(errno);
	else if (elf != NULL && !segments_match(elf, image))
		why = "not the file that was traced (its loadable segments differ from the capture's)";
	if (why != NULL) {
		warning("%s: %s; its native frames are shown as <unknown>", phys, why);
		elf_end(elf);
		if (fd >= 0)
			close(fd);
		free(phys);
		return;
	}
	free(phys);
	b->fds[0] = fd;
	b->elfs[0] = elf;
	b->n_elfs = 1;
	if (read_symbols(ns, elf, &b->tables[b->n_tables]))
		b->n_tables++;

	/*
	 * With a separate debug file, its DWARF is the one read, never the
	 * binary's.  One that is no ELF file is left out (libbacktrace would
	 * give up on the whole binary).
	 */
	Elf *dwarf_elf = elf;
	int debug_fd = open_debug_file(ns, image->path, elf);
	if (debug_fd >= 0) {
		Elf *debug = elf_open_fd(debug_fd, &why);
		if (debug == NULL) {
			close(debug_fd);
		} else {
			b->fds[1] = debug_fd;
			b->elfs[1] = debug;
			b->n_elfs = 2;
			if (read_symbols(ns, debug, &b->tables[b->n_tables]))
				b->n_tables++;
			dwarf_elf = debug;
		}
	}
	b->dwarf = dwarf_begin_elf(dwarf_elf, DWARF_C_READ, NULL);
	if (b->dwarf != NULL)
		index_units(b);
	b->state = BINARY_USABLE;
}

static uint64_t
hash_path(const char *path)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	for (const unsigned char *p = (const unsigned char *)path; *p != '\0'; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return h;
}

/* The binary at image's path, opened the first time it is asked for. */
static struct binary *
binary_for(struct native_symbols *ns, const struct native_image *image)
{
	uint64_t h = hash_path(image->path);

	for (uint64_t attempt = 0;; attempt++) {
		uint64_t key = u64map_hash(h ^ attempt * UINT64_C(0x9e3779b97f4a7c15));
		uint32_t index = (uint32_t)ns->n_binaries;
		if (!u64map_insert(&ns->binary_by_path, key, index, &index)) {
			if (strcmp(ns->binaries[index]->path, image->path) == 0)
				return ns->binaries[index];
			continue;
		}
		ns->binaries = xgrowarray(ns->binaries, &ns->binaries_cap, ns->n_binaries + 1,
		    sizeof *ns->binaries, 16);
		struct binary *b = xcalloc(1, sizeof *b);
		ns->binaries[ns->n_binaries++] = b;
		b->path = xstrdup(image->path);
		u64map_init(&b->resolved);
		open_binary(ns, b, image);
		return b;
	}
}

struct native_symbols *
native_symbols_new(const char *symfs)
{
	struct native_symbols *ns = xcalloc(1, sizeof *ns);

	elf_version(EV_CURRENT);
	if (symfs != NULL) {
		size_t len = strlen(symfs);
		while (len > 1 && symfs[len - 1] == '/')
			len--;
		ns->symfs = xstrndup(symfs, len);
	}
	u64map_init(&ns->binary_by_path);
	return ns;
}

void
native_symbols_free(struct native_symbols *ns)
{
	if (ns == NULL)
		return;
	for (size_t i = 0; i < ns->n_binaries; i++) {
		struct binary *b = ns->binaries[i];
		dwarf_end(b->dwarf);
		for (size_t k = 0; k < b->n_elfs; k++) {
			elf_end(b->elfs[k]);
			close(b->fds[k]);
		}
		free(b->units);
		free(b->spans);
		u64map_free(&b->resolved);
		free(b->path);
		free(b);
	}
	for (size_t i = 0; i < ns->n_results; i++)
		free(ns->results[i].frames);
	for (size_t i = 0; i < ns->n_owned; i++)
		free(ns->owned[i]);
	free(ns->owned);
	free(ns->results);
	free(ns->scratch);
	free(ns->binaries);
	u64map_free(&ns->binary_by_path);
	free(ns->symfs);
	free(ns);
}

size_t
native_symbols_resolve(struct native_symbols *ns, const struct native_image *image,
    uint64_t ip, const struct frame_text **frames)
{
	struct binary *b = binary_for(ns, image);
	/* The call instruction, relative to the image (MemorySegment::resolveIp). */
	uint64_t pc = ip - 1 - image->load_address;
	uint32_t index;

	if (b->state == BINARY_UNUSABLE) {
		*frames = &unknown_frame;
		return 1;
	}
	if (!u64map_get(&b->resolved, pc, &index)) {
		ns->n_scratch = 0;
		if (b->dwarf != NULL)
			add_dwarf_frames(ns, b, pc);
		/*
		 * backtrace_syminfo when DWARF gave nothing: the covering symbol,
		 * or "<unknown>"; nothing at all without a symbol table.
		 */
		if (ns->n_scratch == 0 && b->n_tables > 0) {
			const struct symbol *s = NULL;
			for (size_t i = 0; i < b->n_tables && s == NULL; i++)
				s = bsearch(&pc, b->tables[i].symbols, b->tables[i].count,
				    sizeof *s, search_symbols);
			add_frame(ns, s != NULL ? s->name : NULL, NULL, 0);
			if (ns->n_scratch == 0)
				add_frame(ns, "<unknown>", NULL, 0);
		}
		struct frame_text *copy = xreallocarray(NULL, ns->n_scratch, sizeof *copy);
		if (ns->n_scratch > 0)
			memcpy(copy, ns->scratch, ns->n_scratch * sizeof *copy);
		index = (uint32_t)ns->n_results;
		ns->results = xgrowarray(ns->results, &ns->results_cap, ns->n_results + 1,
		    sizeof *ns->results, 16);
		ns->results[ns->n_results++] = (struct result){ copy, ns->n_scratch };
		u64map_insert(&b->resolved, pc, index, NULL);
	}
	*frames = ns->results[index].frames;
	return ns->results[index].count;
}

/* ---- Memory-map generations ---- */

static int
compare_segments(const void *a, const void *b)
{
	const struct native_segment *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return strcmp(x->image->path, y->image->path);
}

void
native_segments_sort(struct native_segment *segments, size_t n)
{
	qsort(segments, n, sizeof *segments, compare_segments);
}

const struct native_segment *
native_segments_find(const struct native_segment *segments, size_t n, uint64_t ip)
{
	/* std::lower_bound with "end < ip": the same probes, for overlapping segments too. */
	size_t lo = 0, len = n;

	while (len > 0) {
		size_t half = len / 2;
		if (segments[lo + half].end < ip) {
			lo += half + 1;
			len -= half + 1;
		} else {
			len = half;
		}
	}
	if (lo == n || ip < segments[lo].start || ip >= segments[lo].end)
		return NULL;
	return &segments[lo];
}
