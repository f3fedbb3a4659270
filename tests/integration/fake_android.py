"""fake_android.py — a stateful fake of SMS Gateway for Android's local
server (shared/providers/android-sms-gateway/swagger.json, PROVIDERS.md
4.1) for the integration tests.

A fake_base.FakeServer (127.0.0.1 only, keep-alive, HTTP/1.1;
down()/up()). Paths at the root, as on the phone. It keeps:
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
  - every request received, in `requests` (fields as in fake_base.py, and
    "mid": the message id of a GET /message/{id}).
Basic auth user:password is checked on every path; 401 otherwise.

Faults, per endpoint ("inbox", "send", "state"), queued by fault(): the
kinds of fake_base.py (hang, truncated, oversize and malformed answer 200;
oversize pads the array with spaces), and
  twice      (inbox) every text on the page appears twice
Invalid UTF-8 inside JSON strings: give add_inbound() bytes; they go into
the JSON string as they are.

Python 3 standard library only.
"""
import base64
import datetime
import json
import re
import time
from urllib.parse import unquote

from fake_base import FakeServer

ENDPOINTS = ("inbox", "send", "state")
STATES = ("Pending", "Processed", "Sent", "Delivered", "Failed")
# the app's DateTimeParser: yyyy-MM-dd'T'HH:mm:ss[.SSS]XXX
ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{3}))?"
                 r"(Z|[+-]\d\d:\d\d)$")


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


class FakeAndroid(FakeServer):
    ENDPOINTS = ENDPOINTS
    MALFORMED = b'[{"id": "x", oops}]'

    def __init__(self, user="sms", password="pa55w0rd", hang_seconds=10.0):
        super().__init__(hang_seconds=hang_seconds)
        self.user = user
        self.password = password
        self.inbound = []                     # injected texts
        self.sms = []                         # accepted messages, one per id
        self.by_id = {}
        self.n_auto = 0
        self.up()

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

    def sms_list(self):
        with self.lock:
            return [dict(s) for s in self.sms]

    # ---- the API (called by the handler) ----

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

    # ---- fake_base's hooks ----

    def route(self, method, path):
        """(endpoint, message id or None) for a method and path."""
        if path == "/inbox" and method == "GET":
            return "inbox", None
        if path in ("/message", "/messages") and method == "POST":
            return "send", None
        m = re.match(r"^/messages?/([^/]+)$", path)
        if m and method == "GET":
            return "state", unquote(m.group(1))
        return None, None

    def refusal(self, rec):
        want = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        if rec["headers"].get("authorization", "") != "Basic " + want:
            return (401, err_body("Unauthorized"),
                    {"WWW-Authenticate": 'Basic realm="Access to SMS Gateway"'})
        if rec["endpoint"] is None:
            return 404, err_body(f"no {rec['method']} {rec['path']}"), None
        return None

    def more(self, rec, arg):
        return {"mid": arg}

    def respond(self, rec, arg, kind):
        if rec["endpoint"] == "inbox":
            return self.do_inbox(rec["query"], kind == "twice")
        if rec["endpoint"] == "send":
            return (*self.do_send(rec["body"]), None)
        return (*self.do_state(arg), None)

    def fault_error(self, code):
        return err_body(f"injected fault {code}")

    def pad(self, data, size):
        return data + b" " * max(0, size - len(data))
