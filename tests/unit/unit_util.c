#include "unit_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

char *vfmt(const char *f, va_list ap)
{
	char *s = NULL;
	if (vasprintf(&s, f, ap) < 0)
		abort();
	return s;
}

char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = vfmt(f, ap);
	va_end(ap);
	return s;
}
