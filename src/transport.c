/* Picks the transport for a device and holds what fd-based ones share. */
#include "transport.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "device_access.h"

struct transport *transport_tty_open(const struct transport_config *cfg, struct ath_error *err);
struct transport *transport_serial_open(const struct transport_config *cfg, struct ath_error *err);

/* UNIX98 pty slaves: majors 136-143.  libserialport 0.1.1 cannot open them. */
static int is_pty(const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
		return 0;
	unsigned maj = major(st.st_rdev);
	return maj >= 136 && maj <= 143;
}

#define REPLAY_PREFIX "replay:"

static struct transport *open_device(const struct transport_config *cfg, struct ath_error *err)
{
	if (strncmp(cfg->path, REPLAY_PREFIX, strlen(REPLAY_PREFIX)) == 0)
		return transport_replay_open(cfg->path + strlen(REPLAY_PREFIX), cfg, err);
	if (access(cfg->path, F_OK) != 0) {
		device_open_failed(err, cfg->path, errno);
		return NULL;
	}
	if (is_pty(cfg->path))
		return transport_tty_open(cfg, err);
	return transport_serial_open(cfg, err);
}

struct transport *transport_open(const struct transport_config *cfg, struct ath_error *err)
{
	if (!cfg->path || !*cfg->path) {
		ath_fail(err, ATH_E_CONFIG, -1, "no serial device configured (-d or ATHTTP_DEVICE)");
		return NULL;
	}
	struct transport *t = open_device(cfg, err);
	if (t && cfg->record && *cfg->record)
		t = transport_record_wrap(t, cfg, err);
	return t;
}

ssize_t transport_fd_read(int fd, void *buf, size_t len, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		ssize_t n = read(fd, buf, len);
		if (n > 0)
			return n;
		if (n == 0)
			return -1; /* the other side of the port is gone */
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -1;
		long long left = deadline - now_ms();
		if (left <= 0)
			return 0;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r > 0 && (pfd.revents & (POLLERR | POLLNVAL)))
			return -1;
	}
}

enum ath_err transport_fd_write(int fd, const void *buf, size_t len, int timeout_ms)
{
	const char *p = buf;
	long long deadline = now_ms() + timeout_ms;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			deadline = now_ms() + timeout_ms;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return ATH_E_IO;
		long long left = deadline - now_ms();
		if (left <= 0)
			return ATH_E_TIMEOUT;
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR)
			return ATH_E_IO;
	}
	return ATH_OK;
}

ssize_t transport_fd_op_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	return transport_fd_read(t->fd, buf, len, timeout_ms);
}

enum ath_err transport_fd_op_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	return transport_fd_write(t->fd, buf, len, timeout_ms);
}

enum ath_err transport_lock(int fd, const char *path, int timeout_ms, struct ath_error *err)
{
	long long deadline = now_ms() + timeout_ms;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return ATH_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ath_fail(err, ATH_E_IO, -1, "cannot lock %s: %s", path, strerror(errno));
		if (now_ms() >= deadline)
			return ath_fail(err, ATH_E_BUSY, -1,
					"%s is in use by another process", path);
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
}
