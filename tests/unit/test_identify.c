/*
 * Family identification (identify.c) against scripted modules in random
 * splits: every dialect has a probe of its own; the one family whose probe
 * answers OK is found and the others ruled out by ERROR or +CME ERROR; a
 * port that fails stops the probing; ATI / AT+CGMM / AT+CGMR lines are
 * joined, repeats dropped, refusals skipped.
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

#include "athttp.h"
#include "identify.h"
#include "script_transport.h"

#define SEEDS 20
#define MAX_D 16

static size_t dialects(const struct dialect **out)
{
	const char *const *names = athttp_dialects();
	size_t n = 0;
	for (size_t i = 0; names[i] && n < MAX_D; i++)
		out[n++] = dialect_find(names[i]);
	return n;
}

/* Each probe present, a harmless test or read command, and no two alike
 * (the twins included: they differ by the prefix). */
static void test_probes_distinct(void **state)
{
	(void)state;
	const struct dialect *d[MAX_D];
	size_t n = dialects(d);
	assert_true(n >= 6);
	for (size_t i = 0; i < n; i++) {
		const char *p = d[i]->identify_probe;
		assert_non_null(p);
		assert_true(strncmp(p, "AT+", 3) == 0);
		size_t len = strlen(p);
		assert_true((len > 2 && strcmp(p + len - 2, "=?") == 0) || p[len - 1] == '?');
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(p, d[j]->identify_probe);
	}
}

/* The module answers OK to the probe of dialect `speaks` only; the others
 * get ERROR, or +CME ERROR for odd ones. */
static void run_families(const char *speaks, unsigned seed)
{
	const struct dialect *d[MAX_D];
	size_t n = dialects(d);
	struct script_step steps[MAX_D];
	char expect[MAX_D][64];
	for (size_t i = 0; i < n; i++) {
		snprintf(expect[i], sizeof expect[i], "%s\r", d[i]->identify_probe);
		steps[i] = (struct script_step){
			.expect = expect[i],
			.reply = strcmp(d[i]->name, speaks) == 0 ? "\r\n+X: (0-3)\r\n\r\nOK\r\n"
				 : i % 2 ? "\r\n+CME ERROR: 58\r\n" : "\r\nERROR\r\n",
		};
	}
	struct transport *tp = script_transport_new(steps, n, seed, 5);
	struct at_chat chat;
	at_chat_init(&chat, tp, NULL, NULL);
	struct identify_probe pr[MAX_D];
	size_t got = identify_families(&chat, 1000, pr, MAX_D);
	assert_int_equal(got, n);
	size_t ok = 0;
	for (size_t i = 0; i < got; i++) {
		assert_ptr_equal(pr[i].dialect, d[i]);
		if (strcmp(d[i]->name, speaks) == 0) {
			assert_int_equal(pr[i].answer, IDENTIFY_OK);
			ok++;
		} else {
			assert_int_equal(pr[i].answer, IDENTIFY_REFUSED);
			assert_string_equal(pr[i].final, i % 2 ? "+CME ERROR: 58" : "ERROR");
		}
	}
	assert_int_equal(ok, 1);
	assert_true(script_finished(tp));
	assert_string_equal(script_error(tp), "");
	script_transport_free(tp);
}

static void test_each_family_found(void **state)
{
	(void)state;
	const struct dialect *d[MAX_D];
	size_t n = dialects(d);
	for (size_t i = 0; i < n; i++)
		for (unsigned seed = 1; seed <= SEEDS; seed++)
			run_families(d[i]->name, seed);
}

/* The port fails after the first answer: probing stops there. */
static void test_port_failure_stops(void **state)
{
	(void)state;
	const struct dialect *d[MAX_D];
	dialects(d);
	char expect[64];
	snprintf(expect, sizeof expect, "%s\r", d[0]->identify_probe);
	const struct script_step steps[] = { { expect, 0, "\r\nERROR\r\n", 0 } };
	struct transport *tp = script_transport_new(steps, 1, 3, 4);
	struct at_chat chat;
	at_chat_init(&chat, tp, NULL, NULL);
	struct identify_probe pr[MAX_D];
	size_t got = identify_families(&chat, 1000, pr, MAX_D);
	assert_int_equal(got, 2);
	assert_int_equal(pr[0].answer, IDENTIFY_REFUSED);
	assert_int_equal(pr[1].answer, IDENTIFY_PORT);
	script_transport_free(tp);
}

static void test_module_words(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= SEEDS; seed++) {
		const struct script_step steps[] = {
			{ "ATI\r", 0, "\r\nManufacturer: ACME\r\nModel: X1\r\n\r\nOK\r\n", 0 },
			{ "AT+CGMM\r", 0, "\r\nModel: X1\r\n\r\nOK\r\n", 0 },
			{ "AT+CGMR\r", 0, "\r\nERROR\r\n", 0 },
		};
		struct transport *tp = script_transport_new(steps, 3, seed, 6);
		struct at_chat chat;
		at_chat_init(&chat, tp, NULL, NULL);
		char out[200];
		assert_int_equal(identify_module(&chat, 1000, out, sizeof out), 2);
		assert_string_equal(out, "Manufacturer: ACME / Model: X1");
		assert_true(script_finished(tp));
		script_transport_free(tp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes_distinct),
		cmocka_unit_test(test_each_family_found),
		cmocka_unit_test(test_port_failure_stops),
		cmocka_unit_test(test_module_words),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
