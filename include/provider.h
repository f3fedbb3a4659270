/*
 * provider.h — the SMS provider interface. One adapter per file, each a
 * const struct provider_ops found by name. The spool adapter
 * (provider_spool.c) is built in; the network adapters (src/net/: http,
 * twilio, android) and everything they need — libcurl, libcrypto — live in
 * the module gridline-net.so, loaded only when the configuration names one
 * of them. A daemon on the spool never maps those libraries (RSS, start-up).
 *
 * Adapters translate; policy (dedupe, retry, routing) stays outside them.
 * Every operation is asynchronous with a completion callback so network
 * adapters can run on the event loop; the spool adapter completes
 * synchronously (before the call returns).
 *
 * Inbound is two-phase: fetch() hands over a batch; the caller stores and
 * processes it in one transaction, commits, then calls ack() — only then
 * may the adapter forget the messages (move spool files to done/, advance
 * a cursor). A crash between commit and ack means the batch is fetched
 * again and deduplicated by (provider, id).
 */
#ifndef GRIDLINE_PROVIDER_H
#define GRIDLINE_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "config.h"

enum provider_msg_kind {
	PROVIDER_MSG_SMS = 0,    /* a text */
	PROVIDER_MSG_CALL,       /* a missed call from `from` (body empty): a callback ticket */
};

struct provider_msg {
	char *id;            /* provider's message id, unique per provider */
	int kind;            /* enum provider_msg_kind */
	char *from;          /* sender as the provider gave it; NULL if missing */
	char *body;          /* raw bytes as received (maybe invalid UTF-8), NUL-terminated */
	size_t body_len;
	int64_t received_at; /* epoch seconds; 0 if unknown */
	char *error;         /* non-NULL: the message is defective (why) but still recorded */
	void *priv;          /* adapter's own (e.g. the spool file name) */
};

struct provider_batch {
	struct provider_msg *msgs;
	size_t n;
	char *cursor;        /* cursor to save after commit, or NULL */
	bool more;           /* the adapter knows more is waiting: fetch again at once */
};
/* Frees the messages and the batch. NULL is fine. */
void provider_batch_free(struct provider_batch *b);

/* Outcome of a send. */
struct provider_result {
	int status;              /* 0 sent; -EAGAIN transient; other <0 permanent */
	char provider_id[128];   /* the provider's id for the text, "" if none */
	char error[256];         /* provider's code and message when status < 0 */
	double retry_after;      /* seconds the provider asked us to wait, 0 if none */
};

/* A text to send. */
struct provider_out {
	int64_t id;              /* the outbox row: also the idempotency key */
	const char *to;
	const char *body;
	int attempts;            /* earlier attempts; > 0: an earlier one may have got through */
	int64_t created_at;      /* when the row was queued, epoch seconds */
};

/* Delivery status of a text the provider accepted. */
enum provider_delivery {
	DELIVERY_PENDING = 0,    /* not final yet (queued, sending, sent) */
	DELIVERY_DELIVERED,      /* final */
	DELIVERY_FAILED,         /* final: error says why */
};

struct provider_query {
	int64_t outbox_id;
	const char *provider_id; /* as the send's result gave it ("" if none) */
	int64_t sent_at;
};

struct provider_status {
	int err;                 /* 0: state is the provider's answer; <0: could not ask */
	int state;               /* enum provider_delivery */
	char error[256];         /* the provider's code and message when failed or err < 0 */
	double retry_after;      /* seconds the provider asked us to wait, 0 if none */
};

struct provider;

/*
 * fetch completion: batch (caller owns; may be empty) or err < 0;
 * retry_after: seconds the provider asked us to wait before the next
 * fetch (429/503 with Retry-After), 0 if none.
 */
typedef void (*provider_fetch_cb)(void *ud, struct provider_batch *batch, int err,
				  double retry_after);
typedef void (*provider_send_cb)(void *ud, int64_t outbox_id, const struct provider_result *r);
typedef void (*provider_status_cb)(void *ud, int64_t outbox_id, const struct provider_status *s);
/* Called by an adapter when it knows new inbound is waiting (e.g. inotify). */
typedef void (*provider_wake_cb)(void *ud);

struct provider_ops {
	const char *name;
	/* Create from config; errors in err[errsize]. */
	int (*open)(const struct provider_config *cfg, struct provider **ret, char *err, size_t errsize);
	void (*close)(struct provider *p);
	/* Optional: hook into the loop; call wake when inbound is waiting. */
	int (*attach)(struct provider *p, sd_event *e, provider_wake_cb wake, void *ud);
	/* Fetch at most max messages after cursor (NULL: from the start). */
	int (*fetch)(struct provider *p, const char *cursor, size_t max, provider_fetch_cb cb, void *ud);
	/* The batch is committed; forget it. */
	int (*ack)(struct provider *p, struct provider_batch *b);
	/*
	 * Send one text; cb is called exactly once (possibly before send
	 * returns) unless send returns < 0. The strings are copied.
	 */
	int (*send)(struct provider *p, const struct provider_out *m, provider_send_cb cb, void *ud);
	/*
	 * Optional (NULL: the provider reports no delivery): ask for the
	 * delivery status of n <= status_max texts; cb is called exactly once
	 * per query unless status returns < 0. The strings are copied.
	 */
	int (*status)(struct provider *p, const struct provider_query *q, size_t n,
		      provider_status_cb cb, void *ud);
	size_t status_max;
};

/* Every provider starts with this header. */
struct provider {
	const struct provider_ops *ops;
};

/*
 * The adapter called name, or NULL with the reason in err[errsize] (an
 * unknown name, or the network module that would hold it cannot be
 * loaded). Loads the module on first use of a network adapter.
 */
const struct provider_ops *provider_find(const char *name, char *err, size_t errsize);

/*
 * Why url cannot be a network provider's base URL, or NULL when it can.
 * The reason is a static string or written into why[size]; it never
 * quotes the URL (one with a password in it must not reach a log). Needs
 * the network module (libcurl parses the URL); when it cannot be loaded,
 * that is the reason.
 */
const char *provider_url_problem(const char *url, char *why, size_t size);

/* Bumped whenever struct provider_module or anything it points to changes. */
#define PROVIDER_MODULE_ABI 1
#define PROVIDER_MODULE_FILE "gridline-net.so"
#define PROVIDER_MODULE_SYMBOL "gridline_net_module"

/*
 * What the network module exports, as PROVIDER_MODULE_SYMBOL. The module
 * resolves the daemon's own functions (util.h, log.h, ...) against the
 * executable, which is linked with --export-dynamic. A module whose abi
 * differs is refused, not misread.
 */
struct provider_module {
	unsigned abi;                               /* PROVIDER_MODULE_ABI */
	size_t ops_size;                            /* sizeof(struct provider_ops) */
	const struct provider_ops *const *ops;      /* NULL-terminated */
	const char *(*url_problem)(const char *url, char *why, size_t size);
};

extern const struct provider_ops provider_spool_ops;
/* In the network module (src/net/). */
extern const struct provider_ops provider_http_ops;
extern const struct provider_ops provider_twilio_ops;
extern const struct provider_ops provider_android_ops;

#endif
