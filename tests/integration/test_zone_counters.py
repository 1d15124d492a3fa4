#!/usr/bin/env python3
"""Per-zone query counters against the real process: known traffic to two zones gives known
counts (by RCODE) in `anamectl stats` (name=value and --json) and in /metrics (label zone,
checked with promtool); a query for no served zone is counted in no zone; a zone removed by
a reload disappears, one added starts at zero, and the kept one keeps counting.

Needs dnspython, dig and promtool (Debian: prometheus). Run:
  ANAMED_BIN=build/controlplane/anamed ANAMECTL_BIN=build/tools/anamectl \\
      python3 tests/integration/test_zone_counters.py
"""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from anamedtest import main, pick_free_port  # noqa: E402
from test_operator import OperatorTest, parse_metrics, total, zone_text  # noqa: E402


class ZoneCountersTest(OperatorTest):
    TMP_PREFIX = "anamed-zone-counters-"

    def setUp(self):
        super().setUp()
        self.mport = pick_free_port(ipv6=False)
        self.sock = os.path.join(self.dir, "ctl.sock")
        for z in ("one.test", "two.test", "three.test"):
            self.write(z + ".zone", zone_text(z))
        self.extra = ("metrics: {listen: \"127.0.0.1:%d\"}\ncontrol: {socket: %s}\n"
                      % (self.mport, self.sock))

    def scrape(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.mport, timeout=5) as r:
            return r.read().decode()

    def zones_json(self):
        p = self.ctl("-s", self.sock, "--json", "stats")
        self.assertEqual(p.returncode, 0, p.what)
        return json.loads(p.stdout)["zones"]

    def send(self, name, rdtype, rcode, tcp=False):
        self.assertEqual(self.query(name, rdtype, tcp=tcp).rcode(), rcode)

    def test_known_traffic_gives_known_counts(self):
        self.start(self.config(self.extra, zones=("one.test", "two.test")))
        before_json = self.zones_json()
        before = parse_metrics(self.scrape())
        for _ in range(3):
            self.send("www.one.test.", "A", 0)
        self.send("nothere.one.test.", "A", 3)
        self.send("www.two.test.", "TXT", 0)
        self.send("www.two.test.", "TXT", 0, tcp=True)
        self.send("www.elsewhere.test.", "A", 5)  # REFUSED: no zone of ours
        zones = self.zones_json()
        self.assertEqual(sorted(zones), ["one.test.", "two.test."])

        def dj(zone, key, rc=None):
            now = zones[zone]["rcode"][rc] if rc else zones[zone][key]
            was = before_json[zone]["rcode"][rc] if rc else before_json[zone][key]
            return now - was
        self.assertEqual(dj("one.test.", "queries"), 4)
        self.assertEqual(dj("one.test.", None, "NOERROR"), 3)
        self.assertEqual(dj("one.test.", None, "NXDOMAIN"), 1)
        self.assertEqual(dj("two.test.", "queries"), 2)
        self.assertEqual(dj("two.test.", None, "NOERROR"), 2)
        self.assertEqual(dj("two.test.", None, "SERVFAIL"), 0)

        p = self.ctl("-s", self.sock, "stats")
        self.assertEqual(p.returncode, 0, p.what)
        self.assertIn("zone.one.test.queries=%d" % zones["one.test."]["queries"],
                      p.stdout.splitlines(), p.stdout)
        self.assertIn("zone.one.test.rcode.NXDOMAIN=%d" % zones["one.test."]["rcode"]["NXDOMAIN"],
                      p.stdout.splitlines(), p.stdout)

        text = self.scrape()
        after = parse_metrics(text)

        def dm(zone, rcode):
            return (total(after, "anamed_zone_queries_total", zone=zone, rcode=rcode) -
                    total(before, "anamed_zone_queries_total", zone=zone, rcode=rcode))
        self.assertEqual(dm("one.test.", "NOERROR"), 3)
        self.assertEqual(dm("one.test.", "NXDOMAIN"), 1)
        self.assertEqual(dm("two.test.", "NOERROR"), 2)
        self.assertEqual(dm("two.test.", "other"), 0)
        self.assertEqual(total(after, "anamed_zone_queries_total", zone="elsewhere.test."), 0)
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout)
        self.assertEqual(check.stdout.strip(), "", check.stdout)

    def test_zones_removed_and_added_by_a_reload(self):
        srv = self.start(self.config(self.extra, zones=("one.test", "two.test")))
        for _ in range(2):
            self.send("www.two.test.", "A", 0)
        kept = self.zones_json()["one.test."]["queries"]
        self.config(self.extra, zones=("one.test", "three.test"))
        srv.signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while self.query("www.three.test.", "A").rcode() != 0:
            self.assertLess(time.monotonic(), deadline, srv.log())
            time.sleep(0.05)
        zones = self.zones_json()
        self.assertEqual(sorted(zones), ["one.test.", "three.test."])
        three = zones["three.test."]["queries"]
        self.assertGreaterEqual(three, 1)  # the answered polls above, nothing of two.test's
        self.send("www.one.test.", "A", 0)
        self.send("www.two.test.", "A", 5)  # removed: REFUSED, no zone
        self.send("www.three.test.", "A", 0)
        zones = self.zones_json()
        self.assertEqual(zones["one.test."]["queries"], kept + 1)
        self.assertEqual(zones["three.test."]["queries"], three + 1)
        self.assertNotIn("two.test.", zones)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
