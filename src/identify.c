#include "identify.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "athttp.h"
#include "transport.h"

static enum identify_answer classify(enum ath_err e, const struct at_result *r)
{
	if (e == ATH_E_IO)
		return IDENTIFY_PORT;
	if (e != ATH_OK)
		return IDENTIFY_SILENT;
	return r->final == AT_FINAL_OK ? IDENTIFY_OK : IDENTIFY_REFUSED;
}

enum identify_answer identify_probe(struct at_chat *chat, const struct dialect *d,
				    int timeout_ms, struct identify_probe *out)
{
	struct at_result r = { 0 };
	*out = (struct identify_probe){ .dialect = d, .answer = IDENTIFY_REFUSED };
	if (!d->identify_probe) {
		snprintf(out->final, sizeof out->final, "no probe known");
		return out->answer;
	}
	at_chat_clear_queue(chat);
	enum ath_err e = at_chat_cmd(chat, timeout_ms, &r, "%s", d->identify_probe);
	out->answer = classify(e, &r);
	snprintf(out->final, sizeof out->final, "%s", e == ATH_OK ? r.text : "");
	at_chat_clear_queue(chat);
	return out->answer;
}

size_t identify_families(struct at_chat *chat, int timeout_ms, struct identify_probe *out,
			 size_t max)
{
	const char *const *names = athttp_dialects();
	size_t n = 0;
	for (size_t i = 0; names[i] && n < max; i++) {
		const struct dialect *d = dialect_find(names[i]);
		if (!d)
			continue;
		if (identify_probe(chat, d, timeout_ms, &out[n++]) == IDENTIFY_PORT)
			break;
	}
	return n;
}

/* Appends s to out (joined by " / "), cut to fit. */
static void append(char *out, size_t outlen, const char *s)
{
	size_t used = strlen(out);
	if (used + 1 < outlen)
		snprintf(out + used, outlen - used, "%s%s", used ? " / " : "", s);
}

int identify_module(struct at_chat *chat, int timeout_ms, char *out, size_t outlen)
{
	static const char *const commands[] = { "ATI", "AT+CGMM", "AT+CGMR" };
	int answered = 0;
	if (outlen)
		out[0] = '\0';
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		struct at_result r = { 0 };
		at_chat_clear_queue(chat);
		enum ath_err e = at_chat_cmd(chat, timeout_ms, &r, "%s", commands[i]);
		if (e == ATH_E_IO)
			return -1;
		if (e != ATH_OK || r.final != AT_FINAL_OK)
			continue;
		answered++;
		char line[AT_LINE_MAX + 1];
		while (at_chat_take_line(chat, "", line, sizeof line))
			if (line[0] && !strstr(out, line)) /* ATI often repeats CGMM's model */
				append(out, outlen, line);
	}
	at_chat_clear_queue(chat);
	return answered;
}

const char *identify_answer_words(const struct identify_probe *pr)
{
	switch (pr->answer) {
	case IDENTIFY_OK: return "OK";
	case IDENTIFY_REFUSED: return pr->final[0] ? pr->final : "ERROR";
	case IDENTIFY_SILENT: return "no answer";
	case IDENTIFY_PORT: return "port failed";
	}
	return "?";
}

void identify_list(const struct identify_probe *pr, size_t n, enum identify_answer a, bool with,
		   char *out, size_t outlen)
{
	if (!outlen)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if ((pr[i].answer == a) != with)
			continue;
		size_t used = strlen(out);
		if (used + 1 >= outlen)
			break;
		snprintf(out + used, outlen - used, "%s%s (%s %s)", used ? ", " : "",
			 pr[i].dialect->name, pr[i].dialect->identify_probe,
			 identify_answer_words(&pr[i]));
	}
}

const struct dialect *identify_decide(const struct identify_probe *pr, size_t n, const char *model,
				      char *found, size_t foundlen, struct ath_error *err)
{
	char list[600];
	size_t n_ok = 0, first = 0;
	if (foundlen)
		found[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		if (pr[i].answer == IDENTIFY_PORT) {
			ath_fail(err, ATH_E_IO, -1, "the port failed while probing %s (%s)",
				 pr[i].dialect->name, pr[i].dialect->identify_probe);
			return NULL;
		}
		if (pr[i].answer == IDENTIFY_OK && n_ok++ == 0)
			first = i;
	}
	if (n_ok == 0) {
		identify_list(pr, n, IDENTIFY_OK, false, list, sizeof list);
		ath_fail(err, ATH_E_UNSUPPORTED, -1, "unknown module: no family's probe answered OK "
			 "(%s); ATI says %s%s%s", *list ? list : "none probed",
			 model && *model ? "\"" : "nothing", model && *model ? model : "",
			 model && *model ? "\"" : "");
		return NULL;
	}
	if (n_ok > 1) {
		identify_list(pr, n, IDENTIFY_OK, true, list, sizeof list);
		ath_fail(err, ATH_E_CONFIG, -1, "ambiguous module: the probes of several families "
			 "answered OK: %s; give -m with the family its manual names", list);
		return NULL;
	}
	const struct dialect *d = pr[first].dialect;
	if (model && *model)
		snprintf(found, foundlen, "%s (ATI: %s)", d->name, model);
	else
		snprintf(found, foundlen, "%s (%s answered OK)", d->name, d->identify_probe);
	return d;
}

/* Enough for every dialect this build knows. */
#define IDENTIFY_MAX_PROBES 16
#define IDENTIFY_WAIT_MS 1500
#define IDENTIFY_LOCK_WAIT_MS 2000
#define IDENTIFY_DEFAULT_BAUD 115200

const struct dialect *identify_chat(struct at_chat *chat, int timeout_ms, char *found,
				    size_t foundlen, struct ath_error *err)
{
	struct at_result r = { 0 };
	/* Whatever the module said before we came (a URC, a half line). */
	at_chat_drain(chat, 30, 200);
	enum ath_err e = at_chat_cmd(chat, timeout_ms, &r, "AT");
	if (e == ATH_E_IO) {
		ath_fail(err, ATH_E_IO, -1, "the port failed at the first AT");
		return NULL;
	}
	if (e != ATH_OK || r.final != AT_FINAL_OK) {
		ath_fail(err, e != ATH_OK ? e : ATH_E_MODULE, -1, "the module does not answer AT "
			 "(%s): wrong port, baud rate, or no module", e == ATH_OK ? r.text : "silence");
		return NULL;
	}
	char model[300];
	if (identify_module(chat, timeout_ms, model, sizeof model) < 0) {
		ath_fail(err, ATH_E_IO, -1, "the port failed during ATI");
		return NULL;
	}
	struct identify_probe pr[IDENTIFY_MAX_PROBES];
	size_t n = identify_families(chat, timeout_ms, pr, IDENTIFY_MAX_PROBES);
	return identify_decide(pr, n, model, found, foundlen, err);
}

const struct dialect *identify_device(const char *device, int baud, int rtscts,
				      char *found, size_t foundlen, struct ath_error *err)
{
	ath_error_clear(err);
	if (foundlen)
		found[0] = '\0';
	if (!device || !*device) {
		ath_fail(err, ATH_E_CONFIG, -1, "no device to identify");
		return NULL;
	}
	struct transport_config tc = {
		.path = device,
		.baud = baud > 0 ? baud : IDENTIFY_DEFAULT_BAUD,
		.rtscts = rtscts > 0,
		.lock_timeout_ms = IDENTIFY_LOCK_WAIT_MS,
	};
	struct transport *tp = transport_open(&tc, err);
	if (!tp)
		return NULL;
	struct at_chat chat;
	at_chat_init(&chat, tp, NULL, NULL);
	const struct dialect *d = identify_chat(&chat, IDENTIFY_WAIT_MS, found, foundlen, err);
	tp->ops->close(tp);
	return d;
}
