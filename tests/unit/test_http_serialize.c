/*
 * The raw request writer: the client's method, target and end-to-end
 * headers verbatim, framing and connection fields athttp's own, and
 * nothing that could end a field early.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http_serialize.h"

static char *serialize(const struct raw_request_spec *s, enum ath_err want, size_t *len)
{
	unsigned char *out;
	size_t n;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(http_serialize_request(s, &out, &n, &err), want);
	if (want != ATH_OK) {
		assert_null(out);
		assert_int_equal(err.http_status, 400);
		return NULL;
	}
	char *z = malloc(n + 1);
	memcpy(z, out, n);
	z[n] = '\0';
	free(out);
	if (len)
		*len = n;
	return z;
}

static void test_headers_verbatim(void **state)
{
	(void)state;
	struct hdr_list h = { 0 };
	hdr_add(&h, "x-trace", 7, "1", 1);
	hdr_add(&h, "Cookie", 6, "a=b; c=d", 8);
	hdr_add(&h, "Accept", 6, "*/*", 3);
	struct raw_request_spec s = { .method = "OPTIONS", .target = "/a?b=c", .host = "example.com:8080",
				      .headers = &h, .connection = "close" };
	char *r = serialize(&s, ATH_OK, NULL);
	assert_string_equal(r, "OPTIONS /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\nx-trace: 1\r\n"
			       "Cookie: a=b; c=d\r\nAccept: */*\r\nConnection: close\r\n\r\n");
	free(r);
	hdr_free(&h);
}

/* A de-chunked body gets its Content-Length; a framed empty body keeps 0. */
static void test_body_framing(void **state)
{
	(void)state;
	struct hdr_list h = { 0 };
	const unsigned char body[] = "a\0b";
	struct raw_request_spec s = { .method = "PUT", .target = "/f", .host = "h", .headers = &h,
				      .body = body, .body_len = 3 };
	size_t n;
	char *r = serialize(&s, ATH_OK, &n);
	const char head[] = "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n";
	assert_int_equal(n, sizeof head - 1 + 3);
	assert_memory_equal(r, head, sizeof head - 1);
	assert_memory_equal(r + sizeof head - 1, "a\0b", 3);
	free(r);
	s.body_len = 0;
	s.body_framed = true;
	r = serialize(&s, ATH_OK, NULL);
	assert_string_equal(r, "PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
	free(r);
	s.body_framed = false;
	s.method = "GET";
	r = serialize(&s, ATH_OK, NULL);
	assert_string_equal(r, "GET /f HTTP/1.1\r\nHost: h\r\n\r\n");
	free(r);
}

/* Anything that would end a field or the head early is refused. */
static void test_refusals(void **state)
{
	(void)state;
	struct hdr_list h = { 0 };
	struct raw_request_spec s = { .method = "GET", .target = "/", .host = "h", .headers = &h };
	s.method = "GE T";
	serialize(&s, ATH_E_BAD_REQUEST, NULL);
	s.method = "GET";
	s.target = "/a b";
	serialize(&s, ATH_E_BAD_REQUEST, NULL);
	s.target = "http://h/";
	serialize(&s, ATH_E_BAD_REQUEST, NULL);
	s.target = "/";
	s.host = "h\r\nX: y";
	serialize(&s, ATH_E_BAD_REQUEST, NULL);
	s.host = "h";
	hdr_add(&h, "X-A", 3, "v\r\nInjected: 1", 15);
	serialize(&s, ATH_E_BAD_REQUEST, NULL);
	hdr_free(&h);
	hdr_add(&h, "X A", 3, "v", 1);
	serialize(&s, ATH_E_BAD_REQUEST, NULL);
	hdr_free(&h);
	hdr_add(&h, "X-Tab", 5, "a\tb", 3);
	char *r = serialize(&s, ATH_OK, NULL);
	assert_non_null(strstr(r, "X-Tab: a\tb\r\n"));
	free(r);
	hdr_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_verbatim),
		cmocka_unit_test(test_body_framing),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
