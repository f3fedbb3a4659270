"""test_scale.py — a daemon whose database holds 50,000 tickets costs what
an empty one does: a burst of texts reads the database a bounded number of
times per text (no statement scans tickets or the queue once a batch), and
between polls an idle daemon neither runs nor wakes.

Figures are the kernel's counters for the process (/proc/PID/io syscr,
/proc/PID/stat utime+stime, /proc/PID/status context switches), never the
wall clock; the bounds are a fraction of what one scan a batch costs.
"""
import os
import sqlite3
import time

import gl

TICKETS = 50000
BURST = 200


def counters(pid):
    with open(f"/proc/{pid}/io") as f:
        io = dict(line.split(": ") for line in f.read().splitlines())
    with open(f"/proc/{pid}/stat") as f:
        st = f.read().rsplit(")", 1)[1].split()
    with open(f"/proc/{pid}/status") as f:
        sw = sum(int(line.split()[1]) for line in f if "ctxt_switches" in line)
    return {"reads": int(io["syscr"]), "ticks": int(st[11]) + int(st[12]), "switches": sw}


def grow(db, n):
    """n tickets of a past year, each with its texts and history, straight
    into SQLite: most closed (no clock), one in ten still open (a clock
    days ahead)."""
    now = int(time.time())
    con = sqlite3.connect(db)
    with con:
        con.executemany(
            "INSERT INTO tickets (category, status, grid, assignee, phone, text, address,"
            " created_at, updated_at, next_check) VALUES (?, ?, 'g1', 'w01', ?, ?, ?, ?, ?, ?)",
            (("repair", "accepted" if i % 10 == 0 else "closed", "+86137%08d" % i,
              "下水管堵了 %d" % i, "寇庄西路6号院", now - 86400 * 300 + i * 500,
              now - 86400 * 300 + i * 500, now + 86400 * 3 + i if i % 10 == 0 else None)
             for i in range(n)))
        con.executemany(
            "INSERT INTO outbox (recipient, body, ticket, kind, status, attempts, next_attempt,"
            " created_at, updated_at, sent_at) VALUES (?, ?, ?, 'ack', 'delivered', 1, ?, ?, ?, ?)",
            (("+86137%08d" % i, "【社区热线】已收到", 1001 + i, t, t, t, t)
             for i, t in ((i, now - 86400 * 300 + i * 500) for i in range(n))))
        con.executemany(
            "INSERT INTO ticket_events (ticket, at, actor, event, to_status) VALUES (?, ?, 'w01',"
            " 'accepted', 'accepted')", ((1001 + i, now - 86400 * 300 + i * 500) for i in range(n)))
    con.close()


class FiftyThousandTickets(gl.SiteCase):
    site_args = {"poll_interval": 2.0}

    def setUp(self):
        super().setUp()
        self.site.once()            # the schema
        grow(self.site.db, TICKETS)

    def count_tickets(self):
        con = sqlite3.connect(self.site.db)
        try:
            return con.execute("SELECT count(*) FROM tickets").fetchone()[0]
        finally:
            con.close()

    def test_a_burst_reads_the_database_a_bounded_number_of_times_per_text(self):
        d = self.site.start()
        d.wait_ready()
        time.sleep(0.5)
        before = counters(d.pid)
        for i in range(BURST):      # one at a time, so the daemon sees many small batches
            self.site.drop("+86138%08d" % i, "报修 寇庄西路6号院 下水管堵了 %d" % i)
            time.sleep(0.005)
        gl.wait_for(lambda: self.count_tickets() == TICKETS + BURST, 60.0, "the burst's tickets")
        gl.wait_for(lambda: not self.site.inbox_files(), 10.0, "the inbox emptied")
        after = counters(d.pid)
        reads = after["reads"] - before["reads"]
        # a scan of tickets once a batch alone reads thousands of pages
        self.assertLess(reads, BURST * 60, f"{reads} read calls for {BURST} texts")
        d.check_alive("the burst")

    def test_an_idle_daemon_neither_runs_nor_wakes_between_polls(self):
        d = self.site.start()
        d.wait_ready()
        time.sleep(1.5)             # start-up fetch, clock and STATUS= done
        before = counters(d.pid)
        time.sleep(6.0)             # three polls
        after = counters(d.pid)
        ticks = after["ticks"] - before["ticks"]
        switches = after["switches"] - before["switches"]
        reads = after["reads"] - before["reads"]
        self.assertLessEqual(switches, 10, "wake-ups of an idle daemon over three polls")
        self.assertLessEqual(ticks, 10, "CPU ticks of an idle daemon over three polls")
        self.assertLess(reads, 300, "read calls of an idle daemon over three polls")
        d.check_alive("idle")
