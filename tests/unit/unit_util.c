#include "unit_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

char *vfmt(const char *f, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0)
		abort();
	return s;
}

char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = vfmt(f, ap);
	va_end(ap);
	return s;
}

struct http_req mkreq(const char *method, const char *target, ...)
{
	struct http_req q = { .major = 1, .minor = 1, .content_length = -1, .keep_alive = true };
	snprintf(q.method, sizeof q.method, "%s", method);
	q.target = strdup(target);
	q.target_len = strlen(target);
	va_list ap;
	va_start(ap, target);
	const char *name;
	while ((name = va_arg(ap, const char *))) {
		const char *value = va_arg(ap, const char *);
		hdr_add(&q.headers, name, strlen(name), value, strlen(value));
		if (!strcasecmp(name, "Content-Length"))
			q.content_length = atoll(value);
	}
	va_end(ap);
	return q;
}
