/*
 * Every driver's waits against the one rule (src/wait_bound.h): a module
 * that goes silent after part of a body, or before the origin's answer,
 * ends the exchange with ATH_E_TIMEOUT once it has been quiet for the
 * request timeout, and not much later; a module that restarts mid-body
 * (RDY) ends it at once with ATH_E_PROTOCOL; an origin that closes early
 * cuts the body, its bytes never passed on, within the same bound.  The module is scripted (driver_rig.h)
 * and goes quiet where its script ends; the clock is the real one, with a
 * margin for a loaded machine.  httpcfg, quectel, simcom and neoway here;
 * onemo's and espat's waits are the timeout itself, tested in their own
 * files (test_onemo's test_timeout, test_espat's short timeouts).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit_util.h"

#include "at_chat.h"
#include "dialect.h"
#include "driver_rig.h"

extern const struct dialect dialect_httpcfg;
extern const struct dialect dialect_quectel;
extern const struct dialect dialect_simcom;
extern const struct dialect dialect_neoway;

/* The request timeout the rigs run with, and how late past it an
 * exchange may end (the rig's reads are 50 ms slices; ASan and a busy
 * machine add more). */
#define T_MS 1500
#define LATE_MS 1000
/* Body bytes the module sends before the fault. */
#define PART 3000

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* What one exchange came to, and how long it took. */
struct outcome {
	enum ath_err e;
	long took_ms;
};

static struct outcome timed_exchange(struct rig *r, const struct dialect_request *rq)
{
	r->verbose = false;
	long t0 = now_ms();
	enum ath_err e = rig_exchange(r, rq);
	return (struct outcome){ e, now_ms() - t0 };
}

/* A silence: the timeout, after the request timeout and within LATE_MS of it. */
static void assert_timed_out(const struct rig *r, struct outcome o, const char *what)
{
	if (o.e != ATH_E_TIMEOUT || o.took_ms < T_MS - 100 || o.took_ms > T_MS + LATE_MS)
		fprintf(stderr, "%s %s: %s after %ld ms (%s), bound %d ms\n", r->d->name, what,
			ath_strerror(o.e), o.took_ms, r->err.text, T_MS);
	assert_int_equal(o.e, ATH_E_TIMEOUT);
	assert_true(o.took_ms >= T_MS - 100);
	assert_true(o.took_ms <= T_MS + LATE_MS);
}

/* A restart: at once, well before the timeout, and the chat knows. */
static void assert_restart_seen(const struct rig *r, struct outcome o, const char *what)
{
	if (o.e != ATH_E_PROTOCOL || o.took_ms > T_MS / 2)
		fprintf(stderr, "%s %s: %s after %ld ms (%s)\n", r->d->name, what, ath_strerror(o.e), o.took_ms,
			r->err.text);
	assert_int_equal(o.e, ATH_E_PROTOCOL);
	assert_true(at_chat_restarted(&r->chat));
	assert_true(o.took_ms <= T_MS / 2);
}

/* The client got the head and nothing but the body's first bytes. */
static void assert_body_prefix(const struct rig *r, char fill)
{
	assert_int_equal(r->got.heads, 1);
	assert_true(r->got.body.len <= PART);
	for (size_t i = 0; i < r->got.body.len; i++)
		assert_int_equal(r->got.body.p[i], fill);
}

static void quiet_rig(struct rig *r, const struct dialect *d, const struct script *sc, unsigned seed)
{
	rig_init(r, d, sc->s, sc->n, seed, true);
	r->io.action_timeout_ms = T_MS;
}

/* The fault that ends a script: nothing (silence), RDY, or the module's
 * own words. */
enum fault { SILENCE, RESTART };

static const char *fault_name(enum fault f)
{
	return f == SILENCE ? "silence mid-body" : "RDY mid-body";
}

/* ------------------------------------------------------------ httpcfg and quectel */

static const struct {
	const struct dialect *d;
	const char *stem;
} twins[] = {
	{ &dialect_httpcfg, "+HTTP" },
	{ &dialect_quectel, "+QHTTP" },
};

static const char hc_url[] = "http://example.com/big";
static const char hc_raw[] = "GET /big HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n";

/* Bring-up with the settings held, the URL, and the GET up to its OK.
 * The module's timers are a second short of T_MS: 1 s. */
static void hc_request_steps(struct script *sc, const char *stem)
{
	step(sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT%sCFG?\r", stem),
	     fmt("\r\n%sCFG: \"requestheader\",1\r\n%sCFG: \"responseheader\",1\r\n\r\nOK\r\n", stem, stem));
	step(sc, fmt("AT%sURL=%zu,2\r", stem, strlen(hc_url)), fmt("\r\nCONNECT\r\n"));
	step(sc, fmt("%s", hc_url), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT%sGET=1,%zu,2\r", stem, strlen(hc_raw)), fmt("\r\nCONNECT\r\n"));
}

static struct dialect_request hc_req(void)
{
	struct dialect_request rq = { .verb = VERB_GET, .method = "GET", .url = hc_url,
				      .raw = (const unsigned char *)hc_raw, .raw_len = strlen(hc_raw) };
	unit_split_url(&rq);
	return rq;
}

/* HTTPREAD's CONNECT, a head promising 100000 bytes, PART of them, then
 * the fault. */
static void hc_read_step(struct script *sc, const char *stem, enum fault f)
{
	struct buf b = { 0 };
	buf_addf(&b, "\r\nCONNECT\r\nHTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
	char *part = filler(PART, 'x');
	buf_add(&b, part, PART);
	free(part);
	if (f == RESTART)
		buf_adds(&b, "\r\nRDY\r\n");
	step_buf(sc, fmt("AT%sREAD=1\r", stem), &b);
}

static void test_httpcfg_mid_body(void **state)
{
	(void)state;
	for (size_t t = 0; t < 2; t++) {
		for (enum fault f = SILENCE; f <= RESTART; f++) {
			struct script sc = { 0 };
			hc_request_steps(&sc, twins[t].stem);
			step(&sc, fmt("%s", hc_raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200,100000\r\n", twins[t].stem));
			hc_read_step(&sc, twins[t].stem, f);
			struct rig r;
			quiet_rig(&r, twins[t].d, &sc, 7);
			assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
			struct dialect_request rq = hc_req();
			struct outcome o = timed_exchange(&r, &rq);
			if (f == SILENCE)
				assert_timed_out(&r, o, fault_name(f));
			else
				assert_restart_seen(&r, o, fault_name(f));
			assert_body_prefix(&r, 'x');
			rig_done(&r);
			script_free(&sc);
		}
	}
}

/* No URC after HTTPGET's OK: the module never says TIMEOUT. */
static void test_httpcfg_silent_before_answer(void **state)
{
	(void)state;
	for (size_t t = 0; t < 2; t++) {
		struct script sc = { 0 };
		hc_request_steps(&sc, twins[t].stem);
		step(&sc, fmt("%s", hc_raw), fmt("\r\nOK\r\n"));
		struct rig r;
		quiet_rig(&r, twins[t].d, &sc, 3);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = hc_req();
		assert_timed_out(&r, timed_exchange(&r, &rq), "silence after HTTPGET's OK");
		assert_int_equal(r.got.heads, 0);
		rig_done(&r);
		script_free(&sc);
	}
}

/* The origin closes early, and the module ends the read with OK and its
 * error: with the length still unmet those bytes may be body (an "OK" in
 * a body is body), so they are held back, never passed on, and the read
 * ends when the module has been quiet for the timeout. */
static void test_httpcfg_origin_closes_early(void **state)
{
	(void)state;
	for (size_t t = 0; t < 2; t++) {
		struct script sc = { 0 };
		hc_request_steps(&sc, twins[t].stem);
		step(&sc, fmt("%s", hc_raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200,100000\r\n", twins[t].stem));
		struct buf b = { 0 };
		buf_addf(&b, "\r\nCONNECT\r\nHTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n");
		char *part = filler(PART, 'x');
		buf_add(&b, part, PART);
		free(part);
		buf_addf(&b, "\r\nOK\r\n\r\n%sREAD: 717\r\n", twins[t].stem);
		step_buf(&sc, fmt("AT%sREAD=1\r", twins[t].stem), &b);
		struct rig r;
		quiet_rig(&r, twins[t].d, &sc, 5);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = hc_req();
		assert_timed_out(&r, timed_exchange(&r, &rq), "origin closed early");
		assert_body_prefix(&r, 'x');
		rig_done(&r);
		script_free(&sc);
	}
}

/* ------------------------------------------------------------ simcom */

static const char sc_url[] = "http://example.com/big";

static void simcom_request_steps(struct script *sc)
{
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
	step(sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPINIT\r"), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPPARA=\"URL\",\"%s\"\r", sc_url), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPACTION=0\r"), fmt("\r\nOK\r\n\r\n+HTTPACTION: 0,200,100000\r\n"));
	step(sc, fmt("AT+HTTPHEAD\r"), fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head));
}

/* HTTPREAD's block announced whole, PART of it, then the fault.  The
 * module's read bound is 20 s by the manual: the request timeout cuts it. */
static void test_simcom_mid_body(void **state)
{
	(void)state;
	for (enum fault f = SILENCE; f <= RESTART; f++) {
		struct script sc = { 0 };
		simcom_request_steps(&sc);
		struct buf b = { 0 };
		buf_addf(&b, "\r\nOK\r\n\r\n+HTTPREAD: DATA,65536\r\n");
		char *part = filler(PART, 'y');
		buf_add(&b, part, PART);
		free(part);
		if (f == RESTART)
			buf_adds(&b, "\r\nRDY\r\n");
		step_buf(&sc, fmt("AT+HTTPREAD=0,65536\r"), &b);
		struct rig r;
		quiet_rig(&r, &dialect_simcom, &sc, 11);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		struct hdr_list h = { 0 };
		struct dialect_request rq = { .verb = VERB_GET, .method = "GET", .url = sc_url, .headers = &h };
	unit_split_url(&rq);
		unit_split_url(&rq);
		struct outcome o = timed_exchange(&r, &rq);
		if (f == SILENCE)
			assert_timed_out(&r, o, fault_name(f));
		else
			assert_restart_seen(&r, o, fault_name(f));
		assert_body_prefix(&r, 'y');
		rig_done(&r);
		script_free(&sc);
	}
}

/* No +HTTPACTION after its OK. */
static void test_simcom_silent_before_answer(void **state)
{
	(void)state;
	struct script sc = { 0 };
	step(&sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPINIT\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPPARA=\"URL\",\"%s\"\r", sc_url), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPACTION=0\r"), fmt("\r\nOK\r\n"));
	struct rig r;
	quiet_rig(&r, &dialect_simcom, &sc, 2);
	assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
	struct hdr_list h = { 0 };
	struct dialect_request rq = { .verb = VERB_GET, .method = "GET", .url = sc_url, .headers = &h };
	unit_split_url(&rq);
	assert_timed_out(&r, timed_exchange(&r, &rq), "silence after HTTPACTION's OK");
	assert_int_equal(r.got.heads, 0);
	rig_done(&r);
	script_free(&sc);
}

/* ------------------------------------------------------------ neoway */

/* The custom packet (AT+HTTPACTION=99) on a link set up; the response in
 * recvmode 1 pieces: one of the head and PART body bytes of 100000, then
 * the fault.  The manual's 30 s bounds of HTTPSETUP and HTTPACTION are cut
 * to the timeout; the wait for the response is the timeout. */
static void test_neoway_mid_body(void **state)
{
	(void)state;
	static const char raw[] = "GET /big HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n";
	for (enum fault f = SILENCE; f <= RESTART; f++) {
		struct script sc = { 0 };
		step(&sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
		step(&sc, fmt("AT+HTTPCLOSE\r"), fmt("\r\nOK\r\n"));
		step(&sc, fmt("AT+HTTPPARA=url,h\r"), fmt("\r\nOK\r\n"));
		step(&sc, fmt("AT+HTTPPARA=port,80\r"), fmt("\r\nOK\r\n"));
		step(&sc, fmt("AT+HTTPPARA=recvmode,1\r"), fmt("\r\nOK\r\n"));
		step(&sc, fmt("AT+HTTPSETUP\r"), fmt("\r\nOK\r\n"));
		step(&sc, fmt("AT+HTTPACTION=99,%zu\r", strlen(raw)), fmt("\r\n>"));
		struct buf b = { 0 };
		buf_addf(&b, "\r\nOK\r\n\r\n+HTTPRECV: %zu,%s", strlen(head) + PART, head);
		char *part = filler(PART, 'z');
		buf_add(&b, part, PART);
		free(part);
		if (f == RESTART)
			buf_adds(&b, "\r\nRDY\r\n");
		step_buf(&sc, fmt("%s", raw), &b);
		struct rig r;
		quiet_rig(&r, &dialect_neoway, &sc, 13);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = { .verb = VERB_GET, .method = "GET", .url = "http://h/big",
					      .raw = (const unsigned char *)raw, .raw_len = strlen(raw) };
		unit_split_url(&rq);
		struct outcome o = timed_exchange(&r, &rq);
		if (f == SILENCE)
			assert_timed_out(&r, o, fault_name(f));
		else
			assert_restart_seen(&r, o, fault_name(f));
		assert_body_prefix(&r, 'z');
		rig_done(&r);
		script_free(&sc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_httpcfg_mid_body),
		cmocka_unit_test(test_httpcfg_silent_before_answer),
		cmocka_unit_test(test_httpcfg_origin_closes_early),
		cmocka_unit_test(test_simcom_mid_body),
		cmocka_unit_test(test_simcom_silent_before_answer),
		cmocka_unit_test(test_neoway_mid_body),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
