/*
 * The module's side of the serial line, common to every dialect: echo,
 * command-line assembly, length-counted data phases, the rule that a module
 * runs one command at a time, the output queue with its response latency
 * (and --cmd-latency's), the log of everything received, --fault's
 * module reset, and --chaos's torn output.  Every piece of output passes
 * through emu_fault.c's emu_faults_output() on its way into the queue.
 */
#include "emu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest command line kept.  A longer one is still consumed up to its CR and
 * answered ERROR; real modules have a limit too (SIMCom's URL alone may be
 * 4096 bytes, so this leaves room for the command around it). */
#define EMU_MAX_LINE 8192

enum data_state {
	DATA_NONE,
	DATA_ARMED,			/* prompt queued, not yet written */
	DATA_ACTIVE,			/* prompt written: bytes are data */
};

struct emu {
	const struct emu_config *cfg;
	const struct emu_dialect *dialect;
	const void *variant;		/* the --variant's entry */
	void *dctx;
	struct emu_jobs *jobs;
	FILE *log;

	bool echo;
	/* A command was accepted and its DONE-marked output is not yet
	 * written: further command lines are refused. */
	bool busy;
	struct emu_buf line;
	size_t line_dropped;		/* bytes past EMU_MAX_LINE */
	bool after_cr;			/* a LF now belongs to the CR before */

	enum data_state data_state;
	size_t data_want;
	unsigned data_timeout_ms;
	uint64_t data_deadline;
	struct emu_buf data;

	struct emu_chunk *out_head, *out_tail;
	size_t queued;			/* bytes in the chunks */

	struct emu_net *net;
	/* --cmd-latency: the running command's final result (or prompt)
	 * not before this; 0: no such wait */
	uint64_t done_not_before;
	/* --fault reset: HTTP requests begun so far; while armed, the
	 * output bytes still allowed before the reset */
	unsigned long requests;
	enum { RESET_NONE, RESET_ARMED, RESET_QUEUED } reset;
	size_t reset_budget;
	/* --chaos: xorshift64 state; 0 off */
	uint64_t chaos;
	uint64_t chaos_release;		/* the last piece's release time */
	/* the other faults; and --fault silence: nothing leaves before */
	struct emu_faults *faults;
	uint64_t hold_until;
};

static void queue_chunk(struct emu *e, uint64_t release, enum emu_mark mark,
			const void *p, size_t n, unsigned trickle_ms)
{
	struct emu_chunk *t = e->out_tail;

	if (release < e->hold_until)
		release = e->hold_until;
	/* Appending to the tail is the same as queueing behind it as long as
	 * that does not let the new bytes out earlier than their time, and
	 * keeps the tail's mark at the end of what it marks. */
	if (!t || t->mark != EMU_MARK_NONE || t->release_ns < release ||
	    t->trickle_ms != trickle_ms) {
		t = emu_calloc(1, sizeof(*t));
		t->release_ns = release;
		t->trickle_ms = trickle_ms;
		if (e->out_tail)
			e->out_tail->next = t;
		else
			e->out_head = t;
		e->out_tail = t;
	}
	emu_buf_add(&t->bytes, p, n);
	t->mark = mark;
	e->queued += n;
}

static uint64_t chaos_next(struct emu *e)
{
	uint64_t x = e->chaos;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return e->chaos = x;
}

/* --chaos: the bytes in pieces of 1 to 64 bytes, each its own chunk
 * released 0 to 200 us after the one before, so a host reads them torn at
 * any point (inside "\r\n", a URC, a length), as a busy UART delivers
 * them.  The mark stays with the last piece. */
static void queue_torn(struct emu *e, uint64_t release, enum emu_mark mark,
		       const char *p, size_t n, unsigned trickle_ms)
{
	if (e->chaos_release > release)
		release = e->chaos_release;
	do {
		size_t piece = 1 + (size_t)(chaos_next(e) % 64);
		if (piece > n)
			piece = n;
		release += chaos_next(e) % (200 * 1000);
		/* Past the tail's time, so never appended to it. */
		release += 1;
		queue_chunk(e, release, piece == n ? mark : EMU_MARK_NONE, p, piece, trickle_ms);
		p += piece;
		n -= piece;
	} while (n);
	e->chaos_release = release;
}

/* Queues output; with a reset armed, only as much as its budget allows,
 * then the reset itself (nothing after it is ever written). */
void emu_port_put(struct emu *e, uint64_t release, enum emu_mark mark,
		  const void *p, size_t n, unsigned trickle_ms)
{
	if (e->chaos && n && e->reset == RESET_NONE) {
		queue_torn(e, release, mark, p, n, trickle_ms);
		return;
	}
	switch (e->reset) {
	case RESET_NONE:
		queue_chunk(e, release, mark, p, n, trickle_ms);
		return;
	case RESET_ARMED:
		if (n < e->reset_budget) {
			e->reset_budget -= n;
			queue_chunk(e, release, mark, p, n, trickle_ms);
			return;
		}
		if (e->reset_budget)
			queue_chunk(e, release, EMU_MARK_NONE, p,
				    e->reset_budget, trickle_ms);
		queue_chunk(e, release, EMU_MARK_RESET, "", 0, 0);
		e->reset = RESET_QUEUED;
		return;
	case RESET_QUEUED:
		/* what the module would have said next is never said */
		return;
	}
}

void emu_port_pause(struct emu *e, uint64_t release, unsigned ms)
{
	if (e->reset == RESET_QUEUED)
		return;
	queue_chunk(e, release, EMU_MARK_PAUSE, "", 0, 0);
	e->out_tail->pause_ms = ms;
}

static void queue_as(struct emu *e, uint64_t release, enum emu_mark mark,
		     const void *p, size_t n, bool data)
{
	emu_faults_output(e->faults, e, release, mark, p, n, data);
}

static void queue(struct emu *e, uint64_t release, enum emu_mark mark,
		  const void *p, size_t n)
{
	queue_as(e, release, mark, p, n, false);
}

/* "CMD <line>" and "DATA <count> <bytes>", escaped, so tests can count
 * commands and prove which bytes reached the module. */
enum log_kind { LOG_CMD, LOG_DATA };

static void log_line(struct emu *e, enum log_kind kind, const void *p,
		     size_t n, size_t dropped)
{
	struct emu_buf b = { 0 };

	if (!e->log)
		return;
	if (kind == LOG_DATA)
		emu_buf_addf(&b, "DATA %zu ", n);
	else
		emu_buf_addf(&b, "CMD ");
	emu_buf_escape(&b, p, n);
	if (dropped)
		emu_buf_addf(&b, " [%zu more bytes not kept]", dropped);
	emu_buf_add(&b, "\n", 1);
	fwrite(b.data, 1, b.len, e->log);
	fflush(e->log);
	emu_buf_free(&b);
}

void emu_port_log_fault(struct emu *e, const char *fmt, ...)
{
	struct emu_buf b = { 0 };
	va_list ap;

	if (!e->log)
		return;
	emu_buf_addf(&b, "FAULT ");
	va_start(ap, fmt);
	emu_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	emu_buf_add(&b, "\n", 1);
	fwrite(b.data, 1, b.len, e->log);
	fflush(e->log);
	emu_buf_free(&b);
}

/* ------------------------------------------------------------ for dialects */

void emu_send(struct emu *e, enum emu_mark mark, const void *p, size_t n)
{
	uint64_t release = emu_now_ns() + e->cfg->latency_ms * EMU_NS_PER_MS;

	if (mark == EMU_MARK_DONE || mark == EMU_MARK_PROMPT) {
		if (e->done_not_before > release)
			release = e->done_not_before;
		e->done_not_before = 0;
	}
	queue(e, release, mark, p, n);
}

void emu_send_data(struct emu *e, const void *p, size_t n)
{
	queue_as(e, emu_now_ns() + e->cfg->latency_ms * EMU_NS_PER_MS,
		 EMU_MARK_NONE, p, n, true);
}

void emu_sendf(struct emu *e, enum emu_mark mark, const char *fmt, ...)
{
	struct emu_buf b = { 0 };
	va_list ap;

	va_start(ap, fmt);
	emu_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	emu_send(e, mark, b.data, b.len);
	emu_buf_free(&b);
}

void emu_ok(struct emu *e)
{
	emu_send(e, EMU_MARK_DONE, "\r\nOK\r\n", 6);
}

void emu_error(struct emu *e)
{
	emu_send(e, EMU_MARK_DONE, "\r\nERROR\r\n", 9);
}

void emu_download(struct emu *e, const char *prompt, size_t size,
		  unsigned timeout_ms)
{
	e->data_state = DATA_ARMED;
	e->data_want = size;
	e->data_timeout_ms = timeout_ms;
	emu_send(e, EMU_MARK_PROMPT, prompt, strlen(prompt));
}

void emu_set_echo(struct emu *e, bool on)
{
	e->echo = on;
}

const struct emu_config *emu_config(const struct emu *e)
{
	return e->cfg;
}

void emu_request_begin(struct emu *e)
{
	emu_faults_request(e->faults, e, e->jobs);
	e->requests++;
	for (size_t i = 0; i < e->cfg->nfaults; i++) {
		const struct emu_fault *f = &e->cfg->faults[i];

		if (f->kind != EMU_FAULT_RESET || f->request != e->requests ||
		    e->reset != RESET_NONE)
			continue;
		e->reset = RESET_ARMED;
		e->reset_budget = f->after;
		if (!f->after)
			queue(e, emu_now_ns(), EMU_MARK_NONE, "", 0);
	}
}

bool emu_net_ready(struct emu *e)
{
	return emu_net_is_up(e->net);
}

void emu_net_model(struct emu *e, const char *model)
{
	emu_net_set_model(e->net, model);
}

struct emu_jobs *emu_jobs(struct emu *e)
{
	return e->jobs;
}

size_t emu_queued(const struct emu *e)
{
	return e->queued;
}

/* ------------------------------------------------------------ input */

static void end_data_phase(struct emu *e, bool complete)
{
	log_line(e, LOG_DATA, e->data.data, e->data.len, 0);
	e->data_state = DATA_NONE;
	e->dialect->data(e->dctx, &e->data, complete);
	emu_buf_free(&e->data);
}

static unsigned cmd_latency(const struct emu *e, const struct emu_cmd *cmd)
{
	for (size_t i = 0; i < e->cfg->ncmd_latency; i++)
		if (!strcmp(e->cfg->cmd_latency[i].name, cmd->name))
			return e->cfg->cmd_latency[i].ms;
	return 0;
}

/* V.250 basics every module shares, then the network's commands; the rest
 * is the dialect's commands. */
static void dispatch(struct emu *e, const struct emu_cmd *cmd)
{
	unsigned ms = cmd_latency(e, cmd);

	e->done_not_before = ms ? emu_now_ns() + ms * EMU_NS_PER_MS : 0;
	if (cmd->form == EMU_FORM_BASIC && !strcmp(cmd->name, "")) {
		emu_ok(e);
	} else if (cmd->form == EMU_FORM_BASIC && !strcmp(cmd->name, "E") &&
		   cmd->has_num && cmd->num <= 1) {
		e->echo = cmd->num == 1;
		emu_ok(e);
	} else if (!emu_net_command(e->net, cmd)) {
		if (e->dialect->command_begins)
			e->dialect->command_begins(e->dctx);
		if (e->dialect->max_line && cmd->len > e->dialect->max_line)
			emu_error(e);
		else
			emu_dispatch(e, e->dialect->commands, e->dctx, cmd);
	}
}

static void end_line(struct emu *e)
{
	struct emu_cmd cmd;

	/* An empty line is no command (hosts send a bare CR to resync). */
	if (e->line.len == 0)
		return;
	log_line(e, LOG_CMD, e->line.data, e->line.len, e->line_dropped);
	if (e->busy) {
		/* Refused, not queued: a host that does not wait for the
		 * final result must see it fail. */
		emu_send(e, EMU_MARK_NONE, "\r\nERROR\r\n", 9);
	} else {
		e->busy = true;
		if (e->line_dropped ||
		    emu_cmd_parse(e->line.data, e->line.len,
				  e->dialect->parse_flags, &cmd) < 0) {
			emu_error(e);
		} else {
			dispatch(e, &cmd);
			emu_cmd_free(&cmd);
		}
	}
	e->line.len = 0;
	e->line_dropped = 0;
}

void emu_input(struct emu *e, const char *p, size_t n)
{
	uint64_t now = emu_now_ns();
	size_t i = 0;

	while (i < n) {
		if (e->data_state == DATA_ACTIVE) {
			size_t k = e->data_want - e->data.len;

			if (k > n - i)
				k = n - i;
			emu_buf_add(&e->data, p + i, k);
			i += k;
			if (e->data.len == e->data_want)
				end_data_phase(e, true);
			continue;
		}
		char c = p[i++];

		if (c == '\n' && e->after_cr) {
			e->after_cr = false;
			continue;
		}
		e->after_cr = c == '\r';
		if (e->echo)
			queue(e, now, EMU_MARK_NONE, &c, 1);
		if (c == '\r')
			end_line(e);
		else if (e->line.len < EMU_MAX_LINE)
			emu_buf_add(&e->line, &c, 1);
		else
			e->line_dropped++;
	}
}

uint64_t emu_deadline(const struct emu *e)
{
	return e->data_state == DATA_ACTIVE ? e->data_deadline : EMU_NEVER;
}

void emu_tick(struct emu *e)
{
	if (e->data_state == DATA_ACTIVE && emu_now_ns() >= e->data_deadline)
		end_data_phase(e, false);
}

/* ------------------------------------------------------------ output */

static void reset(struct emu *e);

struct emu_chunk *emu_out_head(struct emu *e)
{
	return e->out_head;
}

static void free_chunk(struct emu_chunk *c)
{
	emu_buf_free(&c->bytes);
	free(c);
}

void emu_out_pop(struct emu *e)
{
	struct emu_chunk *c = e->out_head;

	e->out_head = c->next;
	if (!e->out_head)
		e->out_tail = NULL;
	e->queued -= c->bytes.len;
	switch (c->mark) {
	case EMU_MARK_DONE:
		e->busy = false;
		break;
	case EMU_MARK_PROMPT:
		/* From here on a LF is data, even right after the
		 * command's CR. */
		e->after_cr = false;
		e->data_state = DATA_ACTIVE;
		e->data_deadline = emu_now_ns() +
				   e->data_timeout_ms * EMU_NS_PER_MS;
		emu_buf_free(&e->data);
		break;
	case EMU_MARK_RESET:
		free_chunk(c);
		reset(e);
		c = NULL;
		break;
	case EMU_MARK_PAUSE:
		/* The silence starts once what came before is out. */
		e->hold_until = emu_now_ns() + c->pause_ms * EMU_NS_PER_MS;
		for (struct emu_chunk *q = c->next; q; q = q->next)
			if (q->release_ns < e->hold_until)
				q->release_ns = e->hold_until;
		break;
	case EMU_MARK_NONE:
		break;
	}
	if (c)
		free_chunk(c);
	if (e->queued < EMU_LOW_WATER && e->dialect->drained)
		e->dialect->drained(e->dctx);
}

static void drop_output(struct emu *e)
{
	while (e->out_head) {
		struct emu_chunk *c = e->out_head;

		e->out_head = c->next;
		free_chunk(c);
	}
	e->out_tail = NULL;
	e->queued = 0;
	e->hold_until = 0;
}

/* --fault reset: the module restarts as at power-on.  Whatever was in
 * flight is lost (the dialect is closed and opened again), the echo is
 * back on, and it says so: RDY (ESP-AT: ready). */
static void reset(struct emu *e)
{
	const char *err = NULL;
	const char *boot;

	emu_port_log_fault(e, "reset");
	drop_output(e);
	e->line.len = 0;
	e->line_dropped = 0;
	e->after_cr = false;
	e->data_state = DATA_NONE;
	emu_buf_free(&e->data);
	e->busy = false;
	e->done_not_before = 0;
	e->reset = RESET_NONE;
	e->dialect->close(e->dctx);
	e->dctx = e->dialect->open(e, e->cfg, e->variant, &err);
	if (!e->dctx)
		abort();	/* it opened with this configuration before */
	e->echo = true;
	emu_net_power_on(e->net, false);
	boot = emu_net_boot_lines(e->net);
	queue(e, emu_now_ns(), EMU_MARK_NONE, boot, strlen(boot));
}

void emu_hangup(struct emu *e)
{
	e->line.len = 0;
	e->line_dropped = 0;
	e->after_cr = false;
	if (e->data_state != DATA_NONE)
		end_data_phase(e, false);
	drop_output(e);
	if (e->reset == RESET_QUEUED) {
		/* the reset was in the output nobody reads: it happens now */
		reset(e);
		drop_output(e);
	}
	e->busy = false;
	if (e->dialect->hangup)
		e->dialect->hangup(e->dctx);
	if (e->dialect->drained)
		e->dialect->drained(e->dctx);	/* nothing waits any more */
}

/* ------------------------------------------------------------ life */

struct emu *emu_new(const struct emu_config *cfg,
		    const struct emu_dialect *dialect, FILE *log,
		    const char **err)
{
	struct emu *e = emu_calloc(1, sizeof(*e));

	e->cfg = cfg;
	e->dialect = dialect;
	e->log = log;
	e->echo = true;			/* as modules leave the factory */
	e->chaos = cfg->chaos_seed;
	e->jobs = emu_jobs_new(cfg);
	e->faults = emu_faults_new(cfg, dialect->name);
	/* before the dialect: its open() may set the model */
	e->net = emu_net_new(e, cfg, dialect->name);
	e->variant = emu_variant_pick(&dialect->variants, cfg->variant, err);
	if (e->variant)
		e->dctx = dialect->open(e, cfg, e->variant, err);
	if (!e->dctx) {
		e->dialect = NULL;
		emu_free(e);
		return NULL;
	}
	return e;
}

void emu_free(struct emu *e)
{
	if (!e)
		return;
	/* The dialect first: it abandons its fetches, which the jobs then
	 * cancel and wait for. */
	if (e->dialect)
		e->dialect->close(e->dctx);
	emu_jobs_free(e->jobs);
	emu_faults_free(e->faults);
	emu_net_free(e->net);
	drop_output(e);
	emu_buf_free(&e->line);
	emu_buf_free(&e->data);
	if (e->log)
		fclose(e->log);
	free(e);
}
