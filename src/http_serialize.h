/*
 * Writes the request a raw-packet module sends to the origin byte for byte:
 * the client's own method, target (origin form) and end-to-end headers in
 * their order and spelling, and only the framing and connection fields
 * athttp decides itself (the body is already de-chunked, Expect was
 * answered here, the module's connection is not the client's).
 */
#ifndef ATH_HTTP_SERIALIZE_H
#define ATH_HTTP_SERIALIZE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "http_headers.h"

struct raw_request_spec {
	const char *method;
	const char *target;              /* origin form: /path?query */
	const char *host;                /* the Host field's value */
	const struct hdr_list *headers;  /* end-to-end fields, Host and framing excluded */
	const unsigned char *body;
	size_t body_len;
	bool body_framed;                /* the client framed a body: Content-Length even if 0 */
	const char *connection;          /* the Connection field the module needs; NULL: none */
};

/* The request as bytes, in *out (malloc'ed, *out_len long).  A field that
 * would not survive the trip as itself (a line break, NUL or control byte
 * in a value, a name that is not a token) is refused with 400 naming it. */
enum ath_err http_serialize_request(const struct raw_request_spec *s, unsigned char **out,
				    size_t *out_len, struct ath_error *err);

#endif
