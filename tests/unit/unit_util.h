/* Small helpers shared by the unit tests. */
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

#include <stdarg.h>

#include "dialect.h"
#include "http_request.h"

/* A malloc'ed printf; the caller frees it. */
char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* The same with a va_list. */
char *vfmt(const char *f, va_list ap) __attribute__((format(printf, 1, 0)));
/* A parsed request as http_request.c would give it: HTTP/1.1, keep-alive,
 * then NULL-terminated name, value pairs (a Content-Length sets
 * content_length).  The caller frees it with http_req_free. */
struct http_req mkreq(const char *method, const char *target, ...);

/* rq's url split as the bridge hands it to a driver (dialect.h): tls from
 * the scheme, host without brackets, port (default 80/443), target.  The
 * parts live in a ring of static slots, valid for the next 63 calls. */
void unit_split_url(struct dialect_request *rq);

#endif
