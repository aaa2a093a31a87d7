/*
 * Process-wide state of the LD_PRELOAD library: set up once, read by every
 * hook.  The hooks themselves live in hooks_*.c; everything else in
 * preload/ is plain logic they call.
 */
#ifndef PRELOAD_PRELOAD_H
#define PRELOAD_PRELOAD_H

#include <stdbool.h>

#include "bypass.h"

/* The library is built with -fvisibility=hidden so none of its helpers can
 * clash with the host program; only the hooks are made visible. */
#define PRELOAD_EXPORT __attribute__((visibility("default")))
/* For data shared between our own files: lets the compiler address it
 * directly instead of through the GOT, which matters on the fast paths. */
#define PRELOAD_HIDDEN __attribute__((visibility("hidden")))

/* Resolves the real functions, reads the environment and installs the fork
 * handlers, once.  Every hook calls it first: a hook can run before our
 * constructor (from another library's constructor). */
void preload_init(void);

/* ATHTTP_DISABLE set (and not "0"): every hook passes straight through. */
extern bool preload_disabled PRELOAD_HIDDEN;

/* ATHTTP_BYPASS: destinations that keep going to the real network. */
extern struct bypass_list preload_bypass PRELOAD_HIDDEN;

#endif
