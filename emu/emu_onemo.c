/*
 * China Mobile OneMO HTTP command set (ML302/ML305/ML307, MN316/MN319):
 * AT+MHTTPCREATE, AT+MHTTPCFG, AT+MHTTPHEADER, AT+MHTTPCONTENT,
 * AT+MHTTPREQUEST, AT+MHTTPREAD, AT+MHTTPDEL, AT+MHTTPTERM, the +MHTTPURC
 * reports, and AT+CMEE (whether failures read "+CME ERROR: <n>" or ERROR).
 *
 * Source of truth: the OneMO HTTP/HTTPS user manual V6.0.7 (its PDF text
 * misspells the names as AT+MHTTTP... and +MHTTPPURC; the module spells
 * them AT+MHTTP... and +MHTTPURC) and, where the manual is silent, the
 * driver's choices (noted where they are made).
 * The module emulated is an ML30x, the family with the ">" data mode: a
 * header in a command is at most 1024 bytes (note 15), a string parameter
 * holds no quote (note 16) and, as the driver assumes, no backslash.
 * Which ML30x (--model, AT+CGMM's answer) decides a request's totals:
 * ML307G (the default) holds 3 x 4096 content bytes and 4096 header
 * bytes (notes 19 and 15), the others chain pieces without a total.  The
 * instances that exist are what AT+MHTTPCFG="<cmd>" without <httpid> and
 * AT+MHTTPCFG? list (3.1: "已创建实例"); none on a fresh module.
 * Whatever the manual does not allow answers ERROR or its +CME ERROR code.
 *
 * An instance names one origin (AT+MHTTPCREATE="http://host:port").  Each
 * AT+MHTTPREQUEST opens a TCP link to it (or its --route), sends the
 * request the module builds (Host, the instance's common headers with the
 * request's own headers replacing those of the same name, Content-Length,
 * the content), and streams the response back as it arrives: one "header"
 * URC, then "content" URCs of at most 1024 bytes each, de-chunked.  This
 * file never holds the body: at most one piece (in cached mode, at most
 * <cache_length>, as on the module), and past HIGH_WATER bytes of output
 * waiting for the line the link stops reading, so the origin waits.
 *
 * HTTPS (the OneMO SSL user manual V5.4.5, 3.1 AT+MSSLCFG and 3.2
 * AT+MSSLCERTWR; the HTTP manual's 4.2): an https instance with "ssl" 1
 * connects with real TLS exactly as its <ssl_id>'s context says -
 * verification against the roots of its "cert" file when "auth" >= 1 and
 * "ignoreverify" 0, SNI only with "sni" 1 (the manual's default is 0).  A
 * handshake that fails, or a server that is rejected, ends in "err" 4
 * (the HTTP manual has no other code for either).  An http instance that
 * gets a 30x to an https URL follows it (the HTTP manual's note to 3.5):
 * with its <ssl_id>'s context if "ssl" gave one, else the default
 * configuration, which verifies nothing.
 *
 * Not emulated: the CTRL+Z input forms (AT+MHTTPHEADER=<id>,<eof> and the
 * like; the shared port ends a data phase on a byte count only) and
 * <local_path>/AT+MHTTPDLFILE (no file system) answer ERROR; client
 * certificates, "psk", "encoding", "ciphersuite", AT+MSSLKEYWR and the
 * other AT+MSSL commands (ERROR); "ignorestamp" 1 (dates are always
 * checked).  Accepted and shown, without effect: "cid", the <interval> of
 * "fragment", "version", "negotime", "session".
 */
#include "emu.h"

#include <ctype.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SLOTS 4
#define MAX_DATA 4096			/* <length> of HEADER, CONTENT, REQUEST */
#define MAX_CMD_HEADER 1024		/* a header inside the command (note 15;
					 * "header" of AT+MHTTPCFG: note 3) */
/* A model without a stated total still has finite memory: past this much
 * content (or headers) a request's input fails as out of memory (23). */
#define MEMORY_BOUND (8u * 1024 * 1024)
#define MAX_CACHE 8192			/* <cache_length> */
#define MAX_READ 65535			/* AT+MHTTPREAD <read_len> */
#define SEND_TIMEOUT_MS 60000
#define NO_LIMIT_MS UINT_MAX		/* a timeout of 0 s: never */
#define MS_PER_S 1000u
/* Past this much output waiting for the line, a request's link stops
 * reading from the origin, as the module's buffers would fill: memory
 * stays flat for any body. */
#define HIGH_WATER (256 * 1024)

/* How firmware versions differ: answers only, never behaviour.  The slot
 * count of MN316A/MN319 is a fact of the module the host must cope with. */
struct onemo_variant {
	const char *name;
	bool space;			/* "+MHTTPCREATE: 0" (2.2's note) rather
					 * than "+MHTTPCREATE:0" (chapter 4) */
	bool split_urc;			/* "+MHTTPURC:" alone on a line before
					 * "header"/"content" (the examples) */
	unsigned slots;			/* instances the module holds */
	size_t piece;			/* longest "content" piece */
	bool ind_crlf;			/* the "ind" URC ends its line */
	bool no_auth;			/* AT+MSSLCFG="auth" answers ERROR: the
					 * firmware cannot verify servers */
	bool no_sni;			/* AT+MSSLCFG="sni" answers ERROR and no
					 * SNI is ever sent (the switch is
					 * MR880A's only: SSL manual 3.1 note 3) */
};

static const struct onemo_variant variants[] = {
	{ .name = "manual", .space = true, .slots = 4, .piece = 1024,
	  .ind_crlf = true },
	{ .name = "split-urc", .space = true, .split_urc = true, .slots = 4,
	  .piece = 1024, .ind_crlf = true },
	{ .name = "nospace", .slots = 4, .piece = 1024, .ind_crlf = true },
	{ .name = "slots2", .space = true, .slots = 2, .piece = 1024,
	  .ind_crlf = true },
	{ .name = "frag512", .space = true, .slots = 4, .piece = 512,
	  .ind_crlf = true },
	{ .name = "ind-nocrlf", .space = true, .slots = 4, .piece = 1024 },
	{ .name = "noauth", .space = true, .slots = 4, .piece = 1024,
	  .ind_crlf = true, .no_auth = true },
	{ .name = "nosni", .space = true, .slots = 4, .piece = 1024,
	  .ind_crlf = true, .no_sni = true },
};

/* What a model holds (the manual's Table 1 and its notes): ML307G alone
 * has a total for a request's content (note 19: 3 x 4096 bytes) and its
 * specific headers (note 15: 4096 bytes); the other ML30x chain 4096-byte
 * pieces by <eof> 1 without one.  Only the ML30x are here: the MN31x/MN32x
 * have no '>' data mode, which this file emulates for every model.  The
 * first entry is the default (the limits this emulator always had). */
struct onemo_model {
	const char *name;		/* what AT+CGMM answers */
	size_t max_content;		/* 0: no total (MEMORY_BOUND) */
	size_t max_headers;		/* 0: no total (MEMORY_BOUND) */
};

static const struct onemo_model models[] = {
	{ "ML307G", 3 * 4096, 4096 },
	{ "ML307R", 0, 0 },
	{ "ML307A", 0, 0 },
	{ "ML307S", 0, 0 },
	{ "ML302A", 0, 0 },
	{ "ML302S", 0, 0 },
	{ "ML305A", 0, 0 },
	{ "ML305U", 0, 0 },
	{ "ML305M", 0, 0 },
};

static size_t total_of(size_t limit)
{
	return limit ? limit : MEMORY_BOUND;
}

/* Chapter 5. */
enum {
	CME_NOT_ALLOWED = 3,
	CME_NO_MEMORY = 23,
	CME_PARAM = 50,
	CME_NO_FREE = 651,
	CME_NOT_CREATED = 652,
	CME_BUSY = 653,
	CME_URL = 654,
	CME_NO_SSL = 655,
	/* The OneMO SSL user manual, 5.2. */
	CME_CERT_INVALID = 761,
	CME_CERT_MISSING = 762,
	CME_CERT_WRITE = 764,
	CME_CERT_TOO_BIG = 768,
};

/* <error_code> of the "err" URC. */
enum {
	ERR_DNS = 1,
	ERR_CONNECT = 2,
	ERR_CONNECT_TIMEOUT = 3,
	ERR_SSL = 4,
	ERR_CLOSED = 5,
	ERR_RSP_TIMEOUT = 6,
	ERR_PARSE = 7,
	ERR_NO_MEMORY = 8,
	ERR_UNKNOWN = 255,
};

static const char *const method_name[] = {
	[1] = "GET", [2] = "POST", [3] = "PUT", [4] = "DELETE", [5] = "HEAD",
};
enum { METHOD_HEAD = 5 };

/* ------------------------------------------------------------ state */

/* AT+MHTTPCFG's numeric settings, all unsigned long so that one table
 * describes them. */
struct inst_cfg {
	unsigned long chunked, cached, cache_len;
	unsigned long conn_s, rsp_s, input_s;
	unsigned long in_fmt, out_fmt;
	unsigned long ssl, ssl_id, ssl_id_set, cid;
	unsigned long frag, interval;
	unsigned long urlencode;
};

static const struct inst_cfg default_cfg = {
	.cache_len = 4096, .conn_s = 60, .rsp_s = 0, .input_s = 10,
};

/* A request's own headers or content: empty, open (the last input had
 * eof 1: more follows) or closed (eof 0: nothing more until the request
 * succeeds or eof 2 clears it). */
struct input {
	struct emu_buf bytes;
	bool open, closed;
};

enum req_state {
	REQ_IDLE,
	REQ_OPENING,			/* connecting; the request waits */
	REQ_CHUNKS,			/* chunked mode: "ind" given, the host
					 * sends content */
	REQ_RESPONSE,			/* all sent (or on its way); the
					 * response is due */
};

struct onemo;

struct instance {
	struct onemo *o;
	unsigned id;
	bool alive;
	struct emu_url url;		/* from AT+MHTTPCREATE */
	struct inst_cfg cfg;
	struct emu_buf common;		/* "header": "Name: value\r\n"... */
	struct input headers;		/* "Name: value\r\n"... */
	struct input content;

	/* the request in progress */
	enum req_state state;
	struct emu_link *link;
	struct emu_buf pending;		/* sent once connected */
	struct emu_fetch *f;		/* filled by the parser */
	struct emu_resp *parser;
	bool header_seen;
	bool redirected;		/* the module followed a redirect */
	uint64_t body_total;		/* body bytes received */
	uint64_t sum;			/* body bytes reported */
	struct emu_buf piece;		/* received, short of a whole piece */
	struct emu_buf urcs;		/* reports of one link event: one
					 * piece of output, not one each */
	bool paused;			/* the link reads no more for now */

	/* cached mode: the last response until AT+MHTTPREAD takes it */
	struct emu_buf cache[2];	/* <type> 0 header, 1 content */
	size_t cache_off[2];
};

/* What the bytes of the data phase in progress are for. */
enum data_kind { DATA_HEADER, DATA_CONTENT, DATA_PATH, DATA_CERT };

/* An SSL context (the SSL user manual, 3.1), with the manual's defaults
 * where zero is not one. */
#define SSL_CTXS 6			/* <ssl_id> 0-5 */
#define CERT_NAME_MAX 64
#define CERT_MAX 8192			/* 3.2: one certificate at most 8K */
#define CERT_FILES 8
struct ssl_ctx {
	unsigned long auth;		/* <cert_verify>: 0 none, 1 server, 2 both */
	unsigned long ignorestamp;	/* 1 */
	unsigned long ignoreverify;	/* 0 */
	unsigned long sni;		/* 0 */
	unsigned long version;		/* 255 */
	unsigned long negotime;		/* 300 */
	unsigned long session;		/* 1 */
	char cert[CERT_NAME_MAX + 1];	/* <srv_cert>, "" none */
};

static const struct ssl_ctx default_ssl = {
	.ignorestamp = 1, .version = 255, .negotime = 300, .session = 1,
};

/* A file AT+MSSLCERTWR wrote. */
struct cert_file {
	char name[CERT_NAME_MAX + 1];	/* "" free */
	struct emu_buf pem;
};

struct onemo {
	struct emu *emu;
	const struct emu_config *cfg;
	const struct onemo_variant *v;
	const struct onemo_model *model;
	bool cmee;			/* AT+CMEE=1 */
	struct instance inst[MAX_SLOTS];
	struct ssl_ctx ssl[SSL_CTXS];
	struct cert_file certs[CERT_FILES];
	/* an AT+MSSLCERTWR in pieces: what came, and how much is still due */
	char cert_name[CERT_NAME_MAX + 1];
	struct emu_buf cert_part;
	unsigned long cert_remain;

	enum data_kind data_kind;
	struct instance *data_inst;
	unsigned long data_eof, data_method;
};

/* ------------------------------------------------------------ output */

static void cme(struct onemo *o, int code)
{
	if (o->cmee)
		emu_sendf(o->emu, EMU_MARK_DONE, "\r\n+CME ERROR: %d\r\n", code);
	else
		emu_error(o->emu);
}

/* "+NAME: " as the firmware spells it. */
static void prefix(const struct onemo *o, struct emu_buf *b, const char *name)
{
	emu_buf_addf(b, "+%s:%s", name, o->v->space ? " " : "");
}

/* "+MHTTPURC: " before "header" and "content", maybe on a line of its own. */
static void data_urc_prefix(const struct onemo *o, struct emu_buf *b)
{
	if (o->v->split_urc)
		emu_buf_add(b, "+MHTTPURC:\r\n", 12);
	else
		prefix(o, b, "MHTTPURC");
}

/* <data> in the instance's <output_format>.  The lengths before it stay
 * counts of the bytes received, hex or not (the manual does not say
 * otherwise). */
static void add_output(const struct instance *in, struct emu_buf *b,
		       const char *p, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!in->cfg.out_fmt) {
		emu_buf_add(b, p, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char two[2] = { hex[(unsigned char)p[i] >> 4],
				hex[(unsigned char)p[i] & 15] };

		emu_buf_add(b, two, 2);
	}
}

static void send_buf(struct onemo *o, enum emu_mark mark, struct emu_buf *b)
{
	emu_send(o->emu, mark, b->data, b->len);
	emu_buf_free(b);
}

/* "\r\n+NAME: <text>\r\n\r\nOK\r\n" */
static void info_ok(struct onemo *o, const char *name, const char *fmt, ...)
	EMU_PRINTF(3, 4);
static void info_ok(struct onemo *o, const char *name, const char *fmt, ...)
{
	struct emu_buf b = { 0 };
	va_list ap;

	emu_buf_add(&b, "\r\n", 2);
	prefix(o, &b, name);
	va_start(ap, fmt);
	emu_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	emu_buf_add(&b, "\r\n", 2);
	send_buf(o, EMU_MARK_NONE, &b);
	emu_ok(o->emu);
}

/* ------------------------------------------------------------ fields */

static bool is_tchar(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* "Name: value": a token, a colon, then visible bytes, blanks and
 * obs-text; no CR, LF or other control byte. */
static bool valid_field(const char *p, size_t n)
{
	size_t i = 0;

	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return false;
	for (i++; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return false;
	}
	return true;
}

static size_t name_len(const char *f, size_t n)
{
	const char *colon = memchr(f, ':', n);

	return colon ? (size_t)(colon - f) : n;
}

/* The next field of a block of CRLF-terminated fields. */
static bool next_field(const struct emu_buf *b, size_t *pos, const char **f,
		       size_t *n)
{
	const char *start, *eol;

	if (*pos >= b->len)
		return false;
	start = b->data + *pos;
	eol = memmem(start, b->len - *pos, "\r\n", 2);
	*f = start;
	*n = (size_t)(eol - start);
	*pos += *n + 2;
	return true;
}

static bool block_has(const struct emu_buf *b, const char *name, size_t nlen)
{
	const char *f;
	size_t n, pos = 0;

	while (next_field(b, &pos, &f, &n))
		if (name_len(f, n) == nlen && !strncasecmp(f, name, nlen))
			return true;
	return false;
}

/* Adds the field to the common headers, in place of one of the same name. */
static void set_common(struct instance *in, const char *p, size_t n)
{
	struct emu_buf out = { 0 };
	size_t nlen = name_len(p, n), pos = 0, fn;
	const char *f;
	bool done = false;

	while (next_field(&in->common, &pos, &f, &fn)) {
		if (name_len(f, fn) == nlen && !strncasecmp(f, p, nlen)) {
			f = p;
			fn = n;
			done = true;
		}
		emu_buf_add(&out, f, fn);
		emu_buf_add(&out, "\r\n", 2);
	}
	if (!done) {
		emu_buf_add(&out, p, n);
		emu_buf_add(&out, "\r\n", 2);
	}
	emu_buf_free(&in->common);
	in->common = out;
}

/* ------------------------------------------------------------ input */

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A string parameter in the instance's <input_format>: 0 as is (no
 * backslash), 1 hex, 2 with the escapes \\ and \" (the chapter 4 example:
 * \\r is a backslash and an r).  false: not well-formed. */
static bool decode_arg(const struct instance *in, const struct emu_arg *a,
		       struct emu_buf *out)
{
	const char *s = a->str;

	switch (in->cfg.in_fmt) {
	case 0:
		if (memchr(s, '\\', a->len))
			return false;
		emu_buf_add(out, s, a->len);
		return true;
	case 1:
		if (a->len % 2)
			return false;
		for (size_t i = 0; i < a->len; i += 2) {
			int hi = hex_digit((unsigned char)s[i]);
			int lo = hex_digit((unsigned char)s[i + 1]);
			char c = (char)(hi * 16 + lo);

			if (hi < 0 || lo < 0)
				return false;
			emu_buf_add(out, &c, 1);
		}
		return true;
	default:
		for (size_t i = 0; i < a->len; i++) {
			if (s[i] == '\\') {
				if (++i == a->len ||
				    (s[i] != '\\' && s[i] != '"'))
					return false;
			}
			emu_buf_add(out, &s[i], 1);
		}
		return true;
	}
}

/* A <length> above 0 must be what the command holds: the string as typed,
 * or half its hex digits (note 15). */
static bool length_matches(const struct instance *in, unsigned long length,
			   const struct emu_arg *a)
{
	return length == 0 ||
	       a->len == (in->cfg.in_fmt == 1 ? 2 * length : length);
}

static void urlencode(const char *p, size_t n, struct emu_buf *out)
{
	static const char keep[] = "-_.!~*'();/?:@&=+$,#";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c < 0x80 && isalnum(c)) || (c && strchr(keep, c)))
			emu_buf_add(out, &p[i], 1);
		else
			emu_buf_addf(out, "%%%02X", c);
	}
}

/* The request target of a <path> ("urlencode" applied): an absolute path,
 * nothing that would break the request line.  false: no such target. */
static bool request_target(const struct instance *in, const struct emu_buf *path,
			   struct emu_buf *target)
{
	if (in->cfg.urlencode)
		urlencode(path->data, path->len, target);
	else
		emu_buf_add(target, path->data, path->len);
	if (target->len == 0 || target->data[0] != '/')
		return false;
	for (size_t i = 0; i < target->len; i++)
		if ((unsigned char)target->data[i] <= 0x20 ||
		    (unsigned char)target->data[i] >= 0x7f)
			return false;
	return true;
}

static void input_clear(struct input *i)
{
	emu_buf_free(&i->bytes);
	i->open = i->closed = false;
}

static void input_mark(struct input *i, unsigned long eof)
{
	i->open = eof == 1;
	i->closed = eof == 0;
}

/* ------------------------------------------------------------ requests */

static void drop_cache(struct instance *in)
{
	for (int t = 0; t < 2; t++) {
		emu_buf_free(&in->cache[t]);
		in->cache_off[t] = 0;
	}
}

/* Forgets the request in progress.  In normal mode the headers and content
 * stay: a request that did not succeed keeps them (AT+MHTTPTERM's
 * description); only success or eof 2 clears them. */
static void end_request(struct instance *in)
{
	emu_link_close(in->link);
	in->link = NULL;
	if (in->parser)
		emu_resp_free(in->parser);
	in->parser = NULL;
	emu_fetch_free(in->f);
	in->f = NULL;
	emu_buf_free(&in->pending);
	emu_buf_free(&in->piece);
	in->header_seen = false;
	in->redirected = false;
	in->paused = false;
	in->body_total = in->sum = 0;
	in->state = REQ_IDLE;
	/* Chunked content went out as it came: nothing of it is kept for
	 * a next request (and eof 2 cannot clear it in chunked mode). */
	if (in->cfg.chunked)
		input_clear(&in->content);
}

/* ------------------------------------------------------------ TLS */

static const struct cert_file *cert_find(const struct onemo *o,
					 const char *name)
{
	for (size_t i = 0; i < CERT_FILES; i++)
		if (o->certs[i].name[0] && !strcmp(o->certs[i].name, name))
			return &o->certs[i];
	return NULL;
}

/* The TLS an https connection does with context c: verification when
 * "auth" asks for it and "ignoreverify" does not undo it, against the
 * roots of its "cert" file (none loaded: nothing passes); SNI as "sni"
 * says.  Not emulated: "ignorestamp" 1 (the manual's default) - the
 * dates are always checked, which is stricter than the module. */
static bool apply_tls(const struct onemo *o, struct emu_url *u,
		      const struct ssl_ctx *c)
{
	const struct cert_file *cf = c->cert[0] ? cert_find(o, c->cert) : NULL;
	bool verify = c->auth >= 1 && !c->ignoreverify;

	emu_url_set_tls(u, verify, !o->v->no_sni && c->sni,
			cf ? cf->pem.data : NULL, cf ? cf->pem.len : 0);
	/* Verification with no roots: no server can pass (mbedTLS refuses
	 * for want of a CA chain, as a module's library would); said here
	 * too, so the answer does not hang on the library. */
	return !verify || cf;
}

static void emit_piece(struct instance *in, const char *p, size_t n);

/* Ends the request with "err"; the body bytes that came are told first,
 * as a module that passes on what it received would have. */
static void fail_request(struct instance *in, int code)
{
	struct emu_buf *b = &in->urcs;

	if (in->piece.len)
		emit_piece(in, in->piece.data, in->piece.len);
	emu_buf_add(b, "\r\n", 2);
	prefix(in->o, b, "MHTTPURC");
	emu_buf_addf(b, "\"err\",%u,%d\r\n", in->id, code);
	end_request(in);
}

static size_t body_limit(const struct instance *in)
{
	return in->cfg.cached ? in->cfg.cache_len : in->o->cfg->max_body;
}

static void emit_piece(struct instance *in, const char *p, size_t n)
{
	const struct emu_fetch *f = in->f;
	struct emu_buf *b = &in->urcs;

	in->sum += n;
	emu_buf_add(b, "\r\n", 2);
	data_urc_prefix(in->o, b);
	emu_buf_addf(b, "\"content\",%u,%llu,%llu,%zu,", in->id,
		     (unsigned long long)(f->has_length ? f->content_length : 0),
		     (unsigned long long)in->sum, n);
	add_output(in, b, p, n);
	emu_buf_add(b, "\r\n", 2);
}

/* The header block as the URC carries it: without its blank line. */
static size_t header_len(const struct emu_buf *h)
{
	if (h->len >= 2 && !memcmp(h->data + h->len - 2, "\n\n", 2))
		return h->len - 1;
	if (h->len >= 4 && !memcmp(h->data + h->len - 4, "\r\n\r\n", 4))
		return h->len - 2;
	return h->len;
}

/* The status line and headers are in.  false: the request failed. */
static bool header_arrived(struct instance *in)
{
	struct emu_fetch *f = in->f;
	size_t n = header_len(&f->header);
	struct emu_buf *b = &in->urcs;

	/* A body the module could not hold fails before it is reported
	 * (ML307G, note 27), like one over --max-body. */
	if (f->has_length && f->content_length > body_limit(in)) {
		fail_request(in, ERR_NO_MEMORY);
		return false;
	}
	if (in->cfg.cached) {
		emu_buf_add(&in->cache[0], f->header.data, n);
		return true;
	}
	emu_buf_add(b, "\r\n", 2);
	data_urc_prefix(in->o, b);
	emu_buf_addf(b, "\"header\",%u,%d,%zu,", in->id, f->http_status, n);
	add_output(in, b, f->header.data, n);
	emu_buf_add(b, "\r\n", 2);
	return true;
}

/* Body bytes, as whole pieces; the rest waits for more or the end, so the
 * pieces are the same however the origin's bytes were cut.  false: the
 * body is more than the module holds. */
static bool body_arrived(struct instance *in, const char *p, size_t n)
{
	size_t piece = in->cfg.frag ? in->cfg.frag : in->o->v->piece;
	size_t limit = body_limit(in);

	if (n > limit || in->body_total > limit - n)
		return false;
	in->body_total += n;
	if (in->cfg.cached) {
		emu_buf_add(&in->cache[1], p, n);
		return true;
	}
	if (in->piece.len) {
		size_t k = piece - in->piece.len < n ? piece - in->piece.len : n;

		emu_buf_add(&in->piece, p, k);
		p += k;
		n -= k;
		if (in->piece.len < piece)
			return true;
		emit_piece(in, in->piece.data, in->piece.len);
		in->piece.len = 0;
	}
	for (; n >= piece; p += piece, n -= piece)
		emit_piece(in, p, piece);
	emu_buf_add(&in->piece, p, n);
	return true;
}

static bool has_body(const struct emu_fetch *f)
{
	int s = f->http_status;

	return !f->head_only && s / 100 != 1 && s != 204 && s != 304;
}

/* The response is complete: the last piece, the end mark of a body
 * without Content-Length, or the cached mode's "recv". */
static void finish_request(struct instance *in)
{
	struct emu_fetch *f = in->f;
	struct emu_buf *b = &in->urcs;

	if (in->cfg.cached) {
		emu_buf_add(b, "\r\n", 2);
		prefix(in->o, b, "MHTTPURC");
		emu_buf_addf(b, "\"recv\",%u,%d,%zu,%zu\r\n", in->id,
			     f->http_status, in->cache[0].len,
			     in->cache[1].len);
	} else {
		if (in->piece.len)
			emit_piece(in, in->piece.data, in->piece.len);
		if (has_body(f) && !f->has_length)
			emit_piece(in, "", 0);
	}
	end_request(in);
	/* "单次请求有效，请求结束后自动清空" */
	input_clear(&in->headers);
	input_clear(&in->content);
}

static int failure_code(enum emu_fetch_status st)
{
	switch (st) {
	case EMU_FETCH_NOT_HTTP:
		return ERR_PARSE;
	case EMU_FETCH_TOO_BIG:
		return ERR_NO_MEMORY;
	case EMU_FETCH_CLOSED:
		return ERR_CLOSED;
	case EMU_FETCH_TIMEOUT:
		return ERR_RSP_TIMEOUT;
	default:
		return ERR_UNKNOWN;
	}
}

static void on_link(void *ctx, enum emu_link_event ev,
		    enum emu_fetch_status st, const char *p, size_t n);
static unsigned seconds_ms(unsigned long s);
static void add_field(struct emu_buf *r, const char *f, size_t n);

/* The value of the response header name, or NULL. */
static char *response_field(const struct emu_buf *h, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = memchr(h->data, '\n', h->len);

	while (p && (size_t)(p + 1 - h->data) < h->len) {
		const char *line = p + 1, *end;
		size_t left = h->len - (size_t)(line - h->data);

		end = memchr(line, '\n', left);
		if (!end)
			end = h->data + h->len;
		if ((size_t)(end - line) > nlen && line[nlen] == ':' &&
		    !strncasecmp(line, name, nlen)) {
			const char *v = line + nlen + 1, *e = end;

			while (v < e && (*v == ' ' || *v == '\t'))
				v++;
			while (e > v && (e[-1] == '\r' || e[-1] == ' '))
				e--;
			return emu_strndup(v, (size_t)(e - v));
		}
		p = end < h->data + h->len ? end : NULL;
	}
	return NULL;
}

/*
 * The HTTP manual's note to 3.5: "HTTP重定向到HTTPS，若未使能SSL（未配置
 * <ssl_enable>和<ssl_id>参数），模组将默认使能SSL，并采用默认配置进行连接".
 * An http instance's 30x to an https URL is followed by the module itself:
 * with the context of the instance's <ssl_id> when one was configured,
 * else with the default configuration - no verification at all.  The
 * request is sent again as a GET (a HEAD stays one), without the content.
 * Only http to https is followed, as the note says; one hop.  true: the
 * request now goes on to the new URL.
 */
static bool follow_redirect(struct instance *in)
{
	struct emu_fetch *f = in->f;
	int st = f->http_status;
	char *loc;
	struct emu_url u;
	struct emu_buf req = { 0 };
	size_t pos = 0, n;
	const char *fl;
	bool head = f->head_only;

	if (in->url.tls || in->redirected ||
	    (st != 301 && st != 302 && st != 303 && st != 307 && st != 308))
		return false;
	loc = response_field(&f->header, "Location");
	if (!loc || strncasecmp(loc, "https://", 8) || emu_url_parse(loc, &u) < 0) {
		free(loc);
		return false;
	}
	free(loc);
	if (!apply_tls(in->o, &u, in->cfg.ssl_id_set ? &in->o->ssl[in->cfg.ssl_id]
						     : &default_ssl)) {
		emu_url_free(&u);
		fail_request(in, ERR_SSL);
		return true;
	}
	emu_buf_addf(&req, "%s %s HTTP/1.1\r\nHost: %s\r\n",
		     head ? "HEAD" : "GET", u.target, u.authority);
	while (next_field(&in->common, &pos, &fl, &n))
		if (!(name_len(fl, n) == 4 && !strncasecmp(fl, "Host", 4)))
			add_field(&req, fl, n);
	emu_buf_add(&req, "Content-Length: 0\r\n\r\n", 21);

	emu_link_close(in->link);
	emu_resp_free(in->parser);
	emu_fetch_free(in->f);
	emu_buf_free(&in->pending);
	in->pending = req;
	in->f = emu_calloc(1, sizeof(*in->f));
	in->f->head_only = head;
	in->parser = emu_resp_new(in->f, SIZE_MAX);
	in->header_seen = false;
	in->redirected = true;
	in->state = REQ_OPENING;
	in->link = emu_link_open(emu_jobs(in->o->emu), &u,
				 seconds_ms(in->cfg.conn_s), on_link, in);
	emu_url_free(&u);
	return true;
}

/* Origin bytes (n == 0: it closed). */
static void feed(struct instance *in, const char *p, size_t n)
{
	enum emu_fetch_status st = emu_resp_feed(in->parser, p, n);
	struct emu_buf *body = &in->f->body;

	if (!in->header_seen && in->f->http_status) {
		in->header_seen = true;
		if (follow_redirect(in))
			return;
		if (!header_arrived(in))
			return;
	}
	if (body->len) {
		bool ok = body_arrived(in, body->data, body->len);

		body->len = 0;		/* taken: the buffer is reused */
		body->data[0] = '\0';
		if (!ok) {
			fail_request(in, ERR_NO_MEMORY);
			return;
		}
	}
	if (st != EMU_FETCH_OK)
		fail_request(in, failure_code(st));
	else if (emu_resp_complete(in->parser))
		finish_request(in);
}

/* <rsp_timeout>: the longest the origin may keep silent once the request
 * is out. */
static void arm_response_timeout(struct instance *in)
{
	if (in->cfg.rsp_s)
		emu_link_deadline(in->link, (unsigned)in->cfg.rsp_s * MS_PER_S);
}

static void indicate(struct instance *in)
{
	struct emu_buf *b = &in->urcs;

	emu_buf_add(b, "\r\n", 2);
	prefix(in->o, b, "MHTTPURC");
	emu_buf_addf(b, "\"ind\",%u", in->id);
	if (in->o->v->ind_crlf)
		emu_buf_add(b, "\r\n", 2);
}

static void link_event(struct instance *in, enum emu_link_event ev,
		       enum emu_fetch_status st, const char *p, size_t n)
{
	switch (ev) {
	case EMU_LINK_CONNECTED:
		switch (st) {
		case EMU_FETCH_OK:
			break;
		case EMU_FETCH_DNS:
			fail_request(in, ERR_DNS);
			return;
		case EMU_FETCH_CONNECT:
			fail_request(in, ERR_CONNECT);
			return;
		case EMU_FETCH_TIMEOUT:
			fail_request(in, ERR_CONNECT_TIMEOUT);
			return;
		case EMU_FETCH_TLS:
		case EMU_FETCH_TLS_VERIFY:
			/* The HTTP manual has one code for both: "SSL握手失败" */
			fail_request(in, ERR_SSL);
			return;
		default:
			fail_request(in, ERR_UNKNOWN);
			return;
		}
		emu_link_send(in->link, in->pending.data, in->pending.len,
			      SEND_TIMEOUT_MS);
		emu_buf_free(&in->pending);
		if (!in->cfg.chunked)
			in->state = REQ_RESPONSE;
		break;
	case EMU_LINK_SENT:
		if (st != EMU_FETCH_OK) {
			fail_request(in, ERR_CLOSED);
		} else if (in->state == REQ_OPENING) {
			/* chunked mode: the head is out, content may come */
			in->state = REQ_CHUNKS;
			indicate(in);
		} else if (in->state == REQ_RESPONSE) {
			arm_response_timeout(in);
		}
		break;
	case EMU_LINK_DATA:
		if (in->state == REQ_RESPONSE)
			arm_response_timeout(in);
		feed(in, p, n);
		break;
	case EMU_LINK_CLOSED:
		if (st == EMU_FETCH_OK)
			feed(in, NULL, 0);
		else
			fail_request(in, st == EMU_FETCH_TIMEOUT ?
					 ERR_RSP_TIMEOUT : ERR_CLOSED);
		break;
	}
}

/* What one link event reports leaves as one piece of output. */
static void on_link(void *ctx, enum emu_link_event ev,
		    enum emu_fetch_status st, const char *p, size_t n)
{
	struct instance *in = ctx;

	link_event(in, ev, st, p, n);
	if (in->urcs.len)
		send_buf(in->o, EMU_MARK_NONE, &in->urcs);
	if (in->link && !in->paused && emu_queued(in->o->emu) > HIGH_WATER) {
		in->paused = true;
		emu_link_pause(in->link, true);
	}
}

static void add_field(struct emu_buf *r, const char *f, size_t n)
{
	emu_buf_add(r, f, n);
	emu_buf_add(r, "\r\n", 2);
}

/*
 * The request as the module writes it: the request line, Host, the common
 * headers (each replaced by the request's own headers of the same name),
 * the request's other headers, then Content-Length (Transfer-Encoding in
 * chunked mode) and the content.  A header of the host's own named like
 * one of the module's (Host, Content-Length) replaces that one too.
 */
static void build_request(struct instance *in, unsigned long method,
			  const struct emu_buf *path, struct emu_buf *r)
{
	const struct emu_buf *common = &in->common, *own = &in->headers.bytes;
	const char *f, *g;
	size_t n, m, pos = 0, pos2;

#define USER_HAS(name) (block_has(common, name, strlen(name)) || \
			block_has(own, name, strlen(name)))
	emu_buf_addf(r, "%s %.*s HTTP/1.1\r\n", method_name[method],
		     (int)path->len, path->data);
	if (!USER_HAS("Host"))
		emu_buf_addf(r, "Host: %s\r\n", in->url.authority);
	while (next_field(common, &pos, &f, &n)) {
		size_t nl = name_len(f, n);

		if (!block_has(own, f, nl)) {
			add_field(r, f, n);
			continue;
		}
		for (pos2 = 0; next_field(own, &pos2, &g, &m);)
			if (name_len(g, m) == nl && !strncasecmp(g, f, nl))
				add_field(r, g, m);
	}
	for (pos = 0; next_field(own, &pos, &f, &n);)
		if (!block_has(common, f, name_len(f, n)))
			add_field(r, f, n);
	if (in->cfg.chunked) {
		if (!USER_HAS("Transfer-Encoding"))
			emu_buf_addf(r, "Transfer-Encoding: chunked\r\n");
	} else if (!USER_HAS("Content-Length")) {
		emu_buf_addf(r, "Content-Length: %zu\r\n",
			     in->content.bytes.len);
	}
#undef USER_HAS
	emu_buf_add(r, "\r\n", 2);
	if (!in->cfg.chunked)
		emu_buf_add(r, in->content.bytes.data, in->content.bytes.len);
}

static unsigned seconds_ms(unsigned long s)
{
	return s ? (unsigned)s * MS_PER_S : NO_LIMIT_MS;
}

/* Answers OK and sends the request. */
static void start_request(struct instance *in, unsigned long method,
			  const struct emu_buf *target)
{
	drop_cache(in);
	build_request(in, method, target, &in->pending);
	in->f = emu_calloc(1, sizeof(*in->f));
	in->f->head_only = method == METHOD_HEAD;
	in->parser = emu_resp_new(in->f, SIZE_MAX);
	in->state = REQ_OPENING;
	emu_ok(in->o->emu);
	if (in->url.tls && !apply_tls(in->o, &in->url, &in->o->ssl[in->cfg.ssl_id])) {
		fail_request(in, ERR_SSL);
		send_buf(in->o, EMU_MARK_NONE, &in->urcs);
		return;
	}
	in->link = emu_link_open(emu_jobs(in->o->emu), &in->url,
				 seconds_ms(in->cfg.conn_s), on_link, in);
}

/* ------------------------------------------------------------ instances */

static void instance_reset(struct instance *in)
{
	end_request(in);
	drop_cache(in);
	input_clear(&in->headers);
	input_clear(&in->content);
	emu_buf_free(&in->urcs);
	emu_buf_free(&in->common);
	emu_url_free(&in->url);
	in->cfg = default_cfg;
	in->alive = false;
}

/* "http://host[:port]" with nothing after but an optional "/" (the
 * manual's chunked example); https too (it needs "ssl"). */
static bool host_url(const struct emu_arg *a, struct emu_url *u)
{
	const char *rest;
	size_t alen;

	if (emu_url_parse(a->str, u) < 0)
		return false;
	rest = strstr(a->str, "://") + 3;
	alen = strlen(u->authority);
	if (strncmp(rest, u->authority, alen) ||
	    (rest[alen] && strcmp(rest + alen, "/"))) {
		emu_url_free(u);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------ commands */

static bool arg_is(const struct emu_cmd *c, size_t i, enum emu_arg_kind k)
{
	return i < c->argc && c->argv[i].kind == k;
}

/* Argument i is a number no more than max. */
static bool num_arg(const struct emu_cmd *c, size_t i, unsigned long max)
{
	return arg_is(c, i, EMU_ARG_NUMBER) && c->argv[i].num <= max;
}

/* Argument i is an <httpid> the module has (not necessarily created). */
static bool id_arg(const struct onemo *o, const struct emu_cmd *c, size_t i)
{
	return num_arg(c, i, o->v->slots - 1);
}

/* The instance of a valid <httpid> argument, if it was created; else
 * answers 652 and gives NULL. */
static struct instance *created(struct onemo *o, const struct emu_cmd *c,
				size_t i)
{
	struct instance *in = &o->inst[c->argv[i].num];

	if (!in->alive) {
		cme(o, CME_NOT_CREATED);
		return NULL;
	}
	return in;
}


static void cmee(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;

	if (c->form == EMU_FORM_TEST) {
		emu_sendf(o->emu, EMU_MARK_NONE, "\r\n+CMEE: (0,1)\r\n");
		emu_ok(o->emu);
	} else if (c->form == EMU_FORM_READ) {
		emu_sendf(o->emu, EMU_MARK_NONE, "\r\n+CMEE: %d\r\n", o->cmee);
		emu_ok(o->emu);
	} else if (c->argc == 1 && num_arg(c, 0, 1)) {
		o->cmee = c->argv[0].num == 1;
		emu_ok(o->emu);
	} else {
		cme(o, CME_PARAM);
	}
}

static void ids_range(const struct onemo *o, struct emu_buf *b)
{
	emu_buf_addf(b, "(0-%u)", o->v->slots - 1);
}

static void http_create(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;
	struct emu_url u;
	unsigned i;

	if (c->form == EMU_FORM_TEST) {
		emu_ok(o->emu);
		return;
	}
	if (c->argc != 1 || !arg_is(c, 0, EMU_ARG_STRING)) {
		cme(o, CME_PARAM);
		return;
	}
	if (!emu_net_ready(o->emu)) { cme(o, 30); return; }	/* 27.007: no network service */
	if (!host_url(&c->argv[0], &u)) {
		cme(o, CME_URL);
		return;
	}
	for (i = 0; i < o->v->slots && o->inst[i].alive; i++)
		;
	if (i == o->v->slots) {
		emu_url_free(&u);
		cme(o, CME_NO_FREE);
		return;
	}
	instance_reset(&o->inst[i]);
	o->inst[i].url = u;
	o->inst[i].alive = true;
	info_ok(o, "MHTTPCREATE", "%u", i);
}

static void http_del(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;
	struct instance *in;

	if (c->form == EMU_FORM_TEST) {
		struct emu_buf b = { 0 };

		ids_range(o, &b);
		info_ok(o, "MHTTPDEL", "%s", b.data);
		emu_buf_free(&b);
		return;
	}
	if (c->argc != 1 || !id_arg(o, c, 0)) {
		cme(o, CME_PARAM);
		return;
	}
	if (!(in = created(o, c, 0)))
		return;
	if (in->state != REQ_IDLE) {
		cme(o, CME_BUSY);	/* AT+MHTTPTERM first */
		return;
	}
	instance_reset(in);
	emu_ok(o->emu);
}

static void http_term(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;
	struct instance *in;

	if (c->form == EMU_FORM_TEST) {
		struct emu_buf b = { 0 };

		ids_range(o, &b);
		info_ok(o, "MHTTPTERM", "%s", b.data);
		emu_buf_free(&b);
		return;
	}
	if (c->form == EMU_FORM_EXEC) {
		/* "执行命令终止所有连接" */
		for (unsigned i = 0; i < o->v->slots; i++)
			end_request(&o->inst[i]);
		emu_ok(o->emu);
		return;
	}
	if (c->argc != 1 || !id_arg(o, c, 0)) {
		cme(o, CME_PARAM);
		return;
	}
	if (!(in = created(o, c, 0)))
		return;
	/* The request's headers and content stay (the description). */
	end_request(in);
	emu_ok(o->emu);
}

/* ---------------------------------------------------- AT+MHTTPCFG */

enum {
	C_HEADER, C_CHUNKED, C_CACHED, C_TIMEOUT, C_ENCODING, C_SSL, C_CID,
	C_FRAGMENT, C_URLENCODE, C_N
};

struct cfg_value {
	unsigned long min, max;
	size_t off;			/* in struct inst_cfg */
};

static const struct cfg_item {
	const char *name;
	size_t nmin, nmax;		/* values after <httpid> */
	bool partial;			/* "部分设置": a value may be left out */
	struct cfg_value v[3];
} items[C_N] = {
#define V(lo, hi, field) { lo, hi, offsetof(struct inst_cfg, field) }
	[C_HEADER] = { "header", 1, 1, false, { { 0 } } },
	[C_CHUNKED] = { "chunked", 1, 1, false, { V(0, 1, chunked) } },
	[C_CACHED] = { "cached", 1, 2, false,
		       { V(0, 1, cached), V(1, MAX_CACHE, cache_len) } },
	[C_TIMEOUT] = { "timeout", 1, 3, true,
			{ V(0, 180, conn_s), V(0, 60, rsp_s),
			  V(0, 180, input_s) } },
	[C_ENCODING] = { "encoding", 1, 2, true,
			 { V(0, 2, in_fmt), V(0, 1, out_fmt) } },
	[C_SSL] = { "ssl", 1, 2, true, { V(0, 1, ssl), V(0, 5, ssl_id) } },
	[C_CID] = { "cid", 1, 1, false, { V(1, 15, cid) } },
	[C_FRAGMENT] = { "fragment", 1, 2, true,
			 { V(0, 1024, frag), V(0, 2000, interval) } },
	[C_URLENCODE] = { "urlencode", 1, 1, false, { V(0, 1, urlencode) } },
#undef V
};

static unsigned long *cfg_field(struct inst_cfg *cfg, size_t off)
{
	return (unsigned long *)(void *)((char *)cfg + off);
}

/* One "+MHTTPCFG: ..." line of an answer. */
static void cfg_line(const struct onemo *o, struct emu_buf *b,
		     const struct instance *in, int item)
{
	const struct inst_cfg *k = &in->cfg;

	prefix(o, b, "MHTTPCFG");
	emu_buf_addf(b, "\"%s\",%u", items[item].name, in->id);
	switch (item) {
	case C_HEADER:
		if (in->common.len) {
			/* the fields end with their CRLF */
			emu_buf_addf(b, ",%zu,", in->common.len);
			emu_buf_add(b, in->common.data, in->common.len);
			return;
		}
		break;
	case C_CHUNKED:
		emu_buf_addf(b, ",%lu", k->chunked);
		break;
	case C_CACHED:
		emu_buf_addf(b, ",%lu", k->cached);
		if (k->cached)		/* note 4 */
			emu_buf_addf(b, ",%lu", k->cache_len);
		break;
	case C_TIMEOUT:
		emu_buf_addf(b, ",%lu,%lu,%lu", k->conn_s, k->rsp_s,
			     k->input_s);
		break;
	case C_ENCODING:
		emu_buf_addf(b, ",%lu,%lu", k->in_fmt, k->out_fmt);
		break;
	case C_SSL:
		emu_buf_addf(b, ",%lu", k->ssl);
		if (k->ssl || k->ssl_id_set)
			emu_buf_addf(b, ",%lu", k->ssl_id);
		break;
	case C_CID:
		if (k->cid)
			emu_buf_addf(b, ",%lu", k->cid);
		break;
	case C_FRAGMENT:
		emu_buf_addf(b, ",%lu,%lu", k->frag, k->interval);
		break;
	case C_URLENCODE:
		emu_buf_addf(b, ",%lu", k->urlencode);
		break;
	}
	emu_buf_add(b, "\r\n", 2);
}

/* Every created instance's lines of item (all items: item < 0). */
static void cfg_query(struct onemo *o, const struct instance *only, int item)
{
	struct emu_buf b = { 0 };

	emu_buf_add(&b, "\r\n", 2);
	for (unsigned i = 0; i < o->v->slots; i++) {
		const struct instance *in = &o->inst[i];

		if (!in->alive || (only && in != only))
			continue;
		for (int k = 0; k < C_N; k++)
			if (item < 0 || item == k)
				cfg_line(o, &b, in, k);
	}
	if (b.len == 2)
		b.len = 0;		/* nothing to show: just OK */
	send_buf(o, EMU_MARK_NONE, &b);
	emu_ok(o->emu);
}

static void cfg_header(struct onemo *o, struct instance *in,
		       const struct emu_cmd *c)
{
	struct emu_buf field = { 0 };

	if (c->argc != 3 || !arg_is(c, 2, EMU_ARG_STRING) ||
	    !decode_arg(in, &c->argv[2], &field) || field.len == 0 ||
	    field.len > MAX_CMD_HEADER || !valid_field(field.data, field.len)) {
		emu_buf_free(&field);
		cme(o, CME_PARAM);
		return;
	}
	if (in->common.len + field.len + 2 > total_of(o->model->max_headers)) {
		emu_buf_free(&field);
		cme(o, CME_NO_MEMORY);
		return;
	}
	set_common(in, field.data, field.len);
	emu_buf_free(&field);
	emu_ok(o->emu);
}

static void http_cfg(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;
	const struct cfg_item *it = NULL;
	struct instance *in;
	struct inst_cfg next;
	size_t nval;
	bool any = false;
	int item;

	if (c->form == EMU_FORM_TEST) {
		struct emu_buf b = { 0 };

		emu_buf_add(&b, "(", 1);
		for (int k = 0; k < C_N; k++)
			emu_buf_addf(&b, "%s\"%s\"", k ? "," : "",
				     items[k].name);
		emu_buf_add(&b, "),", 2);
		ids_range(o, &b);
		emu_buf_add(&b, ",", 1);
		info_ok(o, "MHTTPCFG", "%s", b.data);
		emu_buf_free(&b);
		return;
	}
	if (c->form == EMU_FORM_READ) {
		cfg_query(o, NULL, -1);
		return;
	}
	for (item = 0; item < C_N && arg_is(c, 0, EMU_ARG_STRING); item++)
		if (!strcmp(c->argv[0].str, items[item].name)) {
			it = &items[item];
			break;
		}
	if (!it || (c->argc >= 2 && !id_arg(o, c, 1))) {
		cme(o, CME_PARAM);
		return;
	}
	if (c->argc == 1) {
		cfg_query(o, NULL, item);
		return;
	}
	if (!(in = created(o, c, 1)))
		return;
	if (c->argc == 2) {
		cfg_query(o, in, item);
		return;
	}
	if (in->state != REQ_IDLE) {
		cme(o, CME_BUSY);	/* "在请求过程中不要修改" */
		return;
	}
	if (item == C_HEADER) {
		cfg_header(o, in, c);
		return;
	}
	nval = c->argc - 2;
	if (nval < it->nmin || nval > it->nmax) {
		cme(o, CME_PARAM);
		return;
	}
	next = in->cfg;
	for (size_t k = 0; k < nval; k++) {
		const struct emu_arg *a = &c->argv[2 + k];

		if (a->kind == EMU_ARG_OMITTED && it->partial)
			continue;
		if (a->kind != EMU_ARG_NUMBER || a->num < it->v[k].min ||
		    a->num > it->v[k].max) {
			cme(o, CME_PARAM);
			return;
		}
		*cfg_field(&next, it->v[k].off) = a->num;
		any = true;
	}
	if (!any) {
		cme(o, CME_PARAM);
		return;
	}
	/* Whether an <ssl_id> was given decides how a redirect to https is
	 * followed (see follow_redirect). */
	if (item == C_SSL && nval == 2 && c->argv[3].kind == EMU_ARG_NUMBER)
		next.ssl_id_set = 1;
	in->cfg = next;
	emu_ok(o->emu);
}

/* ------------------------------------------- AT+MHTTPHEADER, CONTENT */

static void header_done(struct onemo *o, struct instance *in,
			const struct emu_buf *field, unsigned long eof)
{
	struct input *h = &in->headers;

	if (!valid_field(field->data, field->len)) {
		cme(o, CME_PARAM);
		return;
	}
	if (h->bytes.len + field->len + 2 > total_of(o->model->max_headers)) {
		cme(o, CME_NO_MEMORY);
		return;
	}
	add_field(&h->bytes, field->data, field->len);
	input_mark(h, eof);
	emu_ok(o->emu);
}

static void send_chunk(struct instance *in, const void *p, size_t n)
{
	struct emu_buf b = { 0 };

	emu_buf_addf(&b, "%zx\r\n", n);
	emu_buf_add(&b, p, n);
	emu_buf_add(&b, "\r\n", 2);
	emu_link_send(in->link, b.data, b.len, SEND_TIMEOUT_MS);
	emu_buf_free(&b);
}

static void content_done(struct onemo *o, struct instance *in,
			 const struct emu_buf *data, unsigned long eof)
{
	struct input *ct = &in->content;

	if (in->cfg.chunked) {
		/* The response may have ended the request meanwhile. */
		if (in->state != REQ_CHUNKS) {
			cme(o, CME_NOT_ALLOWED);
			return;
		}
		if (data->len)		/* an empty chunk would end the body */
			send_chunk(in, data->data, data->len);
		if (eof == 0) {
			emu_link_send(in->link, "0\r\n\r\n", 5,
				      SEND_TIMEOUT_MS);
			in->state = REQ_RESPONSE;
		}
		input_mark(ct, eof);
		emu_ok(o->emu);
		return;
	}
	if (ct->bytes.len + data->len > total_of(o->model->max_content)) {
		cme(o, CME_NO_MEMORY);
		return;
	}
	emu_buf_add(&ct->bytes, data->data, data->len);
	input_mark(ct, eof);
	emu_ok(o->emu);
}

/* Whether this input may take more now; else answers why not. */
static bool may_input(struct onemo *o, struct instance *in, bool content)
{
	if (content && in->cfg.chunked) {
		if (in->state == REQ_CHUNKS)
			return true;
		cme(o, CME_NOT_ALLOWED);	/* content before "ind" */
		return false;
	}
	if (in->state != REQ_IDLE) {
		cme(o, CME_BUSY);
		return false;
	}
	if ((content ? &in->content : &in->headers)->closed) {
		/* "需请求完成或清空后才可再次输入" */
		cme(o, CME_NOT_ALLOWED);
		return false;
	}
	return true;
}

static void print_input(struct onemo *o, const struct instance *in,
			const char *name, const struct input *i)
{
	struct emu_buf b = { 0 };
	const struct emu_buf *d = &i->bytes;

	if (d->len) {
		emu_buf_add(&b, "\r\n", 2);
		prefix(o, &b, name);
		emu_buf_addf(&b, "%u,%zu,", in->id, d->len);
		emu_buf_add(&b, d->data, d->len);
		/* headers end with their own CRLF */
		if (d->data[d->len - 1] != '\n')
			emu_buf_add(&b, "\r\n", 2);
		send_buf(o, EMU_MARK_NONE, &b);
	}
	emu_ok(o->emu);
}

/* AT+MHTTPHEADER and AT+MHTTPCONTENT share their syntax:
 * =<id> query; =<id>,2 clear; =<id>,<eof>,<length> data mode;
 * =<id>,<eof>,<length>,"<data>" in the command. */
static void input_command(struct onemo *o, const struct emu_cmd *c,
			  bool content)
{
	const char *name = content ? "MHTTPCONTENT" : "MHTTPHEADER";
	size_t max_cmd = content ? MAX_DATA : MAX_CMD_HEADER;
	struct input *i;
	struct instance *in;
	struct emu_buf data = { 0 };
	unsigned long eof, length;

	if (c->form == EMU_FORM_TEST) {
		struct emu_buf b = { 0 };

		ids_range(o, &b);
		emu_buf_addf(&b, ",(0-2),(0-%d),", MAX_DATA);
		info_ok(o, name, "%s", b.data);
		emu_buf_free(&b);
		return;
	}
	if (c->argc < 1 || c->argc > 4 || !id_arg(o, c, 0) ||
	    (c->argc >= 2 && !num_arg(c, 1, 2))) {
		cme(o, CME_PARAM);
		return;
	}
	eof = c->argc >= 2 ? c->argv[1].num : 0;
	if (c->argc == 2 && eof != 2) {
		emu_error(o->emu);	/* CTRL+Z input: not emulated */
		return;
	}
	if ((eof == 2 && c->argc != 2) ||
	    (c->argc >= 3 && !num_arg(c, 2, c->argc == 4 ? max_cmd : MAX_DATA)) ||
	    (c->argc == 3 && c->argv[2].num == 0) ||
	    (c->argc == 4 && !arg_is(c, 3, EMU_ARG_STRING))) {
		cme(o, CME_PARAM);
		return;
	}
	if (!(in = created(o, c, 0)))
		return;
	i = content ? &in->content : &in->headers;
	if (c->argc == 1) {
		print_input(o, in, name, i);
		return;
	}
	if (eof == 2) {
		if (content && in->cfg.chunked) {
			cme(o, CME_PARAM);	/* "只对非Chunked模式有效" */
			return;
		}
		if (in->state != REQ_IDLE) {
			cme(o, CME_BUSY);
			return;
		}
		input_clear(i);
		emu_ok(o->emu);
		return;
	}
	length = c->argv[2].num;
	if (c->argc == 4 &&
	    (!length_matches(in, length, &c->argv[3]) ||
	     !decode_arg(in, &c->argv[3], &data) || data.len > max_cmd)) {
		emu_buf_free(&data);
		cme(o, CME_PARAM);
		return;
	}
	if (!may_input(o, in, content)) {
		emu_buf_free(&data);
		return;
	}
	if (c->argc == 3) {
		o->data_kind = content ? DATA_CONTENT : DATA_HEADER;
		o->data_inst = in;
		o->data_eof = eof;
		emu_download(o->emu, "\r\n>", length,
			     seconds_ms(in->cfg.input_s));
		return;
	}
	if (content)
		content_done(o, in, &data, eof);
	else
		header_done(o, in, &data, eof);
	emu_buf_free(&data);
}

static void http_header(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;

	input_command(o, c, false);
}

static void http_content(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;

	input_command(o, c, true);
}

/* ---------------------------------------------------- AT+MHTTPREQUEST */

static void path_done(struct onemo *o, struct instance *in,
		      const struct emu_buf *path, unsigned long method)
{
	struct emu_buf target = { 0 };

	if (request_target(in, path, &target))
		start_request(in, method, &target);
	else
		cme(o, CME_PARAM);
	emu_buf_free(&target);
}

static void http_request(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;
	struct instance *in;
	struct emu_buf path = { 0 }, target = { 0 };
	unsigned long method, length = 0;

	if (c->form == EMU_FORM_TEST) {
		struct emu_buf b = { 0 };

		ids_range(o, &b);
		emu_buf_addf(&b, ",(1-5),(0-%d),", MAX_DATA);
		info_ok(o, "MHTTPREQUEST", "%s", b.data);
		emu_buf_free(&b);
		return;
	}
	if (c->argc < 2 || c->argc > 5 || !id_arg(o, c, 0) ||
	    !arg_is(c, 1, EMU_ARG_NUMBER) || c->argv[1].num < 1 ||
	    c->argv[1].num > 5 ||
	    (c->argc >= 3 && !num_arg(c, 2, MAX_DATA)) ||
	    (c->argc == 3 && c->argv[2].num == 0) ||
	    (c->argc >= 4 && !arg_is(c, 3, EMU_ARG_STRING))) {
		cme(o, CME_PARAM);
		return;
	}
	if (c->argc == 2 || c->argc == 5) {
		/* CTRL+Z input, <local_path>: not emulated */
		emu_error(o->emu);
		return;
	}
	method = c->argv[1].num;
	length = c->argv[2].num;
	if (!(in = created(o, c, 0)))
		return;
	if (!emu_net_ready(o->emu)) { cme(o, 30); return; }	/* 27.007: no network service */
	emu_request_begin(o->emu);
	if (c->argc == 4 &&
	    (!length_matches(in, length, &c->argv[3]) ||
	     !decode_arg(in, &c->argv[3], &path) ||
	     !request_target(in, &path, &target))) {
		emu_buf_free(&path);
		emu_buf_free(&target);
		cme(o, CME_PARAM);
		return;
	}
	if (in->state != REQ_IDLE) {
		cme(o, CME_BUSY);
	} else if (in->headers.open || in->content.open ||
		   (in->cfg.chunked && in->content.bytes.len)) {
		/* input announced (eof 1) and never ended */
		cme(o, CME_NOT_ALLOWED);
	} else if (in->url.tls && !in->cfg.ssl) {
		cme(o, CME_NO_SSL);
	} else if (c->argc == 3) {
		o->data_kind = DATA_PATH;
		o->data_inst = in;
		o->data_method = method;
		emu_download(o->emu, "\r\n>", length,
			     seconds_ms(in->cfg.input_s));
	} else {
		start_request(in, method, &target);
	}
	emu_buf_free(&path);
	emu_buf_free(&target);
}

/* ---------------------------------------------------- AT+MHTTPREAD */

static void http_read(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;
	struct instance *in;
	unsigned long type, want;
	size_t left, n;
	struct emu_buf b = { 0 };

	if (c->form == EMU_FORM_TEST) {
		ids_range(o, &b);
		emu_buf_addf(&b, ",(0-1),(0-%d)", MAX_READ);
		info_ok(o, "MHTTPREAD", "%s", b.data);
		emu_buf_free(&b);
		return;
	}
	if (c->argc < 2 || c->argc > 3 || !id_arg(o, c, 0) ||
	    !num_arg(c, 1, 1) || (c->argc == 3 && !num_arg(c, 2, MAX_READ))) {
		cme(o, CME_PARAM);
		return;
	}
	if (!(in = created(o, c, 0)))
		return;
	if (!in->cfg.cached) {
		cme(o, CME_NOT_ALLOWED);
		return;
	}
	if (in->state != REQ_IDLE) {
		cme(o, CME_BUSY);
		return;
	}
	type = c->argv[1].num;
	left = in->cache[type].len - in->cache_off[type];
	if (c->argc == 2) {
		info_ok(o, "MHTTPREAD", "%u,%lu,%zu", in->id, type, left);
		return;
	}
	want = c->argv[2].num;
	n = want == 0 || want > left ? left : want;	/* 0: all of it */
	emu_buf_add(&b, "\r\n", 2);
	prefix(o, &b, "MHTTPREAD");
	emu_buf_addf(&b, "%u,%lu,%zu,%zu,", in->id, type, left - n, n);
	emu_buf_add(&b, in->cache[type].data + in->cache_off[type], n);
	emu_buf_add(&b, "\r\n", 2);
	in->cache_off[type] += n;
	send_buf(o, EMU_MARK_NONE, &b);
	emu_ok(o->emu);
}

/* ---------------------------------------------------- AT+MSSLCFG */

/* The SSL user manual, 3.1: the numeric settings (3.1's note 3: "sni" is
 * MR880A's only; "psk", "encoding" and "ciphersuite" are not emulated and
 * answer ERROR). */
static const struct ssl_item {
	const char *name;
	unsigned long min, max;
	size_t off;
} ssl_items[] = {
#define S(n, lo, hi, f) { n, lo, hi, offsetof(struct ssl_ctx, f) }
	S("auth", 0, 2, auth),
	S("ignorestamp", 0, 1, ignorestamp),
	S("ignoreverify", 0, 1, ignoreverify),
	S("sni", 0, 1, sni),
	S("version", 0, 255, version),
	S("negotime", 10, 300, negotime),
	S("session", 0, 1, session),
#undef S
};

static unsigned long *ssl_field(struct ssl_ctx *c, size_t off)
{
	return (unsigned long *)(void *)((char *)c + off);
}

/* "+MSSLCFG: "<item>",<id>,<value>" for one context or all. */
static void ssl_query(struct onemo *o, const char *item, const struct ssl_item *it,
		      int only)
{
	struct emu_buf b = { 0 };

	emu_buf_add(&b, "\r\n", 2);
	for (int i = 0; i < SSL_CTXS; i++) {
		struct ssl_ctx *c = &o->ssl[i];

		if (only >= 0 && i != only)
			continue;
		prefix(o, &b, "MSSLCFG");
		if (it)
			emu_buf_addf(&b, "\"%s\",%d,%lu\r\n", item, i,
				     *ssl_field(c, it->off));
		else	/* "cert": <srv_cert>,<cli_cert>,<prv_key> */
			emu_buf_addf(&b, "\"cert\",%d,\"%s\",\"\",\"\"\r\n", i,
				     c->cert);
	}
	send_buf(o, EMU_MARK_NONE, &b);
	emu_ok(o->emu);
}

static void ssl_cfg(void *dctx, const struct emu_cmd *c)
{
	struct onemo *o = dctx;
	const struct ssl_item *it = NULL;
	const char *item;
	struct ssl_ctx *ctx;

	if (c->form == EMU_FORM_TEST) {
		struct emu_buf b = { 0 };

		emu_buf_add(&b, "(\"cert\"", 7);
		for (size_t k = 0; k < sizeof(ssl_items) / sizeof(ssl_items[0]); k++)
			if (!(o->v->no_auth && !strcmp(ssl_items[k].name, "auth")) &&
			    !(o->v->no_sni && !strcmp(ssl_items[k].name, "sni")))
				emu_buf_addf(&b, ",\"%s\"", ssl_items[k].name);
		emu_buf_add(&b, ")", 1);
		info_ok(o, "MSSLCFG", "%s", b.data);
		emu_buf_free(&b);
		return;
	}
	if (c->argc < 1 || !arg_is(c, 0, EMU_ARG_STRING)) {
		cme(o, CME_PARAM);
		return;
	}
	item = c->argv[0].str;
	for (size_t k = 0; k < sizeof(ssl_items) / sizeof(ssl_items[0]); k++)
		if (!strcmp(item, ssl_items[k].name))
			it = &ssl_items[k];
	if ((!it && strcmp(item, "cert")) ||
	    (o->v->no_auth && !strcmp(item, "auth")) ||
	    (o->v->no_sni && !strcmp(item, "sni"))) {
		/* an item this firmware does not have */
		emu_error(o->emu);
		return;
	}
	if (c->argc >= 2 && !num_arg(c, 1, SSL_CTXS - 1)) {
		cme(o, CME_PARAM);
		return;
	}
	if (c->argc <= 2) {
		ssl_query(o, item, it, c->argc == 2 ? (int)c->argv[1].num : -1);
		return;
	}
	ctx = &o->ssl[c->argv[1].num];
	if (it) {
		if (c->argc != 3 || !arg_is(c, 2, EMU_ARG_NUMBER) ||
		    c->argv[2].num < it->min || c->argv[2].num > it->max) {
			cme(o, CME_PARAM);
			return;
		}
		*ssl_field(ctx, it->off) = c->argv[2].num;
		emu_ok(o->emu);
		return;
	}
	/* "cert",<ssl_id>,<srv_cert>[,<cli_cert>,<prv_key>]: names of files
	 * written before; client certificates are not emulated. */
	if ((c->argc != 3 && c->argc != 5) || !arg_is(c, 2, EMU_ARG_STRING) ||
	    c->argv[2].len == 0 || c->argv[2].len > CERT_NAME_MAX) {
		cme(o, CME_PARAM);
		return;
	}
	if (c->argc == 5) {
		emu_error(o->emu);
		return;
	}
	if (!cert_find(o, c->argv[2].str)) {
		cme(o, CME_CERT_MISSING);
		return;
	}
	snprintf(ctx->cert, sizeof(ctx->cert), "%s", c->argv[2].str);
	emu_ok(o->emu);
}

/* ---------------------------------------------------- AT+MSSLCERTWR */

/* The SSL manual's <data> in its only encoding for these modules (3.1's
 * note 6: 2, escaped): \r \n \\ \" and nothing else. */
static bool unescape_cert(const struct emu_arg *a, struct emu_buf *out)
{
	for (size_t i = 0; i < a->len; i++) {
		char ch = a->str[i];

		if (ch == '\\') {
			if (++i == a->len)
				return false;
			switch (a->str[i]) {
			case 'r': ch = '\r'; break;
			case 'n': ch = '\n'; break;
			case '\\': ch = '\\'; break;
			case '"': ch = '"'; break;
			default: return false;
			}
		}
		emu_buf_add(out, &ch, 1);
	}
	return true;
}

static void cert_reset_part(struct onemo *o)
{
	emu_buf_free(&o->cert_part);
	o->cert_name[0] = '\0';
	o->cert_remain = 0;
}

/* A piece of a certificate came; the last one makes the file ("对同一证书
 * 文件进行写操作时将删除之前存在的证书文件"). */
static void cert_piece(struct onemo *o, const char *p, size_t n,
		       unsigned long remain)
{
	struct cert_file *cf;

	if (o->cert_part.len + n > CERT_MAX) {
		cert_reset_part(o);
		cme(o, CME_CERT_TOO_BIG);
		return;
	}
	emu_buf_add(&o->cert_part, p, n);
	o->cert_remain = remain;
	if (remain) {
		emu_ok(o->emu);
		return;
	}
	if (!strstr(o->cert_part.data, "-----BEGIN CERTIFICATE-----") ||
	    !strstr(o->cert_part.data, "-----END CERTIFICATE-----")) {
		cert_reset_part(o);
		cme(o, CME_CERT_INVALID);	/* "必须为PEM格式" */
		return;
	}
	cf = (struct cert_file *)cert_find(o, o->cert_name);
	for (size_t i = 0; !cf && i < CERT_FILES; i++)
		if (!o->certs[i].name[0])
			cf = &o->certs[i];
	if (!cf) {
		cert_reset_part(o);
		cme(o, CME_CERT_WRITE);
		return;
	}
	emu_buf_free(&cf->pem);
	snprintf(cf->name, sizeof(cf->name), "%s", o->cert_name);
	cf->pem = o->cert_part;
	o->cert_part = (struct emu_buf){ 0 };
	cert_reset_part(o);
	emu_ok(o->emu);
}

/* AT+MSSLCERTWR=<cert_name>,<remain_length>,<length>[,<data>] (3.2). */
static void ssl_certwr(void *ctx, const struct emu_cmd *c)
{
	struct onemo *o = ctx;
	struct emu_buf data = { 0 };
	unsigned long remain, length;

	if (c->form == EMU_FORM_TEST) {
		emu_ok(o->emu);
		return;
	}
	if ((c->argc != 3 && c->argc != 4) || !arg_is(c, 0, EMU_ARG_STRING) ||
	    c->argv[0].len == 0 || c->argv[0].len > CERT_NAME_MAX ||
	    !num_arg(c, 1, CERT_MAX) || !num_arg(c, 2, CERT_MAX) ||
	    (c->argc == 3 && c->argv[2].num == 0) ||
	    (c->argc == 4 && !arg_is(c, 3, EMU_ARG_STRING))) {
		cme(o, CME_PARAM);
		return;
	}
	remain = c->argv[1].num;
	length = c->argv[2].num;
	/* A continuation names the file the pieces before it did. */
	if (o->cert_part.len && strcmp(o->cert_name, c->argv[0].str))
		cert_reset_part(o);
	snprintf(o->cert_name, sizeof(o->cert_name), "%s", c->argv[0].str);
	if (c->argc == 3) {
		o->data_kind = DATA_CERT;
		o->data_eof = remain;
		emu_download(o->emu, "\r\n>", length, SEND_TIMEOUT_MS);
		return;
	}
	if ((length && c->argv[3].len != length) ||
	    !unescape_cert(&c->argv[3], &data)) {
		emu_buf_free(&data);
		cme(o, CME_PARAM);
		return;
	}
	cert_piece(o, data.data, data.len, remain);
	emu_buf_free(&data);
}

/* ------------------------------------------------------------ dispatch */

static void data_done(void *ctx, struct emu_buf *data, bool complete)
{
	struct onemo *o = ctx;
	struct instance *in = o->data_inst;

	/* Not all <length> bytes came within <input_timeout>: "输入数据达到
	 * 指定长度或达到超时时间时发送数据" - what came is taken. */
	(void)complete;
	switch (o->data_kind) {
	case DATA_HEADER:
		header_done(o, in, data, o->data_eof);
		break;
	case DATA_CONTENT:
		content_done(o, in, data, o->data_eof);
		break;
	case DATA_PATH:
		path_done(o, in, data, o->data_method);
		break;
	case DATA_CERT:
		/* "输入数据达指定长度时结束输入": a short one is not a file */
		if (!complete) {
			cert_reset_part(o);
			cme(o, CME_PARAM);
			break;
		}
		cert_piece(o, data->data, data->len, o->data_eof);
		break;
	}
}

static const struct emu_command rows[] = {
	{ "+CMEE", EMU_AT_SET | EMU_AT_READ | EMU_AT_TEST, 0, cmee },
	{ "+MHTTPCREATE", EMU_AT_SET | EMU_AT_TEST, 0, http_create },
	{ "+MHTTPCFG", EMU_AT_SET | EMU_AT_READ | EMU_AT_TEST, 0, http_cfg },
	{ "+MHTTPHEADER", EMU_AT_SET | EMU_AT_TEST, 0, http_header },
	{ "+MHTTPCONTENT", EMU_AT_SET | EMU_AT_TEST, 0, http_content },
	{ "+MHTTPREQUEST", EMU_AT_SET | EMU_AT_TEST, 0, http_request },
	{ "+MHTTPREAD", EMU_AT_SET | EMU_AT_TEST, 0, http_read },
	{ "+MHTTPDEL", EMU_AT_SET | EMU_AT_TEST, 0, http_del },
	{ "+MHTTPTERM", EMU_AT_EXEC | EMU_AT_SET | EMU_AT_TEST, 0, http_term },
	{ "+MSSLCFG", EMU_AT_SET | EMU_AT_TEST, 0, ssl_cfg },
	{ "+MSSLCERTWR", EMU_AT_SET | EMU_AT_TEST, 0, ssl_certwr },
};

static const struct emu_commands commands = EMU_COMMANDS(rows, NULL, NULL);

/* ------------------------------------------------------------ life */

static void *open_onemo(struct emu *e, const struct emu_config *cfg,
			const void *variant, const char **err)
{
	static const struct emu_variants model_table =
		EMU_VARIANTS(models, "onemo model");
	const struct onemo_model *model;
	struct onemo *o;

	model = emu_variant_pick(&model_table, cfg->model, err);
	if (!model)
		return NULL;
	o = emu_calloc(1, sizeof(*o));
	o->emu = e;
	o->cfg = cfg;
	o->v = variant;
	o->model = model;
	emu_net_model(e, model->name);
	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		o->inst[i].o = o;
		o->inst[i].id = i;
		o->inst[i].cfg = default_cfg;
	}
	for (unsigned i = 0; i < SSL_CTXS; i++)
		o->ssl[i] = default_ssl;
	return o;
}

static void drained(void *ctx)
{
	struct onemo *o = ctx;

	for (unsigned i = 0; i < MAX_SLOTS; i++) {
		struct instance *in = &o->inst[i];

		if (in->paused && in->link) {
			in->paused = false;
			emu_link_pause(in->link, false);
		}
	}
}

static void close_onemo(void *ctx)
{
	struct onemo *o = ctx;

	for (unsigned i = 0; i < MAX_SLOTS; i++)
		instance_reset(&o->inst[i]);
	for (unsigned i = 0; i < CERT_FILES; i++)
		emu_buf_free(&o->certs[i].pem);
	emu_buf_free(&o->cert_part);
	free(o);
}

const struct emu_dialect emu_onemo = {
	.name = "onemo",
	.commands = &commands,
	.variants = EMU_VARIANTS(variants, "onemo variant"),
	.open = open_onemo,
	.close = close_onemo,
	.data = data_done,
	.drained = drained,
};
