/*
 * ESP-AT-style WiFi firmware HTTP commands: AT+HTTPCLIENT, AT+HTTPCPOST and
 * AT+HTTPGETSIZE, as Espressif's ESP-AT prints them, and the Beken BK72xx
 * firmware that implements the same manual with other output.
 *
 * Source of truth: the manual (the Beken BK72xx AT manual, "HTTP
 * instruction set"), the driver's choices where it is silent
 * (quoted parameters with ESP-AT's escapes \" \\ \, and the
 * manual's unquoted form, both parsed by emu_cmdline.c's EMU_PARSE_ESPAT;
 * a command line of at most 256 bytes) and the quirks DESIGN.md lists.
 * Whatever that does not allow answers ERROR.  Not emulated: AT+OTA, the
 * provisioning commands, AT+HTTPCERT's <type> 2 (its data's end is "all
 * the certificate data sent at once", which no byte count frames: ERROR).
 *
 * HTTPS: an https:// URL with <transport_type> 2 (the two must agree; for
 * <host>,<path> the transport picks the scheme); AT+HTTPCPOST and
 * AT+HTTPGETSIZE take their scheme from the URL.  AT+HTTPCERT=1,<length>
 * ("Write CA certificate data to the device": the manual's syntax; its
 * examples spell it AT+HTTPSCERT, which firmware differs on: the
 * variant's spellings) prompts '>', takes exactly <length> bytes, and
 * answers OK if they hold PEM certificates that all parse, else ERROR.
 * The roots live in RAM (this process) and replace any before.  TLS to
 * the origin is then done as such a module does it: the server verified
 * against those roots (chain, name, dates) when a CA was written, not at
 * all when none was; SNI always (ESP-IDF's esp-tls sends the URL's host).
 * A failed handshake and a rejected certificate end the command as any
 * failed connection does: ERROR (SEND FAIL after AT+HTTPCPOST's data).
 *
 * The module's request is what ESP-IDF's esp_http_client writes: request
 * line, User-Agent, Host, Content-Type and Content-Length (POST and PUT
 * only), the header parameters replacing a default of the same name in
 * place or joining the end.  One connection per command.  It follows
 * redirects itself (at most 5; a 303 turns into a GET) and prints only
 * the final response.  What ends a command: OK or ERROR (AT+HTTPCLIENT,
 * AT+HTTPGETSIZE), SEND OK or SEND FAIL after AT+HTTPCPOST's data (a
 * failure, or a status of 400 or more on Espressif firmware); ERROR before
 * the '>' for parameters it refuses.
 *
 * How the body reaches the host without the emulator ever holding it all
 * (a 50 MB body streams at line rate): each exchange is an origin link
 * (emu_origin.c), its response parsed as it arrives, on the loop's thread.
 * Body bytes become pieces in the port's output queue while that holds
 * less than QUEUE_MAX bytes; what does not fit waits here, and the link is
 * paused until the port's drained() says the queue is short again, so TCP
 * holds the origin back.  While paused, the origin's silence is ours: the
 * 5 s receive timeout runs only while the link reads.  Beken prints <T>,
 * the whole length, in every piece: a body without Content-Length is held
 * to its end (at most --max-body bytes) before the first piece.
 *
 * A host that hangs up in the middle of a response: the port drops what
 * was queued; the job goes on printing what comes after, as a module that
 * cannot know the host left would, unless it was waiting for the host
 * (then it waits until the next command, which ends it).
 */
#include "emu.h"

#include <mbedtls/x509_crt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LINE 256			/* ESP-AT's longest command, without CR */
#define MAX_POST 2048			/* AT+HTTPCPOST <length>: "maximum 2k" */
#define PIECE 512			/* body bytes in one +HTTPCLIENT piece */
#define MAX_REDIRECTS 5
#define NET_TIMEOUT_MS 5000		/* esp_http_client's default timeout */
#define POST_DATA_TIMEOUT_MS 10000	/* for the bytes after ">" */
#define QUEUE_MAX (128 * 1024)		/* output ahead of the host; the port
					 * calls drained() below EMU_LOW_WATER */
#define USER_AGENT "ESP32 HTTP Client/1.0"
#define MAX_CERT 16384			/* AT+HTTPCERT <length>: the RAM the
					 * emulator gives the roots */
#define CERT_DATA_TIMEOUT_MS 10000	/* for the bytes after ">" */

/* How firmwares differ: answers only, never the request they send. */
struct espat_variant {
	const char *name;
	/* "+HTTPCLIENT:<T>,<data>" with the angle brackets printed, T the
	 * whole body's length in every piece, data cut at its first NUL;
	 * else "+HTTPCLIENT:<n>,<n bytes>". */
	bool bracketed;
	/* A status outside 200..399 prints nothing and ends OK; else a
	 * status of 400 or more ends ERROR (SEND FAIL) after the pieces. */
	bool quiet_status;
	bool head_lines;		/* HEAD prints the header lines */
	bool cpost_pieces;		/* AT+HTTPCPOST prints +HTTPCPOST: pieces */
	/* The names the CA command answers to (none: no way to load a CA,
	 * so https is never verified). */
	const char *cert_commands[3];
};

static const struct espat_variant variants[] = {
	{
		.name = "espressif",
		.head_lines = true,
		.cpost_pieces = true,
		.cert_commands = { "+HTTPCERT" },
	},
	{
		.name = "beken",
		.bracketed = true,
		.quiet_status = true,
	},
	{
		/* Espressif's output, the CA command spelt as the manual's
		 * examples spell it. */
		.name = "httpscert",
		.head_lines = true,
		.cpost_pieces = true,
		.cert_commands = { "+HTTPSCERT" },
	},
};

enum { M_HEAD = 1, M_GET, M_POST, M_PUT, M_DELETE };

static const char *const method_name[] = {
	[M_HEAD] = "HEAD", [M_GET] = "GET", [M_POST] = "POST",
	[M_PUT] = "PUT", [M_DELETE] = "DELETE",
};

/* AT+HTTPCLIENT <content-type> */
static const char *const content_type[] = {
	"application/x-www-form-urlencoded",
	"application/json",
	"multipart/form-data",
	"text/xml",
};

struct field {
	char *name, *value;
};

/* ------------------------------------------------------------ the request */

/* What a command asks for, as the module's HTTP client will send it. */
struct request {
	int method;
	struct emu_url url;		/* the command's URL */
	const char *ctype;		/* default Content-Type, for a body */
	struct field *params;		/* the header parameters */
	size_t nparams;
	struct emu_buf body;
};


/* esp_http_client's header list: setting a name that is there replaces
 * its value in place (keeping the first spelling), else appends. */
static void set_field(struct field **f, size_t *n, const char *name,
		      const char *value)
{
	struct field *a;

	for (size_t i = 0; i < *n; i++)
		if (!strcasecmp((*f)[i].name, name)) {
			free((*f)[i].value);
			(*f)[i].value = emu_strndup(value, strlen(value));
			return;
		}
	a = emu_calloc(*n + 1, sizeof(*a));
	if (*n)
		memcpy(a, *f, *n * sizeof(*a));
	free(*f);
	a[*n].name = emu_strndup(name, strlen(name));
	a[*n].value = emu_strndup(value, strlen(value));
	*f = a;
	(*n)++;
}

static void free_fields(struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

static void request_free(struct request *q)
{
	emu_url_free(&q->url);
	free_fields(q->params, q->nparams);
	emu_buf_free(&q->body);
	*q = (struct request){ 0 };
}

static void build_request(const struct request *q, int method,
			  const struct emu_url *u, bool with_body,
			  struct emu_buf *r)
{
	struct field *f = NULL;
	size_t n = 0;
	struct emu_buf host = { 0 };

	/* Host as esp_http_client writes it: the port only if it is
	 * neither 80 nor 443 (whatever the scheme). */
	if (strchr(u->host, ':'))
		emu_buf_addf(&host, "[%s]", u->host);
	else
		emu_buf_addf(&host, "%s", u->host);
	if (u->port != 80 && u->port != 443)
		emu_buf_addf(&host, ":%u", u->port);
	set_field(&f, &n, "User-Agent", USER_AGENT);
	set_field(&f, &n, "Host", host.data);
	if (with_body)
		set_field(&f, &n, "Content-Type", q->ctype);
	for (size_t i = 0; i < q->nparams; i++)
		/* The module frames the body itself. */
		if (strcasecmp(q->params[i].name, "Content-Length"))
			set_field(&f, &n, q->params[i].name,
				  q->params[i].value);
	emu_buf_addf(r, "%s %s HTTP/1.1\r\n", method_name[method], u->target);
	for (size_t i = 0; i < n; i++)
		emu_buf_addf(r, "%s: %s\r\n", f[i].name, f[i].value);
	if (with_body)
		emu_buf_addf(r, "Content-Length: %zu\r\n", q->body.len);
	emu_buf_add(r, "\r\n", 2);
	if (with_body)
		emu_buf_add(r, q->body.data, q->body.len);
	free_fields(f, n);
	emu_buf_free(&host);
}

/* A header's value in a header block, trimmed; NULL if absent. */
static char *header_value(const struct emu_buf *block, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = block->data, *end = block->data + block->len;

	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *v, *ve;

		if (!eol)
			break;
		if ((size_t)(eol - p) > nlen && !strncasecmp(p, name, nlen) &&
		    p[nlen] == ':') {
			v = p + nlen + 1;
			ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' ||
					  ve[-1] == '\t'))
				ve--;
			return emu_strndup(v, (size_t)(ve - v));
		}
		p = eol + 1;
	}
	return NULL;
}

/* Location against the URL it came from: an absolute http(s) URL or an
 * absolute path, as esp_http_client_set_url() takes them. */
static int follow(const struct emu_url *from, const char *loc,
		  struct emu_url *to)
{
	struct emu_buf abs = { 0 };
	int rc;

	if (loc[0] == '/' && loc[1] == '/')
		emu_buf_addf(&abs, "%s:%s", from->tls ? "https" : "http", loc);
	else if (loc[0] == '/')
		emu_buf_addf(&abs, "%s://%s%s", from->tls ? "https" : "http",
			     from->authority, loc);
	else
		emu_buf_addf(&abs, "%s", loc);
	rc = emu_url_parse(abs.data, to);
	emu_buf_free(&abs);
	return rc;
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/* ------------------------------------------------------------ the module */

enum job {
	JOB_NONE,
	JOB_CLIENT,			/* AT+HTTPCLIENT */
	JOB_CPOST_DATA,			/* AT+HTTPCPOST, waiting for its bytes */
	JOB_CPOST,			/* AT+HTTPCPOST, the request */
	JOB_GETSIZE,			/* AT+HTTPGETSIZE */
	JOB_CERT_DATA,			/* AT+HTTPCERT, waiting for its bytes */
};

struct espat {
	struct emu *emu;
	const struct emu_config *cfg;
	const struct espat_variant *v;

	enum job job;
	struct request req;		/* the job's request */

	/* The roots AT+HTTPCERT wrote (NULL: none): https is verified
	 * against them. */
	char *ca_pem;
	size_t ca_len;

	/* The exchange in progress: one connection, one request. */
	struct emu_link *link;
	struct emu_url url;		/* where it goes (redirects change it) */
	int method;			/* what it asks (a 303 makes a GET) */
	bool with_body;
	int hops;			/* redirects followed */
	struct emu_fetch resp;		/* the response as parsed so far */
	struct emu_resp *parser;
	bool paused;			/* the link reads no more for now */

	/* The final response. */
	bool headed;			/* its head has been acted on */
	int status;
	bool print;			/* the body goes out as pieces */
	bool hold;			/* Beken: kept to its end for <T> */
	bool ended;			/* nothing more comes from the origin */
	bool failed;			/* ... because something failed */
	bool stalled;			/* the host hung up while we waited
					 * for it: nothing more until the
					 * next command ends the job */
	uint64_t total;			/* Beken's <T> */
	uint64_t received;		/* body bytes, against --max-body */
	struct emu_buf out;		/* body received, not yet printed */
	size_t out_off;			/* ... from here */
};

static void on_link(void *ctx, enum emu_link_event ev,
		    enum emu_fetch_status st, const char *p, size_t n);

/* TLS as far as the module was told: verified only with roots written,
 * SNI always. */
static void arm_tls(const struct espat *s, struct emu_url *u)
{
	if (u->tls)
		emu_url_set_tls(u, s->ca_pem != NULL, true, s->ca_pem,
				s->ca_len);
}

static void open_exchange(struct espat *s)
{
	arm_tls(s, &s->url);
	s->resp = (struct emu_fetch){ .head_only = s->method == M_HEAD };
	s->parser = emu_resp_new(&s->resp, SIZE_MAX);
	s->link = emu_link_open(emu_jobs(s->emu), &s->url, NET_TIMEOUT_MS,
				on_link, s);
}

static void close_exchange(struct espat *s)
{
	emu_link_close(s->link);
	s->link = NULL;
	if (s->parser)
		emu_resp_free(s->parser);
	s->parser = NULL;
	emu_buf_free(&s->resp.header);
	emu_buf_free(&s->resp.body);
	s->resp = (struct emu_fetch){ 0 };
	s->paused = false;
}

static void end_job(struct espat *s)
{
	close_exchange(s);
	request_free(&s->req);
	emu_url_free(&s->url);
	emu_buf_free(&s->out);
	s->out_off = 0;
	s->job = JOB_NONE;
	s->hops = 0;
	s->headed = s->print = s->hold = false;
	s->ended = s->failed = s->stalled = false;
	s->status = 0;
	s->total = s->received = 0;
}

static void final(struct espat *s, const char *word)
{
	emu_sendf(s->emu, EMU_MARK_DONE, "\r\n%s\r\n", word);
	end_job(s);
}

/* The command's request goes out: its URL, its method. */
static void start(struct espat *s, enum job job)
{
	emu_request_begin(s->emu);
	s->job = job;
	s->url = s->req.url;
	s->req.url = (struct emu_url){ 0 };
	s->method = s->req.method;
	s->with_body = s->method == M_POST || s->method == M_PUT;
	s->hops = 0;
	open_exchange(s);
}

static void queue_out(struct espat *s, struct emu_buf *b)
{
	emu_send(s->emu, EMU_MARK_NONE, b->data, b->len);
	b->len = 0;
}

static void add_piece(struct espat *s, struct emu_buf *b, const char *p,
		      size_t n)
{
	const char *cmd = s->job == JOB_CPOST ? "+HTTPCPOST" : "+HTTPCLIENT";

	if (s->v->bracketed) {
		const char *nul = memchr(p, '\0', n);

		emu_buf_addf(b, "%s:<%llu>,<", cmd,
			     (unsigned long long)s->total);
		emu_buf_add(b, p, nul ? (size_t)(nul - p) : n);
		emu_buf_add(b, ">\r\n", 3);
	} else {
		emu_buf_addf(b, "%s:%zu,", cmd, n);
		emu_buf_add(b, p, n);
		emu_buf_add(b, "\r\n", 2);
	}
}

/* The header lines, one piece each, without the status line. */
static void print_head_lines(struct espat *s, const struct emu_buf *block)
{
	struct emu_buf out = { 0 };
	const char *p = block->data, *end = block->data + block->len;
	bool first = true;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (!first && n)
			add_piece(s, &out, p, n);
		first = false;
		p = eol ? eol + 1 : end;
	}
	if (out.len)
		queue_out(s, &out);
	emu_buf_free(&out);
}

static bool status_fails(const struct espat *s, int status)
{
	return !s->v->quiet_status && status >= 400;
}

static bool status_quiet(const struct espat *s, int status)
{
	return s->v->quiet_status && (status < 200 || status > 399);
}

/* The link reads again; the receive timeout runs again. */
static void resume(struct espat *s)
{
	if (!s->paused)
		return;
	s->paused = false;
	if (s->link) {
		emu_link_pause(s->link, false);
		emu_link_deadline(s->link, NET_TIMEOUT_MS);
	}
}

/* The host is behind: the origin waits, and its silence is no fault. */
static void pause_link(struct espat *s)
{
	if (s->paused || !s->link)
		return;
	s->paused = true;
	emu_link_pause(s->link, true);
	emu_link_deadline(s->link, 0);
}

/* Moves the body received into the output as far as the queue has room,
 * pausing the link while some is left, and ends the job once the response
 * has ended and all of it is out.  Called after each link event and by
 * drained(). */
static void pump(struct espat *s)
{
	struct emu_buf b = { 0 };
	size_t queued;

	if (!s->headed || s->hold || s->stalled)
		return;
	queued = emu_queued(s->emu);
	while (s->out_off < s->out.len && queued + b.len < QUEUE_MAX) {
		size_t n = s->out.len - s->out_off;

		if (n > PIECE)
			n = PIECE;
		add_piece(s, &b, s->out.data + s->out_off, n);
		s->out_off += n;
	}
	if (b.len)
		queue_out(s, &b);
	emu_buf_free(&b);
	if (s->out_off == s->out.len) {
		s->out.len = s->out_off = 0;
	} else if (s->out_off >= QUEUE_MAX) {
		memmove(s->out.data, s->out.data + s->out_off,
			s->out.len - s->out_off);
		s->out.len -= s->out_off;
		s->out_off = 0;
	}
	if (s->out.len) {
		pause_link(s);
		return;
	}
	resume(s);
	if (!s->ended)
		return;
	if (s->job == JOB_CPOST)
		final(s, s->failed || status_fails(s, s->status) ?
			 "SEND FAIL" : "SEND OK");
	else
		final(s, s->failed || status_fails(s, s->status) ?
			 "ERROR" : "OK");
}

/* Nothing more comes from the origin (failed: something went wrong after
 * the final head): what was received is printed, then the final result. */
static void end_response(struct espat *s, bool failed)
{
	s->ended = true;
	s->failed = failed;
	close_exchange(s);
	if (s->hold) {
		/* Beken: <T> is known now; a failure leaves no <T> to print
		 * the body with. */
		s->hold = false;
		s->total = s->out.len;
		if (failed)
			s->out.len = 0;
	}
	pump(s);
}

/* Connecting, sending or receiving failed. */
static void fail(struct espat *s)
{
	if (s->headed)
		end_response(s, true);
	else
		final(s, s->job == JOB_CPOST ? "SEND FAIL" : "ERROR");
}

/* The final head is in: what the job makes of it.  Returns false if the
 * job ended here. */
static bool on_head(struct espat *s)
{
	const struct emu_fetch *f = &s->resp;

	s->headed = true;
	s->status = f->http_status;
	if (s->job == JOB_GETSIZE) {
		if (status_quiet(s, s->status))
			final(s, "OK");
		else if (status_fails(s, s->status) || !f->has_length)
			final(s, "ERROR");
		else {
			emu_sendf(s->emu, EMU_MARK_NONE, "+HTTPGETSIZE:%llu\r\n",
				  (unsigned long long)f->content_length);
			final(s, "OK");
		}
		return false;
	}
	if (s->job == JOB_CLIENT && s->req.method == M_HEAD) {
		if (s->v->head_lines && !status_quiet(s, s->status))
			print_head_lines(s, &f->header);
		final(s, status_fails(s, s->status) ? "ERROR" : "OK");
		return false;
	}
	if (s->job == JOB_CPOST)
		s->print = s->v->cpost_pieces;
	else
		s->print = !status_quiet(s, s->status);
	s->total = f->content_length;
	/* Beken prints <T>: a body of unknown length is held to its end. */
	s->hold = s->print && s->v->bracketed && !f->has_length;
	return true;
}

/* A redirect's head: the next exchange, to where Location says (only the
 * final response is printed). */
static void redirect(struct espat *s, const char *loc)
{
	struct emu_url to;
	int code = s->resp.http_status;

	if (s->hops == MAX_REDIRECTS || follow(&s->url, loc, &to) < 0) {
		fail(s);
		return;
	}
	close_exchange(s);
	emu_url_free(&s->url);
	s->url = to;
	s->hops++;
	/* 303 See Other: the next request is a GET without the body (a
	 * HEAD stays a HEAD); the others repeat the request. */
	if (code == 303 && s->method != M_HEAD) {
		s->method = M_GET;
		s->with_body = false;
	}
	open_exchange(s);
}

/* Origin bytes (n == 0: it closed). */
static void feed(struct espat *s, const char *p, size_t n)
{
	enum emu_fetch_status st = emu_resp_feed(s->parser, p, n);
	struct emu_buf *body = &s->resp.body;

	if (st != EMU_FETCH_OK) {
		fail(s);
		return;
	}
	if (!s->resp.http_status)
		return;			/* no head yet */
	if (!s->headed) {
		char *loc = is_redirect(s->resp.http_status) ?
			    header_value(&s->resp.header, "Location") : NULL;

		if (loc) {
			redirect(s, loc);
			free(loc);
			return;
		}
		if (!on_head(s))
			return;
	}
	if (body->len) {
		s->received += body->len;
		if (s->received > s->cfg->max_body) {
			fail(s);	/* too big: ERROR */
			return;
		}
		if (s->print)
			emu_buf_add(&s->out, body->data, body->len);
		body->len = 0;		/* taken: the buffer is reused */
	}
	if (emu_resp_complete(s->parser))
		end_response(s, false);
	else
		pump(s);
}

static void on_link(void *ctx, enum emu_link_event ev,
		    enum emu_fetch_status st, const char *p, size_t n)
{
	struct espat *s = ctx;
	struct emu_buf req = { 0 };

	switch (ev) {
	case EMU_LINK_CONNECTED:
		if (st != EMU_FETCH_OK) {
			fail(s);
			break;
		}
		build_request(&s->req, s->method, &s->url, s->with_body,
			      &req);
		emu_link_send(s->link, req.data, req.len, NET_TIMEOUT_MS);
		emu_buf_free(&req);
		break;
	case EMU_LINK_SENT:
		/* The request is out: the origin has NET_TIMEOUT_MS to
		 * answer, and as long again after each thing it sends. */
		if (st != EMU_FETCH_OK)
			fail(s);
		else if (!s->paused)
			emu_link_deadline(s->link, NET_TIMEOUT_MS);
		break;
	case EMU_LINK_DATA:
		if (!s->paused)
			emu_link_deadline(s->link, NET_TIMEOUT_MS);
		feed(s, p, n);
		break;
	case EMU_LINK_CLOSED:
		if (st == EMU_FETCH_OK)
			feed(s, NULL, 0);
		else
			fail(s);	/* reset, or the timeout */
		break;
	}
}

/* ------------------------------------------------------------ commands */

static bool num_in(const struct emu_cmd *c, size_t i, unsigned long lo,
		   unsigned long hi)
{
	return i < c->argc && c->argv[i].kind == EMU_ARG_NUMBER &&
	       c->argv[i].num >= lo && c->argv[i].num <= hi;
}

/* A string parameter: quoted, unquoted (digits too: EMU_PARSE_ESPAT keeps
 * their text) or empty. */
static bool is_text(const struct emu_cmd *c, size_t i)
{
	return i < c->argc;
}

/* "Name: value": a token, a colon, optional blanks, the value (kept as
 * given, possibly empty). */
static bool take_param(struct request *q, const struct emu_arg *a)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i = 0;
	const char *v;
	struct field *f;

	if (a->kind != EMU_ARG_STRING && a->kind != EMU_ARG_WORD)
		return false;
	while (i < a->len && ((a->str[i] >= '0' && a->str[i] <= '9') ||
			      (a->str[i] >= 'a' && a->str[i] <= 'z') ||
			      (a->str[i] >= 'A' && a->str[i] <= 'Z') ||
			      (a->str[i] && strchr(tchar, a->str[i]))))
		i++;
	if (i == 0 || i == a->len || a->str[i] != ':')
		return false;
	v = a->str + i + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	f = emu_calloc(q->nparams + 1, sizeof(*f));
	if (q->nparams)
		memcpy(f, q->params, q->nparams * sizeof(*f));
	free(q->params);
	f[q->nparams].name = emu_strndup(a->str, i);
	f[q->nparams].value = emu_strndup(v, strlen(v));
	q->params = f;
	q->nparams++;
	return true;
}

static bool take_params(struct request *q, const struct emu_cmd *c,
			size_t from)
{
	for (size_t i = from; i < c->argc; i++)
		if (!take_param(q, &c->argv[i]))
			return false;
	return true;
}

/* An http:// or https:// URL. */
static bool take_url(struct request *q, const char *url)
{
	return emu_url_parse(url, &q->url) == 0;
}

/* <url>, or when it is empty <host> and <path>: a bare host name or
 * address (no port, no user) and a path from "/"; the scheme the
 * transport's (tls: 2, HTTP_TRANSPORT_OVER_SSL), which a URL must match. */
static bool client_url(struct request *q, const struct emu_cmd *c, bool tls)
{
	const struct emu_arg *url = &c->argv[2], *host = &c->argv[3],
			     *path = &c->argv[4];
	struct emu_buf b = { 0 };
	bool ok;

	if (url->len)
		return take_url(q, url->str) && q->url.tls == tls;
	if (!host->len || !path->len || path->str[0] != '/')
		return false;
	emu_buf_addf(&b, "%s://%s%s", tls ? "https" : "http", host->str,
		     path->str);
	/* What the URL parser took for the host must be all of <host>, and
	 * no port: "[v6]" has its colons inside the brackets. */
	ok = take_url(q, b.data) && !strcmp(q->url.authority, host->str) &&
	     (host->str[0] == '[' || !strchr(host->str, ':'));
	emu_buf_free(&b);
	return ok;
}

/* AT+HTTPCLIENT=<opt>,<content-type>,<url>,[<host>],[<path>],
 *               <transport_type>[,<data>][,<http_req_header>]... */
static void http_client(void *ctx, const struct emu_cmd *c)
{
	struct espat *s = ctx;
	const struct emu_arg *a = c->argv;
	size_t first = 6;
	struct request *q = &s->req;

	if (!emu_net_ready(s->emu) || c->argc < 6 || !num_in(c, 0, M_HEAD, M_DELETE) ||
	    !num_in(c, 1, 0, 3) || !num_in(c, 5, 1, 2)) {
		emu_error(s->emu);
		return;
	}
	/* <data> exists only for POST (present, maybe empty); for any other
	 * method what follows <transport_type> is headers. */
	if (a[0].num == M_POST) {
		if (!is_text(c, 6)) {
			emu_error(s->emu);
			return;
		}
		first = 7;
	}
	q->method = (int)a[0].num;
	q->ctype = content_type[a[1].num];
	if (a[0].num == M_POST)
		emu_buf_add(&q->body, a[6].str, a[6].len);
	if (!take_params(q, c, first) || !client_url(q, c, a[5].num == 2)) {
		request_free(q);
		emu_error(s->emu);
		return;
	}
	start(s, JOB_CLIENT);
}

/* AT+HTTPCPOST=<url>,<length>[,<http_req_header_cnt>][,<http_req_header>]...
 * OK, ">", exactly <length> bytes, then the response. */
static void http_cpost(void *ctx, const struct emu_cmd *c)
{
	struct espat *s = ctx;
	struct request *q = &s->req;

	if (!emu_net_ready(s->emu) || c->argc < 2 || !c->argv[0].len || !num_in(c, 1, 1, MAX_POST) ||
	    (c->argc > 2 && !num_in(c, 2, c->argc - 3, c->argc - 3))) {
		emu_error(s->emu);
		return;
	}
	q->method = M_POST;
	/* Content-Type only from a header parameter; else ESP-AT's. */
	q->ctype = content_type[0];
	if (!take_url(q, c->argv[0].str) || !take_params(q, c, 3)) {
		request_free(q);
		emu_error(s->emu);
		return;
	}
	s->job = JOB_CPOST_DATA;
	emu_send(s->emu, EMU_MARK_NONE, "\r\nOK\r\n", 6);
	emu_download(s->emu, "\r\n>", c->argv[1].num, POST_DATA_TIMEOUT_MS);
}

/* AT+HTTPGETSIZE=<url>: a HEAD, and its Content-Length. */
static void http_getsize(void *ctx, const struct emu_cmd *c)
{
	struct espat *s = ctx;
	struct request *q = &s->req;

	if (!emu_net_ready(s->emu) || c->argc != 1 || !c->argv[0].len) {
		emu_error(s->emu);
		return;
	}
	q->method = M_HEAD;
	if (!take_url(q, c->argv[0].str)) {
		request_free(q);
		emu_error(s->emu);
		return;
	}
	start(s, JOB_GETSIZE);
}

/* AT+HTTPCERT=<type>,<length>: '>', then exactly <length> bytes of PEM. */
static void http_cert(void *ctx, const struct emu_cmd *c)
{
	struct espat *s = ctx;

	if (c->argc != 2 || !num_in(c, 0, 1, 1) ||
	    !num_in(c, 1, 1, MAX_CERT)) {
		emu_error(s->emu);
		return;
	}
	s->job = JOB_CERT_DATA;
	emu_download(s->emu, "\r\n>", c->argv[1].num, CERT_DATA_TIMEOUT_MS);
}

/* Certificates, every one of them well formed (mbedTLS reads PEM among
 * other text, and says how many it could not parse). */
static bool parses_as_roots(const struct emu_buf *data)
{
	mbedtls_x509_crt crt;
	int rc;

	if (memchr(data->data, '\0', data->len))
		return false;
	mbedtls_x509_crt_init(&crt);
	/* emu_buf keeps a NUL past len, which PEM parsing needs. */
	rc = mbedtls_x509_crt_parse(&crt, (const unsigned char *)data->data,
				    data->len + 1);
	mbedtls_x509_crt_free(&crt);
	return rc == 0;
}

static void cert_done(struct espat *s, struct emu_buf *data, bool complete)
{
	s->job = JOB_NONE;
	if (!complete || !parses_as_roots(data)) {
		emu_error(s->emu);
		return;
	}
	free(s->ca_pem);
	s->ca_pem = emu_strndup(data->data, data->len);
	s->ca_len = data->len;
	emu_ok(s->emu);
}

static void data_done(void *ctx, struct emu_buf *data, bool complete)
{
	struct espat *s = ctx;

	if (s->job == JOB_CERT_DATA) {
		cert_done(s, data, complete);
		return;
	}
	if (s->job != JOB_CPOST_DATA)
		return;
	if (!complete) {
		final(s, "SEND FAIL");
		return;
	}
	s->req.body = *data;
	*data = (struct emu_buf){ 0 };
	start(s, JOB_CPOST);
}

/* ------------------------------------------------------------ dispatch */

#define NEEDS_CERT_NAME 1u		/* the variant spells its CA command so */

static bool may_run(void *ctx, unsigned needs, const struct emu_cmd *c)
{
	const struct espat *s = ctx;

	(void)needs;
	for (size_t i = 0; s->v->cert_commands[i]; i++)
		if (!strcmp(s->v->cert_commands[i], c->name))
			return true;
	return false;
}

static const struct emu_command rows[] = {
	{ "+HTTPCLIENT", EMU_AT_SET, 0, http_client },
	{ "+HTTPCPOST", EMU_AT_SET, 0, http_cpost },
	{ "+HTTPGETSIZE", EMU_AT_SET, 0, http_getsize },
	{ "+HTTPCERT", EMU_AT_SET, NEEDS_CERT_NAME, http_cert },
	{ "+HTTPSCERT", EMU_AT_SET, NEEDS_CERT_NAME, http_cert },
};

static const struct emu_commands commands = EMU_COMMANDS(rows, may_run, NULL);

/* Only a hangup lets a command in while a job runs (the port refuses lines
 * until the final result is out): the old job's output is lost, and so is
 * the job. */
static void command_begins(void *ctx)
{
	struct espat *s = ctx;

	if (s->job != JOB_NONE)
		end_job(s);
}

/* ------------------------------------------------------------ life */

/* The output queue is short again (or the host hung up and it is empty). */
static void drained(void *ctx)
{
	pump(ctx);
}

/* The host hung up; what was queued is gone.  A job that was waiting for
 * the host (body it could not print yet) waits for the next command; one
 * waiting for the origin prints what comes, to whoever is there. */
static void hangup(void *ctx)
{
	struct espat *s = ctx;

	if (s->headed && (s->paused || (!s->hold && s->out.len)))
		s->stalled = true;
}

static void close_espat(void *ctx)
{
	struct espat *s = ctx;

	end_job(s);
	free(s->ca_pem);
	free(s);
}

static void *open_espat(struct emu *e, const struct emu_config *cfg,
			const void *variant, const char **err)
{
	struct espat *s = emu_calloc(1, sizeof(*s));

	s->emu = e;
	s->cfg = cfg;
	s->v = variant;
	return s;
}

const struct emu_dialect emu_espat = {
	.name = "espat",
	.parse_flags = EMU_PARSE_ESPAT,
	.commands = &commands,
	.max_line = MAX_LINE,
	.variants = EMU_VARIANTS(variants, "espat variant"),
	.open = open_espat,
	.close = close_espat,
	.command_begins = command_begins,
	.data = data_done,
	.drained = drained,
	.hangup = hangup,
};
