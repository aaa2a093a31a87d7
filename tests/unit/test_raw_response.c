/*
 * The raw response reader: origins' responses as raw-packet modules hand
 * them back, fed whole, byte by byte and in random splits.  The head is
 * reported once, the body de-chunked and byte-exact, the message's end
 * found exactly (what follows is left over), truncation reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_util.h"

#include "raw_response.h"

struct got {
	int heads;
	int status;
	char reason[64];
	long long length;
	char headers[1024];
	char *body;
	size_t body_len;
	int body_calls;
	int fail_after;   /* >0: the client goes away after this many body calls */
};

static enum ath_err g_head(void *ctx, const struct http_head *h, long long len, bool synth)
{
	struct got *g = ctx;
	assert_false(synth);
	g->heads++;
	g->status = h->status;
	snprintf(g->reason, sizeof g->reason, "%s", h->reason);
	g->length = len;
	size_t o = 0;
	for (size_t i = 0; i < h->headers.n; i++)
		o += (size_t)snprintf(g->headers + o, sizeof g->headers - o, "%s=%s;", h->headers.v[i].name,
				      h->headers.v[i].value);
	return ATH_OK;
}

static enum ath_err g_body(void *ctx, const void *data, size_t len)
{
	struct got *g = ctx;
	assert_int_equal(g->heads, 1);
	if (g->fail_after && ++g->body_calls > g->fail_after)
		return ATH_E_CLIENT_GONE;
	g->body = realloc(g->body, g->body_len + len + 1);
	memcpy(g->body + g->body_len, data, len);
	g->body_len += len;
	g->body[g->body_len] = '\0';
	return ATH_OK;
}

struct outcome {
	struct got got;
	enum ath_err end;
	char why[sizeof ((struct ath_error *)0)->text];
	char leftover[256];
	bool started;
};

/* Feeds in as a driver does: what the reader does not take after the
 * message ended is left over; after its head of a close-delimited body it
 * takes the rest again.  seed 0: whole; 1: byte by byte; else random. */
static void feed_all(const char *in, size_t len, bool head_req, unsigned seed, struct outcome *o,
		     int fail_after)
{
	memset(o, 0, sizeof *o);
	o->got.fail_after = fail_after;
	struct response_sink sink = { g_head, g_body, &o->got };
	struct raw_response rr;
	raw_response_init(&rr, head_req, &sink);
	size_t lo = 0;
	for (size_t off = 0; off < len;) {
		size_t n = seed == 0 ? len : seed == 1 ? 1 : 1 + (size_t)rand_r(&seed) % 29;
		if (n > len - off)
			n = len - off;
		const char *p = in + off;
		size_t left = n;
		while (left) {
			if (rr.state == RAW_DONE || rr.state == RAW_FAILED) {
				assert_true(lo + left < sizeof o->leftover);
				memcpy(o->leftover + lo, p, left);
				lo += left;
				break;
			}
			size_t used = raw_response_feed(&rr, p, left);
			assert_true(used <= left);
			if (used < left)
				assert_true(rr.state != RAW_HEAD && rr.state != RAW_BODY);
			p += used;
			left -= used;
		}
		off += n;
	}
	struct ath_error err;
	ath_error_clear(&err);
	o->end = raw_response_end(&rr, &err);
	snprintf(o->why, sizeof o->why, "%s", o->end ? err.text : "");
	o->started = raw_response_started(&rr);
	raw_response_free(&rr);
}

static void free_outcome(struct outcome *o)
{
	free(o->got.body);
}

/* Runs every split and checks they all agree with the first. */
static void check(const char *in, bool head_req, int status, long long length, const char *headers,
		  const char *body, const char *leftover, const char *why)
{
	for (unsigned seed = 0; seed < 80; seed++) {
		struct outcome o;
		feed_all(in, strlen(in), head_req, seed, &o, 0);
		if (why) {
			assert_int_equal(o.end, ATH_E_PROTOCOL);
			assert_string_equal(o.why, why);
		} else {
			assert_int_equal(o.end, ATH_OK);
		}
		if (status) {
			assert_int_equal(o.got.heads, 1);
			assert_int_equal(o.got.status, status);
			assert_int_equal(o.got.length, length);
			if (headers)
				assert_string_equal(o.got.headers, headers);
		} else {
			assert_int_equal(o.got.heads, 0);
		}
		assert_int_equal(o.got.body_len, strlen(body));
		if (o.got.body_len)
			assert_memory_equal(o.got.body, body, o.got.body_len);
		assert_string_equal(o.leftover, leftover);
		free_outcome(&o);
	}
}

static void test_content_length(void **state)
{
	(void)state;
	check("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello\r\nOK\r\n!"
	      "\r\nOK\r\n\r\n+HTTPREAD: 0\r\n",
	      false, 200, 12, "Content-Type=text/plain;Content-Length=12;", "hello\r\nOK\r\n!",
	      "\r\nOK\r\n\r\n+HTTPREAD: 0\r\n", NULL);
}

/* Chunked with extensions and trailers: de-chunked, length unknown, the
 * trailers dropped. */
static void test_chunked_with_trailers(void **state)
{
	(void)state;
	check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
	      "5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Sum: 42\r\n\r\nOK\r\n",
	      false, 200, -1, "Transfer-Encoding=chunked;Trailer=X-Sum;", "hello, world", "OK\r\n", NULL);
}

/* Firmware that de-chunks yet keeps the origin's Transfer-Encoding: the
 * body is everything up to the end of the stream. */
static void test_module_dechunked(void **state)
{
	(void)state;
	check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n<html>1\r\n</html>", false, 200, -1, NULL,
	      "<html>1\r\n</html>", "", NULL);
	check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nabcz", false, 200, -1, NULL, "abcz", "", NULL);
	check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 200, -1, NULL, "", "", NULL);
}

/* HEAD: the origin's Content-Length, no body, done after the head. */
static void test_head(void **state)
{
	(void)state;
	check("HTTP/1.1 200 OK\r\nContent-Length: 52060\r\n\r\n\r\nOK\r\n", true, 200, 52060, NULL, "",
	      "\r\nOK\r\n", NULL);
	check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nOK\r\n", true, 200, -1, NULL, "",
	      "OK\r\n", NULL);
}

static void test_no_body_statuses(void **state)
{
	(void)state;
	check("HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\nOK\r\n", false, 204, -1, "X-A=1;", "", "OK\r\n", NULL);
	check("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n\r\nOK\r\n", false, 304, -1, NULL, "",
	      "\r\nOK\r\n", NULL);
}

/* Interim responses are skipped: one head, the final one. */
static void test_interim(void **state)
{
	(void)state;
	check("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
	      "HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nokOK\r\n",
	      false, 201, 2, "Content-Length=2;", "ok", "OK\r\n", NULL);
}

/* No length, not chunked: the body is everything up to the end of the
 * stream (the driver stops feeding at the module's end marker). */
static void test_until_close(void **state)
{
	(void)state;
	check("HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of\r\nOK\r\nthis", false, 200, -1, "Server=old;",
	      "all of\r\nOK\r\nthis", "", NULL);
	check("HTTP/1.0 200 OK\r\n\r\n", false, 200, -1, "", "", "", NULL);
}

static void test_truncated(void **state)
{
	(void)state;
	/* A cut response delivers nothing of its last RAW_HOLD bytes. */
	check("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", false, 200, 10, NULL, "", "",
	      "truncated response: 3 of 10 body bytes");
	check("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n3\r\nxy", false, 200, -1, NULL,
	      "", "", "truncated response: the chunked body stopped after 7 bytes");
	check("HTTP/1.1 200 OK\r\nContent-Le", false, 0, 0, NULL, "", "", "the response stopped inside its head");
	check("", false, 0, 0, NULL, "", "", "the module returned no response");
}

/* The body's last RAW_HOLD bytes wait for raw_response_end: when a module
 * cuts a response short, its own closing words can pass for the last body
 * bytes, and then they must never reach the client. */
static void test_hold_back(void **state)
{
	(void)state;
	char in[400], body[300];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (char)('a' + i % 26);
	int h = snprintf(in, sizeof in, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", sizeof body);
	for (int whole = 0; whole <= 1; whole++) {
		struct outcome o;
		memset(&o, 0, sizeof o);
		struct response_sink sink = { g_head, g_body, &o.got };
		struct raw_response rr;
		raw_response_init(&rr, false, &sink);
		size_t fed = whole ? sizeof body : sizeof body - 10;
		memcpy(in + h, body, fed);
		for (size_t off = 0; off < (size_t)h + fed; off += 7) {
			size_t n = (size_t)h + fed - off < 7 ? (size_t)h + fed - off : 7;
			assert_int_equal(raw_response_feed(&rr, in + off, n), n);
		}
		assert_int_equal(o.got.body_len, fed - RAW_HOLD);
		struct ath_error err;
		ath_error_clear(&err);
		assert_int_equal(raw_response_end(&rr, &err), whole ? ATH_OK : ATH_E_PROTOCOL);
		assert_int_equal(o.got.body_len, whole ? sizeof body : fed - RAW_HOLD);
		assert_memory_equal(o.got.body, body, o.got.body_len);
		raw_response_free(&rr);
		free_outcome(&o);
	}
}

/* Not HTTP: failed before any head, the rest left over. */
static void test_not_http(void **state)
{
	(void)state;
	struct outcome o;
	feed_all("\r\nOK\r\n\r\n+HTTPREAD: 0\r\n", 22, false, 0, &o, 0);
	assert_int_equal(o.end, ATH_E_PROTOCOL);
	assert_int_equal(o.got.heads, 0);
	assert_false(o.started);
	assert_string_equal(o.leftover, "OK\r\n\r\n+HTTPREAD: 0\r\n");
	free_outcome(&o);
}

/* The client going away stops the body, not the reading: the module must
 * stay in step, so the message's end is still found. */
static void test_client_gone(void **state)
{
	(void)state;
	const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789abcdefghijOK\r\n";
	for (unsigned seed = 1; seed < 20; seed++) {
		struct outcome o;
		feed_all(in, strlen(in), false, seed, &o, 1);
		assert_int_equal(o.end, ATH_OK);
		/* Only the first piece went out, then nothing more. */
		assert_true(o.got.body_len <= 20);
		assert_memory_equal(o.got.body, "0123456789abcdefghij", o.got.body_len);
		if (o.got.body_len < 20)
			assert_true(o.got.body_calls > 1);
		assert_string_equal(o.leftover, "OK\r\n");
		free_outcome(&o);
	}
}

/* A head over the limit fails instead of growing. */
static void test_head_limit(void **state)
{
	(void)state;
	size_t n = RAW_MAX_HEAD + 100;
	char *in = malloc(n + 64);
	strcpy(in, "HTTP/1.1 200 OK\r\nX-Big: ");
	size_t h = strlen(in);
	memset(in + h, 'a', n);
	strcpy(in + h + n, "\r\n\r\n");
	struct outcome o;
	feed_all(in, strlen(in), false, 3, &o, 0);
	assert_int_equal(o.end, ATH_E_PROTOCOL);
	assert_string_equal(o.why, "response head over 64 KB");
	assert_int_equal(o.got.heads, 0);
	free(in);
}

/* A large body streams through in pieces. */
static void test_large_body(void **state)
{
	(void)state;
	size_t n = 1 << 20;
	char *in = malloc(n + 128);
	int h = sprintf(in, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", n);
	for (size_t i = 0; i < n; i++)
		in[h + i] = (char)('a' + i % 26);
	strcpy(in + h + n, "\r\nOK\r\n");
	struct outcome o;
	feed_all(in, strlen(in), false, 9, &o, 0);
	assert_int_equal(o.end, ATH_OK);
	assert_int_equal(o.got.body_len, n);
	assert_memory_equal(o.got.body, in + h, n);
	assert_string_equal(o.leftover, "\r\nOK\r\n");
	free_outcome(&o);
	free(in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length),
		cmocka_unit_test(test_chunked_with_trailers),
		cmocka_unit_test(test_module_dechunked),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_no_body_statuses),
		cmocka_unit_test(test_interim),
		cmocka_unit_test(test_until_close),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_hold_back),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_client_gone),
		cmocka_unit_test(test_head_limit),
		cmocka_unit_test(test_large_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
