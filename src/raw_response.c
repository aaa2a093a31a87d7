#include "raw_response.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

static struct raw_response *of(http_parser *p)
{
	return p->data;
}

static int fail(struct raw_response *rr, const char *why)
{
	snprintf(rr->why, sizeof rr->why, "%s", why);
	rr->state = RAW_FAILED;
	return -1;
}

static bool head_done(const struct raw_response *rr)
{
	return rr->state != RAW_HEAD;
}

static int count_head(struct raw_response *rr, size_t len)
{
	rr->head_bytes += len;
	return rr->head_bytes > RAW_MAX_HEAD ? fail(rr, "response head over 64 KB") : 0;
}

static int on_message_begin(http_parser *p)
{
	struct raw_response *rr = of(p);
	/* A new head after a 1xx: forget the interim one. */
	http_head_free(&rr->head);
	memset(&rr->head, 0, sizeof rr->head);
	rr->head.content_length = -1;
	rr->in_value = false;
	rr->head_bytes = 0;
	rr->interim = false;
	return 0;
}

static int on_status(http_parser *p, const char *at, size_t len)
{
	struct raw_response *rr = of(p);
	if (count_head(rr, len))
		return -1;
	char *r = rr->head.reason;
	size_t have = strlen(r), room = sizeof rr->head.reason - 1 - have;
	if (len > room)
		len = room;
	memcpy(r + have, at, len);
	r[have + len] = '\0';
	return 0;
}

static int on_header_piece(http_parser *p, bool value, const char *at, size_t len)
{
	struct raw_response *rr = of(p);
	if (head_done(rr))
		return 0; /* trailers: dropped, the body is re-framed */
	if (count_head(rr, len))
		return -1;
	if (hdr_collect(&rr->head.headers, &rr->in_value, value, at, len))
		return fail(rr, "out of memory");
	return 0;
}

static int on_field(http_parser *p, const char *at, size_t len)
{
	return on_header_piece(p, false, at, len);
}

static int on_value(http_parser *p, const char *at, size_t len)
{
	return on_header_piece(p, true, at, len);
}

static int on_headers_complete(http_parser *p)
{
	struct raw_response *rr = of(p);
	int status = p->status_code;
	/* http-parser takes "HTTP/1.1 0": a status line needs three digits. */
	if (status < 100)
		return fail(rr, "the response's status code is not three digits");
	/* 1xx (101 aside: athttp never asks for an upgrade) is interim: the
	 * real response follows it. */
	if (status >= 100 && status < 200 && status != 101) {
		rr->interim = true;
		return 1; /* no body, whatever its fields say (RFC 9110 15.2) */
	}
	struct http_head *h = &rr->head;
	h->status = status;
	h->chunked = (p->flags & F_CHUNKED) != 0;
	h->content_length = (p->flags & F_CONTENTLENGTH) && !h->chunked ? (long long)p->content_length : -1;
	if (!h->reason[0])
		snprintf(h->reason, sizeof h->reason, "%s", http_reason(status));
	/* For HEAD the origin's figure describes the resource, not a body
	 * that follows; otherwise the writer delivers exactly this many. */
	long long length = h->content_length;
	/* No length and not chunked: the body runs to the connection's end
	 * (RFC 9112 6.3, item 8) unless the status has none. */
	bool bodiless = status == 204 || status == 304 || (status >= 100 && status < 200);
	bool until_close = !rr->head_request && !bodiless && !(p->flags & F_CHUNKED) &&
			   p->content_length == ULLONG_MAX;
	bool sniff = !rr->head_request && !bodiless && h->chunked;
	rr->state = until_close ? RAW_BODY_UNTIL_CLOSE : sniff ? RAW_BODY_SNIFF : RAW_BODY;
	rr->started = true;
	if (rr->sink->head(rr->sink->ctx, h, length, false) != ATH_OK)
		rr->client_gone = true;
	if (until_close || sniff) {
		/* Stop here: the caller may have to watch for the module's
		 * end of stream, which such a body runs up to.  http-parser
		 * stops before the head's last LF, which it still needs. */
		http_parser_pause(p, 1);
		rr->head_lf_pending = true;
	}
	return rr->head_request ? 1 : 0;
}

static void emit(struct raw_response *rr, const void *data, size_t len)
{
	if (len && !rr->client_gone && rr->sink->body(rr->sink->ctx, data, len) != ATH_OK)
		rr->client_gone = true;
}

/* Body bytes go to the sink RAW_HOLD bytes late: the last ones wait for
 * raw_response_end.  A module that cuts a response short follows it with
 * its own closing words ("\r\nOK\r\n+HTTPREAD: <err>"), which can be taken
 * for the body's last bytes; held back, they never reach the client, who
 * sees a cut transfer instead of a wrong one. */
static void pass_body(struct raw_response *rr, const void *data, size_t len)
{
	const unsigned char *d = data;
	rr->body_bytes += len;
	if (rr->hold_len + len <= RAW_HOLD) {
		memcpy(rr->hold + rr->hold_len, d, len);
		rr->hold_len += len;
		return;
	}
	size_t out = rr->hold_len + len - RAW_HOLD;      /* bytes that may go now */
	size_t from_hold = out < rr->hold_len ? out : rr->hold_len;
	emit(rr, rr->hold, from_hold);
	memmove(rr->hold, rr->hold + from_hold, rr->hold_len - from_hold);
	rr->hold_len -= from_hold;
	emit(rr, d, out - from_hold);
	d += out - from_hold;
	len -= out - from_hold;
	memcpy(rr->hold + rr->hold_len, d, len);
	rr->hold_len += len;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	pass_body(of(p), at, len);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct raw_response *rr = of(p);
	if (rr->interim)
		return 0;
	rr->state = RAW_DONE;
	/* Whatever follows is not the origin's. */
	http_parser_pause(p, 1);
	return 0;
}

void raw_response_init(struct raw_response *rr, bool head_request, const struct response_sink *sink)
{
	memset(rr, 0, sizeof *rr);
	rr->sink = sink;
	rr->head_request = head_request;
	rr->head.content_length = -1;
	http_parser_init(&rr->parser, HTTP_RESPONSE);
	rr->parser.data = rr;
	http_parser_settings_init(&rr->settings);
	rr->settings.on_message_begin = on_message_begin;
	rr->settings.on_status = on_status;
	rr->settings.on_header_field = on_field;
	rr->settings.on_header_value = on_value;
	rr->settings.on_headers_complete = on_headers_complete;
	rr->settings.on_body = on_body;
	rr->settings.on_message_complete = on_message_complete;
}


static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Could sniff[0..n) still begin a chunk-size line (hex, then ';' and an
 * extension, then CRLF)?  *whole: it is one. */
static bool chunk_line_so_far(const char *s, size_t n, bool *whole)
{
	*whole = false;
	size_t i = 0;
	while (i < n && is_hex(s[i]))
		i++;
	if (i == 0)
		return n == 0;
	bool ext = false;
	for (; i < n; i++) {
		if (s[i] == '\r')
			break;
		if (s[i] == ';' || s[i] == ' ' || s[i] == '\t')
			ext = true;
		else if (!ext || (unsigned char)s[i] < 0x20)
			return false;
	}
	if (i == n)
		return true;
	if (i + 1 == n)
		return true; /* the CR; its LF is next */
	*whole = s[i + 1] == '\n' && i + 2 == n;
	return *whole;
}

static void body_is_module_dechunked(struct raw_response *rr)
{
	rr->module_dechunked = true;
	rr->state = RAW_BODY_UNTIL_CLOSE;
	pass_body(rr, rr->sniff, rr->sniff_len);
	rr->sniff_len = 0;
}

/* The first body bytes after a chunked head: framing or data? */
static size_t sniff_body(struct raw_response *rr, const char *d, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (rr->sniff_len == sizeof rr->sniff) {
			body_is_module_dechunked(rr);
			return i;
		}
		rr->sniff[rr->sniff_len++] = d[i];
		bool whole;
		if (!chunk_line_so_far(rr->sniff, rr->sniff_len, &whole)) {
			rr->sniff_len--;
			body_is_module_dechunked(rr);
			return i; /* the rest under the new watch */
		}
		if (whole) {
			rr->state = RAW_BODY;
			size_t n = rr->sniff_len;
			rr->sniff_len = 0;
			if (raw_response_feed(rr, rr->sniff, n) != n && rr->state != RAW_DONE)
				return i + 1;
			return i + 1 + raw_response_feed(rr, d + i + 1, len - i - 1);
		}
	}
	return len;
}

size_t raw_response_feed(struct raw_response *rr, const void *data, size_t len)
{
	if (rr->state == RAW_DONE || rr->state == RAW_FAILED || len == 0)
		return 0;
	if (rr->head_lf_pending) {
		rr->head_lf_pending = false;
		http_parser_pause(&rr->parser, 0);
		size_t n = http_parser_execute(&rr->parser, &rr->settings, data, 1);
		if (n != 1 || HTTP_PARSER_ERRNO(&rr->parser) != HPE_OK) {
			fail(rr, "the response head did not end as HTTP");
			return n;
		}
		return 1 + raw_response_feed(rr, (const char *)data + 1, len - 1);
	}
	if (rr->state == RAW_BODY_SNIFF)
		return sniff_body(rr, data, len);
	if (rr->module_dechunked) {
		pass_body(rr, data, len);
		return len;
	}
	http_parser_pause(&rr->parser, 0);
	size_t n = http_parser_execute(&rr->parser, &rr->settings, data, len);
	enum http_errno e = HTTP_PARSER_ERRNO(&rr->parser);
	if (e == HPE_PAUSED) {
		http_parser_pause(&rr->parser, 0);
		/* Only a body that runs to the stream's end needs the caller
		 * to change how it watches; a sniff goes on here. */
		if (rr->state == RAW_BODY_SNIFF)
			return n + raw_response_feed(rr, (const char *)data + n, len - n);
		return n;
	}
	if (e != HPE_OK && rr->state != RAW_FAILED) {
		snprintf(rr->why, sizeof rr->why, "the module's response is not HTTP: %s",
			 http_errno_description(e));
		rr->state = RAW_FAILED;
	}
	return n;
}

size_t raw_response_feed_stream(struct raw_response *rr, const void *data, size_t len,
				enum at_stream_watch *watch, size_t *leftover)
{
	if (*watch == AT_STREAM_DRAIN) {
		const char *d = data;
		for (size_t i = 0; i < len; i++)
			*leftover += d[i] != '\r' && d[i] != '\n';
		return len;
	}
	size_t used = raw_response_feed(rr, data, len);
	if (rr->state == RAW_BODY_UNTIL_CLOSE)
		*watch = AT_STREAM_UNTIL_END;
	else if (rr->state == RAW_DONE || rr->state == RAW_FAILED)
		*watch = AT_STREAM_DRAIN;
	return used;
}

bool raw_response_open_ended(const struct raw_response *rr)
{
	return rr->state == RAW_BODY_UNTIL_CLOSE || (rr->state == RAW_BODY_SNIFF && rr->sniff_len == 0);
}

enum ath_err raw_response_end(struct raw_response *rr, struct ath_error *err)
{
	if (rr->state == RAW_BODY_SNIFF && rr->sniff_len == 0) {
		/* Nothing after a chunked head: a module that de-chunked an
		 * empty body. */
		body_is_module_dechunked(rr);
	}
	if (rr->state == RAW_BODY_UNTIL_CLOSE && rr->module_dechunked) {
		rr->state = RAW_DONE;
	} else if (rr->state == RAW_BODY_UNTIL_CLOSE) {
		http_parser_execute(&rr->parser, &rr->settings, NULL, 0);
		if (rr->state != RAW_DONE)
			fail(rr, "the body did not end cleanly");
	} else if (rr->state == RAW_HEAD) {
		fail(rr, rr->head_bytes ? "the response stopped inside its head"
				       : "the module returned no response");
	} else if (rr->state == RAW_BODY || rr->state == RAW_BODY_SNIFF) {
		char why[120];
		if (rr->head.content_length >= 0)
			snprintf(why, sizeof why, "truncated response: %llu of %lld body bytes",
				 rr->body_bytes, rr->head.content_length);
		else
			snprintf(why, sizeof why, "truncated response: the chunked body stopped after %llu bytes",
				 rr->body_bytes);
		fail(rr, why);
	}
	if (rr->state == RAW_DONE) {
		emit(rr, rr->hold, rr->hold_len);
		rr->hold_len = 0;
		return ATH_OK;
	}
	return ath_fail(err, ATH_E_PROTOCOL, -1, "%s", rr->why);
}

bool raw_response_started(const struct raw_response *rr)
{
	return rr->started;
}

void raw_response_free(struct raw_response *rr)
{
	http_head_free(&rr->head);
}
