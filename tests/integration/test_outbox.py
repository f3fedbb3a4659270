"""test_outbox.py — the outbox of the real daemon when sending fails.

A full disk under the spool outbox (a tiny tmpfs mounted there) makes every
send fail with ENOSPC: a transient failure. The text must stay queued with
the error recorded, the daemon must stay up, and once space is freed the
retry timer (not a poll, not a new message) must send it — exactly once.
Needs root for the mount; skipped with a clear message otherwise.
"""
import os
import subprocess
import unittest

import gl

R1 = "+8613800000001"


class FullDisk(gl.SiteCase):
    site_args = {"poll_interval": 30.0,
                 "extra": "limits = { retry_min = 1.0; retry_max = 2.0; send_attempts = 50; };\n"}

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest("mounting a tmpfs needs root")
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "gl-full", self.site.outbox],
                           capture_output=True)
        if p.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + p.stderr.decode(errors="replace"))
        self.addCleanup(subprocess.run, ["umount", "-l", self.site.outbox])
        # fill it: every new file write now fails with ENOSPC
        self.filler = os.path.join(self.site.outbox, ".filler")
        fd = os.open(self.filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"x" * 1024)
        except OSError:
            pass
        os.close(fd)

    def test_full_disk_is_retried_until_space_returns(self):
        d = self.site.start()
        d.wait_ready()
        self.site.drop(R1, "报修 解放南路281号院 下水管堵了")
        # the message is processed and its texts queued, but none can be written
        gl.wait_for(lambda: len(self.site.tickets()) == 1, what="the ticket")
        rows = gl.wait_for(
            lambda: [r for r in self.site.outbox_rows() if r.get("attempts", 0) >= 1] or None,
            what="a failed first attempt")
        self.assertTrue(all(r["status"] == "queued" for r in self.site.outbox_rows()))
        self.assertIn("No space left", rows[0]["error"])
        self.assertEqual(self.site.outbox_files(), [])
        d.check_alive("sends failing")
        self.assertIn(b"retry in", d.log())

        os.unlink(self.filler)       # space again: the retry timer must send everything
        gl.wait_for(lambda: all(r["status"] == "sent" for r in self.site.outbox_rows()),
                    timeout=10, what="every queued text sent after space returned")
        rows = self.site.outbox_rows()
        files = self.site.outbox_files()
        self.assertEqual(len(files), len(rows))           # each text once, no duplicates
        self.assertEqual(sorted(int(f["headers"]["Id"]) for f in files),
                         sorted(r["id"] for r in rows))
        self.assertTrue(all(r["attempts"] >= 2 for r in rows))
        self.assertEqual(len([f for f in files if f["headers"]["To"] == R1]), 1)


if __name__ == "__main__":
    unittest.main()
