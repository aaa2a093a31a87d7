/* Growable byte buffer and the few helpers every part of the emulator uses. */
#include "emu.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void out_of_memory(void)
{
	fputs("athttp-emu: out of memory\n", stderr);
	abort();
}

void *emu_calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		out_of_memory();
	return p;
}

char *emu_strndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		out_of_memory();
	return p;
}

/* Room for n more bytes plus the terminating NUL. */
static void reserve(struct emu_buf *b, size_t n)
{
	size_t need = b->len + n + 1;
	size_t cap = b->cap ? b->cap : 64;
	char *p;

	if (need < b->len)
		out_of_memory();
	if (need <= b->cap)
		return;
	while (cap < need)
		cap = cap * 2 > cap ? cap * 2 : need;
	p = realloc(b->data, cap);
	if (!p)
		out_of_memory();
	b->data = p;
	b->cap = cap;
}

void emu_buf_add(struct emu_buf *b, const void *p, size_t n)
{
	reserve(b, n);
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void emu_buf_vaddf(struct emu_buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		abort();
	reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, again);
	va_end(again);
	b->len += (size_t)n;
}

void emu_buf_addf(struct emu_buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	emu_buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void emu_buf_escape(struct emu_buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++) {
		if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '\\')
			emu_buf_add(b, &s[i], 1);
		else
			emu_buf_addf(b, "\\x%02X", s[i]);
	}
}

void emu_buf_free(struct emu_buf *b)
{
	free(b->data);
	*b = (struct emu_buf){ 0 };
}

uint64_t emu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
