/*
 * The run's trust files: the bundle is the user's roots then the CA (a
 * roots file without a final newline still gives whole PEM blocks; a CA
 * already among the roots is not added twice; no roots gives the CA alone;
 * the roots are the first readable of $SSL_CERT_FILE, $CURL_CA_BUNDLE and
 * the system file); the wgetrc keeps the user's lines and ends with
 * ca_certificate, and refuses a path it cannot express; trust_env_setup
 * sets every variable and unsets SSL_CERT_DIR; the run directory is 0700
 * and is removed with what is in it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "trust_env.h"

#define CA_PEM "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"
#define ROOT_PEM "-----BEGIN CERTIFICATE-----\nUk9PVA==\n-----END CERTIFICATE-----\n"

static char dir[PATH_MAX];

static int setup(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	setenv("TMPDIR", "/tmp", 1);
	return trust_run_dir_create(dir, sizeof dir, &err) == ATH_OK ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	trust_run_dir_remove(dir);
	return 0;
}

static char *path(const char *name)
{
	static char buf[4][PATH_MAX + 64];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, PATH_MAX + 64, "%s/%s", dir, name);
	return p;
}

static void put(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* The whole file, malloc'ed. */
static char *slurp(const char *file)
{
	FILE *f = fopen(file, "r");
	assert_non_null(f);
	char *buf = calloc(1, 65536);
	assert_non_null(buf);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void assert_file(const char *file, const char *want)
{
	char *got = slurp(file);
	assert_string_equal(got, want);
	free(got);
}

static void test_bundle_roots_then_ca(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	put(path("roots.pem"), ROOT_PEM);
	assert_int_equal(trust_write_bundle(path("bundle.pem"), path("roots.pem"), CA_PEM, &err),
			 ATH_OK);
	assert_file(path("bundle.pem"), ROOT_PEM CA_PEM);
	struct stat st;
	assert_int_equal(stat(path("bundle.pem"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
}

static void test_bundle_roots_without_final_newline(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	put(path("roots.pem"), "-----BEGIN CERTIFICATE-----\nUk9PVA==\n-----END CERTIFICATE-----");
	assert_int_equal(trust_write_bundle(path("bundle.pem"), path("roots.pem"), CA_PEM, &err),
			 ATH_OK);
	assert_file(path("bundle.pem"), ROOT_PEM CA_PEM);
}

static void test_bundle_ca_already_among_roots(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	put(path("roots.pem"), ROOT_PEM CA_PEM);
	assert_int_equal(trust_write_bundle(path("bundle.pem"), path("roots.pem"), CA_PEM, &err),
			 ATH_OK);
	assert_file(path("bundle.pem"), ROOT_PEM CA_PEM);
}

static void test_bundle_without_roots(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(trust_write_bundle(path("bundle.pem"), NULL, CA_PEM, &err), ATH_OK);
	assert_file(path("bundle.pem"), CA_PEM);
}

static void test_bundle_unreadable_roots_named(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_not_equal(trust_write_bundle(path("bundle.pem"), path("missing.pem"), CA_PEM,
						&err), ATH_OK);
	assert_non_null(strstr(err.text, path("missing.pem")));
	assert_int_not_equal(access(path("bundle.pem"), F_OK), 0);
}

static void test_user_roots_order(void **state)
{
	(void)state;
	put(path("a.pem"), ROOT_PEM);
	put(path("b.pem"), ROOT_PEM);
	setenv("SSL_CERT_FILE", path("a.pem"), 1);
	setenv("CURL_CA_BUNDLE", path("b.pem"), 1);
	assert_string_equal(trust_user_roots(), path("a.pem"));
	setenv("SSL_CERT_FILE", path("missing.pem"), 1);
	assert_string_equal(trust_user_roots(), path("b.pem"));
	unsetenv("SSL_CERT_FILE");
	setenv("CURL_CA_BUNDLE", "", 1);
	if (access(TRUST_SYSTEM_ROOTS, R_OK) == 0)
		assert_string_equal(trust_user_roots(), TRUST_SYSTEM_ROOTS);
	else
		assert_null(trust_user_roots());
	unsetenv("CURL_CA_BUNDLE");
}

static void test_wgetrc_keeps_user_lines(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	put(path("user.wgetrc"), "tries = 3\nca_certificate = /old.pem"); /* no final newline */
	setenv("WGETRC", path("user.wgetrc"), 1);
	assert_int_equal(trust_write_wgetrc(path("wgetrc"), "/run/bundle.pem", &err), ATH_OK);
	assert_file(path("wgetrc"), "tries = 3\nca_certificate = /old.pem\n"
		    "# added by athttp: the user's roots plus athttp's local CA\n"
		    "ca_certificate = /run/bundle.pem\n");
	unsetenv("WGETRC");
}

static void test_wgetrc_home_file(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	const char *old_home = getenv("HOME");
	char *saved = old_home ? strdup(old_home) : NULL;
	unsetenv("WGETRC");
	setenv("HOME", dir, 1);
	/* no ~/.wgetrc: ours alone */
	assert_int_equal(trust_write_wgetrc(path("wgetrc"), "/b.pem", &err), ATH_OK);
	assert_file(path("wgetrc"), "# added by athttp: the user's roots plus athttp's local CA\n"
		    "ca_certificate = /b.pem\n");
	put(path(".wgetrc"), "timeout = 9\n");
	assert_int_equal(trust_write_wgetrc(path("wgetrc"), "/b.pem", &err), ATH_OK);
	assert_file(path("wgetrc"), "timeout = 9\n"
		    "# added by athttp: the user's roots plus athttp's local CA\n"
		    "ca_certificate = /b.pem\n");
	if (saved)
		setenv("HOME", saved, 1);
	else
		unsetenv("HOME");
	free(saved);
}

static void test_wgetrc_refuses_line_break(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	unsetenv("WGETRC");
	assert_int_not_equal(trust_write_wgetrc(path("wgetrc"), "/a\nuse_proxy = on", &err),
			     ATH_OK);
	assert_non_null(strstr(err.text, "line break"));
	assert_int_not_equal(access(path("wgetrc"), F_OK), 0);
}

static void test_env_setup(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	put(path("ca.pem"), CA_PEM);
	put(path("roots.pem"), ROOT_PEM);
	setenv("SSL_CERT_FILE", path("roots.pem"), 1);
	setenv("SSL_CERT_DIR", "/etc/ssl/certs", 1);
	unsetenv("WGETRC");
	assert_int_equal(trust_env_setup(dir, dir, CA_PEM, &err), ATH_OK);
	const char *bundle_vars[] = { "CURL_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE",
				      "GIT_SSL_CAINFO" };
	for (size_t i = 0; i < 4; i++) {
		assert_non_null(getenv(bundle_vars[i]));
		assert_string_equal(getenv(bundle_vars[i]), path("bundle.pem"));
	}
	assert_string_equal(getenv("NODE_EXTRA_CA_CERTS"), path("ca.pem"));
	assert_string_equal(getenv("WGETRC"), path("wgetrc"));
	assert_string_equal(getenv("ATHTTP_CA_DIR"), dir);
	assert_null(getenv("SSL_CERT_DIR"));
	assert_file(path("bundle.pem"), ROOT_PEM CA_PEM);
}

static void test_run_dir(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(mkdir(path("sub"), 0700), 0);
	put(path("sub/file"), "x");

	/* A symlink to another directory goes, that directory stays. */
	char outside[PATH_MAX], keep[PATH_MAX + 8];
	assert_int_equal(trust_run_dir_create(outside, sizeof outside, &err), ATH_OK);
	snprintf(keep, sizeof keep, "%s/keep", outside);
	put(keep, "y");
	assert_int_equal(symlink(outside, path("link")), 0);

	trust_run_dir_remove(dir);
	assert_int_not_equal(access(dir, F_OK), 0);
	assert_int_equal(access(keep, F_OK), 0);
	trust_run_dir_remove(outside);
	assert_int_not_equal(access(outside, F_OK), 0);
}

static void test_run_dir_under_tmpdir(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	char mine[PATH_MAX];
	setenv("TMPDIR", dir, 1);
	assert_int_equal(trust_run_dir_create(mine, sizeof mine, &err), ATH_OK);
	assert_memory_equal(mine, dir, strlen(dir));
	assert_int_equal(strncmp(mine + strlen(dir), "/athttp.", 8), 0);
	setenv("TMPDIR", path("missing"), 1);
	assert_int_not_equal(trust_run_dir_create(mine, sizeof mine, &err), ATH_OK);
	assert_non_null(strstr(err.text, path("missing")));
	setenv("TMPDIR", "/tmp", 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_bundle_roots_then_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_roots_without_final_newline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_ca_already_among_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_without_roots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_unreadable_roots_named, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_roots_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wgetrc_keeps_user_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wgetrc_home_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wgetrc_refuses_line_break, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_dir_under_tmpdir, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
