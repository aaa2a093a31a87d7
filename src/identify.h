/*
 * Which module family a module speaks, asked on its command line: each
 * dialect's identification probe (dialect.identify_probe), and what the
 * module says about itself (ATI, AT+CGMM, AT+CGMR).  For athttp doctor;
 * the engine itself is always told its dialect.
 */
#ifndef ATH_IDENTIFY_H
#define ATH_IDENTIFY_H

#include <stdbool.h>
#include <stddef.h>

#include "at_chat.h"
#include "dialect.h"

enum identify_answer {
	IDENTIFY_OK,          /* the probe answered OK: the family fits */
	IDENTIFY_REFUSED,     /* ERROR / +CME ERROR: the family is ruled out */
	IDENTIFY_SILENT,      /* no final result in time */
	IDENTIFY_PORT,        /* the port failed */
};

struct identify_probe {
	const struct dialect *dialect;
	enum identify_answer answer;
	char final[96];       /* the final result line as received */
};

/* Sends d's probe and classifies the answer.  Lines before the final
 * result are dropped. */
enum identify_answer identify_probe(struct at_chat *chat, const struct dialect *d,
				    int timeout_ms, struct identify_probe *out);

/* Probes every dialect this build knows, in the dialect table's order;
 * out has room for max.  Returns the count probed.  Stops at a port
 * failure (its entry is the last). */
size_t identify_families(struct at_chat *chat, int timeout_ms, struct identify_probe *out,
			 size_t max);

/* The module's own words: the lines ATI, AT+CGMM and AT+CGMR print
 * before OK, joined with " / " into out ("" when none answers).  Returns
 * how many of the three answered OK; -1 when the port failed. */
int identify_module(struct at_chat *chat, int timeout_ms, char *out, size_t outlen);

/* -m auto: opens device (a transport of its own, closed again), probes
 * every family and takes the one whose probe alone answered OK.  Returns
 * that dialect, with what was found ("quectel (ATI: ...)") in found; NULL
 * with a reason in err: no family answered ("unknown module: no family's
 * probe answered OK; ATI says ..."), more than one, or the port failed. */
const struct dialect *identify_device(const char *device, int baud, int rtscts,
				      char *found, size_t foundlen, struct ath_error *err);

/* A probe's answer in words: "OK", the final line, "no answer". */
const char *identify_answer_words(const struct identify_probe *pr);

/* "name (probe answer), ..." of the probes with (with) or without the
 * answer a. */
void identify_list(const struct identify_probe *pr, size_t n, enum identify_answer a, bool with,
		   char *out, size_t outlen);

/* The decision of -m auto over probes already made: the one family whose
 * probe answered OK, with found as identify_device's; NULL with err:
 * ATH_E_UNSUPPORTED "unknown module: ..." (none, naming every probe's
 * answer and what ATI said: model), ATH_E_CONFIG "ambiguous module: ..."
 * (several), ATH_E_IO (a probe's port failed). */
const struct dialect *identify_decide(const struct identify_probe *pr, size_t n, const char *model,
				      char *found, size_t foundlen, struct ath_error *err);

/* identify_device on an open chat: AT, ATI/AT+CGMM/AT+CGMR, every probe,
 * the decision. */
const struct dialect *identify_chat(struct at_chat *chat, int timeout_ms, char *found,
				    size_t foundlen, struct ath_error *err);

#endif
