#include "script_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct script {
	const struct script_step *steps;
	size_t n, step;
	size_t matched;          /* bytes of steps[step].expect seen so far */
	char *out;               /* module output not yet read by the host */
	size_t out_len, out_off;
	unsigned seed;
	size_t max_piece;
	char error[512];
};

static size_t expect_len(const struct script_step *s)
{
	return s->expect ? (s->expect_len ? s->expect_len : strlen(s->expect)) : 0;
}

static size_t reply_len(const struct script_step *s)
{
	return s->reply ? (s->reply_len ? s->reply_len : strlen(s->reply)) : 0;
}

/* Releases the replies of steps whose expectation is met (at once for
 * steps that expect nothing).  Output queues up like a real UART's. */
static void advance(struct script *s)
{
	while (s->step < s->n && expect_len(&s->steps[s->step]) == s->matched) {
		const struct script_step *st = &s->steps[s->step++];
		size_t rl = reply_len(st);
		s->out = realloc(s->out, s->out_len + rl + 1);
		memcpy(s->out + s->out_len, st->reply ? st->reply : "", rl);
		s->out_len += rl;
		s->matched = 0;
	}
}

static ssize_t script_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct script *s = t->priv;
	(void)timeout_ms;
	advance(s);
	if (s->out_off == s->out_len)
		return -1; /* the script has nothing more to say: fail fast */
	size_t left = s->out_len - s->out_off;
	size_t piece = 1 + (size_t)rand_r(&s->seed) % s->max_piece;
	if (piece > left)
		piece = left;
	if (piece > len)
		piece = len;
	memcpy(buf, s->out + s->out_off, piece);
	s->out_off += piece;
	return (ssize_t)piece;
}

static enum ath_err script_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct script *s = t->priv;
	const unsigned char *b = buf;
	(void)timeout_ms;
	for (size_t i = 0; i < len; i++) {
		if (s->step >= s->n) {
			snprintf(s->error, sizeof s->error, "host wrote past the end of the script: '%.*s'",
				 (int)(len - i), (const char *)b + i);
			return ATH_E_IO;
		}
		const struct script_step *st = &s->steps[s->step];
		size_t el = expect_len(st);
		if (s->matched >= el || (unsigned char)st->expect[s->matched] != b[i]) {
			snprintf(s->error, sizeof s->error,
				 "step %zu: host wrote '%.*s', script expects '%.*s' (at byte %zu)",
				 s->step, (int)(len - i), (const char *)b + i, (int)(el - (s->matched < el ? s->matched : el)),
				 st->expect ? st->expect + (s->matched < el ? s->matched : el) : "", s->matched);
			return ATH_E_IO;
		}
		s->matched++;
		if (s->matched == el)
			advance(s);
	}
	return ATH_OK;
}

static void script_close(struct transport *t)
{
	script_transport_free(t);
}

static const struct transport_ops script_ops = {
	.name = "script",
	.read = script_read,
	.write = script_write,
	.close = script_close,
};

struct transport *script_transport_new(const struct script_step *steps, size_t n, unsigned seed,
				       size_t max_piece)
{
	struct transport *t = calloc(1, sizeof *t);
	struct script *s = calloc(1, sizeof *s);
	s->steps = steps;
	s->n = n;
	s->seed = seed;
	s->max_piece = max_piece ? max_piece : 1;
	t->ops = &script_ops;
	t->fd = -1;
	t->priv = s;
	return t;
}

bool script_finished(struct transport *t)
{
	struct script *s = t->priv;
	advance(s);
	/* The LF after a CR-terminated final line may stay unread. */
	for (size_t i = s->out_off; i < s->out_len; i++)
		if (s->out[i] != '\r' && s->out[i] != '\n')
			return false;
	return s->step == s->n && !s->error[0];
}

const char *script_error(struct transport *t)
{
	struct script *s = t->priv;
	return s->error;
}

void script_transport_free(struct transport *t)
{
	struct script *s = t->priv;
	free(s->out);
	free(s);
	free(t);
}
