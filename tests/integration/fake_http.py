"""fake_http.py — a stateful fake of gridline's generic HTTP provider
protocol (docs/http-provider.md) for the integration tests.

On 127.0.0.1 only, a ThreadingHTTPServer on a free port (keep-alive,
HTTP/1.1). It keeps:
  - the inbound messages the test injects with add_inbound(), paged by
    cursor on GET /inbox (oldest first, at most `limit` and page_size);
  - every SMS accepted on POST /send, once per idempotency id (a repeated
    id gets the first answer), in `sms`;
  - a scripted delivery status per id for GET /status (deliver());
  - every request received (method, path, query, headers, body, time, and
    the status the fake answered), in `requests`.
A request without "Authorization: Bearer <token>" gets 401.

Faults, per endpoint ("inbox", "send", "status"), queued by fault(): each
request to the endpoint takes the first one (`times` of them, or for ever
with times=None, until clear()):
  http       status `code`, optional Retry-After, error JSON `body`,
             after `delay` seconds
  hang       headers and half the body, then nothing for `seconds`
  malformed  200 with a body that is not JSON
  truncated  200, Content-Length larger than what is sent, then close
  oversize   200 with a valid body padded to `size` bytes
  close      close the connection without answering
  overlap    (inbox) the page starts one message early: the last message
             of the previous page is on this page too
On /send, every fault but http and close answers after the SMS is
recorded (the text went out, gridline never heard so); http does so with
apply=True. Invalid UTF-8 inside JSON strings: give add_inbound() bytes;
they are put into the JSON string as they are.
Each request also records the client's address ("client": a keep-alive
connection keeps its port) and the request target as sent ("target": an
absolute URL when it came through a proxy). With tls=(certfile, keyfile)
the fake serves https.
down() closes the listening socket and every open connection; up() listens
again on the same port.

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

ENDPOINTS = ("inbox", "send", "status")


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


def err_body(code, message):
    return {"error": {"code": code, "message": message}}


class FakeHTTP:
    def __init__(self, token="t0ken", prefix="", page_size=500, cursor_fmt="c-{}",
                 empty_cursor="same", send_code=200, hang_seconds=10.0, tls=None):
        self.tls = tls                        # (certfile, keyfile): serve https
        self.token = token
        self.prefix = prefix.rstrip("/")     # e.g. "/gw": paths are /gw/inbox ...
        self.page_size = page_size            # the fake's own page cap
        self.cursor_fmt = cursor_fmt          # cursor for "after message n"
        self.empty_cursor = empty_cursor      # "same" (echo `after`) or "absent"
        self.send_code = send_code
        self.hang_seconds = hang_seconds
        self.lock = threading.Lock()
        self.inbound = []                     # injected messages, oldest first
        self.cursors = {}                     # cursor issued -> messages before it
        self.sms = []                         # accepted SMS, one per id
        self.by_id = {}                       # gridline id -> SMS dict
        self.delivery = {}                    # gridline id -> (status, error or None)
        self.requests = []
        self.faults = {e: [] for e in ENDPOINTS}
        self.conns = set()
        self.closing = threading.Event()
        self.httpd = None
        self.port = 0
        self.up()

    # ---- life ----

    @property
    def url(self):
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}{self.prefix}"

    def up(self):
        """Listen (again, on the same port after down())."""
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = gl.LoopbackHTTPServer(("127.0.0.1", self.port), handler)
        self.httpd.daemon_threads = True
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

    # ---- what the test controls ----

    def add_inbound(self, sender, body, id=None, received=None):
        """Queue an inbound text (body/sender str, or bytes kept raw); its id."""
        with self.lock:
            n = len(self.inbound) + 1
            m = {"id": id or f"m-{n}", "from": sender, "body": body}
            if received:
                m["received"] = received
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

    def deliver(self, gid, status, code=None, message=None):
        """Script what GET /status says about gridline id gid."""
        with self.lock:
            self.delivery[gid] = (status, {"code": code, "message": message} if code else None)

    # ---- what the test asserts on ----

    def reqs(self, endpoint=None):
        with self.lock:
            return [r for r in self.requests if endpoint in (None, r["endpoint"])]

    def sms_list(self):
        with self.lock:
            return [dict(s) for s in self.sms]

    # ---- the protocol (called by the handler) ----

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

    def do_inbox(self, q, overlap):
        """(status, response object) for GET /inbox."""
        after = q.get("after")
        try:
            limit = int(q.get("limit", ""))
        except ValueError:
            limit = 0
        if not 1 <= limit <= 500:
            return 400, err_body("bad_limit", f"limit must be 1..500, not {q.get('limit')!r}")
        with self.lock:
            if after is not None and after not in self.cursors:
                return 400, err_body("bad_cursor", f"unknown cursor {after!r}")
            start = self.cursors[after] if after is not None else 0
            if overlap:
                start = max(0, start - 1)
            page = self.inbound[start:start + min(limit, self.page_size)]
            resp = {"messages": page}
            if page:
                end = start + len(page)
                cur = self.cursor_fmt.format(end)
                self.cursors[cur] = end
                resp["cursor"] = cur
            elif after is not None and self.empty_cursor == "same":
                resp["cursor"] = after
            return 200, resp

    def do_send(self, body):
        try:
            j = json.loads(body.decode("utf-8"))
        except ValueError:
            return 400, err_body("bad_json", "body is not JSON")
        if not (isinstance(j, dict) and all(isinstance(j.get(k), str) and j.get(k)
                                            for k in ("id", "to", "body"))):
            return 400, err_body("bad_request", "id, to and body must be strings")
        with self.lock:
            s = self.by_id.get(j["id"])
            if s is not None:                 # idempotency: the first answer again
                return 200, {"id": s["provider_id"], "status": "queued"}
            s = {"id": j["id"], "to": j["to"], "body": j["body"], "t": time.monotonic(),
                 "provider_id": f"p-{len(self.sms) + 1}"}
            self.sms.append(s)
            self.by_id[j["id"]] = s
            return self.send_code, {"id": s["provider_id"], "status": "queued"}

    def do_status(self, q):
        ids = [i for i in q.get("ids", "").split(",") if i]
        if not 1 <= len(ids) <= 100:
            return 400, err_body("bad_ids", f"1..100 ids, not {len(ids)}")
        out = []
        with self.lock:
            for i in ids:
                if i not in self.by_id:
                    continue                  # unknown ids are left out
                status, error = self.delivery.get(i, ("sent", None))
                m = {"id": i, "status": status}
                if error:
                    m["error"] = error
                out.append(m)
        return 200, {"messages": out}


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

    def handle_any(self):
        fake = self.fake
        u = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        path = u.path
        endpoint = None
        if path.startswith(fake.prefix + "/"):
            endpoint = path[len(fake.prefix) + 1:]
        rec = {"t": time.monotonic(), "method": self.command, "path": path, "query": q,
               "raw_query": u.query, "target": self.path, "client": self.client_address, "headers": {k.lower(): v for k, v in self.headers.items()},
               "body": body, "endpoint": endpoint, "fault": None, "status": None,
               "complete": False}
        with fake.lock:
            fake.requests.append(rec)
        want = {"inbox": "GET", "send": "POST", "status": "GET"}
        if endpoint not in want or self.command != want[endpoint]:
            return self.answer(rec, 404, err_body("not_found", f"no {self.command} {path}"))
        if self.headers.get("Authorization") != f"Bearer {fake.token}":
            return self.answer(rec, 401, err_body("unauthorized", "bad or missing token"))
        f = fake.take_fault(endpoint) or {"kind": None}
        rec["fault"] = f["kind"]
        if f["kind"] == "close":
            self.close_connection = True
            return
        if f["kind"] == "http" and not f.get("apply"):
            return self.answer_fault(rec, f)
        if endpoint == "inbox":
            code, obj = fake.do_inbox(q, f["kind"] == "overlap")
        elif endpoint == "send":
            code, obj = fake.do_send(body)
        else:
            code, obj = fake.do_status(q)
        if f["kind"] == "http":
            return self.answer_fault(rec, f)
        data = jenc(obj)
        if f["kind"] == "malformed":
            return self.answer(rec, 200, b'{"messages": [{"id": "x", oops}]')
        if f["kind"] == "oversize":
            pad = max(0, f.get("size", 1 << 20) - len(data) - 11)
            return self.answer(rec, 200, data[:-1] + b', "pad": "' + b"x" * pad + b'"}')
        if f["kind"] == "truncated":
            return self.answer(rec, 200, data[:len(data) // 2], length=len(data) + 100)
        if f["kind"] == "hang":
            return self.answer(rec, 200, data[:len(data) // 2], length=len(data),
                               stall=f.get("seconds", fake.hang_seconds))
        return self.answer(rec, code, data)

    def answer_fault(self, rec, f):
        if f.get("delay"):
            self.fake.closing.wait(f["delay"])
        headers = {}
        if f.get("retry_after") is not None:
            headers["Retry-After"] = str(f["retry_after"])
        body = f.get("body", err_body(f"http_{f['code']}", "injected fault"))
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
