/* The engine's side of athttp_modem: one module, one exchange at a time. */
#ifndef ATH_MODEM_H
#define ATH_MODEM_H

#include "athttp.h"
#include "dialect.h"

const struct dialect *modem_dialect(const athttp_modem *m);

/* Runs one exchange under the modem's lock: opens the port and brings the
 * module up if needed, and puts it back in step after a failure. */
enum ath_err modem_exchange(athttp_modem *m, const struct dialect_request *rq,
			    const struct response_sink *sink, struct ath_error *err);

/* The X-Athttp-Error value for err: "<dialect> <code> <meaning>" or
 * "<dialect> <what failed>". */
void modem_error_header(const athttp_modem *m, const struct ath_error *err, char *out, size_t len);

/* AT commands sent since the port was opened (benchmarks, tests). */
unsigned long modem_commands_sent(athttp_modem *m);

#endif
