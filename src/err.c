#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *text;
	int http_status;
} err_table[] = {
	[ATH_OK]            = { "success", 200 },
	[ATH_E_TIMEOUT]     = { "module timeout", 504 },
	[ATH_E_IO]          = { "serial port error", 502 },
	[ATH_E_MODULE]      = { "module error", 502 },
	[ATH_E_PROTOCOL]    = { "unexpected module reply", 502 },
	[ATH_E_BAD_REQUEST] = { "bad request", 400 },
	[ATH_E_UNSUPPORTED] = { "not expressible by this module", 501 },
	[ATH_E_TOO_LARGE]   = { "request body too large", 413 },
	[ATH_E_CONFIG]      = { "configuration error", 502 },
	[ATH_E_BUSY]        = { "serial port busy", 503 },
	[ATH_E_CLIENT_GONE] = { "client closed the connection", 499 },
	[ATH_E_NOMEM]       = { "out of memory", 500 },
};

const char *ath_strerror(enum ath_err e)
{
	if ((size_t)e >= sizeof err_table / sizeof err_table[0])
		return "unknown error";
	return err_table[e].text;
}

static void fill(struct ath_error *e, enum ath_err code, int http_status, int module_code,
		 const char *fmt, va_list ap)
{
	e->code = code;
	e->module_code = module_code;
	e->http_status = http_status ? http_status
		       : (size_t)code < sizeof err_table / sizeof err_table[0]
				 ? err_table[code].http_status : 502;
	vsnprintf(e->text, sizeof e->text, fmt, ap);
	/* The text goes into a response header: keep it on one line. */
	for (char *p = e->text; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
}

enum ath_err ath_fail(struct ath_error *e, enum ath_err code, int module_code,
		      const char *fmt, ...)
{
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	fill(e, code, 0, module_code, fmt, ap);
	va_end(ap);
	return code;
}

enum ath_err ath_fail_status(struct ath_error *e, enum ath_err code, int http_status,
			     int module_code, const char *fmt, ...)
{
	if (!e)
		return code;
	va_list ap;
	va_start(ap, fmt);
	fill(e, code, http_status, module_code, fmt, ap);
	va_end(ap);
	return code;
}

void ath_error_clear(struct ath_error *e)
{
	memset(e, 0, sizeof *e);
	e->module_code = -1;
}
