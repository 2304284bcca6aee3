/*
 * memray-transform: turn a memray capture into a report, as a Unix filter.
 *
 * main only wires the command line to the pipeline: it opens the input,
 * the output (output.c: a temporary file renamed into place for -o), runs
 * the transform or --info, and has one exit path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "info.h"
#include "message.h"
#include "options.h"
#include "output.h"
#include "progress.h"
#include "transform.h"

static int
open_input(const char *path)
{
	if (path == NULL || strcmp(path, "-") == 0) {
		message_set_input("stdin");
		if (isatty(STDIN_FILENO)) {
			error("refusing to read a binary capture from a terminal; "
			    "give a FILE or redirect standard input");
			return -1;
		}
		return STDIN_FILENO;
	}
	message_set_input(path);
	int fd = open(path, O_RDONLY);
	struct stat st;
	if (fd < 0) {
		error("cannot open: %s", strerror(errno));
	} else if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		error("is a directory");	/* read() would say EISDIR */
		close(fd);
		fd = -1;
	}
	return fd;
}

int
main(int argc, char **argv)
{
	struct options opts;
	int status = 1;
	FILE *out = NULL;

	options_parse(argc, argv, &opts);
	output_catch_signals();
	int fd = open_input(opts.input);
	if (fd >= 0)
		out = output_open(opts.output, fd);
	if (out != NULL) {
		struct stat st;
		uint64_t size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		progress_init(opts.progress || isatty(STDERR_FILENO), size);
		/* -f summary: plain ASCII unless on a terminal with NO_COLOR (no-color.org) unset or empty. */
		const char *no_color = getenv("NO_COLOR");
		opts.transform.color = isatty(fileno(out)) && (no_color == NULL || *no_color == '\0');
		status = opts.info ? info_run(fd, out, opts.transform.cpu_threads > 1) :
		    transform_run(fd, out, &opts.transform);
		progress_end();
		status = output_close(out, status);
	}
	if (fd > STDIN_FILENO)
		close(fd);
	options_free(&opts);
	return status;
}
