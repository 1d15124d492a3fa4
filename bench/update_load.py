#!/usr/bin/env python3
"""Dynamic-update load and latency against one server (anamed or Knot), over UDP on loopback.

  update_load.py --port P --key NAME:ALG:SECRET [--zone Z] [--count N] [--window W] [--tag T]

throughput: N updates (each adds one new name, TSIG-signed beforehand so that signing is not
measured), W of them in flight at a time; an update counts when its NOERROR reply came, which
both servers send only after the journal's fsync covering it. latency: 50 updates one at a
time, from sending each to the first UDP answer carrying its name (polled every ~0.2 ms).
Prints key=value lines: acked, rate (acknowledged updates/s), lat_median_ms, lat_p90_ms.
"""
import argparse
import select
import socket
import statistics
import struct
import sys
import time

sys.dont_write_bytecode = True
import dns.message  # noqa: E402
import dns.rcode  # noqa: E402
import dns.tsigkeyring  # noqa: E402
import dns.update  # noqa: E402


def signed_updates(zone, key, prefix, count):
    name, alg, secret = key.split(":", 2)
    ring = dns.tsigkeyring.from_text({name: (alg, secret)})
    out = []
    for i in range(count):
        m = dns.update.UpdateMessage(zone, keyring=ring, keyname=name, keyalgorithm=alg)
        m.id = i % 65536
        m.add("%s%d" % (prefix, i), 300, "A", "10.%d.%d.%d" % (i >> 16 & 255, i >> 8 & 255, i & 255))
        out.append(m.to_wire())
    return out


def throughput(port, msgs, window):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    pending = {}  # id -> (index, sent at)
    nxt = acked = failed = 0
    t0 = time.monotonic()
    while nxt < len(msgs) or pending:
        while nxt < len(msgs) and len(pending) < window:
            qid = struct.unpack("!H", msgs[nxt][:2])[0]
            pending[qid] = (nxt, time.monotonic())
            s.send(msgs[nxt])
            nxt += 1
        r, _, _ = select.select([s], [], [], 0.5)
        if not r:  # a lost datagram: resend whatever is old
            now = time.monotonic()
            for qid, (i, at) in list(pending.items()):
                if now - at > 1.0:
                    pending[qid] = (i, now)
                    s.send(msgs[i])
            continue
        data = s.recv(65535)
        qid = struct.unpack("!H", data[:2])[0]
        if qid in pending:
            del pending[qid]
            if data[3] & 15 == 0:
                acked += 1
            else:
                failed += 1
    return acked, failed, time.monotonic() - t0


def query(name, qid):
    wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    return struct.pack("!HHHHHH", qid, 0, 1, 0, 0, 0) + wire + struct.pack("!HH", 1, 1)


def visible(s, name, qid):
    s.send(query(name, qid))
    r, _, _ = select.select([s], [], [], 0.005)
    while r:
        data = s.recv(4096)
        if struct.unpack("!H", data[:2])[0] == qid:
            return data[3] & 15 == 0 and struct.unpack("!H", data[6:8])[0] > 0
        r, _, _ = select.select([s], [], [], 0.005)
    return False


def latency(port, zone, msgs, prefix):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.connect(("127.0.0.1", port))
    q = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    q.connect(("127.0.0.1", port))
    out = []
    for i, m in enumerate(msgs):
        name = "%s%d.%s" % (prefix, i, zone)
        t0 = time.monotonic()
        u.send(m)
        while not visible(q, name, (i * 7 + 1) % 65536):
            if time.monotonic() - t0 > 5:
                break
            time.sleep(0.0002)
        out.append((time.monotonic() - t0) * 1000)
        u.recv(65535)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--zone", default="mywebservice.com")
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--window", type=int, default=32)
    ap.add_argument("--tag", default=str(int(time.time())))
    a = ap.parse_args()
    msgs = signed_updates(a.zone, a.key, "b%s-" % a.tag, a.count)
    acked, failed, secs = throughput(a.port, msgs, a.window)
    lat = latency(a.port, a.zone, signed_updates(a.zone, a.key, "l%s-" % a.tag, 50), "l%s-" % a.tag)
    lat.sort()
    print("acked=%d" % acked)
    print("failed=%d" % failed)
    print("rate=%.0f" % (acked / secs))
    print("lat_median_ms=%.2f" % statistics.median(lat))
    print("lat_p90_ms=%.2f" % lat[int(len(lat) * 0.9)])


if __name__ == "__main__":
    main()
