#include "http_head.h"

#include <http_parser.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct head_ctx {
	struct http_head *h;
	bool in_value;
	bool failed;
	bool complete;
};

static int on_status(http_parser *p, const char *at, size_t len)
{
	struct head_ctx *c = p->data;
	size_t have = strlen(c->h->reason);
	size_t room = sizeof c->h->reason - 1 - have;
	memcpy(c->h->reason + have, at, len < room ? len : room);
	c->h->reason[have + (len < room ? len : room)] = '\0';
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	struct head_ctx *c = p->data;
	if (hdr_collect(&c->h->headers, &c->in_value, false, at, len))
		c->failed = true;
	return c->failed;
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	struct head_ctx *c = p->data;
	if (hdr_collect(&c->h->headers, &c->in_value, true, at, len))
		c->failed = true;
	return c->failed;
}

static int on_headers_complete(http_parser *p)
{
	struct head_ctx *c = p->data;
	c->complete = true;
	c->h->status = p->status_code;
	c->h->chunked = (p->flags & F_CHUNKED) != 0;
	c->h->content_length = (p->flags & F_CONTENTLENGTH) ? (long long)p->content_length : -1;
	return 1; /* no body follows in this block */
}

int http_head_parse(struct http_head *h, const char *block, size_t len)
{
	memset(h, 0, sizeof *h);
	h->content_length = -1;
	struct head_ctx c = { .h = h };
	http_parser_settings s;
	http_parser_settings_init(&s);
	s.on_status = on_status;
	s.on_header_field = on_field;
	s.on_header_value = on_value;
	s.on_headers_complete = on_headers_complete;
	http_parser p;
	http_parser_init(&p, HTTP_RESPONSE);
	p.data = &c;
	http_parser_execute(&p, &s, block, len);
	if (!c.complete && HTTP_PARSER_ERRNO(&p) == HPE_OK) {
		/* Supply the blank line the module left out (or both CRLFs). */
		static const char crlf2[] = "\r\n\r\n";
		size_t tail = len >= 2 && block[len - 1] == '\n' ? 2 : 4;
		http_parser_execute(&p, &s, crlf2 + 4 - tail, tail);
	}
	if (!c.complete || c.failed) {
		http_head_free(h);
		return -1;
	}
	if (!h->reason[0])
		snprintf(h->reason, sizeof h->reason, "%s", http_reason(h->status));
	return 0;
}

void http_head_free(struct http_head *h)
{
	hdr_free(&h->headers);
}

const char *http_reason(int status)
{
	static const struct { int status; const char *reason; } table[] = {
		{ 100, "Continue" }, { 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
		{ 204, "No Content" }, { 206, "Partial Content" }, { 301, "Moved Permanently" },
		{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
		{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
		{ 400, "Bad Request" }, { 401, "Unauthorized" }, { 403, "Forbidden" },
		{ 404, "Not Found" }, { 405, "Method Not Allowed" }, { 408, "Request Timeout" },
		{ 411, "Length Required" }, { 413, "Content Too Large" }, { 414, "URI Too Long" },
		{ 417, "Expectation Failed" }, { 421, "Misdirected Request" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].status == status)
			return table[i].reason;
	return "Unknown";
}
