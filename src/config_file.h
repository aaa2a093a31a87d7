/*
 * athttp.conf: "key = value" lines, '#' comments, blank lines.  Files
 * are read in order (/etc/athttp.conf, ~/.config/athttp/athttp.conf, or
 * the one given by -c), later ones overriding earlier; then ATHTTP_<KEY>
 * from the environment overrides them; then command-line flags.
 *
 * Keys: device, modem, baud, rtscts, pin, apn, apn_user, apn_password,
 * wifi_ssid, wifi_password, module_ca, insecure_upstream, ca_dir,
 * timeout_ms, register_timeout_ms, bypass, socket, allow_users,
 * allow_groups, trace, verbose.  An unknown key or a bad value is an
 * error naming the file and the line.
 */
#ifndef ATH_CONFIG_FILE_H
#define ATH_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>

/* The settings, every string owned (config_free). NULL/0: not set. */
struct athttp_settings {
	char *device, *modem;
	int baud;                    /* 0: not set */
	int rtscts;                  /* -1: not set, else 0/1 */
	char *pin, *apn, *apn_user, *apn_password;
	char *wifi_ssid, *wifi_password;
	char *module_ca;
	int insecure_upstream;       /* -1: not set */
	char *ca_dir;
	int timeout_ms, register_timeout_ms;   /* 0: not set */
	char *bypass;
	char *socket;
	char *allow_users, *allow_groups;      /* comma-separated names or numbers */
	char *trace;
	int verbose;                 /* -1: not set */
	/* Where config_read_file says a file holding a secret (pin,
	 * apn_password, wifi_password) is readable by every user; NULL:
	 * stderr.  Not a setting: config_init clears it, config_free keeps it. */
	void (*warn)(void *ctx, const char *text);
	void *warn_ctx;
};

/* The longest line a file may have, without its newline. */
#define CONFIG_LINE_MAX 1024

void config_init(struct athttp_settings *s);
void config_free(struct athttp_settings *s);

/* Reads one file into s (keys it sets override).  A missing file is not
 * an error when optional.  Returns 0, or -1 with "FILE:LINE: reason" in
 * err. */
int config_read_file(struct athttp_settings *s, const char *path, bool optional,
		     char *err, size_t errlen);

/* Parses one "key = value" (or comment/blank) line; for tests and for
 * config_read_file.  Returns 0, or -1 with the reason (no file/line) in err. */
int config_parse_line(struct athttp_settings *s, const char *line, char *err, size_t errlen);

/* Sets key from its ATHTTP_<KEY> environment variable where one is set.
 * Returns 0, or -1 with "ATHTTP_KEY: reason" in err. */
int config_from_env(struct athttp_settings *s, char *err, size_t errlen);

/* The default files, in reading order: /etc/athttp.conf (ATHTTP_SYSCONFDIR
 * overrides /etc for tests) and $XDG_CONFIG_HOME or ~/.config/athttp/athttp.conf.
 * Reads those that exist; with explicit (-c) only that one, which must exist. */
int config_load(struct athttp_settings *s, const char *explicit_path, char *err, size_t errlen);

/* The keys, in the order above (i < config_key_count()), and each one's
 * environment twin ("ATHTTP_" and the key in capitals). */
size_t config_key_count(void);
const char *config_key_name(size_t i);
void config_env_name(size_t i, char *out, size_t outlen);

/* The default files' paths (what config_load reads); -1 when there is
 * none (no home directory) or it does not fit. */
int config_system_path(char *out, size_t outlen);
int config_user_path(char *out, size_t outlen);

struct netup_config;
/* The network bring-up settings of s (netup.h), pointing into s. */
void config_netup(const struct athttp_settings *s, struct netup_config *nc);

#endif
