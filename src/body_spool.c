#include "body_spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

/* A spilled body is read back with pread at offsets up to its length: a
 * 32-bit off_t (a 32-bit target built without the Makefile's LARGEFILE)
 * would stop every body at 2 GB. */
_Static_assert(sizeof(off_t) == 8, "body_spool needs a 64-bit off_t: build with -D_FILE_OFFSET_BITS=64");

/* Replay reads the file in pieces of this size. */
#define REPLAY_PIECE (64 * 1024)
/* The memory buffer starts here and doubles up to the limit. */
#define MEM_FIRST 4096

static int fail(struct body_spool *s, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct body_spool *s, int errnum, const char *fmt, ...)
{
	if (s->err)
		return -1; /* the first reason stays */
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->why, sizeof s->why, fmt, ap);
	va_end(ap);
	s->err = errnum ? errnum : EIO;
	return -1;
}

void body_spool_init(struct body_spool *s, size_t mem_limit, const char *dir)
{
	memset(s, 0, sizeof *s);
	s->mem_limit = mem_limit;
	s->fd = -1;
	if (dir)
		snprintf(s->dir, sizeof s->dir, "%s", dir);
}

static const char *spool_dir(const struct body_spool *s)
{
	if (s->dir[0])
		return s->dir;
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? errno : ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Moves what memory holds into a fresh unlinked file. */
static int spill(struct body_spool *s)
{
	const char *dir = spool_dir(s);
	char path[sizeof s->dir + 32];
	int n = snprintf(path, sizeof path, "%s/athttp-body.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof path)
		return fail(s, ENAMETOOLONG, "temporary directory name too long: %s", dir);
	int fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return fail(s, errno, "cannot create a temporary file in %s for the response body: %s", dir,
			    strerror(errno));
	/* Nameless from now on: nothing is left behind, whatever happens. */
	unlink(path);
	int e = write_all(fd, s->mem, s->mem_len);
	if (e) {
		close(fd);
		return fail(s, e, "cannot write the response body to a temporary file in %s: %s", dir, strerror(e));
	}
	s->fd = fd;
	free(s->mem);
	s->mem = NULL;
	s->mem_len = s->mem_cap = 0;
	return 0;
}

int body_spool_write(struct body_spool *s, const void *data, size_t len)
{
	if (s->err)
		return -1;
	if (len == 0)
		return 0;
	if (s->fd < 0 && s->mem_len + len <= s->mem_limit && s->mem_len + len >= s->mem_len) {
		if (s->mem_len + len > s->mem_cap) {
			size_t cap = s->mem_cap ? s->mem_cap : MEM_FIRST;
			while (cap < s->mem_len + len)
				cap *= 2;
			if (cap > s->mem_limit)
				cap = s->mem_limit;
			unsigned char *m = realloc(s->mem, cap);
			if (!m)
				return fail(s, ENOMEM, "out of memory holding the response body");
			s->mem = m;
			s->mem_cap = cap;
		}
		memcpy(s->mem + s->mem_len, data, len);
		s->mem_len += len;
		s->len += len;
		return 0;
	}
	if (s->fd < 0 && spill(s) != 0)
		return -1;
	int e = write_all(s->fd, data, len);
	if (e)
		return fail(s, e, "cannot write the response body to a temporary file in %s: %s", spool_dir(s),
			    strerror(e));
	s->len += len;
	return 0;
}

unsigned long long body_spool_length(const struct body_spool *s)
{
	return s->len;
}

bool body_spool_spilled(const struct body_spool *s)
{
	return s->fd >= 0;
}

size_t body_spool_mem_bytes(const struct body_spool *s)
{
	return s->mem_cap;
}

int body_spool_replay(struct body_spool *s, body_spool_fn fn, void *ctx)
{
	if (s->err)
		return -1;
	if (s->fd < 0) {
		for (size_t off = 0; off < s->mem_len; off += REPLAY_PIECE) {
			size_t n = s->mem_len - off < REPLAY_PIECE ? s->mem_len - off : REPLAY_PIECE;
			int r = fn(ctx, s->mem + off, n);
			if (r)
				return r;
		}
		return 0;
	}
	unsigned char *buf = malloc(REPLAY_PIECE);
	if (!buf)
		return fail(s, ENOMEM, "out of memory replaying the response body");
	int r = 0;
	unsigned long long off = 0;
	while (off < s->len) {
		size_t want = s->len - off < REPLAY_PIECE ? (size_t)(s->len - off) : REPLAY_PIECE;
		ssize_t n = pread(s->fd, buf, want, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			r = fail(s, e, "cannot read the response body back from its temporary file: %s",
				 n < 0 ? strerror(e) : "file shorter than written");
			break;
		}
		r = fn(ctx, buf, (size_t)n);
		if (r)
			break;
		off += (unsigned long long)n;
	}
	free(buf);
	return r;
}

const char *body_spool_error(const struct body_spool *s)
{
	return s->err ? s->why : "";
}

void body_spool_free(struct body_spool *s)
{
	free(s->mem);
	if (s->fd >= 0)
		close(s->fd);
	char dir[sizeof s->dir];
	memcpy(dir, s->dir, sizeof dir);
	body_spool_init(s, s->mem_limit, dir);
}
