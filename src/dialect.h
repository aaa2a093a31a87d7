/*
 * A module family: a capability record the bridge decides from, the framing
 * tables the AT parser reads, and a small ops table.  curl's Curl_scheme /
 * Curl_protocol split is the model.  A new dialect is one dialect_<name>.c
 * plus one line in dialects.c.
 */
#ifndef ATH_DIALECT_H
#define ATH_DIALECT_H

#include <stdbool.h>
#include <stddef.h>

#include "at_chat.h"
#include "at_syntax.h"
#include "err.h"
#include "http_head.h"
#include "http_headers.h"
#include "trace.h"

/* HTTP methods as bits, for the capability masks. */
enum http_verb {
	VERB_GET = 1u << 0,
	VERB_HEAD = 1u << 1,
	VERB_POST = 1u << 2,
	VERB_PUT = 1u << 3,
	VERB_DELETE = 1u << 4,
	VERB_PATCH = 1u << 5,
	VERB_OPTIONS = 1u << 6,
};

/* How a carried header value reaches the module, which decides the values
 * the bridge must refuse (501) rather than hand to the driver. */
enum header_carriage {
	/* Inside a quoted AT string with no escapes: a quote, a backslash or
	 * a control byte cannot travel. */
	CARRY_QUOTED = 0,
	/* Inside a quoted string with ESP-AT's escapes (\" \\ \,): every
	 * printable byte travels; a control byte cannot. */
	CARRY_ESCAPED,
	/* The driver has a length-counted data phase for values a quoted
	 * string cannot hold: every byte a header value may hold travels. */
	CARRY_ANY,
};

/* What a dialect can carry.  The bridge alone applies it (request_policy.c):
 * it drops hop-by-hop and cosmetic headers, refuses with 501 a request whose
 * meaning needs a header the dialect cannot carry, 413 a body over the
 * limit, 400 anything unsafe on the AT line.  No driver repeats that. */
struct dialect_caps {
	unsigned methods;              /* verbs the module can send */
	unsigned body_methods;         /* verbs whose body it can send */
	size_t max_body;               /* largest request body, bytes */
	size_t max_url;                /* longest URL the command takes */
	/* The request reaches the origin byte for byte (custom-packet mode):
	 * every header is carried.  The bridge writes the bytes
	 * (http_serialize.c) into dialect_request.raw. */
	bool raw_request;
	/* With raw_request: the largest request (head and body) the module
	 * takes (0: max_body alone limits), and the Connection field it needs
	 * on it (NULL: none). */
	size_t max_raw_request;
	const char *raw_connection;
	/* Without raw_request: the headers that travel as command parameters,
	 * NULL-terminated; the entry "*" stands for every header athttp does
	 * not handle itself (Host, framing, Connection, Expect).  Each value
	 * at most max_header_value bytes, and carriable as value_carriage
	 * says. */
	const char *const *carried_headers;
	size_t max_header_value;
	enum header_carriage value_carriage;
	/* Status line and headers come from the origin, not made up. */
	bool real_response_head;
	/* What the limits are named after in messages, e.g. "AT+HTTPDATA". */
	const char *body_limit_name;
};

/* A request as the bridge hands it to a driver: already checked against the
 * capability record, URL safe to put in a quoted AT string. */
struct dialect_request {
	unsigned verb;
	const char *method;
	const char *url;                /* http://host[:port]/path?query */
	const struct hdr_list *headers; /* only carried ones (all for raw) */
	const unsigned char *body;
	size_t body_len;
	/* With caps->raw_request: the whole request as the origin gets it
	 * (origin-form target, the client's headers, Content-Length for the
	 * de-chunked body, the dialect's Connection), body included. */
	const unsigned char *raw;
	size_t raw_len;
};

/* Where a driver delivers the response. */
struct response_sink {
	/* MUST be called exactly once, before any body.  content_length is
	 * what will be delivered (-1: unknown until the end); for HEAD it is
	 * the origin's figure.  synthesized: the module gave no real head. */
	enum ath_err (*head)(void *ctx, const struct http_head *head,
			     long long content_length, bool synthesized);
	/* The body in order.  An error means the client is gone: the driver
	 * MUST still leave the module in step, and may stop reading. */
	enum ath_err (*body)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* What a driver works with. */
struct modem_io {
	struct at_chat *chat;
	struct trace *trace;
	void *state;                  /* state_size bytes, zeroed when the port opens */
	const void *params;           /* the dialect record's params */
	int baud;
	int action_timeout_ms;        /* longest wait for the origin's answer */
};

struct dialect_ops {
	/* MUST: bring a just-opened module to where exchange() can run (sync,
	 * echo off, service started).  Called again after a failed recover. */
	enum ath_err (*bringup)(struct modem_io *io, struct ath_error *err);
	/* MUST: carry out one request, streaming the response into sink.
	 * Failing before sink->head lets the bridge answer err's status;
	 * after it, the client's connection is cut (the body is incomplete).
	 * ATH_E_MODULE means the module is in step; ATH_E_TIMEOUT,
	 * ATH_E_PROTOCOL and ATH_E_IO mean it may not be. */
	enum ath_err (*exchange)(struct modem_io *io, const struct dialect_request *rq,
				 const struct response_sink *sink, struct ath_error *err);
	/* MAY: put the module back in a known state after a failed exchange.
	 * NULL: drain the port and run bringup again. */
	enum ath_err (*recover)(struct modem_io *io, struct ath_error *err);
};

struct dialect {
	const char *name;
	const char *summary;
	const struct dialect_caps *caps;
	const struct at_syntax *syntax;
	const struct dialect_ops *ops;
	size_t state_size;
	const void *params;           /* for drivers shared by twins (quectel/httpcfg) */
};

const struct dialect *dialect_find(const char *name);
unsigned verb_from_method(const char *method);

#endif
