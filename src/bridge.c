/*
 * The HTTP bridge: serves requests from a client socket (athttp_serve) or a
 * caller (athttp_request) through the modem, one at a time, in order.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "athttp.h"
#include "http_request.h"
#include "http_response.h"
#include "modem.h"
#include "request_policy.h"
#include "tls_server.h"
#include "trace.h"

/* How long a closing connection keeps reading what the client still sends,
 * so the client sees our answer instead of a reset. */
#define LINGER_MS 2000
/* The longest a program may take over its side of the TLS handshake. */
#define TLS_HANDSHAKE_MS 30000

static enum ath_err sink_head(void *ctx, const struct http_head *h, long long len, bool synth)
{
	return resp_start(ctx, h, len, synth);
}

static enum ath_err sink_body(void *ctx, const void *data, size_t len)
{
	return resp_body(ctx, data, len);
}

/* Shut our sending side and swallow input until the client closes. */
static void linger_close(struct client_conn *c)
{
	client_conn_shutdown(c);
	char buf[4096];
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		long left = LINGER_MS - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || !client_conn_wait(c, (int)left))
			break;
		if (client_conn_read(c, buf, sizeof buf) <= 0)
			break;
	}
}

static void answer_error(athttp_modem *m, struct client_conn *c, const struct ath_error *err,
			 bool keep_alive, const char *extra)
{
	char hdr[300], body[320];
	modem_error_header(m, err, hdr, sizeof hdr);
	snprintf(body, sizeof body, "athttp: %s\n", hdr);
	resp_simple(c, err->http_status ? err->http_status : 502, hdr, body, keep_alive, extra);
}

/* One request on the connection.  Returns true to go on with the next. */
static bool serve_one(athttp_modem *m, struct req_reader *rr, const struct athttp_peer *peer,
		      const char *tls_name, int *served)
{
	const struct dialect *d = modem_dialect(m);
	struct http_req req;
	struct prepared_request prep = { 0 };
	struct ath_error err;
	bool go_on = false;
	ath_error_clear(&err);

	int rc = req_read_head(rr, &req, &err);
	if (rc <= 0) {
		if (rc < 0 && err.code == ATH_E_BAD_REQUEST) {
			answer_error(m, rr->conn, &err, false, NULL);
			linger_close(rr->conn);
		}
		goto done;
	}

	bool keep = req.keep_alive;
	enum ath_err e = request_prepare_tls(d, &req, peer, tls_name, &prep, &err);
	if (e != ATH_OK) {
		if (req.expect_continue) {
			/* The client waits for our word before sending the body:
			 * refuse now and close, as RFC 9110 10.1.1 allows. */
			answer_error(m, rr->conn, &err, false, NULL);
			linger_close(rr->conn);
			goto done;
		}
		go_on = req_read_body(rr, 0, true, &err) == 0 && keep;
		answer_error(m, rr->conn, &err, go_on, NULL);
		if (!go_on)
			linger_close(rr->conn);
		goto done;
	}

	bool has_body = req.chunked || req.content_length > 0;
	if (req.expect_continue && has_body && resp_continue(rr->conn) != ATH_OK)
		goto done;
	if (req_read_body(rr, request_body_limit(d, &prep), false, &err) != 0)
		goto done;
	if (req.body_overflow) {
		ath_fail(&err, ATH_E_TOO_LARGE, -1,
			 "request body exceeds the %s limit of %zu bytes (%s)", d->name,
			 d->caps->max_body, d->caps->body_limit_name ? d->caps->body_limit_name : "module");
		answer_error(m, rr->conn, &err, keep, NULL);
		go_on = keep;
		goto done;
	}
	if (request_attach_body(d, &prep, req.body, req.body_len, &err) != ATH_OK) {
		answer_error(m, rr->conn, &err, keep, NULL);
		go_on = keep;
		goto done;
	}

	struct resp_writer w;
	resp_init(&w, rr->conn, prep.rq.verb == VERB_HEAD, keep, req.minor);
	char extra[600] = "";
	if (prep.dropped[0])
		snprintf(extra, sizeof extra, "X-Athttp-Dropped: %s\r\n", prep.dropped);
	w.extra = extra[0] ? extra : NULL;
	struct response_sink sink = { sink_head, sink_body, &w };

	e = modem_exchange(m, &prep.rq, &sink, &err);
	if (e == ATH_OK) {
		e = resp_finish(&w);
		go_on = e == ATH_OK && !w.close_after && keep;
	} else if (!w.started) {
		answer_error(m, rr->conn, &err, keep, w.extra);
		go_on = keep;
	}
	/* else the head is out: the only honest signal left is the cut. */
	if (e == ATH_OK)
		(*served)++;
done:
	prepared_request_free(&prep);
	http_req_free(&req);
	return go_on;
}

/* The first byte, without taking it: 1 got it, 0 the client closed
 * without a word, -1 failed. */
static int peek_first(int fd, unsigned char *b)
{
	for (;;) {
		ssize_t n = recv(fd, b, 1, MSG_PEEK);
		if (n >= 0)
			return n > 0;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			poll(&pfd, 1, -1);
		} else if (errno != EINTR) {
			return -1;
		}
	}
}

/* TLS on conn's socket: the program's https ends here.  The name it was
 * made for (SNI, else the name connected to) in *name; false when the
 * handshake failed (there is no way to answer in HTTP then). */
static bool accept_tls(athttp_modem *m, struct client_conn *conn, const struct athttp_peer *peer,
		       const char **name)
{
	struct ath_error err;
	ath_error_clear(&err);
	const char *dflt = peer && peer->host && *peer->host ? peer->host : "localhost";
	struct tls_server *ts = modem_tls_server(m, &err);
	if (ts)
		conn->tls = tls_session_accept(ts, conn->fd, dflt, TLS_HANDSHAKE_MS, &err);
	if (!conn->tls) {
		trace_note(modem_trace(m), "local TLS for %s failed: %s", dflt, err.text);
		return false;
	}
	const char *sni = tls_session_sni(conn->tls);
	*name = sni ? sni : dflt;
	trace_note(modem_trace(m), "local TLS for %s%s", *name, sni ? "" : " (no SNI)");
	return true;
}

int athttp_serve(athttp_modem *m, int fd, const struct athttp_peer *peer)
{
	struct client_conn conn = CLIENT_CONN_PLAIN(fd);
	struct req_reader *rr = malloc(sizeof *rr);
	const char *tls_name = NULL;
	unsigned char first;
	int served = 0;
	/* TLS is told by the first byte, not the port: https on 8443 and
	 * plain http on 443 both occur. */
	bool go = rr && peek_first(fd, &first) == 1 &&
		  (!client_conn_is_tls_start(first) || accept_tls(m, &conn, peer, &tls_name));
	if (go) {
		req_reader_init(rr, &conn);
		while (serve_one(m, rr, peer, tls_name, &served))
			;
	}
	free(rr);
	if (conn.tls)
		client_conn_shutdown(&conn);
	close(fd);
	return served;
}

/* athttp_request: the same path with the caller's callbacks as sink. */
struct direct_sink {
	const struct athttp_response_cb *cb;
	int aborted;
};

static enum ath_err direct_head(void *ctx, const struct http_head *h, long long len, bool synth)
{
	struct direct_sink *ds = ctx;
	if (!ds->cb->on_head)
		return ATH_OK;
	size_t cap = 1;
	for (size_t i = 0; i < h->headers.n; i++)
		cap += strlen(h->headers.v[i].name) + strlen(h->headers.v[i].value) + 4;
	char *block = malloc(cap);
	if (!block)
		return ATH_E_NOMEM;
	size_t o = 0;
	for (size_t i = 0; i < h->headers.n; i++)
		o += (size_t)snprintf(block + o, cap - o, "%s: %s\r\n", h->headers.v[i].name,
				      h->headers.v[i].value);
	block[o] = '\0';
	int r = ds->cb->on_head(ds->cb->ctx, h->status, h->reason, block, o, len, synth);
	free(block);
	return r ? ATH_E_CLIENT_GONE : ATH_OK;
}

static enum ath_err direct_body(void *ctx, const void *data, size_t len)
{
	struct direct_sink *ds = ctx;
	if (ds->cb->on_body && ds->cb->on_body(ds->cb->ctx, data, len))
		return ATH_E_CLIENT_GONE;
	return ATH_OK;
}

int athttp_request(athttp_modem *m, const struct athttp_request *rq,
		   const struct athttp_response_cb *cb, char *errbuf, size_t errlen)
{
	struct ath_error err;
	ath_error_clear(&err);
	struct http_req req = { .major = 1, .minor = 1, .content_length = -1 };
	struct prepared_request prep = { 0 };
	enum ath_err e = ATH_OK;
	snprintf(req.method, sizeof req.method, "%s", rq->method ? rq->method : "GET");
	/* req owns what it points to (http_req_free frees it): a copy. */
	if (rq->url && !(req.target = strdup(rq->url)))
		e = ath_fail(&err, ATH_E_NOMEM, -1, "out of memory");
	req.target_len = req.target ? strlen(req.target) : 0;
	for (size_t i = 0; e == ATH_OK && i < rq->n_headers; i++)
		if (hdr_add(&req.headers, rq->headers[i].name, strlen(rq->headers[i].name),
			    rq->headers[i].value, strlen(rq->headers[i].value)))
			e = ath_fail(&err, ATH_E_NOMEM, -1, "out of memory");
	if (rq->body_len)
		req.content_length = (long long)rq->body_len;

	if (e == ATH_OK)
		e = request_prepare(modem_dialect(m), &req, NULL, &prep, &err);
	if (e == ATH_OK)
		e = request_attach_body(modem_dialect(m), &prep, rq->body, rq->body_len, &err);
	if (e == ATH_OK) {
		struct direct_sink ds = { cb, 0 };
		struct response_sink sink = { direct_head, direct_body, &ds };
		e = modem_exchange(m, &prep.rq, &sink, &err);
	}
	prepared_request_free(&prep);
	http_req_free(&req);
	if (e != ATH_OK && errbuf) {
		char hdr[300];
		modem_error_header(m, &err, hdr, sizeof hdr);
		snprintf(errbuf, errlen, "%d %s", err.http_status, hdr);
	}
	return e == ATH_OK ? 0 : -1;
}
