#!/usr/bin/env python3
"""anamed -> anamed: a secondary anamed follows a primary anamed (NOTIFY, IXFR) within 2 s of
each anamectl change; when the primary is killed (SIGKILL) the secondary keeps serving its
last version, and once the SOA's expire time has passed it answers SERVFAIL for the zone.
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

from anamedtest import Anamed, AnamedTestCase, find_anamectl, main, pick_free_port  # noqa: E402
from peers import Key  # noqa: E402

ZONE = "chain.test"
SERIAL = 100
EXPIRE = 4
ZONE_TEXT = """$ORIGIN chain.test.
$TTL 300
@    SOA  ns1 hostmaster %d 1 1 %d 300
@    NS   ns1
ns1  A    192.0.2.1
www  A    192.0.2.10
""" % (SERIAL, EXPIRE)


class Chain(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.key = Key.random("chain-key")
        self.sec_port = pick_free_port(ipv6=False)
        self.sock = os.path.join(self.dir, "primary.sock")
        keys = 'keys:\n  - {name: %s, algorithm: %s, secret: "%s"}\n' % (
            self.key.name, self.key.algorithm, self.key.secret)
        primary_conf = self.write("primary.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
%sremotes:
  - {name: edge, address: "127.0.0.1:%d", key: %s}
zones:
  - {name: %s, file: %s, notify: [edge], allow-transfer: [edge]}
""" % (self.port, self.sock, os.path.join(self.dir, "journal.mdb"), keys, self.sec_port,
       self.key.name, ZONE, self.write("chain.zone", ZONE_TEXT)))
        secondary_conf = self.write("secondary.yaml", """
listen: ["127.0.0.1:%d"]
%sremotes:
  - {name: hidden, address: "127.0.0.1:%d", key: %s}
zones:
  - {name: %s, primary: [hidden]}
""" % (self.sec_port, keys, self.port, self.key.name, ZONE))
        self.primary = Anamed(["--config", primary_conf], self.dir, self.port, log_name="primary.stderr")
        self.addCleanup(self.primary.close)
        self.primary.wait_ready()
        self.secondary = Anamed(["--config", secondary_conf], self.dir, self.sec_port,
                                log_name="secondary.stderr")
        self.addCleanup(self.secondary.close)
        self.addCleanup(self._stop_and_check, self.secondary)
        self.secondary.wait_ready()

    def ask(self, name, rdtype="A"):
        return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=self.sec_port,
                             timeout=1)

    def wait_serial(self, serial, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r = self.ask(ZONE, "SOA")
            if r.answer and r.answer[0][0].serial == serial:
                return True
            time.sleep(0.01)
        return False

    def test_follows_the_primary_then_expires_after_it_dies(self):
        self.assertTrue(self.wait_serial(SERIAL, 10), self.secondary.log()[-3000:])
        for i in range(3):
            t0 = time.monotonic()
            r = subprocess.run([find_anamectl(), "--socket", self.sock, "record", "add", ZONE,
                                "c%d" % i, "A", "198.51.100.%d" % (i + 1)],
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertTrue(self.wait_serial(SERIAL + 1 + i, 2.0), self.secondary.log()[-3000:])
            self.assertLess(time.monotonic() - t0, 2.0)
        self.assertIn("by IXFR", self.secondary.log())
        got = self.ask("c2." + ZONE)
        self.assertEqual([rd.to_text() for rrset in got.answer for rd in rrset], ["198.51.100.3"])
        # The primary dies: the secondary keeps serving, then expires.
        self.primary.kill()
        killed = time.monotonic()
        self.assertEqual(self.ask("www." + ZONE).rcode(), dns.rcode.NOERROR)
        while time.monotonic() - killed < EXPIRE + 4:
            if self.ask("www." + ZONE).rcode() == dns.rcode.SERVFAIL:
                break
            time.sleep(0.1)
        self.assertEqual(self.ask("www." + ZONE).rcode(), dns.rcode.SERVFAIL, self.secondary.log()[-3000:])
        self.assertEqual(self.ask("c0." + ZONE).rcode(), dns.rcode.SERVFAIL)
        self.assertIn("expired", self.secondary.log())


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
