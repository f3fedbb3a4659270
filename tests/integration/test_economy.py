"""test_economy.py — what keeps the hotline from flooding phones (issue 4
points 4 and 5), with the real daemon, under libfaketime where the hour
matters: quiet hours hold unsolicited texts (not direct answers, not the
notices of urgent tickets) until they end; per-number caps silence the
hotline towards one number, with one warning, while everything is still
recorded; the hourly alert; opt-out; duplicate reports merged into the
open ticket, every reporter told when it is done.
"""
import os
import unittest

import gl
from gl import PHONES

R1, R2, R3 = "+8613800000001", "+8613800000002", "+8613800000003"
TZ = 'timezone = "Asia/Shanghai";\n'


class Economy(gl.SiteCase):
    site_args = {"extra": TZ + 'limits = { quiet_hours = "21:30-07:30"; };\n'}

    def at(self, when, sender=None, body=None):
        if sender:
            self.site.drop(PHONES.get(sender, sender), body)
        self.site.once(at=when)

    def rows_to(self, who):
        return [r for r in self.site.outbox_rows() if r["to"] == PHONES.get(who, who)]

    def test_quiet_hours_hold_unsolicited_texts_only(self):
        self.at("2026-11-26 22:00:00", R1, "跑腿 解放南路281号院 帮我买点菜")
        [ack] = self.rows_to(R1)
        self.assertEqual(ack["status"], "sent")          # the direct answer goes at once
        [notice] = [r for r in self.rows_to("w01") if r["kind"] == "notify"]
        self.assertEqual(notice["status"], "queued")     # the worker's notice waits
        self.assertEqual(notice["next_attempt"], "2026-11-27T07:30:00+08:00")
        # an urgent ticket's notices are never held
        self.at("2026-11-26 22:05:00", R2, "报修 寇庄西路6号院 厨房漏水了")
        vendor = self.rows_to("v01")
        self.assertTrue(vendor and all(r["status"] == "sent" for r in vendor), vendor)
        # the night passes: the held notice goes
        self.at("2026-11-27 07:31:00")
        [notice] = [r for r in self.rows_to("w01") if r["kind"] == "notify"]
        self.assertEqual(notice["status"], "sent")
        # the time to accept started when the notice could go, not at 22:00
        t = self.site.ticket(1001)
        self.assertEqual(t["accept_due"], "2026-11-27T08:00:00+08:00")
        self.assertEqual([r for r in self.rows_to("w01") if r["kind"] == "remind"], [])


class Caps(gl.SiteCase):
    site_args = {"extra": TZ + "limits = { per_hour = 2; per_day = 3; alert_per_hour = 9; };\n"}

    def text(self, sender, body, when):
        self.site.drop(PHONES.get(sender, sender), body)
        self.site.once(at=when)

    def test_replies_to_one_number_are_capped_and_everything_recorded(self):
        for i in range(4):
            self.text(R1, "查询", f"2026-11-26 10:0{i}:00")
        to_r1 = [r for r in self.site.outbox_rows() if r["to"] == R1]
        self.assertEqual(len([r for r in to_r1 if r["status"] != "failed"]), 2)
        capped = [r for r in to_r1 if r["status"] == "failed"]
        self.assertEqual(len(capped), 2)                 # recorded, not sent
        self.assertTrue(all("per_hour" in r["error"] for r in capped), capped)
        log = self.site.all_logs().decode("utf-8", "replace")
        self.assertEqual(log.count("capped"), 1, log)
        # every text is in the database, answered or not
        import sqlite3
        db = sqlite3.connect(self.site.db)
        self.assertEqual(db.execute("SELECT count(*) FROM inbound WHERE sender = ?",
                                    (R1,)).fetchone()[0], 4)
        db.close()
        # the next hour: 1 more (the day's cap is 3)
        self.text(R1, "查询", "2026-11-26 11:10:00")
        self.text(R1, "查询", "2026-11-26 11:11:00")
        sent = [r for r in self.site.outbox_rows() if r["to"] == R1 and r["status"] != "failed"]
        self.assertEqual(len(sent), 3)

    def test_staff_are_never_capped(self):
        for i in range(4):
            self.text(f"+86138000001{i:02d}", "跑腿 解放南路281号院 买菜", f"2026-11-26 10:0{i}:00")
        self.assertEqual(len([r for r in self.site.outbox_rows() if r["to"] == PHONES["w01"]]), 4)

    def test_hourly_alert_once(self):
        # each errand makes two texts (the answer and the notice): 10 > 9
        for i in range(6):
            self.text(f"+86138000002{i:02d}", "跑腿 解放南路281号院 买菜", f"2026-11-26 10:0{i}:00")
        alerts = [r for r in self.site.outbox_rows() if r["to"] == PHONES["op1"]
                  and "告警" in r["body"]]
        self.assertEqual(len(alerts), 1, alerts)
        log = self.site.all_logs().decode("utf-8", "replace")
        self.assertEqual(log.count("alert_per_hour"), 1)
        # nothing held back: every resident got the answer
        for i in range(6):
            self.assertEqual(len([r for r in self.site.outbox_rows()
                                  if r["to"] == f"+86138000002{i:02d}"]), 1)


class OptOutAndMerge(gl.SiteCase):
    site_args = {"extra": TZ + "workflow = { merge_window = 3600; };\n"}   # the default

    def at(self, when, sender=None, body=None):
        if sender:
            self.site.drop(PHONES.get(sender, sender), body)
        self.site.once(at=when)

    def bodies(self, who):
        return [r["body"] for r in self.site.outbox_rows() if r["to"] == PHONES.get(who, who)]

    def test_opt_out_keeps_only_the_results_of_own_tickets(self):
        self.at("2026-11-26 09:00:00", R1, "退订")
        self.at("2026-11-26 09:01:00", R1, "跑腿 解放南路281号院 买菜")
        n = len(self.bodies(R1))
        self.at("2026-11-26 09:05:00", "w01", "接单 1001")
        self.assertEqual(len(self.bodies(R1)), n)        # no "accepted" notice
        self.at("2026-11-26 10:00:00", "w01", "完成 1001 送到了")
        done = [b for b in self.bodies(R1) if "已办完" in b]
        self.assertEqual(len(done), 1)                   # the result, still
        self.assertNotIn("回复1满意", done[0])             # but no 回访 question

    def test_duplicate_reports_join_the_open_ticket(self):
        self.at("2026-11-26 09:00:00", R1, "报修 寇庄西路6号院 楼道灯坏了")
        self.at("2026-11-26 09:30:00", R2, "报修 寇庄西路6号院 楼道里黑的")
        [t] = self.site.tickets()
        merged = self.bodies(R2)
        self.assertEqual(len(merged), 1)
        self.assertIn("1001", merged[0])
        self.assertIn("并入", merged[0])
        self.assertEqual(len([e for e in self.site.events(1001) if e["event"] == "merged"]), 1)
        # another category at the same address, or after the window: a new ticket
        self.at("2026-11-26 09:40:00", R3, "跑腿 寇庄西路6号院 买菜")
        self.at("2026-11-26 10:01:00", R3, "报修 寇庄西路6号院 楼道灯还是坏的")
        self.assertEqual(len(self.site.tickets()), 3)
        # done: both reporters are told; only the first is asked to rate
        self.at("2026-11-26 11:00:00", "v01", "接单 1001")
        self.at("2026-11-26 12:00:00", "v01", "完成 1001 换了灯泡")
        self.assertEqual(len([b for b in self.bodies(R1) if "已办完" in b]), 1)
        self.assertEqual(len([b for b in self.bodies(R2) if "已办完" in b]), 1)
        self.assertEqual(len([b for b in self.bodies(R1) + self.bodies(R2) if "回复1满意" in b]), 1)


if __name__ == "__main__":
    unittest.main()
