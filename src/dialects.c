/* The dialect table: one line per module family. */
#include <string.h>

#include "athttp.h"
#include "dialect.h"

extern const struct dialect dialect_simcom;
extern const struct dialect dialect_httpcfg;
extern const struct dialect dialect_quectel;
extern const struct dialect dialect_neoway;
extern const struct dialect dialect_onemo;
extern const struct dialect dialect_espat;

static const struct dialect *const dialect_table[] = {
	&dialect_simcom,
	&dialect_httpcfg,
	&dialect_quectel,
	&dialect_neoway,
	&dialect_onemo,
	&dialect_espat,
};

#define N_DIALECTS (sizeof dialect_table / sizeof dialect_table[0])

const struct dialect *dialect_find(const char *name)
{
	for (size_t i = 0; i < N_DIALECTS; i++)
		if (strcmp(dialect_table[i]->name, name) == 0)
			return dialect_table[i];
	return NULL;
}

const char *const *athttp_dialects(void)
{
	static const char *names[N_DIALECTS + 1];
	for (size_t i = 0; i < N_DIALECTS; i++)
		names[i] = dialect_table[i]->name;
	return names;
}

unsigned verb_from_method(const char *method)
{
	static const struct { const char *name; unsigned verb; } verbs[] = {
		{ "GET", VERB_GET }, { "HEAD", VERB_HEAD }, { "POST", VERB_POST },
		{ "PUT", VERB_PUT }, { "DELETE", VERB_DELETE }, { "PATCH", VERB_PATCH },
		{ "OPTIONS", VERB_OPTIONS },
	};
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(verbs[i].name, method) == 0)
			return verbs[i].verb;
	return 0;
}
