/* Making a program trust the local CA: the files a run's environment points
 * at (one bundle of the user's roots plus the CA, a wgetrc) and the
 * variables that point there.  See DESIGN.md, "HTTPS". */
#ifndef ATH_TRUST_ENV_H
#define ATH_TRUST_ENV_H

#include "err.h"

#define TRUST_SYSTEM_ROOTS "/etc/ssl/certs/ca-certificates.crt"

/* The roots the user already trusts: the first readable of $SSL_CERT_FILE,
 * $CURL_CA_BUNDLE and TRUST_SYSTEM_ROOTS; NULL when none is. */
const char *trust_user_roots(void);

/* Writes path (atomically, mode 0644) = the certificates in roots (a file,
 * or NULL for none) followed by ca_pem, unless roots already holds ca_pem
 * (athttp inside athttp). */
enum ath_err trust_write_bundle(const char *path, const char *roots, const char *ca_pem,
				struct ath_error *err);

/* Writes path = the user's wgetrc ($WGETRC if set, else ~/.wgetrc if it
 * exists) followed by "ca_certificate = <bundle>". */
enum ath_err trust_write_wgetrc(const char *path, const char *bundle, struct ath_error *err);

/* For a run: writes run_dir/bundle.pem and run_dir/wgetrc (run_dir and
 * ca_dir absolute; ca_dir/ca.pem holds ca_pem) and sets CURL_CA_BUNDLE,
 * SSL_CERT_FILE, REQUESTS_CA_BUNDLE, GIT_SSL_CAINFO (the bundle),
 * NODE_EXTRA_CA_CERTS (the CA alone), WGETRC and ATHTTP_CA_DIR, and unsets
 * SSL_CERT_DIR (a program may look there instead of in the bundle). */
enum ath_err trust_env_setup(const char *run_dir, const char *ca_dir, const char *ca_pem,
			     struct ath_error *err);

/* Makes a fresh private directory (0700) under $TMPDIR, else /tmp, for one
 * run's CA and files; its absolute path in out. */
enum ath_err trust_run_dir_create(char *out, size_t outlen, struct ath_error *err);

/* Removes dir and what is in it (symlinks not followed). */
void trust_run_dir_remove(const char *dir);

#endif
