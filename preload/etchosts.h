/*
 * The names listed in /etc/hosts.  Those keep resolving the usual way (the
 * board's own name, LAN hosts the user pinned there), so they are never
 * given fake addresses.  Read once: the file rarely changes while a program
 * runs, and re-reading it on every lookup would cost a syscall storm.
 */
#ifndef PRELOAD_ETCHOSTS_H
#define PRELOAD_ETCHOSTS_H

#include <stdbool.h>
#include <stdio.h>

struct etchosts {
	char **names;   /* lower-case, no trailing dot, sorted */
	size_t n;
};

/* Reads hosts(5) lines from f into h.  Returns 0, or -1 when out of memory
 * (h is then empty). */
int etchosts_parse(FILE *f, struct etchosts *h);

/* Whether name is listed, case-insensitively, ignoring a trailing dot. */
bool etchosts_has(const struct etchosts *h, const char *name);

void etchosts_free(struct etchosts *h);

/* etchosts_has() on /etc/hosts, read on first use; thread-safe. */
bool etchosts_system_has(const char *name);

#endif
