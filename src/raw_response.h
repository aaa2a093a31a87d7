/*
 * Reads an origin's response as raw-packet modules hand it back, byte for
 * byte (status line, headers, body in its wire framing), and streams it into
 * a response_sink: the real head once, then the body de-chunked.  It knows
 * where the message ends (Content-Length, chunked, or the connection's end
 * for a body without either), so the driver can tell the module's own words
 * after the message from the message itself, and a response that stops
 * short is an error, never a short body passed off as whole.
 *
 * Modules differ on chunked bodies: some pass the chunk framing, some
 * de-chunk yet keep the origin's Transfer-Encoding field.  The first body
 * line decides: a chunk-size line ("1a3f[;ext]\r\n") means framed; anything
 * else means the module de-chunked it, and the body runs to the end of
 * the stream (a de-chunked body that itself begins with such a line is
 * misread: the price of the ambiguity).
 *
 * Interim 1xx responses are skipped; trailers are dropped (the response
 * writer re-frames the body); HEAD, 204 and 304 carry no body.  Memory is
 * the head only: the body is never gathered.
 */
#ifndef ATH_RAW_RESPONSE_H
#define ATH_RAW_RESPONSE_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#include "dialect.h"

#define RAW_MAX_HEAD (64 * 1024)
/* Body bytes kept back until the module has said the response is over. */
#define RAW_HOLD 64

enum raw_state {
	RAW_HEAD,              /* reading the status line and headers */
	RAW_BODY_SNIFF,        /* the head says chunked: is the body still chunked? */
	RAW_BODY,              /* the head is out; the body's end is framed */
	RAW_BODY_UNTIL_CLOSE,  /* the head is out; the body ends with the connection */
	RAW_DONE,              /* the whole message is in */
	RAW_FAILED,            /* not HTTP, or too large a head, or truncated */
};

struct raw_response {
	http_parser parser;
	http_parser_settings settings;
	const struct response_sink *sink;
	bool head_request;
	enum raw_state state;
	struct http_head head;
	bool in_value;
	size_t head_bytes;
	bool interim;                  /* the head being read is a 1xx */
	bool started;                  /* the head went to the sink */
	bool head_lf_pending;          /* paused before the head's last LF */
	bool client_gone;              /* the sink refused: keep reading, stop passing on */
	unsigned long long body_bytes; /* received (all but the held ones delivered) */
	unsigned char hold[RAW_HOLD];  /* the latest body bytes, not yet delivered */
	size_t hold_len;
	/* Some firmware de-chunks the body yet keeps the origin's
	 * "Transfer-Encoding: chunked": the first body line tells. */
	char sniff[64];
	size_t sniff_len;
	bool module_dechunked;         /* then the body runs to the end of the stream */
	char why[120];                 /* what went wrong, for RAW_FAILED */
};

void raw_response_init(struct raw_response *rr, bool head_request, const struct response_sink *sink);

/* Feeds bytes from the module.  Returns how many belong to the message:
 * fewer than len when it ended (RAW_DONE) or failed within them, or when
 * its head ended and the body runs until the connection closes (then feed
 * the rest again, once the end of the stream can be told apart). */
size_t raw_response_feed(struct raw_response *rr, const void *data, size_t len);

/* The same, for a driver's at_chat stream sink: once the message is over,
 * the rest of the stream is the module's own framing (counted into
 * *leftover, line breaks aside), and *watch tells the parser how the
 * stream's end is to be found from here.  Returns the bytes consumed. */
size_t raw_response_feed_stream(struct raw_response *rr, const void *data, size_t len,
				enum at_stream_watch *watch, size_t *leftover);

/* The module says the response is over: completes a body that ends with
 * the connection, and delivers the body's last RAW_HOLD bytes, held back
 * until now.  ATH_OK if the message is whole; otherwise ATH_E_PROTOCOL
 * with the reason in err (truncated, not HTTP), and the held bytes are
 * never delivered.  Call it only after the module's own end of the
 * response: what precedes that end may be the module's words. */
enum ath_err raw_response_end(struct raw_response *rr, struct ath_error *err);

/* Does the body run until the module's output ends (no length or chunk
 * framing of its own, or a chunked head with nothing after it yet)?  Then
 * only the module's own result says whether it is whole: on a failure the
 * driver must not call raw_response_end. */
bool raw_response_open_ended(const struct raw_response *rr);

/* The head was passed to the sink (the response has started). */
bool raw_response_started(const struct raw_response *rr);

void raw_response_free(struct raw_response *rr);

#endif
