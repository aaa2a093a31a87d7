#include "at_parser.h"

#include <ctype.h>
#include <string.h>

void at_parser_init(struct at_parser *p, const struct at_syntax *syn,
		    const struct at_parser_cb *cb, void *ctx)
{
	memset(p, 0, sizeof *p);
	p->syn = syn;
	p->cb = cb;
	p->ctx = ctx;
}

void at_parser_reset(struct at_parser *p)
{
	p->state = ATP_LINE;
	p->len = 0;
	p->overflow = false;
	p->lf_due = false;
	p->block_left = 0;
	p->stream = NULL;
	p->marker_matched = 0;
}

void at_parser_arm_stream(struct at_parser *p, bool armed)
{
	p->stream_armed = armed;
}

bool at_parser_lf_due(const struct at_parser *p)
{
	return p->lf_due;
}

void at_parser_arm_prompt(struct at_parser *p, bool armed)
{
	p->prompt_armed = armed;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

/* Parses the decimal number s[0..len) (spaces around allowed); -1 if not one. */
static long parse_len(const char *s, size_t len)
{
	while (len && *s == ' ')
		s++, len--;
	while (len && s[len - 1] == ' ')
		len--;
	if (!len || len > 9)
		return -1;
	long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

long at_block_length(const struct at_syntax *syn, const char *line, size_t len)
{
	if (!syn || !syn->blocks)
		return -1;
	for (const struct at_block_rule *r = syn->blocks; r->prefix; r++) {
		if (r->kind != AT_BLOCK_AFTER_LINE || !starts_with(line, len, r->prefix))
			continue;
		const char *s = line + strlen(r->prefix);
		size_t n = len - strlen(r->prefix);
		while (n && *s == ' ')
			s++, n--;
		if (r->not_if && starts_with(s, n, r->not_if))
			return -1;
		/* Either "<n>" or "WORD,<n>" (SIM7600's "DATA,<n>"). */
		const char *comma = memchr(s, ',', n);
		if (comma) {
			for (const char *w = s; w < comma; w++)
				if (!isalpha((unsigned char)*w))
					return -1;
			n -= (size_t)(comma + 1 - s);
			s = comma + 1;
		}
		return parse_len(s, n);
	}
	return -1;
}

bool at_block_is_head(const struct at_syntax *syn, const char *header)
{
	if (!syn || !syn->blocks)
		return false;
	for (const struct at_block_rule *r = syn->blocks; r->prefix; r++)
		if (starts_with(header, strlen(header), r->prefix))
			return r->head;
	return false;
}

/* For an inline rule: the line so far ends with the ',' that starts data. */
static long inline_block_length(const struct at_syntax *syn, const char *line, size_t len)
{
	if (!syn || !syn->blocks)
		return -1;
	for (const struct at_block_rule *r = syn->blocks; r->prefix; r++) {
		if (r->kind != AT_BLOCK_INLINE || !starts_with(line, len, r->prefix))
			continue;
		size_t plen = strlen(r->prefix);
		return parse_len(line + plen, len - plen - 1);
	}
	return -1;
}

static const struct at_stream_rule *stream_rule(const struct at_parser *p, const char *line,
						size_t len)
{
	if (!p->stream_armed || !p->syn || !p->syn->streams)
		return NULL;
	for (const struct at_stream_rule *r = p->syn->streams; r->prefix; r++)
		if (starts_with(line, len, r->prefix))
			return r;
	return NULL;
}

static void end_line(struct at_parser *p, bool by_cr)
{
	if (p->len == 0) {
		p->overflow = false;
		return;
	}
	p->line[p->len] = '\0';
	long n = p->overflow ? -1 : at_block_length(p->syn, p->line, p->len);
	if (n > 0) {
		p->block_left = (size_t)n;
		/* The header's own CRLF: skip the LF that follows a CR. */
		p->state = by_cr ? ATP_BLOCK_LF : ATP_BLOCK;
		return;
	}
	const struct at_stream_rule *sr = p->overflow ? NULL : stream_rule(p, p->line, p->len);
	if (sr) {
		p->stream = sr;
		p->watch = AT_STREAM_DATA;
		p->marker_matched = 0;
		p->state = by_cr ? ATP_STREAM_LF : ATP_STREAM;
		return;
	}
	if (p->cb->line)
		p->cb->line(p->ctx, p->line, p->len);
	p->len = 0;
	p->overflow = false;
}

static size_t feed_block(struct at_parser *p, const unsigned char *b, size_t len)
{
	size_t take = len < p->block_left ? len : p->block_left;
	p->block_left -= take;
	if (p->cb->block)
		p->cb->block(p->ctx, p->line, b, take, p->block_left);
	if (p->block_left == 0) {
		p->state = ATP_LINE;
		p->len = 0;
	}
	return take;
}

static void close_stream(struct at_parser *p)
{
	p->state = ATP_LINE;
	p->stream = NULL;
	p->marker_matched = 0;
	p->len = 0;
}

/* The marker's leading line break: in AT_STREAM_DRAIN it counts as already
 * seen, since the consumer's data may end right before "OK". */
static size_t marker_break_len(const char *m)
{
	size_t n = 0;
	while (m[n] == '\r' || m[n] == '\n')
		n++;
	return n;
}

/* The longest proper suffix of m[0..k) that is also a prefix of m: how
 * much of a failed partial match may still begin the marker. */
static size_t marker_border(const char *m, size_t k)
{
	for (size_t b = k - 1; b > 0; b--)
		if (memcmp(m, m + k - b, b) == 0)
			return b;
	return 0;
}

enum deliver_outcome { DELIVERED, REWATCH, ENDED };

/* Hands data to the consumer; *used says how much it took. */
static enum deliver_outcome deliver(struct at_parser *p, const void *data, size_t len, size_t *used)
{
	enum at_stream_watch w = p->watch;
	size_t u = len;
	if (p->cb->stream && len)
		u = p->cb->stream(p->ctx, p->line, data, len, false, &w);
	if (u > len)
		u = len;
	*used = u;
	bool changed = w != p->watch;
	p->watch = w;
	if (changed && w == AT_STREAM_DRAIN && p->stream->end_marker && p->marker_matched == 0)
		p->marker_matched = marker_break_len(p->stream->end_marker);
	if (u == len)
		return DELIVERED;
	return changed ? REWATCH : ENDED;
}

/* Feeds b[0..len) to the open stream; returns how many bytes belonged to
 * it (the rest is read as lines).  Bytes that may begin the end marker are
 * held back (as marker_matched) until they turn out to be data or marker. */
static size_t feed_stream(struct at_parser *p, const unsigned char *b, size_t len)
{
	const char *m = p->stream->end_marker;
	size_t mlen = m ? strlen(m) : 0;
	size_t i = 0, run = 0, used;
	while (i < len) {
		if (p->watch == AT_STREAM_DATA || !mlen) {
			enum deliver_outcome o = deliver(p, b + run, len - run, &used);
			if (o == ENDED) {
				close_stream(p);
				return run + used;
			}
			if (o == DELIVERED)
				return len;
			run += used;
			i = run;
			continue;
		}
		unsigned char c = b[i];
		if (c == (unsigned char)m[p->marker_matched]) {
			if (p->marker_matched == 0 && i > run) {
				enum deliver_outcome o = deliver(p, b + run, i - run, &used);
				if (o == ENDED) {
					close_stream(p);
					return run + used;
				}
				if (o == REWATCH) {
					run += used;
					i = run;
					continue;
				}
				run = i;
				if (p->marker_matched)
					continue; /* now draining: look at c again */
			}
			p->marker_matched++;
			i++;
			if (p->marker_matched == mlen) {
				enum at_stream_watch w = p->watch;
				if (p->cb->stream)
					p->cb->stream(p->ctx, p->line, b + i, 0, true, &w);
				close_stream(p);
				/* The marker is the module's own words ("OK"): read
				 * them as lines. */
				at_parser_feed(p, m, mlen);
				return i;
			}
			continue;
		}
		if (p->marker_matched > 0) {
			/* Not the marker after all: the held bytes are data,
			 * except a tail that may still begin it. */
			size_t k = p->marker_matched;
			size_t keep = marker_border(m, k);
			p->marker_matched = 0;
			enum deliver_outcome o = deliver(p, m, k - keep, &used);
			if (o == ENDED) {
				close_stream(p);
				at_parser_feed(p, m + used, k - used);
				return i;
			}
			/* REWATCH here can only be a switch to draining: the
			 * rest of the held bytes are then left over, and
			 * deliver() has armed the marker afresh. */
			if (o == DELIVERED && p->marker_matched == 0)
				p->marker_matched = keep;
			run = i;
			continue;
		}
		i++;
		if (c == '\n' && p->watch == AT_STREAM_DRAIN) {
			/* Left-over bytes: the module's OK may start any line. */
			deliver(p, b + run, i - run, &used);
			run = i;
			p->marker_matched = marker_break_len(m);
		}
	}
	if (p->marker_matched == 0 && run < len) {
		enum deliver_outcome o = deliver(p, b + run, len - run, &used);
		if (o == ENDED) {
			close_stream(p);
			return run + used;
		}
		if (o == REWATCH)
			return run + used + feed_stream(p, b + run + used, len - run - used);
	}
	return len;
}

void at_parser_feed(struct at_parser *p, const void *buf, size_t len)
{
	const unsigned char *b = buf;
	size_t i = 0;
	while (i < len) {
		unsigned char c = b[i];
		p->lf_due = false;
		switch (p->state) {
		case ATP_BLOCK_LF:
			p->state = ATP_BLOCK;
			if (c == '\n')
				i++;
			continue;
		case ATP_BLOCK:
			i += feed_block(p, b + i, len - i);
			continue;
		case ATP_PROMPT_SPACE:
			p->state = ATP_LINE;
			if (c == ' ')
				i++;
			continue;
		case ATP_STREAM_LF:
			p->state = ATP_STREAM;
			if (c == '\n')
				i++;
			continue;
		case ATP_STREAM:
			i += feed_stream(p, b + i, len - i);
			continue;
		case ATP_LINE:
			break;
		}
		i++;
		if (c == '\r' || c == '\n') {
			end_line(p, c == '\r');
			p->lf_due = c == '\r' && p->state == ATP_LINE;
			continue;
		}
		if (p->len == 0 && c == '>' && p->prompt_armed) {
			p->prompt_armed = false;
			p->state = ATP_PROMPT_SPACE;
			if (p->cb->prompt)
				p->cb->prompt(p->ctx);
			continue;
		}
		if (p->len < AT_LINE_MAX)
			p->line[p->len++] = (char)c;
		else
			p->overflow = true;
		if (c == ',' && !p->overflow) {
			long n = inline_block_length(p->syn, p->line, p->len);
			if (n >= 0) {
				p->line[p->len] = '\0';
				p->block_left = (size_t)n;
				p->state = ATP_BLOCK;
				if (n == 0)
					feed_block(p, b + i, 0);
			}
		}
	}
}
