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

void unit_split_url(struct dialect_request *rq)
{
	static struct { char host[512]; char target[8192]; } ring[64];
	static unsigned next;
	const char *u = rq->url;
	rq->tls = strncmp(u, "https://", 8) == 0;
	u += rq->tls ? 8 : strncmp(u, "http://", 7) == 0 ? 7 : 0;
	size_t alen = strcspn(u, "/");
	const char *slash = u + alen;
	const char *host = u, *host_end = slash;
	if (*u == '[') {
		host = u + 1;
		host_end = memchr(u, ']', alen);
		if (!host_end)
			abort();
	} else if (memchr(u, ':', alen)) {
		host_end = memchr(u, ':', alen);
	}
	const char *colon = memchr(host_end, ':', (size_t)(slash - host_end));
	rq->port = colon ? (unsigned)strtoul(colon + 1, NULL, 10) : rq->tls ? 443 : 80;
	unsigned k = next++ % 64;
	if ((size_t)(host_end - host) >= sizeof ring[k].host)
		abort();
	memcpy(ring[k].host, host, (size_t)(host_end - host));
	ring[k].host[host_end - host] = '\0';
	snprintf(ring[k].target, sizeof ring[k].target, "%s", *slash ? slash : "/");
	rq->host = ring[k].host;
	rq->target = ring[k].target;
}
