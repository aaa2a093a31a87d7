/* The table of fds we took over; see fdtable.h. */
#include "fdtable.h"

#include <errno.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define FDT_NOPTS 8

struct fdt_opt {
	int level, name;
	socklen_t len;
	unsigned char val[FDT_OPT_MAX];
};

struct fdt_entry {
	struct fd_app app;        /* for FD_ENGINE only app.id is used */
	unsigned nopts;
	struct fdt_opt opts[FDT_NOPTS];
};

struct fdt_page *_Atomic fdt_pages[FDT_NPAGES];

/* Guards every change, and reading entries.  Never held across anything
 * slower than a malloc. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static struct fdt_page *page_of(unsigned fd, bool create)
{
	unsigned pi = fd >> FDT_PAGE_BITS;
	struct fdt_page *page = atomic_load_explicit(&fdt_pages[pi], memory_order_relaxed);
	if (!page && create) {
		page = calloc(1, sizeof *page);
		if (page)
			atomic_store_explicit(&fdt_pages[pi], page, memory_order_release);
	}
	return page;
}

#define SLOT(fd) ((unsigned)(fd) & (FDT_PAGE_SIZE - 1))

static bool same_ident(const struct fd_ident *a, const struct fd_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino;
}

/* Both with the lock held. */
static void drop_locked(struct fdt_page *page, unsigned slot)
{
	atomic_store_explicit(&page->kind[slot], FD_NONE, memory_order_relaxed);
	free(page->entry[slot]);
	page->entry[slot] = NULL;
}

static int set_locked(int fd, enum fd_kind kind, const struct fdt_entry *src)
{
	if (fd < 0 || (unsigned)fd >= FDT_MAX_FD) {
		errno = EBADF;
		return -1;
	}
	struct fdt_page *page = page_of((unsigned)fd, true);
	struct fdt_entry *e = page ? malloc(sizeof *e) : NULL;
	if (!e) {
		/* Leave no stale record under the new socket. */
		if (page)
			drop_locked(page, SLOT(fd));
		errno = ENOMEM;
		return -1;
	}
	*e = *src;
	free(page->entry[SLOT(fd)]);
	page->entry[SLOT(fd)] = e;
	atomic_store_explicit(&page->kind[SLOT(fd)], (unsigned char)kind, memory_order_release);
	return 0;
}

int fdtable_set_app(int fd, const struct fd_app *app)
{
	struct fdt_entry e;
	memset(&e, 0, sizeof e);
	e.app = *app;
	pthread_mutex_lock(&lock);
	int rc = set_locked(fd, FD_APP, &e);
	pthread_mutex_unlock(&lock);
	return rc;
}

int fdtable_set_private(int fd, const struct fd_ident *id)
{
	struct fdt_entry e;
	memset(&e, 0, sizeof e);
	e.app.id = *id;
	pthread_mutex_lock(&lock);
	int rc = set_locked(fd, FD_PRIVATE, &e);
	pthread_mutex_unlock(&lock);
	return rc;
}

int fdtable_next_kept(unsigned from, unsigned last, struct fd_ident *id)
{
	if (last >= FDT_MAX_FD)
		last = FDT_MAX_FD - 1;
	for (unsigned fd = from; fd <= last; fd++) {
		struct fdt_page *page = atomic_load_explicit(&fdt_pages[fd >> FDT_PAGE_BITS],
							     memory_order_acquire);
		if (!page) {
			/* Skip the missing page at once. */
			fd |= FDT_PAGE_SIZE - 1;
			continue;
		}
		unsigned char k = atomic_load_explicit(&page->kind[SLOT(fd)], memory_order_acquire);
		if (k != FD_ENGINE && k != FD_PRIVATE)
			continue;
		bool kept = false;
		pthread_mutex_lock(&lock);
		k = atomic_load_explicit(&page->kind[SLOT(fd)], memory_order_relaxed);
		if ((k == FD_ENGINE || k == FD_PRIVATE) && page->entry[SLOT(fd)]) {
			*id = page->entry[SLOT(fd)]->app.id;
			kept = true;
		}
		pthread_mutex_unlock(&lock);
		if (kept)
			return (int)fd;
	}
	return -1;
}

int fdtable_set_engine(int fd, const struct fd_ident *id)
{
	struct fdt_entry e;
	memset(&e, 0, sizeof e);
	e.app.id = *id;
	pthread_mutex_lock(&lock);
	int rc = set_locked(fd, FD_ENGINE, &e);
	pthread_mutex_unlock(&lock);
	return rc;
}

/* The live FD_APP entry of fd for id, dropping a stale one; lock held. */
static struct fdt_entry *app_locked(int fd, const struct fd_ident *id)
{
	if (fd < 0 || (unsigned)fd >= FDT_MAX_FD)
		return NULL;
	struct fdt_page *page = page_of((unsigned)fd, false);
	if (!page || atomic_load_explicit(&page->kind[SLOT(fd)], memory_order_relaxed) != FD_APP)
		return NULL;
	struct fdt_entry *e = page->entry[SLOT(fd)];
	if (!same_ident(&e->app.id, id)) {
		drop_locked(page, SLOT(fd));
		return NULL;
	}
	return e;
}

bool fdtable_get_app(int fd, const struct fd_ident *id, struct fd_app *out)
{
	pthread_mutex_lock(&lock);
	struct fdt_entry *e = app_locked(fd, id);
	if (e && out)
		*out = e->app;
	pthread_mutex_unlock(&lock);
	return e != NULL;
}

void fdtable_drop(int fd)
{
	if (fd < 0 || (unsigned)fd >= FDT_MAX_FD)
		return;
	pthread_mutex_lock(&lock);
	struct fdt_page *page = page_of((unsigned)fd, false);
	if (page)
		drop_locked(page, SLOT(fd));
	pthread_mutex_unlock(&lock);
}

void fdtable_drop_engine_if(int fd, const struct fd_ident *id)
{
	if (fd < 0 || (unsigned)fd >= FDT_MAX_FD)
		return;
	pthread_mutex_lock(&lock);
	struct fdt_page *page = page_of((unsigned)fd, false);
	if (page && atomic_load_explicit(&page->kind[SLOT(fd)], memory_order_relaxed) == FD_ENGINE &&
	    same_ident(&page->entry[SLOT(fd)]->app.id, id))
		drop_locked(page, SLOT(fd));
	pthread_mutex_unlock(&lock);
}

void fdtable_drop_range(unsigned first, unsigned last)
{
	if (first > last || first >= FDT_MAX_FD)
		return;
	if (last >= FDT_MAX_FD)
		last = FDT_MAX_FD - 1;
	pthread_mutex_lock(&lock);
	for (unsigned pi = first >> FDT_PAGE_BITS; pi <= last >> FDT_PAGE_BITS; pi++) {
		struct fdt_page *page = page_of(pi << FDT_PAGE_BITS, false);
		if (!page)
			continue;
		unsigned lo = pi == first >> FDT_PAGE_BITS ? SLOT(first) : 0;
		unsigned hi = pi == last >> FDT_PAGE_BITS ? SLOT(last) : FDT_PAGE_SIZE - 1;
		for (unsigned s = lo; s <= hi; s++)
			if (atomic_load_explicit(&page->kind[s], memory_order_relaxed) != FD_NONE)
				drop_locked(page, s);
	}
	pthread_mutex_unlock(&lock);
}

void fdtable_dup(int from, int to)
{
	if (to < 0 || (unsigned)to >= FDT_MAX_FD || from == to)
		return;
	pthread_mutex_lock(&lock);
	struct fdt_page *fpage = from >= 0 && (unsigned)from < FDT_MAX_FD ? page_of((unsigned)from, false) : NULL;
	if (fpage && atomic_load_explicit(&fpage->kind[SLOT(from)], memory_order_relaxed) == FD_APP) {
		struct fdt_entry copy = *fpage->entry[SLOT(from)];
		set_locked(to, FD_APP, &copy);
	} else {
		struct fdt_page *tpage = page_of((unsigned)to, false);
		if (tpage)
			drop_locked(tpage, SLOT(to));
	}
	pthread_mutex_unlock(&lock);
}

static struct fdt_opt *find_opt(struct fdt_entry *e, int level, int name)
{
	for (unsigned i = 0; i < e->nopts; i++)
		if (e->opts[i].level == level && e->opts[i].name == name)
			return &e->opts[i];
	return NULL;
}

int fdtable_setopt(int fd, const struct fd_ident *id, int level, int name,
		   const void *val, socklen_t len)
{
	int rc = -1;
	pthread_mutex_lock(&lock);
	struct fdt_entry *e = app_locked(fd, id);
	if (e) {
		rc = 0;
		struct fdt_opt *o = find_opt(e, level, name);
		if (!o && e->nopts < FDT_NOPTS && len <= FDT_OPT_MAX)
			o = &e->opts[e->nopts++];
		if (o && len <= FDT_OPT_MAX) {
			o->level = level;
			o->name = name;
			o->len = len;
			if (len)
				memcpy(o->val, val, len);
		} else if (o) {
			/* Too long to keep: forget the old value rather than
			 * report it later. */
			*o = e->opts[--e->nopts];
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

int fdtable_getopt(int fd, const struct fd_ident *id, int level, int name,
		   void *val, socklen_t *len)
{
	int rc = -1;
	pthread_mutex_lock(&lock);
	struct fdt_entry *e = app_locked(fd, id);
	if (e) {
		struct fdt_opt *o = find_opt(e, level, name);
		rc = 0;
		if (o) {
			socklen_t n = o->len < *len ? o->len : *len;
			memcpy(val, o->val, n);
			*len = n;
			rc = 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

void fdtable_drain_engines(void (*fn)(int fd, const struct fd_ident *id, void *ctx), void *ctx)
{
	pthread_mutex_lock(&lock);
	for (unsigned pi = 0; pi < FDT_NPAGES; pi++) {
		struct fdt_page *page = page_of(pi << FDT_PAGE_BITS, false);
		if (!page)
			continue;
		for (unsigned s = 0; s < FDT_PAGE_SIZE; s++) {
			if (atomic_load_explicit(&page->kind[s], memory_order_relaxed) != FD_ENGINE)
				continue;
			struct fd_ident id = page->entry[s]->app.id;
			drop_locked(page, s);
			fn((int)(pi << FDT_PAGE_BITS | s), &id, ctx);
		}
	}
	pthread_mutex_unlock(&lock);
}

/* The process the table describes: the one that loaded us, then each
 * fork() child.  getpid() is a system call on glibc >= 2.25 (no cached
 * value), so a vfork child sees its own. */
static _Atomic pid_t owner_pid;

__attribute__((constructor)) static void note_owner(void)
{
	atomic_store(&owner_pid, getpid());
}

bool fdtable_owns_process(void)
{
	pid_t owner = atomic_load(&owner_pid);
	return owner == 0 || owner == getpid();
}

void fdtable_fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

void fdtable_fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

void fdtable_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	atomic_store(&owner_pid, getpid());
}

void fdtable_reset(void)
{
	pthread_mutex_lock(&lock);
	for (unsigned pi = 0; pi < FDT_NPAGES; pi++) {
		struct fdt_page *page = page_of(pi << FDT_PAGE_BITS, false);
		if (!page)
			continue;
		for (unsigned s = 0; s < FDT_PAGE_SIZE; s++)
			free(page->entry[s]);
		atomic_store_explicit(&fdt_pages[pi], NULL, memory_order_relaxed);
		free(page);
	}
	pthread_mutex_unlock(&lock);
}
