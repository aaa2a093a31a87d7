#include "transcript.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "athttp.h"

void transcript_escape(FILE *f, const unsigned char *p, size_t n, const unsigned char *wild)
{
	for (size_t i = 0; i < n; i++) {
		if (wild && wild[i]) {
			size_t j = i;
			while (j < n && wild[j])
				j++;
			fprintf(f, "\\?{%zu}", j - i);
			i = j - 1;
			continue;
		}
		unsigned char c = p[i];
		if (c == '\r')
			fputs("\\r", f);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c == '\\')
			fputs("\\\\", f);
		else if (c < 0x20 || c >= 0x7f || (c == ' ' && i + 1 == n))
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int transcript_unescape(const char *s, size_t len, unsigned char **out, size_t *outlen,
			unsigned char **wild, char *err, size_t errlen)
{
	/* Wildcards can expand: size the output in a first pass, stepping
	 * over escapes so "\\?" (a backslash, then '?') is no wildcard. */
	size_t cap = 0;
	for (size_t i = 0; i < len; i++, cap++) {
		if (s[i] != '\\' || i + 1 >= len)
			continue;
		if (s[i + 1] != '?') {
			i += s[i + 1] == 'x' ? 3 : 1;
			continue;
		}
		const char *brace = s + i + 2;
		char *end;
		unsigned long n = i + 2 < len && *brace == '{' ? strtoul(brace + 1, &end, 10) : 0;
		if (i + 2 >= len || *brace != '{' || end == brace + 1 || (size_t)(end - s) >= len ||
		    *end != '}' || n == 0 || n > (1u << 24)) {
			snprintf(err, errlen, "bad wildcard (use \\?{N})");
			return -1;
		}
		cap += n - 1;
		i = (size_t)(end - s);
	}
	unsigned char *o = malloc(cap + 1), *w = NULL;
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	size_t k = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c != '\\') {
			o[k++] = (unsigned char)c;
			continue;
		}
		if (++i >= len) {
			snprintf(err, errlen, "a lone backslash at the end of the line");
			goto fail;
		}
		switch (s[i]) {
		case 'r': o[k++] = '\r'; break;
		case 'n': o[k++] = '\n'; break;
		case 't': o[k++] = '\t'; break;
		case '\\': o[k++] = '\\'; break;
		case 'x': {
			int hi = i + 1 < len ? hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? hexval(s[i + 2]) : -1;
			if (hi < 0 || lo < 0) {
				snprintf(err, errlen, "bad \\x escape (use \\xHH)");
				goto fail;
			}
			o[k++] = (unsigned char)(hi * 16 + lo);
			i += 2;
			break;
		}
		case '?': {
			char *end;
			unsigned long n = strtoul(s + i + 2, &end, 10);
			if (!w && !(w = calloc(cap + 1, 1))) {
				snprintf(err, errlen, "out of memory");
				goto fail;
			}
			memset(o + k, '?', n);
			memset(w + k, 1, n);
			k += n;
			i = (size_t)(end - s);
			break;
		}
		default:
			snprintf(err, errlen, "unknown escape \\%c", s[i]);
			goto fail;
		}
	}
	*out = o;
	*outlen = k;
	*wild = w;
	return 0;
fail:
	free(o);
	free(w);
	return -1;
}

/* Grows *p (of elem-sized items) to hold need, doubling: a 50 MB transcript
 * is over a million lines. */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (!q)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

/* Appends a line's bytes to the last segment, or starts one. */
static int seg_add(struct transcript *t, char dir, long delay, int line_no, unsigned char *b,
		   unsigned char *w, size_t n)
{
	struct transcript_seg *s = t->n ? &t->segs[t->n - 1] : NULL;
	if (!s || s->dir != dir) {
		struct transcript_seg *segs = realloc(t->segs, (t->n + 1) * sizeof *segs);
		if (!segs)
			return -1;
		t->segs = segs;
		s = &t->segs[t->n++];
		memset(s, 0, sizeof *s);
		s->dir = dir;
		s->delay_ms = delay;
	}
	size_t bytes_cap = s->cap, lines_cap = s->lines_cap;
	if (grow((void **)&s->bytes, &s->cap, s->len + n + 1, 1))
		return -1;
	if (w || s->wild) {
		size_t wcap = s->wild ? bytes_cap : 0;
		unsigned char *old = s->wild;
		if (grow((void **)&s->wild, &wcap, s->cap, 1))
			return -1;
		if (!old)
			memset(s->wild, 0, s->len);
	}
	size_t lc = lines_cap;
	if (grow((void **)&s->line_off, &lc, s->n_lines + 1, sizeof *s->line_off) ||
	    grow((void **)&s->line_no, &lines_cap, s->n_lines + 1, sizeof *s->line_no))
		return -1;
	s->lines_cap = lines_cap;
	if (s->wild) {
		if (w)
			memcpy(s->wild + s->len, w, n);
		else
			memset(s->wild + s->len, 0, n);
	}
	memcpy(s->bytes + s->len, b, n);
	s->line_off[s->n_lines] = s->len;
	s->line_no[s->n_lines++] = line_no;
	s->len += n;
	return 0;
}

int transcript_load(const char *path, struct transcript *t, char *err, size_t errlen)
{
	memset(t, 0, sizeof *t);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot open transcript %s: %s", path, strerror(errno));
		return -1;
	}
	t->path = strdup(path);
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int no = 0;
	bool magic = false;
	while ((got = getline(&line, &cap, f)) >= 0) {
		no++;
		/* A last line without its line end is an event the recorder
		 * was writing when the program exited (the kernel cuts a write
		 * short for a dying process): every event before it is whole,
		 * this one is not, so it is left out.  A replay that needs its
		 * bytes then fails where the live run would have gone on. */
		if (got == 0 || line[got - 1] != '\n')
			break;
		size_t len = (size_t)got;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		line[len] = '\0';
		if (no == 1 && strcmp(line, TRANSCRIPT_MAGIC) == 0) {
			magic = true;
			continue;
		}
		if (len == 0)
			continue;
		if (line[0] == '#') {
			if (strncmp(line, "# dialect ", 10) == 0)
				snprintf(t->dialect, sizeof t->dialect, "%s", line + 10);
			continue;
		}
		char *p = line;
		long delay = 0;
		if (*p == '+') {
			char *end;
			delay = strtol(p + 1, &end, 10);
			if (end == p + 1 || *end != ' ' || delay < 0) {
				snprintf(err, errlen, "%s:%d: bad timing (use +<ms>)", path, no);
				goto fail;
			}
			p = end + 1;
		}
		if ((*p != '>' && *p != '<') || (p[1] != ' ' && p[1] != '\0')) {
			snprintf(err, errlen, "%s:%d: an event starts with '> ' or '< '", path, no);
			goto fail;
		}
		char dir = *p;
		const char *text = p[1] ? p + 2 : p + 1;
		unsigned char *b, *w;
		size_t n;
		char why[96];
		if (transcript_unescape(text, strlen(text), &b, &n, &w, why, sizeof why)) {
			snprintf(err, errlen, "%s:%d: %s", path, no, why);
			goto fail;
		}
		if (w && dir == '<') {
			free(b);
			free(w);
			snprintf(err, errlen, "%s:%d: wildcards are for what athttp sends ('>' lines) only",
				 path, no);
			goto fail;
		}
		int rc = seg_add(t, dir, delay, no, b, w, n);
		free(b);
		free(w);
		if (rc) {
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
	}
	free(line);
	fclose(f);
	if (!magic) {
		snprintf(err, errlen, "%s is not an athttp transcript (first line must be \"%s\")", path,
			 TRANSCRIPT_MAGIC);
		transcript_free(t);
		return -1;
	}
	return 0;
fail:
	free(line);
	fclose(f);
	transcript_free(t);
	return -1;
}

void transcript_free(struct transcript *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->segs[i].bytes);
		free(t->segs[i].wild);
		free(t->segs[i].line_off);
		free(t->segs[i].line_no);
	}
	free(t->segs);
	free(t->path);
	memset(t, 0, sizeof *t);
}

int transcript_line_of(const struct transcript_seg *seg, size_t off)
{
	size_t i = 0;
	while (i + 1 < seg->n_lines && seg->line_off[i + 1] <= off)
		i++;
	return seg->n_lines ? seg->line_no[i] : 0;
}

struct transcript_writer {
	int fd;
	struct timespec last;
};

/* Writes all of buf.  One write per event, of whole lines: a program that
 * exits while its engine thread records leaves a transcript that ends at an
 * event's end, never inside a line. */
static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a recording that cannot be written must not stop the exchange */
		buf += n;
		len -= (size_t)n;
	}
}

struct transcript_writer *transcript_writer_open(const char *path, const char *dialect,
						 const char *device, int baud)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	struct transcript_writer *w = calloc(1, sizeof *w);
	if (!w) {
		close(fd);
		return NULL;
	}
	w->fd = fd;
	time_t now = time(NULL);
	struct tm tm;
	char when[32], head[600];
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	int n = snprintf(head, sizeof head, "%s\n# athttp %s\n# dialect %s\n# device %s %d baud\n# recorded %s\n",
			 TRANSCRIPT_MAGIC, ATHTTP_VERSION, dialect, device, baud, when);
	write_all(fd, head, n < (int)sizeof head ? (size_t)n : sizeof head - 1);
	clock_gettime(CLOCK_MONOTONIC, &w->last);
	return w;
}

void transcript_writer_event(struct transcript_writer *w, char dir, const unsigned char *p,
			     size_t n, const unsigned char *wild)
{
	if (!w || !n)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - w->last.tv_sec) * 1000 + (now.tv_nsec - w->last.tv_nsec) / 1000000;
	w->last = now;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return;
	for (size_t i = 0; i < n;) {
		/* A line per LF; binary runs in short lines, text in long ones. */
		size_t j = i;
		bool binary = false;
		while (j < n && p[j] != '\n' && j - i < (binary ? TRANSCRIPT_LINE_BYTES : TRANSCRIPT_TEXT_LINE_BYTES)) {
			binary |= (p[j] < 0x20 && p[j] != '\r' && p[j] != '\t') || p[j] >= 0x7f;
			j++;
		}
		if (j < n && p[j] == '\n')
			j++;
		fprintf(f, "+%ld %c ", i == 0 ? ms : 0, dir);
		transcript_escape(f, p + i, j - i, wild ? wild + i : NULL);
		fputc('\n', f);
		i = j;
	}
	fclose(f);
	write_all(w->fd, buf, len);
	free(buf);
}

void transcript_writer_note(struct transcript_writer *w, const char *text)
{
	if (!w)
		return;
	char *line = NULL;
	int n = asprintf(&line, "# %s\n", text);
	if (n > 0)
		write_all(w->fd, line, (size_t)n);
	free(line);
}

void transcript_writer_close(struct transcript_writer *w)
{
	if (!w)
		return;
	close(w->fd);
	free(w);
}
