/*
 * Family identification (identify.c) against scripted modules in random
 * splits: every dialect has a probe of its own; the one family whose probe
 * answers OK is found and the others ruled out by ERROR or +CME ERROR; a
 * port that fails stops the probing; ATI / AT+CGMM / AT+CGMR lines are
 * joined, repeats dropped, refusals skipped.  -m auto's decision
 * (identify_chat): exactly one OK gives that family; none gives "unknown
 * module" with every probe's answer and what ATI said; two are ambiguous;
 * a port failure is never a family.
 */
#include <setjmp.h>
#include <stdbool.h>
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

/* ------------------------------------------------------------ -m auto's decision */

/* identify_chat against a module answering AT, ATI (ati, or ERROR when
 * NULL), ERROR to AT+CGMM and AT+CGMR, and OK to the probes of the
 * families in ok_names (space-separated), ERROR to the others.  After
 * port_after probes (0: never) the port fails. */
struct auto_run {
	const struct dialect *d;
	struct ath_error err;
	char found[400];
	bool finished;
};

static struct auto_run run_auto(const char *ati, const char *ok_names, size_t port_after,
				unsigned seed)
{
	const struct dialect *d[MAX_D];
	size_t n = dialects(d);
	struct script_step steps[4 + MAX_D];
	char expect[MAX_D][64], ati_reply[200];
	size_t k = 0;
	steps[k++] = (struct script_step){ "AT\r", 0, "\r\nOK\r\n", 0 };
	if (ati)
		snprintf(ati_reply, sizeof ati_reply, "\r\n%s\r\n\r\nOK\r\n", ati);
	steps[k++] = (struct script_step){ "ATI\r", 0, ati ? ati_reply : "\r\nERROR\r\n", 0 };
	steps[k++] = (struct script_step){ "AT+CGMM\r", 0, "\r\nERROR\r\n", 0 };
	steps[k++] = (struct script_step){ "AT+CGMR\r", 0, "\r\n+CME ERROR: 100\r\n", 0 };
	for (size_t i = 0; i < n && (!port_after || i < port_after); i++) {
		char padded[80];
		snprintf(padded, sizeof padded, " %s ", ok_names);
		char name[40];
		snprintf(name, sizeof name, " %s ", d[i]->name);
		snprintf(expect[i], sizeof expect[i], "%s\r", d[i]->identify_probe);
		steps[k++] = (struct script_step){
			.expect = expect[i],
			.reply = strstr(padded, name) ? "\r\n+X: (0-3)\r\n\r\nOK\r\n" : "\r\nERROR\r\n",
		};
	}
	struct transport *tp = script_transport_new(steps, k, seed, 5);
	struct at_chat chat;
	at_chat_init(&chat, tp, NULL, NULL);
	struct auto_run r;
	ath_error_clear(&r.err);
	r.d = identify_chat(&chat, 1000, r.found, sizeof r.found, &r.err);
	r.finished = script_finished(tp);
	if (!port_after)
		assert_string_equal(script_error(tp), "");
	script_transport_free(tp);
	return r;
}

/* Exactly one probe answers OK: that family, with what ATI said. */
static void test_auto_one_family(void **state)
{
	(void)state;
	const struct dialect *d[MAX_D];
	size_t n = dialects(d);
	for (size_t i = 0; i < n; i++)
		for (unsigned seed = 1; seed <= 5; seed++) {
			struct auto_run r = run_auto("Model: X1", d[i]->name, 0, seed);
			assert_ptr_equal(r.d, d[i]);
			char want[200];
			snprintf(want, sizeof want, "%s (ATI: Model: X1)", d[i]->name);
			assert_string_equal(r.found, want);
			assert_true(r.finished);
		}
	/* a module that does not say its model: the probe is named */
	struct auto_run r = run_auto(NULL, "quectel", 0, 7);
	assert_non_null(r.d);
	assert_string_equal(r.found, "quectel (AT+QHTTPCFG=? answered OK)");
}

/* None answers: "unknown module", every probe's answer and ATI's words. */
static void test_auto_unknown(void **state)
{
	(void)state;
	const struct dialect *d[MAX_D];
	size_t n = dialects(d);
	char want[1000];
	size_t o = (size_t)snprintf(want, sizeof want, "unknown module: no family's probe answered "
				    "OK (");
	for (size_t i = 0; i < n; i++)
		o += (size_t)snprintf(want + o, sizeof want - o, "%s%s (%s ERROR)", i ? ", " : "",
				      d[i]->name, d[i]->identify_probe);
	snprintf(want + o, sizeof want - o, "); ATI says \"Acme Widget 3000\"");
	for (unsigned seed = 1; seed <= 5; seed++) {
		struct auto_run r = run_auto("Acme Widget 3000", "", 0, seed);
		assert_null(r.d);
		assert_int_equal(r.err.code, ATH_E_UNSUPPORTED);
		assert_string_equal(r.err.text, want);
		assert_string_equal(r.found, "");
		assert_true(r.finished);
	}
	struct auto_run r = run_auto(NULL, "", 0, 9);
	assert_null(r.d);
	assert_non_null(strstr(r.err.text, "; ATI says nothing"));
}

/* Two answer: ambiguous, both named, neither taken. */
static void test_auto_ambiguous(void **state)
{
	(void)state;
	for (unsigned seed = 1; seed <= 5; seed++) {
		struct auto_run r = run_auto("Model: X1", "simcom onemo", 0, seed);
		assert_null(r.d);
		assert_int_equal(r.err.code, ATH_E_CONFIG);
		assert_string_equal(r.err.text, "ambiguous module: the probes of several families "
				    "answered OK: simcom (AT+HTTPACTION=? OK), onemo (AT+MHTTPCREATE=? "
				    "OK); give -m with the family its manual names");
		assert_string_equal(r.found, "");
	}
}

/* The port fails during the probes: no family, even one that answered OK. */
static void test_auto_port_failure(void **state)
{
	(void)state;
	const struct dialect *d[MAX_D];
	dialects(d);
	for (unsigned seed = 1; seed <= 5; seed++) {
		struct auto_run r = run_auto("Model: X1", d[0]->name, 2, seed);
		assert_null(r.d);
		assert_int_equal(r.err.code, ATH_E_IO);
		char want[200];
		dialects(d);
		snprintf(want, sizeof want, "the port failed while probing %s (%s)", d[2]->name,
			 d[2]->identify_probe);
		assert_string_equal(r.err.text, want);
	}
	/* before any probe: at the first AT */
	struct transport *tp = script_transport_new(NULL, 0, 1, 4);
	struct at_chat chat;
	at_chat_init(&chat, tp, NULL, NULL);
	struct ath_error err;
	ath_error_clear(&err);
	char found[100];
	assert_null(identify_chat(&chat, 500, found, sizeof found, &err));
	assert_int_equal(err.code, ATH_E_IO);
	assert_string_equal(err.text, "the port failed at the first AT");
	script_transport_free(tp);
}

/* A device that is not there: the transport's own words, no family. */
static void test_auto_no_device(void **state)
{
	(void)state;
	char found[100] = "stale";
	struct ath_error err;
	assert_null(identify_device("/nonexistent/tty", 115200, 0, found, sizeof found, &err));
	assert_int_not_equal(err.code, ATH_OK);
	assert_non_null(strstr(err.text, "/nonexistent/tty"));
	assert_string_equal(found, "");
	assert_null(identify_device(NULL, 0, 0, found, sizeof found, &err));
	assert_int_equal(err.code, ATH_E_CONFIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_probes_distinct),
		cmocka_unit_test(test_each_family_found),
		cmocka_unit_test(test_port_failure_stops),
		cmocka_unit_test(test_module_words),
		cmocka_unit_test(test_auto_one_family),
		cmocka_unit_test(test_auto_unknown),
		cmocka_unit_test(test_auto_ambiguous),
		cmocka_unit_test(test_auto_port_failure),
		cmocka_unit_test(test_auto_no_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
