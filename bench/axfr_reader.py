#!/usr/bin/env python3
"""Reads an AXFR as fast as the socket delivers it, without parsing its records: the time the
server takes to send the whole zone, which a formatting client such as kdig hides behind its
own work. Reads until RECORDS records arrived (header counts; kdig tells the number), checks
that the last message ends the transfer (an SOA as its last answer) and prints one line:
    SECONDS MESSAGES RECORDS BYTES FIRST_BYTE_MS

  axfr_reader.py --port P --zone Z --records RECORDS [--key NAME:ALG:BASE64]
"""
import argparse
import socket
import struct
import sys
import time

import dns.message
import dns.rdatatype
import dns.tsigkeyring


def skip_name(m, pos):
    while True:
        n = m[pos]
        if n == 0:
            return pos + 1
        if n & 0xC0 == 0xC0:
            return pos + 2
        pos += 1 + n


def last_answer_type(m):
    """The type of the message's last answer record (questions skipped), or None."""
    qd, an = struct.unpack_from('!HH', m, 4)
    pos = 12
    for _ in range(qd):
        pos = skip_name(m, pos) + 4
    kind = None
    for _ in range(an):
        pos = skip_name(m, pos)
        kind, _klass, _ttl, rdlen = struct.unpack_from('!HHIH', m, pos)
        pos += 10 + rdlen
    return kind


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--zone', required=True)
    ap.add_argument('--records', type=int, required=True)
    ap.add_argument('--key', help='NAME:ALGORITHM:SECRET')
    a = ap.parse_args()
    q = dns.message.make_query(a.zone, dns.rdatatype.AXFR)
    if a.key:
        name, alg, secret = a.key.split(':', 2)
        q.use_tsig(dns.tsigkeyring.from_text({name: (alg, secret)}), keyname=name,
                   algorithm=alg)
    wire = q.to_wire()
    s = socket.create_connection(('127.0.0.1', a.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    t0 = time.perf_counter()
    s.sendall(struct.pack('!H', len(wire)) + wire)
    buf = bytearray()
    pos = msgs = records = total = 0
    first = None
    last = b''
    while records < a.records:
        d = s.recv(1 << 20)
        if not d:
            sys.exit('the server closed the connection before the transfer ended')
        if first is None:
            first = time.perf_counter() - t0
        total += len(d)
        buf += d
        while len(buf) - pos >= 2:
            n = (buf[pos] << 8) | buf[pos + 1]
            if len(buf) - pos < 2 + n:
                break
            last = bytes(buf[pos + 2:pos + 2 + n])
            if last[3] & 0x0F:
                sys.exit(f'the server answered rcode {last[3] & 0x0F}')
            records += struct.unpack_from('!H', last, 6)[0]
            msgs += 1
            pos += 2 + n
        if pos > (1 << 20):
            del buf[:pos]
            pos = 0
    t = time.perf_counter() - t0
    if records != a.records or last_answer_type(last) != dns.rdatatype.SOA:
        sys.exit(f'{records} records, the last not an SOA: not the whole transfer')
    print(f'{t:.4f} {msgs} {records} {total} {first * 1000:.1f}')


if __name__ == '__main__':
    main()
