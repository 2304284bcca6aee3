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

static void
pprof_end(void *state)
{
	struct pprof_state *s = state;
	struct string_table *st = &s->strings;
	Perftools__Profiles__Profile profile = PERFTOOLS__PROFILES__PROFILE__INIT;

	/* Sample types: [count, bytes] (pprof's convention puts the count first). */
	const char *objects = s->temporary ? "alloc_objects" : "inuse_objects";
	const char *space = s->temporary ? "alloc_space" : "inuse_space";
	Perftools__Profiles__ValueType types[2] = {
		PERFTOOLS__PROFILES__VALUE_TYPE__INIT, PERFTOOLS__PROFILES__VALUE_TYPE__INIT,
	};
	Perftools__Profiles__ValueType *type_ptrs[2] = { &types[0], &types[1] };
	types[0].type = intern(st, objects);
	types[0].unit = intern(st, "count");
	types[1].type = intern(st, space);
	types[1].unit = intern(st, "bytes");
	profile.n_sample_type = 2;
	profile.sample_type = type_ptrs;
	profile.default_sample_type = types[1].type;
	uint32_t thread_name_key = intern(st, "thread_name");

	/* Functions: numbered as their locations first use them. */
	struct frame_table functions;
	size_t n_loc = s->locations.count;
	uint32_t *function_of = xreallocarray(NULL, n_loc ? n_loc : 1, sizeof *function_of);
	frame_table_init(&functions, false);
	for (size_t i = 0; i < n_loc; i++)
		function_of[i] = frame_table_intern(&functions, &s->locations.frames[i]);

	size_t n_fn = functions.count;
	Perftools__Profiles__Function *fns = xreallocarray(NULL, n_fn ? n_fn : 1, sizeof *fns);
	Perftools__Profiles__Function **fn_ptrs = xreallocarray(NULL, n_fn ? n_fn : 1, sizeof *fn_ptrs);
	for (size_t i = 0; i < n_fn; i++) {
		const struct frame_text *f = &functions.frames[i];
		fns[i] = (Perftools__Profiles__Function)PERFTOOLS__PROFILES__FUNCTION__INIT;
		fns[i].id = i + 1;
		fns[i].name = intern(st, f->function);
		fns[i].system_name = 0;	/* "", so that pprof keeps the name (above) */
		fns[i].filename = intern(st, f->file);
		/* The line of the first appearance (frame_table keeps it), 0 if unknown. */
		fns[i].start_line = f->line > 0 ? f->line : 0;
		fn_ptrs[i] = &fns[i];
	}
	profile.n_function = n_fn;
	profile.function = fn_ptrs;

	Perftools__Profiles__Location *locs = xreallocarray(NULL, n_loc ? n_loc : 1, sizeof *locs);
	Perftools__Profiles__Location **loc_ptrs = xreallocarray(NULL, n_loc ? n_loc : 1, sizeof *loc_ptrs);
	Perftools__Profiles__Line *lines = xreallocarray(NULL, n_loc ? n_loc : 1, sizeof *lines);
	Perftools__Profiles__Line **line_ptrs = xreallocarray(NULL, n_loc ? n_loc : 1, sizeof *line_ptrs);
	for (size_t i = 0; i < n_loc; i++) {
		lines[i] = (Perftools__Profiles__Line)PERFTOOLS__PROFILES__LINE__INIT;
		lines[i].function_id = (uint64_t)function_of[i] + 1;
		lines[i].line = s->locations.frames[i].line;
		line_ptrs[i] = &lines[i];
		locs[i] = (Perftools__Profiles__Location)PERFTOOLS__PROFILES__LOCATION__INIT;
		locs[i].id = i + 1;
		locs[i].n_line = 1;
		locs[i].line = &line_ptrs[i];
		loc_ptrs[i] = &locs[i];
	}
	profile.n_location = n_loc;
	profile.location = loc_ptrs;

	size_t n = s->n_samples;
	Perftools__Profiles__Sample *samples = xreallocarray(NULL, n ? n : 1, sizeof *samples);
	Perftools__Profiles__Sample **sample_ptrs = xreallocarray(NULL, n ? n : 1, sizeof *sample_ptrs);
	Perftools__Profiles__Label *labels = xreallocarray(NULL, n ? n : 1, sizeof *labels);
	Perftools__Profiles__Label **label_ptrs = xreallocarray(NULL, n ? n : 1, sizeof *label_ptrs);
	int64_t *values = xreallocarray(NULL, n ? n : 1, 2 * sizeof *values);
	size_t n_ids = s->locations_of_len;
	uint64_t *ids = xreallocarray(NULL, n_ids ? n_ids : 1, sizeof *ids);
	for (size_t k = 0; k < n_ids; k++)
		ids[k] = (uint64_t)s->locations_of[k] + 1;
	for (size_t i = 0; i < n; i++) {
		const struct pprof_sample *ps = &s->samples[i];
		labels[i] = (Perftools__Profiles__Label)PERFTOOLS__PROFILES__LABEL__INIT;
		labels[i].key = thread_name_key;
		labels[i].str = ps->thread_label;
		label_ptrs[i] = &labels[i];
		values[2 * i] = clamp(ps->n_allocations);
		values[2 * i + 1] = clamp(ps->size);
		samples[i] = (Perftools__Profiles__Sample)PERFTOOLS__PROFILES__SAMPLE__INIT;
		samples[i].n_location_id = ps->depth;
		samples[i].location_id = ids + ps->offset;
		samples[i].n_value = 2;
		samples[i].value = values + 2 * i;
		samples[i].n_label = 1;
		samples[i].label = &label_ptrs[i];
		sample_ptrs[i] = &samples[i];
	}
	profile.n_sample = n;
	profile.sample = sample_ptrs;

	/* Informational: when the capture ran, and its command line as a comment. */
	int64_t comment = 0;
	const int64_t ms_to_ns = 1000000;
	int64_t start = s->start_time, end = s->end_time;
	if (start > 0 && start <= INT64_MAX / ms_to_ns) {
		profile.time_nanos = start * ms_to_ns;
		if (end >= start && end <= INT64_MAX / ms_to_ns)
			profile.duration_nanos = (end - start) * ms_to_ns;
	}
	if (s->command_line != NULL && s->command_line[0] != '\0') {
		comment = intern(st, s->command_line);
		profile.n_comment = 1;
		profile.comment = &comment;
	}

	/* The string table last: everything above may add to it. */
	profile.n_string_table = st->count;
	profile.string_table = st->strings;

	size_t packed_size = perftools__profiles__profile__get_packed_size(&profile);
	uint8_t *packed = xmalloc(packed_size ? packed_size : 1);
	perftools__profiles__profile__pack(&profile, packed);
	write_gzip(s->out, packed, packed_size);

	free(packed);
	free(ids);
	free(values);
	free(label_ptrs);
	free(labels);
	free(sample_ptrs);
	free(samples);
	free(line_ptrs);
	free(lines);
	free(loc_ptrs);
	free(locs);
	free(fn_ptrs);
	free(fns);
	free(function_of);
	frame_table_free(&functions);
	frame_table_free(&s->locations);
	string_table_free(st);
	free(s->samples);
	free(s->locations_of);
	free(s);
}

const struct writer_ops pprof_writer = {
	.name = "pprof",
	.begin = pprof_begin,
	.row = pprof_row,
	.end = pprof_end,
};
