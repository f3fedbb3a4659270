"""test_stats.py — `gridlinectl stats` and `export --csv` (issue 4 point 7).

Small exact cases (a few known tickets → exact figures, the --since /
--until bounds in local dates, an empty period, bad dates), the CSV
export, and the month-long scenario the issue asks for: the seed
community (seeds/gridline.conf, 10 grids) through November 2026, day by
day with `gridlined --once` under libfaketime, several hundred tickets,
some workers never answering, some residents answering 3 (重办), some
not answering at all (closed unrated after 3 days). The script keeps its
own ledger of what it did and when, and `stats --json` for the month is
checked against it.

gridlinectl itself runs under faketime too where "overdue now" matters.
"""
import collections
import csv
import datetime
import io
import json
import math
import os
import random
import re
import statistics
import subprocess
import time
import unittest

import gl
from gl import PHONES

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TZ = 'timezone = "Asia/Shanghai";\n'
CST = datetime.timezone(datetime.timedelta(hours=8))
R1, R2, R3 = "+8613800000001", "+8613800000002", "+8613800000003"


def ctl_at(site, at, *args, check=True):
    """gridlinectl under libfaketime at local time `at` (its "now")."""
    env = gl.clean_env(gl.faketime_env())
    p = subprocess.run(["faketime", "-f", at, gl.GRIDLINECTL, "-c", site.conf, *args], env=env,
                       capture_output=True, timeout=60, cwd=site.dir)
    if check and p.returncode != 0:
        raise AssertionError(f"gridlinectl {args} exited {p.returncode}: {p.stderr.decode()}")
    return p


def stats_at(site, at, *args):
    return json.loads(ctl_at(site, at, "stats", "--json", *args).stdout)


def iso(t):
    return datetime.datetime.fromisoformat(t) if t else None


def span_sec(t, field):
    return (iso(t[field]) - iso(t["created_at"])).total_seconds()


def c_round(minutes):
    """Rounded to 0.1 as gridlinectl does it (C round(): halves away from 0)."""
    return math.floor(minutes * 10.0 + 0.5) / 10.0


def span_min(t, field):
    """Minutes from t's creation to its field, as stats reports a median of one."""
    return c_round(span_sec(t, field) / 60.0)


def in_day(t, first, last):
    """ISO time t within the local dates first..last (inclusive)."""
    d = iso(t).astimezone(CST).date()
    return datetime.date.fromisoformat(first) <= d <= datetime.date.fromisoformat(last)


class StatsSmall(gl.SiteCase):
    site_args = {"extra": TZ}

    def at(self, when, *texts):
        for sender, body in texts:
            self.site.drop(sender, body)
        self.site.once(at=when)

    def three_tickets(self):
        """Thu 2026-11-26: 1001 errand (g1, w01) accepted 09:10, done 10:10,
        rated 1; 1002 repair (g2, v01) never accepted; 1003 unclassified,
        no grid, nobody owns it."""
        self.at("2026-11-26 09:00:00", (R1, "跑腿 解放南路281号院 帮我买点菜"),
                (R2, "报修 寇庄西路6号院 下水管堵了"), (R3, "你好"))
        self.at("2026-11-26 09:10:00", (PHONES["w01"], "接单 1001"))
        self.at("2026-11-26 10:10:00", (PHONES["w01"], "完成 1001 已送到"))
        self.at("2026-11-26 11:10:00", (R1, "1"))

    def test_stats_exact_figures_of_known_tickets(self):
        self.three_tickets()
        s = stats_at(self.site, "2026-11-26 12:00:00", "--since", "2026-11-26",
                     "--until", "2026-11-26")
        self.assertEqual((s["since"], s["until"]), ("2026-11-26", "2026-11-26"))
        self.assertEqual(s["received"], 3)
        self.assertEqual(s["owned_within_poll"], 2)                  # 1003 has no owner
        self.assertEqual(s["accepted_on_time"], {"on_time": 1, "of": 3, "rate": 0.3333})
        self.assertEqual(s["done_on_time"], {"on_time": 1, "of": 3, "rate": 0.3333})
        self.assertEqual(s["overdue"], 2)            # 1002 and 1003: accept by 09:30
        self.assertEqual(s["callback"], {"rated": 1, "of": 1, "rate": 1.0})
        self.assertEqual(s["satisfaction"], {"counts": {"1": 1, "2": 0, "3": 0},
                                             "shares": {"1": 1.0, "2": 0.0, "3": 0.0}})
        # the daemon stamps its own clock: about 10 and 70 minutes, exactly these
        self.assertEqual(s["median_minutes_to_accept"], span_min(self.site.ticket(1001),
                                                                 "accepted_at"))
        self.assertEqual(s["median_minutes_to_done"], span_min(self.site.ticket(1001), "done_at"))
        self.assertAlmostEqual(s["median_minutes_to_done"], 70.0, delta=0.1)
        # texts: every outbox row of the day, all sent by the spool
        rows = self.site.outbox_rows()
        self.assertEqual(s["texts"]["total"], len(rows))
        self.assertEqual(s["texts"]["sent"], len(rows))
        self.assertEqual(s["texts"]["segments"], sum(r["segments"] for r in rows))
        # groups: the configured ones (zeros too), the pseudo-category, "none"
        self.assertEqual(sorted(s["by_grid"]), ["g1", "g2", "g3", "none"])
        self.assertEqual({k: v["received"] for k, v in s["by_grid"].items()},
                         {"g1": 1, "g2": 1, "g3": 0, "none": 1})
        self.assertEqual({k: v["received"] for k, v in s["by_category"].items()},
                         {"repair": 1, "errand": 1, "service": 0, "unclassified": 1})
        g1 = s["by_grid"]["g1"]
        self.assertEqual((g1["overdue"], g1["callback"]["rated"], g1["median_minutes_to_done"]),
                         (0, 1, 70.0))
        self.assertEqual(s["by_grid"]["g3"]["median_minutes_to_accept"], None)
        self.assertEqual(s["by_grid"]["g3"]["accepted_on_time"]["rate"], None)
        # texts by ticket: the groups share out the texts about tickets
        about = [r for r in rows if r["ticket"] is not None]
        self.assertEqual(sum(v["texts"]["total"] for v in s["by_grid"].values()), len(about))
        self.assertEqual(sum(v["texts"]["total"] for v in s["by_category"].values()), len(about))
        # later, with 1002 accepted at 13:00 (late): overdue by its done deadline only later
        self.at("2026-11-26 13:00:00", (PHONES["v01"], "接单 1002"))
        s = stats_at(self.site, "2026-11-26 13:30:00")
        self.assertEqual((s["overdue"], s["accepted_on_time"]["on_time"]), (1, 1))
        spans = [span_sec(self.site.ticket(n), "accepted_at") for n in (1001, 1002)]
        self.assertEqual(s["median_minutes_to_accept"], c_round((spans[0] + spans[1]) / 2.0 / 60.0))
        self.assertAlmostEqual(s["median_minutes_to_accept"], (10 + 240) / 2, delta=0.1)

    def test_stats_table_is_readable(self):
        self.three_tickets()
        out = ctl_at(self.site, "2026-11-26 12:00:00", "stats").stdout.decode()
        self.assertIn("tickets received (start) .. (now) (Asia/Shanghai)", out)
        lines = out.splitlines()
        head = next(l for l in lines if l.startswith("GROUP"))
        allrow = next(l for l in lines if l.startswith("all "))
        self.assertEqual(allrow.split()[:3], ["all", "3", "2"])
        self.assertIn("1/3 33%", allrow)
        g1 = next(l for l in lines if l.startswith("g1 "))
        self.assertIn("第1网格", g1)
        # CJK-aware columns: RECEIVED starts at the same display column in every row
        from unicodedata import east_asian_width

        def col(line, idx):
            w = 0
            for ch in line[:idx]:
                w += 2 if east_asian_width(ch) in "WF" else 1
            return w
        want = col(head, head.index("RECEIVED"))
        for l in (allrow, g1, next(l for l in lines if l.startswith("repair "))):
            m = re.search(r"\s{2,}(\d)", l)
            self.assertEqual(col(l, m.start(1)), want, l)

    def test_stats_since_until_are_inclusive_local_dates(self):
        self.at("2026-11-25 23:59:30", (R1, "跑腿 解放南路281号院 前一天"))
        self.at("2026-11-26 00:00:00", (R2, "跑腿 解放南路281号院 当天零点"))
        self.at("2026-11-26 23:59:30", (R3, "跑腿 解放南路281号院 当天最后"))
        self.at("2026-11-27 00:00:00", ("+8613800000004", "跑腿 解放南路281号院 后一天"))

        def received(*args):
            return stats_at(self.site, "2026-11-28 12:00:00", *args)["received"]
        self.assertEqual(received("--since", "2026-11-26", "--until", "2026-11-26"), 2)
        self.assertEqual(received("--since", "2026-11-26"), 3)
        self.assertEqual(received("--until", "2026-11-25"), 1)
        self.assertEqual(received("--since", "2026-11-25", "--until", "2026-11-27"), 4)
        self.assertEqual(received(), 4)
        p = ctl_at(self.site, "2026-11-28 12:00:00", "export", "--csv", "--since", "2026-11-26",
                   "--until", "2026-11-26")
        ids = [r["id"] for r in csv.DictReader(io.StringIO(p.stdout.decode(), newline=""))]
        self.assertEqual(ids, ["1002", "1003"])

    def test_stats_empty_period(self):
        self.three_tickets()
        s = stats_at(self.site, "2026-11-26 12:00:00", "--since", "2030-01-01")
        self.assertEqual((s["received"], s["overdue"], s["owned_within_poll"]), (0, 0, 0))
        self.assertEqual(s["accepted_on_time"], {"on_time": 0, "of": 0, "rate": None})
        self.assertEqual(s["callback"]["rate"], None)
        self.assertEqual(s["satisfaction"]["shares"], {"1": None, "2": None, "3": None})
        self.assertIsNone(s["median_minutes_to_done"])
        self.assertEqual(s["texts"]["total"], 0)
        self.assertEqual(sorted(s["by_grid"]), ["g1", "g2", "g3"])
        self.assertTrue(all(v["received"] == 0 for v in s["by_grid"].values()))
        out = ctl_at(self.site, "2026-11-26 12:00:00", "export", "--since", "2030-01-01").stdout
        self.assertEqual(out.decode().split("\r\n"), [
            "id,category,status,grid,assignee,phone,channel,urgent,created_at,accepted_at,"
            "done_at,accept_due,done_due,rating,text", ""])

    def test_stats_bad_dates_are_usage_errors(self):
        self.three_tickets()
        for args in (["--since", "2026-13-01"], ["--until", "2026-11-31"],
                     ["--since", "26-11-01"], ["--since", "yesterday"],
                     ["--since", "2026-11-1"], ["--since", "2026-11-27", "--until", "2026-11-26"],
                     ["--csv"], ["extra"]):
            for verb in ("stats", "export"):
                if verb == "export" and args == ["--csv"]:
                    continue
                p = self.site.ctl(verb, *args, check=False)
                self.assertEqual(p.returncode, 2, (verb, args, p.stderr))
                self.assertEqual(p.stdout, b"")
        p = self.site.ctl("export", "--json", check=False)
        self.assertEqual(p.returncode, 2)

    def test_stats_export_csv_quotes_what_needs_it(self):
        text = '报修 寇庄西路6号院 门锁坏了, 说"急"\n第二行'
        self.at("2026-11-26 09:00:00", (R1, text), (R2, "跑腿 解放南路281号院 买菜"))
        self.at("2026-11-26 09:10:00", (PHONES["w01"], "接单 1002"))
        out = ctl_at(self.site, "2026-11-26 12:00:00", "export", "--csv").stdout.decode()
        self.assertTrue(out.endswith("\r\n"))
        rows = list(csv.DictReader(io.StringIO(out, newline="")))
        self.assertEqual([r["id"] for r in rows], ["1001", "1002"])
        want = {t["id"]: t for t in self.site.tickets()}
        for r in rows:
            t = want[int(r["id"])]
            for k in ("category", "status", "phone", "text", "created_at", "accept_due",
                      "done_due", "channel"):
                self.assertEqual(r[k], t[k], k)
            self.assertEqual(r["grid"], t["grid"] or "")
            self.assertEqual(r["assignee"], t["assignee"] or "")
        self.assertIn(",", rows[0]["text"])
        self.assertIn('"', rows[0]["text"])
        self.assertIn("\n", rows[0]["text"])
        self.assertTrue(rows[1]["accepted_at"].startswith("2026-11-26T09:10:0"), rows[1])
        self.assertEqual((rows[1]["accepted_at"], rows[1]["done_at"], rows[1]["rating"]),
                         (want[1002]["accepted_at"], "", ""))
        self.assertEqual(rows[0]["urgent"], "0")


# ---------------------------------------------------------------------------
# The month-long scenario

SEED = os.path.join(ROOT, "seeds", "gridline.conf")
CATEGORIES = [   # (id, keyword, weight, descriptions)
    ("repair", "报修", 30, ["下水管堵了", "楼道灯不亮", "墙砖松动", "门锁坏了"]),
    ("errand", "跑腿", 20, ["帮我买点菜", "代取药品", "帮忙交电费"]),
    ("courtyard", "院务", 8, ["葡萄藤长到电线上了", "院里停车太乱"]),
    ("social", "社保", 8, ["想改首诊医院", "医保卡补办"]),
    ("allowance", "低保", 5, ["低保年审材料"]),
    ("disability", "残疾", 5, ["办残疾证要什么材料"]),
    ("family", "计生", 5, ["独生子女证怎么办"]),
    ("service", "办事", 6, ["开居住证明"]),
    ("unclassified", None, 6, ["你好，想问个事", "请回个电话"]),
]
NOT_ANSWERING = {"w07", "s03"}      # never answer: their tickets are escalated, stay open
SLOTS = ["09:00", "09:10", "10:00", "12:00", "15:00"]


class Scenario:
    """The script: what it sent, when, and what the stats must therefore say."""

    def __init__(self, site, rng):
        self.site = site
        self.rng = rng
        self.grids = self.seed_grids()
        self.todo = collections.defaultdict(list)   # "YYYY-MM-DD HH:MM" -> [(phone, body, fn)]
        self.tickets = {}                           # id -> ledger entry
        self.by_phone = {}                          # resident phone -> ledger entry, before the id
        self.n_phone = 0
        self.runs = 0

    @staticmethod
    def seed_grids():
        """grid id -> (worker id, first address pattern), from the seed config."""
        text = open(SEED, encoding="utf-8").read()
        out = {}
        for m in re.finditer(r'id = "(g\d+)"; name = "[^"]*"; worker = "(w\d+)";\s*'
                             r'addresses = \[ "([^"]+)"', text):
            out[m.group(1)] = (m.group(2), m.group(3))
        assert len(out) == 10, out
        return out

    def slot(self, day, hhmm):
        return f"{day.isoformat()} {hhmm}"

    def later(self, day, days, hhmm, phone, body, fn=None):
        self.todo[self.slot(day + datetime.timedelta(days=days), hhmm)].append((phone, body, fn))

    def new_ticket(self, day, counted):
        cats = [c for c in CATEGORIES]
        cid, kw, _, descs = self.rng.choices(cats, weights=[c[2] for c in cats])[0]
        self.n_phone += 1
        phone = f"+86136{self.n_phone:08d}"
        desc = self.rng.choice(descs)
        if kw is None:
            grid, body = "none", desc
        else:
            grid = self.rng.choice(sorted(self.grids))
            body = f"{kw} {self.grids[grid][1]}{self.rng.randint(1, 9)}单元 {desc}"
        e = {"phone": phone, "category": cid, "grid": grid, "counted": counted,
             "created": self.slot(day, "09:00") + ":00", "accepted": None, "done": None,
             "asked": False, "rating": None, "day": day}
        self.by_phone[phone] = e
        self.todo[self.slot(day, "09:00")].append((phone, body, None))

    def plan(self, e, t):
        """The ticket's life, once its number and owner are known."""
        e["id"], e["assignee"] = t["id"], t["assignee"]
        self.tickets[t["id"]] = e
        w = t["assignee"]
        if w is None or w in NOT_ANSWERING:
            return
        day, n = e["day"], t["id"]
        late = self.rng.random() < 0.2
        self.later(day, 0, "12:00" if late else "09:10", PHONES_ALL[w], f"接单 {n}",
                   lambda when: e.__setitem__("accepted", e["accepted"] or when))
        if self.rng.random() < 0.12:
            return                                   # accepted, never done
        k = self.rng.choice([0, 0, 0, 1, 2, 3, 5])
        self.later(day, k, "15:00", PHONES_ALL[w], f"完成 {n} 已处理", lambda when: self.done(e, when))

    def done(self, e, when):
        e["done"] = when
        if e["asked"]:
            return                                   # 回访 only once per ticket
        e["asked"] = True
        if self.rng.random() < 0.3:
            return                                   # never answers: closed unrated
        r = self.rng.choices([1, 2, 3], weights=[60, 25, 15])[0]
        d = datetime.date.fromisoformat(when[:10])
        self.later(d, 1, "10:00", e["phone"], str(r), lambda w2: self.rated(e, r, d))

    def rated(self, e, r, d):
        e["rating"] = r
        if r != 3:
            return
        # 重办: back to the same worker, who takes it and finishes it again
        w, n = e["assignee"], e["id"]
        self.later(d, 1, "12:00", PHONES_ALL[w], f"接单 {n}")
        self.later(d, 2, "15:00", PHONES_ALL[w], f"完成 {n} 重新处理了",
                   lambda when: e.__setitem__("done", when))

    def run_day(self, day):
        for hhmm in SLOTS:
            when = self.slot(day, hhmm)
            items = self.todo.pop(when, [])
            for phone, body, _ in items:
                self.site.drop(phone, body)
            self.site.once(at=when + ":00")
            self.runs += 1
            for _, _, fn in items:
                if fn:
                    fn(when + ":00")
            if hhmm == "09:00" and any(p in self.by_phone for p, _, _ in items):
                self.number_new()

    def number_new(self):
        for t in self.site.tickets():
            e = self.by_phone.pop(t["phone"], None)
            if e:
                self.plan(e, t)


# every phone of the seed config, by worker id
PHONES_ALL = dict(re.findall(r'id = "(\w+)"; name = "[^"]*"; phone = "(\+\d+)"',
                             open(SEED, encoding="utf-8").read()))


def local(s):
    return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)


def ledger_figures(entries, tickets, now):
    """What the stats must say of these ledger entries (deadlines: the daemon's)."""
    f = {"received": len(entries), "owned": 0, "acc_ok": 0, "acc_of": 0, "done_ok": 0,
         "done_of": 0, "overdue": 0, "asked": 0, "rated": 0, "r": {1: 0, 2: 0, 3: 0},
         "acc_spans": [], "done_spans": []}
    for e in entries:
        t = tickets[e["id"]]
        created = local(e["created"])
        acc_due, done_due = iso(t["accept_due"]), iso(t["done_due"])
        if e["assignee"]:
            f["owned"] += 1
        if acc_due:
            f["acc_of"] += 1
            f["acc_ok"] += bool(e["accepted"] and local(e["accepted"]) <= acc_due)
        if done_due:
            f["done_of"] += 1
            f["done_ok"] += bool(e["done"] and local(e["done"]) <= done_due)
        if e["accepted"]:
            f["acc_spans"].append((local(e["accepted"]) - created).total_seconds())
        if e["done"]:
            f["done_spans"].append((local(e["done"]) - created).total_seconds())
        if e["asked"]:
            f["asked"] += 1
        if e["rating"]:
            f["rated"] += 1
            f["r"][e["rating"]] += 1
        # open and past the deadline it is chased by
        if not e["done"] and not e["accepted"]:
            f["overdue"] += bool(acc_due and acc_due < now)
        elif not e["done"] and e["accepted"]:
            f["overdue"] += bool(done_due and done_due < now)
    return f


class StatsMonth(unittest.TestCase):
    def setUp(self):
        self.site = gl.Site()
        self.addCleanup(self.site.close)
        conf = open(SEED, encoding="utf-8").read()
        conf = conf.replace('"demo/gridline.db"', f'"{self.site.db}"')
        conf = conf.replace('"demo/spool/in"', f'"{self.site.inbox}"')
        conf = conf.replace('"demo/spool/out"', f'"{self.site.outbox}"')
        self.assertNotIn('"demo/', conf)
        # the script keeps one ticket per text and its texts going at any
        # hour: no merging, quiet hours or caps (test_economy covers those)
        conf += gl.test_limits("")
        self.site.write_config(conf)

    def test_stats_month_scenario_matches_the_script(self):
        t0 = time.monotonic()
        sc = Scenario(self.site, random.Random(20261101))
        first, last = datetime.date(2026, 10, 31), datetime.date(2026, 12, 4)
        day = first
        while day <= last:
            if day.month == 11:
                for _ in range(sc.rng.randint(8, 16)):
                    sc.new_ticket(day, True)
            elif day <= datetime.date(2026, 12, 1):     # outside the month: never counted
                for _ in range(3):
                    sc.new_ticket(day, False)
            sc.run_day(day)
            day += datetime.timedelta(days=1)
        self.assertEqual(sc.by_phone, {})
        check_at = "2026-12-05 08:00:00"
        s = stats_at(self.site, check_at, "--since", "2026-11-01", "--until", "2026-11-30")
        tickets = {t["id"]: t for t in self.site.tickets()}
        month = [e for e in sc.tickets.values() if e["counted"]]
        self.assertGreater(len(month), 300)
        self.assertEqual(len(tickets), len(sc.tickets))
        now = local(check_at)

        def check(got, entries, what):
            f = ledger_figures(entries, tickets, now)
            self.assertEqual(got["received"], f["received"], what)
            self.assertEqual(got["owned_within_poll"], f["owned"], what)
            self.assertEqual(got["accepted_on_time"]["on_time"], f["acc_ok"], what)
            self.assertEqual(got["accepted_on_time"]["of"], f["acc_of"], what)
            self.assertEqual(got["done_on_time"]["on_time"], f["done_ok"], what)
            self.assertEqual(got["done_on_time"]["of"], f["done_of"], what)
            self.assertEqual(got["overdue"], f["overdue"], what)
            self.assertEqual(got["callback"]["of"], f["asked"], what)
            self.assertEqual(got["callback"]["rated"], f["rated"], what)
            self.assertEqual(got["satisfaction"]["counts"],
                             {str(k): v for k, v in f["r"].items()}, what)
            for key, spans in (("median_minutes_to_accept", f["acc_spans"]),
                               ("median_minutes_to_done", f["done_spans"])):
                if not spans:
                    self.assertIsNone(got[key], what)
                else:   # the daemon stamps a second or two after the script's time
                    self.assertAlmostEqual(got[key], statistics.median(spans) / 60, delta=0.15,
                                           msg=what)
            return f

        f = check(s, month, "all")
        # the scenario exercised what it is meant to
        self.assertGreater(f["r"][3], 0)
        self.assertGreater(f["asked"], f["rated"])
        self.assertGreater(f["overdue"], 0)
        self.assertGreater(f["acc_of"], f["acc_ok"])
        self.assertGreater(f["done_of"], f["done_ok"])
        for cid, *_ in CATEGORIES:
            check(s["by_category"][cid], [e for e in month if e["category"] == cid], cid)
        self.assertEqual(sorted(s["by_grid"]), sorted(list(sc.grids) + ["none"]))
        for g in s["by_grid"]:
            check(s["by_grid"][g], [e for e in month if e["grid"] == g], g)
        # the tickets the stats count are those the daemon says were created in November
        self.assertEqual(sorted(e["id"] for e in month),
                         sorted(n for n, t in tickets.items()
                                if in_day(t["created_at"], "2026-11-01", "2026-11-30")))
        # workers who never answered: every one of their tickets escalated and still open
        for e in month:
            if e["assignee"] in NOT_ANSWERING:
                self.assertEqual(tickets[e["id"]]["status"], "assigned")
                self.assertEqual(tickets[e["id"]]["chase_stage"], 3)
        # unanswered 回访 closed unrated; answered ones carry the rating
        for e in month:
            t = tickets[e["id"]]
            if e["asked"] and not e["rating"] and e["done"] and local(e["done"]) < local(
                    "2026-12-01 00:00:00"):
                self.assertEqual((t["status"], t["rating"]), ("closed", None), e)
            if e["rating"]:
                self.assertEqual(t["rating"], e["rating"])
        # texts: every text made in November, by status, and the segments sent
        rows = [r for r in self.site.outbox_rows()
                if in_day(r["created_at"], "2026-11-01", "2026-11-30")]
        self.assertEqual(s["texts"]["total"], len(rows))
        self.assertEqual(s["texts"]["sent"], len(rows))
        self.assertEqual(s["texts"]["segments"], sum(r["segments"] for r in rows))
        about = collections.Counter(tickets[r["ticket"]]["grid"] or "none"
                                    for r in rows if r["ticket"])
        for g, n in about.items():
            self.assertEqual(s["by_grid"][g]["texts"]["total"], n, g)
        # the export agrees with the stats
        out = ctl_at(self.site, check_at, "export", "--since", "2026-11-01",
                     "--until", "2026-11-30").stdout.decode()
        self.assertEqual(len(list(csv.DictReader(io.StringIO(out, newline="")))), len(month))
        elapsed = time.monotonic() - t0
        print(f"\n  month scenario: {len(month)} tickets in November, {sc.runs} --once runs, "
              f"{elapsed:.1f} s", flush=True)
        self.assertLess(elapsed, 120)


if __name__ == "__main__":
    unittest.main()
