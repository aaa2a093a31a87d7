/*
 * The simcom driver against scripted module replies: the manual's examples
 * (000_5c96bf55d4e720da.txt chapter 3), the known firmware variants, the
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
		{ "ATE0\r", 0, "\r\nOK\r\n", 0 },
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
		{ "ATE0\r", 0, "\r\nOK\r\n", 0 },
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_get),
		cmocka_unit_test(test_manual_post),
		cmocka_unit_test(test_manual_head),
		cmocka_unit_test(test_a76xx_large_body_two_requests),
		cmocka_unit_test(test_chunked_zero_len),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_bringup_already_started),
		cmocka_unit_test(test_bringup_fails),
		cmocka_unit_test(test_client_gone_mid_body),
		cmocka_unit_test(test_head_refused_synthesizes),
		cmocka_unit_test(test_wrong_urc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
