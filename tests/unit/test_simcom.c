/*
 * The simcom driver against scripted module replies: the manual's examples
 * (the SIM7500/SIM7600/SIM7800 Series HTTP AT Command Manual, chapter 3), the known firmware variants, the
 * error codes, recovery, and the per-request command budget.  Every reply
 * arrives in random splits.
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

extern const struct dialect dialect_simcom;

/* The simcom driver on the script, the module's output cut into pieces of
 * 1 to 7 + seed % 300 bytes; a 5 s action timeout. */
static void simcom_rig(struct rig *r, const struct script_step *steps, size_t n, unsigned seed)
{
	rig_init_split(r, &dialect_simcom, steps, n, seed, 7 + seed % 300, false);
	r->io.action_timeout_ms = 5000;
}

/* Bring-up from power-on: echo is on, so each command comes back first. */
#define BRINGUP_STEPS \
	{ "AT\r", 0, "AT\r\r\nOK\r\n", 0 }, \
	{ "ATE0\r", 0, "ATE0\r\r\nOK\r\n", 0 }, \
	{ "AT+HTTPINIT\r", 0, "\r\nOK\r\n", 0 }

static struct dialect_request get_req(const char *url, const struct hdr_list *h)
{
	return (struct dialect_request){ .verb = VERB_GET, .method = "GET", .url = url, .headers = h };
}

/* 3.1.1: the manual's GET.  Its HTTPREAD prints the data, then OK, and no
 * "+HTTPREAD: 0"; real SIM7600 firmware prints OK first, the data, then the
 * terminator.  Both must work. */
static void test_manual_get(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
			   "Connection: close\r\nContent-Length: 22\r\n\r\n";
	const char *body = "<!DOCTYPE html>\r\n<p>hi";
	char *head_reply = fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head);
	char *read_forms[] = {
		fmt("\r\n+HTTPREAD: DATA,22\r\n%s\r\nOK\r\n", body),
		fmt("\r\nOK\r\n\r\n+HTTPREAD: DATA,22\r\n%s\r\n+HTTPREAD:0\r\n", body),
	};
	for (int form = 0; form < 2; form++) {
	char *read_reply = read_forms[form];
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://opinion.people.com.cn/GB/n1/2018/0815/c1003-30228758.html\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,22\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,22\r", 0, read_reply, 0 },
	};
	for (unsigned seed = 0; seed < 20; seed++) {
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], seed);
		struct hdr_list h = { 0 };
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = get_req("http://opinion.people.com.cn/GB/n1/2018/0815/c1003-30228758.html", &h);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
		assert_int_equal(r.got.heads, 1);
		assert_int_equal(r.got.status, 200);
		assert_int_equal(r.got.length, 22);
		assert_false(r.got.synthesized);
		assert_string_equal(rig_field(&r, "Content-Type"), "text/html");
		assert_int_equal(r.got.body.len, 22);
		assert_memory_equal(r.got.body.p, body, 22);
		rig_done(&r);
	}
	free(read_reply);
	}
	free(head_reply);
}

/* 3.1.2: POST with HTTPDATA's DOWNLOAD phase, a 500 passed through. */
static void test_manual_post(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Content-Length: 30\r\n\r\n";
	char *head_reply = fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head);
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://api.efxnow.com/DEMOWebServices2.8/Service.asmx/Echo?\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPPARA=\"CONTENT\",\"application/x-www-form-urlencoded\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPDATA=18,2003\r", 0, "\r\nDOWNLOAD\r\n", 0 },
		{ "Message=helloworld", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=1\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 1,500,30\r\n\r\n+HTTP_PEER_CLOSED\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,30\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: DATA,30\r\nRequest format is invalid: .\r\n\r\n+HTTPREAD:0\r\n", 0 },
	};
	for (unsigned seed = 0; seed < 20; seed++) {
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], seed);
		struct hdr_list h = { 0 };
		hdr_add(&h, "Content-Type", 12, "application/x-www-form-urlencoded", 33);
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = { .verb = VERB_POST, .method = "POST",
					      .url = "http://api.efxnow.com/DEMOWebServices2.8/Service.asmx/Echo?",
					      .headers = &h, .body = (const unsigned char *)"Message=helloworld", .body_len = 18 };
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
		assert_int_equal(r.got.status, 500);
		assert_int_equal(r.got.length, 30);
		assert_string_equal(r.got.body.p, "Request format is invalid: .\r\n");
		hdr_free(&h);
		rig_done(&r);
	}
	free(head_reply);
}

/* 3.1.3: HEAD: the URC's datalen is the head's length; no HTTPREAD. */
static void test_manual_head(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
			   "Connection: close\r\nContent-Length: 22505\r\n\r\n";
	char *action = fmt("\r\nOK\r\n\r\n+HTTPACTION: 2,200,%zu\r\n\r\n+HTTP_PEER_CLOSED\r\n", strlen(head));
	char *head_reply = fmt("\r\n+HTTPHEAD: DATA,%zu\r\n%s\r\nOK\r\n", strlen(head), head);
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://opinion.people.com.cn/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=2\r", 0, action, 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 3);
	struct hdr_list h = { 0 };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	struct dialect_request rq = { .verb = VERB_HEAD, .method = "HEAD", .url = "http://opinion.people.com.cn/", .headers = &h };
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
	assert_int_equal(r.got.length, 22505);
	assert_int_equal(r.got.body.len, 0);
	rig_done(&r);
	free(action);
	free(head_reply);
}

/* A76xx: "+HTTPREAD: <n>", "+HTTPREAD: 0"; a body over one read range is
 * read in consecutive ranges; parameters unchanged are not sent again. */
static void test_a76xx_large_body_two_requests(void **state)
{
	(void)state;
	size_t total = 65536 + 1000;
	char *body = malloc(total);
	for (size_t i = 0; i < total; i++)
		body[i] = (char)(i * 7 + (i >> 8)); /* every byte value, CR and LF among them */
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 66536\r\n\r\n";
	char *head_reply = fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head);
	/* Two reads: 65536 in 1 KB pieces, then 1000. */
	size_t cap = total + 200 * 64;
	char *read1 = malloc(cap), *read2 = malloc(4096);
	size_t o = (size_t)sprintf(read1, "\r\nOK\r\n");
	for (size_t off = 0; off < 65536; off += 1024) {
		o += (size_t)sprintf(read1 + o, "\r\n+HTTPREAD: 1024\r\n");
		memcpy(read1 + o, body + off, 1024);
		o += 1024;
	}
	o += (size_t)sprintf(read1 + o, "\r\n+HTTPREAD: 0\r\n");
	size_t o2 = (size_t)sprintf(read2, "\r\nOK\r\n\r\n+HTTPREAD: 1000\r\n");
	memcpy(read2 + o2, body + 65536, 1000);
	o2 += 1000;
	o2 += (size_t)sprintf(read2 + o2, "\r\n+HTTPREAD: 0\r\n");
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://h/big\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,66536\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,65536\r", 0, read1, o },
		{ "AT+HTTPREAD=65536,1000\r", 0, read2, o2 },
		/* second request: only URL, ACTION, HEAD, READ */
		{ "AT+HTTPPARA=\"URL\",\"http://h/small\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,2\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, "\r\n+HTTPHEAD: 38\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\r\nOK\r\n", 0 },
		{ "AT+HTTPREAD=0,2\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: 2\r\nok\r\n+HTTPREAD: 0\r\n", 0 },
	};
	for (unsigned seed = 0; seed < 5; seed++) {
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], seed);
		struct hdr_list h = { 0 };
		hdr_add(&h, "Accept", 6, "*/*", 3);
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = get_req("http://h/big", &h);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
		assert_int_equal(r.got.body.len, total);
		assert_memory_equal(r.got.body.p, body, total);
		rig_got_reset(&r.got);
		unsigned long before = r.chat.commands_sent;
		rq = get_req("http://h/small", &h);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
		assert_int_equal(r.chat.commands_sent - before, 4);
		assert_string_equal(r.got.body.p, "ok");
		hdr_free(&h);
		rig_done(&r);
	}
	free(body);
	free(read1);
	free(read2);
	free(head_reply);
}

/* A chunked origin response reported with datalen 0 is still read, until
 * a read comes back empty; the length goes out as unknown. */
static void test_chunked_zero_len(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
	char *head_reply = fmt("\r\n+HTTPHEAD: DATA,%zu\r\n%s\r\nOK\r\n", strlen(head), head);
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://h/c\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,0\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,65536\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: DATA,5\r\nhello\r\n+HTTPREAD:0\r\n", 0 },
		{ "AT+HTTPREAD=5,65536\r", 0, "\r\nOK\r\n\r\n+HTTPREAD:0\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 11);
	struct hdr_list h = { 0 };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	struct dialect_request rq = get_req("http://h/c", &h);
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
	assert_int_equal(r.got.length, -1);
	assert_string_equal(r.got.body.p, "hello");
	rig_done(&r);
	free(head_reply);
}

/* Status codes of chapters 4 and 5 become module errors with the right
 * HTTP status; the module stays in step (no recovery needed). */
static void test_error_codes(void **state)
{
	(void)state;
	static const struct { int code; int http; const char *meaning; } cases[] = {
		{ 713, 502, "Get DNS failed" }, { 705, 504, "Timeout" }, { 603, 502, "DNS Error" },
		{ 706, 502, "Receive/send socket data failed" }, { 718, 504, "Send data timeout" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *urc = fmt("\r\nOK\r\n\r\n+HTTPACTION: 0,%d,0\r\n", cases[i].code);
		struct script_step steps[] = {
			BRINGUP_STEPS,
			{ "AT+HTTPPARA=\"URL\",\"http://nosuch.invalid/\"\r", 0, "\r\nOK\r\n", 0 },
			{ "AT+HTTPACTION=0\r", 0, urc, 0 },
		};
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], (unsigned)i);
		struct hdr_list h = { 0 };
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = get_req("http://nosuch.invalid/", &h);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
		assert_int_equal(r.err.module_code, cases[i].code);
		assert_int_equal(r.err.http_status, cases[i].http);
		assert_string_equal(r.err.text, cases[i].meaning);
		assert_int_equal(r.got.heads, 0);
		rig_done(&r);
		free(urc);
	}
}

/* HTTPINIT answers ERROR when an earlier process left the service up:
 * HTTPTERM, then HTTPINIT again. */
static void test_bringup_already_started(void **state)
{
	(void)state;
	struct script_step steps[] = {
		{ "AT\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPINIT\r", 0, "\r\nERROR\r\n", 0 },
		{ "AT+HTTPTERM\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPINIT\r", 0, "\r\nOK\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 5);
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	rig_done(&r);
}

/* HTTPINIT failing for good (no PDP context) is reported, with its text. */
static void test_bringup_fails(void **state)
{
	(void)state;
	struct script_step steps[] = {
		{ "AT\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPINIT\r", 0, "\r\nERROR\r\n", 0 },
		{ "AT+HTTPTERM\r", 0, "\r\nERROR\r\n", 0 },
		{ "AT+HTTPINIT\r", 0, "\r\n+CME ERROR: 3\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 5);
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_E_MODULE);
	assert_int_equal(r.err.module_code, 3);
	assert_non_null(strstr(r.err.text, "HTTPINIT"));
	rig_done(&r);
}

/* The client leaving mid-body: the driver finishes the read in progress
 * (the module stays in step) and sends no further HTTPREAD. */
static void test_client_gone_mid_body(void **state)
{
	(void)state;
	size_t total = 70000;
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 70000\r\n\r\n";
	char *head_reply = fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head);
	size_t cap = 65536 + 64 * 40 + 64;
	char *read1 = malloc(cap);
	size_t o = (size_t)sprintf(read1, "\r\nOK\r\n");
	for (size_t off = 0; off < 65536; off += 1024) {
		o += (size_t)sprintf(read1 + o, "\r\n+HTTPREAD: DATA,1024\r\n");
		memset(read1 + o, 'z', 1024);
		o += 1024;
	}
	o += (size_t)sprintf(read1 + o, "\r\n+HTTPREAD:0\r\n");
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://h/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,70000\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,65536\r", 0, read1, o },
	};
	(void)total;
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 9);
	r.got.refuse_after = 3;
	struct hdr_list h = { 0 };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	struct dialect_request rq = get_req("http://h/", &h);
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_CLIENT_GONE);
	rig_done(&r);
	free(read1);
	free(head_reply);
}

/* HTTPHEAD refused: the status from the URC is passed on, marked made up. */
static void test_head_refused_synthesizes(void **state)
{
	(void)state;
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://h/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=3\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 3,404,3\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, "\r\nERROR\r\n", 0 },
		{ "AT+HTTPREAD=0,3\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: DATA,3\r\nnah\r\n+HTTPREAD:0\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 2);
	struct hdr_list h = { 0 };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	struct dialect_request rq = { .verb = VERB_DELETE, .method = "DELETE", .url = "http://h/", .headers = &h };
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
	assert_int_equal(r.got.status, 404);
	assert_true(r.got.synthesized);
	assert_string_equal(r.got.body.p, "nah");
	rig_done(&r);
}

/* A URC for another method is a protocol error, not a response. */
static void test_wrong_urc(void **state)
{
	(void)state;
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://h/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 1,200,5\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 2);
	struct hdr_list h = { 0 };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	struct dialect_request rq = get_req("http://h/", &h);
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_PROTOCOL);
	rig_done(&r);
}

/* A +HTTPACTION line that is not <method>,<statuscode>,<datalen> of
 * numbers (junk after one, one missing, one more promised, a status out
 * of range) is a protocol error, never a length read off its first digits. */
static void test_malformed_action_urc(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"0,200,5x", "0,200", "0,200,5,", "0,200,5 6", "0,4294967496,5", "0,200,-1", "0,,5",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char *urc = fmt("\r\nOK\r\n\r\n+HTTPACTION: %s\r\n", bad[i]);
		struct script_step steps[] = {
			BRINGUP_STEPS,
			{ "AT+HTTPPARA=\"URL\",\"http://h/\"\r", 0, "\r\nOK\r\n", 0 },
			{ "AT+HTTPACTION=0\r", 0, urc, 0 },
		};
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], (unsigned)i);
		struct hdr_list h = { 0 };
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = get_req("http://h/", &h);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_PROTOCOL);
		assert_non_null(strstr(r.err.text, "unexpected URC"));
		assert_int_equal(r.got.heads, 0);
		rig_done(&r);
		free(urc);
	}
}

/* ------------------------------------------------------------ https */

/* Two roots, as a --module-ca file holds them: CR/LF and all. */
static const char two_roots[] =
	"-----BEGIN CERTIFICATE-----\r\nMIIBfTCCASOgAwIBAgIUQ0EgT25l\r\n-----END CERTIFICATE-----\r\n"
	"-----BEGIN CERTIFICATE-----\nMIIBfTCCASOgAwIBAgIUQ0EgVHdv\n-----END CERTIFICATE-----\n";

#define SSL_OK(cmd) { cmd "\r", 0, "\r\nOK\r\n", 0 }

/* tls_setup with roots: the upload by AT+CCERTDOWN and its ">" phase
 * carrying the PEM bytes exactly, then SSL context 1: TLS 1.2, the file,
 * dates checked, SNI, and server authentication last. */
#define VERIFY_STEPS(download) \
	{ download, 0, "\r\n>", 0 }, \
	{ two_roots, 0, "\r\nOK\r\n", 0 }, \
	SSL_OK("AT+CSSLCFG=\"sslversion\",1,3"), \
	SSL_OK("AT+CSSLCFG=\"cacert\",1,\"athttp_ca.pem\""), \
	SSL_OK("AT+CSSLCFG=\"ignorelocaltime\",1,0"), \
	SSL_OK("AT+CSSLCFG=\"enableSNI\",1,1"), \
	SSL_OK("AT+CSSLCFG=\"authmode\",1,1")

/* Without roots the same context, verification off. */
#define PLAIN_STEPS \
	SSL_OK("AT+CSSLCFG=\"sslversion\",1,3"), \
	SSL_OK("AT+CSSLCFG=\"enableSNI\",1,1"), \
	SSL_OK("AT+CSSLCFG=\"authmode\",1,0")

static struct dialect_request https_get(const char *url, const char *host, const char *target,
					const struct hdr_list *h, bool verify)
{
	return (struct dialect_request){ .verb = VERB_GET, .method = "GET", .url = url, .tls = true,
					 .host = host, .port = 443, .target = target,
					 .verify_upstream = verify, .headers = h };
}

static void test_tls_setup_with_ca(void **state)
{
	(void)state;
	char *download = fmt("AT+CCERTDOWN=\"athttp_ca.pem\",%zu\r", strlen(two_roots));
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n";
	char *head_reply = fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head);
	struct script_step steps[] = {
		BRINGUP_STEPS,
		VERIFY_STEPS(download),
		/* the https GET names the context once after HTTPINIT */
		{ "AT+HTTPPARA=\"URL\",\"https://secure.test/a?b=1\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPPARA=\"SSLCFG\",1\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,5\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,5\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: DATA,5\r\nhello\r\n+HTTPREAD:0\r\n", 0 },
		/* a second one: no SSLCFG again */
		{ "AT+HTTPPARA=\"URL\",\"https://secure.test/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,5\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,5\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: DATA,5\r\nworld\r\n+HTTPREAD:0\r\n", 0 },
		/* tls_setup again with the same roots: no second upload */
		SSL_OK("AT+CSSLCFG=\"sslversion\",1,3"),
		SSL_OK("AT+CSSLCFG=\"cacert\",1,\"athttp_ca.pem\""),
		SSL_OK("AT+CSSLCFG=\"ignorelocaltime\",1,0"),
		SSL_OK("AT+CSSLCFG=\"enableSNI\",1,1"),
		SSL_OK("AT+CSSLCFG=\"authmode\",1,1"),
	};
	for (unsigned seed = 0; seed < 10; seed++) {
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], seed);
		struct module_tls mt = { .ca_pem = two_roots, .ca_len = strlen(two_roots) };
		r.io.tls = &mt;
		struct tls_verdict v = { .verified = false };
		snprintf(v.why, sizeof v.why, "stale");
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		assert_true(v.verified);
		assert_string_equal(v.why, "");
		struct hdr_list h = { 0 };
		struct dialect_request rq = https_get("https://secure.test/a?b=1", "secure.test", "/a?b=1", &h, true);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
		assert_string_equal(r.got.body.p, "hello");
		rig_got_reset(&r.got);
		unsigned long before = r.chat.commands_sent;
		rq = https_get("https://secure.test/", "secure.test", "/", &h, true);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
		assert_int_equal(r.chat.commands_sent - before, 4);
		assert_string_equal(r.got.body.p, "world");
		v.verified = false;
		assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		assert_true(v.verified);
		rig_done(&r);
	}
	free(download);
	free(head_reply);
}

/* Other roots after an upload are uploaded again. */
static void test_tls_setup_new_ca_uploaded(void **state)
{
	(void)state;
	static const char other[] = "-----BEGIN CERTIFICATE-----\nMIIBother\n-----END CERTIFICATE-----\n";
	char *download = fmt("AT+CCERTDOWN=\"athttp_ca.pem\",%zu\r", strlen(two_roots));
	char *download2 = fmt("AT+CCERTDOWN=\"athttp_ca.pem\",%zu\r", strlen(other));
	struct script_step steps[] = {
		BRINGUP_STEPS,
		VERIFY_STEPS(download),
		{ download2, 0, "\r\n>", 0 },
		{ other, 0, "\r\nOK\r\n", 0 },
		SSL_OK("AT+CSSLCFG=\"sslversion\",1,3"),
		SSL_OK("AT+CSSLCFG=\"cacert\",1,\"athttp_ca.pem\""),
		SSL_OK("AT+CSSLCFG=\"ignorelocaltime\",1,0"),
		SSL_OK("AT+CSSLCFG=\"enableSNI\",1,1"),
		SSL_OK("AT+CSSLCFG=\"authmode\",1,1"),
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 4);
	struct module_tls mt = { .ca_pem = two_roots, .ca_len = strlen(two_roots) };
	r.io.tls = &mt;
	struct tls_verdict v;
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	mt.ca_pem = other;
	mt.ca_len = strlen(other);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_true(v.verified);
	rig_done(&r);
	free(download);
	free(download2);
}

/* Without --module-ca: verification off (so --insecure-upstream can run),
 * the verdict says why; a request that wants verification is refused
 * before anything reaches the module; one that does not runs. */
static void test_tls_setup_without_ca(void **state)
{
	(void)state;
	struct script_step steps[] = {
		BRINGUP_STEPS,
		PLAIN_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"https://secure.test:8443/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPPARA=\"SSLCFG\",1\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,204,0\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, "\r\n+HTTPHEAD: 27\r\nHTTP/1.1 204 No Content\r\n\r\n\r\nOK\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 7);
	struct module_tls mt = { .ca_pem = NULL, .insecure = true };
	r.io.tls = &mt;
	struct tls_verdict v = { .verified = true };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_false(v.verified);
	assert_string_equal(v.why, "no --module-ca given");
	struct hdr_list h = { 0 };
	struct dialect_request rq = https_get("https://secure.test:8443/", "secure.test", "/", &h, true);
	rq.port = 8443;
	unsigned long before = r.chat.commands_sent;
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_CONFIG);
	assert_int_equal(r.chat.commands_sent, before);
	assert_int_equal(r.got.heads, 0);
	rq.verify_upstream = false;
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
	assert_int_equal(r.got.status, 204);
	rig_done(&r);
}

/* https before tls_setup ran is refused, nothing sent. */
static void test_https_without_setup(void **state)
{
	(void)state;
	struct script_step steps[] = { BRINGUP_STEPS };
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 1);
	struct module_tls mt = { 0 };
	r.io.tls = &mt;
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	struct hdr_list h = { 0 };
	struct dialect_request rq = https_get("https://secure.test/", "secure.test", "/", &h, false);
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_CONFIG);
	rig_done(&r);
}

/* Firmware without AT+CCERTDOWN (ERROR), or one that takes the command but
 * not the file: never verified; the module left with verification off,
 * and the verdict names the command. */
static void test_tls_setup_certdown_refused(void **state)
{
	(void)state;
	char *download = fmt("AT+CCERTDOWN=\"athttp_ca.pem\",%zu\r", strlen(two_roots));
	for (int form = 0; form < 3; form++) {
		struct script_step refused[] = {
			BRINGUP_STEPS,
			{ download, 0, "\r\nERROR\r\n", 0 },
			PLAIN_STEPS,
		};
		struct script_step cme[] = {
			BRINGUP_STEPS,
			{ download, 0, "\r\n+CME ERROR: 4\r\n", 0 },
			PLAIN_STEPS,
		};
		struct script_step after_data[] = {
			BRINGUP_STEPS,
			{ download, 0, "\r\n>", 0 },
			{ two_roots, 0, "\r\nERROR\r\n", 0 },
			PLAIN_STEPS,
		};
		struct script_step *steps = form == 0 ? refused : form == 1 ? cme : after_data;
		size_t n = form == 2 ? sizeof after_data / sizeof after_data[0] : sizeof refused / sizeof refused[0];
		struct rig r;
		simcom_rig(&r, steps, n, (unsigned)form);
		struct module_tls mt = { .ca_pem = two_roots, .ca_len = strlen(two_roots) };
		r.io.tls = &mt;
		struct tls_verdict v = { .verified = true };
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		assert_false(v.verified);
		assert_non_null(strstr(v.why, "refused AT+CCERTDOWN"));
		rig_done(&r);
	}
	free(download);
}

/* Roots larger than AT+CCERTDOWN takes are not sent at all. */
static void test_tls_setup_ca_too_big(void **state)
{
	(void)state;
	struct script_step steps[] = { BRINGUP_STEPS, PLAIN_STEPS };
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 2);
	char *big = filler(10241, 'A');
	struct module_tls mt = { .ca_pem = big, .ca_len = 10241 };
	r.io.tls = &mt;
	struct tls_verdict v = { .verified = true };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_false(v.verified);
	assert_non_null(strstr(v.why, "10241 bytes"));
	rig_done(&r);
	free(big);
}

/* Old firmware without "enableSNI": still verified (chain and name are
 * checked), the module simply sends no SNI. */
static void test_tls_setup_no_sni_switch(void **state)
{
	(void)state;
	char *download = fmt("AT+CCERTDOWN=\"athttp_ca.pem\",%zu\r", strlen(two_roots));
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ download, 0, "\r\n>", 0 },
		{ two_roots, 0, "\r\nOK\r\n", 0 },
		SSL_OK("AT+CSSLCFG=\"sslversion\",1,3"),
		SSL_OK("AT+CSSLCFG=\"cacert\",1,\"athttp_ca.pem\""),
		SSL_OK("AT+CSSLCFG=\"ignorelocaltime\",1,0"),
		{ "AT+CSSLCFG=\"enableSNI\",1,1\r", 0, "\r\nERROR\r\n", 0 },
		SSL_OK("AT+CSSLCFG=\"authmode\",1,1"),
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 6);
	struct module_tls mt = { .ca_pem = two_roots, .ca_len = strlen(two_roots) };
	r.io.tls = &mt;
	struct tls_verdict v;
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_true(v.verified);
	rig_done(&r);
	free(download);
}

/* A setting verification needs, refused: an error naming it, never a
 * verified verdict, and https refused afterwards. */
static void test_tls_setup_authmode_refused(void **state)
{
	(void)state;
	char *download = fmt("AT+CCERTDOWN=\"athttp_ca.pem\",%zu\r", strlen(two_roots));
	struct script_step steps[] = {
		BRINGUP_STEPS,
		{ download, 0, "\r\n>", 0 },
		{ two_roots, 0, "\r\nOK\r\n", 0 },
		SSL_OK("AT+CSSLCFG=\"sslversion\",1,3"),
		SSL_OK("AT+CSSLCFG=\"cacert\",1,\"athttp_ca.pem\""),
		SSL_OK("AT+CSSLCFG=\"ignorelocaltime\",1,0"),
		SSL_OK("AT+CSSLCFG=\"enableSNI\",1,1"),
		{ "AT+CSSLCFG=\"authmode\",1,1\r", 0, "\r\nERROR\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 8);
	struct module_tls mt = { .ca_pem = two_roots, .ca_len = strlen(two_roots) };
	r.io.tls = &mt;
	struct tls_verdict v = { .verified = true };
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_E_MODULE);
	assert_false(v.verified);
	assert_non_null(strstr(r.err.text, "authmode"));
	struct hdr_list h = { 0 };
	struct dialect_request rq = https_get("https://secure.test/", "secure.test", "/", &h, true);
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_CONFIG);
	rig_done(&r);
	free(download);
}

/* The module's TLS failures (chapter 5) answer 502 with the code and its
 * meaning. */
static void test_tls_error_codes(void **state)
{
	(void)state;
	static const struct { int code; const char *meaning; } cases[] = {
		{ 710, "start a new ssl session failed" },
		{ 715, "Handshake failed" },
		{ 719, "CA missed" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *urc = fmt("\r\nOK\r\n\r\n+HTTPACTION: 0,%d,0\r\n", cases[i].code);
		struct script_step steps[] = {
			BRINGUP_STEPS,
			PLAIN_STEPS,
			{ "AT+HTTPPARA=\"URL\",\"https://secure.test/\"\r", 0, "\r\nOK\r\n", 0 },
			{ "AT+HTTPPARA=\"SSLCFG\",1\r", 0, "\r\nOK\r\n", 0 },
			{ "AT+HTTPACTION=0\r", 0, urc, 0 },
		};
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], (unsigned)i);
		struct module_tls mt = { .insecure = true };
		r.io.tls = &mt;
		struct tls_verdict v;
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		struct hdr_list h = { 0 };
		struct dialect_request rq = https_get("https://secure.test/", "secure.test", "/", &h, false);
		assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
		assert_int_equal(r.err.module_code, cases[i].code);
		assert_int_equal(r.err.http_status, 502);
		assert_true(strncmp(r.err.text, cases[i].meaning, strlen(cases[i].meaning)) == 0);
		assert_int_equal(r.got.heads, 0);
		rig_done(&r);
		free(urc);
	}
}

/* http after tls_setup: exactly the commands it always had, no SSLCFG. */
static void test_http_unchanged_after_tls(void **state)
{
	(void)state;
	struct script_step steps[] = {
		BRINGUP_STEPS,
		PLAIN_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"http://h/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,200,2\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, "\r\n+HTTPHEAD: 38\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\r\nOK\r\n", 0 },
		{ "AT+HTTPREAD=0,2\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: DATA,2\r\nok\r\n+HTTPREAD:0\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 3);
	struct module_tls mt = { 0 };
	r.io.tls = &mt;
	struct tls_verdict v;
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	struct hdr_list h = { 0 };
	struct dialect_request rq = get_req("http://h/", &h);
	unsigned long before = r.chat.commands_sent;
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_OK);
	assert_int_equal(r.chat.commands_sent - before, 4);
	assert_string_equal(r.got.body.p, "ok");
	rig_done(&r);
}

/* After recovery (HTTPTERM, HTTPINIT) HTTPPARA="SSLCFG" is sent again: the
 * service forgot it. */
static void test_sslcfg_again_after_recover(void **state)
{
	(void)state;
	struct script_step steps[] = {
		BRINGUP_STEPS,
		PLAIN_STEPS,
		{ "AT+HTTPPARA=\"URL\",\"https://secure.test/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPPARA=\"SSLCFG\",1\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,715,0\r\n", 0 },
		{ "AT\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPTERM\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPINIT\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPPARA=\"URL\",\"https://secure.test/\"\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPPARA=\"SSLCFG\",1\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPACTION=0\r", 0, "\r\nOK\r\n\r\n+HTTPACTION: 0,715,0\r\n", 0 },
	};
	struct rig r;
	simcom_rig(&r, steps, sizeof steps / sizeof steps[0], 5);
	struct module_tls mt = { 0 };
	r.io.tls = &mt;
	struct tls_verdict v;
	assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	struct hdr_list h = { 0 };
	struct dialect_request rq = https_get("https://secure.test/", "secure.test", "/", &h, false);
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(dialect_simcom.ops->recover(&r.io, &r.err), ATH_OK);
	assert_int_equal(dialect_simcom.ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(r.err.module_code, 715);
	rig_done(&r);
}

/* The module holds the URL until HTTPTERM: the same URL again is the
 * action, head and read alone; another URL is set; after a recovery
 * (HTTPTERM, HTTPINIT) it is set again.  teardown stops the service
 * (HTTPTERM), and a URL after it is set again. */
static void test_url_held_and_teardown(void **state)
{
	(void)state;
	const char *small_head = "\r\n+HTTPHEAD: 38\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n\r\nOK\r\n";
	const char *small_read = "\r\nOK\r\n\r\n+HTTPREAD: 2\r\nok\r\n+HTTPREAD: 0\r\n";
	const char *action = "\r\nOK\r\n\r\n+HTTPACTION: 0,200,2\r\n";
#define SMALL_GET(url) \
		{ "AT+HTTPPARA=\"URL\",\"" url "\"\r", 0, "\r\nOK\r\n", 0 }, \
		{ "AT+HTTPACTION=0\r", 0, action, 0 }, \
		{ "AT+HTTPHEAD\r", 0, small_head, 0 }, \
		{ "AT+HTTPREAD=0,2\r", 0, small_read, 0 }
	struct script_step steps[] = {
		BRINGUP_STEPS,
		SMALL_GET("http://h/a"),
		/* the same URL: no HTTPPARA */
		{ "AT+HTTPACTION=0\r", 0, action, 0 },
		{ "AT+HTTPHEAD\r", 0, small_head, 0 },
		{ "AT+HTTPREAD=0,2\r", 0, small_read, 0 },
		SMALL_GET("http://h/b"),
		/* recover: the service started anew forgot it */
		{ "AT\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPTERM\r", 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPINIT\r", 0, "\r\nOK\r\n", 0 },
		SMALL_GET("http://h/b"),
		{ "AT+HTTPTERM\r", 0, "\r\nOK\r\n", 0 },
	};
#undef SMALL_GET
	const char *urls[] = { "http://h/a", "http://h/a", "http://h/b", NULL, "http://h/b" };
	const unsigned long cost[] = { 4, 3, 4, 0, 4 };
	for (unsigned seed = 0; seed < 5; seed++) {
		struct rig r;
		simcom_rig(&r, steps, sizeof steps / sizeof steps[0], seed);
		struct hdr_list h = { 0 };
		assert_int_equal(dialect_simcom.ops->bringup(&r.io, &r.err), ATH_OK);
		for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
			if (!urls[i]) {
				assert_int_equal(dialect_simcom.ops->recover(&r.io, &r.err), ATH_OK);
				continue;
			}
			unsigned long before = r.chat.commands_sent;
			struct dialect_request rq = get_req(urls[i], &h);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_int_equal(r.chat.commands_sent - before, cost[i]);
			assert_string_equal(r.got.body.p, "ok");
		}
		assert_non_null(dialect_simcom.ops->teardown);
		assert_int_equal(dialect_simcom.ops->teardown(&r.io, &r.err), ATH_OK);
		rig_done(&r);
	}
}

/* ------------------------------------------------------------ framing */

/* A 4000-byte GET whose one read answers reply (the head and the URC
 * clean), on r; returns the exchange's result. */
static enum ath_err framed_get(const char *reply, size_t rlen, unsigned seed, struct rig *r)
{
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 4000\r\n\r\n";
	struct script sc = { 0 };
	step(&sc, fmt("AT\r"), fmt("AT\r\r\nOK\r\n"));
	step(&sc, fmt("ATE0\r"), fmt("ATE0\r\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPINIT\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPPARA=\"URL\",\"http://h/f\"\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+HTTPACTION=0\r"), fmt("\r\nOK\r\n\r\n+HTTPACTION: 0,200,4000\r\n"));
	step(&sc, fmt("AT+HTTPHEAD\r"), fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head));
	char *rep = malloc(rlen);
	memcpy(rep, reply, rlen);
	stepn(&sc, fmt("AT+HTTPREAD=0,4000\r"), 0, rep, rlen);
	simcom_rig(r, sc.s, sc.n, seed);
	struct hdr_list h = { 0 };
	assert_int_equal(dialect_simcom.ops->bringup(&r->io, &r->err), ATH_OK);
	struct dialect_request rq = get_req("http://h/f", &h);
	enum ath_err e = dialect_simcom.ops->exchange(&r->io, &rq, &r->sink, &r->err);
	script_free(&sc);
	return e;
}

/* A body of letters (no line breaks: a cut shows as a stray line). */
static void body_bytes(char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (char)('a' + (i * 7 + (i >> 5)) % 26);
}

/* Framing that adds up: two pieces, a 27.007 URC and the manual's own
 * notification between them; the body byte-exact. */
static void test_framing_clean_with_urcs(void **state)
{
	(void)state;
	char body[4000];
	body_bytes(body, sizeof body);
	struct buf rep = { 0 };
	buf_adds(&rep, "\r\nOK\r\n\r\n+HTTPREAD: DATA,2500\r\n");
	buf_add(&rep, body, 2500);
	buf_adds(&rep, "\r\n\r\n+CREG: 1\r\n\r\nRING\r\n\r\n+HTTP_PEER_CLOSED\r\n\r\n+HTTPREAD: DATA,1500\r\n");
	buf_add(&rep, body + 2500, 1500);
	buf_adds(&rep, "\r\n+HTTPREAD:0\r\n");
	for (unsigned seed = 0; seed < 10; seed++) {
		struct rig r;
		assert_int_equal(framed_get(rep.p, rep.len, seed, &r), ATH_OK);
		assert_int_equal(r.got.body.len, 4000);
		assert_memory_equal(r.got.body.p, body, 4000);
		rig_done(&r);
	}
	free(rep.p);
}

/* A read whose framing does not add up: the exchange fails with a framing
 * error (the bridge then cuts the connection), whatever the splits. */
static void expect_framing_error(const struct buf *rep)
{
	for (unsigned seed = 0; seed < 10; seed++) {
		struct rig r;
		assert_int_equal(framed_get(rep->p, rep->len, seed, &r), ATH_E_PROTOCOL);
		assert_non_null(strstr(r.err.text, "framing"));
		assert_true(at_chat_framing_broken(&r.chat));
		rig_free(&r);
	}
}

/* Line noise inside a piece: the count takes the noise and leaves the
 * piece's tail where its line end should be. */
static void test_framing_noise_in_block(void **state)
{
	(void)state;
	char body[4000];
	body_bytes(body, sizeof body);
	struct buf rep = { 0 };
	buf_adds(&rep, "\r\nOK\r\n\r\n+HTTPREAD: DATA,4000\r\n");
	buf_add(&rep, body, 1000);
	buf_adds(&rep, "\x13\xff\r\nZ\x7f~noise");
	buf_add(&rep, body + 1000, 3000);
	buf_adds(&rep, "\r\n+HTTPREAD:0\r\n");
	expect_framing_error(&rep);
	free(rep.p);
}

/* A piece one byte short, one byte long, and one without its line end. */
static void test_framing_short_long_unterminated(void **state)
{
	(void)state;
	char body[4001];
	body_bytes(body, sizeof body);
	for (int form = 0; form < 3; form++) {
		struct buf rep = { 0 };
		buf_adds(&rep, "\r\nOK\r\n\r\n+HTTPREAD: DATA,4000\r\n");
		buf_add(&rep, body, form == 0 ? 3999 : form == 1 ? 4001 : 4000);
		buf_adds(&rep, form == 2 ? "+HTTPREAD:0\r\n" : "\r\n+HTTPREAD:0\r\n");
		expect_framing_error(&rep);
		free(rep.p);
	}
}

/* A line between the pieces that is neither the terminator nor a known
 * notification: displaced data. */
static void test_framing_stray_line(void **state)
{
	(void)state;
	char body[4000];
	body_bytes(body, sizeof body);
	struct buf rep = { 0 };
	buf_adds(&rep, "\r\nOK\r\n\r\n+HTTPREAD: DATA,2000\r\n");
	buf_add(&rep, body, 2000);
	buf_adds(&rep, "\r\nxq7 of the body\r\n\r\n+HTTPREAD: DATA,2000\r\n");
	buf_add(&rep, body + 2000, 2000);
	buf_adds(&rep, "\r\n+HTTPREAD:0\r\n");
	expect_framing_error(&rep);
	free(rep.p);
}

/* Pieces that add up to more than the read asked for. */
static void test_framing_pieces_over_read(void **state)
{
	(void)state;
	char body[4001];
	body_bytes(body, sizeof body);
	struct buf rep = { 0 };
	buf_adds(&rep, "\r\nOK\r\n\r\n+HTTPREAD: DATA,2000\r\n");
	buf_add(&rep, body, 2000);
	buf_adds(&rep, "\r\n+HTTPREAD: DATA,2001\r\n");
	buf_add(&rep, body + 2000, 2001);
	buf_adds(&rep, "\r\n+HTTPREAD:0\r\n");
	expect_framing_error(&rep);
	free(rep.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_get),
		cmocka_unit_test(test_manual_post),
		cmocka_unit_test(test_manual_head),
		cmocka_unit_test(test_a76xx_large_body_two_requests),
		cmocka_unit_test(test_url_held_and_teardown),
		cmocka_unit_test(test_chunked_zero_len),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_bringup_already_started),
		cmocka_unit_test(test_bringup_fails),
		cmocka_unit_test(test_client_gone_mid_body),
		cmocka_unit_test(test_head_refused_synthesizes),
		cmocka_unit_test(test_wrong_urc),
		cmocka_unit_test(test_malformed_action_urc),
		cmocka_unit_test(test_framing_clean_with_urcs),
		cmocka_unit_test(test_framing_noise_in_block),
		cmocka_unit_test(test_framing_short_long_unterminated),
		cmocka_unit_test(test_framing_stray_line),
		cmocka_unit_test(test_framing_pieces_over_read),
		cmocka_unit_test(test_tls_setup_with_ca),
		cmocka_unit_test(test_tls_setup_new_ca_uploaded),
		cmocka_unit_test(test_tls_setup_without_ca),
		cmocka_unit_test(test_https_without_setup),
		cmocka_unit_test(test_tls_setup_certdown_refused),
		cmocka_unit_test(test_tls_setup_ca_too_big),
		cmocka_unit_test(test_tls_setup_no_sni_switch),
		cmocka_unit_test(test_tls_setup_authmode_refused),
		cmocka_unit_test(test_tls_error_codes),
		cmocka_unit_test(test_http_unchanged_after_tls),
		cmocka_unit_test(test_sslcfg_again_after_recover),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
