/*
 * What every dialect shares around its commands: the table that says which
 * commands it has, in which forms and on which condition, and the choice of
 * its --variant (or --model) with the error that lists the known ones.
 *
 * Every dialect answers a command its module does not have, a form the
 * manual does not give it and a command that cannot run now (no HTTP
 * service started, firmware without it) alike: a bare ERROR.  A table is
 * the whole of what a dialect accepts; what a command then refuses for its
 * arguments is the command's own business.
 */
#include "emu.h"

#include <stdio.h>
#include <string.h>

void emu_dispatch(struct emu *e, const struct emu_commands *t, void *ctx,
		  const struct emu_cmd *c)
{
	size_t skip = t->prefix ? strlen(t->prefix) : 0;
	const char *name = c->name + skip;

	if (skip && strncmp(c->name, t->prefix, skip)) {
		emu_error(e);
		return;
	}
	for (size_t i = 0; i < t->count; i++) {
		const struct emu_command *k = &t->rows[i];

		if (strcmp(k->name, name))
			continue;
		if (!(k->forms & (1u << c->form)) ||
		    (k->needs && !t->guard(ctx, k->needs, c)))
			break;
		k->run(ctx, c);
		return;
	}
	emu_error(e);
}

const void *emu_variant_pick(const struct emu_variants *v, const char *name,
			     const char **err)
{
	/* err is static text to its callers (emu_new's): the configuration
	 * is refused once, before anything runs. */
	static char msg[512];
	const char *entry = v->table;
	size_t len;

	for (size_t i = 0; i < v->count; i++, entry += v->size) {
		const char *entry_name = *(const char *const *)(const void *)entry;

		if (!name || !strcmp(name, entry_name))
			return entry;
	}
	len = (size_t)snprintf(msg, sizeof(msg), "unknown %s (", v->what);
	entry = v->table;
	for (size_t i = 0; i < v->count && len < sizeof(msg);
	     i++, entry += v->size)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
					i ? ", " : "",
					*(const char *const *)(const void *)entry);
	if (len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, ")");
	*err = msg;
	return NULL;
}
