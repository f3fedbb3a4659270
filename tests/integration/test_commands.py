"""test_commands.py — residents' and workers' SMS commands through the
real gridlined --once: status, cancel, rate, help, stop; accept and done
(with pinyin aliases); refusals that change nothing and answer the
sender; every transition in the ticket history.
"""
import os
import unittest

import gl
from gl import PHONES

R1, R2, R3 = "+8613800000001", "+8613800000002", "+8613800000003"
W1, W2 = PHONES["w01"], PHONES["w02"]


class Commands(gl.SiteCase):

    def text(self, sender, body):
        """Send one text and process it; return the outbox rows it queued."""
        before = set()
        if os.path.exists(self.site.db):
            before = {r["id"] for r in self.site.outbox_rows()}
        self.site.drop(sender, body)
        self.site.once()
        return [r for r in self.site.outbox_rows() if r["id"] not in before]

    def reply_to(self, new_rows, phone):
        """The one row among new_rows addressed to phone."""
        rows = [r for r in new_rows if r["to"] == phone]
        self.assertEqual(len(rows), 1, f"new texts: {[(r['to'], r['body']) for r in new_rows]}")
        return rows[0]

    def errand(self, sender=R1):
        """A ticket of sender in grid g1, assigned to w01; returns its id."""
        new = self.text(sender, "跑腿 解放南路281号院 帮我买菜")
        t = self.site.tickets()[-1]
        self.assertEqual((t["phone"], t["status"], t["assignee"]), (sender, "assigned", "w01"))
        self.assertEqual(len(new), 2)
        return t["id"]

    def done(self, tid):
        new = self.text(W1, f"完成 {tid} 已买好")
        self.assertEqual(self.site.ticket(tid)["status"], "done")
        return new

    def assertUnchanged(self, tid, before):
        self.assertEqual(self.site.ticket(tid), before)

    def last_event(self, tid):
        return self.site.events(tid)[-1]

    # ---- residents ----

    def test_status_lists_own_tickets_only(self):
        a = self.errand(R1)
        b = self.errand(R1)
        c = self.errand(R2)
        new = self.text(R1, "查询")
        self.assertEqual(len(new), 1)
        body = self.reply_to(new, R1)["body"]
        self.assertIn(str(a), body)
        self.assertIn(str(b), body)
        self.assertNotIn(str(c), body)
        self.assertIn("已派单", body)
        new = self.text(R1, f"查询 {a}")
        body = self.reply_to(new, R1)["body"]
        self.assertIn(str(a), body)
        self.assertNotIn(str(b), body)
        self.assertEqual(len(self.site.tickets()), 3)   # no ticket made of a command

    def test_status_pinyin_and_none(self):
        new = self.text(R3, "CX")
        self.assertEqual(len(new), 1)
        self.reply_to(new, R3)
        self.assertEqual(self.site.tickets(), [])

    def test_status_of_someone_elses_ticket_is_refused(self):
        a = self.errand(R1)
        new = self.text(R2, f"查询 {a}")
        body = self.reply_to(new, R2)["body"]
        self.assertNotIn("解放南路", body)
        self.assertNotIn(R1, body)

    def test_cancel_own_open_ticket(self):
        a = self.errand(R1)
        new = self.text(R1, f"取消 {a}")
        self.assertEqual(self.site.ticket(a)["status"], "cancelled")
        self.assertIn(str(a), self.reply_to(new, R1)["body"])
        self.assertIn(str(a), self.reply_to(new, W1)["body"])   # the worker is told
        self.assertEqual(len(new), 2)
        ev = self.last_event(a)
        self.assertEqual((ev["event"], ev["from_status"], ev["to_status"]),
                         ("cancel", "assigned", "cancelled"))
        self.assertIn(R1, ev["actor"])

    def test_cancel_someone_elses_ticket_changes_nothing(self):
        a = self.errand(R1)
        before = self.site.ticket(a)
        n_events = len(self.site.events(a))
        new = self.text(R2, f"取消 {a}")
        self.assertUnchanged(a, before)
        self.assertEqual(len(self.site.events(a)), n_events)
        self.assertEqual(len(new), 1)
        self.reply_to(new, R2)

    def test_rate_1_closes_done_ticket(self):
        a = self.errand(R1)
        self.done(a)
        new = self.text(R1, f"评价 {a} 1")
        t = self.site.ticket(a)
        self.assertEqual((t["status"], t["rating"], t["assignee"]), ("closed", 1, "w01"))
        self.assertEqual(len(new), 1)
        self.reply_to(new, R1)
        ev = self.last_event(a)
        self.assertEqual((ev["from_status"], ev["to_status"]), ("done", "closed"))
        self.assertIn(R1, ev["actor"])

    def test_rate_3_reopens_to_same_worker(self):
        a = self.errand(R1)
        self.done(a)
        new = self.text(R1, f"评价 {a} 3")
        t = self.site.ticket(a)
        self.assertEqual((t["status"], t["rating"], t["assignee"]), ("assigned", 3, "w01"))
        self.reply_to(new, R1)
        self.assertIn(str(a), self.reply_to(new, W1)["body"])
        ev = self.last_event(a)
        self.assertEqual((ev["from_status"], ev["to_status"]), ("done", "assigned"))

    def test_rate_not_done_ticket_changes_nothing(self):
        a = self.errand(R1)
        before = self.site.ticket(a)
        new = self.text(R1, f"评价 {a} 1")
        self.assertUnchanged(a, before)
        self.assertEqual(len(new), 1)
        self.reply_to(new, R1)

    def test_help_lists_keywords(self):
        new = self.text(R1, "帮助")
        body = self.reply_to(new, R1)["body"]
        self.assertEqual(len(new), 1)
        for kw in ("报修", "跑腿", "办事"):
            self.assertIn(kw, body)
        self.assertEqual(self.site.tickets(), [])

    def test_stop_confirms_opt_out(self):
        new = self.text(R1, "退订")
        self.assertEqual(len(new), 1)
        self.assertTrue(self.reply_to(new, R1)["body"])
        self.assertEqual(self.site.tickets(), [])
        res = self.site.ctl_json("residents", "--json")
        [me] = [r for r in res if r["phone"] == R1]
        self.assertIs(me["opted_out"], True)

    # ---- workers ----

    def test_accept_then_done_with_note(self):
        a = self.errand(R1)
        new = self.text(W1, f"接单 {a}")
        self.assertEqual(self.site.ticket(a)["status"], "accepted")
        self.assertEqual(len(new), 2)
        self.reply_to(new, W1)
        self.assertIn(str(a), self.reply_to(new, R1)["body"])   # resident told
        ev = self.last_event(a)
        self.assertEqual((ev["event"], ev["actor"], ev["from_status"], ev["to_status"]),
                         ("accept", "w01", "assigned", "accepted"))
        new = self.text(W1, f"完成 {a} 已疏通")
        self.assertEqual(self.site.ticket(a)["status"], "done")
        self.assertEqual(len(new), 2)
        self.reply_to(new, W1)
        asked = self.reply_to(new, R1)["body"]
        self.assertIn(str(a), asked)
        self.assertRegex(asked, "1.*满意")          # asked to rate
        ev = self.last_event(a)
        self.assertEqual((ev["event"], ev["actor"], ev["from_status"], ev["to_status"]),
                         ("done", "w01", "accepted", "done"))
        self.assertIn("已疏通", ev["detail"])

    def test_pinyin_accept_and_done(self):
        a = self.errand(R1)
        self.text(W1, f"JD {a}")
        self.assertEqual(self.site.ticket(a)["status"], "accepted")
        self.text(W1, f"wc{a}")
        self.assertEqual(self.site.ticket(a)["status"], "done")

    def test_full_history(self):
        a = self.errand(R1)
        self.text(W1, f"接单 #{a}")
        self.text(W1, f"完成 R{a} 好了")
        self.text(R1, f"评价 {a} 3")
        self.text(W1, f"完成 {a} 重新买好了")
        self.text(R1, f"评价 {a} 2")
        ev = self.site.events(a)
        self.assertEqual([(e["from_status"], e["to_status"]) for e in ev], [
            (None, "new"), ("new", "assigned"), ("assigned", "accepted"), ("accepted", "done"),
            ("done", "assigned"), ("assigned", "done"), ("done", "closed")])
        self.assertEqual([e["actor"] for e in ev][2:6], ["w01", "w01", f"resident:{R1}", "w01"])
        t = self.site.ticket(a)
        self.assertEqual((t["status"], t["rating"]), ("closed", 2))

    def test_refusals_change_nothing_and_answer_the_sender(self):
        a = self.errand(R1)                   # w01's
        self.text(R2, "跑腿 菜园小区 取药")      # w03's
        b = self.site.tickets()[-1]["id"]
        self.text(R3, "我家门口很吵")           # unclassified: new, no assignee
        c = self.site.tickets()[-1]["id"]
        self.assertEqual(self.site.ticket(c)["status"], "new")
        self.text(R3, "解放南路281号院门口很吵")   # unclassified in g1, led by w00
        e = self.site.tickets()[-1]["id"]
        self.assertEqual((self.site.ticket(e)["grid"], self.site.ticket(e)["status"]), ("g1", "new"))
        cases = [
            (W2, f"接单 {a}"),      # someone else's ticket
            (R3, f"接单 {a}"),      # not a worker
            (W1, f"完成 {b}"),      # w03's ticket
            (W1, f"完成 {c}"),      # a new ticket with no assignee
            (W1, "接单 9999"),      # no such ticket
            (PHONES["w00"], f"完成 {e}"),   # the grid leader may, but not from new
            (R1, f"评价 {c} 1"),    # rating someone else's ticket
        ]
        for sender, body in cases:
            with self.subTest(sender=sender, body=body):
                before = {t["id"]: t for t in self.site.tickets()}
                events = {i: len(self.site.events(i)) for i in before}
                new = self.text(sender, body)
                self.assertEqual({t["id"]: t for t in self.site.tickets()}, before)
                self.assertEqual({i: len(self.site.events(i)) for i in before}, events)
                self.assertEqual(len(new), 1, [(r["to"], r["body"]) for r in new])
                self.reply_to(new, sender)

    def test_done_on_closed_ticket_changes_nothing(self):
        a = self.errand(R1)
        self.done(a)
        self.text(R1, f"评价 {a} 1")
        before = self.site.ticket(a)
        new = self.text(W1, f"完成 {a}")
        self.assertUnchanged(a, before)
        self.assertEqual(len(new), 1)
        self.reply_to(new, W1)


if __name__ == "__main__":
    unittest.main()
