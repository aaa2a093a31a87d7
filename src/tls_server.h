/* tls_server.h — the server side of a local TLS connection: the program's TLS ends here,
 * with a leaf the local CA mints for the name the program asked for. */
#ifndef ATH_TLS_SERVER_H
#define ATH_TLS_SERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "local_ca.h"

struct tls_server;                      /* shared by all connections of one modem */
/* ca must outlive the server. */
struct tls_server *tls_server_new(struct local_ca *ca, struct ath_error *err);
void tls_server_free(struct tls_server *s);

struct tls_session;
/* Runs the handshake on the connected stream socket fd (blocking fd or not: wait with poll;
 * the whole handshake bounded by timeout_ms, then ATH_E_TIMEOUT).  default_name: the leaf
 * for clients that send no SNI (the name or IP literal the program connected to).  TLS 1.2
 * minimum and maximum (mbedTLS 2.28), ALPN: offer/accept "http/1.1" only (a client that
 * offers only h2 gets no ALPN, so it falls back to http/1.1; a client offering h2 and
 * http/1.1 gets http/1.1); the SNI callback picks the leaf via local_ca_leaf; SHA-1
 * signature hashes allowed on this local leg (busybox wget's TLS sends no
 * signature_algorithms extension); ECDHE-ECDSA suites (the leaf key is P-256), AES-GCM and
 * CHACHA20 preferred.  Writes use MSG_NOSIGNAL (no SIGPIPE).  The fd stays the caller's.
 * Errors: ATH_E_TIMEOUT; ATH_E_CLIENT_GONE (the client closed, reset, or sent an alert,
 * e.g. because it does not trust the CA); ATH_E_BAD_REQUEST (not TLS, a protocol the server
 * does not speak, a bad SNI name); err->text says what happened, in mbedTLS's words. */
struct tls_session *tls_session_accept(struct tls_server *s, int fd, const char *default_name,
				       int timeout_ms, struct ath_error *err);
/* The SNI name the client sent (NULL: none). */
const char *tls_session_sni(const struct tls_session *t);
/* The ALPN protocol agreed on ("http/1.1"), or NULL when the client offered none that fits. */
const char *tls_session_alpn(const struct tls_session *t);
/* Reads decrypted bytes: >0 count; 0 the client closed (close_notify or TCP EOF); -1 error.
 * Blocks until something arrives (the fd may be non-blocking: poll inside). */
ssize_t tls_session_read(struct tls_session *t, void *buf, size_t len);
/* Decrypted bytes already buffered, readable without touching the fd.  When mbedTLS holds
 * bytes it has read but not yet processed it says at least 1: call read() before waiting
 * on the fd (those bytes may turn out to be an alert, and read() then says so). */
size_t tls_session_pending(const struct tls_session *t);
/* Writes all of buf: ATH_OK or ATH_E_CLIENT_GONE. */
enum ath_err tls_session_write(struct tls_session *t, const void *buf, size_t len);
/* Bounds each wait of read() and write() on the fd (ms; -1, the default: no bound).  A read
 * that times out returns -1 with errno ETIMEDOUT; a write, ATH_E_CLIENT_GONE. */
void tls_session_set_io_timeout(struct tls_session *t, int timeout_ms);
/* Sends close_notify (best effort) and frees; does not close fd. */
void tls_session_free(struct tls_session *t);

#endif
