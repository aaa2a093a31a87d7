/*
 * Name resolution: host names we do not know locally get a fake address
 * (fakedns.h) so the program goes on to connect(), where we take over.
 * Numeric hosts, localhost and /etc/hosts names resolve as usual.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "etchosts.h"
#include "fakedns.h"
#include "preload.h"
#include "real.h"

/* A name the module should resolve, not libc. */
static bool fake_name(const char *name)
{
	return !preload_disabled && fakedns_is_candidate(name) && !etchosts_system_has(name);
}

/* The fake address of name as a numeric string; an EAI_* code on failure. */
static int fake_numeric(const char *name, char num[INET_ADDRSTRLEN])
{
	uint32_t a;
	if (fakedns_addr(name, &a) < 0)
		return errno == ENOMEM ? EAI_MEMORY : EAI_FAIL;
	struct in_addr in = { htonl(a) };
	inet_ntop(AF_INET, &in, num, INET_ADDRSTRLEN);
	return 0;
}

PRELOAD_EXPORT int getaddrinfo(const char *restrict node, const char *restrict service,
			       const struct addrinfo *restrict hints,
			       struct addrinfo **restrict res)
{
	preload_init();
	int family = hints ? hints->ai_family : AF_UNSPEC;
	if (!node || (hints && (hints->ai_flags & AI_NUMERICHOST)) ||
	    (family != AF_UNSPEC && family != AF_INET && family != AF_INET6) ||
	    !fake_name(node))
		return real.getaddrinfo(node, service, hints, res);

	char num[INET_ADDRSTRLEN];
	int rc = fake_numeric(node, num);
	if (rc)
		return rc;

	/* Let libc build the answer from the numeric fake address: it then
	 * honours the family (AF_INET6 alone gets EAI_ADDRFAMILY, or a mapped
	 * address with AI_V4MAPPED), socket type, protocol and service just
	 * as for any address, and the program's freeaddrinfo() frees it. */
	struct addrinfo h;
	if (hints) {
		h = *hints;
	} else {
		memset(&h, 0, sizeof h);
		h.ai_family = AF_UNSPEC;
		h.ai_flags = AI_V4MAPPED;
	}
	h.ai_flags |= AI_NUMERICHOST;
	/* A board whose only link is the module has no IPv4 address of its
	 * own, and AI_ADDRCONFIG (wget sets it) would then hide ours. */
	h.ai_flags &= ~AI_ADDRCONFIG;
#ifdef AI_IDN
	h.ai_flags &= ~(AI_IDN | AI_CANONIDN);
#endif
#ifdef __GLIBC__
	h.ai_flags &= ~AI_CANONNAME;
#endif
	rc = real.getaddrinfo(num, service, &h, res);

#ifdef __GLIBC__
	/* The canonical name is the program's own, not our number.  glibc's
	 * freeaddrinfo frees ai_canonname on its own, so a strdup'd one is
	 * released with the rest. */
	if (rc == 0 && hints && (hints->ai_flags & AI_CANONNAME) && *res) {
		char *canon = strdup(node);
		if (!canon) {
			freeaddrinfo(*res);
			*res = NULL;
			return EAI_MEMORY;
		}
		(*res)->ai_canonname = canon;
	}
#endif
	return rc;
}

/* What gethostbyname* hand out, laid out in the caller's buffer. */
struct hostent_data {
	char *aliases[1];
	char *addrs[2];
	struct in_addr addr;
	char name[];
};

/* Fills he from name's fake address; an errno value on failure. */
static int fake_hostent(const char *name, struct hostent *he, char *buf, size_t buflen)
{
	uint32_t a;
	if (fakedns_addr(name, &a) < 0)
		return errno;

	size_t nlen = strlen(name) + 1;
	size_t skip = (alignof(struct hostent_data) - (uintptr_t)buf % alignof(struct hostent_data)) %
		      alignof(struct hostent_data);
	if (buflen < skip || buflen - skip < sizeof(struct hostent_data) + nlen)
		return ERANGE;

	struct hostent_data *d = (struct hostent_data *)(void *)(buf + skip);
	d->aliases[0] = NULL;
	d->addr.s_addr = htonl(a);
	d->addrs[0] = (char *)&d->addr;
	d->addrs[1] = NULL;
	memcpy(d->name, name, nlen);
	he->h_name = d->name;
	he->h_aliases = d->aliases;
	he->h_addrtype = AF_INET;
	he->h_length = 4;
	he->h_addr_list = d->addrs;
	return 0;
}

/* gethostbyname's static answer, one per thread so concurrent callers do
 * not overwrite each other. */
static __thread struct {
	struct hostent he;
	alignas(struct hostent_data) char buf[sizeof(struct hostent_data) + FAKEDNS_NAMEMAX + 2];
} tls_answer;

static struct hostent *fake_static(const char *name, int af)
{
	if (af != AF_INET) {
		h_errno = NO_DATA; /* the name exists, but has no IPv6 address */
		return NULL;
	}
	if (fake_hostent(name, &tls_answer.he, tls_answer.buf, sizeof tls_answer.buf) != 0) {
		h_errno = NO_RECOVERY;
		return NULL;
	}
	return &tls_answer.he;
}

PRELOAD_EXPORT struct hostent *gethostbyname(const char *name)
{
	preload_init();
	if (!fake_name(name))
		return real.gethostbyname(name);
	return fake_static(name, AF_INET);
}

PRELOAD_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	preload_init();
	if ((af != AF_INET && af != AF_INET6) || !fake_name(name))
		return real.gethostbyname2(name, af);
	return fake_static(name, af);
}

/* The reentrant forms, glibc style: 0 with *result NULL when there is no
 * address, an errno value (ERANGE: buffer too small) on failure. */
static int fake_reentrant(const char *name, int af, struct hostent *ret, char *buf,
			  size_t buflen, struct hostent **result, int *h_errnop)
{
	*result = NULL;
	if (af != AF_INET) {
		*h_errnop = NO_DATA;
		return 0;
	}
	int rc = fake_hostent(name, ret, buf, buflen);
	if (rc != 0) {
		*h_errnop = rc == ERANGE ? NETDB_INTERNAL : NO_RECOVERY;
		return rc;
	}
	*h_errnop = 0;
	*result = ret;
	return 0;
}

PRELOAD_EXPORT int gethostbyname_r(const char *restrict name, struct hostent *restrict ret,
				   char *restrict buf, size_t buflen,
				   struct hostent **restrict result, int *restrict h_errnop)
{
	preload_init();
	if (!fake_name(name))
		return real.gethostbyname_r(name, ret, buf, buflen, result, h_errnop);
	return fake_reentrant(name, AF_INET, ret, buf, buflen, result, h_errnop);
}

PRELOAD_EXPORT int gethostbyname2_r(const char *restrict name, int af,
				    struct hostent *restrict ret, char *restrict buf,
				    size_t buflen, struct hostent **restrict result,
				    int *restrict h_errnop)
{
	preload_init();
	if ((af != AF_INET && af != AF_INET6) || !fake_name(name))
		return real.gethostbyname2_r(name, af, ret, buf, buflen, result, h_errnop);
	return fake_reentrant(name, af, ret, buf, buflen, result, h_errnop);
}
