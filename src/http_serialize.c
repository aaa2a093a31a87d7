#include "http_serialize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RFC 9110 5.6.2 tchar. */
static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
			return false;
	}
	return true;
}

/* A field value may hold visible bytes, spaces, tabs and obs-text; a CR,
 * LF or NUL would end the field (or the head) early on the origin's side. */
static bool value_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static bool target_ok(const char *s)
{
	if (*s != '/')
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c == 0x7f)
			return false;
	}
	return true;
}

enum ath_err http_serialize_request(const struct raw_request_spec *s, unsigned char **out,
				    size_t *out_len, struct ath_error *err)
{
	*out = NULL;
	*out_len = 0;
	if (!is_token(s->method))
		return ath_fail(err, ATH_E_BAD_REQUEST, -1, "the method is not a token");
	if (!target_ok(s->target))
		return ath_fail(err, ATH_E_BAD_REQUEST, -1, "the request target cannot be sent as it is");
	if (!value_ok(s->host) || !*s->host)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1, "the Host value cannot be sent as it is");
	for (size_t i = 0; i < s->headers->n; i++) {
		const struct hdr *h = &s->headers->v[i];
		if (!is_token(h->name))
			return ath_fail(err, ATH_E_BAD_REQUEST, -1, "a header name is not a token");
		if (!value_ok(h->value))
			return ath_fail(err, ATH_E_BAD_REQUEST, -1,
					"header %s: its value holds a control byte", h->name);
	}

	char length[48] = "";
	if (s->body_len || s->body_framed)
		snprintf(length, sizeof length, "Content-Length: %zu\r\n", s->body_len);
	size_t cap = strlen(s->method) + strlen(s->target) + strlen(" HTTP/1.1\r\n") + 2 +
		     strlen("Host: \r\n") + strlen(s->host) + strlen(length) + 2 + s->body_len + 1;
	if (s->connection)
		cap += strlen("Connection: \r\n") + strlen(s->connection);
	for (size_t i = 0; i < s->headers->n; i++)
		cap += strlen(s->headers->v[i].name) + strlen(s->headers->v[i].value) + 4;
	unsigned char *b = malloc(cap);
	if (!b)
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	char *p = (char *)b;
	size_t o = (size_t)snprintf(p, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n", s->method, s->target, s->host);
	for (size_t i = 0; i < s->headers->n; i++)
		o += (size_t)snprintf(p + o, cap - o, "%s: %s\r\n", s->headers->v[i].name,
				      s->headers->v[i].value);
	o += (size_t)snprintf(p + o, cap - o, "%s", length);
	if (s->connection)
		o += (size_t)snprintf(p + o, cap - o, "Connection: %s\r\n", s->connection);
	memcpy(p + o, "\r\n", 2);
	o += 2;
	if (s->body_len)
		memcpy(b + o, s->body, s->body_len);
	*out = b;
	*out_len = o + s->body_len;
	return ATH_OK;
}
