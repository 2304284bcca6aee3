/*
 * capture_builder: the encodings of a memray capture (capture_builder.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture_builder.h"
#include "varint.h"

void
builder_reserve(struct capture_builder *b, size_t n)
{
	if (b->cap - b->len >= n)
		return;
	size_t cap = b->cap * 2 > b->len + n ? b->cap * 2 : b->len + n + 256;
	uint8_t *data = realloc(b->data, cap);
	if (data == NULL) {
		fprintf(stderr, "capture_builder: out of memory (%zu bytes)\n", cap);
		exit(1);
	}
	b->data = data;
	b->cap = cap;
}

void
builder_bytes(struct capture_builder *b, const void *data, size_t n)
{
	builder_reserve(b, n);
	if (n > 0)
		memcpy(b->data + b->len, data, n);
	b->len += n;
}

void
builder_u8(struct capture_builder *b, uint8_t v)
{
	builder_reserve(b, 1);
	b->data[b->len++] = v;
}

void
builder_le(struct capture_builder *b, uint64_t v, unsigned bytes)
{
	builder_reserve(b, bytes);
	for (unsigned i = 0; i < bytes; i++)
		b->data[b->len++] = (uint8_t)(v >> (8 * i));
}

void
builder_varint(struct capture_builder *b, uint64_t v)
{
	builder_reserve(b, 10);
	b->len += varint_write(b->data + b->len, v);
}

void
builder_svarint(struct capture_builder *b, int64_t v)
{
	builder_varint(b, zigzag_encode(v));
}

void
builder_cstr(struct capture_builder *b, const char *s)
{
	builder_bytes(b, s, strlen(s) + 1);
}

/* A NULL-terminated list of strings, then the empty string that ends it. */
static void
string_list(struct capture_builder *b, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		builder_cstr(b, *list);
	builder_cstr(b, "");
}

void
builder_header(struct capture_builder *b, const struct capture_header_fields *h)
{
	builder_bytes(b, "memray", 7);		/* the magic, with its NUL */
	builder_le(b, h->version, 4);
	builder_le(b, h->python_version, 4);
	builder_u8(b, h->native_traces);
	builder_u8(b, h->file_format);
	builder_le(b, h->n_allocations, 8);
	builder_le(b, h->n_frames, 8);
	builder_le(b, h->start_time, 8);
	builder_le(b, h->end_time, 8);
	builder_cstr(b, h->command_line);
	builder_le(b, h->pid, 4);
	builder_le(b, h->main_tid, 8);
	builder_le(b, h->skipped_frames_on_main_tid, 8);
	builder_u8(b, h->python_allocator);
	builder_u8(b, h->trace_python_allocators);
	builder_u8(b, h->track_object_lifetimes);
	builder_cstr(b, h->libdest);
	string_list(b, h->site_packages);
	string_list(b, h->sys_path);
}

void
builder_clear(struct capture_builder *b)
{
	b->len = 0;
}

void
builder_free(struct capture_builder *b)
{
	free(b->data);
	*b = (struct capture_builder){ 0 };
}
