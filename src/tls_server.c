/* The local TLS server: one handshake per program connection, with the leaf for the name
 * it asked for, then decrypted reads and encrypted writes on its socket. */
#include "tls_server.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>

#include "leaf_cert.h"

/* TLS record layer (RFC 5246 6.2): type, version, length, then at most 2^14 bytes. */
#define TLS_RECORD_HEADER     5
#define TLS_RECORD_MAX        16384
#define TLS_TYPE_HANDSHAKE    0x16
#define TLS_HS_CLIENT_HELLO   1
#define TLS_EXT_ALPN          16
#define ALPN_HTTP11           "http/1.1"

/* Ours for the leaf's P-256 key: AEAD first, CBC for older clients (busybox). */
static const int server_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
	0,
};

/* SHA-1 stays on this local leg: a client without signature_algorithms (busybox wget)
 * gets SHA-1 ServerKeyExchange signatures (RFC 5246 7.4.1.4.1), and mbedTLS's default
 * list, without SHA-1, would leave it none. */
static const int server_sig_hashes[] = {
	MBEDTLS_MD_SHA512, MBEDTLS_MD_SHA384, MBEDTLS_MD_SHA256, MBEDTLS_MD_SHA224,
	MBEDTLS_MD_SHA1, MBEDTLS_MD_NONE,
};

static const char *server_alpn[] = { ALPN_HTTP11, NULL };

struct tls_server {
	struct local_ca *ca;
};

struct tls_session {
	mbedtls_ssl_context ssl;
	/* Per session, since the fallback leaf (default_name's) and whether to offer ALPN
	 * are this connection's. */
	mbedtls_ssl_config conf;
	struct tls_server *server;
	int fd;
	int io_timeout_ms;
	int io_errno;              /* what recv/send last failed with */
	int handshake_done;
	int has_sni;
	char sni[LEAF_NAME_MAX + 1];
	struct ath_error sni_err;  /* why the SNI name got no leaf */
	/* The first record, read before mbedTLS starts so its ALPN offer can be looked at;
	 * handed to mbedTLS first. */
	unsigned char first[TLS_RECORD_HEADER + TLS_RECORD_MAX];
	size_t first_len, first_off;
};

struct tls_server *tls_server_new(struct local_ca *ca, struct ath_error *err)
{
	struct tls_server *s = calloc(1, sizeof *s);
	if (!s) {
		ath_fail(err, ATH_E_NOMEM, -1, "TLS server: out of memory");
		return NULL;
	}
	s->ca = ca;
	return s;
}

void tls_server_free(struct tls_server *s)
{
	free(s);
}

/* Waits for events on fd until deadline (ms on now_ms's clock; -1: no bound).
 * 1 ready, 0 timed out, -1 error (errno). */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int timeout = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();
			if (left <= 0)
				return 0;
			timeout = left > INT32_MAX ? INT32_MAX : (int)left;
		}
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
		/* POLLHUP/POLLERR: the recv or send that follows says what happened. */
		return 1;
	}
}

static int64_t deadline_after(int timeout_ms)
{
	return timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
}

/* The BIO: never blocks (MSG_DONTWAIT whatever the fd's flags), so every wait is ours. */
static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_session *t = ctx;
	if (t->first_off < t->first_len) {
		size_t n = t->first_len - t->first_off;
		if (n > len)
			n = len;
		memcpy(buf, t->first + t->first_off, n);
		t->first_off += n;
		return (int)n;
	}
	for (;;) {
		ssize_t r = recv(t->fd, buf, len, MSG_DONTWAIT);
		if (r >= 0)
			return (int)r;   /* 0: mbedTLS reports MBEDTLS_ERR_SSL_CONN_EOF */
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MBEDTLS_ERR_SSL_WANT_READ;
		t->io_errno = errno;
		return errno == ECONNRESET || errno == EPIPE ? MBEDTLS_ERR_NET_CONN_RESET
							     : MBEDTLS_ERR_NET_RECV_FAILED;
	}
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_session *t = ctx;
	for (;;) {
		ssize_t w = send(t->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w >= 0)
			return (int)w;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return MBEDTLS_ERR_SSL_WANT_WRITE;
		t->io_errno = errno;
		return errno == ECONNRESET || errno == EPIPE ? MBEDTLS_ERR_NET_CONN_RESET
							     : MBEDTLS_ERR_NET_SEND_FAILED;
	}
}

/* Reads until first_len reaches want.  ATH_OK, or the error. */
static enum ath_err read_first(struct tls_session *t, size_t want, int64_t deadline,
			       int timeout_ms, struct ath_error *err)
{
	while (t->first_len < want) {
		ssize_t r = recv(t->fd, t->first + t->first_len, want - t->first_len, MSG_DONTWAIT);
		if (r > 0) {
			t->first_len += (size_t)r;
			continue;
		}
		if (r == 0)
			return ath_fail(err, ATH_E_CLIENT_GONE, -1,
					"TLS handshake: the client closed the connection after %zu bytes",
					t->first_len);
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return ath_fail(err, ATH_E_CLIENT_GONE, -1, "TLS handshake: %s",
					strerror(errno));
		int w = wait_fd(t->fd, POLLIN, deadline);
		if (w == 0)
			return ath_fail(err, ATH_E_TIMEOUT, -1,
					"TLS handshake: no ClientHello within %d ms (%zu bytes came)",
					timeout_ms, t->first_len);
		if (w < 0)
			return ath_fail(err, ATH_E_CLIENT_GONE, -1, "TLS handshake: poll: %s",
					strerror(errno));
	}
	return ATH_OK;
}

static unsigned get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Whether the ClientHello in the first record offers ALPN without http/1.1.  A
 * ClientHello that does not parse here (or spans records) is left to mbedTLS to judge. */
static int offers_alpn_without_http11(const unsigned char *rec, size_t len)
{
	const unsigned char *p = rec, *end = rec + len;
	if (end - p < 4 || p[0] != TLS_HS_CLIENT_HELLO)
		return 0;
	size_t hs_len = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	p += 4;
	if (hs_len > (size_t)(end - p))
		return 0;
	end = p + hs_len;
	/* client_version, random */
	if (end - p < 2 + 32 + 1)
		return 0;
	p += 2 + 32;
	if (p[0] > end - p - 1)
		return 0;
	p += 1 + p[0];                                  /* session_id */
	if (end - p < 2 || get16(p) > (size_t)(end - p - 2))
		return 0;
	p += 2 + get16(p);                              /* cipher_suites */
	if (end - p < 1 || p[0] > end - p - 1)
		return 0;
	p += 1 + p[0];                                  /* compression_methods */
	if (end - p < 2 || get16(p) > (size_t)(end - p - 2))
		return 0;
	end = p + 2 + get16(p);
	p += 2;
	while (end - p >= 4) {
		unsigned type = get16(p), ext_len = get16(p + 2);
		p += 4;
		if (ext_len > (size_t)(end - p))
			return 0;
		if (type == TLS_EXT_ALPN) {
			const unsigned char *q = p, *qend = p + ext_len;
			if (qend - q < 2 || get16(q) != (size_t)(qend - q - 2))
				return 0;
			q += 2;
			while (q < qend) {
				size_t n = q[0];
				if (n == 0 || n > (size_t)(qend - q - 1))
					return 0;
				if (n == strlen(ALPN_HTTP11) && memcmp(q + 1, ALPN_HTTP11, n) == 0)
					return 0;
				q += 1 + n;
			}
			return 1;
		}
		p += ext_len;
	}
	return 0;
}

static int sni_pick_leaf(void *p, mbedtls_ssl_context *ssl, const unsigned char *name,
			 size_t len)
{
	struct tls_server *s = p;
	struct tls_session *t = (struct tls_session *)((char *)ssl -
						       offsetof(struct tls_session, ssl));
	if (len == 0 || len > LEAF_NAME_MAX || memchr(name, '\0', len)) {
		ath_fail(&t->sni_err, ATH_E_BAD_REQUEST, -1, "TLS handshake: an SNI name of %zu bytes",
			 len);
		return -1;
	}
	memcpy(t->sni, name, len);
	t->sni[len] = '\0';
	t->has_sni = 1;
	mbedtls_x509_crt *crt;
	mbedtls_pk_context *key;
	if (local_ca_leaf(s->ca, t->sni, &crt, &key, &t->sni_err) != ATH_OK)
		return -1;
	return mbedtls_ssl_set_hs_own_cert(ssl, crt, key);
}

static enum ath_err session_conf(struct tls_session *t, mbedtls_x509_crt *crt,
				 mbedtls_pk_context *key, int offer_alpn, struct ath_error *err)
{
	mbedtls_ssl_config *c = &t->conf;
	int ret = mbedtls_ssl_config_defaults(c, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
					      MBEDTLS_SSL_PRESET_DEFAULT);
	if (!ret && crt)
		ret = mbedtls_ssl_conf_own_cert(c, crt, key);
	if (!ret && offer_alpn)
		ret = mbedtls_ssl_conf_alpn_protocols(c, server_alpn);
	if (ret) {
		char text[120];
		mbedtls_strerror(ret, text, sizeof text);
		return ath_fail(err, ATH_E_NOMEM, -1, "TLS server configuration: %s", text);
	}
	mbedtls_ssl_conf_min_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(c, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_ciphersuites(c, server_suites);
	mbedtls_ssl_conf_sig_hashes(c, server_sig_hashes);
	mbedtls_ssl_conf_rng(c, local_ca_random, t->server->ca);
	mbedtls_ssl_conf_sni(c, sni_pick_leaf, t->server);
	mbedtls_ssl_conf_renegotiation(c, MBEDTLS_SSL_RENEGOTIATION_DISABLED);
	return ATH_OK;
}

/* err for a failed mbedtls_ssl_handshake. */
static enum ath_err handshake_fail(struct tls_session *t, int ret, struct ath_error *err)
{
	char text[160];
	mbedtls_strerror(ret, text, sizeof text);
	if (t->sni_err.text[0])
		return ath_fail(err, t->sni_err.code, -1, "%s", t->sni_err.text);
	if (ret == MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE)
		/* Most often 48 unknown_ca: the program does not trust the athttp CA. */
		return ath_fail(err, ATH_E_CLIENT_GONE, -1,
				"TLS handshake: the client sent fatal alert %u%s", t->ssl.in_msg[1],
				t->ssl.in_msg[1] == MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA
					? " (unknown_ca: it does not trust the athttp CA)" : "");
	if (ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_NET_CONN_RESET ||
	    ret == MBEDTLS_ERR_NET_RECV_FAILED || ret == MBEDTLS_ERR_NET_SEND_FAILED)
		return ath_fail(err, ATH_E_CLIENT_GONE, -1, "TLS handshake: %s%s%s", text,
				t->io_errno ? ": " : "", t->io_errno ? strerror(t->io_errno) : "");
	if (ret == MBEDTLS_ERR_SSL_ALLOC_FAILED)
		return ath_fail(err, ATH_E_NOMEM, -1, "TLS handshake: %s", text);
	return ath_fail(err, ATH_E_BAD_REQUEST, -1, "TLS handshake: %s (-0x%04x)", text,
			(unsigned)-ret);
}

static enum ath_err handshake(struct tls_session *t, const char *default_name, int timeout_ms,
			      struct ath_error *err)
{
	int64_t deadline = deadline_after(timeout_ms);
	enum ath_err rc = read_first(t, TLS_RECORD_HEADER, deadline, timeout_ms, err);
	if (rc)
		return rc;
	size_t rec_len = get16(t->first + 3);
	if (t->first[0] != TLS_TYPE_HANDSHAKE || t->first[1] != 3)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1,
				"TLS handshake: the client's first bytes %02x %02x %02x are not a TLS handshake record",
				t->first[0], t->first[1], t->first[2]);
	if (rec_len == 0 || rec_len > TLS_RECORD_MAX)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1,
				"TLS handshake: a first record of %zu bytes", rec_len);
	if ((rc = read_first(t, TLS_RECORD_HEADER + rec_len, deadline, timeout_ms, err)))
		return rc;
	int offer_alpn = !offers_alpn_without_http11(t->first + TLS_RECORD_HEADER, rec_len);

	mbedtls_x509_crt *crt = NULL;
	mbedtls_pk_context *key = NULL;
	if (default_name &&
	    (rc = local_ca_leaf(t->server->ca, default_name, &crt, &key, err)))
		return rc;
	if ((rc = session_conf(t, crt, key, offer_alpn, err)))
		return rc;
	int ret = mbedtls_ssl_setup(&t->ssl, &t->conf);
	if (ret)
		return handshake_fail(t, ret, err);
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	while ((ret = mbedtls_ssl_handshake(&t->ssl)) != 0) {
		short events;
		if (ret == MBEDTLS_ERR_SSL_WANT_READ)
			events = POLLIN;
		else if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			events = POLLOUT;
		else
			return handshake_fail(t, ret, err);
		int w = wait_fd(t->fd, events, deadline);
		if (w == 0)
			return ath_fail(err, ATH_E_TIMEOUT, -1,
					"TLS handshake: not done within %d ms", timeout_ms);
		if (w < 0)
			return ath_fail(err, ATH_E_CLIENT_GONE, -1, "TLS handshake: poll: %s",
					strerror(errno));
	}
	t->handshake_done = 1;
	return ATH_OK;
}

struct tls_session *tls_session_accept(struct tls_server *s, int fd, const char *default_name,
				       int timeout_ms, struct ath_error *err)
{
	struct tls_session *t = calloc(1, sizeof *t);
	if (!t) {
		ath_fail(err, ATH_E_NOMEM, -1, "TLS session: out of memory");
		return NULL;
	}
	t->server = s;
	t->fd = fd;
	t->io_timeout_ms = -1;
	ath_error_clear(&t->sni_err);
	mbedtls_ssl_init(&t->ssl);
	mbedtls_ssl_config_init(&t->conf);
	if (handshake(t, default_name, timeout_ms, err) != ATH_OK) {
		tls_session_free(t);
		return NULL;
	}
	return t;
}

const char *tls_session_sni(const struct tls_session *t)
{
	return t->has_sni ? t->sni : NULL;
}

const char *tls_session_alpn(const struct tls_session *t)
{
	return mbedtls_ssl_get_alpn_protocol(&t->ssl);
}

void tls_session_set_io_timeout(struct tls_session *t, int timeout_ms)
{
	t->io_timeout_ms = timeout_ms;
}

ssize_t tls_session_read(struct tls_session *t, void *buf, size_t len)
{
	if (len == 0)
		return 0;
	for (;;) {
		int ret = mbedtls_ssl_read(&t->ssl, buf, len);
		if (ret > 0)
			return ret;
		if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
		    ret == MBEDTLS_ERR_SSL_CONN_EOF)
			return 0;
		short events;
		if (ret == MBEDTLS_ERR_SSL_WANT_READ)
			events = POLLIN;
		else if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			events = POLLOUT;
		else {
			errno = t->io_errno ? t->io_errno : EPROTO;
			return -1;
		}
		int w = wait_fd(t->fd, events, deadline_after(t->io_timeout_ms));
		if (w == 0)
			errno = ETIMEDOUT;
		if (w <= 0)
			return -1;
	}
}

size_t tls_session_pending(const struct tls_session *t)
{
	size_t n = mbedtls_ssl_get_bytes_avail(&t->ssl);
	if (n == 0 && mbedtls_ssl_check_pending(&t->ssl))
		return 1;
	return n;
}

enum ath_err tls_session_write(struct tls_session *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		int ret = mbedtls_ssl_write(&t->ssl, p, len);
		if (ret > 0) {
			p += ret;
			len -= (size_t)ret;
			continue;
		}
		short events;
		if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
			events = POLLOUT;
		else if (ret == MBEDTLS_ERR_SSL_WANT_READ)
			events = POLLIN;
		else
			return ATH_E_CLIENT_GONE;
		if (wait_fd(t->fd, events, deadline_after(t->io_timeout_ms)) <= 0)
			return ATH_E_CLIENT_GONE;
	}
	return ATH_OK;
}

void tls_session_free(struct tls_session *t)
{
	if (!t)
		return;
	/* Best effort, without waiting: a client that went away gets nothing. */
	if (t->handshake_done)
		mbedtls_ssl_close_notify(&t->ssl);
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	free(t);
}
