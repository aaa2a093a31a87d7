/*
 * Strict AT command-line tokenizer.
 *
 * A line holds exactly one command:
 *   AT                      basic, name ""
 *   AT<letter>[digits]      basic (ATE0, ATI), also AT&<letter>[digits]
 *   AT+NAME                 execute
 *   AT+NAME?                read
 *   AT+NAME=?               test
 *   AT+NAME=arg[,arg]...    set; arg is empty, decimal digits, or "text"
 * Nothing else is accepted: no spaces, no concatenated commands, no unquoted
 * words (unless the dialect asks for EMU_PARSE_WORDS: then an argument may
 * also be a run of printable ASCII without space, quote or comma), no signs,
 * no control bytes inside strings.  Real modules differ in
 * what they forgive; the emulator forgives nothing so that a host which only
 * works thanks to a lenient module is caught in tests.
 *
 * EMU_PARSE_ESPAT selects ESP-AT's string syntax instead: a quoted argument
 * may hold \" \\ and \, (and no other backslash, no bare quote or comma);
 * an unquoted one is any run of bytes but control bytes, quote, backslash
 * and comma, a number when it is all digits.
 */
#include "emu.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct scan {
	char *s;			/* the copy being cut into pieces */
	size_t len, pos;
	unsigned flags;
};

static bool at_end(const struct scan *sc)
{
	return sc->pos >= sc->len;
}

static int peek(const struct scan *sc)
{
	return at_end(sc) ? -1 : (unsigned char)sc->s[sc->pos];
}

static bool take(struct scan *sc, char c)
{
	if (peek(sc) != (unsigned char)c)
		return false;
	sc->pos++;
	return true;
}

static int scan_number(struct scan *sc, unsigned long *out)
{
	unsigned long v = 0;
	size_t start = sc->pos;

	while (!at_end(sc) && isdigit((unsigned char)sc->s[sc->pos])) {
		unsigned d = (unsigned)(sc->s[sc->pos] - '0');

		if (v > (ULONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
		sc->pos++;
	}
	if (sc->pos == start)
		return -1;
	*out = v;
	return 0;
}

/* A quoted string; the closing quote becomes the string's NUL. */
static int scan_string(struct scan *sc, struct emu_arg *arg)
{
	size_t start;

	if (!take(sc, '"'))
		return -1;
	start = sc->pos;
	for (;;) {
		int c = peek(sc);

		if (c < 0)
			return -1;	/* unterminated */
		if (c == '"')
			break;
		if (c < 0x20 || c == 0x7f)
			return -1;
		sc->pos++;
	}
	arg->kind = EMU_ARG_STRING;
	arg->str = sc->s + start;
	arg->len = sc->pos - start;
	sc->s[sc->pos++] = '\0';
	return 0;
}

/* An unquoted argument: a number if it is all digits (and fits), else a
 * word; a NUL replaces the comma after it, so it is checked first. */
static int scan_word(struct scan *sc, struct emu_arg *arg)
{
	size_t start = sc->pos;
	bool digits = true;

	while (!at_end(sc) && sc->s[sc->pos] != ',') {
		int c = (unsigned char)sc->s[sc->pos];

		if (c <= 0x20 || c >= 0x7f || c == '"')
			return -1;
		digits = digits && isdigit(c);
		sc->pos++;
	}
	if (digits) {
		sc->pos = start;
		if (scan_number(sc, &arg->num) == 0) {
			arg->kind = EMU_ARG_NUMBER;
			return 0;
		}
		sc->pos = start;
		while (!at_end(sc) && sc->s[sc->pos] != ',')
			sc->pos++;
	}
	arg->kind = EMU_ARG_WORD;
	arg->str = sc->s + start;
	arg->len = sc->pos - start;
	return 0;
}

/* ESP-AT: a quoted string with \" \\ \, unescaped in place (the text only
 * shrinks, so it never overtakes the scan); the NUL goes where it ends. */
static int scan_esp_string(struct scan *sc, struct emu_arg *arg)
{
	size_t start, out;

	if (!take(sc, '"'))
		return -1;
	start = out = sc->pos;
	for (;;) {
		int c = peek(sc);

		if (c < 0)
			return -1;	/* unterminated */
		if (c == '"')
			break;
		if (c < 0x20 || c == 0x7f || c == ',')
			return -1;	/* a comma inside quotes must be \, */
		if (c == '\\') {
			sc->pos++;
			c = peek(sc);
			if (c != '"' && c != '\\' && c != ',')
				return -1;
		}
		sc->s[out++] = (char)c;
		sc->pos++;
	}
	sc->pos++;			/* the closing quote */
	arg->kind = EMU_ARG_STRING;
	arg->str = sc->s + start;
	arg->len = out - start;
	sc->s[out] = '\0';
	return 0;
}

/* ESP-AT: an unquoted argument runs to the next comma; all digits make it a
 * number (its text kept too: <data> may be digits), anything else a word. */
static int scan_esp_word(struct scan *sc, struct emu_arg *arg)
{
	size_t start = sc->pos, end;
	bool digits = true;

	while (!at_end(sc) && sc->s[sc->pos] != ',') {
		int c = (unsigned char)sc->s[sc->pos];

		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			return -1;
		digits = digits && isdigit(c);
		sc->pos++;
	}
	end = sc->pos;
	arg->kind = EMU_ARG_WORD;
	arg->str = sc->s + start;
	arg->len = end - start;
	if (digits) {
		sc->pos = start;
		if (scan_number(sc, &arg->num) == 0)
			arg->kind = EMU_ARG_NUMBER;
		sc->pos = end;
	}
	return 0;
}

static int scan_arg(struct scan *sc, struct emu_arg *arg)
{
	int c = peek(sc);

	*arg = (struct emu_arg){ .kind = EMU_ARG_OMITTED, .str = "" };
	if (c < 0 || c == ',')
		return 0;
	if (sc->flags & EMU_PARSE_ESPAT)
		return c == '"' ? scan_esp_string(sc, arg) :
				  scan_esp_word(sc, arg);
	if (c == '"')
		return scan_string(sc, arg);
	if (sc->flags & EMU_PARSE_WORDS)
		return scan_word(sc, arg);
	arg->kind = EMU_ARG_NUMBER;
	return scan_number(sc, &arg->num);
}

static int scan_args(struct scan *sc, struct emu_cmd *cmd)
{
	size_t cap = 4;

	cmd->argv = emu_calloc(cap, sizeof(*cmd->argv));
	for (;;) {
		if (cmd->argc == cap) {
			struct emu_arg *a = emu_calloc(cap * 2, sizeof(*a));

			memcpy(a, cmd->argv, cap * sizeof(*a));
			free(cmd->argv);
			cmd->argv = a;
			cap *= 2;
		}
		if (scan_arg(sc, &cmd->argv[cmd->argc]) < 0)
			return -1;
		cmd->argc++;
		if (at_end(sc))
			return 0;
		if (!take(sc, ','))
			return -1;	/* junk after an argument */
		sc->s[sc->pos - 1] = '\0';	/* ends a word before it */
	}
}

static int scan_extended(struct scan *sc, struct emu_cmd *cmd)
{
	size_t start = sc->pos, end;

	sc->pos++;			/* '+' */
	while (!at_end(sc) && (isalnum((unsigned char)sc->s[sc->pos]) ||
			       sc->s[sc->pos] == '_'))
		sc->pos++;
	end = sc->pos;
	if (end == start + 1)
		return -1;
	if (at_end(sc)) {
		cmd->form = EMU_FORM_EXEC;
	} else if (take(sc, '?')) {
		cmd->form = EMU_FORM_READ;
	} else if (take(sc, '=')) {
		if (take(sc, '?')) {
			cmd->form = EMU_FORM_TEST;
		} else {
			cmd->form = EMU_FORM_SET;
			if (scan_args(sc, cmd) < 0)
				return -1;
		}
	} else {
		return -1;
	}
	if (!at_end(sc))
		return -1;
	for (size_t i = start; i < end; i++)
		sc->s[i] = (char)toupper((unsigned char)sc->s[i]);
	sc->s[end] = '\0';
	cmd->name = sc->s + start;
	return 0;
}

static int scan_basic(struct scan *sc, struct emu_cmd *cmd)
{
	size_t start = sc->pos, end;

	cmd->form = EMU_FORM_BASIC;
	take(sc, '&');
	if (!isalpha(peek(sc)))
		return -1;
	sc->pos++;
	end = sc->pos;
	if (!at_end(sc)) {
		if (scan_number(sc, &cmd->num) < 0 || !at_end(sc))
			return -1;
		cmd->has_num = true;
	}
	for (size_t i = start; i < end; i++)
		sc->s[i] = (char)toupper((unsigned char)sc->s[i]);
	sc->s[end] = '\0';
	cmd->name = sc->s + start;
	return 0;
}

int emu_cmd_parse(const char *line, size_t len, unsigned flags,
		  struct emu_cmd *cmd)
{
	struct scan sc;
	int rc;

	*cmd = (struct emu_cmd){ .name = "", .len = len };
	if (len < 2 || toupper((unsigned char)line[0]) != 'A' ||
	    toupper((unsigned char)line[1]) != 'T')
		return -1;
	if (memchr(line, '\0', len))
		return -1;
	cmd->store = emu_strndup(line, len);
	sc = (struct scan){ .s = cmd->store, .len = len, .pos = 2,
			    .flags = flags };
	if (at_end(&sc))
		rc = 0;			/* plain AT */
	else if (peek(&sc) == '+')
		rc = scan_extended(&sc, cmd);
	else
		rc = scan_basic(&sc, cmd);
	if (rc < 0)
		emu_cmd_free(cmd);
	return rc;
}

void emu_cmd_free(struct emu_cmd *cmd)
{
	free(cmd->argv);
	free(cmd->store);
	*cmd = (struct emu_cmd){ .name = "" };
}
