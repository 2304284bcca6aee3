/*
 * memray-transform: turn a memray capture into a report, as a Unix filter.
 *
 * main only wires the command line to the pipeline: it opens the input,
 * sets up the output (a temporary file renamed into place for -o, so that
 * an error never leaves a partial report), and has one exit path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "message.h"
#include "options.h"
#include "transform.h"
#include "xmalloc.h"

/* The -o temporary file, removed at exit unless renamed into place. */
static char *pending_output;

static void
remove_pending_output(void)
{
	if (pending_output != NULL)
		unlink(pending_output);
}

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
	if (fd < 0)
		error("cannot open: %s", strerror(errno));
	return fd;
}

/* A temporary file beside path, so that rename() stays in one file system. */
static FILE *
open_output(const char *path)
{
	size_t len = strlen(path);
	char *tmp = xmalloc(len + sizeof ".XXXXXX");

	memcpy(tmp, path, len);
	memcpy(tmp + len, ".XXXXXX", sizeof ".XXXXXX");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		error("cannot create %s: %s", path, strerror(errno));
		free(tmp);
		return NULL;
	}
	fchmod(fd, 0666 & ~umask(umask(0)));
	pending_output = tmp;
	return fdopen(fd, "w");
}

static int
close_output(FILE *out, const char *path, int status)
{
	const char *name = path ? path : "stdout";
	int close_errno = 0;

	if (fflush(out) != 0 || ferror(out))
		close_errno = errno ? errno : EIO;
	if (fclose(out) != 0 && close_errno == 0)
		close_errno = errno;
	if (status == 0 && close_errno != 0) {
		message_set_input(NULL);
		error("write error on %s: %s", name, strerror(close_errno));
		status = 1;
	}
	if (status == 0 && path != NULL) {
		if (rename(pending_output, path) != 0) {
			message_set_input(NULL);
			error("cannot rename to %s: %s", path, strerror(errno));
			status = 1;
		} else {
			free(pending_output);
			pending_output = NULL;
		}
	}
	return status;
}

int
main(int argc, char **argv)
{
	struct options opts;
	int status = 1;
	FILE *out = stdout;

	options_parse(argc, argv, &opts);
	atexit(remove_pending_output);
	int fd = open_input(opts.input);
	if (fd >= 0 && opts.output != NULL)
		out = open_output(opts.output);
	if (fd >= 0 && out != NULL)
		status = transform_run(fd, out, &opts.transform);
	if (out != NULL)
		status = close_output(out, opts.output, status);
	if (fd > STDIN_FILENO)
		close(fd);
	return status;
}
