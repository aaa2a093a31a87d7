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
	p->trailer_matched = 0;
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

/* The text after prefix and any spaces, if line starts with prefix and
 * then word; NULL otherwise. */
static const char *after_word(const char *line, size_t len, const char *prefix, const char *word)
{
	if (!starts_with(line, len, prefix))
		return NULL;
	size_t i = strlen(prefix);
	while (i < len && line[i] == ' ')
		i++;
	if (!starts_with(line + i, len - i, word))
		return NULL;
	return line + i + strlen(word);
}

/* For a field rule: the line so far ends with the ',' that may start data.
 * Returns the data's length, or -1 when this comma does not start it. */
static long field_block_length(const struct at_field_block_rule *r, const char *line, size_t len)
{
	const char *s = after_word(line, len, r->prefix, r->word);
	if (!s || !r->fields || r->length_field < 1 || r->length_field > r->fields)
		return -1;
	const char *end = line + len;
	if (s >= end || *s != ',')
		return -1;
	long want = -1;
	/* r->fields numbers, each after a comma; the last comma is the one
	 * just read. */
	for (unsigned f = 1; f <= r->fields; f++) {
		const char *start = s + 1;
		const char *comma = memchr(start, ',', (size_t)(end - start));
		if (!comma)
			return -1; /* not there yet */
		long v = parse_len(start, (size_t)(comma - start));
		if (v < 0)
			return -1;
		if (f == r->length_field)
			want = v;
		s = comma;
	}
	return s == end - 1 ? want : -1;
}

static const struct at_field_block_rule *field_rule_of(const struct at_syntax *syn, const char *line,
							size_t len)
{
	if (!syn || !syn->field_blocks)
		return NULL;
	for (const struct at_field_block_rule *r = syn->field_blocks; r->prefix; r++)
		if (after_word(line, len, r->prefix, r->word))
			return r;
	return NULL;
}

bool at_block_is_head(const struct at_syntax *syn, const char *header)
{
	if (!syn)
		return false;
	for (const struct at_block_rule *r = syn->blocks; r && r->prefix; r++)
		if (starts_with(header, strlen(header), r->prefix))
			return r->head;
	const struct at_field_block_rule *f = field_rule_of(syn, header, strlen(header));
	return f ? f->head : false;
}

long at_field_block_length(const struct at_syntax *syn, const char *line, size_t len)
{
	const struct at_field_block_rule *r = field_rule_of(syn, line, len);
	return r && len && line[len - 1] == ',' ? field_block_length(r, line, len) : -1;
}

/* A line that is exactly a joined prefix (trailing spaces allowed): the
 * module split it, and the rest comes on the next line. */
static bool is_joined_prefix(const struct at_syntax *syn, const char *line, size_t len)
{
	if (!syn || !syn->joined_prefixes)
		return false;
	while (len && line[len - 1] == ' ')
		len--;
	for (const char *const *j = syn->joined_prefixes; *j; j++)
		if (strlen(*j) == len && memcmp(line, *j, len) == 0)
			return true;
	return false;
}

/* Is the line so far one that comes without a line end, complete now? */
static bool bare_line_complete(const struct at_syntax *syn, const char *line, size_t len)
{
	if (!syn || !syn->bare_lines)
		return false;
	for (const struct at_bare_line_rule *r = syn->bare_lines; r->prefix; r++) {
		const char *s = after_word(line, len, r->prefix, r->word);
		if (!s || (size_t)(line + len - s) != r->digits)
			continue;
		bool digits = true;
		for (; s < line + len; s++)
			digits = digits && isdigit((unsigned char)*s);
		if (digits)
			return true;
	}
	return false;
}

long at_inline_block_length(const struct at_syntax *syn, const char *line, size_t len)
{
	if (!syn)
		return -1;
	for (const struct at_block_rule *r = syn->blocks; r && r->prefix; r++) {
		if (r->kind != AT_BLOCK_INLINE || !starts_with(line, len, r->prefix))
			continue;
		size_t plen = strlen(r->prefix);
		if (len < plen + 1)
			return -1; /* no room for the comma after the prefix */
		return parse_len(line + plen, len - plen - 1);
	}
	return at_field_block_length(syn, line, len);
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
	if (!p->overflow && is_joined_prefix(p->syn, p->line, p->len))
		return; /* the line goes on after this line break */
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
		/* The header stays in p->line for a framing report. */
		p->trailer_matched = 0;
		if (p->syn && p->syn->block_trailer && *p->syn->block_trailer) {
			p->state = ATP_BLOCK_TRAILER;
		} else {
			p->state = ATP_LINE;
			p->len = 0;
		}
	}
	return take;
}

/* One byte after a block: the next of the trailer, or a framing error
 * (then the byte is read again as the start of a line).  Returns whether
 * it was taken. */
static bool feed_trailer(struct at_parser *p, unsigned char c)
{
	const char *t = p->syn->block_trailer;
	if ((unsigned char)t[p->trailer_matched] == c) {
		if (t[++p->trailer_matched] == '\0') {
			p->state = ATP_LINE;
			p->len = 0;
		}
		return true;
	}
	p->state = ATP_LINE;
	if (p->cb->framing)
		p->cb->framing(p->ctx, p->line,
			       "the bytes after the block are not its line end (the length and the data disagree)");
	p->len = 0;
	return false;
}

static void close_stream(struct at_parser *p)
{
	p->state = ATP_LINE;
	p->stream = NULL;
	p->marker = NULL;
	p->marker_matched = 0;
	p->len = 0;
}

/* The markers' leading line break: in AT_STREAM_DRAIN it counts as already
 * seen, since the consumer's data may end right before "OK". */
static size_t marker_break_len(const char *m)
{
	size_t n = 0;
	while (m[n] == '\r' || m[n] == '\n')
		n++;
	return n;
}

/* Holds back the first marker's leading line break as already matched. */
static void arm_marker_break(struct at_parser *p)
{
	p->marker = p->stream->end_markers[0];
	p->marker_matched = p->marker ? marker_break_len(p->marker) : 0;
}

/* The end marker that goes on from the k bytes matched so far (the first k
 * of p->marker) with c, or NULL.  Markers may share a beginning ("\r\nOK"
 * and "\r\n+HTTPREAD:"): the match moves to whichever fits. */
static const char *marker_next(const struct at_parser *p, size_t k, unsigned char c)
{
	if (k && (unsigned char)p->marker[k] == c)
		return p->marker;
	for (size_t j = 0; j < AT_STREAM_MARKERS && p->stream->end_markers[j]; j++) {
		const char *m = p->stream->end_markers[j];
		if (strlen(m) > k && (k == 0 || memcmp(m, p->marker, k) == 0) && (unsigned char)m[k] == c)
			return m;
	}
	return NULL;
}

/* After a failed partial match of k bytes: the longest tail of them that
 * still begins some marker (its length; *next says which marker). */
static size_t marker_border(const struct at_parser *p, size_t k, const char **next)
{
	const char *held = p->marker;
	for (size_t b = k - 1; b > 0; b--)
		for (size_t j = 0; j < AT_STREAM_MARKERS && p->stream->end_markers[j]; j++) {
			const char *m = p->stream->end_markers[j];
			if (strlen(m) > b && memcmp(m, held + k - b, b) == 0) {
				*next = m;
				return b;
			}
		}
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
	if (changed && w == AT_STREAM_DRAIN && p->marker_matched == 0)
		arm_marker_break(p);
	if (u == len)
		return DELIVERED;
	return changed ? REWATCH : ENDED;
}

/* Feeds b[0..len) to the open stream; returns how many bytes belonged to
 * it (the rest is read as lines).  Bytes that may begin an end marker are
 * held back (as marker_matched) until they turn out to be data or marker. */
static size_t feed_stream(struct at_parser *p, const unsigned char *b, size_t len)
{
	bool markers = p->stream->end_markers[0] != NULL;
	size_t i = 0, run = 0, used;
	while (i < len) {
		if (p->watch == AT_STREAM_DATA || !markers) {
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
		const char *m = marker_next(p, p->marker_matched, c);
		if (m) {
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
			p->marker = m;
			p->marker_matched++;
			i++;
			size_t mlen = strlen(m);
			if (p->marker_matched == mlen) {
				enum at_stream_watch w = p->watch;
				if (p->cb->stream)
					p->cb->stream(p->ctx, p->line, b + i, 0, true, &w);
				close_stream(p);
				/* The marker is the module's own words ("OK", a
				 * result line): read them as lines. */
				at_parser_feed(p, m, mlen);
				return i;
			}
			continue;
		}
		if (p->marker_matched > 0) {
			/* Not a marker after all: the held bytes are data,
			 * except a tail that may still begin one. */
			size_t k = p->marker_matched;
			const char *held = p->marker, *next = NULL;
			size_t keep = marker_border(p, k, &next);
			p->marker_matched = 0;
			enum deliver_outcome o = deliver(p, held, k - keep, &used);
			if (o == ENDED) {
				close_stream(p);
				at_parser_feed(p, held + used, k - used);
				return i;
			}
			/* REWATCH here can only be a switch to draining: the
			 * rest of the held bytes are then left over, and
			 * deliver() has armed the marker afresh. */
			if (o == DELIVERED && p->marker_matched == 0 && keep) {
				p->marker = next;
				p->marker_matched = keep;
			}
			run = i;
			continue;
		}
		i++;
		if (c == '\n' && p->watch == AT_STREAM_DRAIN) {
			/* Left-over bytes: the module's OK may start any line. */
			deliver(p, b + run, i - run, &used);
			run = i;
			arm_marker_break(p);
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
		case ATP_BLOCK_TRAILER:
			if (feed_trailer(p, c)) {
				i++;
				p->lf_due = c == '\r' && p->state == ATP_BLOCK_TRAILER;
			}
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
			long n = at_inline_block_length(p->syn, p->line, p->len);
			if (n >= 0) {
				p->line[p->len] = '\0';
				p->block_left = (size_t)n;
				p->state = ATP_BLOCK;
				if (n == 0)
					feed_block(p, b + i, 0);
			}
		} else if (isdigit(c) && !p->overflow && bare_line_complete(p->syn, p->line, p->len)) {
			end_line(p, false);
		}
	}
}
