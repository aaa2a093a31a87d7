#include "at_pieces.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "at_chat.h"

/* The most digits a T may have: at a piece's start, and when the next
 * piece is looked ahead for (where it must equal the first's, unless
 * any T goes). */
#define START_DIGITS 12
#define NEXT_DIGITS 19

void at_pieces_init(struct at_pieces *r, const struct at_syntax *syn, const char *const *prefixes, bool any_total,
		    const struct at_pieces_cb *cb, void *ctx)
{
	memset(r, 0, sizeof *r);
	r->syn = syn;
	r->prefixes = prefixes;
	r->any_total = any_total;
	r->cb = cb;
	r->ctx = ctx;
}

void at_pieces_arm_prompt(struct at_pieces *r, bool armed)
{
	r->prompt_armed = armed;
}

bool at_pieces_in_piece(const struct at_pieces *r)
{
	return r->state == ATPC_PIECE || r->state == ATPC_END;
}

bool at_pieces_provisional(const struct at_pieces *r)
{
	return r->provisional;
}

unsigned at_pieces_count(const struct at_pieces *r)
{
	return r->pieces;
}

unsigned long long at_pieces_sum(const struct at_pieces *r)
{
	return r->sum;
}

unsigned long long at_pieces_total(const struct at_pieces *r)
{
	return r->total;
}

static bool is_break(unsigned char c)
{
	return c == '\r' || c == '\n';
}

static void framing(struct at_pieces *r, const char *fmt, unsigned long long a, unsigned long long b)
{
	char why[120];
	snprintf(why, sizeof why, fmt, a, b);
	if (r->cb->framing)
		r->cb->framing(r->ctx, why);
}

/* NEXT_YES: s[0..n) is a piece's start "<prefix><T>,<"; NEXT_MAYBE: it may
 * become one. */
enum verdict { NEXT_NO, NEXT_MAYBE, NEXT_YES };

/* Does s[0..n) (so far) start a piece, with a T of at most max_digits
 * digits that is want (any T when any_total)?  *t gets the T. */
static enum verdict piece_start(const struct at_pieces *r, const unsigned char *s, size_t n, size_t max_digits,
				unsigned long long want, bool any_total, unsigned long long *t)
{
	for (const char *const *p = r->prefixes; p && *p; p++) {
		size_t plen = strlen(*p);
		if (memcmp(s, *p, n < plen ? n : plen) != 0)
			continue;
		if (n <= plen)
			return NEXT_MAYBE;
		if (s[plen] != '<')
			continue;
		unsigned long long v = 0;
		size_t i = plen + 1, digits = 0;
		while (i < n && isdigit(s[i]) && digits <= max_digits) {
			v = v * 10 + (unsigned long long)(s[i] - '0');
			i++, digits++;
		}
		if (digits > max_digits)
			return NEXT_NO;
		if (i == n)
			return NEXT_MAYBE;
		if (!digits || (v != want && !any_total))
			return NEXT_NO;
		static const char tail[] = ">,<";
		size_t k = n - i < 3 ? n - i : 3;
		if (memcmp(s + i, tail, k) != 0)
			return NEXT_NO;
		*t = v;
		return k == 3 ? NEXT_YES : NEXT_MAYBE;
	}
	return NEXT_NO;
}

static void piece_open(struct at_pieces *r, unsigned long long t)
{
	/* Every piece gives the same T (the lookahead at a piece's end
	 * takes another T for data). */
	if (r->pieces == 0)
		r->total = t;
	r->pieces++;
	r->state = ATPC_PIECE;
	r->len = 0;
}

static void piece_data(struct at_pieces *r, const void *data, size_t len)
{
	if (!len)
		return;
	r->sum += len;
	r->cb->data(r->ctx, data, len);
	if (!r->any_total && !r->over_said && r->sum > r->total) {
		r->over_said = true;
		framing(r, "the pieces hold more than their total: %llu bytes of %llu", r->sum, r->total);
	}
}

static void end_line(struct at_pieces *r)
{
	if (r->len && r->cb->line) {
		r->line[r->len] = '\0';
		r->cb->line(r->ctx, r->line, r->len);
	}
	r->len = 0;
	r->overflow = false;
}

static void line_byte(struct at_pieces *r, unsigned char c)
{
	if (is_break(c)) {
		end_line(r);
		return;
	}
	if (r->len == 0 && c == '>' && r->prompt_armed) {
		if (r->cb->prompt)
			r->cb->prompt(r->ctx);
		return;
	}
	if (r->len < AT_LINE_MAX)
		r->line[r->len++] = (char)c;
	else
		r->overflow = true;
	if (r->overflow)
		return;
	if (c == ',') {
		/* A counted block: its data is the parser's, skipped. */
		long n = at_inline_block_length(r->syn, r->line, r->len);
		if (n >= 0) {
			r->len = 0;
			r->block_left = (size_t)n;
			r->state = n ? ATPC_BLOCK : ATPC_LINE;
		}
	} else if (c == '<') {
		unsigned long long t;
		if (piece_start(r, (const unsigned char *)r->line, r->len, START_DIGITS, 0, true, &t) == NEXT_YES)
			piece_open(r, t);
	}
}

/* The held '>' was data after all: it goes to the piece, and the bytes
 * held after it are read again. */
static void hold_is_data(struct at_pieces *r)
{
	unsigned char again[AT_PIECES_HOLD_MAX];
	size_t n = r->hold_len;
	memcpy(again, r->hold, n);
	r->hold_len = 0;
	r->provisional = false;
	r->state = ATPC_PIECE;
	piece_data(r, again, 1);
	at_pieces_feed(r, again + 1, n - 1);
}

/* Where the next line starts in the hold: after '>' and the line break. */
static size_t hold_next(const struct at_pieces *r)
{
	size_t k = 1;
	while (k < r->hold_len && is_break(r->hold[k]))
		k++;
	return k;
}

/* The piece ends at the held '>'; what follows it is read as lines.
 * over: no piece follows (a final result, or the module's silence). */
static void hold_is_end(struct at_pieces *r, bool over)
{
	unsigned char next[AT_PIECES_HOLD_MAX];
	size_t k = hold_next(r);
	size_t n = r->hold_len - k;
	memcpy(next, r->hold + k, n);
	r->hold_len = 0;
	r->provisional = false;
	r->state = ATPC_LINE;
	r->len = 0;
	r->cb->end(r->ctx);
	if (over && !r->any_total && r->sum < r->total)
		framing(r, "the pieces end short of their total: %llu bytes of %llu", r->sum, r->total);
	at_pieces_feed(r, next, n);
}

void at_pieces_settle(struct at_pieces *r)
{
	if (r->provisional)
		hold_is_end(r, true);
}

/* The line after the held '>' and line break is complete (s[0..n), its
 * own line break not included): the end if it is a final result. */
static void line_after_gt(struct at_pieces *r, const unsigned char *s, size_t n)
{
	char line[AT_PIECES_HOLD_MAX];
	memcpy(line, s, n);
	line[n] = '\0';
	enum at_final kind = memchr(line, '\0', n) ? AT_FINAL_NONE : at_final_kind(r->syn, line);
	switch (kind) {
	case AT_FINAL_NONE:
		hold_is_data(r);
		return;
	case AT_FINAL_CME:
	case AT_FINAL_CMS:
		/* An error report is never a line of a body. */
		hold_is_end(r, true);
		return;
	default:
		/* The body is whole: this is its end.  Short of T, it may be
		 * the end of a cut body, or a line of the data. */
		if (r->any_total || r->sum == r->total)
			hold_is_end(r, true);
		else
			r->provisional = true;
		return;
	}
}

static void end_byte(struct at_pieces *r, unsigned char c)
{
	if (r->provisional) {
		/* The final result's own line break may still be coming. */
		if (is_break(c) && r->hold_len < AT_PIECES_HOLD_MAX) {
			r->hold[r->hold_len++] = c;
			return;
		}
		/* More came after what looked like the end: it was data. */
		hold_is_data(r);
		at_pieces_feed(r, &c, 1);
		return;
	}
	if (r->hold_len == AT_PIECES_HOLD_MAX) {
		hold_is_data(r);
		at_pieces_feed(r, &c, 1);
		return;
	}
	r->hold[r->hold_len++] = c;
	size_t k = hold_next(r);
	if (k == 1) {
		hold_is_data(r); /* a '>' with no line break after it */
		return;
	}
	if (k == r->hold_len)
		return; /* still the line break */
	const unsigned char *s = r->hold + k;
	size_t n = r->hold_len - k;
	unsigned long long t;
	switch (piece_start(r, s, n, NEXT_DIGITS, r->total, r->any_total, &t)) {
	case NEXT_YES:
		hold_is_end(r, false);
		return;
	case NEXT_MAYBE:
		return;
	case NEXT_NO:
		break;
	}
	/* A final result only once its line is whole. */
	if (is_break(c))
		line_after_gt(r, s, n - 1);
}

void at_pieces_feed(struct at_pieces *r, const void *data, size_t len)
{
	const unsigned char *b = data;
	size_t i = 0;
	while (i < len) {
		switch (r->state) {
		case ATPC_BLOCK: {
			size_t take = len - i < r->block_left ? len - i : r->block_left;
			i += take;
			r->block_left -= take;
			if (r->block_left == 0) {
				r->state = ATPC_LINE;
				r->len = 0;
			}
			continue;
		}
		case ATPC_PIECE: {
			const unsigned char *gt = memchr(b + i, '>', len - i);
			size_t run = gt ? (size_t)(gt - (b + i)) : len - i;
			piece_data(r, b + i, run);
			i += run;
			if (gt) {
				r->hold[0] = '>';
				r->hold_len = 1;
				r->state = ATPC_END;
				i++;
			}
			continue;
		}
		case ATPC_END:
			end_byte(r, b[i++]);
			continue;
		case ATPC_LINE:
			line_byte(r, b[i++]);
			continue;
		}
	}
}
