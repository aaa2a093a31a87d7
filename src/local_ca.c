/* The local CA: its key and certificate (in memory, or kept in a directory) and the
 * cache of leaves it has minted. */
#include "local_ca.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/platform_util.h>

#include "leaf_cert.h"

#define DAY_SECONDS      (24 * 60 * 60)
#define CA_DAYS_BACK     1
#define CA_DAYS_AHEAD    (10 * 365 + 3)
#define CA_KEY_FILE      "ca.key"
#define CA_CERT_FILE     "ca.pem"
#define CA_FILE_MAX      (16 * 1024)
/* How long a second process waits for the first to finish making the CA. */
#define CA_LOCK_WAIT_MS  10000
#define CA_LOCK_STEP_MS  20
/* A cached leaf is replaced once it has less than this left. */
#define LEAF_RENEW_MARGIN DAY_SECONDS

#define PEM_CRT_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define PEM_CRT_END   "-----END CERTIFICATE-----\n"

struct leaf_entry {
	struct leaf_entry *next;
	char name[LEAF_NAME_MAX + 1];
	int64_t not_after;
	mbedtls_x509_crt chain;
};

struct local_ca {
	pthread_mutex_t rng_lock;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	pid_t drbg_pid;                   /* the process the DRBG state belongs to */

	mbedtls_pk_context key;
	mbedtls_x509_crt crt;
	char *pem;
	const unsigned char *key_id;      /* points into crt */
	size_t key_id_len;

	mbedtls_pk_context leaf_key;
	pthread_mutex_t leaves_lock;
	struct leaf_entry *leaves;
};

int local_ca_random(void *p, unsigned char *out, size_t len)
{
	struct local_ca *ca = p;
	pthread_mutex_lock(&ca->rng_lock);
	int ret = 0;
	/* A forked child (the preload library lives in programs that fork) must not
	 * repeat its parent's random bytes: ECDHE keys and serials would be shared. */
	pid_t pid = getpid();
	if (pid != ca->drbg_pid) {
		ret = mbedtls_ctr_drbg_reseed(&ca->drbg, (const unsigned char *)&pid, sizeof pid);
		if (ret == 0)
			ca->drbg_pid = pid;
	}
	if (ret == 0)
		ret = mbedtls_ctr_drbg_random(&ca->drbg, out, len);
	pthread_mutex_unlock(&ca->rng_lock);
	return ret;
}

static enum ath_err mbed_fail(struct ath_error *err, int ret, const char *fmt_what,
			      const char *path)
{
	char text[160];
	mbedtls_strerror(ret, text, sizeof text);
	return ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s%s%s: %s (-0x%04x)",
			path ? path : "", path ? ": " : "", fmt_what, text, (unsigned)-ret);
}

static enum ath_err gen_p256(struct local_ca *ca, mbedtls_pk_context *pk, struct ath_error *err)
{
	int ret = mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
	if (ret == 0)
		ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
					  local_ca_random, ca);
	return ret ? mbed_fail(err, ret, "generating a P-256 key", NULL) : ATH_OK;
}

static int is_p256(const mbedtls_pk_context *pk)
{
	return mbedtls_pk_get_type(pk) == MBEDTLS_PK_ECKEY &&
	       mbedtls_pk_ec(*pk)->grp.id == MBEDTLS_ECP_DP_SECP256R1;
}

/* The CN names the machine so a person looking at a trust store can tell whose CA it is,
 * and carries random hex so two CAs are never confused.  Only [A-Za-z0-9.-] of the host
 * name is kept: it goes through x509write's "CN=..." string syntax. */
static void ca_subject(struct local_ca *ca, char *out, size_t size)
{
	char host[64] = "", safe[32];
	size_t n = 0;
	gethostname(host, sizeof host - 1);
	for (const char *h = host; *h && n < sizeof safe - 1; h++)
		if ((*h >= 'a' && *h <= 'z') || (*h >= 'A' && *h <= 'Z') ||
		    (*h >= '0' && *h <= '9') || *h == '.' || *h == '-')
			safe[n++] = *h;
	safe[n] = '\0';
	unsigned char rnd[8] = { 0 };
	local_ca_random(ca, rnd, sizeof rnd);
	char hex[2 * sizeof rnd + 1];
	for (size_t i = 0; i < sizeof rnd; i++)
		snprintf(hex + 2 * i, 3, "%02x", rnd[i]);
	snprintf(out, size, "CN=athttp local CA %s%s%s", safe, n ? " " : "", hex);
}

/* The self-signed CA certificate for ca->key, as DER in a malloc'd buffer. */
static enum ath_err ca_cert_make(struct local_ca *ca, unsigned char **der, size_t *der_len,
				 struct ath_error *err)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	char subject[128], not_before[15], not_after[15];
	unsigned char out[2048];
	int64_t now = time(NULL);
	int ret;

	ca_subject(ca, subject, sizeof subject);
	cert_time(not_before, now - CA_DAYS_BACK * DAY_SECONDS);
	cert_time(not_after, now + (int64_t)CA_DAYS_AHEAD * DAY_SECONDS);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&w, &ca->key);
	mbedtls_x509write_crt_set_issuer_key(&w, &ca->key);
	if ((ret = cert_random_serial(&serial, local_ca_random, ca)) ||
	    (ret = mbedtls_x509write_crt_set_serial(&w, &serial)) ||
	    (ret = mbedtls_x509write_crt_set_validity(&w, not_before, not_after)) ||
	    (ret = mbedtls_x509write_crt_set_subject_name(&w, subject)) ||
	    (ret = mbedtls_x509write_crt_set_issuer_name(&w, subject)) ||
	    /* basicConstraints is written critical when is_ca is set. */
	    (ret = mbedtls_x509write_crt_set_basic_constraints(&w, 1, 0)) ||
	    (ret = mbedtls_x509write_crt_set_key_usage(
		     &w, MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN)) ||
	    (ret = mbedtls_x509write_crt_set_subject_key_identifier(&w)))
		goto fail;
	ret = mbedtls_x509write_crt_der(&w, out, sizeof out, local_ca_random, ca);
	if (ret < 0)
		goto fail;
	*der = malloc((size_t)ret);
	if (!*der) {
		ret = MBEDTLS_ERR_X509_ALLOC_FAILED;
		goto fail;
	}
	memcpy(*der, out + sizeof out - ret, (size_t)ret);
	*der_len = (size_t)ret;
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return ATH_OK;
fail:
	mbedtls_mpi_free(&serial);
	mbedtls_x509write_crt_free(&w);
	return mbed_fail(err, ret, "writing the CA certificate", NULL);
}

/* Takes the parsed ca->crt as the CA: checks it against ca->key, finds its SKI and
 * keeps its PEM. */
static enum ath_err ca_cert_adopt(struct local_ca *ca, const char *path, struct ath_error *err)
{
	if (!ca->crt.ca_istrue)
		return ath_fail(err, ATH_E_CONFIG, -1,
				"local CA: %s: not a CA certificate (basicConstraints CA:FALSE)",
				path ? path : "certificate");
	if (mbedtls_pk_check_pair(&ca->crt.pk, &ca->key) != 0)
		return ath_fail(err, ATH_E_CONFIG, -1,
				"local CA: %s does not match the key %s%s",
				path ? path : "the certificate", path ? "in " : "",
				path ? CA_KEY_FILE : "");
	if (cert_subject_key_id(&ca->crt, &ca->key_id, &ca->key_id_len) != 0)
		return ath_fail(err, ATH_E_CONFIG, -1,
				"local CA: %s has no subjectKeyIdentifier",
				path ? path : "the certificate");
	size_t olen = 0;
	mbedtls_pem_write_buffer(PEM_CRT_BEGIN, PEM_CRT_END, ca->crt.raw.p, ca->crt.raw.len,
				 NULL, 0, &olen);
	ca->pem = malloc(olen);
	if (!ca->pem)
		return ath_fail(err, ATH_E_NOMEM, -1, "local CA: out of memory");
	int ret = mbedtls_pem_write_buffer(PEM_CRT_BEGIN, PEM_CRT_END, ca->crt.raw.p,
					   ca->crt.raw.len, (unsigned char *)ca->pem, olen, &olen);
	return ret ? mbed_fail(err, ret, "PEM of the CA certificate", NULL) : ATH_OK;
}

static enum ath_err ca_cert_new(struct local_ca *ca, struct ath_error *err)
{
	unsigned char *der;
	size_t der_len;
	enum ath_err rc = ca_cert_make(ca, &der, &der_len, err);
	if (rc)
		return rc;
	int ret = mbedtls_x509_crt_parse_der(&ca->crt, der, der_len);
	free(der);
	if (ret)
		return mbed_fail(err, ret, "parsing the new CA certificate", NULL);
	return ca_cert_adopt(ca, NULL, err);
}

/* ---- keeping the CA in a directory ---- */

/* Reads the whole of a small file opened at dfd/name into a NUL-terminated buffer.
 * 1: the file does not exist. */
static int read_small_file(int fd, const char *path, unsigned char **data, size_t *len,
			   struct ath_error *err)
{
	unsigned char *buf = malloc(CA_FILE_MAX + 1);
	if (!buf) {
		ath_fail(err, ATH_E_NOMEM, -1, "local CA: out of memory");
		return -1;
	}
	size_t n = 0;
	for (;;) {
		ssize_t r = read(fd, buf + n, CA_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: %s", path, strerror(errno));
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > CA_FILE_MAX) {
			ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: larger than %d bytes",
				 path, CA_FILE_MAX);
			free(buf);
			return -1;
		}
	}
	buf[n] = '\0';
	*data = buf;
	*len = n;
	return 0;
}

/* Writes data to dfd/name through a fresh temporary file, then renames it into place:
 * a reader sees the old file or the whole new one, never a part. */
static enum ath_err write_file_atomic(struct local_ca *ca, int dfd, const char *dir,
				      const char *name, const void *data, size_t len,
				      mode_t mode, struct ath_error *err)
{
	unsigned char rnd[6];
	local_ca_random(ca, rnd, sizeof rnd);
	char tmp[64];
	snprintf(tmp, sizeof tmp, ".%s.%ld.%02x%02x%02x%02x%02x%02x", name, (long)getpid(),
		 rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
	if (fd < 0)
		return ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s/%s: %s", dir, tmp,
				strerror(errno));
	const char *what = NULL;
	if (fchmod(fd, mode) != 0)
		what = "chmod";
	for (size_t off = 0; !what && off < len;) {
		ssize_t w = write(fd, (const char *)data + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			what = "write";
		else
			off += (size_t)w;
	}
	if (!what && fsync(fd) != 0)
		what = "fsync";
	int saved = errno;
	close(fd);
	if (!what && renameat(dfd, tmp, dfd, name) != 0) {
		saved = errno;
		what = "rename";
	}
	if (what) {
		unlinkat(dfd, tmp, 0);
		return ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s/%s: %s: %s", dir, name,
				what, strerror(saved));
	}
	return ATH_OK;
}

static enum ath_err lock_dir(int dfd, const char *dir, struct ath_error *err)
{
	for (int waited = 0;; waited += CA_LOCK_STEP_MS) {
		if (flock(dfd, LOCK_EX | LOCK_NB) == 0)
			return ATH_OK;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: flock: %s", dir,
					strerror(errno));
		if (waited >= CA_LOCK_WAIT_MS)
			return ath_fail(err, ATH_E_BUSY, -1,
					"local CA: %s: still locked by another process after %d ms",
					dir, CA_LOCK_WAIT_MS);
		struct timespec ts = { 0, CA_LOCK_STEP_MS * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static enum ath_err open_dir(const char *dir, int *dfd_out, struct ath_error *err)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: mkdir: %s", dir,
				strerror(errno));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: %s", dir, strerror(errno));
	struct stat st;
	enum ath_err rc = ATH_OK;
	if (fstat(dfd, &st) != 0)
		rc = ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: %s", dir, strerror(errno));
	else if (st.st_uid != geteuid())
		rc = ath_fail(err, ATH_E_CONFIG, -1,
			      "local CA: %s: owned by uid %ld, not by us (uid %ld)", dir,
			      (long)st.st_uid, (long)geteuid());
	/* Whoever may write the directory may swap the key for their own. */
	else if (st.st_mode & (S_IWGRP | S_IWOTH))
		rc = ath_fail(err, ATH_E_CONFIG, -1,
			      "local CA: %s: mode %04o lets group or others write it (want 0700)",
			      dir, (unsigned)(st.st_mode & 07777));
	if (rc) {
		close(dfd);
		return rc;
	}
	*dfd_out = dfd;
	return ATH_OK;
}

/* Loads dir/ca.key into ca->key.  1: there is none. */
static int load_key(struct local_ca *ca, int dfd, const char *path, struct ath_error *err)
{
	int fd = openat(dfd, CA_KEY_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	int bad = 0;
	if (fstat(fd, &st) != 0) {
		ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: %s", path, strerror(errno));
		bad = 1;
	} else if (!S_ISREG(st.st_mode)) {
		ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: not a regular file", path);
		bad = 1;
	} else if (st.st_uid != geteuid()) {
		ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: owned by uid %ld, not by us (uid %ld)",
			 path, (long)st.st_uid, (long)geteuid());
		bad = 1;
	} else if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		ath_fail(err, ATH_E_CONFIG, -1,
			 "local CA: %s: mode %04o lets group or others read it (want 0600)",
			 path, (unsigned)(st.st_mode & 07777));
		bad = 1;
	}
	unsigned char *pem = NULL;
	size_t len = 0;
	if (!bad && read_small_file(fd, path, &pem, &len, err) != 0)
		bad = 1;
	close(fd);
	if (bad)
		return -1;
	int ret = mbedtls_pk_parse_key(&ca->key, pem, len + 1, NULL, 0);
	mbedtls_platform_zeroize(pem, len);
	free(pem);
	if (ret) {
		mbed_fail(err, ret, "parsing the key", path);
		return -1;
	}
	if (!is_p256(&ca->key)) {
		ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: not an EC P-256 key", path);
		return -1;
	}
	return 0;
}

/* Loads dir/ca.pem into ca->crt.  1: there is none. */
static int load_cert(struct local_ca *ca, int dfd, const char *path, struct ath_error *err)
{
	int fd = openat(dfd, CA_CERT_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0) {
		ath_fail(err, ATH_E_CONFIG, -1, "local CA: %s: %s", path, strerror(errno));
		return -1;
	}
	unsigned char *pem = NULL;
	size_t len = 0;
	int r = read_small_file(fd, path, &pem, &len, err);
	close(fd);
	if (r)
		return -1;
	int ret = mbedtls_x509_crt_parse(&ca->crt, pem, len + 1);
	free(pem);
	if (ret) {
		mbed_fail(err, ret, "parsing the certificate", path);
		return -1;
	}
	return 0;
}

static enum ath_err save_key(struct local_ca *ca, int dfd, const char *dir,
			     struct ath_error *err)
{
	unsigned char pem[1024];
	int ret = mbedtls_pk_write_key_pem(&ca->key, pem, sizeof pem);
	enum ath_err rc = ret ? mbed_fail(err, ret, "PEM of the CA key", NULL)
			      : write_file_atomic(ca, dfd, dir, CA_KEY_FILE, pem,
						  strlen((char *)pem), 0600, err);
	mbedtls_platform_zeroize(pem, sizeof pem);
	return rc;
}


static enum ath_err open_in_dir(struct local_ca *ca, const char *dir, struct ath_error *err)
{
	int dfd = -1;
	enum ath_err rc = open_dir(dir, &dfd, err);
	if (rc)
		return rc;
	char key_path[4096], cert_path[4096];
	snprintf(key_path, sizeof key_path, "%s/%s", dir, CA_KEY_FILE);
	snprintf(cert_path, sizeof cert_path, "%s/%s", dir, CA_CERT_FILE);
	rc = lock_dir(dfd, dir, err);
	if (rc)
		goto out;
	int r = load_key(ca, dfd, key_path, err);
	if (r < 0) {
		rc = err ? err->code : ATH_E_CONFIG;
		goto out;
	}
	int fresh_key = r == 1;
	if (fresh_key) {
		/* A certificate without its key is useless: both are made anew. */
		if ((rc = gen_p256(ca, &ca->key, err)) || (rc = save_key(ca, dfd, dir, err)))
			goto out;
	}
	r = fresh_key ? 1 : load_cert(ca, dfd, cert_path, err);
	if (r < 0) {
		rc = err ? err->code : ATH_E_CONFIG;
		goto out;
	}
	if (r == 0 && cert_time_of(&ca->crt.valid_to) - time(NULL) <
			      (int64_t)(LEAF_CERT_DAYS_AHEAD + 1) * DAY_SECONDS) {
		/* Leaves must not outlive their CA: a certificate near its end is made
		 * anew for the same key, once its key has been checked against it. */
		if (mbedtls_pk_check_pair(&ca->crt.pk, &ca->key) != 0) {
			rc = ath_fail(err, ATH_E_CONFIG, -1,
				      "local CA: %s does not match the key in %s", cert_path,
				      CA_KEY_FILE);
			goto out;
		}
		mbedtls_x509_crt_free(&ca->crt);
		mbedtls_x509_crt_init(&ca->crt);
		r = 1;
	}
	if (r == 1) {
		if ((rc = ca_cert_new(ca, err)))
			goto out;
		rc = write_file_atomic(ca, dfd, dir, CA_CERT_FILE, ca->pem, strlen(ca->pem), 0644,
				       err);
	} else {
		rc = ca_cert_adopt(ca, cert_path, err);
	}
out:
	close(dfd); /* also releases the flock */
	return rc;
}

static const unsigned char drbg_personalization[] = "athttp local CA";

struct local_ca *local_ca_open(const char *dir, struct ath_error *err)
{
	struct local_ca *ca = calloc(1, sizeof *ca);
	if (!ca) {
		ath_fail(err, ATH_E_NOMEM, -1, "local CA: out of memory");
		return NULL;
	}
	pthread_mutex_init(&ca->rng_lock, NULL);
	pthread_mutex_init(&ca->leaves_lock, NULL);
	mbedtls_entropy_init(&ca->entropy);
	mbedtls_ctr_drbg_init(&ca->drbg);
	mbedtls_pk_init(&ca->key);
	mbedtls_pk_init(&ca->leaf_key);
	mbedtls_x509_crt_init(&ca->crt);

	enum ath_err rc;
	int ret = mbedtls_ctr_drbg_seed(&ca->drbg, mbedtls_entropy_func, &ca->entropy,
					drbg_personalization, sizeof drbg_personalization - 1);
	ca->drbg_pid = getpid();
	if (ret)
		rc = mbed_fail(err, ret, "seeding the random generator", NULL);
	else if (dir)
		rc = open_in_dir(ca, dir, err);
	else if (!(rc = gen_p256(ca, &ca->key, err)))
		rc = ca_cert_new(ca, err);
	if (!rc)
		rc = gen_p256(ca, &ca->leaf_key, err);
	if (rc) {
		local_ca_free(ca);
		return NULL;
	}
	return ca;
}

void local_ca_free(struct local_ca *ca)
{
	if (!ca)
		return;
	for (struct leaf_entry *e = ca->leaves, *next; e; e = next) {
		next = e->next;
		mbedtls_x509_crt_free(&e->chain);
		free(e);
	}
	free(ca->pem);
	mbedtls_x509_crt_free(&ca->crt);
	mbedtls_pk_free(&ca->leaf_key);
	mbedtls_pk_free(&ca->key);
	mbedtls_ctr_drbg_free(&ca->drbg);
	mbedtls_entropy_free(&ca->entropy);
	pthread_mutex_destroy(&ca->leaves_lock);
	pthread_mutex_destroy(&ca->rng_lock);
	free(ca);
}

const char *local_ca_cert_pem(const struct local_ca *ca)
{
	return ca->pem;
}

const mbedtls_x509_crt *local_ca_cert(const struct local_ca *ca)
{
	return &ca->crt;
}

static enum ath_err leaf_mint_entry(struct local_ca *ca, const struct leaf_name *name,
				    struct leaf_entry **out, struct ath_error *err)
{
	struct cert_issuer iss = {
		.key = &ca->key, .crt = &ca->crt, .key_id = ca->key_id,
		.key_id_len = ca->key_id_len, .f_rng = local_ca_random, .p_rng = ca,
	};
	unsigned char *der;
	size_t der_len;
	enum ath_err rc = leaf_cert_mint(&iss, &ca->leaf_key, name, time(NULL), &der, &der_len,
					 err);
	if (rc)
		return rc;
	struct leaf_entry *e = calloc(1, sizeof *e);
	if (!e) {
		free(der);
		return ath_fail(err, ATH_E_NOMEM, -1, "local CA: out of memory");
	}
	mbedtls_x509_crt_init(&e->chain);
	int ret = mbedtls_x509_crt_parse_der(&e->chain, der, der_len);
	free(der);
	if (!ret)
		ret = mbedtls_x509_crt_parse_der(&e->chain, ca->crt.raw.p, ca->crt.raw.len);
	if (ret) {
		mbedtls_x509_crt_free(&e->chain);
		free(e);
		return mbed_fail(err, ret, "parsing a new leaf", NULL);
	}
	snprintf(e->name, sizeof e->name, "%s", name->text);
	e->not_after = cert_time_of(&e->chain.valid_to);
	*out = e;
	return ATH_OK;
}

enum ath_err local_ca_leaf(struct local_ca *ca, const char *name, mbedtls_x509_crt **crt,
			   mbedtls_pk_context **key, struct ath_error *err)
{
	struct leaf_name ln;
	enum ath_err rc = leaf_name_parse(name, &ln, err);
	if (rc)
		return rc;
	int64_t now = time(NULL);
	pthread_mutex_lock(&ca->leaves_lock);
	struct leaf_entry *e;
	/* The newest entry of a name comes first. */
	for (e = ca->leaves; e; e = e->next)
		if (strcmp(e->name, ln.text) == 0)
			break;
	if (!e || e->not_after - now < LEAF_RENEW_MARGIN) {
		rc = leaf_mint_entry(ca, &ln, &e, err);
		if (!rc) {
			e->next = ca->leaves;
			ca->leaves = e;
		}
	}
	pthread_mutex_unlock(&ca->leaves_lock);
	if (rc)
		return rc;
	*crt = &e->chain;
	*key = &ca->leaf_key;
	return ATH_OK;
}
