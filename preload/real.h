/*
 * The functions we hook, as the next library in the lookup order (libc)
 * provides them.  Resolved once by preload_init(); our own code calls these,
 * never the hooked names, so it cannot recurse into itself.
 */
#ifndef PRELOAD_REAL_H
#define PRELOAD_REAL_H

#include <netdb.h>
#include <sys/socket.h>

struct real_fns {
	int (*connect)(int, const struct sockaddr *, socklen_t);
	int (*getpeername)(int, struct sockaddr *, socklen_t *);
	int (*getsockname)(int, struct sockaddr *, socklen_t *);
	int (*setsockopt)(int, int, int, const void *, socklen_t);
	int (*getsockopt)(int, int, int, void *, socklen_t *);

	int (*close)(int);
	int (*close_range)(unsigned, unsigned, int);  /* NULL before glibc 2.34 */
	void (*closefrom)(int);                       /* likewise */
	int (*dup)(int);
	int (*dup2)(int, int);
	int (*dup3)(int, int, int);
	int (*fcntl)(int, int, ...);
	int (*fcntl64)(int, int, ...);                /* NULL before glibc 2.28 */
	int (*open)(const char *, int, ...);          /* not hooked: the engine's */
	int (*open64)(const char *, int, ...);        /* likewise; NULL if libc lacks it */

	int (*getaddrinfo)(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);
	struct hostent *(*gethostbyname)(const char *);
	struct hostent *(*gethostbyname2)(const char *, int);
	int (*gethostbyname_r)(const char *, struct hostent *, char *, size_t,
			       struct hostent **, int *);
	int (*gethostbyname2_r)(const char *, int, struct hostent *, char *, size_t,
				struct hostent **, int *);
};

extern struct real_fns real __attribute__((visibility("hidden")));

/* Fills `real`; aborts with a message if libc lacks a function we cannot do
 * without, or if a name leads back into a copy of this library (ours, or a
 * second libathttp-preload.so loaded after us): calling it would recurse or
 * take every connection over twice. */
void real_resolve(void);

#endif
