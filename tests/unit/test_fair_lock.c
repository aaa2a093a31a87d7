/*
 * The module's fair lock: handed over in the order asked for (a thread
 * that releases and asks again goes behind those already waiting), and a
 * waiter that times out or is cancelled leaves the others' order intact.
 * Queue order is made deterministic by waiting for fair_lock_waiting to
 * count each new waiter before starting the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <unistd.h>

#include "fair_lock.h"

#define MAXT 8

struct rig {
	struct fair_lock fl;
	pthread_mutex_t mu;
	int order[64];
	int n;
};

struct worker {
	struct rig *r;
	int id;
	int timeout_ms;
	int rounds;
	int rc;
	atomic_int done;
};

static void record(struct rig *r, int id)
{
	pthread_mutex_lock(&r->mu);
	if (r->n < 64)
		r->order[r->n++] = id;
	pthread_mutex_unlock(&r->mu);
}

/* Bounded wait for the queue to reach n waiters (5 s). */
static void wait_queue(struct fair_lock *fl, unsigned n)
{
	for (int i = 0; i < 5000 && fair_lock_waiting(fl) < n; i++)
		usleep(1000);
	assert_int_equal(fair_lock_waiting(fl), n);
}

static void *once(void *arg)
{
	struct worker *w = arg;
	w->rc = fair_lock_acquire(&w->r->fl, w->timeout_ms);
	if (w->rc == 0) {
		record(w->r, w->id);
		fair_lock_release(&w->r->fl);
	}
	atomic_store(&w->done, 1);
	return NULL;
}

static void rig_init(struct rig *r)
{
	fair_lock_init(&r->fl);
	pthread_mutex_init(&r->mu, NULL);
	r->n = 0;
}

static void rig_free(struct rig *r)
{
	fair_lock_destroy(&r->fl);
	pthread_mutex_destroy(&r->mu);
}

static void test_fifo_under_contention(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	assert_int_equal(fair_lock_acquire(&r.fl, -1), 0);
	struct worker w[MAXT];
	pthread_t t[MAXT];
	for (int i = 0; i < MAXT; i++) {
		w[i] = (struct worker){ .r = &r, .id = i, .timeout_ms = 5000 };
		assert_int_equal(pthread_create(&t[i], NULL, once, &w[i]), 0);
		wait_queue(&r.fl, (unsigned)i + 1);
	}
	fair_lock_release(&r.fl);
	for (int i = 0; i < MAXT; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	assert_int_equal(r.n, MAXT);
	for (int i = 0; i < MAXT; i++)
		assert_int_equal(r.order[i], i);
	assert_int_equal(fair_lock_waiting(&r.fl), 0);
	/* Free again: an uncontended acquire takes it at once. */
	assert_int_equal(fair_lock_acquire(&r.fl, 0), 0);
	fair_lock_release(&r.fl);
	rig_free(&r);
}

/* Two clients asking again and again: each release hands the lock to the
 * other one, who was already waiting (a plain mutex lets the releaser
 * take it straight back). */
static struct worker *peers[2];

static void *repeat(void *arg)
{
	struct worker *w = arg;
	struct worker *other = peers[1 - w->id];
	for (int k = 0; k < w->rounds; k++) {
		if (fair_lock_acquire(&w->r->fl, 5000) != 0) {
			w->rc = -1;
			break;
		}
		record(w->r, w->id);
		/* Hold it until the other is in line (or finished), bounded. */
		for (int i = 0; i < 5000 && !atomic_load(&other->done) &&
		     fair_lock_waiting(&w->r->fl) == 0; i++)
			usleep(1000);
		fair_lock_release(&w->r->fl);
	}
	atomic_store(&w->done, 1);
	return NULL;
}

static void test_round_robin(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	struct worker w[2];
	pthread_t t[2];
	assert_int_equal(fair_lock_acquire(&r.fl, -1), 0);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct worker){ .r = &r, .id = i, .rounds = 6 };
		peers[i] = &w[i];
	}
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, repeat, &w[i]), 0);
		wait_queue(&r.fl, (unsigned)i + 1);
	}
	fair_lock_release(&r.fl);
	for (int i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, 0);
	}
	assert_int_equal(r.n, 12);
	for (int i = 0; i < 12; i++)
		assert_int_equal(r.order[i], i % 2);
	rig_free(&r);
}

static void test_timeout_leaves_queue(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	assert_int_equal(fair_lock_acquire(&r.fl, -1), 0);
	/* Nobody else can take it: a bounded wait returns unheld. */
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	struct worker lone = { .r = &r, .id = 9, .timeout_ms = 100 };
	once(&lone);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_int_equal(lone.rc, ETIMEDOUT);
	long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
	assert_true(ms >= 90 && ms < 3000);
	assert_int_equal(fair_lock_waiting(&r.fl), 0);

	/* 0 waits long, 1 gives up after 150 ms (between 0 and 2), 2 waits. */
	struct worker w[3];
	pthread_t t[3];
	int tmo[3] = { 5000, 150, 5000 };
	for (int i = 0; i < 3; i++) {
		w[i] = (struct worker){ .r = &r, .id = i, .timeout_ms = tmo[i] };
		assert_int_equal(pthread_create(&t[i], NULL, once, &w[i]), 0);
		wait_queue(&r.fl, (unsigned)i + 1);
	}
	pthread_join(t[1], NULL);
	assert_int_equal(w[1].rc, ETIMEDOUT);
	assert_int_equal(fair_lock_waiting(&r.fl), 2);
	fair_lock_release(&r.fl);
	pthread_join(t[0], NULL);
	pthread_join(t[2], NULL);
	assert_int_equal(w[0].rc, 0);
	assert_int_equal(w[2].rc, 0);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.order[0], 0);
	assert_int_equal(r.order[1], 2);
	assert_int_equal(fair_lock_waiting(&r.fl), 0);
	assert_int_equal(fair_lock_acquire(&r.fl, 0), 0);
	fair_lock_release(&r.fl);
	rig_free(&r);
}

static void test_cancel_all(void **state)
{
	(void)state;
	struct rig r;
	rig_init(&r);
	assert_int_equal(fair_lock_acquire(&r.fl, -1), 0);
	struct worker w[3];
	pthread_t t[3];
	for (int i = 0; i < 3; i++) {
		w[i] = (struct worker){ .r = &r, .id = i, .timeout_ms = -1 };
		assert_int_equal(pthread_create(&t[i], NULL, once, &w[i]), 0);
		wait_queue(&r.fl, (unsigned)i + 1);
	}
	fair_lock_cancel_all(&r.fl);
	for (int i = 0; i < 3; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].rc, ECANCELED);
	}
	assert_int_equal(r.n, 0);
	assert_int_equal(fair_lock_waiting(&r.fl), 0);
	/* Later asks queue as before: one behind the holder gets it when
	 * the holder lets go, and nothing is left queued. */
	struct worker late = { .r = &r, .id = 7, .timeout_ms = 5000 };
	pthread_t lt;
	assert_int_equal(pthread_create(&lt, NULL, once, &late), 0);
	wait_queue(&r.fl, 1);
	fair_lock_release(&r.fl);
	pthread_join(lt, NULL);
	assert_int_equal(late.rc, 0);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.order[0], 7);
	assert_int_equal(fair_lock_waiting(&r.fl), 0);
	rig_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_under_contention),
		cmocka_unit_test(test_round_robin),
		cmocka_unit_test(test_timeout_leaves_queue),
		cmocka_unit_test(test_cancel_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
