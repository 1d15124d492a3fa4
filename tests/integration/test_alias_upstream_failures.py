#!/usr/bin/env python3
"""ALIAS flattening when the upstream misbehaves (python3 stdlib only).

fake_upstream.py (next to this file) is a scriptable responder that can
time out, SERVFAIL, NXDOMAIN, loop, send over-long chains, truncate, and send
spoofed replies (wrong ID / question / case / source port); it counts the
queries it receives per (name, type).
Covered: NODATA and NXDOMAIN targets, targets inside the served zones answered
from zone data, fallback addresses, SERVFAIL, CNAME loops and over-long chains,
spoofed replies never accepted, random ID / port / case, truncation and TCP.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402
from anamedtest import main  # noqa: E402
from aliastest import AliasTest, rec, rrs, wait_until  # noqa: E402


# ==========================================================================
# fake_upstream: failures, local targets, spoofing, truncation
# ==========================================================================

SPOOF_A = "198.51.100.66"
FAKE = "fake.test."
FAKE_ZONE = """$ORIGIN fake.test.
$TTL 300
@          SOA   ns1 hostmaster 1 7200 3600 1209600 300
@          NS    ns1
ns1        A     192.0.2.1
host   120 A     192.0.2.80
host   120 AAAA  2001:db8::80
www        CNAME host
inside     ALIAS host.fake.test.
inside     MX    10 mail.example.
inside2    ALIAS www.fake.test.
cross      ALIAS srv.other.test.
ok         ALIAS ok.target.
v4only     ALIAS v4.target.
fb         ALIAS down.target.
fb     120 A     192.0.2.50
fb     120 AAAA  2001:db8::50
nofb       ALIAS down.target.
nofb       MX    10 mail.example.
sf         ALIAS sf.target.
nx         ALIAS gone.target.
nx         MX    10 mail.example.
loop       ALIAS loop.target.
loop       A     192.0.2.51
chain      ALIAS chain12.target.
chain      MX    10 mail.example.
spoof-id   ALIAS id.spoof.target.
spoof-id   A     192.0.2.61
spoof-q    ALIAS q.spoof.target.
spoof-q    A     192.0.2.62
spoof-case ALIAS case.spoof.target.
spoof-case A     192.0.2.63
spoof-port ALIAS port.spoof.target.
spoof-port A     192.0.2.64
tc         ALIAS tc.target.
big        ALIAS big.target.
"""
OTHER_ZONE = """$ORIGIN other.test.
$TTL 300
@    SOA ns1.fake.test. hostmaster 1 7200 3600 1209600 300
@    NS  ns1.fake.test.
srv  60 A 192.0.2.90
"""
BIG_A = ["10.1.%d.%d" % (i // 100, i % 100 + 1) for i in range(100)]


FAKE_RECORDS = {
    "ok.target.": rec(["203.0.113.1"], ["2001:db8::1"], 60),
    # A TTL below the negative TTL (30) of the missing AAAA: the served TTL is 20 whether
    # the AAAA NODATA's TTL caps the A answer or not
    "v4.target.": rec(["203.0.113.4"], [], 20),
    "down.target.": rec(["203.0.113.2"], ["2001:db8::2"], 60, "timeout"),
    "sf.target.": rec(["203.0.113.3"], [], 60, "servfail"),
    "gone.target.": rec(["203.0.113.5"], [], 60, "nxdomain"),
    "loop.target.": rec(["203.0.113.6"], [], 60, "loop"),
    "chain12.target.": rec(["203.0.113.7"], [], 60, "long_chain"),
    "id.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_id"),
    "q.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_question"),
    "case.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_case"),
    "port.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_port"),
    "tc.target.": rec(["203.0.113.8"], ["2001:db8::8"], 60, "truncate"),
    "big.target.": rec(BIG_A, ["2001:db8::9"], 60),
    # what a recursive resolver would say for the in-server targets; must never be asked
    "host.fake.test.": rec([SPOOF_A], [], 60),
    "www.fake.test.": rec([SPOOF_A], [], 60),
    "srv.other.test.": rec([SPOOF_A], [], 60),
}


def fz(rel):
    return rel + "." + FAKE


class TestAliasWithFakeUpstream(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", {"mode": "normal", "records": FAKE_RECORDS})
        cls.start_anamed([("fake.test", FAKE_ZONE), ("other.test", OTHER_ZONE)], [cls.fake_port])

    def count(self, name, qtype, transport="total"):
        return fake_upstream.count(self.fake_dir, name, qtype, transport)

    def test_sanity_normal_target_resolves(self):
        self.assertAnswer(self.dig(fz("ok"), "A"), rrs(fz("ok"), 60, "A", ["203.0.113.1"]))
        self.assertAnswer(self.dig(fz("ok"), "AAAA"), rrs(fz("ok"), 60, "AAAA", ["2001:db8::1"]))

    def test_upstream_nodata_gives_nodata(self):
        self.assertAnswer(self.dig(fz("v4only"), "A"), rrs(fz("v4only"), 20, "A", ["203.0.113.4"]))
        self.assertNodata(self.dig(fz("v4only"), "AAAA"), FAKE, 300)

    # -- targets inside the served zones -------------------------------------------------

    def test_target_in_own_zone_is_answered_from_zone_data_without_upstream_query(self):
        self.assertAnswer(self.dig(fz("inside"), "A"), rrs(fz("inside"), 120, "A", ["192.0.2.80"]))
        self.assertAnswer(self.dig(fz("inside"), "AAAA"), rrs(fz("inside"), 120, "AAAA", ["2001:db8::80"]))
        self.assertAnswer(self.dig(fz("inside"), "MX"), rrs(fz("inside"), 300, "MX", ["10 mail.example."]))
        # through an in-zone CNAME: min(CNAME 300, host 120)
        self.assertAnswer(self.dig(fz("inside2"), "A"), rrs(fz("inside2"), 120, "A", ["192.0.2.80"]))
        # in another served zone
        self.assertAnswer(self.dig(fz("cross"), "A"), rrs(fz("cross"), 60, "A", ["192.0.2.90"]))
        time.sleep(1.5)  # a refresh cycle of the upstream targets went by
        asked = {k: v for k, v in fake_upstream.read_counts(self.fake_dir)["total"].items()
                 if k.endswith((".fake.test. A", ".fake.test. AAAA", ".other.test. A",
                                ".other.test. AAAA"))}
        self.assertEqual(asked, {}, "in-server targets were sent upstream")
        self.assertIn("ALIAS target host.fake.test. is served here", self.read_log())

    # -- never resolved: fallback or SERVFAIL ------------------------------------------------

    def test_never_resolved_serves_the_fallback_addresses(self):
        self.assertAnswer(self.dig(fz("fb"), "A"), rrs(fz("fb"), 120, "A", ["192.0.2.50"]))
        self.assertAnswer(self.dig(fz("fb"), "AAAA"), rrs(fz("fb"), 120, "AAAA", ["2001:db8::50"]))
        self.assertGreaterEqual(self.count("down.target.", "A"), 1)
        self.assertRegex(self.read_log(), r"down\.target\.: lookup failed \(timeout from 127\.0\.0\.1:%d\)"
                         % self.fake_port)

    def test_never_resolved_without_fallback_is_servfail_for_addresses_only(self):
        self.assertServfail(self.dig(fz("nofb"), "A"))
        self.assertServfail(self.dig(fz("nofb"), "AAAA"))
        self.assertAnswer(self.dig(fz("nofb"), "MX"), rrs(fz("nofb"), 300, "MX", ["10 mail.example."]))

    def test_upstream_servfail_is_a_failure(self):
        self.assertServfail(self.dig(fz("sf"), "A"))
        self.assertRegex(self.read_log(), r"sf\.target\.: lookup failed \(upstream answered SERVFAIL\)")

    def test_nxdomain_target_gives_nodata(self):
        for t in ("A", "AAAA"):
            self.assertNodata(self.dig(fz("nx"), t), FAKE, 300)
        self.assertAnswer(self.dig(fz("nx"), "MX"), rrs(fz("nx"), 300, "MX", ["10 mail.example."]))
        self.assertIn("gone.target. does not exist (NXDOMAIN)", self.read_log())

    def test_cname_loop_is_a_failure_and_the_fallback_serves(self):
        self.assertAnswer(self.dig(fz("loop"), "A"), rrs(fz("loop"), 300, "A", ["192.0.2.51"]))
        self.assertGreaterEqual(self.count("loop.target.", "A"), 1)
        self.assertRegex(self.read_log(), r"loop\.target\.: lookup failed \(CNAME/DNAME loop")

    def test_over_long_cname_chain_is_a_failure(self):
        self.assertServfail(self.dig(fz("chain"), "A"))
        self.assertAnswer(self.dig(fz("chain"), "MX"), rrs(fz("chain"), 300, "MX", ["10 mail.example."]))
        self.assertRegex(self.read_log(), r"chain12\.target\.: lookup failed \(CNAME/DNAME chain longer")

    # -- spoofing --------------------------------------------------------------------------

    def test_spoofed_replies_are_never_accepted(self):
        cases = (("spoof-id", "id.spoof.target.", "192.0.2.61"),
                 ("spoof-q", "q.spoof.target.", "192.0.2.62"),
                 ("spoof-case", "case.spoof.target.", "192.0.2.63"),
                 ("spoof-port", "port.spoof.target.", "192.0.2.64"))
        # at least one retry (backoff 1 s) has come and gone for each
        ok = wait_until(lambda: all(self.count(t, "A") >= 2 and self.count(t, "AAAA") >= 2
                                    for _, t, _ in cases), 6, 0.1)
        self.assertTrue(ok, "the spoofed targets were not retried: %s"
                        % fake_upstream.read_counts(self.fake_dir)["total"])
        log = self.read_log()
        for rel, target, fallback in cases:
            with self.subTest(mode=rel):
                self.assertAnswer(self.dig(fz(rel), "A"), rrs(fz(rel), 300, "A", [fallback]))
                self.assertRegex(log, r"%s: lookup failed \(timeout from 127\.0\.0\.1:%d\)"
                                 % (re.escape(target), self.fake_port))
                self.assertNotRegex(log, r"ALIAS target %s ->" % re.escape(target))
        self.assertNotIn(SPOOF_A, log)

    def test_upstream_queries_use_random_id_port_and_case(self):
        wait_until(lambda: self.count("down.target.", "A") >= 3, 6, 0.1)
        recent = [q for q in fake_upstream.read_counts(self.fake_dir)["recent"] if q["transport"] == "udp"]
        self.assertGreaterEqual(len(recent), 10, recent)
        ids = {q["id"] for q in recent}
        ports = {q["sport"] for q in recent}
        self.assertGreaterEqual(len(ids), len(recent) * 0.8, "IDs repeat: %s" % recent)
        self.assertGreaterEqual(len(ports), len(recent) * 0.8, "source ports repeat: %s" % recent)
        down = [q["qname"] for q in recent if q["qname"].lower() == "down.target."]
        self.assertGreaterEqual(len(down), 3, recent)
        self.assertGreater(len(set(down)), 1, "no 0x20 case randomisation: %s" % down)
        self.assertTrue(any(n != n.lower() for n in down), down)
        # A and AAAA of one lookup come from two different sockets at the same moment
        a_aaaa = [q for q in recent if q["qname"].lower() == "ok.target."]
        if len(a_aaaa) >= 2:
            self.assertNotEqual(a_aaaa[0]["sport"], a_aaaa[1]["sport"])

    # -- truncation: TCP retry -------------------------------------------------------------

    def test_truncated_reply_is_retried_over_tcp(self):
        self.assertAnswer(self.dig(fz("tc"), "A"), rrs(fz("tc"), 60, "A", ["203.0.113.8"]))
        self.assertAnswer(self.dig(fz("tc"), "AAAA"), rrs(fz("tc"), 60, "AAAA", ["2001:db8::8"]))
        self.assertGreaterEqual(self.count("tc.target.", "A", "udp"), 1)
        self.assertGreaterEqual(self.count("tc.target.", "A", "tcp"), 1)
        self.assertGreaterEqual(self.count("tc.target.", "AAAA", "tcp"), 1)

    def test_answer_too_big_for_udp_is_fetched_over_tcp_in_full(self):
        r = self.dig(fz("big"), "A", tcp=True)
        self.assertAnswer(r, rrs(fz("big"), 60, "A", BIG_A))
        self.assertGreaterEqual(self.count("big.target.", "A", "tcp"), 1)
        # AAAA fitted in UDP: no TCP needed
        self.assertAnswer(self.dig(fz("big"), "AAAA"), rrs(fz("big"), 60, "AAAA", ["2001:db8::9"]))
        self.assertEqual(self.count("big.target.", "AAAA", "tcp"), 0)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
