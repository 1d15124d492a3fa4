"""Processes and test-case bases shared by anamed's integration suites
(python3 stdlib only; the DNS helpers are in dnstest.py beside it).

  * pick_free_port(), find_binary() ($ANAMED_BIN), find_anamectl()
    ($ANAMECTL_BIN), the Anamed class: one anamed process with its stderr in
    a file;
  * DnsTestCase: dig / UDP / TCP queries to the server at self.port;
  * AnamedTestCase: a private temp dir and free port per test, and
    _stop_and_check() for the cleanup of each anamed a test starts (alive,
    exits 0 within 5 s of SIGTERM);
  * main(module): the unittest runner whose last line is
    "N passed, N failed, N skipped" (exit status 1 when anything failed).

Every suite (tests/integration/test_*.py) reads:
  ANAMED_BIN       path of the anamed binary (required unless build/anamed,
                   build/src/anamed or build/controlplane/anamed exists)
  ANAMECTL_BIN     path of anamectl (default: <dir of ANAMED_BIN>/../tools/anamectl)
  ANAMED_TESTDATA  directory with test.zone etc. (default: ../data next to the scripts)
  ANAMED_TEST_VERBOSE=1  print every dig/anamectl command line
Run one:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_NAME.py [Class.test]
(ctest runs them all: ctest --test-dir build -R integration). The last line printed is
"N passed, N failed, N skipped"; the exit code is non-zero when anything failed.
"""

import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from dnstest import REPO, T_A, T_SOA, VERBOSE, build_query, parse_header, parse_message, run_dig


# --------------------------------------------------------------------------
# ports, binaries, the anamed process
# --------------------------------------------------------------------------

def _can_bind(family, kind, host, port):
    s = socket.socket(family, kind)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def _ephemeral_low():
    """The first port the kernel hands out as a source port (ip_local_port_range)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_ports = random.Random(os.getpid() ^ int(time.time() * 1000))
_claims = []  # the claim sockets of the ports this process picked, open until it exits


def _claim(port):
    """Claim `port` for this process among the test processes running at once (ctest -j):
    a socket bound to an abstract unix name made from the port. The kernel refuses the
    same name to a second process and frees it when the holder exits, so two suites can
    never pick the same port between one's check and its server's bind; no file is left."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.bind("\0anamed-test-port-%d" % port)
    except OSError:
        s.close()
        return False
    _claims.append(s)
    return True


def pick_free_port(ipv6=True):
    """A port free for UDP and TCP on 127.0.0.1 and (unless not ipv6) ::1, below the
    ephemeral range: a client's random source port (dig's) can then never be the server's
    port, which made dig read its own query back as the answer once. No other test
    process picks the same port while this one runs (_claim)."""
    hosts = [(socket.AF_INET, "127.0.0.1")] + ([(socket.AF_INET6, "::1")] if ipv6 else [])
    low = _ephemeral_low()
    for _ in range(200):
        port = _ports.randrange(10000, low) if low > 11000 else 0
        if port == 0:  # no room below the range: let the kernel choose
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
        if all(_can_bind(f, k, h, port) for f, h in hosts
               for k in (socket.SOCK_DGRAM, socket.SOCK_STREAM)) and _claim(port):
            return port
    raise RuntimeError("no free port found")


def find_binary():
    """$ANAMED_BIN (made absolute: anamed may run in a test's directory), else
    the first of build/controlplane/anamed, build/anamed, build/src/anamed."""
    b = os.environ.get("ANAMED_BIN")
    if b:
        return os.path.abspath(b)
    for cand in ("build/controlplane/anamed", "build/anamed", "build/src/anamed"):
        p = os.path.join(REPO, cand)
        if os.access(p, os.X_OK):
            return p
    raise RuntimeError("set ANAMED_BIN to the anamed binary")


def find_anamectl():
    """$ANAMECTL_BIN, else tools/anamectl beside the directory of anamed."""
    b = os.environ.get("ANAMECTL_BIN")
    if b:
        return os.path.abspath(b)
    return os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(find_binary())),
                                         "..", "tools", "anamectl"))


class Anamed:
    """One anamed process; stderr goes to a file in the test's directory."""

    def __init__(self, args, workdir, port, hosts=("127.0.0.1",), cwd=None,
                 log_name="anamed.stderr", env=None):
        self.args = [find_binary()] + list(args)
        self.port = port
        self.hosts = hosts
        self.stopped = False        # stop() was called (by the test or the cleanup)
        self.stderr_path = os.path.join(workdir, log_name)
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL,
                                     stderr=self._err, stdin=subprocess.DEVNULL,
                                     cwd=cwd or workdir,
                                     env=None if env is None else {**os.environ, **env})

    def log(self):
        self._err.flush()
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, pattern, timeout=3.0, count=1):
        """Wait until `pattern` (a regex) matches `count` times in stderr."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            if len(re.findall(pattern, text, re.M)) >= count:
                return text
            if time.monotonic() > deadline:
                return None
            time.sleep(0.02)

    def wait_ready(self, timeout=10.0):
        """Wait for the 'serving' log line, then for a UDP reply on every host."""
        deadline = time.monotonic() + timeout
        pending = list(self.hosts)
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError("anamed exited with %s during startup:\n%s"
                                   % (self.proc.returncode, self.log()[-4000:]))
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("anamed did not answer on %s within %g s:\n%s"
                                   % (pending, timeout, self.log()[-4000:]))
            if "anamed info: serving " not in self.log():
                time.sleep(0.02)
                continue
            host = pending[0]
            fam = socket.AF_INET6 if ":" in host else socket.AF_INET
            with socket.socket(fam, socket.SOCK_DGRAM) as s:
                s.settimeout(0.2)
                s.sendto(build_query(0x0F0F, ".", T_SOA), (host, self.port))
                try:
                    reply, _ = s.recvfrom(65535)
                    if len(reply) >= 12 and parse_header(reply)["id"] == 0x0F0F:
                        pending.pop(0)
                except socket.timeout:
                    pass
        return self

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=5.0):
        """SIGTERM; return (exit status or None if it did not exit in time, seconds)."""
        self.stopped = True
        if self.proc.poll() is not None:
            return self.proc.returncode, 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.kill()
        self._err.close()


# --------------------------------------------------------------------------
# test-case bases and the runner
# --------------------------------------------------------------------------

class DnsTestCase(unittest.TestCase):
    """Queries to the server listening at self.port."""

    port = None

    def dig(self, name, qtype="A", *opts, host="127.0.0.1", tcp=False):
        """run_dig() at self.port; fails the test when dig got no reply."""
        r = run_dig(self.port, name, qtype, *opts, host=host, tcp=tcp)
        if r["rcode"] is None:
            self.fail("no reply to %s (dig exit %d):\n%s" % (r["cmd"], r["exit"], r["raw"]))
        return r

    def udp_exchange(self, payload, timeout=0.5, host="127.0.0.1"):
        """Send one datagram; the reply, or None when none came within `timeout` s."""
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(payload, (host, self.port))
            try:
                data, _ = s.recvfrom(65535)
                return data
            except socket.timeout:
                return None

    def udp_query(self, name, qtype=T_A, host="127.0.0.1", timeout=1.0, check_question=True):
        """Raw UDP query; returns the parsed reply (fails the test on timeout).
        The reply must carry the query's ID and (if check_question) its question."""
        qid = random.randrange(65536)
        q = build_query(qid, name, qtype)
        reply = self.udp_exchange(q, timeout, host)
        if reply is None:
            self.fail("no UDP reply to %s/%d within %g s" % (name, qtype, timeout))
        r = parse_message(reply)
        self.assertEqual(r["id"], qid)
        if check_question:
            self.assertEqual(r["question_wire"], q[12:])
        return r

    def tcp_connect(self, host="127.0.0.1", timeout=3):
        s = socket.create_connection((host, self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s


class AnamedTestCase(DnsTestCase):
    """A private temp dir (self.dir) and free port per test; _stop_and_check
    (registered as a cleanup by the suites' start()) wants anamed alive and
    exiting 0 within 5 s of SIGTERM."""

    TMP_PREFIX = "anamed-"

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix=self.TMP_PREFIX)
        self.dir = self._tmp.name
        self.addCleanup(self._tmp.cleanup)
        self.port = pick_free_port()
        self.server = None

    def _stop_and_check(self, srv):
        if srv.stopped:
            return                  # the test stopped it and checked the exit itself
        if srv.proc.poll() is not None:
            self.fail("anamed died during the test (exit %s):\n%s"
                      % (srv.proc.returncode, srv.log()[-4000:]))
        rc, _ = srv.stop()
        if rc is None:
            srv.kill()
            self.fail("anamed did not exit within 5 s of SIGTERM:\n%s" % srv.log()[-4000:])
        self.assertEqual(rc, 0, "anamed exited with %s after SIGTERM:\n%s"
                         % (rc, srv.log()[-4000:]))

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def small_disk(self):
        """A 1 MiB tmpfs in the test's directory, unmounted after the test (skips the test
        unless it can be mounted: root)."""
        mnt = os.path.join(self.dir, "small")
        os.mkdir(mnt)
        if os.geteuid() != 0 or subprocess.run(
                ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt],
                stderr=subprocess.DEVNULL).returncode != 0:
            self.skipTest("needs root and a tmpfs mount")
        self.addCleanup(subprocess.run, ["umount", "-l", mnt])
        return mnt

    @staticmethod
    def fill_disk(mnt):
        """Writes a file in `mnt` until the disk is full."""
        with open(os.path.join(mnt, "filler"), "wb") as f:
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass


def main(module):
    """Run the tests of `module` (or those named on the command line; -v for
    verbose); print "N passed, N failed, N skipped" last; return the exit status."""
    suite = unittest.defaultTestLoader.loadTestsFromModule(module)
    argv_names = [a for a in sys.argv[1:] if not a.startswith("-")]
    if argv_names:
        suite = unittest.defaultTestLoader.loadTestsFromNames(argv_names, module)
    verbosity = 2 if ("-v" in sys.argv or VERBOSE) else 1
    result = unittest.TextTestRunner(verbosity=verbosity).run(suite)
    def test_id(t):       # a failed subTest counts as a failure of its test
        return getattr(t, "test_case", t).id()
    failed_ids = {test_id(t) for t, _ in result.failures + result.errors}
    failed_ids |= {test_id(t) for t in result.unexpectedSuccesses}
    failed = len(failed_ids)
    skipped = len(result.skipped)
    # class-level errors (setUpClass/tearDownClass) count as failures too
    passed = max(0, result.testsRun - skipped -
                 len([i for i in failed_ids if not i.startswith(("setUpClass", "tearDownClass"))]))
    print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1
