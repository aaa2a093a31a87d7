#include "at_sync.h"

#include <stdbool.h>
#include <strings.h>

#define SYNC_FIRST_WAIT_MS 500
#define SYNC_MAX_WAIT_MS 5000
#define SYNC_ROUNDS 12
#define ECHO_OFF_MS 5000

static enum ath_err echo_off(struct at_chat *chat, struct ath_error *err)
{
	struct at_result r;
	enum ath_err e = at_chat_cmd(chat, ECHO_OFF_MS, &r, "ATE0");
	return e == ATH_OK ? ATH_OK : at_no_answer(err, e, "ATE0");
}

/* Watches the module's bytes for the echo of "AT" (a line "AT" ended by
 * CR), however the reads split it: a module that echoes needs ATE0, one
 * that does not (a previous process turned it off) is spared it. */
struct echo_watch {
	char line[3];
	size_t n;
	bool long_line;
	bool seen;
};

static void watch_echo(void *ctx, const void *data, size_t len)
{
	struct echo_watch *w = ctx;
	for (const unsigned char *p = data; p < (const unsigned char *)data + len; p++) {
		if (*p == '\r' || *p == '\n') {
			if (!w->long_line && w->n == 2 && strncasecmp(w->line, "AT", 2) == 0)
				w->seen = true;
			w->n = 0;
			w->long_line = false;
		} else if (w->n < 2) {
			w->line[w->n++] = (char)*p;
		} else {
			w->long_line = true;
		}
	}
}

/* After any failed round, an OK may be a late answer to an earlier AT: then
 * let the stragglers arrive and ask once more.  The rounds' waits grow to
 * SYNC_MAX_WAIT_MS: about 50 s in all for a module that never answers OK. */
enum ath_err at_sync(struct at_chat *chat, struct ath_error *err)
{
	struct at_result r;
	at_chat_drain(chat, 100, 2000);
	/* A slow module (or line) gets longer to answer each round. */
	int wait_ms = SYNC_FIRST_WAIT_MS;
	bool doubtful = false;
	for (int i = 0; i < SYNC_ROUNDS; i++) {
		struct echo_watch w = { .n = 0 };
		at_chat_set_raw_observer(chat, watch_echo, &w);
		enum ath_err e = at_chat_cmd(chat, wait_ms, &r, "AT");
		at_chat_set_raw_observer(chat, NULL, NULL);
		if (e == ATH_E_IO)
			return at_no_answer(err, e, "AT");
		if (e == ATH_OK && r.final == AT_FINAL_OK) {
			if (!doubtful)
				return w.seen ? echo_off(chat, err) : ATH_OK;
			/* The OK may be a late one of an earlier AT: this one's
			 * would follow it at once from a module that answers
			 * again, so a short quiet (not the grown wait) tells. */
			at_chat_drain(chat, SYNC_FIRST_WAIT_MS, 2 * wait_ms + 1000);
			doubtful = false;
			continue;
		}
		doubtful = true;
		if (e == ATH_E_TIMEOUT)
			at_chat_drain(chat, 100, 1000);
		else
			/* Answered, but not OK: a module still busy with an
			 * earlier command (ESP-AT answers ERROR while its
			 * AT+HTTPCLIENT runs on) is given as long a pause
			 * before the next AT as a silent one a wait. */
			at_chat_drain(chat, wait_ms, 2 * wait_ms + 1000);
		if (wait_ms < SYNC_MAX_WAIT_MS)
			wait_ms = wait_ms < SYNC_MAX_WAIT_MS / 2 ? wait_ms * 2 : SYNC_MAX_WAIT_MS;
	}
	return ath_fail(err, ATH_E_TIMEOUT, -1, "the module does not answer AT");
}

enum ath_err at_no_answer(struct ath_error *err, enum ath_err e, const char *cmd)
{
	if (e == ATH_E_TIMEOUT)
		return ath_fail(err, e, -1, "no answer from the module to %s", cmd);
	if (e == ATH_E_IO)
		return ath_fail(err, e, -1, "serial port failed during %s", cmd);
	return ath_fail(err, e, -1, "%s could not be sent", cmd);
}

enum ath_err at_refused(struct ath_error *err, const struct at_result *r, const char *cmd)
{
	return ath_fail(err, ATH_E_MODULE, r->code, "%s failed: %s", cmd, r->text);
}
