/* A human-readable log of the AT conversation (ATHTTP_TRACE, -v). */
#ifndef ATH_TRACE_H
#define ATH_TRACE_H

#include <stddef.h>

struct trace;

/* path NULL and to_stderr 0 gives NULL: every trace_* call accepts NULL. */
struct trace *trace_open(const char *path, int to_stderr);
void trace_close(struct trace *t);

/* dir is '>' for host to module, '<' for module to host, '#' for a note. */
void trace_line(struct trace *t, char dir, const char *text, size_t len);
/* Binary data: its length and an escaped preview. */
void trace_data(struct trace *t, char dir, const char *what, const void *data, size_t len);
void trace_note(struct trace *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes s as printable ASCII, escaping the rest as \r \n \xHH; at most
 * outlen-1 characters.  Returns how many input bytes were consumed. */
size_t trace_escape(char *out, size_t outlen, const void *s, size_t len);

#endif
