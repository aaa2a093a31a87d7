#include "fair_lock.h"

#include <errno.h>
#include <time.h>

/* Each waiter sleeps on a condition of its own, so a hand-over wakes the
 * one thread it is for. */
struct fair_waiter {
	struct fair_waiter *next, *prev;
	pthread_cond_t cv;
	bool granted, cancelled;
};

void fair_lock_init(struct fair_lock *fl)
{
	pthread_mutex_init(&fl->mu, NULL);
	fl->held = false;
	fl->head = fl->tail = NULL;
	fl->waiting = 0;
}

void fair_lock_destroy(struct fair_lock *fl)
{
	pthread_mutex_destroy(&fl->mu);
}

static void unlink_waiter(struct fair_lock *fl, struct fair_waiter *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		fl->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		fl->tail = w->prev;
	w->next = w->prev = NULL;
	fl->waiting--;
}

int fair_lock_acquire(struct fair_lock *fl, int timeout_ms)
{
	pthread_mutex_lock(&fl->mu);
	if (!fl->held && !fl->head) {
		fl->held = true;
		pthread_mutex_unlock(&fl->mu);
		return 0;
	}
	struct fair_waiter w = { 0 };
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w.cv, &ca);
	pthread_condattr_destroy(&ca);
	w.prev = fl->tail;
	if (fl->tail)
		fl->tail->next = &w;
	else
		fl->head = &w;
	fl->tail = &w;
	fl->waiting++;

	struct timespec due;
	clock_gettime(CLOCK_MONOTONIC, &due);
	if (timeout_ms >= 0) {
		due.tv_sec += timeout_ms / 1000;
		due.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (due.tv_nsec >= 1000000000L) {
			due.tv_sec++;
			due.tv_nsec -= 1000000000L;
		}
	}
	int rc = 0;
	while (!w.granted && !w.cancelled) {
		int r = timeout_ms < 0 ? pthread_cond_wait(&w.cv, &fl->mu)
				       : pthread_cond_timedwait(&w.cv, &fl->mu, &due);
		if (r == ETIMEDOUT && !w.granted && !w.cancelled) {
			unlink_waiter(fl, &w);
			rc = ETIMEDOUT;
			break;
		}
	}
	/* The granter or the canceller unlinked us already. */
	if (rc == 0 && !w.granted)
		rc = ECANCELED;
	pthread_mutex_unlock(&fl->mu);
	pthread_cond_destroy(&w.cv);
	return rc;
}

void fair_lock_release(struct fair_lock *fl)
{
	pthread_mutex_lock(&fl->mu);
	struct fair_waiter *w = fl->head;
	if (w) {
		/* Ownership passes straight to the first in line: held stays
		 * true, so no thread arriving now can slip in between. */
		unlink_waiter(fl, w);
		w->granted = true;
		pthread_cond_signal(&w->cv);
	} else {
		fl->held = false;
	}
	pthread_mutex_unlock(&fl->mu);
}

void fair_lock_cancel_all(struct fair_lock *fl)
{
	pthread_mutex_lock(&fl->mu);
	while (fl->head) {
		struct fair_waiter *w = fl->head;
		unlink_waiter(fl, w);
		w->cancelled = true;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&fl->mu);
}

unsigned fair_lock_waiting(struct fair_lock *fl)
{
	pthread_mutex_lock(&fl->mu);
	unsigned n = fl->waiting;
	pthread_mutex_unlock(&fl->mu);
	return n;
}
