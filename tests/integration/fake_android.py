"""fake_android.py — a stateful fake of SMS Gateway for Android's local
server (shared/providers/android-sms-gateway/swagger.json, PROVIDERS.md
4.1) for the integration tests.

On 127.0.0.1 only, a ThreadingHTTPServer on a free port (keep-alive,
HTTP/1.1). Paths at the root, as on the phone. It keeps:
  - the inbound texts the test injects with add_inbound() (createdAt in
    epoch ms, default now); GET /inbox validates type/limit/offset/from/to
    like the app's InboxRoutes.kt (400 {"message": ...} otherwise), filters
    createdAt in [from, to], orders createdAt DESC, id DESC, pages by
    limit/offset and sets X-Total-Count;
  - every message accepted on POST /message (or /messages), once per id: a
    repeated client id gets 409 {"message": "Message with such ID already
    exists"} as the app does, in `sms`;
  - a state per message (Pending until set_state()), answered on
    GET /message/{id} (or /messages/{id}); 404 for an unknown id;
  - every request received (method, path, query, headers, body, time, the
    fault taken and the status answered), in `requests`.
Basic auth user:password is checked on every path; 401 otherwise.

Faults, per endpoint ("inbox", "send", "state"), queued by fault(): each
request to the endpoint takes the first one (`times` of them, or for ever
with times=None, until clear()):
  http       status `code`, optional Retry-After, error JSON `body`, after
             `delay` seconds; with apply=True the request is carried out
             first (a send is stored, then the error is answered)
  hang       headers and half the body, then nothing for `seconds`
  malformed  200 with a body that is not JSON
  truncated  200, Content-Length larger than what is sent, then close
  oversize   200 with a valid array padded to `size` bytes
  close      close the connection without answering
  twice      (inbox) every text on the page appears twice
On a send, every fault but http (without apply) and close answers after the
message is stored (it went out; gridline never heard so). Invalid UTF-8
inside JSON strings: give add_inbound() bytes; they go into the JSON string
as they are. down() closes the listening socket and every open connection
(connections are refused); up() listens again on the same port.

Python 3 standard library only.
"""
import base64
import datetime
import json
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, unquote, urlsplit

import gl

ENDPOINTS = ("inbox", "send", "state")
STATES = ("Pending", "Processed", "Sent", "Delivered", "Failed")
# the app's DateTimeParser: yyyy-MM-dd'T'HH:mm:ss[.SSS]XXX
ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{3}))?"
                 r"(Z|[+-]\d\d:\d\d)$")


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


def iso_ms(ms):
    """Epoch ms as the app writes createdAt: 2026-05-07T09:15:02.000+00:00."""
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+00:00"


def parse_iso(s):
    """epoch ms of an ISO 8601 parameter the app accepts, or None."""
    m = ISO.match(s or "")
    if not m:
        return None
    y, mo, d, h, mi, sec, frac, off = m.groups()
    tz = datetime.timezone.utc
    if off != "Z":
        sign = -1 if off[0] == "-" else 1
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(off[1:3]),
                                                         minutes=int(off[4:6])))
    t = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec), tzinfo=tz)
    return int(t.timestamp()) * 1000 + int(frac or 0)


def now_ms():
    return int(time.time() * 1000)


def err_body(message):
    return {"message": message}


class FakeAndroid:
    def __init__(self, user="sms", password="pa55w0rd", hang_seconds=10.0):
        self.user = user
        self.password = password
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.inbound = []                     # injected texts
        self.sms = []                         # accepted messages, one per id
        self.by_id = {}
        self.requests = []
        self.faults = {e: [] for e in ENDPOINTS}
        self.conns = set()
        self.closing = threading.Event()
        self.httpd = None
        self.port = 0
        self.n_auto = 0
        self.up()

    # ---- life ----

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def up(self):
        """Listen (again, on the same port after down())."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = gl.LoopbackHTTPServer(("127.0.0.1", self.port), handler)
        self.httpd.daemon_threads = True
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

    # ---- what the test controls ----

    def add_inbound(self, sender, body, id=None, created_ms=None, type="SMS"):
        """Store an inbound text (body/sender/id str, or bytes kept raw); its id."""
        with self.lock:
            self.n_auto += 1
            m = {"id": id or f"in{self.n_auto:05d}x", "type": type, "sender": sender,
                 "recipient": "+8613912345678", "simNumber": 1, "contentPreview": body,
                 "createdAt": created_ms if created_ms is not None else now_ms(),
                 "attachments": []}
            self.inbound.append(m)
            return m["id"]

    def fault(self, endpoint, kind, times=1, **params):
        assert endpoint in ENDPOINTS, endpoint
        with self.lock:
            self.faults[endpoint].append(dict(params, kind=kind, times=times))

    def clear(self, endpoint=None):
        with self.lock:
            for e in ([endpoint] if endpoint else ENDPOINTS):
                self.faults[e] = []

    def set_state(self, mid, state, error=None):
        """Move message mid to state (one of STATES); error for Failed."""
        assert state in STATES, state
        with self.lock:
            s = self.by_id[mid]
            s["state"] = state
            s["states"][state] = iso_ms(now_ms())
            for r in s["recipients"]:
                r["state"] = state
                if error is not None:
                    r["error"] = error

    # ---- what the test asserts on ----

    def reqs(self, endpoint=None):
        with self.lock:
            return [r for r in self.requests if endpoint in (None, r["endpoint"])]

    def sms_list(self):
        with self.lock:
            return [dict(s) for s in self.sms]

    # ---- the API (called by the handler) ----

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

    def do_inbox(self, q, twice):
        """(status, body object, headers) for GET /inbox, as InboxRoutes.kt."""
        typ = q.get("type") or None
        if typ is not None and typ not in ("SMS", "DATA_SMS", "MMS", "MMS_DOWNLOADED"):
            return 400, err_body("Invalid type"), {}
        try:
            limit = int(q.get("limit", "50"))
            offset = int(q.get("offset", "0"))
        except ValueError:
            return 400, err_body("limit and offset must be numbers"), {}
        if not 1 <= limit <= 500:
            return 400, err_body("limit must be between 1 and 500"), {}
        if offset < 0:
            return 400, err_body("offset must be >= 0"), {}
        lo = 0 if "from" not in q else parse_iso(q["from"])
        hi = now_ms() + 10 ** 9 if "to" not in q else parse_iso(q["to"])
        if lo is None:
            return 400, err_body("Invalid from datetime"), {}
        if hi is None:
            return 400, err_body("Invalid to datetime"), {}
        if lo > hi:
            return 400, err_body("Start date cannot be after end date"), {}
        with self.lock:
            rows = [m for m in self.inbound if lo <= m["createdAt"] <= hi
                    and (typ is None or m["type"] == typ)]
        rows.sort(key=lambda m: (m["createdAt"], m["id"] if isinstance(m["id"], bytes)
                                 else m["id"].encode()), reverse=True)
        page = [dict(m, createdAt=iso_ms(m["createdAt"])) for m in rows[offset:offset + limit]]
        if twice:
            page = [x for m in page for x in (m, m)]
        return 200, page, {"X-Total-Count": str(len(rows))}

    def do_send(self, body):
        try:
            j = json.loads(body.decode("utf-8"))
        except ValueError:
            return 400, err_body("Invalid request body")
        if not isinstance(j, dict):
            return 400, err_body("Invalid request body")
        text = (j.get("textMessage") or {}).get("text")
        phones = j.get("phoneNumbers")
        mid = j.get("id")
        if not isinstance(text, str) or not text:
            return 400, err_body("Text message is empty")
        if not isinstance(phones, list) or not phones:
            return 400, err_body("phoneNumbers is empty")
        if mid is not None and (not isinstance(mid, str) or len(mid) > 36):
            return 400, err_body("id must be a string of at most 36 characters")
        with self.lock:
            if mid in self.by_id:
                return 409, err_body("Message with such ID already exists")
            self.n_auto += 1
            mid = mid or f"auto{self.n_auto}"
            s = {"id": mid, "to": phones[0], "phoneNumbers": phones, "body": text,
                 "request": j, "t": time.monotonic(), "state": "Pending",
                 "states": {"Pending": iso_ms(now_ms())},
                 "recipients": [{"phoneNumber": p, "state": "Pending"} for p in phones]}
            self.sms.append(s)
            self.by_id[mid] = s
            return 202, self.state_obj(s)

    def state_obj(self, s):
        return {"id": s["id"], "deviceId": "PyDmBQZZXYmyxMwED8Fzy", "state": s["state"],
                "isHashed": False, "isEncrypted": False,
                "recipients": [dict(r) for r in s["recipients"]], "states": dict(s["states"])}

    def do_state(self, mid):
        with self.lock:
            s = self.by_id.get(mid)
            if s is None:
                return 404, err_body("Message not found")
            return 200, self.state_obj(s)


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

    def route(self, path):
        """(endpoint, message id or None) for a method and path."""
        if path == "/inbox" and self.command == "GET":
            return "inbox", None
        if path in ("/message", "/messages") and self.command == "POST":
            return "send", None
        m = re.match(r"^/messages?/([^/]+)$", path)
        if m and self.command == "GET":
            return "state", unquote(m.group(1))
        return None, None

    def authorised(self):
        h = self.headers.get("Authorization") or ""
        want = base64.b64encode(f"{self.fake.user}:{self.fake.password}".encode()).decode()
        return h == "Basic " + want

    def handle_any(self):
        fake = self.fake
        u = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        endpoint, mid = self.route(u.path)
        rec = {"t": time.monotonic(), "method": self.command, "path": u.path, "query": q,
               "raw_query": u.query, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body, "endpoint": endpoint, "mid": mid, "fault": None, "status": None,
               "complete": False}
        with fake.lock:
            fake.requests.append(rec)
        if not self.authorised():
            return self.answer(rec, 401, err_body("Unauthorized"),
                               {"WWW-Authenticate": 'Basic realm="Access to SMS Gateway"'})
        if endpoint is None:
            return self.answer(rec, 404, err_body(f"no {self.command} {u.path}"))
        f = fake.take_fault(endpoint) or {"kind": None}
        rec["fault"] = f["kind"]
        if f["kind"] == "close":
            self.close_connection = True
            return
        if f["kind"] == "http" and not f.get("apply"):
            return self.answer_fault(rec, f)
        headers = {}
        if endpoint == "inbox":
            code, obj, headers = fake.do_inbox(q, f["kind"] == "twice")
        elif endpoint == "send":
            code, obj = fake.do_send(body)
        else:
            code, obj = fake.do_state(mid)
        if f["kind"] == "http":
            return self.answer_fault(rec, f)
        data = jenc(obj)
        if f["kind"] == "malformed":
            return self.answer(rec, 200, b'[{"id": "x", oops}]')
        if f["kind"] == "oversize":
            pad = max(0, f.get("size", 1 << 20) - len(data))
            return self.answer(rec, 200, data + b" " * pad)
        if f["kind"] == "truncated":
            return self.answer(rec, 200, data[:len(data) // 2], length=len(data) + 100)
        if f["kind"] == "hang":
            return self.answer(rec, 200, data[:len(data) // 2], length=len(data),
                               stall=f.get("seconds", fake.hang_seconds))
        return self.answer(rec, code, data, headers)

    def answer_fault(self, rec, f):
        if f.get("delay"):
            self.fake.closing.wait(f["delay"])
        headers = {}
        if f.get("retry_after") is not None:
            headers["Retry-After"] = str(f["retry_after"])
        body = f.get("body", err_body(f"injected fault {f['code']}"))
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
            self.send_header("Content-Type", "application/json")
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
