/* Names listed in /etc/hosts; see etchosts.h. */
#include "etchosts.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NAME_MAX_LEN 253

/* Lower-case copy without trailing dot, into buf of NAME_MAX_LEN + 1. */
static bool normalise(const char *name, size_t n, char *buf)
{
	if (n && name[n - 1] == '.')
		n--;
	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[n] = '\0';
	return true;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_name(struct etchosts *h, size_t *cap, const char *name, size_t n)
{
	char key[NAME_MAX_LEN + 1];
	if (!normalise(name, n, key))
		return 0;
	if (h->n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		char **v = realloc(h->names, c * sizeof *v);
		if (!v)
			return -1;
		h->names = v;
		*cap = c;
	}
	if (!(h->names[h->n] = strdup(key)))
		return -1;
	h->n++;
	return 0;
}

int etchosts_parse(FILE *f, struct etchosts *h)
{
	char line[1024];
	size_t cap = 0;

	h->names = NULL;
	h->n = 0;
	while (fgets(line, sizeof line, f)) {
		size_t len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n') {
			/* Overlong line: skip the rest of it, keep the start. */
			int c;
			while ((c = getc(f)) != EOF && c != '\n')
				;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';

		/* "address name [alias...]": every field after the first. */
		char *p = line;
		bool first = true;
		for (;;) {
			while (*p && isspace((unsigned char)*p))
				p++;
			if (!*p)
				break;
			char *start = p;
			while (*p && !isspace((unsigned char)*p))
				p++;
			if (!first && add_name(h, &cap, start, (size_t)(p - start)) < 0) {
				etchosts_free(h);
				return -1;
			}
			first = false;
		}
	}
	if (h->n)
		qsort(h->names, h->n, sizeof *h->names, cmp_names);
	return 0;
}

bool etchosts_has(const struct etchosts *h, const char *name)
{
	char key[NAME_MAX_LEN + 1];
	const char *k = key;
	if (!name || !h->n || !normalise(name, strlen(name), key))
		return false;
	return bsearch(&k, h->names, h->n, sizeof *h->names, cmp_names) != NULL;
}

void etchosts_free(struct etchosts *h)
{
	for (size_t i = 0; i < h->n; i++)
		free(h->names[i]);
	free(h->names);
	h->names = NULL;
	h->n = 0;
}

static struct etchosts system_hosts;
static pthread_once_t system_once = PTHREAD_ONCE_INIT;

static void load_system(void)
{
	FILE *f = fopen("/etc/hosts", "re");
	if (!f)
		return;
	etchosts_parse(f, &system_hosts);
	fclose(f);
}

bool etchosts_system_has(const char *name)
{
	pthread_once(&system_once, load_system);
	return etchosts_has(&system_hosts, name);
}
