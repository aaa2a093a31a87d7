/*
 * A byte-fed parser for what a module sends: lines, data prompts and
 * length-counted binary blocks.  It does no I/O, so it can be fed bytes in
 * any split; a block's data is delivered in pieces as it arrives, never
 * gathered, so its memory stays flat for any block size.
 */
#ifndef ATH_AT_PARSER_H
#define ATH_AT_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "at_syntax.h"

/* Longer lines are cut (the rest is dropped up to the line end). */
#define AT_LINE_MAX 1024

/* How an open stream's end is found. */
enum at_stream_watch {
	/* Every byte is the consumer's: it knows where its data ends (an
	 * HTTP message with a length), so an end marker inside the data is
	 * just data. */
	AT_STREAM_DATA,
	/* The data runs until the rule's end marker (a body that ends with
	 * the connection). */
	AT_STREAM_UNTIL_END,
	/* The consumer is done: what follows up to the end marker is left
	 * over, and the marker may start right here without its leading line
	 * break ("...</html>OK\r\n" as well as "...</html>\r\nOK\r\n"). */
	AT_STREAM_DRAIN,
};

struct at_parser_cb {
	/* A non-empty line, without its terminator, NUL-terminated. */
	void (*line)(void *ctx, const char *line, size_t len);
	/* '>' at the start of a line while a prompt is expected. */
	void (*prompt)(void *ctx);
	/* A piece of a block announced by header; left is what remains after
	 * this piece (0: the block is complete).  A zero-length block is
	 * reported as a plain line instead. */
	void (*block)(void *ctx, const char *header, const void *data, size_t len, size_t left);
	/* A piece of an open stream (see at_stream_rule).  Returns how many
	 * bytes of it the consumer took and may change *watch: fewer than len
	 * with watch unchanged ends the stream there (the rest is read as
	 * lines); fewer than len with watch changed hands the rest back under
	 * the new watch.  at_end: the end marker came; data is the last piece
	 * (maybe empty) and the stream is over whatever is returned. */
	size_t (*stream)(void *ctx, const char *header, const void *data, size_t len, bool at_end,
			 enum at_stream_watch *watch);
	/* The bytes after a block are not the syntax's block_trailer: the
	 * announced length and the data disagree.  Parsing goes on with
	 * those bytes as lines. */
	void (*framing)(void *ctx, const char *header, const char *why);
};

struct at_parser {
	const struct at_syntax *syn;
	const struct at_parser_cb *cb;
	void *ctx;
	enum { ATP_LINE, ATP_BLOCK_LF, ATP_BLOCK, ATP_PROMPT_SPACE, ATP_STREAM_LF, ATP_STREAM, ATP_BLOCK_TRAILER } state;
	char line[AT_LINE_MAX + 1];
	size_t len;
	bool overflow;
	bool prompt_armed;
	bool lf_due;             /* the last line ended with CR: its LF is still on the way */
	size_t block_left;
	size_t trailer_matched;  /* how much of the syntax's block_trailer came */
	/* Streams: recognized only while armed; the rule of the open one,
	 * how its end is watched, and how much of which end marker the last
	 * bytes matched (held back until known to be data or marker). */
	bool stream_armed;
	const struct at_stream_rule *stream;
	enum at_stream_watch watch;
	const char *marker;
	size_t marker_matched;
};

void at_parser_init(struct at_parser *p, const struct at_syntax *syn,
		    const struct at_parser_cb *cb, void *ctx);
void at_parser_feed(struct at_parser *p, const void *buf, size_t len);
/* A '>' at the start of a line counts as a prompt only while armed, so a
 * '>' in ordinary text is never mistaken for one. */
void at_parser_arm_prompt(struct at_parser *p, bool armed);
/* Streams open only while armed: the same line may be a data prompt. */
void at_parser_arm_stream(struct at_parser *p, bool armed);
/* True while the LF of a CR LF line end has not arrived yet: the module is
 * still sending, and a strict one refuses a command until it is done. */
bool at_parser_lf_due(const struct at_parser *p);
/* Forgets any partial line or block (after a flush of the port). */
void at_parser_reset(struct at_parser *p);

/* Does header (a block's header line) announce a response head rather
 * than a body? */
bool at_block_is_head(const struct at_syntax *syn, const char *header);

/* Exposed for tests: the block length a header line announces under syn, or
 * -1 when the line announces none. */
long at_block_length(const struct at_syntax *syn, const char *line, size_t len);
/* The length an inline block's header announces (AT_BLOCK_INLINE, then
 * the field rules): line is the line so far, ending with the comma that
 * would start the data; -1 when this comma starts none.  The parser's own
 * rule, for a reader of raw bytes that must skip exactly what the parser
 * takes as a block (at_pieces). */
long at_inline_block_length(const struct at_syntax *syn, const char *line, size_t len);
/* Likewise for the field rules (at_field_block_rule): line is the line so
 * far, ending with the comma that would start the data. */
long at_field_block_length(const struct at_syntax *syn, const char *line, size_t len);

#endif
