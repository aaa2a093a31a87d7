#include "driver_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "http_head.h"
#include "unit_util.h"

/* ------------------------------------------------------------ a growable buffer */

void buf_add(struct buf *b, const void *data, size_t len)
{
	b->p = realloc(b->p, b->len + len + 1);
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addf(struct buf *b, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	char *s = vfmt(f, ap);
	va_end(ap);
	buf_adds(b, s);
	free(s);
}

char *filler(size_t n, char c)
{
	char *s = malloc(n + 1);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* ------------------------------------------------------------ scripts */

static const char *keep(struct script *sc, char *p)
{
	assert_true(sc->nowned < sizeof sc->owned / sizeof sc->owned[0]);
	sc->owned[sc->nowned++] = p;
	return p;
}

void stepn(struct script *sc, char *expect, size_t elen, char *reply, size_t rlen)
{
	assert_true(sc->n < sizeof sc->s / sizeof sc->s[0]);
	sc->s[sc->n++] = (struct script_step){ expect ? keep(sc, expect) : NULL, elen,
					       reply ? keep(sc, reply) : NULL, rlen };
}

void step(struct script *sc, char *expect, char *reply)
{
	stepn(sc, expect, 0, reply, 0);
}

void step_buf(struct script *sc, char *expect, struct buf *reply)
{
	stepn(sc, expect, 0, reply->p, reply->len);
	reply->p = NULL;
	reply->len = 0;
}

void script_free(struct script *sc)
{
	for (size_t i = 0; i < sc->nowned; i++)
		free(sc->owned[i]);
	memset(sc, 0, sizeof *sc);
}

/* ------------------------------------------------------------ the response */

enum ath_err rig_got_head(void *ctx, const struct http_head *h, long long len, bool synthesized)
{
	struct rig_got *g = ctx;
	if (g->real_head)
		assert_false(synthesized);
	g->heads++;
	g->status = h->status;
	snprintf(g->reason, sizeof g->reason, "%s", h->reason);
	g->length = len;
	g->synthesized = synthesized;
	hdr_free(&g->fields);
	size_t o = 0;
	for (size_t i = 0; i < h->headers.n; i++) {
		const struct hdr *f = &h->headers.v[i];
		assert_int_equal(hdr_add(&g->fields, f->name, strlen(f->name), f->value, strlen(f->value)), 0);
		int k = snprintf(g->headers + o, sizeof g->headers - o, "%s: %s|", f->name, f->value);
		if (k < 0 || (size_t)k >= sizeof g->headers - o)
			fail_msg("the head's fields are over the rig's %zu bytes", sizeof g->headers - 1);
		o += (size_t)k;
	}
	return g->refuse ? ATH_E_CLIENT_GONE : ATH_OK;
}

enum ath_err rig_got_body(void *ctx, const void *data, size_t len)
{
	struct rig_got *g = ctx;
	if (g->refuse_after && ++g->body_calls > g->refuse_after)
		return ATH_E_CLIENT_GONE;
	buf_add(&g->body, data, len);
	return g->refuse ? ATH_E_CLIENT_GONE : ATH_OK;
}

void rig_got_reset(struct rig_got *got)
{
	bool refuse = got->refuse, real_head = got->real_head;
	int refuse_after = got->refuse_after;
	free(got->body.p);
	hdr_free(&got->fields);
	memset(got, 0, sizeof *got);
	got->refuse = refuse;
	got->refuse_after = refuse_after;
	got->real_head = real_head;
}

/* ------------------------------------------------------------ a silent module */

/* Where the script has nothing to say (and nothing went wrong), the read
 * times out: at most quiet_slice_ms pass, and nothing comes. */
static ssize_t quiet_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct rig *r = t->priv;
	ssize_t n = r->tp->ops->read(r->tp, buf, len, timeout_ms);
	if (n < 0 && !script_error(r->tp)[0]) {
		int ms = timeout_ms < r->quiet_slice_ms ? timeout_ms : r->quiet_slice_ms;
		usleep((useconds_t)ms * 1000);
		return 0;
	}
	return n;
}

static enum ath_err quiet_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct rig *r = t->priv;
	return r->tp->ops->write(r->tp, buf, len, timeout_ms);
}

static const struct transport_ops quiet_ops = { .name = "quiet", .read = quiet_read, .write = quiet_write };

/* ------------------------------------------------------------ the rig */

void rig_init_split(struct rig *r, const struct dialect *d, const struct script_step *steps, size_t n,
		    unsigned seed, size_t max_piece, bool quiet)
{
	memset(r, 0, sizeof *r);
	r->d = d;
	r->tp = script_transport_new(steps, n, seed, max_piece);
	r->quiet = (struct transport){ .ops = &quiet_ops, .fd = -1, .priv = r };
	r->quiet_slice_ms = 50;
	r->verbose = true;
	at_chat_init(&r->chat, quiet ? &r->quiet : r->tp, d->syntax, NULL);
	assert_true(d->state_size <= sizeof r->state);
	r->io = (struct modem_io){ .chat = &r->chat, .state = d->state_size ? r->state : NULL, .params = d->params,
				   .baud = 115200, .action_timeout_ms = 30000 };
	r->sink = (struct response_sink){ rig_got_head, rig_got_body, &r->got };
	ath_error_clear(&r->err);
}

void rig_init(struct rig *r, const struct dialect *d, const struct script_step *steps, size_t n,
	      unsigned seed, bool quiet)
{
	rig_init_split(r, d, steps, n, seed, 1 + seed % 200, quiet);
}

enum ath_err rig_exchange(struct rig *r, const struct dialect_request *rq)
{
	rig_got_reset(&r->got);
	ath_error_clear(&r->err);
	enum ath_err e = r->d->ops->exchange(&r->io, rq, &r->sink, &r->err);
	/* As modem.c does after every operation. */
	at_chat_clear_consumers(&r->chat);
	if (e != ATH_OK && r->verbose)
		fprintf(stderr, "  exchange: %s (%s) %s\n", ath_strerror(e), r->err.text, script_error(r->tp));
	return e;
}

const char *rig_field(const struct rig *r, const char *name)
{
	const char *v = hdr_get(&r->got.fields, name);
	return v ? v : "";
}

void rig_done(struct rig *r)
{
	assert_string_equal(script_error(r->tp), "");
	assert_true(script_finished(r->tp));
	rig_free(r);
}

void rig_free(struct rig *r)
{
	script_transport_free(r->tp);
	r->tp = NULL;
	rig_got_reset(&r->got);
}
