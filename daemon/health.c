/*
 * The module's health: the first bring-up, then an AT probe when the
 * module has been idle for probe_ms, and while it is down a retry with a
 * growing pause (1 s doubling up to probe_ms).  A probe waits its turn in
 * the module's queue like any request.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "athttpd.h"
#include "modem.h"

static pthread_t health_thread;
static bool running;

static void set_state(struct daemon *dm, enum ath_err e, const struct ath_error *err)
{
	pthread_mutex_lock(&dm->mu);
	int was = dm->state;
	if (e == ATH_OK) {
		dm->state = MODULE_UP;
		dm->down_reason[0] = '\0';
	} else {
		dm->state = MODULE_DOWN;
		snprintf(dm->down_reason, sizeof dm->down_reason, "%.299s", err->text);
	}
	pthread_mutex_unlock(&dm->mu);
	if (e == ATH_OK && was != MODULE_UP)
		dlog(LOG_INFO, "module up");
	else if (e != ATH_OK && was != MODULE_DOWN)
		dlog(LOG_WARNING, "module down: %s", err->text);
	else if (e != ATH_OK)
		dlog(LOG_DEBUG, "module still down: %s", err->text);
}

/* Sleeps up to ms; true when told to stop. */
static bool nap(struct daemon *dm, long ms)
{
	struct timespec due;
	clock_gettime(CLOCK_MONOTONIC, &due);
	due.tv_sec += ms / 1000;
	due.tv_nsec += (ms % 1000) * 1000000L;
	if (due.tv_nsec >= 1000000000L) {
		due.tv_sec++;
		due.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&dm->mu);
	while (!dm->stopping)
		if (pthread_cond_timedwait(&dm->cv, &dm->mu, &due) == ETIMEDOUT)
			break;
	bool stop = dm->stopping;
	pthread_mutex_unlock(&dm->mu);
	return stop;
}

static void *health_main(void *arg)
{
	struct daemon *dm = arg;
	struct ath_error err;
	ath_error_clear(&err);
	enum ath_err e = modem_bringup_check(dm->m, &err);
	set_state(dm, e, &err);
	long retry = 1000;
	struct modem_counters last;
	modem_counters(dm->m, &last);
	for (;;) {
		bool up = e == ATH_OK;
		if (nap(dm, up ? dm->probe_ms : (retry < dm->probe_ms ? retry : dm->probe_ms)))
			break;
		struct modem_counters now;
		modem_counters(dm->m, &now);
		/* A request ran meanwhile and left the module up: it was its
		 * own probe.  One that left it down (a reset) is not. */
		if (up && now.up && now.requests != last.requests) {
			last = now;
			continue;
		}
		ath_error_clear(&err);
		e = modem_probe(dm->m, &err);
		set_state(dm, e, &err);
		retry = e == ATH_OK ? 1000 : retry * 2;
		modem_counters(dm->m, &last);
	}
	return NULL;
}

int health_start(struct daemon *dm)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&health_thread, NULL, health_main, dm);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	running = rc == 0;
	return rc == 0 ? 0 : -1;
}

void health_stop(struct daemon *dm)
{
	pthread_mutex_lock(&dm->mu);
	dm->stopping = true;
	pthread_cond_broadcast(&dm->cv);
	pthread_mutex_unlock(&dm->mu);
	if (!running)
		return;
	/* A bring-up waiting for registration may take its whole bound:
	 * shutdown does not wait that long. */
	struct timespec due;
	clock_gettime(CLOCK_REALTIME, &due);
	due.tv_sec += 15;
	if (pthread_timedjoin_np(health_thread, NULL, &due) != 0)
		dlog(LOG_WARNING, "the health probe is still running; not waiting for it");
	running = false;
}
