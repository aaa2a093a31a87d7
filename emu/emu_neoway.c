/*
 * Neoway N58 HTTP command set: AT+HTTPPARA, AT+HTTPSETUP, AT+HTTPACTION
 * (GET, HEAD, POST and mode 99, the custom packet sent as is), AT+HTTPCLOSE,
 * and the +HTTPRECV / +HTTPCLOSED reports.
 *
 * Source of truth: the N58 AT Commands Manual, chapter 9.  The module has a
 * real TCP link: AT+HTTPSETUP opens it (ERROR when DNS or the connection
 * fails), AT+HTTPACTION writes a request into it, and whatever the origin
 * sends back is printed as it arrives, unparsed, until the origin closes
 * (+HTTPCLOSED).  With recvmode 0 one "+HTTPRECV:" line precedes the raw
 * bytes of each response; with recvmode 1 every piece is framed as
 * "+HTTPRECV: <len>,<data>".  Arguments are unquoted words, as in the
 * manual (AT+HTTPPARA=url,host/path); a quoted one is refused.  Not
 * emulated: HTTPS (AT+HTTPS*), AT+HTTPGET downloads, AT+FILEHTTPACTION.
 */
#include "emu.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_URL 2048			/* AT+HTTPPARA url */
#define MAX_PACKET 2048			/* POST content, custom packet */
#define DATA_TIMEOUT_MS 10000		/* for the bytes after ">" */
#define CONNECT_TIMEOUT_MS 20000	/* within the manual's 30 s */
#define SEND_TIMEOUT_MS 20000
#define RECV_PIECE 1460			/* recvmode 1: one TCP segment */

/* How firmware versions differ: answers only, never behaviour. */
struct neoway_variant {
	const char *name;
	const char *recv_head;		/* recvmode 0, before each response */
	const char *open_failed;	/* AT+HTTPACTION without a link */
};

static const struct neoway_variant variants[] = {
	{
		/* As the manual's format lines and examples spell them. */
		.name = "n58",
		.recv_head = "\r\n+HTTPRECV: \r\n",
		.open_failed = "\r\n+HTTPACTION: SOCKET ID OPEN FAILED\r\n",
	},
	{
		/* As the manual's response table spells the failure, and
		 * without the blank after the colon. */
		.name = "compact",
		.recv_head = "\r\n+HTTPRECV:\r\n",
		.open_failed = "\r\n+HTTPACTION:SOCKET ID OPEN FAILED\r\n",
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

struct neoway {
	struct emu *emu;
	const struct neoway_variant *v;

	/* AT+HTTPPARA; cleared by AT+HTTPCLOSE */
	char *url;			/* host[/path], no scheme */
	unsigned long port;
	bool keepalive;
	bool recvmode1;

	enum link_state state;
	struct emu_link *link;
	struct emu_url dest;		/* what AT+HTTPSETUP connected to */
	char *host_header;
	bool awaiting_sent;		/* AT+HTTPACTION ends once sent */
	bool recv_head_due;		/* recvmode 0: before the next bytes */
	int data_mode;			/* the action waiting for its data */
	unsigned long data_type;
};

/* ------------------------------------------------------------ the link */

static void drop_link(struct neoway *n)
{
	emu_link_close(n->link);
	n->link = NULL;
	n->state = LINK_NONE;
	n->awaiting_sent = false;
	emu_url_free(&n->dest);
	free(n->host_header);
	n->host_header = NULL;
}

static void send_failed(struct neoway *n)
{
	static const char msg[] = "\r\n+HTTPSEND: ERROR\r\n";

	emu_send(n->emu, EMU_MARK_DONE, msg, sizeof(msg) - 1);
}

static void deliver(struct neoway *n, const char *p, size_t len)
{
	if (!n->recvmode1) {
		if (n->recv_head_due)
			emu_send(n->emu, EMU_MARK_NONE, n->v->recv_head,
				 strlen(n->v->recv_head));
		n->recv_head_due = false;
		emu_send(n->emu, EMU_MARK_NONE, p, len);
		return;
	}
	for (size_t off = 0; off < len; off += RECV_PIECE) {
		size_t k = len - off < RECV_PIECE ? len - off : RECV_PIECE;

		emu_sendf(n->emu, EMU_MARK_NONE, "\r\n+HTTPRECV: %zu,", k);
		emu_send(n->emu, EMU_MARK_NONE, p + off, k);
	}
}

static void on_link(void *ctx, enum emu_link_event ev,
		    enum emu_fetch_status st, const char *p, size_t len)
{
	static const char closed[] = "\r\n+HTTPCLOSED: HTTP Link Closed\r\n";
	struct neoway *n = ctx;

	switch (ev) {
	case EMU_LINK_CONNECTED:
		if (st == EMU_FETCH_OK) {
			n->state = LINK_OPEN;
			emu_ok(n->emu);
		} else {
			/* DNS, refused, timeout: the manual has one answer */
			drop_link(n);
			emu_error(n->emu);
		}
		break;
	case EMU_LINK_SENT:
		if (!n->awaiting_sent)
			break;
		n->awaiting_sent = false;
		if (st == EMU_FETCH_OK)
			emu_ok(n->emu);
		else
			send_failed(n);
		break;
	case EMU_LINK_DATA:
		deliver(n, p, len);
		break;
	case EMU_LINK_CLOSED:
		if (n->awaiting_sent)
			send_failed(n);
		drop_link(n);
		emu_send(n->emu, EMU_MARK_NONE, closed, sizeof(closed) - 1);
		break;
	}
}

/* ------------------------------------------------------------ commands */

static bool arg_is(const struct emu_cmd *c, size_t i, enum emu_arg_kind k)
{
	return i < c->argc && c->argv[i].kind == k;
}

static void identify(struct neoway *n, const struct emu_cmd *c)
{
	if (c->has_num) {
		emu_error(n->emu);
		return;
	}
	emu_sendf(n->emu, EMU_MARK_NONE, "\r\nNeoway\r\nN58\r\nathttp-emu\r\n");
	emu_ok(n->emu);
}

static void clear_params(struct neoway *n)
{
	free(n->url);
	n->url = NULL;
	n->port = 80;		/* "no default value", yet the examples
				 * connect to port 80 without setting it */
	n->keepalive = false;
	n->recvmode1 = false;
}

static void http_para(struct neoway *n, const struct emu_cmd *c)
{
	const struct emu_arg *v;
	const char *key;

	/* Exactly <para>,<para_value>, both unquoted. */
	if (c->argc != 2 || !arg_is(c, 0, EMU_ARG_WORD)) {
		emu_error(n->emu);
		return;
	}
	key = c->argv[0].str;
	v = &c->argv[1];
	if (!strcmp(key, "url") && v->kind == EMU_ARG_WORD &&
	    v->len <= MAX_URL) {
		free(n->url);
		n->url = emu_strndup(v->str, v->len);
	} else if (!strcmp(key, "port") && v->kind == EMU_ARG_NUMBER &&
		   v->num >= 1 && v->num <= 65535) {
		n->port = v->num;
	} else if (!strcmp(key, "keepalive") && v->kind == EMU_ARG_NUMBER &&
		   v->num <= 1) {
		n->keepalive = v->num == 1;
	} else if (!strcmp(key, "recvmode") && v->kind == EMU_ARG_NUMBER &&
		   v->num <= 1) {
		n->recvmode1 = v->num == 1;
	} else {
		emu_error(n->emu);
		return;
	}
	emu_ok(n->emu);
}

/* url is host[/path]: the link goes to host:port (or its route). */
static int destination(struct neoway *n)
{
	const char *slash = strchr(n->url, '/');
	size_t hlen = slash ? (size_t)(slash - n->url) : strlen(n->url);
	struct emu_buf full = { 0 };
	int rc;

	emu_buf_add(&full, "http://", 7);
	emu_buf_add(&full, n->url, hlen);
	emu_buf_addf(&full, ":%lu%s", n->port, slash ? slash : "/");
	rc = emu_url_parse(full.data, &n->dest);
	emu_buf_free(&full);
	/* Whatever is no plain host name or address (a scheme, a port, user
	 * info) is a name no DNS resolves. */
	if (rc == 0 && (strlen(n->dest.host) != hlen ||
			strncasecmp(n->dest.host, n->url, hlen))) {
		emu_url_free(&n->dest);
		rc = -1;
	}
	if (rc == 0) {
		struct emu_buf h = { 0 };

		emu_buf_add(&h, n->url, hlen);
		if (n->port != 80)
			emu_buf_addf(&h, ":%lu", n->port);
		n->host_header = h.data;
	}
	return rc;
}

static void http_setup(struct neoway *n, const struct emu_cmd *c)
{
	if (!n->url || n->state != LINK_NONE || destination(n) < 0) {
		emu_error(n->emu);
		return;
	}
	n->state = LINK_CONNECTING;
	n->link = emu_link_open(emu_jobs(n->emu), &n->dest, CONNECT_TIMEOUT_MS,
				on_link, n);
}

static void transmit(struct neoway *n, const struct emu_buf *req)
{
	n->awaiting_sent = true;
	n->recv_head_due = true;
	emu_link_send(n->link, req->data, req->len, SEND_TIMEOUT_MS);
}

static void build_head(struct neoway *n, struct emu_buf *r, const char *method)
{
	emu_buf_addf(r, "%s %s HTTP/1.1\r\nHost: %s\r\n", method,
		     n->dest.target, n->host_header);
}

static void end_head(struct neoway *n, struct emu_buf *r)
{
	emu_buf_addf(r, "Connection: %s\r\n\r\n",
		     n->keepalive ? "keep-alive" : "close");
}

static void http_action(struct neoway *n, const struct emu_cmd *c)
{
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
	if (n->state != LINK_OPEN) {
		emu_send(n->emu, EMU_MARK_DONE, n->v->open_failed,
			 strlen(n->v->open_failed));
		return;
	}
	if (mode == MODE_POST || mode == MODE_RAW) {
		n->data_mode = (int)mode;
		n->data_type = c->argc == 3 ? c->argv[2].num : 0;
		emu_download(n->emu, "\r\n>", c->argv[1].num, DATA_TIMEOUT_MS);
		return;
	}
	build_head(n, &req, mode == MODE_GET ? "GET" : "HEAD");
	if (c->argc == 3)
		emu_buf_addf(&req, "Range: bytes=%lu-%lu\r\n", c->argv[1].num,
			     c->argv[1].num + c->argv[2].num - 1);
	end_head(n, &req);
	transmit(n, &req);
	emu_buf_free(&req);
}

static void data_done(void *ctx, struct emu_buf *data, bool complete)
{
	struct neoway *n = ctx;
	struct emu_buf req = { 0 };

	if (!complete) {
		emu_error(n->emu);
		return;
	}
	if (n->state != LINK_OPEN) {
		/* The origin closed the link while the data came. */
		send_failed(n);
		return;
	}
	if (n->data_mode == MODE_RAW) {
		transmit(n, data);
		return;
	}
	build_head(n, &req, "POST");
	emu_buf_addf(&req, "Content-Type: %s\r\nContent-Length: %zu\r\n",
		     post_type[n->data_type], data->len);
	end_head(n, &req);
	emu_buf_add(&req, data->data, data->len);
	transmit(n, &req);
	emu_buf_free(&req);
}

static void http_close(struct neoway *n, const struct emu_cmd *c)
{
	static const char closed[] = "\r\n+HTTPCLOSE: HTTP Link Closed\r\n";
	bool was_open = n->state == LINK_OPEN;

	drop_link(n);
	clear_params(n);
	emu_ok(n->emu);
	if (was_open)
		emu_send(n->emu, EMU_MARK_NONE, closed, sizeof(closed) - 1);
}

/* ------------------------------------------------------------ dispatch */

#define FORM(f) (1u << EMU_FORM_##f)

static const struct neoway_command {
	const char *name;
	unsigned forms;
	void (*run)(struct neoway *n, const struct emu_cmd *c);
} commands[] = {
	{ "I", FORM(BASIC), identify },
	{ "+HTTPPARA", FORM(SET), http_para },
	{ "+HTTPSETUP", FORM(EXEC), http_setup },
	{ "+HTTPACTION", FORM(SET), http_action },
	{ "+HTTPCLOSE", FORM(EXEC), http_close },
};

static void command(void *ctx, const struct emu_cmd *c)
{
	struct neoway *n = ctx;

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, c->name))
			continue;
		if (!(commands[i].forms & (1u << c->form)))
			break;
		commands[i].run(n, c);
		return;
	}
	emu_error(n->emu);
}

/* ------------------------------------------------------------ life */

static void *open_neoway(struct emu *e, const struct emu_config *cfg,
			 const char **err)
{
	const struct neoway_variant *v;
	struct neoway *n;

	v = EMU_VARIANT(variants, cfg->variant);
	if (!v) {
		*err = "unknown neoway variant (n58, compact)";
		return NULL;
	}
	n = emu_calloc(1, sizeof(*n));
	n->emu = e;
	n->v = v;
	clear_params(n);
	return n;
}

static void close_neoway(void *ctx)
{
	struct neoway *n = ctx;

	drop_link(n);
	clear_params(n);
	free(n);
}

const struct emu_dialect emu_neoway = {
	.name = "neoway",
	.parse_flags = EMU_PARSE_WORDS,
	.open = open_neoway,
	.close = close_neoway,
	.command = command,
	.data = data_done,
};
