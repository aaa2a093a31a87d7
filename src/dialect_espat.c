/*
 * ESP-AT-style WiFi firmware (Espressif ESP-AT, Beken BK72xx): AT+HTTPCLIENT
 * and AT+HTTPCPOST (the Beken BK72xx AT manual, "HTTP instruction set";
 * where it is silent, the choice is noted where it is made).  One command per
 * request; for http no set-up and no state (https: tls_setup, below):
 *
 *   AT+HTTPCLIENT=<opt>,<content-type>,"<url>",,,1[,"<data>"][,"Name: value"]...
 *   +HTTPCLIENT:<n>,<n bytes>     the body, in pieces (Espressif)
 *   OK
 *
 * opt 1 HEAD, 2 GET, 3 POST, 4 PUT, 5 DELETE.  <content-type> is 0..3 when
 * the client's Content-Type is exactly one of the module's four, else 0;
 * the client's Content-Type also travels as a header parameter, which
 * overrides the module's own.  Host and path are left empty: the URL wins.
 * Every string is quoted with ESP-AT's escapes (\" \\ \,): nothing a client
 * sends can end a parameter or the command (control bytes never get here:
 * the bridge refuses them, and the driver checks again).  The whole command
 * must fit ESP-AT's 256 bytes; a request that does not is refused before
 * anything is sent: 414 when the URL alone is too long, 431 when its
 * headers make it so.
 *
 * POST bodies go inline as <data> when they have no control byte and the
 * command fits (an empty body is sent as ""); otherwise in the counted data
 * phase of AT+HTTPCPOST (1..2048 bytes, any bytes):
 *
 *   AT+HTTPCPOST="<url>",<length>[,<n>,"Name: value"...]
 *   OK, then '>' (or '>' alone), exactly <length> bytes,
 *   +HTTPCPOST:<n>,<data> pieces, then SEND OK (SEND FAIL or ERROR: 502)
 *
 * The module gives no status line and no headers, so the response is made
 * up: 200 with the Content-Length of what arrived, marked synthesized.  That
 * needs the whole body first: it is spooled (body_spool.h: memory up to
 * 256 KB, then an unlinked temp file) and replayed.  A HEAD's pieces are
 * the origin's header lines ("Name: value"), which become the response's
 * (hop-by-hop and framing ones dropped, Content-Length kept as the HEAD's
 * figure).  ERROR is 502: Espressif firmware answers ERROR for any status
 * of 400 or more as well as for failures, and the error body pieces that
 * may come first are dropped.
 *
 * Beken firmware prints every piece as "+HTTPCLIENT:<T>,<data>" with
 * literal angle brackets, T the TOTAL length, the data cut at its first
 * NUL, and a line end after it: no length to go by, so the AT parser reads
 * such pieces as lines, which lose the exact line-break bytes inside the
 * data.  The driver therefore has the raw bytes read again, through the
 * chat's raw observer for the one command (the tap), by a reader of such
 * pieces (at_pieces.h): a piece
 * runs from "<" to the last '>' before a line break that is followed by
 * the next piece (with the same T) or a final result, so bare LFs, blank
 * lines and '>' in the data come through as they are.  When the pieces so
 * far fall short of T, a '>', a line break and a final result may still be
 * data: it is the end only if the module then stays quiet (settle_ms), as
 * after a body cut at a NUL.  The pieces must add up to T exactly;
 * anything else (a NUL-truncated body, say) is a 502 saying the module's
 * output cannot be reassembled exactly: a client never gets a mangled
 * body.  A line of the body that reads like a final result ("OK") makes
 * the chat think the command ended; the tap knows better and the driver
 * waits for the real end.  (Data that holds a whole piece boundary of the
 * same T, or a final result at T, is ambiguous in Beken's format itself.)
 *
 * HTTPS (DESIGN.md "HTTPS"): the URL is https:// and <transport_type> 2
 * (HTTP_TRANSPORT_OVER_SSL, the manual's "TLS example"); AT+HTTPCPOST has
 * no transport parameter, its URL decides.  The module verifies the server
 * only against a CA it holds: tls_setup (once per bring-up) writes the
 * --module-ca roots into its RAM with the manual's AT+HTTPCERT=1,<length>
 * and the data phase after '>' (the manual's examples spell it
 * AT+HTTPSCERT: whichever the firmware refuses with ERROR, the other is
 * tried, and the one that took is kept in the state).  RAM only: a reset
 * loses it, and the state, zeroed at each bring-up, has it loaded again.
 * The family has no verification switch and no SNI switch: a CA in RAM is
 * what its TLS client verifies with, and ESP-IDF's esp-tls sends the URL's
 * host as SNI by itself.  Espressif's own ESP-AT documents no such
 * command: its HTTP client verifies only against roots in the flash PKI
 * partition (AT+SYSMFG) once AT+HTTPCFG=2 is compiled in, which athttp does
 * not write; on such firmware both spellings answer ERROR and tls_setup
 * says the module cannot verify (then https needs --insecure-upstream).
 * A failed TLS connection (handshake, a rejected certificate) is a bare
 * ERROR (SEND FAIL after AT+HTTPCPOST's data), like any failure: 502.
 * What the family cannot do, and athttp cannot see: remove roots from RAM
 * (without --module-ca, those an earlier run wrote still apply until a
 * reset: stricter, never looser), and refuse a redirect the module
 * follows by itself (an https answer may be the end of a redirect to
 * elsewhere, even to http://; no status or header comes back to tell).
 *
 * Not used: AT+HTTPGETSIZE (a HEAD does more), AT+OTA.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at_pieces.h"
#include "at_sync.h"
#include "body_spool.h"
#include "dialect.h"
#include "wire_time.h"
#include "strbuf.h"

#define ESPAT_CMD_MAX 256        /* ESP-AT's longest command line, without CR */
#define ESPAT_MAX_BODY 2048      /* AT+HTTPCPOST <length>: "maximum length 2k" */
#define ESPAT_HEADER_MAX 8192    /* one header piece of a HEAD */
#define ESPAT_HEAD_MAX 65536     /* all of them */

static const struct {
	int drain_ms;     /* quiet time after a response that cannot be reassembled */
	int settle_ms;    /* quiet time that makes a provisional Beken end the end */
} timeouts = {
	.drain_ms = 100,
	.settle_ms = 200,
};

/* <opt> by verb. */
static const struct {
	unsigned verb;
	int opt;
} espat_opts[] = {
	{ VERB_HEAD, 1 }, { VERB_GET, 2 }, { VERB_POST, 3 }, { VERB_PUT, 4 }, { VERB_DELETE, 5 },
};

/* The <transport_type> of a request, http or https (the manual: 1
 * HTTP_TRANSPORT_OVER_TCP, 2 HTTP_TRANSPORT_OVER_SSL). */
static const int espat_transports[2] = { [false] = 1, [true] = 2 };

/* How the family takes a CA: the command (the manual's syntax, then its
 * examples' spelling; tried in this order, the first that does not answer
 * ERROR wins), its <type> (1: exactly <length> bytes follow '>'), and what
 * a module that takes none of them is told as the reason. */
static const struct {
	const char *const cert_commands[3];
	int cert_type;
	const char *no_cert_command;
	const char *no_ca;
} espat_tls = {
	.cert_commands = { "AT+HTTPCERT", "AT+HTTPSCERT", NULL },
	.cert_type = 1,
	.no_cert_command = "AT+HTTPCERT and AT+HTTPSCERT answer ERROR: the module has no command to load a CA "
			   "certificate, so it cannot verify servers (Espressif ESP-AT verifies only with its flash "
			   "PKI partition)",
	.no_ca = "no --module-ca given: athttp gives the module no roots, so it cannot verify servers (roots an "
		 "earlier run wrote stay in its RAM until a reset, and still apply)",
};

/* What a bring-up's tls_setup left in the module (io->state: zeroed at
 * every bring-up, as the module's RAM is at every reset). */
struct espat_state {
	bool tls_set_up;
	bool ca_loaded;                 /* the --module-ca roots are in its RAM */
	const char *cert_command;       /* the spelling that took them */
};

/* <content-type> 0..3. */
static const char *const espat_types[] = {
	"application/x-www-form-urlencoded", "application/json", "multipart/form-data", "text/xml",
};

/* Response fields a HEAD's pieces may hold that are not the origin's to
 * pass on (hop-by-hop, framing); Content-Length stays as the HEAD's figure. */
static const char *const dropped_fields[] = {
	"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "TE", "Trailer", "Upgrade", NULL,
};

/* ------------------------------------------------------------ the command */

/* ESP-AT's escapes inside a quoted parameter. */
static void cb_escaped(struct strbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\' || s[i] == ',')
			strbuf_add(b, "\\", 1);
		strbuf_add(b, s + i, 1);
	}
}

/* A quoted, escaped parameter after a comma. */
static void cb_param(struct strbuf *b, const char *s, size_t n)
{
	strbuf_add(b, ",\"", 2);
	cb_escaped(b, s, n);
	strbuf_add(b, "\"", 1);
}

static void cb_header(struct strbuf *b, const struct hdr *h)
{
	strbuf_add(b, ",\"", 2);
	cb_escaped(b, h->name, strlen(h->name));
	strbuf_add(b, ": ", 2);
	cb_escaped(b, h->value, strlen(h->value));
	strbuf_add(b, "\"", 1);
}

static bool has_control(const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] == 0x7f)
			return true;
	return false;
}

static int content_type_param(const struct hdr_list *h)
{
	const char *ct = h ? hdr_get(h, "Content-Type") : NULL;
	for (size_t i = 0; ct && i < sizeof espat_types / sizeof espat_types[0]; i++)
		if (strcasecmp(ct, espat_types[i]) == 0)
			return (int)i;
	return 0;
}

/* How one request goes to the module. */
struct plan {
	int opt;
	bool cpost;              /* AT+HTTPCPOST with a data phase */
	struct strbuf cmd;
	const char *name;        /* the command, for messages */
};

static void plan_free(struct plan *pl)
{
	strbuf_free(&pl->cmd);
	memset(pl, 0, sizeof *pl);
}

/* The command's fixed part and URL; with_data adds POST's <data>. */
static void build_client(struct strbuf *b, int opt, int ctype, const char *url, int transport,
			 const unsigned char *data, size_t data_len, bool with_data)
{
	strbuf_addf(b, "AT+HTTPCLIENT=%d,%d", opt, ctype);
	cb_param(b, url, strlen(url));
	strbuf_addf(b, ",,,%d", transport);
	if (with_data)
		cb_param(b, (const char *)data, data_len);
}

static void build_cpost(struct strbuf *b, const char *url, size_t len)
{
	strbuf_adds(b, "AT+HTTPCPOST=");
	strbuf_add(b, "\"", 1);
	cb_escaped(b, url, strlen(url));
	strbuf_addf(b, "\",%zu", len);
}

static void add_headers(struct strbuf *b, const struct hdr_list *h, bool counted)
{
	if (!h || !h->n)
		return;
	if (counted)
		strbuf_addf(b, ",%zu", h->n);
	for (size_t i = 0; i < h->n; i++)
		cb_header(b, &h->v[i]);
}

/* The reason a command is too long: the URL alone, or its headers. */
static enum ath_err too_long(struct ath_error *err, const char *cmd, size_t base_len, size_t full_len)
{
	if (base_len > ESPAT_CMD_MAX)
		return ath_fail_status(err, ATH_E_BAD_REQUEST, 414, -1,
				       "the URL makes %s %zu bytes, over the module's %d-byte command line",
				       cmd, base_len, ESPAT_CMD_MAX);
	return ath_fail_status(err, ATH_E_BAD_REQUEST, 431, -1,
			       "the headers make %s %zu bytes, over the module's %d-byte command line",
			       cmd, full_len, ESPAT_CMD_MAX);
}

static enum ath_err plan_request(const struct dialect_request *rq, struct plan *pl, struct ath_error *err)
{
	memset(pl, 0, sizeof *pl);
	pl->opt = -1;
	for (size_t i = 0; i < sizeof espat_opts / sizeof espat_opts[0]; i++)
		if (espat_opts[i].verb == rq->verb)
			pl->opt = espat_opts[i].opt;
	if (pl->opt < 0)
		return ath_fail(err, ATH_E_UNSUPPORTED, -1, "method %s is not one of AT+HTTPCLIENT's", rq->method);
	/* Method, body, its size, the URL and the header bytes: the bridge
	 * checked them against espat_caps (dialect.h). */

	int ctype = content_type_param(rq->headers);
	const unsigned char *body = rq->body ? rq->body : (const unsigned char *)"";
	bool post = rq->verb == VERB_POST;
	struct strbuf base = { 0 };
	int transport = espat_transports[rq->tls];
	build_client(&base, pl->opt, ctype, rq->url, transport, body, rq->body_len, post);
	build_client(&pl->cmd, pl->opt, ctype, rq->url, transport, body, rq->body_len, post);
	add_headers(&pl->cmd, rq->headers, false);
	pl->name = "AT+HTTPCLIENT";
	bool inline_ok = !post || !has_control(body, rq->body_len);
	enum ath_err e = ATH_OK;
	if (base.oom || pl->cmd.oom) {
		e = ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	} else if (inline_ok && pl->cmd.len <= ESPAT_CMD_MAX) {
		/* as built */
	} else if (!post || rq->body_len == 0) {
		e = too_long(err, "AT+HTTPCLIENT", base.len, pl->cmd.len);
	} else {
		/* The body goes in AT+HTTPCPOST's data phase. */
		strbuf_free(&base);
		strbuf_free(&pl->cmd);
		build_cpost(&base, rq->url, rq->body_len);
		build_cpost(&pl->cmd, rq->url, rq->body_len);
		add_headers(&pl->cmd, rq->headers, true);
		pl->cpost = true;
		pl->name = "AT+HTTPCPOST";
		if (base.oom || pl->cmd.oom)
			e = ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
		else if (pl->cmd.len > ESPAT_CMD_MAX)
			e = too_long(err, "AT+HTTPCPOST", base.len, pl->cmd.len);
	}
	strbuf_free(&base);
	if (e != ATH_OK)
		plan_free(pl);
	return e;
}

/* ------------------------------------------------------------ the response */

/* Where the pieces go: the spool (a body) or header lines (a HEAD). */
struct collector {
	bool head_request;
	struct body_spool spool;
	struct hdr_list headers;
	long long head_length;          /* a HEAD's Content-Length, -1 none */
	char *line;                     /* the HEAD piece being put together */
	size_t line_len;
	size_t head_bytes;
	bool line_cut;
	unsigned espressif_pieces;
	struct trace *trace;
};

static void collector_init(struct collector *c, bool head_request, struct trace *trace)
{
	memset(c, 0, sizeof *c);
	c->head_request = head_request;
	c->head_length = -1;
	c->trace = trace;
	body_spool_init(&c->spool, BODY_SPOOL_MEM_DEFAULT, NULL);
}

static void collector_free(struct collector *c)
{
	body_spool_free(&c->spool);
	hdr_free(&c->headers);
	free(c->line);
	c->line = NULL;
}

static bool is_token_char(unsigned char c)
{
	return isalnum(c) || strchr("!#$%&'*+-.^_`|~", c);
}

/* One header line of a HEAD's answer: "Name: value". */
static void head_line(struct collector *c, const char *s, size_t n)
{
	while (n && (s[n - 1] == '\r' || s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	size_t k = 0;
	while (k < n && is_token_char((unsigned char)s[k]))
		k++;
	if (k == 0 || k == n || s[k] != ':') {
		if (n)
			trace_note(c->trace, "HEAD piece is not a header line: %.*s", (int)(n < 80 ? n : 80), s);
		return;
	}
	char name[128];
	if (k >= sizeof name)
		return;
	memcpy(name, s, k);
	name[k] = '\0';
	const char *v = s + k + 1;
	size_t vlen = n - k - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	for (const char *const *f = dropped_fields; *f; f++)
		if (hdr_is(name, *f))
			return;
	if (hdr_is(name, "Content-Length")) {
		char num[24];
		if (c->head_length >= 0 || vlen == 0 || vlen >= sizeof num)
			return;
		memcpy(num, v, vlen);
		num[vlen] = '\0';
		char *end;
		long long cl = strtoll(num, &end, 10);
		if (*end || cl < 0 || !isdigit((unsigned char)num[0]))
			return;
		c->head_length = cl;
	}
	hdr_add(&c->headers, name, k, v, vlen);
}

static void head_piece_end(struct collector *c)
{
	/* A piece may hold more than one line. */
	size_t start = 0;
	for (size_t i = 0; i <= c->line_len; i++) {
		if (i == c->line_len || c->line[i] == '\n') {
			head_line(c, c->line + start, i - start);
			start = i + 1;
		}
	}
	c->line_len = 0;
}

static void collector_data(struct collector *c, const void *data, size_t len)
{
	if (!c->head_request) {
		body_spool_write(&c->spool, data, len); /* a failure is sticky: checked at the end */
		return;
	}
	if (c->head_bytes + len > ESPAT_HEAD_MAX || c->line_len + len > ESPAT_HEADER_MAX) {
		c->line_cut = true;
		return;
	}
	char *p = realloc(c->line, c->line_len + len + 1);
	if (!p) {
		c->line_cut = true;
		return;
	}
	c->line = p;
	memcpy(c->line + c->line_len, data, len);
	c->line_len += len;
	c->head_bytes += len;
}

static void collector_piece_end(struct collector *c)
{
	if (c->head_request && c->line)
		head_piece_end(c);
}

/* ------------------------------------------------------------ the record */

static const struct at_block_rule espat_blocks[] = {
	{ "+HTTPCLIENT:", AT_BLOCK_INLINE, NULL, false },
	{ "+HTTPCPOST:", AT_BLOCK_INLINE, NULL, false },
	{ NULL, 0, NULL, false },
};

/* AT+HTTPCPOST's result after its data, when the command is still the
 * chat's ('>' came without an OK before it). */
static const char *const espat_final_lines[] = { "SEND OK", NULL };
/* FAIL ends a failed AT+CWJAP (after "+CWJAP:<code>"): the ESP-AT User
 * Guide, Wi-Fi AT Commands. */
static const char *const espat_failure_lines[] = { "SEND FAIL", "FAIL", NULL };

/* An Espressif piece's data ends with its line break (the ESP-AT HTTP AT
 * commands, AT+HTTPCLIENT: "+HTTPCLIENT:<size>,<data>" then OK on its own
 * line).  Beken pieces are no blocks to the parser, so this never looks at
 * them; a Beken body line that reads like an Espressif piece with a wrong
 * count fails the exchange (a failure, never wrong bytes). */
/* What ESP-AT prints unasked (the ESP-AT User Guide, AT Messages): WiFi
 * and station events and the clock; any other line inside a read is
 * displaced data. */
static const char *const espat_urc_lines[] = {
	"WIFI CONNECTED", "WIFI GOT IP", "WIFI DISCONNECT", "+STA_CONNECTED:", "+STA_DISCONNECTED:",
	"+DIST_STA_IP:", "+TIME_UPDATED", NULL,
};

static const struct at_syntax espat_syntax = {
	.block_trailer = "\r\n",
	.urc_lines = espat_urc_lines,
	.blocks = espat_blocks,
	.prompt_lines = NULL, /* '>' at a line start, which the parser knows */
	.failure_lines = espat_failure_lines,
	.final_lines = espat_final_lines,
};

/* ------------------------------------------------------------ the tap */

/*
 * The tap: the chat's raw observer (at_chat_set_raw_observer) for one
 * command, feeding the module's bytes, as they go by and before the AT
 * parser, to a reader of Beken's pieces (at_pieces.h).  It finds their
 * exact bytes for the collector, notes the data prompt, and keeps the last
 * final result and the last other line the module printed outside pieces
 * (for error messages).
 */

/* What comes before a Beken piece's "<T>,<". */
static const char *const piece_prefixes[] = { "+HTTPCLIENT:", "+HTTPCPOST:", NULL };

struct tap {
	struct at_chat *chat;
	struct collector *col;
	struct at_pieces pieces;
	bool prompt_seen;
	char final[64];               /* the last final result outside a piece */
	char other[160];              /* the last other line */
};

/* The chat's raw observer: each read's bytes, before the parser has them. */
static void tap_observe(void *ctx, const void *data, size_t len)
{
	struct tap *tp = ctx;
	/* The chat reads a Beken piece's data as lines and queues them; the
	 * tap has the data, and a full queue only fills the trace.  (A wait
	 * looks at the queue after each read, so nothing it wants is lost.) */
	if (at_pieces_count(&tp->pieces))
		at_chat_clear_queue(tp->chat);
	at_pieces_feed(&tp->pieces, data, len);
}

static void tap_data(void *ctx, const void *data, size_t len)
{
	struct tap *tp = ctx;
	collector_data(tp->col, data, len);
}

static void tap_piece_end(void *ctx)
{
	struct tap *tp = ctx;
	collector_piece_end(tp->col);
}

static void tap_framing(void *ctx, const char *why)
{
	struct tap *tp = ctx;
	trace_note(tp->col->trace, "Beken pieces: %s", why);
}

static void tap_line(void *ctx, const char *line, size_t len)
{
	struct tap *tp = ctx;
	if (at_final_kind(&espat_syntax, line) != AT_FINAL_NONE) {
		snprintf(tp->final, sizeof tp->final, "%.*s", (int)sizeof tp->final - 1, line);
	} else if (strncasecmp(line, "AT", 2) != 0) {
		/* Not our own command's echo: keep it for an error message,
		 * printable bytes only. */
		size_t o = 0;
		for (size_t i = 0; i < len && o + 1 < sizeof tp->other; i++) {
			unsigned char c = (unsigned char)line[i];
			tp->other[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
		}
		tp->other[o] = '\0';
	}
}

static void tap_prompt(void *ctx)
{
	struct tap *tp = ctx;
	tp->prompt_seen = true;
}

static const struct at_pieces_cb tap_events = {
	.data = tap_data,
	.end = tap_piece_end,
	.framing = tap_framing,
	.line = tap_line,
	.prompt = tap_prompt,
};

/* A HEAD's pieces are its header lines, each with a T of its own. */
static void tap_init(struct tap *tp, struct modem_io *io, struct collector *col)
{
	memset(tp, 0, sizeof *tp);
	tp->chat = io->chat;
	tp->col = col;
	at_pieces_init(&tp->pieces, &espat_syntax, piece_prefixes, col->head_request, &tap_events, tp);
	at_chat_set_raw_observer(io->chat, tap_observe, tp);
}

static void tap_remove(struct tap *tp)
{
	at_chat_set_raw_observer(tp->chat, NULL, NULL);
}
/* ------------------------------------------------------------ the exchange */

/* What a bare failure may mean, by the request's scheme ([1]: https).
 * Espressif firmware answers a status of 400 or more the same way, and
 * over TLS a failed handshake or a rejected server certificate too. */
static const struct {
	const char *error, *send_fail;
} failure_meaning[2] = {
	[0] = { "Espressif firmware also answers ERROR for an HTTP status of 400 or more",
		"the POST failed, or the server answered a status of 400 or more" },
	[1] = { "over TLS: the handshake failed or the server's certificate was rejected; Espressif firmware "
		"also answers ERROR for an HTTP status of 400 or more",
		"the POST failed, over TLS the handshake failed or the server's certificate was rejected, or the "
		"server answered a status of 400 or more" },
};

static enum ath_err module_error(struct ath_error *err, const char *cmd, const char *result, const struct tap *tp,
				 bool tls)
{
	char said[200] = "";
	if (tp->other[0])
		snprintf(said, sizeof said, "; before it the module printed: %s", tp->other);
	if (strcmp(result, "ERROR") == 0)
		return ath_fail(err, ATH_E_MODULE, -1, "%s: module answered ERROR (%s)%s", cmd,
				failure_meaning[tls].error, said);
	if (strcmp(result, "SEND FAIL") == 0)
		return ath_fail(err, ATH_E_MODULE, -1, "%s: module answered SEND FAIL (%s)%s", cmd,
				failure_meaning[tls].send_fail, said);
	return ath_fail(err, ATH_E_MODULE, -1, "%s: module answered %s%s", cmd, result, said);
}

/* Espressif pieces: "+HTTPCLIENT:<n>," and "+HTTPCPOST:<n>,", counted. */
struct block_ctx {
	struct collector *col;
	const struct at_pieces *beken;  /* the tap's reader */
	bool open;
};

static void on_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct block_ctx *bc = ctx;
	(void)header;
	/* In a Beken answer such a line can only be part of a piece's data,
	 * which the tap has. */
	if (at_pieces_count(bc->beken))
		return;
	if (!bc->open) {
		bc->open = true;
		bc->col->espressif_pieces++;
	}
	collector_data(bc->col, data, len);
	if (left == 0) {
		collector_piece_end(bc->col);
		bc->open = false;
	}
}

static bool prompt_seen(void *ctx)
{
	const struct tap *tp = ctx;
	return tp->prompt_seen;
}

static bool piece_closed(const struct tap *tp)
{
	return !at_pieces_in_piece(&tp->pieces) && tp->final[0];
}

/* real_result's wait: until the piece is closed, or its provisional end
 * comes or goes (the time to wait changes). */
struct close_wait {
	const struct tap *tp;
	bool provisional;
};

static bool closed_or_turned(void *ctx)
{
	const struct close_wait *w = ctx;
	return piece_closed(w->tp) || at_pieces_provisional(&w->tp->pieces) != w->provisional;
}

/* The chat has the command's result, but the tap is inside a Beken piece:
 * either the chat took a line of the data for the result (the real one is
 * still to come), or the tap holds a provisional end (the module's silence
 * makes it the end).  Waits for the tap to see the end. */
static enum ath_err real_result(struct modem_io *io, struct tap *tp, const char *cmd, struct ath_error *err)
{
	if (!at_pieces_provisional(&tp->pieces))
		trace_note(io->trace, "a result line inside a Beken piece's data: waiting for the real one");
	tp->final[0] = '\0';
	while (!piece_closed(tp)) {
		struct close_wait w = { tp, at_pieces_provisional(&tp->pieces) };
		/* Quiet for settle_ms after a provisional end: it was the end
		 * (unless the action timeout runs out first). */
		bool settle = w.provisional && timeouts.settle_ms <= io->action_timeout_ms;
		enum ath_err e = at_chat_wait_until(io->chat, closed_or_turned, &w,
						    settle ? timeouts.settle_ms : io->action_timeout_ms);
		if (e == ATH_E_TIMEOUT && settle) {
			at_pieces_settle(&tp->pieces);
		} else if (e != ATH_OK) {
			return at_chat_failed(io->chat, err, e, cmd);
		}
	}
	return ATH_OK;
}

static int replay_body(void *ctx, const void *data, size_t len)
{
	const struct response_sink *sink = ctx;
	return sink->body(sink->ctx, data, len) == ATH_OK ? 0 : 1;
}

/* The response as the client gets it: 200 made up, the length of what
 * arrived, the body from the spool. */
static enum ath_err deliver(struct modem_io *io, struct collector *col, const struct tap *tp, const char *cmd,
			    const struct response_sink *sink, struct ath_error *err)
{
	unsigned long long sum = at_pieces_sum(&tp->pieces), total = at_pieces_total(&tp->pieces);
	if (at_pieces_count(&tp->pieces) && col->espressif_pieces)
		return ath_fail(err, ATH_E_PROTOCOL, -1,
				"%s: the module printed pieces in both the Espressif and the Beken form", cmd);
	if (at_pieces_count(&tp->pieces) && !col->head_request && sum != total) {
		trace_note(io->trace, "Beken pieces: %llu bytes for a total of %llu", sum, total);
		/* Whatever the module may still print goes before the next
		 * command. */
		at_chat_drain(io->chat, timeouts.drain_ms, 10 * timeouts.drain_ms);
		return ath_fail(err, ATH_E_MODULE, -1,
				"%s: the module's output cannot be reassembled exactly: its pieces hold %llu bytes "
				"of a body it says is %llu (Beken firmware cuts a piece at a NUL byte, and its "
				"pieces have no length of their own)", cmd, sum, total);
	}
	if (col->line_cut)
		trace_note(io->trace, "HEAD header pieces over %d bytes were left out", ESPAT_HEAD_MAX);
	if (body_spool_error(&col->spool)[0])
		return ath_fail(err, ATH_E_NOMEM, -1, "%s", body_spool_error(&col->spool));

	struct http_head h = { .status = 200, .content_length = -1 };
	snprintf(h.reason, sizeof h.reason, "%s", http_reason(200));
	long long length;
	if (col->head_request) {
		h.headers = col->headers;
		h.content_length = col->head_length;
		length = col->head_length;
	} else {
		length = (long long)body_spool_length(&col->spool);
		h.content_length = length;
	}
	if (sink->head(sink->ctx, &h, length, true) != ATH_OK)
		return ath_fail(err, ATH_E_CLIENT_GONE, -1, "client gone");
	if (col->head_request)
		return ATH_OK;
	int r = body_spool_replay(&col->spool, replay_body, (void *)sink);
	if (r > 0)
		return ath_fail(err, ATH_E_CLIENT_GONE, -1, "client gone");
	if (r < 0)
		return ath_fail(err, ATH_E_NOMEM, -1, "%s", body_spool_error(&col->spool));
	return ATH_OK;
}

/* A command with a data phase (AT+HTTPCPOST, AT+HTTPCERT): OK and the
 * prompt (or the prompt alone), exactly len bytes, then its result: the
 * chat's final result when '>' came alone, else a line from after (the
 * command's own result was the OK).  result gets the word that ended it;
 * a refusal before the prompt is that result (*sent, if given, says
 * whether the data went). */
static enum ath_err run_data_phase(struct modem_io *io, struct tap *tp, const char *cmd, const char *name,
				   const void *data, size_t len, const char *const *after, char *result, size_t rlen,
				   bool *sent, struct ath_error *err)
{
	char line[AT_LINE_MAX + 1];
	char what[64];
	struct at_result r;
	int which;
	at_pieces_arm_prompt(&tp->pieces, true);
	enum ath_err e = at_chat_cmd_prompt(io->chat, io->action_timeout_ms, &r, "%s", cmd);
	if (e != ATH_OK)
		return at_no_answer(err, e, name);
	/* '>' without an OK before it: the command is still the chat's, and
	 * its final result (SEND OK, SEND FAIL: the syntax's lines) ends it. */
	bool pending = r.final == AT_FINAL_PROMPT;
	if (r.final == AT_FINAL_OK) {
		/* OK, then '>': the chat stopped at the OK, the tap sees the '>'. */
		e = at_chat_wait_until(io->chat, prompt_seen, tp, io->action_timeout_ms);
		snprintf(what, sizeof what, "%s (waiting for '>')", name);
		if (e != ATH_OK)
			return at_no_answer(err, e, what);
		/* The '>' sits in the parser as the start of a line. */
		at_parser_reset(&io->chat->parser);
	} else if (!pending) {
		snprintf(result, rlen, "%s", r.text);
		return ATH_OK;
	}
	at_pieces_arm_prompt(&tp->pieces, false);
	if (sent)
		*sent = true;
	e = at_chat_send_data(io->chat, data, len, (int)wire_ms(len, io->baud));
	snprintf(what, sizeof what, "%s data", name);
	if (e != ATH_OK)
		return at_no_answer(err, e, what);
	if (pending)
		e = at_chat_wait_final(io->chat, io->action_timeout_ms, &r);
	else
		e = at_chat_wait_line_any(io->chat, after, io->action_timeout_ms, &which, line, sizeof line);
	snprintf(what, sizeof what, "%s (waiting for its result)", name);
	if (e != ATH_OK)
		return at_no_answer(err, e, what);
	snprintf(result, rlen, "%s", pending ? r.text : line);
	return ATH_OK;
}

/* AT+HTTPCPOST: the pieces come before SEND OK. */
static enum ath_err run_cpost(struct modem_io *io, struct tap *tp, const struct plan *pl,
			      const struct dialect_request *rq, char *result, size_t rlen, struct ath_error *err)
{
	static const char *const send_results[] = { "SEND OK", "SEND FAIL", "ERROR", "+CME ERROR:", NULL };
	return run_data_phase(io, tp, pl->cmd.p, pl->name, rq->body, rq->body_len, send_results, result, rlen, NULL,
			      err);
}

static enum ath_err espat_bringup(struct modem_io *io, struct ath_error *err)
{
	return at_sync(io->chat, err);
}

/* ------------------------------------------------------------ https */

enum ca_outcome {
	CA_TAKEN,            /* OK after the data */
	CA_NO_COMMAND,       /* refused before '>': not this firmware's spelling */
	CA_REFUSED,          /* refused after the data: the roots themselves */
};

/* One spelling of the CA command with the --module-ca roots in its data
 * phase.  result gets the module's answer. */
static enum ath_err load_ca(struct modem_io *io, const char *name, enum ca_outcome *out, char *result, size_t rlen,
			    struct ath_error *err)
{
	static const char *const results[] = { "OK", "SEND OK", "ERROR", "SEND FAIL", "+CME ERROR:", NULL };
	const struct module_tls *t = io->tls;
	char cmd[64];
	snprintf(cmd, sizeof cmd, "%s=%d,%zu", name, espat_tls.cert_type, t->ca_len);
	struct collector *col = malloc(sizeof *col);
	struct tap *tp = malloc(sizeof *tp);
	if (!col || !tp) {
		free(col);
		free(tp);
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	}
	collector_init(col, false, io->trace);
	at_chat_clear_queue(io->chat);
	tap_init(tp, io, col);
	bool sent = false;
	result[0] = '\0';
	enum ath_err e = run_data_phase(io, tp, cmd, name, t->ca_pem, t->ca_len, results, result, rlen, &sent, err);
	tap_remove(tp);
	collector_free(col);
	free(col);
	free(tp);
	if (e != ATH_OK)
		return e;
	if (strcmp(result, "OK") == 0 || strcmp(result, "SEND OK") == 0)
		*out = CA_TAKEN;
	else
		*out = sent ? CA_REFUSED : CA_NO_COMMAND;
	return ATH_OK;
}

static enum ath_err espat_tls_setup(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	struct espat_state *st = io->state;
	const struct module_tls *t = io->tls;
	st->tls_set_up = false;
	st->ca_loaded = false;
	st->cert_command = NULL;
	v->verified = false;
	v->why[0] = '\0';
	/* Without roots nothing is sent: the family has no verification
	 * switch, and a module without a CA in RAM does not verify. */
	if (!t->ca_pem) {
		snprintf(v->why, sizeof v->why, "%s", espat_tls.no_ca);
		st->tls_set_up = true;
		return ATH_OK;
	}
	if (t->ca_len == 0) {
		snprintf(v->why, sizeof v->why, "the --module-ca file is empty: the module has no roots, so it "
			 "cannot verify servers");
		st->tls_set_up = true;
		return ATH_OK;
	}
	/* Both spellings, in order, after every bring-up: the state that
	 * names the one that took is zeroed then, as the module's RAM is. */
	const char *const *order = espat_tls.cert_commands;
	for (size_t i = 0; order[i]; i++) {
		char result[AT_LINE_MAX + 1];
		enum ca_outcome out;
		enum ath_err e = load_ca(io, order[i], &out, result, sizeof result, err);
		if (e != ATH_OK)
			return e;
		if (out == CA_TAKEN) {
			st->ca_loaded = true;
			st->cert_command = order[i];
			v->verified = true;
			trace_note(io->trace, "%s took the --module-ca roots (%zu bytes)", order[i], t->ca_len);
			break;
		}
		if (out == CA_REFUSED) {
			snprintf(v->why, sizeof v->why,
				 "the module refused the --module-ca roots (%s answered %.24s after their %zu "
				 "bytes: not certificates it parses, or too many for its RAM), so it cannot verify "
				 "servers", order[i], result, t->ca_len);
			break;
		}
		trace_note(io->trace, "%s: the module answered %s", order[i], result);
	}
	if (!st->ca_loaded && !v->why[0])
		snprintf(v->why, sizeof v->why, "%s", espat_tls.no_cert_command);
	st->tls_set_up = true;
	return ATH_OK;
}

/* An https request the module is not set up for never reaches it. */
static enum ath_err tls_ready(const struct modem_io *io, const struct dialect_request *rq, struct ath_error *err)
{
	const struct espat_state *st = io->state;
	if (!rq->tls)
		return ATH_OK;
	if (!st || !st->tls_set_up)
		return ath_fail(err, ATH_E_CONFIG, -1, "https before the module's TLS was set up (tls_setup)");
	if (rq->verify_upstream && !st->ca_loaded)
		return ath_fail(err, ATH_E_CONFIG, -1,
				"https must be verified, but the module holds no roots to verify the server with");
	return ATH_OK;
}

static enum ath_err espat_exchange(struct modem_io *io, const struct dialect_request *rq,
				   const struct response_sink *sink, struct ath_error *err)
{
	struct plan pl;
	enum ath_err e = plan_request(rq, &pl, err);
	if (e != ATH_OK)
		return e;
	e = tls_ready(io, rq, err);
	if (e != ATH_OK) {
		plan_free(&pl);
		return e;
	}
	struct collector *col = malloc(sizeof *col);
	struct tap *tp = malloc(sizeof *tp);
	if (!col || !tp) {
		free(col);
		free(tp);
		plan_free(&pl);
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	}
	collector_init(col, rq->verb == VERB_HEAD, io->trace);
	/* Armed before the command: the answer may come at once. */
	at_chat_clear_queue(io->chat);
	tap_init(tp, io, col);
	struct block_ctx bc = { .col = col, .beken = &tp->pieces };
	at_chat_set_block_sink(io->chat, on_block, &bc);

	char result[AT_LINE_MAX + 1] = "";
	struct at_result r;
	if (pl.cpost) {
		e = run_cpost(io, tp, &pl, rq, result, sizeof result, err);
	} else {
		e = at_chat_cmd(io->chat, io->action_timeout_ms, &r, "%s", pl.cmd.p);
		if (e != ATH_OK)
			e = at_chat_failed(io->chat, err, e, pl.name);
		else
			snprintf(result, sizeof result, "%s", r.text);
	}
	if (e == ATH_OK && at_pieces_in_piece(&tp->pieces)) {
		e = real_result(io, tp, pl.name, err);
		snprintf(result, sizeof result, "%s", tp->final);
	}
	at_chat_set_block_sink(io->chat, NULL, NULL);
	tap_remove(tp);

	char stray[AT_LINE_MAX + 1];
	if (e == ATH_OK && (strcmp(result, "OK") == 0 || strcmp(result, "SEND OK") == 0) &&
	    !at_pieces_count(&tp->pieces) && at_chat_stray_line(io->chat, stray, sizeof stray)) {
		/* Espressif output is its pieces and the result: a line of
		 * anything else before OK is displaced data (a piece's header
		 * hit by noise), and the body cannot be whole.  An ERROR may
		 * follow a reason line: that stays the module's error. */
		at_chat_framing_error(io->chat, "a stray line inside a read: \"%.60s\"", stray);
		e = at_chat_failed(io->chat, err, ATH_E_PROTOCOL, pl.name);
	}
	if (e == ATH_OK) {
		if (strcmp(result, "OK") == 0 || strcmp(result, "SEND OK") == 0)
			e = deliver(io, col, tp, pl.name, sink, err);
		else
			e = module_error(err, pl.name, result, tp, rq->tls);
	}
	collector_free(col);
	free(col);
	free(tp);
	plan_free(&pl);
	return e;
}

static const char *const espat_carried[] = { "*", NULL };

static const struct dialect_caps espat_caps = {
	.methods = VERB_GET | VERB_HEAD | VERB_POST | VERB_PUT | VERB_DELETE,
	/* <data> is for POST only (the manual); AT+HTTPCPOST is a POST. */
	.body_methods = VERB_POST,
	.max_body = ESPAT_MAX_BODY,
	.max_url = ESPAT_CMD_MAX,
	.raw_request = false,
	/* Every header as a "Name: value" parameter, escaped; the 256-byte
	 * command line is the limit, checked by the driver (431). */
	.carried_headers = espat_carried,
	.max_header_value = 0,
	.value_carriage = CARRY_ESCAPED,
	.real_response_head = false,
	.body_limit_name = "AT+HTTPCPOST",
};

static const struct dialect_ops espat_ops = {
	.bringup = espat_bringup,
	.exchange = espat_exchange,
	/* Drain and sync again: the module keeps no state of ours but the CA,
	 * which stays in its RAM (a reset clears it, and the bring-up after
	 * it has it loaded again). */
	.recover = NULL,
	.tls_setup = espat_tls_setup,
};

/* The ESP-AT User Guide, Wi-Fi AT Commands, AT+CWJAP's <error code>. */
static const struct netup_code espat_join_codes[] = {
	{ 1, "connection timeout" },
	{ 2, "wrong password" },
	{ 3, "cannot find the target AP" },
	{ 4, "connection failed" },
	{ 0, NULL },
};

/* The network bring-up (netup.h): station mode (1, or 3 with a softAP
 * beside it) and the access point, ESP-AT's escapes in its strings. */
static const struct netup_profile espat_netup = {
	.kind = NETUP_WIFI,
	.quoting = NETUP_QUOTE_ESPAT,
	.wifi_query = "AT+CWJAP?",
	.wifi_prefix = "+CWJAP:",
	.wifi_mode_query = "AT+CWMODE?",
	.wifi_mode_prefix = "+CWMODE:",
	.wifi_station_modes = 1u << 1 | 1u << 3,
	.wifi_mode = "AT+CWMODE=1",
	.wifi_join = "AT+CWJAP=\"{ssid}\",\"{password}\"",
	.wifi_join_fail_prefix = "+CWJAP:",
	.wifi_join_codes = espat_join_codes,
	/* AT+CWJAP's own default <jap_timeout> is 15 s. */
	.wifi_join_timeout_ms = 20000,
};

const struct dialect dialect_espat = {
	.name = "espat",
	.summary = "ESP-AT-style WiFi firmware, Espressif and Beken BK72xx (AT+HTTPCLIENT, AT+HTTPCPOST)",
	.caps = &espat_caps,
	.syntax = &espat_syntax,
	.ops = &espat_ops,
	.state_size = sizeof(struct espat_state),
	.params = NULL,
	/* No HTTP command of the family has a test or read form; the WiFi
	 * mode query does on every ESP-AT firmware (the ESP-AT User Guide,
	 * Wi-Fi AT Commands, AT+CWMODE) and means nothing to a cellular
	 * module. */
	.identify_probe = "AT+CWMODE?",
	.netup = &espat_netup,
};
