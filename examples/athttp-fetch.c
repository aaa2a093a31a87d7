/*
 * The engine as a plain library, without LD_PRELOAD: fetch one URL through
 * a module and write the body to stdout.
 *
 *   athttp-fetch -d /dev/ttyUSB2 -m simcom http://example.com/ > page.html
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "athttp.h"

static int on_head(void *ctx, int status, const char *reason, const char *headers,
		   size_t headers_len, long long content_length, int synthesized)
{
	(void)ctx;
	fprintf(stderr, "HTTP %d %s (%lld bytes%s)\n%.*s", status, reason, content_length,
		synthesized ? ", status made up by athttp" : "", (int)headers_len, headers);
	return 0;
}

static int on_body(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	return fwrite(data, 1, len, stdout) == len ? 0 : -1;
}

static void usage(void)
{
	fprintf(stderr, "usage: athttp-fetch [-d DEVICE] [-m MODEM] [-b BAUD] [-v] URL\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct athttp_config cfg;
	athttp_config_from_env(&cfg);
	int opt;
	while ((opt = getopt(argc, argv, "d:m:b:v")) != -1) {
		switch (opt) {
		case 'd': cfg.device = optarg; break;
		case 'm': cfg.modem = optarg; break;
		case 'b': cfg.baud = atoi(optarg); break;
		case 'v': cfg.verbose = 1; break;
		default: usage();
		}
	}
	if (optind != argc - 1)
		usage();

	char err[256];
	athttp_modem *m = athttp_open(&cfg, err, sizeof err);
	if (!m) {
		fprintf(stderr, "athttp-fetch: %s\n", err);
		return 1;
	}
	struct athttp_request rq = { .method = "GET", .url = argv[optind] };
	struct athttp_response_cb cb = { .on_head = on_head, .on_body = on_body };
	int rc = athttp_request(m, &rq, &cb, err, sizeof err);
	if (rc)
		fprintf(stderr, "athttp-fetch: %s\n", err);
	athttp_close(m);
	return rc ? 1 : 0;
}
