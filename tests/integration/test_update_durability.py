#!/usr/bin/env python3
"""Dynamic updates are durable and ordered: 5,000 updates from two clients with kill -9 in the
middle, every acknowledged one served after the restart; an UPDATE racing an anamectl change of
the same name, both journaled in one order and the served state that order's result, before
and after a restart (the journal's replay); an update whose journal write fails on a full disk
gets no acknowledgement and is undone, and updates work again once there is room."""

import os
import signal
import subprocess
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.exception  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402

from anamedtest import find_anamectl, main  # noqa: E402
from updatetest import ZONE, UpdateTestCase  # noqa: E402

TOTAL = 5000


class Durability(UpdateTestCase):
    def client(self, n, count, acked, stop):
        """Sends `count` updates (one new name each) until stop is set or anamed is gone;
        records the acknowledged ones."""
        for i in range(count):
            if stop.is_set():
                return
            m = self.update("provisioner")
            m.add("c%d-%d" % (n, i), 300, "A", "10.%d.%d.%d" % (n, i // 256, i % 256))
            try:
                rc = dns.query.tcp(m, "127.0.0.1", port=self.port, timeout=2).rcode()
            except (OSError, EOFError, dns.exception.DNSException):
                continue  # anamed killed meanwhile: not acknowledged
            if rc == dns.rcode.NOERROR:
                acked.append(i)

    def run_clients(self, count, kill_after=None):
        acked = {1: [], 2: []}
        stop = threading.Event()
        threads = [threading.Thread(target=self.client, args=(n, count, acked[n], stop))
                   for n in (1, 2)]
        for t in threads:
            t.start()
        if kill_after is not None:
            while len(acked[1]) + len(acked[2]) < kill_after and any(t.is_alive() for t in threads):
                threads[0].join(0.01)
            self.server.proc.send_signal(signal.SIGKILL)
            self.server.proc.wait()
            self.server.stopped = True
            stop.set()
        for t in threads:
            t.join()
        return acked

    def served(self, n, i):
        return self.lookup("c%d-%d" % (n, i), "A") == ["10.%d.%d.%d" % (n, i // 256, i % 256)]

    def test_kill_9_keeps_every_acknowledged_update(self):
        acked = self.run_clients(TOTAL // 2, kill_after=TOTAL // 4)
        before_kill = sum(len(v) for v in acked.values())
        self.assertGreater(before_kill, 0)
        self.start()
        missing = [(n, i) for n in acked for i in acked[n] if not self.served(n, i)]
        self.assertEqual(missing, [], "acknowledged before kill -9 but not served")
        # the second half, on the restarted server, then everything once more
        later = {1: [], 2: []}
        threads = []
        for n in (1, 2):
            start = max(acked[n], default=-1) + 1
            def go(n=n, start=start):
                for i in range(start, TOTAL // 2):
                    m = self.update("provisioner")
                    m.add("c%d-%d" % (n, i), 300, "A", "10.%d.%d.%d" % (n, i // 256, i % 256))
                    if dns.query.tcp(m, "127.0.0.1", port=self.port, timeout=5).rcode() == 0:
                        later[n].append(i)
            threads.append(threading.Thread(target=go))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.server.proc.send_signal(signal.SIGKILL)
        self.server.proc.wait()
        self.server.stopped = True
        self.start()
        everything = [(n, i) for n in (1, 2) for i in acked[n] + later[n]]
        self.assertGreaterEqual(len(everything), TOTAL * 9 // 10, "most updates acknowledged")
        missing = [(n, i) for n, i in everything if not self.served(n, i)]
        self.assertEqual(missing, [], "acknowledged but not served after restart")
        self.assertNotRegex(self.server.log(), r"replayed \d+ change batches, \d+ failed")

    def test_update_races_anamectl(self):
        ctl = find_anamectl()
        for round_ in range(15):
            upd_value, ctl_value = "10.1.0.%d" % round_, "10.2.0.%d" % round_
            m = self.update("provisioner")
            m.replace("race", 300, "A", upd_value)
            result = {}

            def send_update():
                result["u"] = dns.query.tcp(m, "127.0.0.1", port=self.port, timeout=5).rcode()

            t = threading.Thread(target=send_update)
            t.start()
            p = subprocess.run([ctl, "--socket", self.sock, "record", "set", ZONE, "race", "A",
                                ctl_value], capture_output=True, text=True, timeout=10)
            t.join()
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            self.assertEqual(result["u"], dns.rcode.NOERROR)
            served = self.lookup("race", "A")
            self.assertIn(served, (["10.1.0.%d" % round_], ["10.2.0.%d" % round_]),
                          "the served state is one of the two orders")
            if round_ % 5 == 4:  # the journal replays the same order
                self.server.proc.send_signal(signal.SIGKILL)
                self.server.proc.wait()
                self.server.stopped = True
                self.start()
                self.assertEqual(self.lookup("race", "A"), served)


class DiskFull(UpdateTestCase):
    """The journal on a 1 MiB tmpfs that the test fills."""

    def journal_path(self):
        self.mnt = self.small_disk()
        return os.path.join(self.mnt, "journal.mdb")

    def test_an_update_the_disk_cannot_hold_is_undone_and_not_acknowledged(self):
        m = self.update("provisioner")
        m.add("before", 300, "A", "192.0.2.71")
        self.assertEqual(self.send(m, tcp=True), dns.rcode.NOERROR)
        self.fill_disk(self.mnt)
        m = self.update("provisioner")
        for i in range(40):
            m.add("full%d" % i, 300, "TXT", "x" * 200)
        try:
            rc = self.send(m, tcp=True)
        except (OSError, EOFError, dns.exception.DNSException):
            rc = None  # no reply: not acknowledged
        self.assertNotEqual(rc, dns.rcode.NOERROR)
        self.assertEqual(self.lookup("full0", "TXT"), [])
        self.assertEqual(self.lookup("before", "A"), ["192.0.2.71"])
        self.assertRegex(self.server.log(), r"journal .*undone")
        os.unlink(os.path.join(self.mnt, "filler"))
        m = self.update("provisioner")
        m.add("after", 300, "A", "192.0.2.72")
        self.assertEqual(self.send(m, tcp=True), dns.rcode.NOERROR)
        self.assertEqual(self.lookup("after", "A"), ["192.0.2.72"])
        self.server.stop()


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
