/*
 * test_damage: every capture in tests/data, damaged, must give one of the
 * two documented outcomes of a damaged capture, and never a crash:
 *
 *   status 1, nothing written, one line of message naming "byte N" (or,
 *          for an aggregated capture in temporary mode, saying that it
 *          has no temporary allocations); or
 *   status 0, a report written, and at most one line of message, a
 *          warning.
 *
 * Anything else fails: death by a signal, a run over 10 s (SIGALRM), a
 * sanitizer report, more lines.  The damage is sampled, not enumerated:
 *
 *   - cuts: each capture cut at DAMAGE_CUTS offsets, one at a seeded
 *     random place in each of DAMAGE_CUTS equal slices of the file as
 *     stored (an LZ4 capture is cut inside its frame);
 *   - flips: DAMAGE_FLIPS variants of each capture with 1-3 bytes changed
 *     at seeded random places of the raw record stream (an LZ4 capture is
 *     decompressed first, so that the flips reach the decoder rather than
 *     LZ4's checksums);
 *   - the header region of one raw capture, cut at and inverted at each
 *     of its first 200 bytes;
 *   - the fuzzer's reproducers (every file in tests/fuzz/regressions), in all nine
 *     pairs of mode and format.
 *
 * The mode (peak, leaks, temporary) and the format (csv, gprof2dot,
 * speedscope) rotate over the variants, so that every capture meets every
 * mode and every format.  Each variant runs twice: decoded in the main
 * thread (--threads 1), then in a reader thread (--threads 2), which must
 * give the same status, report and messages, byte for byte.  Each variant runs the whole pipeline,
 * transform_run() as the program calls it, in a child process of its own
 * (fork, no exec: some 1,700 runs take seconds, where a shell loop
 * starting the binary took a minute and a half), its report and messages
 * caught in memory files.  A failing variant is printed and kept as
 * damage-failed-N.bin in the current folder.
 *
 * Environment: DATA, SRCDIR (set by `make check`); DAMAGE_SEED (default
 * 7), DAMAGE_CUTS (24; 12 under AddressSanitizer), DAMAGE_FLIPS (16; 8);
 * MT_LARGE_TESTS=1 multiplies the cuts and flips by 100.
 */
#define _GNU_SOURCE	/* memfd_create */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <lz4frame.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "allocator.h"
#include "capture_builder.h"
#include "message.h"
#include "support.h"
#include "transform.h"
#include "writer.h"

/*
 * Under AddressSanitizer each exit() runs LeakSanitizer's scan of the
 * whole process (a tenth of a second and more), and every run costs
 * several times more: a child leaves by _exit(), unchecked, but for one
 * variant in LEAK_CHECK_EVERY, and the default sample is halved.  The
 * unsanitized build checks no leaks anyway; valgrind and the fuzzers
 * look deeper.
 */
#if defined(__SANITIZE_ADDRESS__)	/* gcc */
#define UNDER_ASAN 1
#elif defined(__has_feature)		/* clang */
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifdef UNDER_ASAN
#define LEAK_CHECK_EVERY 16
#define DEFAULT_CUTS 12
#define DEFAULT_FLIPS 8
#else
#define LEAK_CHECK_EVERY 1
#define DEFAULT_CUTS 24
#define DEFAULT_FLIPS 16
#endif

#define HEADER_CAPTURE "v13-py3.11/threads-no-compress/capture.bin"
#define HEADER_BYTES 200
#define RUN_SECONDS 10

/* A file's bytes. */
struct bytes {
	uint8_t *data;
	size_t len;
};

static const char *data_dir;
static const char *source_dir;
static uint64_t seed = 7;
static uint64_t cuts, flips;

/* The memory files a child reads from and writes to. */
static int input_fd = -1, output_fd = -1, message_fd = -1;
/* Variants run so far: picks the mode and format, and names kept files. */
static unsigned variants;

static uint64_t
env_number(const char *name, uint64_t fallback)
{
	const char *value = getenv(name);

	return value != NULL && *value != '\0' ? strtoull(value, NULL, 10) : fallback;
}

static struct bytes
read_file(const char *path)
{
	struct bytes b = { 0 };
	FILE *f = fopen(path, "rb");
	size_t cap = 0;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	for (;;) {
		if (b.len == cap) {
			cap = cap * 2 + 65536;
			b.data = realloc(b.data, cap);
			ck_assert_ptr_nonnull(b.data);
		}
		size_t n = fread(b.data + b.len, 1, cap - b.len, f);
		if (n == 0)
			break;
		b.len += n;
	}
	ck_assert_msg(!ferror(f), "%s: read error", path);
	fclose(f);
	return b;
}

/* An LZ4 frame's content, or a copy of the bytes if they are none. */
static struct bytes
raw_stream(const struct bytes *stored)
{
	static const uint8_t lz4_magic[4] = { 0x04, 0x22, 0x4d, 0x18 };
	struct bytes raw = { 0 };
	size_t cap = 0;

	if (stored->len < 4 || memcmp(stored->data, lz4_magic, 4) != 0) {
		raw.data = malloc(stored->len + 1);
		ck_assert_ptr_nonnull(raw.data);
		memcpy(raw.data, stored->data, stored->len);
		raw.len = stored->len;
		return raw;
	}
	LZ4F_dctx *dctx;
	ck_assert(!LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)));
	size_t in = 0, left = 1;
	while (in < stored->len && left != 0) {
		if (cap - raw.len < 65536) {
			cap = cap * 2 + 65536;
			raw.data = realloc(raw.data, cap);
			ck_assert_ptr_nonnull(raw.data);
		}
		size_t out_size = cap - raw.len, in_size = stored->len - in;
		left = LZ4F_decompress(dctx, raw.data + raw.len, &out_size, stored->data + in, &in_size,
		    NULL);
		ck_assert_msg(!LZ4F_isError(left), "lz4: %s", LZ4F_getErrorName(left));
		raw.len += out_size;
		in += in_size;
	}
	LZ4F_freeDecompressionContext(dctx);
	return raw;
}

static int
new_memory_file(const char *name)
{
	int fd = memfd_create(name, 0);

	ck_assert_msg(fd >= 0, "memfd_create: %s", strerror(errno));
	return fd;
}

/* The whole of a memory file, NUL-terminated. */
static char *
memory_file_text(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *text = malloc((size_t)end + 1);

	ck_assert(end >= 0 && text != NULL);
	ck_assert(pread(fd, text, (size_t)end, 0) == end);
	text[end] = '\0';
	*len = (size_t)end;
	return text;
}

static void
reset_memory_file(int fd)
{
	ck_assert(ftruncate(fd, 0) == 0);
	ck_assert(lseek(fd, 0, SEEK_SET) == 0);
}

static void
setup(void)
{
	data_dir = getenv("DATA");
	source_dir = getenv("SRCDIR");
	ck_assert_msg(data_dir != NULL && source_dir != NULL,
	    "DATA and SRCDIR must be set (make check sets them)");
	seed = env_number("DAMAGE_SEED", 7);
	cuts = test_steps(env_number("DAMAGE_CUTS", DEFAULT_CUTS));
	flips = test_steps(env_number("DAMAGE_FLIPS", DEFAULT_FLIPS));
	rng_seed(seed);
	input_fd = new_memory_file("damaged-capture");
	output_fd = new_memory_file("report");
	message_fd = new_memory_file("messages");
}

static void
teardown(void)
{
	close(input_fd);
	close(output_fd);
	close(message_fd);
}

/*
 * Run the pipeline over input in a child, as `memray-transform -f FORMAT
 * [MODE] --threads CPU_THREADS < input` would, and return its wait
 * status; its report and messages are left in output_fd and message_fd.
 */
static int
run_child(const uint8_t *input, size_t len, enum report_mode mode, const char *format,
    unsigned cpu_threads)
{
	reset_memory_file(input_fd);
	reset_memory_file(output_fd);
	reset_memory_file(message_fd);
	ck_assert(len == 0 || write(input_fd, input, len) == (ssize_t)len);
	ck_assert(lseek(input_fd, 0, SEEK_SET) == 0);
	fflush(stdout);
	fflush(stderr);

	pid_t pid = fork();
	ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		struct transform_options opts = {
			.mode = mode,
			.threshold = 1,
			.writer = writer_find(format),
			.cpu_threads = cpu_threads,
		};
		alarm(RUN_SECONDS);
		dup2(message_fd, STDERR_FILENO);
		FILE *out = fdopen(output_fd, "w");
		if (out == NULL || opts.writer == NULL)
			_exit(98);
		message_set_input("stdin");
		int status = transform_run(input_fd, out, &opts);
		if (fclose(out) != 0)
			status = 97;
		fflush(stderr);
		/* exit() runs LeakSanitizer's check; _exit() does not (see LEAK_CHECK_EVERY). */
		if (variants % LEAK_CHECK_EVERY == 0)
			exit(status);
		_exit(status);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		ck_assert_msg(errno == EINTR, "waitpid: %s", strerror(errno));
	return status;
}

/*
 * A native capture also warns once per binary it cannot read symbols
 * from, and a flipped byte may spoil a name's UTF-8 (one warning, F5).
 */
static bool
counts_as_message(const char *line)
{
	static const char native[] = "its native frames are shown as <unknown>";
	size_t len = strlen(line);

	if (strstr(line, ": warning: a name is not valid UTF-8") != NULL)
		return false;
	return !(len >= sizeof native - 1 && strcmp(line + len - (sizeof native - 1), native) == 0);
}

static bool
names_a_byte(const char *line)
{
	const char *at = strstr(line, "byte ");

	return (at != NULL && at[5] >= '0' && at[5] <= '9') ||
	    strstr(line, "has no temporary allocations") != NULL;
}

/*
 * Why the outcome of the last run breaks the rules, or NULL if it keeps
 * them; why points into a buffer of the caller's.
 */
static const char *
judge(int status, const char *format, char *why, size_t why_size)
{
	size_t out_len, msg_len;
	char *out = memory_file_text(output_fd, &out_len);
	char *messages = memory_file_text(message_fd, &msg_len);
	char *lines[8], *save = NULL;
	size_t n_lines = 0;
	const char *verdict = NULL;

	if (strstr(messages, "Sanitizer") != NULL || strstr(messages, "runtime error") != NULL) {
		snprintf(why, why_size, "sanitizer report: %.300s", messages);
		verdict = why;
		goto done;
	}
	for (char *line = strtok_r(messages, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!counts_as_message(line))
			continue;
		if (n_lines < sizeof lines / sizeof lines[0])
			lines[n_lines] = line;
		n_lines++;
	}
	const char *first = n_lines > 0 ? lines[0] : "";
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM)
			snprintf(why, why_size, "still running after %d s", RUN_SECONDS);
		else
			snprintf(why, why_size, "killed by signal %d (%.200s)", WTERMSIG(status), first);
		verdict = why;
	} else if (WEXITSTATUS(status) == 1) {
		if (out_len > 0)
			snprintf(why, why_size, "status 1 but wrote %zu bytes", out_len);
		else if (n_lines != 1)
			snprintf(why, why_size, "status 1 with %zu lines of message: %.200s", n_lines, first);
		else if (strncmp(first, PROGRAM_NAME ": ", sizeof PROGRAM_NAME + 1) != 0 ||
		    !names_a_byte(first))
			snprintf(why, why_size, "the error names no byte: %.200s", first);
		else
			goto done;
		verdict = why;
	} else if (WEXITSTATUS(status) == 0) {
		static const char csv_header[] = "allocator,num_allocations,size,tid,thread_name,stack_trace\n";
		bool csv = strcmp(format, "csv") == 0;
		if (n_lines > 1)
			snprintf(why, why_size, "status 0 with %zu lines of message: %.200s", n_lines, first);
		else if (n_lines == 1 && (strncmp(first, PROGRAM_NAME ": ", sizeof PROGRAM_NAME + 1) != 0 ||
		    strstr(first, ": warning: ") == NULL))
			snprintf(why, why_size, "status 0 with a message that is no warning: %.200s", first);
		else if (csv && strncmp(out, csv_header, strlen(csv_header)) != 0)
			snprintf(why, why_size, "status 0 but no CSV report: %.80s", out);
		else if (!csv && out[0] != '{')
			snprintf(why, why_size, "status 0 but no JSON report: %.80s", out);
		else
			goto done;
		verdict = why;
	} else {
		snprintf(why, why_size, "status %d (%.200s)", WEXITSTATUS(status), first);
		verdict = why;
	}
done:
	free(out);
	free(messages);
	return verdict;
}

/*
 * Why the run with a reader thread differs from the last one (status,
 * left in the memory files), or NULL if it does not.
 */
static const char *
same_with_reader_thread(int status, const uint8_t *input, size_t len, enum report_mode mode,
    const char *format, char *why, size_t why_size)
{
	size_t out_len, msg_len, threaded_out_len, threaded_msg_len;
	char *out = memory_file_text(output_fd, &out_len);
	char *messages = memory_file_text(message_fd, &msg_len);
	int threaded_status = run_child(input, len, mode, format, 2);
	char *threaded_out = memory_file_text(output_fd, &threaded_out_len);
	char *threaded_messages = memory_file_text(message_fd, &threaded_msg_len);
	const char *verdict = why;

	if (threaded_status != status)
		snprintf(why, why_size, "--threads 2: wait status %d, not %d", threaded_status, status);
	else if (threaded_msg_len != msg_len || memcmp(threaded_messages, messages, msg_len) != 0)
		snprintf(why, why_size, "--threads 2: other messages: %.200s", threaded_messages);
	else if (threaded_out_len != out_len || memcmp(threaded_out, out, out_len) != 0)
		snprintf(why, why_size, "--threads 2: another report (%zu bytes, not %zu)",
		    threaded_out_len, out_len);
	else
		verdict = NULL;
	free(out);
	free(messages);
	free(threaded_out);
	free(threaded_messages);
	return verdict;
}

static const enum report_mode modes[3] = { REPORT_PEAK, REPORT_LEAKS, REPORT_TEMPORARY };
static const char *const mode_names[3] = { "peak", "leaks", "temporary" };
static const char *const formats[3] = { "csv", "gprof2dot", "speedscope" };

/* Run the variant in the mode and format its number picks; false if it failed. */
static bool
check_variant(const char *label, const uint8_t *input, size_t len, unsigned pick)
{
	enum report_mode mode = modes[pick % 3];
	const char *format = formats[pick / 3 % 3];
	char why[512];
	unsigned number = variants++;
	int status = run_child(input, len, mode, format, 1);
	const char *verdict = judge(status, format, why, sizeof why);

	if (verdict == NULL)
		verdict = same_with_reader_thread(status, input, len, mode, format, why, sizeof why);
	if (verdict == NULL)
		return true;
	char kept[64];
	snprintf(kept, sizeof kept, "damage-failed-%u.bin", number);
	FILE *f = fopen(kept, "wb");
	if (f != NULL) {
		fwrite(input, 1, len, f);
		fclose(f);
	}
	printf("FAIL %s (-f %s, %s; kept as %s): %s\n", label, format, mode_names[pick % 3], kept,
	    verdict);
	return false;
}

/* The paths of the files under dir whose names end in suffix, sorted. */
struct path_list {
	char **paths;
	size_t n, cap;
};

static void
find_files(const char *dir, const char *suffix, struct path_list *list)
{
	struct dirent **entries;
	int n = scandir(dir, &entries, NULL, alphasort);

	ck_assert_msg(n >= 0, "%s: %s", dir, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = entries[i]->d_name;
		size_t len = strlen(name), suffix_len = strlen(suffix);
		char path[4096];

		snprintf(path, sizeof path, "%s/%s", dir, name);
		if (name[0] == '.') {
			/* "." and "..", and nothing hidden */
		} else if (entries[i]->d_type == DT_DIR) {
			find_files(path, suffix, list);
		} else if (len >= suffix_len && strcmp(name + len - suffix_len, suffix) == 0) {
			if (list->n == list->cap) {
				list->cap = list->cap * 2 + 16;
				list->paths = realloc(list->paths, list->cap * sizeof list->paths[0]);
				ck_assert_ptr_nonnull(list->paths);
			}
			list->paths[list->n++] = strdup(path);
		}
		free(entries[i]);
	}
	free(entries);
}

static void
free_paths(struct path_list *list)
{
	for (size_t i = 0; i < list->n; i++)
		free(list->paths[i]);
	free(list->paths);
}

START_TEST(test_cut_captures)
{
	struct path_list captures = { 0 };
	unsigned failed = 0, pick = 0;

	find_files(data_dir, ".bin", &captures);
	ck_assert_uint_gt(captures.n, 0);
	for (size_t c = 0; c < captures.n; c++) {
		struct bytes stored = read_file(captures.paths[c]);
		for (uint64_t k = 0; k < cuts; k++) {
			size_t lo = k * stored.len / cuts, hi = (k + 1) * stored.len / cuts;
			size_t at = lo + (size_t)(rng() % (hi > lo ? hi - lo : 1));
			char label[4200];
			snprintf(label, sizeof label, "%s cut at byte %zu of %zu",
			    captures.paths[c] + strlen(data_dir) + 1, at, stored.len);
			failed += !check_variant(label, stored.data, at, pick++);
		}
		free(stored.data);
	}
	free_paths(&captures);
	ck_assert_msg(failed == 0, "%u cut captures broke the rules", failed);
}
END_TEST

START_TEST(test_flipped_bytes)
{
	struct path_list captures = { 0 };
	unsigned failed = 0, pick = 0;

	find_files(data_dir, ".bin", &captures);
	for (size_t c = 0; c < captures.n; c++) {
		struct bytes stored = read_file(captures.paths[c]);
		struct bytes raw = raw_stream(&stored);
		uint8_t *variant = malloc(raw.len + 1);
		ck_assert_ptr_nonnull(variant);
		for (uint64_t k = 0; k < flips && raw.len > 0; k++) {
			char label[4200];
			int used = snprintf(label, sizeof label, "%s%s:",
			    captures.paths[c] + strlen(data_dir) + 1,
			    raw.len != stored.len ? " (decompressed)" : "");
			memcpy(variant, raw.data, raw.len);
			for (uint64_t j = 0, count = 1 + rng() % 3; j < count; j++) {
				size_t at = (size_t)(rng() % raw.len);
				uint8_t mask = (uint8_t)(1 + rng() % 255);
				variant[at] ^= mask;
				used += snprintf(label + used, sizeof label - (size_t)used,
				    " byte %zu ^= %u;", at, mask);
			}
			failed += !check_variant(label, variant, raw.len, pick++);
		}
		free(variant);
		free(raw.data);
		free(stored.data);
	}
	free_paths(&captures);
	ck_assert_msg(failed == 0, "%u captures with flipped bytes broke the rules", failed);
}
END_TEST

START_TEST(test_header_region)
{
	char path[4096];
	unsigned failed = 0, pick = 0;

	snprintf(path, sizeof path, "%s/%s", data_dir, HEADER_CAPTURE);
	struct bytes stored = read_file(path);
	ck_assert_uint_gt(stored.len, HEADER_BYTES);
	uint8_t *variant = malloc(stored.len);
	ck_assert_ptr_nonnull(variant);
	for (size_t at = 0; at < HEADER_BYTES; at++) {
		char label[64];
		snprintf(label, sizeof label, "header cut at byte %zu", at);
		failed += !check_variant(label, stored.data, at, pick++);
		memcpy(variant, stored.data, stored.len);
		variant[at] = (uint8_t)~variant[at];
		snprintf(label, sizeof label, "header byte %zu inverted", at);
		failed += !check_variant(label, variant, stored.len, pick++);
	}
	free(variant);
	free(stored.data);
	ck_assert_msg(failed == 0, "%u damaged headers broke the rules", failed);
}
END_TEST

START_TEST(test_fuzzer_regressions)
{
	struct path_list found = { 0 };
	char dir[4096];
	unsigned failed = 0;

	snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions", source_dir);
	find_files(dir, "", &found);
	ck_assert_uint_gt(found.n, 0);
	for (size_t i = 0; i < found.n; i++) {
		struct bytes input = read_file(found.paths[i]);
		for (unsigned pick = 0; pick < 9; pick++)
			failed += !check_variant(found.paths[i] + strlen(dir) + 1, input.data, input.len, pick);
		free(input.data);
	}
	free_paths(&found);
	ck_assert_msg(failed == 0, "%u runs of the fuzzer's reproducers broke the rules", failed);
}
END_TEST

/*
 * Allocation records before any context switch: memray cannot place
 * them, and neither can we (exit 1, the first one's byte), the same with
 * a reader thread, where they must not cross the ring as compact slots,
 * whose loop does not look for a missing thread.
 */
START_TEST(test_allocation_before_context_switch)
{
	struct capture_builder b = { 0 };
	char why[512];

	builder_header(&b, &(struct capture_header_fields){
		.version = 13, .python_version = 0x030B02F0, .n_allocations = 3,
		.start_time = UINT64_C(1700000000000), .end_time = UINT64_C(1700000001000),
		.command_line = "python3 x.py", .pid = 1, .main_tid = 1, .python_allocator = 1,
		.libdest = "/usr/lib/python3.11",
	});
	/*
	 * A MEMORY record first: the consumer waits for it, by which time
	 * the allocations after it are in the ring too, for a compact run.
	 */
	builder_u8(&b, 0x02);
	builder_varint(&b, 1 << 20);		/* rss */
	builder_varint(&b, 1);			/* ms since the start */
	size_t first_record = b.len;
	for (int i = 0; i < 3; i++) {
		builder_u8(&b, 0x80 | ALLOC_MALLOC);	/* ALLOCATION, pointer cache slot 0 */
		builder_varint(&b, 16);		/* size */
	}
	builder_u8(&b, 0x01);			/* TRAILER */
	for (unsigned pick = 0; pick < 3; pick++) {
		int status = run_child(b.data, b.len, modes[pick], "csv", 1);
		size_t len;
		char *messages = memory_file_text(message_fd, &len);
		char expected[128];
		snprintf(expected, sizeof expected,
		    "allocation record before any context switch (byte %zu)", first_record);
		ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1, "%s: status %d",
		    mode_names[pick], status);
		ck_assert_msg(strstr(messages, expected) != NULL, "%s: %s", mode_names[pick], messages);
		free(messages);
		const char *verdict = judge(status, "csv", why, sizeof why);
		if (verdict == NULL)
			verdict = same_with_reader_thread(status, b.data, b.len, modes[pick], "csv", why,
			    sizeof why);
		ck_assert_msg(verdict == NULL, "%s: %s", mode_names[pick], verdict);
	}
	builder_free(&b);
}
END_TEST

static Suite *
damage_suite(void)
{
	Suite *s = suite_create("damage");
	TCase *tc = tcase_create("damage");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_cut_captures);
	tcase_add_test(tc, test_flipped_bytes);
	tcase_add_test(tc, test_header_region);
	tcase_add_test(tc, test_fuzzer_regressions);
	tcase_add_test(tc, test_allocation_before_context_switch);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(damage_suite());
}
