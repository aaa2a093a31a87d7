/*
 * The local CA: in memory, kept in a directory (modes, reopening, what it refuses),
 * and its certificate's extensions as mbedTLS and `openssl x509 -text` read them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#include "leaf_cert.h"
#include "local_ca.h"
#include "unit_util.h"

#define DAY (24 * 60 * 60)

struct fixture {
	char base[64];      /* a fresh temporary directory */
	char *dir;          /* base/ca: where the CA is kept */
	char *key;
	char *cert;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	strcpy(f->base, "/tmp/test_local_ca.XXXXXX");
	if (!mkdtemp(f->base))
		return -1;
	f->dir = fmt("%s/ca", f->base);
	f->key = fmt("%s/ca.key", f->dir);
	f->cert = fmt("%s/ca.pem", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = fmt("rm -rf '%s'", f->base);
	int rc = system(cmd);
	free(cmd);
	free(f->dir);
	free(f->key);
	free(f->cert);
	free(f);
	return rc == 0 ? 0 : -1;
}

static struct local_ca *open_ok(const char *dir)
{
	struct ath_error err;
	ath_error_clear(&err);
	struct local_ca *ca = local_ca_open(dir, &err);
	if (!ca)
		fprintf(stderr, "local_ca_open(%s): %s\n", dir ? dir : "NULL", err.text);
	assert_non_null(ca);
	return ca;
}

/* local_ca_open must refuse dir, and its error must contain want. */
static void open_refused(const char *dir, const char *want)
{
	struct ath_error err;
	ath_error_clear(&err);
	struct local_ca *ca = local_ca_open(dir, &err);
	if (ca || !strstr(err.text, want))
		fprintf(stderr, "wanted a refusal naming \"%s\", got \"%s\"\n", want, err.text);
	assert_null(ca);
	assert_int_equal(err.code, ATH_E_CONFIG);
	assert_non_null(strstr(err.text, want));
}

static mode_t mode_of(const char *path)
{
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	return st.st_mode & 07777;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void check_ca_cert(const mbedtls_x509_crt *crt)
{
	const unsigned char *v;
	size_t vlen;
	int critical = -1;
	assert_int_equal(crt->version, 3);
	assert_int_equal(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_ECKEY);
	assert_int_equal(mbedtls_pk_ec(crt->pk)->grp.id, MBEDTLS_ECP_DP_SECP256R1);
	assert_int_equal(crt->sig_md, MBEDTLS_MD_SHA256);
	/* Self-signed. */
	assert_int_equal(crt->issuer_raw.len, crt->subject_raw.len);
	assert_memory_equal(crt->issuer_raw.p, crt->subject_raw.p, crt->subject_raw.len);
	uint32_t flags = 0;
	assert_int_equal(mbedtls_x509_crt_verify((mbedtls_x509_crt *)crt,
						 (mbedtls_x509_crt *)crt, NULL, NULL, &flags,
						 NULL, NULL), 0);

	/* basicConstraints CA:TRUE pathlen:0, critical (mbedTLS keeps pathlen + 1). */
	assert_true(crt->ext_types & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS);
	assert_int_equal(crt->ca_istrue, 1);
	assert_int_equal(crt->max_pathlen, 1);
	assert_int_equal(cert_find_extension(crt, MBEDTLS_OID_BASIC_CONSTRAINTS,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_BASIC_CONSTRAINTS), &v,
					     &vlen, &critical), 0);
	assert_int_equal(critical, 1);

	/* keyUsage keyCertSign|cRLSign, critical. */
	assert_int_equal(crt->key_usage, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN);
	critical = -1;
	assert_int_equal(cert_find_extension(crt, MBEDTLS_OID_KEY_USAGE,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_KEY_USAGE), &v, &vlen,
					     &critical), 0);
	assert_int_equal(critical, 1);

	const unsigned char *id;
	size_t id_len;
	assert_int_equal(cert_subject_key_id(crt, &id, &id_len), 0);
	assert_int_equal(id_len, 20);

	assert_int_equal(crt->serial.len, CERT_SERIAL_LEN);
	assert_int_equal(crt->serial.p[0] & 0x80, 0);

	/* CN "athttp local CA <host> <16 hex digits>". */
	char dn[256];
	assert_true(mbedtls_x509_dn_gets(dn, sizeof dn, &crt->subject) > 0);
	assert_int_equal(strncmp(dn, "CN=athttp local CA ", 19), 0);
	const char *hex = strrchr(dn, ' ') + 1;
	assert_int_equal(strlen(hex), 16);
	assert_int_equal(strspn(hex, "0123456789abcdef"), 16);

	struct tm from = { .tm_year = crt->valid_from.year - 1900,
			   .tm_mon = crt->valid_from.mon - 1, .tm_mday = crt->valid_from.day,
			   .tm_hour = crt->valid_from.hour, .tm_min = crt->valid_from.min };
	time_t now = time(NULL);
	time_t t = timegm(&from);
	assert_true(t <= now - DAY + 60 && t >= now - DAY - 120);
	assert_true(crt->valid_to.year >= crt->valid_from.year + 10);
}

static void in_memory(void **state)
{
	struct local_ca *a = open_ok(NULL), *b = open_ok(NULL);
	check_ca_cert(local_ca_cert(a));
	const char *pem = local_ca_cert_pem(a);
	assert_int_equal(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28), 0);
	assert_non_null(strstr(pem, "-----END CERTIFICATE-----\n"));
	/* The PEM is the parsed certificate. */
	mbedtls_x509_crt crt;
	mbedtls_x509_crt_init(&crt);
	assert_int_equal(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem,
						strlen(pem) + 1), 0);
	assert_int_equal(crt.raw.len, local_ca_cert(a)->raw.len);
	assert_memory_equal(crt.raw.p, local_ca_cert(a)->raw.p, crt.raw.len);
	mbedtls_x509_crt_free(&crt);
	/* Two CAs are two CAs. */
	assert_string_not_equal(pem, local_ca_cert_pem(b));
	local_ca_free(a);
	local_ca_free(b);
}

static void kept_in_dir(void **state)
{
	struct fixture *f = *state;
	struct local_ca *ca = open_ok(f->dir);
	assert_int_equal(mode_of(f->dir), 0700);
	assert_int_equal(mode_of(f->key), 0600);
	assert_int_equal(mode_of(f->cert), 0644);
	check_ca_cert(local_ca_cert(ca));
	char *on_disk = slurp(f->cert);
	assert_string_equal(on_disk, local_ca_cert_pem(ca));
	char *key = slurp(f->key);
	assert_non_null(strstr(key, "-----BEGIN EC PRIVATE KEY-----"));
	/* No temporary file is left behind. */
	char *cmd = fmt("test $(ls -A '%s' | wc -l) -eq 2", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);

	/* Reopening loads the same CA, whose leaves verify against the first one. */
	struct local_ca *again = open_ok(f->dir);
	assert_string_equal(local_ca_cert_pem(again), local_ca_cert_pem(ca));
	mbedtls_x509_crt *leaf;
	mbedtls_pk_context *leaf_key;
	assert_int_equal(local_ca_leaf(again, "kept.test", &leaf, &leaf_key, NULL), ATH_OK);
	uint32_t flags = 0;
	assert_int_equal(mbedtls_x509_crt_verify(leaf, (mbedtls_x509_crt *)local_ca_cert(ca),
						 NULL, "kept.test", &flags, NULL, NULL), 0);
	char *key_again = slurp(f->key);
	assert_string_equal(key, key_again);
	free(key_again);
	local_ca_free(again);
	local_ca_free(ca);
	free(on_disk);
	free(key);

	/* An existing 0700 dir is used as it is. */
	struct local_ca *third = open_ok(f->dir);
	local_ca_free(third);
}

static void cert_made_again_for_kept_key(void **state)
{
	struct fixture *f = *state;
	struct local_ca *ca = open_ok(f->dir);
	char *pem = strdup(local_ca_cert_pem(ca));
	local_ca_free(ca);
	assert_int_equal(unlink(f->cert), 0);
	ca = open_ok(f->dir);
	/* A new certificate for the same key. */
	assert_string_not_equal(pem, local_ca_cert_pem(ca));
	assert_int_equal(mode_of(f->cert), 0644);
	char *on_disk = slurp(f->cert);
	assert_string_equal(on_disk, local_ca_cert_pem(ca));
	free(on_disk);
	free(pem);
	local_ca_free(ca);
}

static void key_readable_by_group_refused(void **state)
{
	struct fixture *f = *state;
	local_ca_free(open_ok(f->dir));
	assert_int_equal(chmod(f->key, 0640), 0);
	open_refused(f->dir, f->key);
	open_refused(f->dir, "group or others");
	assert_int_equal(chmod(f->key, 0604), 0);
	open_refused(f->dir, "0604");
	assert_int_equal(chmod(f->key, 0600), 0);
	local_ca_free(open_ok(f->dir));
}

static void dir_writable_by_others_refused(void **state)
{
	struct fixture *f = *state;
	local_ca_free(open_ok(f->dir));
	assert_int_equal(chmod(f->dir, 0777), 0);
	open_refused(f->dir, f->dir);
	open_refused(f->dir, "group or others write");
	assert_int_equal(chmod(f->dir, 0770), 0);
	open_refused(f->dir, "0770");
	assert_int_equal(chmod(f->dir, 0700), 0);
	local_ca_free(open_ok(f->dir));
}

static void key_symlink_refused(void **state)
{
	struct fixture *f = *state;
	local_ca_free(open_ok(f->dir));
	char *elsewhere = fmt("%s/real.key", f->base);
	assert_int_equal(rename(f->key, elsewhere), 0);
	assert_int_equal(symlink(elsewhere, f->key), 0);
	open_refused(f->dir, f->key);
	free(elsewhere);
}

static void mismatched_key_and_cert_refused(void **state)
{
	struct fixture *f = *state;
	char *other = fmt("%s/other", f->base);
	local_ca_free(open_ok(f->dir));
	local_ca_free(open_ok(other));
	/* This dir's key with the other CA's certificate. */
	char *cmd = fmt("cp '%s/ca.pem' '%s'", other, f->cert);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	open_refused(f->dir, "does not match");
	open_refused(f->dir, f->cert);
	free(other);
}

static void garbage_key_refused(void **state)
{
	struct fixture *f = *state;
	local_ca_free(open_ok(f->dir));
	FILE *fp = fopen(f->key, "w");
	assert_non_null(fp);
	fputs("-----BEGIN EC PRIVATE KEY-----\nnot base64 at all\n-----END EC PRIVATE KEY-----\n", fp);
	fclose(fp);
	open_refused(f->dir, f->key);
}

/* Processes racing to create the CA all end up with the one the first made. */
static void racing_processes_agree(void **state)
{
	struct fixture *f = *state;
	enum { N = 4 };
	int fds[N][2];
	pid_t pids[N];
	for (int i = 0; i < N; i++) {
		assert_int_equal(pipe(fds[i]), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			struct local_ca *ca = local_ca_open(f->dir, NULL);
			const char *pem = ca ? local_ca_cert_pem(ca) : "failed";
			ssize_t w = write(fds[i][1], pem, strlen(pem));
			int rc = w == (ssize_t)strlen(pem) && ca ? 0 : 1;
			local_ca_free(ca);   /* a clean exit under valgrind too */
			_exit(rc);
		}
		close(fds[i][1]);
	}
	char *first = NULL;
	for (int i = 0; i < N; i++) {
		char buf[4096] = "";
		size_t n = 0;
		ssize_t r;
		while ((r = read(fds[i][0], buf + n, sizeof buf - 1 - n)) > 0)
			n += (size_t)r;
		buf[n] = '\0';
		close(fds[i][0]);
		int status;
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (!first)
			first = strdup(buf);
		else
			assert_string_equal(first, buf);
	}
	char *on_disk = slurp(f->cert);
	assert_string_equal(first, on_disk);
	free(on_disk);
	free(first);
}

static void openssl_reads_it(void **state)
{
	struct fixture *f = *state;
	local_ca_free(open_ok(f->dir));
	char *cmd = fmt("openssl x509 -noout -text -in '%s' 2>&1", f->cert);
	FILE *p = popen(cmd, "r");
	free(cmd);
	assert_non_null(p);
	char *out = calloc(1, 65536);
	size_t n = fread(out, 1, 65535, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(out, "X509v3 Basic Constraints: critical"));
	assert_non_null(strstr(out, "CA:TRUE, pathlen:0"));
	assert_non_null(strstr(out, "X509v3 Key Usage: critical"));
	assert_non_null(strstr(out, "Certificate Sign, CRL Sign"));
	assert_non_null(strstr(out, "X509v3 Subject Key Identifier"));
	assert_non_null(strstr(out, "Subject: CN = athttp local CA "));
	assert_non_null(strstr(out, "NIST CURVE: P-256"));
	free(out);
	/* And openssl can read the key and agrees it is the certificate's. */
	cmd = fmt("test \"$(openssl pkey -in '%s' -pubout 2>/dev/null)\" = "
		  "\"$(openssl x509 -in '%s' -noout -pubkey)\"", f->key, f->cert);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* A kept certificate near its end is made anew for the same key. */
static void expiring_cert_renewed(void **state)
{
	struct fixture *f = *state;
	local_ca_free(open_ok(f->dir));
	char *cmd = fmt("openssl req -x509 -key '%s' -days 3 -subj /CN=old -sha256 "
			"-addext basicConstraints=critical,CA:TRUE,pathlen:0 "
			"-addext keyUsage=critical,keyCertSign,cRLSign "
			"-addext subjectKeyIdentifier=hash -out '%s' 2>/dev/null", f->key, f->cert);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	char *old = slurp(f->cert);
	struct local_ca *ca = open_ok(f->dir);
	const mbedtls_x509_crt *crt = local_ca_cert(ca);
	check_ca_cert(crt);
	char *now_on_disk = slurp(f->cert);
	assert_string_not_equal(old, now_on_disk);
	assert_string_equal(now_on_disk, local_ca_cert_pem(ca));
	free(old);
	free(now_on_disk);
	local_ca_free(ca);
}

/* A forked child must not draw its parent's random bytes. */
static void forked_child_draws_other_random_bytes(void **state)
{
	struct local_ca *ca = open_ok(NULL);
	unsigned char before[16], parent[32], child[32] = { 0 };
	assert_int_equal(local_ca_random(ca, before, sizeof before), 0);
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		unsigned char mine[32];
		int ok = local_ca_random(ca, mine, sizeof mine) == 0 &&
			 write(fds[1], mine, sizeof mine) == (ssize_t)sizeof mine;
		local_ca_free(ca);   /* the child's copy: a clean exit under valgrind too */
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(local_ca_random(ca, parent, sizeof parent), 0);
	assert_int_equal(read(fds[0], child, sizeof child), (ssize_t)sizeof child);
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_memory_not_equal(parent, child, sizeof parent);
	local_ca_free(ca);
}

/* Only root can give a file away; elsewhere this test has nothing to try. */
static void key_of_another_user_refused(void **state)
{
	struct fixture *f = *state;
	if (geteuid() != 0) {
		skip();
		return;
	}
	local_ca_free(open_ok(f->dir));
	assert_int_equal(chown(f->key, 65534, 65534), 0);
	open_refused(f->dir, f->key);
	open_refused(f->dir, "owned by uid 65534");
	assert_int_equal(chown(f->key, 0, 0), 0);
	assert_int_equal(chown(f->dir, 65534, 65534), 0);
	open_refused(f->dir, "owned by uid 65534");
	assert_int_equal(chown(f->dir, 0, 0), 0);
	local_ca_free(open_ok(f->dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_memory),
		cmocka_unit_test_setup_teardown(kept_in_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(cert_made_again_for_kept_key, setup, teardown),
		cmocka_unit_test_setup_teardown(key_readable_by_group_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(dir_writable_by_others_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(key_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(key_of_another_user_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(mismatched_key_and_cert_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(garbage_key_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(racing_processes_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(openssl_reads_it, setup, teardown),
		cmocka_unit_test_setup_teardown(expiring_cert_renewed, setup, teardown),
		cmocka_unit_test(forked_child_draws_other_random_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
