/* The modem handle and the threads serving taken-over connections; see
 * engine.h. */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config_file.h"
#include "daemon_link.h"
#include "fdtable.h"
#include "modem.h"
#include "netup.h"
#include "real.h"

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static athttp_modem *engine;

/* A cold module is brought onto the network in process too when the
 * environment (ATHTTP_PIN, ATHTTP_APN, ATHTTP_WIFI_SSID ...) asks for it. */
static void netup_from_env(athttp_modem *m)
{
	struct athttp_settings s;
	char err[256] = "";

	config_init(&s);
	if (config_from_env(&s, err, sizeof err) < 0) {
		fprintf(stderr, "athttp: %s\n", err);
	} else if (s.pin || s.apn || s.wifi_ssid) {
		struct netup_config nc;
		config_netup(&s, &nc);
		if (modem_set_netup(m, &nc) < 0)
			fprintf(stderr, "athttp: network bring-up: out of memory\n");
	}
	config_free(&s);
}

static void engine_create(void)
{
	struct athttp_config cfg;
	char err[256] = "";

	athttp_config_from_env(&cfg);
	engine = athttp_open(&cfg, err, sizeof err);
	if (!engine) {
		fprintf(stderr, "athttp: %s\n", err[0] ? err : "cannot set up the modem");
		return;
	}
	netup_from_env(engine);
	modem_set_stderr_notices(engine, true);
}

athttp_modem *engine_get(void)
{
	/* athttp_open() never touches the module, so this is quick even for
	 * the connect() that triggers it. */
	pthread_once(&engine_once, engine_create);
	return engine;
}

struct serve_job {
	athttp_modem *m;
	int fd;
	struct fd_ident id;
	unsigned port;
	char host[];
};

static void *serve_thread(void *arg)
{
	struct serve_job *job = arg;
	struct athttp_peer peer = { job->host, job->port };

	athttp_serve(job->m, job->fd, &peer);
	/* athttp_serve closed the fd, normally through our close() hook,
	 * which forgot it already; if not, forget it now, unless the number
	 * was meanwhile reused for another connection. */
	fdtable_drop_engine_if(job->fd, &job->id);
	free(job);
	return NULL;
}

int engine_serve(athttp_modem *m, int fd, const char *host, unsigned port)
{
	size_t hlen = strlen(host);
	struct serve_job *job = malloc(sizeof *job + hlen + 1);
	struct stat st;
	int rc;

	if (!job) {
		real.close(fd);
		errno = ENOMEM;
		return -1;
	}
	job->m = m;
	job->fd = fd;
	job->port = port;
	memcpy(job->host, host, hlen + 1);
	job->id.dev = 0;
	job->id.ino = 0;
	if (fstat(fd, &st) == 0) {
		job->id.dev = st.st_dev;
		job->id.ino = st.st_ino;
		/* Recorded before the thread exists, so its close() finds it.
		 * Without a record a forked child merely keeps a copy open. */
		(void)fdtable_set_engine(fd, &job->id);
	}

	pthread_attr_t attr;
	pthread_t thread;
	sigset_t all, old;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* The thread starts with the creator's mask: block everything so the
	 * program's signals keep going to the program's own threads (a
	 * SIGINT handler, sigwait loops), and a SIGPIPE from writing to a
	 * socket the program closed stays with this thread, harmless. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&thread, &attr, serve_thread, job);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		fdtable_drop_engine_if(fd, &job->id);
		real.close(fd);
		free(job);
		errno = rc;
		return -1;
	}
	return 0;
}

static void close_inherited(int fd, const struct fd_ident *id, void *ctx)
{
	struct stat st;
	(void)ctx;
	/* Only if the number still holds that socket: never close a file of
	 * the program's that happens to reuse it. */
	if (fstat(fd, &st) == 0 && st.st_dev == id->dev && st.st_ino == id->ino)
		real.close(fd);
}

void engine_fork_child(void)
{
	/* Without this, a parent's connection would not see EOF when its
	 * engine thread closes, as long as the child lives on. */
	fdtable_drain_engines(close_inherited, NULL);
	daemon_link_fork_child();
	if (engine)
		athttp_after_fork_child(engine);
}

void engine_at_exit(void)
{
	/* Only a handle made here: a program talking to athttpd has none.
	 * A forked child that never used the module holds no port, and
	 * nothing is sent (modem_shutdown_within looks at the port first). */
	athttp_modem *m = __atomic_load_n(&engine, __ATOMIC_ACQUIRE);
	if (!m)
		return;
	/* The handle stays: connection threads may still hold it while the
	 * process ends; they are answered "shutting down" from now on. */
	modem_shutdown_within(m, MODEM_EXIT_WAIT_MS, MODEM_EXIT_TEARDOWN_MS);
}
