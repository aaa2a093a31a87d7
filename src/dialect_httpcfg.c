/*
 * The Quectel-style HTTP(S) set: AT+HTTPCFG, AT+HTTPURL, AT+HTTPGET,
 * AT+HTTPPOST, AT+HTTPREAD (chapter 15 of the module's manual, "HTTP(S)
 * commands"),
 * and its twin with the Q prefix (AT+QHTTPCFG, ..., "+QHTTPGET:").  The two
 * differ only in that prefix, which is data (struct httpcfg_params); this is
 * one driver with two table entries.
 *
 * Raw packets all the way: at bring-up AT+HTTPCFG="requestheader",1 (the
 * host writes the whole request) and "responseheader",1 (HTTPREAD hands
 * back the whole response).  Per request:
 *   AT+HTTPURL=<len>,<s>  CONNECT, the URL in the counted data phase, OK
 *                          (skipped when the module already holds the URL)
 *   AT+HTTPGET=<rsptime>,<len>,<s>  or  AT+HTTPPOST=<len>,<s>,<rsptime>
 *                          CONNECT, the request bytes (http_serialize.c), OK,
 *                          then "+HTTPGET: <err>[,<status>[,<length>]]" or
 *                          TIMEOUT
 *   AT+HTTPREAD=<s>        CONNECT, the origin's response byte for byte,
 *                          OK, "+HTTPREAD: <err>"
 * Nothing the client sends is ever on a command line: the URL and the
 * request travel in length-counted data phases.
 *
 * Which command carries the packet: GET and HEAD requests up to 2048 bytes
 * (HTTPGET's <data_length> limit) go through AT+HTTPGET; everything else,
 * every other method and any request over 2048 bytes, through AT+HTTPPOST,
 * whose packet may be up to 1024000 bytes.  With requestheader=1 the module
 * sends the packet as it is, so the method on its request line is what the
 * origin sees.  A module that refuses a method other than GET and POST
 * through AT+HTTPPOST (+CME ERROR, or ERROR, instead of CONNECT or OK)
 * gets a 501 naming the method, and is not asked again with that method
 * until it is brought up anew.
 *
 * The response: HTTPREAD's output after CONNECT is read as a stream
 * (at_syntax streams) by raw_response.c, which knows where the message
 * ends, so an "OK" inside a body is body; a body without length or chunks
 * ends at the module's "\r\nOK\r\n".  The module does not de-chunk: the
 * reader does, and the response writer frames the body anew.
 *
 * Failures: TIMEOUT (no answer within <rsptime>) is 504; a non-zero <err>
 * or +CME ERROR is 502, or 504 for the timeout codes, with the code and
 * its meaning in X-Athttp-Error.  The manual gives no table of <err>
 * codes; those below are the 7xx HTTP(S) codes of Quectel's HTTP(S) AT
 * manuals, which modules of this family share.  AT+HTTPSTOP is "not
 * supported yet" per the manual, so recovery is a drain and a new
 * bring-up.
 *
 * https (tls_setup, once per bring-up; the commands are rows of struct
 * httpcfg_params, so the twins and firmware choices are data):
 *   AT+HTTPCFG="sslctxid",<ctx>    the SSL context the requests use (the
 *                                  manual's note to 15.1: only 2 works for
 *                                  https on the unprefixed set; 1, the
 *                                  default, for Quectel's)
 *   AT+FLST="<file>"               is the CA file there from before?  Then
 *   AT+FDEL="<file>"               delete it (an upload onto an existing
 *                                  file is an error), and
 *   AT+FUPL="<file>",<size>,<s>    CONNECT, the --module-ca PEM exactly,
 *                                  "+FUPL: <size>,<checksum>", OK: both
 *                                  checked (Quectel's FILE AT manual: a
 *                                  16-bit XOR of big-endian byte pairs)
 *   AT+SSLCFG="cacert",<ctx>,"<file>"
 *   AT+SSLCFG="sni",<ctx>,1        (firmware that has no SNI by default)
 *   AT+SSLCFG="seclevel",<ctx>,1   verify the server, last: only once the
 *                                  roots are in does the verdict say so
 * (Quectel's spelling: AT+QHTTPCFG, AT+QFLST ..., AT+QSSLCFG.)  Without
 * --module-ca, or when the module refuses a file command, cacert or
 * seclevel 1 (firmware without them), seclevel is set to 0 and the verdict
 * says why: the module then cannot verify, and modem.c refuses https unless
 * the user allows an unverified upstream.  An https:// URL then goes
 * through AT+HTTPURL like any other.  TLS failures reach the host as the
 * same 7xx codes: a failed handshake, a rejected certificate included, is
 * the SSL socket's connect failing (716); on an https request the
 * meaning says so.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_data_phase.h"
#include "at_result_iter.h"
#include "at_sync.h"
#include "dialect.h"
#include "wire_time.h"
#include "module_codes.h"
#include "raw_response.h"
#include "wait_bound.h"

#define HTTPCFG_MAX_URL 2048          /* AT+HTTPURL <URL_length> */
#define HTTPCFG_MAX_GET_PACKET 2048   /* AT+HTTPGET <data_length> */
#define HTTPCFG_MAX_POST_PACKET 1024000 /* AT+HTTPPOST <data_length> */
#define HTTPCFG_MAX_SECONDS 65535     /* <rsptime>, <input_time>, <wait_time> */

/* What tells the twins apart. */
struct httpcfg_params {
	/* Command stem and URC prefix: "+HTTP" gives AT+HTTPCFG and
	 * "+HTTPGET:", "+QHTTP" gives AT+QHTTPCFG and "+QHTTPGET:". */
	const char *stem;
	/* The SSL configuration command: "+SSLCFG" or "+QSSLCFG". */
	const char *ssl_cfg;
	/* The file commands' stem: "+F" gives AT+FUPL, AT+FLST, AT+FDEL. */
	const char *file;
	/* The SSL context the HTTP(S) service is given. */
	int ssl_ctx;
	/* Where the --module-ca roots are uploaded to, as cacert names it. */
	const char *ca_file;
	/* The FILE error "file not found", which a list of one absent name
	 * may answer instead of an empty list. */
	int file_not_found;
};

/* The commands' own bounds; in an exchange each is cut to the request
 * timeout, and every wait for the origin is that timeout (wait_bound.h). */
static const struct {
	int cfg_ms, prompt_ms, read_wait_s, read_tail_ms;
} timeouts = {
	.cfg_ms = 5000,
	.prompt_ms = 5000,      /* CONNECT after HTTPURL / HTTPGET */
	/* HTTPREAD <wait_time>, the longest gap between two packets of the
	 * response: the manual's default, or less under a shorter timeout. */
	.read_wait_s = 60,
	.read_tail_ms = 5000,   /* "+HTTPREAD: <err>" after OK */
};

/* The manual's error codes; hint: what else the code covers on an https
 * request. */
static const struct module_code httpcfg_codes[] = {
	{ 701, 502, "HTTP(S) unknown error", "(https: the module's TLS may have failed)" },
	{ 702, 504, "HTTP(S) timeout", NULL },
	{ 703, 503, "HTTP(S) busy", NULL },
	{ 704, 503, "HTTP(S) UART busy", NULL },
	{ 705, 502, "HTTP(S) no GET/POST requests", NULL },
	{ 706, 503, "HTTP(S) network busy", NULL },
	{ 707, 502, "HTTP(S) network open failed", NULL },
	{ 708, 502, "HTTP(S) network no configuration", NULL },
	{ 709, 502, "HTTP(S) network deactivated", NULL },
	{ 710, 502, "HTTP(S) network error", NULL },
	{ 711, 502, "HTTP(S) URL error", NULL },
	{ 712, 502, "HTTP(S) empty URL", NULL },
	{ 713, 502, "HTTP(S) IP address error", NULL },
	{ 714, 502, "HTTP(S) DNS error", NULL },
	{ 715, 502, "HTTP(S) socket create error", NULL },
	{ 716, 502, "HTTP(S) socket connect error",
	  "(https: the TLS handshake failed, or the module rejected the server's certificate)" },
	{ 717, 502, "HTTP(S) socket read error", NULL },
	{ 718, 502, "HTTP(S) socket write error", NULL },
	{ 719, 502, "HTTP(S) socket closed", "(https: the server may have ended the TLS session)" },
	{ 720, 502, "HTTP(S) data encode error", NULL },
	{ 721, 502, "HTTP(S) data decode error", NULL },
	{ 722, 504, "HTTP(S) read timeout", NULL },
	{ 723, 502, "HTTP(S) response failed", NULL },
	{ 724, 503, "incoming call busy", NULL },
	{ 725, 503, "voice call busy", NULL },
	{ 726, 502, "input timeout", NULL },
	{ 727, 502, "wait data timeout", NULL },
	{ 728, 504, "wait HTTP(S) response timeout", NULL },
	{ 729, 502, "alloc memory fail", NULL },
	{ 730, 502, "invalid parameter", NULL },
};

/* A module error with its code's meaning and status; https: the request
 * was one, and the meaning says what the code covers then. */
static enum ath_err module_failed(struct ath_error *err, int code, const char *what, bool https)
{
	const struct module_code *c = module_code_find(MODULE_CODES(httpcfg_codes), code);
	const char *extra = c && https ? c->hint : NULL;
	return ath_fail_status(err, ATH_E_MODULE, c ? c->http_status : 502, code, "%s%s%s%s%s",
			       c ? c->meaning : "", c ? " " : "", extra ? extra : "", extra ? " " : "", what);
}

/* A command answered with ERROR or +CME ERROR. */
static enum ath_err command_refused(struct ath_error *err, const struct at_result *r, const char *cmd,
				    bool https)
{
	char what[320];
	snprintf(what, sizeof what, "(%s answered %s)", cmd, r->text);
	return module_failed(err, r->code, what, https);
}

struct httpcfg_state {
	char url[HTTPCFG_MAX_URL + 1];   /* what the module holds; "" unknown */
	unsigned refused_verbs;          /* methods refused through AT+HTTPPOST */
	/* What tls_setup set up: it ran; the roots are in the module's
	 * ca_file and cacert names it; seclevel 1 is on. */
	bool tls_ready, ca_loaded, verifying;
};

static const struct httpcfg_params *params_of(const struct modem_io *io)
{
	return io->params;
}

static int seconds_for(size_t len, int baud)
{
	long long s = wire_s(len, baud);
	return s > HTTPCFG_MAX_SECONDS ? HTTPCFG_MAX_SECONDS : (int)s;
}

/* <rsptime>: the module's own timer for the origin's answer, a second
 * short of ours, so its TIMEOUT comes first. */
static int rsptime_s(const struct modem_io *io)
{
	return wait_module_timer_s(io, HTTPCFG_MAX_SECONDS);
}

/* HTTPREAD's <wait_time>, by the same rule, never above the manual's
 * default. */
static int read_wait_s(const struct modem_io *io)
{
	return wait_module_timer_s(io, timeouts.read_wait_s);
}

static enum ath_err set_cfg(struct modem_io *io, const char *name, int value, struct ath_error *err)
{
	const char *stem = params_of(io)->stem;
	struct at_result r;
	enum ath_err e = at_chat_cmd(io->chat, timeouts.cfg_ms, &r, "AT%sCFG=\"%s\",%d", stem, name, value);
	char cmd[64];
	snprintf(cmd, sizeof cmd, "AT%sCFG=\"%s\"", stem, name);
	if (e != ATH_OK)
		return at_no_answer(err, e, cmd);
	if (r.final != AT_FINAL_OK)
		return command_refused(err, &r, cmd, false);
	return ATH_OK;
}

/* The settings bring-up needs, and the value each must have. */
static const struct {
	const char *name;
	int value;
} httpcfg_needed[] = {
	{ "requestheader", 1 },
	{ "responseheader", 1 },
};

/* 15.1: the read form lists every setting ("+HTTPCFG: \"<name>\",<value>"
 * lines): a module that holds them from a previous user (they last until
 * a reset) costs one query and no setting.  A setting the query does not
 * show, or a refused query, is set all the same. */
static enum ath_err httpcfg_bringup(struct modem_io *io, struct ath_error *err)
{
	struct httpcfg_state *st = io->state;
	memset(st, 0, sizeof *st);
	enum ath_err e = at_sync(io->chat, err);
	if (e != ATH_OK)
		return e;
	const char *stem = params_of(io)->stem;
	enum { N_NEEDED = sizeof httpcfg_needed / sizeof httpcfg_needed[0] };
	bool held[N_NEEDED] = { false };
	struct at_result r;
	at_chat_clear_queue(io->chat);
	char query[24];
	snprintf(query, sizeof query, "AT%sCFG?", stem);
	e = at_chat_cmd(io->chat, timeouts.cfg_ms, &r, "%s", query);
	if (e != ATH_OK)
		return at_no_answer(err, e, query);
	char prefix[24], line[AT_LINE_MAX + 1];
	snprintf(prefix, sizeof prefix, "%sCFG:", stem);
	while (r.final == AT_FINAL_OK && at_chat_take_line(io->chat, prefix, line, sizeof line)) {
		/* <prefix> "<name>",<value>: lines of other forms are not ours. */
		struct at_result_iter it;
		char name[32];
		long long v;
		at_result_iter_init(&it, line);
		if (!at_result_iter_next(&it, prefix) || !at_result_iter_next_string(&it, name, sizeof name) ||
		    !at_result_iter_next_number(&it, &v))
			continue;
		for (size_t i = 0; i < N_NEEDED; i++)
			if (strcmp(name, httpcfg_needed[i].name) == 0)
				held[i] = v == httpcfg_needed[i].value;
	}
	for (size_t i = 0; i < N_NEEDED && e == ATH_OK; i++)
		if (!held[i])
			e = set_cfg(io, httpcfg_needed[i].name, httpcfg_needed[i].value, err);
	return e;
}

/* A command with a CONNECT data phase: the command, CONNECT, the bytes,
 * then its final result.  *r is the result that ended it. */
static enum ath_err data_phase(struct modem_io *io, int prompt_ms, const void *data, size_t len,
			       int input_s, struct at_result *r, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

static enum ath_err data_phase(struct modem_io *io, int prompt_ms, const void *data, size_t len,
			       int input_s, struct at_result *r, const char *fmt, ...)
{
	char line[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	at_chat_clear_queue(io->chat);
	struct at_data_phase dp = {
		.cmd = line, .prompt_ms = prompt_ms, .data = data, .len = len, .data_ms = input_s * 1000,
		.final_ms = wait_command_ms(io, input_s * 1000 + timeouts.prompt_ms),
	};
	struct at_data_outcome got;
	return at_data_phase(io->chat, &dp, r, &got);
}

static enum ath_err set_url(struct modem_io *io, const char *url, struct ath_error *err)
{
	struct httpcfg_state *st = io->state;
	if (strcmp(st->url, url) == 0)
		return ATH_OK;
	const char *stem = params_of(io)->stem;
	char cmd[32];
	snprintf(cmd, sizeof cmd, "AT%sURL", stem);
	size_t len = strlen(url);
	int input_s = seconds_for(len, io->baud);
	struct at_result r;
	st->url[0] = '\0';
	enum ath_err e = data_phase(io, wait_command_ms(io, timeouts.prompt_ms), url, len, input_s, &r,
				    "AT%sURL=%zu,%d", stem, len, input_s);
	if (e != ATH_OK)
		return at_no_answer(err, e, cmd);
	if (r.final != AT_FINAL_OK)
		return command_refused(err, &r, cmd, false);
	snprintf(st->url, sizeof st->url, "%s", url);
	return ATH_OK;
}

/* Parses "<prefix> <err>[,<status>[,<length>]]". */
static bool parse_result_urc(const char *line, size_t prefix_len, int *code, int *status)
{
	struct at_result_iter it;
	long long c, st = 0, length;
	at_result_iter_init(&it, line + prefix_len);
	if (!at_result_iter_next_number(&it, &c) ||
	    (!at_result_iter_end(&it) && !at_result_iter_next_number(&it, &st)) ||
	    (!at_result_iter_end(&it) && !at_result_iter_next_number(&it, &length)) ||
	    !at_result_iter_end(&it) || c < INT_MIN || c > INT_MAX || st < INT_MIN || st > INT_MAX)
		return false;
	*code = (int)c;
	*status = (int)st;
	return true;
}

/* Sends the request packet and waits for the origin's answer. */
static enum ath_err send_request(struct modem_io *io, const struct dialect_request *rq,
				 struct ath_error *err)
{
	struct httpcfg_state *st = io->state;
	const char *stem = params_of(io)->stem;
	bool bodiless = rq->verb == VERB_GET || rq->verb == VERB_HEAD;
	bool by_get = bodiless && rq->raw_len <= HTTPCFG_MAX_GET_PACKET;
	bool foreign = !(rq->verb & (VERB_GET | VERB_POST)) && !by_get;
	char cmd[32], urc[32];
	snprintf(cmd, sizeof cmd, "AT%s%s", stem, by_get ? "GET" : "POST");
	snprintf(urc, sizeof urc, "%s%s:", stem, by_get ? "GET" : "POST");
	if (foreign && (st->refused_verbs & rq->verb))
		return ath_fail(err, ATH_E_UNSUPPORTED, -1,
				"method %s: this module refused it through %s before", rq->method, cmd);

	int rsp_s = rsptime_s(io);
	int input_s = seconds_for(rq->raw_len, io->baud);
	struct at_result r;
	enum ath_err e;
	/* HTTPPOST connects to the origin before its CONNECT. */
	if (by_get)
		e = data_phase(io, wait_command_ms(io, timeouts.prompt_ms), rq->raw, rq->raw_len, input_s, &r,
			       "AT%sGET=%d,%zu,%d", stem, rsp_s, rq->raw_len, input_s);
	else
		e = data_phase(io, wait_server_ms(io), rq->raw, rq->raw_len,
			       input_s, &r, "AT%sPOST=%zu,%d,%d", stem, rq->raw_len, input_s, rsp_s);
	if (e != ATH_OK)
		return at_no_answer(err, e, cmd);
	if (r.final != AT_FINAL_OK) {
		if (foreign && (r.final == AT_FINAL_ERROR || r.final == AT_FINAL_CME)) {
			st->refused_verbs |= rq->verb;
			return ath_fail(err, ATH_E_UNSUPPORTED, r.code,
					"method %s: the module refused the raw request through %s (%s)",
					rq->method, cmd, r.text);
		}
		return command_refused(err, &r, cmd, rq->tls);
	}

	const char *waits[] = { urc, "TIMEOUT", NULL };
	char line[128];
	int which;
	e = at_chat_wait_line_any(io->chat, waits, wait_server_ms(io), &which, line, sizeof line);
	if (e != ATH_OK)
		return at_no_answer(err, e, cmd);
	if (which == 1) {
		return ath_fail_status(err, ATH_E_MODULE, 504, -1,
				       "TIMEOUT: no answer from the server within %d s (%s)", rsp_s, cmd);
	}
	int code, status;
	if (!parse_result_urc(line, strlen(urc), &code, &status))
		return ath_fail(err, ATH_E_PROTOCOL, -1, "unexpected URC: %s", line);
	if (code != 0) {
		char what[256];
		snprintf(what, sizeof what, "(%s)", line);
		return module_failed(err, code, what, rq->tls);
	}
	return ATH_OK;
}

/* HTTPREAD's stream into the raw response reader. */
struct read_ctx {
	struct raw_response rr;
	bool marker_seen;
	size_t leftover;
};

static size_t read_stream(void *ctx, const void *data, size_t len, bool at_end,
			  enum at_stream_watch *watch)
{
	struct read_ctx *rc = ctx;
	if (at_end) {
		rc->marker_seen = true;
		return 0;
	}
	return raw_response_feed_stream(&rc->rr, data, len, watch, &rc->leftover);
}

static enum ath_err read_response(struct modem_io *io, const struct dialect_request *rq,
				  const struct response_sink *sink, struct ath_error *err)
{
	const char *stem = params_of(io)->stem;
	char cmd[32], urc[32];
	snprintf(cmd, sizeof cmd, "AT%sREAD", stem);
	snprintf(urc, sizeof urc, "%sREAD:", stem);
	struct read_ctx *rc = calloc(1, sizeof *rc);
	if (!rc)
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	raw_response_init(&rc->rr, rq->verb == VERB_HEAD, sink);

	struct at_result r;
	at_chat_clear_queue(io->chat);
	at_chat_set_stream_sink(io->chat, read_stream, rc);
	/* The read prints its stream, OK and its result line: any other line
	 * (but a URC) is displaced data. */
	const char *const expect[] = { urc, NULL };
	at_chat_strict_lines(io->chat, expect);
	enum ath_err e = at_chat_cmd(io->chat, wait_server_ms(io), &r, "AT%sREAD=%d", stem, read_wait_s(io));
	at_chat_set_stream_sink(io->chat, NULL, NULL);
	if (e != ATH_OK) {
		e = at_chat_failed(io->chat, err, e, cmd);
		goto out;
	}
	if (rc->rr.state == RAW_FAILED)
		trace_note(io->trace, "response unreadable: %s", rc->rr.why);
	/* Bytes between the message's end and the module's OK: the message
	 * and the stream disagree (bytes added on the line), so what seemed
	 * whole may hold them. */
	if (rc->leftover) {
		at_chat_framing_error(io->chat, "%zu bytes after the origin's message", rc->leftover);
		e = at_chat_failed(io->chat, err, ATH_E_PROTOCOL, cmd);
		goto out;
	}
	char line[96] = "";
	int code = 0, status;
	if (r.final == AT_FINAL_OK) {
		/* "+HTTPREAD: <err>" follows OK. */
		e = at_chat_wait_line(io->chat, urc, wait_command_ms(io, timeouts.read_tail_ms), line,
				      sizeof line);
		if (e == ATH_E_PROTOCOL) {
			e = at_chat_failed(io->chat, err, e, cmd);
			goto out;
		}
		e = ATH_OK;
		if (line[0] && !parse_result_urc(line, strlen(urc), &code, &status))
			code = 0;
	} else if (r.final == AT_FINAL_LINE && strncmp(r.text, urc, strlen(urc)) == 0) {
		/* The manual's form: the result line with no OK before it. */
		snprintf(line, sizeof line, "%s", r.text);
		if (!parse_result_urc(line, strlen(urc), &code, &status))
			code = 0;
		r.final = AT_FINAL_OK;
	}
	/* A body that runs to the end of the output is whole only if the
	 * module then says the read went well: after its error the bytes
	 * held back stay unsent, and the client sees a cut. */
	if (raw_response_open_ended(&rc->rr) && (r.final != AT_FINAL_OK || code != 0)) {
		if (r.final != AT_FINAL_OK) {
			e = command_refused(err, &r, cmd, rq->tls);
		} else {
			char what[256];
			snprintf(what, sizeof what, "(%s)", line);
			e = module_failed(err, code, what, rq->tls);
		}
		goto out;
	}
	enum ath_err whole = raw_response_end(&rc->rr, err);
	if (rc->rr.client_gone) {
		e = ath_fail(err, ATH_E_CLIENT_GONE, -1, "client gone");
	} else if (r.final != AT_FINAL_OK && whole != ATH_OK) {
		e = command_refused(err, &r, cmd, rq->tls);
	} else if (code != 0 && whole != ATH_OK) {
		char what[256];
		snprintf(what, sizeof what, "(%s)", line);
		e = module_failed(err, code, what, rq->tls);
	} else if (whole != ATH_OK) {
		/* The module finished the read in step; the response was
		 * short or not HTTP (err says which). */
		err->code = ATH_E_MODULE;
		e = ATH_E_MODULE;
	} else {
		e = ATH_OK;
	}
out:
	at_chat_strict_lines(io->chat, NULL);
	raw_response_free(&rc->rr);
	free(rc);
	return e;
}

/* ------------------------------------------------------------ https */

/* Quectel's FILE AT manual, AT+QFUPL: a 16-bit XOR of the data taken as
 * big-endian byte pairs, an odd last byte as the high half. */
static unsigned upload_checksum(const unsigned char *p, size_t n)
{
	unsigned sum = 0;
	for (size_t i = 0; i < n; i += 2)
		sum ^= (unsigned)p[i] << 8 | (i + 1 < n ? p[i + 1] : 0u);
	return sum;
}

/* One configuration command; *refused: it answered ERROR or +CME ERROR
 * (then r says how).  No answer at all is the error. */
static enum ath_err tls_cmd(struct modem_io *io, const char *line, struct at_result *r, bool *refused,
			    struct ath_error *err)
{
	*refused = false;
	at_chat_clear_queue(io->chat);
	enum ath_err e = at_chat_cmd(io->chat, timeouts.cfg_ms, r, "%s", line);
	if (e != ATH_OK)
		return at_no_answer(err, e, line);
	*refused = r->final != AT_FINAL_OK;
	return ATH_OK;
}

/* Why the roots could not go in: the command the module refused. */
static void refused_why(struct tls_verdict *v, const char *line, const struct at_result *r, const char *what)
{
	char full[400];
	snprintf(full, sizeof full, "the module refused %s (%s): %s", line, r->text, what);
	/* Cut if it must be: the command's name comes first. */
	size_t n = strlen(full);
	if (n >= sizeof v->why)
		n = sizeof v->why - 1;
	memcpy(v->why, full, n);
	v->why[n] = '\0';
}

/* Is name (as the file list prints it, quoted) the CA file, with or
 * without its "UFS:" storage prefix? */
static bool is_ca_file(const char *listed, const char *ca_file)
{
	size_t n = strlen(listed);
	if (n < 2 || listed[0] != '"')
		return false;
	const char *end = strchr(listed + 1, '"');
	if (!end)
		return false;
	size_t len = (size_t)(end - listed - 1);
	const char *bare = strncmp(ca_file, "UFS:", 4) == 0 ? ca_file + 4 : ca_file;
	return (len == strlen(ca_file) && memcmp(listed + 1, ca_file, len) == 0) ||
	       (len == strlen(bare) && memcmp(listed + 1, bare, len) == 0);
}

/* The --module-ca PEM into the module's ca_file: list, delete what is
 * there, upload, check size and checksum.  A refusal leaves v->why set
 * and st->ca_loaded false; an upload that does not add up is an error. */
static enum ath_err load_ca(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	struct httpcfg_state *st = io->state;
	const struct httpcfg_params *pa = params_of(io);
	const char *what = "it cannot load the --module-ca roots";
	char line[160], listed[128], prefix[24];
	struct at_result r;
	bool refused;

	snprintf(line, sizeof line, "AT%sLST=\"%s\"", pa->file, pa->ca_file);
	enum ath_err e = tls_cmd(io, line, &r, &refused, err);
	if (e != ATH_OK)
		return e;
	bool absent = refused && r.final == AT_FINAL_CME && r.code == pa->file_not_found;
	if (refused && !absent) {
		refused_why(v, line, &r, what);
		return ATH_OK;
	}
	bool present = false;
	snprintf(prefix, sizeof prefix, "%sLST: ", pa->file);
	while (at_chat_take_line(io->chat, prefix, listed, sizeof listed))
		present |= is_ca_file(listed + strlen(prefix), pa->ca_file);
	if (present) {
		snprintf(line, sizeof line, "AT%sDEL=\"%s\"", pa->file, pa->ca_file);
		e = tls_cmd(io, line, &r, &refused, err);
		if (e != ATH_OK)
			return e;
		if (refused)
			return command_refused(err, &r, line, false);
	}

	size_t len = io->tls->ca_len;
	int input_s = seconds_for(len, io->baud);
	snprintf(line, sizeof line, "AT%sUPL=\"%s\",%zu,%d", pa->file, pa->ca_file, len, input_s);
	at_chat_clear_queue(io->chat);
	struct at_data_phase dp = {
		.cmd = line, .prompt_ms = timeouts.prompt_ms, .data = io->tls->ca_pem, .len = len,
		.data_ms = input_s * 1000, .final_ms = input_s * 1000 + timeouts.prompt_ms,
	};
	struct at_data_outcome upl;
	e = at_data_phase(io->chat, &dp, &r, &upl);
	if (e != ATH_OK)
		return at_no_answer(err, e, line);
	if (!upl.prompted) {
		if (r.final == AT_FINAL_OK)
			return ath_fail(err, ATH_E_PROTOCOL, -1, "%s answered OK without CONNECT", line);
		refused_why(v, line, &r, what);
		return ATH_OK;
	}
	if (r.final != AT_FINAL_OK)
		return command_refused(err, &r, line, false);
	snprintf(prefix, sizeof prefix, "%sUPL: ", pa->file);
	char got[64];
	if (!at_chat_take_line(io->chat, prefix, got, sizeof got))
		return ath_fail(err, ATH_E_PROTOCOL, -1, "%s: no %s line before OK", line, prefix);
	struct at_result_iter it;
	long long size;
	unsigned long long sum;
	at_result_iter_init(&it, got);
	bool framed = at_result_iter_next(&it, prefix) && at_result_iter_next_number(&it, &size) &&
		      at_result_iter_next_hex(&it, &sum) && at_result_iter_end(&it);
	unsigned want = upload_checksum((const unsigned char *)io->tls->ca_pem, len);
	if (!framed || size < 0 || (unsigned long long)size != len || sum != want)
		return ath_fail(err, ATH_E_PROTOCOL, -1,
				"%s: the module stored something else (%s; sent %zu bytes, checksum %x)", line,
				got, len, want);

	snprintf(line, sizeof line, "AT%s=\"cacert\",%d,\"%s\"", pa->ssl_cfg, pa->ssl_ctx, pa->ca_file);
	e = tls_cmd(io, line, &r, &refused, err);
	if (e != ATH_OK)
		return e;
	if (refused)
		refused_why(v, line, &r, "it cannot use the --module-ca roots");
	else
		st->ca_loaded = true;
	return ATH_OK;
}

static enum ath_err httpcfg_tls_setup(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	struct httpcfg_state *st = io->state;
	const struct httpcfg_params *pa = params_of(io);
	char line[96];
	struct at_result r;
	bool refused;

	st->tls_ready = st->ca_loaded = st->verifying = false;
	v->verified = false;
	v->why[0] = '\0';
	enum ath_err e = set_cfg(io, "sslctxid", pa->ssl_ctx, err);
	if (e != ATH_OK)
		return e;
	if (!io->tls->ca_pem)
		snprintf(v->why, sizeof v->why, "no --module-ca given");
	else if ((e = load_ca(io, v, err)) != ATH_OK)
		return e;

	/* Firmware that sends no SNI by default: servers behind a shared
	 * address would show another name's certificate.  A module without
	 * the switch may still send it: not a reason to fail. */
	snprintf(line, sizeof line, "AT%s=\"sni\",%d,1", pa->ssl_cfg, pa->ssl_ctx);
	if ((e = tls_cmd(io, line, &r, &refused, err)) != ATH_OK)
		return e;
	if (refused)
		trace_note(io->trace, "%s answered %s: SNI as the firmware does it", line, r.text);

	if (st->ca_loaded) {
		snprintf(line, sizeof line, "AT%s=\"seclevel\",%d,1", pa->ssl_cfg, pa->ssl_ctx);
		if ((e = tls_cmd(io, line, &r, &refused, err)) != ATH_OK)
			return e;
		if (refused)
			refused_why(v, line, &r, "it cannot verify servers");
		else
			st->verifying = true;
	}
	if (!st->verifying) {
		/* Stated, not assumed: --insecure-upstream runs on this. */
		snprintf(line, sizeof line, "AT%s=\"seclevel\",%d,0", pa->ssl_cfg, pa->ssl_ctx);
		if ((e = tls_cmd(io, line, &r, &refused, err)) != ATH_OK)
			return e;
		if (refused)
			return command_refused(err, &r, line, false);
	}
	st->tls_ready = true;
	v->verified = st->verifying;
	return ATH_OK;
}

static enum ath_err httpcfg_exchange(struct modem_io *io, const struct dialect_request *rq,
				     const struct response_sink *sink, struct ath_error *err)
{
	struct httpcfg_state *st = io->state;
	if (!rq->raw)
		return ath_fail(err, ATH_E_PROTOCOL, -1, "no raw request to send");
	/* Never an https request the module was not set up for, nor one that
	 * must be verified on a module that does not verify. */
	if (rq->tls && (!st->tls_ready || (rq->verify_upstream && !st->verifying))) {
		return ath_fail_status(err, ATH_E_MODULE, 502, -1, "https: %s",
				       !st->tls_ready ? "the module's TLS is not set up"
						      : "the module is not verifying servers");
	}
	enum ath_err e = set_url(io, rq->url, err);
	if (e == ATH_OK)
		e = send_request(io, rq, err);
	if (e == ATH_OK)
		e = read_response(io, rq, sink, err);
	return e;
}

static const struct at_block_rule httpcfg_blocks[] = { { NULL, 0, NULL, false } };
/* CONNECT invites data after HTTPURL, HTTPGET and HTTPPOST ... */
static const char *const httpcfg_prompts[] = { "CONNECT", NULL };
/* ... and opens the response after HTTPREAD, which OK ends, or (the
 * manual's table 12) "+HTTPREAD: <err>" with no OK, or a CME error when
 * <wait_time> runs out. */
static const struct at_stream_rule httpcfg_streams[] = {
	{ "CONNECT", { "\r\nOK\r\n", "\r\n+HTTPREAD:", "\r\n+QHTTPREAD:", "\r\n+CME ERROR:" } },
	{ NULL, { NULL } },
};
static const char *const httpcfg_final_lines[] = { "+HTTPREAD:", "+QHTTPREAD:", NULL };

static const struct at_syntax httpcfg_syntax = {
	.blocks = httpcfg_blocks,
	.prompt_lines = httpcfg_prompts,
	.streams = httpcfg_streams,
	.final_lines = httpcfg_final_lines,
};

/* The twins differ in their commands' names only. */
#define HTTPCFG_FAMILY_CAPS(post_command) { \
	.methods = VERB_GET | VERB_HEAD | VERB_POST | VERB_PUT | VERB_DELETE | VERB_PATCH | VERB_OPTIONS, \
	.body_methods = VERB_GET | VERB_POST | VERB_PUT | VERB_DELETE | VERB_PATCH | VERB_OPTIONS, \
	.max_body = HTTPCFG_MAX_POST_PACKET, \
	.max_url = HTTPCFG_MAX_URL, \
	.raw_request = true, \
	.max_raw_request = HTTPCFG_MAX_POST_PACKET, \
	/* The module reads the response to the end of the connection \
	 * when the origin gives no length: make the origin close it. */ \
	.raw_connection = "close", \
	.real_response_head = true, \
	.body_limit_name = post_command, \
}

static const struct dialect_caps httpcfg_caps = HTTPCFG_FAMILY_CAPS("AT+HTTPPOST");
static const struct dialect_caps quectel_caps = HTTPCFG_FAMILY_CAPS("AT+QHTTPPOST");

static const struct dialect_ops httpcfg_ops = {
	.bringup = httpcfg_bringup,
	.exchange = httpcfg_exchange,
	.recover = NULL, /* drain and bring up again: AT+HTTPSTOP is unsupported */
	.tls_setup = httpcfg_tls_setup,
};

/* Quectel's TCP/IP context commands: AT+QICSGP carries APN, user and
 * password (authentication 1, PAP), its read form "AT+QICSGP=<cid>"
 * shows them; AT+QIACT (up to 150 s) and AT+QIACT? "+QIACT: <cid>,
 * <state>,<type>,\"<ip>\"", no line for an inactive context. */
static const struct netup_profile quectel_netup = {
	.kind = NETUP_CELLULAR,
	.quoting = NETUP_QUOTE_PLAIN,
	.cid = 1,
	.reg_queries = netup_reg_queries_27007,
	.define_ctx = "AT+QICSGP={cid},1,\"{apn}\",\"{user}\",\"{password}\",1",
	.define_carries_auth = true,
	.define_query = "AT+QICSGP={cid}",
	.define_prefix = "+QICSGP:",
	.define_cid_field = -1, .define_apn_field = 1, .define_user_field = 2, .define_password_field = 3,
	.auth_ctx = NULL,
	.activate = "AT+QIACT={cid}",
	.active_query = "AT+QIACT?",
	.active_prefix = "+QIACT:",
	.active_cid_field = 0, .active_state_field = 1, .active_addr_field = 3,
	.activate_timeout_ms = 150000,
};

static const struct httpcfg_params httpcfg_params = {
	.stem = "+HTTP",
	.ssl_cfg = "+SSLCFG",
	.file = "+F",
	.ssl_ctx = 2,               /* the manual's note to 15.1 */
	.ca_file = "UFS:athttp_ca.pem",
	.file_not_found = 405,
};
static const struct httpcfg_params quectel_params = {
	.stem = "+QHTTP",
	.ssl_cfg = "+QSSLCFG",
	.file = "+QF",
	.ssl_ctx = 1,               /* the default of "sslctxid" */
	.ca_file = "UFS:athttp_ca.pem",
	.file_not_found = 405,      /* Quectel's FILE AT manual */
};

const struct dialect dialect_httpcfg = {
	.name = "httpcfg",
	.summary = "Quectel-style set without the Q prefix (AT+HTTPCFG, AT+HTTPURL, CONNECT)",
	.caps = &httpcfg_caps,
	.syntax = &httpcfg_syntax,
	.ops = &httpcfg_ops,
	.state_size = sizeof(struct httpcfg_state),
	.params = &httpcfg_params,
	/* The AT+HTTPCFG manual, AT+HTTPCFG's test command; the Q twin
	 * answers ERROR to it, as this one does to AT+QHTTPCFG=?. */
	.identify_probe = "AT+HTTPCFG=?",
	.netup = &netup_profile_27007,
};

const struct dialect dialect_quectel = {
	.name = "quectel",
	.summary = "Quectel (AT+QHTTPCFG, AT+QHTTPURL, CONNECT)",
	.caps = &quectel_caps,
	.syntax = &httpcfg_syntax,
	.ops = &httpcfg_ops,
	.state_size = sizeof(struct httpcfg_state),
	.params = &quectel_params,
	.identify_probe = "AT+QHTTPCFG=?",
	.netup = &quectel_netup,
};
