/*
 * A transport that records the conversation of the one it wraps into a
 * transcript (transcript.h), passing every call straight through.
 *
 * What it changes in the record, never on the line:
 * - always: bytes that differ from run to run in what athttp sends become
 *   wildcards, so a replay of the same client command matches: the values
 *   of Date headers and every occurrence of a multipart boundary.
 * - with redact credentials: values of Authorization, Proxy-Authorization,
 *   Cookie and Set-Cookie headers (wildcards when athttp sends them, 'x'
 *   when the module does);
 * - with redact bodies: request bodies sent in data phases (wildcards) and
 *   response bodies in the module's blocks ('x'), same length each.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "at_parser.h"
#include "transcript.h"
#include "transport.h"

#define HEADER_NAME_MAX 24
#define BOUNDARIES_MAX 4
#define BOUNDARY_LEN_MAX 70   /* RFC 2046 */

/* Header values the record never keeps as they are. */
static const struct {
	const char *name;
	bool credential;   /* only with redact credentials; else always */
} masked_headers[] = {
	{ "Authorization", true },
	{ "Proxy-Authorization", true },
	{ "Cookie", true },
	{ "Set-Cookie", true },
	{ "Date", false },
};

/* Finds header lines in one direction's stream across calls. */
struct header_scan {
	char name[HEADER_NAME_MAX + 1];
	size_t len;
	bool at_line_start, in_name, in_value, value_started, masking;
};

struct recorder {
	struct transport *inner;
	struct transcript_writer *w;
	unsigned redact;
	bool next_is_data;
	struct header_scan host, module;
	char boundaries[BOUNDARIES_MAX][BOUNDARY_LEN_MAX + 1];
	size_t n_boundaries;
	struct at_parser parser;     /* finds body blocks in the module's stream */
	unsigned char *mask;         /* per byte of the current read: 1 = body */
	const unsigned char *base;
};

/* Marks in out[] the value bytes of masked headers.  A header's value runs
 * from after "Name:" to the end of its line. */
static void scan_headers(struct header_scan *hs, const unsigned char *p, size_t n,
			 unsigned redact, bool from_host, unsigned char *out)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];
		if (c == '\r' || c == '\n') {
			hs->at_line_start = true;
			hs->in_name = hs->in_value = hs->value_started = hs->masking = false;
			hs->len = 0;
			continue;
		}
		if (hs->at_line_start) {
			hs->at_line_start = false;
			hs->in_name = true;
			hs->len = 0;
		}
		if (hs->in_name) {
			if (c == ':') {
				hs->in_name = false;
				hs->in_value = true;
				hs->name[hs->len] = '\0';
				for (size_t k = 0; k < sizeof masked_headers / sizeof masked_headers[0]; k++) {
					if (strcasecmp(hs->name, masked_headers[k].name) != 0)
						continue;
					bool cred = masked_headers[k].credential;
					/* Date differs between runs only in what athttp sends. */
					hs->masking = cred ? (redact & TRANSPORT_REDACT_CREDENTIALS) != 0 : from_host;
				}
				continue;
			}
			if (hs->len < HEADER_NAME_MAX && (isalnum(c) || c == '-'))
				hs->name[hs->len++] = (char)c;
			else
				hs->in_name = false;
			continue;
		}
		if (!hs->in_value || (!hs->value_started && (c == ' ' || c == '\t')))
			continue;
		hs->value_started = true;
		if (hs->masking)
			out[i] = 1;
	}
}

/* Remembers multipart boundaries athttp sends, then masks them wherever
 * they occur: curl makes a new one for every request. */
static void scan_boundaries(struct recorder *r, const unsigned char *p, size_t n, unsigned char *out)
{
	static const char key[] = "boundary=";
	for (size_t i = 0; i + sizeof key - 1 < n; i++) {
		if (strncasecmp((const char *)p + i, key, sizeof key - 1) != 0)
			continue;
		size_t s = i + sizeof key - 1, e = s;
		if (e < n && p[e] == '"')
			s = ++e;
		while (e < n && e - s < BOUNDARY_LEN_MAX && (isalnum(p[e]) || strchr("'()+_,-./:=?", p[e])))
			e++;
		if (e - s >= 8 && r->n_boundaries < BOUNDARIES_MAX) {
			memcpy(r->boundaries[r->n_boundaries], p + s, e - s);
			r->boundaries[r->n_boundaries++][e - s] = '\0';
		}
	}
	for (size_t b = 0; b < r->n_boundaries; b++) {
		size_t bl = strlen(r->boundaries[b]);
		for (size_t i = 0; i + bl <= n; i++)
			if (memcmp(p + i, r->boundaries[b], bl) == 0)
				memset(out + i, 1, bl);
	}
}

static void on_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct recorder *r = ctx;
	(void)left;
	if (!r->mask || !len || at_block_is_head(r->parser.syn, header))
		return;
	memset(r->mask + ((const unsigned char *)data - r->base), 1, len);
}

static const struct at_parser_cb record_parser_cb = { .block = on_block };

static void record(struct recorder *r, char dir, const unsigned char *p, size_t n)
{
	unsigned char *mask = calloc(n ? n : 1, 1);
	if (!mask) {
		transcript_writer_note(r->w, "out of memory: event not recorded");
		return;
	}
	bool from_host = dir == '>';
	scan_headers(from_host ? &r->host : &r->module, p, n, r->redact, from_host, mask);
	if (from_host) {
		scan_boundaries(r, p, n, mask);
		if (r->next_is_data && (r->redact & TRANSPORT_REDACT_BODIES))
			memset(mask, 1, n);
		transcript_writer_event(r->w, dir, p, n, mask);
	} else {
		/* Module bytes are replayed as recorded: what is masked is
		 * overwritten with 'x', same length. */
		if (r->redact & TRANSPORT_REDACT_BODIES) {
			r->mask = mask;
			r->base = p;
			at_parser_feed(&r->parser, p, n);
			r->mask = NULL;
		}
		unsigned char *copy = malloc(n ? n : 1);
		if (copy) {
			for (size_t i = 0; i < n; i++)
				copy[i] = mask[i] ? 'x' : p[i];
			transcript_writer_event(r->w, dir, copy, n, NULL);
			free(copy);
		}
	}
	free(mask);
}

static ssize_t rec_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct recorder *r = t->priv;
	ssize_t n = r->inner->ops->read(r->inner, buf, len, timeout_ms);
	if (n > 0)
		record(r, '<', buf, (size_t)n);
	return n;
}

static enum ath_err rec_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct recorder *r = t->priv;
	record(r, '>', buf, len);
	r->next_is_data = false;
	return r->inner->ops->write(r->inner, buf, len, timeout_ms);
}

static void rec_hint(struct transport *t, enum transport_hint h)
{
	struct recorder *r = t->priv;
	r->next_is_data = h == TRANSPORT_HINT_DATA;
	if (r->inner->ops->hint)
		r->inner->ops->hint(r->inner, h);
}

static void rec_flush(struct transport *t)
{
	struct recorder *r = t->priv;
	if (r->inner->ops->flush_input)
		r->inner->ops->flush_input(r->inner);
}

static const char *rec_error(struct transport *t)
{
	struct recorder *r = t->priv;
	return r->inner->ops->error ? r->inner->ops->error(r->inner) : NULL;
}

static void rec_free(struct transport *t, bool abandon)
{
	struct recorder *r = t->priv;
	if (abandon && r->inner->ops->abandon)
		r->inner->ops->abandon(r->inner);
	else
		r->inner->ops->close(r->inner);
	transcript_writer_close(r->w);
	free(r);
	free(t);
}

static void rec_close(struct transport *t)
{
	rec_free(t, false);
}

static void rec_abandon(struct transport *t)
{
	rec_free(t, true);
}

static const struct transport_ops record_ops = {
	.name = "record",
	.read = rec_read,
	.write = rec_write,
	.flush_input = rec_flush,
	.close = rec_close,
	.abandon = rec_abandon,
	.hint = rec_hint,
	.error = rec_error,
};

struct transport *transport_record_wrap(struct transport *inner, const struct transport_config *cfg,
					struct ath_error *err)
{
	struct transport *t = calloc(1, sizeof *t);
	struct recorder *r = calloc(1, sizeof *r);
	if (r)
		r->w = transcript_writer_open(cfg->record, cfg->dialect ? cfg->dialect : "unknown",
					      cfg->path, cfg->baud);
	if (!t || !r || !r->w) {
		ath_fail(err, ATH_E_CONFIG, -1, "cannot write the transcript %s", cfg->record);
		free(t);
		free(r);
		inner->ops->close(inner);
		return NULL;
	}
	r->inner = inner;
	r->redact = cfg->redact;
	r->host.at_line_start = r->module.at_line_start = true;
	at_parser_init(&r->parser, cfg->syntax, &record_parser_cb, r);
	t->ops = &record_ops;
	t->fd = inner->fd;
	t->priv = r;
	return t;
}
