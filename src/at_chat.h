/*
 * One AT conversation: send a command, wait for its final result, a data
 * prompt or a line, with timeouts.  Lines that are not what a wait looks for
 * (URCs, intermediate responses) are kept in a small queue for a later wait;
 * blocks go to the sink the dialect set.  The chat never sends a command
 * while the previous one is still waiting for its final result.
 */
#ifndef ATH_AT_CHAT_H
#define ATH_AT_CHAT_H

#include <stdbool.h>
#include <stddef.h>

#include "at_parser.h"
#include "err.h"
#include "trace.h"
#include "transport.h"

/* Longest command line (a URL of 2 KB plus its command fits). */
#define AT_CMD_MAX 4200
#define AT_QUEUE_LINES 32

enum at_final {
	AT_FINAL_NONE = 0,
	AT_FINAL_OK,
	AT_FINAL_ERROR,    /* also a dialect's failure line (at_syntax.failure_lines) */
	AT_FINAL_CME,      /* +CME ERROR: <code> */
	AT_FINAL_CMS,      /* +CMS ERROR: <code> */
	AT_FINAL_OTHER,    /* NO CARRIER, BUSY, ... */
	AT_FINAL_PROMPT,   /* a data prompt ('>' or a prompt line) */
	AT_FINAL_LINE,     /* a dialect's result line standing in for OK (at_syntax.final_lines) */
};

struct at_result {
	enum at_final final;
	int code;                /* CME/CMS code, -1 when textual or absent */
	char text[96];           /* the final line as received */
};

typedef void (*at_block_sink)(void *ctx, const char *header, const void *data,
			      size_t len, size_t left);
/* Takes the bytes of a stream (at_stream_rule); see at_parser_cb.stream. */
typedef size_t (*at_stream_sink)(void *ctx, const void *data, size_t len, bool at_end,
				 enum at_stream_watch *watch);

struct at_chat {
	struct transport *tp;
	struct at_parser parser;
	struct trace *trace;
	const char *const *prompt_lines;
	const char *const *failure_lines;
	const char *const *final_lines;
	at_block_sink sink;
	void *sink_ctx;
	at_stream_sink stream_sink;
	void *stream_ctx;

	char echo[AT_CMD_MAX + 2];   /* the command whose echo may still come */
	bool waiting_final;          /* a command has not had its final result */
	bool want_prompt;
	struct at_result result;     /* filled when the final result arrives */
	bool have_result;

	char queue[AT_QUEUE_LINES][AT_LINE_MAX + 1];
	unsigned qhead, qcount;

	unsigned long commands_sent; /* for benchmarks and tests */
};

void at_chat_init(struct at_chat *c, struct transport *tp, const struct at_syntax *syn,
		  struct trace *trace);

/* Sends "<cmd>\r" and waits for its final result.  ATH_OK means a final
 * result came (see res); ATH_E_TIMEOUT / ATH_E_IO otherwise.  Timeouts are
 * counted from the last byte received, so a slow line with steady data
 * never times out but a silent module does. */
enum ath_err at_chat_cmd(struct at_chat *c, int timeout_ms, struct at_result *res,
			 const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same, but a data prompt also ends the wait (res->final ==
 * AT_FINAL_PROMPT); then send the data with at_chat_send_data and wait for
 * the final result with at_chat_wait_final. */
enum ath_err at_chat_cmd_prompt(struct at_chat *c, int timeout_ms, struct at_result *res,
				const char *fmt, ...) __attribute__((format(printf, 4, 5)));
enum ath_err at_chat_send_data(struct at_chat *c, const void *data, size_t len, int timeout_ms);
enum ath_err at_chat_wait_final(struct at_chat *c, int timeout_ms, struct at_result *res);

/* Waits for a line starting with prefix (queued lines first).  The line is
 * copied to out (cut to outlen-1). */
enum ath_err at_chat_wait_line(struct at_chat *c, const char *prefix, int timeout_ms,
			       char *out, size_t outlen);
/* Takes a queued line starting with prefix without waiting. */
bool at_chat_take_line(struct at_chat *c, const char *prefix, char *out, size_t outlen);
/* Drops queued lines (before a command whose answer must not be stale). */
void at_chat_clear_queue(struct at_chat *c);

void at_chat_set_block_sink(struct at_chat *c, at_block_sink sink, void *ctx);
/* Has the current command's final result been parsed yet?  A block sink
 * asks, to tell data sent before the result from data sent after it. */
bool at_chat_final_seen(const struct at_chat *c);
/* While a stream sink is set, the syntax's stream rules are live (their
 * opening line is no longer a plain line or prompt). */
void at_chat_set_stream_sink(struct at_chat *c, at_stream_sink sink, void *ctx);
/* Waits for a line starting with any of prefixes (NULL-terminated);
 * returns ATH_OK with *which set to its index. */
enum ath_err at_chat_wait_line_any(struct at_chat *c, const char *const *prefixes, int timeout_ms,
				   int *which, char *out, size_t outlen);

/* Forgets everything in flight: drops input until the module has been
 * quiet for quiet_ms (bounded by max_ms), resets the parser and the queue. */
void at_chat_drain(struct at_chat *c, int quiet_ms, int max_ms);

#endif
