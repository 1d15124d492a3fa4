#!/usr/bin/env python3
"""ALIAS targets through an upstream outage (python3 stdlib only).

fake_upstream.py (next to this file) is a scriptable responder that can
time out, SERVFAIL, NXDOMAIN, loop, send over-long chains, truncate, and send
spoofed replies (wrong ID / question / case / source port); it counts the
queries it receives per (name, type).
Covered: after a success, stale answers while the upstream fails, SERVFAIL
past the stale limit, then recovery; a second upstream answering when the
first times out.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402
from anamedtest import main  # noqa: E402
from aliastest import AliasTest, rec, rrs  # noqa: E402


# ==========================================================================
# Upstream failure after success: stale, then SERVFAIL, then recovery
# ==========================================================================

STALE_ZONE = """$ORIGIN stale.test.
$TTL 300
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
cust ALIAS lb.stale.
cust MX  10 mail.example.
cust TXT "still here"
"""


class TestAliasStaleAndRecovery(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.control = {"mode": "normal", "records": {
            "lb.stale.": rec(["203.0.113.70"], ["2001:db8::70"], 1)}}
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", cls.control)
        cls.start_anamed([("stale.test", STALE_ZONE)], [cls.fake_port],
                         refresh_min=1, refresh_max=2, stale_limit=2)

    def set_mode(self, mode):
        fake_upstream.write_control(self.fake_dir, dict(self.control, mode=mode))

    def test_stale_served_then_servfail_past_the_limit_then_recovery(self):
        name = "cust.stale.test."
        self.assertAnswer(self.dig(name, "A"), rrs(name, 1, "A", ["203.0.113.70"]))
        self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 1, "AAAA", ["2001:db8::70"]))

        # upstream stops answering: the last good addresses keep serving for TTL + 2 s
        since = len(self.read_log())
        self.set_mode("timeout")
        self.wait_log(r"lb\.stale\.: lookup failed \(timeout from 127\.0\.0\.1:%d\); serving the last good"
                      % self.fake_port, 5, since)
        self.assertAnswer(self.dig(name, "A"), rrs(name, 1, "A", ["203.0.113.70"]))
        self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 1, "AAAA", ["2001:db8::70"]))
        self.assertAnswer(self.dig(name, "MX"), rrs(name, 300, "MX", ["10 mail.example."]))

        # past the stale limit: SERVFAIL for A/AAAA only
        self.wait_log(r"lb\.stale\.: stale limit reached", 6, since)
        self.assertIn("serving stale", self.read_log()[since:])
        self.assertServfail(self.dig(name, "A"))
        self.assertServfail(self.dig(name, "AAAA"))
        self.assertAnswer(self.dig(name, "MX"), rrs(name, 300, "MX", ["10 mail.example."]))
        self.assertAnswer(self.dig(name, "TXT"), rrs(name, 300, "TXT", ['"still here"']))

        # upstream back: answers recover (backoff is capped at refresh-max-s = 2)
        since = len(self.read_log())
        self.set_mode("normal")
        self.poll_answer(name, "A", ["203.0.113.70"], 8)
        self.poll_answer(name, "AAAA", ["2001:db8::70"], 3)
        self.wait_log(r"lb\.stale\.: upstream answers again", 2, since)
        self.wait_log(r"published \d+ ALIAS change\(s\)", 2, since)


# ==========================================================================
# Two upstreams, the first one dead
# ==========================================================================

TWO_ZONE = """$ORIGIN two.test.
$TTL 300
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
svc  ALIAS lb.two.
svc  MX  10 mail.example.
"""


class TestAliasSecondUpstream(AliasTest):

    @classmethod
    def start_servers(cls):
        records = {"lb.two.": rec(["203.0.113.90"], ["2001:db8::90"], 30)}
        cls.dead_dir, cls.dead_port = cls.start_fake("dead", {"mode": "timeout", "records": records})
        cls.live_dir, cls.live_port = cls.start_fake("live", {"mode": "normal", "records": records})
        cls.start_anamed([("two.test", TWO_ZONE)], [cls.dead_port, cls.live_port])

    def test_second_upstream_answers_when_the_first_times_out(self):
        name = "svc.two.test."
        self.poll_answer(name, "A", ["203.0.113.90"], 6)
        self.assertAnswer(self.dig(name, "A"), rrs(name, 30, "A", ["203.0.113.90"]))
        self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 30, "AAAA", ["2001:db8::90"]))
        self.assertGreaterEqual(fake_upstream.count(self.dead_dir, "lb.two.", "A"), 1)
        self.assertGreaterEqual(fake_upstream.count(self.live_dir, "lb.two.", "A"), 1)
        self.assertRegex(self.read_log(), r"lb\.two\.: lookup failed \(timeout from 127\.0\.0\.1:%d\)"
                         % self.dead_port)
        self.assertRegex(self.read_log(), r"ALIAS target lb\.two\. -> 203\.0\.113\.90")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
