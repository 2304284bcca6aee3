/* output: where the report goes, and the signals that end a run (see output.h). */
#define _XOPEN_SOURCE 700	/* realpath(), beside -D_POSIX_C_SOURCE */

#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "message.h"
#include "progress.h"
#include "xmalloc.h"

/*
 * The -o temporary file, removed at exit unless renamed into place, and by
 * the signals that end a run (volatile: the handler reads it).
 */
static char *volatile pending_output;
/*
 * -o FILE as given (NULL: stdout), and what pending_output is renamed to:
 * FILE, or the file a symbolic link FILE names.
 */
static const char *output_path;
static char *rename_to;
/* The stream's buffer (see buffered), freed once the stream is closed. */
static char *output_buffer;

/*
 * The report's stream buffer.  glibc's is the destination's block size,
 * 4 KiB for a pipe, /dev/null or a file here: leaves' 29 MB of CSV took
 * 7,118 write() calls, each a trip through the kernel.  A terminal keeps
 * its line buffering.
 */
#define OUTPUT_BUFFER ((size_t)64 << 10)

static void
remove_pending_output(void)
{
	if (pending_output != NULL)
		unlink(pending_output);
}

/*
 * Erase the progress line and remove the temporary file, then die of the
 * signal as if it had not been caught.  Only async-signal-safe calls.
 */
static void
die_of_signal(int sig)
{
	progress_erase_from_signal_handler();
	remove_pending_output();
	signal(sig, SIG_DFL);
	raise(sig);
}

void
output_catch_signals(void)
{
	/* A hangup, ^C, kill, a closed pipe, and ulimit -t and -f. */
	static const int signals[] = { SIGHUP, SIGINT, SIGTERM, SIGPIPE, SIGXCPU, SIGXFSZ };

	/* A closed pipe ends us quietly, even if our parent ignored SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);
	for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
		struct sigaction old, sa = { .sa_handler = die_of_signal };
		sigemptyset(&sa.sa_mask);
		if (sigaction(signals[i], NULL, &old) == 0 && old.sa_handler != SIG_IGN)
			sigaction(signals[i], &sa, NULL);
	}
}

/* Whether st, the existing FILE, is the regular file the capture is read from. */
static bool
is_input(const struct stat *st, int input_fd)
{
	struct stat in;

	return fstat(input_fd, &in) == 0 && S_ISREG(in.st_mode) && in.st_dev == st->st_dev &&
	    in.st_ino == st->st_ino;
}

/*
 * Give the temporary file fd the owner, group and permission bits of the
 * file it replaces, as a shell's > keeps them by writing through the file:
 * the owner where the process may set it (root), the group where it may
 * (root, or a member of the group).  If the group cannot be kept, group
 * and others get only the bits both had, so that nobody can read the new
 * report who could not read the old one (xz keeps a file's group the same
 * way).  setuid, setgid and sticky bits are not kept.
 */
static void
keep_owner_and_mode(int fd, const struct stat *old)
{
	mode_t mode = old->st_mode & 0777;

	if (fchown(fd, old->st_uid, (gid_t)-1) != 0) {
		/* not root: the new file is the process's own */
	}
	if (fchown(fd, (uid_t)-1, old->st_gid) != 0) {
		mode_t both = (mode >> 3) & mode & 07;
		mode = (mode & 0700) | both << 3 | both;
	}
	fchmod(fd, mode);
}

/*
 * Create the temporary file beside target, the file it will be renamed
 * to, so that rename() stays in one file system.  replaced: the stat of
 * the existing target, or NULL for a new file.
 */
static FILE *
open_temporary(const char *path, char *target, const struct stat *replaced)
{
	size_t len = strlen(target);
	char *tmp = xmalloc(len + sizeof ".XXXXXX");

	memcpy(tmp, target, len);
	memcpy(tmp + len, ".XXXXXX", sizeof ".XXXXXX");
	int fd = mkstemp(tmp);
	if (fd < 0) {
		error("cannot create %s: %s", path, strerror(errno));
		free(tmp);
		free(target);
		return NULL;
	}
	if (replaced != NULL) {
		keep_owner_and_mode(fd, replaced);
	} else {
		/* mkstemp makes it 0600: give it the mode a shell's > would (umask(0) returns the mask). */
		mode_t mask = umask(0);
		umask(mask);
		fchmod(fd, 0666 & ~mask);
	}
	rename_to = target;
	pending_output = tmp;
	return fdopen(fd, "w");
}

/*
 * An existing FILE is followed through symbolic links, so that a link
 * (-o /dev/stdout into a file) stays a link; if it is not a regular file
 * (/dev/null, a FIFO, a terminal, /dev/stdout into a pipe) it is written
 * directly, as renaming over it would replace the device itself.  A
 * regular file is refused if it is the input, or has other names (hard
 * links) that a rename would leave holding the old file: writing through
 * it instead could leave it half-written.
 */
static FILE *
open_destination(const char *path, int input_fd)
{
	struct stat st;

	output_path = path;
	if (path == NULL)
		return stdout;
	atexit(remove_pending_output);
	if (stat(path, &st) != 0)
		return open_temporary(path, xstrdup(path), NULL);
	if (!S_ISREG(st.st_mode)) {
		FILE *out = fopen(path, "w");
		if (out == NULL)
			error("cannot open %s: %s", path, strerror(errno));
		return out;
	}
	if (is_input(&st, input_fd)) {
		error("refusing to write the report over the input (-o %s)", path);
		return NULL;
	}
	if (st.st_nlink > 1) {
		error("refusing to replace %s: it has %ju hard links, and the other names would keep the old file",
		    path, (uintmax_t)st.st_nlink);
		return NULL;
	}
	/* A shell's > cannot write a file without write permission: neither do we. */
	if (faccessat(AT_FDCWD, path, W_OK, AT_EACCESS) != 0) {
		error("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	char *target = realpath(path, NULL);
	if (target == NULL) {
		error("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	return open_temporary(path, target, &st);
}

/* out (NULL: none), with a buffer of OUTPUT_BUFFER bytes unless it is a terminal. */
static FILE *
buffered(FILE *out)
{
	if (out != NULL && !isatty(fileno(out))) {
		output_buffer = xmalloc(OUTPUT_BUFFER);
		setvbuf(out, output_buffer, _IOFBF, OUTPUT_BUFFER);
	}
	return out;
}

FILE *
output_open(const char *path, int input_fd)
{
	return buffered(open_destination(path, input_fd));
}

int
output_close(FILE *out, int status)
{
	const char *name = output_path ? output_path : "stdout";
	int close_errno = 0;

	if (fflush(out) != 0 || ferror(out))
		close_errno = errno ? errno : EIO;
	if (fclose(out) != 0 && close_errno == 0)
		close_errno = errno;
	free(output_buffer);
	output_buffer = NULL;
	/* The reader of a pipe went away (SIGPIPE blocked): nothing to say to anyone. */
	if (close_errno == EPIPE && output_path == NULL)
		return 1;
	if (status == 0 && close_errno != 0) {
		message_set_input(NULL);
		error("write error on %s: %s", name, strerror(close_errno));
		status = 1;
	}
	if (status == 0 && pending_output != NULL) {
		if (rename(pending_output, rename_to) != 0) {
			message_set_input(NULL);
			error("cannot rename to %s: %s", output_path, strerror(errno));
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
