/*
 * The words for a device that cannot be opened: the device, the user and
 * the fixes, each errno its own, and the status the client gets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "device_access.h"

static void test_denied_names_user_and_fixes(void **state)
{
	(void)state;
	const struct passwd *pw = getpwuid(geteuid());
	assert_non_null(pw);
	char want[600];
	snprintf(want, sizeof want,
		 "cannot open /dev/athttp-none: Permission denied (user %s): add %s to group dialout "
		 "(sudo usermod -aG dialout %s, then log in again), or give the port a udev rule "
		 "(athttp doctor -d /dev/athttp-none prints one), or run athttpd (it owns the port) "
		 "and point programs at it with ATHTTP_SOCKET",
		 pw->pw_name, pw->pw_name, pw->pw_name);
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(device_open_failed(&err, "/dev/athttp-none", EACCES), ATH_E_IO);
	assert_string_equal(err.text, want);
	assert_int_equal(err.http_status, 502);
	ath_error_clear(&err);
	device_open_failed(&err, "/dev/athttp-none", EPERM);
	assert_non_null(strstr(err.text, "Operation not permitted (user "));
	assert_non_null(strstr(err.text, "ATHTTP_SOCKET"));
}

static void test_missing_and_busy(void **state)
{
	(void)state;
	struct ath_error err;
	ath_error_clear(&err);
	assert_int_equal(device_open_failed(&err, "/dev/ttyUSB7", ENOENT), ATH_E_CONFIG);
	assert_int_equal(err.http_status, 502);
	assert_string_equal(err.text,
			    "cannot open /dev/ttyUSB7: No such file or directory: plug the module in and see "
			    "which name it got (ls -l /dev/ttyUSB* /dev/ttyACM* /dev/serial/by-id/), then "
			    "give that device (athttp -d, ATHTTP_DEVICE)");
	ath_error_clear(&err);
	assert_int_equal(device_open_failed(&err, "/dev/ttyUSB7", EBUSY), ATH_E_BUSY);
	assert_int_equal(err.http_status, 503);
	assert_non_null(strstr(err.text, "fuser -v /dev/ttyUSB7"));
	ath_error_clear(&err);
	assert_int_equal(device_open_failed(&err, "/dev/ttyUSB7", EIO), ATH_E_IO);
	assert_string_equal(err.text, "cannot open /dev/ttyUSB7: Input/output error");
}

static void test_group_fix(void **state)
{
	(void)state;
	char out[100];
	device_group_fix("uucp", "pi", out, sizeof out);
	assert_string_equal(out, "sudo usermod -aG uucp pi, then log in again");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denied_names_user_and_fixes),
		cmocka_unit_test(test_missing_and_busy),
		cmocka_unit_test(test_group_fix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
