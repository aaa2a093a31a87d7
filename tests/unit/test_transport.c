/*
 * Transports: what they promise beyond bytes — raw 8N1 at the asked speed,
 * RTS/CTS set the right way, HUPCL cleared, close-on-exec, one process at a
 * time.  The pty path always runs; the libserialport path runs on a real
 * UART when the machine has one (/dev/ttyS0), configuring it only: nothing
 * is written to it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cmocka.h>

#include "transport.h"

static void check_line_settings(int fd, speed_t speed, bool rtscts)
{
	struct termios t;
	assert_int_equal(tcgetattr(fd, &t), 0);
	assert_int_equal(t.c_cflag & CSIZE, CS8);
	assert_int_equal(t.c_cflag & (PARENB | CSTOPB | HUPCL), 0);
	assert_int_equal(!!(t.c_cflag & CRTSCTS), rtscts);
	assert_int_equal(t.c_lflag & (ICANON | ECHO | ISIG), 0);
	assert_int_equal(t.c_iflag & (IXON | IXOFF | ICRNL), 0);
	assert_int_equal(t.c_oflag & OPOST, 0);
	assert_int_equal(cfgetospeed(&t), speed);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
}

/* The fastest of these speeds a pty keeps when set without the transport.
 * qemu-user 7.2, which runs the armhf and arm64 builds' tests, translates
 * termios speeds only up to B460800 and reads any faster one back as 0. */
static void pty_speed(const char *slave, int *baud, speed_t *speed)
{
	static const struct { int baud; speed_t speed; } speeds[] = {
		{ 921600, B921600 }, { 460800, B460800 },
	};
	int fd = open(slave, O_RDWR | O_NOCTTY);
	assert_true(fd >= 0);
	size_t i;
	for (i = 0; i < sizeof speeds / sizeof speeds[0] - 1; i++) {
		struct termios t;
		assert_int_equal(tcgetattr(fd, &t), 0);
		assert_int_equal(cfsetspeed(&t, speeds[i].speed), 0);
		assert_int_equal(tcsetattr(fd, TCSANOW, &t), 0);
		assert_int_equal(tcgetattr(fd, &t), 0);
		if (cfgetospeed(&t) == speeds[i].speed)
			break;
		print_message("this pty does not keep %d baud (an emulator's limit): testing at %d\n",
			      speeds[i].baud, speeds[i + 1].baud);
	}
	close(fd);
	*baud = speeds[i].baud;
	*speed = speeds[i].speed;
}

static void test_pty(void **state)
{
	(void)state;
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	const char *slave = ptsname(master);
	int baud;
	speed_t speed;
	pty_speed(slave, &baud, &speed);
	struct transport_config cfg = { .path = slave, .baud = baud, .lock_timeout_ms = 200 };
	struct ath_error err;
	ath_error_clear(&err);
	struct transport *t = transport_open(&cfg, &err);
	assert_non_null(t);
	assert_string_equal(t->ops->name, "tty");
	check_line_settings(t->fd, speed, false);

	/* Exclusive: a second opener waits, then gives up with "busy". */
	struct transport *t2 = transport_open(&cfg, &err);
	assert_null(t2);
	assert_int_equal(err.code, ATH_E_BUSY);

	/* Bytes pass through untouched in both directions. */
	unsigned char all[256];
	for (int i = 0; i < 256; i++)
		all[i] = (unsigned char)i;
	assert_int_equal(t->ops->write(t, all, sizeof all, 1000), ATH_OK);
	unsigned char got[256];
	size_t n = 0;
	while (n < sizeof got) {
		ssize_t r = read(master, got + n, sizeof got - n);
		assert_true(r > 0);
		n += (size_t)r;
	}
	assert_memory_equal(got, all, sizeof all);
	assert_int_equal(write(master, all, sizeof all), (ssize_t)sizeof all);
	n = 0;
	while (n < sizeof got) {
		ssize_t r = t->ops->read(t, got + n, sizeof got - n, 1000);
		assert_true(r > 0);
		n += (size_t)r;
	}
	assert_memory_equal(got, all, sizeof all);
	/* Nothing to read: a timeout, not an error. */
	assert_int_equal(t->ops->read(t, got, 1, 50), 0);

	t->ops->close(t);
	t = transport_open(&cfg, &err); /* released on close */
	assert_non_null(t);
	t->ops->close(t);
	close(master);
}

static void test_missing_device(void **state)
{
	(void)state;
	struct transport_config cfg = { .path = "/dev/athttp-no-such-port", .baud = 115200 };
	struct ath_error err;
	ath_error_clear(&err);
	assert_null(transport_open(&cfg, &err));
	assert_int_equal(err.code, ATH_E_CONFIG);
	assert_non_null(strstr(err.text, "/dev/athttp-no-such-port"));
}

static void test_serial_uart(void **state)
{
	(void)state;
	const char *dev = getenv("ATHTTP_TEST_UART") ? getenv("ATHTTP_TEST_UART") : "/dev/ttyS0";
	int probe = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK);
	if (probe < 0) {
		print_message("no usable UART at %s (%s): libserialport path not exercised\n", dev, strerror(errno));
		skip();
	}
	struct termios before;
	bool is_uart = tcgetattr(probe, &before) == 0;
	close(probe);
	if (!is_uart)
		skip();
	struct transport_config cfg = { .path = dev, .baud = 57600, .rtscts = 1, .lock_timeout_ms = 200 };
	struct ath_error err;
	ath_error_clear(&err);
	struct transport *t = transport_open(&cfg, &err);
	if (!t)
		fail_msg("opening %s: %s", dev, err.text);
	assert_string_equal(t->ops->name, "serial");
	check_line_settings(t->fd, B57600, true);
	assert_true(fcntl(t->fd, F_GETFL) & O_NONBLOCK);
	struct transport *t2 = transport_open(&cfg, &err);
	assert_null(t2);
	assert_int_equal(err.code, ATH_E_BUSY);
	t->ops->close(t);

	cfg.rtscts = 0;
	cfg.baud = 115200;
	t = transport_open(&cfg, &err);
	assert_non_null(t);
	check_line_settings(t->fd, B115200, false);
	t->ops->close(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pty),
		cmocka_unit_test(test_missing_device),
		cmocka_unit_test(test_serial_uart),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
