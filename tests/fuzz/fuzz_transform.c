/*
 * fuzz_transform: a libFuzzer target over the whole pipeline, from the
 * bytes of a capture to a written report (byte_source -> record_decoder
 * -> capture -> report -> writer), as `memray-transform` runs it.
 *
 * The input goes into a memfd (a real file descriptor, as the program
 * reads) and through transform_run() once per output format (every one
 * writer_names(", ") lists, so a new format is fuzzed too), for the mode
 * chosen by FUZZ_MODE: peak, leaks, temporary, info (--info), or all (the
 * default: every mode).  The formats that take no mode (statistics and
 * samples: -f stats, summary, timeline) run in peak mode only, as the
 * command line allows.  Options vary with the input's length, --thread,
 * --num-largest and --threads (1 or 2: the reader thread) included.  Reports go to a memory stream and
 * messages, which go to stderr, are caught in another one, so that the
 * target can check the documented outcome and not only the absence of
 * crashes:
 *
 *   - the status is 0 or 1, and the same for every format of rows (the
 *     others refuse more: aggregated captures, memray stats' failures);
 *   - status 1: nothing was written, and exactly one line of error,
 *     after at most one warning (-f stats may refuse a damaged capture's
 *     records only once they have been read);
 *   - status 0: at most one line of message, a warning.
 * Warnings of binaries that cannot be read for symbols (native captures),
 * of a --thread that matches no thread and of a name that is not valid
 * UTF-8 are not counted.  A line is a warning if it starts as one: an
 * error may quote the input, "warning: " included.
 *
 * A broken rule calls abort(), which libFuzzer reports as a crash with the
 * input saved.  Sanitizer reports write to file descriptor 2 directly and
 * are not caught.  Built by `./configure --enable-fuzzer CC=clang` and run
 * by `make fuzz` (tests/fuzz/run-fuzz); a saved input is replayed with
 * `tests/fuzz/fuzz_transform FILE`.
 */
#define _GNU_SOURCE	/* memfd_create */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "info.h"
#include "message.h"
#include "transform.h"
#include "writer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Bit set of the modes to run; MODE_INFO stands for --info. */
enum { MODE_PEAK = 1, MODE_LEAKS = 2, MODE_TEMPORARY = 4, MODE_INFO = 8, MODE_ALL = 15 };

static unsigned modes = MODE_ALL;
static int input_fd = -1;

#define MAX_WRITERS 16
static const struct writer_ops *writers[MAX_WRITERS];
static size_t n_writers;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *mode = getenv("FUZZ_MODE");

	(void)argc;
	(void)argv;
	if (mode == NULL || strcmp(mode, "all") == 0 || *mode == '\0')
		modes = MODE_ALL;
	else if (strcmp(mode, "peak") == 0)
		modes = MODE_PEAK;
	else if (strcmp(mode, "leaks") == 0)
		modes = MODE_LEAKS;
	else if (strcmp(mode, "temporary") == 0)
		modes = MODE_TEMPORARY;
	else if (strcmp(mode, "info") == 0)
		modes = MODE_INFO;
	else {
		fprintf(stderr, "fuzz_transform: FUZZ_MODE must be peak, leaks, temporary, info "
		    "or all, not '%s'\n", mode);
		exit(2);
	}
	/* "csv, gprof2dot, speedscope, ...": every format there is. */
	char names[256];
	snprintf(names, sizeof names, "%s", writer_names(", "));
	for (char *save, *name = strtok_r(names, ", ", &save); name != NULL && n_writers < MAX_WRITERS;
	     name = strtok_r(NULL, ", ", &save)) {
		writers[n_writers] = writer_find(name);
		if (writers[n_writers] == NULL) {
			fprintf(stderr, "fuzz_transform: no writer for '%s'\n", name);
			exit(2);
		}
		n_writers++;
	}
	input_fd = memfd_create("capture", 0);
	if (input_fd < 0) {
		perror("fuzz_transform: memfd_create");
		exit(2);
	}
	return 0;
}

/* Warnings that may come besides a run's one message, which the rules leave out. */
static const char *const aside_warnings[] = {
	"native frames are shown as",	/* a binary unread for its symbols (native_symbols.c) */
	"no thread has this id",	/* --thread (transform.c) */
	"is not valid UTF-8",		/* a name written with U+FFFD (utf8.c) */
};

/*
 * The lines of the messages (an unterminated last one counts) and the
 * warnings among them, both without the aside warnings.
 */
static void
count_messages(const char *text, size_t len, size_t *lines, size_t *warnings)
{
	static const char warning_start[] = PROGRAM_NAME ": warning: ";

	*lines = *warnings = 0;
	for (size_t start = 0, end; start < len; start = end + 1) {
		const char *line = text + start, *nl = memchr(line, '\n', len - start);
		end = nl ? (size_t)(nl - text) : len;
		bool warning = end - start >= sizeof warning_start - 1 &&
		    memcmp(line, warning_start, sizeof warning_start - 1) == 0;
		/* An aside is a warning; an error that quotes its words stays an error. */
		bool aside = false;
		for (size_t k = 0; warning && k < sizeof aside_warnings / sizeof *aside_warnings; k++)
			aside |= memmem(line, end - start, aside_warnings[k],
			    strlen(aside_warnings[k])) != NULL;
		*lines += !aside;
		*warnings += warning && !aside;
	}
}

static void
broken(const char *rule, const char *messages)
{
	fprintf(stderr, "fuzz_transform: broken rule: %s\nmessages:\n%s\n", rule,
	    messages ? messages : "");
	abort();
}

/*
 * Run one transform (opts) or --info (opts == NULL; with a reader thread
 * if info_threaded) over the input in input_fd; check the outcome and
 * return the status.
 */
static int
run_one(const struct transform_options *opts, bool info_threaded)
{
	char *report = NULL, *messages = NULL;
	size_t report_len = 0, messages_len = 0;
	FILE *out = open_memstream(&report, &report_len);
	FILE *err = open_memstream(&messages, &messages_len);
	FILE *saved_stderr = stderr;

	if (out == NULL || err == NULL || lseek(input_fd, 0, SEEK_SET) != 0)
		abort();
	stderr = err;
	int status = opts ? transform_run(input_fd, out, opts) :
	    info_run(input_fd, out, info_threaded);
	stderr = saved_stderr;
	fclose(out);
	fclose(err);

	size_t lines, warnings;
	count_messages(messages, messages_len, &lines, &warnings);
	if (status != 0 && status != 1)
		broken("status is 0 or 1", messages);
	if (status == 1 && report_len != 0)
		broken("an error writes no report", messages);
	if (status == 1 && (lines - warnings != 1 || warnings > 1))
		broken("an error is one line of message, after at most one warning", messages);
	if (status == 0 && lines > 1)
		broken("a report comes with at most one line of warning", messages);
	if (status == 0 && lines != warnings)
		broken("a report comes with a warning, not an error", messages);
	free(report);
	free(messages);
	return status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum report_mode report_modes[] = { REPORT_PEAK, REPORT_LEAKS, REPORT_TEMPORARY };
	/* --thread: none, the main thread of most captures, a name, a thread that is not there. */
	static const char *const thread_choices[][2] = {
		{ NULL, NULL }, { "0x1", NULL }, { "0x2", "worker-alpha" }, { "no-such-thread", NULL },
	};

	if (ftruncate(input_fd, 0) != 0 || pwrite(input_fd, data, size, 0) != (ssize_t)size)
		abort();
	for (int m = 0; m < 3; m++) {
		if (!(modes & (1u << m)))
			continue;
		/* Options that do not change the decoding vary with the input's length. */
		struct transform_options opts = {
			.mode = report_modes[m],
			/* Thresholds above 32 take the rings' address maps (report.c). */
			.threshold = report_modes[m] != REPORT_TEMPORARY ? 1 :
			    size % 4 == 3 ? 40 + size % 64 : 1 + size % 3,
			.crlf = size & 1,
			.strict = size & 2,
			.num_largest = 1 + size % 7,
			.threads = thread_choices[size / 4 % 4],
			.n_threads = size / 4 % 4 == 0 ? 0 : size / 4 % 4 == 2 ? 2 : 1,
			.cpu_threads = 1 + size / 16 % 2,
		};
		int first_status = -1;
		for (size_t w = 0; w < n_writers; w++) {
			opts.writer = writers[w];
			bool rows = opts.writer->row != NULL;
			/* Statistics and timelines take no mode (options.c). */
			if (!rows && opts.mode != REPORT_PEAK)
				continue;
			int status = run_one(&opts, false);
			if (!rows)
				continue;
			if (first_status >= 0 && status != first_status)
				broken("the status does not depend on the format", NULL);
			first_status = status;
		}
	}
	if (modes & MODE_INFO)
		run_one(NULL, size / 16 % 2 == 1);
	return 0;
}
