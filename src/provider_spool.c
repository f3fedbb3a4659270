/*
 * provider_spool.c — the embedded provider: one file per SMS in two
 * directories (SPEC.md, "Spool provider").
 *
 * Inbound: regular files in `inbox` whose names do not start with '.'
 * (writers create a dot-name and rename it into place), oldest first by
 * modification time. Header lines "Name: value" up to the first empty
 * line, then the body; `Type: missed-call` (no body) is a call nobody
 * answered, from a phone system. The provider id is the `Id:` header when present,
 * else "file:" with the file's inode, modification time, size and name, so
 * a file read again after a crash (committed but not yet moved) is
 * recognised as a duplicate.
 * After the commit, ack() moves each file to inbox/done/ (defective ones
 * to inbox/bad/). Files that cannot be read at all go to inbox/bad/ at
 * once, with a log line: they never reach the database.
 *
 * Outbound: "<outbox row id>.sms" in `outbox`, written as ".<id>.sms.tmp"
 * and renamed into place, so a send repeated after a crash replaces the
 * file instead of adding a second one.
 *
 * Woken by inotify (IN_MOVED_TO, IN_CLOSE_WRITE): a dropped file is seen
 * at once, not at the next poll.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#include "log.h"
#include "provider.h"
#include "text.h"
#include "util.h"

#define SPOOL_MAX_FILE (64 * 1024)   /* bytes read from one inbound file */
#define SPOOL_MAX_HEADER 1024        /* bytes in one header line */

struct spool_entry {
	char *name;
	struct timespec mtime;
};

struct spool {
	struct provider base;
	char *inbox;
	char *outbox;
	int in_fd, done_fd, bad_fd, out_fd;
	sd_event_source *watch;
	provider_wake_cb wake;
	void *wake_ud;
	/* names from the last directory scan not yet handed out */
	struct spool_entry *list;
	size_t n_list, pos;
};

static struct spool *to_spool(struct provider *p)
{
	return (struct spool *)p;
}

/* mkdir -p path (relative to at), 0750 for what it creates. */
static int make_dirs(int at, const char *path)
{
	char buf[4096];

	if (str_copy(buf, sizeof(buf), path) < 0)
		return -ENAMETOOLONG;
	for (char *p = buf + 1; ; p++) {
		bool end = *p == '\0';

		if (*p != '/' && !end)
			continue;
		*p = '\0';
		if (mkdirat(at, buf, 0750) < 0 && errno != EEXIST)
			return -errno;
		if (end)
			return 0;
		*p = '/';
	}
}

static int open_dir(int at, const char *path, bool create)
{
	int fd, r;

	if (create && (r = make_dirs(at, path)) < 0)
		return r;
	fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static void spool_list_clear(struct spool *sp)
{
	for (size_t i = sp->pos; i < sp->n_list; i++)
		free(sp->list[i].name);
	free(sp->list);
	sp->list = NULL;
	sp->n_list = sp->pos = 0;
}

static void spool_close(struct provider *p)
{
	struct spool *sp = to_spool(p);

	if (!sp)
		return;
	sd_event_source_disable_unref(sp->watch);
	spool_list_clear(sp);
	if (sp->in_fd >= 0)
		close(sp->in_fd);
	if (sp->done_fd >= 0)
		close(sp->done_fd);
	if (sp->bad_fd >= 0)
		close(sp->bad_fd);
	if (sp->out_fd >= 0)
		close(sp->out_fd);
	free(sp->inbox);
	free(sp->outbox);
	free(sp);
}

static int spool_open(const struct provider_config *cfg, struct provider **ret, char *err,
		      size_t errsize)
{
	struct spool *sp;
	int r;

	if (!cfg->inbox || !cfg->outbox) {
		snprintf(err, errsize, "spool provider needs inbox and outbox");
		return -EINVAL;
	}
	sp = xcalloc(1, sizeof(*sp));
	sp->base.ops = &provider_spool_ops;
	sp->in_fd = sp->done_fd = sp->bad_fd = sp->out_fd = -1;
	sp->inbox = xstrdup(cfg->inbox);
	sp->outbox = xstrdup(cfg->outbox);

	r = sp->in_fd = open_dir(AT_FDCWD, cfg->inbox, true);
	if (r >= 0)
		r = sp->done_fd = open_dir(sp->in_fd, "done", true);
	if (r >= 0)
		r = sp->bad_fd = open_dir(sp->in_fd, "bad", true);
	if (r < 0) {
		snprintf(err, errsize, "spool inbox %s: %s", cfg->inbox, strerror(-r));
		goto err;
	}
	r = sp->out_fd = open_dir(AT_FDCWD, cfg->outbox, true);
	if (r < 0) {
		snprintf(err, errsize, "spool outbox %s: %s", cfg->outbox, strerror(-r));
		goto err;
	}
	*ret = &sp->base;
	return 0;
err:
	spool_close(&sp->base);
	return r;
}

static int spool_on_inotify(sd_event_source *s, const struct inotify_event *ev, void *ud)
{
	struct spool *sp = ud;

	if (ev->mask & IN_Q_OVERFLOW || (ev->len > 0 && ev->name[0] != '.'))
		sp->wake(sp->wake_ud);
	if (ev->mask & IN_IGNORED)
		log_error("spool inbox %s was removed; no longer watching it", sp->inbox);
	return 0;
}

static int spool_attach(struct provider *p, sd_event *e, provider_wake_cb wake, void *ud)
{
	struct spool *sp = to_spool(p);

	sp->wake = wake;
	sp->wake_ud = ud;
	return sd_event_add_inotify(e, &sp->watch, sp->inbox,
				    IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR, spool_on_inotify, sp);
}

static int entry_cmp(const void *a, const void *b)
{
	const struct spool_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Read the inbox directory into sp->list, oldest first. */
static int spool_scan(struct spool *sp)
{
	size_t cap = 0;
	struct dirent *de;
	DIR *d;
	int fd;

	spool_list_clear(sp);
	fd = dup(sp->in_fd);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (de->d_type != DT_REG && de->d_type != DT_UNKNOWN && de->d_type != DT_LNK)
			continue;   /* done/, bad/ and other directories */
		if (fstatat(sp->in_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			continue;
		if (sp->n_list == cap) {
			cap = cap ? cap * 2 : 64;
			sp->list = xrealloc(sp->list, cap * sizeof(*sp->list));
		}
		sp->list[sp->n_list++] = (struct spool_entry){ xstrdup(de->d_name), st.st_mtim };
	}
	closedir(d);
	if (sp->n_list)
		qsort(sp->list, sp->n_list, sizeof(*sp->list), entry_cmp);
	return 0;
}

static int move_into(struct spool *sp, const char *name, int dir_fd)
{
	char alt[512];

	if (renameat2(sp->in_fd, name, dir_fd, name, RENAME_NOREPLACE) == 0)
		return 0;
	for (int i = 1; errno == EEXIST && i < 1000; i++) {
		snprintf(alt, sizeof(alt), "%s.%d", name, i);
		if (renameat2(sp->in_fd, name, dir_fd, alt, RENAME_NOREPLACE) == 0)
			return 0;
	}
	return -errno;
}

/*
 * Move name from the inbox into its subdirectory sub ("done" or "bad"),
 * never overwriting an older file. If the subdirectory was removed (an
 * operator cleaning up), it is made and opened again. -ENOENT only when
 * the file itself is gone.
 */
static int spool_move(struct spool *sp, const char *name, const char *sub)
{
	int *fd = strcmp(sub, "done") == 0 ? &sp->done_fd : &sp->bad_fd;
	struct stat st;
	int r = move_into(sp, name, *fd), nfd;

	if (r != -ENOENT || fstatat(sp->in_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return r;
	nfd = open_dir(sp->in_fd, sub, true);
	if (nfd < 0)
		return nfd;
	close(*fd);
	*fd = nfd;
	return move_into(sp, name, *fd);
}

static void spool_reject(struct spool *sp, const char *name, const char *why)
{
	char esc[300];
	int r = spool_move(sp, name, "bad");

	text_escape(name, esc, sizeof(esc));
	if (r < 0)
		log_error("spool: %s/%s: %s; cannot move it to bad/: %s", sp->inbox, esc, why,
			  strerror(-r));
	else
		log_warn("spool: %s/%s: %s; moved to %s/bad/", sp->inbox, esc, why, sp->inbox);
}

/*
 * The id of a file without an Id: header: its inode, modification time
 * and size, then its name. A file read again after a crash (committed,
 * not yet moved to done/) is the same inode with the same time and size,
 * so it is recognised; two different files all but never share all four,
 * even with the same name and content (a resident may well send the same
 * text twice). No content hash: the spool needs no libcrypto.
 */
static char *file_id(const char *name, const struct stat *st)
{
	return xasprintf("file:%ju-%lld.%09ld-%lld:%s", (uintmax_t)st->st_ino,
			 (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec,
			 (long long)st->st_size, name);
}

/* "Received:" as epoch seconds or ISO 8601 local/UTC; 0 if unparsable. */
static int64_t parse_received(const char *v)
{
	struct tm tm = { 0 };
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (!errno && end != v && *end == '\0' && n > 0)
		return n;
	end = strptime(v, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		end = strptime(v, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end)
		return 0;
	if (*end == 'Z' && end[1] == '\0')
		return (int64_t)timegm(&tm);
	if (*end == '\0') {
		tm.tm_isdst = -1;
		return (int64_t)mktime(&tm);
	}
	return 0;
}

/* len bytes of p as a NUL-terminated heap string; embedded NULs are kept. */
static char *memdup0(const char *p, size_t len)
{
	char *d = xmalloc(len + 1);

	memcpy(d, p, len);
	d[len] = '\0';
	return d;
}

/*
 * Split buf into headers and body. Fills from/id/received in m; sets
 * m->error for a defective file. The body is everything after the first
 * empty line (or the whole file when the header section is malformed).
 */
static void spool_parse(char *buf, size_t len, struct provider_msg *m)
{
	char *p = buf, *end = buf + len;
	int line = 0;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		char *colon, *v;
		size_t n = (size_t)(eol - p);

		line++;
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n == 0) {   /* the empty line: the body follows */
			p = nl ? nl + 1 : end;
			m->body = memdup0(p, (size_t)(end - p));
			m->body_len = (size_t)(end - p);
			goto check;
		}
		colon = memchr(p, ':', n);
		if (!colon || colon == p || n > SPOOL_MAX_HEADER ||
		    strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-") !=
			    (size_t)(colon - p)) {
			m->error = xasprintf("line %d is not a 'Name: value' header line", line);
			break;
		}
		v = colon + 1;
		while (v < p + n && (*v == ' ' || *v == '\t'))
			v++;
		char *val = xstrndup(v, (size_t)(p + n - v));
		size_t nlen = (size_t)(colon - p);
		if (nlen == 4 && strncasecmp(p, "From", 4) == 0 && !m->from && *val)
			m->from = val, val = NULL;
		else if (nlen == 2 && strncasecmp(p, "Id", 2) == 0 && !m->id && *val)
			m->id = xasprintf("id:%s", val);
		else if (nlen == 8 && strncasecmp(p, "Received", 8) == 0)
			m->received_at = parse_received(val);
		else if (nlen == 4 && strncasecmp(p, "Type", 4) == 0 &&
			 strcasecmp(val, "missed-call") == 0)
			m->kind = PROVIDER_MSG_CALL;   /* from a phone system: ring back */
		free(val);
		p = nl ? nl + 1 : end;
	}
	/* no empty line, or a malformed header: keep the whole file as the body */
	m->body = memdup0(buf, len);
	m->body_len = len;
	if (!m->error)
		m->error = xstrdup("no empty line between headers and body");
check:
	if (!m->error && !m->from)
		m->error = xstrdup("no From: header");
}

/*
 * Read one inbound file into m. Returns 0, -ENOENT if it vanished, or
 * another negative errno when it cannot be read (why in *ret_why).
 */
static int spool_read(struct spool *sp, const char *name, const struct timespec *mtime,
		      struct provider_msg *m, const char **ret_why)
{
	char *buf;
	size_t len = 0;
	struct stat st;
	bool big;
	int fd, r;

	fd = openat(sp->in_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		*ret_why = errno == ELOOP ? "is a symbolic link" : strerror(errno);
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		*ret_why = "not a regular file";
		return -EINVAL;
	}
	r = util_read_fd(fd, SPOOL_MAX_FILE, &buf, &len);
	close(fd);
	if (r < 0) {
		*ret_why = strerror(-r);
		return r;
	}
	big = r == 1;

	memset(m, 0, sizeof(*m));
	spool_parse(buf, len, m);
	if (!m->id)
		m->id = file_id(name, &st);
	if (big && !m->error)
		m->error = xasprintf("larger than %d bytes; only the start was read", SPOOL_MAX_FILE);
	if (!m->received_at)
		m->received_at = (int64_t)mtime->tv_sec;
	m->priv = xstrdup(name);
	free(buf);
	return 0;
}

static int spool_fetch(struct provider *p, const char *cursor, size_t max, provider_fetch_cb cb,
		       void *ud)
{
	struct spool *sp = to_spool(p);
	struct provider_batch *b = xcalloc(1, sizeof(*b));
	bool scanned = false;
	int r;

	b->msgs = xcalloc(max, sizeof(*b->msgs));
	while (b->n < max) {
		struct spool_entry *e;
		const char *why = NULL;

		if (sp->pos == sp->n_list) {
			if (scanned)
				break;
			r = spool_scan(sp);
			scanned = true;
			if (r < 0) {
				provider_batch_free(b);
				cb(ud, NULL, r, 0);
				return 0;
			}
			if (sp->n_list == 0)
				break;
		}
		e = &sp->list[sp->pos++];
		r = spool_read(sp, e->name, &e->mtime, &b->msgs[b->n], &why);
		if (r == 0)
			b->n++;
		else if (r != -ENOENT)
			spool_reject(sp, e->name, why);
		free(e->name);
		e->name = NULL;
	}
	cb(ud, b, 0, 0);
	return 0;
}

static int spool_ack(struct provider *p, struct provider_batch *b)
{
	struct spool *sp = to_spool(p);
	size_t failed = 0;
	int ret = 0;

	for (size_t i = 0; i < b->n; i++) {
		const struct provider_msg *m = &b->msgs[i];
		int r;

		if (m->error) {
			spool_reject(sp, m->priv, m->error);
			continue;
		}
		r = spool_move(sp, m->priv, "done");
		if (r < 0 && r != -ENOENT && failed++ == 0)
			ret = r;
	}
	/* one line per batch: they are read again (and deduplicated) at the next poll */
	if (failed)
		log_error("spool: cannot move %zu committed file(s) from %s to done/: %s", failed,
			  sp->inbox, strerror(-ret));
	return ret;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int spool_send(struct provider *p, const struct provider_out *m, provider_send_cb cb,
		      void *ud)
{
	int64_t outbox_id = m->id;
	const char *to = m->to, *body = m->body;
	struct spool *sp = to_spool(p);
	struct provider_result res = { 0 };
	char name[64], tmp[80], head[160];
	int fd, r, n;

	snprintf(name, sizeof(name), "%lld.sms", (long long)outbox_id);
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	n = snprintf(head, sizeof(head), "To: %s\nId: %lld\n\n", to, (long long)outbox_id);
	if (n < 0 || (size_t)n >= sizeof(head)) {
		res.status = -EINVAL;
		snprintf(res.error, sizeof(res.error), "recipient too long");
		goto out;
	}
	fd = openat(sp->out_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0 && errno == ENOENT) {
		/* the outbox directory was removed or replaced: open it afresh */
		int nfd = open_dir(AT_FDCWD, sp->outbox, true);
		if (nfd >= 0) {
			close(sp->out_fd);
			sp->out_fd = nfd;
			fd = openat(sp->out_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		}
	}
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	r = write_all(fd, head, (size_t)n);
	if (r == 0)
		r = write_all(fd, body, strlen(body));
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(sp->out_fd, tmp, sp->out_fd, name) < 0)
		r = -errno;
	if (r == 0) {
		str_copy(res.provider_id, sizeof(res.provider_id), name);
		goto out;
	}
	unlinkat(sp->out_fd, tmp, 0);
fail:
	/* a full or read-only disk is an operator's problem to fix: retry later */
	res.status = -EAGAIN;
	snprintf(res.error, sizeof(res.error), "spool outbox %s: %s", sp->outbox, strerror(-r));
out:
	cb(ud, outbox_id, &res);
	return 0;
}

const struct provider_ops provider_spool_ops = {
	.name = "spool",
	.open = spool_open,
	.close = spool_close,
	.attach = spool_attach,
	.fetch = spool_fetch,
	.ack = spool_ack,
	.send = spool_send,
};
