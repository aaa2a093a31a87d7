/* A module's numbered failures, as data: each driver keeps the table of
 * its manual, and one lookup serves them all. */
#ifndef ATH_MODULE_CODES_H
#define ATH_MODULE_CODES_H

#include <stddef.h>

struct module_code {
	int code;
	int http_status;        /* what the client gets: 502, 503 or 504 */
	const char *meaning;    /* the manual's words */
	const char *hint;       /* what else it covers (e.g. on https), or NULL */
};

struct module_codes {
	const struct module_code *rows;
	size_t n;
};

/* A table of a static array of rows. */
#define MODULE_CODES(array) ((struct module_codes){ (array), sizeof(array) / sizeof((array)[0]) })

/* The row of code, or NULL when the manual does not list it. */
const struct module_code *module_code_find(struct module_codes t, int code);

/* The client's status for code: its row's, else 502. */
int module_code_status(struct module_codes t, int code);

#endif
