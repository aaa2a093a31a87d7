/* The connection to athttpd for a taken-over connect(); see daemon_link.h. */
#include "daemon_link.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon_proto.h"

/* The daemon answers CONNECT before it touches the module; this bounds a
 * daemon that hangs, not the request. */
#define LINK_TIMEOUT_MS 10000

enum link_way { LINK_UNDECIDED, LINK_ENGINE, LINK_DAEMON };

static pthread_mutex_t link_lock = PTHREAD_MUTEX_INITIALIZER;
static enum link_way link_way = LINK_UNDECIDED;
static char link_path[DAEMON_LINE_MAX];

/* Opens one CONNECT; status and why as daemon_client_open gives them. */
static int open_connect(const char *host, unsigned port, int *status, char *why, size_t whylen)
{
	char enc[DAEMON_LINE_MAX], line[DAEMON_LINE_MAX];
	if (daemon_host_encode(host, enc, sizeof enc) < 0 ||
	    snprintf(line, sizeof line, "CONNECT %s %u", enc, port) >= (int)sizeof line) {
		*status = 0;
		snprintf(why, whylen, "host name too long");
		errno = ENAMETOOLONG;
		return -1;
	}
	return daemon_client_open(link_path, line, LINK_TIMEOUT_MS, status, why, whylen);
}

/* What connect() says: EACCES for a user the daemon (403) or its
 * socket's permissions refuse, ECONNREFUSED for everything else (no
 * daemon, a daemon that cannot serve now, an answer we cannot read). */
static int failed(const char *why, int status)
{
	int e = status == 403 || (status == 0 && errno == EACCES) ? EACCES : ECONNREFUSED;
	fprintf(stderr, "athttp: daemon %s: %s\n", link_path, why[0] ? why : "no answer");
	errno = e;
	return -2;
}

int daemon_link_connect(const char *host, unsigned port)
{
	int status, fd, saved = errno;
	char why[DAEMON_LINE_MAX + 32];

	pthread_mutex_lock(&link_lock);
	if (link_way == LINK_UNDECIDED) {
		const char *explicit_path = getenv("ATHTTP_SOCKET");
		struct stat st;
		if (explicit_path && *explicit_path) {
			snprintf(link_path, sizeof link_path, "%s", explicit_path);
			link_way = LINK_DAEMON;
		} else if (daemon_default_socket(getenv("ATHTTP_DEVICE"), link_path,
						 sizeof link_path) < 0 ||
			   stat(link_path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
			link_way = LINK_ENGINE;
		} else {
			/* The default socket: this first connection tells
			 * whether a daemon lives behind the file. */
			fd = open_connect(host, port, &status, why, sizeof why);
			link_way = fd < 0 && status == 0 && (errno == ECONNREFUSED ||
							     errno == ENOENT)
					   ? LINK_ENGINE : LINK_DAEMON;
			enum link_way decided = link_way;
			int open_errno = errno;
			pthread_mutex_unlock(&link_lock);
			if (decided == LINK_ENGINE) {
				errno = saved;
				return -1;
			}
			errno = open_errno;
			return fd >= 0 ? fd : failed(why, status);
		}
	}
	enum link_way way = link_way;
	pthread_mutex_unlock(&link_lock);
	if (way == LINK_ENGINE) {
		errno = saved;
		return -1;
	}
	fd = open_connect(host, port, &status, why, sizeof why);
	return fd >= 0 ? fd : failed(why, status);
}

void daemon_link_fork_child(void)
{
	/* The parent's threads did not come along; one may have held it. */
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	link_lock = fresh;
}
