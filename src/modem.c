#include "modem.h"
#include "clock.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "at_chat.h"
#include "at_sync.h"
#include "fair_lock.h"
#include "local_ca.h"
#include "netup.h"
#include "tls_server.h"
#include "transport.h"
#include "transport_deadline.h"

struct athttp_modem {
	char *device;
	char *trace_path;
	char *record_path;
	unsigned redact;
	int replay_pace;
	int baud, rtscts, verbose, timeout_ms;
	const struct dialect *d;

	/* https: the module's side (its roots, whether it verifies), set up
	 * by the dialect's tls_setup once per bring-up, under lock. */
	struct module_tls module_tls;
	char *module_ca_pem;
	bool tls_ready;
	struct tls_verdict verdict;
	/* The program's side: the local CA and the TLS server, made at the
	 * first TLS connection, under tls_lock (never the exchange's lock,
	 * which a long download holds). */
	char *ca_dir;
	pthread_mutex_t tls_lock;
	struct local_ca *local_ca;
	struct tls_server *tls_server;

	/* Exchanges queue for the module here, in the order they asked
	 * (round-robin across the daemon's clients), then take lock, which
	 * guards the port's state against the idle releaser. */
	struct fair_lock xlock;
	pthread_mutex_t lock;
	struct transport *tp;
	struct at_chat chat;
	struct trace *trace;
	void *state;
	bool up;                 /* brought up; the module is in step */
	/* The last exchange failed in a way that may have left the module
	 * out of step (a timeout, a framing error): it is put back before
	 * its next use, not while the client waits for its answer. */
	bool resync;

	/* The port's lock is let go after PORT_IDLE_RELEASE_MS without an
	 * exchange, so a forked child or another program can use the module
	 * while this one is idle; the descriptor stays open. */
	bool port_locked;
	long long last_used_ms;
	bool releaser_running, closing;
	pthread_t releaser;
	pthread_cond_t idle_cv;

	/* The daemon's mode: the port stays locked, the module up. */
	bool persistent;
	/* A port that cannot be opened is said on stderr too, once for each
	 * reason (the preload library: the program's user sees it). */
	bool tell_stderr;
	char told[sizeof ((struct ath_error *)0)->text];
	bool shutting_down;
	/* Network bring-up (netup.h), strings owned. */
	bool have_netup;
	struct netup_config netcfg;
	char *net_strings[6];
	struct netup_state net;

	/* Counters, under stats_lock (never the exchange's locks: athttp
	 * status must answer while a long download runs). */
	pthread_mutex_t stats_lock;
	unsigned long requests, errors;
	unsigned long long bytes_to_module, bytes_from_module;
	unsigned long long seen_in, seen_out;  /* the chat's counts accounted */
	bool stat_up;
	struct netup_state stat_net;
	char last_error[200];
};

/* How long an exchange waits for another process to release the port. */
#define PORT_LOCK_TIMEOUT_MS 30000
#define DEFAULT_ACTION_TIMEOUT_MS 150000
#define PORT_IDLE_RELEASE_MS 2000
#define UNVERIFIED_HEADER "X-Athttp-Upstream-TLS"

/* The exchange lock for a short job that must run (settings, counts):
 * a shutdown's cancel wakes those queued, and this one asks again. */
static void take_lock(athttp_modem *m)
{
	while (fair_lock_acquire(&m->xlock, -1) != 0)
		;
}

static bool shutting_down(athttp_modem *m)
{
	return __atomic_load_n(&m->shutting_down, __ATOMIC_SEQ_CST);
}

static void init_sync(athttp_modem *m)
{
	fair_lock_init(&m->xlock);
	pthread_mutex_init(&m->stats_lock, NULL);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->tls_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->idle_cv, &ca);
	pthread_condattr_destroy(&ca);
}

static int env_int(const char *name, int dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	char *end;
	long n = strtol(v, &end, 10);
	return *end || n < 0 || n > 100000000 ? dflt : (int)n;
}

void athttp_config_from_env(struct athttp_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->device = getenv("ATHTTP_DEVICE");
	cfg->modem = getenv("ATHTTP_MODEM");
	cfg->baud = env_int("ATHTTP_BAUD", 0);
	cfg->rtscts = env_int("ATHTTP_RTSCTS", 0);
	cfg->trace = getenv("ATHTTP_TRACE");
	cfg->verbose = env_int("ATHTTP_VERBOSE", 0);
	cfg->timeout_ms = env_int("ATHTTP_TIMEOUT_MS", 0);
	cfg->record = getenv("ATHTTP_RECORD");
	cfg->redact = getenv("ATHTTP_REDACT");
	cfg->replay_pace = env_int("ATHTTP_REPLAY_PACE", 0);
	cfg->module_ca = getenv("ATHTTP_MODULE_CA");
	cfg->insecure_upstream = env_int("ATHTTP_INSECURE_UPSTREAM", 0);
	cfg->ca_dir = getenv("ATHTTP_CA_DIR");
}

/* The whole of a PEM file, NUL-terminated; NULL with a reason. */
static char *read_pem(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cannot read the module CA file %s: %m", path);
		return NULL;
	}
	/* The roots a module holds are a few certificates; a whole system
	 * bundle (220 KB) does not fit a module anyway. */
	enum { MAX_PEM = 512 * 1024 };
	char *buf = malloc(MAX_PEM + 1);
	size_t n = buf ? fread(buf, 1, MAX_PEM + 1, f) : 0;
	bool bad = ferror(f);
	fclose(f);
	if (!buf || bad || n > MAX_PEM || !memmem(buf, n, "-----BEGIN CERTIFICATE-----", 27)) {
		snprintf(err, errlen, "%s: %s", path,
			 !buf ? "out of memory" : bad ? "read error" : n > MAX_PEM ? "over 512 KB"
			 : "no PEM certificate in it");
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* "credentials,bodies" to TRANSPORT_REDACT_* bits; -1 for a word we don't know. */
static int parse_redact(const char *s)
{
	static const struct { const char *word; unsigned bit; } words[] = {
		{ "credentials", TRANSPORT_REDACT_CREDENTIALS },
		{ "bodies", TRANSPORT_REDACT_BODIES },
		{ "all", TRANSPORT_REDACT_CREDENTIALS | TRANSPORT_REDACT_BODIES },
	};
	unsigned bits = 0;
	while (s && *s) {
		size_t n = strcspn(s, ",");
		size_t i;
		for (i = 0; i < sizeof words / sizeof words[0]; i++)
			if (strlen(words[i].word) == n && strncmp(s, words[i].word, n) == 0)
				break;
		if (i == sizeof words / sizeof words[0])
			return -1;
		bits |= words[i].bit;
		s += n + (s[n] == ',');
	}
	return (int)bits;
}

/* What athttp_open copied from the configuration, and m itself (NULL:
 * nothing). */
static void free_settings(athttp_modem *m)
{
	if (!m)
		return;
	free(m->module_ca_pem);
	free(m->ca_dir);
	free(m->device);
	free(m->trace_path);
	free(m->record_path);
	free(m->state);
	free(m);
}

athttp_modem *athttp_open(const struct athttp_config *cfg, char *err, size_t errlen)
{
	const char *name = cfg->modem && *cfg->modem ? cfg->modem : "simcom";
	const struct dialect *d = dialect_find(name);
	if (!d) {
		if (err)
			snprintf(err, errlen, "unknown modem dialect '%s'", name);
		return NULL;
	}
	return modem_open(cfg, d, err, errlen);
}

athttp_modem *modem_open(const struct athttp_config *cfg, const struct dialect *d, char *err, size_t errlen)
{
	if (!cfg->device || !*cfg->device) {
		if (err)
			snprintf(err, errlen, "no serial device configured (athttp -d DEVICE or ATHTTP_DEVICE)");
		return NULL;
	}
	int redact = parse_redact(cfg->redact);
	if (redact < 0) {
		if (err)
			snprintf(err, errlen, "unknown redaction '%s' (credentials, bodies, all)", cfg->redact);
		return NULL;
	}
	char *ca_pem = NULL;
	size_t ca_len = 0;
	if (cfg->module_ca && *cfg->module_ca) {
		ca_pem = read_pem(cfg->module_ca, &ca_len, err ? err : (char[200]){ 0 },
				  err ? errlen : 200);
		if (!ca_pem)
			return NULL;
	}
	athttp_modem *m = calloc(1, sizeof *m);
	if (!m)
		goto oom;
	m->module_ca_pem = ca_pem;
	ca_pem = NULL;
	m->module_tls = (struct module_tls){
		.ca_pem = m->module_ca_pem,
		.ca_len = ca_len,
		.insecure = cfg->insecure_upstream != 0,
	};
	m->ca_dir = cfg->ca_dir && *cfg->ca_dir ? strdup(cfg->ca_dir) : NULL;
	m->device = strdup(cfg->device);
	m->trace_path = cfg->trace ? strdup(cfg->trace) : NULL;
	m->record_path = cfg->record && *cfg->record ? strdup(cfg->record) : NULL;
	m->state = d->state_size ? calloc(1, d->state_size) : NULL;
	if (!m->device || (cfg->trace && !m->trace_path) || (d->state_size && !m->state) ||
	    (cfg->record && *cfg->record && !m->record_path) ||
	    (cfg->ca_dir && *cfg->ca_dir && !m->ca_dir))
		goto oom;
	/* A kept CA is loaded now, not at the first https connection: the
	 * wrapper's per-run directory may be gone by then (a program's
	 * background child outliving it), and a key that is not private
	 * must stop the program at once, not its first https request. */
	if (m->ca_dir) {
		struct ath_error cerr;
		m->local_ca = local_ca_open(m->ca_dir, &cerr);
		if (!m->local_ca) {
			if (err)
				snprintf(err, errlen, "local CA: %s", cerr.text);
			goto fail;
		}
	}
	m->redact = (unsigned)redact;
	m->replay_pace = cfg->replay_pace;
	m->d = d;
	m->baud = cfg->baud > 0 ? cfg->baud : 115200;
	m->rtscts = cfg->rtscts;
	m->verbose = cfg->verbose;
	m->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : DEFAULT_ACTION_TIMEOUT_MS;
	init_sync(m);
	m->trace = trace_open(m->trace_path, m->verbose);
	return m;
oom:
	if (err)
		snprintf(err, errlen, "out of memory");
fail:
	free(ca_pem);
	free_settings(m);
	return NULL;
}

void athttp_close(athttp_modem *m)
{
	if (!m)
		return;
	/* The next program finds the module as a fresh one (no exchange
	 * runs now: nothing to wait for). */
	modem_shutdown_within(m, 0, MODEM_EXIT_TEARDOWN_MS);
	pthread_mutex_lock(&m->lock);
	m->closing = true;
	bool join = m->releaser_running;
	pthread_cond_signal(&m->idle_cv);
	pthread_mutex_unlock(&m->lock);
	if (join)
		pthread_join(m->releaser, NULL);
	if (m->tp)
		m->tp->ops->close(m->tp);
	trace_close(m->trace);
	if (m->tls_server)
		tls_server_free(m->tls_server);
	if (m->local_ca)
		local_ca_free(m->local_ca);
	pthread_cond_destroy(&m->idle_cv);
	for (size_t i = 0; i < sizeof m->net_strings / sizeof m->net_strings[0]; i++)
		free(m->net_strings[i]);
	fair_lock_destroy(&m->xlock);
	pthread_mutex_destroy(&m->stats_lock);
	pthread_mutex_destroy(&m->lock);
	pthread_mutex_destroy(&m->tls_lock);
	free_settings(m);
}

void athttp_after_fork_child(athttp_modem *m)
{
	/* The parent may have held the lock at fork: only this thread exists
	 * now, so fresh ones are the consistent ones.  The releaser thread did
	 * not come along. */
	init_sync(m);
	m->releaser_running = false;
	m->port_locked = false;
	/* The parent's transcript is the parent's: a child that uses the
	 * module records beside it, in FILE.<pid>. */
	if (m->record_path) {
		char *own = NULL;
		if (asprintf(&own, "%s.%d", m->record_path, (int)getpid()) >= 0) {
			free(m->record_path);
			m->record_path = own;
		}
	}
	if (m->tp) {
		if (m->tp->ops->abandon)
			m->tp->ops->abandon(m->tp);
		m->tp = NULL;
	}
	m->up = false;
	m->resync = false;
}

const struct dialect *modem_dialect(const athttp_modem *m)
{
	return m->d;
}

unsigned long modem_commands_sent(athttp_modem *m)
{
	/* Behind the exchanges, as before: a count taken mid-exchange would
	 * be half of one. */
	take_lock(m);
	pthread_mutex_lock(&m->lock);
	unsigned long n = m->tp ? m->chat.commands_sent : 0;
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
	return n;
}

static void modem_io_init(athttp_modem *m, struct modem_io *io)
{
	*io = (struct modem_io){
		.chat = &m->chat,
		.trace = m->trace,
		.state = m->state,
		.params = m->d->params,
		.baud = m->baud,
		.action_timeout_ms = m->timeout_ms,
		.tls = &m->module_tls,
	};
}

/* A port failure in the transport's own words, when it has some (a
 * replay's divergence names the transcript line). */
static void explain_io(athttp_modem *m, struct ath_error *err)
{
	const char *why = m->tp && m->tp->ops->error ? m->tp->ops->error(m->tp) : NULL;
	if (why && *why)
		ath_fail(err, ATH_E_IO, -1, "%s", why);
}

/* Adds what the chat moved since the last call to the counters; under
 * m->lock. */
static void account(athttp_modem *m)
{
	unsigned long long in = m->tp ? m->chat.bytes_in : m->seen_in;
	unsigned long long out = m->tp ? m->chat.bytes_out : m->seen_out;
	pthread_mutex_lock(&m->stats_lock);
	m->bytes_from_module += in - m->seen_in;
	m->bytes_to_module += out - m->seen_out;
	m->stat_up = m->tp && m->up;
	m->stat_net = m->net;
	pthread_mutex_unlock(&m->stats_lock);
	m->seen_in = in;
	m->seen_out = out;
}

static void drop_port(athttp_modem *m)
{
	account(m);
	m->seen_in = m->seen_out = 0;
	if (m->tp)
		m->tp->ops->close(m->tp);
	m->tp = NULL;
	m->up = false;
	m->resync = false;
	m->port_locked = false;
	pthread_cond_signal(&m->idle_cv);
}

static void *releaser_main(void *arg)
{
	athttp_modem *m = arg;
	pthread_mutex_lock(&m->lock);
	while (!m->closing && m->tp && m->port_locked) {
		long long due = m->last_used_ms + PORT_IDLE_RELEASE_MS;
		if (now_ms() >= due) {
			/* Exchanges hold m->lock, so none is running now. */
			flock(m->tp->fd, LOCK_UN);
			m->port_locked = false;
			trace_note(m->trace, "port idle: lock released");
			break;
		}
		struct timespec ts = { due / 1000, (due % 1000) * 1000000L };
		pthread_cond_timedwait(&m->idle_cv, &m->lock, &ts);
	}
	m->releaser_running = false;
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

/* The releaser is joined by athttp_close or exits by itself once the lock
 * is released; a finished one is joined before the next starts. */
static void start_releaser(athttp_modem *m)
{
	if (m->releaser_running || m->tp->fd < 0)
		return;
	static pthread_t none;
	if (!pthread_equal(m->releaser, none))
		pthread_join(m->releaser, NULL);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* signals stay with the program's threads */
	if (pthread_create(&m->releaser, NULL, releaser_main, m) == 0)
		m->releaser_running = true;
	else
		m->releaser = none;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Every connection would fail the same way: the trace has each, stderr
 * one line a reason (the trace's verbose copy is on stderr already). */
static void tell_open_failure(athttp_modem *m, const struct ath_error *err)
{
	trace_note(m->trace, "%s", err->text);
	if (!m->tell_stderr || m->verbose || strcmp(m->told, err->text) == 0)
		return;
	snprintf(m->told, sizeof m->told, "%s", err->text);
	fprintf(stderr, "athttp: %s\n", err->text);
}

static enum ath_err open_port(athttp_modem *m, struct ath_error *err)
{
	if (!m->tp) {
		struct transport_config tc = {
			.path = m->device,
			.baud = m->baud,
			.rtscts = m->rtscts,
			.lock_timeout_ms = PORT_LOCK_TIMEOUT_MS,
			.dialect = m->d->name,
			.syntax = m->d->syntax,
			.record = m->record_path,
			.redact = m->redact,
			.replay_pace = m->replay_pace,
		};
		m->tp = transport_open(&tc, err);
		if (!m->tp) {
			tell_open_failure(m, err);
			return err->code;
		}
		trace_note(m->trace, "opened %s (%s, %d baud, dialect %s)", m->device,
			   m->tp->ops->name, m->baud, m->d->name);
		at_chat_init(&m->chat, m->tp, m->d->syntax, m->trace);
		m->up = false;
		m->port_locked = true;
	} else if (!m->port_locked) {
		enum ath_err e = transport_lock(m->tp->fd, m->device, PORT_LOCK_TIMEOUT_MS, err);
		if (e != ATH_OK)
			return e;
		/* Someone else may have used the module meanwhile. */
		m->port_locked = true;
		m->up = false;
		trace_note(m->trace, "port lock taken again");
	}
	if (!m->persistent)
		start_releaser(m);
	return ATH_OK;
}

/* A restart the module announced while nothing waited (the daemon's
 * module sits open between exchanges): seen now, before an exchange
 * would trip over it. */
static void check_restart(athttp_modem *m)
{
	if (!m->persistent || !m->tp || !m->up)
		return;
	enum ath_err e = at_chat_poll(&m->chat);
	if (e == ATH_E_IO) {
		explain_io(m, &(struct ath_error){ 0 });
		drop_port(m);
	} else if (e == ATH_E_PROTOCOL) {
		m->up = false;
	}
}

/* After a restart line: the module is at power-on; what follows it
 * (+CPIN: READY, SMS Ready ...) is the boot's, not an answer. */
static void settle_after_restart(athttp_modem *m)
{
	if (!at_chat_restarted(&m->chat))
		return;
	trace_note(m->trace, "module restarted (%s): bringing it up again", m->chat.restart_line);
	at_chat_clear_restart(&m->chat);
	at_chat_drain(&m->chat, 300, 3000);
}

static void note_restart(athttp_modem *m, struct ath_error *err)
{
	ath_fail_status(err, ATH_E_PROTOCOL, 502, -1, "the module restarted (%s)", m->chat.restart_line);
	m->up = false;
}

/* Every dialect operation's result passes here, on every path it takes: a
 * sink or observer it left set (into its own stack frame, or a context it
 * freed) is gone before anything reads the module again. */
static enum ath_err op_done(athttp_modem *m, enum ath_err e)
{
	at_chat_clear_consumers(&m->chat);
	return e;
}

/* After an exchange that failed out of step (m->resync): the module back
 * in step, by the dialect's recover (or a drain and its bring-up), while
 * it stays up.  ATH_OK: in step, or a full bring-up is due (m->up false:
 * it failed, or the module restarted meanwhile).  ATH_E_TIMEOUT: the
 * module does not answer; the request fails now rather than wait through
 * a second bring-up, and the next one brings the module up in full. */
static enum ath_err resync(athttp_modem *m, struct modem_io *io, struct ath_error *err)
{
	if (!m->resync)
		return ATH_OK;
	m->resync = false;
	if (!m->tp || !m->up)
		return ATH_OK;   /* the full bring-up syncs anyway */
	trace_note(m->trace, "putting the module back in step after the failed exchange");
	struct ath_error rerr;
	ath_error_clear(&rerr);
	enum ath_err r = ATH_OK;
	if (m->have_netup && m->d->netup && m->d->netup->kind != NETUP_NONE) {
		/* A module that restarted without a line the chat could
		 * see (ESP-AT's "ready" amid data read raw) has lost its
		 * network too: asked again, acted on only when needed. */
		at_chat_drain(&m->chat, 200, 3000);
		r = at_sync(&m->chat, &rerr);
		if (r == ATH_OK)
			r = netup_run(&m->chat, m->trace, m->d->netup, &m->netcfg, &m->net, &rerr);
	}
	if (r == ATH_OK && m->d->ops->recover) {
		r = op_done(m, m->d->ops->recover(io, &rerr));
	} else if (r == ATH_OK) {
		at_chat_drain(&m->chat, 200, 3000);
		r = op_done(m, m->d->ops->bringup(io, &rerr));
	}
	if (r == ATH_OK)
		return ATH_OK;
	trace_note(m->trace, "recovery failed: %s", rerr.text);
	m->up = false;
	if (r == ATH_E_IO) {
		explain_io(m, &rerr);
		drop_port(m);
	} else if (r == ATH_E_TIMEOUT && !at_chat_restarted(&m->chat)) {
		*err = rerr;
		return r;
	}
	return ATH_OK;
}

static enum ath_err ensure_up(athttp_modem *m, struct modem_io *io, struct ath_error *err)
{
	enum ath_err e = open_port(m, err);
	if (e != ATH_OK)
		return e;
	check_restart(m);
	if (!m->tp && (e = open_port(m, err)) != ATH_OK)
		return e;
	if ((e = resync(m, io, err)) != ATH_OK)
		return e;
	if (!m->tp && (e = open_port(m, err)) != ATH_OK)
		return e;
	if (m->up)
		return ATH_OK;
	settle_after_restart(m);
	if (m->d->state_size)
		memset(m->state, 0, m->d->state_size);
	e = ATH_OK;
	if (m->have_netup && m->d->netup && m->d->netup->kind != NETUP_NONE) {
		e = at_sync(&m->chat, err);
		if (e == ATH_OK)
			e = netup_run(&m->chat, m->trace, m->d->netup, &m->netcfg, &m->net, err);
		if (e != ATH_OK && at_chat_restarted(&m->chat))
			note_restart(m, err);
	}
	if (e == ATH_OK)
		e = op_done(m, m->d->ops->bringup(io, err));
	if (e != ATH_OK && at_chat_restarted(&m->chat))
		note_restart(m, err);
	if (e == ATH_E_IO) {
		explain_io(m, err);
		drop_port(m);
	}
	else if (e == ATH_OK) {
		m->up = true;
		m->tls_ready = false;
	}
	return e;
}

/* The module's https, set up once per bring-up; then the trust decision:
 * a module that will not verify the server serves https only when the
 * user said so, and never without saying it in the answer. */
static enum ath_err upstream_tls(athttp_modem *m, struct modem_io *io, struct ath_error *err)
{
	if (!m->d->ops->tls_setup) {
		return ath_fail_status(err, ATH_E_MODULE, 502, -1, "https is not supported by the %s dialect",
				       m->d->name);
	}
	if (!m->tls_ready) {
		m->verdict = (struct tls_verdict){ 0 };
		enum ath_err e = op_done(m, m->d->ops->tls_setup(io, &m->verdict, err));
		if (e != ATH_OK)
			return e;
		m->tls_ready = true;
		trace_note(m->trace, "module TLS: %s%s", m->verdict.verified ? "verifies servers"
			   : "does not verify servers: ", m->verdict.verified ? "" : m->verdict.why);
	}
	if (!m->verdict.verified && !m->module_tls.insecure) {
		return ath_fail_status(err, ATH_E_MODULE, 502, -1,
				       "https refused: the module cannot verify the server's certificate (%s); "
				       "--insecure-upstream allows it, unverified",
				       m->verdict.why[0] ? m->verdict.why : "no reason given");
	}
	return ATH_OK;
}

/* A sink that marks the response's head as coming over a TLS link the
 * module did not verify. */
struct marking_sink {
	const struct response_sink *inner;
};

static enum ath_err mark_head(void *ctx, const struct http_head *h, long long len, bool synth)
{
	struct marking_sink *ms = ctx;
	struct http_head copy = *h;
	copy.headers = (struct hdr_list){ 0 };
	enum ath_err e = ATH_OK;
	for (size_t i = 0; i < h->headers.n && e == ATH_OK; i++)
		if (!hdr_is(h->headers.v[i].name, UNVERIFIED_HEADER) &&
		    hdr_add(&copy.headers, h->headers.v[i].name, strlen(h->headers.v[i].name),
			    h->headers.v[i].value, strlen(h->headers.v[i].value)))
			e = ATH_E_NOMEM;
	if (e == ATH_OK && hdr_add(&copy.headers, UNVERIFIED_HEADER, strlen(UNVERIFIED_HEADER),
				   "unverified", strlen("unverified")))
		e = ATH_E_NOMEM;
	if (e == ATH_OK)
		e = ms->inner->head(ms->inner->ctx, &copy, len, synth);
	hdr_free(&copy.headers);
	return e;
}

static enum ath_err mark_body(void *ctx, const void *data, size_t len)
{
	struct marking_sink *ms = ctx;
	return ms->inner->body(ms->inner->ctx, data, len);
}

enum ath_err modem_exchange(athttp_modem *m, const struct dialect_request *rq,
			    const struct response_sink *sink, struct ath_error *err)
{
	struct modem_io io;
	modem_io_init(m, &io);
	if (fair_lock_acquire(&m->xlock, -1) != 0) {   /* modem_stop_queue */
		return ath_fail_status(err, ATH_E_BUSY, 503, -1, "the module is shutting down");
	}
	pthread_mutex_lock(&m->lock);
	enum ath_err e;
	if (shutting_down(m)) {
		e = ath_fail_status(err, ATH_E_BUSY, 503, -1, "the module is shutting down");
	} else {
		e = ensure_up(m, &io, err);
	}
	if (e == ATH_OK) {
		struct dialect_request tls_rq;
		struct marking_sink ms = { sink };
		struct response_sink marked = { mark_head, mark_body, &ms };
		if (rq->tls) {
			e = upstream_tls(m, &io, err);
			tls_rq = *rq;
			tls_rq.verify_upstream = m->verdict.verified;
			rq = &tls_rq;
			if (!m->verdict.verified)
				sink = &marked;
		}
		if (e == ATH_OK) {
			trace_note(m->trace, "request %s %s", rq->method, rq->url);
			e = op_done(m, m->d->ops->exchange(&io, rq, sink, err));
		}
		if (e != ATH_OK && at_chat_restarted(&m->chat)) {
			/* Every state is gone: the full bring-up (network
			 * included) runs before the next exchange. */
			note_restart(m, err);
		} else if (e == ATH_E_IO) {
			explain_io(m, err);
			drop_port(m);
		} else if (e == ATH_E_TIMEOUT || e == ATH_E_PROTOCOL) {
			/* The module may still be answering: it is brought
			 * back in step before its next use (resync), after
			 * the client has its answer, which the recovery's own
			 * waits would otherwise hold up past the timeout. */
			m->resync = true;
		}
	}
	m->last_used_ms = now_ms();
	account(m);
	pthread_mutex_lock(&m->stats_lock);
	m->requests++;
	if (e != ATH_OK) {
		m->errors++;
		snprintf(m->last_error, sizeof m->last_error, "%.199s", err->text);
	}
	pthread_mutex_unlock(&m->stats_lock);
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
	return e;
}

enum ath_err modem_bringup_check(athttp_modem *m, struct ath_error *err)
{
	struct modem_io io;
	modem_io_init(m, &io);
	take_lock(m);
	pthread_mutex_lock(&m->lock);
	enum ath_err e = ensure_up(m, &io, err);
	m->last_used_ms = now_ms();
	if (e != ATH_OK) {
		pthread_mutex_lock(&m->stats_lock);
		snprintf(m->last_error, sizeof m->last_error, "%.199s", err->text);
		pthread_mutex_unlock(&m->stats_lock);
	}
	account(m);
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
	return e;
}

struct tls_server *modem_tls_server(athttp_modem *m, struct ath_error *err)
{
	pthread_mutex_lock(&m->tls_lock);
	if (!m->tls_server) {
		if (!m->local_ca)
			m->local_ca = local_ca_open(m->ca_dir, err);
		if (m->local_ca)
			m->tls_server = tls_server_new(m->local_ca, err);
	}
	struct tls_server *s = m->tls_server;
	pthread_mutex_unlock(&m->tls_lock);
	return s;
}

struct trace *modem_trace(const athttp_modem *m)
{
	return m->trace;
}

void modem_error_header(const athttp_modem *m, const struct ath_error *err, char *out, size_t len)
{
	if (err->module_code >= 0)
		snprintf(out, len, "%s %d %s", m->d->name, err->module_code, err->text);
	else
		snprintf(out, len, "%s %s", m->d->name, err->text);
}

/* ------------------------------------------------ the daemon's side */

int modem_set_netup(athttp_modem *m, const struct netup_config *cfg)
{
	take_lock(m);
	pthread_mutex_lock(&m->lock);
	for (size_t i = 0; i < sizeof m->net_strings / sizeof m->net_strings[0]; i++) {
		free(m->net_strings[i]);
		m->net_strings[i] = NULL;
	}
	m->have_netup = false;
	m->netcfg = (struct netup_config){ 0 };
	int rc = 0;
	if (cfg) {
		const char *src[6] = { cfg->pin, cfg->apn, cfg->apn_user, cfg->apn_password,
				       cfg->wifi_ssid, cfg->wifi_password };
		for (size_t i = 0; i < 6; i++)
			if (src[i] && !(m->net_strings[i] = strdup(src[i])))
				rc = -1;
		m->netcfg = (struct netup_config){
			.pin = m->net_strings[0],
			.apn = m->net_strings[1],
			.apn_user = m->net_strings[2],
			.apn_password = m->net_strings[3],
			.wifi_ssid = m->net_strings[4],
			.wifi_password = m->net_strings[5],
			.register_timeout_ms = cfg->register_timeout_ms,
		};
		m->have_netup = rc == 0;
	}
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
	return rc;
}

void modem_set_persistent(athttp_modem *m, bool on)
{
	pthread_mutex_lock(&m->lock);
	m->persistent = on;
	if (on && m->tp && !m->port_locked) {
		/* Taken again by the next ensure_up (open_port). */
		trace_note(m->trace, "persistent: the port stays locked from the next exchange");
	}
	pthread_mutex_unlock(&m->lock);
}

void modem_set_timeout(athttp_modem *m, int timeout_ms)
{
	take_lock(m);
	pthread_mutex_lock(&m->lock);
	m->timeout_ms = timeout_ms > 0 ? timeout_ms : DEFAULT_ACTION_TIMEOUT_MS;
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
}

/* How long the probe's AT may take. */
#define PROBE_TIMEOUT_MS 3000

enum ath_err modem_probe(athttp_modem *m, struct ath_error *err)
{
	struct modem_io io;
	modem_io_init(m, &io);
	take_lock(m);
	pthread_mutex_lock(&m->lock);
	enum ath_err e = ATH_OK;
	if (shutting_down(m)) {
		e = ath_fail_status(err, ATH_E_BUSY, 503, -1, "the module is shutting down");
		goto out;
	}
	check_restart(m);
	/* Back in step first: stale bytes are not the probe's answer.  A
	 * module that does not come back is brought up in full below. */
	if (m->tp && !at_chat_restarted(&m->chat))
		(void)resync(m, &io, &(struct ath_error){ 0 });
	if (m->tp && m->up) {
		struct at_result r;
		e = at_chat_cmd(&m->chat, PROBE_TIMEOUT_MS, &r, "AT");
		if (e == ATH_OK && r.final != AT_FINAL_OK)
			e = ath_fail(err, ATH_E_PROTOCOL, -1, "the health probe AT got %s", r.text);
		if (e != ATH_OK) {
			if (at_chat_restarted(&m->chat))
				trace_note(m->trace, "probe: the module restarted (%s)",
					   m->chat.restart_line);
			else
				trace_note(m->trace, "probe: AT failed (%s)", ath_strerror(e));
			m->up = false;
			if (e == ATH_E_IO) {
				explain_io(m, err);
				drop_port(m);
			} else if (!at_chat_restarted(&m->chat)) {
				at_chat_drain(&m->chat, 200, 2000);
			}
		}
	}
	e = ensure_up(m, &io, err);
	if (e != ATH_OK) {
		pthread_mutex_lock(&m->stats_lock);
		snprintf(m->last_error, sizeof m->last_error, "%.199s", err->text);
		pthread_mutex_unlock(&m->stats_lock);
	}
out:
	m->last_used_ms = now_ms();
	account(m);
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
	return e;
}

enum ath_err modem_with_chat(athttp_modem *m, bool bring_up,
			     void (*fn)(struct at_chat *chat, const struct dialect *d, void *ctx),
			     void *ctx, struct ath_error *err)
{
	struct modem_io io;
	modem_io_init(m, &io);
	take_lock(m);
	pthread_mutex_lock(&m->lock);
	enum ath_err e;
	if (shutting_down(m)) {
		e = ath_fail_status(err, ATH_E_BUSY, 503, -1, "the module is shutting down");
	} else {
		e = bring_up ? ensure_up(m, &io, err) : open_port(m, err);
	}
	if (e == ATH_OK) {
		check_restart(m);
		/* A module that does not answer: fn's queries find out. */
		if (m->tp && !at_chat_restarted(&m->chat))
			(void)resync(m, &io, &(struct ath_error){ 0 });
		if (!m->tp) {
			e = open_port(m, err);
		} else if (at_chat_restarted(&m->chat)) {
			settle_after_restart(m);
			m->up = false;
		}
	}
	if (e == ATH_OK) {
		fn(&m->chat, m->d, ctx);
		if (at_chat_restarted(&m->chat)) {
			/* The next exchange or probe brings it up again. */
			m->up = false;
		}
	}
	m->last_used_ms = now_ms();
	account(m);
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
	return e;
}

void modem_counters(athttp_modem *m, struct modem_counters *c)
{
	pthread_mutex_lock(&m->stats_lock);
	*c = (struct modem_counters){
		.requests = m->requests,
		.errors = m->errors,
		.bytes_to_module = m->bytes_to_module,
		.bytes_from_module = m->bytes_from_module,
		.up = m->stat_up,
		.net = m->stat_net,
	};
	snprintf(c->last_error, sizeof c->last_error, "%s", m->last_error);
	pthread_mutex_unlock(&m->stats_lock);
}

/* How long shutdown waits for the exchange on the line to end. */
#define SHUTDOWN_WAIT_MS 15000
#define TEARDOWN_TIMEOUT_MS 10000

void modem_stop_queue(athttp_modem *m)
{
	/* Read by the exchanges under m->lock; a plain store is enough for
	 * those that take it after this, and the queued ones are woken. */
	__atomic_store_n(&m->shutting_down, true, __ATOMIC_SEQ_CST);
	fair_lock_cancel_all(&m->xlock);
}

/* The port's lock back for the teardown, if it went idle: only when no
 * other program holds it now (one that does is using the module, and
 * brings it up itself after us). */
static bool teardown_lock(athttp_modem *m)
{
	if (m->port_locked)
		return true;
	struct ath_error err;
	if (transport_lock(m->tp->fd, m->device, 0, &err) != ATH_OK) {
		trace_note(m->trace, "shutdown: %s; the module is left as it is", err.text);
		return false;
	}
	m->port_locked = true;
	return true;
}

void modem_shutdown_within(athttp_modem *m, int wait_ms, int teardown_ms)
{
	/* Those queued get "shutting down"; the one on the line finishes. */
	modem_stop_queue(m);
	if (fair_lock_acquire(&m->xlock, wait_ms) != 0) {
		trace_note(m->trace, "shutdown: an exchange is still running; the port is left as it is");
		return;
	}
	pthread_mutex_lock(&m->lock);
	check_restart(m);
	if (m->tp && m->up && m->d->ops->teardown && teardown_lock(m)) {
		struct modem_io io;
		modem_io_init(m, &io);
		io.action_timeout_ms = teardown_ms;
		/* A hard bound: the chat's waits restart with every byte. */
		struct transport_deadline dt;
		transport_deadline_init(&dt, m->tp, teardown_ms);
		m->chat.tp = &dt.base;
		struct ath_error err;
		enum ath_err te;
		ath_error_clear(&err);
		/* Torn down only once in step (a failed exchange left it to
		 * be put back before the module's next use: this is one). */
		if (m->resync && !at_chat_restarted(&m->chat))
			resync(m, &io, &err);
		ath_error_clear(&err);
		if (!m->up || !m->tp)
			trace_note(m->trace, "teardown skipped: the module could not be put back in step");
		else if ((te = op_done(m, m->d->ops->teardown(&io, &err))) == ATH_OK)
			trace_note(m->trace, "teardown done");
		else if (dt.expired)
			trace_note(m->trace, "teardown failed: no answer within the time allowed");
		else if (te == ATH_E_TIMEOUT)
			/* the chat's own bound, the budget too */
			trace_note(m->trace, "teardown failed: no answer within the time allowed (%s)", err.text);
		else
			trace_note(m->trace, "teardown failed: %s", err.text);
		m->chat.tp = m->tp;
	}
	if (m->tp)
		drop_port(m);
	account(m);
	pthread_mutex_unlock(&m->lock);
	fair_lock_release(&m->xlock);
}

void modem_shutdown(athttp_modem *m)
{
	modem_shutdown_within(m, SHUTDOWN_WAIT_MS, TEARDOWN_TIMEOUT_MS);
}

void modem_set_stderr_notices(athttp_modem *m, bool on)
{
	pthread_mutex_lock(&m->lock);
	m->tell_stderr = on;
	pthread_mutex_unlock(&m->lock);
}

const char *modem_ca_pem(athttp_modem *m, struct ath_error *err)
{
	pthread_mutex_lock(&m->tls_lock);
	if (!m->local_ca)
		m->local_ca = local_ca_open(m->ca_dir, err);
	const char *pem = m->local_ca ? local_ca_cert_pem(m->local_ca) : NULL;
	pthread_mutex_unlock(&m->tls_lock);
	return pem;
}
