/* A pty (the emulator, socat links) through raw termios. */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "device_access.h"

static void tty_flush(struct transport *t)
{
	tcflush(t->fd, TCIFLUSH);
}

static void tty_close(struct transport *t)
{
	close(t->fd);
	free(t);
}

static const struct transport_ops tty_ops = {
	.name = "tty",
	.read = transport_fd_op_read,
	.write = transport_fd_op_write,
	.flush_input = tty_flush,
	.close = tty_close,
	.abandon = tty_close,
};

static speed_t baud_to_speed(int baud)
{
	static const struct { int baud; speed_t speed; } table[] = {
		{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
		{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
		{ 921600, B921600 }, { 1000000, B1000000 }, { 2000000, B2000000 },
		{ 3000000, B3000000 }, { 4000000, B4000000 },
	};
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].baud == baud)
			return table[i].speed;
	return B115200;
}

struct transport *transport_tty_open(const struct transport_config *cfg, struct ath_error *err)
{
	int fd = open(cfg->path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		device_open_failed(err, cfg->path, errno);
		return NULL;
	}
	if (transport_lock(fd, cfg->path, cfg->lock_timeout_ms, err) != ATH_OK) {
		close(fd);
		return NULL;
	}
	struct termios tio;
	if (tcgetattr(fd, &tio) != 0) {
		ath_fail(err, ATH_E_IO, -1, "%s is not a terminal: %s", cfg->path, strerror(errno));
		close(fd);
		return NULL;
	}
	cfmakeraw(&tio);
	tio.c_cflag |= CLOCAL | CREAD;
	tio.c_cflag &= ~(HUPCL | CSTOPB | PARENB);
	if (cfg->rtscts)
		tio.c_cflag |= CRTSCTS;
	else
		tio.c_cflag &= ~CRTSCTS;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	cfsetspeed(&tio, baud_to_speed(cfg->baud));
	if (tcsetattr(fd, TCSANOW, &tio) != 0) {
		ath_fail(err, ATH_E_IO, -1, "cannot configure %s: %s", cfg->path, strerror(errno));
		close(fd);
		return NULL;
	}
	struct transport *t = calloc(1, sizeof *t);
	if (!t) {
		close(fd);
		ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
		return NULL;
	}
	t->ops = &tty_ops;
	t->fd = fd;
	return t;
}
