/* The real functions behind our hooks; see real.h. */
#include "real.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct real_fns real;

static void *next_symbol(const char *name, int required)
{
	void *sym = dlsym(RTLD_NEXT, name);
	if (!sym && required) {
		/* Calling through NULL later would crash somewhere obscure. */
		char msg[160];
		int n = snprintf(msg, sizeof msg, "athttp: cannot find the real %s(): %s\n",
				 name, dlerror());
		if (n > 0)
			(void)!write(2, msg, strlen(msg));
		abort();
	}
	return sym;
}

#define RESOLVE(name, required) (real.name = (__typeof__(real.name))next_symbol(#name, required))

void real_resolve(void)
{
	RESOLVE(connect, 1);
	RESOLVE(getpeername, 1);
	RESOLVE(getsockname, 1);
	RESOLVE(setsockopt, 1);
	RESOLVE(getsockopt, 1);
	RESOLVE(close, 1);
	RESOLVE(close_range, 0);
	RESOLVE(closefrom, 0);
	RESOLVE(dup, 1);
	RESOLVE(dup2, 1);
	RESOLVE(dup3, 1);
	RESOLVE(fcntl, 1);
	RESOLVE(fcntl64, 0);
	RESOLVE(getaddrinfo, 1);
	RESOLVE(gethostbyname, 1);
	RESOLVE(gethostbyname2, 1);
	RESOLVE(gethostbyname_r, 1);
	RESOLVE(gethostbyname2_r, 1);
}
