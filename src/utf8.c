/* utf8: names as well-formed UTF-8 (see utf8.h). */
#include "utf8.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"
#include "xmalloc.h"

/*
 * The length of the well-formed UTF-8 sequence at s[0..len) (Unicode
 * table 3-7: no overlongs, no surrogates, nothing above U+10FFFF), or 0
 * if it is ill-formed; then *bad is the length of its maximal ill-formed
 * subpart: the lead byte and the continuation bytes that were still
 * acceptable, at least 1.
 */
static size_t
sequence(const unsigned char *s, size_t len, size_t *bad)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;	/* range of the second byte */
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;	/* overlong */
		else if (c == 0xED)
			hi = 0x9F;	/* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;	/* overlong */
		else if (c == 0xF4)
			hi = 0x8F;	/* above U+10FFFF */
	} else {
		*bad = 1;	/* a continuation byte, C0, C1 or F5-FF */
		return 0;
	}
	for (size_t i = 1; i < need; i++) {
		if (i >= len || s[i] < lo || s[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

size_t
utf8_valid_prefix(const char *text, size_t len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t i = 0, n, bad;

	while (i < len) {
		/*
		 * ASCII eight bytes at a time: names are nearly all ASCII, and a
		 * CSV stack field is checked whole (leaves' 29 MB: byte by byte,
		 * 8% of the run).
		 */
		uint64_t word;
		if (len - i >= sizeof word) {
			memcpy(&word, s + i, sizeof word);
			if ((word & UINT64_C(0x8080808080808080)) == 0) {
				i += sizeof word;
				continue;
			}
		}
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		n = sequence(s + i, len - i, &bad);
		if (n == 0)
			break;
		i += n;
	}
	return i;
}

const char *
utf8_repair(struct utf8_buffer *buf, const char *text, size_t *len)
{
	static const char replacement[] = "\xEF\xBF\xBD";
	static bool warned;
	const unsigned char *s = (const unsigned char *)text;
	size_t i = utf8_valid_prefix(text, *len), out = i, n, bad;

	if (i == *len)
		return text;
	if (!warned) {
		warned = true;
		warning("a name is not valid UTF-8: written with U+FFFD for each ill-formed "
		    "byte sequence (memray would stop with UnicodeDecodeError)");
	}
	/* The prefix stays; each bad byte after it becomes at most 3; then a NUL. */
	if (*len > (SIZE_MAX - 1) / 3)
		fatal("out of memory (string of %zu bytes)", *len);
	if (3 * *len + 1 > buf->cap) {
		buf->cap = 3 * *len + 1;
		buf->text = xrealloc(buf->text, buf->cap);
	}
	memcpy(buf->text, text, i);
	while (i < *len) {
		n = sequence(s + i, *len - i, &bad);
		if (n > 0) {
			memcpy(buf->text + out, s + i, n);
			out += n;
			i += n;
		} else {
			memcpy(buf->text + out, replacement, 3);
			out += 3;
			i += bad;
		}
	}
	buf->text[out] = '\0';
	*len = out;
	return buf->text;
}

void
utf8_buffer_free(struct utf8_buffer *buf)
{
	free(buf->text);
	buf->text = NULL;
	buf->cap = 0;
}
