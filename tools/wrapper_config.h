/* The wrapper's configuration: athttp.conf and the ATHTTP_* environment
 * merged into the environment COMMAND gets, and -m auto resolved. */
#ifndef ATHTTP_WRAPPER_CONFIG_H
#define ATHTTP_WRAPPER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

/* Reads the config files (config_path only, when given: -c), takes
 * ATHTTP_<KEY> over them, checks both, and sets ATHTTP_<KEY> in our
 * environment to each setting in its plain form (booleans 1/0).  Keys in
 * from_flags (NULL-terminated key names; the command line sets those
 * itself, later) are neither checked nor set here.  Returns 0, or -1 with
 * "FILE:LINE: reason" / "ATHTTP_KEY: reason" in err. */
int wrapper_config_apply(const char *config_path, const char *const *from_flags, char *err,
			 size_t errlen);

/* -m auto: identifies the module on device and sets ATHTTP_MODEM to its
 * family, saying "athttp: found <what>" on stderr.  Returns 0, or the
 * exit status after saying why not on stderr: 2 for a module that is not
 * one family athttp speaks (unknown, ambiguous), 1 for a port that fails
 * or stays silent. */
int wrapper_resolve_auto(const char *device, const char *baud, const char *rtscts);

#endif
