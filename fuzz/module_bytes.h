/* A module played from fuzz input: the input is the module's output cut
 * into replies by MODULE_BYTES_SEP, and each write the host makes (a
 * command or a data phase) lets the next reply out, the way a module
 * answers what it is sent.  What the host writes is taken, never checked:
 * unlike the unit tests' script (tests/unit/script_transport.h) the driver
 * may go down any path the bytes lead it to.  Replies come out in pieces
 * of random size (seeded), as a UART delivers them.  Where the host has
 * read everything released so far, one read finds silence (a timeout) and
 * the next a dead port, so every wait ends at once and no time passes. */
#ifndef FUZZ_MODULE_BYTES_H
#define FUZZ_MODULE_BYTES_H

#include <stddef.h>
#include <stdio.h>

#include "transport.h"

/* Ends one reply; two NUL bytes, which AT text never holds. */
#define MODULE_BYTES_SEP "\0\0"
#define MODULE_BYTES_SEP_LEN 2

/* The transport plays data[0..len) (not copied: it must outlive the
 * transport); pieces are 1 to max_piece bytes. */
struct transport *module_bytes_new(const unsigned char *data, size_t len, unsigned seed, size_t max_piece);
/* Writes what the host sends to log (NULL: nothing), for a person
 * checking what a seed drives. */
void module_bytes_log(struct transport *t, FILE *log);
/* How many host writes released a reply (for the verbose report). */
size_t module_bytes_replies(const struct transport *t);
void module_bytes_free(struct transport *t);

#endif
