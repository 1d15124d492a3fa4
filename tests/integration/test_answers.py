#!/usr/bin/env python3
"""End-to-end answer tests for anamed (python3 stdlib only).

Starts the real server on a free port with the zones from tests/data and
queries it with dig (UDP, TCP, and IPv6 once) plus raw sockets for TCP
pipelining and malformed packets.

Environment:
  ANAMED_BIN       path of the anamed binary (required unless build/anamed,
                   build/src/anamed or build/controlplane/anamed exists)
  ANAMED_TESTDATA  directory with test.zone etc. (default: ../data next to
                   this script)
  ANAMED_TEST_VERBOSE=1  print every dig command line

Run:  ANAMED_BIN=build/anamed python3 tests/integration/test_answers.py
The last line printed is "N passed, N failed, N skipped"; the exit code is
non-zero when anything failed.
"""

import os
import random
import signal
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import (DATA, RCODES, build_query, lower_rrs, parse_header,  # noqa: E402
                     recv_tcp_msg, run_dig)
from anamedtest import DnsTestCase, find_binary, main, pick_free_port  # noqa: E402

ORIGIN = "example.test."
NEG_TTL = 300            # min(SOA TTL 3600, SOA minimum 300)
SOA_RDATA = ("ns1.example.test. hostmaster.example.test. "
             "2026112601 7200 3600 1209600 300")
CHILD_SOA_RDATA = ("ns.sub2.example.test. hostmaster.sub2.example.test. "
                   "2026112602 7200 3600 1209600 600")
OTHER_SOA_RDATA = ("ns1.example.test. hostmaster.other.test. "
                   "2026112601 7200 3600 1209600 300")
DNAME_TARGET = "a-much-longer-target-name-for-the-dname-test.example.test."
BIG_TXT = ['"big-txt-record-%02d-abcdefghijklmnopqrstuvwxyz-0123456789-ABCD"' % i
           for i in range(1, 41)]
DS_RDATA = ("12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D9BD6A2F0FB5EFB4"
            "D7F05B31")


def fq(rel):
    """'www' -> 'www.example.test.'; '@' -> 'example.test.'"""
    return ORIGIN if rel == "@" else rel + "." + ORIGIN


def norm_ds(rdata):
    """dig splits long DS digests into groups: join them, upper-case."""
    parts = rdata.split()
    return " ".join(parts[:3] + ["".join(parts[3:]).upper()])


class AnamedServerTest(DnsTestCase):
    """Base class: one anamed process for the whole class."""

    proc = None
    port = None
    log = None

    @classmethod
    def setUpClass(cls):
        binary = find_binary()
        cls.port = pick_free_port()
        cls.log = tempfile.TemporaryFile(mode="w+b")
        cls.cmd = [binary,
                   "--zone", "example.test=" + os.path.join(DATA, "test.zone"),
                   "--zone", "other.test=" + os.path.join(DATA, "second.zone"),
                   "--zone", "sub2.example.test=" + os.path.join(DATA, "child.zone"),
                   "--listen", "127.0.0.1:%d" % cls.port,
                   "--listen", "[::1]:%d" % cls.port]
        cls.proc = subprocess.Popen(cls.cmd, stdout=cls.log,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        pending = [("127.0.0.1", False), ("127.0.0.1", True), ("::1", False),
                   ("::1", True)]
        while pending:
            if cls.proc.poll() is not None:
                raise RuntimeError("anamed exited with %s during startup:\n%s"
                                   % (cls.proc.returncode, cls.server_log()))
            if time.monotonic() > deadline:
                cls._kill()
                raise RuntimeError("anamed did not answer %s within 10 s:\n%s"
                                   % (pending, cls.server_log()))
            server, tcp = pending[0]
            if run_dig(cls.port, "example.test", "SOA", host=server, tcp=tcp,
                       timeout=1)["rcode"] == "NOERROR":
                pending.pop(0)
            else:
                time.sleep(0.1)

    @classmethod
    def _kill(cls):
        if cls.proc and cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait()

    @classmethod
    def server_log(cls):
        if cls.log is None:
            return ""
        cls.log.flush()
        cls.log.seek(0)
        data = cls.log.read().decode("utf-8", "replace")
        return data[-4000:]

    @classmethod
    def tearDownClass(cls):
        if cls.proc is None:
            return
        try:
            if cls.proc.poll() is not None:
                raise AssertionError("anamed died during the tests (exit %s):\n%s"
                                     % (cls.proc.returncode, cls.server_log()))
            cls.proc.send_signal(signal.SIGTERM)
            try:
                rc = cls.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                cls._kill()
                raise AssertionError("anamed did not exit within 5 s of SIGTERM")
            if rc != 0:
                raise AssertionError("anamed exited with %d after SIGTERM:\n%s"
                                     % (rc, cls.server_log()))
        finally:
            cls._kill()
            cls.log.close()

    # -- querying ----------------------------------------------------------

    def dig(self, name, qtype="A", *opts, tcp=False, v6=False):
        return super().dig(name, qtype, *opts, host="::1" if v6 else "127.0.0.1", tcp=tcp)

    def over(self, name, qtype="A", *opts, transports=("udp", "tcp")):
        """Yield (transport, parsed reply) for each transport.

        (No subTest here: an assertion in the caller's loop body would not
        run inside a subTest opened by this generator.  Every failure
        message carries dig's output, whose first line shows the command
        line, including +tcp.)"""
        for t in transports:
            yield t, self.dig(name, qtype, *opts, tcp=(t == "tcp"))

    # -- assertions ----------------------------------------------------------

    def assertHeader(self, r, rcode="NOERROR", aa=True, tc=False):
        ctx = r.get("cmd", "") + "\n" + r["raw"]
        self.assertEqual(r["rcode"], rcode, ctx)
        self.assertIn("qr", r["flags"], ctx)
        if aa:
            self.assertIn("aa", r["flags"], ctx)
        else:
            self.assertNotIn("aa", r["flags"], ctx)
        self.assertNotIn("ra", r["flags"], ctx)
        if tc:
            self.assertIn("tc", r["flags"], ctx)
        else:
            self.assertNotIn("tc", r["flags"], ctx)

    def assertSection(self, r, section, expected, ordered=False):
        got = lower_rrs(r[section])
        exp = [(n.lower(), t, ty, rd) for (n, t, ty, rd) in expected]
        ctx = r.get("cmd", "") + "\n" + r["raw"]
        if ordered:
            self.assertEqual(got, exp, ctx)
        else:
            self.assertEqual(sorted(got), sorted(exp), ctx)

    def assertNegative(self, r, rcode, soa_owner=ORIGIN, soa_rdata=SOA_RDATA,
                       ttl=NEG_TTL):
        """NXDOMAIN / NODATA: SOA (and only the SOA) in authority."""
        self.assertSection(r, "authority", [(soa_owner, ttl, "SOA", soa_rdata)])
        self.assertEqual(r["rcode"], rcode, r["raw"])

    def assertNodata(self, r):
        self.assertHeader(r, "NOERROR")
        self.assertEqual(r["answer"], [], r["raw"])
        self.assertNegative(r, "NOERROR")

    def assertNxdomain(self, r):
        self.assertHeader(r, "NXDOMAIN")
        self.assertEqual(r["answer"], [], r["raw"])
        self.assertNegative(r, "NXDOMAIN")

    def assertReferral(self, r):
        """Referral to sub.example.test.: not authoritative, NS in authority,
        in-bailiwick glue in additional, nothing for ns.other.test."""
        self.assertHeader(r, "NOERROR", aa=False)
        self.assertEqual(r["answer"], [], r["raw"])
        self.assertSection(r, "authority", [
            (fq("sub"), 3600, "NS", "ns.sub.example.test."),
            (fq("sub"), 3600, "NS", "ns.other.test.")])
        self.assertSection(r, "additional", [
            (fq("ns.sub"), 3600, "A", "192.0.2.53"),
            (fq("ns.sub"), 3600, "AAAA", "2001:db8::53")])
        self.assertNotIn("192.0.2.99", r["raw"])


class TestAnswers(AnamedServerTest):

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

    # -- 0x20 ----------------------------------------------------------------------

    def test_query_name_case_is_preserved_in_question_and_answer_owner(self):
        for _, r in self.over("BoTh.ExAmPlE.TeSt", "A"):
            self.assertHeader(r)
            self.assertEqual(r["question"], [("BoTh.ExAmPlE.TeSt.", "IN", "A")], r["raw"])
            self.assertEqual(r["answer"], [("BoTh.ExAmPlE.TeSt.", 3600, "A", "192.0.2.10")],
                             r["raw"])

    # -- EDNS ----------------------------------------------------------------------

    def test_edns_reply_has_opt_with_udp_1232(self):
        for _, r in self.over("both.example.test", "A"):
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertEqual(r["edns"]["version"], 0)
            self.assertEqual(r["edns"]["udp"], 1232)
            self.assertNotIn("do", r["edns"]["flags"])

    def test_edns_do_flag_is_echoed(self):
        for _, r in self.over("both.example.test", "A", "+dnssec"):
            self.assertHeader(r)
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertIn("do", r["edns"]["flags"], r["raw"])

    def test_edns_version_1_gets_badvers(self):
        for _, r in self.over("both.example.test", "A", "+edns=1", "+noednsnegotiation"):
            self.assertEqual(r["rcode"], "BADVERS", r["raw"])
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertEqual(r["edns"]["version"], 0, r["raw"])
            self.assertEqual(r["answer"], [], r["raw"])

    def test_query_without_edns_gets_no_opt(self):
        for _, r in self.over("both.example.test", "A", "+noedns"):
            self.assertHeader(r)
            self.assertIsNone(r["edns"], r["raw"])
            self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    def test_unknown_edns_option_is_ignored(self):
        for _, r in self.over("both.example.test", "A", "+ednsopt=65000:abcd"):
            self.assertHeader(r)
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    # -- truncation ----------------------------------------------------------------

    def test_big_answer_over_udp_with_edns_1232_is_truncated(self):
        r = self.dig("big.example.test", "TXT", "+ignore", "+bufsize=1232")
        self.assertHeader(r, "NOERROR", tc=True)
        self.assertLessEqual(r["size"], 1232, r["raw"])

    def test_big_answer_over_udp_without_edns_is_truncated(self):
        r = self.dig("big.example.test", "TXT", "+ignore", "+noedns")
        self.assertHeader(r, "NOERROR", tc=True)
        self.assertLessEqual(r["size"], 512, r["raw"])

    def test_big_answer_over_tcp_is_complete(self):
        r = self.dig("big.example.test", "TXT", tcp=True)
        self.assertHeader(r, "NOERROR", tc=False)
        self.assertSection(r, "answer", [(fq("big"), 3600, "TXT", t) for t in BIG_TXT])
        self.assertGreater(r["size"], 1232)

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

    # -- IPv6 ------------------------------------------------------------------------

    def test_ipv6_listener_answers_over_udp_and_tcp(self):
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                r = self.dig("both.example.test", "A", tcp=tcp, v6=True)
                self.assertHeader(r)
                self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    # -- TCP with raw sockets --------------------------------------------------------

    def test_tcp_pipelined_queries_all_get_replies(self):
        names = ["both.example.test", "ns1.example.test", "www.example.test"]
        ids = [0x1111, 0x2222, 0x3333]
        wire = b"".join(struct.pack("!H", len(q)) + q for q in
                        (build_query(i, n) for i, n in zip(ids, names)))
        with self.tcp_connect() as s:
            s.sendall(wire)
            replies = [parse_header(recv_tcp_msg(s)) for _ in names]
        self.assertEqual(sorted(h["id"] for h in replies), ids)
        for h in replies:
            self.assertTrue(h["qr"])
            self.assertTrue(h["aa"])
            self.assertEqual(h["rcode"], 0)
            self.assertGreaterEqual(h["an"], 1)

    def test_tcp_connection_is_reused_for_sequential_queries(self):
        with self.tcp_connect() as s:
            for qid in (0x0101, 0x0202):
                q = build_query(qid, "both.example.test")
                s.sendall(struct.pack("!H", len(q)) + q)
                h = parse_header(recv_tcp_msg(s))
                self.assertEqual((h["id"], h["rcode"], h["an"]), (qid, 0, 1))

    def test_tcp_query_split_across_segments_is_answered(self):
        q = build_query(0x4242, "both.example.test")
        msg = struct.pack("!H", len(q)) + q
        with self.tcp_connect() as s:
            s.sendall(msg[:1])
            time.sleep(0.05)
            s.sendall(msg[1:9])
            time.sleep(0.05)
            s.sendall(msg[9:])
            h = parse_header(recv_tcp_msg(s))
        self.assertEqual((h["id"], h["rcode"], h["an"]), (0x4242, 0, 1))

    # -- malformed UDP ---------------------------------------------------------------

    def assertStillAnswering(self):
        r = self.dig("both.example.test", "A")
        self.assertHeader(r)
        self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    def test_udp_packet_with_qr_set_gets_no_reply(self):
        pkt = build_query(0x5151, "both.example.test", flags=0x8000)
        self.assertIsNone(self.udp_exchange(pkt))
        self.assertStillAnswering()

    def test_udp_qdcount_2_gets_formerr(self):
        pkt = build_query(0x5252, None, qdcount=2, questions=[
            ("both.example.test", 1, 1), ("www.example.test", 1, 1)])
        reply = self.udp_exchange(pkt, timeout=2)
        self.assertIsNotNone(reply, "no reply to QDCOUNT=2")
        h = parse_header(reply)
        self.assertEqual((h["id"], h["qr"], RCODES.get(h["rcode"])), (0x5252, True, "FORMERR"))

    def test_udp_truncated_question_gets_formerr(self):
        pkt = build_query(0x5353, "both.example.test")[:12 + 9]
        reply = self.udp_exchange(pkt, timeout=2)
        self.assertIsNotNone(reply, "no reply to a truncated question")
        h = parse_header(reply)
        self.assertEqual((h["id"], h["qr"], RCODES.get(h["rcode"])), (0x5353, True, "FORMERR"))

    def test_udp_update_opcode_gets_notimp(self):
        pkt = build_query(0x5454, "example.test", qtype=6, flags=5 << 11)
        reply = self.udp_exchange(pkt, timeout=2)
        self.assertIsNotNone(reply, "no reply to an UPDATE")
        h = parse_header(reply)
        self.assertEqual((h["id"], h["qr"], h["opcode"], RCODES.get(h["rcode"])),
                         (0x5454, True, 5, "NOTIMP"))

    def test_udp_short_junk_gets_no_reply_or_formerr_and_server_survives(self):
        rng = random.Random(20261126)
        for length in (1, 6, 11):
            junk = bytes(rng.randrange(256) for _ in range(length))
            with self.subTest(junk=junk.hex()):
                reply = self.udp_exchange(junk)
                if reply is not None:
                    self.assertGreaterEqual(len(reply), 12)
                    self.assertEqual(RCODES.get(parse_header(reply)["rcode"]), "FORMERR")
        self.assertStillAnswering()


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
