/*
 * Reads HTTP/1.x requests from a client socket with http-parser: first the
 * head (so the bridge can decide — refuse, answer 100-continue — before any
 * body is read), then the body, decoded from chunked and bounded.  Several
 * requests on one connection, pipelined or not, are read in order.
 */
#ifndef ATH_HTTP_REQUEST_H
#define ATH_HTTP_REQUEST_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#include "client_conn.h"
#include "err.h"
#include "http_headers.h"

#define HTTP_MAX_HEAD (64 * 1024)
#define HTTP_MAX_TARGET 8192

struct http_req {
	char method[24];
	char *target;
	size_t target_len;
	int major, minor;
	struct hdr_list headers;
	bool keep_alive;
	bool expect_continue;
	bool chunked;
	long long content_length;     /* -1: none given */

	unsigned char *body;
	size_t body_len;
	bool body_overflow;           /* more than the limit arrived (discarded) */
};

struct req_reader {
	struct client_conn *conn;
	http_parser parser;
	http_parser_settings settings;
	struct http_req *req;
	bool in_value;
	bool started, head_done, message_done;
	bool failed;                  /* our own callbacks failed (limits, memory) */
	int fail_status;
	size_t body_limit;
	bool discard;
	size_t head_bytes;
	char buf[16384];
	size_t off, len;              /* unparsed bytes: buf[off..len) */
};

void req_reader_init(struct req_reader *r, struct client_conn *conn);

/* Reads the next request's head.  1: got it; 0: the client closed cleanly
 * between requests; -1: a bad request (err says why, status 400/431/414)
 * or a dead connection (err->code ATH_E_CLIENT_GONE). */
int req_read_head(struct req_reader *r, struct http_req *req, struct ath_error *err);

/* Reads the body of the request whose head was read.  Keeps at most limit
 * bytes (the rest is read and dropped, body_overflow set); with discard,
 * keeps nothing.  0 on success, -1 as above. */
int req_read_body(struct req_reader *r, size_t limit, bool discard, struct ath_error *err);

void http_req_free(struct http_req *req);

#endif
