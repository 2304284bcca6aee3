/*
 * test_byte_source: the decompressed byte stream of a capture
 * (byte_source.h, doc/capture-format.md §1.2): raw data, LZ4 and zstd frames,
 * gzip and xz, containers nested in one another, where errors are placed
 * in the input, and the zero-padding rule.
 */
#include <check.h>
#include <fcntl.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "byte_source.h"
#include "support.h"

#define MIB (1024 * 1024)

static FILE *tmp;

static void
teardown(void)
{
	if (tmp != NULL)
		fclose(tmp);
	tmp = NULL;
}

/* A file descriptor reading exactly `data` (a temporary file, rewound). */
static int
fd_with(const void *data, size_t len)
{
	if (tmp != NULL)
		fclose(tmp);
	tmp = tmpfile();
	ck_assert_ptr_nonnull(tmp);
	int fd = fileno(tmp);
	const uint8_t *p = data;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		ck_assert_int_gt(n, 0);
		p += n;
		len -= (size_t)n;
	}
	ck_assert_int_eq(lseek(fd, 0, SEEK_SET), 0);
	return fd;
}

/* Read the whole stream in pieces of `chunk` bytes; *len gets its length. */
static uint8_t *
read_all(struct byte_source *src, size_t chunk, size_t *len)
{
	size_t cap = 1024, n = 0;
	uint8_t *buf = malloc(cap);

	ck_assert_ptr_nonnull(buf);
	for (;;) {
		if (cap - n < chunk) {
			while (cap - n < chunk)
				cap *= 2;
			buf = realloc(buf, cap);
			ck_assert_ptr_nonnull(buf);
		}
		size_t got = byte_source_read(src, buf + n, chunk);
		ck_assert_uint_le(got, chunk);
		if (got == 0)
			break;
		n += got;
	}
	/* The end stays the end. */
	uint8_t extra[8];
	ck_assert_uint_eq(byte_source_read(src, extra, sizeof extra), 0);
	*len = n;
	return buf;
}

/* Open data as a stream, read it all in pieces of `chunk`, and expect `expected`. */
static void
check_stream(const void *data, size_t len, size_t chunk, enum compression c,
    const void *expected, size_t expected_len)
{
	struct byte_source *src = byte_source_open(fd_with(data, len));
	size_t got_len;
	uint8_t *got;

	ck_assert_int_eq(byte_source_compression(src), c);
	got = read_all(src, chunk, &got_len);
	ck_assert_uint_eq(got_len, expected_len);
	const uint8_t *want = expected;
	for (size_t i = 0; i < expected_len; i++) {
		if (got[i] != want[i])
			ck_abort_msg("first difference at byte %zu of %zu (chunk %zu): got 0x%02x, expected 0x%02x",
			    i, expected_len, chunk, got[i], want[i]);
	}
	ck_assert_ptr_null(byte_source_error(src));
	ck_assert_uint_eq(byte_source_input_offset(src), len);
	free(got);
	byte_source_close(src);
}

/* Compressible pseudo-random bytes, never 0, the same for the same seed. */
static uint8_t *
sample(size_t len, uint32_t seed)
{
	uint8_t *p = malloc(len);

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)("memray capture\n"[(seed >> 16) % 15]);
		if ((seed >> 8) % 7 == 0)
			p[i] = (uint8_t)(1 + (seed >> 20) % 255);
	}
	return p;
}

/* Like sample(), but a quarter of the bytes are 0, in short runs, as in real records. */
static uint8_t *
sample_with_zeros(size_t len, uint32_t seed)
{
	uint8_t *p = sample(len, seed);

	for (size_t i = 0; i + 1 < len; i++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 4 == 0)
			p[i] = 0;
	}
	return p;
}

static uint8_t *
lz4_frame(const void *data, size_t len, size_t *out_len)
{
	/* memray's parameters: linked blocks of at most 64 KiB, no checksums (§1.2). */
	LZ4F_preferences_t prefs;
	memset(&prefs, 0, sizeof prefs);
	prefs.frameInfo.blockSizeID = LZ4F_max64KB;
	prefs.frameInfo.blockMode = LZ4F_blockLinked;
	size_t cap = LZ4F_compressFrameBound(len, &prefs);
	uint8_t *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	size_t n = LZ4F_compressFrame(out, cap, data, len, &prefs);
	ck_assert(!LZ4F_isError(n));
	*out_len = n;
	return out;
}

static uint8_t *
zstd_frame(const void *data, size_t len, size_t *out_len)
{
	size_t cap = ZSTD_compressBound(len);
	uint8_t *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	size_t n = ZSTD_compress(out, cap, data, len, 3);
	ck_assert(!ZSTD_isError(n));
	*out_len = n;
	return out;
}

/* One gzip member (zlib, windowBits 31: a gzip header and trailer). */
static uint8_t *
gzip_member(const void *data, size_t len, size_t *out_len)
{
	z_stream z;
	uLong cap = compressBound(len) + 64;
	uint8_t *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	memset(&z, 0, sizeof z);
	ck_assert_int_eq(deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (Bytef *)data;
	z.avail_in = (uInt)len;
	z.next_out = out;
	z.avail_out = (uInt)cap;
	ck_assert_int_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
	*out_len = z.total_out;
	deflateEnd(&z);
	return out;
}

static uint8_t *
xz_stream(const void *data, size_t len, size_t *out_len)
{
	size_t cap = lzma_stream_buffer_bound(len), pos = 0;
	uint8_t *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	ck_assert_int_eq(lzma_easy_buffer_encode(0, LZMA_CHECK_CRC64, NULL, data, len, out, &pos, cap),
	    LZMA_OK);
	*out_len = pos;
	return out;
}

/* ---- raw ---------------------------------------------------------- */

START_TEST(test_raw_passthrough)
{
	static const uint8_t capture[] = { 'm', 'e', 'm', 'r', 'a', 'y', 0, 13, 0, 0, 0, 0xf0, 7, 0x0b, 3, 1 };
	size_t len = 3 * MIB + 17;
	uint8_t *big = sample(len, 1);
	size_t chunks[] = { 1, 7, 4096, 65536, 65537, 10 * MIB };

	check_stream(capture, sizeof capture, 4096, COMPRESSION_NONE, capture, sizeof capture);
	for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
		if (chunks[i] == 1)
			check_stream(big, 300000, 1, COMPRESSION_NONE, big, 300000);
		else
			check_stream(big, len, chunks[i], COMPRESSION_NONE, big, len);
	}
	free(big);
}
END_TEST

START_TEST(test_raw_empty_and_short)
{
	static const uint8_t lz4ish[3] = { 0x04, 0x22, 0x4d };
	static const uint8_t zstdish[2] = { 0x28, 0xb5 };

	check_stream("", 0, 100, COMPRESSION_NONE, "", 0);
	/* Fewer than 4 bytes: raw, even when they begin like a magic number. */
	check_stream(lz4ish, sizeof lz4ish, 100, COMPRESSION_NONE, lz4ish, sizeof lz4ish);
	check_stream(zstdish, sizeof zstdish, 100, COMPRESSION_NONE, zstdish, sizeof zstdish);
	check_stream("a", 1, 1, COMPRESSION_NONE, "a", 1);
	/* A magic number's first three bytes followed by something else: raw. */
	static const uint8_t near[5] = { 0x04, 0x22, 0x4d, 0x19, 0x01 };
	check_stream(near, sizeof near, 2, COMPRESSION_NONE, near, sizeof near);
}
END_TEST

START_TEST(test_trailing_zeros_dropped)
{
	uint8_t data[5000];

	memset(data, 0, sizeof data);
	memcpy(data, "abc", 3);
	check_stream(data, sizeof data, 4096, COMPRESSION_NONE, "abc", 3);
	check_stream(data, sizeof data, 1, COMPRESSION_NONE, "abc", 3);
	check_stream(data, 4, 4096, COMPRESSION_NONE, "abc", 3);
	/* All zeros: nothing at all. */
	check_stream(data + 3, sizeof data - 3, 4096, COMPRESSION_NONE, "", 0);
	check_stream(data + 3, 1, 4096, COMPRESSION_NONE, "", 0);
}
END_TEST

START_TEST(test_inner_zeros_kept)
{
	static const uint8_t data[] = { 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 'b', 0, 'c', 0, 0 };

	check_stream(data, sizeof data, 4096, COMPRESSION_NONE, data, 14);
	check_stream(data, sizeof data, 1, COMPRESSION_NONE, data, 14);
	check_stream(data, sizeof data, 3, COMPRESSION_NONE, data, 14);
	/* Leading zeros are data too when something follows. */
	check_stream(data + 1, sizeof data - 1, 5, COMPRESSION_NONE, data + 1, 13);
}
END_TEST

START_TEST(test_zeros_spanning_many_reads)
{
	/* x, 1.5 MiB of zeros, y, then 2 MiB of padding: many 64 KiB reads of nothing but zeros. */
	size_t gap = 3 * MIB / 2, pad = 2 * MIB;
	size_t len = 1 + gap + 1 + pad;
	uint8_t *data = calloc(len, 1);

	ck_assert_ptr_nonnull(data);
	data[0] = 'x';
	data[1 + gap] = 'y';
	check_stream(data, len, 65536, COMPRESSION_NONE, data, gap + 2);
	check_stream(data, len, 1000, COMPRESSION_NONE, data, gap + 2);
	check_stream(data, len, 8 * MIB, COMPRESSION_NONE, data, gap + 2);
	/* Ending right after y: the same. */
	check_stream(data, gap + 2, 4096, COMPRESSION_NONE, data, gap + 2);
	/* Zeros first, a lone byte after them. */
	check_stream(data + 1, gap + 1, 4096, COMPRESSION_NONE, data + 1, gap + 1);
	free(data);
}
END_TEST

START_TEST(test_zeros_at_chunk_boundaries)
{
	/*
	 * Data with many short zero runs: some of them straddle the 64 KiB
	 * read boundaries, and must come out where they were.
	 */
	size_t len = 2 * MIB + 3;
	uint8_t *data = sample_with_zeros(len, 21);

	/* Make sure of it at the first boundaries: ...x 0 | 0 y..., ...x 0 0 0 | y... */
	data[65534] = 'x';
	data[65535] = 0;
	data[65536] = 0;
	data[65537] = 'y';
	data[2 * 65536 - 4] = 'x';
	memset(data + 2 * 65536 - 3, 0, 3);
	data[2 * 65536] = 'y';
	check_stream(data, len, 65536, COMPRESSION_NONE, data, len);
	check_stream(data, len, 100, COMPRESSION_NONE, data, len);
	check_stream(data, len, 4 * MIB, COMPRESSION_NONE, data, len);
	free(data);
}
END_TEST

static void
write_slowly(int fd, const uint8_t *data, size_t len)
{
	struct timespec pause = { 0, 20 * 1000 * 1000 };

	/* The first bytes one at a time, with pauses, so that reads return short. */
	for (size_t i = 0; i < len; i++) {
		if (write(fd, data + i, 1) != 1)
			_exit(1);
		if (i < 6)
			nanosleep(&pause, NULL);
	}
}

/*
 * Write stream into a pipe from a child, its first bytes one at a time,
 * and read it through byte_source: the containers found, then expected.
 */
static void
check_slow_pipe(const uint8_t *stream, size_t len, const char *containers, const void *expected,
    size_t expected_len)
{
	int fds[2];

	ck_assert_int_eq(pipe(fds), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(fds[0]);
		write_slowly(fds[1], stream, len);
		_exit(0);
	}
	close(fds[1]);
	struct byte_source *src = byte_source_open(fds[0]);
	ck_assert_str_eq(byte_source_containers(src), containers);
	size_t got_len;
	uint8_t *got = read_all(src, 5, &got_len);
	ck_assert_uint_eq(got_len, expected_len);
	ck_assert(memcmp(got, expected, got_len) == 0);
	ck_assert_ptr_null(byte_source_error(src));
	ck_assert_uint_eq(byte_source_input_offset(src), len);
	byte_source_close(src);
	close(fds[0]);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(got);
}

START_TEST(test_pipe_magic_in_pieces)
{
	/* The magic is detected however the pipe delivers it. */
	static const uint8_t text[] = "memray\0 through a pipe";
	size_t clen;
	uint8_t *frame = lz4_frame(text, sizeof text - 1, &clen);

	check_slow_pipe(frame, clen, "lz4", text, sizeof text - 1);
	free(frame);
}
END_TEST

/* ---- compressed --------------------------------------------------- */

START_TEST(test_lz4_roundtrip)
{
	size_t len = 2 * MIB + 333, clen;
	uint8_t *data = sample(len, 7);

	/* A run of zeros longer than a decompression chunk, in the middle: kept. */
	memset(data + MIB, 0, 600 * 1024);
	uint8_t *frame = lz4_frame(data, len, &clen);
	ck_assert_uint_lt(clen, len);
	check_stream(frame, clen, 65536, COMPRESSION_LZ4, data, len);
	check_stream(frame, clen, 777, COMPRESSION_LZ4, data, len);

	/* A frame made with the library defaults (LZ4F_compressFrame with no preferences). */
	free(frame);
	size_t cap = LZ4F_compressFrameBound(len, NULL);
	frame = malloc(cap);
	ck_assert_ptr_nonnull(frame);
	clen = LZ4F_compressFrame(frame, cap, data, len, NULL);
	ck_assert(!LZ4F_isError(clen));
	check_stream(frame, clen, 65536, COMPRESSION_LZ4, data, len);
	free(frame);
	free(data);

	/* Zero-rich data: decompressed chunks that end inside a zero run. */
	data = sample_with_zeros(len, 8);
	frame = lz4_frame(data, len, &clen);
	check_stream(frame, clen, 65536, COMPRESSION_LZ4, data, len);
	free(frame);
	free(data);
}
END_TEST

START_TEST(test_lz4_small_and_empty)
{
	size_t clen;
	uint8_t *frame = lz4_frame("memray", 6, &clen);

	check_stream(frame, clen, 3, COMPRESSION_LZ4, "memray", 6);
	free(frame);
	frame = lz4_frame("", 0, &clen);
	check_stream(frame, clen, 3, COMPRESSION_LZ4, "", 0);
	free(frame);
}
END_TEST

START_TEST(test_lz4_padding_dropped)
{
	/* The zero rule applies to decompressed data too (a raw capture compressed by hand). */
	size_t len = 100 + 300 * 1024, clen;
	uint8_t *data = calloc(len, 1);

	ck_assert_ptr_nonnull(data);
	memcpy(data, "memray\0\0data", 12);
	uint8_t *frame = lz4_frame(data, len, &clen);
	check_stream(frame, clen, 4096, COMPRESSION_LZ4, data, 12);
	free(frame);
	free(data);
}
END_TEST

START_TEST(test_zstd_roundtrip)
{
	size_t len = 2 * MIB + 5, clen;
	uint8_t *data = sample(len, 99);

	memset(data + 100, 0, 400 * 1024);
	uint8_t *frame = zstd_frame(data, len, &clen);
	ck_assert_uint_lt(clen, len);
	check_stream(frame, clen, 65536, COMPRESSION_ZSTD, data, len);
	check_stream(frame, clen, 1001, COMPRESSION_ZSTD, data, len);
	free(frame);
	frame = zstd_frame("memray", 6, &clen);
	check_stream(frame, clen, 2, COMPRESSION_ZSTD, "memray", 6);
	free(frame);
	free(data);
}
END_TEST

/* Read a damaged stream to its end: what came out is a prefix of `data`, and there is an error. */
static void
check_damaged(const uint8_t *stream, size_t len, enum compression c, const uint8_t *data,
    size_t data_len)
{
	struct byte_source *src = byte_source_open(fd_with(stream, len));
	size_t got_len;

	ck_assert_int_eq(byte_source_compression(src), c);
	uint8_t *got = read_all(src, 4096, &got_len);
	ck_assert_uint_lt(got_len, data_len);
	ck_assert(got_len == 0 || memcmp(got, data, got_len) == 0);
	ck_assert_ptr_nonnull(byte_source_error(src));
	ck_assert_str_ne(byte_source_error(src), "");
	free(got);
	byte_source_close(src);
}

START_TEST(test_lz4_truncated)
{
	size_t len = MIB, clen;
	uint8_t *data = sample(len, 3);
	uint8_t *frame = lz4_frame(data, len, &clen);

	check_damaged(frame, clen / 2, COMPRESSION_LZ4, data, len);
	/* Only the header and part of the first block. */
	check_damaged(frame, 20, COMPRESSION_LZ4, data, len);
	/* Only the frame header. */
	check_damaged(frame, 7, COMPRESSION_LZ4, data, len);
	free(frame);
	free(data);
}
END_TEST

START_TEST(test_lz4_missing_end_mark)
{
	/* Every block is there, only the 4-byte end mark is missing: the frame is unfinished. */
	size_t len = 1000, clen;
	uint8_t *data = sample(len, 5);
	uint8_t *frame = lz4_frame(data, len, &clen);
	struct byte_source *src = byte_source_open(fd_with(frame, clen - 4));
	size_t got_len;
	uint8_t *got = read_all(src, 4096, &got_len);

	ck_assert_uint_le(got_len, len);
	ck_assert(memcmp(got, data, got_len) == 0);
	ck_assert_ptr_nonnull(byte_source_error(src));
	free(got);
	byte_source_close(src);
	free(frame);
	free(data);
}
END_TEST

START_TEST(test_lz4_corrupt_header)
{
	size_t len = 5000, clen;
	uint8_t *data = sample(len, 11);
	uint8_t *frame = lz4_frame(data, len, &clen);

	frame[4] = 0x00;	/* FLG: version 00 is not a valid frame */
	check_damaged(frame, clen, COMPRESSION_LZ4, data, len);
	free(frame);
	free(data);
}
END_TEST

START_TEST(test_zstd_truncated)
{
	size_t len = MIB, clen;
	uint8_t *data = sample(len, 13);
	uint8_t *frame = zstd_frame(data, len, &clen);

	check_damaged(frame, clen / 2, COMPRESSION_ZSTD, data, len);
	check_damaged(frame, clen - 1, COMPRESSION_ZSTD, data, len);
	free(frame);
	free(data);
}
END_TEST

/* A read() that fails ends the stream with the reason, as a raw stream. */
START_TEST(test_read_error)
{
	int fd = open(".", O_RDONLY | O_DIRECTORY);
	uint8_t buf[16];

	ck_assert_int_ge(fd, 0);
	struct byte_source *src = byte_source_open(fd);
	ck_assert_uint_eq(byte_source_read(src, buf, sizeof buf), 0);
	ck_assert_int_eq(byte_source_compression(src), COMPRESSION_NONE);
	ck_assert_ptr_nonnull(byte_source_error(src));
	ck_assert_str_eq(byte_source_error(src), "read error: Is a directory");
	byte_source_close(src);
	close(fd);
}
END_TEST

START_TEST(test_compression_names)
{
	ck_assert_str_eq(compression_name(COMPRESSION_NONE), "none");
	ck_assert_str_eq(compression_name(COMPRESSION_LZ4), "lz4");
	ck_assert_str_eq(compression_name(COMPRESSION_ZSTD), "zstd");
	ck_assert_str_eq(compression_name(COMPRESSION_GZIP), "gzip");
	ck_assert_str_eq(compression_name(COMPRESSION_XZ), "xz");
}
END_TEST

/* ---- gzip, xz and nested containers -------------------------------- */

/* The containers byte_source_open found in stream, innermost first. */
static void
expect_containers(const uint8_t *stream, size_t len, const char *expected)
{
	struct byte_source *src = byte_source_open(fd_with(stream, len));

	ck_assert_str_eq(byte_source_containers(src), expected);
	byte_source_close(src);
}

START_TEST(test_gzip_and_xz_roundtrip)
{
	size_t len = 2 * MIB + 11, glen, xlen;
	uint8_t *data = sample_with_zeros(len, 31);
	uint8_t *gz = gzip_member(data, len, &glen);
	uint8_t *xz = xz_stream(data, len, &xlen);

	check_stream(gz, glen, 65536, COMPRESSION_GZIP, data, len);
	check_stream(gz, glen, 999, COMPRESSION_GZIP, data, len);
	check_stream(xz, xlen, 65536, COMPRESSION_XZ, data, len);
	check_stream(xz, xlen, 4097, COMPRESSION_XZ, data, len);
	expect_containers(gz, glen, "gzip");
	expect_containers(xz, xlen, "xz");
	free(gz);
	free(xz);
	/* Tiny and empty. */
	gz = gzip_member("memray", 6, &glen);
	check_stream(gz, glen, 1, COMPRESSION_GZIP, "memray", 6);
	free(gz);
	xz = xz_stream("", 0, &xlen);
	check_stream(xz, xlen, 7, COMPRESSION_XZ, "", 0);
	free(xz);
	free(data);
}
END_TEST

START_TEST(test_gzip_members)
{
	/* Two members one after the other read as their concatenation, as gzip -d does. */
	size_t alen, blen;
	uint8_t *a = gzip_member("memray\0first ", 13, &alen);
	uint8_t *b = gzip_member("second", 6, &blen);
	uint8_t *both = malloc(alen + blen);

	ck_assert_ptr_nonnull(both);
	memcpy(both, a, alen);
	memcpy(both + alen, b, blen);
	check_stream(both, alen + blen, 5, COMPRESSION_GZIP, "memray\0first second", 19);
	/* Zero bytes after the last member are padding, as gzip -d takes them. */
	both = realloc(both, alen + 100);
	ck_assert_ptr_nonnull(both);
	memset(both + alen, 0, 100);
	check_stream(both, alen + 100, 4096, COMPRESSION_GZIP, "memray\0first ", 13);
	free(both);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_nested)
{
	/* memray's lz4 inside zstd, gzip and xz, and four layers: read in one pass. */
	size_t len = MIB + 7, l4, z, g, x, g2;
	uint8_t *data = sample_with_zeros(len, 41);
	uint8_t *lz4 = lz4_frame(data, len, &l4);
	uint8_t *zst = zstd_frame(lz4, l4, &z);
	uint8_t *gz = gzip_member(lz4, l4, &g);
	uint8_t *xz = xz_stream(zst, z, &x);	/* lz4 in zstd in xz */
	uint8_t *gz2 = gzip_member(xz, x, &g2);	/* ... in gzip: four layers */

	check_stream(zst, z, 65536, COMPRESSION_ZSTD, data, len);
	check_stream(gz, g, 3001, COMPRESSION_GZIP, data, len);
	check_stream(xz, x, 65536, COMPRESSION_XZ, data, len);
	check_stream(gz2, g2, 65536, COMPRESSION_GZIP, data, len);
	expect_containers(zst, z, "lz4 in zstd");
	expect_containers(gz, g, "lz4 in gzip");
	expect_containers(gz2, g2, "lz4 in zstd in xz in gzip");
	expect_containers(data, len, "none");

	/* A fifth layer is an error, not data. */
	size_t g3;
	uint8_t *gz3 = gzip_member(gz2, g2, &g3);
	struct byte_source *src = byte_source_open(fd_with(gz3, g3));
	uint8_t buf[16];
	ck_assert_uint_eq(byte_source_read(src, buf, sizeof buf), 0);
	ck_assert_ptr_nonnull(byte_source_error(src));
	ck_assert_ptr_nonnull(strstr(byte_source_error(src), "4 layers"));
	byte_source_close(src);

	free(gz3);
	free(gz2);
	free(xz);
	free(gz);
	free(zst);
	free(lz4);
	free(data);
}
END_TEST

START_TEST(test_unread_containers_named)
{
	static const uint8_t bzip2[] = "BZh91AY&SY\x01\x02\x03";
	size_t g;
	uint8_t *gz = gzip_member(bzip2, sizeof bzip2 - 1, &g);
	struct byte_source *src = byte_source_open(fd_with(bzip2, sizeof bzip2 - 1));

	ck_assert_str_eq(byte_source_unread_container(src), "bzip2");
	byte_source_close(src);
	src = byte_source_open(fd_with(gz, g));
	ck_assert_str_eq(byte_source_containers(src), "gzip");
	ck_assert_str_eq(byte_source_unread_container(src), "bzip2");
	byte_source_close(src);
	src = byte_source_open(fd_with("memray\0", 7));
	ck_assert_ptr_null(byte_source_unread_container(src));
	byte_source_close(src);
	free(gz);
}
END_TEST

START_TEST(test_nested_through_a_pipe)
{
	/* zstd around lz4: detection waits for whole magics at every level. */
	static const uint8_t text[] = "memray\0 nested, through a pipe";
	size_t l4, z;
	uint8_t *lz4 = lz4_frame(text, sizeof text - 1, &l4);
	uint8_t *zst = zstd_frame(lz4, l4, &z);

	check_slow_pipe(zst, z, "lz4 in zstd", text, sizeof text - 1);
	free(zst);
	free(lz4);
}
END_TEST

/* Read stream to its end: the error and its offset in the input. */
static void
expect_error_at(const uint8_t *stream, size_t len, const char *what, uint64_t offset)
{
	struct byte_source *src = byte_source_open(fd_with(stream, len));
	size_t got_len;
	uint8_t *got = read_all(src, 4096, &got_len);

	ck_assert_ptr_nonnull(byte_source_error(src));
	ck_assert_msg(strstr(byte_source_error(src), what) != NULL, "error \"%s\", expected \"%s\"",
	    byte_source_error(src), what);
	ck_assert_uint_eq(byte_source_error_offset(src), offset);
	free(got);
	byte_source_close(src);
}

START_TEST(test_errors_placed_in_the_input)
{
	size_t len = MIB, clen, glen, xlen, zlen;
	uint8_t *data = sample(len, 17);
	uint8_t *frame = lz4_frame(data, len, &clen);

	/* Cut short: at the end of the input, however little came out. */
	expect_error_at(frame, 20, "lz4 stream cut short", 20);
	expect_error_at(frame, clen / 2, "lz4 stream cut short", clen / 2);
	uint8_t *gz = gzip_member(frame, clen, &glen);
	expect_error_at(gz, glen - 9, "gzip stream cut short", glen - 9);
	uint8_t *xz = xz_stream(data, len, &xlen);
	expect_error_at(xz, xlen / 3, "xz stream cut short", xlen / 3);
	uint8_t *zst = zstd_frame(data, len, &zlen);
	expect_error_at(zst, zlen - 1, "zstd stream cut short", zlen - 1);
	/* An lz4 capture cut short, then gzipped whole: the inner stream is cut at the end. */
	free(gz);
	gz = gzip_member(frame, clen / 2, &glen);
	expect_error_at(gz, glen, "lz4 stream cut short", glen);

	/*
	 * Damaged lz4 data is placed at the start of the block being decoded
	 * (the decoder reads each block with the next one's header).
	 */
	uint32_t first_block;
	memcpy(&first_block, frame + 7, 4);	/* after the 7-byte frame header */
	size_t second = 7 + 4 + (first_block & 0x7fffffff);
	frame[second] = 0xff;	/* the second block's size: too large */
	frame[second + 1] = 0xff;
	frame[second + 2] = 0xff;
	frame[second + 3] = 0x7f;
	expect_error_at(frame, clen, "damaged lz4 data", 7 + 4);

	/* Damaged deflate data: where zlib found it (deflate may find it late: the CRC at the end). */
	free(gz);
	gz = gzip_member(data, len, &glen);
	memset(gz + glen / 2, 0xff, 64);
	struct byte_source *src = byte_source_open(fd_with(gz, glen));
	size_t got_len;
	uint8_t *got = read_all(src, 4096, &got_len);
	ck_assert_ptr_nonnull(strstr(byte_source_error(src), "damaged gzip data"));
	ck_assert_uint_ge(byte_source_error_offset(src), glen / 2);	/* never before the damage */
	ck_assert_uint_le(byte_source_error_offset(src), glen);
	free(got);
	byte_source_close(src);

	/*
	 * Damaged zstd data is placed at the start of the piece being decoded,
	 * a block or, here, the frame's 4-byte checksum.
	 */
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	ck_assert_ptr_nonnull(cctx);
	ck_assert(!ZSTD_isError(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1)));
	zlen = ZSTD_compress2(cctx, zst, ZSTD_compressBound(len), data, len);
	ck_assert(!ZSTD_isError(zlen));
	ZSTD_freeCCtx(cctx);
	zst[zlen - 1] ^= 0xff;
	expect_error_at(zst, zlen, "damaged zstd data", zlen - 4);

	free(zst);
	free(xz);
	free(gz);
	free(frame);
	free(data);
}
END_TEST

static Suite *
byte_source_suite(void)
{
	Suite *s = suite_create("byte_source");
	TCase *tc;

	tc = tcase_create("raw");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_raw_passthrough);
	tcase_add_test(tc, test_raw_empty_and_short);
	tcase_add_test(tc, test_pipe_magic_in_pieces);
	suite_add_tcase(s, tc);

	tc = tcase_create("zeros");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_trailing_zeros_dropped);
	tcase_add_test(tc, test_inner_zeros_kept);
	tcase_add_test(tc, test_zeros_spanning_many_reads);
	tcase_add_test(tc, test_zeros_at_chunk_boundaries);
	suite_add_tcase(s, tc);

	tc = tcase_create("compressed");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_lz4_roundtrip);
	tcase_add_test(tc, test_lz4_small_and_empty);
	tcase_add_test(tc, test_lz4_padding_dropped);
	tcase_add_test(tc, test_zstd_roundtrip);
	tcase_add_test(tc, test_compression_names);
	tcase_add_test(tc, test_gzip_and_xz_roundtrip);
	tcase_add_test(tc, test_gzip_members);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_nested_through_a_pipe);
	tcase_add_test(tc, test_unread_containers_named);
	suite_add_tcase(s, tc);

	tc = tcase_create("damaged");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_lz4_truncated);
	tcase_add_test(tc, test_lz4_missing_end_mark);
	tcase_add_test(tc, test_lz4_corrupt_header);
	tcase_add_test(tc, test_zstd_truncated);
	tcase_add_test(tc, test_read_error);
	tcase_add_test(tc, test_errors_placed_in_the_input);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return run_suite(byte_source_suite());
}
