#include "event_log.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void grow(unsigned char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return;
	size_t c = *cap ? *cap : 256;
	while (c < need)
		c *= 2;
	unsigned char *q = realloc(*p, c);
	if (!q)
		abort();
	*p = q;
	*cap = c;
}

static void put(struct event_log *l, char tag, const void *data, size_t len)
{
	uint32_t n = (uint32_t)len;
	grow(&l->p, &l->cap, l->len + 1 + sizeof n + len);
	l->p[l->len++] = (unsigned char)tag;
	memcpy(l->p + l->len, &n, sizeof n);
	l->len += sizeof n;
	if (len)
		memcpy(l->p + l->len, data, len);
	l->len += len;
}

void event_log_close(struct event_log *l)
{
	if (l->data_tag)
		put(l, l->data_tag, l->data, l->data_len);
	l->data_tag = 0;
	l->data_len = 0;
}

void event_log_add(struct event_log *l, char tag, const void *data, size_t len)
{
	event_log_close(l);
	put(l, tag, data, len);
}

void event_log_join(struct event_log *l, char tag, const void *data, size_t len)
{
	if (l->data_tag != tag)
		event_log_close(l);
	l->data_tag = tag;
	grow(&l->data, &l->data_cap, l->data_len + len);
	if (len)
		memcpy(l->data + l->data_len, data, len);
	l->data_len += len;
}

void event_log_free(struct event_log *l)
{
	free(l->p);
	free(l->data);
	memset(l, 0, sizeof *l);
}
