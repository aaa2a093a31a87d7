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
/* Sees the module's bytes as read, before the parser (at_chat_set_raw_observer). */
typedef void (*at_raw_observer)(void *ctx, const void *data, size_t len);

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
	at_raw_observer raw_observer;
	void *raw_ctx;

	char echo[AT_CMD_MAX + 2];   /* the command whose echo may still come */
	bool waiting_final;          /* a command has not had its final result */
	bool want_prompt;
	struct at_result result;     /* filled when the final result arrives */
	bool have_result;

	char queue[AT_QUEUE_LINES][AT_LINE_MAX + 1];
	unsigned qhead, qcount;

	unsigned long commands_sent; /* for benchmarks and tests */
	unsigned long long bytes_in, bytes_out;  /* read from / written to the port */

	/* The module announced a restart (a line of restart_lines outside
	 * data): every wait and send fails until at_chat_clear_restart. */
	bool restarted;
	char restart_line[16];
	/* Inside a block or stream, the last bytes read when they may be the
	 * start of a restart line: held until known to be data. */
	unsigned char hold[16];
	size_t nhold;

	/* What the module sent did not add up (a block's trailer missing, a
	 * stray line in a read's strict window, a dialect's own count): every
	 * wait and send fails with ATH_E_PROTOCOL until at_chat_drain.  The first
	 * reason is kept. */
	bool framing_broken;
	char framing_why[200];
	/* The strict window of a read (at_chat_strict_lines), and the
	 * dialect's own unsolicited lines. */
	const char *const *strict_expect;
	const char *const *urc_lines;
};

/* Lines a module prints when it (re)starts: SIMCom's and Quectel's
 * "RDY", ESP-AT's "ready". */
extern const char *const at_restart_lines[];
/* Unsolicited result codes of 3GPP TS 27.007 / 27.005 a module may print
 * at any time (registration, ring, new message): ignored everywhere
 * outside data, also in a read's strict window. */
extern const char *const at_urc_lines[];

/* Which final result line is under syn (the one table the chat ends a
 * command by: V.25ter / 27.007's codes, the syntax's failure_lines and
 * final_lines), AT_FINAL_NONE when it is none: for a reader that must
 * tell a final result from data the same way (at_pieces). */
enum at_final at_final_kind(const struct at_syntax *syn, const char *line);

void at_chat_init(struct at_chat *c, struct transport *tp, const struct at_syntax *syn,
		  struct trace *trace);

/* Sends "<cmd>\r" and waits for its final result.  ATH_OK means a final
 * result came (see res); ATH_E_TIMEOUT / ATH_E_IO otherwise.  Timeouts are
 * counted from the last byte received, so a slow line with steady data
 * never times out but a silent module does. */
/* Every wait ends with ATH_E_PROTOCOL at once when a restart line comes
 * (at_chat_restarted). */
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
/* Takes the oldest queued line starting with any of prefixes
 * (NULL-terminated) without waiting; *which is its prefix's index. */
bool at_chat_take_line_any(struct at_chat *c, const char *const *prefixes, int *which, char *out,
			   size_t outlen);
/* Drops queued lines (before a command whose answer must not be stale). */
void at_chat_clear_queue(struct at_chat *c);
/* The oldest queued line that is neither a 27.007 unsolicited line nor
 * one of the dialect's own (syntax urc_lines), copied to out: after a
 * read that allows no other line, one is displaced data.  false: none. */
bool at_chat_stray_line(const struct at_chat *c, char *out, size_t outlen);

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

/* Reads and parses the module's bytes until done(ctx) returns true, for a
 * condition the dialect keeps itself (a block or raw sink has seen the end
 * of a response, a flag its observer set, a line it takes from the queue).
 * done is asked before the first read (nothing is read if it already
 * holds) and again after every read, once the bytes read have been parsed
 * and every sink and observer has had them; it may take queued lines
 * (at_chat_take_line*) but must not send, read or wait.  ATH_OK once done
 * holds; ATH_E_TIMEOUT when the module sends nothing for timeout_ms
 * (counted from the last byte received, as for every wait here); ATH_E_IO
 * when the port fails.  A command's final result arriving meanwhile is
 * kept for at_chat_wait_final, as during any other wait. */
enum ath_err at_chat_wait_until(struct at_chat *c, bool (*done)(void *ctx), void *ctx, int timeout_ms);

/* Sets (fn NULL: removes) an observer of the raw input, for output no
 * at_syntax rule can frame (Beken's "+HTTPCLIENT:<T>,<data>" pieces carry
 * no length of their own).  fn gets every byte the chat reads and parses,
 * in order and exactly as read, each read's bytes just before the parser
 * sees them; bytes at_chat_drain throws away are never parsed and not
 * given.  The parser, the sinks and the queue work as without it.  fn may
 * drop queued lines (at_chat_clear_queue) but must not send, read or
 * wait.  The chat never removes it by itself: the dialect does when done
 * within one of its operations, and modem.c after every operation
 * (at_chat_clear_consumers). */
void at_chat_set_raw_observer(struct at_chat *c, at_raw_observer fn, void *ctx);

/* Removes the block sink, the stream sink and the raw observer.  modem.c
 * calls it after every dialect operation, on every path: a driver that
 * returns early leaves none pointing into its gone stack frame or freed
 * context for the next operation's bytes. */
void at_chat_clear_consumers(struct at_chat *c);

/* Reads and parses what the module has sent already, without waiting (a
 * restart line that came while nothing waited).  ATH_E_PROTOCOL when it
 * restarted or its framing did not add up (at_chat_framing_broken), ATH_E_IO
 * when the port failed. */
enum ath_err at_chat_poll(struct at_chat *c);

/* Whether the module announced a restart, and forgetting it (the owner
 * brings the module up again). */
bool at_chat_restarted(const struct at_chat *c);
void at_chat_clear_restart(struct at_chat *c);

/* Opens (expect not NULL) or closes a read's strict window: while it is
 * open, a line that is not the pending command's echo or result, a restart
 * line, a data prompt, a line starting with one of expect
 * (NULL-terminated) or a known unsolicited line (at_urc_lines, the
 * syntax's urc_lines) is a framing error: inside a read it can only be
 * displaced data.  at_chat_drain closes it. */
void at_chat_strict_lines(struct at_chat *c, const char *const *expect);
/* A dialect's own count did not add up (pieces against the announced
 * total, a field against the running sum): the chat is broken as for a
 * framing error the parser finds.  why: one line, printf-style. */
void at_chat_framing_error(struct at_chat *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether the module's framing did not add up since the last drain. */
bool at_chat_framing_broken(const struct at_chat *c);
/* A wait for cmd's answer failed with e: fills err (a framing error with
 * its reason, else as at_no_answer) and returns the error. */
enum ath_err at_chat_failed(const struct at_chat *c, struct ath_error *err, enum ath_err e, const char *cmd);

/* Forgets everything in flight: drops input until the module has been
 * quiet for quiet_ms (bounded by max_ms), resets the parser and the queue. */
void at_chat_drain(struct at_chat *c, int quiet_ms, int max_ms);

#endif
