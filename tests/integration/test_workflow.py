"""test_workflow.py — the ticket clock with the real daemon under a
controlled clock: `gridlined --once` run under libfaketime at chosen
times (issue 4): deadlines on the working-day calendar (across a weekend,
春节 and a 调休 Saturday; over the provisional 2027's statutory holidays),
the warnings for a year without data or a provisional one (the next year
too from 1 December), urgent tickets, staged reminders (催办) and
escalation to the grid leader and the operators — each exactly once —
and 回访: the question in the done text, a bare 1/2/3, 3 reopening the
ticket (重办) with the grid leader told, no second question, and an
unanswered one closing unrated.
"""
import unittest

import gl
from gl import PHONES

R1 = "+8613800000001"
TZ = 'timezone = "Asia/Shanghai";\n'


def bodies(rows, phone):
    return [r["body"] for r in rows if r["to"] == phone]


class Workflow(gl.SiteCase):
    site_args = {"extra": TZ}

    def at(self, when, sender=None, body=None):
        """Optionally drop a text, then run --once at `when` (local time)."""
        if sender:
            self.site.drop(sender, body)
        self.site.once(at=when)

    def to(self, who):
        return bodies(self.site.outbox_rows(), PHONES.get(who, who))

    def events(self, n, kind):
        return [e for e in self.site.events(n) if e["event"] == kind]

    def test_reminder_then_leader_then_operators_each_once(self):
        self.at("2026-11-26 09:00:00", R1, "跑腿 解放南路281号院 帮我买点菜")   # a Thursday
        t = self.site.ticket(1001)
        self.assertEqual((t["assignee"], t["accept_due"]),
                         ("w01", "2026-11-26T09:30:00+08:00"))
        n_w01 = len(self.to("w01"))
        self.at("2026-11-26 09:20:00")            # before 3/4 of the 30 minutes
        self.assertEqual(len(self.to("w01")), n_w01)
        self.at("2026-11-26 09:23:00")
        reminders = [b for b in self.to("w01") if "催办" in b]
        self.assertEqual(len(reminders), 1, self.to("w01"))
        self.assertIn("1001", reminders[0])
        self.assertIn("11月26日09:30", reminders[0])
        self.assertIn("接单", reminders[0])
        self.at("2026-11-26 09:25:00")            # never on every poll
        self.assertEqual(len([b for b in self.to("w01") if "催办" in b]), 1)
        self.assertEqual([b for b in self.to("w00") if "超时" in b], [])
        self.at("2026-11-26 09:31:00")            # the deadline passed: the grid leader
        self.assertEqual(len([b for b in self.to("w00") if "超时" in b]), 1)
        self.assertEqual([b for b in self.to("op1") if "超时" in b], [])
        self.at("2026-11-26 09:46:00")            # 15 minutes later: the operators
        self.assertEqual(len([b for b in self.to("op1") if "超时" in b]), 1)
        self.at("2026-11-26 12:00:00")
        self.assertEqual(len([b for b in self.to("w00") if "超时" in b]), 1)
        self.assertEqual(len([b for b in self.to("op1") if "超时" in b]), 1)
        self.assertEqual(len(self.events(1001, "remind")), 1)
        self.assertEqual(len(self.events(1001, "escalate")), 2)
        log = self.site.all_logs().decode("utf-8", "replace")
        self.assertIn("to the grid leader", log)
        # accepted late: the done deadline (errand: the end of the working day) is chased
        self.at("2026-11-26 12:05:00", PHONES["w01"], "接单 1001")
        t = self.site.ticket(1001)
        self.assertEqual((t["status"], t["done_due"], t["chase_stage"]),
                         ("accepted", "2026-11-26T18:00:00+08:00", 0))
        self.at("2026-11-26 15:50:00")            # 3/4 of 09:00..18:00 is 15:45
        done_reminders = [b for b in self.to("w01") if "催办" in b and "办结" in b]
        self.assertEqual(len(done_reminders), 1, self.to("w01"))

    def test_deadline_across_weekend_holiday_and_make_up_saturday(self):
        # Fri 2026-02-13 10:15 + 2 working days: Sat 02-14 is a 调休 working
        # day, 02-15..02-23 are days off (春节 and a weekend): Tue 02-24 10:15
        self.at("2026-02-13 10:15:00", R1, "报修 寇庄西路6号院 下水管堵了")
        t = self.site.ticket(1001)
        self.assertEqual(t["done_due"], "2026-02-24T10:15:00+08:00")
        self.assertEqual(t["accept_due"], "2026-02-13T10:45:00+08:00")
        self.assertFalse(t["urgent"])

    def log(self):
        return self.site.all_logs().decode("utf-8", "replace")

    def test_a_year_without_holiday_data_is_reported(self):
        self.at("2026-11-26 09:00:00")
        self.assertNotIn("no holidays", self.log())
        self.at("2028-03-01 09:00:00")             # the built-in calendar stops at 2027
        self.assertIn("no holidays for 2028", self.log())
        self.assertNotIn("2027", self.log())

    def test_a_provisional_year_is_reported(self):
        self.at("2027-03-01 09:00:00")             # built in: 2027 statutory holidays only
        self.assertIn("calendar for 2027 is provisional", self.log())
        self.assertNotIn("no holidays", self.log())

    def test_next_year_is_checked_from_december(self):
        self.at("2026-11-26 09:00:00")
        self.assertNotIn("provisional", self.log())
        self.assertNotIn("no holidays", self.log())
        self.at("2026-12-15 09:00:00")             # deadlines now reach into 2027
        self.assertIn("calendar for 2027 is provisional", self.log())
        self.assertNotIn("no holidays", self.log())
        self.at("2027-12-01 00:00:00")
        self.assertIn("no holidays for 2028", self.log())

    def test_deadline_across_provisional_holidays(self):
        # Thu 2027-02-04 10:15 + 2 working days on the provisional 2027:
        # 除夕 Fri 02-05 and 初三 Mon 02-08 are off (初一, 初二 a weekend):
        # Wed 02-10 10:15 (until the official notice adds its 调休)
        self.at("2027-02-04 10:15:00", R1, "报修 寇庄西路6号院 下水管堵了")
        t = self.site.ticket(1001)
        self.assertEqual(t["done_due"], "2027-02-10T10:15:00+08:00")

    def test_urgent_words_shorten_the_limit(self):
        self.at("2026-11-26 09:00:00", R1, "报修 寇庄西路6号院 厨房漏水了")
        t = self.site.ticket(1001)
        self.assertTrue(t["urgent"])
        self.assertEqual(t["done_due"], "2026-11-26T11:00:00+08:00")

    def done_ticket(self, when="2026-11-26 10:00:00"):
        """An errand by R1, accepted and done by w01; its number."""
        self.at("2026-11-26 09:00:00", R1, "跑腿 解放南路281号院 帮我买点菜")
        self.at("2026-11-26 09:05:00", PHONES["w01"], "接单 1001")
        self.at(when, PHONES["w01"], "完成 1001 已送到")
        return 1001

    def test_done_text_asks_for_the_rating_and_a_bare_1_closes(self):
        self.done_ticket()
        [done] = [b for b in self.to(R1) if "已办完" in b]
        self.assertIn("已送到", done)
        self.assertIn("回复1满意 2基本满意 3不满意", done)   # one text, one segment
        t = self.site.ticket(1001)
        self.assertEqual(t["rate_asked_at"], "2026-11-26T10:00:00+08:00")
        self.at("2026-11-26 11:00:00", R1, "1")
        t = self.site.ticket(1001)
        self.assertEqual((t["status"], t["rating"]), ("closed", 1))
        self.assertEqual(len(self.site.tickets()), 1)   # the "1" made no new ticket
        self.assertTrue(any("感谢" in b for b in self.to(R1)))

    def test_bare_3_reopens_to_the_same_worker_and_tells_the_leader(self):
        self.done_ticket()
        self.at("2026-11-26 11:00:00", R1, "３")            # full-width digit
        t = self.site.ticket(1001)
        self.assertEqual((t["status"], t["assignee"], t["rating"]), ("assigned", "w01", 3))
        self.assertEqual(len([b for b in self.to("w00") if "重办" in b]), 1)
        self.assertTrue(any("不满意" in b for b in self.to("w01")))
        # done again: the resident is not asked a second time
        self.at("2026-11-26 12:00:00", PHONES["w01"], "接单 1001")
        self.at("2026-11-26 13:00:00", PHONES["w01"], "完成 1001 重新送了")
        done = [b for b in self.to(R1) if "已办完" in b]
        self.assertEqual(len(done), 2)
        self.assertEqual(len([b for b in self.to(R1) if "回复1满意" in b]), 1)

    def test_unanswered_rating_closes_unrated_after_the_window(self):
        self.done_ticket()
        self.at("2026-11-29 09:59:00")             # 3 days less a minute
        self.assertEqual(self.site.ticket(1001)["status"], "done")
        self.at("2026-11-29 10:01:00")
        t = self.site.ticket(1001)
        self.assertEqual((t["status"], t["rating"]), ("closed", None))
        self.assertEqual(len(self.events(1001, "unrated")), 1)
        # a "1" after the window is a text like any other, not a rating
        self.at("2026-11-29 11:00:00", R1, "1")
        self.assertEqual(self.site.ticket(1001)["rating"], None)

    def test_bare_digit_without_a_question_is_still_a_text(self):
        self.at("2026-11-26 09:00:00", R1, "2")
        [t] = self.site.tickets()
        self.assertEqual(t["category"], "unclassified")



class DailySummary(gl.SiteCase):
    site_args = {"extra": TZ + 'workflow = { daily_summary = "08:00"; };\n'}

    def daily(self):
        """The daily texts to the leader w00, oldest first."""
        rows = [r for r in self.site.outbox_rows()
                if r["to"] == PHONES["w00"] and "日报" in r["body"]]
        return [r["body"] for r in sorted(rows, key=lambda r: r["id"])]

    def test_leaders_get_one_text_per_grid_each_morning(self):
        self.site.drop(R1, "跑腿 解放南路281号院 帮我买点菜")        # g1
        self.site.drop("+8613800000002", "报修 寇庄西路6号院 下水管堵了")   # g2
        self.site.once(at="2026-11-26 09:00:00")   # started after 08:00: today's goes now
        self.assertEqual(len(self.daily()), 3)     # g1, g2, g3: all led by w00
        self.site.once(at="2026-11-27 07:59:00")
        self.assertEqual(len(self.daily()), 3)
        self.site.once(at="2026-11-27 08:01:00")
        texts = self.daily()[3:]
        self.assertEqual(len(texts), 3, texts)
        [g1] = [b for b in texts if "第1网格" in b]
        self.assertIn("昨日新收1件", g1)
        self.assertIn("待接单1件", g1)
        self.assertIn("超时1件", g1)                 # nobody accepted it
        self.site.once(at="2026-11-27 09:00:00")    # once a day
        self.assertEqual(len(self.daily()), 6)
        self.site.once(at="2026-11-28 08:05:00")
        self.assertEqual(len(self.daily()), 9)
        self.assertIn("昨日新收0件", [b for b in self.daily()[6:] if "第1网格" in b][0])


if __name__ == "__main__":
    unittest.main()
