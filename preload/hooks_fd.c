/*
 * Keeping the fd table in step with the program's fds: close and its
 * relatives forget entries, dup and its relatives copy them.  For fds that
 * were never ours each hook costs one table load on top of the real call.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdtable.h"
#include "preload.h"
#include "real.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

PRELOAD_EXPORT int close(int fd)
{
	preload_init();
	/* Forget first: once the number is closed another thread may get it
	 * back from socket() and have it taken over, and we would then drop
	 * the new entry. */
	if (fdtable_kind(fd) != FD_NONE)
		fdtable_drop(fd);
	return real.close(fd);
}

static int close_range_syscall(unsigned first, unsigned last, int flags)
{
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, flags);
#else
	(void)first, (void)last, (void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

PRELOAD_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	preload_init();
	/* CLOSE_RANGE_CLOEXEC only marks them; the fds stay open. */
	if (first <= last && !(flags & CLOSE_RANGE_CLOEXEC))
		fdtable_drop_range(first, last);
	if (real.close_range)
		return real.close_range(first, last, flags);
	return close_range_syscall(first, last, flags);
}

PRELOAD_EXPORT void closefrom(int lowfd)
{
	preload_init();
	if (lowfd < 0)
		lowfd = 0;
	fdtable_drop_range((unsigned)lowfd, ~0U);
	if (real.closefrom) {
		real.closefrom(lowfd);
		return;
	}
	if (close_range_syscall((unsigned)lowfd, ~0U, 0) == 0)
		return;
	/* Old kernel and old libc: the slow way. */
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = lowfd; fd < max; fd++)
		real.close((int)fd);
}

/* After a successful dup of from onto to. */
static void duplicated(int from, int to)
{
	if (fdtable_kind(from) != FD_NONE || fdtable_kind(to) != FD_NONE)
		fdtable_dup(from, to);
}

PRELOAD_EXPORT int dup(int fd)
{
	preload_init();
	int rc = real.dup(fd);
	if (rc >= 0)
		duplicated(fd, rc);
	return rc;
}

PRELOAD_EXPORT int dup2(int from, int to)
{
	preload_init();
	int rc = real.dup2(from, to);
	if (rc >= 0 && from != to)
		duplicated(from, rc);
	return rc;
}

PRELOAD_EXPORT int dup3(int from, int to, int flags)
{
	preload_init();
	int rc = real.dup3(from, to, flags);
	if (rc >= 0)
		duplicated(from, rc);
	return rc;
}

/* fcntl's third argument is an int, a long or a pointer depending on cmd;
 * passing it on as a pointer-sized value is what libc itself does. */
static int fcntl_common(int (*fn)(int, int, ...), int fd, int cmd, void *arg)
{
	int rc = fn(fd, cmd, arg);
	/* Python's os.dup() and socket.dup() use F_DUPFD_CLOEXEC. */
	if (rc >= 0 && (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC))
		duplicated(fd, rc);
	return rc;
}

PRELOAD_EXPORT int fcntl(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	preload_init();
	return fcntl_common(real.fcntl, fd, cmd, arg);
}

/* Programs built with _FILE_OFFSET_BITS=64 on glibc >= 2.28 call this one. */
PRELOAD_EXPORT int fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	va_start(ap, cmd);
	void *arg = va_arg(ap, void *);
	va_end(ap);
	preload_init();
	return fcntl_common(real.fcntl64 ? real.fcntl64 : real.fcntl, fd, cmd, arg);
}
