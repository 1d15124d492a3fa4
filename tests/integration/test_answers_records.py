#!/usr/bin/env python3
"""Answers from the zone data: exact matches, additional-section addresses,
TTLs, TXT quoting, generic (RFC 3597) syntax, $INCLUDE, negative answers
(NODATA, NXDOMAIN, empty non-terminals), ANY, the query name's case, and
the RDATA of the common and unknown types (python3 stdlib only).

The server: answerstest.AnamedServerTest (the zones from tests/data).

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import main  # noqa: E402
from answerstest import ORIGIN, SOA_RDATA, AnamedServerTest, fq  # noqa: E402


class TestRecords(AnamedServerTest):

    # -- exact matches and additional section processing ---------------------

    def test_exact_match_is_authoritative_without_ra_or_authority(self):
        for _, r in self.over("both.example.test", "A"):
            self.assertHeader(r, "NOERROR", aa=True)
            self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])
            self.assertEqual(r["authority"], [], r["raw"])
            self.assertEqual(r["additional"], [], r["raw"])

    def test_rd_flag_is_copied_and_ra_is_never_set(self):
        for _, r in self.over("both.example.test", "A", "+rec"):
            self.assertIn("rd", r["flags"], r["raw"])
            self.assertHeader(r, "NOERROR")

    def test_soa_query_at_apex_returns_the_soa(self):
        for _, r in self.over("example.test", "SOA"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(ORIGIN, 3600, "SOA", SOA_RDATA)])
            self.assertEqual(r["authority"], [], r["raw"])

    def test_mx_at_name_answers_mx_with_target_addresses_in_additional(self):
        for _, r in self.over("both.example.test", "MX"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("both"), 3600, "MX", "20 mail.example.test.")])
            self.assertEqual(r["authority"], [], r["raw"])
            self.assertSection(r, "additional", [
                (fq("mail"), 7200, "A", "192.0.2.25"),
                (fq("mail"), 7200, "AAAA", "2001:db8::25")])

    def test_mx_at_apex_has_mail_a_and_aaaa_in_additional(self):
        for _, r in self.over("example.test", "MX"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(ORIGIN, 3600, "MX", "10 mail.example.test.")])
            self.assertSection(r, "additional", [
                (fq("mail"), 7200, "A", "192.0.2.25"),
                (fq("mail"), 7200, "AAAA", "2001:db8::25")])

    def test_srv_has_target_address_in_additional(self):
        for _, r in self.over("_sip._tcp.example.test", "SRV"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (fq("_sip._tcp"), 3600, "SRV", "10 5 5060 both.example.test.")])
            self.assertSection(r, "additional", [(fq("both"), 3600, "A", "192.0.2.10")])

    def test_ns_at_apex_has_name_server_addresses_in_additional(self):
        for _, r in self.over("example.test", "NS"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (ORIGIN, 3600, "NS", "ns1.example.test."),
                (ORIGIN, 3600, "NS", "ns2.example.test.")])
            self.assertEqual(r["authority"], [], r["raw"])
            self.assertSection(r, "additional", [
                (fq("ns1"), 3600, "A", "192.0.2.1"),
                (fq("ns1"), 3600, "AAAA", "2001:db8::1"),
                (fq("ns2"), 3600, "A", "192.0.2.2"),
                (fq("ns2"), 3600, "AAAA", "2001:db8::2")])

    def test_explicit_ttls_in_both_field_orders_are_kept(self):
        for _, r in self.over("mail.example.test", "AAAA"):
            self.assertSection(r, "answer", [(fq("mail"), 7200, "AAAA", "2001:db8::25")])
        for _, r in self.over("mail.example.test", "A"):
            self.assertSection(r, "answer", [(fq("mail"), 7200, "A", "192.0.2.25")])

    def test_txt_with_quoted_semicolon_and_escaped_quotes(self):
        for _, r in self.over("both.example.test", "TXT"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [
                (fq("both"), 3600, "TXT", r'"text; with a semicolon" "and \"quotes\""')])

    def test_mixed_case_owner_in_zone_matches_any_query_case(self):
        for qname in ("mixedcase.example.test", "MIXEDCASE.EXAMPLE.TEST"):
            for _, r in self.over(qname, "A"):
                self.assertHeader(r)
                self.assertSection(r, "answer", [(fq("mixedcase"), 3600, "A", "192.0.2.8")])

    def test_rfc3597_generic_syntax_for_known_type_is_served_as_that_type(self):
        for _, r in self.over("generic.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("generic"), 3600, "A", "192.0.2.9")])

    def test_include_file_records_are_served(self):
        for _, r in self.over("ptr.example.test", "PTR"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("ptr"), 3600, "PTR", "both.example.test.")])
        for _, r in self.over("host.inc.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("host.inc"), 3600, "A", "192.0.2.60")])

    def test_include_origin_change_does_not_leak_into_including_file(self):
        for _, r in self.over("after-include.example.test", "A"):
            self.assertHeader(r)
            self.assertSection(r, "answer", [(fq("after-include"), 3600, "A", "192.0.2.61")])
        for _, r in self.over("after-include.inc.example.test", "A"):
            self.assertNxdomain(r)

    # -- negative answers ------------------------------------------------------

    def test_nodata_has_soa_in_authority_with_negative_ttl(self):
        for qname, qtype in (("both.example.test", "AAAA"),
                             ("example.test", "A"),
                             ("both.example.test", "SRV")):
            for _, r in self.over(qname, qtype):
                self.assertNodata(r)

    def test_nxdomain_has_soa_in_authority_with_negative_ttl(self):
        for qname in ("nothere.example.test", "deep.below.both.example.test",
                      "x.ent.example.test"):
            for _, r in self.over(qname, "A"):
                self.assertNxdomain(r)

    def test_empty_non_terminals_are_nodata_not_nxdomain(self):
        for qname in ("b.ent.example.test", "ent.example.test"):
            for qtype in ("A", "TXT"):
                for _, r in self.over(qname, qtype):
                    self.assertNodata(r)
        for _, r in self.over("a.b.ent.example.test", "A"):
            self.assertSection(r, "answer", [(fq("a.b.ent"), 3600, "A", "192.0.2.30")])

    # -- ANY -----------------------------------------------------------------------

    def assertSingleRRset(self, r, owner, allowed):
        self.assertHeader(r, "NOERROR")
        self.assertTrue(r["answer"], r["raw"])
        keys = {(n.lower(), ty) for (n, _, ty, _) in r["answer"]}
        self.assertEqual(len(keys), 1, "more than one RRset:\n" + r["raw"])
        (name, rtype), = keys
        self.assertEqual(name, owner)
        self.assertIn(rtype, allowed, r["raw"])
        got = sorted(rd for (_, _, _, rd) in r["answer"])
        self.assertEqual(got, sorted(allowed[rtype]), r["raw"])

    def test_any_returns_exactly_one_rrset_of_the_node(self):
        for _, r in self.over("both.example.test", "ANY"):
            self.assertSingleRRset(r, fq("both"), {
                "A": ["192.0.2.10"], "MX": ["20 mail.example.test."],
                "TXT": [r'"text; with a semicolon" "and \"quotes\""']})

    def test_any_at_apex_returns_exactly_one_rrset(self):
        for _, r in self.over("example.test", "ANY"):
            self.assertSingleRRset(r, ORIGIN, {
                "SOA": [SOA_RDATA], "NS": ["ns1.example.test.", "ns2.example.test."],
                "MX": ["10 mail.example.test."], "TXT": ['"v=spf1 mx -all"']})

    def test_any_at_cname_returns_the_cname_without_chasing(self):
        for _, r in self.over("www.example.test", "ANY"):
            self.assertSingleRRset(r, fq("www"), {"CNAME": ["both.example.test."]})

    def test_any_at_empty_non_terminal_is_nodata(self):
        for _, r in self.over("ent.example.test", "ANY"):
            self.assertNodata(r)

    def test_any_at_missing_name_is_nxdomain(self):
        for _, r in self.over("nothere.example.test", "ANY"):
            self.assertNxdomain(r)

    # -- 0x20 ----------------------------------------------------------------------

    def test_query_name_case_is_preserved_in_question_and_answer_owner(self):
        for _, r in self.over("BoTh.ExAmPlE.TeSt", "A"):
            self.assertHeader(r)
            self.assertEqual(r["question"], [("BoTh.ExAmPlE.TeSt.", "IN", "A")], r["raw"])
            self.assertEqual(r["answer"], [("BoTh.ExAmPlE.TeSt.", 3600, "A", "192.0.2.10")],
                             r["raw"])

    # -- record types ----------------------------------------------------------------

    def test_common_and_unknown_types_rdata_matches_zone(self):
        cases = [
            ("caa", "CAA", ['0 issue "ca.example.net"',
                            '0 iodef "mailto:security@example.test"']),
            ("ptr", "PTR", ["both.example.test."]),
            ("naptr", "NAPTR", ['100 10 "S" "SIP+D2U" "" _sip._udp.example.test.',
                                '100 20 "U" "E2U+sip" "!^.*$!sip:info@example.test!" .']),
            ("svc", "HTTPS", ['1 . alpn="h2,h3" port=8443 ipv4hint=192.0.2.10 '
                              'ipv6hint=2001:db8::10']),
            ("svcb", "SVCB", ["1 both.example.test. port=8443"]),
            ("svcb-alias", "SVCB", ["0 both.example.test."]),
            ("unknown", "TYPE65300", [r"\# 4 0A000001"]),
        ]
        for rel, rtype, rdatas in cases:
            for _, r in self.over(fq(rel), rtype):
                self.assertHeader(r)
                self.assertSection(r, "answer", [(fq(rel), 3600, rtype, x) for x in rdatas])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
