#!/usr/bin/env python3
"""Dynamic updates (RFC 2136) from real clients: nsupdate and knsupdate add, delete and
replace records; every prerequisite form passes and fails with its rcode and applies nothing
when it fails; the update-policy refuses what it does not grant (nothing applied); TSIG errors
(BADKEY, BADSIG, BADTIME); malformed messages get FORMERR/NOTZONE and change nothing; ALIAS as
TYPE65401; the journal keeps every update across a restart."""

import io
import os
import re
import struct
import subprocess
import sys
import time
import unittest.mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.message  # noqa: E402
import dns.name  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rdtypes.ANY.TSIG  # noqa: E402
import dns.rrset  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.tsig  # noqa: E402

from anamedtest import Anamed, find_anamectl, main, pick_free_port  # noqa: E402
from updatetest import ZONE, UpdateTestCase  # noqa: E402

# ALIAS www.mywebservice.com. in RFC 3597 generic syntax.
_TARGET = dns.name.from_text("www.mywebservice.com.").to_wire()
ALIAS_WWW = r"\# %d %s" % (len(_TARGET), _TARGET.hex())


class Clients(UpdateTestCase):
    def test_nsupdate_add_delete_replace(self):
        s0 = self.serial()
        rc, out = self.nsupdate("provisioner", """
update add cust1.mywebservice.com. 60 A 198.51.100.1
update add cust1.mywebservice.com. 60 A 198.51.100.2
update add cust1.mywebservice.com. 60 TXT "customer one"
""")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("cust1", "A"), ["198.51.100.1", "198.51.100.2"])
        self.assertEqual(self.serial(), s0 + 1, "one message, one serial step")
        # replace: delete the RRset and add in one message
        rc, out = self.nsupdate("provisioner", """
update delete cust1.mywebservice.com. A
update add cust1.mywebservice.com. 60 A 198.51.100.9
""")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("cust1", "A"), ["198.51.100.9"])
        self.assertEqual(self.serial(), s0 + 2)
        # delete one RR, then the whole name
        rc, out = self.nsupdate("provisioner", 'update delete cust1.mywebservice.com. TXT "customer one"')
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("cust1", "TXT"), [])
        rc, out = self.nsupdate("provisioner", "update delete cust1.mywebservice.com.")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("cust1", "A"), [])
        # deleting what is not there changes nothing, not even the serial
        s = self.serial()
        rc, out = self.nsupdate("provisioner", "update delete nothing.mywebservice.com. A")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.serial(), s)

    def test_knsupdate_add_delete_replace(self):
        rc, out = self.nsupdate("provisioner", """
add k1.mywebservice.com. 60 AAAA 2001:db8::1
add k1.mywebservice.com. 60 MX 10 mx.mywebservice.com.
""", tool="knsupdate")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("k1", "AAAA"), ["2001:db8::1"])
        rc, out = self.nsupdate("provisioner", """
del k1.mywebservice.com. AAAA
add k1.mywebservice.com. 60 AAAA 2001:db8::2
""", tool="knsupdate")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("k1", "AAAA"), ["2001:db8::2"])
        rc, out = self.nsupdate("provisioner", "del k1.mywebservice.com. MX 10 mx.mywebservice.com.",
                                tool="knsupdate")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("k1", "MX"), [])

    def test_alias_as_type65401(self):
        rc, out = self.nsupdate("provisioner", """
update add shop.mywebservice.com. 60 TYPE65401 %s
update add shop.mywebservice.com. 60 MX 10 mx.mywebservice.com.
""" % ALIAS_WWW)
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("shop", "A"), ["192.0.2.10"], "the ALIAS is flattened")
        # a second ALIAS replaces the first (one per name); a CNAME beside it is refused
        rc, out = self.nsupdate("admin", "update add shop.mywebservice.com. 60 CNAME www")
        self.assertNotEqual(rc, 0)
        self.assertIn("REFUSED", out)
        self.assertEqual(self.lookup("shop", "MX"), ["10 mx.mywebservice.com."])
        rc, out = self.nsupdate("provisioner", "update delete shop.mywebservice.com. TYPE65401")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("shop", "A"), [])

    def test_cname_exclusivity(self):
        s0 = self.serial()
        rc, out = self.nsupdate("admin", "update add old.mywebservice.com. 60 TXT \"beside\"")
        self.assertIn("REFUSED", out)
        rc, out = self.nsupdate("admin", "update add www.mywebservice.com. 60 CNAME old")
        self.assertIn("REFUSED", out)
        self.assertEqual(self.serial(), s0)
        self.assertRegex(self.server.log(), r"data beside a CNAME at old\.mywebservice\.com")

    def test_prerequisites_pass_and_fail(self):
        cases = [  # (prerequisite, rcode when it fails or None when it holds)
            ("prereq yxdomain www.mywebservice.com.", None),
            ("prereq yxdomain nope.mywebservice.com.", "NXDOMAIN"),
            ("prereq nxdomain nope.mywebservice.com.", None),
            ("prereq nxdomain www.mywebservice.com.", "YXDOMAIN"),
            ("prereq yxrrset www.mywebservice.com. A", None),
            ("prereq yxrrset www.mywebservice.com. AAAA", "NXRRSET"),
            ("prereq nxrrset www.mywebservice.com. AAAA", None),
            ("prereq nxrrset www.mywebservice.com. A", "YXRRSET"),
            ("prereq yxrrset www.mywebservice.com. A 192.0.2.10", None),
            ("prereq yxrrset www.mywebservice.com. A 192.0.2.11", "NXRRSET"),
            ("prereq yxrrset mail.mywebservice.com. MX 10 MX.MyWebService.com.", None),
        ]
        for i, (prereq, fails) in enumerate(cases):
            with self.subTest(prereq=prereq):
                name = "pre%d.mywebservice.com." % i
                rc, out = self.nsupdate("admin", "%s\nupdate add %s 60 A 203.0.113.%d" % (prereq, name, i))
                if fails is None:
                    self.assertEqual(rc, 0, out)
                    self.assertEqual(self.lookup(name, "A"), ["203.0.113.%d" % i])
                else:
                    self.assertNotEqual(rc, 0)
                    self.assertIn(fails, out)
                    self.assertEqual(self.lookup(name, "A"), [], "nothing applied")

    def test_prerequisites_with_knsupdate(self):
        rc, out = self.nsupdate("admin", "prereq nxdomain www.mywebservice.com.\nadd kp.mywebservice.com. 60 A 203.0.113.1",
                                tool="knsupdate")
        self.assertNotEqual(rc, 0)
        self.assertIn("YXDOMAIN", out)
        rc, out = self.nsupdate("admin", "prereq yxrrset www.mywebservice.com. A\nadd kp.mywebservice.com. 60 A 203.0.113.1",
                                tool="knsupdate")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.lookup("kp", "A"), ["203.0.113.1"])

    def test_policy(self):
        s0 = self.serial()
        # acme: TXT at _acme-challenge.<anything> and _acme-challenge itself, nothing else
        for name in ("_acme-challenge.mywebservice.com.", "_acme-challenge.a.b.mywebservice.com."):
            rc, out = self.nsupdate("acme", 'update add %s 60 TXT "tok"' % name)
            self.assertEqual(rc, 0, out)
            self.assertEqual(self.lookup(name, "TXT"), ['"tok"'])
        # one denied record refuses the whole message
        rc, out = self.nsupdate("acme", """
update add _acme-challenge.x.mywebservice.com. 60 TXT "ok"
update add x.mywebservice.com. 60 TXT "not allowed"
""")
        self.assertIn("REFUSED", out)
        self.assertEqual(self.lookup("_acme-challenge.x", "TXT"), [])
        m = self.update("acme")  # (nsupdate itself refuses an A at a name with '_')
        m.add("_acme-challenge", 60, "A", "192.0.2.1")
        self.assertEqual(self.send(m), dns.rcode.REFUSED)
        for script in ('update add www.mywebservice.com. 60 TXT "x"',
                       'update add _acme-challenge.www.example.com. 60 TXT "x"'):
            rc, out = self.nsupdate("acme", script)
            self.assertNotEqual(rc, 0, script)
        # provisioner: below the apex, its types, never the apex SOA/NS
        for script in ("update delete mywebservice.com. NS",
                       "update add mywebservice.com. 60 NS ns2.example.net.",
                       "update add mywebservice.com. 60 MX 10 mx.mywebservice.com.",
                       "update add c.mywebservice.com. 60 NS ns.example.net."):
            rc, out = self.nsupdate("provisioner", script)
            self.assertIn("REFUSED", out, script)
        # a key no rule names, and an unsigned update
        rc, out = self.nsupdate("other", "update add o.mywebservice.com. 60 A 192.0.2.1")
        self.assertIn("REFUSED", out)
        m = self.update(None)
        m.add("o", 60, "A", "192.0.2.1")
        self.assertEqual(self.send(m), dns.rcode.REFUSED)
        self.assertEqual(self.lookup("o", "A"), [])
        self.assertEqual(self.serial(), s0 + 2, "only the two accepted messages changed the zone")
        self.assertRegex(self.server.log(), r"refused: x\.mywebservice\.com\. TXT is not granted")
        stats = subprocess.run([find_anamectl(), "--socket", self.sock, "stats"],
                               capture_output=True, text=True, timeout=10).stdout
        for want in ("updates.applied=2", "updates.malformed=1", "updates.refused=9"):
            self.assertRegex(stats, r"(?m)^%s$" % re.escape(want), stats)

    def test_tsig_errors(self):
        m = self.update("admin")
        m.add("t", 60, "A", "192.0.2.1")
        bad = self.keys["admin"]
        # BADKEY: a key anamed does not know
        ring = dns.tsigkeyring.from_text({"unknown-key": (bad.algorithm, bad.secret)})
        m.use_tsig(ring, keyname="unknown-key", algorithm=bad.algorithm)
        with self.assertRaises(dns.tsig.PeerBadKey):
            self.send(m)
        # BADSIG: the right name with a wrong secret
        ring = dns.tsigkeyring.from_text({bad.name: (bad.algorithm, "AAAA" + bad.secret[4:])})
        m.use_tsig(ring, keyname=bad.name, algorithm=bad.algorithm)
        with self.assertRaises(dns.tsig.PeerBadSignature):
            self.send(m)
        # BADTIME: an hour off
        m.use_tsig(self.keyring("admin"), keyname=bad.name, algorithm=bad.algorithm)
        skewed = unittest.mock.Mock(time=lambda: time.time() - 3600)
        with unittest.mock.patch.object(dns.message, "time", skewed):
            wire = m.to_wire()
        reply = self.raw_udp(wire)
        self.assertEqual(reply[3] & 15, 9, "NOTAUTH")
        self.assertIn(struct.pack("!H", 18), reply[-40:], "TSIG error BADTIME")
        self.assertEqual(self.lookup("t", "A"), [])

    def raw_udp(self, wire):
        reply = self.udp_exchange(wire, timeout=3)
        self.assertIsNotNone(reply, "no reply")
        return reply

    def test_malformed(self):
        s0 = self.serial()

        def raw(zocount=1, prcount=0, upcount=1, records=b"", zone_type=6):
            zone = dns.name.from_text("mywebservice.com").to_wire()
            header = struct.pack("!HHHHHH", 0x1234, 5 << 11, zocount, prcount, upcount, 0)
            msg = header + zone + struct.pack("!HH", zone_type, 1) + records
            return msg

        def rr(name, rtype, rclass, ttl, rdata):
            return (dns.name.from_text(name).to_wire() +
                    struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata)

        a = rr("m.mywebservice.com", 1, 1, 60, bytes([192, 0, 2, 1]))
        cases = [
            ("two zones", raw(zocount=2, records=a), 1),
            ("zone type A", raw(zone_type=1, records=a), 1),
            ("count lies", raw(upcount=2, records=a), 1),
            ("additional count lies", raw(records=a)[:10] + b"\x00\x01" + raw(records=a)[12:], 1),
            ("RDATA too short", raw(records=rr("m.mywebservice.com", 1, 1, 60, b"\xc0\x00")), 1),
            ("TTL out of range", raw(records=rr("m.mywebservice.com", 1, 1, 0x80000000, bytes(4))), 1),
            ("class NONE with TTL", raw(records=rr("m.mywebservice.com", 1, 254, 60, bytes(4))), 1),
            ("class ANY with RDATA", raw(records=rr("m.mywebservice.com", 1, 255, 0, bytes(4))), 1),
            ("class CH", raw(records=rr("m.mywebservice.com", 1, 3, 60, bytes(4))), 1),
            ("AXFR in update", raw(records=rr("m.mywebservice.com", 252, 1, 60, b"")), 1),
            ("outside the zone", raw(records=rr("m.example.com", 1, 1, 60, bytes(4))), 10),
            ("prerequisite TTL", raw(prcount=1, upcount=0,
                                     records=rr("www.mywebservice.com", 1, 255, 60, b"")), 1),
            ("prerequisite outside", raw(prcount=1, upcount=0,
                                         records=rr("x.example.com", 1, 255, 0, b"")), 10),
            ("TXT string overruns", raw(records=rr("m.mywebservice.com", 16, 1, 60, b"\x05ab")), 1),
        ]
        k = self.keys["admin"]
        for what, wire, want in cases:
            with self.subTest(what):
                signed = self.sign(wire, k)
                reply = self.raw_udp(signed)
                self.assertEqual(reply[3] & 15, want, what)
        self.assertEqual(self.lookup("m", "A"), [])
        self.assertEqual(self.serial(), s0, "nothing changed")

    def sign(self, wire, k):
        """`wire` with a TSIG made by `k` appended (dnspython's signer over raw bytes)."""
        key = dns.tsig.Key(k.name, k.secret, k.algorithm)
        rdata = dns.rdtypes.ANY.TSIG.TSIG(dns.rdataclass.ANY, dns.rdatatype.TSIG, key.algorithm, 0,
                                          300, b"", struct.unpack("!H", wire[:2])[0], 0, b"")
        tsig, _ = dns.tsig.sign(wire, key, rdata, int(time.time()))
        body = bytearray(wire)
        body[10:12] = struct.pack("!H", struct.unpack("!H", wire[10:12])[0] + 1)
        out = io.BytesIO()
        dns.rrset.from_rdata(key.name, 0, tsig).to_wire(out)
        return bytes(body) + out.getvalue()

    def test_apex_special_cases(self):
        s0 = self.serial()
        # the last apex NS and the SOA are never deleted; deleting the apex keeps them
        m = self.update("admin")
        m.delete("@", "NS", "ns1.mywebservice.com.")
        m.delete("@", "SOA")
        m.delete("@")
        self.assertEqual(self.send(m), dns.rcode.NOERROR)
        self.assertEqual(self.lookup("@", "NS"), ["ns1.mywebservice.com."])
        self.assertEqual(self.serial(), s0)
        # an SOA with a higher serial replaces the zone's (and is not bumped again)
        m = self.update("admin")
        m.replace("@", 300, "SOA", "ns1 hostmaster %d 7200 3600 1209600 300" % (s0 + 50))
        self.assertEqual(self.send(m, tcp=True), dns.rcode.NOERROR)
        self.assertEqual(self.serial(), s0 + 50)

    def test_journal_replays_updates(self):
        rc, out = self.nsupdate("provisioner", "update add j.mywebservice.com. 60 A 198.51.100.7")
        self.assertEqual(rc, 0, out)
        s = self.serial()
        rc, _ = self.server.stop()
        self.assertEqual(rc, 0)
        self.start()
        self.assertEqual(self.lookup("j", "A"), ["198.51.100.7"])
        self.assertEqual(self.serial(), s)


class Forwarding(UpdateTestCase):
    """A second anamed holding the zone as a secondary (primary: the first) forwards UPDATE to
    it and relays the answer, signed by the primary for the client (RFC 2136 §6); with no
    primary answering it says NOTAUTH."""

    def secondary(self, primary_port):
        port = pick_free_port()
        keys = "".join('  - {name: %s, algorithm: %s, secret: "%s"}\n' % (k.name, k.algorithm, k.secret)
                       for k in self.keys.values())
        cfg = self.write("secondary-%d.yaml" % primary_port, """
listen: ["127.0.0.1:%d"]
keys:
%sremotes:
  - {name: primary, address: "127.0.0.1:%d"}
zones:
  - {name: %s, file: %s, primary: [primary]}
""" % (port, keys, primary_port, ZONE, self.zone_file))
        srv = Anamed(["--config", cfg], self.dir, port, log_name="secondary-%d.stderr" % primary_port)
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready()
        return srv

    def test_forward_to_primary(self):
        sec = self.secondary(self.port)
        m = self.update("provisioner")
        m.add("fwd", 60, "A", "198.51.100.77")
        reply = dns.query.tcp(m, "127.0.0.1", port=sec.port, timeout=5)  # TSIG checked by dnspython
        self.assertEqual(reply.rcode(), dns.rcode.NOERROR)
        self.assertEqual(self.lookup("fwd", "A"), ["198.51.100.77"], "applied at the primary")
        m = self.update("acme")
        m.add("www", 60, "TXT", "nope")
        self.assertEqual(dns.query.udp(m, "127.0.0.1", port=sec.port, timeout=5).rcode(),
                         dns.rcode.REFUSED, "the primary's refusal, relayed")

    def test_no_primary_answers(self):
        sec = self.secondary(pick_free_port(ipv6=False))
        m = self.update("provisioner")
        m.add("fwd", 60, "A", "198.51.100.77")
        self.assertEqual(dns.query.tcp(m, "127.0.0.1", port=sec.port, timeout=10).rcode(),
                         dns.rcode.NOTAUTH)
        self.assertRegex(sec.log(), r"no primary answered")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
