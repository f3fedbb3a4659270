"""test_phone.py — the phone side of the hotline: gridlinectl ticket new,
assign, close, reopen and note against the real binaries (see gl.py).

Covers: a request taken by phone is routed, recorded and texted exactly
like the same request sent by SMS (compared field by field against a
twin site that received the text), with channel "phone" and the actor
"operator:X"; each operator verb's effect on the ticket, its history and
the outbox; the state machine's refusals (closing a cancelled ticket,
...) and bad input (unknown category, worker, operator, ticket; bad
phone; blank text) as clear errors with exit 1 or 2 and nothing changed;
a command while another writer holds the database; and a command while
gridlined runs: the daemon sends what gridlinectl queued.
"""
import json
import sqlite3
import threading
import time
import unittest

import gl
from gl import PHONES

R1 = "+8613800000001"
R2 = "+8613800000002"
OP = ("--operator", "op1")


class PhoneCase(gl.SiteCase):
    def setUp(self):
        super().setUp()
        self.site.once()          # the database exists, as on any installation

    def ctl(self, *args):
        return self.site.ctl(*args, check=False)

    def new(self, phone, category, text, *extra):
        p = self.site.ctl("ticket", "new", "--phone", phone, "--category", category,
                          "--text", text, *OP, *extra)
        return int(p.stdout.decode().strip())

    def text(self, sender, body):
        self.site.drop(sender, body)
        self.site.once()

    def snapshot(self):
        """Everything a refused command must leave alone."""
        return (self.site.tickets(), self.site.outbox_rows(),
                [self.site.events(t["id"]) for t in self.site.tickets()])

    def assertRefused(self, args, code, words):
        before = self.snapshot()
        p = self.ctl(*args)
        err = p.stderr.decode()
        self.assertEqual(p.returncode, code, f"{args}: {err}")
        for w in words:
            self.assertIn(w, err, args)
        self.assertEqual(p.stdout, b"", args)
        self.assertEqual(self.snapshot(), before, f"{args} changed something")
        return err


class NewLikeAText(PhoneCase):
    """ticket new against a twin site that got the same request by SMS."""

    CASES = [
        # (category, SMS keyword, text, register the resident?)
        ("repair", "报修", "寇庄西路6号院3单元 下水管堵了", False),       # vendor, grid worker copied
        ("errand", "跑腿", "帮我买点菜", True),                          # grid worker, from the register
        ("service", "办事", "菜园小区 想办残疾证", False),                # specialist, copied
        ("errand", "跑腿", "帮我买点菜", False),                         # no grid: operators' queue
    ]

    def twin(self):
        site = gl.Site()
        self.addCleanup(site.close)
        return site

    @staticmethod
    def comparable_rows(site):
        return [(r["to"], r["kind"], r["body"], r["ticket"], r["status"])
                for r in site.outbox_rows()]

    def test_routed_and_notified_like_a_text(self):
        for cat, kw, text, registered in self.CASES:
            with self.subTest(category=cat, text=text, registered=registered):
                sms, phone = self.twin(), self.twin()
                for s in (sms, phone):
                    if registered:
                        s.residents_import([("13800000001", "王秀英", "寇庄西路6号院3单元", "")])
                sms.drop(R1, f"{kw} {text}")
                sms.once()
                p = phone.ctl("ticket", "new", "--phone", "138 0000 0001", "--category", cat,
                              "--text", text, *OP)
                self.assertEqual(p.stdout.decode(), "1001\n")
                self.assertEqual(p.stderr, b"")
                [ts], [tp] = sms.tickets(), phone.tickets()
                self.assertEqual(ts["channel"], "sms")
                self.assertEqual(tp["channel"], "phone")
                for k in ("id", "category", "status", "grid", "assignee", "phone", "text",
                          "address", "rating"):
                    self.assertEqual(tp[k], ts[k], k)
                self.assertEqual(ts["category"], cat)
                # the same texts to the same people; the daemon has not sent the phone's yet
                rs = [r[:4] for r in self.comparable_rows(sms)]
                rp = self.comparable_rows(phone)
                self.assertEqual([r[:4] for r in rp], rs)
                self.assertTrue(all(r[4] == "queued" for r in rp), rp)
                self.assertIn((R1, "ack"), [(r[0], r[1]) for r in rp])
                # the same history, but created by the operator
                es, ep = sms.events(1001), phone.events(1001)
                strip = [(e["event"], e["from_status"], e["to_status"], e["detail"]) for e in es]
                self.assertEqual([(e["event"], e["from_status"], e["to_status"], e["detail"])
                                  for e in ep], strip)
                self.assertEqual(es[0]["actor"], "resident:" + R1)
                self.assertEqual(ep[0]["actor"], "operator:op1")
                self.assertEqual([e["actor"] for e in ep[1:]], [e["actor"] for e in es[1:]])
                # and the daemon sends the queued texts as it sends its own
                phone.once()
                self.assertTrue(all(r[4] == "sent" for r in self.comparable_rows(phone)))

    def test_json_and_number_forms(self):
        p = self.site.ctl("ticket", "new", "--phone", "+86 138-0000-0002", "--category",
                          "repair", "--text", "  解放南路281号院 灯坏了  ", *OP, "--json")
        obj = json.loads(p.stdout.decode())
        self.assertEqual((obj["id"], obj["phone"], obj["channel"], obj["category"],
                          obj["grid"], obj["assignee"], obj["status"], obj["text"]),
                         (1001, R2, "phone", "repair", "g1", "v01", "assigned",
                          "解放南路281号院 灯坏了"))
        self.assertEqual(obj, self.site.tickets()[0])

    def test_bad_input_changes_nothing(self):
        new = ("ticket", "new", "--phone", R1, "--category")
        self.assertRefused(new + ("plumbing", "--text", "x", *OP), 1,
                           ["unknown category 'plumbing'", "repair"])
        self.assertRefused(new + ("unclassified", "--text", "x", *OP), 1, ["unclassified"])
        self.assertRefused(("ticket", "new", "--phone", "12ab", "--category", "repair",
                            "--text", "x", *OP), 2, ["not a phone number"])
        self.assertRefused(new + ("repair", "--text", " \t ", *OP), 2, ["empty"])
        self.assertRefused(new + ("repair", "--text", "x"), 2, ["--operator"])
        self.assertRefused(new + ("repair", "--text", "x", "--operator", "nobody"), 1,
                           ["unknown operator 'nobody'"])
        self.assertRefused(new + ("repair", "--text", "x", "--operator", "w01"), 1,
                           ["w01 is not an operator"])
        self.assertRefused(new + ("repair", *OP), 2, ["--text"])
        self.assertRefused(("ticket", "new", "--phone", R1, "--category", "repair",
                            "--text", "x", "extra", *OP), 2, ["extra"])
        # a text that is not UTF-8 (the operator's terminal in GBK)
        p = self.site.ctl("ticket", "new", "--phone", R1, "--category", "repair",
                          "--text", "报修".encode("gbk").decode("utf-8", "surrogateescape"),
                          *OP, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn("UTF-8", p.stderr.decode())
        self.assertEqual(self.site.tickets(), [])
        self.assertEqual(self.site.outbox_rows(), [])


class OperatorVerbs(PhoneCase):

    def test_assign_and_reassign(self):
        n = self.new(R1, "errand", "帮我买点菜")           # nobody's: operators' queue
        self.assertEqual(self.site.ticket(n)["status"], "new")
        before = len(self.site.outbox_rows())
        p = self.site.ctl("ticket", "assign", str(n), "w02", *OP)
        self.assertEqual(p.stdout.decode(), f"ticket {n}: assigned, assignee w02\n")
        t = self.site.ticket(n)
        self.assertEqual((t["status"], t["assignee"]), ("assigned", "w02"))
        e = self.site.events(n)[-1]
        self.assertEqual((e["actor"], e["event"], e["from_status"], e["to_status"], e["detail"]),
                         ("operator:op1", "assign", "new", "assigned", "w02"))
        new_rows = self.site.outbox_rows()[before:]
        self.assertEqual([(r["to"], r["kind"]) for r in new_rows], [(PHONES["w02"], "notify")])
        self.assertIn(str(n), new_rows[0]["body"])
        self.assertIn("帮我买点菜", new_rows[0]["body"])
        # to another worker: the first one is told it went elsewhere
        before = len(self.site.outbox_rows())
        obj = self.site.ctl_json("ticket", "assign", str(n), "w03", *OP, "--json")
        self.assertEqual((obj["id"], obj["assignee"], obj["status"]), (n, "w03", "assigned"))
        new_rows = self.site.outbox_rows()[before:]
        self.assertEqual(sorted((r["to"], r["kind"]) for r in new_rows),
                         sorted([(PHONES["w03"], "notify"), (PHONES["w02"], "handed_over")]))
        self.assertIn("张敏", [r for r in new_rows if r["kind"] == "handed_over"][0]["body"])
        # the new assignee's bare "1" means this ticket
        self.text(PHONES["w03"], "1")
        self.assertEqual(self.site.ticket(n)["status"], "accepted")

    def test_close_with_note_tells_only_the_worker(self):
        self.site.residents_import([("13800000001", "王秀英", "寇庄西路6号院3单元", "")])
        n = self.new(R1, "errand", "帮我买点菜")
        self.assertEqual(self.site.ticket(n)["assignee"], "w02")
        before = self.site.outbox_rows()
        p = self.site.ctl("ticket", "close", str(n), "--note", "电话里已解决", *OP)
        self.assertEqual(p.stdout.decode(), f"ticket {n}: closed, assignee w02\n")
        self.assertEqual(self.site.ticket(n)["status"], "closed")
        e = self.site.events(n)[-1]
        self.assertEqual((e["actor"], e["event"], e["from_status"], e["to_status"], e["detail"]),
                         ("operator:op1", "close", "assigned", "closed", "电话里已解决"))
        new = [r for r in self.site.outbox_rows() if r not in before]
        self.assertEqual([r["to"] for r in new], [PHONES["w02"]])   # not the resident
        self.assertIn("无需再处理", new[0]["body"])
        self.assertIn("电话里已解决", new[0]["body"])
        # closing it again is refused by the state machine
        self.assertRefused(("ticket", "close", str(n), *OP), 1,
                           [f"cannot close ticket {n}", "closed"])
        # without a note the event has none
        m = self.new(R2, "repair", "解放南路281号院 灯坏了")
        self.site.ctl("ticket", "close", str(m), *OP)
        self.assertIsNone(self.site.events(m)[-1]["detail"])

    def test_reopen_goes_back_to_the_assignee(self):
        self.site.residents_import([("13800000001", "王秀英", "寇庄西路6号院3单元", "")])
        n = self.new(R1, "errand", "帮我买点菜")
        self.text(PHONES["w02"], f"完成 {n} 已买好")
        self.assertEqual(self.site.ticket(n)["status"], "done")
        self.assertRefused(("ticket", "reopen", "99999", *OP), 1, ["no ticket 99999"])
        before = len(self.site.outbox_rows())
        p = self.site.ctl("ticket", "reopen", str(n), *OP)
        self.assertEqual(p.stdout.decode(), f"ticket {n}: assigned, assignee w02\n")
        e = self.site.events(n)[-1]
        self.assertEqual((e["actor"], e["event"], e["from_status"], e["to_status"]),
                         ("operator:op1", "reopen", "done", "assigned"))
        rows = self.site.outbox_rows()[before:]
        self.assertEqual([(r["to"], r["kind"]) for r in rows], [(PHONES["w02"], "notify")])
        # reopening an open ticket is not a thing
        self.assertRefused(("ticket", "reopen", str(n), *OP), 1, ["cannot reopen", "assigned"])

    def test_reopen_without_assignee_goes_to_the_operators(self):
        n = self.new(R1, "errand", "帮我买点菜")             # new, nobody's
        self.site.ctl("ticket", "close", str(n), *OP)
        before = len(self.site.outbox_rows())
        self.site.ctl("ticket", "reopen", str(n), *OP)
        t = self.site.ticket(n)
        self.assertEqual((t["status"], t["assignee"]), ("new", None))
        e = self.site.events(n)[-1]
        self.assertEqual((e["event"], e["from_status"], e["to_status"]),
                         ("reopen", "closed", "new"))
        rows = self.site.outbox_rows()[before:]
        self.assertEqual([(r["to"], r["kind"]) for r in rows],
                         [(PHONES["op1"], "notify_operators")])

    def test_note_changes_nothing_but_the_history(self):
        n = self.new(R1, "repair", "寇庄西路6号院 下水管堵了")
        self.text(R1, f"取消 {n}")
        t_before, rows_before = self.site.ticket(n), self.site.outbox_rows()
        p = self.site.ctl("ticket", "note", str(n), "居民来电：已自行修好", *OP)
        self.assertEqual(p.stdout.decode(), f"ticket {n}: note added\n")
        self.assertEqual(self.site.ticket(n), t_before)
        self.assertEqual(self.site.outbox_rows(), rows_before)
        e = self.site.events(n)[-1]
        self.assertEqual((e["actor"], e["event"], e["from_status"], e["to_status"], e["detail"]),
                         ("operator:op1", "note", None, None, "居民来电：已自行修好"))
        out = self.site.ctl("ticket", "show", str(n)).stdout.decode()
        self.assertIn("居民来电：已自行修好", out)
        self.assertIn("operator:op1", out)

    def test_refusals_change_nothing(self):
        n = self.new(R1, "repair", "寇庄西路6号院 下水管堵了")
        self.text(R1, f"取消 {n}")
        self.assertEqual(self.site.ticket(n)["status"], "cancelled")
        ids = str(n)
        self.assertRefused(("ticket", "close", ids, *OP), 1,
                           [f"cannot close ticket {n}", "cancelled"])
        self.assertRefused(("ticket", "assign", ids, "w01", *OP), 1, ["cannot assign", "cancelled"])
        self.assertRefused(("ticket", "reopen", ids, *OP), 1, ["cannot reopen", "cancelled"])
        m = self.new(R2, "repair", "解放南路281号院 灯坏了")
        self.assertRefused(("ticket", "assign", str(m), "w99", *OP), 1, ["unknown worker 'w99'"])
        self.assertRefused(("ticket", "assign", "4242", "w01", *OP), 1, ["no ticket 4242"])
        self.assertRefused(("ticket", "note", str(m), "x", "--operator", "v01"), 1,
                           ["v01 is not an operator"])
        self.assertRefused(("ticket", "note", str(m), "   ", *OP), 2, ["empty"])
        self.assertRefused(("ticket", "close", str(m), "--note", "", *OP), 2, ["empty"])
        self.assertRefused(("ticket", "close", "abc", *OP), 2, ["not a ticket id"])
        self.assertRefused(("ticket", "assign", str(m), *OP), 2, ["worker"])
        self.assertRefused(("ticket", "close", str(m)), 2, ["--operator"])
        self.assertRefused(("ticket", "reopen", str(m), "--phone", R1, *OP), 2, ["--phone"])

    def test_waits_for_another_writer(self):
        """BEGIN IMMEDIATE waits (busy timeout) while the daemon's transaction is open."""
        db = sqlite3.connect(self.site.db, isolation_level=None, timeout=5,
                             check_same_thread=False)
        db.execute("BEGIN IMMEDIATE")
        timer = threading.Timer(0.8, lambda: db.execute("COMMIT"))
        t0 = time.monotonic()
        timer.start()
        try:
            n = self.new(R1, "repair", "寇庄西路6号院 下水管堵了")
        finally:
            timer.join()
            db.close()
        self.assertGreaterEqual(time.monotonic() - t0, 0.7)
        self.assertEqual(self.site.ticket(n)["channel"], "phone")


class WithTheDaemon(gl.SiteCase):
    site_args = {"poll_interval": 0.3}

    def test_daemon_sends_what_gridlinectl_queued(self):
        d = self.site.start()
        d.wait_ready()
        p = self.site.ctl("ticket", "new", "--phone", R1, "--category", "repair", "--text",
                          "寇庄西路6号院 下水管堵了", *OP)
        n = int(p.stdout.decode())
        want = {R1, PHONES["v01"], PHONES["w02"]}
        gl.wait_for(lambda: {f["headers"]["To"] for f in self.site.outbox_files()} == want,
                    5, "the daemon to send the ack and the notices")
        self.site.ctl("ticket", "assign", str(n), "w03", *OP)
        gl.wait_for(lambda: PHONES["w03"] in {f["headers"]["To"]
                                              for f in self.site.outbox_files()},
                    5, "the daemon to send the assignment")
        rows = gl.wait_for(lambda: (lambda rs: rs if all(r["status"] == "sent" for r in rs)
                                    else None)(self.site.outbox_rows()), 5, "all sent")
        self.assertEqual(len(rows), 5)      # ack, notify, copy; notify w03, handed_over v01
        self.assertFilesMatchRows()
        ack = [f for f in self.site.outbox_files() if f["headers"]["To"] == R1][0]
        self.assertIn(str(n), ack["body"])
        d.check_alive("the end")


if __name__ == "__main__":
    unittest.main()
