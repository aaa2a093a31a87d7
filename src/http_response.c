#include "http_response.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http_headers.h"
#include "strbuf.h"

/* Fields the bridge owns: connection management and framing (RFC 9110
 * 7.6.1 hop-by-hop, plus the framing it rewrites). */
static const char *const owned_fields[] = {
	"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding",
	"TE", "Trailer", "Upgrade", "Content-Length", NULL,
};

void resp_init(struct resp_writer *w, struct client_conn *conn, bool head_request, bool keep_alive, int minor)
{
	memset(w, 0, sizeof *w);
	w->conn = conn;
	w->head_request = head_request;
	w->client_keep_alive = keep_alive;
	w->client_minor = minor;
}

static bool is_owned(const struct hdr_list *origin, const char *name)
{
	for (const char *const *f = owned_fields; *f; f++)
		if (hdr_is(name, *f))
			return true;
	/* Fields the origin named in its Connection header are hop-by-hop too. */
	return origin && hdr_has_token(origin, "Connection", name);
}

static bool status_has_no_body(int status)
{
	return (status >= 100 && status < 200) || status == 204 || status == 304;
}

enum ath_err resp_start(struct resp_writer *w, const struct http_head *h,
			long long content_length, bool synthesized)
{
	struct strbuf b = { 0 };
	w->no_body = w->head_request || status_has_no_body(h->status);
	w->close_after = !w->client_keep_alive;
	strbuf_addf(&b, "HTTP/1.1 %d %s\r\n", h->status, h->reason[0] ? h->reason : http_reason(h->status));
	for (size_t i = 0; i < h->headers.n; i++) {
		const struct hdr *f = &h->headers.v[i];
		bool keep_length = w->head_request && hdr_is(f->name, "Content-Length");
		if (!keep_length && is_owned(&h->headers, f->name))
			continue;
		strbuf_adds(&b, f->name);
		strbuf_adds(&b, ": ");
		strbuf_adds(&b, f->value);
		strbuf_adds(&b, "\r\n");
	}
	if (w->no_body) {
		/* No framing field: nothing follows the head (HEAD keeps the
		 * origin's Content-Length above, as RFC 9110 9.3.2 wants). */
		w->remaining = 0;
	} else if (content_length >= 0) {
		strbuf_addf(&b, "Content-Length: %lld\r\n", content_length);
		w->remaining = content_length;
	} else if (w->client_minor >= 1) {
		strbuf_adds(&b, "Transfer-Encoding: chunked\r\n");
		w->chunked = true;
		w->remaining = -1;
	} else {
		/* An HTTP/1.0 client learns the end from the close. */
		w->close_after = true;
		w->remaining = -1;
	}
	if (synthesized)
		strbuf_adds(&b, "X-Athttp-Synthesized: status and headers made up by athttp; the module does not report them\r\n");
	if (w->extra)
		strbuf_adds(&b, w->extra);
	strbuf_adds(&b, w->close_after ? "Connection: close\r\n" : "Connection: keep-alive\r\n");
	strbuf_adds(&b, "\r\n");
	if (b.oom) {
		strbuf_free(&b);
		return ATH_E_NOMEM;
	}
	w->started = true;
	enum ath_err e = client_conn_write(w->conn, b.p, b.len);
	strbuf_free(&b);
	if (e != ATH_OK)
		w->failed = true;
	return e;
}

enum ath_err resp_body(struct resp_writer *w, const void *data, size_t len)
{
	if (w->failed)
		return ATH_E_CLIENT_GONE;
	if (w->no_body || len == 0)
		return ATH_OK;
	if (w->remaining >= 0) {
		if ((long long)len > w->remaining)
			len = (size_t)w->remaining; /* never more than announced */
		w->remaining -= (long long)len;
	}
	enum ath_err e;
	if (w->chunked) {
		char hdr[24];
		int n = snprintf(hdr, sizeof hdr, "%zx\r\n", len);
		e = client_conn_write(w->conn, hdr, (size_t)n);
		if (e == ATH_OK)
			e = client_conn_write(w->conn, data, len);
		if (e == ATH_OK)
			e = client_conn_write(w->conn, "\r\n", 2);
	} else {
		e = client_conn_write(w->conn, data, len);
	}
	if (e != ATH_OK)
		w->failed = true;
	return e;
}

enum ath_err resp_finish(struct resp_writer *w)
{
	if (w->failed)
		return ATH_E_CLIENT_GONE;
	if (w->chunked)
		return client_conn_write(w->conn, "0\r\n\r\n", 5);
	if (w->remaining > 0)
		return ATH_E_PROTOCOL;
	return ATH_OK;
}

enum ath_err resp_simple(struct client_conn *conn, int status, const char *error_header, const char *body,
			 bool keep_alive, const char *extra)
{
	struct strbuf b = { 0 };
	size_t blen = body ? strlen(body) : 0;
	strbuf_addf(&b, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	strbuf_adds(&b, "Content-Type: text/plain; charset=utf-8\r\n");
	strbuf_addf(&b, "Content-Length: %zu\r\n", blen);
	if (error_header) {
		strbuf_adds(&b, "X-Athttp-Error: ");
		strbuf_adds(&b, error_header);
		strbuf_adds(&b, "\r\n");
	}
	if (extra)
		strbuf_adds(&b, extra);
	strbuf_adds(&b, keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
	strbuf_adds(&b, "\r\n");
	if (blen)
		strbuf_add(&b, body, blen);
	if (b.oom) {
		strbuf_free(&b);
		return ATH_E_NOMEM;
	}
	enum ath_err e = client_conn_write(conn, b.p, b.len);
	strbuf_free(&b);
	return e;
}

enum ath_err resp_continue(struct client_conn *conn)
{
	static const char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
	return client_conn_write(conn, msg, sizeof msg - 1);
}
