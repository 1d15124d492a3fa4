#!/usr/bin/env python3
"""An ACME DNS-01 client from Debian (lego, its rfc2136 provider) gets a certificate for
foo.mywebservice.com and *.mywebservice.com from the pebble test CA: lego presents its TXT
records at anamed by UPDATE signed with the `acme` key (which the update-policy limits to TXT at
_acme-challenge names), pebble validates them by asking anamed (-dnsserver), lego cleans them up.
Everything runs on loopback: pebble's HTTPS certificate is made here with openssl, lego's own
DNS lookups go to anamed (--dns.resolvers) and its propagation check, which would ask the zone's
NS addresses, is off (--dns.disable-cp): anamed answers from the update at once."""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import ssl

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

from anamedtest import main, pick_free_port  # noqa: E402
from updatetest import UpdateTestCase  # noqa: E402


def need(binary):
    return shutil.which(binary)


class Acme(UpdateTestCase):
    def setUp(self):
        for b in ("lego", "pebble", "openssl"):
            if not need(b):
                self.skipTest("%s is not installed (tools/install-deps.sh installs it)" % b)
        super().setUp()
        self.acme_port = pick_free_port(ipv6=False)
        self.mgmt_port = pick_free_port(ipv6=False)
        self.make_certs()
        cfg = self.write("pebble.json", json.dumps({"pebble": {
            "listenAddress": "127.0.0.1:%d" % self.acme_port,
            "managementListenAddress": "127.0.0.1:%d" % self.mgmt_port,
            "certificate": os.path.join(self.dir, "tls.pem"),
            "privateKey": os.path.join(self.dir, "tls.key"),
            "httpPort": pick_free_port(ipv6=False), "tlsPort": pick_free_port(ipv6=False),
            "ocspResponderURL": "", "externalAccountBindingRequired": False}}))
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0")
        self.pebble_log = open(os.path.join(self.dir, "pebble.log"), "wb")
        self.pebble = subprocess.Popen(
            ["pebble", "-config", cfg, "-dnsserver", "127.0.0.1:%d" % self.port, "-strict"],
            stdout=self.pebble_log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        self.addCleanup(self.stop_pebble)
        self.wait_pebble()

    def stop_pebble(self):
        self.pebble.terminate()
        try:
            self.pebble.wait(5)
        except subprocess.TimeoutExpired:
            self.pebble.kill()
            self.pebble.wait()
        self.pebble_log.close()

    def make_certs(self):
        """A CA and pebble's HTTPS certificate for 127.0.0.1, signed by it."""
        def ssl_run(*args):
            subprocess.run(["openssl"] + list(args), cwd=self.dir, check=True,
                           capture_output=True, timeout=60)
        ssl_run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.pem", "-days", "2", "-subj", "/CN=anamed test CA")
        ssl_run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "tls.key", "-out", "tls.csr",
                "-subj", "/CN=localhost")
        self.write("ext.cnf", "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        ssl_run("x509", "-req", "-in", "tls.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "tls.pem", "-days", "2", "-extfile", "ext.cnf")

    def wait_pebble(self):
        ctx = ssl.create_default_context(cafile=os.path.join(self.dir, "ca.pem"))
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen("https://127.0.0.1:%d/dir" % self.acme_port, context=ctx,
                                       timeout=1).read()
                return
            except OSError:
                if time.monotonic() > deadline or self.pebble.poll() is not None:
                    with open(os.path.join(self.dir, "pebble.log")) as f:
                        self.fail("pebble did not start:\n" + f.read()[-3000:])
                time.sleep(0.1)

    def lego(self, *domains, key="acme"):
        k = self.keys[key]
        env = dict(os.environ,
                   LEGO_CA_CERTIFICATES=os.path.join(self.dir, "ca.pem"),
                   RFC2136_NAMESERVER="127.0.0.1:%d" % self.port,
                   RFC2136_TSIG_KEY=k.name + ".", RFC2136_TSIG_SECRET=k.secret,
                   RFC2136_TSIG_ALGORITHM=k.algorithm + ".",
                   RFC2136_PROPAGATION_TIMEOUT="20", RFC2136_POLLING_INTERVAL="1",
                   RFC2136_SEQUENCE_INTERVAL="1")  # between the challenges of one name
        args = ["lego", "--server", "https://127.0.0.1:%d/dir" % self.acme_port,
                "--email", "acme@example.net", "--accept-tos", "--path",
                os.path.join(self.dir, "lego"), "--dns", "rfc2136",
                "--dns.resolvers", "127.0.0.1:%d" % self.port, "--dns.disable-cp"]
        for d in domains:
            args += ["-d", d]
        p = subprocess.run(args + ["run"], capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout + p.stderr

    def test_dns01_certificate(self):
        s0 = self.serial()
        rc, out = self.lego("foo.mywebservice.com", "*.mywebservice.com")
        self.assertEqual(rc, 0, out + "\n" + self.server.log()[-3000:])
        crt = os.path.join(self.dir, "lego", "certificates", "foo.mywebservice.com.crt")
        self.assertTrue(os.path.exists(crt), out)
        text = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-text"],
                              capture_output=True, text=True).stdout
        self.assertIn("DNS:*.mywebservice.com", text)
        self.assertIn("DNS:foo.mywebservice.com", text)
        # presented by UPDATE with the acme key, validated through anamed, then cleaned up
        log = self.server.log()
        self.assertRegex(log, r"UPDATE mywebservice\.com\. from 127\.0\.0\.1 key acme\.")
        self.assertEqual(self.lookup("_acme-challenge.foo", "TXT"), [])
        self.assertEqual(self.lookup("_acme-challenge", "TXT"), [])
        self.assertGreaterEqual(self.serial(), s0 + 2, "presented and cleaned up")
        self.assertNotRegex(log, r"refused")

    def test_dns01_with_a_key_the_policy_does_not_allow_there(self):
        # `provisioner` may not touch names at the apex level: the apex's _acme-challenge is
        # below the apex, but TXT there is granted; use `other`, which no rule names
        s0 = self.serial()
        rc, out = self.lego("bar.mywebservice.com", key="other")
        self.assertNotEqual(rc, 0)
        self.assertRegex(self.server.log(), r"key other\. refused")
        self.assertEqual(self.serial(), s0, "nothing applied")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
