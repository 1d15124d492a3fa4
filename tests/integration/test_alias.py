#!/usr/bin/env python3
"""End-to-end ALIAS (ANAME-style flattening) tests for anamed (python3 stdlib only).

Real processes only: anamed, queried with dig, resolving its ALIAS targets at
  * a real Knot DNS server (knotd started in a temp dir with its own config on a
    free port, serving offsite.example), and
  * fake_upstream.py (next to this file): a scriptable responder that can time
    out, SERVFAIL, NXDOMAIN, loop, send over-long chains, truncate, and send
    spoofed replies (wrong ID / question / case / source port); it counts the
    queries it receives per (name, type).

Environment:
  ANAMED_BIN       path of the anamed binary (default build/controlplane/anamed)
  ANAMED_TESTDATA  accepted (ctest sets it) but unused: the zones are generated
  ANAMED_TEST_VERBOSE=1  print every dig command line
  KNOTD, KNOTC     knotd / knotc to use (default: from PATH or /usr/sbin); the
                   Knot class is skipped when they are missing

Run:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_alias.py
The last line printed is "N passed, N failed, N skipped"; the exit code is
non-zero when anything failed.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # fake_upstream and the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import fake_upstream  # noqa: E402  (python3 stdlib-only helper next to this file)
from dnstest import lower_rrs, run_dig  # noqa: E402
from anamedtest import DnsTestCase, find_binary, main, pick_free_port  # noqa: E402

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
                     query_timeout_ms=QUERY_TIMEOUT_MS):
        """zones: [(name, master file text)]. Waits until the first zone's SOA answers."""
        cls.port = pick_free_port(ipv6=False)
        lines = ["listen:", "  - 127.0.0.1:%d" % cls.port, "workers: 1", "zones:"]
        for name, text in zones:
            path = os.path.join(cls.tmp, name + ".zone")
            with open(path, "w") as f:
                f.write(text)
            lines += ["  - name: %s" % name, "    file: %s" % path]
        if upstreams:
            lines.append("upstreams:")
            lines += ["  - 127.0.0.1:%d" % u for u in upstreams]
        lines += ["alias:", "  refresh-min-s: %d" % refresh_min,
                  "  refresh-max-s: %d" % refresh_max,
                  "  stale-limit-s: %d" % stale_limit,
                  "  query-timeout-ms: %d" % query_timeout_ms]
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


# ==========================================================================
# Knot DNS as the upstream
# ==========================================================================

KNOT_ZONE = """$ORIGIN offsite.example.
$TTL 2
@       60  SOA   ns hostmaster {serial} 60 60 600 2
@       60  NS    ns
ns      60  A     127.0.0.1
lb      3   A     203.0.113.10
lb      3   A     203.0.113.11
lb      3   AAAA  2001:db8::10
chain   1   CNAME lb
chain2  2   CNAME chain
hop     2   CNAME lb
stable  300 A     203.0.113.20
stable  300 AAAA  2001:db8::20
moving  2   A     {moving_a}
moving  2   AAAA  {moving_aaaa}
"""

SERVED = "mywebservice.test."
SERVED_ZONE = """$ORIGIN mywebservice.test.
$TTL 300
@            SOA   ns1 hostmaster 2026112601 7200 3600 1209600 300
@            NS    ns1
@        300 ALIAS lb.offsite.example.
@            MX    10 mail
ns1          A     192.0.2.1
mail     600 A     192.0.2.25
customer 300 ALIAS lb.offsite.example.
customer     MX    10 mail.mywebservice.test.
customer     TXT   "v=spf1 mx -all"
short      1 ALIAS lb.offsite.example.
short2    60 ALIAS stable.offsite.example.
viachain 300 ALIAS chain2.offsite.example.
viahop   300 ALIAS hop.offsite.example.
*.customers 300 ALIAS lb.offsite.example.
moving   300 ANAME moving.offsite.example.
generic  300 TYPE65401 lb.offsite.example.
www          CNAME customer
"""
LB_A = ["203.0.113.10", "203.0.113.11"]
LB_AAAA = ["2001:db8::10"]


def fqs(rel):
    return SERVED if rel == "@" else rel + "." + SERVED


class TestAliasWithKnot(AliasTest):
    knot = None

    @classmethod
    def start_servers(cls):
        cls.knotd = find_tool("KNOTD", "knotd")
        cls.knotc = find_tool("KNOTC", "knotc")
        if not cls.knotd or not cls.knotc:
            raise unittest.SkipTest("knotd/knotc not installed (tools/install-deps.sh installs knot)")
        kdir = os.path.join(cls.tmp, "knot")
        os.makedirs(os.path.join(kdir, "db"))
        cls.knot_port = pick_free_port(ipv6=False)
        cls.knot_zone = os.path.join(kdir, "offsite.example.zone")
        cls.write_knot_zone(1, "203.0.113.40", "2001:db8::40")
        cls.knot_conf = os.path.join(kdir, "knot.conf")
        with open(cls.knot_conf, "w") as f:
            f.write("""server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: info
database:
    storage: "{d}/db"
control:
    listen: "{d}/knot.sock"
template:
  - id: default
    storage: "{d}"
    journal-content: none
zone:
  - domain: offsite.example
    file: "{zone}"
""".format(d=kdir, port=cls.knot_port, zone=cls.knot_zone))
        cls.knot = cls.spawn("knotd", [cls.knotd, "-c", cls.knot_conf])

        def knot_ready():
            if cls.knot.poll() is not None:
                raise RuntimeError("knotd exited with %s:\n%s"
                                   % (cls.knot.returncode, cls.read_log("knotd")))
            return run_dig(cls.knot_port, "offsite.example", "SOA", timeout=1)["rcode"] == "NOERROR"
        if not wait_until(knot_ready, 10, 0.1):
            raise RuntimeError("knotd did not answer within 10 s:\n" + cls.read_log("knotd"))
        cls.start_anamed([("mywebservice.test", SERVED_ZONE)], [cls.knot_port])

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            if cls.knot is not None and cls.knot.poll() is None:
                cls.knot.send_signal(signal.SIGTERM)
                try:
                    cls.knot.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass

    @classmethod
    def write_knot_zone(cls, serial, moving_a, moving_aaaa):
        tmp = cls.knot_zone + ".tmp"
        with open(tmp, "w") as f:
            f.write(KNOT_ZONE.format(serial=serial, moving_a=moving_a, moving_aaaa=moving_aaaa))
        os.replace(tmp, cls.knot_zone)

    # -- the seed's case: ALIAS beside MX and TXT ------------------------------------

    def test_alias_mx_and_txt_at_one_name_are_all_answered(self):
        self.assertAnswer(self.dig(fqs("customer"), "A"), rrs(fqs("customer"), 3, "A", LB_A))
        self.assertAnswer(self.dig(fqs("customer"), "AAAA"), rrs(fqs("customer"), 3, "AAAA", LB_AAAA))
        self.assertAnswer(self.dig(fqs("customer"), "MX"),
                          rrs(fqs("customer"), 300, "MX", ["10 mail.mywebservice.test."]))
        self.assertAnswer(self.dig(fqs("customer"), "TXT"),
                          rrs(fqs("customer"), 300, "TXT", ['"v=spf1 mx -all"']))

    def test_flattened_answer_is_authoritative_minimal_and_keeps_query_case(self):
        for tcp in (False, True):
            r = self.dig("CuStOmEr.MyWebService.TEST", "A", tcp=tcp)
            ctx = self.ctx(r)
            self.assertAnswer(r, rrs(fqs("customer"), 3, "A", LB_A))
            self.assertEqual({n for (n, _, _, _) in r["answer"]}, {"CuStOmEr.MyWebService.TEST."}, ctx)
            self.assertNotIn("ra", r["flags"], ctx)
            self.assertEqual(r["authority"], [], ctx)

    # -- TTL ----------------------------------------------------------------------------

    def test_ttl_is_the_chain_ttl_when_it_is_smaller(self):
        # ALIAS 300, lb 3 -> 3
        self.assertAnswer(self.dig(fqs("customer"), "A"), rrs(fqs("customer"), 3, "A", LB_A))

    def test_ttl_is_the_alias_ttl_when_it_is_smaller(self):
        # ALIAS 1, lb 3 -> 1; ALIAS 60, stable 300 -> 60
        self.assertAnswer(self.dig(fqs("short"), "A"), rrs(fqs("short"), 1, "A", LB_A))
        self.assertAnswer(self.dig(fqs("short"), "AAAA"), rrs(fqs("short"), 1, "AAAA", LB_AAAA))
        self.assertAnswer(self.dig(fqs("short2"), "A"), rrs(fqs("short2"), 60, "A", ["203.0.113.20"]))
        self.assertAnswer(self.dig(fqs("short2"), "AAAA"), rrs(fqs("short2"), 60, "AAAA", ["2001:db8::20"]))

    # -- CNAME chains at the upstream ------------------------------------------------------

    def test_upstream_cname_chain_is_followed_with_the_minimum_ttl_along_it(self):
        # chain2 (2) -> chain (1) -> lb (3): the middle link's 1 wins
        self.assertAnswer(self.dig(fqs("viachain"), "A"), rrs(fqs("viachain"), 1, "A", LB_A))
        self.assertAnswer(self.dig(fqs("viachain"), "AAAA"), rrs(fqs("viachain"), 1, "AAAA", LB_AAAA))
        # hop (2) -> lb (3): the first link's 2 wins
        self.assertAnswer(self.dig(fqs("viahop"), "A"), rrs(fqs("viahop"), 2, "A", LB_A))

    def test_in_zone_cname_to_an_alias_name_is_followed(self):
        r = self.dig(fqs("www"), "A")
        self.assertAnswer(r, [(fqs("www"), 300, "CNAME", fqs("customer"))] +
                          rrs(fqs("customer"), 3, "A", LB_A))

    # -- wildcard and apex ------------------------------------------------------------------

    def test_wildcard_alias_answers_with_the_query_name_as_owner(self):
        for q in ("acme.customers.mywebservice.test.", "x.y.customers.mywebservice.test."):
            self.assertAnswer(self.dig(q, "A"), rrs(q, 3, "A", LB_A))
            self.assertAnswer(self.dig(q, "AAAA"), rrs(q, 3, "AAAA", LB_AAAA))
        r = self.dig("acme.customers.mywebservice.test.", "MX")
        self.assertNodata(r, SERVED, 300)

    def test_apex_alias_beside_soa_ns_and_mx(self):
        self.assertAnswer(self.dig(SERVED, "A"), rrs(SERVED, 3, "A", LB_A))
        self.assertAnswer(self.dig(SERVED, "AAAA"), rrs(SERVED, 3, "AAAA", LB_AAAA))
        self.assertAnswer(self.dig(SERVED, "MX"), rrs(SERVED, 300, "MX", ["10 mail.mywebservice.test."]))
        self.assertAnswer(self.dig(SERVED, "NS"), rrs(SERVED, 300, "NS", ["ns1.mywebservice.test."]))
        r = self.dig(SERVED, "SOA")
        self.assertAnswer(r, rrs(SERVED, 300, "SOA", [
            "ns1.mywebservice.test. hostmaster.mywebservice.test. 2026112601 7200 3600 1209600 300"]))

    # -- the ALIAS record itself -------------------------------------------------------------

    def test_alias_type_query_returns_the_alias_record(self):
        for rel, target in (("customer", "lb.offsite.example."), ("@", "lb.offsite.example."),
                            ("moving", "moving.offsite.example."), ("generic", "lb.offsite.example.")):
            r = self.dig(fqs(rel), "TYPE65401")
            ctx = self.ctx(r)
            self.assertEqual(r["rcode"], "NOERROR", ctx)
            self.assertIn("aa", r["flags"], ctx)
            got = [(n.lower(), t, ty, re.sub(r"\s+", "", rd)) for (n, t, ty, rd) in r["answer"]]
            want = alias_rdata_hex(target)
            self.assertEqual(got, [(fqs(rel), 300, "TYPE65401", re.sub(r"\s+", "", want))], ctx)

    def test_generic_type65401_and_aname_syntax_are_flattened(self):
        self.assertAnswer(self.dig(fqs("generic"), "A"), rrs(fqs("generic"), 3, "A", LB_A))
        self.assertAnswer(self.dig(fqs("moving"), "TYPE65401"),
                          [(fqs("moving"), 300, "TYPE65401", alias_rdata_hex("moving.offsite.example."))])

    # -- an address change upstream ----------------------------------------------------------

    def test_upstream_address_change_is_published_after_refresh(self):
        self.assertAnswer(self.dig(fqs("moving"), "A"), rrs(fqs("moving"), 2, "A", ["203.0.113.40"]))
        since = len(self.read_log())
        self.write_knot_zone(2, "203.0.113.41", "2001:db8::41")
        p = subprocess.run([self.knotc, "-c", self.knot_conf, "zone-reload", "offsite.example"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=10)
        self.assertEqual(p.returncode, 0, p.stdout)
        ok = wait_until(lambda: run_dig(self.knot_port, "moving.offsite.example", "A")["answer"][:1] ==
                        [("moving.offsite.example.", 2, "A", "203.0.113.41")], 5, 0.1)
        self.assertTrue(ok, "knotd did not load the new zone:\n" + self.read_log("knotd")[-2000:])
        self.poll_answer(fqs("moving"), "A", ["203.0.113.41"], 10)
        self.poll_answer(fqs("moving"), "AAAA", ["2001:db8::41"], 10)
        self.wait_log(r"ALIAS target moving\.offsite\.example\. -> 203\.0\.113\.41", 2, since)
        self.wait_log(r"published \d+ ALIAS change\(s\) in \d+ us", 2, since)
        # other names are unaffected
        self.assertAnswer(self.dig(fqs("customer"), "A"), rrs(fqs("customer"), 3, "A", LB_A))


# ==========================================================================
# fake_upstream: failures, local targets, spoofing, truncation
# ==========================================================================

SPOOF_A = "198.51.100.66"
FAKE = "fake.test."
FAKE_ZONE = """$ORIGIN fake.test.
$TTL 300
@          SOA   ns1 hostmaster 1 7200 3600 1209600 300
@          NS    ns1
ns1        A     192.0.2.1
host   120 A     192.0.2.80
host   120 AAAA  2001:db8::80
www        CNAME host
inside     ALIAS host.fake.test.
inside     MX    10 mail.example.
inside2    ALIAS www.fake.test.
cross      ALIAS srv.other.test.
ok         ALIAS ok.target.
v4only     ALIAS v4.target.
fb         ALIAS down.target.
fb     120 A     192.0.2.50
fb     120 AAAA  2001:db8::50
nofb       ALIAS down.target.
nofb       MX    10 mail.example.
sf         ALIAS sf.target.
nx         ALIAS gone.target.
nx         MX    10 mail.example.
loop       ALIAS loop.target.
loop       A     192.0.2.51
chain      ALIAS chain12.target.
chain      MX    10 mail.example.
spoof-id   ALIAS id.spoof.target.
spoof-id   A     192.0.2.61
spoof-q    ALIAS q.spoof.target.
spoof-q    A     192.0.2.62
spoof-case ALIAS case.spoof.target.
spoof-case A     192.0.2.63
spoof-port ALIAS port.spoof.target.
spoof-port A     192.0.2.64
tc         ALIAS tc.target.
big        ALIAS big.target.
"""
OTHER_ZONE = """$ORIGIN other.test.
$TTL 300
@    SOA ns1.fake.test. hostmaster 1 7200 3600 1209600 300
@    NS  ns1.fake.test.
srv  60 A 192.0.2.90
"""
BIG_A = ["10.1.%d.%d" % (i // 100, i % 100 + 1) for i in range(100)]


def rec(a=(), aaaa=(), ttl=60, mode=None):
    r = {"a": list(a), "aaaa": list(aaaa), "ttl": ttl}
    if mode:
        r["mode"] = mode
    return r


FAKE_RECORDS = {
    "ok.target.": rec(["203.0.113.1"], ["2001:db8::1"], 60),
    # A TTL below the negative TTL (30) of the missing AAAA: the served TTL is 20 whether
    # the AAAA NODATA's TTL caps the A answer or not
    "v4.target.": rec(["203.0.113.4"], [], 20),
    "down.target.": rec(["203.0.113.2"], ["2001:db8::2"], 60, "timeout"),
    "sf.target.": rec(["203.0.113.3"], [], 60, "servfail"),
    "gone.target.": rec(["203.0.113.5"], [], 60, "nxdomain"),
    "loop.target.": rec(["203.0.113.6"], [], 60, "loop"),
    "chain12.target.": rec(["203.0.113.7"], [], 60, "long_chain"),
    "id.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_id"),
    "q.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_question"),
    "case.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_case"),
    "port.spoof.target.": rec([SPOOF_A], ["2001:db8::66"], 60, "wrong_port"),
    "tc.target.": rec(["203.0.113.8"], ["2001:db8::8"], 60, "truncate"),
    "big.target.": rec(BIG_A, ["2001:db8::9"], 60),
    # what a recursive resolver would say for the in-server targets; must never be asked
    "host.fake.test.": rec([SPOOF_A], [], 60),
    "www.fake.test.": rec([SPOOF_A], [], 60),
    "srv.other.test.": rec([SPOOF_A], [], 60),
}


def fz(rel):
    return rel + "." + FAKE


class TestAliasWithFakeUpstream(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", {"mode": "normal", "records": FAKE_RECORDS})
        cls.start_anamed([("fake.test", FAKE_ZONE), ("other.test", OTHER_ZONE)], [cls.fake_port])

    def count(self, name, qtype, transport="total"):
        return fake_upstream.count(self.fake_dir, name, qtype, transport)

    def test_sanity_normal_target_resolves(self):
        self.assertAnswer(self.dig(fz("ok"), "A"), rrs(fz("ok"), 60, "A", ["203.0.113.1"]))
        self.assertAnswer(self.dig(fz("ok"), "AAAA"), rrs(fz("ok"), 60, "AAAA", ["2001:db8::1"]))

    def test_upstream_nodata_gives_nodata(self):
        self.assertAnswer(self.dig(fz("v4only"), "A"), rrs(fz("v4only"), 20, "A", ["203.0.113.4"]))
        self.assertNodata(self.dig(fz("v4only"), "AAAA"), FAKE, 300)

    # -- targets inside the served zones -------------------------------------------------

    def test_target_in_own_zone_is_answered_from_zone_data_without_upstream_query(self):
        self.assertAnswer(self.dig(fz("inside"), "A"), rrs(fz("inside"), 120, "A", ["192.0.2.80"]))
        self.assertAnswer(self.dig(fz("inside"), "AAAA"), rrs(fz("inside"), 120, "AAAA", ["2001:db8::80"]))
        self.assertAnswer(self.dig(fz("inside"), "MX"), rrs(fz("inside"), 300, "MX", ["10 mail.example."]))
        # through an in-zone CNAME: min(CNAME 300, host 120)
        self.assertAnswer(self.dig(fz("inside2"), "A"), rrs(fz("inside2"), 120, "A", ["192.0.2.80"]))
        # in another served zone
        self.assertAnswer(self.dig(fz("cross"), "A"), rrs(fz("cross"), 60, "A", ["192.0.2.90"]))
        time.sleep(1.5)  # a refresh cycle of the upstream targets went by
        asked = {k: v for k, v in fake_upstream.read_counts(self.fake_dir)["total"].items()
                 if k.endswith((".fake.test. A", ".fake.test. AAAA", ".other.test. A",
                                ".other.test. AAAA"))}
        self.assertEqual(asked, {}, "in-server targets were sent upstream")
        self.assertIn("ALIAS target host.fake.test. is served here", self.read_log())

    # -- never resolved: fallback or SERVFAIL ------------------------------------------------

    def test_never_resolved_serves_the_fallback_addresses(self):
        self.assertAnswer(self.dig(fz("fb"), "A"), rrs(fz("fb"), 120, "A", ["192.0.2.50"]))
        self.assertAnswer(self.dig(fz("fb"), "AAAA"), rrs(fz("fb"), 120, "AAAA", ["2001:db8::50"]))
        self.assertGreaterEqual(self.count("down.target.", "A"), 1)
        self.assertRegex(self.read_log(), r"down\.target\.: lookup failed \(timeout from 127\.0\.0\.1:%d\)"
                         % self.fake_port)

    def test_never_resolved_without_fallback_is_servfail_for_addresses_only(self):
        self.assertServfail(self.dig(fz("nofb"), "A"))
        self.assertServfail(self.dig(fz("nofb"), "AAAA"))
        self.assertAnswer(self.dig(fz("nofb"), "MX"), rrs(fz("nofb"), 300, "MX", ["10 mail.example."]))

    def test_upstream_servfail_is_a_failure(self):
        self.assertServfail(self.dig(fz("sf"), "A"))
        self.assertRegex(self.read_log(), r"sf\.target\.: lookup failed \(upstream answered SERVFAIL\)")

    def test_nxdomain_target_gives_nodata(self):
        for t in ("A", "AAAA"):
            self.assertNodata(self.dig(fz("nx"), t), FAKE, 300)
        self.assertAnswer(self.dig(fz("nx"), "MX"), rrs(fz("nx"), 300, "MX", ["10 mail.example."]))
        self.assertIn("gone.target. does not exist (NXDOMAIN)", self.read_log())

    def test_cname_loop_is_a_failure_and_the_fallback_serves(self):
        self.assertAnswer(self.dig(fz("loop"), "A"), rrs(fz("loop"), 300, "A", ["192.0.2.51"]))
        self.assertGreaterEqual(self.count("loop.target.", "A"), 1)
        self.assertRegex(self.read_log(), r"loop\.target\.: lookup failed \(CNAME/DNAME loop")

    def test_over_long_cname_chain_is_a_failure(self):
        self.assertServfail(self.dig(fz("chain"), "A"))
        self.assertAnswer(self.dig(fz("chain"), "MX"), rrs(fz("chain"), 300, "MX", ["10 mail.example."]))
        self.assertRegex(self.read_log(), r"chain12\.target\.: lookup failed \(CNAME/DNAME chain longer")

    # -- spoofing --------------------------------------------------------------------------

    def test_spoofed_replies_are_never_accepted(self):
        cases = (("spoof-id", "id.spoof.target.", "192.0.2.61"),
                 ("spoof-q", "q.spoof.target.", "192.0.2.62"),
                 ("spoof-case", "case.spoof.target.", "192.0.2.63"),
                 ("spoof-port", "port.spoof.target.", "192.0.2.64"))
        # at least one retry (backoff 1 s) has come and gone for each
        ok = wait_until(lambda: all(self.count(t, "A") >= 2 and self.count(t, "AAAA") >= 2
                                    for _, t, _ in cases), 6, 0.1)
        self.assertTrue(ok, "the spoofed targets were not retried: %s"
                        % fake_upstream.read_counts(self.fake_dir)["total"])
        log = self.read_log()
        for rel, target, fallback in cases:
            with self.subTest(mode=rel):
                self.assertAnswer(self.dig(fz(rel), "A"), rrs(fz(rel), 300, "A", [fallback]))
                self.assertRegex(log, r"%s: lookup failed \(timeout from 127\.0\.0\.1:%d\)"
                                 % (re.escape(target), self.fake_port))
                self.assertNotRegex(log, r"ALIAS target %s ->" % re.escape(target))
        self.assertNotIn(SPOOF_A, log)

    def test_upstream_queries_use_random_id_port_and_case(self):
        wait_until(lambda: self.count("down.target.", "A") >= 3, 6, 0.1)
        recent = [q for q in fake_upstream.read_counts(self.fake_dir)["recent"] if q["transport"] == "udp"]
        self.assertGreaterEqual(len(recent), 10, recent)
        ids = {q["id"] for q in recent}
        ports = {q["sport"] for q in recent}
        self.assertGreaterEqual(len(ids), len(recent) * 0.8, "IDs repeat: %s" % recent)
        self.assertGreaterEqual(len(ports), len(recent) * 0.8, "source ports repeat: %s" % recent)
        down = [q["qname"] for q in recent if q["qname"].lower() == "down.target."]
        self.assertGreaterEqual(len(down), 3, recent)
        self.assertGreater(len(set(down)), 1, "no 0x20 case randomisation: %s" % down)
        self.assertTrue(any(n != n.lower() for n in down), down)
        # A and AAAA of one lookup come from two different sockets at the same moment
        a_aaaa = [q for q in recent if q["qname"].lower() == "ok.target."]
        if len(a_aaaa) >= 2:
            self.assertNotEqual(a_aaaa[0]["sport"], a_aaaa[1]["sport"])

    # -- truncation: TCP retry -------------------------------------------------------------

    def test_truncated_reply_is_retried_over_tcp(self):
        self.assertAnswer(self.dig(fz("tc"), "A"), rrs(fz("tc"), 60, "A", ["203.0.113.8"]))
        self.assertAnswer(self.dig(fz("tc"), "AAAA"), rrs(fz("tc"), 60, "AAAA", ["2001:db8::8"]))
        self.assertGreaterEqual(self.count("tc.target.", "A", "udp"), 1)
        self.assertGreaterEqual(self.count("tc.target.", "A", "tcp"), 1)
        self.assertGreaterEqual(self.count("tc.target.", "AAAA", "tcp"), 1)

    def test_answer_too_big_for_udp_is_fetched_over_tcp_in_full(self):
        r = self.dig(fz("big"), "A", tcp=True)
        self.assertAnswer(r, rrs(fz("big"), 60, "A", BIG_A))
        self.assertGreaterEqual(self.count("big.target.", "A", "tcp"), 1)
        # AAAA fitted in UDP: no TCP needed
        self.assertAnswer(self.dig(fz("big"), "AAAA"), rrs(fz("big"), 60, "AAAA", ["2001:db8::9"]))
        self.assertEqual(self.count("big.target.", "AAAA", "tcp"), 0)


# ==========================================================================
# 10,000 names on one target: one upstream lookup per refresh
# ==========================================================================

MANY = 10000
MANY_ZONE_HEAD = """$ORIGIN many.test.
$TTL 300
@ SOA ns1 hostmaster 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
"""


class TestAliasManyNamesOneTarget(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", {"mode": "normal", "records": {
            "lb.target.": rec(["203.0.113.100", "203.0.113.101"], ["2001:db8::100"], 2)}})
        cls.fake_started = time.monotonic()
        body = "".join("c%05d ALIAS lb.target.\n" % i for i in range(MANY))
        cls.start_anamed([("many.test", MANY_ZONE_HEAD + body)], [cls.fake_port],
                         refresh_min=1, refresh_max=60)

    def test_one_upstream_lookup_per_refresh_for_10000_names(self):
        counts = lambda: fake_upstream.read_counts(self.fake_dir)["total"]  # noqa: E731
        for i in (0, 1, 4999, MANY - 1):
            name = "c%05d.many.test." % i
            self.assertAnswer(self.dig(name, "A"), rrs(name, 2, "A", ["203.0.113.100", "203.0.113.101"]))
            self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 2, "AAAA", ["2001:db8::100"]))
        t0, c0 = time.monotonic(), counts()
        time.sleep(4.2)
        t1, c1 = time.monotonic(), counts()
        elapsed = t1 - t0
        refreshes = elapsed / 1.0  # TTL 2 -> refresh every 1 s
        da = c1.get("lb.target. A", 0) - c0.get("lb.target. A", 0)
        d6 = c1.get("lb.target. AAAA", 0) - c0.get("lb.target. AAAA", 0)
        msg = "in %.1f s (~%.1f refreshes): %d A and %d AAAA queries; counts %s" % (
            elapsed, refreshes, da, d6, c1)
        self.assertLessEqual(abs(da - d6), 1, msg)
        self.assertGreaterEqual(da, int(refreshes) - 1, msg)
        self.assertLessEqual(da, int(refreshes) + 1, msg)
        # since the very start: the startup lookup plus one per second, nothing per name
        total_elapsed = time.monotonic() - self.fake_started
        self.assertLessEqual(c1.get("lb.target. A", 0), total_elapsed + 2, msg)
        self.assertEqual(set(c1), {"lb.target. A", "lb.target. AAAA"}, msg)
        # the A queries are one refresh interval apart, never a burst
        times = [q["t"] for q in fake_upstream.read_counts(self.fake_dir)["recent"]
                 if q["qname"].lower() == "lb.target." and q["type"] == "A"]
        gaps = [b - a for a, b in zip(times, times[1:])]
        self.assertTrue(gaps and min(gaps) >= 0.8, "A query gaps %s" % gaps)
        # every name still answers
        for i in (2, 7777, MANY - 2):
            name = "c%05d.many.test." % i
            self.assertAnswer(self.dig(name, "A"), rrs(name, 2, "A", ["203.0.113.100", "203.0.113.101"]))


# ==========================================================================
# Upstream failure after success: stale, then SERVFAIL, then recovery
# ==========================================================================

STALE_ZONE = """$ORIGIN stale.test.
$TTL 300
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
cust ALIAS lb.stale.
cust MX  10 mail.example.
cust TXT "still here"
"""


class TestAliasStaleAndRecovery(AliasTest):

    @classmethod
    def start_servers(cls):
        cls.control = {"mode": "normal", "records": {
            "lb.stale.": rec(["203.0.113.70"], ["2001:db8::70"], 1)}}
        cls.fake_dir, cls.fake_port = cls.start_fake("upstream", cls.control)
        cls.start_anamed([("stale.test", STALE_ZONE)], [cls.fake_port],
                         refresh_min=1, refresh_max=2, stale_limit=2)

    def set_mode(self, mode):
        fake_upstream.write_control(self.fake_dir, dict(self.control, mode=mode))

    def test_stale_served_then_servfail_past_the_limit_then_recovery(self):
        name = "cust.stale.test."
        self.assertAnswer(self.dig(name, "A"), rrs(name, 1, "A", ["203.0.113.70"]))
        self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 1, "AAAA", ["2001:db8::70"]))

        # upstream stops answering: the last good addresses keep serving for TTL + 2 s
        since = len(self.read_log())
        self.set_mode("timeout")
        self.wait_log(r"lb\.stale\.: lookup failed \(timeout from 127\.0\.0\.1:%d\); serving the last good"
                      % self.fake_port, 5, since)
        self.assertAnswer(self.dig(name, "A"), rrs(name, 1, "A", ["203.0.113.70"]))
        self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 1, "AAAA", ["2001:db8::70"]))
        self.assertAnswer(self.dig(name, "MX"), rrs(name, 300, "MX", ["10 mail.example."]))

        # past the stale limit: SERVFAIL for A/AAAA only
        self.wait_log(r"lb\.stale\.: stale limit reached", 6, since)
        self.assertIn("serving stale", self.read_log()[since:])
        self.assertServfail(self.dig(name, "A"))
        self.assertServfail(self.dig(name, "AAAA"))
        self.assertAnswer(self.dig(name, "MX"), rrs(name, 300, "MX", ["10 mail.example."]))
        self.assertAnswer(self.dig(name, "TXT"), rrs(name, 300, "TXT", ['"still here"']))

        # upstream back: answers recover (backoff is capped at refresh-max-s = 2)
        since = len(self.read_log())
        self.set_mode("normal")
        self.poll_answer(name, "A", ["203.0.113.70"], 8)
        self.poll_answer(name, "AAAA", ["2001:db8::70"], 3)
        self.wait_log(r"lb\.stale\.: upstream answers again", 2, since)
        self.wait_log(r"published \d+ ALIAS change\(s\)", 2, since)


# ==========================================================================
# Two upstreams, the first one dead
# ==========================================================================

TWO_ZONE = """$ORIGIN two.test.
$TTL 300
@    SOA ns1 hostmaster 1 7200 3600 1209600 300
@    NS  ns1
ns1  A   192.0.2.1
svc  ALIAS lb.two.
svc  MX  10 mail.example.
"""


class TestAliasSecondUpstream(AliasTest):

    @classmethod
    def start_servers(cls):
        records = {"lb.two.": rec(["203.0.113.90"], ["2001:db8::90"], 30)}
        cls.dead_dir, cls.dead_port = cls.start_fake("dead", {"mode": "timeout", "records": records})
        cls.live_dir, cls.live_port = cls.start_fake("live", {"mode": "normal", "records": records})
        cls.start_anamed([("two.test", TWO_ZONE)], [cls.dead_port, cls.live_port])

    def test_second_upstream_answers_when_the_first_times_out(self):
        name = "svc.two.test."
        self.poll_answer(name, "A", ["203.0.113.90"], 6)
        self.assertAnswer(self.dig(name, "A"), rrs(name, 30, "A", ["203.0.113.90"]))
        self.assertAnswer(self.dig(name, "AAAA"), rrs(name, 30, "AAAA", ["2001:db8::90"]))
        self.assertGreaterEqual(fake_upstream.count(self.dead_dir, "lb.two.", "A"), 1)
        self.assertGreaterEqual(fake_upstream.count(self.live_dir, "lb.two.", "A"), 1)
        self.assertRegex(self.read_log(), r"lb\.two\.: lookup failed \(timeout from 127\.0\.0\.1:%d\)"
                         % self.dead_port)
        self.assertRegex(self.read_log(), r"ALIAS target lb\.two\. -> 203\.0\.113\.90")


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
