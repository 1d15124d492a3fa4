#!/usr/bin/env python3
"""Catalog zones (RFC 9432) both ways, against Knot DNS from Debian.

anamed as consumer (catalog-role: interpret): Knot generates the catalog of its zones; a
member zone added in Knot at runtime (knotc conf-begin / conf-set / conf-commit) is served
by anamed within a few seconds, and removed, anamed stops serving it. A member named like a
zone anamed serves from its own file is skipped with a log line. After a restart with the
primary gone, the copies on disk (the catalog's, its members') serve the members at once.

anamed as producer (catalog-role: generate): Knot interprets anamed's catalog and serves a
zone added with `anamectl zone add --catalog`, and the zones that name the catalog in
catalog-zone:. python3 + dnspython.
"""

import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.query  # noqa: E402
import dns.rdatatype  # noqa: E402

from anamedtest import Anamed, AnamedTestCase, find_anamectl, main, pick_free_port  # noqa: E402
from peers import KnotConfdb  # noqa: E402
from xfrtest import answer, small_zone as zone_text, wait_answer  # noqa: E402


def catalog_ptrs(port):
    """The member PTRs of catalog.test by AXFR: {owner: target}."""
    msgs = dns.query.xfr("127.0.0.1", "catalog.test", port=port, timeout=5, lifetime=10)
    return {rrset.name.to_text(): rd.to_text() for m in msgs for rrset in m.answer
            if rrset.rdtype == dns.rdatatype.PTR for rd in rrset}


class CatalogTest(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.knot_port = pick_free_port(ipv6=False)

    def start_anamed(self, config_body):
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
remotes:
  - {name: knot, address: "127.0.0.1:%d"}
%s""" % (self.port, self.sock, os.path.join(self.dir, "journal.mdb"), self.knot_port, config_body))
        server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(server.close)
        self.addCleanup(self._stop_and_check, server)
        server.wait_ready()
        self.server = server
        return server

    def knotc(self, knot, *args):
        r = knot.knotc(*args)
        self.assertEqual(r.returncode, 0, "knotc %s: %s%s" % (" ".join(args), r.stdout, r.stderr))
        return r

    def anamectl(self, *args, ok=True):
        r = subprocess.run([find_anamectl(), "--socket", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30)
        if ok:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_anamed_interprets_knots_catalog(self):
        knot_dir = os.path.join(self.dir, "knot")
        os.makedirs(knot_dir)
        for name, addr in (("m1.test", "192.0.2.101"), ("m2.test", "192.0.2.102"), ("own.test", "192.0.2.9")):
            with open(os.path.join(knot_dir, name + ".zone"), "w") as f:
                f.write(zone_text(name, 1, addr))
        knot = KnotConfdb(self.dir, self.knot_port, """
remote:
  - id: anamed
    address: 127.0.0.1@%d
acl:
  - id: xfr
    address: 127.0.0.1
    action: [transfer, query]   # Knot answers queries to a catalog only with 'query'
template:
  - id: default
    storage: %s
    semantic-checks: off
    acl: xfr
    notify: anamed
zone:
  - domain: catalog.test
    catalog-role: generate
  - domain: m1.test
    file: m1.test.zone
    catalog-role: member
    catalog-zone: catalog.test
  - domain: own.test
    file: own.test.zone
    catalog-role: member
    catalog-zone: catalog.test
""" % (self.port, knot_dir))
        self.addCleanup(knot.stop)
        own = self.write("own.zone", zone_text("own.test", 5, "192.0.2.55"))
        copy = os.path.join(self.dir, "catalog.copy")
        body = """zones:
  - name: catalog.test
    primary: [knot]
    catalog-role: interpret
    file: %s
  - name: own.test
    file: %s
""" % (copy, own)
        self.start_anamed(body)
        self.assertEqual(wait_answer(self.port, "www.m1.test", ("NOERROR", ["192.0.2.101"])),
                         ("NOERROR", ["192.0.2.101"]), self.server.log()[-3000:])
        # A member named like a zone of anamed's own: skipped, logged; anamed's data stays.
        self.assertIsNotNone(self.server.wait_log(r"member own\.test\. is a zone here already"))
        self.assertEqual(answer(self.port, "www.own.test"), ("NOERROR", ["192.0.2.55"]))
        self.assertEqual(answer(self.port, "www.m2.test")[0], "REFUSED")
        # Added in Knot at runtime: served by anamed within a few seconds.
        t0 = time.monotonic()
        self.knotc(knot, "conf-begin")
        self.knotc(knot, "conf-set", "zone[m2.test]")
        self.knotc(knot, "conf-set", "zone[m2.test].file", "m2.test.zone")
        self.knotc(knot, "conf-set", "zone[m2.test].catalog-role", "member")
        self.knotc(knot, "conf-set", "zone[m2.test].catalog-zone", "catalog.test")
        self.knotc(knot, "conf-commit")
        self.assertEqual(wait_answer(self.port, "www.m2.test", ("NOERROR", ["192.0.2.102"])),
                         ("NOERROR", ["192.0.2.102"]), self.server.log()[-3000:] + knot.log()[-3000:])
        self.assertLess(time.monotonic() - t0, 10)
        # A reload keeps the catalog's members (they are not in the configuration file).
        self.server.signal(1)
        self.assertIsNotNone(self.server.wait_log(r"snapshot \d+ published"))
        self.assertEqual(answer(self.port, "www.m2.test"), ("NOERROR", ["192.0.2.102"]))
        self.assertIn("m2.test", self.anamectl("--json", "zone", "status").stdout)
        # A member may not be removed by hand: the catalog is its truth.
        r = self.anamectl("zone", "remove", "m2.test", ok=False)
        self.assertIn("member of catalog", r.stdout + r.stderr)
        # Removed in Knot: anamed stops serving it.
        self.knotc(knot, "conf-begin")
        self.knotc(knot, "conf-unset", "zone[m2.test]")
        self.knotc(knot, "conf-commit")
        self.assertEqual(wait_answer(self.port, "www.m2.test", ("REFUSED", [])), ("REFUSED", []),
                         self.server.log()[-3000:])
        self.assertNotIn("m2.test", self.anamectl("--json", "zone", "status").stdout)
        self.assertEqual(answer(self.port, "www.m1.test"), ("NOERROR", ["192.0.2.101"]))
        # A restart with Knot gone: the catalog's copy on disk brings its members back, and
        # their own copies (beside it, one file: m2's went with it) serve at once.
        members = copy + ".members"

        def copies_settled():
            if not (os.path.exists(copy) and os.path.isdir(members)):
                return False
            with open(copy) as f:
                text = f.read()
            return "m1.test" in text and "m2.test" not in text and len(os.listdir(members)) == 1

        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not copies_settled():
            time.sleep(0.05)
        self.assertTrue(copies_settled(), self.server.log()[-3000:])
        self.server.stop()
        knot.stop()
        self.start_anamed(body)
        self.assertEqual(answer(self.port, "www.m1.test"), ("NOERROR", ["192.0.2.101"]),
                         self.server.log()[-3000:])
        self.assertEqual(answer(self.port, "www.m2.test")[0], "REFUSED")
        self.assertIn("m1.test", self.anamectl("--json", "zone", "status").stdout)

    def test_knot_interprets_anameds_catalog(self):
        # anamed first: Knot would otherwise find its primary down and wait before retrying.
        listed = self.write("listed.zone", zone_text("listed.test", 3, "192.0.2.33"))
        body = """zones:
  - name: catalog.test
    catalog-role: generate
    notify: [knot]
    allow-transfer: [knot]
  - name: listed.test
    file: %s
    catalog-role: member          # as in knot.conf; catalog-zone: alone says the same
    catalog-zone: catalog.test
    allow-transfer: [knot]
""" % listed
        self.start_anamed(body)
        knot = KnotConfdb(self.dir, self.knot_port, """
remote:
  - id: anamed
    address: 127.0.0.1@%d
acl:
  - id: notify
    address: 127.0.0.1
    action: notify
template:
  - id: default
    storage: %s
    semantic-checks: off
    master: anamed
    acl: notify
zone:
  - domain: catalog.test
    catalog-role: interpret
    catalog-template: default
""" % (self.port, os.path.join(self.dir, "knot")))
        self.addCleanup(knot.stop)
        self.assertEqual(wait_answer(self.knot_port, "www.listed.test", ("NOERROR", ["192.0.2.33"]), 15),
                         ("NOERROR", ["192.0.2.33"]), knot.log()[-3000:] + self.server.log()[-2000:])
        serial = answer(self.port, "catalog.test", "SOA")
        new = self.write("new.zone", zone_text("new.test", 8, "192.0.2.88"))
        self.anamectl("zone", "add", "new.test", "--file", new, "--catalog", "catalog.test")
        self.assertNotEqual(answer(self.port, "catalog.test", "SOA"), serial)
        self.assertEqual(wait_answer(self.knot_port, "www.new.test", ("NOERROR", ["192.0.2.88"]), 15),
                         ("NOERROR", ["192.0.2.88"]), knot.log()[-3000:] + self.server.log()[-2000:])
        # After a restart the catalog still lists the zone added at runtime, at the same label.
        # Its serial goes on up (the last one is kept: changes may outrun the clock).
        before = catalog_ptrs(self.port)
        self.assertEqual(sorted(before.values()), ["listed.test.", "new.test."])
        serial_before = int(answer(self.port, "catalog.test", "SOA")[1][0].split()[2])
        self.server.stop()
        self.start_anamed(body)
        self.assertEqual(catalog_ptrs(self.port), before)
        self.assertGreater(int(answer(self.port, "catalog.test", "SOA")[1][0].split()[2]), serial_before)
        # Removed from anamed: gone from the catalog, and Knot stops serving it.
        self.anamectl("zone", "remove", "new.test")
        self.assertEqual(wait_answer(self.knot_port, "www.new.test", ("REFUSED", []), 15),
                         ("REFUSED", []), knot.log()[-3000:])
        self.assertEqual(answer(self.knot_port, "www.listed.test"), ("NOERROR", ["192.0.2.33"]))

    def test_broken_catalog_changes_nothing(self):
        """anamed -> anamed: a catalog made broken on the primary (version, two PTRs at one
        member) is logged by the consumer, whose members stay as they were."""
        prim_port = self.knot_port  # the primary is an anamed here
        prim_sock = os.path.join(self.dir, "prim.sock")
        cat = self.write("cat.zone", zone_text("catalog.test", 1, "192.0.2.1") +
                         'version TXT "2"\na.zones PTR m1.test.\n')
        m1 = self.write("m1.zone", zone_text("m1.test", 1, "192.0.2.101"))
        prim_conf = self.write("prim.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
remotes:
  - {name: sec, address: "127.0.0.1:%d"}
zones:
  - {name: catalog.test, file: %s, notify: [sec], allow-transfer: [sec]}
  - {name: m1.test, file: %s, notify: [sec], allow-transfer: [sec]}
""" % (prim_port, prim_sock, os.path.join(self.dir, "prim.mdb"), self.port, cat, m1))
        prim = Anamed(["--config", prim_conf], self.dir, prim_port, log_name="prim.stderr")
        self.addCleanup(prim.close)
        self.addCleanup(self._stop_and_check, prim)
        prim.wait_ready()
        self.start_anamed("""zones:
  - {name: catalog.test, primary: [knot], catalog-role: interpret}
""")

        def on_primary(*args):
            r = subprocess.run([find_anamectl(), "--socket", prim_sock] + list(args),
                               capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

        self.assertEqual(wait_answer(self.port, "www.m1.test", ("NOERROR", ["192.0.2.101"])),
                         ("NOERROR", ["192.0.2.101"]), self.server.log()[-3000:])
        on_primary("record", "replace", "catalog.test", "version", "TXT", '"1"')
        self.assertIsNotNone(self.server.wait_log(r'catalog catalog\.test\. serial \d+: version\.catalog'
                                                  r'\.test\. TXT is not "2".*member zones stay', 5),
                             self.server.log()[-3000:])
        self.assertEqual(answer(self.port, "www.m1.test"), ("NOERROR", ["192.0.2.101"]))
        on_primary("record", "replace", "catalog.test", "version", "TXT", '"2"')
        on_primary("record", "add", "catalog.test", "a.zones", "PTR", "m2.test.")
        self.assertIsNotNone(self.server.wait_log(r"a\.zones\.catalog\.test\. has more than one PTR", 5),
                             self.server.log()[-3000:])
        self.assertNotIn("m2.test", self.anamectl("--json", "zone", "status").stdout)
        self.assertEqual(answer(self.port, "www.m1.test"), ("NOERROR", ["192.0.2.101"]))
        # Fixed on the primary: m1 leaves, m2 (not served there) comes as a waiting secondary.
        on_primary("record", "delete", "catalog.test", "a.zones", "PTR", "m1.test.")
        self.assertEqual(wait_answer(self.port, "www.m1.test", ("REFUSED", []), 5), ("REFUSED", []),
                         self.server.log()[-3000:])
        self.assertIn("m2.test", self.anamectl("--json", "zone", "status").stdout)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
