/*
 * The chat's own calls a dialect builds its waits on, against scripted
 * module output in random splits: at_chat_wait_until (its condition asked
 * before the first read and after every read once the bytes are parsed;
 * nothing read when it already holds; the timeout counted from the last
 * byte, not from the start; a port error), the raw observer (every byte,
 * in order and exactly as read, each read before the parser has it; it may
 * drop queued lines without a wait missing its line; removed, it sees
 * nothing more), at_chat_take_line_any (oldest line first, whichever
 * prefix), and a syntax's final and failure lines ending a command whose
 * prompt came first (ESP-AT's SEND OK / SEND FAIL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "unit_util.h"

#include "at_chat.h"
#include "script_transport.h"

#define SEEDS 40

static const struct at_block_rule blocks[] = {
	{ "+DATA:", AT_BLOCK_INLINE, NULL, false },
	{ NULL, 0, NULL, false },
};
static const char *const final_lines[] = { "SEND OK", NULL };
static const char *const failure_lines[] = { "SEND FAIL", NULL };
static const struct at_syntax syn = {
	.blocks = blocks,
	.final_lines = final_lines,
	.failure_lines = failure_lines,
};

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ------------------------------------------------------------ a counting port */

/* Wraps the script: counts the reads that brought bytes. */
struct counted {
	struct transport t;
	struct transport *inner;
	unsigned reads;
};

static ssize_t counted_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct counted *c = t->priv;
	ssize_t n = c->inner->ops->read(c->inner, buf, len, timeout_ms);
	if (n > 0)
		c->reads++;
	return n;
}

static enum ath_err counted_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct counted *c = t->priv;
	return c->inner->ops->write(c->inner, buf, len, timeout_ms);
}

static const struct transport_ops counted_ops = { .name = "counted", .read = counted_read, .write = counted_write };

static void counted_init(struct counted *c, const struct script_step *steps, size_t n, unsigned seed)
{
	memset(c, 0, sizeof *c);
	c->inner = script_transport_new(steps, n, seed, 1 + seed % 7);
	c->t = (struct transport){ .ops = &counted_ops, .fd = -1, .priv = c };
}

static void counted_done(struct counted *c)
{
	assert_string_equal(script_error(c->inner), "");
	script_transport_free(c->inner);
}

/* ------------------------------------------------------------ a slow module */

/* One byte every interval_ms, then silence (a read times out). */
struct drip {
	struct transport t;
	const char *data;
	size_t len, off;
	int interval_ms;
	long due;
};

static ssize_t drip_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct drip *d = t->priv;
	long now = now_ms();
	if (d->off == d->len || d->due - now > timeout_ms) {
		usleep((useconds_t)timeout_ms * 1000);
		return 0;
	}
	if (d->due > now)
		usleep((useconds_t)(d->due - now) * 1000);
	d->due += d->interval_ms;
	(void)len;
	((char *)buf)[0] = d->data[d->off++];
	return 1;
}

static enum ath_err drip_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	(void)t, (void)buf, (void)len, (void)timeout_ms;
	return ATH_OK;
}

static const struct transport_ops drip_ops = { .name = "drip", .read = drip_read, .write = drip_write };

static void drip_init(struct drip *d, const char *data, int interval_ms)
{
	memset(d, 0, sizeof *d);
	d->data = data;
	d->len = strlen(data);
	d->interval_ms = interval_ms;
	d->due = now_ms() + interval_ms;
	d->t = (struct transport){ .ops = &drip_ops, .fd = -1, .priv = d };
}

/* ------------------------------------------------------------ conditions */

struct cond {
	struct at_chat *chat;
	unsigned calls;
	/* the block sink */
	char data[64];
	size_t data_len;
	bool block_done;
	/* lines taken */
	char taken[8][64];
	int which[8];
	unsigned ntaken;
};

static bool always(void *ctx)
{
	struct cond *c = ctx;
	c->calls++;
	return true;
}

static bool never(void *ctx)
{
	struct cond *c = ctx;
	c->calls++;
	return false;
}

static void cond_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct cond *c = ctx;
	(void)header;
	assert_true(c->data_len + len < sizeof c->data);
	memcpy(c->data + c->data_len, data, len);
	c->data_len += len;
	if (left == 0)
		c->block_done = true;
}

static bool block_done(void *ctx)
{
	struct cond *c = ctx;
	c->calls++;
	return c->block_done;
}

/* Takes "+A" and "+B" lines as they come; done with "+B: end". */
static bool took_end(void *ctx)
{
	static const char *const urcs[] = { "+A:", "+B:", NULL };
	struct cond *c = ctx;
	c->calls++;
	while (c->ntaken < 8 &&
	       at_chat_take_line_any(c->chat, urcs, &c->which[c->ntaken], c->taken[c->ntaken], sizeof c->taken[0]))
		if (strcmp(c->taken[c->ntaken++], "+B: end") == 0)
			return true;
	return false;
}

/* ------------------------------------------------------------ wait_until */

/* A condition that already holds: asked once, nothing read (the script has
 * nothing to say, and a read would fail). */
static void test_wait_until_holds(void **state)
{
	(void)state;
	struct transport *tp = script_transport_new(NULL, 0, 1, 1);
	struct at_chat chat;
	at_chat_init(&chat, tp, &syn, NULL);
	struct cond c = { .chat = &chat };
	assert_int_equal(at_chat_wait_until(&chat, always, &c, 1000), ATH_OK);
	assert_int_equal(c.calls, 1);
	script_transport_free(tp);
}

/* Until a block sink has the whole block: asked before the first read
 * and once after each read, with that read's bytes parsed and delivered;
 * the lines before the block queued for later. */
static void test_wait_until_block(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ NULL, 0, "\r\n+URC: 1\r\n+DATA:12,hello\r\nworld\r\n+URC: 2\r\n", 0 },
	};
	for (unsigned seed = 0; seed < SEEDS; seed++) {
		struct counted port;
		counted_init(&port, steps, 1, seed);
		struct at_chat chat;
		at_chat_init(&chat, &port.t, &syn, NULL);
		struct cond c = { .chat = &chat };
		at_chat_set_block_sink(&chat, cond_block, &c);
		assert_int_equal(at_chat_wait_until(&chat, block_done, &c, 1000), ATH_OK);
		assert_int_equal(c.calls, port.reads + 1);
		assert_int_equal(c.data_len, 12);
		assert_memory_equal(c.data, "hello\r\nworld", 12);
		char line[64];
		assert_true(at_chat_take_line(&chat, "+URC:", line, sizeof line));
		assert_string_equal(line, "+URC: 1");
		/* The rest of the output is still there for the next wait. */
		assert_int_equal(at_chat_wait_line(&chat, "+URC:", 1000, line, sizeof line), ATH_OK);
		assert_string_equal(line, "+URC: 2");
		counted_done(&port);
	}
}

/* The condition takes queued lines itself, in the order they came,
 * whichever prefix; lines it does not want stay queued. */
static void test_wait_until_lines(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ NULL, 0, "+B: 1\r\nother\r\n+A: 2\r\n+C: 3\r\n+B: end\r\n+A: after\r\n", 0 },
	};
	for (unsigned seed = 0; seed < SEEDS; seed++) {
		struct counted port;
		counted_init(&port, steps, 1, seed);
		struct at_chat chat;
		at_chat_init(&chat, &port.t, &syn, NULL);
		struct cond c = { .chat = &chat };
		assert_int_equal(at_chat_wait_until(&chat, took_end, &c, 1000), ATH_OK);
		assert_int_equal(c.ntaken, 3);
		assert_string_equal(c.taken[0], "+B: 1");
		assert_int_equal(c.which[0], 1);
		assert_string_equal(c.taken[1], "+A: 2");
		assert_int_equal(c.which[1], 0);
		assert_string_equal(c.taken[2], "+B: end");
		char line[64];
		assert_true(at_chat_take_line(&chat, "other", line, sizeof line));
		assert_true(at_chat_take_line(&chat, "+C:", line, sizeof line));
		counted_done(&port);
	}
}

/* The timeout is the module's silence: a byte every 40 ms keeps a 150 ms
 * wait going for longer than 150 ms; once the bytes stop, the wait ends
 * 150 ms after the last one. */
static void test_wait_until_timeout(void **state)
{
	(void)state;
	static const char text[] = "+A: 1\r\n+B: end\r\n";
	struct drip d;
	drip_init(&d, text, 40);
	struct at_chat chat;
	at_chat_init(&chat, &d.t, &syn, NULL);
	struct cond c = { .chat = &chat };
	long start = now_ms();
	assert_int_equal(at_chat_wait_until(&chat, took_end, &c, 150), ATH_OK);
	long took = now_ms() - start;
	/* Its last line ends about 600 ms after the start. */
	assert_true(took >= 500);
	assert_int_equal(c.ntaken, 2);

	/* Slow bytes again, then silence. */
	drip_init(&d, "abcdef", 40);
	start = now_ms();
	assert_int_equal(at_chat_wait_until(&chat, never, &c, 150), ATH_E_TIMEOUT);
	took = now_ms() - start;
	assert_int_equal(d.off, 6);
	/* The last byte came after about 240 ms: the wait ends 150 ms later. */
	assert_true(took >= 6 * 40 + 150 - 40);
	assert_true(took < 6 * 40 + 150 + 1000);

	/* Nothing at all: the timeout from the start. */
	start = now_ms();
	c.calls = 0;
	assert_int_equal(at_chat_wait_until(&chat, never, &c, 100), ATH_E_TIMEOUT);
	took = now_ms() - start;
	assert_true(took >= 100 && took < 1100);
	assert_true(c.calls >= 1);
}

/* A failing port ends the wait at once. */
static void test_wait_until_io_error(void **state)
{
	(void)state;
	static const struct script_step steps[] = { { NULL, 0, "partial", 0 } };
	struct transport *tp = script_transport_new(steps, 1, 1, 3);
	struct at_chat chat;
	at_chat_init(&chat, tp, &syn, NULL);
	struct cond c = { .chat = &chat };
	/* The script fails a read once it has nothing more to say. */
	assert_int_equal(at_chat_wait_until(&chat, never, &c, 5000), ATH_E_IO);
	assert_true(c.calls >= 2);
	script_transport_free(tp);
}

/* ------------------------------------------------------------ the raw observer */

struct observed {
	char bytes[512];
	size_t len;
	unsigned calls;
	const char *last;          /* the last read as the observer got it */
	size_t last_len;
	bool clear_queue;
	bool block_unseen;         /* the parser had bytes the observer had not */
};

static void observe(void *ctx, const void *data, size_t len)
{
	struct observed *o = ctx;
	assert_true(len > 0);
	assert_true(o->len + len < sizeof o->bytes);
	memcpy(o->bytes + o->len, data, len);
	o->len += len;
	o->calls++;
	o->last = data;
	o->last_len = len;
}

/* A block piece points into the read buffer: it must lie in the read the
 * observer got last, so the observer had it before the parser. */
static void observed_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct observed *o = ctx;
	(void)header, (void)left;
	const char *p = data;
	if (len && (p < o->last || p + len > o->last + o->last_len))
		o->block_unseen = true;
}

/* Every byte of a command's answer, as read and in order, whichever wait
 * reads it; the parser works as without the observer; removed, the
 * observer sees nothing more. */
static void test_raw_observer(void **state)
{
	(void)state;
	/* Ends with a bare LF: the wait for its line reads every byte. */
	static const char answer[] = "\r\n+DATA:7,a\r\n>b\0c\r\n+X: 1\r\n\r\nOK\r\n+URC: late\n";
	static const struct script_step steps[] = {
		{ "AT+GO\r", 0, answer, sizeof answer - 1 },
		{ "AT\r", 0, "\r\nOK\r\n", 0 },
	};
	for (unsigned seed = 0; seed < SEEDS; seed++) {
		struct counted port;
		counted_init(&port, steps, 2, seed);
		struct at_chat chat;
		at_chat_init(&chat, &port.t, &syn, NULL);
		struct observed o = { .len = 0 };
		at_chat_set_raw_observer(&chat, observe, &o);
		at_chat_set_block_sink(&chat, observed_block, &o);
		struct at_result r;
		assert_int_equal(at_chat_cmd(&chat, 1000, &r, "AT+GO"), ATH_OK);
		assert_int_equal(r.final, AT_FINAL_OK);
		char line[64];
		assert_int_equal(at_chat_wait_line(&chat, "+URC:", 1000, line, sizeof line), ATH_OK);
		assert_string_equal(line, "+URC: late");
		assert_true(at_chat_take_line(&chat, "+X:", line, sizeof line));
		assert_int_equal(o.len, sizeof answer - 1);
		assert_memory_equal(o.bytes, answer, sizeof answer - 1);
		assert_int_equal(o.calls, port.reads);
		assert_false(o.block_unseen);

		at_chat_set_raw_observer(&chat, NULL, NULL);
		unsigned calls = o.calls;
		assert_int_equal(at_chat_cmd(&chat, 1000, &r, "AT"), ATH_OK);
		assert_int_equal(r.final, AT_FINAL_OK);
		assert_int_equal(o.calls, calls);
		counted_done(&port);
	}
}

/* An observer that drops the queue at every read (as a dialect does with
 * lines it reads itself): a wait still gets the line it wants, since it
 * looks at the queue after each read, before the next is observed. */
static void clearing_observer(void *ctx, const void *data, size_t len)
{
	struct at_chat *chat = ctx;
	(void)data, (void)len;
	at_chat_clear_queue(chat);
}

static void test_raw_observer_clears(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ NULL, 0, "noise 1\r\nnoise 2\r\n+WANT: 1\r\nnoise 3\r\n+B: end\r\n", 0 },
	};
	for (unsigned seed = 0; seed < SEEDS; seed++) {
		struct counted port;
		counted_init(&port, steps, 1, seed);
		struct at_chat chat;
		at_chat_init(&chat, &port.t, &syn, NULL);
		at_chat_set_raw_observer(&chat, clearing_observer, &chat);
		char line[64];
		assert_int_equal(at_chat_wait_line(&chat, "+WANT:", 1000, line, sizeof line), ATH_OK);
		assert_string_equal(line, "+WANT: 1");
		struct cond c = { .chat = &chat };
		assert_int_equal(at_chat_wait_until(&chat, took_end, &c, 1000), ATH_OK);
		assert_string_equal(c.taken[c.ntaken - 1], "+B: end");
		counted_done(&port);
	}
}

/* ------------------------------------------------------------ lines */

/* The oldest queued line of any of the prefixes, with its prefix's index;
 * other lines stay. */
static void test_take_line_any(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ NULL, 0, "+A: 1\r\nx\r\n+B: 2\r\n+A: 3\r\nEND\r\n", 0 },
	};
	static const char *const prefixes[] = { "+B:", "+A:", NULL };
	struct transport *tp = script_transport_new(steps, 1, 5, 4);
	struct at_chat chat;
	at_chat_init(&chat, tp, &syn, NULL);
	char line[64];
	int which = -1;
	assert_false(at_chat_take_line_any(&chat, prefixes, &which, line, sizeof line));
	assert_int_equal(at_chat_wait_line(&chat, "END", 1000, line, sizeof line), ATH_OK);
	assert_true(at_chat_take_line_any(&chat, prefixes, &which, line, sizeof line));
	assert_string_equal(line, "+A: 1");
	assert_int_equal(which, 1);
	assert_true(at_chat_take_line_any(&chat, prefixes, &which, line, sizeof line));
	assert_string_equal(line, "+B: 2");
	assert_int_equal(which, 0);
	assert_true(at_chat_take_line_any(&chat, prefixes, &which, line, sizeof line));
	assert_string_equal(line, "+A: 3");
	assert_false(at_chat_take_line_any(&chat, prefixes, &which, line, sizeof line));
	assert_true(at_chat_take_line(&chat, "x", line, sizeof line));
	script_transport_free(tp);
}

/* ------------------------------------------------------------ result lines after a prompt */

/* '>' without OK leaves the command pending: the syntax's final line ends
 * it as AT_FINAL_LINE, its failure line as AT_FINAL_ERROR, and the chat
 * is free for the next command. */
static void test_result_after_prompt(void **state)
{
	(void)state;
	static const struct {
		const char *result;
		enum at_final final;
	} cases[] = {
		{ "SEND OK", AT_FINAL_LINE },
		{ "SEND FAIL", AT_FINAL_ERROR },
		{ "ERROR", AT_FINAL_ERROR },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		char *after = fmt("\r\n+DATA:3,x\ny\r\n%s\r\n", cases[k].result);
		const struct script_step steps[] = {
			{ "AT+SEND=3\r", 0, "\r\n> ", 0 },
			{ "abc", 0, after, 0 },
			{ "AT\r", 0, "\r\nOK\r\n", 0 },
		};
		for (unsigned seed = 0; seed < SEEDS; seed++) {
			struct transport *tp = script_transport_new(steps, 3, seed, 1 + seed % 5);
			struct at_chat chat;
			at_chat_init(&chat, tp, &syn, NULL);
			struct cond c = { .chat = &chat };
			at_chat_set_block_sink(&chat, cond_block, &c);
			struct at_result r;
			assert_int_equal(at_chat_cmd_prompt(&chat, 1000, &r, "AT+SEND=3"), ATH_OK);
			assert_int_equal(r.final, AT_FINAL_PROMPT);
			assert_false(at_chat_final_seen(&chat));
			assert_int_equal(at_chat_send_data(&chat, "abc", 3, 1000), ATH_OK);
			assert_int_equal(at_chat_wait_final(&chat, 1000, &r), ATH_OK);
			assert_int_equal(r.final, cases[k].final);
			assert_string_equal(r.text, cases[k].result);
			assert_true(at_chat_final_seen(&chat));
			assert_memory_equal(c.data, "x\ny", 3);
			assert_int_equal(at_chat_cmd(&chat, 1000, &r, "AT"), ATH_OK);
			assert_int_equal(r.final, AT_FINAL_OK);
			assert_string_equal(script_error(tp), "");
			assert_true(script_finished(tp));
			script_transport_free(tp);
		}
		free(after);
	}
}

/* ------------------------------------------------------------ framing */

static const char *const read_lines[] = { "+END", NULL };
static const struct at_syntax trailer_syn = {
	.blocks = blocks,
	.block_trailer = "\r\n",
};

/* A read's strict window: the expected lines, 27.007 URCs and the result
 * pass; a stray line fails every wait with ATH_E_PROTOCOL until a drain,
 * and the reason says what came.  Outside the window the same line is
 * queued like any URC. */
static void test_strict_window(void **state)
{
	(void)state;
	for (int stray = 0; stray < 2; stray++) {
		char *reply = fmt("\r\nOK\r\n\r\n+CREG: 1\r\n\r\nRING\r\n%s+END\r\n", stray ? "\r\nmoved data\r\n" : "");
		const struct script_step steps[] = {
			{ "AT+READ\r", 0, reply, 0 },
			{ "AT\r", 0, "\r\nlater stray\r\nOK\r\n", 0 },
		};
		for (unsigned seed = 0; seed < SEEDS; seed++) {
			struct transport *tp = script_transport_new(steps, 2, seed, 1 + seed % 5);
			struct at_chat chat;
			at_chat_init(&chat, tp, &syn, NULL);
			at_chat_strict_lines(&chat, read_lines);
			struct at_result r;
			char line[64];
			enum ath_err e = at_chat_cmd(&chat, 1000, &r, "AT+READ");
			if (e == ATH_OK)
				e = at_chat_wait_line(&chat, "+END", 1000, line, sizeof line);
			if (!stray) {
				assert_int_equal(e, ATH_OK);
				assert_false(at_chat_framing_broken(&chat));
			} else {
				assert_int_equal(e, ATH_E_PROTOCOL);
				assert_true(at_chat_framing_broken(&chat));
				struct ath_error err;
				ath_error_clear(&err);
				assert_int_equal(at_chat_failed(&chat, &err, e, "AT+READ"), ATH_E_PROTOCOL);
				assert_non_null(strstr(err.text, "moved data"));
				/* Every wait fails at once, without reading. */
				assert_int_equal(at_chat_wait_line(&chat, "+END", 1000, line, sizeof line), ATH_E_PROTOCOL);
				at_chat_drain(&chat, 10, 100);
				assert_false(at_chat_framing_broken(&chat));
			}
			/* The window closed, a stray line is a URC again. */
			at_chat_strict_lines(&chat, NULL);
			assert_int_equal(at_chat_cmd(&chat, 1000, &r, "AT"), ATH_OK);
			assert_int_equal(r.final, AT_FINAL_OK);
			assert_true(at_chat_take_line(&chat, "later", line, sizeof line));
			assert_string_equal(script_error(tp), "");
			script_transport_free(tp);
		}
		free(reply);
	}
}

/* A block whose trailer is missing, and a dialect's own count that does
 * not add up: the wait fails, the sink got no more than the count. */
static void test_framing_errors_end_waits(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ NULL, 0, "\r\n+DATA:3,abcd\r\n+URC: 1\r\n", 0 },
	};
	for (unsigned seed = 0; seed < SEEDS; seed++) {
		struct transport *tp = script_transport_new(steps, 1, seed, 1 + seed % 5);
		struct at_chat chat;
		at_chat_init(&chat, tp, &trailer_syn, NULL);
		struct cond c = { .chat = &chat };
		at_chat_set_block_sink(&chat, cond_block, &c);
		char line[64];
		assert_int_equal(at_chat_wait_line(&chat, "+URC:", 1000, line, sizeof line), ATH_E_PROTOCOL);
		assert_true(at_chat_framing_broken(&chat));
		assert_int_equal(c.data_len, 3);
		script_transport_free(tp);
	}
	struct transport *tp = script_transport_new(steps, 1, 0, 1);
	struct at_chat chat;
	at_chat_init(&chat, tp, &syn, NULL);
	at_chat_framing_error(&chat, "pieces %d of %d", 3, 2);
	char line[64];
	assert_int_equal(at_chat_wait_line(&chat, "+URC:", 1000, line, sizeof line), ATH_E_PROTOCOL);
	struct ath_error err;
	ath_error_clear(&err);
	at_chat_failed(&chat, &err, ATH_E_PROTOCOL, "AT+X");
	assert_non_null(strstr(err.text, "pieces 3 of 2"));
	/* Nothing is sent over a line out of step, and a poll between
	 * requests tells it (the owner then brings the module up again). */
	struct at_result r;
	assert_int_equal(at_chat_cmd(&chat, 1000, &r, "AT"), ATH_E_PROTOCOL);
	assert_int_equal(at_chat_poll(&chat), ATH_E_PROTOCOL);
	script_transport_free(tp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wait_until_holds),
		cmocka_unit_test(test_wait_until_block),
		cmocka_unit_test(test_wait_until_lines),
		cmocka_unit_test(test_wait_until_timeout),
		cmocka_unit_test(test_wait_until_io_error),
		cmocka_unit_test(test_raw_observer),
		cmocka_unit_test(test_raw_observer_clears),
		cmocka_unit_test(test_take_line_any),
		cmocka_unit_test(test_result_after_prompt),
		cmocka_unit_test(test_strict_window),
		cmocka_unit_test(test_framing_errors_end_waits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
