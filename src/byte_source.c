/*
 * byte_source: the decompressed byte stream of a capture (see byte_source.h).
 *
 * A stack of layers, each a container being decompressed: layer 0 reads
 * the file descriptor into its `in`, layer k reads what layer k - 1
 * decompresses, and the last layer decompresses into `out`, which the
 * zero-padding filter hands out without its trailing zeros.  A raw
 * capture has no layer: it is read into `out` directly.  A container is
 * one `struct codec` (magic number, start, decode, stop) in the table
 * below: adding one is adding an entry.
 */
#include "byte_source.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <lz4frame.h>
#include <lzma.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

#include "xmalloc.h"

#define IN_CHUNK (64 * 1024)
#define OUT_CHUNK (256 * 1024)
/* byte_source_read decodes straight into a caller's buffer this large or larger. */
#define DIRECT_MIN (64 * 1024)
#define MAX_MAGIC 6

struct layer;

struct codec {
	enum compression kind;
	const char *name;
	uint8_t magic[MAX_MAGIC];
	size_t magic_len;
	/* Set up the decoder; false if the library cannot (out of memory). */
	bool (*start)(struct layer *l);
	/*
	 * Decompress from in[0..*in_len) into out[0..*out_len); both are set
	 * to the bytes used and made.  at_end: no more input will come.
	 * Keeps l->unfinished.  Returns NULL, or why the data is damaged
	 * (then *in_len is the bytes known good before the damage).
	 */
	const char *(*decode)(struct layer *l, const uint8_t *in, size_t *in_len,
	    uint8_t *out, size_t *out_len, bool at_end);
	void (*stop)(struct layer *l);
};

struct layer {
	const struct codec *codec;
	union {
		LZ4F_dctx *lz4;
		ZSTD_DStream *zstd;
		z_stream gzip;
		lzma_stream xz;
	} u;
	size_t hint;		/* lz4, zstd: the input wanted next (0 between frames) */
	bool unfinished;	/* a frame, member or stream has begun and not ended */
	uint8_t *in;		/* IN_CHUNK bytes of the container */
	size_t in_pos, in_end;
	bool in_eof;
	uint64_t consumed;	/* bytes of the container decoded */
};

struct byte_source {
	int fd;
	struct layer layers[BYTE_SOURCE_MAX_LAYERS];	/* outermost first */
	size_t n_layers;
	char containers[64];
	const char *unread;	/* a container not read found inside them, or NULL */
	uint64_t in_offset;	/* bytes read from fd */
	bool fd_eof;

	uint8_t *peek;		/* what magic detection read past the last layer */
	size_t peek_pos, peek_len;

	uint8_t *out;
	size_t out_pos, out_end;	/* deliverable: ends with a non-zero byte */
	uint64_t zeros_ready;		/* zeros to deliver before out[out_pos..] */
	uint64_t zeros_withheld;	/* zeros after out[..out_end]: padding unless data follows */
	bool eof;
	char error[160];
	uint64_t error_offset;
};

/* ---- the containers ------------------------------------------------ */

/*
 * lz4 and zstd are fed what their decoder asks for next, a block (or a
 * frame header's least, `first`, at a frame's start): damage is then
 * placed at the start of its block.
 */
static size_t
block_piece(const struct layer *l, size_t avail, size_t first)
{
	size_t want = l->hint != 0 ? l->hint : first;

	return avail < want ? avail : want;
}

/*
 * The decoder's hint after a call that used or made something; a call
 * that did neither changes nothing (after a frame's end the hint would
 * ask for the next frame's header).
 */
static void
take_hint(struct layer *l, size_t used, size_t made, size_t hint)
{
	if (used > 0 || made > 0) {
		l->hint = hint;
		l->unfinished = hint != 0;
	}
}

static bool
lz4_start(struct layer *l)
{
	return !LZ4F_isError(LZ4F_createDecompressionContext(&l->u.lz4, LZ4F_VERSION));
}

static const char *
lz4_decode(struct layer *l, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
    bool at_end)
{
	(void)at_end;
	*in_len = block_piece(l, *in_len, LZ4F_HEADER_SIZE_MIN);
	size_t hint = LZ4F_decompress(l->u.lz4, out, out_len, in, in_len, NULL);
	if (LZ4F_isError(hint)) {
		*in_len = 0;
		*out_len = 0;
		return LZ4F_getErrorName(hint);
	}
	take_hint(l, *in_len, *out_len, hint);
	return NULL;
}

static void
lz4_stop(struct layer *l)
{
	LZ4F_freeDecompressionContext(l->u.lz4);
}

static bool
zstd_start(struct layer *l)
{
	l->u.zstd = ZSTD_createDStream();
	return l->u.zstd != NULL;
}

static const char *
zstd_decode(struct layer *l, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
    bool at_end)
{
	/* A zstd frame header is at least 6 bytes. */
	ZSTD_inBuffer zin = { in, block_piece(l, *in_len, 6), 0 };
	ZSTD_outBuffer zout = { out, *out_len, 0 };
	size_t hint = ZSTD_decompressStream(l->u.zstd, &zout, &zin);

	(void)at_end;
	if (ZSTD_isError(hint)) {
		*in_len = 0;	/* zstd leaves pos where the piece began */
		*out_len = 0;
		return ZSTD_getErrorName(hint);
	}
	*in_len = zin.pos;
	*out_len = zout.pos;
	take_hint(l, zin.pos, zout.pos, hint);
	return NULL;
}

static void
zstd_stop(struct layer *l)
{
	ZSTD_freeDStream(l->u.zstd);
}

static bool
gzip_start(struct layer *l)
{
	return inflateInit2(&l->u.gzip, 16 + MAX_WBITS) == Z_OK;	/* gzip only */
}

/* Members one after the other, and zero bytes after a member ignored, as gzip -d reads them. */
static const char *
gzip_decode(struct layer *l, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
    bool at_end)
{
	z_stream *z = &l->u.gzip;

	(void)at_end;
	if (!l->unfinished && *in_len > 0 && in[0] == 0) {
		size_t zeros = 1;
		while (zeros < *in_len && in[zeros] == 0)
			zeros++;
		*in_len = zeros;
		*out_len = 0;
		return NULL;
	}
	if (!l->unfinished && *in_len > 0) {
		inflateReset(z);	/* the next member */
		l->unfinished = true;
	}
	z->next_in = in;
	z->avail_in = *in_len > UINT_MAX ? UINT_MAX : (uInt)*in_len;
	z->next_out = out;
	z->avail_out = *out_len > UINT_MAX ? UINT_MAX : (uInt)*out_len;
	int rc = inflate(z, Z_NO_FLUSH);
	*in_len = (size_t)(z->next_in - in);
	*out_len = (size_t)(z->next_out - out);
	switch (rc) {
	case Z_STREAM_END:
		l->unfinished = false;
		return NULL;
	case Z_OK:
	case Z_BUF_ERROR:	/* no progress possible now: more input needed */
		return NULL;
	case Z_MEM_ERROR:
		return "out of memory";
	case Z_NEED_DICT:
		return "needs a preset dictionary";
	default:
		return z->msg != NULL ? z->msg : "invalid data";
	}
}

static void
gzip_stop(struct layer *l)
{
	inflateEnd(&l->u.gzip);
}

static bool
xz_start(struct layer *l)
{
	l->u.xz = (lzma_stream)LZMA_STREAM_INIT;
	/* Concatenated streams and stream padding, as xz -d reads them. */
	return lzma_stream_decoder(&l->u.xz, UINT64_MAX, LZMA_CONCATENATED) == LZMA_OK;
}

static const char *
xz_decode(struct layer *l, const uint8_t *in, size_t *in_len, uint8_t *out, size_t *out_len,
    bool at_end)
{
	lzma_stream *x = &l->u.xz;

	x->next_in = in;
	x->avail_in = *in_len;
	x->next_out = out;
	x->avail_out = *out_len;
	lzma_ret rc = lzma_code(x, at_end ? LZMA_FINISH : LZMA_RUN);
	*in_len = (size_t)(x->next_in - in);
	*out_len = (size_t)(x->next_out - out);
	/* With LZMA_CONCATENATED only LZMA_FINISH at the end of the input can end the stream. */
	l->unfinished = rc != LZMA_STREAM_END;
	switch (rc) {
	case LZMA_OK:
	case LZMA_STREAM_END:
	case LZMA_BUF_ERROR:	/* no progress possible: cut short, if at the end */
		return NULL;
	case LZMA_MEM_ERROR:
	case LZMA_MEMLIMIT_ERROR:
		return "out of memory";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options";
	case LZMA_FORMAT_ERROR:
		return "not in the .xz format";
	default:
		return "corrupt data";
	}
}

static void
xz_stop(struct layer *l)
{
	lzma_end(&l->u.xz);
}

static const struct codec codecs[] = {
	{ COMPRESSION_LZ4, "lz4", { 0x04, 0x22, 0x4d, 0x18 }, 4, lz4_start, lz4_decode, lz4_stop },
	{ COMPRESSION_ZSTD, "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4, zstd_start, zstd_decode, zstd_stop },
	/* gzip: ID1 ID2 and CM 8 (deflate), the only method defined. */
	{ COMPRESSION_GZIP, "gzip", { 0x1f, 0x8b, 0x08 }, 3, gzip_start, gzip_decode, gzip_stop },
	{ COMPRESSION_XZ, "xz", { 0xfd, '7', 'z', 'X', 'Z', 0x00 }, 6, xz_start, xz_decode, xz_stop },
};

/* Containers recognised but not read, so that a message can name them. */
static const struct {
	const char *name;
	uint8_t magic[MAX_MAGIC];
	size_t magic_len;
} unread[] = {
	{ "bzip2", { 'B', 'Z', 'h' }, 3 },
	{ "lz4 legacy-format", { 0x02, 0x21, 0x4c, 0x18 }, 4 },
	{ "zip", { 'P', 'K', 0x03, 0x04 }, 4 },
	{ "7z", { '7', 'z', 0xbc, 0xaf, 0x27, 0x1c }, 6 },
};

static const struct codec *
codec_for_magic(const uint8_t *data, size_t len)
{
	for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
		if (len >= codecs[i].magic_len && memcmp(data, codecs[i].magic, codecs[i].magic_len) == 0)
			return &codecs[i];
	}
	return NULL;
}

const char *
compression_name(enum compression c)
{
	for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
		if (codecs[i].kind == c)
			return codecs[i].name;
	}
	return "none";
}

/* ---- reading and decompressing ------------------------------------- */

static void __attribute__((format(printf, 3, 4)))
set_error(struct byte_source *src, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	if (src->error[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(src->error, sizeof src->error, fmt, ap);
		va_end(ap);
		src->error_offset = offset;
	}
	src->eof = true;
}

/* One read() of up to n bytes into dst; returns 0 at the end of input or on error. */
static size_t
read_into(struct byte_source *src, uint8_t *dst, size_t n)
{
	while (!src->fd_eof && src->error[0] == '\0') {
		ssize_t got = read(src->fd, dst, n);
		if (got > 0) {
			src->in_offset += (uint64_t)got;
			return (size_t)got;
		}
		if (got == 0)
			src->fd_eof = true;
		else if (errno != EINTR)
			set_error(src, src->in_offset, "read error: %s", strerror(errno));
	}
	return 0;
}

/*
 * Up to cap bytes of what layer i decompresses, into dst; 0 at the end of
 * its data or on an error.  Its input comes from read() for layer 0, else
 * from layer i - 1.
 */
static size_t
decode_layer(struct byte_source *src, size_t i, uint8_t *dst, size_t cap)
{
	struct layer *l = &src->layers[i];

	for (;;) {
		if (l->in_pos == l->in_end && !l->in_eof) {
			l->in_pos = 0;
			l->in_end = i == 0 ? read_into(src, l->in, IN_CHUNK) :
			    decode_layer(src, i - 1, l->in, IN_CHUNK);
			l->in_eof = l->in_end == 0;
		}
		if (src->error[0] != '\0')
			return 0;
		size_t used = l->in_end - l->in_pos, made = cap;
		const char *why = l->codec->decode(l, l->in + l->in_pos, &used, dst, &made, l->in_eof);
		l->in_pos += used;
		l->consumed += used;
		if (why != NULL) {
			set_error(src, src->layers[0].consumed, "damaged %s data: %s", l->codec->name, why);
			return 0;
		}
		if (made > 0)
			return made;
		if (l->in_eof && l->in_pos == l->in_end) {
			if (l->unfinished)
				set_error(src, src->layers[0].consumed, "%s stream cut short",
				    l->codec->name);
			return 0;
		}
	}
}

/*
 * The next piece of the stream in out; returns its length, 0 at the end.
 * First what magic detection read ahead, then the last layer's output,
 * or, for a raw capture, straight from read(), as a copy through a
 * buffer would cost a pass over every byte.
 */
static size_t
decode_chunk(struct byte_source *src)
{
	if (src->peek_pos < src->peek_len) {
		size_t n = src->peek_len - src->peek_pos;
		if (n > OUT_CHUNK)
			n = OUT_CHUNK;
		memcpy(src->out, src->peek + src->peek_pos, n);
		src->peek_pos += n;
		return n;
	}
	if (src->n_layers == 0)
		return read_into(src, src->out, OUT_CHUNK);
	return decode_layer(src, src->n_layers - 1, src->out, OUT_CHUNK);
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

/*
 * The next piece of the stream decoded straight into dst (cap bytes),
 * when nothing is held in out: refill's work, without the copy from out.
 * Returns the bytes delivered: 0 if the piece was all zeros (withheld),
 * or if the stream ended (src->eof).
 */
static size_t
decode_direct(struct byte_source *src, uint8_t *dst, size_t cap)
{
	size_t n = src->n_layers == 0 ? read_into(src, dst, cap) :
	    decode_layer(src, src->n_layers - 1, dst, cap);
	if (n == 0) {
		src->eof = true;	/* withheld zeros were padding */
		return 0;
	}
	size_t end = n;
	while (end > 0 && dst[end - 1] == 0)
		end--;
	src->zeros_withheld += n - end;
	return end;
}

size_t
byte_source_read(struct byte_source *src, uint8_t *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		/*
		 * Nothing held back (zeros are, until data follows them): the
		 * next piece can go straight into buf, which saves a copy of
		 * every byte when the caller asks for a piece or more.
		 */
		if (src->out_pos == src->out_end && src->zeros_ready == 0 && src->zeros_withheld == 0 &&
		    src->peek_pos == src->peek_len && !src->eof && n - done >= DIRECT_MIN) {
			done += decode_direct(src, buf + done, n - done);
			continue;
		}
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

/* ---- detection ----------------------------------------------------- */

/*
 * Read the first bytes of each level, however the pipe delivers them,
 * until they are not a container's magic number: each one found becomes
 * a layer, which takes the bytes read as its first input.
 */
struct byte_source *
byte_source_open(int fd)
{
	struct byte_source *src = xcalloc(1, sizeof *src);
	uint8_t *peek = xmalloc(IN_CHUNK);
	size_t len = 0, got;
	const struct codec *c;

	src->fd = fd;
	src->out = xmalloc(OUT_CHUNK);
	while (len < MAX_MAGIC && (got = read_into(src, peek + len, IN_CHUNK - len)) > 0)
		len += got;
	while (src->error[0] == '\0' && (c = codec_for_magic(peek, len)) != NULL) {
		if (src->n_layers == BYTE_SOURCE_MAX_LAYERS) {
			set_error(src, src->layers[0].consumed,
			    "%s data inside %d layers of compression (at most %d are read)", c->name,
			    BYTE_SOURCE_MAX_LAYERS, BYTE_SOURCE_MAX_LAYERS);
			break;
		}
		struct layer *l = &src->layers[src->n_layers];
		if (!c->start(l)) {
			set_error(src, 0, "cannot start %s decompression", c->name);
			break;
		}
		src->n_layers++;
		l->codec = c;
		l->in = peek;
		l->in_end = len;
		peek = xmalloc(IN_CHUNK);
		len = 0;
		while (len < MAX_MAGIC &&
		    (got = decode_layer(src, src->n_layers - 1, peek + len, IN_CHUNK - len)) > 0)
			len += got;
	}
	src->peek = peek;
	src->peek_len = len;
	for (size_t i = 0; i < sizeof unread / sizeof unread[0]; i++) {
		if (len >= unread[i].magic_len && memcmp(peek, unread[i].magic, unread[i].magic_len) == 0)
			src->unread = unread[i].name;
	}

	/* Innermost first: "lz4 in zstd". */
	size_t at = 0;
	for (size_t i = src->n_layers; i-- > 0 && at < sizeof src->containers;) {
		int n = snprintf(src->containers + at, sizeof src->containers - at, "%s%s",
		    at > 0 ? " in " : "", src->layers[i].codec->name);
		at += n > 0 ? (size_t)n : 0;
	}
	if (src->n_layers == 0)
		snprintf(src->containers, sizeof src->containers, "none");
	return src;
}

void
byte_source_close(struct byte_source *src)
{
	if (src == NULL)
		return;
	for (size_t i = 0; i < src->n_layers; i++) {
		src->layers[i].codec->stop(&src->layers[i]);
		free(src->layers[i].in);
	}
	free(src->peek);
	free(src->out);
	free(src);
}

const char *
byte_source_error(const struct byte_source *src)
{
	return src->error[0] ? src->error : NULL;
}

uint64_t
byte_source_error_offset(const struct byte_source *src)
{
	return src->error_offset;
}

enum compression
byte_source_compression(const struct byte_source *src)
{
	return src->n_layers > 0 ? src->layers[0].codec->kind : COMPRESSION_NONE;
}

const char *
byte_source_containers(const struct byte_source *src)
{
	return src->containers;
}

const char *
byte_source_unread_container(const struct byte_source *src)
{
	return src->unread;
}

uint64_t
byte_source_input_offset(const struct byte_source *src)
{
	return src->in_offset;
}
