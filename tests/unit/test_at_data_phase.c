/*
 * at_data_phase against scripted modules: the command, the prompt, exactly
 * the bytes (binary ones too), the final result; a refusal before the
 * prompt stays one (nothing written after it); a refusal after the bytes
 * is the result; silence before or after the prompt is a timeout at that
 * step.
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

#include "at_data_phase.h"
#include "dialect.h"
#include "driver_rig.h"

#define SEEDS 20

/* A module with nothing of its own: '>' is the only prompt. */
static const struct at_syntax plain_syntax = { 0 };
static const struct dialect_ops plain_ops = { 0 };
static const struct dialect plain = { .name = "plain", .syntax = &plain_syntax, .ops = &plain_ops };

/* Binary, with a CR and a '>' in it: the bytes go as they are. */
static const char payload[] = "a\0b\r>";
#define PAYLOAD_LEN 5

static const struct at_data_phase phase = {
	.cmd = "AT+UP=5", .prompt_ms = 300, .data = payload, .len = PAYLOAD_LEN,
	.data_ms = 1000, .final_ms = 300,
};

struct played {
	enum ath_err e;
	struct at_result r;
	struct at_data_outcome out;
};

/* Runs the phase against steps for every seed; quiet: a module that goes
 * silent where the script ends.  The script must have gone exactly as
 * written (every byte the host wrote). */
static struct played play(const struct script_step *steps, size_t n, bool quiet)
{
	struct played p = { 0 };
	for (unsigned seed = 0; seed < SEEDS; seed++) {
		struct rig r;
		rig_init_split(&r, &plain, steps, n, seed, 1 + seed % 4, quiet);
		struct played now;
		now.e = at_data_phase(&r.chat, &phase, &now.r, &now.out);
		if (seed == 0)
			p = now;
		assert_int_equal(now.e, p.e);
		assert_int_equal(now.r.final, p.r.final);
		assert_int_equal(now.out.prompted, p.out.prompted);
		assert_int_equal(now.out.sent, p.out.sent);
		rig_done(&r);
	}
	return p;
}

static void test_prompt_then_ok(void **state)
{
	(void)state;
	const struct script_step steps[] = {
		{ "AT+UP=5\r", 0, "\r\n> ", 0 },
		{ payload, PAYLOAD_LEN, "\r\nOK\r\n", 0 },
	};
	struct played p = play(steps, 2, false);
	assert_int_equal(p.e, ATH_OK);
	assert_true(p.out.prompted);
	assert_true(p.out.sent);
	assert_int_equal(p.r.final, AT_FINAL_OK);
}

/* The refusal is the result, and no byte of the data goes. */
static void test_error_before_prompt(void **state)
{
	(void)state;
	const struct script_step steps[] = {
		{ "AT+UP=5\r", 0, "\r\nERROR\r\n", 0 },
	};
	struct played p = play(steps, 1, false);
	assert_int_equal(p.e, ATH_OK);
	assert_false(p.out.prompted);
	assert_false(p.out.sent);
	assert_int_equal(p.r.final, AT_FINAL_ERROR);
	assert_string_equal(p.r.text, "ERROR");
}

static void test_prompt_then_cme(void **state)
{
	(void)state;
	const struct script_step steps[] = {
		{ "AT+UP=5\r", 0, "\r\n>", 0 },
		{ payload, PAYLOAD_LEN, "\r\n+CME ERROR: 23\r\n", 0 },
	};
	struct played p = play(steps, 2, false);
	assert_int_equal(p.e, ATH_OK);
	assert_true(p.out.prompted);
	assert_true(p.out.sent);
	assert_int_equal(p.r.final, AT_FINAL_CME);
	assert_int_equal(p.r.code, 23);
	assert_string_equal(p.r.text, "+CME ERROR: 23");
}

/* The bytes went, the module said nothing more. */
static void test_silence_after_prompt(void **state)
{
	(void)state;
	const struct script_step steps[] = {
		{ "AT+UP=5\r", 0, "\r\n> ", 0 },
		{ payload, PAYLOAD_LEN, NULL, 0 },
	};
	struct played p = play(steps, 2, true);
	assert_int_equal(p.e, ATH_E_TIMEOUT);
	assert_true(p.out.prompted);
	assert_true(p.out.sent);
}

/* No prompt and no result: nothing but the command is written. */
static void test_silence_before_prompt(void **state)
{
	(void)state;
	const struct script_step steps[] = {
		{ "AT+UP=5\r", 0, NULL, 0 },
	};
	struct played p = play(steps, 1, true);
	assert_int_equal(p.e, ATH_E_TIMEOUT);
	assert_false(p.out.prompted);
	assert_false(p.out.sent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prompt_then_ok),
		cmocka_unit_test(test_error_before_prompt),
		cmocka_unit_test(test_prompt_then_cme),
		cmocka_unit_test(test_silence_after_prompt),
		cmocka_unit_test(test_silence_before_prompt),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
