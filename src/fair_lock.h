/*
 * A lock that is handed over in the order it was asked for: the waiter
 * that queued first gets it next.  The module serves one exchange at a
 * time, and every connection has at most one request waiting, so FIFO
 * by request is round-robin across clients; a plain mutex lets a thread
 * that releases and asks again take it back ahead of the others.
 *
 * A waiter may give up (timeout) or be cancelled (fair_lock_cancel_all,
 * at shutdown): it leaves the queue and the others keep their order.
 */
#ifndef ATH_FAIR_LOCK_H
#define ATH_FAIR_LOCK_H

#include <pthread.h>
#include <stdbool.h>

struct fair_waiter;

struct fair_lock {
	pthread_mutex_t mu;
	bool held;
	struct fair_waiter *head, *tail;
	unsigned waiting;
};

void fair_lock_init(struct fair_lock *fl);
/* No thread may hold or wait for it. */
void fair_lock_destroy(struct fair_lock *fl);

/* Takes the lock, after every waiter queued before this call.
 * timeout_ms < 0: no bound.  Returns 0 (held), ETIMEDOUT (not held, out of
 * the queue) or ECANCELED (fair_lock_cancel_all: not held). */
int fair_lock_acquire(struct fair_lock *fl, int timeout_ms);

/* Hands the lock to the first waiter, or frees it. */
void fair_lock_release(struct fair_lock *fl);

/* Wakes every waiter queued now with ECANCELED (the holder keeps the lock
 * until it releases; later acquires queue as usual: the owner refuses
 * new work its own way). */
void fair_lock_cancel_all(struct fair_lock *fl);

/* Waiters in the queue now (tests, status). */
unsigned fair_lock_waiting(struct fair_lock *fl);

#endif
