/*
 * The growable string (strbuf.c): pieces kept in order and NUL-terminated,
 * formatted pieces of any length (no silent cut at a scratch buffer's
 * size), binary bytes, reuse after free.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "strbuf.h"

static void test_pieces(void **state)
{
	(void)state;
	struct strbuf b = { 0 };
	assert_null(b.p);
	strbuf_adds(&b, "AT+HTTPCLIENT=");
	strbuf_addf(&b, "%d,%d,", 2, 0);
	strbuf_add(&b, "\"u\"", 3);
	assert_false(b.oom);
	assert_int_equal(b.len, strlen("AT+HTTPCLIENT=2,0,\"u\""));
	assert_string_equal(b.p, "AT+HTTPCLIENT=2,0,\"u\"");
	strbuf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	strbuf_adds(&b, "again");
	assert_string_equal(b.p, "again");
	strbuf_free(&b);
}

static void test_long_and_binary(void **state)
{
	(void)state;
	struct strbuf b = { 0 };
	char *big = malloc(100001);
	memset(big, 'x', 100000);
	big[100000] = '\0';
	/* a formatted piece far over any scratch buffer, whole */
	strbuf_addf(&b, "<%s>", big);
	assert_int_equal(b.len, 100002);
	assert_int_equal(b.p[0], '<');
	assert_int_equal(b.p[100001], '>');
	assert_int_equal(b.p[100002], '\0');
	static const char bin[] = { 'a', '\0', '\r', '\n', 'b' };
	strbuf_add(&b, bin, sizeof bin);
	assert_int_equal(b.len, 100002 + sizeof bin);
	assert_memory_equal(b.p + 100002, bin, sizeof bin);
	/* many small pieces */
	strbuf_free(&b);
	for (int i = 0; i < 10000; i++)
		strbuf_addf(&b, "%04d", i);
	assert_int_equal(b.len, 40000);
	assert_memory_equal(b.p + 4 * 9999, "9999", 4);
	strbuf_free(&b);
	free(big);
}

/* A fixed field filled from a module's answer: whole when it fits, cut
 * with its terminator when it does not, untouched when it has no room. */
static void test_copy_cut(void **state)
{
	(void)state;
	char f[6];
	memset(f, 'x', sizeof f);
	str_copy_cut(f, sizeof f, "READY");
	assert_string_equal(f, "READY");
	str_copy_cut(f, sizeof f, "SIM PIN");
	assert_string_equal(f, "SIM P");
	str_copy_cut(f, sizeof f, "");
	assert_string_equal(f, "");
	memset(f, 'x', sizeof f);
	str_copy_cut(f, 0, "abc");
	assert_int_equal(f[0], 'x');
	str_copy_cut(f, 1, "abc");
	assert_int_equal(f[0], '\0');
	assert_int_equal(f[1], 'x');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_long_and_binary),
		cmocka_unit_test(test_copy_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
