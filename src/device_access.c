/* The words for a serial port this process may not open; see
 * device_access.h. */
#include "device_access.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char device_daemon_fix[] =
	"run athttpd (it owns the port) and point programs at it with ATHTTP_SOCKET";

void device_user_name(char *out, size_t len)
{
	struct passwd pw, *found = NULL;
	char buf[1024];
	/* The _r form: the engine asks from its connection threads. */
	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found)
		snprintf(out, len, "%s", found->pw_name);
	else
		snprintf(out, len, "%u", (unsigned)geteuid());
}

void device_group_fix(const char *group, const char *user, char *out, size_t len)
{
	snprintf(out, len, "sudo usermod -aG %s %s, then log in again", group, user);
}

/* The group a user must join: the device's own when it lets its group read
 * and write, else dialout (Debian's group for serial ports), which a udev
 * rule then gives the port. */
static void group_to_join(const char *path, char *out, size_t len)
{
	struct stat st;
	struct group gr, *found = NULL;
	char buf[1024];
	if (stat(path, &st) == 0 && (st.st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP) &&
	    st.st_gid != 0 && getgrgid_r(st.st_gid, &gr, buf, sizeof buf, &found) == 0 && found)
		snprintf(out, len, "%s", found->gr_name);
	else
		snprintf(out, len, "dialout");
}

enum ath_err device_open_failed(struct ath_error *err, const char *path, int errnum)
{
	char user[64], group[64], usermod[200];
	switch (errnum) {
	case EACCES:
	case EPERM:
		device_user_name(user, sizeof user);
		group_to_join(path, group, sizeof group);
		device_group_fix(group, user, usermod, sizeof usermod);
		return ath_fail(err, ATH_E_IO, -1,
				"cannot open %s: %s (user %s): add %s to group %s (%s), or give the "
				"port a udev rule (athttp doctor -d %s prints one), or %s",
				path, strerror(errnum), user, user, group, usermod, path,
				device_daemon_fix);
	case ENOENT:
		return ath_fail(err, ATH_E_CONFIG, -1,
				"cannot open %s: %s: plug the module in and see which name it got "
				"(ls -l /dev/ttyUSB* /dev/ttyACM* /dev/serial/by-id/), then give that "
				"device (athttp -d, ATHTTP_DEVICE)",
				path, strerror(errnum));
	case EBUSY:
		return ath_fail(err, ATH_E_BUSY, -1,
				"cannot open %s: %s: another program opened it for itself alone "
				"(TIOCEXCL; find it with: fuser -v %s); to share the module, %s",
				path, strerror(errnum), path, device_daemon_fix);
	default:
		return ath_fail(err, ATH_E_IO, -1, "cannot open %s: %s", path, strerror(errnum));
	}
}
