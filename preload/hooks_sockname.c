/*
 * getpeername()/getsockname() on a socket we took over: answer as the TCP
 * socket the program made (curl asks three times each and prints the peer),
 * not as the socketpair it now is.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "fdtable.h"
#include "hooks.h"
#include "preload.h"
#include "real.h"
#include "sockarg.h"

/* Copies like the kernel does: truncated to the caller's buffer, *len set
 * to the full size. */
static int answer(const void *sa, socklen_t salen, struct sockaddr *out, socklen_t *len)
{
	if (!out || !len) {
		errno = EFAULT;
		return -1;
	}
	memcpy(out, sa, salen < *len ? salen : *len);
	*len = salen;
	return 0;
}

PRELOAD_EXPORT int getpeername(int fd, SOCKADDR_ARG addr_arg, socklen_t *restrict len)
{
	struct sockaddr *addr = SOCKADDR_PTR(addr_arg);
	struct fd_ident id;
	struct fd_app app;

	preload_init();
	if (!fd_is_ours(fd, &id, &app))
		return real.getpeername(fd, addr, len);
	return answer(&app.peer, app.peer_len, addr, len);
}

/* A loopback address of the socket's own family, with a port that stays
 * the same for the connection: what a local proxy's client would see. */
static socklen_t local_address(const struct fd_app *app, struct sockaddr_storage *ss)
{
	in_port_t port = htons((in_port_t)(32768 + app->id.ino % 28232));

	memset(ss, 0, sizeof *ss);
	if (app->family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
		const struct sockaddr_in6 *peer = (const struct sockaddr_in6 *)&app->peer;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = port;
		if (IN6_IS_ADDR_V4MAPPED(&peer->sin6_addr)) {
			/* ::ffff:127.0.0.1 beside an IPv4-mapped peer */
			sin6->sin6_addr.s6_addr[10] = 0xff;
			sin6->sin6_addr.s6_addr[11] = 0xff;
			sin6->sin6_addr.s6_addr[12] = 127;
			sin6->sin6_addr.s6_addr[15] = 1;
		} else {
			sin6->sin6_addr = in6addr_loopback;
		}
		return sizeof *sin6;
	}
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	sin->sin_family = AF_INET;
	sin->sin_port = port;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sizeof *sin;
}

PRELOAD_EXPORT int getsockname(int fd, SOCKADDR_ARG addr_arg, socklen_t *restrict len)
{
	struct sockaddr *addr = SOCKADDR_PTR(addr_arg);
	struct fd_ident id;
	struct fd_app app;
	struct sockaddr_storage ss;

	preload_init();
	if (!fd_is_ours(fd, &id, &app))
		return real.getsockname(fd, addr, len);
	socklen_t sslen = local_address(&app, &ss);
	return answer(&ss, sslen, addr, len);
}
