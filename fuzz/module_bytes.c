#include "module_bytes.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct module_bytes {
	const unsigned char *data;
	size_t len;
	size_t next;          /* where the next reply starts in data */
	unsigned char *out;   /* released, queued as a UART's buffer would */
	size_t out_len, out_off;
	size_t replies;
	bool silence_given;   /* the one timeout after the output ran dry */
	unsigned seed;
	size_t max_piece;
	FILE *log;
};

/* Queues the next reply behind whatever is still unread. */
static void release(struct module_bytes *m)
{
	if (m->next >= m->len)
		return;
	const unsigned char *start = m->data + m->next;
	size_t left = m->len - m->next;
	const unsigned char *sep = memmem(start, left, MODULE_BYTES_SEP, MODULE_BYTES_SEP_LEN);
	size_t n = sep ? (size_t)(sep - start) : left;
	if (m->out_off == m->out_len)
		m->out_off = m->out_len = 0;
	unsigned char *grown = realloc(m->out, m->out_len + n + 1);
	if (!grown)
		abort();
	m->out = grown;
	memcpy(m->out + m->out_len, start, n);
	m->out_len += n;
	m->next += n + (sep ? MODULE_BYTES_SEP_LEN : 0);
	m->replies++;
	m->silence_given = false;
}

static ssize_t mb_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct module_bytes *m = t->priv;
	(void)timeout_ms;
	if (m->out_off == m->out_len) {
		if (!m->silence_given) {
			m->silence_given = true;
			return 0;
		}
		return -1;
	}
	size_t left = m->out_len - m->out_off;
	size_t piece = 1 + (size_t)rand_r(&m->seed) % m->max_piece;
	if (piece > left)
		piece = left;
	if (piece > len)
		piece = len;
	memcpy(buf, m->out + m->out_off, piece);
	m->out_off += piece;
	return (ssize_t)piece;
}

static enum ath_err mb_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct module_bytes *m = t->priv;
	(void)timeout_ms;
	if (m->log)
		fprintf(m->log, "host wrote %zu bytes: %.*s\n", len, (int)(len > 120 ? 120 : len), (const char *)buf);
	release(m);
	return ATH_OK;
}

static void mb_close(struct transport *t)
{
	module_bytes_free(t);
}

static const struct transport_ops module_bytes_ops = {
	.name = "fuzz",
	.read = mb_read,
	.write = mb_write,
	.close = mb_close,
};

struct transport *module_bytes_new(const unsigned char *data, size_t len, unsigned seed, size_t max_piece)
{
	struct transport *t = calloc(1, sizeof *t);
	struct module_bytes *m = calloc(1, sizeof *m);
	if (!t || !m)
		abort();
	m->data = data;
	m->len = len;
	m->seed = seed;
	m->max_piece = max_piece ? max_piece : 1;
	t->ops = &module_bytes_ops;
	t->fd = -1;
	t->priv = m;
	return t;
}

void module_bytes_log(struct transport *t, FILE *log)
{
	struct module_bytes *m = t->priv;
	m->log = log;
}

size_t module_bytes_replies(const struct transport *t)
{
	const struct module_bytes *m = t->priv;
	return m->replies;
}

void module_bytes_free(struct transport *t)
{
	struct module_bytes *m = t->priv;
	free(m->out);
	free(m);
	free(t);
}
