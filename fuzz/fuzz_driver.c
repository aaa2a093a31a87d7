/* Fuzz target: a dialect driver reading what a hostile module sends.
 *
 * Input: byte 0 picks the dialect (from the real dialect table), byte 1
 * the request (bits 0-1: GET, HEAD, POST with a small body, https GET;
 * bit 2: a second request on the same bring-up), byte 2 seeds how the
 * module's bytes are cut into reads; the rest is the module's output, one
 * reply per host write (module_bytes.h).  The engine's own sequence runs:
 * bring-up, tls_setup for https, the exchange(s), recover after a failed
 * one (drain and bring-up where the dialect has no recover), teardown.
 *
 * Checked besides memory safety: the sink's contract (dialect.h) — head
 * at most once and before any body; a request that succeeds had its head;
 * a body that succeeds is exactly the length the head announced. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "athttp.h"
#include "at_chat.h"
#include "dialect.h"
#include "fuzz_check.h"
#include "http_request.h"
#include "module_bytes.h"
#include "request_policy.h"

#define FUZZ_STATE_MAX 65536

struct got {
	int heads;
	long long announced;
	unsigned long long body;
};

static enum ath_err got_head(void *ctx, const struct http_head *h, long long len, bool synthesized)
{
	struct got *g = ctx;
	(void)synthesized;
	FUZZ_CHECK(h != NULL, "head() without a head");
	FUZZ_CHECK(g->heads == 0, "head() called twice");
	FUZZ_CHECK(g->body == 0, "head() after body bytes");
	FUZZ_CHECK(len >= -1, "head() with content_length %lld", len);
	g->heads++;
	g->announced = len;
	return ATH_OK;
}

static enum ath_err got_body(void *ctx, const void *data, size_t len)
{
	struct got *g = ctx;
	FUZZ_CHECK(g->heads == 1, "body() before head()");
	FUZZ_CHECK(data != NULL || len == 0, "body() with NULL data");
	g->body += len;
	return ATH_OK;
}

static const struct dialect *pick_dialect(uint8_t b)
{
	const char *const *names = athttp_dialects();
	size_t n = 0;
	while (names[n])
		n++;
	return dialect_find(names[b % n]);
}

static const char fake_ca[] = "-----BEGIN CERTIFICATE-----\nMIIBfuzz\n-----END CERTIFICATE-----\n";
static const char post_body[] = "hello=world";

/* The request the bridge would hand the driver for a fixed client request. */
static bool prepare(const struct dialect *d, unsigned kind, struct http_req *req,
		    struct prepared_request *prep)
{
	static const char *const methods[] = { "GET", "HEAD", "POST", "GET" };
	memset(req, 0, sizeof *req);
	snprintf(req->method, sizeof req->method, "%s", methods[kind]);
	req->target = strdup("/fuzz/small.txt?x=1");
	req->target_len = strlen(req->target);
	req->major = req->minor = 1;
	req->keep_alive = true;
	req->content_length = kind == 2 ? (long long)strlen(post_body) : -1;
	hdr_add(&req->headers, "Host", 4, "origin.test", 11);
	hdr_add(&req->headers, "User-Agent", 10, "athttp-fuzz", 11);
	hdr_add(&req->headers, "Accept", 6, "*/*", 3);
	if (kind == 2)
		hdr_add(&req->headers, "Content-Type", 12, "application/x-www-form-urlencoded", 33);
	struct athttp_peer peer = { "origin.test", kind == 3 ? 443 : 80 };
	struct ath_error err;
	ath_error_clear(&err);
	if (request_prepare_tls(d, req, &peer, kind == 3 ? "origin.test" : NULL, prep, &err) != ATH_OK)
		return false;
	const unsigned char *body = kind == 2 ? (const unsigned char *)post_body : NULL;
	size_t blen = kind == 2 ? strlen(post_body) : 0;
	if (request_attach_body(d, prep, body, blen, &err) != ATH_OK) {
		prepared_request_free(prep);
		return false;
	}
	return true;
}

/* What modem.c does after every dialect operation (its op_done): a sink or
 * observer the operation left set points into its own stack frame.  The
 * harness calls the operations as modem.c does, so it keeps the same
 * contract. */
static enum ath_err op_done(struct at_chat *chat, enum ath_err e)
{
	at_chat_clear_consumers(chat);
	return e;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static unsigned char state[FUZZ_STATE_MAX] __attribute__((aligned(16)));
	if (size < 3)
		return 0;
	const struct dialect *d = pick_dialect(data[0]);
	unsigned kind = data[1] & 3;
	bool twice = data[1] & 4;
	unsigned seed = data[2];
	FUZZ_CHECK(d->state_size <= sizeof state, "%s state over %zu bytes", d->name, sizeof state);

	struct http_req req;
	struct prepared_request prep;
	if (!prepare(d, kind, &req, &prep)) {
		http_req_free(&req);
		return 0;
	}

	struct transport *tp = module_bytes_new(data + 3, size - 3, seed, 1 + (size_t)seed * 4);
	struct at_chat chat;
	at_chat_init(&chat, tp, d->syntax, NULL);
	memset(state, 0, d->state_size);
	/* Roots only for https, as a user with --module-ca gives them (some
	 * families upload them at bring-up). */
	struct module_tls tls = { kind == 3 ? fake_ca : NULL, kind == 3 ? sizeof fake_ca - 1 : 0, false };
	struct modem_io io = { .chat = &chat, .state = d->state_size ? state : NULL, .params = d->params,
			       .baud = 115200, .action_timeout_ms = 30000, .tls = &tls };
	struct ath_error err;
	ath_error_clear(&err);

	bool verbose = getenv("FUZZ_VERBOSE") != NULL;
	if (verbose)
		module_bytes_log(tp, stderr);
	bool up = op_done(&chat, d->ops->bringup(&io, &err)) == ATH_OK;
	if (verbose)
		fprintf(stderr, "%s: bringup %s (%s) after %zu replies\n", d->name, up ? "ok" : "failed", err.text,
			module_bytes_replies(tp));
	if (up && prep.rq.tls) {
		struct tls_verdict v = { 0 };
		up = d->ops->tls_setup && op_done(&chat, d->ops->tls_setup(&io, &v, &err)) == ATH_OK;
		prep.rq.verify_upstream = v.verified;
	}
	for (int i = 0; up && i < (twice ? 2 : 1); i++) {
		struct got g = { 0, -2, 0 };
		struct response_sink sink = { got_head, got_body, &g };
		ath_error_clear(&err);
		enum ath_err e = op_done(&chat, d->ops->exchange(&io, &prep.rq, &sink, &err));
		if (verbose)
			fprintf(stderr, "%s: %s exchange %s (%s) after %zu replies: %d head, %llu of %lld bytes\n",
				d->name, prep.rq.method, ath_strerror(e), err.text, module_bytes_replies(tp), g.heads,
				g.body, g.announced);
		if (e == ATH_OK) {
			FUZZ_CHECK(g.heads == 1, "%s: the exchange succeeded without a head", d->name);
			if (kind != 1 && g.announced >= 0)
				FUZZ_CHECK(g.body == (unsigned long long)g.announced,
					   "%s: the exchange succeeded with %llu body bytes of %lld announced",
					   d->name, g.body, g.announced);
			continue;
		}
		FUZZ_CHECK(err.code != ATH_OK, "%s: exchange failed (%s) with no error set", d->name,
			   ath_strerror(e));
		if (d->ops->recover) {
			up = op_done(&chat, d->ops->recover(&io, &err)) == ATH_OK;
		} else {
			at_chat_drain(&chat, 200, 3000);
			up = op_done(&chat, d->ops->bringup(&io, &err)) == ATH_OK;
		}
	}
	if (up && d->ops->teardown)
		(void)op_done(&chat, d->ops->teardown(&io, &err));

	module_bytes_free(tp);
	prepared_request_free(&prep);
	http_req_free(&req);
	return 0;
}
