#!/usr/bin/env python3
"""anamed as a primary of NSD and BIND (named), each over TSIG with its own key; BIND's remote
has `alias: expand`. NSD gets the ALIAS record itself (an unknown type to it); BIND gets the
target's resolved addresses in its place. An address change of the target (the fake upstream
changes its answer) bumps the zone's serial and reaches BIND's answers within seconds, by
IXFR; NSD follows the serial. The bump is journaled: after a restart the serial only goes up.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True

import xfrtest  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main, pick_free_port  # noqa: E402
from fake_upstream import FakeUpstream  # noqa: E402
from peers import Bind, Key, Nsd, SecondaryZone  # noqa: E402

ZONE = "exp.test"
SERIAL = 2026120501
ZONE_TEXT = """$ORIGIN exp.test.
$TTL 300
@        SOA  ns1 hostmaster %d 60 10 1209600 300
@        NS   ns1
ns1      A    192.0.2.1
mail     A    192.0.2.25
customer 30   ALIAS lb.offsite.example.
customer MX   10 mail.exp.test.
""" % SERIAL
TARGET = "lb.offsite.example."
ALIAS_TYPE = 65401


def upstream_control(addresses):
    return {"mode": "normal", "records": {TARGET: {"a": list(addresses), "ttl": 1}}}


class ExpandToBindAndNsd(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.up = FakeUpstream(control=upstream_control(["203.0.113.10"]))
        self.up.start()
        self.addCleanup(self.up.stop)
        self.nsd_key, self.bind_key = Key.random("nsd-key"), Key.random("bind-key")
        self.nsd_port, self.bind_port = pick_free_port(ipv6=False), pick_free_port(ipv6=False)
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
upstreams: ["127.0.0.1:%d"]
alias: {refresh-min-s: 1, refresh-max-s: 2}
keys:
  - {name: %s, algorithm: hmac-sha256, secret: "%s"}
  - {name: %s, algorithm: hmac-sha256, secret: "%s"}
remotes:
  - {name: nsd, address: "127.0.0.1:%d", key: %s}
  - {name: bind, address: "127.0.0.1:%d", key: %s, alias: expand}
zones:
  - name: %s
    file: %s
    notify: [nsd, bind]
    allow-transfer: [nsd, bind]
""" % (self.port, self.sock, os.path.join(self.dir, "journal.mdb"), self.up.port,
       self.nsd_key.name, self.nsd_key.secret, self.bind_key.name, self.bind_key.secret,
       self.nsd_port, self.nsd_key.name, self.bind_port, self.bind_key.name,
       ZONE, self.write(ZONE + ".zone", ZONE_TEXT)))
        self.server = self.start_anamed()

    def start_anamed(self):
        server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(server.close)
        self.addCleanup(self._stop_and_check, server)
        server.wait_ready()
        return server

    def served_serial(self):
        return xfrtest.serial(self.port, ZONE)

    def test_address_change_reaches_bind_by_ixfr_and_nsd_follows(self):
        # The first answer for the target is a change expanding remotes must see: one bump.
        self.assertTrue(xfrtest.wait_serial(self.port, ZONE, SERIAL + 1, 10), self.server.log()[-3000:])
        nsd = Nsd(self.dir, self.nsd_port,
                  zones=[SecondaryZone(ZONE, ("127.0.0.1", self.port), key=self.nsd_key)])
        self.addCleanup(nsd.stop)
        bind = Bind(self.dir, self.bind_port,
                    zones=[SecondaryZone(ZONE, ("127.0.0.1", self.port), key=self.bind_key)])
        self.addCleanup(bind.stop)
        self.assertTrue(bind.wait_serial(ZONE, SERIAL + 1, timeout=15), bind.log()[-3000:])
        self.assertTrue(nsd.wait_serial(ZONE, SERIAL + 1, timeout=15), nsd.log()[-3000:])
        customer = "customer." + ZONE
        self.assertEqual(xfrtest.addresses(self.bind_port, customer), ["203.0.113.10"])
        self.assertEqual(xfrtest.addresses(self.bind_port, customer, "MX"), ["10 mail.exp.test."])
        # NSD holds the ALIAS record itself, and no addresses of its own for the name.
        self.assertEqual(xfrtest.addresses(self.nsd_port, customer), [])
        self.assertEqual(len(xfrtest.addresses(self.nsd_port, customer, "TYPE65401")), 1)
        # The transfers as each remote sees them (kdig, the remote's key); the TTL is the
        # smaller of the address's (1) and the ALIAS's (30).
        bind_view = xfrtest.kdig_axfr(ZONE, self.port, self.bind_key)
        self.assertIn(("customer.exp.test.", 1, 1, "203.0.113.10"), bind_view)
        self.assertNotIn(ALIAS_TYPE, {t for _, t, _, _ in bind_view})
        self.assertIn(ALIAS_TYPE, {t for _, t, _, _ in xfrtest.kdig_axfr(ZONE, self.port, self.nsd_key)})

        # The target moves: a new serial, NOTIFY, and BIND answers the new address.
        self.up.set_control(upstream_control(["203.0.113.77", "203.0.113.78"]))
        got = xfrtest.wait_until(
            lambda: xfrtest.addresses(self.bind_port, customer) == ["203.0.113.77", "203.0.113.78"], 8)
        self.assertTrue(got, self.server.log()[-3000:] + bind.log()[-3000:])
        self.assertEqual(self.served_serial(), SERIAL + 2)
        self.assertTrue(nsd.wait_serial(ZONE, SERIAL + 2, timeout=10), nsd.log()[-3000:])
        self.assertEqual(len(xfrtest.addresses(self.nsd_port, customer, "TYPE65401")), 1)
        self.assertIn("ALIAS target addresses changed", self.server.log())
        # BIND asked for IXFR and got the difference, not the whole zone.
        self.assertTrue(re.search(r"IXFR of exp\.test\. serial %d to bind .* from serial %d" % (
            SERIAL + 2, SERIAL + 1), self.server.log()), self.server.log()[-3000:])
        self.assertNotIn("AXFR of exp.test. serial %d to bind" % (SERIAL + 2), self.server.log())
        self.assertEqual(xfrtest.axfr(ZONE, self.bind_port, self.bind_key),
                         xfrtest.kdig_axfr(ZONE, self.port, self.bind_key))

        # Journaled: a restart never sets the serial back (and bumps once more, since what
        # the remotes hold of the addresses is not known to the new process).
        self.server.stop()
        self.server = self.start_anamed()
        self.assertTrue(xfrtest.wait_serial(self.port, ZONE, SERIAL + 3, 10), self.server.log()[-3000:])
        self.assertTrue(bind.wait_serial(ZONE, SERIAL + 3, timeout=15), bind.log()[-3000:])
        self.assertEqual(xfrtest.addresses(self.bind_port, customer), ["203.0.113.77", "203.0.113.78"])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
