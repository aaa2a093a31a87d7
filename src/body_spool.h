/*
 * A response body of unknown length, held until it is complete so that its
 * length can be announced before the first byte goes out: in memory up to
 * a threshold, past it in an unlinked temporary file (memory stays flat for
 * any size), then replayed in order.  For modules that give no head at all
 * (ESP-AT's +HTTPCLIENT pieces): the client still gets a Content-Length.
 *
 * The file is created with mkostemp(O_CLOEXEC) in the spool's directory
 * ($TMPDIR, else /tmp, unless one is given) and unlinked at once, so
 * nothing is left behind even if the process dies; body_spool_free closes
 * it.  Every failure is sticky: after one, writes and replays fail with the
 * same reason (body_spool_error).
 */
#ifndef ATH_BODY_SPOOL_H
#define ATH_BODY_SPOOL_H

#include <stdbool.h>
#include <stddef.h>

/* What a spool keeps in memory before it spills to a file. */
#define BODY_SPOOL_MEM_DEFAULT (256 * 1024)

struct body_spool {
	size_t mem_limit;            /* bytes held in memory at most */
	char dir[256];               /* where the file goes ("" : $TMPDIR or /tmp) */
	unsigned char *mem;          /* the body while it fits */
	size_t mem_len, mem_cap;
	int fd;                      /* the unlinked file once spilled, else -1 */
	unsigned long long len;      /* bytes written in all */
	int err;                     /* errno of the first failure, 0 none */
	char why[320];
};

/* dir NULL or "": $TMPDIR, else /tmp. */
void body_spool_init(struct body_spool *s, size_t mem_limit, const char *dir);
/* Appends; 0, or -1 with body_spool_error saying why. */
int body_spool_write(struct body_spool *s, const void *data, size_t len);
unsigned long long body_spool_length(const struct body_spool *s);
/* Has the body gone to the file? */
bool body_spool_spilled(const struct body_spool *s);
/* The memory the spool holds for the body now (buffer capacity). */
size_t body_spool_mem_bytes(const struct body_spool *s);

/* Hands the body to fn in order, in pieces.  fn returns 0 to go on; any
 * other value stops the replay and is returned (make it positive: -1 is
 * the spool's own failure, a read error, with body_spool_error set).  A
 * spool can be replayed more than once and written after a replay. */
typedef int (*body_spool_fn)(void *ctx, const void *data, size_t len);
int body_spool_replay(struct body_spool *s, body_spool_fn fn, void *ctx);

/* Why the last call failed, "" if nothing did. */
const char *body_spool_error(const struct body_spool *s);
/* Releases the memory and closes the file; the spool is empty and usable
 * again (same limit and directory). */
void body_spool_free(struct body_spool *s);

#endif
