#!/usr/bin/env python3
"""Presigned zones served with DNSSEC: tests/data/dnssec.zone signed at test time
with ldns-signzone (keys from ldns-keygen in the test's own directory), once with
NSEC and once with NSEC3, served by anamed with its child zones (secure.sec.test.,
signed, with a DS in the parent; insecure.sec.test., unsigned, without one). A
validating unbound with the zone's DNSKEY as its trust anchor and anamed as the
authoritative server must set AD on every kind of answer (positive, NXDOMAIN,
NODATA, wildcard, CNAME chain, DNAME, below both delegations), and SERVFAIL when
the signatures have expired or an NSEC is missing. ldns-verify-zone checks an AXFR from
anamed.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.rcode  # noqa: E402

from anamedtest import Anamed, main, pick_free_port  # noqa: E402
from dnstest import REPO  # noqa: E402
from validator import Unbound  # noqa: E402

DATA = os.environ.get("ANAMED_TESTDATA", os.path.join(REPO, "tests", "data"))
ZONE = "sec.test."
TOOLS = ("ldns-keygen", "ldns-signzone", "ldns-key2ds", "ldns-verify-zone", "unbound")


def run(args, cwd):
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(args), r.stderr))
    return r.stdout


def keygen(d, zone, ksk):
    return run(["ldns-keygen", "-a", "ECDSAP256SHA256"] + (["-k"] if ksk else []) + [zone],
               d).strip()


def sign(d, src, zone, keys, out, nsec3, expire=None):
    args = ["ldns-signzone", "-o", zone, "-f", out]
    if nsec3:
        args += ["-n", "-t", "0", "-s", "ab12"]
    if expire:
        args += ["-i", expire[0], "-e", expire[1]]
    run(args + [src] + keys, d)


class SignedZones:
    """The three zones, signed into `d`: paths of the files anamed serves, the trust anchor."""

    def __init__(self, d, nsec3, expired=False):
        self.dir = d
        child = os.path.join(DATA, "dnssec-child.zone")
        ckey = keygen(d, "secure." + ZONE, True)
        src = os.path.join(d, "secure.zone")
        with open(child) as f, open(src, "w") as out:
            out.write("$ORIGIN secure.%s\n" % ZONE + f.read())
        self.secure = os.path.join(d, "secure.zone.signed")
        sign(d, src, "secure." + ZONE, [ckey], self.secure, nsec3)
        self.insecure = os.path.join(d, "insecure.zone")
        with open(child) as f, open(self.insecure, "w") as out:
            out.write("$ORIGIN insecure.%s\n" % ZONE + f.read())
        ds = run(["ldns-key2ds", "-n", "-2", ckey + ".key"], d).strip()
        ksk, zsk = keygen(d, ZONE, True), keygen(d, ZONE, False)
        parent = os.path.join(d, "sec.zone")
        with open(os.path.join(DATA, "dnssec.zone")) as f, open(parent, "w") as out:
            out.write(f.read() + ds + "\n")
        self.parent = os.path.join(d, "sec.zone.signed")
        # Signatures that expired yesterday: a validator must refuse them.
        past = None
        if expired:
            now = int(time.time())
            past = (str(now - 10 * 86400), str(now - 86400))
        sign(d, parent, ZONE, [ksk, zsk], self.parent, nsec3, past)
        with open(os.path.join(d, ksk + ".key")) as f:
            self.anchor = " ".join(f.read().split())


class Served:
    """anamed serving the signed zones, and unbound in front of it, in a private directory."""

    def __init__(self, nsec3, expired=False, drop_nsec_at=None):
        need = [t for t in TOOLS if shutil.which(t) is None]
        if need:
            raise unittest.SkipTest("missing: " + ", ".join(need))
        self.dir = tempfile.mkdtemp(prefix="anamed-dnssec-")
        self.zones = SignedZones(self.dir, nsec3, expired)
        if drop_nsec_at:  # the NSEC at that name, and its signature, taken out of the zone
            with open(self.zones.parent) as f:
                lines = f.read().splitlines()
            kept = [line for line in lines
                    if not (line.split()[:1] == [drop_nsec_at] and
                            (line.split()[3:4] == ["NSEC"] or line.split()[3:5] == ["RRSIG", "NSEC"]))]
            assert len(kept) == len(lines) - 2, "no NSEC at %s" % drop_nsec_at
            with open(self.zones.parent, "w") as f:
                f.write("\n".join(kept) + "\n")
        self.port = pick_free_port(ipv6=False)
        cfg = os.path.join(self.dir, "anamed.yaml")
        with open(cfg, "w") as f:
            f.write('listen: ["127.0.0.1:%d"]\n' % self.port)
            f.write('remotes:\n  - {name: tester, address: "127.0.0.1:53"}\nzones:\n')
            for name, path in ((ZONE, self.zones.parent), ("secure." + ZONE, self.zones.secure),
                               ("insecure." + ZONE, self.zones.insecure)):
                f.write("  - {name: %s, file: %s, allow-transfer: [tester]}\n" % (name, path))
        self.anamed = Anamed(["--config", cfg], self.dir, self.port)
        self.unbound = None
        try:
            self.anamed.wait_ready()
            self.unbound = Unbound(self.dir, self.port, self.zones.anchor,
                                   (ZONE, "secure." + ZONE, "insecure." + ZONE))
        except Exception:
            self.close()
            raise

    def close(self):
        if self.unbound:
            self.unbound.stop()
        self.anamed.stop()
        self.anamed.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def direct(self, name, qtype, dnssec=True, tcp=False):
        q = dns.message.make_query(name, qtype, want_dnssec=dnssec)
        if tcp:
            return dns.query.tcp(q, "127.0.0.1", port=self.port, timeout=5)
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=5)


# (name, type, rcode, the answer's types) that unbound must validate (AD).
SECURE = [
    ("host.sec.test.", "A", "NOERROR", {"A"}),
    ("sec.test.", "MX", "NOERROR", {"MX"}),
    ("sec.test.", "DNSKEY", "NOERROR", {"DNSKEY"}),
    ("nothere.sec.test.", "A", "NXDOMAIN", set()),
    ("deep.nothere.sec.test.", "TXT", "NXDOMAIN", set()),
    ("host.sec.test.", "TXT", "NOERROR", set()),             # NODATA
    ("b.ent.sec.test.", "A", "NOERROR", set()),               # NODATA at an empty non-terminal
    ("anything.wc.sec.test.", "A", "NOERROR", {"A"}),         # wildcard expansion
    ("a.b.wc.sec.test.", "TXT", "NOERROR", {"TXT"}),          # two labels below the wildcard
    ("anything.wc.sec.test.", "MX", "NOERROR", set()),        # wildcard NODATA
    ("www.sec.test.", "A", "NOERROR", {"CNAME", "A"}),
    ("c1.sec.test.", "AAAA", "NOERROR", {"CNAME", "AAAA"}),   # a CNAME chain
    ("x.dname.sec.test.", "A", "NOERROR", {"DNAME", "CNAME", "A"}),
    ("secure.sec.test.", "DS", "NOERROR", {"DS"}),
    ("host.secure.sec.test.", "A", "NOERROR", {"A"}),         # below the signed delegation
    ("insecure.sec.test.", "DS", "NOERROR", set()),           # no DS: proven
]


class DnssecBase:
    nsec3 = False

    @classmethod
    def setUpClass(cls):
        cls.served = Served(cls.nsec3)

    @classmethod
    def tearDownClass(cls):
        cls.served.close()

    def test_validator_sets_ad(self):
        for name, qtype, rcode, types in SECURE:
            with self.subTest(name=name, qtype=qtype):
                r = self.served.unbound.query(name, qtype)
                self.assertEqual(dns.rcode.to_text(r.rcode()), rcode, r)
                self.assertTrue(r.flags & dns.flags.AD, "no AD:\n%s" % r)
                got = {dns.rdatatype.to_text(rs.rdtype) for rs in r.answer} - {"RRSIG"}
                self.assertEqual(got, types, r)

    def test_insecure_delegation_answers_without_ad(self):
        r = self.served.unbound.query("host.insecure.sec.test.", "A")
        self.assertEqual(r.rcode(), dns.rcode.NOERROR, r)
        self.assertFalse(r.flags & dns.flags.AD, r)
        self.assertEqual(r.answer[0][0].to_text(), "192.0.2.80")

    def test_do_answers_carry_signatures_do0_none(self):
        r = self.served.direct("host.sec.test.", "A")
        self.assertTrue(r.ednsflags & dns.flags.DO, "DO not echoed")
        self.assertEqual(sorted(dns.rdatatype.to_text(rs.rdtype) for rs in r.answer),
                         ["A", "RRSIG"])
        r0 = self.served.direct("host.sec.test.", "A", dnssec=False)
        self.assertFalse(r0.ednsflags & dns.flags.DO)
        self.assertEqual([dns.rdatatype.to_text(rs.rdtype) for rs in r0.answer], ["A"])
        self.assertEqual(r0.authority, [])
        nx = self.served.direct("nothere.sec.test.", "A", dnssec=False)
        self.assertEqual([dns.rdatatype.to_text(rs.rdtype) for rs in nx.authority], ["SOA"])

    def test_referral_carries_ds_or_its_denial(self):
        r = self.served.direct("host.secure.sec.test.", "A")  # the child's zone answers
        self.assertTrue(r.flags & dns.flags.AA)
        ds = self.served.direct("secure.sec.test.", "DS")
        self.assertEqual({dns.rdatatype.to_text(rs.rdtype) for rs in ds.answer}, {"DS", "RRSIG"})

    def test_explicit_rrsig_query(self):
        r = self.served.direct("host.sec.test.", "RRSIG", dnssec=False)
        covered = sorted(dns.rdatatype.to_text(rd.type_covered) for rs in r.answer for rd in rs)
        want = ["A", "AAAA", "NSEC3" if self.nsec3 else "NSEC"]
        self.assertEqual(covered, sorted(want[:2] + ([] if self.nsec3 else want[2:])), r)

    def test_small_payload_truncates_rather_than_strip(self):
        q = dns.message.make_query("sec.test.", "DNSKEY", want_dnssec=True, payload=512)
        r = dns.query.udp(q, "127.0.0.1", port=self.served.port, timeout=5)
        if r.flags & dns.flags.TC:
            self.assertEqual(r.answer, [])
        else:
            self.assertEqual({dns.rdatatype.to_text(rs.rdtype) for rs in r.answer},
                             {"DNSKEY", "RRSIG"})
        t = self.served.direct("sec.test.", "DNSKEY", tcp=True)
        self.assertEqual({dns.rdatatype.to_text(rs.rdtype) for rs in t.answer},
                         {"DNSKEY", "RRSIG"})

    def test_axfr_verifies_with_ldns(self):
        lines = []
        for m in dns.query.xfr("127.0.0.1", ZONE, port=self.served.port, timeout=10, lifetime=30,
                               relativize=False):
            for rs in m.answer:
                lines.append(rs.to_text())
        self.assertEqual(lines[0], lines[-1])  # the SOA opens and closes the transfer
        lines.pop()
        path = os.path.join(self.served.dir, "axfr.zone")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        text = "\n".join(lines)
        self.assertIn("RRSIG", text)
        self.assertIn("NSEC3" if self.nsec3 else "NSEC", text)
        r = subprocess.run(["ldns-verify-zone", path], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class Nsec(DnssecBase, unittest.TestCase):
    nsec3 = False


class Nsec3(DnssecBase, unittest.TestCase):
    nsec3 = True


class Expired(unittest.TestCase):
    """Signatures whose validity ended: the validator refuses them (SERVFAIL)."""

    def test_expired_signatures_servfail(self):
        served = Served(nsec3=False, expired=True)
        try:
            r = served.unbound.query("host.sec.test.", "A")
            self.assertEqual(r.rcode(), dns.rcode.SERVFAIL, r)
        finally:
            served.close()


class MissingNsec(unittest.TestCase):
    """A presigned zone whose NSEC at one name is gone: the denial there cannot be proven,
    and the validator refuses it (SERVFAIL) while the rest of the zone still validates."""

    def test_missing_nsec_is_detected(self):
        served = Served(nsec3=False, drop_nsec_at="host.sec.test.")
        try:
            r = served.unbound.query("host.sec.test.", "TXT")  # NODATA: host's NSEC proves it
            self.assertEqual(r.rcode(), dns.rcode.SERVFAIL, r)
            r = served.unbound.query("mail.sec.test.", "A")
            self.assertEqual(r.rcode(), dns.rcode.NOERROR, r)
            self.assertTrue(r.flags & dns.flags.AD, r)
        finally:
            served.close()


if __name__ == "__main__":
    main(sys.modules[__name__])
