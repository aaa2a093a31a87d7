/*
 * bench/tls_handshake — what the local TLS termination costs a connection:
 * the server side of the engine (local CA, leaf minting, mbedTLS handshake)
 * against an mbedTLS client over a socketpair, the client verifying the
 * leaf against the local CA as a program would.  Prints
 *
 *   first handshake (mints the leaf): <ms> ms
 *   cached leaf: <n> handshakes, median <ms> ms, fastest <ms> ms
 *
 * usage: tls_handshake [ROUNDS]   (default 50)
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "local_ca.h"
#include "tls_server.h"

struct server_job {
	struct tls_server *srv;
	int fd;
	int ok;
};

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void *serve(void *arg)
{
	struct server_job *j = arg;
	struct ath_error err;
	struct tls_session *t = tls_session_accept(j->srv, j->fd, "bench.test", 10000, &err);
	char b[1];
	if (t) {
		j->ok = tls_session_read(t, b, 1) == 1 && tls_session_write(t, "y", 1) == ATH_OK;
		tls_session_free(t);
	} else {
		fprintf(stderr, "tls_handshake: server: %s\n", err.text);
	}
	return NULL;
}

static int sock_send(void *ctx, const unsigned char *buf, size_t len)
{
	ssize_t n = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
	return n < 0 ? MBEDTLS_ERR_NET_SEND_FAILED : (int)n;
}

static int sock_recv(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n = recv(*(int *)ctx, buf, len, 0);
	return n < 0 ? MBEDTLS_ERR_NET_RECV_FAILED : (int)n;
}

/* One connection: handshake, one byte each way.  Returns the ms it took,
 * or -1. */
static double one(struct tls_server *srv, mbedtls_ssl_config *conf)
{
	int fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
		return -1;
	struct server_job j = { srv, fds[1], 0 };
	mbedtls_ssl_context ssl;
	mbedtls_ssl_init(&ssl);
	double t0 = now_ms(), dt = -1;
	pthread_t th;
	if (pthread_create(&th, NULL, serve, &j) != 0)
		return -1;
	unsigned char b;
	int rc = mbedtls_ssl_setup(&ssl, conf);
	if (rc == 0)
		rc = mbedtls_ssl_set_hostname(&ssl, "bench.test");
	mbedtls_ssl_set_bio(&ssl, &fds[0], sock_send, sock_recv, NULL);
	while (rc == 0 && (rc = mbedtls_ssl_handshake(&ssl)) != 0 &&
	       (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE))
		rc = 0;
	if (rc == 0 && mbedtls_ssl_write(&ssl, (const unsigned char *)"x", 1) == 1 &&
	    mbedtls_ssl_read(&ssl, &b, 1) == 1)
		dt = now_ms() - t0;
	else if (rc) {
		char e[128];
		mbedtls_strerror(rc, e, sizeof e);
		fprintf(stderr, "tls_handshake: client: %s\n", e);
	}
	mbedtls_ssl_close_notify(&ssl);
	shutdown(fds[0], SHUT_WR);
	pthread_join(th, NULL);
	mbedtls_ssl_free(&ssl);
	close(fds[0]);
	close(fds[1]);
	return j.ok ? dt : -1;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 50;
	if (rounds < 1) {
		fprintf(stderr, "usage: tls_handshake [ROUNDS]\n");
		return 2;
	}
	struct ath_error err;
	struct local_ca *ca = local_ca_open(NULL, &err);
	struct tls_server *srv = ca ? tls_server_new(ca, &err) : NULL;
	if (!srv) {
		fprintf(stderr, "tls_handshake: %s\n", err.text);
		return 1;
	}
	mbedtls_x509_crt root;
	mbedtls_entropy_context ent;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_ssl_config conf;
	mbedtls_x509_crt_init(&root);
	mbedtls_entropy_init(&ent);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ssl_config_init(&conf);
	const char *pem = local_ca_cert_pem(ca);
	if (mbedtls_x509_crt_parse(&root, (const unsigned char *)pem, strlen(pem) + 1) != 0 ||
	    mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &ent,
				  (const unsigned char *)"bench", 5) != 0 ||
	    mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT) != 0) {
		fprintf(stderr, "tls_handshake: client set-up failed\n");
		return 1;
	}
	mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&conf, &root, NULL);
	mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);

	double first = one(srv, &conf);
	double *t = calloc((size_t)rounds, sizeof *t);
	int ok = first >= 0 && t;
	for (int i = 0; ok && i < rounds; i++)
		ok = (t[i] = one(srv, &conf)) >= 0;
	if (ok) {
		qsort(t, (size_t)rounds, sizeof *t, cmp_double);
		printf("first handshake (mints the leaf): %.2f ms\n", first);
		printf("cached leaf: %d handshakes, median %.2f ms, fastest %.2f ms\n", rounds,
		       t[rounds / 2], t[0]);
	}
	free(t);
	mbedtls_ssl_config_free(&conf);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&ent);
	mbedtls_x509_crt_free(&root);
	tls_server_free(srv);
	local_ca_free(ca);
	return ok ? 0 : 1;
}
