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
#include "netup.h"
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
	const char *url;                /* http[s]://host[:port]/path?query */
	/* The same URL in parts, as the bridge parsed it once: the module
	 * connects to host:port (port always set: 80 or 443 by default),
	 * over TLS when tls; target is the origin form (path?query). */
	bool tls;
	const char *host;               /* without brackets for IPv6 */
	unsigned port;
	const char *target;
	/* With tls: the module MUST verify the server's certificate against
	 * the roots tls_setup loaded (modem.c sets it from tls_setup's
	 * verdict; false only under --insecure-upstream). */
	bool verify_upstream;
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

/* The module side of https, as the user configured it. */
struct module_tls {
	/* The roots the module is to verify servers with (--module-ca),
	 * PEM as read from the file, NUL-terminated; NULL: none given. */
	const char *ca_pem;
	size_t ca_len;                /* without the NUL */
	/* The user allows https the module does not verify
	 * (--insecure-upstream): responses are marked, never silent. */
	bool insecure;
};

/* What tls_setup found out: whether the module will verify servers. */
struct tls_verdict {
	bool verified;                /* roots loaded, verification on */
	char why[200];                /* when not: why, for the 502 or the trace */
};

/* What a driver works with. */
struct modem_io {
	struct at_chat *chat;
	struct trace *trace;
	void *state;                  /* state_size bytes, zeroed when the port opens */
	const void *params;           /* the dialect record's params */
	int baud;
	int action_timeout_ms;        /* longest wait for the origin's answer */
	const struct module_tls *tls;  /* never NULL */
};

/* After every operation, on every path, modem.c removes the chat's block
 * and stream sinks and its raw observer (at_chat_clear_consumers): one an
 * operation set never outlives it, and the next finds none. */
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
	/* MAY (NULL: the dialect has no https; such requests answer 502):
	 * make the module ready for https requests.  modem.c calls it once
	 * after each bring-up, before the first exchange with rq->tls, and
	 * not for http.  It MUST load io->tls->ca_pem into the module where
	 * the family has a command for it, turn server verification on and
	 * SNI on where there is a switch, and say in v whether the module
	 * will verify (with io->tls->ca_pem NULL it never does: the module
	 * would have no roots; it then MUST configure verification off, so
	 * --insecure-upstream requests can run).  An error fails the request
	 * as exchange's would (the module's code named). */
	enum ath_err (*tls_setup)(struct modem_io *io, struct tls_verdict *v,
				  struct ath_error *err);
	/* MAY (NULL: nothing to put back): leave the module as a program
	 * starting after us expects to find it: HTTP service stopped
	 * (SIMCom AT+HTTPTERM), instances deleted (OneMO).  Called when the
	 * engine closes with the module up and in step; bounded like any
	 * command; an error is traced, never fatal. */
	enum ath_err (*teardown)(struct modem_io *io, struct ath_error *err);
};

struct dialect {
	const char *name;
	const char *summary;
	const struct dialect_caps *caps;
	const struct at_syntax *syntax;
	const struct dialect_ops *ops;
	size_t state_size;
	const void *params;           /* for drivers shared by twins (quectel/httpcfg) */
	/* A harmless test or read command this family answers OK and every
	 * other family ERROR, for telling which one a module speaks (athttp
	 * doctor): the twins differ by their prefix. */
	const char *identify_probe;
	/* How a cold module of this family gets onto the network (SIM,
	 * registration, context or WiFi join); see netup.h.  NULL: nothing
	 * to do. */
	const struct netup_profile *netup;
};

const struct dialect *dialect_find(const char *name);
unsigned verb_from_method(const char *method);

#endif
