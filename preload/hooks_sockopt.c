/*
 * setsockopt()/getsockopt() on a socket we took over.  A socketpair refuses
 * the IP and TCP options programs routinely set (Python's http.client fails
 * on TCP_NODELAY), so those are kept in the fd table and reported back;
 * SOL_SOCKET options go to the socketpair, and where it refuses one we say
 * yes, as a TCP socket would have.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#include "fdtable.h"
#include "hooks.h"
#include "preload.h"
#include "real.h"

static bool ip_level(int level)
{
	return level == IPPROTO_TCP || level == IPPROTO_IP || level == IPPROTO_IPV6;
}

PRELOAD_EXPORT int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	struct fd_ident id;

	preload_init();
	if (!fd_is_ours(fd, &id, NULL))
		return real.setsockopt(fd, level, name, val, len);

	if (ip_level(level)) {
#ifdef TCP_ULP
		/* Kernel TLS ("tls" upper layer) would have the program send
		 * plaintext expecting the kernel to encrypt it.  Say the
		 * module is not there, as a kernel without it does, so
		 * OpenSSL keeps doing TLS itself. */
		if (level == IPPROTO_TCP && name == TCP_ULP) {
			errno = ENOENT;
			return -1;
		}
#endif
		if (len > 0 && !val) {
			errno = EFAULT;
			return -1;
		}
		if (fdtable_setopt(fd, &id, level, name, val, len) < 0)
			return real.setsockopt(fd, level, name, val, len);
		return 0;
	}

	int saved = errno;
	int rc = real.setsockopt(fd, level, name, val, len);
	if (rc < 0 && level == SOL_SOCKET) {
		errno = saved;
		rc = 0;
	}
	return rc;
}

static int answer_int(int v, void *val, socklen_t *len)
{
	if (!val || !len) {
		errno = EFAULT;
		return -1;
	}
	socklen_t n = *len < sizeof v ? *len : sizeof v;
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

PRELOAD_EXPORT int getsockopt(int fd, int level, int name, void *restrict val,
			      socklen_t *restrict len)
{
	struct fd_ident id;
	struct fd_app app;

	preload_init();
	if (!fd_is_ours(fd, &id, &app))
		return real.getsockopt(fd, level, name, val, len);

	if (ip_level(level)) {
		if (!len || (*len > 0 && !val)) {
			errno = EFAULT;
			return -1;
		}
		int found = fdtable_getopt(fd, &id, level, name, val, len);
		if (found < 0)
			return real.getsockopt(fd, level, name, val, len);
		if (!found)
			memset(val, 0, *len);
		return 0;
	}

	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_ERROR:
			/* Our connect never fails late. */
			return answer_int(0, val, len);
		case SO_DOMAIN:
			return answer_int(app.family, val, len);
		case SO_PROTOCOL:
			return answer_int(IPPROTO_TCP, val, len);
		}
		int saved = errno;
		int rc = real.getsockopt(fd, level, name, val, len);
		if (rc < 0 && val && len) {
			memset(val, 0, *len);
			errno = saved;
			rc = 0;
		}
		return rc;
	}
	return real.getsockopt(fd, level, name, val, len);
}
