/* One result line's fields, read left to right (the model is ofono's
 * GAtResultIter): "+CREG: 0,1", "+HTTPACTION: 0,200,1234",
 * "+QHTTPCFG: \"responseheader\",1", "+CGDCONT: (1-15),\"IP\",,,(0-2)".
 *
 * ITU-T V.250 and 3GPP TS 27.007 print information text as fields
 * separated by commas: decimal numbers, strings in double quotes, unquoted
 * words, and in test-form answers "(..)" lists of values and ranges.
 * Every reader is strict: a field that is not what was asked for, or that
 * is followed by anything but blanks and a comma (or the line's end, or a
 * list's ")"), is an error; the iterator then stays where it was, so the
 * caller may try another reader on the same field.  Blanks around fields
 * are allowed, as the manuals print them ("+HTTPREAD: 0"). */
#ifndef ATHTTP_AT_RESULT_ITER_H
#define ATHTTP_AT_RESULT_ITER_H

#include <stdbool.h>
#include <stddef.h>

struct at_result_iter {
	const char *line;
	size_t pos;
	int depth;        /* lists open */
	bool expect;      /* a field may begin at pos */
	bool need_field;  /* after a comma: a field (maybe empty) must follow */
	bool espat;       /* ESP-AT escapes inside quoted strings */
};

void at_result_iter_init(struct at_result_iter *it, const char *line);

/* ESP-AT (ESP-AT User Guide, AT Command Set, "Parameters"): inside a
 * quoted string a backslash takes the next character as it is, so \" is a
 * quote and \\ a backslash.  Without this mode (V.250's and 27.007's
 * strings), a quoted string ends at the first quote after its opening one:
 * it cannot hold a quote, and a backslash is an ordinary character. */
void at_result_iter_espat_escapes(struct at_result_iter *it);

/* Starts at the line's beginning: the line must begin with prefix (NULL or
 * "": any line), which is skipped with the blanks after it. */
bool at_result_iter_next(struct at_result_iter *it, const char *prefix);

/* A decimal number, optionally negative, that fits a long long. */
bool at_result_iter_next_number(struct at_result_iter *it, long long *out);
/* Hexadecimal digits (no 0x), that fit an unsigned long long. */
bool at_result_iter_next_hex(struct at_result_iter *it, unsigned long long *out);
/* "<min>-<max>" or a single "<n>" (then min = max), inside a list. */
bool at_result_iter_next_range(struct at_result_iter *it, long long *min, long long *max);

/* A quoted string, quotes off, into buf (len bytes with its NUL).  One that
 * does not fit, or whose closing quote is missing, is an error. */
bool at_result_iter_next_string(struct at_result_iter *it, char *buf, size_t len);
/* An unquoted field (may be empty), the blanks after it cut off.  A field
 * that begins with a quote is not one. */
bool at_result_iter_next_unquoted(struct at_result_iter *it, char *buf, size_t len);
/* Any one field: a number, a string, a word, a list or nothing. */
bool at_result_iter_skip_next(struct at_result_iter *it);

bool at_result_iter_open_list(struct at_result_iter *it);
bool at_result_iter_close_list(struct at_result_iter *it);

/* Nothing is left: no field after a trailing comma, no list open. */
bool at_result_iter_end(struct at_result_iter *it);

#endif
