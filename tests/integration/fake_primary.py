#!/usr/bin/env python3
"""A primary that dies mid-transfer, for the secondary's fault tests (python3 + dnspython).

  python3 fake_primary.py --dir DIR --zone ZONE --file ZONEFILE

serves ZONE from ZONEFILE on 127.0.0.1 (UDP and TCP, one port, written to DIR/port once both
listen): SOA queries and whole transfers (AXFR, and IXFR answered as AXFR, RFC 1995 §4).
When DIR/stall exists, the SOA carries the serial + 1 and a transfer sends its first message
(the SOA and some records, never the closing SOA), writes DIR/sent, and then stalls: the test
kills the process (SIGKILL) in the middle of that transfer.
"""

import argparse
import os
import socket
import struct
import threading
import time

import dns.flags
import dns.message
import dns.rdatatype
import dns.rrset
import dns.zone


def load(zone, path, bump):
    """The zone's SOA RRset (its serial + 1 when bump) and its other RRsets."""
    z = dns.zone.from_file(path, origin=zone, relativize=False)
    soa, rrsets = None, []
    for name, rds in z.iterate_rdatasets():
        if rds.rdtype == dns.rdatatype.SOA:
            rd = rds[0].replace(serial=rds[0].serial + 1) if bump else rds[0]
            soa = dns.rrset.from_rdata(name, rds.ttl, rd)
            continue
        rrset = dns.rrset.RRset(name, rds.rdclass, rds.rdtype)
        rrset.update(rds)
        rrsets.append(rrset)
    return soa, rrsets


class Primary:
    def __init__(self, args):
        self.args = args
        # One port for both: the UDP port the kernel picks may be taken for TCP by another
        # process, then another is picked.
        for _ in range(100):
            self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            self.udp.bind(("127.0.0.1", 0))
            port = self.udp.getsockname()[1]
            self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                self.tcp.bind(("127.0.0.1", port))
                break
            except OSError:
                self.udp.close()
                self.tcp.close()
        self.tcp.listen(16)
        tmp = os.path.join(args.dir, "port.tmp")
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, os.path.join(args.dir, "port"))

    def stalling(self):
        return os.path.exists(os.path.join(self.args.dir, "stall"))

    def answer(self, q):
        soa, rrsets = load(self.args.zone, self.args.file, self.stalling())
        r = dns.message.make_response(q)
        r.flags |= dns.flags.AA
        if q.question[0].rdtype == dns.rdatatype.SOA:
            r.answer.append(soa)
        return r, soa, rrsets

    def serve_udp(self):
        while True:
            data, peer = self.udp.recvfrom(65535)
            try:
                r, _, _ = self.answer(dns.message.from_wire(data))
                self.udp.sendto(r.to_wire(), peer)
            except Exception:
                pass

    @staticmethod
    def send(conn, msg):
        wire = msg.to_wire(max_size=65535)
        conn.sendall(struct.pack("!H", len(wire)) + wire)

    def serve_conn(self, conn):
        with conn:
            n = struct.unpack("!H", conn.recv(2, socket.MSG_WAITALL))[0]
            q = dns.message.from_wire(conn.recv(n, socket.MSG_WAITALL))
            r, soa, rrsets = self.answer(q)
            if q.question[0].rdtype not in (dns.rdatatype.AXFR, dns.rdatatype.IXFR):
                self.send(conn, r)
                return
            r.answer = [soa] + rrsets[:20]
            if self.stalling():
                self.send(conn, r)
                with open(os.path.join(self.args.dir, "sent"), "w") as f:
                    f.write("first message sent\n")
                time.sleep(3600)
                return
            r.answer = [soa] + rrsets + [soa]
            self.send(conn, r)

    def run(self):
        threading.Thread(target=self.serve_udp, daemon=True).start()
        while True:
            conn, _ = self.tcp.accept()
            threading.Thread(target=self.serve_conn, args=(conn,), daemon=True).start()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--file", required=True)
    Primary(ap.parse_args()).run()


if __name__ == "__main__":
    main()
