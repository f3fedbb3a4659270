/*
 * config.h — gridline's configuration (libconfig), loaded into plain C
 * structs that own all their memory (nothing points into libconfig, which
 * is freed before config_load() returns), validated as a whole.
 *
 * A reload parses into a new struct config, validates it, and the caller
 * swaps it in; on error the old one stays. Every key has a default (see
 * conf/gridline.conf), so a file with only the stable keys of SPEC.md
 * works: built-in categories repair/errand/service, the command keywords,
 * the Chinese templates and the limits below.
 */
#ifndef GRIDLINE_CONFIG_H
#define GRIDLINE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "deadline.h"
#include "text.h"

#define CONFIG_DEFAULT_PATH "/etc/gridline/gridline.conf"
#define CONFIG_ID_MAX 32        /* worker, grid and category ids */

enum worker_role { ROLE_GRID, ROLE_LEADER, ROLE_VENDOR, ROLE_OPERATOR, ROLE_SPECIALIST };
const char *worker_role_name(enum worker_role r);

struct worker {
	char *id;            /* "w01" */
	char *name;          /* "李娜" */
	char *phone;         /* normalised E.164, "+8613900000001" */
	enum worker_role role;
	int line;            /* config line, for messages */
};

struct grid {
	char *id;            /* "g1" */
	char *name;          /* "第一网格" */
	char *worker;        /* worker id of the grid worker, or NULL */
	char *leader;        /* worker id of the grid leader, or NULL */
	char **addresses;    /* address patterns, e.g. "解放南路281号院" */
	size_t n_addresses;
	int line;
};

/* Who gets a new ticket of a category. */
enum assign_rule {
	ASSIGN_GRID,         /* the grid's worker */
	ASSIGN_WORKER,       /* a fixed worker or vendor (`worker`); the grid worker is copied when copy_grid */
	ASSIGN_ROLE,         /* the first worker with role `role` */
	ASSIGN_OPERATORS,    /* the operators' queue (no assignee) */
};

struct category {
	char *id;            /* "repair"; "unclassified" is reserved */
	char *name;          /* display name in texts, "报修" */
	char **keywords;     /* resident keywords */
	size_t n_keywords;
	enum assign_rule assign;
	char *worker;        /* ASSIGN_WORKER: worker id */
	enum worker_role role; /* ASSIGN_ROLE */
	bool copy_grid;      /* also notify the grid's worker */
	struct tlimit accept; /* time to accept a ticket; default 30m */
	struct tlimit done;   /* time to get it done, from creation; default 3wd */
	int line;
};

/* Template keys; see config.c for the defaults and their variables. */
enum tmpl_id {
	TMPL_ACK,            /* to resident: ticket created */
	TMPL_ACK_UNCLASSIFIED, /* to resident: free text received */
	TMPL_NOTIFY,         /* to assignee: new ticket */
	TMPL_NOTIFY_COPY,    /* to a copied worker */
	TMPL_NOTIFY_OPERATORS, /* to operators: a ticket with no owner */
	TMPL_STATUS,         /* to resident: one line per open ticket */
	TMPL_STATUS_NONE,    /* to resident: no open tickets */
	TMPL_CANCELLED,      /* to resident: cancelled */
	TMPL_CANCELLED_WORKER, /* to assignee: resident cancelled */
	TMPL_ACCEPTED,       /* to resident: a worker accepted */
	TMPL_ACCEPT_OK,      /* to worker: you accepted */
	TMPL_DONE,           /* to resident: done, please rate */
	TMPL_DONE_OK,        /* to worker: recorded as done */
	TMPL_RATED,          /* to resident: thanks, closed */
	TMPL_REOPENED,       /* to resident: rated 3, reopened */
	TMPL_REOPENED_WORKER, /* to worker: rated 3, do it again */
	TMPL_HELP,           /* to resident: keyword list */
	TMPL_STOP,           /* to resident: opted out */
	TMPL_DENIED,         /* to anyone: not allowed ({reason}) */
	TMPL_UNKNOWN_TICKET, /* to anyone: no such ticket */
	TMPL_WORKER_HELP,    /* to worker: a worker text we did not understand */
	TMPL_HANDED_OVER,    /* to worker: 退回/转 done, now with {worker} */
	TMPL_UNDELIVERED,    /* to operators: a text to {worker} failed ({reason}) */
	TMPL_MISSED_CALL,    /* to a caller nobody answered: we will call back */
	TMPL_RATE_ASK,       /* appended to done: 回访 question (no variables) */
	TMPL_RATE_ASK_ALONE, /* to resident: 回访 question when it does not fit with done */
	TMPL_REMIND,         /* to assignee: 催办 before a deadline ({due}, {what}) */
	TMPL_OVERDUE,        /* to leader, then operators: a deadline passed */
	TMPL_REOPENED_LEADER, /* to grid leader: a resident rated 3, 重办 */
	TMPL_MERGED,         /* to a resident whose report joined an open ticket */
	TMPL_FLOOD,          /* to operators: more texts in an hour than limits.alert_per_hour */
	TMPL_DAILY,          /* to a grid leader: yesterday's figures ({grid}, {count}, {list}) */
	TMPL_CLOSED_WORKER,  /* to the assignee: an operator closed the ticket ({note}) */
	_TMPL_MAX,
};
const char *tmpl_name(enum tmpl_id t);

struct provider_config {
	char *type;          /* "spool", "twilio", "android", "http" */
	char *inbox;         /* spool: inbound directory */
	char *outbox;        /* spool: outbound directory */
	double rate;         /* texts per second; 0 = unpaced */
	char *url;            /* android, http: base URL; twilio: base_url (default "https://api.twilio.com") */
	char *account_sid;    /* twilio: "AC" + 32 hex */
	char *number;         /* twilio: the hotline number, normalised E.164 */
	char *username;       /* android (default "sms") */
	char *secret;         /* the resolved secret: twilio auth_token, android password, http token */
	char *cafile;         /* extra CA bundle for self-hosted gateways, or NULL */
	double timeout;       /* total request timeout, seconds; default 30 (1..300) */
	double connect_timeout; /* default 10 (1..120) */
	unsigned max_response;  /* response body cap, bytes; default 1048576 (1024..16777216) */
	double status_timeout;  /* seconds after which a sent text with no final delivery status is 'unknown'; default 86400 */
	bool undelivered_to_operators; /* a text to a worker that failed is copied to the operators; default true */
	int line;
};

/*
 * The key of type's secret — "auth_token" (twilio), "password" (android),
 * "token" (http) — which is also the name of its systemd credential and,
 * with "_file", of the key naming a file that holds it. NULL for "spool",
 * an unknown type or NULL.
 */
const char *provider_secret_name(const char *type);

/* The ticket workflow: deadlines and 回访 (the `workflow` group). */
struct workflow {
	char *calendar_path;       /* NULL: the built-in China calendar */
	struct calendar *calendar; /* loaded (never NULL after a successful load) */
	int day_end;               /* minutes after midnight ending a working day; 18:00 */
	char **urgent_words;       /* a text holding one is urgent */
	size_t n_urgent_words;
	struct tlimit urgent;      /* done limit of an urgent ticket; default 2h */
	double rating_window;      /* seconds a bare 1/2/3 rates a done ticket; then it closes unrated; 3 days */
	double merge_window;       /* seconds a report of the same category and address joins an open ticket; 3600; 0 = never */
	int daily_summary;         /* minutes after midnight of the grid leaders' daily text; -1 = none (default) */
};

struct limits {
	unsigned notice_segments;  /* max segments of a worker notice (free text cut to fit); default 2 */
	unsigned reply_segments;   /* max segments of a reply to a resident; default 1 */
	unsigned max_body;         /* bytes of an inbound body kept for a ticket; default 16384 */
	unsigned batch;            /* inbound messages per transaction; default 500 */
	unsigned send_attempts;    /* outbox attempts before failed; default 8 */
	double retry_min;          /* first retry delay, seconds; default 5 */
	double retry_max;          /* retry delay cap, seconds; default 900 */
	int quiet_start, quiet_end; /* quiet hours, minutes after midnight; 21:30-07:30; equal: none */
	unsigned per_hour;         /* texts to one resident or unknown number per hour; 5 */
	unsigned per_day;          /* ... per day; 20 */
	unsigned alert_per_hour;   /* all texts in an hour before an alert; 1000; 0 = never */
};

struct config {
	char *path;          /* the file this was loaded from */
	char *database;
	char *country_code;  /* "86" */
	double poll_interval;
	char *timezone;      /* "" = system local time */
	bool mask_phones;    /* log.mask_phones, default true */
	int log_level;       /* LOG_* from log.level, default LOG_INFO */

	struct provider_config provider;

	struct worker *workers;
	size_t n_workers;
	struct grid *grids;
	size_t n_grids;
	struct category *categories;   /* configured or built-in; never empty */
	size_t n_categories;

	/* command keywords, indexed by enum intent (STATUS..LIST) */
	char **commands[_INTENT_MAX];
	size_t n_commands[_INTENT_MAX];

	char *templates[_TMPL_MAX];
	struct limits limits;
	struct workflow wf;
};

/* Problems found while loading: "file:line: what" strings. */
struct diag {
	char **lines;
	size_t n;
	size_t n_errors;     /* lines that are errors (the rest are warnings) */
};
void diag_release(struct diag *d);

/*
 * Load and validate path. Every problem (syntax, unknown key, wrong type,
 * bad value, dangling worker/grid reference, duplicate id or phone,
 * template with an unknown variable, ...) is appended to d as
 * "path:line: what"; warnings too. Returns 0 and a new config in *ret, or
 * -EINVAL when d holds at least one error (*ret untouched), or -errno when
 * the file cannot be read. A network provider's secret is resolved here
 * (inline key, "<key>_file", or $CREDENTIALS_DIRECTORY/<key>) into
 * provider.secret; no diagnostic ever quotes a secret.
 */
int config_load(const char *path, struct config **ret, struct diag *d);

/*
 * config_load() with flags. CONFIG_SKIP_SECRETS: no provider secret is
 * looked for or read (provider.secret stays NULL, a missing one is no
 * error) — for gridlinectl, which never talks to the provider and may run
 * without the daemon's credentials.
 */
#define CONFIG_SKIP_SECRETS 0x1u
int config_load_flags(const char *path, unsigned flags, struct config **ret, struct diag *d);

void config_free(struct config *c); /* NULL is fine */

/* Lookups; NULL when absent. */
const struct worker *config_worker(const struct config *c, const char *id);
const struct worker *config_worker_by_phone(const struct config *c, const char *e164);
const struct grid *config_grid(const struct config *c, const char *id);
const struct category *config_category(const struct config *c, const char *id);
/* First worker with that role, NULL if none. */
const struct worker *config_worker_by_role(const struct config *c, enum worker_role role);
/* The grid's leader: its `leader`, else the first worker with role leader. */
const struct worker *config_grid_leader(const struct config *c, const struct grid *g);

/*
 * Build the keyword sets: residents (categories + resident commands) and
 * workers (worker commands). Caller frees with keyword_set_free().
 */
struct keyword_set *config_resident_keywords(const struct config *c);
struct keyword_set *config_worker_keywords(const struct config *c);

#endif
