/* The rig the driver unit tests share: a dialect's driver talking through
 * an at_chat to a scripted module (script_transport.h), its response
 * collected for the test to check.  Also the small tools those tests write
 * scripts with: a growable buffer and a script under construction.
 *
 *	struct script sc = { 0 };
 *	step(&sc, fmt("AT\r"), fmt("\r\nOK\r\n"));
 *	struct rig r;
 *	rig_init(&r, &dialect_x, sc.s, sc.n, seed, false);
 *	assert_int_equal(rig_exchange(&r, &rq), ATH_OK);
 *	assert_string_equal(r.got.body.p, "...");
 *	rig_done(&r);
 *	script_free(&sc);
 *
 * Failed checks are cmocka assertions: call these from a cmocka test only. */
#ifndef DRIVER_RIG_H
#define DRIVER_RIG_H

#include <stdbool.h>
#include <stddef.h>

#include "at_chat.h"
#include "dialect.h"
#include "http_headers.h"
#include "script_transport.h"

/* ------------------------------------------------------------ a growable buffer */

/* Bytes, NUL-terminated once anything was added (p is NULL before). */
struct buf {
	char *p;
	size_t len;
};

void buf_add(struct buf *b, const void *data, size_t len);
void buf_adds(struct buf *b, const char *s);
void buf_addf(struct buf *b, const char *f, ...) __attribute__((format(printf, 2, 3)));

/* A malloc'ed string of n bytes c. */
char *filler(size_t n, char c);

/* ------------------------------------------------------------ scripts */

/* A script under construction: its steps own their malloc'ed strings. */
struct script {
	struct script_step s[160];
	char *owned[320];
	size_t n, nowned;
};

/* Adds a step; takes ownership of expect and reply (malloc'ed, NULL
 * allowed); a length of 0 means strlen. */
void stepn(struct script *sc, char *expect, size_t elen, char *reply, size_t rlen);
void step(struct script *sc, char *expect, char *reply);
/* The reply is reply's bytes, taken: reply is left empty. */
void step_buf(struct script *sc, char *expect, struct buf *reply);
/* Frees what the steps own and empties sc. */
void script_free(struct script *sc);

/* ------------------------------------------------------------ the response */

/* What the driver streamed into the rig's sink.  rig_exchange starts it
 * afresh; the settings at the end are kept. */
struct rig_got {
	int heads;                 /* how many times head() was called */
	int status;
	char reason[64];
	long long length;          /* head()'s content_length */
	bool synthesized;
	struct hdr_list fields;    /* the head's fields (see rig_field) */
	char headers[4096];        /* the same as "Name: value|" each */
	struct buf body;
	int body_calls;            /* counted while refuse_after is set */
	/* settings */
	bool refuse;               /* head and body answer ATH_E_CLIENT_GONE */
	int refuse_after;          /* >0: body calls after this many answer it */
	bool real_head;            /* a synthesized head fails the test */
};

/* The sink's callbacks; ctx is a struct rig_got. */
enum ath_err rig_got_head(void *ctx, const struct http_head *h, long long len, bool synthesized);
enum ath_err rig_got_body(void *ctx, const void *data, size_t len);
/* Frees what got holds and clears it, but for its settings. */
void rig_got_reset(struct rig_got *got);

/* ------------------------------------------------------------ the rig */

struct rig {
	const struct dialect *d;
	struct transport *tp;      /* the script */
	struct transport quiet;    /* the script as a module that goes silent */
	struct at_chat chat;       /* on quiet or on tp, as rig_init was told */
	struct modem_io io;
	char state[4096];          /* io.state, if the dialect has any */
	struct rig_got got;
	struct response_sink sink; /* into got */
	struct ath_error err;
	/* settings, which a test may change after rig_init */
	int quiet_slice_ms;        /* longest silence of one read: 50 */
	bool verbose;              /* rig_exchange reports failures: true */
};

/* Plays steps[0..n) to d's driver, the module's output cut into pieces of
 * 1 to 1 + seed % 200 bytes.  quiet: where the script has nothing more to
 * say the module is silent (a read times out, as on a real port) instead
 * of failing the read at once; for waits that end by time.  The action
 * timeout is 30 s (io.action_timeout_ms).  r must stay where it is. */
void rig_init(struct rig *r, const struct dialect *d, const struct script_step *steps, size_t n,
	      unsigned seed, bool quiet);
/* The same with pieces of 1 to max_piece bytes. */
void rig_init_split(struct rig *r, const struct dialect *d, const struct script_step *steps, size_t n,
		    unsigned seed, size_t max_piece, bool quiet);
/* One exchange of rq, into a fresh r->got and r->err. */
enum ath_err rig_exchange(struct rig *r, const struct dialect_request *rq);
/* The value of the collected head's field name, or "". */
const char *rig_field(const struct rig *r, const char *name);
/* Checks that the script went exactly as written (no mismatch, every step
 * taken, every reply read), then rig_free. */
void rig_done(struct rig *r);
/* Frees the rig, checking nothing. */
void rig_free(struct rig *r);

#endif
