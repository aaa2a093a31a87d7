/*
 * What `athttp status` reports about a module: identity, SIM,
 * registration, operator, signal, address; and, from a daemon, what it
 * served.  Queried with 27.007 read commands (and ESP-AT's WiFi ones),
 * none of which changes the module's state.
 */
#ifndef ATH_MODULE_STATUS_H
#define ATH_MODULE_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "at_chat.h"
#include "dialect.h"

struct module_status {
	char dialect[16];
	char model[96];          /* AT+CGMM (or ATI) */
	char firmware[96];       /* AT+CGMR */
	char sim[32];            /* "READY", "SIM PIN", ... ("" for WiFi) */
	int reg_stat;            /* 27.007 <stat>; -1 unknown or WiFi */
	char registration[48];   /* netup_reg_name(reg_stat) */
	char operator_name[64];  /* AT+COPS? */
	int rssi;                /* AT+CSQ <rssi> 0..31, 99 unknown; WiFi: dBm */
	char address[64];        /* PDP address or WiFi station IP */
	char wifi_ssid[64];
	/* From the daemon only (from_daemon). */
	bool from_daemon;
	unsigned long requests, errors, clients;
	unsigned long long bytes_to_module, bytes_from_module;
	long uptime_s;
	bool module_up;
	char last_error[200];
};

/* Fills st (dialect from d) by asking the module; fields it cannot learn
 * stay empty / -1.  Every command bounded by timeout_ms. */
void module_status_query(struct at_chat *chat, const struct dialect *d, int timeout_ms,
			 struct module_status *st);

/* Writes st as "key: value" lines or as one JSON object (strings
 * escaped). */
void module_status_write(const struct module_status *st, bool json, FILE *out);

#endif
