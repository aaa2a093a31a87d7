#include "at_data_phase.h"

enum ath_err at_data_phase(struct at_chat *chat, const struct at_data_phase *p, struct at_result *res,
			   struct at_data_outcome *out)
{
	*out = (struct at_data_outcome){ false, false };
	enum ath_err e = at_chat_cmd_prompt(chat, p->prompt_ms, res, "%s", p->cmd);
	if (e != ATH_OK || res->final != AT_FINAL_PROMPT)
		return e;
	out->prompted = true;
	e = at_chat_send_data(chat, p->data, p->len, p->data_ms);
	if (e != ATH_OK)
		return e;
	out->sent = true;
	return at_chat_wait_final(chat, p->final_ms, res);
}
