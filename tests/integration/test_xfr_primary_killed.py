#!/usr/bin/env python3
"""anamed as a secondary whose primary is killed (SIGKILL) in the middle of a transfer: the
zone keeps serving its last good version (nothing of the partial transfer shows), the failure
is logged, and once the SOA's expire time has passed with no primary answering, the zone's
names are answered SERVFAIL.
"""

import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

import xfrtest  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main  # noqa: E402

ZONE = "killed.test"
SERIAL = 2026120501
EXPIRE = 6
ZONE_TEXT = """$ORIGIN killed.test.
$TTL 300
@        SOA  ns1 hostmaster %d 1 1 %d 300
@        NS   ns1
ns1      A    192.0.2.1
www      A    192.0.2.10
""" % (SERIAL, EXPIRE) + "".join("c%d A 198.51.100.%d\n" % (i, i % 250 + 1) for i in range(200))


class PrimaryKilledMidTransfer(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.pdir = os.path.join(self.dir, "primary")
        os.makedirs(self.pdir)
        self.primary = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "fake_primary.py"), "--dir", self.pdir, "--zone", ZONE,
             "--file", self.write("primary.zone", ZONE_TEXT)],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "primary.log"), "wb"))
        self.addCleanup(self._reap)
        port_file = os.path.join(self.pdir, "port")
        self.assertTrue(xfrtest.wait_until(lambda: os.path.exists(port_file), 30),
                        open(os.path.join(self.dir, "primary.log")).read())
        primary_port = int(open(port_file).read())
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
remotes:
  - {name: fake, address: "127.0.0.1:%d"}
zones:
  - name: %s
    primary: [fake]
""" % (self.port, primary_port, ZONE))
        self.server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()

    def _reap(self):
        if self.primary.poll() is None:
            self.primary.kill()
        self.primary.wait()

    def rcode_and_addresses(self, name):
        r = dns.query.udp(dns.message.make_query(name, "A"), "127.0.0.1", port=self.port, timeout=1)
        return r.rcode(), sorted(rd.to_text() for rrset in r.answer for rd in rrset)

    def test_old_version_serves_until_expire_then_servfail(self):
        self.assertTrue(xfrtest.wait_serial(self.port, ZONE, SERIAL, 10), self.server.log()[-3000:])
        self.assertEqual(self.rcode_and_addresses("www." + ZONE), (dns.rcode.NOERROR, ["192.0.2.10"]))
        # The primary moves to serial + 1; the transfer stalls after its first message, and the
        # primary dies there.
        open(os.path.join(self.pdir, "stall"), "w").close()
        sent = os.path.join(self.pdir, "sent")
        self.assertTrue(xfrtest.wait_until(lambda: os.path.exists(sent), 10), self.server.log()[-3000:])
        self.primary.send_signal(signal.SIGKILL)
        self.primary.wait()
        killed = time.monotonic()
        self.assertIsNotNone(self.server.wait_log(r"zone killed\.test\.: .*(closed|reset|timed out|refused)",
                                                  timeout=10), self.server.log()[-3000:])
        # The old version serves, whole.
        self.assertEqual(xfrtest.serial(self.port, ZONE), SERIAL)
        self.assertEqual(self.rcode_and_addresses("www." + ZONE), (dns.rcode.NOERROR, ["192.0.2.10"]))
        self.assertEqual(self.rcode_and_addresses("c199." + ZONE), (dns.rcode.NOERROR, ["198.51.100.200"]))
        self.assertNotIn("serial %d from fake" % (SERIAL + 1), self.server.log())
        # Expire (counted from the last good refresh, before the kill): SERVFAIL.
        got = xfrtest.wait_until(lambda: self.rcode_and_addresses("www." + ZONE)[0] == dns.rcode.SERVFAIL,
                                 EXPIRE + 5)
        self.assertTrue(got, self.server.log()[-3000:])
        self.assertLess(time.monotonic() - killed, EXPIRE + 5)
        self.assertIn("killed.test. expired", self.server.log())


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
