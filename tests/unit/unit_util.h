/* Small helpers shared by the unit tests. */
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

/* A malloc'ed printf; the caller frees it. */
char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
