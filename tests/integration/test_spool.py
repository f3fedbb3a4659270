"""test_spool.py — the spool directories changing under a running daemon.

Operators clean up: `rm -rf inbox/done` while gridlined runs must not stop
intake (the directory is made again), and a done/ that files cannot be
moved into must not send the daemon into a busy loop re-reading the same
batch.
"""
import os
import shutil
import sqlite3
import subprocess
import time

import gl

R1, R2 = "+8613800000001", "+8613800000002"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SpoolDirs(gl.SiteCase):
    # batch = 1: every batch is full, so a daemon that fetched again at once
    # after a failed move would spin on the same file
    site_args = {"poll_interval": 30.0, "extra": "limits = { batch = 1; };\n"}

    def test_done_dir_removed_while_running(self):
        d = self.site.start()
        d.wait_ready()
        self.site.drop(R1, "报修 解放南路281号院 下水管堵了")
        gl.wait_for(lambda: len(self.site.inbox_files("done")) == 1, what="first file in done/")
        shutil.rmtree(os.path.join(self.site.inbox, "done"))
        self.site.drop(R2, "跑腿 寇庄西路6号院 买菜")
        gl.wait_for(lambda: self.site.inbox_files("done"), what="done/ made again")
        self.assertEqual(self.site.inbox_files(), [])
        self.assertEqual(len(self.site.tickets()), 2)
        self.assertEqual(len(self.site.to(R2)), 1)
        d.check_alive("done/ removed")

    def test_done_dir_unusable_does_not_spin(self):
        d = self.site.start()
        d.wait_ready()
        done = os.path.join(self.site.inbox, "done")
        # an immutable done/: renames into it fail (EPERM), even for root
        if subprocess.run(["chattr", "+i", done], capture_output=True).returncode != 0:
            self.skipTest("chattr +i is not available here (needs root and ext4/xfs)")
        self.addCleanup(subprocess.run, ["chattr", "-i", done])
        self.site.drop(R1, "报修 解放南路281号院 下水管堵了")
        gl.wait_for(lambda: len(self.site.tickets()) == 1, what="the ticket")
        gl.wait_for(lambda: b"cannot move 1 committed file" in d.log(), what="the error line")
        c0 = cpu_seconds(d.proc.pid)
        time.sleep(1.5)
        used = cpu_seconds(d.proc.pid) - c0
        self.assertLess(used, 0.3, "the daemon spins while done/ is unusable")
        # once done/ works again, the file is moved (at the next wake-up) and
        # nothing is doubled: the second reading is a duplicate
        subprocess.run(["chattr", "-i", done], check=True)
        self.site.drop(R2, "跑腿 寇庄西路6号院 买菜")
        gl.wait_for(lambda: len(self.site.inbox_files("done")) == 2, what="both files in done/")
        self.assertEqual(len(self.site.tickets()), 2)
        self.assertEqual(len(self.site.to(R1)), 1)
        d.check_alive("done/ unusable")


class SpoolIdentity(gl.SiteCase):
    """A file without an Id: header is known by its inode, time, size and
    name — not by its content — so a writer that reuses a file name for the
    same text again brings a second message, not a silent duplicate."""

    def inbound_ids(self):
        db = sqlite3.connect(f"file:{self.site.db}?mode=ro", uri=True)
        try:
            return [r[0] for r in db.execute("SELECT provider_id FROM inbound ORDER BY id")]
        finally:
            db.close()

    def test_same_name_and_text_twice_is_two_messages(self):
        for _ in range(2):
            self.site.drop(R1, "跑腿 寇庄西路6号院 帮我买点菜", name="sms.txt")
            self.site.once()
        ids = self.inbound_ids()
        self.assertEqual(len(ids), 2, ids)
        self.assertNotEqual(ids[0], ids[1])
        self.assertTrue(all(i.startswith("file:") and i.endswith(":sms.txt") for i in ids), ids)
        self.assertEqual(len(self.site.tickets()), 2)
        self.assertEqual(self.site.inbox_files("done"), ["sms.txt", "sms.txt.1"])


class SpoolFootprint(gl.SiteCase):
    """The network adapters live in gridline-net.so: a daemon on the spool
    never maps it, nor libcurl and libcrypto (memory and start-up time)."""

    def test_spool_daemon_maps_no_network_library(self):
        d = self.site.start()
        d.wait_ready()
        self.site.drop(R1, "报修 解放南路281号院 下水管堵了")
        gl.wait_for(lambda: len(self.site.tickets()) == 1, what="the ticket")
        with open(f"/proc/{d.proc.pid}/maps") as f:
            maps = f.read()
        self.assertIn("libsqlite3", maps)            # the check reads real mappings
        for lib in ("gridline-net.so", "libcurl", "libcrypto", "libssl"):
            self.assertNotIn(lib, maps)
