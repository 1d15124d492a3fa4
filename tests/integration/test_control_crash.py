#!/usr/bin/env python3
"""Crash safety of runtime changes (python3 stdlib only).

kill -9 in the middle of a stream of acknowledged changes sent by a
pipelining raw-socket client; after a restart over the same journal every
acknowledged change is there and no batch is half there.  anamed runs on a
free port in a private temporary directory (controltest.ControlTest).

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import collections
import json
import os
import random
import re
import signal
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from anamedtest import main  # noqa: E402
from controltest import (  # noqa: E402
    BASE_SERIAL, ZONE, ControlConn, ControlTest, base_zone, change, parse_zone_text)


# --------------------------------------------------------------------------
# crash safety: kill -9 in the middle of a stream of acknowledged changes
# --------------------------------------------------------------------------

class TestCrashSafety(ControlTest):

    TOTAL = 5000
    WINDOW = 8          # requests in flight on the connection
    BATCH_EVERY = 20    # every 20th request is a 3-record batch

    def records_of(self, i):
        """The records request i adds: [(owner, type, rdata as flush writes it)]."""
        if i % self.BATCH_EVERY == self.BATCH_EVERY - 1:
            return [("b%da.ctl.test." % i, "A", "192.0.2.%d" % (i % 250 + 1)),
                    ("b%db.ctl.test." % i, "TXT", '"batch %d"' % i),
                    ("b%dc.ctl.test." % i, "AAAA", "2001:db8::%x" % i)]
        return [("c%d.ctl.test." % i, "A", "192.0.2.%d" % (i % 250 + 1))]

    def request_line(self, i):
        changes = []
        for owner, rtype, rdata in self.records_of(i):
            changes.append(change("add", owner.split(".")[0], rtype, rdata))
        return (json.dumps({"cmd": "change", "changes": changes}) + "\n").encode()

    def test_kill_9_keeps_every_acknowledged_change(self):
        seed = int(os.environ.get("ANAMED_CRASH_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        kill_at = rng.randint(2000, 2800)
        extra_delay = rng.random() * 0.02
        srv = self.start(base_zone())
        self.assertEqual(self.serial(), BASE_SERIAL)
        conn = ControlConn(self.sock_path, timeout=30)
        self.addCleanup(conn.close)
        acked, refused = [], []
        state = {"sent": 0, "error": None}

        def client():
            pending = collections.deque()
            try:
                while True:
                    while state["sent"] < self.TOTAL and len(pending) < self.WINDOW:
                        i = state["sent"]
                        conn.send(self.request_line(i))
                        pending.append(i)
                        state["sent"] = i + 1
                    if not pending:
                        return
                    line = conn.read_line()
                    if not line:
                        state["error"] = "EOF"
                        return
                    reply = json.loads(line)
                    i = pending.popleft()
                    if reply.get("ok") is True:
                        acked.append(i)
                    else:
                        refused.append((i, reply))
            except (OSError, ValueError) as e:
                state["error"] = repr(e)

        t = threading.Thread(target=client, daemon=True)
        t0 = time.monotonic()
        t.start()
        deadline = t0 + 120
        while len(acked) < kill_at and t.is_alive() and time.monotonic() < deadline:
            time.sleep(0.0005)
        time.sleep(extra_delay)
        in_flight = state["sent"] - len(acked) - len(refused)
        n_acked_at_kill = len(acked)
        elapsed = time.monotonic() - t0
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait()
        srv.stopped = True
        t.join(10)
        self.assertFalse(t.is_alive(), "the client did not notice the kill")
        self.assertEqual(refused, [], "anamed refused valid changes: %r" % refused[:5])
        self.assertGreaterEqual(n_acked_at_kill, kill_at, "only %d changes acknowledged in %.0f s (client: %s)"
                                % (n_acked_at_kill, elapsed, state["error"]))
        sent = state["sent"]
        acked_set = set(acked)
        rate = n_acked_at_kill / elapsed
        print("\ncrash test (seed %d): %d changes acknowledged in %.1f s (%.0f changes/s, %.1f ms each), "
              "kill -9 with %d in flight, %d acknowledged in all, %d sent"
              % (seed, n_acked_at_kill, elapsed, rate, 1000.0 / rate, in_flight, len(acked), sent),
              file=sys.stderr)

        # restart over the same journal
        srv2 = self.start()
        log = srv2.log()
        m = re.search(r"journal .*: replayed (\d+) change batches(, (\d+) failed)?", log)
        self.assertIsNotNone(m, "no replay logged:\n" + log[-3000:])
        self.assertIsNone(m.group(2), "journal entries failed to replay:\n" + log[-3000:])
        replayed = int(m.group(1))

        # every acknowledged change answers over DNS
        missing = []
        for i in sorted(acked_set):
            owner, rtype, rdata = self.records_of(i)[0]
            if self.a_records(owner) != ("NOERROR", [rdata]):
                missing.append(i)
        self.assertEqual(missing, [], "%d acknowledged changes missing after the restart (first: %r)"
                         % (len(missing), missing[:10]))
        for i in rng.sample(sorted(acked_set), 5):
            owner, rtype, rdata = self.records_of(i)[0]
            r = self.dig(owner, "A")
            self.assertEqual([rd for (_, _, t, rd) in r["answer"] if t == "A"], [rdata], r["raw"])

        # the whole zone, flushed and parsed: all or nothing for every request
        self.ok("zone", "flush", ZONE)
        with open(self.zfile) as f:
            rrs = parse_zone_text(f.read())
        present, half = [], []
        for i in range(self.TOTAL):
            recs = self.records_of(i)
            there = [rdata in rrs.get((owner, rtype), []) or
                     (rtype == "AAAA" and any(socket.inet_pton(socket.AF_INET6, rdata) ==
                                              socket.inet_pton(socket.AF_INET6, x)
                                              for x in rrs.get((owner, rtype), [])))
                     for owner, rtype, rdata in recs]
            if all(there):
                present.append(i)
            elif any(there):
                half.append((i, recs, there))
        self.assertEqual(half, [], "requests half applied after the crash")
        lost = sorted(acked_set - set(present))
        self.assertEqual(lost, [], "acknowledged but not in the flushed zone")
        phantom = [i for i in present if i >= sent]
        self.assertEqual(phantom, [], "changes never sent are in the zone")
        unacked_present = [i for i in present if i not in acked_set]
        self.assertLessEqual(len(unacked_present), self.WINDOW)
        # one serial per command, replayed: the serial counts exactly the commands applied
        self.assertEqual(replayed, len(present))
        self.assertEqual(self.serial(), BASE_SERIAL + len(present))
        self.assertEqual(self.status()["journal_entries"], 0)
        self.assertGreater(len([k for k in rrs if k[0].startswith("b")]), 0)
        print("crash test: after the restart %d requests present (%d acknowledged, %d in flight at "
              "the kill had committed), %d journal batches replayed"
              % (len(present), len(acked_set), len(unacked_present), replayed), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
