/*
 * The body spool: in memory up to its limit, past it an unlinked temporary
 * file (close-on-exec, nothing left in the directory), replayed exactly and
 * more than once, memory bounded all along, every descriptor closed, and
 * every failure (no directory, a write refused, a read refused, a replay
 * stopped by its consumer) reported with a reason that sticks, and a body
 * past 2 GB written and replayed (64-bit offsets on 32-bit targets too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include "body_spool.h"

/* ------------------------------------------------------------ helpers */

static unsigned char byte_at(size_t i)
{
	return (unsigned char)((i * 2654435761u) >> 13);
}

static void fill(unsigned char *p, size_t off, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = byte_at(off + i);
}

/* What a replay delivered, checked against byte_at as it comes. */
struct check {
	size_t got;
	size_t calls;
	bool bad;
	int stop_after;     /* return stop_value after this many calls (0: never) */
	int stop_value;
};

static int check_fn(void *ctx, const void *data, size_t len)
{
	struct check *c = ctx;
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++)
		if (p[i] != byte_at(c->got + i))
			c->bad = true;
	c->got += len;
	c->calls++;
	if (c->stop_after && (int)c->calls == c->stop_after)
		return c->stop_value;
	return 0;
}

static void replay_exact(struct body_spool *s, size_t want)
{
	struct check c = { 0 };
	assert_int_equal(body_spool_replay(s, check_fn, &c), 0);
	assert_int_equal(c.got, want);
	assert_false(c.bad);
}

/* Writes n bytes (continuing at off) in pieces of 1..maxp bytes. */
static void write_pieces(struct body_spool *s, size_t off, size_t n, size_t maxp, unsigned seed, size_t limit)
{
	unsigned char buf[8192];
	size_t done = 0;
	while (done < n) {
		size_t k = 1 + (size_t)rand_r(&seed) % maxp;
		if (k > n - done)
			k = n - done;
		if (k > sizeof buf)
			k = sizeof buf;
		fill(buf, off + done, k);
		assert_int_equal(body_spool_write(s, buf, k), 0);
		done += k;
		/* Memory never holds more than the limit. */
		assert_true(body_spool_mem_bytes(s) <= limit);
	}
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static char *make_dir_in(const char *base)
{
	char *tmpl = NULL;
	assert_true(asprintf(&tmpl, "%s/spooltest.XXXXXX", base) > 0);
	assert_non_null(mkdtemp(tmpl));
	return tmpl;
}

static char *make_dir(void)
{
	const char *t = getenv("TMPDIR");
	return make_dir_in(t && *t ? t : "/tmp");
}

static void remove_dir(char *dir)
{
	assert_int_equal(dir_entries(dir), 0);
	rmdir(dir);
	free(dir);
}

/* ------------------------------------------------------------ tests */

static void test_in_memory(void **state)
{
	(void)state;
	char *dir = make_dir();
	int fds = count_fds();
	struct body_spool s;
	body_spool_init(&s, 1024, dir);
	assert_int_equal(body_spool_length(&s), 0);
	replay_exact(&s, 0);
	write_pieces(&s, 0, 1000, 97, 1, 1024);
	assert_false(body_spool_spilled(&s));
	assert_int_equal(body_spool_length(&s), 1000);
	assert_int_equal(count_fds(), fds);
	assert_int_equal(dir_entries(dir), 0);
	/* Twice, and written to after a replay. */
	replay_exact(&s, 1000);
	replay_exact(&s, 1000);
	write_pieces(&s, 1000, 24, 5, 2, 1024);
	assert_false(body_spool_spilled(&s));
	replay_exact(&s, 1024);
	assert_string_equal(body_spool_error(&s), "");
	body_spool_free(&s);
	assert_int_equal(body_spool_mem_bytes(&s), 0);
	remove_dir(dir);
}

/* A zero-length write changes nothing; exactly the limit stays in
 * memory, one byte more spills. */
static void test_threshold(void **state)
{
	(void)state;
	char *dir = make_dir();
	struct body_spool s;
	body_spool_init(&s, 4096, dir);
	assert_int_equal(body_spool_write(&s, "", 0), 0);
	assert_int_equal(body_spool_mem_bytes(&s), 0);
	write_pieces(&s, 0, 4096, 4096, 3, 4096);
	assert_false(body_spool_spilled(&s));
	write_pieces(&s, 4096, 1, 1, 4, 4096);
	assert_true(body_spool_spilled(&s));
	assert_int_equal(body_spool_mem_bytes(&s), 0);
	replay_exact(&s, 4097);
	body_spool_free(&s);

	/* Limit 0: the first byte goes to the file. */
	body_spool_init(&s, 0, dir);
	write_pieces(&s, 0, 1, 1, 5, 0);
	assert_true(body_spool_spilled(&s));
	replay_exact(&s, 1);
	body_spool_free(&s);
	remove_dir(dir);
}

/* Past the limit: an unlinked, close-on-exec file in the directory given;
 * nothing left there; the whole body replayed exactly, twice, and after
 * more writes; the descriptor closed by free, and the spool usable again. */
static void test_spill(void **state)
{
	(void)state;
	char *dir = make_dir();
	int fds = count_fds();
	struct body_spool s;
	body_spool_init(&s, 1000, dir);
	write_pieces(&s, 0, 300000, 5000, 6, 1000);
	assert_true(body_spool_spilled(&s));
	assert_int_equal(body_spool_length(&s), 300000);
	assert_int_equal(body_spool_mem_bytes(&s), 0);
	assert_int_equal(count_fds(), fds + 1);
	assert_int_equal(dir_entries(dir), 0);
	char link[64], target[512];
	snprintf(link, sizeof link, "/proc/self/fd/%d", s.fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	assert_true(n > 0);
	target[n] = '\0';
	if (strncmp(target, dir, strlen(dir)) != 0 || !strstr(target, "(deleted)"))
		fail_msg("spool file is %s, not an unlinked file in %s", target, dir);
	assert_true(fcntl(s.fd, F_GETFD) & FD_CLOEXEC);
	replay_exact(&s, 300000);
	replay_exact(&s, 300000);
	write_pieces(&s, 300000, 70000, 9000, 7, 1000);
	replay_exact(&s, 370000);
	body_spool_free(&s);
	assert_int_equal(count_fds(), fds);
	/* Usable again, same limit and directory. */
	assert_int_equal(body_spool_length(&s), 0);
	write_pieces(&s, 0, 1500, 700, 8, 1000);
	assert_true(body_spool_spilled(&s));
	replay_exact(&s, 1500);
	body_spool_free(&s);
	assert_int_equal(count_fds(), fds);
	remove_dir(dir);
}

/* The default limit and a body of several megabytes: memory stays at the
 * limit at most; dir NULL means $TMPDIR. */
static void test_large_default(void **state)
{
	(void)state;
	char *dir = make_dir();
	const char *old = getenv("TMPDIR");
	char *saved = old ? strdup(old) : NULL;
	setenv("TMPDIR", dir, 1);
	struct body_spool s;
	body_spool_init(&s, BODY_SPOOL_MEM_DEFAULT, NULL);
	write_pieces(&s, 0, 6 * 1024 * 1024, 8192, 9, BODY_SPOOL_MEM_DEFAULT);
	assert_true(body_spool_spilled(&s));
	char link[64], target[512];
	snprintf(link, sizeof link, "/proc/self/fd/%d", s.fd);
	ssize_t n = readlink(link, target, sizeof target - 1);
	assert_true(n > 0);
	target[n] = '\0';
	assert_int_equal(strncmp(target, dir, strlen(dir)), 0);
	replay_exact(&s, 6 * 1024 * 1024);
	body_spool_free(&s);
	if (saved) {
		setenv("TMPDIR", saved, 1);
		free(saved);
	} else {
		unsetenv("TMPDIR");
	}
	remove_dir(dir);
}

/* The consumer stops a replay: its value comes back, from memory and
 * from the file, and the spool is still whole. */
static void test_replay_stopped(void **state)
{
	(void)state;
	char *dir = make_dir();
	for (int spilled = 0; spilled <= 1; spilled++) {
		struct body_spool s;
		body_spool_init(&s, spilled ? 100 : 1 << 20, dir);
		write_pieces(&s, 0, 200000, 4000, 10, spilled ? 100 : 1 << 20);
		assert_int_equal(body_spool_spilled(&s), spilled);
		struct check c = { .stop_after = 2, .stop_value = 7 };
		assert_int_equal(body_spool_replay(&s, check_fn, &c), 7);
		assert_int_equal(c.calls, 2);
		assert_false(c.bad);
		assert_true(c.got < 200000);
		assert_string_equal(body_spool_error(&s), "");
		replay_exact(&s, 200000);
		body_spool_free(&s);
	}
	remove_dir(dir);
}

/* No such directory: the write that spills fails with a reason naming it;
 * the failure sticks; nothing leaks. */
static void test_no_directory(void **state)
{
	(void)state;
	int fds = count_fds();
	struct body_spool s;
	body_spool_init(&s, 10, "/nonexistent/athttp-spool-test");
	unsigned char buf[64];
	fill(buf, 0, sizeof buf);
	assert_int_equal(body_spool_write(&s, buf, 10), 0);
	assert_int_equal(body_spool_write(&s, buf, 1), -1);
	const char *why = body_spool_error(&s);
	assert_non_null(strstr(why, "/nonexistent/athttp-spool-test"));
	assert_non_null(strstr(why, strerror(ENOENT)));
	assert_int_equal(s.err, ENOENT);
	/* Sticky: later calls fail with the same reason. */
	assert_int_equal(body_spool_write(&s, buf, 1), -1);
	assert_int_equal(body_spool_write(&s, buf, 0), -1);
	struct check c = { 0 };
	assert_int_equal(body_spool_replay(&s, check_fn, &c), -1);
	assert_int_equal(c.calls, 0);
	assert_non_null(strstr(body_spool_error(&s), "/nonexistent/athttp-spool-test"));
	body_spool_free(&s);
	assert_string_equal(body_spool_error(&s), "");
	assert_int_equal(count_fds(), fds);
}

/* The file refuses bytes (a file size limit, as a full disk would): the
 * write fails with the system's reason, at the spill and after it. */
static void test_write_refused(void **state)
{
	(void)state;
	char *dir = make_dir();
	int fds = count_fds();
	struct rlimit old;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	struct rlimit lim = { 4096, old.rlim_max };
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);

	unsigned char buf[3000];
	fill(buf, 0, sizeof buf);
	/* At the spill: memory holds more than the file may take. */
	struct body_spool s;
	body_spool_init(&s, 6000, dir);
	assert_int_equal(body_spool_write(&s, buf, 3000), 0);
	assert_int_equal(body_spool_write(&s, buf, 3000), 0);
	assert_int_equal(body_spool_write(&s, buf, 1), -1);
	assert_non_null(strstr(body_spool_error(&s), strerror(EFBIG)));
	body_spool_free(&s);
	/* After it. */
	body_spool_init(&s, 100, dir);
	assert_int_equal(body_spool_write(&s, buf, 3000), 0);
	assert_true(body_spool_spilled(&s));
	assert_int_equal(body_spool_write(&s, buf, 3000), -1);
	assert_int_equal(s.err, EFBIG);
	assert_int_equal(body_spool_write(&s, buf, 1), -1);
	body_spool_free(&s);

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(count_fds(), fds);
	remove_dir(dir);
}

/* The file cannot be read back: the replay fails with a reason. */
static void test_read_refused(void **state)
{
	(void)state;
	char *dir = make_dir();
	int fds = count_fds();
	struct body_spool s;
	body_spool_init(&s, 10, dir);
	write_pieces(&s, 0, 5000, 1000, 11, 10);
	assert_true(body_spool_spilled(&s));
	/* Put a write-only descriptor where the file was. */
	int wo = open("/dev/null", O_WRONLY | O_CLOEXEC);
	assert_true(wo >= 0);
	assert_true(dup2(wo, s.fd) == s.fd);
	close(wo);
	struct check c = { 0 };
	assert_int_equal(body_spool_replay(&s, check_fn, &c), -1);
	assert_int_equal(c.calls, 0);
	assert_non_null(strstr(body_spool_error(&s), "cannot read the response body back"));
	body_spool_free(&s);
	assert_int_equal(count_fds(), fds);
	remove_dir(dir);
}

/* Past 2 GB: the spool's file is made 2 GB long by a hole (sparse, so the
 * test neither writes nor stores the 2 GB), the spool is told it wrote
 * that much, and a tail written after it must come back after the hole.
 * With a 32-bit off_t in the spool, the replay's pread offset past 2^31
 * would go negative (EINVAL), and on a 32-bit kernel the write of the tail
 * would fail with EFBIG. */
#define HOLE_END ((1ULL << 31) + 12345)

struct past_2gb {
	unsigned long long got;
	bool bad;
};

/* Checks the head (byte_at from 0) and the tail (byte_at from 0 again, at
 * HOLE_END); the hole between is not looked at, to keep this cheap. */
static int past_2gb_fn(void *ctx, const void *data, size_t len)
{
	struct past_2gb *c = ctx;
	const unsigned char *p = data;
	for (size_t i = 0; i < len; i++) {
		unsigned long long at = c->got + i;
		if (at < 5000 && p[i] != byte_at((size_t)at))
			c->bad = true;
		if (at >= HOLE_END && p[i] != byte_at((size_t)(at - HOLE_END)))
			c->bad = true;
		if (at < 5000 || at >= HOLE_END)
			continue;
		/* In the hole: skip to its end within this piece. */
		unsigned long long end = c->got + len < HOLE_END ? c->got + len : HOLE_END;
		i = (size_t)(end - c->got) - 1;
	}
	c->got += len;
	return 0;
}

static void test_past_2gb(void **state)
{
	(void)state;
	_Static_assert(sizeof(off_t) == 8, "the test's own ftruncate and lseek need a 64-bit off_t");
	/* tmpfs reads a hole as the zero page: 2 GB of it in a tenth of a
	 * second, where ext4 fills the page cache for seconds. */
	char *dir = access("/dev/shm", W_OK | X_OK) == 0 ? make_dir_in("/dev/shm") : make_dir();
	int fds = count_fds();
	struct body_spool s;
	body_spool_init(&s, 10, dir);
	write_pieces(&s, 0, 5000, 1000, 13, 10);
	assert_true(body_spool_spilled(&s));
	assert_int_equal(ftruncate(s.fd, (off_t)HOLE_END), 0);
	assert_true(lseek(s.fd, 0, SEEK_END) == (off_t)HOLE_END);
	s.len = HOLE_END;
	unsigned char tail[5000];
	fill(tail, 0, sizeof tail);
	assert_int_equal(body_spool_write(&s, tail, sizeof tail), 0);
	assert_true(body_spool_length(&s) == HOLE_END + sizeof tail);
	struct past_2gb c = { 0 };
	assert_int_equal(body_spool_replay(&s, past_2gb_fn, &c), 0);
	assert_string_equal(body_spool_error(&s), "");
	assert_true(c.got == HOLE_END + sizeof tail);
	assert_false(c.bad);
	body_spool_free(&s);
	assert_int_equal(count_fds(), fds);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_memory),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_spill),
		cmocka_unit_test(test_large_default),
		cmocka_unit_test(test_replay_stopped),
		cmocka_unit_test(test_no_directory),
		cmocka_unit_test(test_write_refused),
		cmocka_unit_test(test_read_refused),
		cmocka_unit_test(test_past_2gb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
