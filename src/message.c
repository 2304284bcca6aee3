/* message: every line the program writes to stderr (see message.h). */
#include "message.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "progress.h"

static const char *input_name;

void
message_set_input(const char *name)
{
	input_name = name;
}

static void
vmessage(const char *kind, const char *fmt, va_list ap)
{
	progress_clear();	/* a progress line on the terminal would garble this one */
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
