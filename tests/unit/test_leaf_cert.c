/*
 * Leaf certificates: the DER leaf_cert writes, read back field by field with
 * mbedTLS's parser, verified against the CA, and shown by `openssl x509 -text`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <pthread.h>
#include <unistd.h>

#include <cmocka.h>

#include <mbedtls/asn1.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>

#include "leaf_cert.h"
#include "local_ca.h"
#include "unit_util.h"

#define DAY (24 * 60 * 60)

static int setup_ca(void **state)
{
	struct ath_error err;
	ath_error_clear(&err);
	struct local_ca *ca = local_ca_open(NULL, &err);
	if (!ca)
		fprintf(stderr, "local_ca_open: %s\n", err.text);
	*state = ca;
	return ca ? 0 : -1;
}

static int teardown_ca(void **state)
{
	local_ca_free(*state);
	return 0;
}

static mbedtls_x509_crt *leaf(struct local_ca *ca, const char *name)
{
	struct ath_error err;
	ath_error_clear(&err);
	mbedtls_x509_crt *crt = NULL;
	mbedtls_pk_context *key = NULL;
	enum ath_err rc = local_ca_leaf(ca, name, &crt, &key, &err);
	if (rc)
		fprintf(stderr, "local_ca_leaf(%s): %s\n", name, err.text);
	assert_int_equal(rc, ATH_OK);
	assert_non_null(crt);
	assert_non_null(key);
	/* The chain: leaf, then the CA. */
	assert_non_null(crt->next);
	assert_memory_equal(crt->next->raw.p, local_ca_cert(ca)->raw.p, crt->next->raw.len);
	assert_int_equal(mbedtls_pk_check_pair(&crt->pk, key), 0);
	return crt;
}

/* The value of the subject's CN, or NULL. */
static const mbedtls_x509_buf *subject_cn(const mbedtls_x509_crt *crt)
{
	for (const mbedtls_x509_name *n = &crt->subject; n; n = n->next)
		if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0)
			return &n->val;
	return NULL;
}

static time_t x509_time(const mbedtls_x509_time *t)
{
	struct tm tm = { .tm_year = t->year - 1900, .tm_mon = t->mon - 1, .tm_mday = t->day,
			 .tm_hour = t->hour, .tm_min = t->min, .tm_sec = t->sec };
	return timegm(&tm);
}

/* The fields every leaf has, whatever its name. */
static void check_common(struct local_ca *ca, const mbedtls_x509_crt *crt)
{
	const unsigned char *v;
	size_t vlen;
	int critical = -1;

	assert_int_equal(crt->version, 3);
	assert_int_equal(crt->sig_md, MBEDTLS_MD_SHA256);
	assert_int_equal(crt->sig_pk, MBEDTLS_PK_ECDSA);
	assert_int_equal(mbedtls_pk_get_type(&crt->pk), MBEDTLS_PK_ECKEY);
	assert_int_equal(mbedtls_pk_ec(crt->pk)->grp.id, MBEDTLS_ECP_DP_SECP256R1);

	/* Serial: 16 bytes, positive. */
	assert_int_equal(crt->serial.len, CERT_SERIAL_LEN);
	assert_int_equal(crt->serial.p[0] & 0x80, 0);
	assert_int_not_equal(crt->serial.p[0], 0);

	/* EKU: exactly serverAuth. */
	static const unsigned char eku[] = { 0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01,
					     0x05, 0x05, 0x07, 0x03, 0x01 };
	assert_int_equal(cert_find_extension(crt, MBEDTLS_OID_EXTENDED_KEY_USAGE,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE), &v,
					     &vlen, &critical), 0);
	assert_int_equal(vlen, sizeof eku);
	assert_memory_equal(v, eku, sizeof eku);
	assert_int_equal(critical, 0);
	assert_int_equal(mbedtls_x509_crt_check_extended_key_usage(
		crt, MBEDTLS_OID_SERVER_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)), 0);
	assert_int_not_equal(mbedtls_x509_crt_check_extended_key_usage(
		crt, MBEDTLS_OID_CLIENT_AUTH, MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH)), 0);

	/* keyUsage digitalSignature, critical. */
	assert_true(crt->ext_types & MBEDTLS_X509_EXT_KEY_USAGE);
	assert_int_equal(crt->key_usage, MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
	assert_int_equal(cert_find_extension(crt, MBEDTLS_OID_KEY_USAGE,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_KEY_USAGE), &v, &vlen,
					     &critical), 0);
	assert_int_equal(critical, 1);

	/* basicConstraints present, CA:FALSE. */
	assert_true(crt->ext_types & MBEDTLS_X509_EXT_BASIC_CONSTRAINTS);
	assert_int_equal(crt->ca_istrue, 0);

	/* AKI: SEQUENCE { [0] the CA's SKI }. */
	const unsigned char *ca_id;
	size_t ca_id_len;
	assert_int_equal(cert_subject_key_id(local_ca_cert(ca), &ca_id, &ca_id_len), 0);
	assert_int_equal(cert_find_extension(crt, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER),
					     &v, &vlen, &critical), 0);
	assert_int_equal(critical, 0);
	assert_int_equal(vlen, 4 + ca_id_len);
	assert_int_equal(v[0], 0x30);
	assert_int_equal(v[1], 2 + ca_id_len);
	assert_int_equal(v[2], 0x80);
	assert_int_equal(v[3], ca_id_len);
	assert_memory_equal(v + 4, ca_id, ca_id_len);

	/* Its own SKI, and a different one from the CA's. */
	const unsigned char *id;
	size_t id_len;
	assert_int_equal(cert_subject_key_id(crt, &id, &id_len), 0);
	assert_int_equal(id_len, 20);
	assert_false(id_len == ca_id_len && memcmp(id, ca_id, id_len) == 0);

	/* Issuer: the CA's subject, byte for byte. */
	assert_int_equal(crt->issuer_raw.len, local_ca_cert(ca)->subject_raw.len);
	assert_memory_equal(crt->issuer_raw.p, local_ca_cert(ca)->subject_raw.p,
			    crt->issuer_raw.len);

	/* Validity: 1 day back, 7 days ahead (give the clock a minute). */
	time_t now = time(NULL);
	time_t from = x509_time(&crt->valid_from), to = x509_time(&crt->valid_to);
	assert_true(from <= now - DAY + 60 && from >= now - DAY - 60);
	assert_true(to <= now + 7 * DAY + 60 && to >= now + 7 * DAY - 60);
}

static void check_san(const mbedtls_x509_crt *crt, int tag, const void *value, size_t len,
		      int critical)
{
	assert_true(crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME);
	const mbedtls_x509_sequence *san = &crt->subject_alt_names;
	assert_null(san->next);
	assert_int_equal(san->buf.tag, MBEDTLS_ASN1_CONTEXT_SPECIFIC | tag);
	assert_int_equal(san->buf.len, len);
	assert_memory_equal(san->buf.p, value, len);
	const unsigned char *v;
	size_t vlen;
	int crit = -1;
	assert_int_equal(cert_find_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
					     MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), &v, &vlen,
					     &crit), 0);
	assert_int_equal(crit, critical);
}

static void check_cn(const mbedtls_x509_crt *crt, const char *cn)
{
	const mbedtls_x509_buf *val = subject_cn(crt);
	if (!cn) {
		assert_null(val);
		return;
	}
	assert_non_null(val);
	assert_int_equal(val->len, strlen(cn));
	assert_memory_equal(val->p, cn, val->len);
}

static uint32_t verify(const mbedtls_x509_crt *crt, struct local_ca *ca, const char *name)
{
	uint32_t flags = 0;
	mbedtls_x509_crt *trust = (mbedtls_x509_crt *)local_ca_cert(ca);
	int ret = mbedtls_x509_crt_verify((mbedtls_x509_crt *)crt, trust, NULL, name, &flags,
					  NULL, NULL);
	return ret == 0 ? 0 : (flags ? flags : 0x80000000u);
}

/* `openssl x509 -noout -text` of crt's PEM. */
static char *openssl_text(const mbedtls_x509_crt *crt)
{
	unsigned char pem[4096];
	size_t olen;
	assert_int_equal(mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
						  "-----END CERTIFICATE-----\n", crt->raw.p,
						  crt->raw.len, pem, sizeof pem, &olen), 0);
	char path[] = "/tmp/test_leaf_cert.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, pem, strlen((char *)pem)), (ssize_t)strlen((char *)pem));
	close(fd);
	char *cmd = fmt("openssl x509 -noout -text -in %s 2>&1", path);
	FILE *p = popen(cmd, "r");
	free(cmd);
	assert_non_null(p);
	char *out = calloc(1, 65536);
	size_t n = fread(out, 1, 65535, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	unlink(path);
	return out;
}

static void dns_leaf(void **state)
{
	struct local_ca *ca = *state;
	mbedtls_x509_crt *crt = leaf(ca, "origin.test");
	check_common(ca, crt);
	check_san(crt, 2, "origin.test", 11, 0);
	check_cn(crt, "origin.test");
	assert_int_equal(verify(crt, ca, "origin.test"), 0);
	assert_true(verify(crt, ca, "other.test") & MBEDTLS_X509_BADCERT_CN_MISMATCH);

	char *text = openssl_text(crt);
	assert_non_null(strstr(text, "DNS:origin.test"));
	assert_non_null(strstr(text, "TLS Web Server Authentication"));
	assert_non_null(strstr(text, "X509v3 Authority Key Identifier"));
	assert_non_null(strstr(text, "CA:FALSE"));
	assert_non_null(strstr(text, "X509v3 Key Usage: critical"));
	assert_non_null(strstr(text, "Digital Signature"));
	assert_non_null(strstr(text, "Subject: CN = origin.test"));
	assert_non_null(strstr(text, "ecdsa-with-SHA256"));
	free(text);
}

static void cache_by_name(void **state)
{
	struct local_ca *ca = *state;
	mbedtls_x509_crt *a = leaf(ca, "cache.test");
	/* DNS names are case-insensitive: one leaf, in lower case. */
	assert_ptr_equal(leaf(ca, "CACHE.Test"), a);
	check_san(a, 2, "cache.test", 10, 0);
	/* Another name: another leaf with its own serial, the same key. */
	mbedtls_x509_crt *b = leaf(ca, "other.test");
	assert_ptr_not_equal(a, b);
	assert_int_equal(a->serial.len, b->serial.len);
	assert_memory_not_equal(a->serial.p, b->serial.p, a->serial.len);
	assert_int_equal(a->pk_raw.len, b->pk_raw.len);
	assert_memory_equal(a->pk_raw.p, b->pk_raw.p, a->pk_raw.len);
}

static void ipv4_leaf(void **state)
{
	struct local_ca *ca = *state;
	mbedtls_x509_crt *crt = leaf(ca, "127.0.0.1");
	check_common(ca, crt);
	static const unsigned char ip[4] = { 127, 0, 0, 1 };
	check_san(crt, 7, ip, sizeof ip, 0);
	check_cn(crt, "127.0.0.1");
	/* mbedTLS 2.28 matches names against dNSName only: check the chain alone. */
	assert_int_equal(verify(crt, ca, NULL), 0);
	char *text = openssl_text(crt);
	assert_non_null(strstr(text, "IP Address:127.0.0.1"));
	assert_null(strstr(text, "DNS:"));
	assert_non_null(strstr(text, "TLS Web Server Authentication"));
	assert_non_null(strstr(text, "Authority Key Identifier"));
	assert_non_null(strstr(text, "CA:FALSE"));
	free(text);
}

static void ipv6_leaf(void **state)
{
	struct local_ca *ca = *state;
	mbedtls_x509_crt *crt = leaf(ca, "::1");
	check_common(ca, crt);
	unsigned char ip[16] = { 0 };
	ip[15] = 1;
	check_san(crt, 7, ip, sizeof ip, 0);
	check_cn(crt, "::1");
	/* Another spelling of the same address is the same leaf. */
	assert_ptr_equal(leaf(ca, "0:0::0:1"), crt);
	char *text = openssl_text(crt);
	assert_non_null(strstr(text, "IP Address:0:0:0:0:0:0:0:1"));
	free(text);
}

/* A name of n bytes: labels of 9 letters and a dot, the last label shortened. */
static char *long_name(size_t n)
{
	char *s = malloc(n + 1);
	for (size_t i = 0; i < n; i++)
		s[i] = (i % 10 == 9) ? '.' : (char)('a' + i % 10);
	if (s[n - 1] == '.')
		s[n - 1] = 'z';
	s[n] = '\0';
	return s;
}

static void cn_only_under_64(void **state)
{
	struct local_ca *ca = *state;
	char *n63 = long_name(63), *n64 = long_name(64), *n253 = long_name(253);
	mbedtls_x509_crt *crt = leaf(ca, n63);
	check_common(ca, crt);
	check_cn(crt, n63);
	check_san(crt, 2, n63, 63, 0);
	assert_int_equal(verify(crt, ca, n63), 0);

	/* No CN: the subject is empty, so the SAN is critical (RFC 5280 4.2.1.6). */
	crt = leaf(ca, n64);
	check_common(ca, crt);
	check_cn(crt, NULL);
	check_san(crt, 2, n64, 64, 1);
	assert_int_equal(verify(crt, ca, n64), 0);
	char *text = openssl_text(crt);
	assert_non_null(strstr(text, "X509v3 Subject Alternative Name: critical"));
	assert_non_null(strstr(text, n64));
	free(text);

	crt = leaf(ca, n253);
	check_cn(crt, NULL);
	check_san(crt, 2, n253, 253, 1);
	free(n63);
	free(n64);
	free(n253);
}

static void bad_names(void **state)
{
	struct local_ca *ca = *state;
	char *n254 = long_name(254);
	char label64[80];
	memset(label64, 'a', 64);
	strcpy(label64 + 64, ".test");
	const char *bad[] = { "", "a b.test", "a..test", ".a.test", "a.test.", "-a.test",
			      "a-.test", "a.test/x", "a.test\r\nX: y", "[::1]", "1.2.3.999",
			      "a\"b", "*.test", n254, label64 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ath_error err;
		ath_error_clear(&err);
		mbedtls_x509_crt *crt = NULL;
		mbedtls_pk_context *key = NULL;
		enum ath_err rc = local_ca_leaf(ca, bad[i], &crt, &key, &err);
		if (rc != ATH_E_BAD_REQUEST)
			fprintf(stderr, "name %zu \"%s\" not refused\n", i, bad[i]);
		assert_int_equal(rc, ATH_E_BAD_REQUEST);
		assert_true(err.text[0] != '\0');
		assert_null(crt);
	}
	struct ath_error err;
	ath_error_clear(&err);
	mbedtls_x509_crt *crt = NULL;
	mbedtls_pk_context *key = NULL;
	assert_int_equal(local_ca_leaf(ca, NULL, &crt, &key, &err), ATH_E_BAD_REQUEST);
	free(n254);

	/* What is allowed. */
	const char *good[] = { "localhost", "a_b.test", "x-1.example.com", "10.0.0.255",
			       "fe80::1", "123.test" };
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct leaf_name ln;
		assert_int_equal(leaf_name_parse(good[i], &ln, NULL), ATH_OK);
	}
}

struct leaf_job {
	struct local_ca *ca;
	int index;
	mbedtls_x509_crt *same;      /* the leaf every thread asks for */
	mbedtls_x509_crt *own;       /* one name per thread */
	enum ath_err rc;
};

static void *leaf_job_run(void *arg)
{
	struct leaf_job *j = arg;
	mbedtls_pk_context *key;
	char name[32];
	snprintf(name, sizeof name, "thread%d.test", j->index);
	j->rc = local_ca_leaf(j->ca, "shared.test", &j->same, &key, NULL);
	if (j->rc == ATH_OK)
		j->rc = local_ca_leaf(j->ca, name, &j->own, &key, NULL);
	return NULL;
}

/* Sessions on several threads ask at once: one leaf per name, each minted once. */
static void leaves_from_many_threads(void **state)
{
	struct local_ca *ca = *state;
	enum { N = 8 };
	struct leaf_job jobs[N];
	pthread_t th[N];
	for (int i = 0; i < N; i++) {
		jobs[i] = (struct leaf_job){ .ca = ca, .index = i };
		assert_int_equal(pthread_create(&th[i], NULL, leaf_job_run, &jobs[i]), 0);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		assert_int_equal(jobs[i].rc, ATH_OK);
		assert_ptr_equal(jobs[i].same, jobs[0].same);
		for (int k = 0; k < i; k++) {
			assert_ptr_not_equal(jobs[i].own, jobs[k].own);
			assert_memory_not_equal(jobs[i].own->serial.p, jobs[k].own->serial.p,
						CERT_SERIAL_LEN);
		}
		char name[32];
		snprintf(name, sizeof name, "thread%d.test", i);
		assert_int_equal(verify(jobs[i].own, ca, name), 0);
	}
}

/* Certificate times past January 2038 (where a 32-bit time_t ends, as on
 * armhf: the local CA's ten years reach past it from 2028 on). */
static void cert_times_past_2038(void **state)
{
	(void)state;
	static const struct { int64_t t; const char *text; } known[] = {
		{ 0, "19700101000000" },
		{ -1, "19691231235959" },
		{ 951782400, "20000229000000" },
		{ 2147483647, "20380119031407" },
		{ 2147483648ll, "20380119031408" },
		{ 2208988800ll, "20400101000000" },
		{ 4107542399ll, "21000228235959" },
		{ 4107542400ll, "21000301000000" },
		{ 253402300799ll, "99991231235959" },
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		char text[15];
		cert_time(text, known[i].t);
		assert_string_equal(text, known[i].text);
		mbedtls_x509_time x;
		assert_int_equal(sscanf(text, "%4d%2d%2d%2d%2d%2d", &x.year, &x.mon, &x.day,
					&x.hour, &x.min, &x.sec), 6);
		assert_true(cert_time_of(&x) == known[i].t);
	}
	/* Every day for 400 years from 1900, one second before midnight, both ways. */
	for (int64_t t = -2208988800ll + 86399; t < 10413792000ll; t += 86400) {
		char text[15];
		cert_time(text, t);
		mbedtls_x509_time x;
		assert_int_equal(sscanf(text, "%4d%2d%2d%2d%2d%2d", &x.year, &x.mon, &x.day,
					&x.hour, &x.min, &x.sec), 6);
		assert_true(cert_time_of(&x) == t);
		assert_true(x.mon >= 1 && x.mon <= 12 && x.day >= 1 && x.day <= 31);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(dns_leaf),
		cmocka_unit_test(cache_by_name),
		cmocka_unit_test(ipv4_leaf),
		cmocka_unit_test(ipv6_leaf),
		cmocka_unit_test(cn_only_under_64),
		cmocka_unit_test(bad_names),
		cmocka_unit_test(leaves_from_many_threads),
		cmocka_unit_test(cert_times_past_2038),
	};
	return cmocka_run_group_tests(tests, setup_ca, teardown_ca);
}
