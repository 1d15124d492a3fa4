#!/usr/bin/env python3
"""ALIAS answers across restarts: each upstream target's last good addresses are kept in an
LMDB file beside the journal (JOURNAL-alias), read before the first publish, so that a
restarted anamed answers the ALIAS owner's A/AAAA at once while its upstream is dead; an
entry older than its TTL plus the stale limit is not used.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402
from anamedtest import main  # noqa: E402
from aliastest import AliasTest, rec, rrs  # noqa: E402

ZONE = """$ORIGIN cache.test.
$TTL 300
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
cust ALIAS lb.cache.
"""
NAME = "cust.cache.test."
# Long enough that waiting for a dead upstream at start (3 x this) would be seen.
TIMEOUT_MS = 2000


class TestAliasCacheRestart(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.control = {"mode": "normal", "records": {
            "lb.cache.": rec(["203.0.113.80", "203.0.113.81"], ["2001:db8::80"], 3)}}
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", cls.control)
        cls.journal = os.path.join(cls.tmp, "journal.mdb")

    @classmethod
    def run_anamed(cls, stale_limit):
        cls.start_anamed([("cache.test", ZONE)], [cls.fake_port], refresh_min=1, refresh_max=60,
                         stale_limit=stale_limit, query_timeout_ms=TIMEOUT_MS,
                         extra=["journal: %s" % cls.journal])

    @classmethod
    def stop_anamed(cls):
        cls.anamed.send_signal(signal.SIGTERM)
        if cls.anamed.wait(timeout=10) != 0:
            raise AssertionError("anamed exited %d:\n%s" % (cls.anamed.returncode, cls.log_tail()))
        cls.anamed = None

    def set_mode(self, mode):
        fake_upstream.write_control(self.fake_dir, dict(self.control, mode=mode))

    def addresses(self):
        return (rrs(NAME, 3, "A", ["203.0.113.80", "203.0.113.81"]),
                rrs(NAME, 3, "AAAA", ["2001:db8::80"]))

    def test_restart_with_a_dead_upstream(self):
        a, aaaa = self.addresses()
        self.set_mode("normal")
        self.run_anamed(stale_limit=3600)
        self.poll_answer(NAME, "A", ["203.0.113.80", "203.0.113.81"], 5)
        self.assertTrue(os.path.exists(self.journal + "-alias"), os.listdir(self.tmp))
        self.stop_anamed()

        # The upstream dies; the restarted anamed answers from the saved addresses at once
        # (no wait for the lookup's timeout), then keeps them as stale ones.
        self.set_mode("timeout")
        t0 = time.monotonic()
        self.run_anamed(stale_limit=3600)
        self.assertAnswer(self.dig(NAME, "A"), a)
        self.assertAnswer(self.dig(NAME, "AAAA"), aaaa)
        self.assertLess(time.monotonic() - t0, TIMEOUT_MS / 1000.0, self.log_tail())
        self.assertRegex(self.read_log(), r"lb\.cache\.: serving the addresses saved \d+ s ago")
        self.wait_log(r"lb\.cache\.: lookup failed \(timeout", 3 * TIMEOUT_MS / 1000.0 + 2)
        self.assertAnswer(self.dig(NAME, "A"), a)
        self.stop_anamed()

        # Saved longer ago than TTL (3 s) + stale limit (1 s): not used, SERVFAIL at start.
        time.sleep(4.5)
        self.run_anamed(stale_limit=1)
        self.assertNotIn("serving the addresses saved", self.read_log())
        self.assertServfail(self.dig(NAME, "A"))
        self.assertServfail(self.dig(NAME, "AAAA"))

        # The upstream back: new addresses are resolved, saved, and served after a restart.
        self.control["records"]["lb.cache."] = rec(["203.0.113.90"], [], 300)
        self.set_mode("normal")
        self.poll_answer(NAME, "A", ["203.0.113.90"], 8)
        self.stop_anamed()
        self.set_mode("timeout")
        self.run_anamed(stale_limit=3600)
        self.assertAnswer(self.dig(NAME, "A"), rrs(NAME, 300, "A", ["203.0.113.90"]))
        r = self.dig(NAME, "AAAA")
        self.assertEqual((r["rcode"], r["answer"]), ("NOERROR", []), self.ctx(r))


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
