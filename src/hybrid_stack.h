/*
 * hybrid_stack: memray's hybrid stack of a native capture
 * (doc/capture-format.md §6.4; memray 1.20 _memray.pyx: hybrid_stack_trace).
 *
 * A native stack and a Python stack, both most recent frame first, become
 * one: going from the outermost frames inwards, every native eval-loop frame
 * (_PyEval_EvalFrameDefault, or a 3.14 _TAIL_CALL_* function) is replaced by
 * the Python entry frame it evaluated plus the non-entry frames it ran
 * inline.  On the main thread everything older than the first kept Python
 * frame (the tracker's own frames) is dropped, once that frame is reached.
 * When there are fewer eval-loop frames than Python entry frames (stripped
 * interpreter, failed unwinding, no native stack) the result is the whole
 * Python stack, with no main-thread skipping.
 *
 * Pure: it works on arrays and allocates nothing.
 */
#ifndef MT_HYBRID_STACK_H
#define MT_HYBRID_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* Whether a native function is an eval loop that a Python frame replaces. */
bool hybrid_is_eval_frame(const char *function);

/*
 * Merge native[n_native] and python[n_python] (is_entry[i]: python[i] is an
 * entry frame) into out, which has room for n_native + n_python frames, and
 * return the number of frames: most recent first.  skip is
 * skipped_frames_on_main_tid for rows of the main thread, else 0.
 *
 * memray asserts that the slots add up; with entry flags no interpreter
 * writes (the oldest Python frame a non-entry one) they do not, memray
 * fails with an AssertionError, and this returns the frames placed.
 */
size_t hybrid_stack_merge(const struct frame_text *native, size_t n_native,
    const struct frame_text *python, const bool *is_entry, size_t n_python,
    uint64_t skip, struct frame_text *out);

#endif
