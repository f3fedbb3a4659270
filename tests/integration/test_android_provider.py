"""test_android_provider.py — the real gridlined with provider type
"android" (SMS Gateway for Android, local server) against the stateful fake
in fake_android.py.

Covers: inbound texts become tickets and every reply is POSTed to /message
with the right JSON, a client id "gridline-<row>-<created_at>" and Basic
auth (--once and daemon mode); GET /inbox asks type=SMS, limit = batch,
offset paging, and from = high-water mark minus the one-hour overlap; a
text that reaches the phone late with an older createdAt is still taken;
a text on a page twice, or seen again after a restart, is one ticket; texts
are handed over oldest first; a send whose answer hung past the timeout
after the gateway stored it is repeated with the same id, answered 409,
counted as sent: one SMS; permanent (400) and transient (500) send errors;
a wrong password (401) keeps the daemon up and is never logged;
Retry-After on /message and /inbox; the fault matrix (500, 503, 429, a
hung answer, malformed and truncated JSON, a body over max_response, the
connection closed, invalid UTF-8 in JSON strings, connection refused, the
phone away for a while) with, each time, the daemon up, watchdog pings on
time, nothing lost or doubled, a bounded recovery and no tight loop;
delivery states (Delivered; Failed with the gateway's error text shown by
`gridlinectl outbox --all --json`) — this last one needs the outbox side
that calls ops->status (being merged); before that it fails here.
"""
import collections
import json
import re
import signal
import time
import unittest

import gl
from fake_android import FakeAndroid, iso_ms, now_ms, parse_iso

USER = "sms"
PASSWORD = "pa55w0rd-s3cret"
TIMEOUT = 1.0            # provider.timeout in the generated config
POLL = 0.5               # poll_interval
RATE = 50.0              # provider.rate
RETRY_MAX = 2.0
LIMITS = f"limits = {{ retry_min = 0.5; retry_max = {RETRY_MAX}; send_attempts = 50; }};\n"
WATCHDOG_USEC = 400000
MAX_PING_GAP = 1.0       # seconds between two watchdog pings, at most
OVERLAP_MS = 3600 * 1000
# after a fault ends: a request in flight may still hang for TIMEOUT, a
# send waits up to RETRY_MAX (in whole seconds: +1), the next poll POLL
RECOVERY = TIMEOUT + RETRY_MAX + 1 + POLL + 2.5
KEY = re.compile(r"^gridline-([0-9]+)-([0-9]+)$")


def resident(n):
    return f"+86138{n:08d}"


def provider_line(url, password=PASSWORD, more=""):
    return (f'provider = {{ type = "android"; url = "{url}"; password = "{password}"; '
            f"timeout = {TIMEOUT}; connect_timeout = 1.0; max_response = 65536; "
            f"rate = {RATE}; {more}}};")


def send_key(req):
    """The client message id of a recorded POST /message, or None."""
    try:
        return json.loads(req["body"].decode("utf-8")).get("id")
    except (ValueError, AttributeError):
        return None


def row_of(key):
    m = KEY.match(key or "")
    return int(m.group(1)) if m else None


class AndroidCase(unittest.TestCase):
    """A fake phone and a Site whose provider is the fake."""
    extra = LIMITS
    provider_more = ""

    def setUp(self):
        self.fake = FakeAndroid(user=USER, password=PASSWORD)
        self.addCleanup(self.fake.close)
        self.site = gl.Site(poll_interval=POLL, extra=self.extra,
                            provider=provider_line(self.fake.url, more=self.provider_more))
        self.addCleanup(self.site.close)
        self.injected = []       # (provider id, phone, tag) of every inbound text
        self.daemon = None

    # ---- driving ----

    def inject(self, k=1, sender=None, body=None, id=None, created_ms=None):
        """k inbound errands from new residents; their (id, phone, tag)."""
        out = []
        for _ in range(k):
            n = len(self.injected) + 1
            phone, tag = resident(n), f"k{n}q"
            mid = self.fake.add_inbound(sender or phone, body or f"跑腿 菜园小区 买菜 {tag}",
                                        id=id, created_ms=created_ms)
            self.injected.append((mid, phone, tag))
            out.append((mid, phone, tag))
        return out

    def start(self):
        self.daemon = self.site.start(env={"WATCHDOG_USEC": str(WATCHDOG_USEC)})
        self.daemon.wait_ready()
        return self.daemon

    def wait_tickets(self, n, timeout=5.0):
        return gl.wait_for(lambda: len(self.site.tickets()) >= n and self.site.tickets(),
                           timeout, f"{n} ticket(s)")

    # ---- what must hold ----

    def problems(self):
        """Why the site and the fake do not (yet) agree: every inbound text
        one ticket and one reply; every outbox row sent and exactly one SMS
        at the fake under its id; no SMS without a row."""
        out = []
        tickets = self.site.tickets()
        rows = self.site.outbox_rows()
        if len(tickets) != len(self.injected):
            out.append(f"{len(tickets)} tickets for {len(self.injected)} inbound texts")
        by_phone = collections.defaultdict(list)
        for t in tickets:
            by_phone[t["phone"]].append(t)
        for mid, phone, tag in self.injected:
            texts = [t["text"] for t in by_phone[phone]]
            if len(texts) != 1 or tag not in texts[0]:
                out.append(f"inbound {mid!r} from {phone}: tickets {texts}")
            replies = [r["id"] for r in rows if r["to"] == phone]
            if len(replies) != 1:
                out.append(f"inbound {mid!r} from {phone}: replies {replies}")
        sms = collections.defaultdict(list)
        for s in self.fake.sms_list():
            sms[row_of(s["id"])].append(s)
        for r in rows:
            got = sms.pop(r["id"], [])
            if r["status"] not in ("sent", "delivered"):
                out.append(f"row {r['id']} is {r['status']} ({r['error']})")
            if len(got) != 1:
                out.append(f"row {r['id']}: {len(got)} SMS at the fake")
            elif (got[0]["to"], got[0]["body"]) != (r["to"], r["body"]):
                out.append(f"row {r['id']}: the fake got {got[0]['to']} {got[0]['body']!r}")
            elif r["status"] == "sent" and r["provider_id"] != got[0]["id"]:
                out.append(f"row {r['id']}: provider_id {r['provider_id']!r}")
        if sms:
            out.append(f"SMS at the fake without an outbox row: {dict(sms)}")
        return out

    def settle(self, timeout=15.0):
        """Wait until problems() is empty; then make sure it stays so."""
        deadline = time.monotonic() + timeout
        while True:
            if self.daemon:
                self.daemon.check_alive("the site to settle")
            p = self.problems()
            if not p:
                break
            if time.monotonic() > deadline:
                self.fail(f"not settled after {timeout} s: {p}\n{self.log_tail()}")
            time.sleep(0.2)
        t = time.monotonic()
        time.sleep(1.0)          # nothing late may double anything
        self.assertEqual(self.problems(), [], self.log_tail())
        return t

    def wait_rows(self, pred, timeout, what):
        def check():
            rows = self.site.outbox_rows()
            return rows if rows and pred(rows) else None
        return gl.wait_for(check, timeout, what)

    def log_tail(self):
        return "log:\n" + self.site.all_logs().decode("utf-8", "replace")[-3000:]

    def assertWatchdogSteady(self, d=None):
        d = d or self.daemon
        d.check_alive("watchdog")
        ready = d.times("READY=1")[0]
        pings = [t for t in d.times("WATCHDOG=1") if t >= ready]
        self.assertTrue(pings, "no WATCHDOG=1 at all")
        seq = [ready] + pings + [time.monotonic()]
        gaps = [(b - a, a - ready) for a, b in zip(seq, seq[1:])]
        worst = max(gaps)
        self.assertLessEqual(worst[0], MAX_PING_GAP,
                             f"a {worst[0]:.2f} s gap between watchdog pings, "
                             f"{worst[1]:.1f} s after READY=1")

    def assertNoSecret(self, secret=PASSWORD):
        self.assertNotIn(secret.encode(), self.site.all_logs())
        if self.daemon:
            self.assertFalse([s for s in self.daemon.lines() if secret in s])

    def assertAuthorised(self):
        for q in self.fake.reqs():
            self.assertTrue(q["headers"].get("authorization", "").startswith("Basic "), q["path"])
            self.assertEqual(q["status"] != 401, True, q["path"])
            self.assertIn("application/json", q["headers"].get("accept", ""), q["path"])


class Once(AndroidCase):
    """gridlined --once against the fake."""

    def test_inbound_becomes_tickets_and_replies_are_posted(self):
        self.inject(2)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        [inbox] = self.fake.reqs("inbox")
        self.assertEqual(inbox["path"], "/inbox")
        self.assertEqual(inbox["query"].get("type"), "SMS")
        self.assertEqual(inbox["query"].get("limit"), "500")   # limits.batch
        self.assertEqual(inbox["query"].get("offset"), "0")
        self.assertNotIn("from", inbox["query"])                # no cursor yet
        rows = self.site.outbox_rows()
        sends = self.fake.reqs("send")
        self.assertEqual(len(sends), len(rows))
        for q in sends:
            self.assertEqual((q["method"], q["path"]), ("POST", "/message"))
            self.assertIn("application/json", q["headers"].get("content-type", ""))
            j = json.loads(q["body"].decode("utf-8"))
            self.assertEqual(sorted(j), ["id", "phoneNumbers", "textMessage",
                                         "withDeliveryReport"])
            self.assertRegex(j["id"], KEY)
            self.assertLessEqual(len(j["id"]), 36)
            self.assertEqual(len(j["phoneNumbers"]), 1)
            self.assertRegex(j["phoneNumbers"][0], r"^\+[0-9]+$")
            self.assertEqual(sorted(j["textMessage"]), ["text"])
            self.assertIs(j["withDeliveryReport"], True)
            r = next(r for r in rows if r["id"] == row_of(j["id"]))
            self.assertEqual((j["phoneNumbers"][0], j["textMessage"]["text"]),
                             (r["to"], r["body"]))
            self.assertEqual(r["provider_id"], j["id"])
        self.assertAuthorised()
        self.assertNoSecret()

    def test_cursor_asks_from_high_water_minus_overlap_and_takes_late_texts(self):
        t0 = now_ms() - 60000
        self.inject(1, created_ms=t0 - 5000)
        self.inject(1, created_ms=t0)
        self.site.once()
        self.site.once()                           # nothing new; a new process
        # reaches the phone now, but with a createdAt 10 minutes older
        self.inject(1, created_ms=t0 - 600000)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        froms = [q["query"].get("from") for q in self.fake.reqs("inbox")]
        self.assertIsNone(froms[0])
        self.assertEqual(froms[1:], [iso_ms(t0 - OVERLAP_MS)] * 2)
        self.assertEqual(parse_iso(froms[1]), t0 - OVERLAP_MS)
        self.assertTrue(all(q["status"] == 200 for q in self.fake.reqs("inbox")))

    def test_same_text_twice_on_a_page_is_one_ticket(self):
        self.inject(2)
        self.fake.fault("inbox", "twice")
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        self.assertEqual(self.fake.reqs("inbox")[0]["fault"], "twice")

    def test_permanent_send_error_fails_the_row_once(self):
        self.fake.fault("send", "http", times=None, code=400,
                        body={"message": "phone number is not valid"})
        self.inject(1)
        self.site.once()
        self.site.once()
        rows = self.site.outbox_rows()
        self.assertTrue(rows)
        self.assertEqual(len(self.fake.reqs("send")), len(rows), "a 400 was retried")
        for r in rows:
            self.assertEqual(r["status"], "failed", r)
            self.assertIn("400", r["error"])
            self.assertIn("phone number is not valid", r["error"])

    def test_transient_send_error_keeps_the_row_queued(self):
        self.fake.fault("send", "http", times=None, code=500)
        self.inject(1)
        self.site.once()
        rows = self.site.outbox_rows()
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual(r["status"], "queued", r)
            self.assertGreaterEqual(r["attempts"], 1, r)
            self.assertIn("HTTP 500", r["error"])
        self.assertEqual(self.fake.sms_list(), [])


class Paging(AndroidCase):
    extra = LIMITS.replace("limits = {", "limits = { batch = 2;")

    def test_pages_by_offset_and_hands_over_oldest_first(self):
        t0 = now_ms() - 60000
        # injected newest first: the order of the tickets must follow createdAt
        for k in range(5):
            self.inject(1, created_ms=t0 - 1000 * k)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        qs = [q["query"] for q in self.fake.reqs("inbox")]
        self.assertTrue(all(q.get("limit") == "2" for q in qs), qs)
        self.assertEqual([q["offset"] for q in qs[:3]], ["0", "2", "4"])
        by_ticket = [t["phone"] for t in self.site.tickets()]
        self.assertEqual(by_ticket, [p for _, p, _ in reversed(self.injected)])


class Running(AndroidCase):

    def test_texts_while_running_become_tickets_and_replies(self):
        d = self.start()
        gl.wait_for(lambda: self.fake.reqs("inbox"), 5.0, "a first poll")
        self.inject(2)
        t0 = time.monotonic()
        self.wait_tickets(2, timeout=3 * POLL + 1)
        self.assertLess(time.monotonic() - t0, 3 * POLL + 1, "poll lag")
        self.settle()
        self.inject(1)
        self.settle()
        self.assertAuthorised()
        self.assertNoSecret()
        self.assertWatchdogSteady(d)
        d.send(signal.SIGTERM)
        self.assertEqual(d.wait_exit(5), 0)

    def test_repeated_send_after_hung_answer_makes_one_sms(self):
        # the phone stores the message, then its answer hangs past the timeout
        self.fake.fault("send", "hang", times=1, seconds=3 * TIMEOUT)
        d = self.start()
        self.inject(1)
        self.settle()
        sends = self.fake.reqs("send")
        first = sends[0]
        again = [q for q in sends[1:] if send_key(q) == send_key(first)]
        self.assertEqual(len(again), 1, [send_key(q) for q in sends])
        self.assertEqual(again[0]["status"], 409)
        self.assertEqual(json.loads(again[0]["body"]), json.loads(first["body"]))
        self.assertEqual(len(self.fake.sms_list()), len(self.site.outbox_rows()))
        self.assertWatchdogSteady(d)

    def test_wrong_password_gets_401_and_the_daemon_stays_up(self):
        self.site.provider = provider_line(self.fake.url, password="wr0ng-pw")
        self.site.write_config(self.site.config_text(extra=self.extra))
        d = self.start()
        self.inject(1)
        gl.wait_for(lambda: len(self.fake.reqs("inbox")) >= 3, 5.0, "3 polls")
        self.assertTrue(all(q["status"] == 401 for q in self.fake.reqs()))
        self.assertEqual(self.site.tickets(), [])
        self.assertNoSecret("wr0ng-pw")
        self.assertWatchdogSteady(d)

    def test_retry_after_on_send_is_honoured(self):
        self.fake.fault("send", "http", times=2, code=429, retry_after=2)
        d = self.start()
        self.inject(1)
        self.settle(timeout=RECOVERY + 5)
        times = collections.defaultdict(list)
        for q in self.fake.reqs("send"):
            times[send_key(q)].append(q["t"])
        retried = {k: ts for k, ts in times.items() if len(ts) > 1}
        self.assertTrue(retried, times)
        for key, ts in retried.items():
            self.assertGreaterEqual(ts[1] - ts[0], 2.0 - 0.05,
                                    f"{key} retried {ts[1] - ts[0]:.3f} s after Retry-After: 2")
        self.assertWatchdogSteady(d)

    def test_inbox_429_retry_after_is_honoured(self):
        d = self.start()
        gl.wait_for(lambda: self.fake.reqs("inbox"), 5.0, "a first poll")
        self.fake.fault("inbox", "http", code=429, retry_after=2)
        self.inject(1)
        self.settle()
        polls = self.fake.reqs("inbox")
        i = next(n for n, q in enumerate(polls) if q["status"] == 429)
        self.assertGreater(len(polls), i + 1)
        gap = polls[i + 1]["t"] - polls[i]["t"]
        self.assertGreaterEqual(gap, 2.0 - 0.05, "polled again before Retry-After: 2 ran out")
        self.assertWatchdogSteady(d)


class FaultMatrix(AndroidCase):
    """Each fault on /message, then on /inbox too, for a while; then gone."""
    FAULT_TIME = 2 * TIMEOUT + 0.5

    def run_fault(self, kind, **params):
        d = self.start()
        self.inject(1)
        self.settle()                       # a good start
        t_fault = time.monotonic()
        self.fake.fault("send", kind, times=None, **params)
        self.inject(1)                      # its replies meet the fault
        gl.wait_for(lambda: any(q["fault"] == kind for q in self.fake.reqs("send")), 5.0,
                    f"a send meeting {kind}")
        self.fake.fault("inbox", kind, times=None, **params)
        self.inject(2)                      # these wait for the inbox to work again
        time.sleep(self.FAULT_TIME)
        d.check_alive(f"{kind} for a while")
        self.assertWatchdogSteady(d)
        self.fake.clear()
        t_clear = time.monotonic()
        t_ok = self.settle(timeout=RECOVERY + 10)
        self.assertLess(t_ok - t_clear, RECOVERY, "slow recovery: backoff not bounded")
        self.assertWatchdogSteady(d)
        self.assertNoSpin(t_fault, t_clear)
        self.assertNoSecret()
        return d

    def assertNoSpin(self, t0, t1):
        span = t1 - t0
        inbox = [q for q in self.fake.reqs("inbox") if t0 <= q["t"] <= t1]
        self.assertLessEqual(len(inbox), 2 * span / POLL + 4, "polling in a tight loop")
        per_key = collections.Counter(send_key(q) for q in self.fake.reqs("send")
                                      if t0 <= q["t"] <= t1)
        for key, n in per_key.items():
            self.assertLessEqual(n, span / 0.5 + 3, f"{key} resent in a tight loop")

    def test_500(self):
        self.run_fault("http", code=500)

    def test_503(self):
        self.run_fault("http", code=503)

    def test_429_with_retry_after(self):
        self.run_fault("http", code=429, retry_after=1)

    def test_hang_past_the_timeout(self):
        self.run_fault("hang", seconds=3 * TIMEOUT)

    def test_malformed_json(self):
        self.run_fault("malformed")

    def test_truncated_json(self):
        self.run_fault("truncated")

    def test_body_over_max_response(self):
        self.run_fault("oversize", size=65536 + 1000)

    def test_connection_closed_without_answer(self):
        self.run_fault("close")

    def test_invalid_utf8_in_json_strings(self):
        d = self.start()
        self.inject(1, body="跑腿 菜园小区 买菜 ".encode() + b"\xff\xfe k1q \xc3")
        self.inject(1, body="跑腿 菜园小区 买菜 k2q".encode() + b" \xed\xa0\x80",
                    id=b"m-\xff\xfe-2")
        self.wait_tickets(2)
        self.fake.fault("inbox", "twice", times=3)     # the bad id comes twice a page
        gl.wait_for(lambda: sum(q["fault"] == "twice" for q in self.fake.reqs("inbox")) == 3,
                    5.0, "3 pages repeating the message with the bad id")
        self.settle()
        texts = [t["text"] for t in self.site.tickets()]
        self.assertIn("\ufffd", [t for t in texts if "k1q" in t][0])   # repaired, not dropped
        self.assertIn("\ufffd", [t for t in texts if "k2q" in t][0])
        self.assertWatchdogSteady(d)

    def test_connection_refused_from_the_start(self):
        self.fake.down()
        d = self.start()
        self.inject(2)
        time.sleep(2.0)
        d.check_alive("connection refused")
        self.assertEqual(self.site.tickets(), [])
        self.assertWatchdogSteady(d)
        self.fake.up()
        t_up = time.monotonic()
        t_ok = self.settle(timeout=RECOVERY + 10)
        self.assertLess(t_ok - t_up, RECOVERY)
        self.assertWatchdogSteady(d)

    def test_phone_away_for_a_while_then_back(self):
        d = self.start()
        self.inject(1)
        self.settle()
        self.fake.fault("send", "http", times=None, code=503)
        self.inject(2)          # tickets made, replies queued
        gl.wait_for(lambda: len(self.site.tickets()) == 3, 5.0, "3 tickets")
        self.fake.down()
        self.fake.clear()
        self.inject(2)          # reach the phone while gridline cannot reach it
        time.sleep(2 * TIMEOUT + 1)
        d.check_alive("phone away")
        self.assertWatchdogSteady(d)
        self.assertEqual(len(self.site.tickets()), 3)
        t_up = time.monotonic()
        self.fake.up()
        t_ok = self.settle(timeout=RECOVERY + 10)
        self.assertLess(t_ok - t_up, RECOVERY)
        self.assertWatchdogSteady(d)
        self.assertNoSecret()


class Delivery(AndroidCase):
    """Delivery states, asked for by the outbox for every sent text."""

    def test_delivered_and_failed_are_shown_with_the_error(self):
        d = self.start()
        self.inject(1)
        rows = self.wait_rows(lambda rs: len(rs) >= 2 and all(r["status"] == "sent" for r in rs),
                              5.0, "texts sent")
        good, bad = rows[0], rows[1]
        self.fake.set_state(good["provider_id"], "Delivered")
        self.fake.set_state(bad["provider_id"], "Failed", error="RESULT_ERROR_NO_SERVICE")
        self.wait_rows(lambda rs: {r["status"] for r in rs[:2]} == {"delivered", "failed"},
                       10.0, "delivered and failed in the outbox")
        by_id = {r["id"]: r for r in self.site.outbox_rows()}
        self.assertEqual(by_id[good["id"]]["status"], "delivered")
        self.assertEqual(by_id[bad["id"]]["status"], "failed")
        self.assertIn("RESULT_ERROR_NO_SERVICE", by_id[bad["id"]]["error"])
        t_final = time.monotonic()
        time.sleep(1.5)          # a final state is not asked for again
        for q in self.fake.reqs("state"):
            self.assertEqual((q["method"], q["status"]), ("GET", 200))
            if q["t"] > t_final + 0.5:
                self.assertNotIn(q["mid"], (good["provider_id"], bad["provider_id"]))
        self.assertWatchdogSteady(d)


if __name__ == "__main__":
    unittest.main()
