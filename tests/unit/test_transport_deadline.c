/*
 * The deadline transport: commands through it end by the deadline even
 * when the module trickles a byte at a time (which restarts every chat
 * timeout), and a module that answers in time is heard as usual.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "at_chat.h"
#include "at_syntax.h"
#include "transport_deadline.h"

static const struct at_block_rule no_blocks[] = {
	{ NULL, 0, NULL, false },
};
static const struct at_syntax syn = { .blocks = no_blocks };

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* A module that answers a command with noise, one byte every 20 ms, for
 * 3 s (longer than the deadline; not forever, so a broken deadline fails
 * the test instead of hanging it); or, with answer_ok, "OK" at once. */
struct fake {
	struct transport base;
	bool answer_ok;
	bool written;
	long written_at;
	const char *pending;
};

static ssize_t fake_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct fake *f = (struct fake *)t;
	if (f->answer_ok) {
		if (!f->pending || !*f->pending)
			return 0;
		size_t n = strlen(f->pending) < len ? strlen(f->pending) : len;
		memcpy(buf, f->pending, n);
		f->pending += n;
		return (ssize_t)n;
	}
	int ms = timeout_ms < 20 ? timeout_ms : 20;
	struct timespec ts = { 0, ms * 1000000L };
	nanosleep(&ts, NULL);
	if (!f->written || ms < 20 || now_ms() - f->written_at > 3000)
		return 0;
	((char *)buf)[0] = 'x';
	return 1;
}

static enum ath_err fake_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct fake *f = (struct fake *)t;
	(void)buf;
	(void)len;
	(void)timeout_ms;
	f->written = true;
	f->written_at = now_ms();
	f->pending = "\r\nOK\r\n";
	return ATH_OK;
}

static void fake_close(struct transport *t)
{
	(void)t;
}

static const struct transport_ops fake_ops = {
	.name = "fake",
	.read = fake_read,
	.write = fake_write,
	.close = fake_close,
};

static void test_trickle_cut_at_deadline(void **state)
{
	(void)state;
	struct fake f = { .base = { .ops = &fake_ops, .fd = -1 } };
	struct transport_deadline dt;
	transport_deadline_init(&dt, &f.base, 300);
	struct at_chat chat;
	at_chat_init(&chat, &dt.base, &syn, NULL);
	struct at_result r;
	long t0 = now_ms();
	/* Its own timeout, 2 s from the last byte, would never come. */
	enum ath_err e = at_chat_cmd(&chat, 2000, &r, "AT+HTTPTERM");
	long took = now_ms() - t0;
	assert_int_equal(e, ATH_E_IO);
	assert_true(dt.expired);
	assert_true(took >= 250);
	assert_true(took < 800);
	assert_string_equal(dt.base.ops->error(&dt.base), "no answer within the time allowed");
	/* After the deadline nothing more goes out. */
	assert_int_equal(dt.base.ops->write(&dt.base, "AT\r", 3, 1000), ATH_E_TIMEOUT);
}

static void test_answer_in_time(void **state)
{
	(void)state;
	struct fake f = { .base = { .ops = &fake_ops, .fd = -1 }, .answer_ok = true };
	struct transport_deadline dt;
	transport_deadline_init(&dt, &f.base, 1000);
	struct at_chat chat;
	at_chat_init(&chat, &dt.base, &syn, NULL);
	struct at_result r;
	assert_int_equal(at_chat_cmd(&chat, 2000, &r, "AT+HTTPTERM"), ATH_OK);
	assert_int_equal(r.final, AT_FINAL_OK);
	assert_false(dt.expired);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_trickle_cut_at_deadline),
		cmocka_unit_test(test_answer_in_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
