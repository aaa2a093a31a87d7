/*
 * ESP-AT-style WiFi firmware HTTP commands: AT+HTTPCLIENT, AT+HTTPCPOST and
 * AT+HTTPGETSIZE, as Espressif's ESP-AT prints them, and the Beken BK72xx
 * firmware that implements the same manual with other output.
 *
 * Source of truth: the manual (seeds/004), the lead's wire decisions
 * (issue 4: quoted parameters with ESP-AT's escapes \" \\ \, and the
 * manual's unquoted form, both parsed by emu_cmdline.c's EMU_PARSE_ESPAT;
 * a command line of at most 256 bytes) and the quirks DESIGN.md lists.
 * Whatever that does not allow answers ERROR.  Not emulated: TLS
 * (transport_type 2, https:// answer ERROR), AT+HTTPCERT, AT+OTA, the
 * provisioning commands.
 *
 * The module's request is what ESP-IDF's esp_http_client writes: request
 * line, User-Agent, Host, Content-Type and Content-Length (POST and PUT
 * only), the header parameters replacing a default of the same name in
 * place or joining the end.  One connection per command.  It follows
 * redirects itself (at most 5; a 303 turns into a GET) and prints only
 * the final response.  What ends a command: OK or ERROR (AT+HTTPCLIENT,
 * AT+HTTPGETSIZE), SEND OK or SEND FAIL after AT+HTTPCPOST's data (a
 * failure, or a status of 400 or more on Espressif firmware); ERROR before
 * the '>' for parameters it refuses.
 *
 * How the body reaches the host without the emulator ever holding it all
 * (a 50 MB body streams at line rate): the module's HTTP client runs on its
 * own thread (struct task), as esp_http_client runs on its own task, and
 * hands the body over through a bounded buffer; it stops reading from the
 * origin while that is full, so TCP holds the origin back.  The loop's side
 * prints from that buffer into the port's output queue while that holds
 * less than QUEUE_MAX bytes.  emu_port.c tells a dialect nothing when
 * output has been written, but a data phase begins only once everything
 * queued before its prompt is out: a zero-byte prompt with a zero timeout
 * (a "drain mark") has data() called soon after the host has taken what
 * precedes it.  The tasks wake the loop through a loopback TCP link to
 * ourselves (the doorbell), because a link's callback is the only way a
 * worker thread can have the loop call a dialect.  Each drain mark leaves
 * a "DATA 0" line in --log (one per 32 KB of a response).
 *
 * A host that hangs up in the middle of a response: the port drops what
 * was queued; the job goes on printing what comes after, as a module that
 * cannot know the host left would, unless it was waiting for the host
 * (then it waits until the next command, which ends it).
 */
#include "emu.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LINE 256			/* ESP-AT's longest command, without CR */
#define MAX_POST 2048			/* AT+HTTPCPOST <length>: "maximum 2k" */
#define PIECE 512			/* body bytes in one +HTTPCLIENT piece */
#define MAX_REDIRECTS 5
#define NET_TIMEOUT_MS 5000		/* esp_http_client's default timeout */
#define POST_DATA_TIMEOUT_MS 10000	/* for the bytes after ">" */
#define TASK_BUFFER (64 * 1024)		/* body the HTTP task holds back */
#define SEGMENT (32 * 1024)		/* output between two drain marks */
#define QUEUE_MAX (128 * 1024)		/* output ahead of the host */
#define USER_AGENT "ESP32 HTTP Client/1.0"

/* How firmwares differ: answers only, never the request they send. */
struct espat_variant {
	const char *name;
	/* "+HTTPCLIENT:<T>,<data>" with the angle brackets printed, T the
	 * whole body's length in every piece, data cut at its first NUL;
	 * else "+HTTPCLIENT:<n>,<n bytes>". */
	bool bracketed;
	/* A status outside 200..399 prints nothing and ends OK; else a
	 * status of 400 or more ends ERROR (SEND FAIL) after the pieces. */
	bool quiet_status;
	bool head_lines;		/* HEAD prints the header lines */
	bool cpost_pieces;		/* AT+HTTPCPOST prints +HTTPCPOST: pieces */
};

static const struct espat_variant variants[] = {
	{
		.name = "espressif",
		.head_lines = true,
		.cpost_pieces = true,
	},
	{
		.name = "beken",
		.bracketed = true,
		.quiet_status = true,
	},
};

enum { M_HEAD = 1, M_GET, M_POST, M_PUT, M_DELETE };

static const char *const method_name[] = {
	[M_HEAD] = "HEAD", [M_GET] = "GET", [M_POST] = "POST",
	[M_PUT] = "PUT", [M_DELETE] = "DELETE",
};

/* AT+HTTPCLIENT <content-type> */
static const char *const content_type[] = {
	"application/x-www-form-urlencoded",
	"application/json",
	"multipart/form-data",
	"text/xml",
};

struct field {
	char *name, *value;
};

/* ------------------------------------------------------------ the HTTP task */

/* One request, carried out by the module's HTTP client on its own thread.
 * The loop's thread sets the first part and then only reads what the
 * mutex guards. */
struct task {
	struct task *next;		/* in the retired list */
	const struct emu_config *cfg;
	atomic_int *bell;		/* the doorbell's writing end */
	int method;
	struct emu_url url;
	const char *ctype;		/* default Content-Type, for a body */
	struct field *params;		/* the header parameters */
	size_t nparams;
	struct emu_buf body;
	bool keep_unsized;		/* hold a body without Content-Length
					 * until its end (Beken needs <T>) */
	int cancel_fd;
	pthread_t thread;
	bool started;

	pthread_mutex_t mu;		/* guards everything below */
	pthread_cond_t room;		/* the printer took body bytes */
	bool cancel;
	bool head;			/* the final response's head is in */
	int status;
	bool has_length;
	uint64_t length;
	struct emu_buf header;		/* status line through the blank line */
	struct emu_buf out;		/* body received, not yet taken */
	bool ended;			/* nothing more will come */
	bool failed;			/* ... because something failed */
	bool finished;			/* the thread is about to return */
};

static void ring(struct task *t)
{
	int fd = atomic_load(t->bell);

	/* One byte wakes the loop; a full socket means it is awake. */
	if (fd >= 0)
		while (send(fd, "!", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
		       errno == EINTR)
			;
}

static bool is_cancelled(struct task *t)
{
	bool c;

	pthread_mutex_lock(&t->mu);
	c = t->cancel;
	pthread_mutex_unlock(&t->mu);
	return c;
}

enum wait_result { WAIT_READY, WAIT_TIMEOUT, WAIT_CANCELLED };

static enum wait_result wait_fd(struct task *t, int fd, short events,
				unsigned timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = events },
		{ .fd = t->cancel_fd, .events = POLLIN },
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

static enum emu_fetch_status connect_one(struct task *t,
					 const struct sockaddr *sa,
					 socklen_t len, int *out)
{
	int fd = socket(sa->sa_family,
			SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = 0;
	socklen_t elen = sizeof(err);

	if (fd < 0)
		return EMU_FETCH_CONNECT;
	if (connect(fd, sa, len) < 0) {
		if (errno != EINPROGRESS) {
			close(fd);
			return EMU_FETCH_CONNECT;
		}
		switch (wait_fd(t, fd, POLLOUT, NET_TIMEOUT_MS)) {
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

/* The routed address, else DNS: as emu_origin.c's links and fetches do. */
static enum emu_fetch_status dial(struct task *t, const struct emu_url *u,
				  int *fd)
{
	const struct emu_route *r = find_route(t->cfg, u);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	};
	struct addrinfo *res, *ai;
	enum emu_fetch_status st = EMU_FETCH_CONNECT;
	char port[8];

	if (u->tls)
		return EMU_FETCH_TLS;
	if (r)
		return connect_one(t, (const struct sockaddr *)&r->addr,
				   r->addrlen, fd);
	snprintf(port, sizeof(port), "%u", u->port);
	if (getaddrinfo(u->host, port, &hints, &res) != 0)
		return EMU_FETCH_DNS;
	for (ai = res; ai; ai = ai->ai_next) {
		st = connect_one(t, ai->ai_addr, ai->ai_addrlen, fd);
		if (st != EMU_FETCH_CONNECT)
			break;
	}
	freeaddrinfo(res);
	return st;
}

static enum emu_fetch_status send_all(struct task *t, int fd,
				      const struct emu_buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = send(fd, b->data + off, b->len - off, MSG_NOSIGNAL);

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN)
			return EMU_FETCH_CLOSED;
		switch (wait_fd(t, fd, POLLOUT, NET_TIMEOUT_MS)) {
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

/* esp_http_client's header list: setting a name that is there replaces
 * its value in place (keeping the first spelling), else appends. */
static void set_field(struct field **f, size_t *n, const char *name,
		      const char *value)
{
	struct field *a;

	for (size_t i = 0; i < *n; i++)
		if (!strcasecmp((*f)[i].name, name)) {
			free((*f)[i].value);
			(*f)[i].value = emu_strndup(value, strlen(value));
			return;
		}
	a = emu_calloc(*n + 1, sizeof(*a));
	if (*n)
		memcpy(a, *f, *n * sizeof(*a));
	free(*f);
	a[*n].name = emu_strndup(name, strlen(name));
	a[*n].value = emu_strndup(value, strlen(value));
	*f = a;
	(*n)++;
}

static void free_fields(struct field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].value);
	}
	free(f);
}

static void build_request(const struct task *t, int method,
			  const struct emu_url *u, bool with_body,
			  struct emu_buf *r)
{
	struct field *f = NULL;
	size_t n = 0;
	struct emu_buf host = { 0 };

	/* Host as esp_http_client writes it: the port only if not 80. */
	if (strchr(u->host, ':'))
		emu_buf_addf(&host, "[%s]", u->host);
	else
		emu_buf_addf(&host, "%s", u->host);
	if (u->port != 80)
		emu_buf_addf(&host, ":%u", u->port);
	set_field(&f, &n, "User-Agent", USER_AGENT);
	set_field(&f, &n, "Host", host.data);
	if (with_body)
		set_field(&f, &n, "Content-Type", t->ctype);
	for (size_t i = 0; i < t->nparams; i++)
		/* The module frames the body itself. */
		if (strcasecmp(t->params[i].name, "Content-Length"))
			set_field(&f, &n, t->params[i].name,
				  t->params[i].value);
	emu_buf_addf(r, "%s %s HTTP/1.1\r\n", method_name[method], u->target);
	for (size_t i = 0; i < n; i++)
		emu_buf_addf(r, "%s: %s\r\n", f[i].name, f[i].value);
	if (with_body)
		emu_buf_addf(r, "Content-Length: %zu\r\n", t->body.len);
	emu_buf_add(r, "\r\n", 2);
	if (with_body)
		emu_buf_add(r, t->body.data, t->body.len);
	free_fields(f, n);
	emu_buf_free(&host);
}

/* A header's value in a header block, trimmed; NULL if absent. */
static char *header_value(const struct emu_buf *block, const char *name)
{
	size_t nlen = strlen(name);
	const char *p = block->data, *end = block->data + block->len;

	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *v, *ve;

		if (!eol)
			break;
		if ((size_t)(eol - p) > nlen && !strncasecmp(p, name, nlen) &&
		    p[nlen] == ':') {
			v = p + nlen + 1;
			ve = eol;
			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' ||
					  ve[-1] == '\t'))
				ve--;
			return emu_strndup(v, (size_t)(ve - v));
		}
		p = eol + 1;
	}
	return NULL;
}

/* Location against the URL it came from: an absolute http(s) URL or an
 * absolute path, as esp_http_client_set_url() takes them. */
static int follow(const struct emu_url *from, const char *loc,
		  struct emu_url *to)
{
	struct emu_buf abs = { 0 };
	int rc;

	if (loc[0] == '/' && loc[1] == '/')
		emu_buf_addf(&abs, "%s:%s", from->tls ? "https" : "http", loc);
	else if (loc[0] == '/')
		emu_buf_addf(&abs, "%s://%s%s", from->tls ? "https" : "http",
			     from->authority, loc);
	else
		emu_buf_addf(&abs, "%s", loc);
	rc = emu_url_parse(abs.data, to);
	emu_buf_free(&abs);
	return rc;
}

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

/* Hands body bytes to the printer, waiting while its buffer is full. */
static enum emu_fetch_status give(struct task *t, struct emu_buf *b,
				  bool keep_all)
{
	bool was_empty;

	if (!b->len)
		return EMU_FETCH_OK;
	pthread_mutex_lock(&t->mu);
	while (!keep_all && !t->cancel && t->out.len >= TASK_BUFFER)
		pthread_cond_wait(&t->room, &t->mu);
	if (t->cancel) {
		pthread_mutex_unlock(&t->mu);
		return EMU_FETCH_CANCELLED;
	}
	was_empty = t->out.len == 0;
	emu_buf_add(&t->out, b->data, b->len);
	pthread_mutex_unlock(&t->mu);
	b->len = 0;
	if (was_empty && !keep_all)
		ring(t);
	return EMU_FETCH_OK;
}

/* One exchange on a fresh connection.  Returns with *redirect set and
 * *code its status (the connection closed, the body unread) when the
 * response sends us elsewhere. */
static enum emu_fetch_status exchange(struct task *t, int method,
				      const struct emu_url *u, bool with_body,
				      int hops, struct emu_url *redirect,
				      int *code)
{
	struct emu_fetch f = { .head_only = method == M_HEAD };
	struct emu_buf req = { 0 };
	struct emu_resp *r = NULL;
	enum emu_fetch_status st;
	bool published = false, keep_all = false;
	uint64_t total = 0;
	char buf[16384];
	int fd = -1;

	build_request(t, method, u, with_body, &req);
	st = dial(t, u, &fd);
	if (st == EMU_FETCH_OK)
		st = send_all(t, fd, &req);
	emu_buf_free(&req);
	if (st == EMU_FETCH_OK)
		r = emu_resp_new(&f, SIZE_MAX);
	while (st == EMU_FETCH_OK && !emu_resp_complete(r)) {
		ssize_t n;

		switch (wait_fd(t, fd, POLLIN, NET_TIMEOUT_MS)) {
		case WAIT_TIMEOUT:
			st = EMU_FETCH_TIMEOUT;
			continue;
		case WAIT_CANCELLED:
			st = EMU_FETCH_CANCELLED;
			continue;
		case WAIT_READY:
			break;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			st = EMU_FETCH_CLOSED;	/* reset */
			continue;
		}
		st = emu_resp_feed(r, buf, (size_t)n);
		if (st != EMU_FETCH_OK || !f.http_status)
			continue;	/* no head yet */
		if (!published) {
			char *loc = is_redirect(f.http_status) ?
				    header_value(&f.header, "Location") : NULL;

			if (loc) {
				/* Not printed: only the final response is. */
				if (hops == MAX_REDIRECTS ||
				    follow(u, loc, redirect) < 0)
					st = EMU_FETCH_NOT_HTTP;
				*code = f.http_status;
				free(loc);
				break;
			}
			pthread_mutex_lock(&t->mu);
			t->head = true;
			t->status = f.http_status;
			t->has_length = f.has_length;
			t->length = f.content_length;
			t->header = f.header;
			f.header = (struct emu_buf){ 0 };
			pthread_mutex_unlock(&t->mu);
			keep_all = t->keep_unsized && !f.has_length;
			published = true;
			ring(t);
		}
		total += f.body.len;
		if (total > t->cfg->max_body)
			st = EMU_FETCH_TOO_BIG;
		else
			st = give(t, &f.body, keep_all);
	}
	emu_resp_free(r);
	if (fd >= 0)
		close(fd);
	emu_buf_free(&f.header);
	emu_buf_free(&f.body);
	return st;
}

static void *task_main(void *arg)
{
	struct task *t = arg;
	struct emu_url url = { 0 }, next;
	enum emu_fetch_status st;
	int method = t->method;
	bool with_body = method == M_POST || method == M_PUT;

	for (int hops = 0;; hops++) {
		int code = 0;

		next = (struct emu_url){ 0 };
		st = exchange(t, method, hops ? &url : &t->url, with_body,
			      hops, &next, &code);
		if (st != EMU_FETCH_OK || !next.host)
			break;
		emu_url_free(&url);
		url = next;
		next = (struct emu_url){ 0 };
		if (is_cancelled(t)) {
			st = EMU_FETCH_CANCELLED;
			break;
		}
		/* 303 See Other: the next request is a GET without the body
		 * (a HEAD stays a HEAD); the others repeat the request. */
		if (code == 303 && method != M_HEAD) {
			method = M_GET;
			with_body = false;
		}
	}
	emu_url_free(&next);
	emu_url_free(&url);
	pthread_mutex_lock(&t->mu);
	t->ended = true;
	t->failed = st != EMU_FETCH_OK;
	t->finished = true;
	pthread_mutex_unlock(&t->mu);
	ring(t);
	return NULL;
}

static struct task *task_new(const struct emu_config *cfg, atomic_int *bell,
			     int method)
{
	struct task *t = emu_calloc(1, sizeof(*t));

	t->cfg = cfg;
	t->bell = bell;
	t->method = method;
	t->cancel_fd = -1;
	pthread_mutex_init(&t->mu, NULL);
	pthread_cond_init(&t->room, NULL);
	return t;
}

static bool task_start(struct task *t)
{
	t->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->started = t->cancel_fd >= 0 &&
		     pthread_create(&t->thread, NULL, task_main, t) == 0;
	return t->started;
}

static void task_cancel(struct task *t)
{
	uint64_t one = 1;

	pthread_mutex_lock(&t->mu);
	t->cancel = true;
	pthread_cond_broadcast(&t->room);
	pthread_mutex_unlock(&t->mu);
	if (t->cancel_fd >= 0)
		while (write(t->cancel_fd, &one, sizeof(one)) < 0 &&
		       errno == EINTR)
			;
}

static bool task_finished(struct task *t)
{
	bool done;

	if (!t->started)
		return true;
	pthread_mutex_lock(&t->mu);
	done = t->finished;
	pthread_mutex_unlock(&t->mu);
	return done;
}

static void task_free(struct task *t)
{
	if (t->started)
		pthread_join(t->thread, NULL);
	if (t->cancel_fd >= 0)
		close(t->cancel_fd);
	pthread_mutex_destroy(&t->mu);
	pthread_cond_destroy(&t->room);
	emu_url_free(&t->url);
	free_fields(t->params, t->nparams);
	emu_buf_free(&t->body);
	emu_buf_free(&t->header);
	emu_buf_free(&t->out);
	free(t);
}

/* ------------------------------------------------------------ the module */

enum job {
	JOB_NONE,
	JOB_CLIENT,			/* AT+HTTPCLIENT */
	JOB_CPOST_DATA,			/* AT+HTTPCPOST, waiting for its bytes */
	JOB_CPOST,			/* AT+HTTPCPOST, the request */
	JOB_GETSIZE,			/* AT+HTTPGETSIZE */
};

struct espat {
	struct emu *emu;
	const struct emu_config *cfg;
	const struct espat_variant *v;

	struct emu_link *bell_link;	/* the doorbell: tasks write, */
	atomic_int bell;		/* ... the loop gets link DATA */
	struct task *retired;		/* cancelled, threads not yet joined */

	enum job job;
	struct task *task;		/* the job's request */
	bool headed;			/* the final head has been acted on */
	bool print;			/* the body goes out as pieces */
	uint64_t total;			/* Beken's <T> */

};

static void retire(struct espat *s, struct task *t)
{
	if (!t)
		return;
	task_cancel(t);
	t->next = s->retired;
	s->retired = t;
}

static void reap(struct espat *s)
{
	for (struct task **pp = &s->retired; *pp;) {
		struct task *t = *pp;

		if (task_finished(t)) {
			*pp = t->next;
			task_free(t);
		} else {
			pp = &t->next;
		}
	}
}

static void end_job(struct espat *s)
{
	retire(s, s->task);
	s->task = NULL;
	s->job = JOB_NONE;
	s->headed = s->print = false;
	s->total = 0;
}

static void final(struct espat *s, const char *word)
{
	emu_sendf(s->emu, EMU_MARK_DONE, "\r\n%s\r\n", word);
	end_job(s);
}

/* Output bytes not yet written to the host.  The queue is the port's,
 * read here on the loop's thread: counting it, rather than the marks
 * reached, stays right when the writer passes two marks in one go (the
 * port then calls data() once). */
static size_t unwritten(struct espat *s)
{
	size_t n = 0;

	for (const struct emu_chunk *c = emu_out_head(s->emu); c; c = c->next)
		n += c->bytes.len - c->off;
	return n;
}

/* A drain mark: data() is called once everything queued before it has
 * been written. */
static void mark(struct espat *s)
{
	emu_download(s->emu, "", 0, 0);
}

static bool mark_queued(struct espat *s)
{
	for (const struct emu_chunk *c = emu_out_head(s->emu); c; c = c->next)
		if (c->mark == EMU_MARK_PROMPT)
			return true;
	return false;
}

static void queue_out(struct espat *s, struct emu_buf *b)
{
	emu_send(s->emu, EMU_MARK_NONE, b->data, b->len);
	b->len = 0;
}

static void add_piece(struct espat *s, struct emu_buf *b, const char *p,
		      size_t n)
{
	const char *cmd = s->job == JOB_CPOST ? "+HTTPCPOST" : "+HTTPCLIENT";

	if (s->v->bracketed) {
		const char *nul = memchr(p, '\0', n);

		emu_buf_addf(b, "%s:<%llu>,<", cmd,
			     (unsigned long long)s->total);
		emu_buf_add(b, p, nul ? (size_t)(nul - p) : n);
		emu_buf_add(b, ">\r\n", 3);
	} else {
		emu_buf_addf(b, "%s:%zu,", cmd, n);
		emu_buf_add(b, p, n);
		emu_buf_add(b, "\r\n", 2);
	}
}

/* The header lines, one piece each, without the status line. */
static void print_head_lines(struct espat *s, const struct emu_buf *block)
{
	struct emu_buf out = { 0 };
	const char *p = block->data, *end = block->data + block->len;
	bool first = true;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n && p[n - 1] == '\r')
			n--;
		if (!first && n)
			add_piece(s, &out, p, n);
		first = false;
		p = eol ? eol + 1 : end;
	}
	if (out.len)
		queue_out(s, &out);
	emu_buf_free(&out);
}

static bool status_fails(const struct espat *s, int status)
{
	return !s->v->quiet_status && status >= 400;
}

static bool status_quiet(const struct espat *s, int status)
{
	return s->v->quiet_status && (status < 200 || status > 399);
}

/* The final head is in: what the job makes of it.  Returns false if the
 * job ended here. */
static bool on_head(struct espat *s, struct task *t)
{
	if (s->job == JOB_GETSIZE) {
		if (status_quiet(s, t->status))
			final(s, "OK");
		else if (status_fails(s, t->status) || !t->has_length)
			final(s, "ERROR");
		else {
			emu_sendf(s->emu, EMU_MARK_NONE, "+HTTPGETSIZE:%llu\r\n",
				  (unsigned long long)t->length);
			final(s, "OK");
		}
		return false;
	}
	if (s->job == JOB_CLIENT && t->method == M_HEAD) {
		if (s->v->head_lines && !status_quiet(s, t->status))
			print_head_lines(s, &t->header);
		final(s, status_fails(s, t->status) ? "ERROR" : "OK");
		return false;
	}
	if (s->job == JOB_CPOST)
		s->print = s->v->cpost_pieces;
	else
		s->print = !status_quiet(s, t->status);
	s->total = t->length;
	return true;
}

/* Moves what the task has into the output, as far as the host keeps up,
 * and ends the job once the task has ended and everything is out.  The
 * head and its fields stay as they are once t->head is set, so only the
 * body and the end need the lock. */
static void pump(struct espat *s)
{
	struct task *t = s->task;
	struct emu_buf out = { 0 };
	bool head, ended, failed, full;
	size_t off = 0, room, queued;

	if (!t || s->job == JOB_CPOST_DATA)
		return;
	pthread_mutex_lock(&t->mu);
	head = t->head;
	ended = t->ended;
	failed = t->failed;
	pthread_mutex_unlock(&t->mu);
	if (!head) {
		if (ended)		/* failed before any head */
			final(s, s->job == JOB_CPOST ? "SEND FAIL" : "ERROR");
		return;
	}
	if (!s->headed) {
		s->headed = true;
		if (!on_head(s, t))
			return;
	}
	pthread_mutex_lock(&t->mu);
	ended = t->ended;
	failed = t->failed;
	/* Beken prints <T>: a body of unknown length is held to its end. */
	if (s->print && s->v->bracketed && !t->has_length) {
		if (!ended) {
			pthread_mutex_unlock(&t->mu);
			return;
		}
		s->total = t->out.len;
		if (failed)
			t->out.len = 0;	/* no <T> to print it with */
	}
	/* A mark every SEGMENT bytes brings us back while the host still
	 * reads the rest. */
	queued = unwritten(s);
	room = queued < QUEUE_MAX ? QUEUE_MAX - queued : 0;
	while (off < t->out.len && (!s->print || out.len < room)) {
		size_t n = t->out.len - off < PIECE ? t->out.len - off : PIECE;

		if (s->print)
			add_piece(s, &out, t->out.data + off, n);
		off += n;
		if (out.len >= SEGMENT) {
			room = room > out.len ? room - out.len : 0;
			queue_out(s, &out);
			mark(s);
		}
	}
	full = off < t->out.len;
	if (off) {
		memmove(t->out.data, t->out.data + off, t->out.len - off);
		t->out.len -= off;
	}
	ended = ended && !t->out.len;
	pthread_cond_broadcast(&t->room);
	pthread_mutex_unlock(&t->mu);
	if (out.len)
		queue_out(s, &out);
	emu_buf_free(&out);
	if (!ended) {
		/* Stopped for want of room: some mark must bring us back. */
		if (full && !mark_queued(s))
			mark(s);
		return;
	}
	if (s->job == JOB_CPOST)
		final(s, failed || status_fails(s, t->status) ? "SEND FAIL"
							      : "SEND OK");
	else
		final(s, failed || status_fails(s, t->status) ? "ERROR"
							      : "OK");
}

/* ------------------------------------------------------------ commands */

static bool num_in(const struct emu_cmd *c, size_t i, unsigned long lo,
		   unsigned long hi)
{
	return i < c->argc && c->argv[i].kind == EMU_ARG_NUMBER &&
	       c->argv[i].num >= lo && c->argv[i].num <= hi;
}

/* A string parameter: quoted, unquoted (digits too: EMU_PARSE_ESPAT keeps
 * their text) or empty. */
static bool is_text(const struct emu_cmd *c, size_t i)
{
	return i < c->argc;
}

/* "Name: value": a token, a colon, optional blanks, the value (kept as
 * given, possibly empty). */
static bool take_param(struct task *t, const struct emu_arg *a)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	size_t i = 0;
	const char *v;
	struct field *f;

	if (a->kind != EMU_ARG_STRING && a->kind != EMU_ARG_WORD)
		return false;
	while (i < a->len && ((a->str[i] >= '0' && a->str[i] <= '9') ||
			      (a->str[i] >= 'a' && a->str[i] <= 'z') ||
			      (a->str[i] >= 'A' && a->str[i] <= 'Z') ||
			      (a->str[i] && strchr(tchar, a->str[i]))))
		i++;
	if (i == 0 || i == a->len || a->str[i] != ':')
		return false;
	v = a->str + i + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	f = emu_calloc(t->nparams + 1, sizeof(*f));
	if (t->nparams)
		memcpy(f, t->params, t->nparams * sizeof(*f));
	free(t->params);
	f[t->nparams].name = emu_strndup(a->str, i);
	f[t->nparams].value = emu_strndup(v, strlen(v));
	t->params = f;
	t->nparams++;
	return true;
}

static bool take_params(struct task *t, const struct emu_cmd *c, size_t from)
{
	for (size_t i = from; i < c->argc; i++)
		if (!take_param(t, &c->argv[i]))
			return false;
	return true;
}

/* An http:// URL (https: the emulator has no TLS, so ERROR at once). */
static bool take_url(struct task *t, const char *url)
{
	if (emu_url_parse(url, &t->url) < 0)
		return false;
	return !t->url.tls;
}

/* <url>, or when it is empty <host> and <path>: a bare host name or
 * address (no port, no user) and a path from "/". */
static bool client_url(struct task *t, const struct emu_cmd *c)
{
	const struct emu_arg *url = &c->argv[2], *host = &c->argv[3],
			     *path = &c->argv[4];
	struct emu_buf b = { 0 };
	bool ok;

	if (url->len)
		return take_url(t, url->str);
	if (!host->len || !path->len || path->str[0] != '/')
		return false;
	emu_buf_addf(&b, "http://%s%s", host->str, path->str);
	/* What the URL parser took for the host must be all of <host>, and
	 * no port: "[v6]" has its colons inside the brackets. */
	ok = take_url(t, b.data) && !strcmp(t->url.authority, host->str) &&
	     (host->str[0] == '[' || !strchr(host->str, ':'));
	emu_buf_free(&b);
	return ok;
}

static void start(struct espat *s, struct task *t, enum job job)
{
	if (!task_start(t)) {
		/* Out of threads: the module could not open a socket. */
		task_free(t);
		emu_error(s->emu);
		return;
	}
	s->task = t;
	s->job = job;
}

/* AT+HTTPCLIENT=<opt>,<content-type>,<url>,[<host>],[<path>],
 *               <transport_type>[,<data>][,<http_req_header>]... */
static void http_client(struct espat *s, const struct emu_cmd *c)
{
	const struct emu_arg *a = c->argv;
	size_t first = 6;
	struct task *t;

	if (c->argc < 6 || !num_in(c, 0, M_HEAD, M_DELETE) ||
	    !num_in(c, 1, 0, 3) || !num_in(c, 5, 1, 1)) {
		/* transport_type 2 is TLS, which the emulator lacks */
		emu_error(s->emu);
		return;
	}
	/* <data> exists only for POST (present, maybe empty); for any other
	 * method what follows <transport_type> is headers. */
	if (a[0].num == M_POST) {
		if (!is_text(c, 6)) {
			emu_error(s->emu);
			return;
		}
		first = 7;
	}
	t = task_new(s->cfg, &s->bell, (int)a[0].num);
	t->ctype = content_type[a[1].num];
	t->keep_unsized = s->v->bracketed;
	if (a[0].num == M_POST)
		emu_buf_add(&t->body, a[6].str, a[6].len);
	if (!take_params(t, c, first) || !client_url(t, c)) {
		task_free(t);
		emu_error(s->emu);
		return;
	}
	start(s, t, JOB_CLIENT);
}

/* AT+HTTPCPOST=<url>,<length>[,<http_req_header_cnt>][,<http_req_header>]...
 * OK, ">", exactly <length> bytes, then the response. */
static void http_cpost(struct espat *s, const struct emu_cmd *c)
{
	struct task *t;

	if (c->argc < 2 || !c->argv[0].len || !num_in(c, 1, 1, MAX_POST) ||
	    (c->argc > 2 && !num_in(c, 2, c->argc - 3, c->argc - 3))) {
		emu_error(s->emu);
		return;
	}
	t = task_new(s->cfg, &s->bell, M_POST);
	/* Content-Type only from a header parameter; else ESP-AT's. */
	t->ctype = content_type[0];
	t->keep_unsized = s->v->bracketed;
	if (!take_url(t, c->argv[0].str) || !take_params(t, c, 3)) {
		task_free(t);
		emu_error(s->emu);
		return;
	}
	s->task = t;
	s->job = JOB_CPOST_DATA;
	emu_send(s->emu, EMU_MARK_NONE, "\r\nOK\r\n", 6);
	emu_download(s->emu, "\r\n>", c->argv[1].num, POST_DATA_TIMEOUT_MS);
}

/* AT+HTTPGETSIZE=<url>: a HEAD, and its Content-Length. */
static void http_getsize(struct espat *s, const struct emu_cmd *c)
{
	struct task *t;

	if (c->argc != 1 || !c->argv[0].len) {
		emu_error(s->emu);
		return;
	}
	t = task_new(s->cfg, &s->bell, M_HEAD);
	if (!take_url(t, c->argv[0].str)) {
		task_free(t);
		emu_error(s->emu);
		return;
	}
	start(s, t, JOB_GETSIZE);
}

static void data_done(void *ctx, struct emu_buf *data, bool complete)
{
	struct espat *s = ctx;
	struct task *t = s->task;

	if (s->job != JOB_CPOST_DATA) {
		/* A drain mark (or a hangup in the middle of one). */
		pump(s);
		return;
	}
	if (!complete) {
		final(s, "SEND FAIL");
		return;
	}
	t->body = *data;
	*data = (struct emu_buf){ 0 };
	if (!task_start(t)) {
		final(s, "SEND FAIL");
		return;
	}
	s->job = JOB_CPOST;
}

/* ------------------------------------------------------------ dispatch */

#define FORM(f) (1u << EMU_FORM_##f)

static const struct espat_command {
	const char *name;
	unsigned forms;
	void (*run)(struct espat *s, const struct emu_cmd *c);
} commands[] = {
	{ "+HTTPCLIENT", FORM(SET), http_client },
	{ "+HTTPCPOST", FORM(SET), http_cpost },
	{ "+HTTPGETSIZE", FORM(SET), http_getsize },
};

static void command(void *ctx, const struct emu_cmd *c)
{
	struct espat *s = ctx;

	if (s->job != JOB_NONE) {
		/* Only a hangup lets a command in while a job runs (the
		 * port refuses lines until the final result is out): the
		 * old job's output is lost, and so is the job. */
		end_job(s);
	}
	reap(s);
	if (c->len > MAX_LINE) {
		emu_error(s->emu);
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, c->name))
			continue;
		if (!(commands[i].forms & (1u << c->form)))
			break;
		commands[i].run(s, c);
		return;
	}
	emu_error(s->emu);
}

/* ------------------------------------------------------------ life */

static void on_bell(void *ctx, enum emu_link_event ev, enum emu_fetch_status st,
		    const char *p, size_t n)
{
	struct espat *s = ctx;

	if (ev == EMU_LINK_CLOSED ||
	    (ev == EMU_LINK_CONNECTED && st != EMU_FETCH_OK)) {
		fputs("athttp-emu: espat: the doorbell link died\n", stderr);
		abort();
	}
	reap(s);
	pump(s);
}

/* A loopback connection to ourselves: the tasks write its accepted end,
 * the loop hears it as link DATA. */
static int open_bell(struct espat *s)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t alen = sizeof(a);
	struct emu_url u;
	struct pollfd p;
	char url[64];
	int lfd, fd = -1, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		return -1;
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(lfd, 1) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &alen) < 0)
		goto out;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		 (unsigned)ntohs(a.sin_port));
	if (emu_url_parse(url, &u) < 0)
		goto out;
	s->bell_link = emu_link_open(emu_jobs(s->emu), &u, NET_TIMEOUT_MS,
				     on_bell, s);
	emu_url_free(&u);
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	if (poll(&p, 1, NET_TIMEOUT_MS) != 1)
		goto out;
	fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	/* One byte at a time, each at once. */
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
out:
	close(lfd);
	atomic_store(&s->bell, fd);
	return fd < 0 ? -1 : 0;
}

static void close_espat(void *ctx)
{
	struct espat *s = ctx;
	int fd;

	retire(s, s->task);
	s->task = NULL;
	while (s->retired) {
		struct task *t = s->retired;

		s->retired = t->next;
		task_free(t);		/* joins: nobody rings after this */
	}
	fd = atomic_load(&s->bell);
	if (fd >= 0)
		close(fd);
	emu_link_close(s->bell_link);
	free(s);
}

static void *open_espat(struct emu *e, const struct emu_config *cfg,
			const char **err)
{
	const struct espat_variant *v = NULL;
	struct espat *s;

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		if (!cfg->variant || !strcmp(cfg->variant, variants[i].name)) {
			v = &variants[i];
			break;
		}
	if (!v) {
		*err = "unknown espat variant (espressif, beken)";
		return NULL;
	}
	s = emu_calloc(1, sizeof(*s));
	s->emu = e;
	s->cfg = cfg;
	s->v = v;
	atomic_init(&s->bell, -1);
	if (open_bell(s) < 0) {
		close_espat(s);
		*err = "espat: cannot connect to itself on 127.0.0.1";
		return NULL;
	}
	return s;
}

const struct emu_dialect emu_espat = {
	.name = "espat",
	.parse_flags = EMU_PARSE_ESPAT,
	.open = open_espat,
	.close = close_espat,
	.command = command,
	.data = data_done,
};
