"""test_demo.py — `make demo`'s script on the seed community: the config
and register in seeds/ load, every sample text in seeds/texts/ does what it
is there to show, and the demo ends with the daemon stopped."""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import gl

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Demo(unittest.TestCase):
    def test_demo_plays_the_seed_texts(self):
        gl.need_binaries()
        d = tempfile.mkdtemp(prefix="gl-demo-")
        self.addCleanup(shutil.rmtree, d, True)
        env = gl.clean_env({"DEMO_DIR": d, "DEMO_NONINTERACTIVE": "1",
                            "BUILD": os.environ.get("BUILD", "build")})
        p = subprocess.run(["sh", os.path.join(ROOT, "seeds", "demo.sh")], env=env,
                           capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
        out = p.stdout.decode()
        self.assertEqual(p.returncode, 0, out + p.stderr.decode()[-3000:])
        self.assertIn("imported 50 residents, 0 rejected", out)
        texts = sorted(os.listdir(os.path.join(ROOT, "seeds", "texts")))
        self.assertEqual(len(os.listdir(os.path.join(d, "spool", "in", "done"))), len(texts))
        self.assertEqual(os.listdir(os.path.join(d, "spool", "in", "bad")), [])

        conf = os.path.join(d, "gridline.conf")
        q = subprocess.run([gl.GRIDLINECTL, "-c", conf, "tickets", "--json"],
                           capture_output=True, check=True)
        tickets = {t["id"]: t for t in json.loads(q.stdout)}
        self.assertEqual(sorted(tickets), list(range(1001, 1009)))
        # the first repair went through its whole life: accepted, done, rated 1
        self.assertEqual(tickets[1001]["status"], "closed")
        self.assertEqual(tickets[1001]["category"], "repair")
        self.assertEqual(tickets[1001]["assignee"], "v01")       # 广欣物业
        self.assertEqual(tickets[1008]["category"], "unclassified")
        self.assertIsNone(tickets[1008]["assignee"])
        for t in tickets.values():
            if t["id"] not in (1001, 1008):
                self.assertEqual(t["status"], "assigned", t)
                self.assertIsNotNone(t["assignee"], t)
                self.assertIsNotNone(t["grid"], t)          # every sender is in the register
        q = subprocess.run([gl.GRIDLINECTL, "-c", conf, "ticket", "show", "1001", "--json"],
                           capture_output=True, check=True)
        events = [e["event"] for e in json.loads(q.stdout)["events"]]
        self.assertEqual(events, ["created", "assign", "accept", "done", "rate"])
        # the daemon was stopped at the end
        self.assertIn(b"exiting", p.stderr)


if __name__ == "__main__":
    unittest.main()
