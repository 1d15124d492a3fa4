#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_respond: real queries for the unit-test zones.

Each seed is one selector byte (what fuzz_respond.cpp reads: bit 0 = TCP, bits 1-3 =
output capacity index) followed by a DNS query. Seeds reach every answer path of
tests/data/test.zone so that mutations start from deep inside respond(), not from the
header parser. Run from anywhere: python3 tests/fuzz/make_corpus.py
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "respond")

# Capacity indexes into fuzz_respond.cpp's table {512, 1232, 65535, 4096, 1400, 700, 300, 64}.
CAP_512, CAP_1232, CAP_65535, CAP_4096, CAP_300 = 0, 1, 2, 3, 6

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "NAPTR": 35, "DNAME": 39, "DS": 43, "HTTPS": 65, "CAA": 257, "ANY": 255,
         "AXFR": 252}


def wire_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def query(name, qtype, *, edns=True, payload=1232, do=False, version=0, opcode=0,
          qclass=1, qid=0x1234, rd=True):
    flags = (opcode << 11) | (0x0100 if rd else 0)
    header = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, 1 if edns else 0)
    question = wire_name(name) + struct.pack("!HH", TYPES[qtype], qclass)
    opt = b""
    if edns:
        opt = b"\x00" + struct.pack("!HHBBHH", 41, payload, 0, version, 0x8000 if do else 0, 0)
    return header + question + opt


def selector(cap, tcp=False):
    return bytes([(cap << 1) | (1 if tcp else 0)])


LONG = ".".join(["a" * 49] * 4) + ".dname.example.test"  # DNAME result exceeds 255 octets

SEEDS = {
    "a-exact-edns": selector(CAP_1232) + query("both.example.test", "A"),
    "aaaa-ns1": selector(CAP_1232) + query("ns1.example.test", "AAAA"),
    "mx-apex-noedns": selector(CAP_512) + query("example.test", "MX", edns=False),
    "ns-apex-do": selector(CAP_4096) + query("example.test", "NS", do=True),
    "any-both": selector(CAP_1232) + query("both.example.test", "ANY"),
    "ds-at-cut": selector(CAP_1232) + query("sub.example.test", "DS"),
    "cname-chain": selector(CAP_1232) + query("c1.example.test", "A"),
    "cname-loop": selector(CAP_512) + query("loop1.example.test", "A", edns=False),
    "cname-qtype": selector(CAP_1232) + query("www.example.test", "CNAME"),
    "cname-chase-mx": selector(CAP_1232) + query("www.example.test", "MX"),
    "cname-chase-upper": selector(CAP_512) + query("WWW.Example.test", "A", edns=False),
    "cname-chase-nodata": selector(CAP_1232) + query("c3.example.test", "SRV"),
    "cname-chase-alias": selector(CAP_1232) + query("www.alias.test", "A"),
    "dname": selector(CAP_1232) + query("x.dname.example.test", "A"),
    "dname-yxdomain": selector(CAP_65535, tcp=True) + query(LONG, "A"),
    "wildcard-a": selector(CAP_1232) + query("anything.wild.example.test", "A"),
    "wildcard-cname": selector(CAP_1232) + query("foo.wc.example.test", "MX"),
    "delegation": selector(CAP_1232) + query("www.sub.example.test", "A"),
    "child-zone": selector(CAP_1232) + query("www.sub2.example.test", "A"),
    "nxdomain": selector(CAP_300) + query("nothere.example.test", "A"),
    "nodata-ent": selector(CAP_1232) + query("b.ent.example.test", "A"),
    "big-udp-tc": selector(CAP_512) + query("big.example.test", "TXT", edns=False),
    "big-tcp": selector(CAP_65535, tcp=True) + query("big.example.test", "TXT"),
    "mixed-case": selector(CAP_1232) + query("HoSt.OtHeR.TeSt", "A", payload=4096),
    "srv-additional": selector(CAP_1232) + query("_sip._tcp.example.test", "SRV"),
    "https": selector(CAP_1232) + query("svc.example.test", "HTTPS"),
    "refused-zone": selector(CAP_512) + query("example.org", "A"),
    "refused-chaos": selector(CAP_512) + query("version.bind", "TXT", qclass=3, edns=False),
    "refused-axfr": selector(CAP_65535, tcp=True) + query("example.test", "AXFR", edns=False),
    "badvers": selector(CAP_1232) + query("example.test", "SOA", version=1),
    "notimp-update": selector(CAP_512) + query("example.test", "SOA", opcode=5, edns=False),
    "alias-a": selector(CAP_1232) + query("customer.alias.test", "A"),
    "alias-aaaa-noedns": selector(CAP_512) + query("customer.alias.test", "AAAA", edns=False),
    "alias-failed": selector(CAP_1232) + query("down.alias.test", "A"),
    "alias-fallback": selector(CAP_1232) + query("fallback.alias.test", "A"),
    "alias-wild-mx": selector(CAP_1232) + query("x.wild.alias.test", "MX"),
    # Malformed: a question cut short, and a compression pointer in the question name.
    "malformed-short": selector(CAP_512) + query("both.example.test", "A", edns=False)[:20],
    "malformed-pointer": selector(CAP_512) + struct.pack("!HHHHHH", 7, 0x0100, 1, 0, 0, 0)
    + b"\xc0\x0c\x00\x01\x00\x01",
}


def main():
    os.makedirs(OUT, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {OUT}")


if __name__ == "__main__":
    main()
