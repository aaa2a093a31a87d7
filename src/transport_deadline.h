/*
 * A transport with a hard deadline, laid over another for a few commands
 * that must end in time whatever the module does (the teardown at program
 * exit).  The chat's own timeouts restart with every byte received, so a
 * module that trickles would hold it past any budget; through this one,
 * every read and write is cut at the deadline, and after it every read
 * fails as a port error would: the chat gives up at once.
 */
#ifndef ATH_TRANSPORT_DEADLINE_H
#define ATH_TRANSPORT_DEADLINE_H

#include <stdbool.h>

#include "transport.h"

struct transport_deadline {
	struct transport base;      /* what the chat is given */
	struct transport *inner;    /* still its owner's: never closed here */
	long long deadline_ms;      /* now_ms() */
	bool expired;
};

/* Lays dt over inner with budget_ms from now. */
void transport_deadline_init(struct transport_deadline *dt, struct transport *inner, int budget_ms);

#endif
