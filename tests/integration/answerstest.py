"""The answer suites' shared parts (test_answers_*.py; python3 stdlib only).

  * the facts of the zones in tests/data the suites check (ORIGIN, SOA RDATA,
    negative TTL, ...), fq() and norm_ds();
  * AnamedServerTest: one anamed per test class on a free port, serving
    example.test, other.test and sub2.example.test from tests/data on
    127.0.0.1 and ::1, with dig over UDP/TCP (over()) and assertions on
    headers, sections and negative answers.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
from dnstest import DATA, lower_rrs, run_dig  # noqa: E402
from anamedtest import DnsTestCase, find_binary, pick_free_port  # noqa: E402

ORIGIN = "example.test."
NEG_TTL = 300            # min(SOA TTL 3600, SOA minimum 300)
SOA_RDATA = ("ns1.example.test. hostmaster.example.test. "
             "2026112601 7200 3600 1209600 300")
CHILD_SOA_RDATA = ("ns.sub2.example.test. hostmaster.sub2.example.test. "
                   "2026112602 7200 3600 1209600 600")
OTHER_SOA_RDATA = ("ns1.example.test. hostmaster.other.test. "
                   "2026112601 7200 3600 1209600 300")
DNAME_TARGET = "a-much-longer-target-name-for-the-dname-test.example.test."
BIG_TXT = ['"big-txt-record-%02d-abcdefghijklmnopqrstuvwxyz-0123456789-ABCD"' % i
           for i in range(1, 41)]
DS_RDATA = ("12345 13 2 2BB183AF5F22588179A53B0A98631FAD1A292118D9BD6A2F0FB5EFB4"
            "D7F05B31")


def fq(rel):
    """'www' -> 'www.example.test.'; '@' -> 'example.test.'"""
    return ORIGIN if rel == "@" else rel + "." + ORIGIN


def norm_ds(rdata):
    """dig splits long DS digests into groups: join them, upper-case."""
    parts = rdata.split()
    return " ".join(parts[:3] + ["".join(parts[3:]).upper()])


class AnamedServerTest(DnsTestCase):
    """Base class: one anamed process for the whole class."""

    proc = None
    port = None
    log = None

    @classmethod
    def setUpClass(cls):
        binary = find_binary()
        cls.port = pick_free_port()
        cls.log = tempfile.TemporaryFile(mode="w+b")
        cls.cmd = [binary,
                   "--zone", "example.test=" + os.path.join(DATA, "test.zone"),
                   "--zone", "other.test=" + os.path.join(DATA, "second.zone"),
                   "--zone", "sub2.example.test=" + os.path.join(DATA, "child.zone"),
                   "--listen", "127.0.0.1:%d" % cls.port,
                   "--listen", "[::1]:%d" % cls.port]
        cls.proc = subprocess.Popen(cls.cmd, stdout=cls.log,
                                    stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        pending = [("127.0.0.1", False), ("127.0.0.1", True), ("::1", False),
                   ("::1", True)]
        while pending:
            if cls.proc.poll() is not None:
                raise RuntimeError("anamed exited with %s during startup:\n%s"
                                   % (cls.proc.returncode, cls.server_log()))
            if time.monotonic() > deadline:
                cls._kill()
                raise RuntimeError("anamed did not answer %s within 10 s:\n%s"
                                   % (pending, cls.server_log()))
            server, tcp = pending[0]
            if run_dig(cls.port, "example.test", "SOA", host=server, tcp=tcp,
                       timeout=1)["rcode"] == "NOERROR":
                pending.pop(0)
            else:
                time.sleep(0.1)

    @classmethod
    def _kill(cls):
        if cls.proc and cls.proc.poll() is None:
            cls.proc.kill()
            cls.proc.wait()

    @classmethod
    def server_log(cls):
        if cls.log is None:
            return ""
        cls.log.flush()
        cls.log.seek(0)
        data = cls.log.read().decode("utf-8", "replace")
        return data[-4000:]

    @classmethod
    def tearDownClass(cls):
        if cls.proc is None:
            return
        try:
            if cls.proc.poll() is not None:
                raise AssertionError("anamed died during the tests (exit %s):\n%s"
                                     % (cls.proc.returncode, cls.server_log()))
            cls.proc.send_signal(signal.SIGTERM)
            try:
                rc = cls.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                cls._kill()
                raise AssertionError("anamed did not exit within 5 s of SIGTERM")
            if rc != 0:
                raise AssertionError("anamed exited with %d after SIGTERM:\n%s"
                                     % (rc, cls.server_log()))
        finally:
            cls._kill()
            cls.log.close()

    # -- querying ----------------------------------------------------------

    def dig(self, name, qtype="A", *opts, tcp=False, v6=False):
        return super().dig(name, qtype, *opts, host="::1" if v6 else "127.0.0.1", tcp=tcp)

    def over(self, name, qtype="A", *opts, transports=("udp", "tcp")):
        """Yield (transport, parsed reply) for each transport.

        (No subTest here: an assertion in the caller's loop body would not
        run inside a subTest opened by this generator.  Every failure
        message carries dig's output, whose first line shows the command
        line, including +tcp.)"""
        for t in transports:
            yield t, self.dig(name, qtype, *opts, tcp=(t == "tcp"))

    # -- assertions ----------------------------------------------------------

    def assertHeader(self, r, rcode="NOERROR", aa=True, tc=False):
        ctx = r.get("cmd", "") + "\n" + r["raw"]
        self.assertEqual(r["rcode"], rcode, ctx)
        self.assertIn("qr", r["flags"], ctx)
        if aa:
            self.assertIn("aa", r["flags"], ctx)
        else:
            self.assertNotIn("aa", r["flags"], ctx)
        self.assertNotIn("ra", r["flags"], ctx)
        if tc:
            self.assertIn("tc", r["flags"], ctx)
        else:
            self.assertNotIn("tc", r["flags"], ctx)

    def assertSection(self, r, section, expected, ordered=False):
        got = lower_rrs(r[section])
        exp = [(n.lower(), t, ty, rd) for (n, t, ty, rd) in expected]
        ctx = r.get("cmd", "") + "\n" + r["raw"]
        if ordered:
            self.assertEqual(got, exp, ctx)
        else:
            self.assertEqual(sorted(got), sorted(exp), ctx)

    def assertNegative(self, r, rcode, soa_owner=ORIGIN, soa_rdata=SOA_RDATA,
                       ttl=NEG_TTL):
        """NXDOMAIN / NODATA: SOA (and only the SOA) in authority."""
        self.assertSection(r, "authority", [(soa_owner, ttl, "SOA", soa_rdata)])
        self.assertEqual(r["rcode"], rcode, r["raw"])

    def assertNodata(self, r):
        self.assertHeader(r, "NOERROR")
        self.assertEqual(r["answer"], [], r["raw"])
        self.assertNegative(r, "NOERROR")

    def assertNxdomain(self, r):
        self.assertHeader(r, "NXDOMAIN")
        self.assertEqual(r["answer"], [], r["raw"])
        self.assertNegative(r, "NXDOMAIN")

    def assertReferral(self, r):
        """Referral to sub.example.test.: not authoritative, NS in authority,
        in-bailiwick glue in additional, nothing for ns.other.test."""
        self.assertHeader(r, "NOERROR", aa=False)
        self.assertEqual(r["answer"], [], r["raw"])
        self.assertSection(r, "authority", [
            (fq("sub"), 3600, "NS", "ns.sub.example.test."),
            (fq("sub"), 3600, "NS", "ns.other.test.")])
        self.assertSection(r, "additional", [
            (fq("ns.sub"), 3600, "A", "192.0.2.53"),
            (fq("ns.sub"), 3600, "AAAA", "2001:db8::53")])
        self.assertNotIn("192.0.2.99", r["raw"])
