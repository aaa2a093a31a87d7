/*
 * China Mobile OneMO ML302/ML305/ML307, MN316/MN318/MN319/MN326 (AT+MHTTP*,
 * the OneMO HTTP/HTTPS user manual V6.0.7; where the manual is silent the
 * choice is noted where it is made).  The module keeps up to four client instances, one per
 * server; a request is its specific headers, its content, then
 * AT+MHTTPREQUEST, and the module prints the origin's answer as URCs.
 *
 * Per request:
 *   AT+MHTTPCREATE="http[s]://host:port" only for a server without an
 *                                        instance; "+MHTTPCREATE: <id>", OK
 *   AT+MHTTPCFG="ssl",<id>,<0|1>,<ssl_id> right after it (the SSL side below)
 *   AT+MHTTPHEADER=<id>,<eof>,<len>,"Name: value"     one per header, or
 *   AT+MHTTPHEADER=<id>,<eof>,<len> > <len bytes> OK  in data mode
 *   AT+MHTTPCONTENT=<id>,<eof>,<len> > <len bytes> OK at most 4096 a piece
 *   AT+MHTTPREQUEST=<id>,<method>,0,"<path?query>"    OK, then the URCs:
 *   +MHTTPURC: "header",<id>,<code>,<header_len>,<status line and fields>
 *   +MHTTPURC: "content",<id>,<content_len>,<sum_len>,<cur_len>,<data>  ...
 *   +MHTTPURC: "err",<id>,<error_code>                 instead, on failure
 * eof is 1 on every header and content piece but the last, 0 on the last.
 * A GET to a server the module already knows, with curl's two headers, is
 * three commands.
 *
 * Instances: one per scheme, host and port, at most four alive (the manual's limit);
 * the least recently used is deleted (AT+MHTTPDEL) to make room.  A module
 * with fewer slots (MN316A/MN319: two) answers CREATE with +CME ERROR: 651
 * (no free client): the least recently used goes and CREATE is tried once
 * more.  An instance the module no longer has (+CME ERROR: 652 on its
 * first use, the module restarted) is created afresh, once.  After any
 * failure inside a request its instance is deleted (the manual says
 * AT+MHTTPTERM leaves headers and content set, and a request that failed
 * may have left them).
 *
 * Bring-up asks before it deletes: AT+MHTTPCFG="chunked" with no <httpid>
 * lists one line per created instance (3.1: "只设置<cmd>，将返回所有已创建
 * 实例的当前配置参数"; AT+MHTTPCREATE has no read form), and only those
 * are deleted (a busy one is terminated first), so none from an earlier
 * process survives and a fresh module hears no AT+MHTTPDEL at all.  Only a
 * firmware that refuses the query gets the old sweep, bounded by the
 * model's slot count.  teardown deletes what this engine created.
 *
 * The model (AT+CGMM, 3GPP TS 27.007) decides the limits, which are data
 * (onemo_models below): the manual's notes give ML307G alone a total of
 * 3 x 4096 content bytes (note 19) and 4096 header bytes (note 15) a
 * request; every other ML30x takes any number of 4096-byte pieces chained
 * by <eof> 1; the MN31x/MN32x have no '>' data mode at all (the notes to
 * 3.3 and 3.4).  An unknown model gets the manual's general rules.  The
 * capability record's max_body is the largest any model takes (the bridge
 * decides from it before bring-up has named the model); the exchange
 * refuses a body over the model's own limit with 413 before the module
 * hears a byte of the request.
 *
 * What goes on the AT line: the host (letters, digits, ".-_:[]") and the
 * path (request_policy.c: no quote, backslash or control byte) inside
 * quotes; a header inside quotes only when it is printable ASCII without a
 * quote or backslash and at most 1024 bytes (the command-mode limit of
 * ML302A/ML307A), otherwise in the length-counted data phase (up to 4096);
 * the body only ever in the data phase.  The manual: string parameters
 * "cannot hold quotes; use data mode".
 *
 * The response: the header URC carries the origin's status line and
 * fields (CRLF each, no blank line); the module de-chunks the body.  The
 * body ends when sum_len reaches content_len (Content-Length), with a
 * piece of cur_len 0 (chunked or close-delimited), or when the origin's
 * own Content-Length is delivered; a HEAD, 204, 304 or Content-Length: 0
 * response has no content URC at all.  Pieces stream to the client as they
 * come: memory stays flat for any body.  The module's URCs come in every
 * form the manual prints: "+MHTTPURC:" alone on its line with the rest on
 * the next, the manual's typo "+MHTTPPURC:", "ind" without its line end,
 * no blank after the colon (all in the syntax tables at the end).
 *
 * Failures: "+MHTTPURC: \"err\"" codes and +CME ERROR codes (the manual's
 * chapter 5) are 502 naming the code and its meaning (504 for the two
 * timeouts, err 3 and 6).  No answer within the action timeout, counted
 * from the module's last byte, is 504; then AT+MHTTPTERM for the busy
 * instance, and bring-up again.
 *
 * HTTPS: bring-up (given --module-ca; else tls_setup) writes the roots
 * (AT+MSSLCERTWR) and turns verification on for SSL context 1 (AT+MSSLCFG,
 * the OneMO SSL user manual); https instances use it.  Bring-up also sets a guard context
 * that no server passes, for http instances (see "the SSL side").  The
 * module's TLS failures ("err" 4, CME 655, 750-769) are 502 naming them.
 * Not used: MHTTPCFG's other items as settings (their defaults are what
 * the driver needs: normal mode, not cached, raw encoding; "chunked" is
 * only read, to list the instances), chunked request mode,
 * cached mode, AT+MHTTPDLFILE, client certificates.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at_data_phase.h"
#include "at_result_iter.h"
#include "at_sync.h"
#include "dialect.h"
#include "wire_time.h"
#include "module_codes.h"
#include "wait_bound.h"

#define ONEMO_SLOTS 4                        /* "at most 4 instances" (3.2) */
#define ONEMO_PIECE 4096                     /* <length> of HEADER and CONTENT */
#define ONEMO_CMD_HEADER_MAX 1024            /* command-mode <header> */
/* The manual sets no total for a body chained by <eof> 1; the bridge holds
 * a request's body in memory, so athttp bounds it. */
#define ONEMO_CHAINED_BODY_MAX (1024 * 1024)
#define ONEMO_MAX_URL 1024
#define ONEMO_MAX_HEAD (64 * 1024)
#define ONEMO_MAX_ORIGIN 300

static const struct {
	int cmd_ms;
} timeouts = {
	.cmd_ms = 10000,   /* the manual gives none; slack for a slow line */
};

/* Chapter 5: +CME ERROR codes of the HTTP commands. */
static const struct module_code cme_codes[] = {
	{ 3, 502, "operation not allowed", NULL },
	{ 23, 502, "memory allocation failed", NULL },
	{ 50, 502, "parameter error", NULL },
	{ 650, 502, "unknown error", NULL },
	{ 651, 502, "no free client", NULL },
	{ 652, 502, "client not created", NULL },
	{ 653, 502, "client busy", NULL },
	{ 654, 502, "URL parse failed", NULL },
	{ 655, 502, "SSL not enabled", NULL },
	{ 656, 502, "connection failed", NULL },
	{ 657, 502, "data send failed", NULL },
	{ 658, 502, "open file failed", NULL },
	/* The OneMO SSL user manual, 5.2: codes of AT+MSSL*. */
	{ 750, 502, "SSL/TLS unknown error", NULL },
	{ 751, 502, "SSL/TLS resource initialisation failed", NULL },
	{ 752, 502, "SSL/TLS server certificate verification failed", NULL },
	{ 753, 502, "SSL/TLS negotiation timed out", NULL },
	{ 754, 502, "SSL/TLS negotiation failed", NULL },
	{ 760, 502, "certificate/key unknown error", NULL },
	{ 761, 502, "certificate/key invalid (format or content)", NULL },
	{ 762, 502, "certificate/key does not exist", NULL },
	{ 763, 502, "a certificate or key of that name exists", NULL },
	{ 764, 502, "certificate/key write failed", NULL },
	{ 765, 502, "another certificate/key is being written", NULL },
	{ 766, 502, "certificate/key read failed", NULL },
	{ 767, 502, "certificate/key delete failed", NULL },
	{ 768, 502, "certificate/key too large", NULL },
	{ 769, 502, "certificate/key load failed", NULL },
}, err_codes[] = {
	/* 3.10: +MHTTPURC: "err",<httpid>,<error_code> */
	{ 1, 502, "DNS resolution failed", NULL },
	{ 2, 502, "connection to the server failed", NULL },
	{ 3, 504, "connection to the server timed out", NULL },
	{ 4, 502, "SSL handshake failed", NULL },
	{ 5, 502, "connection closed abnormally", NULL },
	{ 6, 504, "response from the server timed out", NULL },
	{ 7, 502, "received data could not be parsed", NULL },
	{ 8, 502, "cache space insufficient", NULL },
	{ 9, 502, "data lost", NULL },
	{ 10, 502, "file write failed", NULL },
	{ 255, 502, "unknown error", NULL },
};

#define CME_ERROR_NO_FREE_CLIENT 651
#define ONEMO_ERR_SSL 4                      /* "err" 4: SSL handshake failed */
#define CME_ERROR_NOT_CREATED 652
#define CME_ERROR_BUSY 653

/* What a model takes (the manual's Table 1 series and its notes). */
struct onemo_model {
	const char *series;              /* AT+CGMM's answer begins with it */
	size_t max_body;                 /* a request's content in all */
	size_t max_headers;              /* its specific headers in all (0: no total) */
	bool data_mode;                  /* '>' data mode of HEADER and CONTENT */
	int slots;                       /* instances (3.2 and its note 11) */
};

static const struct onemo_model onemo_models[] = {
	/* Note 19: "ML307G：支持的content总长度为3*4096字节"; note 15:
	 * "ML307G: 支持的header总长度为4096字节". */
	{ "ML307G", 3 * ONEMO_PIECE, 4096, true, 4 },
	{ "ML307R", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	{ "ML307A", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	{ "ML307S", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	{ "ML302A", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	{ "ML302S", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	{ "ML305A", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	{ "ML305U", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	{ "ML305M", ONEMO_CHAINED_BODY_MAX, 0, true, 4 },
	/* The notes to 3.3/3.4: "MN318/MN316/MN319/MN326/MN316A: 不支持>下的
	 * 数据输入模式"; note 11: MN319/MN316A hold two instances.  This
	 * driver sends a body only in the data mode: none on these. */
	{ "MN316A", 0, 0, false, 2 },
	{ "MN319", 0, 0, false, 2 },
	{ "MN316-S", 0, 0, false, 4 },
	{ "MN316", 0, 0, false, 4 },
	{ "MN318", 0, 0, false, 4 },
	{ "MN326", 0, 0, false, 4 },
};

/* A model AT+CGMM did not name: the manual's general rules. */
static const struct onemo_model onemo_general = { "unknown model", ONEMO_CHAINED_BODY_MAX, 0, true, ONEMO_SLOTS };

/* The model whose series the AT+CGMM answer begins with (the longest
 * such series: MN316-S over MN316), followed by nothing or a '-'
 * ("ML307R-DC"); NULL if none. */
static const struct onemo_model *model_named(const char *answer)
{
	const struct onemo_model *best = NULL;
	for (size_t i = 0; i < sizeof onemo_models / sizeof onemo_models[0]; i++) {
		size_t n = strlen(onemo_models[i].series);
		if (strncasecmp(answer, onemo_models[i].series, n) == 0 && (answer[n] == '\0' || answer[n] == '-') &&
		    (!best || n > strlen(best->series)))
			best = &onemo_models[i];
	}
	return best;
}

/* AT+MHTTPREQUEST <method> */
static const struct {
	unsigned verb;
	int method;
} onemo_methods[] = {
	{ VERB_GET, 1 }, { VERB_POST, 2 }, { VERB_PUT, 3 }, { VERB_DELETE, 4 }, { VERB_HEAD, 5 },
};

struct onemo_instance {
	bool live;
	int id;
	char origin[ONEMO_MAX_ORIGIN];   /* scheme://host:port */
	unsigned long used;              /* for least-recently-used eviction */
};

struct onemo_state {
	struct onemo_instance inst[ONEMO_SLOTS];
	unsigned long tick;
	int busy;                        /* id + 1 of the instance with a request in flight; 0 none */
	const struct onemo_model *model; /* what AT+CGMM named; NULL: unknown */
	char model_name[48];             /* its answer, for messages */
	/* What this bring-up set up on the module's SSL contexts. */
	bool guard_ready;                /* the guard context refuses every server */
	bool tls_ready;                  /* tls_setup ran */
	bool tls_verified;               /* ...and the https context verifies */
	struct tls_verdict verdict;      /* what it found */
};

/* ------------------------------------------------------------ the SSL side */

/*
 * The module's SSL contexts (the OneMO SSL user manual V5.4.5, 3.1
 * AT+MSSLCFG and 3.2 AT+MSSLCERTWR; the HTTP manual's 4.2 HTTPS example):
 * an https instance is bound to a context by AT+MHTTPCFG="ssl",<id>,1,<ssl_id>
 * right after AT+MHTTPCREATE.
 *
 * The HTTP manual's note to 3.5: an http instance whose response redirects
 * to https follows the redirect, and without "ssl" configured it "enables
 * SSL with the default configuration" - no server verification (3.1:
 * <cert_verify> defaults to 0).  So every http instance is bound too, with
 * <ssl_enable> 0 (its own connection stays plain): to the https context
 * when that one verifies, else to a guard context set to verify with no
 * roots, which no server passes.  A redirect to https then either is
 * verified or fails ("err" 4), never followed unverified.
 *
 * The choices are data: the contexts, the CA's name and limits
 * (tls_profile), and the settings that turn verification on (needed) or
 * are merely wished for (sni: 3.1's note 3 gives the switch to MR880A
 * only; other firmware answers ERROR and sends SNI as it always does).
 */
struct ssl_setting {
	const char *item;                /* AT+MSSLCFG="<item>",<ssl_id>,<value> */
	const char *value;               /* NULL: the CA's name, quoted */
	bool needed;                     /* refused: the module does not verify */
};

static const struct ssl_setting verify_on[] = {
	{ "cert", NULL, true },          /* <srv_cert>: the trusted roots */
	{ "auth", "1", true },           /* <cert_verify> 1: server authentication */
	{ "ignoreverify", "0", true },   /* a result not ignored (an earlier user may have set 1) */
	{ "ignorestamp", "0", true },    /* dates checked: <ignore_stamp> defaults to 1, accepting expired certificates */
	{ "sni", "1", false },
	{ NULL, NULL, false },
};
static const struct ssl_setting verify_off[] = {
	{ "auth", "0", false },          /* no roots: --insecure-upstream may still run */
	{ NULL, NULL, false },
};
static const struct ssl_setting guard[] = {
	{ "auth", "1", true },           /* verification with no roots loaded: nothing passes */
	{ NULL, NULL, false },
};

static const struct onemo_tls_profile {
	int https_ctx;                   /* <ssl_id> of https instances */
	int guard_ctx;                   /* <ssl_id> of http instances while https_ctx does not verify */
	const char *ca_name;             /* <cert_name>, at most 64 bytes */
	size_t ca_max;                   /* 3.2: "a certificate holds at most 8K (8192 bytes)" */
	size_t ca_piece;                 /* bytes per AT+MSSLCERTWR data phase */
} tls_profile = {
	.https_ctx = 1,                  /* the manual's example uses SSL 1 */
	.guard_ctx = 2,
	.ca_name = "athttp-ca.pem",
	.ca_max = 8192,
	.ca_piece = 4096,
};

/* ------------------------------------------------------------ errors */

/* A command's answer other than OK: +CME ERROR codes with their meaning. */
static enum ath_err refused(struct ath_error *err, const struct at_result *r, const char *cmd)
{
	if (r->final != AT_FINAL_CME)
		return at_refused(err, r, cmd);
	const struct module_code *c = module_code_find(MODULE_CODES(cme_codes), r->code);
	return ath_fail_status(err, ATH_E_MODULE, c ? c->http_status : 502, r->code, "%s failed: %s (%s)",
			       cmd, r->text, c ? c->meaning : "unknown code");
}

/* ------------------------------------------------------------ the request */

struct plan {
	int method;
	bool tls;                        /* https:// */
	char origin[ONEMO_MAX_ORIGIN];   /* scheme://host:port, the instance's key */
	const char *path;                /* rq->target */
	char **fields;                   /* "Name: value", one per carried header */
	size_t n_fields;
};

static void plan_free(struct plan *pl)
{
	for (size_t i = 0; i < pl->n_fields; i++)
		free(pl->fields[i]);
	free(pl->fields);
	pl->fields = NULL;
	pl->n_fields = 0;
}

/* Inside the quotes of AT+MHTTPREQUEST: no quote, backslash or control. */
static bool quoted_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return false;
	}
	return true;
}

/* Checks everything before the module hears a byte: a request that cannot
 * be expressed sends nothing. */
static enum ath_err plan_request(const struct dialect_request *rq, const struct onemo_model *model,
				 const char *model_name, struct plan *pl, struct ath_error *err)
{
	memset(pl, 0, sizeof *pl);
	pl->method = -1;
	for (size_t i = 0; i < sizeof onemo_methods / sizeof onemo_methods[0]; i++)
		if (onemo_methods[i].verb == rq->verb)
			pl->method = onemo_methods[i].method;
	if (pl->method < 0)
		return ath_fail(err, ATH_E_UNSUPPORTED, -1, "method %s is not one of AT+MHTTPREQUEST's", rq->method);
	if (rq->body_len && !model->data_mode)
		return ath_fail(err, ATH_E_UNSUPPORTED, -1,
				"the onemo %s has no data mode for AT+MHTTPCONTENT: it cannot send a request body",
				model_name);
	if (rq->body_len > model->max_body)
		return ath_fail(err, ATH_E_TOO_LARGE, -1,
				"request body of %zu bytes exceeds the onemo %s limit of %zu bytes (AT+MHTTPCONTENT)",
				rq->body_len, model_name, model->max_body);

	/* The scheme is part of the instance (3.2: AT+MHTTPCREATE takes
	 * "http://" or "https://"), so one server on both is two instances.
	 * The bridge split and checked the URL (dialect.h). */
	pl->tls = rq->tls;
	pl->path = rq->target;
	bool v6 = strchr(rq->host, ':') != NULL;
	int olen = snprintf(pl->origin, sizeof pl->origin, "%s%s%s%s:%u",
			    pl->tls ? "https://" : "http://", v6 ? "[" : "", rq->host,
			    v6 ? "]" : "", rq->port);
	if (olen < 0 || (size_t)olen >= sizeof pl->origin)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1,
				"the host name is too long for AT+MHTTPCREATE");

	size_t n = rq->headers ? rq->headers->n : 0;
	pl->fields = n ? calloc(n, sizeof *pl->fields) : NULL;
	if (n && !pl->fields)
		return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
	size_t total = 0;
	for (size_t i = 0; i < n; i++) {
		const struct hdr *h = &rq->headers->v[i];
		size_t nl = strlen(h->name), vl = strlen(h->value);
		if (nl + 2 + vl > ONEMO_PIECE) {
			plan_free(pl);
			return ath_fail(err, ATH_E_UNSUPPORTED, -1,
					"header %s: \"Name: value\" is %zu bytes, over AT+MHTTPHEADER's %d",
					h->name, nl + 2 + vl, ONEMO_PIECE);
		}
		/* The module keeps each field with its CRLF; ML307G holds 4096
		 * bytes of them in all (the manual's note to AT+MHTTPHEADER).
		 * Refused before the first is sent, not half-way. */
		total += nl + 2 + vl + 2;
		if (model->max_headers && total > model->max_headers) {
			plan_free(pl);
			return ath_fail_status(err, ATH_E_UNSUPPORTED, 431, -1,
					       "the request's headers come to over %zu bytes, more than "
					       "AT+MHTTPHEADER of the %s holds",
					       model->max_headers, model_name);
		}
		/* Without the data mode a field travels inside the command. */
		if (!model->data_mode && !(nl + 2 + vl <= ONEMO_CMD_HEADER_MAX && quoted_ok(h->name, nl) &&
					   quoted_ok(h->value, vl))) {
			plan_free(pl);
			return ath_fail(err, ATH_E_UNSUPPORTED, -1,
					"header %s cannot go inside AT+MHTTPHEADER's quotes, and the %s has no data mode",
					h->name, model_name);
		}
		/* The data phase carries any byte, but a line break would add
		 * a header of its own to the request. */
		if (strpbrk(h->name, "\r\n") || strpbrk(h->value, "\r\n")) {
			plan_free(pl);
			return ath_fail(err, ATH_E_BAD_REQUEST, -1, "header %s holds a line break", h->name);
		}
		pl->fields[i] = malloc(nl + 2 + vl + 1);
		if (!pl->fields[i]) {
			plan_free(pl);
			return ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
		}
		pl->n_fields = i + 1;
		memcpy(pl->fields[i], h->name, nl);
		memcpy(pl->fields[i] + nl, ": ", 2);
		memcpy(pl->fields[i] + nl + 2, h->value, vl + 1);
	}
	return ATH_OK;
}

/* ------------------------------------------------------------ instances */

static struct onemo_state *state_of(struct modem_io *io)
{
	return io->state;
}

static struct onemo_instance *instance_for(struct onemo_state *st, const char *origin)
{
	for (size_t i = 0; i < ONEMO_SLOTS; i++)
		if (st->inst[i].live && strcasecmp(st->inst[i].origin, origin) == 0)
			return &st->inst[i];
	return NULL;
}

static struct onemo_instance *least_recent(struct onemo_state *st)
{
	struct onemo_instance *lru = NULL;
	for (size_t i = 0; i < ONEMO_SLOTS; i++)
		if (st->inst[i].live && (!lru || st->inst[i].used < lru->used))
			lru = &st->inst[i];
	return lru;
}

static struct onemo_instance *free_slot(struct onemo_state *st)
{
	for (size_t i = 0; i < ONEMO_SLOTS; i++)
		if (!st->inst[i].live)
			return &st->inst[i];
	return NULL;
}

static void forget_id(struct onemo_state *st, int id)
{
	for (size_t i = 0; i < ONEMO_SLOTS; i++)
		if (st->inst[i].live && st->inst[i].id == id)
			st->inst[i].live = false;
}

/* AT+MHTTPDEL=<id>, whatever it answers (652: there was none); the
 * answer in *r when r is not NULL. */
static enum ath_err delete_id_as(struct modem_io *io, int id, struct at_result *r, struct ath_error *err)
{
	struct at_result own;
	if (!r)
		r = &own;
	forget_id(state_of(io), id);
	enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.cmd_ms), r, "AT+MHTTPDEL=%d", id);
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+MHTTPDEL");
	if (r->final != AT_FINAL_OK)
		trace_note(io->trace, "AT+MHTTPDEL=%d: %s", id, r->text);
	return ATH_OK;
}

static enum ath_err delete_id(struct modem_io *io, int id, struct ath_error *err)
{
	return delete_id_as(io, id, NULL, err);
}

static const struct onemo_model *model_of(const struct onemo_state *st)
{
	return st->model ? st->model : &onemo_general;
}

static const char *model_name_of(const struct onemo_state *st)
{
	return st->model_name[0] ? st->model_name : onemo_general.series;
}

static int urc_fields(const char *s, const char *word, long long *v, int n);
static const char *urc_rest(const char *line);

/* The instances the module has, by AT+MHTTPCFG="chunked" (3.1: with only
 * <cmd>, one line per created instance, none at all on a fresh module).
 * *n is -1 when the module refused the query. */
static enum ath_err query_instances(struct modem_io *io, int ids[ONEMO_SLOTS * 4], int *n, struct ath_error *err)
{
	struct at_result r;
	*n = 0;
	at_chat_clear_queue(io->chat);
	enum ath_err e = at_chat_cmd(io->chat, timeouts.cmd_ms, &r, "AT+MHTTPCFG=\"chunked\"");
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+MHTTPCFG=\"chunked\"");
	if (r.final != AT_FINAL_OK) {
		trace_note(io->trace, "AT+MHTTPCFG=\"chunked\": %s (instances unknown)", r.text);
		*n = -1;
		return ATH_OK;
	}
	char line[AT_LINE_MAX + 1];
	while (at_chat_take_line(io->chat, "+MHTTPCFG:", line, sizeof line)) {
		long long v[2];
		if (urc_fields(urc_rest(line), "chunked", v, 2) != 2 || v[0] >= 64) {
			at_chat_clear_queue(io->chat);
			return ath_fail(err, ATH_E_PROTOCOL, -1, "AT+MHTTPCFG=\"chunked\" answered an unknown line: %s",
					line);
		}
		bool seen = false;
		for (int i = 0; i < *n; i++)
			seen = seen || ids[i] == (int)v[0];
		if (!seen && *n < ONEMO_SLOTS * 4)
			ids[(*n)++] = (int)v[0];
	}
	return ATH_OK;
}

/* Deletes every instance the module has: those the query names (one
 * busy with another program's request is terminated first, 3.8), or,
 * where the firmware refuses the query, every id the model has. */
static enum ath_err delete_existing(struct modem_io *io, struct ath_error *err)
{
	int ids[ONEMO_SLOTS * 4], n;
	enum ath_err e = query_instances(io, ids, &n, err);
	if (e != ATH_OK)
		return e;
	if (n < 0) {
		n = model_of(state_of(io))->slots;
		for (int id = 0; id < n; id++)
			ids[id] = id;
	}
	for (int i = 0; i < n; i++) {
		struct at_result r;
		if ((e = delete_id_as(io, ids[i], &r, err)) != ATH_OK)
			return e;
		if (r.final == AT_FINAL_CME && r.code == CME_ERROR_BUSY) {
			e = at_chat_cmd(io->chat, timeouts.cmd_ms, &r, "AT+MHTTPTERM=%d", ids[i]);
			if (e != ATH_OK)
				return at_no_answer(err, e, "AT+MHTTPTERM");
			if ((e = delete_id(io, ids[i], err)) != ATH_OK)
				return e;
		}
	}
	return ATH_OK;
}

/* Makes room for one more instance: the least recently used goes, or,
 * with none known, every one the module has (another user's may hold the
 * slots). */
static enum ath_err make_room(struct modem_io *io, struct ath_error *err)
{
	struct onemo_instance *lru = least_recent(state_of(io));
	if (lru)
		return delete_id(io, lru->id, err);
	return delete_existing(io, err);
}

/* "+MHTTPCREATE: <id>" (or without the blank) into an id; -1 if not one. */
static int created_id(const char *line)
{
	struct at_result_iter it;
	long long id;
	at_result_iter_init(&it, line);
	if (!at_result_iter_next(&it, "+MHTTPCREATE:") || !at_result_iter_next_number(&it, &id) ||
	    !at_result_iter_end(&it))
		return -1;
	return id >= 0 && id < 64 ? (int)id : -1;
}

static enum ath_err create_instance(struct modem_io *io, const char *origin, struct onemo_instance **out,
				    struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	enum ath_err e;
	if (!free_slot(st) && (e = make_room(io, err)) != ATH_OK)
		return e;
	for (int attempt = 0;; attempt++) {
		struct at_result r;
		at_chat_clear_queue(io->chat);
		e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.cmd_ms), &r, "AT+MHTTPCREATE=\"%s\"", origin);
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+MHTTPCREATE");
		if (r.final == AT_FINAL_CME && r.code == CME_ERROR_NO_FREE_CLIENT && attempt == 0) {
			trace_note(io->trace, "no free client: deleting the least recently used instance");
			if ((e = make_room(io, err)) != ATH_OK)
				return e;
			continue;
		}
		if (r.final != AT_FINAL_OK)
			return refused(err, &r, "AT+MHTTPCREATE");
		char line[64];
		int id = at_chat_take_line(io->chat, "+MHTTPCREATE:", line, sizeof line) ? created_id(line) : -1;
		if (id < 0)
			return ath_fail(err, ATH_E_PROTOCOL, -1, "AT+MHTTPCREATE answered OK without an instance id");
		forget_id(st, id); /* the module's word over a stale entry */
		struct onemo_instance *in = free_slot(st);
		if (!in) {
			/* More ids than slots (a module with more than the
			 * manual's four): drop the oldest entry. */
			in = least_recent(st);
		}
		*in = (struct onemo_instance){ .live = true, .id = id };
		snprintf(in->origin, sizeof in->origin, "%s", origin);
		*out = in;
		return ATH_OK;
	}
}

/* ------------------------------------------------------------ sending */

/* "<cmd>=<id>,<eof>,<len>", the prompt, the bytes, OK. */
static enum ath_err data_phase(struct modem_io *io, const char *cmd, int id, int eof, const void *data,
			       size_t len, struct ath_error *err)
{
	struct at_result r;
	char line[AT_CMD_MAX];
	snprintf(line, sizeof line, "%s=%d,%d,%zu", cmd, id, eof, len);
	int ms = (int)wire_ms(len, io->baud);
	struct at_data_phase dp = {
		.cmd = line, .prompt_ms = wait_command_ms(io, timeouts.cmd_ms), .data = data, .len = len,
		.data_ms = ms, .final_ms = wait_command_ms(io, ms + timeouts.cmd_ms),
	};
	struct at_data_outcome got;
	enum ath_err e = at_data_phase(io->chat, &dp, &r, &got);
	if (e != ATH_OK)
		return at_no_answer(err, e, cmd);
	/* A refusal of the command, or of the bytes. */
	if (r.final != AT_FINAL_OK || !got.prompted)
		return refused(err, &r, cmd);
	return ATH_OK;
}

/* In the command itself when the quotes can hold it. */
static bool command_mode(const char *field, size_t len)
{
	return len <= ONEMO_CMD_HEADER_MAX && quoted_ok(field, len);
}

static enum ath_err send_headers(struct modem_io *io, int id, const struct plan *pl, struct ath_error *err)
{
	for (size_t i = 0; i < pl->n_fields; i++) {
		const char *f = pl->fields[i];
		size_t len = strlen(f);
		int eof = i + 1 < pl->n_fields ? 1 : 0;
		enum ath_err e;
		if (command_mode(f, len)) {
			struct at_result r;
			e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.cmd_ms), &r, "AT+MHTTPHEADER=%d,%d,%zu,\"%s\"", id, eof, len, f);
			if (e != ATH_OK)
				return at_no_answer(err, e, "AT+MHTTPHEADER");
			if (r.final != AT_FINAL_OK)
				return refused(err, &r, "AT+MHTTPHEADER");
		} else if ((e = data_phase(io, "AT+MHTTPHEADER", id, eof, f, len, err)) != ATH_OK) {
			return e;
		}
	}
	return ATH_OK;
}

static enum ath_err send_content(struct modem_io *io, int id, const struct dialect_request *rq,
				 struct ath_error *err)
{
	for (size_t off = 0; off < rq->body_len; off += ONEMO_PIECE) {
		size_t n = rq->body_len - off < ONEMO_PIECE ? rq->body_len - off : ONEMO_PIECE;
		int eof = off + n < rq->body_len ? 1 : 0;
		enum ath_err e = data_phase(io, "AT+MHTTPCONTENT", id, eof, rq->body + off, n, err);
		if (e != ATH_OK)
			return e;
	}
	return ATH_OK;
}

/* ------------------------------------------------------------ SSL commands */

/* AT+MSSLCFG for each setting of table on context ctx.  A needed one
 * refused: false, and why names the command and the module's answer.
 * Only no answer at all is an error. */
static enum ath_err apply_settings(struct modem_io *io, int ctx, const struct ssl_setting *table, bool *all,
				   char *why, size_t why_len, struct ath_error *err)
{
	*all = true;
	for (const struct ssl_setting *t = table; t->item; t++) {
		struct at_result r;
		char cmd[160];
		if (t->value)
			snprintf(cmd, sizeof cmd, "AT+MSSLCFG=\"%s\",%d,%s", t->item, ctx, t->value);
		else
			snprintf(cmd, sizeof cmd, "AT+MSSLCFG=\"%s\",%d,\"%s\"", t->item, ctx, tls_profile.ca_name);
		enum ath_err e = at_chat_cmd(io->chat, timeouts.cmd_ms, &r, "%s", cmd);
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+MSSLCFG");
		if (r.final == AT_FINAL_OK)
			continue;
		const struct module_code *c = r.final == AT_FINAL_CME
			? module_code_find(MODULE_CODES(cme_codes), r.code) : NULL;
		trace_note(io->trace, "%s: %s", cmd, r.text);
		if (t->needed && *all) {
			*all = false;
			if (snprintf(why, why_len, "the module refused %s (%s%s%s), so it cannot verify servers", cmd,
				     r.text, c ? ": " : "", c ? c->meaning : "") >= (int)why_len)
				trace_note(io->trace, "(the reason was cut short)");
		}
	}
	return ATH_OK;
}

/* The --module-ca roots into the module's file system: AT+MSSLCERTWR=
 * "<name>",<remain_length>,<length>, '>', the PEM bytes, OK (3.2; each
 * piece says how much is still to come, 0 on the last).  Refused: false
 * and why. */
static enum ath_err write_ca(struct modem_io *io, bool *written, char *why, size_t why_len, struct ath_error *err)
{
	const char *pem = io->tls->ca_pem;
	size_t len = io->tls->ca_len;
	*written = false;
	if (len > tls_profile.ca_max) {
		snprintf(why, why_len,
			 "the --module-ca roots are %zu bytes, over the %zu bytes AT+MSSLCERTWR holds in one certificate file",
			 len, tls_profile.ca_max);
		return ATH_OK;
	}
	for (size_t off = 0; off < len;) {
		size_t n = len - off < tls_profile.ca_piece ? len - off : tls_profile.ca_piece;
		struct at_result r;
		char cmd[AT_CMD_MAX];
		snprintf(cmd, sizeof cmd, "AT+MSSLCERTWR=\"%s\",%zu,%zu", tls_profile.ca_name, len - off - n, n);
		int ms = (int)wire_ms(n, io->baud);
		struct at_data_phase dp = {
			.cmd = cmd, .prompt_ms = timeouts.cmd_ms, .data = pem + off, .len = n,
			.data_ms = ms, .final_ms = ms + timeouts.cmd_ms,
		};
		struct at_data_outcome got;
		/* A refusal before the prompt is reported as one after it. */
		enum ath_err e = at_data_phase(io->chat, &dp, &r, &got);
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+MSSLCERTWR");
		/* An OK without the prompt wrote nothing: a file of that name
		 * left by an earlier program would be verified against in place
		 * of the roots we were given. */
		bool unasked = r.final == AT_FINAL_OK && !got.prompted;
		if (r.final != AT_FINAL_OK || unasked) {
			const struct module_code *c = r.final == AT_FINAL_CME
				? module_code_find(MODULE_CODES(cme_codes), r.code) : NULL;
			if (snprintf(why, why_len, "the module refused the --module-ca roots: AT+MSSLCERTWR answered %s%s%s%s",
				     r.text, c ? ": " : "", c ? c->meaning : "",
				     unasked ? " without asking for the bytes" : "") >= (int)why_len)
				trace_note(io->trace, "(the reason was cut short)");
			trace_note(io->trace, "%s", why);
			return ATH_OK;
		}
		off += n;
	}
	*written = true;
	return ATH_OK;
}

static enum ath_err setup_contexts(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	enum ath_err e;
	bool ok = false;
	v->verified = false;
	v->why[0] = '\0';
	if (!io->tls->ca_pem || io->tls->ca_len == 0) {
		snprintf(v->why, sizeof v->why, "no --module-ca given");
	} else if ((e = write_ca(io, &ok, v->why, sizeof v->why, err)) != ATH_OK) {
		return e;
	} else if (ok && (e = apply_settings(io, tls_profile.https_ctx, verify_on, &ok, v->why, sizeof v->why,
					     err)) != ATH_OK) {
		return e;
	}
	if (!ok) {
		/* The context must not verify half-way: off, so that
		 * --insecure-upstream can run; modem.c refuses otherwise. */
		bool off;
		char ignored[8];
		if ((e = apply_settings(io, tls_profile.https_ctx, verify_off, &off, ignored, sizeof ignored, err)) !=
		    ATH_OK)
			return e;
	}
	v->verified = ok;
	st->tls_ready = true;
	st->tls_verified = ok;
	st->verdict = *v;
	if (!ok)
		trace_note(io->trace, "https unverified: %s", v->why);
	return ATH_OK;
}

/* Done at bring-up already when --module-ca was given (see onemo_bringup):
 * the verdict of then. */
static enum ath_err onemo_tls_setup(struct modem_io *io, struct tls_verdict *v, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	if (st->tls_ready) {
		*v = st->verdict;
		return ATH_OK;
	}
	return setup_contexts(io, v, err);
}

/* The guard context, once per bring-up; a module without AT+MSSLCFG
 * (MN318, MN319, MN316A: no SSL at all) follows no redirect to https. */
static enum ath_err setup_guard(struct modem_io *io, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	bool ok;
	char ignored[8];
	enum ath_err e = apply_settings(io, tls_profile.guard_ctx, guard, &ok, ignored, sizeof ignored, err);
	if (e != ATH_OK)
		return e;
	st->guard_ready = ok;
	return ATH_OK;
}

/* Right after AT+MHTTPCREATE: the instance's SSL context (see the SSL
 * side above).  For https a refusal fails the request; for http it is
 * noted (a module without "ssl", note 1 of 3.1, has no SSL to follow a
 * redirect with). */
static enum ath_err bind_ssl(struct modem_io *io, const struct onemo_instance *in, bool tls, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	int ctx;
	if (tls)
		ctx = tls_profile.https_ctx;
	else if (st->tls_verified)
		ctx = tls_profile.https_ctx;
	else if (st->guard_ready)
		ctx = tls_profile.guard_ctx;
	else
		return ATH_OK;
	struct at_result r;
	enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.cmd_ms), &r, "AT+MHTTPCFG=\"ssl\",%d,%d,%d", in->id, tls ? 1 : 0,
				     ctx);
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+MHTTPCFG");
	if (r.final == AT_FINAL_OK)
		return ATH_OK;
	if (tls)
		return refused(err, &r, "AT+MHTTPCFG=\"ssl\"");
	trace_note(io->trace, "AT+MHTTPCFG=\"ssl\",%d,0,%d: %s", in->id, ctx, r.text);
	return ATH_OK;
}

/* ------------------------------------------------------------ the response */

struct urc_ctx {
	struct modem_io *io;
	const struct response_sink *sink;
	unsigned verb;
	int id;

	bool in_block, skip_block;   /* the block under way, and whether it is ours */
	bool head_block;

	char *head;                  /* the header URC's bytes, gathered */
	size_t head_len;
	bool head_sent;
	bool no_body;
	long long announced;         /* what the sink was told (-1 unknown) */

	long long content_len, sum_len, cur_len;   /* the content URC under way */
	unsigned long long got;      /* body bytes so far */

	bool tls;                    /* an https instance's request */
	bool done, client_gone, failed;
	char why[160];
	int err_code;                /* of an "err" URC for our instance; -1 none */
};

static void urc_fail(struct urc_ctx *uc, const char *why)
{
	if (!uc->failed)
		snprintf(uc->why, sizeof uc->why, "%s", why);
	uc->failed = true;
}

/* The text after a URC's prefix ("+MHTTPURC:" or "+MHTTPPURC:") and its
 * blanks. */
static const char *urc_rest(const char *line)
{
	const char *c = strchr(line, ':');
	if (!c)
		return "";
	for (c++; *c == ' '; c++)
		;
	return c;
}

/* s is the quoted word followed by ",<n>" fields (blanks allowed), each
 * a number >= 0: reads up to n of them; returns how many it read, -1 if s
 * does not begin with the word. */
static int urc_fields(const char *s, const char *word, long long *v, int n)
{
	struct at_result_iter it;
	char got[16];
	at_result_iter_init(&it, s);
	if (!at_result_iter_next_string(&it, got, sizeof got) || strcmp(got, word) != 0)
		return -1;
	for (int i = 0; i < n; i++)
		if (!at_result_iter_next_number(&it, &v[i]) || v[i] < 0)
			return i;
	return n;
}

static bool status_without_body(int status)
{
	return (status >= 100 && status < 200) || status == 204 || status == 304;
}

/* The header URC is all in: the head goes to the client. */
static void head_complete(struct urc_ctx *uc)
{
	struct http_head h;
	if (http_head_parse(&h, uc->head, uc->head_len) != 0) {
		urc_fail(uc, "the module's header URC holds no HTTP response head");
		return;
	}
	if (h.status >= 100 && h.status < 200 && h.status != 101) {
		/* An interim response: the real one follows. */
		http_head_free(&h);
		uc->head_len = 0;
		return;
	}
	if (uc->verb == VERB_HEAD) {
		uc->no_body = true;
		uc->announced = h.content_length; /* the origin's figure */
	} else if (status_without_body(h.status)) {
		uc->no_body = true;
		uc->announced = 0;
	} else {
		uc->announced = h.chunked ? -1 : h.content_length;
		uc->no_body = uc->announced == 0;
	}
	uc->head_sent = true;
	if (uc->sink->head(uc->sink->ctx, &h, uc->announced, false) != ATH_OK)
		uc->client_gone = true;
	http_head_free(&h);
	/* No content URC comes for a response without a body. */
	if (uc->no_body)
		uc->done = true;
}

static void block_start(struct urc_ctx *uc, const char *header)
{
	const char *rest = urc_rest(header);
	long long v[4];
	uc->in_block = true;
	uc->skip_block = true;
	if (uc->done || uc->failed)
		return;
	if (urc_fields(rest, "header", v, 3) == 3) {
		uc->head_block = true;
		if (v[0] != uc->id || uc->head_sent) {
			trace_note(uc->io->trace, "header URC of instance %lld ignored", v[0]);
			return;
		}
		if (v[2] > ONEMO_MAX_HEAD) {
			urc_fail(uc, "the module's header URC is over 64 KB");
			return;
		}
		char *p = realloc(uc->head, (size_t)v[2] + 1);
		if (!p) {
			urc_fail(uc, "out of memory");
			return;
		}
		uc->head = p;
		uc->head_len = 0;
		uc->skip_block = false;
		return;
	}
	if (urc_fields(rest, "content", v, 4) == 4) {
		uc->head_block = false;
		if (v[0] != uc->id)
			return;
		if (!uc->head_sent) {
			/* A stray end of an earlier response is harmless; data is not. */
			if (v[3] > 0)
				urc_fail(uc, "the module sent content before the response head");
			return;
		}
		if (uc->no_body)
			return;
		uc->content_len = v[1];
		uc->sum_len = v[2];
		uc->cur_len = v[3];
		uc->skip_block = false;
		return;
	}
	trace_note(uc->io->trace, "block ignored: %s", header);
}

static void block_end(struct urc_ctx *uc)
{
	uc->in_block = false;
	if (uc->skip_block)
		return;
	if (uc->head_block) {
		head_complete(uc);
		return;
	}
	/* The pieces' own counts must add up (the OneMO HTTP manual,
	 * +MHTTPURC "content": sum_len is the bytes so far, this piece
	 * included, of content_len in all): otherwise bytes were lost or
	 * added on the line, and the body is not the origin's. */
	if (uc->got != (unsigned long long)uc->sum_len) {
		at_chat_framing_error(uc->io->chat, "content URC says %lld bytes so far, %llu arrived", uc->sum_len,
				      uc->got);
		return;
	}
	if (uc->content_len > 0 && uc->sum_len > uc->content_len) {
		at_chat_framing_error(uc->io->chat, "content URC: %lld bytes so far of %lld", uc->sum_len,
				      uc->content_len);
		return;
	}
	if (uc->announced >= 0 && uc->got > (unsigned long long)uc->announced) {
		at_chat_framing_error(uc->io->chat, "%llu body bytes for a Content-Length of %lld", uc->got,
				      uc->announced);
		return;
	}
	if (uc->cur_len == 0 || (uc->content_len > 0 && uc->sum_len >= uc->content_len) ||
	    (uc->announced >= 0 && uc->got >= (unsigned long long)uc->announced))
		uc->done = true;
	/* The URCs' own count ended the body short of the head's. */
	if (uc->done && uc->announced >= 0 && uc->got < (unsigned long long)uc->announced)
		urc_fail(uc, "the module's content ended short of the response's Content-Length");
}

static void urc_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct urc_ctx *uc = ctx;
	if (!uc->in_block)
		block_start(uc, header);
	if (!uc->skip_block && len) {
		if (uc->head_block) {
			memcpy(uc->head + uc->head_len, data, len);
			uc->head_len += len;
		} else if (uc->announced >= 0 && uc->got + len > (unsigned long long)uc->announced) {
			/* Never a byte past the head's Content-Length. */
			urc_fail(uc, "the module's content runs past the response's Content-Length");
			uc->skip_block = true;
		} else {
			uc->got += len;
			if (!uc->client_gone && uc->sink->body(uc->sink->ctx, data, len) != ATH_OK)
				uc->client_gone = true;
		}
	}
	if (left == 0)
		block_end(uc);
}

/* +MHTTPURC: "err",<id>,<code> as the client's error. */
static enum ath_err err_urc(struct ath_error *err, int code, bool head_sent, bool tls)
{
	const struct module_code *c = module_code_find(MODULE_CODES(err_codes), code);
	/* An http request meets SSL only by a redirect the module followed
	 * (the SSL side above): say so. */
	bool redirect = code == ONEMO_ERR_SSL && !tls;
	return ath_fail_status(err, ATH_E_MODULE, c ? c->http_status : 502, code, "+MHTTPURC \"err\" %d: %s%s%s",
			       code, c ? c->meaning : "unknown error code",
			       redirect ? " (the module followed a redirect to https, which it may do only verified)"
					: "",
			       head_sent ? " (the response was cut short)" : "");
}

/* The response is over, as the block sink saw it. */
static bool response_ended(const struct urc_ctx *uc)
{
	return uc->failed || uc->done || uc->client_gone;
}

/* at_chat_wait_until's condition: the response is over, or an "err" URC
 * for our instance came.  URC lines are taken in the order they came;
 * any other is ignored. */
static bool response_over(void *ctx)
{
	static const char *const urcs[] = { "+MHTTPURC:", "+MHTTPPURC:", NULL };
	struct urc_ctx *uc = ctx;
	char line[128];
	int which;
	while (at_chat_take_line_any(uc->io->chat, urcs, &which, line, sizeof line)) {
		long long v[2];
		if (urc_fields(urc_rest(line), "err", v, 2) == 2 && v[0] == uc->id) {
			uc->err_code = (int)v[1];
			return true;
		}
		trace_note(uc->io->trace, "ignored: %s", line);
		if (response_ended(uc))
			return true;
	}
	return response_ended(uc);
}

/* Waits for the response's end: the block sink says when it came. */
static enum ath_err await_response(struct modem_io *io, struct urc_ctx *uc, struct ath_error *err)
{
	/* Until the response's end a line is one of the manual's URCs (or a
	 * 27.007 one): anything else is displaced data. */
	static const char *const expect[] = { "+MHTTPURC:", "+MHTTPPURC:", NULL };
	enum ath_err e = ATH_OK;
	if (at_chat_framing_broken(io->chat))
		return at_chat_failed(io->chat, err, ATH_E_PROTOCOL, "AT+MHTTPREQUEST (waiting for +MHTTPURC)");
	at_chat_strict_lines(io->chat, expect);
	if (!response_ended(uc))
		e = at_chat_wait_until(io->chat, response_over, uc, wait_server_ms(io));
	at_chat_strict_lines(io->chat, NULL);
	if (e == ATH_E_TIMEOUT) {
		char span[32];
		if (io->action_timeout_ms % 1000)
			snprintf(span, sizeof span, "%d ms", io->action_timeout_ms);
		else
			snprintf(span, sizeof span, "%d s", io->action_timeout_ms / 1000);
		if (uc->head_sent)
			return ath_fail(err, ATH_E_TIMEOUT, -1, "the response stopped after %llu body bytes: nothing for %s",
					uc->got, span);
		return ath_fail(err, ATH_E_TIMEOUT, -1, "no response from the server within %s", span);
	}
	if (e != ATH_OK)
		return at_chat_failed(io->chat, err, e, "AT+MHTTPREQUEST (waiting for +MHTTPURC)");
	if (uc->err_code >= 0)
		return err_urc(err, uc->err_code, uc->head_sent, uc->tls);
	if (uc->failed)
		return ath_fail(err, ATH_E_PROTOCOL, -1, "%s", uc->why);
	return ATH_OK;
}

/* The client went away mid-body: stop the transfer, let the module's
 * last words pass, and drop the instance (TERM keeps what was set). */
static enum ath_err abandon_transfer(struct modem_io *io, int id, struct ath_error *err)
{
	struct at_result r;
	enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.cmd_ms), &r, "AT+MHTTPTERM=%d", id);
	at_chat_set_block_sink(io->chat, NULL, NULL);
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+MHTTPTERM");
	at_chat_drain(io->chat, 200, 3000);
	return delete_id(io, id, err);
}

/* ------------------------------------------------------------ ops */

/* AT+CGMM (3GPP TS 27.007 5.2): the model's name on a line of its own
 * ("+CGMM: " before it tolerated).  Not answered, or a model the table
 * does not know: the general rules. */
static enum ath_err learn_model(struct modem_io *io, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	struct at_result r;
	at_chat_clear_queue(io->chat);
	enum ath_err e = at_chat_cmd(io->chat, timeouts.cmd_ms, &r, "AT+CGMM");
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+CGMM");
	char line[AT_LINE_MAX + 1];
	const char *name = NULL;
	while (r.final == AT_FINAL_OK && !name && at_chat_take_line(io->chat, "", line, sizeof line)) {
		const char *p = line;
		if (strncasecmp(p, "+CGMM:", 6) == 0)
			p += 6;
		while (*p == ' ' || *p == '"')
			p++;
		if (*p)
			name = p;
	}
	at_chat_clear_queue(io->chat);
	if (!name) {
		trace_note(io->trace, "AT+CGMM: %s (model unknown: the manual's general limits)", r.text);
		return ATH_OK;
	}
	snprintf(st->model_name, sizeof st->model_name, "%.*s", (int)strcspn(name, "\""), name);
	st->model = model_named(st->model_name);
	const struct onemo_model *m = model_of(st);
	trace_note(io->trace, "model %s%s: bodies up to %zu bytes, headers %zu bytes in all (0: no total)%s",
		   st->model_name, st->model ? "" : " (not in the table: the manual's general limits)", m->max_body,
		   m->max_headers, m->data_mode ? "" : ", no data mode");
	return ATH_OK;
}

static enum ath_err onemo_bringup(struct modem_io *io, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	memset(st, 0, sizeof *st);
	enum ath_err e = at_sync(io->chat, err);
	if (e != ATH_OK)
		return e;
	struct at_result r;
	e = at_chat_cmd(io->chat, timeouts.cmd_ms, &r, "AT+CMEE=1");
	if (e != ATH_OK)
		return at_no_answer(err, e, "AT+CMEE=1");
	if (r.final != AT_FINAL_OK)
		trace_note(io->trace, "AT+CMEE=1: %s (errors come without codes)", r.text);
	if ((e = learn_model(io, err)) != ATH_OK)
		return e;
	/* Whatever an earlier process left. */
	if ((e = delete_existing(io, err)) != ATH_OK)
		return e;
	if ((e = setup_guard(io, err)) != ATH_OK)
		return e;
	/* With roots given, the https context is made to verify now, before
	 * the first instance: then http instances are bound to it and a
	 * redirect to https works, verified, instead of meeting the guard. */
	if (io->tls && io->tls->ca_pem) {
		struct tls_verdict v;
		return setup_contexts(io, &v, err);
	}
	return ATH_OK;
}

static enum ath_err onemo_recover(struct modem_io *io, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	if (st->busy) {
		/* The chat may still wait for a result that never came. */
		at_chat_drain(io->chat, 100, 1000);
		struct at_result r;
		enum ath_err e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.cmd_ms), &r, "AT+MHTTPTERM=%d", st->busy - 1);
		if (e == ATH_E_IO)
			return at_no_answer(err, e, "AT+MHTTPTERM");
		st->busy = 0;
	}
	at_chat_drain(io->chat, 200, 3000);
	return onemo_bringup(io, err);
}

/* Headers, content and AT+MHTTPREQUEST on instance in: up to the
 * request's OK. */
static enum ath_err send_request(struct modem_io *io, const struct dialect_request *rq, const struct plan *pl,
				 int id, struct ath_error *err)
{
	enum ath_err e = send_headers(io, id, pl, err);
	if (e == ATH_OK)
		e = send_content(io, id, rq, err);
	if (e != ATH_OK)
		return e;
	/* Only what comes from here on answers this request. */
	at_chat_clear_queue(io->chat);
	struct at_result r;
	e = at_chat_cmd(io->chat, io->action_timeout_ms, &r, "AT+MHTTPREQUEST=%d,%d,0,\"%s\"", id, pl->method,
			pl->path);
	if (e != ATH_OK)
		return at_chat_failed(io->chat, err, e, "AT+MHTTPREQUEST");
	if (r.final != AT_FINAL_OK)
		return refused(err, &r, "AT+MHTTPREQUEST");
	return ATH_OK;
}

static enum ath_err onemo_exchange(struct modem_io *io, const struct dialect_request *rq,
				   const struct response_sink *sink, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	struct plan pl;
	enum ath_err e = plan_request(rq, model_of(st), model_name_of(st), &pl, err);
	if (e != ATH_OK)
		return e;
	if (pl.tls && (!st->tls_ready || (rq->verify_upstream && !st->tls_verified))) {
		plan_free(&pl);
		return ath_fail_status(err, ATH_E_MODULE, 502, -1, "%s",
				       st->tls_ready ? "https: the module was not set up to verify the server"
						     : "https: the module's SSL context was not set up");
	}
	struct urc_ctx uc = { .io = io, .sink = sink, .verb = rq->verb, .announced = -1, .err_code = -1,
			      .tls = pl.tls };
	struct onemo_instance *in = NULL;
	for (int attempt = 0;; attempt++) {
		in = instance_for(st, pl.origin);
		bool reused = in != NULL;
		if (!in) {
			if ((e = create_instance(io, pl.origin, &in, err)) != ATH_OK)
				goto out;
			if ((e = bind_ssl(io, in, pl.tls, err)) != ATH_OK) {
				struct ath_error derr;
				ath_error_clear(&derr);
				if (e == ATH_E_MODULE && delete_id(io, in->id, &derr) != ATH_OK)
					trace_note(io->trace, "%s", derr.text);
				goto out;
			}
		}
		in->used = ++st->tick;
		uc.id = in->id;
		/* Armed before the request: a fast origin's answer may come
		 * with its OK. */
		at_chat_set_block_sink(io->chat, urc_block, &uc);
		st->busy = in->id + 1;
		e = send_request(io, rq, &pl, in->id, err);
		if (e == ATH_OK)
			break;
		at_chat_set_block_sink(io->chat, NULL, NULL);
		if (e != ATH_E_MODULE)
			goto out; /* no answer: recover() terminates the busy instance */
		st->busy = 0;
		if (err->module_code == CME_ERROR_NOT_CREATED) {
			forget_id(st, in->id);
			if (reused && attempt == 0) {
				trace_note(io->trace, "instance %d is gone from the module: creating it again", in->id);
				continue;
			}
			goto out;
		}
		/* Headers or content it may hold would go with the next request. */
		struct ath_error derr;
		ath_error_clear(&derr);
		if (delete_id(io, in->id, &derr) != ATH_OK)
			trace_note(io->trace, "%s", derr.text);
		goto out;
	}

	e = await_response(io, &uc, err);
	if (e == ATH_OK && uc.client_gone) {
		if (!uc.done) {
			struct ath_error terr;
			ath_error_clear(&terr);
			if (abandon_transfer(io, uc.id, &terr) != ATH_OK)
				trace_note(io->trace, "%s", terr.text);
		}
		e = ath_fail(err, ATH_E_CLIENT_GONE, -1, "client gone");
	}
	at_chat_set_block_sink(io->chat, NULL, NULL);
	if (e == ATH_OK || e == ATH_E_MODULE || e == ATH_E_CLIENT_GONE)
		st->busy = 0;
	if (e == ATH_E_MODULE) {
		/* The err URC ended the request; nothing of it may linger. */
		struct ath_error derr;
		ath_error_clear(&derr);
		if (delete_id(io, uc.id, &derr) != ATH_OK)
			trace_note(io->trace, "%s", derr.text);
	}
out:
	free(uc.head);
	plan_free(&pl);
	return e;
}

/* What this engine created goes, so the next program finds the module as
 * a fresh one (its own bring-up then deletes nothing).  A request still in
 * flight is terminated first (3.8). */
static enum ath_err onemo_teardown(struct modem_io *io, struct ath_error *err)
{
	struct onemo_state *st = state_of(io);
	enum ath_err e;
	if (st->busy) {
		struct at_result r;
		e = at_chat_cmd(io->chat, wait_command_ms(io, timeouts.cmd_ms), &r, "AT+MHTTPTERM=%d", st->busy - 1);
		if (e != ATH_OK)
			return at_no_answer(err, e, "AT+MHTTPTERM");
		st->busy = 0;
	}
	for (size_t i = 0; i < ONEMO_SLOTS; i++)
		if (st->inst[i].live && (e = delete_id(io, st->inst[i].id, err)) != ATH_OK)
			return e;
	return ATH_OK;
}

/* ------------------------------------------------------------ the record */

/* The URCs, in every spelling the manual prints (its typo +MHTTPPURC
 * too): the length is the third field of "header", the fourth of
 * "content". */
static const struct at_block_rule onemo_blocks[] = {
	{ NULL, 0, NULL, false },
};
static const struct at_field_block_rule onemo_field_blocks[] = {
	{ "+MHTTPURC:", "\"header\"", 3, 3, true },
	{ "+MHTTPURC:", "\"content\"", 4, 4, false },
	{ "+MHTTPPURC:", "\"header\"", 3, 3, true },
	{ "+MHTTPPURC:", "\"content\"", 4, 4, false },
	{ NULL, NULL, 0, 0, false },
};
/* The manual's own examples print "+MHTTPURC:" alone, the rest on the
 * next line. */
static const char *const onemo_joined[] = { "+MHTTPURC:", "+MHTTPPURC:", NULL };
/* "+MHTTPURC: \"ind\",<id>" may come without its line end. */
static const struct at_bare_line_rule onemo_bare_lines[] = {
	{ "+MHTTPURC:", "\"ind\",", 1 },
	{ "+MHTTPPURC:", "\"ind\",", 1 },
	{ NULL, NULL, 0 },
};

/* Each URC's data ends with its line break (the manual's examples). */
static const struct at_syntax onemo_syntax = {
	.block_trailer = "\r\n",
	.blocks = onemo_blocks,
	.prompt_lines = NULL, /* the prompt is '>', which the parser knows */
	.streams = NULL,
	.failure_lines = NULL,
	.field_blocks = onemo_field_blocks,
	.joined_prefixes = onemo_joined,
	.bare_lines = onemo_bare_lines,
};

static const char *const onemo_carried[] = { "*", NULL };

static const struct dialect_caps onemo_caps = {
	.methods = VERB_GET | VERB_HEAD | VERB_POST | VERB_PUT | VERB_DELETE,
	.body_methods = VERB_POST | VERB_PUT,
	/* The largest any model takes: before bring-up has named the model
	 * the bridge must let every body through that some model can send;
	 * the exchange holds each model to its own (onemo_models). */
	.max_body = ONEMO_CHAINED_BODY_MAX,
	.max_url = ONEMO_MAX_URL,
	.raw_request = false,
	.carried_headers = onemo_carried,
	/* One AT+MHTTPHEADER data phase holds "Name: value"; the driver
	 * checks the whole field (a long name leaves less). */
	.max_header_value = ONEMO_PIECE - (sizeof "Name: " - 1),
	.value_carriage = CARRY_ANY,
	.real_response_head = true,
	.body_limit_name = "AT+MHTTPCONTENT",
};

static const struct dialect_ops onemo_ops = {
	.bringup = onemo_bringup,
	.exchange = onemo_exchange,
	.recover = onemo_recover,
	.tls_setup = onemo_tls_setup,
	.teardown = onemo_teardown,
};

const struct dialect dialect_onemo = {
	.name = "onemo",
	.summary = "China Mobile OneMO ML302/ML307/MN316 (AT+MHTTPCREATE, +MHTTPURC)",
	.caps = &onemo_caps,
	.syntax = &onemo_syntax,
	.ops = &onemo_ops,
	.state_size = sizeof(struct onemo_state),
	.params = NULL,
	/* The OneMO AT manual, AT+MHTTPCREATE's test command. */
	.identify_probe = "AT+MHTTPCREATE=?",
	.netup = &netup_profile_27007,
};
