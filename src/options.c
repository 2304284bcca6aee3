/* options: the command line (see options.h). */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "message.h"
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
	OPT_THREAD
};

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
	     "  -o, --output=FILE     write the report to FILE (only once it is complete)\n"
	     "      --leaks           allocations never freed, instead of the high-water mark\n"
	     "      --temporary-allocations\n"
	     "                        allocations freed soon after they were made\n"
	     "      --temporary-allocation-threshold=N\n"
	     "                        the same, freed within N other allocations of the thread\n"
	     "      --crlf            end CSV lines with CR LF, as memray does\n"
	     "      --strict          a damaged record stream is an error (exit 1), not a warning\n"
	     "      --info            describe the capture (header, record counts) instead\n"
	     "      --progress        show progress on stderr even when it is not a terminal\n"
	     "      --count=WHAT      -f folded: weigh stacks by bytes (default) or allocations\n"
	     "      --split-threads   one row per stack and thread, not per stack\n"
	     "      --thread=THREAD   only the allocations of THREAD, a thread id as the\n"
	     "                        reports print it (0x2) or a name; repeatable\n"
	     "      --num-largest=N   -f stats, summary: entries per top list (default 5)\n"
	     "      --symfs=DIR       native captures: read the traced machine's binaries\n"
	     "                        (and debug files) under DIR, e.g. a copy of its root\n"
	     "  -h, --help            show this help and exit\n"
	     "  -V, --version         show the version and exit\n"
	     "\n"
	     "The default report is the high-water mark: what was live when the heap peaked.\n"
	     "Exit status: 0 on success (also when a damaged capture was reported up to the\n"
	     "damage, with a warning), 1 on error, 2 on a usage error.");
	exit_after_stdout();
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

void
options_parse(int argc, char **argv, struct options *opts)
{
	const char *mode_option = NULL;
	const char *count_option = NULL;
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
	while ((c = getopt_long(argc, argv, ":f:o:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			opts->transform.writer = writer_find(optarg);
			if (opts->transform.writer == NULL)
				usage_error("unknown format '%s' (known: %s)", optarg, writer_names());
			break;
		case 'o':
			opts->output = optarg;
			break;
		case OPT_LEAKS:
		case OPT_TEMPORARY:
		case OPT_THRESHOLD: {
			const char *name = c == OPT_LEAKS ? "--leaks" : c == OPT_TEMPORARY ?
			    "--temporary-allocations" : "--temporary-allocation-threshold";
			if (mode_option != NULL && strcmp(mode_option, name) != 0)
				usage_error("%s and %s cannot be combined", mode_option, name);
			mode_option = name;
			opts->transform.mode = c == OPT_LEAKS ? REPORT_LEAKS : REPORT_TEMPORARY;
			opts->transform.threshold = c == OPT_THRESHOLD ?
			    parse_number(optarg, UINT64_MAX, "temporary allocation threshold") : 1;
			break;
		}
		case OPT_CRLF:
			opts->transform.crlf = true;
			break;
		case OPT_STRICT:
			opts->transform.strict = true;
			break;
		case OPT_INFO:
			opts->info = true;
			break;
		case OPT_PROGRESS:
			opts->progress = true;
			break;
		case OPT_COUNT:
			count_option = optarg;
			if (strcmp(optarg, "bytes") == 0)
				opts->transform.count = WRITER_COUNT_BYTES;
			else if (strcmp(optarg, "allocations") == 0)
				opts->transform.count = WRITER_COUNT_ALLOCATIONS;
			else
				usage_error("invalid --count '%s' (known: bytes, allocations)", optarg);
			break;
		case OPT_SPLIT_THREADS:
			opts->transform.split_threads = true;
			break;
		case OPT_SYMFS:
			opts->transform.symfs = optarg;
			break;
		case OPT_THREAD:
			if (*optarg == '\0')
				usage_error("--thread needs a thread id or name");
			threads[opts->transform.n_threads++] = optarg;
			break;
		case OPT_NUM_LARGEST:
			/* memray's -n takes a positive int. */
			num_largest_option = optarg;
			opts->transform.num_largest = parse_number(optarg, SIZE_MAX, "--num-largest");
			if (opts->transform.num_largest == 0)
				usage_error("invalid --num-largest '%s' (at least 1)", optarg);
			break;
		case 'h':
			help();
		case 'V':
			printf("%s %s\n", PROGRAM_NAME, PACKAGE_VERSION);
			exit_after_stdout();
		case ':':
			usage_error("option '%s' needs an argument", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	/* Only folded output has one weight to choose; the others would ignore it. */
	if (count_option != NULL && opts->transform.writer != &folded_writer)
		usage_error("--count applies to -f folded only");
	/* Statistics describe every allocation, as memray stats does, a timeline the heap: no mode. */
	if ((opts->transform.writer->statistics != NULL || opts->transform.writer->sample != NULL) &&
	    mode_option != NULL)
		usage_error("-f %s describes every allocation; %s does not apply",
		    opts->transform.writer->name, mode_option);
	if (num_largest_option != NULL && opts->transform.writer->statistics == NULL)
		usage_error("--num-largest applies to -f stats and -f summary only");
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
