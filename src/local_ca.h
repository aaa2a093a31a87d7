/* local_ca.h — the local CA the program is made to trust. */
#ifndef ATH_LOCAL_CA_H
#define ATH_LOCAL_CA_H

#include <stddef.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "err.h"

struct local_ca;

/* dir NULL: a fresh CA that lives in this process's memory only.  Otherwise the CA kept in
 * dir: dir/ca.key (PEM, EC P-256) and dir/ca.pem, created when missing (dir mode 0700,
 * created if absent; key 0600, written with O_EXCL|O_NOFOLLOW then renamed into place so a
 * second process racing the first never reads half a key; cert 0644).  Refuses (NULL, err
 * says which file and why) a key file that group or others may read, a key not owned by the
 * caller, a dir that group or others may write, a key and cert that do not match.
 * CA certificate: EC P-256, basicConstraints CA:TRUE pathlen:0 critical, keyUsage
 * keyCertSign|cRLSign critical, subjectKeyIdentifier, subject CN "athttp local CA <host>
 * <random hex>", validity from 1 day back to 10 years ahead, random positive 16-byte serial.
 * Processes opening the same dir at once take turns on an flock of dir, so they all end
 * up with the one CA the first of them made. */
struct local_ca *local_ca_open(const char *dir, struct ath_error *err);
void local_ca_free(struct local_ca *ca);

/* PEM of the CA certificate (NUL-terminated, owned by ca). */
const char *local_ca_cert_pem(const struct local_ca *ca);

/* The parsed CA certificate (owned by ca). */
const mbedtls_x509_crt *local_ca_cert(const struct local_ca *ca);

/* The leaf for name (a DNS name or an IPv4/IPv6 literal, without brackets), minted on first
 * use and cached by name (case-insensitively for DNS names); thread-safe.  One P-256 leaf key
 * per local_ca.  *crt is a chain: leaf then CA.  Pointers stay valid until local_ca_free.
 * Returns ATH_OK or an error (ATH_E_BAD_REQUEST for a name that is not a valid DNS name or
 * IP literal, e.g. empty, over 253 bytes, bad characters).  A cached leaf with less than a
 * day left is replaced by a fresh one (the old one stays allocated for whoever holds it). */
enum ath_err local_ca_leaf(struct local_ca *ca, const char *name, mbedtls_x509_crt **crt,
			   mbedtls_pk_context **key, struct ath_error *err);

/* The CA's random generator (CTR-DRBG seeded from the entropy source, behind a mutex) as an
 * mbedTLS f_rng; p_rng is the struct local_ca.  Safe from any thread. */
int local_ca_random(void *ca, unsigned char *out, size_t len);

#endif
