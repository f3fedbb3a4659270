"""test_ctl.py — gridlinectl against a real database.

Every test runs the real build/gridlinectl (and, to make tickets, the real
build/gridlined --once on spool files) against a generated config in a
temporary directory (see gl.py): resident import (BOM, CRLF, RFC 4180
quoting, rejected rows by line number, exit codes), the ticket and outbox
listings and their JSON fields (SPEC.md "Stable interface"), filters,
ticket history, terminal safety of hostile SMS text, CJK column
alignment, reading while another process holds a write transaction, and
usage errors.
"""
import os
import re
import sqlite3
import time
import unicodedata
import unittest

import gl
from gl import PHONES, SiteCase, has_raw_controls

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")
TICKET_KEYS = {"id", "category", "status", "grid", "assignee", "phone", "text",
               "created_at", "updated_at", "channel", "address", "rating"}
OUTBOX_KEYS = {"id", "to", "body", "ticket", "status", "error", "attempts",
               "next_attempt", "created_at", "sent_at", "kind", "segments"}
STATUSES = {"new", "assigned", "accepted", "done", "closed", "cancelled"}
RESIDENT_A = "+8613800000001"
RESIDENT_B = "+8613800000002"
RESIDENT_C = "+8613800000003"


def width(s):
    """Display columns of s in a terminal (CJK wide/fullwidth count two)."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def cells(line):
    """(start index, text) of each cell of a table line; cells are
    separated by two or more spaces."""
    return [(m.start(), m.group()) for m in re.finditer(r"\S+(?: \S+)*", line)]


class CtlCase(SiteCase):
    def write(self, name, data):
        path = os.path.join(self.site.dir, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    def ctl(self, *args, **kw):
        return self.site.ctl(*args, check=False, **kw)

    def residents(self):
        return {r["phone"]: r for r in self.site.ctl_json("residents", "--json")}

    def text(self, p):
        return p.stdout.decode("utf-8"), p.stderr.decode("utf-8")


class ResidentsImport(CtlCase):
    def test_bom_crlf_quoting(self):
        # BOM, CRLF line ends, a quoted field with a comma and a doubled quote,
        # a local number with spaces, grid derived from the address
        data = ("\ufeffphone,name,address,grid\r\n"
                "13800000001,王秀英,寇庄西路6号院3单元,\r\n"
                "138 0000 0002,\"Li, \"\"Ming\"\"\",解放南路281号院1号楼,g1\r\n"
                "+8613800000003,张伟,\"菜园小区5号楼, 2单元\",\r\n")
        path = self.write("r.csv", data)
        p = self.ctl("residents", "import", path)
        out, err = self.text(p)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("imported 3 residents, 0 rejected", out)
        res = self.residents()
        self.assertEqual(sorted(res), [RESIDENT_A, RESIDENT_B, RESIDENT_C])
        self.assertEqual(res[RESIDENT_A]["name"], "王秀英")
        self.assertEqual(res[RESIDENT_A]["grid"], "g2")         # from 寇庄西路6号院
        self.assertEqual(res[RESIDENT_B]["name"], 'Li, "Ming"')
        self.assertEqual(res[RESIDENT_B]["grid"], "g1")
        self.assertEqual(res[RESIDENT_C]["address"], "菜园小区5号楼, 2单元")
        self.assertEqual(res[RESIDENT_C]["grid"], "g3")
        self.assertIs(res[RESIDENT_A]["opted_out"], False)
        self.assertEqual(set(res[RESIDENT_A]), {"phone", "name", "address", "grid", "opted_out"})

    def test_bad_rows_reported_by_line_good_rows_imported(self):
        path = self.write("r.csv", "phone,name,address,grid\n"
                          "13800000001,王秀英,寇庄西路6号院3单元,\n"      # 2 good
                          "not-a-phone,坏号码,寇庄西路6号院,\n"            # 3 bad phone
                          "13800000004,,寇庄西路6号院,\n"                  # 4 no name
                          "13800000005,赵六,,\n"                          # 5 no address
                          "13800000006,孙七,解放南路281号院,g9\n"          # 6 unknown grid
                          "13800000007,周八,解放南路281号院\n"             # 7 three fields
                          "13800000008,吴九,解放南路281号院,g1,extra\n"    # 8 five fields
                          "13800000002,李明,解放南路281号院,g1\n")         # 9 good
        p = self.ctl("residents", "import", path)
        out, err = self.text(p)
        self.assertEqual(p.returncode, 1, err)
        self.assertIn("imported 2 residents, 6 rejected", out)
        for line in (3, 4, 5, 6, 7, 8):
            self.assertRegex(err, re.escape(f"{path}:{line}: ") + r"\S",
                             f"line {line} not reported")
        for line in (2, 9):
            self.assertNotIn(f"{path}:{line}:", err)
        self.assertIn("g9", err)
        self.assertEqual(sorted(self.residents()), [RESIDENT_A, RESIDENT_B])

    def test_line_numbers_after_a_multiline_field(self):
        path = self.write("r.csv", "phone,name,address,grid\n"
                          '13800000001,王秀英,"寇庄西路6号院\n3单元",\n'     # lines 2-3
                          "bad,x,y,\n")                                     # line 4
        p = self.ctl("residents", "import", path)
        self.assertEqual(p.returncode, 1)
        self.assertIn(f"{path}:4: ", p.stderr.decode())
        self.assertEqual(self.residents()[RESIDENT_A]["address"], "寇庄西路6号院\n3单元")

    def test_bad_header_is_usage_error(self):
        for header in ("name,phone,address,grid", "phone,name,address", ""):
            with self.subTest(header=header):
                path = self.write("r.csv", header + "\n13800000001,王秀英,寇庄西路6号院,\n")
                p = self.ctl("residents", "import", path)
                self.assertEqual(p.returncode, 2)
                self.assertIn("phone,name,address,grid", p.stderr.decode())
                self.assertNotIn(b"imported", p.stdout)

    def test_unreadable_file_is_usage_error(self):
        p = self.ctl("residents", "import", os.path.join(self.site.dir, "nope.csv"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("nope.csv", p.stderr.decode())
        p = self.ctl("residents", "import", self.site.dir)    # a directory
        self.assertEqual(p.returncode, 2)
        p = self.ctl("residents", "import")                  # no FILE
        self.assertEqual(p.returncode, 2)

    def test_oversized_file_refused(self):
        path = os.path.join(self.site.dir, "big.csv")
        with open(path, "wb") as f:
            f.write(b"phone,name,address,grid\n")
            f.truncate(16 * 1024 * 1024 + 1)
        p = self.ctl("residents", "import", path)
        self.assertEqual(p.returncode, 2)
        self.assertIn("MiB", p.stderr.decode())

    def test_no_grid_found_is_a_warning(self):
        path = self.write("r.csv", "phone,name,address,grid\n13800000001,王秀英,长风街99号,\n")
        p = self.ctl("residents", "import", path)
        out, err = self.text(p)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn(f"{path}:2: warning:", err)
        self.assertIn("imported 1 resident, 0 rejected", out)
        self.assertIsNone(self.residents()[RESIDENT_A]["grid"])

    def test_duplicate_phone_later_row_wins(self):
        path = self.write("r.csv", "phone,name,address,grid\n"
                          "13800000001,旧名字,寇庄西路6号院,\n"
                          "13800000002,李明,解放南路281号院,\n"
                          "+86 138-0000-0001,新名字,解放南路281号院,\n")
        p = self.ctl("residents", "import", path)
        out, err = self.text(p)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("imported 2 residents, 0 rejected", out)
        self.assertIn(f"{path}:2: warning:", err)
        self.assertIn("line 4", err)
        r = self.residents()[RESIDENT_A]
        self.assertEqual((r["name"], r["grid"]), ("新名字", "g1"))

    def test_reimport_replaces(self):
        self.site.residents_import([("13800000001", "王秀英", "寇庄西路6号院", "")])
        self.site.residents_import([("13800000001", "王秀英", "菜园小区", "")])
        res = self.residents()
        self.assertEqual(len(res), 1)
        self.assertEqual(res[RESIDENT_A]["grid"], "g3")

    def test_hostile_name_escaped_in_table(self):
        path = self.write("r.csv", "phone,name,address,grid\n"
                          "13800000001,\"\x1b[2J\x1b]0;pwned\x07王\",寇庄西路6号院,\n"
                          "13800000002,\"x\x1b[31m\",寇庄西路6号院,g7\x1b[0m\n")
        p = self.ctl("residents", "import", path)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(has_raw_controls(p.stderr), [])       # the rejected grid, escaped
        p = self.ctl("residents")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(has_raw_controls(p.stdout), [])
        self.assertIn("\\x1b[2J", p.stdout.decode())
        self.assertEqual(self.residents()[RESIDENT_A]["name"], "\x1b[2J\x1b]0;pwned\x07王")

    def test_cjk_columns_line_up(self):
        self.site.residents_import([
            ("13800000001", "王秀英", "寇庄西路6号院", ""),
            ("13800000002", "Li", "解放南路281号院", ""),
            ("13800000003", "欧阳娜娜娜", "菜园小区", ""),
        ])
        p = self.ctl("residents")
        lines = p.stdout.decode("utf-8").splitlines()
        self.assertEqual(len(lines), 4, lines)
        starts = set()
        for line in lines:
            c = cells(line)
            # the third cell (ADDRESS) starts at the same display column
            starts.add(width(line[:c[2][0]]))
        self.assertEqual(len(starts), 1, "\n".join(lines))

    def test_import_then_daemon_routes_by_register(self):
        self.site.residents_import([("13800000003", "张伟", "菜园小区5号楼", "")])
        self.site.drop(RESIDENT_C, "报修 厨房灯坏了")
        self.site.once()
        t = self.site.ticket(1001)
        self.assertEqual(t["grid"], "g3")
        self.assertEqual(t["phone"], RESIDENT_C)


class Tickets(CtlCase):
    def make(self, *msgs):
        for sender, body in msgs:
            self.site.drop(sender, body)
        self.site.once()

    def test_json_fields(self):
        self.make((RESIDENT_A, "报修 寇庄西路6号院3单元 下水管堵了"),
                  (RESIDENT_B, "你好"))
        ts = self.site.tickets()
        self.assertEqual([t["id"] for t in ts], [1001, 1002])
        for t in ts:
            self.assertLessEqual(TICKET_KEYS, set(t))
            self.assertIsInstance(t["id"], int)
            self.assertIn(t["status"], STATUSES)
            self.assertRegex(t["created_at"], ISO)
            self.assertRegex(t["updated_at"], ISO)
            self.assertEqual(t["channel"], "sms")
            self.assertIsNone(t["rating"])
            self.assertTrue(t["assignee"] is None or t["assignee"] in PHONES, t)
        rep, unc = ts
        self.assertEqual((rep["category"], rep["grid"], rep["phone"]), ("repair", "g2", RESIDENT_A))
        self.assertIn("下水管堵了", rep["text"])
        self.assertIsNotNone(rep["assignee"])
        self.assertEqual(unc["category"], "unclassified")
        self.assertIsNone(unc["grid"])
        self.assertEqual(unc["phone"], RESIDENT_B)

    def test_filters(self):
        self.make((RESIDENT_A, "报修 寇庄西路6号院 下水管堵了"),
                  (RESIDENT_B, "报修 解放南路281号院 灯坏了"),
                  (RESIDENT_C, "跑腿 解放南路281号院 买菜"))
        ids = lambda *a: sorted(t["id"] for t in self.site.ctl_json("tickets", "--json", *a))
        self.assertEqual(ids(), [1001, 1002, 1003])
        self.assertEqual(ids("--grid", "g1"), [1002, 1003])
        self.assertEqual(ids("--grid", "g2"), [1001])
        self.assertEqual(ids("--grid", "g9"), [])
        self.assertEqual(ids("--status", "open"), [1001, 1002, 1003])
        self.assertEqual(ids("--status", "closed"), [])
        self.assertEqual(ids("--phone", "138 0000 0002"), [1002])
        self.assertEqual(ids("--phone", RESIDENT_C, "--grid", "g1"), [1003])
        self.assertEqual(ids("--limit", "1"), [1003])           # newest first
        st = self.site.ticket(1001)["status"]
        self.assertEqual(ids("--status", st), sorted(
            t["id"] for t in self.site.tickets() if t["status"] == st))
        for bad in (("--status", "bogus"), ("--limit", "0"), ("--limit", "x"),
                    ("--phone", "abc"), ("--all",), ("extra",)):
            with self.subTest(bad=bad):
                p = self.ctl("tickets", *bad)
                self.assertEqual(p.returncode, 2)
                self.assertIn(b"usage:", p.stderr)

    def test_table(self):
        self.make((RESIDENT_A, "报修 寇庄西路6号院 " + "下水管堵了" * 20))
        p = self.ctl("tickets")
        self.assertEqual(p.returncode, 0)
        lines = p.stdout.decode("utf-8").splitlines()
        self.assertEqual(len(lines), 2, lines)
        self.assertTrue(lines[0].startswith("ID"))
        row = cells(lines[1])
        self.assertEqual(row[0][1], "1001")
        self.assertIn(RESIDENT_A, lines[1])            # operators see full phones
        text = row[-1][1]
        self.assertTrue(text.endswith("…"), text)
        self.assertLessEqual(width(text), 30)
        self.assertGreaterEqual(width(text), 28)

    def test_show_history(self):
        self.make((RESIDENT_A, "报修 寇庄西路6号院 下水管堵了"))
        t = self.site.show(1001)
        self.assertLessEqual(TICKET_KEYS | {"events"}, set(t))
        self.assertEqual(t["id"], 1001)
        ev = t["events"]
        self.assertGreaterEqual(len(ev), 1)
        self.assertEqual(ev[0]["event"], "created")
        for e in ev:
            self.assertLessEqual({"at", "actor", "event", "from_status", "to_status", "detail"},
                                 set(e))
            self.assertRegex(e["at"], ISO)
        self.assertIn(ev[-1]["to_status"], (t["status"], None))
        p = self.ctl("ticket", "show", "1001")
        out = p.stdout.decode("utf-8")
        self.assertEqual(p.returncode, 0)
        self.assertIn("history:", out)
        self.assertIn("created", out.split("history:")[1])
        self.assertIn("下水管堵了", out)
        p = self.ctl("ticket", "show", "4242")
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"4242", p.stderr)
        for bad in (("ticket", "show"), ("ticket", "show", "abc"), ("ticket", "show", "1", "2"),
                    ("ticket", "list"), ("ticket",)):
            with self.subTest(bad=bad):
                self.assertEqual(self.ctl(*bad).returncode, 2)

    def test_hostile_text(self):
        hostile = "\x1b[31m%n '; DROP TABLE tickets;--\x1b]0;x\x07"
        self.make((RESIDENT_A, "报修 " + hostile))
        t = self.site.ticket(1001)
        # the daemon may turn control characters into spaces; the rest is verbatim
        self.assertIn("%n '; DROP TABLE tickets;--", t["text"])
        # whatever a text holds, a table never puts a control character on the
        # terminal and JSON gives it back unchanged: put the worst into the row
        worst = "\x1b[31m%n '; DROP;--\x1b]0;x\x07\u202e\u0085\r\n尾"
        db = sqlite3.connect(self.site.db)
        with db:
            db.execute("UPDATE tickets SET text = ? WHERE id = 1001", (worst,))
            db.execute("UPDATE outbox SET body = ?, error = ?", (worst, worst))
        db.close()
        self.assertEqual(self.site.ticket(1001)["text"], worst)
        self.assertEqual(self.site.show(1001)["text"], worst)
        self.assertEqual({r["body"] for r in self.site.outbox_rows()}, {worst})
        for args in (("tickets",), ("ticket", "show", "1001"), ("outbox", "--all")):
            with self.subTest(args=args):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 0, p.stderr)
                out = p.stdout.decode("utf-8")
                self.assertEqual(has_raw_controls(p.stdout), [], out)
                self.assertNotIn("\u202e", out)
                self.assertNotIn("\u0085", out)
                self.assertIn("\\x1b[31m%n", out)
        out = self.ctl("ticket", "show", "1001").stdout.decode("utf-8")
        self.assertIn("\\x1b[31m%n '; DROP;--\\x1b]0;x\\x07", out)
        self.assertIn("尾", out)
        self.assertEqual([t["id"] for t in self.site.tickets()], [1001])   # table still there

    def test_outbox(self):
        self.make((RESIDENT_A, "报修 寇庄西路6号院 下水管堵了"))
        rows = self.site.outbox_rows()
        self.assertGreaterEqual(len(rows), 2)                  # reply + notice
        for r in rows:
            self.assertLessEqual(OUTBOX_KEYS, set(r))
            self.assertIsInstance(r["id"], int)
            self.assertEqual(r["status"], "sent")
            self.assertIsNone(r["error"])
            self.assertRegex(r["created_at"], ISO)
            self.assertRegex(r["sent_at"], ISO)
            self.assertIsInstance(r["segments"], int)
            self.assertTrue(r["body"])
        self.assertEqual(len(self.site.to(RESIDENT_A, rows)), 1)
        self.assertEqual(self.site.to(RESIDENT_A, rows)[0]["ticket"], 1001)
        # by default only queued and failed texts
        self.assertEqual(self.site.ctl_json("outbox", "--json"), [])
        p = self.ctl("outbox", "--all")
        lines = p.stdout.decode("utf-8").splitlines()
        self.assertEqual(len(lines), len(rows) + 1)
        self.assertEqual([l for l in lines if l.endswith(" ")], [])   # no padding at the end
        self.assertEqual(self.ctl("outbox", "--status", "x").returncode, 2)

    def test_outbox_queued_and_failed(self):
        self.make((RESIDENT_A, "报修 寇庄西路6号院 下水管堵了"))
        db = sqlite3.connect(self.site.db)
        with db:
            db.execute("UPDATE outbox SET status = 'queued' WHERE id = (SELECT min(id) FROM outbox)")
            db.execute("UPDATE outbox SET status = 'failed', error = '21211 invalid number' "
                       "WHERE id = (SELECT max(id) FROM outbox)")
        db.close()
        rows = self.site.ctl_json("outbox", "--json")
        self.assertEqual(sorted(r["status"] for r in rows), ["failed", "queued"])
        failed = [r for r in rows if r["status"] == "failed"][0]
        self.assertEqual(failed["error"], "21211 invalid number")

    def test_read_while_writer_holds_transaction(self):
        self.make((RESIDENT_A, "报修 寇庄西路6号院 下水管堵了"))
        db = sqlite3.connect(self.site.db, isolation_level=None, timeout=1)
        self.addCleanup(db.close)
        db.execute("BEGIN IMMEDIATE")
        db.execute("UPDATE tickets SET text = 'uncommitted' WHERE id = 1001")
        start = time.monotonic()
        ts = self.site.tickets()
        self.site.show(1001)
        self.site.outbox_rows()
        self.assertLess(time.monotonic() - start, 4.0)          # not waiting on the lock
        self.assertEqual(len(ts), 1)
        self.assertIn("下水管堵了", ts[0]["text"])              # the committed snapshot
        db.execute("ROLLBACK")

    def test_no_database(self):
        for args in (("tickets",), ("outbox",), ("ticket", "show", "1001"), ("residents",)):
            with self.subTest(args=args):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 1)
                err = p.stderr.decode()
                self.assertIn(f"no database at {self.site.db}", err)
                self.assertIn("has gridlined run yet?", err)
        self.assertFalse(os.path.exists(self.site.db))         # readonly: nothing created


class Misc(CtlCase):
    def test_workers(self):
        ws = {w["id"]: w for w in self.site.ctl_json("workers", "--json")}   # no database needed
        self.assertEqual(sorted(ws), sorted(PHONES))
        self.assertEqual(ws["w01"], {"id": "w01", "name": "李娜", "phone": PHONES["w01"],
                                     "role": "grid", "grids": ["g1"], "leads": []})
        self.assertEqual(ws["w00"]["role"], "leader")
        self.assertEqual(sorted(ws["w00"]["leads"]), ["g1", "g2", "g3"])
        self.assertEqual(ws["v01"]["role"], "vendor")
        p = self.ctl("workers")
        self.assertEqual(p.returncode, 0)
        out = p.stdout.decode("utf-8")
        self.assertIn("李娜", out)
        self.assertIn(PHONES["w01"], out)
        lines = out.splitlines()
        self.assertEqual(len(lines), len(PHONES) + 1)
        self.assertEqual(len({width(l[:cells(l)[2][0]]) for l in lines}), 1, out)

    def test_usage(self):
        cases = [((), 2), (("bogus",), 2), (("tickets", "--bogus"), 2), (("--bogus",), 2),
                 (("workers", "x"), 2), (("help", "x"), 2)]
        for args, rc in cases:
            with self.subTest(args=args):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, rc)
                self.assertIn(b"usage:", p.stderr)
                self.assertEqual(p.stdout, b"")
        for args in (("-h",), ("help",), ("--help",), ("tickets", "-h")):
            with self.subTest(args=args):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 0)
                self.assertIn(b"usage:", p.stdout)
                self.assertIn(b"residents import FILE", p.stdout)
        p = self.ctl("--version")
        self.assertEqual(p.returncode, 0)
        self.assertTrue(p.stdout.startswith(b"gridlinectl "))

    def test_bad_config(self):
        self.site.write_config('database = 42;\nbogus_key = "x";\n')
        p = self.ctl("workers")
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr.decode(), re.escape(self.site.conf) + r":\d+: ")
        p = gl.subprocess.run([gl.GRIDLINECTL, "-c", os.path.join(self.site.dir, "none.conf"),
                               "workers"], capture_output=True, env=gl.clean_env())
        self.assertEqual(p.returncode, 1)
        self.assertIn(b"none.conf", p.stderr)


if __name__ == "__main__":
    unittest.main()
