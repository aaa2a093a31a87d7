#include "identify.h"

#include <stdio.h>
#include <string.h>

#include "athttp.h"

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
