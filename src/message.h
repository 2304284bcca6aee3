/*
 * message: every line the program writes to stderr.
 *
 * Messages have one form, "memray-transform: INPUT: TEXT", so that a
 * user running several transforms in a pipeline can tell which input a
 * line is about.  The input name is set once the input is known.
 */
#ifndef MT_MESSAGE_H
#define MT_MESSAGE_H

#include <stdnoreturn.h>

#define PROGRAM_NAME "memray-transform"

/* The name of the input being read ("stdin" for standard input), or NULL. */
void message_set_input(const char *name);

/*
 * A function to call before each message is printed, or NULL: progress
 * sets one that erases its line on the terminal, so that a message is not
 * garbled.  A hook rather than a call, so that message, which every module
 * uses, uses none of them.
 */
void message_set_before_print(void (*before_print)(void));

/* "memray-transform: INPUT: TEXT", then a newline. */
void error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "memray-transform: INPUT: warning: TEXT", then a newline. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* error(), then exit with status 1. */
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
