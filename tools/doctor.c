/*
 * athttp doctor [-d DEVICE] [-m MODEM|auto] [-b BAUD] [--record FILE] [URL]
 *
 * The checks a user would otherwise run by hand on a module that does not
 * work, in order: the device, the permission to open it, the port's lock,
 * the baud rate, echo, the family, SIM / registration / signal, the HTTP
 * service, a request.  Each prints one line "ok|FAIL|warn|skip <check>:
 * <verdict>", and under one that is not ok the fix, indented.  A check the
 * next ones depend on stops the run when it fails.
 */
#include "doctor.h"

#include "cli_number.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "athttp.h"
#include "at_chat.h"
#include "device_access.h"
#include "dialect.h"
#include "identify.h"
#include "modem.h"
#include "transport.h"

#define EXIT_USAGE 2
/* Short: a silent port costs this at every rate tried. */
#define RATE_WAIT_MS 300
#define PROBE_WAIT_MS 1500
#define REQUEST_TIMEOUT_MS 60000
#define MAX_PROBES 16
#define MAX_PARTS 16
#define DEFAULT_BAUD 115200

/* The rates modules ship with or are set to, slowest first. */
static const int usual_rates[] = { 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 };
/* What the tty transport can set besides those. */
static const int fast_rates[] = { 1000000, 2000000, 3000000, 4000000 };

enum verdict { V_OK, V_FAIL, V_WARN, V_SKIP };

struct doctor {
	const char *device;
	const char *modem;            /* NULL: identify it */
	int baud;                     /* the rate athttp would use */
	const char *url;
	const char *record;
	int failed;
	/* --record: every opening of the port records to a part of its
	 * own (a recorder starts its file afresh), joined at the end. */
	char part[MAX_PARTS][PATH_MAX];
	char part_what[MAX_PARTS][80];
	int n_parts;
};

/* The doctor's own opening of the port. */
struct port {
	struct transport *tp;
	struct at_chat chat;
	int baud;
};

static const char *const verdict_word[] = { "ok", "FAIL", "warn", "skip" };

__attribute__((format(printf, 4, 5)))
static void report(struct doctor *dr, enum verdict v, const char *check, const char *fmt, ...)
{
	va_list ap;
	printf("%s %s: ", verdict_word[v], check);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (v == V_FAIL)
		dr->failed = 1;
	fflush(stdout);
}

/* The fix under a check that is not ok. */
__attribute__((format(printf, 1, 2)))
static void fix(const char *fmt, ...)
{
	va_list ap;
	fputs("    ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* ------------------------------------------------------------ --record */

/* The file the next opening of the port records to; NULL without
 * --record (or when the parts ran out). */
static const char *record_part(struct doctor *dr, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static const char *record_part(struct doctor *dr, const char *fmt, ...)
{
	if (!dr->record || dr->n_parts == MAX_PARTS)
		return NULL;
	int i = dr->n_parts++;
	snprintf(dr->part[i], sizeof dr->part[i], "%s.part%d", dr->record, i);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dr->part_what[i], sizeof dr->part_what[i], fmt, ap);
	va_end(ap);
	return dr->part[i];
}

/* One transcript of the whole run: the parts in order, each after a
 * comment saying what it was, under the first part's magic line (the
 * others' are left out: the file is one transcript). */
static void record_join(struct doctor *dr)
{
	if (!dr->record)
		return;
	int fd = open(dr->record, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!out) {
		if (fd >= 0)
			close(fd);
		fprintf(stderr, "athttp doctor: cannot write %s: %s\n", dr->record, strerror(errno));
	}
	char *line = NULL;
	size_t cap = 0;
	for (int i = 0; i < dr->n_parts; i++) {
		FILE *in = fopen(dr->part[i], "re");
		bool first = true;
		ssize_t n;
		while (in && (n = getline(&line, &cap, in)) > 0) {
			bool magic = strncmp(line, "# athttp transcript ", 20) == 0;
			if (first && out) {
				if (i == 0 || !magic)
					fwrite(line, 1, (size_t)n, out);
				fprintf(out, "# athttp doctor: %s\n", dr->part_what[i]);
			} else if (out) {
				fwrite(line, 1, (size_t)n, out);
			}
			first = false;
		}
		if (in)
			fclose(in);
		unlink(dr->part[i]);
	}
	free(line);
	if (out && fclose(out) != 0)
		fprintf(stderr, "athttp doctor: cannot write %s: %s\n", dr->record, strerror(errno));
}

/* ------------------------------------------------------------ 1, 2: device */

static void mode_string(mode_t m, char out[11])
{
	static const char rwx[] = "rwxrwxrwx";
	out[0] = S_ISCHR(m) ? 'c' : S_ISBLK(m) ? 'b' : S_ISDIR(m) ? 'd' : '-';
	for (int i = 0; i < 9; i++)
		out[1 + i] = (m & (1u << (8 - i))) ? rwx[i] : '-';
	out[10] = '\0';
}

static bool gid_in(gid_t gid, const gid_t *list, int n)
{
	for (int i = 0; i < n; i++)
		if (list[i] == gid)
			return true;
	return false;
}

/* Why this user cannot open the device, and what would let it. */
static void explain_denied(struct doctor *dr, const struct stat *st)
{
	char user[64], owner[64], group[64], mode[11];
	const struct passwd *pw = getpwuid(geteuid());
	snprintf(user, sizeof user, "%s", pw ? pw->pw_name : "this user");
	gid_t user_gid = pw ? pw->pw_gid : getegid();
	const struct passwd *ow = getpwuid(st->st_uid);
	snprintf(owner, sizeof owner, "%s", ow ? ow->pw_name : "?");
	const struct group *gr = getgrgid(st->st_gid);
	if (gr)
		snprintf(group, sizeof group, "%s", gr->gr_name);
	else
		snprintf(group, sizeof group, "%u", (unsigned)st->st_gid);
	mode_string(st->st_mode, mode);

	/* The groups of this process, and those the group database gives
	 * the user: a group added since the login is only in the second. */
	gid_t now[NGROUPS_MAX + 1];
	int n_now = getgroups(NGROUPS_MAX, now);
	if (n_now < 0)
		n_now = 0;
	now[n_now++] = getegid();
	bool in_now = gid_in(st->st_gid, now, n_now);
	gid_t db[NGROUPS_MAX + 1];
	int n_db = NGROUPS_MAX;
	bool in_db = pw && getgrouplist(pw->pw_name, user_gid, db, &n_db) >= 0 &&
		     gid_in(st->st_gid, db, n_db);
	bool group_rw = (st->st_mode & (S_IRGRP | S_IWGRP)) == (S_IRGRP | S_IWGRP);

	const char *why = in_now ? "its group has no read-write permission"
			  : in_db ? "the user is in that group, but this session began before it was added"
			  : "the user is not in that group";
	report(dr, V_FAIL, "permissions", "%s cannot open %s read-write (%s, owner %s, group %s): %s",
	       user, dr->device, mode, owner, group, why);
	bool fixed = false;
	if (in_db && !in_now) {
		fix("log in again (or run: newgrp %s)", group);
		fixed = true;
	} else if (!in_now && group_rw) {
		char usermod[200];
		device_group_fix(group, user, usermod, sizeof usermod);
		fix("%s", usermod);
		fixed = true;
	}
	char real[PATH_MAX];
	const char *name = realpath(dr->device, real) ? real : dr->device;
	name = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
	fix("%sa udev rule for the port, e.g. in /etc/udev/rules.d/99-athttp.rules: "
	    "SUBSYSTEM==\"tty\", KERNEL==\"%s\", GROUP=\"%s\", MODE=\"0660\"%s",
	    fixed ? "or " : "", name, group_rw ? group : "dialout",
	    group_rw ? "" : ", then add the user to that group");
	fix("or run athttp as a user who can open %s (%s, or a member of %s%s)", dr->device, owner,
	    group, group_rw ? "" : " once the group may read and write");
	fix("or %s", device_daemon_fix);
}

/* Checks 1 and 2.  Returns the open descriptor, or -1 (reported). */
static int check_device(struct doctor *dr, struct stat *st)
{
	if (stat(dr->device, st) != 0) {
		int e = errno;
		report(dr, V_FAIL, "device", "%s: %s", dr->device, strerror(e));
		if (e == ENOENT)
			fix("plug the module in and see which name it got: ls -l /dev/ttyUSB* /dev/ttyACM* "
			    "/dev/serial/by-id/; dmesg | tail");
		return -1;
	}
	if (!S_ISCHR(st->st_mode)) {
		report(dr, V_FAIL, "device", "%s is not a character device", dr->device);
		fix("give the module's serial port, e.g. -d /dev/ttyUSB2");
		return -1;
	}
	int fd = open(dr->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	int open_errno = errno;
	if (fd >= 0 && !isatty(fd)) {
		report(dr, V_FAIL, "device", "%s is a character device (%u:%u) but not a terminal",
		       dr->device, major(st->st_rdev), minor(st->st_rdev));
		fix("give the module's serial port, e.g. -d /dev/ttyUSB2");
		close(fd);
		return -1;
	}
	report(dr, V_OK, "device", "%s is a %s %u:%u", dr->device,
	       fd >= 0 ? "tty, character device" : "character device", major(st->st_rdev),
	       minor(st->st_rdev));
	if (fd >= 0) {
		const struct passwd *pw = getpwuid(geteuid());
		report(dr, V_OK, "permissions", "%s can open it read-write", pw ? pw->pw_name : "this user");
		return fd;
	}
	if (open_errno == EACCES || open_errno == EPERM) {
		explain_denied(dr, st);
	} else if (open_errno == EBUSY) {
		report(dr, V_FAIL, "permissions", "%s: another program opened it for itself alone "
		       "(TIOCEXCL)", dr->device);
		fix("find it with: fuser -v %s", dr->device);
	} else {
		report(dr, V_FAIL, "permissions", "cannot open %s: %s", dr->device, strerror(open_errno));
	}
	return -1;
}

/* ------------------------------------------------------------ 3: lock */

/* /proc/PID/comm and /proc/PID/cmdline as "comm: cmd arg...". */
static void describe_pid(pid_t pid, char *out, size_t outlen)
{
	char path[64], comm[32] = "?", cmd[200] = "";
	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	FILE *f = fopen(path, "re");
	if (f) {
		if (fgets(comm, sizeof comm, f))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(f);
	}
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, cmd, sizeof cmd - 1);
		close(fd);
		if (n > 0) {
			for (ssize_t i = 0; i < n; i++)
				if (cmd[i] == '\0' || (unsigned char)cmd[i] < 0x20)
					cmd[i] = ' ';
			cmd[n] = '\0';
			while (n > 0 && cmd[n - 1] == ' ')
				cmd[--n] = '\0';
		}
	}
	snprintf(out, outlen, "%s%s%s", comm, *cmd ? ": " : "", cmd);
}

/* The pid /proc/locks gives for the flock on the device's inode; 0 when
 * none shows (the holder in another pid namespace, or no /proc). */
static pid_t flock_holder(const struct stat *st)
{
	FILE *f = fopen("/proc/locks", "re");
	if (!f)
		return 0;
	char line[256];
	pid_t found = 0;
	/* "1: FLOCK  ADVISORY  WRITE 1234 00:19:5 0 EOF"; waiters have "->". */
	while (!found && fgets(line, sizeof line, f)) {
		char kind[16];
		int pid;
		unsigned maj, min;
		unsigned long ino;
		if (strstr(line, "->") ||
		    sscanf(line, "%*d: %15s %*s %*s %d %x:%x:%lu", kind, &pid, &maj, &min, &ino) != 5)
			continue;
		if (strcmp(kind, "FLOCK") == 0 && maj == major(st->st_dev) && min == minor(st->st_dev) &&
		    ino == (unsigned long)st->st_ino && pid > 0)
			found = pid;
	}
	fclose(f);
	return found;
}

/* The processes that have the device open (ourselves left out), as
 * "pid N (comm: cmd)" joined by "; ". */
static void device_openers(const struct stat *st, char *out, size_t outlen)
{
	out[0] = '\0';
	DIR *proc = opendir("/proc");
	if (!proc)
		return;
	struct dirent *de;
	while ((de = readdir(proc))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		char dir[64];
		snprintf(dir, sizeof dir, "/proc/%ld/fd", pid);
		DIR *fds = opendir(dir);
		if (!fds)
			continue;
		struct dirent *fe;
		bool has = false;
		while (!has && (fe = readdir(fds))) {
			char link[64 + sizeof fe->d_name];
			struct stat fst;
			snprintf(link, sizeof link, "%s/%s", dir, fe->d_name);
			has = fe->d_name[0] != '.' && stat(link, &fst) == 0 &&
			      fst.st_dev == st->st_dev && fst.st_ino == st->st_ino;
		}
		closedir(fds);
		if (has) {
			char who[400];
			size_t used = strlen(out);
			describe_pid((pid_t)pid, who, sizeof who);
			snprintf(out + used, outlen - used, "%spid %ld (%s)", used ? "; " : "", pid, who);
		}
	}
	closedir(proc);
}

/* Check 3; closes fd. */
static bool check_lock(struct doctor *dr, int fd, const struct stat *st)
{
	if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
		close(fd);
		report(dr, V_OK, "lock", "no other process holds %s", dr->device);
		return true;
	}
	int e = errno;
	close(fd);
	if (e != EWOULDBLOCK) {
		report(dr, V_WARN, "lock", "cannot try the port's lock: %s", strerror(e));
		return true;
	}
	pid_t pid = flock_holder(st);
	char path[64];
	snprintf(path, sizeof path, "/proc/%d", (int)pid);
	if (pid > 0 && access(path, F_OK) == 0) {
		char who[300];
		describe_pid(pid, who, sizeof who);
		report(dr, V_FAIL, "lock", "%s is held by pid %d (%s)", dr->device, (int)pid, who);
		fix("stop that program (kill %d) or let it finish: athttp waits up to 30 s for the "
		    "port, then gives up", (int)pid);
	} else {
		/* The locker is out of sight (another pid namespace) or gone,
		 * and a process it started inherited the lock. */
		char who[1024], gone[64] = "";
		device_openers(st, who, sizeof who);
		if (pid > 0)
			snprintf(gone, sizeof gone, " (taken by pid %d, which is gone)", (int)pid);
		report(dr, V_FAIL, "lock", "%s is locked by another process%s%s%s", dr->device, gone,
		       *who ? "; open by: " : "", who);
		fix("stop the program that holds it, or let it finish");
	}
	return false;
}

/* ------------------------------------------------------------ 4, 5: AT */

static bool port_open(struct doctor *dr, struct port *p, int baud, struct ath_error *err)
{
	struct transport_config tc = {
		.path = dr->device,
		.baud = baud,
		.lock_timeout_ms = 0,
		.record = record_part(dr, "the port at %d baud", baud),
	};
	ath_error_clear(err);
	p->tp = transport_open(&tc, err);
	if (!p->tp)
		return false;
	p->baud = baud;
	at_chat_init(&p->chat, p->tp, NULL, NULL);
	return true;
}

static void port_close(struct port *p)
{
	if (p->tp)
		p->tp->ops->close(p->tp);
	p->tp = NULL;
}

static bool known_rate(int baud)
{
	for (size_t i = 0; i < sizeof usual_rates / sizeof usual_rates[0]; i++)
		if (usual_rates[i] == baud)
			return true;
	for (size_t i = 0; i < sizeof fast_rates / sizeof fast_rates[0]; i++)
		if (fast_rates[i] == baud)
			return true;
	return false;
}

/* Check 4: leaves p open at the rate the module answers at. */
static bool check_baud(struct doctor *dr, struct port *p)
{
	int rates[1 + sizeof usual_rates / sizeof usual_rates[0]];
	size_t n = 0;
	rates[n++] = dr->baud;
	for (size_t i = 0; i < sizeof usual_rates / sizeof usual_rates[0]; i++)
		if (usual_rates[i] != dr->baud)
			rates[n++] = usual_rates[i];

	char tried[200] = "";
	for (size_t i = 0; i < n; i++) {
		struct ath_error err;
		if (!port_open(dr, p, rates[i], &err)) {
			report(dr, V_FAIL, "baud", "cannot open the port at %d baud: %s", rates[i], err.text);
			return false;
		}
		struct at_result r;
		at_chat_drain(&p->chat, 30, 100);
		enum ath_err e = at_chat_cmd(&p->chat, RATE_WAIT_MS, &r, "AT");
		if (e == ATH_OK && r.final == AT_FINAL_OK) {
			if (rates[i] == dr->baud) {
				report(dr, V_OK, "baud", "the module answers AT at %d baud", rates[i]);
			} else {
				report(dr, V_FAIL, "baud", "the module answers AT at %d baud, not at %d",
				       rates[i], dr->baud);
				fix("give athttp -b %d (ATHTTP_BAUD=%d), or set the module to %d baud "
				    "with AT+IPR=%d", rates[i], rates[i], dr->baud, dr->baud);
			}
			return true;
		}
		port_close(p);
		if (e == ATH_E_IO) {
			report(dr, V_FAIL, "baud", "the port failed at %d baud", rates[i]);
			return false;
		}
		size_t used = strlen(tried);
		snprintf(tried + used, sizeof tried - used, "%s%d", used ? " " : "", rates[i]);
	}
	report(dr, V_FAIL, "baud", "silence: no answer to AT at any rate (%s; %d ms each)", tried,
	       RATE_WAIT_MS);
	fix("is the module powered (its LED)?  Is this its AT port?  Many modules expose several "
	    "(ttyUSB0-3, ttyACM0-2): try the others with athttp doctor -d");
	return false;
}

struct raw_seen {
	char bytes[256];
	size_t len;
};

static void observe_raw(void *ctx, const void *data, size_t len)
{
	struct raw_seen *s = ctx;
	size_t room = sizeof s->bytes - 1 - s->len;
	if (len > room)
		len = room;
	memcpy(s->bytes + s->len, data, len);
	s->len += len;
	s->bytes[s->len] = '\0';
}

/* Check 5. */
static bool check_echo(struct doctor *dr, struct port *p)
{
	struct raw_seen seen = { .len = 0 };
	struct at_result r;
	at_chat_set_raw_observer(&p->chat, observe_raw, &seen);
	enum ath_err e = at_chat_cmd(&p->chat, PROBE_WAIT_MS, &r, "AT");
	at_chat_set_raw_observer(&p->chat, NULL, NULL);
	if (e != ATH_OK || r.final != AT_FINAL_OK) {
		report(dr, V_FAIL, "echo", "the module answered AT once, then %s", e == ATH_OK ? r.text
		       : "not again");
		fix("the line is unreliable: check the cable, the baud rate, flow control");
		return false;
	}
	if (memmem(seen.bytes, seen.len, "AT\r", 3))
		report(dr, V_OK, "echo", "on (the module repeats commands; athttp's bring-up turns "
		       "it off with ATE0)");
	else
		report(dr, V_OK, "echo", "off");
	return true;
}

/* ------------------------------------------------------------ 6: family */

/* Check 6: the family's name in family. */
static bool check_family(struct doctor *dr, struct port *p, char *family, size_t familylen)
{
	char model[300];
	int answered = identify_module(&p->chat, PROBE_WAIT_MS, model, sizeof model);
	if (answered > 0 && model[0])
		report(dr, V_OK, "module", "%s", model);
	else if (answered >= 0)
		report(dr, V_SKIP, "module", "the module does not say its model (ATI, AT+CGMM, AT+CGMR)");

	struct identify_probe pr[MAX_PROBES];
	char others[1200];
	if (dr->modem) {
		const struct dialect *d = dialect_find(dr->modem);
		struct identify_probe mine;
		identify_probe(&p->chat, d, PROBE_WAIT_MS, &mine);
		if (mine.answer == IDENTIFY_OK) {
			report(dr, V_OK, "family", "the module speaks %s (%s answered OK)", d->name,
			       d->identify_probe);
			snprintf(family, familylen, "%s", d->name);
			return true;
		}
		report(dr, V_FAIL, "family", "the module does not speak %s: %s answered %s", d->name,
		       d->identify_probe, identify_answer_words(&mine));
		size_t n = identify_families(&p->chat, PROBE_WAIT_MS, pr, MAX_PROBES);
		identify_list(pr, n, IDENTIFY_OK, true, others, sizeof others);
		if (*others)
			fix("it answers as %s: use -m with that family (or -m auto)", others);
		else
			fix("no family athttp knows answers its probe: does the firmware have an AT HTTP "
			    "command set?");
		return false;
	}

	size_t n = identify_families(&p->chat, PROBE_WAIT_MS, pr, MAX_PROBES);
	struct ath_error err;
	ath_error_clear(&err);
	char found[400];
	const struct dialect *d = identify_decide(pr, n, model, found, sizeof found, &err);
	if (!d && err.code == ATH_E_CONFIG) {
		/* Several answered: the doctor goes on with the first, saying so. */
		size_t first = 0;
		while (pr[first].answer != IDENTIFY_OK)
			first++;
		snprintf(family, familylen, "%s", pr[first].dialect->name);
		identify_list(pr, n, IDENTIFY_OK, true, others, sizeof others);
		report(dr, V_WARN, "family", "several families answer: %s; taking %s", others, family);
		fix("give -m MODEM with the one the module's manual names");
		return true;
	}
	if (!d) {
		identify_list(pr, n, IDENTIFY_OK, false, others, sizeof others);
		report(dr, V_FAIL, "family", "no family athttp knows answered its probe: %s", others);
		fix("the module may have no AT HTTP command set athttp speaks, or firmware without "
		    "it; see its AT manual");
		return false;
	}
	snprintf(family, familylen, "%s", d->name);
	identify_list(pr, n, IDENTIFY_OK, false, others, sizeof others);
	report(dr, V_OK, "family", "%s (%s answered OK; ruled out: %s)", family,
	       d->identify_probe, others);
	return true;
}

/* ------------------------------------------------------------ 7: network */

struct judged {
	enum verdict v;
	char text[200];
	char fix[200];
};

/* The numbers after the line's prefix ("+CREG: 0,1" gives 0 and 1). */
static int numbers(const char *line, int *v, int max)
{
	const char *p = strchr(line, ':');
	int n = 0;
	while (p && n < max) {
		p++;
		while (*p == ' ')
			p++;
		char *end;
		long x = strtol(p, &end, 10);
		if (end == p)
			break;
		v[n++] = (int)x;
		p = strchr(end, ',');
	}
	return n;
}

static void judge_sim(const char *line, struct judged *j)
{
	const char *state = strchr(line, ':');
	state = state ? state + 1 + strspn(state + 1, " ") : line;
	if (strcmp(state, "READY") == 0) {
		*j = (struct judged){ .v = V_OK };
		snprintf(j->text, sizeof j->text, "SIM ready");
		return;
	}
	*j = (struct judged){ .v = V_FAIL };
	snprintf(j->text, sizeof j->text, "the SIM is not ready: %s", state);
	if (strcmp(state, "SIM PIN") == 0)
		snprintf(j->fix, sizeof j->fix, "enter the PIN once (AT+CPIN=\"<pin>\") or remove "
			 "the SIM's PIN lock in a phone");
	else if (strcmp(state, "SIM PUK") == 0)
		snprintf(j->fix, sizeof j->fix, "the SIM is blocked: unblock it with its PUK in a phone");
	else
		snprintf(j->fix, sizeof j->fix, "see the module's manual, AT+CPIN");
}

static void judge_registration(const char *line, struct judged *j)
{
	/* 3GPP TS 27.007 +CREG / +CEREG <stat>. */
	static const struct { enum verdict v; const char *text; const char *fix; } stats[] = {
		{ V_FAIL, "not registered, not searching", "AT+COPS=0 starts automatic operator "
		  "selection; check the antenna and the SIM's plan" },
		{ V_OK, "registered (home network)", "" },
		{ V_WARN, "searching for a network", "wait a minute; check the antenna and coverage" },
		{ V_FAIL, "registration denied", "the network refuses the SIM: check its plan with "
		  "the operator" },
		{ V_WARN, "registration state unknown", "wait a minute; check the antenna" },
		{ V_OK, "registered (roaming)", "" },
	};
	int v[4];
	int n = numbers(line, v, 4);
	int stat = n >= 2 ? v[1] : -1;
	if (stat < 0 || stat >= (int)(sizeof stats / sizeof stats[0])) {
		*j = (struct judged){ .v = V_WARN };
		snprintf(j->text, sizeof j->text, "cannot read %s", line);
		return;
	}
	*j = (struct judged){ .v = stats[stat].v };
	snprintf(j->text, sizeof j->text, "%s (%s)", stats[stat].text, line);
	snprintf(j->fix, sizeof j->fix, "%s", stats[stat].fix);
}

static void judge_signal(const char *line, struct judged *j)
{
	int v[2];
	if (numbers(line, v, 2) < 1 || v[0] < 0 || (v[0] > 31 && v[0] != 99)) {
		*j = (struct judged){ .v = V_WARN };
		snprintf(j->text, sizeof j->text, "cannot read %s", line);
		return;
	}
	if (v[0] == 99) {
		*j = (struct judged){ .v = V_FAIL };
		snprintf(j->text, sizeof j->text, "no signal (%s)", line);
		snprintf(j->fix, sizeof j->fix, "check the antenna and its cable");
		return;
	}
	/* 3GPP TS 27.007 +CSQ: -113 dBm + 2 dB a step. */
	int dbm = -113 + 2 * v[0];
	*j = (struct judged){ .v = v[0] < 10 ? V_WARN : V_OK };
	snprintf(j->text, sizeof j->text, "%s%d dBm (%s)", v[0] < 10 ? "weak, " : "", dbm, line);
	if (v[0] < 10)
		snprintf(j->fix, sizeof j->fix, "a better antenna or place");
}

static void judge_wifi(const char *line, struct judged *j)
{
	if (strncmp(line, "+CWJAP:", 7) == 0) {
		*j = (struct judged){ .v = V_OK };
		snprintf(j->text, sizeof j->text, "connected (%s)", line);
		return;
	}
	*j = (struct judged){ .v = V_FAIL };
	snprintf(j->text, sizeof j->text, "not connected to an access point (%s)",
		 *line ? line : "no +CWJAP line");
	snprintf(j->fix, sizeof j->fix, "join one: AT+CWJAP=\"<ssid>\",\"<password>\"");
}

/* Where a family has them; a module that refuses a command does not have
 * it (skip, not FAIL).  fallback: asked when the first answer is not ok
 * (an LTE-only module registers on EPS, not CS). */
static const struct network_check {
	const char *check;
	const char *command;
	const char *fallback;
	void (*judge)(const char *line, struct judged *j);
} network_checks[] = {
	{ "sim", "AT+CPIN?", NULL, judge_sim },
	{ "registration", "AT+CREG?", "AT+CEREG?", judge_registration },
	{ "signal", "AT+CSQ", NULL, judge_signal },
	{ "wifi", "AT+CWJAP?", NULL, judge_wifi },
};

/* 3GPP TS 27.007 +CME ERROR codes that say something about the SIM. */
static const struct { int code; const char *text; } sim_errors[] = {
	{ 10, "no SIM inserted" },
	{ 13, "SIM failure" },
	{ 15, "wrong SIM" },
};

/* Sends command; false when the module does not have it (reported). */
static bool ask(struct port *p, const char *command, struct at_result *r, char *line, size_t len)
{
	at_chat_clear_queue(&p->chat);
	enum ath_err e = at_chat_cmd(&p->chat, PROBE_WAIT_MS, r, "%s", command);
	line[0] = '\0';
	if (e != ATH_OK) {
		r->final = AT_FINAL_NONE;
		return false;
	}
	const char *prefix_end = strpbrk(command + 2, "?=");
	char prefix[32];
	snprintf(prefix, sizeof prefix, "%.*s:", (int)(prefix_end ? prefix_end - command - 2
						 : (long)strlen(command + 2)), command + 2);
	if (!at_chat_take_line(&p->chat, prefix, line, len))
		at_chat_take_line(&p->chat, "", line, len);
	at_chat_clear_queue(&p->chat);
	return r->final == AT_FINAL_OK;
}

static void check_network(struct doctor *dr, struct port *p)
{
	for (size_t i = 0; i < sizeof network_checks / sizeof network_checks[0]; i++) {
		const struct network_check *c = &network_checks[i];
		struct at_result r;
		char line[AT_LINE_MAX + 1];
		struct judged j;
		if (!ask(p, c->command, &r, line, sizeof line)) {
			bool sim_error = false;
			for (size_t k = 0; c->judge == judge_sim && r.final == AT_FINAL_CME &&
			     k < sizeof sim_errors / sizeof sim_errors[0]; k++)
				if (sim_errors[k].code == r.code) {
					report(dr, V_FAIL, c->check, "%s (%s)", sim_errors[k].text, r.text);
					fix("insert a working SIM (with the module powered off)");
					sim_error = true;
				}
			if (!sim_error)
				report(dr, V_SKIP, c->check, "the module does not answer %s%s%s", c->command,
				       r.final == AT_FINAL_NONE ? "" : ": ",
				       r.final == AT_FINAL_NONE ? "" : r.text);
			continue;
		}
		c->judge(line, &j);
		if (j.v != V_OK && c->fallback) {
			struct judged j2;
			if (ask(p, c->fallback, &r, line, sizeof line)) {
				c->judge(line, &j2);
				if (j2.v == V_OK)
					j = j2;
			}
		}
		report(dr, j.v, c->check, "%s", j.text);
		if (j.v != V_OK && j.fix[0])
			fix("%s", j.fix);
	}
}

/* ------------------------------------------------------------ 8, 9: engine */

struct fetched {
	int status;
	char reason[64];
	long long bytes;
	mbedtls_sha256_context sha;
};

static int on_head(void *ctx, int status, const char *reason, const char *headers,
		   size_t headers_len, long long content_length, int synthesized)
{
	struct fetched *f = ctx;
	f->status = status;
	snprintf(f->reason, sizeof f->reason, "%s", reason ? reason : "");
	return 0;
}

static int on_body(void *ctx, const void *data, size_t len)
{
	struct fetched *f = ctx;
	f->bytes += (long long)len;
	mbedtls_sha256_update_ret(&f->sha, data, len);
	return 0;
}

static void check_request(struct doctor *dr, athttp_modem *m)
{
	struct fetched f = { .status = 0 };
	mbedtls_sha256_init(&f.sha);
	mbedtls_sha256_starts_ret(&f.sha, 0);
	struct athttp_request rq = { .method = "GET", .url = dr->url };
	struct athttp_response_cb cb = { on_head, on_body, &f };
	char err[512];
	int rc = athttp_request(m, &rq, &cb, err, sizeof err);
	unsigned char sum[32];
	mbedtls_sha256_finish_ret(&f.sha, sum);
	mbedtls_sha256_free(&f.sha);
	if (rc != 0) {
		report(dr, V_FAIL, "request", "GET %s: %s", dr->url, err);
		fix("the module's HTTP service is up: the failure is on its network side or the "
		    "server's (the status and the module's code are above)");
		return;
	}
	char hex[65];
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	report(dr, V_OK, "request", "GET %s: %d %s, %lld bytes, sha256 %s", dr->url, f.status,
	       f.reason, f.bytes, hex);
}

/* Checks 8 and 9, through the engine as athttp runs it. */
static void check_service(struct doctor *dr, const char *family, int baud)
{
	struct athttp_config cfg;
	athttp_config_from_env(&cfg); /* the https settings, ATHTTP_TRACE */
	cfg.device = dr->device;
	cfg.modem = family;
	cfg.baud = baud;
	cfg.record = record_part(dr, "athttp's bring-up%s as %s", dr->url ? " and request" : "",
				 family);
	cfg.replay_pace = 0;
	cfg.timeout_ms = REQUEST_TIMEOUT_MS;
	char why[400];
	athttp_modem *m = athttp_open(&cfg, why, sizeof why);
	if (!m) {
		report(dr, V_FAIL, "service", "%s", why);
		return;
	}
	struct ath_error err;
	ath_error_clear(&err);
	if (modem_bringup_check(m, &err) != ATH_OK) {
		report(dr, V_FAIL, "service", "the %s bring-up failed: %s", family, err.text);
		fix("the module answers AT but its HTTP service does not start: see the failed "
		    "command in the module's manual (--record FILE keeps the conversation)");
		athttp_close(m);
		return;
	}
	report(dr, V_OK, "service", "the %s bring-up ran: the HTTP service is up", family);
	if (dr->url)
		check_request(dr, m);
	athttp_close(m);
}

/* ------------------------------------------------------------ main */

static int run(struct doctor *dr)
{
	struct stat st;
	int fd = check_device(dr, &st);
	if (fd < 0 || !check_lock(dr, fd, &st))
		return 1;
	struct port p = { .tp = NULL };
	char family[32];
	if (!check_baud(dr, &p))
		return 1;
	int baud = p.baud;
	bool go = check_echo(dr, &p) && check_family(dr, &p, family, sizeof family);
	if (go)
		check_network(dr, &p);
	port_close(&p);
	if (go)
		check_service(dr, family, baud);
	return dr->failed;
}

int doctor_main(int argc, char **argv, void (*help)(FILE *out), void (*short_help)(void))
{
	enum { OPT_RECORD = 256 };
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "modem", required_argument, NULL, 'm' },
		{ "baud", required_argument, NULL, 'b' },
		{ "record", required_argument, NULL, OPT_RECORD },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static char prog[] = "athttp doctor"; /* for getopt's messages */
	struct doctor *dr = calloc(1, sizeof *dr);
	const char *modem = "auto", *baud = NULL;
	int c, rc = EXIT_USAGE;
	if (!dr) {
		fputs("athttp doctor: out of memory\n", stderr);
		return 1;
	}
	argv[0] = prog;
	while ((c = getopt_long(argc, argv, "d:m:b:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': dr->device = optarg; break;
		case 'm': modem = optarg; break;
		case 'b': baud = optarg; break;
		case OPT_RECORD: dr->record = optarg; break;
		case 'h':
			help(stdout);
			rc = 0;
			goto out;
		default:
			short_help();
			goto out;
		}
	}
	const char *why = NULL;
	if (!dr->device)
		dr->device = getenv("ATHTTP_DEVICE");
	if (!baud)
		baud = getenv("ATHTTP_BAUD");
	dr->baud = DEFAULT_BAUD;
	if (optind < argc)
		dr->url = argv[optind++];
	if (optind < argc)
		why = "doctor takes one URL at most";
	else if (!dr->device || !*dr->device)
		why = "no device given: use -d DEVICE or set ATHTTP_DEVICE";
	else if (strncmp(dr->device, "replay:", 7) == 0)
		why = "the doctor checks a module, not a transcript";
	else if (strcmp(modem, "auto") != 0 && !dialect_find(modem))
		why = "unknown modem (athttp --help lists them, or -m auto)";
	else if (baud && *baud && (!cli_positive_int(baud, &dr->baud) || !known_rate(dr->baud)))
		why = "the baud rate must be one of 9600 19200 38400 57600 115200 230400 460800 "
		      "921600 1000000 2000000 3000000 4000000";
	else if (dr->url && strncmp(dr->url, "http://", 7) != 0 && strncmp(dr->url, "https://", 8) != 0)
		why = "the URL must start with http:// or https://";
	else if (dr->record && !*dr->record)
		why = "--record needs a file";
	if (why) {
		fprintf(stderr, "athttp doctor: %s\n", why);
		short_help();
		goto out;
	}
	dr->modem = strcmp(modem, "auto") == 0 ? NULL : modem;
	rc = run(dr);
	record_join(dr);
out:
	free(dr);
	return rc;
}
