#!/usr/bin/env python3
"""EDNS, truncation and the transports: OPT and its version, UDP truncation
with and without EDNS, complete answers over TCP, the IPv6 listener,
pipelined, reused and split TCP queries (raw sockets), and malformed UDP
packets that must not stop the server (python3 stdlib only).

Starts the real server on a free port with the zones from tests/data
(answerstest.AnamedServerTest) and queries it with dig over UDP and TCP,
plus raw sockets.

Environment and how to run it: see tests/integration/anamedtest.py.
"""

import os
import random
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import RCODES, build_query, parse_header, recv_tcp_msg  # noqa: E402
from anamedtest import main  # noqa: E402
from answerstest import BIG_TXT, AnamedServerTest, fq  # noqa: E402


class TestTransport(AnamedServerTest):

    # -- EDNS ----------------------------------------------------------------------

    def test_edns_reply_has_opt_with_udp_1232(self):
        for _, r in self.over("both.example.test", "A"):
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertEqual(r["edns"]["version"], 0)
            self.assertEqual(r["edns"]["udp"], 1232)
            self.assertNotIn("do", r["edns"]["flags"])

    def test_edns_do_flag_is_echoed(self):
        for _, r in self.over("both.example.test", "A", "+dnssec"):
            self.assertHeader(r)
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertIn("do", r["edns"]["flags"], r["raw"])

    def test_edns_version_1_gets_badvers(self):
        for _, r in self.over("both.example.test", "A", "+edns=1", "+noednsnegotiation"):
            self.assertEqual(r["rcode"], "BADVERS", r["raw"])
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertEqual(r["edns"]["version"], 0, r["raw"])
            self.assertEqual(r["answer"], [], r["raw"])

    def test_query_without_edns_gets_no_opt(self):
        for _, r in self.over("both.example.test", "A", "+noedns"):
            self.assertHeader(r)
            self.assertIsNone(r["edns"], r["raw"])
            self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    def test_unknown_edns_option_is_ignored(self):
        for _, r in self.over("both.example.test", "A", "+ednsopt=65000:abcd"):
            self.assertHeader(r)
            self.assertIsNotNone(r["edns"], r["raw"])
            self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    # -- truncation ----------------------------------------------------------------

    def test_big_answer_over_udp_with_edns_1232_is_truncated(self):
        r = self.dig("big.example.test", "TXT", "+ignore", "+bufsize=1232")
        self.assertHeader(r, "NOERROR", tc=True)
        self.assertLessEqual(r["size"], 1232, r["raw"])

    def test_big_answer_over_udp_without_edns_is_truncated(self):
        r = self.dig("big.example.test", "TXT", "+ignore", "+noedns")
        self.assertHeader(r, "NOERROR", tc=True)
        self.assertLessEqual(r["size"], 512, r["raw"])

    def test_big_answer_over_tcp_is_complete(self):
        r = self.dig("big.example.test", "TXT", tcp=True)
        self.assertHeader(r, "NOERROR", tc=False)
        self.assertSection(r, "answer", [(fq("big"), 3600, "TXT", t) for t in BIG_TXT])
        self.assertGreater(r["size"], 1232)

    # -- IPv6 ------------------------------------------------------------------------

    def test_ipv6_listener_answers_over_udp_and_tcp(self):
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                r = self.dig("both.example.test", "A", tcp=tcp, v6=True)
                self.assertHeader(r)
                self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    # -- TCP with raw sockets --------------------------------------------------------

    def test_tcp_pipelined_queries_all_get_replies(self):
        names = ["both.example.test", "ns1.example.test", "www.example.test"]
        ids = [0x1111, 0x2222, 0x3333]
        wire = b"".join(struct.pack("!H", len(q)) + q for q in
                        (build_query(i, n) for i, n in zip(ids, names)))
        with self.tcp_connect() as s:
            s.sendall(wire)
            replies = [parse_header(recv_tcp_msg(s)) for _ in names]
        self.assertEqual(sorted(h["id"] for h in replies), ids)
        for h in replies:
            self.assertTrue(h["qr"])
            self.assertTrue(h["aa"])
            self.assertEqual(h["rcode"], 0)
            self.assertGreaterEqual(h["an"], 1)

    def test_tcp_connection_is_reused_for_sequential_queries(self):
        with self.tcp_connect() as s:
            for qid in (0x0101, 0x0202):
                q = build_query(qid, "both.example.test")
                s.sendall(struct.pack("!H", len(q)) + q)
                h = parse_header(recv_tcp_msg(s))
                self.assertEqual((h["id"], h["rcode"], h["an"]), (qid, 0, 1))

    def test_tcp_query_split_across_segments_is_answered(self):
        q = build_query(0x4242, "both.example.test")
        msg = struct.pack("!H", len(q)) + q
        with self.tcp_connect() as s:
            s.sendall(msg[:1])
            time.sleep(0.05)
            s.sendall(msg[1:9])
            time.sleep(0.05)
            s.sendall(msg[9:])
            h = parse_header(recv_tcp_msg(s))
        self.assertEqual((h["id"], h["rcode"], h["an"]), (0x4242, 0, 1))

    # -- malformed UDP ---------------------------------------------------------------

    def assertStillAnswering(self):
        r = self.dig("both.example.test", "A")
        self.assertHeader(r)
        self.assertSection(r, "answer", [(fq("both"), 3600, "A", "192.0.2.10")])

    def test_udp_packet_with_qr_set_gets_no_reply(self):
        pkt = build_query(0x5151, "both.example.test", flags=0x8000)
        self.assertIsNone(self.udp_exchange(pkt))
        self.assertStillAnswering()

    def test_udp_qdcount_2_gets_formerr(self):
        pkt = build_query(0x5252, None, qdcount=2, questions=[
            ("both.example.test", 1, 1), ("www.example.test", 1, 1)])
        reply = self.udp_exchange(pkt, timeout=2)
        self.assertIsNotNone(reply, "no reply to QDCOUNT=2")
        h = parse_header(reply)
        self.assertEqual((h["id"], h["qr"], RCODES.get(h["rcode"])), (0x5252, True, "FORMERR"))

    def test_udp_truncated_question_gets_formerr(self):
        pkt = build_query(0x5353, "both.example.test")[:12 + 9]
        reply = self.udp_exchange(pkt, timeout=2)
        self.assertIsNotNone(reply, "no reply to a truncated question")
        h = parse_header(reply)
        self.assertEqual((h["id"], h["qr"], RCODES.get(h["rcode"])), (0x5353, True, "FORMERR"))

    def test_udp_update_without_update_policy_is_refused(self):
        pkt = build_query(0x5454, "example.test", qtype=6, flags=5 << 11)
        reply = self.udp_exchange(pkt, timeout=2)
        self.assertIsNotNone(reply, "no reply to an UPDATE")
        h = parse_header(reply)
        self.assertEqual((h["id"], h["qr"], h["opcode"], RCODES.get(h["rcode"])),
                         (0x5454, True, 5, "REFUSED"))

    def test_udp_short_junk_gets_no_reply_or_formerr_and_server_survives(self):
        rng = random.Random(20261126)
        for length in (1, 6, 11):
            junk = bytes(rng.randrange(256) for _ in range(length))
            with self.subTest(junk=junk.hex()):
                reply = self.udp_exchange(junk)
                if reply is not None:
                    self.assertGreaterEqual(len(reply), 12)
                    self.assertEqual(RCODES.get(parse_header(reply)["rcode"]), "FORMERR")
        self.assertStillAnswering()


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
