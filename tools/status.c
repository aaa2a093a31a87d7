/*
 * athttp status [--json] [-c CONFIG] [-d DEVICE] [-m MODEM|auto] [-b BAUD]
 *               [--socket PATH]
 *
 * A daemon that owns the module knows its state and what it served, and
 * holds the port: ask it first (STATUS, STATUS json) and print its report.
 * With no daemon, open the port and ask the module with read commands.
 */
#include "status.h"

#include "cli_number.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon_proto.h"
#include "dialect.h"
#include "identify.h"
#include "module_status.h"
#include "transport.h"
#include "wrapper_config.h"
#include "wrapper_daemon.h"

#define EXIT_USAGE 2
#define DEFAULT_BAUD 115200
#define STATUS_CMD_MS 2000
#define STATUS_LOCK_MS 2000
#define STATUS_SYNC_ROUNDS 3
#define STATUS_SYNC_MS 1500
#define DAEMON_STATUS_MS 10000
#define DAEMON_STATUS_MAX (64 * 1024)

/* 1 printed the daemon's report, 0 no daemon there, -1 the daemon failed
 * (said). */
static int from_daemon(const char *path, bool json, bool explicit_socket)
{
	int status;
	char why[DAEMON_LINE_MAX + 64];
	int fd = daemon_client_open(path, json ? "STATUS json" : "STATUS", DAEMON_STATUS_MS,
				    &status, why, sizeof why);
	if (fd < 0) {
		if (status == 0 && (errno == ECONNREFUSED || errno == ENOENT)) {
			if (explicit_socket)
				fprintf(stderr, "athttp status: daemon %s: %s; asking the module\n",
					path, why);
			return 0;
		}
		fprintf(stderr, "athttp status: daemon %s: %s\n", path, why);
		return -1;
	}
	size_t len;
	char *report = daemon_read_all(fd, DAEMON_STATUS_MAX, DAEMON_STATUS_MS, &len, why,
				       sizeof why);
	close(fd);
	if (!report) {
		fprintf(stderr, "athttp status: daemon %s: %s\n", path, why);
		return -1;
	}
	fwrite(report, 1, len, stdout);
	free(report);
	return 1;
}

/* The command line in step, quickly: status is asked by a person waiting
 * (the engine's at_sync waits up to a minute for a slow module).  Echo
 * stays as the module has it; the chat copes with either. */
static bool answers_at(struct at_chat *chat)
{
	at_chat_drain(chat, 100, 1000);
	for (int i = 0; i < STATUS_SYNC_ROUNDS; i++) {
		struct at_result r;
		enum ath_err e = at_chat_cmd(chat, STATUS_SYNC_MS, &r, "AT");
		if (e == ATH_E_IO)
			return false;
		if (e == ATH_OK && r.final == AT_FINAL_OK) {
			at_chat_clear_queue(chat);
			return true;
		}
		at_chat_drain(chat, 100, 1000);
	}
	return false;
}

static int from_module(const char *device, const char *modem, int baud, int rtscts, bool json)
{
	struct ath_error err;
	ath_error_clear(&err);
	const struct dialect *d = NULL;
	if (modem && *modem && strcmp(modem, "auto") != 0)
		d = dialect_find(modem);

	struct transport_config tc = {
		.path = device,
		.baud = baud,
		.rtscts = rtscts,
		.lock_timeout_ms = STATUS_LOCK_MS,
		.dialect = d ? d->name : NULL,
		.syntax = d ? d->syntax : NULL,
	};
	struct transport *tp = transport_open(&tc, &err);
	if (!tp) {
		fprintf(stderr, "athttp status: %s\n", err.text);
		return 1;
	}
	struct at_chat chat;
	at_chat_init(&chat, tp, d ? d->syntax : NULL, NULL);
	int rc = 1;
	if (!answers_at(&chat)) {
		fprintf(stderr, "athttp status: %s: the module does not answer AT\n", device);
		goto out;
	}
	if (!d) {
		char found[400];
		d = identify_chat(&chat, STATUS_CMD_MS, found, sizeof found, &err);
		if (!d) {
			fprintf(stderr, "athttp status: %s\n", err.text);
			rc = err.code == ATH_E_IO || err.code == ATH_E_TIMEOUT ? 1 : 2;
			goto out;
		}
		/* From now on the family's framing of lines and prompts. */
		at_chat_drain(&chat, 50, 500);
		at_chat_init(&chat, tp, d->syntax, NULL);
	}
	struct module_status st;
	module_status_query(&chat, d, STATUS_CMD_MS, &st);
	module_status_write(&st, json, stdout);
	rc = 0;
out:
	tp->ops->close(tp);
	return rc;
}

int status_main(int argc, char **argv, void (*help)(FILE *out), void (*short_help)(void))
{
	enum { OPT_JSON = 256, OPT_SOCKET };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "config", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "modem", required_argument, NULL, 'm' },
		{ "baud", required_argument, NULL, 'b' },
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "athttp status"; /* for getopt's messages */
	const char *device = NULL, *modem = NULL, *baud_s = NULL, *socket_path = NULL;
	const char *config = NULL;
	bool json = false;
	int c;
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "c:d:m:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON: json = true; break;
		case 'c': config = optarg; break;
		case 'd': device = optarg; break;
		case 'm': modem = optarg; break;
		case 'b': baud_s = optarg; break;
		case OPT_SOCKET: socket_path = optarg; break;
		case 'h':
			help(stdout);
			return 0;
		default:
			short_help();
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "athttp status: takes no argument \"%s\"\n", argv[optind]);
		short_help();
		return EXIT_USAGE;
	}

	const char *from_flags[5];
	size_t n = 0;
	if (device)
		from_flags[n++] = "device";
	if (modem)
		from_flags[n++] = "modem";
	if (baud_s)
		from_flags[n++] = "baud";
	if (socket_path)
		from_flags[n++] = "socket";
	from_flags[n] = NULL;
	char cerr[1400];
	if (wrapper_config_apply(config, from_flags, cerr, sizeof cerr) < 0) {
		fprintf(stderr, "athttp status: %s\n", cerr);
		return EXIT_USAGE;
	}
	if (!device)
		device = getenv("ATHTTP_DEVICE");
	if (!modem)
		modem = getenv("ATHTTP_MODEM");
	if (!baud_s)
		baud_s = getenv("ATHTTP_BAUD");
	if (!socket_path)
		socket_path = getenv("ATHTTP_SOCKET");

	int baud = DEFAULT_BAUD;
	if (baud_s && *baud_s && !cli_positive_int(baud_s, &baud)) {
		fprintf(stderr, "athttp status: baud rate must be a positive integer, not \"%s\"\n",
			baud_s);
		short_help();
		return EXIT_USAGE;
	}
	if (modem && *modem && strcmp(modem, "auto") != 0 && !dialect_find(modem)) {
		fprintf(stderr, "athttp status: unknown modem \"%s\"\n", modem);
		short_help();
		return EXIT_USAGE;
	}

	char path[PATH_MAX];
	struct stat st;
	bool explicit_socket = socket_path && *socket_path;
	if (explicit_socket)
		snprintf(path, sizeof path, "%s", socket_path);
	if (explicit_socket || (daemon_default_socket(device, path, sizeof path) == 0 &&
				stat(path, &st) == 0 && S_ISSOCK(st.st_mode))) {
		int r = from_daemon(path, json, explicit_socket);
		if (r != 0)
			return r > 0 ? (fflush(stdout) == 0 ? 0 : 1) : 1;
	}
	if (!device || !*device) {
		fprintf(stderr, "athttp status: no device given: use -d DEVICE or set "
			"ATHTTP_DEVICE\n");
		short_help();
		return explicit_socket ? 1 : EXIT_USAGE;
	}
	const char *rts = getenv("ATHTTP_RTSCTS");
	int rc = from_module(device, modem, baud, rts && strcmp(rts, "1") == 0, json);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
