/*
 * What every dialect does first and after trouble: bring the module's
 * command line into step, and say in the client's terms what a failed
 * command means.
 */
#ifndef ATH_AT_SYNC_H
#define ATH_AT_SYNC_H

#include "at_chat.h"
#include "err.h"

/* AT until OK, each result paired with its own command: the module may be
 * mid-way through something of a previous process (a data phase waiting
 * for bytes, a read still streaming).  Then ATE0 if the last AT came
 * back echoed: every dialect wants the echo off (the chat copes with it
 * either way), and a module a previous process left with the echo off is
 * spared the command.  ATH_E_TIMEOUT if the module never answers. */
enum ath_err at_sync(struct at_chat *chat, struct ath_error *err);

/* cmd got no result: a timeout, the port failing, or not sent at all. */
enum ath_err at_no_answer(struct ath_error *err, enum ath_err e, const char *cmd);
/* cmd got a result other than the one wanted (ERROR, +CME ERROR: n). */
enum ath_err at_refused(struct ath_error *err, const struct at_result *r, const char *cmd);

#endif
