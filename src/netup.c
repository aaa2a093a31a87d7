/*
 * The network bring-up runner: reads a family's netup_profile and asks
 * the module for its state before every step, acting only where the
 * state asks for it.  Order: SIM, registration, context (an activation
 * needs the network), or for WiFi: the access point.
 *
 * The configured values are checked before the first command: a value
 * that cannot travel inside the family's quoted strings is a
 * configuration error, never a command of its own on the line.
 */
#include "netup.h"
#include "strbuf.h"
#include "clock.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "at_result_iter.h"
#include "at_sync.h"

#define NETUP_CMD_MS 5000
/* 3GPP TS 23.003 9.1: an APN is at most 100 octets. */
#define NETUP_MAX_APN 100
#define NETUP_MAX_CRED 64
/* IEEE 802.11: an SSID is at most 32 octets; a WPA passphrase 63 (64 hex). */
#define NETUP_MAX_SSID 32
#define NETUP_MAX_WIFI_PASSWORD 64
/* How long the SIM may take to say READY after its PIN was taken. */
#define NETUP_PIN_SETTLE_MS 5000
#define NETUP_FIELD_MAX 128

struct run {
	struct at_chat *chat;
	struct trace *trace;
	const struct netup_profile *p;
	const struct netup_config *cfg;
	struct netup_state *st;
	struct ath_error *err;
	int poll_ms;
};

static void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int cmd_ms(const struct run *rn)
{
	return rn->p->command_timeout_ms > 0 ? rn->p->command_timeout_ms : NETUP_CMD_MS;
}

/* A network state failure: the module is in step, the network is not
 * there for the request; 503 for the client. */
static enum ath_err net_fail(struct ath_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum ath_err net_fail(struct ath_error *err, int code, const char *fmt, ...)
{
	char text[sizeof err->text];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return ath_fail_status(err, ATH_E_MODULE, 503, code, "%s", text);
}

/* "60 s", "0.2 s": the bound as a person reads it. */
static void seconds(char *out, size_t len, int ms)
{
	if (ms % 1000 == 0)
		snprintf(out, len, "%d s", ms / 1000);
	else
		snprintf(out, len, "%.1f s", ms / 1000.0);
}

/* ------------------------------------------------------------ values */

/* Can v travel in a quoted string under q?  NULL: yes; else why not. */
static const char *value_refused(enum netup_quoting q, const char *v)
{
	for (const unsigned char *s = (const unsigned char *)v; *s; s++) {
		if (*s < 0x20 || *s == 0x7f)
			return "a control byte (CR, LF, ...)";
		if (q == NETUP_QUOTE_PLAIN && *s == '"')
			return "a '\"'";
		if (q == NETUP_QUOTE_PLAIN && *s == '\\')
			return "a backslash";
	}
	return NULL;
}

static enum ath_err check_value(const struct run *rn, const char *key, const char *v, size_t min,
				size_t max)
{
	if (!v)
		return ATH_OK;
	size_t n = strlen(v);
	if (n < min || n > max)
		return ath_fail(rn->err, ATH_E_CONFIG, -1, "%s must be %zu to %zu bytes long (it is %zu)",
				key, min, max, n);
	const char *why = value_refused(rn->p->quoting, v);
	if (why)
		return ath_fail(rn->err, ATH_E_CONFIG, -1, "%s cannot hold %s: the module's AT strings cannot carry it",
				key, why);
	return ATH_OK;
}

static enum ath_err check_config(const struct run *rn)
{
	const struct netup_config *c = rn->cfg;
	const struct netup_profile *p = rn->p;
	enum ath_err e = ATH_OK;
	if (p->kind == NETUP_CELLULAR) {
		if (c->pin) {
			size_t n = strlen(c->pin);
			if (n < 4 || n > 8 || strspn(c->pin, "0123456789") != n)
				return ath_fail(rn->err, ATH_E_CONFIG, -1, "pin must be 4 to 8 digits");
		}
		if ((c->apn_user || c->apn_password) && !c->apn)
			return ath_fail(rn->err, ATH_E_CONFIG, -1, "apn_user and apn_password need apn");
		if ((c->apn_user || c->apn_password) && !p->auth_ctx && !p->define_carries_auth)
			return ath_fail(rn->err, ATH_E_CONFIG, -1, "this module family takes no APN user or password");
		if (e == ATH_OK)
			e = check_value(rn, "apn", c->apn, 1, NETUP_MAX_APN);
		if (e == ATH_OK)
			e = check_value(rn, "apn_user", c->apn_user, 0, NETUP_MAX_CRED);
		if (e == ATH_OK)
			e = check_value(rn, "apn_password", c->apn_password, 0, NETUP_MAX_CRED);
	} else if (p->kind == NETUP_WIFI) {
		if (c->wifi_password && !c->wifi_ssid)
			return ath_fail(rn->err, ATH_E_CONFIG, -1, "wifi_password needs wifi_ssid");
		e = check_value(rn, "wifi_ssid", c->wifi_ssid, 1, NETUP_MAX_SSID);
		if (e == ATH_OK)
			e = check_value(rn, "wifi_password", c->wifi_password, 0, NETUP_MAX_WIFI_PASSWORD);
	}
	return e;
}

/* Appends v (already checked) to out as the quoting rule writes it. */
static bool put_value(enum netup_quoting q, const char *v, char *out, size_t len, size_t *at)
{
	for (const char *s = v ? v : ""; *s; s++) {
		bool esc = q == NETUP_QUOTE_ESPAT && (*s == '"' || *s == '\\' || *s == ',');
		if (*at + (esc ? 2 : 1) >= len)
			return false;
		if (esc)
			out[(*at)++] = '\\';
		out[(*at)++] = *s;
	}
	return true;
}

/* The template with its placeholders filled in. */
static enum ath_err expand(const struct run *rn, const char *tmpl, char *out, size_t len)
{
	const struct netup_config *c = rn->cfg;
	const struct {
		const char *name;
		const char *value;
	} vars[] = {
		{ "{apn}", c->apn }, { "{user}", c->apn_user }, { "{password}", c->apn_password },
		{ "{ssid}", c->wifi_ssid },
	};
	size_t at = 0;
	for (const char *s = tmpl; *s;) {
		bool done = false;
		if (strncmp(s, "{cid}", 5) == 0) {
			int n = snprintf(out + at, len - at, "%d", rn->p->cid);
			if (n < 0 || (size_t)n >= len - at)
				break;
			at += (size_t)n;
			s += 5;
			continue;
		}
		for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
			size_t n = strlen(vars[i].name);
			if (strncmp(s, vars[i].name, n) != 0)
				continue;
			/* {password} under WiFi is the WiFi one. */
			const char *v = vars[i].value;
			if (rn->p->kind == NETUP_WIFI && strcmp(vars[i].name, "{password}") == 0)
				v = c->wifi_password;
			if (!put_value(rn->p->quoting, v, out, len, &at))
				return ath_fail(rn->err, ATH_E_CONFIG, -1, "command too long: %s", tmpl);
			s += n;
			done = true;
			break;
		}
		if (done)
			continue;
		if (at + 1 >= len)
			return ath_fail(rn->err, ATH_E_CONFIG, -1, "command too long: %s", tmpl);
		out[at++] = *s++;
	}
	out[at] = '\0';
	return ATH_OK;
}

/* ------------------------------------------------------------ answers */

/* Field idx of the answer line after prefix, quotes taken off (and the
 * ESP-AT escapes undone under that rule), cut to fit out.  false: no such
 * field, or it or one before it is malformed. */
static bool answer_field(const struct run *rn, const char *line, const char *prefix, int idx, char *out,
			 size_t len)
{
	struct at_result_iter it;
	char f[AT_LINE_MAX + 1];
	at_result_iter_init(&it, line);
	if (rn->p->quoting == NETUP_QUOTE_ESPAT)
		at_result_iter_espat_escapes(&it);
	if (idx < 0 || !at_result_iter_next(&it, prefix))
		return false;
	for (int i = 0; i < idx; i++)
		if (!at_result_iter_skip_next(&it))
			return false;
	if (!len ||
	    (!at_result_iter_next_string(&it, f, sizeof f) && !at_result_iter_next_unquoted(&it, f, sizeof f)))
		return false;
	size_t n = strlen(f);
	if (n >= len)
		n = len - 1;
	memcpy(out, f, n);
	out[n] = '\0';
	return true;
}

/* Field idx as a number (quoted or not) that fits an int. */
static bool answer_int(const struct run *rn, const char *line, const char *prefix, int idx, int *v)
{
	char f[NETUP_FIELD_MAX];
	struct at_result_iter it;
	long long n;
	if (!answer_field(rn, line, prefix, idx, f, sizeof f))
		return false;
	at_result_iter_init(&it, f);
	if (!at_result_iter_next_number(&it, &n) || !at_result_iter_end(&it) || n < INT_MIN || n > INT_MAX)
		return false;
	*v = (int)n;
	return true;
}

/* Sends the expanded template and waits for its final result, the answer
 * lines left in the chat's queue. */
static enum ath_err ask(const struct run *rn, const char *tmpl, int ms, struct at_result *r, char *cmd,
			size_t cmdlen)
{
	enum ath_err e = expand(rn, tmpl, cmd, cmdlen);
	if (e != ATH_OK)
		return e;
	at_chat_clear_queue(rn->chat);
	e = at_chat_cmd(rn->chat, ms, r, "%s", cmd);
	if (e != ATH_OK)
		return at_no_answer(rn->err, e, cmd);
	return ATH_OK;
}

/* ------------------------------------------------------------ the SIM */

static enum ath_err sim_query(const struct run *rn, char *state, size_t len)
{
	struct at_result r;
	char cmd[32];
	enum ath_err e = ask(rn, "AT+CPIN?", cmd_ms(rn), &r, cmd, sizeof cmd);
	if (e != ATH_OK)
		return e;
	/* 27.007 +CME ERROR 10: SIM not inserted. */
	if (r.final == AT_FINAL_CME && r.code == 10) {
		snprintf(rn->st->sim, sizeof rn->st->sim, "not inserted");
		return net_fail(rn->err, r.code, "no SIM (%s)", r.text);
	}
	/* 27.007 +CME ERROR 14: SIM busy (still starting, e.g. just after
	 * a reset): asked again. */
	if (r.final == AT_FINAL_CME && r.code == 14) {
		str_copy_cut(state, len, "busy");
		snprintf(rn->st->sim, sizeof rn->st->sim, "busy");
		return ATH_OK;
	}
	if (r.final != AT_FINAL_OK) {
		snprintf(rn->st->sim, sizeof rn->st->sim, "error");
		return net_fail(rn->err, r.code, "SIM: AT+CPIN? failed: %s", r.text);
	}
	char line[AT_LINE_MAX + 1];
	if (!at_chat_take_line(rn->chat, "+CPIN:", line, sizeof line))
		return ath_fail(rn->err, ATH_E_PROTOCOL, -1, "AT+CPIN? answered no +CPIN line");
	const char *s = line + strlen("+CPIN:");
	while (*s == ' ')
		s++;
	str_copy_cut(state, len, s);
	str_copy_cut(rn->st->sim, sizeof rn->st->sim, s);
	return ATH_OK;
}

static enum ath_err sim_step(struct run *rn)
{
	char state[64];
	int bound = rn->cfg->register_timeout_ms > 0 ? rn->cfg->register_timeout_ms : NETUP_DEFAULT_REGISTER_MS;
	long long deadline = now_ms() + bound;
	enum ath_err e;
	for (;;) {
		e = sim_query(rn, state, sizeof state);
		if (e != ATH_OK || strcmp(state, "busy") != 0)
			break;
		long long left = deadline - now_ms();
		if (left < 0) {
			char after[16];
			seconds(after, sizeof after, bound);
			return net_fail(rn->err, 14, "SIM still busy (+CME ERROR: 14) after %s", after);
		}
		pause_ms(left + 1 < rn->poll_ms ? (int)left + 1 : rn->poll_ms);
	}
	if (e != ATH_OK || strcmp(state, "READY") == 0)
		return e;
	if (strcmp(state, "SIM PIN") != 0)
		return net_fail(rn->err, -1, "SIM needs %s: athttp does not unlock it", state);
	if (!rn->cfg->pin)
		return net_fail(rn->err, -1, "SIM needs a PIN (set pin)");
	if (rn->st->pin_refused)
		return net_fail(rn->err, -1,
				"SIM needs a PIN, and it refused the configured one before: not sent again "
				"(a SIM locks after 3 wrong PINs)");
	struct at_result r;
	/* Not ask(): the PIN stays out of the error texts. */
	at_chat_clear_queue(rn->chat);
	e = at_chat_cmd(rn->chat, cmd_ms(rn), &r, "AT+CPIN=\"%s\"", rn->cfg->pin);
	if (e != ATH_OK)
		return at_no_answer(rn->err, e, "AT+CPIN=<pin>");
	if (r.final != AT_FINAL_OK) {
		rn->st->pin_refused = true;
		return net_fail(rn->err, r.code,
				"SIM refused the configured PIN (%s); not tried again: a SIM locks after 3 wrong PINs",
				r.text);
	}
	trace_note(rn->trace, "netup: SIM PIN accepted");
	long long until = now_ms() + NETUP_PIN_SETTLE_MS;
	for (;;) {
		e = sim_query(rn, state, sizeof state);
		if (e != ATH_OK || strcmp(state, "READY") == 0)
			return e;
		if (now_ms() >= until)
			return net_fail(rn->err, -1, "SIM took its PIN but says %s", state);
		pause_ms(rn->poll_ms);
	}
}

/* ------------------------------------------------------------ registration */

static bool registered(int stat)
{
	return stat == 1 || stat == 5;
}

static enum ath_err registration_step(struct run *rn)
{
	const struct netup_profile *p = rn->p;
	size_t nq = 0;
	while (p->reg_queries && p->reg_queries[nq])
		nq++;
	if (nq == 0)
		return ATH_OK;
	bool dropped[8] = { false };
	if (nq > sizeof dropped / sizeof dropped[0])
		nq = sizeof dropped / sizeof dropped[0];
	int timeout = rn->cfg->register_timeout_ms > 0 ? rn->cfg->register_timeout_ms : NETUP_DEFAULT_REGISTER_MS;
	long long deadline = now_ms() + timeout;
	for (;;) {
		/* The state named when none is registered: the most telling
		 * answer (searching, then denied, unknown, not searching). */
		int first_stat = -1, best_rank = -1;
		const char *first_q = NULL;
		bool all_denied = true;
		for (size_t i = 0; i < nq; i++) {
			if (dropped[i])
				continue;
			char tmpl[32], cmd[40], prefix[32];
			snprintf(tmpl, sizeof tmpl, "AT%s?", p->reg_queries[i]);
			snprintf(prefix, sizeof prefix, "%s:", p->reg_queries[i]);
			struct at_result r;
			enum ath_err e = ask(rn, tmpl, cmd_ms(rn), &r, cmd, sizeof cmd);
			if (e != ATH_OK)
				return e;
			char line[AT_LINE_MAX + 1];
			int stat;
			if (r.final != AT_FINAL_OK || !at_chat_take_line(rn->chat, prefix, line, sizeof line) ||
			    !answer_int(rn, line, prefix, 1, &stat)) {
				/* This module has no such network (a 2G-only one's
				 * AT+CEREG?): ask the others. */
				trace_note(rn->trace, "netup: %s gives no state (%s); not asked again", cmd, r.text);
				dropped[i] = true;
				continue;
			}
			static const int rank[] = { [0] = 0, [1] = 9, [2] = 4, [3] = 3, [4] = 1, [5] = 9 };
			int rk = stat >= 0 && (size_t)stat < sizeof rank / sizeof rank[0] ? rank[stat] : 2;
			if (rk > best_rank) {
				best_rank = rk;
				first_q = p->reg_queries[i];
				first_stat = stat;
			}
			if (stat != 3)
				all_denied = false;
			if (registered(stat)) {
				rn->st->reg_stat = stat;
				snprintf(rn->st->reg_name, sizeof rn->st->reg_name, "%s", netup_reg_name(stat));
				return ATH_OK;
			}
		}
		if (!first_q)
			return net_fail(rn->err, -1, "registration cannot be queried: every query failed");
		rn->st->reg_stat = first_stat;
		snprintf(rn->st->reg_name, sizeof rn->st->reg_name, "%s", netup_reg_name(first_stat));
		/* The clock is read in whole ms: past the deadline only once
		 * more than timeout has surely gone by. */
		long long left = deadline - now_ms();
		/* Denied everywhere is final; waiting does not change it. */
		if (left < 0 || all_denied) {
			char after[16];
			seconds(after, sizeof after, timeout);
			return net_fail(rn->err, first_stat, "not registered: %s (%s stat %d) after %s",
					netup_reg_name(first_stat), first_q, first_stat, after);
		}
		pause_ms(left + 1 < rn->poll_ms ? (int)left + 1 : rn->poll_ms);
	}
}

/* ------------------------------------------------------------ the context */

/* Does the module hold the configured APN (and credentials, where the
 * define carries them)? */
static enum ath_err context_defined(const struct run *rn, bool *same)
{
	const struct netup_profile *p = rn->p;
	const struct netup_config *c = rn->cfg;
	*same = false;
	if (!p->define_query)
		return ATH_OK;
	struct at_result r;
	char cmd[64];
	enum ath_err e = ask(rn, p->define_query, cmd_ms(rn), &r, cmd, sizeof cmd);
	if (e != ATH_OK)
		return e;
	if (r.final != AT_FINAL_OK)
		return ATH_OK; /* nothing defined yet reads as ERROR on some firmware */
	char line[AT_LINE_MAX + 1];
	while (at_chat_take_line(rn->chat, p->define_prefix, line, sizeof line)) {
		int cid;
		if (p->define_cid_field >= 0 &&
		    (!answer_int(rn, line, p->define_prefix, p->define_cid_field, &cid) || cid != p->cid))
			continue;
		char f[NETUP_FIELD_MAX];
		/* 23.003 9.1: APNs compare without regard to case. */
		if (!answer_field(rn, line, p->define_prefix, p->define_apn_field, f, sizeof f) ||
		    strcasecmp(f, c->apn) != 0)
			return ATH_OK;
		if (p->define_carries_auth) {
			const struct {
				int field;
				const char *want;
			} creds[] = { { p->define_user_field, c->apn_user }, { p->define_password_field, c->apn_password } };
			for (size_t i = 0; i < 2; i++) {
				if (!answer_field(rn, line, p->define_prefix, creds[i].field, f, sizeof f) ||
				    strcmp(f, creds[i].want ? creds[i].want : "") != 0)
					return ATH_OK;
			}
		}
		*same = true;
		return ATH_OK;
	}
	return ATH_OK;
}

static enum ath_err send_step(const struct run *rn, const char *tmpl, int ms, const char *what)
{
	struct at_result r;
	char cmd[AT_CMD_MAX];
	enum ath_err e = ask(rn, tmpl, ms, &r, cmd, sizeof cmd);
	if (e != ATH_OK)
		return e;
	if (r.final != AT_FINAL_OK)
		return net_fail(rn->err, r.code, "%s failed: %s (APN \"%s\")", what, r.text,
				rn->cfg->apn ? rn->cfg->apn : "as the module holds it");
	return ATH_OK;
}

/* Is the context active?  Fills the address where the answer has one. */
static enum ath_err context_active(const struct run *rn, bool *active)
{
	const struct netup_profile *p = rn->p;
	*active = false;
	struct at_result r;
	char cmd[64];
	enum ath_err e = ask(rn, p->active_query, cmd_ms(rn), &r, cmd, sizeof cmd);
	if (e != ATH_OK)
		return e;
	if (r.final != AT_FINAL_OK)
		return at_refused(rn->err, &r, cmd);
	char line[AT_LINE_MAX + 1];
	while (at_chat_take_line(rn->chat, p->active_prefix, line, sizeof line)) {
		int cid, state;
		if (p->active_cid_field >= 0 &&
		    (!answer_int(rn, line, p->active_prefix, p->active_cid_field, &cid) || cid != p->cid))
			continue;
		if (!answer_int(rn, line, p->active_prefix, p->active_state_field, &state))
			return ath_fail(rn->err, ATH_E_PROTOCOL, -1, "%s: cannot read %s", cmd, line);
		*active = state == 1;
		if (*active)
			answer_field(rn, line, p->active_prefix, p->active_addr_field, rn->st->address,
				     sizeof rn->st->address);
		return ATH_OK;
	}
	return ATH_OK;
}

static enum ath_err context_step(struct run *rn)
{
	const struct netup_profile *p = rn->p;
	const struct netup_config *c = rn->cfg;
	bool defined_now = false;
	if (c->apn && p->define_ctx) {
		bool same;
		enum ath_err e = context_defined(rn, &same);
		if (e != ATH_OK)
			return e;
		if (!same) {
			e = send_step(rn, p->define_ctx, cmd_ms(rn), "defining the PDP context");
			if (e != ATH_OK)
				return e;
			defined_now = true;
			trace_note(rn->trace, "netup: PDP context %d defined with APN \"%s\"", p->cid, c->apn);
		}
	}
	bool active = false;
	if (p->activate && p->active_query) {
		enum ath_err e = context_active(rn, &active);
		if (e != ATH_OK)
			return e;
		if (active && defined_now)
			trace_note(rn->trace, "netup: the context was active before its APN was set: "
					      "the new APN applies at its next activation");
	}
	bool auth_due = c->apn_user && p->auth_ctx && (defined_now || !active || !p->activate);
	if (auth_due) {
		enum ath_err e = send_step(rn, p->auth_ctx, cmd_ms(rn), "setting the APN user and password");
		if (e != ATH_OK)
			return e;
	}
	if (!p->activate || active)
		return ATH_OK;
	int bound = p->activate_timeout_ms > 0 ? p->activate_timeout_ms : NETUP_CMD_MS;
	long long deadline = now_ms() + bound;
	enum ath_err e = send_step(rn, p->activate, bound, "activating the PDP context");
	if (e != ATH_OK)
		return e;
	/* Some families answer OK at once and come up a moment later. */
	for (;;) {
		if (!p->active_query)
			return ATH_OK;
		e = context_active(rn, &active);
		if (e != ATH_OK || active)
			return e;
		long long left = deadline - now_ms();
		if (left < 0) {
			char after[16];
			seconds(after, sizeof after, bound);
			return net_fail(rn->err, -1, "PDP context %d not active %s after its activation (APN \"%s\")",
					p->cid, after, c->apn ? c->apn : "as the module holds it");
		}
		pause_ms(left + 1 < rn->poll_ms ? (int)left + 1 : rn->poll_ms);
	}
}

/* ------------------------------------------------------------ WiFi */

/* The SSID the station is joined to, "" when none. */
static enum ath_err wifi_joined(const struct run *rn, char *ssid, size_t len)
{
	const struct netup_profile *p = rn->p;
	ssid[0] = '\0';
	struct at_result r;
	char cmd[32];
	enum ath_err e = ask(rn, p->wifi_query, cmd_ms(rn), &r, cmd, sizeof cmd);
	if (e != ATH_OK)
		return e;
	if (r.final != AT_FINAL_OK)
		return ATH_OK; /* Wi-Fi off (mode 0) answers ERROR: not joined */
	char line[AT_LINE_MAX + 1];
	if (at_chat_take_line(rn->chat, p->wifi_prefix, line, sizeof line))
		answer_field(rn, line, p->wifi_prefix, 0, ssid, len);
	return ATH_OK;
}

static const char *join_meaning(const struct netup_profile *p, int code)
{
	for (const struct netup_code *c = p->wifi_join_codes; c && c->meaning; c++)
		if (c->code == code)
			return c->meaning;
	return "unknown reason";
}

static enum ath_err wifi_step(struct run *rn)
{
	const struct netup_profile *p = rn->p;
	const struct netup_config *c = rn->cfg;
	char ssid[NETUP_FIELD_MAX];
	enum ath_err e = wifi_joined(rn, ssid, sizeof ssid);
	if (e != ATH_OK)
		return e;
	if (ssid[0] && (!c->wifi_ssid || strcmp(ssid, c->wifi_ssid) == 0)) {
		snprintf(rn->st->reg_name, sizeof rn->st->reg_name, "joined");
		return ATH_OK;
	}
	if (!c->wifi_ssid)
		return net_fail(rn->err, -1, "WiFi not joined to an access point, and no wifi_ssid configured");

	struct at_result r;
	char cmd[AT_CMD_MAX];
	e = ask(rn, p->wifi_mode_query, cmd_ms(rn), &r, cmd, sizeof cmd);
	if (e != ATH_OK)
		return e;
	char line[AT_LINE_MAX + 1];
	int mode = -1;
	if (r.final == AT_FINAL_OK && at_chat_take_line(rn->chat, p->wifi_mode_prefix, line, sizeof line))
		answer_int(rn, line, p->wifi_mode_prefix, 0, &mode);
	if (mode < 0 || mode > 31 || !(p->wifi_station_modes & (1u << mode))) {
		e = ask(rn, p->wifi_mode, cmd_ms(rn), &r, cmd, sizeof cmd);
		if (e != ATH_OK)
			return e;
		if (r.final != AT_FINAL_OK)
			return net_fail(rn->err, r.code, "%s failed: %s", cmd, r.text);
	}
	e = expand(rn, p->wifi_join, cmd, sizeof cmd);
	if (e != ATH_OK)
		return e;
	at_chat_clear_queue(rn->chat);
	/* cmd holds the password: the texts name the SSID only. */
	e = at_chat_cmd(rn->chat, p->wifi_join_timeout_ms > 0 ? p->wifi_join_timeout_ms : NETUP_CMD_MS, &r, "%s",
			cmd);
	if (e != ATH_OK)
		return at_no_answer(rn->err, e, "the WiFi join");
	if (r.final != AT_FINAL_OK) {
		int code;
		if (p->wifi_join_fail_prefix &&
		    at_chat_take_line(rn->chat, p->wifi_join_fail_prefix, line, sizeof line) &&
		    answer_int(rn, line, p->wifi_join_fail_prefix, 0, &code))
			return net_fail(rn->err, code, "WiFi join to \"%s\" failed: %s (%s)", c->wifi_ssid, line,
					join_meaning(p, code));
		return net_fail(rn->err, r.code, "WiFi join to \"%s\" failed: %s", c->wifi_ssid, r.text);
	}
	trace_note(rn->trace, "netup: WiFi joined to \"%s\"", c->wifi_ssid);
	snprintf(rn->st->reg_name, sizeof rn->st->reg_name, "joined");
	return ATH_OK;
}

/* ------------------------------------------------------------ the run */

enum ath_err netup_run(struct at_chat *chat, struct trace *trace, const struct netup_profile *p,
		       const struct netup_config *cfg, struct netup_state *st, struct ath_error *err)
{
	struct netup_state scratch = { 0 };
	if (!st)
		st = &scratch;
	bool pin_refused = st->pin_refused;
	memset(st, 0, sizeof *st);
	st->pin_refused = pin_refused;
	st->reg_stat = -1;
	if (!cfg || !p || p->kind == NETUP_NONE)
		return ATH_OK;
	struct run rn = {
		.chat = chat, .trace = trace, .p = p, .cfg = cfg, .st = st, .err = err,
		.poll_ms = cfg->poll_ms > 0 ? cfg->poll_ms : NETUP_DEFAULT_POLL_MS,
	};
	enum ath_err e = check_config(&rn);
	if (e != ATH_OK)
		return e;
	if (p->kind == NETUP_WIFI)
		return wifi_step(&rn);
	e = sim_step(&rn);
	if (e == ATH_OK)
		e = registration_step(&rn);
	if (e == ATH_OK)
		e = context_step(&rn);
	return e;
}

const char *netup_reg_name(int stat)
{
	/* 3GPP TS 27.007 7.2 (+CREG) and 10.1.19 (+CEREG). */
	static const char *const names[] = {
		"not registered",
		"registered (home)",
		"searching",
		"registration denied",
		"unknown",
		"registered (roaming)",
		"registered for SMS only (home)",
		"registered for SMS only (roaming)",
		"emergency bearer services only",
		"registered, CSFB not preferred (home)",
		"registered, CSFB not preferred (roaming)",
	};
	if (stat < 0 || (size_t)stat >= sizeof names / sizeof names[0])
		return "unknown";
	return names[stat];
}

const char *const netup_reg_queries_27007[] = { "+CEREG", "+CGREG", "+CREG", NULL };

const struct netup_profile netup_profile_27007 = {
	NETUP_PROFILE_27007_CONTEXT,
	.auth_ctx = "AT+CGAUTH={cid},1,\"{user}\",\"{password}\"",
	.activate = "AT+CGACT=1,{cid}",
	.active_query = "AT+CGACT?",
	.active_prefix = "+CGACT:",
	.active_cid_field = 0, .active_state_field = 1, .active_addr_field = -1,
	.activate_timeout_ms = 150000,
};
