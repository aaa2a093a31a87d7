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

/* Opens the port and runs the dialect's bring-up now, under the modem's
 * lock, instead of at the first exchange (athttp doctor's check that the
 * HTTP service starts).  ATH_OK: the module is up for exchanges. */
enum ath_err modem_bringup_check(athttp_modem *m, struct ath_error *err);

/* The X-Athttp-Error value for err: "<dialect> <code> <meaning>" or
 * "<dialect> <what failed>". */
void modem_error_header(const athttp_modem *m, const struct ath_error *err, char *out, size_t len);

/* The server side of the program's TLS (the local CA and its leaves),
 * made at the first call; NULL with a reason when the CA cannot be had. */
struct tls_server *modem_tls_server(athttp_modem *m, struct ath_error *err);

struct trace *modem_trace(const athttp_modem *m);

/* AT commands sent since the port was opened (benchmarks, tests). */
unsigned long modem_commands_sent(athttp_modem *m);

#endif
