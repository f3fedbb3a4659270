"""test_systemd.py — systemd/gridlined.service under a real systemd.

Runs the peer's boot-test.sh (../shared/peers/systemd/boot-test.sh, a
sibling of the repository root): it boots a debootstrapped Debian in a
systemd-nspawn container with systemd as PID 1, installs our unit and
the binaries from $BUILD (default "build") as /usr/local/bin/gridlined and
/usr/local/bin/gridlinectl, and runs tests/systemd/checks.sh on the host.
Those checks cover Type=notify readiness and STATUS=, spool in/out with
the GRIDLINE_* journal fields and masked phones, reload (good and broken
config), the watchdog restart and a clean stop; see that file.

The first run builds the rootfs under $SDCT_WORK (default /tmp/sdct; about
1.5 min with debootstrap), later runs reuse it (about 30 s). Results of the
last run: $SDCT_WORK/out/ (checks.log, journal.txt, console.log).

Needs root, and systemd-nspawn (boot-test.sh apt-installs it). Skipped with
a message when the machine cannot run it at all; GRIDLINE_SYSTEMD=require
turns those skips into failures (for CI), GRIDLINE_SYSTEMD=skip skips.
"""
import os
import re
import shutil
import subprocess
import time
import unittest

import gl

BOOT_TEST = os.path.join(os.path.dirname(gl.ROOT), "shared", "peers", "systemd", "boot-test.sh")
CHECKS = "tests/systemd/checks.sh"
N_CHECKS = 26          # "ok:"/"FAIL:" lines checks.sh always prints
RUN_TIMEOUT = 600      # boot-test.sh --timeout: apt + debootstrap + boot + checks
MODE = os.environ.get("GRIDLINE_SYSTEMD", "")


class SystemdUnitTest(unittest.TestCase):
    def cannot(self, why):
        if MODE == "require":
            self.fail(f"GRIDLINE_SYSTEMD=require but {why}")
        self.skipTest(why)

    def preconditions(self):
        if MODE == "skip":
            self.skipTest("GRIDLINE_SYSTEMD=skip")
        if not os.path.isfile(BOOT_TEST):
            self.cannot(f"no {BOOT_TEST} (the systemd peer folder beside the repository)")
        if os.geteuid() != 0:
            self.cannot("systemd-nspawn needs root: run as root to test the unit under systemd")
        if not shutil.which("systemd-nspawn") and not shutil.which("apt-get"):
            self.cannot("no systemd-nspawn and no apt-get to install it (systemd-container)")
        gl.need_binaries()

    def test_unit_under_real_systemd(self):
        self.preconditions()
        build = os.environ.get("BUILD", "build")
        cmd = ["bash", BOOT_TEST, "--timeout", str(RUN_TIMEOUT),
               "--unit", "systemd/gridlined.service",
               "--file", f"{build}/gridlined:/usr/local/bin/gridlined",
               "--file", f"{build}/gridlinectl:/usr/local/bin/gridlinectl",
               "--check", CHECKS]
        t0 = time.monotonic()
        # boot-test.sh tears the container down itself; the margin covers that
        p = subprocess.run(cmd, cwd=gl.ROOT, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=RUN_TIMEOUT + 120, env=gl.clean_env())
        secs = time.monotonic() - t0
        out = p.stdout.decode("utf-8", "replace") + p.stderr.decode("utf-8", "replace")
        where = os.path.join(os.environ.get("SDCT_WORK", "/tmp/sdct"), "out")
        ctx = f"\n--- boot-test.sh output ({secs:.0f} s; logs in {where}/) ---\n{out[-12000:]}"
        if "must run as root" in out or "nspawn exited during boot" in out:
            self.cannot("systemd-nspawn cannot boot a container here" + ctx)
        failed = [ln for ln in out.splitlines() if ln.startswith("FAIL:")]
        self.assertEqual(failed, [], ctx)
        m = re.findall(r"^systemd: (\d+) passed, (\d+) failed$", out, re.M)
        self.assertTrue(m, "no 'systemd: N passed, N failed' line" + ctx)
        self.assertEqual(m[-1], (str(N_CHECKS), "0"), ctx)
        self.assertEqual(p.returncode, 0, f"boot-test.sh exited {p.returncode}" + ctx)


if __name__ == "__main__":
    unittest.main()
