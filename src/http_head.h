/* Parses a response's status line and header block (what a module hands
 * back from the origin) with http-parser. */
#ifndef ATH_HTTP_HEAD_H
#define ATH_HTTP_HEAD_H

#include <stdbool.h>
#include <stddef.h>

#include "http_headers.h"

struct http_head {
	int status;
	char reason[64];
	struct hdr_list headers;
	long long content_length;  /* -1 when absent */
	bool chunked;
};

/* 0 on success, -1 when block is not a response head.  A block that lacks
 * the final blank line is accepted: modules differ on whether they keep it. */
int http_head_parse(struct http_head *h, const char *block, size_t len);
void http_head_free(struct http_head *h);
/* The standard reason phrase for a status. */
const char *http_reason(int status);

#endif
