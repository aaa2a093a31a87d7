/* A transport that plays a module from a script: each step is what the host
 * must write and what the module answers.  Replies come out in random
 * splits (seeded), so every test also exercises the parser's reassembly. */
#ifndef SCRIPT_TRANSPORT_H
#define SCRIPT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "transport.h"

struct script_step {
	const char *expect;     /* bytes the host must send; NULL: none */
	size_t expect_len;      /* 0: strlen(expect) */
	const char *reply;      /* bytes the module sends back */
	size_t reply_len;       /* 0: strlen(reply) */
};

struct transport *script_transport_new(const struct script_step *steps, size_t n, unsigned seed,
				       size_t max_piece);
/* All steps consumed and every reply byte read? */
bool script_finished(struct transport *t);
/* What went wrong, or "" if nothing. */
const char *script_error(struct transport *t);
void script_transport_free(struct transport *t);

#endif
