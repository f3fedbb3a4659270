"""test_http_client.py — what the HTTP client under every network provider
must do (issue 3, "HTTP done properly"), shown with the http provider and
the fake in fake_http.py: one connection reused between polls, proxies
taken from the environment, TLS always verified (a self-signed gateway is
refused unless provider.cafile names its CA, and then it works).
"""
import os
import shutil
import subprocess
import tempfile
import time
import unittest

import gl
from fake_http import FakeHTTP
from test_http_provider import TOKEN, HttpCase, provider_line, POLL


class ConnectionReuse(HttpCase):

    def test_one_connection_between_polls(self):
        d = self.start()
        gl.wait_for(lambda: len(self.fake.reqs("inbox")) >= 5, 10.0, "five polls")
        clients = {q["client"] for q in self.fake.reqs("inbox")}
        self.assertEqual(len(clients), 1, f"polls came on {len(clients)} connections")
        d.check_alive()


class Proxy(HttpCase):
    """http_proxy from the environment: the gateway's name is never
    resolved here; the request goes to the proxy (the fake, on 127.0.0.1)
    with the absolute URL."""

    def setUp(self):
        super().setUp()
        self.site.write_config(self.site.config_text(extra=self.extra).replace(
            self.fake.url, "http://gateway.invalid:8080"))

    def test_proxy_from_environment_is_used(self):
        self.daemon = self.site.start(env={"http_proxy": f"http://127.0.0.1:{self.fake.port}"})
        self.daemon.wait_ready()
        self.inject(1)
        self.wait_tickets(1)
        gl.wait_for(lambda: self.fake.reqs("send"), 5.0, "a send through the proxy")
        for q in self.fake.reqs():
            self.assertTrue(q["target"].startswith("http://gateway.invalid:8080/"), q["target"])
        self.assertNoSecret()


def make_cert(d):
    """A self-signed certificate for 127.0.0.1 in d: (cert, key)."""
    cert, key = os.path.join(d, "gw.pem"), os.path.join(d, "gw.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-keyout", key, "-out", cert, "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


@unittest.skipUnless(shutil.which("openssl"), "needs the openssl command to make a certificate")
class Tls(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="gridline-tls-")
        cls.cert, cls.key = make_cert(cls.dir)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def site_for(self, more=""):
        fake = FakeHTTP(token=TOKEN, tls=(self.cert, self.key))
        self.addCleanup(fake.close)
        site = gl.Site(poll_interval=POLL, provider=provider_line(fake.url, more=more))
        self.addCleanup(site.close)
        fake.add_inbound("+8613800000001", "跑腿 菜园小区 买菜")
        return fake, site

    def test_self_signed_gateway_is_refused_without_cafile(self):
        fake, site = self.site_for()
        p = site.once(check=False)
        self.assertEqual(p.returncode, 0)
        self.assertEqual(site.tickets(), [])
        log = site.all_logs().decode("utf-8", "replace")
        self.assertRegex(log, r"(?i)certificate|SSL|TLS", log[-2000:])
        # the handshake failed: no request ever reached the gateway's handler
        self.assertEqual(fake.reqs(), [])

    def test_cafile_makes_it_work_and_verification_stays_on(self):
        fake, site = self.site_for(more=f'cafile = "{self.cert}"; ')
        site.once()
        [t] = site.tickets()
        self.assertEqual(t["category"], "errand")
        self.assertTrue(fake.reqs("send"))

    def test_cafile_of_another_ca_is_refused(self):
        other = tempfile.mkdtemp(prefix="gridline-tls-other-")
        self.addCleanup(shutil.rmtree, other, True)
        other_cert, _ = make_cert(other)
        fake, site = self.site_for(more=f'cafile = "{other_cert}"; ')
        site.once(check=False)
        self.assertEqual(site.tickets(), [])
        self.assertEqual(fake.reqs(), [])


if __name__ == "__main__":
    unittest.main()
