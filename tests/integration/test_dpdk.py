#!/usr/bin/env python3
"""DPDK dataplane integration test; needs root and DPDK.

A veth pair: one end in a server namespace, opened by anamed's DPDK port through
net_af_packet (the kernel side of that end has no address, no IPv6, ignores ARP, so only
the dataplane answers); the other end in a client namespace. The exception path is a
net_tap whose kernel side carries the service addresses, so the kernel frontend serves TCP.
The client finds anamed through ARP and ND answered by the dataplane (no static entries).

Checks: dig over UDP IPv4 and IPv6, ping and ping -6, TCP over both families through the
exception path, a VLAN-tagged query (raw frame: the test kernel may lack 802.1Q), malformed
frames dropped and counted (read through DPDK telemetry), dnsperf with no lost queries.

With ANAMED_DPDK_WORKERS=2 the port gets two queue pairs, one per worker lcore (af_packet
spreads flows over them by hash), and the test also checks that both workers answered.

Environment: ANAMED_BIN, ANAMED_TESTDATA (unused), ANAMED_DPDK_PMD=af_packet|af_xdp,
ANAMED_DPDK_WORKERS (default 1).
Last line: "N passed, N failed, N skipped"; exit code non-zero on failure.
"""

import ctypes
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import build_query  # noqa: E402

BIN = os.environ.get("ANAMED_BIN", os.path.join(REPO, "build", "controlplane", "anamed"))
PMD = os.environ.get("ANAMED_DPDK_PMD", "af_packet")
WORKERS = int(os.environ.get("ANAMED_DPDK_WORKERS", "1"))
TAG = "%d" % (os.getpid() % 100000)
NS_S, NS_C = "anm-%s-s" % TAG, "anm-%s-c" % TAG
IF_A, IF_B, IF_T = "anm%s-a" % TAG, "anm%s-b" % TAG, "anm%s-t" % TAG
PREFIX = "anamed-test-%s" % TAG
MAC = "02:00:00:00:53:01"
V4, V6, V4_VLAN = "10.53.0.1", "fd53::1", "10.53.100.1"
ZONE = "mywebservice.com"


def sh(*args, ns=None, check=True, timeout=30, **kw):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, check=check, timeout=timeout, capture_output=True, text=True, **kw)


def skip_reason():
    if os.geteuid() != 0:
        return "needs root (network namespaces, veth, DPDK)"
    if subprocess.run(["pkg-config", "--exists", "libdpdk"]).returncode != 0:
        return "DPDK not installed (apt-get install libdpdk-dev dpdk)"
    if not os.path.exists(BIN):
        return "anamed binary not found at " + BIN
    out = subprocess.run([BIN, "--help"], capture_output=True, text=True).stdout
    return None if out is not None else "anamed does not run"


def telemetry(cmd):
    """DPDK telemetry v2: connect, read the greeting, ask, read the JSON reply."""
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % PREFIX
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(3)
    s.connect(path)
    s.recv(16384)
    s.send(cmd.encode())
    reply = json.loads(s.recv(65536).decode())
    s.close()
    return reply[cmd.split(",")[0]]


def csum(data):
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_udp_frame(src_mac, dst_mac, src, dst, sport, dport, payload, vlan=None, **bad):
    udp_len = 8 + len(payload)
    total = bad.get("ip_total", 20 + udp_len)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 1, bad.get("frag", 0), 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    udp = struct.pack("!HHHH", sport, dport, bad.get("udp_len", udp_len), 0) + payload
    l2 = dst_mac + src_mac
    if vlan is not None:
        l2 += struct.pack("!HH", 0x8100, vlan)
    return l2 + struct.pack("!H", 0x0800) + ip + udp


LIBC = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def setns(fd):
    """os.setns arrived in Python 3.12; Debian 12 has 3.11."""
    if LIBC.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns")


def mac_bytes(text):
    return bytes(int(x, 16) for x in text.split(":"))


@unittest.skipIf(skip_reason() is not None, skip_reason() or "")
class DpdkDataplane(unittest.TestCase):
    proc = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="anamed-dpdk-")
        try:
            cls.make_rig()
            cls.start_anamed()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def make_rig(cls):
        sh("ip", "netns", "add", NS_S)
        sh("ip", "netns", "add", NS_C)
        sh("ip", "link", "add", IF_A, "type", "veth", "peer", "name", IF_B)
        sh("ip", "link", "set", IF_A, "netns", NS_S)
        sh("ip", "link", "set", IF_B, "netns", NS_C)
        sh("ip", "link", "set", "lo", "up", ns=NS_S)
        # The kernel of the server namespace sees every frame af_packet sees: keep it quiet
        # on this link so that only the dataplane answers there.
        sh("sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % IF_A,
           "net.ipv4.conf.%s.arp_ignore=8" % IF_A, "net.ipv4.conf.%s.rp_filter=1" % IF_A,
           "net.ipv4.conf.all.rp_filter=1", ns=NS_S)
        sh("ip", "link", "set", IF_A, "up", ns=NS_S)
        if PMD == "af_xdp":
            sh("ip", "link", "set", "dev", IF_A, "xdp", "off", ns=NS_S, check=False)
        sh("ip", "link", "set", "lo", "up", ns=NS_C)
        sh("ip", "addr", "add", "10.53.0.2/24", "dev", IF_B, ns=NS_C)
        sh("ip", "addr", "add", "fd53::2/64", "dev", IF_B, "nodad", ns=NS_C)
        sh("ip", "link", "set", IF_B, "up", ns=NS_C)
        # veth leaves checksums to "hardware"; the kernel behind the exception path checks them.
        sh("ethtool", "-K", IF_B, "tx", "off", ns=NS_C, check=False)
        cls.client_mac = open("/sys/class/net/%s/address" % IF_B).read().strip() \
            if os.path.exists("/sys/class/net/%s/address" % IF_B) else \
            sh("cat", "/sys/class/net/%s/address" % IF_B, ns=NS_C).stdout.strip()

    @classmethod
    def start_anamed(cls):
        vdev = ("net_af_xdp0,iface=%s" % IF_A) if PMD == "af_xdp" else ("net_af_packet0,iface=%s" % IF_A)
        if WORKERS > 1:
            vdev += ",%s=%d" % ("queue_count" if PMD == "af_xdp" else "qpairs", WORKERS)
        # the main lcore and the workers, spread over the CPUs there are
        cpus = os.cpu_count() or 1
        lcores = ",".join("%d@%d" % (i, i % cpus) for i in range(WORKERS + 1))
        dev = vdev.split(",")[0]
        cfg = os.path.join(cls.tmp, "anamed.yaml")
        with open(cfg, "w") as f:
            f.write("""listen: ["0.0.0.0:53", "[::]:53"]
workers: 1
zones:
  - name: mywebservice.com
    file: %(ex)s/mywebservice.com.zone
  - name: hosting.example
    file: %(ex)s/hosting.example.zone
dpdk:
  eal-args: ["--no-huge", "-m", "512", "--no-pci", "--lcores=%(lcores)s", "--file-prefix=%(prefix)s",
             "--vdev=%(vdev)s", "--vdev=net_tap0,iface=%(tap)s"]
  workers: %(workers)d
  idle-sleep-us: 20
  exception-pps: 5000
  update-pps: 50
  ports:
    - device: %(dev)s
      addresses: ["%(v4)s/24", "%(v6)s/64", "%(v4v)s/24"]
      exception: net_tap0
      mac: "%(mac)s"
      vlans: [100]
""" % dict(ex=os.path.join(REPO, "examples"), prefix=PREFIX, vdev=vdev, tap=IF_T, dev=dev,
           v4=V4, v6=V6, v4v=V4_VLAN, mac=MAC, lcores=lcores, workers=WORKERS))
        cls.log = open(os.path.join(cls.tmp, "anamed.log"), "w+")
        cls.proc = subprocess.Popen(["ip", "netns", "exec", NS_S, BIN, "--config", cfg],
                                    stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:
            cls.log.seek(0)
            text = cls.log.read()
            if "serving" in text and "worker(s) running" in text:
                return
            if cls.proc.poll() is not None:
                raise RuntimeError("anamed exited:\n" + text)
            time.sleep(0.2)
        raise RuntimeError("anamed did not start:\n" + text)

    @classmethod
    def tearDownClass(cls):
        if cls.proc is not None and cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            try:
                cls.exit_code = cls.proc.wait(10)
            except subprocess.TimeoutExpired:
                cls.proc.kill()
                cls.proc.wait()
                cls.exit_code = None
        for ns in (NS_S, NS_C):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def dig(self, *args):
        r = sh("dig", "+time=2", "+tries=2", "+norec", *args, ns=NS_C, check=False)
        return r.stdout

    def test_1_udp_ipv4_found_through_arp(self):
        out = self.dig("@" + V4, "customer." + ZONE, "A")
        self.assertIn("status: NOERROR", out)
        self.assertIn("203.0.113.10", out)
        neigh = sh("ip", "neigh", "show", V4, ns=NS_C).stdout
        self.assertIn(MAC, neigh.lower(), "ARP answered with the port's MAC")

    def test_2_udp_ipv6_found_through_nd(self):
        out = self.dig("@" + V6, "customer." + ZONE, "AAAA")
        self.assertIn("status: NOERROR", out)
        self.assertIn("2001:db8:10::10", out)
        out = self.dig("@" + V6, "nothere." + ZONE, "A")
        self.assertIn("status: NXDOMAIN", out)
        self.assertIn(MAC, sh("ip", "-6", "neigh", "show", V6, ns=NS_C).stdout.lower())

    def test_3_ping(self):
        self.assertEqual(sh("ping", "-c", "3", "-i", "0.2", "-W", "2", V4, ns=NS_C, check=False).returncode, 0)
        self.assertEqual(sh("ping", "-6", "-c", "3", "-i", "0.2", "-W", "2", V6, ns=NS_C, check=False).returncode, 0)

    def test_4_tcp_through_the_exception_path(self):
        out = self.dig("+tcp", "@" + V4, "customer." + ZONE, "MX")
        self.assertIn("status: NOERROR", out)
        self.assertIn("mx.customer-mail.example", out)
        out = self.dig("+tcp", "@" + V6, "customer." + ZONE, "TXT")
        self.assertIn("customer-verification", out)
        self.assertGreater(telemetry("/anamed/stats")["to_kernel"], 0)

    def test_4_notify_through_the_exception_path(self):
        """A NOTIFY arriving on the DPDK port is handed off to the kernel frontend, whose
        control plane answers it (NOTAUTH: the zone is not a secondary here)."""
        before = telemetry("/anamed/stats")["to_kernel"]
        out = self.dig("+opcode=notify", "@" + V4, ZONE, "SOA")
        self.assertIn("opcode: NOTIFY", out)
        self.assertIn("status: NOTAUTH", out)
        self.assertGreater(telemetry("/anamed/stats")["to_kernel"], before)

    def raw_socket(self):
        """A packet socket in the client namespace (setns for this thread only)."""
        fd = os.open("/var/run/netns/" + NS_C, os.O_RDONLY)
        mine = os.open("/proc/self/ns/net", os.O_RDONLY)
        try:
            setns(fd)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            s.bind((IF_B, 0))
        finally:
            setns(mine)
            os.close(fd)
            os.close(mine)
        s.settimeout(0.2)
        return s

    def test_5_vlan_tagged_query(self):
        self.dig("@" + V4, ZONE, "SOA")  # the client learns our MAC first
        s = self.raw_socket()
        me = mac_bytes(self.client_mac)
        q = build_query(0x4242, "customer." + ZONE, 1)
        s.send(ipv4_udp_frame(me, mac_bytes(MAC), "10.53.100.2", V4_VLAN, 40000, 53, q, vlan=100))
        deadline = time.time() + 3
        got = None
        while time.time() < deadline and got is None:
            try:
                frame = s.recv(4096)
            except socket.timeout:
                continue
            # The kernel may hand the tag over out of band; the payload tells us enough.
            for off in (14, 18):
                if len(frame) > off + 28 and frame[off + 9] == 17 and frame[off + 12:off + 16] == socket.inet_aton(V4_VLAN):
                    dns = frame[off + 28:]
                    if dns[:2] == b"\x42\x42":
                        got = dns
        s.close()
        self.assertIsNotNone(got, "no reply to the VLAN-tagged query")
        self.assertEqual(got[3] & 0xF, 0)
        self.assertEqual(struct.unpack("!H", got[6:8])[0], 2, "two A records")

    def test_6_malformed_frames_dropped_and_counted(self):
        self.dig("@" + V4, ZONE, "SOA")
        before = telemetry("/anamed/stats")
        s = self.raw_socket()
        me, it = mac_bytes(self.client_mac), mac_bytes(MAC)
        q = build_query(0x1234, ZONE)
        bad = [
            ipv4_udp_frame(me, it, "10.53.0.2", V4, 40001, 53, q, ip_total=400),        # bad_length
            ipv4_udp_frame(me, it, "10.53.0.2", V4, 40002, 53, q, udp_len=9),          # bad_length
            ipv4_udp_frame(me, it, "10.53.0.2", "10.53.0.77", 40003, 53, q),           # not ours
            ipv4_udp_frame(me, b"\xff" * 6, "10.53.0.2", "10.53.0.255", 40004, 53, q),  # broadcast junk
            ipv4_udp_frame(me, it, "10.53.0.2", V4, 40005, 53, q, vlan=200),           # vlan
            (it + me + b"\x08\x00" + b"\x45\x00\x00"),                                  # truncated IPv4
            ipv4_udp_frame(me, it, "10.53.0.2", V4, 40006, 53, b"\x00\x01"),           # DNS runt
        ]
        for f in bad:
            s.send(f.ljust(60, b"\x00") if len(f) >= 34 else f)
        s.close()
        time.sleep(0.5)
        after = telemetry("/anamed/stats")
        delta = {k: after[k] - before[k] for k in after}
        self.assertGreaterEqual(delta["dropped_bad_length"], 2, delta)
        self.assertGreaterEqual(delta["dropped_not_ours"], 2, delta)
        self.assertGreaterEqual(delta["dropped_vlan"], 1, delta)
        self.assertGreaterEqual(delta["dropped_malformed"], 1, delta)
        self.assertGreaterEqual(delta["dropped_no_reply"], 1, delta)
        # and the dataplane still answers
        self.assertIn("status: NOERROR", self.dig("@" + V4, "customer." + ZONE, "A"))

    def test_7_dnsperf_no_loss(self):
        if shutil.which("dnsperf") is None:
            self.skipTest("dnsperf not installed")
        qfile = os.path.join(self.tmp, "queries")
        with open(qfile, "w") as f:
            for name, t in [("customer", "A"), ("customer", "MX"), ("acme", "A"), ("www", "A"), ("nothere", "A")]:
                f.write("%s.%s %s\n" % (name, ZONE, t))
        r = sh("dnsperf", "-s", V4, "-d", qfile, "-l", "5", "-Q", "2000", "-c", "16", ns=NS_C,
               check=False, timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        sent = int(r.stdout.split("Queries sent:")[1].split()[0])
        lost = int(r.stdout.split("Queries lost:")[1].split()[0])
        self.assertGreater(sent, 5000)
        self.assertEqual(lost, 0, r.stdout)

    def test_8_telemetry_counts_answers(self):
        st = telemetry("/anamed/stats")
        self.assertGreater(st["answered_NOERROR"], 0)
        self.assertGreater(st["arp_replies"], 0)
        self.assertGreater(st["nd_advertisements"], 0)
        self.assertGreater(st["echo_replies"], 0)
        workers_rx = [telemetry("/anamed/worker,%d" % w)["rx"] for w in range(WORKERS)]
        self.assertEqual(telemetry("/anamed/port,0")["rx"], sum(workers_rx))
        # every worker got its share of dnsperf's 16 flows (source ports hashed over the queues)
        for w, rx in enumerate(workers_rx):
            self.assertGreater(rx, 100, "worker %d rx %s" % (w, workers_rx))

    def test_9_update_flood_limited_apart(self):
        """UPDATE messages have a bucket of their own (update-pps: 50): a flood of them is cut
        and counted as update_limit, NOTIFY through the same exception path still gets its
        answer, and the exception path's own limit drops nothing. Per-zone counters read
        through telemetry count the answers of the zone."""
        zones = telemetry("/anamed/zones")
        self.assertGreater(zones.get("mywebservice_com", 0), 0, zones)
        self.assertEqual(zones["mywebservice_com"], sum(
            zones["mywebservice_com_" + rc] for rc in ("NOERROR", "NXDOMAIN", "SERVFAIL", "other")))
        before = telemetry("/anamed/stats")
        flood = ("import socket, struct\n"
                 "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                 "q = struct.pack('!HHHHHH', 1, 0x2800, 1, 0, 0, 0)"
                 " + b'\\x0cmywebservice\\x03com\\x00' + struct.pack('!HH', 6, 1)\n"
                 "for i in range(2000): s.sendto(q, ('%s', 53))\n" % V4)
        sh("python3", "-c", flood, ns=NS_C)
        out = self.dig("+opcode=notify", "@" + V4, ZONE, "SOA")
        self.assertIn("status: NOTAUTH", out)
        after = telemetry("/anamed/stats")
        self.assertGreater(after["dropped_update_limit"] - before["dropped_update_limit"], 500)
        self.assertEqual(after["dropped_exception_limit"], before["dropped_exception_limit"])


def main():
    reason = skip_reason()
    if reason:
        print("SKIP test_dpdk: " + reason)
    result = unittest.TextTestRunner(verbosity=2).run(unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__]))
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    print("%d passed, %d failed, %d skipped" % (result.testsRun - failed - skipped, failed, skipped))
    if getattr(DpdkDataplane, "exit_code", 0) not in (0, None):
        print("anamed exited with %s after SIGTERM" % DpdkDataplane.exit_code)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
