/*
 * The module's network side, one implementation for every family: the SIM
 * (AT+CPIN), registration (AT+CREG/CGREG/CEREG, AT+COPS, AT+CSQ), the
 * packet data context (3GPP TS 27.007's AT+CGDCONT/CGAUTH/CGACT/CGPADDR or
 * the family's own: SIMCom's AT+CGSOCKCONT/CSOCKAUTH, Neoway's
 * AT+XGAUTH/XIIC, Quectel's AT+QICSGP/QIACT/QIDEACT), the identity
 * (ATI, AT+CGMI, AT+CGMM, AT+CGMR) and, for ESP-AT, the station
 * (AT+CWMODE, AT+CWJAP, AT+CWQAP, AT+GMR).  Which family has which
 * commands and says what about itself is data (families[]).
 *
 * The port offers every parsed command here first; what a family does
 * not have here goes on to its dialect.  Argument errors answer ERROR;
 * state errors answer the 27.007 +CME ERROR code (9.2: 3 operation not
 * allowed, 10 SIM not inserted, 11 SIM PIN required, 12 SIM PUK required,
 * 16 incorrect password, 30 no network service, 533 missing or unknown
 * APN).
 */
#include "emu.h"

#include <stdlib.h>
#include <string.h>

#define CID 1				/* the one context the HTTP service uses */
#define PIN_TRIES 3			/* then the SIM wants its PUK */
#define DEFAULT_APN "internet"
#define DEFAULT_WIFI "athttp-emu"
#define ADDRESS "10.64.0.2"		/* the PDP address / station IP */
#define OPERATOR "athttp-emu"

enum cme {
	CME_NOT_ALLOWED = 3,
	CME_NO_SIM = 10,
	CME_SIM_PIN = 11,
	CME_SIM_PUK = 12,
	CME_BAD_PASSWORD = 16,
	CME_NO_SERVICE = 30,
	CME_UNKNOWN_APN = 533,
};

enum sim_state { SIM_READY, SIM_PIN, SIM_PUK };

struct emu_net {
	struct emu *emu;
	const struct emu_config *cfg;
	const struct net_family *fam;
	const char *model;		/* AT+CGMM; the family's unless set */

	enum sim_state sim;
	unsigned pin_tries;
	uint64_t reg_start_ns;		/* EMU_NEVER: registration not begun */

	bool defined;			/* the context (CID) */
	char *apn, *user, *password;
	bool active;			/* (while registered) */

	unsigned wifi_mode;		/* ESP-AT: 0 off, 1 station, ... */
	bool joined;
};

typedef void net_fn(struct emu_net *n, const struct emu_cmd *c);

#define FORM(f) (1u << EMU_FORM_##f)

struct net_cmd {
	const char *name;
	unsigned forms;
	net_fn *run;
};

/* A family: its commands (lists ended by a NULL name) and its words. */
struct net_family {
	const char *name;		/* the dialect's */
	bool wifi;			/* ESP-AT: no SIM, a station */
	const struct net_cmd *lists[3];
	/* ATI's lines, a format with the model's %s; AT+CGMI / AT+CGMR
	 * answer lines (AT+CGMM's is the model) */
	const char *ati, *cgmi, *cgmr;
	const char *model;
	/* The HTTP service activates the context itself (SIMCom's
	 * AT+HTTPINIT): no activation command. */
	bool http_activates;
};

/* ------------------------------------------------------------ helpers */

static void info(struct emu_net *n, const char *fmt, ...) EMU_PRINTF(2, 3);
static void info(struct emu_net *n, const char *fmt, ...)
{
	struct emu_buf b = { 0 };
	va_list ap;

	/* ESP-AT prints its information lines without the CR LF before */
	if (!n->fam->wifi)
		emu_buf_add(&b, "\r\n", 2);
	va_start(ap, fmt);
	emu_buf_vaddf(&b, fmt, ap);
	va_end(ap);
	emu_buf_add(&b, "\r\n", 2);
	emu_send(n->emu, EMU_MARK_NONE, b.data, b.len);
	emu_buf_free(&b);
}

static void cme(struct emu_net *n, enum cme code)
{
	emu_sendf(n->emu, EMU_MARK_DONE, "\r\n+CME ERROR: %d\r\n", (int)code);
}

static bool arg_is(const struct emu_cmd *c, size_t i, enum emu_arg_kind k)
{
	return i < c->argc && c->argv[i].kind == k;
}

static bool num_is(const struct emu_cmd *c, size_t i, unsigned long v)
{
	return arg_is(c, i, EMU_ARG_NUMBER) && c->argv[i].num == v;
}

static void set_str(char **to, const struct emu_arg *a)
{
	free(*to);
	*to = a ? emu_strndup(a->str, a->len) : NULL;
}

static const char *accepted_apn(const struct emu_net *n)
{
	return n->cfg->apn ? n->cfg->apn : DEFAULT_APN;
}

/* 27.007 <stat>: 0 not registered (not searching), 1 home, 2 searching,
 * 3 denied. */
static int reg_stat(const struct emu_net *n)
{
	if (n->sim != SIM_READY || n->reg_start_ns == EMU_NEVER)
		return 0;
	if (n->cfg->reg_denied)
		return 3;
	if (n->cfg->no_network ||
	    emu_now_ns() - n->reg_start_ns <
		    (uint64_t)n->cfg->register_ms * EMU_NS_PER_MS)
		return 2;
	return 1;
}

static bool registered(const struct emu_net *n)
{
	return reg_stat(n) == 1;
}

static bool is_active(const struct emu_net *n)
{
	return n->active && registered(n);
}

/* Set commands need the SIM: its state's error, or 0 when it is ready. */
static enum cme sim_error(const struct emu_net *n)
{
	static const enum cme code[] = {
		[SIM_READY] = 0, [SIM_PIN] = CME_SIM_PIN, [SIM_PUK] = CME_SIM_PUK,
	};

	return code[n->sim];
}

/* The SIM must be ready: otherwise its error is the answer. */
static bool need_sim(struct emu_net *n)
{
	enum cme e = sim_error(n);

	if (e)
		cme(n, e);
	return !e;
}

/* Activation: registered and the network knows the APN. */
static enum cme activation_error(const struct emu_net *n)
{
	if (!registered(n))
		return CME_NO_SERVICE;
	if (!n->defined || strcmp(n->apn, accepted_apn(n)))
		return CME_UNKNOWN_APN;
	return 0;
}

static bool activate(struct emu_net *n)
{
	enum cme e = sim_error(n);

	if (!e)
		e = activation_error(n);
	if (e) {
		cme(n, e);
		return false;
	}
	n->active = true;
	return true;
}

/* ------------------------------------------------------------ identity */

static void ati(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->has_num || !n->fam->ati) {
		emu_error(n->emu);
		return;
	}
	info(n, n->fam->ati, n->model);
	emu_ok(n->emu);
}

static void identity(struct emu_net *n, const struct emu_cmd *c)
{
	const char *line = !strcmp(c->name, "+CGMI") ? n->fam->cgmi :
			   !strcmp(c->name, "+CGMM") ? n->model : n->fam->cgmr;

	if (c->form == EMU_FORM_EXEC)
		info(n, "%s", line);
	emu_ok(n->emu);
}

/* ------------------------------------------------------------ SIM */

static void cpin(struct emu_net *n, const struct emu_cmd *c)
{
	static const char *const name[] = {
		[SIM_READY] = "READY", [SIM_PIN] = "SIM PIN", [SIM_PUK] = "SIM PUK",
	};

	if (c->form == EMU_FORM_TEST) {
		emu_ok(n->emu);
		return;
	}
	if (c->form == EMU_FORM_READ) {
		info(n, "+CPIN: %s", name[n->sim]);
		emu_ok(n->emu);
		return;
	}
	/* AT+CPIN=<pin>[,<newpin>]: the new PIN goes with a PUK only */
	if (c->argc != 1 || !arg_is(c, 0, EMU_ARG_STRING)) {
		emu_error(n->emu);
		return;
	}
	switch (n->sim) {
	case SIM_READY:
		cme(n, CME_NOT_ALLOWED);	/* nothing is asked for */
		return;
	case SIM_PUK:
		cme(n, CME_SIM_PUK);
		return;
	case SIM_PIN:
		break;
	}
	if (strcmp(c->argv[0].str, n->cfg->sim_pin)) {
		if (++n->pin_tries >= PIN_TRIES)
			n->sim = SIM_PUK;
		cme(n, CME_BAD_PASSWORD);
		return;
	}
	n->sim = SIM_READY;
	n->pin_tries = 0;
	n->reg_start_ns = emu_now_ns();		/* the network search begins */
	emu_ok(n->emu);
}

/* ------------------------------------------------------------ registration */

/* AT+CREG?, AT+CGREG?, AT+CEREG? with n = 0 (no URCs); AT+CxREG=0. */
static void creg(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_TEST) {
		info(n, "%s: (0)", c->name);
	} else if (c->form == EMU_FORM_READ) {
		info(n, "%s: 0,%d", c->name, reg_stat(n));
	} else if (c->argc != 1 || !num_is(c, 0, 0)) {
		emu_error(n->emu);	/* the emulator sends no URCs */
		return;
	}
	emu_ok(n->emu);
}

static void csq(struct emu_net *n, const struct emu_cmd *c)
{
	(void)c;
	/* no cell at all: 99 not known or not detectable */
	if (n->cfg->no_network)
		info(n, "+CSQ: 99,99");
	else
		info(n, "+CSQ: 20,99");
	emu_ok(n->emu);
}

/* AT+COPS? and AT+COPS=0 (automatic selection, the one mode there is) */
static void cops(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_SET) {
		if (c->argc != 1 || !num_is(c, 0, 0))
			emu_error(n->emu);
		else if (need_sim(n))
			emu_ok(n->emu);
		return;
	}
	if (registered(n))
		info(n, "+COPS: 0,0,\"%s\",7", OPERATOR);
	else
		info(n, "+COPS: 0");
	emu_ok(n->emu);
}

/* ------------------------------------------------------------ context */

static bool cid_ok(const struct emu_cmd *c, size_t i)
{
	return num_is(c, i, CID);
}

/* A context defined anew with another APN is no longer active. */
static void define(struct emu_net *n, const struct emu_arg *apn)
{
	if (!n->defined || strcmp(n->apn, apn->str))
		n->active = false;
	set_str(&n->apn, apn);
	n->defined = true;
}

/* AT+CGDCONT=1,"IP","<apn>" (SIMCom: AT+CGSOCKCONT, the same form) */
static void cgdcont(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_TEST) {
		info(n, "%s: (%d),\"IP\"", c->name, CID);
		emu_ok(n->emu);
		return;
	}
	if (c->form == EMU_FORM_READ) {
		if (n->defined)
			info(n, "%s: %d,\"IP\",\"%s\",\"0.0.0.0\",0,0", c->name,
			     CID, n->apn);
		emu_ok(n->emu);
		return;
	}
	if (c->argc == 1 && cid_ok(c, 0)) {
		/* AT+CGDCONT=<cid> alone undefines it */
		if (!need_sim(n))
			return;
		n->defined = n->active = false;
		emu_ok(n->emu);
		return;
	}
	if (c->argc != 3 || !cid_ok(c, 0) || !arg_is(c, 1, EMU_ARG_STRING) ||
	    strcmp(c->argv[1].str, "IP") || !arg_is(c, 2, EMU_ARG_STRING)) {
		emu_error(n->emu);
		return;
	}
	if (!need_sim(n))
		return;
	define(n, &c->argv[2]);
	emu_ok(n->emu);
}

/* AT+CGAUTH=1,<auth>,"<user>","<password>"; SIMCom's AT+CSOCKAUTH has
 * password before user; auth 0 (none) takes no strings. */
static void auth(struct emu_net *n, const struct emu_cmd *c, bool pw_first)
{
	if (c->form == EMU_FORM_TEST) {
		info(n, "%s: (%d),(0-2)", c->name, CID);
		emu_ok(n->emu);
		return;
	}
	if (c->form != EMU_FORM_SET || !cid_ok(c, 0) ||
	    !arg_is(c, 1, EMU_ARG_NUMBER) || c->argv[1].num > 2 ||
	    (c->argv[1].num == 0 ? c->argc != 2 :
	     c->argc != 4 || !arg_is(c, 2, EMU_ARG_STRING) ||
	     !arg_is(c, 3, EMU_ARG_STRING))) {
		emu_error(n->emu);
		return;
	}
	if (!need_sim(n))
		return;
	set_str(&n->user, c->argc == 4 ? &c->argv[pw_first ? 3 : 2] : NULL);
	set_str(&n->password, c->argc == 4 ? &c->argv[pw_first ? 2 : 3] : NULL);
	emu_ok(n->emu);
}

static void cgauth(struct emu_net *n, const struct emu_cmd *c)
{
	auth(n, c, false);
}

static void csockauth(struct emu_net *n, const struct emu_cmd *c)
{
	auth(n, c, true);
}

/* AT+CGACT=<state>,1; AT+CGACT? -> +CGACT: 1,<state> */
static void cgact(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_TEST) {
		info(n, "+CGACT: (0,1)");
		emu_ok(n->emu);
		return;
	}
	if (c->form == EMU_FORM_READ) {
		if (n->defined)
			info(n, "+CGACT: %d,%d", CID, is_active(n));
		emu_ok(n->emu);
		return;
	}
	if (c->argc != 2 || !arg_is(c, 0, EMU_ARG_NUMBER) ||
	    c->argv[0].num > 1 || !cid_ok(c, 1)) {
		emu_error(n->emu);
		return;
	}
	if (c->argv[0].num == 0) {
		if (need_sim(n)) {
			n->active = false;
			emu_ok(n->emu);
		}
	} else if (activate(n)) {
		emu_ok(n->emu);
	}
}

static void cgpaddr(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_TEST) {
		info(n, "+CGPADDR: (%d)", CID);
	} else if (c->argc != 1 || !cid_ok(c, 0)) {
		emu_error(n->emu);
		return;
	} else if (is_active(n)) {
		info(n, "+CGPADDR: %d,%s", CID, ADDRESS);
	} else {
		info(n, "+CGPADDR: %d", CID);	/* no address: omitted */
	}
	emu_ok(n->emu);
}

/* Neoway AT+XIIC=<0|1> (the PPP link), AT+XIIC? -> +XIIC: <state>,<ip> */
static void xiic(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_READ) {
		info(n, "+XIIC: %d,%s", is_active(n),
		     is_active(n) ? ADDRESS : "0.0.0.0");
		emu_ok(n->emu);
		return;
	}
	if (c->form != EMU_FORM_SET || c->argc != 1 ||
	    !arg_is(c, 0, EMU_ARG_NUMBER) || c->argv[0].num > 1) {
		emu_error(n->emu);
		return;
	}
	if (c->argv[0].num == 0) {
		if (need_sim(n)) {
			n->active = false;
			emu_ok(n->emu);
		}
	} else if (activate(n)) {
		emu_ok(n->emu);
	}
}

/* Neoway AT+XGAUTH=1,<auth>,"<user>","<password>" */
static void xgauth(struct emu_net *n, const struct emu_cmd *c)
{
	auth(n, c, false);
}

/* Quectel AT+QICSGP=1 (query) or
 * AT+QICSGP=1,1,"<apn>","<user>","<password>"[,<auth>] */
static void qicsgp(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_SET && c->argc == 1 && cid_ok(c, 0)) {
		info(n, "+QICSGP: 1,\"%s\",\"%s\",\"%s\",%d",
		     n->defined ? n->apn : "", n->user ? n->user : "",
		     n->password ? n->password : "", n->user ? 1 : 0);
		emu_ok(n->emu);
		return;
	}
	if (c->form != EMU_FORM_SET || (c->argc != 5 && c->argc != 6) ||
	    !cid_ok(c, 0) || !num_is(c, 1, 1) ||
	    !arg_is(c, 2, EMU_ARG_STRING) || !arg_is(c, 3, EMU_ARG_STRING) ||
	    !arg_is(c, 4, EMU_ARG_STRING) ||
	    (c->argc == 6 && (!arg_is(c, 5, EMU_ARG_NUMBER) ||
			      c->argv[5].num > 3))) {
		emu_error(n->emu);
		return;
	}
	if (!need_sim(n))
		return;
	define(n, &c->argv[2]);
	set_str(&n->user, c->argv[3].len ? &c->argv[3] : NULL);
	set_str(&n->password, c->argv[4].len ? &c->argv[4] : NULL);
	emu_ok(n->emu);
}

/* AT+QIACT=1; AT+QIACT? -> +QIACT: 1,<state>,1,"<ip>" (no line: none) */
static void qiact(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_READ) {
		if (is_active(n))
			info(n, "+QIACT: %d,1,1,\"%s\"", CID, ADDRESS);
		emu_ok(n->emu);
		return;
	}
	if (c->form != EMU_FORM_SET || c->argc != 1 || !cid_ok(c, 0)) {
		emu_error(n->emu);
		return;
	}
	if (activate(n))
		emu_ok(n->emu);
}

static void qideact(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->argc != 1 || !cid_ok(c, 0)) {
		emu_error(n->emu);
		return;
	}
	if (need_sim(n)) {
		n->active = false;
		emu_ok(n->emu);
	}
}

/* ------------------------------------------------------------ ESP-AT */

/* The ESP-AT User Guide, Basic AT Commands, AT+GMR */
static void gmr(struct emu_net *n, const struct emu_cmd *c)
{
	(void)c;
	info(n, "AT version:athttp-emu");
	info(n, "SDK version:athttp-emu");
	emu_ok(n->emu);
}

/* Wi-Fi AT Commands, AT+CWMODE: 0 off, 1 station, 2 softAP, 3 both */
static void cwmode(struct emu_net *n, const struct emu_cmd *c)
{
	if (c->form == EMU_FORM_TEST) {
		info(n, "+CWMODE:(0-3)");
	} else if (c->form == EMU_FORM_READ) {
		info(n, "+CWMODE:%u", n->wifi_mode);
	} else if (c->argc < 1 || c->argc > 2 ||
		   !arg_is(c, 0, EMU_ARG_NUMBER) || c->argv[0].num > 3 ||
		   (c->argc == 2 && (!arg_is(c, 1, EMU_ARG_NUMBER) ||
				     c->argv[1].num > 1))) {
		emu_error(n->emu);
		return;
	} else {
		n->wifi_mode = (unsigned)c->argv[0].num;
		if (!(n->wifi_mode & 1))
			n->joined = false;	/* no station, no AP */
	}
	emu_ok(n->emu);
}

static bool station(const struct emu_net *n)
{
	return n->wifi_mode & 1;
}

/* The one access point (--wifi SSID:PASSWORD). */
static void ap(const struct emu_net *n, const char **ssid, size_t *slen,
	       const char **pw)
{
	const char *w = n->cfg->wifi ? n->cfg->wifi : DEFAULT_WIFI ":" DEFAULT_WIFI;
	const char *colon = strchr(w, ':');

	*ssid = w;
	*slen = (size_t)(colon - w);
	*pw = colon + 1;
}

/* AT+CWJAP="<ssid>","<pwd>"[,...] -> WIFI CONNECTED, WIFI GOT IP, OK; or
 * +CWJAP:<code> and FAIL (1 timeout, 2 wrong password, 3 no such AP);
 * AT+CWJAP? -> +CWJAP:"<ssid>","<bssid>",<channel>,<rssi> or No AP. */
static void cwjap(struct emu_net *n, const struct emu_cmd *c)
{
	const char *ssid, *pw;
	size_t slen;
	int code;

	ap(n, &ssid, &slen, &pw);
	if (c->form == EMU_FORM_READ) {
		if (n->joined)
			info(n, "+CWJAP:\"%.*s\",\"02:00:00:00:00:01\",6,-50",
			     (int)slen, ssid);
		else
			info(n, "No AP");
		emu_ok(n->emu);
		return;
	}
	if (c->form != EMU_FORM_SET || c->argc < 2 ||
	    !arg_is(c, 0, EMU_ARG_STRING) || !arg_is(c, 1, EMU_ARG_STRING) ||
	    !station(n)) {
		emu_error(n->emu);
		return;
	}
	/* The extra arguments (<bssid>, <pci_en>, ...) are not emulated */
	if (c->argc > 2) {
		emu_error(n->emu);
		return;
	}
	n->joined = false;
	if (n->cfg->no_network)
		code = 1;
	else if (c->argv[0].len != slen || memcmp(c->argv[0].str, ssid, slen))
		code = 3;
	else if (strcmp(c->argv[1].str, pw))
		code = 2;
	else
		code = 0;
	if (code) {
		info(n, "+CWJAP:%d", code);
		emu_send(n->emu, EMU_MARK_DONE, "\r\nFAIL\r\n", 8);
		return;
	}
	n->joined = true;
	emu_sendf(n->emu, EMU_MARK_NONE, "WIFI CONNECTED\r\nWIFI GOT IP\r\n");
	emu_ok(n->emu);
}

static void cwqap(struct emu_net *n, const struct emu_cmd *c)
{
	(void)c;
	if (n->joined)
		emu_sendf(n->emu, EMU_MARK_NONE, "WIFI DISCONNECT\r\n");
	n->joined = false;
	emu_ok(n->emu);
}

/* ------------------------------------------------------------ families */

static const struct net_cmd cellular[] = {
	{ "I", FORM(BASIC), ati },
	{ "+CGMI", FORM(EXEC) | FORM(TEST), identity },
	{ "+CGMM", FORM(EXEC) | FORM(TEST), identity },
	{ "+CGMR", FORM(EXEC) | FORM(TEST), identity },
	{ "+CPIN", FORM(READ) | FORM(SET) | FORM(TEST), cpin },
	{ "+CREG", FORM(READ) | FORM(SET) | FORM(TEST), creg },
	{ "+CGREG", FORM(READ) | FORM(SET) | FORM(TEST), creg },
	{ "+CEREG", FORM(READ) | FORM(SET) | FORM(TEST), creg },
	{ "+CSQ", FORM(EXEC), csq },
	{ "+COPS", FORM(READ) | FORM(SET), cops },
	{ NULL },
};

/* 27.007's context and its activation */
static const struct net_cmd cgact_ctx[] = {
	{ "+CGDCONT", FORM(READ) | FORM(SET) | FORM(TEST), cgdcont },
	{ "+CGAUTH", FORM(SET) | FORM(TEST), cgauth },
	{ "+CGACT", FORM(READ) | FORM(SET) | FORM(TEST), cgact },
	{ "+CGPADDR", FORM(SET) | FORM(TEST), cgpaddr },
	{ NULL },
};

/* The SIMCom AT manual's TCP/IP context (AT+HTTPINIT activates it) */
static const struct net_cmd simcom_ctx[] = {
	{ "+CGSOCKCONT", FORM(READ) | FORM(SET) | FORM(TEST), cgdcont },
	{ "+CSOCKAUTH", FORM(SET) | FORM(TEST), csockauth },
	{ "+CGPADDR", FORM(SET) | FORM(TEST), cgpaddr },
	{ NULL },
};

/* Neoway: 27.007's context, its own authentication and PPP link */
static const struct net_cmd neoway_ctx[] = {
	{ "+CGDCONT", FORM(READ) | FORM(SET) | FORM(TEST), cgdcont },
	{ "+XGAUTH", FORM(SET), xgauth },
	{ "+XIIC", FORM(READ) | FORM(SET), xiic },
	{ NULL },
};

/* Quectel's TCP/IP context commands */
static const struct net_cmd quectel_ctx[] = {
	{ "+QICSGP", FORM(SET), qicsgp },
	{ "+QIACT", FORM(READ) | FORM(SET), qiact },
	{ "+QIDEACT", FORM(SET), qideact },
	{ "+CGPADDR", FORM(SET) | FORM(TEST), cgpaddr },
	{ NULL },
};

static const struct net_cmd station_cmds[] = {
	{ "+GMR", FORM(EXEC), gmr },
	{ "+CWMODE", FORM(READ) | FORM(SET) | FORM(TEST), cwmode },
	{ "+CWJAP", FORM(READ) | FORM(SET), cwjap },
	{ "+CWQAP", FORM(EXEC), cwqap },
	{ NULL },
};

static const struct net_family families[] = {
	{
		.name = "simcom",
		.lists = { cellular, simcom_ctx },
		.ati = "Manufacturer: SIMCOM INCORPORATED\r\nModel: %s\r\n"
		       "Revision: athttp-emu",
		.cgmi = "SIMCOM INCORPORATED",
		.cgmr = "+CGMR: athttp-emu",
		.model = "SIMCOM_SIM7600E-H",
		.http_activates = true,
	},
	{
		.name = "neoway",
		.lists = { cellular, neoway_ctx },
		.ati = "Neoway\r\n%s\r\nathttp-emu",
		.cgmi = "Neoway",
		.cgmr = "athttp-emu",
		.model = "N58",
	},
	{
		.name = "httpcfg",
		.lists = { cellular, cgact_ctx },
		.ati = "athttp-emu\r\n%s\r\nRevision: athttp-emu",
		.cgmi = "athttp-emu",
		.cgmr = "Revision: athttp-emu",
		.model = "HTTPCFG",
	},
	{
		.name = "quectel",
		.lists = { cellular, quectel_ctx },
		.ati = "Quectel\r\n%s\r\nRevision: athttp-emu",
		.cgmi = "Quectel",
		.cgmr = "Revision: athttp-emu",
		.model = "EC200U",
	},
	{
		.name = "onemo",
		.lists = { cellular, cgact_ctx },
		.ati = "China Mobile\r\n%s\r\nRevision: athttp-emu",
		.cgmi = "China Mobile",
		.cgmr = "Revision: athttp-emu",
		.model = "ML307G",
	},
	{
		.name = "espat",
		.wifi = true,
		.lists = { station_cmds },
	},
};

/* ------------------------------------------------------------ interface */

struct emu_net *emu_net_new(struct emu *e, const struct emu_config *cfg,
			    const char *family)
{
	struct emu_net *n = emu_calloc(1, sizeof(*n));

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (!strcmp(families[i].name, family))
			n->fam = &families[i];
	if (!n->fam)
		abort();	/* every dialect has its family */
	n->emu = e;
	n->cfg = cfg;
	n->model = n->fam->model;
	emu_net_power_on(n, !cfg->cold);
	return n;
}

void emu_net_free(struct emu_net *n)
{
	if (!n)
		return;
	free(n->apn);
	free(n->user);
	free(n->password);
	free(n);
}

void emu_net_power_on(struct emu_net *n, bool warm)
{
	free(n->apn);
	free(n->user);
	free(n->password);
	n->apn = n->user = n->password = NULL;
	n->sim = n->cfg->sim_pin ? SIM_PIN : SIM_READY;
	n->pin_tries = 0;
	n->reg_start_ns = n->sim == SIM_READY ? emu_now_ns() : EMU_NEVER;
	/* A warm module has its context defined and active (once
	 * registered) and its station joined. */
	n->defined = n->active = warm;
	if (warm)
		n->apn = emu_strndup(accepted_apn(n), strlen(accepted_apn(n)));
	n->wifi_mode = warm ? 1 : 0;
	n->joined = warm && !n->cfg->no_network;
}

bool emu_net_command(struct emu_net *n, const struct emu_cmd *c)
{
	for (size_t l = 0; l < sizeof(n->fam->lists) / sizeof(n->fam->lists[0]) &&
			   n->fam->lists[l]; l++)
		for (const struct net_cmd *k = n->fam->lists[l]; k->name; k++) {
			if (strcmp(k->name, c->name))
				continue;
			if (k->forms & (1u << c->form))
				k->run(n, c);
			else
				emu_error(n->emu);
			return true;
		}
	return false;
}

bool emu_net_is_up(struct emu_net *n)
{
	if (n->fam->wifi)
		return station(n) && n->joined;
	if (n->fam->http_activates && n->sim == SIM_READY &&
	    !activation_error(n))
		n->active = true;
	return n->sim == SIM_READY && is_active(n);
}

const char *emu_net_boot_lines(const struct emu_net *n)
{
	if (n->fam->wifi)
		return "\r\nready\r\n";
	return n->sim == SIM_READY ? "\r\nRDY\r\n\r\n+CPIN: READY\r\n" :
				     "\r\nRDY\r\n\r\n+CPIN: SIM PIN\r\n";
}

void emu_net_set_model(struct emu_net *n, const char *model)
{
	n->model = model;
}
