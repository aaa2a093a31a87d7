#include "module_codes.h"

const struct module_code *module_code_find(struct module_codes t, int code)
{
	for (size_t i = 0; i < t.n; i++)
		if (t.rows[i].code == code)
			return &t.rows[i];
	return NULL;
}

int module_code_status(struct module_codes t, int code)
{
	const struct module_code *c = module_code_find(t, code);
	return c ? c->http_status : 502;
}
