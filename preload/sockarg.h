/*
 * The sockaddr parameter types our hooks must be declared with.  With
 * _GNU_SOURCE, glibc declares connect/getpeername/getsockname with a
 * transparent union; redefining them with a plain pointer would not compile.
 * Other C libraries (musl on OpenWrt) use plain pointers.
 */
#ifndef PRELOAD_SOCKARG_H
#define PRELOAD_SOCKARG_H

#include <sys/socket.h>

#if defined(__GLIBC__) && defined(__USE_GNU) && !defined(__cplusplus)
#define SOCKADDR_ARG            __SOCKADDR_ARG
#define CONST_SOCKADDR_ARG      __CONST_SOCKADDR_ARG
#define SOCKADDR_PTR(arg)       ((arg).__sockaddr__)
#else
#define SOCKADDR_ARG            struct sockaddr *restrict
#define CONST_SOCKADDR_ARG      const struct sockaddr *
#define SOCKADDR_PTR(arg)       (arg)
#endif

#endif
