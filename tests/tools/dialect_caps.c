/*
 * dialect_caps MODEM: a dialect's capability record (src/dialect.h) as
 * "key=value" lines, for the end-to-end suites.  Each suite states what
 * its module's manual allows (tests/e2e/matrix.sh's D_* record); this
 * prints what the driver claims, so that the two are compared and
 * neither can drift from the other unseen.
 *
 *   raw=0|1            the request travels byte for byte (custom packet)
 *   methods=...        the verbs the module can send
 *   body_methods=...   the verbs whose body it can send
 *   max_body=N         the largest request body it takes
 *   all_headers=0|1    every header is carried (raw, or the "*" entry)
 *   real_head=0|1      status line and headers come from the origin
 *   tls=0|1            the dialect does https at all
 *
 * Exit status 2 (and a message) for an unknown MODEM or a bad command line.
 */
#include <stdio.h>
#include <string.h>

#include "dialect.h"

static void print_verbs(const char *key, unsigned verbs)
{
	static const char *const names[] = {
		"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
	};
	const char *sep = "";

	printf("%s=", key);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (verbs & verb_from_method(names[i])) {
			printf("%s%s", sep, names[i]);
			sep = " ";
		}
	putchar('\n');
}

static int carries_every_header(const struct dialect_caps *caps)
{
	if (caps->raw_request)
		return 1;
	for (const char *const *h = caps->carried_headers; h && *h; h++)
		if (strcmp(*h, "*") == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fputs("usage: dialect_caps MODEM\n", stderr);
		return 2;
	}
	const struct dialect *d = dialect_find(argv[1]);
	if (!d) {
		fprintf(stderr, "dialect_caps: unknown modem \"%s\"\n", argv[1]);
		return 2;
	}
	const struct dialect_caps *caps = d->caps;
	printf("raw=%d\n", caps->raw_request ? 1 : 0);
	print_verbs("methods", caps->methods);
	print_verbs("body_methods", caps->body_methods);
	printf("max_body=%zu\n", caps->max_body);
	printf("all_headers=%d\n", carries_every_header(caps));
	printf("real_head=%d\n", caps->real_response_head ? 1 : 0);
	printf("tls=%d\n", d->ops->tls_setup ? 1 : 0);
	return 0;
}
