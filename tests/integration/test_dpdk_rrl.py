#!/usr/bin/env python3
"""Response rate limiting on the DPDK dataplane, end to end (root + DPDK: two network
namespaces and a veth pair, made and removed by this test).

anamed's DPDK port (net_af_packet) holds one end of the veth in a server namespace; the
other end is in a client namespace. A packet socket there sends a flood of queries from one
spoofed source (198.51.100.7, whose /24 is not the client's) and counts what comes back:
the dataplane answers to the MAC a query came from, so the replies to the spoofed source
arrive on the veth too. Meanwhile a normal client (10.53.0.2) keeps asking. Every query asks for
ns1.mywebservice.com A (a plain A record).

For each kind of table (`rrl: {table: per-worker}` and `{table: shared}`):
  * the flood's full answers are at most the rate over the flood's length (plus the
    bucket's first second), the other replies are slips (TC=1, no answer), one every
    second limited response, and the dropped and slipped responses are counted in the
    dataplane's stats (DPDK telemetry);
  * the normal client gets every answer in full throughout (ten queries a second);
  * one log line says the flood's /24 is being limited.

Environment: ANAMED_BIN, ANAMED_DPDK_WORKERS (default 1).
Last line: "N passed, N failed, N skipped"; exit code non-zero on failure.
"""

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
from dnstest import build_query, parse_header  # noqa: E402
from test_dpdk import ipv4_udp_frame, mac_bytes, setns, skip_reason  # noqa: E402

BIN = os.environ.get("ANAMED_BIN", os.path.join(REPO, "build", "controlplane", "anamed"))
WORKERS = int(os.environ.get("ANAMED_DPDK_WORKERS", "1"))
TAG = "%05x" % random.randrange(1 << 20)
NS_S, NS_C = "anrl-%s-s" % TAG, "anrl-%s-c" % TAG
IF_A, IF_B = "anrl%s-a" % TAG, "anrl%s-b" % TAG
MAC = "02:00:00:00:53:01"
V4, CLIENT = "10.53.0.1", "10.53.0.2"
FLOOD_SRC = "198.51.100.7"
ZONE = "mywebservice.com"
RATE, SLIP = 20, 2
FLOOD_QUERIES, FLOOD_SECONDS = 1500, 1.5


def sh(*args, ns=None, check=True, timeout=30):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, timeout=timeout, capture_output=True, text=True)


def in_namespace(ns, work):
    """Run work() in this thread with the thread moved into network namespace `ns`."""
    fd = os.open("/var/run/netns/" + ns, os.O_RDONLY)
    mine = os.open("/proc/self/ns/net", os.O_RDONLY)
    try:
        setns(fd)
        return work()
    finally:
        setns(mine)
        os.close(fd)
        os.close(mine)


@unittest.skipIf(skip_reason() is not None, skip_reason() or "")
class DpdkRateLimiting(unittest.TestCase):
    proc = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="anamed-dpdk-rrl-")
        try:
            sh("ip", "netns", "add", NS_S)
            sh("ip", "netns", "add", NS_C)
            sh("ip", "link", "add", IF_A, "type", "veth", "peer", "name", IF_B)
            sh("ip", "link", "set", IF_A, "netns", NS_S)
            sh("ip", "link", "set", IF_B, "netns", NS_C)
            sh("ip", "link", "set", "lo", "up", ns=NS_S)
            # Only the dataplane answers on the server's end.
            sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % IF_A,
               "net.ipv4.conf.%s.arp_ignore=8" % IF_A, ns=NS_S)
            sh("ip", "link", "set", IF_A, "up", ns=NS_S)
            sh("ip", "link", "set", "lo", "up", ns=NS_C)
            sh("ip", "addr", "add", CLIENT + "/24", "dev", IF_B, ns=NS_C)
            sh("ip", "link", "set", IF_B, "up", ns=NS_C)
            cls.client_mac = mac_bytes(
                sh("cat", "/sys/class/net/%s/address" % IF_B, ns=NS_C).stdout.strip())
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for ns in (NS_S, NS_C):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # ---- one anamed per table kind

    def start(self, table):
        self.prefix = "anamed-rrl-%s-%s" % (TAG, table)
        vdev = "net_af_packet0,iface=%s" % IF_A
        if WORKERS > 1:
            vdev += ",qpairs=%d" % WORKERS
        cpus = os.cpu_count() or 1
        lcores = ",".join("%d@%d" % (i, i % cpus) for i in range(WORKERS + 1))
        cfg = os.path.join(self.tmp, "anamed-%s.yaml" % table)
        with open(cfg, "w") as f:
            f.write("""listen: ["127.0.0.1:%(port)d"]
workers: 1
zones:
  - name: mywebservice.com
    file: %(ex)s/mywebservice.com.zone
rrl: {rate-limit: %(rate)d, slip: %(slip)d, table: %(table)s}
dpdk:
  eal-args: ["--no-huge", "-m", "512", "--no-pci", "--lcores=%(lcores)s",
             "--file-prefix=%(prefix)s", "--vdev=%(vdev)s"]
  workers: %(workers)d
  idle-sleep-us: 20
  ports:
    - device: net_af_packet0
      addresses: ["%(v4)s/24"]
      mac: "%(mac)s"
""" % dict(port=20000 + random.randrange(20000), ex=os.path.join(REPO, "examples"),
           rate=RATE, slip=SLIP, table=table, lcores=lcores, prefix=self.prefix, vdev=vdev,
           workers=WORKERS, v4=V4, mac=MAC))
        self.log_path = os.path.join(self.tmp, "anamed-%s.log" % table)
        self.log = open(self.log_path, "w+")
        self.proc = subprocess.Popen(["ip", "netns", "exec", NS_S, BIN, "--config", cfg],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        self.addCleanup(self.stop)
        deadline = time.time() + 20
        while time.time() < deadline:
            text = self.log_text()
            if "serving" in text and "worker(s) running" in text:
                return
            if self.proc.poll() is not None:
                self.fail("anamed exited:\n" + text)
            time.sleep(0.2)
        self.fail("anamed did not start:\n" + self.log_text())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()

    def log_text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def telemetry(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(3)
        s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % self.prefix)
        s.recv(16384)
        s.send(b"/anamed/stats")
        reply = json.loads(s.recv(65536).decode())
        s.close()
        return reply["/anamed/stats"]

    def dig(self, *args):
        return sh("dig", "+time=1", "+tries=1", "+norec", "@" + V4, *args, ns=NS_C,
                  check=False).stdout

    # ---- the flood and the count of what comes back

    def flood(self):
        """Sends the flood from FLOOD_SRC through a packet socket; returns (full answers,
        slips, other replies, seconds the flood took) as seen on the client's end."""
        sock = in_namespace(NS_C, lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                                        socket.htons(0x0003)))
        sock.bind((IF_B, 0))
        sock.settimeout(0.1)
        seen = {"full": 0, "slip": 0, "other": 0}
        done = threading.Event()

        def capture():
            spoofed = socket.inet_aton(FLOOD_SRC)
            while True:
                try:
                    frame = sock.recv(4096)
                except socket.timeout:
                    if done.is_set():
                        return
                    continue
                if len(frame) < 42 + 12 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
                    continue
                if frame[30:34] != spoofed or frame[26:30] != socket.inet_aton(V4):
                    continue
                h = parse_header(frame[42:])
                if h["tc"] and h["an"] == 0:
                    seen["slip"] += 1
                elif not h["tc"] and h["rcode"] == 0 and h["an"] > 0:
                    seen["full"] += 1
                else:
                    seen["other"] += 1

        reader = threading.Thread(target=capture, daemon=True)
        reader.start()
        frames = [ipv4_udp_frame(self.client_mac, mac_bytes(MAC), FLOOD_SRC, V4,
                                 1024 + i % 50000, 53,
                                 build_query(i & 0xFFFF, "ns1." + ZONE, 1))
                  for i in range(FLOOD_QUERIES)]
        t0 = time.monotonic()
        for i, f in enumerate(frames):
            sock.send(f)
            # Paced: the flood lasts FLOOD_SECONDS, so the rate allows more than one second's.
            ahead = t0 + FLOOD_SECONDS * (i + 1) / len(frames) - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        took = time.monotonic() - t0
        time.sleep(0.5)
        done.set()
        reader.join()
        sock.close()
        return seen["full"], seen["slip"], seen["other"], took

    def limited_and_normal_client_served(self, table):
        self.start(table)
        # The normal client, first alone, then all through the flood.
        self.assertIn("status: NOERROR", self.dig(ZONE, "SOA"))
        before = self.telemetry()
        normal = []
        stop = threading.Event()

        client = in_namespace(NS_C, lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        client.bind((CLIENT, 0))
        client.settimeout(1.0)

        def ask():  # ten queries a second, half the rate: never limited itself
            qid = 0
            while not stop.is_set():
                qid += 1
                client.sendto(build_query(qid, "ns1." + ZONE, 1), (V4, 53))
                try:
                    while True:
                        r = client.recv(4096)
                        if parse_header(r)["id"] == qid:
                            break
                    normal.append(parse_header(r))
                except socket.timeout:
                    normal.append(None)
                time.sleep(0.1)

        asker = threading.Thread(target=ask, daemon=True)
        asker.start()
        try:
            full, slips, other, took = self.flood()
        finally:
            stop.set()
            asker.join()
            client.close()
        after = self.telemetry()
        delta = {k: after[k] - before[k] for k in after}
        print("\n  %s: %d queries in %.2f s from %s: %d answered in full, %d slipped, %d other; "
              "dataplane: dropped_rate_limited +%d, rrl_slipped +%d; normal client: %d queries"
              % (table, FLOOD_QUERIES, took, FLOOD_SRC, full, slips, other,
                 delta["dropped_rate_limited"], delta["rrl_slipped"], len(normal)))
        # A bucket starts full (a second's worth) and refills at the rate.
        self.assertGreater(full, 0, "the flood got no answer at all: %s" % ((full, slips, other, delta),))
        self.assertLessEqual(full, RATE * (took + 1) + 2, (full, slips, took, delta))
        limited = FLOOD_QUERIES - full
        self.assertGreater(slips, 0.8 * limited / SLIP, (full, slips, other, delta))
        self.assertLessEqual(slips, limited / SLIP + 1, (full, slips, other, delta))
        self.assertEqual(other, 0, (full, slips, other))
        self.assertGreaterEqual(delta["rrl_slipped"], slips, delta)
        self.assertGreater(delta["dropped_rate_limited"], 0.8 * limited / 2, delta)
        # Every answer to the normal client was in full, and there were many of them.
        self.assertGreaterEqual(len(normal), 5)
        for h in normal:
            self.assertIsNotNone(h, "the normal client got no answer within 1 s")
            self.assertEqual((h["rcode"], h["tc"], h["an"]), (0, False, 1), h)
        deadline = time.time() + 3
        while "rrl: rate limiting responses to 198.51.100.0/24" not in self.log_text():
            self.assertLess(time.time(), deadline, "no log line:\n" + self.log_text()[-2000:])
            time.sleep(0.1)
        self.assertEqual(self.log_text().count("rrl: rate limiting responses to"), 1,
                         self.log_text()[-2000:])

    def test_per_worker_table(self):
        self.limited_and_normal_client_served("per-worker")

    def test_shared_table(self):
        self.limited_and_normal_client_served("shared")


def main():
    reason = skip_reason()
    if reason:
        print("SKIP test_dpdk_rrl: " + reason)
    result = unittest.TextTestRunner(verbosity=2).run(
        unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    print("%d passed, %d failed, %d skipped" % (result.testsRun - failed - skipped, failed,
                                                skipped))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
