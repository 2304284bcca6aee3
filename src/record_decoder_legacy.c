/*
 * record_decoder_legacy: the records of ALL_ALLOCATIONS files of formats
 * 10 and 11 (doc/capture-format.md §2.1), decoded into the records of
 * today's formats.  A one-byte record type in the low nibble, flags in the
 * high one; allocator ids renumbered; a frame is a FRAME_INDEX with its
 * function, file and line.  Their header is read with the others' in
 * record_decoder.c, and so are the records formats 10-13 share.
 */
#include <inttypes.h>

#include "allocator.h"
#include "record_decoder_internal.h"
#include "u64map.h"

/* Format 10-11 allocator ids, renumbered to today's (§2.1). */
uint8_t
decoder_allocator_from_v11(unsigned id)
{
	static const uint8_t today[16] = {
		0, ALLOC_MALLOC, ALLOC_FREE, ALLOC_CALLOC, ALLOC_REALLOC, ALLOC_POSIX_MEMALIGN,
		ALLOC_ALIGNED_ALLOC, ALLOC_MEMALIGN, ALLOC_VALLOC, ALLOC_PVALLOC, ALLOC_MMAP,
		ALLOC_MUNMAP, ALLOC_PYMALLOC_MALLOC, ALLOC_PYMALLOC_CALLOC, ALLOC_PYMALLOC_REALLOC,
		ALLOC_PYMALLOC_FREE,
	};

	return id < 16 ? today[id] : 0;
}

/*
 * Formats 10-11 ALLOCATION and ALLOCATION_WITH_NATIVE: the allocator in
 * the flags, a delta of the whole address (no cache, no >> 3), the size
 * (always for the native form), then the native id delta.
 */
static enum parse
parse_allocation_v11(struct record_decoder *dec, struct cursor *c, uint8_t flags, bool native,
    struct record *rec)
{
	int64_t address_delta, native_delta = 0;
	uint64_t size = 0;
	uint8_t allocator = decoder_allocator_from_v11(flags);
	enum allocator_kind kind = allocator_kind(allocator);

	if (kind == ALLOCATOR_INVALID)
		return decoder_bad(dec, "invalid allocator %u", flags);
	TRY(take_svarint(dec, c, &address_delta));
	if (native || kind != SIMPLE_DEALLOCATOR)
		TRY(take_varint(dec, c, &size));
	if (native)
		TRY(take_svarint(dec, c, &native_delta));
	uint64_t native_id = dec->hot.last_native_id + (uint64_t)native_delta;
	bool dealloc = allocator_is_deallocator(kind);
	if (native && !dealloc && native_id > dec->native_frames)
		return decoder_bad(dec, "native frame id %" PRIu64 " out of range", native_id);
	dec->hot.last_data_ptr += (uint64_t)address_delta;
	dec->hot.last_native_id = native_id;
	rec->type = REC_ALLOCATION;
	rec->u.alloc.address = dec->hot.last_data_ptr;
	rec->u.alloc.size = size;
	rec->u.alloc.allocator = allocator;
	rec->u.alloc.native_id = native && !dealloc ? native_id : 0;
	return PARSE_OK;
}

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
	uint8_t type = byte & 0x0f, flags = byte >> 4;
	switch (type) {
	case 0:
		if (flags != 1)
			return decoder_bad(dec, "invalid record type %u", byte);
		rec->type = REC_END;
		return PARSE_OK;
	case 1:
	case 2:
		return parse_allocation_v11(dec, c, flags, type == 2, rec);
	case 3:
		return parse_frame_index_v11(dec, c, flags, rec);
	case 4: {
		int64_t delta;
		uint32_t is_entry = 1;
		TRY(take_svarint(dec, c, &delta));
		dec->last_python_frame_id += (uint64_t)delta;
		u64map_get(&dec->entry_frames, dec->last_python_frame_id, &is_entry);
		rec->type = REC_FRAME_PUSH;
		rec->u.push.code_id = dec->last_python_frame_id;
		rec->u.push.instruction_offset = 0;
		rec->u.push.is_entry = is_entry;
		return PARSE_OK;
	}
	case 9:
		rec->type = REC_FRAME_POP;
		rec->u.pop.count = flags + 1u;
		return PARSE_OK;
	case 11:
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
