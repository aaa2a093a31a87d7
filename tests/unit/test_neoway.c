/*
 * The neoway driver against scripted module replies: every example of the
 * N58 AT Commands Manual (chapter 9) adapted to the driver's
 * command sequence (HTTPPARA url/port/recvmode, HTTPSETUP, HTTPACTION=99
 * with its '>' data phase; HTTPACTION=0/1/2 for requests over the 2048-byte
 * packet), the responses in recvmode 0 (one "+HTTPRECV:" line, raw bytes,
 * "+HTTPCLOSED") and recvmode 1 ("+HTTPRECV: <len>,<data>" pieces), in both
 * firmware spellings ("+HTTPRECV: " and "+HTTPRECV:"), every failure text,
 * and the replies fed in random splits.  HTTPS (9.10-9.15): tls_setup's
 * AT+HTTPSCFG commands and its unverified verdict, the S-twins' requests
 * and reports, their failures, and the 512-byte AT+HTTPSPARA url.
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
#include "request_policy.h"

extern const struct dialect dialect_neoway;

/* How firmware spells its reports (the emulator's n58 and compact). */
static const struct spelling {
	const char *name;
	const char *recv_head;     /* recvmode 0, before the raw bytes */
	const char *recv_piece;    /* recvmode 1, before each piece; %zu is its length */
	const char *open_failed;
	const char *send_error;
} spellings[] = {
	{ "n58", "\r\n+HTTPRECV: \r\n", "\r\n+HTTPRECV: %zu,", "\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n",
	  "\r\n+HTTPSEND: ERROR\r\n" },
	{ "compact", "\r\n+HTTPRECV:\r\n", "\r\n+HTTPRECV:%zu,", "\r\n+HTTPACTION:SOCKET ID OPEN FAILED\r\n",
	  "\r\n+HTTPSEND:ERROR\r\n" },
};
#define N_SPELLINGS (sizeof spellings / sizeof spellings[0])

static const char link_closed[] = "\r\n+HTTPCLOSED: HTTP Link Closed\r\n";

/* The module's output for a response: recvmode 0 or 1, pieces of at
 * most piece bytes, then the link's end (close: the report, or NULL). */
static void framed(struct buf *out, const struct spelling *sp, int recvmode, const char *resp, size_t len,
		   size_t piece, const char *close)
{
	if (recvmode == 0) {
		buf_adds(out, sp->recv_head);
		buf_add(out, resp, len);
	} else {
		for (size_t off = 0; off < len; off += piece) {
			size_t k = len - off < piece ? len - off : piece;
			buf_addf(out, sp->recv_piece, k);
			buf_add(out, resp + off, k);
		}
	}
	if (close)
		buf_adds(out, close);
}

/* ------------------------------------------------------------ the rig */

/* The neoway driver on the script; quiet: a silent module (see
 * driver_rig.h) and a 1 s action timeout.  Every head is the origin's. */
static void neoway_rig(struct rig *r, const struct script_step *steps, size_t n, unsigned seed, bool quiet)
{
	rig_init(r, &dialect_neoway, steps, n, seed, quiet);
	r->got.real_head = true;
	if (quiet)
		r->io.action_timeout_ms = 1000;
}

/* ------------------------------------------------------------ scripts */

/* Power-on: echo on, so AT and ATE0 come back; HTTPCLOSE with no link
 * answers OK alone (9.4, second example). */
static void bringup_steps(struct script *sc)
{
	step(sc, fmt("AT\r"), fmt("AT\r\r\nOK\r\n"));
	step(sc, fmt("ATE0\r"), fmt("ATE0\r\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPCLOSE\r"), fmt("\r\nOK\r\n"));
}

/* 9.1: url (the host: the path travels in the packet), port, recvmode. */
static void params_steps(struct script *sc, const char *url, unsigned port, int recvmode)
{
	step(sc, fmt("AT+HTTPPARA=url,%s\r", url), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPPARA=port,%u\r", port), fmt("\r\nOK\r\n"));
	/* Firmware without recvmode answers ERROR: recvmode 0 it is. */
	step(sc, fmt("AT+HTTPPARA=recvmode,1\r"), fmt(recvmode ? "\r\nOK\r\n" : "\r\nERROR\r\n"));
}

/* 9.2: AT+HTTPSETUP, OK once connected. */
static void setup_step(struct script *sc)
{
	step(sc, fmt("AT+HTTPSETUP\r"), fmt("\r\nOK\r\n"));
}

/* 9.3, mode 99: the prompt, the packet, OK, then what follows (taken). */
static void packet_steps(struct script *sc, const char *raw, size_t raw_len, struct buf *after)
{
	step(sc, fmt("AT+HTTPACTION=99,%zu\r", raw_len), fmt("\r\n>"));
	char *expect = malloc(raw_len + 1);
	memcpy(expect, raw, raw_len);
	expect[raw_len] = '\0';
	stepn(sc, expect, raw_len, after->p, after->len);
	after->p = NULL;
	after->len = 0;
}

/* OK after the data, then the response as the module prints it. */
static void answer(struct buf *out, const struct spelling *sp, int recvmode, const char *resp, size_t len)
{
	buf_adds(out, "\r\nOK\r\n");
	framed(out, sp, recvmode, resp, len, 1460, link_closed);
}

static struct dialect_request request(unsigned verb, const char *method, const char *url, const char *raw,
				      size_t raw_len, const struct hdr_list *h)
{
	struct dialect_request rq = { .verb = verb, .method = method, .url = url, .headers = h,
				      .raw = (const unsigned char *)raw, .raw_len = raw_len };
	unit_split_url(&rq);
	return rq;
}

/* ------------------------------------------------------------ the manual's examples */

/* 9.3's GET example, as the response to the driver's custom packet: the
 * manual's head, and a 13842-byte body (every byte value, CR LF, NUL and
 * the module's own words among them).  A second request to the same
 * server is two commands: the module keeps the parameters. */
static const char manual_get_head[] =
	"HTTP/1.1 200 OK\r\n"
	"Cache-Control: private\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Server: Microsoft-IIS/7.5\r\n"
	"Set-Cookie: ASP.NET_SessionId=rh3fjg554ufzb145aevgzz45; path=/; HttpOnly\r\n"
	"X-AspNet-Version: 2.0.50727\r\n"
	"X-Powered-By: ASP.NET\r\n"
	"X-UA-Compatible: IE=EmulateIE7\r\n"
	"Date: Wed, 02 Mar 2016 06:52:35 GMT\r\n"
	"Connection: close\r\n"
	"Content-Length: 13842\r\n"
	"\r\n";

static void manual_body(struct buf *b, size_t len)
{
	static const char words[] = "\r\n+HTTPCLOSED: HTTP Link Closed\r\n\r\nOK\r\n+HTTPRECV: 5,";
	for (size_t i = 0; b->len < len; i++) {
		if (i % 997 == 0) {
			size_t k = strlen(words) < len - b->len ? strlen(words) : len - b->len;
			buf_add(b, words, k);
			continue;
		}
		char c = (char)(i * 7);
		buf_add(b, &c, 1);
	}
}

static void test_manual_get(void **state)
{
	(void)state;
	static const char raw[] = "GET /en/index.aspx HTTP/1.1\r\nHost: www.neoway.com.cn\r\nConnection: close\r\n\r\n";
	struct buf body = { 0 }, resp = { 0 };
	manual_body(&body, 13842);
	buf_adds(&resp, manual_get_head);
	buf_add(&resp, body.p, body.len);
	for (size_t v = 0; v < N_SPELLINGS; v++) {
		for (int recvmode = 0; recvmode <= 1; recvmode++) {
			struct script sc = { 0 };
			bringup_steps(&sc);
			params_steps(&sc, "www.neoway.com.cn", 80, recvmode);
			for (int i = 0; i < 2; i++) {
				struct buf after = { 0 };
				setup_step(&sc);
				answer(&after, &spellings[v], recvmode, resp.p, resp.len);
				packet_steps(&sc, raw, strlen(raw), &after);
			}
			for (unsigned seed = 0; seed < 12; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
				struct dialect_request rq = request(VERB_GET, "GET", "http://www.neoway.com.cn/en/index.aspx",
								    raw, strlen(raw), NULL);
				for (int i = 0; i < 2; i++) {
					unsigned long before = r.chat.commands_sent;
					assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
					assert_int_equal(r.chat.commands_sent - before, i == 0 ? 5 : 2);
					assert_int_equal(r.got.heads, 1);
					assert_int_equal(r.got.status, 200);
					assert_int_equal(r.got.length, 13842);
					assert_non_null(strstr(r.got.headers, "Set-Cookie: ASP.NET_SessionId=rh3fjg554ufzb145aevgzz45; "
									      "path=/; HttpOnly|"));
					assert_int_equal(r.got.body.len, 13842);
					assert_memory_equal(r.got.body.p, body.p, 13842);
				}
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
	free(body.p);
	free(resp.p);
}

/* 9.3's custom-packet example, byte for byte: the 76-byte HEAD packet with
 * the manual's own spelling of its fields, and the head-only answer. */
static void test_manual_custom_packet_head(void **state)
{
	(void)state;
	static const char raw[] = "HEAD /en/index.aspx HTTP/1.1\r\nconnection: close\r\nHOST: www.neoway.com.cn\r\n\r\n";
	static const char resp[] =
		"HTTP/1.1 200 OK\r\n"
		"Cache-Control: private\r\n"
		"Content-Length: 13842\r\n"
		"Content-Type: text/html; charset=utf-8\r\n"
		"Server: Microsoft-IIS/7.5\r\n"
		"Set-Cookie: ASP.NET_SessionId=pvlaai3fizxg44eyvyqsyenk; path=/; HttpOnly\r\n"
		"X-AspNet-Version: 2.0.50727\r\n"
		"X-Powered-By: ASP.NET\r\n"
		"X-UA-Compatible: IE=EmulateIE7\r\n"
		"Date: Thu, 28 Nov 2013 05:40:24 GMT\r\n"
		"Connection: close\r\n"
		"\r\n";
	assert_int_equal(strlen(raw), 76);
	for (size_t v = 0; v < N_SPELLINGS; v++) {
		for (int recvmode = 0; recvmode <= 1; recvmode++) {
			struct script sc = { 0 };
			struct buf after = { 0 };
			params_steps(&sc, "www.neoway.com.cn", 80, recvmode);
			setup_step(&sc);
			answer(&after, &spellings[v], recvmode, resp, strlen(resp));
			packet_steps(&sc, raw, strlen(raw), &after);
			for (unsigned seed = 0; seed < 20; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				struct dialect_request rq = request(VERB_HEAD, "HEAD", "http://www.neoway.com.cn/en/index.aspx",
								    raw, strlen(raw), NULL);
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.got.status, 200);
				assert_int_equal(r.got.length, 13842);
				assert_int_equal(r.got.body.len, 0);
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
}

/* 9.3's POST example (url 121.15.200.97/Service1.asmx/GetNote, port 8080,
 * 23 bytes "MAC=NEOWAY&DATA=0123456", the 98-byte XML answer), as the
 * driver sends it: a custom packet. */
static const char manual_post_body[] = "MAC=NEOWAY&DATA=0123456";
static const char manual_post_resp[] =
	"HTTP/1.1 200 OK\r\n"
	"Cache-Control: private, max-age=0\r\n"
	"Content-Type: text/xml; charset=utf-8\r\n"
	"Server: Microsoft-IIS/7.5\r\n"
	"X-AspNet-Version: 4.0.30319\r\n"
	"X-Powered-By: ASP.NET\r\n"
	"Date: Thu, 28 Nov 2013 03:41:52 GMT\r\n"
	"Connection: close\r\n"
	"Content-Length: 98\r\n"
	"\r\n"
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
	"<string xmlns=\"http://wsliu.cn/\">NEOWAY+0123456\r\n"
	"</string>";
static const char manual_post_xml[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<string xmlns=\"http://wsliu.cn/\">NEOWAY+0123456\r\n</string>";

static void test_manual_post(void **state)
{
	(void)state;
	assert_int_equal(strlen(manual_post_body), 23);
	assert_int_equal(strlen(manual_post_xml), 98);
	char *raw = fmt("POST /Service1.asmx/GetNote HTTP/1.1\r\nHost: 121.15.200.97:8080\r\n"
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 23\r\n"
			"Connection: close\r\n\r\n%s", manual_post_body);
	for (size_t v = 0; v < N_SPELLINGS; v++) {
		for (int recvmode = 0; recvmode <= 1; recvmode++) {
			struct script sc = { 0 };
			struct buf after = { 0 };
			params_steps(&sc, "121.15.200.97", 8080, recvmode);
			setup_step(&sc);
			answer(&after, &spellings[v], recvmode, manual_post_resp, strlen(manual_post_resp));
			packet_steps(&sc, raw, strlen(raw), &after);
			for (unsigned seed = 0; seed < 20; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				struct dialect_request rq = request(VERB_POST, "POST",
								    "http://121.15.200.97:8080/Service1.asmx/GetNote",
								    raw, strlen(raw), NULL);
				rq.body = (const unsigned char *)manual_post_body;
				rq.body_len = 23;
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.got.status, 200);
				assert_int_equal(r.got.length, 98);
				assert_string_equal(r.got.body.p, manual_post_xml);
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
	free(raw);
}

/* 9.5's recvmode 1 example: "+HTTPRECV: 803,HTTP/1.1 206 Partial Content"
 * with the manual's fields (its wrapped Set-Cookie lines joined) and the
 * ten body bytes "<!DOCTYPE ", in one piece as printed there. */
static void test_manual_recvmode1_example(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: www.baidu.com\r\nRange: bytes=0-9\r\nConnection: close\r\n\r\n";
	static const char resp[] =
		"HTTP/1.1 206 Partial Content\r\n"
		"Cache-Control: no-cache\r\n"
		"Connection: Keep-Alive\r\n"
		"Content-Length: 10\r\n"
		"Content-Range: bytes 0-9/14615\r\n"
		"Content-Type: text/html\r\n"
		"Date: Tue, 10 Jul 2018 00:55:30 GMT\r\n"
		"Etag: \"5b3c3650-3917\"\r\n"
		"Last-Modified: Wed, 04 Jul 2018 02:52:00 GMT\r\n"
		"P3p: CP=\" OTI DSP COR IVA OUR IND COM \"\r\n"
		"Pragma: no-cache\r\n"
		"Server: BWS/1.1\r\n"
		"Set-Cookie: BAIDUID=F18E6894A34321D8CF9AAF28C14FACC9:FG=1; expires=Thu, 31-Dec-37 23:55:55 GMT; "
		"max-age=2147483647; path=/; domain=.baidu.com\r\n"
		"Set-Cookie: BIDUPSID=F18E6894A34321D8CF9AAF28C14FACC9; expires=Thu, 31-Dec-37 23:55:55 GMT; "
		"max-age=2147483647; path=/; domain=.baidu.com\r\n"
		"Set-Cookie: PSTM=1531184130; expires=Thu, 31-Dec-37 23:55:55 GMT; max-age=2147483647; path=/; "
		"domain=.baidu.com\r\n"
		"Vary: Accept-Encoding\r\n"
		"X-Ua-Compatible: IE=Edge,chrome=1\r\n"
		"\r\n"
		"<!DOCTYPE ";
	for (size_t v = 0; v < N_SPELLINGS; v++) {
		struct script sc = { 0 };
		struct buf after = { 0 };
		params_steps(&sc, "www.baidu.com", 80, 1);
		setup_step(&sc);
		buf_adds(&after, "\r\nOK\r\n");
		framed(&after, &spellings[v], 1, resp, strlen(resp), 2048, link_closed);
		packet_steps(&sc, raw, strlen(raw), &after);
		for (unsigned seed = 0; seed < 25; seed++) {
			struct rig r;
			neoway_rig(&r, sc.s, sc.n, seed, false);
			struct dialect_request rq = request(VERB_GET, "GET", "http://www.baidu.com/", raw, strlen(raw), NULL);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_int_equal(r.got.status, 206);
			assert_int_equal(r.got.length, 10);
			assert_non_null(strstr(r.got.headers, "Content-Range: bytes 0-9/14615|"));
			assert_non_null(strstr(r.got.headers, "Set-Cookie: PSTM=1531184130;"));
			assert_string_equal(r.got.body.p, "<!DOCTYPE ");
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* 9.4: AT+HTTPCLOSE at bring-up, both of the manual's answers (OK alone,
 * and OK then "+HTTPCLOSE: HTTP Link Closed" when a link was open); the
 * report left over must not end the next response. */
static void test_manual_close(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	for (int open = 0; open <= 1; open++) {
		struct script sc = { 0 };
		struct buf after = { 0 };
		step(&sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
		step(&sc, fmt("AT+HTTPCLOSE\r"), fmt(open ? "\r\nOK\r\n\r\n+HTTPCLOSE: HTTP Link Closed\r\n" : "\r\nOK\r\n"));
		params_steps(&sc, "h", 80, 1);
		setup_step(&sc);
		answer(&after, &spellings[0], 1, resp, strlen(resp));
		packet_steps(&sc, raw, strlen(raw), &after);
		for (unsigned seed = 0; seed < 20; seed++) {
			struct rig r;
			neoway_rig(&r, sc.s, sc.n, seed, false);
			assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
			struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, "ok");
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* ------------------------------------------------------------ responses */

/* A chunked response with trailers comes out de-chunked, in both modes;
 * and a body holding the module's own words ("+HTTPCLOSED", "+HTTPRECV:
 * 5,", OK) stays body when the message is framed. */
static void test_framed_bodies(void **state)
{
	(void)state;
	static const char raw[] = "GET /x HTTP/1.1\r\nHost: h:8080\r\nConnection: close\r\n\r\n";
	static const struct {
		const char *resp;
		const char *body;
		long long length;
	} cases[] = {
		{ "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
		  "3\r\nabc\r\n1f;ext=1\r\n\r\n+HTTPCLOSED: HTTP Link Closed\r\n0\r\nX-Sum: 7\r\n\r\n",
		  "abc\r\n+HTTPCLOSED: HTTP Link Closed", -1 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 56\r\n\r\n"
		  "a\r\n+HTTPCLOSED: HTTP Link Closed\r\n+HTTPRECV: 5,\r\nOK\r\n>\r\n",
		  "a\r\n+HTTPCLOSED: HTTP Link Closed\r\n+HTTPRECV: 5,\r\nOK\r\n>\r\n", 56 },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		assert_true(cases[k].length < 0 || (size_t)cases[k].length == strlen(cases[k].body));
		for (size_t v = 0; v < N_SPELLINGS; v++) {
			for (int recvmode = 0; recvmode <= 1; recvmode++) {
				struct script sc = { 0 };
				struct buf after = { 0 };
				params_steps(&sc, "h", 8080, recvmode);
				setup_step(&sc);
				buf_adds(&after, "\r\nOK\r\n");
				/* Small pieces, so the words straddle them. */
				framed(&after, &spellings[v], recvmode, cases[k].resp, strlen(cases[k].resp), 7, link_closed);
				packet_steps(&sc, raw, strlen(raw), &after);
				for (unsigned seed = 0; seed < 25; seed++) {
					struct rig r;
					neoway_rig(&r, sc.s, sc.n, seed, false);
					struct dialect_request rq = request(VERB_GET, "GET", "http://h:8080/x", raw,
									    strlen(raw), NULL);
					assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
					assert_int_equal(r.got.length, cases[k].length);
					assert_int_equal(r.got.body.len, strlen(cases[k].body));
					assert_memory_equal(r.got.body.p, cases[k].body, strlen(cases[k].body));
					rig_done(&r);
				}
				script_free(&sc);
			}
		}
	}
}

/* A body with neither length nor chunks runs to the link's end.  In
 * recvmode 1 the report is outside the pieces, so the body may hold its
 * words; in recvmode 0 it ends at the report on a line of its own, in
 * either of the manual's spellings ("+HTTPCLOSED: HTTP Link Closed",
 * "+HTTPCLOSE: Link Closed"). */
static void test_close_delimited(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char head[] = "HTTP/1.0 200 OK\r\nServer: old\r\n\r\n";
	static const struct {
		int recvmode;
		const char *body;
		const char *close;
	} cases[] = {
		{ 1, "until\r\n+HTTPCLOSED: HTTP Link Closed\r\nthe end", "\r\n+HTTPCLOSED: HTTP Link Closed\r\n" },
		{ 0, "until\r\nO\r\nK\r\n+HTTP the end", "\r\n+HTTPCLOSED: HTTP Link Closed\r\n" },
		{ 0, "until the end", "\r\n+HTTPCLOSE: Link Closed\r\n" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		for (size_t v = 0; v < N_SPELLINGS; v++) {
			struct script sc = { 0 };
			struct buf after = { 0 }, resp = { 0 };
			buf_adds(&resp, head);
			buf_adds(&resp, cases[k].body);
			params_steps(&sc, "h", 80, cases[k].recvmode);
			setup_step(&sc);
			buf_adds(&after, "\r\nOK\r\n");
			framed(&after, &spellings[v], cases[k].recvmode, resp.p, resp.len, 9, cases[k].close);
			packet_steps(&sc, raw, strlen(raw), &after);
			for (unsigned seed = 0; seed < 25; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.got.length, -1);
				assert_string_equal(r.got.body.p, cases[k].body);
				rig_done(&r);
			}
			script_free(&sc);
			free(resp.p);
		}
	}
}

/* recvmode 0: after a framed message the report may follow the last body
 * byte without a line break. */
static void test_report_glued(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
	for (size_t v = 0; v < N_SPELLINGS; v++) {
		struct script sc = { 0 };
		struct buf after = { 0 };
		params_steps(&sc, "h", 80, 0);
		setup_step(&sc);
		buf_adds(&after, "\r\nOK\r\n");
		framed(&after, &spellings[v], 0, resp, strlen(resp), 0, "+HTTPCLOSED: HTTP Link Closed\r\n");
		packet_steps(&sc, raw, strlen(raw), &after);
		setup_step(&sc);
		answer(&after, &spellings[v], 0, resp, strlen(resp));
		packet_steps(&sc, raw, strlen(raw), &after);
		for (unsigned seed = 0; seed < 25; seed++) {
			struct rig r;
			neoway_rig(&r, sc.s, sc.n, seed, false);
			struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
			for (int i = 0; i < 2; i++) {
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_string_equal(r.got.body.p, "abc");
			}
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* Bytes after the origin's message (before the link's end): the module's
 * count and the message disagree, so the exchange fails (the bridge cuts
 * the connection) and the message's last bytes, held back until the
 * module's end, never reach the client. */
static void test_leftover_is_error(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nonegarbage\r\nOK\r\n+HTTPRECV: 3,xyz";
	for (size_t v = 0; v < N_SPELLINGS; v++) {
		for (int recvmode = 0; recvmode <= 1; recvmode++) {
			struct script sc = { 0 };
			struct buf after = { 0 };
			params_steps(&sc, "h", 80, recvmode);
			setup_step(&sc);
			answer(&after, &spellings[v], recvmode, resp, strlen(resp));
			packet_steps(&sc, raw, strlen(raw), &after);
			for (unsigned seed = 0; seed < 25; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				r.verbose = false;
				struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
				assert_int_equal(rig_exchange(&r, &rq), ATH_E_PROTOCOL);
				assert_non_null(strstr(r.err.text, "framing"));
				assert_true(r.got.body.len < 3);
				rig_free(&r);
			}
			script_free(&sc);
		}
	}
}

static void test_recvmode_tolerance(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	struct script sc = { 0 };
	struct buf after = { 0 };
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	answer(&after, &spellings[0], 0, resp, strlen(resp));
	packet_steps(&sc, raw, strlen(raw), &after);
	/* A new host: url again, port and recvmode held. */
	step(&sc, fmt("AT+HTTPPARA=url,other\r"), fmt("\r\nOK\r\n"));
	setup_step(&sc);
	answer(&after, &spellings[1], 1, resp, strlen(resp));
	packet_steps(&sc, raw, strlen(raw), &after);
	for (unsigned seed = 0; seed < 25; seed++) {
		struct rig r;
		neoway_rig(&r, sc.s, sc.n, seed, false);
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "hello");
		rq.url = "http://other/";
		unit_split_url(&rq);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "hello");
		rig_done(&r);
	}
	script_free(&sc);
}

/* A module that forgets the parameters when the origin closes answers the
 * next HTTPSETUP with ERROR: they go again, and with every request after. */
static void test_params_forgotten(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx";
	struct script sc = { 0 };
	struct buf after = { 0 };
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	answer(&after, &spellings[0], 1, resp, strlen(resp));
	packet_steps(&sc, raw, strlen(raw), &after);
	step(&sc, fmt("AT+HTTPSETUP\r"), fmt("\r\nERROR\r\n"));
	step(&sc, fmt("AT+HTTPCLOSE\r"), fmt("\r\nOK\r\n"));
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	answer(&after, &spellings[0], 1, resp, strlen(resp));
	packet_steps(&sc, raw, strlen(raw), &after);
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	answer(&after, &spellings[0], 1, resp, strlen(resp));
	packet_steps(&sc, raw, strlen(raw), &after);
	for (unsigned seed = 0; seed < 10; seed++) {
		struct rig r;
		neoway_rig(&r, sc.s, sc.n, seed, false);
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, "x");
		}
		rig_done(&r);
	}
	script_free(&sc);
}

/* An origin that keeps the link after a complete response: the response
 * is delivered, then AT+HTTPCLOSE closes the link (its OK must not vanish
 * into the recvmode 0 stream), and the next request sets the parameters
 * again. */
static void test_server_keeps_link(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nkept";
	/* Each run waits out the grace: the spellings with recvmode 0 (the
	 * stream), one with recvmode 1. */
	static const struct { size_t v; int recvmode; } runs[] = { { 0, 0 }, { 1, 0 }, { 0, 1 } };
	for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
		size_t v = runs[i].v;
		int recvmode = runs[i].recvmode;
		{
			struct script sc = { 0 };
			struct buf after = { 0 };
			params_steps(&sc, "h", 80, recvmode);
			setup_step(&sc);
			buf_adds(&after, "\r\nOK\r\n");
			framed(&after, &spellings[v], recvmode, resp, strlen(resp), 1460, NULL);
			packet_steps(&sc, raw, strlen(raw), &after);
			step(&sc, fmt("AT+HTTPCLOSE\r"), fmt("\r\nOK\r\n\r\n+HTTPCLOSE: HTTP Link Closed\r\n"));
			/* HTTPCLOSE cleared url and port; recvmode is asked
			 * again only where the firmware took it. */
			step(&sc, fmt("AT+HTTPPARA=url,h\r"), fmt("\r\nOK\r\n"));
			step(&sc, fmt("AT+HTTPPARA=port,80\r"), fmt("\r\nOK\r\n"));
			if (recvmode)
				step(&sc, fmt("AT+HTTPPARA=recvmode,1\r"), fmt("\r\nOK\r\n"));
			setup_step(&sc);
			answer(&after, &spellings[v], recvmode, resp, strlen(resp));
			packet_steps(&sc, raw, strlen(raw), &after);
			for (unsigned seed = 7; seed < 8; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, true);
				struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_string_equal(r.got.body.p, "kept");
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_string_equal(r.got.body.p, "kept");
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
}

/* No answer from the origin: 504 (the module may still be busy, so the
 * engine brings it back). */
static void test_no_response_timeout(void **state)
{
	(void)state;
	static const char raw[] = "GET /slow HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	struct script sc = { 0 };
	struct buf after = { 0 };
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	buf_adds(&after, "\r\nOK\r\n");
	packet_steps(&sc, raw, strlen(raw), &after);
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 3, true);
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/slow", raw, strlen(raw), NULL);
	assert_int_equal(rig_exchange(&r, &rq), ATH_E_TIMEOUT);
	assert_int_equal(r.err.http_status, 504);
	assert_int_equal(r.got.heads, 0);
	rig_done(&r);
	script_free(&sc);
}

/* teardown closes a link that may still be open (here: the origin never
 * answered), taking its close report; with no link open it sends nothing. */
static void test_teardown(void **state)
{
	(void)state;
	static const char raw[] = "GET /slow HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	struct script sc = { 0 };
	struct buf after = { 0 };
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	buf_adds(&after, "\r\nOK\r\n");
	packet_steps(&sc, raw, strlen(raw), &after);
	step(&sc, fmt("AT+HTTPCLOSE\r"), fmt("\r\nOK\r\n\r\n+HTTPCLOSE: HTTP Link Closed\r\n"));
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 5, true);
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/slow", raw, strlen(raw), NULL);
	assert_int_equal(rig_exchange(&r, &rq), ATH_E_TIMEOUT);
	assert_non_null(dialect_neoway.ops->teardown);
	assert_int_equal(dialect_neoway.ops->teardown(&r.io, &r.err), ATH_OK);
	unsigned long before = r.chat.commands_sent;
	assert_int_equal(dialect_neoway.ops->teardown(&r.io, &r.err), ATH_OK);
	assert_int_equal(r.chat.commands_sent, before);
	rig_done(&r);
	script_free(&sc);
}

/* A client gone mid-body: the module is still read to the link's end. */
static void test_client_gone(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
	for (int recvmode = 0; recvmode <= 1; recvmode++) {
		struct script sc = { 0 };
		struct buf after = { 0 };
		params_steps(&sc, "h", 80, recvmode);
		setup_step(&sc);
		answer(&after, &spellings[0], recvmode, resp, strlen(resp));
		packet_steps(&sc, raw, strlen(raw), &after);
		struct rig r;
		neoway_rig(&r, sc.s, sc.n, 8, false);
		r.got.refuse = true;
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
		r.got.refuse = true;
		ath_error_clear(&r.err);
		assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_CLIENT_GONE);
		rig_done(&r);
		script_free(&sc);
	}
}

/* ------------------------------------------------------------ failures */

/* Every failure text of the manual, both spellings: 502 naming the
 * module's words; the module stays in step (ATH_E_MODULE), and a link
 * that may be open is closed before the next request. */
static void test_failures(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	enum where { AT_SETUP, AT_PROMPT, AFTER_DATA, AFTER_OK };
	static const struct {
		enum where where;
		const char *reply;       /* %s: a spelling's field, see use */
		int field;               /* 0: literal, 1: open_failed, 2: send_error */
		const char *text;        /* expected in the error */
		bool link_maybe_open;    /* the next request closes it first */
	} cases[] = {
		/* 9.2: "ERROR / DNS translation fails" */
		{ AT_SETUP, "\r\nERROR\r\n", 0, "AT+HTTPSETUP answered ERROR: DNS lookup of, or connection to, h:80 failed", false },
		{ AT_SETUP, "\r\n+HTTPSETUP: ERROR\r\n", 0, "+HTTPSETUP: ERROR: the module could not set up", false },
		/* 9.3: "PPP is not enabled or SOC connection encountered an error" */
		{ AT_PROMPT, NULL, 1, "SOCKET ID OPEN FAILED: the module has no link to the server", true },
		/* 9.3: "Failed to send data" */
		{ AFTER_DATA, NULL, 2, ": the module could not send the request to the server", true },
		{ AFTER_OK, NULL, 2, ": the module could not send the request to the server", true },
		/* 9.3: "AT+HTTPACTION=2,adasd / ERROR" */
		{ AT_PROMPT, "\r\nERROR\r\n", 0, "AT+HTTPACTION=99,46 answered ERROR", true },
		{ AFTER_DATA, "\r\nERROR\r\n", 0, "AT+HTTPACTION=99,46 answered ERROR", true },
		/* The link closed with no answer at all. */
		{ AFTER_OK, "\r\n+HTTPCLOSED: HTTP Link Closed\r\n", 0, "the module returned no response", false },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		for (size_t v = 0; v < N_SPELLINGS; v++) {
			const char *reply = cases[k].field == 1 ? spellings[v].open_failed
					    : cases[k].field == 2 ? spellings[v].send_error : cases[k].reply;
			struct script sc = { 0 };
			params_steps(&sc, "h", 80, 1);
			if (cases[k].where == AT_SETUP) {
				step(&sc, fmt("AT+HTTPSETUP\r"), fmt("%s", reply));
			} else {
				setup_step(&sc);
				if (cases[k].where == AT_PROMPT) {
					step(&sc, fmt("AT+HTTPACTION=99,%zu\r", strlen(raw)), fmt("%s", reply));
				} else {
					struct buf after = { 0 };
					if (cases[k].where == AFTER_OK)
						buf_adds(&after, "\r\nOK\r\n");
					buf_adds(&after, reply);
					packet_steps(&sc, raw, strlen(raw), &after);
				}
			}
			/* The next request: a link that may be open is closed
			 * first, which clears the parameters. */
			struct buf after = { 0 };
			if (cases[k].link_maybe_open) {
				step(&sc, fmt("AT+HTTPCLOSE\r"), fmt("\r\nOK\r\n\r\n+HTTPCLOSE: HTTP Link Closed\r\n"));
				params_steps(&sc, "h", 80, 1);
			}
			setup_step(&sc);
			answer(&after, &spellings[v], 1, resp, strlen(resp));
			packet_steps(&sc, raw, strlen(raw), &after);
			for (unsigned seed = 0; seed < 10; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
				assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
				assert_int_equal(r.err.http_status, 502);
				if (!strstr(r.err.text, cases[k].text))
					fail_msg("case %zu: '%s' lacks '%s'", k, r.err.text, cases[k].text);
				assert_int_equal(r.got.heads, 0);
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_string_equal(r.got.body.p, "ok");
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
}

/* 9.1: "AT+HTTPPARA=url, / ERROR": a refused parameter is a 502 naming it. */
static void test_para_refused(void **state)
{
	(void)state;
	struct script sc = { 0 };
	step(&sc, fmt("AT+HTTPPARA=url,h\r"), fmt("\r\nERROR\r\n"));
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 1, false);
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(r.err.http_status, 502);
	assert_non_null(strstr(r.err.text, "AT+HTTPPARA=url failed: ERROR"));
	rig_done(&r);
	script_free(&sc);
}

/* A response cut short (the link closed inside the body): the head went
 * out, so the exchange fails after it and the client's connection is cut. */
static void test_truncated(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly some";
	struct script sc = { 0 };
	struct buf after = { 0 };
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	answer(&after, &spellings[0], 1, resp, strlen(resp));
	packet_steps(&sc, raw, strlen(raw), &after);
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 2, false);
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(r.got.heads, 1);
	assert_non_null(strstr(r.err.text, "truncated"));
	rig_done(&r);
	script_free(&sc);
}

/* ------------------------------------------------------------ over 2048 bytes */

/* Exactly 2048 bytes still go as one custom packet. */
static void test_packet_limit_exact(void **state)
{
	(void)state;
	const char *head = "GET / HTTP/1.1\r\nHost: h\r\nX-Pad: ";
	const char *tail = "\r\nConnection: close\r\n\r\n";
	char *pad = filler(2048 - strlen(head) - strlen(tail), 'p');
	char *raw = fmt("%s%s%s", head, pad, tail);
	assert_int_equal(strlen(raw), 2048);
	struct script sc = { 0 };
	struct buf after = { 0 };
	params_steps(&sc, "h", 80, 1);
	setup_step(&sc);
	answer(&after, &spellings[0], 1, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", 38);
	packet_steps(&sc, raw, strlen(raw), &after);
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 5, false);
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
	assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
	assert_int_equal(r.got.status, 200);
	rig_done(&r);
	script_free(&sc);
	free(pad);
	free(raw);
}

/* A POST over the packet whose body fits AT+HTTPACTION=2 goes that way:
 * the manual's POST example, form (url host/path, port 8080, "2,23" and
 * the 23 bytes), the cosmetic header named in X-Athttp-Dropped. */
static void test_fallback_post(void **state)
{
	(void)state;
	char *ua = filler(2100, 'u');
	char *raw = fmt("POST /Service1.asmx/GetNote HTTP/1.1\r\nHost: 121.15.200.97:8080\r\nUser-Agent: %s\r\n"
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 23\r\n"
			"Connection: close\r\n\r\n%s", ua, manual_post_body);
	struct hdr_list h = { 0 };
	hdr_add(&h, "User-Agent", 10, ua, strlen(ua));
	hdr_add(&h, "Content-Type", 12, "application/x-www-form-urlencoded", 33);
	for (size_t v = 0; v < N_SPELLINGS; v++) {
		for (int recvmode = 0; recvmode <= 1; recvmode++) {
			struct script sc = { 0 };
			params_steps(&sc, "121.15.200.97/Service1.asmx/GetNote", 8080, recvmode);
			setup_step(&sc);
			step(&sc, fmt("AT+HTTPACTION=2,23,0\r"), fmt("\r\n>"));
			struct buf after = { 0 };
			answer(&after, &spellings[v], recvmode, manual_post_resp, strlen(manual_post_resp));
			step_buf(&sc, fmt("%s", manual_post_body), &after);
			for (unsigned seed = 0; seed < 15; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				struct dialect_request rq = request(VERB_POST, "POST",
								    "http://121.15.200.97:8080/Service1.asmx/GetNote",
								    raw, strlen(raw), &h);
				rq.body = (const unsigned char *)manual_post_body;
				rq.body_len = 23;
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.got.status, 200);
				assert_string_equal(r.got.body.p, manual_post_xml);
				assert_non_null(strstr(r.got.headers, "X-Athttp-Dropped: User-Agent|"));
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
	hdr_free(&h);
	free(ua);
	free(raw);
}

/* GET and HEAD over the packet with only cosmetic headers: AT+HTTPACTION=0
 * and =1 (9.3's GET and HEAD examples), the path in the url parameter. */
static void test_fallback_get_head(void **state)
{
	(void)state;
	char *big = filler(2100, 'b');
	struct hdr_list h = { 0 };
	hdr_add(&h, "X-Big", 5, big, strlen(big));
	hdr_add(&h, "Accept", 6, "*/*", 3);
	static const struct { unsigned verb; const char *method; int mode; } forms[] = {
		{ VERB_GET, "GET", 0 }, { VERB_HEAD, "HEAD", 1 },
	};
	for (size_t f = 0; f < 2; f++) {
		char *raw = fmt("%s /en/index.aspx?q=1 HTTP/1.1\r\nHost: www.neoway.com.cn\r\nX-Big: %s\r\n"
				"Accept: */*\r\nConnection: close\r\n\r\n", forms[f].method, big);
		struct buf resp = { 0 };
		buf_adds(&resp, manual_get_head);
		if (forms[f].mode == 0)
			manual_body(&resp, strlen(manual_get_head) + 13842);
		for (int recvmode = 0; recvmode <= 1; recvmode++) {
			struct script sc = { 0 };
			struct buf after = { 0 };
			params_steps(&sc, "www.neoway.com.cn/en/index.aspx?q=1", 80, recvmode);
			setup_step(&sc);
			answer(&after, &spellings[recvmode], recvmode, resp.p, resp.len);
			step_buf(&sc, fmt("AT+HTTPACTION=%d\r", forms[f].mode), &after);
			for (unsigned seed = 0; seed < 10; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				struct dialect_request rq = request(forms[f].verb, forms[f].method,
								    "http://www.neoway.com.cn/en/index.aspx?q=1",
								    raw, strlen(raw), &h);
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.got.status, 200);
				assert_int_equal(r.got.length, 13842);
				assert_int_equal(r.got.body.len, forms[f].mode == 0 ? 13842 : 0);
				assert_non_null(strstr(r.got.headers, "X-Athttp-Dropped: X-Big, Accept|"));
				rig_done(&r);
			}
			script_free(&sc);
		}
		free(resp.p);
		free(raw);
	}
	hdr_free(&h);
	free(big);
}

/* Over 2048 bytes and no parameterized form says the same: 413 naming the
 * limit and the reason, and not one byte to the module. */
static void test_too_large(void **state)
{
	(void)state;
	char *big = filler(2100, 'c');
	static const struct {
		unsigned verb;
		const char *method;
		const char *name, *value;   /* a header besides the big one */
		const char *path;
		size_t body_len;
		const char *why;
	} cases[] = {
		{ VERB_PUT, "PUT", NULL, NULL, "/x", 10, "PUT has no other form" },
		{ VERB_GET, "GET", "Cookie", "a=b", "/x", 0, "would lose the header Cookie" },
		{ VERB_GET, "GET", "Authorization", "Basic eDp5", "/x", 0, "would lose the header Authorization" },
		{ VERB_POST, "POST", "Content-Type", "text/csv", "/x", 10, "Content-Type text/csv is none of" },
		{ VERB_POST, "POST", NULL, NULL, "/x", 10, "would add a Content-Type" },
		{ VERB_GET, "GET", NULL, NULL, "/a,b", 0, "0x2c" },
		{ VERB_GET, "GET", NULL, NULL, "/x", 10, "AT+HTTPACTION=0 sends no body" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct hdr_list h = { 0 };
		hdr_add(&h, "X-Big", 5, big, strlen(big));
		if (cases[k].name)
			hdr_add(&h, cases[k].name, strlen(cases[k].name), cases[k].value, strlen(cases[k].value));
		char *url = fmt("http://h%s", cases[k].path);
		char *raw = fmt("%s %s HTTP/1.1\r\nHost: h\r\nX-Big: %s\r\n\r\n0123456789", cases[k].method,
				cases[k].path, big);
		struct rig r;
		neoway_rig(&r, NULL, 0, 1, false);
		struct dialect_request rq = request(cases[k].verb, cases[k].method, url, raw, strlen(raw), &h);
		rq.body = (const unsigned char *)"0123456789";
		rq.body_len = cases[k].body_len;
		assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_TOO_LARGE);
		assert_int_equal(r.err.http_status, 413);
		assert_non_null(strstr(r.err.text, "2048-byte custom packet"));
		if (!strstr(r.err.text, cases[k].why))
			fail_msg("case %zu: '%s' lacks '%s'", k, r.err.text, cases[k].why);
		assert_int_equal(r.chat.commands_sent, 0);
		rig_done(&r);
		hdr_free(&h);
		free(url);
		free(raw);
	}
	free(big);
}

/* The host goes on the AT line unquoted: anything but a host name is
 * refused before any driver runs. */
static void test_unsafe_host(void **state)
{
	(void)state;
	static const char *const hosts[] = { "h,1", "h\r\nAT+CMGS=1", "h\"", "h:0", "h:99999", "h 1", "" };
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		struct http_req q = mkreq("GET", "/", "Host", hosts[i], NULL);
		struct prepared_request p;
		struct ath_error err;
		ath_error_clear(&err);
		assert_int_equal(request_prepare(&dialect_neoway, &q, NULL, &p, &err), ATH_E_BAD_REQUEST);
		assert_int_equal(err.http_status, 400);
		http_req_free(&q);
	}
	struct http_req q = mkreq("GET", "http:///", NULL);
	struct prepared_request p;
	struct ath_error err;
	assert_int_equal(request_prepare(&dialect_neoway, &q, NULL, &p, &err), ATH_E_BAD_REQUEST);
	http_req_free(&q);
}

/* ------------------------------------------------------------ https */

/* The S-twins' spellings (9.15, 9.22): the http ones with an S. */
static const struct spelling tls_spellings[] = {
	{ "n58", "\r\n+HTTPSRECV: \r\n", "\r\n+HTTPSRECV: %zu,", NULL, NULL },
	{ "compact", "\r\n+HTTPSRECV:\r\n", "\r\n+HTTPSRECV:%zu,", NULL, NULL },
};
static const char tls_link_closed[] = "\r\n+HTTPSCLOSED: HTTPS Link Closed\r\n";

static const char test_ca_pem[] = "-----BEGIN CERTIFICATE-----\n"
				  "MIIBdzCCAR2gAwIBAgIUZmFrZSByb290IGZvciB0ZXN0czAKBggqhkjOPQQDAjAA\n"
				  "-----END CERTIFICATE-----\n";
static const struct module_tls tls_with_ca = { test_ca_pem, sizeof test_ca_pem - 1, false };
static const struct module_tls tls_without_ca = { NULL, 0, true };

/* tls_setup's commands (9.14, 9.10): whatever https link a previous user
 * left, TLS 1.2, and authmode 0: the module has no roots to verify with. */
static void tls_setup_steps(struct script *sc)
{
	step(sc, fmt("AT+HTTPSCLOSE\r"), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPSCFG=\"sslversion\",3\r"), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPSCFG=\"authmode\",0\r"), fmt("\r\nOK\r\n"));
}

/* 9.11: url (the host), port, recvmode; 9.12: HTTPSSETUP. */
static void tls_params_steps(struct script *sc, const char *url, unsigned port, int recvmode)
{
	step(sc, fmt("AT+HTTPSPARA=url,%s\r", url), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPSPARA=port,%u\r", port), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+HTTPSPARA=recvmode,1\r"), fmt(recvmode ? "\r\nOK\r\n" : "\r\nERROR\r\n"));
}

/* 9.13, mode 99 (the manual's last example): the packet over TLS. */
static void tls_packet_steps(struct script *sc, const char *raw, size_t raw_len, struct buf *after)
{
	step(sc, fmt("AT+HTTPSACTION=99,%zu\r", raw_len), fmt("\r\n>"));
	char *expect = malloc(raw_len + 1);
	memcpy(expect, raw, raw_len);
	expect[raw_len] = '\0';
	stepn(sc, expect, raw_len, after->p, after->len);
	after->p = NULL;
	after->len = 0;
}

static void tls_answer(struct buf *out, const struct spelling *sp, int recvmode, const char *resp, size_t len)
{
	buf_adds(out, "\r\nOK\r\n");
	framed(out, sp, recvmode, resp, len, 1460, tls_link_closed);
}

static struct dialect_request tls_request(unsigned verb, const char *method, const char *url, const char *host,
					  unsigned port, const char *raw)
{
	struct dialect_request rq = request(verb, method, url, raw, strlen(raw), NULL);
	rq.tls = true;
	rq.host = host;
	rq.port = port;
	rq.verify_upstream = false;
	return rq;
}

/* With --module-ca: the module still cannot take the roots (no command in
 * the manual writes the file AT+HTTPSCFG="cacert" names), so the verdict
 * is unverified, naming why, and verification is off.  The script is the
 * whole conversation: no byte of the PEM goes to the module. */
static void test_tls_setup_with_ca(void **state)
{
	(void)state;
	struct script sc = { 0 };
	tls_setup_steps(&sc);
	for (unsigned seed = 0; seed < 8; seed++) {
		struct rig r;
		neoway_rig(&r, sc.s, sc.n, seed, false);
		r.io.tls = &tls_with_ca;
		struct tls_verdict v = { .verified = true };
		assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		assert_false(v.verified);
		assert_non_null(strstr(v.why, "no command to load a CA certificate"));
		assert_null(strstr(v.why, "no --module-ca given"));
		assert_int_equal(r.chat.commands_sent, 3);
		rig_done(&r);
	}
	script_free(&sc);
}

/* Without --module-ca: the same commands; the why says both. */
static void test_tls_setup_without_ca(void **state)
{
	(void)state;
	struct script sc = { 0 };
	tls_setup_steps(&sc);
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 3, false);
	r.io.tls = &tls_without_ca;
	struct tls_verdict v = { .verified = true };
	assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_false(v.verified);
	assert_non_null(strstr(v.why, "no --module-ca given"));
	assert_non_null(strstr(v.why, "cannot verify servers"));
	rig_done(&r);
	script_free(&sc);
}

/* Firmware without the S-twins (or one refusing a setting): each refusal
 * fails tls_setup with a 502 naming the command, never a verified
 * verdict, and no https request runs after it. */
static void test_tls_setup_refused(void **state)
{
	(void)state;
	static const char *const cmds[] = { "AT+HTTPSCLOSE", "AT+HTTPSCFG=\"sslversion\",3", "AT+HTTPSCFG=\"authmode\",0" };
	for (size_t k = 0; k < 3; k++) {
		for (int cme = 0; cme <= 1; cme++) {
			struct script sc = { 0 };
			for (size_t i = 0; i < k; i++)
				step(&sc, fmt("%s\r", cmds[i]), fmt("\r\nOK\r\n"));
			step(&sc, fmt("%s\r", cmds[k]), fmt(cme ? "\r\n+CME ERROR: 3\r\n" : "\r\nERROR\r\n"));
			struct rig r;
			neoway_rig(&r, sc.s, sc.n, (unsigned)k, false);
			r.io.tls = &tls_with_ca;
			struct tls_verdict v = { .verified = true };
			assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_E_MODULE);
			assert_int_equal(r.err.http_status, 502);
			assert_false(v.verified);
			if (!strstr(r.err.text, cmds[k]))
				fail_msg("'%s' does not name %s", r.err.text, cmds[k]);
			if (!cme)
				assert_non_null(strstr(r.err.text, "lacks the HTTPS commands"));
			/* Not configured: an https request is not sent. */
			struct dialect_request rq = tls_request(VERB_GET, "GET", "https://h/", "h", 443,
								"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
			assert_int_not_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
			assert_int_equal(r.got.heads, 0);
			rig_done(&r);
			script_free(&sc);
		}
	}
}

/* 9.13's GET example over the custom packet, and 9.15's recvmode 1 example
 * (the 206 from alipay): HTTPSPARA url/port/recvmode, HTTPSSETUP,
 * HTTPSACTION=99 with the packet, +HTTPSRECV, +HTTPSCLOSED.  The body
 * holds the http reports' words, which end no https response.  A second
 * request is two commands, and an http request after it uses the http
 * set from scratch. */
static void test_https_get(void **state)
{
	(void)state;
	static const char raw[] = "GET /login/ HTTP/1.1\r\nHost: support.cdmatech.com\r\nConnection: close\r\n\r\n";
	static const char head[] =
		"HTTP/1.1 200 OK\r\n"
		"Server: QUALCOMM\r\n"
		"X-Powered-By: Servlet/2.5 JSP/2.1\r\n"
		"Content-Type: text/html; charset=ISO-8859-1\r\n"
		"Date: Sat, 15 Feb 2014 05:58:54 GMT\r\n"
		"Content-Length: 7630\r\n"
		"Connection: close\r\n"
		"Set-Cookie: JSESSIONID=8V1dS1CpzlPcyNl2LzJZLQgDxWclpMJzP3FHZhVhpGb83GVM02sn!1955538012; path=/; HttpOnly\r\n"
		"\r\n";
	static const char http_raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char http_resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct buf body = { 0 }, resp = { 0 };
	manual_body(&body, 7630);
	buf_adds(&resp, head);
	buf_add(&resp, body.p, body.len);
	for (size_t v = 0; v < 2; v++) {
		for (int recvmode = 0; recvmode <= 1; recvmode++) {
			struct script sc = { 0 };
			struct buf after = { 0 };
			tls_setup_steps(&sc);
			tls_params_steps(&sc, "support.cdmatech.com", 443, recvmode);
			for (int i = 0; i < 2; i++) {
				step(&sc, fmt("AT+HTTPSSETUP\r"), fmt("\r\nOK\r\n"));
				tls_answer(&after, &tls_spellings[v], recvmode, resp.p, resp.len);
				tls_packet_steps(&sc, raw, strlen(raw), &after);
			}
			params_steps(&sc, "h", 80, 1);
			setup_step(&sc);
			answer(&after, &spellings[v], 1, http_resp, strlen(http_resp));
			packet_steps(&sc, http_raw, strlen(http_raw), &after);
			for (unsigned seed = 0; seed < 12; seed++) {
				struct rig r;
				neoway_rig(&r, sc.s, sc.n, seed, false);
				r.io.tls = &tls_without_ca;
				struct tls_verdict tv;
				assert_int_equal(r.d->ops->tls_setup(&r.io, &tv, &r.err), ATH_OK);
				struct dialect_request rq = tls_request(VERB_GET, "GET", "https://support.cdmatech.com/login/",
									"support.cdmatech.com", 443, raw);
				for (int i = 0; i < 2; i++) {
					unsigned long before = r.chat.commands_sent;
					assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
					assert_int_equal(r.chat.commands_sent - before, i == 0 ? 5 : 2);
					assert_int_equal(r.got.status, 200);
					assert_int_equal(r.got.length, 7630);
					assert_non_null(strstr(r.got.headers, "Server: QUALCOMM|"));
					assert_int_equal(r.got.body.len, 7630);
					assert_memory_equal(r.got.body.p, body.p, 7630);
				}
				struct dialect_request hq = request(VERB_GET, "GET", "http://h/", http_raw, strlen(http_raw), NULL);
				assert_int_equal(rig_exchange(&r, &hq), ATH_OK);
				assert_string_equal(r.got.body.p, "ok");
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
	free(body.p);
	free(resp.p);
}

/* A port of its own, and recvmode 0's close-delimited body: it ends at
 * +HTTPSCLOSED only, not at the http report's words inside it. */
static void test_https_port_and_close_delimited(void **state)
{
	(void)state;
	static const char raw[] = "GET /x HTTP/1.1\r\nHost: h:8443\r\nConnection: close\r\n\r\n";
	static const char body[] = "until\r\n+HTTPCLOSED: HTTP Link Closed\r\n+HTTPCLOSE: Link Closed\r\nthe end";
	struct buf resp = { 0 };
	buf_adds(&resp, "HTTP/1.0 200 OK\r\n\r\n");
	buf_adds(&resp, body);
	for (size_t v = 0; v < 2; v++) {
		struct script sc = { 0 };
		struct buf after = { 0 };
		tls_setup_steps(&sc);
		tls_params_steps(&sc, "h", 8443, 0);
		step(&sc, fmt("AT+HTTPSSETUP\r"), fmt("\r\nOK\r\n"));
		buf_adds(&after, "\r\nOK\r\n");
		framed(&after, &tls_spellings[v], 0, resp.p, resp.len, 0, tls_link_closed);
		tls_packet_steps(&sc, raw, strlen(raw), &after);
		for (unsigned seed = 0; seed < 20; seed++) {
			struct rig r;
			neoway_rig(&r, sc.s, sc.n, seed, false);
			r.io.tls = &tls_without_ca;
			struct tls_verdict tv;
			assert_int_equal(r.d->ops->tls_setup(&r.io, &tv, &r.err), ATH_OK);
			struct dialect_request rq = tls_request(VERB_GET, "GET", "https://h:8443/x", "h", 8443, raw);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_int_equal(r.got.length, -1);
			assert_string_equal(r.got.body.p, body);
			rig_done(&r);
		}
		script_free(&sc);
	}
	free(resp.p);
}

/* The module's TLS failures, each a 502 naming the command and what it
 * means; 9.12's "Set up an HTTPS connection / Failed" is a bare ERROR
 * (the handshake, a rejected certificate, DNS: the module does not say
 * which).  The next request goes through. */
static void test_https_failures(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	enum where { AT_SETUP, AT_PROMPT, AFTER_DATA, AFTER_OK };
	static const struct {
		enum where where;
		const char *reply;
		const char *text;
		bool link_maybe_open;
	} cases[] = {
		{ AT_SETUP, "\r\nERROR\r\n", "AT+HTTPSSETUP answered ERROR: TLS connection to h:443 failed", false },
		{ AT_SETUP, "\r\n+HTTPSSETUP: ERROR\r\n", "+HTTPSSETUP: ERROR: the module could not set up the TLS link", false },
		{ AT_PROMPT, "\r\nERROR\r\n", "AT+HTTPSACTION=99,46 answered ERROR", true },
		{ AFTER_DATA, "\r\nERROR\r\n", "AT+HTTPSACTION=99,46 answered ERROR", true },
		{ AFTER_OK, "\r\n+HTTPSSEND: ERROR\r\n", "could not send the request over TLS", true },
		{ AFTER_OK, "\r\n+HTTPSCLOSED: HTTPS Link Closed\r\n", "the module returned no response", false },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct script sc = { 0 };
		tls_setup_steps(&sc);
		tls_params_steps(&sc, "h", 443, 1);
		if (cases[k].where == AT_SETUP) {
			step(&sc, fmt("AT+HTTPSSETUP\r"), fmt("%s", cases[k].reply));
		} else {
			step(&sc, fmt("AT+HTTPSSETUP\r"), fmt("\r\nOK\r\n"));
			if (cases[k].where == AT_PROMPT) {
				step(&sc, fmt("AT+HTTPSACTION=99,%zu\r", strlen(raw)), fmt("%s", cases[k].reply));
			} else {
				struct buf after = { 0 };
				if (cases[k].where == AFTER_OK)
					buf_adds(&after, "\r\nOK\r\n");
				buf_adds(&after, cases[k].reply);
				tls_packet_steps(&sc, raw, strlen(raw), &after);
			}
		}
		struct buf after = { 0 };
		if (cases[k].link_maybe_open) {
			step(&sc, fmt("AT+HTTPSCLOSE\r"), fmt("\r\nOK\r\n\r\n+HTTPSCLOSE: HTTPS Link Closed\r\n"));
			tls_params_steps(&sc, "h", 443, 1);
		}
		step(&sc, fmt("AT+HTTPSSETUP\r"), fmt("\r\nOK\r\n"));
		tls_answer(&after, &tls_spellings[0], 1, resp, strlen(resp));
		tls_packet_steps(&sc, raw, strlen(raw), &after);
		for (unsigned seed = 0; seed < 10; seed++) {
			struct rig r;
			neoway_rig(&r, sc.s, sc.n, seed, false);
			r.io.tls = &tls_without_ca;
			struct tls_verdict tv;
			assert_int_equal(r.d->ops->tls_setup(&r.io, &tv, &r.err), ATH_OK);
			struct dialect_request rq = tls_request(VERB_GET, "GET", "https://h/", "h", 443, raw);
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
			assert_int_equal(r.err.http_status, 502);
			if (!strstr(r.err.text, cases[k].text))
				fail_msg("case %zu: '%s' lacks '%s'", k, r.err.text, cases[k].text);
			assert_int_equal(r.got.heads, 0);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, "ok");
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* A request that asks for a verified server never goes out on this
 * module, nor one before tls_setup configured the S-twins. */
static void test_https_verify_refused(void **state)
{
	(void)state;
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
	struct script sc = { 0 };
	tls_setup_steps(&sc);
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 5, false);
	r.io.tls = &tls_with_ca;
	struct dialect_request rq = tls_request(VERB_GET, "GET", "https://h/", "h", 443, raw);
	assert_int_not_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
	assert_int_equal(r.chat.commands_sent, 0);
	struct tls_verdict tv;
	assert_int_equal(r.d->ops->tls_setup(&r.io, &tv, &r.err), ATH_OK);
	rq.verify_upstream = true;
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(r.err.http_status, 502);
	assert_non_null(strstr(r.err.text, "cannot verify servers"));
	assert_int_equal(r.chat.commands_sent, 3);
	assert_int_equal(r.got.heads, 0);
	rig_done(&r);
	script_free(&sc);
}

/* Over the 2048-byte packet: AT+HTTPSACTION=0 with host/path in the url
 * parameter, which holds at most 512 bytes (9.11); past that, 413. */
static void test_https_fallback(void **state)
{
	(void)state;
	char *pad = filler(2100, 'p');
	char *raw = fmt("GET /f HTTP/1.1\r\nHost: h\r\nX-Pad: %s\r\n\r\n", pad);
	static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	struct hdr_list h = { 0 };
	hdr_add(&h, "X-Pad", 5, pad, strlen(pad));
	struct script sc = { 0 };
	struct buf after = { 0 };
	tls_setup_steps(&sc);
	tls_params_steps(&sc, "h/f", 443, 1);
	step(&sc, fmt("AT+HTTPSSETUP\r"), fmt("\r\nOK\r\n"));
	tls_answer(&after, &tls_spellings[0], 1, resp, strlen(resp));
	step_buf(&sc, fmt("AT+HTTPSACTION=0\r"), &after);
	struct rig r;
	neoway_rig(&r, sc.s, sc.n, 2, false);
	r.io.tls = &tls_without_ca;
	struct tls_verdict tv;
	assert_int_equal(r.d->ops->tls_setup(&r.io, &tv, &r.err), ATH_OK);
	struct dialect_request rq = tls_request(VERB_GET, "GET", "https://h/f", "h", 443, raw);
	rq.headers = &h;
	assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
	assert_string_equal(r.got.body.p, "ok");
	assert_string_equal(rig_field(&r, "X-Athttp-Dropped"), "X-Pad");
	/* "h" and 512 bytes of path: one over the 512. */
	char *path = filler(512, 'q');
	path[0] = '/';
	char *url = fmt("https://h%s", path);
	char *raw2 = fmt("GET %s HTTP/1.1\r\nHost: h\r\nX-Pad: %s\r\n\r\n", path, pad);
	struct dialect_request rq2 = tls_request(VERB_GET, "GET", url, "h", 443, raw2);
	rq2.headers = &h;
	unsigned long before = r.chat.commands_sent;
	assert_int_equal(r.d->ops->exchange(&r.io, &rq2, &r.sink, &r.err), ATH_E_TOO_LARGE);
	assert_int_equal(r.err.http_status, 413);
	assert_non_null(strstr(r.err.text, "over AT+HTTPSPARA's 512 bytes"));
	assert_int_equal(r.chat.commands_sent, before);
	rig_done(&r);
	script_free(&sc);
	hdr_free(&h);
	free(pad);
	free(raw);
	free(path);
	free(url);
	free(raw2);
}

/* A POST over the packet over https: AT+HTTPSACTION=2,<len>,<type> with
 * its data phase (9.13's <type> list), the path in the url parameter. */
static void test_https_fallback_post(void **state)
{
	(void)state;
	static const char json[] = "{\"a\":1}";
	char *ua = filler(2100, 'u');
	char *raw = fmt("POST /api HTTP/1.1\r\nHost: h\r\nUser-Agent: %s\r\nContent-Type: application/json\r\n"
			"Content-Length: 7\r\nConnection: close\r\n\r\n%s", ua, json);
	static const char resp[] = "HTTP/1.1 201 Created\r\nContent-Length: 4\r\n\r\nmade";
	struct hdr_list h = { 0 };
	hdr_add(&h, "User-Agent", 10, ua, strlen(ua));
	hdr_add(&h, "Content-Type", 12, "application/json", 16);
	struct script sc = { 0 };
	struct buf after = { 0 };
	tls_setup_steps(&sc);
	tls_params_steps(&sc, "h/api", 443, 1);
	step(&sc, fmt("AT+HTTPSSETUP\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPSACTION=2,7,2\r"), fmt("\r\n>"));
	tls_answer(&after, &tls_spellings[1], 1, resp, strlen(resp));
	step_buf(&sc, fmt("%s", json), &after);
	for (unsigned seed = 0; seed < 10; seed++) {
		struct rig r;
		neoway_rig(&r, sc.s, sc.n, seed, false);
		r.io.tls = &tls_without_ca;
		struct tls_verdict tv;
		assert_int_equal(r.d->ops->tls_setup(&r.io, &tv, &r.err), ATH_OK);
		struct dialect_request rq = tls_request(VERB_POST, "POST", "https://h/api", "h", 443, raw);
		rq.headers = &h;
		rq.body = (const unsigned char *)json;
		rq.body_len = 7;
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_int_equal(r.got.status, 201);
		assert_string_equal(r.got.body.p, "made");
		assert_string_equal(rig_field(&r, "X-Athttp-Dropped"), "User-Agent");
		rig_done(&r);
	}
	script_free(&sc);
	hdr_free(&h);
	free(ua);
	free(raw);
}

/* ------------------------------------------------------------ framing */

/* A 3000-byte body as pieces of 1460 (recvmode 1) or one stream (0),
 * edited by form: 0 clean with URCs between the pieces, 1 noise inside
 * the first piece, 2 the first piece one byte short, 3 one byte long,
 * 4 a stray line between the pieces. */
static enum ath_err framing_case(int recvmode, int form, unsigned seed, struct rig *r, char *body)
{
	static const char raw[] = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
	for (size_t i = 0; i < 3000; i++)
		body[i] = (char)('a' + (i * 7 + (i >> 5)) % 26);
	struct buf resp = { 0 };
	buf_adds(&resp, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n");
	size_t head = resp.len;
	buf_add(&resp, body, 3000);
	struct buf after = { 0 };
	buf_adds(&after, "\r\nOK\r\n");
	if (recvmode) {
		size_t cut = head + 1460;
		const char *noise = "\x13\xfe\r\nZ~n";
		size_t first = form == 2 ? cut - 1 : form == 3 ? cut + 1 : cut;
		buf_addf(&after, "\r\n+HTTPRECV: %zu,", cut);
		if (form == 1) {
			buf_add(&after, resp.p, 700);
			buf_adds(&after, noise);
			buf_add(&after, resp.p + 700, cut - 700);
		} else {
			buf_add(&after, resp.p, first);
		}
		if (form == 0)
			buf_adds(&after, "\r\n+CREG: 1\r\n\r\nRING\r\n");
		if (form == 4)
			buf_adds(&after, "\r\nnot a report\r\n");
		buf_addf(&after, "\r\n+HTTPRECV: %zu,", resp.len - first);
		buf_add(&after, resp.p + first, resp.len - first);
	} else {
		buf_adds(&after, "\r\n+HTTPRECV: \r\n");
		buf_add(&after, resp.p, 900);
		if (form == 1)
			buf_adds(&after, "\x13\xfe\r\nZ~n");
		buf_add(&after, resp.p + 900, resp.len - 900);
	}
	buf_adds(&after, "\r\n+HTTPCLOSED: HTTP Link Closed\r\n");
	struct script sc = { 0 };
	params_steps(&sc, "h", 80, recvmode);
	setup_step(&sc);
	packet_steps(&sc, raw, strlen(raw), &after);
	neoway_rig(r, sc.s, sc.n, seed, false);
	r->verbose = form == 0;
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/", raw, strlen(raw), NULL);
	enum ath_err e = rig_exchange(r, &rq);
	script_free(&sc);
	free(resp.p);
	return e;
}

static void test_framing_clean_with_urcs(void **state)
{
	(void)state;
	char body[3000];
	for (int recvmode = 0; recvmode <= 1; recvmode++)
		for (unsigned seed = 0; seed < 10; seed++) {
			struct rig r;
			assert_int_equal(framing_case(recvmode, 0, seed, &r, body), ATH_OK);
			assert_int_equal(r.got.body.len, 3000);
			assert_memory_equal(r.got.body.p, body, 3000);
			rig_done(&r);
		}
}

/* Noise, a piece short or long, a stray line: the exchange fails as a
 * framing error and the body never reaches the client whole. */
static void test_framing_errors(void **state)
{
	(void)state;
	char body[3000];
	for (int recvmode = 0; recvmode <= 1; recvmode++)
		for (int form = 1; form <= 4; form++) {
			if (!recvmode && form > 1)
				continue; /* no pieces in recvmode 0 */
			for (unsigned seed = 0; seed < 10; seed++) {
				struct rig r;
				assert_int_equal(framing_case(recvmode, form, seed, &r, body), ATH_E_PROTOCOL);
				assert_non_null(strstr(r.err.text, "framing"));
				assert_true(r.got.body.len < 3000);
				rig_free(&r);
			}
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_get),
		cmocka_unit_test(test_manual_custom_packet_head),
		cmocka_unit_test(test_manual_post),
		cmocka_unit_test(test_manual_recvmode1_example),
		cmocka_unit_test(test_manual_close),
		cmocka_unit_test(test_framed_bodies),
		cmocka_unit_test(test_close_delimited),
		cmocka_unit_test(test_report_glued),
		cmocka_unit_test(test_leftover_is_error),
		cmocka_unit_test(test_framing_clean_with_urcs),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_recvmode_tolerance),
		cmocka_unit_test(test_params_forgotten),
		cmocka_unit_test(test_server_keeps_link),
		cmocka_unit_test(test_teardown),
		cmocka_unit_test(test_no_response_timeout),
		cmocka_unit_test(test_client_gone),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_para_refused),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_packet_limit_exact),
		cmocka_unit_test(test_fallback_post),
		cmocka_unit_test(test_fallback_get_head),
		cmocka_unit_test(test_too_large),
		cmocka_unit_test(test_unsafe_host),
		cmocka_unit_test(test_tls_setup_with_ca),
		cmocka_unit_test(test_tls_setup_without_ca),
		cmocka_unit_test(test_tls_setup_refused),
		cmocka_unit_test(test_https_get),
		cmocka_unit_test(test_https_port_and_close_delimited),
		cmocka_unit_test(test_https_failures),
		cmocka_unit_test(test_https_verify_refused),
		cmocka_unit_test(test_https_fallback),
		cmocka_unit_test(test_https_fallback_post),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
