/*
 * The AT parser's streams (at_stream_rule): the raw bytes after CONNECT that
 * HTTPREAD prints on the AT+HTTPCFG modules.  A consumer that knows where
 * its data ends (an HTTP message with a length) ends the stream itself, so
 * "\r\nOK\r\n" inside the data stays data; one that does not (a body that
 * ends with the connection) lets the end marker end it.  Every case is fed
 * whole, byte by byte and in random splits: the events must not change.
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

#include "at_parser.h"

static const struct at_block_rule no_blocks[] = { { NULL, 0, NULL, false } };
static const char *const prompts[] = { "CONNECT", NULL };
static const struct at_stream_rule streams[] = {
	{ "CONNECT", { "\r\nOK\r\n" } },
	{ NULL, { NULL } },
};
static const struct at_syntax syn = { .blocks = no_blocks, .prompt_lines = prompts, .streams = streams };
/* Two endings that share their line break: OK, or (the AT+HTTPCFG manual's
 * table 12) the result line with no OK. */
static const struct at_stream_rule streams_alt[] = {
	{ "CONNECT", { "\r\nOK\r\n", "\r\n+HTTPREAD:" } },
	{ NULL, { NULL } },
};
static const struct at_syntax syn_alt = { .blocks = no_blocks, .prompt_lines = prompts, .streams = streams_alt };
static const struct at_syntax *cur_syn = &syn;

/* A consumer: takes `want` bytes as data (then drains), or everything until
 * the marker when want is -1.  Events as text: "L<line>\n", "S<data>|"
 * then "X<leftover>" (the marker's assumed line break included) and "E" at
 * the marker, "\n" when the stream closes. */
struct consumer {
	char *s;
	size_t len;
	long want;              /* -1: until the marker */
	long got;
	bool open;
	bool leftover;
};

static void add(struct consumer *c, const void *p, size_t n)
{
	c->s = realloc(c->s, c->len + n + 1);
	memcpy(c->s + c->len, p, n);
	c->len += n;
	c->s[c->len] = '\0';
}

static void ev_line(void *ctx, const char *line, size_t len)
{
	struct consumer *c = ctx;
	if (c->open) {
		add(c, "\n", 1);
		c->open = false;
	}
	add(c, "L", 1);
	add(c, line, len);
	add(c, "\n", 1);
}

static size_t ev_stream(void *ctx, const char *header, const void *data, size_t len, bool at_end,
			enum at_stream_watch *watch)
{
	struct consumer *c = ctx;
	assert_string_equal(header, "CONNECT");
	if (!c->open) {
		add(c, "S", 1);
		c->open = true;
		c->got = 0;
	}
	if (at_end) {
		add(c, "E", 1);
		return 0;
	}
	if (*watch == AT_STREAM_DRAIN) {
		if (!c->leftover)
			add(c, "X", 1);
		c->leftover = true;
		add(c, data, len);
		return len;
	}
	if (c->want < 0) {
		if (*watch == AT_STREAM_DATA) {
			/* Switch first, take nothing: the bytes come back under
			 * the new watch. */
			*watch = AT_STREAM_UNTIL_END;
			return 0;
		}
		add(c, data, len);
		c->got += (long)len;
		return len;
	}
	size_t take = (size_t)(c->want - c->got);
	if (take > len)
		take = len;
	add(c, data, take);
	c->got += (long)take;
	if (c->got == c->want) {
		add(c, "|", 1);
		*watch = AT_STREAM_DRAIN;
	}
	return take;
}

static const struct at_parser_cb cb = { .line = ev_line, .stream = ev_stream };

static char *run(const char *in, size_t len, long want, unsigned seed, bool armed)
{
	struct consumer c = { .want = want };
	struct at_parser p;
	at_parser_init(&p, cur_syn, &cb, &c);
	at_parser_arm_stream(&p, armed);
	for (size_t off = 0; off < len;) {
		size_t n = seed == 0 ? len : seed == 1 ? 1 : 1 + (size_t)rand_r(&seed) % 23;
		if (n > len - off)
			n = len - off;
		at_parser_feed(&p, in + off, n);
		off += n;
	}
	if (!c.s)
		c.s = calloc(1, 1);
	return c.s;
}

static void check(const char *in, long want, const char *expected, bool armed)
{
	for (unsigned seed = 0; seed < 60; seed++) {
		char *r = run(in, strlen(in), want, seed, armed);
		assert_string_equal(r, expected);
		free(r);
	}
}

/* A framed response that contains the end marker itself: the consumer's
 * length wins; the module's own OK and +HTTPREAD follow as lines. */
static void test_framed_data_keeps_marker(void **state)
{
	(void)state;
	check("\r\nCONNECT\r\nHELLO\r\nOK\r\nWORLD\r\nOK\r\n\r\n+HTTPREAD: 0\r\n", 16,
	      "SHELLO\r\nOK\r\nWORLD|X\r\nE\nLOK\nL+HTTPREAD: 0\n", true);
}

/* The module may or may not put a line break between the data and OK. */
static void test_framed_without_break(void **state)
{
	(void)state;
	check("CONNECT\r\nabcOK\r\n\r\n+HTTPREAD: 0\r\n", 3, "Sabc|E\nLOK\nL+HTTPREAD: 0\n", true);
}

/* Bytes the origin sent past its own message are left over, never lines
 * (an origin must not be able to forge "OK" or a URC). */
static void test_framed_leftover_is_not_lines(void **state)
{
	(void)state;
	check("CONNECT\r\nabcERROR\r\n+HTTPREAD: 9\r\nOK\r\n+HTTPREAD: 0\r\n", 3,
	      "Sabc|X\r\nERROR\r\n+HTTPREAD: 9E\nLOK\nL+HTTPREAD: 0\n", true);
}

/* Left over bytes end in a line: the module's OK may follow any line
 * break, even one the consumer's length cut in half. */
static void test_drain_any_line(void **state)
{
	(void)state;
	check("CONNECT\r\nabc\r\nOK\r\n", 4, "Sabc\r|X\r\n\nE\nLOK\n", true);
}

/* A body that ends with the connection: the marker ends it, and partial
 * markers inside the data are data. */
static void test_until_marker(void **state)
{
	(void)state;
	check("CONNECT\r\nx\r\nOKx\r\n\r\r\nO\r\n\r\nOK\r\n\r\n+HTTPREAD: 0\r\n", -1,
	      "Sx\r\nOKx\r\n\r\r\nO\r\nE\nLOK\nL+HTTPREAD: 0\n", true);
	check("CONNECT\r\n\r\nOK\r\n", -1, "SE\nLOK\n", true);
}

/* Unarmed, CONNECT is a plain line (it is the data prompt of HTTPURL,
 * HTTPGET and HTTPPOST). */
static void test_unarmed(void **state)
{
	(void)state;
	check("\r\nCONNECT\r\nabc\r\nOK\r\n", 3, "LCONNECT\nLabc\nLOK\n", false);
}

/* Large data passes in pieces, and memory does not depend on its size. */
static void test_large(void **state)
{
	(void)state;
	size_t n = 300000;
	char *in = malloc(n + 64);
	char *expected = malloc(n + 64);
	int h = sprintf(in, "CONNECT\r\n");
	for (size_t i = 0; i < n; i++)
		in[h + i] = "\r\nOKx"[i % 5];
	strcpy(in + h + n, "\r\nOK\r\n");
	expected[0] = 'S';
	memcpy(expected + 1, in + h, n);
	strcpy(expected + 1 + n, "|X\r\nE\nLOK\n");
	char *r = run(in, strlen(in), (long)n, 5, true);
	assert_string_equal(r, expected);
	free(r);
	expected[1 + n] = '\0';
	strcat(expected, "E\nLOK\n");
	r = run(in, strlen(in), -1, 6, true);
	/* Until the marker, near-markers in the data are data. */
	assert_string_equal(r, expected);
	free(r);
	free(in);
	free(expected);
}

/* Either marker ends the stream and is read back as lines; near misses of
 * either (and a switch from one to the other part-way) are data. */
static void test_alternative_markers(void **state)
{
	(void)state;
	cur_syn = &syn_alt;
	check("CONNECT\r\nbody\r\n+HTTPREAD: 0\r\n", -1, "SbodyE\nL+HTTPREAD: 0\n", true);
	check("CONNECT\r\nx\r\n+HTTPREADy\r\nOx\r\n+HTTP\r\nOK\r\n\r\n+HTTPREAD: 0\r\n", -1,
	      "Sx\r\n+HTTPREADy\r\nOx\r\n+HTTPE\nLOK\nL+HTTPREAD: 0\n", true);
	check("CONNECT\r\n\r\r\n+HTTPREAD: 3\r\n", -1, "S\rE\nL+HTTPREAD: 3\n", true);
	/* Draining after a framed body: with or without the line break. */
	check("CONNECT\r\nabc\r\n+HTTPREAD: 0\r\n", 3, "Sabc|X\r\nE\nL+HTTPREAD: 0\n", true);
	check("CONNECT\r\nabc+HTTPREAD: 0\r\n", 3, "Sabc|E\nL+HTTPREAD: 0\n", true);
	/* The OK form still works with both armed. */
	check("CONNECT\r\nabc\r\nOK\r\n\r\n+HTTPREAD: 0\r\n", -1, "SabcE\nLOK\nL+HTTPREAD: 0\n", true);
	cur_syn = &syn;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_framed_data_keeps_marker),
		cmocka_unit_test(test_framed_without_break),
		cmocka_unit_test(test_framed_leftover_is_not_lines),
		cmocka_unit_test(test_drain_any_line),
		cmocka_unit_test(test_until_marker),
		cmocka_unit_test(test_unarmed),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_alternative_markers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
