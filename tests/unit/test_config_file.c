/*
 * athttp.conf (config_file.c): every key with a good value and with bad
 * ones, every kind of bad line with its exact "FILE:LINE: reason", a file
 * with a bad line changing nothing, the order of files (later wins, -c
 * alone), the environment twins over the files with the same checks,
 * comments and quotes, the limits at their edges, and the warning for a
 * secret in a file every user can read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config_file.h"
#include "unit_util.h"

static char dir[] = "/tmp/athttp-test-config.XXXXXX";

/* path of a file under dir, written with text (mode 0600). */
static char *put(const char *name, const char *text)
{
	char *path = fmt("%s/%s", dir, name);
	for (char *slash = path + strlen(dir) + 1; (slash = strchr(slash, '/')); slash++) {
		*slash = '\0';
		mkdir(path, 0700);
		*slash = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, 0600), 0);
	return path;
}

/* Reads text as a file "t.conf"; returns the rc, the error in err. */
static int read_text(struct athttp_settings *s, const char *text, char *err, size_t errlen)
{
	char *path = put("t.conf", text);
	err[0] = '\0';
	int rc = config_read_file(s, path, false, err, errlen);
	free(path);
	return rc;
}

/* The error for text as a file, with "DIR/t.conf:" taken off. */
static const char *file_error(const char *text)
{
	static char err[600];
	struct athttp_settings s;
	config_init(&s);
	int rc = read_text(&s, text, err, sizeof err);
	config_free(&s);
	assert_int_equal(rc, -1);
	char *prefix = fmt("%s/t.conf:", dir);
	assert_true(strncmp(err, prefix, strlen(prefix)) == 0);
	memmove(err, err + strlen(prefix), strlen(err + strlen(prefix)) + 1);
	free(prefix);
	return err;
}

/* ------------------------------------------------------------ every key, good */

static void test_every_key_good(void **state)
{
	(void)state;
	struct athttp_settings s;
	config_init(&s);
	char err[400] = "";
	int rc = read_text(&s,
		"device = /dev/ttyUSB2\n"
		"modem = quectel\n"
		"baud = 921600\n"
		"rtscts = yes\n"
		"pin = 1234\n"
		"apn = internet.example\n"
		"apn_user = web\n"
		"apn_password = s3cret\n"
		"wifi_ssid = Home Net\n"
		"wifi_password = \"pass word#1\"\n"
		"module_ca = /etc/ssl/roots.pem\n"
		"insecure_upstream = off\n"
		"ca_dir = /var/lib/athttp/ca\n"
		"timeout_ms = 45000\n"
		"register_timeout_ms = 120000\n"
		"bypass = 192.168.0.0/16,fd00::/8\n"
		"socket = /run/athttp/athttpd.sock\n"
		"allow_users = alice, bob ,1000\n"
		"allow_groups = athttp\n"
		"trace = /tmp/at.log\n"
		"verbose = TRUE\n",
		err, sizeof err);
	assert_string_equal(err, "");
	assert_int_equal(rc, 0);
	assert_string_equal(s.device, "/dev/ttyUSB2");
	assert_string_equal(s.modem, "quectel");
	assert_int_equal(s.baud, 921600);
	assert_int_equal(s.rtscts, 1);
	assert_string_equal(s.pin, "1234");
	assert_string_equal(s.apn, "internet.example");
	assert_string_equal(s.apn_user, "web");
	assert_string_equal(s.apn_password, "s3cret");
	assert_string_equal(s.wifi_ssid, "Home Net");
	assert_string_equal(s.wifi_password, "pass word#1");
	assert_string_equal(s.module_ca, "/etc/ssl/roots.pem");
	assert_int_equal(s.insecure_upstream, 0);
	assert_string_equal(s.ca_dir, "/var/lib/athttp/ca");
	assert_int_equal(s.timeout_ms, 45000);
	assert_int_equal(s.register_timeout_ms, 120000);
	assert_string_equal(s.bypass, "192.168.0.0/16,fd00::/8");
	assert_string_equal(s.socket, "/run/athttp/athttpd.sock");
	assert_string_equal(s.allow_users, "alice,bob,1000");
	assert_string_equal(s.allow_groups, "athttp");
	assert_string_equal(s.trace, "/tmp/at.log");
	assert_int_equal(s.verbose, 1);
	config_free(&s);
	/* freed and back to "not set" */
	assert_null(s.device);
	assert_int_equal(s.rtscts, -1);
	assert_int_equal(s.baud, 0);
}

/* Not set: NULL, 0, -1 as the header says. */
static void test_init_not_set(void **state)
{
	(void)state;
	struct athttp_settings s;
	memset(&s, 0x5a, sizeof s);
	config_init(&s);
	assert_null(s.device);
	assert_null(s.allow_groups);
	assert_int_equal(s.baud, 0);
	assert_int_equal(s.timeout_ms, 0);
	assert_int_equal(s.rtscts, -1);
	assert_int_equal(s.insecure_upstream, -1);
	assert_int_equal(s.verbose, -1);
	assert_null(s.warn);
}

static void test_every_key_has_a_twin(void **state)
{
	(void)state;
	static const char *const expected[] = {
		"device", "modem", "baud", "rtscts", "pin", "apn", "apn_user", "apn_password",
		"wifi_ssid", "wifi_password", "module_ca", "insecure_upstream", "ca_dir",
		"timeout_ms", "register_timeout_ms", "bypass", "socket", "allow_users",
		"allow_groups", "trace", "verbose",
	};
	size_t n = sizeof expected / sizeof expected[0];
	assert_int_equal(config_key_count(), n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(config_key_name(i), expected[i]);
		char name[64], want[64];
		config_env_name(i, name, sizeof name);
		size_t o = (size_t)snprintf(want, sizeof want, "ATHTTP_");
		for (const char *c = expected[i]; *c; c++)
			want[o++] = (char)(*c >= 'a' && *c <= 'z' ? *c - 'a' + 'A' : *c);
		want[o] = '\0';
		assert_string_equal(name, want);
	}
	assert_null(config_key_name(n));
}

/* ------------------------------------------------------------ every key, bad */

struct bad_case {
	const char *line;
	const char *reason;    /* exact, without "FILE:LINE: " */
};

static const struct bad_case bad_values[] = {
	{ "device =", "device: empty value (leave the key out to keep the default)" },
	{ "device = \"\"", "device: empty value (leave the key out to keep the default)" },
	{ "modem = nokia", "modem: unknown modem \"nokia\"; one of: simcom | httpcfg | quectel | "
	  "neoway | onemo | espat | auto" },
	{ "modem = SIMCOM", "modem: unknown modem \"SIMCOM\"; one of: simcom | httpcfg | quectel | "
	  "neoway | onemo | espat | auto" },
	{ "baud = 12345", "baud: \"12345\" is not a standard baud rate (9600, 19200, 38400, 57600, "
	  "115200, 230400, 460800, 921600 ...)" },
	{ "baud = fast", "baud: \"fast\" is not a standard baud rate (9600, 19200, 38400, 57600, "
	  "115200, 230400, 460800, 921600 ...)" },
	{ "baud = -115200", "baud: \"-115200\" is not a standard baud rate (9600, 19200, 38400, "
	  "57600, 115200, 230400, 460800, 921600 ...)" },
	{ "baud = 115200.0", "baud: \"115200.0\" is not a standard baud rate (9600, 19200, 38400, "
	  "57600, 115200, 230400, 460800, 921600 ...)" },
	{ "rtscts = maybe", "rtscts: \"maybe\" is not a boolean (0/1, yes/no, true/false, on/off)" },
	{ "rtscts = 2", "rtscts: \"2\" is not a boolean (0/1, yes/no, true/false, on/off)" },
	{ "insecure_upstream = y", "insecure_upstream: \"y\" is not a boolean (0/1, yes/no, "
	  "true/false, on/off)" },
	{ "verbose = enabled", "verbose: \"enabled\" is not a boolean (0/1, yes/no, true/false, "
	  "on/off)" },
	{ "pin = 123", "pin: a PIN is 4 to 8 digits" },
	{ "pin = 123456789", "pin: a PIN is 4 to 8 digits" },
	{ "pin = 12a4", "pin: a PIN is 4 to 8 digits" },
	{ "pin = \" 1234\"", "pin: a PIN is 4 to 8 digits" },
	{ "timeout_ms = 0", "timeout_ms: \"0\" is not a number of milliseconds from 1 to 3600000" },
	{ "timeout_ms = 3600001", "timeout_ms: \"3600001\" is not a number of milliseconds from 1 "
	  "to 3600000" },
	{ "timeout_ms = 5s", "timeout_ms: \"5s\" is not a number of milliseconds from 1 to 3600000" },
	{ "timeout_ms = 99999999999", "timeout_ms: \"99999999999\" is not a number of milliseconds "
	  "from 1 to 3600000" },
	{ "register_timeout_ms = -5", "register_timeout_ms: \"-5\" is not a number of milliseconds "
	  "from 1 to 3600000" },
	{ "allow_users = alice,,bob", "allow_users: empty item in \"alice,,bob\" (names or numbers, "
	  "separated by commas)" },
	{ "allow_users = alice,", "allow_users: empty item in \"alice,\" (names or numbers, "
	  "separated by commas)" },
	{ "allow_groups = ,athttp", "allow_groups: empty item in \",athttp\" (names or numbers, "
	  "separated by commas)" },
	{ "allow_groups = a, ,b", "allow_groups: empty item in \"a, ,b\" (names or numbers, "
	  "separated by commas)" },
	{ "allow_users = al ice", "allow_users: \"al ice\" is not a name or a number" },
	{ "apn = \"inter\tnet\"", "apn: control byte 0x09 in the value" },
	{ "wifi_password = \"a\x1b[2Jb\"", "wifi_password: control byte 0x1b in the value" },
	{ "bypass = 10.0.0.0/8\x7f", "bypass: control byte 0x7f in the value" },
	{ "apn = \"internet", "apn: unterminated quote" },
	{ "apn = \"a\\nb\"", "apn: bad escape \\n in quotes (only \\\" and \\\\)" },
	{ "apn = \"a\" b", "apn: text after the closing quote" },
	{ "wifi_ssid = 123456789012345678901234567890123", "wifi_ssid: longer than 32 bytes" },
	{ "apn_user = 12345678901234567890123456789012345678901234567890123456789012345",
	  "apn_user: longer than 64 bytes" },
	{ "module_ca =   # nothing", "module_ca: empty value (leave the key out to keep the "
	  "default)" },
	{ "ca_dir = \"/var/\x01lib\"", "ca_dir: control byte 0x01 in the value" },
	{ "trace = \"/tmp/at.log", "trace: unterminated quote" },
	{ "socket = \"/run/a\rb\"", "socket: control byte 0x0d in the value" },
	{ "apn_user = x", NULL },   /* a good one among them: the table can tell */
};

static void test_every_key_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
		struct athttp_settings s;
		config_init(&s);
		char err[400] = "";
		int rc = config_parse_line(&s, bad_values[i].line, err, sizeof err);
		if (!bad_values[i].reason) {
			assert_int_equal(rc, 0);
		} else {
			if (strcmp(err, bad_values[i].reason) != 0)
				print_error("line %zu: \"%s\"\n   got: %s\n  want: %s\n", i,
					    bad_values[i].line, err, bad_values[i].reason);
			assert_int_equal(rc, -1);
			assert_string_equal(err, bad_values[i].reason);
			/* and nothing stored */
			assert_null(s.apn);
			assert_int_equal(s.baud, 0);
			assert_int_equal(s.rtscts, -1);
		}
		config_free(&s);
	}
}

/* A PIN or password is never repeated in a message. */
static void test_secrets_not_echoed(void **state)
{
	(void)state;
	const char *lines[] = { "pin = 98765x", "apn_password = \"hunter2\x01\"",
				"wifi_password = \"hunter2hunter2hunter2hunter2hunter2hunter2hunter2hunter2hunter2hunter2\"" };
	for (size_t i = 0; i < 3; i++) {
		struct athttp_settings s;
		config_init(&s);
		char err[400];
		assert_int_equal(config_parse_line(&s, lines[i], err, sizeof err), -1);
		assert_null(strstr(err, "98765"));
		assert_null(strstr(err, "hunter2"));
		config_free(&s);
	}
}

/* ------------------------------------------------------------ bad lines in a file */

static void test_bad_line_kinds(void **state)
{
	(void)state;
	static const struct bad_case files[] = {
		{ "# ok\ncolour = blue\n", "2: unknown key \"colour\"" },
		{ "Device = /dev/x\n", "1: unknown key \"Device\"" },
		{ "\n\ndevice /dev/ttyUSB2\n", "3: device: missing '=' (key = value)" },
		{ "device\n", "1: device: missing '=' (key = value)" },
		{ "   = /dev/ttyUSB2\n", "1: empty key before '='" },
		{ "dev ice = x\n", "1: dev: a key is one word, then '='" },
		{ "baud = 1\n", "1: baud: \"1\" is not a standard baud rate (9600, 19200, 38400, "
		  "57600, 115200, 230400, 460800, 921600 ...)" },
		{ "rtscts = nope\n", "1: rtscts: \"nope\" is not a boolean (0/1, yes/no, true/false, "
		  "on/off)" },
		{ "modem = sim com\n", "1: modem: unknown modem \"sim com\"; one of: simcom | httpcfg | "
		  "quectel | neoway | onemo | espat | auto" },
		{ "pin = 12\n", "1: pin: a PIN is 4 to 8 digits" },
		{ "apn = \"a\x02\"\n", "1: apn: control byte 0x02 in the value" },
		{ "device = a\nmodem = simcom\n  apn = \"x\n", "3: apn: unterminated quote" },
		{ "device = a\nmodem = onemo\n\n# again\ndevice = b\n", "5: device: set again (first on "
		  "line 1)" },
		{ "allow_users = a,,b\n", "1: allow_users: empty item in \"a,,b\" (names or numbers, "
		  "separated by commas)" },
		{ "device = a\n\x01 = b\n", "2: unknown key \"?\"" },
	};
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		const char *got = file_error(files[i].line);
		if (strcmp(got, files[i].reason) != 0)
			print_error("file %zu\n   got: %s\n  want: %s\n", i, got, files[i].reason);
		assert_string_equal(got, files[i].reason);
	}
}

static void test_nul_byte(void **state)
{
	(void)state;
	char *path = fmt("%s/nul.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite("device = a\napn = in\0ternet\n", 1, 27, f);
	fclose(f);
	struct athttp_settings s;
	config_init(&s);
	char err[400];
	assert_int_equal(config_read_file(&s, path, false, err, sizeof err), -1);
	char *want = fmt("%s:2: control byte 0x00 in the line", path);
	assert_string_equal(err, want);
	assert_null(s.device);
	free(want);
	free(path);
	config_free(&s);
}

/* A file with a bad line changes nothing, not even the lines before it. */
static void test_bad_file_changes_nothing(void **state)
{
	(void)state;
	struct athttp_settings s;
	config_init(&s);
	char err[400];
	assert_int_equal(read_text(&s, "device = /dev/one\nbaud = 9600\n", err, sizeof err), 0);
	assert_int_equal(read_text(&s, "device = /dev/two\nbaud = 19200\nverbose = 1\nbogus = 1\n",
				   err, sizeof err), -1);
	assert_string_equal(s.device, "/dev/one");
	assert_int_equal(s.baud, 9600);
	assert_int_equal(s.verbose, -1);
	config_free(&s);
}

/* ------------------------------------------------------------ comments, quotes, blanks */

static void test_comments_quotes_blanks(void **state)
{
	(void)state;
	struct athttp_settings s;
	config_init(&s);
	char err[400] = "";
	int rc = read_text(&s,
		"# a comment\n"
		"   # an indented comment\n"
		"\n"
		" \t \n"
		"device=/dev/ttyUSB2# no blank before the comment\n"
		"\tmodem\t=\tsimcom\t\t# tabs\n"
		"apn = \"  internet  \"   # blanks kept inside quotes\n"
		"apn_user = \"we#b\"\n"
		"apn_password = \"say \\\"hi\\\" \\\\o/\"\n"
		"wifi_ssid = two words  \r\n"
		"bypass = 10.0.0.0/8\n",
		err, sizeof err);
	assert_string_equal(err, "");
	assert_int_equal(rc, 0);
	assert_string_equal(s.device, "/dev/ttyUSB2");
	assert_string_equal(s.modem, "simcom");
	assert_string_equal(s.apn, "  internet  ");
	assert_string_equal(s.apn_user, "we#b");
	assert_string_equal(s.apn_password, "say \"hi\" \\o/");
	assert_string_equal(s.wifi_ssid, "two words");
	assert_string_equal(s.bypass, "10.0.0.0/8");
	config_free(&s);

	/* A file of comments only sets nothing. */
	config_init(&s);
	assert_int_equal(read_text(&s, "# nothing\n\n", err, sizeof err), 0);
	assert_null(s.device);
	assert_int_equal(s.baud, 0);
	config_free(&s);
	/* The last line may lack its newline. */
	config_init(&s);
	assert_int_equal(read_text(&s, "baud = 57600", err, sizeof err), 0);
	assert_int_equal(s.baud, 57600);
	config_free(&s);
}

static void test_booleans(void **state)
{
	(void)state;
	static const struct { const char *v; int want; } words[] = {
		{ "0", 0 }, { "1", 1 }, { "yes", 1 }, { "no", 0 }, { "true", 1 }, { "false", 0 },
		{ "on", 1 }, { "off", 0 }, { "Yes", 1 }, { "OFF", 0 },
	};
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		struct athttp_settings s;
		config_init(&s);
		char line[64], err[200];
		snprintf(line, sizeof line, "insecure_upstream = %s", words[i].v);
		assert_int_equal(config_parse_line(&s, line, err, sizeof err), 0);
		assert_int_equal(s.insecure_upstream, words[i].want);
		config_free(&s);
	}
}

static void test_modems_and_rates(void **state)
{
	(void)state;
	static const char *const modems[] = { "simcom", "neoway", "httpcfg", "quectel", "onemo",
					      "espat", "auto" };
	for (size_t i = 0; i < sizeof modems / sizeof modems[0]; i++) {
		struct athttp_settings s;
		config_init(&s);
		char line[64], err[300];
		snprintf(line, sizeof line, "modem = %s", modems[i]);
		assert_int_equal(config_parse_line(&s, line, err, sizeof err), 0);
		assert_string_equal(s.modem, modems[i]);
		config_free(&s);
	}
	static const int rates[] = { 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400,
				     460800, 921600, 1000000, 2000000, 3000000, 4000000 };
	for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
		struct athttp_settings s;
		config_init(&s);
		char line[64], err[300];
		snprintf(line, sizeof line, "baud = %d", rates[i]);
		assert_int_equal(config_parse_line(&s, line, err, sizeof err), 0);
		assert_int_equal(s.baud, rates[i]);
		config_free(&s);
	}
}

/* ------------------------------------------------------------ limits */

static void expect_line(const char *line, int rc_want)
{
	struct athttp_settings s;
	config_init(&s);
	char err[400] = "";
	int rc = config_parse_line(&s, line, err, sizeof err);
	if (rc != rc_want)
		print_error("%.60s...: rc %d, %s\n", line, rc, err);
	assert_int_equal(rc, rc_want);
	config_free(&s);
}

static void test_limits(void **state)
{
	(void)state;
	expect_line("pin = 1234", 0);
	expect_line("pin = 12345678", 0);
	expect_line("timeout_ms = 1", 0);
	expect_line("timeout_ms = 3600000", 0);
	expect_line("register_timeout_ms = 3600000", 0);
	expect_line("register_timeout_ms = 3600001", -1);

	char *apn100 = fmt("apn = %0100d", 0), *apn101 = fmt("apn = %0101d", 0);
	expect_line(apn100, 0);
	expect_line(apn101, -1);
	char *ssid32 = fmt("wifi_ssid = %032d", 0);
	expect_line(ssid32, 0);
	char *pw64 = fmt("wifi_password = %064d", 0), *pw65 = fmt("wifi_password = %065d", 0);
	expect_line(pw64, 0);
	expect_line(pw65, -1);
	char *u64 = fmt("apn_user = %064d", 0), *u65 = fmt("apn_password = %065d", 0);
	expect_line(u64, 0);
	expect_line(u65, -1);
	char sock[200];
	snprintf(sock, sizeof sock, "socket = /%0106d", 0);  /* 107 bytes */
	expect_line(sock, 0);
	snprintf(sock, sizeof sock, "socket = /%0107d", 0);  /* 108 */
	struct athttp_settings s;
	config_init(&s);
	char err[300];
	assert_int_equal(config_parse_line(&s, sock, err, sizeof err), -1);
	assert_string_equal(err, "socket: a socket path is at most 107 bytes");
	config_free(&s);
	free(apn100), free(apn101), free(ssid32), free(pw64), free(pw65), free(u64), free(u65);

	/* A line of 1024 bytes is read; one of 1025 is refused, by number. */
	char line[1100];
	int pad = 1024 - (int)strlen("bypass = ");
	snprintf(line, sizeof line, "bypass = %0*d\n", pad, 0);
	assert_int_equal(strlen(line), 1025);
	config_init(&s);
	char err2[400] = "";
	assert_int_equal(read_text(&s, line, err2, sizeof err2), 0);
	assert_int_equal(strlen(s.bypass), (size_t)pad);
	config_free(&s);
	snprintf(line, sizeof line, "# one\nbypass = %0*d\n", pad + 1, 0);
	assert_string_equal(file_error(line), "2: line longer than 1024 bytes");
}

/* ------------------------------------------------------------ files in order */

static void test_later_file_wins(void **state)
{
	(void)state;
	char *a = put("a.conf", "device = /dev/a\nbaud = 9600\napn = one\n");
	char *b = put("b.conf", "device = /dev/b\nrtscts = 1\n");
	struct athttp_settings s;
	config_init(&s);
	char err[400];
	assert_int_equal(config_read_file(&s, a, false, err, sizeof err), 0);
	assert_int_equal(config_read_file(&s, b, false, err, sizeof err), 0);
	assert_string_equal(s.device, "/dev/b");
	assert_int_equal(s.baud, 9600);
	assert_string_equal(s.apn, "one");
	assert_int_equal(s.rtscts, 1);
	config_free(&s);
	free(a), free(b);
}

static void test_missing_file(void **state)
{
	(void)state;
	struct athttp_settings s;
	config_init(&s);
	char err[400] = "";
	char *path = fmt("%s/none.conf", dir);
	assert_int_equal(config_read_file(&s, path, true, err, sizeof err), 0);
	assert_int_equal(config_read_file(&s, path, false, err, sizeof err), -1);
	char *want = fmt("%s: No such file or directory", path);
	assert_string_equal(err, want);
	/* a directory is not a config file */
	assert_int_equal(config_read_file(&s, dir, true, err, sizeof err), -1);
	free(want);
	want = fmt("%s: not a regular file", dir);
	assert_string_equal(err, want);
	free(want);
	free(path);
	config_free(&s);
}

static void test_load_default_order(void **state)
{
	(void)state;
	char *etc = fmt("%s/etc", dir), *xdg = fmt("%s/xdg", dir);
	free(put("etc/athttp.conf", "device = /dev/sys\nmodem = simcom\nbaud = 9600\n"));
	free(put("xdg/athttp/athttp.conf", "modem = onemo\n"));
	setenv("ATHTTP_SYSCONFDIR", etc, 1);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	struct athttp_settings s;
	config_init(&s);
	char err[400] = "";
	assert_int_equal(config_load(&s, NULL, err, sizeof err), 0);
	assert_string_equal(s.device, "/dev/sys");
	assert_string_equal(s.modem, "onemo");
	assert_int_equal(s.baud, 9600);
	config_free(&s);

	/* -c: that file alone */
	char *only = put("only.conf", "baud = 57600\n");
	config_init(&s);
	assert_int_equal(config_load(&s, only, err, sizeof err), 0);
	assert_null(s.device);
	assert_null(s.modem);
	assert_int_equal(s.baud, 57600);
	config_free(&s);

	/* a bad user file names itself */
	char *user = put("xdg/athttp/athttp.conf", "modem = onemo\nmodem = simcom\n");
	config_init(&s);
	assert_int_equal(config_load(&s, NULL, err, sizeof err), -1);
	char *want = fmt("%s:2: modem: set again (first on line 1)", user);
	assert_string_equal(err, want);
	config_free(&s);

	/* no XDG_CONFIG_HOME: HOME/.config */
	char path[4096];
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/someone", 1);
	assert_int_equal(config_user_path(path, sizeof path), 0);
	assert_string_equal(path, "/home/someone/.config/athttp/athttp.conf");
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);   /* ignored, as XDG says */
	assert_int_equal(config_user_path(path, sizeof path), 0);
	assert_string_equal(path, "/home/someone/.config/athttp/athttp.conf");
	unsetenv("ATHTTP_SYSCONFDIR");
	assert_int_equal(config_system_path(path, sizeof path), 0);
	assert_string_equal(path, "/etc/athttp.conf");
	unsetenv("XDG_CONFIG_HOME");
	free(want), free(user), free(only), free(etc), free(xdg);
}

/* ------------------------------------------------------------ the environment */

static void clear_env(void)
{
	for (size_t i = 0; i < config_key_count(); i++) {
		char name[64];
		config_env_name(i, name, sizeof name);
		unsetenv(name);
	}
}

static void test_env_over_file(void **state)
{
	(void)state;
	clear_env();
	struct athttp_settings s;
	config_init(&s);
	char err[400] = "";
	assert_int_equal(read_text(&s, "device = /dev/file\nmodem = simcom\nbaud = 9600\n"
				   "verbose = 1\n", err, sizeof err), 0);
	setenv("ATHTTP_DEVICE", "/dev/env", 1);
	setenv("ATHTTP_BAUD", "115200", 1);
	setenv("ATHTTP_VERBOSE", "off", 1);
	setenv("ATHTTP_ALLOW_USERS", "a, b", 1);
	setenv("ATHTTP_PIN", "0000", 1);
	setenv("ATHTTP_MODEM", "", 1);   /* empty: not set */
	assert_int_equal(config_from_env(&s, err, sizeof err), 0);
	assert_string_equal(s.device, "/dev/env");
	assert_string_equal(s.modem, "simcom");
	assert_int_equal(s.baud, 115200);
	assert_int_equal(s.verbose, 0);
	assert_string_equal(s.allow_users, "a,b");
	assert_string_equal(s.pin, "0000");
	config_free(&s);
	clear_env();
}

static void test_env_bad(void **state)
{
	(void)state;
	static const struct { const char *name, *value, *reason; } cases[] = {
		{ "ATHTTP_BAUD", "12345", "ATHTTP_BAUD: \"12345\" is not a standard baud rate (9600, "
		  "19200, 38400, 57600, 115200, 230400, 460800, 921600 ...)" },
		{ "ATHTTP_RTSCTS", "maybe", "ATHTTP_RTSCTS: \"maybe\" is not a boolean (0/1, yes/no, "
		  "true/false, on/off)" },
		{ "ATHTTP_MODEM", "nokia", "ATHTTP_MODEM: unknown modem \"nokia\"; one of: simcom | "
		  "httpcfg | quectel | neoway | onemo | espat | auto" },
		{ "ATHTTP_PIN", "12", "ATHTTP_PIN: a PIN is 4 to 8 digits" },
		{ "ATHTTP_REGISTER_TIMEOUT_MS", "0", "ATHTTP_REGISTER_TIMEOUT_MS: \"0\" is not a number "
		  "of milliseconds from 1 to 3600000" },
		{ "ATHTTP_ALLOW_GROUPS", "a,", "ATHTTP_ALLOW_GROUPS: empty item in \"a,\" (names or "
		  "numbers, separated by commas)" },
		{ "ATHTTP_APN", "in\nternet", "ATHTTP_APN: control byte 0x0a in the value" },
		{ "ATHTTP_WIFI_SSID", "123456789012345678901234567890123", "ATHTTP_WIFI_SSID: longer "
		  "than 32 bytes" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		clear_env();
		struct athttp_settings s;
		config_init(&s);
		char err[400] = "";
		/* a good one first: all or nothing */
		setenv("ATHTTP_DEVICE", "/dev/env", 1);
		setenv(cases[i].name, cases[i].value, 1);
		assert_int_equal(config_from_env(&s, err, sizeof err), -1);
		assert_string_equal(err, cases[i].reason);
		assert_null(s.device);
		config_free(&s);
	}
	clear_env();
}

/* ------------------------------------------------------------ secrets in a readable file */

static int warned;
static char warned_text[600];
static void on_warn(void *ctx, const char *text)
{
	*(int *)ctx += 1;
	snprintf(warned_text, sizeof warned_text, "%s", text);
}

static void test_readable_secret_warned(void **state)
{
	(void)state;
	struct athttp_settings s;
	config_init(&s);
	warned = 0;
	s.warn = on_warn;
	s.warn_ctx = &warned;
	char err[400];
	char *path = put("secret.conf", "device = /dev/x\nwifi_password = abcdefgh\n");

	assert_int_equal(chmod(path, 0640), 0);   /* the daemon's group may read it */
	assert_int_equal(config_read_file(&s, path, false, err, sizeof err), 0);
	assert_int_equal(warned, 0);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(config_read_file(&s, path, false, err, sizeof err), 0);
	assert_int_equal(warned, 1);
	char *want = fmt("%s holds wifi_password and every user can read it: chmod o-r %s", path,
			 path);
	assert_string_equal(warned_text, want);
	assert_null(strstr(warned_text, "abcdefgh"));
	free(want);

	/* no secret in it: no warning */
	char *plain = put("plain.conf", "device = /dev/x\napn = internet\n");
	assert_int_equal(chmod(plain, 0644), 0);
	assert_int_equal(config_read_file(&s, plain, false, err, sizeof err), 0);
	assert_int_equal(warned, 1);
	/* config_free keeps the warning's target */
	config_free(&s);
	assert_ptr_equal(s.warn, on_warn);
	free(path), free(plain);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char *cmd = fmt("rm -rf '%s'", dir);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key_good),
		cmocka_unit_test(test_init_not_set),
		cmocka_unit_test(test_every_key_has_a_twin),
		cmocka_unit_test(test_every_key_bad),
		cmocka_unit_test(test_secrets_not_echoed),
		cmocka_unit_test(test_bad_line_kinds),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_bad_file_changes_nothing),
		cmocka_unit_test(test_comments_quotes_blanks),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_modems_and_rates),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_later_file_wins),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_load_default_order),
		cmocka_unit_test(test_env_over_file),
		cmocka_unit_test(test_env_bad),
		cmocka_unit_test(test_readable_secret_warned),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
