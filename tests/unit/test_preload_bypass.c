/* ATHTTP_BYPASS networks and destination classification of the preload
 * library (preload/bypass.c, preload/netaddr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <sys/un.h>

#include "bypass.h"
#include "netaddr.h"

/* A destination as connect() would get it. */
static struct netaddr dest(const char *text)
{
	struct netaddr na;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(80) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1)
		assert_true(netaddr_from_sockaddr((struct sockaddr *)&sin, sizeof sin, &na));
	else if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1)
		assert_true(netaddr_from_sockaddr((struct sockaddr *)&sin6, sizeof sin6, &na));
	else
		fail_msg("bad test address %s", text);
	return na;
}

static bool bypassed(const struct bypass_list *l, const char *text)
{
	struct netaddr na = dest(text);
	return bypass_match(l, &na);
}

static void ipv4_networks(void **state)
{
	(void)state;
	struct bypass_list l;
	assert_int_equal(bypass_parse("192.168.0.0/16, 10.1.2.3 ,172.16.0.0/12", &l, NULL, 0), 0);
	assert_int_equal(l.n, 3);
	assert_true(bypassed(&l, "192.168.0.1"));
	assert_true(bypassed(&l, "192.168.255.255"));
	assert_false(bypassed(&l, "192.169.0.1"));
	assert_false(bypassed(&l, "192.167.255.255"));
	assert_true(bypassed(&l, "10.1.2.3"));          /* bare address: /32 */
	assert_false(bypassed(&l, "10.1.2.4"));
	assert_true(bypassed(&l, "172.31.255.1"));
	assert_false(bypassed(&l, "172.32.0.1"));
	assert_true(bypassed(&l, "::ffff:192.168.7.7")); /* mapped destination */
	assert_false(bypassed(&l, "2001:db8::1"));
	bypass_free(&l);
}

static void ipv6_networks(void **state)
{
	(void)state;
	struct bypass_list l;
	assert_int_equal(bypass_parse("fd00::/8,2001:db8::/127", &l, NULL, 0), 0);
	assert_true(bypassed(&l, "fd12:3456::1"));
	assert_false(bypassed(&l, "fe00::1"));
	assert_true(bypassed(&l, "2001:db8::1"));
	assert_false(bypassed(&l, "2001:db8::2"));
	assert_false(bypassed(&l, "192.168.0.1"));
	bypass_free(&l);

	/* An IPv4-mapped network is an IPv4 one. */
	assert_int_equal(bypass_parse("::ffff:10.0.0.0/104", &l, NULL, 0), 0);
	assert_true(bypassed(&l, "10.200.0.1"));
	assert_true(bypassed(&l, "::ffff:10.200.0.1"));
	assert_false(bypassed(&l, "11.0.0.1"));
	bypass_free(&l);
}

static void prefixes(void **state)
{
	(void)state;
	struct bypass_list l;
	/* Host bits are ignored; odd prefix lengths split a byte. */
	assert_int_equal(bypass_parse("192.168.1.77/16,100.64.0.0/10,0.0.0.0/0", &l, NULL, 0), 0);
	assert_int_equal(l.n, 3);
	assert_memory_equal(l.nets[0].addr, "\xc0\xa8\0\0", 4);
	assert_memory_equal(l.nets[1].addr, "\x64\x40\0\0", 4);
	bypass_free(&l);

	assert_int_equal(bypass_parse("100.64.0.0/10", &l, NULL, 0), 0);
	assert_true(bypassed(&l, "100.127.255.255"));
	assert_false(bypassed(&l, "100.128.0.0"));
	assert_false(bypassed(&l, "100.63.255.255"));
	bypass_free(&l);

	assert_int_equal(bypass_parse("0.0.0.0/0", &l, NULL, 0), 0);
	assert_true(bypassed(&l, "203.0.113.9"));
	assert_false(bypassed(&l, "2001:db8::1"));     /* v4 /0 is not v6 */
	bypass_free(&l);
}

static void bad_entries(void **state)
{
	(void)state;
	struct bypass_list l;
	char bad[16];
	assert_int_equal(bypass_parse("10.0.0.0/8,bogus,1.2.3.4/33,::/129,10.0.0.0/,/8,"
				      "10.0.0.0/8x,192.168.0.0/16", &l, bad, sizeof bad), 6);
	assert_string_equal(bad, "bogus");
	assert_int_equal(l.n, 2);
	assert_true(bypassed(&l, "192.168.3.3"));
	bypass_free(&l);

	/* The reported entry is cut to the buffer. */
	assert_int_equal(bypass_parse("a-very-long-bad-entry-indeed", &l, bad, sizeof bad), 1);
	assert_string_equal(bad, "a-very-long-bad");
	bypass_free(&l);

	assert_int_equal(bypass_parse(NULL, &l, bad, sizeof bad), 0);
	assert_int_equal(l.n, 0);
	assert_false(bypassed(&l, "10.0.0.1"));
	bypass_free(&l);
	assert_int_equal(bypass_parse(" , ,", &l, bad, sizeof bad), 0);
	assert_int_equal(l.n, 0);
	bypass_free(&l);
}

static void addresses(void **state)
{
	(void)state;
	struct netaddr na = dest("::ffff:198.18.0.1");
	assert_int_equal(na.family, AF_INET);
	assert_int_equal(netaddr_ipv4(&na), 0xC6120001u);
	assert_int_equal(na.port, 80);

	char buf[INET6_ADDRSTRLEN];
	netaddr_format(&na, buf, sizeof buf);
	assert_string_equal(buf, "198.18.0.1");
	na = dest("2001:db8::5");
	assert_int_equal(na.family, AF_INET6);
	netaddr_format(&na, buf, sizeof buf);
	assert_string_equal(buf, "2001:db8::5");

	const char *local[] = { "127.0.0.1", "127.255.0.9", "0.0.0.0", "::1", "::",
				"::ffff:127.0.0.1", "::ffff:127.1.2.3" };
	for (size_t i = 0; i < sizeof local / sizeof *local; i++) {
		na = dest(local[i]);
		assert_true(netaddr_is_local(&na));
	}
	const char *remote[] = { "128.0.0.1", "198.18.0.1", "192.168.1.1", "::2",
				 "2001:db8::1", "::ffff:128.0.0.1", "fe80::1" };
	for (size_t i = 0; i < sizeof remote / sizeof *remote; i++) {
		na = dest(remote[i]);
		assert_false(netaddr_is_local(&na));
	}

	/* Not an IP socket address, or too short. */
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	assert_false(netaddr_from_sockaddr((struct sockaddr *)&sun, sizeof sun, &na));
	struct sockaddr_in sin = { .sin_family = AF_INET };
	assert_false(netaddr_from_sockaddr((struct sockaddr *)&sin, sizeof sin - 1, &na));
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	assert_false(netaddr_from_sockaddr((struct sockaddr *)&sin6, sizeof sin, &na));
	assert_false(netaddr_from_sockaddr(NULL, sizeof sin6, &na));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ipv4_networks),
		cmocka_unit_test(ipv6_networks),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(bad_entries),
		cmocka_unit_test(addresses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
