/* The client side of the daemon's socket protocol; see daemon_proto.h. */
#include "daemon_proto.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

int daemon_default_socket(const char *device, char *out, size_t outlen)
{
	if (!device || !*device || !outlen)
		return -1;
	const char *dir = getenv("ATHTTP_RUN_DIR");
	if (!dir || !*dir)
		dir = DAEMON_RUN_DIR;
	/* "replay:FILE" and a plain path alike: the last component names it. */
	const char *base = strrchr(device, '/');
	base = base ? base + 1 : device;
	if (strncmp(base, "replay:", 7) == 0)
		base += 7;
	if (!*base || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
		return -1;
	int n = snprintf(out, outlen, "%s/%s.sock", dir, base);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}

static bool host_byte_plain(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_' || c == ':' || c == '~';
}

int daemon_host_encode(const char *host, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)host; *p; p++) {
		if (host_byte_plain(*p)) {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = (char)*p;
		} else {
			if (n + 3 >= outlen)
				return -1;
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (n >= outlen)
		return -1;
	out[n] = '\0';
	return (int)n;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int daemon_host_decode(const char *enc, char *out, size_t outlen)
{
	size_t n = 0;
	for (const char *p = enc; *p; p++) {
		int c = (unsigned char)*p;
		if (c == '%') {
			int hi = hex_value(p[1]), lo = hi < 0 ? -1 : hex_value(p[2]);
			if (lo < 0 || (c = hi << 4 | lo) == 0)
				return -1;
			p += 2;
		} else if (!host_byte_plain((unsigned char)c)) {
			return -1;
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	if (n >= outlen)
		return -1;
	out[n] = '\0';
	return (int)n;
}

/* Waits for events on fd until deadline: 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = events };
		int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (r > 0)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

__attribute__((format(printf, 3, 4)))
static void say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;
	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Connects within the deadline.  A Unix socket whose backlog is full
 * answers EAGAIN instead of queueing us: tried again until the deadline. */
static int connect_bounded(int fd, const struct sockaddr_un *sa, long long deadline,
			   char *why, size_t whylen)
{
	for (;;) {
		if (connect(fd, (const struct sockaddr *)sa, sizeof *sa) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS) {
			int r = wait_fd(fd, POLLOUT, deadline), soerr = 0;
			socklen_t len = sizeof soerr;
			if (r == 0) {
				say(why, whylen, "no connection within the time allowed");
				return -1;
			}
			if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0)
				soerr = errno;
			if (soerr == 0)
				return 0;
			errno = soerr;
		} else if (errno == EAGAIN && now_ms() < deadline) {
			struct pollfd none = { .fd = -1 };
			(void)poll(&none, 0, 10);
			continue;
		}
		say(why, whylen, "%s", errno == EAGAIN ? "the daemon is not accepting connections"
						       : strerror(errno));
		return -1;
	}
}

static int send_all(int fd, const char *buf, size_t len, long long deadline,
		    char *why, size_t whylen)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int r = wait_fd(fd, POLLOUT, deadline);
			if (r > 0)
				continue;
			say(why, whylen, r == 0 ? "the daemon did not take the request in time"
						: "%s", strerror(errno));
			return -1;
		}
		say(why, whylen, "sending the request: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Reads the answer line, and not a byte past its newline (those are the
 * verb's).  Returns its length without the newline, or -1 with why set:
 * *closed tells whether the daemon closed without a word. */
static int read_line(int fd, char *line, size_t cap, long long deadline, bool *closed,
		     char *why, size_t whylen)
{
	size_t have = 0;
	*closed = false;
	for (;;) {
		if (have + 1 >= cap) {
			say(why, whylen, "the daemon's answer line is longer than %zu bytes",
			    cap - 1);
			return -1;
		}
		ssize_t n = recv(fd, line + have, cap - 1 - have, MSG_PEEK);
		if (n == 0) {
			*closed = have == 0;
			say(why, whylen, have ? "the daemon's answer was cut off"
					      : "the daemon closed the connection without an answer");
			return -1;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				int r = wait_fd(fd, POLLIN, deadline);
				if (r > 0)
					continue;
				say(why, whylen, "%s", r == 0 ? "no answer from the daemon in time"
							       : strerror(errno));
				return -1;
			}
			say(why, whylen, "reading the answer: %s", strerror(errno));
			return -1;
		}
		char *nl = memchr(line + have, '\n', (size_t)n);
		size_t take = nl ? (size_t)(nl - (line + have)) + 1 : (size_t)n;
		ssize_t got;
		do
			got = recv(fd, line + have, take, 0);
		while (got < 0 && errno == EINTR);
		if (got != (ssize_t)take) {
			say(why, whylen, "reading the answer: %s",
			    got < 0 ? strerror(errno) : "short read");
			return -1;
		}
		have += take;
		if (nl) {
			have--;
			if (have && line[have - 1] == '\r')
				have--;
			line[have] = '\0';
			return (int)have;
		}
	}
}

/* "ATHTTP/1 <3 digits> <reason>": the status, the reason in why; -1 when
 * it is not such a line. */
static int parse_answer(const char *line, char *why, size_t whylen)
{
	size_t plen = strlen(DAEMON_PROTO);
	if (strncmp(line, DAEMON_PROTO, plen) != 0 || line[plen] != ' ')
		return -1;
	const char *s = line + plen + 1;
	if (s[0] < '1' || s[0] > '5' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9' ||
	    (s[3] != ' ' && s[3] != '\0'))
		return -1;
	int status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	const char *reason = s[3] ? s + 4 : "";
	/* The reason goes to a terminal: no control byte of the daemon's. */
	for (const unsigned char *p = (const unsigned char *)reason; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	say(why, whylen, "%s", reason);
	return status;
}

int daemon_client_open(const char *path, const char *line, int timeout_ms,
		       int *status, char *why, size_t whylen)
{
	int dummy;
	if (!status)
		status = &dummy;
	*status = 0;
	say(why, whylen, "%s", "");

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (!path || !*path || strlen(path) >= sizeof sa.sun_path) {
		say(why, whylen, "socket path too long or empty");
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	size_t llen = strlen(line);
	if (llen + strlen(DAEMON_PROTO) + 2 > DAEMON_LINE_MAX || memchr(line, '\n', llen) ||
	    memchr(line, '\r', llen)) {
		say(why, whylen, "request line too long or not one line");
		errno = EINVAL;
		return -1;
	}
	char req[DAEMON_LINE_MAX + 1];
	int rlen = snprintf(req, sizeof req, "%s %s\n", DAEMON_PROTO, line);

	long long deadline = now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		say(why, whylen, "socket: %s", strerror(errno));
		return -1;
	}
	int e;
	if (connect_bounded(fd, &sa, deadline, why, whylen) < 0)
		goto fail;
	if (send_all(fd, req, (size_t)rlen, deadline, why, whylen) < 0)
		goto fail;

	char answer[DAEMON_LINE_MAX + 1];
	bool closed;
	if (read_line(fd, answer, sizeof answer, deadline, &closed, why, whylen) < 0) {
		errno = closed ? ECONNRESET : EPROTO;
		goto fail;
	}
	char reason[DAEMON_LINE_MAX];
	int st = parse_answer(answer, reason, sizeof reason);
	if (st < 0) {
		say(why, whylen, "the daemon's answer is not an %s status line", DAEMON_PROTO);
		errno = EPROTO;
		goto fail;
	}
	*status = st;
	if (st != 200) {
		say(why, whylen, "%d %s", st, reason);
		errno = st == 403 ? EACCES : ECONNREFUSED;
		goto fail;
	}
	say(why, whylen, "%s", reason);
	/* The caller reads and writes the verb's bytes as it would any
	 * socket: blocking, as a fresh one is. */
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
		say(why, whylen, "fcntl: %s", strerror(errno));
		goto fail;
	}
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}
