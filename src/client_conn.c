#include "client_conn.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tls_server.h"

#define TLS_CONTENT_HANDSHAKE 0x16

ssize_t client_conn_read(struct client_conn *c, void *buf, size_t len)
{
	if (c->tls)
		return tls_session_read(c->tls, buf, len);
	ssize_t n;
	do
		n = read(c->fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

enum ath_err client_conn_write(struct client_conn *c, const void *buf, size_t len)
{
	if (c->tls)
		return tls_session_write(c->tls, buf, len);
	const char *p = buf;
	while (len) {
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return ATH_E_CLIENT_GONE;
		p += n;
		len -= (size_t)n;
	}
	return ATH_OK;
}

bool client_conn_wait(struct client_conn *c, int ms)
{
	if (c->tls && tls_session_pending(c->tls))
		return true;
	struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
	int r;
	do
		r = poll(&pfd, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

void client_conn_shutdown(struct client_conn *c)
{
	if (c->tls) {
		/* Freeing the session sends close_notify; the socket's own
		 * half-close follows so the client sees the end either way. */
		tls_session_free(c->tls);
		c->tls = NULL;
	}
	shutdown(c->fd, SHUT_WR);
}

bool client_conn_is_tls_start(unsigned char b)
{
	return b == TLS_CONTENT_HANDSHAKE;
}
