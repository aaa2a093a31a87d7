/* leaf_cert.h — writing a leaf certificate's DER (mbedTLS 2.28 has no subjectAltName or
 * extendedKeyUsage writer: encode them with mbedtls/asn1write.h).
 *
 * Leaf: SAN dNSName (or iPAddress for an IP literal), CN = name when under 64 bytes, EKU
 * serverAuth, keyUsage digitalSignature critical, basicConstraints CA:FALSE,
 * authorityKeyIdentifier (keyid of the CA's SKI: Python 3.13's strict verification rejects
 * leaves without AKI), subjectKeyIdentifier, random positive 16-byte serial, validity from
 * 1 day back to 7 days ahead, signed ECDSA-SHA256 by the CA.
 *
 * Also the pieces the CA's own certificate shares with its leaves (serial, validity
 * times, finding an extension in a parsed certificate). */
#ifndef ATH_LEAF_CERT_H
#define ATH_LEAF_CERT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <mbedtls/bignum.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "err.h"

#define LEAF_CERT_DAYS_BACK  1
#define LEAF_CERT_DAYS_AHEAD 7
#define CERT_SERIAL_LEN      16
/* RFC 5280's ub-common-name is 64; names of 64 bytes or more go in the SAN only. */
#define LEAF_CN_MAX          63
#define LEAF_NAME_MAX        253

enum leaf_name_kind { LEAF_NAME_DNS, LEAF_NAME_IPV4, LEAF_NAME_IPV6 };

/* A name a leaf can be made for, in the one spelling the cache and the certificate use:
 * a DNS name in lower case, an IP literal as inet_ntop prints it. */
struct leaf_name {
	enum leaf_name_kind kind;
	char text[LEAF_NAME_MAX + 1];
	unsigned char ip[16];
	size_t ip_len;               /* 4 or 16 for an IP literal, else 0 */
};

/* ATH_E_BAD_REQUEST (err says why) for a name that is neither a DNS name (1 to 253 bytes,
 * labels of 1 to 63 letters, digits, '-' or '_', not starting or ending with '-', last
 * label not all digits) nor an IPv4/IPv6 literal without brackets. */
enum ath_err leaf_name_parse(const char *name, struct leaf_name *out, struct ath_error *err);

typedef int (*cert_rng_fn)(void *p_rng, unsigned char *out, size_t len);

/* Who signs: the CA's key and certificate (its subject becomes the issuer) and the
 * CA's subjectKeyIdentifier, which becomes the leaf's authorityKeyIdentifier. */
struct cert_issuer {
	mbedtls_pk_context *key;
	const mbedtls_x509_crt *crt;
	const unsigned char *key_id;
	size_t key_id_len;
	cert_rng_fn f_rng;
	void *p_rng;
};

/* Mints the leaf for name with public key leaf_key, valid around now.  *der is malloc'd
 * (the caller frees it). */
enum ath_err leaf_cert_mint(const struct cert_issuer *iss, mbedtls_pk_context *leaf_key,
			    const struct leaf_name *name, time_t now, unsigned char **der,
			    size_t *der_len, struct ath_error *err);

/* A random positive serial of exactly CERT_SERIAL_LEN bytes (no DER sign padding). */
int cert_random_serial(mbedtls_mpi *serial, cert_rng_fn f_rng, void *p_rng);

/* t (seconds since 1970, UTC) as x509write's "YYYYMMDDhhmmss", for years 0 to
 * 9999; and a parsed certificate time in the same seconds.  64 bits where
 * time_t has 32: a certificate may well end after January 2038. */
void cert_time(char out[15], int64_t t);
int64_t cert_time_of(const mbedtls_x509_time *t);

/* The extnValue contents (inside the OCTET STRING) of the extension oid in crt:
 * 0 found, -1 absent or the extensions do not parse. */
int cert_find_extension(const mbedtls_x509_crt *crt, const char *oid, size_t oid_len,
			const unsigned char **value, size_t *value_len, int *critical);

/* The keyIdentifier of crt's subjectKeyIdentifier: 0 found, -1 absent or malformed. */
int cert_subject_key_id(const mbedtls_x509_crt *crt, const unsigned char **id, size_t *len);

#endif
