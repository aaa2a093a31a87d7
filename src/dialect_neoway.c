/*
 * Neoway N58: AT+HTTPPARA, AT+HTTPSETUP, AT+HTTPACTION, AT+HTTPCLOSE and
 * the +HTTPRECV / +HTTPCLOSED reports (the N58 AT Commands
 * Manual, chapter 9, "HTTP/HTTPS Commands").  The module holds one TCP link to the origin: HTTPSETUP opens
 * it, HTTPACTION writes a request into it, and whatever the origin answers
 * is printed as it arrives, unparsed, until the link closes.
 *
 * Per request:
 *   AT+HTTPPARA=url,<host>    only when the module holds another value
 *   AT+HTTPPARA=port,<port>   likewise
 *   AT+HTTPPARA=recvmode,1    likewise; ERROR means firmware without it:
 *                             recvmode 0 from then on
 *   AT+HTTPSETUP              OK once connected; ERROR: DNS or connect failed
 *   AT+HTTPACTION=99,<len>    "\r\n>", the request bytes (http_serialize.c)
 *                             in the length-counted data phase, OK
 *   +HTTPRECV ...             the origin's response, byte for byte
 *   +HTTPCLOSED: HTTP Link Closed
 * Once the module holds the parameters, a small GET is two commands.
 *
 * What goes on the AT line: the url parameter is unquoted, so in custom
 * packet mode it is the host alone (checked to be letters, digits and
 * ".-_[]:"); the path, the headers and the body only ever travel in the
 * counted data phase.  The port travels as a number.
 *
 * The link and AT+HTTPCLOSE: the packet says "Connection: close"
 * (raw_connection), so the origin closes the link after its response and
 * the module reports +HTTPCLOSED; the link is then closed already, and
 * AT+HTTPCLOSE would only clear the parameters (the manual: HTTPCLOSE
 * clears the HTTPPARA settings), costing three commands on the next
 * request.  So AT+HTTPCLOSE runs only when a link may still be open: an
 * origin that keeps it after a complete response (1.5 s after it), a
 * failed exchange, and bring-up (whatever a previous user left).  The
 * module's keepalive is not used: a kept link goes stale on the origin's
 * idle timeout, and the failure that shows it (+HTTPSEND: ERROR) cannot be
 * told from a real one without replaying requests that may not be safe to
 * replay; and in recvmode 0 the link's end is the only end the module
 * marks.  The client's own keep-alive is the bridge's and is kept.
 *
 * The manual says only HTTPCLOSE clears the parameters.  Firmware that
 * forgets them when the origin closes would answer HTTPSETUP with ERROR:
 * when that happens with parameters the module was assumed to hold, they
 * are sent again (after an HTTPCLOSE) and HTTPSETUP is tried once more;
 * if that works, they are sent with every request from then on.
 *
 * Requests over the 2048-byte custom packet fall back to the
 * parameterized forms where these express the request exactly:
 * AT+HTTPACTION=0 (GET) and =1 (HEAD) with the path in the url parameter,
 * =2,<len>,<type> (POST, body up to 2048 bytes) when the Content-Type is
 * one of the manual's five types.  The module writes its own head for
 * those, so a header whose loss would change the request (Cookie,
 * Authorization, Range, If-*, ...) makes the request inexpressible; the
 * others are dropped and named in X-Athttp-Dropped.  Anything else is 413
 * naming the limit, and nothing reaches the module: a request is never
 * truncated.
 *
 * The response: in recvmode 1 it comes as "+HTTPRECV: <len>,<data>"
 * pieces (inline blocks), in recvmode 0 as one "+HTTPRECV:" line and then
 * raw bytes up to "+HTTPCLOSED" (a stream, at_syntax).  Both are accepted
 * whichever was asked for.  Either way the bytes go through raw_response.c,
 * which knows where the message ends, so the response is complete as soon
 * as its last byte is in and nothing after it reaches the client.  Only in
 * recvmode 0 is a body without length or chunks ambiguous: it ends at the
 * first "\r\n+HTTPCLOSE" in it, which is why recvmode 1 is asked for.
 * The manual's example spells the report "+HTTPCLOSED: HTTP Link Closed",
 * its format line "+HTTPCLOSE: Link Closed": both end a response.
 *
 * The manual's "Add a carriage return to the end of the packets" is taken
 * as the blank line that ends an HTTP head (every packet has it): an extra
 * byte after a body would be sent to the origin as part of the request.
 *
 * Failures: "+HTTPACTION: SOCKET ID OPEN FAILED" and "+HTTPSEND: ERROR"
 * (with or without the blank after the colon) come instead of OK; they,
 * ERROR after HTTPSETUP and a refused parameter are 502 with the module's
 * words; no answer in time is 504.  Not used: AT+HTTPGET and AT+HTTPSGET
 * downloads, AT+FILEHTTPACTION and AT+FILEHTTPSACTION.
 *
 * HTTPS (manual 9.10-9.15, 9.22): the S-twins AT+HTTPSPARA (url at most
 * 512 bytes, no scheme), AT+HTTPSSETUP (which also does the handshake: a
 * failed one is a bare ERROR), AT+HTTPSACTION (99: the custom packet over
 * the TLS link, the manual's last example), +HTTPSRECV, +HTTPSCLOSED and
 * AT+HTTPSCLOSE.  The same flow as http with the other names: the two
 * command sets are rows of one table (neoway_schemes), each with its own
 * record of what the module holds.  AT+HTTPSCFG sets sslversion, authmode
 * and names the cacert, clientcert and clientkey files; the manual has no
 * command that writes a file into the module, so --module-ca roots cannot
 * reach it, and the module cannot be made to verify servers: tls_setup
 * says so, sets TLS 1.2 and authmode 0 (so --insecure-upstream requests
 * run, marked unverified by modem.c), and an https request that asks for
 * verification is refused.  The manual has no SNI switch either.  A
 * firmware without the S-twins answers ERROR to them: 502 naming it.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at_data_phase.h"
#include "at_sync.h"
#include "dialect.h"
#include "wire_time.h"
#include "raw_response.h"
#include "request_policy.h"
#include "wait_bound.h"

#define NEOWAY_MAX_URL 2048     /* AT+HTTPPARA url: "at most 2048 bytes" */
#define NEOWAY_MAX_URL_TLS 512  /* AT+HTTPSPARA url: "at most 512 bytes" */
#define NEOWAY_MAX_PACKET 2048  /* AT+HTTP(S)ACTION <length>: POST content or custom packet */
#define URL_SCHEME "http://"

/* AT+HTTPACTION <mode> */
enum neoway_mode { MODE_GET = 0, MODE_HEAD = 1, MODE_POST = 2, MODE_RAW = 99 };

/* The commands' own bounds (HTTPSETUP's includes the connect to the
 * origin); in an exchange each is cut to the request timeout, and the wait
 * for the response is the timeout itself (wait_bound.h). */
static const struct {
	int para_ms, setup_ms, action_ms, close_ms, close_urc_ms, close_grace_ms, poll_ms;
} timeouts = {
	.para_ms = 5000,        /* the manual gives 300 ms; slack for a slow line */
	.setup_ms = 35000,      /* the manual: 30 s */
	.action_ms = 35000,     /* the manual: 30 s, for the prompt and for OK */
	.close_ms = 5000,       /* the manual gives 300 ms */
	.close_urc_ms = 500,    /* "+HTTPCLOSE: HTTP Link Closed" after its OK */
	.close_grace_ms = 1500, /* for +HTTPCLOSED after a complete response */
	.poll_ms = 250,         /* how often a wait for the response looks at it */
};

/* What the module prints in place of OK when a request fails, by prefix
 * (the text after it differs between firmware: "+HTTPACTION: SOCKET ID
 * OPEN FAILED" and "+HTTPACTION:SOCKET ID OPEN FAILED"). */
static const char *const neoway_failure_lines[] = {
	"+HTTPACTION:", "+HTTPSEND:", "+HTTPSETUP:",
	/* The https section lists only ERROR; firmware built from the same
	 * code may print the twins of the http failures. */
	"+HTTPSACTION:", "+HTTPSSEND:", "+HTTPSSETUP:", NULL,
};

static const struct neoway_failure {
	const char *prefix;
	const char *meaning;
} neoway_failures[] = {
	{ "+HTTPACTION:", "the module has no link to the server (PPP down, or the socket failed)" },
	{ "+HTTPSEND:", "the module could not send the request to the server" },
	{ "+HTTPSETUP:", "the module could not set up the link to the server" },
	{ "+HTTPSACTION:", "the module has no TLS link to the server (PPP down, or the socket failed)" },
	{ "+HTTPSSEND:", "the module could not send the request over TLS to the server" },
	{ "+HTTPSSETUP:", "the module could not set up the TLS link to the server" },
};

/* The two command sets: plain (9.1-9.5, 9.9) and the S-twins (9.11-9.15,
 * 9.22), the same flow under other names. */
struct neoway_scheme {
	const char *para, *setup, *action, *close;  /* the commands */
	const char *close_report;       /* starts the link's end, both spellings */
	size_t max_url;                 /* the url parameter */
	/* Lines that end the wait for a response: the link's end, or a
	 * failure. */
	const char *const *end_lines;
	/* What a bare ERROR to setup means; %s is host:port. */
	const char *setup_error;
};

enum { SCHEME_HTTP, SCHEME_HTTPS, N_SCHEMES };

static const char *const http_end_lines[] = { "+HTTPCLOSE", "+HTTPACTION:", "+HTTPSEND:", "+HTTPSETUP:", NULL };
static const char *const https_end_lines[] = { "+HTTPSCLOSE", "+HTTPSACTION:", "+HTTPSSEND:", "+HTTPSSETUP:", NULL };

static const struct neoway_scheme neoway_schemes[N_SCHEMES] = {
	[SCHEME_HTTP] = {
		.para = "AT+HTTPPARA", .setup = "AT+HTTPSETUP", .action = "AT+HTTPACTION",
		.close = "AT+HTTPCLOSE", .close_report = "+HTTPCLOSE", .max_url = NEOWAY_MAX_URL,
		.end_lines = http_end_lines,
		.setup_error = "DNS lookup of, or connection to, %s failed",
	},
	[SCHEME_HTTPS] = {
		.para = "AT+HTTPSPARA", .setup = "AT+HTTPSSETUP", .action = "AT+HTTPSACTION",
		.close = "AT+HTTPSCLOSE", .close_report = "+HTTPSCLOSE", .max_url = NEOWAY_MAX_URL_TLS,
		.end_lines = https_end_lines,
		/* 9.12 has one ERROR for every failure. */
		.setup_error = "TLS connection to %s failed (DNS, connect, the TLS handshake or the server's "
			       "certificate: the module does not say which)",
	},
};

/* The family's TLS configuration, as data: what tls_setup sends, and why
 * the module cannot verify (the N58 manual has no way to give it roots). */
static const struct neoway_tls_profile {
	const char *const *commands;    /* in order, NULL-terminated */
	const char *cannot_verify;
} neoway_tls = {
	.commands = (const char *const[]){
		"AT+HTTPSCLOSE",                 /* whatever a previous user left */
		"AT+HTTPSCFG=\"sslversion\",3", /* TLS 1.2; 0-2 are SSL 3.0 to TLS 1.1 */
		"AT+HTTPSCFG=\"authmode\",0",   /* no server authentication: there are no roots */
		NULL,
	},
	.cannot_verify = "the Neoway N58 manual has no command to load a CA certificate into the module "
			 "(AT+HTTPSCFG=\"cacert\" only names a file on it), so it cannot verify servers",
};

/* AT+HTTPACTION=2,<length>,<type>: the manual's five data types ("x-www-form-url
 * encoded, text, json, xml, html"), as the media types they stand for. */
static const char *const post_types[] = {
	"application/x-www-form-urlencoded", "text/plain", "application/json", "application/xml", "text/html",
};

/* What the module holds of one command set. */
struct neoway_link {
	/* AT+HTTP(S)PARA; AT+HTTP(S)CLOSE clears it.  The url is in
	 * neoway_state, by its size. */
	unsigned port;                 /* 0 unknown */
	bool recvmode_framed;          /* recvmode 1 is in force */
	bool recvmode_refused;         /* the firmware answered ERROR to recvmode */
	bool params_volatile;          /* it forgot them without a close: send them every time */
	bool link_open;                /* a link may be open (setup took, no close report since) */
};

struct neoway_state {
	struct neoway_link links[N_SCHEMES];
	char http_url[NEOWAY_MAX_URL + 1];      /* AT+HTTPPARA=url; "" unknown */
	char https_url[NEOWAY_MAX_URL_TLS + 1]; /* AT+HTTPSPARA=url; "" unknown */
	/* tls_setup ran since the bring-up: the commands of neoway_tls are
	 * in force (no verification). */
	bool tls_configured;
};

/* How one request goes to the module. */
struct plan {
	const struct neoway_scheme *scheme;
	int scheme_id;
	enum neoway_mode mode;
	int post_type;
	const unsigned char *data;      /* what follows '>' (NULL: no data phase) */
	size_t data_len;
	char url[NEOWAY_MAX_URL + 1];   /* the url parameter */
	unsigned port;
	char dest[300];                 /* host:port, for messages */
	char dropped[512];              /* headers the parameterized form cannot carry */
};

/* ------------------------------------------------------------ the request */

/* An unquoted AT parameter: printable, and no blank, quote, backslash or
 * the comma that would end it. */
static const char *url_word_unsafe(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == ',')
			return s;
	}
	return NULL;
}

/* The url parameter's host (a v6 address in brackets) and the port, as
 * the bridge split them (dialect.h). */
static enum ath_err plan_origin(const struct dialect_request *rq, struct plan *pl, struct ath_error *err)
{
	bool v6 = strchr(rq->host, ':') != NULL;
	size_t hlen = strlen(rq->host) + (v6 ? 2 : 0);
	if (hlen > pl->scheme->max_url)
		return ath_fail(err, ATH_E_TOO_LARGE, -1, "the host name is over %s's %zu bytes",
				pl->scheme->para, pl->scheme->max_url);
	snprintf(pl->url, sizeof pl->url, "%s%s%s", v6 ? "[" : "", rq->host, v6 ? "]" : "");
	pl->port = rq->port;
	snprintf(pl->dest, sizeof pl->dest, "%s%s%s:%u", v6 ? "[" : "", rq->host, v6 ? "]" : "", pl->port);
	return ATH_OK;
}

static void note_dropped(struct plan *pl, const char *name)
{
	size_t used = strlen(pl->dropped);
	if (used + strlen(name) + 3 < sizeof pl->dropped)
		snprintf(pl->dropped + used, sizeof pl->dropped - used, "%s%s", used ? ", " : "", name);
}

static int post_type_of(const char *content_type)
{
	while (*content_type == ' ' || *content_type == '\t')
		content_type++;
	size_t n = strlen(content_type);
	while (n && (content_type[n - 1] == ' ' || content_type[n - 1] == '\t'))
		n--;
	for (size_t i = 0; i < sizeof post_types / sizeof post_types[0]; i++)
		if (strlen(post_types[i]) == n && strncasecmp(post_types[i], content_type, n) == 0)
			return (int)i;
	return -1;
}

/* Can a parameterized form send the request exactly?  If not, why not
 * goes to why. */
static bool plan_parameterized(const struct dialect_request *rq, const char *path, struct plan *pl,
			       char *why, size_t whylen)
{
	static const struct { unsigned verb; enum neoway_mode mode; } forms[] = {
		{ VERB_GET, MODE_GET }, { VERB_HEAD, MODE_HEAD }, { VERB_POST, MODE_POST },
	};
	size_t f = 0;
	while (f < sizeof forms / sizeof forms[0] && forms[f].verb != rq->verb)
		f++;
	if (f == sizeof forms / sizeof forms[0]) {
		snprintf(why, whylen, "%s has no other form (AT+HTTPACTION has GET, HEAD and POST)", rq->method);
		return false;
	}
	pl->mode = forms[f].mode;
	if (pl->mode != MODE_POST && rq->body_len) {
		snprintf(why, whylen, "%s=%d sends no body", pl->scheme->action, (int)pl->mode);
		return false;
	}
	if (pl->mode == MODE_POST && (rq->body_len == 0 || rq->body_len > NEOWAY_MAX_PACKET)) {
		snprintf(why, whylen, "%s=2 takes a body of 1 to %d bytes", pl->scheme->action, NEOWAY_MAX_PACKET);
		return false;
	}
	/* The module writes the request line from the url parameter. */
	size_t hlen = strlen(pl->url);
	if (hlen + strlen(path) > pl->scheme->max_url) {
		snprintf(why, whylen, "the URL is over %s's %zu bytes", pl->scheme->para, pl->scheme->max_url);
		return false;
	}
	const char *bad = url_word_unsafe(path);
	if (bad) {
		snprintf(why, whylen, "the URL holds a byte 0x%02x that the unquoted %s=url cannot carry",
			 (unsigned char)*bad, pl->scheme->para);
		return false;
	}
	pl->post_type = -1;
	for (size_t i = 0; rq->headers && i < rq->headers->n; i++) {
		const struct hdr *h = &rq->headers->v[i];
		if (pl->mode == MODE_POST && hdr_is(h->name, "Content-Type")) {
			pl->post_type = post_type_of(h->value);
			if (pl->post_type < 0) {
				snprintf(why, whylen, "Content-Type %.80s is none of %s=2's five types", h->value,
					 pl->scheme->action);
				return false;
			}
			continue;
		}
		if (header_changes_meaning(h->name)) {
			snprintf(why, whylen, "%s=%d would lose the header %.80s", pl->scheme->action, (int)pl->mode,
				 h->name);
			return false;
		}
		note_dropped(pl, h->name);
	}
	if (pl->mode == MODE_POST && pl->post_type < 0) {
		snprintf(why, whylen, "%s=2 would add a Content-Type the client did not send", pl->scheme->action);
		return false;
	}
	snprintf(pl->url + hlen, sizeof pl->url - hlen, "%s", path);
	if (pl->mode == MODE_POST) {
		pl->data = rq->body;
		pl->data_len = rq->body_len;
	}
	return true;
}

static enum ath_err plan_request(const struct dialect_request *rq, struct plan *pl, struct ath_error *err)
{
	memset(pl, 0, sizeof *pl);
	pl->scheme_id = rq->tls ? SCHEME_HTTPS : SCHEME_HTTP;
	pl->scheme = &neoway_schemes[pl->scheme_id];
	if (!rq->raw || !rq->raw_len)
		return ath_fail(err, ATH_E_PROTOCOL, -1, "no raw request to send");
	const char *path = rq->target;
	enum ath_err e = plan_origin(rq, pl, err);
	if (e != ATH_OK)
		return e;
	if (rq->raw_len <= NEOWAY_MAX_PACKET) {
		pl->mode = MODE_RAW;
		pl->data = rq->raw;
		pl->data_len = rq->raw_len;
		return ATH_OK;
	}
	char why[200];
	if (plan_parameterized(rq, path, pl, why, sizeof why))
		return ATH_OK;
	return ath_fail(err, ATH_E_TOO_LARGE, -1,
			"request of %zu bytes (head and body) is over the %d-byte custom packet of "
			"%s=99, and %s", rq->raw_len, NEOWAY_MAX_PACKET, pl->scheme->action, why);
}

/* ------------------------------------------------------------ the module */

static struct neoway_state *state_of(struct modem_io *io)
{
	return io->state;
}

static struct neoway_link *link_of(struct modem_io *io, int scheme_id)
{
	return &state_of(io)->links[scheme_id];
}

/* The url parameter the module holds of a command set, and its size. */
static char *held_url(struct modem_io *io, int scheme_id, size_t *size)
{
	struct neoway_state *st = state_of(io);
	*size = scheme_id == SCHEME_HTTPS ? sizeof st->https_url : sizeof st->http_url;
	return scheme_id == SCHEME_HTTPS ? st->https_url : st->http_url;
}

static void forget_params(struct modem_io *io, int scheme_id)
{
	struct neoway_link *ln = link_of(io, scheme_id);
	size_t size;
	held_url(io, scheme_id, &size)[0] = '\0';
	ln->port = 0;
	ln->recvmode_framed = false;
}

/* AT+HTTP(S)CLOSE: closes any link and clears the parameters.  urc_due:
 * a link was open, so its "+HTTPCLOSE: HTTP Link Closed" is taken here
 * rather than left to be read as the end of a later response. */
static enum ath_err close_link(struct modem_io *io, int scheme_id, bool urc_due, struct ath_error *err)
{
	const struct neoway_scheme *sc = &neoway_schemes[scheme_id];
	struct neoway_link *ln = link_of(io, scheme_id);
	struct at_result r;
	enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.close_ms), &r, "%s", sc->close);
	if (e != ATH_OK)
		return at_no_answer(err, e, sc->close);
	if (r.final != AT_FINAL_OK)
		return at_refused(err, &r, sc->close);
	forget_params(io, scheme_id);
	ln->link_open = false;
	if (urc_due) {
		char line[64];
		e = at_chat_wait_line(io->chat, sc->close_report, timeouts.close_urc_ms, line, sizeof line);
		if (e == ATH_E_IO)
			return at_no_answer(err, e, sc->close);
	}
	return ATH_OK;
}

static enum ath_err neoway_bringup(struct modem_io *io, struct ath_error *err)
{
	struct neoway_state *st = state_of(io);
	memset(st, 0, sizeof *st);
	enum ath_err e = at_sync(io->chat, err);
	if (e != ATH_OK)
		return e;
	/* Whatever a previous user left: a link, its parameters.  The https
	 * side is tls_setup's, so that http costs no extra command. */
	return close_link(io, SCHEME_HTTP, false, err);
}

/* A link the origin has not closed yet (kept after a complete response,
 * or cut by a failure) is closed, so the next user finds none.  Nothing
 * else is put back: bring-up closes whatever it finds anyway. */
static enum ath_err neoway_teardown(struct modem_io *io, struct ath_error *err)
{
	for (int s = 0; s < N_SCHEMES; s++) {
		if (!link_of(io, s)->link_open)
			continue;
		enum ath_err e = close_link(io, s, true, err);
		if (e != ATH_OK)
			return e;
	}
	return ATH_OK;
}

/* Configures the S-twins as neoway_tls says.  The module never verifies:
 * there is no way to give it roots. */
static enum ath_err neoway_tls_setup(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	struct neoway_state *st = state_of(io);
	st->tls_configured = false;
	v->verified = false;
	for (size_t i = 0; neoway_tls.commands[i]; i++) {
		const char *cmd = neoway_tls.commands[i];
		struct at_result r;
		enum ath_err e = at_chat_cmd(io->chat, timeouts.para_ms, &r, "%s", cmd);
		if (e != ATH_OK)
			return at_no_answer(err, e, cmd);
		if (r.final == AT_FINAL_ERROR && strcmp(r.text, "ERROR") == 0)
			return ath_fail(err, ATH_E_MODULE, -1,
					"%s answered ERROR: this firmware lacks the HTTPS commands (AT+HTTPS*, "
					"manual 9.10-9.15) or refuses the setting", cmd);
		if (r.final != AT_FINAL_OK)
			return at_refused(err, &r, cmd);
	}
	forget_params(io, SCHEME_HTTPS);
	st->links[SCHEME_HTTPS].link_open = false;
	st->tls_configured = true;
	bool ca_given = io->tls && io->tls->ca_pem;
	snprintf(v->why, sizeof v->why, "%s%s", ca_given ? "" : "no --module-ca given, and ",
		 neoway_tls.cannot_verify);
	trace_note(io->trace, "https: the module will not verify servers: %s", v->why);
	return ATH_OK;
}

static enum ath_err set_para(struct modem_io *io, const struct neoway_scheme *sc, const char *name,
			     const char *value, struct at_result *r, struct ath_error *err)
{
	enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.para_ms), r, "%s=%s,%s", sc->para, name,
				     value);
	if (e != ATH_OK) {
		char cmd[48];
		snprintf(cmd, sizeof cmd, "%s=%s", sc->para, name);
		return at_no_answer(err, e, cmd);
	}
	return ATH_OK;
}

static enum ath_err para_refused(struct ath_error *err, const struct at_result *r, const struct neoway_scheme *sc,
				 const char *name)
{
	char cmd[48];
	snprintf(cmd, sizeof cmd, "%s=%s", sc->para, name);
	return at_refused(err, r, cmd);
}

/* Sends the parameters the module does not hold yet.  *reused: some it
 * was assumed to hold already. */
static enum ath_err send_params(struct modem_io *io, const struct plan *pl, bool *reused, struct ath_error *err)
{
	const struct neoway_scheme *sc = pl->scheme;
	struct neoway_link *ln = link_of(io, pl->scheme_id);
	size_t url_size;
	char *url = held_url(io, pl->scheme_id, &url_size);
	struct at_result r;
	char port[8];
	enum ath_err e;
	if (ln->params_volatile)
		forget_params(io, pl->scheme_id);
	*reused = false;
	if (strcmp(url, pl->url) != 0) {
		url[0] = '\0';
		if ((e = set_para(io, sc, "url", pl->url, &r, err)) != ATH_OK)
			return e;
		if (r.final != AT_FINAL_OK)
			return para_refused(err, &r, sc, "url");
		snprintf(url, url_size, "%s", pl->url);
	} else {
		*reused = true;
	}
	if (ln->port != pl->port) {
		ln->port = 0;
		snprintf(port, sizeof port, "%u", pl->port);
		if ((e = set_para(io, sc, "port", port, &r, err)) != ATH_OK)
			return e;
		if (r.final != AT_FINAL_OK)
			return para_refused(err, &r, sc, "port");
		ln->port = pl->port;
	} else {
		*reused = true;
	}
	if (!ln->recvmode_framed && !ln->recvmode_refused) {
		if ((e = set_para(io, sc, "recvmode", "1", &r, err)) != ATH_OK)
			return e;
		ln->recvmode_framed = r.final == AT_FINAL_OK;
		ln->recvmode_refused = !ln->recvmode_framed;
		if (ln->recvmode_refused)
			trace_note(io->trace, "recvmode 1 refused (%s): the response comes unframed", r.text);
	}
	return ATH_OK;
}

static enum ath_err setup(struct modem_io *io, const struct neoway_scheme *sc, struct at_result *r,
			  struct ath_error *err)
{
	enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.setup_ms), r, "%s", sc->setup);
	if (e != ATH_OK)
		return at_no_answer(err, e, sc->setup);
	return ATH_OK;
}

/* The module's failure report as an error: its words and their meaning. */
static enum ath_err module_failed(struct ath_error *err, const char *line, const char *cmd)
{
	for (size_t i = 0; i < sizeof neoway_failures / sizeof neoway_failures[0]; i++)
		if (strncmp(line, neoway_failures[i].prefix, strlen(neoway_failures[i].prefix)) == 0)
			return ath_fail(err, ATH_E_MODULE, -1, "%s: %s", line, neoway_failures[i].meaning);
	return ath_fail(err, ATH_E_MODULE, -1, "%s answered %s", cmd, line);
}

/* Parameters, then AT+HTTP(S)SETUP: the module's link to the origin. */
static enum ath_err open_link(struct modem_io *io, const struct plan *pl, struct ath_error *err)
{
	const struct neoway_scheme *sc = pl->scheme;
	struct neoway_link *ln = link_of(io, pl->scheme_id);
	enum ath_err e;
	if (ln->link_open && (e = close_link(io, pl->scheme_id, true, err)) != ATH_OK)
		return e;
	bool reused;
	if ((e = send_params(io, pl, &reused, err)) != ATH_OK)
		return e;
	struct at_result r;
	if ((e = setup(io, sc, &r, err)) != ATH_OK)
		return e;
	if (r.final != AT_FINAL_OK && reused) {
		/* Perhaps the module forgot what it was assumed to hold. */
		trace_note(io->trace, "%s refused with reused parameters: sending them again", sc->setup);
		if ((e = close_link(io, pl->scheme_id, false, err)) != ATH_OK ||
		    (e = send_params(io, pl, &reused, err)) != ATH_OK || (e = setup(io, sc, &r, err)) != ATH_OK)
			return e;
		if (r.final == AT_FINAL_OK)
			ln->params_volatile = true;
	}
	if (r.final != AT_FINAL_OK) {
		if (r.final == AT_FINAL_ERROR && strcmp(r.text, "ERROR") == 0) {
			char why[200];
			snprintf(why, sizeof why, sc->setup_error, pl->dest);
			return ath_fail(err, ATH_E_MODULE, -1, "%s answered ERROR: %s", sc->setup, why);
		}
		return module_failed(err, r.text, sc->setup);
	}
	ln->link_open = true;
	return ATH_OK;
}

/* AT+HTTP(S)ACTION, with its data phase for POST and custom packets. */
static enum ath_err send_action(struct modem_io *io, const struct plan *pl, struct ath_error *err)
{
	char cmd[48];
	const char *action = pl->scheme->action;
	if (pl->mode == MODE_RAW)
		snprintf(cmd, sizeof cmd, "%s=%d,%zu", action, (int)pl->mode, pl->data_len);
	else if (pl->mode == MODE_POST)
		snprintf(cmd, sizeof cmd, "%s=%d,%zu,%d", action, (int)pl->mode, pl->data_len, pl->post_type);
	else
		snprintf(cmd, sizeof cmd, "%s=%d", action, (int)pl->mode);
	struct at_result r;
	enum ath_err e;
	if (pl->data) {
		int data_ms = (int)wire_ms(pl->data_len, io->baud);
		struct at_data_phase dp = {
			.cmd = cmd, .prompt_ms = wait_command_ms(io, timeouts.action_ms),
			.data = pl->data, .len = pl->data_len, .data_ms = data_ms,
			.final_ms = wait_command_ms(io, data_ms + timeouts.action_ms),
		};
		struct at_data_outcome got;
		/* A refusal before the prompt is the action's result as any. */
		e = at_data_phase(io->chat, &dp, &r, &got);
	} else {
		e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.action_ms), &r, "%s", cmd);
	}
	if (e != ATH_OK)
		return at_chat_failed(io->chat, err, e, cmd);
	if (r.final == AT_FINAL_OK)
		return ATH_OK;
	if (r.final == AT_FINAL_ERROR && strcmp(r.text, "ERROR") == 0)
		return ath_fail(err, ATH_E_MODULE, -1, "%s answered ERROR", cmd);
	return module_failed(err, r.text, cmd);
}

/* ------------------------------------------------------------ the response */

struct recv_ctx {
	struct raw_response rr;
	unsigned long long bytes;  /* from the module, for the idle timeout */
	size_t leftover;           /* after the origin's message */
	bool stop;                 /* end an open stream at its next byte (AT+HTTPCLOSE is coming) */
};

static bool message_over(const struct recv_ctx *rc)
{
	return rc->rr.state == RAW_DONE || rc->rr.state == RAW_FAILED;
}

/* recvmode 1: "+HTTPRECV: <len>,<data>" pieces. */
static void recv_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct recv_ctx *rc = ctx;
	const char *d = data;
	rc->bytes += len;
	while (len && !message_over(rc)) {
		/* The reader stops short where the body's framing turns out
		 * to be the link's end: then it takes the rest anew. */
		enum raw_state was = rc->rr.state;
		bool lf_was = rc->rr.head_lf_pending;
		size_t n = raw_response_feed(&rc->rr, d, len);
		if (n == 0 && rc->rr.state == was && rc->rr.head_lf_pending == lf_was)
			break;
		d += n;
		len -= n;
	}
	rc->leftover += len;
}

/* recvmode 0: the bytes after "+HTTPRECV:", up to "+HTTPCLOSED". */
static size_t recv_stream(void *ctx, const void *data, size_t len, bool at_end, enum at_stream_watch *watch)
{
	struct recv_ctx *rc = ctx;
	if (at_end || rc->stop)
		return 0;
	rc->bytes += len;
	return raw_response_feed_stream(&rc->rr, data, len, watch, &rc->leftover);
}

/* Waits for the link's end.  The response is complete when the message
 * is; an origin that then keeps the link gets it closed. */
static enum ath_err await_response(struct modem_io *io, const struct plan *pl, struct recv_ctx *rc,
				   struct ath_error *err)
{
	struct neoway_link *ln = link_of(io, pl->scheme_id);
	char line[128];
	int which;
	long idle_ms = 0, over_ms = 0;
	unsigned long long seen = rc->bytes;
	for (;;) {
		enum ath_err e = at_chat_wait_line_any(io->chat, pl->scheme->end_lines, timeouts.poll_ms, &which,
						       line, sizeof line);
		if (e == ATH_OK)
			break;
		if (e != ATH_E_TIMEOUT)
			return at_chat_failed(io->chat, err, e, "the response");
		idle_ms = rc->bytes == seen ? idle_ms + timeouts.poll_ms : 0;
		seen = rc->bytes;
		if (message_over(rc)) {
			over_ms += timeouts.poll_ms;
			if (over_ms < timeouts.close_grace_ms)
				continue;
			trace_note(io->trace, "the server keeps the link after its response: closing it");
			rc->stop = true;
			return close_link(io, pl->scheme_id, true, err);
		}
		if (idle_ms >= io->action_timeout_ms)
			return ath_fail(err, ATH_E_TIMEOUT, -1, "no response from the server within %d s",
					io->action_timeout_ms / 1000);
	}
	if (which == 0) {
		ln->link_open = false;
		return ATH_OK;
	}
	/* A failure report: the link's state is unknown until closed. */
	if (message_over(rc))
		return ATH_OK;
	return module_failed(err, line, pl->scheme->action);
}

static enum ath_err exchange_response(struct modem_io *io, const struct plan *pl, bool head_request,
				      const struct response_sink *sink, struct ath_error *err)
{
	struct recv_ctx *rc = calloc(1, sizeof *rc);
	if (!rc)
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	raw_response_init(&rc->rr, head_request, sink);
	/* Armed before the command: a fast origin's answer may come first. */
	at_chat_clear_queue(io->chat);
	at_chat_set_block_sink(io->chat, recv_block, rc);
	at_chat_set_stream_sink(io->chat, recv_stream, rc);
	/* From the request on, a line is the action's result, a report that
	 * ends the response, or a URC: anything else is displaced data. */
	at_chat_strict_lines(io->chat, pl->scheme->end_lines);
	enum ath_err e = send_action(io, pl, err);
	if (e == ATH_OK)
		e = await_response(io, pl, rc, err);
	at_chat_strict_lines(io->chat, NULL);
	at_chat_set_block_sink(io->chat, NULL, NULL);
	at_chat_set_stream_sink(io->chat, NULL, NULL);
	if (rc->rr.state == RAW_FAILED)
		trace_note(io->trace, "response unreadable: %s", rc->rr.why);
	/* Bytes the module counted past the message's own end: a count and
	 * the data disagree (bytes added on the line), so the message that
	 * seemed whole may hold them. */
	if (rc->leftover)
		at_chat_framing_error(io->chat, "%zu bytes after the origin's message", rc->leftover);
	if (rc->rr.client_gone) {
		e = ath_fail(err, ATH_E_CLIENT_GONE, -1, "client gone");
	} else if (at_chat_framing_broken(io->chat)) {
		e = at_chat_failed(io->chat, err, ATH_E_PROTOCOL, "the response");
	} else if (e == ATH_OK) {
		struct ath_error whole;
		ath_error_clear(&whole);
		if (raw_response_end(&rc->rr, &whole) != ATH_OK) {
			/* The module is in step; the origin's answer was short
			 * or not HTTP. */
			e = ath_fail(err, ATH_E_MODULE, -1, "%s", whole.text);
		}
	}
	raw_response_free(&rc->rr);
	free(rc);
	return e;
}

/* For the parameterized forms: names the headers they left behind. */
struct dropped_sink {
	const struct response_sink *inner;
	const char *dropped;
};

static enum ath_err dropped_head(void *ctx, const struct http_head *h, long long len, bool synth)
{
	struct dropped_sink *ds = ctx;
	struct http_head copy = { .status = h->status, .content_length = h->content_length, .chunked = h->chunked };
	snprintf(copy.reason, sizeof copy.reason, "%s", h->reason);
	int bad = 0;
	for (size_t i = 0; i < h->headers.n; i++)
		bad |= hdr_add(&copy.headers, h->headers.v[i].name, strlen(h->headers.v[i].name),
			       h->headers.v[i].value, strlen(h->headers.v[i].value));
	bad |= hdr_add(&copy.headers, "X-Athttp-Dropped", strlen("X-Athttp-Dropped"), ds->dropped,
		       strlen(ds->dropped));
	enum ath_err e = bad ? ATH_E_NOMEM : ds->inner->head(ds->inner->ctx, &copy, len, synth);
	hdr_free(&copy.headers);
	return e;
}

static enum ath_err dropped_body(void *ctx, const void *data, size_t len)
{
	struct dropped_sink *ds = ctx;
	return ds->inner->body(ds->inner->ctx, data, len);
}

static enum ath_err neoway_exchange(struct modem_io *io, const struct dialect_request *rq,
				    const struct response_sink *sink, struct ath_error *err)
{
	struct plan pl;
	if (rq->tls && !state_of(io)->tls_configured)
		return ath_fail(err, ATH_E_MODULE, -1, "https is not set up on the module (tls_setup failed or did not run)");
	/* Never let a request that asks for a verified server go out on a
	 * module that cannot verify (tls_setup said so). */
	if (rq->tls && rq->verify_upstream)
		return ath_fail(err, ATH_E_MODULE, -1, "https refused: %s", neoway_tls.cannot_verify);
	enum ath_err e = plan_request(rq, &pl, err);
	if (e != ATH_OK)
		return e;
	if (pl.mode != MODE_RAW)
		trace_note(io->trace, "request of %zu bytes: %s=%d instead of a custom packet", rq->raw_len,
			   pl.scheme->action, (int)pl.mode);
	struct dropped_sink ds = { sink, pl.dropped };
	const struct response_sink wrapped = { dropped_head, dropped_body, &ds };
	e = open_link(io, &pl, err);
	if (e == ATH_OK)
		e = exchange_response(io, &pl, rq->verb == VERB_HEAD, pl.dropped[0] ? &wrapped : sink, err);
	return e;
}

/* ------------------------------------------------------------ the record */

/* recvmode 1: "+HTTPRECV: <len>,<data>", the data right after the comma. */
static const struct at_block_rule neoway_blocks[] = {
	{ "+HTTPRECV:", AT_BLOCK_INLINE, NULL, false },
	{ "+HTTPSRECV:", AT_BLOCK_INLINE, NULL, false },
	{ NULL, 0, NULL, false },
};
/* recvmode 0: "+HTTPRECV:" alone on its line, then raw bytes until the
 * link's end; "+HTTPCLOSE" starts both spellings of that report. */
static const struct at_stream_rule neoway_streams[] = {
	{ "+HTTPRECV:", { "\r\n+HTTPCLOSE" } },
	{ "+HTTPSRECV:", { "\r\n+HTTPSCLOSE" } },
	{ NULL, { NULL } },
};

/* Each piece's data runs up to the next report, which starts on a line of
 * its own (the N58 manual, 9.5 +HTTPRECV, and its URC framing). */
static const struct at_syntax neoway_syntax = {
	.block_trailer = "\r\n",
	.blocks = neoway_blocks,
	.prompt_lines = NULL, /* the prompt is "\r\n>", which the parser knows */
	.streams = neoway_streams,
	.failure_lines = neoway_failure_lines,
};

static const struct dialect_caps neoway_caps = {
	.methods = VERB_GET | VERB_HEAD | VERB_POST | VERB_PUT | VERB_DELETE | VERB_PATCH | VERB_OPTIONS,
	.body_methods = VERB_GET | VERB_POST | VERB_PUT | VERB_DELETE | VERB_PATCH | VERB_OPTIONS,
	/* Both the custom packet and POST content are at most 2048 bytes. */
	.max_body = NEOWAY_MAX_PACKET,
	/* The url parameter holds host/path when a parameterized form is used. */
	.max_url = NEOWAY_MAX_URL + sizeof URL_SCHEME - 1,
	.raw_request = true,
	/* The driver decides: custom packet, parameterized form, or 413. */
	.max_raw_request = 0,
	/* The origin closes the link after its response: see the top. */
	.raw_connection = "close",
	.real_response_head = true,
	.body_limit_name = "AT+HTTPACTION",
};


/* The network bring-up (netup.h): the 27.007 context, Neoway's own
 * credentials (AT+XGAUTH) and link (AT+XIIC=1, whose OK comes before the
 * link is up: AT+XIIC? says "+XIIC: <state>,<ip>", state 1 up). */
static const struct netup_profile neoway_netup = {
	NETUP_PROFILE_27007_CONTEXT,
	.auth_ctx = "AT+XGAUTH={cid},1,\"{user}\",\"{password}\"",
	.activate = "AT+XIIC=1",
	.active_query = "AT+XIIC?",
	.active_prefix = "+XIIC:",
	.active_cid_field = -1, .active_state_field = 0, .active_addr_field = 1,
	.activate_timeout_ms = 60000,
};

static const struct dialect_ops neoway_ops = {
	.bringup = neoway_bringup,
	.exchange = neoway_exchange,
	.recover = NULL, /* drain and bring up again, which closes any link */
	.tls_setup = neoway_tls_setup,
	.teardown = neoway_teardown,
};

const struct dialect dialect_neoway = {
	.name = "neoway",
	.summary = "Neoway N58 (AT+HTTPSETUP, AT+HTTPACTION=99 custom packets)",
	.caps = &neoway_caps,
	.syntax = &neoway_syntax,
	.ops = &neoway_ops,
	.state_size = sizeof(struct neoway_state),
	.params = NULL,
	/* The Neoway N58 manual, 9.10 AT+HTTPSCFG: the family's one command
	 * with a test form ("+HTTPSCFG: <type>,<type_name>"). */
	.identify_probe = "AT+HTTPSCFG=?",
	.netup = &neoway_netup,
};
