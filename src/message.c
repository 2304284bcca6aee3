/* message: every line the program writes to stderr (see message.h). */
#include "message.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static const char *input_name;
static void (*before_print_hook)(void);

void
message_set_input(const char *name)
{
	input_name = name;
}

void
message_set_before_print(void (*before_print)(void))
{
	before_print_hook = before_print;
}

static void
vmessage(const char *kind, const char *fmt, va_list ap)
{
	if (before_print_hook != NULL)
		before_print_hook();
	fputs(PROGRAM_NAME ": ", stderr);
	if (input_name != NULL)
		fprintf(stderr, "%s: ", input_name);
	if (kind != NULL)
		fprintf(stderr, "%s: ", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
}

void
warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning", fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage(NULL, fmt, ap);
	va_end(ap);
	exit(1);
}
