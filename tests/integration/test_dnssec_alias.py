#!/usr/bin/env python3
"""Signed ALIAS answers: a zone with `dnssec: {policy: sign}` whose names have ALIAS records
(targets resolved through fake_upstream.py), keys from BIND's dnssec-keygen, served by anamed
with a validating unbound in front (the zone's KSK as its trust anchor, no cache).

Covered: the flattened A/AAAA of an ALIAS owner carry RRSIGs made by the zone's ZSK over the
owner name, and unbound validates them (AD); a target without AAAA gives a NODATA that
validates, and the owner's NSEC lists exactly the families its target has; after the
target's addresses change, the first answer with the new addresses validates, and no query
made while the change is published fails validation; DO=0 answers carry no signatures.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import shutil
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdatatype  # noqa: E402
import fake_upstream  # noqa: E402
from aliastest import AliasTest, rec, wait_until  # noqa: E402
from anamedtest import main  # noqa: E402
from validator import Unbound  # noqa: E402

APEX = "al.test."
ZONE = """$ORIGIN al.test.
$TTL 300
@      SOA ns1 hostmaster 1 7200 3600 1209600 300
@      NS  ns1
ns1    A   192.0.2.1
mx     A   192.0.2.25
cust   ALIAS lb.offsite.
cust   MX  10 mx
v4     ALIAS lb4.offsite.
www    CNAME cust
"""


def control(a, v4_aaaa=()):
    return {"mode": "normal", "records": {
        "lb.offsite.": rec(a, ["2001:db8::10"], 1),
        "lb4.offsite.": rec(["203.0.113.40"], v4_aaaa, 1)}}


class TestDnssecAlias(AliasTest):

    @classmethod
    def start_servers(cls):
        for tool in ("dnssec-keygen", "unbound"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest("missing " + tool)
        keys = os.path.join(cls.tmp, "keys")
        os.makedirs(keys)
        ksk = None
        for args in (["-f", "KSK"], []):
            r = subprocess.run(["dnssec-keygen", "-q", "-a", "ECDSAP256SHA256", "-K", keys]
                               + args + [APEX], capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                raise RuntimeError("dnssec-keygen: " + r.stderr)
            ksk = ksk or r.stdout.strip()
        with open(os.path.join(keys, ksk + ".key")) as f:
            anchor = " ".join(line for line in f.read().splitlines()
                              if not line.startswith(";"))
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", control(["203.0.113.10"]))
        cls.start_anamed([("al.test", ZONE, "dnssec: {policy: sign, key-dir: %s}" % keys)],
                         [cls.fake_port], refresh_min=1, refresh_max=1, stale_limit=3600)
        cls.unbound = Unbound(cls.tmp, cls.port, anchor, (APEX,))

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "unbound", None):
            cls.unbound.stop()
        super().tearDownClass()

    def direct(self, name, qtype, dnssec=True):
        q = dns.message.make_query(name, qtype, want_dnssec=dnssec)
        q.flags &= ~dns.flags.RD
        return dns.query.udp(q, "127.0.0.1", port=self.port, timeout=3)

    def addresses(self, r, qtype):
        return sorted(rd.to_text() for rr in r.answer
                      if rr.rdtype == dns.rdatatype.from_text(qtype) for rd in rr)

    def assertValidated(self, name, qtype, want):
        r = self.unbound.query(name, qtype)
        self.assertEqual(r.rcode(), dns.rcode.NOERROR, "%s %s via unbound:\n%s" % (name, qtype, r))
        self.assertTrue(r.flags & dns.flags.AD, "%s %s not validated:\n%s" % (name, qtype, r))
        self.assertEqual(self.addresses(r, qtype), want, str(r))
        return r

    def test_1_alias_answers_are_signed_and_validate(self):
        self.poll_answer("cust." + APEX, "A", ["203.0.113.10"], 10)
        r = self.direct("cust." + APEX, "A")
        sigs = [rr for rr in r.answer if rr.rdtype == dns.rdatatype.RRSIG]
        self.assertEqual(len(sigs), 1, str(r))
        self.assertEqual(sigs[0].name.to_text(), "cust." + APEX)
        self.assertEqual(sigs[0][0].type_covered, dns.rdatatype.A)
        self.assertEqual(sigs[0][0].signer.to_text(), APEX)
        self.assertEqual(sigs[0].ttl, r.answer[0].ttl)
        plain = self.direct("cust." + APEX, "A", dnssec=False)
        self.assertFalse([rr for rr in plain.answer if rr.rdtype == dns.rdatatype.RRSIG])
        self.assertValidated("cust." + APEX, "A", ["203.0.113.10"])
        self.assertValidated("cust." + APEX, "AAAA", ["2001:db8::10"])
        self.assertValidated("www." + APEX, "A", ["203.0.113.10"])  # CNAME to an ALIAS owner
        self.assertValidated("cust." + APEX, "MX", ["10 mx.al.test."])  # its own data

    def test_2_missing_family_is_a_validated_nodata(self):
        self.poll_answer("v4." + APEX, "A", ["203.0.113.40"], 10)
        self.assertValidated("v4." + APEX, "A", ["203.0.113.40"])
        r = self.assertValidated("v4." + APEX, "AAAA", [])
        self.assertEqual(r.answer, [])
        # The NSEC at each owner lists the families its target has (and nothing it lacks).
        self.assertEqual(self.listed("v4." + APEX), {"A"})
        self.assertEqual(self.listed("cust." + APEX), {"A", "AAAA"})

    def listed(self, owner):
        """The address types the NSEC at `owner` lists."""
        nsec = [rr for rr in self.direct(owner, "TXT").authority
                if rr.rdtype == dns.rdatatype.NSEC]
        self.assertEqual(len(nsec), 1, owner)
        return set(nsec[0][0].to_text().split()[1:]) & {"A", "AAAA"}

    def test_3_new_addresses_validate_at_once(self):
        self.poll_answer("cust." + APEX, "A", ["203.0.113.10"], 10)
        failures, stop = [], threading.Event()

        def hammer():  # validating queries all through the change
            while not stop.is_set():
                r = self.unbound.query("cust." + APEX, "A")
                if r.rcode() != dns.rcode.NOERROR or not r.flags & dns.flags.AD:
                    failures.append(r)
        t = threading.Thread(target=hammer)
        t.start()
        try:
            fake_upstream.write_control(self.fake_dir, control(["203.0.113.11", "203.0.113.12"]))
            self.poll_answer("cust." + APEX, "A", ["203.0.113.11", "203.0.113.12"], 10)
            self.assertValidated("cust." + APEX, "A", ["203.0.113.11", "203.0.113.12"])
        finally:
            stop.set()
            t.join()
        self.assertEqual(failures, [], "answers that failed validation during the change")
        self.assertTrue(wait_until(lambda: "signed owner answers made" in self.read_log(), 5),
                        self.log_tail())

    def test_4_a_family_gained_then_lost(self):
        a = ["203.0.113.11", "203.0.113.12"]
        fake_upstream.write_control(self.fake_dir, control(a, ["2001:db8::40"]))
        self.poll_answer("v4." + APEX, "AAAA", ["2001:db8::40"], 10)
        self.assertValidated("v4." + APEX, "AAAA", ["2001:db8::40"])
        # The bitmap follows a moment later (positive answers do not need it).
        self.assertTrue(wait_until(lambda: self.listed("v4." + APEX) == {"A", "AAAA"}, 5),
                        self.log_tail())
        # A lost family: the NODATA validates from its first answer on.
        fake_upstream.write_control(self.fake_dir, control(a))
        self.poll_answer("v4." + APEX, "AAAA", [], 10)
        self.assertValidated("v4." + APEX, "AAAA", [])
        self.assertEqual(self.listed("v4." + APEX), {"A"})
        self.assertValidated("v4." + APEX, "A", ["203.0.113.40"])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
