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
struct at_syntax;

/* What the next write is, for transports that care (the recorder). */
enum transport_hint {
	TRANSPORT_HINT_COMMAND,
	TRANSPORT_HINT_DATA,       /* a data phase: a request body or raw packet */
};

/* What a recording leaves out (transport_config.redact). */
enum {
	TRANSPORT_REDACT_CREDENTIALS = 1u << 0,   /* Authorization, Cookie, Set-Cookie values */
	TRANSPORT_REDACT_BODIES = 1u << 1,        /* request and response bodies */
};

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
	/* MAY: told what the next write carries.  NULL: not interested. */
	void (*hint)(struct transport *t, enum transport_hint h);
	/* MAY: why the last failed call failed, in words for the client (a
	 * replay's divergence).  NULL or "": nothing to add. */
	const char *(*error)(struct transport *t);
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
	const char *dialect;   /* for transcripts */
	const struct at_syntax *syntax;
	const char *record;    /* write a transcript of the conversation here */
	unsigned redact;       /* TRANSPORT_REDACT_* for the transcript */
	int replay_pace;       /* replay at the recorded pace */
};

/* Opens the device: "replay:FILE" plays a transcript back; a pty goes
 * through termios, anything else through libserialport (exclusive by
 * flock, close-on-exec, HUPCL cleared).  With cfg->record, the transport is
 * wrapped in a recorder. */
struct transport *transport_open(const struct transport_config *cfg, struct ath_error *err);

struct transport *transport_record_wrap(struct transport *inner, const struct transport_config *cfg,
					struct ath_error *err);
struct transport *transport_replay_open(const char *path, const struct transport_config *cfg,
					struct ath_error *err);

/* Shared by fd-based transports: ops slots that work on t->fd. */
ssize_t transport_fd_op_read(struct transport *t, void *buf, size_t len, int timeout_ms);
enum ath_err transport_fd_op_write(struct transport *t, const void *buf, size_t len, int timeout_ms);
ssize_t transport_fd_read(int fd, void *buf, size_t len, int timeout_ms);
enum ath_err transport_fd_write(int fd, const void *buf, size_t len, int timeout_ms);
/* Waits up to timeout_ms for an exclusive flock on fd. */
enum ath_err transport_lock(int fd, const char *path, int timeout_ms, struct ath_error *err);

#endif
