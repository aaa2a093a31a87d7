/* Small helpers shared by the unit tests. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

/* A malloc'ed printf; the caller frees it. */
char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

#endif
