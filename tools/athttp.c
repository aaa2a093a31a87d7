/*
 * athttp: runs a command with the athttp LD_PRELOAD library in place, so
 * the command's HTTP goes out through an AT-command module.
 *
 *   athttp [-c FILE] [-d DEVICE] [-m MODEM|auto] [-b BAUD] [-v] [--] COMMAND [ARG...]
 *   athttp ca [--bundle] [--dir DIR]
 *   athttp doctor [-d DEVICE] [-m MODEM|auto] [-b BAUD] [--record FILE] [URL]
 *
 * Options, athttp.conf and the environment only set the ATHTTP_* environment
 * the library reads (flag over environment over file); option
 * parsing stops at COMMAND so "athttp curl -v URL" gives -v to curl.
 * COMMAND also gets the environment that makes it trust the local CA the
 * engine signs its https leaves with; that CA and those files live in a
 * private directory removed when COMMAND ends, which is why athttp waits
 * for COMMAND instead of becoming it.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "athttp.h"
#include "doctor.h"
#include "local_ca.h"
#include "supervise.h"
#include "trust_env.h"
#include "wrapper_config.h"
#include "wrapper_daemon.h"
#include "cli_number.h"
#include "status.h"

#define EXIT_USAGE 2
#define PRELOAD_RELPATH "/../lib/athttp/libathttp-preload.so"
#define CA_HOME_RELPATH "/.local/share/athttp/ca"

static void print_dialects(FILE *out)
{
	const char *const *d = athttp_dialects();
	for (size_t i = 0; d && d[i]; i++)
		fprintf(out, "%s%s", i ? " | " : "", d[i]);
}

static const char synopsis[] =
	"usage: athttp [-c FILE] [-d DEVICE] [-m MODEM|auto] [-b BAUD] [-v]\n"
	"              [--trace FILE] [--record FILE [--redact[=WHAT]]] [--replay-pace]\n"
	"              [--bypass CIDRS] [--module-ca FILE] [--insecure-upstream]\n"
	"              [--socket PATH] [--] COMMAND [ARG...]\n"
	"       athttp ca [--bundle] [--dir DIR]\n"
	"       athttp doctor [-d DEVICE] [-m MODEM|auto] [-b BAUD] [--record FILE]\n"
	"              [URL]\n"
	"       athttp status [--json] [-d DEVICE] [-m MODEM|auto] [-b BAUD]\n"
	"              [--socket PATH]\n";

static void usage(FILE *out)
{
	fputs(synopsis, out);
	fputs("Runs COMMAND with its outbound HTTP carried by an AT-command module.\n"
	      "\n"
	      "  -c, --config FILE    read FILE instead of /etc/athttp.conf and\n"
	      "                       ~/.config/athttp/athttp.conf (see athttp(1))\n"
	      "  -d, --device DEVICE  serial device or pty of the module (ATHTTP_DEVICE);\n"
	      "                       replay:FILE plays a recorded transcript back\n"
	      "  -m, --modem MODEM    AT dialect (ATHTTP_MODEM, default simcom):\n"
	      "                       ", out);
	print_dialects(out);
	fputs("\n"
	      "                       or auto: identify the module before COMMAND starts\n"
	      "  -b, --baud BAUD      serial speed (ATHTTP_BAUD, default 115200)\n"
	      "  -v, --verbose        trace the AT conversation on stderr (ATHTTP_VERBOSE=1)\n"
	      "      --trace FILE     write the AT conversation to FILE (ATHTTP_TRACE)\n"
	      "      --record FILE    record the conversation as a replayable transcript\n"
	      "                       (ATHTTP_RECORD)\n"
	      "      --redact[=WHAT]  leave out of the transcript: credentials (the\n"
	      "                       default: Authorization, Cookie, Set-Cookie values),\n"
	      "                       bodies, or all (ATHTTP_REDACT)\n"
	      "      --replay-pace    replay at the recorded pace (ATHTTP_REPLAY_PACE=1)\n"
	      "      --bypass CIDRS   networks left on the real network, comma-separated,\n"
	      "                       e.g. 192.168.0.0/16,fd00::/8 (ATHTTP_BYPASS)\n"
	      "      --module-ca FILE\n"
	      "                       the roots (PEM) the module verifies https servers\n"
	      "                       with (ATHTTP_MODULE_CA)\n"
	      "      --insecure-upstream\n"
	      "                       let https through a module that cannot verify the\n"
	      "                       server; each answer then carries\n"
	      "                       X-Athttp-Upstream-TLS: unverified\n"
	      "                       (ATHTTP_INSECURE_UPSTREAM=1)\n"
	      "      --socket PATH    athttpd's socket: COMMAND's connections go to that\n"
	      "                       daemon (ATHTTP_SOCKET); without it, the default\n"
	      "                       socket of DEVICE (/run/athttp/<name>.sock) is used\n"
	      "                       when a daemon answers there\n"
	      "  -h, --help           show this help\n"
	      "      --version        show the version\n"
	      "\n"
	      "COMMAND's https is decrypted by athttp with a local CA that COMMAND is\n"
	      "made to trust (CURL_CA_BUNDLE, SSL_CERT_FILE, REQUESTS_CA_BUNDLE,\n"
	      "GIT_SSL_CAINFO, NODE_EXTRA_CA_CERTS, WGETRC): a fresh one per run, removed\n"
	      "when COMMAND ends, or the persistent one in ATHTTP_CA_DIR when set; with a\n"
	      "daemon, the daemon's CA (it terminates the TLS and keeps the key).\n"
	      "\n"
	      "athttp ca [--dir DIR] creates a persistent CA in DIR if missing (default\n"
	      "$ATHTTP_CA_DIR, else ~" CA_HOME_RELPATH ") and prints the path of its\n"
	      "certificate; --bundle writes DIR/bundle.pem (the system roots plus that\n"
	      "certificate) and prints its path.\n"
	      "\n"
	      "athttp doctor [-d DEVICE] [-m MODEM|auto] [-b BAUD] [--record FILE] [URL]\n"
	      "checks the module step by step, one line each (ok, FAIL, warn, skip) with\n"
	      "the fix under a failed one: the device, the permission to open it, the\n"
	      "port's lock, the baud rate (-b's, then the usual ones), echo, the family\n"
	      "(-m auto, the default, identifies it), SIM, registration and signal, the\n"
	      "HTTP service, and a GET of URL if given; --record FILE keeps the whole\n"
	      "conversation as a transcript.  Exit 0 when every check passes (warnings\n"
	      "allowed), 1 when one fails.\n"
	      "\n"
	      "athttp status [--json] [-d DEVICE] [-m MODEM|auto] [-b BAUD] [--socket PATH]\n"
	      "reports the module: model, firmware, SIM, registration, operator, signal,\n"
	      "address (WiFi: access point and address), as \"key: value\" lines or one\n"
	      "JSON object; from the daemon (with what it served) when one answers, else\n"
	      "from the module itself.  Exit 0 shown, 1 the module or daemon unreachable.\n"
	      "\n"
	      "Loopback traffic is never taken over.  Statically linked programs and Go\n"
	      "programs do not go through the C library, so athttp cannot reach them.\n",
	      out);
}

/* After a wrong invocation: the synopsis, not the whole help. */
static void short_usage(void)
{
	fputs(synopsis, stderr);
	fputs("Try 'athttp --help' for more information.\n", stderr);
}

/* A wrong invocation: the reason, then the usage, exit 2. */
__attribute__((noreturn, format(printf, 1, 2)))
static void usage_error(const char *fmt, ...)
{
	va_list ap;
	fputs("athttp: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	short_usage();
	exit(EXIT_USAGE);
}

static bool known_dialect(const char *name)
{
	const char *const *d = athttp_dialects();
	for (size_t i = 0; d && d[i]; i++)
		if (strcmp(d[i], name) == 0)
			return true;
	return false;
}

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) != 0) {
		fprintf(stderr, "athttp: setenv %s: %s\n", name, strerror(errno));
		exit(1);
	}
}

/* <dir of our executable>/../lib/athttp/libathttp-preload.so: the same
 * layout in the build tree (build/bin, build/lib/athttp) and installed
 * ($PREFIX/bin, $PREFIX/lib/athttp). */
static void find_library(const char *argv0, char *out)
{
	char exe[PATH_MAX], candidate[PATH_MAX + sizeof PRELOAD_RELPATH];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

	if (n > 0) {
		exe[n] = '\0';
	} else if (strchr(argv0, '/') && realpath(argv0, exe)) {
		/* no /proc: argv[0] is the best we have */
	} else {
		fprintf(stderr, "athttp: cannot tell where athttp is installed: %s\n",
			strerror(errno));
		exit(1);
	}
	*strrchr(exe, '/') = '\0';
	snprintf(candidate, sizeof candidate, "%s%s", exe, PRELOAD_RELPATH);
	if (!realpath(candidate, out) || access(out, R_OK) != 0) {
		fprintf(stderr, "athttp: preload library not found: %s: %s\n", candidate,
			strerror(errno));
		exit(1);
	}
	/* The dynamic loader splits LD_PRELOAD at spaces and colons. */
	if (strpbrk(out, " :\t\n")) {
		fprintf(stderr, "athttp: cannot preload %s: LD_PRELOAD cannot carry a path with "
			"spaces or colons\n", out);
		exit(1);
	}
}

/* Puts lib first in LD_PRELOAD, once (athttp inside athttp adds nothing). */
static void prepend_preload(const char *lib)
{
	const char *old = getenv("LD_PRELOAD");
	if (!old || !*old) {
		set_env("LD_PRELOAD", lib);
		return;
	}
	size_t liblen = strlen(lib);
	for (const char *p = old; *p;) {
		size_t n = strcspn(p, " :");
		if (n == liblen && strncmp(p, lib, n) == 0)
			return;
		p += n;
		p += *p != '\0';
	}
	char *value = malloc(liblen + 1 + strlen(old) + 1);
	if (!value) {
		fputs("athttp: out of memory\n", stderr);
		exit(1);
	}
	sprintf(value, "%s:%s", lib, old);
	set_env("LD_PRELOAD", value);
	free(value);
}

/* The file execvp would run, for the warning below; NULL if not found. */
static char *find_command(const char *cmd)
{
	if (strchr(cmd, '/'))
		return strdup(cmd);
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	for (const char *p = path;;) {
		size_t n = strcspn(p, ":");
		char *file = malloc(n + 1 + strlen(cmd) + 1);
		if (!file)
			return NULL;
		if (n)
			sprintf(file, "%.*s/%s", (int)n, p, cmd);
		else
			strcpy(file, cmd);
		if (access(file, X_OK) == 0)
			return file;
		free(file);
		if (!p[n])
			return NULL;
		p += n + 1;
	}
}

/* Whether the notes in buf include a Go build ID (owner "Go", type 4). */
static bool has_go_note(const unsigned char *buf, size_t len)
{
	size_t off = 0;
	while (off + 12 <= len) {
		uint32_t namesz, descsz, type;
		memcpy(&namesz, buf + off, 4);
		memcpy(&descsz, buf + off + 4, 4);
		memcpy(&type, buf + off + 8, 4);
		off += 12;
		size_t name_end = off + ((namesz + 3u) & ~3u);
		if (name_end > len)
			break;
		if (namesz == 3 && memcmp(buf + off, "Go", 3) == 0 && type == 4)
			return true;
		off = name_end + ((descsz + 3u) & ~3u);
	}
	return false;
}

/* Warns when LD_PRELOAD cannot reach the program: no ELF interpreter
 * (statically linked) or a Go build ID (Go makes its own system calls).
 * Scripts and anything unreadable are assumed fine. */
static void warn_if_unreachable(const char *cmd)
{
	char *file = find_command(cmd);
	int fd = file ? open(file, O_RDONLY | O_CLOEXEC) : -1;
	unsigned char ident[EI_NIDENT];
	bool is_static = true, is_go = false;

	if (fd < 0 || pread(fd, ident, sizeof ident, 0) != (ssize_t)sizeof ident ||
	    memcmp(ident, ELFMAG, SELFMAG) != 0 ||
	    (ident[EI_CLASS] != ELFCLASS32 && ident[EI_CLASS] != ELFCLASS64))
		goto out;

	bool is64 = ident[EI_CLASS] == ELFCLASS64;
	Elf64_Ehdr eh64;
	Elf32_Ehdr eh32;
	uint64_t phoff;
	unsigned phnum, phentsize;
	if (is64) {
		if (pread(fd, &eh64, sizeof eh64, 0) != (ssize_t)sizeof eh64)
			goto out;
		phoff = eh64.e_phoff, phnum = eh64.e_phnum, phentsize = eh64.e_phentsize;
	} else {
		if (pread(fd, &eh32, sizeof eh32, 0) != (ssize_t)sizeof eh32)
			goto out;
		phoff = eh32.e_phoff, phnum = eh32.e_phnum, phentsize = eh32.e_phentsize;
	}
	if (phentsize != (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)))
		goto out;
	for (unsigned i = 0; i < phnum; i++) {
		uint64_t type, offset, size;
		Elf64_Phdr ph64;
		Elf32_Phdr ph32;
		off_t at = (off_t)(phoff + (uint64_t)i * phentsize);
		if (is64) {
			if (pread(fd, &ph64, sizeof ph64, at) != (ssize_t)sizeof ph64)
				goto out;
			type = ph64.p_type, offset = ph64.p_offset, size = ph64.p_filesz;
		} else {
			if (pread(fd, &ph32, sizeof ph32, at) != (ssize_t)sizeof ph32)
				goto out;
			type = ph32.p_type, offset = ph32.p_offset, size = ph32.p_filesz;
		}
		if (type == PT_INTERP)
			is_static = false;
		if (type == PT_NOTE && size && size <= 65536) {
			unsigned char *notes = malloc(size);
			if (notes && pread(fd, notes, size, (off_t)offset) == (ssize_t)size)
				is_go = is_go || has_go_note(notes, size);
			free(notes);
		}
	}
	if (is_go)
		fprintf(stderr, "athttp: warning: %s is a Go program; Go makes its own system "
			"calls, so athttp cannot carry its traffic\n", cmd);
	else if (is_static)
		fprintf(stderr, "athttp: warning: %s is statically linked; LD_PRELOAD cannot "
			"reach it, so athttp cannot carry its traffic\n", cmd);
out:
	if (fd >= 0)
		close(fd);
	free(file);
}

/* Is s a comma-separated list of redaction words? */
static bool redaction_words(const char *s)
{
	static const char *const words[] = { "credentials", "bodies", "all" };
	while (*s) {
		size_t n = strcspn(s, ",");
		bool known = false;
		for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
			known |= strlen(words[i]) == n && strncmp(s, words[i], n) == 0;
		if (!known)
			return false;
		s += n + (s[n] == ',');
	}
	return true;
}

/* path made absolute against the current directory (no symlinks resolved,
 * the file need not exist). */
static const char *absolute(const char *path, char *out, size_t outlen)
{
	char cwd[PATH_MAX];
	if (path[0] == '/' || !getcwd(cwd, sizeof cwd))
		snprintf(out, outlen, "%s", path);
	else
		snprintf(out, outlen, "%s/%s", cwd, path);
	return out;
}

/* Creates the directories above dir that are missing (0700: they lead to
 * a key), leaving dir itself to local_ca_open. */
static void make_parents(const char *dir)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s", dir);
	for (char *p = path + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0700); /* an error shows when local_ca_open fails */
		*p = '/';
	}
}

/* The persistent CA's directory when none is given. */
static const char *default_ca_dir(char *out, size_t outlen)
{
	const char *env = getenv("ATHTTP_CA_DIR");
	if (env && *env)
		return env;
	const char *home = getenv("HOME");
	if (!home || !*home) {
		const struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home) {
		fputs("athttp ca: no home directory: give --dir DIR or set ATHTTP_CA_DIR\n", stderr);
		exit(1);
	}
	snprintf(out, outlen, "%s%s", home, CA_HOME_RELPATH);
	return out;
}

/* athttp ca [--bundle] [--dir DIR]: the persistent CA, for programs started
 * without the wrapper (a systemd unit: LD_PRELOAD=... ATHTTP_CA_DIR=DIR
 * SSL_CERT_FILE=DIR/bundle.pem ...). */
static int ca_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "bundle", no_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "athttp ca"; /* for getopt's messages */
	const char *dir = NULL;
	bool bundle = false;
	int c;
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'D': dir = optarg; break;
		case 'B': bundle = true; break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			short_usage();
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("ca takes no argument \"%s\"", argv[optind]);
	char dflt[PATH_MAX], abs_dir[PATH_MAX];
	if (!dir)
		dir = default_ca_dir(dflt, sizeof dflt);
	if (!*dir)
		usage_error("--dir needs a directory");
	dir = absolute(dir, abs_dir, sizeof abs_dir);
	make_parents(dir);

	struct ath_error err;
	ath_error_clear(&err);
	struct local_ca *ca = local_ca_open(dir, &err);
	if (!ca) {
		fprintf(stderr, "athttp ca: %s\n", err.text);
		return 1;
	}
	char real[PATH_MAX], file[PATH_MAX + 16];
	if (!realpath(dir, real)) {
		fprintf(stderr, "athttp ca: %s: %s\n", dir, strerror(errno));
		local_ca_free(ca);
		return 1;
	}
	snprintf(file, sizeof file, "%s/%s", real, bundle ? "bundle.pem" : "ca.pem");
	enum ath_err e = ATH_OK;
	if (bundle)
		e = trust_write_bundle(file, trust_user_roots(), local_ca_cert_pem(ca), &err);
	local_ca_free(ca);
	if (e != ATH_OK) {
		fprintf(stderr, "athttp ca: %s\n", err.text);
		return 1;
	}
	puts(file);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* Sets up the trust of the local CA for COMMAND's environment: the CA in
 * $ATHTTP_CA_DIR, else a fresh one in a fresh private directory, and the
 * files trust_env_setup writes in a private directory of this run, whose
 * path goes in run_dir (to be removed when the run ends).  Exits 1 when
 * any of it fails: never a program with half its trust set. */
static void setup_trust(char *run_dir, size_t run_dir_len)
{
	struct ath_error err;
	ath_error_clear(&err);
	char abs_ca[PATH_MAX];
	const char *ca_dir = getenv("ATHTTP_CA_DIR");
	if (ca_dir && *ca_dir)
		ca_dir = absolute(ca_dir, abs_ca, sizeof abs_ca);
	else
		ca_dir = NULL;

	if (trust_run_dir_create(run_dir, run_dir_len, &err) != ATH_OK) {
		fprintf(stderr, "athttp: %s\n", err.text);
		exit(1);
	}
	struct local_ca *ca = local_ca_open(ca_dir ? ca_dir : run_dir, &err);
	enum ath_err e = ca ? ATH_OK : err.code ? err.code : ATH_E_CONFIG;
	/* The program may change directory, and ".." reads badly in a path. */
	char real_ca[PATH_MAX];
	if (e == ATH_OK && ca_dir && !(ca_dir = realpath(ca_dir, real_ca)))
		e = ath_fail(&err, ATH_E_CONFIG, -1, "%s: %s", abs_ca, strerror(errno));
	if (e == ATH_OK)
		e = trust_env_setup(run_dir, ca_dir ? ca_dir : run_dir, local_ca_cert_pem(ca), &err);
	local_ca_free(ca);
	if (e != ATH_OK) {
		fprintf(stderr, "athttp: cannot set up the local CA: %s\n",
			*err.text ? err.text : ath_strerror(e));
		trust_run_dir_remove(run_dir);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "ca") == 0)
		return ca_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "doctor") == 0)
		return doctor_main(argc - 1, argv + 1, usage, short_usage);
	if (argc > 1 && strcmp(argv[1], "status") == 0)
		return status_main(argc - 1, argv + 1, usage, short_usage);

	enum { OPT_TRACE = 256, OPT_BYPASS, OPT_VERSION, OPT_RECORD, OPT_REDACT, OPT_PACE,
	       OPT_MODULE_CA, OPT_INSECURE, OPT_SOCKET };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "modem", required_argument, NULL, 'm' },
		{ "baud", required_argument, NULL, 'b' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "bypass", required_argument, NULL, OPT_BYPASS },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "redact", optional_argument, NULL, OPT_REDACT },
		{ "replay-pace", no_argument, NULL, OPT_PACE },
		{ "module-ca", required_argument, NULL, OPT_MODULE_CA },
		{ "insecure-upstream", no_argument, NULL, OPT_INSECURE },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const char *device = NULL, *modem = NULL, *baud = NULL;
	const char *trace = NULL, *bypass = NULL, *record = NULL, *redact = NULL;
	const char *module_ca = NULL, *config = NULL, *socket_path = NULL;
	bool verbose = false, pace = false, insecure = false;
	int c;

	/* "+": stop at the first non-option, which is COMMAND.  ":" first
	 * would hide getopt's own messages; we want them, then the usage. */
	while ((c = getopt_long(argc, argv, "+c:d:m:b:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'd': device = optarg; break;
		case 'm': modem = optarg; break;
		case 'b': baud = optarg; break;
		case 'v': verbose = true; break;
		case OPT_TRACE: trace = optarg; break;
		case OPT_BYPASS: bypass = optarg; break;
		case OPT_RECORD: record = optarg; break;
		case OPT_REDACT: redact = optarg ? optarg : "credentials"; break;
		case OPT_PACE: pace = true; break;
		case OPT_MODULE_CA: module_ca = optarg; break;
		case OPT_INSECURE: insecure = true; break;
		case OPT_SOCKET: socket_path = optarg; break;
		case 'h':
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("athttp %s\n", ATHTTP_VERSION);
			return 0;
		default:
			short_usage(); /* after getopt's own message */
			return EXIT_USAGE;
		}
	}

	/* The environment over athttp.conf, both checked and put in the
	 * environment; then options over both. */
	const char *from_flags[10];
	size_t n_flags = 0;
	const struct { const char *key; bool given; } flags[] = {
		{ "device", device }, { "modem", modem }, { "baud", baud }, { "verbose", verbose },
		{ "trace", trace }, { "bypass", bypass }, { "module_ca", module_ca },
		{ "insecure_upstream", insecure }, { "socket", socket_path },
	};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
		if (flags[i].given)
			from_flags[n_flags++] = flags[i].key;
	from_flags[n_flags] = NULL;
	char config_err[1400];
	if (wrapper_config_apply(config, from_flags, config_err, sizeof config_err) < 0) {
		fprintf(stderr, "athttp: %s\n", config_err);
		return EXIT_USAGE;
	}

	/* Options win over the environment; validate whichever applies. */
	if (!device)
		device = getenv("ATHTTP_DEVICE");
	if (!modem)
		modem = getenv("ATHTTP_MODEM");
	if (!baud)
		baud = getenv("ATHTTP_BAUD");
	if (!socket_path)
		socket_path = getenv("ATHTTP_SOCKET");

	bool auto_modem = modem && strcmp(modem, "auto") == 0;
	if (modem && *modem && !auto_modem && !known_dialect(modem)) {
		fprintf(stderr, "athttp: unknown modem \"%s\"; choose one of: ", modem);
		print_dialects(stderr);
		fputs(" | auto\n", stderr);
		short_usage();
		return EXIT_USAGE;
	}
	if (baud && *baud && !cli_positive_int(baud, NULL))
		usage_error("baud rate must be a positive integer, not \"%s\"", baud);
	if (optind >= argc)
		usage_error("no command given");
	if ((!device || !*device) && !(socket_path && *socket_path))
		usage_error("no device given: use -d DEVICE or set ATHTTP_DEVICE");
	if (!device)
		device = "";
	if (!record)
		record = getenv("ATHTTP_RECORD");
	if (!redact)
		redact = getenv("ATHTTP_REDACT");
	if (redact && *redact && !redaction_words(redact))
		usage_error("--redact takes credentials, bodies or all (comma-separated), not \"%s\"", redact);
	if (strncmp(device, "replay:", 7) == 0 && access(device + 7, R_OK) != 0)
		usage_error("cannot read the transcript %s: %s", device + 7, strerror(errno));
	if (!module_ca)
		module_ca = getenv("ATHTTP_MODULE_CA");
	if (module_ca && *module_ca && access(module_ca, R_OK) != 0)
		usage_error("cannot read the module's CA file %s: %s", module_ca, strerror(errno));

	/* The program may change directory: hand the engine absolute paths. */
	char abs_device[PATH_MAX + 8], abs_record[PATH_MAX], abs_trace[PATH_MAX];
	char abs_module_ca[PATH_MAX];
	if (strncmp(device, "replay:", 7) == 0) {
		snprintf(abs_device, sizeof abs_device, "replay:");
		absolute(device + 7, abs_device + 7, sizeof abs_device - 7);
		device = abs_device;
	}
	if (record && *record)
		record = absolute(record, abs_record, sizeof abs_record);
	if (trace && *trace)
		trace = absolute(trace, abs_trace, sizeof abs_trace);
	if (module_ca && *module_ca) {
		if (!realpath(module_ca, abs_module_ca))
			usage_error("cannot resolve the module's CA file %s: %s", module_ca,
				    strerror(errno));
		module_ca = abs_module_ca;
	}

	char lib[PATH_MAX];
	find_library(argv[0], lib);

	/* A daemon that serves owns the module: no port opened here, its CA
	 * trusted instead of a per-run one. */
	char run_dir[PATH_MAX];
	int served = wrapper_daemon_setup(socket_path, device, run_dir, sizeof run_dir);
	if (served < 0)
		return 1;
	if (auto_modem && !served) {
		int rc = wrapper_resolve_auto(device, baud, getenv("ATHTTP_RTSCTS"));
		if (rc != 0)
			return rc;
		modem = NULL; /* ATHTTP_MODEM names the family found */
	}

	if (*device)
		set_env("ATHTTP_DEVICE", device);
	if (modem && *modem)
		set_env("ATHTTP_MODEM", modem);
	if (baud && *baud)
		set_env("ATHTTP_BAUD", baud);
	if (trace)
		set_env("ATHTTP_TRACE", trace);
	if (bypass)
		set_env("ATHTTP_BYPASS", bypass);
	if (verbose)
		set_env("ATHTTP_VERBOSE", "1");
	if (record && *record)
		set_env("ATHTTP_RECORD", record);
	if (redact && *redact)
		set_env("ATHTTP_REDACT", redact);
	if (pace)
		set_env("ATHTTP_REPLAY_PACE", "1");
	if (module_ca && *module_ca)
		set_env("ATHTTP_MODULE_CA", module_ca);
	if (insecure)
		set_env("ATHTTP_INSECURE_UPSTREAM", "1");

	if (!served)
		setup_trust(run_dir, sizeof run_dir);
	prepend_preload(lib);

	warn_if_unreachable(argv[optind]);
	int status = supervise_run(argv + optind);
	int fork_errno = errno;
	trust_run_dir_remove(run_dir);
	if (status < 0) {
		fprintf(stderr, "athttp: cannot start %s: %s\n", argv[optind], strerror(fork_errno));
		return 1;
	}
	supervise_exit_like(status);
}
