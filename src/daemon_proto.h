/*
 * What the preload library, the wrapper and athttpd say to each other on
 * the daemon's Unix stream socket.  Each connection opens with one line
 * from the client, "ATHTTP/1 <VERB> [ARGS]\n", and the daemon's one-line
 * answer "ATHTTP/1 <status> <reason>\n" (status as HTTP's: 200, 403 a user
 * not allowed, 503 the module is not up, 400 a line it cannot read):
 *
 *   CONNECT <host> <port>   then the connection carries the program's
 *                           bytes (HTTP, or TLS the daemon terminates)
 *                           as the fake socket's far end would
 *   STATUS [json]           then the status report, and the daemon closes
 *   CA                      then the daemon's local CA certificate (PEM),
 *                           for the program's trust, and the daemon closes
 *
 * Host is the name the program resolved (percent-encoded: no space or
 * control byte); the line is at most DAEMON_LINE_MAX bytes.
 */
#ifndef ATH_DAEMON_PROTO_H
#define ATH_DAEMON_PROTO_H

#include <stddef.h>

#define DAEMON_PROTO "ATHTTP/1"
#define DAEMON_LINE_MAX 600
#define DAEMON_RUN_DIR "/run/athttp"

/* The default socket for a device: /run/athttp/<basename>.sock (the
 * directory from ATHTTP_RUN_DIR when set, for tests). */
int daemon_default_socket(const char *device, char *out, size_t outlen);

/* Client side: connects to the daemon's socket at path, sends line (one of
 * the verbs above, without its newline) and reads the answer line.
 * Returns the connected descriptor (O_CLOEXEC) when the answer is 200,
 * whose further bytes are the verb's; else -1 with *status the daemon's
 * status (0 when there was no answer: no daemon, connection refused) and
 * a reason in why.  Bounded: timeout_ms for connecting and the answer. */
int daemon_client_open(const char *path, const char *line, int timeout_ms,
		       int *status, char *why, size_t whylen);

/* The CONNECT line's host: bytes outside [A-Za-z0-9.-_:~] as %XX (so no
 * space, control byte or '%' travels bare).  Returns the length, or -1
 * when out is too small. */
int daemon_host_encode(const char *host, char *out, size_t outlen);

/* Its inverse, for the daemon: -1 for a bad escape, an encoded NUL, a
 * byte that should have been encoded, or out too small. */
int daemon_host_decode(const char *enc, char *out, size_t outlen);

#endif
