/*
 * Neoway N58 HTTP and HTTPS command sets: AT+HTTPPARA, AT+HTTPSETUP,
 * AT+HTTPACTION (GET, HEAD, POST and mode 99, the custom packet sent as
 * is), AT+HTTPCLOSE, the +HTTPRECV / +HTTPCLOSED reports, and their
 * S-twins AT+HTTPSPARA, AT+HTTPSSETUP, AT+HTTPSACTION, AT+HTTPSCLOSE,
 * +HTTPSRECV / +HTTPSCLOSED, with AT+HTTPSCFG for the SSL options.
 *
 * Source of truth: the N58 AT Commands Manual, chapter 9.  The module has a
 * real TCP link: AT+HTTPSETUP opens it (ERROR when DNS or the connection
 * fails), AT+HTTPACTION writes a request into it, and whatever the origin
 * sends back is printed as it arrives, unparsed, until the origin closes
 * (+HTTPCLOSED).  With recvmode 0 one "+HTTPRECV:" line precedes the raw
 * bytes of each response; with recvmode 1 every piece is framed as
 * "+HTTPRECV: <len>,<data>".  Arguments are unquoted words, as in the
 * manual (AT+HTTPPARA=url,host/path); a quoted one is refused.
 *
 * HTTPS (9.10-9.15, 9.22) is the same flow on a second, independent set
 * of parameters and link (a row of schemes[]), the url at most 512 bytes;
 * AT+HTTPSSETUP also does the TLS handshake, and answers a bare ERROR when
 * it fails for any reason (9.12), the certificate's rejection included;
 * AT+HTTPSACTION lists only OK and ERROR.  AT+HTTPSCFG=<type>,<type_name>
 * takes <type> quoted, as the examples write it: "sslversion" 0-3 (SSL
 * 3.0, TLS 1.0, 1.1, 1.2), "authmode" 0-2 (2 asks for client
 * authentication too), "ciphersuite" a number, "cacert", "clientcert",
 * "clientkey" quoted file names.  The defaults are what the manual's query
 * example shows (SSL 3.0, authmode 1), so a host must set both.  The
 * handshake is TLS 1.2 only (mbedTLS 2.28): any other sslversion fails it.
 * authmode 1 or 2 verifies the server against the cacert file; no command
 * in the manual writes a file into the module, and the emulator has none,
 * so verification has no roots and rejects every server.  The manual has
 * no SNI switch: the n58 firmware sends it, the nosni variant does not.
 * Not emulated: AT+HTTP(S)GET downloads, AT+FILEHTTP(S)ACTION.
 */
#include "emu.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_URL 2048			/* AT+HTTPPARA url */
#define MAX_URL_TLS 512			/* AT+HTTPSPARA url */
#define MAX_PACKET 2048			/* POST content, custom packet */
#define MAX_FILE_NAME 128		/* AT+HTTPSCFG cacert, ... */
#define DATA_TIMEOUT_MS 10000		/* for the bytes after ">" */
#define CONNECT_TIMEOUT_MS 20000	/* within the manual's 30 s */
#define SEND_TIMEOUT_MS 20000
#define RECV_PIECE 1460			/* recvmode 1: one TCP segment */

/* How firmware versions differ. */
struct neoway_variant {
	const char *name;
	bool recv_blank;		/* recvmode 0: "+HTTPRECV: " (else no blank) */
	const char *open_failed;	/* AT+HTTPACTION without a link */
	bool https;			/* has the S-twins and AT+HTTPSCFG */
	bool sni;			/* the handshake sends server_name */
};

/* AT+HTTPACTION without a link: as the manual's format lines and examples
 * spell it, and as its response table does. */
#define OPEN_FAILED "\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n"
#define OPEN_FAILED_COMPACT "\r\n+HTTPACTION:SOCKET ID OPEN FAILED\r\n"

static const struct neoway_variant variants[] = {
	/* As the manual's format lines and examples spell them. */
	{ .name = "n58", .recv_blank = true, .open_failed = OPEN_FAILED,
	  .https = true, .sni = true },
	/* As the manual's response table spells the failure, and without
	 * the blank after the colon. */
	{ .name = "compact", .open_failed = OPEN_FAILED_COMPACT,
	  .https = true, .sni = true },
	/* Firmware without HTTPS: every AT+HTTPS* is ERROR. */
	{ .name = "nohttps", .recv_blank = true, .open_failed = OPEN_FAILED },
	/* TLS without server_name: a virtual host picks its default
	 * certificate. */
	{ .name = "nosni", .recv_blank = true, .open_failed = OPEN_FAILED,
	  .https = true },
};

/* The two command sets: the same flow under other names. */
struct neoway_scheme {
	bool tls;
	const char *url_scheme;		/* for emu_url_parse */
	unsigned long default_port;
	size_t max_url;
	const char *recv;		/* "+HTTPRECV:" */
	const char *closed;		/* the origin closed */
	const char *close_report;	/* after AT+HTTP(S)CLOSE's OK */
	const char *send_failed;	/* NULL: ERROR */
};

enum { CH_HTTP, CH_HTTPS, N_CHANNELS };

static const struct neoway_scheme schemes[N_CHANNELS] = {
	[CH_HTTP] = {
		.tls = false,
		.url_scheme = "http://",
		.default_port = 80,	/* "no default value", yet the examples
					 * connect to port 80 without setting it */
		.max_url = MAX_URL,
		.recv = "+HTTPRECV:",
		.closed = "\r\n+HTTPCLOSED: HTTP Link Closed\r\n",
		.close_report = "\r\n+HTTPCLOSE: HTTP Link Closed\r\n",
		.send_failed = "\r\n+HTTPSEND: ERROR\r\n",
	},
	[CH_HTTPS] = {
		.tls = true,
		.url_scheme = "https://",
		.default_port = 443,
		.max_url = MAX_URL_TLS,
		.recv = "+HTTPSRECV:",
		.closed = "\r\n+HTTPSCLOSED: HTTPS Link Closed\r\n",
		.close_report = "\r\n+HTTPSCLOSE: HTTPS Link Closed\r\n",
		.send_failed = NULL,
	},
};

enum { MODE_GET = 0, MODE_HEAD = 1, MODE_POST = 2, MODE_RAW = 99 };

/* AT+HTTPACTION=2,<length>,<type> */
static const char *const post_type[] = {
	"application/x-www-form-urlencoded",
	"text/plain",
	"application/json",
	"application/xml",
	"text/html",
};

enum link_state { LINK_NONE, LINK_CONNECTING, LINK_OPEN };

struct neoway;

/* One command set's parameters and link. */
struct channel {
	struct neoway *n;
	const struct neoway_scheme *s;

	/* AT+HTTP(S)PARA; cleared by AT+HTTP(S)CLOSE */
	char *url;			/* host[/path], no scheme */
	unsigned long port;
	bool keepalive;
	bool recvmode1;

	enum link_state state;
	struct emu_link *link;
	struct emu_url dest;		/* what AT+HTTP(S)SETUP connected to */
	char *host_header;
	bool awaiting_sent;		/* AT+HTTP(S)ACTION ends once sent */
	bool recv_head_due;		/* recvmode 0: before the next bytes */
};

/* AT+HTTPSCFG; kept until the module restarts. */
struct ssl_config {
	unsigned long sslversion;	/* 0-3: SSL 3.0 .. TLS 1.2 */
	unsigned long authmode;		/* 0 none, 1 server, 2 server and client */
	bool has_ciphersuite;
	unsigned long ciphersuite;
	char *cacert, *clientcert, *clientkey;	/* file names, NULL: unset */
};

struct neoway {
	struct emu *emu;
	const struct neoway_variant *v;
	struct channel ch[N_CHANNELS];
	struct ssl_config ssl;
	struct channel *data_ch;	/* the action waiting for its data */
	int data_mode;
	unsigned long data_type;
};

/* ------------------------------------------------------------ the link */

static void drop_link(struct channel *c)
{
	emu_link_close(c->link);
	c->link = NULL;
	c->state = LINK_NONE;
	c->awaiting_sent = false;
	emu_url_free(&c->dest);
	free(c->host_header);
	c->host_header = NULL;
}

static void send_failed(struct channel *c)
{
	if (c->s->send_failed)
		emu_send(c->n->emu, EMU_MARK_DONE, c->s->send_failed,
			 strlen(c->s->send_failed));
	else
		emu_error(c->n->emu);
}

static void deliver(struct channel *c, const char *p, size_t len)
{
	struct emu *e = c->n->emu;

	if (!c->recvmode1) {
		if (c->recv_head_due)
			emu_sendf(e, EMU_MARK_NONE, "\r\n%s%s\r\n", c->s->recv,
				  c->n->v->recv_blank ? " " : "");
		c->recv_head_due = false;
		emu_send_data(e, p, len);
		return;
	}
	for (size_t off = 0; off < len; off += RECV_PIECE) {
		size_t k = len - off < RECV_PIECE ? len - off : RECV_PIECE;

		emu_sendf(e, EMU_MARK_NONE, "\r\n%s %zu,", c->s->recv, k);
		emu_send_data(e, p + off, k);
	}
}

static void on_link(void *ctx, enum emu_link_event ev,
		    enum emu_fetch_status st, const char *p, size_t len)
{
	struct channel *c = ctx;
	struct emu *e = c->n->emu;

	switch (ev) {
	case EMU_LINK_CONNECTED:
		if (st == EMU_FETCH_OK) {
			c->state = LINK_OPEN;
			emu_ok(e);
		} else {
			/* DNS, refused, timeout, and for https the handshake
			 * (EMU_FETCH_TLS) or the certificate's rejection
			 * (EMU_FETCH_TLS_VERIFY): the manual has one answer */
			drop_link(c);
			emu_error(e);
		}
		break;
	case EMU_LINK_SENT:
		if (!c->awaiting_sent)
			break;
		c->awaiting_sent = false;
		if (st == EMU_FETCH_OK)
			emu_ok(e);
		else
			send_failed(c);
		break;
	case EMU_LINK_DATA:
		deliver(c, p, len);
		break;
	case EMU_LINK_CLOSED:
		if (c->awaiting_sent)
			send_failed(c);
		drop_link(c);
		emu_send(e, EMU_MARK_NONE, c->s->closed, strlen(c->s->closed));
		break;
	}
}

/* ------------------------------------------------------------ commands */

static bool arg_is(const struct emu_cmd *c, size_t i, enum emu_arg_kind k)
{
	return i < c->argc && c->argv[i].kind == k;
}

static void clear_params(struct channel *c)
{
	free(c->url);
	c->url = NULL;
	c->port = c->s->default_port;
	c->keepalive = false;
	c->recvmode1 = false;
}

static void http_para(struct channel *ch, const struct emu_cmd *c)
{
	struct emu *e = ch->n->emu;
	const struct emu_arg *v;
	const char *key;

	/* Exactly <para>,<para_value>, both unquoted. */
	if (c->argc != 2 || !arg_is(c, 0, EMU_ARG_WORD)) {
		emu_error(e);
		return;
	}
	key = c->argv[0].str;
	v = &c->argv[1];
	if (!strcmp(key, "url") && v->kind == EMU_ARG_WORD &&
	    v->len <= ch->s->max_url) {
		free(ch->url);
		ch->url = emu_strndup(v->str, v->len);
	} else if (!strcmp(key, "port") && v->kind == EMU_ARG_NUMBER &&
		   v->num >= 1 && v->num <= 65535) {
		ch->port = v->num;
	} else if (!strcmp(key, "keepalive") && v->kind == EMU_ARG_NUMBER &&
		   v->num <= 1) {
		ch->keepalive = v->num == 1;
	} else if (!strcmp(key, "recvmode") && v->kind == EMU_ARG_NUMBER &&
		   v->num <= 1) {
		ch->recvmode1 = v->num == 1;
	} else {
		emu_error(e);
		return;
	}
	emu_ok(e);
}

/* url is host[/path]: the link goes to host:port (or its route). */
static int destination(struct channel *c)
{
	const char *slash = strchr(c->url, '/');
	size_t hlen = slash ? (size_t)(slash - c->url) : strlen(c->url);
	struct emu_buf full = { 0 };
	int rc;

	emu_buf_addf(&full, "%s", c->s->url_scheme);
	emu_buf_add(&full, c->url, hlen);
	emu_buf_addf(&full, ":%lu%s", c->port, slash ? slash : "/");
	rc = emu_url_parse(full.data, &c->dest);
	emu_buf_free(&full);
	/* Whatever is no plain host name or address (a scheme, a port, user
	 * info) is a name no DNS resolves. */
	if (rc == 0 && (strlen(c->dest.host) != hlen ||
			strncasecmp(c->dest.host, c->url, hlen))) {
		emu_url_free(&c->dest);
		rc = -1;
	}
	if (rc == 0) {
		struct emu_buf h = { 0 };

		emu_buf_add(&h, c->url, hlen);
		if (c->port != c->s->default_port)
			emu_buf_addf(&h, ":%lu", c->port);
		c->host_header = h.data;
	}
	return rc;
}

static void http_setup(struct channel *ch, const struct emu_cmd *c)
{
	struct neoway *n = ch->n;

	/* no PPP link: ERROR (the Neoway manual, AT+HTTPSETUP) */
	if (!ch->url || ch->state != LINK_NONE || !emu_net_ready(n->emu) ||
	    destination(ch) < 0) {
		emu_error(n->emu);
		return;
	}
	if (ch->s->tls) {
		/* The emulator's TLS is 1.2 only: SSL 3.0 to TLS 1.1 cannot
		 * complete a handshake with it. */
		if (n->ssl.sslversion != 3) {
			emu_url_free(&ch->dest);
			free(ch->host_header);
			ch->host_header = NULL;
			emu_error(n->emu);
			return;
		}
		/* Verification's roots would be the cacert file, which no
		 * command can write: none. */
		emu_url_set_tls(&ch->dest, n->ssl.authmode >= 1, n->v->sni,
				NULL, 0);
	}
	ch->state = LINK_CONNECTING;
	ch->link = emu_link_open(emu_jobs(n->emu), &ch->dest,
				 CONNECT_TIMEOUT_MS, on_link, ch);
}

static void transmit(struct channel *c, const struct emu_buf *req)
{
	c->awaiting_sent = true;
	c->recv_head_due = true;
	emu_link_send(c->link, req->data, req->len, SEND_TIMEOUT_MS);
}

static void build_head(struct channel *c, struct emu_buf *r,
		       const char *method)
{
	emu_buf_addf(r, "%s %s HTTP/1.1\r\nHost: %s\r\n", method,
		     c->dest.target, c->host_header);
}

static void end_head(struct channel *c, struct emu_buf *r)
{
	emu_buf_addf(r, "Connection: %s\r\n\r\n",
		     c->keepalive ? "keep-alive" : "close");
}

static void http_action(struct channel *ch, const struct emu_cmd *c)
{
	struct neoway *n = ch->n;
	unsigned long mode;
	struct emu_buf req = { 0 };
	bool ok;

	if (!arg_is(c, 0, EMU_ARG_NUMBER)) {
		emu_error(n->emu);
		return;
	}
	mode = c->argv[0].num;
	switch (mode) {
	case MODE_GET:		/* 0 or 0,<offset>,<size> */
		ok = c->argc == 1 ||
		     (c->argc == 3 && arg_is(c, 1, EMU_ARG_NUMBER) &&
		      arg_is(c, 2, EMU_ARG_NUMBER) && c->argv[2].num >= 1 &&
		      c->argv[1].num <= ULONG_MAX - c->argv[2].num);
		break;
	case MODE_HEAD:
		ok = c->argc == 1;
		break;
	case MODE_POST:		/* 2,<length>[,<type>] */
		ok = (c->argc == 2 || (c->argc == 3 &&
				       arg_is(c, 2, EMU_ARG_NUMBER) &&
				       c->argv[2].num < 5)) &&
		     arg_is(c, 1, EMU_ARG_NUMBER) && c->argv[1].num >= 1 &&
		     c->argv[1].num <= MAX_PACKET;
		break;
	case MODE_RAW:		/* 99,<length> */
		ok = c->argc == 2 && arg_is(c, 1, EMU_ARG_NUMBER) &&
		     c->argv[1].num >= 1 && c->argv[1].num <= MAX_PACKET;
		break;
	default:
		ok = false;
	}
	if (!ok) {
		emu_error(n->emu);
		return;
	}
	emu_request_begin(n->emu);
	if (ch->state != LINK_OPEN) {
		/* 9.13 lists only OK and ERROR for AT+HTTPSACTION. */
		if (ch->s->tls)
			emu_error(n->emu);
		else
			emu_send(n->emu, EMU_MARK_DONE, n->v->open_failed,
				 strlen(n->v->open_failed));
		return;
	}
	if (mode == MODE_POST || mode == MODE_RAW) {
		n->data_ch = ch;
		n->data_mode = (int)mode;
		n->data_type = c->argc == 3 ? c->argv[2].num : 0;
		emu_download(n->emu, "\r\n>", c->argv[1].num, DATA_TIMEOUT_MS);
		return;
	}
	build_head(ch, &req, mode == MODE_GET ? "GET" : "HEAD");
	if (c->argc == 3)
		emu_buf_addf(&req, "Range: bytes=%lu-%lu\r\n", c->argv[1].num,
			     c->argv[1].num + c->argv[2].num - 1);
	end_head(ch, &req);
	transmit(ch, &req);
	emu_buf_free(&req);
}

static void data_done(void *ctx, struct emu_buf *data, bool complete)
{
	struct neoway *n = ctx;
	struct channel *ch = n->data_ch;
	struct emu_buf req = { 0 };

	n->data_ch = NULL;
	if (!complete || !ch) {
		emu_error(n->emu);
		return;
	}
	if (ch->state != LINK_OPEN) {
		/* The origin closed the link while the data came. */
		send_failed(ch);
		return;
	}
	if (n->data_mode == MODE_RAW) {
		transmit(ch, data);
		return;
	}
	build_head(ch, &req, "POST");
	emu_buf_addf(&req, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		     post_type[n->data_type], data->len);
	end_head(ch, &req);
	emu_buf_add(&req, data->data, data->len);
	transmit(ch, &req);
	emu_buf_free(&req);
}

static void http_close(struct channel *ch, const struct emu_cmd *c)
{
	bool was_open = ch->state == LINK_OPEN;

	drop_link(ch);
	clear_params(ch);
	emu_ok(ch->n->emu);
	if (was_open)
		emu_send(ch->n->emu, EMU_MARK_NONE, ch->s->close_report,
			 strlen(ch->s->close_report));
}

/* AT+HTTPSCFG <type>s whose <type_name> is a file name. */
static char **ssl_file(struct ssl_config *ssl, const char *type)
{
	if (!strcmp(type, "cacert"))
		return &ssl->cacert;
	if (!strcmp(type, "clientcert"))
		return &ssl->clientcert;
	if (!strcmp(type, "clientkey"))
		return &ssl->clientkey;
	return NULL;
}

static void print_name(struct emu *e, const char *name)
{
	emu_sendf(e, EMU_MARK_NONE, ",%s", name ? name : "");
}

/* 9.10: AT+HTTPSCFG="<type>",<type_name>; the query prints the example's
 * six fields, the test its format line. */
static void https_cfg(struct channel *ch, const struct emu_cmd *c)
{
	struct neoway *n = ch->n;
	struct ssl_config *ssl = &n->ssl;
	const struct emu_arg *v;
	const char *type;
	char **file;

	if (c->form == EMU_FORM_READ) {
		emu_sendf(n->emu, EMU_MARK_NONE, "\r\n+HTTPSCFG: %lu,%lu,",
			  ssl->sslversion, ssl->authmode);
		if (ssl->has_ciphersuite)
			emu_sendf(n->emu, EMU_MARK_NONE, "%lu",
				  ssl->ciphersuite);
		print_name(n->emu, ssl->cacert);
		print_name(n->emu, ssl->clientcert);
		print_name(n->emu, ssl->clientkey);
		emu_sendf(n->emu, EMU_MARK_NONE, "\r\n");
		emu_ok(n->emu);
		return;
	}
	if (c->form == EMU_FORM_TEST) {
		emu_sendf(n->emu, EMU_MARK_NONE,
			  "\r\n+HTTPSCFG: <type>,<type_name>\r\n");
		emu_ok(n->emu);
		return;
	}
	if (c->argc != 2 || !arg_is(c, 0, EMU_ARG_STRING)) {
		emu_error(n->emu);
		return;
	}
	type = c->argv[0].str;
	v = &c->argv[1];
	file = ssl_file(ssl, type);
	if (!strcmp(type, "sslversion") && v->kind == EMU_ARG_NUMBER &&
	    v->num <= 3) {
		ssl->sslversion = v->num;
	} else if (!strcmp(type, "authmode") && v->kind == EMU_ARG_NUMBER &&
		   v->num <= 2) {
		ssl->authmode = v->num;
	} else if (!strcmp(type, "ciphersuite") &&
		   v->kind == EMU_ARG_NUMBER && v->num <= 0xffff) {
		ssl->has_ciphersuite = true;
		ssl->ciphersuite = v->num;
	} else if (file && v->kind == EMU_ARG_STRING && v->len >= 1 &&
		   v->len <= MAX_FILE_NAME && !strchr(v->str, ',')) {
		free(*file);
		*file = emu_strndup(v->str, v->len);
	} else {
		emu_error(n->emu);
		return;
	}
	emu_ok(n->emu);
}

/* ------------------------------------------------------------ dispatch */

/* The rows' run functions, one a command: the generic one on the channel
 * the command names. */
#define ON_CHANNEL(name, fn, channel) \
	static void name(void *ctx, const struct emu_cmd *c) \
	{ \
		fn(&((struct neoway *)ctx)->ch[channel], c); \
	}
ON_CHANNEL(at_httppara, http_para, CH_HTTP)
ON_CHANNEL(at_httpsetup, http_setup, CH_HTTP)
ON_CHANNEL(at_httpaction, http_action, CH_HTTP)
ON_CHANNEL(at_httpclose, http_close, CH_HTTP)
ON_CHANNEL(at_httpspara, http_para, CH_HTTPS)
ON_CHANNEL(at_httpssetup, http_setup, CH_HTTPS)
ON_CHANNEL(at_httpsaction, http_action, CH_HTTPS)
ON_CHANNEL(at_httpsclose, http_close, CH_HTTPS)
ON_CHANNEL(at_httpscfg, https_cfg, CH_HTTPS)

#define NEEDS_HTTPS 1u			/* firmware with the S-twins */

static bool may_run(void *ctx, unsigned needs, const struct emu_cmd *c)
{
	const struct neoway *n = ctx;

	(void)c;
	return !(needs & NEEDS_HTTPS) || n->v->https;
}

static const struct emu_command rows[] = {
	{ "+HTTPPARA", EMU_AT_SET, 0, at_httppara },
	{ "+HTTPSETUP", EMU_AT_EXEC, 0, at_httpsetup },
	{ "+HTTPACTION", EMU_AT_SET, 0, at_httpaction },
	{ "+HTTPCLOSE", EMU_AT_EXEC, 0, at_httpclose },
	{ "+HTTPSPARA", EMU_AT_SET, NEEDS_HTTPS, at_httpspara },
	{ "+HTTPSSETUP", EMU_AT_EXEC, NEEDS_HTTPS, at_httpssetup },
	{ "+HTTPSACTION", EMU_AT_SET, NEEDS_HTTPS, at_httpsaction },
	{ "+HTTPSCLOSE", EMU_AT_EXEC, NEEDS_HTTPS, at_httpsclose },
	{ "+HTTPSCFG", EMU_AT_SET | EMU_AT_READ | EMU_AT_TEST, NEEDS_HTTPS,
	  at_httpscfg },
};

static const struct emu_commands commands = EMU_COMMANDS(rows, may_run, NULL);

/* ------------------------------------------------------------ life */

static void *open_neoway(struct emu *e, const struct emu_config *cfg,
			 const void *variant, const char **err)
{
	struct neoway *n = emu_calloc(1, sizeof(*n));

	n->emu = e;
	n->v = variant;
	for (int i = 0; i < N_CHANNELS; i++) {
		n->ch[i].n = n;
		n->ch[i].s = &schemes[i];
		clear_params(&n->ch[i]);
	}
	/* The manual's query example: SSL 3.0, server authentication. */
	n->ssl.sslversion = 0;
	n->ssl.authmode = 1;
	return n;
}

static void close_neoway(void *ctx)
{
	struct neoway *n = ctx;

	for (int i = 0; i < N_CHANNELS; i++) {
		drop_link(&n->ch[i]);
		clear_params(&n->ch[i]);
	}
	free(n->ssl.cacert);
	free(n->ssl.clientcert);
	free(n->ssl.clientkey);
	free(n);
}

const struct emu_dialect emu_neoway = {
	.name = "neoway",
	.parse_flags = EMU_PARSE_WORDS,
	.commands = &commands,
	.variants = EMU_VARIANTS(variants, "neoway variant"),
	.open = open_neoway,
	.close = close_neoway,
	.data = data_done,
};
