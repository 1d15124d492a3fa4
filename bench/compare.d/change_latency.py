#!/usr/bin/env python3
"""Control-socket change latency, end to end: from starting `anamectl record add` to the
first UDP answer that carries the new name, polled at the server every ~0.2 ms.

  change_latency.py --anamectl BIN --socket S --port P [--zone Z] [--count N] [--tag T]

Prints key=value lines (milliseconds unless named _us): median, p90, max, the median
publish_us that anamed returns in `anamectl --json`, and the median wall time of
`anamectl zone list` (the tool's own process start + socket round trip, for scale).
"""
import argparse
import json
import os
import select
import socket
import statistics
import struct
import subprocess
import sys
import time


def query(name, qid):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + wire + struct.pack("!HH", 1, 1)


def answered(sock, name, qid, port):
    """One probe: True when the reply is NOERROR with an answer."""
    sock.sendto(query(name, qid), ("127.0.0.1", port))
    r, _, _ = select.select([sock], [], [], 0.005)
    while r:
        data = sock.recv(4096)
        if len(data) >= 12 and struct.unpack("!H", data[:2])[0] == qid:
            return (data[3] & 15) == 0 and struct.unpack("!H", data[6:8])[0] > 0
        r, _, _ = select.select([sock], [], [], 0.005)
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--anamectl", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--zone", default="mywebservice.com")
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--tag", default=str(os.getpid()))
    a = ap.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    ctl = [a.anamectl, "--socket", a.socket]

    # the tool's own cost for scale: `zone list` (`status` is what the brief names, but it
    # aborts on large zones in this anamectl build; see docs/PERFORMANCE.md)
    tool = []
    for _ in range(5):
        t0 = time.perf_counter()
        r = subprocess.run(ctl + ["zone", "list"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode == 0:
            tool.append((time.perf_counter() - t0) * 1e3)
    st = subprocess.run(ctl + ["status"], capture_output=True, text=True)
    print("status_rc=%d" % st.returncode)

    lat, pub, qid = [], [], 0
    for i in range(a.count):
        name = "chg%sx%d" % (a.tag, i)
        fq = "%s.%s" % (name, a.zone)
        t0 = time.perf_counter()
        p = subprocess.Popen(ctl + ["--json", "record", "add", a.zone, name, "A", "192.0.2.%d" % (i % 250 + 1)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        seen = None
        while time.perf_counter() - t0 < 10:
            qid = (qid + 1) & 0xFFFF
            if answered(sock, fq, qid, a.port):
                seen = time.perf_counter()
                break
            time.sleep(0.0002)
        out, err = p.communicate(timeout=30)
        if p.returncode != 0 or seen is None:
            print("change %s failed: rc=%s seen=%s %s" % (name, p.returncode, seen, err.strip()), file=sys.stderr)
            return 1
        lat.append((seen - t0) * 1e3)
        pub.append(json.loads(out).get("publish_us", -1))
        time.sleep(0.05)

    lat.sort()
    print("count=%d" % len(lat))
    print("median_ms=%.2f" % statistics.median(lat))
    print("p90_ms=%.2f" % lat[int(0.9 * (len(lat) - 1))])
    print("max_ms=%.2f" % lat[-1])
    print("min_ms=%.2f" % lat[0])
    print("publish_us_median=%d" % statistics.median(pub))
    print("publish_us_max=%d" % max(pub))
    print("tool_ms=%.2f" % (statistics.median(tool) if tool else -1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
