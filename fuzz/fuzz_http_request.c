/* Fuzz target: what a client writes, read as HTTP/1.x requests
 * (http_request.h) and turned into a dialect's request (request_policy.h).
 *
 * Input: byte 0 picks the dialect whose capability record decides; the
 * rest is the client's bytes, read from a file descriptor as from the
 * socket, requests one after another until the reader stops.
 *
 * Checked besides memory safety: a body kept in full has the length the
 * head announced, and never more than the limit; a request the policy
 * lets through has a URL, and for a parameterized dialect header fields,
 * that can travel inside a quoted AT string as its capability record says
 * (request_policy.h: "Nothing a client sends reaches a driver without
 * passing here"). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "athttp.h"
#include "client_conn.h"
#include "dialect.h"
#include "fuzz_check.h"
#include "http_request.h"
#include "request_policy.h"

#define MAX_REQUESTS 16

/* Can s travel inside a quoted AT string as carriage allows?  Written out
 * here rather than asking request_policy.c, so a mistake there shows. */
static bool travels(const char *s, enum header_carriage carriage)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (carriage == CARRY_ANY)
			return true;
		if (*c < 0x20 || *c == 0x7f)
			return false;
		if (carriage == CARRY_QUOTED && (*c == '"' || *c == '\\'))
			return false;
	}
	return true;
}

static const struct dialect *pick_dialect(uint8_t b)
{
	const char *const *names = athttp_dialects();
	size_t n = 0;
	while (names[n])
		n++;
	return dialect_find(names[b % n]);
}

/* One request, head to body, as the bridge reads it.  False: the
 * connection cannot go on. */
static bool serve_one(const struct dialect *d, struct req_reader *rr)
{
	struct http_req req;
	struct ath_error err;
	ath_error_clear(&err);
	int rc = req_read_head(rr, &req, &err);
	if (rc <= 0) {
		FUZZ_CHECK(rc == 0 || err.code != ATH_OK, "a bad request without a reason");
		http_req_free(&req);
		return false;
	}
	FUZZ_CHECK(req.method[0] && req.target, "a request without method or target");
	struct prepared_request prep;
	bool prepared = request_prepare(d, &req, &(struct athttp_peer){ "origin.test", 80 }, &prep, &err) == ATH_OK;
	size_t limit = prepared ? request_body_limit(d, &prep) : 0;
	bool ok = req_read_body(rr, limit, !prepared, &err) == 0;
	if (ok && prepared) {
		FUZZ_CHECK(req.body_len <= limit, "a body of %zu kept over the limit %zu", req.body_len, limit);
		if (!req.chunked && !req.body_overflow && req.content_length >= 0)
			FUZZ_CHECK(req.body_len == (size_t)req.content_length, "a body of %zu for Content-Length %lld",
				   req.body_len, req.content_length);
		if (!req.body_overflow &&
		    request_attach_body(d, &prep, req.body, req.body_len, &err) == ATH_OK) {
			const char *url = prep.rq.url;
			FUZZ_CHECK(url && travels(url, CARRY_QUOTED), "%s: an unsafe URL reaches the driver: %s",
				   d->name, url ? url : "(null)");
			const struct hdr_list *h = prep.rq.headers;
			for (size_t i = 0; h && !d->caps->raw_request && i < h->n; i++)
				FUZZ_CHECK(travels(h->v[i].name, CARRY_QUOTED) &&
						   travels(h->v[i].value, d->caps->value_carriage),
					   "%s: a header that cannot travel reaches the driver: %s: %s", d->name,
					   h->v[i].name, h->v[i].value);
			if (prep.rq.raw)
				FUZZ_CHECK(prep.rq.raw_len > 0, "an empty raw request");
		}
	}
	if (prepared)
		prepared_request_free(&prep);
	bool keep = ok && req.keep_alive;
	http_req_free(&req);
	return keep;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const struct dialect *d = pick_dialect(data[0]);
	int fd = memfd_create("fuzz-client", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	FUZZ_CHECK(write(fd, data + 1, size - 1) == (ssize_t)(size - 1), "memfd write failed");
	lseek(fd, 0, SEEK_SET);
	struct client_conn conn = CLIENT_CONN_PLAIN(fd);
	struct req_reader *rr = malloc(sizeof *rr);
	FUZZ_CHECK(rr, "out of memory");
	req_reader_init(rr, &conn);
	for (int i = 0; i < MAX_REQUESTS && serve_one(d, rr); i++)
		;
	free(rr);
	close(fd);
	return 0;
}
