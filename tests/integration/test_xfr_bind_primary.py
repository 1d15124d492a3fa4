#!/usr/bin/env python3
"""anamed as a secondary of BIND (named) over TSIG: the first transfer, then a new zone file on
BIND plus a reload (SIGHUP, as `rndc reload` does) reaches anamed's answers within 2 s (NOTIFY,
SOA check, IXFR from BIND's ixfr-from-differences); the zones compare equal as sets.
"""

import os
import re
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import xfrtest  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main, pick_free_port  # noqa: E402
from peers import Bind, Key, PrimaryZone  # noqa: E402

ZONE = "bindsec.test"
SERIAL = 2026120501
ZONE_TEXT = """$ORIGIN bindsec.test.
$TTL 300
@        SOA  ns1 hostmaster %d 3600 600 1209600 300
@        NS   ns1
ns1      A    192.0.2.1
www      A    192.0.2.10
www      AAAA 2001:db8::10
mail     MX   10 mx.bindsec.test.
mx       A    192.0.2.25
txt      TXT  "hello world"
%s
"""


class SecondaryOfBind(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.key = Key.random("bind-xfr")
        self.bind_port = pick_free_port(ipv6=False)
        self.bind = Bind(self.dir, self.bind_port,
                         zones=[PrimaryZone(ZONE, self.write("primary.zone", ZONE_TEXT % (SERIAL, "")),
                                            secondaries=[("127.0.0.1", self.port)], key=self.key)])
        self.addCleanup(self.bind.stop)
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
keys:
  - {name: %s, algorithm: %s, secret: "%s"}
remotes:
  - {name: bind, address: "127.0.0.1:%d", key: %s}
zones:
  - name: %s
    primary: [bind]
    allow-transfer: [bind]    # the test's AXFR comes from BIND's address with its key
""" % (self.port, self.key.name, self.key.algorithm, self.key.secret, self.bind_port, self.key.name, ZONE))
        self.server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()

    def test_a_reload_on_bind_is_served_within_2s(self):
        self.assertTrue(xfrtest.wait_serial(self.port, ZONE, SERIAL, 10), self.server.log()[-3000:])
        self.assertEqual(xfrtest.axfr(ZONE, self.port, self.key), xfrtest.axfr(ZONE, self.bind_port, self.key))
        for i in range(1, 4):
            extra = "\n".join("new%d A 198.51.100.%d" % (j, j) for j in range(1, i + 1))
            with open(os.path.join(self.bind.dir, ZONE + ".zone"), "w") as f:
                f.write(ZONE_TEXT % (SERIAL + i, extra))
            t0 = time.monotonic()
            self.bind.proc.send_signal(signal.SIGHUP)
            self.assertTrue(xfrtest.wait_serial(self.port, ZONE, SERIAL + i, 2.0),
                            self.server.log()[-3000:] + self.bind.log()[-3000:])
            self.assertLess(time.monotonic() - t0, 2.0)
            self.assertEqual(xfrtest.addresses(self.port, "new%d.%s" % (i, ZONE)), ["198.51.100.%d" % i])
        log = self.server.log()
        self.assertEqual(len(re.findall(r"by AXFR", log)), 1, log[-3000:])
        self.assertGreaterEqual(len(re.findall(r"by IXFR", log)), 3, log[-3000:])
        self.assertEqual(xfrtest.axfr(ZONE, self.port, self.key), xfrtest.axfr(ZONE, self.bind_port, self.key))


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
