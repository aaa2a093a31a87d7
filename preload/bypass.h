/*
 * ATHTTP_BYPASS: a comma-separated list of CIDRs ("192.168.0.0/16,fd00::/8",
 * a bare address meaning a single host) whose traffic keeps going to the real
 * network, for boards that have a LAN next to the module.
 */
#ifndef PRELOAD_BYPASS_H
#define PRELOAD_BYPASS_H

#include <stdbool.h>
#include <stddef.h>

#include "netaddr.h"

struct bypass_net {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char addr[16];  /* network order, host bits cleared */
	unsigned prefix;         /* 0..32 or 0..128 */
};

struct bypass_list {
	struct bypass_net *nets;
	size_t n;
};

/* Parses spec (NULL or "" gives an empty list).  Bad entries are skipped; the
 * first one is copied to bad (if given) and the count of bad entries is
 * returned, so the caller can warn.  Returns -1 (list empty) when out of
 * memory. */
int bypass_parse(const char *spec, struct bypass_list *out, char *bad, size_t badlen);

/* Whether the address falls in one of the networks.  IPv4 networks also
 * match IPv4-mapped IPv6 destinations (netaddr folds them to AF_INET). */
bool bypass_match(const struct bypass_list *list, const struct netaddr *na);

void bypass_free(struct bypass_list *list);

#endif
