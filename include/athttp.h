/*
 * athttp — HTTP over a module that speaks only AT HTTP commands.
 *
 * The engine as a plain library: open a modem, then either hand it a
 * connected stream socket that carries HTTP/1.x requests (athttp_serve), or
 * submit a request yourself and receive the response streamed through
 * callbacks (athttp_request).  The LD_PRELOAD hooks use nothing but this API.
 *
 * Thread safety: one athttp_modem may be used from many threads at once; the
 * module runs one exchange at a time and the others wait for it.
 */
#ifndef ATHTTP_H
#define ATHTTP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ATHTTP_VERSION "0.1.0"

typedef struct athttp_modem athttp_modem;

struct athttp_config {
	const char *device;   /* serial device or pty path (required) */
	const char *modem;    /* dialect name; NULL = "simcom" */
	int baud;             /* 0 = 115200 */
	int rtscts;           /* hardware flow control on real serial ports */
	const char *trace;    /* file to write the AT conversation to; NULL = none */
	int verbose;          /* trace to stderr as well */
	int timeout_ms;       /* whole-exchange timeout; 0 = dialect default */
	const char *record;   /* write a transcript of the AT conversation here */
	/* What the transcript leaves out: "credentials" (Authorization,
	 * Cookie, Set-Cookie values), "bodies", or both comma-separated;
	 * NULL or "" = nothing. */
	const char *redact;
	int replay_pace;      /* device "replay:FILE": keep the recorded pace */
	/* https.  The program's TLS is terminated here with a leaf minted by
	 * a local CA, and the module does the TLS to the server. */
	const char *module_ca;   /* PEM roots the module verifies servers with */
	int insecure_upstream;   /* allow https the module does not verify
				  * (responses say X-Athttp-Upstream-TLS: unverified) */
	const char *ca_dir;      /* the local CA's directory (created if
				  * missing); NULL = a CA in memory only, which
				  * no program trusts */
};

/* Fills cfg from ATHTTP_DEVICE, ATHTTP_MODEM, ATHTTP_BAUD, ATHTTP_RTSCTS,
 * ATHTTP_TRACE, ATHTTP_VERBOSE, ATHTTP_TIMEOUT_MS, ATHTTP_RECORD,
 * ATHTTP_REDACT, ATHTTP_REPLAY_PACE, ATHTTP_MODULE_CA,
 * ATHTTP_INSECURE_UPSTREAM, ATHTTP_CA_DIR.  The strings point into the
 * environment.  A device "replay:FILE" plays a recorded transcript back
 * instead of talking to a module. */
void athttp_config_from_env(struct athttp_config *cfg);

/* Names of the dialects this build knows, NULL-terminated. */
const char *const *athttp_dialects(void);

/* Creates a modem handle.  The serial port is opened and the module brought up
 * lazily, by the first exchange, so creating one never blocks on the module.
 * Returns NULL with a reason in err (if given) for a bad configuration. */
athttp_modem *athttp_open(const struct athttp_config *cfg, char *err, size_t errlen);

/* Puts the module back for the next program (the dialect's teardown, e.g.
 * SIMCom AT+HTTPTERM; within 1.5 s whatever the module does), closes the
 * port (if open) and frees the handle.  No exchange may be running. */
void athttp_close(athttp_modem *m);

/* Forgets the port without touching the module: for a child after fork(),
 * whose copy of the parent's port must not be used.  The next exchange opens
 * the port again. */
void athttp_after_fork_child(athttp_modem *m);

/* Where a served connection was headed: the name the program resolved (or
 * the numeric address) and the TCP port.  Used when a request carries no
 * Host header. */
struct athttp_peer {
	const char *host;
	unsigned port;
};

/* Serves HTTP/1.x on a connected stream socket until the client closes it or
 * the connection cannot go on.  A connection that opens with a TLS
 * handshake is https: TLS is terminated here (the certificate is minted for
 * the name the client asks for by SNI, else peer->host) and its requests go
 * to the module as https.  Takes ownership of fd (closes it).  Blocking:
 * run it on a thread of its own.  Returns the number of requests answered. */
int athttp_serve(athttp_modem *m, int fd, const struct athttp_peer *peer);

/* Direct use without a socket. */
struct athttp_header {
	const char *name;
	const char *value;
};

struct athttp_request {
	const char *method;     /* "GET", "POST", ... */
	const char *url;        /* absolute: http[s]://host[:port]/path?query */
	const struct athttp_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
};

struct athttp_response_cb {
	/* Status and header block (header block as "Name: value\r\n"...; no
	 * status line).  content_length is -1 when unknown.  synthesized is 1
	 * when the module gave no real status line and headers. */
	int (*on_head)(void *ctx, int status, const char *reason,
		       const char *headers, size_t headers_len,
		       long long content_length, int synthesized);
	/* A piece of the body, in order.  Return nonzero to abort. */
	int (*on_body)(void *ctx, const void *data, size_t len);
	void *ctx;
};

/* Performs one exchange; the response streams through cb.  url must be
 * absolute (http[s]://host[:port]/path).  Returns 0 on success; otherwise -1
 * and, in err, "<status> <dialect> [<module code>] <reason>": the status
 * athttp_serve would answer (400/413/501/502/504) and the text of its
 * X-Athttp-Error header. */
int athttp_request(athttp_modem *m, const struct athttp_request *req,
		   const struct athttp_response_cb *cb, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
