/*
 * modem.c's recovery after each class of failed exchange, through the
 * engine's own entry (modem_exchange) on a pty, with a small httpcfg
 * module on the other end (the AT+HTTPCFG manual, chapter 15: AT+HTTPCFG?,
 * AT+HTTPURL and AT+HTTPGET with their CONNECT data phases, AT+HTTPREAD).
 * The first request fails one way:
 *   timeout  the module goes quiet mid-body (and finishes late, after the
 *            client has had its answer: stale bytes for the resync);
 *   reset    the module prints RDY mid-body and forgets its settings;
 *   framing  the result URC does not parse;
 *   module   the result URC carries the module's error code;
 *   busy     no result URC, and the module answers ERROR to everything
 *            for a while after the timeout (ESP-AT's way while a request
 *            runs on).
 * Each time the client's answer comes within the request timeout and no
 * recovery command is sent before it; the next request succeeds, after a
 * resync (AT) for timeout, framing and busy, a full bring-up for reset, and
 * nothing at all for a module error (the module is in step).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "athttp.h"
#include "dialect.h"
#include "modem.h"

#define T_MS 1500      /* the request timeout */
#define LATE_MS 1000   /* how late past it an answer may come on a busy machine */
#define LOG_MAX 128

enum scenario { SC_TIMEOUT, SC_RESET, SC_FRAMING, SC_MODULE, SC_BUSY };

static const char *const scenario_names[] = { "timeout", "reset", "framing", "module error", "busy" };

/* How long the busy module refuses every command after the request. */
#define BUSY_MS 4000

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* ------------------------------------------------------------ the module */

struct fake {
	int fd;                    /* the pty's master */
	char slave[64];
	pthread_t thread;
	pthread_mutex_t mu;
	bool stop;
	enum scenario sc;
	/* The module's state: echo, the two settings, requests sent. */
	bool echo, reqh, rsph;
	int requests;
	long busy_until_ms;        /* ERROR to everything until then */
	/* Input: a command line, or the bytes a data phase still wants. */
	char line[4096];
	size_t nline;
	size_t data_left;
	bool data_is_get;
	/* Every command line, in order. */
	char log[LOG_MAX][96];
	int nlog;
};

static void put(struct fake *f, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(f->fd, s, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

static void puts_(struct fake *f, const char *s)
{
	put(f, s, strlen(s));
}

static const char head10[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";

/* The end of a data phase: OK, and after AT+HTTPGET its result URC. */
static void data_done(struct fake *f)
{
	puts_(f, "\r\nOK\r\n");
	if (!f->data_is_get)
		return;
	f->requests++;
	if (f->requests == 1 && f->sc == SC_BUSY)
		f->busy_until_ms = now_ms() + BUSY_MS;   /* and no result */
	else if (f->requests == 1 && f->sc == SC_FRAMING)
		puts_(f, "\r\n+HTTPGET: zz\r\n");
	else if (f->requests == 1 && f->sc == SC_MODULE)
		puts_(f, "\r\n+HTTPGET: 714\r\n");
	else
		puts_(f, "\r\n+HTTPGET: 0,200,10\r\n");
}

static void command(struct fake *f, const char *c)
{
	if (f->nlog < LOG_MAX)
		snprintf(f->log[f->nlog++], sizeof f->log[0], "%.95s", c);
	if (f->echo) {
		puts_(f, c);
		puts_(f, "\r");
	}
	unsigned long n, s, r;
	char tail;
	if (now_ms() < f->busy_until_ms) {
		puts_(f, "\r\nERROR\r\n");
	} else if (strcmp(c, "AT") == 0) {
		puts_(f, "\r\nOK\r\n");
	} else if (strcmp(c, "ATE0") == 0) {
		f->echo = false;
		puts_(f, "\r\nOK\r\n");
	} else if (strcmp(c, "AT+HTTPCFG?") == 0) {
		char b[160];
		snprintf(b, sizeof b, "\r\n+HTTPCFG: \"requestheader\",%d\r\n+HTTPCFG: \"responseheader\",%d\r\n"
			 "\r\nOK\r\n", f->reqh, f->rsph);
		puts_(f, b);
	} else if (strcmp(c, "AT+HTTPCFG=\"requestheader\",1") == 0) {
		f->reqh = true;
		puts_(f, "\r\nOK\r\n");
	} else if (strcmp(c, "AT+HTTPCFG=\"responseheader\",1") == 0) {
		f->rsph = true;
		puts_(f, "\r\nOK\r\n");
	} else if (sscanf(c, "AT+HTTPURL=%lu,%lu%c", &n, &s, &tail) == 2 && n > 0) {
		f->data_left = n;
		f->data_is_get = false;
		puts_(f, "\r\nCONNECT\r\n");
	} else if (sscanf(c, "AT+HTTPGET=%lu,%lu,%lu%c", &r, &n, &s, &tail) == 3 && n > 0 && f->reqh) {
		f->data_left = n;
		f->data_is_get = true;
		puts_(f, "\r\nCONNECT\r\n");
	} else if (sscanf(c, "AT+HTTPREAD=%lu%c", &r, &tail) == 1 && f->rsph) {
		puts_(f, "\r\nCONNECT\r\n");
		puts_(f, head10);
		if (f->requests == 1 && f->sc == SC_TIMEOUT) {
			puts_(f, "abc");   /* then quiet: the rest comes late */
		} else if (f->requests == 1 && f->sc == SC_RESET) {
			/* 10 bytes in all, RDY's among them: the body's
			 * length is what it would be, and RDY must be seen. */
			puts_(f, "abc\r\nRDY\r\n");
			f->echo = true;
			f->reqh = f->rsph = false;
		} else {
			puts_(f, "0123456789\r\nOK\r\n\r\n+HTTPREAD: 0\r\n");
		}
	} else {
		puts_(f, "\r\nERROR\r\n");
	}
}

static void take(struct fake *f, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (f->data_left) {
			if (--f->data_left == 0)
				data_done(f);
			continue;
		}
		if (p[i] == '\n')
			continue;
		if (p[i] != '\r') {
			if (f->nline < sizeof f->line - 1)
				f->line[f->nline++] = (char)p[i];
			continue;
		}
		f->line[f->nline] = '\0';
		f->nline = 0;
		if (f->line[0])
			command(f, f->line);
	}
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;
	for (;;) {
		pthread_mutex_lock(&f->mu);
		bool stop = f->stop;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			return NULL;
		struct pollfd pfd = { f->fd, POLLIN, 0 };
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		unsigned char buf[4096];
		ssize_t n = read(f->fd, buf, sizeof buf);
		if (n <= 0)
			continue;   /* EIO while no one holds the slave */
		pthread_mutex_lock(&f->mu);
		take(f, buf, (size_t)n);
		pthread_mutex_unlock(&f->mu);
	}
}

static void fake_start(struct fake *f, enum scenario sc)
{
	memset(f, 0, sizeof *f);
	f->sc = sc;
	f->echo = true;
	f->fd = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	assert_true(f->fd >= 0);
	assert_int_equal(grantpt(f->fd), 0);
	assert_int_equal(unlockpt(f->fd), 0);
	assert_int_equal(ptsname_r(f->fd, f->slave, sizeof f->slave), 0);
	pthread_mutex_init(&f->mu, NULL);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	f->stop = true;
	pthread_mutex_unlock(&f->mu);
	pthread_join(f->thread, NULL);
	pthread_mutex_destroy(&f->mu);
	close(f->fd);
}

static int fake_nlog(struct fake *f)
{
	pthread_mutex_lock(&f->mu);
	int n = f->nlog;
	pthread_mutex_unlock(&f->mu);
	return n;
}

/* Was cmd sent at or after entry from? */
static bool fake_sent_since(struct fake *f, int from, const char *cmd)
{
	pthread_mutex_lock(&f->mu);
	bool seen = false;
	for (int i = from; i < f->nlog && !seen; i++)
		seen = strcmp(f->log[i], cmd) == 0;
	pthread_mutex_unlock(&f->mu);
	return seen;
}

static void fake_dump(struct fake *f, int from)
{
	pthread_mutex_lock(&f->mu);
	for (int i = from; i < f->nlog; i++)
		fprintf(stderr, "    module got: %s\n", f->log[i]);
	pthread_mutex_unlock(&f->mu);
}

/* ------------------------------------------------------------ the client */

struct got {
	int heads;
	int status;
	char body[64];
	size_t len;
};

static enum ath_err got_head(void *ctx, const struct http_head *h, long long len, bool synth)
{
	(void)len;
	(void)synth;
	struct got *g = ctx;
	g->heads++;
	g->status = h->status;
	return ATH_OK;
}

static enum ath_err got_body(void *ctx, const void *data, size_t len)
{
	struct got *g = ctx;
	size_t room = sizeof g->body - 1 - g->len;
	memcpy(g->body + g->len, data, len < room ? len : room);
	g->len += len < room ? len : room;
	g->body[g->len] = '\0';
	return ATH_OK;
}

static const char url[] = "http://origin.test/x";
static const char raw[] = "GET /x HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n";

static enum ath_err one_request(athttp_modem *m, struct got *g, struct ath_error *err, long *took)
{
	struct dialect_request rq = {
		.verb = VERB_GET, .method = "GET", .url = url, .host = "origin.test", .port = 80, .target = "/x",
		.raw = (const unsigned char *)raw, .raw_len = strlen(raw),
	};
	memset(g, 0, sizeof *g);
	struct response_sink sink = { got_head, got_body, g };
	ath_error_clear(err);
	long t0 = now_ms();
	enum ath_err e = modem_exchange(m, &rq, &sink, err);
	*took = now_ms() - t0;
	return e;
}

static void run(enum scenario sc)
{
	static const enum ath_err first[] = {
		[SC_TIMEOUT] = ATH_E_TIMEOUT, [SC_RESET] = ATH_E_PROTOCOL,
		[SC_FRAMING] = ATH_E_PROTOCOL, [SC_MODULE] = ATH_E_MODULE, [SC_BUSY] = ATH_E_TIMEOUT,
	};
	const char *name = scenario_names[sc];
	struct fake f;
	fake_start(&f, sc);
	struct athttp_config cfg = { .device = f.slave, .modem = "httpcfg", .timeout_ms = T_MS };
	char why[256] = "";
	athttp_modem *m = athttp_open(&cfg, why, sizeof why);
	if (!m)
		fprintf(stderr, "athttp_open: %s\n", why);
	assert_non_null(m);

	struct got g;
	struct ath_error err;
	long took;
	enum ath_err e = one_request(m, &g, &err, &took);
	int after_first = fake_nlog(&f);
	if (e != first[sc] || took > T_MS + LATE_MS)
		fprintf(stderr, "%s: first request %s after %ld ms (%s), body '%s'\n", name, ath_strerror(e), took, err.text, g.body);
	assert_int_equal(e, first[sc]);
	assert_true(took <= T_MS + LATE_MS);
	if (sc == SC_TIMEOUT || sc == SC_BUSY)
		assert_true(took >= T_MS - 100);
	if (sc == SC_MODULE)
		assert_int_equal(err.module_code, 714);
	/* The answer came before any recovery: the module's last command is
	 * still the one that failed. */
	pthread_mutex_lock(&f.mu);
	const char *last = f.log[after_first - 1];
	bool failed_last = strncmp(last, sc == SC_TIMEOUT || sc == SC_RESET ? "AT+HTTPREAD=" : "AT+HTTPGET=",
				   strlen(sc == SC_TIMEOUT || sc == SC_RESET ? "AT+HTTPREAD=" : "AT+HTTPGET=")) == 0;
	if (!failed_last)
		fprintf(stderr, "%s: the module's last command before the answer: %s\n", name, last);
	pthread_mutex_unlock(&f.mu);
	assert_true(failed_last);

	if (sc == SC_TIMEOUT) {
		/* The module finishes late: bytes nobody waits for. */
		pthread_mutex_lock(&f.mu);
		puts_(&f, "defghij\r\nOK\r\n\r\n+HTTPREAD: 0\r\n");
		pthread_mutex_unlock(&f.mu);
	}

	e = one_request(m, &g, &err, &took);
	if (e != ATH_OK || strcmp(g.body, "0123456789") != 0) {
		fprintf(stderr, "%s: the next request: %s (%s), body '%s'\n", name, ath_strerror(e), err.text, g.body);
		fake_dump(&f, after_first);
	}
	assert_int_equal(e, ATH_OK);
	assert_int_equal(g.heads, 1);
	assert_int_equal(g.status, 200);
	assert_string_equal(g.body, "0123456789");
	switch (sc) {
	case SC_TIMEOUT:
	case SC_FRAMING:
	case SC_BUSY:
		/* Resynced: AT, the settings asked; the module kept them. */
		assert_true(fake_sent_since(&f, after_first, "AT"));
		assert_true(fake_sent_since(&f, after_first, "AT+HTTPCFG?"));
		assert_false(fake_sent_since(&f, after_first, "AT+HTTPCFG=\"requestheader\",1"));
		break;
	case SC_RESET:
		/* Brought up in full: echo off again, the settings set again. */
		assert_true(fake_sent_since(&f, after_first, "ATE0"));
		assert_true(fake_sent_since(&f, after_first, "AT+HTTPCFG=\"requestheader\",1"));
		assert_true(fake_sent_since(&f, after_first, "AT+HTTPCFG=\"responseheader\",1"));
		break;
	case SC_MODULE:
		/* In step: straight to the request. */
		pthread_mutex_lock(&f.mu);
		bool straight = strncmp(f.log[after_first], "AT+HTTPGET=", 11) == 0;
		pthread_mutex_unlock(&f.mu);
		if (!straight)
			fake_dump(&f, after_first);
		assert_true(straight);
		break;
	}
	athttp_close(m);
	fake_stop(&f);
}

static void test_after_timeout(void **state)
{
	(void)state;
	run(SC_TIMEOUT);
}

static void test_after_reset(void **state)
{
	(void)state;
	run(SC_RESET);
}

static void test_after_framing_error(void **state)
{
	(void)state;
	run(SC_FRAMING);
}

static void test_after_module_error(void **state)
{
	(void)state;
	run(SC_MODULE);
}

/* The module stays busy with the timed-out request (ERROR to every
 * command) for longer than the timeout: the resync waits it out. */
static void test_busy_after_timeout(void **state)
{
	(void)state;
	run(SC_BUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_after_timeout),
		cmocka_unit_test(test_after_reset),
		cmocka_unit_test(test_after_framing_error),
		cmocka_unit_test(test_after_module_error),
		cmocka_unit_test(test_busy_after_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
