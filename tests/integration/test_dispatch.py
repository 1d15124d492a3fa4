#!/usr/bin/env python3
"""The dispatch seam through the real process: what respond() does not answer (NOTIFY,
UPDATE, AXFR/IXFR, TSIG-signed queries) reaches the control plane's message handler and is
answered from there, over UDP and TCP, while plain queries on the same TCP connection keep
their order around it.
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from dnstest import DATA, RCODES, build_query, parse_header, recv_tcp_msg, tcp_frame  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main  # noqa: E402

T_SOA, T_A, T_AXFR = 6, 1, 252


class Dispatch(AnamedTestCase):
    def setUp(self):
        super().setUp()
        self.server = Anamed(["--zone", "example.test=" + os.path.join(DATA, "test.zone"),
                              "--listen", "127.0.0.1:%d" % self.port], self.dir, self.port)
        self.addCleanup(self.server.close)
        self.addCleanup(self._stop_and_check, self.server)
        self.server.wait_ready()

    def header_of(self, reply):
        h = parse_header(reply)
        return h["id"], h["qr"], h["opcode"], RCODES.get(h["rcode"])

    def test_notify_and_update_over_udp_are_answered_by_the_control_plane(self):
        # NOTIFY for a zone that is not a secondary here: NOTAUTH; UPDATE is refused: the zone
        # has no update-policy.
        for qid, op, rcode in ((0x4141, 4, "NOTAUTH"), (0x5151, 5, "REFUSED")):
            with self.subTest(opcode=op):
                reply = self.udp_exchange(build_query(qid, "example.test", qtype=T_SOA, flags=op << 11),
                                          timeout=2)
                self.assertIsNotNone(reply, "no reply to opcode %d" % op)
                self.assertEqual(self.header_of(reply), (qid, True, op, rcode))
                # the question is echoed
                self.assertEqual(reply[12:], build_query(qid, "example.test", qtype=T_SOA)[12:])

    def test_axfr_over_udp_is_refused(self):
        reply = self.udp_exchange(build_query(0x6161, "example.test", qtype=T_AXFR), timeout=2)
        self.assertIsNotNone(reply)
        self.assertEqual(self.header_of(reply), (0x6161, True, 0, "REFUSED"))

    def test_tcp_pipeline_keeps_order_around_a_handed_off_message(self):
        s = self.tcp_connect()
        try:
            s.sendall(tcp_frame(build_query(1, "www.example.test", qtype=T_A)) +
                      tcp_frame(build_query(2, "example.test", qtype=T_AXFR)) +
                      tcp_frame(build_query(3, "example.test", qtype=T_SOA, flags=4 << 11)) +
                      tcp_frame(build_query(4, "both.example.test", qtype=T_A)))
            got = [self.header_of(recv_tcp_msg(s)) for _ in range(4)]
        finally:
            s.close()
        self.assertEqual(got, [(1, True, 0, "NOERROR"), (2, True, 0, "REFUSED"),
                               (3, True, 4, "NOTAUTH"), (4, True, 0, "NOERROR")])

    def test_many_handoffs_leave_queries_unaffected(self):
        for i in range(300):
            self.udp_exchange(build_query(i, "example.test", qtype=T_SOA, flags=4 << 11), timeout=0.05)
        r = self.udp_query("www.example.test", T_A)
        self.assertEqual(RCODES.get(r["rcode"]), "NOERROR")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
