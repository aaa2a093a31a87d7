/*
 * The engine's calls to libc inside the preload library.  The engine's
 * objects are linked with --wrap=NAME for every function we hook (see the
 * Makefile's PRELOAD_WRAP), so a call of theirs to close() or fcntl() lands
 * here, hidden and bound at link time, and goes to the real function: a
 * program that defines close() itself never sees the engine's descriptors,
 * and none of our own hooks runs for them.
 *
 * The functions that make the engine's own descriptors (open, sp_open) are
 * wrapped too, to record what they return as FD_PRIVATE: the program's
 * close_range() and closefrom() then leave them alone.
 *
 * Built with _FILE_OFFSET_BITS=64 (the Makefile's LARGEFILE), the engine
 * calls fcntl64 and open64 rather than fcntl and open (glibc's <fcntl.h>
 * redirects): both names are wrapped, each to the real function of its own
 * name, since on a 32-bit target they differ (struct flock, O_LARGEFILE).
 */
#include <fcntl.h>
#include <libserialport.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "fdtable.h"
#include "hooks.h"
#include "preload.h"
#include "real.h"

/* Declared for the compiler's sake; only the link's --wrap calls them. */
int __wrap_close(int fd);
int __wrap_fcntl(int fd, int cmd, ...);
int __wrap_fcntl64(int fd, int cmd, ...);
int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len);
int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int __wrap_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int __wrap_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int __wrap_dup(int fd);
int __wrap_dup2(int from, int to);
int __wrap_dup3(int from, int to, int flags);
int __wrap_open(const char *path, int flags, ...);
int __wrap_open64(const char *path, int flags, ...);
enum sp_return __wrap_sp_open(struct sp_port *port, enum sp_mode flags);
enum sp_return __real_sp_open(struct sp_port *port, enum sp_mode flags);

static void keep(int fd)
{
	struct fd_ident id;
	/* Unrecorded, the descriptor still works; only a program's
	 * closefrom() could take it away. */
	if (fd >= 0 && fd_ident_of(fd, &id))
		(void)fdtable_set_private(fd, &id);
}

PRELOAD_HIDDEN int __wrap_close(int fd)
{
	return fd_close(fd);
}

PRELOAD_HIDDEN int __wrap_fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return real.fcntl(fd, cmd, arg);
}

PRELOAD_HIDDEN int __wrap_fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	return (real.fcntl64 ? real.fcntl64 : real.fcntl)(fd, cmd, arg);
}

PRELOAD_HIDDEN int __wrap_connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	return real.connect(fd, addr, len);
}

PRELOAD_HIDDEN int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	return real.getsockopt(fd, level, name, val, len);
}

PRELOAD_HIDDEN int __wrap_setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return real.setsockopt(fd, level, name, val, len);
}

PRELOAD_HIDDEN int __wrap_getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	return real.getsockname(fd, addr, len);
}

PRELOAD_HIDDEN int __wrap_getpeername(int fd, struct sockaddr *addr, socklen_t *len)
{
	return real.getpeername(fd, addr, len);
}

PRELOAD_HIDDEN int __wrap_dup(int fd)
{
	return real.dup(fd);
}

PRELOAD_HIDDEN int __wrap_dup2(int from, int to)
{
	return real.dup2(from, to);
}

PRELOAD_HIDDEN int __wrap_dup3(int from, int to, int flags)
{
	return real.dup3(from, to, flags);
}

/* As glibc's __OPEN_NEEDS_MODE: O_TMPFILE contains O_DIRECTORY. */
static bool open_needs_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

PRELOAD_HIDDEN int __wrap_open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (open_needs_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	int fd = real.open(path, flags, mode);
	keep(fd);
	return fd;
}

PRELOAD_HIDDEN int __wrap_open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (open_needs_mode(flags)) {
		va_list ap;
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	/* Without open64 (not glibc), open with the flag open64 adds. */
	int fd = real.open64 ? real.open64(path, flags, mode) : real.open(path, flags | O_LARGEFILE, mode);
	keep(fd);
	return fd;
}

/* libserialport opens the device itself. */
PRELOAD_HIDDEN enum sp_return __wrap_sp_open(struct sp_port *port, enum sp_mode flags)
{
	enum sp_return rc = __real_sp_open(port, flags);
	int fd;
	if (rc == SP_OK && sp_get_port_handle(port, &fd) == SP_OK)
		keep(fd);
	return rc;
}
