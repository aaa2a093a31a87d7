/*
 * Whether this process's taken-over connections go to athttpd instead of
 * an in-process engine, decided once per process: ATHTTP_SOCKET names the
 * daemon (then it must answer: no fallback), else the default socket of
 * ATHTTP_DEVICE is used when a daemon answers there at the first
 * connection; a stale socket file (nobody listening) leaves the engine in
 * process.
 */
#ifndef PRELOAD_DAEMON_LINK_H
#define PRELOAD_DAEMON_LINK_H

/* For a connection the program makes to host:port: a descriptor carrying
 * it through the daemon (>= 0); -1 when connections do not go to a daemon
 * (errno untouched: run the engine); -2 when they do but this one failed,
 * with errno set (ECONNREFUSED, EACCES for a user the daemon refuses) and
 * one line on stderr naming the socket and the reason. */
int daemon_link_connect(const char *host, unsigned port);

/* In a forked child: the decision stays, the lock is made anew. */
void daemon_link_fork_child(void);

#endif
