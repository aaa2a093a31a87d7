/*
 * Which file descriptors are ours.  Three kinds:
 *  - FD_APP: a program's socket whose connect we took over; it now holds one
 *    end of a socketpair, and we keep what the program believes it is (the
 *    family, the peer it connected to, the TCP options it set).
 *  - FD_ENGINE: the other end, served by an engine thread; a forked child
 *    closes its copies so the parent's connections still see EOF.
 *  - FD_PRIVATE: a descriptor the engine opened for itself (the serial
 *    port, the trace file); like FD_ENGINE it is kept out of the program's
 *    close_range() and closefrom().
 *
 * Every entry remembers the identity (st_dev, st_ino) of the socket it was
 * made for: glibc closes some fds behind our back (fclose's
 * __close_nocancel, closefrom), so before trusting an entry the hooks fstat
 * the fd and let the table drop entries whose socket is gone.
 *
 * The kind of an fd is one byte in a lazily allocated two-level array, read
 * without a lock: close() on an fd that was never ours costs a load.
 */
#ifndef PRELOAD_FDTABLE_H
#define PRELOAD_FDTABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum fd_kind { FD_NONE = 0, FD_APP = 1, FD_ENGINE = 2, FD_PRIVATE = 3 };

struct fd_ident {
	dev_t dev;
	ino_t ino;
};

/* What the program believes its socket is. */
struct fd_app {
	struct fd_ident id;
	int family;                   /* AF_INET or AF_INET6, as created */
	struct sockaddr_storage peer; /* the address given to connect() */
	socklen_t peer_len;
};

#define FDT_PAGE_BITS 12
#define FDT_PAGE_SIZE (1u << FDT_PAGE_BITS)
#define FDT_NPAGES    4096u                      /* fds up to 16M */
#define FDT_MAX_FD    (FDT_PAGE_SIZE * FDT_NPAGES)

struct fdt_entry;
struct fdt_page {
	_Atomic unsigned char kind[FDT_PAGE_SIZE];
	struct fdt_entry *entry[FDT_PAGE_SIZE];
};

extern struct fdt_page *_Atomic fdt_pages[FDT_NPAGES] __attribute__((visibility("hidden")));

/* Lock-free: FD_NONE for every fd that was never ours. */
static inline enum fd_kind fdtable_kind(int fd)
{
	if (fd < 0 || (unsigned)fd >= FDT_MAX_FD)
		return FD_NONE;
	struct fdt_page *page = atomic_load_explicit(&fdt_pages[(unsigned)fd >> FDT_PAGE_BITS],
						     memory_order_acquire);
	if (!page)
		return FD_NONE;
	return (enum fd_kind)atomic_load_explicit(&page->kind[(unsigned)fd & (FDT_PAGE_SIZE - 1)],
						  memory_order_relaxed);
}

/* Records fd as a taken-over socket (replacing whatever was recorded).
 * Returns 0, or -1 with errno EBADF (fd out of range) or ENOMEM. */
int fdtable_set_app(int fd, const struct fd_app *app);

/* Records fd as the engine end of a socketpair. */
int fdtable_set_engine(int fd, const struct fd_ident *id);

/* Records fd as one of the engine's own descriptors. */
int fdtable_set_private(int fd, const struct fd_ident *id);

/* The lowest fd in [from, last] recorded FD_ENGINE or FD_PRIVATE, with the
 * identity it was recorded for in *id; -1 if none.  Takes no lock when no
 * such fd was ever recorded on the pages in the range (a vfork child may
 * call it). */
int fdtable_next_kept(unsigned from, unsigned last, struct fd_ident *id);

/* Copies fd's record into out (if given) when fd is FD_APP and still holds
 * the socket id; an FD_APP record for another socket is stale and dropped. */
bool fdtable_get_app(int fd, const struct fd_ident *id, struct fd_app *out);

/* Forgets fd, whatever it was. */
void fdtable_drop(int fd);

/* Forgets fd if it is FD_ENGINE for socket id (not a later reuse of the
 * number). */
void fdtable_drop_engine_if(int fd, const struct fd_ident *id);

/* Forgets every fd in [first, last]. */
void fdtable_drop_range(unsigned first, unsigned last);

/* dup(): to now refers to the same socket as from.  Copies from's FD_APP
 * record (with its options) to to; otherwise forgets to. */
void fdtable_dup(int from, int to);

/* Socket options the program set at the IP/TCP levels, which a socketpair
 * cannot hold.  Values longer than FDT_OPT_MAX are accepted but not kept.
 * Both return -1 if fd is not a current FD_APP for id; fdtable_getopt
 * returns 1 when found (value copied, *len set to the copied size) and 0
 * when never set. */
#define FDT_OPT_MAX 64
int fdtable_setopt(int fd, const struct fd_ident *id, int level, int name,
		   const void *val, socklen_t len);
int fdtable_getopt(int fd, const struct fd_ident *id, int level, int name,
		   void *val, socklen_t *len);

/* Calls fn for every FD_ENGINE fd and forgets them all (a forked child's
 * copies; see engine.c). */
void fdtable_drain_engines(void (*fn)(int fd, const struct fd_ident *id, void *ctx), void *ctx);

/* Whether this process is the one the table describes: false in a child
 * that shares our memory without fork()'s handlers having run (vfork(),
 * clone(CLONE_VM) as posix_spawn and Python's subprocess do).  Such a child
 * must not change the table: every change would be the parent's. */
bool fdtable_owns_process(void);

/* fork(): keep the table consistent across it (see preload.c). */
void fdtable_fork_prepare(void);
void fdtable_fork_parent(void);
void fdtable_fork_child(void);

/* Forgets everything (for tests). */
void fdtable_reset(void);

#endif
