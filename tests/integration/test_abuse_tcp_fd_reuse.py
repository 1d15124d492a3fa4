#!/usr/bin/env python3
"""A TCP connection shed to make room must not take a new connection with it (python3 stdlib
only).

With every TCP slot taken, a new connection closes the longest idle one (RFC 7766 §6.2.3).
The kernel gives the next connection accepted the lowest free descriptor: the one just closed.
When the old connection's own event (a reset) is in the same epoll batch as the listener's,
that event is stale by the time it is handled and must not reach the new connection that now
has its descriptor.

The test builds exactly that batch: anamed (max-connections: 1) is stopped with SIGSTOP, two
new connections are made and send a query each (the listener is ready), the idle connection
is reset (its event queued after the listener's), and anamed is let go with SIGCONT. The
connection that took the idle one's descriptor must be answered, and the log must count the
shed connections.

Environment: ANAMED_BIN (the anamed binary), ANAMED_TESTDATA (tests/data).
The last line printed is "N passed, N failed, N skipped".
"""

import os
import signal
import socket
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from dnstest import build_query, parse_header, recv_tcp_msg  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main  # noqa: E402

DATA = os.environ.get("ANAMED_TESTDATA", os.path.join(HERE, "..", "data"))


def tcp_ask(sock, qid):
    q = build_query(qid, "www.example.test.", 1)
    sock.sendall(struct.pack("!H", len(q)) + q)


class TestTcpFdReuse(AnamedTestCase):

    def start(self):
        zone = os.path.join(DATA, "test.zone")
        cfg = self.write("anamed.yaml",
                         "listen: [\"127.0.0.1:%d\"]\nworkers: 1\n"
                         "zones:\n  - {name: example.test., file: %s}\n"
                         "tcp: {max-connections: 1}\n" % (self.port, zone))
        self.server = Anamed(["--config", cfg], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()

    def shed_and_reuse_once(self, round_no):
        idle = self.tcp_connect(timeout=3)
        tcp_ask(idle, 0x1000 + round_no)
        self.assertEqual(parse_header(recv_tcp_msg(idle))["id"], 0x1000 + round_no)
        self.server.signal(signal.SIGSTOP)
        try:
            # Two new connections wait in the listener's queue. The first takes a new
            # descriptor and the idle one is shed for it, which frees the idle one's
            # descriptor; the second takes that descriptor (and the first is shed for it).
            first = self.tcp_connect(timeout=3)
            tcp_ask(first, 0x2000 + round_no)
            second = self.tcp_connect(timeout=3)
            tcp_ask(second, 0x3000 + round_no)
            # A reset of the idle connection: its event (EPOLLERR|EPOLLHUP) comes after the
            # listener's in the same batch, and names the descriptor the second now has.
            idle.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            idle.close()
            time.sleep(0.05)
        finally:
            self.server.signal(signal.SIGCONT)
        first.close()
        try:
            reply = recv_tcp_msg(second)
        except OSError as e:
            self.fail("round %d: the new connection was closed instead of answered (%s)\n%s"
                      % (round_no, e, self.server.log()[-2000:]))
        finally:
            second.close()
        self.assertEqual(parse_header(reply)["id"], 0x3000 + round_no)
        self.assertEqual(parse_header(reply)["rcode"], 0)

    def test_stale_event_does_not_close_the_connection_that_reuses_the_descriptor(self):
        self.start()
        for round_no in range(5):
            self.shed_and_reuse_once(round_no)
        # The shed connections were counted (the server's summary line names them).
        log = self.server.wait_log(r"closed [1-9]\d* idle ones to make room", timeout=12)
        self.assertIsNotNone(log, "no summary line about shed connections:\n%s"
                             % self.server.log()[-2000:])


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
