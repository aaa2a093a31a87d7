/*
 * athttpd: owns one module, brings it up once and serves many programs
 * over a Unix socket.  Settings: the config files (config_load), their
 * ATHTTP_<KEY> twins, then the command line.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "athttpd.h"
#include "daemon_proto.h"
#include "dialect.h"
#include "identify.h"
#include "modem.h"
#include "netup.h"

#define DEFAULT_CA_DIR "/var/lib/athttp/ca"
#define DEFAULT_PROBE_MS 30000
#define DEFAULT_MAX_CLIENTS 64
#define DEFAULT_SEND_TIMEOUT_MS 30000
#define SHUTDOWN_CLIENTS_MS 10000

/* What the command line said; NULL/0: not given. */
struct flags {
	const char *device, *modem, *config, *socket;
	int baud;
	bool foreground, verbose;
	int probe_ms, max_clients, send_timeout_ms;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: athttpd [-d DEVICE] [-m MODEM|auto] [-c CONFIG] [--socket PATH] [-f] [-b BAUD]\n"
		"               [-v] [--probe-ms MS] [--max-clients N] [--send-timeout-ms MS] [-h]\n"
		"  -d, --device DEVICE     the module's serial port (ATHTTP_DEVICE)\n"
		"  -m, --modem MODEM|auto  its dialect, or auto to identify it (ATHTTP_MODEM)\n"
		"  -c, --config FILE       read only this config file\n"
		"  --socket PATH           the socket to serve (ATHTTP_SOCKET; default\n"
		"                          " DAEMON_RUN_DIR "/<device name>.sock)\n"
		"  -f, --foreground        stay in the foreground, log to stderr (else syslog)\n"
		"  -b, --baud BAUD         the port's speed (ATHTTP_BAUD)\n"
		"  -v, --verbose           log more, and trace the AT conversation to stderr\n"
		"  --probe-ms MS           idle health probe interval (default 30000)\n"
		"  --max-clients N         connections served at once (default 64)\n"
		"  --send-timeout-ms MS    a client that reads nothing for MS is dropped (default 30000)\n"
		"  -h, --help              this help\n");
}

static int positive(const char *s, int max)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	return *s && !*end && !errno && v > 0 && v <= max ? (int)v : -1;
}

static int parse_flags(int argc, char **argv, struct flags *f)
{
	enum { O_SOCKET = 256, O_PROBE, O_MAXCL, O_SNDTMO };
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "modem", required_argument, NULL, 'm' },
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, O_SOCKET },
		{ "foreground", no_argument, NULL, 'f' },
		{ "baud", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "probe-ms", required_argument, NULL, O_PROBE },
		{ "max-clients", required_argument, NULL, O_MAXCL },
		{ "send-timeout-ms", required_argument, NULL, O_SNDTMO },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	*f = (struct flags){ 0 };
	int c;
	while ((c = getopt_long(argc, argv, "d:m:c:fb:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': f->device = optarg; break;
		case 'm': f->modem = optarg; break;
		case 'c': f->config = optarg; break;
		case O_SOCKET: f->socket = optarg; break;
		case 'f': f->foreground = true; break;
		case 'v': f->verbose = true; break;
		case 'h': usage(stdout); exit(0);
		case 'b':
			if ((f->baud = positive(optarg, 4000000)) < 0)
				goto bad;
			break;
		case O_PROBE:
			if ((f->probe_ms = positive(optarg, 86400000)) < 0)
				goto bad;
			break;
		case O_MAXCL:
			if ((f->max_clients = positive(optarg, 1000)) < 0)
				goto bad;
			break;
		case O_SNDTMO:
			if ((f->send_timeout_ms = positive(optarg, 3600000)) < 0)
				goto bad;
			break;
		default:
			goto bad_usage;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "athttpd: unexpected argument '%s'\n", argv[optind]);
		goto bad_usage;
	}
	return 0;
bad:
	fprintf(stderr, "athttpd: bad value '%s'\n", optarg);
bad_usage:
	usage(stderr);
	return -1;
}

static int set_str(char **dst, const char *v)
{
	if (!v)
		return 0;
	char *c = strdup(v);
	if (!c)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

/* Files, then the environment, then the flags. */
static int load_settings(struct athttp_settings *s, const struct flags *f, char *err, size_t errlen)
{
	config_init(s);
	if (config_load(s, f->config, err, errlen) != 0 || config_from_env(s, err, errlen) != 0)
		return -1;
	if (set_str(&s->device, f->device) || set_str(&s->modem, f->modem) ||
	    set_str(&s->socket, f->socket)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (f->baud)
		s->baud = f->baud;
	if (f->verbose)
		s->verbose = 1;
	if (!s->device || !*s->device) {
		snprintf(err, errlen, "no device: -d DEVICE, ATHTTP_DEVICE or device = in the config");
		return -1;
	}
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A socket someone answers on is another daemon's; one nobody answers on
 * was left by a daemon that died, and goes. */
static int make_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		dlog(LOG_ERR, "socket path too long: %s", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	char dir[sizeof sa.sun_path];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++)
			if (*p == '/') {
				*p = '\0';
				mkdir(dir, 0755);
				*p = '/';
			}
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			dlog(LOG_ERR, "cannot create %s: %m", dir);
			return -1;
		}
	}
	int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (probe >= 0 && connect(probe, (struct sockaddr *)&sa, sizeof sa) == 0) {
		close(probe);
		dlog(LOG_ERR, "another athttpd serves %s", path);
		return -1;
	}
	if (probe >= 0)
		close(probe);
	unlink(path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		dlog(LOG_ERR, "socket: %m");
		return -1;
	}
	mode_t old = umask(0117);
	int rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc != 0 || chmod(path, 0660) != 0 || listen(fd, 64) != 0) {
		dlog(LOG_ERR, "cannot serve %s: %m", path);
		close(fd);
		return -1;
	}
	return fd;
}

static void reload(struct daemon *dm, const struct flags *f, const struct athttp_settings *cur)
{
	struct athttp_settings s;
	char err[600];
	if (load_settings(&s, f, err, sizeof err) != 0) {
		dlog(LOG_ERR, "SIGHUP: config not reloaded: %s", err);
		config_free(&s);
		return;
	}
	struct allow_list al;
	if (allow_list_parse(&al, s.allow_users, s.allow_groups, err, sizeof err) != 0) {
		dlog(LOG_ERR, "SIGHUP: config not reloaded: %s", err);
		config_free(&s);
		return;
	}
	pthread_mutex_lock(&dm->mu);
	allow_list_free(&dm->allow);
	dm->allow = al;
	pthread_mutex_unlock(&dm->mu);
	modem_set_timeout(dm->m, s.timeout_ms);
	if (!same(s.device, cur->device) || !same(s.modem, cur->modem) || s.baud != cur->baud)
		dlog(LOG_WARNING, "SIGHUP: device, modem or baud changed: takes a restart of athttpd");
	if (!same(s.trace, cur->trace) || !same(s.socket, cur->socket) ||
	    !same(s.pin, cur->pin) || !same(s.apn, cur->apn) || !same(s.wifi_ssid, cur->wifi_ssid))
		dlog(LOG_WARNING, "SIGHUP: trace, socket or network settings changed: take a restart");
	dlog(LOG_INFO, "SIGHUP: config reloaded (allow lists, timeout_ms)");
	config_free(&s);
}

int main(int argc, char **argv)
{
	struct flags f;
	if (parse_flags(argc, argv, &f) != 0)
		return 2;
	dlog_open(f.foreground, f.verbose);

	struct athttp_settings s;
	char err[600];
	if (load_settings(&s, &f, err, sizeof err) != 0) {
		dlog(LOG_ERR, "%s", err);
		config_free(&s);
		return 1;
	}
	static struct daemon dm;
	pthread_mutex_init(&dm.mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&dm.cv, &ca);
	pthread_condattr_destroy(&ca);
	for (size_t i = 0; i < sizeof dm.fds / sizeof dm.fds[0]; i++)
		dm.fds[i] = -1;
	dm.probe_ms = f.probe_ms ? f.probe_ms : DEFAULT_PROBE_MS;
	dm.max_clients = f.max_clients ? f.max_clients : DEFAULT_MAX_CLIENTS;
	dm.send_timeout_ms = f.send_timeout_ms ? f.send_timeout_ms : DEFAULT_SEND_TIMEOUT_MS;
	dm.started = time(NULL);
	if (allow_list_parse(&dm.allow, s.allow_users, s.allow_groups, err, sizeof err) != 0) {
		dlog(LOG_ERR, "%s", err);
		config_free(&s);
		return 1;
	}

	const char *modem = s.modem;
	if (modem && strcmp(modem, "auto") == 0) {
		char found[300];
		struct ath_error ierr;
		ath_error_clear(&ierr);
		const struct dialect *d = identify_device(s.device, s.baud, s.rtscts > 0, found,
							  sizeof found, &ierr);
		if (!d) {
			dlog(LOG_ERR, "%s: -m auto: %s", s.device, ierr.text);
			config_free(&s);
			return 1;
		}
		dlog(LOG_INFO, "%s: found %s", s.device, found);
		modem = d->name;
	}
	struct athttp_config cfg = {
		.device = s.device,
		.modem = modem,
		.baud = s.baud,
		.rtscts = s.rtscts > 0,
		.trace = s.trace,
		.verbose = s.verbose > 0,
		.timeout_ms = s.timeout_ms,
		.module_ca = s.module_ca,
		.insecure_upstream = s.insecure_upstream > 0,
		.ca_dir = s.ca_dir ? s.ca_dir : DEFAULT_CA_DIR,
	};
	athttp_modem *m = athttp_open(&cfg, err, sizeof err);
	if (!m) {
		dlog(LOG_ERR, "%s", err);
		config_free(&s);
		return 1;
	}
	dm.m = m;
	struct netup_config nc;
	config_netup(&s, &nc);
	if (modem_set_netup(m, &nc) != 0) {
		dlog(LOG_ERR, "out of memory");
		return 1;
	}
	modem_set_persistent(m, true);

	char path[300];
	if (s.socket)
		snprintf(path, sizeof path, "%s", s.socket);
	else if (daemon_default_socket(s.device, path, sizeof path) != 0) {
		dlog(LOG_ERR, "no default socket for %s: give --socket", s.device);
		return 1;
	}
	dm.socket_path = path;

	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	int lfd = make_socket(path);
	if (sfd < 0 || lfd < 0) {
		athttp_close(m);
		config_free(&s);
		return 1;
	}
	dlog(LOG_INFO, "serving %s on %s (%s)", s.device, path, modem_dialect(m)->name);
	if (health_start(&dm) != 0) {
		dlog(LOG_ERR, "cannot start the health thread");
		return 1;
	}

	for (;;) {
		struct pollfd p[2] = { { .fd = lfd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			dlog(LOG_ERR, "poll: %m");
			break;
		}
		if (p[1].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo == SIGHUP) {
				reload(&dm, &f, &s);
				continue;
			}
			dlog(LOG_INFO, "%s: shutting down", strsignal((int)si.ssi_signo));
			break;
		}
		if (p[0].revents & POLLIN) {
			int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (c >= 0)
				daemon_accept(&dm, c);
			else if (errno == EMFILE || errno == ENFILE)
				poll(NULL, 0, 100);   /* let connections end, then try again */
		}
	}
	/* Stop accepting; the socket goes at once, so a program started now
	 * runs the engine in process (or waits for the next daemon). */
	close(lfd);
	unlink(path);
	/* Requests queued for the module are answered 503 now; the one on
	 * the line finishes within the wait below. */
	modem_stop_queue(m);
	health_stop(&dm);
	int left = daemon_drain_clients(&dm, SHUTDOWN_CLIENTS_MS);
	modem_shutdown(m);
	if (left) {
		/* Their threads still use the module: exit without freeing it. */
		dlog(LOG_WARNING, "%d connections still open at exit", left);
		return 0;
	}
	athttp_close(m);
	allow_list_free(&dm.allow);
	config_free(&s);
	close(sfd);
	dlog(LOG_INFO, "stopped");
	return 0;
}
