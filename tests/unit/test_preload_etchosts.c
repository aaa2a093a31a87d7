/* /etc/hosts name matching of the preload library (preload/etchosts.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "etchosts.h"

static void parse_string(const char *text, struct etchosts *h)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(f);
	assert_int_equal(etchosts_parse(f, h), 0);
	fclose(f);
}

static void names_and_aliases(void **state)
{
	(void)state;
	struct etchosts h;
	parse_string("# comment line with names.example\n"
		     "127.0.0.1\tlocalhost\n"
		     "127.0.1.1  board.lan board   # the board itself\n"
		     "\n"
		     "   \n"
		     "192.168.1.10 NAS.Lan nas\n"
		     "::1     ip6-localhost ip6-loopback\n"
		     "fe00::0 ip6-localnet\n"
		     "10.0.0.5 pinned.example.com.\n"
		     "10.0.0.6\n"
		     "10.0.0.7 last.example", &h);

	assert_true(etchosts_has(&h, "localhost"));
	assert_true(etchosts_has(&h, "board.lan"));
	assert_true(etchosts_has(&h, "board"));
	assert_true(etchosts_has(&h, "nas.lan"));          /* case-insensitive */
	assert_true(etchosts_has(&h, "NAS"));
	assert_true(etchosts_has(&h, "ip6-loopback"));
	assert_true(etchosts_has(&h, "pinned.example.com")); /* trailing dot both ways */
	assert_true(etchosts_has(&h, "pinned.example.com."));
	assert_true(etchosts_has(&h, "board.lan."));
	assert_true(etchosts_has(&h, "last.example"));      /* no final newline */

	assert_false(etchosts_has(&h, "names.example"));    /* only in a comment */
	assert_false(etchosts_has(&h, "the"));
	assert_false(etchosts_has(&h, "127.0.0.1"));        /* addresses are not names */
	assert_false(etchosts_has(&h, "192.168.1.10"));
	assert_false(etchosts_has(&h, "10.0.0.6"));
	assert_false(etchosts_has(&h, "example.com"));
	assert_false(etchosts_has(&h, "boar"));
	assert_false(etchosts_has(&h, ""));
	assert_false(etchosts_has(&h, NULL));
	etchosts_free(&h);
	assert_false(etchosts_has(&h, "localhost"));
}

static void empty_and_overlong(void **state)
{
	(void)state;
	struct etchosts h;
	parse_string("", &h);
	assert_int_equal(h.n, 0);
	assert_false(etchosts_has(&h, "localhost"));
	etchosts_free(&h);

	/* A line longer than the reader's buffer: its start still counts, its
	 * tail does not become a line of its own. */
	static char text[4096];
	strcpy(text, "10.1.1.1 long.example");
	size_t n = strlen(text);
	for (int i = 0; i < 200; i++) {
		memcpy(text + n, " aliasxxxxx", 11);
		n += 11;
	}
	strcpy(text + n, " tail.example\n10.1.1.2 next.example\n");
	parse_string(text, &h);
	assert_true(etchosts_has(&h, "long.example"));
	assert_true(etchosts_has(&h, "next.example"));
	assert_false(etchosts_has(&h, "tail.example"));
	etchosts_free(&h);
}

static void system_file(void **state)
{
	(void)state;
	/* Whatever /etc/hosts holds, the call is safe and consistent. */
	bool first = etchosts_system_has("localhost");
	assert_int_equal(etchosts_system_has("LOCALHOST"), first);
	assert_false(etchosts_system_has("surely-not-listed.invalid"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_and_aliases),
		cmocka_unit_test(empty_and_overlong),
		cmocka_unit_test(system_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
