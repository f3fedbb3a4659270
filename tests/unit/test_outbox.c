/*
 * test_outbox.c — sending queued texts: success, transient failures retried
 * with bounded backoff and jitter, permanent failures marked failed, the
 * attempt limit. The provider is the network edge, so it is replaced by a
 * scripted one; the store is a real database file; the clock is passed in.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "outbox.h"
#include "provider.h"
#include "store.h"
#include "util.h"

/* A provider whose sends answer from a script: 0, -EAGAIN or -EINVAL. */
struct fake {
	struct provider base;
	bool later;                   /* answer only when the test says so */
	provider_send_cb pending_cb[16];
	void *pending_ud[16];
	int64_t pending_id[16];
	size_t n_pending;
	int script[16];
	size_t n_script, next;
	int sends;
	int64_t last_id;
	char last_to[64];
};

static int fake_send(struct provider *p, const struct provider_out *m, provider_send_cb cb,
		     void *ud)
{
	struct fake *f = (struct fake *)p;
	int64_t id = m->id;
	const char *to = m->to;
	struct provider_result r = { 0 };

	if (f->later) {
		f->pending_cb[f->n_pending] = cb;
		f->pending_ud[f->n_pending] = ud;
		f->pending_id[f->n_pending++] = id;
		f->sends++;
		return 0;
	}
	r.status = f->next < f->n_script ? f->script[f->next++] : 0;
	if (r.status == 0)
		snprintf(r.provider_id, sizeof(r.provider_id), "fake-%lld", (long long)id);
	else
		snprintf(r.error, sizeof(r.error), "%s", r.status == -EAGAIN ? "503 busy" : "21211 invalid number");
	f->sends++;
	f->last_id = id;
	snprintf(f->last_to, sizeof(f->last_to), "%s", to);
	cb(ud, id, &r);
	return 0;
}

static const struct provider_ops fake_ops = { .name = "fake", .send = fake_send };

/* Delivery status: answers state[outbox id] at once; -1 means "could not ask". */
static int status_state[16];
static size_t status_asked, status_calls;

static int fake_status(struct provider *p, const struct provider_query *q, size_t n,
		       provider_status_cb cb, void *ud)
{
	status_calls++;
	assert_true(n >= 1 && n <= 2);   /* status_max */
	for (size_t i = 0; i < n; i++) {
		struct provider_status st = { 0 };
		int want = status_state[q[i].outbox_id];

		status_asked++;
		if (want < 0)
			st.err = -EAGAIN;
		else
			st.state = want;
		if (want == DELIVERY_FAILED)
			snprintf(st.error, sizeof(st.error), "30003 Unreachable handset");
		cb(ud, q[i].outbox_id, &st);
	}
	return 0;
}

static const struct provider_ops fake_status_ops = {
	.name = "fake", .send = fake_send, .status = fake_status, .status_max = 2,
};

struct fx {
	char dir[64];
	struct config *cfg;
	struct store *store;
	struct fake fake;
	struct outbox *ob;
};

static const char conf[] =
	"database = \"unused\";\n"
	"provider = { type = \"spool\"; inbox = \"/tmp/in\"; outbox = \"/tmp/out\"; };\n"
	"limits = { send_attempts = 3; retry_min = 10.0; retry_max = 25.0; batch = 2; };\n";

static int setup_conf(void **state, const char *text)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct diag d = { 0 };
	char path[128];
	FILE *fp;

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/gridline-outbox-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(path, sizeof(path), "%s/g.conf", f->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(config_load(path, &f->cfg, &d), 0);
	diag_release(&d);
	snprintf(path, sizeof(path), "%s/g.db", f->dir);
	assert_int_equal(store_open(path, false, &f->store, NULL), 0);
	f->fake.base.ops = &fake_ops;
	f->ob = outbox_new(f->cfg, f->store, &f->fake.base);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_conf(state, conf);
}

static const char conf_delivery[] =
	"database = \"unused\";\n"
	"provider = { type = \"spool\"; inbox = \"/tmp/in\"; outbox = \"/tmp/out\"; };\n"
	"workers = ( { id = \"v01\"; name = \"广欣物业\"; phone = \"+8613900000100\"; role = \"vendor\"; },\n"
	"            { id = \"op1\"; name = \"值班员\"; phone = \"+8613900000300\"; role = \"operator\"; } );\n"
	"limits = { send_attempts = 3; retry_min = 10.0; retry_max = 25.0; batch = 10; };\n";

static int setup_delivery(void **state)
{
	int r = setup_conf(state, conf_delivery);
	struct fx *f = *state;

	f->fake.base.ops = &fake_status_ops;
	f->cfg->provider.status_timeout = 100;   /* the spool has no such key */
	memset(status_state, 0, sizeof(status_state));
	status_asked = status_calls = 0;
	return r;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	outbox_free(f->ob);
	store_close(f->store);
	config_free(f->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static int64_t queue(struct fx *f, const char *to, int64_t now)
{
	int64_t id;

	assert_int_equal(store_outbox_add(f->store, to, "你好", 0, 0, "ack", 1, now, &id), 0);
	return id;
}

static int get_cb(void *ud, const struct outbox_msg *m)
{
	struct outbox_msg *out = ud;

	if (m->id != out->id)
		return 0;
	*out = *m;
	out->body = NULL;
	out->error = m->error ? strdup(m->error) : NULL;
	return 0;
}

static struct outbox_msg get(struct fx *f, int64_t id)
{
	struct outbox_msg m = { .id = id };

	assert_int_equal(store_outbox_each(f->store, true, get_cb, &m), 0);
	return m;
}

static void test_sent(void **state)
{
	struct fx *f = *state;
	int64_t id = queue(f, "+8613800000001", 1000);
	struct outbox_msg m;

	assert_int_equal(outbox_flush(f->ob, 1000), 1);
	m = get(f, id);
	assert_int_equal(m.status, OB_SENT);
	assert_string_equal(m.provider_id, "fake-1");
	assert_int_equal(m.sent_at, 1000);
	assert_string_equal(f->fake.last_to, "+8613800000001");
	/* nothing left: a second flush sends nothing */
	assert_int_equal(outbox_flush(f->ob, 2000), 0);
	assert_int_equal(f->fake.sends, 1);
	free(m.error);
}

static void test_transient_then_sent(void **state)
{
	struct fx *f = *state;
	int64_t id = queue(f, "+8613800000001", 1000), at;
	struct outbox_msg m;

	f->fake.script[0] = -EAGAIN;
	f->fake.n_script = 1;
	assert_int_equal(outbox_flush(f->ob, 1000), 1);
	m = get(f, id);
	assert_int_equal(m.status, OB_QUEUED);
	assert_int_equal(m.attempts, 1);
	/*
	 * first retry: retry_min (10 s) scaled by jitter in [0.5, 1), plus
	 * the elapsed fraction of the current second
	 */
	assert_in_range(m.next_attempt, 1005, 1011);
	assert_string_equal(m.error, "503 busy");
	free(m.error);
	assert_int_equal(store_outbox_next_due(f->store, &at), 0);
	assert_int_equal(at, m.next_attempt);
	/* not due yet: not sent again */
	assert_int_equal(outbox_flush(f->ob, 1004), 0);
	assert_int_equal(f->fake.sends, 1);
	/* due: sent */
	assert_int_equal(outbox_flush(f->ob, 1011), 1);
	m = get(f, id);
	assert_int_equal(m.status, OB_SENT);
	assert_int_equal(f->fake.sends, 2);
	free(m.error);
}

static void test_attempt_limit(void **state)
{
	struct fx *f = *state;
	int64_t id = queue(f, "+8613800000001", 1000), now = 1000;
	struct outbox_msg m;

	f->fake.script[0] = f->fake.script[1] = f->fake.script[2] = -EAGAIN;
	f->fake.n_script = 3;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(outbox_flush(f->ob, now), 1);
		m = get(f, id);
		free(m.error);
		now = m.next_attempt;
	}
	/* send_attempts = 3: the third transient failure is final */
	m = get(f, id);
	assert_int_equal(m.status, OB_FAILED);
	assert_int_equal(m.attempts, 3);
	assert_string_equal(m.error, "503 busy");
	free(m.error);
	assert_int_equal(store_outbox_next_due(f->store, &now), -ENOENT);
	assert_int_equal(outbox_flush(f->ob, now + 100000), 0);
	assert_int_equal(f->fake.sends, 3);
}

static void test_permanent(void **state)
{
	struct fx *f = *state;
	int64_t id = queue(f, "+8613800000001", 1000);
	struct outbox_msg m;

	f->fake.script[0] = -EINVAL;
	f->fake.n_script = 1;
	assert_int_equal(outbox_flush(f->ob, 1000), 1);
	m = get(f, id);
	assert_int_equal(m.status, OB_FAILED);
	assert_int_equal(m.attempts, 1);
	assert_string_equal(m.error, "21211 invalid number");
	free(m.error);
	assert_int_equal(outbox_flush(f->ob, 999999), 0);
	assert_int_equal(f->fake.sends, 1);
}

static void test_rounds(void **state)
{
	struct fx *f = *state;

	/* batch = 2: five rows go out in three rounds of one flush */
	for (int i = 0; i < 5; i++)
		queue(f, "+8613800000001", 1000);
	assert_int_equal(outbox_flush(f->ob, 1000), 5);
	assert_int_equal(f->fake.sends, 5);
}

/* A provider that answers later (HTTP): in flight texts are not sent twice. */
static void test_async_answers(void **state)
{
	struct fx *f = *state;
	struct provider_result ok = { 0 };
	int64_t a = queue(f, "+8613800000001", 1000), b = queue(f, "+8613800000002", 1000);
	struct outbox_msg m;

	f->fake.later = true;
	assert_int_equal(outbox_flush(f->ob, 1000), 2);
	assert_int_equal(outbox_inflight(f->ob), 2);
	/* still queued, still due, but in flight: a second flush hands over nothing */
	assert_int_equal(outbox_flush(f->ob, 1001), 0);
	assert_int_equal(f->fake.sends, 2);
	m = get(f, a);
	assert_int_equal(m.status, OB_QUEUED);
	free(m.error);
	/* the answers arrive; recorded on the next record/flush */
	strcpy(ok.provider_id, "p-1");
	f->fake.pending_cb[0](f->fake.pending_ud[0], f->fake.pending_id[0], &ok);
	ok.status = -EAGAIN;
	strcpy(ok.error, "HTTP 503");
	f->fake.pending_cb[1](f->fake.pending_ud[1], f->fake.pending_id[1], &ok);
	assert_int_equal(outbox_inflight(f->ob), 0);
	assert_int_equal(outbox_record(f->ob, 1002), 0);
	m = get(f, a);
	assert_int_equal(m.status, OB_SENT);
	assert_string_equal(m.provider_id, "p-1");
	free(m.error);
	m = get(f, b);
	assert_int_equal(m.status, OB_QUEUED);
	assert_int_equal(m.attempts, 1);
	assert_string_equal(m.error, "HTTP 503");
	free(m.error);
}

/* provider.rate: one text per 1/rate seconds, no burst even with a backlog. */
static void test_pacing(void **state)
{
	struct fx *f = *state;
	uint64_t t0, until;

	f->cfg->provider.rate = 5.0;            /* one every 200 ms */
	for (int i = 0; i < 4; i++)
		queue(f, "+8613800000001", 1000);
	t0 = util_mono_usec();
	assert_int_equal(outbox_flush(f->ob, 1000), 1);
	until = outbox_paced_until(f->ob);
	assert_true(until > t0 && until <= util_mono_usec() + 200000);
	/* at once again: pacing holds the rest back */
	assert_int_equal(outbox_flush(f->ob, 1000), 0);
	assert_int_equal(f->fake.sends, 1);
	assert_true(outbox_paced_until(f->ob) >= until);
	/* unpaced: everything left goes */
	f->cfg->provider.rate = 0;
	assert_int_equal(outbox_flush(f->ob, 1000), 3);
	assert_int_equal(outbox_paced_until(f->ob), 0);
}

static size_t count_rows(struct fx *f, const char *to)
{
	struct outbox_msg m = { .id = 0 };
	size_t n = 0;

	for (int64_t id = 1; id < 16; id++) {
		m = get(f, id);
		if (m.recipient[0] && strcmp(m.recipient, to) == 0)
			n++;
		free(m.error);
		memset(&m, 0, sizeof(m));
	}
	return n;
}

static void test_delivery(void **state)
{
	struct fx *f = *state;
	int64_t res = queue(f, "+8613800000001", 1000);       /* a resident */
	int64_t wrk = queue(f, "+8613900000100", 1000);       /* a worker */
	int64_t pend = queue(f, "+8613800000002", 1000);
	int64_t down = queue(f, "+8613800000003", 1000);
	int64_t at;
	struct outbox_msg m;

	assert_int_equal(outbox_flush(f->ob, 1000), 4);
	/* nothing is asked before the first check is due (2 s after sending) */
	assert_int_equal(outbox_check(f->ob, 1001), 0);
	assert_int_equal(status_asked, 0);
	assert_int_equal(outbox_next_wake(f->ob, &at), 0);
	assert_int_equal(at, 1002);

	status_state[res] = DELIVERY_DELIVERED;
	status_state[wrk] = DELIVERY_FAILED;
	status_state[pend] = DELIVERY_PENDING;
	status_state[down] = -1;
	assert_int_equal(outbox_check(f->ob, 1002), 0);
	assert_int_equal(status_asked, 4);
	assert_int_equal(status_calls, 2);         /* status_max 2 per call */
	m = get(f, res);
	assert_int_equal(m.status, OB_DELIVERED);
	assert_null(m.error);
	m = get(f, wrk);
	assert_int_equal(m.status, OB_FAILED);
	assert_string_equal(m.error, "30003 Unreachable handset");
	free(m.error);
	/* the failed text to a worker is copied to the operators */
	assert_int_equal(count_rows(f, "+8613900000300"), 1);
	m = get(f, 5);
	assert_string_equal(m.kind, "undelivered");
	assert_int_equal(m.status, OB_QUEUED);
	free(m.error);
	/* not final yet, and could not ask: both asked again later, not now */
	m = get(f, pend);
	assert_int_equal(m.status, OB_SENT);
	assert_true(m.next_attempt > 1002);
	m = get(f, down);
	assert_int_equal(m.status, OB_SENT);
	status_asked = 0;
	assert_int_equal(outbox_check(f->ob, 1002), 0);
	assert_int_equal(status_asked, 0);
	/* final rows are never asked about again */
	assert_int_equal(outbox_check(f->ob, 1050), 0);
	assert_int_equal(status_asked, 2);
	/* no final status within status_timeout (100 s): unknown */
	assert_int_equal(outbox_check(f->ob, 1100), 0);
	m = get(f, pend);
	assert_int_equal(m.status, OB_UNKNOWN);
	assert_non_null(m.error);
	free(m.error);
	m = get(f, down);
	assert_int_equal(m.status, OB_UNKNOWN);
	free(m.error);
	m = get(f, res);
	assert_int_equal(m.status, OB_DELIVERED);
}

/* A provider without delivery reports: sent is where a text ends. */
static void test_no_delivery_reports(void **state)
{
	struct fx *f = *state;
	int64_t id = queue(f, "+8613800000001", 1000), at;
	struct outbox_msg m;

	assert_int_equal(outbox_flush(f->ob, 1000), 1);
	assert_int_equal(outbox_check(f->ob, 99999), 0);
	m = get(f, id);
	assert_int_equal(m.status, OB_SENT);
	assert_int_equal(outbox_next_wake(f->ob, &at), -ENOENT);
}

/* --once: a text that failed in this run waits for the next run. */
static void test_once_tries_each_text_once(void **state)
{
	struct fx *f = *state;

	f->cfg->limits.retry_min = 0.1;   /* due again within the run's second */
	f->cfg->limits.retry_max = 0.1;
	queue(f, "+8613800000001", 1000);
	f->fake.script[0] = -EAGAIN;
	f->fake.n_script = 1;
	outbox_set_once(f->ob, 1000);
	assert_int_equal(outbox_flush(f->ob, 1000), 1);
	assert_int_equal(outbox_flush(f->ob, 1002), 0);   /* due, but tried in this run */
	assert_int_equal(f->fake.sends, 1);
	/* the next run takes it */
	outbox_set_once(f->ob, 1003);
	assert_int_equal(outbox_flush(f->ob, 1003), 1);
	assert_int_equal(f->fake.sends, 2);
}

static void test_backoff_bounds(void **state)
{
	const struct limits l = { .retry_min = 5, .retry_max = 900 };

	for (int i = 0; i < 200; i++) {
		double d1 = outbox_backoff(&l, 1, 0), d3 = outbox_backoff(&l, 3, 0);
		double d20 = outbox_backoff(&l, 20, 0), ra = outbox_backoff(&l, 1, 60);

		assert_true(d1 >= 2.5 && d1 < 5.0);       /* 5 s, jittered */
		assert_true(d3 >= 10.0 && d3 < 20.0);     /* 5 * 2^2 */
		assert_true(d20 >= 450.0 && d20 < 900.0); /* capped at retry_max */
		assert_true(ra >= 60.0);                  /* Retry-After respected */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transient_then_sent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attempt_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permanent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rounds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_async_answers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delivery, setup_delivery, teardown),
		cmocka_unit_test_setup_teardown(test_no_delivery_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_once_tries_each_text_once, setup, teardown),
		cmocka_unit_test(test_backoff_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
