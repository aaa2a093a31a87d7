/*
 * The AT-injection property: whatever a client sends, every command a
 * driver writes to the module is one its family's manual defines, with
 * well-formed quoting, numbers and lengths, and every data phase is
 * exactly as long as its command announced.  A request the engine refuses
 * (400, 413, 414, 421, 431, 501) writes nothing at all.
 *
 * Random hostile requests (a seeded PRNG: every byte value, the quote,
 * comma, semicolon, backslash, CR, LF, NUL, "AT+" and whole forged
 * commands in the target, the Host, header names and values and bodies;
 * empty fields and fields at and over the limits) go through the real
 * request path: http_request.c reads them from a memfd, request_policy.c
 * prepares them, and the dialect's driver carries them out against a
 * module that answers every command of its grammar (OK, the prompts, a
 * minimal 200 response) and checks each byte the driver writes.
 *
 * The grammars below are written from the manuals, not from the drivers:
 *   simcom   SIM7500_SIM7600_SIM7800 Series HTTP AT Command Manual V1.00,
 *            chapter 2, and SIMCom's SSL Application Note (AT+CSSLCFG)
 *   neoway   Neoway N58 AT Commands Manual, chapter 9
 *   httpcfg  the AT+HTTPCFG manual, chapter 15 (HTTP(S) commands), and
 *   quectel  the same set with the Q prefix
 *   onemo    OneMO HTTP/HTTPS user manual V6.0.7, chapter 3, and the
 *            OneMO SSL user manual (AT+MSSLCFG)
 *   espat    the Beken BK72xx AT manual, "HTTP instruction set", with the
 *            ESP-AT User Guide's string escapes (\" \\ \,)
 * and 3GPP TS 27.007 / V.250 for AT, ATE0, AT+CMEE and AT+CGMM.
 *
 * Environment: ATHTTP_INJECT_SEED (default 1, printed), ATHTTP_INJECT_COUNT
 * (requests per dialect, default 100000; under AddressSanitizer, whose
 * realloc makes every body megabyte cost a good part of a second, bodies
 * at a limit over 256 KB are left to the plain build), ATHTTP_INJECT_SHAPES
 * (set: how often each shape was seen).  Each dialect prints its rate.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "at_chat.h"
#include "client_conn.h"
#include "dialect.h"
#include "err.h"
#include "http_request.h"
#include "request_policy.h"

extern const struct dialect dialect_simcom;
extern const struct dialect dialect_neoway;
extern const struct dialect dialect_httpcfg;
extern const struct dialect dialect_quectel;
extern const struct dialect dialect_onemo;
extern const struct dialect dialect_espat;

#if defined(__SANITIZE_ADDRESS__)
#define INJECT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define INJECT_SANITIZED 1
#endif
#endif

#ifndef INJECT_SANITIZED
#define INJECT_SANITIZED 0
#endif

#define INJECT_DEFAULT_COUNT 100000

/* ------------------------------------------------------------ the PRNG */

/* xorshift64*: small, fast, the same stream on every machine. */
static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static void rng_seed(uint64_t seed)
{
	rng_state = seed * 0x9E3779B97F4A7C15ULL + 0x632BE59BD9B4E019ULL;
	if (!rng_state)
		rng_state = 1;
	for (int i = 0; i < 8; i++)
		rng_next();
}

/* 0..n-1 */
static size_t rng_below(size_t n)
{
	return n ? (size_t)(rng_next() % n) : 0;
}

/* true with probability pct/100 */
static bool rng_pct(unsigned pct)
{
	return rng_below(100) < pct;
}

static uint64_t env_number(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);
	if (!v || !*v)
		return dflt;
	char *end;
	unsigned long long n = strtoull(v, &end, 0);
	if (*end)
		fail_msg("%s=%s is not a number", name, v);
	return n;
}

/* ------------------------------------------------------------ byte strings */

struct bytes {
	char *p;
	size_t len, cap;
};

static void bytes_add(struct bytes *b, const void *data, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 1024) + n + 1;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, data, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void bytes_adds(struct bytes *b, const char *s)
{
	bytes_add(b, s, strlen(s));
}

static void bytes_addf(struct bytes *b, const char *f, ...) __attribute__((format(printf, 2, 3)));
static void bytes_addf(struct bytes *b, const char *f, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, f);
	int n = vsnprintf(tmp, sizeof tmp, f, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof tmp);
	bytes_add(b, tmp, (size_t)n);
}

static char *fmt_head(const char *f, const char *arg) __attribute__((format(printf, 1, 0)));
static char *fmt_head(const char *f, const char *arg)
{
	char *out = NULL;
	assert_true(asprintf(&out, f, arg) >= 0);
	return out;
}

/* For messages: the bytes with everything unprintable as \xNN, cut. */
static const char *shown(const char *p, size_t n, char *out, size_t outlen)
{
	size_t o = 0;
	for (size_t i = 0; i < n && o + 8 < outlen; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			out[o++] = (char)c;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
	}
	if (o + 8 >= outlen && outlen > 4)
		memcpy(out + outlen - 4, "...", 4), o = outlen - 1;
	out[o] = '\0';
	return out;
}

/* ------------------------------------------------------------ the grammar */

/*
 * A command shape is a pattern over the whole line (without its CR):
 *   literal bytes, which must match exactly, and
 *   %d  a decimal number, 1 to 10 digits (captured, in order)
 *   %[lo-hi]  the same within lo..hi, as the manual gives the range
 *   %k  a keyword: letters and '_' only, 1 to 32, quoted by the pattern
 *   %w  an unquoted word (Neoway's para_value): printable, no blank,
 *       no '"', '\' or ','
 *   %q  a quoted string: '"', printable ASCII but '"' and '\', '"'
 *   %Q  the same, bytes 0x80-0xff allowed too
 *   %U  a %q that starts with "http://" or "https://"
 *   %e  an ESP-AT string: '"', printable ASCII and 0x80-0xff, where
 *       '"', '\' and ',' appear only escaped by '\', and '\' escapes
 *       only those three, '"'
 *   %E  zero or more ",%e"
 *   %C  nothing, or ",%d" and then exactly that many ",%e"
 * Every quoted string's content length is captured too.
 */
enum reply_kind {
	REPLY_TEXT,                /* reply as written */
	REPLY_ONEMO_CREATE,        /* allocates an instance id */
	REPLY_ONEMO_DELETE,        /* frees number 1 */
	REPLY_ONEMO_REQUEST,       /* the header URC for instance number 1 */
};

struct shape {
	const char *pattern;
	const char *reply;          /* the module's answer (REPLY_TEXT) */
	enum reply_kind kind;
	size_t max_line;            /* the whole line at most (0: AT_CMD_MAX) */
	size_t max_quoted;          /* each quoted string's content at most (0: no limit) */
	int len_is_quoted;          /* number k (1-based) must equal the first quoted string's length */
	int data_len;               /* number k (1-based) is the length of a data phase after the prompt */
	size_t max_data;
	const char *prompt;         /* what invites the data */
	const char *after_data;     /* the answer once the data is in */
};

#define OK "\r\nOK\r\n"
/* The origin's answer, as the modules pass it on. */
#define HEAD200 "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
#define HEAD200_LEN "38"

struct grammar {
	const char *name;
	const struct shape *shapes;
};

/* V.250 and 27.007: what every bring-up may send. */
#define COMMON_SHAPES \
	{ "AT", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "ATE0", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }

/* SIMCom HTTP manual chapter 2: HTTPINIT (2.1), HTTPTERM (2.2), HTTPPARA
 * (2.3: CONTENT and ACCEPT strings of at most 256), HTTPACTION (2.4:
 * methods 0-3), HTTPHEAD (2.5), HTTPDATA (2.7: "DOWNLOAD", then 1 to
 * 153600 bytes); the SSL Application Note's AT+CSSLCFG="<item>",<ctx>,
 * <value>.  The manual calls CONTENT and ACCEPT "String type" and says no
 * more, so V.250's string constants hold (5.4.2.2): IA5 only (%q). */
static const struct shape simcom_shapes[] = {
	COMMON_SHAPES,
	{ "AT+HTTPINIT", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPTERM", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPPARA=\"URL\",%U", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPPARA=\"CONTENT\",%q", OK, REPLY_TEXT, 0, 256, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPPARA=\"ACCEPT\",%q", OK, REPLY_TEXT, 0, 256, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPPARA=\"SSLCFG\",%[0-9]", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPDATA=%d,%d", NULL, REPLY_TEXT, 0, 0, 0, 1, 153600, "\r\nDOWNLOAD\r\n", OK },
	{ "AT+HTTPACTION=0", OK "\r\n+HTTPACTION: 0,200,0\r\n", REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPACTION=1", OK "\r\n+HTTPACTION: 1,200,0\r\n", REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPACTION=2", OK "\r\n+HTTPACTION: 2,200,0\r\n", REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPACTION=3", OK "\r\n+HTTPACTION: 3,200,0\r\n", REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPHEAD", "\r\n+HTTPHEAD: " HEAD200_LEN "\r\n" HEAD200 OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+CSSLCFG=\"%k\",%[0-9],%d", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ NULL, NULL, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
};

/* The N58 manual, chapter 9: AT+HTTPPARA=<para>,<para_value> unquoted
 * (9.1: url of at most 2048 bytes, port, recvmode), HTTPSETUP (9.2),
 * HTTPACTION (9.3: 0 GET, 1 HEAD, 2 POST with <length>,<type> 0-4, 99
 * custom packet with <length>, each at most 2048, after '>'), HTTPCLOSE
 * (9.5); the S-twins (9.10-9.15) with their +HTTPSRECV. */
#define NEOWAY_RESPONSE(S) \
	OK "\r\n+HTTP" S "RECV: " HEAD200_LEN "," HEAD200 "\r\n+HTTP" S "CLOSED: HTTP Link Closed\r\n"
#define NEOWAY_SET(S) \
	{ "AT+HTTP" S "PARA=url,%w", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+HTTP" S "PARA=port,%[1-65535]", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+HTTP" S "PARA=recvmode,1", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+HTTP" S "SETUP", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+HTTP" S "CLOSE", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+HTTP" S "ACTION=0", NEOWAY_RESPONSE(S), REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+HTTP" S "ACTION=1", NEOWAY_RESPONSE(S), REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+HTTP" S "ACTION=2,%d,0", NULL, REPLY_TEXT, 0, 0, 0, 1, 2048, "\r\n>", NEOWAY_RESPONSE(S) }, \
	{ "AT+HTTP" S "ACTION=2,%d,1", NULL, REPLY_TEXT, 0, 0, 0, 1, 2048, "\r\n>", NEOWAY_RESPONSE(S) }, \
	{ "AT+HTTP" S "ACTION=2,%d,2", NULL, REPLY_TEXT, 0, 0, 0, 1, 2048, "\r\n>", NEOWAY_RESPONSE(S) }, \
	{ "AT+HTTP" S "ACTION=2,%d,3", NULL, REPLY_TEXT, 0, 0, 0, 1, 2048, "\r\n>", NEOWAY_RESPONSE(S) }, \
	{ "AT+HTTP" S "ACTION=2,%d,4", NULL, REPLY_TEXT, 0, 0, 0, 1, 2048, "\r\n>", NEOWAY_RESPONSE(S) }, \
	{ "AT+HTTP" S "ACTION=99,%d", NULL, REPLY_TEXT, 0, 0, 0, 1, 2048, "\r\n>", NEOWAY_RESPONSE(S) }
static const struct shape neoway_shapes[] = {
	COMMON_SHAPES,
	NEOWAY_SET(""),
	NEOWAY_SET("S"),
	{ "AT+HTTPSCFG=\"%k\",%d", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ NULL, NULL, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
};

/* The AT+HTTPCFG manual, chapter 15: HTTPCFG (15.1, its read form too),
 * HTTPURL=<URL_length>,<timeout> (15.2, at most 2048 bytes after
 * CONNECT), HTTPGET=<rsptime>,<data_length>,<input_time> (15.3, at most
 * 2048), HTTPPOST=<data_length>,<input_time>,<rsptime> (15.4, at most
 * 1024000), HTTPREAD=<wait_time> (15.5); SSLCFG="<item>",<ctx>,<value>. */
#define HTTPCFG_SHAPES(Q) \
	COMMON_SHAPES, \
	{ "AT+" Q "HTTPCFG?", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+" Q "HTTPCFG=\"%k\",%d", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ "AT+" Q "HTTPURL=%d,%[1-65535]", NULL, REPLY_TEXT, 0, 0, 0, 1, 2048, "\r\nCONNECT\r\n", OK }, \
	{ "AT+" Q "HTTPGET=%[1-65535],%d,%[1-65535]", NULL, REPLY_TEXT, 0, 0, 0, 2, 2048, "\r\nCONNECT\r\n", \
	  OK "\r\n+" Q "HTTPGET: 0,200,0\r\n" }, \
	{ "AT+" Q "HTTPPOST=%d,%[1-65535],%[1-65535]", NULL, REPLY_TEXT, 0, 0, 0, 1, 1024000, "\r\nCONNECT\r\n", \
	  OK "\r\n+" Q "HTTPPOST: 0,200,0\r\n" }, \
	{ "AT+" Q "HTTPREAD=%[1-65535]", "\r\nCONNECT\r\n" HEAD200 OK "\r\n+" Q "HTTPREAD: 0\r\n", REPLY_TEXT, 0, 0, \
	  0, 0, 0, NULL, NULL }, \
	{ "AT+" Q "SSLCFG=\"%k\",%d,%d", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }, \
	{ NULL, NULL, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL }
static const struct shape httpcfg_shapes[] = { HTTPCFG_SHAPES("") };
static const struct shape quectel_shapes[] = { HTTPCFG_SHAPES("Q") };

/* The OneMO HTTP manual, chapter 3: MHTTPCFG (3.1), MHTTPCREATE (3.2),
 * MHTTPHEADER=<httpid>,<eof>,<length>[,<header>] (3.3: in the command at
 * most 1024 bytes, no quotes inside, <length> checked against it; else
 * '>' and 1 to 4096 bytes), MHTTPCONTENT (3.4: '>' and 1 to 4096 bytes),
 * MHTTPREQUEST=<httpid>,<method 1-5>,<cached 0>,<path> (3.5),
 * MHTTPTERM (3.8), MHTTPDEL (3.9); the SSL manual's AT+MSSLCFG. */
static const struct shape onemo_shapes[] = {
	COMMON_SHAPES,
	{ "AT+CMEE=1", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+CGMM", "\r\nML307R\r\n" OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MHTTPCFG=\"chunked\"", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MHTTPCFG=\"ssl\",%[0-3],%[0-1],%d", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MHTTPCREATE=%U", NULL, REPLY_ONEMO_CREATE, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MHTTPHEADER=%[0-3],%[0-2],%[0-4096],%q", OK, REPLY_TEXT, 0, 1024, 3, 0, 0, NULL, NULL },
	{ "AT+MHTTPHEADER=%[0-3],%[0-2],%d", NULL, REPLY_TEXT, 0, 0, 0, 3, 4096, "\r\n>", OK },
	{ "AT+MHTTPCONTENT=%[0-3],%[0-2],%d", NULL, REPLY_TEXT, 0, 0, 0, 3, 4096, "\r\n>", OK },
	{ "AT+MHTTPREQUEST=%[0-3],%[1-5],0,%q", NULL, REPLY_ONEMO_REQUEST, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MHTTPTERM=%[0-3]", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MHTTPDEL=%[0-3]", NULL, REPLY_ONEMO_DELETE, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MSSLCFG=\"%k\",%d,%d", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ "AT+MSSLCFG=\"%k\",%d,%q", OK, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
	{ NULL, NULL, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
};

/* The Beken manual: AT+HTTPCLIENT=<opt>,<content-type>,<url>,[<host>],
 * [<path>],<transport_type>[,<data>][,<http_req_header>]... and
 * AT+HTTPCPOST=<url>,<length>[,<http_req_header_cnt>][,<header>...]
 * (OK, '>', <length> bytes of at most 2k, SEND OK); ESP-AT's command
 * line of at most 256 bytes. */
static const struct shape espat_shapes[] = {
	COMMON_SHAPES,
	{ "AT+HTTPCLIENT=%[1-5],%[0-3],%e,,,%[1-2]%E", OK, REPLY_TEXT, 256, 0, 0, 0, 0, NULL, NULL },
	{ "AT+HTTPCPOST=%e,%d%C", NULL, REPLY_TEXT, 256, 0, 0, 1, 2048, OK "\r\n>", "\r\nSEND OK\r\n" },
	{ NULL, NULL, REPLY_TEXT, 0, 0, 0, 0, 0, NULL, NULL },
};

/* ------------------------------------------------------------ matching */

#define MAX_NUMS 12
#define MAX_QUOTED 40

struct match {
	long long num[MAX_NUMS];
	int nnum;
	size_t qlen[MAX_QUOTED];
	size_t qoff[MAX_QUOTED];   /* where each string's content starts in the line */
	bool qesc[MAX_QUOTED];     /* with ESP-AT's escapes */
	int nq;
	char why[160];
};

static bool printable_ascii(unsigned char c)
{
	return c >= 0x20 && c < 0x7f;
}

/* A quoted string at s[*i]: '"', content, '"'.  high: bytes 0x80-0xff
 * may appear; escaped: ESP-AT's escapes. */
static bool match_quoted(const char *s, size_t n, size_t *i, bool high, bool escaped, struct match *m)
{
	if (*i >= n || s[*i] != '"')
		return false;
	size_t k = *i + 1, len = 0;
	for (;;) {
		if (k >= n)
			return false;
		unsigned char c = (unsigned char)s[k];
		if (c == '"')
			break;
		if (escaped && c == '\\') {
			if (k + 1 >= n || !strchr("\"\\,", s[k + 1]) || s[k + 1] == '\0')
				return false;
			k += 2, len += 2;
			continue;
		}
		if (c == '\\' || (escaped && c == ','))
			return false;
		if (!printable_ascii(c) && !(high && c >= 0x80))
			return false;
		k++, len++;
	}
	if (m->nq < MAX_QUOTED) {
		m->qoff[m->nq] = *i + 1;
		m->qesc[m->nq] = escaped;
		m->qlen[m->nq++] = len;
	}
	*i = k + 1;
	return true;
}

static bool match_number(const char *s, size_t n, size_t *i, struct match *m)
{
	size_t k = *i;
	long long v = 0;
	while (k < n && k - *i < 10 && s[k] >= '0' && s[k] <= '9')
		v = v * 10 + (s[k++] - '0');
	if (k == *i || (k < n && s[k] >= '0' && s[k] <= '9'))
		return false;
	if (m->nnum < MAX_NUMS)
		m->num[m->nnum++] = v;
	*i = k;
	return true;
}

/* Does line s[0..n) have shape sh?  m gets the numbers and lengths. */
static bool match_shape(const struct shape *sh, const char *s, size_t n, struct match *m)
{
	memset(m, 0, sizeof *m);
	if (n > (sh->max_line ? sh->max_line : AT_CMD_MAX))
		return false;
	size_t i = 0;
	for (const char *p = sh->pattern; *p; p++) {
		if (*p != '%') {
			if (i >= n || s[i] != *p)
				return false;
			i++;
			continue;
		}
		switch (*++p) {
		case 'd':
			if (!match_number(s, n, &i, m))
				return false;
			break;
		case '[': {
			/* %[lo-hi]: a number in the manual's range. */
			char *end;
			long long lo = strtoll(p + 1, &end, 10), hi = strtoll(end + 1, &end, 10);
			if (*end != ']')
				fail_msg("bad range in pattern %s", sh->pattern);
			p = end;
			if (!match_number(s, n, &i, m))
				return false;
			long long v = m->num[m->nnum - 1];
			if (v < lo || v > hi) {
				if (!m->why[0])
					snprintf(m->why, sizeof m->why, "the number %lld is outside the manual's %lld to %lld",
						 v, lo, hi);
			}
			break;
		}
		case 'k': {
			size_t k = i;
			while (k < n && k - i < 32 && ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
						       s[k] == '_'))
				k++;
			if (k == i)
				return false;
			i = k;
			break;
		}
		case 'w': {
			size_t k = i;
			while (k < n && s[k] > 0x20 && s[k] < 0x7f && !strchr("\"\\,", s[k]))
				k++;
			if (k == i)
				return false;
			i = k;
			break;
		}
		case 'q':
		case 'Q':
			if (!match_quoted(s, n, &i, *p == 'Q', false, m))
				return false;
			break;
		case 'U': {
			size_t at = i + 1;
			if (!match_quoted(s, n, &i, false, false, m))
				return false;
			if (strncasecmp(s + at, "http://", 7) != 0 && strncasecmp(s + at, "https://", 8) != 0 &&
			    !m->why[0])
				snprintf(m->why, sizeof m->why, "a URL that does not start with http:// or https://");
			break;
		}
		case 'e':
			if (!match_quoted(s, n, &i, true, true, m))
				return false;
			break;
		case 'E':
			while (i < n && s[i] == ',') {
				i++;
				if (!match_quoted(s, n, &i, true, true, m))
					return false;
			}
			break;
		case 'C': {
			if (i == n)
				break;
			if (s[i] != ',')
				return false;
			i++;
			if (!match_number(s, n, &i, m))
				return false;
			long long want = m->num[m->nnum - 1];
			for (long long j = 0; j < want; j++) {
				if (i >= n || s[i] != ',')
					return false;
				i++;
				if (!match_quoted(s, n, &i, true, true, m))
					return false;
			}
			break;
		}
		default:
			fail_msg("bad pattern %s", sh->pattern);
		}
	}
	if (i != n)
		return false;
	if (m->why[0])
		return true;
	for (int q = 0; sh->max_quoted && q < m->nq; q++)
		if (m->qlen[q] > sh->max_quoted) {
			snprintf(m->why, sizeof m->why, "a quoted string of %zu bytes, over the manual's %zu", m->qlen[q],
				 sh->max_quoted);
			return true;
		}
	if (sh->len_is_quoted && (m->nq < 1 || sh->len_is_quoted > m->nnum ||
				  m->num[sh->len_is_quoted - 1] != (long long)m->qlen[0])) {
		snprintf(m->why, sizeof m->why, "the length %lld announced is not the quoted string's %zu bytes",
			 sh->len_is_quoted <= m->nnum ? m->num[sh->len_is_quoted - 1] : -1LL, m->nq ? m->qlen[0] : 0);
		return true;
	}
	if (sh->data_len) {
		long long dl = sh->data_len <= m->nnum ? m->num[sh->data_len - 1] : -1;
		if (dl < 1 || (size_t)dl > sh->max_data)
			snprintf(m->why, sizeof m->why, "a data phase of %lld bytes, the manual allows 1 to %zu", dl,
				 sh->max_data);
	}
	return true;
}

/* ------------------------------------------------------------ the module */

/* Plays a module of grammar g: checks each command line and each data
 * phase, answers as the shape says. */
struct fake_module {
	const struct grammar *g;
	struct transport tp;
	bool in_data;
	size_t data_left;
	const struct shape *data_shape;
	struct bytes line;
	struct bytes out;           /* the module's answers not yet read */
	size_t out_off;
	unsigned long long written; /* bytes the host wrote, for "nothing written" */
	unsigned long commands;
	char error[1200];           /* the first violation; "" none */
	unsigned onemo_ids;         /* OneMO instances alive, a bit per id */
	unsigned long hits[64];     /* commands per shape */
	/* The last command's strings, unescaped, and its data phase: what
	 * the module understood, to compare with what the client sent. */
	struct bytes strings[MAX_QUOTED];
	int nstrings;
	struct bytes data;
};

static void fake_violation(struct fake_module *fm, const char *what, const char *line, size_t n)
{
	if (fm->error[0])
		return;
	char buf[900];
	snprintf(fm->error, sizeof fm->error, "%s: %s", what, shown(line, n, buf, sizeof buf));
}

static void fake_reply(struct fake_module *fm, const struct shape *sh, const struct match *m)
{
	switch (sh->kind) {
	case REPLY_TEXT:
		if (sh->reply)
			bytes_adds(&fm->out, sh->reply);
		return;
	case REPLY_ONEMO_CREATE: {
		int id = 0;
		while (id < 4 && (fm->onemo_ids & (1u << id)))
			id++;
		if (id == 4) {
			bytes_adds(&fm->out, "\r\n+CME ERROR: 651\r\n");
			return;
		}
		fm->onemo_ids |= 1u << id;
		bytes_addf(&fm->out, "\r\n+MHTTPCREATE: %d\r\n" OK, id);
		return;
	}
	case REPLY_ONEMO_DELETE:
		if (m->num[0] < 4 && (fm->onemo_ids & (1u << m->num[0]))) {
			fm->onemo_ids &= ~(1u << m->num[0]);
			bytes_adds(&fm->out, OK);
		} else {
			bytes_adds(&fm->out, "\r\n+CME ERROR: 652\r\n");
		}
		return;
	case REPLY_ONEMO_REQUEST:
		bytes_addf(&fm->out, OK "\r\n+MHTTPURC: \"header\",%lld,200,%d,%s\r\n", m->num[0],
			   (int)strlen(HEAD200) - 2, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
		return;
	}
}

static void fake_command(struct fake_module *fm, const char *s, size_t n)
{
	fm->commands++;
	for (const struct shape *sh = fm->g->shapes; sh->pattern; sh++) {
		struct match m;
		if (!match_shape(sh, s, n, &m))
			continue;
		if (m.why[0]) {
			fake_violation(fm, m.why, s, n);
			return;
		}
		size_t k = (size_t)(sh - fm->g->shapes);
		if (k < sizeof fm->hits / sizeof fm->hits[0])
			fm->hits[k]++;
		fm->nstrings = m.nq;
		fm->data.len = 0;
		for (int q = 0; q < m.nq; q++) {
			struct bytes *b = &fm->strings[q];
			b->len = 0;
			bytes_add(b, "", 0);
			for (size_t j = m.qoff[q]; j < m.qoff[q] + m.qlen[q]; j++) {
				if (m.qesc[q] && s[j] == '\\')
					j++;
				bytes_add(b, s + j, 1);
			}
		}
		if (sh->data_len) {
			fm->in_data = true;
			fm->data_left = (size_t)m.num[sh->data_len - 1];
			fm->data_shape = sh;
			bytes_adds(&fm->out, sh->prompt);
			return;
		}
		fake_reply(fm, sh, &m);
		return;
	}
	fake_violation(fm, "a command none of the manual's shapes has", s, n);
}

static enum ath_err fake_write(struct transport *t, const void *buf, size_t len, int timeout_ms)
{
	struct fake_module *fm = t->priv;
	const char *b = buf;
	(void)timeout_ms;
	fm->written += len;
	for (size_t i = 0; i < len && !fm->error[0];) {
		if (fm->in_data) {
			size_t take = len - i < fm->data_left ? len - i : fm->data_left;
			bytes_add(&fm->data, b + i, take);
			i += take;
			fm->data_left -= take;
			if (fm->data_left == 0) {
				fm->in_data = false;
				bytes_adds(&fm->out, fm->data_shape->after_data);
			}
			continue;
		}
		const char *cr = memchr(b + i, '\r', len - i);
		size_t run = cr ? (size_t)(cr - (b + i)) : len - i;
		bytes_add(&fm->line, b + i, run);
		i += run;
		if (fm->line.len > AT_CMD_MAX + 64) {
			fake_violation(fm, "a command line over any module's buffer", fm->line.p, 200);
			break;
		}
		if (cr) {
			i++;
			fake_command(fm, fm->line.p ? fm->line.p : "", fm->line.len);
			fm->line.len = 0;
		}
	}
	return fm->error[0] ? ATH_E_IO : ATH_OK;
}

static ssize_t fake_read(struct transport *t, void *buf, size_t len, int timeout_ms)
{
	struct fake_module *fm = t->priv;
	(void)timeout_ms;
	size_t left = fm->out.len - fm->out_off;
	if (!left || fm->error[0])
		return -1; /* nothing more to say: fail fast, as a script does */
	size_t n = left < len ? left : len;
	memcpy(buf, fm->out.p + fm->out_off, n);
	fm->out_off += n;
	if (fm->out_off == fm->out.len)
		fm->out.len = fm->out_off = 0;
	return (ssize_t)n;
}

static const struct transport_ops fake_ops = { .name = "grammar", .read = fake_read, .write = fake_write };

static void fake_init(struct fake_module *fm, const struct grammar *g)
{
	memset(fm, 0, sizeof *fm);
	fm->g = g;
	fm->tp = (struct transport){ .ops = &fake_ops, .fd = -1, .priv = fm };
}

static void fake_free(struct fake_module *fm)
{
	free(fm->line.p);
	free(fm->out.p);
	free(fm->data.p);
	for (int q = 0; q < MAX_QUOTED; q++)
		free(fm->strings[q].p);
	memset(fm, 0, sizeof *fm);
}

/* Feeds one command line (CR added) to a fresh module of g: "" when it
 * fits the grammar, else the violation.  For the checker's own tests. */
static const char *check_line(const struct grammar *g, const char *line, size_t n, char *out, size_t outlen)
{
	struct fake_module fm;
	fake_init(&fm, g);
	fake_write(&fm.tp, line, n, 0);
	fake_write(&fm.tp, "\r", 1, 0);
	snprintf(out, outlen, "%s", fm.error);
	fake_free(&fm);
	return out;
}

/* ------------------------------------------------------------ hostile requests */

/* Bytes a driver must never let reach the line as they are, which HTTP
 * lets through in a target or a field value ... */
static const char *const hostile_bits[] = {
	"\"", ",", ";", "\\", "AT+", "AT+CFUN=0", ">", "+++", "%00", "%22", "%0d%0a", "'", "=", "?", "#", ":", "[",
	"]", "/", "..", "OK", "ERROR", "{", "}", "\\\"", "\\,", "\",\"", "%", "&", "$", "*", "@", "DOWNLOAD",
	"CONNECT", "+HTTPACTION: 0,200,0", "\x80", "\xff", "\xc3", "\xe2\x80\x8b", "\xc0\xa2", "\t",
	"\",,,1,\"", "\";AT+HTTPTERM;\"", "|", "^", "`", "~", "!",
};

/* ... and bytes that end or corrupt an HTTP line (the parser or the
 * policy must stop them), where a driver would have them end a command. */
static const char *const breaking_bits[] = {
	"\r", "\n", "\r\n", "\r\nAT+HTTPACTION=0\r\n", "\"\r\nAT+CFUN=0\r\n", "\x1a", "\x1b", "\x01",
	"\x08", "\x0b", "\x0c", "\x7f", " ", "\r\n>", "\r\nOK\r\n", "\x00",
};

static const char safe_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~";

static void add_bit(struct bytes *b, const char *const *bits, size_t n)
{
	const char *h = bits[rng_below(n)];
	bytes_add(b, h, h[0] ? strlen(h) : 1); /* "\x00" is one NUL */
}

/* A field of up to max bytes (sometimes empty, sometimes at and over
 * max): safe runs and hostile pieces; one field in raw_pct is raw, with
 * every byte value and line breaks in it. */
static void hostile_field(struct bytes *b, size_t max, unsigned hostile_pct, unsigned raw_pct)
{
	size_t target;
	unsigned r = (unsigned)rng_below(100);
	if (r < 8)
		target = 0;
	else if (r < 97)
		target = rng_below(max < 48 ? max + 1 : 48);
	else
		target = max >= 16 ? max - 16 + rng_below(33) : rng_below(max + 1);
	bool raw = rng_pct(raw_pct);
	size_t start = b->len;
	while (b->len - start < target) {
		unsigned k = (unsigned)rng_below(100);
		if (raw && k < 30) {
			char c = (char)rng_below(256);
			bytes_add(b, &c, 1);
		} else if (raw && k < 40) {
			add_bit(b, breaking_bits, sizeof breaking_bits / sizeof breaking_bits[0]);
		} else if (k < hostile_pct) {
			add_bit(b, hostile_bits, sizeof hostile_bits / sizeof hostile_bits[0]);
		} else {
			size_t run = 1 + rng_below(12);
			for (size_t j = 0; j < run; j++)
				bytes_add(b, &safe_chars[rng_below(sizeof safe_chars - 1)], 1);
		}
	}
}

/* A header name: HTTP's token bytes ("!#$%&'*+-.^_`|~" among them, which
 * AT strings do not like either), now and then raw bytes. */
static void hostile_name(struct bytes *b)
{
	static const char tchars[] = "!#$%&'*+-.^_`|~abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = rng_pct(3) ? 0 : 1 + rng_below(rng_pct(5) ? 200 : 24);
	bool raw = rng_pct(10);
	for (size_t i = 0; i < n; i++) {
		char c = raw && rng_pct(20) ? (char)rng_below(256) : tchars[rng_below(sizeof tchars - 1)];
		bytes_add(b, &c, 1);
	}
}

static const char *const methods[] = {
	"GET", "GET", "GET", "GET", "GET", "GET", "HEAD", "HEAD", "POST", "POST", "POST", "POST", "POST", "PUT", "PUT",
	"DELETE", "PATCH", "OPTIONS",
};
/* Methods no dialect sends: 501 before anything else is looked at. */
static const char *const foreign_methods[] = { "CONNECT", "TRACE", "PROPFIND", "M-SEARCH" };

static const char *const header_names[] = {
	"Accept", "Content-Type", "User-Agent", "X-Token", "Cookie", "Authorization", "Range", "If-None-Match",
	"Accept-Encoding", "Referer", "Accept-Language", "X-Forwarded-For", "Origin", "Cache-Control", "Connection",
	"Expect", "Content-Encoding", "TE", "Upgrade", "Keep-Alive",
};

static const char *const media_types[] = {
	"application/x-www-form-urlencoded", "text/plain", "application/json", "application/xml", "text/html",
	"multipart/form-data", "text/xml", "*/*", "text/plain; charset=utf-8",
};

static const char *const hosts[] = {
	"example.com", "a.b-c_d.example", "10.0.0.1", "10.0.0.1:8080", "[::1]", "[2001:db8::1]:8443", "h:1",
	"example.com:65535", "x", "UPPER.Example.COM",
};

/* Room for a body at the limits: the largest max_body of any dialect. */
#define BODY_MAX (1024 * 1024 + 64)

/* One hostile request, as a client would write it to its socket. */
static void hostile_request(struct bytes *rq, const struct dialect *d)
{
	const char *method = rng_pct(3) ? foreign_methods[rng_below(sizeof foreign_methods / sizeof foreign_methods[0])]
					: methods[rng_below(sizeof methods / sizeof methods[0])];
	bytes_adds(rq, method);
	bytes_adds(rq, " ");
	/* The target: origin form mostly, absolute form (http and https)
	 * sometimes, now and then something else. */
	unsigned form = (unsigned)rng_below(100);
	if (form < 15) {
		bytes_adds(rq, rng_pct(50) ? "http://" : "https://");
		if (rng_pct(85))
			bytes_adds(rq, hosts[rng_below(sizeof hosts / sizeof hosts[0])]);
		else
			hostile_field(rq, 40, 50, 10);
	} else if (form < 17) {
		bytes_adds(rq, "*");
	}
	if (form >= 17 || rng_pct(80)) {
		bytes_adds(rq, "/");
		size_t limit = d->caps->max_url ? d->caps->max_url : 2048;
		hostile_field(rq, rng_pct(3) ? limit : 60, rng_pct(30) ? 30 : 3, 4);
		if (rng_pct(40)) {
			bytes_adds(rq, "?");
			hostile_field(rq, 60, rng_pct(30) ? 30 : 3, 4);
		}
	}
	bytes_adds(rq, rng_pct(97) ? " HTTP/1.1\r\n" : rng_pct(50) ? " HTTP/1.0\r\n" : " HTTP/2.0\r\n");

	if (rng_pct(97)) {
		bytes_adds(rq, "Host: ");
		if (rng_pct(92))
			bytes_adds(rq, hosts[rng_below(sizeof hosts / sizeof hosts[0])]);
		else
			hostile_field(rq, 40, 50, 10);
		bytes_adds(rq, "\r\n");
	}
	size_t nh = rng_below(rng_pct(10) ? 24 : 6);
	for (size_t i = 0; i < nh; i++) {
		size_t name_at = rq->len;
		if (rng_pct(90))
			bytes_adds(rq, header_names[rng_below(sizeof header_names / sizeof header_names[0])]);
		else
			hostile_name(rq);
		bool typed = strncmp(rq->p + name_at, "Content-Type", 12) == 0 || strncmp(rq->p + name_at, "Accept", 6) == 0;
		bytes_adds(rq, rng_pct(90) ? ": " : ":");
		if (typed && rng_pct(60)) {
			/* The types modules have numbers for, now and then with more. */
			bytes_adds(rq, media_types[rng_below(sizeof media_types / sizeof media_types[0])]);
			if (rng_pct(80)) {
				bytes_adds(rq, "\r\n");
				continue;
			}
		}
		size_t limit = d->caps->max_header_value ? d->caps->max_header_value : 300;
		/* Long: about the dialect's limit, or one of the manuals' (SIMCom's
		 * 256-byte strings, OneMO's 1024 in a command and 4096 in data,
		 * a 2048-byte packet), whatever the record says. */
		static const size_t manual_sizes[] = { 264, 1030, 2100, 4100 };
		size_t len = !rng_pct(3) ? 80 : rng_pct(40) ? limit + 8
						: manual_sizes[rng_below(sizeof manual_sizes / sizeof manual_sizes[0])];
		hostile_field(rq, len, rng_pct(50) ? 40 : 8, 4);
		bytes_adds(rq, "\r\n");
	}

	/* A cosmetic field that takes the request over a 2048-byte packet
	 * (Neoway's and HTTPGET's limit): the other forms of the command. */
	if (rng_pct(5)) {
		bytes_adds(rq, "X-Pad: ");
		size_t pad = 1700 + rng_below(500);
		for (size_t i = 0; i < pad; i++)
			bytes_add(rq, &safe_chars[rng_below(sizeof safe_chars - 1)], 1);
		bytes_adds(rq, "\r\n");
	}

	/* The body: none, counted or chunked, empty to over the limit. */
	unsigned bk = (unsigned)rng_below(100);
	if (bk < 45) {
		bytes_adds(rq, "\r\n");
		return;
	}
	size_t blen;
	unsigned bl = (unsigned)rng_below(1000);
	if (bl < 100)
		blen = 0;
	else if (bl < 960)
		blen = 1 + rng_below(300);
	else if (bl < 998)
		blen = rng_below(4200);
	else if (d->caps->max_body <= 262144 || (!INJECT_SANITIZED && rng_pct(20)))
		blen = d->caps->max_body - 8 + rng_below(17); /* at the limit and just over */
	else
		blen = rng_below(4200); /* a megabyte costs the reader much (under ASan seconds): rarer */
	if (blen > BODY_MAX)
		blen = BODY_MAX;
	struct bytes body = { 0 };
	if (blen) {
		body.p = malloc(blen + 1);
		assert_non_null(body.p);
		body.cap = blen + 1;
		bool any = rng_pct(50);
		for (size_t i = 0; i < blen; i++) {
			if (any) {
				body.p[i] = (char)rng_below(256);
			} else {
				const char *h = hostile_bits[rng_below(sizeof hostile_bits / sizeof hostile_bits[0])];
				body.p[i] = rng_pct(70) ? safe_chars[rng_below(sizeof safe_chars - 1)] : h[0];
			}
		}
		body.len = blen;
	}
	if (bk < 90) {
		bytes_addf(rq, "Content-Length: %zu\r\n\r\n", blen);
		bytes_add(rq, body.p, blen);
	} else {
		bytes_adds(rq, "Transfer-Encoding: chunked\r\n\r\n");
		for (size_t off = 0; off < blen;) {
			size_t n = 1 + rng_below(blen - off < 700 ? blen - off : 700);
			bytes_addf(rq, "%zx\r\n", n);
			bytes_add(rq, body.p + off, n);
			bytes_adds(rq, "\r\n");
			off += n;
		}
		bytes_adds(rq, "0\r\n\r\n");
	}
	free(body.p);
}

/* ------------------------------------------------------------ one request */

struct inject_run {
	const struct dialect *d;
	struct fake_module fm;
	struct at_chat chat;
	struct modem_io io;
	struct module_tls tls;
	char state[4096];
	struct bytes rq;
	unsigned long refused, served, unparsed;
	int fd;                     /* the client's side: a memfd */
};

static enum ath_err ignore_head(void *ctx, const struct http_head *h, long long len, bool synthesized)
{
	int *heads = ctx;
	(void)h, (void)len, (void)synthesized;
	(*heads)++;
	return ATH_OK;
}

static enum ath_err ignore_body(void *ctx, const void *data, size_t len)
{
	(void)ctx, (void)data, (void)len;
	return ATH_OK;
}

static void run_failed(struct inject_run *ir, unsigned long idx, const char *what, const char *detail)
{
	char req[1600];
	fail_msg("%s, request #%lu (seed %llu): %s\n  %s\n  request: %s", ir->d->name, idx,
		 (unsigned long long)env_number("ATHTTP_INJECT_SEED", 1), what, detail,
		 shown(ir->rq.p, ir->rq.len, req, sizeof req));
}

static bool refusal(enum ath_err e)
{
	return e == ATH_E_BAD_REQUEST || e == ATH_E_UNSUPPORTED || e == ATH_E_TOO_LARGE;
}

static void check_refusal(struct inject_run *ir, unsigned long idx, const struct ath_error *err,
			  unsigned long long before)
{
	static const int statuses[] = { 400, 413, 414, 421, 431, 501 };
	int status = err->http_status;
	bool known = false;
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		known |= status == statuses[i];
	if (!refusal(err->code) || !known)
		run_failed(ir, idx, "a refusal that is not 400/413/414/421/431/501", err->text);
	if (!err->text[0] || strpbrk(err->text, "\r\n"))
		run_failed(ir, idx, "a refusal without a one-line reason", err->text);
	if (ir->fm.written != before)
		run_failed(ir, idx, "a refused request wrote to the module", err->text);
	ir->refused++;
}

static bool same(const struct bytes *b, const void *p, size_t n)
{
	return b->len == n && (n == 0 || memcmp(b->p, p, n) == 0);
}

/* ESP-AT's one command carries everything in escaped strings: unescaped,
 * they must be the client's request exactly (the URL, POST's <data> or
 * AT+HTTPCPOST's data phase, then "Name: value" per header, in order).
 * An escape that garbles a byte without breaking the syntax shows here. */
static void check_espat_meaning(struct inject_run *ir, unsigned long idx, const struct dialect_request *rq)
{
	const struct fake_module *fm = &ir->fm;
	bool cpost = fm->data.len > 0;
	int q = 0;
	if (fm->nstrings < 1 || !same(&fm->strings[q++], rq->url, strlen(rq->url)))
		run_failed(ir, idx, "the module read another URL than the request's", fm->strings[0].p);
	if (cpost) {
		if (!same(&fm->data, rq->body, rq->body_len))
			run_failed(ir, idx, "AT+HTTPCPOST's data is not the request's body", "");
	} else if (rq->verb == VERB_POST) {
		if (q >= fm->nstrings || !same(&fm->strings[q], rq->body, rq->body_len))
			run_failed(ir, idx, "AT+HTTPCLIENT's <data> is not the request's body", "");
		q++;
	}
	size_t n = rq->headers ? rq->headers->n : 0;
	if (fm->nstrings - q != (int)n)
		run_failed(ir, idx, "the module read another number of headers than the request has", "");
	for (size_t i = 0; i < n; i++, q++) {
		char *want = NULL;
		assert_true(asprintf(&want, "%s: %s", rq->headers->v[i].name, rq->headers->v[i].value) >= 0);
		bool ok = same(&fm->strings[q], want, strlen(want));
		free(want);
		if (!ok)
			run_failed(ir, idx, "the module read another header than the request's", fm->strings[q].p);
	}
}

enum outcome { OUT_UNPARSED, OUT_REFUSED, OUT_SERVED };

/* The request in ir->rq through the bridge's steps (bridge.c serve_one):
 * read the head, prepare, read the body, attach it, exchange. */
static enum outcome run_one(struct inject_run *ir, unsigned long idx)
{
	unsigned long refused = ir->refused, served = ir->served;
	/* The client's bytes, then its end: a file reads as a socket whose
	 * peer wrote them and shut down. */
	assert_int_equal(ftruncate(ir->fd, 0), 0);
	assert_true(pwrite(ir->fd, ir->rq.p, ir->rq.len, 0) == (ssize_t)ir->rq.len);
	assert_true(lseek(ir->fd, 0, SEEK_SET) == 0);

	struct client_conn conn = CLIENT_CONN_PLAIN(ir->fd);
	struct req_reader *rr = malloc(sizeof *rr);
	assert_non_null(rr);
	req_reader_init(rr, &conn);
	struct http_req req;
	struct ath_error err;
	ath_error_clear(&err);
	unsigned long long before = ir->fm.written;

	int rc = req_read_head(rr, &req, &err);
	if (rc <= 0) {
		/* http-parser's refusal (or a cut head): never near the module. */
		if (ir->fm.written != before)
			run_failed(ir, idx, "an unparsed request wrote to the module", err.text);
		ir->unparsed++;
		goto out;
	}
	struct prepared_request prep;
	enum ath_err e = request_prepare(ir->d, &req, NULL, &prep, &err);
	if (e != ATH_OK) {
		check_refusal(ir, idx, &err, before);
		goto out;
	}
	if (req_read_body(rr, request_body_limit(ir->d, &prep), false, &err) != 0) {
		prepared_request_free(&prep);
		ir->unparsed++;
		goto out;
	}
	if (req.body_overflow) {
		/* bridge.c answers 413 here: nothing was sent. */
		prepared_request_free(&prep);
		if (ir->fm.written != before)
			run_failed(ir, idx, "an oversized request wrote to the module", "");
		ir->refused++;
		goto out;
	}
	if ((e = request_attach_body(ir->d, &prep, req.body, req.body_len, &err)) != ATH_OK) {
		prepared_request_free(&prep);
		check_refusal(ir, idx, &err, before);
		goto out;
	}
	/* modem.c: an https request on a module that does not verify runs
	 * only under --insecure-upstream, unverified. */
	prep.rq.verify_upstream = false;
	int heads = 0;
	struct response_sink sink = { ignore_head, ignore_body, &heads };
	e = ir->d->ops->exchange(&ir->io, &prep.rq, &sink, &err);
	if (ir->fm.error[0])
		run_failed(ir, idx, "the module saw a malformed command", ir->fm.error);
	if (e == ATH_OK && ir->d == &dialect_espat)
		check_espat_meaning(ir, idx, &prep.rq);
	prepared_request_free(&prep);
	if (e != ATH_OK) {
		if (refusal(e)) {
			check_refusal(ir, idx, &err, before);
			goto out;
		}
		run_failed(ir, idx, "the exchange failed on a module that answers everything", err.text);
	}
	if (heads != 1)
		run_failed(ir, idx, "the response head did not reach the client exactly once", "");
	if (ir->fm.in_data || ir->fm.line.len)
		run_failed(ir, idx, "the exchange ended inside a command or a data phase", "");
	ir->served++;
out:
	http_req_free(&req);
	free(rr);
	return ir->served != served ? OUT_SERVED : ir->refused != refused ? OUT_REFUSED : OUT_UNPARSED;
}

static void run_init(struct inject_run *ir, const struct dialect *d, const struct grammar *g)
{
	memset(ir, 0, sizeof *ir);
	ir->d = d;
	ir->fd = memfd_create("inject-client", MFD_CLOEXEC);
	assert_true(ir->fd >= 0);
	fake_init(&ir->fm, g);
	at_chat_init(&ir->chat, &ir->fm.tp, d->syntax, NULL);
	assert_true(d->state_size <= sizeof ir->state);
	ir->tls = (struct module_tls){ .ca_pem = NULL, .ca_len = 0, .insecure = true };
	ir->io = (struct modem_io){ .chat = &ir->chat, .state = d->state_size ? ir->state : NULL,
				    .params = d->params, .baud = 115200, .action_timeout_ms = 30000,
				    .tls = &ir->tls };
	struct ath_error err;
	ath_error_clear(&err);
	enum ath_err e = d->ops->bringup(&ir->io, &err);
	if (ir->fm.error[0])
		fail_msg("%s bring-up: %s", d->name, ir->fm.error);
	if (e != ATH_OK)
		fail_msg("%s bring-up failed: %s", d->name, err.text);
	if (d->ops->tls_setup) {
		struct tls_verdict v;
		e = d->ops->tls_setup(&ir->io, &v, &err);
		if (ir->fm.error[0])
			fail_msg("%s tls_setup: %s", d->name, ir->fm.error);
		if (e != ATH_OK)
			fail_msg("%s tls_setup failed: %s", d->name, err.text);
	}
}

static void run_free(struct inject_run *ir)
{
	fake_free(&ir->fm);
	free(ir->rq.p);
	close(ir->fd);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void inject_dialect(const struct dialect *d, const struct grammar *g)
{
	uint64_t seed = env_number("ATHTTP_INJECT_SEED", 1);
	unsigned long count = (unsigned long)env_number("ATHTTP_INJECT_COUNT", INJECT_DEFAULT_COUNT);
	/* Each dialect its own stream of the one seed: any one can be rerun. */
	uint64_t mix = 0;
	for (const char *p = d->name; *p; p++)
		mix = mix * 131 + (unsigned char)*p;
	rng_seed(seed ^ mix);

	struct inject_run *ir = malloc(sizeof *ir);
	assert_non_null(ir);
	run_init(ir, d, g);
	double t0 = now_s();
	for (unsigned long i = 0; i < count; i++) {
		ir->rq.len = 0;
		hostile_request(&ir->rq, d);
		run_one(ir, i);
	}
	double dt = now_s() - t0;
	if (d->ops->teardown) {
		struct ath_error err;
		ath_error_clear(&err);
		enum ath_err e = d->ops->teardown(&ir->io, &err);
		if (ir->fm.error[0])
			fail_msg("%s teardown: %s", d->name, ir->fm.error);
		if (e != ATH_OK)
			fail_msg("%s teardown failed: %s", d->name, err.text);
	}
	fprintf(stderr, "inject %-8s seed %llu: %lu requests in %.2f s, %.0f requests/s (%lu served, %lu refused, "
		"%lu unparsed; %lu commands checked)\n",
		d->name, (unsigned long long)seed, count, dt, dt > 0 ? (double)count / dt : 0.0, ir->served,
		ir->refused, ir->unparsed, ir->fm.commands);
	for (size_t k = 0; g->shapes[k].pattern; k++)
		if (getenv("ATHTTP_INJECT_SHAPES"))
			fprintf(stderr, "  %8lu  %s\n", ir->fm.hits[k], g->shapes[k].pattern);
	/* The property means something only when much gets through. */
	if (count >= 1000) {
		assert_true(ir->served > count / 10);
		assert_true(ir->refused > count / 20);
	}
	run_free(ir);
	free(ir);
}

static const struct grammar simcom_grammar = { "simcom", simcom_shapes };
static const struct grammar neoway_grammar = { "neoway", neoway_shapes };
static const struct grammar httpcfg_grammar = { "httpcfg", httpcfg_shapes };
static const struct grammar quectel_grammar = { "quectel", quectel_shapes };
static const struct grammar onemo_grammar = { "onemo", onemo_shapes };
static const struct grammar espat_grammar = { "espat", espat_shapes };

static void test_inject_simcom(void **state)
{
	(void)state;
	inject_dialect(&dialect_simcom, &simcom_grammar);
}

static void test_inject_neoway(void **state)
{
	(void)state;
	inject_dialect(&dialect_neoway, &neoway_grammar);
}

static void test_inject_httpcfg(void **state)
{
	(void)state;
	inject_dialect(&dialect_httpcfg, &httpcfg_grammar);
}

static void test_inject_quectel(void **state)
{
	(void)state;
	inject_dialect(&dialect_quectel, &quectel_grammar);
}

static void test_inject_onemo(void **state)
{
	(void)state;
	inject_dialect(&dialect_onemo, &onemo_grammar);
}

static void test_inject_espat(void **state)
{
	(void)state;
	inject_dialect(&dialect_espat, &espat_grammar);
}

/* ------------------------------------------------------------ directed cases */

/* The nastiest requests, whatever the seed: each dialect either refuses
 * them writing nothing, or carries them in well-formed commands. */
static void test_directed_hostile_requests(void **state)
{
	(void)state;
	enum { ANY = -1 };
	struct {
		const char *head;       /* up to the blank line, without it */
		const char *body;       /* NULL: none */
		int expect;             /* an outcome everywhere, or ANY */
	} cases[] = {
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: text/html\",AT+CFUN=0,\"", NULL, ANY },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: a\\,b\\\"c\\", NULL, ANY },
		{ "POST / HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\";AT+HTTPTERM;\"", "abc", ANY },
		{ "GET /a%22b%0d%0aAT+CFUN=0 HTTP/1.1\r\nHost: example.com", NULL, OUT_SERVED },
		{ "GET /a,b;c'd HTTP/1.1\r\nHost: example.com\r\nX-V: caf\xc3\xa9 \xff\x80", NULL, ANY },
		{ "POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json", "x\r\nAT+CFUN=0\r\n\x1a\x1b", ANY },
		{ "POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Type: application/json", "{\"a\":\"b,c\\\\d\"}", ANY },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nX'|~: v\r\nX-Empty:", NULL, ANY },
		{ "GET https://example.com/;AT+HTTPTERM HTTP/1.1\r\nHost: example.com", NULL, ANY },
		{ "GET / HTTP/1.1\r\nHost: example.com\"", NULL, OUT_REFUSED },
		{ "GET /a\"b HTTP/1.1\r\nHost: example.com", NULL, OUT_REFUSED },
		{ "GET /a\\b HTTP/1.1\r\nHost: example.com", NULL, OUT_REFUSED },
		{ "GET / HTTP/1.1\r\nHost: ex\\ample.com", NULL, OUT_REFUSED },
		{ "GET / HTTP/1.1\r\nHost: example.com:0", NULL, OUT_REFUSED },
	};
	enum { N = sizeof cases / sizeof cases[0] };
	/* Fields at the manuals' sizes: SIMCom's 256-byte strings, OneMO's
	 * 1024 bytes in the command and 4096 in data ("X-V: " and 4092 is
	 * over), a request over Neoway's 2048-byte packet with a comma in
	 * its path. */
	static const struct {
		const char *head;       /* %s: the filler */
		size_t fill;
	} sized[] = {
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: %s", 256 },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nAccept: %s", 257 },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nX-V: %s", 1019 },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nX-V: %s", 1020 },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nX-V: %s", 4091 },
		{ "GET / HTTP/1.1\r\nHost: example.com\r\nX-V: %s", 4092 },
		{ "GET /a,b HTTP/1.1\r\nHost: example.com\r\nX-Pad: %s", 2100 },
	};
	enum { NS = sizeof sized / sizeof sized[0] };
	const struct { const struct dialect *d; const struct grammar *g; } all[] = {
		{ &dialect_simcom, &simcom_grammar }, { &dialect_neoway, &neoway_grammar },
		{ &dialect_httpcfg, &httpcfg_grammar }, { &dialect_quectel, &quectel_grammar },
		{ &dialect_onemo, &onemo_grammar }, { &dialect_espat, &espat_grammar },
	};
	for (size_t k = 0; k < sizeof all / sizeof all[0]; k++) {
		struct inject_run *ir = malloc(sizeof *ir);
		assert_non_null(ir);
		run_init(ir, all[k].d, all[k].g);
		for (size_t i = 0; i < N; i++) {
			ir->rq.len = 0;
			bytes_adds(&ir->rq, cases[i].head);
			if (cases[i].body)
				bytes_addf(&ir->rq, "\r\nContent-Length: %zu", strlen(cases[i].body));
			bytes_adds(&ir->rq, "\r\n\r\n");
			if (cases[i].body)
				bytes_adds(&ir->rq, cases[i].body);
			enum outcome o = run_one(ir, i);
			if (cases[i].expect != ANY && (int)o != cases[i].expect)
				fail_msg("%s, directed case %zu: outcome %d, expected %d", all[k].d->name, i, (int)o,
					 cases[i].expect);
		}
		for (size_t i = 0; i < NS; i++) {
			char *fill = malloc(sized[i].fill + 1);
			assert_non_null(fill);
			memset(fill, 'v', sized[i].fill);
			fill[sized[i].fill] = '\0';
			ir->rq.len = 0;
			char *head = fmt_head(sized[i].head, fill);
			bytes_adds(&ir->rq, head);
			bytes_adds(&ir->rq, "\r\n\r\n");
			free(head);
			free(fill);
			run_one(ir, N + i);
		}
		run_free(ir);
		free(ir);
	}
}

/* ------------------------------------------------------------ the checker itself */

/* The checker must refuse what an injection would look like: otherwise
 * the property tests above prove nothing. */
static void test_checker_refuses_malformed_commands(void **state)
{
	(void)state;
	char out[1200];
	static const struct {
		const struct grammar *g;
		const char *line;
		size_t len;       /* 0: strlen */
		bool ok;
	} cases[] = {
		{ &simcom_grammar, "AT+HTTPPARA=\"URL\",\"http://h/a\"", 0, true },
		{ &simcom_grammar, "AT+HTTPPARA=\"URL\",\"ftp://h/a\"", 0, false },
		{ &simcom_grammar, "AT+HTTPPARA=\"URL\",\"http://h/a\"b\"", 0, false },
		{ &simcom_grammar, "AT+HTTPPARA=\"URL\",\"http://h/a\\b\"", 0, false },
		{ &simcom_grammar, "AT+HTTPPARA=\"URL\",\"http://h/\x01\"", 0, false },
		{ &simcom_grammar, "AT+HTTPPARA=\"ACCEPT\",\"t\xe9xt/*\"", 0, false },
		{ &simcom_grammar, "AT+HTTPPARA=\"ACCEPT\",\"a\nb\"", 0, false },
		{ &simcom_grammar, "AT+HTTPPARA=\"URL\",\"x\0y\"", 23, false },
		{ &simcom_grammar, "AT+HTTPACTION=4", 0, false },
		{ &simcom_grammar, "AT+HTTPPARA=\"SSLCFG\",10", 0, false },
		{ &httpcfg_grammar, "AT+HTTPGET=0,100,2", 0, false },
		{ &httpcfg_grammar, "AT+HTTPGET=30,100,2", 0, true },
		{ &onemo_grammar, "AT+MHTTPREQUEST=4,1,0,\"/\"", 0, false },
		{ &espat_grammar, "AT+HTTPCLIENT=2,0,\"http://h/\",,,3", 0, false },
		{ &simcom_grammar, "AT+HTTPDATA=0,1000", 0, false },
		{ &simcom_grammar, "AT+HTTPDATA=153601,1000", 0, false },
		{ &simcom_grammar, "AT+HTTPDATA=-1,1000", 0, false },
		{ &neoway_grammar, "AT+HTTPPARA=url,example.com", 0, true },
		{ &neoway_grammar, "AT+HTTPPARA=url,example.com/a,b", 0, false },
		{ &neoway_grammar, "AT+HTTPPARA=url,example.com/a b", 0, false },
		{ &neoway_grammar, "AT+HTTPACTION=99,2049", 0, false },
		{ &httpcfg_grammar, "AT+HTTPURL=20,2", 0, true },
		{ &httpcfg_grammar, "AT+QHTTPURL=20,2", 0, false },
		{ &quectel_grammar, "AT+QHTTPURL=20,2", 0, true },
		{ &onemo_grammar, "AT+MHTTPHEADER=0,0,6,\"A: b c\"", 0, true },
		{ &onemo_grammar, "AT+MHTTPHEADER=0,0,5,\"A: b c\"", 0, false },
		{ &onemo_grammar, "AT+MHTTPHEADER=0,0,7,\"A: \"b\"\"", 0, false },
		{ &onemo_grammar, "AT+MHTTPHEADER=0,0,4,\"A: \xe9\"", 0, false },
		{ &onemo_grammar, "AT+MHTTPREQUEST=0,1,0,\"/a\";AT+CFUN=0", 0, false },
		{ &espat_grammar, "AT+HTTPCLIENT=2,0,\"http://h/a\\,b\\\"c\\\\\",,,1,\"X: y\"", 0, true },
		{ &espat_grammar, "AT+HTTPCLIENT=2,0,\"http://h/a,b\",,,1", 0, false },
		{ &espat_grammar, "AT+HTTPCLIENT=2,0,\"http://h/a\\xb\",,,1", 0, false },
		{ &espat_grammar, "AT+HTTPCLIENT=2,0,\"http://h/a\",,,1,\"X: \"y\"", 0, false },
		{ &espat_grammar, "AT+HTTPCPOST=\"http://h/\",5,2,\"A: b\",\"C: d\"", 0, true },
		{ &espat_grammar, "AT+HTTPCPOST=\"http://h/\",5,2,\"A: b\"", 0, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = cases[i].len ? cases[i].len : strlen(cases[i].line);
		const char *v = check_line(cases[i].g, cases[i].line, n, out, sizeof out);
		if (cases[i].ok != !v[0])
			fail_msg("case %zu (%s): expected %s, got \"%s\"", i, cases[i].g->name,
				 cases[i].ok ? "accepted" : "refused", v);
	}

	/* A data phase longer than announced leaves bytes that are no
	 * command; one shorter never gets its OK. */
	struct fake_module fm;
	fake_init(&fm, &simcom_grammar);
	static const char longer[] = "AT+HTTPDATA=3,1000\rabcdAT\r";
	fake_write(&fm.tp, longer, sizeof longer - 1, 0);
	assert_true(fm.error[0] != '\0');
	fake_free(&fm);
	fake_init(&fm, &simcom_grammar);
	static const char shorter[] = "AT+HTTPDATA=5,1000\rabcd";
	fake_write(&fm.tp, shorter, sizeof shorter - 1, 0);
	assert_true(fm.in_data);
	assert_null(strstr(fm.out.p, "OK"));
	fake_free(&fm);
}

int main(void)
{
	fprintf(stderr, "inject: ATHTTP_INJECT_SEED=%llu ATHTTP_INJECT_COUNT=%llu\n",
		(unsigned long long)env_number("ATHTTP_INJECT_SEED", 1),
		(unsigned long long)env_number("ATHTTP_INJECT_COUNT", INJECT_DEFAULT_COUNT));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checker_refuses_malformed_commands),
		cmocka_unit_test(test_directed_hostile_requests),
		cmocka_unit_test(test_inject_simcom),
		cmocka_unit_test(test_inject_neoway),
		cmocka_unit_test(test_inject_httpcfg),
		cmocka_unit_test(test_inject_quectel),
		cmocka_unit_test(test_inject_onemo),
		cmocka_unit_test(test_inject_espat),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
