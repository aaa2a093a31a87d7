/*
 * SIMCom SIM7500/SIM7600/SIM7800 (and A76xx) HTTP AT commands:
 * AT+HTTPINIT once, then per request AT+HTTPPARA="URL", AT+HTTPACTION and
 * its URC, AT+HTTPHEAD for the origin's head, AT+HTTPREAD in large ranges
 * for the body.  The module keeps the whole body in its memory and
 * de-chunks it.  No PUT, no custom headers (this manual has no USERDATA).
 *
 * Known variants handled here: "+HTTPREAD: DATA,<n>" (SIM7600) and
 * "+HTTPREAD: <n>" (A76xx), the same for +HTTPHEAD; HTTPREAD's two orders:
 * OK, the data, then "+HTTPREAD: 0" (with or without the space) as real
 * modules do, or the data, then OK and no terminator, as the manual's own
 * example shows; chunked origin responses reported with datalen 0 yet
 * readable.
 *
 * https: the module does the TLS itself for an https:// URL, with the SSL
 * context AT+HTTPPARA="SSLCFG" names.  SIMCom's SSL Application Note gives
 * that context's settings (AT+CSSLCFG) and the certificate upload
 * (AT+CCERTDOWN and its ">" phase); what athttp sets is simcom_tls below,
 * data, so a firmware that differs is another row.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "at_data_phase.h"
#include "at_result_iter.h"
#include "at_sync.h"
#include "dialect.h"
#include "wire_time.h"
#include "module_codes.h"
#include "wait_bound.h"

/* Per read: large, so the per-command overhead is a small fraction of the
 * line; the module answers in ~1 KB pieces anyway. */
#define SIMCOM_READ_CHUNK 65536
#define SIMCOM_MAX_HEAD (64 * 1024)
#define SIMCOM_PARAM_MAX 256
#define SIMCOM_MAX_URL 2048

/* The commands' own bounds; in an exchange each is cut to the request
 * timeout, and the wait for +HTTPACTION (the origin's answer) is the
 * timeout itself (wait_bound.h). */
static const struct {
	int init_ms, param_ms, action_ok_ms, head_ms, read_idle_ms;
} timeouts = {
	.init_ms = 20000,    /* the manual's HTTPINIT maximum */
	.param_ms = 5000,
	.action_ok_ms = 10000,
	.head_ms = 10000,
	.read_idle_ms = 20000,
};

/* Chapter 4 (600-604) and chapter 5 (701-719) of the manual. */
static const struct module_code simcom_codes[] = {
	{ 600, 502, "Not HTTP PDU", NULL },
	{ 601, 502, "Network Error", NULL },
	{ 602, 502, "No memory", NULL },
	{ 603, 502, "DNS Error", NULL },
	{ 604, 503, "Stack Busy", NULL },
	{ 701, 502, "Alert state", NULL },
	{ 702, 502, "Unknown error", NULL },
	{ 703, 503, "Busy", NULL },
	{ 704, 502, "Connection closed error", NULL },
	{ 705, 504, "Timeout", NULL },
	{ 706, 502, "Receive/send socket data failed", NULL },
	{ 707, 502, "File not exists or other memory error", NULL },
	{ 708, 502, "Invalid parameter", NULL },
	{ 709, 502, "Network error", NULL },
	{ 710, 502, "start a new ssl session failed", "the module's SSL service" },
	{ 711, 502, "Wrong state", NULL },
	{ 712, 502, "Failed to create socket", NULL },
	{ 713, 502, "Get DNS failed", NULL },
	{ 714, 502, "Connect socket failed", NULL },
	/* SIMCom firmware reports a server certificate it rejects (chain,
	 * name, dates) as a failed handshake too: nothing tells them apart. */
	{ 715, 502, "Handshake failed",
	  "TLS to the server failed, or the module rejected its certificate: chain, name, or dates by its clock" },
	{ 716, 502, "Close socket failed", NULL },
	{ 717, 502, "No network error", NULL },
	{ 718, 504, "Send data timeout", NULL },
	{ 719, 502, "CA missed", "the SSL context has no CA certificate file" },
};

/* HTTPACTION's <method> numbers. */
static const struct {
	unsigned verb;
	int action;
} simcom_actions[] = {
	{ VERB_GET, 0 }, { VERB_POST, 1 }, { VERB_HEAD, 2 }, { VERB_DELETE, 3 },
};

/*
 * The SSL side, from SIMCom's SSL Application Note (AT+CSSLCFG,
 * AT+CCERTDOWN).  athttp owns one SSL context and one certificate file.
 *
 * ignorelocaltime is 0: the module checks the certificate's dates against
 * its own clock.  With 1 it would accept an expired server certificate,
 * which the program's own TLS check (against athttp's minted leaf) can
 * never notice; a module without a valid clock then fails https with 715
 * instead, which is loud.  The hint in the error says so.
 */
struct simcom_ssl_item {
	const char *key;            /* AT+CSSLCFG="<key>",<ctx>,<value> */
	int verify_value;           /* with roots loaded; -1: not sent */
	int plain_value;            /* without (no verification); -1: not sent */
	bool ca_file;               /* the value is the CA file's quoted name */
	/* Firmware that lacks the setting answers ERROR: carry on without it
	 * (old firmware has no "enableSNI", and sends no SNI). */
	bool may_lack;
};

struct simcom_tls_profile {
	int ctx;                    /* SSL context, 0-9 (AT+HTTPPARA="SSLCFG") */
	const char *ca_file;        /* AT+CCERTDOWN's <filename> */
	size_t max_ca;              /* AT+CCERTDOWN's largest <len> */
	int ca_ms;                  /* longest wait for OK after the upload */
	/* In order: authmode last, so verification is on only once what it
	 * needs is in place. */
	const struct simcom_ssl_item *items;
	size_t nitems;
};

static const struct simcom_ssl_item simcom_ssl_items[] = {
	{ "sslversion", 3, 3, false, false },     /* 3: TLS 1.2 only; 4 (all) also SSL 3.0-TLS 1.1 */
	{ "cacert", 0, -1, true, false },         /* 0: sent (the value is ca_file) */
	{ "ignorelocaltime", 0, -1, false, false },
	{ "enableSNI", 1, 1, false, true },
	{ "authmode", 1, 0, false, false },       /* 1: server authentication */
};

static const struct simcom_tls_profile simcom_tls = {
	.ctx = 1,                   /* not 0, the default other software configures */
	.ca_file = "athttp_ca.pem",
	.max_ca = 10240,
	.ca_ms = 10000,
	.items = simcom_ssl_items,
	.nitems = sizeof simcom_ssl_items / sizeof simcom_ssl_items[0],
};

struct simcom_state {
	/* What the module holds now, so a parameter is sent only on change. */
	char content[SIMCOM_PARAM_MAX + 1];
	char accept[SIMCOM_PARAM_MAX + 1];
	char url[SIMCOM_MAX_URL + 1];    /* "" : none since HTTPINIT */
	bool sslcfg_set;            /* HTTPPARA="SSLCFG" since HTTPINIT */
	/* What tls_setup did since bring-up. */
	bool tls_ready;
	bool verified;              /* authmode 1 with the roots */
	bool sni;                   /* enableSNI accepted */
	bool ca_loaded;
	unsigned char ca_sha256[32];   /* of the file uploaded */
};

static const char default_content[] = "text/plain";
static const char default_accept[] = "*/*";

static enum ath_err simcom_start(struct modem_io *io, struct ath_error *err, bool restart)
{
	struct simcom_state *st = io->state;
	struct at_result r;
	enum ath_err e = at_sync(io->chat, err);
	if (e != ATH_OK)
		return e;
	if (!restart) {
		e = at_chat_cmd(io->chat, timeouts.init_ms, &r, "AT+HTTPINIT");
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+HTTPINIT");
	}
	if (restart || r.final != AT_FINAL_OK) {
		/* Already started (by an earlier process) or stuck: the
		 * recovery idiom is HTTPTERM, whatever it answers, then INIT. */
		e = at_chat_cmd(io->chat, timeouts.init_ms, &r, "AT+HTTPTERM");
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+HTTPTERM");
		e = at_chat_cmd(io->chat, timeouts.init_ms, &r, "AT+HTTPINIT");
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+HTTPINIT");
		if (r.final != AT_FINAL_OK)
			return ath_fail(err, ATH_E_MODULE, r.code,
					"AT+HTTPINIT failed: %s (is the PDP context active?)", r.text);
	}
	snprintf(st->content, sizeof st->content, "%s", default_content);
	snprintf(st->accept, sizeof st->accept, "%s", default_accept);
	st->url[0] = '\0';
	st->sslcfg_set = false;     /* HTTPINIT forgot it; the SSL context stays */
	return ATH_OK;
}

static enum ath_err simcom_bringup(struct modem_io *io, struct ath_error *err)
{
	return simcom_start(io, err, false);
}

static enum ath_err simcom_recover(struct modem_io *io, struct ath_error *err)
{
	return simcom_start(io, err, true);
}

/* The manual has no read form of AT+HTTPINIT, nor any other command that
 * says whether the service runs: a start finds out by HTTPINIT's ERROR.
 * So the service is stopped when the engine closes (the manual's Step 7),
 * and the next start's HTTPINIT succeeds at once. */
static enum ath_err simcom_teardown(struct modem_io *io, struct ath_error *err)
{
	struct simcom_state *st = io->state;
	struct at_result r;
	enum ath_err e = at_chat_cmd(io->chat, timeouts.init_ms, &r, "AT+HTTPTERM");
	st->url[0] = '\0';
	st->sslcfg_set = false;
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+HTTPTERM");
	if (r.final != AT_FINAL_OK)
		return at_refused(err, &r, "AT+HTTPTERM");
	return ATH_OK;
}

/* Sets a string parameter when the module holds another value. */
static enum ath_err set_param(struct modem_io *io, const char *name, char *held,
			      const char *value, struct ath_error *err)
{
	if (strcmp(held, value) == 0)
		return ATH_OK;
	struct at_result r;
	enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.param_ms), &r,
				     "AT+HTTPPARA=\"%s\",\"%s\"", name, value);
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+HTTPPARA");
	if (r.final != AT_FINAL_OK)
		return at_refused(err, &r, name);
	snprintf(held, SIMCOM_PARAM_MAX + 1, "%s", value);
	return ATH_OK;
}

static int download_time_ms(size_t len, int baud)
{
	long long ms = wire_ms(len, baud);
	return ms > 120000 ? 120000 : (int)ms;
}

static enum ath_err send_body(struct modem_io *io, const struct dialect_request *rq,
			      struct ath_error *err)
{
	struct at_result r;
	struct at_data_outcome got;
	int ms = download_time_ms(rq->body_len, io->baud);
	char cmd[48];
	snprintf(cmd, sizeof cmd, "AT+HTTPDATA=%zu,%d", rq->body_len, ms);
	struct at_data_phase dp = {
		.cmd = cmd, .prompt_ms = wait_command_ms(io, timeouts.param_ms),
		.data = rq->body, .len = rq->body_len, .data_ms = 5000,
		.final_ms = wait_command_ms(io, ms + 5000),
	};
	enum ath_err e = at_data_phase(io->chat, &dp, &r, &got);
	if (e != ATH_OK)
		return at_no_answer(err, e, got.prompted && !got.sent ? "AT+HTTPDATA data" : "AT+HTTPDATA");
	/* Any answer but the prompt to the command, or but OK after the bytes. */
	if (!got.prompted || r.final != AT_FINAL_OK)
		return at_refused(err, &r, "AT+HTTPDATA");
	return ATH_OK;
}

static const struct at_block_rule simcom_blocks[] = {
	{ "+HTTPREAD:", AT_BLOCK_AFTER_LINE, "LEN", false },
	{ "+HTTPHEAD:", AT_BLOCK_AFTER_LINE, NULL, true },
	{ NULL, 0, NULL, false },
};

static const char *const simcom_prompts[] = { "DOWNLOAD", NULL };

/* Every piece's data ends with a line break: the next piece, OK or
 * "+HTTPREAD: 0" comes on a line of its own (the SIMCom HTTP manual, 2.6
 * and its examples in chapter 3). */
/* The manual's notifications (chapter 5, "Summary of HTTP error Code"):
 * they may come between a read's lines. */
static const char *const simcom_urcs[] = { "+HTTP_PEER_CLOSED", "+HTTP_NONET_EVENT", NULL };

static const struct at_syntax simcom_syntax = {
	.blocks = simcom_blocks,
	.prompt_lines = simcom_prompts,
	.block_trailer = "\r\n",
	.urc_lines = simcom_urcs,
};

/* Collects HTTPHEAD's block. */
struct head_buf {
	char *p;
	size_t len;
	bool truncated;
};

static void head_sink(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct head_buf *hb = ctx;
	(void)left;
	if (strncmp(header, "+HTTPHEAD:", 10) != 0)
		return;
	size_t room = SIMCOM_MAX_HEAD - hb->len;
	if (len > room) {
		len = room;
		hb->truncated = true;
	}
	memcpy(hb->p + hb->len, data, len);
	hb->len += len;
}

/* Forwards HTTPREAD's blocks to the response, counting them. */
struct body_fwd {
	const struct response_sink *sink;
	const struct at_chat *chat;
	unsigned long long got;
	bool client_gone;
	bool data_before_final;   /* the manual's order: no terminator follows */
	size_t room;              /* what the current AT+HTTPREAD may still return */
	bool overrun;             /* it returned more: those bytes are dropped */
};

static void body_sink(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct body_fwd *bf = ctx;
	(void)left;
	if (strncmp(header, "+HTTPREAD:", 10) != 0)
		return;
	if (len > bf->room) {
		bf->overrun = true;
		len = bf->room;
	}
	bf->room -= len;
	bf->got += len;
	if (!at_chat_final_seen(bf->chat))
		bf->data_before_final = true;
	if (!bf->client_gone && len && bf->sink->body(bf->sink->ctx, data, len) != ATH_OK)
		bf->client_gone = true;
}

/* The value after "+HTTPREAD:" on a terminator line, -1 if not one. */
static long long read_terminator(const char *line)
{
	struct at_result_iter it;
	long long v;
	at_result_iter_init(&it, line);
	if (!at_result_iter_next(&it, "+HTTPREAD:") || !at_result_iter_next_number(&it, &v) ||
	    !at_result_iter_end(&it))
		return -1;
	return v;
}

/* What a read may print besides its blocks and its result: the
 * terminator "+HTTPREAD: 0" (the SIMCom HTTP manual, 2.6).  Any other line
 * inside a read is displaced data. */
static const char *const simcom_read_lines[] = { "+HTTPREAD:", NULL };
static const char *const simcom_head_lines[] = { "+HTTPHEAD:", NULL };

static enum ath_err read_body(struct modem_io *io, long long total, struct body_fwd *bf,
			      struct ath_error *err)
{
	unsigned long long off = 0;
	for (;;) {
		if (total >= 0 && off >= (unsigned long long)total)
			return ATH_OK;
		size_t want = SIMCOM_READ_CHUNK;
		if (total >= 0 && (unsigned long long)total - off < want)
			want = (size_t)((unsigned long long)total - off);
		unsigned long long before = bf->got;
		struct at_result r;
		bf->data_before_final = false;
		bf->room = want;
		bf->overrun = false;
		at_chat_clear_queue(io->chat);
		enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.read_idle_ms), &r,
					     "AT+HTTPREAD=%llu,%zu", off, want);
		if (e != ATH_OK)
			return at_chat_failed(io->chat, err, e, "AT+HTTPREAD");
		if (r.final != AT_FINAL_OK) {
			if (total < 0)
				return ATH_OK; /* length unknown: ERROR means no more */
			return ath_fail(err, ATH_E_MODULE, r.code, "AT+HTTPREAD failed at %llu of %lld: %s",
					off, total, r.text);
		}
		char line[64];
		for (;;) {
			if (bf->data_before_final)
				break;
			e = at_chat_wait_line(io->chat, "+HTTPREAD:", wait_command_ms(io, timeouts.read_idle_ms),
					      line, sizeof line);
			if (e != ATH_OK)
				return at_chat_failed(io->chat, err, e, "AT+HTTPREAD (waiting for +HTTPREAD: 0)");
			if (read_terminator(line) == 0)
				break;
			/* An empty piece ("+HTTPREAD: DATA,0") is no data; any
			 * other line here is not the manual's. */
			if (at_block_length(&simcom_syntax, line, strlen(line)) != 0) {
				at_chat_framing_error(io->chat, "AT+HTTPREAD: unexpected \"%.40s\"", line);
				return at_chat_failed(io->chat, err, ATH_E_PROTOCOL, "AT+HTTPREAD");
			}
		}
		if (bf->overrun) {
			/* The pieces add up to more than was asked for (the bytes
			 * past it were held back by body_sink). */
			at_chat_framing_error(io->chat, "AT+HTTPREAD=%llu,%zu returned more than the bytes asked for",
					      off, want);
			return at_chat_failed(io->chat, err, ATH_E_PROTOCOL, "AT+HTTPREAD");
		}
		unsigned long long got = bf->got - before;
		off += got;
		if (got == 0) {
			if (total >= 0)
				return ath_fail(err, ATH_E_PROTOCOL, -1,
						"module returned no data at %llu of %lld", off, total);
			return ATH_OK;
		}
		if (bf->client_gone)
			return ATH_E_CLIENT_GONE;
	}
}

static enum ath_err simcom_exchange(struct modem_io *io, const struct dialect_request *rq,
				    const struct response_sink *sink, struct ath_error *err)
{
	struct simcom_state *st = io->state;
	struct at_result r;
	int action = -1;
	for (size_t i = 0; i < sizeof simcom_actions / sizeof simcom_actions[0]; i++)
		if (simcom_actions[i].verb == rq->verb)
			action = simcom_actions[i].action;
	if (action < 0)
		return ath_fail(err, ATH_E_UNSUPPORTED, -1, "method %s not supported", rq->method);

	if (rq->tls) {
		/* modem.c runs tls_setup first and asks for verification only
		 * when it said verified: anything else is a bug, and must not
		 * reach a server unverified. */
		if (!st->tls_ready || (rq->verify_upstream && !st->verified))
			return ath_fail(err, ATH_E_CONFIG, -1,
					"https: the module's SSL context is not set up to verify the server");
	}

	/* The module holds the URL until HTTPTERM (the manual, 2.3): the same
	 * URL again costs no command. */
	enum ath_err e;
	if (strcmp(st->url, rq->url) != 0) {
		st->url[0] = '\0';
		e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.param_ms), &r, "AT+HTTPPARA=\"URL\",\"%s\"",
				rq->url);
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+HTTPPARA URL");
		if (r.final != AT_FINAL_OK)
			return at_refused(err, &r, "AT+HTTPPARA URL");
		if (strlen(rq->url) <= SIMCOM_MAX_URL)
			snprintf(st->url, sizeof st->url, "%s", rq->url);
	}
	if (rq->tls && !st->sslcfg_set) {
		e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.param_ms), &r, "AT+HTTPPARA=\"SSLCFG\",%d",
				simcom_tls.ctx);
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+HTTPPARA SSLCFG");
		if (r.final != AT_FINAL_OK)
			return at_refused(err, &r, "AT+HTTPPARA SSLCFG");
		st->sslcfg_set = true;
	}

	const char *accept = hdr_get(rq->headers, "Accept");
	e = set_param(io, "ACCEPT", st->accept, accept ? accept : default_accept, err);
	if (e != ATH_OK)
		return e;
	if (rq->verb == VERB_POST) {
		const char *ctype = hdr_get(rq->headers, "Content-Type");
		e = set_param(io, "CONTENT", st->content, ctype ? ctype : default_content, err);
		if (e == ATH_OK && rq->body_len)
			e = send_body(io, rq, err);
		if (e != ATH_OK)
			return e;
	}

	at_chat_clear_queue(io->chat);
	e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.action_ok_ms), &r, "AT+HTTPACTION=%d", action);
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+HTTPACTION");
	if (r.final != AT_FINAL_OK)
		return at_refused(err, &r, "AT+HTTPACTION");
	char urc[128];
	e = at_chat_wait_line(io->chat, "+HTTPACTION:", wait_server_ms(io), urc, sizeof urc);
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+HTTPACTION (waiting for +HTTPACTION)");
	/* +HTTPACTION: <method>,<statuscode>,<datalen> (the SIMCom HTTP
	 * manual, 2.4). */
	struct at_result_iter it;
	long long method, status_code, datalen;
	at_result_iter_init(&it, urc);
	if (!at_result_iter_next(&it, "+HTTPACTION:") || !at_result_iter_next_number(&it, &method) ||
	    !at_result_iter_next_number(&it, &status_code) || !at_result_iter_next_number(&it, &datalen) ||
	    !at_result_iter_end(&it) || method != action || status_code < INT_MIN || status_code > INT_MAX ||
	    datalen < 0)
		return ath_fail(err, ATH_E_PROTOCOL, -1, "unexpected URC: %s", urc);
	int status = (int)status_code;
	const struct module_code *sc = module_code_find(MODULE_CODES(simcom_codes), status);
	if (sc || status < 100 || status > 599)
		return ath_fail_status(err, ATH_E_MODULE, sc ? sc->http_status : 502, status, "%s%s%s%s",
				       sc ? sc->meaning : "unknown status", sc && sc->hint ? " (" : "",
				       sc && sc->hint ? sc->hint : "", sc && sc->hint ? ")" : "");

	/* The origin's head.  Without one (ERROR), the status is all we know. */
	struct head_buf hb = { malloc(SIMCOM_MAX_HEAD), 0, false };
	if (!hb.p)
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	at_chat_set_block_sink(io->chat, head_sink, &hb);
	at_chat_strict_lines(io->chat, simcom_head_lines);
	e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.head_ms), &r, "AT+HTTPHEAD");
	at_chat_strict_lines(io->chat, NULL);
	at_chat_set_block_sink(io->chat, NULL, NULL);
	struct http_head h;
	bool synthesized = e != ATH_OK || r.final != AT_FINAL_OK ||
			   http_head_parse(&h, hb.p, hb.len) != 0;
	free(hb.p);
	if (e != ATH_OK)
		return at_chat_failed(io->chat, err, e, "AT+HTTPHEAD");
	if (synthesized) {
		memset(&h, 0, sizeof h);
		h.content_length = -1;
		h.status = status;
		snprintf(h.reason, sizeof h.reason, "%s", http_reason(status));
	}

	long long length;
	if (rq->verb == VERB_HEAD)
		length = h.content_length;
	else if (datalen > 0)
		length = datalen;
	else
		length = h.chunked ? -1 : 0; /* chunked: datalen 0 yet readable */

	e = sink->head(sink->ctx, &h, length, synthesized);
	http_head_free(&h);
	if (e != ATH_OK)
		return ath_fail(err, ATH_E_CLIENT_GONE, -1, "client gone");
	if (rq->verb == VERB_HEAD || length == 0)
		return ATH_OK;

	struct body_fwd bf = { .sink = sink, .chat = io->chat };
	at_chat_set_block_sink(io->chat, body_sink, &bf);
	at_chat_strict_lines(io->chat, simcom_read_lines);
	e = read_body(io, length, &bf, err);
	at_chat_strict_lines(io->chat, NULL);
	if (e == ATH_E_CLIENT_GONE)
		return ath_fail(err, e, -1, "client gone");
	return e;
}

/* ------------------------------------------------------------ https setup */

/* AT+CCERTDOWN="<file>",<len>, its ">" phase with exactly len bytes, OK.
 * *refused: the module answered ERROR to the command (no such command on
 * this firmware, or it will not take the file), which is no failure of the
 * line. */
static enum ath_err upload_ca(struct modem_io *io, const char *pem, size_t len, bool *refused,
			      struct at_result *r, struct ath_error *err)
{
	const struct simcom_tls_profile *tp = &simcom_tls;
	*refused = false;
	char cmd[AT_CMD_MAX];
	snprintf(cmd, sizeof cmd, "AT+CCERTDOWN=\"%s\",%zu", tp->ca_file, len);
	int ms = download_time_ms(len, io->baud);
	struct at_data_phase dp = {
		.cmd = cmd, .prompt_ms = timeouts.param_ms,
		.data = pem, .len = len, .data_ms = ms, .final_ms = ms + tp->ca_ms,
	};
	struct at_data_outcome got;
	enum ath_err e = at_data_phase(io->chat, &dp, r, &got);
	if (e != ATH_OK)
		return at_no_answer(err, e, got.prompted && !got.sent ? "AT+CCERTDOWN data" : "AT+CCERTDOWN");
	/* Any answer but the prompt to the command, or but OK after the bytes. */
	if (!got.prompted || r->final != AT_FINAL_OK)
		*refused = true;
	return ATH_OK;
}

/* Sends the profile's AT+CSSLCFG settings for verifying (or not). */
static enum ath_err configure_context(struct modem_io *io, bool verify, struct ath_error *err)
{
	struct simcom_state *st = io->state;
	const struct simcom_tls_profile *tp = &simcom_tls;
	st->sni = false;
	for (size_t i = 0; i < tp->nitems; i++) {
		const struct simcom_ssl_item *it = &tp->items[i];
		int v = verify ? it->verify_value : it->plain_value;
		if (v < 0)
			continue;
		struct at_result r;
		enum ath_err e;
		if (it->ca_file)
			e = at_chat_cmd(io->chat, timeouts.param_ms, &r, "AT+CSSLCFG=\"%s\",%d,\"%s\"",
					it->key, tp->ctx, tp->ca_file);
		else
			e = at_chat_cmd(io->chat, timeouts.param_ms, &r, "AT+CSSLCFG=\"%s\",%d,%d",
					it->key, tp->ctx, v);
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+CSSLCFG");
		if (r.final != AT_FINAL_OK) {
			if (it->may_lack) {
				trace_note(io->trace, "simcom: this firmware has no AT+CSSLCFG \"%s\" (%s)",
					   it->key, r.text);
				continue;
			}
			char what[64];
			snprintf(what, sizeof what, "AT+CSSLCFG \"%s\"", it->key);
			return at_refused(err, &r, what);
		}
		if (strcmp(it->key, "enableSNI") == 0)
			st->sni = v == 1;
	}
	return ATH_OK;
}

static enum ath_err simcom_tls_setup(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	struct simcom_state *st = io->state;
	const struct simcom_tls_profile *tp = &simcom_tls;
	const struct module_tls *mt = io->tls;
	bool verify = false;

	st->tls_ready = false;
	st->verified = false;
	v->verified = false;
	v->why[0] = '\0';
	if (!mt->ca_pem) {
		snprintf(v->why, sizeof v->why, "no --module-ca given");
	} else if (mt->ca_len == 0 || mt->ca_len > tp->max_ca) {
		snprintf(v->why, sizeof v->why,
			 "the --module-ca file is %zu bytes, AT+CCERTDOWN takes 1 to %zu",
			 mt->ca_len, tp->max_ca);
	} else {
		unsigned char sum[32];
		mbedtls_sha256_ret((const unsigned char *)mt->ca_pem, mt->ca_len, sum, 0);
		if (st->ca_loaded && memcmp(sum, st->ca_sha256, sizeof sum) == 0) {
			verify = true;
		} else {
			struct at_result r;
			bool refused;
			st->ca_loaded = false;
			enum ath_err e = upload_ca(io, mt->ca_pem, mt->ca_len, &refused, &r, err);
			if (e != ATH_OK)
				return e;
			if (refused) {
				snprintf(v->why, sizeof v->why,
					 "the module refused AT+CCERTDOWN (%s), so it holds no roots",
					 r.text);
			} else {
				memcpy(st->ca_sha256, sum, sizeof sum);
				st->ca_loaded = true;
				verify = true;
			}
		}
	}
	enum ath_err e = configure_context(io, verify, err);
	if (e != ATH_OK)
		return e;
	st->tls_ready = true;
	st->verified = verify;
	v->verified = verify;
	if (verify && !st->sni)
		trace_note(io->trace, "simcom: the module sends no SNI; servers that need it fail with 715");
	return ATH_OK;
}


static const char *const simcom_carried[] = { "Content-Type", "Accept", NULL };

static const struct dialect_caps simcom_caps = {
	.methods = VERB_GET | VERB_HEAD | VERB_POST | VERB_DELETE,
	.body_methods = VERB_POST,
	.max_body = 153600,
	.max_url = SIMCOM_MAX_URL,
	.raw_request = false,
	.carried_headers = simcom_carried,
	.max_header_value = SIMCOM_PARAM_MAX,
	.real_response_head = true,
	.body_limit_name = "AT+HTTPDATA",
};


/* The network bring-up (netup.h).  SIMCom's own context and credential
 * commands (its AT manual, AT+CGSOCKCONT and AT+CSOCKAUTH, the password
 * before the user); no activation step: AT+HTTPINIT activates the
 * context (the SIMCom HTTP manual, 1.1 "Step 3"). */
static const struct netup_profile simcom_netup = {
	.kind = NETUP_CELLULAR,
	.quoting = NETUP_QUOTE_PLAIN,
	.cid = 1,
	.reg_queries = netup_reg_queries_27007,
	.define_ctx = "AT+CGSOCKCONT={cid},\"IP\",\"{apn}\"",
	.define_query = "AT+CGSOCKCONT?",
	.define_prefix = "+CGSOCKCONT:",
	.define_cid_field = 0, .define_apn_field = 2, .define_user_field = -1, .define_password_field = -1,
	.auth_ctx = "AT+CSOCKAUTH={cid},1,\"{password}\",\"{user}\"",
	.activate = NULL,
	.active_cid_field = -1, .active_state_field = -1, .active_addr_field = -1,
};

static const struct dialect_ops simcom_ops = {
	.bringup = simcom_bringup,
	.exchange = simcom_exchange,
	.recover = simcom_recover,
	.tls_setup = simcom_tls_setup,
	.teardown = simcom_teardown,
};

const struct dialect dialect_simcom = {
	.name = "simcom",
	.summary = "SIMCom SIM7500/SIM7600/SIM7800, A76xx (AT+HTTPINIT)",
	.caps = &simcom_caps,
	.syntax = &simcom_syntax,
	.ops = &simcom_ops,
	.state_size = sizeof(struct simcom_state),
	/* The SIMCom HTTP manual, AT+HTTPACTION: its test form answers
	 * "+HTTPACTION: (0-3)"; the Neoway N58 manual's has none. */
	.identify_probe = "AT+HTTPACTION=?",
	.netup = &simcom_netup,
};
