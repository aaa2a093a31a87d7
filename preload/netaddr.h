/*
 * A socket address reduced to what the interception decision needs: the
 * family, the raw address and the port.  IPv4-mapped IPv6 addresses
 * (::ffff:a.b.c.d) are folded to AF_INET so one set of IPv4 rules covers
 * both kinds of socket.
 */
#ifndef PRELOAD_NETADDR_H
#define PRELOAD_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <netinet/in.h>

struct netaddr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* 4 bytes used for AF_INET, network order */
	unsigned port;           /* host order */
};

/* false for anything but a well-formed sockaddr_in / sockaddr_in6. */
bool netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct netaddr *out);

/* Loopback (127/8, ::1, ::ffff:127/104) or unspecified (0/8, ::): traffic
 * that stays on this machine and must never be taken over. */
bool netaddr_is_local(const struct netaddr *na);

/* The IPv4 address in host order; only for family AF_INET. */
uint32_t netaddr_ipv4(const struct netaddr *na);

/* Numeric form without port or brackets ("192.0.2.1", "2001:db8::1"). */
void netaddr_format(const struct netaddr *na, char *buf, size_t len);

#endif
