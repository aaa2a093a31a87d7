/* A growable string: commands, response heads, files put together piece
 * by piece.  Out of memory is sticky: every later add does nothing and
 * the owner checks oom once, at the end. */
#ifndef ATH_STRBUF_H
#define ATH_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *p;        /* NUL-terminated once anything was added; NULL before */
	size_t len, cap;
	bool oom;
};

void strbuf_add(struct strbuf *b, const void *s, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
void strbuf_addf(struct strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Frees the text and leaves b empty, ready for reuse. */
void strbuf_free(struct strbuf *b);

/* Copies src into dst (n bytes), cut to fit; dst is NUL-terminated
 * unless n is 0.  For fixed fields filled from a module's answer. */
void str_copy_cut(char *dst, size_t n, const char *src);

#endif
