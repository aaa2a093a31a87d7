/*
 * The wrapper's side of athttp.conf: the files and the environment checked
 * with the config parser, then handed to COMMAND (and so to the preload
 * library and the daemon client in it) as ATHTTP_* variables, the one
 * channel the library reads.  Flags win over both: the caller sets them
 * after.
 */
#include "wrapper_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "athttp.h"
#include "config_file.h"
#include "identify.h"

static bool listed(const char *name, const char *const *names)
{
	for (size_t i = 0; names && names[i]; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

/* The setting of key i as the text of its variable; NULL when not set. */
static const char *setting_text(const struct athttp_settings *s, const char *key, char *buf,
				size_t buflen)
{
	const struct { const char *name; const int *v; bool boolean; } ints[] = {
		{ "baud", &s->baud, false },
		{ "rtscts", &s->rtscts, true },
		{ "insecure_upstream", &s->insecure_upstream, true },
		{ "timeout_ms", &s->timeout_ms, false },
		{ "register_timeout_ms", &s->register_timeout_ms, false },
		{ "verbose", &s->verbose, true },
	};
	const struct { const char *name; const char *v; } strs[] = {
		{ "device", s->device }, { "modem", s->modem }, { "pin", s->pin },
		{ "apn", s->apn }, { "apn_user", s->apn_user }, { "apn_password", s->apn_password },
		{ "wifi_ssid", s->wifi_ssid }, { "wifi_password", s->wifi_password },
		{ "module_ca", s->module_ca }, { "ca_dir", s->ca_dir }, { "bypass", s->bypass },
		{ "socket", s->socket }, { "allow_users", s->allow_users },
		{ "allow_groups", s->allow_groups }, { "trace", s->trace },
	};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		if (strcmp(ints[i].name, key) != 0)
			continue;
		int v = *ints[i].v;
		if (ints[i].boolean ? v < 0 : v <= 0)
			return NULL;
		snprintf(buf, buflen, "%d", v);
		return buf;
	}
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		if (strcmp(strs[i].name, key) == 0)
			return strs[i].v;
	return NULL;
}

int wrapper_config_apply(const char *config_path, const char *const *from_flags, char *err,
			 size_t errlen)
{
	struct athttp_settings s;
	config_init(&s);
	if (config_load(&s, config_path, err, errlen) < 0) {
		config_free(&s);
		return -1;
	}
	/* The variables a flag replaces are the flag's to check. */
	size_t n = config_key_count();
	char saved_names[64][40];
	char *saved_values[64];
	size_t n_saved = 0;
	for (size_t i = 0; i < n && n_saved < 64; i++) {
		char name[40];
		config_env_name(i, name, sizeof name);
		const char *v = getenv(name);
		if (v && listed(config_key_name(i), from_flags)) {
			snprintf(saved_names[n_saved], sizeof saved_names[n_saved], "%s", name);
			saved_values[n_saved++] = strdup(v);
			unsetenv(name);
		}
	}
	int rc = config_from_env(&s, err, errlen);
	for (size_t i = 0; i < n_saved; i++) {
		if (saved_values[i])
			setenv(saved_names[i], saved_values[i], 1);
		free(saved_values[i]);
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		const char *key = config_key_name(i);
		char name[40], buf[24];
		config_env_name(i, name, sizeof name);
		const char *v = listed(key, from_flags) ? NULL : setting_text(&s, key, buf, sizeof buf);
		if (v && setenv(name, v, 1) != 0) {
			snprintf(err, errlen, "setenv %s: %s", name, strerror(errno));
			rc = -1;
		}
	}
	config_free(&s);
	return rc;
}

int wrapper_resolve_auto(const char *device, const char *baud, const char *rtscts)
{
	if (strncmp(device, "replay:", 7) == 0) {
		fputs("athttp: -m auto cannot identify a recorded transcript: give -m with the "
		      "family it was recorded with\n", stderr);
		return 2;
	}
	char found[400];
	struct ath_error err;
	int b = baud && *baud ? atoi(baud) : 0;
	int flow = rtscts && *rtscts ? atoi(rtscts) : 0;
	const struct dialect *d = identify_device(device, b, flow, found, sizeof found, &err);
	if (!d) {
		fprintf(stderr, "athttp: -m auto: %s: %s\n", device, err.text);
		if (err.code == ATH_E_UNSUPPORTED || err.code == ATH_E_CONFIG) {
			fputs("athttp: not starting COMMAND; give -m MODEM (", stderr);
			const char *const *names = athttp_dialects();
			for (size_t i = 0; names && names[i]; i++)
				fprintf(stderr, "%s%s", i ? " | " : "", names[i]);
			fputs(") if the module's manual names one\n", stderr);
			return 2;
		}
		return 1;
	}
	fprintf(stderr, "athttp: found %s\n", found);
	if (setenv("ATHTTP_MODEM", d->name, 1) != 0) {
		fprintf(stderr, "athttp: setenv ATHTTP_MODEM: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
