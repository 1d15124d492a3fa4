#!/usr/bin/env python3
"""Update -> visible against update -> acknowledged, one UPDATE at a time: a thread waits for
each reply while a second socket asks for the new name every moment until it answers.
Prints how many names answered before their reply, and the medians and p90s.

  bench/update_visible.py --port PORT --key NAME:ALG:SECRET [--count 100]

against a server set up as bench/update_compare.sh sets up anamed (key `bench`, zone
mywebservice.com, update-policy for A).
"""

import argparse
import os
import socket
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True
from update_load import query, signed_updates  # noqa: E402


def p90(xs):
    return sorted(xs)[int(len(xs) * 0.9)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--zone", default="mywebservice.com")
    ap.add_argument("--count", type=int, default=100)
    a = ap.parse_args()
    prefix = "v%d-" % int(time.time() * 1000)
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.connect(("127.0.0.1", a.port))
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q.connect(("127.0.0.1", a.port))
    q.settimeout(0.05)
    visible, acked, first = [], [], 0
    for i, m in enumerate(signed_updates(a.zone, a.key, prefix, a.count)):
        done = {}

        def wait_ack():
            u.recv(65535)
            done["ack"] = time.monotonic()
        th = threading.Thread(target=wait_ack)
        th.start()
        t0 = time.monotonic()
        u.send(m)
        name = "%s%d.%s" % (prefix, i, a.zone)
        while time.monotonic() - t0 < 3:
            q.send(query(name, (i * 7 + 1) % 65536))
            try:
                r = q.recv(65535)
            except socket.timeout:
                continue
            if r[3] & 15 == 0 and int.from_bytes(r[6:8], "big") > 0:
                done["vis"] = time.monotonic()
                break
        th.join(3)
        if "vis" in done and "ack" in done:
            visible.append((done["vis"] - t0) * 1000)
            acked.append((done["ack"] - t0) * 1000)
            first += done["vis"] < done["ack"]
    print("updates=%d" % len(visible))
    print("visible_before_reply=%d" % first)
    print("visible_median_ms=%.2f" % statistics.median(visible))
    print("visible_p90_ms=%.2f" % p90(visible))
    print("reply_median_ms=%.2f" % statistics.median(acked))
    print("reply_p90_ms=%.2f" % p90(acked))


if __name__ == "__main__":
    main()
