#include "at_chat.h"
#include "at_sync.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Final result codes of V.25ter / 27.007, common to every dialect. */
static const struct {
	const char *text;
	bool prefix;
	enum at_final final;
} final_codes[] = {
	{ "OK", false, AT_FINAL_OK },
	{ "ERROR", false, AT_FINAL_ERROR },
	{ "+CME ERROR:", true, AT_FINAL_CME },
	{ "+CMS ERROR:", true, AT_FINAL_CMS },
	{ "NO CARRIER", false, AT_FINAL_OTHER },
	{ "BUSY", false, AT_FINAL_OTHER },
	{ "NO ANSWER", false, AT_FINAL_OTHER },
	{ "NO DIALTONE", false, AT_FINAL_OTHER },
};

/* A line of its own, outside any data block or stream: a module that
 * reset mid-exchange has lost every state, and whatever a wait was
 * waiting for will never come. */
const char *const at_restart_lines[] = { "RDY", "ready", NULL };

const char *const at_urc_lines[] = {
	"RING", "+CRING:", "+CLIP:", "+CCWA:", "+CUSD:", "+CREG:", "+CGREG:", "+CEREG:",
	"+C5GREG:", "+CGEV:", "+CMTI:", "+CMT:", "+CBM:", "+CDS:", "+CDSI:", "+CBMI:",
	"+CTZV:", "+CTZE:", "+CTZR:", "+CIEV:", "+CPIN:", NULL,
};

/* The same inside a block or a stream, where the parser sees no lines: a
 * module that resets mid-data prints its restart line where the rest of
 * the data should have been, and those bytes must never reach the body.
 * Data that itself holds such a line is cut (a failure, never wrong
 * bytes). */
static const char *const restart_in_data[] = { "\r\nRDY\r\n", "\r\nready\r\n", NULL };

/* How long bytes held back may wait for the next ones. */
#define HOLD_MS 100

static void enqueue(struct at_chat *c, const char *line, size_t len)
{
	if (c->qcount == AT_QUEUE_LINES) {
		trace_note(c->trace, "line queue full, dropping: %s", c->queue[c->qhead]);
		c->qhead = (c->qhead + 1) % AT_QUEUE_LINES;
		c->qcount--;
	}
	unsigned slot = (c->qhead + c->qcount) % AT_QUEUE_LINES;
	memcpy(c->queue[slot], line, len);
	c->queue[slot][len] = '\0';
	c->qcount++;
}

static bool classify_final(const char *line, struct at_result *res)
{
	for (size_t i = 0; i < sizeof final_codes / sizeof final_codes[0]; i++) {
		size_t n = strlen(final_codes[i].text);
		bool match = final_codes[i].prefix ? strncmp(line, final_codes[i].text, n) == 0
						   : strcmp(line, final_codes[i].text) == 0;
		if (!match)
			continue;
		res->final = final_codes[i].final;
		res->code = -1;
		if (final_codes[i].prefix) {
			char *end;
			long v = strtol(line + n, &end, 10);
			if (end != line + n)
				res->code = (int)v;
		}
		snprintf(res->text, sizeof res->text, "%s", line);
		return true;
	}
	return false;
}

/* A dialect's own line standing in for ERROR (failure_lines) or for OK
 * (final_lines). */
static bool classify_listed(const char *const *lines, enum at_final final, const char *line,
			    struct at_result *res)
{
	for (const char *const *f = lines; f && *f; f++) {
		if (strncmp(line, *f, strlen(*f)) != 0)
			continue;
		*res = (struct at_result){ .final = final, .code = -1 };
		snprintf(res->text, sizeof res->text, "%s", line);
		return true;
	}
	return false;
}

/* A final result: V.25ter / 27.007's, or a dialect's line standing in for
 * ERROR or for OK. */
static bool classify(const char *const *failure_lines, const char *const *final_lines, const char *line,
		     struct at_result *res)
{
	return classify_final(line, res) || classify_listed(failure_lines, AT_FINAL_ERROR, line, res) ||
	       classify_listed(final_lines, AT_FINAL_LINE, line, res);
}

enum at_final at_final_kind(const struct at_syntax *syn, const char *line)
{
	struct at_result res;
	if (!classify(syn ? syn->failure_lines : NULL, syn ? syn->final_lines : NULL, line, &res))
		return AT_FINAL_NONE;
	return res.final;
}

static bool starts_with_any(const char *line, const char *const *prefixes)
{
	for (const char *const *p = prefixes; p && *p; p++)
		if (strncmp(line, *p, strlen(*p)) == 0)
			return true;
	return false;
}

/* A line a module may print unasked at any time: 27.007's or the
 * dialect's own. */
static bool known_urc(const struct at_chat *c, const char *line)
{
	return starts_with_any(line, at_urc_lines) || starts_with_any(line, c->urc_lines);
}

static void framing_broken(struct at_chat *c, const char *why)
{
	if (c->framing_broken)
		return;
	c->framing_broken = true;
	snprintf(c->framing_why, sizeof c->framing_why, "%s", why);
	trace_note(c->trace, "framing error: %s", why);
}

void at_chat_framing_error(struct at_chat *c, const char *fmt, ...)
{
	char why[sizeof c->framing_why];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	framing_broken(c, why);
}

bool at_chat_framing_broken(const struct at_chat *c)
{
	return c->framing_broken;
}

void at_chat_strict_lines(struct at_chat *c, const char *const *expect)
{
	c->strict_expect = expect;
}

enum ath_err at_chat_failed(const struct at_chat *c, struct ath_error *err, enum ath_err e, const char *cmd)
{
	if (e == ATH_E_PROTOCOL && c->framing_broken)
		return ath_fail(err, ATH_E_PROTOCOL, -1, "%s: the module's framing does not add up: %s", cmd,
				c->framing_why);
	return at_no_answer(err, e, cmd);
}

static void on_line(void *ctx, const char *line, size_t len)
{
	struct at_chat *c = ctx;
	trace_line(c->trace, '<', line, len);
	/* Echo of our own command (echo is on until ATE0 takes, and some
	 * firmware turns it back on after a reset). */
	if (c->echo[0] && (strcasecmp(line, c->echo) == 0 ||
			   (len == AT_LINE_MAX && strncasecmp(line, c->echo, len) == 0))) {
		c->echo[0] = '\0';
		return;
	}
	/* A dialect that reads data as lines (its raw observer takes the
	 * bytes) could be handed a body line that reads "ready": no restart
	 * is told while one is set; the wait's timeout bounds that case. */
	if (!c->raw_observer) {
		for (const char *const *r = at_restart_lines; *r; r++) {
			if (strcmp(line, *r) != 0)
				continue;
			c->restarted = true;
			snprintf(c->restart_line, sizeof c->restart_line, "%s", line);
			trace_note(c->trace, "the module restarted (%s)", line);
			c->waiting_final = false;
			c->want_prompt = false;
			c->echo[0] = '\0';
			at_parser_arm_prompt(&c->parser, false);
			return;
		}
	}
	if (c->waiting_final) {
		struct at_result res;
		if (classify(c->failure_lines, c->final_lines, line, &res)) {
			c->result = res;
			c->have_result = true;
			c->waiting_final = false;
			c->want_prompt = false;
			c->echo[0] = '\0';
			at_parser_arm_prompt(&c->parser, false);
			return;
		}
		if (c->want_prompt && c->prompt_lines) {
			for (const char *const *p = c->prompt_lines; *p; p++) {
				if (strcmp(line, *p) == 0) {
					c->result = (struct at_result){ .final = AT_FINAL_PROMPT, .code = -1 };
					snprintf(c->result.text, sizeof c->result.text, "%s", line);
					c->have_result = true;
					c->want_prompt = false;
					at_parser_arm_prompt(&c->parser, false);
					return;
				}
			}
		}
	}
	if (c->strict_expect && !starts_with_any(line, c->strict_expect) && !known_urc(c, line)) {
		char why[sizeof c->framing_why];
		snprintf(why, sizeof why, "a stray line inside a read: \"%.60s\"", line);
		framing_broken(c, why);
		return;
	}
	enqueue(c, line, len);
}

static void on_framing(void *ctx, const char *header, const char *why)
{
	struct at_chat *c = ctx;
	char text[sizeof c->framing_why];
	snprintf(text, sizeof text, "after \"%.40s\": %s", header, why);
	framing_broken(c, text);
}

static void on_prompt(void *ctx)
{
	struct at_chat *c = ctx;
	trace_line(c->trace, '<', ">", 1);
	if (!c->want_prompt)
		return;
	c->result = (struct at_result){ .final = AT_FINAL_PROMPT, .code = -1, .text = ">" };
	c->have_result = true;
	c->want_prompt = false;
}

static void on_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct at_chat *c = ctx;
	/* One trace entry per piece: the trace grows with the reads, not
	 * with the bytes. */
	trace_data(c->trace, '<', header, data, len);
	if (c->sink)
		c->sink(c->sink_ctx, header, data, len, left);
}

static size_t on_stream(void *ctx, const char *header, const void *data, size_t len, bool at_end,
			enum at_stream_watch *watch)
{
	struct at_chat *c = ctx;
	if (!c->stream_sink)
		return len;
	size_t used = c->stream_sink(c->stream_ctx, data, len, at_end, watch);
	if (used)
		trace_data(c->trace, '<', header, data, used < len ? used : len);
	return used;
}

static const struct at_parser_cb chat_parser_cb = {
	.line = on_line,
	.prompt = on_prompt,
	.block = on_block,
	.stream = on_stream,
	.framing = on_framing,
};

void at_chat_init(struct at_chat *c, struct transport *tp, const struct at_syntax *syn,
		  struct trace *trace)
{
	memset(c, 0, sizeof *c);
	c->tp = tp;
	c->trace = trace;
	c->prompt_lines = syn ? syn->prompt_lines : NULL;
	c->failure_lines = syn ? syn->failure_lines : NULL;
	c->final_lines = syn ? syn->final_lines : NULL;
	c->urc_lines = syn ? syn->urc_lines : NULL;
	at_parser_init(&c->parser, syn, &chat_parser_cb, c);
}

void at_chat_set_block_sink(struct at_chat *c, at_block_sink sink, void *ctx)
{
	c->sink = sink;
	c->sink_ctx = ctx;
}

void at_chat_set_raw_observer(struct at_chat *c, at_raw_observer fn, void *ctx)
{
	c->raw_observer = fn;
	c->raw_ctx = ctx;
}

void at_chat_set_stream_sink(struct at_chat *c, at_stream_sink sink, void *ctx)
{
	c->stream_sink = sink;
	c->stream_ctx = ctx;
	at_parser_arm_stream(&c->parser, sink != NULL);
}

void at_chat_clear_consumers(struct at_chat *c)
{
	at_chat_set_block_sink(c, NULL, NULL);
	at_chat_set_stream_sink(c, NULL, NULL);
	at_chat_set_raw_observer(c, NULL, NULL);
}

bool at_chat_final_seen(const struct at_chat *c)
{
	return !c->waiting_final;
}

void at_chat_clear_queue(struct at_chat *c)
{
	c->qhead = c->qcount = 0;
}

bool at_chat_stray_line(const struct at_chat *c, char *out, size_t outlen)
{
	for (unsigned k = 0; k < c->qcount; k++) {
		const char *line = c->queue[(c->qhead + k) % AT_QUEUE_LINES];
		if (known_urc(c, line))
			continue;
		snprintf(out, outlen, "%s", line);
		return true;
	}
	return false;
}

bool at_chat_take_line(struct at_chat *c, const char *prefix, char *out, size_t outlen)
{
	size_t plen = strlen(prefix);
	for (unsigned i = 0; i < c->qcount; i++) {
		unsigned slot = (c->qhead + i) % AT_QUEUE_LINES;
		if (strncmp(c->queue[slot], prefix, plen) != 0)
			continue;
		if (outlen)
			snprintf(out, outlen, "%s", c->queue[slot]);
		/* Close the gap, keeping the order of the rest. */
		for (unsigned j = i; j + 1 < c->qcount; j++)
			memcpy(c->queue[(c->qhead + j) % AT_QUEUE_LINES],
			       c->queue[(c->qhead + j + 1) % AT_QUEUE_LINES], AT_LINE_MAX + 1);
		c->qcount--;
		return true;
	}
	return false;
}

static bool in_data(const struct at_chat *c)
{
	return c->parser.state == ATP_BLOCK || c->parser.state == ATP_STREAM;
}

static void give(struct at_chat *c, const unsigned char *p, size_t n)
{
	if (!n)
		return;
	if (c->raw_observer)
		c->raw_observer(c->raw_ctx, p, n);
	at_parser_feed(&c->parser, p, n);
}

static void restart_seen(struct at_chat *c, const char *line)
{
	c->restarted = true;
	snprintf(c->restart_line, sizeof c->restart_line, "%s", line);
	trace_note(c->trace, "the module restarted (%s, inside data)", line);
	c->waiting_final = false;
	c->want_prompt = false;
	c->echo[0] = '\0';
	at_parser_arm_prompt(&c->parser, false);
}

/* The bytes read, to the parser: while it is inside data, up to a restart
 * line (then the rest is dropped), and a tail that may begin one is held
 * for the next read (flush: give it all). */
static void feed(struct at_chat *c, const unsigned char *buf, size_t n, bool flush)
{
	unsigned char all[4096 + sizeof c->hold];
	size_t len = c->nhold;
	memcpy(all, c->hold, c->nhold);
	c->nhold = 0;
	if (n > sizeof all - len)
		n = sizeof all - len;  /* callers read at most 4096 */
	memcpy(all + len, buf, n);
	len += n;
	size_t done = 0;
	while (done < len && !c->restarted) {
		if (!c->raw_observer && in_data(c)) {
			/* The first restart line ahead, if any. */
			size_t at = len, plen = 0;
			const char *which = NULL;
			for (const char *const *r = restart_in_data; *r; r++) {
				size_t rl = strlen(*r);
				unsigned char *hit = memmem(all + done, len - done, *r, rl);
				if (hit && (size_t)(hit - all) < at) {
					at = (size_t)(hit - all);
					plen = rl;
					which = *r;
				}
			}
			if (which) {
				give(c, all + done, at - done);
				if (in_data(c)) {
					char word[16];
					snprintf(word, sizeof word, "%.*s", (int)(plen - 4), which + 2);
					restart_seen(c, word);
					return;
				}
				/* The data ended before it: an ordinary line now. */
				done = at;
				continue;
			}
			/* Hold a tail that could start one, unless flushing. */
			size_t keep = 0;
			for (const char *const *r = restart_in_data; *r && !flush; r++) {
				size_t rl = strlen(*r);
				for (size_t k = rl - 1; k > keep; k--)
					if (len - done >= k && memcmp(all + len - k, *r, k) == 0) {
						keep = k;
						break;
					}
			}
			give(c, all + done, len - done - keep);
			if (keep && in_data(c)) {
				memcpy(c->hold, all + len - keep, keep);
				c->nhold = keep;
			} else if (keep) {
				give(c, all + len - keep, keep);
			}
			return;
		}
		if (c->raw_observer) {
			give(c, all + done, len - done);
			return;
		}
		/* Outside data a byte at a time: the parser may enter data
		 * at any byte (CONNECT's line end, a block's header), and a
		 * restart line right behind that in the same read must be
		 * looked for from there. */
		give(c, all + done, 1);
		done++;
	}
}

/* Reads and parses until done(c) holds (asked first, then after each
 * read's bytes are parsed).  The timeout restarts with every byte
 * received.  The raw observer sees each read before the parser. */
static enum ath_err pump(struct at_chat *c, int timeout_ms,
			 bool (*done)(struct at_chat *, const void *), const void *arg)
{
	unsigned char buf[4096];
	long long deadline = now_ms() + timeout_ms;
	while (!c->restarted && !c->framing_broken && !done(c, arg)) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return ATH_E_TIMEOUT;
		bool holding = c->nhold > 0;
		ssize_t n = c->tp->ops->read(c->tp, buf, sizeof buf,
					     holding && left > HOLD_MS ? HOLD_MS : (int)left);
		if (n < 0)
			return ATH_E_IO;
		if (n == 0) {
			if (holding)
				feed(c, buf, 0, true);   /* nothing followed: it was data */
			continue;
		}
		c->bytes_in += (unsigned long long)n;
		feed(c, buf, (size_t)n, false);
		deadline = now_ms() + timeout_ms;
	}
	return c->restarted || c->framing_broken ? ATH_E_PROTOCOL : ATH_OK;
}

static bool have_result(struct at_chat *c, const void *arg)
{
	(void)arg;
	return c->have_result;
}

static bool line_end_complete(struct at_chat *c, const void *arg)
{
	(void)arg;
	return !at_parser_lf_due(&c->parser);
}

/* How long to wait for the LF that follows a final result's CR. */
#define LF_GRACE_MS 50

static enum ath_err send_command(struct at_chat *c, bool want_prompt, const char *fmt, va_list ap)
{
	char cmd[AT_CMD_MAX + 2];
	int n = vsnprintf(cmd, sizeof cmd - 1, fmt, ap);
	if (n < 0 || n >= AT_CMD_MAX)
		return ATH_E_PROTOCOL;
	/* Nothing is sent over a line out of step: a drain comes first. */
	if (c->restarted || c->framing_broken)
		return ATH_E_PROTOCOL;
	if (c->waiting_final) {
		/* Never talk over a command the module is still answering. */
		trace_note(c->trace, "refusing to send %s: previous command unfinished", cmd);
		return ATH_E_PROTOCOL;
	}
	/* Let the previous answer finish ("OK\r" then "\n"): a module still
	 * sending its result may refuse the next command.  A module set to
	 * end lines with CR alone costs LF_GRACE_MS here. */
	if (at_parser_lf_due(&c->parser) && pump(c, LF_GRACE_MS, line_end_complete, NULL) == ATH_E_IO)
		return ATH_E_IO;
	trace_line(c->trace, '>', cmd, (size_t)n);
	if (c->tp->ops->hint)
		c->tp->ops->hint(c->tp, TRANSPORT_HINT_COMMAND);
	memcpy(c->echo, cmd, (size_t)n + 1);
	cmd[n++] = '\r';
	c->have_result = false;
	c->waiting_final = true;
	c->want_prompt = want_prompt;
	at_parser_arm_prompt(&c->parser, want_prompt);
	c->commands_sent++;
	c->bytes_out += (unsigned long long)n;
	enum ath_err e = c->tp->ops->write(c->tp, cmd, (size_t)n, 5000);
	if (e != ATH_OK)
		c->waiting_final = false;
	return e;
}

static enum ath_err command(struct at_chat *c, bool want_prompt, int timeout_ms,
			    struct at_result *res, const char *fmt, va_list ap)
{
	enum ath_err e = send_command(c, want_prompt, fmt, ap);
	if (e != ATH_OK)
		return e;
	e = pump(c, timeout_ms, have_result, NULL);
	if (e != ATH_OK)
		return e;
	*res = c->result;
	c->have_result = false;
	return ATH_OK;
}

enum ath_err at_chat_cmd(struct at_chat *c, int timeout_ms, struct at_result *res,
			 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ath_err e = command(c, false, timeout_ms, res, fmt, ap);
	va_end(ap);
	return e;
}

enum ath_err at_chat_cmd_prompt(struct at_chat *c, int timeout_ms, struct at_result *res,
				const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ath_err e = command(c, true, timeout_ms, res, fmt, ap);
	va_end(ap);
	return e;
}

enum ath_err at_chat_send_data(struct at_chat *c, const void *data, size_t len, int timeout_ms)
{
	if (c->restarted || c->framing_broken)
		return ATH_E_PROTOCOL;
	trace_data(c->trace, '>', "data", data, len);
	c->bytes_out += len;
	if (c->tp->ops->hint)
		c->tp->ops->hint(c->tp, TRANSPORT_HINT_DATA);
	return c->tp->ops->write(c->tp, data, len, timeout_ms);
}

enum ath_err at_chat_wait_final(struct at_chat *c, int timeout_ms, struct at_result *res)
{
	enum ath_err e = pump(c, timeout_ms, have_result, NULL);
	if (e != ATH_OK)
		return e;
	*res = c->result;
	c->have_result = false;
	return ATH_OK;
}

struct line_wait {
	const char *prefix;
	char *out;
	size_t outlen;
};

static bool have_line(struct at_chat *c, const void *arg)
{
	const struct line_wait *w = arg;
	return at_chat_take_line(c, w->prefix, w->out, w->outlen);
}

enum ath_err at_chat_wait_line(struct at_chat *c, const char *prefix, int timeout_ms,
			       char *out, size_t outlen)
{
	struct line_wait w = { prefix, out, outlen };
	return pump(c, timeout_ms, have_line, &w);
}

struct any_wait {
	const char *const *prefixes;
	int *which;
	char *out;
	size_t outlen;
};

bool at_chat_take_line_any(struct at_chat *c, const char *const *prefixes, int *which, char *out,
			   size_t outlen)
{
	/* The oldest queued line that matches, whichever prefix it has. */
	for (unsigned i = 0; i < c->qcount; i++) {
		const char *q = c->queue[(c->qhead + i) % AT_QUEUE_LINES];
		for (int k = 0; prefixes[k]; k++) {
			if (strncmp(q, prefixes[k], strlen(prefixes[k])) != 0)
				continue;
			*which = k;
			return at_chat_take_line(c, q, out, outlen);
		}
	}
	return false;
}

static bool have_any_line(struct at_chat *c, const void *arg)
{
	const struct any_wait *w = arg;
	return at_chat_take_line_any(c, w->prefixes, w->which, w->out, w->outlen);
}

enum ath_err at_chat_wait_line_any(struct at_chat *c, const char *const *prefixes, int timeout_ms,
				   int *which, char *out, size_t outlen)
{
	struct any_wait w = { prefixes, which, out, outlen };
	return pump(c, timeout_ms, have_any_line, &w);
}

struct until_wait {
	bool (*done)(void *ctx);
	void *ctx;
};

static bool until_done(struct at_chat *c, const void *arg)
{
	const struct until_wait *w = arg;
	(void)c;
	return w->done(w->ctx);
}

enum ath_err at_chat_wait_until(struct at_chat *c, bool (*done)(void *ctx), void *ctx, int timeout_ms)
{
	struct until_wait w = { done, ctx };
	return pump(c, timeout_ms, until_done, &w);
}

enum ath_err at_chat_poll(struct at_chat *c)
{
	unsigned char buf[4096];
	/* Bounded: a module streaming without end is read a few buffers'
	 * worth, and the rest waits for the next wait. */
	for (int i = 0; i < 16 && !c->restarted && !c->framing_broken; i++) {
		ssize_t n = c->tp->ops->read(c->tp, buf, sizeof buf, 0);
		if (n < 0)
			return ATH_E_IO;
		if (n == 0)
			break;
		c->bytes_in += (unsigned long long)n;
		feed(c, buf, (size_t)n, false);
	}
	return c->restarted || c->framing_broken ? ATH_E_PROTOCOL : ATH_OK;
}

bool at_chat_restarted(const struct at_chat *c)
{
	return c->restarted;
}

void at_chat_clear_restart(struct at_chat *c)
{
	c->restarted = false;
	c->restart_line[0] = '\0';
}

void at_chat_drain(struct at_chat *c, int quiet_ms, int max_ms)
{
	unsigned char buf[4096];
	long long end = now_ms() + max_ms;
	if (c->tp->ops->flush_input)
		c->tp->ops->flush_input(c->tp);
	while (now_ms() < end) {
		ssize_t n = c->tp->ops->read(c->tp, buf, sizeof buf, quiet_ms);
		if (n <= 0)
			break;
		trace_data(c->trace, '<', "discarded", buf, (size_t)n);
	}
	at_parser_reset(&c->parser);
	c->nhold = 0;
	c->waiting_final = false;
	c->want_prompt = false;
	c->have_result = false;
	c->echo[0] = '\0';
	c->framing_broken = false;
	c->framing_why[0] = '\0';
	c->strict_expect = NULL;
	at_chat_clear_queue(c);
}
