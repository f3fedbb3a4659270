"""test_worker_protocol.py — the worker side of the hotline over plain SMS
(issue 4 point 1), through the real gridlined --once: bare replies act on
the ticket the worker was last told about and say which one; pinyin
initials; decline back to the grid leader; transfer by worker id; the
worker's own list; leaders may act on any ticket of their grid, operators
on any ticket, other workers on none but their own.
"""
import os
import unittest

import gl
from gl import PHONES

R1, R2 = "+8613800000001", "+8613800000002"


class WorkerProtocol(gl.SiteCase):

    def text(self, sender, body):
        """Send one text, process it; the bodies queued to the sender by it."""
        before = ({r["id"] for r in self.site.outbox_rows()}
                  if os.path.exists(self.site.db) else set())
        self.site.drop(PHONES.get(sender, sender), body)
        self.site.once()
        return [r["body"] for r in self.site.outbox_rows()
                if r["id"] not in before and r["to"] == PHONES.get(sender, sender)]

    def errand(self, resident=R1, what="帮我买点菜"):
        self.text(resident, f"跑腿 解放南路281号院 {what}")   # grid g1: w01, leader w00
        return max(t["id"] for t in self.site.tickets())

    def status(self, n):
        t = self.site.ticket(n)
        return t["status"], t["assignee"]

    def test_bare_1_accepts_the_last_notified_ticket_and_names_it(self):
        n = self.errand()
        [reply] = self.text("w01", "1")
        self.assertIn(str(n), reply)
        self.assertEqual(self.status(n), ("accepted", "w01"))

    def test_bare_keywords_act_on_the_newest_notice(self):
        a = self.errand(R1, "买菜")
        b = self.errand(R2, "买药")
        [reply] = self.text("w01", "接单")
        self.assertIn(str(b), reply)
        self.assertEqual(self.status(b)[0], "accepted")
        self.assertEqual(self.status(a)[0], "assigned")
        [reply] = self.text("w01", "完成 已送到")
        self.assertIn(str(b), reply)
        t = self.site.ticket(b)
        self.assertEqual(t["status"], "done")
        self.assertTrue(any("已送到" in (e["detail"] or "") for e in self.site.events(b)))

    def test_pinyin_initials(self):
        n = self.errand()
        self.text("w01", f"JD {n}")
        self.text("w01", f"WC {n} 好了")
        self.assertEqual(self.status(n)[0], "done")

    def test_decline_goes_back_to_the_grid_leader(self):
        n = self.errand()
        self.text("w01", f"退回 {n} 今天不在社区")
        self.assertEqual(self.status(n), ("assigned", "w00"))
        to_leader = [r["body"] for r in self.site.outbox_rows() if r["to"] == PHONES["w00"]]
        self.assertTrue(any(str(n) in b for b in to_leader), to_leader)

    def test_transfer_by_worker_id(self):
        n = self.errand()
        [reply] = self.text("w01", f"转 {n} w02")
        self.assertIn("王强", reply)             # the sender is told who has it now
        self.assertEqual(self.status(n), ("assigned", "w02"))
        self.assertTrue(any(str(n) in r["body"] for r in self.site.outbox_rows()
                            if r["to"] == PHONES["w02"]))
        [reply] = self.text("w01", f"转 {n} w99")
        self.assertIn("工号", reply)
        self.assertEqual(self.status(n), ("assigned", "w02"))

    def test_list_own_open_tickets(self):
        a = self.errand(R1, "买菜")
        b = self.errand(R2, "买药")
        [reply] = self.text("w01", "列表")
        self.assertIn(str(a), reply)
        self.assertIn(str(b), reply)
        [reply] = self.text("w02", "LB")
        self.assertNotIn(str(a), reply)

    def test_who_may_act(self):
        n = self.errand()
        # another grid's worker: refused, nothing changes
        [reply] = self.text("w02", f"接单 {n}")
        self.assertEqual(self.status(n), ("assigned", "w01"))
        self.assertIn("无法办理", reply)
        # the grid's leader may act on it
        self.text("w00", f"转 {n} w02")
        self.assertEqual(self.status(n), ("assigned", "w02"))
        # an operator may act on any ticket
        self.text("op1", f"转 {n} w03")
        self.assertEqual(self.status(n), ("assigned", "w03"))


if __name__ == "__main__":
    unittest.main()
