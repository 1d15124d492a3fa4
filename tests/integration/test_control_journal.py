#!/usr/bin/env python3
"""Zone flush, zone reload and the journal over restarts (python3 stdlib only).

Each test starts its own anamed on a free port with a control socket and an
LMDB journal in a private temporary directory (controltest.ControlTest).
Covered: the journal replayed on restart; zone flush (runtime changes and
ALIAS in the file, the file loads again, journal emptied, a restart serves the
same data); zone reload (the edited file with the journal on top, a broken
file refused while the old data keeps serving); batches across two zones kept
through restarts, reloads and flushes.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import write_atomically  # noqa: E402
from anamedtest import find_binary, main  # noqa: E402
from controltest import (  # noqa: E402
    BASE_SERIAL, ZONE, ControlTest, base_zone, parse_zone_text, small_zone)


# --------------------------------------------------------------------------
# zone flush, zone reload, the journal over restarts
# --------------------------------------------------------------------------

class TestFlushAndReload(ControlTest):

    def make_changes(self):
        s = self.change_ok("record", "add", ZONE, "rt", "A", "192.0.2.40")
        s = self.change_ok("record", "add", ZONE, "rt2", "ALIAS", "www2")
        s = self.change_ok("record", "set", ZONE, "www", "A", "192.0.2.9")
        s = self.change_ok("record", "add", ZONE, "rt", "MX", "10", "mail.example.net.")
        s = self.change_ok("record", "del", ZONE, "keep", "TXT")
        self.assertEqual(s, BASE_SERIAL + 5)
        return s

    def assertChangedData(self, serial):
        self.assertEqual(self.serial(), serial)
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertEqual(self.a_records("rt2.ctl.test."), ("NOERROR", ["192.0.2.2"]))
        self.assertEqual(self.a_records("www.ctl.test."), ("NOERROR", ["192.0.2.9"]))
        self.assertEqual(self.a_records("web.ctl.test."), ("NOERROR", ["192.0.2.9"]))
        self.assertEqual(self.answer_rdata("rt.ctl.test", "MX")[:2], ("NOERROR", ["10 mail.example.net."]))
        self.assertEqual(self.a_records("keep.ctl.test.")[0], "NXDOMAIN")

    def test_journal_replayed_on_restart(self):
        self.start(base_zone())
        serial = self.make_changes()
        self.assertEqual(self.status()["journal_entries"], 5)
        shown = {n: self.ok("record", "show", ZONE, n) for n in ("rt", "rt2", "www", "@")}
        self.restart()
        self.assertRegex(self.server.log(), r"replayed 5 change batches")
        self.assertChangedData(serial)
        self.assertEqual({n: self.ok("record", "show", ZONE, n) for n in shown}, shown)
        with open(self.zfile) as f:
            self.assertEqual(f.read(), base_zone(), "the zone file changed without a flush")

    def test_flush_writes_changes_and_alias_then_journal_is_empty(self):
        self.start(base_zone())
        serial = self.make_changes()
        out = self.ok("zone", "flush", ZONE)
        self.assertIn(self.zfile, out)
        with open(self.zfile) as f:
            text = f.read()
        rrs = parse_zone_text(text)
        self.assertEqual(rrs[("rt.ctl.test.", "A")], ["192.0.2.40"])
        self.assertEqual(rrs[("rt.ctl.test.", "MX")], ["10 mail.example.net."])
        self.assertEqual(rrs[("www.ctl.test.", "A")], ["192.0.2.9"])
        self.assertEqual(rrs[("rt2.ctl.test.", "ALIAS")], ["www2.ctl.test."], text)
        self.assertEqual(rrs[("web.ctl.test.", "ALIAS")], ["www.ctl.test."], text)
        self.assertNotIn(("rt2.ctl.test.", "CNAME"), rrs, text)
        self.assertNotIn(("keep.ctl.test.", "TXT"), rrs)
        soa = rrs[("ctl.test.", "SOA")]
        self.assertEqual(len(soa), 1)
        self.assertEqual(int(soa[0].split()[2]), serial, text)
        # the file loads again
        p = subprocess.run([find_binary(), "--check", "--zone", "%s=%s" % (ZONE, self.zfile)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + "\n" + text)
        p = self.ctl("zone", "check", self.zfile, ZONE)
        self.assertEqual(p.returncode, 0, p.what)
        # the journal is empty; a restart serves the same from the file alone
        self.assertEqual(self.status()["journal_entries"], 0)
        self.assertIn("journal entries 0", self.ok("status"))
        shown = {n: self.ok("record", "show", ZONE, n) for n in ("rt", "rt2", "www", "web", "@")}
        self.restart()
        self.assertNotRegex(self.server.log(), r"replayed")
        self.assertChangedData(serial)
        self.assertEqual({n: self.ok("record", "show", ZONE, n) for n in shown}, shown)
        # changes after the flush are journaled over the new file
        self.assertEqual(self.change_ok("record", "add", ZONE, "post", "A", "192.0.2.41"), serial + 1)
        self.restart()
        self.assertEqual(self.serial(), serial + 1)
        self.assertEqual(self.a_records("post.ctl.test."), ("NOERROR", ["192.0.2.41"]))
        self.refused("zone", "flush", "nosuch.test", match=r"nosuch\.test")

    def test_reload_picks_up_the_edited_file_with_the_journal_on_top(self):
        self.start(base_zone())
        self.assertEqual(self.change_ok("record", "add", ZONE, "rt", "A", "192.0.2.40"), BASE_SERIAL + 1)
        # the operator edits the file: a new record and a new serial
        write_atomically(self.zfile, base_zone(serial=2000, extra="new  IN A 192.0.2.42\n"))
        self.ok("zone", "reload", ZONE)
        self.assertEqual(self.a_records("new.ctl.test."), ("NOERROR", ["192.0.2.42"]))
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertGreater(self.serial(), 2000 - 1)
        after = self.serial()
        # without a zone argument: every zone
        write_atomically(self.zfile, base_zone(serial=3000, extra="new  IN A 192.0.2.43\n"))
        self.ok("zone", "reload")
        self.assertEqual(self.a_records("new.ctl.test."), ("NOERROR", ["192.0.2.43"]))
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertGreater(self.serial(), after)
        self.refused("zone", "reload", "nosuch.test", match=r"nosuch\.test")
        self.assertEqual(self.status()["journal_entries"], 1)
        # and a restart agrees
        serial = self.serial()
        self.restart()
        self.assertEqual(self.serial(), serial)
        self.assertEqual(self.a_records("new.ctl.test."), ("NOERROR", ["192.0.2.43"]))
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))

    def test_reload_of_a_broken_file_fails_and_keeps_serving(self):
        self.start(base_zone())
        self.change_ok("record", "add", ZONE, "rt", "A", "192.0.2.40")
        write_atomically(self.zfile, base_zone(serial=2000, extra="broken IN A 192.0.2.999\n"))
        p = self.ctl("zone", "reload", ZONE)
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        self.assertEqual(p.returncode, 1, "zone reload of a file with errors must not report success\n"
                         + p.what + "\n" + self.server.log()[-1500:])
        self.assertRegex(p.stderr, r"ctl\.zone|error", p.what)


class TestMultiZoneBatch(ControlTest):
    """A batch may touch several zones; it is one transaction and one journal
    entry.  Reloading or flushing one of those zones must not lose the other's
    acknowledged changes."""

    def setUp(self):
        super().setUp()
        self.afile = self.write("a.zone", small_zone("a.test"))
        self.bfile = self.write("b.zone", small_zone("b.test"))
        self.zones = [("a.test", self.afile), ("b.test", self.bfile)]
        self.zfile = self.afile
        self.start()
        batch = self.write("multi.txt", "add a.test x A 192.0.2.1\nadd b.test y A 192.0.2.2\n")
        out = self.ok("record", "batch", batch)
        self.assertRegex(out, r"a\.test\. serial 2")
        self.assertRegex(out, r"b\.test\. serial 2")
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]))

    def test_batch_across_zones_survives_a_restart(self):
        self.restart()
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]))
        self.assertEqual((self.serial("a.test"), self.serial("b.test")), (2, 2))

    def test_reloading_the_second_zone_keeps_its_journal_changes(self):
        self.ok("zone", "reload", "b.test")
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]),
                         "zone reload b.test dropped b.test's acknowledged change (its journal "
                         "entry is filed under a.test)\n" + self.server.log()[-1500:])
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))

    def test_flushing_the_first_zone_keeps_the_second_zones_changes(self):
        self.ok("zone", "flush", "a.test")
        self.restart()
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]),
                         "after zone flush a.test and a restart, b.test lost an acknowledged change "
                         "(the batch's journal entry was dropped with a.test's)\n"
                         + self.server.log()[-1500:])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
