#!/usr/bin/env python3
"""Answers the server follows or synthesizes: CNAME chains, loops and
dangling targets, wildcards (and where they must not apply), DNAME
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
from answerstest import DNAME_TARGET, AnamedServerTest, fq  # noqa: E402


class TestSynthesis(AnamedServerTest):

    # -- CNAME -----------------------------------------------------------------

    def test_cname_is_followed_to_in_zone_target(self):
        for _, r in self.over("www.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (fq("www"), 3600, "CNAME", "both.example.test."),
                (fq("both"), 3600, "A", "192.0.2.10")], ordered=True)
            self.assertEqual(r["authority"], [], r["raw"])

    def test_cname_chain_is_followed_to_the_end(self):
        for _, r in self.over("c1.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (fq("c1"), 3600, "CNAME", "c2.example.test."),
                (fq("c2"), 3600, "CNAME", "c3.example.test."),
                (fq("c3"), 3600, "CNAME", "both.example.test."),
                (fq("both"), 3600, "A", "192.0.2.10")], ordered=True)

    def test_cname_loop_stops_with_both_cnames_and_noerror(self):
        for _, r in self.over("loop1.example.test", "A"):
            self.assertHeader(r, "NOERROR")
            self.assertSection(r, "answer", [
                (fq("loop1"), 3600, "CNAME", "loop2.example.test."),
                (fq("loop2"), 3600, "CNAME", "loop1.example.test.")])

    def test_dangling_cname_gives_cname_and_nxdomain_with_soa(self):
        for _, r in self.over("dangling.example.test", "A"):
            self.assertHeader(r, "NXDOMAIN")
            self.assertSection(r, "answer", [
                (fq("dangling"), 3600, "CNAME", "nothere.example.test.")])
            self.assertNegative(r, "NXDOMAIN")

    def test_cname_to_nodata_target_gives_cname_and_soa(self):
        for _, r in self.over("www.example.test", "AAAA"):
            self.assertHeader(r, "NOERROR")
            self.assertSection(r, "answer", [
                (fq("www"), 3600, "CNAME", "both.example.test.")])
            self.assertNegative(r, "NOERROR")

    def test_out_of_zone_cname_target_is_not_chased(self):
        for _, r in self.over("ext.example.test", "A"):
            self.assertHeader(r, "NOERROR")
            self.assertSection(r, "answer", [
                (fq("ext"), 3600, "CNAME", "www.example.org.")])
            self.assertEqual(r["authority"], [], r["raw"])

    def test_cname_query_returns_only_the_cname(self):
        for _, r in self.over("www.example.test", "CNAME"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (fq("www"), 3600, "CNAME", "both.example.test.")])

    # -- wildcards ---------------------------------------------------------------

    def test_wildcard_answer_has_query_name_as_owner(self):
        for _, r in self.over("anything.wild.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("anything.wild"), 3600, "A", "192.0.2.40")])
            self.assertEqual(r["authority"], [], r["raw"])
        for _, r in self.over("anything.wild.example.test", "TXT"):
            self.assertSection(r, "answer", [(fq("anything.wild"), 3600, "TXT", '"wildcard"')])

    def test_wildcard_matches_several_labels(self):
        for _, r in self.over("deeper.name.wild.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("deeper.name.wild"), 3600, "A", "192.0.2.40")])

    def test_wildcard_without_the_type_is_nodata(self):
        for _, r in self.over("anything.wild.example.test", "MX"):
            self.assertNodata(r)

    def test_existing_name_blocks_wildcard(self):
        for _, r in self.over("host.wild.example.test", "A"):
            self.assertNodata(r)
        for _, r in self.over("host.wild.example.test", "AAAA"):
            self.assertSection(r, "answer", [(fq("host.wild"), 3600, "AAAA", "2001:db8::40")])

    def test_wildcard_does_not_apply_below_an_existing_name(self):
        # closest encloser is host.wild, and *.host.wild does not exist
        for _, r in self.over("sub.host.wild.example.test", "A"):
            self.assertNxdomain(r)

    def test_wildcard_cname_is_synthesized_and_chased(self):
        for _, r in self.over("x.wc.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (fq("x.wc"), 3600, "CNAME", "both.example.test."),
                (fq("both"), 3600, "A", "192.0.2.10")], ordered=True)

    # -- DNAME ---------------------------------------------------------------------

    def test_dname_synthesizes_cname_and_follows_it(self):
        for _, r in self.over("x.dname.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (fq("dname"), 3600, "DNAME", DNAME_TARGET),
                (fq("x.dname"), 3600, "CNAME", "x." + DNAME_TARGET),
                ("x." + DNAME_TARGET, 3600, "A", "192.0.2.77")], ordered=True)

    def test_dname_to_missing_name_gives_dname_cname_and_nxdomain(self):
        for _, r in self.over("foo.dname.example.test", "A"):
            self.assertHeader(r, "NXDOMAIN")
            self.assertSection(r, "answer", [
                (fq("dname"), 3600, "DNAME", DNAME_TARGET),
                (fq("foo.dname"), 3600, "CNAME", "foo." + DNAME_TARGET)], ordered=True)
            self.assertNegative(r, "NXDOMAIN")

    def test_dname_owner_itself_is_not_redirected(self):
        for _, r in self.over("dname.example.test", "DNAME"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("dname"), 3600, "DNAME", DNAME_TARGET)])
        for _, r in self.over("dname.example.test", "A"):
            self.assertNodata(r)

    def test_dname_substitution_longer_than_255_octets_gives_yxdomain(self):
        # 3*64 + 21 + len(wire "dname.example.test.")=20 -> 233 octets: valid.
        # After substitution: 213 + len(wire DNAME_TARGET)=59 -> 272 > 255.
        qname = ".".join(["a" * 63] * 3 + ["b" * 20]) + ".dname.example.test"
        for _, r in self.over(qname, "A"):
            self.assertEqual(r["rcode"], "YXDOMAIN", r["raw"])
            self.assertIn("qr", r["flags"])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
