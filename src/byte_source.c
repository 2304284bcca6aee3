/*
 * byte_source: the decompressed byte stream of a capture (see byte_source.h).
 *
 * Three layers: read() into `in`; decompress into `out` (a raw stream is
 * read into `out` directly); and the zero-padding filter that hands out
 * `out` without its trailing zeros.
 */
#include "byte_source.h"

#include <errno.h>
#include <lz4frame.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "xmalloc.h"

#define IN_CHUNK (64 * 1024)
#define OUT_CHUNK (256 * 1024)

static const uint8_t LZ4_FRAME_MAGIC[4] = { 0x04, 0x22, 0x4d, 0x18 };
static const uint8_t ZSTD_FRAME_MAGIC[4] = { 0x28, 0xb5, 0x2f, 0xfd };

struct byte_source {
	int fd;
	enum compression compression;
	LZ4F_dctx *lz4;
	ZSTD_DStream *zstd;
	size_t decoder_hint;	/* non-zero while a compressed frame is unfinished */

	uint8_t in[IN_CHUNK];
	size_t in_pos, in_end;
	bool in_eof;
	uint64_t in_offset;

	uint8_t *out;
	size_t out_pos, out_end;	/* deliverable: ends with a non-zero byte */
	uint64_t zeros_ready;		/* zeros to deliver before out[out_pos..] */
	uint64_t zeros_withheld;	/* zeros after out[..out_end]: padding unless data follows */
	bool eof;
	char error[160];
};

const char *
compression_name(enum compression c)
{
	switch (c) {
	case COMPRESSION_LZ4:
		return "lz4";
	case COMPRESSION_ZSTD:
		return "zstd";
	case COMPRESSION_NONE:
		break;
	}
	return "none";
}

static void
set_error(struct byte_source *src, const char *fmt, const char *detail)
{
	if (src->error[0] == '\0')
		snprintf(src->error, sizeof src->error, fmt, detail);
	src->eof = true;
}

/* One read() of up to n bytes into dst; returns 0 at the end of input or on error. */
static size_t
read_into(struct byte_source *src, uint8_t *dst, size_t n)
{
	while (!src->in_eof && src->error[0] == '\0') {
		ssize_t got = read(src->fd, dst, n);
		if (got > 0) {
			src->in_offset += (uint64_t)got;
			return (size_t)got;
		}
		if (got == 0)
			src->in_eof = true;
		else if (errno != EINTR)
			set_error(src, "read error: %s", strerror(errno));
	}
	return 0;
}

/* One read() into in[in_end..]; returns false at the end of input or on error. */
static bool
read_input(struct byte_source *src)
{
	size_t got = read_into(src, src->in + src->in_end, sizeof src->in - src->in_end);

	src->in_end += got;
	return got > 0;
}

/* Refill `in` if it is empty; returns false at the end of input or on error. */
static bool
fill_input(struct byte_source *src)
{
	if (src->in_pos < src->in_end)
		return true;
	src->in_pos = src->in_end = 0;
	return read_input(src);
}

/*
 * The next piece of a raw stream in out: what the magic check left in
 * `in`, then straight from read(), as a copy through `in` would cost a
 * pass over every byte.
 */
static size_t
read_raw_chunk(struct byte_source *src)
{
	size_t n = src->in_end - src->in_pos;

	if (n > 0) {
		memcpy(src->out, src->in + src->in_pos, n);
		src->in_pos = src->in_end;
		return n;
	}
	return read_into(src, src->out, OUT_CHUNK);
}

/* Decompress (or read) the next piece of the stream into out; returns its length, 0 at the end. */
static size_t
decode_chunk(struct byte_source *src)
{
	if (src->compression == COMPRESSION_NONE)
		return read_raw_chunk(src);
	while (fill_input(src)) {
		size_t avail = src->in_end - src->in_pos;
		const uint8_t *from = src->in + src->in_pos;
		size_t produced = 0;

		if (src->compression == COMPRESSION_LZ4) {
			size_t out_size = OUT_CHUNK;
			size_t hint = LZ4F_decompress(src->lz4, src->out, &out_size, from, &avail, NULL);
			if (LZ4F_isError(hint)) {
				set_error(src, "damaged lz4 data: %s", LZ4F_getErrorName(hint));
				return 0;
			}
			src->decoder_hint = hint;
			src->in_pos += avail;
			produced = out_size;
		} else {
			ZSTD_inBuffer zin = { from, avail, 0 };
			ZSTD_outBuffer zout = { src->out, OUT_CHUNK, 0 };
			size_t hint = ZSTD_decompressStream(src->zstd, &zout, &zin);
			if (ZSTD_isError(hint)) {
				set_error(src, "damaged zstd data: %s", ZSTD_getErrorName(hint));
				return 0;
			}
			src->decoder_hint = hint;
			src->in_pos += zin.pos;
			produced = zout.pos;
		}
		if (produced > 0)
			return produced;
	}
	if (src->decoder_hint != 0 && src->error[0] == '\0')
		set_error(src, "%s stream cut short", compression_name(src->compression));
	return 0;
}

/* Bring the next deliverable data into out; returns false at the end. */
static bool
refill(struct byte_source *src)
{
	while (!src->eof) {
		size_t n = decode_chunk(src);
		if (n == 0) {
			src->eof = true;	/* withheld zeros were padding */
			break;
		}
		size_t end = n;
		while (end > 0 && src->out[end - 1] == 0)
			end--;
		if (end == 0) {
			src->zeros_withheld += n;
			continue;
		}
		src->zeros_ready = src->zeros_withheld;
		src->zeros_withheld = n - end;
		src->out_pos = 0;
		src->out_end = end;
		return true;
	}
	return false;
}

size_t
byte_source_read(struct byte_source *src, uint8_t *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		if (src->zeros_ready > 0) {
			size_t k = n - done;
			if (k > src->zeros_ready)
				k = (size_t)src->zeros_ready;
			memset(buf + done, 0, k);
			src->zeros_ready -= k;
			done += k;
			continue;
		}
		if (src->out_pos == src->out_end) {
			if (!refill(src))
				break;
			continue;	/* zeros withheld from the last piece come first */
		}
		size_t k = src->out_end - src->out_pos;
		if (k > n - done)
			k = n - done;
		memcpy(buf + done, src->out + src->out_pos, k);
		src->out_pos += k;
		done += k;
	}
	return done;
}

struct byte_source *
byte_source_open(int fd)
{
	struct byte_source *src = xcalloc(1, sizeof *src);

	src->fd = fd;
	src->out = xmalloc(OUT_CHUNK);
	/* Read the magic: up to four bytes, however the pipe delivers them. */
	while (src->in_end < 4 && read_input(src))
		continue;
	if (src->in_end >= 4 && memcmp(src->in, LZ4_FRAME_MAGIC, 4) == 0) {
		src->compression = COMPRESSION_LZ4;
		if (LZ4F_isError(LZ4F_createDecompressionContext(&src->lz4, LZ4F_VERSION)))
			set_error(src, "%s", "cannot create an lz4 decompression context");
	} else if (src->in_end >= 4 && memcmp(src->in, ZSTD_FRAME_MAGIC, 4) == 0) {
		src->compression = COMPRESSION_ZSTD;
		src->zstd = ZSTD_createDStream();
		if (src->zstd == NULL)
			set_error(src, "%s", "cannot create a zstd decompression context");
	}
	return src;
}

void
byte_source_close(struct byte_source *src)
{
	if (src == NULL)
		return;
	if (src->lz4 != NULL)
		LZ4F_freeDecompressionContext(src->lz4);
	ZSTD_freeDStream(src->zstd);
	free(src->out);
	free(src);
}

const char *
byte_source_error(const struct byte_source *src)
{
	return src->error[0] ? src->error : NULL;
}

enum compression
byte_source_compression(const struct byte_source *src)
{
	return src->compression;
}

uint64_t
byte_source_input_offset(const struct byte_source *src)
{
	return src->in_offset;
}
