"""test_twilio_prism.py — contract check of the twilio adapter's requests
against Stoplight Prism serving Twilio's own OpenAPI description
(../shared/peers/twilio/run-prism.sh, see its README).

gridlined talks to Prism through a small recording proxy on 127.0.0.1
(Prism's own log is not meant to be parsed), so the test knows the exact
status Prism gave each request. Prism validates every request against the
spec (path pattern of the AccountSid, query keys such as `DateSent>`,
PageSize ≤ 1000, the form fields of a create) and answers 4xx/422 for a
request Twilio's spec would not accept. Checked: list messages, following
next_page_uri, list calls, send (201, the SID of the spec's example saved
on the outbox row), the look-up before re-sending a text whose first POST
failed, and fetching one message for its delivery status.

Skipped only when node or npm is missing. run-prism.sh installs Prism on
demand into $TMPDIR/gridline-prism (the peers folder is read-only); each
test run uses its own PRISM_HOME (its own pid file) whose node_modules is
a link to that installation.
"""
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

import gl

PEER = os.path.join(os.path.dirname(gl.ROOT), "shared", "peers", "twilio")
RUN_PRISM = os.path.join(PEER, "run-prism.sh")
AC = "AC" + "a" * 32
NUMBER = "+15005550006"
PRISM_SID = "SM" + "a" * 32          # the sid of the spec's `create` example


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proxy:
    """Forward every request to upstream, record (method, path, status);
    answer 503 to the first `fail_posts` POSTs without forwarding them."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.lock = threading.Lock()
        self.log = []
        self.fail_posts = 0
        handler = type("H", (_ProxyHandler,), {"proxy": self})
        self.httpd = gl.LoopbackHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def entries(self):
        with self.lock:
            return list(self.log)


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    proxy = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self.forward()

    def do_POST(self):
        self.forward()

    def forward(self):
        p = self.proxy
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        with p.lock:
            fail = self.command == "POST" and p.fail_posts > 0
            if fail:
                p.fail_posts -= 1
        if fail:
            status, data, ctype = 503, b'{"code": 20500, "message": "injected", "status": 503}', \
                "application/json"
        else:
            req = urllib.request.Request(p.upstream + self.path, data=body, method=self.command)
            for k in ("Authorization", "Content-Type", "Accept"):
                if self.headers.get(k):
                    req.add_header(k, self.headers[k])
            try:
                with urllib.request.urlopen(req, timeout=20) as r:
                    status, data, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
            except urllib.error.HTTPError as e:
                status, data, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        with p.lock:
            p.log.append({"method": self.command, "path": self.path, "status": status,
                          "body": data[:2000], "injected": fail})
        self.send_response(status)
        self.send_header("Content-Type", ctype or "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def kind(e):
    """What an adapter request was: list, lookup, calls, send, fetch."""
    path = e["path"].split("?")[0]
    base = f"/2010-04-01/Accounts/{AC}/"
    if e["method"] == "POST":
        return "send"
    if path == base + "Messages.json":
        # a look-up names our number as the sender; a page of the spec's
        # examples has From=%2B987654321 in its next_page_uri
        return "lookup" if "From=%2B15005550006" in e["path"] else "list"
    if path == base + "Calls.json":
        return "calls"
    if path.startswith(base + "Messages/"):
        return "fetch"
    return "other"


@unittest.skipUnless(shutil.which("node") and shutil.which("npm"),
                     "node/npm not installed: Prism cannot run")
class PrismContract(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        gl.need_binaries()
        cls.home = tempfile.mkdtemp(prefix="gl-prism-")
        shared = os.path.join(os.environ.get("TMPDIR", "/tmp"), "gridline-prism")
        subprocess.run([RUN_PRISM, "install"], check=True, capture_output=True, timeout=600,
                       env=gl.clean_env({"PRISM_HOME": shared}))
        os.symlink(os.path.join(shared, "node_modules"), os.path.join(cls.home, "node_modules"))
        cls.env = gl.clean_env({"PRISM_HOME": cls.home, "PRISM_TTL": "300"})
        cls.port = free_port()
        p = subprocess.run([RUN_PRISM, "start", str(cls.port)], env=cls.env,
                           capture_output=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError(f"run-prism.sh start failed: {p.stderr.decode()[-2000:]}")

    @classmethod
    def tearDownClass(cls):
        subprocess.run([RUN_PRISM, "stop"], env=cls.env, capture_output=True, timeout=60)
        shutil.rmtree(cls.home, ignore_errors=True)

    def setUp(self):
        self.proxy = Proxy(f"http://127.0.0.1:{self.port}")
        self.addCleanup(self.proxy.close)
        self.site = gl.Site(poll_interval=0.5, provider=(
            f'provider = {{ type = "twilio"; account_sid = "{AC}"; auth_token = "test-auth-token"; '
            f'number = "{NUMBER}"; base_url = "{self.proxy.url}"; timeout = 10.0; '
            f"rate = 50.0; }};"),
            extra="limits = { retry_min = 0.5; retry_max = 1.0; };\n")
        self.addCleanup(self.site.close)

    def all_sent(self):
        rows = self.site.outbox_rows() if os.path.exists(self.site.db) else []
        return rows and all(r["status"] == "sent" for r in rows)

    def assertAll2xx(self, want_kinds):
        seen = {}
        for e in self.proxy.entries():
            if e["injected"]:
                continue
            k = kind(e)
            seen.setdefault(k, []).append(e)
            self.assertTrue(200 <= e["status"] < 300,
                            f"Prism answered {e['status']} to {e['method']} {e['path']}: "
                            f"{e['body'][:600]!r}")
        for k in want_kinds:
            self.assertIn(k, seen, f"no {k} request made; made: {sorted(seen)}")
        self.assertNotIn("other", seen)
        return seen

    def test_once_list_page_calls_and_send_are_accepted(self):
        self.site.once(timeout=60)
        seen = self.assertAll2xx(["list", "calls", "send"])
        # next_page_uri followed verbatim (the spec's example has one)
        self.assertTrue(any("PageToken=" in e["path"] for e in seen["list"]), seen["list"])
        self.assertTrue(any("DateSent%3E=" in e["path"] for e in seen["list"]))
        self.assertTrue(any("StartTime%3E=" in e["path"] for e in seen["calls"]))
        # the spec's inbound example (MMc262..., from +12019235161) became a ticket
        self.assertEqual([t["phone"] for t in self.site.tickets()], ["+12019235161"])
        rows = self.site.outbox_rows()
        self.assertTrue(rows)
        for r in rows:
            self.assertEqual((r["status"], r["provider_id"]), ("sent", PRISM_SID), r)
        self.assertNotIn(b" 422", self.site.all_logs())
        self.assertNotIn(b"test-auth-token", self.site.all_logs())

    def test_resend_look_up_and_status_fetch_are_accepted(self):
        self.proxy.fail_posts = 1       # the first POST "fails": the retry looks up first
        d = self.site.start()
        d.wait_ready()
        gl.wait_for(lambda: [e for e in self.proxy.entries() if kind(e) == "lookup"]
                    and self.all_sent(),
                    20.0, "a look-up before the re-send, and every text sent")
        self.assertAll2xx(["list", "calls", "send", "lookup"])
        # delivery status: the outbox asks for every sent text
        gl.wait_for(lambda: [e for e in self.proxy.entries() if kind(e) == "fetch"], 10.0,
                    "a delivery-status fetch (GET Messages/{Sid}.json)")
        self.assertAll2xx(["fetch"])
        self.assertNotIn(b"test-auth-token", self.site.all_logs())


if __name__ == "__main__":
    unittest.main()
