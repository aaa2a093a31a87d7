/* One result line's fields: see at_result_iter.h. */
#include "at_result_iter.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>

static size_t blanks(const char *s, size_t pos)
{
	while (s[pos] == ' ')
		pos++;
	return pos;
}

void at_result_iter_init(struct at_result_iter *it, const char *line)
{
	memset(it, 0, sizeof *it);
	it->line = line;
	it->expect = true;
}

void at_result_iter_espat_escapes(struct at_result_iter *it)
{
	it->espat = true;
}

bool at_result_iter_next(struct at_result_iter *it, const char *prefix)
{
	size_t n = prefix ? strlen(prefix) : 0;
	if (strncmp(it->line, prefix ? prefix : "", n) != 0)
		return false;
	it->pos = blanks(it->line, n);
	it->depth = 0;
	it->expect = true;
	it->need_field = false;
	return true;
}

/* pos is just past a field: only blanks, then a comma, the line's end or
 * (in a list) its ")" may follow.  Commits the iterator on success. */
static bool end_field(struct at_result_iter *it, size_t pos)
{
	pos = blanks(it->line, pos);
	char c = it->line[pos];
	if (c == ',')
		pos++;
	else if (c != '\0' && !(c == ')' && it->depth > 0))
		return false;
	it->pos = pos;
	it->expect = c == ',';
	it->need_field = c == ',';
	return true;
}

static bool read_number(const char *s, size_t *pos, long long *out)
{
	size_t p = blanks(s, *pos);
	bool neg = s[p] == '-';
	if (neg)
		p++;
	if (!isdigit((unsigned char)s[p]))
		return false;
	unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 : (unsigned long long)LLONG_MAX;
	unsigned long long v = 0;
	for (; isdigit((unsigned char)s[p]); p++) {
		unsigned d = (unsigned)(s[p] - '0');
		if (v > (limit - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (!neg)
		*out = (long long)v;
	else if (v == (unsigned long long)LLONG_MAX + 1)
		*out = LLONG_MIN;
	else
		*out = -(long long)v;
	*pos = p;
	return true;
}

bool at_result_iter_next_number(struct at_result_iter *it, long long *out)
{
	size_t p = it->pos;
	long long v;
	if (!it->expect || !read_number(it->line, &p, &v) || !end_field(it, p))
		return false;
	*out = v;
	return true;
}

bool at_result_iter_next_hex(struct at_result_iter *it, unsigned long long *out)
{
	const char *s = it->line;
	size_t p = blanks(s, it->pos);
	if (!it->expect || !isxdigit((unsigned char)s[p]))
		return false;
	unsigned long long v = 0;
	for (; isxdigit((unsigned char)s[p]); p++) {
		if (v > ULLONG_MAX >> 4)
			return false;
		unsigned d = isdigit((unsigned char)s[p]) ? (unsigned)(s[p] - '0')
							  : (unsigned)(tolower((unsigned char)s[p]) - 'a' + 10);
		v = v << 4 | d;
	}
	if (!end_field(it, p))
		return false;
	*out = v;
	return true;
}

bool at_result_iter_next_range(struct at_result_iter *it, long long *min, long long *max)
{
	size_t p = it->pos;
	long long lo, hi;
	if (!it->expect || !read_number(it->line, &p, &lo))
		return false;
	hi = lo;
	if (it->line[p] == '-') {
		p++;
		if (!read_number(it->line, &p, &hi) || hi < lo)
			return false;
	}
	if (!end_field(it, p))
		return false;
	*min = lo;
	*max = hi;
	return true;
}

/* A quoted string from *pos (blanks first), into buf unless buf is NULL;
 * *pos then past its closing quote. */
static bool read_quoted(const struct at_result_iter *it, size_t *pos, char *buf, size_t len)
{
	const char *s = it->line;
	size_t p = blanks(s, *pos), n = 0;
	if (s[p] != '"' || (buf && len == 0))
		return false;
	for (p++;; p++) {
		char c = s[p];
		if (c == '\0')
			return false;
		if (c == '"')
			break;
		if (c == '\\' && it->espat) {
			if (s[p + 1] == '\0')
				return false;
			c = s[++p];
		}
		if (buf) {
			if (n + 1 >= len)
				return false;
			buf[n++] = c;
		}
	}
	if (buf)
		buf[n] = '\0';
	*pos = p + 1;
	return true;
}

bool at_result_iter_next_string(struct at_result_iter *it, char *buf, size_t len)
{
	size_t p = it->pos;
	return it->expect && read_quoted(it, &p, buf, len) && end_field(it, p);
}

/* Where an unquoted field that begins at p ends. */
static size_t unquoted_end(const struct at_result_iter *it, size_t p)
{
	const char *s = it->line;
	while (s[p] && s[p] != ',' && !(s[p] == ')' && it->depth > 0))
		p++;
	return p;
}

bool at_result_iter_next_unquoted(struct at_result_iter *it, char *buf, size_t len)
{
	const char *s = it->line;
	size_t start = blanks(s, it->pos);
	if (!it->expect || s[start] == '"' || len == 0)
		return false;
	size_t stop = unquoted_end(it, start), end = stop;
	while (end > start && s[end - 1] == ' ')
		end--;
	if (end - start >= len)
		return false;
	/* Checked before the copy: a failed read leaves buf and it alone. */
	struct at_result_iter probe = *it;
	if (!end_field(&probe, stop))
		return false;
	memcpy(buf, s + start, end - start);
	buf[end - start] = '\0';
	*it = probe;
	return true;
}

bool at_result_iter_skip_next(struct at_result_iter *it)
{
	const char *s = it->line;
	size_t p = blanks(s, it->pos);
	if (!it->expect)
		return false;
	if (s[p] == '"') {
		if (!read_quoted(it, &p, NULL, 0))
			return false;
	} else if (s[p] == '(') {
		/* A whole list, the strings in it read as strings. */
		int depth = 0;
		do {
			if (s[p] == '"') {
				if (!read_quoted(it, &p, NULL, 0))
					return false;
				continue;
			}
			if (s[p] == '\0')
				return false;
			depth += s[p] == '(' ? 1 : s[p] == ')' ? -1 : 0;
			p++;
		} while (depth > 0);
	} else {
		p = unquoted_end(it, p);
	}
	return end_field(it, p);
}

bool at_result_iter_open_list(struct at_result_iter *it)
{
	size_t p = blanks(it->line, it->pos);
	if (!it->expect || it->line[p] != '(' || it->depth == INT_MAX)
		return false;
	it->pos = p + 1;
	it->depth++;
	it->need_field = false;
	return true;
}

bool at_result_iter_close_list(struct at_result_iter *it)
{
	size_t p = blanks(it->line, it->pos);
	if (it->depth == 0 || it->need_field || it->line[p] != ')')
		return false;
	struct at_result_iter probe = *it;
	probe.depth--;
	if (!end_field(&probe, p + 1))
		return false;
	*it = probe;
	return true;
}

bool at_result_iter_end(struct at_result_iter *it)
{
	return it->depth == 0 && !it->need_field && it->line[blanks(it->line, it->pos)] == '\0';
}
