/* Fake DNS table of the preload library (preload/fakedns.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "fakedns.h"

static int reset(void **state)
{
	(void)state;
	fakedns_reset();
	return 0;
}

static uint32_t ip(const char *dotted)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, dotted, &a), 1);
	return ntohl(a.s_addr);
}

static void candidates(void **state)
{
	(void)state;
	assert_true(fakedns_is_candidate("example.com"));
	assert_true(fakedns_is_candidate("origin.test."));
	assert_true(fakedns_is_candidate("a"));
	assert_true(fakedns_is_candidate("my_host-1.Example.COM"));
	assert_true(fakedns_is_candidate("b\xc3\xbc\x63her.example")); /* raw UTF-8 */
	assert_true(fakedns_is_candidate("1.2.3.4.5"));   /* not an address */
	assert_true(fakedns_is_candidate("localhost.example")); /* only the suffix counts */
	assert_true(fakedns_is_candidate("notlocalhost"));

	assert_false(fakedns_is_candidate(NULL));
	assert_false(fakedns_is_candidate(""));
	assert_false(fakedns_is_candidate("."));
	assert_false(fakedns_is_candidate("192.0.2.1"));
	assert_false(fakedns_is_candidate("192.0.2.1."));
	assert_false(fakedns_is_candidate("127.1"));        /* inet_aton forms */
	assert_false(fakedns_is_candidate("0x7f000001"));
	assert_false(fakedns_is_candidate("2130706433"));
	assert_false(fakedns_is_candidate("::1"));
	assert_false(fakedns_is_candidate("2001:db8::1"));
	assert_false(fakedns_is_candidate("fe80::1%eth0"));
	assert_false(fakedns_is_candidate("localhost"));
	assert_false(fakedns_is_candidate("LocalHost."));
	assert_false(fakedns_is_candidate("foo.localhost"));
	assert_false(fakedns_is_candidate("a.b.LOCALHOST"));
	assert_false(fakedns_is_candidate("a..b"));
	assert_false(fakedns_is_candidate(".a"));
	assert_false(fakedns_is_candidate("a b"));
	assert_false(fakedns_is_candidate("a/b"));
	assert_false(fakedns_is_candidate("a\r\nb"));
	assert_false(fakedns_is_candidate("user@host"));

	char label[70];
	memset(label, 'a', 63);
	strcpy(label + 63, ".x");
	assert_true(fakedns_is_candidate(label));
	memset(label, 'a', 64);
	strcpy(label + 64, ".x");
	assert_false(fakedns_is_candidate(label));      /* label > 63 */

	char name[300];
	for (int i = 0; i < 126; i++)
		memcpy(name + 2 * i, "a.", 2);
	strcpy(name + 252, "a");                        /* 253 chars */
	assert_true(fakedns_is_candidate(name));
	strcpy(name + 252, "ab");                       /* 254 chars */
	assert_false(fakedns_is_candidate(name));
}

static void same_name_same_address(void **state)
{
	(void)state;
	uint32_t a, b, c, d;
	assert_int_equal(fakedns_addr("origin.test", &a), 0);
	assert_int_equal(a, ip("198.18.0.1"));         /* first one, easy to spot */
	assert_int_equal(fakedns_addr("Origin.TEST", &b), 0);
	assert_int_equal(fakedns_addr("origin.test.", &c), 0);
	assert_int_equal(a, b);
	assert_int_equal(a, c);
	assert_int_equal(fakedns_addr("other.test", &d), 0);
	assert_int_not_equal(a, d);
	assert_int_equal(d, ip("198.18.0.2"));
	assert_true(fakedns_in_range(a));
	assert_true(fakedns_in_range(ip("198.19.255.254")));
	assert_false(fakedns_in_range(ip("198.20.0.1")));
	assert_false(fakedns_in_range(ip("198.17.255.255")));

	errno = 0;
	assert_int_equal(fakedns_addr("10.0.0.1", &a), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(fakedns_addr("localhost", &a), -1);
}

static void reverse(void **state)
{
	(void)state;
	uint32_t a;
	char buf[FAKEDNS_NAMEMAX + 1];
	assert_int_equal(fakedns_addr("Mixed.Case.Example.", &a), 0);
	assert_true(fakedns_name(a, buf, sizeof buf));
	assert_string_equal(buf, "mixed.case.example");
	assert_false(fakedns_name(a, buf, 5));          /* does not fit */
	assert_false(fakedns_name(a + 1, buf, sizeof buf)); /* never handed out */
	assert_false(fakedns_name(ip("192.0.2.1"), buf, sizeof buf));
	assert_false(fakedns_name(ip("198.19.255.254"), buf, sizeof buf));
}

/* Many names: the hash table grows, no address repeats, none ends in .0 or
 * .255, and every one still maps both ways. */
static void many_names(void **state)
{
	(void)state;
	enum { N = 5000 };
	static uint32_t addrs[N];
	char name[32], back[FAKEDNS_NAMEMAX + 1];

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "host%d.example", i);
		assert_int_equal(fakedns_addr(name, &addrs[i]), 0);
		assert_true(fakedns_in_range(addrs[i]));
		assert_int_not_equal(addrs[i] & 0xff, 0);
		assert_int_not_equal(addrs[i] & 0xff, 255);
		if (i)
			assert_true(addrs[i] > addrs[i - 1]);
	}
	for (int i = 0; i < N; i++) {
		uint32_t again;
		snprintf(name, sizeof name, "HOST%d.example", i);
		assert_int_equal(fakedns_addr(name, &again), 0);
		assert_int_equal(again, addrs[i]);
		assert_true(fakedns_name(addrs[i], back, sizeof back));
		snprintf(name, sizeof name, "host%d.example", i);
		assert_string_equal(back, name);
	}
	/* 254 usable addresses per /24 */
	assert_int_equal(addrs[253], ip("198.18.0.254"));
	assert_int_equal(addrs[254], ip("198.18.1.1"));
}

/* Threads resolving the same names at once agree on every address (curl
 * resolves on its own thread). */
#define THREADS 8
#define NAMES 300
static uint32_t seen[THREADS][NAMES];

static void *resolver(void *arg)
{
	int t = (int)(intptr_t)arg;
	char name[32];
	for (int k = 0; k < NAMES; k++) {
		int i = (k * 7 + t * 13) % NAMES; /* different orders */
		snprintf(name, sizeof name, "%s%d.test", t % 2 ? "N" : "n", i);
		if (fakedns_addr(name, &seen[t][i]) != 0)
			seen[t][i] = 0;
	}
	return NULL;
}

static void concurrent(void **state)
{
	(void)state;
	pthread_t th[THREADS];
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, resolver, (void *)(intptr_t)t), 0);
	for (int t = 0; t < THREADS; t++)
		pthread_join(th[t], NULL);
	for (int i = 0; i < NAMES; i++) {
		assert_int_not_equal(seen[0][i], 0);
		for (int t = 1; t < THREADS; t++)
			assert_int_equal(seen[t][i], seen[0][i]);
		for (int j = 0; j < i; j++)
			assert_int_not_equal(seen[0][j], seen[0][i]);
	}
}

/* The fork handlers leave a usable table in the child's position. */
static void fork_handlers(void **state)
{
	(void)state;
	uint32_t a, b;
	assert_int_equal(fakedns_addr("before.fork", &a), 0);
	fakedns_fork_prepare();
	fakedns_fork_child(); /* as in the child: the lock is made anew */
	assert_int_equal(fakedns_addr("before.fork", &b), 0);
	assert_int_equal(a, b);
	fakedns_fork_prepare();
	fakedns_fork_parent();
	assert_int_equal(fakedns_addr("after.fork", &b), 0);
	assert_int_equal(b, a + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(candidates, reset),
		cmocka_unit_test_setup(same_name_same_address, reset),
		cmocka_unit_test_setup(reverse, reset),
		cmocka_unit_test_setup(many_names, reset),
		cmocka_unit_test_setup(concurrent, reset),
		cmocka_unit_test_setup(fork_handlers, reset),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fakedns_reset();
	return rc;
}
