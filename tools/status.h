/* athttp status: the module's state, from the daemon or the module. */
#ifndef ATHTTP_STATUS_H
#define ATHTTP_STATUS_H

#include <stdio.h>

/* argv[0] is "status"; help and short_help as doctor_main's.  Returns the
 * exit status: 0 shown, 1 module (or daemon) unreachable, 2 usage. */
int status_main(int argc, char **argv, void (*help)(FILE *out), void (*short_help)(void));

#endif
