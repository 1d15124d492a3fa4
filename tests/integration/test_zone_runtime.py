#!/usr/bin/env python3
"""Zones added and removed at runtime (anamectl zone add / zone remove), against the real
process: a zone added from a file is served at once and after a restart; removed, its names
are REFUSED, also after a restart; a zone of the configuration file removed stays removed
across restarts (logged) until it is added again; a broken file changes nothing; a zone
inside an existing one is served as its own; a secondary added with --primary transfers
from Knot at once. python3 + dnspython; Knot from Debian.
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

from anamedtest import Anamed, AnamedTestCase, find_anamectl, find_binary, main, pick_free_port  # noqa: E402
from peers import Knot, PrimaryZone  # noqa: E402
from xfrtest import small_zone as zone_text  # noqa: E402


class ZoneRuntime(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.sock = os.path.join(self.dir, "ctl.sock")
        self.main_file = self.write("main.zone", zone_text("main.test", 1, "192.0.2.10"))
        self.knot_port = None
        self.remotes = ""

    def write_config(self):
        self.config = self.write("anamed.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
%s
zones:
  - name: main.test
    file: %s
""" % (self.port, self.sock, os.path.join(self.dir, "journal.mdb"), self.remotes, self.main_file))

    def start(self):
        self.write_config()
        self.server = Anamed(["--config", self.config], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()

    def restart(self):
        rc, _ = self.server.stop()
        self.assertEqual(rc, 0, self.server.log()[-3000:])
        self.start()

    def anamectl(self, *args, ok=True):
        r = subprocess.run([find_anamectl(), "--socket", self.sock] + list(args),
                           capture_output=True, text=True, timeout=30, cwd=self.dir)
        if ok:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def answer(self, name, rdtype="A"):
        """(rcode text, [rdata text]) of a UDP query."""
        r = dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=self.port, timeout=2)
        return dns.rcode.to_text(r.rcode()), sorted(rd.to_text() for rrset in r.answer for rd in rrset)

    def zones_listed(self):
        return sorted(re.findall(r"^\s*(\S+\.)\s", self.anamectl("zone", "list").stdout, re.M))

    def test_add_file_restart_remove_restart(self):
        self.start()
        self.assertEqual(self.answer("www.added.test")[0], "REFUSED")
        self.write("added.zone", zone_text("added.test", 7, "192.0.2.77"))
        # A relative path: anamectl sends it absolute (the daemon's directory is another).
        out = self.anamectl("zone", "add", "added.test", "--file", "added.zone").stdout
        self.assertIn("added.test", out)
        self.assertEqual(self.answer("www.added.test"), ("NOERROR", ["192.0.2.77"]))
        self.anamectl("record", "add", "added.test", "rt", "A", "192.0.2.78")
        # A reload reads the configuration file again: the zone added at runtime stays.
        self.server.signal(1)
        self.assertIsNotNone(self.server.wait_log(r"snapshot \d+ published"))
        self.assertEqual(self.answer("rt.added.test"), ("NOERROR", ["192.0.2.78"]))
        self.restart()
        self.assertRegex(self.server.log(), r"zone added\.test\. was added with anamectl zone add: served")
        self.assertEqual(self.answer("www.added.test"), ("NOERROR", ["192.0.2.77"]))
        self.assertEqual(self.answer("rt.added.test"), ("NOERROR", ["192.0.2.78"]))
        self.anamectl("zone", "remove", "added.test")
        self.assertEqual(self.answer("www.added.test")[0], "REFUSED")
        self.assertEqual(self.answer("www.main.test"), ("NOERROR", ["192.0.2.10"]))
        self.restart()
        self.assertEqual(self.answer("www.added.test")[0], "REFUSED")
        self.assertNotIn("added.test.", self.zones_listed())
        # Added again: it starts clean (the runtime record of its earlier life is gone).
        self.anamectl("zone", "add", "added.test", "--file", os.path.join(self.dir, "added.zone"))
        self.assertEqual(self.answer("rt.added.test")[0], "NXDOMAIN")
        self.restart()
        self.assertEqual(self.answer("rt.added.test")[0], "NXDOMAIN")
        self.assertEqual(self.answer("www.added.test"), ("NOERROR", ["192.0.2.77"]))
        # The journal checker reads the zone records as entries like any other.
        self.server.stop()
        chk = subprocess.run([find_binary(), "--journal-check", "--config", self.config],
                             capture_output=True, text=True, timeout=30)
        self.assertEqual(chk.returncode, 0, chk.stdout + chk.stderr)
        # One: the removal was forgotten at the restart after it (the file never listed it).
        self.assertRegex(chk.stdout, r"intact, 1 entries \(1 zone record\)")

    def test_broken_file_changes_nothing(self):
        self.start()
        before = self.zones_listed()
        broken = self.write("broken.zone", "$ORIGIN broken.test.\n@ 300 SOA ns1 hm 1 2 3 4 5\n"
                                           "www 300 A 192.0.2.300\n")
        r = self.anamectl("zone", "add", "broken.test", "--file", broken, ok=False)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("broken.zone:3", r.stdout + r.stderr)
        self.assertIn("nothing changed", r.stdout + r.stderr)
        self.assertEqual(self.answer("www.broken.test")[0], "REFUSED")
        self.assertEqual(self.zones_listed(), before)
        # A file that does not exist, a zone served already, a remote nobody defined.
        r = self.anamectl("zone", "add", "gone.test", "--file", os.path.join(self.dir, "nope"), ok=False)
        self.assertEqual(r.returncode, 1)
        r = self.anamectl("zone", "add", "main.test", "--file", self.main_file, ok=False)
        self.assertIn("served already", r.stdout + r.stderr)
        r = self.anamectl("zone", "add", "sec.test", "--primary", "nobody", ok=False)
        self.assertIn("no remote is named 'nobody'", r.stdout + r.stderr)
        r = self.anamectl("zone", "remove", "never.test", ok=False)
        self.assertIn("no zone never.test", r.stdout + r.stderr)
        self.restart()
        self.assertEqual(self.zones_listed(), before)
        self.assertEqual(self.answer("www.broken.test")[0], "REFUSED")

    def test_malformed_requests_are_refused(self):
        self.start()

        def request(obj):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as c:
                c.settimeout(5)
                c.connect(self.sock)
                c.sendall((json.dumps(obj) + "\n").encode())
                data = b""
                while not data.endswith(b"\n"):
                    chunk = c.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            return json.loads(data)

        for bad, why in (({"cmd": "zone-add"}, "zone name"),
                         ({"cmd": "zone-add", "zone": 5, "file": "/x"}, ""),
                         ({"cmd": "zone-add", "zone": "x.test", "primary": [1]}, "list of names"),
                         ({"cmd": "zone-add", "zone": "x.test", "file": "rel.zone"}, "absolute"),
                         ({"cmd": "zone-add", "zone": "x..test", "file": "/x"}, "not a zone name"),
                         ({"cmd": "zone-add", "zone": "x.test", "file": "/x", "catalog": "main.test"},
                          "catalog-role: generate"),
                         ({"cmd": "zone-remove"}, "no zone"),
                         ({"cmd": "zone-remove", "zone": ["main.test"]}, "")):
            r = request(bad)
            self.assertFalse(r["ok"], bad)
            self.assertIn(why, r["error"], bad)
        self.assertEqual(self.answer("www.main.test"), ("NOERROR", ["192.0.2.10"]))
        self.assertEqual(self.zones_listed(), ["main.test."])

    def test_config_zone_removed_stays_removed_until_added(self):
        self.start()
        self.anamectl("record", "add", "main.test", "rt", "A", "192.0.2.11")
        self.anamectl("zone", "remove", "main.test")
        self.assertEqual(self.answer("www.main.test")[0], "REFUSED")
        self.restart()
        self.assertEqual(self.answer("www.main.test")[0], "REFUSED")
        self.assertRegex(self.server.log(), r"zone main\.test\. is in .*anamed\.yaml but was removed "
                                            r"with anamectl zone remove: not served")
        # A reload reads the file again: the zone stays removed.
        self.server.signal(1)
        self.assertIsNotNone(self.server.wait_log(r"snapshot \d+ published"))
        self.assertEqual(self.answer("www.main.test")[0], "REFUSED")
        self.anamectl("zone", "add", "main.test", "--file", self.main_file)
        self.assertEqual(self.answer("www.main.test"), ("NOERROR", ["192.0.2.10"]))
        self.assertEqual(self.answer("rt.main.test")[0], "NXDOMAIN")  # its old change is gone
        self.restart()
        self.assertEqual(self.answer("www.main.test"), ("NOERROR", ["192.0.2.10"]))

    def test_zone_inside_and_above_an_existing_zone(self):
        self.start()
        child = self.write("child.zone", zone_text("child.main.test", 3, "192.0.2.99"))
        self.anamectl("zone", "add", "child.main.test", "--file", child)
        r = dns.query.udp(dns.message.make_query("www.child.main.test", "A"), "127.0.0.1",
                          port=self.port, timeout=2)
        self.assertTrue(r.flags & dns.flags.AA)
        self.assertEqual(self.answer("www.child.main.test"), ("NOERROR", ["192.0.2.99"]))
        self.assertEqual(self.answer("child.main.test", "SOA")[1][0].split()[2], "3")
        self.assertEqual(self.answer("www.main.test"), ("NOERROR", ["192.0.2.10"]))
        self.anamectl("zone", "remove", "child.main.test")
        self.assertEqual(self.answer("www.child.main.test")[0], "NXDOMAIN")  # main.test's now
        # Above an existing zone: its own names from it, main.test's still from main.test.
        parent = self.write("parent.zone", zone_text("test", 9, "192.0.2.90"))
        self.anamectl("zone", "add", "test", "--file", parent)
        self.assertEqual(self.answer("www.test"), ("NOERROR", ["192.0.2.90"]))
        self.assertEqual(self.answer("www.main.test"), ("NOERROR", ["192.0.2.10"]))
        self.assertEqual(self.answer("main.test", "SOA")[1][0].split()[2], "1")
        self.assertEqual(self.answer("nothing.test")[0], "NXDOMAIN")

    def test_add_secondary_of_knot(self):
        self.knot_port = pick_free_port(ipv6=False)
        knot = Knot(self.dir, self.knot_port,
                    zones=[PrimaryZone("sec.test", self.write("sec.zone", zone_text("sec.test", 41, "192.0.2.41")),
                                       secondaries=[("127.0.0.1", self.port)])])
        self.addCleanup(knot.stop)
        self.remotes = "remotes:\n  - {name: knot, address: \"127.0.0.1:%d\"}\n" % self.knot_port
        self.start()
        copy = os.path.join(self.dir, "sec-copy.zone")
        self.anamectl("zone", "add", "sec.test", "--primary", "knot", "--file", copy)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and self.answer("www.sec.test")[0] != "NOERROR":
            time.sleep(0.05)
        self.assertEqual(self.answer("www.sec.test"), ("NOERROR", ["192.0.2.41"]), self.server.log()[-3000:])
        self.assertIn('"primary_used": "knot"', self.anamectl("--json", "zone", "status", "sec.test").stdout)
        # A restart with Knot gone serves the copy kept on disk.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not os.path.exists(copy):
            time.sleep(0.05)
        knot.stop()
        self.restart()
        self.assertEqual(self.answer("www.sec.test"), ("NOERROR", ["192.0.2.41"]))
        self.anamectl("zone", "remove", "sec.test")
        self.assertEqual(self.answer("www.sec.test")[0], "REFUSED")
        self.assertNotIn("sec.test", self.anamectl("--json", "zone", "status").stdout)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
