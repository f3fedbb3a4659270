"""faults.py — what the network provider tests (test_http_provider.py,
test_android_provider.py, test_twilio_provider.py) share: ProviderCase,
a fake provider (fake_base.py) and a Site whose provider is that fake,
with the checks every provider must pass; and FaultMatrixTests, the fault
matrix run against each of them.

A provider's case subclasses ProviderCase and supplies only what differs:
make_fake(), provider_conf(secret) (the "provider = {...};" line),
sent_problems(rows) (how to read what reached the fake), assertAuthorised(),
and the names of its endpoints (SEND, INBOX, POLLS) and the secret
(SECRET). Its fault-matrix class is class FaultMatrix(FaultMatrixTests,
XCase): FaultMatrixTests is not a TestCase, so neither this module nor an
import of the mixin is ever run on its own (tests/run.py collects only
test_*.py, and ProviderCase holds no tests).

Every fault is put on the sends, then on the polls too, for a while, then
taken away; in every case the daemon stays up, the watchdog pings on time,
nothing is lost or doubled, recovery is bounded and nothing spins.

Python 3 standard library only.
"""
import collections
import json
import signal
import time
import unittest

import gl

POLL = 0.5               # poll_interval
RETRY_MAX = 2.0
LIMITS = f"limits = {{ retry_min = 0.5; retry_max = {RETRY_MAX}; send_attempts = 50; }};\n"
WATCHDOG_USEC = 400000
MAX_PING_GAP = 1.0       # seconds between two watchdog pings, at most


def recovery(timeout):
    """How long the site may take to settle after a fault ends: a request
    in flight may still hang for timeout (provider.timeout), a send waits
    up to RETRY_MAX (in whole seconds: +1), the next poll POLL."""
    return timeout + RETRY_MAX + 1 + POLL + 2.5


def resident(n):
    return f"+86138{n:08d}"


def body_id(req):
    """The "id" of a recorded request's JSON body, or None."""
    try:
        return json.loads(req["body"].decode("utf-8")).get("id")
    except (ValueError, AttributeError):
        return None


class ProviderCase(unittest.TestCase):
    """A fake provider in self.fake and a Site in self.site whose provider
    is the fake; self.injected: (provider id, phone, tag) of every inbound
    text."""
    TIMEOUT = 1.0            # provider.timeout in the generated config
    SECRET = ""              # the credential the logs must never show
    SEND = "send"            # the fake's endpoint for sends
    INBOX = "inbox"          # the fake's endpoint for the inbound poll
    POLLS = ("inbox",)       # every endpoint polled for inbound items
    IGNORE_CATEGORIES = ()   # tickets not made from injected texts
    extra = LIMITS

    def setUp(self):
        self.fake = self.make_fake()
        self.addCleanup(self.fake.close)
        self.site = gl.Site(poll_interval=POLL, extra=self.extra, provider=self.provider_conf())
        self.addCleanup(self.site.close)
        self.injected = []
        self.daemon = None

    @property
    def RECOVERY(self):
        return recovery(self.TIMEOUT)

    # ---- the provider's part ----

    def make_fake(self):
        raise NotImplementedError

    def provider_conf(self, secret=None):
        """The config's provider line for the fake, with secret (default
        the right one)."""
        raise NotImplementedError

    def sent_problems(self, rows):
        """Why the outbox rows and what reached the fake do not agree."""
        raise NotImplementedError

    def send_key(self, req):
        """What tells one text's sends from another's (a client id)."""
        return body_id(req)

    def assertAuthorised(self):
        raise NotImplementedError

    # ---- driving ----

    def inject(self, k=1, sender=None, body=None, **kw):
        """k inbound errands from new residents; their (id, phone, tag).
        kw goes to the fake's add_inbound()."""
        out = []
        for _ in range(k):
            n = len(self.injected) + 1
            phone, tag = resident(n), f"k{n}q"
            mid = self.fake.add_inbound(sender or phone, body or f"跑腿 菜园小区 买菜 {tag}", **kw)
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

    def wait_rows(self, pred, timeout, what):
        """Wait until the outbox rows (not none) satisfy pred; return them."""
        def check():
            rows = self.site.outbox_rows()
            return rows if rows and pred(rows) else None
        return gl.wait_for(check, timeout, what)

    def wait_sent(self, n, timeout=5.0):
        """Wait until there are n outbox rows or more, every one sent."""
        return self.wait_rows(lambda rs: len(rs) >= n and all(r["status"] == "sent" for r in rs),
                              timeout, "texts sent")

    # ---- what must hold ----

    def problems(self):
        """Why the site and the fake do not (yet) agree: every inbound text
        one ticket and one reply; then sent_problems()."""
        out = []
        tickets = [t for t in self.site.tickets() if t["category"] not in self.IGNORE_CATEGORIES]
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
        return out + self.sent_problems(rows)

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

    def assertNoSecret(self, secret=None):
        """secret (default SECRET) in no log and no notify line (STATUS=)."""
        secret = secret or self.SECRET
        self.assertNotIn(secret.encode(), self.site.all_logs())
        if self.daemon:
            self.assertFalse([s for s in self.daemon.lines() if secret in s])

    # ---- checks run by more than one provider's tests ----

    def check_texts_while_running(self):
        """Texts that come while the daemon runs become tickets within a
        few polls, with replies; it stops on SIGTERM with 0."""
        d = self.start()
        gl.wait_for(lambda: self.fake.reqs(self.INBOX), 5.0, "a first poll")
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

    def check_wrong_secret(self, wrong):
        """With a wrong secret every request gets 401; the daemon stays up
        and never shows the wrong secret."""
        self.site.provider = self.provider_conf(wrong)
        self.site.write_config(self.site.config_text(extra=self.extra))
        d = self.start()
        self.inject(1)
        gl.wait_for(lambda: len(self.fake.reqs(self.INBOX)) >= 3, 5.0, "3 polls")
        self.assertTrue(all(q["status"] == 401 for q in self.fake.reqs()))
        self.assertEqual(self.site.tickets(), [])
        self.assertNoSecret(wrong)
        self.assertWatchdogSteady(d)


class FaultMatrixTests:
    """The fault matrix, mixed into a ProviderCase subclass (first in the
    bases). Each fault on the sends, then on the polls too, for a while;
    then gone. REPEAT_FAULT: the fake's fault that serves a page's texts
    again (None: none); BAD_ID: add_inbound() arguments giving a text an id
    that is not UTF-8 (empty if the fake cannot)."""
    REPEAT_FAULT = None
    BAD_ID = {}

    @property
    def FAULT_TIME(self):
        return 2 * self.TIMEOUT + 0.5

    def run_fault(self, kind, **params):
        d = self.start()
        self.inject(1)
        self.settle()                       # a good start
        t_send = time.monotonic()
        self.fake.fault(self.SEND, kind, times=None, **params)
        self.inject(1)                      # its replies meet the fault
        gl.wait_for(lambda: any(q["fault"] == kind for q in self.fake.reqs(self.SEND)), 5.0,
                    f"a send meeting {kind}")
        for e in self.POLLS:
            self.fake.fault(e, kind, times=None, **params)
        self.inject(2)                      # these wait for the polls to work again
        t_poll = time.monotonic()
        time.sleep(self.FAULT_TIME)
        d.check_alive(f"{kind} for a while")
        self.assertWatchdogSteady(d)
        self.fake.clear()
        t_clear = time.monotonic()
        t_ok = self.settle(timeout=self.RECOVERY + 10)
        self.assertLess(t_ok - t_clear, self.RECOVERY, "slow recovery: backoff not bounded")
        self.assertWatchdogSteady(d)
        self.assertNoSpin(t_send, t_poll, t_clear)
        self.assertAuthorised()
        self.assertNoSecret()
        return d

    def assertNoSpin(self, t_send, t_poll, t_clear):
        """No tight loop from the fault on the sends (t_send) to its end
        (t_clear); t_poll: when the polls met it too."""
        self.assertPollsDoNotSpin(t_send, t_clear)
        self.assertSendsDoNotSpin(t_send, t_clear)

    def assertPollsDoNotSpin(self, t0, t1):
        polls = [q for q in self.fake.reqs(self.INBOX) if t0 <= q["t"] <= t1]
        self.assertLessEqual(len(polls), 2 * (t1 - t0) / POLL + 4, "polling in a tight loop")

    def assertSendsDoNotSpin(self, t0, t1):
        per_key = collections.Counter(self.send_key(q) for q in self.fake.reqs(self.SEND)
                                      if t0 <= q["t"] <= t1)
        for key, n in per_key.items():
            self.assertLessEqual(n, (t1 - t0) / 0.5 + 3, f"{key} resent in a tight loop")

    def test_500(self):
        self.run_fault("http", code=500)

    def test_503(self):
        self.run_fault("http", code=503)

    def test_429_with_retry_after(self):
        self.run_fault("http", code=429, retry_after=1)

    def test_hang_past_the_timeout(self):
        self.run_fault("hang", seconds=3 * self.TIMEOUT)

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
        self.inject(1, body="跑腿 菜园小区 买菜 k2q".encode() + b" \xed\xa0\x80", **self.BAD_ID)
        self.wait_tickets(2)
        kind = self.REPEAT_FAULT
        if kind:                            # the bad id comes again, 3 times
            self.fake.fault(self.INBOX, kind, times=3)
            gl.wait_for(lambda: sum(q["fault"] == kind for q in self.fake.reqs(self.INBOX)) == 3,
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
        t_ok = self.settle(timeout=self.RECOVERY + 10)
        self.assertLess(t_ok - t_up, self.RECOVERY)
        self.assertWatchdogSteady(d)

    def test_provider_down_for_a_while_then_back(self):
        d = self.start()
        self.inject(1)
        self.settle()
        self.fake.fault(self.SEND, "http", times=None, code=503)
        self.inject(2)          # tickets made, replies queued
        gl.wait_for(lambda: len(self.site.tickets()) == 3, 5.0, "3 tickets")
        self.fake.down()
        self.fake.clear()
        self.inject(2)          # arrive at the provider while gridline cannot reach it
        time.sleep(2 * self.TIMEOUT + 1)
        d.check_alive("provider down")
        self.assertWatchdogSteady(d)
        self.assertEqual(len(self.site.tickets()), 3)
        t_up = time.monotonic()
        self.fake.up()
        t_ok = self.settle(timeout=self.RECOVERY + 10)
        self.assertLess(t_ok - t_up, self.RECOVERY)
        self.assertWatchdogSteady(d)
        self.assertNoSecret()

    def test_inbox_429_retry_after_is_honoured(self):
        d = self.start()
        gl.wait_for(lambda: self.fake.reqs(self.INBOX), 5.0, "a first poll")
        self.fake.fault(self.INBOX, "http", code=429, retry_after=2)
        self.inject(1)
        self.settle()
        polls = self.fake.reqs(self.INBOX)
        i = next(n for n, q in enumerate(polls) if q["status"] == 429)
        self.assertGreater(len(polls), i + 1)
        gap = polls[i + 1]["t"] - polls[i]["t"]
        self.assertGreaterEqual(gap, 2.0 - 0.05, "polled again before Retry-After: 2 ran out")
        self.assertWatchdogSteady(d)
