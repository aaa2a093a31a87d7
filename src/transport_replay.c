/*
 * A transport that plays a module back from a transcript (transcript.h):
 * every byte athttp sends is checked against the transcript, and the
 * module's recorded bytes are the answers.  It never guesses: the first
 * difference stops the conversation with the transcript's line, what it
 * expected and what athttp sent, and the client gets that in a 502.
 *
 * Waiting counts too.  Where the transcript has athttp speaking next, a
 * read may wait as long as athttp waited when recording (its own timeouts
 * play out the same way), plus REPLAY_GRACE_MS; a read that waits longer
 * means athttp expects an answer the module never gave: a divergence.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "transcript.h"
#include "clock.h"
#include "transport.h"

#define REPLAY_GRACE_MS 500

struct replay {
	struct transcript t;
	size_t seg, off;          /* the next byte to send or to expect */
	long long seg_start_ms;        /* when the previous segment ended */
	bool pace;
	bool failed;
	char error[360];
};

static void sleep_ms(long ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static const struct transcript_seg *current(struct replay *r)
{
	return r->seg < r->t.n ? &r->t.segs[r->seg] : NULL;
}

static void next_segment(struct replay *r)
{
	r->seg++;
	r->off = 0;
	r->seg_start_ms = now_ms();
}

/* Some escaped bytes for a message, cut to about max characters. */
static void show(char *out, size_t outlen, const unsigned char *p, size_t n, const unsigned char *wild)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		snprintf(out, outlen, "?");
		return;
	}
	transcript_escape(f, p, n, wild);
	fclose(f);
	if (len + 1 > outlen && outlen > 4)
		snprintf(out, outlen, "%.*s...", (int)(outlen - 4), buf);
	else
		snprintf(out, outlen, "%s", buf);
	free(buf);
}

static enum ath_err diverged(struct replay *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static enum ath_err diverged(struct replay *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	r->failed = true;
	return ATH_E_IO;
}

static ssize_t replay_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct replay *r = t->priv;
	if (r->failed)
		return -1;
	const struct transcript_seg *s = current(r);
	if (s && s->dir == '<') {
		if (r->pace)
			sleep_ms(r->seg_start_ms + s->delay_ms - now_ms());
		size_t n = s->len - r->off < len ? s->len - r->off : len;
		memcpy(buf, s->bytes + r->off, n);
		r->off += n;
		if (r->off == s->len)
			next_segment(r);
		return (ssize_t)n;
	}
	/* athttp speaks next (or the transcript is over): nothing to read. */
	long long allowed = r->seg_start_ms + (s ? s->delay_ms : 0) + REPLAY_GRACE_MS;
	long long wait = allowed - now_ms();
	if (wait > timeout_ms) {
		sleep_ms(timeout_ms);
		return 0;
	}
	sleep_ms(wait);
	if (!s) {
		diverged(r, "%s: athttp waits for the module, but the transcript has ended", r->t.path);
	} else {
		char want[120];
		show(want, sizeof want, s->bytes, s->len, s->wild);
		diverged(r, "%s:%d: athttp waits for the module, but the transcript has athttp sending \"%s\"",
			 r->t.path, transcript_line_of(s, 0), want);
	}
	return -1;
}

static enum ath_err replay_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct replay *r = t->priv;
	const unsigned char *b = buf;
	(void)timeout_ms;
	if (r->failed)
		return ATH_E_IO;
	for (size_t i = 0; i < len;) {
		const struct transcript_seg *s = current(r);
		char sent[120], want[120];
		show(sent, sizeof sent, b + i, len - i, NULL);
		if (!s)
			return diverged(r, "%s: the transcript has ended, but athttp sent \"%s\"", r->t.path, sent);
		if (s->dir != '>') {
			show(want, sizeof want, s->bytes + r->off, s->len - r->off, NULL);
			return diverged(r, "%s:%d: athttp sent \"%s\" while the transcript has the module still sending \"%s\"",
					r->t.path, transcript_line_of(s, r->off), sent, want);
		}
		size_t n = s->len - r->off < len - i ? s->len - r->off : len - i;
		for (size_t k = 0; k < n; k++) {
			size_t at = r->off + k;
			if ((s->wild && s->wild[at]) || s->bytes[at] == b[i + k])
				continue;
			/* Show both from the start of the transcript line. */
			int line = transcript_line_of(s, at);
			size_t ls = at;
			while (ls > 0 && ls > r->off && transcript_line_of(s, ls - 1) == line)
				ls--;
			size_t back = at - ls;
			show(want, sizeof want, s->bytes + ls, s->len - ls, s->wild ? s->wild + ls : NULL);
			show(sent, sizeof sent, b + i + k - back, len - i - k + back, NULL);
			return diverged(r, "%s:%d: expected \"%s\" but athttp sent \"%s\"", r->t.path, line,
					want, sent);
		}
		r->off += n;
		i += n;
		if (r->off == s->len)
			next_segment(r);
	}
	return ATH_OK;
}

static const char *replay_error(struct transport *t)
{
	struct replay *r = t->priv;
	return r->failed ? r->error : NULL;
}

static void replay_close(struct transport *t)
{
	struct replay *r = t->priv;
	transcript_free(&r->t);
	free(r);
	free(t);
}

static const struct transport_ops replay_ops = {
	.name = "replay",
	.read = replay_read,
	.write = replay_write,
	.close = replay_close,
	.abandon = replay_close,
	.error = replay_error,
};

struct transport *transport_replay_open(const char *path, const struct transport_config *cfg,
					struct ath_error *err)
{
	struct replay *r = calloc(1, sizeof *r);
	struct transport *t = calloc(1, sizeof *t);
	char why[300];
	if (!r || !t) {
		free(r);
		free(t);
		ath_fail(err, ATH_E_NOMEM, -1, "out of memory");
		return NULL;
	}
	if (transcript_load(path, &r->t, why, sizeof why)) {
		free(r);
		free(t);
		ath_fail(err, ATH_E_CONFIG, -1, "%s", why);
		return NULL;
	}
	if (cfg->dialect && r->t.dialect[0] && strcmp(cfg->dialect, r->t.dialect) != 0) {
		ath_fail(err, ATH_E_CONFIG, -1, "%s was recorded with dialect %s, not %s", path,
			 r->t.dialect, cfg->dialect);
		transcript_free(&r->t);
		free(r);
		free(t);
		return NULL;
	}
	r->pace = cfg->replay_pace;
	r->seg_start_ms = now_ms();
	t->ops = &replay_ops;
	t->fd = -1;
	t->priv = r;
	return t;
}
