/*
 * Reading a program's requests (http_request.c): pipelined, chunked,
 * Expect: 100-continue, the body limit held while reading, and a request
 * too bad to parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "dialect.h"
#include "http_request.h"
#include "request_policy.h"
#include "unit_util.h"

extern const struct dialect dialect_simcom;

/* A connected pair: fds[0] the client, fds[1] the bridge's end. */
static void pair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

static void client_send(int fd, const char *s, size_t len)
{
	assert_int_equal(write(fd, s, len), (ssize_t)len);
}

static void test_pipelined_requests(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	const char in[] = "GET /a HTTP/1.1\r\nHost: origin.test\r\n\r\n"
			  "POST /b HTTP/1.1\r\nHost: origin.test\r\nContent-Length: 5\r\n\r\nhello"
			  "GET /c HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n";
	client_send(fds[0], in, sizeof in - 1);
	shutdown(fds[0], SHUT_WR);
	struct req_reader rr;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	req_reader_init(&rr, &conn);
	struct http_req q;
	struct ath_error err;
	const char *targets[] = { "/a", "/b", "/c" };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(req_read_head(&rr, &q, &err), 1);
		assert_string_equal(q.target, targets[i]);
		assert_int_equal(req_read_body(&rr, 1000, false, &err), 0);
		if (i == 1)
			assert_memory_equal(q.body, "hello", 5);
		assert_int_equal(q.keep_alive, i != 2);
		http_req_free(&q);
	}
	assert_int_equal(req_read_head(&rr, &q, &err), 0); /* clean EOF */
	http_req_free(&q);
	close(fds[0]);
	close(fds[1]);
}

static void test_chunked_body_and_expect(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	const char in[] = "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
			  "Expect: 100-continue\r\n\r\n5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";
	/* Sent a byte at a time: http-parser sees every split. */
	for (size_t i = 0; i < sizeof in - 1; i++)
		client_send(fds[0], in + i, 1);
	struct req_reader rr;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	req_reader_init(&rr, &conn);
	struct http_req q;
	struct ath_error err;
	assert_int_equal(req_read_head(&rr, &q, &err), 1);
	assert_true(q.chunked);
	assert_true(q.expect_continue);
	assert_int_equal(q.content_length, -1);
	assert_int_equal(req_read_body(&rr, 1000, false, &err), 0);
	assert_int_equal(q.body_len, 12);
	assert_memory_equal(q.body, "hello, world", 12);
	assert_false(q.body_overflow);
	http_req_free(&q);
	close(fds[0]);
	close(fds[1]);
}

static void test_body_limit_bounded(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	const char in[] = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
			  "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n";
	client_send(fds[0], in, sizeof in - 1);
	struct req_reader rr;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	req_reader_init(&rr, &conn);
	struct http_req q;
	struct ath_error err;
	assert_int_equal(req_read_head(&rr, &q, &err), 1);
	assert_int_equal(req_read_body(&rr, 15, false, &err), 0);
	assert_true(q.body_overflow);
	assert_true(q.body_len <= 15);
	http_req_free(&q);
	close(fds[0]);
	close(fds[1]);
}

static void test_bad_request(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	const char in[] = "GET /a\"b HTTP/1.1\r\nHost: h\r\n\r\n";
	client_send(fds[0], in, sizeof in - 1);
	struct req_reader rr;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	req_reader_init(&rr, &conn);
	struct http_req q;
	struct ath_error err;
	ath_error_clear(&err);
	/* http-parser itself rejects a raw quote in the target (strict build
	 * or not, the policy below also refuses it). */
	int rc = req_read_head(&rr, &q, &err);
	if (rc == 1) {
		struct prepared_request p;
		assert_int_equal(request_prepare(&dialect_simcom, &q, NULL, &p, &err), ATH_E_BAD_REQUEST);
	} else {
		assert_int_equal(rc, -1);
	}
	assert_int_equal(err.http_status, 400);
	http_req_free(&q);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelined_requests),
		cmocka_unit_test(test_chunked_body_and_expect),
		cmocka_unit_test(test_body_limit_bounded),
		cmocka_unit_test(test_bad_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
