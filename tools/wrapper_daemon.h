/* The wrapper's side of athttpd: whether a daemon will serve COMMAND, and
 * COMMAND's trust of the daemon's CA instead of a per-run one. */
#ifndef ATHTTP_WRAPPER_DAEMON_H
#define ATHTTP_WRAPPER_DAEMON_H

#include <stddef.h>

/* The socket of the daemon that serves: socket (--socket or ATHTTP_SOCKET,
 * which must answer), else device's default socket when a daemon answers
 * there.  When one does: its CA fetched ("CA"), the run's trust files made
 * from it in a fresh private directory (its path in run_dir, for
 * trust_run_dir_remove), ATHTTP_SOCKET set for COMMAND; returns 1.  No
 * daemon: 0, nothing changed.  An explicit socket that does not answer,
 * refuses, or sends no certificate: -1 after saying why on stderr. */
int wrapper_daemon_setup(const char *socket, const char *device, char *run_dir,
			 size_t run_dir_len);

/* Reads what the daemon sends after its answer line until it closes: at
 * most max bytes, within timeout_ms.  Returns a malloc'ed NUL-terminated
 * copy (length in *len), or NULL with the reason in why. */
char *daemon_read_all(int fd, size_t max, int timeout_ms, size_t *len, char *why,
		      size_t whylen);

#endif
