/* An ordered list of HTTP header fields, names compared case-insensitively. */
#ifndef ATH_HTTP_HEADERS_H
#define ATH_HTTP_HEADERS_H

#include <stdbool.h>
#include <stddef.h>

struct hdr {
	char *name;
	char *value;
};

struct hdr_list {
	struct hdr *v;
	size_t n, cap;
	size_t bytes;       /* sum of name and value lengths, for limits */
};

/* Adds a field; returns 0, or -1 when out of memory. */
int hdr_add(struct hdr_list *l, const char *name, size_t nlen, const char *value, size_t vlen);
/* Appends to the last field's name (value false) or value (value true):
 * http-parser delivers both in pieces. */
int hdr_append(struct hdr_list *l, bool value, const char *s, size_t len);
/* For http-parser's header callbacks, which hand names and values over in
 * pieces (even empty ones): a name piece after a value piece starts a new
 * field.  *in_value tracks which came last.  0, or -1 out of memory. */
int hdr_collect(struct hdr_list *l, bool *in_value, bool value, const char *s, size_t len);
const char *hdr_get(const struct hdr_list *l, const char *name);
bool hdr_is(const char *a, const char *b);
/* Does the comma-separated value of field name contain token (case-insensitive)? */
bool hdr_has_token(const struct hdr_list *l, const char *name, const char *token);
void hdr_free(struct hdr_list *l);

#endif
