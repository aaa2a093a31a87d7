/* The real functions behind our hooks; see real.h. */
#include "real.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct real_fns real;

static void die(const char *fmt, const char *name, const char *detail)
{
	/* Straight to fd 2, no FILE: this runs from the first hook, maybe
	 * before stdio is set up. */
	char msg[512];
	if (snprintf(msg, sizeof msg, fmt, name, detail) > 0)
		(void)!write(2, msg, strlen(msg));
	abort();
}

static const char *base_name(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path ? path : "";
}

/* The object sym lives in must be neither this library nor another copy of
 * it (say an installed one and a built one both in LD_PRELOAD): a hook
 * whose "real" function is a hook loops, or fakes every socket twice. */
static void check_not_ours(const char *name, void *sym)
{
	Dl_info self, other;
	if (!dladdr((void *)real_resolve, &self) || !dladdr(sym, &other))
		return;
	if (other.dli_fbase == self.dli_fbase)
		die("athttp: the real %s() resolves to athttp's own hook in %s\n", name,
		    self.dli_fname);
	if (strcmp(base_name(other.dli_fname), base_name(self.dli_fname)) == 0)
		die("athttp: the real %s() is another copy of athttp's preload library, %s: "
		    "load only one\n", name, other.dli_fname);
}

static void *next_symbol(const char *name, int required, int hooked)
{
	void *sym = dlsym(RTLD_NEXT, name);
	if (!sym && required) {
		/* Calling through NULL later would crash somewhere obscure. */
		const char *why = dlerror();
		die("athttp: cannot find the real %s(): %s\n", name, why ? why : "not found");
	}
	if (sym && hooked)
		check_not_ours(name, sym);
	return sym;
}

#define RESOLVE(name, required) \
	(real.name = (__typeof__(real.name))next_symbol(#name, required, 1))

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
	real.open = (__typeof__(real.open))next_symbol("open", 1, 0);
	real.open64 = (__typeof__(real.open64))next_symbol("open64", 0, 0);
	RESOLVE(getaddrinfo, 1);
	RESOLVE(gethostbyname, 1);
	RESOLVE(gethostbyname2, 1);
	RESOLVE(gethostbyname_r, 1);
	RESOLVE(gethostbyname2_r, 1);
}
