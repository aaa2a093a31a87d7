/* The engine's one clock. */
#ifndef ATH_CLOCK_H
#define ATH_CLOCK_H

#include <time.h>

/* Milliseconds of CLOCK_MONOTONIC, for deadlines.  64 bits: where long is
 * 32 (armhf), seconds * 1000 in a long would overflow once the board has
 * been up for 24.8 days, and gateways stay up for months. */
static inline long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
