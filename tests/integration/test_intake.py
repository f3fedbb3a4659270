"""test_intake.py — new tickets from inbound texts, through the real
gridlined --once and the spool provider: categories, routing (register,
address in the text, nobody), replies and notices (rows and files),
keyword forms, hostile and malformed text, bad spool files.
"""
import os
import sqlite3
import unittest

import gl
from gl import PHONES

R1, R2, R3, R4, R5 = (f"+86138000000{n:02d}" for n in range(1, 6))


def ucs2_units(s):
    return sum(2 if ord(c) > 0xFFFF else 1 for c in s)


class NewTickets(gl.SiteCase):

    def text(self, sender, body):
        self.site.drop(sender, body)
        self.site.once()

    def test_repair_goes_to_vendor_with_grid_worker_copied(self):
        self.text(R1, "报修 寇庄西路6号院3单元 下水管堵了")
        [t] = self.site.tickets()
        self.assertEqual(t["id"], 1001)
        self.assertEqual((t["category"], t["status"], t["grid"], t["assignee"], t["phone"]),
                         ("repair", "assigned", "g2", "v01", R1))
        self.assertIn("下水管堵了", t["text"])
        rows = self.site.outbox_rows()
        self.assertEqual(sorted(r["to"] for r in rows), sorted([R1, PHONES["v01"], PHONES["w02"]]))
        for r in rows:
            self.assertIn("1001", r["body"], r)
            self.assertEqual(r["ticket"], 1001)
            self.assertEqual(r["status"], "sent")
            self.assertIsNone(r["error"])
        self.assertFilesMatchRows()
        self.assertEqual(self.site.inbox_files(), [])
        self.assertEqual(self.site.inbox_files("done"), ["in-00001.sms"])
        self.assertEqual(self.site.inbox_files("bad"), [])

    def test_errand_goes_to_grid_worker(self):
        self.text(R1, "跑腿 解放南路281号院 帮我买点菜")
        [t] = self.site.tickets()
        self.assertEqual((t["category"], t["status"], t["grid"], t["assignee"]),
                         ("errand", "assigned", "g1", "w01"))
        self.assertOneReply(R1, "1001")
        self.assertOneReply("w01", "1001")
        self.assertEqual(len(self.site.outbox_rows()), 2)
        self.assertFilesMatchRows()

    def test_service_goes_to_specialist_with_grid_worker_copied(self):
        self.text(R1, "办事 菜园小区 想办残疾证")
        [t] = self.site.tickets()
        self.assertEqual((t["category"], t["status"], t["grid"], t["assignee"]),
                         ("service", "assigned", "g3", "s01"))
        self.assertOneReply(R1, "1001")
        self.assertOneReply("s01", "1001")
        self.assertOneReply("w03", "1001")
        self.assertEqual(len(self.site.outbox_rows()), 3)

    def test_errand_without_grid_waits_in_operators_queue(self):
        self.text(R1, "跑腿 帮我买药")
        [t] = self.site.tickets()
        self.assertEqual((t["category"], t["status"], t["grid"], t["assignee"]),
                         ("errand", "new", None, None))
        self.assertOneReply(R1, "1001")
        self.assertOneReply("op1", "1001")
        for w in ("w01", "w02", "w03", "v01", "s01"):
            self.assertEqual(self.site.to(w), [], w)

    def test_free_text_is_an_unclassified_ticket(self):
        body = "楼道的灯坏了好几天了"
        self.text(R1, body)
        [t] = self.site.tickets()
        self.assertEqual((t["category"], t["status"], t["assignee"], t["text"]),
                         ("unclassified", "new", None, body))
        self.assertOneReply(R1, "1001")
        self.assertOneReply("op1", "1001")
        self.assertEqual(len(self.site.outbox_rows()), 2)
        ev = self.site.events(1001)
        self.assertGreaterEqual(len(ev), 1)
        self.assertEqual(ev[0]["event"], "created")

    def test_missed_call_is_one_callback_ticket_for_the_operators(self):
        self.site.residents_import([(R1, "王大爷", "寇庄西路6号院3单元", "g2")])
        for _ in range(2):   # the same call reported twice
            self.site.drop(R1, "", headers={"Type": "missed-call", "Id": "CA0001"})
            self.site.once()
        [t] = self.site.tickets()
        self.assertEqual((t["category"], t["status"], t["grid"], t["assignee"], t["phone"]),
                         ("callback", "new", "g2", None, R1))
        self.assertOneReply(R1, "回电")
        self.assertOneReply("op1", "1001")
        self.assertEqual(len(self.site.outbox_rows()), 2)
        self.assertEqual(self.site.events(1001)[0]["event"], "created")
        # a call without a caller's number is recorded, not acted on
        self.site.drop_raw(b"Type: missed-call\nId: CA0002\n\n", name="call-2.sms")
        self.site.once()
        self.assertEqual(len(self.site.tickets()), 1)
        self.assertEqual(self.site.inbox_files("bad"), ["call-2.sms"])

    def test_ticket_ids_count_up_from_1001(self):
        for i, s in enumerate((R1, R2, R3)):
            self.site.drop(s, f"跑腿 解放南路281号院 第{i}件事")
        self.site.once()
        ts = self.site.tickets()
        self.assertEqual([t["id"] for t in ts], [1001, 1002, 1003])
        self.assertEqual(sorted(t["phone"] for t in ts), [R1, R2, R3])
        for s in (R1, R2, R3):
            [t] = [t for t in ts if t["phone"] == s]
            self.assertOneReply(s, str(t["id"]))

    def test_keyword_forms(self):
        cases = [  # body, expected category
            ("ＲＥＰＡＩＲ　漏水", "repair"),
            ("报修下水管堵了", "repair"),
            ("保修 漏水", "repair"),
            ("bx 墙砖松了", "repair"),
            ("Fix: 门锁坏了", "repair"),
            ("维修，暖气不热", "repair"),
            ("pt 买菜", "errand"),
            ("代办#交电费", "errand"),
            ("咨询 低保怎么申请", "service"),
            ("fixed 已经好了", "unclassified"),
            ("你们好", "unclassified"),
        ]
        senders = {}
        for n, (body, cat) in enumerate(cases, 1):
            phone = f"+86137000000{n:02d}"
            senders[phone] = (body, cat)
            self.site.drop(phone, body)
        self.site.once()
        got = {t["phone"]: t["category"] for t in self.site.tickets()}
        self.assertEqual(got, {p: c for p, (b, c) in senders.items()})

    def test_dot_files_in_inbox_are_not_read(self):
        path = os.path.join(self.site.inbox, ".half-written.sms")
        with open(path, "wb") as f:
            f.write(b"From: +8613800000001\n\n\xe6\x8a\xa5")
        self.site.once()
        self.assertEqual(self.site.tickets(), [])
        self.assertTrue(os.path.exists(path))


class Register(gl.SiteCase):

    def test_register_grid_beats_address_in_text(self):
        self.site.residents_import([("+8613800000011", "老张", "解放南路281号院5栋", "g1")])
        self.site.drop("+8613800000011", "跑腿 寇庄西路6号院 帮我取快递")
        self.site.once()
        [t] = self.site.tickets()
        self.assertEqual((t["grid"], t["assignee"]), ("g1", "w01"))
        self.assertOneReply("w01", "1001")
        self.assertEqual(self.site.to("w02"), [])

    def test_local_number_in_register_matches_e164_sender(self):
        self.site.residents_import([("13800000012", "老李", "某街1号", "g3")])
        self.site.drop("+8613800000012", "跑腿 取药")
        self.site.once()
        [t] = self.site.tickets()
        self.assertEqual((t["phone"], t["grid"], t["assignee"]), ("+8613800000012", "g3", "w03"))

    def test_local_sender_matches_e164_register_and_is_normalised(self):
        self.site.residents_import([("+8613800000013", "老王", "菜园小区2栋", "")])
        self.site.drop("13800000013", "跑腿 取药")
        self.site.once()
        [t] = self.site.tickets()
        # grid empty in the register: derived from the register address
        self.assertEqual((t["phone"], t["grid"], t["assignee"]), ("+8613800000013", "g3", "w03"))
        self.assertOneReply("+8613800000013", "1001")
        [f] = [f for f in self.site.outbox_files() if f["headers"]["To"] == "+8613800000013"]
        self.assertIn("1001", f["body"])

    def test_unregistered_without_address_has_no_grid(self):
        self.site.residents_import([("+8613800000014", "老赵", "解放南路281号院", "g1")])
        self.site.drop(R1, "报修 水管漏了")
        self.site.once()
        [t] = self.site.tickets()
        self.assertEqual((t["grid"], t["assignee"], t["status"]), (None, "v01", "assigned"))
        for w in ("w01", "w02", "w03"):
            self.assertEqual(self.site.to(w), [], w)


class HostileText(gl.SiteCase):

    def hostile(self, texts):
        senders = {}
        for n, body in enumerate(texts, 1):
            phone = f"+86137100000{n:02d}"
            senders[phone] = body
            self.site.drop(phone, body)
        p = self.site.once()
        self.assertEqual(gl.has_raw_controls(p.stderr), [], p.stderr[-2000:])
        for phone in senders:   # phone numbers are masked in logs by default
            self.assertNotIn(phone.encode(), p.stderr)
        ts = self.site.tickets()
        self.assertEqual(len(ts), len(texts))
        for t in ts:
            self.assertEqual((t["category"], t["status"]), ("unclassified", "new"))
            self.assertOneReply(t["phone"], str(t["id"]))
        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        self.addCleanup(db.close)
        self.assertEqual(sorted(inbound_bodies(db)), sorted(texts))
        return senders, {t["phone"]: t["text"] for t in ts}

    def test_sql_and_format_strings_stored_verbatim(self):
        sent, got = self.hostile(["'; DROP TABLE tickets;--", "%n%n%s%s%s%x", "{text}{{ticket}}"])
        self.assertEqual(got, sent)
        self.assertEqual(len(self.site.tickets()), 3)   # the table is still there

    def test_escape_sequences_stored_verbatim_never_logged_raw(self):
        sent, got = self.hostile(["\x1b[31mRED\x1b[0m 灯坏了", "\x1b]0;title\x07 门坏了",
                                  "a\x08c\x7fd\u202eevil"])
        self.assertEqual(got, sent)

    def test_invalid_utf8_becomes_replacement_char_and_is_logged(self):
        self.site.drop(R1, b"\xff\xfe\xc3 \xe6\xbc\x8f\xe6\xb0\xb4 \xed\xa0\x80end")
        p = self.site.once()
        [t] = self.site.tickets()
        self.assertIn("\ufffd", t["text"])
        self.assertIn("漏水", t["text"])
        self.assertTrue(t["text"].endswith("end"), t["text"])
        self.assertNotIn("\udc80", t["text"])
        self.assertRegex(p.stderr.decode("utf-8", "replace"), r"(?i)utf-?8")
        self.assertEqual(gl.has_raw_controls(p.stderr), [])
        # every text the daemon wrote is valid UTF-8
        for f in os.listdir(self.site.outbox):
            with open(os.path.join(self.site.outbox, f), "rb") as fh:
                fh.read().decode("utf-8")


LONG_DESC = "解放南路281号院" + "水管漏水天花板在滴" * 555   # 5,004 characters, 15,012 bytes


class NulBytes(gl.SiteCase):

    def test_nul_byte_in_body_becomes_replacement_char(self):
        # text_utf8_fix(): "every NUL byte is replaced by U+FFFD"; the rest
        # of the body after the NUL is kept, and nothing else is read
        self.site.drop(R1, b"ab\x00cdefgh 1234567890")
        self.site.once()
        [t] = self.site.tickets()
        self.assertEqual(t["text"], "ab\ufffdcdefgh 1234567890")
        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        self.addCleanup(db.close)
        self.assertEqual(inbound_bodies(db), ["ab\ufffdcdefgh 1234567890"])

    def test_nul_byte_in_a_headerless_file(self):
        self.site.drop_raw(b"\x00junk without headers", name="nul.sms")
        self.site.once()
        self.assertEqual(self.site.inbox_files("bad"), ["nul.sms"])
        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        self.addCleanup(db.close)
        self.assertEqual(inbound_bodies(db), ["\ufffdjunk without headers"])


class LongTextChecks:

    def long_text(self):
        """Send the 5,004-character repair; check the texts; return the ticket."""
        body = "报修 " + LONG_DESC
        self.site.drop(R1, body)
        self.site.once()
        [t] = self.site.tickets()
        self.assertEqual((t["category"], t["grid"], t["assignee"]), ("repair", "g1", "v01"))
        # the notice is cut to 2 segments (2 x 67 UCS-2 units), keeping the start
        [n] = self.site.to("v01")
        self.assertIn("1001", n["body"])
        self.assertLessEqual(ucs2_units(n["body"]), 134, n["body"])
        self.assertIn("水管漏水", n["body"])
        self.assertIn("…", n["body"])
        [f] = [f for f in self.site.outbox_files() if f["headers"]["To"] == PHONES["v01"]]
        self.assertEqual(f["body"], n["body"])
        [c] = self.site.to("w01")             # the copy to the grid worker: cut too
        self.assertLessEqual(ucs2_units(c["body"]), 134, c["body"])
        [r] = self.site.to(R1)                # the reply: one segment
        self.assertLessEqual(ucs2_units(r["body"]), 70, r["body"])
        # the inbound row keeps the whole body
        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        self.addCleanup(db.close)
        self.assertEqual(inbound_bodies(db), [body])
        return t


class LongText(LongTextChecks, gl.SiteCase):

    def test_long_text_kept_whole_under_default_max_body(self):
        t = self.long_text()
        self.assertEqual(t["text"], LONG_DESC)


class LongTextCapped(LongTextChecks, gl.SiteCase):
    site_args = {"extra": "limits = { max_body = 8192; };\n"}

    def test_ticket_text_capped_at_max_body(self):
        t = self.long_text()
        stored = t["text"].encode("utf-8")
        self.assertLessEqual(len(stored), 8192)
        self.assertGreaterEqual(len(stored), 8192 - 3)   # cut on a character boundary
        self.assertTrue(LONG_DESC.startswith(t["text"]), t["text"][-20:])


def inbound_bodies(db):
    """Bodies of every inbound row (the store's internal schema: a table
    named like 'inbound*' with a 'body' column)."""
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'inbound%'")]
    if len(tables) != 1:
        raise AssertionError(f"cannot find the inbound table: {tables}")
    return [r[0] for r in db.execute(f"SELECT body FROM {tables[0]} ORDER BY rowid")]


def inbound_rows(db):
    tables = [r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'inbound%'")]
    db.row_factory = sqlite3.Row
    return [dict(r) for r in db.execute(f"SELECT * FROM {tables[0]} ORDER BY rowid")]


class BadSpool(gl.SiteCase):

    def test_no_from_is_recorded_as_bad_and_not_answered(self):
        name = self.site.drop(None, "报修 寇庄西路6号院 漏水")
        p = self.site.once()
        self.assertEqual(self.site.inbox_files(), [])
        self.assertEqual(self.site.inbox_files("bad"), [name])
        self.assertEqual(self.site.inbox_files("done"), [])
        self.assertEqual(self.site.tickets(), [])
        self.assertEqual(self.site.outbox_rows(), [])
        self.assertEqual(self.site.outbox_files(), [])
        log = p.stderr.decode("utf-8", "replace")
        self.assertIn(name, log)
        self.assertRegex(log, r"(?i)from")
        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        self.addCleanup(db.close)
        [row] = inbound_rows(db)
        self.assertIn("报修", row["body"])
        bad = [v for k, v in row.items() if k in ("state", "status")]
        self.assertTrue(bad and str(bad[0]).lower() in ("bad", "2"), row)

    def test_garbage_files_go_to_bad_and_good_ones_still_work(self):
        self.site.drop_raw(b"", name="empty.sms")
        self.site.drop_raw(b"\x00\x01\x02\x1b[2J no headers and no blank line", name="junk.sms")
        self.site.drop(R1, "跑腿 解放南路281号院 买菜", name="good.sms")
        p = self.site.once()
        self.assertEqual(self.site.inbox_files(), [])
        self.assertEqual(self.site.inbox_files("bad"), ["empty.sms", "junk.sms"])
        self.assertEqual(self.site.inbox_files("done"), ["good.sms"])
        [t] = self.site.tickets()
        self.assertEqual(t["phone"], R1)
        self.assertEqual(len(self.site.outbox_rows()), 2)
        log = p.stderr.decode("utf-8", "replace")
        self.assertIn("empty.sms", log)
        self.assertIn("junk.sms", log)
        self.assertEqual(gl.has_raw_controls(p.stderr), [])

    def test_symlink_is_refused_without_a_record(self):
        target = os.path.join(self.site.dir, "secret.txt")
        with open(target, "w") as f:
            f.write("From: +8613800000001\n\n报修 漏水")
        os.symlink(target, os.path.join(self.site.inbox, "link.sms"))
        p = self.site.once()
        self.assertEqual(self.site.inbox_files(), [])
        self.assertEqual(os.listdir(os.path.join(self.site.inbox, "bad")), ["link.sms"])
        self.assertIn(b"link.sms", p.stderr)
        self.assertEqual(self.site.tickets(), [])
        self.assertEqual(self.site.outbox_files(), [])

    def test_same_provider_id_is_acted_on_once(self):
        self.site.drop(R1, "跑腿 解放南路281号院 买菜", name="a.sms", headers={"Id": "msg-42"})
        self.site.once()
        self.site.drop(R1, "跑腿 解放南路281号院 买菜", name="b.sms", headers={"Id": "msg-42"})
        self.site.once()
        self.assertEqual(len(self.site.tickets()), 1)
        self.assertOneReply(R1, "1001")
        self.assertEqual(self.site.inbox_files(), [])
        self.assertEqual(self.site.inbox_files("done"), ["a.sms", "b.sms"])
        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        self.addCleanup(db.close)
        self.assertEqual(len(inbound_bodies(db)), 1)

    def test_second_run_does_nothing_new(self):
        self.site.drop(R1, "跑腿 解放南路281号院 买菜")
        self.site.once()
        before = self.site.outbox_rows()
        self.site.once()
        self.assertEqual(self.site.outbox_rows(), before)
        self.assertEqual(len(self.site.tickets()), 1)
        self.assertFilesMatchRows()


if __name__ == "__main__":
    unittest.main()
