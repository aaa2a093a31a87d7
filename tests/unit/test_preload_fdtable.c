/* The preload library's table of taken-over fds (preload/fdtable.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fdtable.h"

static int reset(void **state)
{
	(void)state;
	fdtable_reset();
	return 0;
}

static struct fd_app app_for(ino_t ino, unsigned port)
{
	struct fd_app app;
	memset(&app, 0, sizeof app);
	app.id.dev = 7;
	app.id.ino = ino;
	app.family = AF_INET;
	struct sockaddr_in *sin = (struct sockaddr_in *)&app.peer;
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)port);
	sin->sin_addr.s_addr = htonl(0xC6120001u);
	app.peer_len = sizeof *sin;
	return app;
}

static void kinds(void **state)
{
	(void)state;
	struct fd_app app = app_for(100, 80), got;
	struct fd_ident id = app.id;

	assert_int_equal(fdtable_kind(5), FD_NONE);
	assert_int_equal(fdtable_kind(-1), FD_NONE);
	assert_int_equal(fdtable_kind(INT32_MAX), FD_NONE);
	assert_false(fdtable_get_app(5, &id, &got));

	assert_int_equal(fdtable_set_app(5, &app), 0);
	assert_int_equal(fdtable_kind(5), FD_APP);
	assert_int_equal(fdtable_kind(4), FD_NONE);
	assert_int_equal(fdtable_kind(6), FD_NONE);
	memset(&got, 0, sizeof got);
	assert_true(fdtable_get_app(5, &id, &got));
	assert_int_equal(got.family, AF_INET);
	assert_int_equal(got.peer_len, sizeof(struct sockaddr_in));
	assert_memory_equal(&got.peer, &app.peer, sizeof(struct sockaddr_in));
	assert_true(fdtable_get_app(5, &id, NULL));

	errno = 0;
	assert_int_equal(fdtable_set_app(-3, &app), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(fdtable_set_app((int)FDT_MAX_FD, &app), -1);

	fdtable_drop(5);
	assert_int_equal(fdtable_kind(5), FD_NONE);
	assert_false(fdtable_get_app(5, &id, &got));
	fdtable_drop(5);       /* twice is fine */
	fdtable_drop(-1);
}

/* An entry whose socket was closed behind our back (fclose, closefrom) is
 * recognised by its identity and dropped. */
static void stale_entries(void **state)
{
	(void)state;
	struct fd_app app = app_for(100, 80);
	struct fd_ident other = { 7, 101 }, otherdev = { 8, 100 };

	assert_int_equal(fdtable_set_app(9, &app), 0);
	assert_false(fdtable_get_app(9, &otherdev, NULL));
	assert_int_equal(fdtable_kind(9), FD_NONE);   /* dropped */
	assert_false(fdtable_get_app(9, &app.id, NULL));

	assert_int_equal(fdtable_set_app(9, &app), 0);
	int v = 1;
	assert_int_equal(fdtable_setopt(9, &other, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v), -1);
	assert_int_equal(fdtable_kind(9), FD_NONE);

	/* A new connect on the same number replaces the old record. */
	assert_int_equal(fdtable_set_app(9, &app), 0);
	struct fd_app newer = app_for(102, 8080), got;
	assert_int_equal(fdtable_set_app(9, &newer), 0);
	assert_false(fdtable_get_app(9, &app.id, NULL));
	assert_int_equal(fdtable_set_app(9, &newer), 0);
	assert_true(fdtable_get_app(9, &newer.id, &got));
	assert_int_equal(ntohs(((struct sockaddr_in *)&got.peer)->sin_port), 8080);
}

static void socket_options(void **state)
{
	(void)state;
	struct fd_app app = app_for(200, 80);
	struct fd_ident id = app.id;
	int one = 1, v;
	socklen_t len;

	assert_int_equal(fdtable_setopt(3, &id, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), -1);
	assert_int_equal(fdtable_set_app(3, &app), 0);

	len = sizeof v;
	assert_int_equal(fdtable_getopt(3, &id, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	assert_int_equal(fdtable_setopt(3, &id, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), 0);
	v = 0;
	len = sizeof v;
	assert_int_equal(fdtable_getopt(3, &id, IPPROTO_TCP, TCP_NODELAY, &v, &len), 1);
	assert_int_equal(v, 1);
	assert_int_equal(len, sizeof v);
	/* Same name at another level is another option. */
	len = sizeof v;
	assert_int_equal(fdtable_getopt(3, &id, IPPROTO_IP, TCP_NODELAY, &v, &len), 0);

	/* Overwrite; truncating read. */
	int big = 0x01020304;
	assert_int_equal(fdtable_setopt(3, &id, IPPROTO_TCP, TCP_NODELAY, &big, sizeof big), 0);
	unsigned char c = 0;
	len = 1;
	assert_int_equal(fdtable_getopt(3, &id, IPPROTO_TCP, TCP_NODELAY, &c, &len), 1);
	assert_int_equal(len, 1);
	assert_memory_equal(&c, &big, 1);

	/* Too long to keep: accepted, forgotten. */
	unsigned char huge[FDT_OPT_MAX + 1] = { 0 };
	assert_int_equal(fdtable_setopt(3, &id, IPPROTO_TCP, TCP_NODELAY, huge, sizeof huge), 0);
	len = sizeof v;
	assert_int_equal(fdtable_getopt(3, &id, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);

	/* More options than slots: all accepted, the first ones kept. */
	for (int name = 100; name < 120; name++) {
		v = name;
		assert_int_equal(fdtable_setopt(3, &id, IPPROTO_IP, name, &v, sizeof v), 0);
	}
	len = sizeof v;
	assert_int_equal(fdtable_getopt(3, &id, IPPROTO_IP, 100, &v, &len), 1);
	assert_int_equal(v, 100);

	/* dup copies the record with its options; dup onto it from an fd
	 * that is not ours forgets it. */
	fdtable_dup(3, 12);
	assert_int_equal(fdtable_kind(12), FD_APP);
	len = sizeof v;
	assert_int_equal(fdtable_getopt(12, &id, IPPROTO_IP, 100, &v, &len), 1);
	fdtable_dup(40, 12);
	assert_int_equal(fdtable_kind(12), FD_NONE);
	fdtable_dup(3, 3);
	assert_int_equal(fdtable_kind(3), FD_APP);
}

static void ranges(void **state)
{
	(void)state;
	struct fd_app app = app_for(300, 80);
	int fds[] = { 0, 3, 4095, 4096, 4097, 10000, 70000 };
	for (size_t i = 0; i < sizeof fds / sizeof *fds; i++)
		assert_int_equal(fdtable_set_app(fds[i], &app), 0);

	fdtable_drop_range(4095, 4096);      /* across a page boundary */
	assert_int_equal(fdtable_kind(3), FD_APP);
	assert_int_equal(fdtable_kind(4095), FD_NONE);
	assert_int_equal(fdtable_kind(4096), FD_NONE);
	assert_int_equal(fdtable_kind(4097), FD_APP);

	fdtable_drop_range(5, 4);            /* empty */
	assert_int_equal(fdtable_kind(4097), FD_APP);

	fdtable_drop_range(4, ~0U);          /* closefrom(4) */
	assert_int_equal(fdtable_kind(0), FD_APP);
	assert_int_equal(fdtable_kind(3), FD_APP);
	assert_int_equal(fdtable_kind(4097), FD_NONE);
	assert_int_equal(fdtable_kind(10000), FD_NONE);
	assert_int_equal(fdtable_kind(70000), FD_NONE);
}

static int drained[8], ndrained;
static void on_engine(int fd, const struct fd_ident *id, void *ctx)
{
	assert_ptr_equal(ctx, &ndrained);
	assert_int_equal(id->ino, 1000 + fd);
	if (ndrained < 8)
		drained[ndrained] = fd;
	ndrained++;
}

static void engine_ends(void **state)
{
	(void)state;
	struct fd_ident e20 = { 7, 1020 }, e21 = { 7, 1021 }, e5000 = { 7, 6000 };
	struct fd_app app = app_for(400, 80);

	assert_int_equal(fdtable_set_engine(20, &e20), 0);
	assert_int_equal(fdtable_set_engine(21, &e21), 0);
	assert_int_equal(fdtable_set_engine(5000, &e5000), 0);
	assert_int_equal(fdtable_set_app(22, &app), 0);
	assert_int_equal(fdtable_kind(20), FD_ENGINE);
	/* An engine end is no program socket. */
	assert_false(fdtable_get_app(20, &e20, NULL));
	assert_int_equal(fdtable_kind(20), FD_ENGINE);

	/* Only the same socket is forgotten, not a later reuse. */
	fdtable_drop_engine_if(21, &e20);
	assert_int_equal(fdtable_kind(21), FD_ENGINE);
	fdtable_drop_engine_if(21, &e21);
	assert_int_equal(fdtable_kind(21), FD_NONE);
	fdtable_drop_engine_if(22, &app.id); /* a program socket stays */
	assert_int_equal(fdtable_kind(22), FD_APP);

	ndrained = 0;
	fdtable_drain_engines(on_engine, &ndrained);
	assert_int_equal(ndrained, 2);
	assert_int_equal(drained[0], 20);
	assert_int_equal(drained[1], 5000);
	assert_int_equal(fdtable_kind(20), FD_NONE);
	assert_int_equal(fdtable_kind(5000), FD_NONE);
	assert_int_equal(fdtable_kind(22), FD_APP);
	ndrained = 0;
	fdtable_drain_engines(on_engine, &ndrained);
	assert_int_equal(ndrained, 0);
}

static void fork_handlers(void **state)
{
	(void)state;
	struct fd_app app = app_for(500, 80);
	assert_int_equal(fdtable_set_app(30, &app), 0);
	fdtable_fork_prepare();
	fdtable_fork_child();   /* as in the child: the lock is made anew */
	assert_true(fdtable_get_app(30, &app.id, NULL));
	fdtable_fork_prepare();
	fdtable_fork_parent();
	fdtable_drop(30);
	assert_int_equal(fdtable_kind(30), FD_NONE);
}

/* What close_range() and closefrom() keep: the engine's ends and its own
 * descriptors, lowest first, across pages; never the program's sockets. */
static void kept_fds(void **state)
{
	(void)state;
	struct fd_ident a = { 7, 100 }, b = { 7, 101 }, got;
	struct fd_app app = app_for(102, 80);

	assert_int_equal(fdtable_next_kept(0, ~0U, &got), -1);
	assert_int_equal(fdtable_set_app(5, &app), 0);
	assert_int_equal(fdtable_next_kept(0, ~0U, &got), -1);
	assert_int_equal(fdtable_set_engine(9, &a), 0);
	assert_int_equal(fdtable_set_private(FDT_PAGE_SIZE + 3, &b), 0);
	assert_int_equal(fdtable_kind(FDT_PAGE_SIZE + 3), FD_PRIVATE);

	assert_int_equal(fdtable_next_kept(3, ~0U, &got), 9);
	assert_true(got.dev == a.dev && got.ino == a.ino);
	assert_int_equal(fdtable_next_kept(10, ~0U, &got), FDT_PAGE_SIZE + 3);
	assert_true(got.ino == b.ino);
	assert_int_equal(fdtable_next_kept(10, FDT_PAGE_SIZE + 2, &got), -1);
	assert_int_equal(fdtable_next_kept(FDT_PAGE_SIZE + 4, ~0U, &got), -1);
	assert_int_equal(fdtable_next_kept(9, 9, &got), 9);

	fdtable_drop(9);
	assert_int_equal(fdtable_next_kept(0, ~0U, &got), FDT_PAGE_SIZE + 3);
	/* A forked child's drain closes engine ends only. */
	fdtable_drain_engines(on_engine, NULL);
	assert_int_equal(fdtable_kind(FDT_PAGE_SIZE + 3), FD_PRIVATE);
}

/* The table belongs to the process that loaded it, and after fork() to
 * the child; a vfork child (another pid, no fork handlers) must not
 * change it. */
static void owner_process(void **state)
{
	(void)state;
	assert_true(fdtable_owns_process());
	pid_t pid = vfork();
	if (pid == 0)
		_exit(fdtable_owns_process() ? 1 : 0);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	pid = fork();
	if (pid == 0) {
		fdtable_fork_child();
		_exit(fdtable_owns_process() ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_true(fdtable_owns_process());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(kinds, reset),
		cmocka_unit_test_setup(stale_entries, reset),
		cmocka_unit_test_setup(socket_options, reset),
		cmocka_unit_test_setup(ranges, reset),
		cmocka_unit_test_setup(engine_ends, reset),
		cmocka_unit_test_setup(fork_handlers, reset),
		cmocka_unit_test_setup(kept_fds, reset),
		cmocka_unit_test_setup(owner_process, reset),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	fdtable_reset();
	return rc;
}
