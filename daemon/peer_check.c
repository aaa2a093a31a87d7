/* Who may use the daemon's socket: SO_PEERCRED's uid and gid against
 * allow_users and allow_groups. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "athttpd.h"

/* A number is an id as it is; a name is looked up now (at start and at
 * SIGHUP), so a name that does not exist is an error the admin sees. */
static int resolve(const char *word, bool group, unsigned long *id)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(word, &end, 10);
	if (*word && !*end && !errno) {
		*id = v;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(word);
		if (!g)
			return -1;
		*id = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(word);
		if (!p)
			return -1;
		*id = p->pw_uid;
	}
	return 0;
}

static int parse_one(const char *list, bool group, void **out, size_t *n, char *err, size_t errlen)
{
	*out = NULL;
	*n = 0;
	if (!list || !*list)
		return 0;
	char *copy = strdup(list);
	size_t cap = 1;
	for (const char *p = list; *p; p++)
		cap += *p == ',';
	unsigned long *ids = calloc(cap, sizeof *ids);
	if (!copy || !ids) {
		snprintf(err, errlen, "out of memory");
		free(copy);
		free(ids);
		return -1;
	}
	char *save = NULL;
	for (char *w = strtok_r(copy, ", \t", &save); w; w = strtok_r(NULL, ", \t", &save)) {
		if (resolve(w, group, &ids[*n]) != 0) {
			snprintf(err, errlen, "%s: no such %s '%s'", group ? "allow_groups" : "allow_users",
				 group ? "group" : "user", w);
			free(copy);
			free(ids);
			*n = 0;
			return -1;
		}
		(*n)++;
	}
	free(copy);
	if (group) {
		gid_t *g = calloc(*n ? *n : 1, sizeof *g);
		for (size_t i = 0; g && i < *n; i++)
			g[i] = (gid_t)ids[i];
		*out = g;
	} else {
		uid_t *u = calloc(*n ? *n : 1, sizeof *u);
		for (size_t i = 0; u && i < *n; i++)
			u[i] = (uid_t)ids[i];
		*out = u;
	}
	free(ids);
	if (!*out) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int allow_list_parse(struct allow_list *al, const char *users, const char *groups, char *err,
		     size_t errlen)
{
	*al = (struct allow_list){ 0 };
	void *u, *g;
	if (parse_one(users, false, &u, &al->n_uids, err, errlen) != 0)
		return -1;
	if (parse_one(groups, true, &g, &al->n_gids, err, errlen) != 0) {
		free(u);
		return -1;
	}
	al->uids = u;
	al->gids = g;
	return 0;
}

void allow_list_free(struct allow_list *al)
{
	free(al->uids);
	free(al->gids);
	*al = (struct allow_list){ 0 };
}

static bool in_group(const struct allow_list *al, gid_t gid)
{
	for (size_t i = 0; i < al->n_gids; i++)
		if (al->gids[i] == gid)
			return true;
	return false;
}

bool allow_list_permits(const struct allow_list *al, uid_t uid, gid_t gid)
{
	if (uid == 0 || uid == geteuid())
		return true;
	for (size_t i = 0; i < al->n_uids; i++)
		if (al->uids[i] == uid)
			return true;
	if (!al->n_gids)
		return false;
	if (in_group(al, gid))
		return true;
	/* The user's other groups, as the group file says (SO_PEERCRED
	 * carries only the primary one). */
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) != 0 || !res)
		return false;
	gid_t groups[256];
	int ng = 256;
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ng) < 0)
		ng = 256;
	for (int i = 0; i < ng; i++)
		if (in_group(al, groups[i]))
			return true;
	return false;
}
