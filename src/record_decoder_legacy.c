/*
 * record_decoder_legacy: the records of ALL_ALLOCATIONS files of formats
 * 10 and 11 (doc/capture-format.md §2.1), decoded into the records of
 * today's formats.  A one-byte record type in the low nibble, flags in the
 * high one; allocator ids renumbered; a frame is a FRAME_INDEX with its
 * function, file and line.  Their header is read with the others' in
 * record_decoder.c, and so are the records formats 10-13 share.  The hot
 * records (ALLOCATION, FRAME_PUSH, FRAME_POP) are parsed in
 * record_decoder_internal.h, where record_decoder.c's fast path inlines
 * them.
 */
#include "allocator.h"
#include "record_decoder_internal.h"
#include "u64map.h"

const uint8_t decoder_allocators_v11[16] = {
	0, ALLOC_MALLOC, ALLOC_FREE, ALLOC_CALLOC, ALLOC_REALLOC, ALLOC_POSIX_MEMALIGN,
	ALLOC_ALIGNED_ALLOC, ALLOC_MEMALIGN, ALLOC_VALLOC, ALLOC_PVALLOC, ALLOC_MMAP,
	ALLOC_MUNMAP, ALLOC_PYMALLOC_MALLOC, ALLOC_PYMALLOC_CALLOC, ALLOC_PYMALLOC_REALLOC,
	ALLOC_PYMALLOC_FREE,
};

/*
 * Formats 10-11 FRAME_INDEX: frame id, function, file and line, known at
 * capture time.  It becomes a code object whose empty line table gives
 * its line; the entry flag is kept for the pushes of that frame.
 */
static enum parse
parse_frame_index_v11(struct record_decoder *dec, struct cursor *c, uint8_t flags,
    struct record *rec)
{
	int64_t id_delta, line_delta;

	TRY(take_svarint(dec, c, &id_delta));
	TRY(take_cstr(c, &rec->u.code.function));
	TRY(take_cstr(c, &rec->u.code.file));
	TRY(take_svarint(dec, c, &line_delta));
	dec->last_python_frame_id += (uint64_t)id_delta;
	dec->last_python_line = (int32_t)((uint32_t)dec->last_python_line + (uint32_t)line_delta);
	u64map_set(&dec->entry_frames, dec->last_python_frame_id, !(flags & 1));
	rec->type = REC_CODE_OBJECT;
	rec->u.code.id = dec->last_python_frame_id;
	rec->u.code.firstlineno = dec->last_python_line;
	rec->u.code.linetable = NULL;
	rec->u.code.linetable_len = 0;
	return PARSE_OK;
}

/* One record of an ALL_ALLOCATIONS file, formats 10 and 11: type in the low nibble. */
enum parse
decoder_parse_record_v11(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	uint8_t byte;

	TRY(take_u8(c, &byte));
	if (is_hot_type_v11(byte))
		return parse_hot_record_v11(dec, &dec->hot, c, byte, rec);
	uint8_t type = byte & 0x0f, flags = byte >> 4;
	switch (type) {
	case TYPE_V11_TRAILER:
		if (flags != 1)
			return decoder_bad(dec, "invalid record type %u", byte);
		rec->type = REC_END;
		return PARSE_OK;
	case TYPE_V11_FRAME_INDEX:
		return parse_frame_index_v11(dec, c, flags, rec);
	case TYPE_V11_MEMORY_RECORD:
		return decoder_parse_memory_record(dec, c, rec);
	case TYPE_NATIVE_TRACE_INDEX:
	case TYPE_MEMORY_MAP_START:
	case TYPE_SEGMENT_HEADER:
	case TYPE_THREAD_RECORD:
	case TYPE_CONTEXT_SWITCH:
		if (flags == 0)
			return decoder_parse_common(dec, c, type, rec);
		/* fall through */
	default:
		return decoder_bad(dec, "invalid record type %u", byte);
	}
}
