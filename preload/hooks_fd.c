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
#include "hooks.h"
#include "preload.h"
#include "real.h"

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

PRELOAD_EXPORT int close(int fd)
{
	preload_init();
	return fd_close(fd);
}

static int close_range_syscall(unsigned first, unsigned last, int flags)
{
	if (real.close_range)
		return real.close_range(first, last, flags);
#ifdef SYS_close_range
	return (int)syscall(SYS_close_range, first, last, flags);
#else
	(void)first, (void)last, (void)flags;
	errno = ENOSYS;
	return -1;
#endif
}

/* Whether fd still holds what the table recorded it for. */
static bool still_holds(int fd, const struct fd_ident *id)
{
	struct fd_ident now;
	return fd_ident_of(fd, &now) && now.dev == id->dev && now.ino == id->ino;
}

/* The next fd in [from, last] the engine needs (its serial port, trace
 * file, connection ends), or -1.  Records left behind for a number that
 * now holds something else are not kept. */
static int next_kept(unsigned from, unsigned last)
{
	struct fd_ident id;
	int fd;
	while (from <= last && (fd = fdtable_next_kept(from, last, &id)) >= 0) {
		if (still_holds(fd, &id))
			return fd;
		from = (unsigned)fd + 1;
	}
	return -1;
}

/* One piece of the program's range, which holds nothing of the engine's. */
static int close_piece(unsigned first, unsigned last, int flags, bool forget)
{
	/* Forget first, as close() does. */
	if (forget)
		fdtable_drop_range(first, last);
	return close_range_syscall(first, last, flags);
}

/*
 * close_range(2) for the program: its range, split around the engine's own
 * descriptors, which the program never opened and must not close (a daemon
 * or a subprocess child closes everything above 2 before it goes on).  The
 * fake sockets in the range are forgotten as close() forgets them, unless
 * the fds stay open (CLOSE_RANGE_CLOEXEC only marks them) or are closed in
 * a copy of the fd table (CLOSE_RANGE_UNSHARE, or a vfork child, which
 * shares our memory but not our fds' fate).
 */
static int close_range_around_engine(unsigned first, unsigned last, int flags)
{
	bool forget = !(flags & (CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)) &&
		      fdtable_owns_process();
	unsigned from = first;
	int kept;

	if (first > last || (flags & ~(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE)))
		return close_range_syscall(first, last, flags); /* EINVAL */
	while ((kept = next_kept(from, last)) >= 0) {
		if ((unsigned)kept > from && close_piece(from, (unsigned)kept - 1, flags, forget) < 0)
			return -1;
		from = (unsigned)kept + 1;
	}
	if (from > last)
		return 0;
	return close_piece(from, last, flags, forget);
}

PRELOAD_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
	preload_init();
	return close_range_around_engine(first, last, flags);
}

PRELOAD_EXPORT void closefrom(int lowfd)
{
	preload_init();
	if (lowfd < 0)
		lowfd = 0;
	if (close_range_around_engine((unsigned)lowfd, ~0U, 0) == 0)
		return;
	/* A kernel without close_range: the slow way, as glibc does. */
	bool forget = fdtable_owns_process();
	long max = sysconf(_SC_OPEN_MAX);
	for (long fd = lowfd; fd < max; fd++) {
		struct fd_ident id;
		if (fdtable_next_kept((unsigned)fd, (unsigned)fd, &id) == fd && still_holds((int)fd, &id))
			continue;
		if (forget && fdtable_kind((int)fd) != FD_NONE)
			fdtable_drop((int)fd);
		real.close((int)fd);
	}
}

/* After a successful dup of from onto to. */
static void duplicated(int from, int to)
{
	/* (In a vfork child, as in fd_close, the table is the parent's.) */
	if ((fdtable_kind(from) != FD_NONE || fdtable_kind(to) != FD_NONE) &&
	    fdtable_owns_process())
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

/* The hook of the plain name, for programs built with a 32-bit off_t (or
 * against a glibc before 2.28).  Named by its symbol: under
 * _FILE_OFFSET_BITS=64 (the Makefile's LARGEFILE) <fcntl.h> binds the C
 * name fcntl to the symbol fcntl64, and a function defined as fcntl would
 * become a second fcntl64 and leave plain fcntl unhooked. */
PRELOAD_EXPORT int fcntl_plain_hook(int fd, int cmd, ...) __asm__("fcntl");
PRELOAD_EXPORT int fcntl_plain_hook(int fd, int cmd, ...)
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
