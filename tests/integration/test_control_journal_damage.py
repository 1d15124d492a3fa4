#!/usr/bin/env python3
"""A damaged journal, and a crash inside zone flush (python3 stdlib only).

A journal is written through the control socket, anamed is stopped, and the file
is damaged as a disk or an operator would: truncated to half, one page header
byte changed, one change's text altered so that its JSON stays valid, emptied,
zero-filled. anamed must never fault (SIGBUS), must refuse to start over the
damage by default with a message that says what was lost and names
--journal-salvage, and with --journal-salvage must start with the intact
entries, loudly. --journal-check prints the report. A kill between the zone
file's replacement and the journal's cleanup (ANAMED_TEST_CRASH_IN_FLUSH) must
not apply the flushed changes twice.

Run:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_control_journal_damage.py
The last line printed is "N passed, N failed, N skipped".
"""

import glob
import os
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import Anamed, find_binary, main  # noqa: E402
from controltest import (  # noqa: E402
    BASE_SERIAL, ZONE, ControlConn, ControlTest, base_zone, change)

CHANGES = 100
PAGE = 4096


class JournalDamage(ControlTest):

    def fill_journal(self, n=CHANGES):
        """n separate journaled changes (one entry each); anamed stopped after."""
        self.start(base_zone())
        conn = ControlConn(self.sock_path)
        for i in range(n):
            r = conn.request({"cmd": "change", "changes": [
                change("add", "n%d" % i, "A", "192.0.2.%d" % (i % 250 + 1))]})
            self.assertTrue(r.get("ok"), r)
        conn.close()
        self.assertEqual(self.status()["journal_entries"], n)
        rc, _ = self.server.stop()
        self.assertEqual(rc, 0)

    def start_fails(self, *extra):
        """anamed over the damaged journal: exits by itself (no signal), its log."""
        srv = Anamed(self.daemon_args() + list(extra), self.dir, self.port,
                     log_name="refused-%d.stderr" % self.starts)
        self.starts += 1
        self.addCleanup(srv.close)
        try:
            rc = srv.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            srv.kill()
            self.fail("anamed started over a damaged journal:\n" + srv.log()[-3000:])
        log = srv.log()
        self.assertGreater(rc, 0, "anamed died of signal %d:\n%s" % (-rc, log[-3000:]))
        self.assertIn("--journal-salvage", log)
        self.assertNotIn("check that the directory exists", log)
        return log

    def journal_check(self):
        p = subprocess.run([find_binary(), "--journal-check", "--journal", self.journal]
                           + sum((["--zone", "%s=%s" % z] for z in self.zones), []),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=30)
        return p.returncode, p.stdout

    def salvage_start(self):
        self.starts += 1
        srv = Anamed(self.daemon_args() + ["--journal-salvage"], self.dir, self.port,
                     log_name="salvage-%d.stderr" % self.starts)
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready()
        self.server = srv
        self.assertRegex(srv.log(), r"SALVAGED")
        self.assertTrue(glob.glob(self.journal + ".damaged-*"), os.listdir(self.dir))
        return srv

    def entry_leaves(self):
        """The live LMDB leaf pages of the journal's entries, in key order, as
        (file offset, entries on the page): followed from the newest meta page."""
        with open(self.journal, "rb") as f:
            data = f.read()
        u16 = lambda off: int.from_bytes(data[off:off + 2], "little")  # noqa: E731
        u64 = lambda off: int.from_bytes(data[off:off + 8], "little")  # noqa: E731
        meta = max((0, PAGE), key=lambda m: u64(m + 16 + 128))      # mm_txnid
        main_root = u64(meta + 16 + 72 + 40)                         # mm_dbs[MAIN].md_root

        def nodes(pg):
            off = pg * PAGE
            return [off + u16(off + 16 + 2 * i) for i in range((u16(off + 12) - 16) // 2)]

        def leaves(pg):
            off = pg * PAGE
            if u16(off + 10) & 0x01:                                 # P_BRANCH
                out = []
                for n in nodes(pg):
                    out += leaves(u16(n) | u16(n + 2) << 16 | u16(n + 4) << 32)
                return out
            return [(off, len(nodes(pg)))]

        for n in nodes(main_root):
            ksize = u16(n + 6)
            if data[n + 8:n + 8 + ksize] == b"entries":
                return leaves(u64(n + 8 + ksize + 40))               # the sub-db's md_root
        self.fail("no entries database in the journal")

    def test_truncated_to_half_refused_then_salvaged(self):
        self.fill_journal()
        size = os.path.getsize(self.journal)
        os.truncate(self.journal, (size // 2) // PAGE * PAGE)
        log = self.start_fails()
        self.assertRegex(log, r"truncated")
        rc, out = self.journal_check()
        self.assertEqual(rc, 1, out)
        self.assertRegex(out, r"truncated")
        self.salvage_start()
        self.assertLess(self.status()["journal_entries"], CHANGES)

    def test_corrupted_page_header_refused_with_what_is_lost(self):
        self.fill_journal()
        leaves = self.entry_leaves()
        self.assertGreaterEqual(len(leaves), 3, leaves)
        off, on_page = leaves[1]                # a page in the middle: entries on both sides
        with open(self.journal, "r+b") as f:
            f.seek(off + 10)
            f.write(b"\x00\x00")        # the page's flags: neither leaf nor branch
        log = self.start_fails()
        self.assertRegex(log, r"%d recorded entries are lost" % on_page)
        rc, out = self.journal_check()
        self.assertEqual(rc, 1, out)
        self.assertIn("%d recorded entries are lost" % on_page, out)
        self.salvage_start()
        # Everything before and after the damaged page is kept.
        self.assertEqual(self.status()["journal_entries"], CHANGES - on_page)
        self.assertEqual(self.a_records("n0.ctl.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.a_records("n%d.ctl.test." % (CHANGES - 1)),
                         ("NOERROR", ["192.0.2.%d" % CHANGES]))

    def test_flip_that_keeps_json_valid_is_caught_by_the_checksum(self):
        self.fill_journal(5)
        with open(self.journal, "rb") as f:
            data = f.read()
        self.assertIn(b"192.0.2.3\"", data)
        # 192.0.2.3 -> 192.0.2.9 (in every copy of the page): still valid JSON
        data = data.replace(b"192.0.2.3\"", b"192.0.2.9\"")
        with open(self.journal, "wb") as f:
            f.write(data)
        log = self.start_fails()
        self.assertRegex(log, r"fails its checksum")
        self.salvage_start()
        self.assertEqual(self.a_records("n2.ctl.test."), ("NXDOMAIN", []))
        self.assertEqual(self.a_records("n3.ctl.test."), ("NOERROR", ["192.0.2.4"]))
        # The salvaged journal is intact: a plain restart works.
        self.restart()
        self.assertEqual(self.status()["journal_entries"], 4)

    def test_zero_length_file_refused(self):
        self.fill_journal(3)
        os.truncate(self.journal, 0)
        self.assertRegex(self.start_fails(), r"empty")

    def test_zero_filled_file_refused_without_a_misleading_hint(self):
        self.fill_journal(3)
        with open(self.journal, "wb") as f:
            f.write(bytes(4 * PAGE))
        self.assertRegex(self.start_fails(), r"not a readable LMDB database")

    def test_intact_journal_passes_the_check(self):
        self.fill_journal(3)
        rc, out = self.journal_check()
        self.assertEqual((rc, "intact, 3 entries" in out), (0, True), out)


class FlushCrash(ControlTest):

    def test_kill_between_file_and_journal_does_not_replay_twice(self):
        os.environ["ANAMED_TEST_CRASH_IN_FLUSH"] = "1"
        try:
            self.start(base_zone())
        finally:
            del os.environ["ANAMED_TEST_CRASH_IN_FLUSH"]
        self.change_ok("record", "add", ZONE, "rt", "A", "192.0.2.40")
        self.change_ok("record", "del", ZONE, "keep", "TXT")
        serial = self.change_ok("record", "set", ZONE, "www", "A", "192.0.2.9")
        self.assertEqual(serial, BASE_SERIAL + 3)
        p = self.ctl("zone", "flush", ZONE)
        self.assertNotEqual(p.returncode, 0, p.what)
        self.server.proc.wait(timeout=10)
        self.assertEqual(self.server.proc.returncode, -signal.SIGKILL)
        self.server.stopped = True
        with open(self.zfile) as f:
            self.assertIn("192.0.2.40", f.read(), "the file was not replaced before the kill")
        self.start()
        self.assertEqual(self.serial(), serial)
        self.assertEqual(self.a_records("keep.ctl.test.")[0], "NXDOMAIN")
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertRegex(self.server.log(), r"already holds 3 journaled change batches")
        self.assertEqual(self.status()["journal_entries"], 0)
        # Changes after the interrupted flush are journaled and replayed as usual.
        s2 = self.change_ok("record", "add", ZONE, "later", "A", "192.0.2.77")
        self.restart()
        self.assertEqual(self.serial(), s2)
        self.assertEqual(self.a_records("later.ctl.test."), ("NOERROR", ["192.0.2.77"]))


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
