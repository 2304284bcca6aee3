/*
 * utf8: names as well-formed UTF-8 (fix F5, doc/capture-format.md §0).
 *
 * memray decodes function, file and thread names as UTF-8 when it renders
 * them, and stops with UnicodeDecodeError on a name that is not.  Every
 * writer passes the names it writes through utf8_repair instead: each
 * maximal ill-formed subpart becomes U+FFFD (Unicode §3.9, "U+FFFD
 * Substitution of Maximal Subparts"), exactly as Python's
 * bytes.decode("utf-8", errors="replace") does, and the first repair of a
 * run says so in one warning on stderr.
 */
#ifndef MT_UTF8_H
#define MT_UTF8_H

#include <stddef.h>

/* The length of the well-formed prefix of s[0..len): len if s is valid UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t len);

/* Where utf8_repair writes a repaired name; start it zeroed. */
struct utf8_buffer {
	char *text;
	size_t cap;
};

/*
 * s[0..*len) as well-formed UTF-8: s itself if it is already, else its
 * repair in buf (NUL-terminated, valid until the next call with buf), with
 * *len updated.
 */
const char *utf8_repair(struct utf8_buffer *buf, const char *s, size_t *len);

void utf8_buffer_free(struct utf8_buffer *buf);

#endif
