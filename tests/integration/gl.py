"""gl.py — shared harness for the gridline integration tests.

Each test gets a Site: a temporary directory with a spool inbox/outbox, a
database path and a generated libconfig file, and helpers to drop inbound
texts, run the real build/gridlined (--once or as a service with a
NOTIFY_SOCKET the test owns), read the outbox files and ask the real
build/gridlinectl for tickets and outbox rows as JSON. Site.close() kills
any daemon still running and removes the directory.

Python 3 standard library only. Binaries come from $BUILD (default
"build") under the repository root.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import ThreadingHTTPServer

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
GRIDLINED = os.path.join(BUILD, "gridlined")
GRIDLINECTL = os.path.join(BUILD, "gridlinectl")

# The people of the test community (config ids -> E.164 phones).
PHONES = {
    "w00": "+8613900000010",   # community leader
    "w01": "+8613900000001",   # grid workers
    "w02": "+8613900000002",
    "w03": "+8613900000003",
    "v01": "+8613900000100",   # 广欣物业
    "s01": "+8613900000200",   # 全科服务 specialist
    "op1": "+8613900000300",   # operator
}
# Grid -> (worker, address pattern)
GRIDS = {
    "g1": ("w01", "解放南路281号院"),
    "g2": ("w02", "寇庄西路6号院"),
    "g3": ("w03", "菜园小区"),
}

# Environment variables a test daemon must not inherit from whoever runs us.
_SCRUB = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "JOURNAL_STREAM",
          "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "CREDENTIALS_DIRECTORY",
          # the tests talk to 127.0.0.1 only: never through the host's proxy
          "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
          "no_proxy", "NO_PROXY")


class LoopbackHTTPServer(ThreadingHTTPServer):
    """The fakes' server: 127.0.0.1 only (callers bind it so), a thread per
    connection, and a listen backlog deep enough that a burst of the
    daemon's connections on a loaded machine is never dropped (the
    standard 5 made connects time out under load)."""
    request_queue_size = 128
    daemon_threads = True


def need_binaries():
    """Fail (not skip: a skipped suite would hide an unbuilt tree) if missing."""
    for b in (GRIDLINED, GRIDLINECTL):
        if not os.access(b, os.X_OK):
            raise AssertionError(f"{b} is not built (run make)")


def clean_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB}
    env.setdefault("LANG", "C.UTF-8")
    if extra:
        env.update(extra)
    return env


def faketime_env(extra=None):
    """The environment for a binary run under the faketime command: local
    time in Asia/Shanghai unless extra says otherwise, the monotonic clock
    left alone (sd-event timers), and — libfaketime being preloaded before
    the ASan runtime of a sanitizer build — ASan told not to mind."""
    asan = os.environ.get("ASAN_OPTIONS", "")
    return dict({"TZ": "Asia/Shanghai", "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                 "ASAN_OPTIONS": (asan + ":" if asan else "") + "verify_asan_link_order=0"},
                **(extra or {}))


def wait_for(fn, timeout=5.0, what="condition", interval=0.02):
    """Call fn until it returns something truthy; return that, or fail."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def has_raw_controls(data: bytes):
    """C0 control bytes other than \\n and \\t, and DEL (0x7f), in data."""
    return sorted({b for b in data if (b < 0x20 and b not in (0x0a, 0x09)) or b == 0x7f})


def parse_spool(data: bytes):
    """Split a spool file into ({header: value}, body bytes)."""
    headers = {}
    head, sep, body = data.partition(b"\n\n")
    if not sep:
        raise AssertionError(f"spool file without a blank line: {data[:200]!r}")
    for line in head.decode("utf-8").split("\n"):
        name, colon, value = line.partition(":")
        if not colon:
            raise AssertionError(f"bad header line {line!r}")
        headers[name.strip()] = value.strip()
    return headers, body


# Test sites run at any hour, send many texts from one number and report
# the same thing at the same address again and again: quiet hours, the
# per-number caps and the merging of duplicate reports are off unless a
# test sets them itself.
TEST_DEFAULTS = {
    "limits": {"quiet_hours": '""', "per_hour": "1000", "per_day": "10000"},
    "workflow": {"merge_window": "0"},
}


def test_limits(extra):
    """extra with TEST_DEFAULTS merged into its groups (added if absent)."""
    for group, keys in TEST_DEFAULTS.items():
        add = " ".join(f"{k} = {v};" for k, v in keys.items()
                       if not re.search(rf"\b{k}\s*=", extra))
        if f"{group} = {{" in extra:
            extra = extra.replace(f"{group} = {{", f"{group} = {{ {add}", 1)
        else:
            extra += f"{group} = {{ {add} }};\n"
    return extra


def worker_block(workers=None):
    workers = workers or [
        ("w00", "社区主任", "leader"), ("w01", "李娜", "grid"), ("w02", "王强", "grid"),
        ("w03", "张敏", "grid"), ("v01", "广欣物业", "vendor"), ("s01", "全科服务", "specialist"),
        ("op1", "值班员", "operator"),
    ]
    rows = [f'  {{ id = "{i}"; name = "{n}"; phone = "{PHONES[i]}"; role = "{r}"; }}'
            for i, n, r in workers]
    return "workers = (\n" + ",\n".join(rows) + "\n);\n"


def grid_block(grids=None):
    grids = grids or GRIDS
    rows = []
    for n, (gid, (worker, addr)) in enumerate(sorted(grids.items()), 1):
        rows.append(f'  {{ id = "{gid}"; name = "第{n}网格"; worker = "{worker}"; '
                    f'leader = "w00"; addresses = [ "{addr}" ]; }}')
    return "grids = (\n" + ",\n".join(rows) + "\n);\n"


class Daemon:
    """A gridlined running as a service, with its own NOTIFY_SOCKET."""

    def __init__(self, site, env=None, args=(), exe=None):
        site.n_daemons += 1
        n = site.n_daemons
        self.site = site
        self.sock_path = os.path.join(site.dir, f"notify-{n}.sock")
        self.log_path = os.path.join(site.dir, f"daemon-{n}.log")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.sock_path)
        self.sock.settimeout(0.1)
        self.notes = []          # every line received on NOTIFY_SOCKET, in order
        self.stamped = []        # (time.monotonic() on receipt, line) for each of them
        self.lock = threading.Lock()
        self.stop = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        e = clean_env({"NOTIFY_SOCKET": self.sock_path})
        if env:
            e.update(env)
        self.logf = open(self.log_path, "wb")
        self.proc = subprocess.Popen([exe or GRIDLINED, "-c", site.conf, *args], env=e,
                                     stdin=subprocess.DEVNULL, stdout=self.logf,
                                     stderr=subprocess.STDOUT, cwd=site.dir)
        self.pid = self.proc.pid

    def _read(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            now = time.monotonic()
            lines = data.decode("utf-8", "replace").split("\n")
            with self.lock:
                self.notes.extend(lines)
                self.stamped.extend((now, s) for s in lines)

    def lines(self):
        with self.lock:
            return list(self.notes)

    def count(self, line):
        return self.lines().count(line)

    def times(self, line):
        """When each notify line equal to line arrived (monotonic seconds)."""
        with self.lock:
            return [t for t, s in self.stamped if s == line]

    def wait_note(self, pred, timeout=5.0, start=0, what=None):
        """Wait for a notify line matching pred (a string or a function) at
        index >= start; return its index."""
        test = pred if callable(pred) else (lambda s: s == pred)

        def find():
            self.check_alive(what or str(pred))
            for i, s in enumerate(self.lines()[start:], start):
                if test(s):
                    return i + 1
            return 0
        return wait_for(find, timeout, what or f"notify {pred!r}") - 1

    def wait_ready(self, timeout=10.0):
        return self.wait_note("READY=1", timeout)

    def check_alive(self, what=""):
        rc = self.proc.poll()
        if rc is not None:
            raise AssertionError(f"gridlined exited with {rc} while waiting for {what}; "
                                 f"log:\n{self.log().decode('utf-8', 'replace')[-3000:]}")

    def send(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=10.0):
        return self.proc.wait(timeout)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def log(self):
        self.logf.flush()
        with open(self.log_path, "rb") as f:
            return f.read()

    def close(self):
        self.kill()
        self.stop = True
        self.reader.join(1)
        self.sock.close()
        self.logf.close()


class Site:
    """A temporary gridline installation: config, database, spool."""

    def __init__(self, poll_interval=1.0, extra="", grids=None, workers=None, provider=None):
        need_binaries()
        self.dir = tempfile.mkdtemp(prefix="gl-it-")
        self.inbox = os.path.join(self.dir, "in")
        self.outbox = os.path.join(self.dir, "out")
        self.db = os.path.join(self.dir, "gridline.db")
        self.conf = os.path.join(self.dir, "gridline.conf")
        os.makedirs(self.inbox)
        os.makedirs(self.outbox)
        self.n_daemons = 0
        self.n_dropped = 0
        self.daemons = []
        self.logs = []          # stderr of every --once run, in order
        self.poll_interval = poll_interval
        self.provider = provider  # a whole "provider = { ... };" line; None: the spool
        self.write_config(self.config_text(poll_interval, extra, grids, workers))

    # ---- config ----

    def config_text(self, poll_interval=None, extra="", grids=None, workers=None):
        if poll_interval is None:
            poll_interval = self.poll_interval
        return (
            "# generated by tests/integration/gl.py\n"
            f'database = "{self.db}";\n'
            'country_code = "86";\n'
            f"poll_interval = {float(poll_interval)!r};\n"
            + (self.provider + "\n" if self.provider else
               f'provider = {{ type = "spool"; inbox = "{self.inbox}"; outbox = "{self.outbox}"; }};\n')
            + grid_block(grids) + worker_block(workers) + test_limits(extra))

    def write_config(self, text):
        tmp = self.conf + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, self.conf)

    # ---- inbound ----

    def drop(self, sender, body, name=None, headers=None):
        """Put an inbound text into the inbox the way a writer must: under
        a dot-name, then renamed. body may be str or bytes; sender None
        leaves out From:. Returns the file name."""
        head = b""
        if sender is not None:
            head += f"From: {sender}\n".encode()
        for k, v in (headers or {}).items():
            head += f"{k}: {v}\n".encode()
        if isinstance(body, str):
            body = body.encode("utf-8")
        return self.drop_raw(head + b"\n" + body, name)

    def drop_raw(self, data, name=None):
        self.n_dropped += 1
        name = name or f"in-{self.n_dropped:05d}.sms"
        tmp = os.path.join(self.inbox, "." + name)
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.inbox, name))
        return name

    def inbox_files(self, sub=""):
        d = os.path.join(self.inbox, sub)
        if not os.path.isdir(d):
            return []
        return sorted(f for f in os.listdir(d) if os.path.isfile(os.path.join(d, f)))

    # ---- running ----

    def once(self, check=True, timeout=30, env=None, at=None):
        """gridlined --once; with at ("2026-11-26 09:00:00", local time in
        TZ, default Asia/Shanghai) under libfaketime with the wall clock
        frozen there, so a slow start on a loaded machine cannot move a
        computed deadline by a second (the monotonic clock, which drives
        every sd-event timer, is left alone)."""
        cmd = [GRIDLINED, "-c", self.conf, "--once"]
        if at:
            cmd = ["faketime", "-f", at] + cmd
            env = faketime_env(env)
        p = subprocess.run(cmd, env=clean_env(env),
                           capture_output=True, timeout=timeout, cwd=self.dir)
        self.logs.append(p.stderr)
        if check and p.returncode != 0:
            raise AssertionError(f"gridlined --once exited {p.returncode}: "
                                 f"{p.stderr.decode('utf-8', 'replace')[-3000:]}")
        return p

    def start(self, env=None, args=(), exe=None):
        """gridlined as a service; exe: another copy of the binary."""
        d = Daemon(self, env, args, exe)
        self.daemons.append(d)
        return d

    def ctl(self, *args, check=True, input=None):
        p = subprocess.run([GRIDLINECTL, "-c", self.conf, *args], env=clean_env(),
                           capture_output=True, timeout=30, cwd=self.dir, input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"gridlinectl {' '.join(args)} exited {p.returncode}: "
                                 f"{p.stderr.decode('utf-8', 'replace')}")
        return p

    def ctl_json(self, *args):
        p = self.ctl(*args)
        try:
            return json.loads(p.stdout.decode("utf-8"))
        except ValueError as e:
            raise AssertionError(f"gridlinectl {' '.join(args)}: not JSON ({e}): "
                                 f"{p.stdout[:500]!r}")

    def tickets(self):
        return sorted(self.ctl_json("tickets", "--json"), key=lambda t: t["id"])

    def ticket(self, n):
        """One ticket by id from the list (fails if absent)."""
        for t in self.tickets():
            if t["id"] == n:
                return t
        raise AssertionError(f"no ticket {n}")

    def show(self, n):
        return self.ctl_json("ticket", "show", str(n), "--json")

    def events(self, n):
        return self.show(n)["events"]

    def outbox_rows(self):
        return sorted(self.ctl_json("outbox", "--all", "--json"), key=lambda r: r["id"])

    def to(self, who, rows=None):
        """Outbox rows addressed to a phone or a config id."""
        phone = PHONES.get(who, who)
        rows = self.outbox_rows() if rows is None else rows
        return [r for r in rows if r["to"] == phone]

    def residents_import(self, rows):
        path = os.path.join(self.dir, "residents.csv")
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write("phone,name,address,grid\n")
            for r in rows:
                f.write(",".join(r) + "\n")
        return self.ctl("residents", "import", path)

    # ---- outbound files ----

    def outbox_files(self):
        """Every non-dot file in the outbox: {name, headers, body (str)}."""
        out = []
        for name in sorted(os.listdir(self.outbox)):
            path = os.path.join(self.outbox, name)
            if name.startswith(".") or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                headers, body = parse_spool(f.read())
            out.append({"name": name, "headers": headers, "body": body.decode("utf-8")})
        return out

    def outbox_dotfiles(self):
        return sorted(n for n in os.listdir(self.outbox) if n.startswith("."))

    def all_logs(self):
        return b"".join(self.logs) + b"".join(d.log() for d in self.daemons)

    def close(self):
        for d in self.daemons:
            d.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class SiteCase(unittest.TestCase):
    """A TestCase with a fresh Site in self.site (override site_args)."""
    site_args = {}

    def setUp(self):
        self.site = Site(**self.site_args)
        self.addCleanup(self.site.close)

    def assertOneReply(self, phone, contains=None):
        rows = self.site.to(phone)
        self.assertEqual(len(rows), 1, f"texts to {phone}: {[r['body'] for r in rows]}")
        if contains is not None:
            self.assertIn(contains, rows[0]["body"])
        return rows[0]

    def assertFilesMatchRows(self):
        """Every outbox row with status sent has exactly one file <id>.sms
        with matching headers and body, and there is no other file."""
        rows = self.site.outbox_rows()
        files = {f["name"]: f for f in self.site.outbox_files()}
        sent = [r for r in rows if r["status"] == "sent"]
        self.assertEqual(sorted(files), sorted(f"{r['id']}.sms" for r in sent))
        for r in sent:
            f = files[f"{r['id']}.sms"]
            self.assertEqual(f["headers"].get("To"), r["to"])
            self.assertEqual(f["headers"].get("Id"), str(r["id"]))
            if "Ticket" in f["headers"]:
                self.assertEqual(f["headers"]["Ticket"], str(r["ticket"]))
            self.assertEqual(f["body"], r["body"])
        return rows
