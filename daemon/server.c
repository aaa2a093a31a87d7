/*
 * One connection: the client's opening line (bounded in time and
 * length), the peer check, then the verb's answer.  CONNECT hands the
 * socket to athttp_serve, which queues its requests for the module with
 * everyone else's.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "athttpd.h"
#include "daemon_proto.h"
#include "modem.h"
#include "module_status.h"

#define PREAMBLE_MS 5000
#define STATUS_QUERY_MS 3000

struct conn {
	struct daemon *dm;
	int fd;
	int slot;
};

static long mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The opening line, one byte at a time: every byte after its newline is
 * the program's and stays in the socket for athttp_serve.  -1: too long,
 * too slow, or the client went away. */
static int read_line(int fd, char *out, size_t outlen)
{
	long due = mono_ms() + PREAMBLE_MS;
	size_t n = 0;
	for (;;) {
		long left = due - mono_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		char c;
		ssize_t k = recv(fd, &c, 1, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		if (c == '\n')
			break;
		if (n + 1 >= outlen || n >= DAEMON_LINE_MAX)
			return -1;
		out[n++] = c;
	}
	if (n && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return (int)n;
}

static void answer(int fd, int status, const char *reason)
{
	char line[400];
	int n = snprintf(line, sizeof line, "%s %d %s\n", DAEMON_PROTO, status, reason);
	if (n > (int)sizeof line - 1) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* Bounded by the send timeout set on the socket. */
	(void)!send(fd, line, (size_t)n, MSG_NOSIGNAL);
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t k = send(fd, p, len, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		p += k;
		len -= (size_t)k;
	}
}

struct status_ctx {
	struct module_status st;
};

static void query_status(struct at_chat *chat, const struct dialect *d, void *ctx)
{
	struct status_ctx *sc = ctx;
	module_status_query(chat, d, STATUS_QUERY_MS, &sc->st);
}

static void serve_status(struct daemon *dm, int fd, bool json)
{
	struct status_ctx sc;
	memset(&sc, 0, sizeof sc);
	struct ath_error err;
	ath_error_clear(&err);
	if (modem_with_chat(dm->m, false, query_status, &sc, &err) != ATH_OK) {
		/* The counters are still worth having. */
		snprintf(sc.st.dialect, sizeof sc.st.dialect, "%s", modem_dialect(dm->m)->name);
		sc.st.reg_stat = -1;
		sc.st.rssi = 99;
	}
	struct modem_counters c;
	modem_counters(dm->m, &c);
	pthread_mutex_lock(&dm->mu);
	sc.st.clients = (unsigned long)(dm->clients > 0 ? dm->clients - 1 : 0);
	pthread_mutex_unlock(&dm->mu);
	sc.st.from_daemon = true;
	sc.st.requests = c.requests;
	sc.st.errors = c.errors;
	sc.st.bytes_to_module = c.bytes_to_module;
	sc.st.bytes_from_module = c.bytes_from_module;
	sc.st.uptime_s = (long)(time(NULL) - dm->started);
	sc.st.module_up = c.up;
	snprintf(sc.st.last_error, sizeof sc.st.last_error, "%s", c.last_error);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		answer(fd, 500, "out of memory");
		return;
	}
	module_status_write(&sc.st, json, f);
	fclose(f);
	answer(fd, 200, "OK");
	send_all(fd, buf, len);
	free(buf);
}

static void serve_ca(struct daemon *dm, int fd)
{
	struct ath_error err;
	ath_error_clear(&err);
	const char *pem = modem_ca_pem(dm->m, &err);
	if (!pem) {
		answer(fd, 503, err.text);
		return;
	}
	answer(fd, 200, "OK");
	send_all(fd, pem, strlen(pem));
}

static bool peer_allowed(struct daemon *dm, int fd, char *who, size_t wholen)
{
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
		snprintf(who, wholen, "unknown peer");
		return false;
	}
	snprintf(who, wholen, "uid %u gid %u pid %d", (unsigned)cr.uid, (unsigned)cr.gid, (int)cr.pid);
	pthread_mutex_lock(&dm->mu);
	bool ok = allow_list_permits(&dm->allow, cr.uid, cr.gid);
	pthread_mutex_unlock(&dm->mu);
	return ok;
}

/* "CONNECT <host> <port>": the program's connection from here on. */
static void serve_connect(struct daemon *dm, int fd, char *args)
{
	char *save = NULL;
	char *host = strtok_r(args, " ", &save);
	char *port = strtok_r(NULL, " ", &save);
	char decoded[300];
	char *end = NULL;
	unsigned long pn = port ? strtoul(port, &end, 10) : 0;
	if (!host || !port || *end || pn == 0 || pn > 65535 || strtok_r(NULL, " ", &save) ||
	    daemon_host_decode(host, decoded, sizeof decoded) < 0) {
		answer(fd, 400, "CONNECT wants <host> <port>");
		return;
	}
	pthread_mutex_lock(&dm->mu);
	bool down = dm->state == MODULE_DOWN;
	char why[340];
	snprintf(why, sizeof why, "the module is not up: %s", dm->down_reason);
	pthread_mutex_unlock(&dm->mu);
	if (down) {
		answer(fd, 503, why);
		return;
	}
	answer(fd, 200, "OK");
	/* The opening line's bound is over; a slow upload is the program's
	 * pace.  Writes keep their bound (set at accept): a client that
	 * stops reading fails its send, the driver sees the client gone and
	 * puts the module back in step. */
	struct timeval none = { 0, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
	struct athttp_peer peer = { .host = decoded, .port = (unsigned)pn };
	int dupfd = dup(fd);   /* athttp_serve closes its own; ours stays for the slot */
	if (dupfd < 0) {
		return;
	}
	int served = athttp_serve(dm->m, dupfd, &peer);
	dlog(LOG_DEBUG, "connection to %s:%lu: %d requests", decoded, pn, served);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct daemon *dm = c->dm;
	char line[DAEMON_LINE_MAX + 2];
	char who[96];
	if (read_line(c->fd, line, sizeof line) < 0) {
		answer(c->fd, 400, "no opening line within 5 s or over " "600" " bytes");
	} else if (!peer_allowed(dm, c->fd, who, sizeof who)) {
		dlog(LOG_NOTICE, "refused %s: not in allow_users/allow_groups", who);
		answer(c->fd, 403, "not allowed (allow_users/allow_groups)");
	} else if (strncmp(line, DAEMON_PROTO " ", strlen(DAEMON_PROTO) + 1) != 0) {
		answer(c->fd, 400, "not " DAEMON_PROTO);
	} else {
		char *verb = line + strlen(DAEMON_PROTO) + 1;
		if (strncmp(verb, "CONNECT ", 8) == 0)
			serve_connect(dm, c->fd, verb + 8);
		else if (strcmp(verb, "STATUS") == 0 || strcmp(verb, "STATUS json") == 0)
			serve_status(dm, c->fd, strcmp(verb, "STATUS json") == 0);
		else if (strcmp(verb, "CA") == 0)
			serve_ca(dm, c->fd);
		else
			answer(c->fd, 400, "unknown verb");
	}
	pthread_mutex_lock(&dm->mu);
	dm->fds[c->slot] = -1;
	dm->clients--;
	pthread_cond_broadcast(&dm->cv);
	pthread_mutex_unlock(&dm->mu);
	close(c->fd);
	free(c);
	return NULL;
}

bool daemon_accept(struct daemon *dm, int fd)
{
	struct timeval snd = { dm->send_timeout_ms / 1000, (dm->send_timeout_ms % 1000) * 1000 };
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd);
	pthread_mutex_lock(&dm->mu);
	int slot = -1;
	if (!dm->stopping && dm->clients < dm->max_clients)
		for (int i = 0; i < (int)(sizeof dm->fds / sizeof dm->fds[0]); i++)
			if (dm->fds[i] < 0) {
				slot = i;
				break;
			}
	struct conn *c = slot >= 0 ? malloc(sizeof *c) : NULL;
	if (c) {
		dm->fds[slot] = fd;
		dm->clients++;
	}
	pthread_mutex_unlock(&dm->mu);
	if (!c) {
		answer(fd, 503, "too many clients");
		close(fd);
		return false;
	}
	*c = (struct conn){ dm, fd, slot };
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&at, 256 * 1024);
	pthread_t t;
	int rc = pthread_create(&t, &at, conn_main, c);
	pthread_attr_destroy(&at);
	if (rc != 0) {
		pthread_mutex_lock(&dm->mu);
		dm->fds[slot] = -1;
		dm->clients--;
		pthread_mutex_unlock(&dm->mu);
		answer(fd, 503, "cannot start a thread");
		close(fd);
		free(c);
		return false;
	}
	return true;
}

int daemon_drain_clients(struct daemon *dm, int ms)
{
	struct timespec due;
	clock_gettime(CLOCK_MONOTONIC, &due);
	due.tv_sec += ms / 1000;
	due.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&dm->mu);
	dm->stopping = true;
	for (size_t i = 0; i < sizeof dm->fds / sizeof dm->fds[0]; i++)
		if (dm->fds[i] >= 0)
			shutdown(dm->fds[i], SHUT_RD);
	while (dm->clients > 0)
		if (pthread_cond_timedwait(&dm->cv, &dm->mu, &due) == ETIMEDOUT)
			break;
	int left = dm->clients;
	pthread_mutex_unlock(&dm->mu);
	return left;
}
