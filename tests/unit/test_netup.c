/*
 * The network bring-up (netup.c) of every family against scripted module
 * answers: a warm module costs exactly the minimal queries; a SIM that
 * needs a PIN, a wrong PIN, PUK, no SIM; slow registration and none within
 * the bound; the context defined only when its APN differs and activated
 * only when inactive; ESP-AT's join and its failure codes; configured
 * values that would break the command line refused before any command.
 * The expected commands are written out here, not taken from the
 * profiles, so a profile that drifts from the agreed table fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "unit_util.h"

#include "dialect.h"
#include "driver_rig.h"
#include "netup.h"

extern const struct dialect dialect_simcom, dialect_neoway, dialect_httpcfg, dialect_quectel,
	dialect_onemo, dialect_espat;

/* A cellular family's commands and answers, as the agreed table has them. */
struct family {
	const struct dialect *d;
	const char *define_query;    /* the command */
	const char *defined;         /* its answer line for APN %s */
	const char *define;          /* defines APN %s (no credentials) */
	/* Credentials "u1" / "p1" with APN "internet": the command(s) sent
	 * after a define, in order ("" none). */
	const char *define_with_auth;
	const char *auth;
	const char *active_query;    /* NULL: no activation step */
	const char *active_on;       /* answer line when active */
	const char *active_off;      /* when inactive; NULL: no line */
	const char *activate;
	const char *address;         /* the address the active answer shows, "" none */
};

static const struct family families[] = {
	{ &dialect_simcom, "AT+CGSOCKCONT?", "+CGSOCKCONT: 1,\"IP\",\"%s\",\"0.0.0.0\",0,0",
	  "AT+CGSOCKCONT=1,\"IP\",\"%s\"", NULL, "AT+CSOCKAUTH=1,1,\"p1\",\"u1\"",
	  NULL, NULL, NULL, NULL, "" },
	{ &dialect_neoway, "AT+CGDCONT?", "+CGDCONT: 1,\"IP\",\"%s\",\"0.0.0.0\",0,0",
	  "AT+CGDCONT=1,\"IP\",\"%s\"", NULL, "AT+XGAUTH=1,1,\"u1\",\"p1\"",
	  "AT+XIIC?", "+XIIC:    1,10.64.1.7", "+XIIC:    0,0.0.0.0", "AT+XIIC=1", "10.64.1.7" },
	{ &dialect_httpcfg, "AT+CGDCONT?", "+CGDCONT: 1,\"IP\",\"%s\",\"0.0.0.0\",0,0",
	  "AT+CGDCONT=1,\"IP\",\"%s\"", NULL, "AT+CGAUTH=1,1,\"u1\",\"p1\"",
	  "AT+CGACT?", "+CGACT: 1,1", "+CGACT: 1,0", "AT+CGACT=1,1", "" },
	{ &dialect_quectel, "AT+QICSGP=1", "+QICSGP: 1,\"%s\",\"\",\"\",1",
	  "AT+QICSGP=1,1,\"%s\",\"\",\"\",1", "AT+QICSGP=1,1,\"internet\",\"u1\",\"p1\",1", NULL,
	  "AT+QIACT?", "+QIACT: 1,1,1,\"10.64.1.7\"", NULL, "AT+QIACT=1", "10.64.1.7" },
	{ &dialect_onemo, "AT+CGDCONT?", "+CGDCONT: 1,\"IP\",\"%s\",\"0.0.0.0\",0,0",
	  "AT+CGDCONT=1,\"IP\",\"%s\"", NULL, "AT+CGAUTH=1,1,\"u1\",\"p1\"",
	  "AT+CGACT?", "+CGACT: 1,1", "+CGACT: 1,0", "AT+CGACT=1,1", "" },
};
#define NFAMILIES (sizeof families / sizeof families[0])

/* ------------------------------------------------------------ script tools */

/* cmd answered by line (NULL: none), then OK. */
static void ok(struct script *sc, const char *cmd, const char *line)
{
	step(sc, fmt("%s\r", cmd), line ? fmt("\r\n%s\r\n\r\nOK\r\n", line) : fmt("\r\nOK\r\n"));
}

/* cmd answered by a final result other than OK, after line (NULL: none). */
static void refused(struct script *sc, const char *cmd, const char *line, const char *final)
{
	step(sc, fmt("%s\r", cmd), line ? fmt("\r\n%s\r\n\r\n%s\r\n", line, final) : fmt("\r\n%s\r\n", final));
}

static void okf(struct script *sc, const char *cmdf, const char *arg, const char *linef, const char *larg)
{
	char cmd[256], line[256];
	snprintf(cmd, sizeof cmd, cmdf, arg);
	if (linef)
		snprintf(line, sizeof line, linef, larg);
	ok(sc, cmd, linef ? line : NULL);
}

static void sim_ready(struct script *sc)
{
	ok(sc, "AT+CPIN?", "+CPIN: READY");
}

static void registered_home(struct script *sc)
{
	ok(sc, "AT+CEREG?", "+CEREG: 0,1");
}

static void context_warm(struct script *sc, const struct family *f, const char *apn)
{
	if (apn)
		okf(sc, f->define_query, NULL, f->defined, apn);
	if (f->active_query)
		ok(sc, f->active_query, f->active_on);
}

/* Plays sc to netup_run of d's profile; the script must go exactly as
 * written (every step, nothing else sent). */
static enum ath_err play(const struct dialect *d, struct script *sc, const struct netup_config *cfg,
			 struct netup_state *st, struct ath_error *err, unsigned seed)
{
	struct rig r;
	rig_init(&r, d, sc->s, sc->n, seed, false);
	ath_error_clear(err);
	enum ath_err e = netup_run(&r.chat, NULL, d->netup, cfg, st, err);
	if (strcmp(script_error(r.tp), "") != 0 || !script_finished(r.tp))
		fprintf(stderr, "  %s: %s (%s)\n", d->name, script_error(r.tp), err->text);
	rig_done(&r);
	return e;
}

static struct netup_config cfg_apn(const char *apn)
{
	return (struct netup_config){ .apn = apn, .register_timeout_ms = 2000, .poll_ms = 1 };
}

static void assert_503(enum ath_err e, const struct ath_error *err, const char *text)
{
	assert_int_equal(e, ATH_E_MODULE);
	assert_int_equal(err->http_status, 503);
	if (!strstr(err->text, text))
		fail_msg("\"%s\" does not say \"%s\"", err->text, text);
}

/* ------------------------------------------------------------ cellular */

/* Warm: SIM READY, registered, the APN defined, the context active: one
 * query per step, nothing set. */
static void test_warm(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		for (unsigned seed = 0; seed < 3; seed++) {
			struct script sc = { 0 };
			sim_ready(&sc);
			registered_home(&sc);
			context_warm(&sc, f, "internet");
			struct netup_config cfg = cfg_apn("internet");
			struct netup_state st = { 0 };
			struct ath_error err;
			assert_int_equal(play(f->d, &sc, &cfg, &st, &err, seed), ATH_OK);
			assert_string_equal(st.sim, "READY");
			assert_int_equal(st.reg_stat, 1);
			assert_string_equal(st.reg_name, "registered (home)");
			assert_string_equal(st.address, f->address);
			script_free(&sc);
		}
	}
}

/* Without an APN configured the context is left as it is: no define query. */
static void test_warm_without_apn(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		struct script sc = { 0 };
		sim_ready(&sc);
		ok(&sc, "AT+CEREG?", "+CEREG: 0,5");
		context_warm(&sc, f, NULL);
		struct netup_config cfg = cfg_apn(NULL);
		struct netup_state st = { 0 };
		struct ath_error err;
		assert_int_equal(play(f->d, &sc, &cfg, &st, &err, 1), ATH_OK);
		assert_int_equal(st.reg_stat, 5);
		script_free(&sc);
	}
}

/* An APN that differs by case only is the same APN (23.003 9.1). */
static void test_apn_case(void **state)
{
	(void)state;
	const struct family *f = &families[2];
	struct script sc = { 0 };
	sim_ready(&sc);
	registered_home(&sc);
	context_warm(&sc, f, "Internet");
	struct netup_config cfg = cfg_apn("internet");
	struct ath_error err;
	assert_int_equal(play(f->d, &sc, &cfg, NULL, &err, 2), ATH_OK);
	script_free(&sc);
}

static void test_pin_needed_none_configured(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		struct script sc = { 0 };
		ok(&sc, "AT+CPIN?", "+CPIN: SIM PIN");
		struct netup_config cfg = cfg_apn("internet");
		struct netup_state st = { 0 };
		struct ath_error err;
		assert_503(play(families[i].d, &sc, &cfg, &st, &err, 0), &err, "SIM needs a PIN (set pin)");
		assert_string_equal(st.sim, "SIM PIN");
		script_free(&sc);
	}
}

static void test_pin_given(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		struct script sc = { 0 };
		ok(&sc, "AT+CPIN?", "+CPIN: SIM PIN");
		ok(&sc, "AT+CPIN=\"1234\"", NULL);
		sim_ready(&sc);
		registered_home(&sc);
		context_warm(&sc, f, "internet");
		struct netup_config cfg = cfg_apn("internet");
		cfg.pin = "1234";
		struct netup_state st = { 0 };
		struct ath_error err;
		assert_int_equal(play(f->d, &sc, &cfg, &st, &err, 4), ATH_OK);
		assert_string_equal(st.sim, "READY");
		assert_false(st.pin_refused);
		script_free(&sc);
	}
}

/* A wrong PIN is sent once: neither this run nor a later one (after a
 * module reset, with the same state) tries it again. */
static void test_wrong_pin_never_retried(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		struct netup_config cfg = cfg_apn("internet");
		cfg.pin = "0000";
		struct netup_state st = { 0 };
		struct ath_error err;
		struct script sc = { 0 };
		ok(&sc, "AT+CPIN?", "+CPIN: SIM PIN");
		refused(&sc, "AT+CPIN=\"0000\"", NULL, "+CME ERROR: 16");
		assert_503(play(families[i].d, &sc, &cfg, &st, &err, 5), &err, "refused the configured PIN");
		assert_int_equal(err.module_code, 16);
		assert_null(strstr(err.text, "0000"));
		assert_true(st.pin_refused);
		script_free(&sc);

		ok(&sc, "AT+CPIN?", "+CPIN: SIM PIN");
		assert_503(play(families[i].d, &sc, &cfg, &st, &err, 6), &err, "not sent again");
		script_free(&sc);
	}
}

static void test_puk_and_no_sim(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		struct netup_config cfg = cfg_apn("internet");
		cfg.pin = "1234";
		struct netup_state st = { 0 };
		struct ath_error err;
		struct script sc = { 0 };
		ok(&sc, "AT+CPIN?", "+CPIN: SIM PUK");
		assert_503(play(families[i].d, &sc, &cfg, &st, &err, 7), &err, "SIM needs SIM PUK");
		script_free(&sc);

		refused(&sc, "AT+CPIN?", NULL, "+CME ERROR: 10");
		assert_503(play(families[i].d, &sc, &cfg, &st, &err, 8), &err, "no SIM");
		assert_string_equal(st.sim, "not inserted");
		script_free(&sc);
	}
}

/* Searching, then registered: every query of a round, then again. */
static void test_slow_registration(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		struct script sc = { 0 };
		sim_ready(&sc);
		ok(&sc, "AT+CEREG?", "+CEREG: 0,2");
		ok(&sc, "AT+CGREG?", "+CGREG: 0,2");
		ok(&sc, "AT+CREG?", "+CREG: 0,0");
		ok(&sc, "AT+CEREG?", "+CEREG: 0,2");
		ok(&sc, "AT+CGREG?", "+CGREG: 0,1");
		context_warm(&sc, f, "internet");
		struct netup_config cfg = cfg_apn("internet");
		struct netup_state st = { 0 };
		struct ath_error err;
		assert_int_equal(play(f->d, &sc, &cfg, &st, &err, 9), ATH_OK);
		assert_int_equal(st.reg_stat, 1);
		script_free(&sc);
	}
}

/* No network: 503 naming the state once the bound has passed, not before
 * and not much after.  A query the module does not have (ERROR) is not
 * asked again.  How many rounds fit in the bound depends on the clock, so
 * the script has more than enough and only its order is checked. */
static void test_no_network(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		struct script sc = { 0 };
		sim_ready(&sc);
		ok(&sc, "AT+CEREG?", "+CEREG: 0,2");
		refused(&sc, "AT+CGREG?", NULL, "ERROR");
		refused(&sc, "AT+CREG?", NULL, "+CME ERROR: 4");
		for (int k = 0; k < 120; k++)
			ok(&sc, "AT+CEREG?", "+CEREG: 0,2");
		struct netup_config cfg = cfg_apn("internet");
		cfg.register_timeout_ms = 200;
		cfg.poll_ms = 20;
		struct netup_state st = { 0 };
		struct ath_error err;
		ath_error_clear(&err);
		struct rig r;
		rig_init(&r, families[i].d, sc.s, sc.n, 3, false);
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		enum ath_err e = netup_run(&r.chat, NULL, families[i].d->netup, &cfg, &st, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
		assert_string_equal(script_error(r.tp), "");
		assert_false(script_finished(r.tp));
		rig_free(&r);
		assert_503(e, &err, "not registered: searching (+CEREG stat 2) after 0.2 s");
		if (ms < 200 || ms >= 1500)
			fail_msg("%s: %ld ms for a 200 ms bound", families[i].d->name, ms);
		assert_int_equal(st.reg_stat, 2);
		assert_string_equal(st.reg_name, "searching");
		script_free(&sc);
	}
}

/* Denied is final: no waiting for the bound. */
static void test_registration_denied(void **state)
{
	(void)state;
	struct script sc = { 0 };
	sim_ready(&sc);
	ok(&sc, "AT+CEREG?", "+CEREG: 0,3");
	ok(&sc, "AT+CGREG?", "+CGREG: 0,3");
	ok(&sc, "AT+CREG?", "+CREG: 0,3");
	struct netup_config cfg = cfg_apn("internet");
	cfg.register_timeout_ms = 60000;
	struct ath_error err;
	assert_503(play(&dialect_httpcfg, &sc, &cfg, NULL, &err, 1), &err,
		   "not registered: registration denied (+CEREG stat 3)");
	script_free(&sc);
}

/* Another APN defined: defined anew, then the rest as warm.  Where the
 * activation is a step of its own, the context is then activated only if
 * inactive. */
static void test_apn_defined_when_different(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		struct script sc = { 0 };
		sim_ready(&sc);
		registered_home(&sc);
		okf(&sc, f->define_query, NULL, f->defined, "cmnet");
		okf(&sc, f->define, "internet", NULL, NULL);
		if (f->active_query) {
			ok(&sc, f->active_query, f->active_off);
			ok(&sc, f->activate, NULL);
			ok(&sc, f->active_query, f->active_on);
		}
		struct netup_config cfg = cfg_apn("internet");
		struct netup_state st = { 0 };
		struct ath_error err;
		assert_int_equal(play(f->d, &sc, &cfg, &st, &err, 10), ATH_OK);
		assert_string_equal(st.address, f->address);
		script_free(&sc);
	}
}

/* Nothing defined at all (a cold module). */
static void test_cold_context(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		struct script sc = { 0 };
		sim_ready(&sc);
		registered_home(&sc);
		ok(&sc, f->define_query, NULL);
		okf(&sc, f->define, "internet", NULL, NULL);
		if (f->active_query) {
			ok(&sc, f->active_query, f->active_off);
			ok(&sc, f->activate, NULL);
			/* up a moment after the OK */
			ok(&sc, f->active_query, f->active_off);
			ok(&sc, f->active_query, f->active_on);
		}
		struct netup_config cfg = cfg_apn("internet");
		struct ath_error err;
		assert_int_equal(play(f->d, &sc, &cfg, NULL, &err, 11), ATH_OK);
		script_free(&sc);
	}
}

/* The APN is right but the context inactive: activation alone. */
static void test_activation_only_when_inactive(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		if (!f->active_query)
			continue;
		struct script sc = { 0 };
		sim_ready(&sc);
		registered_home(&sc);
		okf(&sc, f->define_query, NULL, f->defined, "internet");
		ok(&sc, f->active_query, f->active_off);
		ok(&sc, f->activate, NULL);
		ok(&sc, f->active_query, f->active_on);
		struct netup_config cfg = cfg_apn("internet");
		struct ath_error err;
		assert_int_equal(play(f->d, &sc, &cfg, NULL, &err, 12), ATH_OK);
		script_free(&sc);
	}
}

/* The network refuses the activation (another APN than it accepts). */
static void test_activation_refused(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		if (!f->active_query)
			continue;
		struct script sc = { 0 };
		sim_ready(&sc);
		registered_home(&sc);
		okf(&sc, f->define_query, NULL, f->defined, "internet");
		ok(&sc, f->active_query, f->active_off);
		refused(&sc, f->activate, NULL, "+CME ERROR: 30");
		struct netup_config cfg = cfg_apn("internet");
		struct ath_error err;
		assert_503(play(f->d, &sc, &cfg, NULL, &err, 13), &err, "activating the PDP context failed");
		assert_int_equal(err.module_code, 30);
		script_free(&sc);
	}
}

/* User and password: sent with a (re)definition, in the family's order. */
static void test_credentials(void **state)
{
	(void)state;
	for (size_t i = 0; i < NFAMILIES; i++) {
		const struct family *f = &families[i];
		struct script sc = { 0 };
		sim_ready(&sc);
		registered_home(&sc);
		okf(&sc, f->define_query, NULL, f->defined, "cmnet");
		if (f->define_with_auth) {
			ok(&sc, f->define_with_auth, NULL);
		} else {
			okf(&sc, f->define, "internet", NULL, NULL);
		}
		if (f->active_query)
			ok(&sc, f->active_query, f->active_off);
		if (f->auth)
			ok(&sc, f->auth, NULL);
		if (f->active_query) {
			ok(&sc, f->activate, NULL);
			ok(&sc, f->active_query, f->active_on);
		}
		struct netup_config cfg = cfg_apn("internet");
		cfg.apn_user = "u1";
		cfg.apn_password = "p1";
		struct ath_error err;
		assert_int_equal(play(f->d, &sc, &cfg, NULL, &err, 14), ATH_OK);
		script_free(&sc);
	}
}

/* Quectel's read form shows the credentials: other ones are set again
 * even though the APN is the same. */
static void test_quectel_credentials_compared(void **state)
{
	(void)state;
	struct script sc = { 0 };
	sim_ready(&sc);
	registered_home(&sc);
	ok(&sc, "AT+QICSGP=1", "+QICSGP: 1,\"internet\",\"old\",\"p1\",1");
	ok(&sc, "AT+QICSGP=1,1,\"internet\",\"u1\",\"p1\",1", NULL);
	ok(&sc, "AT+QIACT?", "+QIACT: 1,1,1,\"10.64.1.7\"");
	struct netup_config cfg = cfg_apn("internet");
	cfg.apn_user = "u1";
	cfg.apn_password = "p1";
	struct ath_error err;
	assert_int_equal(play(&dialect_quectel, &sc, &cfg, NULL, &err, 15), ATH_OK);
	script_free(&sc);

	sim_ready(&sc);
	registered_home(&sc);
	ok(&sc, "AT+QICSGP=1", "+QICSGP: 1,\"internet\",\"u1\",\"p1\",1");
	ok(&sc, "AT+QIACT?", "+QIACT: 1,1,1,\"10.64.1.7\"");
	assert_int_equal(play(&dialect_quectel, &sc, &cfg, NULL, &err, 16), ATH_OK);
	script_free(&sc);
}

/* Values that would end the quoted string or the command line are
 * configuration errors before anything is sent (the script is empty:
 * one byte written fails it). */
static void test_hostile_values_refused(void **state)
{
	(void)state;
	static const struct {
		const char *pin, *apn, *user, *password;
	} bad[] = {
		{ NULL, "internet\"\r\nAT+CMGS=\"+100\"", NULL, NULL },
		{ NULL, "internet\r", NULL, NULL },
		{ NULL, "inter\\net", NULL, NULL },
		{ NULL, "", NULL, NULL },
		{ NULL, "internet", "u\"1", "p1" },
		{ NULL, "internet", "u1", "p\n1" },
		{ NULL, "internet", "u1", "p\x1b" },
		{ NULL, NULL, "u1", "p1" },               /* credentials without an APN */
		{ "12a4", "internet", NULL, NULL },
		{ "123", "internet", NULL, NULL },
		{ "123456789", "internet", NULL, NULL },
		{ "1234\"", "internet", NULL, NULL },
	};
	for (size_t i = 0; i < NFAMILIES; i++) {
		for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
			struct script sc = { 0 };
			struct netup_config cfg = cfg_apn(bad[b].apn);
			cfg.pin = bad[b].pin;
			cfg.apn_user = bad[b].user;
			cfg.apn_password = bad[b].password;
			struct ath_error err;
			enum ath_err e = play(families[i].d, &sc, &cfg, NULL, &err, (unsigned)b);
			if (e != ATH_E_CONFIG)
				fail_msg("%s: case %zu: %s", families[i].d->name, b, err.text);
			script_free(&sc);
		}
	}
}

/* ------------------------------------------------------------ WiFi */

static struct netup_config cfg_wifi(const char *ssid, const char *password)
{
	return (struct netup_config){ .wifi_ssid = ssid, .wifi_password = password, .poll_ms = 1 };
}

static void test_espat_warm(void **state)
{
	(void)state;
	for (unsigned seed = 0; seed < 3; seed++) {
		struct script sc = { 0 };
		ok(&sc, "AT+CWJAP?", "+CWJAP:\"athttp-emu\",\"02:00:00:00:00:01\",6,-50,0,1,3,0,0");
		struct netup_config cfg = cfg_wifi("athttp-emu", "athttp-emu");
		struct netup_state st = { 0 };
		struct ath_error err;
		assert_int_equal(play(&dialect_espat, &sc, &cfg, &st, &err, seed), ATH_OK);
		assert_string_equal(st.reg_name, "joined");
		script_free(&sc);
	}
	/* Joined, nothing configured: left as it is. */
	struct script sc = { 0 };
	ok(&sc, "AT+CWJAP?", "+CWJAP:\"somewhere\",\"02:00:00:00:00:01\",6,-50,0,1,3,0,0");
	struct netup_config cfg = cfg_wifi(NULL, NULL);
	struct ath_error err;
	assert_int_equal(play(&dialect_espat, &sc, &cfg, NULL, &err, 4), ATH_OK);
	script_free(&sc);
}

static void test_espat_cold_join(void **state)
{
	(void)state;
	/* Wi-Fi off: the query is an ERROR, the mode 0. */
	struct script sc = { 0 };
	refused(&sc, "AT+CWJAP?", NULL, "ERROR");
	ok(&sc, "AT+CWMODE?", "+CWMODE:0");
	ok(&sc, "AT+CWMODE=1", NULL);
	step(&sc, fmt("AT+CWJAP=\"athttp-emu\",\"secret\"\r"), fmt("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"));
	struct netup_config cfg = cfg_wifi("athttp-emu", "secret");
	struct ath_error err;
	assert_int_equal(play(&dialect_espat, &sc, &cfg, NULL, &err, 1), ATH_OK);
	script_free(&sc);

	/* Joined elsewhere, station mode already (3: with a softAP): no mode change. */
	ok(&sc, "AT+CWJAP?", "+CWJAP:\"other\",\"02:00:00:00:00:01\",6,-50,0,1,3,0,0");
	ok(&sc, "AT+CWMODE?", "+CWMODE:3");
	step(&sc, fmt("AT+CWJAP=\"athttp-emu\",\"secret\"\r"), fmt("WIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"));
	assert_int_equal(play(&dialect_espat, &sc, &cfg, NULL, &err, 2), ATH_OK);
	script_free(&sc);

	/* No AP, no SSID configured. */
	ok(&sc, "AT+CWJAP?", "No AP");
	struct netup_config none = cfg_wifi(NULL, NULL);
	assert_503(play(&dialect_espat, &sc, &none, NULL, &err, 3), &err, "no wifi_ssid configured");
	script_free(&sc);
}

static void test_espat_join_fails(void **state)
{
	(void)state;
	static const struct {
		int code;
		const char *meaning;
	} codes[] = {
		{ 1, "connection timeout" }, { 2, "wrong password" }, { 3, "cannot find the target AP" },
		{ 4, "connection failed" },
	};
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		struct script sc = { 0 };
		ok(&sc, "AT+CWJAP?", "No AP");
		ok(&sc, "AT+CWMODE?", "+CWMODE:1");
		step(&sc, fmt("AT+CWJAP=\"athttp-emu\",\"secret\"\r"), fmt("\r\n+CWJAP:%d\r\n\r\nFAIL\r\n", codes[i].code));
		struct netup_config cfg = cfg_wifi("athttp-emu", "secret");
		struct ath_error err;
		enum ath_err e = play(&dialect_espat, &sc, &cfg, NULL, &err, (unsigned)i);
		char want[128];
		snprintf(want, sizeof want, "+CWJAP:%d (%s)", codes[i].code, codes[i].meaning);
		assert_503(e, &err, want);
		assert_int_equal(err.module_code, codes[i].code);
		assert_null(strstr(err.text, "secret"));
		script_free(&sc);
	}
}

/* ESP-AT's escapes carry '"', '\' and ',' inside the strings; control
 * bytes cannot travel at all. */
static void test_espat_values(void **state)
{
	(void)state;
	struct script sc = { 0 };
	ok(&sc, "AT+CWJAP?", "+CWJAP:\"my \\\"net\\\",x\",\"02:00:00:00:00:01\",6,-50,0,1,3,0,0");
	ok(&sc, "AT+CWMODE?", "+CWMODE:1");
	step(&sc, fmt("AT+CWJAP=\"a\\\"b\\,c\\\\d\",\"p\\\"w\"\r"), fmt("WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n"));
	struct netup_config cfg = cfg_wifi("a\"b,c\\d", "p\"w");
	struct ath_error err;
	assert_int_equal(play(&dialect_espat, &sc, &cfg, NULL, &err, 1), ATH_OK);
	script_free(&sc);

	/* Joined to exactly the escaped SSID the answer shows. */
	ok(&sc, "AT+CWJAP?", "+CWJAP:\"my \\\"net\\\",x\",\"02:00:00:00:00:01\",6,-50,0,1,3,0,0");
	struct netup_config same = cfg_wifi("my \"net\",x", "pw");
	assert_int_equal(play(&dialect_espat, &sc, &same, NULL, &err, 2), ATH_OK);
	script_free(&sc);

	static const char *const bad_ssid[] = { "net\r\nAT+RST", "net\x01", "", "123456789012345678901234567890123" };
	for (size_t b = 0; b < sizeof bad_ssid / sizeof bad_ssid[0]; b++) {
		struct netup_config c = cfg_wifi(bad_ssid[b], "pw");
		assert_int_equal(play(&dialect_espat, &sc, &c, NULL, &err, 3), ATH_E_CONFIG);
	}
	struct netup_config c = cfg_wifi("net", "pw\n");
	assert_int_equal(play(&dialect_espat, &sc, &c, NULL, &err, 3), ATH_E_CONFIG);
	script_free(&sc);
}

static void test_reg_names(void **state)
{
	(void)state;
	assert_string_equal(netup_reg_name(0), "not registered");
	assert_string_equal(netup_reg_name(1), "registered (home)");
	assert_string_equal(netup_reg_name(2), "searching");
	assert_string_equal(netup_reg_name(3), "registration denied");
	assert_string_equal(netup_reg_name(5), "registered (roaming)");
	assert_string_equal(netup_reg_name(-1), "unknown");
	assert_string_equal(netup_reg_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_warm),
		cmocka_unit_test(test_warm_without_apn),
		cmocka_unit_test(test_apn_case),
		cmocka_unit_test(test_pin_needed_none_configured),
		cmocka_unit_test(test_pin_given),
		cmocka_unit_test(test_wrong_pin_never_retried),
		cmocka_unit_test(test_puk_and_no_sim),
		cmocka_unit_test(test_slow_registration),
		cmocka_unit_test(test_no_network),
		cmocka_unit_test(test_registration_denied),
		cmocka_unit_test(test_apn_defined_when_different),
		cmocka_unit_test(test_cold_context),
		cmocka_unit_test(test_activation_only_when_inactive),
		cmocka_unit_test(test_activation_refused),
		cmocka_unit_test(test_credentials),
		cmocka_unit_test(test_quectel_credentials_compared),
		cmocka_unit_test(test_hostile_values_refused),
		cmocka_unit_test(test_espat_warm),
		cmocka_unit_test(test_espat_cold_join),
		cmocka_unit_test(test_espat_join_fails),
		cmocka_unit_test(test_espat_values),
		cmocka_unit_test(test_reg_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
