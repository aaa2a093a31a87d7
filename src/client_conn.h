/*
 * A client's connection as the bridge reads and writes it: the socket
 * itself, or a TLS session terminated on it (the program's https).  The
 * HTTP reader and writer see plaintext either way.
 */
#ifndef ATH_CLIENT_CONN_H
#define ATH_CLIENT_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct tls_session;

struct client_conn {
	int fd;
	struct tls_session *tls;   /* NULL: plaintext on fd */
};

#define CLIENT_CONN_PLAIN(s) ((struct client_conn){ .fd = (s), .tls = NULL })

/* read() for the plaintext: >0 bytes, 0 the client closed, -1 failed. */
ssize_t client_conn_read(struct client_conn *c, void *buf, size_t len);
/* Writes all of buf: ATH_OK or ATH_E_CLIENT_GONE (never SIGPIPE). */
enum ath_err client_conn_write(struct client_conn *c, const void *buf, size_t len);
/* Waits up to ms for plaintext (or the close) to read; false at the
 * deadline. */
bool client_conn_wait(struct client_conn *c, int ms);
/* Ends our sending side: close_notify for TLS, SHUT_WR for the socket. */
void client_conn_shutdown(struct client_conn *c);

/* Does a connection whose first byte is b carry TLS?  A TLS connection
 * opens with a handshake record (content type 22); no HTTP method starts
 * with that byte. */
bool client_conn_is_tls_start(unsigned char b);

#endif
