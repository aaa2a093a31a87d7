#include "cli_number.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>

bool cli_positive_int(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v <= 0 || v > INT_MAX)
		return false;
	if (out)
		*out = (int)v;
	return true;
}
