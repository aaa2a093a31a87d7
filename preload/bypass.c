/* The ATHTTP_BYPASS network list; see bypass.h. */
#include "bypass.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* One entry, already trimmed: "addr" or "addr/prefix". */
static bool parse_net(const char *s, struct bypass_net *net)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);

	if (alen == 0 || alen >= sizeof addr)
		return false;
	memcpy(addr, s, alen);
	addr[alen] = '\0';

	memset(net, 0, sizeof *net);
	unsigned max;
	if (inet_pton(AF_INET, addr, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		return false;
	}

	net->prefix = max;
	if (slash) {
		const char *p = slash + 1;
		unsigned v = 0;
		if (!*p)
			return false;
		for (; *p; p++) {
			if (!isdigit((unsigned char)*p))
				return false;
			v = v * 10 + (unsigned)(*p - '0');
			if (v > max)
				return false;
		}
		net->prefix = v;
	}

	/* netaddr folds IPv4-mapped destinations to AF_INET: fold such
	 * networks the same way so "::ffff:10.0.0.0/104" means 10/8. */
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	if (net->family == AF_INET6 && net->prefix >= 96 && memcmp(net->addr, mapped, 12) == 0) {
		memmove(net->addr, net->addr + 12, 4);
		memset(net->addr + 4, 0, 12);
		net->family = AF_INET;
		net->prefix -= 96;
		max = 32;
	}

	/* Clear host bits so matching is a plain prefix compare. */
	for (unsigned bit = net->prefix; bit < max; bit++)
		net->addr[bit / 8] &= (unsigned char)~(0x80u >> (bit % 8));
	return true;
}

int bypass_parse(const char *spec, struct bypass_list *out, char *bad, size_t badlen)
{
	out->nets = NULL;
	out->n = 0;
	if (bad && badlen)
		bad[0] = '\0';
	if (!spec || !*spec)
		return 0;

	size_t cap = 1;
	for (const char *p = spec; *p; p++)
		cap += *p == ',';
	out->nets = calloc(cap, sizeof *out->nets);
	if (!out->nets)
		return -1;

	int nbad = 0;
	const char *p = spec;
	for (;;) {
		const char *end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		while (p < end && isspace((unsigned char)*p))
			p++;
		const char *e = end;
		while (e > p && isspace((unsigned char)e[-1]))
			e--;
		if (e > p) {
			char entry[INET6_ADDRSTRLEN + 8];
			size_t n = (size_t)(e - p);
			bool ok = n < sizeof entry;
			if (ok) {
				memcpy(entry, p, n);
				entry[n] = '\0';
				ok = parse_net(entry, &out->nets[out->n]);
			}
			if (ok) {
				out->n++;
			} else {
				if (nbad == 0 && bad && badlen) {
					size_t c = n < badlen - 1 ? n : badlen - 1;
					memcpy(bad, p, c);
					bad[c] = '\0';
				}
				nbad++;
			}
		}
		if (!*end)
			break;
		p = end + 1;
	}
	return nbad;
}

static bool prefix_equal(const unsigned char *a, const unsigned char *net, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;
	if (memcmp(a, net, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	unsigned char mask = (unsigned char)(0xff00u >> rest);
	return (a[whole] & mask) == net[whole];
}

bool bypass_match(const struct bypass_list *list, const struct netaddr *na)
{
	for (size_t i = 0; i < list->n; i++) {
		const struct bypass_net *net = &list->nets[i];
		if (net->family == na->family && prefix_equal(na->addr, net->addr, net->prefix))
			return true;
	}
	return false;
}

void bypass_free(struct bypass_list *list)
{
	free(list->nets);
	list->nets = NULL;
	list->n = 0;
}
