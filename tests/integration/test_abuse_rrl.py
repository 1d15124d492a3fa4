#!/usr/bin/env python3
"""Response rate limiting and DNS cookies against a spoofed-source flood (root: a client
network namespace and a veth pair, both made and removed by this test).

anamed listens on the host end of the veth; the host routes the flood's prefix
(198.51.100.0/24) into the client namespace, so that every reply anamed sends to a
spoofed source comes back over the veth, where a packet socket in the namespace counts
it. The flood asks ANY at the apex and TXT at a name, from 200 addresses of the /24:

  * the replies sent in full are at most the configured rate (per bucket, over the
    flood's length) and the rest are the slips (TC=1, empty), every second limited one;
  * nothing goes to an address outside the flood's prefix;
  * a legitimate client in the same /24 that presents a valid server cookie is answered in
    full all through the flood;
  * `dig +cookie` shows anamed's server cookie, and a second anamed with the same secret
    accepts it (a third with another secret does not).

Environment: ANAMED_BIN, ANAMED_TESTDATA, ANAMED_RRL_TABLE (shared or per-worker: that kind
of table and two UDP workers; unset: the default table and one worker). Last line: "N passed, N failed, N skipped".
"""

import ctypes
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from dnstest import DIG, VERBOSE, build_query, parse_header  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, main, pick_free_port  # noqa: E402

DATA = os.environ.get("ANAMED_TESTDATA", os.path.join(HERE, "..", "data"))
TAG = "%05x" % random.randrange(1 << 20)
NS = "anrrl" + TAG
IF_H, IF_C = "arh" + TAG, "arc" + TAG
NET = "10.%d.%d" % (100 + random.randrange(100), random.randrange(250))
HOST, PEER = NET + ".1", NET + ".2"
FLOOD = "198.51.100."
LEGIT = FLOOD + "250"
RATE, SLIP, SECONDS = 10, 2, 3.0
# ANAMED_RRL_TABLE=shared|per-worker: that kind of table (rrl.hpp), and two UDP workers.
TABLE = os.environ.get("ANAMED_RRL_TABLE", "")
SECRET = "00112233445566778899aabbccddeeff"
LIBC = ctypes.CDLL(None, use_errno=True)


def sh(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=30)


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (a network namespace and a veth pair)"
    return None


def opt_with_cookie(cookie):
    data = struct.pack("!HH", 10, len(cookie)) + cookie
    return b"\x00" + struct.pack("!HHIH", 41, 1232, 0, len(data)) + data


def query(qid, name, qtype, cookie=None):
    q = bytearray(build_query(qid, name, qtype))
    q[10:12] = struct.pack("!H", 1)
    if cookie is None:
        q += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
    else:
        q += opt_with_cookie(cookie)
    return bytes(q)


def reply_cookie(msg):
    """The COOKIE option's data at the end of a reply (anamed writes it last)."""
    m = re.search(rb"\x00\x0a\x00\x18(.{24})$", msg, re.S)
    return m.group(1) if m else None


def ip_checksum(h):
    s = sum(struct.unpack("!%dH" % (len(h) // 2), h))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def spoofed(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", ip_checksum(ip)) + ip[12:]
    return ip + udp


def in_namespace(work):
    """Runs work() in a child process inside the client namespace; its JSON result."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        code = 1
        try:
            fd = os.open("/var/run/netns/" + NS, os.O_RDONLY)
            if LIBC.setns(fd, 0x40000000) != 0:
                raise OSError(ctypes.get_errno(), "setns")
            os.write(w, json.dumps(work()).encode())
            code = 0
        except BaseException as e:  # noqa: B902 -- reported to the parent, whatever it is
            os.write(w, json.dumps({"error": repr(e)}).encode())
        finally:
            os._exit(code)
    os.close(w)
    out = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        out += chunk
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(out)


@unittest.skipIf(skip_reason() is not None, skip_reason() or "")
class TestRrlFlood(AnamedTestCase):

    @classmethod
    def setUpClass(cls):
        try:
            sh("ip", "netns", "add", NS)
            sh("ip", "link", "add", IF_H, "type", "veth", "peer", "name", IF_C)
            sh("ip", "link", "set", IF_C, "netns", NS)
            sh("ip", "addr", "add", HOST + "/24", "dev", IF_H)
            sh("ip", "link", "set", IF_H, "up")
            sh("sysctl", "-qw", "net.ipv4.conf.%s.rp_filter=0" % IF_H)
            sh("ip", "route", "add", FLOOD + "0/24", "via", PEER, "dev", IF_H)
            sh("ip", "link", "set", "lo", "up", ns=NS)
            sh("ip", "addr", "add", PEER + "/24", "dev", IF_C, ns=NS)
            sh("ip", "addr", "add", LEGIT + "/32", "dev", IF_C, ns=NS)
            sh("ip", "link", "set", IF_C, "up", ns=NS)
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        subprocess.run(["ip", "link", "del", IF_H], capture_output=True)
        subprocess.run(["ip", "netns", "del", NS], capture_output=True)

    def start(self, host, port, secret=SECRET, rrl=True, name="anamed"):
        zone = os.path.join(DATA, "test.zone")
        text = ("listen: [\"%s:%d\"]\nworkers: %d\nzones:\n  - {name: example.test., file: %s}\n"
                "cookies: {secret: %s}\n" % (host, port, 2 if TABLE else 1, zone, secret))
        if rrl:
            text += "rrl: {rate-limit: %d, slip: %d%s}\n" % (
                RATE, SLIP, ", table: " + TABLE if TABLE else "")
        cfg = self.write(name + ".yaml", text)
        srv = Anamed(["--config", cfg], self.dir, port, hosts=(host,), log_name=name + ".stderr")
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready()
        return srv

    def test_spoofed_flood_is_limited_and_cookie_client_served(self):
        srv = self.start(HOST, self.port)
        port = self.port

        def work():
            cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
            cap.bind((IF_C, 0))
            cap.settimeout(0.2)
            raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
            seen = {"full": 0, "slip": 0, "full_bytes": 0, "slip_bytes": 0, "outside": [],
                    "sent": 0, "legit": [], "legit_fail": []}
            done = threading.Event()

            def capture():
                while not done.is_set():
                    try:
                        f = cap.recv(70000)
                    except socket.timeout:
                        continue
                    ip = f[14:]
                    if len(ip) < 28 or ip[9] != 17:
                        continue
                    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
                    sport = struct.unpack("!H", ip[20:22])[0]
                    if src != HOST or sport != port or dst == LEGIT:
                        continue
                    if not dst.startswith(FLOOD):
                        seen["outside"].append(dst)
                    dns = ip[28:]
                    h = parse_header(dns)
                    kind = "slip" if h["tc"] and h["an"] == 0 else "full"
                    seen[kind] += 1
                    seen[kind + "_bytes"] += len(dns)

            def legit():
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((LEGIT, 0))
                s.settimeout(1.0)
                cookie = os.urandom(8)
                qid = 1
                # Learn the server cookie (the bucket of this question is flooded: the
                # first reply may be a BADCOOKIE, which carries it too).
                while not done.is_set() and len(cookie) == 8:
                    s.sendto(query(qid, "both.example.test.", 16, cookie), (HOST, port))
                    try:
                        r = s.recv(4096)
                        c = reply_cookie(r)
                        if c and c[:8] == cookie[:8]:
                            cookie = c
                    except socket.timeout:
                        pass
                    qid += 1
                while not done.is_set():
                    s.sendto(query(qid, "both.example.test.", 16, cookie), (HOST, port))
                    try:
                        h = parse_header(s.recv(4096))
                        seen["legit"].append([h["rcode"], h["an"], h["tc"]])
                    except socket.timeout:
                        seen["legit_fail"].append(qid)
                    qid += 1
                    time.sleep(0.1)

            threads = [threading.Thread(target=capture), threading.Thread(target=legit)]
            for t in threads:
                t.start()
            questions = [query(0, "example.test.", 255), query(0, "both.example.test.", 16)]
            end = time.monotonic() + SECONDS
            while time.monotonic() < end:
                for i in range(200):
                    q = questions[i % 2]
                    q = struct.pack("!H", random.randrange(65536)) + q[2:]
                    raw.sendto(spoofed(FLOOD + str(1 + i), HOST, random.randrange(1024, 65535),
                                       port, q), (HOST, 0))
                    seen["sent"] += 1
                time.sleep(0.05)
            time.sleep(0.5)
            done.set()
            for t in threads:
                t.join()
            return seen

        seen = in_namespace(work)
        self.assertNotIn("error", seen, seen)
        if VERBOSE:
            print({k: v for k, v in seen.items() if k != "legit"}, len(seen["legit"]),
                  file=sys.stderr)
        # Two buckets (ANY at the apex, TXT at both), RATE a second each, a second's burst.
        allowed = 2 * RATE * (SECONDS + 1.5)
        limited = seen["sent"] - seen["full"]
        self.assertGreater(seen["sent"], 10 * allowed, seen)
        self.assertLessEqual(seen["full"], allowed, seen)
        self.assertLessEqual(seen["slip"], limited / SLIP + 2, seen)
        self.assertGreaterEqual(seen["slip"], limited / SLIP * 0.8, seen)
        slip_size = max(1, seen["slip_bytes"] // max(1, seen["slip"]))
        self.assertLess(slip_size, 60, seen)  # header and question only
        self.assertEqual(seen["outside"], [])
        # The cookie client: answered in full, every time.
        self.assertGreater(len(seen["legit"]), 10, seen)
        self.assertEqual(seen["legit_fail"], [], seen)
        for rcode, an, tc in seen["legit"]:
            self.assertEqual((rcode, tc), (0, False), seen["legit"])
            self.assertGreater(an, 0)
        self.assertIsNotNone(srv.wait_log(r"rrl: rate limiting responses to 198\.51\.100\.0/24"),
                             srv.log()[-2000:])
        self.assertEqual(srv.log().count("rrl: rate limiting responses to"), 1, srv.log())

    def test_dig_cookie_and_a_second_server_with_the_same_secret(self):
        a = self.start("127.0.0.1", self.port, rrl=False, name="first")
        port_b, port_c = pick_free_port(), pick_free_port()
        b = self.start("127.0.0.1", port_b, name="second")
        c = self.start("127.0.0.1", port_c, secret="ff" * 16, name="other")
        out = subprocess.run([DIG, "@127.0.0.1", "-p", str(self.port), "+cookie", "+norec",
                              "both.example.test.", "TXT"], capture_output=True, text=True,
                             timeout=10).stdout
        m = re.search(r"; COOKIE: ([0-9a-f]{16})([0-9a-f]{32}) \(good\)", out)
        self.assertIsNotNone(m, out)
        full = m.group(1) + m.group(2)
        # dig presenting it again: still good.
        out2 = subprocess.run([DIG, "@127.0.0.1", "-p", str(self.port), "+cookie=" + full,
                               "+norec", "both.example.test.", "TXT"], capture_output=True,
                              text=True, timeout=10).stdout
        self.assertRegex(out2, r"; COOKIE: %s[0-9a-f]{32} \(good\)" % m.group(1))
        cookie = bytes.fromhex(full)

        def answered(port, n=30):
            """n queries at once with the cookie; how many were answered in full."""
            got = 0
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                for i in range(n):
                    s.sendto(query(i, "both.example.test.", 16, cookie), ("127.0.0.1", port))
                s.settimeout(0.5)
                try:
                    while True:
                        h = parse_header(s.recv(4096))
                        got += h["rcode"] == 0 and h["an"] > 0
                except socket.timeout:
                    pass
            return got
        # The second anamed (same secret, rate limiting on) accepts the first one's cookie:
        # exempt, every query answered. The third (another secret) limits it to its rate.
        self.assertEqual(answered(port_b), 30, b.log()[-2000:])
        self.assertLessEqual(answered(port_c), RATE + 2, c.log()[-2000:])
        del a


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
