/* What a parser reported, as one byte string two runs can be compared by:
 * tagged records, with data that came in pieces (a block, a stream) joined
 * into one record, so the log does not depend on how input was split. */
#ifndef FUZZ_EVENT_LOG_H
#define FUZZ_EVENT_LOG_H

#include <stddef.h>

struct event_log {
	unsigned char *p;
	size_t len, cap;
	char data_tag;          /* the record being joined, or 0 */
	unsigned char *data;
	size_t data_len, data_cap;
};

/* A record of its own: tag, length, bytes. */
void event_log_add(struct event_log *l, char tag, const void *data, size_t len);
/* Bytes for the joined record of tag (a different tag closes the open
 * one first). */
void event_log_join(struct event_log *l, char tag, const void *data, size_t len);
/* Closes the joined record, if any. */
void event_log_close(struct event_log *l);
void event_log_free(struct event_log *l);

#endif
