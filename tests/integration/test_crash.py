"""test_crash.py — exactly-once under kill -9.

Hundreds of texts wait in the inbox; gridlined is started and killed with
SIGKILL at random moments, again and again, then allowed to finish with
--once. Afterwards every text is exactly one ticket, every sender got
exactly one reply (one outbox row and one file), the inbox is empty and
nothing half-written is left in the outbox. Set GL_SEED to replay a run.
"""
import os
import random
import signal
import sys
import sqlite3
import time
import unittest

import gl
from gl import PHONES

N_TEXTS = 400
N_KILLS = 20

BODIES = [  # (text, category, assignee or None)
    ("报修 寇庄西路6号院{n}单元 下水管堵了", "repair", "v01"),
    ("跑腿 解放南路281号院 帮我买菜{n}", "errand", "w01"),
    ("办事 菜园小区{n}号楼 想办残疾证", "service", "s01"),
    ("楼道灯坏了{n}天了", "unclassified", None),
    ("跑腿 帮我取药{n}", "errand", None),
]


def sender(n):
    return f"+86136{n:08d}"


class CrashSafety(gl.SiteCase):
    # small batches, so that kills land between many commits
    site_args = {"poll_interval": 1.0, "extra": "limits = { batch = 20; };\n"}

    def test_kill_9_loses_and_duplicates_nothing(self):
        seed = int(os.environ.get("GL_SEED", time.time_ns() % 1000000))
        rng = random.Random(seed)
        ctx = f"(GL_SEED={seed})"
        sent = {}
        for n in range(N_TEXTS):
            tmpl, cat, who = BODIES[n % len(BODIES)]
            sent[sender(n)] = (tmpl.format(n=n), cat, who)
        order = list(sent)
        # half the texts wait at the first start; the rest arrive 10 per
        # restart, so that every run has inbound work that a kill can cut
        first, per_run = N_TEXTS // 2, (N_TEXTS - N_TEXTS // 2) // N_KILLS
        for p in order[:first]:
            self.site.drop(p, sent[p][0])
        pos = first

        interrupted = []   # (delay, inbox files left, texts still queued) per kill
        for i in range(N_KILLS):
            for p in order[pos:pos + per_run]:
                self.site.drop(p, sent[p][0])
            pos += per_run
            d = self.site.start()
            # the daemon is quick: half the kills come within its first 30 ms
            delay = rng.uniform(0.0, 0.15 if i % 2 else 0.03)
            time.sleep(delay)
            d.send(signal.SIGKILL)
            d.proc.wait()
            left = len(self.site.inbox_files())
            queued = len(self.site.ctl_json("outbox", "--json")) \
                if os.path.exists(self.site.db) and self.site.ctl("outbox", check=False).returncode == 0 \
                else -1
            interrupted.append((round(delay, 3), left, queued))
        for p in order[pos:]:
            self.site.drop(p, sent[p][0])
        self.site.once()

        # every text: exactly one ticket, of the right kind
        tickets = self.site.tickets()
        by_phone = {}
        for t in tickets:
            by_phone.setdefault(t["phone"], []).append(t)
        dup = {p: [t["id"] for t in ts] for p, ts in by_phone.items() if len(ts) != 1}
        self.assertEqual(dup, {}, f"senders with more than one ticket {ctx}")
        self.assertEqual(sorted(by_phone), sorted(sent), f"senders without a ticket {ctx}")
        self.assertEqual([t["id"] for t in tickets], list(range(1001, 1001 + N_TEXTS)), ctx)
        for p, (body, cat, who) in sent.items():
            [t] = by_phone[p]
            self.assertEqual((t["category"], t["assignee"]), (cat, who), f"{p} {body} {ctx}")

        # every sender: exactly one reply row and one reply file
        rows = self.site.outbox_rows()
        self.assertEqual([r for r in rows if r["status"] != "sent"], [], ctx)
        per = {}
        for r in rows:
            per.setdefault(r["to"], []).append(r)
        bad = {p: len(per.get(p, [])) for p in sent if len(per.get(p, [])) != 1}
        self.assertEqual(bad, {}, f"senders without exactly one reply row {ctx}")
        for p in sent:
            self.assertIn(str(by_phone[p][0]["id"]), per[p][0]["body"], ctx)
        files = self.site.outbox_files()
        fper = {}
        for f in files:
            fper.setdefault(f["headers"]["To"], []).append(f["name"])
        bad = {p: fper.get(p, []) for p in sent if len(fper.get(p, [])) != 1}
        self.assertEqual(bad, {}, f"senders without exactly one reply file {ctx}")
        self.assertFilesMatchRows()
        # notices: one per assigned ticket (plus copies), operators for the rest
        n_ops = sum(1 for _, _, who in sent.values() if who is None)
        self.assertEqual(len(per.get(PHONES["op1"], [])), n_ops, ctx)
        n_vendor = sum(1 for _, _, who in sent.values() if who == "v01")
        self.assertEqual(len(per.get(PHONES["v01"], [])), n_vendor, ctx)

        # the spool: everything moved to done/, nothing half-written left over
        self.assertEqual(self.site.inbox_files(), [], ctx)
        self.assertEqual(self.site.inbox_files("bad"), [], ctx)
        self.assertEqual(len(self.site.inbox_files("done")), N_TEXTS, ctx)
        self.assertEqual(self.site.outbox_dotfiles(), [], f"temporary files left {ctx}")

        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        self.addCleanup(db.close)
        states = dict(db.execute("SELECT state, count(*) FROM inbound GROUP BY state"))
        self.assertEqual(states, {"processed": N_TEXTS}, ctx)

        # and a later run changes nothing (no resend storm)
        self.site.once()
        self.assertEqual(self.site.outbox_rows(), rows, ctx)
        self.assertEqual(len(self.site.outbox_files()), len(files), ctx)

        # the kills really cut work short (else this test proves little)
        cut = [k for k in interrupted if k[1] != 0 or k[2] != 0]
        if os.environ.get("GL_VERBOSE"):
            print(f"\n{ctx} {len(cut)} of {len(interrupted)} kills cut work short: "
                  f"{interrupted}", file=sys.stderr)
        self.assertGreaterEqual(len(cut), 3, f"(delay, inbox left, queued) per kill: {interrupted}")


if __name__ == "__main__":
    unittest.main()
