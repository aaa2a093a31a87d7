/*
 * The AT parser fed the module's side of every example in the SIMCom manual
 * (the SIM7500/SIM7600/SIM7800 Series HTTP AT Command Manual,
 * chapter 3) and OneMO's URC forms (the OneMO HTTP/HTTPS user manual,
 * V6.0.7), whole, byte by byte and in random splits: the
 * events must be the same every way.
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
#include "dialect.h"
#include "strbuf.h"

static const struct at_block_rule simcom_blocks[] = {
	{ "+HTTPREAD:", AT_BLOCK_AFTER_LINE, "LEN", false },
	{ "+HTTPHEAD:", AT_BLOCK_AFTER_LINE, NULL, true },
	{ "+HTTPCLIENT:", AT_BLOCK_INLINE, NULL, false },
	{ NULL, 0, NULL, false },
};
static const char *const prompts[] = { "DOWNLOAD", NULL };
static const struct at_syntax syn = { .blocks = simcom_blocks, .prompt_lines = prompts };

/* Events as text: "L<line>\n", "P\n", "B<header>|<data>\n" (a block's
 * pieces are joined, so splits do not show). */
struct log {
	struct strbuf b;
	bool in_block;
};

static void log_add(struct log *l, const void *p, size_t n)
{
	strbuf_add(&l->b, p, n);
	assert_false(l->b.oom);
}

static void ev_line(void *ctx, const char *line, size_t len)
{
	struct log *l = ctx;
	assert_int_equal(strlen(line), len);
	log_add(l, "L", 1);
	log_add(l, line, len);
	log_add(l, "\n", 1);
}

static void ev_prompt(void *ctx)
{
	log_add(ctx, "P\n", 2);
}

static void ev_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct log *l = ctx;
	if (!l->in_block) {
		log_add(l, "B", 1);
		log_add(l, header, strlen(header));
		log_add(l, "|", 1);
		l->in_block = true;
	}
	log_add(l, data, len);
	if (left == 0) {
		log_add(l, "\n", 1);
		l->in_block = false;
	}
}

/* "F<header>\n": the bytes after a block were not the trailer. */
static void ev_framing(void *ctx, const char *header, const char *why)
{
	struct log *l = ctx;
	assert_non_null(why);
	log_add(l, "F", 1);
	log_add(l, header, strlen(header));
	log_add(l, "\n", 1);
}

static const struct at_parser_cb cb = { .line = ev_line, .prompt = ev_prompt, .block = ev_block,
					.framing = ev_framing };

/* Feeds input split by the pieces function under syntax sy; returns the
 * event log. */
static char *run_syn(const struct at_syntax *sy, const char *in, size_t len, size_t (*piece)(unsigned *),
		     unsigned seed, bool arm)
{
	struct log l = { 0 };
	struct at_parser p;
	at_parser_init(&p, sy, &cb, &l);
	at_parser_arm_prompt(&p, arm);
	for (size_t off = 0; off < len;) {
		size_t n = piece ? piece(&seed) : len;
		if (n > len - off)
			n = len - off;
		at_parser_feed(&p, in + off, n);
		off += n;
	}
	if (!l.b.p)
		l.b.p = calloc(1, 1);
	return l.b.p;
}

static char *run(const char *in, size_t len, size_t (*piece)(unsigned *), unsigned seed, bool arm)
{
	return run_syn(&syn, in, len, piece, seed, arm);
}

static size_t one(unsigned *seed)
{
	(void)seed;
	return 1;
}

static size_t random_piece(unsigned *seed)
{
	return 1 + (size_t)rand_r(seed) % 37;
}

/* Same events whole, byte by byte and in 50 random splits. */
static void check_all_splits_syn(const struct at_syntax *sy, const char *in, size_t len, const char *expected,
				 bool arm)
{
	char *whole = run_syn(sy, in, len, NULL, 0, arm);
	assert_string_equal(whole, expected);
	char *bytes = run_syn(sy, in, len, one, 0, arm);
	assert_string_equal(bytes, expected);
	for (unsigned seed = 1; seed <= 50; seed++) {
		char *r = run_syn(sy, in, len, random_piece, seed, arm);
		assert_string_equal(r, expected);
		free(r);
	}
	free(whole);
	free(bytes);
}

static void check_all_splits(const char *in, size_t len, const char *expected, bool arm)
{
	check_all_splits_syn(&syn, in, len, expected, arm);
}

/* 3.1.1: GET, with the module's echo on (as after power-up). */
static void test_manual_get(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
			   "Connection: close\r\nContent-Length: 22505\r\n\r\n";
	const char *data = "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\r\n"
			   "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">";
	char *in = fmt("AT+HTTPINIT\r\r\nOK\r\n"
		       "AT+HTTPPARA=\"URL\",\"http://opinion.people.com.cn/GB/n1/2018/0815/c1003-30228758.html\"\r\r\nOK\r\n"
		       "AT+HTTPACTION=0\r\r\nOK\r\n\r\n+HTTPACTION: 0,200,22505\r\n"
		       "AT+HTTPHEAD\r\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n"
		       "AT+HTTPREAD=0,500\r\r\n+HTTPREAD: DATA,%zu\r\n%s\r\nOK\r\n"
		       "AT+HTTPTERM\r\r\nOK\r\n",
		       strlen(head), head, strlen(data), data);
	char *expected = fmt("LAT+HTTPINIT\nLOK\n"
			     "LAT+HTTPPARA=\"URL\",\"http://opinion.people.com.cn/GB/n1/2018/0815/c1003-30228758.html\"\nLOK\n"
			     "LAT+HTTPACTION=0\nLOK\nL+HTTPACTION: 0,200,22505\n"
			     "LAT+HTTPHEAD\nB+HTTPHEAD: %zu|%s\nLOK\n"
			     "LAT+HTTPREAD=0,500\nB+HTTPREAD: DATA,%zu|%s\nLOK\n"
			     "LAT+HTTPTERM\nLOK\n",
			     strlen(head), head, strlen(data), data);
	check_all_splits(in, strlen(in), expected, false);
	free(in);
	free(expected);
}

/* 3.1.2: POST with its DOWNLOAD prompt and +HTTP_PEER_CLOSED. */
static void test_manual_post(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 500 Internal Server Error\r\nCache-Control: private\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\nContent-Length: 30\r\n\r\n";
	char *in = fmt("\r\nOK\r\n\r\nDOWNLOAD\r\n\r\nOK\r\n\r\nOK\r\n\r\n+HTTPACTION: 1,500,30\r\n"
		       "\r\n+HTTP_PEER_CLOSED\r\n\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n"
		       "\r\n+HTTPREAD: DATA,30\r\nRequest format is invalid: .\r\n\r\nOK\r\n",
		       strlen(head), head);
	char *expected = fmt("LOK\nLDOWNLOAD\nLOK\nLOK\nL+HTTPACTION: 1,500,30\nL+HTTP_PEER_CLOSED\n"
			     "B+HTTPHEAD: %zu|%s\nLOK\nB+HTTPREAD: DATA,30|Request format is invalid: .\r\n\nLOK\n",
			     strlen(head), head);
	check_all_splits(in, strlen(in), expected, false);
	free(in);
	free(expected);
}

/* 3.1.3 and 3.2.3: HEAD, "+HTTPHEAD: DATA,<n>" form (3.1.4) too. */
static void test_manual_head_forms(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nServer: bfe/1.0.8.13-sslpool-patch\r\nContent-Length: 52060\r\n\r\n";
	char *in = fmt("\r\nOK\r\n\r\n+HTTPACTION: 2,200,%zu\r\n\r\n+HTTP_PEER_CLOSED\r\n"
		       "\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n\r\n+HTTPHEAD: DATA,%zu\r\n%s\r\nOK\r\n",
		       strlen(head), strlen(head), head, strlen(head), head);
	char *expected = fmt("LOK\nL+HTTPACTION: 2,200,%zu\nL+HTTP_PEER_CLOSED\nB+HTTPHEAD: %zu|%s\nLOK\n"
			     "B+HTTPHEAD: DATA,%zu|%s\nLOK\n",
			     strlen(head), strlen(head), head, strlen(head), head);
	check_all_splits(in, strlen(in), expected, false);
	free(in);
	free(expected);
}

/* Chapter 3 preamble (PDP context), 3.1.4 (POSTFILE / READFILE), 3.2.1-3.2.3
 * (HTTPS: the same replies), and 2.4's test command. */
static void test_manual_other_examples(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nServer: openresty\r\nContent-Type: application/octet-stream\r\n"
			   "Connection: close\r\n\r\n";
	char *in = fmt("\r\nOK\r\n"
		       "\r\n+CGPADDR: 1,10.49.14.68\r\n\r\n+CGPADDR: 4,0.0.0.0\r\n\r\nOK\r\n"
		       "\r\nOK\r\n\r\n+HTTPPOSTFILE: 0,200,14615\r\n"
		       "\r\nOK\r\n\r\n+HTTPREADFILE: 0\r\n"
		       "\r\nOK\r\n\r\n+HTTPACTION: 0,200,52060\r\n"
		       "\r\nDOWNLOAD\r\n\r\nOK\r\n\r\nOK\r\n\r\n+HTTPACTION: 1,200,2\r\n\r\n+HTTP_PEER_CLOSED\r\n"
		       "\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n"
		       "\r\n+HTTPREAD: DATA,2\r\nok\r\n\r\nOK\r\n"
		       "\r\n+HTTPACTION: (0-3)\r\n\r\nOK\r\n",
		       strlen(head), head);
	char *expected = fmt("LOK\nL+CGPADDR: 1,10.49.14.68\nL+CGPADDR: 4,0.0.0.0\nLOK\n"
			     "LOK\nL+HTTPPOSTFILE: 0,200,14615\nLOK\nL+HTTPREADFILE: 0\n"
			     "LOK\nL+HTTPACTION: 0,200,52060\n"
			     "LDOWNLOAD\nLOK\nLOK\nL+HTTPACTION: 1,200,2\nL+HTTP_PEER_CLOSED\n"
			     "B+HTTPHEAD: %zu|%s\nLOK\nB+HTTPREAD: DATA,2|ok\nLOK\n"
			     "L+HTTPACTION: (0-3)\nLOK\n",
			     strlen(head), head);
	check_all_splits(in, strlen(in), expected, false);
	free(in);
	free(expected);
}

/* HTTPREAD as SIM7600 and A76xx firmware really print it: OK first, pieces,
 * then the terminator with or without a space; LEN is no block. */
static void test_httpread_variants(void **state)
{
	(void)state;
	const char in[] = "\r\n+HTTPREAD: LEN,5\r\n\r\nOK\r\n"
			  "\r\nOK\r\n\r\n+HTTPREAD: DATA,3\r\nab\n\r\n+HTTPREAD: 2\r\n\r\n\r\n+HTTPREAD:0\r\n"
			  "\r\n+HTTPREAD:LEN,7\r\n\r\nOK\r\n\r\n+HTTPREAD: 0\r\n";
	const char *expected = "L+HTTPREAD: LEN,5\nLOK\nLOK\nB+HTTPREAD: DATA,3|ab\n\nB+HTTPREAD: 2|\r\n\n"
			       "L+HTTPREAD:0\nL+HTTPREAD:LEN,7\nLOK\nL+HTTPREAD: 0\n";
	check_all_splits(in, sizeof in - 1, expected, false);
}

/* Binary data that looks like protocol: results, CR, LF, NUL, '>'. */
static void test_block_is_opaque(void **state)
{
	(void)state;
	const char data[] = "\r\nOK\r\n\0+HTTPREAD: 0\r\n>\r\nERROR\r\n";
	size_t dlen = sizeof data - 1;
	char in[256];
	int n = snprintf(in, sizeof in, "\r\n+HTTPREAD: DATA,%zu\r\n", dlen);
	memcpy(in + n, data, dlen);
	memcpy(in + n + dlen, "\r\n+HTTPREAD:0\r\n", 15);
	char expected[256];
	int e = snprintf(expected, sizeof expected, "B+HTTPREAD: DATA,%zu|", dlen);
	memcpy(expected + e, data, dlen);
	strcpy(expected + e + dlen, "\nL+HTTPREAD:0\n");
	for (unsigned seed = 0; seed <= 30; seed++) {
		char *r = run(in, (size_t)n + dlen + 15, seed ? random_piece : NULL, seed, true);
		assert_memory_equal(r, expected, (size_t)e + dlen + 14);
		free(r);
	}
}

/* '>' is a prompt only while armed, and its trailing space is eaten. */
static void test_prompt(void **state)
{
	(void)state;
	check_all_splits("\r\n> ", 4, "P\n", true);
	check_all_splits("\r\n> \r\n", 6, "L> \n", false);
	check_all_splits(">data\r\n", 7, "P\nLdata\n", true);
}

/* ESP-AT and Neoway style: the data follows the comma on the same line. */
static void test_inline_block(void **state)
{
	(void)state;
	const char in[] = "+HTTPCLIENT:5,a\r\nb,\r\n+HTTPCLIENT:3,xyz\r\nOK\r\n";
	check_all_splits(in, sizeof in - 1, "B+HTTPCLIENT:5,|a\r\nb,\nB+HTTPCLIENT:3,|xyz\nLOK\n", false);
}

/* A line over the limit is cut, never overflows, and parsing goes on. */
static void test_long_line(void **state)
{
	(void)state;
	size_t n = AT_LINE_MAX * 3;
	char *in = malloc(n + 8);
	memset(in, 'x', n);
	memcpy(in + n, "\r\nOK\r\n", 6);
	char *r = run(in, n + 6, random_piece, 7, false);
	assert_int_equal(strlen(r), 1 + AT_LINE_MAX + 1 + 4);
	assert_string_equal(r + 1 + AT_LINE_MAX + 1, "LOK\n");
	free(r);
	free(in);
}

#define FEED(p, lit) at_parser_feed((p), (lit), sizeof(lit) - 1)

/* A line ended by CR alone is not finished until its LF comes: the chat
 * waits for it before sending, as a strict module requires. */
static void test_lf_due(void **state)
{
	(void)state;
	struct log l = { 0 };
	struct at_parser p;
	at_parser_init(&p, &syn, &cb, &l);
	FEED(&p, "\r\nOK\r");
	assert_true(at_parser_lf_due(&p));
	FEED(&p, "\n");
	assert_false(at_parser_lf_due(&p));
	FEED(&p, "\r\n+HTTPREAD: 2\r");
	assert_false(at_parser_lf_due(&p)); /* a block header's LF is the block's business */
	FEED(&p, "\nab\r\n+HTTPREAD:0\r");
	assert_true(at_parser_lf_due(&p));
	assert_string_equal(l.b.p, "LOK\nB+HTTPREAD: 2|ab\nL+HTTPREAD:0\n");
	free(l.b.p);
}

static void test_block_length(void **state)
{
	(void)state;
	assert_int_equal(at_block_length(&syn, "+HTTPREAD: DATA,1024", 20), 1024);
	assert_int_equal(at_block_length(&syn, "+HTTPREAD: 17", 13), 17);
	assert_int_equal(at_block_length(&syn, "+HTTPREAD:0", 11), 0);
	assert_int_equal(at_block_length(&syn, "+HTTPREAD: LEN,5", 16), -1);
	assert_int_equal(at_block_length(&syn, "+HTTPREAD: 1x", 13), -1);
	assert_int_equal(at_block_length(&syn, "+HTTPACTION: 0,200,5", 20), -1);
	assert_int_equal(at_block_length(&syn, "+HTTPHEAD: DATA,773", 19), 773);
}

/* ------------------------------------------------------------ OneMO */

/* OneMO's URCs (OneMO HTTP/HTTPS user manual, 3.10): the length is a later
 * field, the prefix may stand alone on its line, "ind" may come without
 * a line end, and the manual's own typo +MHTTPPURC is the same URC. */
/* The rules are the driver's own (dialect_onemo's syntax record), not a
 * copy: a change there is a change here. */
extern const struct dialect dialect_onemo;
#define onemo_syn (*dialect_onemo.syntax)

/* 3.5's GET example: the header block's 225 bytes (status line and
 * fields, each with CRLF, no blank line) and the 145-byte body (the JSON
 * shown, 144 bytes, and the LF the origin ends it with); the content URC
 * split after its prefix, both in the manual's typo spelling. */
static const char manual_head[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.18.0\r\n"
	"Date: Fri, 23 Jul 2021 09:59:35 GMT\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 145\r\n"
	"Connection: keep-alive\r\n"
	"Access-Control-Allow-Origin: *\r\n"
	"Access-Control-Allow-Credentials: true\r\n";
static const char manual_json[] =
	"{\"args\":{},\"headers\":{\"Connection\":\"close\",\"Content-Length\":\"0\",\"Host\":\"localhost:6000\"},"
	"\"origin\":\"127.0.0.1\",\"url\":\"http://localhost:6000/get\"}\n";

static void test_onemo_manual_get(void **state)
{
	(void)state;
	assert_int_equal(strlen(manual_head), 225);
	assert_int_equal(strlen(manual_json), 145);
	for (int typo = 0; typo <= 1; typo++) {
		const char *urc = typo ? "+MHTTPPURC:" : "+MHTTPURC:";
		char *in = fmt("\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n"
			       "\r\nOK\r\n"
			       "\r\n%s \"header\",0,200,225,%s\r\n"
			       "\r\n%s\r\n\"content\",0,145,145,145,%s\r\n",
			       urc, manual_head, urc, manual_json);
		char *expected = fmt("L+MHTTPCREATE: 0\nLOK\nLOK\n"
				     "B%s \"header\",0,200,225,|%s\n"
				     "B%s\"content\",0,145,145,145,|%s\n",
				     urc, manual_head, urc, manual_json);
		check_all_splits_syn(&onemo_syn, in, strlen(in), expected, false);
		free(in);
		free(expected);
	}
}

/* 4.1's forms: "+MHTTPCREATE:0" without the space, the header URC glued to
 * its prefix ("+MHTTPURC:\"header\""), the content URC split after the
 * prefix (with a trailing space on some firmware), blank lines around. */
static void test_onemo_split_forms(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n";
	char *in = fmt("\r\n+MHTTPCREATE:0\r\n\r\nOK\r\n"
		       "+MHTTPURC:\"header\",0,200,%zu,%s\r\n"
		       "+MHTTPURC: \r\n\r\n\"content\",0,5,2,2,he\r\n"
		       "+MHTTPURC:\r\n  \"content\", 0, 5, 5, 3,llo\r\n"
		       "+MHTTPURC:\n\"header\",1,204,0,\r\n",
		       strlen(head), head);
	char *expected = fmt("L+MHTTPCREATE:0\nLOK\n"
			     "B+MHTTPURC:\"header\",0,200,%zu,|%s\n"
			     "B+MHTTPURC: \"content\",0,5,2,2,|he\n"
			     "B+MHTTPURC:  \"content\", 0, 5, 5, 3,|llo\n"
			     "B+MHTTPURC:\"header\",1,204,0,|\n",
			     strlen(head), head);
	check_all_splits_syn(&onemo_syn, in, strlen(in), expected, false);
	free(in);
	free(expected);
}

/* The end of a chunked body: a zero-length piece is a block with no data;
 * the err URC and the other reports are plain lines. */
static void test_onemo_ends(void **state)
{
	(void)state;
	const char in[] = "\r\n+MHTTPURC: \"content\",0,0,3,3,abc\r\n"
			  "\r\n+MHTTPURC: \"content\",0,0,3,0,\r\n"
			  "\r\n+MHTTPURC: \"err\",0,6\r\n"
			  "\r\n+MHTTPURC: \"recv\",0,200,225,145\r\n"
			  "\r\n+MHTTPURC:\r\n\"err\",2,1\r\n";
	check_all_splits_syn(&onemo_syn, in, sizeof in - 1,
			     "B+MHTTPURC: \"content\",0,0,3,3,|abc\n"
			     "B+MHTTPURC: \"content\",0,0,3,0,|\n"
			     "L+MHTTPURC: \"err\",0,6\n"
			     "L+MHTTPURC: \"recv\",0,200,225,145\n"
			     "L+MHTTPURC:\"err\",2,1\n", false);
}

/* "ind" without its line end is complete after its digit: what follows
 * is the next line (chunked mode's example, and the URC run into the
 * next one); with its CRLF it is the same line. */
static void test_onemo_bare_ind(void **state)
{
	(void)state;
	const char in[] = "\r\nOK\r\n+MHTTPURC:\"ind\",0"
			  "+MHTTPURC: \"ind\",1\r\n"
			  "+MHTTPURC: \"ind\",2OK\r\n"
			  "+MHTTPURC:\r\n\"ind\",3+MHTTPURC: \"content\",3,0,2,2,ok\r\n"
			  "+MHTTPPURC: \"ind\",0\r\n"
			  "+MHTTPURC: \"ind\",\r\n";
	check_all_splits_syn(&onemo_syn, in, sizeof in - 1,
			     "LOK\nL+MHTTPURC:\"ind\",0\nL+MHTTPURC: \"ind\",1\nL+MHTTPURC: \"ind\",2\nLOK\n"
			     "L+MHTTPURC:\"ind\",3\nB+MHTTPURC: \"content\",3,0,2,2,|ok\n"
			     "L+MHTTPPURC: \"ind\",0\nL+MHTTPURC: \"ind\",\n", false);
}

/* A block's data is opaque: the module's own words inside it (a split
 * prefix, a bare "ind", a content URC, OK) are data. */
static void test_onemo_block_is_opaque(void **state)
{
	(void)state;
	const char data[] = "+MHTTPURC:\r\n\"ind\",0+MHTTPURC: \"content\",0,1,1,1,x\r\nOK\r\n\0,";
	size_t dlen = sizeof data - 1;
	struct log want = { 0 };
	char *in = fmt("+MHTTPURC: \"content\",0,%zu,%zu,%zu,", dlen, dlen, dlen);
	size_t hlen = strlen(in);
	in = realloc(in, hlen + dlen + 32);
	memcpy(in + hlen, data, dlen);
	memcpy(in + hlen + dlen, "\r\nOK\r\n", 6);
	log_add(&want, "B", 1);
	log_add(&want, in, hlen);
	log_add(&want, "|", 1);
	log_add(&want, data, dlen);
	log_add(&want, "\nLOK\n", 5);
	for (unsigned seed = 0; seed <= 40; seed++) {
		char *r = run_syn(&onemo_syn, in, hlen + dlen + 6, seed ? random_piece : NULL, seed, false);
		assert_memory_equal(r, want.b.p, want.b.len);
		free(r);
	}
	free(in);
	free(want.b.p);
}

/* The rules are the table's: without them the same bytes are plain lines,
 * and the old rules (prefix, then the length) behave as before. */
#define FIELD_LEN(sy, lit) at_field_block_length((sy), (lit), sizeof(lit) - 1)

static void test_onemo_rules_are_data(void **state)
{
	(void)state;
	const char in[] = "+MHTTPURC:\r\n\"content\",0,2,2,2,ok\r\n+HTTPCLIENT:2,ab\r\n";
	check_all_splits(in, sizeof in - 1, "L+MHTTPURC:\nL\"content\",0,2,2,2,ok\nB+HTTPCLIENT:2,|ab\n", false);

	assert_int_equal(FIELD_LEN(&onemo_syn, "+MHTTPURC: \"content\",0,145,145,145,"), 145);
	assert_int_equal(FIELD_LEN(&onemo_syn, "+MHTTPURC:\"content\",0,0,10,4,"), 4);
	assert_int_equal(FIELD_LEN(&onemo_syn, "+MHTTPURC: \"content\",0,145,"), -1);
	assert_int_equal(FIELD_LEN(&onemo_syn, "+MHTTPURC: \"content\",0,1x,1,1,"), -1);
	assert_int_equal(FIELD_LEN(&onemo_syn, "+MHTTPURC: \"header\",0,200,225,"), 225);
	assert_int_equal(FIELD_LEN(&onemo_syn, "+MHTTPPURC: \"header\",2,206,1010,"), 1010);
	assert_int_equal(FIELD_LEN(&onemo_syn, "+MHTTPURC: \"err\",0,6,"), -1);
	assert_int_equal(FIELD_LEN(&syn, "+MHTTPURC: \"header\",0,200,225,"), -1);
	assert_true(at_block_is_head(&onemo_syn, "+MHTTPURC: \"header\",0,200,225,"));
	assert_true(at_block_is_head(&onemo_syn, "+MHTTPPURC:\"header\",0,200,225,"));
	assert_false(at_block_is_head(&onemo_syn, "+MHTTPURC: \"content\",0,145,145,145,"));
	assert_true(at_block_is_head(&syn, "+HTTPHEAD: 5"));
	assert_false(at_block_is_head(&syn, "+HTTPREAD: 5"));
}

/* The syntax's block_trailer: after every block, CR LF, or a framing
 * report and the bytes read on as lines. */
static const struct at_syntax trailer_syn = { .blocks = simcom_blocks, .prompt_lines = prompts,
					      .block_trailer = "\r\n" };

static void check_trailer(const char *in, const char *want)
{
	for (unsigned seed = 0; seed < 30; seed++) {
		char *got = run_syn(&trailer_syn, in, strlen(in), seed ? random_piece : one, seed, false);
		assert_string_equal(got, want);
		free(got);
	}
}

static void test_block_trailer(void **state)
{
	(void)state;
	/* Clean: the line end after each block is the trailer. */
	check_trailer("\r\n+HTTPREAD: 5\r\nhello\r\n+HTTPREAD: 3\r\nabc\r\n+HTTPREAD: 0\r\n",
		      "B+HTTPREAD: 5|hello\nB+HTTPREAD: 3|abc\nL+HTTPREAD: 0\n");
	check_trailer("+HTTPCLIENT:3,abc\r\nOK\r\n", "B+HTTPCLIENT:3,|abc\nLOK\n");
	/* One byte long: the extra byte is where the line end should be. */
	check_trailer("\r\n+HTTPREAD: 5\r\nhelloX\r\n+HTTPREAD: 0\r\n",
		      "B+HTTPREAD: 5|hello\nF+HTTPREAD: 5\nLX\nL+HTTPREAD: 0\n");
	/* One byte short: the block takes the CR, and LF is no trailer. */
	check_trailer("\r\n+HTTPREAD: 5\r\nhell\r\n+HTTPREAD: 0\r\n",
		      "B+HTTPREAD: 5|hell\r\nF+HTTPREAD: 5\nL+HTTPREAD: 0\n");
	/* No line end at all. */
	check_trailer("+HTTPCLIENT:3,abcOK\r\n", "B+HTTPCLIENT:3,|abc\nF+HTTPCLIENT:3,\nLOK\n");
	/* Without a trailer in the syntax nothing is checked. */
	char *got = run("\r\n+HTTPREAD: 5\r\nhelloX\r\n", 24, NULL, 0, false);
	assert_string_equal(got, "B+HTTPREAD: 5|hello\nLX\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_get),
		cmocka_unit_test(test_block_trailer),
		cmocka_unit_test(test_manual_post),
		cmocka_unit_test(test_manual_head_forms),
		cmocka_unit_test(test_manual_other_examples),
		cmocka_unit_test(test_httpread_variants),
		cmocka_unit_test(test_block_is_opaque),
		cmocka_unit_test(test_prompt),
		cmocka_unit_test(test_inline_block),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_lf_due),
		cmocka_unit_test(test_block_length),
		cmocka_unit_test(test_onemo_manual_get),
		cmocka_unit_test(test_onemo_split_forms),
		cmocka_unit_test(test_onemo_ends),
		cmocka_unit_test(test_onemo_bare_ind),
		cmocka_unit_test(test_onemo_block_is_opaque),
		cmocka_unit_test(test_onemo_rules_are_data),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
