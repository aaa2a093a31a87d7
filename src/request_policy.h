/*
 * Turns a client's request into a dialect_request, deciding from the
 * dialect's capability record alone: which headers travel, which are
 * dropped, which make the request inexpressible (501), whether the URL can
 * be put on the AT line (400), whether the body fits (413).  Nothing a
 * client sends reaches a driver without passing here.
 */
#ifndef ATH_REQUEST_POLICY_H
#define ATH_REQUEST_POLICY_H

#include "athttp.h"
#include "dialect.h"
#include "http_request.h"

struct prepared_request {
	struct dialect_request rq;
	char *url;
	const char *target;        /* origin form, inside url */
	char host[300];            /* the Host value the origin gets */
	char url_host[256];        /* the URL's host, without port or brackets */
	unsigned port;             /* the URL's port (80/443 when not given) */
	bool body_framed;          /* the client sent Content-Length or chunked */
	unsigned char *raw;        /* raw_request dialects: the request's bytes */
	struct hdr_list carried;
	char dropped[512];         /* names of dropped headers, for X-Athttp-Dropped */
};

/* Checks req's head (the body is not read yet) and fills out.  On failure
 * err says why, with the status to answer; out needs no freeing then. */
enum ath_err request_prepare(const struct dialect *d, const struct http_req *req,
			     const struct athttp_peer *peer, struct prepared_request *out,
			     struct ath_error *err);
/* The same for a request that arrived inside a TLS connection made for
 * tls_name (the SNI name, or the name connected to): the request goes out
 * as https, and one for another host answers 421.  tls_name NULL: plain,
 * as request_prepare (an absolute https:// target still goes out as
 * https). */
enum ath_err request_prepare_tls(const struct dialect *d, const struct http_req *req,
				 const struct athttp_peer *peer, const char *tls_name,
				 struct prepared_request *out, struct ath_error *err);
/* Attaches the body read after request_prepare; for a raw_request dialect
 * also writes the request's bytes (400 for a field that cannot travel as
 * it is, 413 over the module's raw request limit). */
enum ath_err request_attach_body(const struct dialect *d, struct prepared_request *p,
				 const unsigned char *body, size_t len, struct ath_error *err);
/* The body limit for this request under d (0: it may carry none). */
size_t request_body_limit(const struct dialect *d, const struct prepared_request *p);
void prepared_request_free(struct prepared_request *p);

/* Would a request mean something else without this header (credentials,
 * state, partial and conditional requests, body encoding and type)?  For a
 * driver that falls back from a raw packet to a parameterized command. */
bool header_changes_meaning(const char *name);

/* Exposed for tests: is every byte of s[0..len) safe inside a quoted AT
 * string parameter? */
bool at_string_safe(const char *s, size_t len);

#endif
