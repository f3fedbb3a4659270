#!/usr/bin/env python3
"""gridline benchmarks — print figures for the targets in the README.

  backlog   10,000 texts in the spool inbox -> `gridlined --once`, against
            the physical floor (bench/floor.c doing the same file reads,
            SQLite rows and file writes); texts/s and the ratio.
  latency   a file dropped into the inbox of a running daemon: time until
            its reply file appears, p50/p99 over 300 drops.
  rss       resident memory of a running daemon while 100,000 texts pass
            through, sampled after every 10,000.
  idle      context switches of an idle daemon over 12 s (poll_interval 5).
  ready     time from exec to READY=1 with 20,000 tickets in the database.

Figures only: nothing here passes or fails (shared machines are noisy).
Usage: bench/bench.py [backlog|latency|rss|idle|ready ...]   (default: all)
"""
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
GRIDLINED = os.path.join(BUILD, "gridlined")
FLOOR = os.path.join(BUILD, "bench-floor")

CONF = """
database = "{d}/gridline.db";
country_code = "86";
poll_interval = {poll};
provider = {{ type = "spool"; inbox = "{d}/in"; outbox = "{d}/out"; }};
log = {{ level = "warning"; }};
# the backlog is 10,000 separate tickets: no merging, no quiet hours, no flood alert
limits = {{ quiet_hours = ""; alert_per_hour = 0; }};
workflow = {{ merge_window = 0; }};
grids = (
  {{ id = "g1"; name = "第一网格"; worker = "w01"; addresses = [ "解放南路281号院" ]; }},
  {{ id = "g2"; name = "第二网格"; worker = "w02"; addresses = [ "寇庄西路6号院" ]; }}
);
workers = (
  {{ id = "w01"; name = "李娜"; phone = "+8613900000001"; role = "grid"; }},
  {{ id = "w02"; name = "王强"; phone = "+8613900000002"; role = "grid"; }},
  {{ id = "v01"; name = "广欣物业"; phone = "+8613900000100"; role = "vendor"; }},
  {{ id = "s01"; name = "社保员"; phone = "+8613900000201"; role = "specialist"; }},
  {{ id = "op1"; name = "值班员"; phone = "+8613900000300"; role = "operator"; }}
);
"""

TEXTS = ["报修 解放南路281号院3单元 下水管堵了", "跑腿 寇庄西路6号院 帮忙买菜",
         "办事 寇庄西路6号院 独生子女登记", "报修 寇庄西路6号院 家里掉了墙砖想补补",
         "请问社区几点上班"]


def workdir(poll=5.0):
    d = tempfile.mkdtemp(prefix="gl-bench-")
    os.makedirs(d + "/in")
    os.makedirs(d + "/out")
    with open(d + "/gridline.conf", "w") as f:
        f.write(CONF.format(d=d, poll=poll))
    return d


def drop(d, i, text=None, sender=None):
    name = "m%07d" % i
    body = "From: %s\n\n%s\n" % (sender or "+86138%08d" % i, text or TEXTS[i % len(TEXTS)])
    with open("%s/in/.%s" % (d, name), "w") as f:
        f.write(body)
    os.rename("%s/in/.%s" % (d, name), "%s/in/%s" % (d, name))
    return name


def backlog(n=10000):
    d = workdir()
    for i in range(n):
        drop(d, i)
    t0 = time.monotonic()
    subprocess.run([GRIDLINED, "-c", d + "/gridline.conf", "--once"], check=True)
    t_daemon = time.monotonic() - t0
    db = sqlite3.connect(d + "/gridline.db")
    rows = sum(db.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
               for t in ("inbound", "tickets", "ticket_events", "outbox"))
    files = len([f for f in os.listdir(d + "/out") if not f.startswith(".")])
    db.close()
    # the floor: same number of files read, rows inserted, files written
    f = workdir()
    for i in range(n):
        drop(f, i)
    out = subprocess.run([FLOOR, f + "/in", f + "/out", f + "/floor.db", str(round(rows / n)),
                          str(round(files / n)), "500"], check=True, capture_output=True, text=True)
    t_floor = float(out.stdout)
    print("backlog: %d texts -> %d rows, %d files" % (n, rows, files))
    print("backlog: gridlined --once %.3f s (%.0f texts/s); floor %.3f s; ratio %.2f"
          % (t_daemon, n / t_daemon, t_floor, t_daemon / t_floor))
    shutil.rmtree(d)
    shutil.rmtree(f)


class Daemon:
    def __init__(self, d, env=None):
        self.sock_path = d + "/notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        e = dict(os.environ, NOTIFY_SOCKET=self.sock_path)
        e.update(env or {})
        self.t0 = time.monotonic()
        self.p = subprocess.Popen([GRIDLINED, "-c", d + "/gridline.conf"], env=e)

    def wait_ready(self, timeout=10):
        self.sock.settimeout(timeout)
        while True:
            msg = self.sock.recv(4096).decode()
            if "READY=1" in msg.split("\n"):
                t = time.monotonic() - self.t0
                # keep reading like systemd does, or sd_notify blocks on a full queue
                threading.Thread(target=self._drain, daemon=True).start()
                return t

    def _drain(self):
        self.sock.settimeout(None)
        try:
            while self.sock.recv(4096):
                pass
        except OSError:
            pass

    def stop(self):
        self.p.terminate()
        self.p.wait()
        self.sock.close()


def status(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def latency(n=300):
    d = workdir(poll=30.0)
    dm = Daemon(d)
    dm.wait_ready()
    lat = []
    for i in range(n):
        before = set(os.listdir(d + "/out"))
        t0 = time.monotonic()
        drop(d, i, "报修 解放南路281号院 水管漏水", "+8613800%06d" % i)
        while True:
            now = set(os.listdir(d + "/out"))
            if len([x for x in now - before if not x.startswith(".")]) >= 3:
                break
            time.sleep(0.0002)
        lat.append(time.monotonic() - t0)
    dm.stop()
    lat.sort()
    print("latency: %d drops; p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (n, 1000 * lat[n // 2], 1000 * lat[int(n * 0.99) - 1], 1000 * lat[-1]))
    shutil.rmtree(d)


def rss(total=100000, chunk=10000):
    d = workdir(poll=30.0)
    dm = Daemon(d)
    dm.wait_ready()
    samples = [status(dm.p.pid, "VmRSS")]
    sent = 0
    while sent < total:
        for i in range(sent, sent + chunk):
            drop(d, i)
        sent += chunk
        while any(not f.startswith(".") and f not in ("done", "bad") for f in os.listdir(d + "/in")):
            time.sleep(0.05)
        time.sleep(0.2)
        samples.append(status(dm.p.pid, "VmRSS"))
        shutil.rmtree(d + "/in/done")
        os.makedirs(d + "/in/done")
        for f in os.listdir(d + "/out"):
            if not f.startswith("."):
                os.unlink(d + "/out/" + f)
    hwm = status(dm.p.pid, "VmHWM")
    dm.stop()
    print("rss: KiB after each %d texts: %s" % (chunk, " ".join(str(s) for s in samples)))
    print("rss: peak %.2f MiB; growth from 10,000 to %d texts: %d KiB"
          % (hwm / 1024, total, samples[-1] - samples[1]))
    shutil.rmtree(d)


def idle(seconds=12):
    d = workdir(poll=5.0)
    dm = Daemon(d)
    dm.wait_ready()
    time.sleep(0.5)
    v0 = status(dm.p.pid, "voluntary_ctxt_switches")
    n0 = status(dm.p.pid, "nonvoluntary_ctxt_switches")
    time.sleep(seconds)
    v1 = status(dm.p.pid, "voluntary_ctxt_switches")
    n1 = status(dm.p.pid, "nonvoluntary_ctxt_switches")
    dm.stop()
    print("idle: %d s with poll_interval 5: %d wake-ups (voluntary context switches), "
          "%d involuntary; polls expected: %d" % (seconds, v1 - v0, n1 - n0, seconds // 5))
    shutil.rmtree(d)


def ready(n=20000):
    d = workdir()
    for i in range(n):
        drop(d, i)
    subprocess.run([GRIDLINED, "-c", d + "/gridline.conf", "--once"], check=True)
    db = sqlite3.connect(d + "/gridline.db")
    tickets = db.execute("SELECT count(*) FROM tickets").fetchone()[0]
    db.close()
    times = []
    for _ in range(5):
        dm = Daemon(d)
        times.append(dm.wait_ready())
        dm.stop()
        os.unlink(dm.sock_path)
    print("ready: %d tickets in the database; exec to READY=1: best %.1f ms, worst %.1f ms"
          % (tickets, 1000 * min(times), 1000 * max(times)))
    shutil.rmtree(d)


def main():
    which = sys.argv[1:] or ["backlog", "latency", "rss", "idle", "ready"]
    for w in which:
        globals()[w]()


if __name__ == "__main__":
    main()
