/* The engine's one error type.  errno appears only at the hook edge. */
#ifndef ATH_ERR_H
#define ATH_ERR_H

#include <stddef.h>

enum ath_err {
	ATH_OK = 0,
	ATH_E_TIMEOUT,      /* the module did not answer in time */
	ATH_E_IO,           /* the serial port failed */
	ATH_E_MODULE,       /* the module reported a failure (code in module_code) */
	ATH_E_PROTOCOL,     /* the module said something we cannot make sense of */
	ATH_E_BAD_REQUEST,  /* the client's request is malformed or unsafe: 400 */
	ATH_E_UNSUPPORTED,  /* the dialect cannot express the request: 501 */
	ATH_E_TOO_LARGE,    /* a body over the dialect's limit: 413 */
	ATH_E_CONFIG,       /* bad configuration (device, dialect, baud) */
	ATH_E_BUSY,         /* the port is held by another process */
	ATH_E_CLIENT_GONE,  /* the client closed its end */
	ATH_E_NOMEM,
};

/* An error with what a person needs to act on it.  http_status is what the
 * client gets (400, 413, 501, 502, 504). */
struct ath_error {
	enum ath_err code;
	int http_status;
	int module_code;    /* the dialect's own code, or -1 */
	char text[400];     /* one line, no CR/LF */
};

const char *ath_strerror(enum ath_err e);

/* Sets *e (if e is not NULL) and returns code.  http_status 0 picks the
 * usual status for the code. */
enum ath_err ath_fail(struct ath_error *e, enum ath_err code, int module_code,
		      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* ath_fail with the client's status given (421, 431, 503, ...) instead of
 * the code's usual one; 0 picks the usual one too. */
enum ath_err ath_fail_status(struct ath_error *e, enum ath_err code, int http_status,
			     int module_code, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

void ath_error_clear(struct ath_error *e);

#endif
