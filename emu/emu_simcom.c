/*
 * SIMCom SIM7500/SIM7600/SIM7800 HTTP(S) command set (AT+HTTPINIT ...), and
 * the A76xx firmware that spells a few answers differently.
 *
 * Source of truth: the SIM7500_SIM7600_SIM7800 HTTP AT Command Manual V1.00,
 * plus the variations seen on real modules (DESIGN.md).  Whatever the manual
 * does not allow answers ERROR, so that a host which leans on leniency fails
 * here rather than in the field.  Not emulated: AT+HTTPPOSTFILE and
 * AT+HTTPREADFILE (they need the module's file system).
 *
 * TLS, from SIMCom's SSL Application Note: certificate files by
 * AT+CCERTDOWN (its ">" phase takes exactly <len> bytes), AT+CCERTLIST,
 * AT+CCERTDELE; ten SSL contexts set by AT+CSSLCFG="<key>",<ctx>,<value>
 * with the Note's defaults (sslversion 4, authmode 0, ignorelocaltime 1,
 * negotiatetime 300, enableSNI 0).  An https:// action uses the context
 * AT+HTTPPARA="SSLCFG" names, and the network side does exactly what it
 * asks: verification only with authmode 1 (against the cacert file's
 * content), SNI only with enableSNI 1, the certificate's dates only with
 * ignorelocaltime 0.  The certificate files and the contexts are the
 * module's, not the HTTP service's: AT+HTTPTERM keeps them.
 */
#include "emu.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* How firmware versions differ: answers only, never behaviour. */
struct simcom_variant {
	const char *name;
	const char *model;		/* ATI */
	const char *head;		/* before <len> in the AT+HTTPHEAD answer */
	const char *read_len;		/* before <len> in the AT+HTTPREAD? answer */
	const char *read_data;		/* before <n> of each AT+HTTPREAD piece */
	const char *read_end;		/* after the last piece */
	bool sni_switch;		/* AT+CSSLCFG="enableSNI" exists */
	bool certdown;			/* AT+CCERTDOWN exists */
};

static const struct simcom_variant variants[] = {
	{
		.name = "sim7600",
		.model = "SIMCOM_SIM7600E-H",
		.head = "+HTTPHEAD: DATA,",
		.read_len = "+HTTPREAD: LEN,",
		.read_data = "+HTTPREAD: DATA,",
		.read_end = "+HTTPREAD:0",
		.sni_switch = true,
		.certdown = true,
	},
	{
		.name = "a76xx",
		.model = "A7670E",
		.head = "+HTTPHEAD: ",
		.read_len = "+HTTPREAD:LEN,",
		.read_data = "+HTTPREAD: ",
		.read_end = "+HTTPREAD: 0",
		.sni_switch = true,
		.certdown = true,
	},
	{
		/* old firmware: "enableSNI" answers ERROR, no SNI is sent */
		.name = "nosni",
		.model = "SIMCOM_SIM7600E-H",
		.head = "+HTTPHEAD: DATA,",
		.read_len = "+HTTPREAD: LEN,",
		.read_data = "+HTTPREAD: DATA,",
		.read_end = "+HTTPREAD:0",
		.sni_switch = false,
		.certdown = true,
	},
	{
		/* no certificate download: AT+CCERTDOWN answers ERROR */
		.name = "nocertdown",
		.model = "SIMCOM_SIM7600E-H",
		.head = "+HTTPHEAD: DATA,",
		.read_len = "+HTTPREAD: LEN,",
		.read_data = "+HTTPREAD: DATA,",
		.read_end = "+HTTPREAD:0",
		.sni_switch = true,
		.certdown = false,
	},
};

/* AT+HTTPREAD answers in pieces of about 1 KB, whatever was asked for. */
#define READ_PIECE 1024
#define MAX_POST 153600			/* AT+HTTPDATA <size> */
#define MAX_DATA_TIME_MS 120000		/* AT+HTTPDATA <time> */
#define MAX_URL 4096
#define SSL_CTXS 10			/* <ssl_ctx_index> 0-9 */
#define MAX_CERT 10240			/* AT+CCERTDOWN <len> */
#define MAX_CERT_NAME 128		/* AT+CCERTDOWN <filename> */
#define MAX_CERT_FILES 16
#define CA_MISSED 719			/* chapter 5: "CA missed" */
#define HANDSHAKE_FAILED 715

/* The <statuscode> the module reports when there is no HTTP status. */
static const int error_code[EMU_FETCH_NSTATUS] = {
	[EMU_FETCH_BAD_URL] = 708,	/* invalid parameter */
	[EMU_FETCH_TLS] = HANDSHAKE_FAILED,
	/* Real firmware reports a rejected certificate as a failed
	 * handshake too; 719 is for a context without its CA file. */
	[EMU_FETCH_TLS_VERIFY] = HANDSHAKE_FAILED,
	[EMU_FETCH_DNS] = 713,
	[EMU_FETCH_CONNECT] = 714,
	[EMU_FETCH_TIMEOUT] = 705,
	[EMU_FETCH_NOT_HTTP] = 600,
	[EMU_FETCH_TOO_BIG] = 706,
	[EMU_FETCH_CLOSED] = 706,
	[EMU_FETCH_CANCELLED] = 702,
};

static const char *const method_name[] = { "GET", "POST", "HEAD", "DELETE" };
enum { METHOD_POST = 1, METHOD_HEAD = 2 };

/* AT+HTTPPARA values; reset by AT+HTTPINIT. */
struct simcom_params {
	char *url;			/* NULL: not set */
	char *content;
	char *accept;
	unsigned long connect_to;	/* seconds */
	unsigned long recv_to;		/* seconds */
	unsigned long sslcfg;
};

/* An SSL context, AT+CSSLCFG's. */
struct ssl_ctx {
	unsigned long sslversion;	/* 0 SSL3.0, 1 TLS1.0, 2 TLS1.1, 3 TLS1.2, 4 all */
	unsigned long authmode;		/* 0 none, 1 server, 2 server and client */
	unsigned long ignorelocaltime;
	unsigned long negotiatetime;	/* seconds */
	unsigned long enable_sni;
	char *cacert;			/* a file name, NULL: none */
};

struct cert_file {
	char *name;			/* NULL: a free slot */
	struct emu_buf data;
};

enum download { DOWNLOAD_POST, DOWNLOAD_CERT };

struct simcom {
	struct emu *emu;
	const struct emu_config *cfg;
	const struct simcom_variant *v;

	bool started;			/* AT+HTTPINIT */
	struct simcom_params p;
	struct emu_buf post;		/* AT+HTTPDATA, for the next POST */
	bool have_post;
	enum download download;		/* what the data phase is for */
	char *download_name;		/* AT+CCERTDOWN's file */

	/* The module's, kept across AT+HTTPTERM. */
	struct ssl_ctx ssl[SSL_CTXS];
	struct cert_file certs[MAX_CERT_FILES];

	struct emu_job *job;		/* AT+HTTPACTION in progress */
	int job_method;
	struct emu_fetch *resp;		/* the last action's response */
	size_t read_pos;		/* where AT+HTTPREAD=<size> goes on */
};

/* ------------------------------------------------------------ state */

static void drop_response(struct simcom *s)
{
	emu_fetch_free(s->resp);
	s->resp = NULL;
	s->read_pos = 0;
}

/* Everything AT+HTTPTERM forgets, including an action still running. */
static void release(struct simcom *s)
{
	if (s->job)
		emu_fetch_abandon(s->job);
	s->job = NULL;
	drop_response(s);
	free(s->p.url);
	free(s->p.content);
	free(s->p.accept);
	s->p = (struct simcom_params){ 0 };
	emu_buf_free(&s->post);
	s->have_post = false;
}

static void reset(struct simcom *s)
{
	release(s);
	s->p = (struct simcom_params){
		.content = emu_strndup("text/plain", 10),
		.accept = emu_strndup("*/*", 3),
		.connect_to = 120,
		.recv_to = 10,
	};
}

static bool arg_is(const struct emu_cmd *c, size_t i, enum emu_arg_kind k)
{
	return i < c->argc && c->argv[i].kind == k;
}

/* ------------------------------------------------------------ commands */

static void http_init(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;

	(void)c;
	/* no network: ERROR (the SIMCom HTTP manual, AT+HTTPINIT) */
	if (s->started || !emu_net_ready(s->emu)) {
		emu_error(s->emu);
		return;
	}
	reset(s);
	s->started = true;
	emu_ok(s->emu);
}

static void http_term(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;

	(void)c;
	release(s);
	s->started = false;
	emu_ok(s->emu);
}

struct simcom_param {
	const char *key;		/* exactly as the manual spells it */
	enum emu_arg_kind kind;
	unsigned long min, max;		/* value, or string length */
	size_t field;			/* offset in struct simcom_params */
	bool (*valid)(const char *s);	/* further checks of a string */
};

static bool is_http_url(const char *url)
{
	return !strncasecmp(url, "http://", 7) ||
	       !strncasecmp(url, "https://", 8);
}

#define STR_PARAM(k, lo, hi, f, ok) \
	{ k, EMU_ARG_STRING, lo, hi, offsetof(struct simcom_params, f), ok }
#define NUM_PARAM(k, lo, hi, f) \
	{ k, EMU_ARG_NUMBER, lo, hi, offsetof(struct simcom_params, f), NULL }

/* No "USERDATA": the firmware this emulates lacks it. */
static const struct simcom_param params[] = {
	STR_PARAM("URL", 1, MAX_URL, url, is_http_url),
	NUM_PARAM("CONNECTTO", 20, 120, connect_to),
	NUM_PARAM("RECVTO", 2, 20, recv_to),
	STR_PARAM("CONTENT", 1, 256, content, NULL),
	STR_PARAM("ACCEPT", 1, 256, accept, NULL),
	NUM_PARAM("SSLCFG", 0, 9, sslcfg),
};

static void http_para(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	const struct simcom_param *p = NULL;
	const struct emu_arg *v;
	char *field;

	if (c->argc == 2 && arg_is(c, 0, EMU_ARG_STRING))
		for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++)
			if (!strcmp(params[i].key, c->argv[0].str))
				p = &params[i];
	if (!p || !arg_is(c, 1, p->kind)) {
		emu_error(s->emu);
		return;
	}
	v = &c->argv[1];
	field = (char *)&s->p + p->field;
	if (p->kind == EMU_ARG_NUMBER) {
		if (v->num < p->min || v->num > p->max) {
			emu_error(s->emu);
			return;
		}
		*(unsigned long *)(void *)field = v->num;
	} else {
		if (v->len < p->min || v->len > p->max ||
		    (p->valid && !p->valid(v->str))) {
			emu_error(s->emu);
			return;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = emu_strndup(v->str, v->len);
	}
	emu_ok(s->emu);
}

static void http_data(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	unsigned long size, ms;

	if (c->argc != 2 || !arg_is(c, 0, EMU_ARG_NUMBER) ||
	    !arg_is(c, 1, EMU_ARG_NUMBER)) {
		emu_error(s->emu);
		return;
	}
	size = c->argv[0].num;
	ms = c->argv[1].num;
	if (size < 1 || size > MAX_POST || ms < 1 || ms > MAX_DATA_TIME_MS) {
		emu_error(s->emu);
		return;
	}
	emu_buf_free(&s->post);
	s->have_post = false;
	s->download = DOWNLOAD_POST;
	emu_download(s->emu, "\r\nDOWNLOAD\r\n", size, (unsigned)ms);
}

static void cert_stored(struct simcom *s, struct emu_buf *data);

static void data_done(void *ctx, struct emu_buf *data, bool complete)
{
	struct simcom *s = ctx;

	if (!complete) {
		free(s->download_name);
		s->download_name = NULL;
		emu_error(s->emu);
		return;
	}
	if (s->download == DOWNLOAD_CERT) {
		cert_stored(s, data);
		return;
	}
	s->post = *data;
	*data = (struct emu_buf){ 0 };
	s->have_post = true;
	emu_ok(s->emu);
}

static void report(struct simcom *s, int method, int status, size_t len)
{
	emu_sendf(s->emu, EMU_MARK_NONE, "\r\n+HTTPACTION: %d,%d,%zu\r\n",
		  method, status, len);
}

static void action_done(void *ctx, struct emu_fetch *f)
{
	struct simcom *s = ctx;
	size_t len;

	s->job = NULL;
	if (f->status != EMU_FETCH_OK) {
		report(s, s->job_method, error_code[f->status], 0);
		emu_fetch_free(f);
		return;
	}
	s->resp = f;
	if (s->job_method == METHOD_HEAD)
		len = f->header.len;
	else if (f->chunked && s->cfg->chunked_zero_len)
		len = 0;
	else
		len = f->body.len;
	report(s, s->job_method, f->http_status, len);
	emu_send(s->emu, EMU_MARK_NONE, "\r\n+HTTP_PEER_CLOSED\r\n", 21);
}

static struct emu_fetch *build_request(struct simcom *s, int method)
{
	struct emu_fetch *f = emu_calloc(1, sizeof(*f));
	struct emu_buf *r = &f->request;

	f->head_only = method == METHOD_HEAD;
	f->connect_timeout_ms = (unsigned)s->p.connect_to * 1000;
	f->recv_timeout_ms = (unsigned)s->p.recv_to * 1000;
	if (emu_url_parse(s->p.url, &f->url) < 0) {
		f->status = EMU_FETCH_BAD_URL;
		return f;
	}
	emu_buf_addf(r, "%s %s HTTP/1.1\r\nHost: %s\r\n"
		     "User-Agent: SIMCOM_MODULE\r\nAccept: %s\r\n",
		     method_name[method], f->url.target, f->url.authority,
		     s->p.accept);
	if (method == METHOD_POST)
		emu_buf_addf(r, "Content-Type: %s\r\nContent-Length: %zu\r\n",
			     s->p.content, s->have_post ? s->post.len : 0);
	emu_buf_addf(r, "Connection: close\r\n\r\n");
	if (method == METHOD_POST && s->have_post) {
		emu_buf_add(r, s->post.data, s->post.len);
		emu_buf_free(&s->post);
		s->have_post = false;
	}
	return f;
}

static int ssl_apply(struct simcom *s, struct emu_fetch *f);

static void http_action(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	struct emu_fetch *f;
	int method, code;

	if (c->form == EMU_FORM_TEST) {
		emu_sendf(s->emu, EMU_MARK_NONE, "\r\n+HTTPACTION: (0-3)\r\n");
		emu_ok(s->emu);
		return;
	}
	if (c->argc != 1 || !arg_is(c, 0, EMU_ARG_NUMBER) ||
	    c->argv[0].num > 3 || !s->p.url || s->job) {
		emu_error(s->emu);
		return;
	}
	emu_request_begin(s->emu);
	method = (int)c->argv[0].num;
	drop_response(s);
	f = build_request(s, method);
	emu_ok(s->emu);
	s->job_method = method;
	if (f->status != EMU_FETCH_OK) {
		report(s, method, error_code[f->status], 0);
		emu_fetch_free(f);
		return;
	}
	if (f->url.tls && (code = ssl_apply(s, f))) {
		report(s, method, code, 0);
		emu_fetch_free(f);
		return;
	}
	s->job = emu_fetch_start(emu_jobs(s->emu), f, action_done, s);
}

static void http_head(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;

	(void)c;
	if (!s->resp) {
		emu_error(s->emu);
		return;
	}
	emu_sendf(s->emu, EMU_MARK_NONE, "\r\n%s%zu\r\n", s->v->head,
		  s->resp->header.len);
	emu_send_data(s->emu, s->resp->header.data, s->resp->header.len);
	emu_ok(s->emu);
}

static void http_read(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	const struct emu_buf *body;
	unsigned long start, size;
	size_t end;

	if (!s->resp) {
		emu_error(s->emu);
		return;
	}
	body = &s->resp->body;
	if (c->form == EMU_FORM_READ) {
		emu_sendf(s->emu, EMU_MARK_NONE, "\r\n%s%zu\r\n", s->v->read_len,
			  body->len);
		emu_ok(s->emu);
		return;
	}
	if (c->argc == 1 && arg_is(c, 0, EMU_ARG_NUMBER)) {
		start = s->read_pos;
		size = c->argv[0].num;
	} else if (c->argc == 2 && arg_is(c, 0, EMU_ARG_NUMBER) &&
		   arg_is(c, 1, EMU_ARG_NUMBER)) {
		start = c->argv[0].num;
		size = c->argv[1].num;
	} else {
		emu_error(s->emu);
		return;
	}
	if (size < 1) {
		emu_error(s->emu);
		return;
	}
	/* OK comes first; the command only ends with the terminator. */
	emu_send(s->emu, EMU_MARK_NONE, "\r\nOK\r\n", 6);
	if (start > body->len)
		start = body->len;
	end = size > body->len - start ? body->len : start + size;
	for (size_t off = start; off < end; off += READ_PIECE) {
		size_t n = end - off < READ_PIECE ? end - off : READ_PIECE;

		emu_sendf(s->emu, EMU_MARK_NONE, "\r\n%s%zu\r\n",
			  s->v->read_data, n);
		emu_send_data(s->emu, body->data + off, n);
	}
	s->read_pos = end;
	emu_sendf(s->emu, EMU_MARK_DONE, "\r\n%s\r\n", s->v->read_end);
}

/* ------------------------------------------------------------ SSL */

static const struct ssl_ctx ssl_defaults = {
	.sslversion = 4,
	.authmode = 0,
	.ignorelocaltime = 1,
	.negotiatetime = 300,
	.enable_sni = 0,
};

static struct cert_file *find_cert(struct simcom *s, const char *name)
{
	for (size_t i = 0; name && i < MAX_CERT_FILES; i++)
		if (s->certs[i].name && !strcmp(s->certs[i].name, name))
			return &s->certs[i];
	return NULL;
}

/* The Note: a certificate file's name ends in .pem or .der. */
static bool cert_name_ok(const struct emu_arg *a)
{
	return a->len > 4 && a->len <= MAX_CERT_NAME &&
	       strlen(a->str) == a->len &&
	       (!strcasecmp(a->str + a->len - 4, ".pem") ||
		!strcasecmp(a->str + a->len - 4, ".der"));
}

static void cert_download(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	const struct emu_config *cfg = s->cfg;
	unsigned long len;
	unsigned ms;

	if (c->argc != 2 || !arg_is(c, 0, EMU_ARG_STRING) ||
	    !arg_is(c, 1, EMU_ARG_NUMBER) || !cert_name_ok(&c->argv[0])) {
		emu_error(s->emu);
		return;
	}
	len = c->argv[1].num;
	if (len < 1 || len > MAX_CERT) {
		emu_error(s->emu);
		return;
	}
	/* No <time> parameter: 10 s, and the line time at --baud. */
	ms = 10000 + (cfg->baud ? (unsigned)(len * 10 * 1000 / cfg->baud) : 0);
	free(s->download_name);
	s->download_name = emu_strndup(c->argv[0].str, c->argv[0].len);
	s->download = DOWNLOAD_CERT;
	emu_download(s->emu, "\r\n>", len, ms);
}

static void cert_stored(struct simcom *s, struct emu_buf *data)
{
	struct cert_file *f = find_cert(s, s->download_name);

	for (size_t i = 0; !f && i < MAX_CERT_FILES; i++)
		if (!s->certs[i].name)
			f = &s->certs[i];
	if (!f) {
		free(s->download_name);
		s->download_name = NULL;
		emu_error(s->emu);
		return;
	}
	if (f->name) {
		free(s->download_name);
	} else {
		f->name = s->download_name;
	}
	s->download_name = NULL;
	emu_buf_free(&f->data);
	f->data = *data;
	*data = (struct emu_buf){ 0 };
	emu_ok(s->emu);
}

static void cert_list(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	bool any = false;

	(void)c;
	for (size_t i = 0; i < MAX_CERT_FILES; i++)
		if (s->certs[i].name) {
			emu_sendf(s->emu, EMU_MARK_NONE, "\r\n+CCERTLIST: \"%s\"",
				  s->certs[i].name);
			any = true;
		}
	if (any)
		emu_send(s->emu, EMU_MARK_NONE, "\r\n", 2);
	emu_ok(s->emu);
}

static void cert_delete(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	struct cert_file *f;

	if (c->argc != 1 || !arg_is(c, 0, EMU_ARG_STRING) ||
	    !(f = find_cert(s, c->argv[0].str))) {
		emu_error(s->emu);
		return;
	}
	free(f->name);
	emu_buf_free(&f->data);
	*f = (struct cert_file){ 0 };
	emu_ok(s->emu);
}

struct ssl_key {
	const char *key;		/* exactly as the Note spells it */
	enum emu_arg_kind kind;
	unsigned long min, max;		/* value, or string length */
	size_t field;			/* offset in struct ssl_ctx */
	bool sni;			/* the switch old firmware lacks */
};

#define SSL_NUM(k, lo, hi, f) \
	{ k, EMU_ARG_NUMBER, lo, hi, offsetof(struct ssl_ctx, f), false }

static const struct ssl_key ssl_keys[] = {
	SSL_NUM("sslversion", 0, 4, sslversion),
	SSL_NUM("authmode", 0, 2, authmode),
	SSL_NUM("ignorelocaltime", 0, 1, ignorelocaltime),
	SSL_NUM("negotiatetime", 10, 300, negotiatetime),
	{ "enableSNI", EMU_ARG_NUMBER, 0, 1, offsetof(struct ssl_ctx, enable_sni), true },
	{ "cacert", EMU_ARG_STRING, 1, MAX_CERT_NAME, offsetof(struct ssl_ctx, cacert), false },
};

/* AT+CSSLCFG="<key>",<ctx>,<value>.  No client certificates: a module
 * without them is what athttp needs, and "clientcert" answering ERROR is
 * stricter, never more forgiving. */
static void ssl_config(void *ctx, const struct emu_cmd *c)
{
	struct simcom *s = ctx;
	const struct ssl_key *k = NULL;
	const struct emu_arg *v;
	char *field;

	if (c->argc == 3 && arg_is(c, 0, EMU_ARG_STRING) &&
	    arg_is(c, 1, EMU_ARG_NUMBER) && c->argv[1].num < SSL_CTXS)
		for (size_t i = 0; i < sizeof(ssl_keys) / sizeof(ssl_keys[0]); i++)
			if (!strcmp(ssl_keys[i].key, c->argv[0].str))
				k = &ssl_keys[i];
	if (!k || (k->sni && !s->v->sni_switch) || !arg_is(c, 2, k->kind)) {
		emu_error(s->emu);
		return;
	}
	v = &c->argv[2];
	field = (char *)&s->ssl[c->argv[1].num] + k->field;
	if (k->kind == EMU_ARG_NUMBER) {
		if (v->num < k->min || v->num > k->max) {
			emu_error(s->emu);
			return;
		}
		*(unsigned long *)(void *)field = v->num;
	} else {
		if (v->len < k->min || v->len > k->max || strlen(v->str) != v->len) {
			emu_error(s->emu);
			return;
		}
		free(*(char **)(void *)field);
		*(char **)(void *)field = emu_strndup(v->str, v->len);
	}
	emu_ok(s->emu);
}

/* Sets an https fetch's TLS as the context asks; 0, or the <statuscode>
 * the action fails with at once. */
static int ssl_apply(struct simcom *s, struct emu_fetch *f)
{
	const struct ssl_ctx *c = &s->ssl[s->p.sslcfg];
	const struct cert_file *ca = NULL;
	bool verify = c->authmode >= 1;

	if (verify) {
		/* authmode 2 also wants a client certificate, which this
		 * emulator never has */
		ca = find_cert(s, c->cacert);
		if (!ca || c->authmode == 2)
			return CA_MISSED;
	}
	/* The network side speaks TLS 1.2: a context limited to SSL 3.0,
	 * TLS 1.0 or 1.1 cannot agree with it. */
	if (c->sslversion < 3)
		return HANDSHAKE_FAILED;
	emu_url_set_tls(&f->url, verify, c->enable_sni && s->v->sni_switch,
			ca ? ca->data.data : NULL, ca ? ca->data.len : 0);
	f->url.tls_opts.ignore_dates = c->ignorelocaltime == 1;
	return 0;
}

static void ssl_reset(struct simcom *s)
{
	for (size_t i = 0; i < SSL_CTXS; i++)
		s->ssl[i] = ssl_defaults;
}

static void ssl_free(struct simcom *s)
{
	for (size_t i = 0; i < SSL_CTXS; i++)
		free(s->ssl[i].cacert);
	for (size_t i = 0; i < MAX_CERT_FILES; i++) {
		free(s->certs[i].name);
		emu_buf_free(&s->certs[i].data);
	}
	free(s->download_name);
}

/* ------------------------------------------------------------ dispatch */

/* Rows' needs. */
#define NEEDS_SERVICE 1u		/* ERROR unless AT+HTTPINIT was done;
					 * test forms never need it */
#define NEEDS_CERTDOWN 2u		/* firmware with AT+CCERTDOWN */

static bool may_run(void *ctx, unsigned needs, const struct emu_cmd *c)
{
	const struct simcom *s = ctx;

	if ((needs & NEEDS_SERVICE) && c->form != EMU_FORM_TEST && !s->started)
		return false;
	return !(needs & NEEDS_CERTDOWN) || s->v->certdown;
}

static const struct emu_command rows[] = {
	{ "+HTTPINIT", EMU_AT_EXEC, 0, http_init },
	{ "+HTTPTERM", EMU_AT_EXEC, NEEDS_SERVICE, http_term },
	{ "+HTTPPARA", EMU_AT_SET, NEEDS_SERVICE, http_para },
	{ "+HTTPDATA", EMU_AT_SET, NEEDS_SERVICE, http_data },
	{ "+HTTPACTION", EMU_AT_SET | EMU_AT_TEST, NEEDS_SERVICE, http_action },
	{ "+HTTPHEAD", EMU_AT_EXEC, NEEDS_SERVICE, http_head },
	{ "+HTTPREAD", EMU_AT_SET | EMU_AT_READ, NEEDS_SERVICE, http_read },
	{ "+CCERTDOWN", EMU_AT_SET, NEEDS_CERTDOWN, cert_download },
	{ "+CCERTLIST", EMU_AT_EXEC, 0, cert_list },
	{ "+CCERTDELE", EMU_AT_SET, 0, cert_delete },
	{ "+CSSLCFG", EMU_AT_SET, 0, ssl_config },
};

static const struct emu_commands commands = EMU_COMMANDS(rows, may_run, NULL);

/* ------------------------------------------------------------ life */

static void *open_simcom(struct emu *e, const struct emu_config *cfg,
			 const void *variant, const char **err)
{
	const struct simcom_variant *v = variant;
	struct simcom *s = emu_calloc(1, sizeof(*s));

	s->emu = e;
	s->cfg = cfg;
	s->v = v;
	emu_net_model(e, v->model);
	reset(s);
	ssl_reset(s);
	return s;
}

static void close_simcom(void *ctx)
{
	struct simcom *s = ctx;

	release(s);
	ssl_free(s);
	free(s);
}

const struct emu_dialect emu_simcom = {
	.name = "simcom",
	.commands = &commands,
	.variants = EMU_VARIANTS(variants, "simcom variant"),
	.open = open_simcom,
	.close = close_simcom,
	.data = data_done,
};
