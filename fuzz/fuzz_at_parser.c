/* Fuzz target: the AT parser under each dialect's framing tables.
 *
 * Input: byte 0 picks the dialect whose at_syntax record is used (the real
 * records, from the dialect table), byte 1 the parser's mode (bit 0: a
 * prompt armed, bit 1: streams armed, bits 2-3: how the stream consumer
 * behaves, bits 4-7: after how many bytes it stops taking), byte 2 seeds
 * how the rest is cut into feeds.
 *
 * Checked besides memory safety: lines are non-empty, NUL-terminated and
 * at most AT_LINE_MAX; a block's pieces add up to the length its header
 * announces (at_block_length for after-line blocks); and the parser
 * reports the same things whether the bytes come in one feed or in random
 * pieces (at_parser.h: "it can be fed bytes in any split"). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "athttp.h"
#include "at_parser.h"
#include "dialect.h"
#include "event_log.h"
#include "fuzz_check.h"

/* What the stream consumer does once it has taken stop_after bytes: go on
 * taking (its data has a length), hand the rest back to be watched for the
 * end marker, drain, or end the stream there.  Always at a byte count, never
 * at a piece's end: a real consumer decides from the data, not the split. */
enum consumer { TAKE_ALL, UNTIL_END_AFTER, DRAIN_AFTER, END_AFTER };

struct run {
	const struct at_syntax *syn;
	struct event_log log;
	/* the block being delivered */
	bool in_block;
	size_t block_left;
	/* the stream consumer */
	enum consumer consumer;
	size_t stop_after;      /* bytes it takes before it drains or ends */
	bool in_stream;
	size_t taken;
};

static void on_line(void *ctx, const char *line, size_t len)
{
	struct run *r = ctx;
	FUZZ_CHECK(!r->in_block, "a line inside a block");
	FUZZ_CHECK(len > 0 && len <= AT_LINE_MAX, "a line of %zu bytes", len);
	FUZZ_CHECK(line[len] == '\0', "a line not NUL-terminated");
	event_log_add(&r->log, 'L', line, len);
}

static void on_prompt(void *ctx)
{
	struct run *r = ctx;
	event_log_add(&r->log, 'P', NULL, 0);
}

static void on_block(void *ctx, const char *header, const void *data, size_t len, size_t left)
{
	struct run *r = ctx;
	FUZZ_CHECK(data != NULL || len == 0, "a block piece without data");
	if (!r->in_block) {
		size_t total = len + left;
		long announced = at_block_length(r->syn, header, strlen(header));
		if (announced > 0)
			FUZZ_CHECK((size_t)announced == total, "block \"%s\": %zu bytes for %ld announced",
				   header, total, announced);
		event_log_add(&r->log, 'B', header, strlen(header));
	} else {
		FUZZ_CHECK(len <= r->block_left && r->block_left - len == left,
			   "block \"%s\": %zu left, then a piece of %zu leaving %zu", header, r->block_left, len,
			   left);
	}
	event_log_join(&r->log, 'b', data, len);
	r->in_block = left > 0;
	r->block_left = left;
	if (!left)
		event_log_close(&r->log);
}

static size_t on_stream(void *ctx, const char *header, const void *data, size_t len, bool at_end,
			enum at_stream_watch *watch)
{
	struct run *r = ctx;
	FUZZ_CHECK(!r->in_block, "a stream inside a block");
	FUZZ_CHECK(data != NULL || len == 0, "a stream piece without data");
	if (!r->in_stream) {
		event_log_add(&r->log, 'S', header, strlen(header));
		r->in_stream = true;
		r->taken = 0;
	}
	size_t take = len;
	bool draining = *watch == AT_STREAM_DRAIN;
	if (*watch == AT_STREAM_DATA && r->consumer != TAKE_ALL && r->taken + len > r->stop_after) {
		take = r->stop_after - r->taken;
		if (r->consumer == DRAIN_AFTER)
			*watch = AT_STREAM_DRAIN;
		else if (r->consumer == UNTIL_END_AFTER)
			*watch = AT_STREAM_UNTIL_END;
	}
	if (!draining)
		r->taken += take;
	event_log_join(&r->log, draining ? 'l' : 's', data, draining ? len : take);
	if (at_end || (take < len && r->consumer == END_AFTER)) {
		event_log_add(&r->log, at_end ? 'E' : 'e', NULL, 0);
		r->in_stream = false;
		return take;
	}
	return draining ? len : take;
}

/* The bytes after a block were not its trailer: an event like any other,
 * the same however the bytes were split. */
static void on_framing(void *ctx, const char *header, const char *why)
{
	struct run *r = ctx;
	FUZZ_CHECK(!r->in_block, "a framing error inside a block");
	(void)why;
	event_log_add(&r->log, 'F', header, strlen(header));
}

static const struct at_parser_cb callbacks = {
	.line = on_line, .prompt = on_prompt, .block = on_block, .stream = on_stream, .framing = on_framing,
};

static const struct dialect *pick_dialect(uint8_t b)
{
	const char *const *names = athttp_dialects();
	size_t n = 0;
	while (names[n])
		n++;
	return dialect_find(names[b % n]);
}

/* Feeds data to a fresh parser, in one piece (max_piece 0) or in random
 * pieces, and leaves what it reported in r->log. */
static void parse(struct run *r, uint8_t mode, const uint8_t *data, size_t size, unsigned seed,
		  size_t max_piece)
{
	struct at_parser p;
	at_parser_init(&p, r->syn, &callbacks, r);
	at_parser_arm_prompt(&p, mode & 1);
	at_parser_arm_stream(&p, mode & 2);
	if (!max_piece) {
		at_parser_feed(&p, data, size);
	} else {
		for (size_t off = 0; off < size;) {
			size_t n = 1 + (size_t)rand_r(&seed) % max_piece;
			if (n > size - off)
				n = size - off;
			at_parser_feed(&p, data + off, n);
			off += n;
		}
	}
	event_log_close(&r->log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	const struct dialect *d = pick_dialect(data[0]);
	uint8_t mode = data[1];
	unsigned seed = data[2];
	struct run whole = { .syn = d->syntax, .consumer = (enum consumer)((mode >> 2) & 3),
			     .stop_after = (size_t)(mode >> 4) * 7 };
	struct run split = whole;
	parse(&whole, mode, data + 3, size - 3, seed, 0);
	parse(&split, mode, data + 3, size - 3, seed, 1 + seed % 64);
	FUZZ_CHECK(whole.log.len == split.log.len && (!whole.log.len || memcmp(whole.log.p, split.log.p, whole.log.len) == 0),
		   "%s: the parser reports differently when the same bytes come in pieces (%zu vs %zu log bytes)",
		   d->name, whole.log.len, split.log.len);
	event_log_free(&whole.log);
	event_log_free(&split.log);
	return 0;
}
