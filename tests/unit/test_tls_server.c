/*
 * The local TLS server, against an mbedTLS client on a thread over a socketpair:
 * SNI and the default leaf, ALPN, data both ways, close_notify, what it refuses
 * (TLS 1.1, garbage, silence), and a ClientHello arriving in pieces.  Then, where
 * the tools exist, curl and Python's strict verification over loopback TCP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>

#include "local_ca.h"
#include "tls_server.h"
#include "unit_util.h"

#define HANDSHAKE_MS 5000

struct fixture {
	struct local_ca *ca;
	struct local_ca *stranger;   /* a CA the server does not use */
	struct tls_server *server;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct ath_error err;
	ath_error_clear(&err);
	f->ca = local_ca_open(NULL, &err);
	f->stranger = local_ca_open(NULL, &err);
	if (f->ca)
		f->server = tls_server_new(f->ca, &err);
	*state = f;
	return f->ca && f->stranger && f->server ? 0 : -1;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	tls_server_free(f->server);
	local_ca_free(f->ca);
	local_ca_free(f->stranger);
	free(f);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned char pattern_byte(size_t i, unsigned seed)
{
	return (unsigned char)((i * 131u + seed * 7u + (i >> 8)) & 0xff);
}

static void pattern_sha256(size_t len, unsigned seed, unsigned char out[32])
{
	mbedtls_sha256_context c;
	mbedtls_sha256_init(&c);
	mbedtls_sha256_starts_ret(&c, 0);
	for (size_t i = 0; i < len; i++) {
		unsigned char b = pattern_byte(i, seed);
		mbedtls_sha256_update_ret(&c, &b, 1);
	}
	mbedtls_sha256_finish_ret(&c, out);
	mbedtls_sha256_free(&c);
}

/* ---- the client ---- */

struct client {
	/* what it does */
	int fd;
	struct local_ca *rng_ca;
	const mbedtls_x509_crt *trust;
	const char *sni;             /* SNI and the name checked; NULL: neither */
	const char **alpn;           /* NULL: no ALPN extension */
	int max_minor;               /* 0: TLS 1.2 */
	int split_first_byte;        /* send the first byte alone, wait till it is read */
	size_t send_len;             /* bytes to send after the handshake */
	size_t expect_len;           /* bytes to read after that */
	/* what happened */
	int hs_ret;
	uint32_t verify_flags;
	char alpn_got[32];
	unsigned char peer[2048];
	size_t peer_len;
	unsigned char got_sha[32];
	size_t got;
	int sends;
	int first_byte_alone;        /* the server had read it before the rest went out */
};

/* The number of bytes written to fd that the other end has not read yet. */
static int unread(int fd)
{
	int n = -1;
	if (ioctl(fd, SIOCOUTQ, &n) != 0)
		return -1;
	return n;
}

static int client_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct client *c = ctx;
	if (c->split_first_byte && c->sends++ == 0 && len > 1) {
		ssize_t w = send(c->fd, buf, 1, MSG_NOSIGNAL);
		if (w != 1)
			return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
		/* Bounded: the server reads within its handshake timeout or fails. */
		for (int i = 0; i < 4000 && unread(c->fd) > 0; i++) {
			struct timespec ts = { 0, 1000000 };
			nanosleep(&ts, NULL);
		}
		c->first_byte_alone = unread(c->fd) == 0;
		return 1;
	}
	ssize_t w = send(c->fd, buf, len, MSG_NOSIGNAL);
	return w < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)w;
}

static int client_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct client *c = ctx;
	ssize_t r = recv(c->fd, buf, len, 0);
	return r < 0 ? MBEDTLS_ERR_SSL_INTERNAL_ERROR : (int)r;
}

static void *client_run(void *arg)
{
	struct client *c = arg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	mbedtls_ssl_config_init(&conf);
	mbedtls_ssl_init(&ssl);
	c->hs_ret = -1;
	if (mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT))
		goto out;
	mbedtls_ssl_conf_rng(&conf, local_ca_random, c->rng_ca);
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, (mbedtls_x509_crt *)c->trust, NULL);
	if (c->max_minor) {
		mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, c->max_minor);
		mbedtls_ssl_conf_max_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, c->max_minor);
	}
	if (c->alpn && mbedtls_ssl_conf_alpn_protocols(&conf, c->alpn))
		goto out;
	if (mbedtls_ssl_setup(&ssl, &conf))
		goto out;
	if (c->sni && mbedtls_ssl_set_hostname(&ssl, c->sni))
		goto out;
	mbedtls_ssl_set_bio(&ssl, c, client_send, client_recv, NULL);
	c->hs_ret = mbedtls_ssl_handshake(&ssl);
	c->verify_flags = mbedtls_ssl_get_verify_result(&ssl);
	if (c->hs_ret)
		goto out;
	const char *alpn = mbedtls_ssl_get_alpn_protocol(&ssl);
	snprintf(c->alpn_got, sizeof c->alpn_got, "%s", alpn ? alpn : "");
	const mbedtls_x509_crt *peer = mbedtls_ssl_get_peer_cert(&ssl);
	if (peer && peer->raw.len <= sizeof c->peer) {
		memcpy(c->peer, peer->raw.p, peer->raw.len);
		c->peer_len = peer->raw.len;
	}
	unsigned char chunk[4096];
	for (size_t off = 0; off < c->send_len;) {
		size_t n = c->send_len - off < sizeof chunk ? c->send_len - off : sizeof chunk;
		for (size_t i = 0; i < n; i++)
			chunk[i] = pattern_byte(off + i, 1);
		int w = mbedtls_ssl_write(&ssl, chunk, n);
		if (w <= 0)
			goto out;
		off += (size_t)w;
	}
	mbedtls_sha256_context sha;
	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts_ret(&sha, 0);
	while (c->got < c->expect_len) {
		int r = mbedtls_ssl_read(&ssl, chunk, sizeof chunk);
		if (r <= 0)
			break;
		mbedtls_sha256_update_ret(&sha, chunk, (size_t)r);
		c->got += (size_t)r;
	}
	mbedtls_sha256_finish_ret(&sha, c->got_sha);
	mbedtls_sha256_free(&sha);
	mbedtls_ssl_close_notify(&ssl);
out:
	mbedtls_ssl_free(&ssl);
	mbedtls_ssl_config_free(&conf);
	return NULL;
}

/* ---- running one connection ---- */

struct conn {
	int sv[2];                   /* [0] the server's end, [1] the client's */
	pthread_t thread;
	int has_thread;
	struct client client;
	struct tls_session *session;
	struct ath_error err;
	int64_t accept_ms;
};

static void conn_open(struct conn *k, struct fixture *f)
{
	memset(k, 0, sizeof *k);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, k->sv), 0);
	k->client.fd = k->sv[1];
	k->client.rng_ca = f->ca;
	k->client.trust = local_ca_cert(f->ca);
	ath_error_clear(&k->err);
}

static void conn_start_client(struct conn *k)
{
	assert_int_equal(pthread_create(&k->thread, NULL, client_run, &k->client), 0);
	k->has_thread = 1;
}

static void conn_accept(struct conn *k, struct fixture *f, const char *default_name,
			int timeout_ms)
{
	int64_t t0 = now_ms();
	k->session = tls_session_accept(f->server, k->sv[0], default_name, timeout_ms, &k->err);
	k->accept_ms = now_ms() - t0;
	if (!k->session) {
		/* Unblock a client still waiting for the server's answer. */
		shutdown(k->sv[0], SHUT_RDWR);
	}
}

static void conn_close(struct conn *k)
{
	if (k->has_thread)
		pthread_join(k->thread, NULL);
	tls_session_free(k->session);
	close(k->sv[0]);
	close(k->sv[1]);
}

/* The server reads exactly len bytes and returns their sha256. */
static void server_read_sha(struct tls_session *t, size_t len, unsigned char out[32])
{
	mbedtls_sha256_context sha;
	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts_ret(&sha, 0);
	unsigned char buf[3000];
	size_t got = 0;
	while (got < len) {
		size_t want = len - got < sizeof buf ? len - got : sizeof buf;
		ssize_t r = tls_session_read(t, buf, want);
		assert_true(r > 0);
		mbedtls_sha256_update_ret(&sha, buf, (size_t)r);
		got += (size_t)r;
	}
	mbedtls_sha256_finish_ret(&sha, out);
	mbedtls_sha256_free(&sha);
}

static void server_write_pattern(struct tls_session *t, size_t len, unsigned seed)
{
	unsigned char *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(i, seed);
	assert_int_equal(tls_session_write(t, buf, len), ATH_OK);
	free(buf);
}

static void peer_is_leaf_for(const struct conn *k, struct fixture *f, const char *name)
{
	mbedtls_x509_crt peer;
	mbedtls_x509_crt_init(&peer);
	assert_true(k->client.peer_len > 0);
	assert_int_equal(mbedtls_x509_crt_parse_der(&peer, k->client.peer, k->client.peer_len), 0);
	uint32_t flags = 0;
	assert_int_equal(mbedtls_x509_crt_verify(&peer, (mbedtls_x509_crt *)local_ca_cert(f->ca),
						 NULL, name, &flags, NULL, NULL), 0);
	mbedtls_x509_crt_free(&peer);
}

static void sni_data_both_ways_and_close_notify(void **state)
{
	struct fixture *f = *state;
	struct conn k;
	conn_open(&k, f);
	static const char *alpn[] = { "http/1.1", NULL };
	k.client.sni = "a.test";
	k.client.alpn = alpn;
	k.client.send_len = 40000;
	k.client.expect_len = 100000;
	conn_start_client(&k);
	conn_accept(&k, f, "default.test", HANDSHAKE_MS);
	if (!k.session)
		fprintf(stderr, "accept: %s\n", k.err.text);
	assert_non_null(k.session);
	assert_string_equal(tls_session_sni(k.session), "a.test");
	assert_string_equal(tls_session_alpn(k.session), "http/1.1");

	unsigned char want[32], got[32];
	server_read_sha(k.session, 40000, got);
	pattern_sha256(40000, 1, want);
	assert_memory_equal(got, want, 32);
	server_write_pattern(k.session, 100000, 2);
	/* The client's close_notify after it has read everything. */
	unsigned char b;
	assert_int_equal(tls_session_read(k.session, &b, 1), 0);
	pthread_join(k.thread, NULL);
	k.has_thread = 0;

	assert_int_equal(k.client.hs_ret, 0);
	assert_int_equal(k.client.verify_flags, 0);
	assert_string_equal(k.client.alpn_got, "http/1.1");
	assert_int_equal(k.client.got, 100000);
	pattern_sha256(100000, 2, want);
	assert_memory_equal(k.client.got_sha, want, 32);
	peer_is_leaf_for(&k, f, "a.test");
	conn_close(&k);
}

static void pending_counts_decrypted_bytes(void **state)
{
	struct fixture *f = *state;
	struct conn k;
	conn_open(&k, f);
	k.client.sni = "pending.test";
	k.client.send_len = 4096;           /* one record */
	conn_start_client(&k);
	conn_accept(&k, f, NULL, HANDSHAKE_MS);
	assert_non_null(k.session);
	assert_int_equal(tls_session_pending(k.session), 0);
	unsigned char buf[4096];
	assert_int_equal(tls_session_read(k.session, buf, 100), 100);
	assert_int_equal(tls_session_pending(k.session), 3996);
	assert_int_equal(tls_session_read(k.session, buf + 100, sizeof buf - 100), 3996);
	assert_int_equal(tls_session_pending(k.session), 0);
	for (size_t i = 0; i < sizeof buf; i++)
		assert_int_equal(buf[i], pattern_byte(i, 1));
	assert_int_equal(tls_session_read(k.session, buf, 1), 0);
	conn_close(&k);
}

static void no_sni_gets_default_leaf(void **state)
{
	struct fixture *f = *state;
	struct conn k;
	conn_open(&k, f);
	k.client.expect_len = 5;
	conn_start_client(&k);
	conn_accept(&k, f, "default.test", HANDSHAKE_MS);
	assert_non_null(k.session);
	assert_null(tls_session_sni(k.session));
	/* Without an ALPN offer there is no ALPN. */
	assert_null(tls_session_alpn(k.session));
	assert_int_equal(tls_session_write(k.session, "hello", 5), ATH_OK);
	pthread_join(k.thread, NULL);
	k.has_thread = 0;
	assert_int_equal(k.client.hs_ret, 0);
	assert_int_equal(k.client.got, 5);
	peer_is_leaf_for(&k, f, "default.test");
	/* And not another name's. */
	mbedtls_x509_crt peer;
	mbedtls_x509_crt_init(&peer);
	assert_int_equal(mbedtls_x509_crt_parse_der(&peer, k.client.peer, k.client.peer_len), 0);
	uint32_t flags = 0;
	assert_int_not_equal(mbedtls_x509_crt_verify(&peer, (mbedtls_x509_crt *)local_ca_cert(f->ca),
						     NULL, "a.test", &flags, NULL, NULL), 0);
	mbedtls_x509_crt_free(&peer);
	/* TCP EOF without close_notify also reads as 0. */
	shutdown(k.sv[1], SHUT_WR);
	unsigned char b;
	assert_int_equal(tls_session_read(k.session, &b, 1), 0);
	conn_close(&k);
}

static void alpn_h2_only_gets_none(void **state)
{
	struct fixture *f = *state;
	static const char *h2[] = { "h2", NULL };
	static const char *both[] = { "h2", "http/1.1", NULL };
	const char **offers[] = { h2, both };
	const char *want[] = { "", "http/1.1" };
	for (int i = 0; i < 2; i++) {
		struct conn k;
		conn_open(&k, f);
		k.client.sni = "alpn.test";
		k.client.alpn = offers[i];
		conn_start_client(&k);
		conn_accept(&k, f, NULL, HANDSHAKE_MS);
		if (!k.session)
			fprintf(stderr, "accept: %s\n", k.err.text);
		assert_non_null(k.session);
		pthread_join(k.thread, NULL);
		k.has_thread = 0;
		assert_int_equal(k.client.hs_ret, 0);
		assert_string_equal(k.client.alpn_got, want[i]);
		const char *server_alpn = tls_session_alpn(k.session);
		assert_string_equal(server_alpn ? server_alpn : "", want[i]);
		conn_close(&k);
	}
}

static void tls11_client_refused(void **state)
{
	struct fixture *f = *state;
	struct conn k;
	conn_open(&k, f);
	k.client.sni = "a.test";
	k.client.max_minor = MBEDTLS_SSL_MINOR_VERSION_2;
	conn_start_client(&k);
	conn_accept(&k, f, "a.test", HANDSHAKE_MS);
	assert_null(k.session);
	assert_int_equal(k.err.code, ATH_E_BAD_REQUEST);
	assert_non_null(strstr(k.err.text, "TLS handshake"));
	pthread_join(k.thread, NULL);
	k.has_thread = 0;
	assert_int_not_equal(k.client.hs_ret, 0);
	conn_close(&k);
}

static void untrusting_client_reported(void **state)
{
	struct fixture *f = *state;
	struct conn k;
	conn_open(&k, f);
	k.client.sni = "a.test";
	k.client.trust = local_ca_cert(f->stranger);
	conn_start_client(&k);
	conn_accept(&k, f, "a.test", HANDSHAKE_MS);
	assert_null(k.session);
	pthread_join(k.thread, NULL);
	k.has_thread = 0;
	assert_int_not_equal(k.client.hs_ret, 0);
	assert_true(k.client.verify_flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED);
	assert_int_equal(k.err.code, ATH_E_CLIENT_GONE);
	assert_non_null(strstr(k.err.text, "unknown_ca"));
	conn_close(&k);
}

static void garbage_is_an_error_not_a_hang(void **state)
{
	struct fixture *f = *state;
	static const char http[] = "GET / HTTP/1.1\r\nHost: a.test\r\n\r\n";
	/* A handshake record header, then bytes that are no ClientHello. */
	unsigned char fake[5 + 64] = { 0x16, 0x03, 0x01, 0x00, 64 };
	memset(fake + 5, 0xee, 64);
	/* A record longer than TLS allows. */
	static const unsigned char huge[] = { 0x16, 0x03, 0x01, 0xff, 0xff };
	struct { const void *p; size_t n; enum ath_err want; } cases[] = {
		{ http, sizeof http - 1, ATH_E_BAD_REQUEST },
		{ fake, sizeof fake, ATH_E_BAD_REQUEST },
		{ huge, sizeof huge, ATH_E_BAD_REQUEST },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct conn k;
		conn_open(&k, f);
		assert_int_equal(write(k.sv[1], cases[i].p, cases[i].n), (ssize_t)cases[i].n);
		conn_accept(&k, f, "a.test", HANDSHAKE_MS);
		if (k.session || k.err.code != cases[i].want)
			fprintf(stderr, "case %zu: %s\n", i, k.err.text);
		assert_null(k.session);
		assert_int_equal(k.err.code, cases[i].want);
		assert_true(k.accept_ms < HANDSHAKE_MS / 2);
		assert_true(k.err.text[0] != '\0');
		conn_close(&k);
	}
	/* A client that hangs up at once. */
	struct conn k;
	conn_open(&k, f);
	shutdown(k.sv[1], SHUT_WR);
	conn_accept(&k, f, "a.test", HANDSHAKE_MS);
	assert_null(k.session);
	assert_int_equal(k.err.code, ATH_E_CLIENT_GONE);
	conn_close(&k);
}

static void silent_client_times_out(void **state)
{
	struct fixture *f = *state;
	/* Nothing at all, then a record header promising more than comes. */
	static const unsigned char partial[] = { 0x16, 0x03, 0x01, 0x00, 0x80, 0x01 };
	for (int i = 0; i < 2; i++) {
		struct conn k;
		conn_open(&k, f);
		if (i == 1)
			assert_int_equal(write(k.sv[1], partial, sizeof partial),
					 (ssize_t)sizeof partial);
		conn_accept(&k, f, "a.test", 300);
		assert_null(k.session);
		assert_int_equal(k.err.code, ATH_E_TIMEOUT);
		assert_true(k.accept_ms >= 290);
		assert_true(k.accept_ms < 2000);
		conn_close(&k);
	}
}

static void client_hello_in_pieces(void **state)
{
	struct fixture *f = *state;
	struct conn k;
	conn_open(&k, f);
	k.client.sni = "split.test";
	k.client.split_first_byte = 1;
	k.client.expect_len = 2;
	conn_start_client(&k);
	/* A non-blocking fd: the server must poll, not spin or fail on EAGAIN. */
	assert_int_equal(fcntl(k.sv[0], F_SETFL, O_NONBLOCK), 0);
	conn_accept(&k, f, NULL, HANDSHAKE_MS);
	if (!k.session)
		fprintf(stderr, "accept: %s\n", k.err.text);
	assert_non_null(k.session);
	assert_string_equal(tls_session_sni(k.session), "split.test");
	assert_int_equal(tls_session_write(k.session, "ok", 2), ATH_OK);
	pthread_join(k.thread, NULL);
	k.has_thread = 0;
	assert_int_equal(k.client.hs_ret, 0);
	assert_true(k.client.first_byte_alone);
	assert_int_equal(k.client.got, 2);
	peer_is_leaf_for(&k, f, "split.test");
	conn_close(&k);
}

static void write_to_vanished_client(void **state)
{
	struct fixture *f = *state;
	struct conn k;
	conn_open(&k, f);
	k.client.sni = "gone.test";
	conn_start_client(&k);
	conn_accept(&k, f, NULL, HANDSHAKE_MS);
	assert_non_null(k.session);
	pthread_join(k.thread, NULL);
	k.has_thread = 0;
	close(k.sv[1]);
	k.sv[1] = -1;
	/* No SIGPIPE (it would kill the test), an error instead. */
	static unsigned char big[200000];
	assert_int_equal(tls_session_write(k.session, big, sizeof big), ATH_E_CLIENT_GONE);
	conn_close(&k);
}


struct server_job {
	struct fixture *f;
	struct conn k;
	char name[32];
	unsigned char got_sha[32];
	int ok;
};

/* One server side on its own thread: handshake, read 20000 bytes, answer 30000. */
static void *server_job_run(void *arg)
{
	struct server_job *j = arg;
	j->k.session = tls_session_accept(j->f->server, j->k.sv[0], NULL, HANDSHAKE_MS, &j->k.err);
	if (!j->k.session) {
		shutdown(j->k.sv[0], SHUT_RDWR);
		return NULL;
	}
	mbedtls_sha256_context sha;
	mbedtls_sha256_init(&sha);
	mbedtls_sha256_starts_ret(&sha, 0);
	unsigned char buf[4096];
	size_t got = 0;
	while (got < 20000) {
		ssize_t r = tls_session_read(j->k.session, buf, sizeof buf);
		if (r <= 0)
			break;
		mbedtls_sha256_update_ret(&sha, buf, (size_t)r);
		got += (size_t)r;
	}
	mbedtls_sha256_finish_ret(&sha, j->got_sha);
	mbedtls_sha256_free(&sha);
	unsigned char *out = malloc(30000);
	for (size_t i = 0; i < 30000; i++)
		out[i] = pattern_byte(i, 2);
	j->ok = got == 20000 && tls_session_write(j->k.session, out, 30000) == ATH_OK;
	free(out);
	return NULL;
}

/* Sessions of one server on several threads at once share the CA, its random
 * generator and the leaf key. */
static void concurrent_sessions(void **state)
{
	struct fixture *f = *state;
	enum { N = 6 };
	struct server_job *jobs = calloc(N, sizeof *jobs);
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		jobs[i].f = f;
		conn_open(&jobs[i].k, f);
		snprintf(jobs[i].name, sizeof jobs[i].name, "c%d.test", i % 3);
		jobs[i].k.client.sni = jobs[i].name;
		jobs[i].k.client.send_len = 20000;
		jobs[i].k.client.expect_len = 30000;
		conn_start_client(&jobs[i].k);
		assert_int_equal(pthread_create(&th[i], NULL, server_job_run, &jobs[i]), 0);
	}
	unsigned char sent[32], answered[32];
	pattern_sha256(20000, 1, sent);
	pattern_sha256(30000, 2, answered);
	for (int i = 0; i < N; i++) {
		pthread_join(th[i], NULL);
		pthread_join(jobs[i].k.thread, NULL);
		jobs[i].k.has_thread = 0;
		if (!jobs[i].ok)
			fprintf(stderr, "session %d: %s\n", i, jobs[i].k.err.text);
		assert_true(jobs[i].ok);
		assert_int_equal(jobs[i].k.client.hs_ret, 0);
		assert_memory_equal(jobs[i].got_sha, sent, 32);
		assert_int_equal(jobs[i].k.client.got, 30000);
		assert_memory_equal(jobs[i].k.client.got_sha, answered, 32);
		assert_string_equal(tls_session_sni(jobs[i].k.session), jobs[i].name);
		peer_is_leaf_for(&jobs[i].k, f, jobs[i].name);
		conn_close(&jobs[i].k);
	}
	free(jobs);
}

/* A ClientHello as busybox wget's TLS writes it: no signature_algorithms extension. */
struct bare_client {
	int fd;
	int saw_certificate;
	int ske_hash, ske_sig;       /* ServerKeyExchange's SignatureAndHashAlgorithm */
	int alert;                   /* the server's alert description, or -1 */
};

static size_t put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
	return 2;
}

static size_t bare_client_hello(unsigned char *out, const char *sni)
{
	unsigned char ext[128], *e = ext;
	size_t n = strlen(sni);
	e += put16(e, 0x0000);                   /* server_name */
	e += put16(e, (unsigned)(n + 5));
	e += put16(e, (unsigned)(n + 3));
	*e++ = 0;
	e += put16(e, (unsigned)n);
	memcpy(e, sni, n);
	e += n;
	static const unsigned char groups_formats[] = {
		0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x17,  /* supported_groups: P-256 */
		0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,              /* ec_point_formats: uncompressed */
	};
	memcpy(e, groups_formats, sizeof groups_formats);
	e += sizeof groups_formats;
	size_t ext_len = (size_t)(e - ext);

	unsigned char *p = out + 9;
	*p++ = 3;
	*p++ = 3;
	for (int i = 0; i < 32; i++)
		*p++ = (unsigned char)(i * 37 + 11);
	*p++ = 0;                                        /* session_id */
	p += put16(p, 4);
	p += put16(p, 0xc02b);                           /* ECDHE-ECDSA-AES128-GCM-SHA256 */
	p += put16(p, 0xc009);                           /* ECDHE-ECDSA-AES128-SHA */
	*p++ = 1;
	*p++ = 0;                                        /* compression: null */
	p += put16(p, (unsigned)ext_len);
	memcpy(p, ext, ext_len);
	p += ext_len;
	size_t body = (size_t)(p - (out + 9));
	out[0] = 0x16;
	out[1] = 3;
	out[2] = 1;
	put16(out + 3, (unsigned)(body + 4));
	out[5] = 1;                                      /* client_hello */
	out[6] = 0;
	put16(out + 7, (unsigned)body);
	return body + 9;
}

/* Reads exactly n bytes (5 s bound): 0 or -1. */
static int read_exact(int fd, unsigned char *buf, size_t n)
{
	for (size_t got = 0; got < n;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) != 1)
			return -1;
		ssize_t r = recv(fd, buf + got, n - got, 0);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static void *bare_client_run(void *arg)
{
	struct bare_client *c = arg;
	unsigned char hello[512];
	size_t n = bare_client_hello(hello, "bb.test");
	c->ske_hash = c->ske_sig = c->alert = -1;
	if (send(c->fd, hello, n, MSG_NOSIGNAL) != (ssize_t)n)
		goto out;
	/* The server's first flight, one handshake message a record as mbedTLS sends it. */
	for (;;) {
		unsigned char hdr[5], rec[16384 + 2048];
		if (read_exact(c->fd, hdr, 5))
			break;
		size_t len = (size_t)hdr[3] << 8 | hdr[4];
		if (len > sizeof rec || read_exact(c->fd, rec, len))
			break;
		if (hdr[0] == 0x15 && len >= 2) {
			c->alert = rec[1];
			break;
		}
		if (hdr[0] != 0x16 || len < 4)
			break;
		if (rec[0] == 11)
			c->saw_certificate = 1;
		/* ECDHE ServerKeyExchange: curve_type 3, named_curve, point, then the
		 * signature's hash and signature algorithm (RFC 4492 5.4, RFC 5246 7.4.1.4.1). */
		if (rec[0] == 12 && len > 8 && rec[4] == 3) {
			size_t at = 4 + 3 + 1 + rec[7];
			if (at + 2 <= len) {
				c->ske_hash = rec[at];
				c->ske_sig = rec[at + 1];
			}
		}
		if (rec[0] == 14)                        /* server_hello_done */
			break;
	}
out:
	shutdown(c->fd, SHUT_RDWR);
	return NULL;
}

static void client_without_signature_algorithms_gets_sha1(void **state)
{
	struct fixture *f = *state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct bare_client c = { .fd = sv[1] };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, bare_client_run, &c), 0);
	struct ath_error err;
	ath_error_clear(&err);
	struct tls_session *t = tls_session_accept(f->server, sv[0], NULL, HANDSHAKE_MS, &err);
	pthread_join(th, NULL);
	/* The bare client stops after the server's first flight. */
	assert_null(t);
	assert_int_equal(err.code, ATH_E_CLIENT_GONE);
	assert_int_equal(c.alert, -1);
	assert_true(c.saw_certificate);
	assert_int_equal(c.ske_hash, 2);                 /* sha1 */
	assert_int_equal(c.ske_sig, 3);                  /* ecdsa */
	close(sv[0]);
	close(sv[1]);
}

/* ---- real clients over loopback TCP, where installed ---- */

static int have(const char *tool)
{
	char *cmd = fmt("command -v %s >/dev/null 2>&1", tool);
	int ok = system(cmd) == 0;
	free(cmd);
	return ok;
}

struct tcp_server {
	struct fixture *f;
	int listen_fd;
	const char *reply_body;
	char sni[256];
	char alpn[32];
	char request[2048];
	struct ath_error err;
	int ok;
};

/* Serves one connection: handshake, one request head, one response. */
static void *tcp_serve_one(void *arg)
{
	struct tcp_server *t = arg;
	ath_error_clear(&t->err);
	struct pollfd p = { .fd = t->listen_fd, .events = POLLIN };
	if (poll(&p, 1, 10000) != 1)
		return NULL;
	int fd = accept(t->listen_fd, NULL, NULL);
	if (fd < 0)
		return NULL;
	struct tls_session *s = tls_session_accept(t->f->server, fd, "127.0.0.1", HANDSHAKE_MS,
						   &t->err);
	if (s) {
		snprintf(t->sni, sizeof t->sni, "%s", tls_session_sni(s) ? tls_session_sni(s) : "");
		snprintf(t->alpn, sizeof t->alpn, "%s", tls_session_alpn(s) ? tls_session_alpn(s) : "");
		tls_session_set_io_timeout(s, 10000);
		size_t n = 0;
		while (n < sizeof t->request - 1 && !strstr(t->request, "\r\n\r\n")) {
			ssize_t r = tls_session_read(s, t->request + n, sizeof t->request - 1 - n);
			if (r <= 0)
				break;
			n += (size_t)r;
			t->request[n] = '\0';
		}
		char *resp = fmt("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
				 strlen(t->reply_body), t->reply_body);
		t->ok = strstr(t->request, "\r\n\r\n") &&
			tls_session_write(s, resp, strlen(resp)) == ATH_OK;
		free(resp);
		tls_session_free(s);
	}
	close(fd);
	return NULL;
}

static int tcp_listen(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 4) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen))
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static char *write_ca_file(struct fixture *f)
{
	char *path = strdup("/tmp/test_tls_server_ca.XXXXXX");
	int fd = mkstemp(path);
	const char *pem = local_ca_cert_pem(f->ca);
	assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
	close(fd);
	return path;
}

/* Runs cmd while the server serves one connection; cmd's stdout. */
static char *run_against_server(struct tcp_server *t, const char *cmd)
{
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, tcp_serve_one, t), 0);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	char *out = calloc(1, 4096);
	size_t n = fread(out, 1, 4095, p);
	out[n] = '\0';
	int status = pclose(p);
	pthread_join(th, NULL);
	if (status != 0)
		fprintf(stderr, "%s: exit %d, server: %s\n", cmd, status, t->err.text);
	assert_int_equal(status, 0);
	return out;
}

static void curl_verifies_and_speaks_http11(void **state)
{
	struct fixture *f = *state;
	if (!have("curl")) {
		skip();
		return;
	}
	int port;
	int lfd = tcp_listen(&port);
	assert_true(lfd >= 0);
	char *ca = write_ca_file(f);
	struct tcp_server t = { .f = f, .listen_fd = lfd, .reply_body = "hello from tls" };
	/* curl offers h2 and http/1.1: it must get http/1.1. */
	char *cmd = fmt("curl -sS --http2 --cacert %s --resolve curl.test:%d:127.0.0.1 "
			"-w ' %%{http_version}' https://curl.test:%d/x 2>&1", ca, port, port);
	char *out = run_against_server(&t, cmd);
	assert_string_equal(out, "hello from tls 1.1");
	assert_true(t.ok);
	assert_string_equal(t.sni, "curl.test");
	assert_string_equal(t.alpn, "http/1.1");
	assert_non_null(strstr(t.request, "GET /x HTTP/1.1\r\n"));
	free(out);
	free(cmd);

	/* An IP-literal URL: no SNI, the default leaf's iPAddress SAN. */
	struct tcp_server t2 = { .f = f, .listen_fd = lfd, .reply_body = "by ip" };
	cmd = fmt("curl -sS --cacert %s https://127.0.0.1:%d/ 2>&1", ca, port);
	out = run_against_server(&t2, cmd);
	assert_string_equal(out, "by ip");
	assert_string_equal(t2.sni, "");
	free(out);
	free(cmd);
	unlink(ca);
	free(ca);
	close(lfd);
}

/* Python 3.13 makes VERIFY_X509_STRICT the default; it rejects leaves without AKI. */
static void python_strict_verification(void **state)
{
	struct fixture *f = *state;
	if (!have("python3")) {
		skip();
		return;
	}
	int port;
	int lfd = tcp_listen(&port);
	assert_true(lfd >= 0);
	char *ca = write_ca_file(f);
	struct tcp_server t = { .f = f, .listen_fd = lfd, .reply_body = "strict ok" };
	char *cmd = fmt(
		"python3 -c 'import socket, ssl, sys\n"
		"c = ssl.create_default_context(cafile=\"%s\")\n"
		"c.verify_flags |= ssl.VERIFY_X509_STRICT\n"
		"c.set_alpn_protocols([\"h2\", \"http/1.1\"])\n"
		"s = c.wrap_socket(socket.create_connection((\"127.0.0.1\", %d)), server_hostname=\"py.test\")\n"
		"s.sendall(b\"GET / HTTP/1.1\\r\\nHost: py.test\\r\\n\\r\\n\")\n"
		"d = b\"\"\n"
		"while True:\n"
		"    b = s.recv(4096)\n"
		"    if not b: break\n"
		"    d += b\n"
		"sys.stdout.write(s.selected_alpn_protocol() + \" \" + d.split(b\"\\r\\n\\r\\n\", 1)[1].decode())\n"
		"' 2>&1", ca, port);
	char *out = run_against_server(&t, cmd);
	assert_string_equal(out, "http/1.1 strict ok");
	assert_string_equal(t.sni, "py.test");
	free(out);
	free(cmd);
	unlink(ca);
	free(ca);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sni_data_both_ways_and_close_notify),
		cmocka_unit_test(no_sni_gets_default_leaf),
		cmocka_unit_test(pending_counts_decrypted_bytes),
		cmocka_unit_test(alpn_h2_only_gets_none),
		cmocka_unit_test(tls11_client_refused),
		cmocka_unit_test(untrusting_client_reported),
		cmocka_unit_test(garbage_is_an_error_not_a_hang),
		cmocka_unit_test(silent_client_times_out),
		cmocka_unit_test(client_hello_in_pieces),
		cmocka_unit_test(write_to_vanished_client),
		cmocka_unit_test(client_without_signature_algorithms_gets_sha1),
		cmocka_unit_test(concurrent_sessions),
		cmocka_unit_test(curl_verifies_and_speaks_http11),
		cmocka_unit_test(python_strict_verification),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
