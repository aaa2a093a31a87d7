#include "request_policy.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_serialize.h"

enum header_class {
	HC_LOCAL,        /* handled by athttp itself: framing, connection, Expect, Host */
	HC_MEANINGFUL,   /* the request means something else without it */
	HC_COSMETIC,     /* anything else: dropped where it cannot travel */
};

/* Request fields athttp consumes itself. */
static const char *const local_fields[] = {
	"Host", "Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer",
	"Transfer-Encoding", "Upgrade", "Content-Length", "Expect", NULL,
};

/* Fields whose loss changes what the request asks for (credentials, state,
 * partial and conditional requests, body encoding). */
static const char *const meaningful_fields[] = {
	"Authorization", "Proxy-Authorization", "Cookie", "Range", "If-Match",
	"If-None-Match", "If-Modified-Since", "If-Unmodified-Since", "If-Range",
	"Content-Encoding", "Content-Range", "Content-Type", NULL,
};

static bool in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (hdr_is(*list, name))
			return true;
	return false;
}

/* A carried_headers list: "*" is every header. */
static bool carries(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (strcmp(*list, "*") == 0 || hdr_is(*list, name))
			return true;
	return false;
}

/* Can a header value travel the way the dialect carries values? */
static bool value_carriable(enum header_carriage how, const char *v, size_t len)
{
	switch (how) {
	case CARRY_QUOTED:
		return at_string_safe(v, len);
	case CARRY_ESCAPED:
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
				return false;
		return true;
	case CARRY_ANY:
		/* http-parser lets a tab through; a line break or NUL never
		 * reaches here, but the data phase would carry them too. */
		return true;
	}
	return false;
}

static const char *carriage_refusal(enum header_carriage how)
{
	switch (how) {
	case CARRY_QUOTED:
		return "quote, backslash, control byte or";
	case CARRY_ESCAPED:
		return "control byte or";
	case CARRY_ANY:
		break;
	}
	return "a value";
}

static enum header_class classify(const char *name)
{
	if (in_list(local_fields, name))
		return HC_LOCAL;
	if (in_list(meaningful_fields, name) || strncasecmp(name, "If-", 3) == 0)
		return HC_MEANINGFUL;
	return HC_COSMETIC;
}

bool header_changes_meaning(const char *name)
{
	return classify(name) == HC_MEANINGFUL;
}

bool at_string_safe(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		/* Controls end or corrupt the command line; a quote ends the
		 * string; a backslash starts an escape on some firmware; a
		 * string constant is IA5 (V.250 5.4.2.2), so no byte over 0x7e. */
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* host[:port] or [v6]:port, nothing else. */
static bool host_safe(const char *h)
{
	if (!*h || strlen(h) > 255)
		return false;
	for (const char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr(".-_:[]", *p))
			return false;
	return true;
}

static const char *first_unsafe_what(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"')
			return "a double quote";
		if (c == '\\')
			return "a backslash";
		if (c == '\r' || c == '\n')
			return "a line break";
		if (c == 0)
			return "a NUL byte";
		if (c < 0x20 || c == 0x7f)
			return "a control byte";
	}
	return NULL;
}

/* RFC 9110 5.1: a field name is a token.  http-parser holds a program's
 * requests to that; the API's callers are held here. */
static bool field_name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static void note_dropped(struct prepared_request *p, const char *name)
{
	size_t used = strlen(p->dropped);
	if (used + strlen(name) + 3 >= sizeof p->dropped)
		return;
	snprintf(p->dropped + used, sizeof p->dropped - used, "%s%s", used ? ", " : "", name);
}

/* Builds scheme://host/path; bytes >= 0x80 become %XX (same meaning, and
 * the module gets plain ASCII). */
static char *build_url(const char *scheme, const char *host, const char *path, size_t plen)
{
	size_t cap = strlen(scheme) + 3 + strlen(host) + plen * 3 + 2;
	char *u = malloc(cap);
	if (!u)
		return NULL;
	size_t o = (size_t)snprintf(u, cap, "%s://%s", scheme, host);
	for (size_t i = 0; i < plen; i++) {
		unsigned char c = (unsigned char)path[i];
		if (c >= 0x80)
			o += (size_t)snprintf(u + o, cap - o, "%%%02X", c);
		else
			u[o++] = (char)c;
	}
	u[o] = '\0';
	return u;
}

/* "host", "host:port", "[v6]" or "[v6]:port" (already host_safe) into the
 * bare host and the port; false for a port that is not 1..65535. */
static bool split_authority(const char *a, unsigned dflt, char *host, size_t hostlen,
			    unsigned *port)
{
	const char *colon;
	size_t hl;
	if (a[0] == '[') {
		const char *close = strchr(a, ']');
		if (!close)
			return false;
		hl = (size_t)(close - a - 1);
		a++;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return false;
	} else {
		colon = strchr(a, ':');
		if (colon && strchr(colon + 1, ':'))
			return false;
		hl = colon ? (size_t)(colon - a) : strlen(a);
	}
	if (!hl || hl >= hostlen)
		return false;
	memcpy(host, a, hl);
	host[hl] = '\0';
	*port = dflt;
	if (colon) {
		char *end;
		unsigned long n = strtoul(colon + 1, &end, 10);
		if (!isdigit((unsigned char)colon[1]) || *end || n == 0 || n > 65535)
			return false;
		*port = (unsigned)n;
	}
	return true;
}

enum ath_err request_prepare(const struct dialect *d, const struct http_req *req,
			     const struct athttp_peer *peer, struct prepared_request *out,
			     struct ath_error *err)
{
	return request_prepare_tls(d, req, peer, NULL, out, err);
}

enum ath_err request_prepare_tls(const struct dialect *d, const struct http_req *req,
				 const struct athttp_peer *peer, const char *tls_name,
				 struct prepared_request *out, struct ath_error *err)
{
	const struct dialect_caps *caps = d->caps;
	memset(out, 0, sizeof *out);

	unsigned verb = verb_from_method(req->method);
	if (!verb || !(caps->methods & verb))
		return ath_fail(err, ATH_E_UNSUPPORTED, -1,
				"method %s is not supported by the %s dialect", req->method, d->name);
	if (req->major != 1)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1, "only HTTP/1.x is served");

	/* Where to: the target's authority (absolute form), else Host, else
	 * the connection's destination.  The scheme is the connection's: a
	 * request that arrived inside TLS goes out as https. */
	const char *target = req->target ? req->target : "";
	size_t tlen = req->target_len;
	bool tls = tls_name != NULL;
	char host[300] = "";
	const char *path = target;
	size_t plen = tlen;
	size_t slen = 0;
	if (tlen >= 7 && strncasecmp(target, "http://", 7) == 0)
		slen = 7;
	else if (tlen >= 8 && strncasecmp(target, "https://", 8) == 0)
		slen = 8;
	if (slen) {
		if (tls_name && slen == 7)
			return ath_fail(err, ATH_E_BAD_REQUEST, -1,
					"an http:// request target inside a TLS connection");
		tls = slen == 8;
		const char *a = target + slen;
		const char *slash = strchr(a, '/');
		size_t alen = slash ? (size_t)(slash - a) : strlen(a);
		if (alen >= sizeof host)
			return ath_fail(err, ATH_E_BAD_REQUEST, -1, "host name too long");
		memcpy(host, a, alen);
		host[alen] = '\0';
		path = slash ? slash : "/";
		plen = slash ? tlen - (size_t)(slash - target) : 1;
	} else if (tlen && target[0] == '/') {
		const char *h = hdr_get(&req->headers, "Host");
		if (h && *h)
			snprintf(host, sizeof host, "%s", h);
		else if (peer && peer->host) {
			/* A numeric IPv6 destination needs brackets in a URL. */
			bool v6 = strchr(peer->host, ':') != NULL;
			char port[8] = "";
			if (peer->port != (tls ? 443u : 80u))
				snprintf(port, sizeof port, ":%u", peer->port);
			snprintf(host, sizeof host, "%s%s%s%s", v6 ? "[" : "", peer->host, v6 ? "]" : "", port);
		}
	} else {
		return ath_fail(err, ATH_E_UNSUPPORTED, -1,
				"request target form not supported (only /path or http[s]://host/path)");
	}
	if (!host[0])
		return ath_fail(err, ATH_E_BAD_REQUEST, -1, "no Host header");
	if (!host_safe(host) ||
	    !split_authority(host, tls ? 443 : 80, out->url_host, sizeof out->url_host, &out->port))
		return ath_fail(err, ATH_E_BAD_REQUEST, -1,
				"Host contains characters that cannot be sent to the module");
	/* The program's TLS was checked against a certificate for tls_name:
	 * a request for another server must not ride on that trust. */
	if (tls_name && strcasecmp(out->url_host, tls_name) != 0) {
		return ath_fail_status(err, ATH_E_BAD_REQUEST, 421, -1,
				       "the request is for %s but the TLS connection was made for %s",
				       out->url_host, tls_name);
	}
	const char *bad = first_unsafe_what(path, plen);
	if (bad)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1,
				"the URL contains %s, which cannot be put on the AT command line", bad);

	const char *scheme = tls ? "https" : "http";
	out->url = build_url(scheme, host, path, plen);
	if (!out->url)
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	out->target = out->url + strlen(scheme) + 3 + strlen(host);
	/* The client's Host stays authoritative (the module connects to the
	 * URL's authority, which may be a fake address's name). */
	const char *client_host = hdr_get(&req->headers, "Host");
	snprintf(out->host, sizeof out->host, "%s", client_host && *client_host ? client_host : host);
	out->body_framed = req->chunked || req->content_length >= 0;
	enum ath_err e;
	if (caps->max_url && strlen(out->url) > caps->max_url) {
		e = ath_fail_status(err, ATH_E_BAD_REQUEST, 414, -1,
				    "URL longer than the %s module takes (%zu bytes)", d->name,
				    caps->max_url);
		goto refused;
	}

	/* Headers: carried, dropped, or a reason to refuse. */
	bool has_body = req->chunked || req->content_length > 0;
	for (size_t i = 0; i < req->headers.n; i++) {
		const struct hdr *h = &req->headers.v[i];
		if (!field_name_ok(h->name)) {
			e = ath_fail(err, ATH_E_BAD_REQUEST, -1, "a header name that is not a token (RFC 9110 5.1)");
			goto refused;
		}
		enum header_class hc = classify(h->name);
		if (hc == HC_LOCAL)
			continue;
		bool carried = caps->raw_request || carries(caps->carried_headers, h->name);
		if (carried && !caps->raw_request) {
			size_t vlen = strlen(h->value);
			if (!value_carriable(caps->value_carriage, h->value, vlen) ||
			    (caps->max_header_value && vlen > caps->max_header_value)) {
				e = ath_fail(err, ATH_E_UNSUPPORTED, -1,
					     "header %s: its value cannot be sent by the %s dialect "
					     "(%s over %zu bytes)",
					     h->name, d->name, carriage_refusal(caps->value_carriage),
					     caps->max_header_value);
				goto refused;
			}
		}
		if (carried) {
			if (hdr_add(&out->carried, h->name, strlen(h->name), h->value, strlen(h->value))) {
				e = ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
				goto refused;
			}
			continue;
		}
		/* Content-Type matters only with a body. */
		if (hc == HC_MEANINGFUL && !(hdr_is(h->name, "Content-Type") && !has_body)) {
			e = ath_fail(err, ATH_E_UNSUPPORTED, -1,
				     "header %s cannot be carried by the %s dialect, and the request "
				     "would mean something else without it", h->name, d->name);
			goto refused;
		}
		note_dropped(out, h->name);
	}

	if (has_body && !(caps->body_methods & verb)) {
		e = ath_fail(err, ATH_E_UNSUPPORTED, -1,
			     "the %s dialect cannot send a request body with %s", d->name, req->method);
		goto refused;
	}
	if (req->content_length > 0 && (size_t)req->content_length > caps->max_body) {
		e = ath_fail(err, ATH_E_TOO_LARGE, -1,
			     "request body of %lld bytes exceeds the %s limit of %zu bytes (%s)",
			     req->content_length, d->name, caps->max_body,
			     caps->body_limit_name ? caps->body_limit_name : "module");
		goto refused;
	}

	out->rq.verb = verb;
	out->rq.method = req->method;
	out->rq.url = out->url;
	out->rq.tls = tls;
	out->rq.host = out->url_host;
	out->rq.port = out->port;
	out->rq.target = out->target;
	out->rq.headers = &out->carried;
	return ATH_OK;

refused:
	prepared_request_free(out);
	return e;
}

enum ath_err request_attach_body(const struct dialect *d, struct prepared_request *p,
				 const unsigned char *body, size_t len, struct ath_error *err)
{
	p->rq.body = body;
	p->rq.body_len = len;
	if (!d->caps->raw_request)
		return ATH_OK;
	struct raw_request_spec spec = {
		.method = p->rq.method,
		.target = p->target,
		.host = p->host,
		.headers = &p->carried,
		.body = body,
		.body_len = len,
		.body_framed = p->body_framed,
		.connection = d->caps->raw_connection,
	};
	size_t raw_len;
	free(p->raw);
	p->raw = NULL;
	enum ath_err e = http_serialize_request(&spec, &p->raw, &raw_len, err);
	if (e != ATH_OK)
		return e;
	size_t limit = d->caps->max_raw_request;
	if (limit && raw_len > limit)
		return ath_fail(err, ATH_E_TOO_LARGE, -1,
				"request of %zu bytes (head and body) exceeds the %s limit of %zu bytes (%s)",
				raw_len, d->name, limit,
				d->caps->body_limit_name ? d->caps->body_limit_name : "module");
	p->rq.raw = p->raw;
	p->rq.raw_len = raw_len;
	return ATH_OK;
}

size_t request_body_limit(const struct dialect *d, const struct prepared_request *p)
{
	return (d->caps->body_methods & p->rq.verb) ? d->caps->max_body : 0;
}

void prepared_request_free(struct prepared_request *p)
{
	free(p->url);
	free(p->raw);
	hdr_free(&p->carried);
	p->url = NULL;
	p->raw = NULL;
}
