/* Fuzz target: the transcript loader (transcript.h), which reads files a
 * person may have edited by hand (-d replay:FILE).
 *
 * Input: the file's bytes, loaded from a memory file by its /proc path.
 *
 * Checked besides memory safety: a loaded transcript's segments keep
 * their promises (direction '<' or '>', line offsets inside the bytes and
 * in order, line numbers rising, transcript_line_of naming one of them);
 * and what the writer's escaping makes of a segment's bytes decodes back
 * to the same bytes and wildcards (transcript_escape/transcript_unescape
 * are each other's inverse). */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "transcript.h"

static void check_round_trip(const struct transcript_seg *s)
{
	char *text = NULL;
	size_t tlen = 0;
	FILE *f = open_memstream(&text, &tlen);
	FUZZ_CHECK(f, "open_memstream failed");
	transcript_escape(f, s->bytes, s->len, s->wild);
	fclose(f);
	FUZZ_CHECK(!memchr(text, '\n', tlen), "escaped text holds a line break");
	unsigned char *out = NULL, *wild = NULL;
	size_t olen = 0;
	char why[200];
	FUZZ_CHECK(transcript_unescape(text, tlen, &out, &olen, &wild, why, sizeof why) == 0,
		   "the loader refuses what the writer wrote: %s", why);
	FUZZ_CHECK(olen == s->len && (!olen || memcmp(out, s->bytes, olen) == 0),
		   "escaping does not round-trip (%zu bytes became %zu)", s->len, olen);
	for (size_t i = 0; i < olen; i++) {
		bool a = s->wild && s->wild[i], b = wild && wild[i];
		if (a)
			FUZZ_CHECK(b, "a wildcard byte lost in the round trip at %zu", i);
		else
			FUZZ_CHECK(!b || !s->wild, "a wildcard appeared in the round trip at %zu", i);
	}
	free(out);
	free(wild);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz-transcript", MFD_CLOEXEC);
	FUZZ_CHECK(fd >= 0, "memfd_create failed");
	FUZZ_CHECK(write(fd, data, size) == (ssize_t)size, "memfd write failed");
	char path[64];
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	struct transcript t;
	char why[300];
	if (transcript_load(path, &t, why, sizeof why) == 0) {
		for (size_t i = 0; i < t.n; i++) {
			const struct transcript_seg *s = &t.segs[i];
			FUZZ_CHECK(s->dir == '<' || s->dir == '>', "segment %zu has direction %d", i, s->dir);
			FUZZ_CHECK(s->n_lines > 0, "segment %zu has no lines", i);
			for (size_t k = 0; k < s->n_lines; k++) {
				FUZZ_CHECK(s->line_off[k] <= s->len, "segment %zu line %zu starts past its bytes", i, k);
				if (k) {
					FUZZ_CHECK(s->line_off[k] >= s->line_off[k - 1], "segment %zu lines out of order", i);
					FUZZ_CHECK(s->line_no[k] > s->line_no[k - 1], "segment %zu line numbers fall", i);
				}
			}
			for (size_t off = 0; off < s->len; off += 1 + s->len / 8) {
				int no = transcript_line_of(s, off);
				FUZZ_CHECK(no >= s->line_no[0] && no <= s->line_no[s->n_lines - 1],
					   "byte %zu of segment %zu on line %d, outside %d..%d", off, i, no, s->line_no[0],
					   s->line_no[s->n_lines - 1]);
			}
			check_round_trip(s);
		}
		transcript_free(&t);
	} else {
		FUZZ_CHECK(why[0], "a transcript refused without a reason");
	}
	close(fd);
	return 0;
}
