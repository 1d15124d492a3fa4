#!/usr/bin/env python3
"""anamed as an operator runs it, against the real process: the Prometheus endpoint
(scraped, checked with promtool, counters read after known traffic), identity (CH TXT
id.server and friends, NSID, off by default), systemd's notifications through a fake
NOTIFY_SOCKET (READY, RELOADING, STOPPING, WATCHDOG), journal-style logs and log levels,
SIGHUP re-reading the configuration, and anamectl's -c/-s, verbs and exit codes.

Needs dnspython, dig and promtool (Debian: prometheus). Run:
  ANAMED_BIN=build/controlplane/anamed ANAMECTL_BIN=build/tools/anamectl \\
      python3 tests/integration/test_operator.py
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True
import dns.edns  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
from anamedtest import Anamed, AnamedTestCase, find_anamectl, main, pick_free_port  # noqa: E402

ZONE = "op.test"


def zone_text(origin, www="192.0.2.1"):
    return ("$ORIGIN %s.\n$TTL 300\n"
            "@   IN SOA ns1 hostmaster 1 7200 3600 1209600 300\n"
            "@   IN NS  ns1\n"
            "ns1 IN A   192.0.2.53\n"
            "www IN A   %s\n"
            "www IN TXT \"hello\"\n" % (origin, www))


def parse_metrics(text):
    """{(name, frozenset(labels)): value} of the exposition text."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
        assert m, "bad sample line: %r" % line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def total(samples, name, **want):
    """The sum of `name` over every sample whose labels include `want`."""
    return sum(v for (n, labels), v in samples.items()
               if n == name and all((k, w) in labels for k, w in want.items()))


class OperatorTest(AnamedTestCase):
    TMP_PREFIX = "anamed-operator-"

    def config(self, extra="", zones=(ZONE,)):
        lines = ["listen: [\"127.0.0.1:%d\"]" % self.port, "workers: 1", "zones:"]
        for z in zones:
            path = os.path.join(self.dir, z + ".zone")
            if not os.path.exists(path):
                self.write(z + ".zone", zone_text(z))
            lines.append("  - {name: %s, file: %s.zone}" % (z, z))
        return self.write("anamed.yaml", "\n".join(lines) + "\n" + extra)

    def start(self, cfg, env=None, wait=True):
        srv = Anamed(["--config", cfg], self.dir, self.port, env=env)
        self.addCleanup(srv.close)
        self.addCleanup(self._stop_and_check, srv)
        if wait:
            srv.wait_ready()
        self.server = srv
        return srv

    def ctl(self, *args):
        p = subprocess.run([find_anamectl()] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=20,
                           env={k: v for k, v in os.environ.items() if k != "ANAMED_SOCKET"})
        p.what = "anamectl %s -> %d\n%s%s" % (" ".join(args), p.returncode, p.stdout, p.stderr)
        return p

    def dig_text(self, *args):
        return subprocess.run(["dig", "@127.0.0.1", "-p", str(self.port), "+norec", "+time=2",
                               "+tries=1"] + list(args),
                              stdout=subprocess.PIPE, text=True, timeout=20).stdout

    def query(self, name, rdtype, rdclass="IN", nsid=False, tcp=False):
        q = dns.message.make_query(name, rdtype, rdclass,
                                   use_edns=0 if nsid else None,
                                   options=[dns.edns.GenericOption(dns.edns.NSID, b"")]
                                   if nsid else None)
        q.flags &= ~0x0100
        fn = dns.query.tcp if tcp else dns.query.udp
        return fn(q, "127.0.0.1", timeout=2, port=self.port)


class MetricsTest(OperatorTest):
    def scrape(self, path="/metrics"):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.mport, path),
                                    timeout=5) as r:
            self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
            return r.read().decode()

    def test_scrape_promtool_and_known_traffic(self):
        self.mport = pick_free_port(ipv6=False)
        journal = os.path.join(self.dir, "journal.mdb")
        sock = os.path.join(self.dir, "ctl.sock")
        cfg = self.config("metrics: {listen: \"127.0.0.1:%d\"}\ncontrol: {socket: %s}\n"
                          "journal: %s\n" % (self.mport, sock, journal))
        self.start(cfg)
        before = parse_metrics(self.scrape())
        for _ in range(3):
            self.assertEqual(self.query("www.op.test.", "A").rcode(), 0)
        self.assertEqual(self.query("nothere.op.test.", "A").rcode(), 3)
        self.assertEqual(self.query("www.op.test.", "TXT", tcp=True).rcode(), 0)
        p = self.ctl("-s", sock, "record", "add", ZONE, "new", "A", "192.0.2.77")
        self.assertEqual(p.returncode, 0, p.what)
        time.sleep(1.2)  # the control plane's values are refreshed once a second
        text = self.scrape()
        after = parse_metrics(text)

        def delta(name, **labels):
            return total(after, name, **labels) - total(before, name, **labels)
        self.assertEqual(delta("anamed_queries_total"), 5)
        self.assertEqual(delta("anamed_queries_total", transport="tcp"), 1)
        self.assertEqual(delta("anamed_answered_qtype_total", qtype="A"), 4)
        self.assertEqual(delta("anamed_answered_qtype_total", qtype="TXT"), 1)
        self.assertEqual(delta("anamed_answered_total", rcode="NXDOMAIN"), 1)
        self.assertEqual(delta("anamed_answered_total", rcode="NOERROR", frontend="kernel"), 4)
        self.assertEqual(delta("anamed_journal_commits_total"), 1)
        self.assertEqual(delta("anamed_changes_applied_total"), 1)
        self.assertEqual(delta("anamed_publish_duration_seconds_count", kind="patch"), 1)
        self.assertGreaterEqual(total(after, "anamed_publish_duration_seconds_count",
                                      kind="rebuild"), 1)
        self.assertEqual(total(after, "anamed_zone_serial", zone="op.test."), 2)
        self.assertGreaterEqual(total(after, "anamed_snapshot_generation"), 1)
        # A histogram's +Inf bucket is its count.
        self.assertEqual(total(after, "anamed_publish_duration_seconds_bucket", kind="patch",
                               le="+Inf"), total(after, "anamed_publish_duration_seconds_count",
                                                 kind="patch"))
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(check.returncode, 0, check.stdout)
        self.assertEqual(check.stdout.strip(), "", check.stdout)  # no lint complaints
        with self.assertRaises(urllib.error.HTTPError) as e:
            self.scrape("/other")
        self.assertEqual(e.exception.code, 404)

    def test_metrics_port_taken_fails_the_start(self):
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        cfg = self.config("metrics: {listen: \"127.0.0.1:%d\"}\n" % busy.getsockname()[1])
        srv = self.start(cfg, wait=False)
        srv.stopped = True
        self.assertEqual(srv.proc.wait(timeout=20), 1)
        self.assertIn("127.0.0.1:%d" % busy.getsockname()[1], srv.log())


class IdentityTest(OperatorTest):
    def test_off_by_default(self):
        self.start(self.config())
        for name in ("id.server.", "hostname.bind.", "version.server.", "version.bind."):
            self.assertEqual(self.query(name, "TXT", "CH").rcode(), 5, name)  # REFUSED
        r = self.query("www.op.test.", "A", nsid=True)
        self.assertEqual(r.rcode(), 0)
        self.assertEqual([o for o in r.options if o.otype == dns.edns.NSID], [])

    def test_configured_identity(self):
        self.start(self.config("identity: {nsid: node-7, id: fra-1, hostname: host-a,"
                               " version: \"anamed test\"}\n"))
        want = {"id.server.": "fra-1", "hostname.bind.": "host-a",
                "version.server.": "anamed test", "version.bind.": "anamed test"}
        for name, text in want.items():
            for tcp in (False, True):
                r = self.query(name, "TXT", "CH", tcp=tcp)
                self.assertEqual(r.rcode(), 0, name)
                self.assertEqual(len(r.answer), 1, r)
                rrset = r.answer[0]
                self.assertEqual(rrset.rdclass, dns.rdataclass.CH)
                self.assertEqual([b"".join(rd.strings).decode() for rd in rrset], [text])
        self.assertEqual(self.query("ID.Server.", "TXT", "CH").rcode(), 0)  # any case
        self.assertEqual(self.query("other.bind.", "TXT", "CH").rcode(), 5)
        r = self.query("id.server.", "A", "CH")
        self.assertEqual((r.rcode(), r.answer), (0, []))
        # dig, as an operator asks.
        d = self.dig_text("id.server", "CH", "TXT")
        self.assertIn("status: NOERROR", d)
        self.assertRegex(d, r'(?m)^id\.server\.\s+0\s+CH\s+TXT\s+"fra-1"$')
        for tcp in (False, True):
            r = self.query("www.op.test.", "A", nsid=True, tcp=tcp)
            self.assertEqual(r.rcode(), 0)
            self.assertEqual(len(r.answer), 1)
            nsid = [o for o in r.options if o.otype == dns.edns.NSID]
            self.assertEqual(len(nsid), 1, r)
            self.assertEqual(nsid[0].to_wire() if hasattr(nsid[0], "to_wire") else b"", b"node-7")
        d = self.dig_text("+nsid", "www.op.test", "A")
        self.assertRegex(d, r'NSID: .*\("node-7"\)')
        # Without the option, no NSID: the answer path is the usual one.
        r = self.query("www.op.test.", "A")
        self.assertEqual(list(r.options), [])

    def test_identity_too_long_is_a_config_error(self):
        cfg = self.config("identity: {id: %s}\n" % ("x" * 256))
        srv = self.start(cfg, wait=False)
        srv.stopped = True
        self.assertEqual(srv.proc.wait(timeout=20), 2)
        self.assertRegex(srv.log(), r"anamed\.yaml:\d+: identity: id is longer than 255")


class SystemdTest(OperatorTest):
    def notify_socket(self):
        path = os.path.join(self.dir, "notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(path)
        self.addCleanup(s.close)
        return s, path

    def read_until(self, s, want, timeout=10):
        """Datagrams until one holds `want`; returns every message seen."""
        seen = []
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            self.assertGreater(left, 0, "no %s in %s:\n%s" % (want, seen, self.server.log()))
            s.settimeout(left)
            msg = s.recv(4096).decode()
            seen.append(msg)
            if want in msg.split("\n"):
                return seen

    def test_ready_reloading_stopping_watchdog(self):
        s, path = self.notify_socket()
        srv = self.start(self.config(), env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"},
                         wait=False)
        self.read_until(s, "READY=1")
        # READY means serving: the first snapshot is published and the sockets answer.
        self.assertEqual(self.query("www.op.test.", "A").rcode(), 0)
        seen = self.read_until(s, "WATCHDOG=1", timeout=3)
        self.read_until(s, "WATCHDOG=1", timeout=3)
        self.assertNotIn("STOPPING=1", seen)
        srv.signal(signal.SIGHUP)
        seen = self.read_until(s, "RELOADING=1")
        seen = self.read_until(s, "READY=1")
        rc, _ = srv.stop()
        self.assertEqual(rc, 0, srv.log())
        self.read_until(s, "STOPPING=1", timeout=2)

    def test_journal_stream_logs_priorities_without_timestamps(self):
        cfg = self.config("log: {level: info}\n")
        err = os.path.join(self.dir, "anamed.stderr")
        open(err, "wb").close()
        st = os.stat(err)
        srv = self.start(cfg, env={"JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)},
                         wait=False)
        self.assertIsNotNone(srv.wait_log(r"^<6>info: serving ", timeout=10), srv.log())
        self.assertEqual(self.query("www.op.test.", "A").rcode(), 0)
        for line in srv.log().splitlines():
            self.assertRegex(line, r"^<[3-7]>(debug|info|warning|error): ")

    def test_log_level_warning_hides_info(self):
        cfg = self.config("log: {level: warning}\n")
        srv = self.start(cfg, wait=False)
        deadline = time.monotonic() + 10
        while self.query_ok() is False:
            self.assertLess(time.monotonic(), deadline, srv.log())
            time.sleep(0.05)
        self.assertNotIn(" info: ", srv.log())

    def query_ok(self):
        try:
            return self.query("www.op.test.", "A").rcode() == 0
        except Exception:
            return False


class ReloadTest(OperatorTest):
    def test_sighup_rereads_the_configuration(self):
        self.write("second.test.zone", zone_text("second.test", "192.0.2.2"))
        cfg = self.config()
        srv = self.start(cfg)
        self.assertEqual(self.query("www.second.test.", "A").rcode(), 5)
        self.assertEqual(self.query("id.server.", "TXT", "CH").rcode(), 5)
        self.config("identity: {id: after-reload}\n", zones=("second.test",))
        srv.signal(signal.SIGHUP)
        self.assertIsNotNone(srv.wait_log(r"zone op\.test removed", timeout=10), srv.log())
        deadline = time.monotonic() + 10
        while self.query("www.second.test.", "A").rcode() != 0:
            self.assertLess(time.monotonic(), deadline, srv.log())
            time.sleep(0.05)
        self.assertEqual(self.query("www.op.test.", "A").rcode(), 5)
        r = self.query("id.server.", "TXT", "CH")
        self.assertEqual(b"".join(r.answer[0][0].strings), b"after-reload")
        # A broken configuration changes nothing.
        self.write("anamed.yaml", "zones: [\n")
        srv.signal(signal.SIGHUP)
        self.assertIsNotNone(srv.wait_log(r"the configuration in use stays", timeout=10))
        self.assertEqual(self.query("www.second.test.", "A").rcode(), 0)


class AnamectlTest(OperatorTest):
    def test_config_socket_verbs_stats_and_exit_codes(self):
        sock = os.path.join(self.dir, "ctl.sock")
        cfg = self.config("control: {socket: ctl.sock}\njournal: journal.mdb\n")
        self.start(cfg)
        p = self.ctl("-c", cfg, "status")
        self.assertEqual(p.returncode, 0, p.what)
        p = self.ctl("-c", cfg, "record", "add", ZONE, "m", "A", "192.0.2.5")
        self.assertEqual(p.returncode, 0, p.what)
        p = self.ctl("-s", sock, "record", "add", ZONE, "m", "A", "192.0.2.6")
        self.assertEqual(p.returncode, 0, p.what)
        r = self.query("m.op.test.", "A")
        self.assertEqual(sorted(rd.address for rd in r.answer[0]), ["192.0.2.5", "192.0.2.6"])
        p = self.ctl("-s", sock, "record", "replace", ZONE, "m", "A", "192.0.2.7")
        self.assertEqual(p.returncode, 0, p.what)
        self.assertEqual([rd.address for rd in self.query("m.op.test.", "A").answer[0]],
                         ["192.0.2.7"])
        p = self.ctl("-s", sock, "record", "set", ZONE, "m", "A", "192.0.2.8")  # the old word
        self.assertEqual(p.returncode, 0, p.what)
        p = self.ctl("-s", sock, "record", "delete", ZONE, "m", "A")
        self.assertEqual(p.returncode, 0, p.what)
        self.assertEqual(self.query("m.op.test.", "A").rcode(), 3)
        p = self.ctl("-s", sock, "stats")
        self.assertEqual(p.returncode, 0, p.what)
        self.assertRegex(p.stdout, r"(?m)^queries=\d+$")
        self.assertRegex(p.stdout, r"(?m)^rcode\.NOERROR=\d+$")
        self.assertRegex(p.stdout, r"(?m)^frontend\.kernel\.udp\.0\.queries=\d+$")
        for line in p.stdout.splitlines():
            self.assertRegex(line, r"^[\w.\-]+=\S*$")
        p = self.ctl("-s", sock, "--json", "stats")
        self.assertEqual(p.returncode, 0, p.what)
        self.assertIn('"queries"', p.stdout)
        # 1: anamed reported an error.
        p = self.ctl("-s", sock, "record", "add", "nothere.test", "x", "A", "192.0.2.1")
        self.assertEqual(p.returncode, 1, p.what)
        # 2: usage.
        self.assertEqual(self.ctl("-s", sock, "frobnicate").returncode, 2)
        self.assertEqual(self.ctl("-c", os.path.join(self.dir, "none.yaml"), "status").returncode,
                         2)
        # 3: nothing listens there.
        p = self.ctl("-s", os.path.join(self.dir, "no.sock"), "status")
        self.assertEqual(p.returncode, 3, p.what)
        self.assertIn("cannot connect", p.stderr)


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
