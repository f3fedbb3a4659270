"""test_module.py — the network module gridline-net.so.

The http, twilio and android adapters (and libcurl, libcrypto) are loaded
only when the configuration names one of them, from next to the executable
or from the installation's module directory. Without the module such a
configuration is refused with a clear file:line error, never a crash.
"""
import os
import shutil
import signal
import subprocess
import tempfile

import gl

INSTALLED = "/usr/local/lib/gridline/gridline-net.so"   # the Makefile's default MODULEDIR


def network_provider(url="http://127.0.0.1:9/gw"):
    return (f'provider = {{ type = "http"; url = "{url}"; token = "t0ken-123"; '
            "timeout = 2.0; connect_timeout = 1.0; };")


class Module(gl.SiteCase):
    site_args = {"provider": network_provider(), "poll_interval": 30.0}

    def test_network_provider_loads_the_module(self):
        d = self.site.start()
        d.wait_ready()
        with open(f"/proc/{d.proc.pid}/maps") as f:
            maps = f.read()
        self.assertIn(os.path.join(gl.BUILD, "gridline-net.so"), maps)
        self.assertIn("libcurl", maps)

    def test_without_the_module_the_config_is_refused(self):
        if os.path.exists(INSTALLED):
            self.skipTest(f"{INSTALLED} is installed on this machine")
        alone = tempfile.mkdtemp(prefix="gl-nomod-")
        self.addCleanup(shutil.rmtree, alone)
        exe = os.path.join(alone, "gridlined")
        shutil.copy2(gl.GRIDLINED, exe)
        with open(self.site.conf, encoding="utf-8") as f:
            line = next(i for i, s in enumerate(f, 1) if s.startswith("provider ="))
        p = subprocess.run([exe, "-c", self.site.conf, "--check-config"], env=gl.clean_env(),
                           capture_output=True, timeout=30)
        err = p.stderr.decode("utf-8", "replace")
        self.assertEqual(p.returncode, 1, err)
        self.assertIn(f"{self.site.conf}:{line}:", err)
        self.assertIn("network module", err)
        self.assertIn("gridline-net.so", err)
        # the daemon itself: refuses to start, says why, does not crash
        p = subprocess.run([exe, "-c", self.site.conf, "--once"], env=gl.clean_env(),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"network module", p.stderr)

    def test_install_puts_the_module_where_gridlined_looks(self):
        """make install PREFIX=/usr after a build for /usr/local: the module
        lands in /usr/lib/gridline and the installed gridlined looks there
        (provider.o is rebuilt when MODULEDIR changes)."""
        if os.path.exists("/usr/lib/gridline/gridline-net.so"):
            self.skipTest("/usr/lib/gridline/gridline-net.so is installed on this machine")
        tmp = tempfile.mkdtemp(prefix="gl-install-")
        self.addCleanup(shutil.rmtree, tmp)
        build, root = os.path.join(tmp, "b"), os.path.join(tmp, "root")
        env = dict(gl.clean_env(), MAKEFLAGS="-j2")
        subprocess.run(["make", "-s", "-C", gl.ROOT, f"BUILD={build}", "all"], env=env,
                       check=True, capture_output=True, timeout=600)
        p = subprocess.run(["make", "-s", "-C", gl.ROOT, f"BUILD={build}", "PREFIX=/usr",
                            f"DESTDIR={root}", "install"], env=env, capture_output=True,
                           timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        for f in ("usr/bin/gridlined", "usr/bin/gridlinectl", "usr/lib/gridline/gridline-net.so",
                  "usr/share/man/man8/gridlined.8", "etc/gridline/gridline.conf"):
            self.assertTrue(os.path.isfile(os.path.join(root, f)), f)
        p = subprocess.run([os.path.join(root, "usr/bin/gridlined"), "-c", self.site.conf,
                            "--check-config"], env=gl.clean_env(), capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b"/usr/lib/gridline/gridline-net.so", p.stderr)

    def test_a_module_installed_later_is_found_at_reload(self):
        alone = tempfile.mkdtemp(prefix="gl-nomod-")
        self.addCleanup(shutil.rmtree, alone)
        exe = os.path.join(alone, "gridlined")
        shutil.copy2(gl.GRIDLINED, exe)
        site = gl.Site(poll_interval=30.0)
        self.addCleanup(site.close)
        d = site.start(exe=exe)
        d.wait_ready()
        site.provider = network_provider()
        site.write_config(site.config_text())
        d.send(signal.SIGHUP)
        gl.wait_for(lambda: b"network module" in d.log(), what="the refused reload")
        d.check_alive("a reload without the module")
        shutil.copy2(os.path.join(gl.BUILD, "gridline-net.so"), alone)
        d.send(signal.SIGHUP)
        gl.wait_for(lambda: b"configuration reloaded" in d.log(), what="the second reload")
        with open(f"/proc/{d.proc.pid}/maps") as f:
            self.assertIn(os.path.join(alone, "gridline-net.so"), f.read())

    def test_the_spool_needs_no_module(self):
        alone = tempfile.mkdtemp(prefix="gl-nomod-")
        self.addCleanup(shutil.rmtree, alone)
        exe = os.path.join(alone, "gridlined")
        shutil.copy2(gl.GRIDLINED, exe)
        site = gl.Site()
        self.addCleanup(site.close)
        site.drop("+8613800000001", "跑腿 寇庄西路6号院 帮我买点菜")
        p = subprocess.run([exe, "-c", site.conf, "--once"], env=gl.clean_env(),
                           capture_output=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(site.tickets()), 1)
