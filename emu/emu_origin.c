/*
 * The module's view of the network: an HTTP/1.1 client that sends a request
 * to the origin a URL names (or the one --route puts in its place) and reads
 * the whole response, as modules do before they tell the host anything.
 * An https:// URL gets a TLS session (emu_tls.c) whose handshake is part of
 * connecting; everything after it moves over the session the same way.
 *
 * Fetches run on worker threads so the serial line stays responsive; each
 * can be cancelled through its own eventfd, so nothing outlives a shutdown
 * or an AT+HTTPTERM by more than a poll wakeup (a getaddrinfo() in progress
 * excepted).
 */
#include "emu.h"
#include "emu_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <http_parser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ------------------------------------------------------------ URLs */

static char *field(const char *url, const struct http_parser_url *u, int f)
{
	return emu_strndup(url + u->field_data[f].off, u->field_data[f].len);
}

static bool has_field(const struct http_parser_url *u, int f)
{
	return u->field_set & (1 << f);
}

int emu_url_parse(const char *url, struct emu_url *out)
{
	struct http_parser_url u;
	size_t len = strlen(url), a, b;
	struct emu_buf target = { 0 };
	const char *scheme;
	size_t slen;

	*out = (struct emu_url){ 0 };
	http_parser_url_init(&u);
	if (http_parser_parse_url(url, len, 0, &u) != 0 ||
	    !has_field(&u, UF_SCHEMA) || !has_field(&u, UF_HOST) ||
	    u.field_data[UF_HOST].len == 0)
		return -1;
	scheme = url + u.field_data[UF_SCHEMA].off;
	slen = u.field_data[UF_SCHEMA].len;
	if (slen == 5 && !strncasecmp(scheme, "https", 5))
		out->tls = true;
	else if (slen != 4 || strncasecmp(scheme, "http", 4))
		return -1;
	out->port = has_field(&u, UF_PORT) ? u.port : out->tls ? 443 : 80;
	if (out->port == 0)
		return -1;
	out->host = field(url, &u, UF_HOST);

	/* The authority as written, IPv6 brackets and explicit port kept:
	 * that is what goes into the Host header. */
	a = u.field_data[UF_HOST].off;
	b = a + u.field_data[UF_HOST].len;
	if (a > 0 && url[a - 1] == '[') {
		a--;
		b++;
	}
	if (has_field(&u, UF_PORT))
		b = u.field_data[UF_PORT].off + u.field_data[UF_PORT].len;
	out->authority = emu_strndup(url + a, b - a);

	if (has_field(&u, UF_PATH))
		emu_buf_add(&target, url + u.field_data[UF_PATH].off,
			    u.field_data[UF_PATH].len);
	else
		emu_buf_add(&target, "/", 1);
	if (has_field(&u, UF_QUERY)) {
		emu_buf_add(&target, "?", 1);
		emu_buf_add(&target, url + u.field_data[UF_QUERY].off,
			    u.field_data[UF_QUERY].len);
	}
	out->target = target.data;
	return 0;
}

void emu_url_free(struct emu_url *u)
{
	free(u->host);
	free(u->authority);
	free(u->target);
	free(u->tls_opts.ca_pem);
	*u = (struct emu_url){ 0 };
}

void emu_url_set_tls(struct emu_url *u, bool verify, bool sni, const char *ca,
		     size_t len)
{
	free(u->tls_opts.ca_pem);
	u->tls_opts = (struct emu_tls_opts){ .verify = verify, .sni = sni };
	if (ca) {
		/* all len bytes: a DER file has NULs */
		u->tls_opts.ca_pem = emu_calloc(1, len + 1);
		memcpy(u->tls_opts.ca_pem, ca, len);
		u->tls_opts.ca_len = len;
	}
}

void emu_fetch_free(struct emu_fetch *f)
{
	if (!f)
		return;
	emu_url_free(&f->url);
	emu_buf_free(&f->request);
	emu_buf_free(&f->header);
	emu_buf_free(&f->body);
	free(f);
}

/* ------------------------------------------------------------ waiting */

enum wait_result { WAIT_READY, WAIT_TIMEOUT, WAIT_CANCELLED };

static enum wait_result wait_fd(int fd, short events, int cancel_fd,
				unsigned timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = events },
		{ .fd = cancel_fd, .events = POLLIN },
	};
	uint64_t deadline = emu_now_ns() + timeout_ms * EMU_NS_PER_MS;

	for (;;) {
		uint64_t now = emu_now_ns();
		int n;

		if (now >= deadline)
			return WAIT_TIMEOUT;
		n = poll(p, 2, (int)((deadline - now + EMU_NS_PER_MS - 1) /
				     EMU_NS_PER_MS));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || p[1].revents)
			return WAIT_CANCELLED;
		if (p[0].revents)
			return WAIT_READY;
	}
}

/* ------------------------------------------------------------ connecting */

static const struct emu_route *find_route(const struct emu_config *cfg,
					  const struct emu_url *u)
{
	const struct emu_route *any_port = NULL;

	for (size_t i = 0; i < cfg->nroutes; i++) {
		const struct emu_route *r = &cfg->routes[i];

		if (strcasecmp(r->host, u->host))
			continue;
		if (r->port == (int)u->port)
			return r;
		if (r->port < 0 && !any_port)
			any_port = r;
	}
	return any_port;
}

static enum emu_fetch_status connect_one(const struct sockaddr *sa,
					 socklen_t len, int cancel_fd,
					 unsigned timeout_ms, int *out)
{
	int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return EMU_FETCH_CONNECT;
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS) {
			close(fd);
			return EMU_FETCH_CONNECT;
		}
		switch (wait_fd(fd, POLLOUT, cancel_fd, timeout_ms)) {
		case WAIT_TIMEOUT:
			close(fd);
			return EMU_FETCH_TIMEOUT;
		case WAIT_CANCELLED:
			close(fd);
			return EMU_FETCH_CANCELLED;
		case WAIT_READY:
			break;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 ||
		    err) {
			close(fd);
			return EMU_FETCH_CONNECT;
		}
	}
	*out = fd;
	return EMU_FETCH_OK;
}

/* Routed host, numeric address, or DNS, in that order. */
static enum emu_fetch_status open_origin(const struct emu_config *cfg,
					 const struct emu_url *u, int cancel_fd,
					 unsigned timeout_ms, int *fd)
{
	const struct emu_route *r = find_route(cfg, u);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	enum emu_fetch_status st = EMU_FETCH_CONNECT;
	char port[8];

	if (r)
		return connect_one((const struct sockaddr *)&r->addr,
				   r->addrlen, cancel_fd, timeout_ms, fd);
	snprintf(port, sizeof(port), "%u", u->port);
	if (getaddrinfo(u->host, port, &hints, &res) != 0)
		return EMU_FETCH_DNS;
	for (ai = res; ai; ai = ai->ai_next) {
		st = connect_one(ai->ai_addr, ai->ai_addrlen, cancel_fd,
				 timeout_ms, fd);
		if (st != EMU_FETCH_CONNECT)
			break;
	}
	freeaddrinfo(res);
	return st;
}

/* A connection to the origin: the socket, and over it the TLS session of
 * an https URL. */
struct conn {
	int fd;
	struct emu_tls *tls;		/* NULL: plain TCP */
};

static ssize_t conn_send(struct conn *c, const void *p, size_t n)
{
	if (c->tls)
		return emu_tls_send(c->tls, p, n);
	return send(c->fd, p, n, MSG_NOSIGNAL);
}

static ssize_t conn_recv(struct conn *c, void *p, size_t n)
{
	if (c->tls)
		return emu_tls_recv(c->tls, p, n);
	return recv(c->fd, p, n, 0);
}

/* After EAGAIN from conn_send/conn_recv: the poll event to wait for (a TLS
 * session may need to read in order to write, or the other way round). */
static short conn_wants(const struct conn *c, short plain)
{
	short w = c->tls ? emu_tls_wants(c->tls) : 0;

	return w ? w : plain;
}

/* Bytes a read would return at once though poll() shows none: TLS holds
 * the rest of a record it decrypted. */
static bool conn_pending(const struct conn *c)
{
	return c->tls && emu_tls_pending(c->tls);
}

static void conn_close(struct conn *c)
{
	emu_tls_free(c->tls);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static unsigned ms_left(uint64_t deadline)
{
	uint64_t now = emu_now_ns();

	return now >= deadline ? 0 :
	       (unsigned)((deadline - now + EMU_NS_PER_MS - 1) / EMU_NS_PER_MS);
}

/* TCP, then for an https URL the handshake: all within timeout_ms. */
static enum emu_fetch_status conn_open(const struct emu_config *cfg,
				       const struct emu_url *u, int cancel_fd,
				       unsigned timeout_ms, struct conn *c)
{
	uint64_t deadline = emu_now_ns() + timeout_ms * EMU_NS_PER_MS;
	enum emu_fetch_status st;

	*c = (struct conn){ .fd = -1 };
	st = open_origin(cfg, u, cancel_fd, timeout_ms, &c->fd);
	if (st != EMU_FETCH_OK || !u->tls)
		return st;
	c->tls = emu_tls_new(c->fd, u, &st);
	while (st == EMU_FETCH_OK) {
		int want = emu_tls_handshake(c->tls, &st);
		unsigned left = ms_left(deadline);

		if (want <= 0)
			break;
		if (left == 0) {
			st = EMU_FETCH_TIMEOUT;
			break;
		}
		switch (wait_fd(c->fd, (short)want, cancel_fd, left)) {
		case WAIT_TIMEOUT:
			st = EMU_FETCH_TIMEOUT;
			break;
		case WAIT_CANCELLED:
			st = EMU_FETCH_CANCELLED;
			break;
		case WAIT_READY:
			break;
		}
	}
	if (st != EMU_FETCH_OK)
		conn_close(c);
	return st;
}

static enum emu_fetch_status send_all(struct conn *c, const struct emu_buf *b,
				      int cancel_fd, unsigned timeout_ms)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = conn_send(c, b->data + off, b->len - off);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return EMU_FETCH_CLOSED;
		switch (wait_fd(c->fd, conn_wants(c, POLLOUT), cancel_fd,
				timeout_ms)) {
		case WAIT_TIMEOUT:
			return EMU_FETCH_TIMEOUT;
		case WAIT_CANCELLED:
			return EMU_FETCH_CANCELLED;
		case WAIT_READY:
			break;
		}
	}
	return EMU_FETCH_OK;
}

/* ------------------------------------------------------------ the response */

struct response {
	http_parser parser;
	struct emu_fetch *f;
	size_t max_body;
	bool headers_done;
	bool header_ended;		/* parser paused at the header block's end */
	bool message_done;
	bool too_big;
};

static int on_headers_complete(http_parser *p)
{
	struct response *r = p->data;

	r->f->http_status = p->status_code;
	r->f->chunked = p->flags & F_CHUNKED;
	r->f->has_length = p->flags & F_CONTENTLENGTH;
	r->f->content_length = r->f->has_length ? p->content_length : 0;
	r->header_ended = true;
	/* Pausing here makes http_parser_execute() return the offset of the
	 * block's last LF: that is how the raw header bytes are cut out. */
	http_parser_pause(p, 1);
	return r->f->head_only ? 1 : 0;	/* 1: no body follows */
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct response *r = p->data;

	if (len > r->max_body - r->f->body.len) {
		r->too_big = true;
		return -1;
	}
	emu_buf_add(&r->f->body, at, len);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct response *r = p->data;

	r->message_done = true;
	http_parser_pause(p, 1);	/* anything after it is not ours */
	return 0;
}

static const http_parser_settings response_settings = {
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

static enum emu_fetch_status parse_failure(const struct response *r)
{
	return r->too_big ? EMU_FETCH_TOO_BIG : EMU_FETCH_NOT_HTTP;
}

/* Feeds received bytes (n == 0: the origin closed). */
static enum emu_fetch_status feed(struct response *r, const char *p, size_t n)
{
	if (n == 0) {
		/* Ends a body that runs until close; anything else the
		 * parser still waited for was cut short. */
		http_parser_execute(&r->parser, &response_settings, NULL, 0);
		return EMU_FETCH_OK;
	}
	while (n > 0 && !r->message_done) {
		size_t used = http_parser_execute(&r->parser,
						  &response_settings, p, n);
		enum http_errno err = HTTP_PARSER_ERRNO(&r->parser);

		if (err == HPE_PAUSED) {
			http_parser_pause(&r->parser, 0);
			if (r->header_ended) {
				/* used is the last LF's offset; the parser
				 * wants that LF once more */
				emu_buf_add(&r->f->header, p, used + 1);
				r->header_ended = false;
				r->headers_done = true;
			}
		} else if (err != HPE_OK) {
			return parse_failure(r);
		} else if (!r->headers_done) {
			emu_buf_add(&r->f->header, p, used);
		}
		p += used;
		n -= used;
	}
	return EMU_FETCH_OK;
}

struct emu_resp {
	struct response r;
};

struct emu_resp *emu_resp_new(struct emu_fetch *f, size_t max_body)
{
	struct emu_resp *er = emu_calloc(1, sizeof(*er));

	er->r.f = f;
	er->r.max_body = max_body;
	http_parser_init(&er->r.parser, HTTP_RESPONSE);
	er->r.parser.data = &er->r;
	return er;
}

enum emu_fetch_status emu_resp_feed(struct emu_resp *er, const char *p,
				    size_t n)
{
	struct response *r = &er->r;
	enum emu_fetch_status st;

	if (r->message_done)
		return EMU_FETCH_OK;	/* what follows is not ours */
	st = feed(r, p, n);
	if (st == EMU_FETCH_OK && n == 0 && !r->message_done)
		st = EMU_FETCH_CLOSED;
	return st;
}

bool emu_resp_complete(const struct emu_resp *er)
{
	return er->r.message_done;
}

void emu_resp_free(struct emu_resp *er)
{
	free(er);
}

/* close_after: --fault origin-close, the origin's response ends (as if
 * it closed) after that many bytes; SIZE_MAX: when it ends. */
static enum emu_fetch_status receive(struct conn *c, struct emu_fetch *f,
				     size_t max_body, size_t close_after,
				     int cancel_fd)
{
	struct response r = { .f = f, .max_body = max_body };
	char buf[65536];

	http_parser_init(&r.parser, HTTP_RESPONSE);
	r.parser.data = &r;
	while (!r.message_done) {
		ssize_t n = conn_recv(c, buf, sizeof(buf));
		enum emu_fetch_status st;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			switch (wait_fd(c->fd, conn_wants(c, POLLIN), cancel_fd,
					f->recv_timeout_ms)) {
			case WAIT_TIMEOUT:
				return EMU_FETCH_TIMEOUT;
			case WAIT_CANCELLED:
				return EMU_FETCH_CANCELLED;
			case WAIT_READY:
				continue;
			}
		}
		if (n < 0)
			return EMU_FETCH_CLOSED;	/* reset */
		if ((size_t)n > close_after)
			n = (ssize_t)close_after;
		if (close_after != SIZE_MAX)
			close_after -= (size_t)n;
		st = feed(&r, buf, (size_t)n);
		if (st != EMU_FETCH_OK)
			return st;
		if (n == 0 && !r.message_done)
			return EMU_FETCH_CLOSED;
	}
	return EMU_FETCH_OK;
}

static void fetch_run(struct emu_fetch *f, const struct emu_config *cfg,
		      bool fail, size_t close_after, int cancel_fd)
{
	struct conn c = { .fd = -1 };

	if (fail) {			/* --fault error */
		f->status = EMU_FETCH_CONNECT;
		f->http_status = 0;
		return;
	}
	f->status = conn_open(cfg, &f->url, cancel_fd, f->connect_timeout_ms,
			      &c);
	if (f->status == EMU_FETCH_OK)
		f->status = send_all(&c, &f->request, cancel_fd,
				     f->recv_timeout_ms);
	if (f->status == EMU_FETCH_OK)
		f->status = receive(&c, f, cfg->max_body, close_after,
				    cancel_fd);
	conn_close(&c);
	if (f->status != EMU_FETCH_OK) {
		f->http_status = 0;
		emu_buf_free(&f->header);
		emu_buf_free(&f->body);
	}
}

/* ------------------------------------------------------------ workers */

struct emu_job {
	struct emu_job *next;
	struct emu_jobs *jobs;
	struct emu_fetch *f;
	emu_fetch_done_fn *done;
	void *ctx;
	pthread_t thread;
	bool started;
	int cancel_fd;
	atomic_bool finished;
	bool abandoned;			/* loop thread only */
	bool fail;			/* --fault error */
	size_t close_after;		/* --fault origin-close */
};

struct emu_jobs {
	const struct emu_config *cfg;
	int wake_fd;			/* workers signal the loop here */
	struct emu_job *list;
	struct emu_link *links;
	/* emu_jobs_fault() for the next fetch or link */
	bool fault_fail;
	size_t fault_close_after;
};

static void links_reap(struct emu_jobs *jobs);
static void links_free(struct emu_jobs *jobs);

static void signal_fd(int fd)
{
	uint64_t one = 1;

	while (write(fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *worker(void *arg)
{
	struct emu_job *j = arg;

	fetch_run(j->f, j->jobs->cfg, j->fail, j->close_after, j->cancel_fd);
	atomic_store(&j->finished, true);
	signal_fd(j->jobs->wake_fd);
	return NULL;
}

struct emu_jobs *emu_jobs_new(const struct emu_config *cfg)
{
	struct emu_jobs *jobs = emu_calloc(1, sizeof(*jobs));

	jobs->cfg = cfg;
	jobs->fault_close_after = SIZE_MAX;
	jobs->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (jobs->wake_fd < 0) {
		perror("athttp-emu: eventfd");
		abort();
	}
	return jobs;
}

int emu_jobs_fd(const struct emu_jobs *jobs)
{
	return jobs->wake_fd;
}

struct emu_job *emu_fetch_start(struct emu_jobs *jobs, struct emu_fetch *f,
				emu_fetch_done_fn *done, void *ctx)
{
	struct emu_job *j = emu_calloc(1, sizeof(*j));

	j->jobs = jobs;
	j->f = f;
	j->done = done;
	j->ctx = ctx;
	j->fail = jobs->fault_fail;
	j->close_after = jobs->fault_close_after;
	jobs->fault_fail = false;
	jobs->fault_close_after = SIZE_MAX;
	j->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	j->next = jobs->list;
	jobs->list = j;
	if (j->cancel_fd >= 0 &&
	    pthread_create(&j->thread, NULL, worker, j) == 0) {
		j->started = true;
	} else {
		/* Out of threads or fds: the module could not open a socket. */
		f->status = EMU_FETCH_CONNECT;
		atomic_store(&j->finished, true);
		signal_fd(jobs->wake_fd);
	}
	return j;
}

void emu_fetch_abandon(struct emu_job *job)
{
	job->abandoned = true;
	if (job->cancel_fd >= 0)
		signal_fd(job->cancel_fd);
}

static void job_free(struct emu_job *j)
{
	if (j->started)
		pthread_join(j->thread, NULL);
	if (j->cancel_fd >= 0)
		close(j->cancel_fd);
	if (j->abandoned)
		emu_fetch_free(j->f);
	free(j);
}

void emu_jobs_reap(struct emu_jobs *jobs)
{
	struct emu_job *ready = NULL, **pp = &jobs->list;
	uint64_t count;

	while (read(jobs->wake_fd, &count, sizeof(count)) > 0)
		;
	while (*pp) {
		struct emu_job *j = *pp;

		if (atomic_load(&j->finished)) {
			*pp = j->next;
			j->next = ready;
			ready = j;
		} else {
			pp = &j->next;
		}
	}
	/* Callbacks last: they may start new jobs. */
	while (ready) {
		struct emu_job *j = ready;

		ready = j->next;
		if (!j->abandoned)
			j->done(j->ctx, j->f);
		job_free(j);
	}
	links_reap(jobs);
}

void emu_jobs_free(struct emu_jobs *jobs)
{
	if (!jobs)
		return;
	for (struct emu_job *j = jobs->list; j; j = j->next)
		emu_fetch_abandon(j);
	while (jobs->list) {
		struct emu_job *j = jobs->list;

		jobs->list = j->next;
		job_free(j);
	}
	links_free(jobs);
	close(jobs->wake_fd);
	free(jobs);
}

/* ------------------------------------------------------------ links */

struct emu_link {
	struct emu_link *next;
	struct emu_jobs *jobs;
	struct emu_url url;
	unsigned connect_timeout_ms;
	emu_link_fn *fn;
	void *ctx;
	pthread_t thread;
	bool started;
	int ctl_fd;			/* the loop pokes the worker here */
	int cancel_fd;			/* ... or tells it to stop */
	bool abandoned;			/* loop thread only */

	pthread_mutex_t mu;		/* guards everything below */
	bool cancel;
	struct emu_buf out;		/* queued, not yet taken by the worker */
	unsigned send_timeout_ms;
	uint64_t deadline;		/* EMU_NEVER: none */
	bool ev_connected, ev_sent, ev_closed;
	enum emu_fetch_status connect_st, sent_st, close_st;
	struct emu_buf in;		/* received, not yet handed over */
	bool paused;			/* emu_link_pause() */
	bool finished;			/* the worker is done */
	bool fail;			/* --fault error: fail or break */
	size_t close_after;		/* --fault origin-close: bytes left */
};

static void link_event(struct emu_link *l, enum emu_link_event ev,
		       enum emu_fetch_status st)
{
	pthread_mutex_lock(&l->mu);
	switch (ev) {
	case EMU_LINK_CONNECTED:
		l->ev_connected = true;
		l->connect_st = st;
		break;
	case EMU_LINK_SENT:
		/* A failure sticks until the loop has seen it. */
		if (!l->ev_sent || l->sent_st == EMU_FETCH_OK)
			l->sent_st = st;
		l->ev_sent = true;
		break;
	case EMU_LINK_CLOSED:
		l->ev_closed = true;
		l->close_st = st;
		break;
	case EMU_LINK_DATA:
		break;
	}
	pthread_mutex_unlock(&l->mu);
	signal_fd(l->jobs->wake_fd);
}

/* A link holds at most this much the loop has not taken yet: past it the
 * worker stops reading, and TCP slows the origin down. */
#define LINK_IN_MAX (256 * 1024)

static uint64_t soonest(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* Connected: moves bytes both ways until the origin closes, something
 * fails, the deadline passes or the loop cancels.  Returns the CLOSED
 * status, or EMU_FETCH_CANCELLED (nothing to report). */
static enum emu_fetch_status link_pump(struct emu_link *l, struct conn *c)
{
	struct emu_buf sending = { 0 };
	size_t off = 0;
	uint64_t send_deadline = EMU_NEVER;
	char buf[16384];

	for (;;) {
		uint64_t deadline, now = emu_now_ns(), wake;
		struct pollfd p[3] = {
			{ .fd = c->fd, .events = POLLIN },
			{ .fd = l->ctl_fd, .events = POLLIN },
			{ .fd = l->cancel_fd, .events = POLLIN },
		};
		int timeout = -1;
		bool reading, pending;

		pthread_mutex_lock(&l->mu);
		if (l->cancel) {
			pthread_mutex_unlock(&l->mu);
			emu_buf_free(&sending);
			return EMU_FETCH_CANCELLED;
		}
		if (l->out.len && !sending.len) {
			sending = l->out;
			l->out = (struct emu_buf){ 0 };
			off = 0;
			send_deadline = now + l->send_timeout_ms * EMU_NS_PER_MS;
		}
		deadline = l->deadline;
		reading = !l->paused && l->in.len < LINK_IN_MAX;
		if (l->fail) {		/* --fault error: the link breaks */
			l->fail = false;
			pthread_mutex_unlock(&l->mu);
			if (sending.len)
				link_event(l, EMU_LINK_SENT, EMU_FETCH_CLOSED);
			emu_buf_free(&sending);
			return EMU_FETCH_CLOSED;
		}
		pthread_mutex_unlock(&l->mu);
		if (!reading)
			p[0].events = 0;
		/* What TLS already decrypted is no event for poll(). */
		pending = reading && conn_pending(c);

		if (sending.len && now >= send_deadline) {
			emu_buf_free(&sending);
			link_event(l, EMU_LINK_SENT, EMU_FETCH_TIMEOUT);
			return EMU_FETCH_TIMEOUT;
		}
		if (now >= deadline) {
			if (sending.len)
				link_event(l, EMU_LINK_SENT, EMU_FETCH_TIMEOUT);
			emu_buf_free(&sending);
			return EMU_FETCH_TIMEOUT;
		}
		if (sending.len)
			p[0].events |= conn_wants(c, POLLOUT);
		wake = soonest(deadline, sending.len ? send_deadline : EMU_NEVER);
		if (wake != EMU_NEVER)
			timeout = (int)((wake - now + EMU_NS_PER_MS - 1) /
					EMU_NS_PER_MS);
		if (pending)
			timeout = 0;
		if (poll(p, 3, timeout) < 0) {
			if (errno == EINTR)
				continue;
			emu_buf_free(&sending);
			return EMU_FETCH_CLOSED;
		}
		if (p[2].revents) {
			emu_buf_free(&sending);
			return EMU_FETCH_CANCELLED;
		}
		if (pending)
			p[0].revents |= POLLIN;
		if (p[1].revents) {
			uint64_t count;

			while (read(l->ctl_fd, &count, sizeof(count)) < 0 &&
			       errno == EINTR)
				;
			continue;
		}
		if (sending.len &&
		    (p[0].revents & (conn_wants(c, POLLOUT) | POLLERR))) {
			ssize_t n = conn_send(c, sending.data + off,
					      sending.len - off);

			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				emu_buf_free(&sending);
				link_event(l, EMU_LINK_SENT, EMU_FETCH_CLOSED);
				return EMU_FETCH_CLOSED;
			}
			if (n > 0) {
				off += (size_t)n;
				send_deadline = emu_now_ns() +
						l->send_timeout_ms * EMU_NS_PER_MS;
			}
			if (off == sending.len) {
				emu_buf_free(&sending);
				link_event(l, EMU_LINK_SENT, EMU_FETCH_OK);
			}
		}
		if ((reading && (p[0].revents & POLLIN)) ||
		    (p[0].revents & (POLLHUP | POLLERR))) {
			ssize_t n = conn_recv(c, buf, sizeof(buf));
			bool cut = false;

			if (n > 0) {
				pthread_mutex_lock(&l->mu);
				/* --fault origin-close: the origin stops
				 * there, as if it closed */
				if ((size_t)n >= l->close_after) {
					n = (ssize_t)l->close_after;
					cut = true;
				}
				if (l->close_after != SIZE_MAX)
					l->close_after -= (size_t)n;
				emu_buf_add(&l->in, buf, (size_t)n);
				pthread_mutex_unlock(&l->mu);
				signal_fd(l->jobs->wake_fd);
			}
			if (cut) {
				if (sending.len)
					link_event(l, EMU_LINK_SENT,
						   EMU_FETCH_CLOSED);
				emu_buf_free(&sending);
				return EMU_FETCH_OK;
			}
			if (n == 0 ||
			    (n < 0 && errno != EAGAIN && errno != EINTR)) {
				/* What was still to be sent never will be. */
				if (sending.len)
					link_event(l, EMU_LINK_SENT,
						   EMU_FETCH_CLOSED);
				emu_buf_free(&sending);
				return n == 0 ? EMU_FETCH_OK : EMU_FETCH_CLOSED;
			}
		}
	}
}

static void *link_worker(void *arg)
{
	struct emu_link *l = arg;
	enum emu_fetch_status st;
	struct conn c;

	pthread_mutex_lock(&l->mu);
	if (l->fail) {			/* --fault error: unreachable */
		l->fail = false;
		pthread_mutex_unlock(&l->mu);
		c = (struct conn){ .fd = -1 };
		st = EMU_FETCH_CONNECT;
	} else {
		pthread_mutex_unlock(&l->mu);
		st = conn_open(l->jobs->cfg, &l->url, l->cancel_fd,
			       l->connect_timeout_ms, &c);
	}
	if (st != EMU_FETCH_CANCELLED)
		link_event(l, EMU_LINK_CONNECTED, st);
	if (st == EMU_FETCH_OK) {
		st = link_pump(l, &c);
		if (st != EMU_FETCH_CANCELLED)
			link_event(l, EMU_LINK_CLOSED, st);
	}
	conn_close(&c);
	pthread_mutex_lock(&l->mu);
	l->finished = true;
	pthread_mutex_unlock(&l->mu);
	signal_fd(l->jobs->wake_fd);
	return NULL;
}

struct emu_link *emu_link_open(struct emu_jobs *jobs, const struct emu_url *u,
			       unsigned connect_timeout_ms, emu_link_fn *fn,
			       void *ctx)
{
	struct emu_link *l = emu_calloc(1, sizeof(*l));

	l->jobs = jobs;
	l->url = (struct emu_url){
		.tls = u->tls,
		.host = emu_strndup(u->host, strlen(u->host)),
		.port = u->port,
		.authority = emu_strndup(u->authority, strlen(u->authority)),
		.target = emu_strndup(u->target, strlen(u->target)),
	};
	emu_url_set_tls(&l->url, u->tls_opts.verify, u->tls_opts.sni,
			u->tls_opts.ca_pem, u->tls_opts.ca_len);
	l->url.tls_opts.ignore_dates = u->tls_opts.ignore_dates;
	l->connect_timeout_ms = connect_timeout_ms;
	l->fn = fn;
	l->ctx = ctx;
	l->deadline = EMU_NEVER;
	l->fail = jobs->fault_fail;
	l->close_after = jobs->fault_close_after;
	jobs->fault_fail = false;
	jobs->fault_close_after = SIZE_MAX;
	pthread_mutex_init(&l->mu, NULL);
	l->ctl_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	l->next = jobs->links;
	jobs->links = l;
	if (l->ctl_fd >= 0 && l->cancel_fd >= 0 &&
	    pthread_create(&l->thread, NULL, link_worker, l) == 0) {
		l->started = true;
	} else {
		/* Out of threads or fds: the module could not open a socket. */
		link_event(l, EMU_LINK_CONNECTED, EMU_FETCH_CONNECT);
		l->finished = true;
	}
	return l;
}

void emu_jobs_fault(struct emu_jobs *jobs, bool fail, size_t close_after)
{
	bool armed = false;

	/* A link opened before the request (Neoway's AT+HTTPSETUP) is the
	 * request's; else the next one opened is. */
	for (struct emu_link *l = jobs->links; l; l = l->next) {
		if (l->abandoned)
			continue;
		armed = true;
		pthread_mutex_lock(&l->mu);
		l->fail = fail;
		l->close_after = close_after;
		pthread_mutex_unlock(&l->mu);
		if (l->ctl_fd >= 0)
			signal_fd(l->ctl_fd);
	}
	jobs->fault_fail = fail && !armed;
	jobs->fault_close_after = armed ? SIZE_MAX : close_after;
}

void emu_link_send(struct emu_link *l, const void *p, size_t n,
		   unsigned timeout_ms)
{
	pthread_mutex_lock(&l->mu);
	emu_buf_add(&l->out, p, n);
	l->send_timeout_ms = timeout_ms;
	pthread_mutex_unlock(&l->mu);
	if (l->ctl_fd >= 0)
		signal_fd(l->ctl_fd);
}

void emu_link_pause(struct emu_link *l, bool paused)
{
	pthread_mutex_lock(&l->mu);
	l->paused = paused;
	pthread_mutex_unlock(&l->mu);
	if (l->ctl_fd >= 0)
		signal_fd(l->ctl_fd);
}

void emu_link_deadline(struct emu_link *l, unsigned ms)
{
	pthread_mutex_lock(&l->mu);
	l->deadline = ms ? emu_now_ns() + ms * EMU_NS_PER_MS : EMU_NEVER;
	pthread_mutex_unlock(&l->mu);
	if (l->ctl_fd >= 0)
		signal_fd(l->ctl_fd);
}

void emu_link_close(struct emu_link *l)
{
	if (!l)
		return;
	l->abandoned = true;
	pthread_mutex_lock(&l->mu);
	l->cancel = true;
	pthread_mutex_unlock(&l->mu);
	if (l->cancel_fd >= 0)
		signal_fd(l->cancel_fd);
}

static void link_free(struct emu_link *l)
{
	if (l->started)
		pthread_join(l->thread, NULL);
	if (l->ctl_fd >= 0)
		close(l->ctl_fd);
	if (l->cancel_fd >= 0)
		close(l->cancel_fd);
	pthread_mutex_destroy(&l->mu);
	emu_url_free(&l->url);
	emu_buf_free(&l->out);
	emu_buf_free(&l->in);
	free(l);
}

/* Hands each link's news to its owner, then frees the links that are
 * closed and whose worker is done. */
static void links_reap(struct emu_jobs *jobs)
{
	struct emu_link **pp;

	/* Callbacks may open links (they go to the head, behind us) and
	 * close any link (it stays in the list until the sweep). */
	for (struct emu_link *l = jobs->links; l; l = l->next) {
		bool connected, sent, closed;
		enum emu_fetch_status cst, sst, xst;
		struct emu_buf in;

		if (l->abandoned)
			continue;
		pthread_mutex_lock(&l->mu);
		connected = l->ev_connected;
		sent = l->ev_sent;
		closed = l->ev_closed;
		cst = l->connect_st;
		sst = l->sent_st;
		xst = l->close_st;
		in = l->in;
		l->in = (struct emu_buf){ 0 };
		l->ev_connected = l->ev_sent = l->ev_closed = false;
		pthread_mutex_unlock(&l->mu);
		if (in.len >= LINK_IN_MAX && l->ctl_fd >= 0)
			signal_fd(l->ctl_fd);	/* it may read again */
		if (connected)
			l->fn(l->ctx, EMU_LINK_CONNECTED, cst, NULL, 0);
		if (sent && !l->abandoned)
			l->fn(l->ctx, EMU_LINK_SENT, sst, NULL, 0);
		if (in.len && !l->abandoned)
			l->fn(l->ctx, EMU_LINK_DATA, EMU_FETCH_OK, in.data,
			      in.len);
		if (closed && !l->abandoned)
			l->fn(l->ctx, EMU_LINK_CLOSED, xst, NULL, 0);
		emu_buf_free(&in);
	}
	for (pp = &jobs->links; *pp;) {
		struct emu_link *l = *pp;
		bool finished;

		pthread_mutex_lock(&l->mu);
		finished = l->finished;
		pthread_mutex_unlock(&l->mu);
		if (l->abandoned && finished) {
			*pp = l->next;
			link_free(l);
		} else {
			pp = &l->next;
		}
	}
}

static void links_free(struct emu_jobs *jobs)
{
	for (struct emu_link *l = jobs->links; l; l = l->next)
		emu_link_close(l);
	while (jobs->links) {
		struct emu_link *l = jobs->links;

		jobs->links = l->next;
		link_free(l);
	}
}
