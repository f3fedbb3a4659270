"""fake_twilio.py — a stateful fake of Twilio's REST API 2010-04-01
(Messages and Calls) for the integration tests of provider type "twilio".

A fake_base.FakeServer (127.0.0.1 only, HTTP/1.1, keep-alive;
down()/up()). Wire format as in shared/providers/PROVIDERS.md §1 and
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
seconds), every request in `requests` (fields as in fake_base.py, and
"form": the form fields of a POST). The test injects texts (add_inbound)
and calls (add_call), and moves sent texts on (set_status).

Faults, per endpoint ("list", "calls", "send", "fetch"), queued by fault():
the kinds of fake_base.py (hang, truncated and oversize answer the status
the request earned, e.g. 201 on a send, which is created first; malformed
answers 200; errors in Twilio's shape), and overlap (lists: every next
page starts one item early, so an item is on two pages).

Python 3 standard library only.
"""
import base64
import calendar
import secrets
import time
from email.utils import formatdate
from urllib.parse import parse_qs, quote, urlencode

from fake_base import FakeServer

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


class FakeTwilio(FakeServer):
    ENDPOINTS = ENDPOINTS
    CONTENT_TYPE = "application/json; charset=utf-8"
    MALFORMED = b'{"messages": [{"sid": "SMx", oops}], "calls": ['
    FAULT_STATUS = None

    def __init__(self, account="AC" + "a" * 32, token="tw-secret-t0ken", number="+15005550006",
                 hang_seconds=10.0):
        super().__init__(hang_seconds=hang_seconds)
        self.account = account
        self.token = token
        self.number = number
        self.unsent = False               # new texts keep date_sent null (queued)
        self.messages = []
        self.calls = []
        self.n = 0
        self.up()

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

    # ---- what the test asserts on ----

    def sent(self):
        """Texts created by POST, oldest first."""
        with self.lock:
            return [dict(m) for m in self.messages if m["direction"] == "outbound-api"]

    # ---- the API (called by the handler) ----

    @staticmethod
    def wire(m):
        out = {k: v for k, v in m.items() if k != "seq"}
        for k in ("date_created", "date_updated", "date_sent", "start_time", "end_time"):
            if k in out:
                out[k] = rfc2822(out[k])
        kind = "Calls" if m["sid"].startswith("CA") else "Messages"
        out["uri"] = f"/2010-04-01/Accounts/{m['account_sid']}/{kind}/{m['sid']}.json"
        return out

    def select(self, items, q, date_key, path, overlap=False):
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
                if overlap:
                    start = max(0, start - 1)
            page = sel[start:start + size]
            nxt = None
            if start + size < len(sel) and page:
                keys = {k: v for k, v in q.items() if k not in ("Page", "PageToken")}
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

    # ---- fake_base's hooks ----

    def route(self, method, path):
        """(endpoint, message SID or None) for a path, or (None, None)."""
        base = f"/2010-04-01/Accounts/{self.account}/"
        if not path.startswith(base):
            return None, None
        rest = path[len(base):]
        if rest == "Messages.json":
            return ("list" if method == "GET" else "send"), None
        if rest == "Calls.json" and method == "GET":
            return "calls", None
        if rest.startswith("Messages/") and rest.endswith(".json") and method == "GET":
            return "fetch", rest[len("Messages/"):-len(".json")]
        return None, None

    def authorised(self, rec):
        h = rec["headers"].get("authorization", "")
        if not h.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(h[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        return user == self.account and pw == self.token

    def refusal(self, rec):
        if not self.authorised(rec):
            return (401, twerr(20003, "Authenticate", 401),
                    {"WWW-Authenticate": 'Basic realm="Twilio API"'})
        if rec["endpoint"] is None:
            return 404, twerr(20404, f"The requested resource {rec['path']} was not found", 404), None
        return None

    def more(self, rec, arg):
        if rec["method"] != "POST":
            return {"form": {}}
        return {"form": {k: v[-1] for k, v in parse_qs(rec["body"].decode("utf-8", "replace"),
                                                        keep_blank_values=True).items()}}

    def respond(self, rec, arg, kind):
        endpoint, q, path = rec["endpoint"], rec["query"], rec["path"]
        if endpoint == "list":
            code, obj = self.select(self.messages, q, "DateSent", path, kind == "overlap")
        elif endpoint == "calls":
            code, obj = self.select(self.calls, q, "StartTime", path, kind == "overlap")
        elif endpoint == "send":
            code, obj = self.create(rec["form"])
        else:
            code, obj = self.fetch(arg)
        return code, obj, None

    def fault_error(self, code):
        twcode = 20429 if code == 429 else (20500 if code >= 500 else 20001)
        return twerr(twcode, f"injected fault {code}", code)
