/*
 * How long a driver waits for the module: the one rule every dialect
 * follows (README, "When the module misbehaves").
 *
 * Every wait is a bound on silence (at_chat counts it from the last byte
 * received): a slow line with steady data never times out, a module that
 * goes quiet is given up on.  No wait of an exchange is longer than the
 * request timeout T (ATHTTP_TIMEOUT_MS, io->action_timeout_ms):
 *   - a wait for the server (the answer to the request, each piece of the
 *     body, a connect the module makes) is T itself;
 *   - a wait for a command's own answer (a setting, a prompt, the OK after
 *     a data phase) is the bound its manual gives, cut to T when T is
 *     shorter;
 *   - a timer the module keeps for us (a <rsptime>, a <wait_time>) is set
 *     a whole second short of T, so that the module's own report of a
 *     timeout, which names its code, comes before ours.
 * Bring-up (once per port opening or reset) keeps the manuals' bounds and
 * the network settings' (register_timeout_ms): it is not a request's wait.
 */
#ifndef ATH_WAIT_BOUND_H
#define ATH_WAIT_BOUND_H

#include "dialect.h"

/* A wait for the server. */
static inline int wait_server_ms(const struct modem_io *io)
{
	return io->action_timeout_ms > 0 ? io->action_timeout_ms : 1;
}

/* A wait for a command's own answer, whose manual gives own_ms. */
static inline int wait_command_ms(const struct modem_io *io, int own_ms)
{
	int t = wait_server_ms(io);
	return own_ms < t ? own_ms : t;
}

/* A timer the module keeps, in whole seconds: a second short of T, at
 * least 1, at most max_s (the command's range). */
static inline int wait_module_timer_s(const struct modem_io *io, int max_s)
{
	int s = (wait_server_ms(io) - 1000) / 1000;
	if (s < 1)
		s = 1;
	return s > max_s ? max_s : s;
}

#endif
