#!/usr/bin/env python3
"""anamed's answers against Knot's and NSD's on the same zone (needs dnspython).

Starts the real anamed, knotd and nsd, each in a temporary directory of its own and on
its own port on 127.0.0.1, all serving tests/data/reference.zone (ref.test.), and asks
each the same questions: CNAME and DNAME chains, what a CNAME query is answered with
(RFC 1034 §4.3.2, RFC 6672), and chains whose target lies below a delegation. For every
question the three replies must have the same rcode, the same AA flag and the same
answer, authority and additional sections, compared as sets of records, TTLs included.

Knot and NSD are the reference: their replies must agree with each other first. NSD runs
with `minimal-responses: yes`: by default it adds the apex NS RRset and its addresses to
every positive answer, optional data that Knot and anamed leave out; and with
`rrl-ratelimit: 0`, so that its rate limiting never drops a question. On every question
asked here Knot 3.2 and NSD 4.6 then agree. A question where they stop agreeing fails
with both replies shown: decide from the RFCs which one anamed follows, and say so here.

A missing knotd, nsd or dnspython is a failure, not a skip: tools/install-deps.sh
installs them.

Environment: ANAMED_BIN (the anamed binary), ANAMED_TESTDATA (tests/data), KNOTD and
NSD (the servers' paths, default: found in PATH or /usr/sbin).
Run:  ANAMED_BIN=build/controlplane/anamed python3 tests/integration/test_reference_answers.py
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)        # the shared helpers beside this file
sys.dont_write_bytecode = True  # keep the source tree clean
import dns.exception  # noqa: E402
import dns.flags  # noqa: E402
import dns.message  # noqa: E402
import dns.query  # noqa: E402
import dns.rcode  # noqa: E402
import dns.rdataclass  # noqa: E402
import dns.rdatatype  # noqa: E402
import dns.zone  # noqa: E402

from dnstest import DATA  # noqa: E402
from anamedtest import Anamed, main, pick_free_port  # noqa: E402

ORIGIN = "ref.test."
ZONE_FILE = os.path.join(DATA, "reference.zone")


def fq(rel):
    return ORIGIN if rel == "@" else rel + "." + ORIGIN


# (name relative to ref.test., type): see reference.zone for what each name holds.
CNAME_QUERIES = [           # the CNAME is what is asked for: nothing after it
    ("y.dname", "CNAME"),   # below a DNAME, the substitute does not exist
    ("x.dname", "CNAME"),   # below a DNAME, the substitute has an A record only
    ("www", "CNAME"),       # an in-zone CNAME
    ("dangling", "CNAME"),  # a CNAME to a name that does not exist
    ("into-sub", "CNAME"),  # a CNAME to a name below a delegation
    ("foo.wc", "CNAME"),    # a wildcard CNAME
    ("foo.wcx", "CNAME"),   # a wildcard CNAME to a name that does not exist
]
INTO_DELEGATION = [         # the chain, then the referral for its last name, AA set
    ("into-sub", "A"),
    ("into-sub", "AAAA"),
    ("into-sub", "DS"),
    ("at-sub", "A"),        # the target is the delegation point itself
    ("at-sub", "NS"),
    ("chain-sub", "A"),     # two CNAMEs, then the referral
    ("x.dname-sub", "A"),   # a DNAME whose substitute lies below the delegation
]
NEIGHBOURS = [
    ("x.dname", "A"),       # DNAME, CNAME, the substitute's A
    ("y.dname", "A"),       # DNAME, CNAME, NXDOMAIN with the SOA
    ("y.dname", "ANY"),     # ANY chases the synthesised CNAME (Knot and NSD both do)
    ("x.dname", "DNAME"),
    ("dname", "DNAME"),
    ("dname-sub", "A"),     # NODATA at the DNAME's owner
    ("www", "A"),
    ("www", "ANY"),
    ("c1", "A"),
    ("dangling", "A"),
    ("foo.wc", "A"),
    ("foo.wcx", "A"),
    ("deep.sub", "A"),      # a plain referral: AA clear
    ("sub", "NS"),
    ("sub", "DS"),
    ("host", "MX"),
]


def find_server(env, name):
    path = os.environ.get(env) or shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if not path:
        raise AssertionError("%s not found (set %s, or run tools/install-deps.sh)" % (name, env))
    return path


def ask(port, name, rdtype, timeout=2.0):
    q = dns.message.make_query(name, rdtype, use_edns=0, payload=1232)
    q.flags &= ~dns.flags.RD
    return dns.query.udp(q, "127.0.0.1", port=port, timeout=timeout)


def summary(msg):
    """What the servers must agree on: rcode, AA and each section as a set of records."""
    def records(section):
        return frozenset((rrset.name.to_text().lower(), rrset.ttl,
                          dns.rdataclass.to_text(rrset.rdclass),
                          dns.rdatatype.to_text(rrset.rdtype), rd.to_text().lower())
                         for rrset in section for rd in rrset)
    return {"rcode": dns.rcode.to_text(msg.rcode()), "aa": bool(msg.flags & dns.flags.AA),
            "answer": records(msg.answer), "authority": records(msg.authority),
            "additional": records(msg.additional)}


def show(s):
    lines = ["    %s%s" % (s["rcode"], " aa" if s["aa"] else "")]
    for section in ("answer", "authority", "additional"):
        lines += ["    %-10s %s %d %s %s %s" % ((section,) + rr) for rr in sorted(s[section])]
    return "\n".join(lines)


class Server:
    """A reference server process with its own directory; stderr and stdout in a file."""

    def __init__(self, name, args, workdir, port):
        self.name, self.port, self.workdir = name, port, workdir
        self.log_path = os.path.join(workdir, name + ".log")
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=workdir)

    def log(self):
        self._log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")[-4000:]

    def wait_serial(self, serial, timeout=15.0):
        """Wait until the server answers the zone's SOA with `serial`."""
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s during startup:\n%s"
                                     % (self.name, self.proc.returncode, self.log()))
            try:
                r = ask(self.port, ORIGIN, "SOA", timeout=0.3)
                if r.answer and r.answer[0][0].serial == serial:
                    return
            except (dns.exception.Timeout, OSError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError("%s did not serve %s serial %d within %g s:\n%s"
                                     % (self.name, ORIGIN, serial, timeout, self.log()))
            time.sleep(0.05)

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def start_knot(workdir, port):
    conf = os.path.join(workdir, "knot.conf")
    with open(conf, "w") as f:
        f.write("""server:
    rundir: "{d}"
    listen: 127.0.0.1@{port}
    pidfile: "{d}/knot.pid"
control:
    listen: "{d}/knot.sock"
database:
    storage: "{d}"
log:
  - target: stderr
    any: info
template:
  - id: default
    storage: "{d}"
zone:
  - domain: {origin}
    file: "{zone}"
""".format(d=workdir, port=port, origin=ORIGIN, zone=ZONE_FILE))
    return Server("knotd", [find_server("KNOTD", "knotd"), "-c", conf], workdir, port)


def start_nsd(workdir, port):
    conf = os.path.join(workdir, "nsd.conf")
    with open(conf, "w") as f:
        f.write("""server:
    ip-address: 127.0.0.1@{port}
    do-ip6: no
    username: ""
    chroot: ""
    zonesdir: "{d}"
    database: ""
    zonelistfile: "{d}/zone.list"
    pidfile: "{d}/nsd.pid"
    xfrdfile: "{d}/xfrd.state"
    xfrdir: "{d}"
    server-count: 1
    rrl-ratelimit: 0
    minimal-responses: yes
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: {origin}
    zonefile: "{zone}"
""".format(d=workdir, port=port, origin=ORIGIN, zone=ZONE_FILE))
    return Server("nsd", [find_server("NSD", "nsd"), "-d", "-c", conf], workdir, port)


class ReferenceAnswers(unittest.TestCase):
    longMessage = False  # the three replies, written out, say more than the dicts' diff
    servers = {}

    @classmethod
    def setUpClass(cls):
        serial = dns.zone.from_file(ZONE_FILE, origin=ORIGIN, relativize=False) \
            .find_rdataset(ORIGIN, "SOA")[0].serial
        cls.dirs, cls.servers = [], {}
        try:
            ports = set()
            while len(ports) < 3:
                ports.add(pick_free_port(ipv6=False))
            ports = sorted(ports)
            for name, start in (("knot", start_knot), ("nsd", start_nsd), ("anamed", None)):
                workdir = tempfile.mkdtemp(prefix="anamed-ref-%s-" % name)
                cls.dirs.append(workdir)
                port = ports.pop()
                if start is not None:
                    cls.servers[name] = start(workdir, port)
                    continue
                srv = Anamed(["--zone", "%s=%s" % (ORIGIN.rstrip("."), ZONE_FILE),
                              "--listen", "127.0.0.1:%d" % port], workdir, port)
                cls.servers[name] = srv
                srv.wait_ready()
            for srv in cls.servers.values():
                if isinstance(srv, Server):
                    srv.wait_serial(serial)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        for srv in cls.servers.values():
            if isinstance(srv, Anamed):
                srv.stop()
            srv.close()
        cls.servers = {}
        for d in cls.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def compare(self, cases):
        for rel, rdtype in cases:
            name = fq(rel)
            with self.subTest(question="%s %s" % (name, rdtype)):
                got = {k: summary(ask(srv.port, name, rdtype)) for k, srv in self.servers.items()}
                self.assertEqual(got["knot"], got["nsd"],
                                 "Knot and NSD disagree on %s %s:\n  knot\n%s\n  nsd\n%s"
                                 % (name, rdtype, show(got["knot"]), show(got["nsd"])))
                self.assertEqual(got["anamed"], got["knot"],
                                 "anamed answers %s %s otherwise than Knot and NSD:\n"
                                 "  anamed\n%s\n  knot and nsd\n%s"
                                 % (name, rdtype, show(got["anamed"]), show(got["knot"])))

    def test_cname_queries_get_the_cname_alone(self):
        self.compare(CNAME_QUERIES)

    def test_chains_into_a_delegation_end_in_its_referral(self):
        self.compare(INTO_DELEGATION)

    def test_neighbouring_answers(self):
        self.compare(NEIGHBOURS)

    def test_servers_stayed_up(self):
        for name, srv in self.servers.items():
            self.assertIsNone(srv.proc.poll(), "%s exited during the test:\n%s" % (name, srv.log()))


if __name__ == "__main__":
    sys.exit(main(sys.modules[__name__]))
