/*
 * athttp.conf and its ATHTTP_<KEY> twins: one table of keys, each with the
 * check its value must pass, shared by the file reader and the
 * environment so both refuse the same values with the same words.
 */
#include "config_file.h"

#include "netup.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "athttp.h"

/* Timeouts above an hour are a typo, not a wish. */
#define MS_MAX 3600000
/* sockaddr_un.sun_path holds 108 bytes with the NUL. */
#define SOCKET_PATH_MAX 107

enum kind {
	K_STRING,   /* any text without control bytes */
	K_PATH,     /* likewise */
	K_SOCKET,   /* a path that fits sun_path */
	K_MODEM,    /* a dialect name or "auto" */
	K_BAUD,     /* a standard rate */
	K_BOOL,     /* 0/1 yes/no true/false on/off */
	K_MS,       /* 1..MS_MAX milliseconds */
	K_PIN,      /* 4 to 8 digits */
	K_LIST,     /* comma-separated names or numbers, no empty item */
};

struct key {
	const char *name;
	enum kind kind;
	size_t offset;      /* into struct athttp_settings */
	size_t max_len;     /* 0: no limit of its own */
	bool secret;        /* never echoed in a message; a file holding it is warned about */
};

#define S(field) offsetof(struct athttp_settings, field)
/* The lengths are the standards' and the manuals': an APN name is at most
 * 100 bytes (3GPP TS 23.003 9.1), an SSID 32 (IEEE 802.11), a WPA
 * passphrase 63 or 64 hex digits. */
static const struct key keys[] = {
	{ "device", K_PATH, S(device), 0, false },
	{ "modem", K_MODEM, S(modem), 0, false },
	{ "baud", K_BAUD, S(baud), 0, false },
	{ "rtscts", K_BOOL, S(rtscts), 0, false },
	{ "pin", K_PIN, S(pin), 0, true },
	{ "apn", K_STRING, S(apn), 100, false },
	{ "apn_user", K_STRING, S(apn_user), 64, false },
	{ "apn_password", K_STRING, S(apn_password), 64, true },
	{ "wifi_ssid", K_STRING, S(wifi_ssid), 32, false },
	{ "wifi_password", K_STRING, S(wifi_password), 64, true },
	{ "module_ca", K_PATH, S(module_ca), 0, false },
	{ "insecure_upstream", K_BOOL, S(insecure_upstream), 0, false },
	{ "ca_dir", K_PATH, S(ca_dir), 0, false },
	{ "timeout_ms", K_MS, S(timeout_ms), 0, false },
	{ "register_timeout_ms", K_MS, S(register_timeout_ms), 0, false },
	{ "bypass", K_STRING, S(bypass), 0, false },
	{ "socket", K_SOCKET, S(socket), 0, false },
	{ "allow_users", K_LIST, S(allow_users), 0, false },
	{ "allow_groups", K_LIST, S(allow_groups), 0, false },
	{ "trace", K_PATH, S(trace), 0, false },
	{ "verbose", K_BOOL, S(verbose), 0, false },
};
#undef S
#define N_KEYS (sizeof keys / sizeof keys[0])

/* The rates the tty transport can set (transport_tty.c) and the slower
 * ones old modules ship with. */
static const int standard_rates[] = {
	1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600,
	1000000, 2000000, 3000000, 4000000,
};

static const char *const true_words[] = { "1", "yes", "true", "on" };
static const char *const false_words[] = { "0", "no", "false", "off" };

size_t config_key_count(void)
{
	return N_KEYS;
}

const char *config_key_name(size_t i)
{
	return i < N_KEYS ? keys[i].name : NULL;
}

void config_init(struct athttp_settings *s)
{
	memset(s, 0, sizeof *s);
	s->rtscts = s->insecure_upstream = s->verbose = -1;
}

static char **str_field(struct athttp_settings *s, const struct key *k)
{
	return (char **)((char *)s + k->offset);
}

static int *int_field(struct athttp_settings *s, const struct key *k)
{
	return (int *)((char *)s + k->offset);
}

static bool is_string_kind(enum kind kind)
{
	return kind == K_STRING || kind == K_PATH || kind == K_SOCKET || kind == K_MODEM ||
	       kind == K_PIN || kind == K_LIST;
}

void config_free(struct athttp_settings *s)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (is_string_kind(keys[i].kind))
			free(*str_field(s, &keys[i]));
	void (*warn)(void *, const char *) = s->warn;
	void *warn_ctx = s->warn_ctx;
	config_init(s);
	s->warn = warn;
	s->warn_ctx = warn_ctx;
}

static const struct key *find_key(const char *name, size_t len)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (strlen(keys[i].name) == len && memcmp(keys[i].name, name, len) == 0)
			return &keys[i];
	return NULL;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool word_in(const char *v, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v, words[i]) == 0)
			return true;
	return false;
}

/* A decimal number without sign or blanks, or -1. */
static long decimal(const char *v)
{
	if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 9)
		return -1;
	return strtol(v, NULL, 10);
}

static bool known_modem(const char *v)
{
	const char *const *d = athttp_dialects();
	for (size_t i = 0; d && d[i]; i++)
		if (strcmp(d[i], v) == 0)
			return true;
	return false;
}

static void modem_names(char *out, size_t outlen)
{
	const char *const *d = athttp_dialects();
	out[0] = '\0';
	for (size_t i = 0; d && d[i]; i++) {
		size_t used = strlen(out);
		snprintf(out + used, outlen - used, "%s | ", d[i]);
	}
	size_t used = strlen(out);
	snprintf(out + used, outlen - used, "auto");
}

/* "alice, bob ,1000" -> "alice,bob,1000"; -1 on an empty item or a blank
 * inside a name. */
static int normalize_list(const char *v, char *out, size_t outlen, char *err, size_t errlen)
{
	size_t o = 0;
	for (const char *p = v;;) {
		size_t n = strcspn(p, ",");
		const char *a = p, *b = p + n;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (a == b)
			return fail(err, errlen, "empty item in \"%s\" (names or numbers, "
				    "separated by commas)", v);
		for (const char *c = a; c < b; c++)
			if (*c == ' ' || *c == '\t')
				return fail(err, errlen, "\"%.*s\" is not a name or a number",
					    (int)(b - a), a);
		if (o + (size_t)(b - a) + 2 > outlen)
			return fail(err, errlen, "list too long");
		if (o)
			out[o++] = ',';
		memcpy(out + o, a, (size_t)(b - a));
		o += (size_t)(b - a);
		if (!p[n])
			break;
		p += n + 1;
	}
	out[o] = '\0';
	return 0;
}

/* Checks value for k and stores it in s.  err gets the reason without
 * the key's name. */
static int set_value(struct athttp_settings *s, const struct key *k, const char *v, char *err,
		     size_t errlen)
{
	for (const unsigned char *c = (const unsigned char *)v; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return fail(err, errlen, "control byte 0x%02x in the value", *c);
	if (!*v)
		return fail(err, errlen, "empty value (leave the key out to keep the default)");
	if (k->max_len && strlen(v) > k->max_len)
		return fail(err, errlen, "longer than %zu bytes", k->max_len);

	char list[1024];
	long n;
	switch (k->kind) {
	case K_STRING:
	case K_PATH:
		break;
	case K_SOCKET:
		if (strlen(v) > SOCKET_PATH_MAX)
			return fail(err, errlen, "a socket path is at most %d bytes", SOCKET_PATH_MAX);
		break;
	case K_MODEM:
		if (strcmp(v, "auto") != 0 && !known_modem(v)) {
			char names[200];
			modem_names(names, sizeof names);
			return fail(err, errlen, "unknown modem \"%s\"; one of: %s", v, names);
		}
		break;
	case K_PIN:
		if (strlen(v) < 4 || strlen(v) > 8 || strspn(v, "0123456789") != strlen(v))
			return fail(err, errlen, "a PIN is 4 to 8 digits");
		break;
	case K_LIST:
		if (normalize_list(v, list, sizeof list, err, errlen) < 0)
			return -1;
		v = list;
		break;
	case K_BAUD:
		n = decimal(v);
		for (size_t i = 0; i < sizeof standard_rates / sizeof standard_rates[0]; i++)
			if (standard_rates[i] == n) {
				*int_field(s, k) = (int)n;
				return 0;
			}
		return fail(err, errlen, "\"%s\" is not a standard baud rate (9600, 19200, 38400, "
			    "57600, 115200, 230400, 460800, 921600 ...)", v);
	case K_BOOL:
		if (word_in(v, true_words, 4))
			*int_field(s, k) = 1;
		else if (word_in(v, false_words, 4))
			*int_field(s, k) = 0;
		else
			return fail(err, errlen, "\"%s\" is not a boolean (0/1, yes/no, true/false, "
				    "on/off)", v);
		return 0;
	case K_MS:
		n = decimal(v);
		if (n < 1 || n > MS_MAX)
			return fail(err, errlen, "\"%s\" is not a number of milliseconds from 1 to %d",
				    v, MS_MAX);
		*int_field(s, k) = (int)n;
		return 0;
	}
	char *copy = strdup(v);
	if (!copy)
		return fail(err, errlen, "out of memory");
	char **field = str_field(s, k);
	free(*field);
	*field = copy;
	return 0;
}

/* The value part of a line, after '=' and its blanks: unquoted up to a
 * '#' (blanks before it dropped), or "..." with \" and \\ inside.  The
 * result goes in out (room for the whole line). */
static int parse_value(const char *p, char *out, char *err, size_t errlen)
{
	size_t o = 0;
	if (*p != '"') {
		size_t n = strcspn(p, "#");
		while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		memcpy(out, p, n);
		out[n] = '\0';
		return 0;
	}
	for (p++;; p++) {
		if (!*p)
			return fail(err, errlen, "unterminated quote");
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (p[1] != '"' && p[1] != '\\')
				return fail(err, errlen, "bad escape \\%c in quotes (only \\\" and \\\\)",
					    p[1] ? p[1] : '?');
			p++;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	for (p++; *p == ' ' || *p == '\t'; p++)
		;
	if (*p && *p != '#')
		return fail(err, errlen, "text after the closing quote");
	return 0;
}

/* One line: its key in *key (NULL for a blank or comment line). */
static int parse_line(struct athttp_settings *s, const char *line, const struct key **key,
		      char *err, size_t errlen)
{
	*key = NULL;
	if (strlen(line) > CONFIG_LINE_MAX)
		return fail(err, errlen, "line longer than %d bytes", CONFIG_LINE_MAX);
	const char *p = line + strspn(line, " \t");
	size_t len = strlen(p);
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '\r' ||
		       p[len - 1] == '\n'))
		len--;
	if (!len || *p == '#')
		return 0;

	char text[CONFIG_LINE_MAX + 1];
	memcpy(text, p, len);
	text[len] = '\0';
	char *eq = strchr(text, '=');
	size_t klen = strcspn(text, "= \t#");
	if (!eq) {
		if (klen == 0)
			return fail(err, errlen, "missing '=' (key = value)");
		return fail(err, errlen, "%.*s: missing '=' (key = value)", (int)klen, text);
	}
	if (klen == 0)
		return fail(err, errlen, "empty key before '='");
	char *after_key = text + klen + strspn(text + klen, " \t");
	if (after_key != eq)
		return fail(err, errlen, "%.*s: a key is one word, then '='", (int)klen, text);
	const struct key *k = find_key(text, klen);
	if (!k) {
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)klen, text);
		for (char *c = name; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
				*c = '?';
		return fail(err, errlen, "unknown key \"%s\"", name);
	}

	char value[CONFIG_LINE_MAX + 1], why[300];
	if (parse_value(eq + 1 + strspn(eq + 1, " \t"), value, why, sizeof why) < 0 ||
	    set_value(s, k, value, why, sizeof why) < 0)
		return fail(err, errlen, "%s: %s", k->name, why);
	*key = k;
	return 0;
}

int config_parse_line(struct athttp_settings *s, const char *line, char *err, size_t errlen)
{
	const struct key *k;
	return parse_line(s, line, &k, err, errlen);
}

static void warn_default(void *ctx, const char *text)
{
	(void)ctx;
	fprintf(stderr, "athttp: warning: %s\n", text);
}

int config_read_file(struct athttp_settings *s, const char *path, bool optional, char *err,
		     size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (optional && errno == ENOENT)
			return 0;
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	}
	struct stat st;
	FILE *f = fstat(fd, &st) == 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		int e = errno;
		close(fd);
		return fail(err, errlen, "%s: %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode)) {
		fclose(f);
		return fail(err, errlen, "%s: not a regular file", path);
	}

	/* Parsed into a scratch copy: a file with a bad line changes nothing. */
	struct athttp_settings tmp;
	config_init(&tmp);
	int first_line[N_KEYS] = { 0 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	int lineno = 0, rc = 0;
	const char *secret = NULL;
	while ((got = getline(&line, &cap, f)) >= 0) {
		lineno++;
		size_t len = (size_t)got;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		char why[400];
		const struct key *k = NULL;
		if (len > CONFIG_LINE_MAX) {
			rc = fail(why, sizeof why, "line longer than %d bytes", CONFIG_LINE_MAX);
		} else if (memchr(line, '\0', len)) {
			/* strlen would stop there: say so rather than read half a line */
			rc = fail(why, sizeof why, "control byte 0x00 in the line");
		} else {
			rc = parse_line(&tmp, line, &k, why, sizeof why);
		}
		if (rc == 0 && k) {
			size_t i = (size_t)(k - keys);
			if (first_line[i])
				rc = fail(why, sizeof why, "%s: set again (first on line %d)", k->name,
					  first_line[i]);
			first_line[i] = lineno;
			if (k->secret && !secret)
				secret = k->name;
		}
		if (rc < 0) {
			fail(err, errlen, "%s:%d: %s", path, lineno, why);
			break;
		}
	}
	bool read_error = ferror(f);
	free(line);
	fclose(f);
	if (rc == 0 && read_error)
		rc = fail(err, errlen, "%s: read error", path);
	if (rc < 0) {
		config_free(&tmp);
		return -1;
	}

	/* Warned, not refused: group-readable is how the daemon's group gets
	 * it, and a gateway must not lose its network over a file mode; the
	 * reader is told how to close it. */
	if (secret && (st.st_mode & S_IROTH)) {
		char text[PATH_MAX + 200];
		snprintf(text, sizeof text, "%s holds %s and every user can read it: chmod o-r %s",
			 path, secret, path);
		(s->warn ? s->warn : warn_default)(s->warn_ctx, text);
	}

	for (size_t i = 0; i < N_KEYS; i++) {
		if (!first_line[i])
			continue;
		const struct key *k = &keys[i];
		if (is_string_kind(k->kind)) {
			char **dst = str_field(s, k);
			free(*dst);
			*dst = *str_field(&tmp, k);
			*str_field(&tmp, k) = NULL;
		} else {
			*int_field(s, k) = *int_field(&tmp, k);
		}
	}
	config_free(&tmp);
	return 0;
}

void config_env_name(size_t i, char *out, size_t outlen)
{
	const char *name = config_key_name(i);
	size_t o = 0;
	if (outlen)
		out[0] = '\0';
	if (!name || outlen < 8)
		return;
	o = (size_t)snprintf(out, outlen, "ATHTTP_");
	for (const char *c = name; *c && o + 1 < outlen; c++)
		out[o++] = (char)toupper((unsigned char)*c);
	out[o] = '\0';
}

int config_from_env(struct athttp_settings *s, char *err, size_t errlen)
{
	/* Checked into a copy first: all or nothing, as with a file. */
	struct athttp_settings tmp;
	config_init(&tmp);
	bool set[N_KEYS] = { false };
	for (size_t i = 0; i < N_KEYS; i++) {
		char name[64], why[300];
		config_env_name(i, name, sizeof name);
		const char *v = getenv(name);
		/* Empty is unset, as the wrapper has always read its variables. */
		if (!v || !*v)
			continue;
		if (set_value(&tmp, &keys[i], v, why, sizeof why) < 0) {
			config_free(&tmp);
			return fail(err, errlen, "%s: %s", name, why);
		}
		set[i] = true;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		if (!set[i])
			continue;
		const struct key *k = &keys[i];
		if (is_string_kind(k->kind)) {
			free(*str_field(s, k));
			*str_field(s, k) = *str_field(&tmp, k);
			*str_field(&tmp, k) = NULL;
		} else {
			*int_field(s, k) = *int_field(&tmp, k);
		}
	}
	config_free(&tmp);
	return 0;
}

int config_user_path(char *out, size_t outlen)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	/* The XDG base directory spec: a relative path is to be ignored. */
	if (xdg && xdg[0] == '/')
		return snprintf(out, outlen, "%s/athttp/athttp.conf", xdg) < (int)outlen ? 0 : -1;
	const char *home = getenv("HOME");
	if (!home || home[0] != '/') {
		const struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	if (!home || !*home)
		return -1;
	return snprintf(out, outlen, "%s/.config/athttp/athttp.conf", home) < (int)outlen ? 0 : -1;
}

int config_system_path(char *out, size_t outlen)
{
	const char *etc = getenv("ATHTTP_SYSCONFDIR");
	if (!etc || !*etc)
		etc = "/etc";
	return snprintf(out, outlen, "%s/athttp.conf", etc) < (int)outlen ? 0 : -1;
}

int config_load(struct athttp_settings *s, const char *explicit_path, char *err, size_t errlen)
{
	if (explicit_path)
		return config_read_file(s, explicit_path, false, err, errlen);
	char path[PATH_MAX];
	if (config_system_path(path, sizeof path) == 0 &&
	    config_read_file(s, path, true, err, errlen) < 0)
		return -1;
	/* No home directory: no user file, not an error (a daemon's user). */
	if (config_user_path(path, sizeof path) == 0 &&
	    config_read_file(s, path, true, err, errlen) < 0)
		return -1;
	return 0;
}

void config_netup(const struct athttp_settings *s, struct netup_config *nc)
{
	*nc = (struct netup_config){
		.pin = s->pin,
		.apn = s->apn,
		.apn_user = s->apn_user,
		.apn_password = s->apn_password,
		.wifi_ssid = s->wifi_ssid,
		.wifi_password = s->wifi_password,
		.register_timeout_ms = s->register_timeout_ms,
	};
}
