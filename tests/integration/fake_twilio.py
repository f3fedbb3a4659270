"""fake_twilio.py — a stateful fake of Twilio's REST API 2010-04-01
(Messages and Calls) for the integration tests of provider type "twilio".

On 127.0.0.1 only, a ThreadingHTTPServer on a free port (HTTP/1.1,
keep-alive). Wire format as in shared/providers/PROVIDERS.md §1 and
Twilio's OpenAPI description:
  GET  /2010-04-01/Accounts/{AC}/Messages.json   list, newest first
  POST /2010-04-01/Accounts/{AC}/Messages.json   create (form To, From, Body) → 201
  GET  /2010-04-01/Accounts/{AC}/Messages/{SM}.json  fetch one
  GET  /2010-04-01/Accounts/{AC}/Calls.json      list, newest first
Lists filter on To, From and the whole-GMT-day keys DateSent, DateSent<,
DateSent> (StartTime, StartTime<, StartTime> for calls; "<" and ">" are
inclusive, as Twilio's), page by PageSize (1..1000, default 50) and
PageToken ("PA" + the last SID of the previous page), and give
next_page_uri as a relative path. A message whose date_sent is null is not
selected by any DateSent key. Requests need HTTP Basic AC:token (else 401,
code 20003); the AC in the path must be the user.

It keeps: `messages` and `calls` (dicts, wire names, times as epoch
seconds), every request in `requests` (method, path, query, form, headers,
body, endpoint, fault, status, complete, t). The test injects texts
(add_inbound) and calls (add_call), and moves sent texts on (set_status).

Faults, per endpoint ("list", "calls", "send", "fetch"), queued by fault()
like fake_http.py's: http (code, retry_after, body, delay, apply: on send
the text is created first), hang (half the answer, then nothing for
`seconds`; on send the text is created first), malformed, truncated,
oversize (size), close, overlap (lists: every next page starts one item
early, so an item is on two pages). down()/up() stop and restart listening
on the same port.

Python 3 standard library only.
"""
import base64
import calendar
import json
import secrets
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import gl
from fake_http import jenc

ENDPOINTS = ("list", "calls", "send", "fetch")


def rfc2822(t):
    return None if t is None else formatdate(t, usegmt=False).replace("-0000", "+0000")


def day_start(s):
    """Epoch of GMT midnight of "YYYY-MM-DD", or None if malformed."""
    try:
        return calendar.timegm(time.strptime(s[:10], "%Y-%m-%d"))
    except (ValueError, TypeError):
        return None


def twerr(code, message, status):
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


def new_sid(prefix):
    return prefix + secrets.token_hex(16)


class FakeTwilio:
    def __init__(self, account="AC" + "a" * 32, token="tw-secret-t0ken", number="+15005550006",
                 hang_seconds=10.0):
        self.account = account
        self.token = token
        self.number = number
        self.hang_seconds = hang_seconds
        self.unsent = False               # new texts keep date_sent null (queued)
        self.lock = threading.Lock()
        self.messages = []
        self.calls = []
        self.requests = []
        self.faults = {e: [] for e in ENDPOINTS}
        self.conns = set()
        self.closing = threading.Event()
        self.httpd = None
        self.port = 0
        self.n = 0
        self.up()

    # ---- life ----

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def up(self):
        handler = type("Handler", (_Handler,), {"fake": self})
        self.httpd = gl.LoopbackHTTPServer(("127.0.0.1", self.port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def down(self):
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

    def _seq(self):
        self.n += 1
        return self.n

    def add_inbound(self, sender, body, when=None, sid=None, status="received", to=None):
        """An inbound text (body str, or bytes kept raw); its SID."""
        t = time.time() if when is None else when
        with self.lock:
            m = {"sid": sid or new_sid("SM"), "account_sid": self.account,
                 "direction": "inbound", "from": sender, "to": to or self.number, "body": body,
                 "status": status, "num_segments": "1", "num_media": "0",
                 "date_created": t, "date_updated": t, "date_sent": t,
                 "error_code": None, "error_message": None, "price": None,
                 "price_unit": "USD", "api_version": "2010-04-01", "seq": self._seq()}
            self.messages.append(m)
            return m["sid"]

    def add_call(self, caller, status="no-answer", when=None, sid=None, direction="inbound"):
        t = time.time() if when is None else when
        with self.lock:
            c = {"sid": sid or new_sid("CA"), "account_sid": self.account,
                 "direction": direction, "from": caller, "to": self.number, "status": status,
                 "date_created": t, "date_updated": t, "start_time": t, "end_time": t + 20,
                 "duration": "0", "answered_by": None, "caller_name": None,
                 "api_version": "2010-04-01", "seq": self._seq()}
            self.calls.append(c)
            return c["sid"]

    def set_status(self, sid, status, error_code=None, error_message=None):
        with self.lock:
            for m in self.messages:
                if m["sid"] == sid:
                    m.update(status=status, error_code=error_code, error_message=error_message,
                             date_updated=time.time())
                    return
        raise KeyError(sid)

    def fault(self, endpoint, kind, times=1, **params):
        assert endpoint in ENDPOINTS, endpoint
        with self.lock:
            self.faults[endpoint].append(dict(params, kind=kind, times=times))

    def clear(self, endpoint=None):
        with self.lock:
            for e in ([endpoint] if endpoint else ENDPOINTS):
                self.faults[e] = []

    # ---- what the test asserts on ----

    def reqs(self, endpoint=None):
        with self.lock:
            return [r for r in self.requests if endpoint in (None, r["endpoint"])]

    def sent(self):
        """Texts created by POST, oldest first."""
        with self.lock:
            return [dict(m) for m in self.messages if m["direction"] == "outbound-api"]

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

    @staticmethod
    def wire(m):
        out = {k: v for k, v in m.items() if k != "seq"}
        for k in ("date_created", "date_updated", "date_sent", "start_time", "end_time"):
            if k in out:
                out[k] = rfc2822(out[k])
        kind = "Calls" if m["sid"].startswith("CA") else "Messages"
        out["uri"] = f"/2010-04-01/Accounts/{m['account_sid']}/{kind}/{m['sid']}.json"
        return out

    def select(self, items, q, date_key, path):
        """Filter, order newest first, cut the page: (status, answer)."""
        try:
            size = int(q.get("PageSize", "50"))
        except ValueError:
            size = 0
        if not 1 <= size <= 1000:
            return 400, twerr(20001, "Invalid PageSize", 400)
        for k in (date_key, date_key + "<", date_key + ">"):
            if k in q and day_start(q[k]) is None:
                return 400, twerr(20001, f"Invalid {k}", 400)
        field = "date_sent" if date_key == "DateSent" else "start_time"

        def keep(m):
            if "To" in q and m["to"] != q["To"]:
                return False
            if "From" in q and m["from"] != q["From"]:
                return False
            t = m.get(field)
            for k, ok in ((date_key, lambda d: d <= t < d + 86400),
                          (date_key + ">", lambda d: t >= d),
                          (date_key + "<", lambda d: t < d + 86400)):
                if k in q and (t is None or not ok(day_start(q[k]))):
                    return False
            return True
        with self.lock:
            sel = sorted((m for m in items if keep(m)),
                         key=lambda m: (m.get(field) or m["date_created"], m["seq"]), reverse=True)
            start = 0
            tok = q.get("PageToken")
            if tok:
                sids = [m["sid"] for m in sel]
                if not tok.startswith("PA") or tok[2:] not in sids:
                    return 400, twerr(21481, "Invalid PageToken", 400)
                start = sids.index(tok[2:]) + 1
                if q.get("_overlap"):
                    start = max(0, start - 1)
            page = sel[start:start + size]
            nxt = None
            if start + size < len(sel) and page:
                keys = {k: v for k, v in q.items() if not k.startswith("_")
                        and k not in ("Page", "PageToken")}
                keys["Page"] = str(int(q.get("Page", "0")) + 1)
                keys["PageToken"] = "PA" + page[-1]["sid"]
                nxt = path + "?" + urlencode(keys, quote_via=quote, safe="")
            key = "calls" if date_key == "StartTime" else "messages"
            return 200, {key: [self.wire(m) for m in page], "end": start + len(page) - 1,
                         "first_page_uri": path, "next_page_uri": nxt,
                         "page": int(q.get("Page", "0")), "page_size": size,
                         "previous_page_uri": None, "start": start, "uri": path}

    def create(self, form):
        to, frm, body = form.get("To"), form.get("From"), form.get("Body")
        if not to:
            return 400, twerr(21604, "A 'To' phone number is required.", 400)
        if not frm:
            return 400, twerr(21603, "A 'From' phone number is required.", 400)
        if frm != self.number:
            return 400, twerr(21606, "The From phone number is not a valid, SMS-capable "
                              "inbound phone number for your account.", 400)
        if not to.startswith("+") or not to[1:].isdigit():
            return 400, twerr(21211, f"The 'To' number {to} is not a valid phone number.", 400)
        if body is None:
            return 400, twerr(21602, "Message body is required.", 400)
        t = time.time()
        with self.lock:
            m = {"sid": new_sid("SM"), "account_sid": self.account, "direction": "outbound-api",
                 "from": frm, "to": to, "body": body, "status": "queued", "num_segments": "1",
                 "num_media": "0", "date_created": t, "date_updated": t,
                 "date_sent": None if self.unsent else t, "error_code": None,
                 "error_message": None, "price": None, "price_unit": "USD",
                 "api_version": "2010-04-01", "seq": self._seq()}
            self.messages.append(m)
            return 201, self.wire(m)

    def fetch(self, sid):
        with self.lock:
            for m in self.messages:
                if m["sid"] == sid:
                    return 200, self.wire(m)
        return 404, twerr(20404, f"The requested resource /Messages/{sid}.json was not found", 404)


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
        """(endpoint, message SID or None) for a path, or (None, None)."""
        base = f"/2010-04-01/Accounts/{self.fake.account}/"
        if not path.startswith(base):
            return None, None
        rest = path[len(base):]
        if rest == "Messages.json":
            return ("list" if self.command == "GET" else "send"), None
        if rest == "Calls.json" and self.command == "GET":
            return "calls", None
        if rest.startswith("Messages/") and rest.endswith(".json") and self.command == "GET":
            return "fetch", rest[len("Messages/"):-len(".json")]
        return None, None

    def authorised(self):
        h = self.headers.get("Authorization", "")
        if not h.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(h[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        return user == self.fake.account and pw == self.fake.token

    def handle_any(self):
        fake = self.fake
        u = urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        q = {k: v[-1] for k, v in parse_qs(u.query, keep_blank_values=True).items()}
        form = {}
        if self.command == "POST":
            form = {k: v[-1] for k, v in
                    parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}
        endpoint, sid = self.route(u.path)
        rec = {"t": time.monotonic(), "method": self.command, "path": u.path, "query": q,
               "raw_query": u.query, "form": form, "body": body,
               "headers": {k.lower(): v for k, v in self.headers.items()},
               "endpoint": endpoint, "fault": None, "status": None, "complete": False}
        with fake.lock:
            fake.requests.append(rec)
        if not self.authorised():
            return self.answer(rec, 401, twerr(20003, "Authenticate", 401),
                               {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if endpoint is None:
            return self.answer(rec, 404, twerr(20404, f"The requested resource {u.path} "
                                               "was not found", 404))
        f = fake.take_fault(endpoint) or {"kind": None}
        rec["fault"] = f["kind"]
        if f["kind"] == "close":
            self.close_connection = True
            return
        if f["kind"] == "http" and not f.get("apply"):
            return self.answer_fault(rec, f)
        if f["kind"] == "overlap":
            q["_overlap"] = "1"
        if endpoint == "list":
            code, obj = fake.select(fake.messages, q, "DateSent", u.path)
        elif endpoint == "calls":
            code, obj = fake.select(fake.calls, q, "StartTime", u.path)
        elif endpoint == "send":
            code, obj = fake.create(form)
        else:
            code, obj = fake.fetch(sid)
        if f["kind"] == "http":
            return self.answer_fault(rec, f)
        data = jenc(obj)
        if f["kind"] == "malformed":
            return self.answer(rec, 200, b'{"messages": [{"sid": "SMx", oops}], "calls": [')
        if f["kind"] == "oversize":
            pad = max(0, f.get("size", 1 << 20) - len(data) - 11)
            return self.answer(rec, code, data[:-1] + b', "pad": "' + b"x" * pad + b'"}')
        if f["kind"] == "truncated":
            return self.answer(rec, code, data[:len(data) // 2], length=len(data) + 100)
        if f["kind"] == "hang":
            return self.answer(rec, code, data[:len(data) // 2], length=len(data),
                               stall=f.get("seconds", fake.hang_seconds))
        return self.answer(rec, code, data)

    def answer_fault(self, rec, f):
        if f.get("delay"):
            self.fake.closing.wait(f["delay"])
        headers = {}
        if f.get("retry_after") is not None:
            headers["Retry-After"] = str(f["retry_after"])
        code = f["code"]
        twcode = 20429 if code == 429 else (20500 if code >= 500 else 20001)
        body = f.get("body", twerr(twcode, f"injected fault {code}", code))
        return self.answer(rec, code, body, headers)

    def answer(self, rec, code, body, headers=None, length=None, stall=None):
        if not isinstance(body, bytes):
            body = jenc(body)
        rec["status"] = code
        try:
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
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
