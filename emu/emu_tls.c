/*
 * The module's TLS client: what a module's SSL stack does for an https://
 * URL, exactly as far as the SSL commands it was given ask (struct
 * emu_tls_opts): TLS 1.2; with verification the chain must lead to the
 * loaded roots, the dates must hold (unless ignore_dates) and the name must
 * be the URL's host; without it anything is accepted.  SNI is sent only when it was switched
 * on: real firmware with SNI off sends none, and a name-based server then
 * shows its default certificate.
 *
 * Each session has its own entropy and DRBG: sessions run on different
 * worker threads, and nothing is shared between them.
 */
#include "emu_tls.h"

#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct emu_tls {
	int fd;
	bool verify, check_name_after, ignore_dates;
	char *host;
	short wants;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
};

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
	struct emu_tls *t = ctx;
	ssize_t r = send(t->fd, p, n, MSG_NOSIGNAL);

	if (r >= 0)
		return (int)r;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
	struct emu_tls *t = ctx;
	ssize_t r = recv(t->fd, p, n, 0);

	if (r >= 0)
		return (int)r;	/* 0: mbedTLS reports the close (CONN_EOF) */
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* A module told to ignore its clock (it may have none) checks every
 * certificate of the chain but their dates. */
static int forget_dates(void *ctx, mbedtls_x509_crt *crt, int depth,
			uint32_t *flags)
{
	(void)ctx;
	(void)crt;
	(void)depth;
	*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED |
			      MBEDTLS_X509_BADCERT_FUTURE);
	return 0;
}

/* The module's view of a failed handshake: its certificate checks (chain,
 * dates, name, or no roots to check against) or anything else. */
static enum emu_fetch_status handshake_failure(int ret)
{
	switch (ret) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
	case MBEDTLS_ERR_SSL_CA_CHAIN_REQUIRED:
		return EMU_FETCH_TLS_VERIFY;
	default:
		return EMU_FETCH_TLS;
	}
}

struct emu_tls *emu_tls_new(int fd, const struct emu_url *u,
			    enum emu_fetch_status *st)
{
	static const char pers[] = "athttp-emu module TLS";
	const struct emu_tls_opts *o = &u->tls_opts;
	struct emu_tls *t = emu_calloc(1, sizeof(*t));
	bool have_ca = false;

	t->fd = fd;
	t->verify = o->verify;
	t->ignore_dates = o->ignore_dates;
	t->host = emu_strndup(u->host, strlen(u->host));
	mbedtls_entropy_init(&t->entropy);
	mbedtls_ctr_drbg_init(&t->drbg);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ssl_init(&t->ssl);
	*st = EMU_FETCH_TLS;

	if (mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
				  (const unsigned char *)pers,
				  sizeof(pers) - 1) != 0 ||
	    mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0)
		goto fail;
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	mbedtls_ssl_conf_min_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_max_version(&t->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	/* A root file that holds no certificate loads nothing, as on a
	 * module; one bad certificate among good ones keeps the good ones
	 * (parse() > 0). */
	if (o->ca_pem &&
	    mbedtls_x509_crt_parse(&t->ca, (const unsigned char *)o->ca_pem,
				   o->ca_len + 1) >= 0 &&
	    t->ca.version != 0)
		have_ca = true;
	if (o->verify) {
		mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
		/* No roots: mbedTLS rejects the server (CA_CHAIN_REQUIRED). */
		if (have_ca)
			mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
		if (o->ignore_dates)
			mbedtls_ssl_conf_verify(&t->conf, forget_dates, NULL);
	} else {
		mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_NONE);
	}
	if (mbedtls_ssl_setup(&t->ssl, &t->conf) != 0)
		goto fail;
	/* set_hostname is both the SNI and the name mbedTLS checks: without
	 * SNI the name is checked once the handshake is done. */
	if (o->sni) {
		if (mbedtls_ssl_set_hostname(&t->ssl, t->host) != 0)
			goto fail;
	} else {
		t->check_name_after = o->verify;
	}
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	*st = EMU_FETCH_OK;
	return t;
fail:
	emu_tls_free(t);
	return NULL;
}

int emu_tls_handshake(struct emu_tls *t, enum emu_fetch_status *st)
{
	int ret = mbedtls_ssl_handshake(&t->ssl);

	if (ret == MBEDTLS_ERR_SSL_WANT_READ)
		return POLLIN;
	if (ret == MBEDTLS_ERR_SSL_WANT_WRITE)
		return POLLOUT;
	if (ret != 0) {
		*st = handshake_failure(ret);
		return -1;
	}
	if (t->check_name_after) {
		const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&t->ssl);
		uint32_t flags = 0;

		/* The chain passed already; this verifies it once more, now
		 * with the expected name. */
		if (!peer ||
		    mbedtls_x509_crt_verify((mbedtls_x509_crt *)peer, &t->ca,
					    NULL, t->host, &flags,
					    t->ignore_dates ? forget_dates : NULL,
					    NULL) != 0) {
			*st = EMU_FETCH_TLS_VERIFY;
			return -1;
		}
	}
	*st = EMU_FETCH_OK;
	return 0;
}

static ssize_t io_result(struct emu_tls *t, int ret)
{
	t->wants = 0;
	if (ret >= 0)
		return ret;
	switch (ret) {
	case MBEDTLS_ERR_SSL_WANT_READ:
		t->wants = POLLIN;
		errno = EAGAIN;
		return -1;
	case MBEDTLS_ERR_SSL_WANT_WRITE:
		t->wants = POLLOUT;
		errno = EAGAIN;
		return -1;
	default:
		errno = ECONNRESET;
		return -1;
	}
}

ssize_t emu_tls_send(struct emu_tls *t, const void *p, size_t n)
{
	return io_result(t, mbedtls_ssl_write(&t->ssl, p, n));
}

ssize_t emu_tls_recv(struct emu_tls *t, void *p, size_t n)
{
	int ret = mbedtls_ssl_read(&t->ssl, p, n);

	/* A close, announced or not, ends the stream; whether the message
	 * was whole is the HTTP parser's to say, as over TCP. */
	if (ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
	    ret == MBEDTLS_ERR_SSL_CONN_EOF)
		return 0;
	return io_result(t, ret);
}

short emu_tls_wants(const struct emu_tls *t)
{
	return t->wants;
}

bool emu_tls_pending(const struct emu_tls *t)
{
	return mbedtls_ssl_get_bytes_avail(&t->ssl) > 0 ||
	       mbedtls_ssl_check_pending(&t->ssl);
}

void emu_tls_free(struct emu_tls *t)
{
	if (!t)
		return;
	if (t->ssl.state == MBEDTLS_SSL_HANDSHAKE_OVER)
		(void)mbedtls_ssl_close_notify(&t->ssl);
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->entropy);
	free(t->host);
	free(t);
}
