#include "http_headers.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *grow(char *s, const char *add, size_t len)
{
	size_t old = s ? strlen(s) : 0;
	char *n = realloc(s, old + len + 1);
	if (!n)
		return NULL;
	memcpy(n + old, add, len);
	n[old + len] = '\0';
	return n;
}

int hdr_add(struct hdr_list *l, const char *name, size_t nlen, const char *value, size_t vlen)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct hdr *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	char *n = grow(NULL, name, nlen);
	char *val = grow(NULL, value, vlen);
	if (!n || !val) {
		free(n);
		free(val);
		return -1;
	}
	l->v[l->n++] = (struct hdr){ n, val };
	l->bytes += nlen + vlen;
	return 0;
}

int hdr_append(struct hdr_list *l, bool value, const char *s, size_t len)
{
	if (!l->n)
		return -1;
	struct hdr *h = &l->v[l->n - 1];
	char **field = value ? &h->value : &h->name;
	char *n = grow(*field, s, len);
	if (!n)
		return -1;
	*field = n;
	l->bytes += len;
	return 0;
}

int hdr_collect(struct hdr_list *l, bool *in_value, bool value, const char *s, size_t len)
{
	int rc;
	if (value)
		rc = hdr_append(l, true, s, len);
	else if (*in_value || !l->n)
		rc = hdr_add(l, s, len, "", 0);
	else
		rc = hdr_append(l, false, s, len);
	*in_value = value;
	return rc;
}

bool hdr_is(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

const char *hdr_get(const struct hdr_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (hdr_is(l->v[i].name, name))
			return l->v[i].value;
	return NULL;
}

bool hdr_has_token(const struct hdr_list *l, const char *name, const char *token)
{
	size_t tlen = strlen(token);
	for (size_t i = 0; i < l->n; i++) {
		if (!hdr_is(l->v[i].name, name))
			continue;
		const char *p = l->v[i].value;
		while (*p) {
			while (*p == ' ' || *p == '\t' || *p == ',')
				p++;
			const char *start = p;
			while (*p && *p != ',')
				p++;
			const char *end = p;
			while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
				end--;
			if ((size_t)(end - start) == tlen && strncasecmp(start, token, tlen) == 0)
				return true;
		}
	}
	return false;
}

void hdr_free(struct hdr_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].name);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}
