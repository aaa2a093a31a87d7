/*
 * The httpcfg driver and its quectel twin against scripted module replies:
 * every command form of the manual (002_4346508f9aee3c37.txt chapter 15:
 * HTTPCFG set and +CME ERROR, HTTPURL's CONNECT phase, the custom-header
 * HTTPGET and HTTPPOST with their URCs and TIMEOUT, HTTPREAD's CONNECT ...
 * OK ... +HTTPREAD: <err> and its +CME ERROR), each run for both twins and
 * with the replies in random splits.
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

#include "at_chat.h"
#include "dialect.h"
#include "driver_rig.h"

extern const struct dialect dialect_httpcfg;
extern const struct dialect dialect_quectel;

/* The twins and their stems: "+HTTP" and "+QHTTP". */
static const struct {
	const struct dialect *d;
	const char *stem;
} twins[] = {
	{ &dialect_httpcfg, "+HTTP" },
	{ &dialect_quectel, "+QHTTP" },
};

/* The driver d (a twin) on the script; every head is the origin's. */
static void httpcfg_rig(struct rig *r, const struct dialect *d, const struct script_step *steps, size_t n,
			unsigned seed)
{
	rig_init(r, d, steps, n, seed, false);
	r->got.real_head = true;
}


/* Bring-up from power-on: echo on, so ATE0 and AT come back. */
static void bringup_steps(struct script *sc, const char *stem)
{
	step(sc, fmt("AT\r"), fmt("AT\r\r\nOK\r\n"));
	step(sc, fmt("ATE0\r"), fmt("ATE0\r\r\nOK\r\n"));
	step(sc, fmt("AT%sCFG=\"requestheader\",1\r", stem), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT%sCFG=\"responseheader\",1\r", stem), fmt("\r\nOK\r\n"));
}

/* 15.2: AT+HTTPURL=<len>,<timeout>, CONNECT, the URL, OK. */
static void url_steps(struct script *sc, const char *stem, const char *url)
{
	step(sc, fmt("AT%sURL=%zu,2\r", stem, strlen(url)), fmt("\r\nCONNECT\r\n"));
	step(sc, fmt("%s", url), fmt("\r\nOK\r\n"));
}

/* 15.7: AT+HTTPREAD=<wait_time>: CONNECT, the response, OK, +HTTPREAD: 0. */
static void read_steps(struct script *sc, const char *stem, const char *response)
{
	step(sc, fmt("AT%sREAD=60\r", stem), fmt("\r\nCONNECT\r\n%s\r\nOK\r\n\r\n%sREAD: 0\r\n", response, stem));
}

static struct dialect_request req(unsigned verb, const char *method, const char *url, const char *raw,
				  const struct hdr_list *h)
{
	return (struct dialect_request){ .verb = verb, .method = method, .url = url, .headers = h,
					 .raw = (const unsigned char *)raw, .raw_len = strlen(raw) };
}

static const char get_raw[] = "GET /index.html HTTP/1.1\r\nHost: example.com\r\nX-Trace: 1\r\n"
			      "Cookie: a=b\r\nConnection: close\r\n\r\n";
/* A body holding the module's own end marker: it must stay body. */
static const char get_response[] = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nSet-Cookie: s=1\r\n"
				   "Content-Length: 16\r\n\r\nline\r\nOK\r\n+HTTP:";

/* 15.3 (requestheader=1 form) and 15.7: a GET with custom headers; the
 * second GET to the same URL skips HTTPURL: two commands a request. */
static void test_get_custom_headers(void **state)
{
	(void)state;
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		struct script sc = { 0 };
		bringup_steps(&sc, stem);
		url_steps(&sc, stem, "http://example.com/index.html");
		for (int i = 0; i < 2; i++) {
			step(&sc, fmt("AT%sGET=30,%zu,2\r", stem, strlen(get_raw)), fmt("\r\nCONNECT\r\n"));
			step(&sc, fmt("%s", get_raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200,16\r\n", stem));
			read_steps(&sc, stem, get_response);
		}
		for (unsigned seed = 0; seed < 25; seed++) {
			struct rig r;
			httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
			assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
			struct hdr_list h = { 0 };
			struct dialect_request rq = req(VERB_GET, "GET", "http://example.com/index.html", get_raw, &h);
			for (int i = 0; i < 2; i++) {
				unsigned long before = r.chat.commands_sent;
				rig_got_reset(&r.got);
				enum ath_err e = r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err);
				if (e)
					fprintf(stderr, "seed %u i %d: %s / %s\n", seed, i, r.err.text, script_error(r.tp));
				assert_int_equal(e, ATH_OK);
				assert_int_equal(r.chat.commands_sent - before, i == 0 ? 3 : 2);
				assert_int_equal(r.got.heads, 1);
				assert_int_equal(r.got.status, 200);
				assert_int_equal(r.got.length, 16);
				assert_string_equal(r.got.headers, "Content-Type: text/plain|Set-Cookie: s=1|"
								   "Content-Length: 16|");
				assert_int_equal(r.got.body.len, 16);
				assert_memory_equal(r.got.body.p, "line\r\nOK\r\n+HTTP:", 16);
			}
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* HEAD goes through HTTPGET; the origin's Content-Length, no body. */
static void test_head(void **state)
{
	(void)state;
	const char *raw = "HEAD / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		struct script sc = { 0 };
		url_steps(&sc, stem, "http://h/");
		step(&sc, fmt("AT%sGET=30,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
		step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200,52060\r\n", stem));
		read_steps(&sc, stem, "HTTP/1.1 200 OK\r\nContent-Length: 52060\r\n\r\n");
		for (unsigned seed = 0; seed < 20; seed++) {
			struct rig r;
			httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
			struct dialect_request rq = req(VERB_HEAD, "HEAD", "http://h/", raw, NULL);
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
			assert_int_equal(r.got.status, 200);
			assert_int_equal(r.got.length, 52060);
			assert_int_equal(r.got.body.len, 0);
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* 15.5 (requestheader=1 form): POST, and the other methods with a body,
 * through AT+HTTPPOST=<len>,<input_time>,<rsptime>; a chunked response
 * with trailers comes out de-chunked. */
static void test_post_and_other_methods(void **state)
{
	(void)state;
	static const struct { unsigned verb; const char *method; } m[] = {
		{ VERB_POST, "POST" }, { VERB_PUT, "PUT" }, { VERB_PATCH, "PATCH" },
		{ VERB_DELETE, "DELETE" }, { VERB_OPTIONS, "OPTIONS" },
	};
	const char *response = "HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
			       "3\r\nabc\r\n4;x=y\r\n\r\nOK\r\n0\r\nX-Sum: 7\r\n\r\n";
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		for (size_t k = 0; k < sizeof m / sizeof m[0]; k++) {
			char *raw = fmt("%s /api HTTP/1.1\r\nHost: h:8080\r\nContent-Type: application/json\r\n"
					"Content-Length: 9\r\nConnection: close\r\n\r\n{\"a\": 1}\n", m[k].method);
			struct script sc = { 0 };
			url_steps(&sc, stem, "http://h:8080/api");
			step(&sc, fmt("AT%sPOST=%zu,2,30\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
			step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n%sPOST: 0,201\r\n", stem));
			read_steps(&sc, stem, response);
			for (unsigned seed = 0; seed < 15; seed++) {
				struct rig r;
				httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
				struct dialect_request rq = req(m[k].verb, m[k].method, "http://h:8080/api", raw, NULL);
				assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
				assert_int_equal(r.got.status, 201);
				assert_int_equal(r.got.length, -1);
				assert_string_equal(r.got.headers, "Transfer-Encoding: chunked|Trailer: X-Sum|");
				assert_string_equal(r.got.body.p, "abc\r\nOK");
				rig_done(&r);
			}
			script_free(&sc);
			free(raw);
		}
	}
}

/* A GET over HTTPGET's 2048 bytes goes through HTTPPOST as it is. */
static void test_large_get_through_post(void **state)
{
	(void)state;
	char big[2100];
	memset(big, 'v', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	char *raw = fmt("GET / HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\nConnection: close\r\n\r\n", big);
	struct script sc = { 0 };
	url_steps(&sc, "+HTTP", "http://h/");
	step(&sc, fmt("AT+HTTPPOST=%zu,2,30\r", strlen(raw)), fmt("\r\nCONNECT\r\n"));
	step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n+HTTPPOST: 0,200,2\r\n"));
	read_steps(&sc, "+HTTP", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	struct rig r;
	httpcfg_rig(&r, &dialect_httpcfg, sc.s, sc.n, 4);
	struct dialect_request rq = req(VERB_GET, "GET", "http://h/", raw, NULL);
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
	assert_string_equal(r.got.body.p, "ok");
	rig_done(&r);
	script_free(&sc);
	free(raw);
}

/* A body without length or chunks ends at the module's OK. */
static void test_close_delimited(void **state)
{
	(void)state;
	const char *raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		struct script sc = { 0 };
		url_steps(&sc, stem, "http://h/");
		step(&sc, fmt("AT%sGET=30,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
		step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200\r\n", stem));
		read_steps(&sc, stem, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil\r\nO\r\nK the end");
		for (unsigned seed = 0; seed < 20; seed++) {
			struct rig r;
			httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
			struct dialect_request rq = req(VERB_GET, "GET", "http://h/", raw, NULL);
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
			assert_int_equal(r.got.length, -1);
			assert_string_equal(r.got.body.p, "until\r\nO\r\nK the end");
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* Table 12's own form: the output goes straight to "+HTTPREAD: <err>" with
 * no OK.  A framed body and a body that ends with the output are whole with
 * err 0; with another err the body that ran to the end is cut (the bytes
 * held back never reach the client) and the code is named. */
static void test_read_without_ok(void **state)
{
	(void)state;
	const char *raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const struct {
		const char *response;
		int err;
		long long length;
		const char *body;  /* NULL: the exchange fails after the head */
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 0, 5, "hello" },
		{ "HTTP/1.0 200 OK\r\n\r\nuntil\r\nO\r\n+HTTPREADx the end", 0, -1, "until\r\nO\r\n+HTTPREADx the end" },
		{ "HTTP/1.0 200 OK\r\n\r\npart of it", 722, -1, NULL },
	};
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			struct script sc = { 0 };
			url_steps(&sc, stem, "http://h/");
			step(&sc, fmt("AT%sGET=30,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
			step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200\r\n", stem));
			step(&sc, fmt("AT%sREAD=60\r", stem),
			     fmt("\r\nCONNECT\r\n%s\r\n%sREAD: %d\r\n", cases[k].response, stem, cases[k].err));
			for (unsigned seed = 0; seed < 20; seed++) {
				struct rig r;
				httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
				struct dialect_request rq = req(VERB_GET, "GET", "http://h/", raw, NULL);
				enum ath_err e = r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err);
				assert_int_equal(r.got.heads, 1);
				assert_int_equal(r.got.length, cases[k].length);
				if (cases[k].body) {
					assert_int_equal(e, ATH_OK);
					assert_string_equal(r.got.body.p, cases[k].body);
				} else {
					assert_int_not_equal(e, ATH_OK);
					assert_int_equal(r.err.module_code, cases[k].err);
					/* nothing of the last RAW_HOLD bytes went out */
					assert_true(r.got.body.p == NULL || strlen(r.got.body.p) == 0);
				}
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
}

/* Failures of the manual's forms: TIMEOUT (504), "+HTTPGET: <err>" alone
 * (502 with the code's meaning), +CME ERROR instead of CONNECT, a length
 * mismatch after the data phase.  The module stays in step: ATH_E_MODULE. */
static void test_failures(void **state)
{
	(void)state;
	const char *raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		static const struct {
			const char *after_data;   /* NULL: the command is refused */
			const char *refusal;
			int status, code;
			const char *text;
		} cases[] = {
			{ "\r\nOK\r\n\r\nTIMEOUT\r\n", NULL, 504, -1, "TIMEOUT: no answer from the server within 30 s" },
			{ "\r\nOK\r\n\r\n%sGET: 714\r\n", NULL, 502, 714, "HTTP(S) DNS error (%sGET: 714)" },
			{ "\r\nOK\r\n\r\n%sGET: 716\r\n", NULL, 502, 716, "HTTP(S) socket connect error" },
			{ "\r\n+CME ERROR: 726\r\n", NULL, 502, 726, "input timeout" },
			{ NULL, "\r\n+CME ERROR: 703\r\n", 503, 703, "HTTP(S) busy (AT%sGET answered +CME ERROR: 703)" },
			{ NULL, "\r\n+CME ERROR: 702\r\n", 504, 702, "HTTP(S) timeout" },
		};
		for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			struct script sc = { 0 };
			url_steps(&sc, stem, "http://h/");
			if (cases[k].after_data) {
				step(&sc, fmt("AT%sGET=30,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
				step(&sc, fmt("%s", raw), fmt(cases[k].after_data, stem));
			} else {
				step(&sc, fmt("AT%sGET=30,%zu,2\r", stem, strlen(raw)), fmt("%s", cases[k].refusal));
			}
			for (unsigned seed = 0; seed < 10; seed++) {
				struct rig r;
				httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
				struct dialect_request rq = req(VERB_GET, "GET", "http://h/", raw, NULL);
				assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
				assert_int_equal(r.err.http_status, cases[k].status);
				assert_int_equal(r.err.module_code, cases[k].code);
				char *want = fmt(cases[k].text, stem);
				assert_non_null(strstr(r.err.text, want));
				free(want);
				assert_int_equal(r.got.heads, 0);
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
}

/* 15.2: HTTPURL refused (+CME ERROR: 711) is a 502 before any request. */
static void test_url_refused(void **state)
{
	(void)state;
	struct script sc = { 0 };
	step(&sc, fmt("AT+QHTTPURL=9,2\r"), fmt("\r\nCONNECT\r\n"));
	step(&sc, fmt("http://h/"), fmt("\r\n+CME ERROR: 711\r\n"));
	struct rig r;
	httpcfg_rig(&r, &dialect_quectel, sc.s, sc.n, 2);
	struct dialect_request rq = req(VERB_GET, "GET", "http://h/", "GET / HTTP/1.1\r\n\r\n", NULL);
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(r.err.module_code, 711);
	assert_non_null(strstr(r.err.text, "HTTP(S) URL error"));
	rig_done(&r);
	script_free(&sc);
}

/* 15.1: HTTPCFG refused at bring-up: the reason names the setting. */
static void test_cfg_refused(void **state)
{
	(void)state;
	struct script sc = { 0 };
	step(&sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("ATE0\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPCFG=\"requestheader\",1\r"), fmt("\r\n+CME ERROR: 730\r\n"));
	struct rig r;
	httpcfg_rig(&r, &dialect_httpcfg, sc.s, sc.n, 1);
	assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_E_MODULE);
	assert_non_null(strstr(r.err.text, "AT+HTTPCFG=\"requestheader\""));
	assert_non_null(strstr(r.err.text, "invalid parameter"));
	rig_done(&r);
	script_free(&sc);
}

/* A method the module refuses through AT+HTTPPOST: 501 naming it, and the
 * next request with it is refused without asking the module again. */
static void test_method_refused(void **state)
{
	(void)state;
	const char *raw = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		struct script sc = { 0 };
		url_steps(&sc, stem, "http://h/x");
		step(&sc, fmt("AT%sPOST=%zu,2,30\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
		step(&sc, fmt("%s", raw), fmt("\r\n+CME ERROR: 730\r\n"));
		struct rig r;
		httpcfg_rig(&r, twins[t].d, sc.s, sc.n, 5);
		struct dialect_request rq = req(VERB_PUT, "PUT", "http://h/x", raw, NULL);
		assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_UNSUPPORTED);
		assert_int_equal(r.err.http_status, 501);
		assert_non_null(strstr(r.err.text, "method PUT"));
		unsigned long before = r.chat.commands_sent;
		assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_UNSUPPORTED);
		assert_int_equal(r.chat.commands_sent, before);
		rig_done(&r);
		script_free(&sc);
	}
}

/* 15.7: +CME ERROR from HTTPREAD part-way (<wait_time> passed): the
 * response started, so the exchange fails after the head. */
static void test_read_cut(void **state)
{
	(void)state;
	const char *raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	struct script sc = { 0 };
	url_steps(&sc, "+HTTP", "http://h/");
	step(&sc, fmt("AT+HTTPGET=30,%zu,2\r", strlen(raw)), fmt("\r\nCONNECT\r\n"));
	step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n+HTTPGET: 0,200\r\n"));
	/* Close-delimited, so the module's words end the stream; its
	 * CME error (not OK) follows. */
	step(&sc, fmt("AT+HTTPREAD=60\r"),
	     fmt("\r\nCONNECT\r\nHTTP/1.1 200 OK\r\n\r\npart\r\n+CME ERROR: 722\r\n"));
	struct rig r;
	httpcfg_rig(&r, &dialect_httpcfg, sc.s, sc.n, 3);
	struct dialect_request rq = req(VERB_GET, "GET", "http://h/", raw, NULL);
	enum ath_err e = r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err);
	assert_int_not_equal(e, ATH_OK);
	assert_int_equal(r.got.heads, 1);
	rig_free(&r);
	script_free(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_custom_headers),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_post_and_other_methods),
		cmocka_unit_test(test_large_get_through_post),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_cfg_refused),
		cmocka_unit_test(test_method_refused),
		cmocka_unit_test(test_read_cut),
		cmocka_unit_test(test_read_without_ok),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
