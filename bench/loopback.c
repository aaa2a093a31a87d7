/*
 * bench/loopback — what the preload library costs on traffic it does not
 * take.  An echo server thread listens on 127.0.0.1; the main thread does
 * ROUNDS rounds of socket/connect/write/read/close against it and prints
 *
 *   loopback: <rounds> rounds in <ms> ms (<us> us/round)
 *
 * Run it with and without LD_PRELOAD=libathttp-preload.so and compare.
 * usage: loopback [ROUNDS]   (default 1000)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MSG 64

static int lfd;

static void die(const char *what)
{
	fprintf(stderr, "loopback: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *server(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR)
				continue;
			die("accept");
		}
		char buf[512];
		ssize_t n;
		while ((n = read(c, buf, sizeof buf)) > 0) {
			ssize_t off = 0;
			while (off < n) {
				ssize_t w = write(c, buf + off, (size_t)(n - off));
				if (w < 0) {
					if (errno == EINTR)
						continue;
					break;
				}
				off += w;
			}
		}
		close(c);
	}
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	long rounds = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
	if (rounds <= 0)
		rounds = 1000;

	struct sockaddr_in sa;
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t sl = sizeof sa;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("bind");
	if (listen(lfd, 64) < 0)
		die("listen");
	if (getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		die("getsockname");

	pthread_t th;
	if (pthread_create(&th, NULL, server, NULL) != 0)
		die("pthread_create");

	char out[MSG], in[MSG];
	for (int i = 0; i < MSG; i++)
		out[i] = (char)('a' + i % 26);

	double t0 = now_ms();
	for (long r = 0; r < rounds; r++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			die("socket");
		setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
			die("connect");
		if (write(s, out, MSG) != MSG)
			die("write");
		size_t got = 0;
		while (got < MSG) {
			ssize_t n = read(s, in + got, MSG - got);
			if (n <= 0)
				die("read");
			got += (size_t)n;
		}
		if (memcmp(in, out, MSG) != 0) {
			fprintf(stderr, "loopback: echo mismatch in round %ld\n", r);
			return 1;
		}
		close(s);
	}
	double ms = now_ms() - t0;
	printf("loopback: %ld rounds in %.3f ms (%.2f us/round)\n", rounds, ms,
	       ms * 1e3 / (double)rounds);
	return 0;
}
