/*
 * test_hybrid_stack: memray's hybrid stack (hybrid_stack.h) with the worked
 * example of doc/capture-format.md §6.4 and its fallback rules.
 */
#include <check.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hybrid_stack.h"
#include "support.h"

#define MAX_FRAMES 32

static struct frame_text
frame(const char *function)
{
	return (struct frame_text){ function, "file", 1 };
}

/* Merge, then compare the functions with want (NULL-terminated). */
static void
check_merge(const char *const *native, const char *const *python, const bool *is_entry,
    unsigned long long skip, const char *const *want)
{
	struct frame_text n[MAX_FRAMES], p[MAX_FRAMES], out[2 * MAX_FRAMES];
	size_t n_native = 0, n_python = 0, n_want = 0;

	for (; native[n_native] != NULL; n_native++)
		n[n_native] = frame(native[n_native]);
	for (; python[n_python] != NULL; n_python++)
		p[n_python] = frame(python[n_python]);
	while (want[n_want] != NULL)
		n_want++;
	size_t got = hybrid_stack_merge(n, n_native, p, is_entry, n_python, skip, out);
	ck_assert_uint_eq(got, n_want);
	for (size_t i = 0; i < got; i++)
		ck_assert_str_eq(out[i].function, want[i]);
}

/* §6.4's worked example: N and P, most recent first. */
static const char *const example_native[] = {
	"PyList_New", "_PyEval_EvalFrameDefault", "PyObject_Vectorcall",
	"_PyEval_EvalFrameDefault", "PyRun_SimpleString", "_PyEval_EvalFrameDefault", "main",
	NULL,
};
static const char *const example_python[] = { "inner", "outer", "<module>", "_run_code", NULL };
static const bool example_entry[] = { false, true, true, true };

static const char *const example_unskipped[] = {
	"PyList_New", "inner", "outer", "PyObject_Vectorcall", "<module>",
	"PyRun_SimpleString", "_run_code", "main", NULL,
};

START_TEST(test_example_skip_0)
{
	check_merge(example_native, example_python, example_entry, 0, example_unskipped);
}
END_TEST

START_TEST(test_example_skip_1)
{
	/* Everything older than <module>, native frames included, is dropped. */
	static const char *const want[] = {
		"PyList_New", "inner", "outer", "PyObject_Vectorcall", "<module>", NULL,
	};

	check_merge(example_native, example_python, example_entry, 1, want);
}
END_TEST

START_TEST(test_example_skip_3)
{
	/* The first kept frame is the non-entry inner, reached inside outer's group. */
	static const char *const want[] = { "PyList_New", "inner", NULL };

	check_merge(example_native, example_python, example_entry, 3, want);
}
END_TEST

START_TEST(test_example_skip_4)
{
	/* skip >= len(P): nothing is dropped (the Python-only stack would drop all). */
	check_merge(example_native, example_python, example_entry, 4, example_unskipped);
	check_merge(example_native, example_python, example_entry, 100, example_unskipped);
}
END_TEST

START_TEST(test_too_few_eval_frames)
{
	/* Fewer eval loops than entry frames: the whole Python stack, not skipped. */
	static const char *const native[] = { "malloc", "_PyEval_EvalFrameDefault", "main", NULL };
	static const char *const python[] = { "f", "g", "<module>", NULL };
	static const bool entry[] = { true, true, true };

	check_merge(native, python, entry, 0, python);
	check_merge(native, python, entry, 2, python);
}
END_TEST

START_TEST(test_no_native_stack)
{
	/* Native id 0 or nothing symbolized: the Python stack, with no skipping. */
	static const char *const none[] = { NULL };
	static const char *const python[] = { "f", "<module>", "runpy", NULL };
	static const bool entry[] = { true, true, true };

	check_merge(none, python, entry, 1, python);
}
END_TEST

START_TEST(test_no_python_stack)
{
	/* The native stack unchanged, eval loops included; both empty: nothing. */
	static const char *const none[] = { NULL };
	static const char *const native[] = { "malloc", "_PyEval_EvalFrameDefault", "main", NULL };

	check_merge(native, none, NULL, 0, native);
	check_merge(native, none, NULL, 3, native);
	check_merge(none, none, NULL, 0, none);
}
END_TEST

START_TEST(test_extra_eval_frames_stay_native)
{
	/* Matching goes outermost first; eval loops left over stay as they are. */
	static const char *const native[] = {
		"malloc", "_PyEval_EvalFrameDefault", "_PyEval_EvalFrameDefault", "main", NULL,
	};
	static const char *const python[] = { "f", NULL };
	static const bool entry[] = { true };
	static const char *const want[] = { "malloc", "_PyEval_EvalFrameDefault", "f", "main", NULL };

	check_merge(native, python, entry, 0, want);
}
END_TEST

START_TEST(test_eval_frame_names)
{
	ck_assert(hybrid_is_eval_frame("_PyEval_EvalFrameDefault"));
	ck_assert(hybrid_is_eval_frame("_PyEval_EvalFrameDefault.cold"));
	ck_assert(hybrid_is_eval_frame("x_PyEval_EvalFrameDefaultx"));
	ck_assert(hybrid_is_eval_frame("_TAIL_CALL_LOAD_FAST"));
	ck_assert(!hybrid_is_eval_frame("x_TAIL_CALL_LOAD_FAST"));
	ck_assert(!hybrid_is_eval_frame("_PyEval_EvalFrame"));
	ck_assert(!hybrid_is_eval_frame("<unknown>"));
}
END_TEST

START_TEST(test_tail_call_boundaries)
{
	/* 3.14's tail-calling interpreter: _TAIL_CALL_* frames are the boundaries. */
	static const char *const native[] = {
		"malloc", "_TAIL_CALL_CALL", "_PyEval_Vector", "_TAIL_CALL_CALL", "main", NULL,
	};
	static const char *const python[] = { "f", "<module>", NULL };
	static const bool entry[] = { true, true };
	static const char *const want[] = { "malloc", "f", "_PyEval_Vector", "<module>", "main", NULL };

	check_merge(native, python, entry, 0, want);
}
END_TEST

START_TEST(test_malformed_entry_flags)
{
	/*
	 * The oldest Python frame is no entry frame: the slots do not add up
	 * (memray: AssertionError).  The frames placed are returned.
	 */
	static const char *const native[] = { "malloc", "_PyEval_EvalFrameDefault", "main", NULL };
	static const char *const python[] = { "f", "g", NULL };
	static const bool entry[] = { false, false };
	static const char *const want[] = { "malloc", "f", "g", "main", NULL };

	check_merge(native, python, entry, 0, want);
}
END_TEST

START_TEST(test_nothing_to_merge)
{
	/* The caller has no frames and no array: nothing is placed or moved. */
	ck_assert_uint_eq(hybrid_stack_merge(NULL, 0, NULL, NULL, 0, 0, NULL), 0);
	ck_assert_uint_eq(hybrid_stack_merge(NULL, 0, NULL, NULL, 0, 4, NULL), 0);
}
END_TEST

static Suite *
hybrid_stack_suite(void)
{
	Suite *s = suite_create("hybrid_stack");
	TCase *tc;

	tc = tcase_create("worked example");
	tcase_add_test(tc, test_example_skip_0);
	tcase_add_test(tc, test_example_skip_1);
	tcase_add_test(tc, test_example_skip_3);
	tcase_add_test(tc, test_example_skip_4);
	suite_add_tcase(s, tc);

	tc = tcase_create("fallbacks");
	tcase_add_test(tc, test_too_few_eval_frames);
	tcase_add_test(tc, test_no_native_stack);
	tcase_add_test(tc, test_no_python_stack);
	tcase_add_test(tc, test_extra_eval_frames_stay_native);
	tcase_add_test(tc, test_malformed_entry_flags);
	tcase_add_test(tc, test_nothing_to_merge);
	suite_add_tcase(s, tc);

	tc = tcase_create("boundaries");
	tcase_add_test(tc, test_eval_frame_names);
	tcase_add_test(tc, test_tail_call_boundaries);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(hybrid_stack_suite());
}
