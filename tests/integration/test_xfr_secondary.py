#!/usr/bin/env python3
"""anamed as a secondary of Knot DNS over TSIG: the first transfer (AXFR), then a change made
with knotc reaches anamed's answers within 2 s (NOTIFY, SOA check, IXFR); the transferred zone
equals Knot's as sets of records; the copy on disk serves at once after a restart; NOTIFY from
anyone but the primary is refused and logged; anamectl zone status / refresh / retransfer.
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.message  # noqa: E402
import dns.opcode  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

import xfrtest  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main, pick_free_port  # noqa: E402
from peers import Key, Knot, PrimaryZone  # noqa: E402

ZONE = "sec.test"
SERIAL = 2026120501
ZONE_TEXT = """$ORIGIN sec.test.
$TTL 300
@        SOA  ns1 hostmaster %d 3600 600 1209600 300
@        NS   ns1
@        NS   ns2.elsewhere.example.
ns1      A    192.0.2.1
www      A    192.0.2.10
www      AAAA 2001:db8::10
mail     MX   10 mx.sec.test.
mx       A    192.0.2.25
txt      TXT  "hello world" "second string"
alias    CNAME www
sub      NS   ns.sub
ns.sub   A    192.0.2.53
""" % SERIAL


def axfr(port, key):
    return xfrtest.axfr(ZONE, port, key)


class SecondaryOfKnot(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.key = Key.random("xfr-key")
        self.knot_port = pick_free_port(ipv6=False)
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.copy = os.path.join(self.dir, "copy", ZONE + ".zone")
        os.makedirs(os.path.dirname(self.copy))
        self.knot = Knot(self.dir, self.knot_port,
                         zones=[PrimaryZone(ZONE, self.write("primary.zone", ZONE_TEXT),
                                            secondaries=[("127.0.0.1", self.port)], key=self.key)])
        self.addCleanup(self.knot.stop)
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
keys:
  - {name: %s, algorithm: %s, secret: "%s"}
remotes:
  - {name: knot, address: "127.0.0.1:%d", key: %s}
zones:
  - name: %s
    primary: [knot]
    file: %s
    allow-transfer: [knot]    # the tests' AXFR comes from Knot's address with its key
""" % (self.port, self.sock, self.key.name, self.key.algorithm, self.key.secret, self.knot_port,
       self.key.name, ZONE, self.copy))
        self.server = self.start_anamed()

    def start_anamed(self):
        server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(server.close)
        self.addCleanup(self._stop_and_check, server)
        server.wait_ready()
        return server

    def anamectl(self, *args, ok=True):
        r = xfrtest.anamectl(self.sock, *args, json_out=True)
        if ok:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def serial(self):
        return xfrtest.serial(self.port, ZONE)

    def wait_serial(self, serial, timeout):
        return xfrtest.wait_serial(self.port, ZONE, serial, timeout)

    def knot_change(self, *zone_set):
        for cmd in (["zone-begin", ZONE], ["zone-set", ZONE] + list(zone_set), ["zone-commit", ZONE]):
            r = self.knot.knotc(*cmd)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_transfer_then_changes_by_ixfr_within_2s(self):
        self.assertTrue(self.wait_serial(SERIAL, 10), self.server.log()[-3000:])
        self.assertEqual(axfr(self.port, self.key), axfr(self.knot_port, self.key))
        for i in range(3):
            t0 = time.monotonic()
            self.knot_change("new%d" % i, "300", "A", "198.51.100.%d" % (i + 1))
            self.assertTrue(self.wait_serial(SERIAL + 1 + i, 2.0), self.server.log()[-3000:])
            took = time.monotonic() - t0
            self.assertLess(took, 2.0)
            r = dns.query.udp(dns.message.make_query("new%d.%s" % (i, ZONE), "A"), "127.0.0.1",
                              port=self.port, timeout=1)
            self.assertEqual([rd.to_text() for rrset in r.answer for rd in rrset], ["198.51.100.%d" % (i + 1)])
        log = self.server.log()
        self.assertEqual(len(re.findall(r"by AXFR", log)), 1, log[-3000:])
        self.assertGreaterEqual(len(re.findall(r"by IXFR", log)), 3, log[-3000:])
        self.assertEqual(axfr(self.port, self.key), axfr(self.knot_port, self.key))
        # anamectl zone status shows the serial and the primary.
        st = self.anamectl("zone", "status", ZONE)
        self.assertIn('"serial": %d' % (SERIAL + 3), st.stdout)
        self.assertIn('"primary_used": "knot"', st.stdout)
        # The copy on disk follows (written shortly after the last transfer).
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (
                os.path.exists(self.copy) and "198.51.100.3" in open(self.copy).read()):
            time.sleep(0.05)
        self.assertIn("198.51.100.3", open(self.copy).read())
        # A restart with the primary gone serves the copy at once.
        self.server.stop()
        self.knot.stop()
        self.server = self.start_anamed()
        self.assertEqual(self.serial(), SERIAL + 3)
        self.assertIn("serving its copy", self.server.log())

    def test_notify_refusals_and_commands(self):
        self.assertTrue(self.wait_serial(SERIAL, 10), self.server.log()[-3000:])
        # NOTIFY without the primary's key: REFUSED, logged.
        n = dns.message.make_query(ZONE, "SOA")
        n.set_opcode(dns.opcode.NOTIFY)
        r = dns.query.udp(n, "127.0.0.1", port=self.port, timeout=2)
        self.assertEqual(r.rcode(), dns.rcode.REFUSED)
        self.assertIsNotNone(self.server.wait_log(r"NOTIFY for sec\.test\. from 127\.0\.0\.1 unsigned refused"))
        # NOTIFY for a zone that is not a secondary here: NOTAUTH.
        n = dns.message.make_query("other.test", "SOA")
        n.set_opcode(dns.opcode.NOTIFY)
        n.use_tsig(self.key.keyring(), keyname=self.key.name)
        r = dns.query.udp(n, "127.0.0.1", port=self.port, timeout=2)
        self.assertEqual(r.rcode(), dns.rcode.NOTAUTH)
        # Signed with the primary's key from its address: NOERROR, signed, and a check runs.
        n = dns.message.make_query(ZONE, "SOA")
        n.set_opcode(dns.opcode.NOTIFY)
        n.use_tsig(self.key.keyring(), keyname=self.key.name)
        r = dns.query.udp(n, "127.0.0.1", port=self.port, timeout=2)
        self.assertEqual(r.rcode(), dns.rcode.NOERROR)
        self.assertTrue(r.had_tsig)
        self.assertIsNotNone(self.server.wait_log(r"NOTIFY for sec\.test\. from knot: checking"))
        # retransfer: a whole transfer at once; refresh: an SOA check.
        self.anamectl("zone", "retransfer", ZONE)
        self.assertIsNotNone(self.server.wait_log(r"by AXFR", count=2, timeout=5), self.server.log()[-2000:])
        self.anamectl("zone", "refresh", ZONE)
        r = self.anamectl("zone", "refresh", "nosuch.test", ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not a secondary zone", r.stdout + r.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
