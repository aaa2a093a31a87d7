/* How long a data phase may take on the line. */
#ifndef ATH_WIRE_TIME_H
#define ATH_WIRE_TIME_H

#include <stddef.h>

/* The line time of len bytes at baud (8N1: 10 bits a byte), twice over
 * for a module that takes them slower than the line brings them, plus 2 s
 * of slack: the bound a driver gives a data phase, or tells the module.
 * baud 0 (unknown, a pty) counts as 115200.  In 64 bits: len * 20000
 * overflows 32 for a body of 215 KB. */
static inline long long wire_ms(size_t len, int baud)
{
	unsigned long long b = baud > 0 ? (unsigned long long)baud : 115200;
	return 2000 + (long long)((unsigned long long)len * 20000 / b);
}

/* The same in whole seconds, for commands that take a time in seconds. */
static inline long long wire_s(size_t len, int baud)
{
	unsigned long long b = baud > 0 ? (unsigned long long)baud : 115200;
	return 2 + (long long)((unsigned long long)len * 20 / b);
}

#endif
