#!/usr/bin/env python3
"""Control-socket and anamectl tests for anamed (issue 5; python3 stdlib only).

Each test starts its own anamed on a free port with a control socket and an
LMDB journal in a private temporary directory, and stops it with SIGTERM (it
must exit 0 within 5 s).  Covered:

  * record add / set / del for A AAAA MX TXT CNAME SRV CAA PTR NAPTR HTTPS
    SVCB, an NS delegation with glue and DS, and ALIAS, each seen over DNS
    (dig), with the SOA serial moving by exactly one per accepted command;
  * invalid changes refused with nothing applied: a batch whose 3rd change is
    invalid, CNAME beside data, a second ALIAS, an out-of-zone owner, bad
    RDATA, deleting the SOA or the apex NS; a batch of thousands of records
    in one transaction;
  * crash safety: kill -9 in the middle of a stream of acknowledged changes
    sent by a pipelining raw-socket client; after a restart over the same
    journal every acknowledged change is there and no batch is half there;
  * several anamectl clients at once;
  * the socket's permissions (mode 0600, `nobody` refused, peer credentials
    checked even when the mode is opened up), idle, half-sent and
    never-reading clients, malformed requests on a connection that keeps
    working;
  * zone flush (runtime changes and ALIAS in the file, the file loads again,
    journal emptied, a restart serves the same data), zone reload (the edited
    file with the journal on top), multi-zone batches, alias list/show/refresh,
    stats --json, status, zone list/check, --help and usage errors;
  * anamectl exits 2 with a message (no abort) on an unreadable answer (a fake
    control socket) and on an argument that is not UTF-8.

Environment:
  ANAMED_BIN       path of the anamed binary (required unless build/anamed,
                   build/src/anamed or build/controlplane/anamed exists)
  ANAMECTL_BIN     path of anamectl (default: <dir of ANAMED_BIN>/../tools/anamectl)
  ANAMED_TESTDATA  directory with test.zone etc. (default: ../data next to
                   this script)
  ANAMED_TEST_VERBOSE=1  print every dig/anamectl command line
  ANAMED_CRASH_SEED      seed of the crash test's kill point (default: random)

Run:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_control.py
The last line printed is "N passed, N failed, N skipped"; the exit code is
non-zero when anything failed.
"""

import collections
import grp
import json
import os
import pwd
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import RCODES, T_A, T_SOA, VERBOSE, soa_serial, write_atomically  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, find_anamectl, find_binary, main  # noqa: E402

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
# the command table and the bash completion
# --------------------------------------------------------------------------

SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))


def table_commands():
    """The command lines of the command table, in its order ("zone list", ...)."""
    with open(os.path.join(SOURCE, "include", "anamed", "control_commands.hpp")) as f:
        text = f.read()
    return re.findall(r'\{"([a-z]+(?: [a-z]+)?)",\s+Command::', text)


def complete_with_bash(words, cwd=None):
    """What tools/anamectl.bash-completion offers for the last of `words`."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              'COMP_WORDS[0]="$ANAMECTL"; _anamectl; printf "%s\\n" "${COMPREPLY[@]}"')
    env = dict(os.environ, ANAMECTL=find_anamectl())
    env.pop("ANAMED_SOCKET", None)
    p = subprocess.run(["bash", "-c", script, "bash",
                        os.path.join(SOURCE, "tools", "anamectl.bash-completion")] + words,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
                       env=env, cwd=cwd)
    if p.returncode != 0:
        raise AssertionError("bash completion failed: %s" % p.stderr)
    return [line for line in p.stdout.split("\n") if line]


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


# --------------------------------------------------------------------------
# 1. add / change / delete every common type, seen over DNS
# --------------------------------------------------------------------------

# owner, type, add RDATA, as dig shows it, set RDATA, as dig shows it
TYPES = [
    ("a", "A", "192.0.2.10", "192.0.2.10", "192.0.2.11", "192.0.2.11"),
    ("aaaa", "AAAA", "2001:db8::10", "2001:db8::10", "2001:db8::11", "2001:db8::11"),
    ("mx", "MX", "10 mail.example.net.", "10 mail.example.net.",
     "20 mx2", "20 mx2.ctl.test."),
    ("txt", "TXT", '"hello world" "two"', '"hello world" "two"',
     '"v=spf1 -all"', '"v=spf1 -all"'),
    ("cn", "CNAME", "www", "www.ctl.test.", "www2.ctl.test.", "www2.ctl.test."),
    ("_sip._tcp", "SRV", "10 20 5060 sip.example.net.", "10 20 5060 sip.example.net.",
     "0 5 5061 sip2.example.net.", "0 5 5061 sip2.example.net."),
    ("caa", "CAA", '0 issue "letsencrypt.org"', '0 issue "letsencrypt.org"',
     '128 iodef "mailto:sec@example.net"', '128 iodef "mailto:sec@example.net"'),
    ("10.rev", "PTR", "host.example.net.", "host.example.net.",
     "host2.example.net.", "host2.example.net."),
    ("naptr", "NAPTR", '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .',
     '100 10 "U" "E2U+sip" "!^.*$!sip:info@example.net!" .',
     '200 20 "S" "SIP+D2U" "" _sip._udp.example.net.',
     '200 20 "S" "SIP+D2U" "" _sip._udp.example.net.'),
    ("https", "HTTPS", "1 . alpn=h2,h3 ipv4hint=192.0.2.1", '1 . alpn="h2,h3" ipv4hint=192.0.2.1',
     "2 svc.example.net. port=8443", "2 svc.example.net. port=8443"),
    ("_8443._https.svc", "SVCB", "1 svc.example.net. port=8443", "1 svc.example.net. port=8443",
     "0 other.example.net.", "0 other.example.net."),
]


class TestRecordTypes(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())
        self.expect_serial = BASE_SERIAL

    def accepted(self, *args):
        """An accepted command: the serial moves by exactly one, in the reply and over DNS."""
        got = self.change_ok(*args)
        self.expect_serial += 1
        self.assertEqual(got, self.expect_serial, "serial after anamectl %s" % " ".join(args))
        self.assertEqual(self.serial(), self.expect_serial, "SOA serial over DNS after %s" % " ".join(args))

    def test_add_change_delete_each_common_type(self):
        for i, (owner, rtype, add, add_dig, new, new_dig) in enumerate(TYPES):
            fqdn = owner + "." + ZONE + "."
            with self.subTest(rtype):
                self.accepted("record", "add", ZONE, owner, rtype, *add.split(" "))
                rcode, got, r = self.answer_rdata(fqdn, rtype)
                self.assertEqual((rcode, got), ("NOERROR", [norm(rtype, add_dig)]), r["cmd"] + "\n" + r["raw"])
                self.assertIn("aa", r["flags"], r["raw"])
                shown = self.ok("record", "show", ZONE, owner)
                self.assertIn("\t" + rtype + "\t", shown)

                self.accepted("record", "set", ZONE, owner, rtype, new)
                rcode, got, r = self.answer_rdata(fqdn, rtype)
                self.assertEqual((rcode, got), ("NOERROR", [norm(rtype, new_dig)]), r["cmd"] + "\n" + r["raw"])

                # del with the RDATA for half of the types, of the whole RRset for the others
                if i % 2 == 0:
                    self.accepted("record", "del", ZONE, owner, rtype, new)
                else:
                    self.accepted("record", "del", ZONE, owner, rtype)
                rcode, got, r = self.answer_rdata(fqdn, rtype)
                self.assertEqual((rcode, got), ("NXDOMAIN", []), r["cmd"] + "\n" + r["raw"])
                self.assertEqual(self.ok("record", "show", ZONE, owner).strip(), "")

    def test_rrset_add_del_ttl_and_cname_chase(self):
        self.accepted("record", "add", ZONE, "multi", "A", "192.0.2.10", "--ttl", "120")
        self.accepted("record", "add", ZONE, "multi", "A", "192.0.2.12", "--ttl", "120")
        r = self.dig("multi.ctl.test", "A")
        self.assertEqual(sorted((ttl, rd) for (_, ttl, t, rd) in r["answer"] if t == "A"),
                         [(120, "192.0.2.10"), (120, "192.0.2.12")], r["raw"])
        self.accepted("record", "del", ZONE, "multi", "A", "192.0.2.10")
        self.assertEqual(self.a_records("multi.ctl.test."), ("NOERROR", ["192.0.2.12"]))
        self.accepted("record", "add", ZONE, "multi", "TXT", '"beside"')
        self.accepted("record", "del", ZONE, "multi")          # everything at the name
        self.assertEqual(self.a_records("multi.ctl.test.")[0], "NXDOMAIN")
        # a CNAME added at runtime is followed to its in-zone target
        self.accepted("record", "add", ZONE, "alias-cn", "CNAME", "www")
        r = self.dig("alias-cn.ctl.test", "A")
        self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["answer"]],
                         [("alias-cn.ctl.test.", "CNAME", "www.ctl.test."),
                          ("www.ctl.test.", "A", "192.0.2.1")], r["raw"])
        # the apex SOA can be replaced (set); the serial still moves by one past the new one
        rc = self.ctl("record", "set", ZONE, "@", "SOA", "ns1", "hostmaster", "5000", "7200", "3600",
                      "1209600", "300")
        self.assertEqual(rc.returncode, 0, rc.what)
        self.expect_serial = int(re.search(r"serial (\d+)", rc.stdout).group(1))
        self.assertIn(self.expect_serial, (5000, 5001), rc.stdout)
        self.assertEqual(self.serial(), self.expect_serial)
        self.accepted("record", "add", ZONE, "after-soa", "A", "192.0.2.99")

    def test_names_with_descendants_stay_as_empty_non_terminals(self):
        # Emptying a name that has a name below it leaves an empty non-terminal (NODATA, RFC
        # 8020's "nothing below" does not hold); emptying the last name below removes both.
        self.accepted("record", "add", ZONE, "leaf.branch", "A", "192.0.2.41")
        self.accepted("record", "add", ZONE, "branch", "TXT", '"own data"')
        self.accepted("record", "del", ZONE, "branch", "TXT")
        self.assertEqual(self.a_records("branch.ctl.test."), ("NOERROR", []))
        self.assertEqual(self.a_records("leaf.branch.ctl.test."), ("NOERROR", ["192.0.2.41"]))
        self.accepted("record", "del", ZONE, "leaf.branch")
        self.assertEqual(self.a_records("leaf.branch.ctl.test.")[0], "NXDOMAIN")
        self.assertEqual(self.a_records("branch.ctl.test.")[0], "NXDOMAIN")
        # added again after all that, both answer
        self.accepted("record", "add", ZONE, "leaf.branch", "A", "192.0.2.42")
        self.assertEqual(self.a_records("leaf.branch.ctl.test."), ("NOERROR", ["192.0.2.42"]))
        self.assertEqual(self.a_records("branch.ctl.test."), ("NOERROR", []))
        # a name whose only child went first has nothing below it any more
        self.accepted("record", "add", ZONE, "tip.stem", "A", "192.0.2.43")
        self.accepted("record", "add", ZONE, "stem", "TXT", '"own data"')
        self.accepted("record", "del", ZONE, "tip.stem")
        self.accepted("record", "del", ZONE, "stem", "TXT")
        self.assertEqual(self.a_records("stem.ctl.test.")[0], "NXDOMAIN")

    def test_ns_delegation_glue_and_ds(self):
        ds1 = "12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118B2F7E6C1BFD6E1E8E8A8F2C3"
        ds2 = "54321 8 2 4E09BD1D8A8F3E4C4E3E1B8C4B5A8E4F0C0D1A2B3C4D5E6F708192A3B4C5D6E7"
        self.accepted("record", "add", ZONE, "sub", "NS", "ns.sub")
        self.accepted("record", "add", ZONE, "ns.sub", "A", "192.0.2.77")
        for qname in ("sub.ctl.test", "host.sub.ctl.test"):
            r = self.dig(qname, "A")
            self.assertEqual(r["rcode"], "NOERROR", r["raw"])
            self.assertNotIn("aa", r["flags"], "a referral is not authoritative:\n" + r["raw"])
            self.assertEqual(r["answer"], [], r["raw"])
            self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["authority"]],
                             [("sub.ctl.test.", "NS", "ns.sub.ctl.test.")], r["raw"])
            self.assertIn(("ns.sub.ctl.test.", "A", "192.0.2.77"),
                          [(n, t, rd) for (n, _, t, rd) in r["additional"]], r["raw"])
        self.accepted("record", "add", ZONE, "sub", "DS", *ds1.split())
        rcode, got, r = self.answer_rdata("sub.ctl.test", "DS")
        self.assertEqual((rcode, got), ("NOERROR", [norm("DS", ds1)]), r["raw"])
        self.assertIn("aa", r["flags"], "the parent answers DS:\n" + r["raw"])
        self.accepted("record", "set", ZONE, "sub", "DS", ds2)
        self.assertEqual(self.answer_rdata("sub.ctl.test", "DS")[:2], ("NOERROR", [norm("DS", ds2)]))
        # move the delegation to another server
        self.accepted("record", "set", ZONE, "sub", "NS", "ns.example.net.")
        r = self.dig("www.sub.ctl.test", "A")
        self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["authority"]],
                         [("sub.ctl.test.", "NS", "ns.example.net.")], r["raw"])
        self.accepted("record", "del", ZONE, "sub", "DS")
        self.accepted("record", "del", ZONE, "sub", "NS", "ns.example.net.")
        self.accepted("record", "del", ZONE, "ns.sub", "A")
        r = self.dig("www.sub.ctl.test", "A")
        self.assertEqual(r["rcode"], "NXDOMAIN", r["raw"])
        self.assertIn("aa", r["flags"], r["raw"])

    def test_alias_add_change_delete(self):
        self.accepted("record", "add", ZONE, "al", "ALIAS", "www")
        self.assertEqual(self.a_records("al.ctl.test."), ("NOERROR", ["192.0.2.1"]))
        r = self.dig("al.ctl.test", "A")
        self.assertEqual([(n, t, rd) for (n, _, t, rd) in r["answer"]],
                         [("al.ctl.test.", "A", "192.0.2.1")], "ALIAS answers as A at the owner\n" + r["raw"])
        self.accepted("record", "set", ZONE, "al", "ALIAS", "www2.ctl.test.")
        self.assertEqual(self.a_records("al.ctl.test."), ("NOERROR", ["192.0.2.2"]))
        rcode, got, r = self.answer_rdata("al.ctl.test", "AAAA")
        self.assertEqual((rcode, got), ("NOERROR", ["2001:db8::2"]), r["raw"])
        # ALIAS coexists with other data at the name (that is its point)
        self.accepted("record", "add", ZONE, "al", "MX", "10", "mail.example.net.")
        self.assertEqual(self.answer_rdata("al.ctl.test", "MX")[:2], ("NOERROR", ["10 mail.example.net."]))
        self.accepted("record", "del", ZONE, "al", "ALIAS")
        rcode, got, r = self.answer_rdata("al.ctl.test", "A")
        self.assertEqual((rcode, got), ("NOERROR", []), "NODATA once the ALIAS is gone\n" + r["raw"])
        self.accepted("record", "del", ZONE, "al", "MX", "10 mail.example.net.")
        self.assertEqual(self.a_records("al.ctl.test.")[0], "NXDOMAIN")
        # the file's ALIAS keeps working throughout
        self.assertEqual(self.a_records("web.ctl.test."), ("NOERROR", ["192.0.2.1"]))


# --------------------------------------------------------------------------
# 2. invalid changes: refused, nothing applied
# --------------------------------------------------------------------------

class TestValidation(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())

    def snapshot_state(self):
        st = self.status()
        return (self.serial(), st["journal_entries"], st["changes_applied"],
                self.a_records("www.ctl.test."), self.a_records("web.ctl.test."),
                self.ok("record", "show", ZONE, "@"))

    def assertNothingVisible(self, names):
        for n in names:
            rcode, addrs = self.a_records(n + ".ctl.test.")
            self.assertEqual(rcode, "NXDOMAIN", "%s is visible after a refused change" % n)

    def test_batch_with_an_invalid_third_change_applies_nothing(self):
        before = self.snapshot_state()
        cases = {
            "CNAME beside data": ("add ctl.test www CNAME www2", r"change 3: CNAME beside"),
            "bad RDATA": ("add ctl.test b3 A 192.0.2.300", r"change 3: .*(?i:syntax)"),
            "out-of-zone owner": ("add ctl.test host.example.org. A 192.0.2.3", r"change 3: .*not in zone"),
            "second ALIAS": ("add ctl.test web ALIAS www2", r"change 3: more than one ALIAS"),
            "delete the SOA": ("del ctl.test @ SOA", r"change 3: .*SOA"),
            # a whole-zone rule: checked after the last change, so no change number
            "delete the apex NS": ("del ctl.test @ NS", r"apex NS"),
            "unserved zone": ("add other.test b3 A 192.0.2.3", r"change 3: .*other\.test"),
        }
        for what, (third, pattern) in cases.items():
            with self.subTest(what):
                path = self.write("batch.txt",
                                  "# a comment and a blank line are skipped\n\n"
                                  "add ctl.test b1 A 192.0.2.21\n"
                                  "add ctl.test b2 300 TXT \"two words\"\n"
                                  + third + "\n"
                                  "add ctl.test b4 A 192.0.2.24\n")
                err = self.refused("record", "batch", path, match=pattern)
                self.assertIn("nothing was changed", err)
                self.assertNothingVisible(["b1", "b2", "b3", "b4"])
                self.assertEqual(self.snapshot_state(), before)
        # the same batch with a valid third change: one transaction, one serial
        path = self.write("batch.txt", "add ctl.test b1 A 192.0.2.21\n"
                                       "add ctl.test b2 300 TXT \"two words\"\n"
                                       "add ctl.test b3 A 192.0.2.23\n"
                                       "add ctl.test b4 A 192.0.2.24\n")
        self.assertEqual(self.change_ok("record", "batch", path), BASE_SERIAL + 1)
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        for n, a in (("b1", "192.0.2.21"), ("b3", "192.0.2.23"), ("b4", "192.0.2.24")):
            self.assertEqual(self.a_records(n + ".ctl.test."), ("NOERROR", [a]))
        r = self.dig("b2.ctl.test", "TXT")
        self.assertEqual([(ttl, rd) for (_, ttl, t, rd) in r["answer"]], [(300, '"two words"')], r["raw"])
        st = self.status()
        self.assertEqual((st["journal_entries"], st["changes_applied"]), (1, 4))

    def test_single_invalid_changes_are_refused(self):
        before = self.snapshot_state()
        cases = [
            (("add", "www", "CNAME", "www2"), r"CNAME beside other data"),
            (("add", "web", "CNAME", "www"), r"CNAME beside other data"),
            (("add", "web", "ALIAS", "www2"), r"more than one ALIAS"),
            (("add", "host.example.org.", "A", "192.0.2.1"), r"not in zone"),
            (("add", "www.ctl.testing.", "A", "192.0.2.1"), r"not in zone"),
            (("add", "bad", "A", "192.0.2.300"), r"(?i)syntax|rdata"),
            (("add", "bad", "AAAA", "2001:db8::zz"), r"(?i)syntax|rdata"),
            (("add", "bad", "MX", "mail.example.net."), r"(?i)syntax|rdata"),
            (("add", "bad", "SRV", "10", "20", "sip.example.net."), r"(?i)syntax|rdata"),
            (("add", "bad", "CAA", "0", "issue"), r"(?i)syntax|value"),
            (("add", "bad", "DS", "1", "2"), r"(?i)syntax|value"),
            (("add", "bad", "CNAME", "a", "b"), r"(?i)syntax|superfluous"),
            (("add", "bad", "BOGUSTYPE", "1"), r"(?i)syntax|rdata|unknown"),
            (("add", "bad..name", "A", "192.0.2.1"), r"(?i)not a valid name|syntax|label|empty"),
            (("del", "@", "SOA"), r"SOA"),
            (("add", "@", "SOA", "ns1 hostmaster 1 2 3 4 5"), r"SOA"),
            (("add", "www", "SOA", "ns1 hostmaster 1 2 3 4 5"), r"SOA"),
            (("del", "@", "NS"), r"apex NS"),
            (("del", "@", "NS", "ns1.ctl.test."), r"apex NS"),
            (("del", "@"), r"SOA|apex NS"),
            (("del", "nothere", "A", "192.0.2.1"), r"nothing to delete"),
            (("del", "www", "A", "192.0.2.99"), r"nothing to delete"),
        ]
        for args, pattern in cases:
            with self.subTest(" ".join(args)):
                self.refused("record", args[0], ZONE, *args[1:], match=pattern)
                self.assertEqual(self.snapshot_state(), before)
        self.refused("record", "add", "other.test", "x", "A", "192.0.2.1", match=r"other\.test")
        # data beside a runtime CNAME
        s = self.change_ok("record", "add", ZONE, "cn", "CNAME", "www")
        self.assertEqual(s, BASE_SERIAL + 1)
        self.refused("record", "add", ZONE, "cn", "A", "192.0.2.5", match=r"beside a CNAME")
        self.refused("record", "add", ZONE, "cn", "CNAME", "www2", match=r"more than one CNAME")
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        self.assertEqual(self.status()["journal_entries"], 1)

    def test_big_batch_is_one_transaction(self):
        n = 3000
        lines = ["add ctl.test big%d A 192.0.2.%d" % (i, i % 250 + 1) for i in range(n)]
        good = self.write("big.txt", "\n".join(lines) + "\n")
        bad = self.write("big-bad.txt", "\n".join(lines + ["add ctl.test big-last A 192.0.2.999"]) + "\n")
        err = self.refused("record", "batch", bad, match=r"change %d" % (n + 1))
        self.assertEqual(self.serial(), BASE_SERIAL)
        for i in (0, 1, n // 2, n - 1):
            self.assertEqual(self.a_records("big%d.ctl.test." % i)[0], "NXDOMAIN", err)
        t0 = time.monotonic()
        self.assertEqual(self.change_ok("record", "batch", good), BASE_SERIAL + 1)
        secs = time.monotonic() - t0
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        st = self.status()
        self.assertEqual((st["journal_entries"], st["changes_applied"]), (1, n))
        for i in range(n):
            self.assertEqual(self.a_records("big%d.ctl.test." % i), ("NOERROR", ["192.0.2.%d" % (i % 250 + 1)]))
        if VERBOSE:
            print("\nbatch of %d records applied in %.2f s" % (n, secs), file=sys.stderr)
        # replayed as one batch after a restart
        self.restart()
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        self.assertEqual(self.a_records("big%d.ctl.test." % (n - 1)), ("NOERROR", ["192.0.2.%d" % ((n - 1) % 250 + 1)]))
        self.assertRegex(self.server.log(), r"replayed 1 change batches")


# --------------------------------------------------------------------------
# 3. crash safety: kill -9 in the middle of a stream of acknowledged changes
# --------------------------------------------------------------------------

class TestCrashSafety(ControlTest):

    TOTAL = 5000
    WINDOW = 8          # requests in flight on the connection
    BATCH_EVERY = 20    # every 20th request is a 3-record batch

    def records_of(self, i):
        """The records request i adds: [(owner, type, rdata as flush writes it)]."""
        if i % self.BATCH_EVERY == self.BATCH_EVERY - 1:
            return [("b%da.ctl.test." % i, "A", "192.0.2.%d" % (i % 250 + 1)),
                    ("b%db.ctl.test." % i, "TXT", '"batch %d"' % i),
                    ("b%dc.ctl.test." % i, "AAAA", "2001:db8::%x" % i)]
        return [("c%d.ctl.test." % i, "A", "192.0.2.%d" % (i % 250 + 1))]

    def request_line(self, i):
        changes = []
        for owner, rtype, rdata in self.records_of(i):
            changes.append(change("add", owner.split(".")[0], rtype, rdata))
        return (json.dumps({"cmd": "change", "changes": changes}) + "\n").encode()

    def test_kill_9_keeps_every_acknowledged_change(self):
        seed = int(os.environ.get("ANAMED_CRASH_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        kill_at = rng.randint(2000, 2800)
        extra_delay = rng.random() * 0.02
        srv = self.start(base_zone())
        self.assertEqual(self.serial(), BASE_SERIAL)
        conn = ControlConn(self.sock_path, timeout=30)
        self.addCleanup(conn.close)
        acked, refused = [], []
        state = {"sent": 0, "error": None}

        def client():
            pending = collections.deque()
            try:
                while True:
                    while state["sent"] < self.TOTAL and len(pending) < self.WINDOW:
                        i = state["sent"]
                        conn.send(self.request_line(i))
                        pending.append(i)
                        state["sent"] = i + 1
                    if not pending:
                        return
                    line = conn.read_line()
                    if not line:
                        state["error"] = "EOF"
                        return
                    reply = json.loads(line)
                    i = pending.popleft()
                    if reply.get("ok") is True:
                        acked.append(i)
                    else:
                        refused.append((i, reply))
            except (OSError, ValueError) as e:
                state["error"] = repr(e)

        t = threading.Thread(target=client, daemon=True)
        t0 = time.monotonic()
        t.start()
        deadline = t0 + 120
        while len(acked) < kill_at and t.is_alive() and time.monotonic() < deadline:
            time.sleep(0.0005)
        time.sleep(extra_delay)
        in_flight = state["sent"] - len(acked) - len(refused)
        n_acked_at_kill = len(acked)
        elapsed = time.monotonic() - t0
        os.kill(srv.proc.pid, signal.SIGKILL)
        srv.proc.wait()
        srv.stopped = True
        t.join(10)
        self.assertFalse(t.is_alive(), "the client did not notice the kill")
        self.assertEqual(refused, [], "anamed refused valid changes: %r" % refused[:5])
        self.assertGreaterEqual(n_acked_at_kill, kill_at, "only %d changes acknowledged in %.0f s (client: %s)"
                                % (n_acked_at_kill, elapsed, state["error"]))
        sent = state["sent"]
        acked_set = set(acked)
        rate = n_acked_at_kill / elapsed
        print("\ncrash test (seed %d): %d changes acknowledged in %.1f s (%.0f changes/s, %.1f ms each), "
              "kill -9 with %d in flight, %d acknowledged in all, %d sent"
              % (seed, n_acked_at_kill, elapsed, rate, 1000.0 / rate, in_flight, len(acked), sent),
              file=sys.stderr)

        # restart over the same journal
        srv2 = self.start()
        log = srv2.log()
        m = re.search(r"journal .*: replayed (\d+) change batches(, (\d+) failed)?", log)
        self.assertIsNotNone(m, "no replay logged:\n" + log[-3000:])
        self.assertIsNone(m.group(2), "journal entries failed to replay:\n" + log[-3000:])
        replayed = int(m.group(1))

        # every acknowledged change answers over DNS
        missing = []
        for i in sorted(acked_set):
            owner, rtype, rdata = self.records_of(i)[0]
            if self.a_records(owner) != ("NOERROR", [rdata]):
                missing.append(i)
        self.assertEqual(missing, [], "%d acknowledged changes missing after the restart (first: %r)"
                         % (len(missing), missing[:10]))
        for i in rng.sample(sorted(acked_set), 5):
            owner, rtype, rdata = self.records_of(i)[0]
            r = self.dig(owner, "A")
            self.assertEqual([rd for (_, _, t, rd) in r["answer"] if t == "A"], [rdata], r["raw"])

        # the whole zone, flushed and parsed: all or nothing for every request
        self.ok("zone", "flush", ZONE)
        with open(self.zfile) as f:
            rrs = parse_zone_text(f.read())
        present, half = [], []
        for i in range(self.TOTAL):
            recs = self.records_of(i)
            there = [rdata in rrs.get((owner, rtype), []) or
                     (rtype == "AAAA" and any(socket.inet_pton(socket.AF_INET6, rdata) ==
                                              socket.inet_pton(socket.AF_INET6, x)
                                              for x in rrs.get((owner, rtype), [])))
                     for owner, rtype, rdata in recs]
            if all(there):
                present.append(i)
            elif any(there):
                half.append((i, recs, there))
        self.assertEqual(half, [], "requests half applied after the crash")
        lost = sorted(acked_set - set(present))
        self.assertEqual(lost, [], "acknowledged but not in the flushed zone")
        phantom = [i for i in present if i >= sent]
        self.assertEqual(phantom, [], "changes never sent are in the zone")
        unacked_present = [i for i in present if i not in acked_set]
        self.assertLessEqual(len(unacked_present), self.WINDOW)
        # one serial per command, replayed: the serial counts exactly the commands applied
        self.assertEqual(replayed, len(present))
        self.assertEqual(self.serial(), BASE_SERIAL + len(present))
        self.assertEqual(self.status()["journal_entries"], 0)
        self.assertGreater(len([k for k in rrs if k[0].startswith("b")]), 0)
        print("crash test: after the restart %d requests present (%d acknowledged, %d in flight at "
              "the kill had committed), %d journal batches replayed"
              % (len(present), len(acked_set), len(unacked_present), replayed), file=sys.stderr)


# --------------------------------------------------------------------------
# 4. several anamectl clients at once
# --------------------------------------------------------------------------

class TestConcurrentClients(ControlTest):

    def test_four_parallel_loops_of_fifty_changes(self):
        self.start(base_zone())
        results = collections.defaultdict(list)
        idle = ControlConn(self.sock_path)          # and one that says nothing throughout
        self.addCleanup(idle.close)

        def loop(k):
            for j in range(50):
                p = self.ctl("record", "add", ZONE, "p%d-%d" % (k, j), "A", "192.0.2.%d" % (k * 50 + j + 1))
                results[k].append(p)

        threads = [threading.Thread(target=loop, args=(k,)) for k in range(4)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        secs = time.monotonic() - t0
        serials = []
        for k in range(4):
            self.assertEqual(len(results[k]), 50)
            for p in results[k]:
                self.assertEqual(p.returncode, 0, p.what)
                serials.append(int(re.search(r"serial (\d+)", p.stdout).group(1)))
        self.assertEqual(sorted(serials), list(range(BASE_SERIAL + 1, BASE_SERIAL + 201)),
                         "each command has its own serial")
        self.assertEqual(self.serial(), BASE_SERIAL + 200)
        st = self.status()
        self.assertEqual((st["changes_applied"], st["journal_entries"]), (200, 200))
        for k in range(4):
            for j in range(50):
                self.assertEqual(self.a_records("p%d-%d.ctl.test." % (k, j)),
                                 ("NOERROR", ["192.0.2.%d" % (k * 50 + j + 1)]))
        names = self.ctl_json("zone", "list")["zones"][0]["names"]
        self.assertEqual(names, 6 + 200)
        if VERBOSE:
            print("\n200 anamectl changes from 4 clients in %.1f s" % secs, file=sys.stderr)


# --------------------------------------------------------------------------
# 5. the socket: permissions, idle and misbehaving clients, malformed requests
# --------------------------------------------------------------------------

def as_nobody_prefix():
    """Command prefix that runs a program as nobody, or None."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("nobody")
    except KeyError:
        return None
    group = None
    for g in ("nogroup", "nobody"):
        try:
            grp.getgrnam(g)
            group = g
            break
        except KeyError:
            pass
    if shutil.which("setpriv") and group:
        return ["setpriv", "--reuid=nobody", "--regid=" + group, "--clear-groups"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    return None


class TestSocket(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())

    def assertServing(self):
        self.assertAlive()
        t0 = time.monotonic()
        p = self.ctl("status", timeout=10)
        secs = time.monotonic() - t0
        self.assertEqual(p.returncode, 0, p.what)
        self.assertLess(secs, 2.0, "anamectl status took %.1f s" % secs)
        self.assertEqual(self.a_records("www.ctl.test."), ("NOERROR", ["192.0.2.1"]))

    def test_socket_mode_is_0600_and_owned_by_the_daemon_user(self):
        st = os.stat(self.sock_path)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, oct(st.st_mode))
        self.assertEqual(st.st_uid, os.geteuid())
        self.assertEqual(stat.S_IMODE(os.stat(self.journal).st_mode) & 0o077, 0,
                         "the journal is readable by others")

    def test_non_root_user_is_refused(self):
        prefix = as_nobody_prefix()
        if prefix is None:
            self.skipTest("needs root and setpriv/runuser to run anamectl as nobody")
        p = subprocess.run(prefix + [find_anamectl(), "--help"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0:
            self.skipTest("nobody cannot run %s: %s" % (find_anamectl(), p.stdout))
        # let nobody reach the socket: only its mode stands in the way
        os.chmod(self.dir, 0o755)
        for args in (["status"], ["record", "add", ZONE, "evil", "A", "192.0.2.66"]):
            p = self.ctl(*args, user_prefix=prefix)
            self.assertEqual(p.returncode, 2, p.what)
            self.assertIn("Permission denied", p.stderr, p.what)
        self.assertServing()
        self.assertEqual(self.a_records("evil.ctl.test.")[0], "NXDOMAIN")
        # the peer credentials are checked too: with the mode opened up, nobody is
        # still refused (the daemon answers "permission denied" and hangs up)
        os.chmod(self.sock_path, 0o666)
        for args in (["status"], ["record", "add", ZONE, "evil", "A", "192.0.2.66"]):
            p = self.ctl(*args, user_prefix=prefix)
            self.assertIn(p.returncode, (1, 2), p.what)
            self.assertRegex(p.stderr, r"(?i)permission denied|lost|closed", p.what)
        self.assertServing()
        self.assertEqual(self.a_records("evil.ctl.test.")[0], "NXDOMAIN")
        self.assertEqual(self.serial(), BASE_SERIAL)
        self.assertEqual(self.status()["journal_entries"], 0)

    def test_silent_half_sent_and_never_reading_clients_do_not_block_others(self):
        silent = ControlConn(self.sock_path)
        self.addCleanup(silent.close)
        half = ControlConn(self.sock_path)
        self.addCleanup(half.close)
        half.send(b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","na')
        time.sleep(0.1)
        self.assertServing()
        self.assertEqual(self.change_ok("record", "add", ZONE, "while-idle", "A", "192.0.2.50"),
                         BASE_SERIAL + 1)
        # a client that pipelines many requests and never reads its replies
        greedy = ControlConn(self.sock_path)
        self.addCleanup(greedy.close)
        greedy.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        greedy.send(b'{"cmd":"status"}\n' * 2000)
        time.sleep(0.3)
        self.assertServing()
        self.assertEqual(self.change_ok("record", "add", ZONE, "while-greedy", "A", "192.0.2.51"),
                         BASE_SERIAL + 2)
        # the half-sent change was never applied; a client that dies mid-request is forgotten
        half.close()
        greedy.close()
        time.sleep(0.1)
        self.assertServing()
        self.assertEqual(self.serial(), BASE_SERIAL + 2)
        # the silent one still works when it finally speaks
        self.assertTrue(silent.request({"cmd": "status"})["ok"])

    def test_malformed_requests_get_errors_and_the_connection_keeps_working(self):
        c = ControlConn(self.sock_path)
        self.addCleanup(c.close)
        bad = [
            b"{not json",
            b'{"cmd":"status"',
            b"\xff\xfe garbage",
            b'{"cmd":"status","x":"\xff"}',
            b"[]", b"null", b"42", b'"status"',
            b"{}",
            b'{"cmd":42}',
            b'{"cmd":"no-such-command"}',
            b'{"cmd":"change"}',
            b'{"cmd":"change","changes":[]}',
            b'{"cmd":"change","changes":{}}',
            b'{"cmd":"change","changes":[42]}',
            b'{"cmd":"change","changes":[{"op":"add"}]}',
            b'{"cmd":"change","changes":[{"op":"frob","zone":"ctl.test","name":"x","type":"A","rdata":"192.0.2.1"}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A"}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A","rdata":"192.0.2.1","ttl":-1}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A","rdata":"192.0.2.1","ttl":"60"}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x","type":"A","rdata":1}]}',
            b'{"cmd":"change","changes":[{"op":"add","zone":"ctl.test","name":"x\\ny","type":"A","rdata":"192.0.2.1"}]}',
            b'{"cmd":"record-show"}',
            b'{"cmd":"record-show","zone":"ctl.test"}',
            b'{"cmd":"zone-flush"}',
            b'{"cmd":"zone-flush","zone":"nosuch.test"}',
            b'{"cmd":"zone-check"}',
            b'{"cmd":"alias-refresh"}',
            b'{"cmd":"alias-show","target":"nosuch.example."}',
            b"[" * 100000 + b"]" * 100000,
            b'{"cmd":"' + b"x" * (1 << 20) + b'"}',
        ]
        for line in bad:
            with self.subTest(line[:60]):
                c.send(line + b"\n")
                reply = c.reply()
                self.assertIs(reply.get("ok"), False, "%r -> %r" % (line[:80], reply))
                self.assertIsInstance(reply.get("error"), str)
                self.assertTrue(reply["error"], reply)
                # the same connection keeps working
                self.assertIs(c.request({"cmd": "zone-list"})["ok"], True)
        # blank lines are ignored; several requests in one write get one reply each, in order
        c.send(b'\n  \n{"cmd":"zone-list"}\n{"bad\n{"cmd":"status"}\n')
        replies = [c.reply() for _ in range(3)]
        self.assertEqual([r["ok"] for r in replies], [True, False, True])
        self.assertIn("zones", replies[0])
        self.assertIn("uptime_s", replies[2])
        self.assertEqual(self.serial(), BASE_SERIAL)
        self.assertEqual(self.a_records("x.ctl.test.")[0], "NXDOMAIN")
        self.assertServing()

    def test_request_then_half_close_still_gets_its_reply(self):
        # `printf '{"cmd":"zone-list"}\n' | socat - UNIX-CONNECT:...` style: the client
        # sends its request and shuts down its sending side at once.  When anamed is
        # busy with another client, the request and the EOF are read in the same pass.
        for busy in (False, True):
            with self.subTest("anamed busy with another client" if busy else "anamed idle"):
                if busy:
                    other = ControlConn(self.sock_path, timeout=30)
                    self.addCleanup(other.close)
                    other.send(b"".join((json.dumps({"cmd": "change", "changes": [
                        change("add", "busy%d" % i, "A", "192.0.2.7")]}) + "\n").encode()
                        for i in range(100)))
                    time.sleep(0.05)
                c = ControlConn(self.sock_path, timeout=10)
                self.addCleanup(c.close)
                c.send(b'{"cmd":"zone-list"}\n')
                c.sock.shutdown(socket.SHUT_WR)
                line = c.read_line()
                if busy:
                    for _ in range(100):
                        self.assertIs(other.reply()["ok"], True)
                self.assertTrue(line, "no reply to a request followed by shutdown(SHUT_WR): anamed "
                                      "closed the connection without serving the request")
                self.assertIs(json.loads(line)["ok"], True)
        self.assertServing()


# --------------------------------------------------------------------------
# 6. zone flush, zone reload, the journal over restarts
# --------------------------------------------------------------------------

class TestFlushAndReload(ControlTest):

    def make_changes(self):
        s = self.change_ok("record", "add", ZONE, "rt", "A", "192.0.2.40")
        s = self.change_ok("record", "add", ZONE, "rt2", "ALIAS", "www2")
        s = self.change_ok("record", "set", ZONE, "www", "A", "192.0.2.9")
        s = self.change_ok("record", "add", ZONE, "rt", "MX", "10", "mail.example.net.")
        s = self.change_ok("record", "del", ZONE, "keep", "TXT")
        self.assertEqual(s, BASE_SERIAL + 5)
        return s

    def assertChangedData(self, serial):
        self.assertEqual(self.serial(), serial)
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertEqual(self.a_records("rt2.ctl.test."), ("NOERROR", ["192.0.2.2"]))
        self.assertEqual(self.a_records("www.ctl.test."), ("NOERROR", ["192.0.2.9"]))
        self.assertEqual(self.a_records("web.ctl.test."), ("NOERROR", ["192.0.2.9"]))
        self.assertEqual(self.answer_rdata("rt.ctl.test", "MX")[:2], ("NOERROR", ["10 mail.example.net."]))
        self.assertEqual(self.a_records("keep.ctl.test.")[0], "NXDOMAIN")

    def test_journal_replayed_on_restart(self):
        self.start(base_zone())
        serial = self.make_changes()
        self.assertEqual(self.status()["journal_entries"], 5)
        shown = {n: self.ok("record", "show", ZONE, n) for n in ("rt", "rt2", "www", "@")}
        self.restart()
        self.assertRegex(self.server.log(), r"replayed 5 change batches")
        self.assertChangedData(serial)
        self.assertEqual({n: self.ok("record", "show", ZONE, n) for n in shown}, shown)
        with open(self.zfile) as f:
            self.assertEqual(f.read(), base_zone(), "the zone file changed without a flush")

    def test_flush_writes_changes_and_alias_then_journal_is_empty(self):
        self.start(base_zone())
        serial = self.make_changes()
        out = self.ok("zone", "flush", ZONE)
        self.assertIn(self.zfile, out)
        with open(self.zfile) as f:
            text = f.read()
        rrs = parse_zone_text(text)
        self.assertEqual(rrs[("rt.ctl.test.", "A")], ["192.0.2.40"])
        self.assertEqual(rrs[("rt.ctl.test.", "MX")], ["10 mail.example.net."])
        self.assertEqual(rrs[("www.ctl.test.", "A")], ["192.0.2.9"])
        self.assertEqual(rrs[("rt2.ctl.test.", "ALIAS")], ["www2.ctl.test."], text)
        self.assertEqual(rrs[("web.ctl.test.", "ALIAS")], ["www.ctl.test."], text)
        self.assertNotIn(("rt2.ctl.test.", "CNAME"), rrs, text)
        self.assertNotIn(("keep.ctl.test.", "TXT"), rrs)
        soa = rrs[("ctl.test.", "SOA")]
        self.assertEqual(len(soa), 1)
        self.assertEqual(int(soa[0].split()[2]), serial, text)
        # the file loads again
        p = subprocess.run([find_binary(), "--check", "--zone", "%s=%s" % (ZONE, self.zfile)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=20)
        self.assertEqual(p.returncode, 0, p.stdout + "\n" + text)
        p = self.ctl("zone", "check", self.zfile, ZONE)
        self.assertEqual(p.returncode, 0, p.what)
        # the journal is empty; a restart serves the same from the file alone
        self.assertEqual(self.status()["journal_entries"], 0)
        self.assertIn("journal entries 0", self.ok("status"))
        shown = {n: self.ok("record", "show", ZONE, n) for n in ("rt", "rt2", "www", "web", "@")}
        self.restart()
        self.assertNotRegex(self.server.log(), r"replayed")
        self.assertChangedData(serial)
        self.assertEqual({n: self.ok("record", "show", ZONE, n) for n in shown}, shown)
        # changes after the flush are journaled over the new file
        self.assertEqual(self.change_ok("record", "add", ZONE, "post", "A", "192.0.2.41"), serial + 1)
        self.restart()
        self.assertEqual(self.serial(), serial + 1)
        self.assertEqual(self.a_records("post.ctl.test."), ("NOERROR", ["192.0.2.41"]))
        self.refused("zone", "flush", "nosuch.test", match=r"nosuch\.test")

    def test_reload_picks_up_the_edited_file_with_the_journal_on_top(self):
        self.start(base_zone())
        self.assertEqual(self.change_ok("record", "add", ZONE, "rt", "A", "192.0.2.40"), BASE_SERIAL + 1)
        # the operator edits the file: a new record and a new serial
        write_atomically(self.zfile, base_zone(serial=2000, extra="new  IN A 192.0.2.42\n"))
        self.ok("zone", "reload", ZONE)
        self.assertEqual(self.a_records("new.ctl.test."), ("NOERROR", ["192.0.2.42"]))
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertGreater(self.serial(), 2000 - 1)
        after = self.serial()
        # without a zone argument: every zone
        write_atomically(self.zfile, base_zone(serial=3000, extra="new  IN A 192.0.2.43\n"))
        self.ok("zone", "reload")
        self.assertEqual(self.a_records("new.ctl.test."), ("NOERROR", ["192.0.2.43"]))
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertGreater(self.serial(), after)
        self.refused("zone", "reload", "nosuch.test", match=r"nosuch\.test")
        self.assertEqual(self.status()["journal_entries"], 1)
        # and a restart agrees
        serial = self.serial()
        self.restart()
        self.assertEqual(self.serial(), serial)
        self.assertEqual(self.a_records("new.ctl.test."), ("NOERROR", ["192.0.2.43"]))
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))

    def test_reload_of_a_broken_file_fails_and_keeps_serving(self):
        self.start(base_zone())
        self.change_ok("record", "add", ZONE, "rt", "A", "192.0.2.40")
        write_atomically(self.zfile, base_zone(serial=2000, extra="broken IN A 192.0.2.999\n"))
        p = self.ctl("zone", "reload", ZONE)
        self.assertEqual(self.a_records("rt.ctl.test."), ("NOERROR", ["192.0.2.40"]))
        self.assertEqual(self.serial(), BASE_SERIAL + 1)
        self.assertEqual(p.returncode, 1, "zone reload of a file with errors must not report success\n"
                         + p.what + "\n" + self.server.log()[-1500:])
        self.assertRegex(p.stderr, r"ctl\.zone|error", p.what)


class TestMultiZoneBatch(ControlTest):
    """A batch may touch several zones; it is one transaction and one journal
    entry.  Reloading or flushing one of those zones must not lose the other's
    acknowledged changes."""

    def setUp(self):
        super().setUp()
        self.afile = self.write("a.zone", small_zone("a.test"))
        self.bfile = self.write("b.zone", small_zone("b.test"))
        self.zones = [("a.test", self.afile), ("b.test", self.bfile)]
        self.zfile = self.afile
        self.start()
        batch = self.write("multi.txt", "add a.test x A 192.0.2.1\nadd b.test y A 192.0.2.2\n")
        out = self.ok("record", "batch", batch)
        self.assertRegex(out, r"a\.test\. serial 2")
        self.assertRegex(out, r"b\.test\. serial 2")
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]))

    def test_batch_across_zones_survives_a_restart(self):
        self.restart()
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]))
        self.assertEqual((self.serial("a.test"), self.serial("b.test")), (2, 2))

    def test_reloading_the_second_zone_keeps_its_journal_changes(self):
        self.ok("zone", "reload", "b.test")
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]),
                         "zone reload b.test dropped b.test's acknowledged change (its journal "
                         "entry is filed under a.test)\n" + self.server.log()[-1500:])
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))

    def test_flushing_the_first_zone_keeps_the_second_zones_changes(self):
        self.ok("zone", "flush", "a.test")
        self.restart()
        self.assertEqual(self.a_records("x.a.test."), ("NOERROR", ["192.0.2.1"]))
        self.assertEqual(self.a_records("y.b.test."), ("NOERROR", ["192.0.2.2"]),
                         "after zone flush a.test and a restart, b.test lost an acknowledged change "
                         "(the batch's journal entry was dropped with a.test's)\n"
                         + self.server.log()[-1500:])


# --------------------------------------------------------------------------
# 7. alias, stats, status, zone list / check
# --------------------------------------------------------------------------

class TestInspection(ControlTest):

    def setUp(self):
        super().setUp()
        self.start(base_zone())

    def test_alias_list_show_refresh(self):
        out = self.ok("alias", "list")
        self.assertRegex(out, r"(?m)^TARGET\s+STATE")
        self.assertRegex(out, r"(?m)^www\.ctl\.test\.\s+resolved \(local\)\s+192\.0\.2\.1\b", out)
        j = self.ctl_json("alias", "list")
        self.assertEqual([(t["target"], t["state"], t["local"], t["addresses"]) for t in j["targets"]],
                         [("www.ctl.test.", "resolved", True, ["192.0.2.1"])])
        self.change_ok("record", "add", ZONE, "rt2", "ALIAS", "www2")
        j = self.ctl_json("alias", "list")
        self.assertEqual(sorted(t["target"] for t in j["targets"]), ["www.ctl.test.", "www2.ctl.test."])
        w2 = [t for t in j["targets"] if t["target"] == "www2.ctl.test."][0]
        self.assertEqual(sorted(w2["addresses"]), ["192.0.2.2", "2001:db8::2"])
        out = self.ok("alias", "show", "www2.ctl.test")
        self.assertIn("www2.ctl.test.", out)
        self.assertNotIn("www.ctl.test.", out)
        self.refused("alias", "show", "nosuch.example.", match=r"nosuch\.example")
        self.ok("alias", "refresh", "www.ctl.test.")
        self.refused("alias", "refresh", "nosuch.example.", match=r"nosuch\.example")
        # a change to the target's addresses reaches the ALIAS
        self.change_ok("record", "set", ZONE, "www2", "A", "192.0.2.20")
        self.assertEqual(self.a_records("rt2.ctl.test."), ("NOERROR", ["192.0.2.20"]))

    def test_completion_asks_anamed_for_zones_and_targets(self):
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "zone", "flush", ""]),
                         ["ctl.test."])
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "record", "show", "c"]),
                         ["ctl.test."])
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "alias", "show", ""]),
                         ["www.ctl.test."])
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "zone", "flush", "x"]), [])

    def test_stats_json_counters_move(self):
        def counters():
            j = self.ctl_json("stats")
            for k in ("queries", "responses", "rcode", "qtype", "dropped", "alias"):
                self.assertIn(k, j)
            return j
        before = counters()
        sent = {"NOERROR": 3, "NXDOMAIN": 2, "REFUSED": 1}
        for _ in range(3):
            self.assertEqual(self.a_records("www.ctl.test.")[0], "NOERROR")
        for _ in range(2):
            self.assertEqual(self.a_records("nope.ctl.test.")[0], "NXDOMAIN")
        self.assertEqual(self.a_records("www.example.org.")[0], "REFUSED")
        deadline = time.monotonic() + 3
        while True:
            after = counters()
            delta = {k: after["rcode"].get(k, 0) - before["rcode"].get(k, 0) for k in sent}
            if delta == sent or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(delta, sent, "rcode counters %r -> %r" % (before["rcode"], after["rcode"]))
        self.assertEqual(after["queries"] - before["queries"], 6)
        # by transport and per frontend block: the same queries, all over UDP here
        self.assertEqual(after["transport"]["udp"]["queries"] - before["transport"]["udp"]["queries"], 6)
        self.assertEqual(after["transport"]["tcp"]["queries"], before["transport"]["tcp"]["queries"])
        self.assertEqual([(f["frontend"], f["transport"]) for f in after["frontends"]],
                         [("kernel", "tcp"), ("kernel", "udp"), ("kernel", "udp")])
        self.assertEqual(sum(f["queries"] for f in after["frontends"]), after["queries"])
        self.assertEqual(sum(f["responses"] for f in after["frontends"]), after["responses"])
        self.assertIsNone(after["dpdk"])
        self.assertGreaterEqual(after["qtype"].get("A", 0) - before["qtype"].get("A", 0), 6, after["qtype"])
        self.assertEqual(after["alias"]["targets"], 1)
        self.assertEqual(self.dig("www.ctl.test.", "MX", tcp=True)["rcode"], "NOERROR")
        deadline = time.monotonic() + 3
        while counters()["transport"]["tcp"]["queries"] == after["transport"]["tcp"]["queries"]:
            self.assertLess(time.monotonic(), deadline, "the TCP query was not counted")
            time.sleep(0.05)
        tcp = counters()
        self.assertEqual(tcp["transport"]["tcp"]["queries"] - after["transport"]["tcp"]["queries"], 1)
        self.assertEqual(tcp["frontends"][0]["queries"] - after["frontends"][0]["queries"], 1)
        self.assertEqual(tcp["qtype"].get("MX", 0) - after["qtype"].get("MX", 0), 1)
        out = self.ok("stats")
        self.assertRegex(out, r"(?m)^rcode:.*NOERROR=\d+")
        self.assertRegex(out, r"(?m)^udp: queries=\d+ responses=\d+$")
        self.assertRegex(out, r"(?m)^kernel\s+tcp\s+-\s+0\s+\d+")
        self.assertRegex(out, r"(?m)^queries \d+")

    def test_status_and_zone_list_and_check(self):
        out = self.ok("status")
        self.assertRegex(out, r"anamed \S+, pid %d, up \d+ s" % self.server.proc.pid)
        self.assertRegex(out, r"journal entries 0")
        self.assertRegex(out, r"(?m)^ctl\.test\.\s+%d\s+6\s+%s$" % (BASE_SERIAL, re.escape(self.zfile)))
        st = self.status()
        self.assertEqual(st["zones"], [{"name": "ctl.test.", "serial": BASE_SERIAL, "names": 6, "file": self.zfile}])
        self.assertEqual((st["journal_entries"], st["changes_applied"]), (0, 0))
        self.change_ok("record", "add", ZONE, "one", "A", "192.0.2.1")
        out = self.ok("zone", "list")
        self.assertRegex(out, r"(?m)^ZONE\s+SERIAL\s+NAMES\s+FILE$")
        self.assertRegex(out, r"(?m)^ctl\.test\.\s+%d\s+7\s" % (BASE_SERIAL + 1))
        # zone check: a good file, a file with CNAME beside data, a missing file
        good = self.write("good.zone", small_zone("good.test"))
        out = self.ok("zone", "check", good, "good.test")
        self.assertRegex(out, r"ok: 2 names")
        bad = self.write("bad.zone", small_zone("bad.test") + "x IN CNAME ns1\nx IN A 192.0.2.1\n")
        p = self.ctl("zone", "check", bad, "bad.test")
        self.assertEqual(p.returncode, 1, p.what)
        self.assertIn("%s:7: error:" % bad, p.stderr, p.what)
        self.assertIn("ALIAS", p.stderr)
        p = self.ctl("zone", "check", os.path.join(self.dir, "missing.zone"), "m.test")
        self.assertEqual(p.returncode, 1, p.what)
        self.assertIn("missing.zone", p.stderr)
        # checking is not serving
        self.assertEqual(self.a_records("ns1.good.test.")[0], "REFUSED")


# --------------------------------------------------------------------------
# 8. anamectl itself: --help, usage errors, no daemon
# --------------------------------------------------------------------------

class TestAnamectlUsage(ControlTest):
    """No daemon needed: anamectl answers these itself."""

    def test_help_for_every_command(self):
        for args, want in ((["--help"], r"commands:"),
                           (["status", "--help"], r"usage: anamectl status"),
                           (["stats", "--help"], r"usage: anamectl stats"),
                           (["zone", "--help"], r"usage: anamectl zone"),
                           (["zone", "flush", "--help"], r"usage: anamectl zone"),
                           (["record", "--help"], r"usage: anamectl record"),
                           (["record", "batch", "--help"], r"record batch FILE"),
                           (["alias", "--help"], r"usage: anamectl alias"),
                           (["alias", "refresh", "--help"], r"refresh TARGET")):
            with self.subTest(" ".join(args)):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 0, p.what)
                self.assertRegex(p.stdout, want, p.what)

    def test_usage_and_connection_errors_exit_2(self):
        batch_empty = self.write("empty.txt", "# nothing\n")
        batch_bad = self.write("bad.txt", "frob ctl.test x A 192.0.2.1\n")
        cases = [
            ([], r"no command"),
            (["frobnicate"], r"unknown command"),
            (["zone"], r"zone: expected"),
            (["zone", "flush"], r"zone: expected"),
            (["zone", "check"], r"zone: expected"),
            (["record", "add", ZONE, "x"], r"record: expected add ZONE NAME TYPE RDATA"),
            (["record", "add", ZONE, "x", "A"], r"record: expected add ZONE NAME TYPE RDATA"),
            (["record", "del", ZONE, "x", "A", "192.0.2.1", "--frob", "1"], r"unknown option --frob"),
            (["zone", "list", "extra"], r"zone list: unexpected argument 'extra'"),
            (["status", "--ttl", "5"], r"status takes no option --ttl"),
            (["record", "show", ZONE], r"record: expected"),
            (["record", "add", ZONE, "x", "A", "192.0.2.1", "--ttl", "soon"], r"--ttl"),
            (["record", "batch", os.path.join(self.dir, "missing.txt")], r"cannot read"),
            (["record", "batch", batch_empty], r"no changes"),
            (["record", "batch", batch_bad], r"bad\.txt:1"),
            (["alias"], r"alias: expected"),
            (["alias", "show"], r"alias: expected"),
            (["status"], r"cannot connect"),       # no daemon is running
        ]
        for args, want in cases:
            with self.subTest(" ".join(args)):
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 2, p.what)
                self.assertRegex(p.stderr, want, p.what)
                self.assertEqual(p.stdout, "", p.what)

    def test_help_lists_every_command_of_the_table(self):
        """The command table (include/anamed/control_commands.hpp) is what --help,
        per-command help and completion read: each of its rows shows up in each."""
        out = self.ctl("--help")
        self.assertEqual(out.returncode, 0, out.what)
        commands = table_commands()
        self.assertGreaterEqual(len(commands), 14, commands)
        for words in commands:
            with self.subTest(words):
                self.assertRegex(out.stdout, r"(?m)^  %s\b" % re.escape(words), out.what)
                p = self.ctl(*words.split(), "--help")
                self.assertEqual(p.returncode, 0, p.what)
                self.assertTrue(p.stdout.startswith("usage: anamectl %s" % words), p.what)
        groups = sorted({w.split()[0] for w in commands})
        self.assertEqual(sorted(complete_with_bash(["anamectl", ""])), groups)

    def test_bash_completion(self):
        self.assertEqual(complete_with_bash(["anamectl", "zo"]), ["zone"])
        subs = [w.split()[1] for w in table_commands() if w.startswith("zone ")]
        self.assertEqual(complete_with_bash(["anamectl", "zone", ""]), subs)
        self.assertEqual(complete_with_bash(["anamectl", "--socket", self.sock_path, "record", "r"]), [])
        self.assertEqual(complete_with_bash(["anamectl", "record", "add", ZONE, "x", "aa"]), ["AAAA"])
        self.assertEqual(complete_with_bash(["anamectl", "stats", "--j"]), ["--json"])
        self.assertEqual(complete_with_bash(["anamectl", "record", "add", ZONE, "x", "A", "1", "--t"]),
                         ["--ttl"])
        files = complete_with_bash(["anamectl", "zone", "check", os.path.join(self.dir, "com")], cwd=self.dir)
        self.assertEqual(files, [])
        self.write("completion.zone", "")
        files = complete_with_bash(["anamectl", "zone", "check", os.path.join(self.dir, "com")], cwd=self.dir)
        self.assertEqual(files, [os.path.join(self.dir, "completion.zone")])

    def test_anamed_rejects_a_bad_workers_count(self):
        for bad in ("abc", "-1", "1000", ""):
            with self.subTest(bad):
                p = subprocess.run([find_binary(), "--zone", "%s=%s" % (ZONE, self.zfile), "--workers", bad],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertRegex(p.stderr, r"^anamed: --workers wants a number", p.stderr)
                self.assertNotIn("stoul", p.stderr)

    def test_unreadable_answers_and_non_utf8_arguments_exit_2(self):
        """A control socket that answers garbage (a fake one here) or an argument
        that cannot go into a JSON request: exit 2 with a message, nothing on
        stdout, no abort."""
        fake = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        fake.bind(self.sock_path)
        fake.listen(4)
        self.addCleanup(fake.close)
        state = {"answer": b"", "connections": 0}

        def serve():
            while True:
                try:
                    conn, _ = fake.accept()
                except OSError:
                    return              # closed by the cleanup
                with conn:
                    state["connections"] += 1
                    data = b""
                    while b"\n" not in data:
                        chunk = conn.recv(65536)
                        if not chunk:
                            break
                        data += chunk
                    conn.sendall(state["answer"])
        def stop():
            try:
                fake.shutdown(socket.SHUT_RDWR)   # wakes accept()
            except OSError:
                pass
        threading.Thread(target=serve, daemon=True).start()
        self.addCleanup(stop)

        cases = [
            (["status"], b"not json\n"),
            (["--json", "status"], b'{"ok": tru\n'),
            (["status"], b"[1, 2]\n"),
            (["status"], b'{"ok": "yes"}\n'),
            (["status"], b'{"ok": false, "error": 5}\n'),
            (["status"], b'{"ok": true, "snapshot": "big"}\n'),
            (["zone", "list"], b'{"ok": true, "zones": 5}\n'),
            (["alias", "list"], b'{"ok": true, "targets": [{"local": "yes"}]}\n'),
        ]
        for args, answer in cases:
            with self.subTest(" ".join(args) + " <- " + answer.decode()):
                state["answer"] = answer
                p = self.ctl(*args)
                self.assertEqual(p.returncode, 2, p.what)
                self.assertRegex(p.stderr, r"^anamectl: unreadable answer from anamed", p.what)
                self.assertEqual(p.stdout, "", p.what)

        before = state["connections"]
        p = subprocess.run([find_anamectl(), "--socket", self.sock_path, "record", "add", ZONE,
                            b"caf\xe9", "A", "192.0.2.1"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                           timeout=30)
        self.assertEqual(p.returncode, 2, p)
        self.assertRegex(p.stderr, rb"^anamectl: an argument .* is not valid UTF-8", p)
        self.assertEqual(p.stdout, b"", p)
        self.assertEqual(state["connections"], before, "nothing should have been sent")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
