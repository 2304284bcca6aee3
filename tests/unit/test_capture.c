/*
 * test_capture: the state of the traced process (src/capture.c), fed
 * records as the decoder returns them: threads and their Python stacks
 * (the stack trie gives equal stacks one id, whichever thread pushes
 * them, and finds them again in trees too large for its cache), thread
 * names and code objects as they were at the last mark, rendering (most
 * recent frame first, the main thread's skipped frames, unknown code
 * objects), the records memray cannot place, memory-map generations, and
 * the stacks of an aggregated file's trace index.
 */
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "record_decoder.h"
#include "support.h"
#include "xmalloc.h"

#define MAIN_TID 1

static struct capture_header header;
static struct capture *cap;
static uint64_t allocations;	/* counted by mark() */

static void
setup(void)
{
	header = (struct capture_header){
		.version = 13,
		.python_version = 0x030B02F0,	/* 3.11: empty line tables give the first line */
		.main_tid = MAIN_TID,
	};
	cap = capture_new(&header);
	allocations = 0;
}

static void
teardown(void)
{
	capture_free(cap);
	cap = NULL;
}

/*
 * An allocation record that is the report's peak: the state now is the
 * one to render (capture_mark_at).
 */
static void
mark(void)
{
	capture_place_allocation(cap, false);
	capture_mark_at(cap, ++allocations);
}

static void
apply(struct record rec)
{
	ck_assert_msg(capture_apply(cap, &rec), "refused: %s", capture_error(cap));
}

static void
switch_to(uint64_t tid)
{
	apply((struct record){ .type = REC_CONTEXT_SWITCH, .u.context_switch.tid = tid });
}

static void
name_thread(const char *name)
{
	apply((struct record){ .type = REC_THREAD_NAME, .u.thread.name = name });
}

/* A code object with an empty line table: its frames are at firstlineno. */
static void
define_code(uint64_t id, const char *function, const char *file, int32_t firstlineno)
{
	apply((struct record){ .type = REC_CODE_OBJECT, .u.code = {
		.id = id, .function = function, .file = file, .firstlineno = firstlineno,
	} });
}

static void
push(uint64_t code_id)
{
	apply((struct record){ .type = REC_FRAME_PUSH, .u.push = { .code_id = code_id, .is_entry = true } });
}

static void
pop(unsigned count)
{
	apply((struct record){ .type = REC_FRAME_POP, .u.pop.count = count });
}

/*
 * Stack `stack` rendered for the current thread, as of the last mark:
 * "function:file:line" joined by '|', most recent first.
 */
static const char *
rendered(uint32_t stack)
{
	static char text[512];
	const struct frame_text *frames;
	size_t n = capture_render_stack(cap, stack, capture_current_thread(cap), &frames);
	size_t used = 0;

	text[0] = '\0';
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(text + used, sizeof text - used, "%s%s:%s:%d", i ? "|" : "",
		    frames[i].function, frames[i].file, frames[i].line);
	return text;
}

START_TEST(test_stacks_shared_by_threads)
{
	define_code(1, "main", "/app/run.py", 10);
	define_code(2, "work", "/app/work.py", 20);
	ck_assert_uint_eq(capture_current_thread(cap), NO_THREAD);
	ck_assert_uint_eq(capture_current_stack(cap), 0);

	switch_to(2);
	push(1);
	push(2);
	uint32_t stack = capture_current_stack(cap);
	ck_assert_uint_ne(stack, 0);
	mark();
	ck_assert_str_eq(rendered(stack), "work:/app/work.py:20|main:/app/run.py:10");

	/* Another thread pushing the same frames reaches the same stack id. */
	switch_to(3);
	ck_assert_uint_eq(capture_current_stack(cap), 0);
	push(1);
	uint32_t outer = capture_current_stack(cap);
	push(2);
	ck_assert_uint_eq(capture_current_stack(cap), stack);
	pop(1);
	ck_assert_uint_eq(capture_current_stack(cap), outer);

	/* Each thread keeps its own stack. */
	switch_to(2);
	ck_assert_uint_eq(capture_current_stack(cap), stack);
	ck_assert_uint_eq(capture_thread_tid(cap, capture_current_thread(cap)), 2);
}
END_TEST

/*
 * Walk a full call tree of `fanout` calls per level, `depth` levels deep,
 * pushing code ids 1..fanout, as a recursion does; ids[] gets the stack
 * id of each node in the order visited (n counts them).
 */
static void
walk_call_tree(unsigned fanout, unsigned depth, uint32_t *ids, size_t *n)
{
	ids[(*n)++] = capture_current_stack(cap);
	if (depth == 0)
		return;
	for (unsigned call = 1; call <= fanout; call++) {
		push(call);
		walk_call_tree(fanout, depth - 1, ids, n);
		pop(1);
	}
}

/*
 * A call tree with more nodes than the trie's cache of children (4096
 * slots), walked twice: the second walk finds the nodes the first made,
 * through a parent's children found last (two calls a level) or the map
 * (three), and every node has its own id.
 */
START_TEST(test_call_tree_larger_than_the_child_cache)
{
	static const struct { unsigned fanout, depth; } trees[] = { { 2, 13 }, { 3, 8 } };
	unsigned fanout = trees[_i].fanout, depth = trees[_i].depth;
	size_t nodes = 0, n = 0;

	for (unsigned level = 0, width = 1; level <= depth; level++, width *= fanout)
		nodes += width;
	ck_assert_uint_gt(nodes, 4096 * 2);
	uint32_t *first = xreallocarray(NULL, nodes, sizeof *first);
	uint32_t *second = xreallocarray(NULL, nodes, sizeof *second);
	bool *seen = xcalloc(nodes + 1, sizeof *seen);

	switch_to(MAIN_TID);
	walk_call_tree(fanout, depth, first, &n);
	ck_assert_uint_eq(n, nodes);
	n = 0;
	walk_call_tree(fanout, depth, second, &n);
	for (size_t i = 0; i < nodes; i++) {
		ck_assert_uint_eq(second[i], first[i]);
		ck_assert_uint_le(first[i], nodes);
		ck_assert_msg(!seen[first[i]], "node %zu has the id of another", i);
		seen[first[i]] = true;
	}
	free(first);
	free(second);
	free(seen);
}
END_TEST

START_TEST(test_pop_past_the_bottom_stops_at_empty)
{
	define_code(1, "main", "/app/run.py", 10);
	switch_to(2);
	push(1);
	pop(5);
	ck_assert_uint_eq(capture_current_stack(cap), 0);
	push(1);
	mark();
	ck_assert_str_eq(rendered(capture_current_stack(cap)), "main:/app/run.py:10");
}
END_TEST

START_TEST(test_frames_before_any_context_switch)
{
	/* memray cannot place them: the capture refuses, and says why. */
	struct record rec = { .type = REC_FRAME_PUSH, .u.push.code_id = 1 };

	ck_assert(!capture_apply(cap, &rec));
	ck_assert_ptr_nonnull(strstr(capture_error(cap), "context switch"));
	rec = (struct record){ .type = REC_FRAME_POP, .u.pop.count = 1 };
	ck_assert(!capture_apply(cap, &rec));
}
END_TEST

START_TEST(test_thread_name_at_the_mark)
{
	switch_to(2);
	uint32_t thread = capture_current_thread(cap);
	ck_assert_ptr_null(capture_thread_name(cap, thread));
	name_thread("worker");
	mark();
	name_thread("renamed");
	/* The report shows the state at the last mark. */
	ck_assert_str_eq(capture_thread_name(cap, thread), "worker");
	mark();
	ck_assert_str_eq(capture_thread_name(cap, thread), "renamed");
}
END_TEST

START_TEST(test_thread_name_before_any_switch_names_thread_zero)
{
	name_thread("early");
	uint32_t thread = capture_thread_for_tid(cap, 0);
	mark();
	ck_assert_str_eq(capture_thread_name(cap, thread), "early");
	ck_assert_uint_eq(capture_thread_tid(cap, thread), 0);
}
END_TEST

START_TEST(test_nothing_before_the_first_mark)
{
	/* Before any mark the state to report is the empty one: codes are not known yet. */
	define_code(1, "main", "/app/run.py", 10);
	switch_to(2);
	push(1);
	ck_assert_str_eq(rendered(capture_current_stack(cap)), "::0");
	mark();
	ck_assert_str_eq(rendered(capture_current_stack(cap)), "main:/app/run.py:10");
}
END_TEST

START_TEST(test_code_object_at_the_mark)
{
	define_code(1, "before", "/app/a.py", 5);
	switch_to(2);
	push(1);
	uint32_t stack = capture_current_stack(cap);
	mark();
	define_code(1, "after", "/app/b.py", 7);
	ck_assert_str_eq(rendered(stack), "before:/app/a.py:5");

	/* Redefined twice after the mark: still the value at the mark. */
	define_code(1, "later", "/app/c.py", 9);
	ck_assert_str_eq(rendered(stack), "before:/app/a.py:5");
}
END_TEST

START_TEST(test_code_object_redefined_before_the_mark)
{
	define_code(1, "before", "/app/a.py", 5);
	define_code(1, "after", "/app/b.py", 7);
	switch_to(2);
	push(1);
	mark();
	ck_assert_str_eq(rendered(capture_current_stack(cap)), "after:/app/b.py:7");
}
END_TEST

START_TEST(test_unknown_code_object)
{
	/* memray's frameToLocation: an unknown code object renders as "", "", 0. */
	switch_to(2);
	push(99);
	mark();
	ck_assert_str_eq(rendered(capture_current_stack(cap)), "::0");
}
END_TEST

START_TEST(test_main_thread_skips_outer_frames)
{
	header.skipped_frames_on_main_tid = 2;
	define_code(1, "runpy", "/usr/lib/runpy.py", 1);
	define_code(2, "run", "/usr/lib/memray.py", 2);
	define_code(3, "main", "/app/run.py", 3);
	switch_to(MAIN_TID);
	mark();
	push(1);
	push(2);
	ck_assert_str_eq(rendered(capture_current_stack(cap)), "");
	push(3);
	uint32_t stack = capture_current_stack(cap);
	ck_assert_str_eq(rendered(stack), "main:/app/run.py:3");

	/* The same stack in another thread keeps every frame. */
	switch_to(5);
	push(1);
	push(2);
	push(3);
	ck_assert_uint_eq(capture_current_stack(cap), stack);
	ck_assert_str_eq(rendered(stack), "main:/app/run.py:3|run:/usr/lib/memray.py:2|runpy:/usr/lib/runpy.py:1");
}
END_TEST

/*
 * An allocation is placed on its thread's stack, in the current memory-map
 * generation; a free gets its thread only (memray's deallocations carry
 * no stack), whatever came before it.
 */
START_TEST(test_place_allocation_and_free)
{
	define_code(1, "main", "/app/run.py", 10);
	switch_to(2);
	push(1);
	apply((struct record){ .type = REC_MEMORY_MAP_START });
	uint32_t stack = capture_current_stack(cap);
	ck_assert_uint_ne(stack, 0);

	for (int i = 0; i < 3; i++) {
		struct allocation_place allocated = capture_place_allocation(cap, false);
		ck_assert_uint_eq(allocated.thread, capture_current_thread(cap));
		ck_assert_uint_eq(allocated.stack, stack);
		ck_assert_uint_eq(allocated.generation, 1);
		struct allocation_place freed = capture_place_allocation(cap, true);
		ck_assert_uint_eq(freed.thread, allocated.thread);
		ck_assert_uint_eq(freed.stack, 0);
		ck_assert_uint_eq(freed.generation, 0);
	}
}
END_TEST

START_TEST(test_generations)
{
	struct record segment_header = { .type = REC_SEGMENT_HEADER, .u.segment_header = {
		.filename = "/usr/lib/libc.so.6", .num_segments = 1, .load_address = 0x7f0000000000,
	} };

	/* A segment header before any MEMORY_MAP_START: memray fails (std::out_of_range). */
	ck_assert(!capture_apply(cap, &segment_header));
	ck_assert_uint_eq(capture_generation(cap), 0);
	ck_assert(!capture_has_generation(cap, 0));
	ck_assert(!capture_has_generation(cap, 1));

	apply((struct record){ .type = REC_MEMORY_MAP_START });
	apply(segment_header);
	apply((struct record){ .type = REC_SEGMENT, .u.segment = { .vaddr = 0, .memsz = 0x1000 } });
	apply((struct record){ .type = REC_MEMORY_MAP_START });
	ck_assert_uint_eq(capture_generation(cap), 2);
	ck_assert(capture_has_generation(cap, 1));
	ck_assert(capture_has_generation(cap, 2));
	ck_assert(!capture_has_generation(cap, 3));
}
END_TEST

static void
frame_index(uint64_t frame_id, uint64_t code_id)
{
	apply((struct record){ .type = REC_FRAME_INDEX, .u.frame_index = {
		.frame_id = frame_id, .code_id = code_id, .is_entry = true,
	} });
}

static void
trace_index(uint64_t parent, uint64_t frame_id)
{
	apply((struct record){ .type = REC_TRACE_INDEX, .u.trace_index = {
		.parent = parent, .frame_id = frame_id,
	} });
}

START_TEST(test_aggregated_trace_stacks)
{
	define_code(1, "main", "/app/run.py", 10);
	define_code(2, "work", "/app/work.py", 20);
	frame_index(100, 1);
	frame_index(200, 2);
	trace_index(0, 100);	/* node 1: main */
	trace_index(1, 200);	/* node 2: main -> work */
	trace_index(1, 999);	/* node 3: main -> an unknown frame */
	trace_index(7, 200);	/* node 4: a parent not older than itself counts as the root */
	mark();

	ck_assert_uint_eq(capture_trace_stack(cap, 0), 0);
	uint32_t work = capture_trace_stack(cap, 2);
	ck_assert_str_eq(rendered(work), "work:/app/work.py:20|main:/app/run.py:10");
	ck_assert_str_eq(rendered(capture_trace_stack(cap, 1)), "main:/app/run.py:10");
	ck_assert_str_eq(rendered(capture_trace_stack(cap, 3)), "::0|main:/app/run.py:10");
	ck_assert_str_eq(rendered(capture_trace_stack(cap, 4)), "work:/app/work.py:20");
	/* Past the last node: no stack. */
	ck_assert_uint_eq(capture_trace_stack(cap, 5), 0);
	/* Resolved once: the same id again. */
	ck_assert_uint_eq(capture_trace_stack(cap, 2), work);

	/* The same frames pushed live reach the same stack. */
	switch_to(2);
	push(1);
	push(2);
	ck_assert_uint_eq(capture_current_stack(cap), work);
}
END_TEST

static Suite *
capture_suite(void)
{
	Suite *s = suite_create("capture");
	TCase *tc = tcase_create("capture");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_stacks_shared_by_threads);
	tcase_add_loop_test(tc, test_call_tree_larger_than_the_child_cache, 0, 2);
	tcase_add_test(tc, test_place_allocation_and_free);
	tcase_add_test(tc, test_pop_past_the_bottom_stops_at_empty);
	tcase_add_test(tc, test_frames_before_any_context_switch);
	tcase_add_test(tc, test_thread_name_at_the_mark);
	tcase_add_test(tc, test_thread_name_before_any_switch_names_thread_zero);
	tcase_add_test(tc, test_nothing_before_the_first_mark);
	tcase_add_test(tc, test_code_object_at_the_mark);
	tcase_add_test(tc, test_code_object_redefined_before_the_mark);
	tcase_add_test(tc, test_unknown_code_object);
	tcase_add_test(tc, test_main_thread_skips_outer_frames);
	tcase_add_test(tc, test_generations);
	tcase_add_test(tc, test_aggregated_trace_stacks);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(capture_suite());
}
