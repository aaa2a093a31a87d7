/* athttpd: one module, many programs (see man/athttpd.8). */
#ifndef ATHTTPD_H
#define ATHTTPD_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>
#include <time.h>

#include "athttp.h"
#include "config_file.h"

/* ---- logging (dlog.c): stderr with -f, else syslog (LOG_DAEMON) */
void dlog_open(bool foreground, bool verbose);
void dlog(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- who may use the socket (peer_check.c) */
struct allow_list {
	uid_t *uids;
	size_t n_uids;
	gid_t *gids;
	size_t n_gids;
};
/* Parses allow_users / allow_groups ("name,123,..."); -1 with the name
 * that does not resolve in err. */
int allow_list_parse(struct allow_list *al, const char *users, const char *groups, char *err,
		     size_t errlen);
void allow_list_free(struct allow_list *al);
/* Root and the daemon's own user always; then the lists (the peer's
 * primary group and the groups its user is a member of). */
bool allow_list_permits(const struct allow_list *al, uid_t uid, gid_t gid);

/* ---- the daemon's state (shared by the listener, the clients, the
 * health thread and main) */
struct daemon {
	athttp_modem *m;
	const char *socket_path;
	int max_clients;
	int send_timeout_ms;
	int probe_ms;
	time_t started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct allow_list allow;       /* replaced on SIGHUP, under mu */
	int clients;                   /* connection threads running */
	int fds[1024];                 /* their sockets, for shutdown; -1 free */
	bool stopping;
	/* The module's state for CONNECT: starting (first bring-up running),
	 * up, or down with the reason. */
	enum { MODULE_STARTING, MODULE_UP, MODULE_DOWN } state;
	char down_reason[300];
};

/* server.c: serves one accepted connection on a thread of its own;
 * returns false (and answers 503) when the limit of clients is reached. */
bool daemon_accept(struct daemon *dm, int fd);
/* Cuts the reading side of every connection (idle keep-alive ones end);
 * waits up to ms for the threads to finish.  Returns those still running. */
int daemon_drain_clients(struct daemon *dm, int ms);

/* health.c: the first bring-up, then the idle probe and retries. */
int health_start(struct daemon *dm);
void health_stop(struct daemon *dm);

#endif
