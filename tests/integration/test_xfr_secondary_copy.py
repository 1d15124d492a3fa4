#!/usr/bin/env python3
"""The secondary's copy on disk (anamed -> anamed): it is written off the control thread, a
while after the last transfer, and at stop. A secondary stopped right after several IXFRs
(before its debounced write) serves the latest serial at once when it starts again with the
primary gone; a secondary killed (SIGKILL) while it writes its copy starts from a whole copy
(the previous version or the new one, never a broken file) and catches up by IXFR from the
serial that copy holds.
"""

import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

from anamedtest import Anamed, AnamedTestCase, find_anamectl, main, pick_free_port  # noqa: E402
from peers import Key  # noqa: E402

ZONE = "copy.test"
SERIAL = 500
NAMES = 20000  # enough that writing the copy takes a while
ZONE_TEXT = """$ORIGIN copy.test.
$TTL 300
@    SOA  ns1 hostmaster %d 3600 600 1209600 300
@    NS   ns1
ns1  A    192.0.2.1
""" % SERIAL + "".join(
    'c%d A 198.18.%d.%d\nc%d TXT "v=spf1 ip4:198.18.%d.%d -all"\n'
    % (i, i // 250, i % 250, i, i // 250, i % 250) for i in range(NAMES))


class SecondaryCopy(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.key = Key.random("copy-key")
        self.sec_port = pick_free_port(ipv6=False)
        self.sock = os.path.join(self.dir, "primary.sock")
        self.copy = os.path.join(self.dir, "copy", ZONE + ".zone")
        os.makedirs(os.path.dirname(self.copy))
        keys = 'keys:\n  - {name: %s, algorithm: %s, secret: "%s"}\n' % (
            self.key.name, self.key.algorithm, self.key.secret)
        self.primary_conf = self.write("primary.yaml", """
listen: ["127.0.0.1:%d"]
control: {socket: %s}
journal: %s
%sremotes:
  - {name: edge, address: "127.0.0.1:%d", key: %s}
zones:
  - {name: %s, file: %s, notify: [edge], allow-transfer: [edge]}
""" % (self.port, self.sock, os.path.join(self.dir, "journal.mdb"), keys, self.sec_port,
       self.key.name, ZONE, self.write("copy.zone", ZONE_TEXT)))
        self.secondary_conf = self.write("secondary.yaml", """
listen: ["127.0.0.1:%d"]
%sremotes:
  - {name: hidden, address: "127.0.0.1:%d", key: %s}
zones:
  - {name: %s, primary: [hidden], file: %s}
""" % (self.sec_port, keys, self.port, self.key.name, ZONE, self.copy))
        self.primary = self.start_primary()
        self.runs = 0
        self.secondary = self.start_secondary()

    def start_primary(self):
        p = Anamed(["--config", self.primary_conf], self.dir, self.port, log_name="primary.stderr")
        self.addCleanup(p.close)
        p.wait_ready(timeout=30)
        return p

    def start_secondary(self):
        self.runs += 1
        s = Anamed(["--config", self.secondary_conf], self.dir, self.sec_port,
                   log_name="secondary%d.stderr" % self.runs)
        self.addCleanup(s.close)
        self.addCleanup(self._stop_and_check, s)
        s.wait_ready(timeout=30)
        return s

    def ask(self, name, rdtype="A"):
        return dns.query.udp(dns.message.make_query(name, rdtype), "127.0.0.1", port=self.sec_port,
                             timeout=1)

    def serial(self):
        r = self.ask(ZONE, "SOA")
        return r.answer[0][0].serial if r.answer else None

    def wait_serial(self, serial, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.serial() == serial:
                return True
            time.sleep(0.01)
        return False

    def change(self, i):
        r = subprocess.run([find_anamectl(), "--socket", self.sock, "record", "add", ZONE,
                            "new%d" % i, "A", "203.0.113.%d" % (i + 1)],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)

    def changes(self, n):
        for i in range(n):
            self.change(i)
            self.assertTrue(self.wait_serial(SERIAL + 1 + i, 5.0), self.secondary.log()[-3000:])

    def test_stopped_right_after_ixfrs_restarts_with_the_latest_serial(self):
        self.assertTrue(self.wait_serial(SERIAL, 30), self.secondary.log()[-3000:])
        self.changes(5)
        self.assertEqual(len(re.findall(r"by IXFR", self.secondary.log())), 5)
        # At once: the debounced write has not run; stopping writes the copy.
        rc, _ = self.secondary.stop(timeout=30)
        self.assertEqual(rc, 0, self.secondary.log()[-3000:])
        self.assertIn("serial %d written to %s" % (SERIAL + 5, self.copy), self.secondary.log())
        self.assertFalse(os.path.exists(self.copy + ".anamed-tmp"))
        self.primary.kill()
        self.secondary = self.start_secondary()
        self.assertEqual(self.serial(), SERIAL + 5)
        self.assertIn("serving its copy", self.secondary.log())
        for i in range(5):
            got = self.ask("new%d.%s" % (i, ZONE))
            self.assertEqual([rd.to_text() for rrset in got.answer for rd in rrset],
                             ["203.0.113.%d" % (i + 1)])
        got = self.ask("c%d.%s" % (NAMES - 1, ZONE))
        self.assertEqual(got.rcode(), dns.rcode.NOERROR)
        self.assertEqual(len(got.answer), 1)

    def test_killed_while_writing_starts_from_a_whole_copy_then_ixfr(self):
        self.assertTrue(self.wait_serial(SERIAL, 30), self.secondary.log()[-3000:])
        # The first copy (after the AXFR) is written about a second later.
        self.assertTrue(self.secondary.wait_log(r"serial %d written to" % SERIAL, timeout=30),
                        self.secondary.log()[-3000:])
        self.changes(3)
        # Killed about when the write of the new version starts (its debounce is 1 s).
        time.sleep(1.0)
        self.secondary.kill()
        self.secondary.stopped = True
        self.change(3)  # the primary moves on while the secondary is down
        self.secondary = self.start_secondary()
        # Whichever copy survived is whole: it serves at once, at a serial that was published.
        first = self.serial()
        self.assertIn(first, range(SERIAL, SERIAL + 5), self.secondary.log()[-3000:])
        self.assertIn("serving its copy", self.secondary.log())
        # Then the copy's serial is the one the secondary asks the primary about: an IXFR.
        self.assertTrue(self.wait_serial(SERIAL + 4, 10), self.secondary.log()[-3000:])
        if first != SERIAL + 4:
            self.assertIn("by IXFR", self.secondary.log())
            self.assertNotIn("by AXFR", self.secondary.log())
        for i in range(4):
            got = self.ask("new%d.%s" % (i, ZONE))
            self.assertEqual([rd.to_text() for rrset in got.answer for rd in rrset],
                             ["203.0.113.%d" % (i + 1)])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
