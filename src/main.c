/*
 * memray-transform: turn a memray capture into a report, as a Unix filter.
 *
 * main only wires the command line to the pipeline: it opens the input,
 * sets up the output (a temporary file renamed into place for -o, so that
 * an error never leaves a partial report), and has one exit path.
 */
#define _XOPEN_SOURCE 700	/* realpath(), beside -D_POSIX_C_SOURCE */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "info.h"
#include "message.h"
#include "options.h"
#include "progress.h"
#include "transform.h"
#include "xmalloc.h"

/*
 * The -o temporary file, removed at exit unless renamed into place, and by
 * SIGHUP, SIGINT, SIGTERM or SIGXFSZ (volatile: the handler reads it).
 */
static char *volatile pending_output;
/* What pending_output is renamed to: -o FILE, or the file a link FILE names. */
static char *rename_to;

static void
remove_pending_output(void)
{
	if (pending_output != NULL)
		unlink(pending_output);
}

/* Remove the temporary file, then die of the signal as if not caught. */
static void
die_of_signal(int sig)
{
	remove_pending_output();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Catch the signals that end a run, except those ignored from the start (nohup). */
static void
catch_signals(void)
{
	static const int signals[] = { SIGHUP, SIGINT, SIGTERM, SIGXFSZ };

	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		struct sigaction old, sa = { .sa_handler = die_of_signal };
		sigemptyset(&sa.sa_mask);
		if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(signals[i], &sa, NULL);
	}
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

/*
 * A temporary file beside the output, so that rename() stays in one file
 * system.  An existing FILE is followed through symbolic links, so that a
 * link (-o /dev/stdout into a file) stays a link; if it is not a regular
 * file (/dev/null, a FIFO, a terminal, /dev/stdout into a pipe) it is
 * written directly, as renaming over it would replace the device itself.
 */
static FILE *
open_output(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0) {
		rename_to = S_ISREG(st.st_mode) ? realpath(path, NULL) : NULL;
		if (rename_to == NULL) {
			FILE *out = fopen(path, "w");
			if (out == NULL)
				error("cannot open %s: %s", path, strerror(errno));
			return out;
		}
	} else {
		rename_to = xstrdup(path);
	}
	size_t len = strlen(rename_to);
	char *tmp = xmalloc(len + sizeof ".XXXXXX");

	memcpy(tmp, rename_to, len);
	memcpy(tmp + len, ".XXXXXX", sizeof ".XXXXXX");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		error("cannot create %s: %s", path, strerror(errno));
		free(tmp);
		return NULL;
	}
	/* mkstemp makes it 0600: give it the mode a shell's > would (umask(0) returns the mask). */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	pending_output = tmp;
	catch_signals();
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
	/* The reader of a pipe went away (SIGPIPE blocked): nothing to say to anyone. */
	if (close_errno == EPIPE && path == NULL)
		return 1;
	if (status == 0 && close_errno != 0) {
		message_set_input(NULL);
		error("write error on %s: %s", name, strerror(close_errno));
		status = 1;
	}
	if (status == 0 && pending_output != NULL) {
		if (rename(pending_output, rename_to) != 0) {
			message_set_input(NULL);
			error("cannot rename to %s: %s", path, strerror(errno));
			status = 1;
		} else {
			char *renamed = pending_output;
			pending_output = NULL;	/* before free: the signal handler reads it */
			free(renamed);
		}
	}
	free(rename_to);
	rename_to = NULL;
	return status;
}

int
main(int argc, char **argv)
{
	struct options opts;
	int status = 1;
	FILE *out = stdout;

	/* A closed pipe ends us quietly, even if our parent ignored SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);
	options_parse(argc, argv, &opts);
	atexit(remove_pending_output);
	int fd = open_input(opts.input);
	if (fd >= 0 && opts.output != NULL)
		out = open_output(opts.output);
	if (fd >= 0 && out != NULL) {
		struct stat st;
		uint64_t size = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
		progress_init(opts.progress || isatty(STDERR_FILENO), size);
		/* -f summary: plain ASCII unless on a terminal with NO_COLOR (no-color.org) unset or empty. */
		const char *no_color = getenv("NO_COLOR");
		opts.transform.color = isatty(fileno(out)) && (no_color == NULL || *no_color == '\0');
		status = opts.info ? info_run(fd, out) : transform_run(fd, out, &opts.transform);
		progress_end();
	}
	if (out != NULL)
		status = close_output(out, opts.output, status);
	if (fd > STDIN_FILENO)
		close(fd);
	options_free(&opts);
	return status;
}
