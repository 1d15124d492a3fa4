#!/usr/bin/env python3
"""10,000 ALIAS names on one target: one upstream lookup per refresh
(python3 stdlib only).

fake_upstream.py (next to this file) is a scriptable responder that can
time out, SERVFAIL, NXDOMAIN, loop, send over-long chains, truncate, and send
spoofed replies (wrong ID / question / case / source port); it counts the
queries it receives per (name, type).

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402
from anamedtest import main  # noqa: E402
from aliastest import AliasTest, rec, rrs  # noqa: E402


# ==========================================================================
# 10,000 names on one target: one upstream lookup per refresh
# ==========================================================================

MANY = 10000
MANY_ZONE_HEAD = """$ORIGIN many.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
"""


class TestAliasManyNamesOneTarget(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", {"mode": "normal", "records": {
            "lb.target.": rec(["203.0.113.100", "203.0.113.101"], ["2001:db8::100"], 2)}})
        cls.fake_started = time.monotonic()
        body = "".join("c%05d ALIAS lb.target.\n" % i for i in range(MANY))
        cls.start_anamed([("many.test", MANY_ZONE_HEAD + body)], [cls.fake_port],
                         refresh_min=1, refresh_max=60)

    def test_one_upstream_lookup_per_refresh_for_10000_names(self):
        counts = lambda: fake_upstream.read_counts(self.fake_dir)["total"]  # noqa: E731
        for i in (0, 1, 4999, MANY - 1):
            name = "c%05d.many.test." % i
            self.assertAnswer(self.dig(name, "A"), rrs(name, 2, "A", ["203.0.113.100", "203.0.113.101"]))
            self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 2, "AAAA", ["2001:db8::100"]))
        t0, c0 = time.monotonic(), counts()
        time.sleep(4.2)
        t1, c1 = time.monotonic(), counts()
        elapsed = t1 - t0
        refreshes = elapsed / 1.0  # TTL 2 -> refresh every 1 s
        da = c1.get("lb.target. A", 0) - c0.get("lb.target. A", 0)
        d6 = c1.get("lb.target. AAAA", 0) - c0.get("lb.target. AAAA", 0)
        msg = "in %.1f s (~%.1f refreshes): %d A and %d AAAA queries; counts %s" % (
            elapsed, refreshes, da, d6, c1)
        self.assertLessEqual(abs(da - d6), 1, msg)
        self.assertGreaterEqual(da, int(refreshes) - 1, msg)
        self.assertLessEqual(da, int(refreshes) + 1, msg)
        # since the very start: the startup lookup plus one per second, nothing per name
        total_elapsed = time.monotonic() - self.fake_started
        self.assertLessEqual(c1.get("lb.target. A", 0), total_elapsed + 2, msg)
        self.assertEqual(set(c1), {"lb.target. A", "lb.target. AAAA"}, msg)
        # the A queries are one refresh interval apart, never a burst
        times = [q["t"] for q in fake_upstream.read_counts(self.fake_dir)["recent"]
                 if q["qname"].lower() == "lb.target." and q["type"] == "A"]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertTrue(gaps and min(gaps) >= 0.8, "A query gaps %s" % gaps)
        # every name still answers
        for i in (2, 7777, MANY - 2):
            name = "c%05d.many.test." % i
            self.assertAnswer(self.dig(name, "A"), rrs(name, 2, "A", ["203.0.113.100", "203.0.113.101"]))


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
