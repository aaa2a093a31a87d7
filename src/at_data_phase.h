/*
 * A command with a data phase: the command, the module's prompt, exactly
 * the bytes it asked for, then the command's final result.  What every
 * driver that uploads (a body, a URL, a CA file) does the same way.
 */
#ifndef ATH_AT_DATA_PHASE_H
#define ATH_AT_DATA_PHASE_H

#include <stdbool.h>
#include <stddef.h>

#include "at_chat.h"
#include "err.h"

struct at_data_phase {
	const char *cmd;     /* the command line, formatted, without its CR */
	int prompt_ms;       /* for the prompt, or a result refusing it */
	const void *data;
	size_t len;
	int data_ms;         /* for writing the bytes (see wire_time.h) */
	int final_ms;        /* for the final result once the bytes are out */
};

/* Where the data phase got to. */
struct at_data_outcome {
	bool prompted;       /* the prompt came: the bytes were (to be) sent */
	bool sent;           /* the bytes were written */
};

/* Runs p.  ATH_OK: a result came in *res, the refusal before the prompt
 * (!out->prompted) or the final result after the bytes.  Otherwise the
 * chat's error (ATH_E_TIMEOUT, ATH_E_IO, ATH_E_PROTOCOL) at the step *out
 * shows: no answer to the command, the bytes not written, no final
 * result.  No error is reported: the callers name the step in their own
 * terms. */
enum ath_err at_data_phase(struct at_chat *chat, const struct at_data_phase *p, struct at_result *res,
			   struct at_data_outcome *out);

#endif
