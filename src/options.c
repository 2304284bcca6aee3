/* options: the command line (see options.h). */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cpus.h"
#include "message.h"
#include "version.h"
#include "writer.h"
#include "xmalloc.h"

enum {
	OPT_LEAKS = 256,
	OPT_TEMPORARY,
	OPT_THRESHOLD,
	OPT_CRLF,
	OPT_STRICT,
	OPT_INFO,
	OPT_PROGRESS,
	OPT_COUNT,
	OPT_SPLIT_THREADS,
	OPT_SYMFS,
	OPT_NUM_LARGEST,
	OPT_THREAD,
	OPT_THREADS
};

/* getopt's short options (a leading ':' reports a missing argument apart). */
#define SHORT_OPTIONS ":f:o:hV"

static const struct option long_options[] = {
	{ "format", required_argument, NULL, 'f' },
	{ "output", required_argument, NULL, 'o' },
	{ "leaks", no_argument, NULL, OPT_LEAKS },
	{ "temporary-allocations", no_argument, NULL, OPT_TEMPORARY },
	{ "temporary-allocation-threshold", required_argument, NULL, OPT_THRESHOLD },
	{ "crlf", no_argument, NULL, OPT_CRLF },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "info", no_argument, NULL, OPT_INFO },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "split-threads", no_argument, NULL, OPT_SPLIT_THREADS },
	{ "symfs", required_argument, NULL, OPT_SYMFS },
	{ "num-largest", required_argument, NULL, OPT_NUM_LARGEST },
	{ "thread", required_argument, NULL, OPT_THREAD },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static noreturn void __attribute__((format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROGRAM_NAME ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry '" PROGRAM_NAME " --help' for more information.\n", stderr);
	exit(2);
}

/* Exit 0 after --help or --version, or 1 if stdout could not take the text (> /dev/full). */
static noreturn void
exit_after_stdout(void)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: write error on stdout: %s\n", PROGRAM_NAME,
		    strerror(errno ? errno : EIO));
		exit(1);
	}
	exit(0);
}

static noreturn void
help(void)
{
	printf("Usage: %s [OPTION]... [FILE]\n", PROGRAM_NAME);
	puts("Turn a memray capture file into a report, as `memray transform` does.\n"
	     "With no FILE, or when FILE is -, read standard input.  The capture may be\n"
	     "raw, lz4-compressed (memray's default) or zstd-compressed.\n"
	     "\n"
	     "  -f, --format=FORMAT   csv (default), gprof2dot, speedscope, folded (flame\n"
	     "                        graph input), pprof (gzipped protobuf, binary),\n"
	     "                        stats (memray stats --json: totals, histogram, top\n"
	     "                        locations and modules of every allocation), summary\n"
	     "                        (the same as memray stats prints it) or timeline\n"
	     "                        (CSV: RSS and heap over time); any letter case\n"
	     "  -o, --output=FILE     write the report to FILE (only once it is complete;\n"
	     "                        - is standard output)\n"
	     "      --leaks           allocations never freed, instead of the high-water mark\n"
	     "      --temporary-allocations\n"
	     "                        allocations freed soon after they were made\n"
	     "      --temporary-allocation-threshold=N\n"
	     "                        the same, freed within N other allocations of the thread\n"
	     "      --crlf            end CSV lines with CR LF, as memray does\n"
	     "      --strict          a damaged record stream is an error (exit 1), not a warning\n"
	     "      --info            describe the capture (header, record counts) instead\n"
	     "      --progress        show progress on stderr even when it is not a terminal\n"
	     "      --threads=N       1: decode the capture in the thread that makes the\n"
	     "                        report; 2 or more: in a thread of its own (the default\n"
	     "                        with 2 CPUs or more, but for --info)\n"
	     "      --count=WHAT      -f folded: weigh stacks by bytes (default) or allocations\n"
	     "      --split-threads   one row per stack and thread, not per stack\n"
	     "      --thread=THREAD   only the allocations of THREAD, a thread id as the\n"
	     "                        reports print it (0x2) or a name; repeatable\n"
	     "      --num-largest=N   -f stats, summary: entries per top list (default 5)\n"
	     "      --symfs=DIR       native captures: read the traced machine's binaries\n"
	     "                        (and debug files) under DIR, e.g. a copy of its root\n"
	     "  -h, --help            show this help and exit\n"
	     "  -V, --version         show the version, the libraries, the formats and the\n"
	     "                        capture versions, and exit\n"
	     "\n"
	     "The default report is the high-water mark: what was live when the heap peaked.\n"
	     "Exit status: 0 on success (also when a damaged capture was reported up to the\n"
	     "damage, with a warning), 1 on error, 2 on a usage error.");
	exit_after_stdout();
}

/*
 * The usage error for getopt_long's ':' (a missing argument) or '?',
 * naming the option as the user wrote it.  In a group such as -xy,
 * getopt_long stays on the word until its last letter, so argv[optind - 1]
 * may be the word before: an unknown short option is named by its letter,
 * optopt.  A missing argument, an unknown or ambiguous long option (optopt
 * 0) and a long option given an argument it takes none of (optopt is its
 * value: 'h', 'V' or above UCHAR_MAX) come once getopt_long has moved past
 * their word, argv[optind - 1].
 */
static noreturn void
option_error(int c, char **argv)
{
	const char *word = argv[optind - 1];
	bool is_long = strncmp(word, "--", 2) == 0;

	if (c == ':') {
		if (is_long)
			usage_error("option '%s' needs an argument", word);
		usage_error("option '-%c' needs an argument", optopt);
	}
	if (optopt != 0 && optopt <= UCHAR_MAX &&
	    (optopt == ':' || strchr(SHORT_OPTIONS, optopt) == NULL))
		usage_error("unknown option '-%c'", optopt);
	size_t len = strcspn(word, "=");
	if (optopt != 0)
		usage_error("option '%.*s' takes no argument", (int)len, word);
	int matches = 0;
	for (const struct option *o = long_options; o->name != NULL; o++)
		matches += len > 2 && strncmp(o->name, word + 2, len - 2) == 0;
	usage_error("%s option '%.*s'", matches > 1 ? "ambiguous" : "unknown", (int)len, word);
}

/* name if no report option came before it, else the first one. */
static const char *
first_of(const char *first, const char *name)
{
	return first != NULL ? first : name;
}

/* --symfs must name a directory: a mistake is a usage error, not a warning per binary later. */
static void
check_symfs(const char *dir)
{
	struct stat st;

	if (stat(dir, &st) != 0)
		usage_error("--symfs '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		usage_error("--symfs '%s' is not a directory", dir);
}

/* A decimal number from 0 to max, or a usage error naming what it is. */
static uint64_t
parse_number(const char *arg, uint64_t max, const char *what)
{
	char *end;
	uintmax_t n;

	errno = 0;
	n = strtoumax(arg, &end, 10);
	if (*arg == '\0' || *arg == '-' || *end != '\0' || errno != 0 || n > max)
		usage_error("invalid %s '%s'", what, arg);
	return (uint64_t)n;
}

/*
 * --threads when not given: a reader thread where the process may use a
 * second CPU (usable_cpus).  Not for --info, whose only work is the
 * decoding (10^7 records: 0.14 s with one thread, 0.25 s with two).  Every
 * report took less wall time with two (10^7 records, least of 5):
 * temporary mode with a threshold of 1 0.32 s against 0.37 s, 16 0.33 s
 * against 0.44 s, 1000 0.45 s against 0.77 s; ChangeLog, 2026-12-03.
 */
static unsigned
default_threads(const struct options *opts)
{
	return usable_cpus() < 2 || opts->info ? 1 : 2;
}

void
options_parse(int argc, char **argv, struct options *opts)
{
	const char *mode_option = NULL;
	const char *count_option = NULL;
	const char *report_option = NULL;	/* the first option that shapes a report */
	const char *num_largest_option = NULL;
	int c;

	memset(opts, 0, sizeof *opts);
	/* Room for every argument to be a --thread. */
	const char **threads = xcalloc((size_t)argc + 1, sizeof *threads);
	opts->transform.threads = threads;
	opts->transform.writer = &csv_writer;
	opts->transform.mode = REPORT_PEAK;
	opts->transform.num_largest = 5;
	opterr = 0;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			report_option = first_of(report_option, "-f");
			opts->transform.writer = writer_find(optarg);
			if (opts->transform.writer == NULL)
				usage_error("unknown format '%s' (known: %s)", optarg, writer_names(", "));
			break;
		case 'o':
			/* "-" is standard output, as it is standard input for FILE. */
			if (*optarg == '\0')
				usage_error("-o/--output needs a file name (- for standard output), "
				    "not an empty one");
			opts->output = strcmp(optarg, "-") == 0 ? NULL : optarg;
			break;
		case OPT_LEAKS:
		case OPT_TEMPORARY:
		case OPT_THRESHOLD: {
			const char *name = c == OPT_LEAKS ? "--leaks" : c == OPT_TEMPORARY ?
			    "--temporary-allocations" : "--temporary-allocation-threshold";
			if (mode_option != NULL && strcmp(mode_option, name) != 0)
				usage_error("%s and %s cannot be combined", mode_option, name);
			mode_option = name;
			report_option = first_of(report_option, name);
			opts->transform.mode = c == OPT_LEAKS ? REPORT_LEAKS : REPORT_TEMPORARY;
			opts->transform.threshold = c == OPT_THRESHOLD ?
			    parse_number(optarg, UINT64_MAX, "temporary allocation threshold") : 1;
			break;
		}
		case OPT_CRLF:
			opts->transform.crlf = true;
			report_option = first_of(report_option, "--crlf");
			break;
		case OPT_STRICT:
			opts->transform.strict = true;
			report_option = first_of(report_option, "--strict");
			break;
		case OPT_INFO:
			opts->info = true;
			break;
		case OPT_PROGRESS:
			opts->progress = true;
			break;
		case OPT_COUNT:
			count_option = optarg;
			report_option = first_of(report_option, "--count");
			if (strcmp(optarg, "bytes") == 0)
				opts->transform.count = WRITER_COUNT_BYTES;
			else if (strcmp(optarg, "allocations") == 0)
				opts->transform.count = WRITER_COUNT_ALLOCATIONS;
			else
				usage_error("invalid --count '%s' (known: bytes, allocations)", optarg);
			break;
		case OPT_SPLIT_THREADS:
			opts->transform.split_threads = true;
			report_option = first_of(report_option, "--split-threads");
			break;
		case OPT_SYMFS:
			opts->transform.symfs = optarg;
			report_option = first_of(report_option, "--symfs");
			break;
		case OPT_THREAD:
			if (*optarg == '\0')
				usage_error("--thread needs a thread id or name");
			threads[opts->transform.n_threads++] = optarg;
			report_option = first_of(report_option, "--thread");
			break;
		case OPT_THREADS:
			opts->transform.cpu_threads = (unsigned)parse_number(optarg, UINT_MAX,
			    "--threads");
			if (opts->transform.cpu_threads == 0)
				usage_error("invalid --threads '%s' (at least 1)", optarg);
			break;
		case OPT_NUM_LARGEST:
			/* memray's -n takes a positive int. */
			num_largest_option = optarg;
			report_option = first_of(report_option, "--num-largest");
			opts->transform.num_largest = parse_number(optarg, SIZE_MAX, "--num-largest");
			if (opts->transform.num_largest == 0)
				usage_error("invalid --num-largest '%s' (at least 1)", optarg);
			break;
		case 'h':
			help();
		case 'V':
			version_print(stdout);
			exit_after_stdout();
		default:
			option_error(c, argv);
		}
	}
	/* An option that cannot apply is refused, not ignored. */
	if (opts->info && report_option != NULL)
		usage_error("--info describes the capture and makes no report: %s does not apply",
		    report_option);
	/* Only folded output has one weight to choose; the others would ignore it. */
	if (count_option != NULL && opts->transform.writer != &folded_writer)
		usage_error("--count applies to -f folded only");
	/* Only CSV has lines that memray ends with CR LF. */
	if (opts->transform.crlf && opts->transform.writer != &csv_writer)
		usage_error("--crlf applies to -f csv only");
	/* speedscope has no place for a thread and merges identical stacks: the split would not show. */
	if (opts->transform.split_threads && opts->transform.writer == &speedscope_writer)
		usage_error("--split-threads does not apply to -f speedscope, which merges "
		    "identical stacks");
	if (opts->transform.symfs != NULL)
		check_symfs(opts->transform.symfs);
	/* Statistics describe every allocation, as memray stats does, a timeline the heap: no mode. */
	if ((opts->transform.writer->statistics != NULL || opts->transform.writer->sample != NULL) &&
	    mode_option != NULL)
		usage_error("-f %s describes every allocation; %s does not apply",
		    opts->transform.writer->name, mode_option);
	if (num_largest_option != NULL && opts->transform.writer->statistics == NULL)
		usage_error("--num-largest applies to -f stats and -f summary only");
	if (opts->transform.cpu_threads == 0)
		opts->transform.cpu_threads = default_threads(opts);
	if (argc - optind > 1)
		usage_error("one capture at a time (got %d files)", argc - optind);
	if (optind < argc)
		opts->input = argv[optind];
}

void
options_free(struct options *opts)
{
	free((void *)opts->transform.threads);
}
