/*
 * The httpcfg driver and its quectel twin against scripted module replies:
 * every command form of the manual (its chapter 15, "HTTP(S) commands":
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


/* 15.1's read form with the given request and response header settings. */
static void cfg_query_step(struct script *sc, const char *stem, int reqh, int rsph)
{
	step(sc, fmt("AT%sCFG?\r", stem),
	     fmt("\r\n%sCFG: \"contextid\",1\r\n%sCFG: \"requestheader\",%d\r\n"
		 "%sCFG: \"responseheader\",%d\r\n%sCFG: \"sslctxid\",1\r\n\r\nOK\r\n",
		 stem, stem, reqh, stem, rsph, stem));
}

/* Bring-up from power-on: echo on, so ATE0 and AT come back; the settings
 * are the defaults (0), so both are set. */
static void bringup_steps(struct script *sc, const char *stem)
{
	step(sc, fmt("AT\r"), fmt("AT\r\r\nOK\r\n"));
	step(sc, fmt("ATE0\r"), fmt("ATE0\r\r\nOK\r\n"));
	cfg_query_step(sc, stem, 0, 0);
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
	step(sc, fmt("AT%sREAD=29\r", stem), fmt("\r\nCONNECT\r\n%s\r\nOK\r\n\r\n%sREAD: 0\r\n", response, stem));
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
			step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(get_raw)), fmt("\r\nCONNECT\r\n"));
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
		step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
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
			step(&sc, fmt("AT%sPOST=%zu,2,29\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
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
	step(&sc, fmt("AT+HTTPPOST=%zu,2,29\r", strlen(raw)), fmt("\r\nCONNECT\r\n"));
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
		step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
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
			step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
			step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200\r\n", stem));
			step(&sc, fmt("AT%sREAD=29\r", stem),
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
			{ "\r\nOK\r\n\r\nTIMEOUT\r\n", NULL, 504, -1, "TIMEOUT: no answer from the server within 29 s" },
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
				step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
				step(&sc, fmt("%s", raw), fmt(cases[k].after_data, stem));
			} else {
				step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(raw)), fmt("%s", cases[k].refusal));
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
	cfg_query_step(&sc, "+HTTP", 0, 1);
	step(&sc, fmt("AT+HTTPCFG=\"requestheader\",1\r"), fmt("\r\n+CME ERROR: 730\r\n"));
	struct rig r;
	httpcfg_rig(&r, &dialect_httpcfg, sc.s, sc.n, 1);
	assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_E_MODULE);
	assert_non_null(strstr(r.err.text, "AT+HTTPCFG=\"requestheader\""));
	assert_non_null(strstr(r.err.text, "invalid parameter"));
	rig_done(&r);
	script_free(&sc);
}

/* 15.1: settings the module holds from before are not set again; one it
 * does not hold is; a refused query sets both. */
static void test_bringup_queries_settings(void **state)
{
	(void)state;
	static const struct { int reqh, rsph; bool refused; } cases[] = {
		{ 1, 1, false }, { 1, 0, false }, { 0, 1, false }, { 0, 0, true },
	};
	const char *stems[] = { "+HTTP", "+QHTTP" };
	const struct dialect *ds[] = { &dialect_httpcfg, &dialect_quectel };
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
			struct script sc = { 0 };
			step(&sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
			if (cases[i].refused)
				step(&sc, fmt("AT%sCFG?\r", stems[k]), fmt("\r\nERROR\r\n"));
			else
				cfg_query_step(&sc, stems[k], cases[i].reqh, cases[i].rsph);
			if (cases[i].reqh != 1)
				step(&sc, fmt("AT%sCFG=\"requestheader\",1\r", stems[k]), fmt("\r\nOK\r\n"));
			if (cases[i].rsph != 1)
				step(&sc, fmt("AT%sCFG=\"responseheader\",1\r", stems[k]), fmt("\r\nOK\r\n"));
			struct rig r;
			httpcfg_rig(&r, ds[k], sc.s, sc.n, (unsigned)i);
			assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
			rig_done(&r);
			script_free(&sc);
		}
	}
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
		step(&sc, fmt("AT%sPOST=%zu,2,29\r", stem, strlen(raw)), fmt("\r\nCONNECT\r\n"));
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
	step(&sc, fmt("AT+HTTPGET=29,%zu,2\r", strlen(raw)), fmt("\r\nCONNECT\r\n"));
	step(&sc, fmt("%s", raw), fmt("\r\nOK\r\n\r\n+HTTPGET: 0,200\r\n"));
	/* Close-delimited, so the module's words end the stream; its
	 * CME error (not OK) follows. */
	step(&sc, fmt("AT+HTTPREAD=29\r"),
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

/* ------------------------------------------------------------ https */

/* The twins' SSL rows: command stems and the SSL context each uses (the
 * unprefixed manual's note to 15.1: only 2 for https). */
static const struct {
	const char *ssl, *file;
	int ctx;
} tls_rows[] = {
	{ "+SSLCFG", "+F", 2 },
	{ "+QSSLCFG", "+QF", 1 },
};

#define CA_FILE "UFS:athttp_ca.pem"

/* Two roots, as a --module-ca file holds them: several PEM blocks, CRLF
 * and LF lines, an odd length (the checksum's last byte alone). */
static char *two_roots(void)
{
	struct buf b = { 0 };
	for (int k = 0; k < 2; k++) {
		buf_adds(&b, "-----BEGIN CERTIFICATE-----\n");
		for (int i = 0; i < 12; i++)
			buf_addf(&b, "MIIB%02d%s+/=abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW%s", k * 12 + i,
				 k ? "Zz" : "Yy", k ? "\r\n" : "\n");
		buf_adds(&b, "-----END CERTIFICATE-----\n");
	}
	buf_adds(&b, "#");
	return b.p;
}

/* Quectel's FILE AT manual: the XOR of big-endian byte pairs, an odd last
 * byte as the high half; written here apart from the driver's. */
static unsigned xor16(const char *p, size_t n)
{
	unsigned hi = 0, lo = 0;
	for (size_t i = 0; i < n; i++) {
		if (i % 2 == 0)
			hi ^= (unsigned char)p[i];
		else
			lo ^= (unsigned char)p[i];
	}
	return hi << 8 | lo;
}

static void sslctx_step(struct script *sc, size_t t)
{
	step(sc, fmt("AT%sCFG=\"sslctxid\",%d\r", twins[t].stem, tls_rows[t].ctx), fmt("\r\nOK\r\n"));
}

static void ssl_step(struct script *sc, size_t t, const char *key, const char *value, const char *reply)
{
	step(sc, fmt("AT%s=\"%s\",%d,%s\r", tls_rows[t].ssl, key, tls_rows[t].ctx, value), fmt("%s", reply));
}

/* The upload of pem: CONNECT, exactly its bytes, then the module's
 * "+FUPL: <size>,<checksum>" (size and sum as given) and OK. */
static void upload_steps(struct script *sc, size_t t, const char *pem, size_t size, unsigned sum)
{
	size_t len = strlen(pem);
	step(sc, fmt("AT%sUPL=\"" CA_FILE "\",%zu,%d\r", tls_rows[t].file, len, 2 + (int)(len * 20 / 115200)),
	     fmt("\r\nCONNECT\r\n"));
	step(sc, fmt("%s", pem), fmt("\r\n%sUPL: %zu,%x\r\n\r\nOK\r\n", tls_rows[t].file, size, sum));
}

static struct module_tls with_ca(const char *pem)
{
	return (struct module_tls){ .ca_pem = pem, .ca_len = pem ? strlen(pem) : 0 };
}

/* tls_setup with --module-ca: the context, the file listed (there from
 * before, as the full name or the bare one: deleted first; or absent, by
 * an empty list or "file not found": not), uploaded byte for byte with size and checksum checked, named by
 * cacert, SNI on, seclevel 1 last: verified. */
static void test_tls_setup_with_ca(void **state)
{
	(void)state;
	char *pem = two_roots();
	static const char *const listings[] = { "\"" CA_FILE "\",977", "\"athttp_ca.pem\",12", NULL, NULL };
	for (size_t t = 0; t < 2; t++) {
		for (size_t k = 0; k < 4; k++) {
			const char *f = tls_rows[t].file;
			struct script sc = { 0 };
			sslctx_step(&sc, t);
			if (listings[k]) {
				step(&sc, fmt("AT%sLST=\"" CA_FILE "\"\r", f),
				     fmt("\r\n%sLST: \"other.pem\",5\r\n%sLST: %s\r\n\r\nOK\r\n", f, f, listings[k]));
				step(&sc, fmt("AT%sDEL=\"" CA_FILE "\"\r", f), fmt("\r\nOK\r\n"));
			} else if (k == 2) {
				/* another file is not the CA file: no delete */
				step(&sc, fmt("AT%sLST=\"" CA_FILE "\"\r", f),
				     fmt("\r\n%sLST: \"UFS:athttp_ca.pem.old\",5\r\n\r\nOK\r\n", f));
			} else {
				/* "file not found" for a list of one name: absent */
				step(&sc, fmt("AT%sLST=\"" CA_FILE "\"\r", f), fmt("\r\n+CME ERROR: 405\r\n"));
			}
			upload_steps(&sc, t, pem, strlen(pem), xor16(pem, strlen(pem)));
			ssl_step(&sc, t, "cacert", "\"" CA_FILE "\"", "\r\nOK\r\n");
			ssl_step(&sc, t, "sni", "1", "\r\nOK\r\n");
			ssl_step(&sc, t, "seclevel", "1", "\r\nOK\r\n");
			for (unsigned seed = 0; seed < 10; seed++) {
				struct rig r;
				httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
				struct module_tls mt = with_ca(pem);
				r.io.tls = &mt;
				struct tls_verdict v = { .verified = false };
				assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
				assert_true(v.verified);
				assert_string_equal(v.why, "");
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
	free(pem);
}

/* Without --module-ca: no file commands, SNI on, seclevel 0 said out
 * loud, and the verdict names why. */
static void test_tls_setup_without_ca(void **state)
{
	(void)state;
	for (size_t t = 0; t < 2; t++) {
		struct script sc = { 0 };
		sslctx_step(&sc, t);
		ssl_step(&sc, t, "sni", "1", "\r\nOK\r\n");
		ssl_step(&sc, t, "seclevel", "0", "\r\nOK\r\n");
		struct rig r;
		httpcfg_rig(&r, twins[t].d, sc.s, sc.n, 3);
		struct module_tls mt = with_ca(NULL);
		r.io.tls = &mt;
		struct tls_verdict v = { .verified = true };
		assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		assert_false(v.verified);
		assert_string_equal(v.why, "no --module-ca given");
		rig_done(&r);
		script_free(&sc);
	}
}

/* Firmware that refuses a step on the way to verification: no file list,
 * no upload command, no cacert, no seclevel 1 (a SNI switch it lacks is
 * only noted).  Never verified: seclevel 0, and the why names the command
 * refused. */
static void test_tls_setup_refused(void **state)
{
	(void)state;
	char *pem = two_roots();
	size_t len = strlen(pem);
	enum { NO_LIST, NO_UPLOAD, NO_CACERT, NO_SECLEVEL, NO_SNI, N_CASES };
	for (size_t t = 0; t < 2; t++) {
		const char *f = tls_rows[t].file;
		for (int k = 0; k < N_CASES; k++) {
			struct script sc = { 0 };
			char *why;
			sslctx_step(&sc, t);
			if (k == NO_LIST) {
				step(&sc, fmt("AT%sLST=\"" CA_FILE "\"\r", f), fmt("\r\nERROR\r\n"));
				why = fmt("the module refused AT%sLST=\"" CA_FILE "\" (ERROR): it cannot load", f);
			} else {
				step(&sc, fmt("AT%sLST=\"" CA_FILE "\"\r", f), fmt("\r\nOK\r\n"));
				if (k == NO_UPLOAD) {
					step(&sc, fmt("AT%sUPL=\"" CA_FILE "\",%zu,2\r", f, len), fmt("\r\nERROR\r\n"));
					why = fmt("the module refused AT%sUPL=\"" CA_FILE "\",%zu,2 (ERROR)", f, len);
				} else {
					upload_steps(&sc, t, pem, len, xor16(pem, len));
					ssl_step(&sc, t, "cacert", "\"" CA_FILE "\"",
						 k == NO_CACERT ? "\r\n+CME ERROR: 730\r\n" : "\r\nOK\r\n");
					why = k == NO_CACERT ? fmt("the module refused AT%s=\"cacert\"", tls_rows[t].ssl)
							     : fmt("the module refused AT%s=\"seclevel\",%d,1 (ERROR): "
								   "it cannot verify servers", tls_rows[t].ssl, tls_rows[t].ctx);
				}
			}
			ssl_step(&sc, t, "sni", "1", k == NO_SNI ? "\r\nERROR\r\n" : "\r\nOK\r\n");
			if (k == NO_SECLEVEL || k == NO_SNI)
				ssl_step(&sc, t, "seclevel", "1", k == NO_SNI ? "\r\nOK\r\n" : "\r\nERROR\r\n");
			if (k != NO_SNI)
				ssl_step(&sc, t, "seclevel", "0", "\r\nOK\r\n");
			struct rig r;
			httpcfg_rig(&r, twins[t].d, sc.s, sc.n, (unsigned)k);
			struct module_tls mt = with_ca(pem);
			r.io.tls = &mt;
			struct tls_verdict v = { .verified = true };
			assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
			if (k == NO_SNI) {
				assert_true(v.verified);
			} else {
				assert_false(v.verified);
				if (!strstr(v.why, why))
					fprintf(stderr, "case %d: why \"%s\", want \"%s\"\n", k, v.why, why);
				assert_non_null(strstr(v.why, why));
			}
			rig_done(&r);
			script_free(&sc);
			free(why);
		}
	}
	free(pem);
}

/* An upload that does not add up (size or checksum not what was sent, no
 * +FUPL line) is an error, never verified; so is a CME error after the
 * data. */
static void test_tls_upload_mismatch(void **state)
{
	(void)state;
	char *pem = two_roots();
	size_t len = strlen(pem);
	unsigned sum = xor16(pem, len);
	for (size_t t = 0; t < 2; t++) {
		const char *f = tls_rows[t].file;
		for (int k = 0; k < 4; k++) {
			struct script sc = { 0 };
			sslctx_step(&sc, t);
			step(&sc, fmt("AT%sLST=\"" CA_FILE "\"\r", f), fmt("\r\nOK\r\n"));
			if (k < 2) {
				upload_steps(&sc, t, pem, k == 0 ? len - 1 : len, k == 1 ? sum ^ 0x100 : sum);
			} else {
				step(&sc, fmt("AT%sUPL=\"" CA_FILE "\",%zu,2\r", f, len), fmt("\r\nCONNECT\r\n"));
				step(&sc, fmt("%s", pem), fmt(k == 2 ? "\r\nOK\r\n" : "\r\n+CME ERROR: 409\r\n"));
			}
			struct rig r;
			httpcfg_rig(&r, twins[t].d, sc.s, sc.n, 7);
			struct module_tls mt = with_ca(pem);
			r.io.tls = &mt;
			struct tls_verdict v = { .verified = true };
			enum ath_err e = r.d->ops->tls_setup(&r.io, &v, &r.err);
			assert_int_equal(e, k == 3 ? ATH_E_MODULE : ATH_E_PROTOCOL);
			assert_false(v.verified);
			assert_non_null(strstr(r.err.text, k == 3 ? "answered +CME ERROR: 409" : "UPL"));
			rig_done(&r);
			script_free(&sc);
		}
	}
	free(pem);
}

/* The https GET: after tls_setup the https:// URL goes through HTTPURL
 * and the packet through HTTPGET as for http (the context is the
 * service's, set once); a verified request on a module that does not
 * verify, or one before tls_setup, never reaches the module. */
static void test_https_get(void **state)
{
	(void)state;
	const char *url = "https://example.com:8443/index.html";
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		struct script sc = { 0 };
		sslctx_step(&sc, t);
		ssl_step(&sc, t, "sni", "1", "\r\nOK\r\n");
		ssl_step(&sc, t, "seclevel", "0", "\r\nOK\r\n");
		url_steps(&sc, stem, url);
		step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(get_raw)), fmt("\r\nCONNECT\r\n"));
		step(&sc, fmt("%s", get_raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200,16\r\n", stem));
		read_steps(&sc, stem, get_response);
		for (unsigned seed = 0; seed < 10; seed++) {
			struct rig r;
			httpcfg_rig(&r, twins[t].d, sc.s, sc.n, seed);
			struct module_tls mt = { .insecure = true };
			r.io.tls = &mt;
			struct hdr_list h = { 0 };
			struct dialect_request rq = req(VERB_GET, "GET", url, get_raw, &h);
			rq.tls = true;
			rq.host = "example.com";
			rq.port = 8443;
			rq.target = "/index.html";
			rq.verify_upstream = false;
			/* before tls_setup: refused, nothing sent */
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
			assert_int_equal(r.err.http_status, 502);
			assert_int_equal(r.chat.commands_sent, 0);
			struct tls_verdict v;
			assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
			assert_false(v.verified);
			/* must be verified, and the module is not: refused */
			unsigned long before = r.chat.commands_sent;
			rq.verify_upstream = true;
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
			assert_non_null(strstr(r.err.text, "not verifying"));
			assert_int_equal(r.chat.commands_sent, before);
			/* --insecure-upstream: it runs */
			rq.verify_upstream = false;
			rig_got_reset(&r.got);
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
			assert_int_equal(r.chat.commands_sent - before, 3);
			assert_int_equal(r.got.status, 200);
			assert_memory_equal(r.got.body.p, "line\r\nOK\r\n+HTTP:", 16);
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* The module's TLS failures on an https request: 716 (the SSL socket's
 * connect: a failed handshake, a rejected certificate) as the URC and as
 * HTTPPOST's CME error, 701 and 719: 502 with the code and what it means
 * on https; the same 716 on http does not speak of TLS. */
static void test_https_errors(void **state)
{
	(void)state;
	const char *url = "https://h/";
	const char *raw = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	const char *post = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx";
	static const struct {
		bool by_post;
		int code;
		const char *text;
	} cases[] = {
		{ false, 716, "HTTP(S) socket connect error (https: the TLS handshake failed, or the module "
			      "rejected the server's certificate) (%sGET: 716)" },
		{ true, 716, "HTTP(S) socket connect error (https: the TLS handshake failed, or the module "
			     "rejected the server's certificate) (AT%sPOST answered +CME ERROR: 716)" },
		{ false, 701, "HTTP(S) unknown error (https: the module's TLS may have failed)" },
		{ false, 719, "HTTP(S) socket closed (https: the server may have ended the TLS session)" },
	};
	for (size_t t = 0; t < 2; t++) {
		const char *stem = twins[t].stem;
		for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			for (int https = 0; https < 2; https++) {
				const char *u = https ? url : "http://h/";
				const char *pk = cases[k].by_post ? post : raw;
				struct script sc = { 0 };
				if (https) {
					/* tls_setup without roots: --insecure-upstream */
					sslctx_step(&sc, t);
					ssl_step(&sc, t, "sni", "1", "\r\nOK\r\n");
					ssl_step(&sc, t, "seclevel", "0", "\r\nOK\r\n");
				}
				url_steps(&sc, stem, u);
				if (cases[k].by_post) {
					step(&sc, fmt("AT%sPOST=%zu,2,29\r", stem, strlen(pk)),
					     fmt("\r\n+CME ERROR: %d\r\n", cases[k].code));
				} else {
					step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(pk)), fmt("\r\nCONNECT\r\n"));
					step(&sc, fmt("%s", pk), fmt("\r\nOK\r\n\r\n%sGET: %d\r\n", stem, cases[k].code));
				}
				struct rig r;
				httpcfg_rig(&r, twins[t].d, sc.s, sc.n, (unsigned)k);
				struct module_tls mt = { .insecure = true };
				r.io.tls = &mt;
				struct tls_verdict v;
				if (https)
					assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
				struct dialect_request rq = cases[k].by_post
					? req(VERB_POST, "POST", u, pk, NULL) : req(VERB_GET, "GET", u, pk, NULL);
				rq.tls = https;
				assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
				assert_int_equal(r.err.http_status, 502);
				assert_int_equal(r.err.module_code, cases[k].code);
				char *want = fmt(cases[k].text, stem);
				if (https)
					assert_non_null(strstr(r.err.text, want));
				else
					assert_null(strstr(r.err.text, "https"));
				free(want);
				rig_done(&r);
				script_free(&sc);
			}
		}
	}
}

/* ------------------------------------------------------------ framing */

/* One GET of a 3000-byte body, HTTPREAD answering read (after CONNECT);
 * returns the exchange's result. */
static enum ath_err framing_get(size_t t, const struct buf *read, unsigned seed, struct rig *r)
{
	const char *stem = twins[t].stem;
	struct script sc = { 0 };
	bringup_steps(&sc, stem);
	url_steps(&sc, stem, "http://example.com/index.html");
	step(&sc, fmt("AT%sGET=29,%zu,2\r", stem, strlen(get_raw)), fmt("\r\nCONNECT\r\n"));
	step(&sc, fmt("%s", get_raw), fmt("\r\nOK\r\n\r\n%sGET: 0,200,3000\r\n", stem));
	char *rep = malloc(read->len + 1);
	memcpy(rep, read->p, read->len + 1);
	stepn(&sc, fmt("AT%sREAD=29\r", stem), 0, rep, read->len);
	httpcfg_rig(r, twins[t].d, sc.s, sc.n, seed);
	assert_int_equal(r->d->ops->bringup(&r->io, &r->err), ATH_OK);
	struct hdr_list h = { 0 };
	struct dialect_request rq = req(VERB_GET, "GET", "http://example.com/index.html", get_raw, &h);
	rig_got_reset(&r->got);
	enum ath_err e = r->d->ops->exchange(&r->io, &rq, &r->sink, &r->err);
	script_free(&sc);
	return e;
}

/* form 0: clean, a URC between OK and the result line; 1: noise inside a
 * Content-Length body; 2: a stray line between OK and the result line;
 * 3: noise inside a chunked body. */
static void framing_read(struct buf *b, const char *stem, int form, char *body)
{
	for (size_t i = 0; i < 3000; i++)
		body[i] = (char)('a' + (i * 7 + (i >> 5)) % 26);
	buf_adds(b, "\r\nCONNECT\r\n");
	if (form == 3) {
		buf_adds(b, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nbb8\r\n");
		buf_add(b, body, 1000);
		buf_adds(b, "\x13\xfe~Zn");
		buf_add(b, body + 1000, 2000);
		buf_adds(b, "\r\n0\r\n\r\n");
	} else {
		buf_adds(b, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n");
		buf_add(b, body, 1000);
		if (form == 1)
			buf_adds(b, "\x13\xfe~Zn");
		buf_add(b, body + 1000, 2000);
	}
	buf_adds(b, "\r\nOK\r\n");
	if (form == 0)
		buf_adds(b, "\r\n+CREG: 1\r\n");
	if (form == 2)
		buf_adds(b, "\r\nmoved bytes\r\n");
	buf_addf(b, "\r\n%sREAD: 0\r\n", stem);
}

static void test_framing_clean_with_urc(void **state)
{
	(void)state;
	char body[3000];
	for (size_t t = 0; t < 2; t++) {
		struct buf rd = { 0 };
		framing_read(&rd, twins[t].stem, 0, body);
		for (unsigned seed = 0; seed < 10; seed++) {
			struct rig r;
			assert_int_equal(framing_get(t, &rd, seed, &r), ATH_OK);
			assert_int_equal(r.got.body.len, 3000);
			assert_memory_equal(r.got.body.p, body, 3000);
			rig_done(&r);
		}
		free(rd.p);
	}
}

/* Noise in the body (with a length or chunked) and a stray line: a
 * framing error, and the body never reaches the client whole. */
static void test_framing_errors(void **state)
{
	(void)state;
	char body[3000];
	for (size_t t = 0; t < 2; t++)
		for (int form = 1; form <= 3; form++) {
			struct buf rd = { 0 };
			framing_read(&rd, twins[t].stem, form, body);
			for (unsigned seed = 0; seed < 10; seed++) {
				struct rig r;
				r.verbose = false;
				assert_int_equal(framing_get(t, &rd, seed, &r), ATH_E_PROTOCOL);
				assert_non_null(strstr(r.err.text, "framing"));
				assert_true(r.got.body.len < 3000);
				rig_free(&r);
			}
			free(rd.p);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_custom_headers),
		cmocka_unit_test(test_framing_clean_with_urc),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_post_and_other_methods),
		cmocka_unit_test(test_large_get_through_post),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_url_refused),
		cmocka_unit_test(test_cfg_refused),
		cmocka_unit_test(test_bringup_queries_settings),
		cmocka_unit_test(test_method_refused),
		cmocka_unit_test(test_read_cut),
		cmocka_unit_test(test_read_without_ok),
		cmocka_unit_test(test_tls_setup_with_ca),
		cmocka_unit_test(test_tls_setup_without_ca),
		cmocka_unit_test(test_tls_setup_refused),
		cmocka_unit_test(test_tls_upload_mismatch),
		cmocka_unit_test(test_https_get),
		cmocka_unit_test(test_https_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
