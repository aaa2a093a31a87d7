/*
 * --fault, but for reset (emu_port.c): what a misbehaving module or
 * network does to one HTTP request, deterministically, so a test can
 * provoke the same failure every run.
 *
 * Every fault is armed when the N-th request's action command begins
 * (N 0: every request) and lasts until the next one begins.  Offsets
 * count every byte of output from that moment (echo, responses, URCs,
 * data), as the host sees them:
 *   silence:N:B:MS   after B bytes the module says nothing for MS ms, then
 *                    goes on as if nothing happened (a stalled module)
 *   noise:N:B:K      after B bytes, K bytes of line noise (fragments a host
 *                    may take for CR, LF or the start of a result code,
 *                    and random bytes), wherever that falls - inside
 *                    length-counted data too
 *   urc:N:K          K unsolicited result codes of the family (cellular:
 *                    +CREG, +CMTI, RING, +CGREG, +CPIN; ESP-AT: its station
 *                    and time reports), one at each line boundary until
 *                    all are out, never inside or right after data
 *                    (emu_send_data), where no real module puts one
 *   trickle:N:MS     every byte of output leaves MS ms after the one
 *                    before (a data phase's prompt leaves whole)
 *   error:N          the origin cannot be reached, or an open link to it
 *                    breaks: the family reports the failure as its manual
 *                    says (SIMCom +HTTPACTION 7xx, httpcfg +CME ERROR 7xx,
 *                    OneMO's "err" URC, Neoway/ESP-AT ERROR or the link's
 *                    failure report)
 *   origin-close:N:B the origin closes its connection after B bytes of its
 *                    response (head included)
 */
#include "emu.h"

#include <stdlib.h>
#include <string.h>

/* What a module prints unasked while it serves HTTP, per family: nothing
 * here changes the state the host relies on (no reset, no network loss). */
static const char *const cellular_urcs[] = {
	"+CREG: 1", "+CMTI: \"SM\",3", "RING", "+CGREG: 1", "+CPIN: READY",
};
static const char *const espat_urcs[] = {
	"+STA_CONNECTED:\"1a:2b:3c:4d:5e:6f\"", "+TIME_UPDATED",
	"+STA_DISCONNECTED:\"1a:2b:3c:4d:5e:6f\"",
};
static const struct {
	const char *family;		/* NULL: every other family */
	const char *const *urcs;
	size_t n;
} urc_tables[] = {
	{ "espat", espat_urcs, sizeof(espat_urcs) / sizeof(espat_urcs[0]) },
	{ NULL, cellular_urcs, sizeof(cellular_urcs) / sizeof(cellular_urcs[0]) },
};

/* Line noise: pieces a parser may mistake for framing, between random
 * bytes. */
static const char *const noise_pieces[] = {
	"\r\n", "\r", "\n", "\r\nOK\r\n", "\r\nERROR\r\n", "+HTTP", "+CME ERROR: ",
	"\r\n+", ",", "0", "9", ">", "RDY",
};

struct emu_faults {
	const struct emu_config *cfg;
	const char *const *urcs;
	size_t nurcs, urc_next;
	unsigned long requests;

	/* the request that runs now */
	uint64_t out;			/* output bytes since it began */
	bool silence;			/* a silence still to come */
	uint64_t silence_at;
	unsigned silence_ms;
	bool noise;			/* noise still to come */
	uint64_t noise_at;
	unsigned long noise_len;
	uint64_t prng;
	unsigned long urcs_left;
	unsigned trickle_ms;

	/* the output stream so far */
	bool at_line_start;		/* the last byte was a LF */
	bool after_data;		/* the last piece was response data */
};

struct emu_faults *emu_faults_new(const struct emu_config *cfg,
				  const char *family)
{
	struct emu_faults *F = emu_calloc(1, sizeof(*F));
	size_t i = 0;

	F->cfg = cfg;
	while (urc_tables[i].family && strcmp(urc_tables[i].family, family))
		i++;
	F->urcs = urc_tables[i].urcs;
	F->nurcs = urc_tables[i].n;
	F->at_line_start = true;
	return F;
}

void emu_faults_free(struct emu_faults *F)
{
	free(F);
}

void emu_faults_request(struct emu_faults *F, struct emu *e,
			struct emu_jobs *jobs)
{
	bool fail = false;
	size_t close_after = SIZE_MAX;

	F->requests++;
	F->out = 0;
	F->silence = F->noise = false;
	F->urcs_left = 0;
	F->trickle_ms = 0;
	for (size_t i = 0; i < F->cfg->nfaults; i++) {
		const struct emu_fault *f = &F->cfg->faults[i];

		if (f->request && f->request != F->requests)
			continue;
		switch (f->kind) {
		case EMU_FAULT_RESET:
			break;		/* emu_port.c's */
		case EMU_FAULT_SILENCE:
			F->silence = true;
			F->silence_at = f->after;
			F->silence_ms = f->ms;
			break;
		case EMU_FAULT_NOISE:
			F->noise = true;
			F->noise_at = f->after;
			F->noise_len = f->count;
			/* the same noise for the same fault, every run */
			F->prng = 0x9e3779b97f4a7c15ull ^
				  ((uint64_t)F->requests << 32) ^
				  ((uint64_t)f->after << 8) ^ f->count;
			break;
		case EMU_FAULT_URC:
			F->urcs_left += f->count;
			break;
		case EMU_FAULT_TRICKLE:
			F->trickle_ms = f->ms;
			emu_port_log_fault(e, "trickle %u ms a byte, request %lu",
					   f->ms, F->requests);
			break;
		case EMU_FAULT_ERROR:
			fail = true;
			emu_port_log_fault(e, "error, request %lu", F->requests);
			break;
		case EMU_FAULT_ORIGIN_CLOSE:
			if (f->after < close_after)
				close_after = f->after;
			emu_port_log_fault(e, "origin-close after %lu, request %lu",
					   f->after, F->requests);
			break;
		}
	}
	emu_jobs_fault(jobs, fail, close_after);
}

static uint64_t prng_next(struct emu_faults *F)
{
	/* xorshift64 */
	F->prng ^= F->prng << 13;
	F->prng ^= F->prng >> 7;
	F->prng ^= F->prng << 17;
	return F->prng;
}

static void put(struct emu_faults *F, struct emu *e, uint64_t release,
		enum emu_mark mark, const void *p, size_t n)
{
	if (!n && mark == EMU_MARK_NONE)
		return;
	/* A prompt leaves whole: the module is in its data phase as it
	 * prints it, and a host may start on its CR. */
	emu_port_put(e, release, mark, p, n,
		     mark == EMU_MARK_PROMPT ? 0 : F->trickle_ms);
	F->out += n;
	if (n)
		F->at_line_start = ((const char *)p)[n - 1] == '\n';
}

static void put_noise(struct emu_faults *F, struct emu *e, uint64_t release)
{
	struct emu_buf b = { 0 };

	while (b.len < F->noise_len) {
		uint64_t r = prng_next(F);

		if (r & 1) {
			const char *s = noise_pieces[(r >> 8) % (sizeof(noise_pieces) /
								sizeof(noise_pieces[0]))];
			emu_buf_add(&b, s, strlen(s));
		} else {
			char c = (char)(r >> 16);

			emu_buf_add(&b, &c, 1);
		}
	}
	put(F, e, release, EMU_MARK_NONE, b.data, F->noise_len);
	emu_buf_free(&b);
}

void emu_faults_output(struct emu_faults *F, struct emu *e, uint64_t release,
		       enum emu_mark mark, const void *p, size_t n, bool data)
{
	const char *s = p;

	if (F->urcs_left && !data && F->at_line_start && !F->after_data) {
		struct emu_buf b = { 0 };

		emu_buf_addf(&b, "\r\n%s\r\n", F->urcs[F->urc_next++ % F->nurcs]);
		put(F, e, release, EMU_MARK_NONE, b.data, b.len);
		emu_buf_free(&b);
		F->urcs_left--;
		emu_port_log_fault(e, "urc %s", F->urcs[(F->urc_next - 1) % F->nurcs]);
	}
	/* The bytes up to each point where a fault strikes, then the fault;
	 * the mark stays at the end of the piece. */
	for (;;) {
		uint64_t at = UINT64_MAX;
		size_t k;

		if (F->silence && F->silence_at < at)
			at = F->silence_at;
		if (F->noise && F->noise_at < at)
			at = F->noise_at;
		if (at > F->out + n)
			break;
		k = at > F->out ? (size_t)(at - F->out) : 0;
		put(F, e, release, EMU_MARK_NONE, s, k);
		s += k;
		n -= k;
		if (F->noise && F->noise_at == at) {
			F->noise = false;
			emu_port_log_fault(e, "noise %lu bytes after %llu",
					   F->noise_len, (unsigned long long)F->out);
			put_noise(F, e, release);
		}
		if (F->silence && F->silence_at <= F->out) {
			F->silence = false;
			emu_port_log_fault(e, "silence %u ms after %llu",
					   F->silence_ms, (unsigned long long)F->out);
			emu_port_pause(e, release, F->silence_ms);
		}
	}
	put(F, e, release, mark, s, n);
	F->after_data = data;
}
