/* Minting a leaf certificate for one name, signed by the local CA. */
#include "leaf_cert.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#define DAY_SECONDS (24 * 60 * 60)

static int dns_label_char(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '_';
}

static enum ath_err dns_name_parse(const char *name, size_t len, struct leaf_name *out,
				   struct ath_error *err)
{
	size_t label_start = 0;
	int all_digits = 1;
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)name[i] : '.';
		if (i < len)
			out->text[i] = (char)tolower(c);
		if (c == '.') {
			size_t label_len = i - label_start;
			if (label_len == 0)
				return ath_fail(err, ATH_E_BAD_REQUEST, -1,
						"TLS name \"%.*s\": empty label", (int)len, name);
			if (label_len > 63)
				return ath_fail(err, ATH_E_BAD_REQUEST, -1,
						"TLS name: a label of %zu bytes (at most 63)",
						label_len);
			if (name[label_start] == '-' || name[i - 1] == '-')
				return ath_fail(err, ATH_E_BAD_REQUEST, -1,
						"TLS name \"%.*s\": a label begins or ends with '-'",
						(int)len, name);
			if (i == len && all_digits)
				return ath_fail(err, ATH_E_BAD_REQUEST, -1,
						"TLS name \"%.*s\": neither a DNS name nor an IP literal",
						(int)len, name);
			label_start = i + 1;
			all_digits = 1;
			continue;
		}
		if (!dns_label_char(c))
			return ath_fail(err, ATH_E_BAD_REQUEST, -1,
					"TLS name: byte 0x%02x at %zu is not allowed in a DNS name",
					c, i);
		if (!isdigit(c))
			all_digits = 0;
	}
	out->text[len] = '\0';
	out->kind = LEAF_NAME_DNS;
	out->ip_len = 0;
	return ATH_OK;
}

enum ath_err leaf_name_parse(const char *name, struct leaf_name *out, struct ath_error *err)
{
	memset(out, 0, sizeof *out);
	if (!name || !*name)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1, "TLS name: empty");
	size_t len = strlen(name);
	if (len > LEAF_NAME_MAX)
		return ath_fail(err, ATH_E_BAD_REQUEST, -1,
				"TLS name: %zu bytes (at most %d)", len, LEAF_NAME_MAX);
	if (inet_pton(AF_INET, name, out->ip) == 1) {
		out->kind = LEAF_NAME_IPV4;
		out->ip_len = 4;
		inet_ntop(AF_INET, out->ip, out->text, sizeof out->text);
		return ATH_OK;
	}
	if (inet_pton(AF_INET6, name, out->ip) == 1) {
		out->kind = LEAF_NAME_IPV6;
		out->ip_len = 16;
		inet_ntop(AF_INET6, out->ip, out->text, sizeof out->text);
		return ATH_OK;
	}
	return dns_name_parse(name, len, out, err);
}

int cert_random_serial(mbedtls_mpi *serial, cert_rng_fn f_rng, void *p_rng)
{
	unsigned char raw[CERT_SERIAL_LEN];
	int ret = f_rng(p_rng, raw, sizeof raw);
	if (ret != 0)
		return ret;
	/* Top bit clear: positive; next bit set: no leading zero byte, so the DER
	 * INTEGER is exactly CERT_SERIAL_LEN bytes. */
	raw[0] = (unsigned char)((raw[0] & 0x7f) | 0x40);
	return mbedtls_mpi_read_binary(serial, raw, sizeof raw);
}

/* The proleptic Gregorian calendar in days since 1970-01-01, both ways, in
 * 64 bits (H. Hinnant's days_from_civil and civil_from_days): certificate
 * times must not go through time_t, which ends in 2038 where it has 32 bits. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void cert_time(char out[15], int64_t t)
{
	int64_t days = t / DAY_SECONDS, secs = t % DAY_SECONDS, y;
	unsigned m, d;
	if (secs < 0) {
		secs += DAY_SECONDS;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	char buf[64];
	snprintf(buf, sizeof buf, "%04lld%02u%02u%02d%02d%02d", (long long)y, m, d,
		 (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	memcpy(out, buf, 14);
	out[14] = '\0';
}

int64_t cert_time_of(const mbedtls_x509_time *t)
{
	return days_from_civil(t->year, (unsigned)t->mon, (unsigned)t->day) * DAY_SECONDS +
	       t->hour * 3600 + t->min * 60 + t->sec;
}

/* Walks Extensions ::= SEQUENCE OF Extension; v3_ext may or may not still carry
 * the [3] EXPLICIT wrapper depending on how the parser kept it. */
int cert_find_extension(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
			const unsigned char **value, size_t *value_len, int *critical)
{
	unsigned char *p = crt->v3_ext.p;
	if (!p || crt->v3_ext.len == 0)
		return -1;
	const unsigned char *end = p + crt->v3_ext.len;
	size_t len;
	if (*p == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_ASN1_CONSTRUCTED | 3)) {
		if (mbedtls_asn1_get_tag(&p, end, &len, *p) != 0)
			return -1;
		end = p + len;
	}
	if (mbedtls_asn1_get_tag(&p, end, &len, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
		return -1;
	end = p + len;
	while (p < end) {
		if (mbedtls_asn1_get_tag(&p, end, &len,
					 MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE))
			return -1;
		const unsigned char *ext_end = p + len;
		size_t id_len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &id_len, MBEDTLS_ASN1_OID))
			return -1;
		const unsigned char *id = p;
		p += id_len;
		int crit = 0;
		if (p < ext_end && *p == MBEDTLS_ASN1_BOOLEAN &&
		    mbedtls_asn1_get_bool(&p, ext_end, &crit))
			return -1;
		size_t val_len;
		if (mbedtls_asn1_get_tag(&p, ext_end, &val_len, MBEDTLS_ASN1_OCTET_STRING))
			return -1;
		if (p + val_len != ext_end)
			return -1;
		if (id_len == oid_len && memcmp(id, oid, oid_len) == 0) {
			*value = p;
			*value_len = val_len;
			if (critical)
				*critical = crit;
			return 0;
		}
		p += val_len;
	}
	return -1;
}

int cert_subject_key_id(const mbedtls_x509_crt *crt, const unsigned char **id, size_t *len)
{
	const unsigned char *v;
	size_t vlen;
	if (cert_find_extension(crt, MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER,
				MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_KEY_IDENTIFIER), &v, &vlen, NULL))
		return -1;
	unsigned char *p = (unsigned char *)v;
	if (mbedtls_asn1_get_tag(&p, v + vlen, len, MBEDTLS_ASN1_OCTET_STRING) ||
	    p + *len != v + vlen || *len == 0)
		return -1;
	*id = p;
	return 0;
}

/* The asn1write helpers write backwards from the end of buf; each of these
 * returns the DER's length (placed at buf + size - length) or an mbedTLS error. */

/* SubjectAltName ::= GeneralNames ::= SEQUENCE OF GeneralName, one entry:
 * dNSName [2] IA5String or iPAddress [7] OCTET STRING (RFC 5280 4.2.1.6). */
static int write_san(unsigned char *buf, size_t size, const struct leaf_name *name)
{
	unsigned char *p = buf + size;
	size_t len = 0;
	int ret;
	if (name->kind == LEAF_NAME_DNS) {
		size_t n = strlen(name->text);
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(
			&p, buf, (const unsigned char *)name->text, n));
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, n));
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
			&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
	} else {
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(&p, buf, name->ip,
									name->ip_len));
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, name->ip_len));
		MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
			&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 7));
	}
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
		&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

/* ExtKeyUsageSyntax ::= SEQUENCE SIZE (1..MAX) OF KeyPurposeId: serverAuth only. */
static int write_eku(unsigned char *buf, size_t size)
{
	unsigned char *p = buf + size;
	size_t len = 0;
	int ret;
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_oid(&p, buf, MBEDTLS_OID_SERVER_AUTH,
							 MBEDTLS_OID_SIZE(MBEDTLS_OID_SERVER_AUTH)));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
		&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

/* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier }. */
static int write_aki(unsigned char *buf, size_t size, const unsigned char *id, size_t id_len)
{
	unsigned char *p = buf + size;
	size_t len = 0;
	int ret;
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_raw_buffer(&p, buf, id, id_len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, id_len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(&p, buf,
							 MBEDTLS_ASN1_CONTEXT_SPECIFIC | 0));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_len(&p, buf, len));
	MBEDTLS_ASN1_CHK_ADD(len, mbedtls_asn1_write_tag(
		&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
	return (int)len;
}

static enum ath_err mbed_fail(struct ath_error *err, const char *what, int ret)
{
	char text[160];
	mbedtls_strerror(ret, text, sizeof text);
	return ath_fail(err, ret == MBEDTLS_ERR_X509_ALLOC_FAILED ? ATH_E_NOMEM : ATH_E_CONFIG,
			-1, "leaf certificate: %s: %s (-0x%04x)", what, text, (unsigned)-ret);
}

enum ath_err leaf_cert_mint(const struct cert_issuer *iss, mbedtls_pk_context *leaf_key,
			    const struct leaf_name *name, time_t now, unsigned char **der,
			    size_t *der_len, struct ath_error *err)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	enum ath_err rc = ATH_OK;
	int ret;
	unsigned char ext[512];
	char issuer[256], subject[8 + LEAF_CN_MAX + 1];
	char not_before[15], not_after[15];
	const char *step;
	size_t name_len = strlen(name->text);
	int has_cn = name_len <= LEAF_CN_MAX;

#define STEP(what, call) do { step = (what); if ((ret = (call)) < 0) goto mbed_error; } while (0)
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, leaf_key);
	mbedtls_x509write_crt_set_issuer_key(&w, iss->key);
	STEP("serial", cert_random_serial(&serial, iss->f_rng, iss->p_rng));
	STEP("serial", mbedtls_x509write_crt_set_serial(&w, &serial));
	cert_time(not_before, (int64_t)now - LEAF_CERT_DAYS_BACK * DAY_SECONDS);
	cert_time(not_after, (int64_t)now + LEAF_CERT_DAYS_AHEAD * DAY_SECONDS);
	STEP("validity", mbedtls_x509write_crt_set_validity(&w, not_before, not_after));
	STEP("issuer", mbedtls_x509_dn_gets(issuer, sizeof issuer, &iss->crt->subject));
	STEP("issuer", mbedtls_x509write_crt_set_issuer_name(&w, issuer));
	/* A name too long for a CN leaves the subject empty; RFC 5280 4.2.1.6 then
	 * wants the SAN critical. */
	if (has_cn) {
		snprintf(subject, sizeof subject, "CN=%s", name->text);
		STEP("subject", mbedtls_x509write_crt_set_subject_name(&w, subject));
	}
	STEP("subjectAltName", write_san(ext, sizeof ext, name));
	STEP("subjectAltName", mbedtls_x509write_crt_set_extension(
		&w, MBEDTLS_OID_SUBJECT_ALT_NAME, MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME),
		!has_cn, ext + sizeof ext - ret, (size_t)ret));
	STEP("extendedKeyUsage", write_eku(ext, sizeof ext));
	STEP("extendedKeyUsage", mbedtls_x509write_crt_set_extension(
		&w, MBEDTLS_OID_EXTENDED_KEY_USAGE, MBEDTLS_OID_SIZE(MBEDTLS_OID_EXTENDED_KEY_USAGE),
		0, ext + sizeof ext - ret, (size_t)ret));
	STEP("authorityKeyIdentifier", write_aki(ext, sizeof ext, iss->key_id, iss->key_id_len));
	STEP("authorityKeyIdentifier", mbedtls_x509write_crt_set_extension(
		&w, MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER,
		MBEDTLS_OID_SIZE(MBEDTLS_OID_AUTHORITY_KEY_IDENTIFIER), 0,
		ext + sizeof ext - ret, (size_t)ret));
	STEP("subjectKeyIdentifier", mbedtls_x509write_crt_set_subject_key_identifier(&w));
	STEP("keyUsage", mbedtls_x509write_crt_set_key_usage(&w, MBEDTLS_X509_KU_DIGITAL_SIGNATURE));
	STEP("basicConstraints", mbedtls_x509write_crt_set_basic_constraints(&w, 0, -1));

	unsigned char out[2048];
	STEP("signing", mbedtls_x509write_crt_der(&w, out, sizeof out, iss->f_rng, iss->p_rng));
#undef STEP
	*der = malloc((size_t)ret);
	if (!*der) {
		rc = ath_fail(err, ATH_E_NOMEM, -1, "leaf certificate: out of memory");
		goto done;
	}
	memcpy(*der, out + sizeof out - ret, (size_t)ret);
	*der_len = (size_t)ret;
	goto done;
mbed_error:
	rc = mbed_fail(err, step, ret);
done:
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return rc;
}
