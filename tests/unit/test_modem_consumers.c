/*
 * modem.c, not the drivers, ends every sink and observer a dialect
 * operation set on the chat: a driver of this test's own sets a block
 * sink, a stream sink and a raw observer (into its own stack frame) in
 * every operation and returns without removing them, with success or with
 * an error; after each operation the chat has none, as the next operation
 * (checking at its start) and the chat's owner (modem_with_chat) find.
 * The port is a pty nobody answers on: these operations send nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "athttp.h"
#include "at_chat.h"
#include "dialect.h"
#include "modem.h"

static void a_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	(void)ctx, (void)header, (void)data, (void)len, (void)left;
}

static size_t a_stream(void *ctx, const void *data, size_t len, bool at_end, enum at_stream_watch *watch)
{
	(void)ctx, (void)data, (void)at_end, (void)watch;
	return len;
}

static void a_raw(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
}

static bool has_consumers(const struct at_chat *c)
{
	return c->sink || c->sink_ctx || c->stream_sink || c->stream_ctx || c->raw_observer || c->raw_ctx;
}

/* What the operations saw and did. */
static struct {
	int calls;              /* operations run */
	int found_dirty;        /* of them, started with a consumer set */
	enum ath_err exchange;  /* what the next exchange returns */
	int bringups, tls_setups, exchanges, recovers;
} seen;

/* Every operation: checks the chat came clean, then leaves it dirty. */
static void leave_consumers(struct modem_io *io)
{
	char frame[16];  /* gone once the operation returns */
	seen.calls++;
	if (has_consumers(io->chat))
		seen.found_dirty++;
	at_chat_set_block_sink(io->chat, a_block, frame);
	at_chat_set_stream_sink(io->chat, a_stream, frame);
	at_chat_set_raw_observer(io->chat, a_raw, frame);
}

static enum ath_err leaky_bringup(struct modem_io *io, struct ath_error *err)
{
	(void)err;
	seen.bringups++;
	leave_consumers(io);
	return ATH_OK;
}

static enum ath_err leaky_tls_setup(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	(void)err;
	seen.tls_setups++;
	leave_consumers(io);
	v->verified = true;
	return ATH_OK;
}

static enum ath_err leaky_exchange(struct modem_io *io, const struct dialect_request *rq,
				   const struct response_sink *sink, struct ath_error *err)
{
	(void)rq, (void)sink;
	seen.exchanges++;
	leave_consumers(io);
	if (seen.exchange != ATH_OK)
		return ath_fail(err, seen.exchange, -1, "failed as the test wants");
	return ATH_OK;
}

static enum ath_err leaky_recover(struct modem_io *io, struct ath_error *err)
{
	(void)err;
	seen.recovers++;
	leave_consumers(io);
	return ATH_OK;
}

static const struct at_syntax leaky_syntax = { 0 };
static const struct dialect_caps leaky_caps = { .methods = VERB_GET };
static const struct dialect_ops leaky_ops = {
	.bringup = leaky_bringup,
	.exchange = leaky_exchange,
	.recover = leaky_recover,
	.tls_setup = leaky_tls_setup,
};
static const struct dialect leaky = {
	.name = "leaky", .summary = "leaves its sinks set", .caps = &leaky_caps,
	.syntax = &leaky_syntax, .ops = &leaky_ops,
};

static void look(struct at_chat *chat, const struct dialect *d, void *ctx)
{
	(void)d;
	*(bool *)ctx = has_consumers(chat);
}

/* Whether the chat has a consumer set, as its owner finds it between
 * exchanges. */
static bool chat_dirty(athttp_modem *m)
{
	bool dirty = true;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(modem_with_chat(m, false, look, &dirty, &err), ATH_OK);
	return dirty;
}

static enum ath_err request(athttp_modem *m, bool tls, enum ath_err result)
{
	struct dialect_request rq = {
		.verb = VERB_GET, .method = "GET", .url = tls ? "https://origin.test/" : "http://origin.test/",
		.tls = tls, .host = "origin.test", .port = tls ? 443 : 80, .target = "/",
	};
	struct response_sink sink = { NULL, NULL, NULL };
	struct ath_error err;
	ath_error_clear(&err);
	seen.exchange = result;
	return modem_exchange(m, &rq, &sink, &err);
}

static void test_every_operation_ends_clean(void **state)
{
	(void)state;
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	char slave[64];
	assert_int_equal(ptsname_r(master, slave, sizeof slave), 0);
	memset(&seen, 0, sizeof seen);
	struct athttp_config cfg = { .device = slave, .timeout_ms = 1000 };
	char why[256] = "";
	athttp_modem *m = modem_open(&cfg, &leaky, why, sizeof why);
	if (!m)
		fprintf(stderr, "modem_open: %s\n", why);
	assert_non_null(m);

	/* bring-up, https setup, an exchange the module refused */
	assert_int_equal(request(m, true, ATH_E_MODULE), ATH_E_MODULE);
	assert_int_equal(seen.bringups, 1);
	assert_int_equal(seen.tls_setups, 1);
	assert_int_equal(seen.exchanges, 1);
	assert_false(chat_dirty(m));
	/* an exchange out of step: the next use recovers first */
	assert_int_equal(request(m, false, ATH_E_TIMEOUT), ATH_E_TIMEOUT);
	assert_false(chat_dirty(m));
	assert_int_equal(seen.recovers, 1);
	assert_false(chat_dirty(m));
	/* one that went well */
	assert_int_equal(request(m, false, ATH_OK), ATH_OK);
	assert_false(chat_dirty(m));
	assert_int_equal(seen.exchanges, 3);

	assert_int_equal(seen.calls, 6);
	assert_int_equal(seen.found_dirty, 0);
	athttp_close(m);
	close(master);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_operation_ends_clean),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
