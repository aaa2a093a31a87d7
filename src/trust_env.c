#include "trust_env.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "strbuf.h"

/* A roots file or wgetrc larger than this is not one. */
#define TRUST_FILE_MAX (16u << 20)

/* The text functions fail with the error the caller hands on. */
static enum ath_err text_add(struct strbuf *t, const char *s, size_t n, struct ath_error *err)
{
	strbuf_add(t, s, n);
	return t->oom ? ath_fail(err, ATH_E_NOMEM, -1, "out of memory") : ATH_OK;
}

static enum ath_err text_adds(struct strbuf *t, const char *s, struct ath_error *err)
{
	return text_add(t, s, strlen(s), err);
}

/* Ends the text with a newline unless it is empty or ends with one. */
static enum ath_err text_end_line(struct strbuf *t, struct ath_error *err)
{
	if (t->len && t->p[t->len - 1] != '\n')
		return text_add(t, "\n", 1, err);
	return ATH_OK;
}

static enum ath_err text_add_file(struct strbuf *t, const char *path, struct ath_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ath_fail(err, ATH_E_IO, -1, "cannot read %s: %s", path, strerror(errno));
	size_t start = t->len;
	enum ath_err e = ATH_OK;
	for (;;) {
		char buf[65536];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = ath_fail(err, ATH_E_IO, -1, "cannot read %s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (t->len - start + (size_t)n > TRUST_FILE_MAX) {
			e = ath_fail(err, ATH_E_CONFIG, -1, "%s is larger than %u bytes", path,
				     TRUST_FILE_MAX);
			break;
		}
		if ((e = text_add(t, buf, (size_t)n, err)) != ATH_OK)
			break;
	}
	close(fd);
	return e;
}

/* Replaces path by a file holding t: readers see the old or the new file,
 * never half of one. */
static enum ath_err write_atomic(const char *path, const struct strbuf *t, mode_t mode,
				 struct ath_error *err)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp)
		return ath_fail(err, ATH_E_CONFIG, -1, "path too long: %s", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return ath_fail(err, ATH_E_IO, -1, "cannot create %s: %s", tmp, strerror(errno));
	size_t off = 0;
	int saved = 0;
	while (off < t->len) {
		ssize_t n = write(fd, t->p + off, t->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			saved = n < 0 ? errno : EIO;
			break;
		}
		off += (size_t)n;
	}
	if (!saved && fchmod(fd, mode) != 0)
		saved = errno;
	if (close(fd) != 0 && !saved)
		saved = errno;
	if (saved) {
		unlink(tmp);
		return ath_fail(err, ATH_E_IO, -1, "cannot write %s: %s", path, strerror(saved));
	}
	if (rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		return ath_fail(err, ATH_E_IO, -1, "cannot write %s: %s", path, strerror(saved));
	}
	return ATH_OK;
}

static bool readable(const char *path)
{
	return path && *path && access(path, R_OK) == 0;
}

const char *trust_user_roots(void)
{
	const char *candidates[] = { getenv("SSL_CERT_FILE"), getenv("CURL_CA_BUNDLE"),
				     TRUST_SYSTEM_ROOTS };
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
		if (readable(candidates[i]))
			return candidates[i];
	return NULL;
}

enum ath_err trust_write_bundle(const char *path, const char *roots, const char *ca_pem,
				struct ath_error *err)
{
	struct strbuf t = { 0 };
	enum ath_err e = ATH_OK;
	if (roots)
		e = text_add_file(&t, roots, err);
	if (e == ATH_OK && !(t.p && strstr(t.p, ca_pem))) {
		e = text_end_line(&t, err);
		if (e == ATH_OK)
			e = text_adds(&t, ca_pem, err);
		if (e == ATH_OK)
			e = text_end_line(&t, err);
	}
	if (e == ATH_OK)
		e = write_atomic(path, &t, 0644, err);
	strbuf_free(&t);
	return e;
}

/* The file wget would read as the user's own startup file, or NULL. */
static const char *user_wgetrc(char *buf, size_t len)
{
	const char *env = getenv("WGETRC");
	if (env && *env)
		return env;
	const char *home = getenv("HOME");
	if (!home || !*home || snprintf(buf, len, "%s/.wgetrc", home) >= (int)len)
		return NULL;
	return access(buf, F_OK) == 0 ? buf : NULL;
}

enum ath_err trust_write_wgetrc(const char *path, const char *bundle, struct ath_error *err)
{
	/* A wgetrc value ends at the line's end. */
	if (strpbrk(bundle, "\r\n"))
		return ath_fail(err, ATH_E_CONFIG, -1, "cannot name %s in a wgetrc: it holds a "
				"line break", bundle);
	char home_rc[PATH_MAX];
	const char *mine = user_wgetrc(home_rc, sizeof home_rc);
	struct strbuf t = { 0 };
	enum ath_err e = ATH_OK;
	if (mine)
		e = text_add_file(&t, mine, err);
	if (e == ATH_OK)
		e = text_end_line(&t, err);
	/* Last, so that it wins over a ca_certificate of the user's. */
	if (e == ATH_OK)
		e = text_adds(&t, "# added by athttp: the user's roots plus athttp's local CA\n"
			      "ca_certificate = ", err);
	if (e == ATH_OK)
		e = text_adds(&t, bundle, err);
	if (e == ATH_OK)
		e = text_adds(&t, "\n", err);
	if (e == ATH_OK)
		e = write_atomic(path, &t, 0600, err);
	strbuf_free(&t);
	return e;
}

static enum ath_err set(const char *name, const char *value, struct ath_error *err)
{
	if (setenv(name, value, 1) != 0)
		return ath_fail(err, ATH_E_NOMEM, -1, "cannot set %s: %s", name, strerror(errno));
	return ATH_OK;
}

enum ath_err trust_env_setup(const char *run_dir, const char *ca_dir, const char *ca_pem,
			     struct ath_error *err)
{
	char bundle[PATH_MAX], wgetrc[PATH_MAX], ca_cert[PATH_MAX];
	if (snprintf(bundle, sizeof bundle, "%s/bundle.pem", run_dir) >= (int)sizeof bundle ||
	    snprintf(wgetrc, sizeof wgetrc, "%s/wgetrc", run_dir) >= (int)sizeof wgetrc ||
	    snprintf(ca_cert, sizeof ca_cert, "%s/ca.pem", ca_dir) >= (int)sizeof ca_cert)
		return ath_fail(err, ATH_E_CONFIG, -1, "path too long: %s", run_dir);

	enum ath_err e = trust_write_bundle(bundle, trust_user_roots(), ca_pem, err);
	if (e == ATH_OK)
		e = trust_write_wgetrc(wgetrc, bundle, err);
	static const char *const bundle_vars[] = { "CURL_CA_BUNDLE", "SSL_CERT_FILE",
						    "REQUESTS_CA_BUNDLE", "GIT_SSL_CAINFO" };
	for (size_t i = 0; e == ATH_OK && i < sizeof bundle_vars / sizeof bundle_vars[0]; i++)
		e = set(bundle_vars[i], bundle, err);
	/* node adds these to its own roots rather than replacing them. */
	if (e == ATH_OK)
		e = set("NODE_EXTRA_CA_CERTS", ca_cert, err);
	if (e == ATH_OK)
		e = set("WGETRC", wgetrc, err);
	if (e == ATH_OK)
		e = set("ATHTTP_CA_DIR", ca_dir, err);
	if (e == ATH_OK && unsetenv("SSL_CERT_DIR") != 0)
		e = ath_fail(err, ATH_E_CONFIG, -1, "cannot unset SSL_CERT_DIR: %s", strerror(errno));
	return e;
}

enum ath_err trust_run_dir_create(char *out, size_t outlen, struct ath_error *err)
{
	const char *tmp = getenv("TMPDIR");
	char cwd[PATH_MAX];
	if (!tmp || !*tmp)
		tmp = "/tmp";
	bool relative = tmp[0] != '/';
	if (relative && !getcwd(cwd, sizeof cwd))
		return ath_fail(err, ATH_E_CONFIG, -1, "cannot tell the current directory: %s",
				strerror(errno));
	if (snprintf(out, outlen, "%s%s%s/athttp.XXXXXX", relative ? cwd : "", relative ? "/" : "",
		     tmp) >= (int)outlen)
		return ath_fail(err, ATH_E_CONFIG, -1, "TMPDIR too long: %s", tmp);
	if (!mkdtemp(out))
		return ath_fail(err, ATH_E_IO, -1, "cannot create a private directory in %s: %s",
				tmp, strerror(errno));
	return ATH_OK;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st, (void)type, (void)ftw;
	remove(path);
	return 0;
}

void trust_run_dir_remove(const char *dir)
{
	nftw(dir, remove_one, 8, FTW_DEPTH | FTW_PHYS);
}
