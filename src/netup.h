/*
 * Bringing a cold module onto the network, as data per family: the SIM
 * (PIN), registration (waited for with a bound), the packet data context
 * (APN, activation) or, for a WiFi module, the access point.  It runs
 * after the command line is in step (at_sync) and before the dialect's
 * own bring-up starts its HTTP service.  Every step queries state first
 * and acts only when the state asks for it: a module already registered
 * with its context active costs one query per step.
 *
 * The commands are 3GPP TS 27.007's (AT+CPIN, AT+CREG/CGREG/CEREG,
 * AT+CGDCONT, AT+CGACT, AT+CGPADDR) unless the family's manual names its
 * own (SIMCom's AT+CGSOCKCONT, ESP-AT's AT+CWMODE/AT+CWJAP ...).
 */
#ifndef ATH_NETUP_H
#define ATH_NETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "at_chat.h"
#include "err.h"
#include "trace.h"

/* What the user configured (config file keys of the same names). */
struct netup_config {
	const char *pin;               /* SIM PIN; NULL: none configured */
	const char *apn;               /* NULL: leave the module's context as it is */
	const char *apn_user, *apn_password;
	const char *wifi_ssid, *wifi_password;
	int register_timeout_ms;       /* 0: NETUP_DEFAULT_REGISTER_MS */
	int poll_ms;                   /* between state queries; 0: NETUP_DEFAULT_POLL_MS */
};

#define NETUP_DEFAULT_REGISTER_MS 60000
#define NETUP_DEFAULT_POLL_MS 500

enum netup_kind {
	NETUP_NONE = 0,                /* the family needs nothing: skip */
	NETUP_CELLULAR,
	NETUP_WIFI,
};

/* How a configured value travels inside a quoted AT string. */
enum netup_quoting {
	/* 27.007 strings: no escapes, so a '"', a backslash (some character
	 * sets read it as an escape), CR, LF or another control byte cannot
	 * travel: such a value is a configuration error. */
	NETUP_QUOTE_PLAIN = 0,
	/* ESP-AT's: \" \\ and \, escaped; control bytes cannot travel. */
	NETUP_QUOTE_ESPAT,
};

/* A family's numbered failure, e.g. ESP-AT's "+CWJAP:2" (wrong password). */
struct netup_code {
	int code;
	const char *meaning;
};

/*
 * A family's bring-up, as data.  Command slots are templates: "{cid}" is
 * replaced by cid, "{apn}", "{user}", "{password}", "{ssid}" by the
 * configured values (checked and, for ESP-AT, escaped by the quoting
 * rule; an absent user or password is empty).  A NULL slot means the
 * family has no such step.  Answers are read by field: fields are the
 * comma-separated values after the prefix, counted from 0, quotes taken
 * off; -1 means the answer has no such field.
 */
struct netup_profile {
	enum netup_kind kind;
	enum netup_quoting quoting;
	/* Cellular. */
	int cid;                       /* the PDP context the HTTP service uses */
	/* Registration queries, tried in order; registered when any says
	 * stat 1 (home) or 5 (roaming).  E.g. { "+CEREG", "+CGREG", "+CREG",
	 * NULL } sent as "AT+CEREG?", answered "+CEREG: <n>,<stat>[,...]". */
	const char *const *reg_queries;
	/* Defines the context, e.g. "AT+CGDCONT={cid},\"IP\",\"{apn}\"". */
	const char *define_ctx;
	/* Carries {user} and {password} too (Quectel's AT+QICSGP): then the
	 * query's user and password fields are compared as well. */
	bool define_carries_auth;
	/* Its query and the answer: "AT+CGDCONT?" answered
	 * "+CGDCONT: <cid>,\"IP\",\"<apn>\",..." (cid field 0, apn field 2);
	 * NULL: always define. */
	const char *define_query;
	const char *define_prefix;
	int define_cid_field, define_apn_field, define_user_field, define_password_field;
	/* Sets user and password, e.g. "AT+CGAUTH={cid},1,\"{user}\",\"{password}\"".
	 * NULL (and !define_carries_auth): unsupported, a configured user is
	 * a configuration error.  The families' read forms do not show the
	 * password, so it is sent whenever the context is defined or
	 * activated here, or, without an activation step, at every run. */
	const char *auth_ctx;
	/* Activation, e.g. "AT+CGACT=1,{cid}".  NULL: the HTTP service
	 * activates it (SIMCom's AT+HTTPINIT). */
	const char *activate;
	/* Activation query: "AT+CGACT?" answered "+CGACT: <cid>,<state>"
	 * (prefix "+CGACT:", cid field 0, state field 1, state 1 active);
	 * addr_field the address where the answer has one.  No line for cid:
	 * inactive. */
	const char *active_query;
	const char *active_prefix;
	int active_cid_field, active_state_field, active_addr_field;
	int activate_timeout_ms;       /* the activation and its polling */
	/* WiFi. */
	const char *wifi_query;        /* "AT+CWJAP?" answered "+CWJAP:\"<ssid>\",..." or "No AP" */
	const char *wifi_prefix;       /* "+CWJAP:" */
	const char *wifi_mode_query;   /* "AT+CWMODE?" answered "+CWMODE:<mode>" */
	const char *wifi_mode_prefix;  /* "+CWMODE:" */
	unsigned wifi_station_modes;   /* bit m set: mode m includes a station */
	const char *wifi_mode;         /* "AT+CWMODE=1" (station) */
	const char *wifi_join;         /* "AT+CWJAP=\"{ssid}\",\"{password}\"" */
	/* The join's failure line ("+CWJAP:<code>" before FAIL) and its codes,
	 * ended by { 0, NULL }. */
	const char *wifi_join_fail_prefix;
	const struct netup_code *wifi_join_codes;
	int wifi_join_timeout_ms;
	int command_timeout_ms;        /* every other command; 0: 5000 */
};

/* What netup_run found, for athttp status and the trace. */
struct netup_state {
	char sim[32];                  /* "READY", "SIM PIN", "not inserted" ... */
	int reg_stat;                  /* 27.007 <stat>, -1 unknown */
	char reg_name[48];             /* "registered (home)", "searching" ... */
	char address[64];              /* PDP address or WiFi IP, "" unknown */
	/* Kept across runs (zero it once, then pass the same state to every
	 * run): the SIM refused the configured PIN, so no later run (after a
	 * module reset) sends it again; a SIM locks after 3 wrong ones. */
	bool pin_refused;
};

/* Runs p's steps.  ATH_OK: on the network.  A SIM that needs a PIN none
 * was configured for, a wrong PIN, no registration within the bound, an
 * activation or a WiFi join that fails: ATH_E_MODULE with http_status 503
 * and a text naming the state ("not registered: searching (+CEREG stat 2)
 * after 60 s").  cfg NULL or p NULL/NETUP_NONE: nothing to do. */
enum ath_err netup_run(struct at_chat *chat, struct trace *trace,
		       const struct netup_profile *p, const struct netup_config *cfg,
		       struct netup_state *st, struct ath_error *err);

/* 3GPP TS 27.007's registration queries, LTE first, then packet, then
 * circuit: what every cellular family asks. */
extern const char *const netup_reg_queries_27007[];

/* The 27.007 PDP context (AT+CGDCONT, read back by AT+CGDCONT? as
 * "+CGDCONT: <cid>,<PDP_type>,<APN>,...") with the 27.007 registration
 * queries: the first fields of a cellular profile whose family defines
 * its context the standard way, whatever it does for credentials and
 * activation. */
#define NETUP_PROFILE_27007_CONTEXT \
	.kind = NETUP_CELLULAR, \
	.quoting = NETUP_QUOTE_PLAIN, \
	.cid = 1, \
	.reg_queries = netup_reg_queries_27007, \
	.define_ctx = "AT+CGDCONT={cid},\"IP\",\"{apn}\"", \
	.define_query = "AT+CGDCONT?", \
	.define_prefix = "+CGDCONT:", \
	.define_cid_field = 0, .define_apn_field = 2, .define_user_field = -1, .define_password_field = -1

/* The plain 27.007 bring-up: AT+CGDCONT context, AT+CGAUTH credentials,
 * AT+CGACT activation (up to 150 s), for the families that have no
 * commands of their own (httpcfg, OneMO). */
extern const struct netup_profile netup_profile_27007;

/* The 27.007 <stat> in words. */
const char *netup_reg_name(int stat);

#endif
