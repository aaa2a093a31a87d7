#include "trace.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct trace {
	int fds[2];
	int nfds;
	pthread_mutex_t lock;
	struct timespec t0;
};

/* How much of a binary block the trace shows. */
#define TRACE_PREVIEW 48

struct trace *trace_open(const char *path, int to_stderr)
{
	if ((!path || !*path) && !to_stderr)
		return NULL;
	struct trace *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	if (path && *path) {
		int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (fd >= 0)
			t->fds[t->nfds++] = fd;
	}
	if (to_stderr)
		t->fds[t->nfds++] = -STDERR_FILENO - 1; /* marks "not ours to close" */
	pthread_mutex_init(&t->lock, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t->t0);
	return t;
}

void trace_close(struct trace *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->nfds; i++)
		if (t->fds[i] >= 0)
			close(t->fds[i]);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

size_t trace_escape(char *out, size_t outlen, const void *s, size_t len)
{
	const unsigned char *p = s;
	size_t o = 0, i;
	for (i = 0; i < len; i++) {
		char tmp[5];
		int n;
		unsigned char c = p[i];
		if (c == '\r')
			n = snprintf(tmp, sizeof tmp, "\\r");
		else if (c == '\n')
			n = snprintf(tmp, sizeof tmp, "\\n");
		else if (c == '\\')
			n = snprintf(tmp, sizeof tmp, "\\\\");
		else if (c < 0x20 || c >= 0x7f)
			n = snprintf(tmp, sizeof tmp, "\\x%02x", c);
		else
			n = snprintf(tmp, sizeof tmp, "%c", c);
		if (o + (size_t)n + 1 > outlen)
			break;
		for (int k = 0; k < n; k++)
			out[o++] = tmp[k];
	}
	if (outlen)
		out[o] = '\0';
	return i;
}

static void trace_emit(struct trace *t, const char *buf, size_t len)
{
	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < t->nfds; i++) {
		int fd = t->fds[i] >= 0 ? t->fds[i] : -t->fds[i] - 1;
		ssize_t w = write(fd, buf, len);
		(void)w; /* a trace that cannot be written must not stop the exchange */
	}
	pthread_mutex_unlock(&t->lock);
}

static int trace_stamp(struct trace *t, char *buf, size_t len, char dir)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double s = (double)(now.tv_sec - t->t0.tv_sec) + (now.tv_nsec - t->t0.tv_nsec) / 1e9;
	return snprintf(buf, len, "athttp [%9.3f] %c ", s, dir);
}

void trace_line(struct trace *t, char dir, const char *text, size_t len)
{
	if (!t)
		return;
	char buf[640];
	int n = trace_stamp(t, buf, sizeof buf, dir);
	size_t used = trace_escape(buf + n, sizeof buf - (size_t)n - 8, text, len);
	size_t o = (size_t)n + strnlen(buf + n, sizeof buf - (size_t)n);
	if (used < len)
		o += (size_t)snprintf(buf + o, sizeof buf - o, "...");
	buf[o++] = '\n';
	trace_emit(t, buf, o);
}

void trace_data(struct trace *t, char dir, const char *what, const void *data, size_t len)
{
	if (!t)
		return;
	char buf[400];
	int n = trace_stamp(t, buf, sizeof buf, dir);
	n += snprintf(buf + n, sizeof buf - (size_t)n, "[%s %zu bytes] \"", what, len);
	size_t show = len < TRACE_PREVIEW ? len : TRACE_PREVIEW;
	trace_escape(buf + n, sizeof buf - (size_t)n - 8, data, show);
	size_t o = (size_t)n + strnlen(buf + n, sizeof buf - (size_t)n);
	o += (size_t)snprintf(buf + o, sizeof buf - o, "\"%s\n", show < len ? "..." : "");
	trace_emit(t, buf, o);
}

void trace_note(struct trace *t, const char *fmt, ...)
{
	if (!t)
		return;
	char msg[300], buf[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	int n = trace_stamp(t, buf, sizeof buf, '#');
	n += snprintf(buf + n, sizeof buf - (size_t)n, "%s\n", msg);
	trace_emit(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}
