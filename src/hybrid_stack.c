/* hybrid_stack: memray's hybrid stack of a native capture (see hybrid_stack.h). */
#include "hybrid_stack.h"

#include <string.h>

bool
hybrid_is_eval_frame(const char *function)
{
	/*
	 * memray: '"_PyEval_EvalFrameDefault" in symbol' (so also its .cold
	 * part) or 'symbol.startswith("_TAIL_CALL_")' (3.14's tail-calling
	 * interpreter).
	 */
	return strstr(function, "_PyEval_EvalFrameDefault") != NULL ||
	    strncmp(function, "_TAIL_CALL_", strlen("_TAIL_CALL_")) == 0;
}

size_t
hybrid_stack_merge(const struct frame_text *native, size_t n_native,
    const struct frame_text *python, const bool *is_entry, size_t n_python,
    uint64_t skip, struct frame_text *out)
{
	/* Entry frames replace native frames, non-entry frames are inserted. */
	size_t slots = n_native;
	for (size_t i = 0; i < n_python; i++)
		slots += !is_entry[i];

	/*
	 * Both stacks are paired from the oldest frame inwards, filling out
	 * from its end; h and p count down and go below zero, as memray's
	 * hidx and pidx do.  end is where the result stops: reaching the
	 * first kept Python frame of the main thread cuts off everything
	 * placed before it (memray: del hybrid_stack[hidx + 1:]).
	 */
	ptrdiff_t h = (ptrdiff_t)slots - 1;
	ptrdiff_t p = (ptrdiff_t)n_python - 1;
	size_t end = slots;
	/* skip >= len(P) makes first_kept negative: nothing is ever cut. */
	ptrdiff_t first_kept = skip < n_python ? p - (ptrdiff_t)skip : -1;

	for (size_t i = n_native; i-- > 0;) {
		if (p >= 0 && hybrid_is_eval_frame(native[i].function)) {
			do {
				if (skip != 0 && p == first_kept)
					end = (size_t)(h + 1);
				out[h--] = python[p--];
			} while (p >= 0 && !is_entry[p]);
		} else {
			out[h--] = native[i];
		}
	}
	if (p >= 0) {
		/* Too few eval-loop frames: the whole Python stack, unskipped. */
		memcpy(out, python, n_python * sizeof *out);
		return n_python;
	}
	/*
	 * The frames placed start at h + 1, which is 0 unless the entry flags
	 * are malformed (see hybrid_stack.h).  Pointer arithmetic stays inside
	 * out, which is NULL when there is nothing to merge.
	 */
	size_t first = (size_t)(h + 1);
	if (first > 0 && end > first)
		memmove(out, out + first, (end - first) * sizeof *out);
	return end - first;
}
