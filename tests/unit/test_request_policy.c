/*
 * The policy that decides what may reach a module (request_policy.c):
 * refusals with their status and reason, what is accepted and how the URL
 * reaches the drivers in parts, https, raw-packet dialects, and the
 * header carriage of parameterized ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "dialect.h"
#include "http_request.h"
#include "request_policy.h"
#include "unit_util.h"

extern const struct dialect dialect_simcom;
extern const struct dialect dialect_httpcfg;

static void expect_refusal(struct http_req q, enum ath_err code, int status, const char *needle)
{
	struct prepared_request p;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), code);
	assert_int_equal(err.http_status, status);
	if (!strstr(err.text, needle))
		fail_msg("reason '%s' does not mention '%s'", err.text, needle);
	http_req_free(&q);
}

static void test_policy_refusals(void **state)
{
	(void)state;
	expect_refusal(mkreq("GET", "/a\"b", "Host", "h", NULL), ATH_E_BAD_REQUEST, 400, "double quote");
	expect_refusal(mkreq("GET", "/a\r\nAT+CMGS", "Host", "h", NULL), ATH_E_BAD_REQUEST, 400, "line break");
	expect_refusal(mkreq("GET", "/a\\b", "Host", "h", NULL), ATH_E_BAD_REQUEST, 400, "backslash");
	expect_refusal(mkreq("GET", "/", "Host", "h\",\"x", NULL), ATH_E_BAD_REQUEST, 400, "Host");
	expect_refusal(mkreq("PUT", "/", "Host", "h", NULL), ATH_E_UNSUPPORTED, 501, "PUT");
	expect_refusal(mkreq("GET", "/", "Host", "h", "Authorization", "Basic eDp5", NULL),
		       ATH_E_UNSUPPORTED, 501, "Authorization");
	expect_refusal(mkreq("GET", "/", "Host", "h", "Range", "bytes=0-1", NULL), ATH_E_UNSUPPORTED, 501, "Range");
	expect_refusal(mkreq("GET", "/", "Host", "h", "If-None-Match", "\"x\"", NULL), ATH_E_UNSUPPORTED, 501,
		       "If-None-Match");
	expect_refusal(mkreq("POST", "/", "Host", "h", "Content-Length", "200000", NULL), ATH_E_TOO_LARGE, 413,
		       "153600");
	expect_refusal(mkreq("DELETE", "/", "Host", "h", "Content-Length", "5", NULL), ATH_E_UNSUPPORTED, 501,
		       "body");
	expect_refusal(mkreq("POST", "/", "Host", "h", "Content-Length", "5", "Content-Type",
			     "multipart/form-data; boundary=\"x\"", NULL),
		       ATH_E_UNSUPPORTED, 501, "Content-Type");
	char longpath[3000];
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';
	longpath[sizeof longpath - 1] = '\0';
	expect_refusal(mkreq("GET", longpath, "Host", "h", NULL), ATH_E_BAD_REQUEST, 414, "URL");
}

static void test_policy_accepts(void **state)
{
	(void)state;
	struct http_req q = mkreq("GET", "/p?q=%0d%0a%22\xc3\xa9", "Host", "origin.test:8080", "User-Agent", "curl/7.88.1",
				  "Accept", "*/*", "X-Custom", "1", "Connection", "keep-alive", NULL);
	struct prepared_request p;
	struct ath_error err;
	assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), ATH_OK);
	/* %-escapes stay text; raw UTF-8 becomes %XX: the module gets ASCII. */
	assert_string_equal(p.rq.url, "http://origin.test:8080/p?q=%0d%0a%22%C3%A9");
	assert_true(at_string_safe(p.rq.url, strlen(p.rq.url)));
	assert_string_equal(hdr_get(p.rq.headers, "Accept"), "*/*");
	assert_null(hdr_get(p.rq.headers, "User-Agent"));
	assert_string_equal(p.dropped, "User-Agent, X-Custom");
	prepared_request_free(&p);
	http_req_free(&q);

	/* Absolute form (a proxy-style request) names its own host. */
	q = mkreq("HEAD", "http://other.test/x", "Host", "ignored", NULL);
	assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), ATH_OK);
	assert_string_equal(p.rq.url, "http://other.test/x");
	prepared_request_free(&p);
	http_req_free(&q);

	/* No Host (HTTP/1.0): the connection's destination. */
	q = mkreq("GET", "/y", NULL);
	q.minor = 0;
	struct athttp_peer peer = { "fake.test", 8081 };
	assert_int_equal(request_prepare(&dialect_simcom, &q, &peer, &p, &err), ATH_OK);
	assert_string_equal(p.rq.url, "http://fake.test:8081/y");
	prepared_request_free(&p);
	http_req_free(&q);

	/* A numeric IPv6 destination goes in brackets. */
	q = mkreq("GET", "/z", NULL);
	q.minor = 0;
	struct athttp_peer peer6 = { "2001:db8::1", 80 };
	assert_int_equal(request_prepare(&dialect_simcom, &q, &peer6, &p, &err), ATH_OK);
	assert_string_equal(p.rq.url, "http://[2001:db8::1]/z");
	prepared_request_free(&p);
	http_req_free(&q);
}

/* The URL in parts, as drivers get it: host without port or brackets, the
 * port always set, the origin-form target. */
static void test_policy_url_parts(void **state)
{
	(void)state;
	struct prepared_request p;
	struct ath_error err;
	struct http_req q = mkreq("GET", "/a/b?c=d", "Host", "origin.test:8080", NULL);
	assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), ATH_OK);
	assert_false(p.rq.tls);
	assert_string_equal(p.rq.host, "origin.test");
	assert_int_equal(p.rq.port, 8080);
	assert_string_equal(p.rq.target, "/a/b?c=d");
	prepared_request_free(&p);
	http_req_free(&q);

	q = mkreq("GET", "/", "Host", "[2001:db8::1]", NULL);
	assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), ATH_OK);
	assert_string_equal(p.rq.host, "2001:db8::1");
	assert_int_equal(p.rq.port, 80);
	prepared_request_free(&p);
	http_req_free(&q);

	static const char *const bad_hosts[] = { "h:0", "h:65536", "h:", "h:8x", "[::1", "[::1]x", NULL };
	for (const char *const *h = bad_hosts; *h; h++) {
		q = mkreq("GET", "/", "Host", *h, NULL);
		assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), ATH_E_BAD_REQUEST);
		http_req_free(&q);
	}
}

/* A request that arrived inside TLS goes to the module as https, only for
 * the name the program's TLS was made for. */
static void test_policy_tls(void **state)
{
	(void)state;
	struct prepared_request p;
	struct ath_error err;
	struct http_req q = mkreq("GET", "/fw.bin", "Host", "Origin.Test", NULL);
	assert_int_equal(request_prepare_tls(&dialect_simcom, &q, NULL, "origin.test", &p, &err), ATH_OK);
	assert_true(p.rq.tls);
	assert_string_equal(p.rq.url, "https://Origin.Test/fw.bin");
	assert_int_equal(p.rq.port, 443);
	assert_string_equal(p.rq.target, "/fw.bin");
	prepared_request_free(&p);
	http_req_free(&q);

	q = mkreq("GET", "/", "Host", "origin.test:8443", NULL);
	assert_int_equal(request_prepare_tls(&dialect_simcom, &q, NULL, "origin.test", &p, &err), ATH_OK);
	assert_string_equal(p.rq.url, "https://origin.test:8443/");
	assert_int_equal(p.rq.port, 8443);
	prepared_request_free(&p);
	http_req_free(&q);

	/* No Host: the connection's destination, 443 left out. */
	q = mkreq("GET", "/y", NULL);
	q.minor = 0;
	struct athttp_peer peer = { "10.1.2.3", 443 };
	assert_int_equal(request_prepare_tls(&dialect_simcom, &q, &peer, "10.1.2.3", &p, &err), ATH_OK);
	assert_string_equal(p.rq.url, "https://10.1.2.3/y");
	prepared_request_free(&p);
	http_req_free(&q);

	/* Another host than the certificate's: 421, nothing prepared. */
	q = mkreq("GET", "/", "Host", "evil.test", NULL);
	assert_int_equal(request_prepare_tls(&dialect_simcom, &q, NULL, "origin.test", &p, &err),
			 ATH_E_BAD_REQUEST);
	assert_int_equal(err.http_status, 421);
	assert_non_null(strstr(err.text, "evil.test"));
	http_req_free(&q);

	/* An http:// target inside TLS is refused; an https:// one is fine. */
	q = mkreq("GET", "http://origin.test/", "Host", "origin.test", NULL);
	assert_int_equal(request_prepare_tls(&dialect_simcom, &q, NULL, "origin.test", &p, &err),
			 ATH_E_BAD_REQUEST);
	assert_int_equal(err.http_status, 400);
	http_req_free(&q);
	q = mkreq("GET", "https://origin.test/x", "Host", "origin.test", NULL);
	assert_int_equal(request_prepare_tls(&dialect_simcom, &q, NULL, "origin.test", &p, &err), ATH_OK);
	assert_string_equal(p.rq.url, "https://origin.test/x");
	prepared_request_free(&p);
	http_req_free(&q);

	/* The library's own https URL, without a TLS connection. */
	q = mkreq("GET", "https://api.test:9443/v1", NULL);
	assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), ATH_OK);
	assert_true(p.rq.tls);
	assert_string_equal(p.rq.host, "api.test");
	assert_int_equal(p.rq.port, 9443);
	prepared_request_free(&p);
	http_req_free(&q);
}

/* A raw-packet dialect: every end-to-end header travels verbatim in the
 * request's bytes; framing, Expect and connection fields are athttp's. */
static void test_policy_raw_request(void **state)
{
	(void)state;
	struct http_req q = mkreq("PATCH", "/p?q=1", "Host", "origin.test:8080", "X-Trace", "1",
				  "Cookie", "a=b", "Authorization", "Basic eDp5", "Transfer-Encoding", "chunked",
				  "Expect", "100-continue", "Connection", "keep-alive", "TE", "trailers",
				  "Content-Type", "text/plain", NULL);
	q.chunked = true;
	struct prepared_request p;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(request_prepare(&dialect_httpcfg, &q, NULL, &p, &err), ATH_OK);
	assert_string_equal(p.dropped, "");
	assert_int_equal(request_attach_body(&dialect_httpcfg, &p, (const unsigned char *)"hello", 5, &err),
			 ATH_OK);
	assert_string_equal(p.rq.url, "http://origin.test:8080/p?q=1");
	const char want[] = "PATCH /p?q=1 HTTP/1.1\r\nHost: origin.test:8080\r\nX-Trace: 1\r\nCookie: a=b\r\n"
			    "Authorization: Basic eDp5\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
			    "Connection: close\r\n\r\nhello";
	assert_int_equal(p.rq.raw_len, sizeof want - 1);
	assert_memory_equal(p.rq.raw, want, sizeof want - 1);
	prepared_request_free(&p);
	http_req_free(&q);

	/* Over the module's packet limit: 413 naming it, before the module. */
	q = mkreq("POST", "/", "Host", "h", "Content-Length", "1024000", NULL);
	assert_int_equal(request_prepare(&dialect_httpcfg, &q, NULL, &p, &err), ATH_OK);
	unsigned char *body = calloc(1, 1024000);
	assert_int_equal(request_attach_body(&dialect_httpcfg, &p, body, 1024000, &err), ATH_E_TOO_LARGE);
	assert_int_equal(err.http_status, 413);
	assert_non_null(strstr(err.text, "AT+HTTPPOST"));
	free(body);
	prepared_request_free(&p);
	http_req_free(&q);
}

/* Parameterized dialects that carry every header: "*" in carried_headers,
 * and value_carriage deciding which values must be refused. */
static const char *const every_header[] = { "*", NULL };

static const struct dialect_caps caps_any = {
	.methods = VERB_GET | VERB_POST, .body_methods = VERB_POST, .max_body = 100,
	.carried_headers = every_header, .max_header_value = 64, .value_carriage = CARRY_ANY,
	.real_response_head = true,
};

static const struct dialect_caps caps_escaped = {
	.methods = VERB_GET | VERB_POST, .body_methods = VERB_POST, .max_body = 100,
	.carried_headers = every_header, .max_header_value = 64, .value_carriage = CARRY_ESCAPED,
};

static const struct dialect dialect_any = { .name = "t-any", .caps = &caps_any };

static const struct dialect dialect_escaped = { .name = "t-escaped", .caps = &caps_escaped };

static void test_policy_every_header(void **state)
{
	(void)state;
	struct http_req q = mkreq("GET", "/", "Host", "h", "Authorization", "Basic eDp5", "Cookie", "a=\"b\\c\"",
				  "X-Tab", "a\tb", "Connection", "close", "Expect", "100-continue", NULL);
	struct prepared_request p;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(request_prepare(&dialect_any, &q, NULL, &p, &err), ATH_OK);
	/* Meaningful ones travel, quotes and tabs too; athttp's own stay home. */
	assert_string_equal(hdr_get(p.rq.headers, "Authorization"), "Basic eDp5");
	assert_string_equal(hdr_get(p.rq.headers, "Cookie"), "a=\"b\\c\"");
	assert_string_equal(hdr_get(p.rq.headers, "X-Tab"), "a\tb");
	assert_null(hdr_get(p.rq.headers, "Host"));
	assert_null(hdr_get(p.rq.headers, "Connection"));
	assert_null(hdr_get(p.rq.headers, "Expect"));
	assert_string_equal(p.dropped, "");
	prepared_request_free(&p);

	/* ESP-AT escapes carry the quote and backslash, never a control byte. */
	assert_int_equal(request_prepare(&dialect_escaped, &q, NULL, &p, &err), ATH_E_UNSUPPORTED);
	assert_int_equal(err.http_status, 501);
	assert_non_null(strstr(err.text, "X-Tab"));
	assert_non_null(strstr(err.text, "control byte"));
	http_req_free(&q);
	q = mkreq("GET", "/", "Host", "h", "Cookie", "a=\"b\\c\", d", NULL);
	assert_int_equal(request_prepare(&dialect_escaped, &q, NULL, &p, &err), ATH_OK);
	assert_string_equal(hdr_get(p.rq.headers, "Cookie"), "a=\"b\\c\", d");
	prepared_request_free(&p);
	http_req_free(&q);

	/* Over max_header_value: 501 naming the header and the limit. */
	char big[80];
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	q = mkreq("GET", "/", "Host", "h", "X-Big", big, NULL);
	assert_int_equal(request_prepare(&dialect_any, &q, NULL, &p, &err), ATH_E_UNSUPPORTED);
	assert_non_null(strstr(err.text, "X-Big"));
	assert_non_null(strstr(err.text, "64"));
	http_req_free(&q);
}

static void test_at_string_safe_every_byte(void **state)
{
	(void)state;
	for (int c = 0; c < 256; c++) {
		char s[3] = { 'a', (char)c, 'b' };
		bool safe = at_string_safe(s, 3);
		bool expect = c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
		assert_int_equal(safe, expect);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_refusals),
		cmocka_unit_test(test_policy_accepts),
		cmocka_unit_test(test_policy_raw_request),
		cmocka_unit_test(test_policy_every_header),
		cmocka_unit_test(test_at_string_safe_every_byte),
		cmocka_unit_test(test_policy_url_parts),
		cmocka_unit_test(test_policy_tls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
