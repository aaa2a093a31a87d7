/*
 * One-time setup of the LD_PRELOAD library: the real functions, the
 * environment, and the fork handlers.
 */
#include "preload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "fakedns.h"
#include "fdtable.h"
#include "real.h"

bool preload_disabled;
struct bypass_list preload_bypass;

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Our locks are taken across fork() so the child gets the tables in a
 * consistent state, then re-created there: the threads that might have held
 * them do not exist in the child. */
static void fork_prepare(void)
{
	fakedns_fork_prepare();
	fdtable_fork_prepare();
}

static void fork_parent(void)
{
	fdtable_fork_parent();
	fakedns_fork_parent();
}

static void fork_child(void)
{
	fdtable_fork_child();
	fakedns_fork_child();
	engine_fork_child();
}

static void read_environment(void)
{
	const char *v = getenv("ATHTTP_DISABLE");
	preload_disabled = v && *v && strcmp(v, "0") != 0;

	char bad[64];
	int nbad = bypass_parse(getenv("ATHTTP_BYPASS"), &preload_bypass, bad, sizeof bad);
	if (nbad > 0)
		fprintf(stderr, "athttp: ATHTTP_BYPASS: ignoring %d bad entr%s, first \"%s\"\n",
			nbad, nbad == 1 ? "y" : "ies", bad);
	else if (nbad < 0)
		fprintf(stderr, "athttp: ATHTTP_BYPASS: out of memory\n");
}

static void init(void)
{
	real_resolve();
	read_environment();
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void preload_init(void)
{
	pthread_once(&init_once, init);
}

__attribute__((constructor)) static void preload_constructor(void)
{
	preload_init();
}

/* A destructor, not atexit(): it runs after the program's own atexit
 * handlers, which may still make requests, and before the libraries we
 * use are finalized.  A program killed or ending by _exit() skips it; the
 * next program's bring-up copes with what is left. */
__attribute__((destructor)) static void preload_destructor(void)
{
	if (!preload_disabled)
		engine_at_exit();
}
