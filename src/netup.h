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
};

#define NETUP_DEFAULT_REGISTER_MS 60000

enum netup_kind {
	NETUP_NONE = 0,                /* the family needs nothing: skip */
	NETUP_CELLULAR,
	NETUP_WIFI,
};

/*
 * A family's bring-up.  Every command string is a printf format for
 * at_chat_cmd; a NULL slot means the family has no such step.  The
 * runner (netup.c) quotes nothing itself: values go through the
 * family's string rules (netup_value_ok) and are refused with a
 * configuration error when they cannot travel.
 */
struct netup_profile {
	enum netup_kind kind;
	/* Cellular. */
	int cid;                       /* the PDP context the HTTP service uses */
	/* Registration queries, tried in order; registered when any says
	 * stat 1 (home) or 5 (roaming).  E.g. { "+CEREG", "+CGREG", "+CREG" }
	 * sent as "AT+CEREG?", answered "+CEREG: <n>,<stat>[,...]". */
	const char *const *reg_queries;
	/* Defines the context: args cid, apn.  E.g. "AT+CGDCONT=%d,\"IP\",\"%s\"". */
	const char *define_ctx;
	/* Its query, listing defined contexts: "AT+CGDCONT?" answered
	 * "+CGDCONT: <cid>,\"IP\",\"<apn>\",..."; NULL: always define. */
	const char *define_query;
	/* Sets user and password: args cid, user, password (the family's
	 * argument order is in the format); NULL: unsupported (a
	 * configured user is then a configuration error). */
	const char *auth_ctx;
	/* Activation: args cid.  NULL: the HTTP service activates it
	 * (SIMCom's AT+HTTPINIT). */
	const char *activate;
	/* Activation query, e.g. "AT+CGACT?" answered "+CGACT: <cid>,<state>";
	 * active_prefix is the answer's prefix ("+CGACT:"). */
	const char *active_query;
	const char *active_prefix;
	int activate_timeout_ms;
	/* WiFi. */
	const char *wifi_mode;         /* "AT+CWMODE=1" (station) */
	const char *wifi_mode_query;   /* "AT+CWMODE?" answered "+CWMODE:<mode>" */
	const char *wifi_join;         /* args ssid, password */
	const char *wifi_query;        /* "AT+CWJAP?" answered "+CWJAP:\"<ssid>\",..." or "No AP" */
	int wifi_join_timeout_ms;
};

/* What netup_run found, for athttp status and the trace. */
struct netup_state {
	char sim[32];                  /* "READY", "SIM PIN", "not inserted" ... */
	int reg_stat;                  /* 27.007 <stat>, -1 unknown */
	char reg_name[48];             /* "registered (home)", "searching" ... */
	char address[64];              /* PDP address or WiFi IP, "" unknown */
};

/* Runs p's steps.  ATH_OK: on the network.  A SIM that needs a PIN none
 * was configured for, a wrong PIN, no registration within the bound, an
 * activation or a WiFi join that fails: ATH_E_MODULE with http_status 503
 * and a text naming the state ("not registered: searching (+CEREG stat 2)
 * after 60 s").  cfg NULL or p NULL/NETUP_NONE: nothing to do. */
enum ath_err netup_run(struct at_chat *chat, struct trace *trace,
		       const struct netup_profile *p, const struct netup_config *cfg,
		       struct netup_state *st, struct ath_error *err);

/* The 27.007 <stat> in words. */
const char *netup_reg_name(int stat);

#endif
