#!/usr/bin/env python3
"""ALIAS flattening against a real Knot DNS upstream (python3 stdlib only).

knotd runs in a temp dir with its own config on a free port, serving
offsite.example; anamed resolves its ALIAS targets there and is queried with
dig: ALIAS beside MX and TXT, TTLs, upstream CNAME chains, in-zone CNAMEs to
ALIAS names, wildcards, the apex, the ALIAS type itself, ANAME and generic
syntax, and an address change published after a refresh.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import re
import signal
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import run_dig  # noqa: E402
from anamedtest import main, pick_free_port  # noqa: E402
from aliastest import AliasTest, alias_rdata_hex, find_tool, rrs, wait_until  # noqa: E402


# ==========================================================================
# Knot DNS as the upstream
# ==========================================================================

KNOT_ZONE = """$ORIGIN offsite.example.
$TTL 2
@       60  SOA   ns hostmaster {serial} 60 60 600 2
@       60  NS    ns
ns      60  A     127.0.0.1
lb      3   A     203.0.113.10
lb      3   A     203.0.113.11
lb      3   AAAA  2001:db8::10
chain   1   CNAME lb
chain2  2   CNAME chain
hop     2   CNAME lb
stable  300 A     203.0.113.20
stable  300 AAAA  2001:db8::20
moving  2   A     {moving_a}
moving  2   AAAA  {moving_aaaa}
"""

SERVED = "mywebservice.test."
SERVED_ZONE = """$ORIGIN mywebservice.test.
$TTL 300
@            SOA   ns1 hostmaster 2026112601 7200 3600 1209600 300
@            NS    ns1
@        300 ALIAS lb.offsite.example.
@            MX    10 mail
ns1          A     192.0.2.1
mail     600 A     192.0.2.25
customer 300 ALIAS lb.offsite.example.
customer     MX    10 mail.mywebservice.test.
customer     TXT   "v=spf1 mx -all"
short      1 ALIAS lb.offsite.example.
short2    60 ALIAS stable.offsite.example.
viachain 300 ALIAS chain2.offsite.example.
viahop   300 ALIAS hop.offsite.example.
*.customers 300 ALIAS lb.offsite.example.
moving   300 ANAME moving.offsite.example.
generic  300 TYPE65401 lb.offsite.example.
www          CNAME customer
"""
LB_A = ["203.0.113.10", "203.0.113.11"]
LB_AAAA = ["2001:db8::10"]


def fqs(rel):
    return SERVED if rel == "@" else rel + "." + SERVED


class TestAliasWithKnot(AliasTest):
    knot = None

    @classmethod
    def start_servers(cls):
        cls.knotd = find_tool("KNOTD", "knotd")
        cls.knotc = find_tool("KNOTC", "knotc")
        if not cls.knotd or not cls.knotc:
            raise unittest.SkipTest("knotd/knotc not installed (tools/install-deps.sh installs knot)")
        kdir = os.path.join(cls.tmp, "knot")
        os.makedirs(os.path.join(kdir, "db"))
        cls.knot_port = pick_free_port(ipv6=False)
        cls.knot_zone = os.path.join(kdir, "offsite.example.zone")
        cls.write_knot_zone(1, "203.0.113.40", "2001:db8::40")
        cls.knot_conf = os.path.join(kdir, "knot.conf")
        with open(cls.knot_conf, "w") as f:
            f.write("""server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{d}/db"
control:
    listen: "{d}/knot.sock"
template:
  - id: default
    storage: "{d}"
    journal-content: none
zone:
  - domain: offsite.example
    file: "{zone}"
""".format(d=kdir, port=cls.knot_port, zone=cls.knot_zone))
        cls.knot = cls.spawn("knotd", [cls.knotd, "-c", cls.knot_conf])

        def knot_ready():
            if cls.knot.poll() is not None:
                raise RuntimeError("knotd exited with %s:\n%s"
                                   % (cls.knot.returncode, cls.read_log("knotd")))
            return run_dig(cls.knot_port, "offsite.example", "SOA", timeout=1)["rcode"] == "NOERROR"
        if not wait_until(knot_ready, 10, 0.1):
            raise RuntimeError("knotd did not answer within 10 s:\n" + cls.read_log("knotd"))
        cls.start_anamed([("mywebservice.test", SERVED_ZONE)], [cls.knot_port])

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.knot is not None and cls.knot.poll() is None:
                cls.knot.send_signal(signal.SIGTERM)
                try:
                    cls.knot.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass

    @classmethod
    def write_knot_zone(cls, serial, moving_a, moving_aaaa):
        tmp = cls.knot_zone + ".tmp"
        with open(tmp, "w") as f:
            f.write(KNOT_ZONE.format(serial=serial, moving_a=moving_a, moving_aaaa=moving_aaaa))
        os.replace(tmp, cls.knot_zone)

    # -- the seed's case: ALIAS beside MX and TXT ------------------------------------

    def test_alias_mx_and_txt_at_one_name_are_all_answered(self):
        self.assertAnswer(self.dig(fqs("customer"), "A"), rrs(fqs("customer"), 3, "A", LB_A))
        self.assertAnswer(self.dig(fqs("customer"), "AAAA"), rrs(fqs("customer"), 3, "AAAA", LB_AAAA))
        self.assertAnswer(self.dig(fqs("customer"), "MX"),
                          rrs(fqs("customer"), 300, "MX", ["10 mail.mywebservice.test."]))
        self.assertAnswer(self.dig(fqs("customer"), "TXT"),
                          rrs(fqs("customer"), 300, "TXT", ['"v=spf1 mx -all"']))

    def test_flattened_answer_is_authoritative_minimal_and_keeps_query_case(self):
        for tcp in (False, True):
            r = self.dig("CuStOmEr.MyWebService.TEST", "A", tcp=tcp)
            ctx = self.ctx(r)
            self.assertAnswer(r, rrs(fqs("customer"), 3, "A", LB_A))
            self.assertEqual({n for (n, _, _, _) in r["answer"]}, {"CuStOmEr.MyWebService.TEST."}, ctx)
            self.assertNotIn("ra", r["flags"], ctx)
            self.assertEqual(r["authority"], [], ctx)

    # -- TTL ----------------------------------------------------------------------------

    def test_ttl_is_the_chain_ttl_when_it_is_smaller(self):
        # ALIAS 300, lb 3 -> 3
        self.assertAnswer(self.dig(fqs("customer"), "A"), rrs(fqs("customer"), 3, "A", LB_A))

    def test_ttl_is_the_alias_ttl_when_it_is_smaller(self):
        # ALIAS 1, lb 3 -> 1; ALIAS 60, stable 300 -> 60
        self.assertAnswer(self.dig(fqs("short"), "A"), rrs(fqs("short"), 1, "A", LB_A))
        self.assertAnswer(self.dig(fqs("short"), "AAAA"), rrs(fqs("short"), 1, "AAAA", LB_AAAA))
        self.assertAnswer(self.dig(fqs("short2"), "A"), rrs(fqs("short2"), 60, "A", ["203.0.113.20"]))
        self.assertAnswer(self.dig(fqs("short2"), "AAAA"), rrs(fqs("short2"), 60, "AAAA", ["2001:db8::20"]))

    # -- CNAME chains at the upstream ------------------------------------------------------

    def test_upstream_cname_chain_is_followed_with_the_minimum_ttl_along_it(self):
        # chain2 (2) -> chain (1) -> lb (3): the middle link's 1 wins
        self.assertAnswer(self.dig(fqs("viachain"), "A"), rrs(fqs("viachain"), 1, "A", LB_A))
        self.assertAnswer(self.dig(fqs("viachain"), "AAAA"), rrs(fqs("viachain"), 1, "AAAA", LB_AAAA))
        # hop (2) -> lb (3): the first link's 2 wins
        self.assertAnswer(self.dig(fqs("viahop"), "A"), rrs(fqs("viahop"), 2, "A", LB_A))

    def test_in_zone_cname_to_an_alias_name_is_followed(self):
        r = self.dig(fqs("www"), "A")
        self.assertAnswer(r, [(fqs("www"), 300, "CNAME", fqs("customer"))] +
                          rrs(fqs("customer"), 3, "A", LB_A))

    # -- wildcard and apex ------------------------------------------------------------------

    def test_wildcard_alias_answers_with_the_query_name_as_owner(self):
        for q in ("acme.customers.mywebservice.test.", "x.y.customers.mywebservice.test."):
            self.assertAnswer(self.dig(q, "A"), rrs(q, 3, "A", LB_A))
            self.assertAnswer(self.dig(q, "AAAA"), rrs(q, 3, "AAAA", LB_AAAA))
        r = self.dig("acme.customers.mywebservice.test.", "MX")
        self.assertNodata(r, SERVED, 300)

    def test_apex_alias_beside_soa_ns_and_mx(self):
        self.assertAnswer(self.dig(SERVED, "A"), rrs(SERVED, 3, "A", LB_A))
        self.assertAnswer(self.dig(SERVED, "AAAA"), rrs(SERVED, 3, "AAAA", LB_AAAA))
        self.assertAnswer(self.dig(SERVED, "MX"), rrs(SERVED, 300, "MX", ["10 mail.mywebservice.test."]))
        self.assertAnswer(self.dig(SERVED, "NS"), rrs(SERVED, 300, "NS", ["ns1.mywebservice.test."]))
        r = self.dig(SERVED, "SOA")
        self.assertAnswer(r, rrs(SERVED, 300, "SOA", [
            "ns1.mywebservice.test. hostmaster.mywebservice.test. 2026112601 7200 3600 1209600 300"]))

    # -- the ALIAS record itself -------------------------------------------------------------

    def test_alias_type_query_returns_the_alias_record(self):
        for rel, target in (("customer", "lb.offsite.example."), ("@", "lb.offsite.example."),
                            ("moving", "moving.offsite.example."), ("generic", "lb.offsite.example.")):
            r = self.dig(fqs(rel), "TYPE65401")
            ctx = self.ctx(r)
            self.assertEqual(r["rcode"], "NOERROR", ctx)
            self.assertIn("aa", r["flags"], ctx)
            got = [(n.lower(), t, ty, re.sub(r"\s+", "", rd)) for (n, t, ty, rd) in r["answer"]]
            want = alias_rdata_hex(target)
            self.assertEqual(got, [(fqs(rel), 300, "TYPE65401", re.sub(r"\s+", "", want))], ctx)

    def test_generic_type65401_and_aname_syntax_are_flattened(self):
        self.assertAnswer(self.dig(fqs("generic"), "A"), rrs(fqs("generic"), 3, "A", LB_A))
        self.assertAnswer(self.dig(fqs("moving"), "TYPE65401"),
                          [(fqs("moving"), 300, "TYPE65401", alias_rdata_hex("moving.offsite.example."))])

    # -- an address change upstream ----------------------------------------------------------

    def test_upstream_address_change_is_published_after_refresh(self):
        self.assertAnswer(self.dig(fqs("moving"), "A"), rrs(fqs("moving"), 2, "A", ["203.0.113.40"]))
        since = len(self.read_log())
        self.write_knot_zone(2, "203.0.113.41", "2001:db8::41")
        p = subprocess.run([self.knotc, "-c", self.knot_conf, "zone-reload", "offsite.example"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stdout)
        ok = wait_until(lambda: run_dig(self.knot_port, "moving.offsite.example", "A")["answer"][:1] ==
                        [("moving.offsite.example.", 2, "A", "203.0.113.41")], 5, 0.1)
        self.assertTrue(ok, "knotd did not load the new zone:\n" + self.read_log("knotd")[-2000:])
        self.poll_answer(fqs("moving"), "A", ["203.0.113.41"], 10)
        self.poll_answer(fqs("moving"), "AAAA", ["2001:db8::41"], 10)
        self.wait_log(r"ALIAS target moving\.offsite\.example\. -> 203\.0\.113\.41", 2, since)
        self.wait_log(r"published \d+ ALIAS change\(s\) in \d+ us", 2, since)
        # other names are unaffected
        self.assertAnswer(self.dig(fqs("customer"), "A"), rrs(fqs("customer"), 3, "A", LB_A))


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
