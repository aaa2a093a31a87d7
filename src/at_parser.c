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
