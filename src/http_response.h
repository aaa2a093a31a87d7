/*
 * Writes the response the client gets: a well-formed HTTP/1.1 message whose
 * framing headers say what is actually delivered (modules de-chunk, so the
 * origin's Transfer-Encoding and Content-Length cannot be passed on as they
 * are), the body streamed as it arrives.
 */
#ifndef ATH_HTTP_RESPONSE_H
#define ATH_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>

#include "client_conn.h"
#include "err.h"
#include "http_head.h"

struct resp_writer {
	struct client_conn *conn;
	bool head_request;        /* the request was HEAD: never a body */
	bool client_keep_alive;   /* the client wants the connection kept */
	int client_minor;         /* HTTP/1.<minor> of the request */
	const char *extra;        /* extra header lines to add ("Name: v\r\n"...) */

	bool started;             /* the head is out: errors can only cut the connection */
	bool chunked;             /* body sent chunked (length unknown, 1.1 client) */
	bool close_after;         /* the connection must close after this response */
	bool no_body;
	long long remaining;      /* body bytes still owed (-1: until the end) */
	bool failed;
};

void resp_init(struct resp_writer *w, struct client_conn *conn, bool head_request, bool keep_alive, int minor);

/* Sends the status line and the origin's headers, minus hop-by-hop and
 * framing fields, plus framing for content_length (-1: unknown).  For HEAD
 * the origin's Content-Length is kept as is.  synthesized adds a header
 * saying the module gave no real head. */
enum ath_err resp_start(struct resp_writer *w, const struct http_head *h,
			long long content_length, bool synthesized);
enum ath_err resp_body(struct resp_writer *w, const void *data, size_t len);
/* Ends the body (last chunk).  Fails if fewer bytes came than announced. */
enum ath_err resp_finish(struct resp_writer *w);

/* A complete short response made here (100 Continue excepted: use
 * resp_continue).  error_header, if given, goes out as X-Athttp-Error. */
enum ath_err resp_simple(struct client_conn *conn, int status, const char *error_header, const char *body,
			 bool keep_alive, const char *extra);
enum ath_err resp_continue(struct client_conn *conn);

#endif
