"""fake_base.py — what the stateful fake providers (fake_http.py,
fake_android.py, fake_twilio.py) have in common: the server, the request
record and the fault injection. Each fake subclasses FakeServer and
supplies only its protocol (route, refusal, respond and a few constants).

The server: gl.LoopbackHTTPServer on 127.0.0.1 only (a free port, a thread
per connection, a deep listen backlog), HTTP/1.1 with keep-alive; with
tls=(certfile, keyfile) it serves https. down() closes the listening
socket and every open connection (connections are then refused); up()
listens again on the same port; close() ends it for good (a hung answer
stops waiting too).

Every request is recorded, in arrival order, in `requests`: t
(time.monotonic()), method, path, query ({key: last value}), raw_query,
target (the request target as sent: an absolute URL when it came through a
proxy), client (the client's address: a keep-alive connection keeps its
port), headers (names in lower case), body (bytes), endpoint (the fake's
name for what was asked, or what route() made of the path), fault (the
kind taken, or None), status (the status answered, None if none) and
complete (a whole answer was written); a fake may add fields (more()).

Faults, per endpoint, queued by fault(endpoint, kind, times=1, **params):
each request to the endpoint takes the first one (`times` of them, or for
ever with times=None, until clear()):
  http       status `code`, optional Retry-After (`retry_after`), error
             JSON `body` (default the fake's fault_error()), after `delay`
             seconds; with apply=True the request is carried out first
             (a send is stored, then the error is answered)
  hang       headers and half the body, then nothing for `seconds`
             (default hang_seconds), then close
  malformed  200 with a body that is not JSON (MALFORMED)
  truncated  Content-Length larger than what is sent, then close
  oversize   a valid body padded to `size` bytes (pad())
  close      close the connection without answering
A fake may know more kinds (it reads the kind in respond()). Every fault
but http (without apply) and close answers after the request was carried
out: a send went out, the client never heard so. hang, truncated and
oversize answer FAULT_STATUS (None: the status the request earned).

jenc() writes JSON in which bytes values go into strings as they are, so
a test can put invalid UTF-8 into an answer.

Python 3 standard library only.
"""
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, urlsplit

import gl


def jenc(v):
    """JSON-encode v as bytes; bytes values go into strings unchanged (only
    '"', '\\' and control bytes escaped), so they may be invalid UTF-8."""
    if isinstance(v, bytes):
        out = bytearray(b'"')
        for b in v:
            if b in (0x22, 0x5C):
                out += b"\\" + bytes([b])
            elif b < 0x20:
                out += b"\\u%04x" % b
            else:
                out.append(b)
        return bytes(out + b'"')
    if isinstance(v, dict):
        return b"{" + b", ".join(jenc(k) + b": " + jenc(x) for k, x in v.items()) + b"}"
    if isinstance(v, (list, tuple)):
        return b"[" + b", ".join(jenc(x) for x in v) + b"]"
    return json.dumps(v, ensure_ascii=False).encode("utf-8")


class FakeServer:
    """The base of a fake provider. A subclass sets ENDPOINTS, calls
    super().__init__() first and self.up() last, and defines route(),
    refusal() and respond(); it may change the rest."""
    ENDPOINTS = ()
    CONTENT_TYPE = "application/json"
    MALFORMED = b'{"messages": [{"id": "x", oops}]'
    FAULT_STATUS = 200

    def __init__(self, hang_seconds=10.0, tls=None):
        self.hang_seconds = hang_seconds
        self.tls = tls                        # (certfile, keyfile): serve https
        self.lock = threading.Lock()
        self.requests = []
        self.faults = {e: [] for e in self.ENDPOINTS}
        self.conns = set()
        self.closing = threading.Event()
        self.httpd = None
        self.port = 0

    # ---- life ----

    @property
    def url(self):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def up(self):
        """Listen (again, on the same port after down())."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = gl.LoopbackHTTPServer(("127.0.0.1", self.port), handler)
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*self.tls)
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def down(self):
        """Stop listening (connections are refused) and drop every connection."""
        if self.httpd is None:
            return
        self.httpd.shutdown()
        self.httpd.server_close()
        self.httpd = None
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.closing.set()
        self.down()

    # ---- what the test controls and asserts on ----

    def fault(self, endpoint, kind, times=1, **params):
        assert endpoint in self.ENDPOINTS, endpoint
        with self.lock:
            self.faults[endpoint].append(dict(params, kind=kind, times=times))

    def clear(self, endpoint=None):
        with self.lock:
            for e in ([endpoint] if endpoint else self.ENDPOINTS):
                self.faults[e] = []

    def reqs(self, endpoint=None):
        with self.lock:
            return [r for r in self.requests if endpoint in (None, r["endpoint"])]

    def take_fault(self, endpoint):
        with self.lock:
            q = self.faults[endpoint]
            if not q:
                return None
            f = q[0]
            if f["times"] is not None:
                f["times"] -= 1
                if f["times"] <= 0:
                    q.pop(0)
            return f

    # ---- the protocol: a subclass's part ----

    def route(self, method, path):
        """(endpoint, argument such as a message id) for a request."""
        raise NotImplementedError

    def refusal(self, rec):
        """(status, body, headers) of an answer that refuses the recorded
        request (bad credentials, no such path), or None to serve it."""
        raise NotImplementedError

    def more(self, rec, arg):
        """Fields to add to the record of a request."""
        return {}

    def respond(self, rec, arg, kind):
        """Carry out a request: (status, body object, headers or None).
        kind is the fault taken (or None)."""
        raise NotImplementedError

    def fault_error(self, code):
        """The error body of an injected http fault."""
        return {"error": {"code": f"http_{code}", "message": "injected fault"}}

    def pad(self, data, size):
        """data (a JSON object) padded to size bytes, still valid JSON."""
        pad = max(0, size - len(data) - 11)
        return data[:-1] + b', "pad": "' + b"x" * pad + b'"}'


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        with self.fake.lock:
            self.fake.conns.add(self.connection)

    def finish(self):
        try:
            super().finish()
        finally:
            with self.fake.lock:
                self.fake.conns.discard(self.connection)

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def record(self):
        """Read the request, record it; (record, route argument)."""
        u = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        endpoint, arg = self.fake.route(self.command, u.path)
        rec = {"t": time.monotonic(), "method": self.command, "path": u.path,
               "query": {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()},
               "raw_query": u.query, "target": self.path, "client": self.client_address,
               "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body,
               "endpoint": endpoint, "fault": None, "status": None, "complete": False}
        rec.update(self.fake.more(rec, arg))
        with self.fake.lock:
            self.fake.requests.append(rec)
        return rec, arg

    def handle_any(self):
        fake = self.fake
        rec, arg = self.record()
        refused = fake.refusal(rec)
        if refused:
            return self.answer(rec, *refused)
        f = fake.take_fault(rec["endpoint"]) or {"kind": None}
        kind = rec["fault"] = f["kind"]
        if kind == "close":
            self.close_connection = True
            return
        if kind == "http" and not f.get("apply"):
            return self.answer_fault(rec, f)
        code, obj, headers = fake.respond(rec, arg, kind)
        if kind == "http":
            return self.answer_fault(rec, f)
        data = jenc(obj)
        status = fake.FAULT_STATUS or code
        if kind == "malformed":
            return self.answer(rec, 200, fake.MALFORMED)
        if kind == "oversize":
            return self.answer(rec, status, fake.pad(data, f.get("size", 1 << 20)))
        if kind == "truncated":
            return self.answer(rec, status, data[:len(data) // 2], length=len(data) + 100)
        if kind == "hang":
            return self.answer(rec, status, data[:len(data) // 2], length=len(data),
                               stall=f.get("seconds", fake.hang_seconds))
        return self.answer(rec, code, data, headers)

    def answer_fault(self, rec, f):
        if f.get("delay"):
            self.fake.closing.wait(f["delay"])
        headers = {}
        if f.get("retry_after") is not None:
            headers["Retry-After"] = str(f["retry_after"])
        body = f.get("body", self.fake.fault_error(f["code"]))
        return self.answer(rec, f["code"], body, headers)

    def answer(self, rec, code, body, headers=None, length=None, stall=None):
        """Send code and body (an object, or bytes); length overrides
        Content-Length (then the connection is closed); stall: wait that
        long after the first part, then close."""
        if not isinstance(body, bytes):
            body = jenc(body)
        rec["status"] = code
        try:
            self.send_response(code)
            self.send_header("Content-Type", self.fake.CONTENT_TYPE)
            self.send_header("Content-Length", str(length if length is not None else len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            if stall:
                self.fake.closing.wait(stall)
            if length is not None or stall:
                self.close_connection = True
                return
            rec["complete"] = True
        except OSError:
            self.close_connection = True
