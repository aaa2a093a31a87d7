/*
 * https through athttp_serve: a connection that opens with a TLS handshake
 * is terminated here with a leaf the local CA minted for the name asked
 * for, and served like plain HTTP inside.  The modem points at a device
 * that does not exist, so every request that reaches the module answers
 * 502: what is checked is that the answer comes back inside TLS, from a
 * certificate the client verifies, and that a request for another host
 * than the certificate's never reaches the module (421).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "athttp.h"
#include "unit_util.h"

struct rig {
	char dir[64];
	athttp_modem *m;
	int fds[2];
	pthread_t server;
	struct athttp_peer peer;
	/* the client */
	mbedtls_x509_crt root;
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	bool split_first;            /* write the first byte on its own */
	bool first_done;
};

static void *serve(void *arg)
{
	struct rig *r = arg;
	athttp_serve(r->m, r->fds[1], &r->peer);
	return NULL;
}

static int sock_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct rig *r = ctx;
	/* The ClientHello's first byte alone, then a pause: the bridge must
	 * decide from that one byte and leave the rest to the handshake. */
	if (r->split_first && !r->first_done && len > 1) {
		r->first_done = true;
		if (send(r->fds[0], buf, 1, MSG_NOSIGNAL) != 1)
			return MBEDTLS_ERR_NET_SEND_FAILED;
		usleep(50 * 1000);
		return 1;
	}
	ssize_t n = send(r->fds[0], buf, len, MSG_NOSIGNAL);
	return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)n;
}

static int sock_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct rig *r = ctx;
	ssize_t n = recv(r->fds[0], buf, len, 0);
	return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)n;
}

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof *r);
	snprintf(r->dir, sizeof r->dir, "/tmp/athttp-ca-XXXXXX");
	assert_non_null(mkdtemp(r->dir));
	struct athttp_config cfg = {
		.device = "/nonexistent/athttp-test-tty",
		.modem = "simcom",
		.ca_dir = r->dir,
	};
	char err[256];
	r->m = athttp_open(&cfg, err, sizeof err);
	assert_non_null(r->m);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct rig *r = *state;
	athttp_close(r->m);
	char *cmd = fmt("rm -rf '%s'", r->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(r);
	return 0;
}

/* Starts athttp_serve on a fresh connection to peer_host:443. */
static void connect_rig(struct rig *r, const char *peer_host)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, r->fds), 0);
	r->peer = (struct athttp_peer){ peer_host, 443 };
	assert_int_equal(pthread_create(&r->server, NULL, serve, r), 0);
}

/* The client's TLS, trusting only the local CA in r->dir. */
static int client_handshake(struct rig *r, const char *sni)
{
	char *pem_path = fmt("%s/ca.pem", r->dir);
	mbedtls_x509_crt_init(&r->root);
	mbedtls_entropy_init(&r->ent);
	mbedtls_ctr_drbg_init(&r->drbg);
	mbedtls_ssl_config_init(&r->conf);
	mbedtls_ssl_init(&r->ssl);
	int rc = mbedtls_x509_crt_parse_file(&r->root, pem_path);
	free(pem_path);
	assert_int_equal(rc, 0);
	assert_int_equal(mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->ent,
					       (const unsigned char *)"t", 1), 0);
	assert_int_equal(mbedtls_ssl_config_defaults(&r->conf, MBEDTLS_SSL_IS_CLIENT,
						     MBEDTLS_SSL_TRANSPORT_STREAM,
						     MBEDTLS_SSL_PRESET_DEFAULT), 0);
	mbedtls_ssl_conf_authmode(&r->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&r->conf, &r->root, NULL);
	mbedtls_ssl_conf_rng(&r->conf, mbedtls_ctr_drbg_random, &r->drbg);
	/* As curl does: h2 first.  The bridge speaks http/1.1 only. */
	static const char *alpn[] = { "h2", "http/1.1", NULL };
	assert_int_equal(mbedtls_ssl_conf_alpn_protocols(&r->conf, alpn), 0);
	assert_int_equal(mbedtls_ssl_setup(&r->ssl, &r->conf), 0);
	/* NULL: no SNI and no name check (the test checks the leaf's name
	 * itself). */
	assert_int_equal(mbedtls_ssl_set_hostname(&r->ssl, sni), 0);
	mbedtls_ssl_set_bio(&r->ssl, r, sock_send, sock_recv, NULL);
	do
		rc = mbedtls_ssl_handshake(&r->ssl);
	while (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE);
	return rc;
}

/* Sends req inside TLS and reads the answer until the server closes. */
static char *client_exchange(struct rig *r, const char *req)
{
	size_t len = strlen(req);
	assert_int_equal(mbedtls_ssl_write(&r->ssl, (const unsigned char *)req, len), (int)len);
	size_t cap = 65536, got = 0;
	char *buf = malloc(cap);
	for (;;) {
		int n = mbedtls_ssl_read(&r->ssl, (unsigned char *)buf + got, cap - got - 1);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	return buf;
}

static void client_done(struct rig *r)
{
	mbedtls_ssl_close_notify(&r->ssl);
	shutdown(r->fds[0], SHUT_WR);
	pthread_join(r->server, NULL);
	close(r->fds[0]);
	mbedtls_ssl_free(&r->ssl);
	mbedtls_ssl_config_free(&r->conf);
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->ent);
	mbedtls_x509_crt_free(&r->root);
}

static void test_tls_served_with_sni(void **state)
{
	struct rig *r = *state;
	connect_rig(r, "198.18.0.7");
	r->split_first = true;
	assert_int_equal(client_handshake(r, "origin.test"), 0);
	assert_true(r->first_done);
	const char *proto = mbedtls_ssl_get_alpn_protocol(&r->ssl);
	assert_non_null(proto);
	assert_string_equal(proto, "http/1.1");
	char *out = client_exchange(r, "GET /fw.bin HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n");
	/* The module is absent: the answer is the bridge's own 502, inside TLS. */
	assert_memory_equal(out, "HTTP/1.1 5", 10);
	assert_non_null(strstr(out, "X-Athttp-Error: simcom "));
	free(out);
	client_done(r);
	/* The persistent CA was created where asked, with its key private. */
	char *key = fmt("%s/ca.key", r->dir);
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
	free(key);
}

static void test_tls_host_mismatch(void **state)
{
	struct rig *r = *state;
	connect_rig(r, "198.18.0.7");
	assert_int_equal(client_handshake(r, "origin.test"), 0);
	char *out = client_exchange(r, "GET / HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n");
	assert_non_null(strstr(out, "HTTP/1.1 421 Misdirected Request\r\n"));
	assert_non_null(strstr(out, "other.test"));
	free(out);
	client_done(r);
}

/* Two requests in one TLS record, the second read from the reader's
 * buffer of decrypted bytes: both answered, in order. */
static void test_tls_pipelined(void **state)
{
	struct rig *r = *state;
	connect_rig(r, "198.18.0.7");
	assert_int_equal(client_handshake(r, "origin.test"), 0);
	char *out = client_exchange(r, "GET /a HTTP/1.1\r\nHost: origin.test\r\n\r\n"
				       "GET /b HTTP/1.1\r\nHost: other.test\r\nConnection: close\r\n\r\n");
	/* the first reaches the (absent) module, the second is refused here */
	char *first = strstr(out, "HTTP/1.1 5");
	assert_non_null(first);
	char *second = strstr(first + 1, "HTTP/1.1 421 ");
	assert_non_null(second);
	free(out);
	client_done(r);
}

/* No SNI (an IP-literal URL): the leaf is the connect-time name's. */
static void test_tls_without_sni(void **state)
{
	struct rig *r = *state;
	connect_rig(r, "10.9.8.7");
	assert_int_equal(client_handshake(r, NULL), 0);
	const mbedtls_x509_crt *leaf = mbedtls_ssl_get_peer_cert(&r->ssl);
	assert_non_null(leaf);
	/* Signed by the local CA... */
	uint32_t flags = 0;
	assert_int_equal(mbedtls_x509_crt_verify((mbedtls_x509_crt *)leaf, &r->root, NULL, NULL,
						 &flags, NULL, NULL), 0);
	/* ...for the address connected to, as an iPAddress SAN (mbedTLS 2.28
	 * cannot match those itself). */
	const mbedtls_x509_sequence *san = &leaf->subject_alt_names;
	assert_int_equal(san->buf.tag, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7);
	assert_int_equal(san->buf.len, 4);
	assert_memory_equal(san->buf.p, "\x0a\x09\x08\x07", 4);
	assert_null(san->next);
	char *out = client_exchange(r, "GET / HTTP/1.1\r\nHost: 10.9.8.7\r\nConnection: close\r\n\r\n");
	assert_memory_equal(out, "HTTP/1.1 5", 10);
	free(out);
	client_done(r);
}

/* Plain HTTP on the same modem is untouched by the sniffing. */
static void test_plain_still_plain(void **state)
{
	struct rig *r = *state;
	connect_rig(r, "198.18.0.7");
	const char req[] = "GET / HTTP/1.1\r\nHost: origin.test\r\nConnection: close\r\n\r\n";
	assert_int_equal(write(r->fds[0], req, sizeof req - 1), (ssize_t)(sizeof req - 1));
	shutdown(r->fds[0], SHUT_WR);
	char buf[4096];
	ssize_t n, got = 0;
	while ((n = read(r->fds[0], buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	buf[got] = '\0';
	assert_memory_equal(buf, "HTTP/1.1 5", 10);
	assert_non_null(strstr(buf, "X-Athttp-Error: simcom "));
	pthread_join(r->server, NULL);
	close(r->fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tls_served_with_sni, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_host_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_pipelined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_without_sni, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_still_plain, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
