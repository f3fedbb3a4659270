/*
 * util.h — small helpers shared by every module: allocation that dies on
 * out-of-memory, bounded string copies, reading a whole file, the clock
 * seam. The bottom layer: util.c calls no other gridline module (out of
 * memory is written to stderr and aborts, without the log module).
 *
 * The clock: all business time (ticket timestamps, outbox next-attempt,
 * deadlines) is wall-clock seconds since the epoch from util_now(), read
 * from CLOCK_REALTIME so that libfaketime can move it in tests. Event-loop
 * scheduling uses CLOCK_MONOTONIC inside the loop module only.
 */
#ifndef GRIDLINE_UTIL_H
#define GRIDLINE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* malloc/calloc/realloc/strdup that call fatal() on out-of-memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);          /* NULL in, NULL out */
char *xstrndup(const char *s, size_t n);
/* printf into a new heap string; fatal() on out-of-memory. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Copy src into dst[size], always NUL-terminated.
 * Returns 0, or -ENAMETOOLONG when src did not fit (dst holds the
 * truncated prefix, cut on a UTF-8 character boundary).
 */
int str_copy(char *dst, size_t size, const char *src);

/*
 * Read what is left of fd, up to max bytes, into a new NUL-terminated
 * heap buffer. Returns 0 with the whole content in *ret_buf and *ret_len; 1
 * when fd held more than max bytes (the buffer holds the first max); or
 * -errno on a read error (nothing returned). A short read is retried, so
 * a pipe is read to its end.
 */
int util_read_fd(int fd, size_t max, char **ret_buf, size_t *ret_len);

/*
 * Read the whole file at path (a pipe too; a directory is -EISDIR) with
 * util_read_fd(). Returns 0, -EFBIG when it holds more than max bytes, or
 * -errno from open or read (nothing returned on failure).
 */
int util_read_file(const char *path, size_t max, char **ret_buf, size_t *ret_len);

/* Wall-clock seconds since the epoch (CLOCK_REALTIME; faketime moves it). */
int64_t util_now(void);

/* The same clock with its fraction, for sub-second retry times. */
double util_now_real(void);

/* Monotonic microseconds (CLOCK_MONOTONIC), for measuring durations only. */
uint64_t util_mono_usec(void);

/* Format t (epoch seconds) as local "YYYY-MM-DD HH:MM" into buf[size]. */
const char *util_fmt_time(int64_t t, char *buf, size_t size);

/* A uniformly random double in [0,1), for retry jitter. */
double util_random(void);

#endif
