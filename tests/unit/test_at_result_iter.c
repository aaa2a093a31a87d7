/*
 * One result line's fields (at_result_iter.c): numbers with their range
 * and blanks, quoted strings (commas inside, no closing quote, no room,
 * ESP-AT escapes), unquoted words, test-form lists and ranges, prefixes,
 * and what may follow a field (junk after one is an error, never a 0).
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "at_result_iter.h"

static struct at_result_iter it_on(const char *line, const char *prefix)
{
	struct at_result_iter it;
	at_result_iter_init(&it, line);
	assert_true(at_result_iter_next(&it, prefix));
	return it;
}

static void test_prefix(void **state)
{
	(void)state;
	struct at_result_iter it;
	at_result_iter_init(&it, "+CSQ: 17,99");
	assert_false(at_result_iter_next(&it, "+CREG:"));
	assert_false(at_result_iter_next(&it, "+CSQ: 17,99,"));
	assert_true(at_result_iter_next(&it, "+CSQ:"));
	long long v;
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 17);
	/* next starts over */
	assert_true(at_result_iter_next(&it, "+CSQ:"));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 17);
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 99);
	assert_true(at_result_iter_end(&it));
	/* no prefix: the line from its start */
	at_result_iter_init(&it, "  5");
	assert_true(at_result_iter_next(&it, NULL));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 5);
	assert_true(at_result_iter_end(&it));
	/* a prefix without a blank after it */
	it = it_on("+CWMODE:1", "+CWMODE:");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 1);
	assert_true(at_result_iter_end(&it));
}

static void test_numbers(void **state)
{
	(void)state;
	long long v = 7;
	struct at_result_iter it = it_on("+HTTPACTION: 0,-200 , 9223372036854775807,-9223372036854775808", "+HTTPACTION:");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 0);
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, -200);
	assert_true(at_result_iter_next_number(&it, &v));
	assert_true(v == LLONG_MAX);
	assert_true(at_result_iter_next_number(&it, &v));
	assert_true(v == LLONG_MIN);
	assert_true(at_result_iter_end(&it));
	assert_false(at_result_iter_next_number(&it, &v)); /* none left */

	/* one past the range either way */
	v = 7;
	it = it_on("9223372036854775808", NULL);
	assert_false(at_result_iter_next_number(&it, &v));
	it = it_on("-9223372036854775809", NULL);
	assert_false(at_result_iter_next_number(&it, &v));
	it = it_on("99999999999999999999999", NULL);
	assert_false(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 7); /* untouched */

	/* junk is no number, and no number is 0 */
	static const char *const bad[] = { "12x", "x", "-", "- 1", "+1", "1 2", "0x10", "\"5\"", "1.5", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		it = it_on(bad[i], NULL);
		assert_false(at_result_iter_next_number(&it, &v));
		assert_int_equal(v, 7);
	}
	/* an empty field, omitted in the middle, then the one after it */
	it = it_on("+CGDCONT: 1,,3", "+CGDCONT:");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_next_number(&it, &v));
	assert_true(at_result_iter_skip_next(&it));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 3);
	assert_true(at_result_iter_end(&it));
	/* a failed read stays put: the field can be read another way */
	it = it_on("abc,4", NULL);
	assert_false(at_result_iter_next_number(&it, &v));
	char w[8];
	assert_true(at_result_iter_next_unquoted(&it, w, sizeof w));
	assert_string_equal(w, "abc");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 4);
}

static void test_hex(void **state)
{
	(void)state;
	unsigned long long h = 1;
	struct at_result_iter it = it_on("+QFUPL: 1200,9aF0", "+QFUPL:");
	long long size;
	assert_true(at_result_iter_next_number(&it, &size));
	assert_int_equal(size, 1200);
	assert_true(at_result_iter_next_hex(&it, &h));
	assert_int_equal(h, 0x9af0);
	assert_true(at_result_iter_end(&it));
	it = it_on("ffffffffffffffff", NULL);
	assert_true(at_result_iter_next_hex(&it, &h));
	assert_true(h == ULLONG_MAX);
	h = 1;
	it = it_on("10000000000000000", NULL);
	assert_false(at_result_iter_next_hex(&it, &h));
	it = it_on("9g", NULL);
	assert_false(at_result_iter_next_hex(&it, &h));
	it = it_on("", NULL);
	assert_false(at_result_iter_next_hex(&it, &h));
	assert_int_equal(h, 1);
}

static void test_strings(void **state)
{
	(void)state;
	char s[16];
	long long v;
	struct at_result_iter it = it_on("+QHTTPCFG: \"responseheader\",1", "+QHTTPCFG:");
	assert_true(at_result_iter_next_string(&it, s, sizeof s));
	assert_string_equal(s, "responseheader");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 1);
	assert_true(at_result_iter_end(&it));

	/* empty, commas inside, a blank around */
	it = it_on("+COPS: \"\", \"a,b\" ,\"x\\y\"", "+COPS:");
	assert_true(at_result_iter_next_string(&it, s, sizeof s));
	assert_string_equal(s, "");
	assert_true(at_result_iter_next_string(&it, s, sizeof s));
	assert_string_equal(s, "a,b");
	/* V.250: a backslash is a character */
	assert_true(at_result_iter_next_string(&it, s, sizeof s));
	assert_string_equal(s, "x\\y");
	assert_true(at_result_iter_end(&it));

	/* unterminated, unquoted, junk after the closing quote, no room */
	strcpy(s, "kept");
	static const char *const bad[] = { "\"abc", "\"abc,1", "abc", "\"ab\"c", "\"ab\"\"c\"", "\"0123456789abcdef\"", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		it = it_on(bad[i], NULL);
		assert_false(at_result_iter_next_string(&it, s, sizeof s));
	}
	it = it_on("\"0123456789abcde\"", NULL); /* just fits */
	assert_true(at_result_iter_next_string(&it, s, sizeof s));
	assert_string_equal(s, "0123456789abcde");
	it = it_on("\"a\"", NULL);
	assert_false(at_result_iter_next_string(&it, s, 0));

	/* a quote inside needs ESP-AT's escapes */
	it = it_on("+CWJAP:\"my \\\"ap\\\\\\,\",1", "+CWJAP:");
	assert_false(at_result_iter_next_string(&it, s, sizeof s));
	at_result_iter_espat_escapes(&it);
	assert_true(at_result_iter_next_string(&it, s, sizeof s));
	assert_string_equal(s, "my \"ap\\,");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 1);
	assert_true(at_result_iter_end(&it));
	/* a backslash at the very end escapes nothing */
	it = it_on("\"ab\\", NULL);
	at_result_iter_espat_escapes(&it);
	assert_false(at_result_iter_next_string(&it, s, sizeof s));
}

static void test_unquoted_and_skip(void **state)
{
	(void)state;
	char s[8];
	long long v;
	struct at_result_iter it = it_on("+CPIN: SIM PIN ", "+CPIN:");
	assert_true(at_result_iter_next_unquoted(&it, s, sizeof s));
	assert_string_equal(s, "SIM PIN");
	assert_true(at_result_iter_end(&it));
	it = it_on("\"q\"", NULL);
	assert_false(at_result_iter_next_unquoted(&it, s, sizeof s));
	it = it_on("12345678", NULL);
	assert_false(at_result_iter_next_unquoted(&it, s, sizeof s));
	it = it_on(",", NULL);
	assert_true(at_result_iter_next_unquoted(&it, s, sizeof s));
	assert_string_equal(s, "");
	assert_false(at_result_iter_end(&it)); /* a field is due after the comma */
	assert_true(at_result_iter_next_unquoted(&it, s, sizeof s));
	assert_true(at_result_iter_end(&it));

	/* skip_next steps over any field: quoted with commas, a list, a word, nothing */
	it = it_on("+X: \"a,b\",(1,\"),(\"),w,,7", "+X:");
	for (int i = 0; i < 4; i++)
		assert_true(at_result_iter_skip_next(&it));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 7);
	assert_true(at_result_iter_end(&it));
	assert_false(at_result_iter_skip_next(&it));
	it = it_on("\"a", NULL);
	assert_false(at_result_iter_skip_next(&it));
	it = it_on("(1,2", NULL);
	assert_false(at_result_iter_skip_next(&it));
	it = it_on("\"a\"b,1", NULL);
	assert_false(at_result_iter_skip_next(&it));
}

static void test_lists(void **state)
{
	(void)state;
	long long lo, hi, v;
	char s[8];
	/* 27.007 AT+CGDCONT=? */
	struct at_result_iter it = it_on("+CGDCONT: (1-15),\"IP\",,,(0-2),( 0 , 1 )", "+CGDCONT:");
	assert_true(at_result_iter_open_list(&it));
	assert_true(at_result_iter_next_range(&it, &lo, &hi));
	assert_int_equal(lo, 1);
	assert_int_equal(hi, 15);
	assert_false(at_result_iter_end(&it)); /* the list is open */
	assert_true(at_result_iter_close_list(&it));
	assert_true(at_result_iter_next_string(&it, s, sizeof s));
	assert_string_equal(s, "IP");
	assert_true(at_result_iter_skip_next(&it));
	assert_true(at_result_iter_skip_next(&it));
	assert_true(at_result_iter_open_list(&it));
	assert_true(at_result_iter_next_range(&it, &lo, &hi));
	assert_int_equal(lo, 0);
	assert_int_equal(hi, 2);
	assert_true(at_result_iter_close_list(&it));
	assert_true(at_result_iter_open_list(&it));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_int_equal(v, 0);
	assert_false(at_result_iter_close_list(&it)); /* 1 is still in it */
	assert_true(at_result_iter_next_range(&it, &lo, &hi));
	assert_int_equal(lo, 1);
	assert_int_equal(hi, 1);
	assert_false(at_result_iter_next_number(&it, &v)); /* ")" is no field */
	assert_true(at_result_iter_close_list(&it));
	assert_true(at_result_iter_end(&it));

	/* not closed, closed twice, a range backwards, junk after ")" */
	it = it_on("(1", NULL);
	assert_true(at_result_iter_open_list(&it));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_close_list(&it));
	assert_false(at_result_iter_end(&it));
	it = it_on("(1)", NULL);
	assert_false(at_result_iter_close_list(&it));
	it = it_on("(3-1)", NULL);
	assert_true(at_result_iter_open_list(&it));
	assert_false(at_result_iter_next_range(&it, &lo, &hi));
	it = it_on("(1)x", NULL);
	assert_true(at_result_iter_open_list(&it));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_close_list(&it));
	it = it_on("(1,)", NULL);
	assert_true(at_result_iter_open_list(&it));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_close_list(&it));
	/* ")" outside a list is junk */
	it = it_on("1)", NULL);
	assert_false(at_result_iter_next_number(&it, &v));
	it = it_on("()", NULL);
	assert_true(at_result_iter_open_list(&it));
	assert_true(at_result_iter_close_list(&it));
	assert_true(at_result_iter_end(&it));
}

static void test_trailing(void **state)
{
	(void)state;
	long long v;
	struct at_result_iter it = it_on("+HTTPREAD: 0 ", "+HTTPREAD:");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_true(at_result_iter_end(&it));
	it = it_on("+HTTPACTION: 0,200,5,", "+HTTPACTION:");
	for (int i = 0; i < 3; i++)
		assert_true(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_end(&it)); /* the trailing comma promises a field */
	it = it_on("+HTTPACTION: 0,200,5 6", "+HTTPACTION:");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_true(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_end(&it));
	it = it_on("+HTTPACTION: 0,200", "+HTTPACTION:");
	assert_true(at_result_iter_next_number(&it, &v));
	assert_false(at_result_iter_end(&it));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_unquoted_and_skip),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_trailing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
