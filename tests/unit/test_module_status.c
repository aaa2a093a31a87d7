/*
 * module_status against scripted modules: a cellular module's answers
 * (model, firmware, SIM, the first registration query that says
 * registered, operator with a comma inside its quotes, signal, PDP
 * address) land in their fields and stop the registration queries early;
 * refused commands leave their fields empty (the first registration
 * answer kept when none says registered); ATI stands in for AT+CGMM and
 * a "Revision:" prefix is cut; a WiFi family asks AT+GMR, AT+CWJAP? and
 * AT+CIPSTA? and no SIM; hostile module
 * strings are escaped in JSON and in text (no raw control byte, quote or
 * backslash gets out).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "module_status.h"
#include "script_transport.h"

#define OK "\r\nOK\r\n"
#define ERR "\r\nERROR\r\n"

static const char *const cell_reg[] = { "+CEREG", "+CGREG", "+CREG", NULL };
static const struct netup_profile cell_profile = {
	.kind = NETUP_CELLULAR, .cid = 1, .reg_queries = cell_reg,
};
static const struct netup_profile wifi_profile = { .kind = NETUP_WIFI };
static const struct dialect cell_dialect = { .name = "simcom", .netup = &cell_profile };
static const struct dialect wifi_dialect = { .name = "espat", .netup = &wifi_profile };

static void run(const struct script_step *steps, size_t n, const struct dialect *d,
		struct module_status *st)
{
	for (unsigned seed = 0; seed < 5; seed++) {
		struct transport *tp = script_transport_new(steps, n, seed, 1 + seed % 5);
		struct at_chat chat;
		at_chat_init(&chat, tp, NULL, NULL);
		module_status_query(&chat, d, 500, st);
		assert_string_equal(script_error(tp), "");
		assert_true(script_finished(tp));
		script_transport_free(tp);
	}
}

static void cellular_answers_parsed(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ "AT+CGMM\r", 0, "\r\nSIMCOM_SIM7600E-H\r\n" OK, 0 },
		{ "AT+CGMR\r", 0, "\r\n+CGMR: LE20B04SIM7600M22\r\n" OK, 0 },
		{ "AT+CPIN?\r", 0, "\r\n+CPIN: READY\r\n" OK, 0 },
		{ "AT+CEREG?\r", 0, "\r\n+CEREG: 0,2\r\n" OK, 0 },
		{ "AT+CGREG?\r", 0, "\r\n+CGREG: 0,5,\"1A2B\",\"01C3\"\r\n" OK, 0 },
		{ "AT+COPS?\r", 0, "\r\n+COPS: 0,0,\"Op, Inc\",7\r\n" OK, 0 },
		{ "AT+CSQ\r", 0, "\r\n+CSQ: 20,99\r\n" OK, 0 },
		{ "AT+CGPADDR=1\r", 0, "\r\n+CGPADDR: 1,\"10.1.2.3\"\r\n" OK, 0 },
	};
	struct module_status st;
	run(steps, sizeof steps / sizeof steps[0], &cell_dialect, &st);
	assert_string_equal(st.dialect, "simcom");
	assert_string_equal(st.model, "SIMCOM_SIM7600E-H");
	assert_string_equal(st.firmware, "LE20B04SIM7600M22");
	assert_string_equal(st.sim, "READY");
	assert_int_equal(st.reg_stat, 5);
	assert_string_equal(st.registration, netup_reg_name(5));
	assert_string_equal(st.operator_name, "Op, Inc");
	assert_int_equal(st.rssi, 20);
	assert_string_equal(st.address, "10.1.2.3");
	assert_string_equal(st.wifi_ssid, "");
	assert_false(st.from_daemon);

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	module_status_write(&st, false, out);
	fclose(out);
	assert_non_null(strstr(buf, "model: SIMCOM_SIM7600E-H\n"));
	assert_non_null(strstr(buf, "sim: READY\n"));
	assert_non_null(strstr(buf, "reg_stat: 5\n"));
	assert_non_null(strstr(buf, "operator: Op, Inc\n"));
	assert_non_null(strstr(buf, "signal: -73 dBm (rssi 20)\n"));
	assert_non_null(strstr(buf, "address: 10.1.2.3\n"));
	assert_null(strstr(buf, "wifi_ssid"));
	free(buf);
}

static void errors_leave_fields_empty(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ "AT+CGMM\r", 0, ERR, 0 },
		{ "ATI\r", 0, ERR, 0 },
		{ "AT+CGMR\r", 0, "\r\n+CME ERROR: 100\r\n", 0 },
		{ "AT+CPIN?\r", 0, "\r\n+CME ERROR: 10\r\n", 0 },
		{ "AT+CEREG?\r", 0, ERR, 0 },
		{ "AT+CGREG?\r", 0, "\r\n+CGREG: 0,2\r\n" OK, 0 },
		{ "AT+CREG?\r", 0, "\r\n+CREG: 0,3\r\n" OK, 0 },
		{ "AT+COPS?\r", 0, "\r\n+COPS: 0\r\n" OK, 0 },
		{ "AT+CSQ\r", 0, "\r\n+CSQ: 99,99\r\n" OK, 0 },
		{ "AT+CGPADDR=1\r", 0, ERR, 0 },
	};
	struct module_status st;
	run(steps, sizeof steps / sizeof steps[0], &cell_dialect, &st);
	assert_string_equal(st.model, "");
	assert_string_equal(st.firmware, "");
	assert_string_equal(st.sim, "");
	assert_int_equal(st.reg_stat, 2);
	assert_string_equal(st.registration, netup_reg_name(2));
	assert_string_equal(st.operator_name, "");
	assert_int_equal(st.rssi, 99);
	assert_string_equal(st.address, "");

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	module_status_write(&st, true, out);
	fclose(out);
	assert_non_null(strstr(buf, "\"model\":\"\""));
	assert_non_null(strstr(buf, "\"rssi\":null"));
	assert_non_null(strstr(buf, "\"signal_dbm\":null"));
	assert_non_null(strstr(buf, "\"reg_stat\":2"));
	free(buf);
}

static void ati_stands_in_for_cgmm(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ "AT+CGMM\r", 0, ERR, 0 },
		{ "ATI\r", 0, "\r\nManufacturer: ACME\r\nModel: EG25-G\r\nRevision: R1\r\n" OK, 0 },
		{ "AT+CGMR\r", 0, "\r\nRevision: EG25GGBR07A08M2G\r\n" OK, 0 },
		{ "AT+CPIN?\r", 0, "\r\n+CPIN: SIM PIN\r\n" OK, 0 },
		{ "AT+CEREG?\r", 0, "\r\n+CEREG: 2,1,\"00C3\",\"01A2D001\",7\r\n" OK, 0 },
		{ "AT+COPS?\r", 0, ERR, 0 },
		{ "AT+CSQ\r", 0, "\r\n+CSQ: 31,0\r\n" OK, 0 },
		{ "AT+CGPADDR=1\r", 0, "\r\n+CGPADDR: 1,\"0.0.0.0\"\r\n" OK, 0 },
	};
	struct module_status st;
	run(steps, sizeof steps / sizeof steps[0], &cell_dialect, &st);
	assert_string_equal(st.model, "EG25-G");
	assert_string_equal(st.firmware, "EG25GGBR07A08M2G");
	assert_string_equal(st.sim, "SIM PIN");
	assert_int_equal(st.reg_stat, 1);
	assert_int_equal(st.rssi, 31);
}

static void wifi_asks_wifi(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ "AT+GMR\r", 0, "\r\nAT version:2.2.0.0(s-1)\r\nSDK version:v4.0\r\n" OK, 0 },
		{ "AT+CWJAP?\r", 0, "\r\n+CWJAP:\"home, net\",\"02:00:00:00:00:01\",6,-50,0\r\n" OK, 0 },
		{ "AT+CIPSTA?\r", 0, "\r\n+CIPSTA:ip:\"192.168.4.2\"\r\n+CIPSTA:gateway:\"192.168.4.1\"\r\n"
				     "+CIPSTA:netmask:\"255.255.255.0\"\r\n" OK, 0 },
	};
	struct module_status st;
	run(steps, sizeof steps / sizeof steps[0], &wifi_dialect, &st);
	assert_string_equal(st.dialect, "espat");
	assert_string_equal(st.firmware, "2.2.0.0(s-1)");
	assert_string_equal(st.model, "");
	assert_string_equal(st.wifi_ssid, "home, net");
	assert_int_equal(st.rssi, -50);
	assert_string_equal(st.address, "192.168.4.2");
	assert_string_equal(st.sim, "");
	assert_int_equal(st.reg_stat, -1);

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	module_status_write(&st, false, out);
	fclose(out);
	assert_non_null(strstr(buf, "signal: -50 dBm\n"));
	assert_non_null(strstr(buf, "wifi_ssid: home, net\n"));
	assert_null(strstr(buf, "sim:"));
	free(buf);
}

/* ESP-AT escapes a quote, a backslash and a comma in a quoted answer
 * (read as netup reads the same line): the SSID unescaped, the fields
 * after it where they are. */
static void wifi_ssid_escapes_undone(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ "AT+GMR\r", 0, "\r\nAT version:2.2.0.0(s-1)\r\n" OK, 0 },
		{ "AT+CWJAP?\r", 0, "\r\n+CWJAP:\"my \\\"ap\\\\\\,\",\"02:00:00:00:00:01\",6,-61,0\r\n" OK, 0 },
		{ "AT+CIPSTA?\r", 0, "\r\n+CIPSTA:ip:\"192.168.4.2\"\r\n" OK, 0 },
	};
	struct module_status st;
	run(steps, sizeof steps / sizeof steps[0], &wifi_dialect, &st);
	assert_string_equal(st.wifi_ssid, "my \"ap\\,");
	assert_int_equal(st.rssi, -61);
}

static void hostile_strings_escaped(void **state)
{
	(void)state;
	static const struct script_step steps[] = {
		{ "AT+CGMM\r", 0, "\r\nX\"}\x1b[2J\\\x01\xff\r\n" OK, 0 },
		{ "AT+CGMR\r", 0, ERR, 0 },
		{ "AT+CPIN?\r", 0, ERR, 0 },
		{ "AT+CEREG?\r", 0, ERR, 0 },
		{ "AT+CGREG?\r", 0, ERR, 0 },
		{ "AT+CREG?\r", 0, ERR, 0 },
		{ "AT+COPS?\r", 0, "\r\n+COPS: 0,0,\"a\tb\",7\r\n" OK, 0 },
		{ "AT+CSQ\r", 0, "\r\n+CSQ: 5x,99\r\n" OK, 0 },
		{ "AT+CGPADDR=1\r", 0, ERR, 0 },
	};
	struct module_status st;
	run(steps, sizeof steps / sizeof steps[0], &cell_dialect, &st);
	assert_string_equal(st.model, "X\"}\x1b[2J\\\x01\xff");
	assert_int_equal(st.rssi, 99); /* "5x" is no number */

	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	module_status_write(&st, true, out);
	fclose(out);
	assert_non_null(strstr(buf, "\"model\":\"X\\\"}\\u001b[2J\\\\\\u0001\\u00ff\""));
	assert_non_null(strstr(buf, "\"operator\":\"a\\tb\""));
	for (size_t i = 0; i + 1 < len; i++)
		assert_true((unsigned char)buf[i] >= 0x20 && (unsigned char)buf[i] < 0x7f);
	assert_int_equal(buf[len - 1], '\n');
	free(buf);

	buf = NULL;
	out = open_memstream(&buf, &len);
	module_status_write(&st, false, out);
	fclose(out);
	assert_non_null(strstr(buf, "model: X\"}\\x1b[2J\\x5c\\x01\xff\n"));
	assert_null(strchr(buf, '\x1b'));
	free(buf);
}

static void daemon_counters_written(void **state)
{
	(void)state;
	struct module_status st;
	memset(&st, 0, sizeof st);
	st.reg_stat = -1;
	st.rssi = 99;
	snprintf(st.dialect, sizeof st.dialect, "onemo");
	st.from_daemon = true;
	st.module_up = true;
	st.requests = 7;
	st.errors = 1;
	st.clients = 2;
	st.bytes_to_module = 123;
	st.bytes_from_module = 4567;
	st.uptime_s = 60;
	snprintf(st.last_error, sizeof st.last_error, "onemo 503 \"no\"");
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	module_status_write(&st, true, out);
	fclose(out);
	assert_non_null(strstr(buf, "\"from_daemon\":true,\"module_up\":true,\"requests\":7,"
				    "\"errors\":1,\"clients\":2,\"bytes_to_module\":123,"
				    "\"bytes_from_module\":4567,\"uptime_s\":60,"
				    "\"last_error\":\"onemo 503 \\\"no\\\"\"}"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cellular_answers_parsed),
		cmocka_unit_test(errors_leave_fields_empty),
		cmocka_unit_test(ati_stands_in_for_cgmm),
		cmocka_unit_test(wifi_asks_wifi),
		cmocka_unit_test(wifi_ssid_escapes_undone),
		cmocka_unit_test(hostile_strings_escaped),
		cmocka_unit_test(daemon_counters_written),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
