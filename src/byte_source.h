/*
 * byte_source: the decompressed byte stream of a capture.
 *
 * Reads a file descriptor in fixed-size chunks, never seeks, and detects
 * containers by their first bytes: an LZ4 frame (what `memray run` writes
 * by default), a zstd frame, gzip or xz, else a raw capture
 * (doc/capture-format.md §1.2).  Containers may be nested, up to
 * BYTE_SOURCE_MAX_LAYERS deep (a capture gzipped or xz-compressed for
 * storage, or `zstd -c` of an lz4 capture): what one layer decompresses
 * is checked for a magic number again, all in the same single pass.
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
	COMPRESSION_ZSTD,
	COMPRESSION_GZIP,
	COMPRESSION_XZ
};

/* Containers read inside one another at most; a deeper one is an error. */
#define BYTE_SOURCE_MAX_LAYERS 4

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
/*
 * Where in the input (the bytes read from fd) that error is: the end of
 * the input for a stream cut short; else the start of the lz4 or zstd
 * block being decoded, or where zlib or liblzma stopped.  Damage to an inner
 * container is placed at how far the outermost one had been read.
 */
uint64_t byte_source_error_offset(const struct byte_source *src);

/* The outermost container, COMPRESSION_NONE for a raw capture. */
enum compression byte_source_compression(const struct byte_source *src);
/* The containers, innermost first: "lz4 in zstd", "gzip", or "none". */
const char *byte_source_containers(const struct byte_source *src);
const char *compression_name(enum compression c);
/*
 * A container that is recognised but not read ("bzip2", "zip", ...) at
 * the start of what the containers hold, or NULL.
 */
const char *byte_source_unread_container(const struct byte_source *src);

/* Bytes read from the file descriptor so far (compressed bytes). */
uint64_t byte_source_input_offset(const struct byte_source *src);

#endif
