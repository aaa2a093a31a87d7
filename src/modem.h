/* The engine's side of athttp_modem: one module, one exchange at a time. */
#ifndef ATH_MODEM_H
#define ATH_MODEM_H

#include "athttp.h"
#include "dialect.h"

const struct dialect *modem_dialect(const athttp_modem *m);

/* athttp_open with the dialect given, not named by cfg->modem (which is
 * not looked at): a dialect of a test's own. */
athttp_modem *modem_open(const struct athttp_config *cfg, const struct dialect *d, char *err, size_t errlen);

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

/* --- For a long-lived owner of the module (athttpd) and the network bring-up. */

/* Network bring-up (netup.h) before the dialect's own, at every bring-up
 * (the first, and again after a reset).  cfg is copied; NULL turns it off.
 * Returns 0, or -1 out of memory. */
int modem_set_netup(athttp_modem *m, const struct netup_config *cfg);

/* Keeps the port locked and the module up between exchanges (no idle
 * release): the daemon's mode. */
void modem_set_persistent(athttp_modem *m, bool on);

/* The whole-exchange timeout from now on (SIGHUP); 0: the default. */
void modem_set_timeout(athttp_modem *m, int timeout_ms);

/* The idle health probe: when no exchange runs, checks the module answers
 * (AT) and has not reset; brings it up again if it did.  ATH_OK: up. */
enum ath_err modem_probe(athttp_modem *m, struct ath_error *err);

/* Runs fn with the module's chat under the modem's lock (opening the port
 * and bringing the module up first when bring_up), for status queries. */
enum ath_err modem_with_chat(athttp_modem *m, bool bring_up,
			     void (*fn)(struct at_chat *chat, const struct dialect *d, void *ctx),
			     void *ctx, struct ath_error *err);

/* What the engine did since it opened. */
struct modem_counters {
	unsigned long requests, errors;
	unsigned long long bytes_to_module, bytes_from_module;
	bool up;
	struct netup_state net;
	char last_error[200];
};
void modem_counters(athttp_modem *m, struct modem_counters *c);

/* The start of a shutdown: exchanges queued now and later fail at once
 * (503 "shutting down"); the one on the line goes on. */
void modem_stop_queue(athttp_modem *m);

/* Puts the module back (the dialect's teardown) when it is up and in
 * step, then closes the port: the daemon's SIGTERM, after the exchange
 * on the line (up to 15 s), the teardown within 10 s. */
void modem_shutdown(athttp_modem *m);

/* The same with bounds of its own: waits at most wait_ms for the exchange
 * on the line (still running then: nothing is touched), and the teardown
 * ends within teardown_ms whatever the module does.  The port's lock, if
 * it went idle, is taken back only when nobody holds it. */
void modem_shutdown_within(athttp_modem *m, int wait_ms, int teardown_ms);

/* A program that ends puts the module back within these (athttp_close,
 * the preload library at exit): an exit never waits long on a module. */
#define MODEM_EXIT_WAIT_MS 500
#define MODEM_EXIT_TEARDOWN_MS 1500

/* Says a port that cannot be opened on stderr as well as in the trace,
 * once for each reason (the preload library, for the program's user). */
void modem_set_stderr_notices(athttp_modem *m, bool on);

/* The local CA's certificate, PEM (for the daemon's clients to trust);
 * NULL with a reason when there is none. */
const char *modem_ca_pem(athttp_modem *m, struct ath_error *err);

#endif
