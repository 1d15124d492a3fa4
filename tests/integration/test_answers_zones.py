#!/usr/bin/env python3
"""Zone cuts and zone selection: referrals with glue, DS at the parent,
nested child zones, a second zone, and names outside every zone refused
(python3 stdlib only).

The server: answerstest.AnamedServerTest (the zones from tests/data).

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import main  # noqa: E402
from answerstest import (  # noqa: E402
    CHILD_SOA_RDATA, DS_RDATA, OTHER_SOA_RDATA, AnamedServerTest, fq, norm_ds)


class TestZones(AnamedServerTest):

    # -- delegation --------------------------------------------------------------

    def test_names_at_and_below_delegation_get_referral_with_glue(self):
        for qname, qtype in (("foo.sub.example.test", "A"),
                             ("sub.example.test", "A"),
                             ("ns.sub.example.test", "A"),
                             ("a.b.sub.example.test", "MX")):
            for _, r in self.over(qname, qtype):
                self.assertReferral(r)

    def test_ns_query_at_delegation_point_gets_referral(self):
        for _, r in self.over("sub.example.test", "NS"):
            self.assertReferral(r)

    def test_ds_at_delegation_point_is_answered_by_parent_with_aa(self):
        for _, r in self.over("sub.example.test", "DS"):
            self.assertHeader(r, "NOERROR", aa=True)
            self.assertEqual(len(r["answer"]), 1, r["raw"])
            name, ttl, rtype, rdata = r["answer"][0]
            self.assertEqual((name.lower(), ttl, rtype), (fq("sub"), 3600, "DS"))
            self.assertEqual(norm_ds(rdata), DS_RDATA)

    def test_wildcard_below_delegation_is_never_used(self):
        for qname, qtype in (("zzz.sub.example.test", "A"),
                             ("zzz.sub.example.test", "ANY")):
            for _, r in self.over(qname, qtype):
                self.assertReferral(r)

    # -- zone selection ------------------------------------------------------------

    def test_name_outside_every_zone_is_refused_without_aa(self):
        for qname, qtype in (("example.org", "A"), ("www.example.org", "AAAA"),
                             ("test", "SOA")):
            for _, r in self.over(qname, qtype):
                self.assertHeader(r, "REFUSED", aa=False)
                self.assertEqual(r["answer"], [], r["raw"])
                self.assertEqual(r["authority"], [], r["raw"])

    def test_child_zone_wins_over_parent_delegation(self):
        for _, r in self.over("www.sub2.example.test", "A"):
            self.assertHeader(r, aa=True)
            self.assertSection(r, "answer", [(fq("www.sub2"), 3600, "A", "192.0.2.201")])

    def test_child_zone_apex_soa_and_ns_come_from_child(self):
        for _, r in self.over("sub2.example.test", "SOA"):
            self.assertHeader(r, aa=True)
            self.assertSection(r, "answer", [(fq("sub2"), 3600, "SOA", CHILD_SOA_RDATA)])
        for _, r in self.over("sub2.example.test", "NS"):
            self.assertHeader(r, aa=True)
            self.assertSection(r, "answer", [(fq("sub2"), 3600, "NS", "ns.sub2.example.test.")])

    def test_child_zone_nxdomain_carries_child_soa(self):
        for _, r in self.over("nothere.sub2.example.test", "A"):
            self.assertHeader(r, "NXDOMAIN")
            self.assertNegative(r, "NXDOMAIN", soa_owner=fq("sub2"),
                                soa_rdata=CHILD_SOA_RDATA, ttl=600)

    def test_second_zone_is_served(self):
        for _, r in self.over("host.other.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [("host.other.test.", 3600, "A", "192.0.2.150")])
        for _, r in self.over("nothere.other.test", "A"):
            self.assertHeader(r, "NXDOMAIN")
            self.assertNegative(r, "NXDOMAIN", soa_owner="other.test.",
                                soa_rdata=OTHER_SOA_RDATA)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
