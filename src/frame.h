/*
 * frame: one frame of a stack as the reports show it, shared by the
 * layers that produce frames (capture, native_symbols, hybrid_stack) and
 * those that print them (report rows, the writers).
 */
#ifndef MT_FRAME_H
#define MT_FRAME_H

#include <stdint.h>

struct frame_text {
	const char *function;
	const char *file;
	int32_t line;
};

#endif
