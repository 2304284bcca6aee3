/*
 * record_decoder_aggregated: the records of AGGREGATED_ALLOCATIONS files
 * (doc/capture-format.md §4), formats 10 to 13: a plain type byte, the
 * allocations already summed per location, stacks as a tree of trace
 * indexes over frame indexes.  Formats 10-11 write ids as u64 and a
 * frame index with its function, file and line, decoded as a code object
 * followed by the frame index.
 */
#include <inttypes.h>

#include "allocator.h"
#include "record_decoder_internal.h"

/* Record type bytes of AGGREGATED_ALLOCATIONS files (§4). */
enum {
	AGG_MEMORY_SNAPSHOT = 1,
	AGG_AGGREGATED_ALLOCATION = 2,
	AGG_PYTHON_TRACE_INDEX = 3,
	AGG_PYTHON_FRAME_INDEX = 4,
	AGG_SURVIVING_OBJECT = 13,
	AGG_TRAILER = 15
};

/* The 72-byte AggregatedAllocation struct, padding after the allocator ignored. */
static enum parse
parse_aggregated_allocation(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	const uint8_t *b;

	TRY(take_bytes(c, 72, &b));
	uint8_t allocator = dec->header.version >= 12 ? b[8] : decoder_allocator_from_v11(b[8]);
	if (allocator_kind(allocator) == ALLOCATOR_INVALID)
		return decoder_bad(dec, "invalid allocator %u", b[8]);
	/* The writer puts every NATIVE_TRACE_INDEX before the allocations. */
	if (le64(b + 16) > dec->native_frames)
		return decoder_bad(dec, "native frame id %" PRIu64 " out of range", le64(b + 16));
	rec->type = REC_AGGREGATED_ALLOCATION;
	rec->u.aggregated.tid = le64(b);
	rec->u.aggregated.allocator = allocator;
	rec->u.aggregated.native_id = le64(b + 16);
	rec->u.aggregated.trace_node = le64(b + 24);
	rec->u.aggregated.generation = le64(b + 32);
	rec->u.aggregated.n_allocations_in_high_water_mark = le64(b + 40);
	rec->u.aggregated.n_allocations_leaked = le64(b + 48);
	rec->u.aggregated.bytes_in_high_water_mark = le64(b + 56);
	rec->u.aggregated.bytes_leaked = le64(b + 64);
	return PARSE_OK;
}

/*
 * PYTHON_FRAME_INDEX: format 12-13 names a code object and an offset, and
 * its ids must come in order (memray: "Frame ID mismatch"); format 10-11
 * carries the function, file and line, decoded as a code object followed
 * by the frame index.
 */
static enum parse
parse_python_frame_index(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	struct record frame = { .type = REC_FRAME_INDEX, .offset = rec->offset };
	bool is_entry = false;

	if (dec->header.version >= 12) {
		TRY(take_varint(dec, c, &frame.u.frame_index.frame_id));
		TRY(take_varint(dec, c, &frame.u.frame_index.code_id));
		TRY(take_svarint(dec, c, &frame.u.frame_index.instruction_offset));
		TRY(take_bool(dec, c, &is_entry, "entry frame"));
		if (frame.u.frame_index.frame_id != dec->frame_indexes)
			return decoder_bad(dec, "frame id %" PRIu64 " out of sequence", frame.u.frame_index.frame_id);
		frame.u.frame_index.is_entry = is_entry;
		dec->frame_indexes++;
		*rec = frame;
		return PARSE_OK;
	}
	uint64_t frame_id;
	int32_t line;
	TRY(take_u64(c, &frame_id));
	TRY(take_cstr(c, &rec->u.code.function));
	TRY(take_cstr(c, &rec->u.code.file));
	TRY(take_i32(c, &line));
	TRY(take_bool(dec, c, &is_entry, "entry frame"));
	rec->type = REC_CODE_OBJECT;
	rec->u.code.id = frame_id;
	rec->u.code.firstlineno = line;
	rec->u.code.linetable = NULL;
	rec->u.code.linetable_len = 0;
	frame.u.frame_index.frame_id = frame_id;
	frame.u.frame_index.code_id = frame_id;
	frame.u.frame_index.is_entry = is_entry;
	dec->pending = frame;
	dec->has_pending = true;
	return PARSE_OK;
}

/* One record of an AGGREGATED_ALLOCATIONS file (§4): a plain type byte. */
enum parse
decoder_parse_aggregated(struct record_decoder *dec, struct cursor *c, struct record *rec)
{
	uint8_t type;
	const uint8_t *skipped;

	TRY(take_u8(c, &type));
	switch (type) {
	case AGG_TRAILER:
		rec->type = REC_END;
		return PARSE_OK;
	case AGG_MEMORY_SNAPSHOT:
		rec->type = REC_MEMORY_SNAPSHOT;
		return take_bytes(c, 24, &skipped);
	case AGG_AGGREGATED_ALLOCATION:
		return parse_aggregated_allocation(dec, c, rec);
	case AGG_PYTHON_TRACE_INDEX:
		rec->type = REC_TRACE_INDEX;
		if (dec->header.version >= 12) {
			TRY(take_varint(dec, c, &rec->u.trace_index.frame_id));
			return take_varint(dec, c, &rec->u.trace_index.parent);
		}
		/* Formats 10-11: u64 frame id, then FrameTree::index_t, a u32. */
		int32_t parent;
		TRY(take_u64(c, &rec->u.trace_index.frame_id));
		TRY(take_i32(c, &parent));
		rec->u.trace_index.parent = (uint32_t)parent;
		return PARSE_OK;
	case AGG_PYTHON_FRAME_INDEX:
		return parse_python_frame_index(dec, c, rec);
	case AGG_SURVIVING_OBJECT:
		if (dec->header.version < 12)
			break;
		uint64_t address, native_id;
		TRY(take_varint(dec, c, &address));
		if (dec->header.native_traces)
			TRY(take_varint(dec, c, &native_id));
		rec->type = REC_SURVIVING_OBJECT;
		return PARSE_OK;
	case TYPE_CODE_OBJECT:
		if (dec->header.version < 12)
			break;
		return decoder_parse_code_object(dec, c, rec);
	default:
		return decoder_parse_common(dec, c, type, rec);
	}
	return decoder_bad(dec, "invalid record type %u", type);
}
