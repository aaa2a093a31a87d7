/*
 * athttp-emu — pretends to be a cellular module that speaks AT HTTP commands,
 * on a pty, so athttp can be tested without hardware.
 *
 * Pieces, one a file:
 *   emu_main.c     command line, pty, event loop, paced writer
 *   emu_port.c     the module's side of the serial line: echo, command lines,
 *                  data phases, one command at a time, output queue, log,
 *                  --cmd-latency, --fault reset (RDY)
 *   emu_net.c      the network side, per family as data: SIM (PIN),
 *                  registration, PDP context (or the family's own), WiFi
 *                  station (ESP-AT), identity (ATI, AT+CGMI/CGMM/CGMR);
 *                  offered every command before the dialect
 *   emu_cmdline.c  strict AT command-line tokenizer
 *   emu_origin.c   HTTP/1.1 client to the routed origin, on worker threads;
 *                  raw TCP links that stream what the origin sends; both
 *                  over TLS for an https:// URL
 *   emu_tls.c      the module's TLS client (mbedTLS), as far as the
 *                  dialect's SSL commands ask (struct emu_tls_opts)
 *   emu_<dialect>.c one file per module family: emu_simcom.c (simcom),
 *                  emu_neoway.c (neoway), emu_httpcfg.c (httpcfg and
 *                  quectel: one file, the Q prefix is data),
 *                  emu_onemo.c (onemo), emu_espat.c (espat)
 *   emu_dialect.c  what every dialect shares: its command table's
 *                  dispatcher, the choice of its --variant
 *   emu_buf.c      growable byte buffer and small helpers
 *   emu_fault.c    --fault but reset: what it does to the output stream
 *                  (silence, noise, URCs, trickle) and to the origin
 *                  (error, origin-close)
 *
 * Everything but the fetch and link workers runs on the event loop's
 * thread.
 *
 * The network (every family; default a warm module: SIM ready, registered
 * home, context 1 defined with APN "internet" and active, ESP-AT joined to
 * "athttp-emu"):
 *   --cold             context neither defined nor active, WiFi off (mode 0)
 *                      and not joined; registration begins at power-on
 *   --sim-pin PIN      the SIM asks for PIN (AT+CPIN="PIN"); registration
 *                      begins once it is given; three wrong: SIM PUK
 *   --register-ms MS   registration takes MS (stat 2 until then)
 *   --no-network       stat 2 forever (ESP-AT: every join times out)
 *   --reg-denied       stat 3
 *   --apn APN          the only APN activation accepts (+CME ERROR: 533;
 *                      SIMCom: AT+HTTPINIT ERROR)
 *   --wifi SSID:PW     ESP-AT's one access point
 * HTTP while the network is down: simcom AT+HTTPINIT ERROR; neoway
 * AT+HTTPSETUP ERROR; httpcfg/quectel the action's +CME ERROR: 709;
 * onemo AT+MHTTPCREATE/MHTTPREQUEST +CME ERROR: 30; espat ERROR.
 *   --fault KIND:...   faults on the N-th HTTP request (action command;
 *                      N 0: every one), counted in bytes of output after
 *                      it began; repeatable and combinable (emu_fault.c):
 *     reset:N:B        the module resets (queued output lost, HTTP state
 *                      lost, echo on, RDY / ready, network as at power-on
 *                      with --cold); N from 1
 *     silence:N:B:MS   nothing for MS ms after B bytes, then the rest
 *     noise:N:B:K      K bytes of line noise after B bytes, even inside
 *                      length-counted data
 *     error:N          the origin cannot be reached (a link already open
 *                      breaks): the request fails in the family's own
 *                      error form
 *     origin-close:N:B the origin closes after B bytes of its response
 *     urc:N:K          K unsolicited result codes at line boundaries,
 *                      never inside or right after response data
 *     trickle:N:MS     the request's output leaves one byte every MS ms
 *   --cmd-latency NAME=MS  that command's final result comes MS after it
 *
 * Dialects (-m) and their firmware variants (--variant; the first is the
 * default, and follows the manual):
 *   simcom   sim7600: +HTTPREAD: DATA,<n> ... +HTTPREAD:0, +HTTPHEAD: DATA,<n>
 *            a76xx:   +HTTPREAD: <n> ... +HTTPREAD: 0, +HTTPREAD:LEN,<n>
 *            nosni:   sim7600 without AT+CSSLCFG="enableSNI" (ERROR; no SNI)
 *            nocertdown: sim7600 without AT+CCERTDOWN (ERROR)
 *   neoway   n58:     "+HTTPRECV: " line (recvmode 0),
 *                     "+HTTPACTION: SOCKET ID OPEN FAILED"
 *            compact: "+HTTPRECV:" and "+HTTPACTION:SOCKET ID OPEN FAILED"
 *                     (the spelling of the manual's response table)
 *            nohttps: no S-twins: every AT+HTTPS* (and AT+HTTPSCFG) is ERROR
 *            nosni:   the TLS handshake sends no server_name
 *   httpcfg, quectel (AT+HTTP* and AT+QHTTP*; same variants)
 *            manual:       <rsptime> passed -> a bare "TIMEOUT" line
 *            timeout-code: <rsptime> passed -> +HTTPGET: 702 (+HTTPPOST: ...)
 *            raw-chunked:  AT+HTTPREAD gives a chunked body with its chunk
 *                          framing instead of de-chunked
 *            table12:      AT+HTTPREAD ends as the manual's table 12 prints
 *                          it: +HTTPREAD: 0 with no OK before it
 *            sni-off:      SSL "sni" is 0 until AT+QSSLCFG="sni",<ctx>,1
 *            no-upload:    no AT+QFUPL (ERROR): the CA cannot be loaded
 *            no-seclevel:  "seclevel" 1 and 2 answer ERROR: the module
 *                          cannot verify servers
 *   onemo    manual:     +MHTTPURC: "header",... on one line, 4 instances,
 *                        "content" pieces of at most 1024 bytes
 *            split-urc:  "+MHTTPURC:" alone on a line, then "header",...
 *                        or "content",... on the next (the examples)
 *            nospace:    +MHTTPCREATE:0, +MHTTPURC:"header",... (no blank
 *                        after any +MHTTP...: prefix)
 *            slots2:     2 instances, ids 0-1 (MN316A/MN319)
 *            frag512:    "content" pieces of at most 512 bytes
 *            ind-nocrlf: chunked mode's +MHTTPURC: "ind",<id> ends no line
 *            noauth:     AT+MSSLCFG="auth" answers ERROR (no verification)
 *            nosni:      AT+MSSLCFG="sni" answers ERROR; no SNI is sent
 *            (in every variant the SSL contexts follow the SSL manual:
 *            SNI only with "sni" 1, verification only with "auth" >= 1)
 *   espat    espressif: +HTTPCLIENT:<n>,<n bytes> pieces (at most 512), then
 *                       OK; status >= 400: the pieces, then ERROR; HEAD:
 *                       one piece per header line; +HTTPCPOST:<n>,<data>
 *                       pieces before SEND OK (SEND FAIL); the CA by
 *                       AT+HTTPCERT=1,<length> and its '>' data phase
 *            beken:     +HTTPCLIENT:<T>,<data> with the angle brackets, T the
 *                       whole body's length in every piece, data cut at its
 *                       first NUL; nothing printed for a status outside
 *                       200..399 (just OK), nor for HEAD; AT+HTTPCPOST
 *                       prints no pieces; no certificate command
 *                       (AT+HTTPCERT and AT+HTTPSCERT answer ERROR), so
 *                       https is never verified
 *            httpscert: espressif, but the CA command is spelt
 *                       AT+HTTPSCERT (the manual's examples), not
 *                       AT+HTTPCERT (its syntax, the espressif default)
 */
#ifndef ATHTTP_EMU_H
#define ATHTTP_EMU_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#define EMU_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* ------------------------------------------------------------ emu_buf.c */

/* Growable bytes; always NUL-terminated past len so text can be printed. */
struct emu_buf {
	char *data;
	size_t len, cap;
};

void emu_buf_add(struct emu_buf *b, const void *p, size_t n);
void emu_buf_addf(struct emu_buf *b, const char *fmt, ...) EMU_PRINTF(2, 3);
void emu_buf_vaddf(struct emu_buf *b, const char *fmt, va_list ap)
	EMU_PRINTF(2, 0);
/* Appends p as printable ASCII; everything else (and backslash) as \xHH. */
void emu_buf_escape(struct emu_buf *b, const void *p, size_t n);
void emu_buf_free(struct emu_buf *b);

/* An emulator has nothing sensible to do when memory runs out: these abort. */
void *emu_calloc(size_t n, size_t size);
char *emu_strndup(const char *s, size_t n);

uint64_t emu_now_ns(void);		/* CLOCK_MONOTONIC */
#define EMU_NS_PER_MS 1000000ull
#define EMU_NEVER UINT64_MAX

/* ------------------------------------------------------------ configuration */

struct emu_route {
	char *host;			/* matched case-insensitively */
	int port;			/* -1: any port of that host */
	struct sockaddr_storage addr;	/* where the origin really listens */
	socklen_t addrlen;
};

struct emu_config {
	const char *modem;
	const char *link;
	const char *variant;		/* NULL: the dialect's default */
	const char *log_path;		/* NULL: no log of received bytes */
	struct emu_route *routes;
	size_t nroutes;
	unsigned long baud;		/* 0: as fast as the pty takes it */
	/* The host's side of the pty must be set to baud: a host at
	 * another speed reads garbage and is understood by nobody. */
	bool strict_baud;
	unsigned latency_ms;
	/* --chaos SEED: every output split at random points into pieces
	 * written apart (valid framing, torn reads); 0: off */
	unsigned long chaos_seed;
	size_t max_body;		/* longest response body kept */
	bool chunked_zero_len;
	const char *model;		/* onemo --model; NULL: its default */

	/* The network (emu_net.c).  Default: a warm module. */
	bool cold;			/* --cold: powered on just now */
	const char *sim_pin;		/* --sim-pin; NULL: no PIN asked */
	unsigned register_ms;		/* --register-ms */
	bool no_network;		/* registration never completes */
	bool reg_denied;		/* registration denied (stat 3) */
	const char *apn;		/* the one APN accepted; NULL "internet" */
	const char *wifi;		/* "SSID:PASSWORD"; NULL athttp-emu:athttp-emu */

	struct emu_fault *faults;	/* --fault */
	size_t nfaults;
	struct emu_cmd_latency *cmd_latency;	/* --cmd-latency */
	size_t ncmd_latency;
};

/* --fault KIND:ARGS; the kinds are emu_main.c's table, the machinery
 * emu_fault.c. */
enum emu_fault_kind {
	EMU_FAULT_RESET,		/* reset:N:B */
	EMU_FAULT_SILENCE,		/* silence:N:B:MS */
	EMU_FAULT_NOISE,		/* noise:N:B:K */
	EMU_FAULT_ERROR,		/* error:N */
	EMU_FAULT_ORIGIN_CLOSE,		/* origin-close:N:B */
	EMU_FAULT_URC,			/* urc:N:K */
	EMU_FAULT_TRICKLE,		/* trickle:N:MS */
};

struct emu_fault {
	enum emu_fault_kind kind;
	unsigned long request;		/* the N-th HTTP request (from 1);
					 * 0: every one (not for reset) */
	unsigned long after;		/* B: bytes of output after it began
					 * (origin-close: of the origin's
					 * response, head included) */
	unsigned long count;		/* K: noise bytes, URCs */
	unsigned ms;			/* MS: silence, per trickled byte */
};

/* --cmd-latency NAME=MS: that command's final result (or prompt) comes
 * MS after the command line. */
struct emu_cmd_latency {
	char *name;			/* as emu_cmd names it: "+HTTPINIT" */
	unsigned ms;
};

/* ------------------------------------------------------------ emu_cmdline.c */

enum emu_form {
	EMU_FORM_BASIC,			/* AT, ATE0, ATI: name "", "E", "I" */
	EMU_FORM_EXEC,			/* AT+NAME */
	EMU_FORM_READ,			/* AT+NAME? */
	EMU_FORM_TEST,			/* AT+NAME=? */
	EMU_FORM_SET,			/* AT+NAME=arg[,arg]... */
};

enum emu_arg_kind {
	EMU_ARG_OMITTED,		/* nothing between two commas */
	EMU_ARG_NUMBER,			/* decimal digits */
	EMU_ARG_STRING,			/* "..." */
	EMU_ARG_WORD,			/* unquoted text, EMU_PARSE_WORDS only */
};

/* emu_cmd_parse() flags. */
#define EMU_PARSE_WORDS 1u		/* unquoted arguments (Neoway's
					 * AT+HTTPPARA=url,host/path): printable
					 * ASCII but space, quote and comma */
#define EMU_PARSE_ESPAT 2u		/* ESP-AT strings: "..." with the escapes
					 * \" \\ \, or unquoted text without
					 * control bytes, quote, backslash or
					 * comma (a number if all digits, str
					 * set too) */


struct emu_arg {
	enum emu_arg_kind kind;
	unsigned long num;
	const char *str;		/* NUL-terminated, quotes removed */
	size_t len;
};

struct emu_cmd {
	enum emu_form form;
	const char *name;		/* upper case; "+HTTPPARA", "E", "" */
	bool has_num;			/* basic commands: ATE0 → has_num, num 0 */
	unsigned long num;
	size_t argc;
	struct emu_arg *argv;
	char *store;			/* owns name and strings */
	size_t len;			/* the line's length, for dialects
					 * that limit it (ESP-AT: 256) */
};

/* Parses one command line (without its CR).  Returns 0, or -1 for anything
 * that is not exactly one well-formed command. */
int emu_cmd_parse(const char *line, size_t len, unsigned flags,
		  struct emu_cmd *cmd);
void emu_cmd_free(struct emu_cmd *cmd);

/* ------------------------------------------------------------ emu_origin.c */

/* How the module does TLS for an https:// URL: exactly as far as the TLS
 * commands it received ask, like the real module. */
struct emu_tls_opts {
	bool verify;			/* check the chain against ca_pem and the
					 * name against the URL's host */
	bool sni;			/* send server_name (the URL's host) */
	char *ca_pem;			/* roots, PEM, NUL-terminated; owned
					 * (emu_url_set_tls copies, emu_url_free
					 * frees); NULL: none loaded */
	size_t ca_len;
	/* with verify: the certificate's validity dates are not checked
	 * (SIMCom's ignorelocaltime 1); the chain and name still are.
	 * Set after emu_url_set_tls, which clears it. */
	bool ignore_dates;
};

struct emu_url {
	bool tls;			/* https:// */
	struct emu_tls_opts tls_opts;	/* with tls: set by the dialect */
	char *host;			/* without IPv6 brackets */
	unsigned port;
	char *authority;		/* host[:port] as the URL wrote it */
	char *target;			/* path[?query], at least "/" */
};

int emu_url_parse(const char *url, struct emu_url *u);
void emu_url_free(struct emu_url *u);
/* Sets u's TLS options; ca (len bytes, NULL for none) is copied. */
void emu_url_set_tls(struct emu_url *u, bool verify, bool sni, const char *ca,
		     size_t len);

enum emu_fetch_status {
	EMU_FETCH_OK,
	EMU_FETCH_BAD_URL,
	EMU_FETCH_TLS,			/* https: the TLS handshake failed */
	EMU_FETCH_TLS_VERIFY,		/* https: the server's certificate was
					 * rejected (chain, name or dates) */
	EMU_FETCH_DNS,
	EMU_FETCH_CONNECT,
	EMU_FETCH_TIMEOUT,
	EMU_FETCH_NOT_HTTP,
	EMU_FETCH_TOO_BIG,		/* body over --max-body */
	EMU_FETCH_CLOSED,		/* origin closed before the response ended */
	EMU_FETCH_CANCELLED,
	EMU_FETCH_NSTATUS
};

struct emu_fetch {
	/* set by the dialect */
	struct emu_url url;
	struct emu_buf request;		/* request head and body, sent as is */
	bool head_only;			/* a HEAD request: the response has no body */
	unsigned connect_timeout_ms;
	unsigned recv_timeout_ms;	/* longest silence while receiving */
	/* set by the fetch */
	enum emu_fetch_status status;
	int http_status;
	bool chunked;			/* origin used Transfer-Encoding: chunked */
	bool has_length;		/* the response had Content-Length */
	uint64_t content_length;	/* its value */
	struct emu_buf header;		/* status line through the blank line */
	struct emu_buf body;		/* de-chunked */
};

void emu_fetch_free(struct emu_fetch *f);	/* and f itself */

/* Fetches run on worker threads; the loop polls emu_jobs_fd() and calls
 * emu_jobs_reap(), which hands each finished fetch to its done callback (on
 * the loop's thread, which then owns the fetch). */
struct emu_jobs;
struct emu_job;
typedef void emu_fetch_done_fn(void *ctx, struct emu_fetch *f);

struct emu_jobs *emu_jobs_new(const struct emu_config *cfg);
int emu_jobs_fd(const struct emu_jobs *jobs);
void emu_jobs_reap(struct emu_jobs *jobs);
/* Cancels every fetch, waits for the workers, frees everything. */
void emu_jobs_free(struct emu_jobs *jobs);

struct emu_job *emu_fetch_start(struct emu_jobs *jobs, struct emu_fetch *f,
				emu_fetch_done_fn *done, void *ctx);
/* --fault error and origin-close for the request that begins now: every
 * open link (one opened before the request, as Neoway's AT+HTTPSETUP), or
 * with none the next fetch or link opened, fails to connect (a connected
 * link breaks: EMU_FETCH_CLOSED) with fail, or sees the origin close
 * after close_after more bytes of its response (SIZE_MAX: never).
 * Called at every request's beginning; a fault not taken up by then is
 * dropped. */
void emu_jobs_fault(struct emu_jobs *jobs, bool fail, size_t close_after);
/* The result is no longer wanted: the fetch is cancelled and freed, done is
 * never called. */
void emu_fetch_abandon(struct emu_job *job);

/* A response parsed as it arrives (for dialects that talk to the origin over
 * a link): fills f's http_status, chunked, has_length, content_length,
 * header and body, honouring f->head_only. */
struct emu_resp;
struct emu_resp *emu_resp_new(struct emu_fetch *f, size_t max_body);
/* n == 0: the origin closed.  Returns EMU_FETCH_OK while all is well (the
 * message may or may not be complete), else why it cannot be parsed
 * (EMU_FETCH_NOT_HTTP, EMU_FETCH_TOO_BIG, EMU_FETCH_CLOSED at a close
 * before the end). */
enum emu_fetch_status emu_resp_feed(struct emu_resp *r, const char *p,
				    size_t n);
bool emu_resp_complete(const struct emu_resp *r);
void emu_resp_free(struct emu_resp *r);

/*
 * A raw TCP connection to the origin a URL names (routes apply; for an
 * https URL a TLS session as u->tls_opts says, the handshake part of
 * CONNECTED), run by a worker thread.  What it reports reaches the
 * callback on the loop's thread, in this order within one wakeup:
 * CONNECTED (status), SENT (status of everything queued so far), DATA
 * (bytes as the origin sent them), CLOSED (EMU_FETCH_OK: the origin closed;
 * else why the link died).  Nothing follows CLOSED, nor a failed CONNECTED.
 */
enum emu_link_event {
	EMU_LINK_CONNECTED,
	EMU_LINK_SENT,
	EMU_LINK_DATA,
	EMU_LINK_CLOSED,
};
struct emu_link;
typedef void emu_link_fn(void *ctx, enum emu_link_event ev,
			 enum emu_fetch_status st, const char *p, size_t n);

/* u is copied. */
struct emu_link *emu_link_open(struct emu_jobs *jobs, const struct emu_url *u,
			       unsigned connect_timeout_ms, emu_link_fn *fn,
			       void *ctx);
/* Queues bytes; SENT follows once all queued bytes are written, or a
 * failure (EMU_FETCH_TIMEOUT after timeout_ms without progress). */
void emu_link_send(struct emu_link *l, const void *p, size_t n,
		   unsigned timeout_ms);
/* Stops (true) or resumes reading from the origin; while paused, what it
 * sends waits in the kernel and TCP slows it down.  (A link also stops by
 * itself while 256 KB it read wait for the loop.) */
void emu_link_pause(struct emu_link *l, bool paused);
/* The link dies (CLOSED, EMU_FETCH_TIMEOUT) ms from now; 0: no deadline. */
void emu_link_deadline(struct emu_link *l, unsigned ms);
/* Closes the connection; no callback ever again.  Also needed after CLOSED
 * or a failed CONNECTED, to release the link. */
void emu_link_close(struct emu_link *l);

/* ------------------------------------------------------------ emu_port.c */

struct emu;

/* Output marks: what happens once a piece of output has been written. */
enum emu_mark {
	EMU_MARK_NONE,
	EMU_MARK_DONE,			/* the command is finished */
	EMU_MARK_PROMPT,		/* the data phase begins */
	EMU_MARK_RESET,			/* --fault reset: the module resets */
	EMU_MARK_PAUSE,			/* --fault silence: nothing more is
					 * written for the chunk's pause_ms */
};

/* For dialects.  Output is a response or URC: it leaves --latency-ms later. */
void emu_send(struct emu *e, enum emu_mark mark, const void *p, size_t n);
void emu_sendf(struct emu *e, enum emu_mark mark, const char *fmt, ...)
	EMU_PRINTF(3, 4);
/* Response data (bytes a length or the link's end delimits, not lines):
 * as emu_send(EMU_MARK_NONE), but --fault urc never puts a URC inside it
 * or right after it. */
void emu_send_data(struct emu *e, const void *p, size_t n);
void emu_ok(struct emu *e);
void emu_error(struct emu *e);
/* Sends prompt; once it is written, the next size bytes are data, given to
 * the dialect's data(); if they take longer than timeout_ms, data() gets
 * complete == false. */
void emu_download(struct emu *e, const char *prompt, size_t size,
		  unsigned timeout_ms);
void emu_set_echo(struct emu *e, bool on);
const struct emu_config *emu_config(const struct emu *e);
/* The family's HTTP request (action) command begins: counted for
 * --fault (a reset may be armed by it). */
void emu_request_begin(struct emu *e);
/* The network is up for HTTP: SIM ready, registered, the context active
 * (a family whose HTTP service activates it, SIMCom, gets it activated
 * here when it can be), or for ESP-AT the station joined.  A family's
 * HTTP start or action command fails as its manual says when it is not. */
bool emu_net_ready(struct emu *e);
/* The model AT+CGMM and ATI report, for dialects whose --variant (or
 * --model) changes it; model must outlive the emulator. */
void emu_net_model(struct emu *e, const char *model);
struct emu_jobs *emu_jobs(struct emu *e);
/* Bytes of output queued and not yet written. */
size_t emu_queued(const struct emu *e);
/* Below this much queued output, a dialect's drained() is called after
 * each piece of output is written. */
#define EMU_LOW_WATER (64 * 1024)

/* ------------------------------------------------------------ emu_dialect.c */

/* The forms of a command a table row accepts (struct emu_command's forms):
 * AT+NAME, AT+NAME?, AT+NAME=?, AT+NAME=... */
#define EMU_AT_EXEC (1u << EMU_FORM_EXEC)
#define EMU_AT_READ (1u << EMU_FORM_READ)
#define EMU_AT_TEST (1u << EMU_FORM_TEST)
#define EMU_AT_SET (1u << EMU_FORM_SET)

/* One command of a dialect. */
struct emu_command {
	const char *name;		/* as emu_cmd names it ("+HTTPINIT"),
					 * less the table's prefix */
	unsigned forms;			/* EMU_AT_* bits; any other: ERROR */
	unsigned needs;			/* 0, or the dialect's own bits for
					 * its guard: the state or firmware
					 * the command needs */
	void (*run)(void *ctx, const struct emu_cmd *c);
};

/* A dialect's commands. */
struct emu_commands {
	const struct emu_command *rows;
	size_t count;
	/* Asked for rows with needs: whether the command may run now
	 * (false: ERROR).  NULL if no row has needs. */
	bool (*guard)(void *ctx, unsigned needs, const struct emu_cmd *c);
	/* NULL, or what every name begins with, the rows naming the rest
	 * ("+Q": AT+QHTTPGET is the row "HTTPGET") */
	const char *prefix;
};
#define EMU_COMMANDS(rows, guard, prefix) \
	{ (rows), sizeof(rows) / sizeof((rows)[0]), (guard), (prefix) }

/* Runs c's row with ctx (the dialect's), or answers ERROR: no such row, a
 * form it does not accept, its guard says no. */
void emu_dispatch(struct emu *e, const struct emu_commands *t, void *ctx,
		  const struct emu_cmd *c);

/* A --variant (or --model) table: count entries, structs of size bytes
 * whose first member is their const char *name; the first is the
 * default.  what names it in the error: "simcom variant". */
struct emu_variants {
	const void *table;
	size_t count, size;
	const char *what;
};
#define EMU_VARIANTS(table, what) \
	{ (table), sizeof(table) / sizeof((table)[0]), sizeof((table)[0]), \
	  (what) }

/* The entry named name (the first when name is NULL).  None: NULL, and
 * *err says "unknown <what> (<every entry's name>)". */
const void *emu_variant_pick(const struct emu_variants *v, const char *name,
			     const char **err);

/* A module family.  Every parsed line but AT, ATE0, ATE1 and the
 * network's commands goes to its commands (emu_dispatch); a row's run()
 * must, now or later, end it with a DONE-marked output (emu_ok,
 * emu_error) or a prompt.  data() ends a data phase the same way. */
struct emu_dialect {
	const char *name;
	unsigned parse_flags;		/* EMU_PARSE_* for emu_cmd_parse() */
	const struct emu_commands *commands;
	size_t max_line;		/* 0, or the longest command line its
					 * commands take (longer: ERROR) */
	struct emu_variants variants;	/* --variant */
	/* variant: the --variant's entry of variants.  NULL with a message
	 * in err (static text) for a bad configuration. */
	void *(*open)(struct emu *e, const struct emu_config *cfg,
		      const void *variant, const char **err);
	void (*close)(void *ctx);
	/* NULL, or told that a command line for its commands arrived,
	 * before it runs. */
	void (*command_begins)(void *ctx);
	void (*data)(void *ctx, struct emu_buf *data, bool complete);
	/* NULL, or told that the output queue is short again (for dialects
	 * that pause their links while it is long). */
	void (*drained)(void *ctx);
	/* NULL, or told that the host hung up: the queued output is gone
	 * (drained() follows). */
	void (*hangup)(void *ctx);
};

extern const struct emu_dialect emu_simcom;
extern const struct emu_dialect emu_neoway;
extern const struct emu_dialect emu_httpcfg;
extern const struct emu_dialect emu_quectel;
extern const struct emu_dialect emu_espat;
extern const struct emu_dialect emu_onemo;

/* Queued output, drained by the paced writer in emu_main.c. */
struct emu_chunk {
	struct emu_chunk *next;
	uint64_t release_ns;		/* not to be written before */
	enum emu_mark mark;
	unsigned trickle_ms;		/* --fault trickle: one byte every
					 * trickle_ms ms; 0: at line rate */
	unsigned pause_ms;		/* EMU_MARK_PAUSE: how long */
	size_t off;			/* bytes already written */
	struct emu_buf bytes;
};

/* For emu_main.c. */
/* Takes log (may be NULL).  NULL with a message in err if the dialect
 * refuses the configuration. */
struct emu *emu_new(const struct emu_config *cfg,
		    const struct emu_dialect *dialect, FILE *log,
		    const char **err);
void emu_free(struct emu *e);
void emu_input(struct emu *e, const char *p, size_t n);
/* The chunk at the head of the queue (or NULL) and its removal once written,
 * which acts on its mark. */
struct emu_chunk *emu_out_head(struct emu *e);
void emu_out_pop(struct emu *e);
uint64_t emu_deadline(const struct emu *e);	/* EMU_NEVER: none */
void emu_tick(struct emu *e);
/* The last client closed the port: what it did not read is lost. */
void emu_hangup(struct emu *e);

/* ------------------------------------------------------------ emu_fault.c */

/* The faults of --fault other than reset, for emu_port.c: every piece of
 * output passes through emu_faults_output(), which hands it on, altered,
 * to emu_port_put() / emu_port_pause(). */
struct emu_faults;
struct emu_faults *emu_faults_new(const struct emu_config *cfg,
				  const char *family);
void emu_faults_free(struct emu_faults *F);
/* An HTTP request begins: the faults for it are armed (the origin's in
 * jobs), those of the one before are over. */
void emu_faults_request(struct emu_faults *F, struct emu *e,
			struct emu_jobs *jobs);
void emu_faults_output(struct emu_faults *F, struct emu *e, uint64_t release,
		       enum emu_mark mark, const void *p, size_t n, bool data);

/* emu_port.c's output queue, for emu_fault.c: bytes (one every
 * trickle_ms, 0: at line rate), and a pause of ms once what is queued
 * before it is written. */
void emu_port_put(struct emu *e, uint64_t release, enum emu_mark mark,
		  const void *p, size_t n, unsigned trickle_ms);
void emu_port_pause(struct emu *e, uint64_t release, unsigned ms);
/* --log: "FAULT <what>" when a fault strikes, so a test can tell that it
 * did. */
void emu_port_log_fault(struct emu *e, const char *fmt, ...) EMU_PRINTF(2, 3);

/* ------------------------------------------------------------ emu_net.c */

/* The network side of a module family (SIM, registration, context,
 * identity, ESP-AT's station), for emu_port.c. */
struct emu_net;
struct emu_net *emu_net_new(struct emu *e, const struct emu_config *cfg,
			    const char *family);
void emu_net_free(struct emu_net *n);
/* State as at power-on; warm: context defined and active, station
 * joined (the default module), else as --cold. */
void emu_net_power_on(struct emu_net *n, bool warm);
/* Answers c if it is one of the family's network commands (true), else
 * leaves it to the dialect (false). */
bool emu_net_command(struct emu_net *n, const struct emu_cmd *c);
bool emu_net_is_up(struct emu_net *n);
/* What the module prints as it boots ("RDY" and the SIM's state, or
 * ESP-AT's "ready"). */
const char *emu_net_boot_lines(const struct emu_net *n);
void emu_net_set_model(struct emu_net *n, const char *model);

#endif
