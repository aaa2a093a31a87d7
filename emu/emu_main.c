/*
 * athttp-emu: command line, the pty, the event loop, and the paced writer
 * that makes the pty behave like a serial line of a given baud rate.
 */
#include "emu.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

/* --baud's upper bound; the pacing arithmetic below relies on it. */
#define EMU_MAX_BAUD 100000000ul

/* Every module family DESIGN.md names; NULL: not emulated yet. */
static const struct {
	const char *name;
	const struct emu_dialect *dialect;
} dialects[] = {
	{ "simcom", &emu_simcom },
	{ "neoway", &emu_neoway },
	{ "httpcfg", &emu_httpcfg },
	{ "quectel", &emu_quectel },
	{ "onemo", &emu_onemo },
	{ "espat", &emu_espat },
};

static void usage(FILE *to)
{
	fputs("usage: athttp-emu -m MODEM --link PATH [--route HOST[:PORT]=IP:PORT]...\n"
	      "                  [--baud N] [--latency-ms N] [--variant NAME]\n"
	      "                  [--max-body N] [--chunked-zero-len] [--log FILE]\n"
	      "                  [--model NAME]\n"
	      "                  [--cold] [--sim-pin PIN] [--register-ms MS]\n"
	      "                  [--no-network | --reg-denied] [--apn APN]\n"
	      "                  [--wifi SSID:PASSWORD] [--fault KIND:ARGS]...\n"
	      "                  [--cmd-latency NAME=MS]... [--chaos SEED]\n"
	      "Pretends to be a cellular module that speaks AT HTTP commands, on a\n"
	      "pty linked at PATH; prints \"READY <pty>\" once it serves.\n"
	      "  -m, --modem MODEM    ", to);
	/* From the table -m is looked up in, so the two cannot disagree. */
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++)
		fprintf(to, "%s%s", i ? ", " : "", dialects[i].name);
	fputs("\n"
	      "  --link PATH          symlink to create (an existing symlink is replaced)\n"
	      "  --route H[:P]=IP:P   send requests for host H (port P, or any port)\n"
	      "                       to IP:P instead of resolving H\n"
	      "  --baud N             limit output to N/10 bytes/s, like a UART (8N1)\n"
	      "  --strict-baud        with --baud: a host whose side of the pty is set to\n"
	      "                       another speed gets garbage and is not understood\n"
	      "  --latency-ms N       delay every response and URC by N ms\n"
	      "  --variant NAME       firmware variant: simcom: sim7600 (default), a76xx,\n"
	      "                       nosni (no AT+CSSLCFG=\"enableSNI\", no SNI sent),\n"
	      "                       nocertdown (no AT+CCERTDOWN);\n"
	      "                       neoway: n58 (default, \"+HTTPRECV: \"), compact\n"
	      "                       (\"+HTTPRECV:\", \"+HTTPACTION:SOCKET ID OPEN FAILED\"),\n"
	      "                       nohttps (every AT+HTTPS* is ERROR), nosni (TLS\n"
	      "                       without server_name);\n"
	      "                       httpcfg, quectel: manual (default), timeout-code\n"
	      "                       (+HTTPGET: 702 for TIMEOUT), raw-chunked (HTTPREAD\n"
	      "                       keeps a chunked body's framing), table12 (HTTPREAD\n"
	      "                       ends with +HTTPREAD: 0 and no OK), sni-off (SSL\n"
	      "                       \"sni\" 0 until set), no-upload (no AT+QFUPL: no CA\n"
	      "                       can be loaded), no-seclevel (\"seclevel\" 1 and 2\n"
	      "                       refused: no server verification);\n"
	      "                       onemo: manual (default), split-urc (\"+MHTTPURC:\"\n"
	      "                       alone on a line), nospace (+MHTTPCREATE:0), slots2\n"
	      "                       (2 instances), frag512 (512-byte \"content\" pieces),\n"
	      "                       ind-nocrlf (chunked mode's \"ind\" ends no line),\n"
	      "                       noauth (AT+MSSLCFG=\"auth\" answers ERROR: no server\n"
	      "                       verification), nosni (AT+MSSLCFG=\"sni\" answers\n"
	      "                       ERROR, no SNI ever sent);\n"
	      "                       espat: espressif (default, +HTTPCLIENT:<n>,<data>,\n"
	      "                       ERROR for status >= 400, CA by AT+HTTPCERT), beken\n"
	      "                       (+HTTPCLIENT:<T>,<data> with the brackets, T the whole\n"
	      "                       length, data cut at NUL; nothing for status outside\n"
	      "                       200-399; no certificate command: https unverified),\n"
	      "                       httpscert (espressif, CA by AT+HTTPSCERT only)\n"
	      "  --max-body N         fail responses whose body exceeds N bytes\n"
	      "                       (simcom 706, httpcfg/quectel 729, onemo \"err\" 8,\n"
	      "                       espat ERROR)\n"
	      "  --chunked-zero-len   report datalen 0 for chunked responses\n"
	      "  --model NAME         onemo: the model AT+CGMM names, whose limits apply:\n"
	      "                       ML307G (the first: 3 x 4096 content and 4096 header\n"
	      "                       bytes a request), ML307R, ML307A, ML307S, ML302A,\n"
	      "                       ML302S, ML305A, ML305U, ML305M (no totals)\n"
	      "  --log FILE           append every received command and data phase\n"
	      "  --cold               powered on just now: no PDP context defined or\n"
	      "                       active, WiFi off (AT+CWMODE 0) and not joined\n"
	      "                       (default: a warm module, on the network)\n"
	      "  --sim-pin PIN        the SIM asks for PIN (AT+CPIN=\"PIN\") first\n"
	      "  --register-ms MS     registration takes MS from power-on or the PIN\n"
	      "  --no-network         registration never completes (searching);\n"
	      "                       espat: every join times out\n"
	      "  --reg-denied         registration denied (stat 3)\n"
	      "  --apn APN            the only APN activation accepts (default internet)\n"
	      "  --wifi SSID:PASSWORD espat: the one access point (athttp-emu:athttp-emu)\n"
	      "  --fault KIND:ARGS    a fault on the N-th HTTP request (N 0: on every one;\n"
	      "                       B counts output bytes since its action command);\n"
	      "                       repeatable, the kinds combine:\n"
	      "    reset:N:B          after B bytes the module resets (RDY; espat: ready;\n"
	      "                       N from 1)\n"
	      "    silence:N:B:MS     after B bytes, nothing for MS ms, then the rest\n"
	      "    noise:N:B:K        after B bytes, K bytes of line noise (the same every\n"
	      "                       run), inside length-counted data too\n"
	      "    error:N            the origin is unreachable (an open link breaks): the\n"
	      "                       request fails in the dialect's error form\n"
	      "    origin-close:N:B   the origin closes after B bytes of its response\n"
	      "    urc:N:K            K URCs (+CREG: 1, +CMTI, RING ...; espat: station\n"
	      "                       reports) at line boundaries, never inside data\n"
	      "    trickle:N:MS       every output byte MS ms after the one before\n"
	      "  --cmd-latency NAME=MS that command's (e.g. +HTTPINIT) final result comes\n"
	      "                       MS later; repeatable\n"
	      "  --chaos SEED         split all output at random points (seeded, not 0)\n"
	      "                       into pieces written up to 200 us apart\n"
	      "  -h, --help           this text\n", to);
}

static _Noreturn void bad_usage(const char *why, const char *what)
{
	if (why)
		fprintf(stderr, "athttp-emu: %s%s%s\n", why, what ? ": " : "",
			what ? what : "");
	usage(stderr);
	exit(2);
}

/* ------------------------------------------------------------ arguments */

/* The termios speed for a baud rate; B0 for none. */
static speed_t speed_of(unsigned long baud)
{
	static const struct { unsigned long baud; speed_t speed; } table[] = {
		{ 9600, B9600 }, { 19200, B19200 }, { 38400, B38400 }, { 57600, B57600 },
		{ 115200, B115200 }, { 230400, B230400 }, { 460800, B460800 },
		{ 921600, B921600 }, { 1000000, B1000000 }, { 2000000, B2000000 },
		{ 3000000, B3000000 }, { 4000000, B4000000 },
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].baud == baud)
			return table[i].speed;
	return B0;
}

static unsigned long parse_number(const char *s, unsigned long max,
				  const char *opt)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (!*s || *s == '-' || *s == '+' || *end || errno || v > max)
		bad_usage("bad number for", opt);
	return v;
}

/* "host", "host:port", "[v6]" or "[v6]:port"; port < 0 if absent. */
static int split_host_port(char *s, char **host, int *port)
{
	char *colon;

	*port = -1;
	if (*s == '[') {
		char *close = strchr(s, ']');

		if (!close)
			return -1;
		*close = '\0';
		*host = s + 1;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (!colon && close[1])
			return -1;
	} else {
		*host = s;
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return -1;	/* a bare IPv6 address needs [] */
	}
	if (colon) {
		char *end;
		long p;

		*colon = '\0';
		errno = 0;
		p = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || errno || p < 1 || p > 65535)
			return -1;
		*port = (int)p;
	}
	return **host ? 0 : -1;
}

static void parse_route(const char *spec, struct emu_config *cfg)
{
	char *copy = emu_strndup(spec, strlen(spec));
	char *eq = strchr(copy, '=');
	char *host, *ip;
	int port, ip_port;
	struct emu_route r = { 0 };
	struct sockaddr_in *v4 = (struct sockaddr_in *)&r.addr;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&r.addr;

	if (!eq)
		goto bad;
	*eq = '\0';
	if (split_host_port(copy, &host, &port) < 0 ||
	    split_host_port(eq + 1, &ip, &ip_port) < 0 || ip_port < 0)
		goto bad;
	if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)ip_port);
		r.addrlen = sizeof(*v4);
	} else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)ip_port);
		r.addrlen = sizeof(*v6);
	} else {
		goto bad;
	}
	r.host = emu_strndup(host, strlen(host));
	r.port = port;
	free(copy);
	cfg->routes = realloc(cfg->routes, (cfg->nroutes + 1) * sizeof(r));
	if (!cfg->routes)
		abort();
	cfg->routes[cfg->nroutes++] = r;
	return;
bad:
	free(copy);
	bad_usage("bad --route (HOST[:PORT]=IP:PORT)", spec);
}

/* --fault KIND:ARGS.  Each kind's arguments are numbers separated by
 * colons, in the order its fields list them: N, then B, K or MS. */
enum fault_field { F_END, F_REQUEST, F_AFTER, F_COUNT, F_MS };

static const struct {
	const char *kind;
	enum emu_fault_kind id;
	enum fault_field fields[4];
	bool every;			/* N 0 (every request) allowed */
	const char *syntax;
} fault_kinds[] = {
	{ "reset", EMU_FAULT_RESET, { F_REQUEST, F_AFTER }, false, "reset:N:B" },
	{ "silence", EMU_FAULT_SILENCE, { F_REQUEST, F_AFTER, F_MS }, true,
	  "silence:N:B:MS" },
	{ "noise", EMU_FAULT_NOISE, { F_REQUEST, F_AFTER, F_COUNT }, true,
	  "noise:N:B:K" },
	{ "error", EMU_FAULT_ERROR, { F_REQUEST }, true, "error:N" },
	{ "origin-close", EMU_FAULT_ORIGIN_CLOSE, { F_REQUEST, F_AFTER }, true,
	  "origin-close:N:B" },
	{ "urc", EMU_FAULT_URC, { F_REQUEST, F_COUNT }, true, "urc:N:K" },
	{ "trickle", EMU_FAULT_TRICKLE, { F_REQUEST, F_MS }, true,
	  "trickle:N:MS" },
};

#define FAULT_KINDS "reset:N:B, silence:N:B:MS, noise:N:B:K, error:N, " \
		    "origin-close:N:B, urc:N:K, trickle:N:MS"

static bool parse_fault_args(const char *args, size_t k, struct emu_fault *f)
{
	for (size_t i = 0; i < 4 && fault_kinds[k].fields[i] != F_END; i++) {
		char *end;
		unsigned long v;

		if (i > 0 && *args++ != ':')
			return false;
		if (!isdigit((unsigned char)*args))
			return false;
		errno = 0;
		v = strtoul(args, &end, 10);
		if (errno)
			return false;
		args = end;
		switch (fault_kinds[k].fields[i]) {
		case F_REQUEST:
			if (v == 0 && !fault_kinds[k].every)
				return false;
			f->request = v;
			break;
		case F_AFTER:
			f->after = v;
			break;
		case F_COUNT:
			if (v == 0 || v > 1000000)
				return false;
			f->count = v;
			break;
		case F_MS:
			if (v == 0 || v > 3600000)
				return false;
			f->ms = (unsigned)v;
			break;
		case F_END:
			break;
		}
	}
	return !*args;
}

static void parse_fault(const char *spec, struct emu_config *cfg)
{
	const char *colon = strchr(spec, ':');
	struct emu_fault f = { 0 };

	for (size_t i = 0; colon && i < sizeof(fault_kinds) / sizeof(fault_kinds[0]); i++) {
		if (strlen(fault_kinds[i].kind) != (size_t)(colon - spec) ||
		    strncmp(fault_kinds[i].kind, spec, (size_t)(colon - spec)))
			continue;
		f.kind = fault_kinds[i].id;
		if (!parse_fault_args(colon + 1, i, &f))
			bad_usage("bad --fault, expected", fault_kinds[i].syntax);
		cfg->faults = realloc(cfg->faults, (cfg->nfaults + 1) * sizeof(f));
		if (!cfg->faults)
			abort();
		cfg->faults[cfg->nfaults++] = f;
		return;
	}
	bad_usage("unknown --fault kind (" FAULT_KINDS ")", spec);
}

/* NAME=MS; NAME as the command is written after AT, upper-cased as the
 * parser names it (+HTTPINIT, +CGACT, I). */
static void parse_cmd_latency(const char *spec, struct emu_config *cfg)
{
	const char *eq = strchr(spec, '=');
	struct emu_cmd_latency l;

	if (!eq || eq == spec)
		bad_usage("bad --cmd-latency (NAME=MS)", spec);
	l.ms = (unsigned)parse_number(eq + 1, 3600000, "--cmd-latency");
	l.name = emu_strndup(spec, (size_t)(eq - spec));
	for (char *p = l.name; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	cfg->cmd_latency = realloc(cfg->cmd_latency,
				   (cfg->ncmd_latency + 1) * sizeof(l));
	if (!cfg->cmd_latency)
		abort();
	cfg->cmd_latency[cfg->ncmd_latency++] = l;
}

static const struct emu_dialect *parse_args(int argc, char **argv,
					    struct emu_config *cfg)
{
	enum { O_LINK = 256, O_ROUTE, O_BAUD, O_LATENCY, O_VARIANT,
	       O_MAX_BODY, O_CHUNKED_ZERO, O_LOG, O_STRICT_BAUD, O_MODEL, O_COLD,
	       O_SIM_PIN, O_REGISTER_MS, O_NO_NETWORK, O_REG_DENIED, O_APN,
	       O_WIFI, O_FAULT, O_CMD_LATENCY, O_CHAOS };
	static const struct option options[] = {
		{ "modem", required_argument, NULL, 'm' },
		{ "link", required_argument, NULL, O_LINK },
		{ "route", required_argument, NULL, O_ROUTE },
		{ "baud", required_argument, NULL, O_BAUD },
		{ "latency-ms", required_argument, NULL, O_LATENCY },
		{ "variant", required_argument, NULL, O_VARIANT },
		{ "max-body", required_argument, NULL, O_MAX_BODY },
		{ "chunked-zero-len", no_argument, NULL, O_CHUNKED_ZERO },
		{ "log", required_argument, NULL, O_LOG },
		{ "strict-baud", no_argument, NULL, O_STRICT_BAUD },
		{ "model", required_argument, NULL, O_MODEL },
		{ "cold", no_argument, NULL, O_COLD },
		{ "sim-pin", required_argument, NULL, O_SIM_PIN },
		{ "register-ms", required_argument, NULL, O_REGISTER_MS },
		{ "no-network", no_argument, NULL, O_NO_NETWORK },
		{ "reg-denied", no_argument, NULL, O_REG_DENIED },
		{ "apn", required_argument, NULL, O_APN },
		{ "wifi", required_argument, NULL, O_WIFI },
		{ "fault", required_argument, NULL, O_FAULT },
		{ "cmd-latency", required_argument, NULL, O_CMD_LATENCY },
		{ "chaos", required_argument, NULL, O_CHAOS },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c;

	*cfg = (struct emu_config){ .max_body = SIZE_MAX };
	while ((c = getopt_long(argc, argv, "m:h", options, NULL)) != -1) {
		switch (c) {
		case 'm':
			cfg->modem = optarg;
			break;
		case O_LINK:
			cfg->link = optarg;
			break;
		case O_ROUTE:
			parse_route(optarg, cfg);
			break;
		case O_BAUD:
			cfg->baud = parse_number(optarg, EMU_MAX_BAUD, "--baud");
			if (!cfg->baud)
				bad_usage("bad number for", "--baud");
			break;
		case O_LATENCY:
			cfg->latency_ms = (unsigned)parse_number(optarg, 3600000,
								 "--latency-ms");
			break;
		case O_VARIANT:
			cfg->variant = optarg;
			break;
		case O_MAX_BODY:
			cfg->max_body = parse_number(optarg, SIZE_MAX,
						     "--max-body");
			break;
		case O_CHUNKED_ZERO:
			cfg->chunked_zero_len = true;
			break;
		case O_LOG:
			cfg->log_path = optarg;
			break;
		case O_STRICT_BAUD:
			cfg->strict_baud = true;
			break;
		case O_MODEL:
			cfg->model = optarg;
			break;
		case O_COLD:
			cfg->cold = true;
			break;
		case O_SIM_PIN:
			/* what a SIM takes: 4 to 8 digits */
			if (strlen(optarg) < 4 || strlen(optarg) > 8 ||
			    strspn(optarg, "0123456789") != strlen(optarg))
				bad_usage("bad --sim-pin (4-8 digits)", optarg);
			cfg->sim_pin = optarg;
			break;
		case O_REGISTER_MS:
			cfg->register_ms = (unsigned)parse_number(
				optarg, 3600000, "--register-ms");
			break;
		case O_NO_NETWORK:
			cfg->no_network = true;
			break;
		case O_REG_DENIED:
			cfg->reg_denied = true;
			break;
		case O_APN:
			cfg->apn = optarg;
			break;
		case O_WIFI:
			if (!strchr(optarg, ':') || optarg[0] == ':')
				bad_usage("bad --wifi (SSID:PASSWORD)", optarg);
			cfg->wifi = optarg;
			break;
		case O_FAULT:
			parse_fault(optarg, cfg);
			break;
		case O_CMD_LATENCY:
			parse_cmd_latency(optarg, cfg);
			break;
		case O_CHAOS:
			cfg->chaos_seed = parse_number(optarg, ULONG_MAX, "--chaos");
			if (!cfg->chaos_seed)
				bad_usage("bad number for", "--chaos");
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			bad_usage(NULL, NULL);
		}
	}
	if (optind < argc)
		bad_usage("unexpected argument", argv[optind]);
	if (!cfg->modem)
		bad_usage("-m MODEM is required", NULL);
	if (cfg->model && strcmp(cfg->modem, "onemo"))
		bad_usage("--model is for -m onemo only", NULL);
	if (cfg->strict_baud && speed_of(cfg->baud) == B0)
		bad_usage("--strict-baud needs a --baud the pty can be set to", NULL);
	if (cfg->no_network && cfg->reg_denied)
		bad_usage("--no-network and --reg-denied exclude each other", NULL);
	if (!cfg->link || !*cfg->link)
		bad_usage("--link PATH is required", NULL);
	for (size_t i = 0; i < sizeof(dialects) / sizeof(dialects[0]); i++) {
		if (strcmp(dialects[i].name, cfg->modem))
			continue;
		if (!dialects[i].dialect) {
			fprintf(stderr, "athttp-emu: modem %s: not implemented yet\n",
				cfg->modem);
			exit(2);
		}
		return dialects[i].dialect;
	}
	bad_usage("unknown modem", cfg->modem);
}

/* ------------------------------------------------------------ the pty */

struct pty {
	int master;
	int slave;			/* ours, held so the master never sees
					 * a hangup between clients */
	char path[PATH_MAX];
};

static int open_pty(struct pty *p)
{
	struct termios t;

	p->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->master < 0 || grantpt(p->master) < 0 ||
	    unlockpt(p->master) < 0 ||
	    ptsname_r(p->master, p->path, sizeof(p->path)) != 0)
		return -1;
	p->slave = open(p->path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (p->slave < 0 || tcgetattr(p->slave, &t) < 0)
		return -1;
	/* What a serial port looks like: no echo, no line editing, no
	 * CR/LF translation.  Clients that set their own modes win. */
	cfmakeraw(&t);
	if (tcsetattr(p->slave, TCSANOW, &t) < 0)
		return -1;
	return fcntl(p->master, F_SETFL,
		     fcntl(p->master, F_GETFL) | O_NONBLOCK);
}

/* Replaces the link atomically, but never anything that is not a link. */
static int make_link(const char *target, const char *link)
{
	struct stat st;
	struct emu_buf tmp = { 0 };
	int rc;

	if (lstat(link, &st) == 0 && !S_ISLNK(st.st_mode)) {
		errno = EEXIST;
		return -1;
	}
	emu_buf_addf(&tmp, "%s.%ld.tmp", link, (long)getpid());
	unlink(tmp.data);
	rc = symlink(target, tmp.data);
	if (rc == 0 && (rc = rename(tmp.data, link)) < 0)
		unlink(tmp.data);
	emu_buf_free(&tmp);
	return rc;
}

/* Removes the link only if it still leads to our pty. */
static void remove_link(const char *target, const char *link)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(link, buf, sizeof(buf) - 1);

	if (n < 0)
		return;
	buf[n] = '\0';
	if (!strcmp(buf, target))
		unlink(link);
}

/* ------------------------------------------------------------ pacing */

/*
 * A UART sends one byte every 10 bit times (8N1).  The writer keeps an
 * absolute schedule per burst: byte k of a burst may leave no earlier than
 * k byte times after the burst began.  Late wakeups are caught up at once,
 * so the average stays on the line rate, and a byte never leaves early, so
 * the host never sees more than the line rate.  A burst ends whenever the
 * writer runs out of bytes it may send (queue empty, latency, pty full).
 */
struct writer {
	int fd;
	unsigned long baud;		/* 0: unpaced */
	bool in_burst;
	uint64_t burst_start;
	uint64_t burst_bytes;
	bool blocked;			/* pty full: wait for POLLOUT */
	uint64_t trickle_next;		/* --fault trickle: the next byte's time */
};

/*
 * A bit lasts 1e9/baud ns and a byte 10 bits, so byte k is due at
 * k * 1e10 / baud ns.  Both conversions split off the whole multiples first
 * so that no product exceeds 64 bits (there is no 128-bit integer on 32-bit
 * targets): with baud at most EMU_MAX_BAUD (1e8) the remainders' products
 * stay below 1e18.
 */
#define NS_PER_BYTE_AT_1_BAUD (10 * 1000000000ull)

static uint64_t bytes_due(const struct writer *w, uint64_t now)
{
	uint64_t dt = now - w->burst_start;

	return dt / NS_PER_BYTE_AT_1_BAUD * w->baud +
	       dt % NS_PER_BYTE_AT_1_BAUD * w->baud / NS_PER_BYTE_AT_1_BAUD;
}

static uint64_t time_of_byte(const struct writer *w, uint64_t k)
{
	uint64_t r = k % w->baud * NS_PER_BYTE_AT_1_BAUD;

	return w->burst_start + k / w->baud * NS_PER_BYTE_AT_1_BAUD +
	       (r + w->baud - 1) / w->baud;
}

/* Writes what may be written now.  Returns when to come back (EMU_NEVER:
 * when the pty has room again, or when there is more output). */
static uint64_t pump(struct writer *w, struct emu *e)
{
	for (;;) {
		struct emu_chunk *c = emu_out_head(e);
		uint64_t now = emu_now_ns();
		size_t n;
		ssize_t done;

		if (!c) {
			w->in_burst = false;
			return EMU_NEVER;
		}
		if (c->release_ns > now) {
			w->in_burst = false;
			return c->release_ns;
		}
		n = c->bytes.len - c->off;
		if (n == 0) {		/* a mark with no bytes of its own */
			emu_out_pop(e);
			continue;
		}
		if (c->trickle_ms) {
			if (now < w->trickle_next) {
				w->in_burst = false;
				return w->trickle_next;
			}
			w->trickle_next = now + c->trickle_ms * EMU_NS_PER_MS;
			n = 1;
		}
		if (w->baud) {
			uint64_t due;

			if (!w->in_burst) {
				w->in_burst = true;
				w->burst_start = now;
				w->burst_bytes = 0;
			}
			due = bytes_due(w, now) - w->burst_bytes;
			if (due == 0) {
				/* Wake for a few ms worth at once rather
				 * than for every byte. */
				uint64_t q = w->baud / 10 / 500 + 1;

				return time_of_byte(w, w->burst_bytes +
						       (q < n ? q : n));
			}
			if (n > due)
				n = (size_t)due;
		}
		done = write(w->fd, c->bytes.data + c->off, n);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0 && errno != EAGAIN) {
			perror("athttp-emu: write to pty");
			exit(1);
		}
		if (done > 0) {
			c->off += (size_t)done;
			w->burst_bytes += (uint64_t)done;
			if (c->off == c->bytes.len)
				emu_out_pop(e);
		}
		if (done < (ssize_t)n) {
			/* The host stopped reading: like a UART held by
			 * flow control, resume at line rate, not in a rush. */
			w->blocked = true;
			w->in_burst = false;
			return EMU_NEVER;
		}
	}
}

/* ------------------------------------------------------------ clients */

/* Counts the processes that have the pty open (ours excluded) through
 * inotify, so that output nobody will read is dropped when the last one
 * closes rather than greeting the next client. */
struct clients {
	int fd;				/* -1: not tracked */
	long open;
};

static void clients_watch(struct clients *cl, const char *path)
{
	cl->open = 0;
	cl->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (cl->fd >= 0 && inotify_add_watch(cl->fd, path, IN_OPEN | IN_CLOSE) < 0) {
		close(cl->fd);
		cl->fd = -1;
	}
}

enum clients_change {
	CLIENTS_SAME,
	CLIENTS_GONE,			/* the last one closed */
	CLIENTS_REPLACED,		/* ... and another opened already */
};

static enum clients_change clients_update(struct clients *cl)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool emptied = false;
	ssize_t n;

	while ((n = read(cl->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;

			if (ev->mask & IN_OPEN)
				cl->open++;
			if ((ev->mask & IN_CLOSE) && cl->open > 0 &&
			    --cl->open == 0)
				emptied = true;
			p += sizeof(*ev) + ev->len;
		}
	}
	if (!emptied)
		return CLIENTS_SAME;
	return cl->open == 0 ? CLIENTS_GONE : CLIENTS_REPLACED;
}

/* ------------------------------------------------------------ main */

static int open_signals(void)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Before any thread exists, so the fetch workers inherit it. */
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* --strict-baud: is the host's side of the pty at our speed?  On Linux a
 * pty master's termios are its slave's, so the host's setting shows here. */
static bool host_at_speed(int master, const struct emu_config *cfg)
{
	struct termios t;

	if (!cfg->strict_baud)
		return true;
	return tcgetattr(master, &t) == 0 &&
	       cfgetospeed(&t) == speed_of(cfg->baud);
}

/* What a UART at the wrong speed makes of bytes: framing errors, high
 * bits, never a CR or LF a host could take for a line. */
static void garble(int master, const char *p, size_t n)
{
	char out[256];

	if (n > sizeof(out))
		n = sizeof(out);
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(0x80 | ((unsigned char)p[i] ^ 0x2a));
	if (write(master, out, n) < 0) {
		/* a full pty drops it, as a line would */
	}
}

static void read_input(struct emu *e, int master)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(master, buf, sizeof(buf))) > 0) {
		if (host_at_speed(master, emu_config(e)))
			emu_input(e, buf, (size_t)n);
		else
			garble(master, buf, (size_t)n);
	}
}

static void serve(struct emu *e, struct pty *pty, int sigfd,
		  const struct emu_config *cfg)
{
	struct writer w = { .fd = pty->master, .baud = cfg->baud };
	struct clients cl;

	clients_watch(&cl, pty->path);
	for (;;) {
		enum { P_MASTER, P_SIGNAL, P_JOBS, P_CLIENTS, P_N };
		struct pollfd p[P_N] = {
			[P_MASTER] = { .fd = pty->master, .events = POLLIN },
			[P_SIGNAL] = { .fd = sigfd, .events = POLLIN },
			[P_JOBS] = { .fd = emu_jobs_fd(emu_jobs(e)),
				     .events = POLLIN },
			[P_CLIENTS] = { .fd = cl.fd, .events = POLLIN },
		};
		enum clients_change change = CLIENTS_SAME;
		uint64_t wake = EMU_NEVER, now;
		struct timespec ts, *tsp = NULL;

		if (!w.blocked)
			wake = pump(&w, e);
		if (w.blocked)
			p[P_MASTER].events |= POLLOUT;
		if (emu_deadline(e) < wake)
			wake = emu_deadline(e);
		if (wake != EMU_NEVER) {
			now = emu_now_ns();
			wake = wake > now ? wake - now : 0;
			ts.tv_sec = (time_t)(wake / 1000000000ull);
			ts.tv_nsec = (long)(wake % 1000000000ull);
			tsp = &ts;
		}
		if (ppoll(p, P_N, tsp, NULL) < 0) {
			if (errno == EINTR)
				continue;
			perror("athttp-emu: ppoll");
			exit(1);
		}
		if (p[P_SIGNAL].revents)
			break;
		if (p[P_CLIENTS].revents)
			change = clients_update(&cl);
		/* What the departed client sent still counts, as it would
		 * on a wire; but when a new client is already there, its
		 * input must come after the hangup, not be lost to it. */
		if (change == CLIENTS_GONE)
			read_input(e, pty->master);
		if (change != CLIENTS_SAME) {
			emu_hangup(e);
			tcflush(pty->slave, TCIFLUSH);
			w.blocked = false;
			w.in_burst = false;
		}
		if (p[P_MASTER].revents & POLLOUT)
			w.blocked = false;
		if (p[P_MASTER].revents & POLLIN)
			read_input(e, pty->master);
		if (p[P_JOBS].revents)
			emu_jobs_reap(emu_jobs(e));
		emu_tick(e);
	}
	if (cl.fd >= 0)
		close(cl.fd);
}

int main(int argc, char **argv)
{
	struct emu_config cfg;
	const struct emu_dialect *dialect = parse_args(argc, argv, &cfg);
	const char *err = NULL;
	struct pty pty = { .master = -1, .slave = -1 };
	struct emu *e;
	int sigfd, rc = 0;
	FILE *log = NULL;

	sigfd = open_signals();
	if (sigfd < 0) {
		perror("athttp-emu: signals");
		return 1;
	}
	if (cfg.log_path && !(log = fopen(cfg.log_path, "ae"))) {
		fprintf(stderr, "athttp-emu: %s: %s\n", cfg.log_path,
			strerror(errno));
		return 1;
	}
	e = emu_new(&cfg, dialect, log, &err);
	if (!e)
		bad_usage(err, NULL);
	if (open_pty(&pty) < 0) {
		perror("athttp-emu: pty");
		rc = 1;
	} else if (make_link(pty.path, cfg.link) < 0) {
		fprintf(stderr, "athttp-emu: %s: %s\n", cfg.link,
			strerror(errno));
		rc = 1;
	} else {
		printf("READY %s\n", pty.path);
		fflush(stdout);
		serve(e, &pty, sigfd, &cfg);
		remove_link(pty.path, cfg.link);
	}
	emu_free(e);
	if (pty.slave >= 0)
		close(pty.slave);
	if (pty.master >= 0)
		close(pty.master);
	close(sigfd);
	for (size_t i = 0; i < cfg.nroutes; i++)
		free(cfg.routes[i].host);
	free(cfg.routes);
	for (size_t i = 0; i < cfg.ncmd_latency; i++)
		free(cfg.cmd_latency[i].name);
	free(cfg.cmd_latency);
	free(cfg.faults);
	return rc;
}
