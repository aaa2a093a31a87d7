/*
 * at_sync against scripted modules: ATE0 follows only an echoed AT,
 * however the module's output is split; a late OK from an earlier AT
 * makes it ask again.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "unit_util.h"

#include "at_sync.h"
#include "dialect.h"
#include "driver_rig.h"

extern const struct dialect dialect_espat;

static void play(const struct script_step *steps, size_t n, unsigned long commands)
{
	for (unsigned seed = 0; seed < 40; seed++) {
		struct rig r;
		/* pieces of 1 to 1 + seed % 4 bytes: the echo split every way */
		rig_init_split(&r, &dialect_espat, steps, n, seed, 1 + seed % 4, false);
		assert_int_equal(at_sync(&r.chat, &r.err), ATH_OK);
		assert_int_equal(r.chat.commands_sent, commands);
		rig_done(&r);
	}
}

/* Power-on: the echo is on, so ATE0. */
static void test_echo_on(void **state)
{
	(void)state;
	const struct script_step steps[] = {
		{ "AT\r", 0, "AT\r\r\nOK\r\n", 0 },
		{ "ATE0\r", 0, "ATE0\r\r\nOK\r\n", 0 },
	};
	play(steps, 2, 2);
	/* lower case echo, as some firmware prints what it got */
	const struct script_step lower[] = {
		{ "AT\r", 0, "at\r\n\r\nOK\r\n", 0 },
		{ "ATE0\r", 0, "\r\nOK\r\n", 0 },
	};
	play(lower, 2, 2);
}

/* A previous process turned it off: AT alone.  Lines that merely hold
 * "AT" are no echo. */
static void test_echo_off(void **state)
{
	(void)state;
	const struct script_step steps[] = {
		{ "AT\r", 0, "\r\nOK\r\n", 0 },
	};
	play(steps, 1, 1);
	const struct script_step urc[] = {
		{ "AT\r", 0, "\r\n+HTTPREAD: DATA,2\r\n\r\nATX\r\nOK\r\n", 0 },
	};
	play(urc, 1, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_on),
		cmocka_unit_test(test_echo_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
