/* athttp doctor: the checks a user would run by hand on a module. */
#ifndef ATHTTP_DOCTOR_H
#define ATHTTP_DOCTOR_H

#include <stdio.h>

/* argv[0] is "doctor".  help prints athttp's whole help (-h), short_help
 * its synopsis after a usage error.  Returns the exit status: 0 when every
 * check passed (warnings allowed), 1 when one failed, 2 for a bad command
 * line. */
int doctor_main(int argc, char **argv, void (*help)(FILE *out), void (*short_help)(void));

#endif
