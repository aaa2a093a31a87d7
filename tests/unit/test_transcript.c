/*
 * Transcripts: the format (every byte value round-trips, wildcards, errors
 * named by line), the recorder (what it masks), and the replayer (what it
 * accepts, and how it reports a divergence).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "at_syntax.h"
#include "script_transport.h"
#include "transcript.h"
#include "transport.h"
#include "unit_util.h"

static char *escaped(const unsigned char *p, size_t n, const unsigned char *wild)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	transcript_escape(f, p, n, wild);
	fclose(f);
	return buf;
}

static void roundtrip(const unsigned char *p, size_t n)
{
	char *text = escaped(p, n, NULL);
	/* An event line's text: no raw CR, LF or other control byte. */
	for (char *c = text; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && (unsigned char)*c < 0x7f);
	unsigned char *out, *wild;
	size_t outlen;
	char err[100];
	assert_int_equal(transcript_unescape(text, strlen(text), &out, &outlen, &wild, err, sizeof err), 0);
	assert_int_equal(outlen, n);
	assert_memory_equal(out, p, n);
	assert_null(wild);
	free(out);
	free(text);
}

static void test_every_byte_value(void **state)
{
	(void)state;
	unsigned char all[256];
	for (int c = 0; c < 256; c++) {
		unsigned char one = (unsigned char)c;
		roundtrip(&one, 1);
		all[c] = one;
	}
	roundtrip(all, sizeof all);
	/* Escape-like text is data: a backslash then '?', 'x', '{'. */
	const unsigned char tricky[] = "\\?{3}\\x41\\\\ end ";
	roundtrip(tricky, sizeof tricky - 1);
}

static void test_wildcards(void **state)
{
	(void)state;
	unsigned char *out, *wild;
	size_t n;
	char err[100];
	const char text[] = "Date: \\?{29}\\r\\nX";
	assert_int_equal(transcript_unescape(text, sizeof text - 1, &out, &n, &wild, err, sizeof err), 0);
	assert_int_equal(n, 6 + 29 + 3);
	assert_non_null(wild);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(wild[i], i >= 6 && i < 35);
	/* and back */
	char *again = escaped(out, n, wild);
	assert_string_equal(again, text);
	free(again);
	free(out);
	free(wild);
	static const char *const bad[] = { "\\?{0}", "\\?{x}", "\\?{3", "\\?3", "\\q", "\\x4", "ab\\" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(transcript_unescape(bad[i], strlen(bad[i]), &out, &n, &wild, err, sizeof err), -1);
}

static char tmpdir[64];

static char *tmpfile_path(const char *name)
{
	return fmt("%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* A 5 MB random body through the writer and the loader, byte-exact. */
static void test_large_binary_roundtrip(void **state)
{
	(void)state;
	size_t n = 5 * 1024 * 1024;
	unsigned char *body = malloc(n);
	unsigned seed = 42;
	for (size_t i = 0; i < n; i++)
		body[i] = (unsigned char)rand_r(&seed);
	char *path = tmpfile_path("big.at");
	struct transcript_writer *w = transcript_writer_open(path, "simcom", "/dev/null", 115200);
	assert_non_null(w);
	transcript_writer_event(w, '>', (const unsigned char *)"AT+HTTPREAD=0,5242880\r", 22, NULL);
	for (size_t off = 0; off < n; off += 4096)
		transcript_writer_event(w, '<', body + off, n - off < 4096 ? n - off : 4096, NULL);
	transcript_writer_close(w);
	struct transcript t;
	char err[200];
	assert_int_equal(transcript_load(path, &t, err, sizeof err), 0);
	assert_string_equal(t.dialect, "simcom");
	assert_int_equal(t.n, 2);
	assert_int_equal(t.segs[1].dir, '<');
	assert_int_equal(t.segs[1].len, n);
	assert_memory_equal(t.segs[1].bytes, body, n);
	transcript_free(&t);
	free(body);
	free(path);
}

static void test_load_errors_name_the_line(void **state)
{
	(void)state;
	char *path = tmpfile_path("bad.at");
	struct transcript t;
	char err[200];
	write_file(path, TRANSCRIPT_MAGIC "\n> AT\\r\n< OK\\q\n");
	assert_int_equal(transcript_load(path, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad.at:3"));
	write_file(path, TRANSCRIPT_MAGIC "\n< \\?{3}\n");
	assert_int_equal(transcript_load(path, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, ":2: wildcards"));
	write_file(path, "> AT\\r\n");
	assert_int_equal(transcript_load(path, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "not an athttp transcript"));
	free(path);
}

/* A recording cut off inside its last line (the program exited while it
 * was written, here even inside an escape): the whole events load, the
 * cut one is left out. */
static void test_load_cut_last_line(void **state)
{
	(void)state;
	char *path = tmpfile_path("cut.at");
	struct transcript t;
	char err[200];
	write_file(path, TRANSCRIPT_MAGIC "\n> AT\\r\n< OK\\r\\n\n< \\xab\\x0");
	assert_int_equal(transcript_load(path, &t, err, sizeof err), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(t.segs[1].dir, '<');
	assert_int_equal(t.segs[1].len, 4);
	assert_memory_equal(t.segs[1].bytes, "OK\r\n", 4);
	transcript_free(&t);
	free(path);
}

static const char *const no_prompts[] = { NULL };
static const struct at_block_rule blocks[] = {
	{ "+HTTPREAD:", AT_BLOCK_AFTER_LINE, "LEN", false },
	{ "+HTTPHEAD:", AT_BLOCK_AFTER_LINE, NULL, true },
	{ NULL, 0, NULL, false },
};
static const struct at_syntax syntax = { .blocks = blocks, .prompt_lines = no_prompts };

/* Records a conversation through the recorder over a scripted module, and
 * returns the transcript text. */
static char *record_text(const struct script_step *steps, size_t n, unsigned redact,
			 const char *const *writes, const bool *is_data)
{
	char *path = tmpfile_path("rec.at");
	struct transport *inner = script_transport_new(steps, n, 1, 4096);
	struct transport_config cfg = { .path = "/dev/test", .baud = 115200, .dialect = "simcom",
					.syntax = &syntax, .record = path, .redact = redact };
	struct ath_error err;
	ath_error_clear(&err);
	struct transport *t = transport_record_wrap(inner, &cfg, &err);
	assert_non_null(t);
	for (size_t i = 0; writes[i]; i++) {
		if (t->ops->hint)
			t->ops->hint(t, is_data[i] ? TRANSPORT_HINT_DATA : TRANSPORT_HINT_COMMAND);
		assert_int_equal(t->ops->write(t, writes[i], strlen(writes[i]), 1000), ATH_OK);
		char buf[4096];
		ssize_t got;
		while ((got = t->ops->read(t, buf, sizeof buf, 10)) > 0)
			;
	}
	t->ops->close(t);
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 65536);
	size_t r = fread(text, 1, 65535, f);
	text[r] = '\0';
	fclose(f);
	free(path);
	return text;
}

static void test_record_masks(void **state)
{
	(void)state;
	const char *head = "HTTP/1.1 200 OK\r\nSet-Cookie: sid=SECRET\r\nContent-Length: 4\r\n\r\n";
	char *head_reply = fmt("\r\n+HTTPHEAD: %zu\r\n%s\r\nOK\r\n", strlen(head), head);
	const char *body = "--xyzBOUNDARY123\r\nAuthorization: Bearer TOKEN\r\nDate: Sat, 21 Nov 2026 10:00:00 GMT\r\n";
	struct script_step steps[] = {
		{ "AT+HTTPPARA=\"CONTENT\",\"multipart/form-data; boundary=xyzBOUNDARY123\"\r", 0, "\r\nOK\r\n", 0 },
		{ body, 0, "\r\nOK\r\n", 0 },
		{ "AT+HTTPHEAD\r", 0, head_reply, 0 },
		{ "AT+HTTPREAD=0,4\r", 0, "\r\nOK\r\n\r\n+HTTPREAD: DATA,4\r\nBODY\r\n+HTTPREAD:0\r\n", 0 },
	};
	const char *writes[] = { steps[0].expect, body, "AT+HTTPHEAD\r", "AT+HTTPREAD=0,4\r", NULL };
	const bool is_data[] = { false, true, false, false };

	/* Always: the boundary and the request's Date value become wildcards. */
	char *plain = record_text(steps, 4, 0, writes, is_data);
	assert_non_null(strstr(plain, "boundary=\\?{14}"));
	assert_non_null(strstr(plain, "> --\\?{14}\\r\\n"));
	assert_non_null(strstr(plain, "Date: \\?{29}\\r\\n"));
	assert_non_null(strstr(plain, "Bearer TOKEN"));      /* kept without --redact */
	assert_non_null(strstr(plain, "sid=SECRET"));
	assert_non_null(strstr(plain, "BODY"));
	free(plain);

	/* Credentials: wildcards where athttp sends them, x where the module does. */
	char *cred = record_text(steps, 4, TRANSPORT_REDACT_CREDENTIALS, writes, is_data);
	assert_null(strstr(cred, "TOKEN"));
	assert_null(strstr(cred, "SECRET"));
	assert_non_null(strstr(cred, "Authorization: \\?{12}\\r\\n"));
	assert_non_null(strstr(cred, "Set-Cookie: xxxxxxxxxx\\r\\n"));
	assert_non_null(strstr(cred, "BODY"));
	free(cred);

	/* Bodies: the data phase and the HTTPREAD block, not the head. */
	char *bodies = record_text(steps, 4, TRANSPORT_REDACT_BODIES, writes, is_data);
	assert_non_null(strstr(bodies, "+HTTPREAD: DATA,4\\r\\n"));
	assert_non_null(strstr(bodies, "< xxxx\\r\\n"));
	assert_null(strstr(bodies, "BODY"));
	assert_null(strstr(bodies, "TOKEN"));
	assert_non_null(strstr(bodies, "Content-Length: 4"));  /* the head stays */
	free(bodies);
	free(head_reply);
}

static struct transport *replay_of(const char *text)
{
	char *path = tmpfile_path("play.at");
	write_file(path, text);
	struct transport_config cfg = { .dialect = "simcom" };
	struct ath_error err;
	ath_error_clear(&err);
	struct transport *t = transport_replay_open(path, &cfg, &err);
	free(path);
	return t;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void test_replay(void **state)
{
	(void)state;
	const char *text = TRANSCRIPT_MAGIC "\n# dialect simcom\n"
			   "> AT+HTTPPARA=\"URL\",\"http://h/\"\\r\n"
			   "< \\r\\nOK\\r\\n\n"
			   "> Date: \\?{5}\\r\n"
			   "< done\n";
	struct transport *t = replay_of(text);
	assert_non_null(t);
	/* Written in pieces, any split. */
	assert_int_equal(t->ops->write(t, "AT+HTTPPARA=\"URL\",", 18, 100), ATH_OK);
	assert_int_equal(t->ops->write(t, "\"http://h/\"\r", 12, 100), ATH_OK);
	char buf[64];
	ssize_t n = t->ops->read(t, buf, sizeof buf, 100);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "\r\nOK\r\n", 6);
	assert_int_equal(t->ops->write(t, "Date: 12345\r", 12, 100), ATH_OK); /* wildcard */
	n = t->ops->read(t, buf, sizeof buf, 100);
	assert_int_equal(n, 4);
	t->ops->close(t);

	/* A different byte: the error names the line, expected and sent. */
	t = replay_of(text);
	assert_int_equal(t->ops->write(t, "AT+HTTPPARA=\"URL\",\"http://x/\"\r", 30, 100), ATH_E_IO);
	const char *why = t->ops->error(t);
	assert_non_null(strstr(why, "play.at:3: expected \"AT+HTTPPARA=\"URL\",\"http://h/\"\\r\" but athttp sent "
				    "\"AT+HTTPPARA=\"URL\",\"http://x/\"\\r\""));
	t->ops->close(t);

	/* Waiting for an answer the transcript does not have: a divergence
	 * within the grace period, not a hang. */
	t = replay_of(text);
	assert_int_equal(t->ops->write(t, "AT+HTTPPARA=\"URL\",\"http://h/\"\r", 30, 100), ATH_OK);
	assert_int_equal(t->ops->read(t, buf, sizeof buf, 100), 6);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ssize_t r;
	while ((r = t->ops->read(t, buf, sizeof buf, 200)) == 0)
		assert_true(ms_since(&t0) < 2000);
	assert_int_equal(r, -1);
	assert_true(ms_since(&t0) < 1000);
	assert_non_null(strstr(t->ops->error(t), "play.at:5: athttp waits for the module"));
	t->ops->close(t);

	/* Writing past the end. */
	t = replay_of(TRANSCRIPT_MAGIC "\n> AT\\r\n");
	assert_int_equal(t->ops->write(t, "AT\rAT\r", 6, 100), ATH_E_IO);
	assert_non_null(strstr(t->ops->error(t), "ended"));
	t->ops->close(t);

	/* Another dialect's transcript is refused up front. */
	char *path = tmpfile_path("other.at");
	write_file(path, TRANSCRIPT_MAGIC "\n# dialect neoway\n> AT\\r\n");
	struct transport_config cfg = { .dialect = "simcom" };
	struct ath_error err;
	ath_error_clear(&err);
	assert_null(transport_replay_open(path, &cfg, &err));
	assert_non_null(strstr(err.text, "neoway"));
	free(path);
}

/* With pacing, the module's bytes come no sooner than recorded. */
static void test_replay_pace(void **state)
{
	(void)state;
	char *path = tmpfile_path("pace.at");
	write_file(path, TRANSCRIPT_MAGIC "\n> AT\\r\n+300 < \\r\\nOK\\r\\n\n");
	for (int pace = 0; pace <= 1; pace++) {
		struct transport_config cfg = { .dialect = "simcom", .replay_pace = pace };
		struct ath_error err;
		ath_error_clear(&err);
		struct transport *t = transport_replay_open(path, &cfg, &err);
		assert_non_null(t);
		assert_int_equal(t->ops->write(t, "AT\r", 3, 100), ATH_OK);
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		char buf[16];
		assert_int_equal(t->ops->read(t, buf, sizeof buf, 1000), 6);
		long ms = ms_since(&t0);
		if (pace)
			assert_true(ms >= 290 && ms < 600);
		else
			assert_true(ms < 100);
		t->ops->close(t);
	}
	free(path);
}

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/athttp-transcript.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = fmt("rm -rf '%s'", tmpdir);
	int rc = system(cmd);
	free(cmd);
	return rc;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_byte_value),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_large_binary_roundtrip),
		cmocka_unit_test(test_load_errors_name_the_line),
		cmocka_unit_test(test_load_cut_last_line),
		cmocka_unit_test(test_record_masks),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_replay_pace),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
