/* What a module says about itself, asked with read commands only; see
 * module_status.h. */
#include "module_status.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "at_result_iter.h"
#include "netup.h"
#include "strbuf.h"

/* 3GPP TS 27.007's registration queries, most recent technology first,
 * for a family whose bring-up names none. */
static const char *const default_reg_queries[] = { "+CEREG", "+CGREG", "+CREG", NULL };
#define DEFAULT_CID 1

/* Sends cmd after dropping stale lines; true when it ended with OK.  The
 * lines it printed stay queued for take(). */
static bool ask(struct at_chat *chat, int timeout_ms, const char *cmd)
{
	struct at_result r;
	at_chat_clear_queue(chat);
	return at_chat_cmd(chat, timeout_ms, &r, "%s", cmd) == ATH_OK && r.final == AT_FINAL_OK;
}

/* The queued line starting with prefix, the prefix and blanks after it
 * cut off. */
static bool take(struct at_chat *chat, const char *prefix, char *out, size_t outlen)
{
	char line[AT_LINE_MAX + 1];
	if (!at_chat_take_line(chat, prefix, line, sizeof line))
		return false;
	const char *v = line + strlen(prefix);
	while (*v == ' ')
		v++;
	str_copy_cut(out, outlen, v);
	return true;
}

/* How quoted strings are read: ESP-AT escapes quotes and backslashes in
 * them (read as netup reads the same answers), 27.007 modules do not. */
enum quoting { PLAIN, ESPAT };

/* Field idx (from 0) of a comma-separated answer, a quoted one unquoted
 * (commas inside quotes do not split), cut to fit out.  False when there
 * is no such field, or it or one before it is malformed. */
static bool field(const char *s, enum quoting q, int idx, char *out, size_t outlen)
{
	struct at_result_iter it;
	char f[AT_LINE_MAX + 1];
	at_result_iter_init(&it, s);
	if (q == ESPAT)
		at_result_iter_espat_escapes(&it);
	for (int i = 0; i < idx; i++)
		if (!at_result_iter_skip_next(&it))
			return false;
	if (!outlen ||
	    (!at_result_iter_next_string(&it, f, sizeof f) && !at_result_iter_next_unquoted(&it, f, sizeof f)))
		return false;
	str_copy_cut(out, outlen, f);
	return true;
}

/* A whole decimal number in [lo, hi] (quoted or not). */
static bool int_field(const char *s, enum quoting q, int idx, int lo, int hi, int *out)
{
	char buf[AT_LINE_MAX + 1];
	struct at_result_iter it;
	long long v;
	if (!field(s, q, idx, buf, sizeof buf))
		return false;
	at_result_iter_init(&it, buf);
	if (!at_result_iter_next_number(&it, &v) || !at_result_iter_end(&it) || v < lo || v > hi)
		return false;
	*out = (int)v;
	return true;
}

/* Where a module names itself, per kind of module: each query fills its
 * field unless an earlier one did; the first line starting with one of
 * its prefixes is taken (the prefix cut off), else its first line. */
struct identity_query {
	const char *cmd;
	const char *const *prefixes;   /* NULL-terminated; NULL: the first line */
	size_t field, fieldlen;
};

#define IDENTITY_FIELD(m) offsetof(struct module_status, m), sizeof ((struct module_status *)0)->m

/* 27.007 AT+CGMM, AT+CGMR; ATI's free text names the model on a
 * "Model:" line on some (SIMCom, Quectel), on its first line on others.
 * Quectel's AT+CGMR prints "Revision: <version>". */
static const char *const cgmr_prefixes[] = { "+CGMR:", "Revision:", NULL };
static const char *const ati_prefixes[] = { "Model:", NULL };
static const struct identity_query cellular_identity[] = {
	{ "AT+CGMM", NULL, IDENTITY_FIELD(model) },
	{ "ATI", ati_prefixes, IDENTITY_FIELD(model) },
	{ "AT+CGMR", cgmr_prefixes, IDENTITY_FIELD(firmware) },
	{ NULL, NULL, 0, 0 },
};
/* The ESP-AT User Guide, Basic AT Commands, AT+GMR: "AT version:<v>",
 * "SDK version:<v>", ... (no 27.007 identity commands). */
static const char *const gmr_prefixes[] = { "AT version:", NULL };
static const struct identity_query wifi_identity[] = {
	{ "AT+GMR", gmr_prefixes, IDENTITY_FIELD(firmware) },
	{ NULL, NULL, 0, 0 },
};

static void query_identity(struct at_chat *chat, const struct identity_query *q, int t,
			   struct module_status *st)
{
	char line[AT_LINE_MAX + 1];
	for (; q->cmd; q++) {
		char *out = (char *)st + q->field;
		if (*out || !ask(chat, t, q->cmd))
			continue;
		bool got = false;
		for (const char *const *p = q->prefixes; p && *p && !got; p++)
			got = take(chat, *p, line, sizeof line);
		if (got || take(chat, "", line, sizeof line))
			str_copy_cut(out, q->fieldlen, line);
	}
}

static void query_cellular(struct at_chat *chat, const struct netup_profile *p, int t,
			   struct module_status *st)
{
	char line[AT_LINE_MAX + 1];

	/* 27.007 AT+CPIN?: +CPIN: <code> ("READY", "SIM PIN", ...). */
	if (ask(chat, t, "AT+CPIN?") && take(chat, "+CPIN:", line, sizeof line))
		str_copy_cut(st->sim, sizeof st->sim, line);

	/* +CxREG: <n>,<stat>[,...]: the first query that says registered,
	 * else what the first one answering said. */
	const char *const *q = p && p->reg_queries ? p->reg_queries : default_reg_queries;
	for (; *q; q++) {
		char cmd[32], prefix[32];
		int stat;
		snprintf(cmd, sizeof cmd, "AT%s?", *q);
		snprintf(prefix, sizeof prefix, "%s:", *q);
		if (!ask(chat, t, cmd) || !take(chat, prefix, line, sizeof line) ||
		    !int_field(line, PLAIN, 1, 0, 11, &stat))
			continue;
		if (st->reg_stat < 0 || stat == 1 || stat == 5)
			st->reg_stat = stat;
		if (stat == 1 || stat == 5)
			break;
	}
	if (st->reg_stat >= 0)
		snprintf(st->registration, sizeof st->registration, "%s",
			 netup_reg_name(st->reg_stat));

	/* AT+COPS?: +COPS: <mode>[,<format>,<oper>[,<AcT>]]. */
	if (ask(chat, t, "AT+COPS?") && take(chat, "+COPS:", line, sizeof line))
		field(line, PLAIN, 2, st->operator_name, sizeof st->operator_name);

	/* AT+CSQ: +CSQ: <rssi>,<ber>. */
	int rssi;
	if (ask(chat, t, "AT+CSQ") && take(chat, "+CSQ:", line, sizeof line) &&
	    int_field(line, PLAIN, 0, 0, 99, &rssi) && (rssi <= 31 || rssi == 99))
		st->rssi = rssi;

	/* AT+CGPADDR=<cid>: +CGPADDR: <cid>,<PDP_addr>. */
	char cmd[32];
	snprintf(cmd, sizeof cmd, "AT+CGPADDR=%d", p && p->cid > 0 ? p->cid : DEFAULT_CID);
	if (ask(chat, t, cmd) && take(chat, "+CGPADDR:", line, sizeof line))
		field(line, PLAIN, 1, st->address, sizeof st->address);
}

static void query_wifi(struct at_chat *chat, int t, struct module_status *st)
{
	char line[AT_LINE_MAX + 1];
	int rssi;

	/* ESP-AT User Guide, Wi-Fi AT Commands: AT+CWJAP? answers
	 * +CWJAP:<ssid>,<bssid>,<channel>,<rssi>,... or "No AP". */
	if (ask(chat, t, "AT+CWJAP?") && take(chat, "+CWJAP:", line, sizeof line)) {
		field(line, ESPAT, 0, st->wifi_ssid, sizeof st->wifi_ssid);
		if (int_field(line, ESPAT, 3, -128, 0, &rssi))
			st->rssi = rssi;
	}
	/* TCP/IP AT Commands, AT+CIPSTA?: +CIPSTA:ip:<"ip">, then gateway
	 * and netmask lines. */
	if (ask(chat, t, "AT+CIPSTA?") && take(chat, "+CIPSTA:ip:", line, sizeof line))
		field(line, ESPAT, 0, st->address, sizeof st->address);
}

void module_status_query(struct at_chat *chat, const struct dialect *d, int timeout_ms,
			 struct module_status *st)
{
	memset(st, 0, sizeof *st);
	st->reg_stat = -1;
	st->rssi = 99;
	st->uptime_s = -1;
	str_copy_cut(st->dialect, sizeof st->dialect, d ? d->name : "");

	const struct netup_profile *p = d ? d->netup : NULL;
	if (p && p->kind == NETUP_WIFI) {
		query_identity(chat, wifi_identity, timeout_ms, st);
		query_wifi(chat, timeout_ms, st);
	} else {
		query_identity(chat, cellular_identity, timeout_ms, st);
		query_cellular(chat, p, timeout_ms, st);
	}
	at_chat_clear_queue(chat);
}

/* ------------------------------------------------------------ output */

/* A module's string as text: control bytes (and backslash) as \xHH, so
 * it cannot move a terminal's cursor or forge a line. */
static void put_text(FILE *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			fprintf(out, "\\x%02x", *p);
		else
			fputc(*p, out);
	}
}

static void put_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			/* Bytes >= 0x80 the module sent need not be UTF-8:
			 * as \u00XX they stay valid JSON either way. */
			if (*p < 0x20 || *p >= 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

/* The signal in dBm: 27.007 +CSQ <rssi> is -113 dBm plus 2 dB a step;
 * WiFi's is dBm already (negative).  False when unknown. */
static bool signal_dbm(const struct module_status *st, int *dbm)
{
	if (st->rssi < 0) {
		*dbm = st->rssi;
		return true;
	}
	if (st->rssi <= 31) {
		*dbm = -113 + 2 * st->rssi;
		return true;
	}
	return false;
}

struct text_field {
	const char *key;
	size_t off;
};

#define STR_FIELD(k, m) { k, offsetof(struct module_status, m) }
static const struct text_field string_fields[] = {
	STR_FIELD("dialect", dialect),
	STR_FIELD("model", model),
	STR_FIELD("firmware", firmware),
	STR_FIELD("sim", sim),
	STR_FIELD("registration", registration),
	STR_FIELD("operator", operator_name),
	STR_FIELD("address", address),
	STR_FIELD("wifi_ssid", wifi_ssid),
};

static const char *str_at(const struct module_status *st, size_t off)
{
	return (const char *)st + off;
}

static void write_text(const struct module_status *st, FILE *out)
{
	int dbm;
	for (size_t i = 0; i < sizeof string_fields / sizeof string_fields[0]; i++) {
		const char *v = str_at(st, string_fields[i].off);
		if (!*v)
			continue;
		fprintf(out, "%s: ", string_fields[i].key);
		put_text(out, v);
		fputc('\n', out);
	}
	if (st->reg_stat >= 0)
		fprintf(out, "reg_stat: %d\n", st->reg_stat);
	if (signal_dbm(st, &dbm)) {
		if (st->rssi >= 0)
			fprintf(out, "signal: %d dBm (rssi %d)\n", dbm, st->rssi);
		else
			fprintf(out, "signal: %d dBm\n", dbm);
	}
	if (!st->from_daemon)
		return;
	fprintf(out, "module_up: %s\n", st->module_up ? "yes" : "no");
	fprintf(out, "requests: %lu\nerrors: %lu\nclients: %lu\n", st->requests, st->errors,
		st->clients);
	fprintf(out, "bytes_to_module: %llu\nbytes_from_module: %llu\n", st->bytes_to_module,
		st->bytes_from_module);
	if (st->uptime_s >= 0)
		fprintf(out, "uptime_s: %ld\n", st->uptime_s);
	if (st->last_error[0]) {
		fputs("last_error: ", out);
		put_text(out, st->last_error);
		fputc('\n', out);
	}
}

static void write_json(const struct module_status *st, FILE *out)
{
	int dbm;
	fputc('{', out);
	for (size_t i = 0; i < sizeof string_fields / sizeof string_fields[0]; i++) {
		fprintf(out, "%s\"%s\":", i ? "," : "", string_fields[i].key);
		put_json_string(out, str_at(st, string_fields[i].off));
	}
	if (st->reg_stat >= 0)
		fprintf(out, ",\"reg_stat\":%d", st->reg_stat);
	else
		fputs(",\"reg_stat\":null", out);
	if (st->rssi != 99)
		fprintf(out, ",\"rssi\":%d", st->rssi);
	else
		fputs(",\"rssi\":null", out);
	if (signal_dbm(st, &dbm))
		fprintf(out, ",\"signal_dbm\":%d", dbm);
	else
		fputs(",\"signal_dbm\":null", out);
	fprintf(out, ",\"from_daemon\":%s", st->from_daemon ? "true" : "false");
	if (st->from_daemon) {
		fprintf(out, ",\"module_up\":%s", st->module_up ? "true" : "false");
		fprintf(out, ",\"requests\":%lu,\"errors\":%lu,\"clients\":%lu", st->requests,
			st->errors, st->clients);
		fprintf(out, ",\"bytes_to_module\":%llu,\"bytes_from_module\":%llu",
			st->bytes_to_module, st->bytes_from_module);
		if (st->uptime_s >= 0)
			fprintf(out, ",\"uptime_s\":%ld", st->uptime_s);
		fputs(",\"last_error\":", out);
		put_json_string(out, st->last_error);
	}
	fputs("}\n", out);
}

void module_status_write(const struct module_status *st, bool json, FILE *out)
{
	if (json)
		write_json(st, out);
	else
		write_text(st, out);
}
