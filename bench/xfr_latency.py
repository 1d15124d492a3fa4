#!/usr/bin/env python3
"""Change -> secondary serves it, for bench/xfr_compare.sh: ROUNDS times, a record added on
the primary (with anamectl, or with knotc on a Knot primary), then every secondary polled
(UDP, every 2 ms) until it answers the new record; prints one line per secondary: name,
median and max in ms.

  xfr_latency.py (--anamectl BIN | --knotc BIN) --socket CTL --zone Z --rounds 20 \
                 NAME=PORT [NAME=PORT ...]
"""

import argparse
import socket
import statistics
import struct
import subprocess
import sys
import time


def query(name, qid):
    q = struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def answers(port, name, qid, s):
    s.sendto(query(name, qid), ("127.0.0.1", port))
    try:
        while True:
            r = s.recv(4096)
            if struct.unpack("!H", r[:2])[0] == qid:
                return (r[3] & 0xF) == 0 and struct.unpack("!H", r[6:8])[0] > 0
    except socket.timeout:
        return False


def main():
    ap = argparse.ArgumentParser()
    how = ap.add_mutually_exclusive_group(required=True)
    how.add_argument("--anamectl")
    how.add_argument("--knotc")
    ap.add_argument("--socket", required=True)
    ap.add_argument("--zone", required=True)
    ap.add_argument("--rounds", type=int, default=20)
    ap.add_argument("--timeout", type=float, default=30.0)
    ap.add_argument("secondaries", nargs="+")
    a = ap.parse_args()
    secs = [(n, int(p)) for n, p in (x.split("=") for x in a.secondaries)]
    took = {n: [] for n, _ in secs}
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.002)
    tag = int(time.time()) % 100000
    for i in range(a.rounds):
        name = "lat%d-%d.%s" % (tag, i, a.zone)
        t0 = time.monotonic()
        address = "198.51.100.%d" % (i % 250 + 1)
        if a.anamectl:
            subprocess.run([a.anamectl, "--socket", a.socket, "record", "add", a.zone, name + ".",
                            "A", address], check=True, capture_output=True)
        else:
            for step in (["zone-begin", a.zone], ["zone-set", a.zone, name + ".", "300", "A", address],
                         ["zone-commit", a.zone]):
                subprocess.run([a.knotc, "-s", a.socket] + step, check=True, capture_output=True)
        pending = dict(secs)
        qid = 0
        while pending and time.monotonic() - t0 < a.timeout:
            for n, port in list(pending.items()):
                qid = (qid + 1) & 0xFFFF
                if answers(port, name, qid, s):
                    took[n].append((time.monotonic() - t0) * 1000)
                    del pending[n]
        for n in pending:
            print("%s: round %d not served within %g s" % (n, i, a.timeout), file=sys.stderr)
            took[n].append(a.timeout * 1000)
        time.sleep(0.2)
    for n, _ in secs:
        print("%-24s median %8.1f ms   max %8.1f ms   (%d rounds)" % (
            n, statistics.median(took[n]), max(took[n]), len(took[n])))


if __name__ == "__main__":
    main()
