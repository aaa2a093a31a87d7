/* Helpers shared by the hooks_*.c files. */
#ifndef PRELOAD_HOOKS_H
#define PRELOAD_HOOKS_H

#include <stdbool.h>
#include <sys/stat.h>

#include "fdtable.h"
#include "real.h"

/* The identity of whatever fd holds now. */
static inline bool fd_ident_of(int fd, struct fd_ident *id)
{
	struct stat st;
	if (fstat(fd, &st) != 0)
		return false;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	return true;
}

/* Whether fd is a socket we took over and still holds it; fills id (and out,
 * if given).  Costs one load for fds that were never ours. */
static inline bool fd_is_ours(int fd, struct fd_ident *id, struct fd_app *out)
{
	return fdtable_kind(fd) == FD_APP && fd_ident_of(fd, id) &&
	       fdtable_get_app(fd, id, out);
}

/* close() for the program and the engine alike: forget first, since once
 * the number is closed another thread may get it back from socket() and
 * have it taken over, and we would then drop the new entry.  A vfork child
 * closes its own copy: the table (our memory, shared) stays the parent's. */
static inline int fd_close(int fd)
{
	if (fdtable_kind(fd) != FD_NONE && fdtable_owns_process())
		fdtable_drop(fd);
	return real.close(fd);
}

#endif
