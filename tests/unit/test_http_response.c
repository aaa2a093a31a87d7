/*
 * The response writer (http_response.c): the origin's framing replaced by
 * what is delivered, unknown lengths, HEAD, a short body, error answers;
 * and the origin head parser (http_head.c).
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

#include "client_conn.h"
#include "http_head.h"
#include "http_response.h"
#include "unit_util.h"

/* A connected pair: fds[0] the client, fds[1] the bridge's end. */
static void pair(int fds[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
}

/* Everything the bridge wrote, after closing its end. */
static char *client_read_all(int fds[2])
{
	close(fds[1]);
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);
	ssize_t n;
	while ((n = read(fds[0], buf + len, cap - len - 1)) > 0) {
		len += (size_t)n;
		if (len + 1 == cap)
			buf = realloc(buf, cap *= 2);
	}
	buf[len] = '\0';
	close(fds[0]);
	return buf;
}

static struct http_head origin_head(const char *block)
{
	struct http_head h;
	assert_int_equal(http_head_parse(&h, block, strlen(block)), 0);
	return h;
}

/* The origin's framing is replaced by what is delivered. */
static void test_response_rewrites_framing(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	struct http_head h = origin_head("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close, X-Hop\r\n"
					 "X-Hop: 1\r\nKeep-Alive: timeout=5\r\nContent-Type: text/plain\r\n\r\n");
	assert_true(h.chunked);
	struct resp_writer w;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	resp_init(&w, &conn, false, true, 1);
	assert_int_equal(resp_start(&w, &h, 11, false), ATH_OK);
	assert_int_equal(resp_body(&w, "hello ", 6), ATH_OK);
	assert_int_equal(resp_body(&w, "world", 5), ATH_OK);
	assert_int_equal(resp_finish(&w), ATH_OK);
	http_head_free(&h);
	char *out = client_read_all(fds);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
				 "Connection: keep-alive\r\n\r\nhello world");
	free(out);
}

/* Unknown length: chunked to a 1.1 client, close-delimited to 1.0. */
static void test_response_unknown_length(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	struct http_head h = origin_head("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");
	struct resp_writer w;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	resp_init(&w, &conn, false, true, 1);
	assert_int_equal(resp_start(&w, &h, -1, true), ATH_OK);
	assert_int_equal(resp_body(&w, "abc", 3), ATH_OK);
	assert_int_equal(resp_finish(&w), ATH_OK);
	char *out = client_read_all(fds);
	assert_non_null(strstr(out, "Transfer-Encoding: chunked\r\n"));
	assert_non_null(strstr(out, "X-Athttp-Synthesized:"));
	assert_null(strstr(out, "Content-Length"));
	assert_non_null(strstr(out, "\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
	free(out);

	pair(fds);
	conn = CLIENT_CONN_PLAIN(fds[1]);
	resp_init(&w, &conn, false, true, 0);
	assert_int_equal(resp_start(&w, &h, -1, false), ATH_OK);
	assert_true(w.close_after);
	out = client_read_all(fds);
	assert_non_null(strstr(out, "Connection: close\r\n"));
	assert_null(strstr(out, "chunked"));
	free(out);
	http_head_free(&h);
}

/* HEAD keeps the origin's Content-Length and sends no body. */
static void test_response_head(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	struct http_head h = origin_head("HTTP/1.1 200 OK\r\nContent-Length: 5242880\r\n\r\n");
	struct resp_writer w;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	resp_init(&w, &conn, true, true, 1);
	assert_int_equal(resp_start(&w, &h, 5242880, false), ATH_OK);
	assert_int_equal(resp_body(&w, "x", 1), ATH_OK);
	assert_int_equal(resp_finish(&w), ATH_OK);
	http_head_free(&h);
	char *out = client_read_all(fds);
	assert_string_equal(out, "HTTP/1.1 200 OK\r\nContent-Length: 5242880\r\nConnection: keep-alive\r\n\r\n");
	free(out);
}

/* A body shorter than announced is an error, never a silent success. */
static void test_response_short_body(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	struct http_head h = origin_head("HTTP/1.1 200 OK\r\n\r\n");
	struct resp_writer w;
	struct client_conn conn = CLIENT_CONN_PLAIN(fds[1]);
	resp_init(&w, &conn, false, true, 1);
	assert_int_equal(resp_start(&w, &h, 10, false), ATH_OK);
	assert_int_equal(resp_body(&w, "abc", 3), ATH_OK);
	assert_int_not_equal(resp_finish(&w), ATH_OK);
	http_head_free(&h);
	free(client_read_all(fds));
}

static void test_error_response(void **state)
{
	(void)state;
	int fds[2];
	pair(fds);
	assert_int_equal(resp_simple(&CLIENT_CONN_PLAIN(fds[1]), 502, "simcom 713 Get DNS failed", "athttp: simcom 713 Get DNS failed\n",
				     true, NULL), ATH_OK);
	char *out = client_read_all(fds);
	assert_string_equal(out, "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n"
				 "Content-Length: 34\r\nX-Athttp-Error: simcom 713 Get DNS failed\r\n"
				 "Connection: keep-alive\r\n\r\nathttp: simcom 713 Get DNS failed\n");
	free(out);
}

static void test_head_parse_without_blank_line(void **state)
{
	(void)state;
	struct http_head h;
	const char *block = "HTTP/1.1 404 Not Found\r\nServer: x\r\n";
	assert_int_equal(http_head_parse(&h, block, strlen(block)), 0);
	assert_int_equal(h.status, 404);
	assert_string_equal(h.reason, "Not Found");
	assert_string_equal(hdr_get(&h.headers, "server"), "x");
	http_head_free(&h);
	assert_int_equal(http_head_parse(&h, "garbage", 7), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_rewrites_framing),
		cmocka_unit_test(test_response_unknown_length),
		cmocka_unit_test(test_response_head),
		cmocka_unit_test(test_response_short_body),
		cmocka_unit_test(test_error_response),
		cmocka_unit_test(test_head_parse_without_blank_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
