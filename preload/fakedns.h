/*
 * Fake DNS: every host name the program resolves gets its own address in
 * 198.18.0.0/15 (the benchmarking range: not loopback, not multicast, never
 * on a real LAN), and a connect to that address maps back to the name.  The
 * module does the real resolution later, from the URL or Host header.
 *
 * Same name, same address, for the life of the process (and its forked
 * children), case-insensitively and ignoring one trailing dot.  Thread-safe:
 * curl resolves on a thread of its own.
 */
#ifndef PRELOAD_FAKEDNS_H
#define PRELOAD_FAKEDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKEDNS_NET    0xC6120000u  /* 198.18.0.0, host order */
#define FAKEDNS_MASK   0xFFFE0000u  /* /15 */
#define FAKEDNS_NAMEMAX 253         /* longest DNS name, without trailing dot */

/* Whether name is something we may fake: a syntactically plausible host name
 * that is not numeric (including inet_aton's legacy forms such as "127.1"),
 * not localhost or *.localhost.  /etc/hosts is checked elsewhere. */
bool fakedns_is_candidate(const char *name);

/* The fake address of name (host order), assigning one on first sight.
 * Returns 0, or -1 with errno EINVAL (not a candidate), ENOSPC (range
 * exhausted) or ENOMEM. */
int fakedns_addr(const char *name, uint32_t *addr);

/* Whether addr (host order) lies in the fake range at all. */
static inline bool fakedns_in_range(uint32_t addr)
{
	return (addr & FAKEDNS_MASK) == FAKEDNS_NET;
}

/* The normalised name that addr was handed out for; false if none. */
bool fakedns_name(uint32_t addr, char *buf, size_t len);

/* fork(): keep the table consistent across it (see preload.c). */
void fakedns_fork_prepare(void);
void fakedns_fork_parent(void);
void fakedns_fork_child(void);

/* Forgets every name (for tests). */
void fakedns_reset(void);

#endif
