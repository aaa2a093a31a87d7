/*
 * Transcripts of AT conversations (athttp --record, -d replay:FILE).
 *
 * Plain text, one event a line, diffable:
 *
 *   # athttp transcript 1
 *   # athttp 0.1.0
 *   # dialect simcom
 *   +0 > AT\r
 *   +3 < AT\r\r\nOK\r\n
 *   +1 > AT+HTTPPARA="URL","http://example.com/"\r
 *
 * "#" lines are comments; "# dialect NAME" names the dialect.  An event is
 * an optional "+<ms>" (milliseconds since the previous event), a direction
 * ('>' host to module, '<' module to host), one space, and the bytes:
 * printable ASCII as itself, and \r \n \t \\ \xHH for the rest (a trailing
 * space as \x20, so editors cannot lose it).  In host lines, \?{N} stands
 * for N bytes that may differ between runs (a Date header, a multipart
 * boundary, a redacted secret): replay accepts any N bytes there.
 * Consecutive lines of one direction form one stream: how bytes are split
 * into lines (after each LF; binary runs every TRANSCRIPT_LINE_BYTES)
 * carries no meaning.
 */
#ifndef ATH_TRANSCRIPT_H
#define ATH_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define TRANSCRIPT_MAGIC "# athttp transcript 1"
#define TRANSCRIPT_LINE_BYTES 48          /* binary */
#define TRANSCRIPT_TEXT_LINE_BYTES 1024

/* Writes bytes as one event line's text (no direction, no newline).  wild
 * (may be NULL) marks bytes written as \?{N}. */
void transcript_escape(FILE *f, const unsigned char *p, size_t n, const unsigned char *wild);

/* Decodes an event line's text.  Allocates *out (and *wild when the text
 * has wildcards, else NULL).  0, or -1 with a reason in err. */
int transcript_unescape(const char *s, size_t len, unsigned char **out, size_t *outlen,
			unsigned char **wild, char *err, size_t errlen);

/* One direction's run of consecutive lines. */
struct transcript_seg {
	char dir;                    /* '>' or '<' */
	unsigned char *bytes;
	unsigned char *wild;         /* NULL, or 1 for each byte that may differ */
	size_t len;
	long delay_ms;               /* of its first line */
	size_t *line_off;            /* where each of its lines starts in bytes */
	int *line_no;                /* and that line's number in the file */
	size_t n_lines;
	size_t cap, lines_cap;       /* allocated: grown geometrically */
};

struct transcript {
	char *path;
	char dialect[32];
	struct transcript_seg *segs;
	size_t n;
};

int transcript_load(const char *path, struct transcript *t, char *err, size_t errlen);
void transcript_free(struct transcript *t);
/* The file line holding byte off of seg. */
int transcript_line_of(const struct transcript_seg *seg, size_t off);

/* Writing, event by event. */
struct transcript_writer;
struct transcript_writer *transcript_writer_open(const char *path, const char *dialect,
						 const char *device, int baud);
void transcript_writer_event(struct transcript_writer *w, char dir, const unsigned char *p,
			     size_t n, const unsigned char *wild);
void transcript_writer_note(struct transcript_writer *w, const char *text);
void transcript_writer_close(struct transcript_writer *w);

#endif
