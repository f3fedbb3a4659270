#!/usr/bin/env python3
"""gridline at scale — the same figures with 0, 10,000, 100,000 and
1,000,000 tickets of history in the database (make bench-scale).

Each database is grown straight into SQLite after gridlined has made the
schema: per ticket its inbound text, three outbox rows (ack, worker
notice, done/回访), four history events, and one resident per three
tickets, spread evenly over the time a street office takes to collect
them (about 900 tickets a day, at most three years). 97% are closed, 2%
done and waiting for a rating (a clock), 1% accepted (a clock days ahead).

At each size it prints: time to READY (best of 3); idle CPU and wake-ups
over 15 s with poll_interval 5; p99 from a dropped spool file to its
texts; VmHWM; gridlinectl tickets (all of them, and --status open),
ticket show, stats and export --csv for a month; and last the rate of a 10,000-text intake (gridlined --once).

Figures only: nothing here passes or fails (shared machines are noisy).
Usage: bench/scale.py [SIZE ...]        (default: 0 10000 100000 1000000)
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import time

import bench
from bench import GRIDLINED, Daemon, drop, status, workdir

GRIDLINECTL = os.path.join(bench.BUILD, "gridlinectl")
DAY = 86400
PER_DAY = 900


def history(n, now):
    """(created_at, status, next_check) of ticket i of n, oldest first."""
    span = min(n / PER_DAY, 3 * 365) * DAY
    for i in range(n):
        t = int(now - span + span * i / max(n, 1)) - 3600
        k = i % 100
        if k == 0:
            yield t, "accepted", now + 3 * DAY + i % DAY
        elif k in (1, 2):
            yield t, "done", now + DAY + i % DAY
        else:
            yield t, "closed", None


def grow(db, n):
    now = int(time.time())
    con = sqlite3.connect(db)
    con.execute("PRAGMA synchronous = OFF")
    rows = list(history(n, now))
    with con:
        con.executemany(
            "INSERT INTO inbound (id, provider, provider_id, sender, body, received_at, stored_at,"
            " state) VALUES (?, 'spool', ?, ?, ?, ?, ?, 'processed')",
            ((i + 1, "h%d" % i, "+86137%08d" % (i // 3), "报修 解放南路281号院 下水管堵了", t, t)
             for i, (t, _, _) in enumerate(rows)))
        con.executemany(
            "INSERT INTO tickets (id, category, status, grid, assignee, phone, text, address,"
            " inbound_id, created_at, updated_at, accept_due, done_due, next_check, accepted_at,"
            " done_at, rating) VALUES (?, 'repair', ?, 'g1', 'w01', ?, '下水管堵了',"
            " '解放南路281号院', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((1001 + i, s, "+86137%08d" % (i // 3), i + 1, t, t + 7200, t + 1800, t + 2 * DAY,
              nc, t + 900, t + 7200 if s != "accepted" else None, 1 if s == "closed" else 0)
             for i, (t, s, nc) in enumerate(rows)))
        con.executemany(
            "INSERT INTO outbox (recipient, body, ticket, inbound_id, kind, status, attempts,"
            " next_attempt, created_at, updated_at, sent_at, segments)"
            " VALUES (?, ?, ?, ?, ?, 'delivered', 1, ?, ?, ?, ?, 1)",
            ((to, "【社区热线】工单%d" % (1001 + i), 1001 + i, i + 1, kind, t + dt, t + dt, t + dt,
              t + dt)
             for i, (t, _, _) in enumerate(rows)
             for to, kind, dt in (("+86137%08d" % (i // 3), "ack", 0),
                                  ("+8613900000001", "notify_worker", 0),
                                  ("+86137%08d" % (i // 3), "done", 7200))))
        con.executemany(
            "INSERT INTO ticket_events (ticket, at, actor, event, from_status, to_status)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            ((1001 + i, t + dt, who, ev, a, b)
             for i, (t, s, _) in enumerate(rows)
             for who, ev, a, b, dt in (("resident", "created", None, "new", 0),
                                       ("system", "assign", "new", "assigned", 0),
                                       ("w01", "accepted", "assigned", "accepted", 900),
                                       ("w01", "done", "accepted", s, 7200))))
        con.executemany(
            "INSERT OR IGNORE INTO residents (phone, name, address, grid, updated_at)"
            " VALUES (?, '居民', '解放南路281号院', 'g1', ?)",
            (("+86137%08d" % (i // 3), now) for i in range(0, n, 3)))
    con.close()


def cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        st = f.read().rsplit(")", 1)[1].split()
    return (int(st[11]) + int(st[12])) / os.sysconf("SC_CLK_TCK")


def ready_ms(d):
    best = None
    for _ in range(3):
        dm = Daemon(d)
        t = dm.wait_ready()
        dm.stop()
        os.unlink(dm.sock_path)
        best = t if best is None or t < best else best
    return 1000 * best


def idle_and_latency(d, seconds=15, drops=100):
    dm = Daemon(d)
    dm.wait_ready()
    time.sleep(2.0)
    c0, v0 = cpu(dm.p.pid), status(dm.p.pid, "voluntary_ctxt_switches")
    time.sleep(seconds)
    c1, v1 = cpu(dm.p.pid), status(dm.p.pid, "voluntary_ctxt_switches")
    lat = []
    for i in range(drops):
        before = set(os.listdir(d + "/out"))
        t0 = time.monotonic()
        drop(d, 900000 + i, "报修 解放南路281号院 水管漏水", "+8613600%06d" % i)
        while len([x for x in set(os.listdir(d + "/out")) - before if x[0] != "."]) < 3:
            time.sleep(0.0002)
        lat.append(time.monotonic() - t0)
    hwm = status(dm.p.pid, "VmHWM")
    dm.stop()
    os.unlink(dm.sock_path)
    lat.sort()
    return c1 - c0, v1 - v0, 1000 * lat[int(drops * 0.99) - 1], hwm / 1024


def ctl_ms(d, *args):
    t0 = time.monotonic()
    subprocess.run([GRIDLINECTL, "-c", d + "/gridline.conf", *args], check=True,
                   stdout=subprocess.DEVNULL)
    return 1000 * (time.monotonic() - t0)


def ctl_figures(d, n):
    month = time.strftime("%Y-%m-%d", time.localtime(time.time() - 30 * DAY))
    mid = str(1001 + n // 2) if n else "1001"
    return (ctl_ms(d, "tickets"), ctl_ms(d, "tickets", "--status", "open"),
            ctl_ms(d, "ticket", "show", mid),
            ctl_ms(d, "stats", "--since", month), ctl_ms(d, "export", "--csv", "--since", month))


def intake_rate(d, n=10000):
    for f in os.listdir(d + "/out"):
        if f[0] != ".":
            os.unlink(os.path.join(d, "out", f))
    for i in range(n):
        drop(d, i)
    t0 = time.monotonic()
    subprocess.run([GRIDLINED, "-c", d + "/gridline.conf", "--once"], check=True,
                   stderr=subprocess.DEVNULL)
    return n / (time.monotonic() - t0)


def one_size(n):
    d = workdir(poll=5.0)
    subprocess.run([GRIDLINED, "-c", d + "/gridline.conf", "--once"], check=True,
                   stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    grow(d + "/gridline.db", n)
    built = time.monotonic() - t0
    size = os.path.getsize(d + "/gridline.db") / 2**20
    ready = ready_ms(d)
    idle_cpu, wakes, p99, hwm = idle_and_latency(d)
    tl, topen, show, stats, export = ctl_figures(d, n)
    rate = intake_rate(d)
    print("%9d tickets (%.0f MiB, built in %.0f s): READY %.1f ms; idle 15 s: %.2f s CPU,"
          " %d wake-ups; p99 %.1f ms; VmHWM %.2f MiB; ctl tickets (all) %.0f ms, open %.0f ms,"
          " show %.0f ms,"
          " stats %.0f ms, export %.0f ms; intake %.0f texts/s"
          % (n, size, built, ready, idle_cpu, wakes, p99, hwm, tl, topen, show, stats, export,
             rate),
          flush=True)
    shutil.rmtree(d)


def main():
    sizes = [int(a) for a in sys.argv[1:]] or [0, 10000, 100000, 1000000]
    print("scale: %s, %d cores" % (os.uname().nodename, os.cpu_count()))
    for n in sizes:
        one_size(n)


if __name__ == "__main__":
    main()
