/*
 * The onemo driver against scripted module replies: every example of the
 * OneMO HTTP/HTTPS user manual V6.0.7 the driver's flows meet
 * (AT+MHTTPCREATE with "+MHTTPCREATE: 0" and ":0", AT+MHTTPHEADER,
 * AT+MHTTPCONTENT's data mode, AT+MHTTPREQUEST GET/POST/PUT with the
 * header and content URCs the manual prints, the URC split after its
 * prefix, the manual's typo +MHTTPPURC, "err", +CME ERROR 651/652/653 and
 * the other codes of chapter 5), the exact bytes of every command, and the
 * replies fed in random splits.  https: the OneMO SSL user manual's
 * AT+MSSLCERTWR and AT+MSSLCFG as tls_setup and bring-up use them, the
 * HTTP manual's 4.2 example, and the TLS error codes.
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

extern const struct dialect dialect_onemo;

/* How firmware prints the URC's prefix: as the manual's format line, with
 * no blank, in the manual's typo, and split from the rest of the line (as
 * the manual's own examples print the content URC). */
static const char *const prefixes[] = {
	"+MHTTPURC: ", "+MHTTPURC:", "+MHTTPPURC: ", "+MHTTPURC:\r\n", "+MHTTPPURC:\r\n",
};
#define N_PREFIXES (sizeof prefixes / sizeof prefixes[0])

/* ------------------------------------------------------------ URCs */

/* +MHTTPURC: "header",<id>,<code>,<header_len>,<head> then CRLF. */
static void urc_header(struct buf *b, const char *pfx, int id, int code, const char *head)
{
	buf_addf(b, "\r\n%s\"header\",%d,%d,%zu,", pfx, id, code, strlen(head));
	buf_adds(b, head);
	buf_adds(b, "\r\n");
}

/* +MHTTPURC: "content",<id>,<content_len>,<sum_len>,<cur_len>,<data> CRLF. */
static void urc_content(struct buf *b, const char *pfx, int id, long long total, long long sum, const void *data,
			size_t len)
{
	buf_addf(b, "\r\n%s\"content\",%d,%lld,%lld,%zu,", pfx, id, total, sum, len);
	buf_add(b, data, len);
	buf_adds(b, "\r\n");
}

/* A whole body in pieces of at most piece bytes; total is content_len
 * (0: chunked or close-delimited, ended by a piece of cur_len 0). */
static void urc_body(struct buf *b, const char *pfx, int id, long long total, const void *data, size_t len,
		     size_t piece)
{
	for (size_t off = 0; off < len; off += piece) {
		size_t k = len - off < piece ? len - off : piece;
		urc_content(b, pfx, id, total, (long long)(off + k), (const char *)data + off, k);
	}
	if (total == 0)
		urc_content(b, pfx, id, 0, (long long)len, "", 0);
}

/* ------------------------------------------------------------ the rig */

/* The onemo driver on the script, as a module that goes silent where the
 * script ends (a response that stops runs into the action timeout):
 * timeout_ms, or 0 for 30 s.  Every head is the origin's. */
static void onemo_rig(struct rig *r, const struct script_step *steps, size_t n, unsigned seed, int timeout_ms)
{
	rig_init(r, &dialect_onemo, steps, n, seed, true);
	r->got.real_head = true;
	if (timeout_ms)
		r->io.action_timeout_ms = timeout_ms;
}

/* ------------------------------------------------------------ scripts */

/* Power-on: echo on, so AT and ATE0 come back; CMEE; the model
 * (AT+CGMM answers model, NULL: ERROR); the instances the module has
 * (3.1: AT+MHTTPCFG="chunked" lists one line per created instance,
 * listed: their ids, -1 ended; NULL: the query refused) and only those
 * deleted (3.7). */
static void bringup_head_steps(struct script *sc, const char *model)
{
	step(sc, fmt("AT\r"), fmt("AT\r\r\nOK\r\n"));
	step(sc, fmt("ATE0\r"), fmt("ATE0\r\r\nOK\r\n"));
	step(sc, fmt("AT+CMEE=1\r"), fmt("\r\nOK\r\n"));
	step(sc, fmt("AT+CGMM\r"), model ? fmt("\r\n%s\r\n\r\nOK\r\n", model) : fmt("\r\nERROR\r\n"));
}

static void bringup_model_steps(struct script *sc, const char *model, const int *listed)
{
	bringup_head_steps(sc, model);
	if (!listed) {
		step(sc, fmt("AT+MHTTPCFG=\"chunked\"\r"), fmt("\r\nERROR\r\n"));
	} else {
		struct buf reply = { 0 };
		for (const int *id = listed; *id >= 0; id++)
			buf_addf(&reply, "\r\n+MHTTPCFG: \"chunked\",%d,0", *id);
		buf_adds(&reply, reply.len ? "\r\n\r\nOK\r\n" : "\r\nOK\r\n");
		step_buf(sc, fmt("AT+MHTTPCFG=\"chunked\"\r"), &reply);
		for (const int *id = listed; *id >= 0; id++)
			step(sc, fmt("AT+MHTTPDEL=%d\r", *id), fmt("\r\nOK\r\n"));
	}
	/* The guard context: verification with no roots (the driver's
	 * answer to the HTTP manual's note on redirects to https, 3.5). */
	step(sc, fmt("AT+MSSLCFG=\"auth\",2,1\r"), fmt("\r\nOK\r\n"));
}

/* An ML307G with instance 1 left by an earlier program. */
static void bringup_steps(struct script *sc)
{
	static const int one[] = { 1, -1 };
	bringup_model_steps(sc, "ML307G-DL", one);
}

/* Whether the script brought the guard context up: then every http
 * instance is bound to it. */
static bool guarded(const struct script *sc)
{
	for (size_t i = 0; i < sc->n; i++)
		if (sc->s[i].expect && !strcmp(sc->s[i].expect, "AT+MSSLCFG=\"auth\",2,1\r"))
			return true;
	return false;
}

/* 3.2: the manual prints both "+MHTTPCREATE: 0" (3.2) and ":0" (4.1). */
static void create_step(struct script *sc, const char *origin, int id, bool blank)
{
	step(sc, fmt("AT+MHTTPCREATE=\"http://%s\"\r", origin),
	     fmt("\r\n+MHTTPCREATE:%s%d\r\n\r\nOK\r\n", blank ? " " : "", id));
	if (guarded(sc))
		step(sc, fmt("AT+MHTTPCFG=\"ssl\",%d,0,2\r", id), fmt("\r\nOK\r\n"));
}

/* 3.3, command mode: the field in quotes with its exact length. */
static void header_step(struct script *sc, int id, int eof, const char *field)
{
	step(sc, fmt("AT+MHTTPHEADER=%d,%d,%zu,\"%s\"\r", id, eof, strlen(field), field), fmt("\r\nOK\r\n"));
}

/* 3.3/3.4, data mode: "<cmd>=<id>,<eof>,<len>", '>', the bytes, OK. */
static void data_steps(struct script *sc, const char *cmd, int id, int eof, const char *data, size_t len)
{
	step(sc, fmt("%s=%d,%d,%zu\r", cmd, id, eof, len), fmt("\r\n>"));
	char *expect = malloc(len + 1);
	memcpy(expect, data, len);
	expect[len] = '\0';
	stepn(sc, expect, len, fmt("\r\nOK\r\n"), 0);
}

/* 3.5: OK, then what the module prints (taken). */
static void request_step(struct script *sc, int id, int method, const char *path, struct buf *urcs)
{
	struct buf reply = { 0 };
	buf_adds(&reply, "\r\nOK\r\n");
	if (urcs->len)
		buf_add(&reply, urcs->p, urcs->len);
	free(urcs->p);
	urcs->p = NULL;
	urcs->len = 0;
	step_buf(sc, fmt("AT+MHTTPREQUEST=%d,%d,0,\"%s\"\r", id, method, path), &reply);
}

static struct dialect_request request(unsigned verb, const char *method, const char *url,
				      const struct hdr_list *h)
{
	struct dialect_request rq = { .verb = verb, .method = method, .url = url, .headers = h };
	unit_split_url(&rq);
	return rq;
}

/* ------------------------------------------------------------ the manual's examples */

/* 3.5's GET example (also 3.10's and 4.2's): the 225-byte head of an
 * origin with "Connection: keep-alive" and the 145-byte body (the JSON
 * shown is 144 bytes: the origin ends it with a LF, which the printout
 * shows as its line break). */
static const char manual_get_head[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.18.0\r\n"
	"Date: Fri, 23 Jul 2021 09:59:35 GMT\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 145\r\n"
	"Connection: keep-alive\r\n"
	"Access-Control-Allow-Origin: *\r\n"
	"Access-Control-Allow-Credentials: true\r\n";
/* 4.1's GET: the same with "Connection: close"; the manual prints 225 for
 * it too, but its bytes are 220 (its POST example, with the same fields,
 * says 220). */
static const char manual_get_close_head[] =
	"HTTP/1.1 200 OK\r\n"
	"Server: nginx/1.18.0\r\n"
	"Date: Mon, 26 Jul 2021 06:18:46 GMT\r\n"
	"Content-Type: application/json\r\n"
	"Content-Length: 145\r\n"
	"Connection: close\r\n"
	"Access-Control-Allow-Origin: *\r\n"
	"Access-Control-Allow-Credentials: true\r\n";
static const char manual_get_json[] =
	"{\"args\":{},\"headers\":{\"Connection\":\"close\",\"Content-Length\":\"0\",\"Host\":\"localhost:6000\"},"
	"\"origin\":\"127.0.0.1\",\"url\":\"http://localhost:6000/get\"}\n";

static void test_manual_get(void **state)
{
	(void)state;
	assert_int_equal(strlen(manual_get_head), 225);
	assert_int_equal(strlen(manual_get_close_head), 220);
	assert_int_equal(strlen(manual_get_json), 145);
	for (size_t v = 0; v < N_PREFIXES; v++) {
		struct script sc = { 0 };
		struct buf urcs = { 0 };
		bringup_steps(&sc);
		create_step(&sc, "120.27.12.119:10080", 0, v % 2 == 0);
		urc_header(&urcs, prefixes[v], 0, 200, manual_get_head);
		urc_content(&urcs, prefixes[v], 0, 145, 145, manual_get_json, 145);
		request_step(&sc, 0, 1, "/get", &urcs);
		/* The same server again: its instance is kept. */
		urc_header(&urcs, prefixes[v], 0, 200, manual_get_close_head);
		urc_content(&urcs, prefixes[(v + 3) % N_PREFIXES], 0, 145, 145, manual_get_json, 145);
		request_step(&sc, 0, 1, "/get", &urcs);
		for (unsigned seed = 0; seed < 12; seed++) {
			struct rig r;
			onemo_rig(&r, sc.s, sc.n, seed, 0);
			assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
			struct dialect_request rq = request(VERB_GET, "GET", "http://120.27.12.119:10080/get", NULL);
			for (int i = 0; i < 2; i++) {
				unsigned long before = r.chat.commands_sent;
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.chat.commands_sent - before, i == 0 ? 3 : 1);
				assert_int_equal(r.got.heads, 1);
				assert_int_equal(r.got.status, 200);
				assert_int_equal(r.got.length, 145);
				assert_non_null(strstr(r.got.headers, "Server: nginx/1.18.0|"));
				assert_non_null(strstr(r.got.headers, "Access-Control-Allow-Credentials: true|"));
				assert_int_equal(r.got.body.len, 145);
				assert_memory_equal(r.got.body.p, manual_get_json, 145);
			}
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* 3.3's example header, "api-key: FC9B69m4prHH2j7ljBbA=hHlbMI=", as the
 * one field of a request: eof 0, its exact length (the manual sends 0,
 * "not checked"; the driver gives the length so the module checks it). */
static void test_manual_header(void **state)
{
	(void)state;
	static const char field[] = "api-key: FC9B69m4prHH2j7ljBbA=hHlbMI=";
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "120.27.12.119:10080", 0, false);
	header_step(&sc, 0, 0, field);
	assert_non_null(strstr(sc.s[sc.n - 1].expect, "AT+MHTTPHEADER=0,0,37,\"api-key: "));
	urc_header(&urcs, prefixes[0], 0, 200, manual_get_head);
	urc_content(&urcs, prefixes[3], 0, 145, 145, manual_get_json, 145);
	request_step(&sc, 0, 1, "/get", &urcs);
	struct hdr_list h = { 0 };
	hdr_add(&h, "api-key", 7, "FC9B69m4prHH2j7ljBbA=hHlbMI=", 28);
	for (unsigned seed = 0; seed < 20; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		struct dialect_request rq = request(VERB_GET, "GET", "http://120.27.12.119:10080/get", &h);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_int_equal(r.got.status, 200);
		assert_memory_equal(r.got.body.p, manual_get_json, 145);
		rig_done(&r);
	}
	hdr_free(&h);
	script_free(&sc);
}

/* 4.1's POST and PUT: the manual's 70-byte content (its "\r" are two
 * characters, as the echoed "Content-Length":"70" shows) in 3.4's data
 * mode, and the answers: the 220-byte heads and the 278- and 277-byte
 * bodies (the JSON printed, its PDF-mangled quotes restored, and the LF). */
static const char manual_content[] = "{\"id\":\"speed1\"\\r,\"tags\":[\"mobile\"],\"unit\":\"m/s\"\\r,\"unit_symbol\":\"m/s\"}";

static void test_manual_post_put(void **state)
{
	(void)state;
	static const struct {
		unsigned verb;
		const char *method;
		int number;
		const char *path;
		const char *date;
	} forms[] = {
		{ VERB_POST, "POST", 2, "/post", "Mon, 26 Jul 2021 06:25:23 GMT" },
		{ VERB_PUT, "PUT", 3, "/put", "Mon, 26 Jul 2021 06:26:42 GMT" },
	};
	assert_int_equal(strlen(manual_content), 70);
	for (size_t f = 0; f < 2; f++) {
		char *json = fmt("{\"args\":{},\"data\":\"{\\\"id\\\":\\\"speed1\\\"\\\\r,\\\"tags\\\":[\\\"mobile\\\"],"
				 "\\\"unit\\\":\\\"m/s\\\"\\\\r,\\\"unit_symbol\\\":\\\"m/s\\\"}\",\"files\":{},\"form\":{},"
				 "\"headers\":{\"Connection\":\"close\",\"Content-Length\":\"70\",\"Host\":\"localhost:6000\"},"
				 "\"json\":null,\"origin\":\"127.0.0.1\",\"url\":\"http://localhost:6000%s\"}\n",
				 forms[f].path);
		size_t jlen = strlen(json);
		assert_int_equal(jlen, f == 0 ? 278 : 277);
		char *head = fmt("HTTP/1.1 200 OK\r\nServer: nginx/1.18.0\r\nDate: %s\r\nContent-Type: application/json\r\n"
				 "Content-Length: %zu\r\nConnection: close\r\nAccess-Control-Allow-Origin: *\r\n"
				 "Access-Control-Allow-Credentials: true\r\n",
				 forms[f].date, jlen);
		assert_int_equal(strlen(head), 220);
		for (size_t v = 0; v < N_PREFIXES; v++) {
			struct script sc = { 0 };
			struct buf urcs = { 0 };
			create_step(&sc, "120.27.12.119:10080", 0, false);
			data_steps(&sc, "AT+MHTTPCONTENT", 0, 0, manual_content, 70);
			urc_header(&urcs, prefixes[v], 0, 200, head);
			urc_content(&urcs, prefixes[v], 0, (long long)jlen, (long long)jlen, json, jlen);
			request_step(&sc, 0, forms[f].number, forms[f].path, &urcs);
			for (unsigned seed = 0; seed < 12; seed++) {
				struct rig r;
				onemo_rig(&r, sc.s, sc.n, seed, 0);
				char *url = fmt("http://120.27.12.119:10080%s", forms[f].path);
				struct dialect_request rq = request(forms[f].verb, forms[f].method, url, NULL);
				rq.body = (const unsigned char *)manual_content;
				rq.body_len = 70;
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.got.status, 200);
				assert_int_equal(r.got.length, (long long)jlen);
				assert_string_equal(r.got.body.p, json);
				free(url);
				rig_done(&r);
			}
			script_free(&sc);
		}
		free(json);
		free(head);
	}
}

/* ------------------------------------------------------------ command bytes */

/* A GET with a client's headers, byte for byte: CREATE with the port
 * spelled out, one HEADER per field (eof 1, 1, 0), the path and query in
 * quotes; a 3000-byte body holding the module's own words comes in
 * 1024-byte pieces and reaches the client byte for byte. */
static void test_get_command_bytes(void **state)
{
	(void)state;
	struct buf body = { 0 };
	static const char words[] = "\r\n+MHTTPURC: \"err\",0,5\r\n+MHTTPURC:\r\n\"content\",0,1,1,1,x\r\nOK\r\n\0";
	for (size_t i = 0; body.len < 3000; i++) {
		if (i % 300 == 0) {
			buf_add(&body, words, sizeof words - 1 < 3000 - body.len ? sizeof words - 1 : 3000 - body.len);
			continue;
		}
		char c = (char)(i * 13);
		buf_add(&body, &c, 1);
	}
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "example.com:80", 2, true);
	header_step(&sc, 2, 1, "User-Agent: curl/8.1.2");
	header_step(&sc, 2, 1, "Accept: */*");
	header_step(&sc, 2, 0, "X-Tag: a, b; c=d");
	urc_header(&urcs, prefixes[0], 2, 200, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nContent-Type: application/octet-stream\r\n");
	urc_body(&urcs, prefixes[3], 2, 3000, body.p, body.len, 1024);
	request_step(&sc, 2, 1, "/path/a.bin?q=1&r=x%20y", &urcs);
	assert_string_equal(sc.s[0].expect, "AT+MHTTPCREATE=\"http://example.com:80\"\r");
	assert_string_equal(sc.s[1].expect, "AT+MHTTPHEADER=2,1,22,\"User-Agent: curl/8.1.2\"\r");
	assert_string_equal(sc.s[2].expect, "AT+MHTTPHEADER=2,1,11,\"Accept: */*\"\r");
	assert_string_equal(sc.s[4].expect, "AT+MHTTPREQUEST=2,1,0,\"/path/a.bin?q=1&r=x%20y\"\r");
	struct hdr_list h = { 0 };
	hdr_add(&h, "User-Agent", 10, "curl/8.1.2", 10);
	hdr_add(&h, "Accept", 6, "*/*", 3);
	hdr_add(&h, "X-Tag", 5, "a, b; c=d", 9);
	for (unsigned seed = 0; seed < 25; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		struct dialect_request rq = request(VERB_GET, "GET", "http://example.com/path/a.bin?q=1&r=x%20y", &h);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_int_equal(r.chat.commands_sent, 5);
		assert_int_equal(r.got.length, 3000);
		assert_int_equal(r.got.body.len, 3000);
		assert_memory_equal(r.got.body.p, body.p, 3000);
		rig_done(&r);
	}
	hdr_free(&h);
	free(body.p);
	script_free(&sc);
}

/* A POST of 10 KB: three AT+MHTTPCONTENT data phases of 4096, 4096 and
 * 2048 bytes with eof 1, 1, 0, after the Content-Type header. */
static void test_post_10k(void **state)
{
	(void)state;
	size_t n = 10240;
	char *body = malloc(n);
	for (size_t i = 0; i < n; i++)
		body[i] = (char)(i * 31 + 7);
	memcpy(body + 100, "\r\nOK\r\n+CME ERROR: 651\r\n>", 24);
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "h:8080", 0, true);
	header_step(&sc, 0, 0, "Content-Type: application/octet-stream");
	data_steps(&sc, "AT+MHTTPCONTENT", 0, 1, body, 4096);
	data_steps(&sc, "AT+MHTTPCONTENT", 0, 1, body + 4096, 4096);
	data_steps(&sc, "AT+MHTTPCONTENT", 0, 0, body + 8192, 2048);
	urc_header(&urcs, prefixes[1], 0, 201, "HTTP/1.1 201 Created\r\nContent-Length: 7\r\nLocation: /up/1\r\n");
	urc_content(&urcs, prefixes[1], 0, 7, 7, "created", 7);
	request_step(&sc, 0, 2, "/up", &urcs);
	assert_string_equal(sc.s[2].expect, "AT+MHTTPCONTENT=0,1,4096\r");
	assert_string_equal(sc.s[4].expect, "AT+MHTTPCONTENT=0,1,4096\r");
	assert_string_equal(sc.s[6].expect, "AT+MHTTPCONTENT=0,0,2048\r");
	struct hdr_list h = { 0 };
	hdr_add(&h, "Content-Type", 12, "application/octet-stream", 24);
	for (unsigned seed = 0; seed < 20; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		struct dialect_request rq = request(VERB_POST, "POST", "http://h:8080/up", &h);
		rq.body = (const unsigned char *)body;
		rq.body_len = n;
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_int_equal(r.got.status, 201);
		assert_non_null(strstr(r.got.headers, "Location: /up/1|"));
		assert_string_equal(r.got.body.p, "created");
		rig_done(&r);
	}
	hdr_free(&h);
	free(body);
	script_free(&sc);
}

/* Values the quotes cannot hold go in the data phase (the manual: "string
 * parameters cannot contain quotes; use data mode"): a quote, a backslash,
 * a byte outside printable ASCII, a tab, a field over the 1024 bytes of
 * command mode; the eof order holds across both modes. */
static void test_header_data_mode(void **state)
{
	(void)state;
	char *long_value = malloc(4096);
	memset(long_value, 'v', 4096);
	long_value[4096 - strlen("X-Long: ")] = '\0';
	static const struct {
		const char *name, *value;
		bool data;
	} fields[] = {
		{ "X-Quote", "say \"hi\"", true },
		{ "Accept", "*/*", false },
		{ "X-Back", "C:\\dir", true },
		{ "X-Utf8", "caf\xc3\xa9", true },
		{ "X-Tab", "a\tb", true },
		{ "Cookie", "a=b; c=d", false },
		{ "X-1024", NULL, false },  /* exactly 1024 bytes */
		{ "X-1025", NULL, true },
	};
	size_t nf = sizeof fields / sizeof fields[0];
	struct hdr_list h = { 0 };
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "h:80", 1, true);
	for (size_t i = 0; i < nf; i++) {
		char *value;
		if (fields[i].value)
			value = fmt("%s", fields[i].value);
		else if (strcmp(fields[i].name, "X-Long") == 0)
			value = fmt("%s", long_value);
		else
			value = fmt("%*s", strcmp(fields[i].name, "X-1024") == 0 ? 1024 - 8 : 1025 - 8, "w");
		hdr_add(&h, fields[i].name, strlen(fields[i].name), value, strlen(value));
		char *field = fmt("%s: %s", fields[i].name, value);
		int eof = i + 1 < nf ? 1 : 0;
		if (fields[i].data)
			data_steps(&sc, "AT+MHTTPHEADER", 1, eof, field, strlen(field));
		else
			header_step(&sc, 1, eof, field);
		free(field);
		free(value);
	}
	urc_header(&urcs, prefixes[0], 1, 204, "HTTP/1.1 204 No Content\r\n");
	request_step(&sc, 1, 4, "/", &urcs);
	assert_string_equal(sc.s[1].expect, "AT+MHTTPHEADER=1,1,17\r");
	assert_string_equal(sc.s[2].expect, "X-Quote: say \"hi\"");
	for (unsigned seed = 0; seed < 15; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		struct dialect_request rq = request(VERB_DELETE, "DELETE", "http://h/", &h);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_int_equal(r.got.status, 204);
		assert_int_equal(r.got.body.len, 0);
		rig_done(&r);
	}
	hdr_free(&h);

	/* The fields with their CRLFs fill the module's 4096 bytes exactly:
	 * sent (both in data mode); one byte more: 431, nothing sent. */
	for (size_t over = 0; over <= 1; over++) {
		char *va = fmt("%2000s", "a");
		char *vb = fmt("%*s", (int)(4096 - 2 * (5 + 2) - 2000 + over), "b");
		hdr_add(&h, "X-A", 3, va, strlen(va));
		hdr_add(&h, "X-B", 3, vb, strlen(vb));
		struct rig rr;
		struct script sc2 = { 0 };
		struct buf urcs2 = { 0 };
		/* The total is ML307G's (note 15): bring-up names the model. */
		bringup_steps(&sc2);
		if (!over) {
			create_step(&sc2, "h:80", 1, true);
			char *fa = fmt("X-A: %s", va), *fb = fmt("X-B: %s", vb);
			data_steps(&sc2, "AT+MHTTPHEADER", 1, 1, fa, strlen(fa));
			data_steps(&sc2, "AT+MHTTPHEADER", 1, 0, fb, strlen(fb));
			free(fa);
			free(fb);
			urc_header(&urcs2, prefixes[0], 1, 204, "HTTP/1.1 204 No Content\r\n");
			request_step(&sc2, 1, 1, "/", &urcs2);
		}
		onemo_rig(&rr, sc2.s, sc2.n, 3, 0);
		assert_int_equal(rr.d->ops->bringup(&rr.io, &rr.err), ATH_OK);
		unsigned long sent = rr.chat.commands_sent;
		struct dialect_request rq2 = request(VERB_GET, "GET", "http://h/", &h);
		if (!over) {
			assert_int_equal(rig_exchange(&rr, &rq2), ATH_OK);
			assert_int_equal(rr.got.status, 204);
		} else {
			assert_int_equal(rr.d->ops->exchange(&rr.io, &rq2, &rr.sink, &rr.err), ATH_E_UNSUPPORTED);
			assert_int_equal(rr.err.http_status, 431);
			assert_non_null(strstr(rr.err.text, "4096"));
			assert_non_null(strstr(rr.err.text, "ML307G"));
			assert_int_equal(rr.chat.commands_sent, sent);
		}
		rig_done(&rr);
		script_free(&sc2);
		free(va);
		free(vb);
		hdr_free(&h);
	}

	/* One byte over AT+MHTTPHEADER's 4096: 501, and nothing sent. */
	long_value[4096 - strlen("X-Long: ")] = 'v';
	long_value[4095] = '\0';
	hdr_add(&h, "X-Longer", 8, long_value, strlen(long_value));
	struct rig r;
	onemo_rig(&r, NULL, 0, 1, 0);
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/", &h);
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_UNSUPPORTED);
	assert_int_equal(r.err.http_status, 501);
	assert_non_null(strstr(r.err.text, "X-Longer"));
	assert_int_equal(r.chat.commands_sent, 0);
	rig_done(&r);
	hdr_free(&h);
	free(long_value);
	script_free(&sc);
}

/* ------------------------------------------------------------ instances */

static void small_answer(struct buf *urcs, int id, const char *text)
{
	char *head = fmt("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n", strlen(text));
	urc_header(urcs, prefixes[0], id, 200, head);
	urc_content(urcs, prefixes[3], id, (long long)strlen(text), (long long)strlen(text), text, strlen(text));
	free(head);
}

/* Five servers in a row: four instances, then the least recently used
 * goes (AT+MHTTPDEL) for the fifth; a server seen again keeps its
 * instance and refreshes it. */
static void test_five_origins(void **state)
{
	(void)state;
	static const struct {
		const char *host;
		bool create;
		int del;         /* -1: none */
		int id;
	} seq[] = {
		{ "a", true, -1, 0 }, { "b", true, -1, 1 }, { "c", true, -1, 2 }, { "d", true, -1, 3 },
		{ "a", false, -1, 0 },  /* a is now the most recent: b is the oldest */
		{ "e", true, 1, 1 },    /* b goes */
		{ "c", false, -1, 2 },
		{ "b", true, 3, 3 },    /* d is the oldest now */
		{ "e", false, -1, 1 },
	};
	struct script sc = { 0 };
	bringup_steps(&sc);
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		if (seq[i].del >= 0)
			step(&sc, fmt("AT+MHTTPDEL=%d\r", seq[i].del), fmt("\r\nOK\r\n"));
		if (seq[i].create) {
			char origin[16];
			snprintf(origin, sizeof origin, "%s:80", seq[i].host);
			create_step(&sc, origin, seq[i].id, true);
		}
		struct buf urcs = { 0 };
		small_answer(&urcs, seq[i].id, seq[i].host);
		request_step(&sc, seq[i].id, 1, "/", &urcs);
	}
	for (unsigned seed = 0; seed < 8; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
			char *url = fmt("http://%s/", seq[i].host);
			struct dialect_request rq = request(VERB_GET, "GET", url, NULL);
			unsigned long before = r.chat.commands_sent;
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, seq[i].host);
			/* A created instance: CREATE and its "ssl" binding. */
			assert_int_equal(r.chat.commands_sent - before, 1 + 2 * seq[i].create + (seq[i].del >= 0));
			free(url);
		}
		rig_done(&r);
	}
	script_free(&sc);
}

/* +CME ERROR: 651 (no free client) on a module with fewer slots (MN316A,
 * MN319: two): the least recently used goes and CREATE is tried once
 * more; with no instance known, every id is deleted first; a second 651
 * is a 502 naming the code. */
static void test_no_free_client(void **state)
{
	(void)state;
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "a:80", 0, true);
	small_answer(&urcs, 0, "one");
	request_step(&sc, 0, 1, "/", &urcs);
	create_step(&sc, "b:80", 1, true);
	small_answer(&urcs, 1, "two");
	request_step(&sc, 1, 1, "/", &urcs);
	/* c: the module has two slots. */
	step(&sc, fmt("AT+MHTTPCREATE=\"http://c:80\"\r"), fmt("\r\n+CME ERROR: 651\r\n"));
	step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
	create_step(&sc, "c:80", 0, false);
	small_answer(&urcs, 0, "three");
	request_step(&sc, 0, 1, "/", &urcs);
	/* d: 651 twice. */
	step(&sc, fmt("AT+MHTTPCREATE=\"http://d:80\"\r"), fmt("\r\n+CME ERROR: 651\r\n"));
	step(&sc, fmt("AT+MHTTPDEL=1\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+MHTTPCREATE=\"http://d:80\"\r"), fmt("\r\n+CME ERROR: 651\r\n"));
	for (unsigned seed = 0; seed < 12; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		static const char *const hosts[] = { "a", "b", "c" }, *const bodies[] = { "one", "two", "three" };
		for (int i = 0; i < 3; i++) {
			char *url = fmt("http://%s/", hosts[i]);
			struct dialect_request rq = request(VERB_GET, "GET", url, NULL);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, bodies[i]);
			free(url);
		}
		struct dialect_request rq = request(VERB_GET, "GET", "http://d/", NULL);
		assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
		assert_int_equal(r.err.http_status, 502);
		assert_int_equal(r.err.module_code, 651);
		assert_non_null(strstr(r.err.text, "+CME ERROR: 651 (no free client)"));
		rig_done(&r);
	}
	script_free(&sc);

	/* No instance known (another program's hold the slots): the
	 * module is asked which it has, and those go. */
	struct script sc2 = { 0 };
	step(&sc2, fmt("AT+MHTTPCREATE=\"http://e:80\"\r"), fmt("\r\n+CME ERROR: 651\r\n"));
	step(&sc2, fmt("AT+MHTTPCFG=\"chunked\"\r"),
	     fmt("\r\n+MHTTPCFG: \"chunked\",0,0\r\n+MHTTPCFG:\"chunked\",1,1\r\n\r\nOK\r\n"));
	for (int id = 0; id < 2; id++)
		step(&sc2, fmt("AT+MHTTPDEL=%d\r", id), fmt("\r\nOK\r\n"));
	create_step(&sc2, "e:80", 0, true);
	small_answer(&urcs, 0, "five");
	request_step(&sc2, 0, 1, "/", &urcs);
	for (unsigned seed = 0; seed < 12; seed++) {
		struct rig r;
		onemo_rig(&r, sc2.s, sc2.n, seed, 0);
		struct dialect_request rq = request(VERB_GET, "GET", "http://e/", NULL);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "five");
		rig_done(&r);
	}
	script_free(&sc2);
}

/* +CME ERROR: 652 (client not created) on a kept instance: the module
 * lost it (restarted); it is created again, once.  653 (client busy) on
 * the request: a 502, and the instance is deleted so nothing set on it
 * goes with a later request. */
static void test_lost_and_busy_instance(void **state)
{
	(void)state;
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "h:80", 0, true);
	small_answer(&urcs, 0, "first");
	request_step(&sc, 0, 1, "/", &urcs);
	step(&sc, fmt("AT+MHTTPHEADER=0,0,11,\"Accept: */*\"\r"), fmt("\r\n+CME ERROR: 652\r\n"));
	create_step(&sc, "h:80", 0, false);
	header_step(&sc, 0, 0, "Accept: */*");
	small_answer(&urcs, 0, "again");
	request_step(&sc, 0, 1, "/", &urcs);
	header_step(&sc, 0, 0, "Accept: */*");
	step(&sc, fmt("AT+MHTTPREQUEST=0,1,0,\"/\"\r"), fmt("\r\n+CME ERROR: 653\r\n"));
	step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
	create_step(&sc, "h:80", 3, false);
	header_step(&sc, 3, 0, "Accept: */*");
	small_answer(&urcs, 3, "fresh");
	request_step(&sc, 3, 1, "/", &urcs);
	struct hdr_list h = { 0 };
	hdr_add(&h, "Accept", 6, "*/*", 3);
	for (unsigned seed = 0; seed < 12; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		struct dialect_request rq0 = request(VERB_GET, "GET", "http://h/", NULL);
		assert_int_equal(rig_exchange(&r, &rq0), ATH_OK);
		assert_string_equal(r.got.body.p, "first");
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/", &h);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "again");
		assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
		assert_int_equal(r.err.http_status, 502);
		assert_int_equal(r.err.module_code, 653);
		assert_non_null(strstr(r.err.text, "AT+MHTTPREQUEST failed: +CME ERROR: 653 (client busy)"));
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "fresh");
		rig_done(&r);
	}
	hdr_free(&h);
	script_free(&sc);
}

/* Chapter 5's codes on each command: a 502 naming the code and what it
 * means; nothing reaches the client's head. */
static void test_cme_codes(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *meaning;
		int where;      /* 0 CREATE, 1 HEADER, 2 CONTENT prompt, 3 REQUEST */
	} cases[] = {
		{ 3, "operation not allowed", 3 },   { 23, "memory allocation failed", 2 },
		{ 50, "parameter error", 1 },         { 650, "unknown error", 0 },
		{ 652, "client not created", 0 },    { 654, "URL parse failed", 0 },
		{ 655, "SSL not enabled", 3 },       { 656, "connection failed", 3 },
		{ 657, "data send failed", 2 },      { 658, "open file failed", 3 },
		{ 999, "unknown code", 3 },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct script sc = { 0 };
		char *cme = fmt("\r\n+CME ERROR: %d\r\n", cases[k].code);
		if (cases[k].where == 0) {
			step(&sc, fmt("AT+MHTTPCREATE=\"http://h:80\"\r"), cme);
		} else {
			create_step(&sc, "h:80", 0, true);
			if (cases[k].where == 1) {
				step(&sc, fmt("AT+MHTTPHEADER=0,0,8,\"X-A: one\"\r"), cme);
			} else {
				header_step(&sc, 0, 0, "X-A: one");
				if (cases[k].where == 2) {
					step(&sc, fmt("AT+MHTTPCONTENT=0,0,3\r"), cme);
				} else {
					data_steps(&sc, "AT+MHTTPCONTENT", 0, 0, "abc", 3);
					step(&sc, fmt("AT+MHTTPREQUEST=0,2,0,\"/x\"\r"), cme);
				}
			}
			/* What was set on the instance must not linger. */
			step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
		}
		struct hdr_list h = { 0 };
		hdr_add(&h, "X-A", 3, "one", 3);
		for (unsigned seed = 0; seed < 6; seed++) {
			struct rig r;
			onemo_rig(&r, sc.s, sc.n, seed, 0);
			struct dialect_request rq = request(VERB_POST, "POST", "http://h/x", &h);
			rq.body = (const unsigned char *)"abc";
			rq.body_len = 3;
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
			assert_int_equal(r.err.http_status, 502);
			assert_int_equal(r.err.module_code, cases[k].code);
			char *want = fmt("+CME ERROR: %d (%s)", cases[k].code, cases[k].meaning);
			if (!strstr(r.err.text, want))
				fail_msg("case %zu: '%s' lacks '%s'", k, r.err.text, want);
			free(want);
			assert_int_equal(r.got.heads, 0);
			rig_done(&r);
		}
		hdr_free(&h);
		script_free(&sc);
	}
}

/* ------------------------------------------------------------ responses */

/* Bodies without Content-Length (chunked at the origin, or ending with the
 * connection): content_len 0, the end a piece of cur_len 0; the client is
 * told -1 (unknown). */
static void test_unknown_length_bodies(void **state)
{
	(void)state;
	static const char *const heads[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n",
		"HTTP/1.0 200 OK\r\nServer: old\r\n",
	};
	static const char body[] = "hello, chunked world: +MHTTPURC: \"content\",0,0,5,0,\r\n";
	for (size_t k = 0; k < 2; k++) {
		for (size_t v = 0; v < N_PREFIXES; v++) {
			struct script sc = { 0 };
			struct buf urcs = { 0 };
			create_step(&sc, "h:80", 0, true);
			urc_header(&urcs, prefixes[v], 0, 200, heads[k]);
			urc_body(&urcs, prefixes[(v + 1) % N_PREFIXES], 0, 0, body, strlen(body), 7);
			request_step(&sc, 0, 1, "/", &urcs);
			for (unsigned seed = 0; seed < 10; seed++) {
				struct rig r;
				onemo_rig(&r, sc.s, sc.n, seed, 0);
				struct dialect_request rq = request(VERB_GET, "GET", "http://h/", NULL);
				assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
				assert_int_equal(r.got.length, -1);
				assert_string_equal(r.got.body.p, body);
				rig_done(&r);
			}
			script_free(&sc);
		}
	}
}

/* No content URC for a response without a body: HEAD (the origin's
 * Content-Length is passed on), 204, 304, Content-Length: 0; a "ind"
 * report without its line end before the head does not upset anything. */
static void test_no_body_responses(void **state)
{
	(void)state;
	static const struct {
		unsigned verb;
		const char *method;
		int number;
		const char *head;
		long long length;
	} cases[] = {
		{ VERB_HEAD, "HEAD", 5, manual_get_head, 145 },
		{ VERB_GET, "GET", 1, "HTTP/1.1 204 No Content\r\nX-A: 1\r\n", 0 },
		{ VERB_GET, "GET", 1, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 99\r\n", 0 },
		{ VERB_DELETE, "DELETE", 4, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n", 0 },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct script sc = { 0 };
		struct buf urcs = { 0 };
		create_step(&sc, "h:80", 0, true);
		buf_adds(&urcs, "\r\n+MHTTPURC: \"ind\",0");
		urc_header(&urcs, prefixes[k % N_PREFIXES], 0, 200, cases[k].head);
		request_step(&sc, 0, cases[k].number, "/r", &urcs);
		/* The next request is answered at once: nothing was left over. */
		small_answer(&urcs, 0, "next");
		request_step(&sc, 0, 1, "/r", &urcs);
		for (unsigned seed = 0; seed < 12; seed++) {
			struct rig r;
			onemo_rig(&r, sc.s, sc.n, seed, 0);
			struct dialect_request rq = request(cases[k].verb, cases[k].method, "http://h/r", NULL);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_int_equal(r.got.heads, 1);
			assert_int_equal(r.got.length, cases[k].length);
			assert_int_equal(r.got.body.len, 0);
			rq = request(VERB_GET, "GET", "http://h/r", NULL);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, "next");
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* ------------------------------------------------------------ failures */

/* Every "err" code of 3.10 before the head: a 502 (504 for the two
 * timeouts) naming the code and its meaning, and the instance deleted. */
static void test_err_urc(void **state)
{
	(void)state;
	static const struct {
		int code;
		int status;
		const char *meaning;
	} cases[] = {
		{ 1, 502, "DNS resolution failed" },
		{ 2, 502, "connection to the server failed" },
		{ 3, 504, "connection to the server timed out" },
		{ 4, 502, "SSL handshake failed" },
		{ 5, 502, "connection closed abnormally" },
		{ 6, 504, "response from the server timed out" },
		{ 7, 502, "received data could not be parsed" },
		{ 8, 502, "cache space insufficient" },
		{ 9, 502, "data lost" },
		{ 10, 502, "file write failed" },
		{ 255, 502, "unknown error" },
		{ 42, 502, "unknown error code" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct script sc = { 0 };
		struct buf urcs = { 0 };
		create_step(&sc, "h:80", 0, true);
		buf_addf(&urcs, "\r\n%s\"err\",0,%d\r\n", prefixes[k % N_PREFIXES], cases[k].code);
		request_step(&sc, 0, 1, "/", &urcs);
		step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
		for (unsigned seed = 0; seed < 6; seed++) {
			struct rig r;
			onemo_rig(&r, sc.s, sc.n, seed, 0);
			struct dialect_request rq = request(VERB_GET, "GET", "http://h/", NULL);
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
			assert_int_equal(r.err.http_status, cases[k].status);
			assert_int_equal(r.err.module_code, cases[k].code);
			char *want = fmt("\"err\" %d: %s", cases[k].code, cases[k].meaning);
			if (!strstr(r.err.text, want))
				fail_msg("case %zu: '%s' lacks '%s'", k, r.err.text, want);
			free(want);
			assert_int_equal(r.got.heads, 0);
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* "err" after the head, mid-body: the exchange fails after the head (the
 * client's connection is cut, the body incomplete); the next request
 * creates a fresh instance. */
static void test_err_mid_body(void **state)
{
	(void)state;
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "h:80", 0, true);
	urc_header(&urcs, prefixes[0], 0, 200, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n");
	urc_content(&urcs, prefixes[3], 0, 10, 4, "0123", 4);
	buf_adds(&urcs, "\r\n+MHTTPURC: \"err\",0,5\r\n");
	request_step(&sc, 0, 1, "/", &urcs);
	step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
	create_step(&sc, "h:80", 0, true);
	small_answer(&urcs, 0, "ok");
	request_step(&sc, 0, 1, "/", &urcs);
	for (unsigned seed = 0; seed < 15; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/", NULL);
		assert_int_equal(rig_exchange(&r, &rq), ATH_E_MODULE);
		assert_int_equal(r.got.heads, 1);
		assert_int_equal(r.got.length, 10);
		assert_string_equal(r.got.body.p, "0123");
		assert_non_null(strstr(r.err.text, "connection closed abnormally (the response was cut short)"));
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "ok");
		rig_done(&r);
	}
	script_free(&sc);
}

/* No answer from the origin within the action timeout (counted from the
 * module's last byte): 504; recover terminates the busy instance, ignoring
 * its ERROR, and brings the module up again (forgetting every instance).
 * Also a body that stops half-way. */
static void test_timeout(void **state)
{
	(void)state;
	for (int mid = 0; mid <= 1; mid++) {
		struct script sc = { 0 };
		struct buf urcs = { 0 };
		create_step(&sc, "h:80", 2, true);
		if (mid) {
			urc_header(&urcs, prefixes[0], 2, 200, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n");
			urc_content(&urcs, prefixes[0], 2, 10, 4, "0123", 4);
		}
		request_step(&sc, 2, 1, "/slow", &urcs);
		step(&sc, fmt("AT+MHTTPTERM=2\r"), fmt(mid ? "\r\nOK\r\n" : "\r\nERROR\r\n"));
		bringup_steps(&sc);
		create_step(&sc, "h:80", 0, true);
		small_answer(&urcs, 0, "ok");
		request_step(&sc, 0, 1, "/slow", &urcs);
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, 3, 400);
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/slow", NULL);
		assert_int_equal(rig_exchange(&r, &rq), ATH_E_TIMEOUT);
		assert_int_equal(r.err.http_status, 504);
		assert_int_equal(r.got.heads, mid ? 1 : 0);
		assert_non_null(strstr(r.err.text, mid ? "stopped after 4 body bytes" : "no response from the server"));
		struct ath_error rerr;
		ath_error_clear(&rerr);
		assert_int_equal(r.d->ops->recover(&r.io, &rerr), ATH_OK);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "ok");
		rig_done(&r);
		script_free(&sc);
	}
}

/* A client gone mid-body: the transfer is terminated, the module's last
 * words drained, and the instance deleted (AT+MHTTPTERM leaves what was
 * set on it). */
static void test_client_gone(void **state)
{
	(void)state;
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "h:80", 0, true);
	urc_header(&urcs, prefixes[0], 0, 200, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n");
	urc_content(&urcs, prefixes[0], 0, 10, 4, "0123", 4);
	request_step(&sc, 0, 1, "/", &urcs);
	struct buf term = { 0 };
	buf_adds(&term, "\r\nOK\r\n");
	urc_content(&term, prefixes[0], 0, 10, 8, "4567", 4);
	buf_adds(&term, "\r\n+MHTTPURC: \"err\",0,5\r\n");
	step_buf(&sc, fmt("AT+MHTTPTERM=0\r"), &term);
	step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
	for (unsigned seed = 0; seed < 10; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		r.got.refuse = true;
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/", NULL);
		assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_CLIENT_GONE);
		rig_done(&r);
	}
	script_free(&sc);
}

/* What cannot be expressed is refused before the module hears a byte. */
static void test_refused_before_sending(void **state)
{
	(void)state;
	static const struct {
		const char *method, *target, *host, *length;
		enum ath_err e;
		int status;
	} cases[] = {
		{ "PATCH", "/", "h", NULL, ATH_E_UNSUPPORTED, 501 },
		{ "OPTIONS", "/", "h", NULL, ATH_E_UNSUPPORTED, 501 },
		{ "GET", "/", "h", "3", ATH_E_UNSUPPORTED, 501 },
		{ "GET", "/a\"b", "h", NULL, ATH_E_BAD_REQUEST, 400 },
		{ "GET", "/a\\b", "h", NULL, ATH_E_BAD_REQUEST, 400 },
		{ "GET", "/a\r\nAT+CMGS=1", "h", NULL, ATH_E_BAD_REQUEST, 400 },
		{ "GET", "/", "h\",1", NULL, ATH_E_BAD_REQUEST, 400 },
		{ "GET", "/", "h:0", NULL, ATH_E_BAD_REQUEST, 400 },
		{ "GET", "/", "h:99999", NULL, ATH_E_BAD_REQUEST, 400 },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct http_req q = cases[k].length
			? mkreq(cases[k].method, cases[k].target, "Host", cases[k].host, "Content-Length",
				cases[k].length, NULL)
			: mkreq(cases[k].method, cases[k].target, "Host", cases[k].host, NULL);
		struct prepared_request p;
		struct ath_error err;
		ath_error_clear(&err);
		assert_int_equal(request_prepare(&dialect_onemo, &q, NULL, &p, &err), cases[k].e);
		assert_int_equal(err.http_status, cases[k].status);
		http_req_free(&q);
	}
}

/* The limits are the model's (AT+CGMM at bring-up): ML307G holds 3 x 4096
 * content bytes (note 19), so 12288 is three full pieces and 12289 a 413
 * before the module hears a byte of the request; an ML307R chains 20 KB
 * through <eof> 1 (4096 x 5 + 480); an unknown model follows the manual's
 * general rules, like the ML307R; an MN316A (no data mode) cannot send a
 * body at all. */
static void test_model_limits(void **state)
{
	(void)state;
	enum { KB20 = 20 * 1024 };
	char *big = filler(KB20, 'z');
	for (size_t i = 0; i < KB20; i++)
		big[i] = (char)('a' + i * 7 % 26);
	static const int none[] = { -1 };
	static const struct {
		const char *cgmm;          /* NULL: AT+CGMM refused */
		size_t len;
		int status;                /* 0: sent */
		const char *why;
	} cases[] = {
		{ "ML307G-DL", 12288, 0, NULL },
		{ "ML307G-DL", 12289, 413, "onemo ML307G-DL limit of 12288 bytes (AT+MHTTPCONTENT)" },
		{ "ML307G", KB20, 413, "ML307G limit of 12288" },
		{ "ML307R-DC", KB20, 0, NULL },
		{ "+CGMM: ML307A-DSLN", KB20, 0, NULL },
		{ NULL, KB20, 0, NULL },
		{ "XY999", KB20, 0, NULL },
		{ "MN316A-DC", 10, 501, "MN316A-DC has no data mode" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct script sc = { 0 };
		struct buf urcs = { 0 };
		bringup_model_steps(&sc, cases[k].cgmm, none);
		if (!cases[k].status) {
			create_step(&sc, "h:80", 0, true);
			for (size_t off = 0; off < cases[k].len; off += 4096) {
				size_t n = cases[k].len - off < 4096 ? cases[k].len - off : 4096;
				data_steps(&sc, "AT+MHTTPCONTENT", 0, off + n < cases[k].len, big + off, n);
			}
			small_answer(&urcs, 0, "put");
			request_step(&sc, 0, 2, "/", &urcs);
		}
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, (unsigned)k, 0);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		unsigned long sent = r.chat.commands_sent;
		struct dialect_request rq = request(VERB_POST, "POST", "http://h/", NULL);
		rq.body = (const unsigned char *)big;
		rq.body_len = cases[k].len;
		if (!cases[k].status) {
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, "put");
		} else {
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err),
					 cases[k].status == 413 ? ATH_E_TOO_LARGE : ATH_E_UNSUPPORTED);
			assert_int_equal(r.err.http_status, cases[k].status);
			assert_non_null(strstr(r.err.text, cases[k].why));
			assert_int_equal(r.chat.commands_sent, sent);
		}
		rig_done(&r);
		script_free(&sc);
	}
	free(big);
	/* The capability record lets through what the most capable model
	 * takes: the bridge decides before bring-up named the model. */
	assert_true(dialect_onemo.caps->max_body >= KB20);
}

/* Bring-up asks which instances exist (3.1) and deletes those alone: a
 * fresh module hears no AT+MHTTPDEL; one busy with another program's
 * request is terminated first (3.8: AT+MHTTPTERM, then AT+MHTTPDEL); a
 * firmware that refuses the query gets one AT+MHTTPDEL per slot of its
 * model (an MN316A: two); a line the query cannot mean fails bring-up. */
static void test_bringup_instances(void **state)
{
	(void)state;
	static const int none[] = { -1 }, two[] = { 0, 3, -1 };
	struct script fresh = { 0 }, left = { 0 }, busy = { 0 }, refused = { 0 }, bad = { 0 };
	bringup_model_steps(&fresh, "ML307R", none);
	bringup_model_steps(&left, "ML307R", two);
	bringup_model_steps(&refused, "MN316A-DC", NULL);
	/* refused: the query's ERROR, then ids 0 and 1 of the MN316A */
	{
		size_t g = refused.n - 1; /* the guard step comes last */
		struct script_step guard = refused.s[g];
		refused.n = g;
		step(&refused, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
		step(&refused, fmt("AT+MHTTPDEL=1\r"), fmt("\r\n+CME ERROR: 652\r\n"));
		refused.s[refused.n++] = guard;
	}
	bringup_head_steps(&busy, "ML307R-DL");
	step(&busy, fmt("AT+MHTTPCFG=\"chunked\"\r"), fmt("\r\n+MHTTPCFG:\"chunked\",2,0\r\n\r\nOK\r\n"));
	step(&busy, fmt("AT+MHTTPDEL=2\r"), fmt("\r\n+CME ERROR: 653\r\n"));
	step(&busy, fmt("AT+MHTTPTERM=2\r"), fmt("\r\nOK\r\n"));
	step(&busy, fmt("AT+MHTTPDEL=2\r"), fmt("\r\nOK\r\n"));
	step(&busy, fmt("AT+MSSLCFG=\"auth\",2,1\r"), fmt("\r\nOK\r\n"));
	bringup_head_steps(&bad, "ML307R-DL");
	step(&bad, fmt("AT+MHTTPCFG=\"chunked\"\r"), fmt("\r\n+MHTTPCFG: \"chunked\",x\r\n\r\nOK\r\n"));
	const struct {
		struct script *sc;
		int dels;
		enum ath_err e;
	} cases[] = {
		{ &fresh, 0, ATH_OK }, { &left, 2, ATH_OK }, { &busy, 2, ATH_OK },
		{ &refused, 2, ATH_OK }, { &bad, 0, ATH_E_PROTOCOL },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		int dels = 0;
		for (size_t i = 0; i < cases[k].sc->n; i++)
			dels += cases[k].sc->s[i].expect && !strncmp(cases[k].sc->s[i].expect, "AT+MHTTPDEL=", 12);
		assert_int_equal(dels, cases[k].dels);
		for (unsigned seed = 0; seed < 6; seed++) {
			struct rig r;
			onemo_rig(&r, cases[k].sc->s, cases[k].sc->n, seed, 0);
			assert_int_equal(r.d->ops->bringup(&r.io, &r.err), cases[k].e);
			rig_done(&r);
		}
	}
	script_free(&fresh);
	script_free(&left);
	script_free(&busy);
	script_free(&refused);
	script_free(&bad);
}

/* teardown deletes the instances this engine created (and terminates a
 * request in flight first), so the next program's bring-up finds none;
 * with none created it sends nothing. */
static void test_teardown(void **state)
{
	(void)state;
	static const int none[] = { -1 };
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	bringup_model_steps(&sc, "ML307R", none);
	create_step(&sc, "a:80", 0, true);
	small_answer(&urcs, 0, "a");
	request_step(&sc, 0, 1, "/", &urcs);
	create_step(&sc, "b:80", 2, true);
	small_answer(&urcs, 2, "b");
	request_step(&sc, 2, 1, "/", &urcs);
	step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
	step(&sc, fmt("AT+MHTTPDEL=2\r"), fmt("\r\nOK\r\n"));
	for (unsigned seed = 0; seed < 6; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		assert_non_null(r.d->ops->teardown);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		static const char *const hosts[] = { "a", "b" };
		for (int i = 0; i < 2; i++) {
			char *url = fmt("http://%s/", hosts[i]);
			struct dialect_request rq = request(VERB_GET, "GET", url, NULL);
			assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
			assert_string_equal(r.got.body.p, hosts[i]);
			free(url);
		}
		assert_int_equal(r.d->ops->teardown(&r.io, &r.err), ATH_OK);
		/* Nothing is left to delete a second time. */
		unsigned long sent = r.chat.commands_sent;
		assert_int_equal(r.d->ops->teardown(&r.io, &r.err), ATH_OK);
		assert_int_equal(r.chat.commands_sent, sent);
		rig_done(&r);
	}
	script_free(&sc);
}

/* The capability record the bridge decides from. */
static void test_caps(void **state)
{
	(void)state;
	const struct dialect *d = dialect_find("onemo");
	assert_ptr_equal(d, &dialect_onemo);
	const struct dialect_caps *c = d->caps;
	assert_int_equal(c->methods, VERB_GET | VERB_HEAD | VERB_POST | VERB_PUT | VERB_DELETE);
	assert_int_equal(c->body_methods, VERB_POST | VERB_PUT);
	assert_int_equal(c->max_body, 1024 * 1024); /* the largest a model takes (test_model_limits) */
	assert_int_equal(c->max_header_value, 4090);
	assert_int_equal(c->value_carriage, CARRY_ANY);
	assert_string_equal(c->carried_headers[0], "*");
	assert_null(c->carried_headers[1]);
	assert_true(c->real_response_head);
	assert_false(c->raw_request);
	assert_non_null(strstr(c->body_limit_name, "AT+MHTTPCONTENT"));
	assert_true(at_block_is_head(d->syntax, "+MHTTPURC: \"header\",0,200,225,"));
	assert_false(at_block_is_head(d->syntax, "+MHTTPURC: \"content\",0,145,145,145,"));
}


/* ------------------------------------------------------------ https */

/* A PEM text of n bytes (its length is what counts on the AT line; the
 * module is scripted, nothing parses it), with CRLFs, a quote and a comma
 * that must travel as data. */
static char *pem_of(size_t n)
{
	static const char head[] = "-----BEGIN CERTIFICATE-----\r\nMII\",AT+CMGS=1\r\n";
	static const char tail[] = "\r\n-----END CERTIFICATE-----\r\n";
	char *p = filler(n, 'Q');
	memcpy(p, head, sizeof head - 1);
	memcpy(p + n - (sizeof tail - 1), tail, sizeof tail - 1);
	return p;
}

/* AT+MSSLCFG="<item>",<ctx>,<value> answered reply. */
static void sslcfg_step(struct script *sc, const char *item, int ctx, const char *value, const char *reply)
{
	step(sc, fmt("AT+MSSLCFG=\"%s\",%d,%s\r", item, ctx, value), fmt("%s", reply));
}

/* The SSL user manual's 3.2 in data mode, 3.1's cert, auth, ignoreverify,
 * ignorestamp and sni on SSL 1 (the HTTP manual's 4.2 example's context). */
static void verify_on_steps(struct script *sc, const char *pem, size_t len)
{
	size_t off = 0;
	while (off < len) {
		size_t n = len - off < 4096 ? len - off : 4096;
		step(sc, fmt("AT+MSSLCERTWR=\"athttp-ca.pem\",%zu,%zu\r", len - off - n, n), fmt("\r\n>"));
		char *expect = malloc(n + 1);
		memcpy(expect, pem + off, n);
		expect[n] = '\0';
		stepn(sc, expect, n, fmt("\r\nOK\r\n"), 0);
		off += n;
	}
	sslcfg_step(sc, "cert", 1, "\"athttp-ca.pem\"", "\r\nOK\r\n");
	sslcfg_step(sc, "auth", 1, "1", "\r\nOK\r\n");
	sslcfg_step(sc, "ignoreverify", 1, "0", "\r\nOK\r\n");
	sslcfg_step(sc, "ignorestamp", 1, "0", "\r\nOK\r\n");
	sslcfg_step(sc, "sni", 1, "1", "\r\nOK\r\n");
}

static void test_tls_setup_with_ca(void **state)
{
	(void)state;
	/* One piece, and two (the second says 0 remain). */
	static const size_t sizes[] = { 1310, 4096, 6000, 8192 };
	for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
		char *pem = pem_of(sizes[k]);
		struct script sc = { 0 };
		verify_on_steps(&sc, pem, sizes[k]);
		for (unsigned seed = 0; seed < 6; seed++) {
			struct rig r;
			onemo_rig(&r, sc.s, sc.n, seed, 0);
			struct module_tls mt = { .ca_pem = pem, .ca_len = sizes[k] };
			r.io.tls = &mt;
			struct tls_verdict v;
			memset(&v, 0x55, sizeof v);
			assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
			assert_true(v.verified);
			rig_done(&r);
		}
		script_free(&sc);
		free(pem);
	}
}

/* No --module-ca: the context set to verify nothing (--insecure-upstream
 * may run), never verified. */
static void test_tls_setup_without_ca(void **state)
{
	(void)state;
	struct script sc = { 0 };
	sslcfg_step(&sc, "auth", 1, "0", "\r\nOK\r\n");
	struct rig r;
	onemo_rig(&r, sc.s, sc.n, 3, 0);
	struct module_tls mt = { 0 };
	r.io.tls = &mt;
	struct tls_verdict v = { .verified = true };
	assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_false(v.verified);
	assert_string_equal(v.why, "no --module-ca given");
	rig_done(&r);
	script_free(&sc);
}

/* Firmware that refuses a step verification needs: never verified, the
 * why names the command and the module's answer, verification off. */
static void test_tls_setup_refused(void **state)
{
	(void)state;
	static const struct {
		int refused;         /* 0 MSSLCERTWR, 1 cert, 2 auth, 3 ignoreverify, 4 ignorestamp; 5 sni (not needed) */
		const char *reply;
		const char *why;     /* NULL: verified */
	} cases[] = {
		{ 0, "\r\nERROR\r\n", "AT+MSSLCERTWR answered ERROR" },
		{ 0, "\r\n+CME ERROR: 761\r\n", "AT+MSSLCERTWR answered +CME ERROR: 761: certificate/key invalid" },
		/* OK without the prompt: nothing was written, and a file of that
		 * name left by an earlier program must not pass for our roots. */
		{ 0, "\r\nOK\r\n", "AT+MSSLCERTWR answered OK without asking for the bytes" },
		{ 1, "\r\n+CME ERROR: 762\r\n", "AT+MSSLCFG=\"cert\",1,\"athttp-ca.pem\" (+CME ERROR: 762: certificate/key does not exist)" },
		{ 2, "\r\nERROR\r\n", "the module refused AT+MSSLCFG=\"auth\",1,1 (ERROR), so it cannot verify servers" },
		{ 3, "\r\nERROR\r\n", "AT+MSSLCFG=\"ignoreverify\",1,0 (ERROR)" },
		{ 4, "\r\n+CME ERROR: 50\r\n", "AT+MSSLCFG=\"ignorestamp\",1,0 (+CME ERROR: 50: parameter error)" },
		{ 5, "\r\nERROR\r\n", NULL },
	};
	static const char *const items[] = { NULL, "cert", "auth", "ignoreverify", "ignorestamp", "sni" };
	static const char *const values[] = { NULL, "\"athttp-ca.pem\"", "1", "0", "0", "1" };
	char *pem = pem_of(900);
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct script sc = { 0 };
		if (cases[k].refused == 0) {
			step(&sc, fmt("AT+MSSLCERTWR=\"athttp-ca.pem\",0,900\r"), fmt("%s", cases[k].reply));
		} else {
			step(&sc, fmt("AT+MSSLCERTWR=\"athttp-ca.pem\",0,900\r"), fmt("\r\n>"));
			stepn(&sc, fmt("%s", pem), 900, fmt("\r\nOK\r\n"), 0);
			for (int i = 1; i <= 5; i++)
				sslcfg_step(&sc, items[i], 1, values[i], i == cases[k].refused ? cases[k].reply : "\r\nOK\r\n");
		}
		if (cases[k].why)
			sslcfg_step(&sc, "auth", 1, "0", cases[k].refused == 2 ? "\r\nERROR\r\n" : "\r\nOK\r\n");
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, (unsigned)k, 0);
		struct module_tls mt = { .ca_pem = pem, .ca_len = 900 };
		r.io.tls = &mt;
		struct tls_verdict v = { .verified = !cases[k].why };
		assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		if (!cases[k].why) {
			assert_true(v.verified);
		} else {
			assert_false(v.verified);
			if (!strstr(v.why, cases[k].why))
				fail_msg("case %zu: '%s' lacks '%s'", k, v.why, cases[k].why);
		}
		rig_done(&r);
		script_free(&sc);
	}
	free(pem);
	/* Roots over one certificate file's 8192 bytes: nothing written. */
	pem = pem_of(8193);
	struct script sc = { 0 };
	sslcfg_step(&sc, "auth", 1, "0", "\r\nOK\r\n");
	struct rig r;
	onemo_rig(&r, sc.s, sc.n, 0, 0);
	struct module_tls mt = { .ca_pem = pem, .ca_len = 8193 };
	r.io.tls = &mt;
	struct tls_verdict v = { .verified = true };
	assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_false(v.verified);
	assert_non_null(strstr(v.why, "8193 bytes, over the 8192 bytes AT+MSSLCERTWR holds"));
	rig_done(&r);
	script_free(&sc);
	free(pem);
}

static struct dialect_request https_get(const char *url, bool verify)
{
	struct dialect_request rq = request(VERB_GET, "GET", url, NULL);
	rq.tls = true;
	rq.verify_upstream = verify;
	return rq;
}

/* The HTTP manual's 4.2: an https instance, "ssl" 1 on SSL 1 before the
 * request; the same server again on its instance; http to the same host
 * is an instance of its own, bound with <ssl_enable> 0 to the verifying
 * context (a redirect to https it follows is then verified). */
static void test_https_get(void **state)
{
	(void)state;
	char *pem = pem_of(1310);
	struct script sc = { 0 };
	bringup_steps(&sc);
	verify_on_steps(&sc, pem, 1310);
	step(&sc, fmt("AT+MHTTPCREATE=\"https://120.27.12.119:10443\"\r"), fmt("\r\n+MHTTPCREATE:0\r\n\r\nOK\r\n"));
	step(&sc, fmt("AT+MHTTPCFG=\"ssl\",0,1,1\r"), fmt("\r\nOK\r\n"));
	struct buf urcs = { 0 };
	urc_header(&urcs, prefixes[3], 0, 200, manual_get_head);
	urc_content(&urcs, prefixes[3], 0, 145, 145, manual_get_json, 145);
	request_step(&sc, 0, 1, "/get", &urcs);
	small_answer(&urcs, 0, "again");
	request_step(&sc, 0, 1, "/again", &urcs);
	step(&sc, fmt("AT+MHTTPCREATE=\"http://120.27.12.119:10443\"\r"), fmt("\r\n+MHTTPCREATE: 1\r\n\r\nOK\r\n"));
	step(&sc, fmt("AT+MHTTPCFG=\"ssl\",1,0,1\r"), fmt("\r\nOK\r\n"));
	small_answer(&urcs, 1, "plain");
	request_step(&sc, 1, 1, "/", &urcs);
	step(&sc, fmt("AT+MHTTPCREATE=\"https://h:443\"\r"), fmt("\r\n+MHTTPCREATE: 2\r\n\r\nOK\r\n"));
	step(&sc, fmt("AT+MHTTPCFG=\"ssl\",2,1,1\r"), fmt("\r\nOK\r\n"));
	small_answer(&urcs, 2, "h");
	request_step(&sc, 2, 1, "/", &urcs);
	for (unsigned seed = 0; seed < 8; seed++) {
		struct rig r;
		onemo_rig(&r, sc.s, sc.n, seed, 0);
		struct module_tls mt = { .ca_pem = pem, .ca_len = 1310 };
		r.io.tls = &mt;
		/* With roots given, bring-up sets the context up (before any
		 * instance); tls_setup then only tells what it found. */
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		struct tls_verdict v = { .verified = false };
		unsigned long sent = r.chat.commands_sent;
		assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
		assert_int_equal(r.chat.commands_sent, sent);
		assert_true(v.verified);
		struct dialect_request rq = https_get("https://120.27.12.119:10443/get", true);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_int_equal(r.got.status, 200);
		assert_int_equal(r.got.body.len, 145);
		assert_memory_equal(r.got.body.p, manual_get_json, 145);
		rq = https_get("https://120.27.12.119:10443/again", true);
		unsigned long before = r.chat.commands_sent;
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_int_equal(r.chat.commands_sent - before, 1);
		assert_string_equal(r.got.body.p, "again");
		rq = request(VERB_GET, "GET", "http://120.27.12.119:10443/", NULL);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "plain");
		rq = https_get("https://h/", true);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "h");
		rig_done(&r);
	}
	script_free(&sc);
	free(pem);
}

/* https the module was not set up for, or set up unverified while the
 * request needs verification: 502, not a byte to the module.  Unverified
 * and allowed (--insecure-upstream): it runs. */
static void test_https_unverified(void **state)
{
	(void)state;
	struct rig r;
	onemo_rig(&r, NULL, 0, 0, 0);
	struct dialect_request rq = https_get("https://h/", false);
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(r.err.http_status, 502);
	assert_non_null(strstr(r.err.text, "not set up"));
	rig_done(&r);

	struct script sc = { 0 };
	sslcfg_step(&sc, "auth", 1, "0", "\r\nOK\r\n");
	step(&sc, fmt("AT+MHTTPCREATE=\"https://h:8443\"\r"), fmt("\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n"));
	step(&sc, fmt("AT+MHTTPCFG=\"ssl\",0,1,1\r"), fmt("\r\nOK\r\n"));
	struct buf urcs = { 0 };
	small_answer(&urcs, 0, "insecure");
	request_step(&sc, 0, 1, "/x", &urcs);
	onemo_rig(&r, sc.s, sc.n, 5, 0);
	struct module_tls mt = { .insecure = true };
	r.io.tls = &mt;
	struct tls_verdict v;
	assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
	assert_false(v.verified);
	rq = https_get("https://h:8443/x", true);
	assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
	assert_int_equal(r.err.http_status, 502);
	assert_non_null(strstr(r.err.text, "not set up to verify"));
	rq = https_get("https://h:8443/x", false);
	assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
	assert_string_equal(r.got.body.p, "insecure");
	rig_done(&r);
	script_free(&sc);
}

/* The module's TLS failures of a request: "err" 4 (handshake, which is
 * also how a rejected certificate ends), CME 655 (SSL not enabled) and the
 * SSL manual's 752, each 502 naming code and meaning; an http request's
 * "err" 4 names the redirect it can only come from. */
static void test_tls_errors(void **state)
{
	(void)state;
	static const struct {
		bool tls;
		bool urc;            /* "err" URC, else +CME ERROR to AT+MHTTPREQUEST */
		int code;
		const char *want;
	} cases[] = {
		{ true, true, 4, "+MHTTPURC \"err\" 4: SSL handshake failed" },
		{ true, false, 655, "+CME ERROR: 655 (SSL not enabled)" },
		{ true, false, 752, "+CME ERROR: 752 (SSL/TLS server certificate verification failed)" },
		{ true, false, 754, "+CME ERROR: 754 (SSL/TLS negotiation failed)" },
		{ false, true, 4, "SSL handshake failed (the module followed a redirect to https" },
	};
	for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
		struct script sc = { 0 };
		sslcfg_step(&sc, "auth", 1, "0", "\r\nOK\r\n");
		step(&sc, fmt("AT+MHTTPCREATE=\"%s://h:%d\"\r", cases[k].tls ? "https" : "http", cases[k].tls ? 443 : 80),
		     fmt("\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n"));
		if (cases[k].tls)
			step(&sc, fmt("AT+MHTTPCFG=\"ssl\",0,1,1\r"), fmt("\r\nOK\r\n"));
		if (cases[k].urc) {
			struct buf urcs = { 0 };
			buf_addf(&urcs, "\r\n+MHTTPURC: \"err\",0,%d\r\n", cases[k].code);
			request_step(&sc, 0, 1, "/", &urcs);
		} else {
			step(&sc, fmt("AT+MHTTPREQUEST=0,1,0,\"/\"\r"), fmt("\r\n+CME ERROR: %d\r\n", cases[k].code));
		}
		step(&sc, fmt("AT+MHTTPDEL=0\r"), fmt("\r\nOK\r\n"));
		for (unsigned seed = 0; seed < 4; seed++) {
			struct rig r;
			onemo_rig(&r, sc.s, sc.n, seed, 0);
			struct module_tls mt = { .insecure = true };
			r.io.tls = &mt;
			struct tls_verdict v;
			assert_int_equal(r.d->ops->tls_setup(&r.io, &v, &r.err), ATH_OK);
			struct dialect_request rq = cases[k].tls ? https_get("https://h/", false)
								 : request(VERB_GET, "GET", "http://h/", NULL);
			assert_int_equal(r.d->ops->exchange(&r.io, &rq, &r.sink, &r.err), ATH_E_MODULE);
			assert_int_equal(r.err.http_status, 502);
			assert_int_equal(r.err.module_code, cases[k].code);
			if (!strstr(r.err.text, cases[k].want))
				fail_msg("case %zu: '%s' lacks '%s'", k, r.err.text, cases[k].want);
			assert_int_equal(r.got.heads, 0);
			rig_done(&r);
		}
		script_free(&sc);
	}
}

/* A module without SSL (MN318/MN319/MN316A: no AT+MSSLCFG, no "ssl"):
 * bring-up and http go on as before, nothing bound. */
static void test_no_ssl_module(void **state)
{
	(void)state;
	struct script sc = { 0 };
	bringup_steps(&sc);
	/* its guard step refused (the script owns the old reply still) */
	sc.s[sc.n - 1].reply = "\r\nERROR\r\n";
	sc.s[sc.n - 1].reply_len = 0;
	step(&sc, fmt("AT+MHTTPCREATE=\"http://h:80\"\r"), fmt("\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n"));
	struct buf urcs = { 0 };
	small_answer(&urcs, 0, "ok");
	request_step(&sc, 0, 1, "/", &urcs);
	/* A module with AT+MSSLCFG whose MHTTPCFG has no "ssl": noted. */
	struct script sc2 = { 0 };
	bringup_steps(&sc2);
	step(&sc2, fmt("AT+MHTTPCREATE=\"http://h:80\"\r"), fmt("\r\n+MHTTPCREATE: 0\r\n\r\nOK\r\n"));
	step(&sc2, fmt("AT+MHTTPCFG=\"ssl\",0,0,2\r"), fmt("\r\n+CME ERROR: 50\r\n"));
	small_answer(&urcs, 0, "ok");
	request_step(&sc2, 0, 1, "/", &urcs);
	const struct script *both[] = { &sc, &sc2 };
	for (size_t k = 0; k < 2; k++) {
		struct rig r;
		onemo_rig(&r, both[k]->s, both[k]->n, (unsigned)k, 0);
		assert_int_equal(r.d->ops->bringup(&r.io, &r.err), ATH_OK);
		struct dialect_request rq = request(VERB_GET, "GET", "http://h/", NULL);
		assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
		assert_string_equal(r.got.body.p, "ok");
		rig_done(&r);
	}
	script_free(&sc);
	script_free(&sc2);
}

/* ------------------------------------------------------------ framing */

/* A 3000-byte body in three content URCs, edited by form: 0 clean with
 * 27.007 URCs between them, 1 noise inside the second, 2 its sum_len
 * one short, 3 its data one byte short, 4 a stray line between them. */
static enum ath_err framing_case(int form, unsigned seed, struct rig *r, char *body)
{
	static const char *const pfx = "+MHTTPURC: ";
	for (size_t i = 0; i < 3000; i++)
		body[i] = (char)('a' + (i * 7 + (i >> 5)) % 26);
	struct script sc = { 0 };
	struct buf urcs = { 0 };
	create_step(&sc, "h:80", 0, true);
	urc_header(&urcs, pfx, 0, 200, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n");
	urc_content(&urcs, pfx, 0, 3000, 1000, body, 1000);
	if (form == 0)
		buf_adds(&urcs, "\r\n+CREG: 1\r\n\r\nRING\r\n");
	if (form == 4)
		buf_adds(&urcs, "\r\nmoved bytes\r\n");
	buf_addf(&urcs, "\r\n%s\"content\",0,3000,%d,1000,", pfx, form == 2 ? 1999 : 2000);
	if (form == 1) {
		buf_add(&urcs, body + 1000, 500);
		buf_adds(&urcs, "\x13\xfe~Zn");
		buf_add(&urcs, body + 1500, 500);
	} else {
		buf_add(&urcs, body + 1000, form == 3 ? 999 : 1000);
	}
	buf_adds(&urcs, "\r\n");
	urc_content(&urcs, pfx, 0, 3000, 3000, body + 2000, 1000);
	request_step(&sc, 0, 1, "/", &urcs);
	onemo_rig(r, sc.s, sc.n, seed, 0);
	r->verbose = form == 0;
	struct dialect_request rq = request(VERB_GET, "GET", "http://h/", NULL);
	enum ath_err e = rig_exchange(r, &rq);
	script_free(&sc);
	return e;
}

static void test_framing_clean_with_urcs(void **state)
{
	(void)state;
	char body[3000];
	for (unsigned seed = 0; seed < 10; seed++) {
		struct rig r;
		assert_int_equal(framing_case(0, seed, &r, body), ATH_OK);
		assert_int_equal(r.got.body.len, 3000);
		assert_memory_equal(r.got.body.p, body, 3000);
		rig_done(&r);
	}
}

/* Noise, a sum that does not add up, a piece short, a stray line: a
 * framing error after the head (the bridge cuts the connection). */
static void test_framing_errors(void **state)
{
	(void)state;
	char body[3000];
	for (int form = 1; form <= 4; form++)
		for (unsigned seed = 0; seed < 10; seed++) {
			struct rig r;
			assert_int_equal(framing_case(form, seed, &r, body), ATH_E_PROTOCOL);
			assert_non_null(strstr(r.err.text, "framing"));
			assert_true(r.got.body.len < 3000);
			rig_free(&r);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manual_get),
		cmocka_unit_test(test_framing_clean_with_urcs),
		cmocka_unit_test(test_framing_errors),
		cmocka_unit_test(test_manual_header),
		cmocka_unit_test(test_manual_post_put),
		cmocka_unit_test(test_get_command_bytes),
		cmocka_unit_test(test_post_10k),
		cmocka_unit_test(test_header_data_mode),
		cmocka_unit_test(test_five_origins),
		cmocka_unit_test(test_no_free_client),
		cmocka_unit_test(test_lost_and_busy_instance),
		cmocka_unit_test(test_cme_codes),
		cmocka_unit_test(test_unknown_length_bodies),
		cmocka_unit_test(test_no_body_responses),
		cmocka_unit_test(test_err_urc),
		cmocka_unit_test(test_err_mid_body),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_client_gone),
		cmocka_unit_test(test_refused_before_sending),
		cmocka_unit_test(test_model_limits),
		cmocka_unit_test(test_bringup_instances),
		cmocka_unit_test(test_teardown),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_tls_setup_with_ca),
		cmocka_unit_test(test_tls_setup_without_ca),
		cmocka_unit_test(test_tls_setup_refused),
		cmocka_unit_test(test_https_get),
		cmocka_unit_test(test_https_unverified),
		cmocka_unit_test(test_tls_errors),
		cmocka_unit_test(test_no_ssl_module),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
