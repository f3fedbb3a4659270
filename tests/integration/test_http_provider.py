"""test_http_provider.py — the real gridlined with provider type "http"
(docs/http-provider.md) against the stateful fake in fake_http.py.

Covers: inbound texts become tickets and every reply is POSTed to /send
with the right JSON and Bearer token (--once and daemon mode); the cursor
is saved and sent back as `after`, pages are followed; a message on two
pages (or twice on one) is one ticket; a repeated send carries the same id
and makes one SMS; 429 + Retry-After is honoured; backoff between attempts;
permanent and transient send errors; --once posts a text at most once;
a hung request blocks neither inbound nor SIGTERM; the fault matrix of
faults.py (500, 503, 429, connection refused, a hung response, malformed
and truncated JSON, a body over max_response, invalid UTF-8 in JSON
strings, the provider down for a while) with, in every case, the daemon
up, watchdog pings on time, nothing lost or doubled and a bounded
recovery; delivery status (delivered, failed with code and
message, unknown after status_timeout); pacing of a backlog.
"""
import collections
import json
import signal
import time
import unittest

import gl
from fake_http import FakeHTTP
from faults import (LIMITS, RETRY_MAX, FaultMatrixTests, ProviderCase, body_id as send_id,
                    resident)
from faults import POLL  # noqa: F401 (test_http_client takes it from here)

TOKEN = "t0ken"
TIMEOUT = 2.0            # provider.timeout in the generated config
RATE = 50.0              # provider.rate


def provider_line(url, token=TOKEN, more=""):
    return (f'provider = {{ type = "http"; url = "{url}"; token = "{token}"; '
            f"timeout = {TIMEOUT}; connect_timeout = 1.0; max_response = 65536; "
            f"rate = {RATE}; {more}}};")


class HttpCase(ProviderCase):
    """A fake provider and a Site whose provider is the fake."""
    TIMEOUT = TIMEOUT
    SECRET = TOKEN
    fake_args = {}
    provider_more = ""
    url_suffix = ""

    def make_fake(self):
        return FakeHTTP(token=TOKEN, **self.fake_args)

    def provider_conf(self, secret=None):
        return provider_line(self.fake.url + self.url_suffix, token=secret or TOKEN,
                             more=self.provider_more)

    def sent_problems(self, rows):
        """Every outbox row sent and exactly one SMS at the fake; no SMS
        without a row; no text sent twice."""
        out = []
        sms = {s["id"]: s for s in self.fake.sms_list()}
        for r in rows:
            gid = f"gridline-{r['id']}"
            s = sms.pop(gid, None)
            if r["status"] not in ("sent", "delivered"):
                out.append(f"row {r['id']} is {r['status']} ({r['error']})")
            if s is None:
                out.append(f"row {r['id']} never reached the fake")
            elif (s["to"], s["body"]) != (r["to"], r["body"]):
                out.append(f"row {r['id']}: the fake got {s['to']} {s['body']!r}")
        if sms:
            out.append(f"SMS at the fake without an outbox row: {sorted(sms)}")
        # a whole, well-formed 2xx answer: gridline knows the text is sent
        answered = collections.Counter(send_id(q) for q in self.fake.reqs("send")
                                       if q["complete"] and q["fault"] is None
                                       and 200 <= q["status"] < 300)
        out += [f"{gid} was sent again after a complete 2xx answer ({n} answers)"
                for gid, n in answered.items() if n > 1]
        return out

    def assertNoSecret(self, secret=None):
        """Nor in what gridlinectl prints."""
        super().assertNoSecret(secret)
        for args in (("outbox", "--all", "--json"), ("tickets", "--json"),
                     ("workers", "--json"), ("help",)):
            p = self.site.ctl(*args)
            self.assertNotIn((secret or TOKEN).encode(), p.stdout + p.stderr, args)

    def assertAuthorised(self):
        for q in self.fake.reqs():
            self.assertEqual(q["headers"].get("authorization"), f"Bearer {TOKEN}", q["path"])
            self.assertIn("application/json", q["headers"].get("accept", ""), q["path"])


class Once(HttpCase):
    """gridlined --once against the fake."""

    def test_inbound_becomes_tickets_and_replies_are_posted(self):
        self.inject(2)
        # a local sender number is normalised
        self.inject(sender="13800000099", body="跑腿 菜园小区 买菜 local")
        self.injected[-1] = (self.injected[-1][0], "+8613800000099", "local")
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        [inbox] = self.fake.reqs("inbox")
        self.assertEqual(inbox["method"], "GET")
        self.assertNotIn("after", inbox["query"])          # the very first poll
        self.assertEqual(inbox["query"].get("limit"), "500")   # limits.batch
        rows = self.site.outbox_rows()
        sends = self.fake.reqs("send")
        self.assertEqual(len(sends), len(rows))
        for q in sends:
            self.assertEqual(q["method"], "POST")
            self.assertEqual(q["path"], "/send")
            self.assertIn("application/json", q["headers"].get("content-type", ""))
            j = json.loads(q["body"].decode("utf-8"))
            self.assertEqual(sorted(j), ["body", "id", "to"])
            self.assertTrue(all(isinstance(v, str) for v in j.values()), j)
            self.assertRegex(j["id"], r"^gridline-[0-9]+$")
            self.assertRegex(j["to"], r"^\+[0-9]+$")
        by_gid = {s["id"]: s for s in self.fake.sms_list()}
        for r in rows:
            self.assertEqual(r["status"], "sent")
            self.assertEqual(r["provider_id"], by_gid[f"gridline-{r['id']}"]["provider_id"])
        self.assertAuthorised()
        self.assertNoSecret()

    def test_cursor_saved_and_sent_back_as_after(self):
        self.fake.cursor_fmt = "pos {}/+&=é ?#"     # opaque: must be escaped and kept as is
        self.inject(2)
        self.site.once()
        self.site.once()                            # nothing new: same cursor again
        self.inject(1)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        afters = [q["query"].get("after") for q in self.fake.reqs("inbox")]
        self.assertEqual(afters, [None, "pos 2/+&=é ?#", "pos 2/+&=é ?#"])
        self.assertTrue(all(q["status"] == 200 for q in self.fake.reqs("inbox")))

    def test_empty_page_without_cursor_keeps_the_cursor(self):
        self.fake.empty_cursor = "absent"
        self.inject(1)
        self.site.once()
        self.site.once()        # empty page, no "cursor" in the answer
        self.site.once()
        afters = [q["query"].get("after") for q in self.fake.reqs("inbox")]
        self.assertEqual(afters, [None, "c-1", "c-1"])

    def test_escaped_nul_in_a_body_blocks_nothing(self):
        # "\u0000" is valid JSON; an SMS may well hold a NUL (GSM 7-bit "@")
        self.inject(1, body="跑腿 菜园小区 买菜 k1q ".encode() + b"\x00 end")
        self.inject(1)
        self.site.once()
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        for t in self.site.tickets():
            self.assertNotIn("\x00", t["text"])

    def test_each_text_posted_at_most_once_per_run(self):
        # "flush the outbox once": a late answer must not make this run
        # post again a text that failed earlier in it
        self.fake.fault("send", "http", code=503)
        self.fake.fault("send", "http", code=503, delay=1.5)
        self.inject(1)          # two texts: the reply and the worker's notice
        self.site.once()
        n = collections.Counter(send_id(q) for q in self.fake.reqs("send"))
        self.assertEqual(len(n), 2, n)
        self.assertEqual(set(n.values()), {1}, f"posted more than once in one run: {n}")
        for r in self.site.outbox_rows():
            self.assertEqual((r["status"], r["attempts"]), ("queued", 1), r)

    def test_same_message_twice_on_one_page_is_one_ticket(self):
        [(mid, _, _)] = self.inject(1)
        self.fake.add_inbound(resident(1), "跑腿 菜园小区 买菜 k1q", id=mid)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())


class LongCursor(HttpCase):
    fake_args = {"cursor_fmt": "c-{}-" + "x" * 600}

    def test_cursor_of_512_bytes_or_more_is_refused_and_nothing_lost(self):
        self.inject(2)
        self.site.once()
        self.assertEqual(self.site.tickets(), [])
        log = self.site.all_logs().decode("utf-8", "replace")
        self.assertIn('"cursor" is not a string under 512 bytes', log)
        self.fake.cursor_fmt = "c-{}"      # the gateway is fixed
        self.site.once()
        self.assertEqual(len(self.site.tickets()), 2)
        self.assertEqual(self.problems(), [])


class BigBatch(HttpCase):
    extra = LIMITS.replace("limits = {", "limits = { batch = 600;")

    def test_limit_is_never_over_500(self):
        self.inject(3)
        self.site.once()
        qs = [q["query"] for q in self.fake.reqs("inbox")]
        self.assertTrue(qs and all(q.get("limit") == "500" for q in qs), qs)
        self.assertEqual(len(self.site.tickets()), 3)


class Paging(HttpCase):
    extra = LIMITS.replace("limits = {", "limits = { batch = 2;")

    def test_pages_followed_by_cursor_with_limit(self):
        self.inject(5)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        qs = [q["query"] for q in self.fake.reqs("inbox")]
        self.assertEqual([q.get("after") for q in qs][:3], [None, "c-2", "c-4"])
        self.assertTrue(all(q.get("limit") == "2" for q in qs), qs)

    def test_same_message_on_two_consecutive_pages_is_one_ticket(self):
        self.inject(3)
        self.fake.fault("inbox", "overlap", times=None)   # every page repeats the last one
        self.site.once()
        self.inject(2)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        # the fake did repeat messages: some page started before its `after`
        self.assertTrue(any(q["fault"] == "overlap" and q["query"].get("after")
                            for q in self.fake.reqs("inbox")))


class PathPrefix(HttpCase):
    fake_args = {"prefix": "/gw"}
    url_suffix = "/"          # a trailing "/" in the config is dropped

    def test_paths_follow_the_base_url(self):
        self.inject(1)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        paths = {q["path"] for q in self.fake.reqs()}
        self.assertEqual(paths, {"/gw/inbox", "/gw/send"})


class SendErrors(HttpCase):

    def test_send_repeated_after_500_has_same_id_and_one_sms(self):
        # the gateway sent the SMS, then failed to say so
        self.fake.fault("send", "http", code=500, apply=True)
        d = self.start()
        self.inject(1)
        self.settle()
        sends = self.fake.reqs("send")
        first = sends[0]
        again = [q for q in sends[1:] if send_id(q) == send_id(first)]
        self.assertEqual(len(again), 1, [send_id(q) for q in sends])
        self.assertEqual(json.loads(again[0]["body"]), json.loads(first["body"]))
        self.assertEqual(len(self.fake.sms_list()), len(self.site.outbox_rows()))
        self.assertWatchdogSteady(d)

    def test_retry_after_on_send_is_honoured(self):
        # texts meet the 429 at polls of both half-second phases, so some
        # at the end of a wall-clock second: no rounding may shorten the wait
        self.fake.fault("send", "http", times=None, code=429, retry_after=2)
        d = self.start()
        for _ in range(4):
            self.inject(1)
            time.sleep(0.3)
        time.sleep(3.0)
        self.fake.clear()
        self.settle()
        times = collections.defaultdict(list)
        for q in self.fake.reqs("send"):
            times[send_id(q)].append(q["t"])
        self.assertEqual(len(times), 8)
        for gid, ts in times.items():
            self.assertGreaterEqual(len(ts), 2, gid)
            for a, b in zip(ts, ts[1:]):
                self.assertGreaterEqual(b - a, 2.0 - 0.05,
                                        f"{gid} retried {b - a:.3f} s after Retry-After: 2")
                self.assertLess(b - a, 2.0 + 1 + 2, f"{gid}: Retry-After: 2 but no retry for long")
        self.assertWatchdogSteady(d)

    def test_backoff_between_attempts(self):
        # attempt n waits min(retry_max, retry_min * 2^(n-1)) * [0.5, 1)
        self.fake.fault("send", "http", times=None, code=503)
        d = self.start()
        self.inject(1)
        time.sleep(7.0)
        self.fake.clear()
        self.settle()
        times = collections.defaultdict(list)
        for q in self.fake.reqs("send"):
            times[send_id(q)].append(q["t"])
        self.assertTrue(times)
        for gid, ts in times.items():
            self.assertGreaterEqual(len(ts), 4, f"{gid}: {len(ts)} attempts in 7 s")
            for n, (a, b) in enumerate(zip(ts, ts[1:]), 1):
                base = min(RETRY_MAX, 0.5 * 2 ** (n - 1))
                self.assertGreaterEqual(b - a, base * 0.5 - 0.02,
                                        f"{gid}: retry {n} after {b - a:.3f} s")
                self.assertLessEqual(b - a, base + 1.2, f"{gid}: retry {n} after {b - a:.3f} s")
        self.assertWatchdogSteady(d)

    def test_permanent_errors_mark_the_row_failed_once(self):
        for code in (400, 401, 403, 404, 422):
            with self.subTest(code=code):
                self.fake.clear()
                self.fake.fault("send", "http", times=None, code=code,
                                body={"error": {"code": f"E{code}x",
                                                "message": f"no way {code}"}})
                n0 = len(self.fake.reqs("send"))
                self.inject(1)
                self.site.once()
                self.site.once()      # a failed text is not sent again
                sends = self.fake.reqs("send")[n0:]
                rows = [r for r in self.site.outbox_rows()
                        if f"gridline-{r['id']}" in {send_id(q) for q in sends}]
                self.assertTrue(rows)
                self.assertEqual(len(sends), len(rows), "a permanent failure was retried")
                for r in rows:
                    self.assertEqual(r["status"], "failed")
                    self.assertIn(f"E{code}x", r["error"] or "")
                    self.assertIn(f"no way {code}", r["error"] or "")
                self.assertEqual(self.fake.sms_list(), [])

    def test_transient_errors_keep_the_row_queued(self):
        seen = set()
        for code in (408, 429, 500, 502, 503):
            with self.subTest(code=code):
                self.fake.clear()
                self.fake.fault("send", "http", times=None, code=code)
                n0 = len(self.fake.reqs("send"))
                self.inject(1)
                self.site.once()
                ids = {send_id(q) for q in self.fake.reqs("send")[n0:]} - seen
                seen |= ids
                rows = [r for r in self.site.outbox_rows() if f"gridline-{r['id']}" in ids]
                self.assertTrue(rows)
                for r in rows:
                    self.assertEqual(r["status"], "queued", r)
                    self.assertEqual(r["attempts"], 1, r)
                    self.assertIn(str(code), r["error"] or "")

    def test_wrong_token_gets_401_and_the_daemon_stays_up(self):
        self.check_wrong_secret("wr0ng")


class Running(HttpCase):

    def test_texts_while_running_become_tickets_and_replies(self):
        self.check_texts_while_running()
        afters = [q["query"].get("after") for q in self.fake.reqs("inbox")]
        self.assertIn("c-3", afters)


class NonBlocking(HttpCase):

    def test_hung_send_does_not_hold_up_inbound(self):
        self.fake.fault("send", "hang", times=None, seconds=30)
        d = self.start()
        self.inject(1)
        gl.wait_for(lambda: self.fake.reqs("send"), 5.0, "a hanging send")
        self.inject(1)
        t0 = time.monotonic()
        gl.wait_for(lambda: len(self.site.tickets()) == 2, TIMEOUT - 0.3,
                    "a ticket while a send hangs (before the send's timeout)")
        self.assertLess(time.monotonic() - t0, TIMEOUT)
        self.assertWatchdogSteady(d)
        self.fake.clear()
        self.settle()
        self.assertWatchdogSteady(d)

    def test_sigterm_while_a_request_hangs(self):
        self.fake.fault("inbox", "hang", times=None, seconds=30)
        d = self.start()
        gl.wait_for(lambda: self.fake.reqs("inbox"), 5.0, "a hanging poll")
        time.sleep(0.2)
        t0 = time.monotonic()
        d.send(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0, d.log()[-3000:])
        self.assertLess(time.monotonic() - t0, 1.0, "SIGTERM waited for the hung request")

    def test_once_does_not_wait_for_ever_on_a_hung_provider(self):
        self.fake.fault("inbox", "hang", times=None, seconds=30)
        t0 = time.monotonic()
        self.site.once(check=False, timeout=TIMEOUT + 10)
        self.assertLess(time.monotonic() - t0, TIMEOUT + 3)


class FaultMatrix(FaultMatrixTests, HttpCase):
    """Each fault on /send, then on /inbox too, for a while; then gone
    (faults.py)."""
    REPEAT_FAULT = "overlap"
    BAD_ID = {"id": b"m-\xff\xfe-2"}


class Delivery(HttpCase):

    def test_delivered_and_failed_are_shown_with_the_error(self):
        d = self.start()
        self.inject(1)
        rows = self.wait_sent(2)
        good, bad = rows[0], rows[1]
        self.fake.deliver(f"gridline-{good['id']}", "delivered")
        self.fake.deliver(f"gridline-{bad['id']}", "failed", "30003", "Unreachable handset")
        rows = self.wait_rows(lambda rs: {r["status"] for r in rs[:2]} == {"delivered", "failed"},
                              20.0, "delivered and failed in the outbox")
        by_id = {r["id"]: r for r in self.site.outbox_rows()}
        self.assertEqual(by_id[good["id"]]["status"], "delivered")
        self.assertIsNone(by_id[good["id"]]["error"])
        self.assertEqual(by_id[bad["id"]]["status"], "failed")
        self.assertIn("30003", by_id[bad["id"]]["error"])
        self.assertIn("Unreachable handset", by_id[bad["id"]]["error"])
        # a final status is not asked for again
        t_final = time.monotonic()
        time.sleep(2.0)
        for q in self.fake.reqs("status"):
            self.assertEqual(q["method"], "GET")
            ids = q["query"].get("ids", "").split(",")
            self.assertTrue(1 <= len(ids) <= 100, ids)
            self.assertTrue(all(i.startswith("gridline-") for i in ids), ids)
            if q["t"] > t_final + 0.5:
                self.assertNotIn(f"gridline-{good['id']}", ids)
                self.assertNotIn(f"gridline-{bad['id']}", ids)
        self.assertAuthorised()
        self.assertWatchdogSteady(d)

    def test_status_asks_for_at_most_100_ids(self):
        d = self.start()
        self.inject(55)          # 110 texts
        self.settle(timeout=30)
        gl.wait_for(lambda: len({i for q in self.fake.reqs("status")
                                 for i in q["query"].get("ids", "").split(",")}) >= 110,
                    20.0, "a status request for every text")
        for q in self.fake.reqs("status"):
            self.assertEqual(q["status"], 200, q["query"])
        self.assertWatchdogSteady(d)


    def test_failed_text_to_a_worker_is_copied_to_the_operators(self):
        d = self.start()
        self.inject(1)           # an errand in 菜园小区: w03 gets the notice
        rows = self.wait_sent(2)
        [notice] = [r for r in rows if r["to"] == gl.PHONES["w03"]]
        self.fake.deliver(f"gridline-{notice['id']}", "failed", "30005", "Unknown destination")
        rows = self.wait_rows(lambda rs: any(r["to"] == gl.PHONES["op1"] and r["status"] == "sent"
                                             for r in rs), 20.0, "a copy to the operator")
        [copy] = [r for r in rows if r["to"] == gl.PHONES["op1"]]
        self.assertIn(str(notice["ticket"]), copy["body"])
        self.assertIn("30005", copy["body"])
        self.assertEqual(copy["kind"], "undelivered")
        log = self.site.all_logs().decode("utf-8", "replace")
        self.assertRegex(log, r"error: text \d+ to worker w03 .*was not delivered: 30005")
        # exactly one copy, however often the status is asked for afterwards
        time.sleep(2.5)
        self.assertEqual(len([r for r in self.site.outbox_rows()
                              if r["to"] == gl.PHONES["op1"]]), 1)
        self.assertWatchdogSteady(d)


class DeliveryTimeout(HttpCase):
    provider_more = "status_timeout = 3.0; "

    def test_no_final_status_becomes_unknown_after_status_timeout(self):
        d = self.start()
        self.inject(1)
        self.wait_sent(1)
        self.wait_rows(lambda rs: all(r["status"] == "unknown" for r in rs), 15.0,
                       "every text unknown after status_timeout (3 s)")
        self.assertTrue(self.fake.reqs("status"), "never asked for the status")
        self.assertWatchdogSteady(d)


class Pacing(HttpCase):

    def test_backlog_after_restart_drains_at_rate(self):
        self.fake.fault("send", "http", times=None, code=503)
        d = self.start()
        self.inject(10)          # 20 texts, all failing for now
        gl.wait_for(lambda: len({send_id(q) for q in self.fake.reqs("send")}) >= 20, 10.0,
                    "every text tried once")
        d.send(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0)
        self.fake.clear()
        time.sleep(RETRY_MAX + 1.5)   # every retry is due now
        n0 = len(self.fake.reqs("send"))
        self.start()
        self.settle()
        t = sorted(q["t"] for q in self.fake.reqs("send")[n0:])
        self.assertGreaterEqual(len(t), 20)
        self.assertGreaterEqual(t[-1] - t[0], (len(t) - 1) / RATE * 0.9,
                                f"{len(t)} sends in {t[-1] - t[0]:.3f} s: a burst")


if __name__ == "__main__":
    unittest.main()
