/*
 * pprof_writer: a gzip-compressed perftools.profiles.Profile, the input of
 * `go tool pprof` (-f pprof; not a memray format).  The output is binary.
 *
 * Sample types, values in this order:
 *   peak, leaks  inuse_objects/count, inuse_space/bytes
 *   temporary    alloc_objects/count, alloc_space/bytes
 * with the space type as default_sample_type.  One sample per report row:
 * its locations leaf first, the values [num_allocations, size] and a string
 * label thread_name holding the CSV's thread_name column ("0x2 (worker)").
 *
 * Functions are keyed by (name, file), as gprof2dot's, and numbered 1, 2,
 * ... in order of first appearance; a function's start_line is the line of
 * its first appearance (the capture's rendered frames carry no definition
 * line), or 0 if that line is unknown.  A function's system_name is left
 * empty: pprof demangles every function whose system_name equals its name
 * and, failing that, takes a name with '<' or '[' for a demangled C++ one
 * and cuts its "<...>" out (internal/symbolizer, demangleSingleFunction),
 * which turned <module>, <listcomp> and <genexpr> into "", shown as
 * <unknown> and merged into one node.  A name that differs from its
 * system_name counts as demangled already and is shown as it is.  Locations are keyed by (function,
 * file, line), one Line each, no mapping, address 0.  A row with an empty
 * stack gets the one location "[unknown]" (file "", line 0), as folded
 * output shows it.  Values above 2^63 - 1 are written as 2^63 - 1.
 *
 * The profile is buffered (it is bounded by the report's rows), built into
 * protobuf-c messages (profile.proto) in end(), packed, and gzipped with
 * zlib onto the output.
 */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "message.h"
#include "profile.pb-c.h"
#include "utf8.h"
#include "writer.h"
#include "xmalloc.h"

#define UNKNOWN_FRAME "[unknown]"

/* One report row. */
struct pprof_sample {
	size_t offset, depth;		/* of its location numbers in locations_of */
	uint64_t n_allocations, size;
	uint32_t thread_label;		/* string table index */
};

/*
 * The string table: "" first, then strings in order of first use, as
 * UTF-8 (protobuf strings must be; utf8.h repairs names that are not).
 */
struct string_table {
	struct u64map index;		/* hash -> index into strings */
	char **strings;
	size_t count, cap;
	struct utf8_buffer repaired;
};

struct pprof_state {
	FILE *out;
	bool temporary;
	const char *command_line;	/* the config's: borrowed */
	int64_t start_time, end_time;
	struct string_table strings;
	struct frame_table locations;	/* keyed by (function, file, line) */
	struct pprof_sample *samples;
	size_t n_samples, samples_cap;
	uint32_t *locations_of;		/* every sample's location numbers, leaf first */
	size_t locations_of_len, locations_of_cap;
};

static void
string_table_init(struct string_table *t)
{
	memset(t, 0, sizeof *t);
	u64map_init(&t->index);
}

static void
string_table_free(struct string_table *t)
{
	for (size_t i = 0; i < t->count; i++)
		free(t->strings[i]);
	free(t->strings);
	u64map_free(&t->index);
	utf8_buffer_free(&t->repaired);
}

/* What intern looks for. */
struct string_sought {
	const struct string_table *table;
	const char *string;
};

static bool
is_string_sought(const void *ctx, uint32_t index)
{
	const struct string_sought *sought = ctx;

	return strcmp(sought->table->strings[index], sought->string) == 0;
}

static uint32_t
intern(struct string_table *t, const char *s)
{
	size_t len = strlen(s);

	s = utf8_repair(&t->repaired, s, &len);
	const struct string_sought sought = { t, s };
	uint64_t key;
	uint32_t index;

	if (u64map_find_interned(&t->index, writer_hash_bytes(0, s, len), is_string_sought, &sought,
	    &index, &key))
		return index;
	if (t->count >= INT32_MAX)
		fatal("too many distinct strings for one pprof profile");
	t->strings = xgrowarray(t->strings, &t->cap, t->count + 1, sizeof *t->strings, 256);
	index = (uint32_t)t->count++;
	t->strings[index] = xmemdup(s, len + 1);
	u64map_set(&t->index, key, index);
	return index;
}

static void *
pprof_begin(const struct writer_config *config)
{
	struct pprof_state *s = xcalloc(1, sizeof *s);

	s->out = config->out;
	s->temporary = config->mode == WRITER_MODE_ALLOCATED;
	s->command_line = config->command_line;
	s->start_time = config->start_time;
	s->end_time = config->end_time;
	string_table_init(&s->strings);
	intern(&s->strings, "");	/* string_table[0] must be "" */
	frame_table_init(&s->locations, true);
	return s;
}

static void
pprof_row(void *state, const struct output_row *row)
{
	struct pprof_sample *sample;
	struct pprof_state *s = state;
	static const struct frame_text unknown = { UNKNOWN_FRAME, "", 0 };
	size_t depth = row->n_frames ? row->n_frames : 1;
	size_t label_size = 40 + (row->thread_name ? strlen(row->thread_name) : 0);
	char *label = xmalloc(label_size);

	s->samples = xgrowarray(s->samples, &s->samples_cap, s->n_samples + 1,
	    sizeof *s->samples, 64);
	s->locations_of = xgrowarray(s->locations_of, &s->locations_of_cap,
	    s->locations_of_len + depth, sizeof *s->locations_of, 1024);
	sample = &s->samples[s->n_samples++];
	sample->offset = s->locations_of_len;
	sample->depth = depth;
	sample->n_allocations = row->n_allocations;
	sample->size = row->size;
	/* Leaf first, as the row's frames are. */
	for (size_t i = 0; i < depth; i++) {
		const struct frame_text *f = row->n_frames ? &row->frames[i] : &unknown;
		s->locations_of[s->locations_of_len++] = frame_table_intern(&s->locations, f);
	}
	writer_thread_label(label, label_size, row->tid, row->thread_name);
	sample->thread_label = intern(&s->strings, label);
	free(label);
}

static int64_t
clamp(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Gzip len bytes onto out (windowBits 31: a gzip header and trailer). */
static void
write_gzip(FILE *out, const uint8_t *data, size_t len)
{
	z_stream z;
	unsigned char chunk[65536];
	int rc;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		fatal("cannot start gzip compression (zlib)");
	z.next_in = (unsigned char *)data;
	do {
		/* avail_in is a uInt: feed a large profile in pieces. */
		if (z.avail_in == 0 && len > 0) {
			size_t piece = len > (1u << 30) ? (1u << 30) : len;
			z.next_in = (unsigned char *)data;
			z.avail_in = (uInt)piece;
			data += piece;
			len -= piece;
		}
		z.next_out = chunk;
		z.avail_out = sizeof chunk;
		rc = deflate(&z, len == 0 ? Z_FINISH : Z_NO_FLUSH);
		if (rc == Z_STREAM_ERROR)
			fatal("gzip compression failed (zlib)");
		fwrite(chunk, 1, sizeof chunk - z.avail_out, out);
	} while (rc != Z_STREAM_END);
	deflateEnd(&z);
}

/* Room for n elements of size bytes, never NULL (one element when n is 0). */
static void *
message_array(size_t n, size_t size)
{
	return xreallocarray(NULL, n ? n : 1, size);
}

/*
 * The messages end() builds, and the arrays behind them: each builder
 * below fills one part of profile.  The order the builders run in is the
 * order strings enter the string table, so it is part of the output.
 */
struct pprof_build {
	Perftools__Profiles__Profile profile;
	Perftools__Profiles__ValueType types[2], *type_ptrs[2];
	uint32_t *function_of;		/* per location: its function's index */
	Perftools__Profiles__Function *fns, **fn_ptrs;
	Perftools__Profiles__Location *locs, **loc_ptrs;
	Perftools__Profiles__Line *lines, **line_ptrs;
	Perftools__Profiles__Sample *samples, **sample_ptrs;
	Perftools__Profiles__Label *labels, **label_ptrs;
	int64_t *values;		/* two per sample */
	uint64_t *location_ids;		/* every sample's, leaf first */
	int64_t comment;
};

/* Sample types: [count, bytes] (pprof's convention puts the count first). */
static void
build_sample_types(struct pprof_build *b, struct pprof_state *s)
{
	struct string_table *st = &s->strings;

	for (size_t i = 0; i < 2; i++) {
		b->types[i] = (Perftools__Profiles__ValueType)PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
		b->type_ptrs[i] = &b->types[i];
	}
	b->types[0].type = intern(st, s->temporary ? "alloc_objects" : "inuse_objects");
	b->types[0].unit = intern(st, "count");
	b->types[1].type = intern(st, s->temporary ? "alloc_space" : "inuse_space");
	b->types[1].unit = intern(st, "bytes");
	b->profile.n_sample_type = 2;
	b->profile.sample_type = b->type_ptrs;
	b->profile.default_sample_type = b->types[1].type;
}

/* Functions: numbered as their locations first use them. */
static void
build_functions(struct pprof_build *b, struct pprof_state *s)
{
	struct frame_table functions;
	size_t n_loc = s->locations.count;

	b->function_of = message_array(n_loc, sizeof *b->function_of);
	frame_table_init(&functions, false);
	for (size_t i = 0; i < n_loc; i++)
		b->function_of[i] = frame_table_intern(&functions, &s->locations.frames[i]);

	size_t n_fn = functions.count;
	b->fns = message_array(n_fn, sizeof *b->fns);
	b->fn_ptrs = message_array(n_fn, sizeof *b->fn_ptrs);
	for (size_t i = 0; i < n_fn; i++) {
		const struct frame_text *f = &functions.frames[i];
		Perftools__Profiles__Function *fn = &b->fns[i];
		*fn = (Perftools__Profiles__Function)PERFTOOLS__PROFILES__FUNCTION__INIT;
		fn->id = i + 1;
		fn->name = intern(&s->strings, f->function);
		fn->system_name = 0;	/* "", so that pprof keeps the name (above) */
		fn->filename = intern(&s->strings, f->file);
		/* The line of the first appearance (frame_table keeps it), 0 if unknown. */
		fn->start_line = f->line > 0 ? f->line : 0;
		b->fn_ptrs[i] = fn;
	}
	frame_table_free(&functions);
	b->profile.n_function = n_fn;
	b->profile.function = b->fn_ptrs;
}

/* Locations: one Line each, of the function build_functions() gave it. */
static void
build_locations(struct pprof_build *b, const struct pprof_state *s)
{
	size_t n_loc = s->locations.count;

	b->locs = message_array(n_loc, sizeof *b->locs);
	b->loc_ptrs = message_array(n_loc, sizeof *b->loc_ptrs);
	b->lines = message_array(n_loc, sizeof *b->lines);
	b->line_ptrs = message_array(n_loc, sizeof *b->line_ptrs);
	for (size_t i = 0; i < n_loc; i++) {
		b->lines[i] = (Perftools__Profiles__Line)PERFTOOLS__PROFILES__LINE__INIT;
		b->lines[i].function_id = (uint64_t)b->function_of[i] + 1;
		b->lines[i].line = s->locations.frames[i].line;
		b->line_ptrs[i] = &b->lines[i];
		b->locs[i] = (Perftools__Profiles__Location)PERFTOOLS__PROFILES__LOCATION__INIT;
		b->locs[i].id = i + 1;
		b->locs[i].n_line = 1;
		b->locs[i].line = &b->line_ptrs[i];
		b->loc_ptrs[i] = &b->locs[i];
	}
	b->profile.n_location = n_loc;
	b->profile.location = b->loc_ptrs;
}

/* Samples: the rows' location ids, values and thread_name labels. */
static void
build_samples(struct pprof_build *b, const struct pprof_state *s, uint32_t thread_name_key)
{
	size_t n = s->n_samples, n_ids = s->locations_of_len;

	b->samples = message_array(n, sizeof *b->samples);
	b->sample_ptrs = message_array(n, sizeof *b->sample_ptrs);
	b->labels = message_array(n, sizeof *b->labels);
	b->label_ptrs = message_array(n, sizeof *b->label_ptrs);
	b->values = message_array(n, 2 * sizeof *b->values);
	b->location_ids = message_array(n_ids, sizeof *b->location_ids);
	for (size_t k = 0; k < n_ids; k++)
		b->location_ids[k] = (uint64_t)s->locations_of[k] + 1;
	for (size_t i = 0; i < n; i++) {
		const struct pprof_sample *ps = &s->samples[i];
		Perftools__Profiles__Sample *sample = &b->samples[i];
		b->labels[i] = (Perftools__Profiles__Label)PERFTOOLS__PROFILES__LABEL__INIT;
		b->labels[i].key = thread_name_key;
		b->labels[i].str = ps->thread_label;
		b->label_ptrs[i] = &b->labels[i];
		b->values[2 * i] = clamp(ps->n_allocations);
		b->values[2 * i + 1] = clamp(ps->size);
		*sample = (Perftools__Profiles__Sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
		sample->n_location_id = ps->depth;
		sample->location_id = b->location_ids + ps->offset;
		sample->n_value = 2;
		sample->value = b->values + 2 * i;
		sample->n_label = 1;
		sample->label = &b->label_ptrs[i];
		b->sample_ptrs[i] = sample;
	}
	b->profile.n_sample = n;
	b->profile.sample = b->sample_ptrs;
}

/* Informational: when the capture ran, and its command line as a comment. */
static void
build_time_and_comment(struct pprof_build *b, struct pprof_state *s)
{
	const int64_t ms_to_ns = 1000000;
	int64_t start = s->start_time, end = s->end_time;

	if (start > 0 && start <= INT64_MAX / ms_to_ns) {
		b->profile.time_nanos = start * ms_to_ns;
		if (end >= start && end <= INT64_MAX / ms_to_ns)
			b->profile.duration_nanos = (end - start) * ms_to_ns;
	}
	if (s->command_line != NULL && s->command_line[0] != '\0') {
		b->comment = intern(&s->strings, s->command_line);
		b->profile.n_comment = 1;
		b->profile.comment = &b->comment;
	}
}

static void
pprof_build_free(struct pprof_build *b)
{
	free(b->location_ids);
	free(b->values);
	free(b->label_ptrs);
	free(b->labels);
	free(b->sample_ptrs);
	free(b->samples);
	free(b->line_ptrs);
	free(b->lines);
	free(b->loc_ptrs);
	free(b->locs);
	free(b->fn_ptrs);
	free(b->fns);
	free(b->function_of);
}

static void
pprof_state_free(struct pprof_state *s)
{
	frame_table_free(&s->locations);
	string_table_free(&s->strings);
	free(s->samples);
	free(s->locations_of);
	free(s);
}

static void
pprof_end(void *state)
{
	struct pprof_state *s = state;
	struct pprof_build b = { .profile = PERFTOOLS__PROFILES__PROFILE__INIT };

	/* In this order: each interns its strings after the ones before. */
	build_sample_types(&b, s);
	uint32_t thread_name_key = intern(&s->strings, "thread_name");
	build_functions(&b, s);
	build_locations(&b, s);
	build_samples(&b, s, thread_name_key);
	build_time_and_comment(&b, s);
	/* The string table last: everything above may add to it. */
	b.profile.n_string_table = s->strings.count;
	b.profile.string_table = s->strings.strings;

	size_t packed_size = perftools__profiles__profile__get_packed_size(&b.profile);
	uint8_t *packed = xmalloc(packed_size ? packed_size : 1);
	perftools__profiles__profile__pack(&b.profile, packed);
	write_gzip(s->out, packed, packed_size);
	free(packed);
	pprof_build_free(&b);
	pprof_state_free(s);
}

const struct writer_ops pprof_writer = {
	.name = "pprof",
	.begin = pprof_begin,
	.row = pprof_row,
	.end = pprof_end,
};
