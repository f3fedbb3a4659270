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
Retry-After on /message and /inbox; the fault matrix of faults.py (500,
503, 429, a hung answer, malformed and truncated JSON, a body over
max_response, the connection closed, invalid UTF-8 in JSON strings,
connection refused, the phone away for a while) with, each time, the daemon up, watchdog pings on
time, nothing lost or doubled, a bounded recovery and no tight loop;
delivery states (Delivered; Failed with the gateway's error text shown by
`gridlinectl outbox --all --json`) — this last one needs the outbox side
that calls ops->status (being merged); before that it fails here.
"""
import collections
import json
import re
import time
import unittest

from fake_android import FakeAndroid, iso_ms, now_ms, parse_iso
from faults import LIMITS, FaultMatrixTests, ProviderCase, body_id as send_key, recovery

USER = "sms"
PASSWORD = "pa55w0rd-s3cret"
TIMEOUT = 1.0            # provider.timeout in the generated config
RATE = 50.0              # provider.rate
OVERLAP_MS = 3600 * 1000
RECOVERY = recovery(TIMEOUT)
KEY = re.compile(r"^gridline-([0-9]+)-([0-9]+)$")


def provider_line(url, password=PASSWORD, more=""):
    return (f'provider = {{ type = "android"; url = "{url}"; password = "{password}"; '
            f"timeout = {TIMEOUT}; connect_timeout = 1.0; max_response = 65536; "
            f"rate = {RATE}; {more}}};")


def row_of(key):
    m = KEY.match(key or "")
    return int(m.group(1)) if m else None


class AndroidCase(ProviderCase):
    """A fake phone and a Site whose provider is the fake."""
    TIMEOUT = TIMEOUT
    SECRET = PASSWORD
    provider_more = ""

    def make_fake(self):
        return FakeAndroid(user=USER, password=PASSWORD)

    def provider_conf(self, secret=None):
        return provider_line(self.fake.url, password=secret or PASSWORD, more=self.provider_more)

    def sent_problems(self, rows):
        """Every outbox row sent and exactly one SMS at the fake under its
        id; no SMS without a row."""
        out = []
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
        self.check_texts_while_running()

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
        self.check_wrong_secret("wr0ng-pw")

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


class FaultMatrix(FaultMatrixTests, AndroidCase):
    """Each fault on /message, then on /inbox too, for a while; then gone
    (faults.py)."""
    REPEAT_FAULT = "twice"              # the bad id comes twice a page
    BAD_ID = {"id": b"m-\xff\xfe-2"}


class Delivery(AndroidCase):
    """Delivery states, asked for by the outbox for every sent text."""

    def test_delivered_and_failed_are_shown_with_the_error(self):
        d = self.start()
        self.inject(1)
        rows = self.wait_sent(2)
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
