/*
 * How a dialect frames what the module says, as data: which lines announce a
 * length-counted binary block and which lines are data prompts.  The parser
 * and the chat read these tables; no code switches on the vendor.
 */
#ifndef ATH_AT_SYNTAX_H
#define ATH_AT_SYNTAX_H

#include <stdbool.h>

enum at_block_kind {
	/* "<prefix> [WORD,]<n>" ends with CRLF, then n raw bytes follow:
	 * SIMCom's "+HTTPREAD: DATA,1024" and "+HTTPHEAD: 387". */
	AT_BLOCK_AFTER_LINE,
	/* "<prefix><n>," and the n raw bytes follow at once on the same line:
	 * ESP-AT's "+HTTPCLIENT:5,hello", Neoway's "+HTTPRECV: 5,hello". */
	AT_BLOCK_INLINE,
};

struct at_block_rule {
	const char *prefix;       /* as the module prints it, e.g. "+HTTPREAD:" */
	enum at_block_kind kind;
	/* A word right after the prefix that means the line carries no data:
	 * "+HTTPREAD: LEN,<n>" is a length report, not a block.  May be NULL. */
	const char *not_if;
	/* The block is a response head, not a body: a recording made with
	 * body redaction keeps it. */
	bool head;
};

#define AT_STREAM_MARKERS 4

/* A stream: a line that starts raw bytes of no announced length, such as
 * the CONNECT before HTTPREAD's output on the AT+HTTPCFG modules.  Streams
 * are recognized only while the chat has a stream consumer (the same line
 * may be a data prompt for other commands).  The consumer says where the
 * stream ends when it can (an HTTP message knows its own end); otherwise
 * the stream runs until one of its end markers, which is then read as lines
 * again (so "\r\nOK\r\n" still ends the command).  Several markers: one
 * firmware closes the output with OK, another (the same manual's table)
 * goes straight to its result line. */
struct at_stream_rule {
	const char *prefix;       /* the line that opens it, e.g. "CONNECT" */
	/* bytes that close it, e.g. "\r\nOK\r\n"; unused slots NULL.  When
	 * the consumer is draining, each marker's leading line break counts
	 * as seen at the start of every line, so they should share it. */
	const char *end_markers[AT_STREAM_MARKERS];
};

/* An inline block whose length is not right after the prefix: OneMO's
 * "+MHTTPURC: \"content\",<id>,<content_len>,<sum_len>,<cur_len>,<data>".
 * After the prefix and any spaces comes word, then `fields` numeric fields
 * each after a comma (spaces around a number allowed); the comma after the
 * last one starts the data, whose length is field number length_field
 * (1-based).  A table of its own rather than more at_block_rule fields:
 * those would break every block table written with positional
 * initializers (-Wmissing-field-initializers under -Werror). */
struct at_field_block_rule {
	const char *prefix;       /* e.g. "+MHTTPURC:" */
	const char *word;         /* e.g. "\"content\"" */
	unsigned fields;          /* numeric fields between word and data */
	unsigned length_field;    /* which of them is the data's length, 1..fields */
	bool head;                /* as at_block_rule.head */
};

/* A line the module may send without its line end: complete as soon as
 * it is prefix, any spaces, word, then exactly `digits` decimal digits.
 * OneMO's "+MHTTPURC: \"ind\",0" comes so. */
struct at_bare_line_rule {
	const char *prefix;
	const char *word;
	unsigned digits;
};

struct at_syntax {
	const struct at_block_rule *blocks;   /* ends with a {NULL} entry */
	const char *const *prompt_lines;      /* whole lines that invite data, e.g. "DOWNLOAD"; NULL-terminated */
	const struct at_stream_rule *streams; /* ends with a {NULL} entry; may be NULL */
	/* Lines that end the pending command as a failure in place of ERROR,
	 * by prefix: Neoway prints "+HTTPACTION: SOCKET ID OPEN FAILED" or
	 * "+HTTPSEND: ERROR" instead of OK.  NULL-terminated; may be NULL. */
	const char *const *failure_lines;
	/* Lines that end the pending command in place of OK, by prefix; the
	 * result is AT_FINAL_LINE with the line as its text.  The AT+HTTPCFG
	 * manual's HTTPREAD output goes straight to "+HTTPREAD: <err>" with
	 * no OK (real firmware prints OK first; the line then comes after
	 * the command, as a plain line).  NULL-terminated; may be NULL. */
	const char *const *final_lines;
	/* Inline blocks announced by a later field (see at_field_block_rule);
	 * ends with a {NULL} entry; may be NULL. */
	const struct at_field_block_rule *field_blocks;
	/* Lines that are only the start of a line the module split in two:
	 * a line that is exactly one of these (trailing spaces allowed) goes
	 * on with the next line, joined without the line break, so the rules
	 * see the whole line.  OneMO prints "+MHTTPURC:" then CRLF, then
	 * "\"content\",0,...".  NULL-terminated; may be NULL. */
	const char *const *joined_prefixes;
	/* Lines that may come without a line end; ends with a {NULL} entry;
	 * may be NULL. */
	const struct at_bare_line_rule *bare_lines;
	/* Bytes that must come right after every block's data, e.g. "\r\n":
	 * each manual ends a data report with its line break, or starts the
	 * next report with one.  Anything else there means the count and the
	 * data disagree (a byte lost or added on the line): a framing error,
	 * never more data.  NULL: no check. */
	const char *block_trailer;
	/* Unsolicited lines the dialect's module may print between the lines
	 * of a read (besides the 27.007 ones, at_urc_lines): while a read's
	 * strict window is open (at_chat_strict_lines) any other line is a
	 * framing error.  NULL-terminated; may be NULL. */
	const char *const *urc_lines;
};

#endif
