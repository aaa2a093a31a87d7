/* The crashes and broken promises fuzzing found (make fuzz), replayed:
 * every input under fuzz/regressions/<target>/ goes through that target's
 * own harness (fuzz/<target>.c, built here with its entry point renamed
 * <target>_one), which aborts if the promise it checks is broken again.
 * The raw_response cases are also checked here by their verdicts. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "raw_response.h"

int fuzz_at_parser_one(const uint8_t *data, size_t size);
int fuzz_driver_one(const uint8_t *data, size_t size);
int fuzz_http_request_one(const uint8_t *data, size_t size);
int fuzz_raw_response_one(const uint8_t *data, size_t size);
int fuzz_transcript_one(const uint8_t *data, size_t size);

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	unsigned char *p = NULL;
	size_t cap = 0, n = 0, got;
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			p = realloc(p, cap);
			assert_non_null(p);
		}
		got = fread(p + n, 1, cap - n, f);
		n += got;
	} while (got);
	fclose(f);
	*len = n;
	return p;
}

/* Replays every file of fuzz/regressions/<target>/; returns how many. */
static int replay(const char *target, int (*one)(const uint8_t *, size_t))
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s/%s", FUZZ_REGRESSIONS, target);
	DIR *d = opendir(dir);
	if (!d && errno == ENOENT)
		return 0;   /* no find for this target (yet) */
	if (!d)
		fail_msg("cannot open %s: %s", dir, strerror(errno));
	int n = 0;
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[8192];
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		size_t len;
		unsigned char *data = slurp(path, &len);
		fprintf(stderr, "  %s/%s (%zu bytes)\n", target, e->d_name, len);
		assert_int_equal(one(data, len), 0);
		free(data);
		n++;
		errno = 0;
	}
	if (errno)
		fail_msg("reading %s: %s", dir, strerror(errno));
	closedir(d);
	return n;
}

static void test_driver_regressions(void **state)
{
	(void)state;
	/* onemo: a body that ends short of, or runs past, the head's
	 * Content-Length was passed off as whole */
	assert_true(replay("fuzz_driver", fuzz_driver_one) >= 2);
}

static void test_raw_response_regressions(void **state)
{
	(void)state;
	/* "HTTP/1.1 0" and "HTTP/1.1 20" went to the sink as statuses; a
	 * 1xx with a Content-Length passed its "body" on before the head */
	assert_true(replay("fuzz_raw_response", fuzz_raw_response_one) >= 3);
}

static void test_other_targets_regressions(void **state)
{
	(void)state;
	replay("fuzz_at_parser", fuzz_at_parser_one);
	replay("fuzz_http_request", fuzz_http_request_one);
	replay("fuzz_transcript", fuzz_transcript_one);
}

/* ------------------------------------------------------------ the verdicts */

struct seen {
	int heads;
	size_t body;
};

static enum ath_err seen_head(void *ctx, const struct http_head *h, long long len, bool synthesized)
{
	struct seen *s = ctx;
	(void)h, (void)len, (void)synthesized;
	s->heads++;
	return ATH_OK;
}

static enum ath_err seen_body(void *ctx, const void *data, size_t len)
{
	struct seen *s = ctx;
	(void)data;
	assert_int_equal(s->heads, 1);
	s->body += len;
	return ATH_OK;
}

static enum ath_err read_raw(const char *text, bool head_request, struct seen *s)
{
	struct response_sink sink = { seen_head, seen_body, s };
	struct raw_response rr;
	raw_response_init(&rr, head_request, &sink);
	raw_response_feed(&rr, text, strlen(text));
	struct ath_error err;
	ath_error_clear(&err);
	enum ath_err e = raw_response_end(&rr, &err);
	raw_response_free(&rr);
	return e;
}

static void test_status_without_three_digits_fails(void **state)
{
	(void)state;
	static const char *const lines[] = { "HTTP/1.1 0 OK\r\n", "HTTP/1.1 20 OK\r\n", "HTTP/1.1 99 OK\r\n" };
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		char text[200];
		snprintf(text, sizeof text, "%sContent-Length: 2\r\n\r\nhi", lines[i]);
		struct seen s = { 0 };
		assert_int_equal(read_raw(text, false, &s), ATH_E_PROTOCOL);
		assert_int_equal(s.heads, 0);
	}
	struct seen s = { 0 };
	assert_int_equal(read_raw("HTTP/1.1 100 OK\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi", false, &s),
			 ATH_OK);
	assert_int_equal(s.heads, 1);
	assert_int_equal(s.body, 2);
}

static void test_interim_body_is_not_passed_on(void **state)
{
	(void)state;
	for (int head_request = 0; head_request < 2; head_request++) {
		struct seen s = { 0 };
		enum ath_err e = read_raw("HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n"
					  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
					  head_request, &s);
		assert_int_equal(e, ATH_OK);
		assert_int_equal(s.heads, 1);
		assert_int_equal(s.body, head_request ? 0 : 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_driver_regressions),
		cmocka_unit_test(test_raw_response_regressions),
		cmocka_unit_test(test_other_targets_regressions),
		cmocka_unit_test(test_status_without_three_digits_fails),
		cmocka_unit_test(test_interim_body_is_not_passed_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
