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
		  const char *name, const struct emu_cmd *c)
{
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

const void *emu_variant_pick(const void *table, size_t count, size_t size,
			     const char *name, const char *what,
			     const char **err)
{
	/* err is static text to its callers (struct emu_dialect's open):
	 * the configuration is refused once, before anything runs. */
	static char msg[512];
	const char *entry = table;
	size_t len;

	for (size_t i = 0; i < count; i++, entry += size) {
		const char *entry_name = *(const char *const *)(const void *)entry;

		if (!name || !strcmp(name, entry_name))
			return entry;
	}
	len = (size_t)snprintf(msg, sizeof(msg), "unknown %s (", what);
	entry = table;
	for (size_t i = 0; i < count && len < sizeof(msg); i++, entry += size)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s%s",
					i ? ", " : "",
					*(const char *const *)(const void *)entry);
	if (len < sizeof(msg))
		snprintf(msg + len, sizeof(msg) - len, ")");
	*err = msg;
	return NULL;
}
