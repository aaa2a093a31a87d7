/* Socket addresses reduced to family, bytes and port; see netaddr.h. */
#include "netaddr.h"

#include <arpa/inet.h>
#include <string.h>

static const unsigned char v4mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

bool netaddr_from_sockaddr(const struct sockaddr *sa, socklen_t len, struct netaddr *out)
{
	if (!sa || len < sizeof(sa_family_t))
		return false;
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
		if (len < sizeof *sin)
			return false;
		out->family = AF_INET;
		memcpy(out->addr, &sin->sin_addr, 4);
		out->port = ntohs(sin->sin_port);
		return true;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
		if (len < sizeof *sin6)
			return false;
		out->port = ntohs(sin6->sin6_port);
		if (memcmp(sin6->sin6_addr.s6_addr, v4mapped_prefix, 12) == 0) {
			out->family = AF_INET;
			memcpy(out->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			out->family = AF_INET6;
			memcpy(out->addr, sin6->sin6_addr.s6_addr, 16);
		}
		return true;
	}
	return false;
}

uint32_t netaddr_ipv4(const struct netaddr *na)
{
	return (uint32_t)na->addr[0] << 24 | (uint32_t)na->addr[1] << 16 |
	       (uint32_t)na->addr[2] << 8 | na->addr[3];
}

bool netaddr_is_local(const struct netaddr *na)
{
	if (na->family == AF_INET)
		return na->addr[0] == 127 || na->addr[0] == 0;
	static const unsigned char zero[15];
	/* ::1 and :: */
	return memcmp(na->addr, zero, 15) == 0 && na->addr[15] <= 1;
}

void netaddr_format(const struct netaddr *na, char *buf, size_t len)
{
	if (!inet_ntop(na->family, na->addr, buf, (socklen_t)len) && len)
		buf[0] = '\0';
}
