/*
 * The wrapper and athttpd: when a daemon serves, the program's connections
 * go to it (the preload library follows ATHTTP_SOCKET) and the https
 * leaves it gets are signed by the daemon's CA, so that CA is what the
 * program must trust; the key stays with the daemon.
 */
#include "wrapper_daemon.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/x509_crt.h>

#include "daemon_proto.h"
#include "trust_env.h"

#define DAEMON_WAIT_MS 5000
#define CA_PEM_MAX (64 * 1024)

char *daemon_read_all(int fd, size_t max, int timeout_ms, size_t *len, char *why,
		      size_t whylen)
{
	char *buf = malloc(max + 1);
	size_t have = 0;
	long long deadline = now_ms() + timeout_ms;
	if (!buf) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	for (;;) {
		long long left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(why, whylen, "%s", r == 0 ? "the daemon did not finish in time"
							 : strerror(errno));
			break;
		}
		ssize_t n = read(fd, buf + have, max + 1 - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(why, whylen, "reading from the daemon: %s", strerror(errno));
			break;
		}
		if (n == 0) {
			buf[have] = '\0';
			*len = have;
			return buf;
		}
		have += (size_t)n;
		if (have > max) {
			snprintf(why, whylen, "the daemon sent more than %zu bytes", max);
			break;
		}
	}
	free(buf);
	return NULL;
}

/* A PEM certificate and nothing else that could pass for trust: mbedTLS
 * must read exactly one certificate, a CA. */
static bool one_ca_certificate(const char *pem, size_t len)
{
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	bool ok = strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) == 0 &&
		  mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, len + 1) == 0 &&
		  !crt.next && crt.ca_istrue;
	mbedtls_x509_crt_free(&crt);
	return ok;
}

/* The daemon's CA in run_dir/ca.pem and the trust files from it: 0, -1
 * failed (said), -2 nobody listens at path (said unless absent_ok). */
static int trust_daemon_ca(const char *path, bool absent_ok, char *run_dir, size_t run_dir_len)
{
	int status;
	char why[DAEMON_LINE_MAX + 64];
	int fd = daemon_client_open(path, "CA", DAEMON_WAIT_MS, &status, why, sizeof why);
	if (fd < 0 && status == 0 && (errno == ECONNREFUSED || errno == ENOENT) && absent_ok)
		return -2;
	if (fd < 0) {
		fprintf(stderr, "athttp: daemon %s: %s\n", path, why);
		return -1;
	}
	size_t len;
	char *pem = daemon_read_all(fd, CA_PEM_MAX, DAEMON_WAIT_MS, &len, why, sizeof why);
	close(fd);
	if (!pem) {
		fprintf(stderr, "athttp: daemon %s: its CA: %s\n", path, why);
		return -1;
	}
	if (!one_ca_certificate(pem, len)) {
		fprintf(stderr, "athttp: daemon %s: what it sent for its CA is not one CA "
			"certificate (PEM)\n", path);
		free(pem);
		return -1;
	}

	struct ath_error err;
	ath_error_clear(&err);
	char ca_file[PATH_MAX + 16];
	enum ath_err e = trust_run_dir_create(run_dir, run_dir_len, &err);
	if (e != ATH_OK) {
		fprintf(stderr, "athttp: %s\n", err.text);
		free(pem);
		return -1;
	}
	snprintf(ca_file, sizeof ca_file, "%s/ca.pem", run_dir);
	/* The bundle code writes atomically; the CA alone needs no more
	 * than an exclusive create in our private directory. */
	int cfd = open(ca_file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (cfd < 0 || write(cfd, pem, len) != (ssize_t)len || close(cfd) != 0) {
		e = ath_fail(&err, ATH_E_CONFIG, -1, "%s: %s", ca_file, strerror(errno));
		if (cfd >= 0)
			close(cfd);
	}
	if (e == ATH_OK)
		e = trust_env_setup(run_dir, run_dir, pem, &err);
	free(pem);
	if (e != ATH_OK) {
		fprintf(stderr, "athttp: cannot set up trust of the daemon's CA: %s\n",
			*err.text ? err.text : ath_strerror(e));
		trust_run_dir_remove(run_dir);
		return -1;
	}
	return 0;
}

int wrapper_daemon_setup(const char *socket, const char *device, char *run_dir,
			 size_t run_dir_len)
{
	char path[PATH_MAX];
	struct stat st;
	bool explicit_socket = socket && *socket;

	if (explicit_socket) {
		snprintf(path, sizeof path, "%s", socket);
	} else if (daemon_default_socket(device, path, sizeof path) < 0 ||
		   stat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		return 0;
	}
	/* The default socket serves when a daemon answers there: a stale
	 * file (nobody listening) leaves the engine in the process. */
	int rc = trust_daemon_ca(path, !explicit_socket, run_dir, run_dir_len);
	if (rc == -2)
		return 0;
	if (rc < 0)
		return -1;
	if (setenv("ATHTTP_SOCKET", path, 1) != 0) {
		fprintf(stderr, "athttp: setenv ATHTTP_SOCKET: %s\n", strerror(errno));
		trust_run_dir_remove(run_dir);
		return -1;
	}
	return 1;
}
