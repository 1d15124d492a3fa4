"""The control-socket suites' shared parts (test_control_*.py; python3 stdlib only).

  * base_zone() / small_zone(): the zone every test starts from (ctl.test, with an
    in-zone ALIAS, so no upstream is needed) and minimal extra zones;
  * ControlConn: a raw control-socket client, one JSON object per line each way;
    change(): one change of a request;
  * parse_zone_text(): a zone file as anamed's flush writes it;
  * ControlTest: anamed with --control and --journal in the test's private
    directory, started and restarted over the same journal, with helpers for
    anamectl (ctl, ok, refused, ctl_json, change_ok) and for DNS (serial,
    a_records, answer_rdata).
"""

import collections
import json
import os
import re
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import RCODES, T_A, T_SOA, VERBOSE, soa_serial, write_atomically  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, find_anamectl  # noqa: E402

ZONE = "ctl.test"
BASE_SERIAL = 1000


def base_zone(serial=BASE_SERIAL, extra=""):
    """The zone every test starts from: an in-zone ALIAS (web -> www), so no
    upstream resolver is needed."""
    return ("$ORIGIN ctl.test.\n"
            "$TTL 3600\n"
            "@     IN SOA   ns1 hostmaster %d 7200 3600 1209600 300\n"
            "@     IN NS    ns1\n"
            "ns1   IN A     192.0.2.53\n"
            "www   IN A     192.0.2.1\n"
            "www2  IN A     192.0.2.2\n"
            "www2  IN AAAA  2001:db8::2\n"
            "web   IN ALIAS www\n"
            "keep  IN TXT   \"from the file\"\n" % serial) + extra


def small_zone(origin, serial=1):
    return ("$ORIGIN %s.\n"
            "$TTL 300\n"
            "@    IN SOA ns1 hostmaster %d 7200 3600 1209600 300\n"
            "@    IN NS  ns1\n"
            "ns1  IN A   192.0.2.53\n" % (origin, serial))


# --------------------------------------------------------------------------
# a raw control-socket client: one JSON object per line each way
# --------------------------------------------------------------------------

class ControlConn:
    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def read_line(self):
        """One reply line (without the newline); b'' at EOF before a full line."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                return b""
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def reply(self):
        line = self.read_line()
        if not line:
            raise ConnectionError("anamed closed the control connection without a reply")
        return json.loads(line.decode("utf-8"))

    def request(self, obj):
        self.send((json.dumps(obj) + "\n").encode())
        return self.reply()

    def close(self):
        self.sock.close()


def change(op, name, rtype=None, rdata=None, zone=ZONE, ttl=None):
    c = {"op": op, "zone": zone, "name": name}
    if rtype is not None:
        c["type"] = rtype
    if rdata is not None:
        c["rdata"] = rdata
    if ttl is not None:
        c["ttl"] = ttl
    return c


def parse_zone_text(text):
    """A zone file as anamed's flush writes it: {(owner, type): [rdata...]}."""
    rrs = collections.defaultdict(list)
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith((";", "$")):
            continue
        parts = line.split(None, 4)
        if len(parts) < 5 or parts[2] != "IN":
            raise AssertionError("unexpected line in a flushed zone: %r" % line)
        rrs[(parts[0].lower(), parts[3].upper())].append(" ".join(parts[4].split()))
    return rrs


# --------------------------------------------------------------------------
# base class
# --------------------------------------------------------------------------

class ControlTest(AnamedTestCase):
    """A private temp dir per test, anamed with --control and --journal, and
    helpers for anamectl, the raw socket and DNS."""

    TMP_PREFIX = "anamed-control-"

    def setUp(self):
        super().setUp()
        self.sock_path = os.path.join(self.dir, "control.sock")
        self.journal = os.path.join(self.dir, "journal.mdb")
        self.zfile = os.path.join(self.dir, "ctl.zone")
        self.zones = [(ZONE, self.zfile)]
        self.starts = 0

    # -- the server --------------------------------------------------------

    def daemon_args(self):
        args = []
        for name, path in self.zones:
            args += ["--zone", "%s=%s" % (name, path)]
        return args + ["--listen", "127.0.0.1:%d" % self.port,
                       "--control", self.sock_path, "--journal", self.journal,
                       "--workers", "2"]

    def start(self, zone_text=None):
        """(Re)start anamed over the same files and journal."""
        if zone_text is not None:
            write_atomically(self.zfile, zone_text)
        if self.server is not None and self.server.proc.poll() is None:
            raise AssertionError("start() while an anamed is still running")
        self.starts += 1
        srv = Anamed(self.daemon_args(), self.dir, self.port,
                     log_name="anamed-%d.stderr" % self.starts)
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        srv.wait_ready()
        deadline = time.monotonic() + 3
        while not os.path.exists(self.sock_path):
            if time.monotonic() > deadline:
                self.fail("no control socket at %s:\n%s" % (self.sock_path, srv.log()[-3000:]))
            time.sleep(0.02)
        self.server = srv
        return srv

    def restart(self):
        """SIGTERM (checked), then start again over the same journal."""
        rc, _ = self.server.stop()
        self.assertEqual(rc, 0, "anamed exited with %s after SIGTERM:\n%s"
                         % (rc, self.server.log()[-4000:]))
        return self.start()

    def assertAlive(self):
        if self.server.proc.poll() is not None:
            self.fail("anamed died (exit %s):\n%s" % (self.server.proc.returncode,
                                                      self.server.log()[-4000:]))

    # -- anamectl -----------------------------------------------------------

    def ctl(self, *args, user_prefix=(), timeout=30, socket_path=None):
        cmd = list(user_prefix) + [find_anamectl(), "--socket", socket_path or self.sock_path] + list(args)
        if VERBOSE:
            print(" ".join(cmd), file=sys.stderr)
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, text=True, timeout=timeout, cwd=self.dir)
        p.what = "anamectl %s -> exit %d\nstdout: %s\nstderr: %s" % (
            " ".join(args), p.returncode, p.stdout[-2000:], p.stderr[-2000:])
        return p

    def ok(self, *args):
        p = self.ctl(*args)
        self.assertEqual(p.returncode, 0, p.what + "\n" + self.server.log()[-2000:])
        return p.stdout

    def refused(self, *args, match=None):
        """anamectl exits 1 (anamed refused) with a message on stderr."""
        p = self.ctl(*args)
        self.assertEqual(p.returncode, 1, p.what)
        self.assertTrue(p.stderr.startswith("anamectl: ") or "error" in p.stderr, p.what)
        if match:
            self.assertRegex(p.stderr, match, p.what)
        return p.stderr

    def ctl_json(self, *args):
        return json.loads(self.ok("--json", *args))

    def change_ok(self, *args, zone=ZONE):
        """anamectl record ...: exit 0; returns the new serial of `zone` it reports."""
        out = self.ok(*args)
        m = re.search(r"%s\. serial (\d+)" % re.escape(zone), out)
        self.assertIsNotNone(m, "no serial for %s in %r" % (zone, out))
        return int(m.group(1))

    def status(self):
        return self.ctl_json("status")

    # -- DNS ----------------------------------------------------------------

    def serial(self, zone=ZONE):
        r = self.udp_query(zone + ".", T_SOA, check_question=False)
        serials = [soa_serial(rd) for (_, t, _, _, rd) in r["answer"] if t == T_SOA]
        self.assertEqual(len(serials), 1, "SOA query for %s: %r" % (zone, r))
        return serials[0]

    def a_records(self, name):
        """(rcode, sorted A addresses) of a UDP query."""
        r = self.udp_query(name, T_A, check_question=False)
        return (RCODES.get(r["rcode"], r["rcode"]),
                sorted(socket.inet_ntoa(rd) for (_, t, _, _, rd) in r["answer"] if t == T_A))

    def answer_rdata(self, name, qtype):
        """dig: the rcode and the rdata of the answer RRs of type qtype."""
        r = self.dig(name, qtype)
        return r["rcode"], sorted(norm(qtype, rd) for (_, _, t, rd) in r["answer"] if t == qtype), r


def norm(rtype, rdata):
    """Presentation RDATA in a comparable form (dig splits long hex and quotes alpn)."""
    rdata = " ".join(rdata.split())
    if rtype == "DS":
        f = rdata.split()
        return " ".join(f[:3] + ["".join(f[3:]).upper()])
    return rdata
