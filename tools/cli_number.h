/* Numbers on the wrapper's command lines (athttp, its doctor and status). */
#ifndef ATHTTP_CLI_NUMBER_H
#define ATHTTP_CLI_NUMBER_H

#include <stdbool.h>

/* s is all decimal digits and names an int above 0: its value in *out
 * (out may be NULL). */
bool cli_positive_int(const char *s, int *out);

#endif
