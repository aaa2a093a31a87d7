/*
 * The Quectel-style HTTP(S) command set: AT+HTTPCFG, AT+HTTPURL (the URL in
 * a CONNECT data phase), AT+HTTPGET, AT+HTTPGETEX, AT+HTTPPOST (with a custom
 * request header when "requestheader" is 1), AT+HTTPREAD, AT+HTTPSTOP.
 * Two dialects share this file: httpcfg speaks the commands as the manual
 * (seeds/002, chapter 15) spells them; quectel is the same set with Q after
 * the plus (AT+QHTTPCFG, +QHTTPGET: ...).  The prefix and the few places
 * where Quectel's own firmware differs from the manual are data
 * (struct hc_flavour), not code.
 *
 * The module has a real TCP link to the origin per request: the request
 * (built from the parameters, or the host's custom packet sent as is) goes
 * to the host:port of the URL (or its --route), the response is parsed as
 * it arrives, and once complete +HTTPGET: 0,<status>[,<content_length>]
 * reports it; AT+HTTPREAD prints CONNECT, the header block (with
 * "responseheader" 1), the body, OK, then +HTTPREAD: 0.  The manual gives
 * no error numbers: these are the HTTP(S) codes of Quectel's manuals (701
 * unknown, 702 timeout, 703 busy, 705 no request, 711 URL, 712 empty URL,
 * 714 DNS, 716 connect, 718 write, 719 closed, 723 bad response, 726 input
 * timeout, 729 memory, 730 invalid parameter).  Not emulated:
 * AT+HTTPPOSTFILE and AT+HTTPREADFILE, "rspout/auto" 1 (the manual does
 * not say what it prints).
 *
 * https: an https:// URL is fetched over TLS with the SSL context
 * "sslctxid" names, exactly as far as that context asks: the server is
 * verified with seclevel 1 or 2 against the file "cacert" names, SNI is
 * sent with "sni" 1.  The commands (the SSL and FILE AT manuals of
 * Quectel, which the seed leaves out; the unprefixed twin drops the Q as
 * everywhere else):
 *   AT+QSSLCFG="sslversion"|"seclevel"|"sni",<ctx>[,<n>], "cacert",<ctx>[,"<file>"]
 *                                  (a query without the value; ERROR for
 *                                  anything else)
 *   AT+QFUPL="<file>"[,<size>[,<timeout>[,<ackmode>]]]  CONNECT, exactly
 *                                  <size> bytes, +QFUPL: <size>,<checksum>
 *                                  (16-bit XOR of big-endian byte pairs),
 *                                  OK; +CME ERROR: 407 if the file exists,
 *                                  421 if the bytes do not come in time
 *   AT+QFLST[="<pattern>"]         +QFLST: "UFS:<file>",<size> ... OK
 *   AT+QFDEL="<file>"|"*"          OK, or +CME ERROR: 405 (no such file)
 * Files live in "UFS:" (the prefix may be left out).  Per the unprefixed
 * manual's note to 15.1, its https works with "sslctxid" 2 only.  A TLS
 * failure, a rejected certificate included, is the SSL socket's connect
 * failing: +HTTPGET: 716 (+CME ERROR: 716 to HTTPPOST), as is
 * verification asked for with no CA file to verify with.
 */
#include "emu.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_URL 2048			/* AT+HTTPURL <URL_length> */
#define MAX_GET_PACKET 2048		/* AT+HTTPGET <data_length> */
#define MAX_POST 1024000		/* AT+HTTPPOST <data_length> */
#define MAX_SECONDS 65535		/* every <timeout>, <rsptime> ... */
#define DEFAULT_SECONDS 60
#define MS_PER_S 1000u

/* Where Quectel's firmware and the manual's differ. */
struct hc_flavour {
	const char *q;			/* after the plus: "" or "Q" */
	bool all_cfg;			/* contextid, contenttype, closed/ind
					 * can be set (the manual: not yet) */
	bool stop;			/* AT+HTTPSTOP works (the manual: not
					 * yet) */
	const char *user_agent;		/* of the requests it builds */
	unsigned long https_ctx;	/* the only "sslctxid" https works with
					 * (0: any) */
};

static const struct hc_flavour httpcfg_flavour = {
	.q = "",
	.all_cfg = false,
	.stop = false,
	.user_agent = "HTTP_MODULE",
	.https_ctx = 2,			/* the manual's note to 15.1 */
};

static const struct hc_flavour quectel_flavour = {
	.q = "Q",
	.all_cfg = true,
	.stop = true,
	.user_agent = "QUECTEL_MODULE",
};

/* How firmware versions differ in their answers: --variant. */
struct hc_variant {
	const char *name;
	bool timeout_code;		/* <rsptime> passed: +HTTPGET: 702
					 * rather than the manual's TIMEOUT */
	bool raw_chunked;		/* AT+HTTPREAD gives a chunked body
					 * with its chunk framing */
	bool read_no_ok;		/* AT+HTTPREAD ends as table 12
					 * prints it: +HTTPREAD: 0, no OK */
	bool sni_off;			/* "sni" is 0 until set */
	bool no_upload;			/* no AT+QFUPL: no CA can be loaded */
	bool no_seclevel;		/* "seclevel" 1 and 2 refused: no
					 * server verification */
};

static const struct hc_variant variants[] = {
	{ .name = "manual" },
	{ .name = "timeout-code", .timeout_code = true },
	{ .name = "raw-chunked", .raw_chunked = true },
	{ .name = "table12", .read_no_ok = true },
	{ .name = "sni-off", .sni_off = true },
	{ .name = "no-upload", .no_upload = true },
	{ .name = "no-seclevel", .no_seclevel = true },
};

enum {
	E_UNKNOWN = 701,
	E_TIMEOUT = 702,
	E_BUSY = 703,
	E_NO_REQUEST = 705,
	E_URL = 711,
	E_EMPTY_URL = 712,
	E_WRITE = 718,
	E_CONNECT = 716,
	E_NETWORK_DEACTIVATED = 709,	/* no PDP context active */
	E_INPUT_TIMEOUT = 726,
	E_PARAM = 730,
	/* the FILE AT manual's */
	E_FILE_NOT_FOUND = 405,
	E_FILE_NAME = 406,
	E_FILE_EXISTS = 407,
	E_FILE_TIMEOUT = 421,
	E_FILE_TOO_LARGE = 423,
};

static const int fetch_code[EMU_FETCH_NSTATUS] = {
	[EMU_FETCH_BAD_URL] = E_URL,
	/* the SSL socket's connect fails, whatever failed in it */
	[EMU_FETCH_TLS] = E_CONNECT,
	[EMU_FETCH_TLS_VERIFY] = E_CONNECT,
	[EMU_FETCH_DNS] = 714,
	[EMU_FETCH_CONNECT] = E_CONNECT,
	[EMU_FETCH_TIMEOUT] = E_TIMEOUT,
	[EMU_FETCH_NOT_HTTP] = 723,
	[EMU_FETCH_TOO_BIG] = 729,
	[EMU_FETCH_CLOSED] = 719,
	[EMU_FETCH_CANCELLED] = E_UNKNOWN,
};

/* ------------------------------------------------------------ AT+HTTPCFG */

enum {
	P_CONTEXTID, P_REQUESTHEADER, P_RESPONSEHEADER, P_SSLCTXID,
	P_CONTENTTYPE, P_RSPOUT, P_CLOSEDIND, P_N
};

enum settable { SET_ALWAYS, SET_ALL_CFG, SET_ZERO_ONLY };

static const struct hc_param {
	const char *key;
	unsigned long min, max, def;
	const char *range;		/* as AT+HTTPCFG=? prints it */
	enum settable settable;
} params[P_N] = {
	[P_CONTEXTID] = { "contextid", 1, 16, 1, "(1-16)", SET_ALL_CFG },
	[P_REQUESTHEADER] = { "requestheader", 0, 1, 0, "(0,1)", SET_ALWAYS },
	[P_RESPONSEHEADER] = { "responseheader", 0, 1, 0, "(0,1)", SET_ALWAYS },
	[P_SSLCTXID] = { "sslctxid", 0, 5, 1, "(0-5)", SET_ALWAYS },
	[P_CONTENTTYPE] = { "contenttype", 0, 3, 0, "(0-3)", SET_ALL_CFG },
	[P_RSPOUT] = { "rspout/auto", 0, 1, 0, "(0,1)", SET_ZERO_ONLY },
	[P_CLOSEDIND] = { "closed/ind", 0, 1, 0, "(0,1)", SET_ALL_CFG },
};

static const char *const content_type[] = {
	"application/x-www-form-urlencoded",
	"text/plain",
	"application/octet-stream",
	"multipart/form-data",
};

/* ------------------------------------------------------------ state */

enum phase {
	REQ_NONE,
	REQ_CONNECTING,			/* AT+HTTPPOST before its CONNECT */
	REQ_INPUT,			/* AT+HTTPPOST's data phase */
	REQ_RUNNING,			/* OK given; the URC is due */
};

enum data_kind { DATA_URL, DATA_GET, DATA_POST, DATA_FILE };

/* ------------------------------------------------------------ SSL, files */

#define SSL_CTXS 6			/* <sslctxID> 0-5 */
#define MAX_FILES 16
#define MAX_FILE_NAME 80		/* the FILE manual's <filename> */
#define MAX_FILE_SIZE (256 * 1024)	/* what the UFS takes here */
#define DEFAULT_FILE_SIZE 10240
#define DEFAULT_FILE_TIMEOUT 5

enum { S_SSLVERSION, S_SECLEVEL, S_SNI, S_NUM };

static const struct ssl_param {
	const char *key;
	unsigned long max, def;
} ssl_params[S_NUM] = {
	[S_SSLVERSION] = { "sslversion", 4, 4 },
	[S_SECLEVEL] = { "seclevel", 2, 0 },
	[S_SNI] = { "sni", 1, 1 },
};

struct ssl_ctx {
	unsigned long v[S_NUM];
	char *cacert;			/* the file "cacert" names; NULL: none */
};

struct hc_file {
	char *name;			/* without "UFS:"; NULL: a free slot */
	struct emu_buf data;
};

struct hc {
	struct emu *emu;
	const struct emu_config *cfg;
	const struct hc_flavour *fl;
	const struct hc_variant *v;
	unsigned long cfgv[P_N];
	char *url;			/* AT+HTTPURL; NULL: none */
	enum data_kind data_kind;
	struct ssl_ctx ssl[SSL_CTXS];
	struct hc_file files[MAX_FILES];
	char upload[MAX_FILE_NAME + 1];	/* AT+QFUPL's file, during its data */
	bool tls_unusable;		/* the request's TLS cannot start */

	/* the request in progress */
	enum phase phase;
	const char *urc;		/* "HTTPGET", "HTTPGETEX", "HTTPPOST" */
	bool raw;			/* custom request header */
	unsigned rsptime_ms, input_ms;
	unsigned long post_len;
	struct emu_link *link;
	bool link_dead;			/* closed during the data phase */
	struct emu_fetch *f;		/* url, head_only; then the response */
	struct emu_resp *parser;
	struct emu_buf pending;		/* to send once connected */
	struct emu_buf rx;		/* every byte the origin sent */

	/* the last response, until AT+HTTPREAD */
	struct emu_fetch *resp;
	struct emu_buf resp_raw_body;
};

static void req_clear(struct hc *h)
{
	emu_link_close(h->link);
	h->link = NULL;
	if (h->parser)
		emu_resp_free(h->parser);
	h->parser = NULL;
	emu_fetch_free(h->f);
	h->f = NULL;
	emu_buf_free(&h->pending);
	emu_buf_free(&h->rx);
	h->link_dead = false;
	h->phase = REQ_NONE;
}

static void drop_response(struct hc *h)
{
	emu_fetch_free(h->resp);
	h->resp = NULL;
	emu_buf_free(&h->resp_raw_body);
}

static void cme_error(struct hc *h, int code)
{
	emu_sendf(h->emu, EMU_MARK_DONE, "\r\n+CME ERROR: %d\r\n", code);
}

/* ------------------------------------------------------------ the result */

static void report_failure(struct hc *h, int code)
{
	if (code == E_TIMEOUT && !h->v->timeout_code)
		emu_send(h->emu, EMU_MARK_NONE, "\r\nTIMEOUT\r\n", 11);
	else
		emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%s%s: %d\r\n", h->fl->q,
			  h->urc, code);
}

static void finish(struct hc *h, enum emu_fetch_status st)
{
	struct emu_fetch *f = h->f;

	if (st != EMU_FETCH_OK) {
		report_failure(h, fetch_code[st]);
		req_clear(h);
		return;
	}
	drop_response(h);
	h->resp = f;
	h->f = NULL;
	if (h->rx.len > f->header.len)
		emu_buf_add(&h->resp_raw_body, h->rx.data + f->header.len,
			    h->rx.len - f->header.len);
	/* <content_length> only when the response has the header */
	if (f->has_length)
		emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%s%s: 0,%d,%llu\r\n",
			  h->fl->q, h->urc, f->http_status,
			  (unsigned long long)f->content_length);
	else
		emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%s%s: 0,%d\r\n",
			  h->fl->q, h->urc, f->http_status);
	req_clear(h);
}

static void feed(struct hc *h, const char *p, size_t n)
{
	enum emu_fetch_status st;

	emu_buf_add(&h->rx, p, n);
	st = emu_resp_feed(h->parser, p, n);
	if (st != EMU_FETCH_OK)
		finish(h, st);
	else if (emu_resp_complete(h->parser))
		finish(h, EMU_FETCH_OK);
}

static void on_link(void *ctx, enum emu_link_event ev,
		    enum emu_fetch_status st, const char *p, size_t n)
{
	struct hc *h = ctx;

	switch (ev) {
	case EMU_LINK_CONNECTED:
		if (h->phase == REQ_CONNECTING) {
			/* AT+HTTPPOST: CONNECT only once connected */
			if (st != EMU_FETCH_OK) {
				req_clear(h);
				cme_error(h, fetch_code[st]);
				return;
			}
			if (h->pending.len)	/* the header goes first */
				emu_link_send(h->link, h->pending.data,
					      h->pending.len, h->rsptime_ms);
			emu_buf_free(&h->pending);
			h->phase = REQ_INPUT;
			emu_download(h->emu, "\r\nCONNECT\r\n", h->post_len,
				     h->input_ms);
			return;
		}
		if (st != EMU_FETCH_OK) {
			finish(h, st);
			return;
		}
		emu_link_send(h->link, h->pending.data, h->pending.len,
			      h->rsptime_ms);
		emu_buf_free(&h->pending);
		break;
	case EMU_LINK_SENT:
		if (st == EMU_FETCH_OK)
			break;
		if (h->phase == REQ_INPUT) {
			h->link_dead = true;
		} else {
			report_failure(h, st == EMU_FETCH_TIMEOUT ? E_TIMEOUT
								  : E_WRITE);
			req_clear(h);
		}
		break;
	case EMU_LINK_DATA:
		if (h->phase == REQ_INPUT)	/* parsed once the body is sent */
			emu_buf_add(&h->rx, p, n);
		else
			feed(h, p, n);
		break;
	case EMU_LINK_CLOSED:
		if (h->phase == REQ_INPUT) {
			h->link_dead = true;
			return;
		}
		if (st == EMU_FETCH_OK)
			feed(h, NULL, 0);
		else
			finish(h, st);
		break;
	}
}

/* Opens the link for the request in h->f.  The <rsptime> runs from now. */
static void start(struct hc *h)
{
	h->parser = emu_resp_new(h->f, h->cfg->max_body);
	if (h->tls_unusable) {
		/* as if the handshake had failed: it would */
		on_link(h, EMU_LINK_CONNECTED, EMU_FETCH_TLS, NULL, 0);
		return;
	}
	h->link = emu_link_open(emu_jobs(h->emu), &h->f->url, h->rsptime_ms,
				on_link, h);
	if (h->phase == REQ_RUNNING)
		emu_link_deadline(h->link, h->rsptime_ms);
}

static struct hc_file *find_file(struct hc *h, const char *name)
{
	for (size_t i = 0; i < MAX_FILES; i++)
		if (h->files[i].name && !strcmp(h->files[i].name, name))
			return &h->files[i];
	return NULL;
}

/* The TLS of an https URL, as the service's SSL context says. */
static void set_tls(struct hc *h, struct emu_url *u)
{
	unsigned long id = h->cfgv[P_SSLCTXID];
	const struct ssl_ctx *x = &h->ssl[id];
	const struct hc_file *ca = x->cacert ? find_file(h, x->cacert) : NULL;
	bool verify = x->v[S_SECLEVEL] >= 1;

	h->tls_unusable = false;
	if (!u->tls)
		return;
	/* no such context for https; nothing to verify with */
	h->tls_unusable = (h->fl->https_ctx && id != h->fl->https_ctx) ||
			  (verify && !ca);
	emu_url_set_tls(u, verify, x->v[S_SNI] != 0, ca ? ca->data.data : NULL,
			ca ? ca->data.len : 0);
}

static void new_request(struct hc *h, const char *urc, bool raw,
			unsigned long rsptime)
{
	h->f = emu_calloc(1, sizeof(*h->f));
	/* AT+HTTPURL checked it */
	if (emu_url_parse(h->url, &h->f->url) < 0)
		abort();
	set_tls(h, &h->f->url);
	h->urc = urc;
	h->raw = raw;
	h->rsptime_ms = (unsigned)rsptime * MS_PER_S;
}

static void build_head(struct hc *h, struct emu_buf *r, const char *method)
{
	emu_buf_addf(r, "%s %s HTTP/1.1\r\nHost: %s\r\nAccept: */*\r\n"
		     "User-Agent: %s\r\n", method, h->f->url.target,
		     h->f->url.authority, h->fl->user_agent);
}

static bool is_head_request(const struct emu_buf *b)
{
	return b->len >= 5 && !memcmp(b->data, "HEAD ", 5);
}

/* ------------------------------------------------------------ commands */

static bool arg_is(const struct emu_cmd *c, size_t i, enum emu_arg_kind k)
{
	return i < c->argc && c->argv[i].kind == k;
}

/* Argument i: a number in [min, max], or def when absent (i >= argc). */
static bool num_arg(const struct emu_cmd *c, size_t i, unsigned long min,
		    unsigned long max, unsigned long def, unsigned long *out)
{
	if (i >= c->argc) {
		*out = def;
		return true;
	}
	if (!arg_is(c, i, EMU_ARG_NUMBER) || c->argv[i].num < min ||
	    c->argv[i].num > max)
		return false;
	*out = c->argv[i].num;
	return true;
}

/* A file name argument: a quoted name of at most 80 bytes, in "UFS:" (the
 * prefix may be left out); the name without it into out. */
static bool file_name(const struct emu_arg *a, char out[MAX_FILE_NAME + 1])
{
	const char *p;
	size_t n;

	if (a->kind != EMU_ARG_STRING)
		return false;
	p = a->str;
	if (!strncmp(p, "UFS:", 4))
		p += 4;
	n = strlen(p);
	if (!n || n > MAX_FILE_NAME || strlen(a->str) != a->len)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f ||
		    strchr("\"*?:/\\", p[i]))
			return false;
	memcpy(out, p, n + 1);
	return true;
}

static void http_cfg(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	const struct hc_param *p = NULL;
	size_t i;

	if (c->form == EMU_FORM_TEST || c->form == EMU_FORM_READ) {
		emu_send(h->emu, EMU_MARK_NONE, "\r\n", 2);
		for (i = 0; i < P_N; i++) {
			if (c->form == EMU_FORM_TEST)
				emu_sendf(h->emu, EMU_MARK_NONE,
					  "+%sHTTPCFG: \"%s\",%s\r\n", h->fl->q,
					  params[i].key, params[i].range);
			else
				emu_sendf(h->emu, EMU_MARK_NONE,
					  "+%sHTTPCFG: \"%s\",%lu\r\n", h->fl->q,
					  params[i].key, h->cfgv[i]);
		}
		emu_ok(h->emu);
		return;
	}
	if ((c->argc == 1 || c->argc == 2) && arg_is(c, 0, EMU_ARG_STRING))
		for (i = 0; i < P_N && !p; i++)
			if (!strcmp(params[i].key, c->argv[0].str))
				p = &params[i];
	if (!p) {
		cme_error(h, E_PARAM);
		return;
	}
	i = (size_t)(p - params);
	if (c->argc == 1) {
		emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%sHTTPCFG: \"%s\",%lu\r\n",
			  h->fl->q, p->key, h->cfgv[i]);
		emu_ok(h->emu);
		return;
	}
	if (!arg_is(c, 1, EMU_ARG_NUMBER) || c->argv[1].num < p->min ||
	    c->argv[1].num > p->max ||
	    (p->settable == SET_ALL_CFG && !h->fl->all_cfg) ||
	    (p->settable == SET_ZERO_ONLY && c->argv[1].num != 0)) {
		cme_error(h, E_PARAM);
		return;
	}
	h->cfgv[i] = c->argv[1].num;
	emu_ok(h->emu);
}

static void http_url(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	unsigned long len, timeout;

	if (c->form == EMU_FORM_TEST) {
		emu_sendf(h->emu, EMU_MARK_NONE,
			  "\r\n+%sHTTPURL: (1-%d),(1-%d)\r\n", h->fl->q,
			  MAX_URL, MAX_SECONDS);
		emu_ok(h->emu);
		return;
	}
	if (c->form == EMU_FORM_READ) {
		if (!h->url) {
			cme_error(h, E_EMPTY_URL);
			return;
		}
		emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%sHTTPURL: %s\r\n",
			  h->fl->q, h->url);
		emu_ok(h->emu);
		return;
	}
	if (c->argc > 2 || !num_arg(c, 0, 1, MAX_URL, 0, &len) || !len ||
	    !num_arg(c, 1, 1, MAX_SECONDS, DEFAULT_SECONDS, &timeout)) {
		cme_error(h, E_PARAM);
		return;
	}
	if (h->phase != REQ_NONE) {
		cme_error(h, E_BUSY);
		return;
	}
	h->data_kind = DATA_URL;
	emu_download(h->emu, "\r\nCONNECT\r\n", len, (unsigned)timeout * MS_PER_S);
}

static bool valid_url(const struct emu_buf *b)
{
	struct emu_url u;

	if (strlen(b->data) != b->len ||
	    (strncasecmp(b->data, "http://", 7) &&
	     strncasecmp(b->data, "https://", 8)))
		return false;
	for (size_t i = 0; i < b->len; i++)
		if ((unsigned char)b->data[i] <= 0x20 ||
		    (unsigned char)b->data[i] >= 0x7f)
			return false;
	if (emu_url_parse(b->data, &u) < 0)
		return false;
	emu_url_free(&u);
	return true;
}

/* AT+HTTPGET, AT+HTTPGETEX: with the parameters; OK, then the URC. */
static void get_request(struct hc *h, const char *urc, unsigned long rsptime,
			const unsigned long *range)
{
	struct emu_buf *r = &h->pending;

	new_request(h, urc, false, rsptime);
	build_head(h, r, "GET");
	if (range)
		emu_buf_addf(r, "Range: bytes=%lu-%lu\r\n", range[0],
			     range[0] + range[1] - 1);
	emu_buf_addf(r, "Connection: close\r\n\r\n");
	h->phase = REQ_RUNNING;
	emu_ok(h->emu);
	start(h);
}

static bool can_request(struct hc *h)
{
	if (h->phase != REQ_NONE) {
		cme_error(h, E_BUSY);
		return false;
	}
	if (!h->url) {
		cme_error(h, E_EMPTY_URL);
		return false;
	}
	if (!emu_net_ready(h->emu)) {
		cme_error(h, E_NETWORK_DEACTIVATED);
		return false;
	}
	emu_request_begin(h->emu);
	return true;
}

static void http_get(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	unsigned long rsptime, len, input;

	if (c->form == EMU_FORM_TEST) {
		emu_sendf(h->emu, EMU_MARK_NONE,
			  "\r\n+%sHTTPGET: (1-%d),(1-%d),(1-%d)\r\n", h->fl->q,
			  MAX_SECONDS, MAX_GET_PACKET, MAX_SECONDS);
		emu_ok(h->emu);
		return;
	}
	if (!h->cfgv[P_REQUESTHEADER]) {
		/* AT+HTTPGET[=<rsptime>] */
		if (c->argc > 1 ||
		    !num_arg(c, 0, 1, MAX_SECONDS, DEFAULT_SECONDS, &rsptime)) {
			cme_error(h, E_PARAM);
			return;
		}
		if (can_request(h))
			get_request(h, "HTTPGET", rsptime, NULL);
		return;
	}
	/* AT+HTTPGET=<rsptime>,<data_length>[,<input_time>] */
	if (c->form != EMU_FORM_SET || c->argc < 2 || c->argc > 3 ||
	    !num_arg(c, 0, 1, MAX_SECONDS, 0, &rsptime) ||
	    !num_arg(c, 1, 1, MAX_GET_PACKET, 0, &len) ||
	    !num_arg(c, 2, 1, MAX_SECONDS, DEFAULT_SECONDS, &input)) {
		cme_error(h, E_PARAM);
		return;
	}
	if (!can_request(h))
		return;
	new_request(h, "HTTPGET", true, rsptime);
	h->data_kind = DATA_GET;
	h->phase = REQ_INPUT;
	emu_download(h->emu, "\r\nCONNECT\r\n", len, (unsigned)input * MS_PER_S);
}

static void http_getex(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	unsigned long rsptime, range[2];

	if (c->argc != 3 || h->cfgv[P_REQUESTHEADER] ||
	    !num_arg(c, 0, 1, MAX_SECONDS, 0, &rsptime) ||
	    !num_arg(c, 1, 0, ULONG_MAX / 2, 0, &range[0]) ||
	    !num_arg(c, 2, 1, ULONG_MAX / 2, 0, &range[1])) {
		cme_error(h, E_PARAM);
		return;
	}
	if (can_request(h))
		get_request(h, "HTTPGETEX", rsptime, range);
}

static void http_post(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	unsigned long len, input, rsptime;

	if (c->form == EMU_FORM_TEST) {
		emu_sendf(h->emu, EMU_MARK_NONE,
			  "\r\n+%sHTTPPOST: (1-%d),(1-%d),(1-%d)\r\n", h->fl->q,
			  MAX_POST, MAX_SECONDS, MAX_SECONDS);
		emu_ok(h->emu);
		return;
	}
	/* AT+HTTPPOST=<data_length>[,<input_time>,<rsptime>] */
	if ((c->argc != 1 && c->argc != 3) ||
	    !num_arg(c, 0, 1, MAX_POST, 0, &len) ||
	    !num_arg(c, 1, 1, MAX_SECONDS, DEFAULT_SECONDS, &input) ||
	    !num_arg(c, 2, 1, MAX_SECONDS, DEFAULT_SECONDS, &rsptime)) {
		cme_error(h, E_PARAM);
		return;
	}
	if (!can_request(h))
		return;
	new_request(h, "HTTPPOST", h->cfgv[P_REQUESTHEADER] != 0, rsptime);
	h->input_ms = (unsigned)input * MS_PER_S;
	h->post_len = len;
	h->data_kind = DATA_POST;
	if (!h->raw) {
		build_head(h, &h->pending, "POST");
		emu_buf_addf(&h->pending, "Content-Type: %s\r\n"
			     "Content-Length: %lu\r\nConnection: close\r\n\r\n",
			     content_type[h->cfgv[P_CONTENTTYPE]], len);
	}
	/* CONNECT comes once the origin is connected. */
	h->phase = REQ_CONNECTING;
	start(h);
}

static void file_uploaded(struct hc *h, struct emu_buf *data, bool complete);

static void data_done(void *ctx, struct emu_buf *data, bool complete)
{
	struct hc *h = ctx;

	if (!complete && h->data_kind != DATA_FILE) {
		/* fewer bytes than announced, and <input_time> passed */
		if (h->data_kind != DATA_URL)
			req_clear(h);
		cme_error(h, E_INPUT_TIMEOUT);
		return;
	}
	switch (h->data_kind) {
	case DATA_FILE:
		file_uploaded(h, data, complete);
		return;
	case DATA_URL:
		if (!valid_url(data)) {
			cme_error(h, E_URL);
			return;
		}
		free(h->url);
		h->url = emu_strndup(data->data, data->len);
		emu_ok(h->emu);
		return;
	case DATA_GET:
		h->f->head_only = is_head_request(data);
		h->pending = *data;
		*data = (struct emu_buf){ 0 };
		h->phase = REQ_RUNNING;
		emu_ok(h->emu);
		start(h);
		return;
	case DATA_POST:
		emu_ok(h->emu);
		if (h->link_dead) {
			report_failure(h, E_WRITE);
			req_clear(h);
			return;
		}
		h->f->head_only = h->raw && is_head_request(data);
		h->phase = REQ_RUNNING;
		emu_link_send(h->link, data->data, data->len, h->rsptime_ms);
		emu_link_deadline(h->link, h->rsptime_ms);
		if (h->rx.len) {
			/* the origin answered before the body was complete */
			struct emu_buf early = h->rx;

			h->rx = (struct emu_buf){ 0 };
			feed(h, early.data, early.len);
			emu_buf_free(&early);
		}
		return;
	}
}

static void http_read(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	unsigned long wait;
	const struct emu_buf *body;

	if (c->form == EMU_FORM_TEST) {
		emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%sHTTPREAD: (1-%d)\r\n",
			  h->fl->q, MAX_SECONDS);
		emu_ok(h->emu);
		return;
	}
	/* AT+HTTPREAD[=<wait_time>] */
	if (c->argc > 1 ||
	    !num_arg(c, 0, 1, MAX_SECONDS, DEFAULT_SECONDS, &wait)) {
		cme_error(h, E_PARAM);
		return;
	}
	if (h->phase != REQ_NONE) {
		cme_error(h, E_BUSY);
		return;
	}
	if (!h->resp) {
		cme_error(h, E_NO_REQUEST);
		return;
	}
	body = h->v->raw_chunked && h->resp->chunked ? &h->resp_raw_body
						     : &h->resp->body;
	emu_send(h->emu, EMU_MARK_NONE, "\r\nCONNECT\r\n", 11);
	if (h->cfgv[P_RESPONSEHEADER])
		emu_send_data(h->emu, h->resp->header.data,
			      h->resp->header.len);
	emu_send_data(h->emu, body->data, body->len);
	if (!h->v->read_no_ok)
		emu_send(h->emu, EMU_MARK_NONE, "\r\nOK\r\n", 6);
	emu_sendf(h->emu, EMU_MARK_DONE, "\r\n+%sHTTPREAD: 0\r\n", h->fl->q);
	drop_response(h);
}

static void http_stop(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;

	if (c->form == EMU_FORM_TEST) {
		emu_ok(h->emu);
		return;
	}
	if (!h->fl->stop) {
		emu_error(h->emu);	/* the manual: not supported yet */
		return;
	}
	req_clear(h);
	emu_ok(h->emu);
}

/* ------------------------------------------------------------ AT+QSSLCFG */

/* AT+QSSLCFG="<key>",<ctx>[,<value>]: the SSL manual answers ERROR to
 * anything it does not take. */
static void ssl_cfg(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	struct ssl_ctx *x;
	size_t k;

	if (c->argc < 2 || c->argc > 3 || !arg_is(c, 0, EMU_ARG_STRING) ||
	    !arg_is(c, 1, EMU_ARG_NUMBER) || c->argv[1].num >= SSL_CTXS) {
		emu_error(h->emu);
		return;
	}
	x = &h->ssl[c->argv[1].num];
	if (!strcmp(c->argv[0].str, "cacert")) {
		if (c->argc == 2) {
			emu_sendf(h->emu, EMU_MARK_NONE,
				  "\r\n+%sSSLCFG: \"cacert\",%lu,\"%s%s\"\r\n",
				  h->fl->q, c->argv[1].num, x->cacert ? "UFS:" : "",
				  x->cacert ? x->cacert : "");
			emu_ok(h->emu);
			return;
		}
		char name[MAX_FILE_NAME + 1];
		if (!file_name(&c->argv[2], name)) {
			emu_error(h->emu);
			return;
		}
		/* the file is looked up when a handshake needs it */
		free(x->cacert);
		x->cacert = emu_strndup(name, strlen(name));
		emu_ok(h->emu);
		return;
	}
	for (k = 0; k < S_NUM; k++)
		if (!strcmp(c->argv[0].str, ssl_params[k].key))
			break;
	if (k == S_NUM) {
		emu_error(h->emu);
		return;
	}
	if (c->argc == 2) {
		emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%sSSLCFG: \"%s\",%lu,%lu\r\n",
			  h->fl->q, ssl_params[k].key, c->argv[1].num, x->v[k]);
		emu_ok(h->emu);
		return;
	}
	if (!arg_is(c, 2, EMU_ARG_NUMBER) || c->argv[2].num > ssl_params[k].max ||
	    (k == S_SECLEVEL && c->argv[2].num > 0 && h->v->no_seclevel)) {
		emu_error(h->emu);
		return;
	}
	x->v[k] = c->argv[2].num;
	emu_ok(h->emu);
}

/* ------------------------------------------------------------ AT+QF... */

/* Quectel's FILE AT manual: a 16-bit XOR of big-endian byte pairs, an odd
 * last byte as the high half. */
static unsigned file_checksum(const struct emu_buf *b)
{
	unsigned sum = 0;

	for (size_t i = 0; i < b->len; i += 2)
		sum ^= (unsigned)(unsigned char)b->data[i] << 8 |
		       (i + 1 < b->len ? (unsigned char)b->data[i + 1] : 0u);
	return sum;
}

static void file_upload(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	unsigned long size, timeout, ack;
	char name[MAX_FILE_NAME + 1];

	if (h->v->no_upload) {
		emu_error(h->emu);
		return;
	}
	/* AT+QFUPL=<filename>[,<file_size>[,<timeout>[,<ackmode>]]] */
	if (c->argc < 1 || c->argc > 4 || !file_name(&c->argv[0], name) ||
	    !num_arg(c, 1, 1, ULONG_MAX, DEFAULT_FILE_SIZE, &size) ||
	    !num_arg(c, 2, 1, MAX_SECONDS, DEFAULT_FILE_TIMEOUT, &timeout) ||
	    !num_arg(c, 3, 0, 0, 0, &ack)) {	/* no ACK mode here */
		if (c->argc >= 1 && arg_is(c, 0, EMU_ARG_STRING) &&
		    !file_name(&c->argv[0], name))
			cme_error(h, E_FILE_NAME);
		else
			emu_error(h->emu);
		return;
	}
	if (find_file(h, name)) {
		cme_error(h, E_FILE_EXISTS);
		return;
	}
	if (size > MAX_FILE_SIZE) {
		cme_error(h, E_FILE_TOO_LARGE);
		return;
	}
	memcpy(h->upload, name, sizeof(h->upload));
	h->data_kind = DATA_FILE;
	emu_download(h->emu, "\r\nCONNECT\r\n", size, (unsigned)timeout * MS_PER_S);
}

static void file_uploaded(struct hc *h, struct emu_buf *data, bool complete)
{
	size_t i;

	if (!complete) {
		cme_error(h, E_FILE_TIMEOUT);
		return;
	}
	for (i = 0; i < MAX_FILES && h->files[i].name; i++)
		;
	if (i == MAX_FILES) {
		cme_error(h, E_FILE_TOO_LARGE);
		return;
	}
	h->files[i].name = emu_strndup(h->upload, strlen(h->upload));
	h->files[i].data = *data;
	*data = (struct emu_buf){ 0 };
	emu_sendf(h->emu, EMU_MARK_NONE, "\r\n+%sFUPL: %zu,%x\r\n", h->fl->q,
		  h->files[i].data.len, file_checksum(&h->files[i].data));
	emu_ok(h->emu);
}

/* AT+QFLST[="<pattern>"]: "*" (or "UFS:*") for every file, else a name. */
static void file_list(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	char name[MAX_FILE_NAME + 1] = "*";
	bool all = true;

	if (c->form == EMU_FORM_SET) {
		const char *p = arg_is(c, 0, EMU_ARG_STRING) ? c->argv[0].str : NULL;

		if (c->argc != 1 || !p) {
			emu_error(h->emu);
			return;
		}
		all = !strcmp(p, "*") || !strcmp(p, "UFS:*");
		if (!all && !file_name(&c->argv[0], name)) {
			cme_error(h, E_FILE_NAME);
			return;
		}
	}
	emu_send(h->emu, EMU_MARK_NONE, "\r\n", 2);
	for (size_t i = 0; i < MAX_FILES; i++)
		if (h->files[i].name && (all || !strcmp(h->files[i].name, name)))
			emu_sendf(h->emu, EMU_MARK_NONE, "+%sFLST: \"UFS:%s\",%zu\r\n",
				  h->fl->q, h->files[i].name, h->files[i].data.len);
	emu_ok(h->emu);
}

static void drop_file(struct hc_file *f)
{
	free(f->name);
	f->name = NULL;
	emu_buf_free(&f->data);
}

/* AT+QFDEL="<filename>" or "*" */
static void file_delete(void *ctx, const struct emu_cmd *c)
{
	struct hc *h = ctx;
	char name[MAX_FILE_NAME + 1];
	struct hc_file *f;

	if (c->argc != 1 || !arg_is(c, 0, EMU_ARG_STRING)) {
		emu_error(h->emu);
		return;
	}
	if (!strcmp(c->argv[0].str, "*") || !strcmp(c->argv[0].str, "UFS:*")) {
		for (size_t i = 0; i < MAX_FILES; i++)
			drop_file(&h->files[i]);
		emu_ok(h->emu);
		return;
	}
	if (!file_name(&c->argv[0], name)) {
		cme_error(h, E_FILE_NAME);
		return;
	}
	f = find_file(h, name);
	if (!f) {
		cme_error(h, E_FILE_NOT_FOUND);
		return;
	}
	drop_file(f);
	emu_ok(h->emu);
}

/* ------------------------------------------------------------ dispatch */

static const struct emu_command rows[] = {
	{ "HTTPCFG", EMU_AT_SET | EMU_AT_READ | EMU_AT_TEST, 0, http_cfg },
	{ "HTTPURL", EMU_AT_SET | EMU_AT_READ | EMU_AT_TEST, 0, http_url },
	{ "HTTPGET", EMU_AT_EXEC | EMU_AT_SET | EMU_AT_TEST, 0, http_get },
	{ "HTTPGETEX", EMU_AT_SET, 0, http_getex },
	{ "HTTPPOST", EMU_AT_SET | EMU_AT_TEST, 0, http_post },
	{ "HTTPREAD", EMU_AT_EXEC | EMU_AT_SET | EMU_AT_TEST, 0, http_read },
	{ "HTTPSTOP", EMU_AT_EXEC | EMU_AT_TEST, 0, http_stop },
	{ "SSLCFG", EMU_AT_SET, 0, ssl_cfg },
	{ "FUPL", EMU_AT_SET, 0, file_upload },
	{ "FLST", EMU_AT_EXEC | EMU_AT_SET, 0, file_list },
	{ "FDEL", EMU_AT_SET, 0, file_delete },
};

/* The same rows after "+" and each flavour's q. */
static const struct emu_commands httpcfg_commands =
	EMU_COMMANDS(rows, NULL, "+");
static const struct emu_commands quectel_commands =
	EMU_COMMANDS(rows, NULL, "+Q");

/* ------------------------------------------------------------ life */

static void *open_hc(struct emu *e, const struct emu_config *cfg,
		     const struct hc_flavour *fl, const struct hc_variant *v)
{
	struct hc *h = emu_calloc(1, sizeof(*h));

	h->emu = e;
	h->cfg = cfg;
	h->fl = fl;
	h->v = v;
	for (size_t i = 0; i < P_N; i++)
		h->cfgv[i] = params[i].def;
	for (size_t i = 0; i < SSL_CTXS; i++) {
		for (size_t k = 0; k < S_NUM; k++)
			h->ssl[i].v[k] = ssl_params[k].def;
		if (v->sni_off)
			h->ssl[i].v[S_SNI] = 0;
	}
	return h;
}

static void *open_httpcfg(struct emu *e, const struct emu_config *cfg,
			  const void *variant, const char **err)
{
	return open_hc(e, cfg, &httpcfg_flavour, variant);
}

static void *open_quectel(struct emu *e, const struct emu_config *cfg,
			  const void *variant, const char **err)
{
	return open_hc(e, cfg, &quectel_flavour, variant);
}

static void close_hc(void *ctx)
{
	struct hc *h = ctx;

	req_clear(h);
	drop_response(h);
	free(h->url);
	for (size_t i = 0; i < SSL_CTXS; i++)
		free(h->ssl[i].cacert);
	for (size_t i = 0; i < MAX_FILES; i++)
		drop_file(&h->files[i]);
	free(h);
}

const struct emu_dialect emu_httpcfg = {
	.name = "httpcfg",
	.commands = &httpcfg_commands,
	.variants = EMU_VARIANTS(variants, "httpcfg/quectel variant"),
	.open = open_httpcfg,
	.close = close_hc,
	.data = data_done,
};

const struct emu_dialect emu_quectel = {
	.name = "quectel",
	.commands = &quectel_commands,
	.variants = EMU_VARIANTS(variants, "httpcfg/quectel variant"),
	.open = open_quectel,
	.close = close_hc,
	.data = data_done,
};
