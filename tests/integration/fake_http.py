"""fake_http.py — a stateful fake of gridline's generic HTTP provider
protocol (docs/http-provider.md) for the integration tests.

A fake_base.FakeServer (127.0.0.1 only, keep-alive, HTTP/1.1; https with
tls=(certfile, keyfile); down()/up()). Paths under `prefix`. It keeps:
  - the inbound messages the test injects with add_inbound(), paged by
    cursor on GET /inbox (oldest first, at most `limit` and page_size);
  - every SMS accepted on POST /send, once per idempotency id (a repeated
    id gets the first answer), in `sms`;
  - a scripted delivery status per id for GET /status (deliver());
  - every request received, in `requests` (fields as in fake_base.py).
A request to another path or with another method gets 404; then one
without "Authorization: Bearer <token>" gets 401.

Faults, per endpoint ("inbox", "send", "status"), queued by fault(): the
kinds of fake_base.py (hang, truncated, oversize and malformed answer 200;
oversize pads the object with a "pad" member), and
  overlap    (inbox) the page starts one message early: the last message
             of the previous page is on this page too
Invalid UTF-8 inside JSON strings: give add_inbound() bytes; they are put
into the JSON string as they are.

Python 3 standard library only.
"""
import json
import time

from fake_base import FakeServer

ENDPOINTS = ("inbox", "send", "status")
METHODS = {"inbox": "GET", "send": "POST", "status": "GET"}


def err_body(code, message):
    return {"error": {"code": code, "message": message}}


class FakeHTTP(FakeServer):
    ENDPOINTS = ENDPOINTS

    def __init__(self, token="t0ken", prefix="", page_size=500, cursor_fmt="c-{}",
                 empty_cursor="same", send_code=200, hang_seconds=10.0, tls=None):
        super().__init__(hang_seconds=hang_seconds, tls=tls)
        self.token = token
        self.prefix = prefix.rstrip("/")     # e.g. "/gw": paths are /gw/inbox ...
        self.page_size = page_size            # the fake's own page cap
        self.cursor_fmt = cursor_fmt          # cursor for "after message n"
        self.empty_cursor = empty_cursor      # "same" (echo `after`) or "absent"
        self.send_code = send_code
        self.inbound = []                     # injected messages, oldest first
        self.cursors = {}                     # cursor issued -> messages before it
        self.sms = []                         # accepted SMS, one per id
        self.by_id = {}                       # gridline id -> SMS dict
        self.delivery = {}                    # gridline id -> (status, error or None)
        self.up()

    @property
    def url(self):
        return super().url + self.prefix

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

    def deliver(self, gid, status, code=None, message=None):
        """Script what GET /status says about gridline id gid."""
        with self.lock:
            self.delivery[gid] = (status, {"code": code, "message": message} if code else None)

    # ---- what the test asserts on ----

    def sms_list(self):
        with self.lock:
            return [dict(s) for s in self.sms]

    # ---- the protocol (called by the handler) ----

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

    # ---- fake_base's hooks ----

    def route(self, method, path):
        """The endpoint is the path after the prefix (checked by refusal())."""
        if path.startswith(self.prefix + "/"):
            return path[len(self.prefix) + 1:], None
        return None, None

    def refusal(self, rec):
        endpoint = rec["endpoint"]
        if endpoint not in METHODS or rec["method"] != METHODS[endpoint]:
            return 404, err_body("not_found", f"no {rec['method']} {rec['path']}"), None
        if rec["headers"].get("authorization") != f"Bearer {self.token}":
            return 401, err_body("unauthorized", "bad or missing token"), None
        return None

    def respond(self, rec, arg, kind):
        if rec["endpoint"] == "inbox":
            code, obj = self.do_inbox(rec["query"], kind == "overlap")
        elif rec["endpoint"] == "send":
            code, obj = self.do_send(rec["body"])
        else:
            code, obj = self.do_status(rec["query"])
        return code, obj, None
