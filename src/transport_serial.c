/*
 * A real serial port through libserialport, with the fixes 0.1.1 needs:
 * CRTSCTS set by hand (its RTS/CTS mode sets the wrong flag), HUPCL cleared
 * (closing would drop DTR and reset some modules), close-on-exec and an
 * exclusive lock (it sets neither), and full raw mode: it leaves ISIG and
 * IEXTEN on, so the line discipline would eat 0x03, 0x1a and friends out of
 * a binary body.
 */
#include "transport.h"

#include <errno.h>
#include <fcntl.h>
#include <libserialport.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "device_access.h"

static void serial_flush(struct transport *t)
{
	sp_flush(t->priv, SP_BUF_INPUT);
}

static void serial_close(struct transport *t)
{
	ioctl(t->fd, TIOCNXCL);
	sp_close(t->priv);
	sp_free_port(t->priv);
	free(t);
}

static void serial_abandon(struct transport *t)
{
	/* A forked child: close our copy only; the parent keeps the port. */
	close(t->fd);
	sp_free_port(t->priv);
	free(t);
}

static const struct transport_ops serial_ops = {
	.name = "serial",
	.read = transport_fd_op_read,
	.write = transport_fd_op_write,
	.flush_input = serial_flush,
	.close = serial_close,
	.abandon = serial_abandon,
};

static struct transport *sp_failed(struct sp_port *port, struct ath_error *err,
				   const char *path, const char *what)
{
	char *msg = sp_last_error_message();
	ath_fail(err, ATH_E_IO, -1, "%s %s: %s", what, path, msg ? msg : "unknown error");
	if (msg)
		sp_free_error_message(msg);
	if (port) {
		sp_close(port);
		sp_free_port(port);
	}
	return NULL;
}

struct transport *transport_serial_open(const struct transport_config *cfg, struct ath_error *err)
{
	struct sp_port *port = NULL;
	if (sp_get_port_by_name(cfg->path, &port) != SP_OK)
		return sp_failed(NULL, err, cfg->path, "no serial port");
	if (sp_open(port, SP_MODE_READ_WRITE) != SP_OK) {
		/* open()'s errno, which libserialport leaves as it was. */
		int open_errno = errno;
		sp_free_port(port);
		if (open_errno == EACCES || open_errno == EPERM || open_errno == ENOENT ||
		    open_errno == EBUSY) {
			device_open_failed(err, cfg->path, open_errno);
			return NULL;
		}
		return sp_failed(NULL, err, cfg->path, "cannot open");
	}
	int fd = -1;
	sp_get_port_handle(port, &fd);
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	if (transport_lock(fd, cfg->path, cfg->lock_timeout_ms, err) != ATH_OK) {
		sp_close(port);
		sp_free_port(port);
		return NULL;
	}
	ioctl(fd, TIOCEXCL);
	if (sp_set_baudrate(port, cfg->baud) != SP_OK || sp_set_bits(port, 8) != SP_OK ||
	    sp_set_parity(port, SP_PARITY_NONE) != SP_OK || sp_set_stopbits(port, 1) != SP_OK ||
	    sp_set_flowcontrol(port, SP_FLOWCONTROL_NONE) != SP_OK)
		return sp_failed(port, err, cfg->path, "cannot configure");
	struct termios tio;
	if (tcgetattr(fd, &tio) == 0) {
		cfmakeraw(&tio); /* keeps the speed libserialport set */
		tio.c_cc[VMIN] = 1;
		tio.c_cc[VTIME] = 0;
		tio.c_cflag &= ~HUPCL;
		/* Both ways: the flag outlives the process that set it. */
		if (cfg->rtscts)
			tio.c_cflag |= CRTSCTS;
		else
			tio.c_cflag &= ~CRTSCTS;
		tio.c_cflag |= CLOCAL | CREAD;
		if (tcsetattr(fd, TCSANOW, &tio) != 0)
			return sp_failed(port, err, cfg->path, "cannot configure");
	}
	/* The transport polls the descriptor itself: sp_wait cannot tell a
	 * timeout from an event. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	struct transport *t = calloc(1, sizeof *t);
	if (!t) {
		sp_close(port);
		sp_free_port(port);
		ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
		return NULL;
	}
	t->ops = &serial_ops;
	t->fd = fd;
	t->priv = port;
	return t;
}
