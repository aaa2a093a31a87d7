/* Fuzz target: an origin's response as a raw-packet module hands it back
 * (raw_response.h), from its status line to its framed body.
 *
 * Input: byte 0 the mode (bit 0: the request was HEAD; bit 1: the client
 * goes away after the first body piece), byte 1 seeds how the rest is cut
 * into feeds; the rest is the module's bytes.
 *
 * Checked besides memory safety: the head goes to the sink at most once
 * and before any body; a message taken as whole (raw_response_end's
 * ATH_OK) with a Content-Length delivered exactly that many bytes; and
 * the outcome (head, body bytes, where the message ended, the verdict)
 * is the same whether the bytes come in one feed or in random pieces. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event_log.h"
#include "fuzz_check.h"
#include "raw_response.h"

struct run {
	struct event_log log;
	bool refuse_after_first;
	int heads;
	int status;
	long long announced;
	unsigned long long body;
	int body_calls;
};

static enum ath_err on_head(void *ctx, const struct http_head *h, long long len, bool synthesized)
{
	struct run *r = ctx;
	FUZZ_CHECK(r->heads == 0, "head() twice");
	FUZZ_CHECK(r->body == 0, "head() after body bytes");
	FUZZ_CHECK(!synthesized, "a raw response with a synthesized head");
	FUZZ_CHECK(h->status >= 100 && h->status <= 999, "status %d", h->status);
	r->heads++;
	r->status = h->status;
	r->announced = len;
	long long rec[2] = { h->status, len };
	event_log_add(&r->log, 'H', rec, sizeof rec);
	return ATH_OK;
}

static enum ath_err on_body(void *ctx, const void *data, size_t len)
{
	struct run *r = ctx;
	FUZZ_CHECK(r->heads == 1, "body() before head()");
	FUZZ_CHECK(len > 0 && data != NULL, "an empty body() call");
	r->body += len;
	/* Once the client is gone nothing more is passed on, and where that
	 * happens depends on the pieces: then only the verdict is compared. */
	if (!r->refuse_after_first)
		event_log_join(&r->log, 'b', data, len);
	return r->refuse_after_first && ++r->body_calls > 1 ? ATH_E_CLIENT_GONE : ATH_OK;
}

static void run_once(struct run *r, bool head_request, const uint8_t *data, size_t size, unsigned seed,
		     size_t max_piece)
{
	struct response_sink sink = { on_head, on_body, r };
	struct raw_response rr;
	raw_response_init(&rr, head_request, &sink);
	size_t off = 0, stuck = 0;
	while (off < size && rr.state != RAW_DONE && rr.state != RAW_FAILED) {
		size_t n = size - off;
		if (max_piece) {
			size_t k = 1 + (size_t)rand_r(&seed) % max_piece;
			n = k < n ? k : n;
		}
		size_t used = raw_response_feed(&rr, data + off, n);
		FUZZ_CHECK(used <= n, "fed %zu, used %zu", n, used);
		/* Fewer used while the message goes on: its head ended, and
		 * the rest is fed again.  Never twice in a row with nothing
		 * taken: that would be a loop without end. */
		stuck = used ? 0 : stuck + 1;
		FUZZ_CHECK(stuck < 3, "raw_response_feed takes nothing, again and again (state %d)", rr.state);
		off += used;
	}
	event_log_close(&r->log);
	struct ath_error err;
	ath_error_clear(&err);
	enum ath_err e = raw_response_end(&rr, &err);
	long long rec[3] = { (long long)off, e, rr.state };
	event_log_add(&r->log, 'E', rec, sizeof rec);
	if (e == ATH_OK) {
		FUZZ_CHECK(r->heads == 1, "a whole message without a head");
		bool bodiless = head_request || r->status == 204 || r->status == 304;
		if (!bodiless && r->announced >= 0 && !r->refuse_after_first)
			FUZZ_CHECK(r->body == (unsigned long long)r->announced,
				   "a whole message of %llu body bytes, %lld announced", r->body, r->announced);
	} else {
		FUZZ_CHECK(err.code != ATH_OK && err.text[0], "a failed message without a reason");
	}
	raw_response_free(&rr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	bool head_request = data[0] & 1;
	unsigned seed = data[1];
	struct run whole = { .refuse_after_first = data[0] & 2 };
	struct run split = whole;
	run_once(&whole, head_request, data + 2, size - 2, seed, 0);
	run_once(&split, head_request, data + 2, size - 2, seed, 1 + seed % 64);
	FUZZ_CHECK(whole.log.len == split.log.len && memcmp(whole.log.p, split.log.p, whole.log.len) == 0,
		   "the response reads differently when the same bytes come in pieces");
	event_log_free(&whole.log);
	event_log_free(&split.log);
	return 0;
}
