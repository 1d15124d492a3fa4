"""The ALIAS suites' shared parts (test_alias_*.py; python3 stdlib only).

  * find_tool(), wait_until(), rrs(), alias_rdata_hex(), rec() (one name's
    records for fake_upstream.py);
  * AliasTest: one private temp dir per test class, the processes it starts
    (anamed, fake_upstream.py, knotd) killed by PID at the end, anamed started
    from a generated config with the upstreams given, and assertions on
    flattened answers, NODATA and SERVFAIL.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402
from dnstest import lower_rrs, run_dig  # noqa: E402
from anamedtest import DnsTestCase, find_binary, pick_free_port  # noqa: E402

QUERY_TIMEOUT_MS = 300


# --------------------------------------------------------------------------
# processes
# --------------------------------------------------------------------------

def find_tool(env, name):
    p = os.environ.get(env) or shutil.which(name)
    if p:
        return p
    for d in ("/usr/sbin", "/usr/local/sbin"):
        if os.access(os.path.join(d, name), os.X_OK):
            return os.path.join(d, name)
    return None


def wait_until(pred, timeout, interval=0.05):
    """pred's first truthy value within timeout, else None."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            return None
        time.sleep(interval)


def rrs(owner, ttl, rtype, rdatas):
    return [(owner, ttl, rtype, rd) for rd in rdatas]


def alias_rdata_hex(target):
    wire = fake_upstream.encode_name(target)
    return "\\# %d %s" % (len(wire), wire.hex().upper())


def rec(a=(), aaaa=(), ttl=60, mode=None):
    """One name's records in a fake_upstream control file."""
    r = {"a": list(a), "aaaa": list(aaaa), "ttl": ttl}
    if mode:
        r["mode"] = mode
    return r


class AliasTest(DnsTestCase):
    """Base: temp dir, processes killed by PID at the end, anamed helpers."""

    tmp = None
    procs = None
    anamed = None
    port = None
    log_path = None

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="anamed-alias-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.procs = []
        cls.addClassCleanup(cls._kill_all)
        cls.start_servers()

    @classmethod
    def start_servers(cls):
        raise NotImplementedError

    @classmethod
    def _kill_all(cls):
        for name, p, log in reversed(cls.procs or []):
            if p.poll() is None:
                p.kill()
                p.wait()
            if log:
                log.close()
        cls.procs = []

    @classmethod
    def tearDownClass(cls):
        """SIGTERM anamed: it must still be alive and exit 0."""
        p = cls.anamed
        if p is None:
            return
        if p.poll() is not None:
            raise AssertionError("anamed died during the tests (exit %s):\n%s"
                                 % (p.returncode, cls.log_tail()))
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            raise AssertionError("anamed did not exit within 5 s of SIGTERM")
        if rc != 0:
            raise AssertionError("anamed exited with %d after SIGTERM:\n%s" % (rc, cls.log_tail()))

    # -- processes -----------------------------------------------------------------

    @classmethod
    def spawn(cls, name, args, **kw):
        log = open(os.path.join(cls.tmp, name + ".log"), "wb")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, **kw)
        cls.procs.append((name, p, log))
        return p

    @classmethod
    def start_fake(cls, name, control):
        """A fake_upstream.py process; returns (state dir, port)."""
        d = os.path.join(cls.tmp, name)
        os.mkdir(d)
        fake_upstream.write_control(d, control)
        p = cls.spawn(name, [sys.executable, os.path.join(HERE, "fake_upstream.py"), "--dir", d])
        port_file = os.path.join(d, "port")
        if not wait_until(lambda: os.path.exists(port_file) or p.poll() is not None, 10):
            raise RuntimeError("fake upstream %s did not start" % name)
        if p.poll() is not None:
            raise RuntimeError("fake upstream %s exited %s:\n%s"
                               % (name, p.returncode, cls.read_log(name)))
        with open(port_file) as f:
            return d, int(f.read())

    @classmethod
    def start_anamed(cls, zones, upstreams, refresh_min=1, refresh_max=60, stale_limit=86400,
                     query_timeout_ms=QUERY_TIMEOUT_MS, alias_extra=(), extra=()):
        """zones: [(name, master file text, more lines of its entry...)]. Waits until the first zone's SOA answers.
        alias_extra: more lines of the alias: section; extra: more top-level lines."""
        cls.port = pick_free_port(ipv6=False)
        lines = ["listen:", "  - 127.0.0.1:%d" % cls.port, "workers: 1", "zones:"]
        for zone in zones:
            name, text = zone[0], zone[1]
            path = os.path.join(cls.tmp, name + ".zone")
            with open(path, "w") as f:
                f.write(text)
            lines += ["  - name: %s" % name, "    file: %s" % path]
            lines += ["    " + x for x in zone[2:]]  # more lines of the zone's entry
        if upstreams:
            lines.append("upstreams:")
            lines += ["  - 127.0.0.1:%d" % u for u in upstreams]
        lines += ["alias:", "  refresh-min-s: %d" % refresh_min,
                  "  refresh-max-s: %d" % refresh_max,
                  "  stale-limit-s: %d" % stale_limit,
                  "  query-timeout-ms: %d" % query_timeout_ms]
        lines += ["  " + x for x in alias_extra] + list(extra)
        conf = os.path.join(cls.tmp, "anamed.yaml")
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        cls.log_path = os.path.join(cls.tmp, "anamed.log")
        cls.anamed = cls.spawn("anamed", [find_binary(), "--config", conf])
        apex = zones[0][0]

        def ready():
            if cls.anamed.poll() is not None:
                raise RuntimeError("anamed exited with %s during startup:\n%s"
                                   % (cls.anamed.returncode, cls.log_tail()))
            return run_dig(cls.port, apex, "SOA", timeout=1)["rcode"] == "NOERROR"
        if not wait_until(ready, 15, 0.1):
            raise RuntimeError("anamed did not answer within 15 s:\n" + cls.log_tail())

    @classmethod
    def read_log(cls, name="anamed"):
        try:
            with open(os.path.join(cls.tmp, name + ".log"), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    @classmethod
    def log_tail(cls, n=6000):
        return cls.read_log()[-n:]

    # -- helpers for tests ---------------------------------------------------------

    def ctx(self, r):
        return r["cmd"] + "\n" + r["raw"] + "\n--- anamed log (tail) ---\n" + self.log_tail(3000)

    def assertAnswer(self, r, expected, rcode="NOERROR"):
        """Authoritative reply with exactly `expected` in the answer section."""
        ctx = self.ctx(r)
        self.assertEqual(r["rcode"], rcode, ctx)
        self.assertIn("aa", r["flags"], ctx)
        self.assertNotIn("tc", r["flags"], ctx)
        self.assertEqual(sorted(lower_rrs(r["answer"])),
                         sorted((n.lower(), t, ty, rd) for (n, t, ty, rd) in expected), ctx)

    def assertNodata(self, r, apex, soa_ttl):
        ctx = self.ctx(r)
        self.assertEqual(r["rcode"], "NOERROR", ctx)
        self.assertIn("aa", r["flags"], ctx)
        self.assertEqual(r["answer"], [], ctx)
        self.assertEqual([(n.lower(), t, ty) for (n, t, ty, _) in r["authority"]],
                         [(apex, soa_ttl, "SOA")], ctx)

    def assertServfail(self, r):
        ctx = self.ctx(r)
        self.assertEqual(r["rcode"], "SERVFAIL", ctx)
        self.assertEqual(r["answer"], [], ctx)

    def wait_log(self, pattern, timeout, since=0):
        rx = re.compile(pattern)
        m = wait_until(lambda: rx.search(self.read_log()[since:]), timeout)
        if not m:
            self.fail("no log line matching %r within %.1f s:\n%s"
                      % (pattern, timeout, self.log_tail()))
        return m

    def poll_answer(self, name, qtype, want, timeout):
        """Query until the sorted answer rdata equal `want`; returns the last reply."""
        last = [None]

        def check():
            r = run_dig(self.port, name, qtype, timeout=1)
            last[0] = r
            return r["rcode"] == "NOERROR" and sorted(rd for (_, _, _, rd) in r["answer"]) == sorted(want)
        if not wait_until(check, timeout, 0.1):
            r = last[0]
            self.fail("%s %s never answered %s within %.0f s; last reply:\n%s"
                      % (name, qtype, want, timeout, self.ctx(r) if r else "(none)"))
        return last[0]
