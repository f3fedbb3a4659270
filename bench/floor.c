/*
 * floor.c — the physical floor for the backlog benchmark: the same file
 * reads, SQLite rows and file writes gridlined does for a backlog, with
 * nothing else (no parsing, routing, templates or logging).
 *
 *   floor INBOX OUTBOX DB ROWS_PER_TEXT FILES_PER_TEXT BATCH
 *
 * For every file in INBOX: read it, insert ROWS_PER_TEXT rows into one
 * table (prepared statement, BATCH texts per transaction, WAL,
 * synchronous=NORMAL like the daemon), move the file to INBOX/done; then
 * write FILES_PER_TEXT files per text into OUTBOX (dot-name + rename) and
 * mark each written row in one UPDATE per row, batched the same way.
 * Prints the elapsed seconds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

int main(int argc, char **argv)
{
	sqlite3 *db;
	sqlite3_stmt *ins, *upd;
	struct dirent *de;
	char buf[65536], path[4096], tmp[4096];
	long rows, files, batch, n = 0, id = 0;
	DIR *d;

	if (argc != 7) {
		fprintf(stderr, "usage: floor INBOX OUTBOX DB ROWS FILES BATCH\n");
		return 2;
	}
	rows = strtol(argv[4], NULL, 10);
	files = strtol(argv[5], NULL, 10);
	batch = strtol(argv[6], NULL, 10);
	if (sqlite3_open(argv[3], &db) != SQLITE_OK)
		return 1;
	sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
			 "CREATE TABLE IF NOT EXISTS r(id INTEGER PRIMARY KEY, body TEXT, sent INTEGER);",
		     NULL, NULL, NULL);
	sqlite3_prepare_v2(db, "INSERT INTO r(body, sent) VALUES (?1, 0)", -1, &ins, NULL);
	sqlite3_prepare_v2(db, "UPDATE r SET sent = 1 WHERE id = ?1", -1, &upd, NULL);
	snprintf(path, sizeof(path), "%s/done", argv[1]);
	mkdir(path, 0755);

	double t0 = now();
	d = opendir(argv[1]);
	if (!d)
		die(argv[1]);
	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	while ((de = readdir(d))) {
		ssize_t len;
		int fd;

		if (de->d_name[0] == '.' || de->d_type == DT_DIR)
			continue;
		snprintf(path, sizeof(path), "%s/%s", argv[1], de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			die(path);
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len < 0)
			die(path);
		for (long i = 0; i < rows; i++) {
			sqlite3_bind_text(ins, 1, buf, (int)len, SQLITE_STATIC);
			sqlite3_step(ins);
			sqlite3_reset(ins);
		}
		snprintf(tmp, sizeof(tmp), "%s/done/%s", argv[1], de->d_name);
		if (rename(path, tmp) < 0)
			die(tmp);
		if (++n % batch == 0) {
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
			sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		}
	}
	closedir(d);
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);

	sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	for (long i = 0; i < n * files; i++) {
		int fd;

		snprintf(tmp, sizeof(tmp), "%s/.%ld.sms.tmp", argv[2], ++id);
		snprintf(path, sizeof(path), "%s/%ld.sms", argv[2], id);
		fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
		if (fd < 0 || write(fd, buf, 120) != 120 || close(fd) < 0 || rename(tmp, path) < 0)
			die(path);
		sqlite3_bind_int64(upd, 1, id);
		sqlite3_step(upd);
		sqlite3_reset(upd);
		if (id % (batch * files) == 0) {
			sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
			sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
		}
	}
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
	printf("%.6f\n", now() - t0);
	sqlite3_finalize(ins);
	sqlite3_finalize(upd);
	sqlite3_close(db);
	return 0;
}
