/*
 * connect(): where outbound TCP is taken over.  The program's socket is
 * replaced (same fd number) by one end of an AF_UNIX socketpair whose other
 * end an engine thread serves, or by a connection to athttpd when one
 * serves this process; from then on read/write/poll/epoll work on it
 * untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "daemon_link.h"
#include "engine.h"
#include "fakedns.h"
#include "fdtable.h"
#include "hooks.h"
#include "netaddr.h"
#include "preload.h"
#include "real.h"
#include "sockarg.h"

/* Destinations we take: not this machine, not a LAN the user bypassed.  A
 * name we faked is always ours, whatever the bypass list says. */
static bool wanted_destination(const struct netaddr *dest)
{
	if (dest->port == 0)
		return false;
	if (dest->family == AF_INET && fakedns_in_range(netaddr_ipv4(dest))) {
		char name[FAKEDNS_NAMEMAX + 1];
		if (fakedns_name(netaddr_ipv4(dest), name, sizeof name))
			return true;
	}
	return !netaddr_is_local(dest) && !bypass_match(&preload_bypass, dest);
}

static int sockopt_int(int fd, int name)
{
	int v = -1;
	socklen_t len = sizeof v;
	if (real.getsockopt(fd, SOL_SOCKET, name, &v, &len) != 0)
		return -1;
	return v;
}

/* A TCP socket of the same family as the destination: anything else (UDP,
 * SCTP, a family mismatch the kernel should report) is left to libc. */
static bool tcp_socket(int fd, int family)
{
	int proto;
	return sockopt_int(fd, SO_TYPE) == SOCK_STREAM &&
	       sockopt_int(fd, SO_DOMAIN) == family &&
	       ((proto = sockopt_int(fd, SO_PROTOCOL)) == IPPROTO_TCP || proto == 0
#ifdef IPPROTO_MPTCP
		|| proto == IPPROTO_MPTCP
#endif
	       );
}

/* What the engine is told the program wanted: the name it resolved for a
 * fake address, else the numeric address. */
static void peer_host(const struct netaddr *dest, char *host, size_t len)
{
	if (dest->family == AF_INET && fakedns_name(netaddr_ipv4(dest), host, len))
		return;
	netaddr_format(dest, host, len);
}

/* Puts ours (a connected stream socket) on the program's number fd with
 * the program's flags, and records what the program connected to. */
static int put_in_place(int ours, int fd, int fl, int fdfl, const struct sockaddr *addr,
			socklen_t len)
{
	struct fd_app app;

	/* dup3 closes the program's unconnected TCP socket and puts ours on
	 * its number atomically: no moment when the number is free for
	 * another thread's open(). */
	if (real.dup3(ours, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		int e = errno;
		real.close(ours); /* the far end sees EOF and ends */
		errno = e;
		return -1;
	}
	real.close(ours);
	if (fl & O_NONBLOCK)
		real.fcntl(fd, F_SETFL, O_NONBLOCK);

	memset(&app, 0, sizeof app);
	if (fd_ident_of(fd, &app.id)) {
		app.family = addr->sa_family;
		app.peer_len = len < sizeof app.peer ? len : sizeof app.peer;
		memcpy(&app.peer, addr, app.peer_len);
		/* If this fails the connection still works; only getpeername
		 * and friends answer for the socketpair. */
		(void)fdtable_set_app(fd, &app);
	}
	/* Connected at once, blocking or not: curl's non-blocking connect
	 * takes 0 as well as EINPROGRESS, and wget's blocking one must not
	 * wait for the module. */
	return 0;
}

static int take_over(int fd, const struct sockaddr *addr, socklen_t len,
		     const struct netaddr *dest)
{
	int fl = real.fcntl(fd, F_GETFL);
	int fdfl = real.fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0)
		return -1;

	char host[FAKEDNS_NAMEMAX + 1];
	peer_host(dest, host, sizeof host);

	/* Through athttpd when one serves this process: its connection is
	 * the fake socket's far end, and no engine is made here. */
	int via = daemon_link_connect(host, dest->port);
	if (via >= 0)
		return put_in_place(via, fd, fl, fdfl, addr, len);
	if (via == -2)
		return -1;

	athttp_modem *m = engine_get();
	if (!m) {
		errno = ECONNREFUSED;
		return -1;
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	/* The engine thread may start before the program's end is in place;
	 * it just waits for the request. */
	if (engine_serve(m, sv[1], host, dest->port) < 0) {
		int e = errno;
		real.close(sv[0]);
		errno = e;
		return -1;
	}
	return put_in_place(sv[0], fd, fl, fdfl, addr, len);
}

PRELOAD_EXPORT int connect(int fd, CONST_SOCKADDR_ARG addr_arg, socklen_t len)
{
	const struct sockaddr *addr = SOCKADDR_PTR(addr_arg);
	struct netaddr dest;
	struct fd_ident id;

	preload_init();
	if (preload_disabled || !netaddr_from_sockaddr(addr, len, &dest) ||
	    !wanted_destination(&dest))
		return real.connect(fd, addr, len);
	/* A second connect on a socket we already connected (some code
	 * retries after EINTR) gets what TCP would say. */
	if (fd_is_ours(fd, &id, NULL)) {
		errno = EISCONN;
		return -1;
	}
	if (!tcp_socket(fd, addr->sa_family))
		return real.connect(fd, addr, len);
	return take_over(fd, addr, len, &dest);
}
