/*
 * A byte-fed reader of pieces that carry no length of their own:
 * "<prefix><T>,<data>" with literal angle brackets, T the total length of
 * all the pieces' data together (the same in every piece), then a line
 * break.  Beken BK72xx firmware prints a body so ("+HTTPCLIENT:<T>,<data>",
 * its AT manual's "HTTP instruction set").  Nothing in the data says where
 * it ends, so the reader decides by lookahead: a piece runs from '<' to
 * the last '>' before a line break that is followed by the next piece
 * with the same T, or by a final result.  Bare LFs, blank lines and '>'
 * inside the data come through byte for byte.  When the pieces so far
 * fall short of T, a '>', a line break and a final result may still be
 * data: the end is then provisional, and the owner, who has the clock,
 * makes it the end (at_pieces_settle) if the module goes quiet.
 *
 * Outside pieces it reads lines the way the AT parser does, with the
 * parser's own inline-length rule (at_inline_block_length) to skip the
 * data of counted blocks, and the chat's final results (at_final_kind):
 * fed the same bytes as the parser, it skips exactly what the parser takes
 * as a block and ends pieces at exactly what the chat takes as a result.
 * No I/O: bytes may come in any split, and the events are the same.
 */
#ifndef ATH_AT_PIECES_H
#define ATH_AT_PIECES_H

#include <stdbool.h>
#include <stddef.h>

#include "at_parser.h"
#include "at_syntax.h"

#define AT_PIECES_HOLD_MAX 64

struct at_pieces_cb {
	/* Data of the open piece, as it arrives (never gathered). */
	void (*data)(void *ctx, const void *data, size_t len);
	/* The open piece ended (its closing '>' and line break are not data). */
	void (*end)(void *ctx);
	/* The pieces do not add up to their T: more data than T (said once,
	 * when it happens), or less when they are over (a final result or
	 * the quiet after them).  May be NULL. */
	void (*framing)(void *ctx, const char *why);
	/* A non-empty line outside pieces and counted blocks, without its
	 * line break, NUL-terminated (cut at AT_LINE_MAX).  May be NULL. */
	void (*line)(void *ctx, const char *line, size_t len);
	/* '>' at the start of a line while armed (at_pieces_arm_prompt).
	 * May be NULL. */
	void (*prompt)(void *ctx);
};

struct at_pieces {
	const struct at_syntax *syn;
	const char *const *prefixes;
	bool any_total;
	const struct at_pieces_cb *cb;
	void *ctx;
	enum { ATPC_LINE, ATPC_BLOCK, ATPC_PIECE, ATPC_END } state;
	char line[AT_LINE_MAX + 1];
	size_t len;
	bool overflow;
	size_t block_left;            /* a counted block's data still to skip */
	unsigned pieces;
	unsigned long long total;     /* T of the first piece */
	unsigned long long sum;       /* data bytes of all pieces so far */
	bool over_said;
	/* A '>' that may end the piece and what came after it, held until
	 * known to be the end or data. */
	unsigned char hold[AT_PIECES_HOLD_MAX];
	size_t hold_len;
	/* The hold is '>', a line break and a final result, but the pieces
	 * fall short of T: the end if the module now goes quiet, data if
	 * more comes. */
	bool provisional;
	bool prompt_armed;
};

/* prefixes: what comes before "<T>,<" (e.g. "+HTTPCLIENT:"),
 * NULL-terminated; syn: the dialect's syntax, for its counted blocks and
 * its final results.  any_total: every piece has a T of its own (a HEAD's
 * header-line pieces, whose T is no body's): the next piece may have any
 * T, and no sum is checked. */
void at_pieces_init(struct at_pieces *r, const struct at_syntax *syn, const char *const *prefixes, bool any_total,
		    const struct at_pieces_cb *cb, void *ctx);
void at_pieces_feed(struct at_pieces *r, const void *data, size_t len);
/* A '>' at the start of a line is a data prompt only while armed. */
void at_pieces_arm_prompt(struct at_pieces *r, bool armed);
/* The module has gone quiet: a provisional end is the end. */
void at_pieces_settle(struct at_pieces *r);

/* Inside a piece (its data, or a '>' that may end it). */
bool at_pieces_in_piece(const struct at_pieces *r);
/* The piece's end is provisional (see above). */
bool at_pieces_provisional(const struct at_pieces *r);
/* Pieces opened so far. */
unsigned at_pieces_count(const struct at_pieces *r);
/* Their data bytes, and the T they announced. */
unsigned long long at_pieces_sum(const struct at_pieces *r);
unsigned long long at_pieces_total(const struct at_pieces *r);

#endif
