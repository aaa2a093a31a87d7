/*
 * The daemon protocol's client side against a fake daemon on a Unix
 * socket: a 200 gives the descriptor (close-on-exec, blocking) whose next
 * bytes are the verb's, and the request line arrives as sent; 403 gives
 * the status and reason; no socket, a silent daemon (bounded), a garbage
 * answer, an over-long line and a daemon that closes without a word are
 * each -1 with status 0 and a reason; a host with spaces, control bytes
 * and '%' is percent-encoded so the line stays one line of plain bytes,
 * and decodes back; the default socket follows ATHTTP_RUN_DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "daemon_proto.h"

static char dir[] = "/tmp/athttp-dproto.XXXXXX";
static char sock_path[sizeof ((struct sockaddr_un *)0)->sun_path];

struct fake {
	int listen_fd;
	const char *answer;     /* written after the request line; NULL: none */
	size_t answer_len;
	int hold_ms;            /* then stays this long before closing */
	char got[DAEMON_LINE_MAX + 2];
	pthread_t thread;
};

static void *fake_serve(void *arg)
{
	struct fake *f = arg;
	int c = accept(f->listen_fd, NULL, NULL);
	if (c < 0)
		return NULL;
	size_t have = 0;
	while (have < sizeof f->got - 1) {
		ssize_t n = read(c, f->got + have, 1);
		if (n <= 0)
			break;
		have++;
		if (f->got[have - 1] == '\n')
			break;
	}
	f->got[have] = '\0';
	if (f->answer)
		(void)write(c, f->answer, f->answer_len);
	if (f->hold_ms) {
		struct timespec ts = { f->hold_ms / 1000, (f->hold_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
	}
	close(c);
	return NULL;
}

static void fake_start(struct fake *f, const char *answer, size_t len, int hold_ms)
{
	memset(f, 0, sizeof *f);
	f->answer = answer;
	f->answer_len = len;
	f->hold_ms = hold_ms;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
	unlink(sock_path);
	f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->listen_fd >= 0);
	assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(f->listen_fd, 4), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_serve, f), 0);
}

static void fake_stop(struct fake *f)
{
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
	unlink(sock_path);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	snprintf(sock_path, sizeof sock_path, "%s/d.sock", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(sock_path);
	return rmdir(dir);
}

static void ok_gives_the_verbs_bytes(void **state)
{
	(void)state;
	static const char ans[] = "ATHTTP/1 200 connected\nHELLO";
	struct fake f;
	fake_start(&f, ans, sizeof ans - 1, 0);
	int status = -1;
	char why[128];
	int fd = daemon_client_open(sock_path, "CONNECT example.com 80", 2000, &status, why,
				    sizeof why);
	assert_true(fd >= 0);
	assert_int_equal(status, 200);
	assert_string_equal(why, "connected");
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
	char buf[16];
	size_t have = 0;
	ssize_t n;
	while ((n = read(fd, buf + have, sizeof buf - 1 - have)) > 0)
		have += (size_t)n;
	buf[have] = '\0';
	assert_string_equal(buf, "HELLO");
	close(fd);
	fake_stop(&f);
	assert_string_equal(f.got, "ATHTTP/1 CONNECT example.com 80\n");
}

static void forbidden_gives_status_and_reason(void **state)
{
	(void)state;
	static const char ans[] = "ATHTTP/1 403 user 1000 is not allowed\n";
	struct fake f;
	fake_start(&f, ans, sizeof ans - 1, 0);
	int status = -1;
	char why[128];
	errno = 0;
	int fd = daemon_client_open(sock_path, "STATUS", 2000, &status, why, sizeof why);
	assert_int_equal(fd, -1);
	assert_int_equal(errno, EACCES);
	assert_int_equal(status, 403);
	assert_non_null(strstr(why, "user 1000 is not allowed"));
	fake_stop(&f);
}

static void no_daemon_is_status_zero(void **state)
{
	(void)state;
	int status = -1;
	char why[128] = "x";
	unlink(sock_path);
	int fd = daemon_client_open(sock_path, "STATUS", 500, &status, why, sizeof why);
	assert_int_equal(fd, -1);
	assert_int_equal(status, 0);
	assert_int_equal(errno, ENOENT);
	assert_true(why[0] != '\0');
}

static long long ms_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void silent_daemon_times_out(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f, NULL, 0, 1500);
	int status = -1;
	char why[128];
	long long t0 = ms_now();
	int fd = daemon_client_open(sock_path, "STATUS", 300, &status, why, sizeof why);
	long long took = ms_now() - t0;
	assert_int_equal(fd, -1);
	assert_int_equal(status, 0);
	assert_non_null(strstr(why, "in time"));
	assert_true(took >= 250 && took < 1200);
	fake_stop(&f);
}

static void garbage_answer_is_refused(void **state)
{
	(void)state;
	static const char *const answers[] = {
		"HTTP/1.1 200 OK\n", "ATHTTP/1 2x0 ok\n", "ATHTTP/1 200\x01 ok\n",
		"ATHTTP/1 200 ok\x1b[2J\n", "ATHTTP/12 200 ok\n", "ATHTTP/1 200",
	};
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		struct fake f;
		fake_start(&f, answers[i], strlen(answers[i]), 0);
		int status = -1;
		char why[128];
		int fd = daemon_client_open(sock_path, "STATUS", 2000, &status, why, sizeof why);
		assert_int_equal(fd, -1);
		assert_int_equal(status, 0);
		assert_true(why[0] != '\0');
		fake_stop(&f);
	}
}

static void closed_without_answer(void **state)
{
	(void)state;
	struct fake f;
	fake_start(&f, "", 0, 0);
	int status = -1;
	char why[128];
	int fd = daemon_client_open(sock_path, "CA", 2000, &status, why, sizeof why);
	assert_int_equal(fd, -1);
	assert_int_equal(status, 0);
	assert_non_null(strstr(why, "without an answer"));
	fake_stop(&f);
}

static void overlong_answer_is_refused(void **state)
{
	(void)state;
	size_t len = DAEMON_LINE_MAX * 3;
	char *ans = malloc(len + 1);
	assert_non_null(ans);
	memcpy(ans, "ATHTTP/1 200 ", 13);
	memset(ans + 13, 'a', len - 14);
	ans[len - 1] = '\n';
	ans[len] = '\0';
	struct fake f;
	fake_start(&f, ans, len, 0);
	int status = -1;
	char why[128];
	int fd = daemon_client_open(sock_path, "STATUS", 2000, &status, why, sizeof why);
	assert_int_equal(fd, -1);
	assert_int_equal(status, 0);
	assert_non_null(strstr(why, "longer than"));
	fake_stop(&f);
	free(ans);
}

static void overlong_request_is_refused(void **state)
{
	(void)state;
	char line[DAEMON_LINE_MAX + 10];
	memset(line, 'h', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	int status = -1;
	char why[128];
	assert_int_equal(daemon_client_open(sock_path, line, 200, &status, why, sizeof why), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(daemon_client_open(sock_path, "CONNECT a\nCA 1", 200, &status, why,
					    sizeof why), -1);
	assert_int_equal(errno, EINVAL);
}

static void host_is_percent_encoded(void **state)
{
	(void)state;
	static const char hostile[] = "evil host\r\n\x01%ATHTTP/1 CA\x7f\xc3\xa9.example:8";
	char enc[256], dec[256];
	int n = daemon_host_encode(hostile, enc, sizeof enc);
	assert_true(n > 0);
	assert_string_equal(enc, "evil%20host%0D%0A%01%25ATHTTP%2F1%20CA%7F%C3%A9.example:8");
	for (const char *p = enc; *p; p++)
		assert_true(*p > 0x20 && *p < 0x7f);
	assert_int_equal(daemon_host_decode(enc, dec, sizeof dec), (int)strlen(hostile));
	assert_string_equal(dec, hostile);
	assert_int_equal(daemon_host_encode("example.com", enc, sizeof enc), 11);
	assert_string_equal(enc, "example.com");
	/* Too small a buffer, and what the daemon must not take. */
	assert_int_equal(daemon_host_encode(hostile, enc, 10), -1);
	assert_int_equal(daemon_host_decode("a%00b", dec, sizeof dec), -1);
	assert_int_equal(daemon_host_decode("a%2", dec, sizeof dec), -1);
	assert_int_equal(daemon_host_decode("a%zz", dec, sizeof dec), -1);
	assert_int_equal(daemon_host_decode("a b", dec, sizeof dec), -1);
	assert_int_equal(daemon_host_decode("abc", dec, 3), -1);

	/* And on the wire: the fake daemon sees one plain line. */
	static const char ans[] = "ATHTTP/1 200 ok\n";
	struct fake f;
	fake_start(&f, ans, sizeof ans - 1, 0);
	char line[300];
	daemon_host_encode(hostile, enc, sizeof enc);
	snprintf(line, sizeof line, "CONNECT %s 443", enc);
	int status;
	int fd = daemon_client_open(sock_path, line, 2000, &status, NULL, 0);
	assert_true(fd >= 0);
	close(fd);
	fake_stop(&f);
	char want[320];
	snprintf(want, sizeof want, "ATHTTP/1 CONNECT %s 443\n", enc);
	assert_string_equal(f.got, want);
	assert_null(strchr(f.got, '\r'));
}

static void default_socket_path(void **state)
{
	(void)state;
	char out[PATH_MAX];
	setenv("ATHTTP_RUN_DIR", "/tmp/rd", 1);
	assert_int_equal(daemon_default_socket("/dev/ttyUSB2", out, sizeof out), 0);
	assert_string_equal(out, "/tmp/rd/ttyUSB2.sock");
	unsetenv("ATHTTP_RUN_DIR");
	assert_int_equal(daemon_default_socket("/dev/ttyUSB2", out, sizeof out), 0);
	assert_string_equal(out, DAEMON_RUN_DIR "/ttyUSB2.sock");
	assert_int_equal(daemon_default_socket("/dev/", out, sizeof out), -1);
	assert_int_equal(daemon_default_socket("", out, sizeof out), -1);
	assert_int_equal(daemon_default_socket("/dev/ttyUSB2", out, 8), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ok_gives_the_verbs_bytes),
		cmocka_unit_test(forbidden_gives_status_and_reason),
		cmocka_unit_test(no_daemon_is_status_zero),
		cmocka_unit_test(silent_daemon_times_out),
		cmocka_unit_test(garbage_answer_is_refused),
		cmocka_unit_test(closed_without_answer),
		cmocka_unit_test(overlong_answer_is_refused),
		cmocka_unit_test(overlong_request_is_refused),
		cmocka_unit_test(host_is_percent_encoded),
		cmocka_unit_test(default_socket_path),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
