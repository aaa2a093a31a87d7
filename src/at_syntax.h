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
};

struct at_syntax {
	const struct at_block_rule *blocks;   /* ends with a {NULL} entry */
	const char *const *prompt_lines;      /* whole lines that invite data, e.g. "DOWNLOAD"; NULL-terminated */
};

#endif
