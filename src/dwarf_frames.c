/* dwarf_frames: DWARF functions and lines of an address (see dwarf_frames.h). */
#include "dwarf_frames.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bt_sort.h"
#include "owned.h"
#include "xmalloc.h"

#define NOT_FOUND SIZE_MAX

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

struct dwarf_frames {
	Dwarf *dwarf;
	struct unit *units;
	size_t n_units;
	struct unit_span *spans;	/* sorted */
	size_t n_spans;
	struct owned owned;		/* the units' lines and functions */
};

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

/*
 * Spans by start, and of nested ones the smaller last (libbacktrace's
 * function_addrs_compare and unit_addrs_compare); 0 for the same span.
 */
static int
compare_nested(const struct span *x, const struct span *y)
{
	if (x->low != y->low)
		return x->low < y->low ? -1 : 1;
	if (x->high != y->high)
		return x->high > y->high ? -1 : 1;
	return 0;
}

static int
compare_func_spans(const void *a, const void *b)
{
	const struct func_span *x = a, *y = b;
	int order = compare_nested(&x->span, &y->span);

	return order != 0 ? order : strcmp(x->func->name, y->func->name);
}

static int
compare_unit_spans(const void *a, const void *b)
{
	const struct unit_span *x = a, *y = b;
	int order = compare_nested(&x->span, &y->span);

	return order != 0 ? order : (x->lineoff > y->lineoff) - (x->lineoff < y->lineoff);
}

/* Add [low, high) to a range array, extending its last range if it is owner's and adjacent. */
static void
add_unit_span(struct dwarf_frames *d, size_t *cap, uint64_t low, uint64_t high, size_t unit,
    uint64_t lineoff)
{
	struct unit_span *last = d->n_spans ? &d->spans[d->n_spans - 1] : NULL;

	if (last != NULL && last->unit == unit && (low == last->span.high || low == last->span.high + 1)) {
		if (high > last->span.high)
			last->span.high = high;
		return;
	}
	d->spans = xgrowarray(d->spans, cap, d->n_spans + 1, sizeof *d->spans, 16);
	d->spans[d->n_spans++] = (struct unit_span){ { low, high }, lineoff, unit };
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
collect_unit_spans(struct dwarf_frames *d, size_t *cap, Dwarf_Die *die, size_t unit,
    uint64_t lineoff)
{
	do {
		bool unit_die = is_unit_die(die);
		if (unit_die || dwarf_tag(die) == DW_TAG_subprogram) {
			Dwarf_Addr base, low, high;
			for (ptrdiff_t off = 0; (off = dwarf_ranges(die, off, &base, &low, &high)) > 0;)
				add_unit_span(d, cap, low, high, unit, lineoff);
			if (unit_die && has_pc_range(die))
				return;
		}
		Dwarf_Die child;
		if (dwarf_haschildren(die) && dwarf_child(die, &child) == 0)
			collect_unit_spans(d, cap, &child, unit, lineoff);
	} while (dwarf_siblingof(die, die) == 0);
}

static void
index_units(struct dwarf_frames *d)
{
	Dwarf_CU *cu = NULL;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie;
	size_t units_cap = 0, spans_cap = 0;

	while (dwarf_get_units(d->dwarf, cu, &cu, &version, &unit_type, &cudie, NULL) == 0) {
		/* libbacktrace skips type units (build_address_map); libdw clears unknown ones. */
		if (unit_type == DW_UT_type || unit_type == DW_UT_split_type || cudie.addr == NULL)
			continue;
		Dwarf_Attribute attr;
		Dwarf_Word lineoff = 0;
		if (is_unit_die(&cudie))
			dwarf_formudata(dwarf_attr(&cudie, DW_AT_stmt_list, &attr), &lineoff);
		d->units = xgrowarray(d->units, &units_cap, d->n_units + 1, sizeof *d->units, 16);
		d->units[d->n_units++] = (struct unit){
			.die_offset = dwarf_dieoffset(&cudie), .version = version,
		};
		collect_unit_spans(d, &spans_cap, &cudie, d->n_units - 1, lineoff);
	}
	bt_sort(d->spans, d->n_spans, sizeof *d->spans, compare_unit_spans);
}

/* Reading the functions of one unit. */
struct func_reader {
	struct owned *owned;		/* where its functions go */
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
				func = owned_keep(r->owned, xmalloc(sizeof *func));
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
			func->inlined = own.count ? owned_keep(r->owned, own.items) : NULL;
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
read_unit(struct dwarf_frames *d, struct unit *u)
{
	struct func_reader r = { .owned = &d->owned, .version = u->version };
	Dwarf_Lines *lines;
	size_t n_lines, count = 0;

	u->state = UNIT_USELESS;
	if (dwarf_offdie(d->dwarf, u->die_offset, &r.cudie) == NULL ||
	    dwarf_getsrclines(&r.cudie, &lines, &n_lines) != 0 ||
	    dwarf_getsrcfiles(&r.cudie, &r.files, &r.n_files) != 0)
		return;
	/* libdw sorts rows by address and keeps their order at one address, as libbacktrace. */
	u->lines = owned_keep(&d->owned, xreallocarray(NULL, n_lines, sizeof *u->lines));
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
	u->funcs = owned_keep(&d->owned, top.items);
	u->n_funcs = top.count;
}

/* libbacktrace's report_inlined_functions: the innermost inlined call first. */
static void
emit_inlined(const struct func *func, uint64_t pc, const char **file, int *line,
    dwarf_frame_fn *emit, void *arg)
{
	size_t i = span_find(func->inlined, func->n_inlined, sizeof *func->inlined, pc);

	if (i == NOT_FOUND)
		return;
	const struct func *inlined = func->inlined[i].func;
	emit_inlined(inlined, pc, file, line, emit, arg);
	emit(arg, inlined->name, *file, *line);
	*file = inlined->call_file;
	*line = inlined->call_line;
}

/* The read unit whose range covers pc, reading it if need be, or NULL. */
static const struct unit *
unit_at(struct dwarf_frames *d, uint64_t pc)
{
	size_t e = span_find(d->spans, d->n_spans, sizeof *d->spans, pc);

	if (e == NOT_FOUND)
		return NULL;
	for (;;) {
		struct unit *u = &d->units[d->spans[e].unit];
		if (u->state == UNIT_UNREAD)
			read_unit(d, u);
		if (u->state == UNIT_READ)
			return u;
		/* A useless unit gives way to the range just before it, if that covers pc. */
		if (e == 0 || pc < d->spans[e - 1].span.low || pc >= d->spans[e - 1].span.high)
			return NULL;
		e--;
	}
}

/* The last row at or before pc (libbacktrace's line_search), or NULL. */
static const struct line_row *
line_at(const struct unit *u, uint64_t pc)
{
	size_t lo = 0, hi = u->n_lines;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (u->lines[mid].address <= pc)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? NULL : &u->lines[lo - 1];
}

/* libbacktrace's dwarf_lookup_pc, with memray's callback as emit. */
void
dwarf_frames_lookup(struct dwarf_frames *d, uint64_t pc, dwarf_frame_fn *emit, void *arg)
{
	const struct unit *u = unit_at(d, pc);
	const struct line_row *row = u != NULL ? line_at(u, pc) : NULL;

	if (row == NULL)
		return;
	size_t f = span_find(u->funcs, u->n_funcs, sizeof *u->funcs, pc);
	if (f == NOT_FOUND)
		return;
	const struct func *func = u->funcs[f].func;
	const char *file = row->file;
	int line = row->line;
	emit_inlined(func, pc, &file, &line, emit, arg);
	emit(arg, func->name, file, line);
}

struct dwarf_frames *
dwarf_frames_open(Elf *elf)
{
	Dwarf *dwarf = dwarf_begin_elf(elf, DWARF_C_READ, NULL);

	if (dwarf == NULL)
		return NULL;
	struct dwarf_frames *d = xcalloc(1, sizeof *d);
	d->dwarf = dwarf;
	index_units(d);
	return d;
}

void
dwarf_frames_free(struct dwarf_frames *d)
{
	if (d == NULL)
		return;
	dwarf_end(d->dwarf);
	free(d->units);
	free(d->spans);
	owned_free(&d->owned);
	free(d);
}
