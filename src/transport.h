/*
 * Byte I/O with the module.  The chat layer above sees only these ops, so a
 * real serial port, a pty, a recorder or a scripted test double are
 * interchangeable.
 */
#ifndef ATH_TRANSPORT_H
#define ATH_TRANSPORT_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct transport;

struct transport_ops {
	const char *name;
	/* MUST: read what is available, waiting at most timeout_ms for the
	 * first byte.  Returns the count, 0 on timeout, -1 on a port error. */
	ssize_t (*read)(struct transport *t, void *buf, size_t len, int timeout_ms);
	/* MUST: write all of buf, or fail (ATH_E_IO / ATH_E_TIMEOUT when the
	 * port accepts nothing for timeout_ms, e.g. flow control held). */
	enum ath_err (*write)(struct transport *t, const void *buf, size_t len, int timeout_ms);
	/* MAY: drop unread input.  NULL: nothing to drop. */
	void (*flush_input)(struct transport *t);
	/* MUST: release everything; t is freed. */
	void (*close)(struct transport *t);
	/* MAY: forget the port without touching it (a forked child's copy).
	 * NULL: close without draining. */
	void (*abandon)(struct transport *t);
};

struct transport {
	const struct transport_ops *ops;
	int fd;          /* pollable descriptor, or -1 */
	void *priv;
};

struct transport_config {
	const char *path;
	int baud;
	int rtscts;
	int lock_timeout_ms;   /* how long to wait for another process to let go */
};

/* Opens the device: a pty through termios, anything else through
 * libserialport.  Exclusive (flock), close-on-exec, HUPCL cleared. */
struct transport *transport_open(const struct transport_config *cfg, struct ath_error *err);

/* Shared by fd-based transports: ops slots that work on t->fd. */
ssize_t transport_fd_op_read(struct transport *t, void *buf, size_t len, int timeout_ms);
enum ath_err transport_fd_op_write(struct transport *t, const void *buf, size_t len, int timeout_ms);
ssize_t transport_fd_read(int fd, void *buf, size_t len, int timeout_ms);
enum ath_err transport_fd_write(int fd, const void *buf, size_t len, int timeout_ms);
/* Waits up to timeout_ms for an exclusive flock on fd. */
enum ath_err transport_lock(int fd, const char *path, int timeout_ms, struct ath_error *err);

#endif
