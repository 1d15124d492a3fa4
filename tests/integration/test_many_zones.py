#!/usr/bin/env python3
"""Many small zones (python3 stdlib only): 2,000 zones of 10 records each load, every
zone answers, the resident memory stays proportionate (small zones come from shared
arenas and the heap, not from a 2 MiB huge page per table), and the size the log reports
for the snapshot is the memory it takes. bench/many_zones.sh runs the 100,000-zone
comparison with Knot.

Run:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_many_zones.py
The last line printed is "N passed, N failed, N skipped".
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import Anamed, AnamedTestCase, main  # noqa: E402
from dnstest import T_SOA  # noqa: E402

ZONES = 2000
# Per zone: its records, names, index and compiled answers; Knot takes about 5 KiB.
MAX_KIB_PER_ZONE = 20
BASE_KIB = 32 << 10


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class ManyZones(AnamedTestCase):

    def test_two_thousand_small_zones(self):
        zdir = os.path.join(self.dir, "z")
        os.mkdir(zdir)
        conf = ["listen: [127.0.0.1:%d]" % self.port, "workers: 1", "zones:"]
        for i in range(ZONES):
            name = "c%d.example" % i
            path = os.path.join(zdir, name)
            with open(path, "w") as f:
                f.write("$ORIGIN %s.\n$TTL 3600\n"
                        "@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ IN NS ns1\n"
                        "ns1 IN A 192.0.2.53\nwww IN A 192.0.2.%d\nwww IN AAAA 2001:db8::1\n"
                        "@ IN MX 10 mail\nmail IN A 192.0.2.2\n@ IN TXT \"v=spf1 mx -all\"\n"
                        "api IN A 192.0.2.3\ncdn IN CNAME www\n" % (name, i % 250 + 1))
            conf.append("  - {name: %s, file: %s}" % (name, path))
        cfg = self.write("anamed.yaml", "\n".join(conf) + "\n")
        srv = Anamed(["--config", cfg], self.dir, self.port)
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready(timeout=120)
        self.server = srv
        for i in (0, ZONES // 2, ZONES - 1):
            r = self.udp_query("c%d.example." % i, T_SOA, check_question=False)
            self.assertEqual((r["rcode"], len(r["answer"])), (0, 1), r)
        rss = rss_kib(srv.proc.pid)
        self.assertLess(rss, BASE_KIB + ZONES * MAX_KIB_PER_ZONE,
                        "%d KiB resident for %d zones" % (rss, ZONES))
        m = re.search(r"snapshot 1 compiled: .* (\d+) KiB", srv.log())
        self.assertIsNotNone(m, srv.log()[-2000:])
        logged = int(m.group(1))
        # The compiled answers of 2,000 zones of ten records, and no more than the process.
        self.assertGreater(logged, ZONES * 1)
        self.assertLess(logged, rss)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
