/*
 * What to tell a person whose program cannot open the module's serial
 * port: the device, the user it runs as, and what would let it in.  The
 * engine says it in one line (the trace, stderr, X-Athttp-Error); athttp
 * doctor says the same fixes on lines of their own.
 */
#ifndef ATH_DEVICE_ACCESS_H
#define ATH_DEVICE_ACCESS_H

#include <stddef.h>

#include "err.h"

/* Fails err for a device open() refused with errnum: 502 (ATH_E_IO;
 * ENOENT ATH_E_CONFIG; EBUSY ATH_E_BUSY, 503).  EACCES/EPERM name the user
 * and the fixes (the device's group, a udev rule, the daemon); ENOENT and
 * EBUSY theirs; others the errno text alone. */
enum ath_err device_open_failed(struct ath_error *err, const char *path, int errnum);

/* The name of the user this process runs as (effective uid), or its
 * number. */
void device_user_name(char *out, size_t len);

/* "sudo usermod -aG GROUP USER, then log in again" */
void device_group_fix(const char *group, const char *user, char *out, size_t len);

/* The way that needs no access to the device at all. */
extern const char device_daemon_fix[];

#endif
