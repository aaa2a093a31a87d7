/*
 * The engine as the hooks see it: one modem handle per process, created on
 * the first connection we take over, and a detached thread per connection
 * running athttp_serve() on our end of the socketpair.
 */
#ifndef PRELOAD_ENGINE_H
#define PRELOAD_ENGINE_H

#include "athttp.h"

/* The process's modem handle, created on first call from the environment.
 * NULL if that failed; the reason was printed once on stderr. */
athttp_modem *engine_get(void);

/* Serves connected stream socket fd (taking ownership) on a new thread for a
 * program that connected to host:port.  Returns 0, or -1 with errno (fd is
 * then closed). */
int engine_serve(athttp_modem *m, int fd, const char *host, unsigned port);

/* In a forked child: close the engine ends inherited from the parent (their
 * threads did not come along) and let the engine forget its port. */
void engine_fork_child(void);

/* At the program's end: puts the module back (SIMCom AT+HTTPTERM, OneMO
 * instances deleted) when this process brought it up, so the next
 * program finds it fresh; within MODEM_EXIT_WAIT_MS +
 * MODEM_EXIT_TEARDOWN_MS, and nothing when an exchange is still on the
 * line by then. */
void engine_at_exit(void);

#endif
