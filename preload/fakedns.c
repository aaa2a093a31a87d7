/* Host name <-> fake address table; see fakedns.h. */
#include "fakedns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define FAKEDNS_SIZE (~FAKEDNS_MASK + 1u) /* addresses in the range */

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* names[off] is the name given 198.18.0.0 + off.  Offsets are handed out in
 * order, so the first name gets 198.18.0.1: easy to recognise in logs. */
static char **names;
static size_t names_cap;
static uint32_t next_off = 1;

/* Open-addressing hash from name to offset; 0 marks an empty slot (offset 0
 * is never handed out: it ends in .0). */
static uint32_t *slots;
static size_t nslots, nused;

/* Lower-case copy without the trailing dot; false if it cannot be a name. */
static bool normalise(const char *name, char key[FAKEDNS_NAMEMAX + 1])
{
	size_t n = name ? strlen(name) : 0;
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > FAKEDNS_NAMEMAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		key[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	key[n] = '\0';
	return true;
}

/* Letters, digits, '-', '_' and UTF-8 bytes, in non-empty labels.  Anything
 * else (':' '%' '/' spaces, control bytes) is no host name we should make
 * up an address for; the real resolver can say no. */
static bool plausible(const char *key)
{
	size_t label = 0;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
		unsigned char c = *p;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c >= 0x80))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

static bool is_localhost(const char *key)
{
	static const char lh[] = "localhost";
	size_t n = strlen(key), l = sizeof lh - 1;
	if (n == l)
		return strcmp(key, lh) == 0;
	return n > l && key[n - l - 1] == '.' && strcmp(key + n - l, lh) == 0;
}

static bool is_numeric(const char *key)
{
	struct in_addr a4;
	struct in6_addr a6;
	return inet_aton(key, &a4) || inet_pton(AF_INET6, key, &a6) == 1;
}

static bool candidate_key(const char *name, char key[FAKEDNS_NAMEMAX + 1])
{
	return normalise(name, key) && plausible(key) && !is_numeric(key) && !is_localhost(key);
}

bool fakedns_is_candidate(const char *name)
{
	char key[FAKEDNS_NAMEMAX + 1];
	return candidate_key(name, key);
}

/* 64-bit FNV-1a whatever size_t is; a 32-bit size_t keeps its low half. */
static size_t hash(const char *s)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211u;
	}
	return (size_t)h;
}

static uint32_t *find_slot(uint32_t *table, size_t size, const char *key)
{
	size_t i = hash(key) & (size - 1);
	while (table[i] && strcmp(names[table[i]], key) != 0)
		i = (i + 1) & (size - 1);
	return &table[i];
}

static int grow_slots(void)
{
	size_t size = nslots ? nslots * 2 : 64;
	uint32_t *table = calloc(size, sizeof *table);
	if (!table)
		return -1;
	for (size_t i = 0; i < nslots; i++)
		if (slots[i])
			*find_slot(table, size, names[slots[i]]) = slots[i];
	free(slots);
	slots = table;
	nslots = size;
	return 0;
}

/* Skips offsets ending in .0 and .255: some old code takes those for network
 * and broadcast addresses and refuses to connect. */
static uint32_t usable_offset(uint32_t off)
{
	while ((off & 0xff) == 0 || (off & 0xff) == 0xff)
		off++;
	return off;
}

static int assign(const char *key, uint32_t *off_out)
{
	uint32_t off = usable_offset(next_off);
	if (off >= FAKEDNS_SIZE) {
		errno = ENOSPC;
		return -1;
	}
	if ((nused + 1) * 2 > nslots && grow_slots() < 0)
		goto nomem;
	if (off >= names_cap) {
		size_t cap = names_cap ? names_cap * 2 : 256;
		while (cap <= off)
			cap *= 2;
		char **n = realloc(names, cap * sizeof *n);
		if (!n)
			goto nomem;
		memset(n + names_cap, 0, (cap - names_cap) * sizeof *n);
		names = n;
		names_cap = cap;
	}
	char *copy = strdup(key);
	if (!copy)
		goto nomem;
	names[off] = copy;
	*find_slot(slots, nslots, key) = off;
	nused++;
	next_off = off + 1;
	*off_out = off;
	return 0;
nomem:
	errno = ENOMEM;
	return -1;
}

int fakedns_addr(const char *name, uint32_t *addr)
{
	char key[FAKEDNS_NAMEMAX + 1];
	if (!candidate_key(name, key)) {
		errno = EINVAL;
		return -1;
	}

	int rc = 0;
	uint32_t off = 0;
	pthread_mutex_lock(&lock);
	uint32_t *slot = nslots ? find_slot(slots, nslots, key) : NULL;
	if (slot && *slot)
		off = *slot;
	else
		rc = assign(key, &off);
	pthread_mutex_unlock(&lock);

	if (rc == 0)
		*addr = FAKEDNS_NET + off;
	return rc;
}

bool fakedns_name(uint32_t addr, char *buf, size_t len)
{
	if (!fakedns_in_range(addr) || len == 0)
		return false;
	uint32_t off = addr - FAKEDNS_NET;
	bool found = false;
	pthread_mutex_lock(&lock);
	if (off < names_cap && names[off]) {
		size_t n = strlen(names[off]);
		if (n < len) {
			memcpy(buf, names[off], n + 1);
			found = true;
		}
	}
	pthread_mutex_unlock(&lock);
	return found;
}

void fakedns_fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

void fakedns_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

void fakedns_fork_child(void)
{
	/* The prepare handler left it locked by a thread that does not exist
	 * here; the table itself is consistent. */
	pthread_mutex_init(&lock, NULL);
}

void fakedns_reset(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < names_cap; i++)
		free(names[i]);
	free(names);
	free(slots);
	names = NULL;
	slots = NULL;
	names_cap = nslots = nused = 0;
	next_off = 1;
	pthread_mutex_unlock(&lock);
}
