"""test_twilio_provider.py — the real gridlined with provider type "twilio"
against the stateful fake in fake_twilio.py.

Covers: inbound texts become tickets and replies are POSTed form-encoded
(To, From, Body) with HTTP Basic AC:token (--once and daemon mode); the
list queries (To, DateSent> of the day before the cursor, PageSize) and the
Calls list; only inbound "received" texts are taken ("receiving" later);
pages followed by next_page_uri / PageToken; a message on two pages, or
seen again after a restart, is one ticket; texts stamped around GMT
midnight and late-stamped ones are not missed; a missed call becomes one
callback ticket; a send whose answer timed out is not posted again when
Twilio already has the text (dated and still-queued cases); 429 +
Retry-After honoured on sends and polls; permanent (400 21211) and
transient errors; a wrong token; the fault matrix of faults.py (500, 503,
429, 500 after the text was created, hang past the timeout, malformed and
truncated JSON, a body over max_response, connection closed, invalid
UTF-8, connection refused, down for a while) with the daemon up, watchdog
pings on time, nothing lost or doubled and a bounded recovery; delivery
statuses shown by `gridlinectl outbox`.
"""
import base64
import calendar
import collections
import os
import time
import unittest

import gl
from fake_twilio import FakeTwilio
from faults import FaultMatrixTests, ProviderCase, resident

TOKEN = "tw-secret-t0ken"
TIMEOUT = 1.0            # provider.timeout
RATE = 200.0


def today_start():
    return calendar.timegm(time.gmtime()[:3] + (0, 0, 0, 0, 0, 0))


def gmday(t):
    return time.strftime("%Y-%m-%d", time.gmtime(t))


class TwilioCase(ProviderCase):
    TIMEOUT = TIMEOUT
    SECRET = TOKEN
    INBOX = "list"
    POLLS = ("list", "calls")
    IGNORE_CATEGORIES = ("callback",)    # from missed calls, not from texts

    def make_fake(self):
        return FakeTwilio(token=TOKEN)

    def provider_conf(self, secret=None):
        f = self.fake
        return (f'provider = {{ type = "twilio"; account_sid = "{f.account}"; '
                f'auth_token = "{secret or TOKEN}"; number = "{f.number}"; base_url = "{f.url}/"; '
                f"timeout = {TIMEOUT}; connect_timeout = 1.0; max_response = 65536; "
                f"rate = {RATE}; }};")

    def sent_problems(self, rows):
        """Every outbox row sent, with the SID of exactly one text at the
        fake holding its recipient and body; no text at the fake without a
        row."""
        out = []
        sent = {m["sid"]: m for m in self.fake.sent()}
        loose = []
        for r in rows:
            if r["status"] not in ("sent", "delivered"):
                out.append(f"row {r['id']} is {r['status']} ({r['error']})")
                continue
            m = sent.pop(r.get("provider_id") or "", None)
            if m is None:
                loose.append(r)
            elif (m["to"], m["body"]) != (r["to"], r["body"]):
                out.append(f"row {r['id']}: {m['sid']} holds {m['to']} {m['body']!r}")
        for r in loose:       # accepted with an answer we could not read: no SID
            same = [s for s, m in sent.items() if (m["to"], m["body"]) == (r["to"], r["body"])]
            if not same:
                out.append(f"row {r['id']} ({r.get('provider_id')!r}) never reached the fake")
            else:
                sent.pop(same[0])
        if sent:
            out.append(f"texts at the fake without an outbox row: "
                       f"{[(m['to'], m['body'][:20]) for m in sent.values()]}")
        return out

    def send_key(self, req):
        return req["form"].get("To"), req["form"].get("Body")

    def posts(self):
        return self.fake.reqs("send")

    def assertAuthorised(self):
        want = "Basic " + base64.b64encode(f"{self.fake.account}:{TOKEN}".encode()).decode()
        for q in self.fake.reqs():
            self.assertEqual(q["headers"].get("authorization"), want, q["path"])


class Once(TwilioCase):

    def test_inbound_becomes_tickets_and_replies_are_posted(self):
        self.inject(2)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        base = f"/2010-04-01/Accounts/{self.fake.account}"
        [lst] = self.fake.reqs("list")
        self.assertEqual(lst["path"], base + "/Messages.json")
        yesterday = gmday(time.time() - 86400)
        self.assertEqual(lst["query"], {"To": self.fake.number, "DateSent>": yesterday,
                                        "PageSize": "50"})
        self.assertIn("DateSent%3E=", lst["raw_query"])
        [calls] = self.fake.reqs("calls")
        self.assertEqual(calls["query"], {"To": self.fake.number, "StartTime>": yesterday,
                                          "PageSize": "50"})
        rows = self.site.outbox_rows()
        self.assertEqual(len(self.posts()), len(rows))
        for q in self.posts():
            self.assertEqual(q["path"], base + "/Messages.json")
            self.assertIn("application/x-www-form-urlencoded", q["headers"]["content-type"])
            self.assertEqual(sorted(q["form"]), ["Body", "From", "To"])
            self.assertEqual(q["form"]["From"], self.fake.number)
            self.assertEqual(q["status"], 201)
        sids = {m["sid"] for m in self.fake.sent()}
        for r in rows:
            self.assertEqual(r["status"], "sent")
            self.assertIn(r["provider_id"], sids)
        self.assertAuthorised()
        self.assertNoSecret()

    def test_only_received_inbound_texts_are_taken(self):
        [(sid, phone, tag)] = self.inject(1)
        self.fake.set_status(sid, "receiving")
        # not to us as a resident's text: an outbound one to our own number
        self.fake.add_inbound(resident(99), "跑腿 菜园小区 outbound")
        self.fake.messages[-1]["direction"] = "outbound-reply"
        self.site.once()
        self.assertEqual(self.site.tickets(), [])
        self.fake.set_status(sid, "received")
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())

    def test_restart_re_lists_but_nothing_doubles(self):
        self.inject(3)
        self.site.once()
        self.site.once()          # a new process: no SID known in memory
        self.inject(1)
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        self.assertEqual(len(self.fake.reqs("list")), 3)

    def test_texts_around_gmt_midnight_and_late_ones_are_not_missed(self):
        t0 = today_start()
        self.inject(1, when=t0 - 1)           # 23:59:59 yesterday (GMT)
        self.inject(1, when=min(t0 + 1, time.time()))
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        # the cursor is today now: the next poll lists from yesterday on
        self.inject(1, when=t0 - 43200)       # stamped yesterday noon, listed only now
        self.site.once()
        self.assertEqual(self.problems(), [], self.log_tail())
        days = [q["query"].get("DateSent>") for q in self.fake.reqs("list")]
        self.assertEqual(days[-1], gmday(t0 - 86400))

    def test_missed_call_becomes_one_callback_ticket(self):
        caller = resident(77)
        self.fake.add_call(caller, status="no-answer")
        self.fake.add_call(resident(78), status="completed")     # answered: nothing
        self.fake.add_call(resident(79), status="ringing")       # not over yet
        self.site.once()
        self.site.once()
        tickets = self.site.tickets()
        cb = [t for t in tickets if t["category"] == "callback" and t["phone"] == caller]
        self.assertEqual(len(cb), 1, tickets)
        self.assertFalse([t for t in tickets if t["phone"] in (resident(78), resident(79))])

    def test_permanent_error_marks_the_row_failed_once(self):
        self.fake.fault("send", "http", times=None, code=400, body={
            "code": 21211, "message": "The 'To' number is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400})
        self.inject(1)
        self.site.once()
        self.site.once()
        rows = self.site.outbox_rows()
        self.assertTrue(rows)
        self.assertEqual(len(self.posts()), len(rows), "a permanent failure was retried")
        for r in rows:
            self.assertEqual(r["status"], "failed")
            self.assertIn("21211 The 'To' number is not a valid phone number.", r["error"])

    def test_transient_errors_keep_the_row_queued(self):
        for code in (429, 500, 503):
            with self.subTest(code=code):
                self.fake.clear()
                self.fake.fault("send", "http", times=None, code=code)
                old = ({r["id"] for r in self.site.outbox_rows()}
                       if os.path.exists(self.site.db) else set())
                self.inject(1)
                self.site.once()
                rows = [r for r in self.site.outbox_rows() if r["id"] not in old]
                self.assertTrue(rows)
                for r in rows:     # tried once in this run, and kept for the next
                    self.assertEqual(r["status"], "queued", r)
                    self.assertEqual(r["attempts"], 1, r)
                    self.assertIn(str(code), r["error"] or "")


class Paging(TwilioCase):

    def test_pages_followed_and_an_item_on_two_pages_is_one_ticket(self):
        self.inject(60)                         # PageSize 50: two pages
        self.fake.fault("list", "overlap", times=None)
        self.site.once(timeout=60)
        self.assertEqual(self.problems(), [], self.log_tail())
        lists = self.fake.reqs("list")
        self.assertGreaterEqual(len(lists), 2)
        self.assertNotIn("PageToken", lists[0]["query"])
        self.assertTrue(lists[1]["query"].get("PageToken", "").startswith("PA"), lists[1])
        self.assertTrue(all(q["status"] == 200 for q in lists))


class Running(TwilioCase):

    def test_texts_while_running_and_stop_at_known_pages(self):
        self.check_texts_while_running()

    def test_timed_out_send_is_not_posted_again(self):
        for unsent in (False, True):       # Twilio has it as sent, or still queued
            with self.subTest(unsent=unsent):
                self.fake.unsent = unsent
                self.fake.fault("send", "hang", times=1, seconds=3 * TIMEOUT)
                d = self.daemon or self.start()
                self.inject(1)
                self.settle()
                per_text = collections.Counter((q["form"]["To"], q["form"]["Body"])
                                               for q in self.posts())
                self.assertEqual(set(per_text.values()), {1}, per_text)
                lookups = [q for q in self.fake.reqs("list") if "From" in q["query"]]
                self.assertTrue(lookups, "no look-up before the retry")
                self.assertEqual(lookups[-1]["query"]["From"], self.fake.number)
                self.assertWatchdogSteady(d)

    def test_retry_after_on_send_is_honoured(self):
        d = self.start()
        self.fake.fault("send", "http", times=2, code=429, retry_after=2)
        self.inject(1)
        self.settle()
        first = self.posts()[0]
        to = first["form"]["To"]
        later = [q for q in self.fake.reqs() if q["t"] > first["t"] and
                 (q["form"].get("To") == to or q["query"].get("To") == to)]
        self.assertTrue(later)
        self.assertGreaterEqual(later[0]["t"] - first["t"], 2.0 - 0.05)
        self.assertWatchdogSteady(d)

    def test_wrong_token_gets_401_and_the_daemon_stays_up(self):
        self.check_wrong_secret("wr0ng-t0ken")

    def test_delivery_statuses_are_shown(self):
        self.start()
        self.inject(1)
        self.settle()
        rows = self.site.outbox_rows()
        good, bad = rows[0], rows[1]
        self.fake.set_status(good["provider_id"], "delivered")
        self.fake.set_status(bad["provider_id"], "undelivered", 30003, "Unreachable destination handset")
        gl.wait_for(lambda: {r["status"] for r in self.site.outbox_rows()[:2]}
                    == {"delivered", "failed"}, 8.0, "delivered and failed in the outbox")
        by_id = {r["id"]: r for r in self.site.outbox_rows()}
        self.assertIsNone(by_id[good["id"]]["error"])
        self.assertIn("30003 Unreachable destination handset", by_id[bad["id"]]["error"])
        self.assertTrue(all(q["status"] == 200 for q in self.fake.reqs("fetch")))


class FaultMatrix(FaultMatrixTests, TwilioCase):
    """Each fault on sends, then on both lists too, for a while; then gone
    (faults.py)."""

    def assertNoSpin(self, t_send, t_poll, t_clear):
        # lists counted only once they fail too: before, every failed send
        # is looked up (a list with From) before it is posted again
        self.assertPollsDoNotSpin(t_poll, t_clear)
        self.assertSendsDoNotSpin(t_send, t_clear)

    def test_500_after_the_text_was_created(self):
        self.run_fault("http", code=500, apply=True)


if __name__ == "__main__":
    unittest.main()
