/*
 * The reader of Beken's uncounted pieces ("+HTTPCLIENT:<T>,<data>", the
 * Beken BK72xx AT manual, "HTTP instruction set"), fed whole, byte by
 * byte, cut in two at every byte and in random splits: the events must be
 * the same every way, and the data byte for byte what the module meant.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "at_pieces.h"
#include "strbuf.h"

/* ESP-AT's syntax as far as the reader reads it: its counted pieces, and
 * AT+HTTPCPOST's result lines. */
static const struct at_block_rule blocks[] = {
	{ "+HTTPCLIENT:", AT_BLOCK_INLINE, NULL, false },
	{ "+HTTPCPOST:", AT_BLOCK_INLINE, NULL, false },
	{ NULL, 0, NULL, false },
};
static const char *const final_lines[] = { "SEND OK", NULL };
static const char *const failure_lines[] = { "SEND FAIL", "FAIL", NULL };
static const struct at_syntax syn = {
	.blocks = blocks,
	.final_lines = final_lines,
	.failure_lines = failure_lines,
	.block_trailer = "\r\n",
};
static const char *const prefixes[] = { "+HTTPCLIENT:", "+HTTPCPOST:", NULL };

/* Events as bytes: "<" data ">\n" for a piece (its data joined, so splits
 * do not show; the data may hold any byte), "F" why "\n", "L" line "\n",
 * "P\n". */
struct log {
	struct strbuf b;
	bool in_piece;
};

static void log_add(struct log *l, const void *p, size_t n)
{
	strbuf_add(&l->b, p, n);
	assert_false(l->b.oom);
}

static void ev_data(void *ctx, const void *data, size_t len)
{
	struct log *l = ctx;
	assert_true(len > 0);
	if (!l->in_piece)
		log_add(l, "<", 1);
	l->in_piece = true;
	log_add(l, data, len);
}

static void ev_end(void *ctx)
{
	struct log *l = ctx;
	if (!l->in_piece)
		log_add(l, "<", 1);
	log_add(l, ">\n", 2);
	l->in_piece = false;
}

static void ev_framing(void *ctx, const char *why)
{
	struct log *l = ctx;
	log_add(l, "F", 1);
	log_add(l, why, strlen(why));
	log_add(l, "\n", 1);
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

static const struct at_pieces_cb cb = {
	.data = ev_data, .end = ev_end, .framing = ev_framing, .line = ev_line, .prompt = ev_prompt,
};

/* One input and what must come of it. */
struct piece_case {
	const char *in;
	size_t in_len;
	bool any_total;
	bool arm_prompt;
	/* After the input the module goes quiet: the owner settles. */
	bool settle;
	const char *events;
	size_t events_len;
	unsigned long long sum, total;
	unsigned pieces;
};

/* Feeds c->in cut at the offsets cuts[0..ncuts) (ascending). */
static void run_cuts(const struct piece_case *c, const size_t *cuts, size_t ncuts)
{
	struct log l = { 0 };
	struct at_pieces r;
	at_pieces_init(&r, &syn, prefixes, c->any_total, &cb, &l);
	at_pieces_arm_prompt(&r, c->arm_prompt);
	size_t off = 0;
	for (size_t i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : c->in_len;
		at_pieces_feed(&r, c->in + off, end - off);
		off = end;
	}
	if (c->settle) {
		assert_true(at_pieces_provisional(&r));
		at_pieces_settle(&r);
	}
	assert_false(at_pieces_provisional(&r));
	assert_false(at_pieces_in_piece(&r));
	if (!l.b.p)
		l.b.p = calloc(1, 1);
	if (l.b.len != c->events_len || memcmp(l.b.p, c->events, l.b.len) != 0)
		fail_msg("events differ:\n got: %.*s\nwant: %.*s", (int)l.b.len, l.b.p, (int)c->events_len, c->events);
	assert_int_equal(at_pieces_sum(&r), c->sum);
	assert_int_equal(at_pieces_total(&r), c->total);
	assert_int_equal(at_pieces_count(&r), c->pieces);
	free(l.b.p);
}

/* Whole, byte by byte, in two at every byte, and in 50 random splits. */
static void check(const struct piece_case *c)
{
	run_cuts(c, NULL, 0);
	size_t *cuts = malloc((c->in_len + 1) * sizeof *cuts);
	for (size_t i = 1; i < c->in_len; i++)
		cuts[i - 1] = i;
	run_cuts(c, cuts, c->in_len ? c->in_len - 1 : 0);
	for (size_t i = 1; i < c->in_len; i++)
		run_cuts(c, &i, 1);
	for (unsigned seed = 1; seed <= 50; seed++) {
		size_t n = 0;
		for (size_t at = 1 + (size_t)rand_r(&seed) % 7; at < c->in_len; at += 1 + (size_t)rand_r(&seed) % 7)
			cuts[n++] = at;
		run_cuts(c, cuts, n);
	}
	free(cuts);
}

#define S(lit) lit, sizeof lit - 1

/* Pieces that add up to T exactly, then OK: each piece's data, and the
 * end at once (no quiet needed). */
static void test_exact_total(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<10>,<hello>\r\n+HTTPCLIENT:<10>,<world>\r\nOK\r\n"),
		.events = S("<hello>\n<world>\nLOK\n"),
		.sum = 10, .total = 10, .pieces = 2,
	};
	check(&c);
}

/* AT+HTTPCPOST's pieces and its SEND OK (the syntax's final line). */
static void test_cpost_send_ok(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCPOST:<7>,<{\"a\":1}>\r\nSEND OK\r\n"),
		.events = S("<{\"a\":1}>\nLSEND OK\n"),
		.sum = 7, .total = 7, .pieces = 1,
	};
	check(&c);
}

/* More data than T: said when it happens; OK after it may still be data,
 * so the end waits for the quiet. */
static void test_over_total(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<4>,<hello>\r\nOK\r\n"),
		.settle = true,
		.events = S("<helloFthe pieces hold more than their total: 5 bytes of 4\n>\nLOK\n"),
		.sum = 5, .total = 4, .pieces = 1,
	};
	check(&c);
}

/* A piece start with another T cannot be the same body's next piece: it
 * is data (here the data adds up to the first T). */
static void test_other_total_is_data(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<30>,<hello>\r\n+HTTPCLIENT:<9>,<world>\r\nOK\r\n"),
		.events = S("<hello>\r\n+HTTPCLIENT:<9>,<world>\nLOK\n"),
		.sum = 30, .total = 30, .pieces = 1,
	};
	check(&c);
}

/* '>' and a line break followed by what is neither a piece nor a final
 * result, a '>' with no line break, a '>' alone on a line: all data. */
static void test_gt_in_data(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<27>,<a>\r\nb>c\r\n>\r\nnot a piece>>\r\n>\r\nOK\r\n"),
		.events = S("<a>\r\nb>c\r\n>\r\nnot a piece>>\r\n>\nLOK\n"),
		.sum = 27, .total = 27, .pieces = 1,
	};
	check(&c);
}

/* Bare LFs, blank lines and CRs inside the data, a NUL, and a line after
 * '>' that reads like OK but holds a NUL. */
static void test_line_breaks_in_data(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<32>,<\nline1\nline2\n\n\r\n\r\rx\0y>\r\nOK\0\r\nend>\r\nOK\r\n"),
		.events = S("<\nline1\nline2\n\n\r\n\r\rx\0y>\r\nOK\0\r\nend>\nLOK\n"),
		.sum = 32, .total = 32, .pieces = 1,
	};
	check(&c);
}

/* Short of T, '>' CRLF OK CRLF may be a line of the data: it is, when
 * more comes. */
static void test_final_inside_data(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<14>,<abc>\r\nOK\r\nmore>\r\nOK\r\n"),
		.events = S("<abc>\r\nOK\r\nmore>\nLOK\n"),
		.sum = 14, .total = 14, .pieces = 1,
	};
	check(&c);
}

/* A body cut short (at a NUL, by Beken firmware), then OK: the end once
 * the module is quiet, and the sum said to fall short. */
static void test_short_then_quiet(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<12>,<abc>\r\nOK\r\n"),
		.settle = true,
		.events = S("<abc>\nFthe pieces end short of their total: 3 bytes of 12\nLOK\n"),
		.sum = 3, .total = 12, .pieces = 1,
	};
	check(&c);
	struct piece_case one_short = {
		S("+HTTPCLIENT:<4>,<abc>\r\nERROR\r\n"),
		.settle = true,
		.events = S("<abc>\nFthe pieces end short of their total: 3 bytes of 4\nLERROR\n"),
		.sum = 3, .total = 4, .pieces = 1,
	};
	check(&one_short);
}

/* A line after '>' that would be OK but for a NUL in it is data, even
 * where the pieces are whole and OK would end them. */
static void test_nul_line_is_data(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<3>,<abc>\r\nOK\0\r\n>\r\nOK\r\n"),
		.settle = true,
		.events = S("<abc>Fthe pieces hold more than their total: 4 bytes of 3\n\r\nOK\0\r\n>\nLOK\n"),
		.sum = 11, .total = 3, .pieces = 1,
	};
	check(&c);
}

/* ERROR after pieces (an error body): a final result, so short of T it
 * waits for the quiet; +CME ERROR ends them at once. */
static void test_error_after_pieces(void **state)
{
	(void)state;
	struct piece_case err = {
		S("+HTTPCLIENT:<20>,<not found>\r\nERROR\r\n"),
		.settle = true,
		.events = S("<not found>\nFthe pieces end short of their total: 9 bytes of 20\nLERROR\n"),
		.sum = 9, .total = 20, .pieces = 1,
	};
	check(&err);
	struct piece_case cme = {
		S("+HTTPCLIENT:<20>,<oops>\r\n+CME ERROR: 10\r\n"),
		.events = S("<oops>\nFthe pieces end short of their total: 4 bytes of 20\nL+CME ERROR: 10\n"),
		.sum = 4, .total = 20, .pieces = 1,
	};
	check(&cme);
	struct piece_case fail = {
		S("+HTTPCPOST:<5>,<gone!>\r\nSEND FAIL\r\n"),
		.events = S("<gone!>\nLSEND FAIL\n"),
		.sum = 5, .total = 5, .pieces = 1,
	};
	check(&fail);
}

/* Espressif's counted pieces are the parser's blocks: their data is
 * skipped exactly, a '<' in it opens nothing; the echo and other lines
 * come as lines. */
static void test_counted_pieces_skipped(void **state)
{
	(void)state;
	struct piece_case c = {
		S("AT+HTTPCLIENT=2,0,\"http://h/\",,,1\r\n+HTTPCLIENT:18,+HTTPCLIENT:<1>,<x\r\n+HTTPCLIENT:0,\r\nOK\r\n"),
		.events = S("LAT+HTTPCLIENT=2,0,\"http://h/\",,,1\nLOK\n"),
		.sum = 0, .total = 0, .pieces = 0,
	};
	check(&c);
	/* Exactly the count: with no line break after the data (the
	 * parser's framing error), the next byte is a line's. */
	struct piece_case exact = {
		S("+HTTPCLIENT:3,<a>OK\r\n"),
		.events = S("LOK\n"),
	};
	check(&exact);
}

/* A HEAD's pieces each have a T of their own: any T goes on, no sum. */
static void test_any_total(void **state)
{
	(void)state;
	struct piece_case c = {
		S("+HTTPCLIENT:<9>,<Server: x>\r\n+HTTPCLIENT:<4>,<A: b>\r\nOK\r\n"),
		.any_total = true,
		.events = S("<Server: x>\n<A: b>\nLOK\n"),
		.sum = 13, .total = 9, .pieces = 2,
	};
	check(&c);
}

/* '>' at a line start is a prompt only while armed. */
static void test_prompt(void **state)
{
	(void)state;
	struct piece_case armed = {
		S("OK\r\n>"),
		.arm_prompt = true,
		.events = S("LOK\nP\n"),
	};
	check(&armed);
	struct piece_case not_armed = {
		S("OK\r\n> \r\n"),
		.events = S("LOK\nL> \n"),
	};
	check(&not_armed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_total),
		cmocka_unit_test(test_cpost_send_ok),
		cmocka_unit_test(test_over_total),
		cmocka_unit_test(test_other_total_is_data),
		cmocka_unit_test(test_gt_in_data),
		cmocka_unit_test(test_line_breaks_in_data),
		cmocka_unit_test(test_final_inside_data),
		cmocka_unit_test(test_short_then_quiet),
		cmocka_unit_test(test_nul_line_is_data),
		cmocka_unit_test(test_error_after_pieces),
		cmocka_unit_test(test_counted_pieces_skipped),
		cmocka_unit_test(test_any_total),
		cmocka_unit_test(test_prompt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
