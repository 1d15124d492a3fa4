#!/usr/bin/env python3
"""anamed as a primary: Knot DNS as its secondary over TSIG (AXFR, then IXFR after each change,
driven by NOTIFY), transfers compared with anamed's data as sets, and the refusals of RFC 8945
(no key, wrong key, wrong address).
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.tsig  # noqa: E402

import xfrtest  # noqa: E402
from aliastest import alias_rdata_hex  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main, pick_free_port  # noqa: E402
from peers import Key, Knot, SecondaryZone  # noqa: E402
from xfrtest import records  # noqa: E402

ZONE = "xfr.test"
ZONE_TEXT = """$ORIGIN xfr.test.
$TTL 300
@        SOA  ns1 hostmaster 2026120501 7200 3600 1209600 300
@        NS   ns1
@        NS   ns2.elsewhere.example.
ns1      A    192.0.2.1
www      A    192.0.2.10
www      AAAA 2001:db8::10
mail     MX   10 mx.xfr.test.
mx       A    192.0.2.25
txt      TXT  "hello world" "second string"
customer ALIAS www.xfr.test.
customer MX   10 mx.xfr.test.
sub      NS   ns.sub
ns.sub   A    192.0.2.53
"""


class Primary(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.key = Key.random("xfr-key")
        self.knot_port = pick_free_port(ipv6=False)
        self.zone_file = self.write(ZONE + ".zone", ZONE_TEXT)
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
keys:
  - {name: %s, algorithm: %s, secret: "%s"}
remotes:
  - {name: knot, address: "127.0.0.1:%d", key: %s}
  - {name: elsewhere, address: "127.0.0.3:53", key: %s}
zones:
  - name: %s
    file: %s
    notify: [knot]
    allow-transfer: [knot, elsewhere]
""" % (self.port, self.sock, os.path.join(self.dir, "journal.mdb"), self.key.name, self.key.algorithm,
       self.key.secret, self.knot_port, self.key.name, self.key.name, ZONE, self.zone_file))
        self.server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()
        self.knot = None

    def start_knot(self):
        self.knot = Knot(self.dir, self.knot_port,
                         zones=[SecondaryZone(ZONE, ("127.0.0.1", self.port), key=self.key)])
        self.addCleanup(self.knot.stop)
        return self.knot

    def anamectl(self, *args):
        r = xfrtest.anamectl(self.sock, *args)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def axfr(self, port, keyring=None, keyname=None, source="127.0.0.1"):
        return xfrtest.axfr_messages(ZONE, port, keyring, keyname, source)

    def test_axfr_with_key_equals_the_zone_and_knot_follows_every_change_by_ixfr(self):
        msgs = self.axfr(self.port, self.key.keyring(), self.key.name)
        got = records(rr for m in msgs for rr in m.answer)
        self.assertIn((ZONE + ".", dns.rdatatype.SOA), {(o, t) for o, t, _, _ in got})
        self.assertIn(("customer.xfr.test.", 65401), {(o, t) for o, t, _, _ in got})
        self.assertEqual(len(got), 13)  # every record of ZONE_TEXT (the closing SOA repeats the first)
        self.assertEqual(sum(len(rr) for m in msgs for rr in m.answer), 14)
        # kdig (Knot's client) reads the same records, equal as sets to the zone file's.
        expected = xfrtest.zone_text_records(ZONE, ZONE_TEXT.replace(
            "ALIAS www.xfr.test.", "TYPE65401 " + alias_rdata_hex("www.xfr.test.")))
        self.assertEqual(xfrtest.kdig_axfr(ZONE, self.port, self.key), expected)
        self.assertEqual(got, expected)

        knot = self.start_knot()
        self.assertTrue(knot.wait_serial(ZONE, 2026120501), knot.log()[-3000:])
        for i in range(50):
            self.anamectl("record", "add", ZONE, "c%d" % i, "A", "198.51.100.%d" % (i + 1))
        self.assertTrue(knot.wait_serial(ZONE, 2026120501 + 50, timeout=5), knot.log()[-3000:])
        r = knot.query("c49." + ZONE, "A")
        self.assertEqual([rd.to_text() for rrset in r.answer for rd in rrset], ["198.51.100.50"])
        log = knot.log()
        self.assertGreaterEqual(len(re.findall(r"IXFR, incoming, remote \S+, finished", log)), 1, log[-3000:])
        # AXFR for the first transfer only; every change after it by IXFR
        self.assertEqual(len(re.findall(r"AXFR, incoming, remote \S+, started", log)), 1, log[-3000:])
        self.assertNotIn("fallback to AXFR", log)
        # What Knot holds equals what anamed serves.
        mine = records(rr for m in self.axfr(self.port, self.key.keyring(), self.key.name) for rr in m.answer)
        knots = records(rr for m in self.axfr(self.knot_port, self.key.keyring(), self.key.name) for rr in m.answer)
        self.assertEqual({r for r in mine if r[1] != 65401}, {r for r in knots if r[1] != 65401})

    def test_refusals(self):
        # No key: REFUSED (the remote requires one).
        msgs = self.axfr(self.port)
        self.assertEqual(msgs[-1].rcode(), dns.rcode.REFUSED)
        # An unknown key: NOTAUTH with BADKEY.
        other = Key.random("other-key")
        q = dns.message.make_query(ZONE, "AXFR")
        q.use_tsig(other.keyring(), keyname=other.name)
        with self.assertRaises(dns.tsig.PeerBadKey):
            dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=5)
        # The right key name with a wrong secret: BADSIG.
        forged = Key(self.key.name, self.key.algorithm, Key.random().secret)
        q = dns.message.make_query(ZONE, "AXFR")
        q.use_tsig(forged.keyring(), keyname=forged.name)
        with self.assertRaises(dns.tsig.PeerBadSignature):
            dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=5)
        # The right key from an address no remote has: REFUSED, signed.
        msgs = self.axfr(self.port, self.key.keyring(), self.key.name, source="127.0.0.2")
        self.assertEqual(msgs[-1].rcode(), dns.rcode.REFUSED)
        log = self.server.log()
        self.assertIn("refused to 127.0.0.1", log)
        self.assertIn("refused to 127.0.0.2", log)
        self.assertIn("tsig badkey", log.lower())
        self.assertIn("tsig badsig", log.lower())


class LargeZone(AnamedTestCase):
    """A zone whose AXFR spans many 64 KiB messages: every message reaches the client (the TCP
    server keeps streaming when the socket took everything queued so far), read back by
    dnspython and by kdig, both equal to the zone file as sets."""

    NAMES = 3000

    def test_multi_message_axfr_equals_the_zone(self):
        text = "$ORIGIN big.test.\n$TTL 300\n@ SOA ns1 hostmaster 7 7200 3600 1209600 300\n@ NS ns1\n" \
               "ns1 A 192.0.2.1\n" + "".join(
                   'c%d A 198.51.100.%d\nc%d TXT "%s"\n' % (i, i % 250 + 1, i, "x" * 200)
                   for i in range(self.NAMES))
        config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
remotes:
  - {name: local, address: "127.0.0.1:53"}
zones:
  - name: big.test
    file: %s
    allow-transfer: [local]
""" % (self.port, self.write("big.test.zone", text)))
        self.server = Anamed(["--config", config], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()
        msgs = xfrtest.axfr_messages("big.test", self.port)
        self.assertGreater(len(msgs), 5)
        expected = xfrtest.zone_text_records("big.test", text)
        self.assertEqual(len(expected), 2 * self.NAMES + 3)
        self.assertEqual(records(rr for m in msgs for rr in m.answer), expected)
        self.assertEqual(xfrtest.kdig_axfr("big.test", self.port), expected)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
