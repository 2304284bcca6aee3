/*
 * byte_source: the decompressed byte stream of a capture.
 *
 * Reads a file descriptor in fixed-size chunks, never seeks, and detects
 * the container by its first bytes: an LZ4 frame (what `memray run` writes
 * by default), a zstd frame, or a raw capture (capture-format.md §1.2).
 *
 * Zero padding: memray's default file sink grows a raw capture ahead of its
 * data and never truncates it, so the data is followed by zero bytes, and
 * memray's FileSource stops at the last non-zero byte.  A pipe cannot be
 * searched backwards, so runs of zero bytes are withheld (as a count) until
 * a non-zero byte follows them, and dropped at the end of the input.  The
 * same rule is applied to decompressed data, which makes a raw capture
 * compressed by hand read the same as the original.
 */
#ifndef MT_BYTE_SOURCE_H
#define MT_BYTE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

enum compression {
	COMPRESSION_NONE,
	COMPRESSION_LZ4,
	COMPRESSION_ZSTD
};

struct byte_source;

/* Start reading fd (not closed by byte_source_close). */
struct byte_source *byte_source_open(int fd);
void byte_source_close(struct byte_source *src);

/*
 * Copy up to n bytes of the decompressed stream into buf.  Returns the
 * number copied; 0 means the end of the data, or an error that ended it
 * (see byte_source_error).
 */
size_t byte_source_read(struct byte_source *src, uint8_t *buf, size_t n);

/* Why the stream ended early (a read error or damaged compressed data), or NULL. */
const char *byte_source_error(const struct byte_source *src);

enum compression byte_source_compression(const struct byte_source *src);
const char *compression_name(enum compression c);

/* Bytes read from the file descriptor so far (compressed bytes). */
uint64_t byte_source_input_offset(const struct byte_source *src);

#endif
