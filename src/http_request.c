#include "http_request.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int on_message_begin(http_parser *p)
{
	struct req_reader *r = p->data;
	r->in_value = false;
	r->head_bytes = 0;
	r->started = true;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct req_reader *r = p->data;
	struct http_req *q = r->req;
	if (q->target_len + len > HTTP_MAX_TARGET) {
		r->failed = true;
		r->fail_status = 414;
		return -1;
	}
	char *t = realloc(q->target, q->target_len + len + 1);
	if (!t) {
		r->failed = true;
		return -1;
	}
	memcpy(t + q->target_len, at, len);
	q->target_len += len;
	t[q->target_len] = '\0';
	q->target = t;
	return 0;
}

static int head_limit(struct req_reader *r, size_t len)
{
	r->head_bytes += len;
	if (r->head_bytes > HTTP_MAX_HEAD) {
		r->failed = true;
		r->fail_status = 431;
		return -1;
	}
	return 0;
}

static int on_header_piece(http_parser *p, bool value, const char *at, size_t len)
{
	struct req_reader *r = p->data;
	if (head_limit(r, len))
		return -1;
	if (hdr_collect(&r->req->headers, &r->in_value, value, at, len)) {
		r->failed = true;
		return -1;
	}
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	return on_header_piece(p, false, at, len);
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	return on_header_piece(p, true, at, len);
}

static int on_headers_complete(http_parser *p)
{
	struct req_reader *r = p->data;
	struct http_req *q = r->req;
	snprintf(q->method, sizeof q->method, "%s", http_method_str((enum http_method)p->method));
	q->major = p->http_major;
	q->minor = p->http_minor;
	q->keep_alive = http_should_keep_alive(p) != 0;
	q->chunked = (p->flags & F_CHUNKED) != 0;
	q->content_length = (p->flags & F_CONTENTLENGTH) ? (long long)p->content_length : -1;
	q->expect_continue = hdr_has_token(&q->headers, "Expect", "100-continue");
	r->head_done = true;
	/* Stop here: the bridge decides before any body is read. */
	http_parser_pause(p, 1);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct req_reader *r = p->data;
	struct http_req *q = r->req;
	if (r->discard)
		return 0;
	if (q->body_len + len > r->body_limit) {
		q->body_overflow = true;
		return 0;
	}
	unsigned char *b = realloc(q->body, q->body_len + len);
	if (!b && q->body_len + len) {
		r->failed = true;
		return -1;
	}
	memcpy(b + q->body_len, at, len);
	q->body = b;
	q->body_len += len;
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct req_reader *r = p->data;
	r->message_done = true;
	/* The next pipelined request waits in the buffer until asked for. */
	http_parser_pause(p, 1);
	return 0;
}

void req_reader_init(struct req_reader *r, struct client_conn *conn)
{
	memset(r, 0, sizeof *r);
	r->conn = conn;
	http_parser_init(&r->parser, HTTP_REQUEST);
	r->parser.data = r;
	http_parser_settings_init(&r->settings);
	r->settings.on_message_begin = on_message_begin;
	r->settings.on_url = on_url;
	r->settings.on_header_field = on_field;
	r->settings.on_header_value = on_value;
	r->settings.on_headers_complete = on_headers_complete;
	r->settings.on_body = on_body;
	r->settings.on_message_complete = on_message_complete;
}

/* Feeds buffered bytes, reading more when needed, until *flag is set. 1 ok,
 * 0 clean EOF before any byte of a message, -1 error. */
static int run_until(struct req_reader *r, bool *flag, struct ath_error *err)
{
	while (!*flag) {
		if (r->off == r->len) {
			ssize_t n = client_conn_read(r->conn, r->buf, sizeof r->buf);
			if (n < 0) {
				ath_fail(err, ATH_E_CLIENT_GONE, -1, "client connection failed");
				return -1;
			}
			r->off = 0;
			r->len = (size_t)n;
			if (n == 0) {
				/* Let the parser see EOF (it may end a body). */
				http_parser_execute(&r->parser, &r->settings, NULL, 0);
				if (*flag)
					return 1;
				if (!r->started)
					return 0;
				ath_fail(err, ATH_E_CLIENT_GONE, -1, "client closed mid-request");
				return -1;
			}
		}
		http_parser_pause(&r->parser, 0);
		size_t n = http_parser_execute(&r->parser, &r->settings, r->buf + r->off, r->len - r->off);
		r->off += n;
		enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);
		if (e == HPE_PAUSED)
			continue;
		if (e != HPE_OK || r->failed) {
			int status = r->failed && r->fail_status ? r->fail_status : 400;
			ath_fail_status(err, ATH_E_BAD_REQUEST, status, -1, "%s",
					status == 431 ? "request header block too large"
					: status == 414 ? "request target too long"
					: http_errno_description(e));
			return -1;
		}
	}
	return 1;
}

int req_read_head(struct req_reader *r, struct http_req *req, struct ath_error *err)
{
	memset(req, 0, sizeof *req);
	req->content_length = -1;
	r->req = req;
	r->head_done = r->message_done = r->started = false;
	int rc = run_until(r, &r->head_done, err);
	if (rc == 1 && !r->head_done)
		return 0;
	return rc;
}

int req_read_body(struct req_reader *r, size_t limit, bool discard, struct ath_error *err)
{
	r->body_limit = limit;
	r->discard = discard;
	int rc = run_until(r, &r->message_done, err);
	if (rc == 0) {
		ath_fail(err, ATH_E_CLIENT_GONE, -1, "client closed before the body");
		return -1;
	}
	return rc == 1 ? 0 : -1;
}

void http_req_free(struct http_req *req)
{
	free(req->target);
	free(req->body);
	hdr_free(&req->headers);
	memset(req, 0, sizeof *req);
}
