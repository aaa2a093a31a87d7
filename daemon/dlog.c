/* The daemon's log: stderr in the foreground (-f), else syslog. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

#include "athttpd.h"

static bool to_stderr = true;
static bool debug;

void dlog_open(bool foreground, bool verbose)
{
	to_stderr = foreground;
	debug = verbose;
	if (!foreground)
		openlog("athttpd", LOG_PID, LOG_DAEMON);
}

void dlog(int priority, const char *fmt, ...)
{
	if (priority == LOG_DEBUG && !debug)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (to_stderr) {
		char line[1024];
		vsnprintf(line, sizeof line, fmt, ap);
		fprintf(stderr, "athttpd: %s\n", line);
	} else {
		vsyslog(priority, fmt, ap);
	}
	va_end(ap);
}
