/* Small helpers shared by the unit tests. */
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

#include <stdarg.h>

/* A malloc'ed printf; the caller frees it. */
char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
/* The same with a va_list. */
char *vfmt(const char *f, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
