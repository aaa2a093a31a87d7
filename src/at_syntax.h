/*
 * How a dialect frames what the module says, as data: which lines announce a
 * length-counted binary block and which lines are data prompts.  The parser
 * and the chat read these tables; no code switches on the vendor.
 */
#ifndef ATH_AT_SYNTAX_H
#define ATH_AT_SYNTAX_H

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

/* A stream: a line that starts raw bytes of no announced length, such as
 * the CONNECT before HTTPREAD's output on the AT+HTTPCFG modules.  Streams
 * are recognized only while the chat has a stream consumer (the same line
 * may be a data prompt for other commands).  The consumer says where the
 * stream ends when it can (an HTTP message knows its own end); otherwise
 * the stream runs until end_marker, which is then read as lines again (so
 * "\r\nOK\r\n" still ends the command). */
struct at_stream_rule {
	const char *prefix;       /* the line that opens it, e.g. "CONNECT" */
	const char *end_marker;   /* bytes that close it, e.g. "\r\nOK\r\n" */
};

struct at_syntax {
	const struct at_block_rule *blocks;   /* ends with a {NULL} entry */
	const char *const *prompt_lines;      /* whole lines that invite data, e.g. "DOWNLOAD"; NULL-terminated */
	const struct at_stream_rule *streams; /* ends with a {NULL} entry; may be NULL */
	/* Lines that end the pending command as a failure in place of ERROR,
	 * by prefix: Neoway prints "+HTTPACTION: SOCKET ID OPEN FAILED" or
	 * "+HTTPSEND: ERROR" instead of OK.  NULL-terminated; may be NULL. */
	const char *const *failure_lines;
};

#endif
